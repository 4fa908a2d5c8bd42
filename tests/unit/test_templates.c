/*
 * test_templates.c — sealed palm-vein templates against a real SoftHSM2
 * token made by scripts/hsm-init (its hwgw-template key): a template
 * opens for the operator it was sealed for and for no other (a swap in
 * the store), and a blob that is cut, extended, of another magic or
 * version, or changed in any bit of any byte is refused with the
 * template untouched.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hwg_templates.h"
#include "hwg_test.h"

#define TOKEN "hwgw"
#define TEMPLATE_LABEL "hwgw-template"

static char dir[] = "/tmp/hwgw-templates-test.XXXXXX";
static char pin_file[256];
static const char *module;
static struct hwg_p11 *p11;
static struct hwg_p11_key *key;

/* A template with every feature value somewhere, seeded per operator. */
static void
make_template(int8_t t[HWG_MATCH_DIM], unsigned int seed)
{
	for (size_t i = 0; i < HWG_MATCH_DIM; i++)
		t[i] = (int8_t)(uint8_t)(seed * 31 + i * 97);
	t[seed % HWG_MATCH_DIM] = -128;
	t[(seed + 1) % HWG_MATCH_DIM] = 127;
}

static uint8_t *
seal(const char *operator_id, const int8_t t[HWG_MATCH_DIM], size_t *len)
{
	struct hwg_error err = {0};
	uint8_t *blob = NULL;

	if (hwg_template_seal(p11, key, operator_id, t, &blob, len, &err) != 0)
		fprintf(stderr, "  seal: %s\n", err.message);
	return blob;
}

/*
 * Opening blob for operator_id must fail with HWG_E_TEMPLATE_TAMPERED, the
 * message containing why, and leave the output template as it was.
 */
static int
refused(const char *operator_id, const uint8_t *blob, size_t len, const char *why)
{
	struct hwg_error err = {0};
	int8_t out[HWG_MATCH_DIM], before[HWG_MATCH_DIM];
	int rc, ok;

	memset(out, 0x6b, sizeof(out));
	memcpy(before, out, sizeof(out));
	rc = hwg_template_open(p11, key, operator_id, blob, len, out, &err);
	ok = rc == HWG_E_TEMPLATE_TAMPERED && memcmp(out, before, sizeof(out)) == 0 &&
	     strstr(err.message, why) != NULL && strstr(err.message, operator_id) == NULL;
	if (!ok)
		fprintf(stderr, "  open as %s (%zu bytes): %d %s\n", operator_id, len, rc,
		        err.message);
	return ok;
}

static void
test_round_trip(void)
{
	static const char *ids[] = {
	    "op-a", "x", "0123456789012345678901234567890123456789012345678901234567890123"};
	struct hwg_error err = {0};
	int8_t t[HWG_MATCH_DIM], back[HWG_MATCH_DIM];
	uint8_t *a, *b;
	size_t alen = 0, blen = 0;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		make_template(t, (unsigned int)i);
		a = seal(ids[i], t, &alen);
		CHECK(a != NULL);
		if (a == NULL)
			continue;
		CHECK_EQ_INT(alen, HWG_TEMPLATE_BLOB_LEN);
		CHECK_EQ_INT(HWG_TEMPLATE_BLOB_LEN, 4 + 12 + 256 + 16);
		CHECK(memcmp(a, "PVS1", 4) == 0);
		/* the template itself does not appear in the blob */
		CHECK(memmem(a, alen, t, 16) == NULL);
		memset(back, 0, sizeof(back));
		CHECK_EQ_INT(hwg_template_open(p11, key, ids[i], a, alen, back, &err), 0);
		CHECK(memcmp(back, t, sizeof(t)) == 0);
		free(a);
	}
	/* the same template sealed twice: two different blobs, both open */
	make_template(t, 7);
	a = seal("op-a", t, &alen);
	b = seal("op-a", t, &blen);
	CHECK(a != NULL && b != NULL && alen == blen && memcmp(a, b, alen) != 0);
	CHECK(b != NULL && hwg_template_open(p11, key, "op-a", b, blen, back, &err) == 0 &&
	      memcmp(back, t, sizeof(t)) == 0);
	free(a);
	free(b);
}

/* A blob moved to another operator's row does not open there. */
static void
test_swap(void)
{
	static const char *others[] = {"op-b", "op-", "op-aa", "OP-A", "op-a ", "hwgw-template-v1"};
	struct hwg_error err = {0};
	int8_t ta[HWG_MATCH_DIM], tb[HWG_MATCH_DIM], back[HWG_MATCH_DIM];
	uint8_t *a, *b;
	size_t alen = 0, blen = 0;

	make_template(ta, 1);
	make_template(tb, 2);
	a = seal("op-a", ta, &alen);
	b = seal("op-b", tb, &blen);
	CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL) {
		free(a);
		free(b);
		return;
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		CHECK(refused(others[i], a, alen, "does not open for this operator"));
	CHECK(refused("op-a", b, blen, "sealed for another operator"));
	/* each still opens for its own operator */
	CHECK_EQ_INT(hwg_template_open(p11, key, "op-a", a, alen, back, &err), 0);
	CHECK(memcmp(back, ta, sizeof(ta)) == 0);
	CHECK_EQ_INT(hwg_template_open(p11, key, "op-b", b, blen, back, &err), 0);
	CHECK(memcmp(back, tb, sizeof(tb)) == 0);
	free(a);
	free(b);
}

static void
test_truncated_and_extended(void)
{
	int8_t t[HWG_MATCH_DIM];
	uint8_t *a, longer[HWG_TEMPLATE_BLOB_LEN + 100];
	size_t alen = 0;
	int all = 1;

	make_template(t, 3);
	a = seal("op-a", t, &alen);
	REQUIRE(a != NULL);
	for (size_t n = 0; n < alen; n++)
		all &= refused("op-a", a, n, "bytes, not 288");
	CHECK(all);
	CHECK(refused("op-a", NULL, 0, "0 bytes, not 288"));
	memcpy(longer, a, alen);
	memset(longer + alen, 0, sizeof(longer) - alen);
	CHECK(refused("op-a", longer, alen + 1, "289 bytes, not 288"));
	CHECK(refused("op-a", longer, sizeof(longer), "388 bytes, not 288"));
	free(a);
}

static void
test_wrong_magic(void)
{
	static const char *magics[] = {"PVS2", "PVS0", "PVS\0"};
	static const char *foreign[] = {"XVS1", "pvs1", "\0\0\0\0", "PV1S"};
	int8_t t[HWG_MATCH_DIM];
	uint8_t *a, bad[HWG_TEMPLATE_BLOB_LEN];
	size_t alen = 0;

	make_template(t, 4);
	a = seal("op-a", t, &alen);
	CHECK(a != NULL && alen == sizeof(bad));
	if (a == NULL || alen != sizeof(bad)) {
		free(a);
		return;
	}
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
		memcpy(bad, a, alen);
		memcpy(bad, magics[i], 4);
		CHECK(refused("op-a", bad, alen, "another format version"));
	}
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		memcpy(bad, a, alen);
		memcpy(bad, foreign[i], 4);
		CHECK(refused("op-a", bad, alen, "no PVS magic"));
	}
	free(a);
}

/* Every bit of every byte: header, IV, ciphertext, tag. */
static void
test_bit_flips(void)
{
	int8_t t[HWG_MATCH_DIM];
	uint8_t *a, bad[HWG_TEMPLATE_BLOB_LEN];
	size_t alen = 0, n_refused = 0;

	make_template(t, 5);
	a = seal("op-a", t, &alen);
	CHECK(a != NULL && alen == sizeof(bad));
	if (a == NULL || alen != sizeof(bad)) {
		free(a);
		return;
	}
	for (size_t i = 0; i < alen; i++)
		for (unsigned int bit = 0; bit < 8; bit++) {
			memcpy(bad, a, alen);
			bad[i] ^= (uint8_t)(1u << bit);
			/* the header's bytes are refused before the HSM, the rest by the tag */
			n_refused += refused("op-a", bad, alen,
			                     i < 3   ? "no PVS magic"
			                     : i < 4 ? "another format version"
			                             : "does not open for this operator");
		}
	CHECK_EQ_INT(n_refused, 8 * HWG_TEMPLATE_BLOB_LEN);
	free(a);
}

static void
test_bad_arguments(void)
{
	static const char long_id[] =
	    "01234567890123456789012345678901234567890123456789012345678901234";
	struct hwg_error err = {0};
	struct hwg_p11_key *audit = NULL;
	int8_t t[HWG_MATCH_DIM], out[HWG_MATCH_DIM], before[HWG_MATCH_DIM];
	uint8_t *blob = (uint8_t *)"untouched", *a;
	size_t len = 99, alen = 0;

	make_template(t, 6);
	CHECK_EQ_INT(strlen(long_id), HWG_MATCH_ID_MAX + 1);
	CHECK_EQ_INT(hwg_template_seal(p11, key, long_id, t, &blob, &len, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "operator id must be 1-64 bytes") != NULL);
	CHECK_EQ_INT(hwg_template_seal(p11, key, "", t, &blob, &len, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_template_seal(p11, key, NULL, t, &blob, &len, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_template_seal(p11, key, "op-a", NULL, &blob, &len, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_template_seal(p11, key, "op-a", t, NULL, &len, &err), HWG_E_INVALID);
	CHECK(strcmp((const char *)blob, "untouched") == 0 && len == 99);

	a = seal("op-a", t, &alen);
	CHECK(a != NULL);
	memset(out, 0x11, sizeof(out));
	memcpy(before, out, sizeof(out));
	CHECK_EQ_INT(hwg_template_open(p11, key, long_id, a, alen, out, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_template_open(p11, key, "", a, alen, out, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_template_open(p11, key, "op-a", NULL, alen, out, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_template_open(p11, key, "op-a", a, alen, NULL, &err), HWG_E_INVALID);
	/* a signing key is the caller's mistake, not a tampered template */
	CHECK_EQ_INT(hwg_p11_key_find(p11, "hwgw-audit", &audit, &err), 0);
	CHECK_EQ_INT(hwg_template_open(p11, audit, "op-a", a, alen, out, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_template_seal(p11, audit, "op-a", t, &blob, &len, &err), HWG_E_INVALID);
	CHECK(strcmp((const char *)blob, "untouched") == 0 && len == 99);
	CHECK(memcmp(out, before, sizeof(out)) == 0);
	free(a);
}

static void
test_after_session_loss(void)
{
	struct hwg_error err = {0};
	struct hwg_p11_token_info ti;
	int8_t t[HWG_MATCH_DIM], back[HWG_MATCH_DIM];
	unsigned long before;
	uint8_t *a;
	size_t alen = 0;

	CHECK_EQ_INT(hwg_p11_token_info(p11, &ti, &err), 0);
	before = ti.session_reopens;
	make_template(t, 8);
	hwg_p11_test_drop_session(p11);
	a = seal("op-a", t, &alen);
	CHECK(a != NULL);
	hwg_p11_test_drop_session(p11);
	CHECK(a != NULL && hwg_template_open(p11, key, "op-a", a, alen, back, &err) == 0 &&
	      memcmp(back, t, sizeof(t)) == 0);
	CHECK_EQ_INT(hwg_p11_token_info(p11, &ti, &err), 0);
	CHECK_EQ_INT(ti.session_reopens, before + 2);
	free(a);
}

static int
have(const char *tool)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

int
main(void)
{
	const char *src = getenv("HWG_SOURCE_DIR");
	struct hwg_error err = {0};
	struct hwg_p11_config cfg;
	char cmd[1024], conf[300];
	int rc;

	module =
	    getenv("HWG_P11_MODULE") ? getenv("HWG_P11_MODULE") : "/usr/lib/softhsm/libsofthsm2.so";
	if (access(module, R_OK) != 0 || !have("softhsm2-util") || !have("pkcs11-tool")) {
		fprintf(stderr,
		        "skip: needs SoftHSM2 (%s) and opensc's pkcs11-tool "
		        "(scripts/setup installs both)\n",
		        module);
		return 77;
	}
	if (src == NULL) {
		fprintf(stderr, "HWG_SOURCE_DIR must name the source tree (ctest sets it)\n");
		return 1;
	}
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "'%s/scripts/hsm-init' --dir '%s' --module '%s' >/dev/null", src,
	         dir, module);
	if (system(cmd) != 0) {
		fprintf(stderr, "scripts/hsm-init failed\n");
		return 1;
	}
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
	setenv("SOFTHSM2_CONF", conf, 1);
	snprintf(pin_file, sizeof(pin_file), "%s/hsm.pin", dir);
	cfg = (struct hwg_p11_config){module, TOKEN, pin_file};
	if (hwg_p11_open(&cfg, &p11, &err) != 0 ||
	    hwg_p11_secret_find(p11, TEMPLATE_LABEL, &key, &err) != 0) {
		fprintf(stderr, "HSM: %s\n", err.message);
		return 1;
	}

	HWG_RUN(test_round_trip);
	HWG_RUN(test_swap);
	HWG_RUN(test_truncated_and_extended);
	HWG_RUN(test_wrong_magic);
	HWG_RUN(test_bit_flips);
	HWG_RUN(test_bad_arguments);
	HWG_RUN(test_after_session_loss);

	hwg_p11_close(p11);
	rc = HWG_TEST_END();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}
