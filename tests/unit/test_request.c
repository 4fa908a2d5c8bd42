/*
 * test_request.c — the request payload parser takes exactly the map of
 * api.cddl and refuses each deviation, and the argument schema checker
 * refuses unknown, missing, mistyped and out-of-range arguments.
 */
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_request.h"
#include "hwg_schema.h"
#include "hwg_test.h"

/* A valid request map; drop names one key, then put_extra adds one. */
static cbor_item_t *
request_map(const char *drop, const char *extra_key, cbor_item_t *extra)
{
	static const uint8_t nonce[16] = {1};
	cbor_item_t *m = cbor_new_definite_map(8);

#define PUT(k, call)                                                                               \
	if (drop == NULL || strcmp(drop, k) != 0)                                                  \
		call;
	PUT("v", hwg_cbor_map_put_uint(m, "v", 1));
	PUT("op", hwg_cbor_map_put_text(m, "op", "gw.info"));
	PUT("aud", hwg_cbor_map_put_text(m, "aud", "gw-1"));
	PUT("cid", hwg_cbor_map_put_text(m, "cid", "counter01"));
	PUT("t", hwg_cbor_map_put_uint(m, "t", 1700000000000ULL));
	PUT("nonce", hwg_cbor_map_put_bytes(m, "nonce", nonce, sizeof(nonce)));
	PUT("args", hwg_cbor_map_put_item(m, "args", cbor_new_definite_map(0)));
#undef PUT
	if (extra_key != NULL)
		hwg_cbor_map_put_item(m, extra_key, extra);
	return m;
}

static int
parse(cbor_item_t *m, struct hwg_request *r)
{
	unsigned char *buf = NULL;
	size_t cap = 0, len = cbor_serialize_alloc(m, &buf, &cap);
	struct hwg_error err = {0};
	int rc;

	cbor_decref(&m);
	memset(r, 0, sizeof(*r));
	rc = hwg_request_parse(buf, len, r, &err);
	free(buf);
	return rc;
}

static void
test_valid_request(void)
{
	struct hwg_request r;

	CHECK_EQ_INT(parse(request_map(NULL, NULL, NULL), &r), 0);
	CHECK_EQ_STR(r.op, "gw.info");
	CHECK_EQ_STR(r.client_id, "counter01");
	CHECK_EQ_INT(r.nonce_len, 16);
	CHECK_EQ_INT(r.session_len, 0);
	hwg_request_clear(&r);
}

static void
test_each_missing_key_refused(void)
{
	static const char *const keys[] = {"v", "op", "aud", "cid", "t", "nonce", "args"};
	struct hwg_request r;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int rc = parse(request_map(keys[i], NULL, NULL), &r);

		if (rc != HWG_E_BAD_ENCODING)
			fprintf(stderr, "  without \"%s\": %d\n", keys[i], rc);
		CHECK_EQ_INT(rc, HWG_E_BAD_ENCODING);
	}
}

static void
test_bad_values_refused(void)
{
	static const uint8_t short_nonce[15], long_nonce[65];
	struct hwg_request r;
	cbor_item_t *m;

	CHECK_EQ_INT(parse(request_map(NULL, "extra", cbor_build_uint8(1)), &r),
	             HWG_E_BAD_ENCODING); /* unknown key */
	CHECK_EQ_INT(parse(request_map("v", "v", cbor_build_uint8(2)), &r), HWG_E_BAD_VERSION);
	CHECK_EQ_STR(r.client_id, "counter01"); /* known for the audit */
	hwg_request_clear(&r);
	CHECK_EQ_INT(
	    parse(request_map("nonce", "nonce", cbor_build_bytestring(short_nonce, 15)), &r),
	    HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(
	    parse(request_map("nonce", "nonce", cbor_build_bytestring(long_nonce, 65)), &r),
	    HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(parse(request_map("op", "op", cbor_build_string("GW INFO")), &r),
	             HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(parse(request_map("t", "t", cbor_build_string("now")), &r),
	             HWG_E_BAD_ENCODING);
	/* a uint past 2^63 is well formed: held as the largest time, for the clock to refuse */
	CHECK_EQ_INT(parse(request_map("t", "t", cbor_build_uint64(UINT64_MAX)), &r), 0);
	CHECK(r.time_ms == INT64_MAX);
	hwg_request_clear(&r);
	CHECK_EQ_INT(parse(request_map("cid", "cid", cbor_build_stringn("c\xff", 2)), &r),
	             HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(parse(request_map("args", "args", cbor_new_definite_array(0)), &r),
	             HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(parse(request_map("cid", "cid", cbor_build_string("")), &r),
	             HWG_E_BAD_ENCODING);
	/* a repeated key (request_map leaves room for one more pair) */
	m = request_map(NULL, "op", cbor_build_string("device.list"));
	CHECK_EQ_INT(parse(m, &r), HWG_E_BAD_ENCODING);
}

static void
test_schema(void)
{
	static const struct hwg_arg_spec spec[] = {
	    {"name", HWG_ARG_TEXT, 1, 1, 8},
	    {"count", HWG_ARG_UINT, 0, 1, 10},
	};
	struct hwg_error err = {0};
	cbor_item_t *a = cbor_new_definite_map(2);

	hwg_cbor_map_put_text(a, "name", "abc");
	hwg_cbor_map_put_uint(a, "count", 3);
	CHECK_EQ_INT(hwg_schema_check(a, spec, 2, &err), 0);
	cbor_decref(&a);
	a = cbor_new_definite_map(1);
	hwg_cbor_map_put_uint(a, "count", 3);
	CHECK_EQ_INT(hwg_schema_check(a, spec, 2, &err), HWG_E_BAD_ARGS); /* missing name */
	CHECK(strstr(err.message, "\"name\" is required") != NULL);
	cbor_decref(&a);
	a = cbor_new_definite_map(1);
	hwg_cbor_map_put_text(a, "name", "far too long");
	CHECK_EQ_INT(hwg_schema_check(a, spec, 2, &err), HWG_E_BAD_ARGS);
	cbor_decref(&a);
	a = cbor_new_definite_map(2);
	hwg_cbor_map_put_text(a, "name", "x");
	hwg_cbor_map_put_uint(a, "count", 11);
	CHECK_EQ_INT(hwg_schema_check(a, spec, 2, &err), HWG_E_BAD_ARGS);
	cbor_decref(&a);
	a = cbor_new_definite_map(2);
	hwg_cbor_map_put_text(a, "name", "x");
	hwg_cbor_map_put_text(a, "colour", "red");
	CHECK_EQ_INT(hwg_schema_check(a, spec, 2, &err), HWG_E_BAD_ARGS);
	CHECK(strstr(err.message, "colour") != NULL);
	cbor_decref(&a);
}

int
main(void)
{
	HWG_RUN(test_valid_request);
	HWG_RUN(test_each_missing_key_refused);
	HWG_RUN(test_bad_values_refused);
	HWG_RUN(test_schema);
	return HWG_TEST_END();
}
