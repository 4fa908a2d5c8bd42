/*
 * test_x509.c — the JPKI certificate checks on the test PKI that
 * scripts/card-pki makes: the issuer picked by signature among two roots
 * with one DN, revoked, expired, not yet valid, untrusted, stale and
 * future CRLs and the grace, the newest CRL, malformed DER, configuration
 * refused naming the file; and the script's own output (the holder's facts
 * in the signing certificate, the profiles, idempotence).
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hwg_test.h"
#include "hwg_x509.h"

#define DAY 86400

static char base[64]; /* our temporary directory */
static char pki[128]; /* the PKI inside it */
static int64_t now;

/* Run a shell command made from fmt; its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A file of the PKI, whole; NULL if missing.  One spare byte after it. */
static uint8_t *
slurp(const char *name, size_t *len)
{
	char path[512];
	uint8_t *b = malloc(65536);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", pki, name);
	*len = 0;
	if (b != NULL && (f = fopen(path, "rb")) != NULL) {
		*len = fread(b, 1, 65535, f);
		fclose(f);
	}
	return b;
}

static int
load(const char *roots, const char *crls, long grace, struct hwg_x509_trust **t,
     struct hwg_error *err)
{
	char r[300], c[300];

	snprintf(r, sizeof(r), "%s/%s", pki, roots);
	snprintf(c, sizeof(c), "%s/%s", pki, crls);
	hwg_error_clear(err);
	return hwg_x509_trust_load(r, c, grace, t, err);
}

/* Check the PKI's certificate file cert with trust t at time at. */
static int
check_with(const struct hwg_x509_trust *t, const char *cert, int64_t at,
           struct hwg_cert_report *rep, struct hwg_error *err)
{
	size_t len;
	uint8_t *der = slurp(cert, &len);
	int rc;

	hwg_error_clear(err);
	rc = hwg_x509_check(t, der, len, at, rep, err);
	free(der);
	return rc;
}

/* Load roots and crls, check cert at time at; the load's error if it fails. */
static int
check_card(const char *roots, const char *crls, long grace, const char *cert, int64_t at,
           struct hwg_cert_report *rep, struct hwg_error *err)
{
	struct hwg_x509_trust *t = NULL;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if ((rc = load(roots, crls, grace, &t, err)) == 0)
		rc = check_with(t, cert, at, rep, err);
	hwg_x509_trust_free(t);
	return rc;
}

/* ---------------------------------------------------------------- chains */

static void
test_same_dn_roots(void)
{
	struct hwg_cert_report rep;
	struct hwg_error err;
	struct hwg_x509_trust *t = NULL;

	CHECK_EQ_INT(load("roots", "crl", 0, &t, &err), 0);
	CHECK_EQ_INT(check_with(t, "certs/alice-auth.der", now, &rep, &err), 0);
	CHECK_EQ_STR(rep.issuer_root, "auth-root-2");
	CHECK_EQ_STR(rep.revocation, "good");
	CHECK_EQ_INT(check_with(t, "certs/bob-auth.der", now, &rep, &err), 0);
	CHECK_EQ_STR(rep.issuer_root, "auth-root-1");
	CHECK_EQ_STR(rep.revocation, "good");
	CHECK_EQ_INT(check_with(t, "certs/alice-sign.der", now, &rep, &err), 0);
	CHECK_EQ_STR(rep.issuer_root, "sign-root-1");
	hwg_x509_trust_free(t);
	/* the same roots as DER files */
	CHECK_EQ_INT(check_card("roots-der", "crl", 0, "certs/alice-auth.der", now, &rep, &err), 0);
	CHECK_EQ_STR(rep.issuer_root, "auth-root-2");
	CHECK_EQ_INT(check_card("roots-der", "crl", 0, "certs/bob-auth.der", now, &rep, &err), 0);
	CHECK_EQ_STR(rep.issuer_root, "auth-root-1");
}

static int
upper_hex(const char *s)
{
	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return 0;
	for (; *s != '\0'; s++)
		if (strchr("0123456789ABCDEF", *s) == NULL)
			return 0;
	return 1;
}

static void
test_report(void)
{
	struct hwg_cert_report rep;
	struct hwg_error err;

	CHECK_EQ_INT(check_card("roots", "crl", 0, "certs/alice-auth.der", now, &rep, &err), 0);
	CHECK(upper_hex(rep.serial));
	CHECK(strncmp(rep.subject, "CN=", 3) == 0 && strstr(rep.subject, ",C=JP") != NULL);
	CHECK_EQ_STR(rep.issuer, "OU=Japan Agency for Local Authority Information Systems,"
	                         "OU=JPKI for user authentication,O=JPKI-TEST-SIM,C=JP");
	CHECK(rep.not_before <= now - DAY + 600 && rep.not_before >= now - DAY - 600);
	CHECK(rep.not_after >= now + 5 * 365 * DAY && rep.not_after <= now + 5 * 366 * DAY);
	CHECK_EQ_INT(check_card("roots", "crl", 0, "certs/alice-sign.der", now, &rep, &err), 0);
	CHECK_EQ_STR(rep.subject, "CN=YOSHIDA HANAKO,L=Chiyoda-ku,C=JP");
}

static void
test_revoked(void)
{
	struct hwg_cert_report rep;
	struct hwg_error err;

	CHECK_EQ_INT(check_card("roots", "crl", 0, "certs/revoked-auth.der", now, &rep, &err),
	             HWG_E_CERT_REVOKED);
	CHECK_EQ_STR(rep.revocation, "revoked");
	CHECK_EQ_STR(rep.issuer_root, "auth-root-1");
	CHECK(strstr(err.message, rep.serial) != NULL);
	/* bob is issued by the same root and its CRL does not list him */
	CHECK_EQ_INT(check_card("roots", "crl", 0, "certs/bob-auth.der", now, &rep, &err), 0);
}

static void
test_validity(void)
{
	struct hwg_cert_report rep;
	struct hwg_error err;

	CHECK_EQ_INT(check_card("roots", "crl", 0, "certs/expired-auth.der", now, &rep, &err),
	             HWG_E_CERT_EXPIRED);
	CHECK(strstr(err.message, "expired") != NULL);
	CHECK(rep.revocation == NULL && rep.not_after < now);
	CHECK_EQ_INT(
	    check_card("roots", "crl", 0, "certs/alice-auth.der", now - 2 * DAY, &rep, &err),
	    HWG_E_CERT_EXPIRED);
	CHECK(strstr(err.message, "not valid yet") != NULL);
	CHECK(rep.revocation == NULL);
	/* the boundaries themselves are inside the period (the CRL is then judged) */
	CHECK_EQ_INT(
	    check_card("roots", "crl", 0, "certs/alice-auth.der", rep.not_before, &rep, &err),
	    HWG_E_CRL_STALE);
	CHECK(strstr(err.message, "future") != NULL);
}

static void
test_untrusted(void)
{
	struct hwg_cert_report rep;
	struct hwg_error err;

	CHECK_EQ_INT(check_card("roots", "crl", 0, "certs/wrongroot-auth.der", now, &rep, &err),
	             HWG_E_CERT_UNTRUSTED);
	CHECK_EQ_STR(rep.issuer_root, "");
	CHECK(rep.revocation == NULL && rep.serial[0] != '\0' && rep.subject[0] != '\0');
	/* an authentication certificate under the signing root alone */
	CHECK_EQ_INT(
	    sh("mkdir -p %s/only-sign && cp %s/roots/sign-root-1.pem %s/only-sign/", pki, pki, pki),
	    0);
	CHECK_EQ_INT(
	    sh("mkdir -p %s/crl-sign && cp %s/crl/sign-root-1.crl.pem %s/crl-sign/", pki, pki, pki),
	    0);
	CHECK_EQ_INT(
	    check_card("only-sign", "crl-sign", 0, "certs/alice-auth.der", now, &rep, &err),
	    HWG_E_CERT_UNTRUSTED);
}

/* ---------------------------------------------------------------- CRLs */

static void
test_stale_crl(void)
{
	struct hwg_cert_report rep;
	struct hwg_error err;

	CHECK_EQ_INT(check_card("roots", "crl-stale", 0, "certs/alice-auth.der", now, &rep, &err),
	             HWG_E_CRL_STALE);
	CHECK(strstr(err.message, "nextUpdate") != NULL && strstr(err.message, "auth-root-2"));
	CHECK(rep.revocation == NULL);
	/* nextUpdate was three days ago: one day of grace is not enough, thirty are */
	CHECK_EQ_INT(check_card("roots", "crl-stale", DAY, "certs/alice-auth.der", now, &rep, &err),
	             HWG_E_CRL_STALE);
	CHECK_EQ_INT(
	    check_card("roots", "crl-stale", 30 * DAY, "certs/alice-auth.der", now, &rep, &err), 0);
	CHECK_EQ_STR(rep.revocation, "good");
	/* a stale CRL still revokes */
	CHECK_EQ_INT(
	    check_card("roots", "crl-stale", 30 * DAY, "certs/revoked-auth.der", now, &rep, &err),
	    HWG_E_CERT_REVOKED);
}

static void
test_crl_in_future(void)
{
	struct hwg_cert_report rep;
	struct hwg_error err;

	/* the certificate is valid from a day ago, the CRL from an hour ago */
	CHECK_EQ_INT(
	    check_card("roots", "crl", 0, "certs/alice-auth.der", now - 2 * 3600, &rep, &err),
	    HWG_E_CRL_STALE);
	CHECK(strstr(err.message, "future") != NULL);
}

static void
test_missing_crl(void)
{
	struct hwg_cert_report rep;
	struct hwg_error err;

	CHECK_EQ_INT(
	    sh("mkdir -p %s/crl-one && cp %s/crl/auth-root-1.crl.pem %s/crl-one/", pki, pki, pki),
	    0);
	CHECK_EQ_INT(check_card("roots", "crl-one", 0, "certs/bob-auth.der", now, &rep, &err), 0);
	CHECK_EQ_INT(check_card("roots", "crl-one", 0, "certs/alice-auth.der", now, &rep, &err),
	             HWG_E_CRL_STALE);
	CHECK(strstr(err.message, "auth-root-2") != NULL);
	/* an empty CRL directory loads, and every check fails closed */
	CHECK_EQ_INT(sh("mkdir -p %s/crl-none", pki), 0);
	CHECK_EQ_INT(check_card("roots", "crl-none", 0, "certs/bob-auth.der", now, &rep, &err),
	             HWG_E_CRL_STALE);
}

static void
test_newest_crl(void)
{
	struct hwg_cert_report rep;
	struct hwg_error err;

	/* the newest counts whether it is read first or last */
	CHECK_EQ_INT(sh("mkdir -p %s/crl-mix1 %s/crl-mix2 && "
	                "cp %s/crl-stale/auth-root-2.crl.pem %s/crl-mix1/a.pem && "
	                "cp %s/crl/auth-root-2.crl.pem %s/crl-mix1/b.pem && "
	                "cp %s/crl/auth-root-2.crl.pem %s/crl-mix2/a.pem && "
	                "cp %s/crl-stale/auth-root-2.crl.pem %s/crl-mix2/b.pem",
	                pki, pki, pki, pki, pki, pki, pki, pki, pki, pki),
	             0);
	CHECK_EQ_INT(check_card("roots", "crl-mix1", 0, "certs/alice-auth.der", now, &rep, &err),
	             0);
	CHECK_EQ_INT(check_card("roots", "crl-mix2", 0, "certs/alice-auth.der", now, &rep, &err),
	             0);
	/* and a DER CRL loads like a PEM one */
	CHECK_EQ_INT(sh("mkdir -p %s/crl-der && openssl crl -in %s/crl/auth-root-2.crl.pem "
	                "-outform DER -out %s/crl-der/auth-root-2.crl.der",
	                pki, pki, pki),
	             0);
	CHECK_EQ_INT(check_card("roots", "crl-der", 0, "certs/alice-auth.der", now, &rep, &err), 0);
}

/* ---------------------------------------------------------------- DER */

static void
test_malformed(void)
{
	struct hwg_x509_trust *t = NULL;
	struct hwg_cert_report rep;
	struct hwg_error err;
	EVP_PKEY *pk = NULL;
	size_t len;
	uint8_t *der = slurp("certs/alice-auth.der", &len);

	CHECK(len > 100);
	CHECK_EQ_INT(load("roots", "crl", 0, &t, &err), 0);
	CHECK_EQ_INT(hwg_x509_check(t, der, len - 1, now, &rep, &err), HWG_E_INVALID);
	CHECK(rep.serial[0] == '\0' && rep.revocation == NULL);
	der[len] = 0;
	CHECK_EQ_INT(hwg_x509_check(t, der, len + 1, now, &rep, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_x509_check(t, der, 0, now, &rep, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_x509_describe(der, len - 1, &rep, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_x509_describe(der, len + 1, &rep, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_x509_pubkey(der, len + 1, &pk, &err), HWG_E_INVALID);
	CHECK(pk == NULL);
	der[len / 2] ^= 0x01; /* inside the signed part: parses, no longer verifies */
	CHECK_EQ_INT(hwg_x509_check(t, der, len, now, &rep, &err), HWG_E_CERT_UNTRUSTED);
	der[len / 2] ^= 0x01;
	CHECK_EQ_INT(hwg_x509_check(t, der, len, now, &rep, &err), 0);
	CHECK_EQ_INT(hwg_x509_describe(der, len, &rep, &err), 0);
	CHECK(upper_hex(rep.serial) && rep.not_after > rep.not_before);
	hwg_x509_trust_free(t);
	free(der);
}

static void
test_pubkey(void)
{
	EVP_PKEY *pk = NULL, *priv = NULL;
	BIGNUM *e = NULL;
	struct hwg_error err;
	size_t len;
	uint8_t *der = slurp("certs/alice-auth.der", &len);
	char path[300];
	FILE *f;

	CHECK_EQ_INT(hwg_x509_pubkey(der, len, &pk, &err), 0);
	CHECK(pk != NULL && EVP_PKEY_get_bits(pk) == 2048);
	CHECK(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) == 1 && BN_is_word(e, 65537));
	snprintf(path, sizeof(path), "%s/private/alice-auth.key.pem", pki);
	if ((f = fopen(path, "r")) != NULL) {
		priv = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	CHECK(priv != NULL && EVP_PKEY_eq(pk, priv) == 1);
	BN_free(e);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pk);
	free(der);
}

/* ---------------------------------------------------------------- configuration */

/* trust_load refused with HWG_E_CONFIG, a message naming what, and no trust. */
static void
refused(const char *roots, const char *crls, long grace, const char *what)
{
	static char sentinel;
	struct hwg_x509_trust *t = (struct hwg_x509_trust *)(void *)&sentinel;
	struct hwg_error err;

	CHECK_EQ_INT(load(roots, crls, grace, &t, &err), HWG_E_CONFIG);
	CHECK(t == NULL);
	if (strstr(err.message, what) == NULL) {
		fprintf(stderr, "  message \"%s\" does not name %s\n", err.message, what);
		CHECK(strstr(err.message, what) != NULL);
	}
}

static void
test_config_refused(void)
{
	struct hwg_cert_report rep;
	struct hwg_error err;

	refused("no-such-roots", "crl", 0, "no-such-roots");
	refused("roots", "no-such-crls", 0, "no-such-crls");
	CHECK_EQ_INT(sh("mkdir -p %s/roots-junk && cp %s/roots/*.pem %s/roots-junk/ && "
	                "echo junk > %s/roots-junk/junk.pem",
	                pki, pki, pki, pki),
	             0);
	refused("roots-junk", "crl", 0, "roots-junk/junk.pem");
	CHECK_EQ_INT(sh("mkdir -p %s/roots-ee && cp %s/roots/*.pem %s/certs/bob-auth.der "
	                "%s/roots-ee/",
	                pki, pki, pki, pki),
	             0);
	refused("roots-ee", "crl", 0, "roots-ee/bob-auth.der");
	CHECK_EQ_INT(sh("mkdir -p %s/roots-empty && touch %s/roots-empty/README", pki, pki), 0);
	refused("roots-empty", "crl", 0, "roots-empty");
	/* a real CRL, but signed by the root that is not configured */
	CHECK_EQ_INT(sh("mkdir -p %s/crl-other && cp %s/crl/*.pem %s/untrusted/other-root.crl.pem "
	                "%s/crl-other/",
	                pki, pki, pki, pki),
	             0);
	refused("roots", "crl-other", 0, "crl-other/other-root.crl.pem");
	CHECK_EQ_INT(sh("mkdir -p %s/crl-junk && cp %s/crl/*.pem %s/crl-junk/ && "
	                "head -c 300 %s/certs/bob-auth.der > %s/crl-junk/zz.der",
	                pki, pki, pki, pki, pki),
	             0);
	refused("roots", "crl-junk", 0, "crl-junk/zz.der");
	refused("roots", "crl", -1, "-1");
	/* the untrusted root next to the others is accepted (it is self-signed), and then
	 * its CRL and its card are too: trust is what the operator puts in the directory */
	CHECK_EQ_INT(sh("mkdir -p %s/roots-all && cp %s/roots/*.pem %s/untrusted/other-root.pem "
	                "%s/roots-all/",
	                pki, pki, pki, pki),
	             0);
	CHECK_EQ_INT(
	    check_card("roots-all", "crl-other", 0, "certs/wrongroot-auth.der", now, &rep, &err),
	    0);
	CHECK_EQ_STR(rep.issuer_root, "other-root");
}

/* ---------------------------------------------------------------- the script */

/* The value of otherName oid in the SAN of x, as bytes; NULL if absent or not UTF8String. */
static char *
other_name(X509 *x, const char *oid, char *out, size_t cap)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	char *found = NULL, txt[64];

	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		ASN1_TYPE *v;

		if (g->type != GEN_OTHERNAME)
			continue;
		OBJ_obj2txt(txt, sizeof(txt), g->d.otherName->type_id, 1);
		v = g->d.otherName->value;
		if (strcmp(txt, oid) == 0 && v->type == V_ASN1_UTF8STRING &&
		    (size_t)v->value.utf8string->length < cap) {
			memcpy(out, v->value.utf8string->data, (size_t)v->value.utf8string->length);
			out[v->value.utf8string->length] = '\0';
			found = out;
		}
	}
	GENERAL_NAMES_free(names);
	return found;
}

static void
test_sign_facts(void)
{
	size_t len;
	uint8_t *der = slurp("certs/alice-sign.der", &len);
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	char v[256];

	CHECK(x != NULL);
	if (x == NULL) {
		free(der);
		return;
	}
	/* 𠮷 is U+20BB7, four bytes in UTF-8; the separator is U+3000 */
	CHECK_EQ_STR(other_name(x, "1.2.392.200149.8.5.5.1", v, sizeof(v)),
	             "\xF0\xA0\xAE\xB7\xE7\x94\xB0\xE3\x80\x80\xE8\x8A\xB1\xE5\xAD\x90");
	CHECK_EQ_STR(other_name(x, "1.2.392.200149.8.5.5.3", v, sizeof(v)), "2");
	CHECK_EQ_STR(other_name(x, "1.2.392.200149.8.5.5.4", v, sizeof(v)), "19850401");
	CHECK_EQ_STR(other_name(x, "1.2.392.200149.8.5.5.5", v, sizeof(v)),
	             "東京都千代田区霞が関２丁目１番２号");
	CHECK((X509_get_key_usage(x) & (KU_NON_REPUDIATION | KU_DIGITAL_SIGNATURE)) ==
	      (KU_NON_REPUDIATION | KU_DIGITAL_SIGNATURE));
	X509_free(x);
	free(der);
}

/* The ordinance's check digit of a 12-digit My Number. */
static int
mynumber_ok(const char *s)
{
	int sum = 0, r;

	if (strspn(s, "0123456789") != 12)
		return 0;
	for (int n = 1; n <= 11; n++)
		sum += (s[11 - n] - '0') * (n <= 6 ? n + 1 : n - 5);
	r = sum % 11;
	return s[11] - '0' == (r <= 1 ? 0 : 11 - r);
}

static void
test_profiles(void)
{
	const char *cards[] = {"bob", "revoked", "expired", "wrongroot"};
	char *s, *mn;
	size_t len;

	s = (char *)slurp("cards/alice.card", &len);
	s[len] = '\0';
	CHECK(strstr(s, "mynumber = 537686677188\n") != NULL);
	CHECK(strstr(s, "auth_ca = ../roots-der/auth-root-2.der\n") != NULL);
	CHECK(strstr(s, "name = 𠮷田　花子\n") != NULL && strstr(s, "sign = ABC123\n") != NULL);
	free(s);
	for (size_t i = 0; i < sizeof(cards) / sizeof(cards[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "cards/%s.card", cards[i]);
		s = (char *)slurp(name, &len);
		s[len] = '\0';
		mn = strstr(s, "mynumber = ");
		CHECK(mn != NULL && mynumber_ok(mn + 11) && mn[23] == '\n');
		free(s);
	}
	s = (char *)slurp("cards/juki.card", &len);
	s[len] = '\0';
	CHECK(strstr(s, "type = jukicard") != NULL);
	free(s);
}

static void
test_script_rerun(void)
{
	char path[300];
	struct stat a, b;

	snprintf(path, sizeof(path), "%s/roots/auth-root-1.pem", pki);
	CHECK(stat(path, &a) == 0);
	CHECK_EQ_INT(sh("%s/scripts/card-pki --dir %s", getenv("HWG_SOURCE_DIR"), pki), 0);
	CHECK(stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_mtime == b.st_mtime);
	/* a directory that is neither empty nor finished is refused and left alone */
	CHECK_EQ_INT(sh("mkdir -p %s/mine && echo keep > %s/mine/file", base, base), 0);
	CHECK(sh("%s/scripts/card-pki --dir %s/mine 2>/dev/null", getenv("HWG_SOURCE_DIR"), base) !=
	      0);
	CHECK_EQ_INT(sh("grep -q keep %s/mine/file", base), 0);
	snprintf(path, sizeof(path), "%s/private", pki);
	CHECK(stat(path, &a) == 0 && (a.st_mode & 0777) == 0700);
}

int
main(void)
{
	const char *src = getenv("HWG_SOURCE_DIR");
	int rc;

	snprintf(base, sizeof(base), "%s", "/tmp/hwg-test-x509.XXXXXX");
	if (src == NULL || mkdtemp(base) == NULL) {
		fprintf(stderr, "need HWG_SOURCE_DIR and a temporary directory\n");
		return 1;
	}
	snprintf(pki, sizeof(pki), "%s/pki", base);
	if (sh("%s/scripts/card-pki --dir %s", src, pki) != 0)
		return 1;
	now = (int64_t)time(NULL);
	HWG_RUN(test_same_dn_roots);
	HWG_RUN(test_report);
	HWG_RUN(test_revoked);
	HWG_RUN(test_validity);
	HWG_RUN(test_untrusted);
	HWG_RUN(test_stale_crl);
	HWG_RUN(test_crl_in_future);
	HWG_RUN(test_missing_crl);
	HWG_RUN(test_newest_crl);
	HWG_RUN(test_malformed);
	HWG_RUN(test_pubkey);
	HWG_RUN(test_config_refused);
	HWG_RUN(test_sign_facts);
	HWG_RUN(test_profiles);
	HWG_RUN(test_script_rerun);
	rc = HWG_TEST_END();
	if (sh("rm -rf %s", base) != 0)
		rc = 1;
	return rc;
}
