/*
 * test_x509.c — the JPKI certificate checks on the test PKI that
 * scripts/card-pki makes: the issuer picked by signature among two roots
 * with one DN, revoked, expired, not yet valid, untrusted, stale CRLs and
 * their grace, malformed DER, and configuration refused naming the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hwg_test.h"
#include "hwg_x509.h"

static char pki[256];

static uint8_t *
slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	uint8_t *b = malloc(8192);

	snprintf(path, sizeof(path), "%s/%s", pki, name);
	f = fopen(path, "rb");
	*len = f != NULL ? fread(b, 1, 8192, f) : 0;
	if (f != NULL)
		fclose(f);
	return b;
}

static int
check_card(const char *crls, long grace, const char *cert, int64_t now, struct hwg_cert_report *rep)
{
	char roots[300], crl_dir[300];
	struct hwg_x509_trust *t = NULL;
	struct hwg_error err = {0};
	size_t len;
	uint8_t *der = slurp(cert, &len);
	int rc;

	snprintf(roots, sizeof(roots), "%s/roots", pki);
	snprintf(crl_dir, sizeof(crl_dir), "%s/%s", pki, crls);
	rc = hwg_x509_trust_load(roots, crl_dir, grace, &t, &err);
	if (rc == 0)
		rc = hwg_x509_check(t, der, len, now, rep, &err);
	hwg_x509_trust_free(t);
	free(der);
	return rc;
}

static void
test_chain(void)
{
	struct hwg_cert_report rep;
	int64_t now = time(NULL);

	CHECK_EQ_INT(check_card("crl", 0, "certs/alice-auth.der", now, &rep), 0);
	CHECK_EQ_STR(rep.issuer_root, "auth-root-2");
	CHECK(strcmp(rep.revocation, "good") == 0 && strstr(rep.issuer, "JPKI-TEST-SIM") != NULL);
	CHECK_EQ_INT(check_card("crl", 0, "certs/bob-auth.der", now, &rep), 0);
	CHECK_EQ_STR(rep.issuer_root, "auth-root-1");
	CHECK_EQ_INT(check_card("crl", 0, "certs/revoked-auth.der", now, &rep), HWG_E_CERT_REVOKED);
	CHECK(rep.revocation != NULL && strcmp(rep.revocation, "revoked") == 0);
	CHECK_EQ_INT(check_card("crl", 0, "certs/expired-auth.der", now, &rep), HWG_E_CERT_EXPIRED);
	CHECK_EQ_INT(check_card("crl", 0, "certs/alice-auth.der", now - 86400 * 2, &rep),
	             HWG_E_CERT_EXPIRED);
	CHECK_EQ_INT(check_card("crl", 0, "certs/wrongroot-auth.der", now, &rep),
	             HWG_E_CERT_UNTRUSTED);
	CHECK_EQ_INT(check_card("crl-stale", 0, "certs/alice-auth.der", now, &rep),
	             HWG_E_CRL_STALE);
	CHECK_EQ_INT(check_card("crl-stale", 30 * 86400, "certs/alice-auth.der", now, &rep), 0);
}

static void
test_malformed(void)
{
	struct hwg_cert_report rep;
	struct hwg_error err = {0};
	size_t len;
	uint8_t *der = slurp("certs/alice-auth.der", &len);

	CHECK_EQ_INT(hwg_x509_describe(der, len - 1, &rep, &err), HWG_E_INVALID);
	der[len] = 0;
	CHECK_EQ_INT(hwg_x509_describe(der, len + 1, &rep, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_x509_describe(der, len, &rep, &err), 0);
	CHECK(rep.serial[0] != '\0' && rep.not_after > rep.not_before);
	free(der);
}

static void
test_config_refused(void)
{
	char roots[300], crls[300], cmd[2048];
	struct hwg_x509_trust *t = NULL;
	struct hwg_error err = {0};

	snprintf(roots, sizeof(roots), "%s/roots", pki);
	snprintf(crls, sizeof(crls), "%s/crl", pki);
	CHECK_EQ_INT(hwg_x509_trust_load("/nonexistent", crls, 0, &t, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "/nonexistent") != NULL);
	/* a CRL from a root that is not configured */
	snprintf(cmd, sizeof(cmd),
	         "mkdir -p %s/badcrl && cp %s/crl/*.pem %s/untrusted/other-root.pem %s/badcrl/",
	         pki, pki, pki, pki);
	CHECK(system(cmd) == 0);
	snprintf(crls, sizeof(crls), "%s/badcrl", pki);
	CHECK_EQ_INT(hwg_x509_trust_load(roots, crls, 0, &t, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "other-root.pem") != NULL);
	/* garbage among the roots */
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/badroots && echo junk > %s/badroots/junk.pem", pki,
	         pki);
	CHECK(system(cmd) == 0);
	snprintf(roots, sizeof(roots), "%s/badroots", pki);
	snprintf(crls, sizeof(crls), "%s/crl", pki);
	CHECK_EQ_INT(hwg_x509_trust_load(roots, crls, 0, &t, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "junk.pem") != NULL);
	CHECK(t == NULL);
}

int
main(void)
{
	char cmd[600];
	int rc;

	snprintf(pki, sizeof(pki), "/tmp/hwg-test-x509.%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "%s/scripts/card-pki --dir %s", getenv("HWG_SOURCE_DIR"), pki);
	if (system(cmd) != 0)
		return 1;
	HWG_RUN(test_chain);
	HWG_RUN(test_malformed);
	HWG_RUN(test_config_refused);
	rc = HWG_TEST_END();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pki);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
