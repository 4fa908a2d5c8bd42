/*
 * reg_cbor.c — see reg_cbor.h.
 */
#include <stdlib.h>
#include <string.h>

#include "reg_cbor.h"

static void
put(struct reg_cbor *w, const void *p, size_t n)
{
	if (w->rc == 0)
		w->rc = hwg_buf_put(w->b, p, n);
}

static void
head(struct reg_cbor *w, uint8_t major, uint64_t v)
{
	uint8_t h[9];
	size_t n;

	major <<= 5;
	if (v < 24) {
		h[0] = major | (uint8_t)v, n = 1;
	} else if (v <= 0xff) {
		h[0] = major | 24, h[1] = (uint8_t)v, n = 2;
	} else if (v <= 0xffff) {
		h[0] = major | 25, n = 3;
	} else if (v <= 0xffffffffu) {
		h[0] = major | 26, n = 5;
	} else {
		h[0] = major | 27, n = 9;
	}
	for (size_t i = 1; n > 2 && i < n; i++)
		h[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	put(w, h, n);
}

void
reg_cbor_uint(struct reg_cbor *w, uint64_t v)
{
	head(w, 0, v);
}

void
reg_cbor_bytes(struct reg_cbor *w, const uint8_t *p, size_t n)
{
	head(w, 2, n);
	put(w, p, n);
}

void
reg_cbor_text(struct reg_cbor *w, const char *s)
{
	size_t n = strlen(s);

	head(w, 3, n);
	put(w, s, n);
}

void
reg_cbor_array(struct reg_cbor *w, size_t n)
{
	head(w, 4, n);
}

void
reg_cbor_map(struct reg_cbor *w, size_t n)
{
	head(w, 5, n);
}

void
reg_cbor_bool(struct reg_cbor *w, int v)
{
	uint8_t b = v ? 0xf5 : 0xf4;

	put(w, &b, 1);
}

void
reg_cbor_raw(struct reg_cbor *w, const uint8_t *p, size_t n)
{
	put(w, p, n);
}

static int
key_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t lx = strlen(x), ly = strlen(y);

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return memcmp(x, y, lx);
}

void
reg_cbor_sort_keys(const char **keys, size_t n)
{
	qsort(keys, n, sizeof(*keys), key_cmp);
}
