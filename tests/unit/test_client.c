/*
 * test_client.c — libhwgw's half of the protocol: a response is shown
 * only if the gateway key signed it and it names our request; and the
 * JSON <-> CBOR conversion hwgwctl relies on.
 */
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_cbor.h"
#include "hwg_cose.h"
#include "hwg_test.h"
#include "hwgw.h"
#include "hwgw_json.h"

static EVP_PKEY *client_key, *gw_key, *other_key;
static struct hwgw_ctx *ctx;

/* A response as the gateway would sign it; hash_of NULL hashes zero bytes. */
static uint8_t *
response(EVP_PKEY *signer, const uint8_t *hash_of, size_t hash_len, int version, int with_ok,
	 const char *err_code, size_t *len)
{
	uint8_t h[32], *out = NULL, *payload = NULL;
	size_t cap = 0, plen;
	struct hwg_error err = {0};
	cbor_item_t *m = cbor_new_definite_map(5), *e;

	SHA256(hash_of != NULL ? hash_of : (const uint8_t *)"", hash_len, h);
	hwg_cbor_map_put_uint(m, "v", (uint64_t)version);
	hwg_cbor_map_put_bytes(m, "req", h, 32);
	hwg_cbor_map_put_uint(m, "t", 1);
	if (with_ok)
		hwg_cbor_map_put_text(m, "ok", "result");
	if (err_code != NULL) {
		e = cbor_new_definite_map(2);
		hwg_cbor_map_put_text(e, "code", err_code);
		hwg_cbor_map_put_text(e, "msg", "because");
		hwg_cbor_map_put_item(m, "err", e);
	}
	plen = cbor_serialize_alloc(m, &payload, &cap);
	cbor_decref(&m);
	hwg_cose_sign1_encode(hwg_cose_alg_for_key(signer), payload, plen, hwg_cose_evp_signer,
			      signer, &out, len, &err);
	free(payload);
	return out;
}

static int
verify(const uint8_t *req, size_t req_len, uint8_t *resp, size_t resp_len,
       struct hwgw_response *r)
{
	struct hwg_error err = {0};
	int rc = hwgw_response_verify(ctx, req, req_len, resp, resp_len, r, &err);

	free(resp);
	return rc;
}

static void
test_request_is_signed_and_complete(void)
{
	struct hwg_cose_sign1 m;
	struct hwg_error err = {0};
	uint8_t *req = NULL;
	size_t len = 0;
	cbor_item_t *p;
	const uint8_t *nonce;
	size_t nonce_len;

	CHECK_EQ_INT(hwgw_request_build(ctx, "gw.info", NULL, NULL, &req, &len, &err), 0);
	CHECK_EQ_INT(hwg_cose_sign1_decode(req, len, &m, &err), 0);
	CHECK_EQ_INT(hwg_cose_sign1_verify(&m, client_key, &err), 0);
	p = hwg_cbor_load(m.payload, m.payload_len, NULL);
	CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(p, "op", NULL), "gw.info"));
	CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(p, "aud", NULL), "gw-1"));
	CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(p, "cid", NULL), "counter01"));
	CHECK(hwg_cbor_bytes(hwg_cbor_map_get(p, "nonce", NULL), &nonce, &nonce_len) == 0 &&
	      nonce_len == 32);
	CHECK(hwg_cbor_map_get(p, "sess", NULL) == NULL);
	cbor_decref(&p);
	hwg_cose_sign1_clear(&m);
	free(req);
}

static void
test_good_responses_accepted(void)
{
	static const uint8_t req[] = "the request";
	struct hwgw_response r;
	size_t len;
	uint8_t *resp = response(gw_key, req, sizeof(req), 1, 1, NULL, &len);

	CHECK_EQ_INT(verify(req, sizeof(req), resp, len, &r), 0);
	CHECK(r.result != NULL && hwg_cbor_text_eq(r.result, "result"));
	hwgw_response_clear(&r);
	resp = response(gw_key, req, sizeof(req), 1, 0, "forbidden", &len);
	CHECK_EQ_INT(verify(req, sizeof(req), resp, len, &r), 0);
	CHECK(r.result == NULL);
	CHECK_EQ_STR(r.error_code, "forbidden");
	CHECK_EQ_STR(r.error_message, "because");
	hwgw_response_clear(&r);
}

static void
test_bad_responses_refused(void)
{
	static const uint8_t req[] = "the request", other[] = "another request";
	struct hwgw_response r;
	size_t len;
	uint8_t *resp;

	resp = response(other_key, req, sizeof(req), 1, 1, NULL, &len); /* wrong signer */
	CHECK_EQ_INT(verify(req, sizeof(req), resp, len, &r), HWG_E_BAD_RESPONSE);
	CHECK(r.result == NULL);
	resp = response(gw_key, other, sizeof(other), 1, 1, NULL, &len); /* another request */
	CHECK_EQ_INT(verify(req, sizeof(req), resp, len, &r), HWG_E_BAD_RESPONSE);
	resp = response(gw_key, req, sizeof(req), 2, 1, NULL, &len); /* version 2 */
	CHECK_EQ_INT(verify(req, sizeof(req), resp, len, &r), HWG_E_BAD_RESPONSE);
	resp = response(gw_key, req, sizeof(req), 1, 1, "internal", &len); /* ok and err */
	CHECK_EQ_INT(verify(req, sizeof(req), resp, len, &r), HWG_E_BAD_RESPONSE);
	resp = response(gw_key, req, sizeof(req), 1, 0, NULL, &len); /* neither */
	CHECK_EQ_INT(verify(req, sizeof(req), resp, len, &r), HWG_E_BAD_RESPONSE);
	resp = response(gw_key, req, sizeof(req), 1, 1, NULL, &len);
	resp[len - 1] ^= 1; /* signature */
	CHECK_EQ_INT(verify(req, sizeof(req), resp, len, &r), HWG_E_BAD_RESPONSE);
}

static void
test_unread_refusals_only_for_their_codes(void)
{
	static const uint8_t req[] = "the request";
	struct hwgw_response r;
	size_t len;
	uint8_t *resp;

	resp = response(gw_key, NULL, 0, 1, 0, "too_large", &len);
	CHECK_EQ_INT(verify(req, sizeof(req), resp, len, &r), 0);
	CHECK_EQ_STR(r.error_code, "too_large");
	hwgw_response_clear(&r);
	resp = response(gw_key, NULL, 0, 1, 0, "origin_not_allowed", &len);
	CHECK_EQ_INT(verify(req, sizeof(req), resp, len, &r), 0);
	hwgw_response_clear(&r);
	/* any other answer naming "no bytes" is not an answer to our request */
	resp = response(gw_key, NULL, 0, 1, 0, "forbidden", &len);
	CHECK_EQ_INT(verify(req, sizeof(req), resp, len, &r), HWG_E_BAD_RESPONSE);
	resp = response(gw_key, NULL, 0, 1, 1, NULL, &len);
	CHECK_EQ_INT(verify(req, sizeof(req), resp, len, &r), HWG_E_BAD_RESPONSE);
}

static void
test_key_files(void)
{
	char dir[] = "/tmp/hwgw-keys.XXXXXX", priv[64], pub[64];
	struct hwg_error err = {0};
	struct stat st;
	EVP_PKEY *k = NULL;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(priv, sizeof(priv), "%s/c.key", dir);
	snprintf(pub, sizeof(pub), "%s/c.pub", dir);
	CHECK_EQ_INT(hwgw_key_save(client_key, priv, pub, &err), 0);
	CHECK(stat(priv, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK_EQ_INT(hwgw_key_save(client_key, priv, pub, &err), HWG_E_EXISTS);
	CHECK_EQ_INT(hwgw_key_load_private(priv, &k, &err), 0);
	CHECK(EVP_PKEY_eq(k, client_key) == 1);
	EVP_PKEY_free(k);
	unlink(priv);
	unlink(pub);
	rmdir(dir);
}

static void
test_json_round_trip(void)
{
	struct hwg_error err = {0};
	cbor_item_t *c = NULL;
	char *json = NULL;

	CHECK_EQ_INT(hwgw_json_to_cbor("{\"a\":[1,-2,true,null,\"x\"],\"b\":{\"c\":\"hex:00ff\"}}",
				       &c, &err),
		     0);
	CHECK(c != NULL && cbor_isa_map(c));
	if (c != NULL) {
		const uint8_t *p;
		size_t n;

		CHECK(hwg_cbor_bytes(hwg_cbor_map_get(hwg_cbor_map_get(c, "b", NULL), "c", NULL), &p,
				     &n) == 0 &&
		      n == 2 && p[1] == 0xff);
		CHECK_EQ_INT(hwgw_cbor_to_json(c, &json, &err), 0);
		CHECK(json != NULL && strstr(json, "\"hex:00ff\"") != NULL &&
		      strstr(json, "-2") != NULL);
		free(json);
		cbor_decref(&c);
	}
	CHECK_EQ_INT(hwgw_json_to_cbor("{\"x\": 1.5}", &c, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_json_to_cbor("[1]", &c, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_json_to_cbor("{\"x\": \"hex:0g\"}", &c, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwgw_json_to_cbor("{\"x\":1,\"x\":2}", &c, &err), HWG_E_INVALID);
	{
		char deep[200] = "{\"a\":";
		for (int i = 0; i < 40; i++)
			strcat(deep, "[");
		for (int i = 0; i < 40; i++)
			strcat(deep, "]");
		strcat(deep, "}");
		CHECK_EQ_INT(hwgw_json_to_cbor(deep, &c, &err), HWG_E_INVALID);
	}
}

int
main(void)
{
	struct hwg_error err = {0};

	client_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	gw_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (hwgw_ctx_new("counter01", "gw-1", client_key, gw_key, &ctx, &err) != 0)
		return 1;
	HWG_RUN(test_request_is_signed_and_complete);
	HWG_RUN(test_good_responses_accepted);
	HWG_RUN(test_bad_responses_refused);
	HWG_RUN(test_unread_refusals_only_for_their_codes);
	HWG_RUN(test_key_files);
	HWG_RUN(test_json_round_trip);
	hwgw_ctx_free(ctx);
	EVP_PKEY_free(client_key);
	EVP_PKEY_free(gw_key);
	EVP_PKEY_free(other_key);
	return HWG_TEST_END();
}
