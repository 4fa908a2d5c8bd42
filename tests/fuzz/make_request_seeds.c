/*
 * make_request_seeds.c — writes the seed corpora of fuzz_request (request
 * payloads) and fuzz_args (operation arguments), and checks them.
 *
 *   fuzz_request_seeds request|args DIR          write the seeds into DIR
 *   fuzz_request_seeds --check request|args DIR  check them (two ctests)
 *
 * request: "ok-*" files parse, "v2-*" give HWG_E_BAD_VERSION and "bad-*"
 * HWG_E_BAD_ENCODING.  They are the maps tests/unit/test_request.c builds
 * (a valid request, each key dropped, each bad value), and one valid
 * request per operation of the table carrying that operation's arguments.
 * args: "ok-OP[-...]" passes the schema of operation OP, "bad-OP-WHY" is
 * refused by it with HWG_E_BAD_ARGS.  They are made from the table itself
 * (gateway/shared/hwg_optable.c): each schema filled with the values the integration
 * tests send, then each key dropped, mistyped, one past its range, an
 * unknown key added.  Other files in the corpora (saved crashers) are left
 * alone by both modes.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_optable.h"
#include "hwg_roles.h"
#include "hwg_request.h"
#include "hwg_schema.h"

#define SEED_MAX 4096

static const char *dir;
static int failed;

static void
save_item(const char *name, cbor_item_t *item)
{
	unsigned char *buf = NULL;
	size_t cap = 0, len = cbor_serialize_alloc(item, &buf, &cap);
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (len == 0 || (f = fopen(path, "wb")) == NULL || fwrite(buf, 1, len, f) != len ||
	    fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		failed = 1;
	}
	free(buf);
	cbor_decref(&item);
}

static void
save_bytes(const char *name, const void *p, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		failed = 1;
	}
}

static cbor_item_t *
text_of(char ch, size_t n)
{
	char buf[256];

	memset(buf, ch, n);
	buf[n] = '\0';
	return cbor_build_string(buf);
}

/* ---------------------------------------------------------------- arguments */

/* A valid value of s: what the integration tests send, else the shortest allowed. */
static cbor_item_t *
sample(const struct hwg_arg_spec *s)
{
	static const struct {
		const char *key, *text;
	} texts[] = {
	    {"subject", "counter"},
	    {"operator", "adm.1"},
	    {"reader", "hwsim 00 00"},
	    {"pin", "1234"},
	    {"password", "ABC123"},
	    {"terminal", "PV-SIM-0001"},
	    {"fingerprint", "3f9a1c0b5e7d2468ace013579bdf02468ace013579bdf02468ace013579bdf0a"},
	    {"operator_id", "clerk.1"},
	    {"role", "counter"},
	};
	static const struct {
		const char *key;
		uint64_t value;
	} uints[] = {
	    {"from", 1790000000000ULL},
	    {"to", 1790000600000ULL},
	    {"limit", 10},
	    {"valid_until", 1792592000000ULL},
	};
	uint8_t bytes[64];

	switch (s->type) {
	case HWG_ARG_TEXT:
		for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
			if (strcmp(texts[i].key, s->key) == 0)
				return cbor_build_string(texts[i].text);
		return text_of('a', (size_t)s->min);
	case HWG_ARG_UINT:
		for (size_t i = 0; i < sizeof(uints) / sizeof(uints[0]); i++)
			if (strcmp(uints[i].key, s->key) == 0)
				return cbor_build_uint64(uints[i].value);
		return cbor_build_uint64(s->min);
	case HWG_ARG_BYTES:
		memset(bytes, 0x5a, sizeof(bytes));
		return cbor_build_bytestring(bytes, (size_t)s->min);
	case HWG_ARG_BOOL:
		return cbor_build_bool(true);
	}
	return NULL;
}

/* One past the range of s (longer, or larger), or NULL when there is no such value. */
static cbor_item_t *
out_of_range(const struct hwg_arg_spec *s)
{
	uint8_t bytes[256] = {0};

	switch (s->type) {
	case HWG_ARG_TEXT:
		return s->max < 255 ? text_of('a', (size_t)s->max + 1) : NULL;
	case HWG_ARG_BYTES:
		return s->max < sizeof(bytes) ? cbor_build_bytestring(bytes, (size_t)s->max + 1)
		                              : NULL;
	case HWG_ARG_UINT:
		return s->max < UINT64_MAX ? cbor_build_uint64(s->max + 1)
		       : s->min > 0        ? cbor_build_uint64(s->min - 1)
		                           : NULL;
	case HWG_ARG_BOOL:
		return NULL;
	}
	return NULL;
}

static cbor_item_t *
wrong_type(const struct hwg_arg_spec *s)
{
	return s->type == HWG_ARG_UINT ? cbor_build_string("1") : cbor_build_uint8(1);
}

/*
 * op's arguments: every key with its sample, except skip (-1: none), whose
 * value is replaced by alt when alt is not NULL; then extra_key if given.
 */
static cbor_item_t *
args_map(const struct hwg_op *op, int only_required, int skip, cbor_item_t *alt,
         const char *extra_key, cbor_item_t *extra)
{
	cbor_item_t *m = cbor_new_definite_map(op->n_args + 1);

	for (size_t i = 0; i < op->n_args; i++) {
		const struct hwg_arg_spec *s = &op->args[i];

		if ((int)i == skip) {
			if (alt != NULL)
				hwg_cbor_map_put_item(m, s->key, alt);
			continue;
		}
		if (!only_required || s->required)
			hwg_cbor_map_put_item(m, s->key, sample(s));
	}
	if (extra_key != NULL)
		hwg_cbor_map_put_item(m, extra_key, extra);
	return m;
}

/* Saved as ok-OP[-WHAT] or bad-OP-WHAT[-KEY]. */
static void
save_arg(const char *prefix, const char *op, const char *what, const char *key, cbor_item_t *item)
{
	char name[256];

	snprintf(name, sizeof(name), "%s-%s%s%s%s%s", prefix, op, what != NULL ? "-" : "",
	         what != NULL ? what : "", key != NULL ? "-" : "", key != NULL ? key : "");
	save_item(name, item);
}

/* The bad variants of one schema (once per schema: ops may share one). */
static void
make_args_refusals(const struct hwg_op *op)
{
	int first_text = 1;

	save_arg("bad", op->name, "unknown", NULL,
	         args_map(op, 0, -1, NULL, "colour", cbor_build_string("red")));
	for (size_t i = 0; i < op->n_args; i++) {
		const struct hwg_arg_spec *s = &op->args[i];
		cbor_item_t *v;

		if (s->required)
			save_arg("bad", op->name, "no", s->key,
			         args_map(op, 0, (int)i, NULL, NULL, NULL));
		save_arg("bad", op->name, "type", s->key,
		         args_map(op, 0, (int)i, wrong_type(s), NULL, NULL));
		if ((v = out_of_range(s)) != NULL)
			save_arg("bad", op->name, "range", s->key,
			         args_map(op, 0, (int)i, v, NULL, NULL));
		if (s->type == HWG_ARG_TEXT && first_text) {
			first_text = 0;
			save_arg(
			    "bad", op->name, "nul", s->key,
			    args_map(op, 0, (int)i, cbor_build_stringn("a\0b", 3), NULL, NULL));
		}
	}
}

static int
shares_schema(int index)
{
	const struct hwg_op *op = hwg_op_at(index);

	for (int j = 0; j < index; j++)
		if (hwg_op_at(j)->args == op->args)
			return 1;
	return 0;
}

static void
make_args(void)
{
	static const uint8_t not_map[] = {0x82, 0x61, 'a', 0x01};
	const struct hwg_op *op;

	for (int i = 0; (op = hwg_op_at(i)) != NULL; i++) {
		int optional = 0;

		save_arg("ok", op->name, NULL, NULL, args_map(op, 0, -1, NULL, NULL, NULL));
		for (size_t k = 0; k < op->n_args; k++)
			optional |= !op->args[k].required;
		if (optional)
			save_arg("ok", op->name, "required", NULL,
			         args_map(op, 1, -1, NULL, NULL, NULL));
		if (!shares_schema(i))
			make_args_refusals(op);
	}
	/* a repeated key, and no map at all */
	op = hwg_op_find("card.sign");
	save_item("bad-card.sign-repeated",
	          args_map(op, 0, -1, NULL, "reader", cbor_build_string("hwsim 00 01")));
	save_bytes("bad-gw.info-not-map", not_map, sizeof(not_map));
}

/* ---------------------------------------------------------------- requests */

/* A valid request map (test_request.c's); drop names one key, then extra_key is added. */
static cbor_item_t *
request_map(const char *op, cbor_item_t *args, const char *drop, const char *extra_key,
            cbor_item_t *extra)
{
	static const uint8_t nonce[16] = {0x6e, 0x6f, 0x6e, 0x63, 0x65, 0x2d, 0x72, 0x65,
	                                  0x71, 0x2d, 0x73, 0x65, 0x65, 0x64, 0x30, 0x31};
	cbor_item_t *m = cbor_new_definite_map(9);

#define PUT(k, call)                                                                               \
	if (drop == NULL || strcmp(drop, k) != 0)                                                  \
		call;
	PUT("v", hwg_cbor_map_put_uint(m, "v", 1));
	PUT("op", hwg_cbor_map_put_text(m, "op", op));
	PUT("aud", hwg_cbor_map_put_text(m, "aud", "gw-01"));
	PUT("cid", hwg_cbor_map_put_text(m, "cid", "counter01"));
	PUT("t", hwg_cbor_map_put_uint(m, "t", 1790000000000ULL));
	PUT("nonce", hwg_cbor_map_put_bytes(m, "nonce", nonce, sizeof(nonce)));
#undef PUT
	if (drop == NULL || strcmp(drop, "args") != 0)
		hwg_cbor_map_put_item(m, "args", args != NULL ? args : cbor_new_definite_map(0));
	else if (args != NULL)
		cbor_decref(&args);
	if (extra_key != NULL)
		hwg_cbor_map_put_item(m, extra_key, extra);
	return m;
}

static void
make_request_refusals(void)
{
	static const char *const keys[] = {"v", "op", "aud", "cid", "t", "nonce", "args"};
	static const uint8_t short_nonce[15], long_nonce[65];
	cbor_item_t *args;
	char name[64];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(name, sizeof(name), "bad-no-%s", keys[i]);
		save_item(name, request_map("gw.info", NULL, keys[i], NULL, NULL));
	}
	save_item("bad-unknown-key",
	          request_map("gw.info", NULL, NULL, "extra", cbor_build_uint8(1)));
	save_item("bad-repeated-op",
	          request_map("gw.info", NULL, NULL, "op", cbor_build_string("device.list")));
	save_item("bad-nonce-15", request_map("gw.info", NULL, "nonce", "nonce",
	                                      cbor_build_bytestring(short_nonce, 15)));
	save_item("bad-nonce-65", request_map("gw.info", NULL, "nonce", "nonce",
	                                      cbor_build_bytestring(long_nonce, 65)));
	save_item("bad-sess-15", request_map("gw.info", NULL, NULL, "sess",
	                                     cbor_build_bytestring(short_nonce, 15)));
	save_item("bad-op-space",
	          request_map("gw.info", NULL, "op", "op", cbor_build_string("GW INFO")));
	save_item("bad-op-49", request_map("gw.info", NULL, "op", "op", text_of('a', 49)));
	save_item("bad-t-text", request_map("gw.info", NULL, "t", "t", cbor_build_string("now")));
	/* a uint past 2^63 parses (the clock check refuses it as clock_skew) */
	save_item("ok-t-over-int64",
	          request_map("gw.info", NULL, "t", "t", cbor_build_uint64(UINT64_MAX)));
	save_item("bad-cid-not-utf8",
	          request_map("gw.info", NULL, "cid", "cid", cbor_build_stringn("c\xff", 2)));
	save_item("bad-args-array",
	          request_map("gw.info", NULL, "args", "args", cbor_new_definite_array(0)));
	args = cbor_new_definite_map(1);
	cbor_map_add(args, (struct cbor_pair){.key = cbor_move(cbor_build_uint8(1)),
	                                      .value = cbor_move(cbor_build_uint8(2))});
	save_item("bad-args-uint-key", request_map("gw.info", NULL, "args", "args", args));
	save_item("bad-cid-empty",
	          request_map("gw.info", NULL, "cid", "cid", cbor_build_string("")));
	save_item("bad-aud-65", request_map("gw.info", NULL, "aud", "aud", text_of('g', 65)));
	save_item("bad-not-map", cbor_new_definite_array(0));
	save_bytes("bad-indefinite-map", "\xbf\x61v\x01\xff", 5);
	save_bytes("bad-trailing-byte", "\xa0\x00", 2);
}

static void
make_request(void)
{
	static const uint8_t long_nonce[64] = {0x11, 0x22, 0x33};
	const struct hwg_op *op;
	char name[128];

	for (int i = 0; (op = hwg_op_at(i)) != NULL; i++) {
		snprintf(name, sizeof(name), "ok-%s", op->name);
		save_item(name, request_map(op->name, args_map(op, 0, -1, NULL, NULL, NULL), NULL,
		                            NULL, NULL));
	}
	op = hwg_op_find("audit.query");
	save_item("ok-audit.query-session",
	          request_map(op->name, args_map(op, 0, -1, NULL, NULL, NULL), NULL, "sess",
	                      cbor_build_bytestring(long_nonce, sizeof(long_nonce))));
	save_item("ok-nonce-64",
	          request_map("gw.info", NULL, "nonce", "nonce",
	                      cbor_build_bytestring(long_nonce, sizeof(long_nonce))));
	save_item("v2-gw.info", request_map("gw.info", NULL, "v", "v", cbor_build_uint8(2)));
	make_request_refusals();
}

/* ---------------------------------------------------------------- check */

/* The expected code of a seed by its name, or 1 if the file is not a seed. */
static int
expected(int args, const char *name, char *op, size_t oplen)
{
	const char *rest, *dash;

	if (!args)
		return strncmp(name, "ok-", 3) == 0    ? 0
		       : strncmp(name, "v2-", 3) == 0  ? HWG_E_BAD_VERSION
		       : strncmp(name, "bad-", 4) == 0 ? HWG_E_BAD_ENCODING
		                                       : 1;
	if (strncmp(name, "ok-", 3) != 0 && strncmp(name, "bad-", 4) != 0)
		return 1;
	rest = name + (name[0] == 'o' ? 3 : 4);
	dash = strchr(rest, '-');
	snprintf(op, oplen, "%.*s", (int)(dash != NULL ? (size_t)(dash - rest) : strlen(rest)),
	         rest);
	return name[0] == 'o' ? 0 : HWG_E_BAD_ARGS;
}

static int
check_one(int args, const uint8_t *buf, size_t len, const char *op, struct hwg_error *err)
{
	const struct hwg_op *o;
	struct hwg_request r;
	cbor_item_t *item;
	int rc;

	if (!args) {
		memset(&r, 0, sizeof(r));
		rc = hwg_request_parse(buf, len, &r, err);
		if (rc == 0 || rc == HWG_E_BAD_VERSION)
			hwg_request_clear(&r);
		return rc;
	}
	if ((o = hwg_op_find(op)) == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no operation \"%s\"", op);
	if ((item = hwg_cbor_load(buf, len, NULL)) == NULL)
		return hwg_error_set(err, HWG_E_BAD_ARGS, "not CBOR");
	rc = hwg_schema_check(item, o->args, o->n_args, err);
	cbor_decref(&item);
	return rc;
}

static int
check(int args)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int passed = 0, ok = 0, bad = 0;

	if (d == NULL) {
		fprintf(stderr, "cannot open %s\n", dir);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		uint8_t buf[SEED_MAX];
		struct hwg_error err = {0};
		char path[4096], op[64] = "";
		int want = expected(args, e->d_name, op, sizeof(op)), rc;
		size_t len;
		FILE *f;

		if (want == 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((f = fopen(path, "rb")) == NULL) {
			fprintf(stderr, "not ok - %s: unreadable\n", e->d_name);
			failed = 1;
			continue;
		}
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if ((rc = check_one(args, buf, len, op, &err)) != want) {
			fprintf(stderr, "not ok - %s: %d, expected %d (%s)\n", e->d_name, rc, want,
			        rc ? err.message : "accepted");
			failed = 1;
			continue;
		}
		fprintf(stderr, "ok - %s%s%s\n", e->d_name, rc ? ": " : "", rc ? err.message : "");
		passed++;
		if (want == 0)
			ok++;
		else
			bad++;
	}
	closedir(d);
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 && ok > 0 && bad > 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	int checking = argc == 4 && strcmp(argv[1], "--check") == 0, args;
	const char *what = checking ? argv[2] : argv[1];

	if ((argc != 3 && !checking) ||
	    (strcmp(what, "request") != 0 && strcmp(what, "args") != 0)) {
		fprintf(stderr, "usage: fuzz_request_seeds [--check] request|args DIR\n");
		return 2;
	}
	args = strcmp(what, "args") == 0;
	dir = argv[argc - 1];
	if (checking)
		return check(args);
	if (args)
		make_args();
	else
		make_request();
	return failed;
}
