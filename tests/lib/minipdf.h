/*
 * minipdf.h — a small valid PDF for the printer tests: pages A4 pages, each
 * with one line of Helvetica text ("<label> page k of n"), objects, xref
 * table and trailer written out by hand so that the bytes are known and
 * poppler reads them (pdfinfo counts the pages).  Header-only, like
 * hwg_test.h; no allocation.
 */
#ifndef MINIPDF_H
#define MINIPDF_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MINIPDF_PAGES_MAX 32

struct minipdf_out {
	uint8_t *p;
	size_t cap, len;
	int overflow;
};

static void minipdf_put(struct minipdf_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
minipdf_put(struct minipdf_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf((char *)o->p + o->len, o->len < o->cap ? o->cap - o->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0 || o->len + (size_t)n >= o->cap)
		o->overflow = 1;
	else
		o->len += (size_t)n;
}

/*
 * The PDF into out (cap bytes); its length, 0 if cap is short or pages is
 * not 1..MINIPDF_PAGES_MAX.  Objects: 1 catalog, 2 page tree, 3 font, then
 * per page k (from 0) 4+2k the page and 5+2k its content stream.
 */
static size_t
minipdf(unsigned pages, const char *label, uint8_t *out, size_t cap)
{
	struct minipdf_out o = {out, cap, 0, 0};
	size_t offset[4 + 2 * MINIPDF_PAGES_MAX];
	unsigned n_obj = 3 + 2 * pages, xref;
	char text[160];

	if (pages < 1 || pages > MINIPDF_PAGES_MAX)
		return 0;
	minipdf_put(&o, "%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n");
	offset[1] = o.len;
	minipdf_put(&o, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
	offset[2] = o.len;
	minipdf_put(&o, "2 0 obj\n<< /Type /Pages /Kids [");
	for (unsigned k = 0; k < pages; k++)
		minipdf_put(&o, "%s%u 0 R", k > 0 ? " " : "", 4 + 2 * k);
	minipdf_put(&o, "] /Count %u >>\nendobj\n", pages);
	offset[3] = o.len;
	minipdf_put(&o,
	            "3 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n");
	for (unsigned k = 0; k < pages; k++) {
		snprintf(text, sizeof(text), "BT /F1 24 Tf 72 720 Td (%.64s page %u of %u) Tj ET\n",
		         label, k + 1, pages);
		offset[4 + 2 * k] = o.len;
		minipdf_put(&o,
		            "%u 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
		            "/Resources << /Font << /F1 3 0 R >> >> /Contents %u 0 R >>\nendobj\n",
		            4 + 2 * k, 5 + 2 * k);
		offset[5 + 2 * k] = o.len;
		minipdf_put(&o, "%u 0 obj\n<< /Length %zu >>\nstream\n%sendstream\nendobj\n",
		            5 + 2 * k, strlen(text), text);
	}
	xref = (unsigned)o.len;
	minipdf_put(&o, "xref\n0 %u\n0000000000 65535 f \n", n_obj + 1);
	for (unsigned i = 1; i <= n_obj; i++)
		minipdf_put(&o, "%010zu 00000 n \n", offset[i]);
	minipdf_put(&o, "trailer\n<< /Size %u /Root 1 0 R >>\nstartxref\n%u\n%%%%EOF\n", n_obj + 1,
	            xref);
	return o.overflow ? 0 : o.len;
}

#endif
