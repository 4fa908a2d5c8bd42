/*
 * hwgw.c — libhwgw's requests and responses (see hwgw.h).  The response
 * check is the client's half of the protocol's promise: a result is
 * shown only when the gateway's key signed it and it names the exact
 * request bytes we sent.
 */
#include "hwgw.h"

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwg_cbor.h"
#include "hwg_cose.h"
#include "hwg_secret.h"
#include "hwg_time.h"

struct hwgw_ctx {
	char client_id[65];
	char gateway_id[65];
	EVP_PKEY *key;
	EVP_PKEY *gateway_pub;
	int alg;
};

int
hwgw_ctx_new(const char *client_id, const char *gateway_id, EVP_PKEY *client_key,
	     EVP_PKEY *gateway_pub, struct hwgw_ctx **out, struct hwg_error *err)
{
	struct hwgw_ctx *c;
	int alg = hwg_cose_alg_for_key(client_key);

	if (strlen(client_id) > 64 || strlen(gateway_id) > 64 || client_id[0] == '\0' ||
	    gateway_id[0] == '\0')
		return hwg_error_set(err, HWG_E_INVALID, "client and gateway ids are 1-64 characters");
	if (alg == 0)
		return hwg_error_set(err, HWG_E_INVALID,
				     "the client key must be Ed25519 or EC P-256");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	strcpy(c->client_id, client_id);
	strcpy(c->gateway_id, gateway_id);
	EVP_PKEY_up_ref(client_key);
	c->key = client_key;
	if (gateway_pub != NULL) {
		EVP_PKEY_up_ref(gateway_pub);
		c->gateway_pub = gateway_pub;
	}
	c->alg = alg;
	*out = c;
	return 0;
}

void
hwgw_ctx_free(struct hwgw_ctx *c)
{
	if (c == NULL)
		return;
	EVP_PKEY_free(c->key);
	EVP_PKEY_free(c->gateway_pub);
	free(c);
}

static cbor_item_t *
request_map(struct hwgw_ctx *c, const char *op, const cbor_item_t *args,
	    const struct hwgw_request_opts *o, const uint8_t *nonce, size_t nonce_len)
{
	cbor_item_t *m = cbor_new_definite_map(o->session != NULL ? 8 : 7);
	int rc;

	if (m == NULL)
		return NULL;
	rc = hwg_cbor_map_put_uint(m, "v", o->version ? (uint64_t)o->version
						       : HWGW_PROTOCOL_VERSION) |
	     hwg_cbor_map_put_text(m, "op", op) |
	     hwg_cbor_map_put_text(m, "aud", o->audience ? o->audience : c->gateway_id) |
	     hwg_cbor_map_put_text(m, "cid", o->client_id ? o->client_id : c->client_id) |
	     hwg_cbor_map_put_uint(m, "t", (uint64_t)(o->time_ms ? o->time_ms : hwg_now_ms())) |
	     hwg_cbor_map_put_bytes(m, "nonce", nonce, nonce_len);
	if (o->session != NULL)
		rc |= hwg_cbor_map_put_bytes(m, "sess", o->session, o->session_len);
	rc |= hwg_cbor_map_put_item(m, "args", args != NULL ? cbor_incref((cbor_item_t *)args)
							    : cbor_new_definite_map(0));
	if (rc != 0)
		cbor_decref(&m);
	return m;
}

int
hwgw_request_build(struct hwgw_ctx *c, const char *op, const cbor_item_t *args,
		   const struct hwgw_request_opts *opts, uint8_t **out, size_t *out_len,
		   struct hwg_error *err)
{
	static const struct hwgw_request_opts none;
	const struct hwgw_request_opts *o = opts != NULL ? opts : &none;
	uint8_t nonce[32];
	const uint8_t *np = o->nonce;
	size_t nlen = o->nonce_len;
	unsigned char *payload = NULL;
	size_t cap = 0, len;
	cbor_item_t *m;
	int rc;

	if (args != NULL && !cbor_isa_map(args))
		return hwg_error_set(err, HWG_E_INVALID, "arguments must be a CBOR map");
	if (np == NULL) {
		if (RAND_bytes(nonce, sizeof(nonce)) != 1)
			return hwg_error_set(err, HWG_E_INTERNAL, "no randomness for the nonce");
		np = nonce;
		nlen = sizeof(nonce);
	}
	if ((m = request_map(c, op, args, o, np, nlen)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	len = cbor_serialize_alloc(m, &payload, &cap);
	cbor_decref(&m);
	if (len == 0) {
		free(payload);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	rc = hwg_cose_sign1_encode(c->alg, payload, len, hwg_cose_evp_signer, c->key, out,
				   out_len, err);
	free(payload);
	return rc;
}

/* ---------------------------------------------------------------- responses */

static const char *const response_keys[] = {"v", "req", "t", "ok", "err", NULL};
static const char *const error_keys[] = {"code", "msg", NULL};

/*
 * A transport may refuse before it reads the body (over the size limit,
 * origin not allowed); it then signs the hash of the zero bytes it read.
 * Such an answer is accepted as that refusal and nothing else.
 */
static int
unread_refusal(const cbor_item_t *m, const uint8_t hash[32])
{
	static const uint8_t empty_sha256[32] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
		0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
		0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
	const cbor_item_t *code = hwg_cbor_map_get(hwg_cbor_map_get(m, "err", NULL), "code", NULL);

	return memcmp(hash, empty_sha256, 32) == 0 && hwg_cbor_map_get(m, "ok", NULL) == NULL &&
	       (hwg_cbor_text_eq(code, "too_large") || hwg_cbor_text_eq(code, "origin_not_allowed"));
}

static int
parse_response(const uint8_t *payload, size_t len, const uint8_t req_hash[32],
	       struct hwgw_response *r, struct hwg_error *err)
{
	cbor_item_t *m = hwg_cbor_load(payload, len, NULL), *ok, *e;
	const uint8_t *h;
	size_t hl;
	uint64_t v, t;
	char bad[32];
	int rc = HWG_E_BAD_RESPONSE;

	if (m == NULL) {
		hwg_error_set(err, rc, "response payload is not one CBOR item");
		goto out;
	}
	if (hwg_cbor_map_keys_check(m, response_keys, bad, sizeof(bad)) != 0) {
		hwg_error_set(err, rc, "response key \"%s\" unknown or repeated", bad);
		goto out;
	}
	if (hwg_cbor_uint(hwg_cbor_map_get(m, "v", NULL), &v) != 0 || v != HWGW_PROTOCOL_VERSION) {
		hwg_error_set(err, rc, "response version is not %d", HWGW_PROTOCOL_VERSION);
		goto out;
	}
	if (hwg_cbor_bytes(hwg_cbor_map_get(m, "req", NULL), &h, &hl) != 0 || hl != 32 ||
	    (hwg_ct_memcmp(h, req_hash, 32) != 0 && !unread_refusal(m, h))) {
		hwg_error_set(err, rc, "response does not answer this request (request hash)");
		goto out;
	}
	if (hwg_cbor_uint(hwg_cbor_map_get(m, "t", NULL), &t) != 0 || t > INT64_MAX) {
		hwg_error_set(err, rc, "response time missing");
		goto out;
	}
	ok = hwg_cbor_map_get(m, "ok", NULL);
	e = hwg_cbor_map_get(m, "err", NULL);
	if ((ok == NULL) == (e == NULL)) {
		hwg_error_set(err, rc, "response must hold exactly one of ok and err");
		goto out;
	}
	if (e != NULL && (hwg_cbor_map_keys_check(e, error_keys, bad, sizeof(bad)) != 0 ||
			  hwg_cbor_text_copy(hwg_cbor_map_get(e, "code", NULL), r->error_code,
					     sizeof(r->error_code)) != 0 ||
			  hwg_cbor_text_copy(hwg_cbor_map_get(e, "msg", NULL), r->error_message,
					     sizeof(r->error_message)) != 0)) {
		r->error_code[0] = r->error_message[0] = '\0';
		hwg_error_set(err, rc, "response error is not {code, msg}");
		goto out;
	}
	r->time_ms = (int64_t)t;
	if (ok != NULL)
		r->result = cbor_incref(ok);
	rc = 0;
out:
	if (m != NULL)
		cbor_decref(&m);
	return rc;
}

int
hwgw_response_verify(struct hwgw_ctx *c, const uint8_t *req, size_t req_len, const uint8_t *resp,
		     size_t resp_len, struct hwgw_response *out, struct hwg_error *err)
{
	struct hwg_cose_sign1 m;
	struct hwg_error e = {0};
	uint8_t req_hash[32];
	int rc;

	memset(out, 0, sizeof(*out));
	if (c->gateway_pub == NULL)
		return hwg_error_set(err, HWG_E_BAD_RESPONSE, "no gateway key to verify with");
	if (hwg_cose_sign1_decode(resp, resp_len, &m, &e) != 0)
		return hwg_error_set(err, HWG_E_BAD_RESPONSE, "response: %s", e.message);
	rc = hwg_cose_sign1_verify(&m, c->gateway_pub, &e);
	if (rc != 0) {
		hwg_cose_sign1_clear(&m);
		return hwg_error_set(err, HWG_E_BAD_RESPONSE,
				     "response is not signed by the gateway key: %s", e.message);
	}
	SHA256(req, req_len, req_hash);
	rc = parse_response(m.payload, m.payload_len, req_hash, out, err);
	hwg_cose_sign1_clear(&m);
	return rc;
}

void
hwgw_response_clear(struct hwgw_response *r)
{
	if (r->result != NULL)
		cbor_decref(&r->result);
	memset(r, 0, sizeof(*r));
}
