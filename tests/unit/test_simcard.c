/*
 * test_simcard.c — the simulated card answers as the brief says the real
 * one does: selection, reads with offsets and access rules, the PIN
 * counters down to 6984, security state cleared by selecting another DF,
 * the sign command, the malformed-APDU status words; its input-support
 * files pass the gateway's own parsers and integrity check; bad profiles
 * are refused naming the key.
 */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hwg_mn_info.h"
#include "hwg_test.h"
#include "sim_card.h"
#include "sim_profile.h"

static struct sim_card *card;
static EVP_PKEY *issuer, *auth_key;
static uint8_t r[SIM_RAPDU_MAX];
static size_t rlen;

/* Send hex; return the status word. */
static unsigned
tx(const char *hex)
{
	uint8_t a[300];
	size_t n = 0;
	unsigned v;
	int is_sign;

	for (; hex[0] && hex[1] && sscanf(hex, "%2x", &v) == 1; hex += 2)
		a[n++] = (uint8_t)v;
	sim_card_apdu(card, a, n, r, &rlen, &is_sign);
	return (unsigned)(r[rlen - 2] << 8 | r[rlen - 1]);
}

#define JPKI "00A4040C0AD392F000260100000001"
#define SUPPORT "00A4040C0AD3921000310001010408"

static void
setup(void)
{
	struct sim_card_spec s;
	char why[256];

	memset(&s, 0, sizeof(s));
	s.type = SIM_MYNUMBER;
	s.atr_len = 2;
	strcpy(s.name, "\xF0\xA0\xAE\xB7\xE7\x94\xB0\xE3\x80\x80\xE8\x8A\xB1\xE5\xAD\x90");
	strcpy(s.address, "Tokyo");
	strcpy(s.birth, "19850401");
	strcpy(s.sex, "2");
	strcpy(s.mynumber, "537686677188");
	strcpy(s.pins[SIM_PIN_AUTH], "1234");
	strcpy(s.pins[SIM_PIN_SUPPORT], "5678");
	strcpy(s.pins[SIM_PIN_SIGN], "ABC123");
	for (int i = 0; i < SIM_N_PINS; i++)
		s.tries[i] = -1;
	issuer = EVP_RSA_gen(2048);
	auth_key = EVP_RSA_gen(2048);
	s.issuer_key = issuer;
	s.auth_key = auth_key;
	card = sim_card_new(&s, why, sizeof(why));
}

static void
test_select_and_read(void)
{
	CHECK(card != NULL);
	CHECK_EQ_INT(tx("00A4040C0AD392100031000101040F"), 0x6A82); /* unknown AID */
	CHECK_EQ_INT(tx(JPKI), 0x9000);
	CHECK_EQ_INT(tx("00A4020C020006"), 0x9000);
	CHECK_EQ_INT(tx("00B0000020"), 0x9000);
	CHECK(rlen == 34 && memcmp(r, "JPKIAPICCTOKEN2", 15) == 0 && r[15] == 0);
	CHECK_EQ_INT(tx("00B0001F00"), 0x9000); /* Le 256 from offset 31: what is left */
	CHECK(rlen == 3);
	CHECK_EQ_INT(tx("00B0002000"), 0x6B00);     /* past the end */
	CHECK_EQ_INT(tx("00A4020C02000A"), 0x6A82); /* no certificate in this profile */
	CHECK_EQ_INT(tx("00A4020C020017"), 0x9000);
	CHECK_EQ_INT(tx("00B0000010"), 0x6981); /* a key cannot be read */
}

static void
test_pin_counter(void)
{
	CHECK_EQ_INT(tx(SUPPORT), 0x9000);
	CHECK_EQ_INT(tx("00A4020C020001"), 0x9000);
	CHECK_EQ_INT(tx("00B0000011"), 0x6982); /* My Number needs the PIN */
	CHECK_EQ_INT(tx("00A4020C020011"), 0x9000);
	CHECK_EQ_INT(tx("00200080"), 0x63C3);
	CHECK_EQ_INT(tx("002000800431313131"), 0x63C2);
	CHECK_EQ_INT(tx("002000800431313131"), 0x63C1);
	CHECK_EQ_INT(tx("00200080043536373800"), 0x6700); /* Lc disagrees with the data */
	CHECK_EQ_INT(tx("002000800435363738"), 0x9000);   /* right PIN resets the counter */
	CHECK_EQ_INT(tx("00200080"), 0x63C3);
	CHECK_EQ_INT(tx("00A4020C020001"), 0x9000);
	CHECK_EQ_INT(tx("00B0000011"), 0x9000);
	CHECK(rlen == 19 && memcmp(r + 3, "537686677188", 12) == 0);
	/* selecting another DF clears the security state */
	CHECK_EQ_INT(tx(JPKI), 0x9000);
	CHECK_EQ_INT(tx(SUPPORT), 0x9000);
	CHECK_EQ_INT(tx("00A4020C020001"), 0x9000);
	CHECK_EQ_INT(tx("00B0000011"), 0x6982);
	CHECK_EQ_INT(tx("00A4020C020011"), 0x9000);
	for (int i = 2; i >= 0; i--)
		CHECK_EQ_INT(tx("002000800430303030"), 0x63C0u | (unsigned)i);
	CHECK_EQ_INT(tx("002000800435363738"), 0x6984); /* locked: even the right PIN */
	CHECK_EQ_INT(tx("00200080"), 0x6984);
	CHECK_EQ_INT(sim_card_tries(card, SIM_PIN_SUPPORT), 0);
}

static void
test_sign(void)
{
	static const char di[] = "3031300D060960864801650304020105000420"
	                         "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";
	char apdu[300];
	uint8_t sig[256], out[256];
	size_t out_len = sizeof(out);
	EVP_PKEY_CTX *ctx;

	snprintf(apdu, sizeof(apdu), "802A008033%s00", di);
	CHECK_EQ_INT(tx(JPKI), 0x9000);
	CHECK_EQ_INT(tx("00A4020C020017"), 0x9000);
	CHECK_EQ_INT(tx(apdu), 0x6982); /* no PIN yet */
	CHECK_EQ_INT(tx("00A4020C020018"), 0x9000);
	CHECK_EQ_INT(tx("002000800431323334"), 0x9000);
	CHECK_EQ_INT(tx("00A4020C020017"), 0x9000);
	CHECK_EQ_INT(tx(apdu), 0x9000);
	CHECK(rlen == 258);
	memcpy(sig, r, 256);
	ctx = EVP_PKEY_CTX_new(auth_key, NULL);
	CHECK(EVP_PKEY_verify_recover_init(ctx) == 1 &&
	      EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
	      EVP_PKEY_verify_recover(ctx, out, &out_len, sig, 256) == 1);
	CHECK(out_len == 51 && out[0] == 0x30 && out[19] == 0x00 && out[50] == 0x1F);
	EVP_PKEY_CTX_free(ctx);
}

static void
test_malformed(void)
{
	CHECK_EQ_INT(tx("00A4"), 0x6700);
	CHECK_EQ_INT(tx("01A4040C0AD392F000260100000001"), 0x6881);
	CHECK_EQ_INT(tx("A0A4040C0AD392F000260100000001"), 0x6E00);
	CHECK_EQ_INT(tx("00CA000000"), 0x6D00);
	CHECK_EQ_INT(tx("00A4080C0AD392F000260100000001"), 0x6A86);
	CHECK_EQ_INT(tx("00A4040C0BD392F000260100000001"), 0x6700);
	CHECK_EQ_INT(tx("00B08000FF"), 0x6A86);
}

static void
test_integrity_roundtrip(void)
{
	uint8_t ef1[17], ef2[1024], ef3[1024];
	size_t n2 = 0, n3 = 0;
	struct hwg_mn_facts f;
	struct hwg_error err = {0};

	sim_card_reset(card);
	tx(SUPPORT);
	/* the support PIN is locked by now: read through a fresh card */
	sim_card_free(card);
	EVP_PKEY_free(issuer);
	EVP_PKEY_free(auth_key);
	setup();
	tx(SUPPORT);
	tx("00A4020C020011");
	CHECK_EQ_INT(tx("002000800435363738"), 0x9000);
	tx("00A4020C020001");
	tx("00B0000011");
	memcpy(ef1, r, 17);
	tx("00A4020C020002");
	tx("00B0000000");
	n2 = rlen - 2;
	memcpy(ef2, r, n2);
	tx("00A4020C020003");
	tx("00B0000000");
	memcpy(ef3, r, rlen - 2);
	n3 = rlen - 2;
	tx("00B0010000");
	memcpy(ef3 + n3, r, rlen - 2);
	n3 += rlen - 2;
	CHECK(ef2[2] == 0x82); /* the non-minimal length form */
	CHECK_EQ_INT(hwg_mn_parse_facts(ef2, n2, &f, &err), 0);
	CHECK_EQ_STR(f.birth, "19850401");
	CHECK_EQ_INT(hwg_mn_check_integrity(ef1, 17, ef2, n2, ef3, n3, issuer, &err), 0);
	CHECK_EQ_INT(sim_card_tamper_facts(card), 0);
	tx("00A4020C020002");
	tx("00B0000000");
	CHECK_EQ_INT(hwg_mn_check_integrity(ef1, 17, r, rlen - 2, ef3, n3, issuer, &err),
	             HWG_E_TAMPERED);
}

static void
test_bad_profiles(void)
{
	struct sim_card_spec s;
	char why[512], path[] = "/tmp/hwsim-profile-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs("[card]\ntype = mynumber\n[holder]\nmynumber = 537686677189\n", f);
	fclose(f);
	CHECK(sim_profile_load(path, &s, why, sizeof(why)) != 0);
	CHECK(strstr(why, "[holder] mynumber") != NULL && strstr(why, "check digit") != NULL);
	f = fopen(path, "w");
	fputs("[card]\ntype = smartcard\n", f);
	fclose(f);
	CHECK(sim_profile_load(path, &s, why, sizeof(why)) != 0);
	CHECK(strstr(why, "[card] type") != NULL);
	f = fopen(path, "w");
	fputs("[card]\ntype = jukicard\n[jpki]\nauth_cert = missing.der\n", f);
	fclose(f);
	CHECK(sim_profile_load(path, &s, why, sizeof(why)) != 0);
	CHECK(strstr(why, "[jpki] auth_cert: cannot read") != NULL);
	f = fopen(path, "w");
	fputs("[card]\ntype = mynumber\n", f);
	fclose(f);
	CHECK(sim_profile_load(path, &s, why, sizeof(why)) != 0);
	CHECK(strstr(why, "[holder] needs") != NULL);
	unlink(path);
}

int
main(void)
{
	setup();
	HWG_RUN(test_select_and_read);
	HWG_RUN(test_pin_counter);
	HWG_RUN(test_sign);
	HWG_RUN(test_malformed);
	HWG_RUN(test_integrity_roundtrip);
	HWG_RUN(test_bad_profiles);
	sim_card_free(card);
	EVP_PKEY_free(issuer);
	EVP_PKEY_free(auth_key);
	return HWG_TEST_END();
}
