/*
 * hwg_certcode.h — a certificate's verification code: the summary the
 * seal key signs (issuance number, document digest, kind, issue date,
 * gateway, and the original's number on a reprint), its COSE_Sign1, the
 * QR text "HWC1:" + base45 (RFC 9285) of it, and the check of such a text
 * with the gateway's public seal key; and the structure the seal key
 * signs over a certificate's PDF.  One module in crypto/ because three
 * programs use it and may not include each other: the keyholder builds
 * and signs the summary itself (so the seal key signs summaries and
 * nothing else), the gateway writes the code on the page, and `hwgwctl
 * cert verify` checks a printed copy offline.  Pure: bytes in, bytes or a
 * struct out, no I/O.
 *
 *   cert-summary = { "no": tstr, "doc": bstr .size 32, "kind": tstr,
 *                    "date": tstr (YYYY-MM-DD), "gw": tstr, ? "orig": tstr }
 *
 * in deterministic CBOR (common/hwg_cbor_det.h), signed as a tagged
 * COSE_Sign1 with ES256 and the protected header {1: -7, 4: gw}.
 * Issuance numbers are "<gw>-<YYYYMMDD>-<6 digits>".
 */
#ifndef HWG_CERTCODE_H
#define HWG_CERTCODE_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "hwg_cose.h"
#include "hwg_err.h"

#define HWG_CERTCODE_PREFIX "HWC1:"
#define HWG_CERTCODE_GW_MAX 64                         /* a gateway id's bytes */
#define HWG_CERTCODE_NO_MAX (HWG_CERTCODE_GW_MAX + 16) /* "<gw>-YYYYMMDD-NNNNNN" */
#define HWG_CERTCODE_KIND_MAX 16
#define HWG_CERTCODE_DIGEST_LEN 32
/* The longest signed summary made or read, and the longest QR text. */
#define HWG_CERTCODE_COSE_MAX 640
#define HWG_CERTCODE_TEXT_MAX (5 + HWG_CERTCODE_COSE_MAX / 2 * 3)
#define HWG_CERTCODE_SEAL_LEN 64 /* an ES256 signature, raw r || s */

struct hwg_certcode_summary {
	char no[HWG_CERTCODE_NO_MAX + 1];     /* the issuance number */
	uint8_t doc[HWG_CERTCODE_DIGEST_LEN]; /* SHA-256 of the document's payload */
	char kind[HWG_CERTCODE_KIND_MAX + 1]; /* "juminhyo", "kisai", "tenshutsu", "inkan" */
	char date[11];                        /* the issue date, YYYY-MM-DD */
	char gw[HWG_CERTCODE_GW_MAX + 1];     /* the gateway that issued it */
	char orig[HWG_CERTCODE_NO_MAX + 1];   /* a reprint: the original's number; else "" */
};

/* The certificate kinds a summary may name, and each one's title ("住民票の写し"); NULL if none. */
const char *hwg_certcode_kind_title(const char *kind);
/* 1 if no is "<gw>-<YYYYMMDD>-<6 digits>" with a real date, else 0. */
int hwg_certcode_number_valid(const char *no, const char *gw);
/*
 * Whether s can be a summary: a number of gw's, a known kind, a date, a
 * gateway id of 1 to HWG_CERTCODE_GW_MAX bytes of UTF-8 without control
 * characters, and no "orig" or another number of gw's.  0, or
 * HWG_E_INVALID naming the field.
 */
int hwg_certcode_summary_check(const struct hwg_certcode_summary *s, struct hwg_error *err);
/* The summary map in deterministic CBOR; *out malloc'd.  HWG_E_INVALID as _check. */
int hwg_certcode_summary_encode(const struct hwg_certcode_summary *s, uint8_t **out, size_t *len,
                                struct hwg_error *err);
/*
 * The summary a payload holds: one map, in deterministic encoding, with
 * exactly the keys above, each of its type, passing _check.  0 or
 * HWG_E_BAD_ENCODING naming the fault; out untouched on failure.
 */
int hwg_certcode_summary_decode(const uint8_t *p, size_t len, struct hwg_certcode_summary *out,
                                struct hwg_error *err);
/*
 * Sign s: its encoding as the payload of an ES256 COSE_Sign1 whose
 * protected header is {1: -7, 4: s->gw}; sign is called once with the
 * Sig_structure (crypto/hwg_cose.h).  *cose malloc'd, at most
 * HWG_CERTCODE_COSE_MAX bytes (HWG_E_TOO_LARGE otherwise).
 */
int hwg_certcode_sign(const struct hwg_certcode_summary *s, hwg_cose_signer_fn sign, void *sign_ctx,
                      uint8_t **cose, size_t *len, struct hwg_error *err);

/* ---------------------------------------------------------------- the QR text */

/* RFC 9285's encoded length of n bytes (3 characters per 2 bytes, 2 for the last odd one). */
size_t hwg_base45_encoded_len(size_t n);
/* in[0..n) in base45 into out, NUL-terminated; HWG_E_TOO_LARGE when cap is short. */
int hwg_base45_encode(const uint8_t *in, size_t n, char *out, size_t cap);
/*
 * Strict base45: only the 45 characters of RFC 9285's alphabet, a
 * length that is not 1 more than a multiple of 3, no triplet above 65535
 * and no final pair above 255.  0 with *out_len bytes in out, or
 * HWG_E_BAD_ENCODING naming the position (HWG_E_TOO_LARGE when cap is
 * short).
 */
int hwg_base45_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *out_len,
                      struct hwg_error *err);
/* "HWC1:" + base45 of cose, NUL-terminated and malloc'd. */
int hwg_certcode_text(const uint8_t *cose, size_t len, char **text, struct hwg_error *err);
/*
 * Check a code's text with the gateway's public seal key (EC P-256) and
 * give its summary.  The refusals, each with a message for people:
 *   HWG_E_BAD_ENCODING   not a verification code: no "HWC1:" prefix, too
 *                        long, not base45, not a COSE_Sign1 with a kid, a
 *                        payload that is no summary, or a kid that is
 *                        not the summary's gateway;
 *   HWG_E_ALG_NOT_ALLOWED  not ES256, or the key given is not P-256;
 *   HWG_E_BAD_SIGNATURE  the seal does not verify with this key: the code
 *                        was altered, or another gateway sealed it.
 * out is written only on success.
 */
int hwg_certcode_verify(const char *text, size_t len, EVP_PKEY *seal_key,
                        struct hwg_certcode_summary *out, struct hwg_error *err);

/* ---------------------------------------------------------------- the PDF seal */

/*
 * What the seal key signs (ES256: SHA-256 of it) for a certificate's PDF:
 * the deterministic CBOR of ["hwgw-pdf-seal-v1", issuance_no, pdf_digest],
 * pdf_digest being SHA-256 of the PDF.  *tbs malloc'd; HWG_E_INVALID for
 * a number that is no issuance number of any gateway.
 */
int hwg_certcode_pdf_seal_tbs(const char *issuance_no, const uint8_t pdf_digest[32], uint8_t **tbs,
                              size_t *len);
/* 0 if seal (raw r || s) is the seal key's over that structure; HWG_E_BAD_SIGNATURE if not. */
int hwg_certcode_pdf_seal_verify(EVP_PKEY *seal_key, const char *issuance_no,
                                 const uint8_t pdf_digest[32],
                                 const uint8_t seal[HWG_CERTCODE_SEAL_LEN], struct hwg_error *err);

#endif
