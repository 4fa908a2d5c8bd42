/*
 * hwg_render.h — the certificate's layout: a checked render request
 * (hwg_rd_proto.h) in, the PDF bytes out, in memory.  Pure layout: no
 * I/O once made (the font and the glyph table are read by
 * hwg_render_new), so hwgw-renderer can call it under its seccomp filter
 * and the tests and the bench in their own process.
 *
 * The page is A4, laid out as a 住民票の写し is: the title of the kind,
 * the issuance number and the page ("1/2") at the top of every page; for
 * each person a bordered table of label and value rows, at most
 * HWG_RENDER_PEOPLE_PER_PAGE a page (fewer when they do not fit); on the
 * last page the certification sentence, the issue date and the mayor's
 * line with the official seal; on every page the QR code of the request's
 * "code" (libqrencode, level M).  A reprint carries 再発行 and the
 * original's number.  Text is IPAex Mincho through pango, so pdftotext
 * gives it back; the seal and 外字 bitmaps are drawn, not text.
 *
 * Dates are shown in the Gregorian calendar (2026年12月7日); 外字 as
 * hwg_gaiji.h says, and a character the font does not have as 〓 with the
 * mark, like a private-use one the table does not name; a page showing
 * any such substitute carries the footnote (HWG_RENDER_FOOTNOTE).
 *
 * Not thread-safe: one struct hwg_render per thread.
 */
#ifndef HWG_RENDER_H
#define HWG_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"
#include "hwg_rd_proto.h"

#define HWG_RENDER_PEOPLE_PER_PAGE 3
#define HWG_RENDER_FONT_FAMILY "IPAexMincho"
#define HWG_RENDER_MARK "※"
#define HWG_RENDER_GETA "〓"
#define HWG_RENDER_FOOTNOTE "※印は外字を代替文字で表示しています"

struct hwg_render;

/*
 * Find the font (fontconfig: IPAex Mincho, Debian's fonts-ipaexfont-mincho)
 * and load the glyph table (gaiji_table NULL or "": none); every
 * substitute the table names must be in the font.  HWG_E_CONFIG naming
 * what is missing or wrong, HWG_E_NOMEM.
 */
int hwg_render_new(const char *gaiji_table, struct hwg_render **out, struct hwg_error *err);
void hwg_render_free(struct hwg_render *r);
/* The font file in use (for logs and tests). */
const char *hwg_render_font_file(const struct hwg_render *r);

struct hwg_render_result {
	uint8_t *pdf; /* malloc'd */
	size_t len;
	unsigned pages;
	unsigned gaiji_drawn;       /* private-use characters drawn from the table's bitmaps */
	unsigned gaiji_substituted; /* characters shown as a substitute or 〓, with the mark */
};

/*
 * Lay out and draw req: 0 with *out, or HWG_E_BAD_ARGS (a QR text
 * qrencode cannot hold, a person whose fields do not fit on one page),
 * HWG_E_TOO_LARGE (the PDF over HWG_RD_PDF_MAX), HWG_E_INTERNAL (cairo
 * failed), HWG_E_NOMEM.  *out is untouched on failure.
 */
int hwg_render_pdf(struct hwg_render *r, const struct hwg_rd_request *req,
                   struct hwg_render_result *out, struct hwg_error *err);
void hwg_render_result_clear(struct hwg_render_result *res);
/*
 * Render, and throw away, a request that shows every string, field,
 * script and glyph kind the layout uses, so that fontconfig, pango and
 * cairo have loaded and cached all they read from files before the
 * renderer enters its seccomp filter.
 */
int hwg_render_warm(struct hwg_render *r, struct hwg_error *err);

/* The table row labels (氏名 ...) and titles (住民票の写し ...); NULL outside. */
const char *hwg_render_label(int field);
const char *hwg_render_title(int kind);
/*
 * Every fixed string the page may show besides the request's values
 * (titles, labels, sentences, 交付番号, 再発行, 原本 No., 長, the mark, the
 * geta, the footnote), NULL-terminated: what a test subtracts from a
 * page's text to find anything that should not be there.
 */
const char *const *hwg_render_templates(void);
/* "2026-12-07" → "2026年12月7日"; 0, or -1 when iso is not a date or out too small. */
int hwg_render_date(const char *iso, char *out, size_t len);

#endif
