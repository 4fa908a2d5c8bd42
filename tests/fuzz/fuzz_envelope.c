/*
 * fuzz_envelope.c — libFuzzer target for the first bytes any client
 * controls: hwg_cose_sign1_decode and, for what it accepts, the
 * Sig_structure, verification with the fixed Ed25519 and P-256 keys of
 * fuzz_keys.c (the seeds are signed by them, so mutants reach the real
 * signature check), and the request parser the gateway runs next.
 * Nothing may crash, leak or read out of bounds, and a decoded message
 * that breaks the decoder's promises aborts.
 */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_keys.h"
#include "hwg_cose.h"
#include "hwg_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *ed, *ec;
	struct hwg_cose_sign1 m;
	struct hwg_request r;
	struct hwg_error err = {0};
	uint8_t *tbs = NULL;
	size_t tbs_len = 0;
	int rc_ed, rc_ec, rc;

	if (ed == NULL && hwg_fuzz_keys(0, &ed, &ec) != 0)
		abort();
	if (hwg_cose_sign1_decode(data, size, &m, &err) != 0)
		return 0;
	/* accepted: an allowed alg, and parts that are pieces of the input */
	if ((m.alg != HWG_COSE_ES256 && m.alg != HWG_COSE_EDDSA) || m.protected_bytes == NULL ||
	    m.payload == NULL || m.protected_len == 0 ||
	    m.protected_len + m.payload_len + HWG_COSE_SIG_LEN > size)
		abort();
	if (hwg_cose_sig_structure(m.protected_bytes, m.protected_len, m.payload, m.payload_len,
	                           &tbs, &tbs_len) == 0)
		free(tbs);
	/* each key verifies its own algorithm only */
	rc_ed = hwg_cose_sign1_verify(&m, ed, &err);
	rc_ec = hwg_cose_sign1_verify(&m, ec, &err);
	if ((m.alg == HWG_COSE_ES256 && rc_ed != HWG_E_ALG_NOT_ALLOWED) ||
	    (m.alg == HWG_COSE_EDDSA && rc_ec != HWG_E_ALG_NOT_ALLOWED))
		abort();
	memset(&r, 0, sizeof(r));
	rc = hwg_request_parse(m.payload, m.payload_len, &r, &err);
	if (rc == 0 || rc == HWG_E_BAD_VERSION)
		hwg_request_clear(&r);
	hwg_cose_sign1_clear(&m);
	return 0;
}
