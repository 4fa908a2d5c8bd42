/*
 * test_ops.c — handlers use only the services their context gives them
 * (gateway/ops/hwg_ops.h): linked with the operations library alone, no
 * privileged process and no HSM, gw.info, device.list and audit.verify
 * run against a key service of the test's own (a software key, a made-up
 * token), and say so when that service fails.  This is what lets the
 * keys move to another process without a handler changing.
 */
#include <ftw.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hwg_card_service.h"
#include "hwg_cbor.h"
#include "hwg_config.h"
#include "hwg_cose.h"
#include "hwg_ops.h"
#include "hwg_palm.h"
#include "hwg_store.h"
#include "hwg_test.h"

/* The test's key service: one software P-256 key for both, or a failure. */
struct fake_keys {
	EVP_PKEY *key;
	int fail;
	int no_seal; /* a token without a seal key */
	int calls;
};

static int
fake_public_key(void *arg, int which, EVP_PKEY **out, int *alg, struct hwg_error *err)
{
	struct fake_keys *fk = arg;

	fk->calls++;
	*out = NULL;
	if (fk->fail ||
	    (which != HWG_OP_KEY_RESPONSE && which != HWG_OP_KEY_AUDIT && which != HWG_OP_KEY_SEAL))
		return hwg_error_set(err, HWG_E_HSM, "the fake token is gone");
	if (which == HWG_OP_KEY_SEAL && fk->no_seal)
		return hwg_error_set(err, HWG_E_NOT_FOUND, "the fake token has no seal key");
	EVP_PKEY_up_ref(fk->key);
	*out = fk->key;
	*alg = HWG_COSE_ES256;
	return 0;
}

static int
fake_token_info(void *arg, struct hwg_op_token_info *out, struct hwg_error *err)
{
	struct fake_keys *fk = arg;

	fk->calls++;
	memset(out, 0, sizeof(*out));
	if (fk->fail)
		return hwg_error_set(err, HWG_E_HSM, "the fake token is gone");
	snprintf(out->label, sizeof(out->label), "fake-token");
	snprintf(out->serial, sizeof(out->serial), "0001");
	out->present = 1;
	out->logged_in = 1;
	out->session_reopens = 7;
	return 0;
}

static int
fake_seal(void *arg, const char *id, const int8_t tmpl[HWG_MATCH_DIM], uint8_t **blob,
          size_t *blob_len, struct hwg_error *err)
{
	(void)arg;
	(void)id;
	(void)tmpl;
	(void)blob;
	(void)blob_len;
	return hwg_error_set(err, HWG_E_HSM, "not in this test");
}

static int
fake_open(void *arg, const char *id, const uint8_t *blob, size_t blob_len,
          int8_t tmpl[HWG_MATCH_DIM], struct hwg_error *err)
{
	(void)arg;
	(void)id;
	(void)blob;
	(void)blob_len;
	(void)tmpl;
	return hwg_error_set(err, HWG_E_HSM, "not in this test");
}

static int
fake_seal_summary(void *arg, const struct hwg_certcode_summary *s, uint8_t **cose, size_t *cose_len,
                  struct hwg_error *err)
{
	(void)arg;
	(void)s;
	(void)cose;
	(void)cose_len;
	return hwg_error_set(err, HWG_E_HSM, "not in this test");
}

static int
fake_seal_pdf(void *arg, const char *no, const uint8_t digest[32], uint8_t seal[64],
              struct hwg_error *err)
{
	(void)arg;
	(void)no;
	(void)digest;
	(void)seal;
	return hwg_error_set(err, HWG_E_HSM, "not in this test");
}

static struct fake_keys fk;
/* The same fake key as DER, as the gateway's service copies it. */
static int
fake_public_spki(void *arg, int which, uint8_t *der, size_t cap, size_t *len, int *alg,
                 struct hwg_error *err)
{
	EVP_PKEY *k = NULL;
	unsigned char *p = NULL;
	int n, rc;

	if ((rc = fake_public_key(arg, which, &k, alg, err)) != 0)
		return rc;
	n = i2d_PUBKEY(k, &p);
	EVP_PKEY_free(k);
	if (n <= 0 || (size_t)n > cap) {
		OPENSSL_free(p);
		return hwg_error_set(err, HWG_E_INTERNAL, "the fake key does not fit");
	}
	memcpy(der, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(p);
	return 0;
}

static struct hwg_op_keys keys = {.public_key = fake_public_key,
                                  .public_spki = fake_public_spki,
                                  .token_info = fake_token_info,
                                  .template_seal = fake_seal,
                                  .template_open = fake_open,
                                  .seal_summary = fake_seal_summary,
                                  .seal_pdf = fake_seal_pdf,
                                  .arg = &fk};
static struct hwg_config cfg;
static struct hwg_store *store;
static struct hwg_card_service *cards;
static struct hwg_palm *palm;
static char dir[64];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A state directory, no readers, no terminals: only the services under test. */
static void
setup(void)
{
	struct hwg_error err = {0};

	snprintf(dir, sizeof(dir), "/tmp/hwgw-ops-test.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	hwg_config_defaults(&cfg);
	free(cfg.gateway_id);
	free(cfg.state_dir);
	free(cfg.hsm_token);
	cfg.gateway_id = strdup("ops-test-gw");
	cfg.state_dir = strdup(dir);
	cfg.hsm_token = strdup("fake-token");
	cfg.card_enabled = 0;
	cfg.vein_enabled = 0;
	fk.key = EVP_EC_gen("P-256");
	if (fk.key == NULL || hwg_store_open(dir, 1, &store, &err) != 0 ||
	    hwg_card_service_open(&cfg, NULL, NULL, &cards, &err) != 0 ||
	    hwg_palm_open(&cfg, NULL, NULL, store, &palm, &err) != 0) {
		fprintf(stderr, "set-up: %s\n", err.message);
		exit(2);
	}
}

static void
teardown(void)
{
	hwg_palm_close(palm);
	hwg_card_service_close(cards);
	hwg_store_close(store);
	hwg_config_clear(&cfg);
	EVP_PKEY_free(fk.key);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct hwg_op_ctx
context(const struct hwg_request *req)
{
	return (struct hwg_op_ctx){.cfg = &cfg,
	                           .store = store,
	                           .cards = cards,
	                           .palm = palm,
	                           .keys = &keys,
	                           .req = req,
	                           .tries_left = -1};
}

static void
test_gw_info_through_the_key_service(void)
{
	struct hwg_request req = {0};
	struct hwg_op_ctx ctx = context(&req);
	struct hwg_error err = {0};
	cbor_item_t *result = NULL, *item;
	unsigned char *der = NULL;
	const uint8_t *p;
	size_t len;
	int der_len;

	fk.fail = 0;
	fk.calls = 0;
	CHECK_EQ_INT(hwg_op_gw_info(&ctx, &result, &err), 0);
	CHECK_EQ_INT(fk.calls, 2); /* the response key, the seal key */
	CHECK(result != NULL);
	if (result == NULL)
		return;
	CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(result, "gateway_id", NULL), "ops-test-gw"));
	item = hwg_cbor_map_get(result, "alg", NULL);
	CHECK(item != NULL && cbor_isa_negint(item) && cbor_get_int(item) == 6); /* -7 */
	der_len = i2d_PUBKEY(fk.key, &der);
	CHECK(hwg_cbor_bytes(hwg_cbor_map_get(result, "public_key", NULL), &p, &len) == 0 &&
	      der_len > 0 && len == (size_t)der_len && memcmp(p, der, len) == 0);
	/* the fake token's seal key is the same key */
	CHECK(hwg_cbor_bytes(hwg_cbor_map_get(result, "seal_key", NULL), &p, &len) == 0 &&
	      len == (size_t)der_len && memcmp(p, der, len) == 0);
	CHECK_EQ_INT(cbor_map_size(result), 6);
	OPENSSL_free(der);
	cbor_decref(&result);
	/* a token without a seal key: gw.info without "seal_key", and nothing else changed */
	fk.no_seal = 1;
	CHECK_EQ_INT(hwg_op_gw_info(&ctx, &result, &err), 0);
	REQUIRE(result != NULL);
	CHECK(hwg_cbor_map_get(result, "seal_key", NULL) == NULL);
	CHECK(hwg_cbor_map_get(result, "public_key", NULL) != NULL);
	CHECK_EQ_INT(cbor_map_size(result), 5);
	{
		unsigned char *out = NULL;
		size_t cap = 0, n = cbor_serialize_alloc(result, &out, &cap);

		CHECK(n > 0 && out[0] == 0xa5); /* a map of the five written */
		free(out);
	}
	fk.no_seal = 0;
	cbor_decref(&result);
}

static void
test_gw_info_without_keys(void)
{
	struct hwg_request req = {0};
	struct hwg_op_ctx ctx = context(&req);
	struct hwg_error err = {0};
	cbor_item_t *result = NULL;

	fk.fail = 1;
	CHECK_EQ_INT(hwg_op_gw_info(&ctx, &result, &err), HWG_E_HSM);
	CHECK_EQ_STR(err.message, "cannot export the response public key");
	CHECK(result == NULL);
	fk.fail = 0;
}

/* The first device: the token as the key service reports it. */
static void
check_hsm_device(const cbor_item_t *result, const char *state, int with_label)
{
	const cbor_item_t *devices = hwg_cbor_map_get(result, "devices", NULL);
	cbor_item_t *hsm;

	CHECK(devices != NULL && cbor_isa_array(devices) && cbor_array_size(devices) == 1);
	if (devices == NULL || cbor_array_size(devices) < 1)
		return;
	hsm = cbor_array_get(devices, 0);
	CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(hsm, "class", NULL), "hsm"));
	CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(hsm, "id", NULL), "fake-token"));
	CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(hsm, "state", NULL), state));
	CHECK_EQ_INT(hwg_cbor_map_get(hsm, "label", NULL) != NULL, with_label);
	if (with_label)
		CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(hsm, "label", NULL), "fake-token"));
	cbor_decref(&hsm);
}

static void
test_device_list_through_the_key_service(void)
{
	struct hwg_request req = {0};
	struct hwg_op_ctx ctx = context(&req);
	struct hwg_error err = {0};
	cbor_item_t *result = NULL;

	fk.fail = 0;
	CHECK_EQ_INT(hwg_op_device_list(&ctx, &result, &err), 0);
	if (result != NULL) {
		check_hsm_device(result, "ready", 1);
		cbor_decref(&result);
	}
	/* a token that does not answer is listed in error, not a failed request */
	fk.fail = 1;
	CHECK_EQ_INT(hwg_op_device_list(&ctx, &result, &err), 0);
	if (result != NULL) {
		check_hsm_device(result, "error", 0);
		cbor_decref(&result);
	}
	fk.fail = 0;
}

static void
test_audit_verify_through_the_key_service(void)
{
	struct hwg_request req = {0};
	struct hwg_op_ctx ctx = context(&req);
	struct hwg_error err = {0};
	cbor_item_t *result = NULL;

	fk.fail = 0;
	CHECK_EQ_INT(hwg_op_audit_verify(&ctx, &result, &err), 0);
	CHECK(result != NULL);
	if (result != NULL) {
		const cbor_item_t *ok = hwg_cbor_map_get(result, "ok", NULL);

		CHECK(ok != NULL && cbor_is_bool(ok) && cbor_get_bool(ok));
		cbor_decref(&result);
	}
	fk.fail = 1;
	CHECK_EQ_INT(hwg_op_audit_verify(&ctx, &result, &err), HWG_E_HSM);
	CHECK_EQ_STR(err.message, "cannot read the audit public key");
	CHECK(result == NULL);
	fk.fail = 0;
}

int
main(void)
{
	setup();
	HWG_RUN(test_gw_info_through_the_key_service);
	HWG_RUN(test_gw_info_without_keys);
	HWG_RUN(test_device_list_through_the_key_service);
	HWG_RUN(test_audit_verify_through_the_key_service);
	teardown();
	return HWG_TEST_END();
}
