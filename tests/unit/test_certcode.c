/*
 * test_certcode.c — crypto/hwg_certcode: base45 against RFC 9285's
 * examples and its refusals (a character outside the alphabet, a length
 * of 3k+1, a triplet over 65535, a final pair over 255), round trips of
 * every length; the summary's deterministic encoding and each refusal of
 * its check and decoder; a code signed with a software P-256 key read
 * back, and refused with another key, an Ed25519 one, without its
 * prefix, with a kid that is not its gateway, over a summary not in
 * deterministic encoding, and after any one character of it is changed;
 * the PDF seal's structure and check; issuance numbers and dates.
 */
#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_certcode.h"
#include "hwg_cose.h"
#include "hwg_test.h"
#include "hwg_time.h"

static EVP_PKEY *seal, *other, *ed;

/* ---------------------------------------------------------------- base45 */

static int
enc_is(const char *in, const char *want)
{
	char out[128];

	return hwg_base45_encode((const uint8_t *)in, strlen(in), out, sizeof(out)) == 0 &&
	       strcmp(out, want) == 0 && hwg_base45_encoded_len(strlen(in)) == strlen(want);
}

static int
dec_is(const char *in, const char *want)
{
	uint8_t out[128];
	size_t n = 0;
	struct hwg_error err = {0};

	return hwg_base45_decode(in, strlen(in), out, sizeof(out), &n, &err) == 0 &&
	       n == strlen(want) && memcmp(out, want, n) == 0;
}

static int
dec_refused(const char *in, const char *why)
{
	uint8_t out[128];
	size_t n = 0;
	struct hwg_error err = {0};
	int rc = hwg_base45_decode(in, strlen(in), out, sizeof(out), &n, &err);

	if (rc != HWG_E_BAD_ENCODING || strstr(err.message, why) == NULL) {
		fprintf(stderr, "  \"%s\": rc %d \"%s\"\n", in, rc, err.message);
		return 0;
	}
	return 1;
}

static void
test_base45_rfc9285(void)
{
	/* RFC 9285 section 4.3 and 4.4 */
	CHECK(enc_is("AB", "BB8"));
	CHECK(enc_is("Hello!!", "%69 VD92EX0"));
	CHECK(enc_is("base-45", "UJCLQE7W581"));
	CHECK(enc_is("", ""));
	CHECK(dec_is("QED8WEX0", "ietf!"));
	CHECK(dec_is("BB8", "AB"));
	CHECK(dec_is("%69 VD92EX0", "Hello!!"));
	CHECK(dec_is("", ""));
	CHECK(dec_is("FGW", "\xff\xff")); /* 65535: the largest triplet */
	CHECK(dec_is("U5", "\xff"));      /* 255: the largest pair */
}

static void
test_base45_refusals(void)
{
	CHECK(dec_refused("GGW", "make 65536, over 65535"));
	CHECK(dec_refused("V5", "make 256, over 255"));
	CHECK(dec_refused("::", "make 2024, over 255"));
	CHECK(dec_refused("BB8A", "4 characters leave one over"));
	CHECK(dec_refused("B", "leave one over"));
	CHECK(dec_refused("bb8", "character 1 ('b') is not in the alphabet"));
	CHECK(dec_refused("BB8B\n8", "character 5 (0x0a)"));
	CHECK(dec_refused("BB=", "character 3 ('=')"));
	{
		uint8_t out[2];
		size_t n;
		char buf[4] = "BB8";

		CHECK_EQ_INT(hwg_base45_decode(buf, 3, out, 1, &n, NULL), HWG_E_TOO_LARGE);
		buf[1] = '\0'; /* a NUL inside the length given */
		CHECK_EQ_INT(hwg_base45_decode(buf, 3, out, 2, &n, NULL), HWG_E_BAD_ENCODING);
		CHECK_EQ_INT(hwg_base45_encode((const uint8_t *)"AB", 2, buf, 3), HWG_E_TOO_LARGE);
	}
}

static void
test_base45_round_trips(void)
{
	uint8_t in[64], back[64];
	char text[128];
	size_t n;

	for (size_t len = 0; len <= sizeof(in); len++) {
		RAND_bytes(in, sizeof(in));
		if (len > 0)
			in[0] = 0xff; /* the largest values too */
		REQUIRE(hwg_base45_encode(in, len, text, sizeof(text)) == 0);
		CHECK_EQ_INT(strlen(text), hwg_base45_encoded_len(len));
		CHECK(strspn(text, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:") ==
		      strlen(text));
		REQUIRE(hwg_base45_decode(text, strlen(text), back, sizeof(back), &n, NULL) == 0);
		CHECK(n == len && memcmp(in, back, len) == 0);
	}
}

/* ---------------------------------------------------------------- summaries */

static struct hwg_certcode_summary
summary(void)
{
	struct hwg_certcode_summary s;

	memset(&s, 0, sizeof(s));
	snprintf(s.gw, sizeof(s.gw), "city-gw-01");
	snprintf(s.no, sizeof(s.no), "city-gw-01-20260401-000042");
	for (int i = 0; i < 32; i++)
		s.doc[i] = (uint8_t)i;
	snprintf(s.kind, sizeof(s.kind), "juminhyo");
	snprintf(s.date, sizeof(s.date), "2026-04-01");
	return s;
}

static void
test_numbers_and_dates(void)
{
	CHECK(hwg_certcode_number_valid("gw-20260401-000001", "gw"));
	CHECK(hwg_certcode_number_valid("gw-20260401-000001", NULL));
	CHECK(hwg_certcode_number_valid("a-b-20240229-999999", "a-b"));
	CHECK(!hwg_certcode_number_valid("gw-20260401-000001", "gx"));
	CHECK(!hwg_certcode_number_valid("gw-20260401-00001", "gw"));   /* 5 digits */
	CHECK(!hwg_certcode_number_valid("gw-20260401-0000011", "gw")); /* 7 */
	CHECK(!hwg_certcode_number_valid("gw-20260431-000001", "gw"));  /* 31 April */
	CHECK(!hwg_certcode_number_valid("gw-20250229-000001", "gw"));  /* not a leap year */
	CHECK(!hwg_certcode_number_valid("gw_20260401_000001", "gw"));
	CHECK(!hwg_certcode_number_valid("gw-2026040a-000001", "gw"));
	CHECK(!hwg_certcode_number_valid("gw-20260401-00000x", "gw"));
	CHECK(!hwg_certcode_number_valid("-20260401-000001", NULL)); /* no gateway */
	CHECK(!hwg_certcode_number_valid(NULL, "gw"));

	CHECK(hwg_date_valid("2026-04-01"));
	CHECK(hwg_date_valid("2000-02-29"));
	CHECK(hwg_date_valid("1926-12-25"));
	CHECK(!hwg_date_valid("1900-02-29"));
	CHECK(!hwg_date_valid("2026-13-01"));
	CHECK(!hwg_date_valid("2026-00-01"));
	CHECK(!hwg_date_valid("2026-01-00"));
	CHECK(!hwg_date_valid("2026-1-01"));
	CHECK(!hwg_date_valid("2026/01/01"));
	CHECK(!hwg_date_valid("2026-01-011"));
	CHECK(!hwg_date_valid("0999-01-01"));
	CHECK(!hwg_date_valid(NULL));
}

static void
test_summary_encoding(void)
{
	/* keys in deterministic order: gw, no, doc, date, kind, orig */
	static const char order[][5] = {"gw", "no", "doc", "date", "kind", "orig"};
	struct hwg_certcode_summary s = summary(), back;
	struct hwg_error err = {0};
	uint8_t *p = NULL;
	size_t len = 0;
	const uint8_t *at;

	snprintf(s.orig, sizeof(s.orig), "city-gw-01-20260301-000007");
	REQUIRE(hwg_certcode_summary_encode(&s, &p, &len, &err) == 0);
	CHECK(p[0] == 0xa6);
	at = p;
	for (size_t i = 0; i < 6; i++) {
		const uint8_t *k = memmem(p, len, order[i], strlen(order[i]));

		CHECK(k != NULL && k > at);
		at = k != NULL ? k : at;
	}
	REQUIRE(hwg_certcode_summary_decode(p, len, &back, &err) == 0);
	CHECK(memcmp(&back, &s, sizeof(s)) == 0);
	free(p);
	s.orig[0] = '\0';
	REQUIRE(hwg_certcode_summary_encode(&s, &p, &len, &err) == 0);
	CHECK(p[0] == 0xa5);
	REQUIRE(hwg_certcode_summary_decode(p, len, &back, &err) == 0);
	CHECK_EQ_STR(back.orig, "");
	free(p);
}

static int
check_refused(struct hwg_certcode_summary s, const char *why)
{
	struct hwg_error err = {0};
	uint8_t *p = NULL;
	size_t len;
	int rc = hwg_certcode_summary_encode(&s, &p, &len, &err);

	free(p);
	if (rc != HWG_E_INVALID || strstr(err.message, why) == NULL) {
		fprintf(stderr, "  rc %d \"%s\", expected \"%s\"\n", rc, err.message, why);
		return 0;
	}
	return 1;
}

static void
test_summary_check_refusals(void)
{
	struct hwg_certcode_summary s;

	s = summary();
	s.gw[0] = '\0';
	CHECK(check_refused(s, "\"gw\""));
	s = summary();
	s.gw[3] = '\n';
	CHECK(check_refused(s, "\"gw\""));
	s = summary();
	snprintf(s.no, sizeof(s.no), "other-gw-20260401-000042");
	CHECK(check_refused(s, "\"no\" is not an issuance number of gateway \"city-gw-01\""));
	s = summary();
	snprintf(s.kind, sizeof(s.kind), "passport");
	CHECK(check_refused(s, "\"kind\""));
	s = summary();
	snprintf(s.date, sizeof(s.date), "2026-02-30");
	CHECK(check_refused(s, "\"date\""));
	s = summary();
	snprintf(s.orig, sizeof(s.orig), "%s", s.no);
	CHECK(check_refused(s, "\"orig\""));
	s = summary();
	snprintf(s.orig, sizeof(s.orig), "x-20260401-000001");
	CHECK(check_refused(s, "\"orig\""));
	CHECK(hwg_certcode_kind_title("inkan") != NULL &&
	      strcmp(hwg_certcode_kind_title("juminhyo"), "住民票の写し") == 0);
}

/* A payload built by hand: map entries (text keys, text values except "doc"). */
static uint8_t *
hand_payload(int sorted, const char *extra_key, size_t *len)
{
	struct hwg_certcode_summary s = summary();
	cbor_item_t *m = cbor_new_definite_map(6);
	unsigned char *out = NULL;
	size_t cap = 0;

	if (sorted) { /* libcbor keeps insertion order: this one is deterministic */
		hwg_cbor_map_put_text(m, "gw", s.gw);
		hwg_cbor_map_put_text(m, "no", s.no);
		hwg_cbor_map_put_bytes(m, "doc", s.doc, 32);
		hwg_cbor_map_put_text(m, "date", s.date);
		hwg_cbor_map_put_text(m, "kind", s.kind);
	} else {
		hwg_cbor_map_put_text(m, "no", s.no);
		hwg_cbor_map_put_bytes(m, "doc", s.doc, 32);
		hwg_cbor_map_put_text(m, "kind", s.kind);
		hwg_cbor_map_put_text(m, "date", s.date);
		hwg_cbor_map_put_text(m, "gw", s.gw);
	}
	if (extra_key != NULL)
		hwg_cbor_map_put_text(m, extra_key, "x");
	*len = cbor_serialize_alloc(m, &out, &cap);
	cbor_decref(&m);
	return out;
}

static void
test_summary_decode_refusals(void)
{
	struct hwg_certcode_summary s;
	struct hwg_error err = {0};
	uint8_t *p;
	size_t len;

	p = hand_payload(1, NULL, &len);
	CHECK_EQ_INT(hwg_certcode_summary_decode(p, len, &s, &err), 0); /* the control */
	free(p);
	p = hand_payload(0, NULL, &len);
	CHECK_EQ_INT(hwg_certcode_summary_decode(p, len, &s, &err), HWG_E_BAD_ENCODING);
	CHECK(strstr(err.message, "deterministic") != NULL);
	free(p);
	p = hand_payload(1, "zz", &len);
	CHECK_EQ_INT(hwg_certcode_summary_decode(p, len, &s, &err), HWG_E_BAD_ENCODING);
	CHECK(strstr(err.message, "not a map of") != NULL);
	free(p);
	CHECK_EQ_INT(hwg_certcode_summary_decode((const uint8_t *)"\xa0", 1, &s, &err),
	             HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(hwg_certcode_summary_decode((const uint8_t *)"\xa0\x00", 2, &s, &err),
	             HWG_E_BAD_ENCODING);
}

/* ---------------------------------------------------------------- codes */

static char *
code_for(const struct hwg_certcode_summary *s, EVP_PKEY *key)
{
	struct hwg_error err = {0};
	uint8_t *cose = NULL;
	size_t len = 0;
	char *text = NULL;

	if (hwg_certcode_sign(s, hwg_cose_evp_signer, key, &cose, &len, &err) != 0 ||
	    hwg_certcode_text(cose, len, &text, &err) != 0)
		fprintf(stderr, "  code: %s\n", err.message);
	free(cose);
	return text;
}

static int
verify(const char *text, EVP_PKEY *key, struct hwg_certcode_summary *out, struct hwg_error *err)
{
	return hwg_certcode_verify(text, strlen(text), key, out, err);
}

static void
test_code_round_trip(void)
{
	struct hwg_certcode_summary s = summary(), back;
	struct hwg_error err = {0};
	char *text;

	snprintf(s.orig, sizeof(s.orig), "city-gw-01-20260301-000007");
	text = code_for(&s, seal);
	REQUIRE(text != NULL);
	CHECK(strncmp(text, "HWC1:", 5) == 0);
	CHECK(strlen(text) <= HWG_CERTCODE_TEXT_MAX);
	/* QR alphanumeric mode: digits, upper case, space $ % * + - . / : */
	CHECK(strspn(text, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:") == strlen(text));
	CHECK_EQ_INT(verify(text, seal, &back, &err), 0);
	CHECK(memcmp(&back, &s, sizeof(s)) == 0);
	CHECK_EQ_INT(verify(text, other, &back, &err), HWG_E_BAD_SIGNATURE);
	CHECK(strstr(err.message, "does not verify with this key") != NULL);
	CHECK_EQ_INT(verify(text, ed, &back, &err), HWG_E_ALG_NOT_ALLOWED);
	CHECK(strstr(err.message, "P-256") != NULL);
	CHECK_EQ_INT(verify(text + 5, seal, &back, &err), HWG_E_BAD_ENCODING);
	CHECK(strstr(err.message, "does not start with \"HWC1:\"") != NULL);
	text[0] = 'h';
	CHECK_EQ_INT(verify(text, seal, &back, &err), HWG_E_BAD_ENCODING);
	free(text);
}

static void
test_one_character_changed_refused(void)
{
	static const char b45[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
	struct hwg_certcode_summary s = summary(), back;
	struct hwg_error err = {0};
	char *text = code_for(&s, seal);
	size_t n, accepted = 0, signature = 0;

	REQUIRE(text != NULL);
	n = strlen(text);
	for (size_t i = 0; i < n; i++) {
		char was = text[i];

		/* the next character of the alphabet, and one outside it */
		text[i] = i < 5 ? (char)(was + 1) : b45[(strchr(b45, was) - b45 + 1) % 45];
		int rc = verify(text, seal, &back, &err);

		accepted += rc == 0;
		signature += rc == HWG_E_BAD_SIGNATURE;
		text[i] = 'a';
		accepted += verify(text, seal, &back, &err) == 0;
		text[i] = was;
	}
	CHECK_EQ_INT(accepted, 0);
	CHECK(signature > 0); /* most changes still decode and fail the signature */
	CHECK_EQ_INT(verify(text, seal, &back, &err), 0);
	/* a character cut or added */
	text[n - 1] = '\0';
	CHECK(verify(text, seal, &back, &err) != 0);
	free(text);
}

/* Sign payload as a code with kid, with key; the text. */
static char *
hand_code(const uint8_t *payload, size_t len, const char *kid, EVP_PKEY *key)
{
	struct hwg_error err = {0};
	uint8_t *cose = NULL;
	size_t cose_len = 0;
	char *text = NULL;

	if (hwg_cose_sign1_encode_kid(hwg_cose_alg_for_key(key), (const uint8_t *)kid, strlen(kid),
	                              payload, len, hwg_cose_evp_signer, key, &cose, &cose_len,
	                              &err) != 0 ||
	    hwg_certcode_text(cose, cose_len, &text, &err) != 0)
		fprintf(stderr, "  hand code: %s\n", err.message);
	free(cose);
	return text;
}

static void
test_code_refusals(void)
{
	struct hwg_certcode_summary s = summary(), back;
	struct hwg_error err = {0};
	uint8_t *p = NULL, plain[64];
	size_t len = 0;
	char *text, long_text[HWG_CERTCODE_TEXT_MAX + 8];

	REQUIRE(hwg_certcode_summary_encode(&s, &p, &len, &err) == 0);
	text = hand_code(p, len, "city-gw-01", seal); /* the control: as hwg_certcode_sign */
	CHECK_EQ_INT(verify(text, seal, &back, &err), 0);
	free(text);
	text = hand_code(p, len, "city-gw-02", seal);
	CHECK_EQ_INT(verify(text, seal, &back, &err), HWG_E_BAD_ENCODING);
	CHECK(strstr(err.message, "key id is not its gateway") != NULL);
	free(text);
	text = hand_code(p, len, "city-gw-01", ed);
	CHECK_EQ_INT(verify(text, ed, &back, &err), HWG_E_ALG_NOT_ALLOWED);
	CHECK(strstr(err.message, "EdDSA, not ES256") != NULL);
	free(text);
	free(p);
	p = hand_payload(0, NULL, &len);
	text = hand_code(p, len, "city-gw-01", seal);
	CHECK_EQ_INT(verify(text, seal, &back, &err), HWG_E_BAD_ENCODING);
	CHECK(strstr(err.message, "deterministic") != NULL);
	free(text);
	free(p);
	/* a COSE_Sign1 without a kid (the API's responses) */
	REQUIRE(hwg_cose_sign1_encode(HWG_COSE_ES256, (const uint8_t *)"\xa0", 1,
	                              hwg_cose_evp_signer, seal, &p, &len, &err) == 0);
	REQUIRE(hwg_certcode_text(p, len, &text, &err) == 0);
	CHECK_EQ_INT(verify(text, seal, &back, &err), HWG_E_BAD_ENCODING);
	CHECK(strstr(err.message, "no kid") != NULL);
	free(text);
	free(p);
	/* base45 that is not COSE, and too long a text */
	RAND_bytes(plain, sizeof(plain));
	memset(long_text, 0, sizeof(long_text));
	memcpy(long_text, "HWC1:", 5);
	REQUIRE(hwg_base45_encode(plain, sizeof(plain), long_text + 5, sizeof(long_text) - 5) == 0);
	CHECK_EQ_INT(verify(long_text, seal, &back, &err), HWG_E_BAD_ENCODING);
	memset(long_text + 5, '0', sizeof(long_text) - 6);
	long_text[sizeof(long_text) - 1] = '\0';
	CHECK_EQ_INT(verify(long_text, seal, &back, &err), HWG_E_BAD_ENCODING);
	CHECK(strstr(err.message, "at most") != NULL);
	CHECK_EQ_INT(hwg_certcode_verify("HWC1:", 5, seal, &back, &err), HWG_E_BAD_ENCODING);
}

/* ---------------------------------------------------------------- the PDF seal */

static void
test_pdf_seal(void)
{
	static const char want_head[] = "\x83\x70hwgw-pdf-seal-v1\x78\x1a"
	                                "city-gw-01-20260401-000042\x58\x20";
	uint8_t digest[32], *tbs = NULL, der[80], raw[64];
	size_t len = 0, der_len = sizeof(der);
	struct hwg_error err = {0};
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	memset(digest, 0x5a, sizeof(digest));
	REQUIRE(hwg_certcode_pdf_seal_tbs("city-gw-01-20260401-000042", digest, &tbs, &len) == 0);
	CHECK(len == sizeof(want_head) - 1 + 32 &&
	      memcmp(tbs, want_head, sizeof(want_head) - 1) == 0);
	/* an ES256 signature over it, as the keyholder makes (SHA-256, then ECDSA) */
	REQUIRE(md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, seal) == 1 &&
	        EVP_DigestSign(md, der, &der_len, tbs, len) == 1 &&
	        hwg_ecdsa_der_to_raw(der, der_len, raw) == 0);
	EVP_MD_CTX_free(md);
	free(tbs);
	CHECK_EQ_INT(
	    hwg_certcode_pdf_seal_verify(seal, "city-gw-01-20260401-000042", digest, raw, &err), 0);
	CHECK_EQ_INT(
	    hwg_certcode_pdf_seal_verify(other, "city-gw-01-20260401-000042", digest, raw, &err),
	    HWG_E_BAD_SIGNATURE);
	CHECK_EQ_INT(
	    hwg_certcode_pdf_seal_verify(seal, "city-gw-01-20260401-000043", digest, raw, &err),
	    HWG_E_BAD_SIGNATURE);
	digest[31] ^= 1;
	CHECK_EQ_INT(
	    hwg_certcode_pdf_seal_verify(seal, "city-gw-01-20260401-000042", digest, raw, &err),
	    HWG_E_BAD_SIGNATURE);
	CHECK_EQ_INT(
	    hwg_certcode_pdf_seal_verify(ed, "city-gw-01-20260401-000042", digest, raw, &err),
	    HWG_E_ALG_NOT_ALLOWED);
	CHECK_EQ_INT(hwg_certcode_pdf_seal_tbs("no-number", digest, &tbs, &len), HWG_E_INVALID);
}

int
main(void)
{
	seal = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (seal == NULL || other == NULL || ed == NULL)
		return 2;
	HWG_RUN(test_base45_rfc9285);
	HWG_RUN(test_base45_refusals);
	HWG_RUN(test_base45_round_trips);
	HWG_RUN(test_numbers_and_dates);
	HWG_RUN(test_summary_encoding);
	HWG_RUN(test_summary_check_refusals);
	HWG_RUN(test_summary_decode_refusals);
	HWG_RUN(test_code_round_trip);
	HWG_RUN(test_one_character_changed_refused);
	HWG_RUN(test_code_refusals);
	HWG_RUN(test_pdf_seal);
	EVP_PKEY_free(seal);
	EVP_PKEY_free(other);
	EVP_PKEY_free(ed);
	return HWG_TEST_END();
}
