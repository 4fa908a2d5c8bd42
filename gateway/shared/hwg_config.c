/*
 * hwg_config.c — see hwg_config.h.  One table maps section/key to a
 * setter so each key is parsed in exactly one place.
 */
#include "hwg_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hwg_log.h"
#include "hwg_roles.h"

struct load_state {
	struct hwg_config *c;
	struct hwg_error *err;
	const char *path;
	unsigned char seen[64]; /* per config_keys[] entry: set in the file */
};

typedef int (*setter_fn)(struct load_state *st, void *field, const char *value);

static int
parse_uint(const char *v, unsigned long long min, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long n;

	if (*v == '\0' || *v == '-')
		return -1;
	errno = 0;
	n = strtoull(v, &end, 0);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

static int
set_string(struct load_state *st, void *field, const char *value)
{
	char **s = field;

	(void)st;
	free(*s);
	*s = strdup(value);
	return *s == NULL ? -1 : 0;
}

static int
set_bool(struct load_state *st, void *field, const char *value)
{
	int *b = field;

	(void)st;
	if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0 ||
	    strcmp(value, "1") == 0)
		*b = 1;
	else if (strcasecmp(value, "no") == 0 || strcasecmp(value, "false") == 0 ||
	         strcmp(value, "0") == 0)
		*b = 0;
	else
		return -1;
	return 0;
}

static int
set_log_level(struct load_state *st, void *field, const char *value)
{
	int l = hwg_log_level_parse(value);

	(void)st;
	if (l < 0)
		return -1;
	*(int *)field = l;
	return 0;
}

static int
set_mode(struct load_state *st, void *field, const char *value)
{
	char *end;
	unsigned long n;

	(void)st;
	errno = 0;
	n = strtoul(value, &end, 8);
	if (errno != 0 || *end != '\0' || *value == '\0' || n > 0777 || (n & 0007) != 0)
		return -1; /* never world-accessible */
	*(unsigned *)field = (unsigned)n;
	return 0;
}

/* Call fn for each word of a list ("a, b c"); -1 as soon as one is refused. */
static int
each_word(const char *value, int (*fn)(void *arg, const char *word), void *arg)
{
	char *copy = strdup(value), *tok, *save = NULL;
	int rc = copy == NULL ? -1 : 0;

	for (tok = copy != NULL ? strtok_r(copy, " ,\t", &save) : NULL; rc == 0 && tok != NULL;
	     tok = strtok_r(NULL, " ,\t", &save))
		rc = fn(arg, tok);
	free(copy);
	return rc;
}

static int
algorithm_word(void *arg, const char *word)
{
	struct hwg_config *c = arg;

	if (strcmp(word, "ES256") == 0)
		c->alg_es256 = 1;
	else if (strcmp(word, "EdDSA") == 0)
		c->alg_eddsa = 1;
	else
		return -1;
	return 0;
}

static int
set_algorithms(struct load_state *st, void *field, const char *value)
{
	(void)field;
	st->c->alg_es256 = st->c->alg_eddsa = 0;
	return each_word(value, algorithm_word, st->c) == 0 &&
	               (st->c->alg_es256 || st->c->alg_eddsa)
	           ? 0
	           : -1;
}

/* An origin is scheme://host[:port], nothing more. */
static int
origin_word(void *arg, const char *word)
{
	struct hwg_config *c = arg;

	if (c->n_origins == HWG_MAX_ORIGINS || strchr(word, '*') != NULL ||
	    (strncmp(word, "http://", 7) != 0 && strncmp(word, "https://", 8) != 0) ||
	    strchr(strstr(word, "//") + 2, '/') != NULL)
		return -1;
	if ((c->origins[c->n_origins] = strdup(word)) == NULL)
		return -1;
	c->n_origins++;
	return 0;
}

static int
set_origins(struct load_state *st, void *field, const char *value)
{
	struct hwg_config *c = st->c;

	(void)field;
	for (size_t i = 0; i < c->n_origins; i++)
		free(c->origins[i]);
	c->n_origins = 0;
	return each_word(value, origin_word, c);
}

static int
role_word(void *arg, const char *word)
{
	int r = hwg_role_parse(word);

	/* maintenance never sees personal data; registry calls nothing; supervisor is no client */
	if (!hwg_role_client(r) || r == HWG_ROLE_MAINTENANCE || r == HWG_ROLE_REGISTRY)
		return -1;
	*(unsigned *)arg |= 1u << r;
	return 0;
}

static int
set_roles(struct load_state *st, void *field, const char *value)
{
	unsigned roles = 0;

	(void)st;
	if (each_word(value, role_word, &roles) != 0)
		return -1;
	*(unsigned *)field = roles;
	return 0;
}

/* Four hex digits and nothing else (strtoul would also take signs and "0x"). */
static int
parse_hex16(const char *p, uint16_t *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char ch = p[i];
		int d = ch >= '0' && ch <= '9'   ? ch - '0'
		        : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
		        : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
		                                 : -1;

		if (d < 0)
			return -1;
		v = v << 4 | (unsigned)d;
	}
	*out = (uint16_t)v;
	return 0;
}

/* vvvv:pppp, as lsusb prints them. */
static int
usb_id_word(void *arg, const char *word)
{
	struct hwg_config *c = arg;
	uint16_t *id;

	if (c->vein_n_usb_ids == HWG_MAX_USB_IDS || strlen(word) != 9 || word[4] != ':')
		return -1;
	id = c->vein_usb_ids[c->vein_n_usb_ids];
	if (parse_hex16(word, &id[0]) != 0 || parse_hex16(word + 5, &id[1]) != 0)
		return -1;
	c->vein_n_usb_ids++;
	return 0;
}

static int
set_usb_ids(struct load_state *st, void *field, const char *value)
{
	(void)field;
	st->c->vein_n_usb_ids = 0;
	return each_word(value, usb_id_word, st->c) == 0 && st->c->vein_n_usb_ids > 0 ? 0 : -1;
}

static int
set_score(struct load_state *st, void *field, const char *value)
{
	char *end;
	double d;

	(void)st;
	errno = 0;
	d = strtod(value, &end);
	/* d == d: not a NaN */
	if (errno != 0 || end == value || *end != '\0' || d != d || d < 0.0 || d > 1.0)
		return -1;
	*(double *)field = d;
	return 0;
}

/* Whole numbers: one parser, the range and unit in the key's table entry. */
enum num_type { NUM_NONE, NUM_INT, NUM_UNSIGNED, NUM_I64, NUM_SIZE };

struct num_spec {
	enum num_type type;
	unsigned long long min, max; /* as written in the file */
	int64_t scale;               /* stored as value * scale (seconds as ms: 1000) */
};

struct config_key {
	const char *section;
	const char *key;
	size_t offset;
	setter_fn set;       /* NULL for a number */
	struct num_spec num; /* when set is NULL */
	const char *expect;  /* for the error message */
};

static int
set_number(const struct num_spec *n, void *field, const char *value)
{
	unsigned long long v;

	if (parse_uint(value, n->min, n->max, &v) != 0)
		return -1;
	switch (n->type) {
	case NUM_INT:
		*(int *)field = (int)v * (int)n->scale;
		return 0;
	case NUM_UNSIGNED:
		*(unsigned *)field = (unsigned)v * (unsigned)n->scale;
		return 0;
	case NUM_I64:
		*(int64_t *)field = (int64_t)v * n->scale;
		return 0;
	case NUM_SIZE:
		*(size_t *)field = (size_t)v * (size_t)n->scale;
		return 0;
	default:
		return -1;
	}
}

#define F(field) offsetof(struct hwg_config, field)
#define FN(setter)                                                                                 \
	setter,                                                                                    \
	{                                                                                          \
		NUM_NONE, 0, 0, 0                                                                  \
	}
#define NUM(type, min, max, scale)                                                                 \
	NULL,                                                                                      \
	{                                                                                          \
		type, min, max, scale                                                              \
	}
static const struct config_key config_keys[] = {
    {"gateway", "id", F(gateway_id), FN(set_string), "a gateway id"},
    {"gateway", "state_dir", F(state_dir), FN(set_string), "a directory path"},
    {"gateway", "log_level", F(log_level), FN(set_log_level), "debug, info, warn or error"},
    {"gateway", "libexec_dir", F(libexec_dir), FN(set_string), "a directory path"},
    {"gateway", "workers", F(workers), NUM(NUM_UNSIGNED, 1, 1024, 1), "a number from 1 to 1024"},
    {"api", "max_body", F(max_body), NUM(NUM_SIZE, 1024, 16 * 1024 * 1024, 1),
     "bytes between 1024 and 16777216"},
    {"api", "clock_skew", F(clock_skew_ms), NUM(NUM_I64, 1, 3600, 1000),
     "seconds between 1 and 3600"},
    {"api", "max_age", F(max_age_ms), NUM(NUM_I64, 1, 3600, 1000), "seconds between 1 and 3600"},
    {"api", "algorithms", 0, FN(set_algorithms), "a list of ES256 and/or EdDSA"},
    {"unix", "socket", F(socket_path), FN(set_string), "a socket path"},
    {"unix", "mode", F(socket_mode), FN(set_mode), "an octal mode without world bits, e.g. 0660"},
    {"unix", "max_connections_per_uid", F(max_connections_per_uid), NUM(NUM_UNSIGNED, 1, 65535, 1),
     "a number from 1"},
    {"http", "listen", F(http_listen), FN(set_string), "an IP address"},
    /* port 0: the kernel chooses (tests read the port from the ready line) */
    {"http", "port", F(http_port), NUM(NUM_UNSIGNED, 0, 65535, 1), "a port number"},
    {"http", "allow_remote", F(http_allow_remote), FN(set_bool), "yes or no"},
    {"http", "max_connections", F(max_connections), NUM(NUM_UNSIGNED, 1, 65535, 1),
     "a number from 1"},
    {"http", "max_connections_per_peer", F(max_connections_per_peer),
     NUM(NUM_UNSIGNED, 1, 65535, 1), "a number from 1"},
    {"http", "connection_timeout", F(connection_timeout_s), NUM(NUM_UNSIGNED, 1, 65535, 1),
     "seconds from 1"},
    {"http", "header_timeout", F(header_timeout_s), NUM(NUM_UNSIGNED, 1, 3600, 1),
     "seconds between 1 and 3600"},
    {"http", "request_timeout", F(request_timeout_s), NUM(NUM_UNSIGNED, 1, 3600, 1),
     "seconds between 1 and 3600"},
    {"http", "allowed_origins", 0, FN(set_origins),
     "a list of origins like https://counter.example (no path, no wildcard)"},
    {"hsm", "module", F(hsm_module), FN(set_string), "a PKCS#11 module path"},
    {"hsm", "token", F(hsm_token), FN(set_string), "a token label"},
    {"hsm", "pin_file", F(hsm_pin_file), FN(set_string), "a file path"},
    {"hsm", "response_key", F(hsm_response_key), FN(set_string), "a key label"},
    {"hsm", "audit_key", F(hsm_audit_key), FN(set_string), "a key label"},
    {"hsm", "template_key", F(hsm_template_key), FN(set_string), "a key label"},
    {"hsm", "seal_key", F(hsm_seal_key), FN(set_string), "a key label"},
    {"hsm", "signers", F(hsm_signers), NUM(NUM_UNSIGNED, 1, 16, 1), "a number from 1 to 16"},
    {"card", "enabled", F(card_enabled), FN(set_bool), "yes or no"},
    {"card", "roots", F(card_roots), FN(set_string), "a directory of root certificates"},
    {"card", "crls", F(card_crls), FN(set_string), "a directory of CRLs"},
    {"card", "crl_grace", F(card_crl_grace_s), NUM(NUM_I64, 0, 30 * 86400, 1),
     "seconds between 0 and 2592000"},
    {"card", "integrity_key", F(card_integrity_key), FN(set_string), "a PEM public key file"},
    {"card", "timeout_ms", F(card_timeout_ms), NUM(NUM_INT, 100, 600000, 1),
     "milliseconds between 100 and 600000"},
    {"card", "mynumber_roles", F(card_mynumber_roles), FN(set_roles),
     "a list of roles among counter, issuance, admin, auditor (never maintenance or registry)"},
    {"cert", "enabled", F(cert_enabled), FN(set_bool), "yes or no"},
    {"cert", "city", F(cert_city), FN(set_string), "the city's name as printed"},
    {"cert", "mayor", F(cert_mayor), FN(set_string), "the mayor's name as printed"},
    {"cert", "gaiji_table", F(cert_gaiji_table), FN(set_string), "a glyph table file"},
    {"cert", "render_timeout_ms", F(cert_render_timeout_ms), NUM(NUM_INT, 1000, 600000, 1),
     "milliseconds between 1000 and 600000"},
    {"cert", "job_timeout_ms", F(cert_job_timeout_ms), NUM(NUM_INT, 1000, 3600000, 1),
     "milliseconds between 1000 and 3600000"},
    {"printer", "enabled", F(printer_enabled), FN(set_bool), "yes or no"},
    {"printer", "scan_interval_ms", F(printer_scan_interval_ms), NUM(NUM_INT, 100, 600000, 1),
     "milliseconds between 100 and 600000"},
    {"printer", "command_timeout_ms", F(printer_command_timeout_ms), NUM(NUM_INT, 100, 600000, 1),
     "milliseconds between 100 and 600000"},
    {"vein", "enabled", F(vein_enabled), FN(set_bool), "yes or no"},
    {"vein", "usb_ids", 0, FN(set_usb_ids),
     "a list of up to 8 USB vendor:product ids in hex, like 1209:0001"},
    {"vein", "scan_interval_ms", F(vein_scan_interval_ms), NUM(NUM_INT, 100, 600000, 1),
     "milliseconds between 100 and 600000"},
    {"vein", "command_timeout_ms", F(vein_command_timeout_ms), NUM(NUM_INT, 100, 600000, 1),
     "milliseconds between 100 and 600000"},
    {"vein", "capture_timeout_ms", F(vein_capture_timeout_ms), NUM(NUM_INT, 100, 60000, 1),
     "milliseconds between 100 and 60000"},
    {"vein", "threshold", F(vein_threshold), FN(set_score), "a number from 0 to 1, like 0.5"},
    {"vein", "min_quality", F(vein_min_quality), NUM(NUM_INT, 0, 100, 1), "a number from 0 to 100"},
    {"vein", "min_liveness", F(vein_min_liveness), NUM(NUM_INT, 0, 100, 1),
     "a number from 0 to 100"},
    {"vein", "identify", F(vein_identify), FN(set_bool), "yes or no"},
    {"operator", "session_idle_s", F(operator_session_idle_s), NUM(NUM_I64, 1, 86400, 1),
     "seconds between 1 and 86400"},
    {"operator", "session_max_s", F(operator_session_max_s), NUM(NUM_I64, 1, 86400, 1),
     "seconds between 1 and 86400"},
    {"operator", "max_failures", F(operator_max_failures), NUM(NUM_INT, 1, 100, 1),
     "a number between 1 and 100"},
    {"operator", "lockout_s", F(operator_lockout_s), NUM(NUM_I64, 1, 86400, 1),
     "seconds between 1 and 86400"},
    {"audit", "checkpoint_every", F(checkpoint_every), NUM(NUM_I64, 1, 100000000, 1),
     "a record count from 1"},
    {"audit", "checkpoint_interval", F(checkpoint_interval_s), NUM(NUM_I64, 1, 100000000, 1),
     "seconds from 1"},
};
#undef F
#undef FN
#undef NUM
_Static_assert(sizeof(config_keys) / sizeof(config_keys[0]) <= 64, "grow load_state.seen");

static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	struct load_state *st = user;

	if (st->err->code != 0)
		return 0;
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
		const struct config_key *k = &config_keys[i];

		if (strcmp(k->section, section) != 0 || strcmp(k->key, name) != 0)
			continue;
		if ((k->set != NULL ? k->set(st, (char *)st->c + k->offset, value)
		                    : set_number(&k->num, (char *)st->c + k->offset, value)) != 0) {
			hwg_error_set(st->err, HWG_E_CONFIG, "[%s] %s = \"%s\": expected %s",
			              section, name, value, k->expect);
			return 0;
		}
		st->seen[i] = 1;
		return 1;
	}
	hwg_error_set(st->err, HWG_E_CONFIG, "unknown setting [%s] %s", section, name);
	return 0;
}

/* As many signing sessions as cores, 1 to 16. */
static unsigned
default_signers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 16 ? 16 : (unsigned)n;
}

void
hwg_config_defaults(struct hwg_config *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = HWG_LOG_INFO;
	c->workers = 16; /* requests at once: a card or a palm holds one for seconds */
	c->max_body = 64 * 1024;
	c->clock_skew_ms = 30 * 1000;
	c->max_age_ms = 30 * 1000;
	c->alg_es256 = c->alg_eddsa = 1;
	c->socket_mode = 0660;
	c->http_port = 8470;
	c->max_connections = 64;
	c->connection_timeout_s = 30;
	c->header_timeout_s = 5;
	c->request_timeout_s = 10;
	/* half of max_connections; a file that changes max_connections changes these too */
	c->max_connections_per_peer = c->max_connections_per_uid = 32;
	c->hsm_response_key = strdup("hwgw-response");
	c->hsm_audit_key = strdup("hwgw-audit");
	c->checkpoint_every = 1000;
	c->checkpoint_interval_s = 300;
	c->card_enabled = 1;
	c->card_timeout_ms = 5000;
	c->card_mynumber_roles = 1u << HWG_ROLE_COUNTER;
	c->hsm_template_key = strdup("hwgw-template");
	c->hsm_seal_key = strdup("hwgw-seal");
	c->hsm_signers = default_signers();
	c->cert_enabled = 1;
	c->cert_city = strdup("架空市");
	c->cert_mayor = strdup("架空 太郎");
	c->cert_render_timeout_ms = 20000;
	c->cert_job_timeout_ms = 120000;
	c->printer_enabled = 1;
	c->printer_scan_interval_ms = 1000;
	c->printer_command_timeout_ms = 2000;
	c->vein_enabled = 1;
	c->vein_usb_ids[0][0] = 0x1209; /* pid.codes test id: the simulated terminal */
	c->vein_usb_ids[0][1] = 0x0001;
	c->vein_n_usb_ids = 1;
	c->vein_scan_interval_ms = 1000;
	c->vein_command_timeout_ms = 1000;
	c->vein_capture_timeout_ms = 15000;
	c->vein_threshold = HWG_MATCH_THRESHOLD_DEFAULT;
	c->vein_min_quality = 40;
	c->vein_min_liveness = 50;
	c->vein_identify = 0;
	c->operator_session_idle_s = 600;
	c->operator_session_max_s = 28800;
	c->operator_max_failures = 5;
	c->operator_lockout_s = 900;
}

static int
is_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/* Whether section/key was set in the file. */
static int
was_set(const struct load_state *st, const char *section, const char *key)
{
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++)
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].key, key) == 0)
			return st->seen[i];
	return 0;
}

/*
 * One peer (an address, a uid) gets at most limit of the max_connections
 * slots: by default half, so that it never holds them all.
 */
static int
per_peer_limit(const struct load_state *st, const char *section, const char *key, unsigned *limit,
               struct hwg_error *err)
{
	unsigned max = st->c->max_connections;

	if (!was_set(st, section, key))
		*limit = max > 1 ? max / 2 : 1;
	else if (*limit > max)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "[%s] %s (%u) is more than [http] max_connections (%u)",
		                     section, key, *limit, max);
	return 0;
}

/* At least one transport; the socket path fits; HTTP on an IP, loopback unless allowed. */
static int
transports_check(const struct hwg_config *c, struct hwg_error *err)
{
	struct in_addr a4;
	struct in6_addr a6;

	if ((c->socket_path == NULL || c->socket_path[0] == '\0') &&
	    (c->http_listen == NULL || c->http_listen[0] == '\0'))
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "no transport: set [unix] socket and/or [http] listen");
	if (c->socket_path != NULL && strlen(c->socket_path) >= 108)
		return hwg_error_set(err, HWG_E_CONFIG, "[unix] socket path is too long");
	if (c->http_listen == NULL || c->http_listen[0] == '\0')
		return 0;
	if (inet_pton(AF_INET, c->http_listen, &a4) != 1 &&
	    inet_pton(AF_INET6, c->http_listen, &a6) != 1)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "[http] listen = \"%s\": expected an IP address",
		                     c->http_listen);
	if (!is_loopback(c->http_listen) && !c->http_allow_remote)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "[http] listen = \"%s\" is not loopback; set "
		                     "allow_remote = yes to serve other hosts",
		                     c->http_listen);
	return 0;
}

/*
 * [cert]: an issuance number (<id>-YYYYMMDD-NNNNNN) is the printer's PJL
 * job name, 40 bytes at most (firmware-notes/certificate-printer.md), so
 * the gateway id that begins it is 24 at most; the city and the mayor fit
 * their line on the page (64 bytes).
 */
static int
cert_check(const struct hwg_config *c, struct hwg_error *err)
{
	if (!c->cert_enabled)
		return 0;
	if (strlen(c->gateway_id) > 24)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "[cert] enabled = yes needs a [gateway] id of at most 24 "
		                     "characters (issuance numbers begin with it and are the "
		                     "printer's job names, 40 at most), or set [cert] enabled = no");
	if (c->cert_city[0] == '\0' || strlen(c->cert_city) > 64 || c->cert_mayor[0] == '\0' ||
	    strlen(c->cert_mayor) > 64)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "[cert] city and mayor are 1 to 64 bytes each");
	return 0;
}

static int
config_check(const struct load_state *st, struct hwg_error *err)
{
	struct hwg_config *c = st->c;
	int rc;

	if (!was_set(st, "gateway", "id") || c->gateway_id[0] == '\0' || strlen(c->gateway_id) > 64)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "[gateway] id is required (1-64 characters)");
	if (!was_set(st, "gateway", "state_dir") || c->state_dir[0] != '/')
		return hwg_error_set(
		    err, HWG_E_CONFIG,
		    "[gateway] state_dir is required and must be an absolute path");
	if (!was_set(st, "hsm", "module") || !was_set(st, "hsm", "token") ||
	    !was_set(st, "hsm", "pin_file"))
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "[hsm] module, token and pin_file are all required");
	if ((c->card_roots == NULL) != (c->card_crls == NULL))
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "[card] roots and crls go together: a root without its CRLs "
		                     "cannot be checked for revocation");
	if (c->operator_session_idle_s > c->operator_session_max_s)
		return hwg_error_set(
		    err, HWG_E_CONFIG,
		    "[operator] session_idle_s (%lld) is longer than session_max_s "
		    "(%lld)",
		    (long long)c->operator_session_idle_s, (long long)c->operator_session_max_s);
	if (c->header_timeout_s > c->request_timeout_s)
		return hwg_error_set(
		    err, HWG_E_CONFIG,
		    "[http] header_timeout (%u) is longer than request_timeout (%u): "
		    "the head is part of the request",
		    c->header_timeout_s, c->request_timeout_s);
	if (per_peer_limit(st, "http", "max_connections_per_peer", &c->max_connections_per_peer,
	                   err) != 0 ||
	    per_peer_limit(st, "unix", "max_connections_per_uid", &c->max_connections_per_uid,
	                   err) != 0)
		return HWG_E_CONFIG;
	if ((rc = cert_check(c, err)) != 0)
		return rc;
	return transports_check(c, err);
}

int
hwg_config_parse_string(const char *text, const char *name, struct hwg_config *c,
                        struct hwg_error *err)
{
	struct hwg_error local;
	struct load_state st = {.c = c, .err = err ? err : &local, .path = name};
	int line;

	hwg_error_clear(st.err);
	line = ini_parse_string(text, on_key, &st);
	if (st.err->code != 0) {
		char msg[sizeof(st.err->message)];

		memcpy(msg, st.err->message, sizeof(msg));
		return hwg_error_set(err, HWG_E_CONFIG, "%s:%d: %s", name, line, msg);
	}
	if (line != 0)
		return hwg_error_set(err, HWG_E_CONFIG, "%s:%d: syntax error", name, line);
	if (config_check(&st, st.err) != 0) {
		char msg[sizeof(st.err->message)];

		memcpy(msg, st.err->message, sizeof(msg));
		return hwg_error_set(err, HWG_E_CONFIG, "%s: %s", name, msg);
	}
	return 0;
}

/*
 * The file whole, NUL-terminated, into *out (the caller frees it).  A NUL
 * inside is refused: the text would end there, and what follows it would
 * be silently ignored.
 */
static int
read_text(const char *path, char **out, struct hwg_error *err)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t len;
	const char *nul;
	int line = 1;

	*out = NULL;
	if (f == NULL)
		return hwg_error_set(err, HWG_E_CONFIG, "cannot open %s: %s", path,
		                     strerror(errno));
	if ((buf = malloc(HWG_CONFIG_FILE_MAX + 1)) == NULL) {
		fclose(f);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory reading %s", path);
	}
	len = fread(buf, 1, HWG_CONFIG_FILE_MAX + 1, f);
	if (ferror(f) || len > HWG_CONFIG_FILE_MAX) {
		int rc = ferror(f) ? hwg_error_set(err, HWG_E_CONFIG, "cannot read %s", path)
		                   : hwg_error_set(err, HWG_E_CONFIG, "%s is larger than %d bytes",
		                                   path, HWG_CONFIG_FILE_MAX);

		fclose(f);
		free(buf);
		return rc;
	}
	fclose(f);
	buf[len] = '\0';
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		for (const char *p = buf; p < nul; p++)
			line += *p == '\n';
		free(buf);
		return hwg_error_set(err, HWG_E_CONFIG, "%s:%d: a NUL byte: not a text file", path,
		                     line);
	}
	*out = buf;
	return 0;
}

int
hwg_config_load(const char *path, struct hwg_config *c, struct hwg_error *err)
{
	char *text;
	int rc;

	if (err != NULL)
		hwg_error_clear(err);
	if ((rc = read_text(path, &text, err)) != 0)
		return rc;
	rc = hwg_config_parse_string(text, path, c, err);
	free(text);
	return rc;
}

void
hwg_config_clear(struct hwg_config *c)
{
	free(c->gateway_id);
	free(c->state_dir);
	free(c->libexec_dir);
	free(c->socket_path);
	free(c->http_listen);
	for (size_t i = 0; i < c->n_origins; i++)
		free(c->origins[i]);
	free(c->hsm_module);
	free(c->hsm_token);
	free(c->hsm_pin_file);
	free(c->hsm_response_key);
	free(c->hsm_audit_key);
	free(c->hsm_template_key);
	free(c->hsm_seal_key);
	free(c->cert_city);
	free(c->cert_mayor);
	free(c->cert_gaiji_table);
	free(c->card_roots);
	free(c->card_crls);
	free(c->card_integrity_key);
	memset(c, 0, sizeof(*c));
}
