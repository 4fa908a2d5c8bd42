/*
 * reg_certdoc.h — the two digests of the cert.issue document, exactly as
 * the gateway recomputes them:
 *   version_digest = SHA-256(CBOR ["hwgw-record-v1", resident_code,
 *                                  record_version, fields])
 *   fields_digest  = SHA-256(the deterministic CBOR of "people")
 * with fields a map of text to text in deterministic order.  Kept behind
 * these functions so that the shared gateway/shared/hwg_certdoc helpers
 * can take their place without touching the callers.
 */
#ifndef REG_CERTDOC_H
#define REG_CERTDOC_H

#include <stddef.h>
#include <stdint.h>

#include "reg_cbor.h"

#define REG_FIELDS_MAX 16

/* A person's fields: names and values, in any order (sorted when written). */
struct reg_fields {
	const char *key[REG_FIELDS_MAX];
	const char *val[REG_FIELDS_MAX];
	size_t n;
};

/* Write fields as a deterministic CBOR map. */
void reg_certdoc_fields_write(struct reg_cbor *w, const struct reg_fields *f);
/* 0, or HWG_E_NOMEM / HWG_E_TOO_LARGE. */
int reg_certdoc_version_digest(const char *resident_code, uint64_t record_version,
                               const struct reg_fields *f, uint8_t out[32]);
void reg_certdoc_fields_digest(const uint8_t *people, size_t len, uint8_t out[32]);

#endif
