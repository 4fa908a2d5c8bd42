/*
 * make_keyholder_seeds.c — `fuzz_keyholder_seeds DIR` writes fuzz_keyholder's
 * seeds: one well-formed body of each message (the selector byte first,
 * as fuzz_keyholder reads it), a response Sig_structure as the gateway
 * builds it and a raw digest the keyholder must refuse to sign, a
 * certificate's summary (an original and a reprint) and a PDF's seal
 * request, and INFO with and without a seal key.  An answer's selector is
 * 128 or more, and fuzz_keyholder picks its decoder by the selector
 * modulo 3: READY 129, REPLY 130, INFO 131.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include "hwg_cose.h"
#include "hwg_kh_proto.h"

static int
put(const char *dir, const char *name, uint8_t selector, const struct hwg_buf *b)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	fputc(selector, f);
	fwrite(hwg_buf_ptr(b), 1, hwg_buf_len(b), f);
	return fclose(f);
}

/* ["Signature1", h'a10126', h'', payload] with payload {"v":1,"req":h'00'*32,"t":1,"ok":{}} */
static size_t
response_tbs(uint8_t *out)
{
	static const uint8_t payload[] = {0xa4, 0x61, 'v', 0x01, 0x63, 'r', 'e', 'q', 0x58, 0x20};
	static const uint8_t tail[] = {0x61, 't', 0x01, 0x62, 'o', 'k', 0xa0};
	static const uint8_t head[] = {0x84, 0x6a, 'S', 'i',  'g',  'n',  'a',  't', 'u',
	                               'r',  'e',  '1', 0x43, 0xa1, 0x01, 0x26, 0x40};
	size_t plen = sizeof(payload) + 32 + sizeof(tail), n = 0;

	memcpy(out, head, sizeof(head));
	n += sizeof(head);
	out[n++] = 0x58;
	out[n++] = (uint8_t)plen;
	memcpy(out + n, payload, sizeof(payload));
	n += sizeof(payload);
	memset(out + n, 0, 32);
	n += 32;
	memcpy(out + n, tail, sizeof(tail));
	return n + sizeof(tail);
}

int
main(int argc, char **argv)
{
	struct hwg_kh_checkpoint cp = {.seq = 7, .time_ms = 1700000000000};
	struct hwg_keyholder_info info;
	int8_t tmpl[HWG_MATCH_DIM] = {1, -1, 2};
	uint8_t tbs[256], blob[HWG_KEYHOLDER_BLOB_LEN] = {0}, digest[32] = {0};
	struct hwg_buf *b = hwg_buf_new(1 << 16);
	size_t n = response_tbs(tbs);
	int rc = 0;

	struct hwg_error err = {0};

	if (argc != 2 || b == NULL)
		return 2;
	/* the seeds stand on both sides of the line they are for */
	if (hwg_kh_response_check(HWG_COSE_ES256, tbs, n, &err) != 0 ||
	    hwg_kh_response_check(HWG_COSE_ES256, digest, sizeof(digest), &err) == 0) {
		fprintf(stderr, "fuzz_keyholder_seeds: the response check moved: %s\n",
		        err.message);
		return 1;
	}
	memset(&info, 0, sizeof(info));
	memset(cp.hash, 0xab, sizeof(cp.hash));
	rc |= hwg_kh_sign_response_encode(tbs, n, b) | put(argv[1], "sign-response", 0, b);
	hwg_buf_reset(b);
	rc |= hwg_kh_sign_response_encode(digest, sizeof(digest), b) |
	      put(argv[1], "sign-raw-digest", 0, b);
	hwg_buf_reset(b);
	rc |= hwg_kh_checkpoint_encode(&cp, b) | put(argv[1], "checkpoint", 1, b);
	hwg_buf_reset(b);
	rc |= hwg_kh_seal_encode("tanaka.h", tmpl, b) | put(argv[1], "seal", 2, b);
	hwg_buf_reset(b);
	rc |= hwg_kh_open_encode("tanaka.h", blob, sizeof(blob), b) | put(argv[1], "open", 3, b);
	hwg_buf_reset(b);
	{
		struct hwg_certcode_summary s;
		EVP_PKEY *ec = EVP_EC_gen("P-256");
		uint8_t *p;

		memset(&s, 0, sizeof(s));
		strcpy(s.gw, "city-gw-01");
		strcpy(s.no, "city-gw-01-20260401-000042");
		memset(s.doc, 0x3c, sizeof(s.doc));
		strcpy(s.kind, "juminhyo");
		strcpy(s.date, "2026-04-01");
		rc |= hwg_kh_summary_encode(&s, b) | put(argv[1], "seal-summary", 4, b);
		hwg_buf_reset(b);
		strcpy(s.orig, "city-gw-01-20260301-000007");
		rc |= hwg_kh_summary_encode(&s, b) | put(argv[1], "seal-summary-reprint", 4, b);
		hwg_buf_reset(b);
		strcpy(s.kind, "passport");
		rc |= hwg_kh_summary_encode(&s, b) | put(argv[1], "seal-summary-bad-kind", 4, b);
		hwg_buf_reset(b);
		rc |= hwg_kh_pdf_encode(s.no, digest, b) | put(argv[1], "seal-pdf", 5, b);
		hwg_buf_reset(b);
		/* INFO: a seal key (the same P-256 key for all three), and none */
		info.response.alg = info.audit.alg = info.seal.alg = HWG_COSE_ES256;
		p = info.response.spki;
		info.response.spki_len = ec != NULL ? (size_t)i2d_PUBKEY(ec, &p) : 0;
		info.audit = info.seal = info.response;
		info.seal_key = 1;
		rc |= hwg_kh_info_encode(&info, b) | put(argv[1], "info-seal", 131, b);
		hwg_buf_reset(b);
		info.seal_key = 0;
		rc |= hwg_kh_info_encode(&info, b) | put(argv[1], "info-no-seal", 131, b);
		hwg_buf_reset(b);
		EVP_PKEY_free(ec);
	}
	rc |= hwg_kh_ready_encode(0, "", b) | put(argv[1], "ready", 129, b);
	hwg_buf_reset(b);
	rc |= hwg_kh_reply_encode(HWG_E_HSM, "token gone", NULL, 0, b) |
	      put(argv[1], "reply-err", 130, b);
	hwg_buf_reset(b);
	rc |= hwg_kh_reply_encode(0, "", digest, sizeof(digest), b) |
	      put(argv[1], "reply-ok", 130, b);
	hwg_buf_free(b);
	return rc != 0;
}
