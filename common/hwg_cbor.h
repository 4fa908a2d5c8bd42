/*
 * hwg_cbor.h — strict accessors over libcbor items.
 *
 * Every CBOR map we read comes from a peer (client request, gateway
 * response, test fixture), so these helpers only answer for definite
 * lengths and exact types; anything else reads as "absent" or an error
 * and the caller refuses the message.
 */
#ifndef HWG_CBOR_H
#define HWG_CBOR_H

#include <cbor.h>
#include <stddef.h>
#include <stdint.h>

#define HWG_CBOR_DEPTH_MAX 16

/*
 * Decode exactly one CBOR item that fills data.  Before libcbor sees the
 * bytes, a bounded scan checks that every declared length fits in what
 * is left (libcbor 0.8 allocates a container's declared size up front, so
 * five hostile bytes could ask for gigabytes), that nesting stays
 * within HWG_CBOR_DEPTH_MAX and that every text string is valid UTF-8
 * (RFC 8949 §3.1; libcbor does not check).  NULL if any of that fails;
 * *why (may be NULL) gets a short reason.
 */
cbor_item_t *hwg_cbor_load(const uint8_t *data, size_t len, const char **why);

/*
 * Overwrite every definite text and byte string inside item (maps and
 * arrays walked) with zeros, before the item is freed: request arguments
 * carry PINs, and libcbor frees without wiping.
 */
void hwg_cbor_wipe_strings(cbor_item_t *item);

/*
 * Make every text string inside item, a map or an array (walked, keys
 * too, indefinite strings chunk by chunk), valid UTF-8, each byte that is
 * not escaped as \xNN (hwg_text.h): for an answer that carries what a
 * device or an old record said.  0, or -1 when out of memory (item then
 * partly done) or when item itself is a text that is not UTF-8.
 */
int hwg_cbor_texts_to_utf8(cbor_item_t *item);

/*
 * Value under text key in a definite map, NULL if absent.  *dup is set
 * to 1 if the key occurs more than once (callers refuse such maps).
 */
cbor_item_t *hwg_cbor_map_get(const cbor_item_t *map, const char *key, int *dup);
/*
 * Check that map is definite, every key is a definite text string, no key
 * repeats, and every key is one of allowed (NULL-terminated).  Returns 0,
 * or -1 with the offending key (or "") copied into bad (size badlen).
 */
int hwg_cbor_map_keys_check(const cbor_item_t *map, const char *const *allowed, char *bad,
                            size_t badlen);
/* 1 if item is a definite text string equal to s. */
int hwg_cbor_text_eq(const cbor_item_t *item, const char *s);
/*
 * Copy a definite text string into out (NUL-terminated).  -1 if not a
 * definite text, if it holds a NUL, or if it does not fit.
 */
int hwg_cbor_text_copy(const cbor_item_t *item, char *out, size_t outlen);
/* Definite byte string: pointer and length, or -1. */
int hwg_cbor_bytes(const cbor_item_t *item, const uint8_t **p, size_t *len);
/* Unsigned integer, or -1. */
int hwg_cbor_uint(const cbor_item_t *item, uint64_t *out);
/* Build helpers that return 0 or -1 (ENOMEM); the map takes its own references. */
int hwg_cbor_map_put_text(cbor_item_t *map, const char *key, const char *value);
int hwg_cbor_map_put_uint(cbor_item_t *map, const char *key, uint64_t value);
int hwg_cbor_map_put_bytes(cbor_item_t *map, const char *key, const uint8_t *p, size_t len);
int hwg_cbor_map_put_bool(cbor_item_t *map, const char *key, int value);
/* Puts value (takes over the caller's reference, also on failure). */
int hwg_cbor_map_put_item(cbor_item_t *map, const char *key, cbor_item_t *value);

#endif
