/*
 * hwgw_json.h — JSON <-> CBOR for hwgwctl, so that people and scripts can
 * write arguments and read results as JSON.
 *
 * JSON to CBOR (arguments): objects, arrays, strings, integers, true,
 * false and null.  A string "hex:<hex digits>" becomes a byte string (so
 * a text beginning "hex:" cannot be sent).  Reals are refused: nothing in
 * the API takes one, and a silent rounding would change what is signed.
 *
 * CBOR to JSON (results): byte strings become "hex:<lower-case hex>",
 * tags are dropped to their content, integers outside the 64-bit signed
 * range and non-finite floats become strings, map keys that are not text
 * are rendered as strings (1 -> "1", h'00' -> "hex:00").  A map repeating
 * a key is refused rather than shown with one value hidden.
 *
 * Both directions refuse nesting deeper than HWGW_JSON_DEPTH_MAX
 * containers (the outermost one counts).
 */
#ifndef HWGW_JSON_H
#define HWGW_JSON_H

#include <cbor.h>

#include "hwg_err.h"

#define HWGW_JSON_DEPTH_MAX 32

/* Parse a JSON object into a CBOR map (*out owned by the caller). HWG_E_INVALID with a message. */
int hwgw_json_to_cbor(const char *json, cbor_item_t **out, struct hwg_error *err);
/* Render item as JSON indented by 2 (*out malloc'd, NUL-terminated, no final newline). */
int hwgw_cbor_to_json(const cbor_item_t *item, char **out, struct hwg_error *err);

#endif
