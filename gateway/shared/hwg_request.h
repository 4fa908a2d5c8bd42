/*
 * hwg_request.h — the request payload (gateway/api.cddl "request").
 *
 * One parse function turns the COSE payload bytes into a struct: every
 * key known, none repeated, every type and size as the schema says, all
 * bytes consumed.  It does no I/O and trusts nothing; whether the client
 * exists or signed it is decided afterwards by hwg_verify.
 */
#ifndef HWG_REQUEST_H
#define HWG_REQUEST_H

#include <cbor.h>
#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

#define HWG_OP_MAX 48
#define HWG_NONCE_MIN 16
#define HWG_NONCE_MAX 64

struct hwg_request {
	uint64_t version;
	char op[HWG_OP_MAX + 1];
	char audience[65];
	char client_id[65];
	int64_t time_ms;
	uint8_t nonce[HWG_NONCE_MAX];
	size_t nonce_len;
	uint8_t session[HWG_NONCE_MAX];
	size_t session_len; /* 0: no operator session */
	cbor_item_t *args;  /* definite map with text keys (owned) */
};

/*
 * Parse payload into out.  HWG_E_BAD_ENCODING with a precise message for
 * any deviation; HWG_E_BAD_VERSION when the map is well formed but "v"
 * is not 1 (out->client_id is then filled so the refusal can be audited).
 */
int hwg_request_parse(const uint8_t *payload, size_t len, struct hwg_request *out,
                      struct hwg_error *err);
void hwg_request_clear(struct hwg_request *r);

#endif
