/*
 * test_card_parse.c — the card data parsers without a card: the BER
 * reader's length forms and refusals, the My Number check digit, the
 * four facts of EF 0002, the integrity record of EF 0003 (with an issuer
 * key made here), and the PIN and password rules checked before any APDU.
 */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <string.h>

#include "hwg_ber.h"
#include "hwg_idnum.h"
#include "hwg_mn_info.h"
#include "hwg_mynumber.h"
#include "hwg_test.h"

static const uint8_t ef1[17] = {0xFF, 0x10, 0x0C, '5', '3', '7', '6',  '8', '6',
                                '6',  '7',  '7',  '1', '8', '8', 0xFF, 0xFF};
/* FF 20 with the non-minimal 82 00 26 length, DF22 with 81 03 */
static const uint8_t ef2[] = {0xFF, 0x20, 0x82, 0x00, 0x26, 0xDF, 0x21, 0x08, 0x00, 0x0B, 0x00,
                              0x12, 0x00, 0x17, 0x00, 0x22, 0xDF, 0x22, 0x81, 0x03, 'a',  'b',
                              'c',  0xDF, 0x23, 0x02, 'x',  'y',  0xDF, 0x24, 0x08, '1',  '9',
                              '8',  '5',  '0',  '4',  '0',  '1',  0xDF, 0x25, 0x01, '2'};

static void
test_ber_forms(void)
{
	static const uint8_t short_form[] = {0x04, 0x02, 0xAA, 0xBB};
	static const uint8_t long4[] = {0x04, 0x84, 0x00, 0x00, 0x00, 0x01, 0xAA};
	static const uint8_t high_tag[] = {0xDF, 0x21, 0x81, 0x01, 0x07};
	struct hwg_ber_tlv t;
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_ber_read(short_form, sizeof(short_form), &t, &err), 0);
	CHECK(t.len == 2 && t.header_len == 2 && t.value == short_form + 2);
	CHECK_EQ_INT(hwg_ber_read(long4, sizeof(long4), &t, &err), 0);
	CHECK(t.len == 1 && t.header_len == 6);
	CHECK_EQ_INT(hwg_ber_read(high_tag, sizeof(high_tag), &t, &err), 0);
	CHECK(t.tag == 0xDF21 && t.len == 1 && t.value[0] == 7);
	CHECK_EQ_INT(hwg_ber_read(ef2, sizeof(ef2), &t, &err), 0);
	CHECK(t.tag == 0xFF20 && t.len == 0x26 && t.constructed);
	CHECK_EQ_INT(hwg_ber_find(t.value, t.len, 0xDF24, &t, &err), 0);
	CHECK(t.len == 8 && memcmp(t.value, "19850401", 8) == 0);
}

static void
test_ber_refusals(void)
{
	static const uint8_t indefinite[] = {0x30, 0x80, 0x00, 0x00};
	static const uint8_t overlong[] = {0x04, 0x05, 0xAA};
	static const uint8_t cut_length[] = {0x04, 0x82, 0x01};
	static const uint8_t five_len[] = {0x04, 0x85, 0, 0, 0, 0, 1, 0xAA};
	static const uint8_t long_tag[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00};
	static const uint8_t bad_child[] = {0xDF, 0x21, 0x02, 0xAA};
	struct hwg_ber_tlv t;
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_ber_read(indefinite, sizeof(indefinite), &t, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_ber_read(overlong, sizeof(overlong), &t, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_ber_read(cut_length, sizeof(cut_length), &t, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_ber_read(five_len, sizeof(five_len), &t, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_ber_read(long_tag, sizeof(long_tag), &t, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_ber_read(ef2, 0, &t, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_ber_find(bad_child, sizeof(bad_child), 0xDF22, &t, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_ber_find(ef2 + 5, sizeof(ef2) - 5, 0xDF26, &t, &err), HWG_E_NOT_FOUND);
	/* the header alone is enough to learn a file's length */
	CHECK_EQ_INT(hwg_ber_header(ef2, 5, &t, &err), 0);
	CHECK(t.header_len + t.len == sizeof(ef2));
}

static void
test_mynumber(void)
{
	uint8_t bad[17];
	char out[13];
	struct hwg_error err = {0};

	CHECK(hwg_mynumber_valid("537686677188"));
	CHECK(!hwg_mynumber_valid("537686677189"));
	CHECK(!hwg_mynumber_valid("53768667718a"));
	CHECK(!hwg_mynumber_valid("5376866771880")); /* exactly 12 digits */
	CHECK(!hwg_mynumber_valid("53768667718"));
	CHECK(!hwg_mynumber_valid(""));
	CHECK(!hwg_mynumber_valid(NULL));
	CHECK(hwg_mynumber_valid("000000000000")); /* remainder 0: check digit 0 */
	CHECK(
	    hwg_mynumber_valid("000000000060")); /* P_1 = 6, Q_1 = 2: r = 12 mod 11 = 1, check 0 */
	CHECK(hwg_mynumber_valid("100000000005")); /* P_11 = 1, Q_11 = 6: r = 6, check 11 - 6 */
	CHECK(!hwg_mynumber_valid("100000000006"));
	CHECK_EQ_INT(hwg_mn_parse_mynumber(ef1, sizeof(ef1), out, &err), 0);
	CHECK_EQ_STR(out, "537686677188");
	memcpy(bad, ef1, sizeof(bad));
	bad[14] = '9';
	CHECK_EQ_INT(hwg_mn_parse_mynumber(bad, sizeof(bad), out, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "check digit") != NULL && strstr(err.message, "5376") == NULL);
	bad[2] = 0x0B; /* 11 digits */
	CHECK_EQ_INT(hwg_mn_parse_mynumber(bad, sizeof(bad), out, &err), HWG_E_INVALID);
}

static void
test_facts(void)
{
	struct hwg_mn_facts f;
	uint8_t bad[sizeof(ef2)];
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_mn_parse_facts(ef2, sizeof(ef2), &f, &err), 0);
	CHECK_EQ_STR(f.name, "abc");
	CHECK_EQ_STR(f.address, "xy");
	CHECK_EQ_STR(f.birth, "19850401");
	CHECK_EQ_STR(f.sex, "2");
	memcpy(bad, ef2, sizeof(bad));
	bad[sizeof(bad) - 1] = '3'; /* not ISO 5218 */
	CHECK_EQ_INT(hwg_mn_parse_facts(bad, sizeof(bad), &f, &err), HWG_E_INVALID);
	memcpy(bad, ef2, sizeof(bad));
	bad[20] = 0xC0; /* not UTF-8 */
	CHECK_EQ_INT(hwg_mn_parse_facts(bad, sizeof(bad), &f, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_mn_parse_facts(ef2, sizeof(ef2) - 1, &f, &err), HWG_E_INVALID);
}

/* EF 0003 for ef1/ef2 signed by key: FF30 { DF31, DF32, DF33 } */
static size_t
make_integrity(EVP_PKEY *key, uint8_t *out)
{
	uint8_t tbs[64];
	size_t sig_len = 256;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	SHA256(ef1, sizeof(ef1), tbs);
	SHA256(ef2 + 16, sizeof(ef2) - 16, tbs + 32); /* the value without DF21 */
	memcpy(out, "\xFF\x30\x82\x01\x4B\xDF\x31\x20", 8);
	memcpy(out + 8, tbs, 32);
	memcpy(out + 40, "\xDF\x32\x20", 3);
	memcpy(out + 43, tbs + 32, 32);
	memcpy(out + 75, "\xDF\x33\x82\x01\x00", 5);
	EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key);
	EVP_DigestSign(md, out + 80, &sig_len, tbs, sizeof(tbs));
	EVP_MD_CTX_free(md);
	return 80 + sig_len;
}

static void
test_integrity(void)
{
	EVP_PKEY *key = EVP_RSA_gen(2048), *other = EVP_RSA_gen(2048);
	uint8_t ef3[400], e1[sizeof(ef1)], e2[sizeof(ef2)];
	size_t len3 = make_integrity(key, ef3);
	struct hwg_error err = {0};

	CHECK(len3 == 336);
	CHECK_EQ_INT(
	    hwg_mn_check_integrity(ef1, sizeof(ef1), ef2, sizeof(ef2), ef3, len3, key, &err), 0);
	memcpy(e1, ef1, sizeof(e1));
	e1[16] = 0x00; /* the filler is hashed too */
	CHECK_EQ_INT(hwg_mn_check_integrity(e1, sizeof(e1), ef2, sizeof(ef2), ef3, len3, key, &err),
	             HWG_E_TAMPERED);
	memcpy(e2, ef2, sizeof(e2));
	e2[20] = 'A'; /* the name */
	CHECK_EQ_INT(hwg_mn_check_integrity(ef1, sizeof(ef1), e2, sizeof(e2), ef3, len3, key, &err),
	             HWG_E_TAMPERED);
	e2[20] = 'a';
	e2[8] = 0x7F; /* the offsets (DF21) are outside the hash */
	CHECK_EQ_INT(hwg_mn_check_integrity(ef1, sizeof(ef1), e2, sizeof(e2), ef3, len3, key, &err),
	             0);
	CHECK_EQ_INT(
	    hwg_mn_check_integrity(ef1, sizeof(ef1), ef2, sizeof(ef2), ef3, len3, other, &err),
	    HWG_E_TAMPERED);
	CHECK(strstr(err.message, "signature") != NULL);
	CHECK_EQ_INT(hwg_mn_check_integrity(ef1, sizeof(ef1), ef2, sizeof(ef2), ef3, 40, key, &err),
	             HWG_E_INVALID);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

static void
test_pin_rules(void)
{
	struct hwg_error err = {0};
	char pw[] = "abc123xyz";

	CHECK_EQ_INT(hwg_mn_pin_format(HWG_MN_AUTH_PIN, "1234", 4, &err), 0);
	CHECK_EQ_INT(hwg_mn_pin_format(HWG_MN_AUTH_PIN, "123", 3, &err), HWG_E_PIN_FORMAT);
	CHECK_EQ_INT(hwg_mn_pin_format(HWG_MN_SUPPORT_PIN, "12a4", 4, &err), HWG_E_PIN_FORMAT);
	CHECK(strstr(err.message, "12a4") == NULL);
	CHECK_EQ_INT(hwg_mn_pin_format(HWG_MN_SIGN_PASSWORD, "ABC123", 6, &err), 0);
	CHECK_EQ_INT(hwg_mn_pin_format(HWG_MN_SIGN_PASSWORD, "ABC12", 5, &err), HWG_E_PIN_FORMAT);
	CHECK_EQ_INT(hwg_mn_pin_format(HWG_MN_SIGN_PASSWORD, "ABCDEFGHIJ1234567", 17, &err),
	             HWG_E_PIN_FORMAT);
	CHECK_EQ_INT(hwg_mn_pin_format(HWG_MN_SIGN_PASSWORD, "ABC 123", 7, &err), HWG_E_PIN_FORMAT);
	CHECK_EQ_INT(hwg_mn_pin_format(HWG_MN_SIGN_PASSWORD, pw, strlen(pw), &err), 0);
	hwg_mn_password_upcase(pw, strlen(pw));
	CHECK_EQ_STR(pw, "ABC123XYZ");
}

int
main(void)
{
	HWG_RUN(test_ber_forms);
	HWG_RUN(test_ber_refusals);
	HWG_RUN(test_mynumber);
	HWG_RUN(test_facts);
	HWG_RUN(test_integrity);
	HWG_RUN(test_pin_rules);
	return HWG_TEST_END();
}
