/*
 * make_seeds.c — writes the seed corpus of fuzz_envelope, and checks it.
 *
 *   fuzz_make_seeds DIR          write the seeds into DIR
 *   fuzz_make_seeds --check DIR  every "ok-*" file in DIR must decode and
 *                                verify with the fixed keys, every "bad-*"
 *                                file must be refused (a ctest)
 *
 * "ok-" seeds are real requests signed with the fixed keys of
 * fuzz_keys.c, so the fuzzer starts from messages that pass the
 * signature check; "bad-" seeds are each one refusal of the decoder away
 * from valid (signed where a signature could matter), so that mutants
 * explore the edges of every check.  Other files in the corpus (saved
 * crashers) are left alone by both modes.
 */
#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_keys.h"
#include "hwg_buf.h"
#include "hwg_cbor.h"
#include "hwg_cose.h"

#define SEED_MAX 4096

static EVP_PKEY *ed, *ec;

/* A CBOR head in its shortest form. */
static void
head(struct hwg_buf *b, int major, uint64_t arg)
{
	uint8_t mt = (uint8_t)(major << 5);

	if (arg < 24) {
		hwg_buf_put_u8(b, (uint8_t)(mt | arg));
	} else if (arg <= 0xff) {
		hwg_buf_put_u8(b, mt | 24);
		hwg_buf_put_u8(b, (uint8_t)arg);
	} else {
		hwg_buf_put_u8(b, mt | 25);
		hwg_buf_put_u16be(b, (uint16_t)arg);
	}
}

static void
bstr(struct hwg_buf *b, const uint8_t *p, size_t len)
{
	head(b, 2, len);
	hwg_buf_put(b, p, len);
}

/* A request payload (gateway/api.cddl "request"). */
static size_t
request(uint8_t *out, size_t cap, const char *op, uint64_t version, int with_session)
{
	static const uint8_t nonce[16] = {0x6e, 0x6f, 0x6e, 0x63, 0x65, 0x2d, 0x66, 0x75,
	                                  0x7a, 0x7a, 0x2d, 0x73, 0x65, 0x65, 0x64, 0x31};
	cbor_item_t *map = cbor_new_definite_map(8), *args = cbor_new_definite_map(2);
	size_t n = 0;

	if (map == NULL || args == NULL)
		abort();
	if (strcmp(op, "audit.query") == 0 &&
	    (hwg_cbor_map_put_text(args, "subject", "R-000123") != 0 ||
	     hwg_cbor_map_put_uint(args, "limit", 10) != 0))
		abort();
	if (hwg_cbor_map_put_uint(map, "v", version) != 0 ||
	    hwg_cbor_map_put_text(map, "op", op) != 0 ||
	    hwg_cbor_map_put_text(map, "aud", "gw-01") != 0 ||
	    hwg_cbor_map_put_text(map, "cid", "counter01") != 0 ||
	    hwg_cbor_map_put_uint(map, "t", 1790000000000ULL) != 0 ||
	    hwg_cbor_map_put_bytes(map, "nonce", nonce, sizeof(nonce)) != 0 ||
	    (with_session && hwg_cbor_map_put_bytes(map, "sess", nonce, sizeof(nonce)) != 0) ||
	    hwg_cbor_map_put_item(map, "args", args) != 0)
		abort();
	n = cbor_serialize(map, out, cap);
	cbor_decref(&map);
	if (n == 0)
		abort();
	return n;
}

/*
 * Assemble [tag] [array head] bstr(prot) unprot bstr(payload) bstr(sig)
 * with a real signature over prot and payload by key (alg taken from it).
 */
static void
envelope(struct hwg_buf *b, EVP_PKEY *key, int tagged, const uint8_t *prot, size_t prot_len,
         const uint8_t *payload, size_t payload_len)
{
	uint8_t *tbs = NULL, sig[HWG_COSE_SIG_LEN];
	size_t tbs_len = 0;
	struct hwg_error err = {0};

	if (hwg_cose_sig_structure(prot, prot_len, payload, payload_len, &tbs, &tbs_len) != 0 ||
	    hwg_cose_evp_signer(key, hwg_cose_alg_for_key(key), tbs, tbs_len, sig, &err) != 0) {
		fprintf(stderr, "make_seeds: cannot sign: %s\n", err.message);
		exit(1);
	}
	free(tbs);
	if (tagged)
		head(b, 6, HWG_COSE_TAG_SIGN1);
	head(b, 4, 4);
	bstr(b, prot, prot_len);
	head(b, 5, 0);
	bstr(b, payload, payload_len);
	bstr(b, sig, sizeof(sig));
}

/* Write what b holds to DIR/name, then empty b for the next seed. */
static void
write_seed(const char *dir, const char *name, struct hwg_buf *b)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(hwg_buf_ptr(b), 1, hwg_buf_len(b), f) != hwg_buf_len(b) || fclose(f) != 0) {
		fprintf(stderr, "make_seeds: cannot write %s\n", path);
		exit(1);
	}
	hwg_buf_reset(b);
}

/* Write raw bytes given as a string of known length. */
static void
write_bytes(const char *dir, const char *name, const void *p, size_t len)
{
	struct hwg_buf *b = hwg_buf_new(SEED_MAX);

	if (b == NULL || hwg_buf_put(b, p, len) != 0)
		abort();
	write_seed(dir, name, b);
	hwg_buf_free(b);
}

static int
make(const char *dir)
{
	static const uint8_t p_ed[] = {0xa1, 0x01, 0x27}, p_es[] = {0xa1, 0x01, 0x26};
	static const uint8_t p_crit[] = {0xa2, 0x01, 0x27, 0x02, 0x81, 0x01};
	static const uint8_t p_text[] = {0xa1, 0x01, 0x65, 'E', 'd', 'D', 'S', 'A'};
	static const uint8_t p_m35[] = {0xa1, 0x01, 0x38, 0x22};
	static const uint8_t p_trail[] = {0xa1, 0x01, 0x27, 0x00};
	uint8_t pl[512];
	size_t n;
	struct hwg_buf *b;

	if ((b = hwg_buf_new(SEED_MAX)) == NULL)
		abort();
	n = request(pl, sizeof(pl), "gw.info", 1, 0);
	envelope(b, ed, 1, p_ed, 3, pl, n);
	write_seed(dir, "ok-eddsa-gw-info", b);
	envelope(b, ed, 0, p_ed, 3, pl, n);
	write_seed(dir, "bad-untagged", b); /* api.cddl: #6.18 */
	envelope(b, ed, 1, p_ed, 3, pl, n);
	hwg_buf_put_u8(b, 0x00);
	write_seed(dir, "bad-trailing-byte", b);
	hwg_buf_put_u8(b, 0xd3); /* tag 19 */
	envelope(b, ed, 0, p_ed, 3, pl, n);
	write_seed(dir, "bad-tag-19", b);
	envelope(b, ed, 1, p_crit, sizeof(p_crit), pl, n);
	write_seed(dir, "bad-crit", b);
	envelope(b, ed, 1, p_text, sizeof(p_text), pl, n);
	write_seed(dir, "bad-alg-text", b);
	envelope(b, ed, 1, p_m35, sizeof(p_m35), pl, n);
	write_seed(dir, "bad-alg-minus-35", b);
	envelope(b, ed, 1, p_trail, sizeof(p_trail), pl, n);
	write_seed(dir, "bad-protected-trailing", b);

	n = request(pl, sizeof(pl), "device.list", 1, 0);
	envelope(b, ec, 1, p_es, 3, pl, n);
	write_seed(dir, "ok-es256-device-list", b);
	hwg_buf_put_u8(b, 0xd8); /* tag 18 in its two-byte form, accepted */
	hwg_buf_put_u8(b, 0x12);
	envelope(b, ec, 0, p_es, 3, pl, n);
	write_seed(dir, "ok-es256-tag18-long", b);

	n = request(pl, sizeof(pl), "audit.query", 1, 1);
	envelope(b, ed, 1, p_ed, 3, pl, n);
	write_seed(dir, "ok-eddsa-audit-query-session", b);
	n = request(pl, sizeof(pl), "audit.query", 2, 1); /* bad_version after the envelope */
	envelope(b, ec, 1, p_es, 3, pl, n);
	write_seed(dir, "ok-es256-request-v2", b);

	/* hand-made frames around the fixed 64-byte signature field */
	write_bytes(dir, "bad-three-elements", "\xd2\x83\x43\xa1\x01\x27\xa0\x41\x00", 9);
	write_bytes(dir, "bad-detached",
	            "\xd2\x84\x43\xa1\x01\x27\xa0\xf6\x58\x40"
	            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	            74);
	write_bytes(dir, "bad-signature-63",
	            "\xd2\x84\x43\xa1\x01\x27\xa0\x41\x00\x58\x3f"
	            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
	            74);
	write_bytes(dir, "bad-indefinite-array",
	            "\xd2\x9f\x43\xa1\x01\x27\xa0\x41\x00\x58\x40"
	            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\xff",
	            76);
	write_bytes(dir, "bad-unprotected-not-empty",
	            "\xd2\x84\x43\xa1\x01\x27\xa1\x04\x41\x00\x41\x00\x58\x40"
	            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	            78);
	write_bytes(dir, "bad-not-cbor", "\x1c\xff\xfe", 3);
	hwg_buf_free(b);
	return 0;
}

/* Each ok-* seed verifies with a fixed key, each bad-* seed is refused. */
static int
check(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int ok = 0, bad = 0, wrong = 0;

	if (d == NULL) {
		fprintf(stderr, "make_seeds: cannot open %s\n", dir);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		int want_ok = strncmp(e->d_name, "ok-", 3) == 0, rc;
		uint8_t buf[SEED_MAX];
		struct hwg_cose_sign1 m;
		struct hwg_error err = {0};
		char path[4096];
		size_t len;
		FILE *f;

		if (!want_ok && strncmp(e->d_name, "bad-", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((f = fopen(path, "rb")) == NULL) {
			fprintf(stderr, "make_seeds: cannot read %s\n", path);
			wrong++;
			continue;
		}
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		rc = hwg_cose_sign1_decode(buf, len, &m, &err);
		if (rc == 0) {
			rc = hwg_cose_sign1_verify(&m, m.alg == HWG_COSE_EDDSA ? ed : ec, &err);
			hwg_cose_sign1_clear(&m);
		}
		if ((rc == 0) != want_ok) {
			fprintf(stderr, "not ok - %s: %s\n", e->d_name,
			        rc == 0 ? "accepted" : err.message);
			wrong++;
		} else {
			fprintf(stderr, "ok - %s%s%s\n", e->d_name, rc ? ": " : "",
			        rc ? err.message : "");
			if (want_ok)
				ok++;
			else
				bad++;
		}
	}
	closedir(d);
	printf("%d passed, %d failed\n", ok + bad, wrong);
	return wrong == 0 && ok > 0 && bad > 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	int rc;

	if (argc == 2 && argv[1][0] != '-') {
		if (hwg_fuzz_keys(1, &ed, &ec) != 0)
			return 1;
		rc = make(argv[1]);
	} else if (argc == 3 && strcmp(argv[1], "--check") == 0) {
		if (hwg_fuzz_keys(0, &ed, &ec) != 0)
			return 1;
		rc = check(argv[2]);
	} else {
		fprintf(stderr, "usage: fuzz_make_seeds DIR | fuzz_make_seeds --check DIR\n");
		return 2;
	}
	EVP_PKEY_free(ed);
	EVP_PKEY_free(ec);
	return rc;
}
