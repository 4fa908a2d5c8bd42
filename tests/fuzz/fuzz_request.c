/*
 * fuzz_request.c — libFuzzer target for the request payload (the COSE
 * payload a client signed, gateway/shared/hwg_request.c): the input is the
 * payload itself, so mutants reach the map checks without first having to
 * keep a signature valid (fuzz_envelope covers the way in).  Nothing may
 * crash or leak, and an accepted request must be what hwg_request.h
 * promises: every field within its bounds, "args" a definite map with
 * text keys; a refused version still names its client.  The request then
 * meets its operation's schema, as hwg_core does next.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_optable.h"
#include "hwg_roles.h"
#include "hwg_request.h"
#include "hwg_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
text_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	return n > 0 && n < cap;
}

static void
check_accepted(const struct hwg_request *r)
{
	const struct cbor_pair *pairs;

	if (r->version != 1 || !text_ok(r->op, sizeof(r->op)) ||
	    !text_ok(r->audience, sizeof(r->audience)) ||
	    !text_ok(r->client_id, sizeof(r->client_id)) || r->time_ms < 0 ||
	    r->nonce_len < HWG_NONCE_MIN || r->nonce_len > HWG_NONCE_MAX ||
	    (r->session_len != 0 &&
	     (r->session_len < HWG_NONCE_MIN || r->session_len > HWG_NONCE_MAX)))
		abort();
	for (const char *p = r->op; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		      *p == '_'))
			abort();
	if (r->args == NULL || !cbor_isa_map(r->args) || !cbor_map_is_definite(r->args))
		abort();
	pairs = cbor_map_handle(r->args);
	for (size_t i = 0; i < cbor_map_size(r->args); i++)
		if (!cbor_isa_string(pairs[i].key) || !cbor_string_is_definite(pairs[i].key))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hwg_request r;
	struct hwg_error err = {0};
	const struct hwg_op *op;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = hwg_request_parse(data, size, &r, &err);
	if (rc == 0) {
		check_accepted(&r);
		if ((op = hwg_op_find(r.op)) != NULL) {
			rc = hwg_schema_check(r.args, op->args, op->n_args, &err);
			if (rc != 0 && rc != HWG_E_BAD_ARGS)
				abort();
		}
		hwg_request_clear(&r);
	} else if (rc == HWG_E_BAD_VERSION) {
		if (r.version == 1 || !text_ok(r.client_id, sizeof(r.client_id)))
			abort();
		hwg_request_clear(&r);
	} else if (rc != HWG_E_BAD_ENCODING || r.args != NULL || err.message[0] == '\0') {
		abort();
	}
	return 0;
}
