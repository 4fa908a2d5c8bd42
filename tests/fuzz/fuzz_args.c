/*
 * fuzz_args.c — libFuzzer target for the argument schemas of every
 * operation (gateway/shared/hwg_optable.c's table, gateway/shared/hwg_schema.c): the input
 * is decoded as CBOR (hwg_cbor_load, as the request parser does) and
 * checked against each operation's schema in turn.  Any item may arrive
 * here, not only maps.  What a schema accepts must keep the promise
 * handlers rely on ("need not re-validate"): only the schema's keys,
 * each at most once, every required one present, and the getters
 * returning each value within its bounds into a buffer of max + 1 bytes;
 * a refusal is HWG_E_BAD_ARGS with a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_optable.h"
#include "hwg_roles.h"
#include "hwg_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TEXT_CAP 256 /* above every text maximum in the table */

static void
check_value(const cbor_item_t *args, const struct hwg_arg_spec *s)
{
	const cbor_item_t *v = hwg_cbor_map_get(args, s->key, NULL);
	char text[TEXT_CAP];
	const uint8_t *p;
	uint64_t u;
	size_t n;

	if (v == NULL) {
		if (s->required || hwg_args_text(args, s->key, text, sizeof(text)) ||
		    hwg_args_uint(args, s->key, &u))
			abort();
		return;
	}
	switch (s->type) {
	case HWG_ARG_TEXT:
		if (s->max + 1 > sizeof(text) ||
		    !hwg_args_text(args, s->key, text, (size_t)s->max + 1) ||
		    strlen(text) < s->min || strlen(text) > s->max ||
		    strlen(text) != cbor_string_length(v))
			abort();
		break;
	case HWG_ARG_UINT:
		if (!hwg_args_uint(args, s->key, &u) || u < s->min || u > s->max)
			abort();
		break;
	case HWG_ARG_BYTES:
		if (hwg_cbor_bytes(v, &p, &n) != 0 || n < s->min || n > s->max)
			abort();
		break;
	case HWG_ARG_BOOL:
		if (!cbor_isa_float_ctrl(v) || !cbor_is_bool(v))
			abort();
		break;
	}
}

static void
check_accepted(const cbor_item_t *args, const struct hwg_op *op)
{
	size_t present = 0;

	if (!cbor_isa_map(args) || !cbor_map_is_definite(args))
		abort();
	for (size_t i = 0; i < op->n_args; i++) {
		int dup = 0;

		if (hwg_cbor_map_get(args, op->args[i].key, &dup) != NULL)
			present++;
		if (dup)
			abort();
		check_value(args, &op->args[i]);
	}
	if (present != cbor_map_size(args)) /* a key the schema does not know */
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cbor_item_t *args = hwg_cbor_load(data, size, NULL);
	const struct hwg_op *op;

	if (args == NULL)
		return 0;
	for (int i = 0; (op = hwg_op_at(i)) != NULL; i++) {
		struct hwg_error err = {0};
		char text[TEXT_CAP];
		uint64_t u;
		int rc = hwg_schema_check(args, op->args, op->n_args, &err);

		if (rc == 0)
			check_accepted(args, op);
		else if (rc != HWG_E_BAD_ARGS || err.message[0] == '\0')
			abort();
		/* the getters take anything, checked or not */
		for (size_t k = 0; k < op->n_args; k++) {
			(void)hwg_args_text(args, op->args[k].key, text, 1 + (size_t)data[0] % 8);
			(void)hwg_args_uint(args, op->args[k].key, &u);
		}
	}
	hwg_cbor_wipe_strings(args);
	cbor_decref(&args);
	return 0;
}
