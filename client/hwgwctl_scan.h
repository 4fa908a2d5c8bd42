/*
 * hwgwctl_scan.h — the QR codes printed on a certificate, read back for
 * `hwgwctl cert verify`: from a PNG of a page (cairo's PNG reader), or
 * from page 1 of the certificate's PDF rendered at HWGWCTL_SCAN_DPI
 * (poppler-glib into a cairo image surface), scanned with libzbar.  A
 * module of its own (library hwgwctl_scan) so that its test links it
 * without hwgwctl's main, and the rest of hwgwctl links no image library.
 * Files are anyone's: sizes are bounded before anything is allocated for
 * them, and what a code says is only text here (hwg_certcode judges it).
 */
#ifndef HWGWCTL_SCAN_H
#define HWGWCTL_SCAN_H

#include <stddef.h>

#include "hwg_err.h"

#define HWGWCTL_SCAN_DPI 150
#define HWGWCTL_SCAN_CODES_MAX 8          /* codes kept from one page */
#define HWGWCTL_SCAN_SIDE_MAX 8192        /* pixels on a side of what is scanned */
#define HWGWCTL_SCAN_FILE_MAX (64u << 20) /* bytes of a PDF read */

/* The QR codes' texts found on a page, in the order libzbar gives them. */
struct hwgwctl_codes {
	char *text[HWGWCTL_SCAN_CODES_MAX]; /* malloc'd, NUL-terminated */
	size_t n;
};
void hwgwctl_codes_clear(struct hwgwctl_codes *c);

/*
 * The QR codes on the image in a PNG file, or on page 1 of a PDF.  0 with
 * at least one code in out; HWG_E_IO (unreadable), HWG_E_BAD_ENCODING
 * (not a PNG, not a PDF, no page), HWG_E_TOO_LARGE (over the bounds
 * above) or HWG_E_NOT_FOUND (no QR code on it), each with a message.
 */
int hwgwctl_scan_png(const char *path, struct hwgwctl_codes *out, struct hwg_error *err);
int hwgwctl_scan_pdf(const char *path, struct hwgwctl_codes *out, struct hwg_error *err);

#endif
