/*
 * test_render.c — the certificate's layout (gateway/renderer/hwg_render.c)
 * in this process, read back with the tools a verifier has: pdftotext
 * finds every field value of a 1-person and a 5-person household copy,
 * the issuance number on every page and nothing that is not a template
 * string (hwg_render_templates) or a value; 1 and 2 pages, numbered;
 * zbarimg reads the exact QR text on each page rendered at 150 dpi; each
 * kind's title, sentence and labels; a reprint's 再発行 and 原本 No.; 外字:
 * a table bitmap drawn (black pixels where the glyph is set, none in the
 * text), a substitute with its mark, an unknown code point and a
 * character the font lacks as 〓, the footnote on that page only.  The
 * request decoder refuses each fault it names with no request out
 * (requests built here with libcbor), the encoder's output decodes to the
 * same, READY and REPLY round-trip and refuse a cut, a non-shortest head
 * or an unknown code, the glyph table refuses each fault with its line;
 * the fuzzers' seeds are accepted or refused as their names say.
 * Exits 77 when pdftotext, pdftoppm or zbarimg is missing.
 */
#include <cbor.h>
#include <dirent.h>

#include "hwg_cbor.h"
#include "hwg_gaiji.h"
#include "hwg_render.h"
#include "rdenv.h"

/*
 * fontconfig 2.14.1 loses a block while parsing the system configuration
 * (scripts/memcheck.supp, fontconfig-config-parse-leak).  Allocations are
 * unwound fully (libfontconfig has no frame pointers) so that
 * LeakSanitizer sees the parse; only leaks inside it are suppressed: ours
 * still count.
 */
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);
const char *
__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}
const char *
__lsan_default_suppressions(void)
{
	return "leak:XML_ParseBuffer\n";
}

/* ---------------------------------------------------------------- text helpers */

/* Drop ASCII white space and U+3000 in place: pdftotext's spacing is not the page's. */
static void
squeeze(char *s)
{
	char *w = s;

	for (char *p = s; *p != '\0';) {
		if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r' || *p == '\f' ||
		    *p == '\v') {
			p++;
		} else if ((unsigned char)p[0] == 0xe3 && (unsigned char)p[1] == 0x80 &&
		           (unsigned char)p[2] == 0x80) {
			p += 3;
		} else {
			*w++ = *p++;
		}
	}
	*w = '\0';
}

/* A squeezed copy of s (static ring of buffers: tests hold a few at once). */
static const char *
sq(const char *s)
{
	static char ring[8][1024];
	static int next;
	char *b = ring[next++ % 8];

	snprintf(b, sizeof(ring[0]), "%s", s);
	squeeze(b);
	return b;
}

static int
contains(const char *text, const char *s)
{
	return strstr(text, sq(s)) != NULL;
}

/* Remove every occurrence of s from text. */
static void
cut_all(char *text, const char *s)
{
	size_t n = strlen(s);
	char *p;

	while (n > 0 && (p = strstr(text, s)) != NULL)
		memmove(p, p + n, strlen(p + n) + 1);
}

/* What is left of text once every string of the list is cut out, longest first. */
static void
subtract(char *text, const char **list, size_t n)
{
	for (;;) {
		size_t best = 0, best_len = 0;

		for (size_t i = 0; i < n; i++)
			if (list[i] != NULL && strlen(list[i]) > best_len)
				best = i, best_len = strlen(list[i]);
		if (best_len == 0)
			return;
		cut_all(text, list[best]);
		list[best] = NULL;
	}
}

/* "1970-04-01" as the page shows it, computed here on its own: "1970年4月1日". */
static const char *
jdate(const char *iso)
{
	static char ring[8][32];
	static int next;
	char *b = ring[next++ % 8];
	int y, m, d;

	if (sscanf(iso, "%d-%d-%d", &y, &m, &d) != 3)
		return "?";
	snprintf(b, sizeof(ring[0]), "%d年%d月%d日", y, m, d);
	return b;
}

/* A person's values as the page shows them (dates in Japanese form), squeezed. */
static size_t
shown_values(const struct hwg_rd_person *p, const char **out)
{
	size_t n = 0;

	for (int f = 0; f < HWG_RD_FIELDS; f++)
		if (p->value[f] != NULL)
			out[n++] =
			    strdup(sq(hwg_rd_field_is_date(f) ? jdate(p->value[f]) : p->value[f]));
	return n;
}

/* ---------------------------------------------------------------- rendering */

static struct hwg_render *rd;

static int
render(struct hwg_render *r, const struct hwg_rd_request *req, struct hwg_render_result *res,
       char *path, size_t len)
{
	struct hwg_error err = {0};
	static int n;
	char name[32];

	memset(res, 0, sizeof(*res));
	if (hwg_render_pdf(r, req, res, &err) != 0) {
		fprintf(stderr, "  render: %s\n", err.message);
		return -1;
	}
	snprintf(name, sizeof(name), "doc%d.pdf", n++);
	return rd_write(name, res->pdf, res->len, path, len);
}

/*
 * The whole text of the PDF, less every template string and every
 * string the request puts on the page, must be empty; the values must
 * each be there first.
 */
static void
check_exact_text(const char *pdf, const struct hwg_rd_request *req, unsigned pages)
{
	const char *const *tmpl = hwg_render_templates();
	const char *list[2048];
	char *text = rd_pdftotext(pdf, 0), pagestr[16], mayor[160];
	size_t n = 0, first_value;

	REQUIRE(text != NULL);
	squeeze(text);
	for (size_t i = 0; tmpl[i] != NULL; i++)
		list[n++] = strdup(sq(tmpl[i]));
	first_value = n;
	for (size_t i = 0; i < req->n_people; i++)
		n += shown_values(&req->people[i], list + n);
	for (size_t i = first_value; i < n; i++)
		if (strstr(text, list[i]) == NULL) {
			fprintf(stderr, "  value \"%s\" not on the page\n", list[i]);
			CHECK(0);
		}
	CHECK(contains(text, req->no));
	list[n++] = strdup(sq(req->no));
	list[n++] = strdup(sq(jdate(req->date)));
	snprintf(mayor, sizeof(mayor), "%s長", req->city);
	CHECK(contains(text, mayor));
	list[n++] = strdup(sq(mayor));
	CHECK(contains(text, req->mayor));
	list[n++] = strdup(sq(req->mayor));
	if (req->orig[0] != '\0') {
		CHECK(contains(text, req->orig));
		list[n++] = strdup(sq(req->orig));
	}
	for (unsigned p = 1; p <= pages; p++) {
		snprintf(pagestr, sizeof(pagestr), "%u/%u", p, pages);
		CHECK(contains(text, pagestr));
		list[n++] = strdup(pagestr);
	}
	{
		const char *copy[2048];

		memcpy(copy, list, n * sizeof(list[0]));
		subtract(text, copy, n);
	}
	if (text[0] != '\0')
		fprintf(stderr, "  text not accounted for: \"%s\"\n", text);
	CHECK_EQ_STR(text, "");
	for (size_t i = 0; i < n; i++)
		free((char *)list[i]);
	free(text);
}

static void
check_qr(const char *pdf, int page, const char *code)
{
	char *got = rd_qr(pdf, page);

	CHECK(got != NULL);
	if (got != NULL && strcmp(got, code) != 0)
		fprintf(stderr, "  page %d's QR: \"%s\"\n", page, got);
	CHECK(got != NULL && strcmp(got, code) == 0);
	free(got);
}

static void
test_one_person(void)
{
	struct hwg_rd_request req;
	struct hwg_render_result res;
	char pdf[300], *text;

	REQUIRE(rd_request(&req, 1, 1) == 0);
	REQUIRE(render(rd, &req, &res, pdf, sizeof(pdf)) == 0);
	CHECK_EQ_INT(res.pages, 1);
	CHECK(res.len > 1000 && memcmp(res.pdf, "%PDF-", 5) == 0);
	CHECK_EQ_INT(res.gaiji_drawn, 0);
	CHECK_EQ_INT(res.gaiji_substituted, 0);
	check_exact_text(pdf, &req, 1);
	/* the check can fail: the templates alone leave the values */
	REQUIRE((text = rd_pdftotext(pdf, 0)) != NULL);
	squeeze(text);
	{
		const char *copy[64];
		size_t n = 0;

		for (const char *const *t = hwg_render_templates(); *t != NULL && n < 64; t++)
			copy[n++] = *t;
		subtract(text, copy, n);
	}
	CHECK(contains(text, "ヤマダ　タロウ") && contains(text, req.no));
	free(text);
	text = rd_pdftotext(pdf, 1);
	REQUIRE(text != NULL);
	squeeze(text);
	CHECK(contains(text, "住民票の写し"));
	CHECK(contains(text, "この写しは、住民票の原本と相違ないことを証明する。"));
	CHECK(!contains(text, "世帯全員"));
	CHECK(contains(text, "交付番号gw-tokyo-01-20261207-000042"));
	CHECK(contains(text, "2026年12月7日"));
	CHECK(contains(text, "城南市長大川誠一"));
	CHECK(contains(text, "個人番号123456789018"));
	CHECK(!contains(text, "再発行"));
	CHECK(!contains(text, HWG_RENDER_FOOTNOTE));
	free(text);
	check_qr(pdf, 1, req.code);
	hwg_render_result_clear(&res);
	hwg_rd_request_clear(&req);
}

static void
test_household_five(void)
{
	struct hwg_rd_request req;
	struct hwg_render_result res;
	char pdf[300], *p1, *p2;

	REQUIRE(rd_request(&req, 5, 1) == 0);
	REQUIRE(render(rd, &req, &res, pdf, sizeof(pdf)) == 0);
	CHECK_EQ_INT(res.pages, 2);
	check_exact_text(pdf, &req, 2);
	p1 = rd_pdftotext(pdf, 1);
	p2 = rd_pdftotext(pdf, 2);
	REQUIRE(p1 != NULL && p2 != NULL);
	squeeze(p1);
	squeeze(p2);
	/* three people on the first page, two on the second, in the request's order */
	for (size_t i = 0; i < 5; i++) { /* (a name may be another's 世帯主: the kana) */
		CHECK(contains(i < 3 ? p1 : p2, rd_household[i].kana));
		CHECK(!contains(i < 3 ? p2 : p1, rd_household[i].kana));
	}
	CHECK(strstr(p1, sq(rd_household[0].kana)) < strstr(p1, sq(rd_household[1].kana)));
	CHECK(strstr(p1, sq(rd_household[1].kana)) < strstr(p1, sq(rd_household[2].kana)));
	CHECK(contains(p1, "1/2") && contains(p2, "2/2"));
	CHECK(contains(p1, req.no) && contains(p2, req.no));
	CHECK(contains(p1, "住民票の写し") && contains(p2, "住民票の写し"));
	/* the certification on the last page only */
	CHECK(contains(p2, "この写しは、世帯全員の住民票の原本と相違ないことを証明する。"));
	CHECK(!contains(p1, "証明する"));
	CHECK(!contains(p1, "城南市長"));
	free(p1);
	free(p2);
	check_qr(pdf, 1, req.code);
	check_qr(pdf, 2, req.code);
	hwg_render_result_clear(&res);
	hwg_rd_request_clear(&req);
}

static void
test_reprint(void)
{
	struct hwg_rd_request req;
	struct hwg_render_result res;
	char pdf[300], *text;

	REQUIRE(rd_request(&req, 4, 0) == 0);
	snprintf(req.orig, sizeof(req.orig), "gw-tokyo-01-20261130-000007");
	REQUIRE(render(rd, &req, &res, pdf, sizeof(pdf)) == 0);
	CHECK_EQ_INT(res.pages, 2);
	check_exact_text(pdf, &req, 2);
	for (int p = 1; p <= 2; p++) {
		REQUIRE((text = rd_pdftotext(pdf, p)) != NULL);
		squeeze(text);
		CHECK(contains(text, "再発行"));
		CHECK(contains(text, "原本 No. gw-tokyo-01-20261130-000007"));
		CHECK(!contains(text, "個人番号")); /* my_number false: no row */
		free(text);
	}
	hwg_render_result_clear(&res);
	hwg_rd_request_clear(&req);
}

/* Each kind: its title, its sentence, a label for each field it carries. */
static void
test_kinds(void)
{
	static const struct {
		int kind;
		const char *title, *sentence;
		const char *fields[6][2];
	} kinds[] = {
	    {HWG_RD_KISAI,
	     "住民票記載事項証明書",
	     "上記のとおり住民票に記載されていることを証明する。",
	     {{"name", "佐藤　一"}, {"address", "城南市北町5番地"}}},
	    {HWG_RD_TENSHUTSU,
	     "転出証明書",
	     "上記の者は転出の届出をしたことを証明する。",
	     {{"name", "佐藤　一"},
	      {"address", "城南市北町5番地"},
	      {"moving_to", "大阪府大阪市北区梅田1丁目"},
	      {"moving_date", "2027-01-15"},
	      {"relation", "世帯主"}}},
	    {HWG_RD_INKAN,
	     "印鑑登録証明書",
	     "上記のとおり印鑑登録されていることを証明する。",
	     {{"name", "佐藤　一"},
	      {"birth", "1985-07-07"},
	      {"address", "城南市北町5番地"},
	      {"seal_no", "0012345"}}},
	};

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct hwg_rd_person p = {0};
		struct hwg_rd_request req = {.kind = kinds[k].kind,
		                             .no = "gw-tokyo-01-20261207-000100",
		                             .date = "2026-12-07",
		                             .city = "城南市",
		                             .mayor = "大川　誠一",
		                             .people = &p,
		                             .n_people = 1};
		struct hwg_render_result res;
		char pdf[300], *text;

		rd_code(req.code, 120);
		for (int f = 0; f < 6 && kinds[k].fields[f][0] != NULL; f++)
			REQUIRE(hwg_rd_person_set(&p, kinds[k].fields[f][0],
			                          kinds[k].fields[f][1]) == 0);
		REQUIRE(render(rd, &req, &res, pdf, sizeof(pdf)) == 0);
		CHECK_EQ_INT(res.pages, 1);
		check_exact_text(pdf, &req, 1);
		REQUIRE((text = rd_pdftotext(pdf, 1)) != NULL);
		squeeze(text);
		CHECK(contains(text, kinds[k].title));
		CHECK(contains(text, kinds[k].sentence));
		for (int f = 0; f < 6 && kinds[k].fields[f][0] != NULL; f++)
			CHECK(contains(
			    text, hwg_render_label(hwg_rd_field_from_name(kinds[k].fields[f][0]))));
		CHECK(!contains(text, "フリガナ"));
		free(text);
		check_qr(pdf, 1, req.code);
		hwg_render_result_clear(&res);
		for (int f = 0; f < HWG_RD_FIELDS; f++)
			free(p.value[f]);
	}
}

/* ---------------------------------------------------------------- 外字 */

/* Dark pixels of page 1 at 100 dpi (pdftoppm's PGM). */
static long
dark_pixels(const char *pdf)
{
	char cmd[700], pgm[400];
	unsigned char *img;
	long w, h, max, dark = 0;
	FILE *f;

	snprintf(pgm, sizeof(pgm), "%s/page", rd_dir);
	snprintf(cmd, sizeof(cmd), "pdftoppm -q -r 100 -gray -f 1 -l 1 -singlefile '%s' '%s'", pdf,
	         pgm);
	if (system(cmd) != 0)
		return -1;
	strncat(pgm, ".pgm", sizeof(pgm) - strlen(pgm) - 1);
	if ((f = fopen(pgm, "rb")) == NULL)
		return -1;
	if (fscanf(f, "P5 %ld %ld %ld", &w, &h, &max) != 3 || fgetc(f) == EOF || max != 255 ||
	    (img = malloc((size_t)(w * h))) == NULL) {
		fclose(f);
		return -1;
	}
	if (fread(img, 1, (size_t)(w * h), f) != (size_t)(w * h))
		dark = -1;
	for (long i = 0; dark >= 0 && i < w * h; i++)
		dark += img[i] < 128;
	free(img);
	fclose(f);
	return dark;
}

static struct hwg_render *
with_table(const char *text)
{
	struct hwg_render *r = NULL;
	struct hwg_error err = {0};
	char path[300];

	if (rd_write("gaiji.txt", text, strlen(text), path, sizeof(path)) != 0 ||
	    hwg_render_new(path, &r, &err) != 0)
		fprintf(stderr, "  table: %s\n", err.message);
	return r;
}

#define SOLID "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
#define BLANK "0000000000000000000000000000000000000000000000000000000000000000"

static void
test_gaiji(void)
{
	struct hwg_render *solid = with_table("# 城南市の外字\nE000 " SOLID "\n\nE001 =崎\n");
	struct hwg_render *blank = with_table("E000 " BLANK "\r\nE001 =崎\r\n");
	struct hwg_rd_request req;
	struct hwg_render_result res, res_blank;
	char pdf[300], pdf_blank[300], *p1, *p2;
	long dark, dark_blank;

	REQUIRE(solid != NULL && blank != NULL);
	REQUIRE(rd_request(&req, 4, 0) == 0);
	/* person 1: a table bitmap (drawn, no text); person 4: a substitute, an unknown
	 * private-use code point, a character the font lacks (U+1F600) */
	hwg_rd_person_set(&req.people[0], "address", "城南市\xee\x80\x80町一丁目");
	hwg_rd_person_set(&req.people[3], "name", "山\xee\x80\x81　桜");
	hwg_rd_person_set(&req.people[3], "kana", "ヤマ\xee\x80\x82　サクラ");
	hwg_rd_person_set(&req.people[3], "address", "城南市\xf0\x9f\x98\x80町");
	REQUIRE(render(solid, &req, &res, pdf, sizeof(pdf)) == 0);
	REQUIRE(render(blank, &req, &res_blank, pdf_blank, sizeof(pdf_blank)) == 0);
	CHECK_EQ_INT(res.pages, 2);
	CHECK_EQ_INT(res.gaiji_drawn, 1);
	CHECK_EQ_INT(res.gaiji_substituted, 3);
	p1 = rd_pdftotext(pdf, 1);
	p2 = rd_pdftotext(pdf, 2);
	REQUIRE(p1 != NULL && p2 != NULL);
	squeeze(p1);
	squeeze(p2);
	/* the bitmap is drawn, not text: the value without it; no private-use byte anywhere */
	CHECK(contains(p1, "城南市町一丁目"));
	CHECK(strstr(p1, "\xee\x80") == NULL && strstr(p2, "\xee\x80") == NULL);
	CHECK(contains(p2, "山崎※桜"));
	CHECK(contains(p2, "ヤマ〓※サクラ"));
	CHECK(contains(p2, "城南市〓※町"));
	/* the footnote on the page that shows a substitute, and only there */
	CHECK(contains(p2, HWG_RENDER_FOOTNOTE));
	CHECK(contains(p2, "※印は外字を代替文字で表示しています"));
	CHECK(!contains(p1, HWG_RENDER_FOOTNOTE));
	/* the same page with the glyph's pixels set or clear: 16x16 at 9.5 pt is ~170 pixels */
	dark = dark_pixels(pdf);
	dark_blank = dark_pixels(pdf_blank);
	fprintf(stderr, "  page 1 dark pixels: solid glyph %ld, blank glyph %ld\n", dark,
	        dark_blank);
	CHECK(dark > 0 && dark_blank > 0 && dark - dark_blank > 100 && dark - dark_blank < 400);
	free(p1);
	free(p2);
	hwg_render_result_clear(&res);
	hwg_render_result_clear(&res_blank);
	hwg_rd_request_clear(&req);
	hwg_render_free(solid);
	hwg_render_free(blank);
}

static void
test_gaiji_table(void)
{
	static const struct {
		const char *text;
		const char *why; /* NULL: accepted */
	} cases[] = {
	    {"", NULL},
	    {"# only a comment\n\n", NULL},
	    {"E000 =崎\r\nF8FF " SOLID "\n", NULL},
	    {"e00a =髙", NULL},
	    {"E000", "line 1: not a code point"},
	    {"\nE00G =a", "line 2: not a code point"},
	    {"E000=a", "line 1: not a code point"},
	    {"DFFF =a", "line 1: the code point is not in U+E000-U+F8FF"},
	    {"F900 =a", "line 1: the code point is not in U+E000-U+F8FF"},
	    {"E000 =a\nE000 =b", "line 2: the code point is named twice"},
	    {"E000 =ab", "line 1: '=' is not followed by exactly one character"},
	    {"E000 =", "line 1: '=' is not followed by exactly one character"},
	    {"E000 =\xee\x80\x81", "line 1: a substitute is neither a control nor private-use"},
	    {"E000 =\t", "line 1: a substitute is neither a control nor private-use"},
	    {"E000 " BLANK "0", "line 1: a bitmap is 64 hex digits"},
	    {"E000 0000", "line 1: a bitmap is 64 hex digits"},
	    {"E000 "
	     "G000000000000000000000000000000000000000000000000000000000000000",
	     "line 1: a bitmap is 64 hex digits"},
	    {"E000 =\xff", "not UTF-8 text"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hwg_gaiji *g = NULL;
		struct hwg_error err = {0};
		int rc = hwg_gaiji_parse(cases[i].text, strlen(cases[i].text), &g, &err);

		if (cases[i].why == NULL) {
			CHECK_EQ_INT(rc, 0);
		} else {
			CHECK_EQ_INT(rc, HWG_E_CONFIG);
			CHECK(g == NULL);
			if (strstr(err.message, cases[i].why) == NULL)
				fprintf(stderr, "  case %zu: \"%s\"\n", i, err.message);
			CHECK(strstr(err.message, cases[i].why) != NULL);
		}
		if (i == 2) {
			const struct hwg_gaiji_entry *e = hwg_gaiji_lookup(g, 0xE000);

			CHECK(e != NULL && e->kind == HWG_GAIJI_SUBSTITUTE &&
			      strcmp(e->substitute, "崎") == 0);
			CHECK((e = hwg_gaiji_lookup(g, 0xF8FF)) != NULL &&
			      e->kind == HWG_GAIJI_BITMAP && e->bitmap[31] == 0xff);
			CHECK(hwg_gaiji_lookup(g, 0xE001) == NULL);
		}
		hwg_gaiji_free(g);
	}
	{
		struct hwg_gaiji *g = NULL;
		struct hwg_error err = {0};

		CHECK_EQ_INT(hwg_gaiji_parse("E000 =a\0", 8, &g, &err), HWG_E_CONFIG);
		CHECK_EQ_INT(hwg_gaiji_load("/nonexistent/gaiji", &g, &err), HWG_E_CONFIG);
		CHECK(strstr(err.message, "[cert] gaiji_table") != NULL);
	}
}

/* ---------------------------------------------------------------- the request decoder */

enum mutation {
	M_NONE,
	M_NO_KIND,
	M_UNKNOWN_KIND,
	M_NO_PEOPLE_KEY,
	M_PEOPLE_EMPTY,
	M_PEOPLE_61,
	M_PERSON_NOT_MAP,
	M_VALUE_NOT_TEXT,
	M_UNKNOWN_KEY,
	M_DUPLICATE_KEY,
	M_NO_BAD,
	M_DATE_BAD,
	M_CITY_EMPTY,
	M_HOUSEHOLD_NOT_BOOL,
	M_NO_NAME,
	M_NAME_LONG,
	M_VALUE_LONG,
	M_VALUE_CONTROL,
	M_VALUE_C1,
	M_BIRTH_BAD,
	M_UNKNOWN_FIELD,
	M_FIELD_TWICE,
	M_MY_NUMBER_FALSE,
	M_TENSHUTSU_MY_NUMBER,
	M_INKAN_TWO,
	M_CODE_NOT_ASCII,
	M_CODE_EMPTY,
	M_REPRINT_NO_ORIG,
	M_REPRINT_EXTRA,
	M_PEOPLE_NOT_ARRAY,
	M_COUNT
};

static const struct {
	const char *why;
} expected[M_COUNT] = {
    [M_NONE] = {NULL},
    [M_NO_KIND] = {"\"kind\" is missing"},
    [M_UNKNOWN_KIND] = {"\"kind\" is not one of"},
    [M_NO_PEOPLE_KEY] = {"\"people\" is missing"},
    [M_PEOPLE_EMPTY] = {"\"people\" holds 0, not 1-60"},
    [M_PEOPLE_61] = {"\"people\" holds 61, not 1-60"},
    [M_PERSON_NOT_MAP] = {"a person is not a definite map"},
    [M_VALUE_NOT_TEXT] = {"a person's \"address\" is not a text"},
    [M_UNKNOWN_KEY] = {"key \"colour\" is unknown or repeated"},
    [M_DUPLICATE_KEY] = {"key \"city\" is unknown or repeated"},
    [M_NO_BAD] = {"\"no\" is not 1-64 of A-Z a-z 0-9 . _ -"},
    [M_DATE_BAD] = {"\"date\" is not a date"},
    [M_CITY_EMPTY] = {"\"city\" is not 1-64 bytes of text"},
    [M_HOUSEHOLD_NOT_BOOL] = {"\"household\" is not a bool"},
    [M_NO_NAME] = {"a person has no \"name\""},
    [M_NAME_LONG] = {"field \"name\" is empty or over 64 bytes"},
    [M_VALUE_LONG] = {"field \"address\" is over 200 bytes"},
    [M_VALUE_CONTROL] = {"field \"address\" holds a control character"},
    [M_VALUE_C1] = {"field \"kana\" holds a control character"},
    [M_BIRTH_BAD] = {"field \"birth\" is not a date"},
    [M_UNKNOWN_FIELD] = {"a person has a field that is not one of the plan's names"},
    [M_FIELD_TWICE] = {"a person has \"sex\" twice"},
    [M_MY_NUMBER_FALSE] = {"a person has \"my_number\" but the request's is false"},
    [M_TENSHUTSU_MY_NUMBER] = {"a tenshutsu certificate never shows a My Number"},
    [M_INKAN_TWO] = {"an inkan certificate is for one person"},
    [M_CODE_NOT_ASCII] = {"\"code\" is not 1-1024 characters of printable ASCII"},
    [M_CODE_EMPTY] = {"\"code\" is not 1-1024 characters of printable ASCII"},
    [M_REPRINT_NO_ORIG] = {"\"reprint\" has no orig"},
    [M_REPRINT_EXTRA] = {"\"reprint\" is not a map of orig only"},
    [M_PEOPLE_NOT_ARRAY] = {"\"people\" is not a definite array"},
};

static void
put(cbor_item_t *m, const char *k, cbor_item_t *v)
{
	CHECK(hwg_cbor_map_put_item(m, k, v) == 0);
}

static cbor_item_t *
person_item(enum mutation mu, size_t i)
{
	const struct rd_fields *f = &rd_household[i % RD_HOUSEHOLD];
	char long_value[HWG_RD_VALUE_MAX + 2];
	cbor_item_t *p;

	if (mu == M_PERSON_NOT_MAP)
		return cbor_build_string(f->name);
	p = cbor_new_definite_map(16);
	if (mu != M_NO_NAME)
		put(p, "name",
		    cbor_build_string(mu == M_NAME_LONG
		                          ? "あいうえおかきくけこさしすせそたちつてとなにぬね"
		                          : f->name));
	put(p, "kana", cbor_build_string(mu == M_VALUE_C1 ? "ヤマダ\xc2\x85タロウ" : f->kana));
	put(p, "birth", cbor_build_string(mu == M_BIRTH_BAD ? "1970/04/01" : f->birth));
	put(p, "sex", cbor_build_string(f->sex));
	if (mu == M_FIELD_TWICE)
		put(p, "sex", cbor_build_string(f->sex));
	memset(long_value, 'a', HWG_RD_VALUE_MAX + 1);
	long_value[HWG_RD_VALUE_MAX + 1] = '\0';
	put(p, "address",
	    mu == M_VALUE_NOT_TEXT  ? cbor_build_uint8(12)
	    : mu == M_VALUE_LONG    ? cbor_build_string(long_value)
	    : mu == M_VALUE_CONTROL ? cbor_build_string("城南市\n中央")
	                            : cbor_build_string(f->address));
	if (mu == M_UNKNOWN_FIELD)
		put(p, "email", cbor_build_string("a@example.jp"));
	if (mu == M_MY_NUMBER_FALSE || mu == M_TENSHUTSU_MY_NUMBER)
		put(p, "my_number", cbor_build_string(f->my_number));
	return p;
}

/* The request as bytes, built with libcbor (not the module's encoder), mutated. */
static uint8_t *
request_bytes(enum mutation mu, size_t *len)
{
	cbor_item_t *m = cbor_new_definite_map(16), *people, *rp;
	size_t n = mu == M_PEOPLE_EMPTY ? 0 : mu == M_PEOPLE_61 ? 61 : mu == M_INKAN_TWO ? 2 : 1;
	const char *kind = mu == M_UNKNOWN_KIND          ? "jyuminhyo"
	                   : mu == M_TENSHUTSU_MY_NUMBER ? "tenshutsu"
	                   : mu == M_INKAN_TWO           ? "inkan"
	                                                 : "juminhyo";
	unsigned char *out = NULL;
	size_t cap = 0;

	if (mu != M_NO_KIND)
		put(m, "kind", cbor_build_string(kind));
	put(m, "no", cbor_build_string(mu == M_NO_BAD ? "gw 1" : "gw-1-20261207-000001"));
	put(m, "date", cbor_build_string(mu == M_DATE_BAD ? "2026-02-30" : "2026-12-07"));
	put(m, "city", cbor_build_string(mu == M_CITY_EMPTY ? "" : "城南市"));
	if (mu == M_DUPLICATE_KEY)
		put(m, "city", cbor_build_string("北市"));
	put(m, "mayor", cbor_build_string("大川　誠一"));
	put(m, "household", mu == M_HOUSEHOLD_NOT_BOOL ? cbor_build_uint8(1) : cbor_build_bool(0));
	put(m, "my_number", cbor_build_bool(mu == M_TENSHUTSU_MY_NUMBER));
	put(m, "code",
	    cbor_build_string(mu == M_CODE_NOT_ASCII ? "HWC1:コード"
	                      : mu == M_CODE_EMPTY   ? ""
	                                             : "HWC1:ABC"));
	if (mu != M_NO_PEOPLE_KEY) {
		people = mu == M_PEOPLE_NOT_ARRAY ? cbor_new_definite_map(0)
		                                  : cbor_new_definite_array(n);
		for (size_t i = 0; i < n && mu != M_PEOPLE_NOT_ARRAY; i++) {
			cbor_item_t *pi = person_item(mu, i);

			CHECK(cbor_array_push(people, pi)); /* takes its own reference */
			cbor_decref(&pi);
		}
		put(m, "people", people);
	}
	if (mu == M_UNKNOWN_KEY)
		put(m, "colour", cbor_build_string("red"));
	if (mu == M_REPRINT_NO_ORIG || mu == M_REPRINT_EXTRA) {
		rp = cbor_new_definite_map(2);
		if (mu == M_REPRINT_EXTRA) {
			put(rp, "orig", cbor_build_string("gw-1-20261130-000001"));
			put(rp, "why", cbor_build_string("jam"));
		}
		put(m, "reprint", rp);
	}
	*len = cbor_serialize_alloc(m, &out, &cap);
	cbor_decref(&m);
	return out;
}

static void
check_refused(const uint8_t *p, size_t len, int code, const char *why, const char *what)
{
	struct hwg_rd_request r;
	struct hwg_error err = {0};
	int rc = hwg_rd_request_decode(p, len, &r, &err);

	if (rc != code || strstr(err.message, why) == NULL)
		fprintf(stderr, "  %s: %d \"%s\"\n", what, rc, err.message);
	CHECK_EQ_INT(rc, code);
	CHECK(strstr(err.message, why) != NULL);
	CHECK(r.people == NULL && r.n_people == 0); /* nothing out to render */
	hwg_rd_request_clear(&r);
}

static void
test_bad_requests(void)
{
	uint8_t *big;
	size_t len;

	for (int mu = 0; mu < M_COUNT; mu++) {
		uint8_t *p = request_bytes((enum mutation)mu, &len);
		char what[32];

		REQUIRE(p != NULL);
		snprintf(what, sizeof(what), "mutation %d", mu);
		if (mu == M_NONE) {
			struct hwg_rd_request r;
			struct hwg_error err = {0};

			CHECK_EQ_INT(hwg_rd_request_decode(p, len, &r, &err), 0);
			CHECK_EQ_INT(r.n_people, 1);
			CHECK_EQ_STR(r.people[0].value[HWG_RD_NAME], rd_household[0].name);
			CHECK_EQ_INT(r.kind, HWG_RD_JUMINHYO);
			hwg_rd_request_clear(&r);
			/* trailing bytes after the map */
			uint8_t *longer = malloc(len + 1);

			memcpy(longer, p, len);
			longer[len] = 0x00;
			check_refused(longer, len + 1, HWG_E_BAD_ARGS, "not CBOR", "trailing");
			/* every cut */
			for (size_t cut = 0; cut < len; cut++)
				check_refused(p, cut, HWG_E_BAD_ARGS, "render request", "cut");
			free(longer);
		} else {
			check_refused(p, len, HWG_E_BAD_ARGS, expected[mu].why, what);
		}
		free(p);
	}
	/* oversize: refused before it is parsed */
	len = HWG_RD_REQUEST_MAX + 1;
	REQUIRE((big = calloc(1, len)) != NULL);
	check_refused(big, len, HWG_E_TOO_LARGE, "over the limit of 262144", "oversize");
	free(big);
	check_refused((const uint8_t *)"\xa0", 1, HWG_E_BAD_ARGS, "\"kind\" is missing", "empty");
	check_refused((const uint8_t *)"\x80", 1, HWG_E_BAD_ARGS, "not one definite CBOR map",
	              "array");
}

static void
test_encode_roundtrip(void)
{
	struct hwg_rd_request req, back;
	struct hwg_error err = {0};
	uint8_t *bytes = NULL;
	size_t len = 0;

	REQUIRE(rd_request(&req, 5, 1) == 0);
	snprintf(req.orig, sizeof(req.orig), "gw-1-20261130-000001");
	REQUIRE(hwg_rd_request_encode(&req, &bytes, &len, &err) == 0);
	REQUIRE(hwg_rd_request_decode(bytes, len, &back, &err) == 0);
	CHECK_EQ_INT(back.kind, req.kind);
	CHECK_EQ_STR(back.no, req.no);
	CHECK_EQ_STR(back.date, req.date);
	CHECK_EQ_STR(back.city, req.city);
	CHECK_EQ_STR(back.mayor, req.mayor);
	CHECK_EQ_STR(back.code, req.code);
	CHECK_EQ_STR(back.orig, req.orig);
	CHECK_EQ_INT(back.household, 1);
	CHECK_EQ_INT(back.my_number, 1);
	CHECK_EQ_INT(back.n_people, 5);
	for (size_t i = 0; i < 5 && back.n_people == 5; i++)
		for (int f = 0; f < HWG_RD_FIELDS; f++)
			CHECK((req.people[i].value[f] == NULL && back.people[i].value[f] == NULL) ||
			      (req.people[i].value[f] != NULL && back.people[i].value[f] != NULL &&
			       strcmp(req.people[i].value[f], back.people[i].value[f]) == 0));
	free(bytes);
	hwg_rd_request_clear(&back);
	/* the encoder refuses what the decoder would */
	req.my_number = 0;
	CHECK_EQ_INT(hwg_rd_request_encode(&req, &bytes, &len, &err), HWG_E_BAD_ARGS);
	CHECK(strstr(err.message, "\"my_number\" but the request's is false") != NULL);
	CHECK_EQ_INT(hwg_rd_person_set(&req.people[0], "email", "x"), HWG_E_INVALID);
	hwg_rd_request_clear(&req);
}

/* ---------------------------------------------------------------- READY and REPLY */

static void
test_reply_proto(void)
{
	static const uint8_t pdf[] = "%PDF-1.5 not really";
	struct hwg_buf *b = hwg_buf_new(4096), *v;
	struct hwg_error err = {0};
	char msg[HWG_RD_MSG_MAX + 1];
	const uint8_t *got;
	unsigned pages;
	size_t len;
	int code;

	REQUIRE(b != NULL);
	REQUIRE(hwg_rd_reply_encode_pdf(pdf, sizeof(pdf), 3, b) == 0);
	/* every cut is refused, the whole accepted */
	for (size_t cut = 0; cut < hwg_buf_len(b); cut++) {
		v = hwg_buf_from(hwg_buf_ptr(b), cut);
		CHECK_EQ_INT(hwg_rd_reply_decode(v, &code, msg, &got, &len, &pages, &err),
		             HWG_E_BAD_ENCODING);
		hwg_buf_free(v);
	}
	v = hwg_buf_from(hwg_buf_ptr(b), hwg_buf_len(b));
	CHECK_EQ_INT(hwg_rd_reply_decode(v, &code, msg, &got, &len, &pages, &err), 0);
	CHECK(code == 0 && len == sizeof(pdf) && memcmp(got, pdf, len) == 0 && pages == 3);
	hwg_buf_free(v);
	/* an error reply, its message cut and kept valid */
	hwg_buf_reset(b);
	REQUIRE(hwg_rd_reply_encode_error(HWG_E_BAD_ARGS, "render request: \"no\" is bad\n", b) ==
	        0);
	v = hwg_buf_from(hwg_buf_ptr(b), hwg_buf_len(b));
	CHECK_EQ_INT(hwg_rd_reply_decode(v, &code, msg, &got, &len, &pages, &err), 0);
	CHECK_EQ_INT(code, HWG_E_BAD_ARGS);
	CHECK_EQ_STR(msg, "render request: \"no\" is bad\\x0a");
	hwg_buf_free(v);
	CHECK_EQ_INT(hwg_rd_reply_encode_error(0, "x", b), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_rd_reply_encode_pdf(pdf, 0, 1, b), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_rd_reply_encode_pdf(pdf, sizeof(pdf), 0, b), HWG_E_INVALID);
	/* hand-made: a non-shortest head, an unknown code, pages 0, a byte after */
	{
		static const struct {
			const char *bytes;
			size_t len;
		} bad[] = {
		    {"\xb8\x02\x63pdf\x41x\x65pages\x01", 15},
		    {"\xa2\x64\x63ode\x64nope\x63msg\x60", 16},
		    {"\xa2\x63pdf\x41x\x65pages\x00", 14},
		    {"\xa2\x63pdf\x41x\x65pages\x01\x00", 15},
		    {"\xa2\x63pdf\x40\x65pages\x01", 13},
		    {"\xa3\x63pdf\x41x\x65pages\x01", 14},
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			v = hwg_buf_from(bad[i].bytes, bad[i].len);
			CHECK_EQ_INT(hwg_rd_reply_decode(v, &code, msg, &got, &len, &pages, &err),
			             HWG_E_BAD_ENCODING);
			hwg_buf_free(v);
		}
		v = hwg_buf_from("\xa2\x63pdf\x41x\x65pages\x01", 14);
		CHECK_EQ_INT(hwg_rd_reply_decode(v, &code, msg, &got, &len, &pages, &err), 0);
		hwg_buf_free(v);
	}
	/* READY */
	hwg_buf_reset(b);
	REQUIRE(hwg_rd_ready_encode(0, "", b) == 0);
	v = hwg_buf_from(hwg_buf_ptr(b), hwg_buf_len(b));
	CHECK_EQ_INT(hwg_rd_ready_decode(v, &code, msg, &err), 0);
	CHECK_EQ_INT(code, 0);
	hwg_buf_free(v);
	hwg_buf_reset(b);
	REQUIRE(hwg_rd_ready_encode(HWG_E_CONFIG, "no font", b) == 0);
	v = hwg_buf_from(hwg_buf_ptr(b), hwg_buf_len(b));
	CHECK_EQ_INT(hwg_rd_ready_decode(v, &code, msg, &err), 0);
	CHECK(code == HWG_E_CONFIG && strcmp(msg, "no font") == 0);
	hwg_buf_free(v);
	v = hwg_buf_from("\xa1\x61x\x61y", 5);
	CHECK_EQ_INT(hwg_rd_ready_decode(v, &code, msg, &err), HWG_E_BAD_ENCODING);
	hwg_buf_free(v);
	hwg_buf_free(b);
}

/* ---------------------------------------------------------------- the fuzzers' seeds */

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)n + 1)) != NULL && fread(p, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	else {
		free(p);
		p = NULL;
	}
	fclose(f);
	return p;
}

/* 0 if the seed decodes with the decoder its first byte picks (fuzz_render_request.c). */
static int
seed_decodes(const uint8_t *p, size_t len)
{
	struct hwg_error err = {0};
	struct hwg_rd_request r;
	char msg[HWG_RD_MSG_MAX + 1];
	const uint8_t *pdf;
	struct hwg_buf *b;
	unsigned pages;
	size_t n;
	int code, rc;

	if (len == 0)
		return -1;
	if (p[0] % 3 == 0) {
		rc = hwg_rd_request_decode(p + 1, len - 1, &r, &err);
		hwg_rd_request_clear(&r);
		return rc;
	}
	b = hwg_buf_from(p + 1, len - 1);
	rc = p[0] % 3 == 1 ? hwg_rd_reply_decode(b, &code, msg, &pdf, &n, &pages, &err)
	                   : hwg_rd_ready_decode(b, &code, msg, &err);
	hwg_buf_free(b);
	return rc;
}

/* Each seed is accepted or refused as its name says (ok-, bad-, reply-ok-, ready-bad- ...). */
static void
test_fuzz_seeds(void)
{
	const char *src = getenv("HWG_SOURCE_DIR");
	const char *targets[] = {"fuzz_render_request", "fuzz_gaiji_table"};
	int seen = 0;

	REQUIRE(src != NULL);
	for (size_t t = 0; t < 2; t++) {
		char dir[512], path[1024];
		struct dirent *e;
		DIR *d;

		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", src, targets[t]);
		REQUIRE((d = opendir(dir)) != NULL);
		while ((e = readdir(d)) != NULL) {
			size_t len = 0;
			uint8_t *p;
			int ok, rc;

			if (e->d_name[0] == '.')
				continue;
			ok = strstr(e->d_name, "ok-") != NULL;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			REQUIRE((p = slurp(path, &len)) != NULL);
			if (t == 0) {
				rc = seed_decodes(p, len);
			} else {
				struct hwg_gaiji *g = NULL;
				struct hwg_error err = {0};

				rc = hwg_gaiji_parse((const char *)p, len, &g, &err);
				hwg_gaiji_free(g);
			}
			if ((rc == 0) != ok)
				fprintf(stderr, "  seed %s: %d\n", e->d_name, rc);
			CHECK((rc == 0) == ok);
			seen++;
			free(p);
		}
		closedir(d);
	}
	CHECK(seen > 40);
}

static void
test_dates_and_templates(void)
{
	const char *const *t = hwg_render_templates();
	char out[32];

	CHECK(hwg_render_date("2026-12-07", out, sizeof(out)) == 0 &&
	      strcmp(out, "2026年12月7日") == 0);
	CHECK(hwg_render_date("2000-02-29", out, sizeof(out)) == 0 &&
	      strcmp(out, "2000年2月29日") == 0);
	CHECK_EQ_INT(hwg_render_date("1900-02-29", out, sizeof(out)), -1);
	CHECK_EQ_INT(hwg_render_date("2026-13-01", out, sizeof(out)), -1);
	CHECK_EQ_INT(hwg_render_date("2026-1-01", out, sizeof(out)), -1);
	CHECK_EQ_INT(hwg_render_date("2026-12-07", out, 8), -1);
	/* every title and label is among the template strings */
	for (int i = 0; i < HWG_RD_KINDS + HWG_RD_FIELDS; i++) {
		const char *s =
		    i < HWG_RD_KINDS ? hwg_render_title(i) : hwg_render_label(i - HWG_RD_KINDS);
		int found = 0;

		for (size_t j = 0; t[j] != NULL; j++)
			found |= strcmp(t[j], s) == 0;
		CHECK(found);
	}
	CHECK(hwg_render_label(HWG_RD_FIELDS) == NULL && hwg_render_title(-1) == NULL);
}

int
main(void)
{
	struct hwg_error err = {0};
	int rc;

	if (!rd_have("pdftotext") || !rd_have("pdftoppm") || !rd_have("zbarimg")) {
		fprintf(stderr, "SKIP: pdftotext, pdftoppm (poppler-utils) or zbarimg "
		                "(zbar-tools) missing\n");
		return 77;
	}
	if (rd_setup() != 0)
		return 1;
	if ((rc = hwg_render_new(NULL, &rd, &err)) != 0) {
		fprintf(stderr, "hwg_render_new: %s\n", err.message);
		rd_teardown();
		return rc == HWG_E_CONFIG ? 77 : 1; /* no IPAex Mincho: fonts-ipaexfont-mincho */
	}
	fprintf(stderr, "# font %s\n", hwg_render_font_file(rd));
	HWG_RUN(test_one_person);
	HWG_RUN(test_household_five);
	HWG_RUN(test_reprint);
	HWG_RUN(test_kinds);
	HWG_RUN(test_gaiji);
	HWG_RUN(test_gaiji_table);
	HWG_RUN(test_bad_requests);
	HWG_RUN(test_encode_roundtrip);
	HWG_RUN(test_reply_proto);
	HWG_RUN(test_dates_and_templates);
	HWG_RUN(test_fuzz_seeds);
	hwg_render_free(rd);
	rd_teardown();
	return HWG_TEST_END();
}
