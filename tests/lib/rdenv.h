/*
 * rdenv.h — what the renderer's tests and its bench share: the people of
 * a household as a registry would send them, render requests built from
 * them, a QR text shaped like the gateway's (HWC1: and base45), and the
 * poppler and zbar tools run on a PDF (pdftotext, pdftoppm, zbarimg).
 */
#ifndef RDENV_H
#define RDENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hwg_rd_proto.h"
#include "hwg_test.h"

static char rd_dir[] = "/tmp/hwgw-rd-test.XXXXXX";

/* One person's fields: what test_render expects to read back on the page. */
struct rd_fields {
	const char *name, *kana, *birth, *sex, *relation, *head, *address, *resident_since,
	    *address_since, *notified, *previous_address, *my_number;
};

static const struct rd_fields rd_household[] = {
    {"山田　太郎", "ヤマダ　タロウ", "1970-04-01", "男", "世帯主", "山田　太郎",
     "城南市中央一丁目2番3号 城南ハイツ101号室", "1970-04-01", "2010-10-10", "2010-10-15",
     "東京都千代田区霞が関二丁目1番1号", "123456789018"},
    {"山田　花子", "ヤマダ　ハナコ", "1972-11-23", "女", "妻", "山田　太郎",
     "城南市中央一丁目2番3号 城南ハイツ101号室", "1998-06-01", "2010-10-10", NULL, NULL,
     "234567890124"},
    {"山田　一郎", "ヤマダ　イチロウ", "2000-02-29", "男", "子", "山田　太郎",
     "城南市中央一丁目2番3号 城南ハイツ101号室", "2000-02-29", "2010-10-10", NULL, NULL,
     "345678901231"},
    {"山田　桜", "ヤマダ　サクラ", "2003-03-31", "女", "子", "山田　太郎",
     "城南市中央一丁目2番3号 城南ハイツ101号室", "2003-03-31", "2010-10-10", NULL, NULL,
     "456789012349"},
    {"鈴木　ハル", "スズキ　ハル", "1941-12-08", "女", "妻の母", "山田　太郎",
     "城南市中央一丁目2番3号 城南ハイツ101号室", "2019-05-01", "2019-05-01", "2019-05-07",
     "北海道札幌市中央区北一条西2丁目", "567890123451"},
};
#define RD_HOUSEHOLD (sizeof(rd_household) / sizeof(rd_household[0]))

static inline int
rd_person_fill(struct hwg_rd_person *p, const struct rd_fields *f, int my_number)
{
	const char *v[] = {f->name,          f->kana,     f->birth,           f->sex,
	                   f->relation,      f->head,     f->address,         f->resident_since,
	                   f->address_since, f->notified, f->previous_address};
	const char *k[] = {"name",          "kana",     "birth",           "sex",
	                   "relation",      "head",     "address",         "resident_since",
	                   "address_since", "notified", "previous_address"};
	int rc = 0;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]) && rc == 0; i++)
		if (v[i] != NULL)
			rc = hwg_rd_person_set(p, k[i], v[i]);
	if (rc == 0 && my_number)
		rc = hwg_rd_person_set(p, "my_number", f->my_number);
	return rc;
}

/* A QR text of n characters shaped as the gateway's: "HWC1:" and base45's alphabet. */
static inline void
rd_code(char *out, size_t n)
{
	static const char b45[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
	unsigned x = 12345;

	memcpy(out, "HWC1:", 5);
	for (size_t i = 5; i < n; i++) {
		x = x * 1103515245u + 12345u;
		out[i] = b45[(x >> 16) % 45];
	}
	out[n] = '\0';
}

/*
 * A juminhyo request for the first n people of rd_household (n up to
 * HWG_RD_PEOPLE_MAX: the household repeated), household copy when n > 1.
 * Release with hwg_rd_request_clear.
 */
static inline int
rd_request(struct hwg_rd_request *r, size_t n, int my_number)
{
	memset(r, 0, sizeof(*r));
	r->kind = HWG_RD_JUMINHYO;
	snprintf(r->no, sizeof(r->no), "gw-tokyo-01-20261207-000042");
	snprintf(r->date, sizeof(r->date), "2026-12-07");
	snprintf(r->city, sizeof(r->city), "城南市");
	snprintf(r->mayor, sizeof(r->mayor), "大川　誠一");
	r->household = n > 1;
	r->my_number = my_number;
	rd_code(r->code, 230);
	if ((r->people = calloc(n, sizeof(*r->people))) == NULL)
		return -1;
	r->n_people = n;
	for (size_t i = 0; i < n; i++)
		if (rd_person_fill(&r->people[i], &rd_household[i % RD_HOUSEHOLD], my_number) != 0)
			return -1;
	return 0;
}

static inline int
rd_have(const char *tool)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

static inline int
rd_setup(void)
{
	if (mkdtemp(rd_dir) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	return 0;
}

static inline void
rd_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rd_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", rd_dir);
}

/* Write bytes to rd_dir/name; the path into out. */
static inline int
rd_write(const char *name, const void *p, size_t len, char *out, size_t outlen)
{
	FILE *f;

	snprintf(out, outlen, "%s/%s", rd_dir, name);
	if ((f = fopen(out, "wb")) == NULL)
		return -1;
	if (fwrite(p, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* A command's standard output (malloc'd, NUL-terminated), NULL if it failed. */
static inline char *
rd_run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t len = 0, cap = 4096;
	char *out = malloc(cap);
	size_t n;

	if (p == NULL || out == NULL) {
		if (p != NULL)
			pclose(p);
		free(out);
		return NULL;
	}
	while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *m = realloc(out, cap *= 2);

			if (m == NULL)
				break;
			out = m;
		}
	}
	out[len] = '\0';
	if (pclose(p) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* pdftotext of page (0: all) in content order (-raw), UTF-8. */
static inline char *
rd_pdftotext(const char *pdf, int page)
{
	char cmd[512];

	if (page > 0)
		snprintf(cmd, sizeof(cmd), "pdftotext -q -raw -enc UTF-8 -f %d -l %d '%s' -", page,
		         page, pdf);
	else
		snprintf(cmd, sizeof(cmd), "pdftotext -q -raw -enc UTF-8 '%s' -", pdf);
	return rd_run(cmd);
}

/* The QR code zbarimg reads on a page rendered at 150 dpi (malloc'd, no newline). */
static inline char *
rd_qr(const char *pdf, int page)
{
	char cmd[1024], *out;
	size_t n;

	snprintf(cmd, sizeof(cmd),
	         "pdftoppm -q -r 150 -png -f %d -l %d '%s' '%s/qr' && "
	         "zbarimg --raw -q \"$(ls '%s'/qr*.png | head -n 1)\" 2>/dev/null; "
	         "rc=$?; rm -f '%s'/qr*.png; exit $rc",
	         page, page, pdf, rd_dir, rd_dir, rd_dir);
	if ((out = rd_run(cmd)) == NULL)
		return NULL;
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return out;
}

#endif
