/*
 * hwgw_json.c — see hwgw_json.h.  Built on jansson; reals are refused
 * because nothing in the API takes them and a silent rounding would.
 */
#include "hwgw_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH_MAX 32

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static cbor_item_t *
hex_bytes(const char *hex, struct hwg_error *err)
{
	size_t n = strlen(hex);
	unsigned char *buf;
	cbor_item_t *b;

	if (n % 2 != 0) {
		hwg_error_set(err, HWG_E_INVALID, "hex string of odd length");
		return NULL;
	}
	if ((buf = malloc(n / 2 + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(buf);
			hwg_error_set(err, HWG_E_INVALID, "\"hex:\" string holds a non-hex digit");
			return NULL;
		}
		buf[i] = (unsigned char)(hi << 4 | lo);
	}
	b = cbor_build_bytestring(buf, n / 2);
	free(buf);
	return b;
}

static cbor_item_t *
from_json(json_t *j, int depth, struct hwg_error *err)
{
	cbor_item_t *out = NULL;

	if (depth > DEPTH_MAX) {
		hwg_error_set(err, HWG_E_INVALID, "JSON nested deeper than %d", DEPTH_MAX);
		return NULL;
	}
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *v;

		if ((out = cbor_new_definite_map(json_object_size(j))) == NULL)
			return NULL;
		json_object_foreach(j, k, v) {
			cbor_item_t *cv = from_json(v, depth + 1, err), *ck = cbor_build_string(k);
			int ok = cv != NULL && ck != NULL &&
				 cbor_map_add(out, (struct cbor_pair){ck, cv});
			if (cv != NULL)
				cbor_decref(&cv);
			if (ck != NULL)
				cbor_decref(&ck);
			if (!ok) {
				cbor_decref(&out);
				return NULL;
			}
		}
		return out;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *v;

		if ((out = cbor_new_definite_array(json_array_size(j))) == NULL)
			return NULL;
		json_array_foreach(j, i, v) {
			cbor_item_t *cv = from_json(v, depth + 1, err);
			int ok = cv != NULL && cbor_array_push(out, cv);
			if (cv != NULL)
				cbor_decref(&cv);
			if (!ok) {
				cbor_decref(&out);
				return NULL;
			}
		}
		return out;
	}
	case JSON_STRING:
		if (strncmp(json_string_value(j), "hex:", 4) == 0)
			return hex_bytes(json_string_value(j) + 4, err);
		return cbor_build_stringn(json_string_value(j), json_string_length(j));
	case JSON_INTEGER:
		if (json_integer_value(j) >= 0)
			return cbor_build_uint64((uint64_t)json_integer_value(j));
		out = cbor_build_negint64((uint64_t)(-1 - json_integer_value(j)));
		return out;
	case JSON_TRUE:
		return cbor_build_bool(true);
	case JSON_FALSE:
		return cbor_build_bool(false);
	case JSON_NULL:
		return cbor_new_null();
	case JSON_REAL:
		hwg_error_set(err, HWG_E_INVALID, "real numbers are not accepted");
		return NULL;
	}
	return NULL;
}

int
hwgw_json_to_cbor(const char *json, cbor_item_t **out, struct hwg_error *err)
{
	json_error_t je;
	json_t *j = json_loads(json, JSON_REJECT_DUPLICATES, &je);
	cbor_item_t *c;

	hwg_error_clear(err);
	if (j == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "JSON: %s (line %d, column %d)", je.text,
				     je.line, je.column);
	if (!json_is_object(j)) {
		json_decref(j);
		return hwg_error_set(err, HWG_E_INVALID, "arguments must be a JSON object");
	}
	c = from_json(j, 0, err);
	json_decref(j);
	if (c == NULL)
		return err != NULL && err->code != 0 ? err->code
						     : hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	*out = c;
	return 0;
}

static json_t *
bytes_json(const uint8_t *p, size_t n)
{
	char *s = malloc(4 + 2 * n + 1);
	json_t *j;

	if (s == NULL)
		return NULL;
	memcpy(s, "hex:", 4);
	for (size_t i = 0; i < n; i++)
		snprintf(s + 4 + 2 * i, 3, "%02x", p[i]);
	j = json_string(s);
	free(s);
	return j;
}

static json_t *
to_json(const cbor_item_t *c, int depth)
{
	json_t *j = NULL;

	if (depth > DEPTH_MAX)
		return NULL;
	switch (cbor_typeof(c)) {
	case CBOR_TYPE_UINT:
		return json_integer((json_int_t)cbor_get_int(c));
	case CBOR_TYPE_NEGINT:
		return json_integer(-1 - (json_int_t)cbor_get_int(c));
	case CBOR_TYPE_BYTESTRING:
		return cbor_bytestring_is_definite(c)
			       ? bytes_json(cbor_bytestring_handle(c), cbor_bytestring_length(c))
			       : NULL;
	case CBOR_TYPE_STRING:
		return cbor_string_is_definite(c)
			       ? json_stringn((const char *)cbor_string_handle(c),
					      cbor_string_length(c))
			       : NULL;
	case CBOR_TYPE_ARRAY:
		j = json_array();
		for (size_t i = 0; j != NULL && i < cbor_array_size(c); i++) {
			json_t *v = to_json(cbor_array_handle(c)[i], depth + 1);
			if (v == NULL || json_array_append_new(j, v) != 0) {
				json_decref(j);
				return NULL;
			}
		}
		return j;
	case CBOR_TYPE_MAP:
		j = json_object();
		for (size_t i = 0; j != NULL && i < cbor_map_size(c); i++) {
			const cbor_item_t *k = cbor_map_handle(c)[i].key;
			json_t *v = to_json(cbor_map_handle(c)[i].value, depth + 1);
			char key[256];

			if (cbor_isa_string(k) && cbor_string_is_definite(k) &&
			    cbor_string_length(k) < sizeof(key)) {
				memcpy(key, cbor_string_handle(k), cbor_string_length(k));
				key[cbor_string_length(k)] = '\0';
			} else if (cbor_isa_uint(k)) {
				snprintf(key, sizeof(key), "%llu",
					 (unsigned long long)cbor_get_int(k));
			} else {
				snprintf(key, sizeof(key), "?%zu", i);
			}
			if (v == NULL || json_object_set_new(j, key, v) != 0) {
				json_decref(j);
				return NULL;
			}
		}
		return j;
	case CBOR_TYPE_TAG:
		return to_json(cbor_move(cbor_tag_item(c)), depth + 1);
	case CBOR_TYPE_FLOAT_CTRL:
		if (cbor_is_bool(c))
			return json_boolean(cbor_get_bool(c));
		if (cbor_is_null(c) || cbor_is_undef(c))
			return json_null();
		return json_real(cbor_float_get_float(c));
	}
	return NULL;
}

int
hwgw_cbor_to_json(const cbor_item_t *item, char **out, struct hwg_error *err)
{
	json_t *j = to_json(item, 0);
	char *s;

	if (j == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "result cannot be shown as JSON");
	s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	json_decref(j);
	if (s == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	*out = s;
	return 0;
}
