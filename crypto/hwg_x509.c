/*
 * hwg_x509.c — JPKI certificate checks against roots and CRLs from
 * configuration (see hwg_x509.h).
 */
#include "hwg_x509.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ROOTS 32
#define MAX_CRLS 64

struct root {
	X509 *cert;
	EVP_PKEY *key; /* owned by cert */
	char name[80];
	X509_CRL *crl; /* the newest CRL it signed, or NULL */
};

struct hwg_x509_trust {
	struct root roots[MAX_ROOTS];
	size_t n_roots;
	long grace_s;
};

/* ---------------------------------------------------------------- files */

static int
has_suffix(const char *name, const char *const *suffixes)
{
	size_t n = strlen(name);

	for (; *suffixes != NULL; suffixes++) {
		size_t k = strlen(*suffixes);

		if (n > k && strcmp(name + n - k, *suffixes) == 0)
			return 1;
	}
	return 0;
}

/* Read a whole small file into a memory BIO. */
static BIO *
file_bio(const char *path)
{
	FILE *f = fopen(path, "re");
	char buf[8192];
	size_t n;
	BIO *b;

	if (f == NULL || (b = BIO_new(BIO_s_mem())) == NULL) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		BIO_write(b, buf, (int)n);
	fclose(f);
	return b;
}

/* PEM first, then DER. */
static X509 *
load_cert(const char *path)
{
	BIO *b = file_bio(path);
	X509 *x;

	if (b == NULL)
		return NULL;
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	if (x == NULL) {
		BIO_reset(b);
		x = d2i_X509_bio(b, NULL);
	}
	BIO_free(b);
	return x;
}

static X509_CRL *
load_crl(const char *path)
{
	BIO *b = file_bio(path);
	X509_CRL *c;

	if (b == NULL)
		return NULL;
	c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
	if (c == NULL) {
		BIO_reset(b);
		c = d2i_X509_CRL_bio(b, NULL);
	}
	BIO_free(b);
	return c;
}

/* Call fn for each file of dir whose name ends in one of suffixes, in name order. */
static int
each_file(const char *dir, const char *const *suffixes, const char *what,
          int (*fn)(struct hwg_x509_trust *, const char *, const char *, struct hwg_error *),
          struct hwg_x509_trust *t, struct hwg_error *err)
{
	struct dirent **list = NULL;
	char path[4096];
	int n, rc = 0;

	if ((n = scandir(dir, &list, NULL, alphasort)) < 0)
		return hwg_error_set(err, HWG_E_CONFIG, "[card] %s: cannot read %s: %s", what, dir,
		                     strerror(errno));
	for (int i = 0; i < n; i++) {
		if (rc == 0 && has_suffix(list[i]->d_name, suffixes)) {
			snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
			rc = fn(t, path, list[i]->d_name, err);
		}
		free(list[i]);
	}
	free(list);
	return rc;
}

/* ---------------------------------------------------------------- loading */

static int
add_root(struct hwg_x509_trust *t, const char *path, const char *file, struct hwg_error *err)
{
	X509 *x = load_cert(path);
	struct root *r;
	char *dot;

	if (x == NULL)
		return hwg_error_set(err, HWG_E_CONFIG, "[card] roots: %s is not a certificate",
		                     path);
	if (X509_check_issued(x, x) != X509_V_OK || X509_verify(x, X509_get0_pubkey(x)) != 1 ||
	    X509_check_ca(x) < 1) {
		X509_free(x);
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "[card] roots: %s is not a self-signed CA certificate", path);
	}
	if (t->n_roots == MAX_ROOTS) {
		X509_free(x);
		return hwg_error_set(err, HWG_E_CONFIG, "[card] roots: more than %d roots",
		                     MAX_ROOTS);
	}
	r = &t->roots[t->n_roots++];
	r->cert = x;
	r->key = X509_get0_pubkey(x);
	snprintf(r->name, sizeof(r->name), "%s", file);
	if ((dot = strrchr(r->name, '.')) != NULL)
		*dot = '\0';
	return 0;
}

static int
add_crl(struct hwg_x509_trust *t, const char *path, const char *file, struct hwg_error *err)
{
	X509_CRL *c = load_crl(path);

	(void)file;
	if (c == NULL)
		return hwg_error_set(err, HWG_E_CONFIG, "[card] crls: %s is not a CRL", path);
	for (size_t i = 0; i < t->n_roots; i++) {
		struct root *r = &t->roots[i];

		if (X509_NAME_cmp(X509_CRL_get_issuer(c), X509_get_subject_name(r->cert)) != 0 ||
		    X509_CRL_verify(c, r->key) != 1)
			continue;
		if (r->crl == NULL || ASN1_TIME_compare(X509_CRL_get0_lastUpdate(c),
		                                        X509_CRL_get0_lastUpdate(r->crl)) > 0) {
			X509_CRL_free(r->crl);
			r->crl = c;
		} else {
			X509_CRL_free(c);
		}
		return 0;
	}
	X509_CRL_free(c);
	return hwg_error_set(err, HWG_E_CONFIG,
	                     "[card] crls: %s is signed by none of the configured roots", path);
}

int
hwg_x509_trust_load(const char *roots_dir, const char *crl_dir, long grace_s,
                    struct hwg_x509_trust **out, struct hwg_error *err)
{
	static const char *const cert_suffixes[] = {".pem", ".crt", ".der", NULL};
	static const char *const crl_suffixes[] = {".pem", ".crl", ".der", NULL};
	struct hwg_x509_trust *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (t == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	t->grace_s = grace_s;
	rc = each_file(roots_dir, cert_suffixes, "roots", add_root, t, err);
	if (rc == 0 && t->n_roots == 0)
		rc = hwg_error_set(err, HWG_E_CONFIG, "[card] roots: no certificate in %s",
		                   roots_dir);
	if (rc == 0)
		rc = each_file(crl_dir, crl_suffixes, "crls", add_crl, t, err);
	if (rc != 0) {
		hwg_x509_trust_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void
hwg_x509_trust_free(struct hwg_x509_trust *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_roots; i++) {
		X509_free(t->roots[i].cert);
		X509_CRL_free(t->roots[i].crl);
	}
	free(t);
}

/* ---------------------------------------------------------------- reports */

static int
parse_der(const uint8_t *der, size_t len, X509 **out, struct hwg_error *err)
{
	const unsigned char *p = der;

	*out = len > 0 && len < 65536 ? d2i_X509(NULL, &p, (long)len) : NULL;
	if (*out == NULL || p != der + len) {
		X509_free(*out);
		*out = NULL;
		return hwg_error_set(err, HWG_E_INVALID,
		                     "the card's certificate is not one DER "
		                     "X.509 certificate");
	}
	return 0;
}

static int64_t
asn1_seconds(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static void
name_text(const X509_NAME *name, char *out, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n = 0;

	out[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
		n = BIO_read(b, out, (int)cap - 1);
	out[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

static void
serial_text(const X509 *x, char *out, size_t cap)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;

	snprintf(out, cap, "%s", hex != NULL ? hex : "");
	OPENSSL_free(hex);
	BN_free(bn);
}

static void
describe(const X509 *x, struct hwg_cert_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	serial_text(x, rep->serial, sizeof(rep->serial));
	name_text(X509_get_subject_name(x), rep->subject, sizeof(rep->subject));
	name_text(X509_get_issuer_name(x), rep->issuer, sizeof(rep->issuer));
	rep->not_before = asn1_seconds(X509_get0_notBefore(x));
	rep->not_after = asn1_seconds(X509_get0_notAfter(x));
}

int
hwg_x509_describe(const uint8_t *der, size_t len, struct hwg_cert_report *rep,
                  struct hwg_error *err)
{
	X509 *x;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if ((rc = parse_der(der, len, &x, err)) != 0)
		return rc;
	describe(x, rep);
	X509_free(x);
	return 0;
}

int
hwg_x509_pubkey(const uint8_t *der, size_t len, EVP_PKEY **out, struct hwg_error *err)
{
	X509 *x;
	int rc;

	*out = NULL;
	if ((rc = parse_der(der, len, &x, err)) != 0)
		return rc;
	*out = X509_get_pubkey(x);
	X509_free(x);
	return *out != NULL ? 0 : hwg_error_set(err, HWG_E_INVALID, "certificate key unreadable");
}

/* ---------------------------------------------------------------- checks */

/* The root whose key verifies x's signature (roots may share a DN). */
static const struct root *
find_issuer(const struct hwg_x509_trust *t, X509 *x)
{
	for (size_t i = 0; i < t->n_roots; i++)
		if (X509_NAME_cmp(X509_get_issuer_name(x),
		                  X509_get_subject_name(t->roots[i].cert)) == 0 &&
		    X509_verify(x, t->roots[i].key) == 1)
			return &t->roots[i];
	return NULL;
}

static int
check_validity(const struct hwg_cert_report *rep, int64_t now, struct hwg_error *err)
{
	if (now < rep->not_before)
		return hwg_error_set(err, HWG_E_CERT_EXPIRED,
		                     "the card's certificate is not valid yet (from %lld)",
		                     (long long)rep->not_before);
	if (now > rep->not_after)
		return hwg_error_set(err, HWG_E_CERT_EXPIRED,
		                     "the card's certificate expired (valid until %lld)",
		                     (long long)rep->not_after);
	return 0;
}

static int
check_revocation(const struct hwg_x509_trust *t, const struct root *r, X509 *x, int64_t now,
                 struct hwg_cert_report *rep, struct hwg_error *err)
{
	X509_REVOKED *entry = NULL;
	const ASN1_TIME *next;

	if (r->crl == NULL)
		return hwg_error_set(err, HWG_E_CRL_STALE, "no CRL of root %s in [card] crls",
		                     r->name);
	if (asn1_seconds(X509_CRL_get0_lastUpdate(r->crl)) > now)
		return hwg_error_set(err, HWG_E_CRL_STALE,
		                     "the CRL of root %s is dated in the future: check the clock",
		                     r->name);
	next = X509_CRL_get0_nextUpdate(r->crl);
	if (next == NULL || asn1_seconds(next) + t->grace_s < now)
		return hwg_error_set(
		    err, HWG_E_CRL_STALE,
		    "the CRL of root %s is past its nextUpdate%s: refresh [card] crls", r->name,
		    t->grace_s > 0 ? " and the grace" : "");
	if (X509_CRL_get0_by_cert(r->crl, &entry, x) == 1) {
		rep->revocation = "revoked";
		return hwg_error_set(err, HWG_E_CERT_REVOKED,
		                     "the card's certificate (serial %s) is revoked", rep->serial);
	}
	rep->revocation = "good";
	return 0;
}

int
hwg_x509_check(const struct hwg_x509_trust *t, const uint8_t *der, size_t len, int64_t now_s,
               struct hwg_cert_report *rep, struct hwg_error *err)
{
	const struct root *r;
	X509 *x;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if ((rc = parse_der(der, len, &x, err)) != 0)
		return rc;
	describe(x, rep);
	if ((r = find_issuer(t, x)) == NULL)
		rc = hwg_error_set(
		    err, HWG_E_CERT_UNTRUSTED,
		    "the card's certificate (issuer %s) is signed by no configured root",
		    rep->issuer);
	if (rc == 0) {
		snprintf(rep->issuer_root, sizeof(rep->issuer_root), "%s", r->name);
		rc = check_validity(rep, now_s, err);
	}
	if (rc == 0)
		rc = check_revocation(t, r, x, now_s, rep, err);
	X509_free(x);
	return rc;
}
