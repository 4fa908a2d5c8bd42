/*
 * fuzz_json.c — libFuzzer target for hwgwctl's JSON (client/hwgw_json.c):
 * the arguments a user writes (--args-json, --args-file, any file they
 * point at) turned into the CBOR that gets signed, and results turned
 * back into JSON.  Nothing may crash, leak or read out of bounds.  What
 * is accepted must be a map, and must survive the round trip: the JSON
 * rendered from it parses again to the same CBOR, byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "hwgw_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same_cbor(const cbor_item_t *a, const cbor_item_t *b)
{
	unsigned char *pa = NULL, *pb = NULL;
	size_t ca = 0, cb = 0, la = cbor_serialize_alloc(a, &pa, &ca),
	       lb = cbor_serialize_alloc(b, &pb, &cb);
	int same = la > 0 && la == lb && memcmp(pa, pb, la) == 0;

	free(pa);
	free(pb);
	return same;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hwg_error err = {0};
	cbor_item_t *item = NULL, *again = NULL;
	char *text = malloc(size + 1), *json = NULL;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (hwgw_json_to_cbor(text, &item, &err) == 0) {
		if (item == NULL || !cbor_isa_map(item))
			abort();
		if (hwgw_cbor_to_json(item, &json, &err) != 0 ||
		    hwgw_json_to_cbor(json, &again, &err) != 0 || !same_cbor(item, again))
			abort();
	} else if (err.code != HWG_E_INVALID || item != NULL) {
		abort();
	}
	if (item != NULL)
		cbor_decref(&item);
	if (again != NULL)
		cbor_decref(&again);
	free(json);
	free(text);
	return 0;
}
