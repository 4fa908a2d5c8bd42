/*
 * hwg_schema.h — operation argument schemas (the "args" maps of api.cddl).
 *
 * Each operation declares its arguments as a small table; one checker
 * applies it, so that every operation refuses unknown keys, missing
 * required keys, wrong types and out-of-range sizes the same way, before
 * any handler runs.  After the check, handlers read values with the
 * getters and need not re-validate.
 */
#ifndef HWG_SCHEMA_H
#define HWG_SCHEMA_H

#include <cbor.h>
#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

enum hwg_arg_type { HWG_ARG_TEXT, HWG_ARG_BYTES, HWG_ARG_UINT, HWG_ARG_BOOL };

struct hwg_arg_spec {
	const char *key;
	enum hwg_arg_type type;
	int required;
	uint64_t min; /* length (text, bytes) or value (uint) */
	uint64_t max;
};

/* HWG_E_BAD_ARGS naming the key and what was expected. */
int hwg_schema_check(const cbor_item_t *args, const struct hwg_arg_spec *spec, size_t n_spec,
                     struct hwg_error *err);

/* Getters for checked args: 1 if present (value stored), 0 if absent. */
int hwg_args_text(const cbor_item_t *args, const char *key, char *out, size_t outlen);
int hwg_args_uint(const cbor_item_t *args, const char *key, uint64_t *out);

#endif
