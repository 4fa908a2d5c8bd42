/*
 * test_cose.c — COSE_Sign1 round trips with both algorithms, and every
 * refusal of the decoder, each with the bytes that must cause it.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cose.h"
#include "hwg_test.h"

static EVP_PKEY *ed, *ec, *ec2;

static uint8_t *
signed_msg(EVP_PKEY *key, const char *payload, size_t *len)
{
	uint8_t *out = NULL;
	struct hwg_error err = {0};

	if (hwg_cose_sign1_encode(hwg_cose_alg_for_key(key), (const uint8_t *)payload,
				  strlen(payload), hwg_cose_evp_signer, key, &out, len, &err) != 0)
		fprintf(stderr, "encode: %s\n", err.message);
	return out;
}

static int
decode_verify(const uint8_t *msg, size_t len, EVP_PKEY *key)
{
	struct hwg_cose_sign1 m;
	struct hwg_error err = {0};
	int rc = hwg_cose_sign1_decode(msg, len, &m, &err);

	if (rc != 0)
		return rc;
	rc = hwg_cose_sign1_verify(&m, key, &err);
	hwg_cose_sign1_clear(&m);
	return rc;
}

static void
test_round_trip_both_algorithms(void)
{
	EVP_PKEY *keys[2] = {ed, ec};

	for (int i = 0; i < 2; i++) {
		size_t len = 0;
		uint8_t *msg = signed_msg(keys[i], "payload", &len);
		struct hwg_cose_sign1 m;
		struct hwg_error err = {0};

		CHECK(msg != NULL && msg[0] == 0xd2);
		CHECK_EQ_INT(hwg_cose_sign1_decode(msg, len, &m, &err), 0);
		CHECK_EQ_INT(m.alg, i == 0 ? HWG_COSE_EDDSA : HWG_COSE_ES256);
		CHECK(m.payload_len == 7 && memcmp(m.payload, "payload", 7) == 0);
		CHECK_EQ_INT(hwg_cose_sign1_verify(&m, keys[i], &err), 0);
		hwg_cose_sign1_clear(&m);
		free(msg);
	}
}

static void
test_wrong_key_or_payload_refused(void)
{
	size_t len = 0;
	uint8_t *msg = signed_msg(ec, "payload", &len);

	CHECK_EQ_INT(decode_verify(msg, len, ec2), HWG_E_BAD_SIGNATURE);
	CHECK_EQ_INT(decode_verify(msg, len, ed), HWG_E_ALG_NOT_ALLOWED);
	msg[len - 70] ^= 1; /* inside the payload */
	CHECK_EQ_INT(decode_verify(msg, len, ec), HWG_E_BAD_SIGNATURE);
	free(msg);
}

static void
test_every_bit_flip_refused(void)
{
	size_t len = 0;
	uint8_t *msg = signed_msg(ed, "a short payload", &len);
	int accepted = 0;

	for (size_t i = 0; i < len * 8; i++) {
		msg[i / 8] ^= (uint8_t)(1u << (i % 8));
		accepted += decode_verify(msg, len, ed) == 0;
		msg[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	CHECK_EQ_INT(accepted, 0);
	CHECK_EQ_INT(decode_verify(msg, len, ed), 0);
	for (size_t cut = 0; cut < len; cut++)
		accepted += decode_verify(msg, cut, ed) == 0;
	CHECK_EQ_INT(accepted, 0);
	free(msg);
}

/* Decode a hand-made message; expect code. */
static int
decode_bytes(const char *bytes, size_t len)
{
	struct hwg_cose_sign1 m;
	struct hwg_error err = {0};
	int rc = hwg_cose_sign1_decode((const uint8_t *)bytes, len, &m, &err);

	if (rc == 0)
		hwg_cose_sign1_clear(&m);
	return rc;
}

#define SIG64 "0123456789012345678901234567890123456789012345678901234567890123"

static void
test_decoder_refusals(void)
{
	/* the well-formed base: 18([h'a10127', {}, h'00', sig64]) */
	CHECK_EQ_INT(decode_bytes("\xd2\x84\x43\xa1\x01\x27\xa0\x41\x00\x58\x40" SIG64, 75), 0);
	CHECK_EQ_INT(decode_bytes("\x84\x43\xa1\x01\x27\xa0\x41\x00\x58\x40" SIG64, 74), 0);
	CHECK_EQ_INT(decode_bytes("", 0), HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(decode_bytes("garbage!", 8), HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(decode_bytes("\xd2\x84\x43\xa1\x01\x27\xa0\x41\x00\x58\x40" SIG64 "\x00", 76),
		     HWG_E_BAD_ENCODING); /* trailing */
	CHECK_EQ_INT(decode_bytes("\xd8\x13\x84\x43\xa1\x01\x27\xa0\x41\x00\x58\x40" SIG64, 76),
		     HWG_E_BAD_ENCODING); /* tag 19 */
	CHECK_EQ_INT(decode_bytes("\xd2\x83\x43\xa1\x01\x27\xa0\x41\x00", 10),
		     HWG_E_BAD_ENCODING); /* 3 elements */
	CHECK_EQ_INT(decode_bytes("\xd2\x84\xa1\x01\x27\xa0\x41\x00\x58\x40" SIG64, 74),
		     HWG_E_BAD_ENCODING); /* protected not a bstr */
	CHECK_EQ_INT(decode_bytes("\xd2\x84\x41\x80\xa0\x41\x00\x58\x40" SIG64, 73),
		     HWG_E_BAD_ENCODING); /* protected holds an array */
	CHECK_EQ_INT(decode_bytes("\xd2\x84\x40\xa0\x41\x00\x58\x40" SIG64, 72),
		     HWG_E_BAD_ENCODING); /* protected empty: no alg */
	CHECK_EQ_INT(decode_bytes("\xd2\x84\x45\xa1\x01\x62" "ES\xa0\x41\x00\x58\x40" SIG64, 77),
		     HWG_E_BAD_ENCODING); /* alg as text */
	CHECK_EQ_INT(decode_bytes("\xd2\x84\x44\xa1\x01\x38\x22\xa0\x41\x00\x58\x40" SIG64, 76),
		     HWG_E_ALG_NOT_ALLOWED); /* alg -35 */
	CHECK_EQ_INT(decode_bytes("\xd2\x84\x46\xa2\x01\x27\x02\x80\xa0\x41\x00\x58\x40" SIG64, 78),
		     HWG_E_BAD_ENCODING); /* crit */
	CHECK_EQ_INT(decode_bytes("\xd2\x84\x43\xa1\x01\x27\x80\x41\x00\x58\x40" SIG64, 75),
		     HWG_E_BAD_ENCODING); /* unprotected not a map */
	CHECK_EQ_INT(decode_bytes("\xd2\x84\x43\xa1\x01\x27\xa0\xf6\x58\x40" SIG64, 74),
		     HWG_E_BAD_ENCODING); /* detached payload */
	CHECK_EQ_INT(decode_bytes("\xd2\x84\x43\xa1\x01\x27\xa0\x41\x00\x58\x3f" SIG64, 74),
		     HWG_E_BAD_ENCODING); /* 63-byte signature */
	CHECK_EQ_INT(decode_bytes("\xd2\x9f\x43\xa1\x01\x27\xa0\x41\x00\x58\x40" SIG64 "\xff", 76),
		     HWG_E_BAD_ENCODING); /* indefinite array */
}

static void
test_der_raw_conversion(void)
{
	uint8_t raw[64], back[64], *der = NULL;
	size_t der_len = 0;

	memset(raw, 0, sizeof(raw));
	raw[31] = 5;    /* r = 5: many leading zeros */
	raw[32] = 0x80; /* s with the top bit set: DER needs a 00 pad */
	CHECK_EQ_INT(hwg_ecdsa_raw_to_der(raw, &der, &der_len), 0);
	CHECK_EQ_INT(hwg_ecdsa_der_to_raw(der, der_len, back), 0);
	CHECK(memcmp(raw, back, 64) == 0);
	CHECK_EQ_INT(hwg_ecdsa_der_to_raw(der, der_len - 1, back), HWG_E_BAD_ENCODING);
	OPENSSL_free(der);
}

int
main(void)
{
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ec2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	HWG_RUN(test_round_trip_both_algorithms);
	HWG_RUN(test_wrong_key_or_payload_refused);
	HWG_RUN(test_every_bit_flip_refused);
	HWG_RUN(test_decoder_refusals);
	HWG_RUN(test_der_raw_conversion);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec2);
	return HWG_TEST_END();
}
