/*
 * hwgw_registry_cli.c — hwgw-registry, the register's command line:
 *
 *   hwgw-registry --db URI --mn-key FILE init
 *   hwgw-registry --mn-key FILE --mn-key-hsm LABEL --pkcs11-token T --pkcs11-pin-file P
 *                 mn-key-seal SEALED        (then --mn-key SEALED --mn-key-hsm LABEL ...)
 *   hwgw-registry --db URI --mn-key FILE show CODE [VERSION]
 *   hwgw-registry --db URI --mn-key FILE search name=.. kana=.. address=.. birth=.. sex=..
 *   hwgw-registry --db URI --mn-key FILE outbox
 *   hwgw-registry --db URI --mn-key FILE list [--after CODE] [--limit N]
 *   hwgw-registry --db URI --mn-key FILE seed N [--seed S] [--date YYYY-MM-DD]
 *   hwgw-registry --db URI --mn-key FILE moveout-import FILE [--encoding E] [--date D]
 *   hwgw-registry --db URI --mn-key FILE expire --days N [--date D]
 *   hwgw-registry --db URI --mn-key FILE reconcile OLD.csv [--encoding E] [--date D]
 *   hwgw-registry --db URI --mn-key FILE resolve CODE FIELD --by OPERATOR [--date D]
 *   hwgw-registry --db URI --mn-key FILE unresolved
 *   hwgw-registry --db URI --mn-key FILE move-out CODE --to PLACE --date D [--operator OP]
 *   hwgw-registry --db URI --mn-key FILE send --to URL [--until-empty] [--poll-ms N]
 *   hwgw-registry --db URI --mn-key FILE move-in FILE.csv [--date D] [--operator OP]
 *   hwgw-registry --db URI --mn-key FILE dv CODE apply|decide|end [--date D]
 *
 * URI is sqlite:PATH or postgres:CONNINFO (also $HWGW_REGISTRY_DB);
 * FILE the My Number key (also $HWGW_REGISTRY_MN_KEY).  The My Number is
 * never printed, nor any value reconcile compares (only codes and field
 * names).  Exit 0 on success, 1 on a refusal or failure (the error's wire
 * name and message on stderr), 2 on bad usage, 3 when reconcile found
 * differences.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwg_file.h"
#include "hwgw_registry.h"
#include "reg_cli_people.h"
#include "reg_csv.h"
#include "reg_mn.h"
#include "reg_send.h"

static int
usage(void)
{
	fprintf(
	    stderr,
	    "usage: hwgw-registry [--db URI] [--mn-key FILE] [--mn-key-hsm LABEL --pkcs11-token T\n"
	    "         --pkcs11-pin-file P [--pkcs11-module M]] init | show CODE [VERSION] "
	    "| search KEY=VALUE... | outbox\n"
	    "       | list [--after CODE] [--limit N]\n"
	    "       | seed N [--seed S] [--date YYYY-MM-DD]\n"
	    "       | moveout-import FILE [--encoding utf-8|shift_jis] [--date D]\n"
	    "       | expire --days N [--date D]\n"
	    "       | reconcile OLD.csv [--encoding utf-8|shift_jis] [--date D]\n"
	    "       | resolve CODE FIELD --by OPERATOR [--date D] | unresolved\n"
	    "       | move-out CODE --to PLACE --date D [--operator OP]\n"
	    "       | send --to URL [--until-empty] [--poll-ms N]\n"
	    "       | move-in FILE.csv [--date D] [--operator OP]\n"
	    "       | dv CODE apply|decide|end [--date D]\n"
	    "       | mn-key-seal OUT (--mn-key's key sealed by the HSM key --mn-key-hsm)\n");
	return 2;
}

static int
fail(const struct hwg_error *err)
{
	fprintf(stderr, "hwgw-registry: %s: %s\n", hwg_err_code(err->code), err->message);
	return 1;
}

/* The value of option name in argv (argv[i] name, argv[i + 1] the value), or def. */
static const char *
option(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return def;
}

static void
show(const struct reg_person *p)
{
	printf("resident_code=%s version=%lld status=%s household=%s relation=%s\n"
	       "name=%s kana=%s birth=%s sex=%s\naddress=%s postcode=%s city=%s\n"
	       "resident_since=%s address_since=%s reason=%s change_date=%s seq=%lld\n"
	       "cert_control=%d wide_control=%d my_number=%s\n",
	       p->resident_code, (long long)p->version, p->status, p->household, p->relation,
	       p->name, p->kana, p->birth, p->sex, p->address, p->postcode, p->city_code,
	       p->resident_since, p->address_since, p->reason, p->change_date, (long long)p->seq,
	       p->cert_control, p->wide_control, "(sealed)");
}

static int
cmd_search(struct hwgw_registry *r, int argc, char **argv, struct hwg_error *err)
{
	struct reg_query q = {0};
	struct reg_hit hits[REG_SEARCH_MAX];
	size_t n = 0;

	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (eq == NULL)
			return usage();
		*eq++ = '\0';
		if (strcmp(argv[i], "name") == 0)
			q.name = eq;
		else if (strcmp(argv[i], "kana") == 0)
			q.kana = eq;
		else if (strcmp(argv[i], "address") == 0)
			q.address = eq;
		else if (strcmp(argv[i], "birth") == 0)
			q.birth = eq;
		else if (strcmp(argv[i], "sex") == 0)
			q.sex = eq;
		else
			return usage();
	}
	if (hwgw_registry_search(r, &q, hits, REG_SEARCH_MAX, &n, err) != 0)
		return fail(err);
	for (size_t i = 0; i < n; i++)
		printf("%s %lld %s\n", hits[i].resident_code, (long long)hits[i].version,
		       hits[i].status);
	return 0;
}

static int
cmd_list(struct hwgw_registry *r, int argc, char **argv, struct hwg_error *err)
{
	struct reg_hit hits[REG_SEARCH_MAX];
	long limit = atol(option(argc, argv, "--limit", "100"));
	size_t n = 0;

	if (argc % 2 != 1 || limit < 1 || limit > REG_SEARCH_MAX)
		return usage();
	if (hwgw_registry_list(r, option(argc, argv, "--after", ""), hits, (size_t)limit, &n,
	                       err) != 0)
		return fail(err);
	for (size_t i = 0; i < n; i++)
		printf("%s %lld %s\n", hits[i].resident_code, (long long)hits[i].version,
		       hits[i].status);
	return 0;
}

static int
cmd_outbox(struct hwgw_registry *r, struct hwg_error *err)
{
	static struct reg_notice ns[100];
	size_t n = 0;

	if (hwgw_registry_outbox(r, ns, 100, &n, err) != 0)
		return fail(err);
	for (size_t i = 0; i < n; i++)
		printf("%lld %s v%lld %s %s\n", (long long)ns[i].seq, ns[i].resident_code,
		       (long long)ns[i].version, ns[i].reason, ns[i].change_date);
	memset(ns, 0, sizeof(ns));
	return 0;
}

static int
cmd_seed(struct hwgw_registry *r, int argc, char **argv, struct hwg_error *err)
{
	struct reg_seed_stats st;
	char *end;
	long n = argc >= 2 ? strtol(argv[1], &end, 10) : 0;
	unsigned long long s = strtoull(option(argc, argv, "--seed", "1"), NULL, 10);

	if (argc < 2 || *end != '\0' || argc % 2 != 0)
		return usage();
	if (hwgw_registry_seed(r, n, s, option(argc, argv, "--date", "2025-04-01"), &st, err) != 0)
		return fail(err);
	printf("seeded %ld residents in %ld households (seed %llu): %ld DV measures, %ld with "
	       "control flags\n",
	       st.residents, st.households, s, st.dv, st.controls);
	return 0;
}

/* Today (UTC), or --date. */
static const char *
day_option(int argc, char **argv, char buf[11])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, 11, "%Y-%m-%d", &tm);
	return option(argc, argv, "--date", buf);
}

/* FILE in its declared encoding → UTF-8 text (*text malloc'd). */
static int
read_text(const char *path, const char *encoding, char **text, size_t *len, struct hwg_error *err)
{
	uint8_t *raw = NULL;
	size_t n = 0;
	int rc;

	if ((rc = hwg_file_read(path, REG_CSV_INPUT_MAX, &raw, &n, err)) != 0)
		return rc;
	rc = reg_csv_decode(raw, n, encoding, text, len, err);
	free(raw);
	return rc;
}

static int
cmd_moveout_import(struct hwgw_registry *r, int argc, char **argv, struct hwg_error *err)
{
	char day[11], *text = NULL;
	size_t len = 0;
	long n = 0;
	int rc;

	if (argc < 2 || argc % 2 != 0)
		return usage();
	rc = read_text(argv[1], option(argc, argv, "--encoding", "utf-8"), &text, &len, err);
	if (rc == 0)
		rc = hwgw_registry_moveout_import(r, text, len, day_option(argc, argv, day), &n,
		                                  err);
	free(text);
	if (rc != 0)
		return fail(err);
	printf("%ld move-out records pending\n", n);
	return 0;
}

static int
cmd_expire(struct hwgw_registry *r, int argc, char **argv, struct hwg_error *err)
{
	const char *days = option(argc, argv, "--days", NULL);
	char day[11];
	long n = 0;

	if (days == NULL || argc % 2 != 1)
		return usage();
	if (hwgw_registry_moveout_expire(r, day_option(argc, argv, day), atoi(days), &n, err) != 0)
		return fail(err);
	printf("%ld unclaimed move-out records erased\n", n);
	return 0;
}

#define FIELDS_MAX 32

/* The differences per field, for the summary: a shifted column is one field many times. */
struct tally {
	char field[FIELDS_MAX][32];
	long n[FIELDS_MAX];
	int k;
};

static int
print_diff(void *arg, const char *code, const char *field)
{
	struct tally *t = arg;
	int i = 0;

	printf("%s %s\n", code, field);
	while (i < t->k && strcmp(t->field[i], field) != 0)
		i++;
	if (i == t->k && t->k < FIELDS_MAX)
		snprintf(t->field[t->k++], sizeof(t->field[0]), "%s", field);
	if (i < t->k)
		t->n[i]++;
	return 0;
}

static int
cmd_reconcile(struct hwgw_registry *r, int argc, char **argv, struct hwg_error *err)
{
	struct reg_reconcile_stats st;
	struct tally t = {0};
	char day[11], *text = NULL;
	size_t len = 0;
	int rc;

	if (argc < 2 || argc % 2 != 0)
		return usage();
	rc = read_text(argv[1], option(argc, argv, "--encoding", "utf-8"), &text, &len, err);
	if (rc == 0)
		rc = hwgw_registry_reconcile(r, text, len, day_option(argc, argv, day), print_diff,
		                             &t, &st, err);
	free(text);
	if (rc != 0)
		return fail(err);
	printf("# %ld rows, %ld records differ, %ld differences", st.rows, st.records_differing,
	       st.differences);
	for (int i = 0; i < t.k; i++)
		printf("%s %s %ld", i ? "," : ":", t.field[i], t.n[i]);
	printf("\n");
	return st.differences > 0 ? 3 : 0;
}

static int
cmd_resolve(struct hwgw_registry *r, int argc, char **argv, struct hwg_error *err)
{
	const char *by = option(argc, argv, "--by", NULL);
	char day[11];

	if (argc < 5 || argc % 2 != 1 || by == NULL)
		return usage();
	if (hwgw_registry_resolve(r, argv[1], argv[2], by, day_option(argc, argv, day), err) != 0)
		return fail(err);
	return 0;
}

static int
print_open(void *arg, const char *code, const char *field)
{
	(void)arg;
	printf("%s %s\n", code, field);
	return 0;
}

static int
cmd_move_out(struct hwgw_registry *r, int argc, char **argv, struct hwg_error *err)
{
	const char *to = option(argc, argv, "--to", NULL),
	           *date = option(argc, argv, "--date", NULL);
	struct reg_actor who = {option(argc, argv, "--operator", "cli"), "cli", date};
	struct reg_person p;

	if (argc < 6 || argc % 2 != 0 || to == NULL || date == NULL)
		return usage();
	if (hwgw_registry_move_out(r, argv[1], to, date, &who, &p, err) != 0)
		return fail(err);
	printf("%s v%lld seq %lld\n", p.resident_code, (long long)p.version, (long long)p.seq);
	return 0;
}

/* The sender's flags: --until-empty takes no value, the others one. */
static int
send_options(int argc, char **argv, struct reg_send_opts *o)
{
	*o = (struct reg_send_opts){NULL, 0, 500, 5000};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--until-empty") == 0)
			o->until_empty = 1;
		else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			o->url = argv[++i];
		else if (strcmp(argv[i], "--poll-ms") == 0 && i + 1 < argc)
			o->poll_ms = atoi(argv[++i]);
		else
			return -1;
	}
	return o->url == NULL || o->poll_ms < 10 ? -1 : 0;
}

static int
cmd_send(struct hwgw_registry *r, int argc, char **argv, struct hwg_error *err)
{
	struct reg_send_opts o;
	struct reg_send_stats st;

	if (send_options(argc, argv, &o) != 0)
		return usage();
	if (reg_send_run(r, &o, &st, err) != 0)
		return fail(err);
	printf("%ld notices delivered, %ld attempts failed\n", st.delivered, st.failed_attempts);
	return 0;
}

static int
run(struct hwgw_registry *r, int argc, char **argv, struct hwg_error *err)
{
	struct reg_person p;
	int rc;

	if (strcmp(argv[0], "init") == 0)
		return argc == 1 ? 0 : usage();
	if (strcmp(argv[0], "show") == 0 && (argc == 2 || argc == 3)) {
		if (hwgw_registry_get_version(r, argv[1], argc == 3 ? atoll(argv[2]) : 0, 0, &p,
		                              err) != 0)
			return fail(err);
		show(&p);
		return 0;
	}
	if (strcmp(argv[0], "search") == 0)
		return cmd_search(r, argc - 1, argv + 1, err);
	if (strcmp(argv[0], "outbox") == 0 && argc == 1)
		return cmd_outbox(r, err);
	if (strcmp(argv[0], "list") == 0)
		return cmd_list(r, argc, argv, err);
	if (strcmp(argv[0], "seed") == 0)
		return cmd_seed(r, argc, argv, err);
	if (strcmp(argv[0], "moveout-import") == 0)
		return cmd_moveout_import(r, argc, argv, err);
	if (strcmp(argv[0], "expire") == 0)
		return cmd_expire(r, argc, argv, err);
	if (strcmp(argv[0], "move-out") == 0)
		return cmd_move_out(r, argc, argv, err);
	if (strcmp(argv[0], "send") == 0)
		return cmd_send(r, argc, argv, err);
	if (strcmp(argv[0], "reconcile") == 0)
		return cmd_reconcile(r, argc, argv, err);
	if (strcmp(argv[0], "resolve") == 0)
		return cmd_resolve(r, argc, argv, err);
	if (strcmp(argv[0], "move-in") == 0)
		return (rc = reg_cli_move_in(r, argc, argv, err)) == 2 ? usage() : rc;
	if (strcmp(argv[0], "dv") == 0)
		return (rc = reg_cli_dv(r, argc, argv, err)) == 2 ? usage() : rc;
	if (strcmp(argv[0], "unresolved") == 0 && argc == 1)
		return hwgw_registry_unresolved(r, print_open, NULL, err) != 0 ? fail(err) : 0;
	return usage();
}

int
main(int argc, char **argv)
{
	const char *db = getenv("HWGW_REGISTRY_DB"), *key = getenv("HWGW_REGISTRY_MN_KEY");
	struct reg_p11_key hsm = {NULL, NULL, NULL, NULL};
	struct hwgw_registry *r = NULL;
	struct hwg_error err = {0};
	int i = 1, rc;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--db") == 0)
			db = argv[i + 1];
		else if (strcmp(argv[i], "--mn-key") == 0)
			key = argv[i + 1];
		else if (strcmp(argv[i], "--mn-key-hsm") == 0)
			hsm.label = argv[i + 1];
		else if (strcmp(argv[i], "--pkcs11-module") == 0)
			hsm.module = argv[i + 1];
		else if (strcmp(argv[i], "--pkcs11-token") == 0)
			hsm.token_label = argv[i + 1];
		else if (strcmp(argv[i], "--pkcs11-pin-file") == 0)
			hsm.pin_file = argv[i + 1];
		else
			return usage();
	}
	/* sealing needs the key file and the HSM, not the register */
	if (i + 1 < argc && key != NULL && strcmp(argv[i], "mn-key-seal") == 0)
		return reg_mn_key_seal(key, &hsm, argv[i + 1], &err) == 0 ? 0 : fail(&err);
	if (i >= argc || db == NULL || key == NULL)
		return usage();
	rc = hsm.label == NULL ? hwgw_registry_open(db, key, &r, &err)
	                       : hwgw_registry_open_sealed(db, key, &hsm, &r, &err);
	if (rc != 0)
		return fail(&err);
	rc = run(r, argc - i, argv + i, &err);
	hwgw_registry_close(r);
	return rc;
}
