/*
 * hwgwctl_admin.c — client registration and audit review from the
 * command line (see hwgwctl_admin.h for why they act on the store).
 *
 * Exit codes: 0 done; 1 refused or the audit does not verify (the reason
 * is printed); 2 usage or set-up error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "hwg_audit.h"
#include "hwg_config.h"
#include "hwg_p11.h"
#include "hwg_store.h"
#include "hwg_time.h"
#include "hwgwctl.h"
#include "hwgwctl_admin.h"

#define DEFAULT_CONFIG "/etc/hwgw/hwgwd.conf"

/* Configuration and store, as hwgwd would open them (never creating). */
static int
open_state(const char *config_path, struct hwg_config *cfg, struct hwg_store **store)
{
	struct hwg_error err = {0};

	hwg_config_defaults(cfg);
	if (hwg_config_load(config_path, cfg, &err) != 0 ||
	    hwg_store_open(cfg->state_dir, 0, store, &err) != 0) {
		hwg_config_clear(cfg);
		return hwgwctl_fail(2, "%s", err.message);
	}
	return 0;
}

/* Ask a running hwgwd to reload its clients; say what happened. */
static void
signal_reload(const struct hwg_config *cfg)
{
	char path[4200], comm[64] = "";
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/hwgwd.pid", cfg->state_dir);
	if ((f = fopen(path, "re")) == NULL) {
		printf("hwgwd is not running; the change applies when it starts\n");
		return;
	}
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if (pid > 1 && (f = fopen(path, "re")) != NULL) {
		if (fgets(comm, sizeof(comm), f) == NULL)
			comm[0] = '\0';
		fclose(f);
	}
	if (strncmp(comm, "hwgwd", 5) != 0 || kill((pid_t)pid, SIGHUP) != 0) {
		printf("hwgwd is not running; the change applies when it starts\n");
		return;
	}
	printf("hwgwd (pid %ld) asked to reload its clients\n", pid);
}

/* Apply one client change and its audit record together. */
static int
audited_change(struct hwg_store *s, const char *op, const char *id, int rc_change,
               struct hwg_error *err)
{
	struct hwg_audit_event ev = {
	    .time_ms = hwg_now_ms(),
	    .client = "",
	    .peer_uid = (int64_t)getuid(),
	    .transport = "admin",
	    .operation = op,
	    .operator_id = "",
	    .subject = id,
	    .result = hwg_err_code(rc_change),
	    .detail = rc_change ? err->message : "",
	};
	struct hwg_error aerr = {0};

	if (hwg_audit_append(s, &ev, NULL, &aerr) != 0 || hwg_store_commit(s, &aerr) != 0) {
		hwg_store_rollback(s);
		return hwgwctl_fail(1, "cannot write the audit record, nothing changed: %s",
		                    aerr.message);
	}
	return rc_change == 0 ? 0 : hwgwctl_fail(1, "%s", err->message);
}

static int
read_pubkey_der(const char *path, struct hwg_client_rec *c)
{
	EVP_PKEY *k = NULL;
	unsigned char *der = NULL;
	FILE *f = fopen(path, "re");
	int len;

	if (f == NULL)
		return hwgwctl_fail(2, "%s: %s", path, strerror(errno));
	k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		return hwgwctl_fail(2, "%s: not a PEM public key", path);
	len = i2d_PUBKEY(k, &der);
	EVP_PKEY_free(k);
	if (len <= 0)
		return hwgwctl_fail(2, "%s: cannot encode the key", path);
	c->pubkey_der = der;
	c->pubkey_len = (size_t)len;
	return 0;
}

static int
parse_uid(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || *s == '\0' || *s == '-' || v > UINT32_MAX - 1)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
client_add(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"id", required_argument, NULL, 'i'},
	    {"role", required_argument, NULL, 'r'},   {"pubkey", required_argument, NULL, 'k'},
	    {"uid", required_argument, NULL, 'u'},    {NULL, 0, NULL, 0}};
	const char *config = DEFAULT_CONFIG, *id = NULL, *role = NULL, *pubkey = NULL;
	struct hwg_client_rec c;
	struct hwg_config cfg;
	struct hwg_store *s;
	struct hwg_error err = {0};
	int ch, rc;

	memset(&c, 0, sizeof(c));
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'i':
			id = optarg;
			break;
		case 'r':
			role = optarg;
			break;
		case 'k':
			pubkey = optarg;
			break;
		case 'u':
			if (c.n_uids == HWG_CLIENT_UIDS_MAX)
				return hwgwctl_fail(2, "at most %d --uid", HWG_CLIENT_UIDS_MAX);
			if (parse_uid(optarg, &c.uids[c.n_uids++]) != 0)
				return hwgwctl_fail(2, "--uid %s: not a uid", optarg);
			break;
		default:
			return 2;
		}
	}
	if (id == NULL || role == NULL || pubkey == NULL)
		return hwgwctl_fail(2,
		                    "usage: hwgwctl client add --id ID --role ROLE --pubkey FILE "
		                    "[--uid UID]... [--config FILE]");
	if (!hwg_client_id_valid(id) || strlen(id) > HWG_CLIENT_ID_MAX)
		return hwgwctl_fail(2, "--id %s: 1-64 characters of A-Z a-z 0-9 . _ -", id);
	if (!hwg_role_client(c.role = hwg_role_parse(role)))
		return hwgwctl_fail(2, "--role %s: one of " HWG_ROLES_CLIENT_TEXT, role);
	snprintf(c.id, sizeof(c.id), "%s", id);
	c.created_ms = hwg_now_ms();
	if ((rc = read_pubkey_der(pubkey, &c)) != 0)
		return rc;
	if ((rc = open_state(config, &cfg, &s)) != 0) {
		hwg_client_rec_clear(&c);
		return rc;
	}
	if ((rc = hwg_store_begin(s, &err)) != 0) {
		rc = hwgwctl_fail(1, "%s", err.message);
	} else {
		rc = audited_change(s, "client.add", id, hwg_store_client_add(s, &c, &err), &err);
		if (rc == 0) {
			printf("client %s registered with role %s\n", id, role);
			signal_reload(&cfg);
		}
	}
	hwg_client_rec_clear(&c);
	hwg_store_close(s);
	hwg_config_clear(&cfg);
	return rc;
}

static int
client_remove(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"id", required_argument, NULL, 'i'},
	                                     {NULL, 0, NULL, 0}};
	const char *config = DEFAULT_CONFIG, *id = NULL;
	struct hwg_config cfg;
	struct hwg_store *s;
	struct hwg_error err = {0};
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'c')
			config = optarg;
		else if (ch == 'i')
			id = optarg;
		else
			return 2;
	}
	if (id == NULL)
		return hwgwctl_fail(2, "usage: hwgwctl client remove --id ID [--config FILE]");
	if ((rc = open_state(config, &cfg, &s)) != 0)
		return rc;
	if ((rc = hwg_store_begin(s, &err)) != 0) {
		rc = hwgwctl_fail(1, "%s", err.message);
	} else {
		rc = audited_change(s, "client.remove", id, hwg_store_client_remove(s, id, &err),
		                    &err);
		if (rc == 0) {
			printf("client %s removed\n", id);
			signal_reload(&cfg);
		}
	}
	hwg_store_close(s);
	hwg_config_clear(&cfg);
	return rc;
}

static int
print_client(void *ctx, const struct hwg_client_rec *c)
{
	time_t t = (time_t)(c->created_ms / 1000);
	char when[32];

	(void)ctx;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	printf("%-24s %-12s %s uids=", c->id, hwg_role_name(c->role), when);
	if (c->n_uids == 0)
		printf("(none: HTTP only)");
	for (size_t i = 0; i < c->n_uids; i++)
		printf("%s%u", i ? "," : "", c->uids[i]);
	printf("\n");
	return 0;
}

static int
client_list(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {NULL, 0, NULL, 0}};
	const char *config = DEFAULT_CONFIG;
	struct hwg_config cfg;
	struct hwg_store *s;
	struct hwg_error err = {0};
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'c')
			return 2;
		config = optarg;
	}
	if ((rc = open_state(config, &cfg, &s)) != 0)
		return rc;
	if (hwg_store_client_each(s, print_client, NULL, &err) != 0)
		rc = hwgwctl_fail(1, "%s", err.message);
	hwg_store_close(s);
	hwg_config_clear(&cfg);
	return rc;
}

int
hwgwctl_cmd_client(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return client_add(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "remove") == 0)
		return client_remove(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return client_list(argc - 1, argv + 1);
	return hwgwctl_fail(2, "usage: hwgwctl client add|list|remove [options]");
}

/* ---------------------------------------------------------------- audit */

/* The audit public key, read from the HSM named in the configuration. */
static EVP_PKEY *
audit_public_key(const struct hwg_config *cfg)
{
	struct hwg_p11_config pc = {cfg->hsm_module, cfg->hsm_token, cfg->hsm_pin_file};
	struct hwg_error err = {0};
	struct hwg_p11 *p11 = NULL;
	struct hwg_p11_key *k;
	EVP_PKEY *pub = NULL;

	if (hwg_p11_open(&pc, &p11, &err) == 0 &&
	    hwg_p11_key_find(p11, cfg->hsm_audit_key, &k, &err) == 0)
		pub = hwg_p11_key_public(k);
	if (pub == NULL)
		hwgwctl_fail(2, "cannot read the audit key: %s", err.message);
	hwg_p11_close(p11);
	return pub;
}

static int
audit_verify(const char *config)
{
	struct hwg_audit_verify_result vr;
	struct hwg_config cfg;
	struct hwg_store *s;
	struct hwg_error err = {0};
	EVP_PKEY *pub;
	int rc;

	if ((rc = open_state(config, &cfg, &s)) != 0)
		return rc;
	if ((pub = audit_public_key(&cfg)) == NULL) {
		rc = 2;
		goto out;
	}
	memset(&vr, 0, sizeof(vr));
	rc = hwg_audit_verify(s, pub, &vr, &err);
	EVP_PKEY_free(pub);
	if (rc == 0) {
		printf("audit log verified: %lld records, %lld signed checkpoints\n",
		       (long long)vr.records, (long long)vr.checkpoints);
	} else if (rc == HWG_E_TAMPERED) {
		printf("audit log DOES NOT VERIFY: first bad record %lld: %s\n",
		       (long long)vr.first_bad_seq, vr.reason);
		rc = 1;
	} else {
		rc = hwgwctl_fail(2, "%s", err.message);
	}
out:
	hwg_store_close(s);
	hwg_config_clear(&cfg);
	return rc;
}

/* "1700000000000" (ms) or "2026-11-22T10:00:00Z" / "2026-11-22" (UTC). */
static int
parse_time_ms(const char *s, int64_t *out)
{
	struct tm tm;
	char *end;
	long long v;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) != NULL && *end == '\0') {
		*out = (int64_t)timegm(&tm) * 1000;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) != NULL && *end == '\0') {
		*out = (int64_t)timegm(&tm) * 1000;
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || *s == '\0' || v < 0)
		return -1;
	*out = v;
	return 0;
}

static int
print_record(void *ctx, const struct hwg_audit_record *r)
{
	time_t t = (time_t)(r->time_ms / 1000);
	char when[32];

	(void)ctx;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", gmtime(&t));
	printf("%lld %s.%03dZ client=%s uid=%lld transport=%s op=%s operator=%s subject=%s "
	       "result=%s\n",
	       (long long)r->seq, when, (int)(r->time_ms % 1000), r->client[0] ? r->client : "-",
	       (long long)r->peer_uid, r->transport, r->operation[0] ? r->operation : "-",
	       r->operator_id[0] ? r->operator_id : "-", r->subject[0] ? r->subject : "-",
	       r->result);
	return 0;
}

static int
audit_query(const char *config, const struct hwg_audit_filter *f)
{
	struct hwg_config cfg;
	struct hwg_store *s;
	struct hwg_error err = {0};
	int rc;

	if ((rc = open_state(config, &cfg, &s)) != 0)
		return rc;
	if (hwg_audit_query(s, f, print_record, NULL, &err) != 0)
		rc = hwgwctl_fail(1, "%s", err.message);
	hwg_store_close(s);
	hwg_config_clear(&cfg);
	return rc;
}

int
hwgwctl_cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"subject", required_argument, NULL, 's'},
	                                     {"operator", required_argument, NULL, 'o'},
	                                     {"from", required_argument, NULL, 'f'},
	                                     {"to", required_argument, NULL, 't'},
	                                     {"limit", required_argument, NULL, 'l'},
	                                     {NULL, 0, NULL, 0}};
	const char *config = DEFAULT_CONFIG;
	struct hwg_audit_filter f = {0};
	int verify, ch;

	if (argc < 2 || (strcmp(argv[1], "verify") != 0 && strcmp(argv[1], "query") != 0))
		return hwgwctl_fail(
		    2, "usage: hwgwctl audit verify|query [--config FILE] [--subject S] "
		       "[--operator O] [--from T] [--to T] [--limit N]");
	verify = strcmp(argv[1], "verify") == 0;
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 's':
			f.subject = optarg;
			break;
		case 'o':
			f.operator_id = optarg;
			break;
		case 'f':
			if (parse_time_ms(optarg, &f.from_ms) != 0)
				return hwgwctl_fail(
				    2, "--from %s: expected ms or YYYY-MM-DD[THH:MM:SSZ]", optarg);
			break;
		case 't':
			if (parse_time_ms(optarg, &f.to_ms) != 0)
				return hwgwctl_fail(
				    2, "--to %s: expected ms or YYYY-MM-DD[THH:MM:SSZ]", optarg);
			break;
		case 'l':
			f.limit = strtoll(optarg, NULL, 10);
			if (f.limit < 1 || f.limit > 10000)
				return hwgwctl_fail(2, "--limit %s: 1 to 10000", optarg);
			break;
		default:
			return 2;
		}
	}
	if (verify && (f.subject || f.operator_id || f.from_ms || f.to_ms || f.limit))
		return hwgwctl_fail(2, "audit verify takes only --config");
	return verify ? audit_verify(config) : audit_query(config, &f);
}
