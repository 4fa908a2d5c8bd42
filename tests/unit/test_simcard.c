/*
 * test_simcard.c — hwsim's card answers as the brief says the real one
 * does: selection, reads with offsets and access rules, the PIN counters
 * down to 6984, security state cleared by selecting another DF, CHANGE
 * REFERENCE DATA, the sign command checked with the certificate's key,
 * the malformed-APDU status words; its input-support files pass the
 * gateway's own parsers and integrity check; bad profiles are refused
 * naming the file and the key.  Then the vpcd side and the control
 * commands against a fake vpcd on a loopback port.  Keys and certificates
 * are generated into a temporary directory at run time.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hwg_mn_info.h"
#include "hwg_test.h"
#include "sim_card.h"
#include "sim_control.h"
#include "sim_profile.h"
#include "sim_vpcd.h"

#define JPKI "00A4040C0AD392F000260100000001"
#define SUPPORT "00A4040C0AD3921000310001010408"
#define NAME "\xF0\xA0\xAE\xB7\xE7\x94\xB0\xE3\x80\x80\xE8\x8A\xB1\xE5\xAD\x90" /* 𠮷田　花子 */
#define ADDRESS "東京都千代田区霞が関２丁目１番２号"

static char dir[] = "/tmp/test_simcard-XXXXXX";
static char profile[4200];
static EVP_PKEY *auth_key, *sign_key, *issuer;
static struct sim_card *card;
static uint8_t r[SIM_RAPDU_MAX]; /* the last answer's data */
static size_t rlen;              /* its length, status word excluded */

/* ---------------------------------------------------------------- fixtures */

static void
path_in(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void
write_text(const char *name, const char *text)
{
	char p[4200];
	FILE *f;

	path_in(p, sizeof(p), name);
	f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
}

static void
write_key(EVP_PKEY *k, const char *name)
{
	char p[4200];
	FILE *f;

	path_in(p, sizeof(p), name);
	f = fopen(p, "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

/* A self-signed certificate for k, as DER (name.der) and PEM (name.pem). */
static void
write_cert(EVP_PKEY *k, const char *cn, const char *name)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	char p[4200];
	FILE *f;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"JP", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	X509_sign(x, k, EVP_sha256());
	snprintf(p, sizeof(p), "%s/%s.der", dir, name);
	f = fopen(p, "wb");
	i2d_X509_fp(f, x);
	fclose(f);
	snprintf(p, sizeof(p), "%s/%s.pem", dir, name);
	f = fopen(p, "w");
	PEM_write_X509(f, x);
	fclose(f);
	X509_NAME_free(n);
	X509_free(x);
}

static const char *profile_text = "[card]\n"
                                  "type = mynumber   ; a My Number card\n"
                                  "[holder]\n"
                                  "name = " NAME "\n"
                                  "address = " ADDRESS "\n"
                                  "birth = 19850401\n"
                                  "sex = 2\n"
                                  "mynumber = 537686677188\n"
                                  "[pins]\n"
                                  "auth = 1234\n"
                                  "support = 5678\n"
                                  "sign = ABC123\n"
                                  "[jpki]\n"
                                  "auth_key = keys/auth.pem\n"
                                  "auth_cert = auth.der\n"
                                  "auth_ca = ca.der\n"
                                  "sign_key = keys/sign.pem\n"
                                  "sign_cert = sign.der\n"
                                  "sign_ca = ca.der\n"
                                  "[support]\n"
                                  "issuer_key = keys/issuer.pem\n";

static void
make_fixtures(void)
{
	char p[4200];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	path_in(p, sizeof(p), "keys");
	if (mkdir(p, 0700) != 0) {
		perror("mkdir");
		exit(1);
	}
	auth_key = EVP_RSA_gen(2048);
	sign_key = EVP_RSA_gen(2048);
	issuer = EVP_RSA_gen(2048);
	write_key(auth_key, "keys/auth.pem");
	write_key(sign_key, "keys/sign.pem");
	write_key(issuer, "keys/issuer.pem");
	write_cert(auth_key, "AUTH0001", "auth");
	write_cert(sign_key, "YOSHIDA HANAKO", "sign");
	write_cert(issuer, "TEST CA", "ca");
	write_text("alice.card", profile_text);
	path_in(profile, sizeof(profile), "alice.card");
}

static void
remove_fixtures(void)
{
	char cmd[4300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static struct sim_card *
load(const char *name)
{
	struct hwg_error err = {0};
	struct sim_card *c = NULL;
	char p[4200];

	path_in(p, sizeof(p), name);
	if (sim_profile_card(p, &c, &err) != 0)
		fprintf(stderr, "  load %s: %s\n", name, err.message);
	return c;
}

static void
fresh_card(void)
{
	sim_card_free(card);
	card = load("alice.card");
}

/* ---------------------------------------------------------------- APDUs */

/* Send hex to c; return the status word, the data in r/rlen. */
static unsigned
tx_to(struct sim_card *c, const char *hex)
{
	uint8_t a[600], out[SIM_RAPDU_MAX];
	size_t n = 0, len = sizeof(out);
	unsigned v;

	for (; hex[0] && hex[1] && n < sizeof(a) && sscanf(hex, "%2x", &v) == 1; hex += 2)
		a[n++] = (uint8_t)v;
	if (c == NULL || sim_card_apdu(c, a, n, out, &len) != 0 || len < 2)
		return 0;
	rlen = len - 2;
	memcpy(r, out, rlen);
	return (unsigned)(out[len - 2] << 8 | out[len - 1]);
}

static unsigned
tx(const char *hex)
{
	return tx_to(card, hex);
}

static unsigned
select_ef(const char *fid)
{
	char apdu[32];

	snprintf(apdu, sizeof(apdu), "00A4020C02%s", fid);
	return tx(apdu);
}

/* Read the selected EF whole, 256 bytes at a time, until 6B00 or a short answer. */
static size_t
read_all(uint8_t *out, size_t cap)
{
	size_t have = 0;
	char apdu[16];

	for (;;) {
		unsigned sw;

		snprintf(apdu, sizeof(apdu), "00B0%04X00", (unsigned)have);
		if ((sw = tx(apdu)) != 0x9000 || have + rlen > cap)
			return have;
		memcpy(out + have, r, rlen);
		have += rlen;
		if (rlen < 256)
			return have;
	}
}

static size_t
file_bytes(const char *name, uint8_t *out, size_t cap)
{
	char p[4200];
	FILE *f;
	size_t n;

	path_in(p, sizeof(p), name);
	if ((f = fopen(p, "rb")) == NULL)
		return 0;
	n = fread(out, 1, cap, f);
	fclose(f);
	return n;
}

/* ---------------------------------------------------------------- the card */

static void
test_select(void)
{
	fresh_card();
	CHECK(card != NULL);
	CHECK_EQ_INT(tx("00A4040C0AD392100031000101040F"), 0x6A82); /* 券面AP: not simulated */
	CHECK_EQ_INT(select_ef("0006"), 0x6A82);                    /* no DF selected */
	CHECK_EQ_INT(tx(JPKI), 0x9000);
	CHECK_EQ_INT(rlen, 0);
	CHECK_EQ_INT(tx("00A4040C0AD392F0002601000000010000"), 0x6700); /* Lc 10, 12 bytes */
	CHECK_EQ_INT(tx("00A4040000AD392F000260100000001"), 0x6700);    /* Lc 0 */
	CHECK_EQ_INT(tx("00A404000AD392F000260100000001"), 0x9000);     /* P2 00: no FCI either */
	CHECK_EQ_INT(select_ef("0006"), 0x9000);
	CHECK_EQ_INT(select_ef("0011"), 0x6A82); /* the input-support PIN is not in JPKI-AP */
	CHECK_EQ_INT(tx("00A4020C03000600"), 0x6700);
	CHECK_EQ_INT(tx(SUPPORT), 0x9000);
	CHECK_EQ_INT(select_ef("0011"), 0x9000);
	CHECK_EQ_INT(select_ef("000A"), 0x6A82);
}

static void
test_token_label(void)
{
	CHECK_EQ_INT(tx(JPKI), 0x9000);
	CHECK_EQ_INT(tx("00B0000020"), 0x6986); /* no EF selected */
	CHECK_EQ_INT(select_ef("0006"), 0x9000);
	CHECK_EQ_INT(tx("00B0000020"), 0x9000);
	CHECK(rlen == 32 && memcmp(r, "JPKIAPICCTOKEN2", 15) == 0 && r[15] == 0 && r[31] == 0);
	CHECK_EQ_INT(tx("00B0001F00"), 0x9000); /* Le 256 from offset 31: the 1 byte left */
	CHECK_EQ_INT(rlen, 1);
	CHECK_EQ_INT(tx("00B0002001"), 0x6B00); /* past the end */
	CHECK_EQ_INT(tx("00B0800001"), 0x6A86); /* short EF identifier */
	CHECK_EQ_INT(tx("00B000000100"), 0x6700);
}

/* Certificate EFs hold the DER and filler; 0001 only after the signing password. */
static void
test_certificates(void)
{
	static uint8_t der[4096], ef[8192];
	size_t n, len;

	CHECK_EQ_INT(tx(JPKI), 0x9000);
	CHECK_EQ_INT(select_ef("000A"), 0x9000);
	len = read_all(ef, sizeof(ef));
	n = file_bytes("auth.der", der, sizeof(der));
	CHECK(n > 256 && len > n && memcmp(ef, der, n) == 0 && ef[n] == 0xFF);
	CHECK(ef[0] == 0x30 && ef[1] == 0x82 && (size_t)(ef[2] << 8 | ef[3]) + 4 == n);
	CHECK_EQ_INT(select_ef("000B"), 0x9000);
	CHECK_EQ_INT(tx("00B0000004"), 0x9000);
	CHECK_EQ_INT(select_ef("0002"), 0x9000);
	CHECK_EQ_INT(tx("00B0000004"), 0x9000);
	CHECK_EQ_INT(select_ef("0001"), 0x9000);
	CHECK_EQ_INT(tx("00B0000004"), 0x6982); /* signing certificate: password first */
	CHECK_EQ_INT(select_ef("001B"), 0x9000);
	CHECK_EQ_INT(tx("0020008006414243313233"), 0x9000);
	CHECK_EQ_INT(select_ef("0001"), 0x9000);
	len = read_all(ef, sizeof(ef));
	n = file_bytes("sign.der", der, sizeof(der));
	CHECK(n > 0 && len == n + 256 && memcmp(ef, der, n) == 0);
}

static void
test_secret_files_unreadable(void)
{
	CHECK_EQ_INT(tx(JPKI), 0x9000);
	CHECK_EQ_INT(select_ef("0018"), 0x9000);
	CHECK_EQ_INT(tx("002000800431323334"), 0x9000);
	CHECK_EQ_INT(tx("00B0000004"), 0x6981); /* a PIN file is no binary file */
	CHECK_EQ_INT(select_ef("0017"), 0x9000);
	CHECK_EQ_INT(tx("00B0000004"), 0x6982); /* a key, even with its PIN verified */
	CHECK_EQ_INT(select_ef("001A"), 0x9000);
	CHECK_EQ_INT(tx("00B0000004"), 0x6982);
}

static void
test_pin_counter(void)
{
	fresh_card();
	CHECK_EQ_INT(tx(SUPPORT), 0x9000);
	CHECK_EQ_INT(tx("00200080"), 0x6985); /* no PIN file selected */
	CHECK_EQ_INT(select_ef("0011"), 0x9000);
	CHECK_EQ_INT(tx("00200080"), 0x63C3);
	CHECK_EQ_INT(tx("002000800431313131"), 0x63C2);
	CHECK_EQ_INT(tx("00200080"), 0x63C2);             /* asking does not cost a try */
	CHECK_EQ_INT(tx("0020008003313131"), 0x63C1);     /* the wrong length is a wrong PIN */
	CHECK_EQ_INT(tx("00200080043536373800"), 0x6700); /* Lc disagrees with the data */
	CHECK_EQ_INT(tx("002000810435363738"), 0x6A86);
	CHECK_EQ_INT(tx("002000800435363738"), 0x9000); /* right: the counter is full again */
	CHECK_EQ_INT(tx("00200080"), 0x63C3);
	CHECK_EQ_INT(sim_card_tries(card, SIM_PIN_SUPPORT), 3);
	for (unsigned left = 2;; left--) {
		CHECK_EQ_INT(tx("002000800430303030"), 0x63C0u | left);
		if (left == 0)
			break;
	}
	CHECK_EQ_INT(tx("002000800435363738"), 0x6984); /* locked: even the right PIN */
	CHECK_EQ_INT(tx("00200080"), 0x6984);
	CHECK_EQ_INT(sim_card_tries(card, SIM_PIN_SUPPORT), 0);
	sim_card_reset(card); /* a power cycle keeps the counter */
	CHECK_EQ_INT(tx(SUPPORT), 0x9000);
	CHECK_EQ_INT(select_ef("0011"), 0x9000);
	CHECK_EQ_INT(tx("00200080"), 0x6984);
	CHECK_EQ_INT(sim_card_tries(card, SIM_PIN_AUTH), 3);
	CHECK_EQ_INT(sim_card_tries(card, SIM_PIN_SIGN), 5);
}

static void
test_signing_password(void)
{
	fresh_card();
	CHECK_EQ_INT(tx(JPKI), 0x9000);
	CHECK_EQ_INT(select_ef("001B"), 0x9000);
	CHECK_EQ_INT(tx("00200080"), 0x63C5);
	CHECK_EQ_INT(tx("0020008006616263313233"), 0x63C4); /* compared as stored: upper case */
	CHECK_EQ_INT(tx("0020008006414243313233"), 0x9000);
	CHECK_EQ_INT(tx("00200080"), 0x63C5); /* verified: still the tries left */
}

static void
test_security_state(void)
{
	fresh_card();
	CHECK_EQ_INT(tx(SUPPORT), 0x9000);
	CHECK_EQ_INT(select_ef("0001"), 0x9000);
	CHECK_EQ_INT(tx("00B0000011"), 0x6982); /* My Number needs the PIN */
	CHECK_EQ_INT(select_ef("0011"), 0x9000);
	CHECK_EQ_INT(tx("002000800435363738"), 0x9000);
	CHECK_EQ_INT(select_ef("0001"), 0x9000);
	CHECK_EQ_INT(tx("00B0000011"), 0x9000);
	CHECK(rlen == 17 && memcmp(r + 3, "537686677188", 12) == 0);
	CHECK_EQ_INT(tx(SUPPORT), 0x9000); /* the same DF again keeps its state */
	CHECK_EQ_INT(select_ef("0001"), 0x9000);
	CHECK_EQ_INT(tx("00B0000011"), 0x9000);
	CHECK_EQ_INT(tx(JPKI), 0x9000); /* another DF clears it */
	CHECK_EQ_INT(tx(SUPPORT), 0x9000);
	CHECK_EQ_INT(select_ef("0001"), 0x9000);
	CHECK_EQ_INT(tx("00B0000011"), 0x6982);
	CHECK_EQ_INT(select_ef("0011"), 0x9000);
	CHECK_EQ_INT(tx("002000800435363738"), 0x9000);
	sim_card_reset(card); /* and so does a reset */
	CHECK_EQ_INT(select_ef("0001"), 0x6A82);
	CHECK_EQ_INT(tx(SUPPORT), 0x9000);
	CHECK_EQ_INT(select_ef("0001"), 0x9000);
	CHECK_EQ_INT(tx("00B0000011"), 0x6982);
}

static void
test_change_pin(void)
{
	fresh_card();
	CHECK_EQ_INT(tx(JPKI), 0x9000);
	CHECK_EQ_INT(select_ef("0018"), 0x9000);
	CHECK_EQ_INT(tx("002401800439393939"), 0x6982); /* not verified */
	CHECK_EQ_INT(tx("002000800431323334"), 0x9000);
	CHECK_EQ_INT(tx("002400800439393939"), 0x6A86);
	CHECK_EQ_INT(tx("00240180043939393900"), 0x6700);
	CHECK_EQ_INT(tx("00240180043939394A"), 0x6A80); /* not 4 digits */
	CHECK_EQ_INT(tx("002401800439393939"), 0x9000);
	CHECK_EQ_INT(tx("002000800431323334"), 0x63C2); /* the old PIN is wrong now */
	CHECK_EQ_INT(tx("002000800439393939"), 0x9000);
	CHECK_EQ_INT(tx("00200080"), 0x63C3);
}

/* The signature verifies under the certificate's public key as sha256WithRSA over msg. */
static int
signature_ok(const char *cert_name, const uint8_t *sig, size_t sig_len)
{
	static const uint8_t msg[] = "the counter's request";
	uint8_t der[4096];
	size_t n = file_bytes(cert_name, der, sizeof(der));
	const uint8_t *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)n);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	ok = x != NULL && md != NULL &&
	     EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, X509_get0_pubkey(x)) == 1 &&
	     EVP_DigestVerify(md, sig, sig_len, msg, sizeof(msg) - 1) == 1;
	EVP_MD_CTX_free(md);
	X509_free(x);
	return ok;
}

/* The sign APDU for SHA-256("the counter's request"). */
static void
sign_apdu(char *out, size_t cap)
{
	static const uint8_t msg[] = "the counter's request";
	uint8_t hash[32];
	size_t n;

	SHA256(msg, sizeof(msg) - 1, hash);
	n = (size_t)snprintf(out, cap, "802A008033%s", "3031300D060960864801650304020105000420");
	for (int i = 0; i < 32; i++)
		n += (size_t)snprintf(out + n, cap - n, "%02X", hash[i]);
	snprintf(out + n, cap - n, "00");
}

static void
test_sign(void)
{
	char apdu[300];

	fresh_card();
	sign_apdu(apdu, sizeof(apdu));
	CHECK_EQ_INT(tx(JPKI), 0x9000);
	CHECK_EQ_INT(select_ef("0017"), 0x9000);
	CHECK_EQ_INT(tx(apdu), 0x6982); /* no PIN yet */
	CHECK_EQ_INT(select_ef("0018"), 0x9000);
	CHECK_EQ_INT(tx("002000800431323334"), 0x9000);
	CHECK_EQ_INT(tx(apdu), 0x6985); /* no key file selected */
	CHECK_EQ_INT(select_ef("0017"), 0x9000);
	CHECK_EQ_INT(tx("802A008133300000"), 0x6A86);
	CHECK_EQ_INT(tx(apdu), 0x9000);
	CHECK(rlen == 256 && signature_ok("auth.der", r, rlen));
	CHECK_EQ_INT(select_ef("001A"), 0x9000);
	CHECK_EQ_INT(tx(apdu), 0x6982); /* the auth PIN does not open the signing key */
	CHECK_EQ_INT(select_ef("001B"), 0x9000);
	CHECK_EQ_INT(tx("0020008006414243313233"), 0x9000);
	CHECK_EQ_INT(select_ef("001A"), 0x9000);
	apdu[strlen(apdu) - 2] = '\0'; /* without Le also */
	CHECK_EQ_INT(tx(apdu), 0x9000);
	CHECK(rlen == 256 && signature_ok("sign.der", r, rlen));
	CHECK(!signature_ok("auth.der", r, rlen));
	CHECK_EQ_INT(tx(SUPPORT), 0x9000);
	CHECK_EQ_INT(tx(JPKI), 0x9000);
	CHECK_EQ_INT(select_ef("001A"), 0x9000);
	CHECK_EQ_INT(tx(apdu), 0x6982); /* the DF was left: verify again */
}

static void
test_malformed(void)
{
	uint8_t small[10];
	size_t len = sizeof(small);

	CHECK_EQ_INT(tx(""), 0x6700);
	CHECK_EQ_INT(tx("00A4"), 0x6700);
	CHECK_EQ_INT(tx("00A404"), 0x6700);
	CHECK_EQ_INT(tx("01A4040C0AD392F000260100000001"), 0x6881);
	CHECK_EQ_INT(tx("83A4040C0AD392F000260100000001"), 0x6881);
	CHECK_EQ_INT(tx("A0A4040C0AD392F000260100000001"), 0x6E00);
	CHECK_EQ_INT(tx("80A4040C0AD392F000260100000001"), 0x6E00);
	CHECK_EQ_INT(tx("FFA4040C0AD392F000260100000001"), 0x6E00);
	CHECK_EQ_INT(tx("00CA000000"), 0x6D00);
	CHECK_EQ_INT(tx("00880000"), 0x6D00); /* INTERNAL AUTHENTICATE is not used for JPKI */
	CHECK_EQ_INT(tx("00A4080C0AD392F000260100000001"), 0x6A86);
	CHECK_EQ_INT(tx("00A4040D0AD392F000260100000001"), 0x6A86);
	CHECK_EQ_INT(tx("00A4040C0BD392F000260100000001"), 0x6700);
	CHECK_EQ_INT(sim_card_apdu(card, (const uint8_t *)"\0\xA4\4\0", 4, small, &len),
	             HWG_E_INVALID);
}

/* ---------------------------------------------------------------- input support */

struct support_files {
	uint8_t ef1[64], ef2[2048], ef3[1024];
	size_t n1, n2, n3;
};

static void
read_support(struct support_files *f)
{
	CHECK_EQ_INT(tx(SUPPORT), 0x9000);
	CHECK_EQ_INT(select_ef("0011"), 0x9000);
	CHECK_EQ_INT(tx("002000800435363738"), 0x9000);
	CHECK_EQ_INT(select_ef("0001"), 0x9000);
	f->n1 = read_all(f->ef1, sizeof(f->ef1));
	CHECK_EQ_INT(select_ef("0002"), 0x9000);
	f->n2 = read_all(f->ef2, sizeof(f->ef2));
	CHECK_EQ_INT(select_ef("0003"), 0x9000);
	f->n3 = read_all(f->ef3, sizeof(f->ef3));
}

/* The brief's pitfall: FF 20 82 HH LL, DF22 81 LL, DF23 81 LL; DF21 points at DF22..DF25. */
static void
check_encoding(const struct support_files *f)
{
	const uint8_t *v = f->ef2 + 5;
	static const uint8_t tags[4] = {0x22, 0x23, 0x24, 0x25};

	CHECK(f->ef2[0] == 0xFF && f->ef2[1] == 0x20 && f->ef2[2] == 0x82);
	CHECK_EQ_INT((size_t)(f->ef2[3] << 8 | f->ef2[4]) + 5, f->n2);
	CHECK(v[0] == 0xDF && v[1] == 0x21 && v[2] == 0x08);
	for (int i = 0; i < 4; i++) {
		size_t off = (size_t)(v[3 + 2 * i] << 8 | v[4 + 2 * i]);

		CHECK(off + 2 < f->n2 - 5 && v[off] == 0xDF && v[off + 1] == tags[i]);
	}
	CHECK(v[11] == 0xDF && v[12] == 0x22 && v[13] == 0x81 && v[14] == strlen(NAME));
	CHECK(f->ef3[0] == 0xFF && f->ef3[1] == 0x30 && f->ef3[2] == 0x82);
	CHECK(f->n3 > 264 && memcmp(f->ef3 + f->n3 - 261, "\xDF\x33\x82\x01\x00", 5) == 0);
}

static void
test_input_support(void)
{
	static struct support_files f;
	struct hwg_error err = {0};
	struct hwg_mn_facts facts;
	char number[13];

	fresh_card();
	read_support(&f);
	CHECK_EQ_INT(f.n1, 17);
	CHECK(memcmp(f.ef1,
	             "\xFF\x10\x0C"
	             "537686677188\xFF\xFF",
	             17) == 0);
	CHECK_EQ_INT(hwg_mn_parse_mynumber(f.ef1, f.n1, number, &err), 0);
	CHECK_EQ_STR(number, "537686677188");
	check_encoding(&f);
	CHECK_EQ_INT(hwg_mn_parse_facts(f.ef2, f.n2, &facts, &err), 0);
	CHECK_EQ_STR(facts.name, NAME);
	CHECK_EQ_STR(facts.address, ADDRESS);
	CHECK_EQ_STR(facts.birth, "19850401");
	CHECK_EQ_STR(facts.sex, "2");
	CHECK_EQ_INT(hwg_mn_check_integrity(f.ef1, f.n1, f.ef2, f.n2, f.ef3, f.n3, issuer, &err),
	             0);
	CHECK_EQ_INT(hwg_mn_check_integrity(f.ef1, f.n1, f.ef2, f.n2, f.ef3, f.n3, auth_key, &err),
	             HWG_E_TAMPERED); /* another issuer */
	CHECK_EQ_INT(sim_card_tamper_facts(card, &err), 0);
	read_support(&f);
	CHECK_EQ_INT(hwg_mn_parse_facts(f.ef2, f.n2, &facts, &err), 0); /* still well-formed */
	CHECK(strcmp(facts.name, NAME) != 0);
	CHECK_EQ_INT(hwg_mn_check_integrity(f.ef1, f.n1, f.ef2, f.n2, f.ef3, f.n3, issuer, &err),
	             HWG_E_TAMPERED);
}

/* A long name (81 LL) and address (82 HH LL) still round-trip through the gateway's parser. */
static void
test_long_facts(void)
{
	static struct support_files f;
	struct hwg_error err = {0};
	struct hwg_mn_facts facts;
	struct sim_card_spec s;
	struct sim_card *keep = card;

	memset(&s, 0, sizeof(s));
	s.type = SIM_MYNUMBER;
	s.atr_len = 2;
	for (int i = 0; i < 50; i++)
		strcat(s.name, "田"); /* 150 bytes */
	for (int i = 0; i < 100; i++)
		strcat(s.address, "東"); /* 300 bytes */
	strcpy(s.birth, "19850401");
	strcpy(s.sex, "9");
	strcpy(s.mynumber, "537686677188");
	strcpy(s.pins[SIM_PIN_SUPPORT], "5678");
	for (int i = 0; i < SIM_N_PINS; i++)
		s.tries[i] = -1;
	s.issuer_key = issuer;
	card = NULL;
	CHECK_EQ_INT(sim_card_new(&s, &card, &err), 0);
	read_support(&f);
	CHECK(f.ef2[16] == 0xDF && f.ef2[17] == 0x22 && f.ef2[18] == 0x81 && f.ef2[19] == 150);
	CHECK(f.ef2[170] == 0xDF && f.ef2[171] == 0x23 && f.ef2[172] == 0x82 && f.ef2[173] == 1);
	CHECK_EQ_INT(hwg_mn_parse_facts(f.ef2, f.n2, &facts, &err), 0);
	CHECK_EQ_STR(facts.address, s.address);
	CHECK_EQ_STR(facts.sex, "9");
	CHECK_EQ_INT(hwg_mn_check_integrity(f.ef1, f.n1, f.ef2, f.n2, f.ef3, f.n3, issuer, &err),
	             0);
	sim_card_free(card);
	card = keep;
}

/* ---------------------------------------------------------------- other cards */

static void
test_other_types(void)
{
	struct sim_card *c;
	struct hwg_error err = {0};
	size_t len;
	const uint8_t *atr;

	write_text("juki.card", "[card]\ntype = jukicard\natr = 3BDA13FF\n");
	write_text("blank.card", "[card]\ntype = blank\n");
	c = load("juki.card");
	CHECK(c != NULL);
	atr = c != NULL ? sim_card_atr(c, &len) : NULL;
	CHECK(atr != NULL && len == 4 && atr[1] == 0xDA);
	CHECK_EQ_INT(tx_to(c, JPKI), 0x9000);
	CHECK_EQ_INT(tx_to(c, "00A4020C020006"), 0x9000);
	CHECK_EQ_INT(tx_to(c, "00B0000020"), 0x9000);
	CHECK(rlen == 32 && memcmp(r, "JPKIAPICCTOKEN\0", 15) == 0);
	CHECK_EQ_INT(tx_to(c, "00A4020C02000A"), 0x6A82); /* no certificate in the profile */
	CHECK_EQ_INT(tx_to(c, SUPPORT), 0x6A82);
	CHECK(c != NULL && sim_card_tries(c, SIM_PIN_SUPPORT) == -1);
	CHECK(c != NULL && sim_card_tamper_facts(c, &err) == HWG_E_NOT_FOUND);
	sim_card_free(c);
	c = load("blank.card");
	CHECK(c != NULL);
	atr = c != NULL ? sim_card_atr(c, &len) : NULL;
	CHECK(atr != NULL && len == 9 &&
	      memcmp(atr, "\x3B\xE0\x00\xFF\x81\x31\xFE\x45\x14", 9) == 0);
	CHECK_EQ_INT(tx_to(c, JPKI), 0x6A82);
	CHECK_EQ_INT(tx_to(c, SUPPORT), 0x6A82);
	CHECK(c != NULL && sim_card_tries(c, SIM_PIN_AUTH) == -1);
	sim_card_free(c);
}

/* ---------------------------------------------------------------- profiles */

/* The profile's text with one line replaced (or added to its section); the refusal. */
static const char *
refusal(const char *from, const char *to)
{
	static char why[300];
	struct hwg_error err = {0};
	struct sim_card *c = NULL;
	char text[8192], p[4200];
	const char *at = strstr(profile_text, from);
	size_t head = at != NULL ? (size_t)(at - profile_text) : strlen(profile_text);

	snprintf(text, sizeof(text), "%.*s%s%s", (int)head, profile_text, to,
	         at != NULL ? at + strlen(from) : "");
	write_text("bad.card", text);
	path_in(p, sizeof(p), "bad.card");
	if (sim_profile_card(p, &c, &err) == 0) {
		sim_card_free(c);
		return "(accepted)";
	}
	snprintf(why, sizeof(why), "%s", err.message);
	return why;
}

static int
says(const char *why, const char *a, const char *b)
{
	if (strstr(why, "bad.card") != NULL && strstr(why, a) != NULL && strstr(why, b) != NULL)
		return 1;
	fprintf(stderr, "  refusal: %s\n", why);
	return 0;
}

static void
test_bad_profiles(void)
{
	static char long_line[260];

	CHECK(says(refusal("537686677188", "537686677189"), "[holder] mynumber", "check digit"));
	CHECK_EQ_STR(refusal("537686677188", "537686677189\nmynumber_unchecked = yes"),
	             "(accepted)");
	CHECK(says(refusal("5376866771", "5376866"), "[holder] mynumber", "12 digits"));
	CHECK(says(refusal("type = mynumber", "type = smartcard"), "[card] type", "expected"));
	CHECK(says(refusal("auth_cert = auth.der", "auth_cert = missing.der"), "[jpki] auth_cert",
	           "cannot read"));
	CHECK(says(refusal("auth_cert = auth.der", "auth_cert = auth.pem"), "[jpki] auth_cert",
	           "not a DER"));
	CHECK(says(refusal("auth_key = keys/auth.pem", "auth_key = auth.der"), "[jpki] auth_key",
	           "PEM private key"));
	CHECK(says(refusal("auth = 1234", "auth = 12345"), "[pins] auth", "4 digits"));
	CHECK(says(refusal("sign = ABC123", "sign = abc123"), "[pins] sign", "A-Z"));
	CHECK(says(refusal("sign = ABC123", "sign_tries = 6"), "[pins] sign_tries", "0 to 5"));
	CHECK(says(refusal("sex = 2", "sex = 3"), "[holder] sex", "ISO 5218"));
	CHECK(
	    says(refusal("birth = 19850401", "birth = 1985-04-01"), "[holder] birth", "YYYYMMDD"));
	CHECK(says(refusal("sex = 2", "gender = 2"), "[holder] gender", "unknown key"));
	CHECK(says(refusal("[support]", "[extra]"), "[extra] issuer_key", "unknown section"));
	CHECK(says(refusal("issuer_key = keys/issuer.pem\n", ""), "[support] issuer_key",
	           "required"));
	CHECK(says(refusal("name = " NAME "\n", ""), "[holder] name", "required"));
	CHECK(says(refusal("[pins]", "[pins\n"), "bad.card:9", "key = value"));
	CHECK(says(refusal("[card]\n", "[card]\natr = 3BZZ\n"), "[card] atr", "hex"));
	memset(long_line, 'x', sizeof(long_line) - 1);
	memcpy(long_line, "[jpki]\n;", 8);
	CHECK(says(refusal("[jpki]", long_line), "bad.card:14", "longer than"));
	CHECK_EQ_STR(refusal("sign = ABC123", "sign = ABC123\nsign_tries = 1"), "(accepted)");
}

static void
test_profile_tries(void)
{
	struct sim_card *keep = card;

	refusal("sign = ABC123", "sign = ABC123\nsign_tries = 1\nauth_tries = 0");
	card = load("bad.card");
	CHECK(card != NULL && sim_card_tries(card, SIM_PIN_SIGN) == 1);
	CHECK_EQ_INT(tx(JPKI), 0x9000);
	CHECK_EQ_INT(select_ef("0018"), 0x9000);
	CHECK_EQ_INT(tx("002000800431323334"), 0x6984); /* locked from the start */
	CHECK_EQ_INT(select_ef("001B"), 0x9000);
	CHECK_EQ_INT(tx("00200080"), 0x63C1);
	sim_card_free(card);
	card = keep;
}

static void
test_missing_profile(void)
{
	struct hwg_error err = {0};
	struct sim_card *c = NULL;

	CHECK_EQ_INT(sim_profile_card("/nonexistent/x.card", &c, &err), HWG_E_CONFIG);
	CHECK(c == NULL && strstr(err.message, "/nonexistent/x.card") != NULL);
}

/* ---------------------------------------------------------------- vpcd and control */

struct fake_vpcd {
	int listen_fd, fd, port;
};

static int
vpcd_listen(struct fake_vpcd *v)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	v->fd = -1;
	v->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(v->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(v->listen_fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(v->listen_fd, 4) != 0 ||
	    getsockname(v->listen_fd, (struct sockaddr *)&a, &len) != 0)
		return -1;
	v->port = ntohs(a.sin_port);
	return 0;
}

/* The card connects within ms: 1, or 0. */
static int
vpcd_accept(struct fake_vpcd *v, int ms)
{
	struct pollfd p = {.fd = v->listen_fd, .events = POLLIN};

	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	if (poll(&p, 1, ms) <= 0)
		return 0;
	v->fd = accept(v->listen_fd, NULL, NULL);
	return v->fd >= 0;
}

static int
read_n(int fd, uint8_t *p, size_t n, int ms)
{
	while (n > 0) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t got;

		if (poll(&pf, 1, ms) <= 0)
			return -2; /* nothing within ms */
		if ((got = read(fd, p, n)) <= 0)
			return -1; /* closed */
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/* One frame to the card and its answer: the answer's length, -1 closed, -2 no answer. */
static int
vpcd_xfer(struct fake_vpcd *v, const char *hex, uint8_t *out, int ms)
{
	uint8_t frame[300], head[2];
	size_t n = 0;
	unsigned b;
	int rc;

	for (; hex[0] && hex[1] && sscanf(hex, "%2x", &b) == 1; hex += 2)
		frame[2 + n++] = (uint8_t)b;
	frame[0] = (uint8_t)(n >> 8);
	frame[1] = (uint8_t)n;
	if (write(v->fd, frame, n + 2) != (ssize_t)(n + 2))
		return -1;
	if ((rc = read_n(v->fd, head, 2, ms)) != 0)
		return rc;
	if ((rc = read_n(v->fd, out, (size_t)(head[0] << 8 | head[1]), ms)) != 0)
		return rc;
	return head[0] << 8 | head[1];
}

static unsigned
vpcd_sw(struct fake_vpcd *v, const char *hex)
{
	uint8_t out[300];
	int n = vpcd_xfer(v, hex, out, 2000);

	return n >= 2 ? (unsigned)(out[n - 2] << 8 | out[n - 1]) : 0;
}

static struct sim_slot slot;
static struct fake_vpcd vpcd;

/* Run a control command; 1 if the reply starts with want (and copy it to last). */
static char last[4096];

static int
ctl(const char *line, const char *want)
{
	char *out = sim_control_run(&slot, 1, line);

	snprintf(last, sizeof(last), "%s", out != NULL ? out : "(null)");
	free(out);
	if (strncmp(last, want, strlen(want)) == 0)
		return 1;
	fprintf(stderr, "  %s -> %s (wanted %s)\n", line, last, want);
	return 0;
}

static void
test_vpcd_frames(void)
{
	struct hwg_error err = {0};
	uint8_t out[300];
	char line[4300];

	CHECK_EQ_INT(vpcd_listen(&vpcd), 0);
	CHECK_EQ_INT(sim_slot_start(&slot, 0, vpcd.port, &err), 0);
	CHECK(ctl("status", "ok slot0=empty"));
	CHECK(!vpcd_accept(&vpcd, 300)); /* no card, no connection */
	snprintf(line, sizeof(line), "insert 0 %s", profile);
	CHECK(ctl(line, "ok"));
	CHECK(ctl("status", "ok slot0=card:alice.card"));
	CHECK(vpcd_accept(&vpcd, 2000));
	/* get ATR: alice's profile names none, so a My Number card's (pcsc-tools' list) */
	CHECK_EQ_INT(vpcd_xfer(&vpcd, "04", out, 2000), 19);
	CHECK(memcmp(out,
	             "\x3B\xDA\x13\xFF\x81\x31\xFB\x46\x80\x12\x39\x2F\x31\xC1\x73\xC6\x01\xC0\x3B",
	             19) == 0);
	CHECK_EQ_INT(vpcd_xfer(&vpcd, "01", out, 200), -2); /* power on: no answer */
	CHECK_EQ_INT(vpcd_sw(&vpcd, JPKI), 0x9000);
	CHECK_EQ_INT(vpcd_sw(&vpcd, "00A4020C020018"), 0x9000);
	CHECK(ctl("apdus-clear 0", "ok"));
	CHECK_EQ_INT(vpcd_sw(&vpcd, "002000800431313131"), 0x63C2);
	CHECK_EQ_INT(vpcd_sw(&vpcd, "00200080"), 0x63C2);
	CHECK(ctl("apdus 0", "ok 2 0020008004******** 00200080"));
	CHECK(ctl("tries 0", "ok auth=2 support=3 sign=5"));
	CHECK_EQ_INT(vpcd_xfer(&vpcd, "02", out, 200), -2); /* reset: selection gone */
	CHECK_EQ_INT(vpcd_sw(&vpcd, "00A4020C020018"), 0x6A82);
}

static void
test_vpcd_faults(void)
{
	uint8_t out[300];
	struct timespec t0, t1;
	long ms;

	CHECK(ctl("fault 0 garbage-at 2", "ok"));
	CHECK_EQ_INT(vpcd_sw(&vpcd, JPKI), 0x9000);
	CHECK_EQ_INT(vpcd_xfer(&vpcd, JPKI, out, 2000), 1); /* one byte, no status word */
	CHECK_EQ_INT(vpcd_sw(&vpcd, JPKI), 0x9000);         /* and then normal again */
	CHECK(ctl("delay 0 150 0", "ok"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ_INT(vpcd_sw(&vpcd, JPKI), 0x9000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(ms >= 150);
	CHECK(ctl("delay 0 0 0", "ok"));
	CHECK(ctl("fault 0 silent-at 1", "ok"));
	CHECK_EQ_INT(vpcd_xfer(&vpcd, JPKI, out, 300), -2);
	CHECK(ctl("fault 0 clear", "ok"));
	CHECK(ctl("fault 0 remove-at 1", "ok"));
	CHECK_EQ_INT(vpcd_xfer(&vpcd, JPKI, out, 2000), -1); /* the card is gone, no answer */
	CHECK(ctl("status", "ok slot0=empty"));
	CHECK(!vpcd_accept(&vpcd, 300));
	CHECK(ctl("reinsert 0", "ok"));
	CHECK(vpcd_accept(&vpcd, 2000));
	CHECK(ctl("tries 0", "ok auth=2 support=3 sign=5"));    /* the same card */
	CHECK_EQ_INT(vpcd_sw(&vpcd, "00A4020C020018"), 0x6A82); /* powered afresh */
}

static void
test_vpcd_reconnect(void)
{
	char line[4300];

	close(vpcd.fd); /* pcscd restarted: the card comes back by itself */
	vpcd.fd = -1;
	CHECK(vpcd_accept(&vpcd, 2000));
	CHECK_EQ_INT(vpcd_sw(&vpcd, JPKI), 0x9000);
	CHECK(ctl("unplug 0", "ok"));
	CHECK(ctl("status", "ok slot0=unplugged"));
	CHECK_EQ_INT(vpcd_xfer(&vpcd, JPKI, (uint8_t[300]){0}, 2000), -1);
	CHECK(!vpcd_accept(&vpcd, 500));
	CHECK(ctl("plug 0", "ok"));
	CHECK(vpcd_accept(&vpcd, 2000));
	snprintf(line, sizeof(line), "insert 0 %s", profile); /* a fresh card: reconnects */
	CHECK(ctl(line, "ok"));
	CHECK(vpcd_accept(&vpcd, 2000));
	CHECK(ctl("tries 0", "ok auth=3 support=3 sign=5"));
	CHECK(ctl("tamper 0 ef0002", "ok"));
	CHECK(ctl("remove 0", "ok"));
	CHECK_EQ_INT(vpcd_xfer(&vpcd, JPKI, (uint8_t[300]){0}, 2000), -1);
}

static void
test_control_errors(void)
{
	CHECK(ctl("", "err empty"));
	CHECK(ctl("bogus 0", "err unknown command"));
	CHECK(ctl("insert", "err insert: no slot"));
	CHECK(ctl("insert 1 x.card", "err insert: no slot 1"));
	CHECK(ctl("insert -1 x.card", "err insert: no slot"));
	CHECK(ctl("insert 0", "err usage"));
	CHECK(ctl("insert 0 /nonexistent/x.card", "err /nonexistent/x.card: cannot open"));
	CHECK(ctl("fault 0 remove-at 0", "err"));
	CHECK(ctl("fault 0 remove-at x", "err"));
	CHECK(ctl("fault 0 melt-at 1", "err usage"));
	CHECK(ctl("delay 0 1", "err usage"));
	CHECK(ctl("delay 0 1 -5", "err usage"));
	CHECK(ctl("tamper 0 ef0009", "err usage"));
	CHECK(ctl("remove 0 now", "err usage"));
	CHECK(ctl("status now", "err usage"));
	CHECK(ctl("a b c d e f g h", "err too many"));
	CHECK(ctl("status", "ok slot0=empty"));
}

static volatile int serving;

static void *
serve_control(void *arg)
{
	while (serving)
		sim_control_poll(arg, 50);
	return NULL;
}

/* The socket itself: clients one after another, an over-long line, a client gone mid-line. */
static void
test_control_socket(void)
{
	static struct sim_control c;
	static char big[10000];
	struct hwg_error err = {0};
	char path[4200], *reply = NULL;
	pthread_t t;

	path_in(path, sizeof(path), "ctl");
	CHECK_EQ_INT(sim_control_open(&c, path, &slot, 1, &err), 0);
	serving = 1;
	pthread_create(&t, NULL, serve_control, &c);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(sim_control_send(path, "status", &reply, &err), 0);
		CHECK_EQ_STR(reply, "ok slot0=empty");
		free(reply);
	}
	memset(big, 'x', sizeof(big) - 1);
	CHECK_EQ_INT(sim_control_send(path, big, &reply, &err), 0);
	CHECK_EQ_STR(reply, "err line too long");
	free(reply);
	CHECK_EQ_INT(sim_control_send(path, "tries 0", &reply, &err), 0);
	CHECK(reply != NULL && strncmp(reply, "ok auth=3", 9) == 0);
	free(reply);
	serving = 0;
	pthread_join(t, NULL);
	sim_control_close(&c);
	CHECK(access(path, F_OK) != 0);
	CHECK(sim_control_send(path, "status", &reply, &err) == HWG_E_IO);
	sim_slot_stop(&slot);
	close(vpcd.listen_fd);
}

int
main(void)
{
	make_fixtures();
	HWG_RUN(test_select);
	HWG_RUN(test_token_label);
	HWG_RUN(test_certificates);
	HWG_RUN(test_secret_files_unreadable);
	HWG_RUN(test_pin_counter);
	HWG_RUN(test_signing_password);
	HWG_RUN(test_security_state);
	HWG_RUN(test_change_pin);
	HWG_RUN(test_sign);
	HWG_RUN(test_malformed);
	HWG_RUN(test_input_support);
	HWG_RUN(test_long_facts);
	HWG_RUN(test_other_types);
	HWG_RUN(test_bad_profiles);
	HWG_RUN(test_profile_tries);
	HWG_RUN(test_missing_profile);
	HWG_RUN(test_vpcd_frames);
	HWG_RUN(test_vpcd_faults);
	HWG_RUN(test_vpcd_reconnect);
	HWG_RUN(test_control_errors);
	HWG_RUN(test_control_socket);
	sim_card_free(card);
	EVP_PKEY_free(auth_key);
	EVP_PKEY_free(sign_key);
	EVP_PKEY_free(issuer);
	remove_fixtures();
	return HWG_TEST_END();
}
