/*
 * fuzz_keyholder.c — libFuzzer target for the keyholder's messages
 * (gateway/keyholder/hwg_kh_proto.c), both ways: what the keyholder reads
 * from the privileged process (each request's decoder, and the check of
 * what SIGN_RESPONSE asks it to sign, the line between a signer and a
 * signing oracle), and what the privileged process reads from the
 * keyholder (READY, a reply, INFO), the seal key's SEAL_SUMMARY and
 * SEAL_PDF among the requests.  The first byte picks the decoder, the
 * rest is the body.  A request that decodes must survive re-encoding to
 * the same bytes; a Sig_structure the check accepts must decode as one
 * SIGN_RESPONSE body after encoding.
 */
#include <stdlib.h>
#include <string.h>

#include "hwg_cose.h"
#include "hwg_kh_proto.h"
#include "hwg_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* encode(decoded) must give back exactly body */
static void
same_bytes(const struct hwg_buf *re, const uint8_t *body, size_t len)
{
	if (hwg_buf_len(re) != len || memcmp(hwg_buf_ptr(re), body, len) != 0)
		abort();
}

/* SEAL_SUMMARY and SEAL_PDF: what decodes is a summary (a number) and encodes back the same. */
static void
certificates(uint8_t which, const uint8_t *body, size_t len, struct hwg_buf *in, struct hwg_buf *re)
{
	struct hwg_certcode_summary s;
	struct hwg_error err = {0};
	char no[HWG_CERTCODE_NO_MAX + 1];
	uint8_t digest[HWG_KH_HASH_LEN];

	if (which % 6 == 4) {
		if (hwg_kh_summary_decode(in, &s, &err) != 0)
			return;
		if (hwg_certcode_summary_check(&s, &err) != 0 || hwg_kh_summary_encode(&s, re) != 0)
			abort();
	} else {
		if (hwg_kh_pdf_decode(in, no, digest, &err) != 0)
			return;
		if (!hwg_certcode_number_valid(no, NULL) || hwg_kh_pdf_encode(no, digest, re) != 0)
			abort();
	}
	same_bytes(re, body, len);
}

static void
requests(uint8_t which, const uint8_t *body, size_t len, struct hwg_buf *in, struct hwg_buf *re)
{
	struct hwg_error err = {0};
	char id[HWG_MATCH_ID_MAX + 1];
	struct hwg_kh_checkpoint cp;
	const uint8_t *p;
	size_t n;

	switch (which % 6) {
	case 0:
		if (hwg_kh_sign_response_decode(in, &p, &n, &err) == 0) {
			if (hwg_kh_response_check(HWG_COSE_ES256, p, n, &err) == 0 ||
			    hwg_kh_response_check(HWG_COSE_EDDSA, p, n, &err) == 0) {
				if (hwg_kh_sign_response_encode(p, n, re) != 0)
					abort();
				same_bytes(re, body, len);
			}
		}
		break;
	case 1:
		if (hwg_kh_checkpoint_decode(in, &cp, &err) == 0) {
			if (hwg_kh_checkpoint_encode(&cp, re) != 0)
				abort();
			same_bytes(re, body, len);
		}
		break;
	case 2:
		if (hwg_kh_seal_decode(in, id, &p, &err) == 0) {
			int8_t tmpl[HWG_MATCH_DIM];

			memcpy(tmpl, p, sizeof(tmpl));
			if (hwg_kh_seal_encode(id, tmpl, re) != 0)
				abort();
			same_bytes(re, body, len);
		}
		break;
	case 3:
		if (hwg_kh_open_decode(in, id, &p, &n, &err) == 0) {
			if (hwg_kh_open_encode(id, p, n, re) != 0)
				abort();
			same_bytes(re, body, len);
		}
		break;
	default:
		certificates(which, body, len, in, re);
		break;
	}
}

static void
answers(uint8_t which, struct hwg_buf *in)
{
	struct hwg_error err = {0};
	struct hwg_keyholder_info info;
	char msg[HWG_KH_TEXT_MAX + 1];
	const uint8_t *p;
	size_t n;
	int code;

	switch (which % 3) {
	case 0:
		(void)hwg_kh_ready_decode(in, &code, msg, &err);
		break;
	case 1:
		if (hwg_kh_reply_decode(in, &code, msg, &p, &n, &err) == 0 &&
		    strlen(msg) > HWG_KH_TEXT_MAX)
			abort();
		break;
	default:
		if (hwg_kh_info_decode(in, &info, &err) == 0) {
			EVP_PKEY *k = hwg_keyholder_key_public(&info.response);

			EVP_PKEY_free(k);
			/* a seal key, when there is one, is a P-256 key */
			if (info.seal_key && (info.seal.alg != HWG_COSE_ES256 ||
			                      (k = hwg_keyholder_key_public(&info.seal)) == NULL))
				abort();
			if (info.seal_key)
				EVP_PKEY_free(k);
		}
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hwg_buf *in, *re;

	if (size < 1)
		return 0;
	if ((in = hwg_buf_from(data + 1, size - 1)) == NULL ||
	    (re = hwg_buf_new(HWG_MSG_MAX)) == NULL) {
		hwg_buf_free(in);
		return 0;
	}
	if (data[0] < 128)
		requests(data[0], data + 1, size - 1, in, re);
	else
		answers(data[0], in);
	hwg_buf_free(re);
	hwg_buf_free(in);
	return 0;
}
