/*
 * hwg_gaiji.c — see hwg_gaiji.h.  The table is an array over the whole
 * private-use block (6,400 entries), so a lookup is an index.
 */
#include "hwg_gaiji.h"

#include <stdlib.h>
#include <string.h>

#include "hwg_file.h"
#include "hwg_text.h"

#define ENTRIES (HWG_GAIJI_LAST - HWG_GAIJI_FIRST + 1)

struct hwg_gaiji {
	struct hwg_gaiji_entry e[ENTRIES];
	size_t count;
};

int
hwg_gaiji_private(uint32_t cp)
{
	return cp >= HWG_GAIJI_FIRST && cp <= HWG_GAIJI_LAST;
}

size_t
hwg_gaiji_next_char(const char *s, size_t n, uint32_t *cp)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t len;
	uint32_t v;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, v = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, v = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, v = p[0] & 0x07;
	else
		return 0;
	if (len > n || !hwg_utf8_valid(p, len))
		return 0;
	for (size_t i = 1; i < len; i++)
		v = (v << 6) | (p[i] & 0x3f);
	*cp = v;
	return len;
}

static int
hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
line_bad(struct hwg_error *err, size_t line, const char *why)
{
	return hwg_error_set(err, HWG_E_CONFIG, "glyph table line %zu: %s", line, why);
}

/* The part after "XXXX ": 64 hex digits, or '=' and one character. */
static int
parse_glyph(const char *s, size_t n, struct hwg_gaiji_entry *e, size_t line, struct hwg_error *err)
{
	uint32_t cp;
	size_t k;

	if (n > 0 && s[0] == '=') {
		if ((k = hwg_gaiji_next_char(s + 1, n - 1, &cp)) == 0 || k != n - 1)
			return line_bad(err, line, "'=' is not followed by exactly one character");
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || hwg_gaiji_private(cp))
			return line_bad(err, line,
			                "a substitute is neither a control nor private-use");
		e->kind = HWG_GAIJI_SUBSTITUTE;
		memcpy(e->substitute, s + 1, k);
		e->substitute[k] = '\0';
		e->substitute_cp = cp;
		return 0;
	}
	if (n != 2 * HWG_GAIJI_BITMAP_LEN)
		return line_bad(err, line, "a bitmap is 64 hex digits (16 rows of 16 pixels)");
	for (size_t i = 0; i < HWG_GAIJI_BITMAP_LEN; i++) {
		int hi = hex(s[2 * i]), lo = hex(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return line_bad(err, line,
			                "a bitmap is 64 hex digits (16 rows of 16 pixels)");
		e->bitmap[i] = (uint8_t)(hi << 4 | lo);
	}
	e->kind = HWG_GAIJI_BITMAP;
	return 0;
}

static int
parse_line(struct hwg_gaiji *g, const char *s, size_t n, size_t line, struct hwg_error *err)
{
	struct hwg_gaiji_entry e = {0};
	uint32_t cp = 0;
	int rc;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n == 0 || s[0] == '#')
		return 0;
	for (size_t i = 0; i < 4; i++) {
		int d = i < n ? hex(s[i]) : -1;

		if (d < 0)
			return line_bad(err, line,
			                "not a code point (four hex digits) and a glyph");
		cp = cp << 4 | (uint32_t)d;
	}
	if (n < 6 || s[4] != ' ')
		return line_bad(err, line, "not a code point (four hex digits) and a glyph");
	if (!hwg_gaiji_private(cp))
		return line_bad(err, line, "the code point is not in U+E000-U+F8FF");
	if (g->e[cp - HWG_GAIJI_FIRST].kind != 0)
		return line_bad(err, line, "the code point is named twice");
	if ((rc = parse_glyph(s + 5, n - 5, &e, line, err)) != 0)
		return rc;
	g->e[cp - HWG_GAIJI_FIRST] = e;
	g->count++;
	return 0;
}

struct hwg_gaiji *
hwg_gaiji_empty(void)
{
	return calloc(1, sizeof(struct hwg_gaiji));
}

int
hwg_gaiji_parse(const char *text, size_t len, struct hwg_gaiji **out, struct hwg_error *err)
{
	struct hwg_gaiji *g;
	size_t line = 1, start = 0;
	int rc;

	if (!hwg_utf8_valid((const uint8_t *)text, len) || memchr(text, '\0', len) != NULL)
		return hwg_error_set(err, HWG_E_CONFIG, "glyph table: not UTF-8 text");
	if ((g = hwg_gaiji_empty()) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n')
			continue;
		if ((rc = parse_line(g, text + start, i - start, line, err)) != 0) {
			hwg_gaiji_free(g);
			return rc;
		}
		start = i + 1;
		line++;
	}
	*out = g;
	return 0;
}

int
hwg_gaiji_load(const char *path, struct hwg_gaiji **out, struct hwg_error *err)
{
	struct hwg_error lerr = {0};
	uint8_t *text = NULL;
	size_t len = 0;
	int rc;

	if ((rc = hwg_file_read(path, HWG_GAIJI_FILE_MAX, &text, &len, &lerr)) != 0)
		return hwg_error_set(err, HWG_E_CONFIG, "[cert] gaiji_table: %s", lerr.message);
	if ((rc = hwg_gaiji_parse((const char *)text, len, out, &lerr)) != 0)
		hwg_error_set(err, rc, "%s: %s", path, lerr.message);
	free(text);
	return rc;
}

void
hwg_gaiji_free(struct hwg_gaiji *g)
{
	free(g);
}

const struct hwg_gaiji_entry *
hwg_gaiji_lookup(const struct hwg_gaiji *g, uint32_t cp)
{
	if (g == NULL || !hwg_gaiji_private(cp) || g->e[cp - HWG_GAIJI_FIRST].kind == 0)
		return NULL;
	return &g->e[cp - HWG_GAIJI_FIRST];
}

size_t
hwg_gaiji_count(const struct hwg_gaiji *g, uint32_t *first_bitmap, uint32_t *first_substitute)
{
	*first_bitmap = *first_substitute = 0;
	if (g == NULL)
		return 0;
	for (uint32_t i = 0; i < ENTRIES; i++) {
		if (g->e[i].kind == HWG_GAIJI_BITMAP && *first_bitmap == 0)
			*first_bitmap = HWG_GAIJI_FIRST + i;
		if (g->e[i].kind == HWG_GAIJI_SUBSTITUTE && *first_substitute == 0)
			*first_substitute = HWG_GAIJI_FIRST + i;
	}
	return g->count;
}

void
hwg_gaiji_path(cairo_t *cr, const uint8_t bitmap[HWG_GAIJI_BITMAP_LEN], double x, double y,
               double size)
{
	double px = size / HWG_GAIJI_SIDE;

	for (int row = 0; row < HWG_GAIJI_SIDE; row++) {
		unsigned bits = (unsigned)bitmap[2 * row] << 8 | bitmap[2 * row + 1];

		/* a run of set pixels as one rectangle: fewer path operations in the PDF */
		for (int col = 0; col < HWG_GAIJI_SIDE;) {
			int run = 0;

			while (col + run < HWG_GAIJI_SIDE && (bits & (0x8000u >> (col + run))))
				run++;
			if (run > 0)
				cairo_rectangle(cr, x + col * px, y + row * px, run * px, px);
			col += run > 0 ? run : 1;
		}
	}
}
