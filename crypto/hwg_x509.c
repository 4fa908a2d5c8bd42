/*
 * hwg_x509.c — JPKI certificate checks against roots and CRLs from
 * configuration (see hwg_x509.h).  Each step is done here by hand rather
 * than through X509_STORE: the issuer is the root whose key verifies the
 * signature (J-LIS root generations share one DN), the CRL is the one that
 * root signed, and every time comparison uses the caller's clock.
 */
#include "hwg_x509.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwg_file.h"

#define MAX_ROOTS 32
#define MAX_FILE (64L << 20) /* CRLs of a whole generation can be large */
#define MAX_CERT 65535       /* a card's certificate EF holds at most 64 KiB */

struct root {
	X509 *cert;
	EVP_PKEY *key; /* owned by cert */
	char name[80]; /* file base name, for reports and messages */
	X509_CRL *crl; /* the newest CRL this root signed, or NULL */
	int64_t crl_last, crl_next;
	int crl_has_next;
};

/* Read-only once loaded: hwg_x509_check may run in several threads. */
struct hwg_x509_trust {
	struct root roots[MAX_ROOTS];
	size_t n_roots;
	long grace_s;
};

typedef int (*file_fn)(struct hwg_x509_trust *, const char *path, const char *file,
                       struct hwg_error *);

/* ---------------------------------------------------------------- time */

static int
unix_time(const ASN1_TIME *a, int64_t *out)
{
	struct tm tm;

	if (a == NULL || ASN1_TIME_to_tm(a, &tm) != 1)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* ISO 8601 UTC text of s, for messages. */
static const char *
time_text(int64_t s, char *buf, size_t cap)
{
	time_t tt = (time_t)s;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "%lld", (long long)s);
	return buf;
}

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

/* The whole file; HWG_E_CONFIG naming it when it cannot be read. */
static int
read_file(const char *path, uint8_t **out, size_t *len, struct hwg_error *err)
{
	int rc = hwg_file_read(path, MAX_FILE, out, len, err);

	return rc == HWG_E_IO ? hwg_error_set(err, HWG_E_CONFIG, "%s", err->message) : rc;
}

static int
is_pem(const uint8_t *b, size_t n)
{
	return memmem(b, n, "-----BEGIN ", 11) != NULL;
}

/* One certificate, PEM or DER (DER must fill the file). */
static X509 *
cert_from(const uint8_t *b, size_t n)
{
	const unsigned char *p = b;
	X509 *x = NULL;
	BIO *bio;

	if (is_pem(b, n)) {
		if ((bio = BIO_new_mem_buf(b, (int)n)) != NULL)
			x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	} else if ((x = d2i_X509(NULL, &p, (long)n)) != NULL && p != b + n) {
		X509_free(x);
		x = NULL;
	}
	ERR_clear_error();
	return x;
}

static X509_CRL *
crl_from(const uint8_t *b, size_t n)
{
	const unsigned char *p = b;
	X509_CRL *c = NULL;
	BIO *bio;

	if (is_pem(b, n)) {
		if ((bio = BIO_new_mem_buf(b, (int)n)) != NULL)
			c = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
		BIO_free(bio);
	} else if ((c = d2i_X509_CRL(NULL, &p, (long)n)) != NULL && p != b + n) {
		X509_CRL_free(c);
		c = NULL;
	}
	ERR_clear_error();
	return c;
}

/* Call fn for each file of dir whose name ends in one of suffixes, in name order. */
static int
each_file(const char *dir, const char *const *suffixes, file_fn fn, struct hwg_x509_trust *t,
          struct hwg_error *err)
{
	struct dirent **list = NULL;
	char path[4096];
	int n, rc = 0;

	if ((n = scandir(dir, &list, NULL, alphasort)) < 0)
		return hwg_error_set(err, HWG_E_CONFIG, "cannot read the directory %s: %s", dir,
		                     strerror(errno));
	for (int i = 0; i < n; i++) {
		if (rc == 0 && has_suffix(list[i]->d_name, suffixes)) {
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name) >=
			    sizeof(path))
				rc = hwg_error_set(err, HWG_E_CONFIG, "path too long in %s", dir);
			else
				rc = fn(t, path, list[i]->d_name, err);
		}
		free(list[i]);
	}
	free(list);
	return rc;
}

/* ---------------------------------------------------------------- loading */

/* Self-issued, its own key verifies it, and basicConstraints says CA. */
static int
self_signed_ca(X509 *x)
{
	int ok = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0 &&
	         X509_get0_pubkey(x) != NULL && X509_verify(x, X509_get0_pubkey(x)) == 1 &&
	         X509_check_ca(x) == 1;

	ERR_clear_error();
	return ok;
}

static int
keep_root(struct hwg_x509_trust *t, X509 *x, const char *file, struct hwg_error *err)
{
	struct root *r;
	char *dot;

	if (t->n_roots == MAX_ROOTS) {
		X509_free(x);
		return hwg_error_set(err, HWG_E_CONFIG, "more than %d root certificates",
		                     MAX_ROOTS);
	}
	r = &t->roots[t->n_roots++];
	r->cert = x;
	r->key = X509_get0_pubkey(x);
	snprintf(r->name, sizeof(r->name), "%s", file);
	if ((dot = strrchr(r->name, '.')) != NULL && dot != r->name)
		*dot = '\0';
	return 0;
}

static int
add_root(struct hwg_x509_trust *t, const char *path, const char *file, struct hwg_error *err)
{
	uint8_t *buf;
	size_t len;
	X509 *x;
	int rc;

	if ((rc = read_file(path, &buf, &len, err)) != 0)
		return rc;
	x = cert_from(buf, len);
	free(buf);
	if (x == NULL)
		return hwg_error_set(err, HWG_E_CONFIG, "root %s is not a certificate (PEM or DER)",
		                     path);
	if (!self_signed_ca(x)) {
		X509_free(x);
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "root %s is not a self-signed CA certificate "
		                     "(self-issued, verifying with its own key, CA:TRUE)",
		                     path);
	}
	return keep_root(t, x, file, err);
}

/* The root whose name and key match the CRL's issuer and signature. */
static struct root *
crl_root(struct hwg_x509_trust *t, X509_CRL *c)
{
	for (size_t i = 0; i < t->n_roots; i++) {
		struct root *r = &t->roots[i];
		int ok =
		    X509_NAME_cmp(X509_CRL_get_issuer(c), X509_get_subject_name(r->cert)) == 0 &&
		    X509_CRL_verify(c, r->key) == 1;

		ERR_clear_error();
		if (ok)
			return r;
	}
	return NULL;
}

/* Keep c as r's CRL if it is newer than the one r has; frees the other. */
static void
keep_crl(struct root *r, X509_CRL *c, int64_t last, const ASN1_TIME *next)
{
	X509_REVOKED *unused = NULL;
	ASN1_INTEGER *zero;

	if (r->crl != NULL && last <= r->crl_last) {
		X509_CRL_free(c);
		return;
	}
	X509_CRL_free(r->crl);
	r->crl = c;
	r->crl_last = last;
	r->crl_has_next = next != NULL && unix_time(next, &r->crl_next) == 0;
	/* the first lookup sorts the revoked list: do it now, before threads share it */
	if ((zero = ASN1_INTEGER_new()) != NULL)
		X509_CRL_get0_by_serial(c, &unused, zero);
	ASN1_INTEGER_free(zero);
}

static int
add_crl(struct hwg_x509_trust *t, const char *path, const char *file, struct hwg_error *err)
{
	struct root *r;
	int64_t last;
	uint8_t *buf;
	size_t len;
	X509_CRL *c;
	int rc;

	(void)file;
	if ((rc = read_file(path, &buf, &len, err)) != 0)
		return rc;
	c = crl_from(buf, len);
	free(buf);
	if (c == NULL)
		return hwg_error_set(err, HWG_E_CONFIG, "CRL %s is not a CRL (PEM or DER)", path);
	if ((r = crl_root(t, c)) == NULL) {
		X509_CRL_free(c);
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "CRL %s is signed by none of the configured roots", path);
	}
	if (unix_time(X509_CRL_get0_lastUpdate(c), &last) != 0) {
		X509_CRL_free(c);
		return hwg_error_set(err, HWG_E_CONFIG, "CRL %s has no readable lastUpdate", path);
	}
	keep_crl(r, c, last, X509_CRL_get0_nextUpdate(c));
	return 0;
}

int
hwg_x509_trust_load(const char *roots_dir, const char *crl_dir, long grace_s,
                    struct hwg_x509_trust **out, struct hwg_error *err)
{
	static const char *const cert_suffixes[] = {".pem", ".crt", ".der", NULL};
	static const char *const crl_suffixes[] = {".pem", ".crl", ".der", NULL};
	struct hwg_x509_trust *t;
	int rc;

	*out = NULL;
	if (roots_dir == NULL || crl_dir == NULL)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "JPKI roots and CRLs need a directory each");
	if (grace_s < 0)
		return hwg_error_set(err, HWG_E_CONFIG, "CRL grace %ld is negative", grace_s);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	t->grace_s = grace_s;
	rc = each_file(roots_dir, cert_suffixes, add_root, t, err);
	if (rc == 0 && t->n_roots == 0)
		rc = hwg_error_set(err, HWG_E_CONFIG,
		                   "no root certificate (*.pem, *.crt, *.der) in %s", roots_dir);
	if (rc == 0)
		rc = each_file(crl_dir, crl_suffixes, add_crl, t, err);
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

	*out = der != NULL && len > 0 && len <= MAX_CERT ? d2i_X509(NULL, &p, (long)len) : NULL;
	ERR_clear_error();
	if (*out == NULL || p != der + len) {
		X509_free(*out);
		*out = NULL;
		return hwg_error_set(err, HWG_E_INVALID,
		                     "the card's certificate is not one DER X.509 certificate");
	}
	return 0;
}

/* Copy at most cap-1 bytes of UTF-8 text, never cutting a character. */
static void
utf8_copy(char *out, size_t cap, const char *in, size_t n)
{
	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)in[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(out, in, n);
	out[n] = '\0';
}

/* RFC 2253 text of name, UTF-8 left as is (only control characters escaped). */
static void
name_text(const X509_NAME *name, char *out, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL;
	long n = 0;

	out[0] = '\0';
	if (b != NULL &&
	    X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
		n = BIO_get_mem_data(b, &data);
	if (data != NULL && n > 0)
		utf8_copy(out, cap, data, (size_t)n);
	BIO_free(b);
}

/* Upper-case hex without leading zeros ("0" for zero, "-" kept). */
static void
serial_text(const X509 *x, char *out, size_t cap)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	const char *p = hex, *sign = "";

	out[0] = '\0';
	if (hex != NULL) {
		if (*p == '-') {
			sign = "-";
			p++;
		}
		while (p[0] == '0' && p[1] != '\0')
			p++;
		snprintf(out, cap, "%s%s", sign, p);
	}
	OPENSSL_free(hex);
	BN_free(bn);
}

static int
describe(const X509 *x, struct hwg_cert_report *rep, struct hwg_error *err)
{
	serial_text(x, rep->serial, sizeof(rep->serial));
	name_text(X509_get_subject_name(x), rep->subject, sizeof(rep->subject));
	name_text(X509_get_issuer_name(x), rep->issuer, sizeof(rep->issuer));
	if (unix_time(X509_get0_notBefore(x), &rep->not_before) != 0 ||
	    unix_time(X509_get0_notAfter(x), &rep->not_after) != 0)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "the card's certificate has an unreadable validity period");
	return 0;
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
	rc = describe(x, rep, err);
	X509_free(x);
	return rc;
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
	ERR_clear_error();
	return *out != NULL ? 0 : hwg_error_set(err, HWG_E_INVALID, "certificate key unreadable");
}

/* ---------------------------------------------------------------- checks */

/* Among the roots named as x's issuer, the one whose key verifies x (roots share a DN). */
static const struct root *
find_issuer(const struct hwg_x509_trust *t, X509 *x)
{
	const struct root *found = NULL;

	for (size_t i = 0; i < t->n_roots && found == NULL; i++)
		if (X509_NAME_cmp(X509_get_issuer_name(x),
		                  X509_get_subject_name(t->roots[i].cert)) == 0 &&
		    X509_verify(x, t->roots[i].key) == 1)
			found = &t->roots[i];
	ERR_clear_error();
	return found;
}

static int
check_validity(const struct hwg_cert_report *rep, int64_t now, struct hwg_error *err)
{
	char when[40];

	if (now < rep->not_before)
		return hwg_error_set(err, HWG_E_CERT_EXPIRED,
		                     "the card's certificate is not valid yet (notBefore %s)",
		                     time_text(rep->not_before, when, sizeof(when)));
	if (now > rep->not_after)
		return hwg_error_set(err, HWG_E_CERT_EXPIRED,
		                     "the card's certificate has expired (notAfter %s)",
		                     time_text(rep->not_after, when, sizeof(when)));
	return 0;
}

/* HWG_E_CRL_STALE unless r's CRL can be used at now. */
static int
check_crl_fresh(const struct hwg_x509_trust *t, const struct root *r, int64_t now,
                struct hwg_error *err)
{
	char when[40];

	if (r->crl == NULL)
		return hwg_error_set(err, HWG_E_CRL_STALE, "no CRL signed by root %s is configured",
		                     r->name);
	if (r->crl_last > now)
		return hwg_error_set(err, HWG_E_CRL_STALE,
		                     "the CRL of root %s has lastUpdate %s, in the future: check "
		                     "the clock",
		                     r->name, time_text(r->crl_last, when, sizeof(when)));
	if (!r->crl_has_next)
		return hwg_error_set(err, HWG_E_CRL_STALE,
		                     "the CRL of root %s has no nextUpdate: it cannot be judged "
		                     "fresh",
		                     r->name);
	if (now - r->crl_next > t->grace_s)
		return hwg_error_set(err, HWG_E_CRL_STALE,
		                     "the CRL of root %s is stale: nextUpdate %s plus %ld s of "
		                     "grace has passed",
		                     r->name, time_text(r->crl_next, when, sizeof(when)),
		                     t->grace_s);
	return 0;
}

static int
check_revocation(const struct hwg_x509_trust *t, const struct root *r, X509 *x, int64_t now,
                 struct hwg_cert_report *rep, struct hwg_error *err)
{
	X509_REVOKED *entry = NULL;
	int rc;

	if ((rc = check_crl_fresh(t, r, now, err)) != 0)
		return rc;
	/* 1: listed; 2 would be removeFromCRL, which only a delta CRL says */
	if (X509_CRL_get0_by_serial(r->crl, &entry, X509_get0_serialNumber(x)) == 1) {
		rep->revocation = "revoked";
		return hwg_error_set(err, HWG_E_CERT_REVOKED,
		                     "the card's certificate (serial %s) is on the CRL of root %s",
		                     rep->serial, r->name);
	}
	rep->revocation = "good";
	return 0;
}

int
hwg_x509_check(const struct hwg_x509_trust *t, const uint8_t *der, size_t len, int64_t now_s,
               struct hwg_cert_report *rep, struct hwg_error *err)
{
	const struct root *r = NULL;
	X509 *x;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if (t == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no JPKI trust configuration");
	if ((rc = parse_der(der, len, &x, err)) != 0)
		return rc;
	rc = describe(x, rep, err);
	if (rc == 0 && (r = find_issuer(t, x)) == NULL)
		rc = hwg_error_set(err, HWG_E_CERT_UNTRUSTED,
		                   "the card's certificate (issuer %s) is signed by no "
		                   "configured root",
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
