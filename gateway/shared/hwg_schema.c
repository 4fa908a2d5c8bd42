/*
 * hwg_schema.c — see hwg_schema.h.
 */
#include "hwg_schema.h"

#include <string.h>

#include "hwg_cbor.h"

static const char *const type_names[] = {"text", "byte string", "unsigned integer", "boolean"};

static int
value_check(const struct hwg_arg_spec *s, const cbor_item_t *v, struct hwg_error *err)
{
	const uint8_t *p;
	size_t len;
	uint64_t u;

	switch (s->type) {
	case HWG_ARG_TEXT:
		if (!cbor_isa_string(v) || !cbor_string_is_definite(v))
			break;
		len = cbor_string_length(v);
		if (memchr(cbor_string_handle(v), '\0', len) != NULL)
			return hwg_error_set(err, HWG_E_BAD_ARGS, "\"%s\" holds a NUL", s->key);
		if (len < s->min || len > s->max)
			return hwg_error_set(
			    err, HWG_E_BAD_ARGS, "\"%s\" must be %llu to %llu bytes long", s->key,
			    (unsigned long long)s->min, (unsigned long long)s->max);
		return 0;
	case HWG_ARG_BYTES:
		if (hwg_cbor_bytes(v, &p, &len) != 0)
			break;
		if (len < s->min || len > s->max)
			return hwg_error_set(
			    err, HWG_E_BAD_ARGS, "\"%s\" must be %llu to %llu bytes long", s->key,
			    (unsigned long long)s->min, (unsigned long long)s->max);
		return 0;
	case HWG_ARG_UINT:
		if (hwg_cbor_uint(v, &u) != 0)
			break;
		if (u < s->min || u > s->max)
			return hwg_error_set(
			    err, HWG_E_BAD_ARGS, "\"%s\" must be from %llu to %llu", s->key,
			    (unsigned long long)s->min, (unsigned long long)s->max);
		return 0;
	case HWG_ARG_BOOL:
		if (cbor_isa_float_ctrl(v) && cbor_is_bool(v))
			return 0;
		break;
	}
	return hwg_error_set(err, HWG_E_BAD_ARGS, "\"%s\" must be a %s", s->key,
	                     type_names[s->type]);
}

int
hwg_schema_check(const cbor_item_t *args, const struct hwg_arg_spec *spec, size_t n_spec,
                 struct hwg_error *err)
{
	const char *allowed[17];
	char bad[64];

	if (n_spec >= sizeof(allowed) / sizeof(allowed[0]))
		return hwg_error_set(err, HWG_E_INTERNAL, "schema too large");
	for (size_t i = 0; i < n_spec; i++)
		allowed[i] = spec[i].key;
	allowed[n_spec] = NULL;
	if (hwg_cbor_map_keys_check(args, allowed, bad, sizeof(bad)) != 0)
		return hwg_error_set(err, HWG_E_BAD_ARGS,
		                     "argument \"%s\" is unknown or repeated for this operation",
		                     bad);
	for (size_t i = 0; i < n_spec; i++) {
		const cbor_item_t *v = hwg_cbor_map_get(args, spec[i].key, NULL);
		int rc;

		if (v == NULL) {
			if (spec[i].required)
				return hwg_error_set(err, HWG_E_BAD_ARGS,
				                     "argument \"%s\" is required", spec[i].key);
			continue;
		}
		if ((rc = value_check(&spec[i], v, err)) != 0)
			return rc;
	}
	return 0;
}

int
hwg_args_text(const cbor_item_t *args, const char *key, char *out, size_t outlen)
{
	return hwg_cbor_text_copy(hwg_cbor_map_get(args, key, NULL), out, outlen) == 0;
}

int
hwg_args_uint(const cbor_item_t *args, const char *key, uint64_t *out)
{
	return hwg_cbor_uint(hwg_cbor_map_get(args, key, NULL), out) == 0;
}
