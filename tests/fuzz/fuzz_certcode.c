/*
 * fuzz_certcode.c — libFuzzer target for a certificate's verification
 * code (crypto/hwg_certcode), which anyone can print, photograph and
 * alter.  The first byte chooses what the rest is:
 *   even: a code's text, checked with fuzz_keys.c's P-256 key.  Whatever
 *         base45 accepts must encode back to the same characters (the
 *         encoding is one to one), and an accepted code's summary must
 *         pass the summary's check;
 *   odd:  a summary's payload.  One the decoder accepts must encode back
 *         to the same bytes (deterministic), and, signed here with the
 *         same key, make a code that verifies to the same summary, so
 *         mutants reach everything behind the signature.
 * Nothing may crash, leak or read out of bounds.
 */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_keys.h"
#include "hwg_certcode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *ec;

static void
text_mode(const uint8_t *data, size_t size)
{
	struct hwg_certcode_summary s;
	struct hwg_error err = {0};
	uint8_t bytes[HWG_CERTCODE_TEXT_MAX];
	char again[HWG_CERTCODE_TEXT_MAX + 1];
	size_t n = 0;

	if (hwg_certcode_verify((const char *)data, size, ec, &s, &err) == 0 &&
	    hwg_certcode_summary_check(&s, &err) != 0)
		abort();
	if (size <= sizeof(again) - 1 &&
	    hwg_base45_decode((const char *)data, size, bytes, sizeof(bytes), &n, &err) == 0 &&
	    (hwg_base45_encode(bytes, n, again, sizeof(again)) != 0 || strlen(again) != size ||
	     memcmp(again, data, size) != 0))
		abort();
}

static void
summary_mode(const uint8_t *data, size_t size)
{
	struct hwg_certcode_summary s, back;
	struct hwg_error err = {0};
	uint8_t *p = NULL, *cose = NULL;
	size_t len = 0, cose_len = 0;
	char *text = NULL;

	if (hwg_certcode_summary_decode(data, size, &s, &err) != 0)
		return;
	if (hwg_certcode_summary_encode(&s, &p, &len, &err) != 0 || len != size ||
	    memcmp(p, data, size) != 0)
		abort();
	free(p);
	if (hwg_certcode_sign(&s, hwg_cose_evp_signer, ec, &cose, &cose_len, &err) != 0)
		return; /* too long a summary for a code */
	if (hwg_certcode_text(cose, cose_len, &text, &err) != 0 ||
	    hwg_certcode_verify(text, strlen(text), ec, &back, &err) != 0 ||
	    memcmp(&back, &s, sizeof(s)) != 0)
		abort();
	free(text);
	free(cose);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	EVP_PKEY *ed = NULL;

	if (ec == NULL) {
		if (hwg_fuzz_keys(1, &ed, &ec) != 0)
			abort();
		EVP_PKEY_free(ed);
	}
	if (size == 0)
		return 0;
	if (data[0] & 1)
		summary_mode(data + 1, size - 1);
	else
		text_mode(data + 1, size - 1);
	return 0;
}
