/*
 * hwg_buf.c — see hwg_buf.h.
 */
#include "hwg_buf.h"

#include <stdlib.h>
#include <string.h>

#include "hwg_err.h"
#include "hwg_secret.h"

struct hwg_buf {
	uint8_t *data;
	size_t off;   /* first unconsumed byte */
	size_t size;  /* bytes in use, off <= size */
	size_t alloc; /* allocated bytes */
	size_t max;
	int readonly;
};

struct hwg_buf *
hwg_buf_new(size_t max)
{
	struct hwg_buf *b = calloc(1, sizeof(*b));

	if (b != NULL)
		b->max = max;
	return b;
}

struct hwg_buf *
hwg_buf_from(const void *data, size_t len)
{
	struct hwg_buf *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->data = (uint8_t *)(uintptr_t)data;
	b->size = b->alloc = b->max = len;
	b->readonly = 1;
	return b;
}

void
hwg_buf_free(struct hwg_buf *b)
{
	if (b == NULL)
		return;
	if (!b->readonly) {
		hwg_wipe(b->data, b->alloc);
		free(b->data);
	}
	hwg_wipe(b, sizeof(*b));
	free(b);
}

size_t
hwg_buf_len(const struct hwg_buf *b)
{
	return b->size - b->off;
}

const uint8_t *
hwg_buf_ptr(const struct hwg_buf *b)
{
	static const uint8_t empty[1];

	/* a buffer that never held a byte has no storage: NULL + 0 is undefined */
	return b->data != NULL ? b->data + b->off : empty;
}

void
hwg_buf_reset(struct hwg_buf *b)
{
	if (b->readonly) {
		b->off = b->size;
		return;
	}
	hwg_wipe(b->data, b->alloc);
	b->off = b->size = 0;
}

/* Make room for len more bytes; grows by copying so no stale copy survives. */
static int
buf_reserve(struct hwg_buf *b, size_t len)
{
	size_t need, nalloc;
	uint8_t *n;

	if (b->readonly)
		return HWG_E_INVALID;
	if (len > b->max || b->size - b->off > b->max - len)
		return HWG_E_TOO_LARGE;
	if (b->off > 0) { /* compact consumed bytes first */
		memmove(b->data, b->data + b->off, b->size - b->off);
		hwg_wipe(b->data + (b->size - b->off), b->off);
		b->size -= b->off;
		b->off = 0;
	}
	need = b->size + len;
	if (need <= b->alloc)
		return 0;
	nalloc = b->alloc ? b->alloc : 64;
	while (nalloc < need)
		nalloc = nalloc > b->max / 2 ? b->max : nalloc * 2;
	if ((n = malloc(nalloc)) == NULL)
		return HWG_E_NOMEM;
	if (b->data != NULL) {
		memcpy(n, b->data, b->size);
		hwg_wipe(b->data, b->alloc);
		free(b->data);
	}
	b->data = n;
	b->alloc = nalloc;
	return 0;
}

int
hwg_buf_put(struct hwg_buf *b, const void *data, size_t len)
{
	int r;

	if (len == 0)
		return 0;
	if ((r = buf_reserve(b, len)) != 0)
		return r;
	memcpy(b->data + b->size, data, len);
	b->size += len;
	return 0;
}

int
hwg_buf_put_u8(struct hwg_buf *b, uint8_t v)
{
	return hwg_buf_put(b, &v, 1);
}

int
hwg_buf_put_u16be(struct hwg_buf *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	return hwg_buf_put(b, x, sizeof(x));
}

int
hwg_buf_put_u32be(struct hwg_buf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	return hwg_buf_put(b, x, sizeof(x));
}

int
hwg_buf_put_u64be(struct hwg_buf *b, uint64_t v)
{
	int r;

	if ((r = hwg_buf_put_u32be(b, (uint32_t)(v >> 32))) != 0)
		return r;
	return hwg_buf_put_u32be(b, (uint32_t)v);
}

int
hwg_buf_put_string(struct hwg_buf *b, const void *data, size_t len)
{
	int r;

	if (len > UINT32_MAX)
		return HWG_E_TOO_LARGE;
	if ((r = buf_reserve(b, 4 + len)) != 0)
		return r;
	if ((r = hwg_buf_put_u32be(b, (uint32_t)len)) != 0)
		return r;
	return hwg_buf_put(b, data, len);
}

int
hwg_buf_get_view(struct hwg_buf *b, size_t len, const uint8_t **p)
{
	if (hwg_buf_len(b) < len)
		return HWG_E_BAD_ENCODING;
	if (p != NULL)
		*p = hwg_buf_ptr(b);
	b->off += len;
	return 0;
}

int
hwg_buf_skip(struct hwg_buf *b, size_t len)
{
	return hwg_buf_get_view(b, len, NULL);
}

int
hwg_buf_get(struct hwg_buf *b, void *out, size_t len)
{
	const uint8_t *p;
	int r;

	if ((r = hwg_buf_get_view(b, len, &p)) != 0)
		return r;
	memcpy(out, p, len);
	return 0;
}

int
hwg_buf_get_u8(struct hwg_buf *b, uint8_t *v)
{
	return hwg_buf_get(b, v, 1);
}

int
hwg_buf_get_u16be(struct hwg_buf *b, uint16_t *v)
{
	const uint8_t *p;
	int r;

	if ((r = hwg_buf_get_view(b, 2, &p)) != 0)
		return r;
	*v = (uint16_t)((p[0] << 8) | p[1]);
	return 0;
}

int
hwg_buf_get_u32be(struct hwg_buf *b, uint32_t *v)
{
	const uint8_t *p;
	int r;

	if ((r = hwg_buf_get_view(b, 4, &p)) != 0)
		return r;
	*v = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
	return 0;
}

int
hwg_buf_get_u64be(struct hwg_buf *b, uint64_t *v)
{
	uint32_t hi, lo;

	if (hwg_buf_len(b) < 8)
		return HWG_E_BAD_ENCODING;
	hwg_buf_get_u32be(b, &hi);
	hwg_buf_get_u32be(b, &lo);
	*v = ((uint64_t)hi << 32) | lo;
	return 0;
}

int
hwg_buf_get_string_view(struct hwg_buf *b, size_t maxlen, const uint8_t **p, size_t *len)
{
	uint32_t n;
	const uint8_t *d;

	if (hwg_buf_len(b) < 4)
		return HWG_E_BAD_ENCODING;
	n = ((uint32_t)b->data[b->off] << 24) | ((uint32_t)b->data[b->off + 1] << 16) |
	    ((uint32_t)b->data[b->off + 2] << 8) | b->data[b->off + 3];
	if (n > maxlen)
		return HWG_E_TOO_LARGE;
	if (hwg_buf_len(b) - 4 < n)
		return HWG_E_BAD_ENCODING;
	b->off += 4;
	hwg_buf_get_view(b, n, &d);
	*p = d;
	*len = n;
	return 0;
}
