/*
 * hwgw.c — libhwgw's requests and responses (see hwgw.h).  The response
 * check is the client's half of the protocol's promise: a result is
 * shown only when the gateway's key signed it and it names the exact
 * request bytes we sent.  Both maps follow gateway/api.cddl key for key.
 */
#include "hwgw.h"

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_cose.h"
#include "hwg_secret.h"
#include "hwg_time.h"

#define ID_MAX 64
#define NONCE_LEN 32

struct hwgw_ctx {
	char client_id[ID_MAX + 1];
	char gateway_id[ID_MAX + 1];
	EVP_PKEY *key;
	EVP_PKEY *gateway_pub;
	int alg;
};

/* client-id = tstr .regexp "[A-Za-z0-9._-]{1,64}" */
static int
client_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

int
hwgw_ctx_new(const char *client_id, const char *gateway_id, EVP_PKEY *client_key,
             EVP_PKEY *gateway_pub, struct hwgw_ctx **out, struct hwg_error *err)
{
	struct hwgw_ctx *c;
	int alg = hwg_cose_alg_for_key(client_key);

	if (client_id == NULL || !client_id_ok(client_id))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "client id must be 1-64 of A-Z a-z 0-9 . _ -");
	if (gateway_id == NULL || gateway_id[0] == '\0' || strlen(gateway_id) > ID_MAX)
		return hwg_error_set(err, HWG_E_INVALID, "gateway id must be 1-64 bytes");
	if (alg == 0)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "the client key must be Ed25519 or EC P-256");
	if (gateway_pub != NULL && hwg_cose_alg_for_key(gateway_pub) == 0)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "the gateway key must be Ed25519 or EC P-256");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	memcpy(c->client_id, client_id, strlen(client_id) + 1);
	memcpy(c->gateway_id, gateway_id, strlen(gateway_id) + 1);
	if (EVP_PKEY_up_ref(client_key) != 1 ||
	    (gateway_pub != NULL && EVP_PKEY_up_ref(gateway_pub) != 1)) {
		free(c);
		return hwg_error_set(err, HWG_E_INTERNAL, "cannot take a key reference");
	}
	c->key = client_key;
	c->gateway_pub = gateway_pub;
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

/* ---------------------------------------------------------------- requests */

/* An integer of either sign; the overrides may ask for a negative one on purpose. */
static cbor_item_t *
build_int(int64_t v)
{
	return v >= 0 ? cbor_build_uint64((uint64_t)v) : cbor_build_negint64((uint64_t)(-1 - v));
}

/* The request map, in the key order of api.cddl. */
static cbor_item_t *
request_map(const struct hwgw_ctx *c, const char *op, const cbor_item_t *args,
            const struct hwgw_request_opts *o, const uint8_t *nonce, size_t nonce_len)
{
	cbor_item_t *m = cbor_new_definite_map(o->session != NULL ? 8 : 7);
	int rc;

	if (m == NULL)
		return NULL;
	rc = hwg_cbor_map_put_item(m, "v",
	                           build_int(o->version != 0 ? o->version : HWGW_PROTOCOL_VERSION));
	rc |= hwg_cbor_map_put_text(m, "op", op);
	rc |= hwg_cbor_map_put_text(m, "aud", o->audience != NULL ? o->audience : c->gateway_id);
	rc |= hwg_cbor_map_put_text(m, "cid", o->client_id != NULL ? o->client_id : c->client_id);
	rc |= hwg_cbor_map_put_item(m, "t", build_int(o->time_ms != 0 ? o->time_ms : hwg_now_ms()));
	rc |= hwg_cbor_map_put_bytes(m, "nonce", nonce, nonce_len);
	if (o->session != NULL)
		rc |= hwg_cbor_map_put_bytes(m, "sess", o->session, o->session_len);
	rc |= hwg_cbor_map_put_item(
	    m, "args", args != NULL ? cbor_incref((cbor_item_t *)args) : cbor_new_definite_map(0));
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
	uint8_t nonce[NONCE_LEN];
	const uint8_t *np = o->nonce;
	size_t nlen = o->nonce_len;
	unsigned char *payload = NULL;
	size_t cap = 0, len;
	cbor_item_t *m;
	int rc;

	if (c == NULL || op == NULL || op[0] == '\0')
		return hwg_error_set(err, HWG_E_INVALID,
		                     "a context and an operation name are needed");
	if (args != NULL && !cbor_isa_map(args))
		return hwg_error_set(err, HWG_E_INVALID, "arguments must be a CBOR map");
	if (np == NULL) {
		if (RAND_bytes(nonce, sizeof(nonce)) != 1)
			return hwg_error_set(err, HWG_E_INTERNAL, "no randomness for the nonce");
		np = nonce;
		nlen = sizeof(nonce);
	}
	if ((m = request_map(c, op, args, o, np, nlen)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory building the request");
	len = cbor_serialize_alloc(m, &payload, &cap);
	cbor_decref(&m);
	if (len == 0) {
		free(payload);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory encoding the request");
	}
	rc = hwg_cose_sign1_encode(c->alg, payload, len, hwg_cose_evp_signer, c->key, out, out_len,
	                           err);
	free(payload);
	return rc;
}

/* ---------------------------------------------------------------- responses */

static const char *const response_keys[] = {"v", "req", "t", "ok", "err", NULL};
static const char *const error_keys[] = {"code", "msg", "tries", NULL};

/*
 * A transport may refuse before it reads the body (over the size limit,
 * origin not allowed, HTTP framing or URL refused as bad_encoding); it
 * then signs the hash of the zero bytes it read.  Such an answer is
 * accepted as that refusal and nothing else.
 */
static int
unread_refusal(const cbor_item_t *m, const uint8_t hash[32])
{
	static const uint8_t empty_sha256[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
	                                         0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
	                                         0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
	                                         0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
	const cbor_item_t *code = hwg_cbor_map_get(hwg_cbor_map_get(m, "err", NULL), "code", NULL);

	return hwg_ct_memcmp(hash, empty_sha256, 32) == 0 &&
	       hwg_cbor_map_get(m, "ok", NULL) == NULL &&
	       (hwg_cbor_text_eq(code, "too_large") ||
	        hwg_cbor_text_eq(code, "origin_not_allowed") ||
	        hwg_cbor_text_eq(code, "bad_encoding"));
}

/* error-code: a short lower-case word, as api.cddl lists them. */
static int
copy_error_code(const cbor_item_t *item, char *out, size_t outlen)
{
	if (hwg_cbor_text_copy(item, out, outlen) != 0 || out[0] == '\0')
		return -1;
	for (const char *p = out; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return -1;
	return 0;
}

/*
 * The human message: kept whole when it fits, otherwise cut at a UTF-8
 * character boundary.  A NUL inside is refused (it would hide the rest).
 */
static int
copy_error_message(const cbor_item_t *item, char *out, size_t outlen)
{
	size_t n;

	if (item == NULL || !cbor_isa_string(item) || !cbor_string_is_definite(item))
		return -1;
	n = cbor_string_length(item);
	if (memchr(cbor_string_handle(item), '\0', n) != NULL)
		return -1;
	if (n >= outlen) {
		n = outlen - 1;
		while (n > 0 && (cbor_string_handle(item)[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, cbor_string_handle(item), n);
	out[n] = '\0';
	return 0;
}

static int
parse_error(const cbor_item_t *e, struct hwgw_response *r, struct hwg_error *err)
{
	const cbor_item_t *tries;
	uint64_t n;
	char bad[32];

	if (!cbor_isa_map(e))
		return hwg_error_set(err, HWG_E_BAD_RESPONSE, "response \"err\" is not a map");
	if (hwg_cbor_map_keys_check(e, error_keys, bad, sizeof(bad)) != 0)
		return hwg_error_set(err, HWG_E_BAD_RESPONSE,
		                     "response \"err\" key \"%s\" unknown, repeated or not text",
		                     bad);
	if (copy_error_code(hwg_cbor_map_get(e, "code", NULL), r->error_code,
	                    sizeof(r->error_code)) != 0)
		return hwg_error_set(
		    err, HWG_E_BAD_RESPONSE,
		    "response \"err\" has no \"code\" word of at most %zu characters",
		    sizeof(r->error_code) - 1);
	if (copy_error_message(hwg_cbor_map_get(e, "msg", NULL), r->error_message,
	                       sizeof(r->error_message)) != 0)
		return hwg_error_set(err, HWG_E_BAD_RESPONSE,
		                     "response \"err\" has no text \"msg\"");
	r->error_tries = -1;
	if ((tries = hwg_cbor_map_get(e, "tries", NULL)) != NULL) {
		if (hwg_cbor_uint(tries, &n) != 0 || n > 15)
			return hwg_error_set(err, HWG_E_BAD_RESPONSE,
			                     "response \"err\" \"tries\" is not a small count");
		r->error_tries = (int)n;
	}
	return 0;
}

static int
parse_response(const uint8_t *payload, size_t len, const uint8_t req_hash[32],
               struct hwgw_response *r, struct hwg_error *err)
{
	const char *why = NULL;
	cbor_item_t *m = hwg_cbor_load(payload, len, &why);
	cbor_item_t *ok, *e;
	const uint8_t *h;
	size_t hl;
	uint64_t v, t;
	char bad[32];
	int rc = HWG_E_BAD_RESPONSE;

	if (m == NULL) {
		hwg_error_set(err, rc, "response payload: %s", why != NULL ? why : "not CBOR");
		goto out;
	}
	if (!cbor_isa_map(m)) {
		hwg_error_set(err, rc, "response payload is not a map");
		goto out;
	}
	if (hwg_cbor_map_keys_check(m, response_keys, bad, sizeof(bad)) != 0) {
		hwg_error_set(err, rc, "response key \"%s\" unknown, repeated or not text", bad);
		goto out;
	}
	if (hwg_cbor_map_get(m, "v", NULL) == NULL) {
		hwg_error_set(err, rc, "response has no \"v\"");
		goto out;
	}
	if (hwg_cbor_uint(hwg_cbor_map_get(m, "v", NULL), &v) != 0 || v != HWGW_PROTOCOL_VERSION) {
		hwg_error_set(err, rc, "response \"v\" is not %d", HWGW_PROTOCOL_VERSION);
		goto out;
	}
	if (hwg_cbor_map_get(m, "req", NULL) == NULL) {
		hwg_error_set(err, rc, "response has no \"req\" (request hash)");
		goto out;
	}
	if (hwg_cbor_bytes(hwg_cbor_map_get(m, "req", NULL), &h, &hl) != 0 || hl != 32) {
		hwg_error_set(err, rc, "response \"req\" is not a 32-byte string");
		goto out;
	}
	if (hwg_ct_memcmp(h, req_hash, 32) != 0 && !unread_refusal(m, h)) {
		hwg_error_set(err, rc,
		              "response answers another request (\"req\" is not the "
		              "SHA-256 of the request sent)");
		goto out;
	}
	if (hwg_cbor_uint(hwg_cbor_map_get(m, "t", NULL), &t) != 0 || t > INT64_MAX) {
		hwg_error_set(err, rc, "response \"t\" missing or not a time in milliseconds");
		goto out;
	}
	ok = hwg_cbor_map_get(m, "ok", NULL);
	e = hwg_cbor_map_get(m, "err", NULL);
	if (ok != NULL && e != NULL) {
		hwg_error_set(err, rc, "response holds both \"ok\" and \"err\"");
		goto out;
	}
	if (ok == NULL && e == NULL) {
		hwg_error_set(err, rc, "response holds neither \"ok\" nor \"err\"");
		goto out;
	}
	if (e != NULL && parse_error(e, r, err) != 0) {
		r->error_code[0] = r->error_message[0] = '\0';
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
	if (c == NULL || c->gateway_pub == NULL)
		return hwg_error_set(err, HWG_E_BAD_RESPONSE, "no gateway key to verify with");
	if (resp == NULL || resp_len == 0)
		return hwg_error_set(err, HWG_E_BAD_RESPONSE, "empty response");
	if (hwg_cose_sign1_decode(resp, resp_len, &m, &e) != 0)
		return hwg_error_set(err, HWG_E_BAD_RESPONSE, "response is not a COSE_Sign1: %s",
		                     e.message);
	rc = hwg_cose_sign1_verify(&m, c->gateway_pub, &e);
	if (rc != 0) {
		hwg_cose_sign1_clear(&m);
		return hwg_error_set(err, HWG_E_BAD_RESPONSE,
		                     "response is not signed by the gateway key: %s", e.message);
	}
	SHA256(req != NULL ? req : (const uint8_t *)"", req_len, req_hash);
	rc = parse_response(m.payload, m.payload_len, req_hash, out, err);
	hwg_cose_sign1_clear(&m);
	return rc;
}

void
hwgw_response_clear(struct hwgw_response *r)
{
	if (r == NULL)
		return;
	if (r->result != NULL)
		cbor_decref(&r->result);
	memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------- session tokens */

static int
hex_digit(uint8_t c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

/* data[0..len) as hex into out; -1 if it is not an even run of hex digits that fits. */
static int
session_from_hex(const uint8_t *data, size_t len, uint8_t out[HWGW_SESSION_MAX], size_t *out_len)
{
	if (len % 2 != 0 || len / 2 < HWGW_SESSION_MIN || len / 2 > HWGW_SESSION_MAX)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (hex_digit(data[i]) < 0)
			return -1;
	for (size_t i = 0; i < len / 2; i++)
		out[i] = (uint8_t)(hex_digit(data[2 * i]) << 4 | hex_digit(data[2 * i + 1]));
	*out_len = len / 2;
	return 0;
}

int
hwgw_session_parse(const uint8_t *data, size_t len, uint8_t out[HWGW_SESSION_MAX], size_t *out_len,
                   struct hwg_error *err)
{
	size_t n = len;

	if (data == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no session token");
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r' || data[n - 1] == ' ' ||
	                 data[n - 1] == '\t'))
		n--;
	if (n >= 4 && memcmp(data, "hex:", 4) == 0)
		return session_from_hex(data + 4, n - 4, out, out_len) == 0
		           ? 0
		           : hwg_error_set(
		                 err, HWG_E_INVALID,
		                 "the session token after \"hex:\" must be %d to %d bytes "
		                 "in hex",
		                 HWGW_SESSION_MIN, HWGW_SESSION_MAX);
	if (session_from_hex(data, n, out, out_len) == 0)
		return 0;
	/* not hex: the raw token, every byte of it (trailing whitespace may be token bytes) */
	if (len < HWGW_SESSION_MIN || len > HWGW_SESSION_MAX)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "a session token is %d to %d bytes, raw or in hex (%zu bytes "
		                     "here)",
		                     HWGW_SESSION_MIN, HWGW_SESSION_MAX, len);
	memcpy(out, data, len);
	*out_len = len;
	return 0;
}
