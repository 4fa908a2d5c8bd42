/*
 * hwgw_json.c — see hwgw_json.h.  Built on jansson.  Errors name where in
 * the document they are (".a[2].b"), so a long --args-json can be fixed
 * without guessing.
 */
#include "hwgw_json.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEX_PREFIX "hex:"
#define HEX_PREFIX_LEN 4

/* Where we are in the document, for messages: ".key[3].other". */
struct where {
	char s[160];
	size_t len;
};

static size_t
where_push_key(struct where *w, const char *key, size_t keylen)
{
	size_t saved = w->len;
	int n = snprintf(w->s + w->len, sizeof(w->s) - w->len, ".%.*s",
	                 (int)(keylen > 64 ? 64 : keylen), key);

	if (n > 0)
		w->len = w->len + (size_t)n < sizeof(w->s) ? w->len + (size_t)n : sizeof(w->s) - 1;
	return saved;
}

static size_t
where_push_index(struct where *w, size_t i)
{
	size_t saved = w->len;
	int n = snprintf(w->s + w->len, sizeof(w->s) - w->len, "[%zu]", i);

	if (n > 0)
		w->len = w->len + (size_t)n < sizeof(w->s) ? w->len + (size_t)n : sizeof(w->s) - 1;
	return saved;
}

static void
where_pop(struct where *w, size_t saved)
{
	w->len = saved;
	w->s[saved] = '\0';
}

/* ---------------------------------------------------------------- JSON -> CBOR */

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
hex_bytes(const char *hex, size_t n, const struct where *w, struct hwg_error *err)
{
	unsigned char *buf;
	cbor_item_t *b;

	if (n % 2 != 0) {
		hwg_error_set(err, HWG_E_INVALID, "args%s: \"hex:\" string of odd length", w->s);
		return NULL;
	}
	if ((buf = malloc(n / 2 + 1)) == NULL) {
		hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval((unsigned char)hex[2 * i]),
		    lo = hexval((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(buf);
			hwg_error_set(err, HWG_E_INVALID,
			              "args%s: \"hex:\" string holds a non-hex character", w->s);
			return NULL;
		}
		buf[i] = (unsigned char)(hi << 4 | lo);
	}
	b = cbor_build_bytestring(buf, n / 2);
	free(buf);
	if (b == NULL)
		hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	return b;
}

static cbor_item_t *from_json(json_t *j, int depth, struct where *w, struct hwg_error *err);

static cbor_item_t *
object_from_json(json_t *j, int depth, struct where *w, struct hwg_error *err)
{
	cbor_item_t *out = cbor_new_definite_map(json_object_size(j));
	const char *k;
	size_t klen;
	json_t *v;

	if (out == NULL) {
		hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		return NULL;
	}
	json_object_keylen_foreach(j, k, klen, v)
	{
		size_t saved = where_push_key(w, k, klen);
		cbor_item_t *cv = from_json(v, depth, w, err), *ck;
		int ok;

		where_pop(w, saved);
		if (cv == NULL) {
			cbor_decref(&out);
			return NULL;
		}
		ck = cbor_build_stringn(k, klen);
		ok = ck != NULL && cbor_map_add(out, (struct cbor_pair){.key = ck, .value = cv});
		cbor_decref(&cv);
		if (ck != NULL)
			cbor_decref(&ck);
		if (!ok) {
			cbor_decref(&out);
			hwg_error_set(err, HWG_E_NOMEM, "out of memory");
			return NULL;
		}
	}
	return out;
}

static cbor_item_t *
array_from_json(json_t *j, int depth, struct where *w, struct hwg_error *err)
{
	cbor_item_t *out = cbor_new_definite_array(json_array_size(j));
	size_t i;
	json_t *v;

	if (out == NULL) {
		hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		return NULL;
	}
	json_array_foreach(j, i, v)
	{
		size_t saved = where_push_index(w, i);
		cbor_item_t *cv = from_json(v, depth, w, err);
		int ok;

		where_pop(w, saved);
		if (cv == NULL) {
			cbor_decref(&out);
			return NULL;
		}
		ok = cbor_array_push(out, cv);
		cbor_decref(&cv);
		if (!ok) {
			cbor_decref(&out);
			hwg_error_set(err, HWG_E_NOMEM, "out of memory");
			return NULL;
		}
	}
	return out;
}

/* depth: containers around j. */
static cbor_item_t *
from_json(json_t *j, int depth, struct where *w, struct hwg_error *err)
{
	cbor_item_t *out = NULL;
	json_int_t i;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
		if (depth + 1 > HWGW_JSON_DEPTH_MAX) {
			hwg_error_set(err, HWG_E_INVALID, "args%s: nested deeper than %d", w->s,
			              HWGW_JSON_DEPTH_MAX);
			return NULL;
		}
		return json_is_object(j) ? object_from_json(j, depth + 1, w, err)
		                         : array_from_json(j, depth + 1, w, err);
	case JSON_STRING:
		if (json_string_length(j) >= HEX_PREFIX_LEN &&
		    memcmp(json_string_value(j), HEX_PREFIX, HEX_PREFIX_LEN) == 0)
			return hex_bytes(json_string_value(j) + HEX_PREFIX_LEN,
			                 json_string_length(j) - HEX_PREFIX_LEN, w, err);
		out = cbor_build_stringn(json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		i = json_integer_value(j);
		out = i >= 0 ? cbor_build_uint64((uint64_t)i)
		             : cbor_build_negint64((uint64_t)(-1 - i));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		out = cbor_build_bool(json_is_true(j));
		break;
	case JSON_NULL:
		out = cbor_new_null();
		break;
	case JSON_REAL:
		hwg_error_set(err, HWG_E_INVALID,
		              "args%s: real numbers are not accepted (use an integer or a string)",
		              w->s);
		return NULL;
	}
	if (out == NULL)
		hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	return out;
}

int
hwgw_json_to_cbor(const char *json, cbor_item_t **out, struct hwg_error *err)
{
	struct hwg_error e = {0};
	struct where w = {"", 0};
	json_error_t je;
	json_t *j;
	cbor_item_t *c;

	if (json == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no JSON given");
	if ((j = json_loads(json, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "JSON: %s (line %d, column %d)", je.text,
		                     je.line, je.column);
	if (!json_is_object(j)) {
		json_decref(j);
		return hwg_error_set(err, HWG_E_INVALID, "arguments must be a JSON object");
	}
	c = from_json(j, 0, &w, &e);
	json_decref(j);
	if (c == NULL)
		return hwg_error_set(err, e.code != 0 ? e.code : HWG_E_NOMEM, "%s",
		                     e.code != 0 ? e.message : "out of memory");
	*out = c;
	return 0;
}

/* ---------------------------------------------------------------- CBOR -> JSON */

/* The bytes of a definite or chunked string, copied (*out malloc'd). */
static int
string_bytes(const cbor_item_t *c, uint8_t **out, size_t *len)
{
	int text = cbor_isa_string(c);
	int definite = text ? cbor_string_is_definite(c) : cbor_bytestring_is_definite(c);
	size_t nchunks = definite ? 1
	                 : text   ? cbor_string_chunk_count(c)
	                          : cbor_bytestring_chunk_count(c);
	cbor_item_t **chunks = definite ? NULL
	                       : text   ? cbor_string_chunks_handle(c)
	                                : cbor_bytestring_chunks_handle(c);
	size_t total = 0;
	uint8_t *p;

	for (size_t i = 0; i < nchunks; i++) {
		const cbor_item_t *ch = definite ? c : chunks[i];

		total += text ? cbor_string_length(ch) : cbor_bytestring_length(ch);
	}
	if ((p = malloc(total + 1)) == NULL)
		return -1;
	total = 0;
	for (size_t i = 0; i < nchunks; i++) {
		const cbor_item_t *ch = definite ? c : chunks[i];
		size_t n = text ? cbor_string_length(ch) : cbor_bytestring_length(ch);

		if (n > 0)
			memcpy(p + total,
			       text ? cbor_string_handle(ch) : cbor_bytestring_handle(ch), n);
		total += n;
	}
	p[total] = '\0';
	*out = p;
	*len = total;
	return 0;
}

static json_t *
bytes_json(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(HEX_PREFIX_LEN + 2 * n + 1);
	json_t *j;

	if (s == NULL)
		return NULL;
	memcpy(s, HEX_PREFIX, HEX_PREFIX_LEN);
	for (size_t i = 0; i < n; i++) {
		s[HEX_PREFIX_LEN + 2 * i] = digits[p[i] >> 4];
		s[HEX_PREFIX_LEN + 2 * i + 1] = digits[p[i] & 0x0f];
	}
	s[HEX_PREFIX_LEN + 2 * n] = '\0';
	j = json_stringn(s, HEX_PREFIX_LEN + 2 * n);
	free(s);
	return j;
}

static json_t *to_json(const cbor_item_t *c, int depth, struct where *w, struct hwg_error *err);

static json_t *
string_json(const cbor_item_t *c, const struct where *w, struct hwg_error *err)
{
	uint8_t *p;
	size_t n;
	json_t *j;

	if (string_bytes(c, &p, &n) != 0) {
		hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		return NULL;
	}
	j = cbor_isa_string(c) ? json_stringn((const char *)p, n) : bytes_json(p, n);
	free(p);
	if (j == NULL)
		hwg_error_set(err, HWG_E_INVALID, "result%s: text is not valid UTF-8", w->s);
	return j;
}

/* Integers beyond what JSON readers keep exactly are written as decimal strings. */
static json_t *
int_json(const cbor_item_t *c)
{
	uint64_t v = cbor_get_int(c);
	char buf[32];

	if (v <= INT64_MAX)
		return json_integer(cbor_isa_uint(c) ? (json_int_t)v : -1 - (json_int_t)v);
	if (cbor_isa_uint(c))
		snprintf(buf, sizeof(buf), "%" PRIu64, v);
	else if (v == UINT64_MAX)
		snprintf(buf, sizeof(buf), "-18446744073709551616");
	else
		snprintf(buf, sizeof(buf), "-%" PRIu64, v + 1);
	return json_string(buf);
}

/* Floats and simple values (libcbor 0.8's cbor_is_bool asserts on a float: ask the width first). */
static json_t *
simple_json(const cbor_item_t *c)
{
	double d;
	char buf[32];

	if (cbor_float_ctrl_is_ctrl(c)) {
		if (cbor_is_bool(c))
			return json_boolean(cbor_get_bool(c));
		if (cbor_is_null(c) || cbor_is_undef(c))
			return json_null();
		snprintf(buf, sizeof(buf), "simple(%u)", (unsigned)cbor_ctrl_value(c));
		return json_string(buf);
	}
	d = cbor_float_get_float(c);
	if (isnan(d))
		return json_string("NaN");
	if (isinf(d))
		return json_string(d > 0 ? "Infinity" : "-Infinity");
	return json_real(d);
}

/* A map key as a JSON object key: text as is, anything else as its JSON rendering. */
static char *
key_string(const cbor_item_t *k, int depth, struct where *w, size_t *len, struct hwg_error *err)
{
	json_t *j;
	char *s;

	if (cbor_isa_string(k)) {
		uint8_t *p;

		if (string_bytes(k, &p, len) != 0) {
			hwg_error_set(err, HWG_E_NOMEM, "out of memory");
			return NULL;
		}
		return (char *)p;
	}
	if ((j = to_json(k, depth, w, err)) == NULL)
		return NULL;
	if (json_is_string(j)) {
		*len = json_string_length(j);
		s = malloc(*len + 1);
		if (s != NULL)
			memcpy(s, json_string_value(j), *len + 1);
	} else {
		s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		*len = s != NULL ? strlen(s) : 0;
	}
	json_decref(j);
	if (s == NULL)
		hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	return s;
}

static json_t *
map_json(const cbor_item_t *c, int depth, struct where *w, struct hwg_error *err)
{
	json_t *j = json_object();
	struct cbor_pair *pairs = cbor_map_handle(c);

	if (j == NULL) {
		hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < cbor_map_size(c); i++) {
		size_t klen = 0, saved;
		char *key = key_string(pairs[i].key, depth, w, &klen, err);
		json_t *v = NULL;

		if (key == NULL)
			goto fail;
		saved = where_push_key(w, key, klen);
		if (json_object_getn(j, key, klen) != NULL) {
			hwg_error_set(err, HWG_E_INVALID, "result%s: map key repeated", w->s);
		} else if ((v = to_json(pairs[i].value, depth, w, err)) != NULL &&
		           json_object_setn_new(j, key, klen, v) != 0) {
			/* setn_new consumed v */
			v = NULL;
			hwg_error_set(err, HWG_E_INVALID, "result%s: key is not valid UTF-8", w->s);
		}
		where_pop(w, saved);
		free(key);
		if (v == NULL)
			goto fail;
	}
	return j;
fail:
	json_decref(j);
	return NULL;
}

static json_t *
array_json(const cbor_item_t *c, int depth, struct where *w, struct hwg_error *err)
{
	json_t *j = json_array();

	if (j == NULL) {
		hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < cbor_array_size(c); i++) {
		size_t saved = where_push_index(w, i);
		json_t *v = to_json(cbor_array_handle(c)[i], depth, w, err);

		where_pop(w, saved);
		if (v == NULL || json_array_append_new(j, v) != 0) {
			if (v != NULL)
				hwg_error_set(err, HWG_E_NOMEM, "out of memory");
			json_decref(j);
			return NULL;
		}
	}
	return j;
}

/* depth: containers (and tags) around c. */
static json_t *
to_json(const cbor_item_t *c, int depth, struct where *w, struct hwg_error *err)
{
	json_t *j = NULL;
	cbor_item_t *inner;

	switch (cbor_typeof(c)) {
	case CBOR_TYPE_ARRAY:
	case CBOR_TYPE_MAP:
	case CBOR_TYPE_TAG:
		if (depth + 1 > HWGW_JSON_DEPTH_MAX) {
			hwg_error_set(err, HWG_E_INVALID, "result%s: nested deeper than %d", w->s,
			              HWGW_JSON_DEPTH_MAX);
			return NULL;
		}
		if (cbor_isa_array(c))
			return array_json(c, depth + 1, w, err);
		if (cbor_isa_map(c))
			return map_json(c, depth + 1, w, err);
		inner = cbor_tag_item(c);
		j = to_json(inner, depth + 1, w, err);
		cbor_decref(&inner);
		return j;
	case CBOR_TYPE_UINT:
	case CBOR_TYPE_NEGINT:
		j = int_json(c);
		break;
	case CBOR_TYPE_BYTESTRING:
	case CBOR_TYPE_STRING:
		return string_json(c, w, err);
	case CBOR_TYPE_FLOAT_CTRL:
		j = simple_json(c);
		break;
	}
	if (j == NULL)
		hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	return j;
}

int
hwgw_cbor_to_json(const cbor_item_t *item, char **out, struct hwg_error *err)
{
	struct hwg_error e = {0};
	struct where w = {"", 0};
	json_t *j;
	char *s;

	if (item == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no result to render");
	if ((j = to_json(item, 0, &w, &e)) == NULL)
		return hwg_error_set(err, e.code != 0 ? e.code : HWG_E_NOMEM, "%s",
		                     e.code != 0 ? e.message : "out of memory");
	s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	json_decref(j);
	if (s == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	*out = s;
	return 0;
}
