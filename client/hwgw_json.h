/*
 * hwgw_json.h — JSON <-> CBOR for hwgwctl, so people and scripts can
 * write arguments and read results as JSON.  Byte strings travel as
 * "hex:<hex digits>" strings.  Depth is limited to 32 both ways.
 */
#ifndef HWGW_JSON_H
#define HWGW_JSON_H

#include <cbor.h>

#include "hwg_err.h"

/* Parse a JSON object into a CBOR map (*out owned by the caller). */
int hwgw_json_to_cbor(const char *json, cbor_item_t **out, struct hwg_error *err);
/* Render item as indented JSON (*out malloc'd, NUL-terminated). */
int hwgw_cbor_to_json(const cbor_item_t *item, char **out, struct hwg_error *err);

#endif
