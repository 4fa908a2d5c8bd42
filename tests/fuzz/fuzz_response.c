/*
 * fuzz_response.c — libFuzzer target for what libhwgw reads back from a
 * gateway (client/hwgw.c, hwgw_response_verify), and what hwgwctl then
 * shows of it (hwgw_cbor_to_json).  A response is only looked into once
 * its signature holds, so the input is signed here with fuzz_keys.c's
 * Ed25519 key before it is given to the client as the gateway's answer:
 *   byte 0 even   the rest is the response payload (CBOR), signed here:
 *                 the response parser sees every mutant
 *   byte 0 odd    the rest is the response bytes as received (COSE),
 *                 the decoder and the signature check see them
 * to the request bytes "fuzz_response: the request".  Nothing may crash,
 * leak or read out of bounds.  An authentic response is either a result
 * or an error code, never both or neither, and an error's tries are -1
 * or a count.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_keys.h"
#include "hwg_cose.h"
#include "hwgw.h"
#include "hwgw_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t request[] = "fuzz_response: the request";

static void
check(struct hwgw_ctx *c, const uint8_t *resp, size_t len)
{
	struct hwg_error err = {0};
	struct hwgw_response r;
	char *json = NULL;

	if (hwgw_response_verify(c, request, sizeof(request), resp, len, &r, &err) == 0) {
		if ((r.result != NULL) == (r.error_code[0] != '\0') || r.error_tries < -1)
			abort();
		if (r.result != NULL && hwgw_cbor_to_json(r.result, &json, &err) == 0)
			free(json);
	} else if (err.code != HWG_E_BAD_RESPONSE) {
		abort();
	}
	hwgw_response_clear(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *ed, *ec;
	static struct hwgw_ctx *c;
	struct hwg_error err = {0};
	uint8_t *signed_resp = NULL;
	size_t signed_len = 0;

	if (c == NULL && (hwg_fuzz_keys(1, &ed, &ec) != 0 ||
	                  hwgw_ctx_new("fuzz-client", "fuzz-gw", ed, ed, &c, &err) != 0))
		abort();
	if (size == 0)
		return 0;
	if (data[0] % 2 == 1) {
		check(c, data + 1, size - 1);
		return 0;
	}
	if (hwg_cose_sign1_encode(HWG_COSE_EDDSA, data + 1, size - 1, hwg_cose_evp_signer, ed,
	                          &signed_resp, &signed_len, &err) == 0)
		check(c, signed_resp, signed_len);
	free(signed_resp);
	return 0;
}
