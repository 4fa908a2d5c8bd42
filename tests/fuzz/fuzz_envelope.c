/*
 * fuzz_envelope.c — the first bytes any client controls: the COSE_Sign1
 * decoder, the request payload parser, and signature verification with
 * both algorithms.  Nothing here may crash, leak or read out of bounds,
 * whatever the input.
 */
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

#include "hwg_cose.h"
#include "hwg_request.h"

static EVP_PKEY *ed_key, *ec_key;

static void
keys_init(void)
{
	/* fixed keys: verification must run, the result does not matter */
	static const uint8_t seed[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
					 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

	ed_key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hwg_cose_sign1 m;
	struct hwg_request r;
	struct hwg_error err;

	if (ed_key == NULL)
		keys_init();
	if (hwg_cose_sign1_decode(data, size, &m, &err) != 0)
		return 0;
	hwg_cose_sign1_verify(&m, m.alg == HWG_COSE_EDDSA ? ed_key : ec_key, &err);
	memset(&r, 0, sizeof(r));
	if (hwg_request_parse(m.payload, m.payload_len, &r, &err) == 0 ||
	    err.code == HWG_E_BAD_VERSION)
		hwg_request_clear(&r);
	hwg_cose_sign1_clear(&m);
	return 0;
}
