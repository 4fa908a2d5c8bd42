/*
 * hwgw.h — libhwgw, the C client of the hwgw gateway.
 *
 * Builds and signs requests (COSE_Sign1 over the CBOR payload of
 * gateway/api.cddl), sends them over the Unix socket or HTTP, and
 * verifies the gateway's response: its signature against the gateway's
 * public key and its request hash against the request we sent.  A
 * response that fails either check is never shown to the caller as a
 * result.  The library never logs; every failure comes back as an
 * HWG_E_* code with a message in struct hwg_error.
 */
#ifndef HWGW_H
#define HWGW_H

#include <cbor.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

#define HWGW_PROTOCOL_VERSION 1

struct hwgw_ctx;

/* Keys take a reference; the caller keeps its own. gateway_pub may be NULL (no verification
 * possible). */
int hwgw_ctx_new(const char *client_id, const char *gateway_id, EVP_PKEY *client_key,
                 EVP_PKEY *gateway_pub, struct hwgw_ctx **out, struct hwg_error *err);
void hwgw_ctx_free(struct hwgw_ctx *c);

/*
 * Overrides for tests that must produce bad requests on purpose; zero
 * fields mean "do it right".
 */
struct hwgw_request_opts {
	int64_t time_ms;      /* 0: now */
	const uint8_t *nonce; /* NULL: 32 random bytes */
	size_t nonce_len;
	const char *audience;   /* NULL: the ctx's gateway id */
	const char *client_id;  /* NULL: the ctx's client id */
	int version;            /* 0: HWGW_PROTOCOL_VERSION */
	const uint8_t *session; /* operator session token, or NULL */
	size_t session_len;
};

/* Build and sign a request for op with args (a CBOR map, or NULL for {}). *out malloc'd. */
int hwgw_request_build(struct hwgw_ctx *c, const char *op, const cbor_item_t *args,
                       const struct hwgw_request_opts *opts, uint8_t **out, size_t *out_len,
                       struct hwg_error *err);

/* Send one framed request on the Unix socket at path; *resp malloc'd. */
int hwgw_send_unix(const char *path, const uint8_t *req, size_t req_len, uint8_t **resp,
                   size_t *resp_len, struct hwg_error *err);
/*
 * POST base_url/v1/<op> with Content-Type application/cose.  *http_status
 * gets the HTTP status (may be NULL).  *resp malloc'd.
 */
int hwgw_send_http(const char *base_url, const char *op, const uint8_t *req, size_t req_len,
                   uint8_t **resp, size_t *resp_len, long *http_status, struct hwg_error *err);

struct hwgw_response {
	int64_t time_ms;
	cbor_item_t *result; /* set on success (owned) */
	char error_code[48]; /* set on a gateway error, e.g. "bad_signature" */
	char error_message[256];
	int error_tries; /* pin_wrong / pin_locked: tries left on the card; else -1 */
};
/*
 * Verify resp against the gateway key and the request bytes.  Returns 0
 * when the response is authentic (out->result or out->error_code set),
 * HWG_E_BAD_RESPONSE (with a message) when it is not.
 */
int hwgw_response_verify(struct hwgw_ctx *c, const uint8_t *req, size_t req_len,
                         const uint8_t *resp, size_t resp_len, struct hwgw_response *out,
                         struct hwg_error *err);
void hwgw_response_clear(struct hwgw_response *r);

/*
 * An operator session token as a file holds it (hwgwctl --session-file):
 * the hex that operator.verify's result shows (an optional "hex:" prefix
 * and trailing whitespace allowed) or the raw bytes, 16 to
 * HWGW_SESSION_MAX of either.  HWG_E_INVALID otherwise; out and *out_len
 * are written only on success.  The caller wipes data and out.
 */
#define HWGW_SESSION_MIN 16
#define HWGW_SESSION_MAX 64
int hwgw_session_parse(const uint8_t *data, size_t len, uint8_t out[HWGW_SESSION_MAX],
                       size_t *out_len, struct hwg_error *err);

/* COSE algorithm ids (RFC 9053) for hwgw_key_generate: the same as HWG_COSE_* inside hwgw. */
#define HWGW_ALG_ES256 (-7)
#define HWGW_ALG_EDDSA (-8)

/* Keys: generate (HWGW_ALG_EDDSA or HWGW_ALG_ES256), load/save PEM. */
int hwgw_key_generate(int alg, EVP_PKEY **out, struct hwg_error *err);
/* Private key written 0600 (refuses to overwrite), public key 0644. */
int hwgw_key_save(EVP_PKEY *key, const char *priv_path, const char *pub_path,
                  struct hwg_error *err);
int hwgw_key_load_private(const char *path, EVP_PKEY **out, struct hwg_error *err);
int hwgw_key_load_public(const char *path, EVP_PKEY **out, struct hwg_error *err);

#endif
