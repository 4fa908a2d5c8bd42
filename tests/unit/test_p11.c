/*
 * test_p11.c — the HSM driver against a real SoftHSM2 token made by
 * scripts/hsm-init: keys found by label, signatures that verify with
 * OpenSSL, the signer's refusals, PIN-file rules, and recovery from a
 * lost session.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_cose.h"
#include "hwg_p11.h"
#include "hwg_test.h"

static char dir[] = "/tmp/hwgw-p11-test.XXXXXX";
static char pin_file[256];
static const char *module;

static struct hwg_p11 *
open_token(const char *token, struct hwg_error *err)
{
	struct hwg_p11_config cfg = {module, token, pin_file};
	struct hwg_p11 *p = NULL;

	if (hwg_p11_open(&cfg, &p, err) != 0)
		return NULL;
	return p;
}

static int
verify_es256(EVP_PKEY *pub, const uint8_t digest[32], const uint8_t sig[64])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
	uint8_t *der = NULL;
	size_t der_len = 0;
	int ok = 0;

	if (ctx != NULL && hwg_ecdsa_raw_to_der(sig, &der, &der_len) == 0 &&
	    EVP_PKEY_verify_init(ctx) == 1)
		ok = EVP_PKEY_verify(ctx, der, der_len, digest, 32) == 1;
	OPENSSL_free(der);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static void
test_sign_and_verify(void)
{
	struct hwg_error err = {0};
	struct hwg_p11 *p = open_token("hwgw", &err);
	struct hwg_p11_key *k = NULL;
	uint8_t digest[32], sig[64];
	char path[300];
	EVP_PKEY *pub, *pem;
	FILE *f;

	CHECK(p != NULL);
	if (p == NULL) {
		fprintf(stderr, "  %s\n", err.message);
		return;
	}
	CHECK_EQ_INT(hwg_p11_key_find(p, "hwgw-response", &k, &err), 0);
	CHECK_EQ_INT(hwg_p11_key_alg(k), HWG_COSE_ES256);
	SHA256((const uint8_t *)"hello", 5, digest);
	CHECK_EQ_INT(hwg_p11_sign(p, k, digest, 32, sig, &err), 0);
	pub = hwg_p11_key_public(k);
	CHECK(pub != NULL && verify_es256(pub, digest, sig));
	/* the exported PEM is the same key */
	snprintf(path, sizeof(path), "%s/gateway-response.pub.pem", dir);
	f = fopen(path, "r");
	pem = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	CHECK(pem != NULL && EVP_PKEY_eq(pem, pub) == 1);
	digest[0] ^= 1;
	CHECK(!verify_es256(pub, digest, sig));
	EVP_PKEY_free(pem);
	EVP_PKEY_free(pub);
	hwg_p11_close(p);
}

static void
test_signer_refuses_other_lengths(void)
{
	struct hwg_error err = {0};
	struct hwg_p11 *p = open_token("hwgw", &err);
	struct hwg_p11_key *k = NULL;
	uint8_t data[33] = {0}, sig[64];

	CHECK(p != NULL && hwg_p11_key_find(p, "hwgw-audit", &k, &err) == 0);
	if (k == NULL) {
		hwg_p11_close(p);
		return;
	}
	CHECK_EQ_INT(hwg_p11_sign(p, k, data, 31, sig, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_p11_sign(p, k, data, 33, sig, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "32-byte") != NULL);
	hwg_p11_close(p);
}

static void
test_missing_key_and_token(void)
{
	struct hwg_error err = {0};
	struct hwg_p11 *p = open_token("hwgw", &err);
	struct hwg_p11_key *k = NULL;

	CHECK_EQ_INT(hwg_p11_key_find(p, "no-such-key", &k, &err), HWG_E_NOT_FOUND);
	CHECK(strstr(err.message, "no-such-key") != NULL);
	hwg_p11_close(p);
	CHECK(open_token("no-such-token", &err) == NULL);
	CHECK_EQ_INT(err.code, HWG_E_HSM);
	CHECK(strstr(err.message, "no-such-token") != NULL);
}

static void
test_pin_file_rules(void)
{
	struct hwg_error err = {0};
	char pin[80] = "", wrong[300];
	FILE *f = fopen(pin_file, "r");

	CHECK(f != NULL && fgets(pin, sizeof(pin), f) != NULL);
	if (f)
		fclose(f);
	pin[strcspn(pin, "\n")] = '\0';
	chmod(pin_file, 0644);
	CHECK(open_token("hwgw", &err) == NULL);
	CHECK_EQ_INT(err.code, HWG_E_CONFIG);
	CHECK(strstr(err.message, "0644") != NULL);
	chmod(pin_file, 0600);
	/* a wrong PIN is refused by the token, and no PIN text appears in the message */
	snprintf(wrong, sizeof(wrong), "%s/wrong.pin", dir);
	f = fopen(wrong, "w");
	fputs("000000\n", f);
	fclose(f);
	chmod(wrong, 0600);
	{
		struct hwg_p11_config cfg = {module, "hwgw", wrong};
		struct hwg_p11 *p = NULL;

		CHECK_EQ_INT(hwg_p11_open(&cfg, &p, &err), HWG_E_HSM);
		CHECK(strstr(err.message, "CKR_PIN_INCORRECT") != NULL);
		CHECK(strstr(err.message, "000000") == NULL);
		CHECK(pin[0] != '\0' && strstr(err.message, pin) == NULL);
	}
}

static void
test_lost_session_is_reopened(void)
{
	struct hwg_error err = {0};
	struct hwg_p11 *p = open_token("hwgw", &err);
	struct hwg_p11_key *k = NULL;
	struct hwg_p11_token_info ti;
	uint8_t digest[32] = {7}, sig[64];
	EVP_PKEY *pub;

	CHECK(p != NULL && hwg_p11_key_find(p, "hwgw-response", &k, &err) == 0);
	if (k == NULL) {
		hwg_p11_close(p);
		return;
	}
	hwg_p11_test_drop_session(p);
	CHECK_EQ_INT(hwg_p11_sign(p, k, digest, 32, sig, &err), 0);
	pub = hwg_p11_key_public(k);
	CHECK(verify_es256(pub, digest, sig));
	EVP_PKEY_free(pub);
	CHECK_EQ_INT(hwg_p11_token_info(p, &ti, &err), 0);
	CHECK_EQ_INT(ti.session_reopens, 1);
	CHECK(ti.present && ti.logged_in);
	CHECK_EQ_STR(ti.label, "hwgw");
	CHECK_EQ_STR(ti.manufacturer, "SoftHSM project");
	hwg_p11_close(p);
}

int
main(void)
{
	const char *src = getenv("HWG_SOURCE_DIR");
	char cmd[1024], conf[300];

	module = getenv("HWG_P11_MODULE") ? getenv("HWG_P11_MODULE")
					  : "/usr/lib/softhsm/libsofthsm2.so";
	if (src == NULL || access(module, R_OK) != 0 || mkdtemp(dir) == NULL) {
		fprintf(stderr, "needs HWG_SOURCE_DIR and SoftHSM2 (scripts/setup)\n");
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "'%s/scripts/hsm-init' --dir '%s' --force >/dev/null", src, dir);
	if (system(cmd) != 0)
		return 1;
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
	setenv("SOFTHSM2_CONF", conf, 1);
	snprintf(pin_file, sizeof(pin_file), "%s/hsm.pin", dir);
	HWG_RUN(test_sign_and_verify);
	HWG_RUN(test_signer_refuses_other_lengths);
	HWG_RUN(test_missing_key_and_token);
	HWG_RUN(test_pin_file_rules);
	HWG_RUN(test_lost_session_is_reopened);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return HWG_TEST_END();
}
