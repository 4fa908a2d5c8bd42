/*
 * test_client_cert.c — `hwgwctl cert verify` end to end on codes signed
 * here with a software P-256 key: the QR drawn with libqrencode and cairo
 * into a PNG and onto page 1 of an A4 PDF (as a renderer would print it),
 * read back by client/hwgwctl_scan.c, and the real hwgwctl accepting
 * them (exit 0, the summary printed) from --code, --png and --pdf; and
 * refusing (exit 1) a code with one character changed, a code sealed by
 * another key, a page without a code, a page whose only QR code is not
 * ours; a file that is no PNG or PDF is an error (exit 2).  Also `cert
 * seal-key` from a gw.info answer.
 */
#include <cairo-pdf.h>
#include <cairo.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hwg_certcode.h"
#include "hwg_test.h"
#include "hwgwctl_scan.h"

static char dir[] = "/tmp/hwgw-cert-test.XXXXXX";
static char hwgwctl[600], key[700]; /* hwgwctl, and the seal key's PEM */
static EVP_PKEY *seal, *other;
static char *good; /* a code sealed by seal */

/* A name in the test's directory (four at a time: copy one that must last). */
static const char *
path(const char *name)
{
	static char buf[4][700];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static struct hwg_certcode_summary
summary(void)
{
	struct hwg_certcode_summary s;

	memset(&s, 0, sizeof(s));
	snprintf(s.gw, sizeof(s.gw), "city-gw-01");
	snprintf(s.no, sizeof(s.no), "city-gw-01-20260401-000042");
	for (int i = 0; i < 32; i++)
		s.doc[i] = (uint8_t)(0xa0 + i);
	snprintf(s.kind, sizeof(s.kind), "juminhyo");
	snprintf(s.date, sizeof(s.date), "2026-04-01");
	snprintf(s.orig, sizeof(s.orig), "city-gw-01-20260301-000007");
	return s;
}

static char *
code(EVP_PKEY *by)
{
	struct hwg_certcode_summary s = summary();
	struct hwg_error err = {0};
	uint8_t *cose = NULL;
	size_t len = 0;
	char *text = NULL;

	if (hwg_certcode_sign(&s, hwg_cose_evp_signer, by, &cose, &len, &err) != 0 ||
	    hwg_certcode_text(cose, len, &text, &err) != 0)
		fprintf(stderr, "  code: %s\n", err.message);
	free(cose);
	return text;
}

/* The QR of text drawn at (x, y) with modules of size m (user units), quiet zone included. */
static int
draw_qr(cairo_t *cr, const char *text, double x, double y, double m)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);

	if (qr == NULL)
		return -1;
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, x, y, (qr->width + 8) * m, (qr->width + 8) * m);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	for (int r = 0; r < qr->width; r++)
		for (int c = 0; c < qr->width; c++)
			if (qr->data[r * qr->width + c] & 1)
				cairo_rectangle(cr, x + (c + 4) * m, y + (r + 4) * m, m, m);
	cairo_fill(cr);
	QRcode_free(qr);
	return 0;
}

/* A PNG with the codes given (NULL-terminated), side by side. */
static int
png_with(const char *file, const char *const *texts)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1600, 800);
	cairo_t *cr = cairo_create(s);
	int rc = 0;

	/* a transparent background: the scanner puts it on white */
	for (size_t i = 0; texts[i] != NULL && rc == 0; i++)
		rc = draw_qr(cr, texts[i], 20 + 790.0 * (double)i, 20, 5);
	cairo_destroy(cr);
	if (rc == 0 && cairo_surface_write_to_png(s, path(file)) != CAIRO_STATUS_SUCCESS)
		rc = -1;
	cairo_surface_destroy(s);
	return rc;
}

/* An A4 PDF: lines of text, and the code (NULL: none) at the bottom right of page 1; a page 2. */
static int
pdf_with(const char *file, const char *text)
{
	cairo_surface_t *s = cairo_pdf_surface_create(path(file), 595.28, 841.89);
	cairo_t *cr = cairo_create(s);
	int rc = 0;

	/* lines of "text" as grey bars: no font, so nothing of fontconfig's in the test */
	cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
	for (int i = 0; i < 12; i++)
		cairo_rectangle(cr, 72, 90 + 24.0 * i, 400 - 13.0 * i, 9);
	cairo_fill(cr);
	if (text != NULL)
		rc = draw_qr(cr, text, 330, 560, 2.0); /* 2 pt modules: about 4 px at 150 dpi */
	cairo_show_page(cr);
	cairo_rectangle(cr, 72, 90, 200, 9); /* page 2 */
	cairo_fill(cr);
	cairo_show_page(cr);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
		rc = -1;
	cairo_surface_destroy(s);
	return rc;
}

/* Run hwgwctl with args; its exit status, stdout in out (may be NULL). */
static int
run(const char *args, char *out, size_t cap)
{
	char cmd[4096];
	FILE *p;
	size_t n = 0;
	int st;

	snprintf(cmd, sizeof(cmd), "'%s' %s 2>'%s'", hwgwctl, args, path("stderr"));
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (out != NULL) {
		n = fread(out, 1, cap - 1, p);
		out[n] = '\0';
	} else {
		char sink[4096];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
stderr_has(const char *what)
{
	char buf[2048] = "";
	FILE *f = fopen(path("stderr"), "r");
	size_t n = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f != NULL)
		fclose(f);
	buf[n] = '\0';
	if (strstr(buf, what) == NULL) {
		fprintf(stderr, "  stderr lacks \"%s\": %s\n", what, buf);
		return 0;
	}
	return 1;
}

static void
test_scan_png_and_pdf(void)
{
	const char *const one[] = {good, NULL}, *const two[] = {"https://example.org/", good, NULL};
	struct hwgwctl_codes c;
	struct hwg_error err = {0};

	REQUIRE(png_with("one.png", one) == 0 && png_with("two.png", two) == 0);
	REQUIRE(pdf_with("cert.pdf", good) == 0 && pdf_with("blank.pdf", NULL) == 0);
	CHECK_EQ_INT(hwgwctl_scan_png(path("one.png"), &c, &err), 0);
	CHECK(c.n == 1 && strcmp(c.text[0], good) == 0);
	hwgwctl_codes_clear(&c);
	CHECK_EQ_INT(hwgwctl_scan_png(path("two.png"), &c, &err), 0);
	CHECK_EQ_INT(c.n, 2);
	hwgwctl_codes_clear(&c);
	CHECK_EQ_INT(hwgwctl_scan_pdf(path("cert.pdf"), &c, &err), 0);
	CHECK(c.n == 1 && strcmp(c.text[0], good) == 0);
	hwgwctl_codes_clear(&c);
	CHECK_EQ_INT(hwgwctl_scan_pdf(path("blank.pdf"), &c, &err), HWG_E_NOT_FOUND);
	CHECK_EQ_INT(hwgwctl_scan_pdf(path("one.png"), &c, &err), HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(hwgwctl_scan_png(path("cert.pdf"), &c, &err), HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(hwgwctl_scan_png(path("none.png"), &c, &err), HWG_E_IO);
	CHECK_EQ_INT(hwgwctl_scan_pdf(path("none.pdf"), &c, &err), HWG_E_IO);
}

static void
test_verify_accepts(void)
{
	char out[4096], args[2048];

	snprintf(args, sizeof(args), "cert verify --code '%s' --key '%s'", good, key);
	CHECK_EQ_INT(run(args, out, sizeof(out)), 0);
	CHECK(strstr(out, "number: city-gw-01-20260401-000042\n") != NULL);
	CHECK(strstr(out, "kind: juminhyo (住民票の写し)\n") != NULL);
	CHECK(strstr(out, "date: 2026-04-01\n") != NULL);
	CHECK(strstr(out, "gateway: city-gw-01\n") != NULL);
	CHECK(strstr(out, "document: a0a1a2a3") != NULL);
	CHECK(strstr(out, "reprint of: city-gw-01-20260301-000007\n") != NULL);
	snprintf(args, sizeof(args), "cert verify --png '%s' --key '%s'", path("two.png"), key);
	CHECK_EQ_INT(run(args, out, sizeof(out)), 0);
	CHECK(strstr(out, "number: city-gw-01-20260401-000042\n") != NULL);
	snprintf(args, sizeof(args), "cert verify --pdf '%s' --key '%s'", path("cert.pdf"), key);
	CHECK_EQ_INT(run(args, out, sizeof(out)), 0);
	CHECK(strstr(out, "number: city-gw-01-20260401-000042\n") != NULL);
	/* a line of standard input, as zbarimg prints it */
	snprintf(args, sizeof(args), "cert verify --code - --key '%s' <<'EOF'\nQR-Code:%s\nEOF",
	         key, good);
	CHECK_EQ_INT(run(args, out, sizeof(out)), 0);
}

static void
test_verify_refuses(void)
{
	static const char b45[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
	char args[2048], changed[HWG_CERTCODE_TEXT_MAX + 1], *by_other = code(other);
	const char *const ours_changed[] = {changed, NULL}, *const theirs[] = {
	                                                        "https://example.org/", NULL};

	/* one character changed, in the middle of the code */
	snprintf(changed, sizeof(changed), "%s", good);
	changed[strlen(changed) / 2] =
	    b45[(strchr(b45, changed[strlen(changed) / 2]) - b45 + 1) % 45];
	snprintf(args, sizeof(args), "cert verify --code '%s' --key '%s'", changed, key);
	CHECK_EQ_INT(run(args, NULL, 0), 1);
	CHECK(stderr_has("cert verify: refused ("));
	REQUIRE(png_with("changed.png", ours_changed) == 0);
	snprintf(args, sizeof(args), "cert verify --png '%s' --key '%s'", path("changed.png"), key);
	CHECK_EQ_INT(run(args, NULL, 0), 1);
	/* sealed by another key */
	REQUIRE(by_other != NULL);
	snprintf(args, sizeof(args), "cert verify --code '%s' --key '%s'", by_other, key);
	CHECK_EQ_INT(run(args, NULL, 0), 1);
	CHECK(stderr_has("refused (bad_signature): the seal does not verify with this key"));
	free(by_other);
	/* no code on the page; a QR code that is not ours */
	snprintf(args, sizeof(args), "cert verify --pdf '%s' --key '%s'", path("blank.pdf"), key);
	CHECK_EQ_INT(run(args, NULL, 0), 1);
	CHECK(stderr_has("no QR code found"));
	REQUIRE(png_with("theirs.png", theirs) == 0);
	snprintf(args, sizeof(args), "cert verify --png '%s' --key '%s'", path("theirs.png"), key);
	CHECK_EQ_INT(run(args, NULL, 0), 1);
	CHECK(stderr_has("is a hwgw verification code"));
	/* errors: not a PDF, no key, usage */
	snprintf(args, sizeof(args), "cert verify --pdf '%s' --key '%s'", path("one.png"), key);
	CHECK_EQ_INT(run(args, NULL, 0), 2);
	CHECK(stderr_has("not a PDF"));
	snprintf(args, sizeof(args), "cert verify --code '%s' --key '%s'", good, path("none.pem"));
	CHECK_EQ_INT(run(args, NULL, 0), 2);
	snprintf(args, sizeof(args), "cert verify --code x --png y --key '%s'", key);
	CHECK_EQ_INT(run(args, NULL, 0), 2);
	CHECK_EQ_INT(run("cert nothing", NULL, 0), 2);
}

static void
test_seal_key_from_gw_info(void)
{
	char args[2048], out[1024], json[1024];
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(seal, &der);
	EVP_PKEY *back = NULL;
	size_t o;
	FILE *f;

	REQUIRE(n > 0);
	o = (size_t)snprintf(json, sizeof(json),
	                     "{\n  \"gateway_id\": \"city-gw-01\",\n"
	                     "  \"seal_key\": \"hex:");
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(json + o, sizeof(json) - o, "%02x", der[i]);
	snprintf(json + o, sizeof(json) - o, "\"\n}\n");
	OPENSSL_free(der);
	REQUIRE((f = fopen(path("gw-info.json"), "w")) != NULL);
	fputs(json, f);
	fclose(f);
	snprintf(args, sizeof(args), "cert seal-key --out '%s' < '%s'", path("fetched.pem"),
	         path("gw-info.json"));
	CHECK_EQ_INT(run(args, out, sizeof(out)), 0);
	CHECK(strstr(out, "seal key of gateway city-gw-01 written to") != NULL);
	REQUIRE((f = fopen(path("fetched.pem"), "r")) != NULL);
	back = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	CHECK(back != NULL && EVP_PKEY_eq(back, seal) == 1);
	EVP_PKEY_free(back);
	/* and the fetched key verifies */
	snprintf(args, sizeof(args), "cert verify --code '%s' --key '%s'", good,
	         path("fetched.pem"));
	CHECK_EQ_INT(run(args, NULL, 0), 0);
	/* an answer without one */
	REQUIRE((f = fopen(path("gw-info-none.json"), "w")) != NULL);
	fputs("{\"gateway_id\": \"x\"}\n", f);
	fclose(f);
	snprintf(args, sizeof(args), "cert seal-key --out '%s' --from '%s'", path("none-out.pem"),
	         path("gw-info-none.json"));
	CHECK_EQ_INT(run(args, NULL, 0), 1);
	CHECK(stderr_has("has no \"seal_key\""));
}

static int
setup(void)
{
	const char *bld = getenv("HWG_BUILD_DIR");
	FILE *f;

	if (bld == NULL || mkdtemp(dir) == NULL) {
		fprintf(stderr, "HWG_BUILD_DIR unset, or no temporary directory\n");
		return -1;
	}
	snprintf(hwgwctl, sizeof(hwgwctl), "%s/client/hwgwctl", bld);
	seal = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	snprintf(key, sizeof(key), "%s", path("seal.pem"));
	if (seal == NULL || other == NULL || (good = code(seal)) == NULL ||
	    (f = fopen(key, "w")) == NULL)
		return -1;
	PEM_write_PUBKEY(f, seal);
	fclose(f);
	return 0;
}

int
main(void)
{
	char cmd[700];
	int rc;

	if (setup() != 0)
		return 1;
	HWG_RUN(test_scan_png_and_pdf);
	HWG_RUN(test_verify_accepts);
	HWG_RUN(test_verify_refuses);
	HWG_RUN(test_seal_key_from_gw_info);
	rc = HWG_TEST_END();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(good);
	EVP_PKEY_free(seal);
	EVP_PKEY_free(other);
	return rc;
}
