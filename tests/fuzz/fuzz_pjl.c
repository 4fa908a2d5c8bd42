/*
 * fuzz_pjl.c — libFuzzer target for the PJL a certificate printer sends
 * on its own over bulk IN (hostile device bytes, drivers/printer/hwg_pjl).
 * The first input byte says how the rest arrives: 0 in one read, n in
 * reads of n bytes.  The rest goes through the accumulator in those reads
 * (drained after each, as the driver does) and, when it fits one read,
 * through a second accumulator in one: both must hand out the same
 * messages and refusals in the same order, whatever the cut.  Each
 * message handed out must keep the parser's promises (a kind, strings
 * printable and terminated, a code in range with its state).  The rest
 * is also parsed as one message, and its first bytes taken as a job name:
 * a name accepted must build both ends of a job within their maximums.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_pjl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one hwg_pjl_reader_next call gave. */
struct outcome {
	int rc;
	struct hwg_pjl_msg m;
};

#define OUTCOMES_MAX (HWG_PJL_FEED_MAX + 1)

static struct outcome chunked[OUTCOMES_MAX], whole[OUTCOMES_MAX];

static void
check_str(const char *s)
{
	size_t n = strnlen(s, HWG_PJL_STRING_MAX + 1);

	if (n > HWG_PJL_STRING_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7E || s[i] == '"')
			abort();
}

static void
check_msg(const struct hwg_pjl_msg *m)
{
	unsigned tray;

	check_str(m->name);
	check_str(m->display);
	switch (m->kind) {
	case HWG_PJL_JOB_START:
	case HWG_PJL_JOB_END:
		if ((m->kind == HWG_PJL_JOB_START && m->pages != 0) || m->pages > 99999 ||
		    m->code != 0 || m->online != 0 || m->display[0] != '\0' ||
		    m->state != HWG_PJL_ST_UNKNOWN)
			abort();
		break;
	case HWG_PJL_DEVICE:
		if (m->code < 10000 || m->code > 99999 || m->online > 1 || m->name[0] != '\0' ||
		    m->state != hwg_pjl_state_of(m->code, &tray) || m->tray != tray ||
		    hwg_pjl_state_name(m->state) == NULL)
			abort();
		break;
	default:
		abort();
	}
}

static int
same(const struct outcome *a, const struct outcome *b)
{
	if (a->rc != b->rc)
		return 0;
	if (a->rc != 1)
		return 1;
	return a->m.kind == b->m.kind && a->m.pages == b->m.pages && a->m.code == b->m.code &&
	       a->m.online == b->m.online && a->m.state == b->m.state && a->m.tray == b->m.tray &&
	       strcmp(a->m.name, b->m.name) == 0 && strcmp(a->m.display, b->m.display) == 0;
}

/* Drain r, every message checked; into out from *n on unless out is NULL. */
static void
drain(struct hwg_pjl_reader *r, struct outcome *out, size_t *n)
{
	struct outcome o;

	for (;;) {
		memset(&o, 0, sizeof(o));
		o.rc = hwg_pjl_reader_next(r, &o.m, NULL);
		if (o.rc == 0)
			return;
		if (o.rc == 1)
			check_msg(&o.m);
		else if (o.rc != HWG_E_PRINTER_ERROR)
			abort();
		if (out == NULL)
			continue;
		if (*n >= OUTCOMES_MAX)
			abort(); /* more outcomes than bytes */
		out[(*n)++] = o;
	}
}

/* Feed p in reads of step bytes (0: at once); the count of outcomes kept. */
static size_t
read_all(const uint8_t *p, size_t len, size_t step, struct outcome *out)
{
	struct hwg_pjl_reader *r = hwg_pjl_reader_new();
	size_t n = 0;

	if (r == NULL)
		abort();
	if (step == 0 || step > HWG_PJL_FEED_MAX)
		step = HWG_PJL_FEED_MAX;
	for (size_t off = 0; off < len; off += step) {
		if (hwg_pjl_reader_feed(r, p + off, len - off < step ? len - off : step, NULL) != 0)
			abort();
		drain(r, out, &n);
	}
	hwg_pjl_reader_free(r);
	return n;
}

static void
job_name(const uint8_t *p, size_t len)
{
	char name[HWG_PJL_NAME_MAX + 2];
	uint8_t head[HWG_PJL_HEAD_MAX], tail[HWG_PJL_TAIL_MAX];
	size_t n = len < sizeof(name) - 1 ? len : sizeof(name) - 1, hl, tl;

	memcpy(name, p, n);
	name[n] = '\0';
	if (hwg_pjl_name_check(name, NULL) != 0)
		return;
	if (hwg_pjl_job_head(name, head, sizeof(head), &hl, NULL) != 0 ||
	    hwg_pjl_job_tail(name, tail, sizeof(tail), &tl, NULL) != 0 ||
	    memchr(name, '"', strlen(name)) != NULL)
		abort();
	/* the head never carries the UEL but at its start, so a PDF after it is not cut */
	if (hwg_pjl_body_check(head + HWG_PJL_UEL_LEN, hl - HWG_PJL_UEL_LEN, NULL) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hwg_pjl_msg m;
	size_t nc, nw;

	if (size < 1)
		return 0;
	if (size - 1 > HWG_PJL_FEED_MAX) {
		(void)read_all(data + 1, size - 1, data[0], NULL);
	} else {
		nc = read_all(data + 1, size - 1, data[0], chunked);
		nw = read_all(data + 1, size - 1, 0, whole);
		if (nc != nw)
			abort();
		for (size_t i = 0; i < nc; i++)
			if (!same(&chunked[i], &whole[i]))
				abort();
	}
	if (hwg_pjl_parse(data + 1, size - 1, &m, NULL) == 0)
		check_msg(&m);
	job_name(data + 1, size - 1);
	return 0;
}
