/*
 * hwg_cbor.c — see hwg_cbor.h.
 */
#include "hwg_cbor.h"

#include <stdlib.h>
#include <string.h>

#include "hwg_secret.h"
#include "hwg_text.h"

/* ---------------------------------------------------------------- bounded load */

struct scan {
	const uint8_t *p;
	size_t left;
	int bad_text; /* a text string (or chunk) that is not valid UTF-8 */
};

/* Read one item header: major type, additional info and argument. */
static int
scan_head(struct scan *sc, int *major, int *info, uint64_t *arg)
{
	static const uint8_t extra[4] = {1, 2, 4, 8};
	uint8_t b;

	if (sc->left == 0)
		return -1;
	b = *sc->p++;
	sc->left--;
	*major = b >> 5;
	*info = b & 0x1f;
	*arg = (uint64_t)*info;
	if (*info >= 24 && *info <= 27) {
		size_t n = extra[*info - 24];

		if (sc->left < n)
			return -1;
		*arg = 0;
		for (size_t i = 0; i < n; i++)
			*arg = (*arg << 8) | sc->p[i];
		sc->p += n;
		sc->left -= n;
	} else if (*info >= 28 && *info <= 30) {
		return -1; /* reserved */
	} else if (*info == 31 && (*major == 0 || *major == 1 || *major == 6)) {
		return -1; /* no indefinite integers or tags */
	}
	return 0;
}

static int scan_item(struct scan *sc, int depth);

/* Items up to a break (0xff) for indefinite containers and strings. */
static int
scan_until_break(struct scan *sc, int depth, int string_major)
{
	for (;;) {
		if (sc->left == 0)
			return -1;
		if (*sc->p == 0xff) {
			sc->p++;
			sc->left--;
			return 0;
		}
		if (string_major >= 0 && (*sc->p >> 5) != string_major)
			return -1; /* chunks of an indefinite string are strings of its type */
		if (string_major >= 0 && (*sc->p & 0x1f) == 31)
			return -1;
		if (scan_item(sc, depth) != 0)
			return -1;
	}
}

static int
scan_item(struct scan *sc, int depth)
{
	int major, info;
	uint64_t arg;

	if (depth > HWG_CBOR_DEPTH_MAX || scan_head(sc, &major, &info, &arg) != 0)
		return -1;
	switch (major) {
	case 0:
	case 1:
		return 0;
	case 2:
	case 3:
		if (info == 31)
			return scan_until_break(sc, depth + 1, major);
		if (arg > sc->left)
			return -1;
		/* RFC 8949 §3.1: a text string (each chunk on its own) is UTF-8 */
		if (major == 3 && !hwg_utf8_valid(sc->p, (size_t)arg)) {
			sc->bad_text = 1;
			return -1;
		}
		sc->p += arg;
		sc->left -= (size_t)arg;
		return 0;
	case 4:
	case 5:
		if (info == 31)
			return scan_until_break(sc, depth + 1, -1);
		/* every element takes at least one byte: a longer claim is a lie */
		if (arg > sc->left || (major == 5 && arg > sc->left / 2))
			return -1;
		for (uint64_t i = 0; i < (major == 5 ? 2 * arg : arg); i++)
			if (scan_item(sc, depth + 1) != 0)
				return -1;
		return 0;
	case 6:
		return scan_item(sc, depth + 1);
	default: /* 7: simple values and floats; the argument was the payload */
		return info == 31 ? -1 : 0;
	}
}

cbor_item_t *
hwg_cbor_load(const uint8_t *data, size_t len, const char **why)
{
	struct scan sc = {data, len, 0};
	struct cbor_load_result res;
	cbor_item_t *item;

	if (scan_item(&sc, 0) != 0) {
		if (why != NULL)
			*why = sc.bad_text ? "a text string is not valid UTF-8"
			                   : "not well-formed CBOR (or nested too deep)";
		return NULL;
	}
	if (sc.left != 0) {
		if (why != NULL)
			*why = "trailing bytes after the CBOR item";
		return NULL;
	}
	item = cbor_load(data, len, &res);
	if (item == NULL || res.error.code != CBOR_ERR_NONE || res.read != len) {
		if (item != NULL)
			cbor_decref(&item);
		if (why != NULL)
			*why = "CBOR not accepted by the decoder";
		return NULL;
	}
	return item;
}

/* *slot, a text string: replaced by its escaped form when it is not UTF-8. */
static int
text_to_utf8(cbor_item_t **slot)
{
	cbor_item_t *t = *slot, *fixed;
	size_t n, len;
	char *buf;

	if (!cbor_string_is_definite(t)) {
		cbor_item_t **chunks = cbor_string_chunks_handle(t);

		for (size_t i = 0; i < cbor_string_chunk_count(t); i++)
			if (text_to_utf8(&chunks[i]) != 0)
				return -1;
		return 0;
	}
	n = cbor_string_length(t);
	if (hwg_utf8_valid(cbor_string_handle(t), n))
		return 0;
	if ((buf = malloc(4 * n + 1)) == NULL)
		return -1;
	len = hwg_text_escape_n(buf, 4 * n + 1, cbor_string_handle(t), n, 0);
	fixed = cbor_build_stringn(buf, len);
	free(buf);
	if (fixed == NULL)
		return -1;
	cbor_decref(slot);
	*slot = fixed;
	return 0;
}

static int
texts_in(cbor_item_t **slot, int depth)
{
	cbor_item_t *it = *slot;

	if (depth > HWG_CBOR_DEPTH_MAX)
		return 0;
	if (cbor_isa_string(it))
		return text_to_utf8(slot);
	if (cbor_isa_array(it)) {
		cbor_item_t **items = cbor_array_handle(it);

		for (size_t i = 0; i < cbor_array_size(it); i++)
			if (texts_in(&items[i], depth + 1) != 0)
				return -1;
	} else if (cbor_isa_map(it)) {
		struct cbor_pair *pairs = cbor_map_handle(it);

		for (size_t i = 0; i < cbor_map_size(it); i++)
			if (texts_in(&pairs[i].key, depth + 1) != 0 ||
			    texts_in(&pairs[i].value, depth + 1) != 0)
				return -1;
	}
	return 0;
}

int
hwg_cbor_texts_to_utf8(cbor_item_t *item)
{
	cbor_item_t *slot = item;

	if (item == NULL)
		return 0;
	if (cbor_isa_string(item)) /* the caller holds this item: it cannot be replaced */
		return cbor_string_is_definite(item) &&
		               hwg_utf8_valid(cbor_string_handle(item), cbor_string_length(item))
		           ? 0
		           : -1;
	return texts_in(&slot, 0);
}

int
hwg_cbor_text_eq(const cbor_item_t *item, const char *s)
{
	size_t n = strlen(s);

	return item != NULL && cbor_isa_string(item) && cbor_string_is_definite(item) &&
	       cbor_string_length(item) == n && memcmp(cbor_string_handle(item), s, n) == 0;
}

cbor_item_t *
hwg_cbor_map_get(const cbor_item_t *map, const char *key, int *dup)
{
	cbor_item_t *found = NULL;
	struct cbor_pair *pairs;
	size_t n;

	if (dup != NULL)
		*dup = 0;
	if (map == NULL || !cbor_isa_map(map) || !cbor_map_is_definite(map))
		return NULL;
	pairs = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (size_t i = 0; i < n; i++) {
		if (!hwg_cbor_text_eq(pairs[i].key, key))
			continue;
		if (found != NULL && dup != NULL)
			*dup = 1;
		if (found == NULL)
			found = pairs[i].value;
	}
	return found;
}

int
hwg_cbor_map_keys_check(const cbor_item_t *map, const char *const *allowed, char *bad,
                        size_t badlen)
{
	struct cbor_pair *pairs;
	size_t n;

	if (badlen > 0)
		bad[0] = '\0';
	if (map == NULL || !cbor_isa_map(map) || !cbor_map_is_definite(map))
		return -1;
	pairs = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (size_t i = 0; i < n; i++) {
		const cbor_item_t *k = pairs[i].key;
		int known = 0;

		if (!cbor_isa_string(k) || !cbor_string_is_definite(k))
			return -1;
		for (size_t j = 0; allowed[j] != NULL && !known; j++)
			known = hwg_cbor_text_eq(k, allowed[j]);
		for (size_t j = 0; j < i && known; j++)
			if (cbor_string_length(pairs[j].key) == cbor_string_length(k) &&
			    memcmp(cbor_string_handle(pairs[j].key), cbor_string_handle(k),
			           cbor_string_length(k)) == 0)
				known = 0; /* duplicate */
		if (!known) {
			hwg_cbor_text_copy(k, bad, badlen);
			return -1;
		}
	}
	return 0;
}

int
hwg_cbor_text_copy(const cbor_item_t *item, char *out, size_t outlen)
{
	size_t n;

	if (item == NULL || !cbor_isa_string(item) || !cbor_string_is_definite(item))
		return -1;
	n = cbor_string_length(item);
	if (n >= outlen || memchr(cbor_string_handle(item), '\0', n) != NULL)
		return -1;
	memcpy(out, cbor_string_handle(item), n);
	out[n] = '\0';
	return 0;
}

int
hwg_cbor_bytes(const cbor_item_t *item, const uint8_t **p, size_t *len)
{
	if (item == NULL || !cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item))
		return -1;
	*p = cbor_bytestring_handle(item);
	*len = cbor_bytestring_length(item);
	return 0;
}

int
hwg_cbor_uint(const cbor_item_t *item, uint64_t *out)
{
	if (item == NULL || !cbor_isa_uint(item))
		return -1;
	*out = cbor_get_int(item);
	return 0;
}

int
hwg_cbor_map_put_item(cbor_item_t *map, const char *key, cbor_item_t *value)
{
	cbor_item_t *k;
	int ok;

	if (value == NULL)
		return -1;
	if ((k = cbor_build_string(key)) == NULL) {
		cbor_decref(&value);
		return -1;
	}
	ok = cbor_map_add(map, (struct cbor_pair){.key = k, .value = value});
	cbor_decref(&k);
	cbor_decref(&value);
	return ok ? 0 : -1;
}

int
hwg_cbor_map_put_text(cbor_item_t *map, const char *key, const char *value)
{
	return hwg_cbor_map_put_item(map, key, cbor_build_string(value));
}

int
hwg_cbor_map_put_uint(cbor_item_t *map, const char *key, uint64_t value)
{
	return hwg_cbor_map_put_item(map, key, cbor_build_uint64(value));
}

int
hwg_cbor_map_put_bytes(cbor_item_t *map, const char *key, const uint8_t *p, size_t len)
{
	return hwg_cbor_map_put_item(map, key, cbor_build_bytestring(p, len));
}

int
hwg_cbor_map_put_bool(cbor_item_t *map, const char *key, int value)
{
	return hwg_cbor_map_put_item(map, key, cbor_build_bool(value != 0));
}

void
hwg_cbor_wipe_strings(cbor_item_t *item)
{
	if (item == NULL)
		return;
	switch (cbor_typeof(item)) {
	case CBOR_TYPE_STRING:
		if (cbor_string_is_definite(item) && cbor_string_handle(item) != NULL)
			hwg_wipe(cbor_string_handle(item), cbor_string_length(item));
		break;
	case CBOR_TYPE_BYTESTRING:
		if (cbor_bytestring_is_definite(item) && cbor_bytestring_handle(item) != NULL)
			hwg_wipe(cbor_bytestring_handle(item), cbor_bytestring_length(item));
		break;
	case CBOR_TYPE_ARRAY:
		for (size_t i = 0; i < cbor_array_size(item); i++)
			hwg_cbor_wipe_strings(cbor_array_handle(item)[i]);
		break;
	case CBOR_TYPE_MAP:
		for (size_t i = 0; i < cbor_map_size(item); i++) {
			hwg_cbor_wipe_strings(cbor_map_handle(item)[i].key);
			hwg_cbor_wipe_strings(cbor_map_handle(item)[i].value);
		}
		break;
	case CBOR_TYPE_TAG: {
		cbor_item_t *tagged = cbor_tag_item(item); /* a new reference */

		hwg_cbor_wipe_strings(tagged);
		cbor_decref(&tagged);
		break;
	}
	default:
		break;
	}
}
