/*
 * test_client.c — libhwgw's half of the protocol and what hwgwctl relies
 * on: requests carry every field of api.cddl and verify with the client
 * key; a response is accepted only if the gateway key signed it and it
 * names our request (every way of failing that is tried); key files;
 * JSON <-> CBOR; and both senders against small in-test servers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "hwg_cbor.h"
#include "hwg_cose.h"
#include "hwg_test.h"
#include "hwg_time.h"
#include "hwgw.h"
#include "hwgw_json.h"

#define MIB (1024 * 1024)

static EVP_PKEY *client_key, *gw_key, *other_key;
static struct hwgw_ctx *ctx;
static char tmpdir[] = "/tmp/hwgw-test-client.XXXXXX";

/* ---------------------------------------------------------------- requests */

/* Decode and verify a request with key; the payload map, or NULL. */
static cbor_item_t *
open_request(const uint8_t *req, size_t len, EVP_PKEY *key, int *alg)
{
	struct hwg_cose_sign1 m;
	struct hwg_error err = {0};
	cbor_item_t *p = NULL;

	if (hwg_cose_sign1_decode(req, len, &m, &err) != 0)
		return NULL;
	if (hwg_cose_sign1_verify(&m, key, &err) == 0)
		p = hwg_cbor_load(m.payload, m.payload_len, NULL);
	*alg = m.alg;
	hwg_cose_sign1_clear(&m);
	return p;
}

static int
key_at(const cbor_item_t *m, size_t i, const char *key)
{
	return i < cbor_map_size(m) && hwg_cbor_text_eq(cbor_map_handle(m)[i].key, key);
}

static void
test_request_has_every_field(void)
{
	static const char *const order[] = {"v", "op", "aud", "cid", "t", "nonce", "args"};
	struct hwg_error err = {0};
	uint8_t *req = NULL;
	size_t len = 0, nlen = 0;
	const uint8_t *nonce;
	cbor_item_t *args = cbor_new_definite_map(2), *p, *a;
	uint64_t v = 0, t = 0;
	int64_t before = hwg_now_ms(), after;
	int alg = 0;

	hwg_cbor_map_put_text(args, "subject", "resident-1");
	hwg_cbor_map_put_uint(args, "limit", 7);
	CHECK_EQ_INT(hwgw_request_build(ctx, "audit.query", args, NULL, &req, &len, &err), 0);
	after = hwg_now_ms();
	cbor_decref(&args);
	p = open_request(req, len, client_key, &alg);
	CHECK(p != NULL);
	if (p == NULL) {
		free(req);
		return;
	}
	CHECK_EQ_INT(alg, HWG_COSE_EDDSA);
	CHECK_EQ_INT(cbor_map_size(p), 7);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		CHECK(key_at(p, i, order[i]));
	CHECK(hwg_cbor_uint(hwg_cbor_map_get(p, "v", NULL), &v) == 0 && v == 1);
	CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(p, "op", NULL), "audit.query"));
	CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(p, "aud", NULL), "gw-1"));
	CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(p, "cid", NULL), "counter01"));
	CHECK(hwg_cbor_uint(hwg_cbor_map_get(p, "t", NULL), &t) == 0);
	CHECK((int64_t)t >= before && (int64_t)t <= after);
	CHECK(hwg_cbor_bytes(hwg_cbor_map_get(p, "nonce", NULL), &nonce, &nlen) == 0);
	CHECK_EQ_INT(nlen, 32);
	CHECK(hwg_cbor_map_get(p, "sess", NULL) == NULL);
	a = hwg_cbor_map_get(p, "args", NULL);
	CHECK(a != NULL && cbor_isa_map(a) && cbor_map_size(a) == 2);
	CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(a, "subject", NULL), "resident-1"));
	CHECK(hwg_cbor_uint(hwg_cbor_map_get(a, "limit", NULL), &v) == 0 && v == 7);
	/* the client key verified it; another key does not */
	{
		cbor_item_t *q = open_request(req, len, other_key, &alg);

		CHECK(q == NULL);
		if (q != NULL)
			cbor_decref(&q);
	}
	cbor_decref(&p);
	free(req);
}

static void
test_request_defaults_and_fresh_nonce(void)
{
	struct hwg_error err = {0};
	uint8_t *r1 = NULL, *r2 = NULL;
	size_t l1 = 0, l2 = 0, n1 = 0, n2 = 0;
	const uint8_t *a, *b;
	cbor_item_t *p1, *p2, *args;
	int alg;

	CHECK_EQ_INT(hwgw_request_build(ctx, "gw.info", NULL, NULL, &r1, &l1, &err), 0);
	CHECK_EQ_INT(hwgw_request_build(ctx, "gw.info", NULL, NULL, &r2, &l2, &err), 0);
	p1 = open_request(r1, l1, client_key, &alg);
	p2 = open_request(r2, l2, client_key, &alg);
	CHECK(p1 != NULL && p2 != NULL);
	if (p1 != NULL && p2 != NULL) {
		args = hwg_cbor_map_get(p1, "args", NULL);
		CHECK(args != NULL && cbor_isa_map(args) && cbor_map_size(args) == 0);
		CHECK(hwg_cbor_bytes(hwg_cbor_map_get(p1, "nonce", NULL), &a, &n1) == 0 &&
		      hwg_cbor_bytes(hwg_cbor_map_get(p2, "nonce", NULL), &b, &n2) == 0 &&
		      n1 == 32 && n2 == 32 && memcmp(a, b, 32) != 0);
	}
	if (p1 != NULL)
		cbor_decref(&p1);
	if (p2 != NULL)
		cbor_decref(&p2);
	free(r1);
	free(r2);
}

static void
test_request_overrides_honoured(void)
{
	static const uint8_t nonce[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	static const uint8_t sess[20] = {0xaa, 0xbb};
	struct hwgw_request_opts o = {.time_ms = 1234,
	                              .nonce = nonce,
	                              .nonce_len = sizeof(nonce),
	                              .audience = "another-gw",
	                              .client_id = "impostor",
	                              .version = 2,
	                              .session = sess,
	                              .session_len = sizeof(sess)};
	static const char *const order[] = {"v", "op", "aud", "cid", "t", "nonce", "sess", "args"};
	struct hwg_error err = {0};
	uint8_t *req = NULL;
	size_t len = 0, n = 0;
	const uint8_t *p;
	uint64_t v = 0;
	cbor_item_t *m;
	int alg;

	CHECK_EQ_INT(hwgw_request_build(ctx, "gw.info", NULL, &o, &req, &len, &err), 0);
	m = open_request(req, len, client_key, &alg);
	CHECK(m != NULL);
	if (m != NULL) {
		CHECK_EQ_INT(cbor_map_size(m), 8);
		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
			CHECK(key_at(m, i, order[i]));
		CHECK(hwg_cbor_uint(hwg_cbor_map_get(m, "v", NULL), &v) == 0 && v == 2);
		CHECK(hwg_cbor_uint(hwg_cbor_map_get(m, "t", NULL), &v) == 0 && v == 1234);
		CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(m, "aud", NULL), "another-gw"));
		CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(m, "cid", NULL), "impostor"));
		CHECK(hwg_cbor_bytes(hwg_cbor_map_get(m, "nonce", NULL), &p, &n) == 0 &&
		      n == sizeof(nonce) && memcmp(p, nonce, n) == 0);
		CHECK(hwg_cbor_bytes(hwg_cbor_map_get(m, "sess", NULL), &p, &n) == 0 &&
		      n == sizeof(sess) && memcmp(p, sess, n) == 0);
		cbor_decref(&m);
	}
	free(req);
}

static void
test_request_p256_client(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct hwgw_ctx *c = NULL;
	struct hwg_error err = {0};
	uint8_t *req = NULL;
	size_t len = 0;
	cbor_item_t *m;
	int alg = 0;

	CHECK_EQ_INT(hwgw_ctx_new("issuance-2", "gw-1", k, gw_key, &c, &err), 0);
	CHECK_EQ_INT(hwgw_request_build(c, "device.list", NULL, NULL, &req, &len, &err), 0);
	m = open_request(req, len, k, &alg);
	CHECK(m != NULL);
	CHECK_EQ_INT(alg, HWG_COSE_ES256);
	if (m != NULL)
		cbor_decref(&m);
	free(req);
	hwgw_ctx_free(c);
	EVP_PKEY_free(k);
}

static void
test_request_refusals(void)
{
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	struct hwg_error err = {0};
	struct hwgw_ctx *c = NULL;
	cbor_item_t *arr = cbor_new_definite_array(0);
	uint8_t *req = NULL;
	size_t len = 0;

	CHECK_EQ_INT(hwgw_ctx_new("has space", "gw-1", client_key, gw_key, &c, &err),
	             HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_ctx_new("", "gw-1", client_key, gw_key, &c, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_ctx_new("c", "", client_key, gw_key, &c, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_ctx_new("c", "gw-1", NULL, gw_key, &c, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_ctx_new("c", "gw-1", rsa, gw_key, &c, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_ctx_new("c", "gw-1", p384, gw_key, &c, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_ctx_new("c", "gw-1", client_key, rsa, &c, &err), HWG_E_INVALID);
	CHECK(c == NULL);
	CHECK_EQ_INT(hwgw_request_build(ctx, "gw.info", arr, NULL, &req, &len, &err),
	             HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_request_build(ctx, "", NULL, NULL, &req, &len, &err), HWG_E_INVALID);
	CHECK(req == NULL);
	cbor_decref(&arr);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p384);
}

/* ---------------------------------------------------------------- responses */

static const uint8_t the_request[] = "the request bytes";

/* The start of a response payload: "v", "req" (SHA-256 of req), "t". */
static cbor_item_t *
payload(uint64_t version, const uint8_t *req, size_t req_len)
{
	cbor_item_t *m = cbor_new_indefinite_map();
	uint8_t h[32];

	SHA256(req, req_len, h);
	hwg_cbor_map_put_uint(m, "v", version);
	hwg_cbor_map_put_bytes(m, "req", h, sizeof(h));
	hwg_cbor_map_put_uint(m, "t", 1700000000123);
	return m;
}

static uint8_t *
sign_bytes(EVP_PKEY *signer, const uint8_t *p, size_t plen, size_t *len)
{
	struct hwg_error err = {0};
	uint8_t *out = NULL;

	if (hwg_cose_sign1_encode(hwg_cose_alg_for_key(signer), p, plen, hwg_cose_evp_signer,
	                          signer, &out, len, &err) != 0)
		return NULL;
	return out;
}

static cbor_item_t *
definite(const cbor_item_t *m)
{
	cbor_item_t *d = cbor_new_definite_map(cbor_map_size(m));

	for (size_t i = 0; i < cbor_map_size(m); i++)
		cbor_map_add(d, cbor_map_handle(m)[i]);
	return d;
}

/* Payloads are built as indefinite maps (any number of keys) and sent definite, as hwgwd does. */
static uint8_t *
sign_map(EVP_PKEY *signer, cbor_item_t *m, size_t *len)
{
	cbor_item_t *d = definite(m);
	unsigned char *p = NULL;
	size_t cap = 0, plen = cbor_serialize_alloc(d, &p, &cap);
	uint8_t *out = sign_bytes(signer, p, plen, len);

	cbor_decref(&d);
	cbor_decref(&m);
	free(p);
	return out;
}

static cbor_item_t *
error_map(const char *code, const char *msg)
{
	cbor_item_t *e = cbor_new_definite_map(2);

	if (code != NULL)
		hwg_cbor_map_put_text(e, "code", code);
	if (msg != NULL)
		hwg_cbor_map_put_text(e, "msg", msg);
	return e;
}

static cbor_item_t *
result_map(void)
{
	cbor_item_t *r = cbor_new_definite_map(2), *a = cbor_new_definite_array(2);

	hwg_cbor_map_put_text(r, "gateway_id", "gw-1");
	cbor_array_push(a, cbor_move(cbor_build_uint8(1)));
	cbor_array_push(a, cbor_move(cbor_build_uint8(2)));
	hwg_cbor_map_put_item(r, "list", a);
	return r;
}

/* Verify resp (freed here) as the answer to the_request. */
static int
verify(uint8_t *resp, size_t resp_len, struct hwgw_response *r, struct hwg_error *err)
{
	int rc =
	    hwgw_response_verify(ctx, the_request, sizeof(the_request), resp, resp_len, r, err);

	free(resp);
	return rc;
}

static int
verify_map(EVP_PKEY *signer, cbor_item_t *m, struct hwgw_response *r, struct hwg_error *err)
{
	size_t len = 0;
	uint8_t *resp = sign_map(signer, m, &len);

	return verify(resp, len, r, err);
}

/* Expect a refusal whose message mentions what. */
static void
expect_refused(uint8_t *resp, size_t len, const char *what, int line)
{
	struct hwgw_response r;
	struct hwg_error err = {0};
	int rc = verify(resp, len, &r, &err);

	if (rc != HWG_E_BAD_RESPONSE || r.result != NULL || r.error_code[0] != '\0' ||
	    strstr(err.message, what) == NULL) {
		fprintf(stderr, "  FAIL line %d: rc %d, message \"%s\", expected \"%s\"\n", line,
		        rc, err.message, what);
		hwg_test_cur_failed = 1;
	}
	hwgw_response_clear(&r);
}
#define EXPECT_REFUSED(resp, len, what) expect_refused(resp, len, what, __LINE__)

static void
expect_refused_map(EVP_PKEY *signer, cbor_item_t *m, const char *what, int line)
{
	size_t len = 0;
	uint8_t *resp = sign_map(signer, m, &len);

	expect_refused(resp, len, what, line);
}
#define EXPECT_REFUSED_MAP(signer, m, what) expect_refused_map(signer, m, what, __LINE__)

static void
expect_refused_bytes(const uint8_t *p, size_t plen, const char *what, int line)
{
	size_t len = 0;
	uint8_t *resp = sign_bytes(gw_key, p, plen, &len);

	expect_refused(resp, len, what, line);
}
#define EXPECT_REFUSED_BYTES(p, plen, what) expect_refused_bytes(p, plen, what, __LINE__)

static void
test_good_ok_response(void)
{
	struct hwgw_response r;
	struct hwg_error err = {0};
	cbor_item_t *m = payload(1, the_request, sizeof(the_request));
	size_t len = 0;
	uint8_t *resp;

	hwg_cbor_map_put_item(m, "ok", result_map());
	resp = sign_map(gw_key, m, &len);
	CHECK_EQ_INT(verify(resp, len, &r, &err), 0);
	/* the result outlives the response bytes and the decoded message */
	CHECK(r.result != NULL && cbor_isa_map(r.result));
	CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(r.result, "gateway_id", NULL), "gw-1"));
	CHECK(cbor_array_size(hwg_cbor_map_get(r.result, "list", NULL)) == 2);
	CHECK_EQ_INT(r.time_ms, 1700000000123);
	CHECK_EQ_STR(r.error_code, "");
	hwgw_response_clear(&r);
	CHECK(r.result == NULL);
	hwgw_response_clear(&r); /* twice is harmless */
	hwgw_response_clear(NULL);
}

static void
test_good_err_response(void)
{
	struct hwgw_response r;
	struct hwg_error err = {0};
	cbor_item_t *m = payload(1, the_request, sizeof(the_request));
	char longmsg[600];

	hwg_cbor_map_put_item(m, "err", error_map("forbidden", "not for your role"));
	CHECK_EQ_INT(verify_map(gw_key, m, &r, &err), 0);
	CHECK(r.result == NULL);
	CHECK_EQ_STR(r.error_code, "forbidden");
	CHECK_EQ_STR(r.error_message, "not for your role");
	hwgw_response_clear(&r);

	/* a long message is cut at a character boundary (253 = 1 + 3 * 84 bytes), not refused */
	memset(longmsg, 0, sizeof(longmsg));
	longmsg[0] = 'x';
	for (size_t i = 1; i + 3 < 400; i += 3)
		memcpy(longmsg + i, "\xe6\x97\xa5", 3); /* 日 */
	m = payload(1, the_request, sizeof(the_request));
	hwg_cbor_map_put_item(m, "err", error_map("internal", longmsg));
	CHECK_EQ_INT(verify_map(gw_key, m, &r, &err), 0);
	CHECK_EQ_STR(r.error_code, "internal");
	CHECK(strlen(r.error_message) == 253);
	CHECK(strncmp(r.error_message, longmsg, 253) == 0);
	hwgw_response_clear(&r);
}

static void
test_unread_refusals_only_for_their_codes(void)
{
	struct hwgw_response r;
	struct hwg_error err = {0};
	cbor_item_t *m;

	m = payload(1, (const uint8_t *)"", 0);
	hwg_cbor_map_put_item(m, "err", error_map("too_large", "over 65536 bytes"));
	CHECK_EQ_INT(verify_map(gw_key, m, &r, &err), 0);
	CHECK_EQ_STR(r.error_code, "too_large");
	hwgw_response_clear(&r);
	m = payload(1, (const uint8_t *)"", 0);
	hwg_cbor_map_put_item(m, "err", error_map("origin_not_allowed", "no"));
	CHECK_EQ_INT(verify_map(gw_key, m, &r, &err), 0);
	CHECK_EQ_STR(r.error_code, "origin_not_allowed");
	hwgw_response_clear(&r);
	/* any other answer naming "no bytes" is not an answer to our request */
	m = payload(1, (const uint8_t *)"", 0);
	hwg_cbor_map_put_item(m, "err", error_map("forbidden", "no"));
	EXPECT_REFUSED_MAP(gw_key, m, "another request");
	m = payload(1, (const uint8_t *)"", 0);
	hwg_cbor_map_put_item(m, "ok", result_map());
	EXPECT_REFUSED_MAP(gw_key, m, "another request");
}

static void
test_refused_signatures(void)
{
	cbor_item_t *m;
	uint8_t *resp;
	size_t len = 0;
	struct hwgw_ctx *blind = NULL;
	struct hwgw_response r;
	struct hwg_error err = {0};

	m = payload(1, the_request, sizeof(the_request));
	hwg_cbor_map_put_item(m, "ok", result_map());
	EXPECT_REFUSED_MAP(other_key, m, "not signed by the gateway key");

	m = payload(1, the_request, sizeof(the_request));
	hwg_cbor_map_put_item(m, "ok", result_map());
	EXPECT_REFUSED_MAP(client_key, m, "not signed by the gateway key");

	m = payload(1, the_request, sizeof(the_request));
	hwg_cbor_map_put_item(m, "ok", result_map());
	resp = sign_map(gw_key, m, &len);
	resp[len - 1] ^= 0x01; /* signature */
	EXPECT_REFUSED(resp, len, "not signed by the gateway key");

	m = payload(1, the_request, sizeof(the_request));
	hwg_cbor_map_put_item(m, "ok", result_map());
	resp = sign_map(gw_key, m, &len);
	resp[len - 64 - 3] ^= 0x01; /* last payload byte */
	EXPECT_REFUSED(resp, len, "not signed by the gateway key");

	resp = malloc(3);
	memcpy(resp, "\xa1\x01\x02", 3);
	EXPECT_REFUSED(resp, 3, "not a COSE_Sign1");
	EXPECT_REFUSED(NULL, 0, "empty response");

	/* a context without a gateway key cannot accept anything */
	CHECK_EQ_INT(hwgw_ctx_new("counter01", "gw-1", client_key, NULL, &blind, &err), 0);
	m = payload(1, the_request, sizeof(the_request));
	hwg_cbor_map_put_item(m, "ok", result_map());
	resp = sign_map(gw_key, m, &len);
	CHECK_EQ_INT(
	    hwgw_response_verify(blind, the_request, sizeof(the_request), resp, len, &r, &err),
	    HWG_E_BAD_RESPONSE);
	CHECK(r.result == NULL);
	free(resp);
	hwgw_ctx_free(blind);
}

static void
test_refused_payloads(void)
{
	static const uint8_t other[] = "another request";
	cbor_item_t *m, *e;
	unsigned char *p = NULL;
	size_t plen, cap = 0;
	uint8_t h[32];

	/* the hash of a different request */
	m = payload(1, other, sizeof(other));
	hwg_cbor_map_put_item(m, "ok", result_map());
	EXPECT_REFUSED_MAP(gw_key, m, "answers another request");

	/* the request hash with one byte less (a prefix of our request) */
	m = payload(1, the_request, sizeof(the_request) - 1);
	hwg_cbor_map_put_item(m, "ok", result_map());
	EXPECT_REFUSED_MAP(gw_key, m, "answers another request");

	/* no "req" */
	m = cbor_new_indefinite_map();
	hwg_cbor_map_put_uint(m, "v", 1);
	hwg_cbor_map_put_uint(m, "t", 1);
	hwg_cbor_map_put_item(m, "ok", result_map());
	EXPECT_REFUSED_MAP(gw_key, m, "no \"req\"");

	/* "req" of 31 bytes, and as text */
	SHA256(the_request, sizeof(the_request), h);
	m = cbor_new_indefinite_map();
	hwg_cbor_map_put_uint(m, "v", 1);
	hwg_cbor_map_put_bytes(m, "req", h, 31);
	hwg_cbor_map_put_uint(m, "t", 1);
	hwg_cbor_map_put_item(m, "ok", result_map());
	EXPECT_REFUSED_MAP(gw_key, m, "not a 32-byte string");

	/* both "ok" and "err", and neither */
	m = payload(1, the_request, sizeof(the_request));
	hwg_cbor_map_put_item(m, "ok", result_map());
	hwg_cbor_map_put_item(m, "err", error_map("internal", "x"));
	EXPECT_REFUSED_MAP(gw_key, m, "both \"ok\" and \"err\"");
	m = payload(1, the_request, sizeof(the_request));
	EXPECT_REFUSED_MAP(gw_key, m, "neither \"ok\" nor \"err\"");

	/* version 2, version missing */
	m = payload(2, the_request, sizeof(the_request));
	hwg_cbor_map_put_item(m, "ok", result_map());
	EXPECT_REFUSED_MAP(gw_key, m, "\"v\" is not 1");
	m = cbor_new_indefinite_map();
	hwg_cbor_map_put_bytes(m, "req", h, 32);
	hwg_cbor_map_put_uint(m, "t", 1);
	hwg_cbor_map_put_item(m, "ok", result_map());
	EXPECT_REFUSED_MAP(gw_key, m, "no \"v\"");

	/* "t" missing, "t" negative */
	m = cbor_new_indefinite_map();
	hwg_cbor_map_put_uint(m, "v", 1);
	hwg_cbor_map_put_bytes(m, "req", h, 32);
	hwg_cbor_map_put_item(m, "ok", result_map());
	EXPECT_REFUSED_MAP(gw_key, m, "\"t\"");
	m = cbor_new_indefinite_map();
	hwg_cbor_map_put_uint(m, "v", 1);
	hwg_cbor_map_put_bytes(m, "req", h, 32);
	hwg_cbor_map_put_item(m, "t", cbor_build_negint8(0));
	hwg_cbor_map_put_item(m, "ok", result_map());
	EXPECT_REFUSED_MAP(gw_key, m, "\"t\"");

	/* an unknown key; a repeated key */
	m = payload(1, the_request, sizeof(the_request));
	hwg_cbor_map_put_item(m, "ok", result_map());
	hwg_cbor_map_put_text(m, "note", "extra");
	EXPECT_REFUSED_MAP(gw_key, m, "\"note\" unknown");
	m = payload(1, the_request, sizeof(the_request));
	hwg_cbor_map_put_uint(m, "t", 2);
	hwg_cbor_map_put_item(m, "ok", result_map());
	EXPECT_REFUSED_MAP(gw_key, m, "\"t\" unknown, repeated");

	/* malformed "err": no msg, code not text, code not a word, not a map, extra key */
	m = payload(1, the_request, sizeof(the_request));
	hwg_cbor_map_put_item(m, "err", error_map("forbidden", NULL));
	EXPECT_REFUSED_MAP(gw_key, m, "no text \"msg\"");
	m = payload(1, the_request, sizeof(the_request));
	e = cbor_new_definite_map(2);
	hwg_cbor_map_put_uint(e, "code", 11);
	hwg_cbor_map_put_text(e, "msg", "x");
	hwg_cbor_map_put_item(m, "err", e);
	EXPECT_REFUSED_MAP(gw_key, m, "\"code\"");
	m = payload(1, the_request, sizeof(the_request));
	hwg_cbor_map_put_item(m, "err", error_map("\x1b[2Jgotcha", "x"));
	EXPECT_REFUSED_MAP(gw_key, m, "\"code\"");
	m = payload(1, the_request, sizeof(the_request));
	hwg_cbor_map_put_text(m, "err", "forbidden");
	EXPECT_REFUSED_MAP(gw_key, m, "\"err\" is not a map");
	m = payload(1, the_request, sizeof(the_request));
	e = cbor_new_definite_map(3);
	hwg_cbor_map_put_text(e, "code", "forbidden");
	hwg_cbor_map_put_text(e, "msg", "x");
	hwg_cbor_map_put_text(e, "detail", "y");
	hwg_cbor_map_put_item(m, "err", e);
	EXPECT_REFUSED_MAP(gw_key, m, "\"detail\"");

	/* payload not a map; payload with trailing bytes; payload not CBOR */
	EXPECT_REFUSED_BYTES((const uint8_t *)"\x01", 1, "not a map");
	m = payload(1, the_request, sizeof(the_request));
	hwg_cbor_map_put_item(m, "ok", result_map());
	e = definite(m);
	cbor_decref(&m);
	plen = cbor_serialize_alloc(e, &p, &cap);
	cbor_decref(&e);
	{
		uint8_t *t = calloc(1, plen + 1); /* the map, then one byte 0x00 */

		memcpy(t, p, plen);
		EXPECT_REFUSED_BYTES(t, plen + 1, "trailing bytes");
		free(t);
	}
	free(p);
	EXPECT_REFUSED_BYTES((const uint8_t *)"\xbf\x61", 2, "response payload");
}

/* ---------------------------------------------------------------- keys */

static void
file_has(const char *path, const char *text, int *yes)
{
	char buf[256] = "";
	FILE *f = fopen(path, "re");

	*yes = 0;
	if (f == NULL)
		return;
	if (fgets(buf, sizeof(buf), f) != NULL)
		*yes = strstr(buf, text) != NULL;
	fclose(f);
}

static void
test_key_files(void)
{
	char priv[256], pub[256], other_pub[256];
	struct hwg_error err = {0};
	struct stat st;
	EVP_PKEY *k = NULL, *loaded = NULL;
	mode_t old = umask(0); /* the modes must not depend on the caller's umask */
	int yes;

	snprintf(priv, sizeof(priv), "%s/c.key", tmpdir);
	snprintf(pub, sizeof(pub), "%s/c.pub", tmpdir);
	snprintf(other_pub, sizeof(other_pub), "%s/d.pub", tmpdir);
	CHECK_EQ_INT(hwgw_key_generate(HWG_COSE_ES256, &k, &err), 0);
	CHECK_EQ_INT(hwg_cose_alg_for_key(k), HWG_COSE_ES256);
	CHECK_EQ_INT(hwgw_key_save(k, priv, pub, &err), 0);
	CHECK(stat(priv, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(stat(pub, &st) == 0 && (st.st_mode & 07777) == 0644);
	file_has(priv, "-----BEGIN " "PRIVATE KEY-----", &yes); /* PKCS#8 */
	CHECK(yes);
	file_has(pub, "-----BEGIN PUBLIC KEY-----", &yes); /* SubjectPublicKeyInfo */
	CHECK(yes);
	CHECK_EQ_INT(hwgw_key_load_private(priv, &loaded, &err), 0);
	CHECK(loaded != NULL && EVP_PKEY_eq(loaded, k) == 1);
	EVP_PKEY_free(loaded);
	loaded = NULL;
	CHECK_EQ_INT(hwgw_key_load_public(pub, &loaded, &err), 0);
	CHECK(loaded != NULL && EVP_PKEY_eq(loaded, k) == 1);
	EVP_PKEY_free(loaded);
	loaded = NULL;

	/* never overwritten: the old key stays as it was */
	CHECK_EQ_INT(hwgw_key_save(client_key, priv, other_pub, &err), HWG_E_EXISTS);
	CHECK(access(other_pub, F_OK) != 0);
	CHECK_EQ_INT(hwgw_key_load_private(priv, &loaded, &err), 0);
	CHECK(loaded != NULL && EVP_PKEY_eq(loaded, k) == 1);
	EVP_PKEY_free(loaded);
	loaded = NULL;
	/* the public file exists: the new private file is not left behind */
	snprintf(priv, sizeof(priv), "%s/e.key", tmpdir);
	CHECK_EQ_INT(hwgw_key_save(client_key, priv, pub, &err), HWG_E_EXISTS);
	CHECK(access(priv, F_OK) != 0);

	/* Ed25519 too; and the refusals */
	EVP_PKEY_free(k);
	k = NULL;
	CHECK_EQ_INT(hwgw_key_generate(HWG_COSE_EDDSA, &k, &err), 0);
	CHECK_EQ_INT(hwg_cose_alg_for_key(k), HWG_COSE_EDDSA);
	EVP_PKEY_free(k);
	k = NULL;
	CHECK_EQ_INT(hwgw_key_generate(-35, &k, &err), HWG_E_INVALID);
	snprintf(priv, sizeof(priv), "%s/missing.key", tmpdir);
	CHECK_EQ_INT(hwgw_key_load_private(priv, &loaded, &err), HWG_E_NOT_FOUND);
	CHECK_EQ_INT(hwgw_key_load_private(pub, &loaded, &err), HWG_E_INVALID);
	CHECK(loaded == NULL);
	umask(old);
}

static void
test_key_with_passphrase_refused_without_prompt(void)
{
	char path[256];
	struct hwg_error err = {0};
	EVP_PKEY *loaded = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/enc.key", tmpdir);
	f = fopen(path, "we");
	REQUIRE(f != NULL);
	CHECK(PEM_write_PKCS8PrivateKey(f, client_key, EVP_aes_256_cbc(), "secret", 6, NULL,
	                                NULL) == 1);
	fclose(f);
	CHECK_EQ_INT(hwgw_key_load_private(path, &loaded, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "passphrase") != NULL);
	CHECK(loaded == NULL);
}

/* ---------------------------------------------------------------- JSON */

/* JSON -> CBOR -> JSON gives the same document back. */
static void
round_trip(const char *json, int line)
{
	struct hwg_error err = {0};
	cbor_item_t *c = NULL;
	char *back = NULL;
	json_t *a = json_loads(json, 0, NULL), *b = NULL;

	if (hwgw_json_to_cbor(json, &c, &err) != 0 || hwgw_cbor_to_json(c, &back, &err) != 0 ||
	    (b = json_loads(back, 0, NULL)) == NULL || !json_equal(a, b)) {
		fprintf(stderr, "  FAIL line %d: %s -> %s (%s)\n", line, json,
		        back != NULL ? back : "(none)", err.message);
		hwg_test_cur_failed = 1;
	}
	json_decref(a);
	json_decref(b);
	free(back);
	if (c != NULL)
		cbor_decref(&c);
}
#define ROUND_TRIP(json) round_trip(json, __LINE__)

static char *
nested(int depth)
{
	char *s = malloc((size_t)depth * 8 + 16);
	size_t n = 0;

	for (int i = 0; i < depth; i++)
		n += (size_t)sprintf(s + n, i % 2 == 0 ? "{\"a\":" : "[");
	n += (size_t)sprintf(s + n, "1");
	for (int i = depth - 1; i >= 0; i--)
		s[n++] = i % 2 == 0 ? '}' : ']';
	s[n] = '\0';
	return s;
}

static void
test_json_to_cbor(void)
{
	struct hwg_error err = {0};
	cbor_item_t *c = NULL;
	const uint8_t *p;
	size_t n;
	char *deep;

	ROUND_TRIP("{}");
	ROUND_TRIP("{\"a\":[1,-2,true,false,null,\"x\"],\"b\":{\"c\":\"hex:00ff\",\"d\":{}}}");
	ROUND_TRIP("{\"name\":\"\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e\",\"n\":"
	           "9223372036854775807,\"m\":-9223372036854775808,\"e\":\"hex:\"}");
	ROUND_TRIP("{\"list\":[[[]],[{}],{\"k\":[\"hex:0a0b\"]}]}");

	CHECK_EQ_INT(hwgw_json_to_cbor("{\"b\":{\"c\":\"hex:00FF\"},\"t\":\"hex\"}", &c, &err), 0);
	CHECK(c != NULL && cbor_isa_map(c));
	if (c != NULL) {
		CHECK(hwg_cbor_bytes(hwg_cbor_map_get(hwg_cbor_map_get(c, "b", NULL), "c", NULL),
		                     &p, &n) == 0 &&
		      n == 2 && p[0] == 0x00 && p[1] == 0xff);
		CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(c, "t", NULL), "hex"));
		cbor_decref(&c);
	}

	deep = nested(32);
	CHECK_EQ_INT(hwgw_json_to_cbor(deep, &c, &err), 0);
	if (c != NULL)
		cbor_decref(&c);
	free(deep);
	deep = nested(33);
	CHECK_EQ_INT(hwgw_json_to_cbor(deep, &c, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "deeper than 32") != NULL);
	free(deep);

	CHECK_EQ_INT(hwgw_json_to_cbor("{\"a\":[0, {\"x\": 1.5}]}", &c, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "real numbers") != NULL &&
	      strstr(err.message, ".a[1].x") != NULL);
	CHECK_EQ_INT(hwgw_json_to_cbor("{\"x\": 1e3}", &c, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_json_to_cbor("[1]", &c, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_json_to_cbor("\"hex:00\"", &c, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_json_to_cbor("{\"x\": \"hex:0g\"}", &c, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_json_to_cbor("{\"x\": \"hex:abc\"}", &c, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_json_to_cbor("{\"x\":1,\"x\":2}", &c, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_json_to_cbor("{\"x\":1} trailing", &c, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_json_to_cbor("{\"x\":", &c, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "line 1") != NULL);
	CHECK_EQ_INT(hwgw_json_to_cbor(NULL, &c, &err), HWG_E_INVALID);
	CHECK(c == NULL);
}

static char *
render(cbor_item_t *item, int *rc)
{
	struct hwg_error err = {0};
	char *s = NULL;

	*rc = hwgw_cbor_to_json(item, &s, &err);
	cbor_decref(&item);
	return s;
}

static void
test_cbor_to_json(void)
{
	cbor_item_t *m, *tag, *chunked, *deep;
	char *s;
	int rc;

	/* byte strings, tags, big integers, non-text keys, floats, simple values */
	m = cbor_new_definite_map(9);
	hwg_cbor_map_put_bytes(m, "b", (const uint8_t *)"\x01\xab", 2);
	tag = cbor_build_tag(1, cbor_move(cbor_build_uint32(1700000000)));
	hwg_cbor_map_put_item(m, "when", tag);
	hwg_cbor_map_put_uint(m, "big", UINT64_MAX);
	hwg_cbor_map_put_item(m, "small", cbor_build_negint64(UINT64_MAX));
	cbor_map_add(m, (struct cbor_pair){.key = cbor_move(cbor_build_uint8(7)),
	                                   .value = cbor_move(cbor_build_string("seven"))});
	cbor_map_add(m, (struct cbor_pair){
	                    .key = cbor_move(cbor_build_bytestring((const uint8_t *)"\xff", 1)),
	                    .value = cbor_move(cbor_build_bool(true))});
	hwg_cbor_map_put_item(m, "half", cbor_build_float4(0.5f));
	hwg_cbor_map_put_item(m, "undef", cbor_new_undef());
	chunked = cbor_new_indefinite_string();
	cbor_string_add_chunk(chunked, cbor_move(cbor_build_string("ab")));
	cbor_string_add_chunk(chunked, cbor_move(cbor_build_string("cd")));
	hwg_cbor_map_put_item(m, "chunked", chunked);
	s = render(m, &rc);
	CHECK_EQ_INT(rc, 0);
	if (s != NULL) {
		json_t *j = json_loads(s, 0, NULL);

		CHECK(j != NULL);
		CHECK_EQ_STR(json_string_value(json_object_get(j, "b")), "hex:01ab");
		CHECK(json_integer_value(json_object_get(j, "when")) == 1700000000);
		CHECK_EQ_STR(json_string_value(json_object_get(j, "big")), "18446744073709551615");
		CHECK_EQ_STR(json_string_value(json_object_get(j, "small")),
		             "-18446744073709551616");
		CHECK_EQ_STR(json_string_value(json_object_get(j, "7")), "seven");
		CHECK(json_is_true(json_object_get(j, "hex:ff")));
		CHECK(json_real_value(json_object_get(j, "half")) == 0.5);
		CHECK(json_is_null(json_object_get(j, "undef")));
		CHECK_EQ_STR(json_string_value(json_object_get(j, "chunked")), "abcd");
		CHECK(strstr(s, "\n  \"b\": \"hex:01ab\"") != NULL); /* indented, in order */
		json_decref(j);
		free(s);
	}

	/* a scalar result is still JSON */
	s = render(cbor_build_string("just text"), &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(s, "\"just text\"");
	free(s);

	/* refusals: invalid UTF-8, a repeated key, nesting deeper than 32 */
	m = cbor_new_definite_map(1);
	hwg_cbor_map_put_item(m, "t", cbor_build_stringn("\xff\xfe", 2));
	s = render(m, &rc);
	CHECK_EQ_INT(rc, HWG_E_INVALID);
	CHECK(s == NULL);
	m = cbor_new_definite_map(2);
	hwg_cbor_map_put_uint(m, "k", 1);
	hwg_cbor_map_put_uint(m, "k", 2);
	s = render(m, &rc);
	CHECK_EQ_INT(rc, HWG_E_INVALID);
	deep = cbor_build_uint8(0);
	for (int i = 0; i < 32; i++) {
		cbor_item_t *a = cbor_new_definite_array(1);

		cbor_array_push(a, cbor_move(deep));
		deep = a;
	}
	s = render(cbor_incref(deep), &rc);
	CHECK_EQ_INT(rc, 0);
	free(s);
	{
		cbor_item_t *a = cbor_new_definite_array(1);

		cbor_array_push(a, cbor_move(deep));
		s = render(a, &rc);
		CHECK_EQ_INT(rc, HWG_E_INVALID);
		CHECK(s == NULL);
	}
}

/* ---------------------------------------------------------------- in-test servers */

enum serve {
	SERVE_ECHO,        /* the framed request back */
	SERVE_EXACT_MAX,   /* a 1 MiB response */
	SERVE_TOO_LONG,    /* a length of 1 MiB + 1 */
	SERVE_ZERO,        /* a length of 0 */
	SERVE_CLOSE,       /* read the request, close */
	SERVE_SHORT,       /* announce 100 bytes, send 10, close */
	SERVE_SLOW_ECHO,   /* echo after 200 ms */
	HTTP_OK,           /* 200 with the request as body */
	HTTP_REFUSAL,      /* 401 with the request as body */
	HTTP_503_EMPTY,    /* 503, no body */
	HTTP_REDIRECT,     /* 302 elsewhere, no body */
	HTTP_BIG_DECLARED, /* Content-Length over 1 MiB */
	HTTP_BIG_STREAMED, /* no length, more than 1 MiB until close */
};

struct server {
	enum serve how;
	int lfd;
	pthread_t thread;
	char path[108];
	int port;
	char head[8192]; /* HTTP request head as received */
	uint8_t *body;
	size_t body_len;
};

static int
read_full(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t r = recv(fd, p, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
write_full(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n > 0) {
		ssize_t r = send(fd, p, n, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
accept_one(int lfd)
{
	struct pollfd pfd = {.fd = lfd, .events = POLLIN};

	if (poll(&pfd, 1, 10000) != 1)
		return -1;
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

static void
be32(uint8_t h[4], size_t n)
{
	h[0] = (uint8_t)(n >> 24);
	h[1] = (uint8_t)(n >> 16);
	h[2] = (uint8_t)(n >> 8);
	h[3] = (uint8_t)n;
}

static void *
unix_server(void *arg)
{
	struct server *s = arg;
	int fd = accept_one(s->lfd);
	uint8_t h[4], *big;
	size_t n;

	if (fd < 0)
		return NULL;
	if (read_full(fd, h, 4) != 0)
		goto out;
	n = ((size_t)h[0] << 24) | ((size_t)h[1] << 16) | ((size_t)h[2] << 8) | h[3];
	if ((s->body = malloc(n)) == NULL || read_full(fd, s->body, n) != 0)
		goto out;
	s->body_len = n;
	switch (s->how) {
	case SERVE_SLOW_ECHO:
		usleep(200 * 1000);
		/* fall through */
	case SERVE_ECHO:
		if (write_full(fd, h, 4) == 0)
			write_full(fd, s->body, n);
		break;
	case SERVE_EXACT_MAX:
		be32(h, MIB);
		big = calloc(1, MIB);
		if (big != NULL && write_full(fd, h, 4) == 0)
			write_full(fd, big, MIB);
		free(big);
		break;
	case SERVE_TOO_LONG:
		be32(h, MIB + 1);
		write_full(fd, h, 4);
		break;
	case SERVE_ZERO:
		be32(h, 0);
		write_full(fd, h, 4);
		break;
	case SERVE_SHORT:
		be32(h, 100);
		if (write_full(fd, h, 4) == 0)
			write_full(fd, "0123456789", 10);
		break;
	default:
		break;
	}
out:
	close(fd);
	return NULL;
}

static int
unix_server_start(struct server *s, enum serve how)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(s, 0, sizeof(*s));
	s->how = how;
	snprintf(s->path, sizeof(s->path), "%s/gw.sock", tmpdir);
	memcpy(sa.sun_path, s->path, strlen(s->path));
	unlink(s->path);
	if ((s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(s->lfd, 4) != 0 ||
	    pthread_create(&s->thread, NULL, unix_server, s) != 0)
		return -1;
	return 0;
}

static void
server_stop(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->lfd);
	if (s->path[0] != '\0')
		unlink(s->path);
	free(s->body);
}

static void
unix_exchange(enum serve how, int want_rc, const char *want_msg, size_t want_len, int line)
{
	static const uint8_t req[] = "a framed request";
	struct server s;
	struct hwg_error err = {0};
	uint8_t *resp = NULL;
	size_t resp_len = 0;
	int rc;

	if (unix_server_start(&s, how) != 0) {
		fprintf(stderr, "  FAIL line %d: cannot start the server\n", line);
		hwg_test_cur_failed = 1;
		return;
	}
	rc = hwgw_send_unix(s.path, req, sizeof(req), &resp, &resp_len, &err);
	server_stop(&s);
	if (rc != want_rc || (want_msg != NULL && strstr(err.message, want_msg) == NULL) ||
	    (rc == 0 && resp_len != want_len) || (rc != 0 && resp != NULL)) {
		fprintf(stderr, "  FAIL line %d: rc %d (%s), %zu bytes\n", line, rc, err.message,
		        resp_len);
		hwg_test_cur_failed = 1;
	}
	if (how == SERVE_ECHO && rc == 0)
		CHECK(resp_len == sizeof(req) && memcmp(resp, req, sizeof(req)) == 0);
	free(resp);
}

static void
on_signal(int sig)
{
	(void)sig;
}

struct poker {
	pthread_t target;
	atomic_int stop;
};

/* Interrupt the target's system calls every 5 ms until told to stop. */
static void *
poke(void *arg)
{
	struct poker *p = arg;

	while (!atomic_load(&p->stop)) {
		pthread_kill(p->target, SIGUSR1);
		usleep(5000);
	}
	return NULL;
}

static void
test_unix_sender(void)
{
	struct hwg_error err = {0};
	uint8_t *resp = NULL;
	size_t resp_len = 0;
	char missing[256];

	unix_exchange(SERVE_ECHO, 0, NULL, sizeof("a framed request"), __LINE__);
	unix_exchange(SERVE_EXACT_MAX, 0, NULL, MIB, __LINE__);
	unix_exchange(SERVE_TOO_LONG, HWG_E_BAD_RESPONSE, "1048577 bytes refused", 0, __LINE__);
	unix_exchange(SERVE_ZERO, HWG_E_BAD_RESPONSE, "0 bytes refused", 0, __LINE__);
	unix_exchange(SERVE_CLOSE, HWG_E_IO, "closed the connection", 0, __LINE__);
	unix_exchange(SERVE_SHORT, HWG_E_IO, "cut short", 0, __LINE__);

	/* signals (no SA_RESTART) while waiting for the answer: the wait goes on */
	{
		struct sigaction sa = {.sa_handler = on_signal}, old;
		struct poker p = {.target = pthread_self()};
		pthread_t t;

		atomic_init(&p.stop, 0);
		CHECK(sigaction(SIGUSR1, &sa, &old) == 0);
		CHECK(pthread_create(&t, NULL, poke, &p) == 0);
		unix_exchange(SERVE_SLOW_ECHO, 0, NULL, sizeof("a framed request"), __LINE__);
		atomic_store(&p.stop, 1);
		pthread_join(t, NULL);
		sigaction(SIGUSR1, &old, NULL);
	}

	snprintf(missing, sizeof(missing), "%s/nobody-listens.sock", tmpdir);
	CHECK_EQ_INT(hwgw_send_unix(missing, (const uint8_t *)"x", 1, &resp, &resp_len, &err),
	             HWG_E_IO);
	CHECK(strstr(err.message, "cannot connect") != NULL);
	CHECK(resp == NULL);
}

static void *
http_server(void *arg)
{
	struct server *s = arg;
	int fd = accept_one(s->lfd);
	size_t got = 0, want = 0;
	char *end, *cl, hdr[512];
	uint8_t *big;

	if (fd < 0)
		return NULL;
	/* the head, then Content-Length bytes of body */
	while ((end = strstr(s->head, "\r\n\r\n")) == NULL && got < sizeof(s->head) - 1) {
		ssize_t r = recv(fd, s->head + got, sizeof(s->head) - 1 - got, 0);

		if (r <= 0)
			goto out;
		got += (size_t)r;
		s->head[got] = '\0';
	}
	if (end == NULL || (cl = strcasestr(s->head, "\r\ncontent-length:")) == NULL)
		goto out;
	want = strtoul(cl + 17, NULL, 10);
	if ((s->body = malloc(want + 1)) == NULL)
		goto out;
	s->body_len = got - (size_t)(end + 4 - s->head);
	if (s->body_len > want)
		goto out;
	memcpy(s->body, end + 4, s->body_len);
	if (read_full(fd, s->body + s->body_len, want - s->body_len) != 0)
		goto out;
	s->body_len = want;
	end[2] = '\0'; /* keep the head only */
	switch (s->how) {
	case HTTP_OK:
	case HTTP_REFUSAL:
		snprintf(hdr, sizeof(hdr),
		         "HTTP/1.1 %s\r\nContent-Type: application/cose\r\nContent-Length: "
		         "%zu\r\nConnection: close\r\n\r\n",
		         s->how == HTTP_OK ? "200 OK" : "401 Unauthorized", s->body_len);
		if (write_full(fd, hdr, strlen(hdr)) == 0)
			write_full(fd, s->body, s->body_len);
		break;
	case HTTP_503_EMPTY:
		snprintf(hdr, sizeof(hdr),
		         "HTTP/1.1 503 Service Unavailable\r\nContent-Length: "
		         "0\r\nConnection: close\r\n\r\n");
		write_full(fd, hdr, strlen(hdr));
		break;
	case HTTP_REDIRECT:
		snprintf(hdr, sizeof(hdr),
		         "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/elsewhere\r\n"
		         "Content-Length: 0\r\nConnection: close\r\n\r\n",
		         s->port);
		write_full(fd, hdr, strlen(hdr));
		break;
	case HTTP_BIG_DECLARED:
		snprintf(hdr, sizeof(hdr),
		         "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		         MIB + 1);
		write_full(fd, hdr, strlen(hdr));
		break;
	case HTTP_BIG_STREAMED:
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
		big = calloc(1, MIB + 4096);
		if (big != NULL && write_full(fd, hdr, strlen(hdr)) == 0)
			write_full(fd, big, MIB + 4096);
		free(big);
		break;
	default:
		break;
	}
out:
	close(fd);
	return NULL;
}

static int
http_server_start(struct server *s, enum serve how)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);

	memset(s, 0, sizeof(*s));
	s->how = how;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(s->lfd, 4) != 0 ||
	    getsockname(s->lfd, (struct sockaddr *)&sa, &sl) != 0)
		return -1;
	s->port = ntohs(sa.sin_port);
	if (pthread_create(&s->thread, NULL, http_server, s) != 0)
		return -1;
	return 0;
}

static int
http_exchange(enum serve how, const char *base_suffix, struct server *s, uint8_t **resp,
              size_t *resp_len, long *status, struct hwg_error *err)
{
	char url[128];
	int rc;

	if (http_server_start(s, how) != 0)
		return -999;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, base_suffix);
	rc = hwgw_send_http(url, "gw.info", the_request, sizeof(the_request), resp, resp_len,
	                    status, err);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	return rc;
}

static void
test_http_sender(void)
{
	struct server s;
	struct hwg_error err = {0};
	uint8_t *resp = NULL;
	size_t len = 0;
	long status = -1;

	/* a proxy from the environment is never used */
	setenv("http_proxy", "http://127.0.0.1:9", 1);
	setenv("HTTP_PROXY", "http://127.0.0.1:9", 1);

	CHECK_EQ_INT(http_exchange(HTTP_OK, "/", &s, &resp, &len, &status, &err), 0);
	CHECK_EQ_INT(status, 200);
	CHECK(len == sizeof(the_request) && resp != NULL && memcmp(resp, the_request, len) == 0);
	CHECK(strncmp(s.head, "POST /v1/gw.info HTTP/1.1\r\n", 27) == 0);
	CHECK(strcasestr(s.head, "\r\nContent-Type: application/cose\r\n") != NULL);
	CHECK(strcasestr(s.head, "\r\nAccept: application/cose\r\n") != NULL);
	CHECK(s.body_len == sizeof(the_request) && memcmp(s.body, the_request, s.body_len) == 0);
	free(s.body);
	free(resp);
	resp = NULL;

	/* a refusal still brings its signed body, and the status */
	CHECK_EQ_INT(http_exchange(HTTP_REFUSAL, "", &s, &resp, &len, &status, &err), 0);
	CHECK_EQ_INT(status, 401);
	CHECK(len == sizeof(the_request));
	free(s.body);
	free(resp);
	resp = NULL;

	CHECK_EQ_INT(http_exchange(HTTP_503_EMPTY, "", &s, &resp, &len, &status, &err),
	             HWG_E_UNAVAILABLE);
	CHECK_EQ_INT(status, 503);
	CHECK(resp == NULL);
	free(s.body);

	CHECK_EQ_INT(http_exchange(HTTP_REDIRECT, "", &s, &resp, &len, &status, &err), HWG_E_IO);
	CHECK_EQ_INT(status, 302);
	CHECK(strstr(err.message, "redirects are not followed") != NULL);
	free(s.body);

	CHECK_EQ_INT(http_exchange(HTTP_BIG_DECLARED, "", &s, &resp, &len, &status, &err),
	             HWG_E_BAD_RESPONSE);
	free(s.body);
	CHECK_EQ_INT(http_exchange(HTTP_BIG_STREAMED, "", &s, &resp, &len, &status, &err),
	             HWG_E_BAD_RESPONSE);
	CHECK(strstr(err.message, "over 1048576 bytes") != NULL);
	CHECK(resp == NULL);
	free(s.body);

	/* an operation name cannot change the URL; nobody listening is an I/O error */
	CHECK_EQ_INT(hwgw_send_http("http://127.0.0.1:9", "../admin?x", the_request,
	                            sizeof(the_request), &resp, &len, &status, &err),
	             HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_send_http("http://127.0.0.1:9", "gw.info", the_request,
	                            sizeof(the_request), &resp, &len, &status, &err),
	             HWG_E_IO);
	CHECK_EQ_INT(hwgw_send_http("file:///etc", "gw.info", the_request, sizeof(the_request),
	                            &resp, &len, &status, &err),
	             HWG_E_IO);
	CHECK(resp == NULL);
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
}

/* The whole path: request built, sent over the socket, answer signed by the "gateway", verified. */
static void *
signing_gateway(void *arg)
{
	struct server *s = arg;
	int fd = accept_one(s->lfd);
	uint8_t h[4], *resp;
	size_t n, len = 0;
	cbor_item_t *m;

	if (fd < 0)
		return NULL;
	if (read_full(fd, h, 4) == 0) {
		n = ((size_t)h[0] << 24) | ((size_t)h[1] << 16) | ((size_t)h[2] << 8) | h[3];
		if ((s->body = malloc(n)) != NULL && read_full(fd, s->body, n) == 0) {
			m = payload(1, s->body, n);
			hwg_cbor_map_put_item(m, "ok", result_map());
			if ((resp = sign_map(gw_key, m, &len)) != NULL) {
				be32(h, len);
				if (write_full(fd, h, 4) == 0)
					write_full(fd, resp, len);
				free(resp);
			}
		}
	}
	close(fd);
	return NULL;
}

static void
test_unix_round_trip_verified(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct server s;
	struct hwg_error err = {0};
	struct hwgw_response r;
	uint8_t *req = NULL, *resp = NULL;
	size_t req_len = 0, resp_len = 0;

	memset(&s, 0, sizeof(s));
	snprintf(s.path, sizeof(s.path), "%s/gw2.sock", tmpdir);
	memcpy(sa.sun_path, s.path, strlen(s.path));
	CHECK((s.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0 &&
	      bind(s.lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(s.lfd, 1) == 0 &&
	      pthread_create(&s.thread, NULL, signing_gateway, &s) == 0);
	CHECK_EQ_INT(hwgw_request_build(ctx, "gw.info", NULL, NULL, &req, &req_len, &err), 0);
	CHECK_EQ_INT(hwgw_send_unix(s.path, req, req_len, &resp, &resp_len, &err), 0);
	server_stop(&s);
	CHECK_EQ_INT(hwgw_response_verify(ctx, req, req_len, resp, resp_len, &r, &err), 0);
	CHECK(r.result != NULL);
	hwgw_response_clear(&r);
	/* the same answer does not verify for another request */
	free(req);
	req = NULL;
	CHECK_EQ_INT(hwgw_request_build(ctx, "gw.info", NULL, NULL, &req, &req_len, &err), 0);
	CHECK_EQ_INT(hwgw_response_verify(ctx, req, req_len, resp, resp_len, &r, &err),
	             HWG_E_BAD_RESPONSE);
	free(req);
	free(resp);
}

/* hwgwctl --session-file: hex as operator.verify shows it, or the raw bytes. */
static void
test_session_parse(void)
{
	static const char hex32[] =
	    "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
	uint8_t out[HWGW_SESSION_MAX], raw[20];
	char text[160];
	size_t n = 0;
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwgw_session_parse((const uint8_t *)hex32, 64, out, &n, &err), 0);
	CHECK_EQ_INT(n, 32);
	CHECK_EQ_INT(out[0], 0x00);
	CHECK_EQ_INT(out[1], 0x11);
	CHECK_EQ_INT(out[31], 0xff);
	/* as a file holds it: a newline, or hwgwctl's "hex:" JSON form */
	snprintf(text, sizeof(text), "%s\n", hex32);
	n = 0;
	CHECK_EQ_INT(hwgw_session_parse((const uint8_t *)text, strlen(text), out, &n, &err), 0);
	CHECK_EQ_INT(n, 32);
	snprintf(text, sizeof(text), "hex:%s \r\n", hex32);
	n = 0;
	CHECK_EQ_INT(hwgw_session_parse((const uint8_t *)text, strlen(text), out, &n, &err), 0);
	CHECK_EQ_INT(n, 32);
	CHECK_EQ_INT(out[16], 0x00);
	/* raw bytes: taken whole, trailing bytes and all */
	memset(raw, 0xfe, sizeof(raw));
	raw[19] = '\n';
	n = 0;
	CHECK_EQ_INT(hwgw_session_parse(raw, sizeof(raw), out, &n, &err), 0);
	CHECK_EQ_INT(n, 20);
	CHECK_EQ_INT(out[19], '\n');
	/* refused: too short or long either way, broken hex after the prefix */
	CHECK_EQ_INT(hwgw_session_parse(raw, 15, out, &n, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "16 to 64") != NULL);
	memset(text, 'a', 130);
	CHECK_EQ_INT(hwgw_session_parse((const uint8_t *)text, 130, out, &n, &err), HWG_E_INVALID);
	snprintf(text, sizeof(text), "hex:%.63s", hex32);
	CHECK_EQ_INT(hwgw_session_parse((const uint8_t *)text, strlen(text), out, &n, &err),
	             HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_session_parse((const uint8_t *)"hex:00zz00112233445566778899aabbccdd", 36,
	                                out, &n, &err),
	             HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_session_parse(NULL, 0, out, &n, &err), HWG_E_INVALID);
}

int
main(void)
{
	struct hwg_error err = {0};
	int rc;

	client_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	gw_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (client_key == NULL || gw_key == NULL || other_key == NULL || mkdtemp(tmpdir) == NULL ||
	    hwgw_ctx_new("counter01", "gw-1", client_key, gw_key, &ctx, &err) != 0) {
		fprintf(stderr, "set-up failed: %s\n", err.message);
		return 1;
	}
	HWG_RUN(test_request_has_every_field);
	HWG_RUN(test_request_defaults_and_fresh_nonce);
	HWG_RUN(test_request_overrides_honoured);
	HWG_RUN(test_request_p256_client);
	HWG_RUN(test_request_refusals);
	HWG_RUN(test_good_ok_response);
	HWG_RUN(test_good_err_response);
	HWG_RUN(test_unread_refusals_only_for_their_codes);
	HWG_RUN(test_refused_signatures);
	HWG_RUN(test_refused_payloads);
	HWG_RUN(test_key_files);
	HWG_RUN(test_key_with_passphrase_refused_without_prompt);
	HWG_RUN(test_json_to_cbor);
	HWG_RUN(test_cbor_to_json);
	HWG_RUN(test_unix_sender);
	HWG_RUN(test_http_sender);
	HWG_RUN(test_unix_round_trip_verified);
	HWG_RUN(test_session_parse);
	hwgw_ctx_free(ctx);
	EVP_PKEY_free(client_key);
	EVP_PKEY_free(gw_key);
	EVP_PKEY_free(other_key);
	rc = HWG_TEST_END();
	{
		char cmd[sizeof(tmpdir) + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return rc;
}
