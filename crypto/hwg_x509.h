/*
 * hwg_x509.h — checking a JPKI end-entity certificate against configured
 * roots and CRLs, with the clock passed in.
 *
 * J-LIS roots of different generations share one DN, so the issuer is
 * chosen by signature, not by name; revocation comes from CRLs an
 * operator process drops into a directory (J-LIS serves them only to
 * registered verifiers), and a CRL past its nextUpdate fails closed.  We
 * do the few steps ourselves rather than through X509_STORE, whose issuer
 * lookup is by name and whose clock is the system's.
 */
#ifndef HWG_X509_H
#define HWG_X509_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

struct hwg_x509_trust;

/*
 * Load the self-signed CA roots in roots_dir (*.pem, *.crt, *.der, one
 * certificate a file; the file's base name names the root) and the CRLs in
 * crl_dir (*.pem, *.crl, *.der); a CRL may be grace_s seconds past its
 * nextUpdate.  Of several CRLs signed by one root the newest (lastUpdate)
 * counts.  HWG_E_CONFIG naming the file or directory: unreadable, not a
 * self-signed CA with CA:TRUE, a CRL signed by no root, no root at all, or
 * a negative grace.
 */
int hwg_x509_trust_load(const char *roots_dir, const char *crl_dir, long grace_s,
                        struct hwg_x509_trust **out, struct hwg_error *err);
void hwg_x509_trust_free(struct hwg_x509_trust *t);

struct hwg_cert_report {
	char serial[80];   /* hex, upper case, no leading zeros */
	char subject[256]; /* RFC 2253, UTF-8 (cut on a character boundary) */
	char issuer[256];
	int64_t not_before, not_after; /* seconds since the epoch */
	char issuer_root[80];          /* base name of the root file that verified it */
	const char *revocation;        /* "good", "revoked", or NULL when not reached */
};

/*
 * Check the DER certificate at time now_s: issuer among the roots by
 * signature (HWG_E_CERT_UNTRUSTED), validity (HWG_E_CERT_EXPIRED, also
 * when not yet valid), then the newest CRL of that root (HWG_E_CRL_STALE
 * when there is none, it is not yet valid, or it is past nextUpdate plus
 * the grace; HWG_E_CERT_REVOKED when the serial is listed).  Malformed
 * DER or trailing bytes: HWG_E_INVALID.  rep is filled as far as the
 * check got (serial, names and validity whenever the DER parses).  Safe to
 * call from several threads on one trust.
 */
int hwg_x509_check(const struct hwg_x509_trust *t, const uint8_t *der, size_t len, int64_t now_s,
                   struct hwg_cert_report *rep, struct hwg_error *err);

/* Serial, subject, issuer and validity of a DER certificate, no checks. */
int hwg_x509_describe(const uint8_t *der, size_t len, struct hwg_cert_report *rep,
                      struct hwg_error *err);

/* The certificate's public key; the caller EVP_PKEY_free()s it. */
int hwg_x509_pubkey(const uint8_t *der, size_t len, EVP_PKEY **out, struct hwg_error *err);

#endif
