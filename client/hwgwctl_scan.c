/*
 * hwgwctl_scan.c — QR codes from a PNG or a PDF's first page (see
 * hwgwctl_scan.h).  Both become one cairo image surface on white, which
 * is turned into 8-bit grey (Y800) for libzbar, QR codes only.
 */
#include "hwgwctl_scan.h"

#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <poppler.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zbar.h>

void
hwgwctl_codes_clear(struct hwgwctl_codes *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->text[i]);
	memset(c, 0, sizeof(*c));
}

/* The surface's pixels as grey levels, w * h bytes (malloc'd; libzbar frees them). */
static unsigned char *
grey(cairo_surface_t *s, int w, int h)
{
	const unsigned char *data = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	unsigned char *g = malloc((size_t)w * (size_t)h);

	for (int y = 0; g != NULL && y < h; y++) {
		const uint32_t *row = (const uint32_t *)(data + (size_t)y * (size_t)stride);

		for (int x = 0; x < w; x++) {
			uint32_t p = row[x]; /* RGB24: xRGB in native order */
			unsigned r = p >> 16 & 0xff, gr = p >> 8 & 0xff, b = p & 0xff;

			g[(size_t)y * (size_t)w + (size_t)x] =
			    (unsigned char)((r * 299 + gr * 587 + b * 114) / 1000);
		}
	}
	return g;
}

/* Each QR code libzbar finds in the grey image into out. */
static int
zbar_codes(unsigned char *g, int w, int h, struct hwgwctl_codes *out, struct hwg_error *err)
{
	zbar_image_scanner_t *sc = zbar_image_scanner_create();
	zbar_image_t *img = zbar_image_create();
	const zbar_symbol_t *sym;
	int rc = 0;

	if (sc == NULL || img == NULL) {
		free(g);
		rc = hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		goto out;
	}
	zbar_image_scanner_set_config(sc, 0, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	zbar_image_set_format(img, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(img, (unsigned)w, (unsigned)h);
	zbar_image_set_data(img, g, (unsigned long)w * (unsigned long)h, zbar_image_free_data);
	if (zbar_scan_image(sc, img) < 0)
		rc = hwg_error_set(err, HWG_E_INTERNAL, "libzbar could not scan the image");
	for (sym = zbar_image_first_symbol(img); rc == 0 && sym != NULL;
	     sym = zbar_symbol_next(sym)) {
		if (zbar_symbol_get_type(sym) != ZBAR_QRCODE || out->n == HWGWCTL_SCAN_CODES_MAX)
			continue;
		if ((out->text[out->n] = strndup(zbar_symbol_get_data(sym),
		                                 zbar_symbol_get_data_length(sym))) == NULL)
			rc = hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		else
			out->n++;
	}
	if (rc == 0 && out->n == 0)
		rc = hwg_error_set(err, HWG_E_NOT_FOUND, "no QR code found on the page");
out:
	if (img != NULL)
		zbar_image_destroy(img);
	if (sc != NULL)
		zbar_image_scanner_destroy(sc);
	return rc;
}

/* A white RGB24 surface of w x h, or NULL. */
static cairo_surface_t *
white(int w, int h, cairo_t **cr)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);

	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(s);
		return NULL;
	}
	*cr = cairo_create(s);
	cairo_set_source_rgb(*cr, 1, 1, 1);
	cairo_paint(*cr);
	return s;
}

static int
scan_surface(cairo_surface_t *s, int w, int h, struct hwgwctl_codes *out, struct hwg_error *err)
{
	unsigned char *g;

	cairo_surface_flush(s);
	if ((g = grey(s, w, h)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	return zbar_codes(g, w, h, out, err);
}

static int
too_large(int w, int h)
{
	return w <= 0 || h <= 0 || w > HWGWCTL_SCAN_SIDE_MAX || h > HWGWCTL_SCAN_SIDE_MAX;
}

int
hwgwctl_scan_png(const char *path, struct hwgwctl_codes *out, struct hwg_error *err)
{
	cairo_surface_t *png, *s;
	cairo_status_t st;
	cairo_t *cr = NULL;
	int w, h, rc;

	memset(out, 0, sizeof(*out));
	png = cairo_image_surface_create_from_png(path);
	if ((st = cairo_surface_status(png)) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(png);
		return hwg_error_set(err,
		                     st == CAIRO_STATUS_FILE_NOT_FOUND ||
		                             st == CAIRO_STATUS_READ_ERROR
		                         ? HWG_E_IO
		                         : HWG_E_BAD_ENCODING,
		                     "%s: %s", path, cairo_status_to_string(st));
	}
	w = cairo_image_surface_get_width(png);
	h = cairo_image_surface_get_height(png);
	if (too_large(w, h)) {
		cairo_surface_destroy(png);
		return hwg_error_set(err, HWG_E_TOO_LARGE, "%s: %d x %d pixels, at most %d a side",
		                     path, w, h, HWGWCTL_SCAN_SIDE_MAX);
	}
	/* onto white: a transparent background reads as paper */
	if ((s = white(w, h, &cr)) == NULL) {
		cairo_surface_destroy(png);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	cairo_set_source_surface(cr, png, 0, 0);
	cairo_paint(cr);
	cairo_destroy(cr);
	cairo_surface_destroy(png);
	rc = scan_surface(s, w, h, out, err);
	cairo_surface_destroy(s);
	if (rc != 0)
		hwgwctl_codes_clear(out);
	return rc;
}

/* The whole file, less than HWGWCTL_SCAN_FILE_MAX bytes, as GBytes. */
static int
read_file(const char *path, GBytes **out, struct hwg_error *err)
{
	FILE *f = fopen(path, "re");
	size_t cap = 1 << 16, n = 0, got;
	char *buf, *nb;
	int rc = 0;

	if (f == NULL)
		return hwg_error_set(err, HWG_E_IO, "%s: %s", path, strerror(errno));
	if ((buf = malloc(cap)) == NULL) {
		fclose(f);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	while (rc == 0 && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		if ((n += got) < cap)
			continue;
		if (cap >= HWGWCTL_SCAN_FILE_MAX)
			rc = hwg_error_set(err, HWG_E_TOO_LARGE, "%s: %u bytes or more", path,
			                   HWGWCTL_SCAN_FILE_MAX);
		else if ((nb = realloc(buf, cap *= 2)) == NULL)
			rc = hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		else
			buf = nb;
	}
	if (rc == 0 && ferror(f))
		rc = hwg_error_set(err, HWG_E_IO, "%s: %s", path, strerror(errno));
	fclose(f);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	*out = g_bytes_new_take(buf, n);
	return 0;
}

/* Page 1 of doc drawn at HWGWCTL_SCAN_DPI on white, and scanned. */
static int
scan_page(PopplerDocument *doc, const char *path, struct hwgwctl_codes *out, struct hwg_error *err)
{
	const double scale = HWGWCTL_SCAN_DPI / 72.0;
	PopplerPage *page = poppler_document_get_page(doc, 0);
	double wpt = 0, hpt = 0;
	cairo_surface_t *s;
	cairo_t *cr = NULL;
	int w, h, rc;

	if (page == NULL)
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "%s: the PDF has no page", path);
	poppler_page_get_size(page, &wpt, &hpt);
	w = wpt * scale < HWGWCTL_SCAN_SIDE_MAX + 1 ? (int)ceil(wpt * scale) : -1;
	h = hpt * scale < HWGWCTL_SCAN_SIDE_MAX + 1 ? (int)ceil(hpt * scale) : -1;
	if (too_large(w, h)) {
		g_object_unref(page);
		return hwg_error_set(err, HWG_E_TOO_LARGE,
		                     "%s: page 1 is over %d pixels a side at %d dpi", path,
		                     HWGWCTL_SCAN_SIDE_MAX, HWGWCTL_SCAN_DPI);
	}
	if ((s = white(w, h, &cr)) == NULL) {
		g_object_unref(page);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	cairo_scale(cr, scale, scale);
	poppler_page_render(page, cr);
	cairo_destroy(cr);
	g_object_unref(page);
	rc = scan_surface(s, w, h, out, err);
	cairo_surface_destroy(s);
	return rc;
}

int
hwgwctl_scan_pdf(const char *path, struct hwgwctl_codes *out, struct hwg_error *err)
{
	PopplerDocument *doc;
	GError *gerr = NULL;
	GBytes *bytes = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = read_file(path, &bytes, err)) != 0)
		return rc;
	doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
	g_bytes_unref(bytes);
	if (doc == NULL) {
		rc = hwg_error_set(err, HWG_E_BAD_ENCODING, "%s: not a PDF: %s", path,
		                   gerr != NULL ? gerr->message : "poppler refused it");
		g_clear_error(&gerr);
		return rc;
	}
	rc = poppler_document_get_n_pages(doc) < 1
	         ? hwg_error_set(err, HWG_E_BAD_ENCODING, "%s: the PDF has no page", path)
	         : scan_page(doc, path, out, err);
	g_object_unref(doc);
	if (rc != 0)
		hwgwctl_codes_clear(out);
	return rc;
}
