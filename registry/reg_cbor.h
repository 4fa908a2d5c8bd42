/*
 * reg_cbor.h — a deterministic CBOR writer (RFC 8949 §4.2.1: shortest
 * heads, definite lengths, map keys in bytewise order of their encoding)
 * for what the registry signs: the record-version structure, "people",
 * the document.  Writes go into an hwg_buf; the first failure sticks in
 * w->rc and later writes do nothing, so a builder checks once at the end.
 */
#ifndef REG_CBOR_H
#define REG_CBOR_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_buf.h"

struct reg_cbor {
	struct hwg_buf *b;
	int rc;
};

void reg_cbor_uint(struct reg_cbor *w, uint64_t v);
void reg_cbor_text(struct reg_cbor *w, const char *s);
void reg_cbor_bytes(struct reg_cbor *w, const uint8_t *p, size_t n);
void reg_cbor_bool(struct reg_cbor *w, int v);
void reg_cbor_array(struct reg_cbor *w, size_t n);
void reg_cbor_map(struct reg_cbor *w, size_t n);
/* Bytes already encoded (an item built apart). */
void reg_cbor_raw(struct reg_cbor *w, const uint8_t *p, size_t n);
/* Sort text keys into deterministic order (shorter first, then bytewise). */
void reg_cbor_sort_keys(const char **keys, size_t n);

#endif
