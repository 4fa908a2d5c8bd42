/*
 * hwg_cbor_det.h — deterministic CBOR encoding (RFC 8949 §4.2.1, "core
 * deterministic encoding"): the shortest head for every argument,
 * definite lengths only, and every map's keys sorted by the bytewise
 * order of their own encodings.  What a signer and a verifier hash must
 * be the same bytes whoever built the item (a registry's document, the
 * fields of a record version, a certificate's summary), and libcbor's
 * serializer neither sorts keys nor always picks the shortest head, so
 * items that are signed or hashed are encoded here.
 */
#ifndef HWG_CBOR_DET_H
#define HWG_CBOR_DET_H

#include <cbor.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Encode item into *out (malloc'd, *len bytes).  Unsigned and negative
 * integers, definite byte and text strings, definite arrays and maps,
 * false, true and null; nesting up to HWG_CBOR_DEPTH_MAX.  0;
 * HWG_E_INVALID for anything else (indefinite lengths, floats, tags,
 * undefined, a map whose key repeats), HWG_E_TOO_LARGE past max bytes,
 * HWG_E_NOMEM.  *out untouched on failure.
 */
int hwg_cbor_det_encode(const cbor_item_t *item, size_t max, uint8_t **out, size_t *len);
/* 1 if p[0..len) is exactly item's deterministic encoding, else 0. */
int hwg_cbor_det_is(const cbor_item_t *item, const uint8_t *p, size_t len);

#endif
