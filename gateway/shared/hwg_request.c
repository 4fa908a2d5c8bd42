/*
 * hwg_request.c — see hwg_request.h.
 */
#include "hwg_request.h"

#include <string.h>

#include "hwg_cbor.h"
#include "hwg_clients.h"

static const char *const request_keys[] = {"v",     "op",   "aud",  "cid", "t",
                                           "nonce", "sess", "args", NULL};

static int
op_name_valid(const char *op)
{
	if (op[0] == '\0')
		return 0;
	for (const char *p = op; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		      *p == '_'))
			return 0;
	return 1;
}

static int
args_valid(const cbor_item_t *args)
{
	struct cbor_pair *pairs;

	if (!cbor_isa_map(args) || !cbor_map_is_definite(args))
		return 0;
	pairs = cbor_map_handle(args);
	for (size_t i = 0; i < cbor_map_size(args); i++)
		if (!cbor_isa_string(pairs[i].key) || !cbor_string_is_definite(pairs[i].key))
			return 0;
	return 1;
}

/* Fields other than "v"; r is filled as far as they go. */
static int
parse_fields(const cbor_item_t *map, struct hwg_request *r, struct hwg_error *err)
{
	const uint8_t *p;
	size_t n;
	uint64_t t;
	cbor_item_t *item;

	/* api.cddl's client-id: the id is then safe in every log line and message */
	if (hwg_cbor_text_copy(hwg_cbor_map_get(map, "cid", NULL), r->client_id,
	                       sizeof(r->client_id)) != 0 ||
	    !hwg_client_id_valid(r->client_id))
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "\"cid\" must be a text of 1-64 characters [A-Za-z0-9._-]");
	if (hwg_cbor_text_copy(hwg_cbor_map_get(map, "op", NULL), r->op, sizeof(r->op)) != 0 ||
	    !op_name_valid(r->op))
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "\"op\" must be a text of 1-%d characters [a-z0-9._]",
		                     HWG_OP_MAX);
	if (hwg_cbor_text_copy(hwg_cbor_map_get(map, "aud", NULL), r->audience,
	                       sizeof(r->audience)) != 0 ||
	    r->audience[0] == '\0')
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "\"aud\" must be a text of 1-64 characters");
	if (hwg_cbor_uint(hwg_cbor_map_get(map, "t", NULL), &t) != 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "\"t\" must be an unsigned integer");
	/* 2^63 ms and more is a uint all the same: held as the largest time, the clock refuses it
	 */
	r->time_ms = t > INT64_MAX ? INT64_MAX : (int64_t)t;
	if (hwg_cbor_bytes(hwg_cbor_map_get(map, "nonce", NULL), &p, &n) != 0 ||
	    n < HWG_NONCE_MIN || n > HWG_NONCE_MAX)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "\"nonce\" must be a byte string of %d-%d bytes",
		                     HWG_NONCE_MIN, HWG_NONCE_MAX);
	memcpy(r->nonce, p, n);
	r->nonce_len = n;
	if ((item = hwg_cbor_map_get(map, "sess", NULL)) != NULL) {
		if (hwg_cbor_bytes(item, &p, &n) != 0 || n < HWG_NONCE_MIN || n > HWG_NONCE_MAX)
			return hwg_error_set(err, HWG_E_BAD_ENCODING,
			                     "\"sess\" must be a byte string of %d-%d bytes",
			                     HWG_NONCE_MIN, HWG_NONCE_MAX);
		memcpy(r->session, p, n);
		r->session_len = n;
	}
	item = hwg_cbor_map_get(map, "args", NULL);
	if (item == NULL || !args_valid(item))
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "\"args\" must be a definite map with text keys");
	r->args = cbor_incref(item);
	return 0;
}

int
hwg_request_parse(const uint8_t *payload, size_t len, struct hwg_request *out,
                  struct hwg_error *err)
{
	struct hwg_request r;
	const char *why = NULL;
	cbor_item_t *map;
	char bad[32];
	int rc;

	memset(&r, 0, sizeof(r));
	if ((map = hwg_cbor_load(payload, len, &why)) == NULL)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "payload: %s", why);
	if (!cbor_isa_map(map) || !cbor_map_is_definite(map)) {
		cbor_decref(&map);
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "payload is not a definite map");
	}
	if (hwg_cbor_map_keys_check(map, request_keys, bad, sizeof(bad)) != 0) {
		cbor_decref(&map);
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "payload key \"%s\" is unknown, repeated or not text", bad);
	}
	if (hwg_cbor_uint(hwg_cbor_map_get(map, "v", NULL), &r.version) != 0) {
		cbor_decref(&map);
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "\"v\" must be an unsigned integer");
	}
	rc = parse_fields(map, &r, err);
	cbor_decref(&map);
	if (rc == 0 && r.version != 1)
		rc = hwg_error_set(err, HWG_E_BAD_VERSION,
		                   "protocol version %llu not supported (1 is)",
		                   (unsigned long long)r.version);
	if (rc != 0 && rc != HWG_E_BAD_VERSION) {
		hwg_request_clear(&r);
		return rc;
	}
	*out = r;
	return rc;
}

void
hwg_request_clear(struct hwg_request *r)
{
	if (r->args != NULL) {
		hwg_cbor_wipe_strings(r->args); /* PINs and passwords travel as text */
		cbor_decref(&r->args);
	}
	memset(r, 0, sizeof(*r));
}
