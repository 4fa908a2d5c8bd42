/*
 * test_cose.c — crypto/hwg_cose: round trips with both algorithms, the
 * deterministic encoding, every decoder refusal with the bytes that must
 * cause it and the message it must give, wrong keys and algorithms,
 * DER<->raw ECDSA conversion, a bit-flip/truncation mutator over
 * valid messages that must never produce an accepted message, and the
 * kid-bearing form (documents and verification codes) both ways.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cose.h"
#include "hwg_test.h"

static EVP_PKEY *ed, *ed2, *ec, *ec2, *ec384;

/* ---------------------------------------------------------------- helpers */

static uint8_t *
signed_msg(EVP_PKEY *key, const void *payload, size_t payload_len, size_t *len)
{
	uint8_t *out = NULL;
	struct hwg_error err = {0};

	if (hwg_cose_sign1_encode(hwg_cose_alg_for_key(key), payload, payload_len,
	                          hwg_cose_evp_signer, key, &out, len, &err) != 0) {
		fprintf(stderr, "  encode: %s\n", err.message);
		return NULL;
	}
	return out;
}

static int
decode_verify(const uint8_t *msg, size_t len, EVP_PKEY *key, struct hwg_error *err)
{
	struct hwg_cose_sign1 m;
	int rc = hwg_cose_sign1_decode(msg, len, &m, err);

	if (rc != 0)
		return rc;
	rc = hwg_cose_sign1_verify(&m, key, err);
	hwg_cose_sign1_clear(&m);
	return rc;
}

/* Hex (spaces ignored) into out; returns the byte count. */
static size_t
unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (const char *p = hex; *p != '\0'; p++) {
		int v;

		if (*p == ' ')
			continue;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else
			abort();
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap)
			abort();
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		abort();
	return n;
}

#define H8 "1111111111111111"
#define SIG_BYTES H8 H8 H8 H8 H8 H8 H8 H8 /* 64 bytes of 0x11 */
#define SIG " 5840" SIG_BYTES
#define PROT " 43a10127" /* h'a10127' = {1: -8} */

/*
 * Decode the hex message and expect code with a message containing want;
 * out must stay untouched when refused.  Reports the caller's line.
 */
static void
expect_decode(int line, const char *hex, int code, const char *want)
{
	uint8_t msg[512];
	size_t len = unhex(hex, msg, sizeof(msg));
	struct hwg_cose_sign1 m, before;
	struct hwg_error err = {0};
	int rc;

	memset(&m, 0xa5, sizeof(m));
	memcpy(&before, &m, sizeof(m));
	rc = hwg_cose_sign1_decode(msg, len, &m, &err);
	if (rc != code || (want != NULL && strstr(err.message, want) == NULL)) {
		fprintf(stderr, "  FAIL line %d: rc %d \"%s\", expected %d \"%s\"\n", line, rc,
		        err.message, code, want ? want : "");
		hwg_test_cur_failed = 1;
	}
	if (rc == 0)
		hwg_cose_sign1_clear(&m);
	else if (memcmp(&m, &before, sizeof(m)) != 0) {
		fprintf(stderr, "  FAIL line %d: out changed on failure\n", line);
		hwg_test_cur_failed = 1;
	}
}
#define EXPECT(hex, code, want) expect_decode(__LINE__, hex, code, want)

/* ---------------------------------------------------------------- round trips */

static void
test_alg_names_and_keys(void)
{
	CHECK_EQ_INT(hwg_cose_alg_for_key(ec), HWG_COSE_ES256);
	CHECK_EQ_INT(hwg_cose_alg_for_key(ed), HWG_COSE_EDDSA);
	CHECK_EQ_INT(hwg_cose_alg_for_key(NULL), 0);
	CHECK_EQ_INT(hwg_cose_alg_from_name("ES256"), HWG_COSE_ES256);
	CHECK_EQ_INT(hwg_cose_alg_from_name("EdDSA"), HWG_COSE_EDDSA);
	CHECK_EQ_INT(hwg_cose_alg_from_name("ES384"), 0);
	CHECK_EQ_INT(hwg_cose_alg_from_name(NULL), 0);
	CHECK_EQ_STR(hwg_cose_alg_name(HWG_COSE_ES256), "ES256");
	CHECK(hwg_cose_alg_name(-35) == NULL);
}

static void
round_trip(EVP_PKEY *key, int alg)
{
	static const char payload[] = "\xa1\x61v\x01 payload";
	size_t len = 0;
	uint8_t *msg = signed_msg(key, payload, sizeof(payload), &len);
	struct hwg_cose_sign1 m;
	struct hwg_error err = {0};

	REQUIRE(msg != NULL);
	CHECK_EQ_INT(hwg_cose_sign1_decode(msg, len, &m, &err), 0);
	CHECK_EQ_INT(m.alg, alg);
	CHECK(m.payload_len == sizeof(payload) && memcmp(m.payload, payload, sizeof(payload)) == 0);
	CHECK(m.protected_len == 3 && memcmp(m.protected_bytes, "\xa1\x01", 2) == 0);
	CHECK_EQ_INT(hwg_cose_sign1_verify(&m, key, &err), 0);
	hwg_cose_sign1_clear(&m);
	CHECK(m.payload == NULL && m.protected_bytes == NULL);
	free(msg);
}

static void
test_round_trip_es256(void)
{
	round_trip(ec, HWG_COSE_ES256);
}

static void
test_round_trip_eddsa(void)
{
	round_trip(ed, HWG_COSE_EDDSA);
}

static void
test_round_trip_empty_and_large_payload(void)
{
	static uint8_t big[40000];
	size_t len = 0;
	uint8_t *msg;
	struct hwg_error err = {0};

	msg = signed_msg(ed, NULL, 0, &len);
	CHECK(msg != NULL && decode_verify(msg, len, ed, &err) == 0);
	free(msg);
	memset(big, 0x5a, sizeof(big));
	msg = signed_msg(ec, big, sizeof(big), &len);
	CHECK(msg != NULL && decode_verify(msg, len, ec, &err) == 0);
	CHECK_EQ_INT(len, 1 + 1 + 4 + 1 + 3 + sizeof(big) + 2 + 64);
	free(msg);
}

static void
test_encoding_is_deterministic(void)
{
	/* 18([h'a10127', {}, h'7061796c6f6164', sig]) with shortest heads */
	static const uint8_t head[] = {0xd2, 0x84, 0x43, 0xa1, 0x01, 0x27, 0xa0, 0x47, 'p',
	                               'a',  'y',  'l',  'o',  'a',  'd',  0x58, 0x40};
	size_t len1 = 0, len2 = 0;
	uint8_t *a = signed_msg(ed, "payload", 7, &len1), *b = signed_msg(ed, "payload", 7, &len2);
	uint8_t *c;

	CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL)
		goto out;
	CHECK_EQ_INT(len1, sizeof(head) + 64);
	CHECK(len1 == len2 && memcmp(a, b, len1) == 0); /* Ed25519 is deterministic */
	CHECK(memcmp(a, head, sizeof(head)) == 0);
	c = signed_msg(ec, "payload", 7, &len2);
	CHECK(c != NULL && len2 == len1 && c[5] == 0x26); /* {1: -7} */
	free(c);
out:
	free(a);
	free(b);
}

static void
test_sig_structure_bytes(void)
{
	static const uint8_t want[] = {0x84, 0x6a, 'S',  'i',  'g',  'n',  'a',  't',  'u', 'r',
	                               'e',  '1',  0x43, 0xa1, 0x01, 0x26, 0x40, 0x42, 'h', 'i'};
	uint8_t *out = NULL;
	size_t len = 0;

	CHECK_EQ_INT(hwg_cose_sig_structure((const uint8_t *)"\xa1\x01\x26", 3,
	                                    (const uint8_t *)"hi", 2, &out, &len),
	             0);
	CHECK(len == sizeof(want) && out != NULL && memcmp(out, want, len) == 0);
	free(out);
	CHECK_EQ_INT(hwg_cose_sig_structure(NULL, 3, NULL, 0, &out, &len), HWG_E_INVALID);
}

/* ---------------------------------------------------------------- wrong keys */

static void
test_tampered_payload_bad_signature(void)
{
	EVP_PKEY *keys[2] = {ec, ed};

	for (int i = 0; i < 2; i++) {
		size_t len = 0;
		uint8_t *msg = signed_msg(keys[i], "payload", 7, &len);
		struct hwg_error err = {0};

		CHECK(msg != NULL);
		if (msg == NULL)
			continue;
		CHECK_EQ_INT(decode_verify(msg, len, keys[i], &err), 0);
		msg[8] ^= 0x01; /* 'p' of the payload */
		CHECK_EQ_INT(decode_verify(msg, len, keys[i], &err), HWG_E_BAD_SIGNATURE);
		CHECK_EQ_STR(hwg_err_code(err.code), "bad_signature");
		free(msg);
	}
}

static void
test_other_key_bad_signature(void)
{
	EVP_PKEY *signer[2] = {ec, ed}, *other[2] = {ec2, ed2};

	for (int i = 0; i < 2; i++) {
		size_t len = 0;
		uint8_t *msg = signed_msg(signer[i], "payload", 7, &len);
		struct hwg_error err = {0};

		CHECK(msg != NULL);
		if (msg == NULL)
			continue;
		CHECK_EQ_INT(decode_verify(msg, len, other[i], &err), HWG_E_BAD_SIGNATURE);
		CHECK(strstr(err.message, "does not verify") != NULL);
		free(msg);
	}
}

static void
test_key_of_other_algorithm_refused(void)
{
	size_t len = 0;
	uint8_t *es = signed_msg(ec, "payload", 7, &len), *eddsa;
	size_t elen = 0;
	struct hwg_error err = {0};

	eddsa = signed_msg(ed, "payload", 7, &elen);
	CHECK(es != NULL && eddsa != NULL);
	if (es == NULL || eddsa == NULL)
		goto out;
	CHECK_EQ_INT(decode_verify(es, len, ed, &err), HWG_E_ALG_NOT_ALLOWED);
	CHECK_EQ_STR(err.message, "message is signed with ES256 but the key is an Ed25519 key");
	CHECK_EQ_INT(decode_verify(eddsa, elen, ec, &err), HWG_E_ALG_NOT_ALLOWED);
	/* EC but not P-256: refused by the group name */
	CHECK_EQ_INT(hwg_cose_alg_for_key(ec384), 0);
	CHECK_EQ_INT(decode_verify(es, len, ec384, &err), HWG_E_ALG_NOT_ALLOWED);
	CHECK(strstr(err.message, "neither P-256 nor Ed25519") != NULL);
out:
	free(es);
	free(eddsa);
}

static void
test_signer_refuses_mismatch(void)
{
	uint8_t sig[HWG_COSE_SIG_LEN], *out = NULL;
	size_t len = 0;
	struct hwg_error err = {0};

	memset(sig, 0x33, sizeof(sig));
	CHECK_EQ_INT(hwg_cose_evp_signer(ec, HWG_COSE_EDDSA, (const uint8_t *)"x", 1, sig, &err),
	             HWG_E_ALG_NOT_ALLOWED);
	CHECK_EQ_INT(hwg_cose_evp_signer(ec384, HWG_COSE_ES256, (const uint8_t *)"x", 1, sig, &err),
	             HWG_E_ALG_NOT_ALLOWED);
	CHECK_EQ_INT(sig[0], 0x33); /* untouched */
	CHECK_EQ_INT(hwg_cose_sign1_encode(-35, (const uint8_t *)"x", 1, hwg_cose_evp_signer, ec,
	                                   &out, &len, &err),
	             HWG_E_ALG_NOT_ALLOWED);
	CHECK(out == NULL);
	CHECK_EQ_INT(hwg_cose_sign1_encode(HWG_COSE_EDDSA, (const uint8_t *)"x", 1,
	                                   hwg_cose_evp_signer, ec, &out, &len, &err),
	             HWG_E_ALG_NOT_ALLOWED);
	CHECK(out == NULL);
}

/* ---------------------------------------------------------------- decoder */

static void
test_base_message_accepted(void)
{
	/* the hand-made base every refusal below is one change away from */
	EXPECT("d2 84" PROT " a0 4100" SIG, 0, NULL);
}

static void
test_refuse_empty(void)
{
	EXPECT("", HWG_E_BAD_ENCODING, "empty message");
}

static void
test_refuse_not_cbor(void)
{
	EXPECT("ff fe fd", HWG_E_BAD_ENCODING, "not CBOR");
	EXPECT("1c", HWG_E_BAD_ENCODING, "not CBOR"); /* reserved additional info */
	/* "garbage!" happens to be a text string: still not a COSE_Sign1 */
	EXPECT("67 61 72 62 61 67 65 21", HWG_E_BAD_ENCODING,
	       "not a COSE_Sign1: a text string where a 4-element array belongs");
	EXPECT("d2 84" PROT " a0 41", HWG_E_BAD_ENCODING,
	       "payload claims 1 bytes but only 0 remain");
	EXPECT("d2 84" PROT " a0 4100", HWG_E_BAD_ENCODING,
	       "COSE_Sign1 truncated or malformed at the signature");
}

static void
test_refuse_trailing_bytes(void)
{
	uint8_t msg[512];
	size_t len = unhex("d2 84" PROT " a0 4100" SIG " 00", msg, sizeof(msg));
	struct hwg_cose_sign1 m;
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_cose_sign1_decode(msg, len, &m, &err), HWG_E_BAD_ENCODING);
	CHECK_EQ_STR(err.message, "trailing bytes after COSE_Sign1");
	CHECK_EQ_INT(hwg_cose_sign1_decode(msg, len - 1, &m, &err), 0);
	hwg_cose_sign1_clear(&m);
	EXPECT("d2 84" PROT " a0 4100" SIG " d2", HWG_E_BAD_ENCODING,
	       "trailing bytes after COSE_Sign1");
}

/* api.cddl: signed-message = #6.18([...]); the tag is part of the contract */
static void
test_untagged_refused(void)
{
	size_t len = 0;
	uint8_t *msg = signed_msg(ed, "payload", 7, &len);
	struct hwg_error err = {0};

	CHECK(msg != NULL && msg[0] == 0xd2);
	if (msg == NULL)
		return;
	CHECK_EQ_INT(decode_verify(msg + 1, len - 1, ed, &err), HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(decode_verify(msg, len, ed, &err), 0);
	free(msg);
	EXPECT("84" PROT " a0 4100" SIG, HWG_E_BAD_ENCODING, "COSE_Sign1 without tag 18");
	EXPECT("d8 12 84" PROT " a0 4100" SIG, 0, NULL); /* tag 18 in its two-byte form */
}

static void
test_refuse_wrong_tag(void)
{
	EXPECT("d3 84" PROT " a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "tag 19 is not the COSE_Sign1 tag (18)");
	EXPECT("d8 62 84" PROT " a0 4100" SIG, HWG_E_BAD_ENCODING, "tag 98 is not"); /* Sign */
	EXPECT("c0 84" PROT " a0 4100" SIG, HWG_E_BAD_ENCODING, "tag 0 is not");
	EXPECT("d2 d2 84" PROT " a0 4100" SIG, HWG_E_BAD_ENCODING, "second tag");
	EXPECT("d2", HWG_E_BAD_ENCODING, "truncated or malformed at the array after the tag");
}

static void
test_refuse_three_elements(void)
{
	EXPECT("d2 83" PROT " a0 4100", HWG_E_BAD_ENCODING,
	       "COSE_Sign1 array has 3 elements, not 4");
	EXPECT("d2 85" PROT " a0 4100" SIG " 40", HWG_E_BAD_ENCODING, "has 5 elements");
}

static void
test_refuse_indefinite_array(void)
{
	EXPECT("d2 9f" PROT " a0 4100" SIG " ff", HWG_E_BAD_ENCODING,
	       "COSE_Sign1 array is indefinite-length");
}

static void
test_refuse_protected_not_bstr(void)
{
	EXPECT("d2 84 a10127 a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "protected header is a map, not a byte string");
	EXPECT("d2 84 5f43a10127ff a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "protected header is an indefinite-length byte string");
}

static void
test_refuse_protected_not_map(void)
{
	EXPECT("d2 84 41 80 a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "protected header holds an array, not a map");
	EXPECT("d2 84 42 6161 a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "protected header holds a text string, not a map");
	EXPECT("d2 84 41 ff a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "protected header is not one well-formed CBOR item");
	EXPECT("d2 84 44 bf0127ff a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "protected header map is indefinite-length");
}

static void
test_refuse_protected_trailing_bytes(void)
{
	EXPECT("d2 84 44 a10127 00 a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "protected header is not one well-formed CBOR item: trailing bytes");
}

static void
test_refuse_alg_missing(void)
{
	EXPECT("d2 84 41 a0 a0 4100" SIG, HWG_E_BAD_ENCODING, "protected header has no alg (1)");
	EXPECT("d2 84 40 a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "protected header is empty: alg (1) must be protected");
	/* alg only in the unprotected bucket does not count */
	EXPECT("d2 84 41 a0 a10127 4100" SIG, HWG_E_BAD_ENCODING, "protected header has no alg");
}

static void
test_refuse_alg_text(void)
{
	/* {1: "ES256"} */
	EXPECT("d2 84 48 a1 01 654553323536 a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "alg (1) is a text string, not an integer");
	EXPECT("d2 84 45 a1 01 f93c00 a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "alg (1) is a simple value or float, not an integer");
}

static void
test_refuse_alg_not_allowed(void)
{
	EXPECT("d2 84 44 a10138 22 a0 4100" SIG, HWG_E_ALG_NOT_ALLOWED,
	       "algorithm -35 is not allowed");
	EXPECT("d2 84 43 a10107 a0 4100" SIG, HWG_E_ALG_NOT_ALLOWED, "algorithm 7 is not allowed");
	EXPECT("d2 84 43 a10125 a0 4100" SIG, HWG_E_ALG_NOT_ALLOWED, "algorithm -6 is not allowed");
	EXPECT("d2 84 4b a1013b ffffffffffffffff a0 4100" SIG, HWG_E_ALG_NOT_ALLOWED,
	       "algorithm -18446744073709551616 is not allowed");
	EXPECT("d2 84 4b a1013b 0000000000000006 a0 4100" SIG, 0, NULL); /* -7, long form */
}

static void
test_refuse_crit(void)
{
	EXPECT("d2 84 46 a2 0127 0281 01 a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "protected header has crit (2)");
	EXPECT("d2 84 46 a2 0281 01 0127 a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "protected header has crit (2)");
}

static void
test_refuse_duplicate_key(void)
{
	EXPECT("d2 84 45 a2 0127 0127 a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "protected header has the key 1 (alg) twice");
	EXPECT("d2 84 45 a2 0127 0126 a0 4100" SIG, HWG_E_BAD_ENCODING, "twice");
}

static void
test_refuse_other_protected_label(void)
{
	EXPECT("d2 84 46 a2 0127 0441 00 a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "protected header label 4 is not allowed (only alg (1))");
	EXPECT("d2 84 45 a2 0127 2000 a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "protected header label -1 is not allowed");
	EXPECT("d2 84 46 a2 0127 616100 a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "protected header label is a text string, not an integer");
}

static void
test_refuse_unprotected_not_map(void)
{
	EXPECT("d2 84" PROT " 80 4100" SIG, HWG_E_BAD_ENCODING,
	       "unprotected header is an array, not a map");
	EXPECT("d2 84" PROT " 40 4100" SIG, HWG_E_BAD_ENCODING,
	       "unprotected header is a byte string, not a map");
	/* api.cddl: unprotected is {} */
	EXPECT("d2 84" PROT " a1 0441 00 4100" SIG, HWG_E_BAD_ENCODING,
	       "unprotected header is not the empty map {}");
	EXPECT("d2 84" PROT " bf ff 4100" SIG, HWG_E_BAD_ENCODING, "not the empty map");
}

static void
test_refuse_detached_payload(void)
{
	EXPECT("d2 84" PROT " a0 f6" SIG, HWG_E_BAD_ENCODING,
	       "payload is nil: detached payloads are refused");
	EXPECT("d2 84" PROT " a0 6100" SIG, HWG_E_BAD_ENCODING,
	       "payload is a text string, not a byte string");
	EXPECT("d2 84" PROT " a0 5f4100ff" SIG, HWG_E_BAD_ENCODING,
	       "payload is an indefinite-length byte string");
}

static void
test_refuse_signature_63_bytes(void)
{
	EXPECT("d2 84" PROT " a0 4100 583f" H8 H8 H8 H8 H8 H8 H8 "11111111111111",
	       HWG_E_BAD_ENCODING, "signature is 63 bytes, not 64");
}

static void
test_refuse_signature_65_bytes(void)
{
	EXPECT("d2 84" PROT " a0 4100 5841" SIG_BYTES "11", HWG_E_BAD_ENCODING,
	       "signature is 65 bytes, not 64");
	EXPECT("d2 84" PROT " a0 4100 5840" H8, HWG_E_BAD_ENCODING,
	       "signature claims 64 bytes but only 8 remain");
	EXPECT("d2 84" PROT " a0 4100 f6", HWG_E_BAD_ENCODING,
	       "signature is a simple value or float, not a byte string");
}

static void
test_refuse_huge_length_claims(void)
{
	/* lengths far beyond the input must be refused, not allocated */
	EXPECT("d2 84 5b ffffffffffffffff", HWG_E_BAD_ENCODING, "protected header claims");
	EXPECT("d2 9b ffffffffffffffff", HWG_E_BAD_ENCODING, "has 18446744073709551615 elements");
	EXPECT("d2 84 49 bb ffffffffffffff00 a0 4100" SIG, HWG_E_BAD_ENCODING,
	       "protected header is not one well-formed CBOR item");
}

static void
test_out_untouched_on_failure(void)
{
	size_t len = 0;
	uint8_t *msg = signed_msg(ed, "payload", 7, &len);
	struct hwg_cose_sign1 m, before;
	struct hwg_error err = {0};

	REQUIRE(msg != NULL);
	memset(&m, 0x5c, sizeof(m));
	memcpy(&before, &m, sizeof(m));
	CHECK_EQ_INT(hwg_cose_sign1_decode(msg, len - 1, &m, &err), HWG_E_BAD_ENCODING);
	CHECK(memcmp(&m, &before, sizeof(m)) == 0);
	CHECK_EQ_INT(hwg_cose_sign1_decode(msg, len, &m, &err), 0);
	CHECK(memcmp(&m, &before, sizeof(m)) != 0);
	hwg_cose_sign1_clear(&m);
	hwg_cose_sign1_clear(NULL);
	free(msg);
}

/* ---------------------------------------------------------------- ECDSA encodings */

static void
test_der_raw_small_values(void)
{
	/* r = 5, s = 1: SEQUENCE { INTEGER 5, INTEGER 1 } */
	static const uint8_t want[] = {0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x01};
	uint8_t raw[64], back[64], *der = NULL;
	size_t der_len = 0;

	memset(raw, 0, sizeof(raw));
	raw[31] = 5;
	raw[63] = 1;
	CHECK_EQ_INT(hwg_ecdsa_raw_to_der(raw, &der, &der_len), 0);
	CHECK(der != NULL && der_len == sizeof(want) && memcmp(der, want, sizeof(want)) == 0);
	memset(back, 0xee, sizeof(back));
	CHECK_EQ_INT(hwg_ecdsa_der_to_raw(want, sizeof(want), back), 0);
	CHECK(memcmp(raw, back, 64) == 0); /* left zero-padded to 32 bytes each */
	OPENSSL_free(der);
}

static void
test_der_raw_leading_zero_and_high_bit(void)
{
	uint8_t raw[64], back[64], *der = NULL;
	size_t der_len = 0;

	memset(raw, 0x7f, sizeof(raw));
	raw[0] = 0x00;  /* r: 31 significant bytes */
	raw[32] = 0x80; /* s: top bit set, DER needs a 00 pad (33 bytes) */
	CHECK_EQ_INT(hwg_ecdsa_raw_to_der(raw, &der, &der_len), 0);
	CHECK_EQ_INT(der_len, 2 + (2 + 31) + (2 + 33));
	CHECK(der != NULL && der[3] == 31 && der[4] == 0x7f && der[36] == 33 && der[37] == 0);
	CHECK_EQ_INT(hwg_ecdsa_der_to_raw(der, der_len, back), 0);
	CHECK(memcmp(raw, back, 64) == 0);
	OPENSSL_free(der);
}

static void
test_der_raw_refusals(void)
{
	static const uint8_t n[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                              0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	                              0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
	uint8_t raw[64], back[64], *der = NULL, buf[80];
	size_t der_len = 0;

	memset(back, 0, sizeof(back));
	memset(raw, 0, sizeof(raw));
	raw[63] = 1;
	CHECK_EQ_INT(hwg_ecdsa_raw_to_der(raw, &der, &der_len), HWG_E_BAD_ENCODING); /* r = 0 */
	memcpy(raw, n, 32);
	CHECK_EQ_INT(hwg_ecdsa_raw_to_der(raw, &der, &der_len), HWG_E_BAD_ENCODING); /* r = n */
	memcpy(raw + 32, n, 32);
	raw[0] = 1;
	CHECK_EQ_INT(hwg_ecdsa_raw_to_der(raw, &der, &der_len), HWG_E_BAD_ENCODING); /* s = n */
	raw[63] = 0x50;                                                              /* s = n - 1 */
	CHECK_EQ_INT(hwg_ecdsa_raw_to_der(raw, &der, &der_len), 0);
	CHECK(der == NULL || hwg_ecdsa_der_to_raw(der, der_len, back) == 0);
	CHECK(memcmp(raw, back, 64) == 0);
	/* one byte more, one byte less */
	if (der != NULL && der_len < sizeof(buf)) {
		memcpy(buf, der, der_len);
		buf[der_len] = 0;
		CHECK_EQ_INT(hwg_ecdsa_der_to_raw(buf, der_len + 1, back), HWG_E_BAD_ENCODING);
		CHECK_EQ_INT(hwg_ecdsa_der_to_raw(buf, der_len - 1, back), HWG_E_BAD_ENCODING);
	}
	OPENSSL_free(der);
	memset(back, 0xee, sizeof(back));
	/* not DER: needless leading zero; negative; zero; too long; s = n */
	CHECK_EQ_INT(
	    hwg_ecdsa_der_to_raw((const uint8_t *)"\x30\x07\x02\x02\x00\x05\x02\x01\x01", 9, back),
	    HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(
	    hwg_ecdsa_der_to_raw((const uint8_t *)"\x30\x06\x02\x01\x85\x02\x01\x01", 8, back),
	    HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(
	    hwg_ecdsa_der_to_raw((const uint8_t *)"\x30\x06\x02\x01\x00\x02\x01\x01", 8, back),
	    HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(
	    hwg_ecdsa_der_to_raw((const uint8_t *)"\x30\x06\x02\x01\x05\x02\x01\x01", 0, back),
	    HWG_E_BAD_ENCODING);
	buf[0] = 0x30;
	buf[1] = 2 + 33 + 3;
	buf[2] = 0x02;
	buf[3] = 33;
	buf[4] = 0x01; /* a 33-byte positive r: over 2^256 */
	memset(buf + 5, 0, 32);
	memcpy(buf + 37, "\x02\x01\x01", 3);
	CHECK_EQ_INT(hwg_ecdsa_der_to_raw(buf, 40, back), HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(back[0], 0xee); /* untouched */
}

static void
test_signer_pads_short_scalars(void)
{
	/* about 1 in 128 signatures has an r or s under 2^248; try until one does */
	int found = 0;

	for (int i = 0; i < 4000 && !found; i++) {
		size_t len = 0;
		uint8_t *msg = signed_msg(ec, &i, sizeof(i), &len);
		struct hwg_cose_sign1 m;
		struct hwg_error err = {0};

		if (msg == NULL || hwg_cose_sign1_decode(msg, len, &m, &err) != 0) {
			CHECK(0);
			free(msg);
			break;
		}
		if (m.sig[0] == 0 || m.sig[32] == 0) {
			found = 1;
			CHECK_EQ_INT(hwg_cose_sign1_verify(&m, ec, &err), 0);
		}
		hwg_cose_sign1_clear(&m);
		free(msg);
	}
	CHECK(found);
}

static void
test_es256_scalar_out_of_range_refused(void)
{
	size_t len = 0;
	uint8_t *msg = signed_msg(ec, "payload", 7, &len);
	struct hwg_cose_sign1 m;
	struct hwg_error err = {0};

	CHECK(msg != NULL);
	if (msg == NULL || hwg_cose_sign1_decode(msg, len, &m, &err) != 0) {
		CHECK(0);
		free(msg);
		return;
	}
	memset(m.sig, 0, 32); /* r = 0 */
	CHECK_EQ_INT(hwg_cose_sign1_verify(&m, ec, &err), HWG_E_BAD_SIGNATURE);
	CHECK(strstr(err.message, "zero or not below the group order") != NULL);
	memset(m.sig, 0xff, 64); /* r, s > n */
	CHECK_EQ_INT(hwg_cose_sign1_verify(&m, ec, &err), HWG_E_BAD_SIGNATURE);
	hwg_cose_sign1_clear(&m);
	free(msg);
}

/* ---------------------------------------------------------------- mutator */

/* Flip every bit in turn, then cut at every length: nothing may verify. */
static void
mutate_all(EVP_PKEY *key, size_t payload_len)
{
	uint8_t payload[64];
	size_t len = 0, accepted = 0, tried = 0;
	uint8_t *msg;
	struct hwg_error err = {0};

	memset(payload, 'p', sizeof(payload));
	msg = signed_msg(key, payload, payload_len, &len);
	REQUIRE(msg != NULL);
	CHECK_EQ_INT(decode_verify(msg, len, key, &err), 0);
	for (size_t i = 0; i < len * 8; i++) {
		uint8_t bit = (uint8_t)(1u << (i % 8));

		msg[i / 8] ^= bit;
		accepted += decode_verify(msg, len, key, &err) == 0;
		msg[i / 8] ^= bit;
		tried++;
	}
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut > 0 ? cut : 1);

		/* a copy of exactly cut bytes, so ASan sees any over-read */
		if (copy == NULL)
			abort();
		memcpy(copy, msg, cut);
		accepted += decode_verify(copy, cut, key, &err) == 0;
		free(copy);
		tried++;
	}
	CHECK_EQ_INT(tried, len * 9);
	CHECK_EQ_INT(accepted, 0);
	CHECK_EQ_INT(decode_verify(msg, len, key, &err), 0); /* restored intact */
	free(msg);
}

static void
test_bit_flips_never_accepted_eddsa(void)
{
	mutate_all(ed, 15);
}

static void
test_bit_flips_never_accepted_es256(void)
{
	mutate_all(ec, 30); /* 30: the payload head is 0x58 0x1e, a two-byte form */
}

/* ---------------------------------------------------------------- kid (4) */

static void
expect_kid(int line, const char *hex, int code, const char *want)
{
	uint8_t msg[512];
	size_t len = unhex(hex, msg, sizeof(msg));
	struct hwg_cose_sign1 m;
	struct hwg_error err = {0};
	int rc = hwg_cose_sign1_decode_kid(msg, len, &m, &err);

	if (rc != code || (want != NULL && strstr(err.message, want) == NULL)) {
		fprintf(stderr, "  FAIL line %d: rc %d \"%s\", expected %d \"%s\"\n", line, rc,
		        err.message, code, want ? want : "");
		hwg_test_cur_failed = 1;
	}
	if (rc == 0)
		hwg_cose_sign1_clear(&m);
}
#define EXPECT_KID(hex, code, want) expect_kid(__LINE__, hex, code, want)

static void
test_kid_round_trip(void)
{
	static const uint8_t kid[] = "registry-01";
	struct hwg_error err = {0};
	struct hwg_cose_sign1 m;
	uint8_t *msg = NULL;
	size_t len = 0;
	EVP_PKEY *keys[] = {ec, ed};

	for (size_t i = 0; i < 2; i++) {
		REQUIRE(hwg_cose_sign1_encode_kid(hwg_cose_alg_for_key(keys[i]), kid, 11,
		                                  (const uint8_t *)"\xa0", 1, hwg_cose_evp_signer,
		                                  keys[i], &msg, &len, &err) == 0);
		/* 18([h'a2 01 26|27 04 4b "registry-01"', {}, h'a0', sig]) */
		CHECK(len > 20 && memcmp(msg, "\xd2\x84\x50\xa2\x01", 5) == 0 &&
		      memcmp(msg + 6, "\x04\x4bregistry-01\xa0\x41\xa0", 16) == 0);
		REQUIRE(hwg_cose_sign1_decode_kid(msg, len, &m, &err) == 0);
		CHECK(m.kid_len == 11 && memcmp(m.kid, kid, 11) == 0);
		CHECK_EQ_INT(hwg_cose_sign1_verify(&m, keys[i], &err), 0);
		hwg_cose_sign1_clear(&m);
		/* the plain decoder (api.cddl's envelope) still refuses a kid */
		CHECK_EQ_INT(hwg_cose_sign1_decode(msg, len, &m, &err), HWG_E_BAD_ENCODING);
		CHECK(strstr(err.message, "label 4 is not allowed") != NULL);
		/* the kid is signed: another kid of the same length does not verify */
		msg[10] ^= 0x01;
		REQUIRE(hwg_cose_sign1_decode_kid(msg, len, &m, &err) == 0);
		CHECK_EQ_INT(hwg_cose_sign1_verify(&m, keys[i], &err), HWG_E_BAD_SIGNATURE);
		hwg_cose_sign1_clear(&m);
		free(msg);
	}
	/* a plain message has no kid, and the kid decoder refuses it */
	msg = signed_msg(ec, "\xa0", 1, &len);
	REQUIRE(msg != NULL);
	REQUIRE(hwg_cose_sign1_decode(msg, len, &m, &err) == 0);
	CHECK(m.kid == NULL && m.kid_len == 0);
	hwg_cose_sign1_clear(&m);
	CHECK_EQ_INT(hwg_cose_sign1_decode_kid(msg, len, &m, &err), HWG_E_BAD_ENCODING);
	CHECK(strstr(err.message, "no kid (4)") != NULL);
	free(msg);
}

static void
test_kid_encode_refusals(void)
{
	uint8_t kid[HWG_COSE_KID_MAX + 1], *msg = NULL;
	struct hwg_error err = {0};
	size_t len = 0;

	memset(kid, 'k', sizeof(kid));
	CHECK_EQ_INT(hwg_cose_sign1_encode_kid(HWG_COSE_ES256, NULL, 0, NULL, 0,
	                                       hwg_cose_evp_signer, ec, &msg, &len, &err),
	             HWG_E_INVALID);
	CHECK_EQ_INT(hwg_cose_sign1_encode_kid(HWG_COSE_ES256, kid, sizeof(kid), NULL, 0,
	                                       hwg_cose_evp_signer, ec, &msg, &len, &err),
	             HWG_E_INVALID);
	CHECK_EQ_INT(hwg_cose_sign1_encode_kid(HWG_COSE_ES256, kid, HWG_COSE_KID_MAX, NULL, 0,
	                                       hwg_cose_evp_signer, ec, &msg, &len, &err),
	             0);
	free(msg);
}

static void
test_kid_decode_refusals(void)
{
	/* {1: -8, 4: h'6b'} accepted (the signature is not checked here) */
	EXPECT_KID("d2 84 46 a2 0127 04416b a0 4100" SIG, 0, NULL);
	EXPECT_KID("d2 84 43 a10127 a0 4100" SIG, HWG_E_BAD_ENCODING, "no kid (4)");
	EXPECT_KID("d2 84 46 a2 0127 04616b a0 4100" SIG, HWG_E_BAD_ENCODING,
	           "kid (4) is a text string, not a definite byte string");
	EXPECT_KID("d2 84 45 a2 0127 0440 a0 4100" SIG, HWG_E_BAD_ENCODING, "kid (4) is 0 bytes");
	EXPECT_KID("d2 84 49 a3 0127 04416b 04416b a0 4100" SIG, HWG_E_BAD_ENCODING,
	           "the key 4 (kid) twice");
	EXPECT_KID("d2 84 48 a3 0127 04416b 0500 a0 4100" SIG, HWG_E_BAD_ENCODING,
	           "label 5 is not allowed (only alg (1) and kid (4))");
	EXPECT_KID("d2 84 46 a2 0126 04416b a0 4100" SIG, 0, NULL);
	EXPECT_KID("d2 84 46 a2 0120 04416b a0 4100" SIG, HWG_E_ALG_NOT_ALLOWED, "-1");
	/* the unprotected header stays {}: a kid there is not taken */
	EXPECT_KID("d2 84 43 a10127 a1 04416b 4100" SIG, HWG_E_BAD_ENCODING, "no kid (4)");
}

int
main(void)
{
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	ed2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ec2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	if (ed == NULL || ed2 == NULL || ec == NULL || ec2 == NULL || ec384 == NULL) {
		fprintf(stderr, "cannot generate test keys\n");
		return 1;
	}
	HWG_RUN(test_alg_names_and_keys);
	HWG_RUN(test_round_trip_es256);
	HWG_RUN(test_round_trip_eddsa);
	HWG_RUN(test_round_trip_empty_and_large_payload);
	HWG_RUN(test_encoding_is_deterministic);
	HWG_RUN(test_sig_structure_bytes);
	HWG_RUN(test_tampered_payload_bad_signature);
	HWG_RUN(test_other_key_bad_signature);
	HWG_RUN(test_key_of_other_algorithm_refused);
	HWG_RUN(test_signer_refuses_mismatch);
	HWG_RUN(test_base_message_accepted);
	HWG_RUN(test_refuse_empty);
	HWG_RUN(test_refuse_not_cbor);
	HWG_RUN(test_refuse_trailing_bytes);
	HWG_RUN(test_untagged_refused);
	HWG_RUN(test_refuse_wrong_tag);
	HWG_RUN(test_refuse_three_elements);
	HWG_RUN(test_refuse_indefinite_array);
	HWG_RUN(test_refuse_protected_not_bstr);
	HWG_RUN(test_refuse_protected_not_map);
	HWG_RUN(test_refuse_protected_trailing_bytes);
	HWG_RUN(test_refuse_alg_missing);
	HWG_RUN(test_refuse_alg_text);
	HWG_RUN(test_refuse_alg_not_allowed);
	HWG_RUN(test_refuse_crit);
	HWG_RUN(test_refuse_duplicate_key);
	HWG_RUN(test_refuse_other_protected_label);
	HWG_RUN(test_refuse_unprotected_not_map);
	HWG_RUN(test_refuse_detached_payload);
	HWG_RUN(test_refuse_signature_63_bytes);
	HWG_RUN(test_refuse_signature_65_bytes);
	HWG_RUN(test_refuse_huge_length_claims);
	HWG_RUN(test_out_untouched_on_failure);
	HWG_RUN(test_der_raw_small_values);
	HWG_RUN(test_der_raw_leading_zero_and_high_bit);
	HWG_RUN(test_der_raw_refusals);
	HWG_RUN(test_signer_pads_short_scalars);
	HWG_RUN(test_es256_scalar_out_of_range_refused);
	HWG_RUN(test_bit_flips_never_accepted_eddsa);
	HWG_RUN(test_bit_flips_never_accepted_es256);
	HWG_RUN(test_kid_round_trip);
	HWG_RUN(test_kid_encode_refusals);
	HWG_RUN(test_kid_decode_refusals);

	EVP_PKEY_free(ed);
	EVP_PKEY_free(ed2);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec2);
	EVP_PKEY_free(ec384);
	return HWG_TEST_END();
}
