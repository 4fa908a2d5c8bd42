/*
 * hwg_certcode.c — a certificate's verification code and PDF seal (see
 * hwg_certcode.h).  The decoders read what anyone may have printed or
 * altered, so they accept exactly what the encoders make and say where
 * anything else went wrong.
 */
#include "hwg_certcode.h"

#include <cbor.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_cbor_det.h"
#include "hwg_text.h"
#include "hwg_time.h"

static const char B45[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
static const char PDF_SEAL_DOMAIN[] = "hwgw-pdf-seal-v1";

_Static_assert(HWG_CERTCODE_GW_MAX <= HWG_COSE_KID_MAX, "a gateway id fits a kid");

static const struct {
	const char *name, *title;
} kinds[] = {
    {"juminhyo", "住民票の写し"},
    {"kisai", "住民票記載事項証明書"},
    {"tenshutsu", "転出証明書"},
    {"inkan", "印鑑登録証明書"},
};

const char *
hwg_certcode_kind_title(const char *kind)
{
	for (size_t i = 0; kind != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i].name) == 0)
			return kinds[i].title;
	return NULL;
}

/* 1 if s is 1..max bytes of UTF-8 with no C0, DEL or C1 control character. */
static int
plain_text(const char *s, size_t max)
{
	size_t n = s != NULL ? strnlen(s, max + 1) : 0, i = 0, k;
	uint32_t cp;

	if (n == 0 || n > max)
		return 0;
	while (i < n) {
		if ((k = hwg_utf8_next((const uint8_t *)s + i, n - i, &cp)) == 0 || cp < 0x20 ||
		    (cp >= 0x7f && cp <= 0x9f))
			return 0;
		i += k;
	}
	return 1;
}

int
hwg_certcode_number_valid(const char *no, const char *gw)
{
	size_t n = no != NULL ? strnlen(no, HWG_CERTCODE_NO_MAX + 1) : 0, g;
	char date[11];

	/* "-YYYYMMDD-NNNNNN" is 16 bytes after the gateway id */
	if (n < 17 || n > HWG_CERTCODE_NO_MAX)
		return 0;
	g = n - 16;
	if (gw != NULL ? strlen(gw) != g || memcmp(no, gw, g) != 0
	               : g > HWG_CERTCODE_GW_MAX || memchr(no, '\0', g) != NULL)
		return 0;
	if (no[g] != '-' || no[g + 9] != '-')
		return 0;
	for (size_t i = g + 10; i < n; i++)
		if (no[i] < '0' || no[i] > '9')
			return 0;
	snprintf(date, sizeof(date), "%.4s-%.2s-%.2s", no + g + 1, no + g + 5, no + g + 7);
	return hwg_date_valid(date);
}

int
hwg_certcode_summary_check(const struct hwg_certcode_summary *s, struct hwg_error *err)
{
	if (s == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no summary");
	if (!plain_text(s->gw, HWG_CERTCODE_GW_MAX))
		return hwg_error_set(
		    err, HWG_E_INVALID,
		    "\"gw\" is not 1 to %d bytes of text without control characters",
		    HWG_CERTCODE_GW_MAX);
	if (!hwg_certcode_number_valid(s->no, s->gw))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "\"no\" is not an issuance number of gateway \"%s\" "
		                     "(<gateway>-<YYYYMMDD>-<6 digits>)",
		                     s->gw);
	if (hwg_certcode_kind_title(s->kind) == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "\"kind\" is not a certificate kind");
	if (!hwg_date_valid(s->date))
		return hwg_error_set(err, HWG_E_INVALID, "\"date\" is not a date YYYY-MM-DD");
	if (s->orig[0] != '\0' &&
	    (!hwg_certcode_number_valid(s->orig, s->gw) || strcmp(s->orig, s->no) == 0))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "\"orig\" is not another issuance number of the gateway");
	return 0;
}

int
hwg_certcode_summary_encode(const struct hwg_certcode_summary *s, uint8_t **out, size_t *len,
                            struct hwg_error *err)
{
	cbor_item_t *m;
	int rc;

	if ((rc = hwg_certcode_summary_check(s, err)) != 0)
		return rc;
	if ((m = cbor_new_definite_map(s->orig[0] != '\0' ? 6 : 5)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	rc = hwg_cbor_map_put_text(m, "no", s->no) |
	     hwg_cbor_map_put_bytes(m, "doc", s->doc, sizeof(s->doc)) |
	     hwg_cbor_map_put_text(m, "kind", s->kind) | hwg_cbor_map_put_text(m, "date", s->date) |
	     hwg_cbor_map_put_text(m, "gw", s->gw);
	if (rc == 0 && s->orig[0] != '\0')
		rc = hwg_cbor_map_put_text(m, "orig", s->orig);
	rc = rc != 0 ? HWG_E_NOMEM : hwg_cbor_det_encode(m, HWG_CERTCODE_COSE_MAX, out, len);
	cbor_decref(&m);
	return rc != 0 ? hwg_error_set(err, rc, "cannot encode the summary") : 0;
}

static const char *const summary_keys[] = {"no", "doc", "kind", "date", "gw", "orig", NULL};

/* Text under key (required unless optional) into out; a reason, or NULL. */
static const char *
summary_text(const cbor_item_t *m, const char *key, int optional, char *out, size_t cap)
{
	int dup = 0;
	const cbor_item_t *v = hwg_cbor_map_get(m, key, &dup);

	if (v == NULL && optional)
		return NULL;
	if (v == NULL)
		return "a key is missing";
	return hwg_cbor_text_copy(v, out, cap) != 0 ? "a text is of another type or too long"
	                                            : NULL;
}

static const char *
summary_fields(const cbor_item_t *m, struct hwg_certcode_summary *s)
{
	const uint8_t *doc;
	size_t doc_len;
	const char *why;
	char bad[32];
	int dup = 0;

	if (!cbor_isa_map(m) || hwg_cbor_map_keys_check(m, summary_keys, bad, sizeof(bad)) != 0)
		return "the summary is not a map of no, doc, kind, date, gw and orig";
	if ((why = summary_text(m, "no", 0, s->no, sizeof(s->no))) != NULL ||
	    (why = summary_text(m, "kind", 0, s->kind, sizeof(s->kind))) != NULL ||
	    (why = summary_text(m, "date", 0, s->date, sizeof(s->date))) != NULL ||
	    (why = summary_text(m, "gw", 0, s->gw, sizeof(s->gw))) != NULL ||
	    (why = summary_text(m, "orig", 1, s->orig, sizeof(s->orig))) != NULL)
		return why;
	if (hwg_cbor_bytes(hwg_cbor_map_get(m, "doc", &dup), &doc, &doc_len) != 0 ||
	    doc_len != sizeof(s->doc))
		return "\"doc\" is not a 32-byte digest";
	memcpy(s->doc, doc, sizeof(s->doc));
	return NULL;
}

int
hwg_certcode_summary_decode(const uint8_t *p, size_t len, struct hwg_certcode_summary *out,
                            struct hwg_error *err)
{
	struct hwg_certcode_summary s;
	struct hwg_error why = {0};
	const char *fault;
	cbor_item_t *m;

	memset(&s, 0, sizeof(s));
	if (p == NULL || (m = hwg_cbor_load(p, len, NULL)) == NULL)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "the summary is not one CBOR item");
	fault = summary_fields(m, &s);
	if (fault == NULL && !hwg_cbor_det_is(m, p, len))
		fault = "the summary is not in deterministic encoding";
	cbor_decref(&m);
	if (fault != NULL)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "%s", fault);
	if (hwg_certcode_summary_check(&s, &why) != 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "%s", why.message);
	*out = s;
	return 0;
}

int
hwg_certcode_sign(const struct hwg_certcode_summary *s, hwg_cose_signer_fn sign, void *sign_ctx,
                  uint8_t **cose, size_t *len, struct hwg_error *err)
{
	uint8_t *payload = NULL, *msg = NULL;
	size_t payload_len = 0, msg_len = 0;
	int rc;

	if ((rc = hwg_certcode_summary_encode(s, &payload, &payload_len, err)) != 0)
		return rc;
	rc = hwg_cose_sign1_encode_kid(HWG_COSE_ES256, (const uint8_t *)s->gw, strlen(s->gw),
	                               payload, payload_len, sign, sign_ctx, &msg, &msg_len, err);
	free(payload);
	if (rc != 0)
		return rc;
	if (msg_len > HWG_CERTCODE_COSE_MAX) {
		free(msg);
		return hwg_error_set(err, HWG_E_TOO_LARGE,
		                     "the signed summary is %zu bytes, over %d", msg_len,
		                     HWG_CERTCODE_COSE_MAX);
	}
	*cose = msg;
	*len = msg_len;
	return 0;
}

/* ---------------------------------------------------------------- base45 */

size_t
hwg_base45_encoded_len(size_t n)
{
	return n / 2 * 3 + (n % 2) * 2;
}

int
hwg_base45_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	if ((in == NULL && n > 0) || out == NULL || n > (SIZE_MAX - 1) / 2 ||
	    hwg_base45_encoded_len(n) >= cap)
		return HWG_E_TOO_LARGE;
	for (size_t i = 0; i < n; i += 2) {
		unsigned v = i + 1 < n ? (unsigned)in[i] << 8 | in[i + 1] : in[i];

		out[o++] = B45[v % 45];
		out[o++] = B45[v / 45 % 45];
		if (i + 1 < n)
			out[o++] = B45[v / 2025];
	}
	out[o] = '\0';
	return 0;
}

/* The value of a base45 character, or -1. */
static int
b45_value(char c)
{
	const char *p = c != '\0' ? strchr(B45, c) : NULL;

	return p != NULL ? (int)(p - B45) : -1;
}

/* A character for a message: itself when printable ASCII, else its byte in hex. */
static const char *
shown(char c, char buf[8])
{
	if (c > 0x20 && c < 0x7f && c != '\'')
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "0x%02x", (unsigned char)c);
	return buf;
}

int
hwg_base45_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *out_len,
                  struct hwg_error *err)
{
	char buf[8];
	size_t o = 0;

	if (in == NULL && n > 0)
		return hwg_error_set(err, HWG_E_INVALID, "no input");
	if (n % 3 == 1)
		return hwg_error_set(
		    err, HWG_E_BAD_ENCODING,
		    "base45: %zu characters leave one over (a length of 3k or 3k+2)", n);
	if (n / 3 * 2 + (n % 3 ? 1 : 0) > cap)
		return HWG_E_TOO_LARGE;
	for (size_t i = 0; i < n; i += 3) {
		size_t k = n - i >= 3 ? 3 : 2;
		unsigned v = 0, w = 1;

		for (size_t j = 0; j < k; j++, w *= 45) {
			int d = b45_value(in[i + j]);

			if (d < 0)
				return hwg_error_set(
				    err, HWG_E_BAD_ENCODING,
				    "base45: character %zu (%s) is not in the alphabet", i + j + 1,
				    shown(in[i + j], buf));
			v += (unsigned)d * w;
		}
		if (v > (k == 3 ? 0xffffu : 0xffu))
			return hwg_error_set(err, HWG_E_BAD_ENCODING,
			                     "base45: characters %zu-%zu make %u, over %u", i + 1,
			                     i + k, v, k == 3 ? 0xffffu : 0xffu);
		if (k == 3)
			out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	*out_len = o;
	return 0;
}

int
hwg_certcode_text(const uint8_t *cose, size_t len, char **text, struct hwg_error *err)
{
	size_t cap;
	char *t;

	if (cose == NULL || len == 0 || len > HWG_CERTCODE_COSE_MAX || text == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "a signed summary is 1 to %d bytes",
		                     HWG_CERTCODE_COSE_MAX);
	cap = sizeof(HWG_CERTCODE_PREFIX) + hwg_base45_encoded_len(len);
	if ((t = malloc(cap)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	memcpy(t, HWG_CERTCODE_PREFIX, sizeof(HWG_CERTCODE_PREFIX) - 1);
	if (hwg_base45_encode(cose, len, t + sizeof(HWG_CERTCODE_PREFIX) - 1,
	                      cap - (sizeof(HWG_CERTCODE_PREFIX) - 1)) != 0) {
		free(t);
		return hwg_error_set(err, HWG_E_INTERNAL, "cannot encode the code");
	}
	*text = t;
	return 0;
}

/* The text's COSE_Sign1 bytes into cose (HWG_CERTCODE_COSE_MAX). */
static int
code_bytes(const char *text, size_t len, uint8_t *cose, size_t *cose_len, struct hwg_error *err)
{
	const size_t plen = sizeof(HWG_CERTCODE_PREFIX) - 1;
	struct hwg_error why = {0};
	int rc;

	if (text == NULL || len < plen || memcmp(text, HWG_CERTCODE_PREFIX, plen) != 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "not a hwgw verification code: it does not start with "
		                     "\"" HWG_CERTCODE_PREFIX "\"");
	if (len > HWG_CERTCODE_TEXT_MAX)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "not a hwgw verification code: %zu characters, at most %d",
		                     len, HWG_CERTCODE_TEXT_MAX);
	rc =
	    hwg_base45_decode(text + plen, len - plen, cose, HWG_CERTCODE_COSE_MAX, cose_len, &why);
	if (rc != 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "not a hwgw verification code: %s",
		                     rc == HWG_E_TOO_LARGE ? "too long" : why.message);
	return 0;
}

/* m's kid is the summary's gateway. */
static int
kid_is_gateway(const struct hwg_cose_sign1 *m, const struct hwg_certcode_summary *s,
               struct hwg_error *err)
{
	if (m->kid_len != strlen(s->gw) || memcmp(m->kid, s->gw, m->kid_len) != 0)
		return hwg_error_set(err, HWG_E_BAD_ENCODING,
		                     "the code's key id is not its gateway \"%s\"", s->gw);
	return 0;
}

/* The seal over m with key, the refusal said for people. */
static int
seal_verifies(const struct hwg_cose_sign1 *m, EVP_PKEY *key, struct hwg_error *err)
{
	struct hwg_error why = {0};
	int rc = hwg_cose_sign1_verify(m, key, &why);

	if (rc == HWG_E_BAD_SIGNATURE)
		return hwg_error_set(
		    err, rc,
		    "the seal does not verify with this key: the code was altered, "
		    "or another gateway (or key) sealed it");
	if (rc == HWG_E_ALG_NOT_ALLOWED)
		return hwg_error_set(err, rc, "the key given is not an EC P-256 seal key");
	return rc != 0 ? hwg_error_set(err, rc, "%s", why.message) : 0;
}

int
hwg_certcode_verify(const char *text, size_t len, EVP_PKEY *seal_key,
                    struct hwg_certcode_summary *out, struct hwg_error *err)
{
	uint8_t cose[HWG_CERTCODE_COSE_MAX];
	struct hwg_certcode_summary s;
	struct hwg_cose_sign1 m;
	struct hwg_error why = {0};
	size_t cose_len = 0;
	int rc;

	if (seal_key == NULL || out == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no key or no output");
	if ((rc = code_bytes(text, len, cose, &cose_len, err)) != 0)
		return rc;
	if ((rc = hwg_cose_sign1_decode_kid(cose, cose_len, &m, &why)) != 0)
		return hwg_error_set(
		    err, rc == HWG_E_NOMEM || rc == HWG_E_ALG_NOT_ALLOWED ? rc : HWG_E_BAD_ENCODING,
		    "not a hwgw verification code: %s", why.message);
	if (m.alg != HWG_COSE_ES256)
		rc = hwg_error_set(err, HWG_E_ALG_NOT_ALLOWED,
		                   "the code is sealed with %s, not ES256",
		                   hwg_cose_alg_name(m.alg));
	else if (hwg_certcode_summary_decode(m.payload, m.payload_len, &s, &why) != 0)
		rc = hwg_error_set(err, HWG_E_BAD_ENCODING, "not a hwgw verification code: %s",
		                   why.message);
	else if ((rc = kid_is_gateway(&m, &s, err)) == 0)
		rc = seal_verifies(&m, seal_key, err);
	hwg_cose_sign1_clear(&m);
	if (rc == 0)
		*out = s;
	return rc;
}

/* ---------------------------------------------------------------- the PDF seal */

int
hwg_certcode_pdf_seal_tbs(const char *issuance_no, const uint8_t pdf_digest[32], uint8_t **tbs,
                          size_t *len)
{
	cbor_item_t *a, *e[3] = {NULL, NULL, NULL};
	int ok, rc;

	if (!hwg_certcode_number_valid(issuance_no, NULL) || pdf_digest == NULL || tbs == NULL ||
	    len == NULL)
		return HWG_E_INVALID;
	if ((a = cbor_new_definite_array(3)) == NULL)
		return HWG_E_NOMEM;
	e[0] = cbor_build_string(PDF_SEAL_DOMAIN);
	e[1] = cbor_build_string(issuance_no);
	e[2] = cbor_build_bytestring(pdf_digest, 32);
	ok = e[0] != NULL && e[1] != NULL && e[2] != NULL;
	for (int i = 0; i < 3; i++)
		if (e[i] != NULL) {
			ok = ok && cbor_array_push(a, e[i]);
			cbor_decref(&e[i]);
		}
	rc = ok ? hwg_cbor_det_encode(a, 256, tbs, len) : HWG_E_NOMEM;
	cbor_decref(&a);
	return rc;
}

int
hwg_certcode_pdf_seal_verify(EVP_PKEY *seal_key, const char *issuance_no,
                             const uint8_t pdf_digest[32],
                             const uint8_t seal[HWG_CERTCODE_SEAL_LEN], struct hwg_error *err)
{
	uint8_t *tbs = NULL, *der = NULL;
	size_t tbs_len = 0, der_len = 0;
	EVP_MD_CTX *md;
	int ok = 0, rc;

	if (seal_key == NULL || seal == NULL || hwg_cose_alg_for_key(seal_key) != HWG_COSE_ES256)
		return hwg_error_set(err, HWG_E_ALG_NOT_ALLOWED, "the seal key is an EC P-256 key");
	if ((rc = hwg_certcode_pdf_seal_tbs(issuance_no, pdf_digest, &tbs, &tbs_len)) != 0)
		return hwg_error_set(err, rc, "not an issuance number");
	if (hwg_ecdsa_raw_to_der(seal, &der, &der_len) == 0 && (md = EVP_MD_CTX_new()) != NULL) {
		ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, seal_key) == 1 &&
		     EVP_DigestVerify(md, der, der_len, tbs, tbs_len) == 1;
		EVP_MD_CTX_free(md);
	}
	ERR_clear_error();
	OPENSSL_free(der);
	free(tbs);
	return ok ? 0
	          : hwg_error_set(err, HWG_E_BAD_SIGNATURE,
	                          "the PDF's seal does not verify for issuance %s", issuance_no);
}
