/*
 * make_apdu_seeds.c — writes the seed corpus of fuzz_apdu, and checks it.
 *
 *   fuzz_apdu_seeds DIR          write the seeds into DIR
 *   fuzz_apdu_seeds --check DIR  replay each seed's script through the
 *                                driver and expect the code its name
 *                                gives (a ctest)
 *
 * Most seeds are recorded: each driver operation runs against hwsim's
 * card engine (hw-sim/sim_card.c, the card test_simcard checks against
 * the brief) — a My Number card, a 住基カード, a blank card, right and
 * wrong PINs, locked PINs, every file — and its answers are saved as the
 * script (fuzz_apdu.h).  A few are written by hand for answers the
 * simulated card never gives: 6Cxx, 6282, a one-byte answer, a card
 * pulled out mid-file, a short signature.  A name starts with the
 * expected outcome: ok, retired, unsupported, wrong, locked, error or
 * removed.  Other files in the corpus (saved crashers) are left alone.
 */
#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_apdu.h"
#include "sim_card.h"

#define SCRIPT_MAX 16384

static const char *dir;
static int failed;
static EVP_PKEY *rsa;

static const struct {
	const char *prefix;
	int code;
} outcomes[] = {
    {"ok-", 0},
    {"retired-", HWG_E_CARD_RETIRED},
    {"unsupported-", HWG_E_CARD_UNSUPPORTED},
    {"wrong-", HWG_E_PIN_WRONG},
    {"locked-", HWG_E_PIN_LOCKED},
    {"error-", HWG_E_CARD_ERROR},
    {"removed-", HWG_E_CARD_REMOVED},
};

/* The code a seed's name promises, or 1 if the file is not a seed. */
static int
expected(const char *name)
{
	for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		if (strncmp(name, outcomes[i].prefix, strlen(outcomes[i].prefix)) == 0)
			return outcomes[i].code;
	return 1;
}

static void
save(const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		failed = 1;
	}
}

/* ---------------------------------------------------------------- recorded */

struct recorder {
	struct sim_card *sim;
	int on;
	uint8_t seed[SCRIPT_MAX]; /* operation, parameter, then the answers */
	size_t len;
};

static int
record(void *arg, const uint8_t *capdu, size_t clen, uint8_t *rapdu, size_t *rlen)
{
	struct recorder *r = arg;

	if (sim_card_apdu(r->sim, capdu, clen, rapdu, rlen) != 0)
		return -1;
	if (r->on) {
		if (r->len + 2 + *rlen > sizeof(r->seed))
			return -1;
		r->seed[r->len++] = (uint8_t)(*rlen >> 8);
		r->seed[r->len++] = (uint8_t)*rlen;
		memcpy(r->seed + r->len, rapdu, *rlen);
		r->len += *rlen;
	}
	return 0;
}

/* A TLV standing in for a certificate: the driver reads files as TLVs only. */
static uint8_t *
fake_cert(size_t body, uint8_t fill, size_t *len)
{
	uint8_t *p = malloc(body + 4);
	size_t h = 0;

	if (p == NULL)
		abort();
	p[h++] = 0x30;
	if (body > 0xFF) {
		p[h++] = 0x82;
		p[h++] = (uint8_t)(body >> 8);
	} else if (body > 0x7F) {
		p[h++] = 0x81;
	}
	p[h++] = (uint8_t)body;
	memset(p + h, fill, body);
	*len = h + body;
	return p;
}

static struct sim_card *
card(enum sim_card_type type, const char *auth_pin, int auth_tries)
{
	static const uint8_t atr[] = {0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14};
	struct sim_card_spec s;
	struct sim_card *c = NULL;
	struct hwg_error err = {0};

	memset(&s, 0, sizeof(s));
	s.type = type;
	memcpy(s.atr, atr, sizeof(atr));
	s.atr_len = sizeof(atr);
	snprintf(s.name, sizeof(s.name), "%s",
	         "\xE7\x95\xAA\xE5\x8F\xB7\xE3\x80\x80\xE8\x8A\xB1\xE5\xAD\x90");
	snprintf(s.address, sizeof(s.address), "%s", "東京都千代田区霞が関２丁目１番２号");
	snprintf(s.birth, sizeof(s.birth), "19800401");
	snprintf(s.sex, sizeof(s.sex), "2");
	snprintf(s.mynumber, sizeof(s.mynumber), "537686677188");
	snprintf(s.pins[SIM_PIN_AUTH], sizeof(s.pins[0]), "%s", auth_pin);
	snprintf(s.pins[SIM_PIN_SIGN], sizeof(s.pins[0]), "ABC123");
	snprintf(s.pins[SIM_PIN_SUPPORT], sizeof(s.pins[0]), "1234");
	s.tries[SIM_PIN_AUTH] = auth_tries;
	s.tries[SIM_PIN_SIGN] = s.tries[SIM_PIN_SUPPORT] = -1;
	s.auth_cert = fake_cert(1200, 0x11, &s.auth_cert_len);
	s.auth_ca = fake_cert(200, 0x22, &s.auth_ca_len);
	s.sign_cert = fake_cert(1300, 0x33, &s.sign_cert_len);
	s.sign_ca = fake_cert(100, 0x44, &s.sign_ca_len);
	/* one key for all three: the spec holds (and clearing it frees) a reference each */
	for (int i = 0; i < 3; i++)
		EVP_PKEY_up_ref(rsa);
	s.auth_key = s.sign_key = s.issuer_key = rsa;
	if (sim_card_new(&s, &c, &err) != 0) {
		fprintf(stderr, "sim_card_new: %s\n", err.message);
		exit(1);
	}
	sim_card_spec_clear(&s);
	return c;
}

enum setup { NONE, JPKI, SUPPORT, SUPPORT_PIN, AUTH_PIN, SIGN_PIN };

/* Run op on sim after setup (not recorded); save the answers as name. */
static void
recorded(const char *name, struct sim_card *sim, enum fuzz_apdu_op op, uint8_t param,
         enum setup setup)
{
	static struct recorder r;
	struct hwg_card c = {0};
	struct hwg_error err = {0};
	int tries, rc = 0;

	r.sim = sim;
	r.on = 0;
	c.answer = record;
	c.answer_arg = &r;
	if (setup == SUPPORT_PIN)
		rc = hwg_mn_verify(&c, HWG_MN_SUPPORT_PIN, "1234", 4, &tries, &err);
	else if (setup == AUTH_PIN)
		rc = hwg_mn_verify(&c, HWG_MN_AUTH_PIN, "1234", 4, &tries, &err);
	else if (setup == SIGN_PIN)
		rc = hwg_mn_verify(&c, HWG_MN_SIGN_PASSWORD, "ABC123", 6, &tries, &err);
	else if (setup == JPKI || setup == SUPPORT)
		rc = hwg_mn_select_app(&c, setup == JPKI ? HWG_MN_APP_JPKI : HWG_MN_APP_SUPPORT,
		                       &err);
	if (rc != 0) {
		fprintf(stderr, "%s: set-up failed: %s\n", name, err.message);
		failed = 1;
		return;
	}
	/* the seed replays on a fresh card: nothing known, nothing selected as far as it knows */
	memset(c.memo, 0, sizeof(c.memo));
	c.selection = 0;
	r.seed[0] = (uint8_t)op;
	r.seed[1] = param;
	r.len = 2;
	r.on = 1;
	if ((rc = fuzz_apdu_run(r.seed, 2, &c)) != expected(name)) {
		fprintf(stderr, "%s: the simulated card gave %d, expected %d\n", name, rc,
		        expected(name));
		failed = 1;
	}
	save(name, r.seed, r.len);
}

static void
make_recorded(void)
{
	struct sim_card *mn = card(SIM_MYNUMBER, "1234", -1), *other;

	recorded("ok-identify-mynumber", mn, FUZZ_APDU_IDENTIFY, 0, NONE);
	recorded("ok-select-support", mn, FUZZ_APDU_SELECT_APP, 1, NONE);
	recorded("ok-tries-auth", mn, FUZZ_APDU_TRIES, 0, NONE);
	recorded("ok-tries-sign", mn, FUZZ_APDU_TRIES, 1, NONE);
	recorded("ok-tries-support", mn, FUZZ_APDU_TRIES, 2, NONE);
	recorded("ok-verify-auth", mn, FUZZ_APDU_VERIFY, 0, NONE);
	recorded("ok-verify-sign", mn, FUZZ_APDU_VERIFY, 1, NONE);
	recorded("ok-verify-support", mn, FUZZ_APDU_VERIFY, 2, NONE);
	recorded("ok-read-tlv-auth-cert", mn, FUZZ_APDU_READ_TLV, 0, JPKI);
	recorded("ok-read-tlv-auth-ca", mn, FUZZ_APDU_READ_TLV, 1, JPKI);
	recorded("ok-read-tlv-sign-cert", mn, FUZZ_APDU_READ_TLV, 2, SIGN_PIN);
	recorded("error-read-tlv-token-not-tlv", mn, FUZZ_APDU_READ_TLV, 5, JPKI);
	recorded("ok-read-tlv-facts", mn, FUZZ_APDU_READ_TLV, 3, SUPPORT_PIN);
	recorded("ok-read-tlv-integrity", mn, FUZZ_APDU_READ_TLV, 4, SUPPORT_PIN);
	recorded("ok-read-file-mynumber", mn, FUZZ_APDU_READ_FILE, 0, SUPPORT_PIN);
	recorded("error-read-file-past-end", mn, FUZZ_APDU_READ_FILE, 2, SUPPORT_PIN);
	recorded("ok-sign-auth", mn, FUZZ_APDU_SIGN, 0, AUTH_PIN);
	sim_card_reset(mn);
	recorded("error-read-tlv-facts-no-pin", mn, FUZZ_APDU_READ_TLV, 3, SUPPORT);
	recorded("error-sign-no-pin", mn, FUZZ_APDU_SIGN, 0, JPKI);
	sim_card_free(mn);

	other = card(SIM_MYNUMBER, "9999", 2);
	recorded("wrong-verify-auth", other, FUZZ_APDU_VERIFY, 0, NONE);
	recorded("locked-verify-auth-last-try", other, FUZZ_APDU_VERIFY, 0, NONE);
	recorded("ok-tries-auth-locked", other, FUZZ_APDU_TRIES, 0, NONE);
	recorded("locked-verify-auth-not-tried", other, FUZZ_APDU_VERIFY, 0, NONE);
	sim_card_free(other);
	other = card(SIM_JUKICARD, "1234", -1);
	recorded("retired-identify-jukicard", other, FUZZ_APDU_IDENTIFY, 0, NONE);
	recorded("unsupported-select-support-jukicard", other, FUZZ_APDU_SELECT_APP, 1, NONE);
	sim_card_free(other);
	other = card(SIM_BLANK, "1234", -1);
	recorded("unsupported-identify-blank", other, FUZZ_APDU_IDENTIFY, 0, NONE);
	sim_card_free(other);
}

/* ---------------------------------------------------------------- by hand */

static void
by_hand(const char *name, enum fuzz_apdu_op op, uint8_t param, const char *answers, size_t n)
{
	uint8_t seed[256];

	seed[0] = (uint8_t)op;
	seed[1] = param;
	memcpy(seed + 2, answers, n);
	save(name, seed, n + 2);
}

static void
make_by_hand(void)
{
	/* select EF; READ BINARY: 6C04 (wrong Le), asked again with 04 */
	by_hand("ok-read-tlv-6c-retry", FUZZ_APDU_READ_TLV, 0,
	        "\x00\x02\x90\x00"
	        "\x00\x02\x6c\x04"
	        "\x00\x06\x04\x02\xaa\xbb\x90\x00",
	        16);
	by_hand("ok-read-tlv-6282-end-of-file", FUZZ_APDU_READ_TLV, 0,
	        "\x00\x02\x90\x00"
	        "\x00\x06\x04\x02\xaa\xbb\x62\x82",
	        12);
	by_hand("error-read-tlv-no-data", FUZZ_APDU_READ_TLV, 0,
	        "\x00\x02\x90\x00"
	        "\x00\x02\x90\x00",
	        8);
	/* a certificate of 256 bytes, its second part never coming */
	by_hand("removed-read-tlv-cut", FUZZ_APDU_READ_TLV, 0,
	        "\x00\x02\x90\x00"
	        "\x00\x0a\x30\x82\x01\x00\x01\x02\x03\x04\x90\x00",
	        16);
	by_hand("error-identify-one-byte", FUZZ_APDU_IDENTIFY, 0, "\x00\x01\x90", 3);
	by_hand("error-sign-short-signature", FUZZ_APDU_SIGN, 0,
	        "\x00\x02\x90\x00"
	        "\x00\x06\x01\x02\x03\x04\x90\x00",
	        12);
	/* select AP, select EF, tries 63C3, then the PIN: 63C2 */
	by_hand("wrong-verify-63c2", FUZZ_APDU_VERIFY, 0,
	        "\x00\x02\x90\x00"
	        "\x00\x02\x90\x00"
	        "\x00\x02\x63\xc3"
	        "\x00\x02\x63\xc2",
	        16);
	by_hand("locked-verify-6983", FUZZ_APDU_VERIFY, 2,
	        "\x00\x02\x90\x00"
	        "\x00\x02\x90\x00"
	        "\x00\x02\x69\x83",
	        12);
}

/* ---------------------------------------------------------------- check */

static int
check(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int passed = 0, ok = 0;

	if (d == NULL) {
		fprintf(stderr, "cannot open %s\n", dir);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		uint8_t buf[SCRIPT_MAX];
		struct hwg_card c = {0};
		int want = expected(e->d_name), rc;
		char path[4096];
		size_t len;
		FILE *f;

		if (want == 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((f = fopen(path, "rb")) == NULL) {
			fprintf(stderr, "not ok - %s: unreadable\n", e->d_name);
			failed = 1;
			continue;
		}
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		c.script = buf + 2;
		c.left = len < 2 ? 0 : len - 2;
		if ((rc = fuzz_apdu_run(buf, len, &c)) != want) {
			fprintf(stderr, "not ok - %s: %d, expected %d\n", e->d_name, rc, want);
			failed = 1;
			continue;
		}
		fprintf(stderr, "ok - %s\n", e->d_name);
		passed++;
		ok += want == 0;
	}
	closedir(d);
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 && ok > 0 && passed > ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--check") == 0) {
		dir = argv[2];
		return check();
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: fuzz_apdu_seeds DIR | fuzz_apdu_seeds --check DIR\n");
		return 2;
	}
	dir = argv[1];
	if ((rsa = EVP_RSA_gen(2048)) == NULL)
		return 1;
	make_recorded();
	make_by_hand();
	EVP_PKEY_free(rsa);
	return failed;
}
