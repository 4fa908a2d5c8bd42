/*
 * hwg_render.c — see hwg_render.h.  Two passes over a request: every
 * person's table is laid out (pango layouts kept, heights measured) and
 * put on pages, then each page is drawn: header, tables, footnote, and
 * the bottom band (the QR code; on the last page the certification
 * beside it).  Units are PDF points; A4 is 595.28 x 841.89.
 *
 * Fonts: fontconfig is asked once for IPAex Mincho; pango then works on a
 * fontconfig configuration holding that one file, so no other font is
 * ever opened (a character it lacks is shown as 〓 with the mark, as a
 * 外字 the table does not name).
 */
#include "hwg_render.h"

#include <cairo-pdf.h>
#include <fontconfig/fontconfig.h>
#include <limits.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-fontmap.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_gaiji.h"
#include "hwg_secret.h"

/* ---------------------------------------------------------------- geometry */

#define PAGE_W 595.28
#define PAGE_H 841.89
#define MX 50.0 /* left and right margins */
#define TOP 36.0
#define BOTTOM 30.0
#define CONTENT_W (PAGE_W - 2 * MX)
#define BODY_TOP (TOP + 70.0)
#define LABEL_W 100.0
#define PAD 4.0      /* inside a cell */
#define ROW_MIN 18.0 /* a row's least height */
#define PERSON_GAP 10.0
#define FOOTNOTE_H 16.0
#define QR_MODULE 1.6 /* points a module: 3.3 pixels at 150 dpi */
#define QR_MAX 130.0  /* the symbol's largest side */
#define SEAL 52.0

#define SIZE_TITLE 20.0
#define SIZE_LABEL 9.0
#define SIZE_VALUE 9.5
#define SIZE_HEAD 9.0
#define SIZE_SENTENCE 10.5
#define SIZE_MAYOR 13.0
#define SIZE_REPRINT 13.0
#define SIZE_SMALL 8.0
#define SIZE_SEAL 20.0 /* drawn at this size, then scaled to the seal's cells */

/* ---------------------------------------------------------------- strings */

static const char *const titles[HWG_RD_KINDS] = {"住民票の写し", "住民票記載事項証明書",
                                                 "転出証明書", "印鑑登録証明書"};

static const char *const labels[HWG_RD_FIELDS] = {
    "氏名",           "フリガナ",           "生年月日",           "性別",   "続柄",   "世帯主",
    "住所",           "住民となった年月日", "住所を定めた年月日", "届出日", "前住所", "転出先",
    "転出予定年月日", "印鑑登録番号",       "個人番号",
};

#define S_HOUSEHOLD "この写しは、世帯全員の住民票の原本と相違ないことを証明する。"
#define S_PERSON "この写しは、住民票の原本と相違ないことを証明する。"
#define S_KISAI "上記のとおり住民票に記載されていることを証明する。"
#define S_TENSHUTSU "上記の者は転出の届出をしたことを証明する。"
#define S_INKAN "上記のとおり印鑑登録されていることを証明する。"
#define T_NUMBER "交付番号"
#define T_REPRINT "再発行"
#define T_ORIG "原本"
#define T_NO "No."
#define T_MAYOR "長"
#define T_SEAL "長之印" /* drawn, not text */

static const char *const templates[] = {
    "住民票の写し",
    "住民票記載事項証明書",
    "転出証明書",
    "印鑑登録証明書",
    "氏名",
    "フリガナ",
    "生年月日",
    "性別",
    "続柄",
    "世帯主",
    "住所",
    "住民となった年月日",
    "住所を定めた年月日",
    "届出日",
    "前住所",
    "転出先",
    "転出予定年月日",
    "印鑑登録番号",
    "個人番号",
    S_HOUSEHOLD,
    S_PERSON,
    S_KISAI,
    S_TENSHUTSU,
    S_INKAN,
    T_NUMBER,
    T_REPRINT,
    T_ORIG,
    T_NO,
    T_MAYOR,
    HWG_RENDER_MARK,
    HWG_RENDER_GETA,
    HWG_RENDER_FOOTNOTE,
    NULL,
};

/*
 * The rows of a person's table: each group is one row, its two fields side
 * by side, or one field across the row when the other is absent.
 */
static const int groups[][2] = {
    {HWG_RD_NAME, -1},
    {HWG_RD_KANA, -1},
    {HWG_RD_BIRTH, HWG_RD_SEX},
    {HWG_RD_RELATION, HWG_RD_HEAD},
    {HWG_RD_ADDRESS, -1},
    {HWG_RD_RESIDENT_SINCE, HWG_RD_ADDRESS_SINCE},
    {HWG_RD_NOTIFIED, HWG_RD_MOVING_DATE},
    {HWG_RD_PREVIOUS_ADDRESS, -1},
    {HWG_RD_MOVING_TO, -1},
    {HWG_RD_SEAL_NO, HWG_RD_MY_NUMBER},
};
#define GROUPS (sizeof(groups) / sizeof(groups[0]))

const char *
hwg_render_label(int field)
{
	return field >= 0 && field < HWG_RD_FIELDS ? labels[field] : NULL;
}

const char *
hwg_render_title(int kind)
{
	return kind >= 0 && kind < HWG_RD_KINDS ? titles[kind] : NULL;
}

const char *const *
hwg_render_templates(void)
{
	return templates;
}

static const char *
sentence(const struct hwg_rd_request *req)
{
	switch (req->kind) {
	case HWG_RD_JUMINHYO:
		return req->household ? S_HOUSEHOLD : S_PERSON;
	case HWG_RD_KISAI:
		return S_KISAI;
	case HWG_RD_TENSHUTSU:
		return S_TENSHUTSU;
	default:
		return S_INKAN;
	}
}

int
hwg_render_date(const char *iso, char *out, size_t len)
{
	int n;

	if (!hwg_rd_date_valid(iso))
		return -1;
	n = snprintf(out, len, "%.4s年%d月%d日", iso, atoi(iso + 5), atoi(iso + 8));
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* ---------------------------------------------------------------- the renderer */

struct hwg_render {
	char font_file[PATH_MAX];
	FcConfig *fc;        /* the one font */
	FcCharSet *coverage; /* what it can show */
	PangoFontMap *fontmap;
	PangoContext *ctx;
	struct hwg_gaiji *gaiji;
};

/* Draws a 外字 bitmap where pango placed its shape (hwg_gaiji.h). */
static void
draw_shape(cairo_t *cr, PangoAttrShape *attr, gboolean do_path, gpointer data)
{
	double x, y, size = (double)attr->logical_rect.width / PANGO_SCALE;

	(void)data;
	if (attr->data == NULL || !cairo_has_current_point(cr))
		return;
	cairo_get_current_point(cr, &x, &y);
	y += (double)attr->logical_rect.y / PANGO_SCALE;
	if (do_path) {
		hwg_gaiji_path(cr, attr->data, x, y, size);
		return;
	}
	cairo_save(cr);
	cairo_new_path(cr);
	hwg_gaiji_path(cr, attr->data, x, y, size);
	cairo_fill(cr);
	cairo_restore(cr);
}

/* Ask fontconfig, with the system's configuration, where IPAex Mincho is. */
static int
find_font(struct hwg_render *r, struct hwg_error *err)
{
	FcConfig *sys = FcInitLoadConfigAndFonts();
	FcPattern *pat = FcNameParse((const FcChar8 *)HWG_RENDER_FONT_FAMILY), *m = NULL;
	FcChar8 *file = NULL, *family;
	FcCharSet *cs = NULL;
	FcResult res;
	int found = 0;

	if (sys != NULL && pat != NULL) {
		FcConfigSubstitute(sys, pat, FcMatchPattern);
		FcDefaultSubstitute(pat);
		m = FcFontMatch(sys, pat, &res);
	}
	for (int i = 0; m != NULL && FcPatternGetString(m, FC_FAMILY, i, &family) == FcResultMatch;
	     i++)
		found |= strcmp((const char *)family, HWG_RENDER_FONT_FAMILY) == 0;
	if (found && FcPatternGetString(m, FC_FILE, 0, &file) == FcResultMatch &&
	    FcPatternGetCharSet(m, FC_CHARSET, 0, &cs) == FcResultMatch &&
	    strlen((const char *)file) < sizeof(r->font_file)) {
		snprintf(r->font_file, sizeof(r->font_file), "%s", (const char *)file);
		r->coverage = FcCharSetCopy(cs);
	}
	if (m != NULL)
		FcPatternDestroy(m);
	if (pat != NULL)
		FcPatternDestroy(pat);
	if (sys != NULL)
		FcConfigDestroy(sys);
	if (r->coverage == NULL)
		return hwg_error_set(
		    err, HWG_E_CONFIG,
		    "the font %s is not installed (Debian: fonts-ipaexfont-mincho)",
		    HWG_RENDER_FONT_FAMILY);
	return 0;
}

/* pango on a fontconfig configuration that holds the one font file. */
static int
make_context(struct hwg_render *r, struct hwg_error *err)
{
	cairo_font_options_t *fo;

	if ((r->fc = FcConfigCreate()) == NULL ||
	    !FcConfigAppFontAddFile(r->fc, (const FcChar8 *)r->font_file))
		return hwg_error_set(err, HWG_E_CONFIG, "fontconfig cannot read the font %s",
		                     r->font_file);
	FcConfigSetRescanInterval(r->fc, 0);
	r->fontmap = pango_cairo_font_map_new_for_font_type(CAIRO_FONT_TYPE_FT);
	if (r->fontmap == NULL)
		return hwg_error_set(err, HWG_E_INTERNAL, "pango has no fontconfig font map");
	pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(r->fontmap), r->fc);
	pango_cairo_font_map_set_resolution(PANGO_CAIRO_FONT_MAP(r->fontmap), 72.0);
	r->ctx = pango_font_map_create_context(r->fontmap);
	pango_context_set_language(r->ctx, pango_language_from_string("ja"));
	pango_context_set_round_glyph_positions(r->ctx, FALSE);
	fo = cairo_font_options_create();
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	pango_cairo_context_set_font_options(r->ctx, fo);
	cairo_font_options_destroy(fo);
	pango_cairo_context_set_shape_renderer(r->ctx, draw_shape, NULL, NULL);
	return 0;
}

/* Every substitute of the table must be a character the font has. */
static int
check_substitutes(struct hwg_render *r, struct hwg_error *err)
{
	for (uint32_t cp = HWG_GAIJI_FIRST; cp <= HWG_GAIJI_LAST; cp++) {
		const struct hwg_gaiji_entry *e = hwg_gaiji_lookup(r->gaiji, cp);

		if (e != NULL && e->kind == HWG_GAIJI_SUBSTITUTE &&
		    !FcCharSetHasChar(r->coverage, e->substitute_cp))
			return hwg_error_set(
			    err, HWG_E_CONFIG,
			    "[cert] gaiji_table: the substitute for U+%04X (U+%04X) "
			    "is not in the font %s",
			    cp, e->substitute_cp, HWG_RENDER_FONT_FAMILY);
	}
	return 0;
}

int
hwg_render_new(const char *gaiji_table, struct hwg_render **out, struct hwg_error *err)
{
	struct hwg_render *r = calloc(1, sizeof(*r));
	int rc;

	if (r == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if (gaiji_table != NULL && gaiji_table[0] != '\0')
		rc = hwg_gaiji_load(gaiji_table, &r->gaiji, err);
	else
		rc = (r->gaiji = hwg_gaiji_empty()) != NULL
		         ? 0
		         : hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if (rc == 0 && (rc = find_font(r, err)) == 0 && (rc = make_context(r, err)) == 0)
		rc = check_substitutes(r, err);
	if (rc != 0) {
		hwg_render_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void
hwg_render_free(struct hwg_render *r)
{
	if (r == NULL)
		return;
	if (r->ctx != NULL)
		g_object_unref(r->ctx);
	if (r->fontmap != NULL) {
		/*
		 * its fonts and font sets refer back to it: let them go first;
		 * and pango 1.50 never gives back its reference to the
		 * configuration: taken back here
		 */
		pango_fc_font_map_shutdown(PANGO_FC_FONT_MAP(r->fontmap));
		pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(r->fontmap), NULL);
		g_object_unref(r->fontmap);
	}
	if (r->fc != NULL)
		FcConfigDestroy(r->fc);
	if (r->coverage != NULL)
		FcCharSetDestroy(r->coverage);
	hwg_gaiji_free(r->gaiji);
	free(r);
}

const char *
hwg_render_font_file(const struct hwg_render *r)
{
	return r->font_file;
}

/* ---------------------------------------------------------------- text */

/* Counts of one render. */
struct tally {
	unsigned drawn, substituted;
};

static void
append(char *out, size_t *o, const char *s, size_t n)
{
	memcpy(out + *o, s, n);
	*o += n;
}

/* The mark after a substitute: smaller, raised. */
static void
mark(PangoAttrList *al, char *out, size_t *o, double size)
{
	PangoAttribute *a;
	size_t start = *o;

	append(out, o, HWG_RENDER_MARK, strlen(HWG_RENDER_MARK));
	a = pango_attr_scale_new(0.6);
	a->start_index = (guint)start;
	a->end_index = (guint)*o;
	pango_attr_list_insert(al, a);
	a = pango_attr_rise_new((int)(size * 0.4 * PANGO_SCALE));
	a->start_index = (guint)start;
	a->end_index = (guint)*o;
	pango_attr_list_insert(al, a);
}

/* A bitmap 外字: U+FFFC with a shape of one em that draw_shape fills. */
static void
shape(PangoAttrList *al, char *out, size_t *o, double size, const uint8_t *bitmap)
{
	int em = (int)(size * PANGO_SCALE);
	PangoRectangle rect = {0, -(int)(size * 0.88 * PANGO_SCALE), em, em};
	PangoAttribute *a =
	    pango_attr_shape_new_with_data(&rect, &rect, (gpointer)bitmap, NULL, NULL);

	a->start_index = (guint)*o;
	append(out, o, "\xef\xbf\xbc", 3);
	a->end_index = (guint)*o;
	pango_attr_list_insert(al, a);
}

/*
 * s as pango is to show it (*text malloc'd, *al its attributes): 外字
 * drawn or substituted, characters the font lacks as 〓; each substitute
 * followed by the mark.
 */
static int
shown(const struct hwg_render *r, const char *s, double size, char **text, PangoAttrList **al,
      struct tally *t)
{
	size_t n = strlen(s), o = 0, k;
	char *out = malloc(6 * n + 1); /* at worst each byte becomes 〓※ */
	uint32_t cp;

	if (out == NULL)
		return HWG_E_NOMEM;
	*al = pango_attr_list_new();
	for (size_t i = 0; i < n; i += k) {
		const struct hwg_gaiji_entry *e = NULL;

		if ((k = hwg_gaiji_next_char(s + i, n - i, &cp)) == 0)
			k = 1, cp = 0x110000; /* not UTF-8 (the decoder lets none by): 〓 */
		if (hwg_gaiji_private(cp))
			e = hwg_gaiji_lookup(r->gaiji, cp);
		if (e != NULL && e->kind == HWG_GAIJI_BITMAP) {
			shape(*al, out, &o, size, e->bitmap);
			t->drawn++;
			continue;
		}
		if (e != NULL)
			append(out, &o, e->substitute, strlen(e->substitute));
		else if (hwg_gaiji_private(cp) || !FcCharSetHasChar(r->coverage, cp))
			append(out, &o, HWG_RENDER_GETA, strlen(HWG_RENDER_GETA));
		else {
			append(out, &o, s + i, k);
			continue;
		}
		t->substituted++;
		mark(*al, out, &o, size);
	}
	out[o] = '\0';
	*text = out;
	return 0;
}

/* A layout of s at size, wrapped at width (0: one line); NULL when out of memory. */
static PangoLayout *
layout(struct hwg_render *r, const char *s, double size, double wrap_w, struct tally *t)
{
	PangoFontDescription *fd = pango_font_description_new();
	PangoLayout *l = pango_layout_new(r->ctx);
	PangoAttrList *al = NULL;
	struct tally none = {0};
	char *text = NULL;

	pango_font_description_set_family_static(fd, HWG_RENDER_FONT_FAMILY);
	pango_font_description_set_size(fd, (gint)(size * PANGO_SCALE));
	pango_layout_set_font_description(l, fd);
	pango_font_description_free(fd);
	if (wrap_w > 0) {
		pango_layout_set_width(l, (int)(wrap_w * PANGO_SCALE));
		pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	}
	if (shown(r, s, size, &text, &al, t != NULL ? t : &none) != 0) {
		g_object_unref(l);
		return NULL;
	}
	pango_layout_set_text(l, text, -1);
	pango_layout_set_attributes(l, al);
	pango_attr_list_unref(al);
	hwg_wipe(text, strlen(text));
	free(text);
	return l;
}

static double
height(PangoLayout *l)
{
	int w, h;

	pango_layout_get_size(l, &w, &h);
	return (double)h / PANGO_SCALE;
}

static double
width(PangoLayout *l)
{
	int w, h;

	pango_layout_get_size(l, &w, &h);
	return (double)w / PANGO_SCALE;
}

static void
show(cairo_t *cr, PangoLayout *l, double x, double y)
{
	cairo_move_to(cr, x, y);
	pango_cairo_show_layout(cr, l);
}

/* ---------------------------------------------------------------- a person */

struct cell {
	PangoLayout *label, *value;
};

struct row {
	struct cell c[2]; /* c[1].label NULL: one field across the row */
	double h;
};

struct person {
	struct row rows[GROUPS];
	size_t n;
	double h;
	unsigned substituted;
};

static void
person_free(struct person *p)
{
	for (size_t i = 0; i < p->n; i++)
		for (int j = 0; j < 2; j++) {
			if (p->rows[i].c[j].label != NULL)
				g_object_unref(p->rows[i].c[j].label);
			if (p->rows[i].c[j].value != NULL)
				g_object_unref(p->rows[i].c[j].value);
		}
	p->n = 0;
}

/* A field's cell: its label, and its value (a date in Japanese form). */
static int
make_cell(struct hwg_render *r, int f, const char *v, double value_w, struct cell *c,
          struct tally *t)
{
	char date[32];

	if (hwg_rd_field_is_date(f) && hwg_render_date(v, date, sizeof(date)) == 0)
		v = date;
	c->label = layout(r, labels[f], SIZE_LABEL, LABEL_W - 2 * PAD, NULL);
	c->value = layout(r, v, SIZE_VALUE, value_w - 2 * PAD, t);
	if (c->label == NULL || c->value == NULL)
		return HWG_E_NOMEM;
	return 0;
}

static double
cell_h(const struct cell *c)
{
	double lh = height(c->label), vh = height(c->value);

	return fmax(ROW_MIN, fmax(lh, vh) + 2 * PAD);
}

static int
person_layout(struct hwg_render *r, const struct hwg_rd_person *in, struct person *p,
              struct tally *t)
{
	unsigned before = t->substituted;

	memset(p, 0, sizeof(*p));
	for (size_t g = 0; g < GROUPS; g++) {
		const char *a = in->value[groups[g][0]];
		const char *b = groups[g][1] >= 0 ? in->value[groups[g][1]] : NULL;
		struct row *row = &p->rows[p->n];
		int fa = groups[g][0], fb = groups[g][1];

		if (a == NULL && b == NULL)
			continue;
		if (a == NULL) /* the second alone takes the row */
			a = b, fa = fb, b = NULL;
		p->n++;
		if (b == NULL) {
			if (make_cell(r, fa, a, CONTENT_W - LABEL_W, &row->c[0], t) != 0)
				return HWG_E_NOMEM;
			row->h = cell_h(&row->c[0]);
		} else {
			if (make_cell(r, fa, a, CONTENT_W / 2 - LABEL_W, &row->c[0], t) != 0 ||
			    make_cell(r, fb, b, CONTENT_W / 2 - LABEL_W, &row->c[1], t) != 0)
				return HWG_E_NOMEM;
			row->h = fmax(cell_h(&row->c[0]), cell_h(&row->c[1]));
		}
		p->h += row->h;
	}
	p->substituted = t->substituted - before;
	return 0;
}

static void
draw_cell(cairo_t *cr, const struct cell *c, double x, double y, double w, double h)
{
	cairo_rectangle(cr, x, y, LABEL_W, h);
	cairo_set_source_rgb(cr, 0.94, 0.94, 0.94);
	cairo_fill_preserve(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_set_line_width(cr, 0.6);
	cairo_stroke(cr);
	cairo_rectangle(cr, x + LABEL_W, y, w - LABEL_W, h);
	cairo_stroke(cr);
	show(cr, c->label, x + PAD, y + (h - height(c->label)) / 2);
	show(cr, c->value, x + LABEL_W + PAD, y + (h - height(c->value)) / 2);
}

static void
draw_person(cairo_t *cr, const struct person *p, double y)
{
	double y0 = y;

	for (size_t i = 0; i < p->n; i++) {
		const struct row *row = &p->rows[i];

		if (row->c[1].label == NULL) {
			draw_cell(cr, &row->c[0], MX, y, CONTENT_W, row->h);
		} else {
			draw_cell(cr, &row->c[0], MX, y, CONTENT_W / 2, row->h);
			draw_cell(cr, &row->c[1], MX + CONTENT_W / 2, y, CONTENT_W / 2, row->h);
		}
		y += row->h;
	}
	cairo_set_line_width(cr, 1.4);
	cairo_rectangle(cr, MX, y0, CONTENT_W, y - y0);
	cairo_stroke(cr);
}

/* ---------------------------------------------------------------- the QR code and the seal */

static void
draw_qr(cairo_t *cr, const QRcode *q, double x, double y, double module)
{
	cairo_set_source_rgb(cr, 0, 0, 0);
	for (int row = 0; row < q->width; row++)
		for (int col = 0; col < q->width;) {
			int run = 0;

			while (col + run < q->width && (q->data[row * q->width + col + run] & 1))
				run++;
			if (run > 0)
				cairo_rectangle(cr, x + col * module, y + row * module,
				                run * module, module);
			col += run > 0 ? run : 1;
		}
	cairo_fill(cr);
}

/* One character of the seal as a path, centred on (cx, cy), scaled to cell. */
static void
seal_char(struct hwg_render *r, cairo_t *cr, const char *s, size_t k, double cx, double cy,
          double cell)
{
	const struct hwg_gaiji_entry *e = NULL;
	char one[8] = {0};
	PangoLayout *l;
	uint32_t cp;

	if (hwg_gaiji_next_char(s, k, &cp) == k && hwg_gaiji_private(cp))
		e = hwg_gaiji_lookup(r->gaiji, cp);
	if (e != NULL && e->kind == HWG_GAIJI_BITMAP) {
		hwg_gaiji_path(cr, e->bitmap, cx - cell / 2, cy - cell / 2, cell);
		return;
	}
	if (e != NULL)
		snprintf(one, sizeof(one), "%s", e->substitute);
	else if (hwg_gaiji_private(cp) || !FcCharSetHasChar(r->coverage, cp))
		snprintf(one, sizeof(one), "%s", HWG_RENDER_GETA);
	else
		memcpy(one, s, k);
	if ((l = layout(r, one, SIZE_SEAL, 0, NULL)) == NULL)
		return;
	cairo_save(cr);
	cairo_translate(cr, cx, cy);
	cairo_scale(cr, cell / SIZE_SEAL, cell / SIZE_SEAL);
	cairo_move_to(cr, -width(l) / 2, -height(l) / 2);
	pango_cairo_layout_path(cr, l);
	cairo_restore(cr);
	g_object_unref(l);
}

/*
 * The official seal: a red square holding "<city>長之印" in columns read
 * from the right, top to bottom, drawn as paths (an image, not text).
 */
static void
draw_seal(struct hwg_render *r, cairo_t *cr, const char *city, double x, double y)
{
	char text[HWG_RD_TEXT_MAX + 16];
	size_t off[HWG_RD_TEXT_MAX + 8], len[HWG_RD_TEXT_MAX + 8], n = 0, tl, k;
	double inner = SEAL - 10, cell;
	uint32_t cp;
	int cols, rows;

	snprintf(text, sizeof(text), "%s%s", city, T_SEAL);
	tl = strlen(text);
	for (size_t i = 0; i < tl && n < sizeof(off) / sizeof(off[0]); i += k) {
		if ((k = hwg_gaiji_next_char(text + i, tl - i, &cp)) == 0)
			break;
		off[n] = i;
		len[n++] = k;
	}
	rows = (int)ceil(sqrt((double)n));
	cols = (int)((n + (size_t)rows - 1) / (size_t)rows);
	cell = inner / (cols > rows ? cols : rows);
	cairo_save(cr);
	cairo_set_source_rgba(cr, 0.80, 0.08, 0.08, 0.85);
	cairo_set_line_width(cr, 2.4);
	cairo_rectangle(cr, x, y, SEAL, SEAL);
	cairo_stroke(cr);
	cairo_set_line_width(cr, 0.8);
	cairo_rectangle(cr, x + 3, y + 3, SEAL - 6, SEAL - 6);
	cairo_stroke(cr);
	cairo_new_path(cr);
	for (size_t i = 0; i < n; i++) {
		int col = (int)(i / (size_t)rows), row = (int)(i % (size_t)rows);
		double cx = x + SEAL / 2 + (cols / 2.0 - col - 0.5) * cell;
		double cy = y + SEAL / 2 + (row - rows / 2.0 + 0.5) * cell;

		seal_char(r, cr, text + off[i], len[i], cx, cy, cell * 0.92);
	}
	cairo_fill(cr);
	cairo_restore(cr);
}

/* ---------------------------------------------------------------- pages */

struct page_plan {
	size_t first, count; /* people on the page */
	unsigned substituted;
};

struct doc {
	const struct hwg_rd_request *req;
	struct person *people;
	struct page_plan *pages;
	size_t n_pages;
	QRcode *qr;
	double module, band; /* the QR's module, the bottom band's height */
	PangoLayout *sentence, *date, *mayor, *footnote;
	unsigned cert_substituted; /* in the mayor's line */
	struct tally t;
};

static double
body_limit(const struct doc *d)
{
	return PAGE_H - BOTTOM - d->band - FOOTNOTE_H;
}

/* Put the people on pages: at most three a page, a new page when the next does not fit. */
static int
paginate(struct doc *d, struct hwg_error *err)
{
	double y = BODY_TOP, limit = body_limit(d);
	size_t n = d->req->n_people;

	if ((d->pages = calloc(n, sizeof(*d->pages))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	d->n_pages = 1;
	for (size_t i = 0; i < n; i++) {
		struct page_plan *pg = &d->pages[d->n_pages - 1];
		double h = d->people[i].h;

		if (BODY_TOP + h > limit)
			return hwg_error_set(err, HWG_E_BAD_ARGS,
			                     "person %zu's fields do not fit on one page", i + 1);
		if (pg->count == HWG_RENDER_PEOPLE_PER_PAGE || (pg->count > 0 && y + h > limit)) {
			pg = &d->pages[d->n_pages++];
			pg->first = i;
			y = BODY_TOP;
		}
		pg->count++;
		pg->substituted += d->people[i].substituted;
		y += h + PERSON_GAP;
	}
	d->pages[d->n_pages - 1].substituted += d->cert_substituted;
	return 0;
}

static void
draw_header(struct hwg_render *r, cairo_t *cr, const struct doc *d, size_t page)
{
	const struct hwg_rd_request *req = d->req;
	char text[HWG_RD_NO_MAX + 64];
	PangoAttrList *al;
	PangoLayout *l;

	if ((l = layout(r, titles[req->kind], SIZE_TITLE, 0, NULL)) != NULL) {
		al = pango_attr_list_new();
		pango_attr_list_insert(al, pango_attr_letter_spacing_new(6 * PANGO_SCALE));
		pango_layout_set_attributes(l, al);
		pango_attr_list_unref(al);
		show(cr, l, (PAGE_W - width(l)) / 2, TOP);
		g_object_unref(l);
	}
	snprintf(text, sizeof(text), "%s %s", T_NUMBER, req->no);
	if ((l = layout(r, text, SIZE_HEAD, 0, NULL)) != NULL) {
		show(cr, l, MX + CONTENT_W - width(l), TOP + 38);
		g_object_unref(l);
	}
	snprintf(text, sizeof(text), "%zu/%zu", page + 1, d->n_pages);
	if ((l = layout(r, text, SIZE_HEAD, 0, NULL)) != NULL) {
		show(cr, l, MX + CONTENT_W - width(l), TOP + 52);
		g_object_unref(l);
	}
	if (req->orig[0] == '\0')
		return;
	cairo_save(cr);
	cairo_set_source_rgb(cr, 0.80, 0.08, 0.08);
	cairo_set_line_width(cr, 1.6);
	cairo_rectangle(cr, MX, TOP + 34, 68, 26);
	cairo_stroke(cr);
	if ((l = layout(r, T_REPRINT, SIZE_REPRINT, 0, NULL)) != NULL) {
		show(cr, l, MX + (68 - width(l)) / 2, TOP + 34 + (26 - height(l)) / 2);
		g_object_unref(l);
	}
	cairo_restore(cr);
	snprintf(text, sizeof(text), "%s %s %s", T_ORIG, T_NO, req->orig);
	if ((l = layout(r, text, SIZE_HEAD, 0, NULL)) != NULL) {
		show(cr, l, MX + 76, TOP + 34 + (26 - height(l)) / 2);
		g_object_unref(l);
	}
}

/* The bottom band: the QR code, and on the last page the certification beside it. */
static void
draw_band(struct hwg_render *r, cairo_t *cr, const struct doc *d, int last)
{
	double side = d->qr->width * d->module, y = PAGE_H - BOTTOM - d->band;
	double x = MX + side + 4 * d->module + 12, right = MX + CONTENT_W;
	double my;

	draw_qr(cr, d->qr, MX, PAGE_H - BOTTOM - side, d->module);
	if (!last)
		return;
	show(cr, d->sentence, x, y);
	show(cr, d->date, x + 14, y + height(d->sentence) + 6);
	my = PAGE_H - BOTTOM - SEAL / 2 - height(d->mayor) / 2;
	show(cr, d->mayor, right - SEAL * 0.85 - width(d->mayor), my);
	draw_seal(r, cr, d->req->city, right - SEAL, PAGE_H - BOTTOM - SEAL);
}

static void
draw_page(struct hwg_render *r, cairo_t *cr, const struct doc *d, size_t page)
{
	const struct page_plan *pg = &d->pages[page];
	double y = BODY_TOP;

	draw_header(r, cr, d, page);
	for (size_t i = pg->first; i < pg->first + pg->count; i++) {
		draw_person(cr, &d->people[i], y);
		y += d->people[i].h + PERSON_GAP;
	}
	if (pg->substituted > 0)
		show(cr, d->footnote, MX, body_limit(d) + 3);
	draw_band(r, cr, d, page + 1 == d->n_pages);
	cairo_show_page(cr);
}

/* ---------------------------------------------------------------- the document */

static void
doc_free(struct doc *d)
{
	for (size_t i = 0; d->people != NULL && i < d->req->n_people; i++)
		person_free(&d->people[i]);
	free(d->people);
	free(d->pages);
	if (d->qr != NULL)
		QRcode_free(d->qr);
	if (d->sentence != NULL)
		g_object_unref(d->sentence);
	if (d->date != NULL)
		g_object_unref(d->date);
	if (d->mayor != NULL)
		g_object_unref(d->mayor);
	if (d->footnote != NULL)
		g_object_unref(d->footnote);
}

/* The QR code and the certification's layouts, which fix the bottom band's height. */
static int
doc_band(struct hwg_render *r, struct doc *d, struct hwg_error *err)
{
	const struct hwg_rd_request *req = d->req;
	char date[32], mayor[2 * HWG_RD_TEXT_MAX + 16];
	struct tally t = {0};
	double side, text_w, cert_h;

	if ((d->qr = QRcode_encodeString(req->code, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) == NULL)
		return hwg_error_set(err, HWG_E_BAD_ARGS,
		                     "a QR code cannot hold a code of %zu characters",
		                     strlen(req->code));
	d->module = fmin(QR_MODULE, QR_MAX / d->qr->width);
	side = d->qr->width * d->module;
	text_w = CONTENT_W - side - 4 * d->module - 12;
	hwg_render_date(req->date, date, sizeof(date));
	snprintf(mayor, sizeof(mayor), "%s%s\u3000%s", req->city, T_MAYOR, req->mayor);
	d->sentence = layout(r, sentence(req), SIZE_SENTENCE, text_w, NULL);
	d->date = layout(r, date, SIZE_SENTENCE, 0, NULL);
	d->mayor = layout(r, mayor, SIZE_MAYOR, text_w - SEAL, &t);
	d->footnote = layout(r, HWG_RENDER_FOOTNOTE, SIZE_SMALL, 0, NULL);
	if (d->sentence == NULL || d->date == NULL || d->mayor == NULL || d->footnote == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	d->cert_substituted = t.substituted;
	d->t.drawn += t.drawn;
	d->t.substituted += t.substituted;
	cert_h = height(d->sentence) + 6 + height(d->date) + 8 + SEAL;
	d->band = fmax(side + 4 * d->module, cert_h);
	return 0;
}

static int
doc_layout(struct hwg_render *r, struct doc *d, struct hwg_error *err)
{
	int rc;

	if ((rc = doc_band(r, d, err)) != 0)
		return rc;
	if ((d->people = calloc(d->req->n_people, sizeof(*d->people))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	for (size_t i = 0; i < d->req->n_people; i++)
		if (person_layout(r, &d->req->people[i], &d->people[i], &d->t) != 0)
			return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	return paginate(d, err);
}

/* The PDF as cairo writes it, bounded. */
struct sink {
	uint8_t *p;
	size_t len, cap;
	int over;
};

static cairo_status_t
sink_write(void *closure, const unsigned char *data, unsigned int n)
{
	struct sink *s = closure;
	uint8_t *np;
	size_t cap;

	if (s->len + n > HWG_RD_PDF_MAX) {
		s->over = 1;
		return CAIRO_STATUS_WRITE_ERROR;
	}
	if (s->len + n > s->cap) {
		cap = s->cap ? s->cap : 64 * 1024;
		while (cap < s->len + n)
			cap *= 2;
		if ((np = realloc(s->p, cap)) == NULL)
			return CAIRO_STATUS_NO_MEMORY;
		s->p = np;
		s->cap = cap;
	}
	memcpy(s->p + s->len, data, n);
	s->len += n;
	return CAIRO_STATUS_SUCCESS;
}

static int
draw_document(struct hwg_render *r, struct doc *d, struct sink *s, struct hwg_error *err)
{
	char created[32];
	cairo_surface_t *surface =
	    cairo_pdf_surface_create_for_stream(sink_write, s, PAGE_W, PAGE_H);
	cairo_status_t st;
	cairo_t *cr;

	snprintf(created, sizeof(created), "%sT00:00:00", d->req->date);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, titles[d->req->kind]);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "hwgw-renderer");
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, created);
	cr = cairo_create(surface);
	pango_cairo_update_context(cr, r->ctx);
	cairo_set_source_rgb(cr, 0, 0, 0);
	for (size_t p = 0; p < d->n_pages && cairo_status(cr) == CAIRO_STATUS_SUCCESS; p++)
		draw_page(r, cr, d, p);
	st = cairo_status(cr);
	cairo_destroy(cr);
	cairo_surface_finish(surface);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(surface);
	cairo_surface_destroy(surface);
	if (s->over)
		return hwg_error_set(err, HWG_E_TOO_LARGE, "the PDF is over %u bytes",
		                     HWG_RD_PDF_MAX);
	if (st != CAIRO_STATUS_SUCCESS)
		return hwg_error_set(err,
		                     st == CAIRO_STATUS_NO_MEMORY ? HWG_E_NOMEM : HWG_E_INTERNAL,
		                     "cairo: %s", cairo_status_to_string(st));
	return 0;
}

int
hwg_render_pdf(struct hwg_render *r, const struct hwg_rd_request *req,
               struct hwg_render_result *out, struct hwg_error *err)
{
	struct doc d = {.req = req};
	struct sink s = {0};
	int rc;

	if (hwg_rd_kind_name(req->kind) == NULL || req->n_people == 0 ||
	    req->n_people > HWG_RD_PEOPLE_MAX || !hwg_rd_date_valid(req->date))
		return hwg_error_set(err, HWG_E_BAD_ARGS, "render request not checked");
	if ((rc = doc_layout(r, &d, err)) == 0)
		rc = draw_document(r, &d, &s, err);
	if (rc == 0) {
		*out = (struct hwg_render_result){s.p, s.len, (unsigned)d.n_pages, d.t.drawn,
		                                  d.t.substituted};
		s.p = NULL;
	}
	free(s.p);
	doc_free(&d);
	return rc;
}

void
hwg_render_result_clear(struct hwg_render_result *res)
{
	if (res == NULL)
		return;
	free(res->pdf);
	memset(res, 0, sizeof(*res));
}

/* ---------------------------------------------------------------- warming up */

/*
 * pango keeps a font set per font size and language, and makes a new one
 * (sorting fonts in a thread of its own) the first time a pair is used;
 * an item's language follows its script, so every size the layout uses
 * is measured with a sample of each script IPAex Mincho covers, alone
 * (a run of digits alone is not the run of digits inside a word).
 */
static const double warm_sizes[] = {SIZE_TITLE,    SIZE_LABEL,       SIZE_VALUE,      SIZE_HEAD,
                                    SIZE_SENTENCE, SIZE_MAYOR,       SIZE_REPRINT,    SIZE_SMALL,
                                    SIZE_SEAL,     SIZE_VALUE * 0.6, SIZE_MAYOR * 0.6};
static const char *const warm_samples[] = {
    "0123456789",
    "-/.:()",
    "ABCabc",
    "ΑΒΓαβγ",
    "АБВабв",
    "あいう",
    "アイウ",
    "ｱｲｳ",
    "漢字",
    "１２３",
    "ＡＢＣ",
    "①②③",
    "→←↑",
    "※〓",
    "\u3000",
    "─│┌",
    "♪♂",
    "ℓ㎡",
    "〒",
    "é",
    "Aa09 ΑΩαω АЯая あいうアイウｱｲｳ漢字〒１２３ＡＢ＃＆（）「」・ー―〜※〓♪→①",
};

static cairo_status_t
discard(void *closure, const unsigned char *data, unsigned int n)
{
	(void)closure;
	(void)data;
	(void)n;
	return CAIRO_STATUS_SUCCESS;
}

static int
warm_fontsets(struct hwg_render *r)
{
	/* with a PDF surface's font options, which are part of a font set's key */
	cairo_surface_t *surface =
	    cairo_pdf_surface_create_for_stream(discard, NULL, PAGE_W, PAGE_H);
	cairo_t *cr = cairo_create(surface);
	int rc = 0;

	pango_cairo_update_context(cr, r->ctx);
	for (size_t i = 0; i < sizeof(warm_sizes) / sizeof(warm_sizes[0]) && rc == 0; i++)
		for (size_t j = 0; j < sizeof(warm_samples) / sizeof(warm_samples[0]); j++) {
			PangoLayout *l = layout(r, warm_samples[j], warm_sizes[i], 0, NULL);

			if (l == NULL) {
				rc = HWG_E_NOMEM;
				break;
			}
			(void)height(l); /* itemised and shaped: its font set made */
			g_object_unref(l);
		}
	cairo_destroy(cr);
	cairo_surface_finish(surface);
	cairo_surface_destroy(surface);
	return rc;
}

#define WARM_SCRIPTS warm_samples[sizeof(warm_samples) / sizeof(warm_samples[0]) - 1]

int
hwg_render_warm(struct hwg_render *r, struct hwg_error *err)
{
	struct hwg_rd_person p = {0};
	struct hwg_rd_request req = {.kind = HWG_RD_JUMINHYO,
	                             .no = "warm-20000101-000000",
	                             .date = "2000-01-01",
	                             .city = "城南市",
	                             .mayor = "山田 太郎",
	                             .household = 1,
	                             .my_number = 1,
	                             .code = "HWC1:WARM UP $%*+-./:0123456789",
	                             .orig = "warm-20000101-000001",
	                             .people = &p,
	                             .n_people = 1};
	struct hwg_render_result res = {0};
	uint32_t bitmap, substitute;
	char gaiji[32] = "", *w = gaiji;
	int rc = 0;

	/* a 外字 of each kind the table has, one it does not name, a character the font lacks */
	hwg_gaiji_count(r->gaiji, &bitmap, &substitute);
	if (bitmap != 0)
		w += snprintf(w, 8, "%c%c%c", 0xe0 | (bitmap >> 12), 0x80 | ((bitmap >> 6) & 0x3f),
		              0x80 | (bitmap & 0x3f));
	if (substitute != 0)
		w += snprintf(w, 8, "%c%c%c", 0xe0 | (substitute >> 12),
		              0x80 | ((substitute >> 6) & 0x3f), 0x80 | (substitute & 0x3f));
	snprintf(w, 16, "\xef\xa3\xbf\xf0\x9f\x98\x80"); /* U+F8FF, U+1F600 */
	for (int f = 0; f < HWG_RD_FIELDS && rc == 0; f++)
		rc = hwg_rd_person_set(&p, hwg_rd_field_name(f),
		                       hwg_rd_field_is_date(f) ? "2000-01-01"
		                       : f == HWG_RD_NAME      ? gaiji
		                                               : WARM_SCRIPTS);
	snprintf(req.mayor, sizeof(req.mayor), "山田%s", gaiji); /* the mark at the mayor's size */
	if (rc == 0 && (rc = warm_fontsets(r)) == 0)
		rc = hwg_render_pdf(r, &req, &res, err);
	else
		hwg_error_set(err, rc, "out of memory");
	hwg_render_result_clear(&res);
	for (int f = 0; f < HWG_RD_FIELDS; f++)
		free(p.value[f]);
	return rc;
}
