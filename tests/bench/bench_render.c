/*
 * bench_render.c — what the renderer costs: a 1-page certificate (one
 * person of a juminhyo with every field a person has, the QR code, the
 * seal) rendered through hwgw-renderer (the request over its link, the
 * decode, the layout, the PDF back), against the same layout called in
 * this process (the render step alone: hwg_render_pdf), against a bare
 * cairo + pango render of the same page's text (the same strings in the
 * same font and sizes, one layout each, on a PDF surface: no tables,
 * 外字, QR code or seal), all in the same run.  And the pages per second
 * of a 20-page household copy through the renderer, and how long a
 * renderer takes to start (what a request after a crash pays).  Prints BENCH lines
 * as bench_keyholder.c does: the time per page and the ratio to the bare
 * baseline, the pages per second in parentheses.
 *   bench_render [ROUNDS]   (HWG_BUILD_DIR)
 */
#include <cairo-pdf.h>
#include <pango/pangocairo.h>

#include "hwg_render.h"
#include "hwg_renderer.h"
#include "hwg_time.h"
#include "rdenv.h"

static int rounds = 200;

/* ---------------------------------------------------------------- the bare baseline */

struct text {
	const char *s;
	double size;
};

static cairo_status_t
sink(void *closure, const unsigned char *data, unsigned int n)
{
	size_t *len = closure;

	(void)data;
	*len += n;
	return CAIRO_STATUS_SUCCESS;
}

/* The page's strings, one pango layout each, top to bottom, into a PDF in memory. */
static size_t
bare_page(PangoFontMap *fm, const struct text *t, size_t n)
{
	size_t len = 0;
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(sink, &len, 595.28, 841.89);
	cairo_t *cr = cairo_create(s);
	PangoContext *ctx = pango_font_map_create_context(fm);
	double y = 36;

	pango_cairo_update_context(cr, ctx);
	for (size_t i = 0; i < n; i++) {
		PangoLayout *l = pango_layout_new(ctx);
		PangoFontDescription *fd = pango_font_description_new();
		int w, h;

		pango_font_description_set_family_static(fd, HWG_RENDER_FONT_FAMILY);
		pango_font_description_set_size(fd, (gint)(t[i].size * PANGO_SCALE));
		pango_layout_set_font_description(l, fd);
		pango_layout_set_text(l, t[i].s, -1);
		cairo_move_to(cr, 50, y);
		pango_cairo_show_layout(cr, l);
		pango_layout_get_size(l, &w, &h);
		y += (double)h / PANGO_SCALE + 4;
		pango_font_description_free(fd);
		g_object_unref(l);
	}
	cairo_show_page(cr);
	g_object_unref(ctx);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	cairo_surface_destroy(s);
	return len;
}

/* The strings the 1-page request puts on its page, at the sizes hwg_render.c uses. */
static size_t
page_texts(const struct hwg_rd_request *req, struct text *t, char store[][160])
{
	const struct hwg_rd_person *p = &req->people[0];
	size_t n = 0;

	t[n++] = (struct text){hwg_render_title(req->kind), 20};
	snprintf(store[0], 160, "交付番号 %s", req->no);
	t[n++] = (struct text){store[0], 9};
	t[n++] = (struct text){"1/1", 9};
	for (int f = 0; f < HWG_RD_FIELDS; f++) {
		if (p->value[f] == NULL)
			continue;
		t[n++] = (struct text){hwg_render_label(f), 9};
		if (hwg_rd_field_is_date(f) &&
		    hwg_render_date(p->value[f], store[1 + f], sizeof(store[0])) == 0)
			t[n++] = (struct text){store[1 + f], 9.5};
		else
			t[n++] = (struct text){p->value[f], 9.5};
	}
	t[n++] = (struct text){"この写しは、住民票の原本と相違ないことを証明する。", 10.5};
	hwg_render_date(req->date, store[20], sizeof(store[0]));
	t[n++] = (struct text){store[20], 10.5};
	snprintf(store[21], 160, "%s長　%s", req->city, req->mayor);
	t[n++] = (struct text){store[21], 13};
	return n;
}

/* ---------------------------------------------------------------- the three ways */

static uint8_t *
encoded(size_t people, size_t *len)
{
	struct hwg_rd_request req;
	struct hwg_error err = {0};
	uint8_t *out = NULL;

	if (rd_request(&req, people, 1) != 0 || hwg_rd_request_encode(&req, &out, len, &err) != 0)
		fprintf(stderr, "request: %s\n", err.message);
	hwg_rd_request_clear(&req);
	return out;
}

/* Seconds per document through the renderer; *pages of each. */
static double
via_renderer(struct hwg_renderer *r, const uint8_t *req, size_t len, int n, unsigned *pages)
{
	struct hwg_renderer_pdf pdf = {0};
	struct hwg_error err = {0};
	double t0 = hwg_mono_seconds();

	for (int i = 0; i < n; i++) {
		if (hwg_renderer_render(r, req, len, &pdf, &err) != 0) {
			fprintf(stderr, "renderer: %s\n", err.message);
			exit(1);
		}
		*pages = pdf.pages;
		hwg_renderer_pdf_clear(&pdf);
	}
	return (hwg_mono_seconds() - t0) / n;
}

static double
in_process(struct hwg_render *r, const struct hwg_rd_request *req, int n)
{
	struct hwg_render_result res;
	struct hwg_error err = {0};
	double t0 = hwg_mono_seconds();

	for (int i = 0; i < n; i++) {
		if (hwg_render_pdf(r, req, &res, &err) != 0) {
			fprintf(stderr, "render: %s\n", err.message);
			exit(1);
		}
		hwg_render_result_clear(&res);
	}
	return (hwg_mono_seconds() - t0) / n;
}

static double
bare(PangoFontMap *fm, const struct text *t, size_t nt, int n)
{
	double t0 = hwg_mono_seconds();

	for (int i = 0; i < n; i++)
		if (bare_page(fm, t, nt) == 0)
			exit(1);
	return (hwg_mono_seconds() - t0) / n;
}

int
main(int argc, char **argv)
{
	const char *build = getenv("HWG_BUILD_DIR");
	struct hwg_renderer_config cfg = {0};
	struct hwg_renderer *proc = NULL;
	struct hwg_render *local = NULL;
	struct hwg_rd_request req;
	struct hwg_error err = {0};
	struct text texts[64];
	char store[24][160], exe[600];
	double t_bare, t_step, t_proc, t_big, t_start;
	uint8_t *one, *big;
	size_t one_len = 0, big_len = 0, nt;
	unsigned pages = 0, big_pages = 0;
	PangoFontMap *fm;

	if (argc > 1)
		rounds = atoi(argv[1]) > 0 ? atoi(argv[1]) : rounds;
	snprintf(exe, sizeof(exe), "%s/gateway/hwgw-renderer", build != NULL ? build : "build");
	cfg.exe = exe;
	if (rd_request(&req, 1, 1) != 0 || (one = encoded(1, &one_len)) == NULL ||
	    (big = encoded(HWG_RD_PEOPLE_MAX, &big_len)) == NULL)
		return 1;
	t_start = hwg_mono_seconds();
	if (hwg_renderer_start(&cfg, &proc, &err) != 0) {
		fprintf(stderr, "bench_render: %s\n", err.message);
		return 1;
	}
	t_start = hwg_mono_seconds() - t_start;
	if (hwg_render_new(NULL, &local, &err) != 0 || hwg_render_warm(local, &err) != 0) {
		fprintf(stderr, "bench_render: %s\n", err.message);
		return 1;
	}
	fm = pango_cairo_font_map_new();
	pango_cairo_font_map_set_resolution(PANGO_CAIRO_FONT_MAP(fm), 72.0);
	nt = page_texts(&req, texts, store);
	/* warm all three, then measure each in turn */
	bare(fm, texts, nt, 5);
	in_process(local, &req, 5);
	via_renderer(proc, one, one_len, 5, &pages);
	t_bare = bare(fm, texts, nt, rounds);
	t_step = in_process(local, &req, rounds);
	t_proc = via_renderer(proc, one, one_len, rounds, &pages);
	t_big = via_renderer(proc, big, big_len, rounds / 20 > 2 ? rounds / 20 : 2, &big_pages);
	printf("BENCH render_bare_cairo_pango_1page %.2f ms ratio=1.00 (%.0f pages/s)\n",
	       1000 * t_bare, 1 / t_bare);
	printf("BENCH render_step_1page %.2f ms ratio=%.2f (%.0f pages/s)\n", 1000 * t_step,
	       t_step / t_bare, 1 / t_step);
	printf("BENCH render_via_renderer_1page %.2f ms ratio=%.2f (%.0f pages/s; the hop %+.2f "
	       "ms)\n",
	       1000 * t_proc, t_proc / t_bare, pages / t_proc, 1000 * (t_proc - t_step));
	printf("BENCH render_via_renderer_%upages %.2f ms a page ratio=%.2f (%.0f pages/s)\n",
	       big_pages, 1000 * t_big / big_pages, t_big / big_pages / t_bare, big_pages / t_big);
	printf("BENCH renderer_start %.1f ms (the font, the glyph table, the warm-up, the "
	       "filter)\n",
	       1000 * t_start);
	g_object_unref(fm);
	hwg_render_free(local);
	hwg_renderer_stop(proc);
	hwg_rd_request_clear(&req);
	free(one);
	free(big);
	/* rdenv.h brings the test harness: a benchmark reports figures, it checks nothing */
	return hwg_test_passed + hwg_test_failed + hwg_test_cur_failed;
}
