/*
 * hwg_gaiji.h — 外字: the characters of a resident register that Unicode
 * does not have, which the registry sends as private-use code points
 * (U+E000-U+F8FF).  The municipality's glyph table says how each is
 * drawn: a 16x16 bitmap, or a substitute character shown with a mark.
 * A private-use code point the table does not name is shown as 〓
 * (geta) with the mark (gateway/renderer/README.md, "The glyph table").
 *
 * The table is a text file, one glyph a line:
 *
 *   # comment
 *   E000 0000018001800FF00180018001803FFC0000066006600C300C3018180000
 *   E001 =崎
 *
 * four hex digits of the code point, one space, then 64 hex digits (16
 * rows of 16 bits, the top row first, the leftmost pixel the most
 * significant bit) or '=' and exactly one character that is not itself
 * private-use or a control.  Blank lines and lines starting with '#' are
 * skipped; anything else, a code point outside the range or named twice,
 * is refused with its line number.  Parsing is pure (fuzz_gaiji_table);
 * drawing uses cairo.
 */
#ifndef HWG_GAIJI_H
#define HWG_GAIJI_H

#include <cairo.h>
#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

#define HWG_GAIJI_FIRST 0xE000u
#define HWG_GAIJI_LAST 0xF8FFu
#define HWG_GAIJI_SIDE 16
#define HWG_GAIJI_BITMAP_LEN 32
#define HWG_GAIJI_FILE_MAX (1024u * 1024)

enum hwg_gaiji_kind { HWG_GAIJI_BITMAP = 1, HWG_GAIJI_SUBSTITUTE = 2 };

struct hwg_gaiji_entry {
	int kind; /* 0: not in the table */
	uint8_t bitmap[HWG_GAIJI_BITMAP_LEN];
	char substitute[5]; /* one character, UTF-8 */
	uint32_t substitute_cp;
};

struct hwg_gaiji;

/* 1 if cp is a private-use code point of the BMP (U+E000-U+F8FF). */
int hwg_gaiji_private(uint32_t cp);
/*
 * Parse a table's text (len bytes, UTF-8): 0 with *out, or HWG_E_CONFIG
 * naming the line and the fault (HWG_E_NOMEM).  An empty text is an
 * empty table.
 */
int hwg_gaiji_parse(const char *text, size_t len, struct hwg_gaiji **out, struct hwg_error *err);
/* Read and parse the file at path (at most HWG_GAIJI_FILE_MAX bytes); errors name the file. */
int hwg_gaiji_load(const char *path, struct hwg_gaiji **out, struct hwg_error *err);
/* An empty table (no file configured). */
struct hwg_gaiji *hwg_gaiji_empty(void);
void hwg_gaiji_free(struct hwg_gaiji *g);
/* The entry for cp, or NULL when the table does not name it (g may be NULL). */
const struct hwg_gaiji_entry *hwg_gaiji_lookup(const struct hwg_gaiji *g, uint32_t cp);
/* How many entries the table holds; *first is the lowest code point of each kind (0: none). */
size_t hwg_gaiji_count(const struct hwg_gaiji *g, uint32_t *first_bitmap,
                       uint32_t *first_substitute);

/*
 * Add a bitmap's set pixels to cr's path as squares filling the size x
 * size square whose top left corner is (x, y); the caller fills.
 */
void hwg_gaiji_path(cairo_t *cr, const uint8_t bitmap[HWG_GAIJI_BITMAP_LEN], double x, double y,
                    double size);

/*
 * Decode one UTF-8 character at s (n bytes left, already valid UTF-8):
 * its code point, and its length in bytes (0 at the end or on a fault).
 */
size_t hwg_gaiji_next_char(const char *s, size_t n, uint32_t *cp);

#endif
