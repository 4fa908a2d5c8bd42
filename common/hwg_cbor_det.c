/*
 * hwg_cbor_det.c — deterministic CBOR encoding (see hwg_cbor_det.h).
 * Written through hwg_buf, whose maximum bounds the output; a map's
 * pairs are encoded one by one and then written in the order of their
 * keys' encodings.
 */
#include "hwg_cbor_det.h"

#include <stdlib.h>
#include <string.h>

#include "hwg_buf.h"
#include "hwg_cbor.h"
#include "hwg_err.h"

static int encode(struct hwg_buf *b, size_t max, const cbor_item_t *it, int depth);

/* The shortest head for arg (RFC 8949 §4.2.1). */
static int
head(struct hwg_buf *b, int major, uint64_t arg)
{
	uint8_t mt = (uint8_t)(major << 5);

	if (arg < 24)
		return hwg_buf_put_u8(b, (uint8_t)(mt | arg));
	if (arg <= UINT8_MAX)
		return hwg_buf_put_u8(b, mt | 24) | hwg_buf_put_u8(b, (uint8_t)arg);
	if (arg <= UINT16_MAX)
		return hwg_buf_put_u8(b, mt | 25) | hwg_buf_put_u16be(b, (uint16_t)arg);
	if (arg <= UINT32_MAX)
		return hwg_buf_put_u8(b, mt | 26) | hwg_buf_put_u32be(b, (uint32_t)arg);
	return hwg_buf_put_u8(b, mt | 27) | hwg_buf_put_u64be(b, arg);
}

/* A failed put is over the maximum (hwg_buf_put's only failure on a writable buffer). */
static int
put(int r)
{
	return r != 0 ? HWG_E_TOO_LARGE : 0;
}

struct pair {
	uint8_t *key; /* the key's encoding */
	size_t key_len;
	const cbor_item_t *value;
};

static int
pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

static void
pairs_free(struct pair *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].key);
	free(v);
}

/* Each key encoded on its own (a key is at most max bytes as well). */
static int
pairs_encode(const cbor_item_t *map, size_t max, int depth, struct pair *v)
{
	struct cbor_pair *pairs = cbor_map_handle(map);
	size_t n = cbor_map_size(map);
	struct hwg_buf *kb;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (pairs[i].key == NULL || pairs[i].value == NULL)
			return HWG_E_INVALID;
		if ((kb = hwg_buf_new(max)) == NULL)
			return HWG_E_NOMEM;
		rc = encode(kb, max, pairs[i].key, depth + 1);
		v[i].key_len = hwg_buf_len(kb);
		v[i].value = pairs[i].value;
		if (rc == 0 && (v[i].key = malloc(v[i].key_len ? v[i].key_len : 1)) == NULL)
			rc = HWG_E_NOMEM;
		if (rc == 0)
			memcpy(v[i].key, hwg_buf_ptr(kb), v[i].key_len);
		hwg_buf_free(kb);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
encode_map(struct hwg_buf *b, size_t max, const cbor_item_t *map, int depth)
{
	size_t n = cbor_map_size(map);
	struct pair *v;
	int rc;

	if (!cbor_map_is_definite(map))
		return HWG_E_INVALID;
	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL)
		return HWG_E_NOMEM;
	rc = pairs_encode(map, max, depth, v);
	if (rc == 0) {
		qsort(v, n, sizeof(*v), pair_cmp);
		for (size_t i = 1; i < n && rc == 0; i++)
			if (pair_cmp(&v[i - 1], &v[i]) == 0)
				rc = HWG_E_INVALID; /* a key twice */
	}
	if (rc == 0)
		rc = put(head(b, 5, n));
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((rc = put(hwg_buf_put(b, v[i].key, v[i].key_len))) == 0)
			rc = encode(b, max, v[i].value, depth + 1);
	pairs_free(v, n);
	return rc;
}

static int
encode_simple(struct hwg_buf *b, const cbor_item_t *it)
{
	if (cbor_float_get_width(it) != CBOR_FLOAT_0)
		return HWG_E_INVALID; /* floats */
	switch (cbor_ctrl_value(it)) {
	case CBOR_CTRL_FALSE:
	case CBOR_CTRL_TRUE:
	case CBOR_CTRL_NULL:
		return put(head(b, 7, cbor_ctrl_value(it)));
	default:
		return HWG_E_INVALID; /* undefined, other simple values */
	}
}

static int
encode(struct hwg_buf *b, size_t max, const cbor_item_t *it, int depth)
{
	int rc;

	if (depth > HWG_CBOR_DEPTH_MAX)
		return HWG_E_INVALID;
	switch (cbor_typeof(it)) {
	case CBOR_TYPE_UINT:
		return put(head(b, 0, cbor_get_int(it)));
	case CBOR_TYPE_NEGINT:
		return put(head(b, 1, cbor_get_int(it)));
	case CBOR_TYPE_BYTESTRING:
		if (!cbor_bytestring_is_definite(it))
			return HWG_E_INVALID;
		return put(head(b, 2, cbor_bytestring_length(it)) |
		           hwg_buf_put(b, cbor_bytestring_handle(it), cbor_bytestring_length(it)));
	case CBOR_TYPE_STRING:
		if (!cbor_string_is_definite(it))
			return HWG_E_INVALID;
		return put(head(b, 3, cbor_string_length(it)) |
		           hwg_buf_put(b, cbor_string_handle(it), cbor_string_length(it)));
	case CBOR_TYPE_ARRAY:
		if (!cbor_array_is_definite(it))
			return HWG_E_INVALID;
		if ((rc = put(head(b, 4, cbor_array_size(it)))) != 0)
			return rc;
		for (size_t i = 0; i < cbor_array_size(it); i++) {
			const cbor_item_t *e = cbor_array_handle(it)[i];

			if (e == NULL)
				return HWG_E_INVALID;
			if ((rc = encode(b, max, e, depth + 1)) != 0)
				return rc;
		}
		return 0;
	case CBOR_TYPE_MAP:
		return encode_map(b, max, it, depth);
	case CBOR_TYPE_FLOAT_CTRL:
		return encode_simple(b, it);
	default:
		return HWG_E_INVALID; /* tags */
	}
}

int
hwg_cbor_det_encode(const cbor_item_t *item, size_t max, uint8_t **out, size_t *len)
{
	struct hwg_buf *b;
	uint8_t *p;
	int rc;

	if (item == NULL || out == NULL || len == NULL)
		return HWG_E_INVALID;
	if ((b = hwg_buf_new(max)) == NULL)
		return HWG_E_NOMEM;
	if ((rc = encode(b, max, item, 1)) == 0) {
		if ((p = malloc(hwg_buf_len(b) ? hwg_buf_len(b) : 1)) == NULL) {
			rc = HWG_E_NOMEM;
		} else {
			memcpy(p, hwg_buf_ptr(b), hwg_buf_len(b));
			*out = p;
			*len = hwg_buf_len(b);
		}
	}
	hwg_buf_free(b);
	return rc;
}

int
hwg_cbor_det_is(const cbor_item_t *item, const uint8_t *p, size_t len)
{
	uint8_t *enc = NULL;
	size_t n = 0;
	int same;

	if (p == NULL || hwg_cbor_det_encode(item, len, &enc, &n) != 0)
		return 0;
	same = n == len && memcmp(enc, p, len) == 0;
	free(enc);
	return same;
}
