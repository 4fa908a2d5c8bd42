/*
 * sim_printer.c — see sim_printer.h.  Three parts: the PJL reader (lines
 * in PJL, the PDF's bytes up to the next UEL), the print engine (a queue
 * of received jobs, one sheet at a time, held while the printer is not
 * ready, faults struck when a page is due), and the read-backs (a bounded
 * byte queue of USTATUS messages in the shape the gateway's hwg_pjl
 * parses).  Job names are checked with the gateway's own
 * hwg_pjl_name_check before one names a spool file.
 */
#include "sim_printer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

#include "hwg_ieee1284.h"
#include "hwg_pjl.h"

#define LINE_MAX_ 256   /* a PJL command line; a longer one is skipped */
#define QUEUE_MAX 4     /* jobs received and waiting to print, the printing one first */
#define SPOOL_COPIES 99 /* <name>.pdf, then <name>+2.pdf ... for the same name again */
#define FF 0x0C

/* The device status codes this printer reports (firmware-notes, "Status codes"). */
#define CODE_READY 10001
#define CODE_OFFLINE 10002
#define CODE_PRINTING 10023
#define CODE_DOOR_OPEN 40021
#define CODE_PAPER_OUT 41102 /* 41xyy: tray 1, A4 */
#define CODE_JAM 42101       /* 42xyy: one page to clear, at location 01 */

enum rx_mode { RX_PJL, RX_PDF, RX_SKIP };

struct job {
	char name[48];
	uint8_t *pdf;
	size_t len, cap;
	unsigned pages, out;
	int too_large; /* its PDF passed SIM_PRINTER_PDF_MAX */
	int skip;      /* not a job: another language's bytes, up to the UEL */
};

struct sim_printer {
	pthread_mutex_t mu;
	char serial[SIM_PRINTER_SERIAL_MAX + 1];
	char model[SIM_PRINTER_MODEL_MAX + 1];
	char *spool_dir;
	unsigned ms_per_page;
	size_t chunk;
	int plugged;
	/* the PJL reader */
	enum rx_mode mode;
	char line[LINE_MAX_ + 1];
	size_t line_len;
	int line_overflow;
	char job_name[48]; /* from JOB NAME, for the next ENTER LANGUAGE */
	struct job *rx;    /* the PDF being received */
	/* the engine */
	struct job *queue[QUEUE_MAX];
	size_t n_queue;
	int page_on, paused; /* a sheet of queue[0] is being printed; held mid-sheet */
	uint64_t due, left;  /* when it comes out; what was left of it when held */
	int paper_out, jammed, offline, door_open, vanish_due;
	unsigned jam_page;
	unsigned arm_paper, arm_jam, arm_vanish;
	/* read-backs */
	int ustatus_job, ustatus_device;
	unsigned code; /* the device status last reported */
	uint8_t rb[SIM_PRINTER_READBACK_MAX];
	size_t rb_len, rb_cut; /* bytes waiting; of the first message, how many went out */
	/* what it did */
	struct sim_printer_job log[SIM_PRINTER_JOBS_KEPT];
	size_t n_log;
	char spool_error[200];
	unsigned anonymous; /* jobs spooled without a usable name */
};

/* ---------------------------------------------------------------- pages */

static int
pdf_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\0';
}

/* A byte that may continue a PDF name: neither white space nor a delimiter. */
static int
pdf_regular(uint8_t c)
{
	return !pdf_space(c) && strchr("()<>[]{}/%", c) == NULL;
}

/* "/Type /Page" objects in raw bytes. */
static unsigned
count_raw(const uint8_t *p, size_t len)
{
	unsigned n = 0;

	for (const uint8_t *at = p;
	     (at = memmem(at, len - (size_t)(at - p), "/Type", 5)) != NULL;) {
		const uint8_t *q = at + 5, *end = p + len;

		while (q < end && pdf_space(*q))
			q++;
		if (end - q >= 5 && memcmp(q, "/Page", 5) == 0 &&
		    (end - q == 5 || !pdf_regular(q[5])))
			n++;
		at += 5;
	}
	return n;
}

/* Inflate a FlateDecode stream of at most SIM_PRINTER_PDF_MAX bytes; NULL if it does not. */
static uint8_t *
inflate_all(const uint8_t *p, size_t len, size_t *out_len)
{
	z_stream z = {0};
	size_t cap = len * 4 + 1024;
	uint8_t *out = malloc(cap);
	int rc = Z_OK;

	if (out == NULL || inflateInit(&z) != Z_OK) {
		free(out);
		return NULL;
	}
	z.next_in = (Bytef *)p;
	z.avail_in = (uInt)len;
	while (rc == Z_OK) {
		uint8_t *grown;

		if (z.total_out == cap) {
			if (cap >= SIM_PRINTER_PDF_MAX || (grown = realloc(out, cap * 2)) == NULL)
				break;
			out = grown;
			cap *= 2;
		}
		z.next_out = out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
	}
	*out_len = z.total_out;
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	return out;
}

/* Pages inside compressed object streams (/Type /ObjStm /Filter /FlateDecode), as PDF 1.5 allows.
 */
static unsigned
count_objstm(const uint8_t *p, size_t len)
{
	unsigned n = 0;

	for (const uint8_t *at = p;
	     (at = memmem(at, len - (size_t)(at - p), "/ObjStm", 7)) != NULL;) {
		const uint8_t *end = p + len, *s, *e;
		size_t plain_len;
		uint8_t *plain;

		at += 7;
		if ((s = memmem(at, (size_t)(end - at), "stream", 6)) == NULL)
			break;
		if (memmem(at, (size_t)(s - at), "/FlateDecode", 12) == NULL)
			continue;
		s += 6;
		s += s < end && *s == '\r';
		s += s < end && *s == '\n';
		if ((e = memmem(s, (size_t)(end - s), "endstream", 9)) == NULL)
			break;
		if ((plain = inflate_all(s, (size_t)(e - s), &plain_len)) != NULL) {
			n += count_raw(plain, plain_len);
			free(plain);
		}
		at = e;
	}
	return n;
}

unsigned
sim_printer_count_pages(const uint8_t *pdf, size_t len)
{
	return len == 0 ? 0 : count_raw(pdf, len) + count_objstm(pdf, len);
}

/* ---------------------------------------------------------------- read-backs */

/* Drop the oldest whole message that has not begun to go out; 0 if none can go. */
static int
drop_oldest(struct sim_printer *p)
{
	size_t from = 0;
	uint8_t *ff;

	if (p->rb_cut > 0) { /* the first message is half read: keep it, drop the next */
		if ((ff = memchr(p->rb, FF, p->rb_len)) == NULL)
			return 0;
		from = (size_t)(ff - p->rb) + 1;
	}
	if ((ff = memchr(p->rb + from, FF, p->rb_len - from)) == NULL)
		return 0;
	memmove(p->rb + from, ff + 1, p->rb_len - (size_t)(ff + 1 - p->rb));
	p->rb_len -= (size_t)(ff + 1 - (p->rb + from));
	return 1;
}

static void readback(struct sim_printer *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
readback(struct sim_printer *p, const char *fmt, ...)
{
	char msg[HWG_PJL_MSG_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n <= 0 || (size_t)n >= sizeof(msg))
		return;
	while (p->rb_len + (size_t)n > sizeof(p->rb) && drop_oldest(p))
		;
	if (p->rb_len + (size_t)n > sizeof(p->rb))
		return;
	memcpy(p->rb + p->rb_len, msg, (size_t)n);
	p->rb_len += (size_t)n;
}

static void
job_readback(struct sim_printer *p, const struct job *j, int end)
{
	if (!p->ustatus_job || j->name[0] == '\0')
		return;
	if (end)
		readback(p, "@PJL USTATUS JOB\r\nEND\r\nNAME=\"%s\"\r\nPAGES=%u\r\n\f", j->name,
		         j->out);
	else
		readback(p, "@PJL USTATUS JOB\r\nSTART\r\nNAME=\"%s\"\r\n\f", j->name);
}

static int
ready(const struct sim_printer *p)
{
	return p->plugged && !p->paper_out && !p->jammed && !p->offline && !p->door_open;
}

static unsigned
device_code(const struct sim_printer *p)
{
	if (p->door_open)
		return CODE_DOOR_OPEN;
	if (p->jammed)
		return CODE_JAM;
	if (p->paper_out)
		return CODE_PAPER_OUT;
	if (p->offline)
		return CODE_OFFLINE;
	return p->n_queue > 0 || (p->rx != NULL && !p->rx->skip) ? CODE_PRINTING : CODE_READY;
}

static void
device_readback(struct sim_printer *p, unsigned code)
{
	char display[HWG_PJL_STRING_MAX + 1];

	switch (code) {
	case CODE_DOOR_OPEN:
		snprintf(display, sizeof(display), "12 PRINTER OPEN");
		break;
	case CODE_JAM:
		snprintf(display, sizeof(display), "13.01 PAPER JAM PAGE %u", p->jam_page);
		break;
	case CODE_PAPER_OUT:
		snprintf(display, sizeof(display), "LOAD TRAY 1 A4");
		break;
	case CODE_OFFLINE:
		snprintf(display, sizeof(display), "OFFLINE");
		break;
	case CODE_PRINTING:
		snprintf(display, sizeof(display), "PRINTING");
		break;
	default:
		snprintf(display, sizeof(display), "READY");
	}
	readback(p, "@PJL USTATUS DEVICE\r\nCODE=%u\r\nDISPLAY=\"%s\"\r\nONLINE=%s\r\n\f", code,
	         display, code == CODE_READY || code == CODE_PRINTING ? "TRUE" : "FALSE");
}

/* After anything that may change the state: report it if it did (USTATUS DEVICE=ON). */
static void
state_changed(struct sim_printer *p)
{
	unsigned code = device_code(p);

	if (code == p->code)
		return;
	p->code = code;
	if (p->ustatus_device && p->plugged)
		device_readback(p, code);
}

/* ---------------------------------------------------------------- the job log and the spool */

static void
log_job(struct sim_printer *p, const struct job *j, enum sim_printer_outcome o, const char *spooled)
{
	struct sim_printer_job *e;

	if (p->n_log == SIM_PRINTER_JOBS_KEPT) {
		memmove(p->log, p->log + 1, (SIM_PRINTER_JOBS_KEPT - 1) * sizeof(p->log[0]));
		p->n_log--;
	}
	e = &p->log[p->n_log++];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", j->name);
	e->pages = j->pages;
	e->out = j->out;
	e->outcome = o;
	snprintf(e->spooled, sizeof(e->spooled), "%s", spooled != NULL ? spooled : "");
}

static void
job_free(struct job *j)
{
	if (j != NULL)
		free(j->pdf);
	free(j);
}

static int
write_all(int fd, const uint8_t *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Link tmp under the first free name of <base>.pdf, <base>+2.pdf, ...; the name in out. */
static int
link_free_name(struct sim_printer *p, const char *tmp, const char *base, char *out, size_t cap)
{
	char path[4096];

	for (int copy = 1; copy <= SPOOL_COPIES; copy++) {
		if (copy == 1)
			snprintf(out, cap, "%.47s.pdf", base);
		else
			snprintf(out, cap, "%.47s+%d.pdf", base, copy);
		snprintf(path, sizeof(path), "%s/%s", p->spool_dir, out);
		if (link(tmp, path) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	return -1;
}

/*
 * The finished job's PDF to the spool, whole or not at all: a temporary
 * file, then linked under its name (a name printed before gets +2, +3, so
 * that a second copy is seen, never overwrites the first).
 */
static void
spool(struct sim_printer *p, const struct job *j, char *name, size_t cap)
{
	char tmp[4096], base[48];
	int fd, rc = -1;

	name[0] = '\0';
	if (p->spool_dir == NULL)
		return;
	if (j->name[0] != '\0' && hwg_pjl_name_check(j->name, NULL) == 0)
		snprintf(base, sizeof(base), "%s", j->name);
	else
		snprintf(base, sizeof(base), "%s-job-%u", p->serial, ++p->anonymous);
	snprintf(tmp, sizeof(tmp), "%s/.spool-XXXXXX", p->spool_dir);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) >= 0) {
		rc = write_all(fd, j->pdf, j->len);
		rc |= close(fd);
		if (rc == 0)
			rc = link_free_name(p, tmp, base, name, cap);
		unlink(tmp);
	}
	if (rc != 0) {
		snprintf(p->spool_error, sizeof(p->spool_error), "job %s not spooled in %s: %s",
		         base, p->spool_dir, strerror(errno));
		name[0] = '\0';
	} else {
		p->spool_error[0] = '\0';
	}
}

/* ---------------------------------------------------------------- the engine */

/* Take queue[0] off the queue. */
static struct job *
dequeue(struct sim_printer *p)
{
	struct job *j = p->queue[0];

	memmove(p->queue, p->queue + 1, (QUEUE_MAX - 1) * sizeof(p->queue[0]));
	p->queue[--p->n_queue] = NULL;
	p->page_on = p->paused = 0;
	return j;
}

static void
finish(struct sim_printer *p)
{
	struct job *j = dequeue(p);
	char spooled[64] = "";

	if (j->out > 0)
		spool(p, j, spooled, sizeof(spooled));
	job_readback(p, j, 1);
	log_job(p, j, SIM_PRN_PRINTED, spooled);
	job_free(j);
	state_changed(p);
}

/* Every job received or printing is lost, as o says. */
static void
abandon_all(struct sim_printer *p, enum sim_printer_outcome o)
{
	if (p->rx != NULL) {
		if (!p->rx->skip) /* another language's bytes were never a job */
			log_job(p, p->rx, o, NULL);
		job_free(p->rx);
		p->rx = NULL;
	}
	while (p->n_queue > 0) {
		struct job *j = dequeue(p);

		log_job(p, j, o, NULL);
		job_free(j);
	}
}

/* Page out + 1 of queue[0] is due to start at `at`: a fault armed for it strikes now. */
static void
start_page(struct sim_printer *p, uint64_t at)
{
	unsigned page = p->queue[0]->out + 1;

	if (p->arm_vanish == page) {
		p->arm_vanish = 0;
		p->vanish_due = 1;
	} else if (p->arm_paper == page) {
		p->arm_paper = 0;
		p->paper_out = 1;
	} else if (p->arm_jam == page) {
		p->arm_jam = 0;
		p->jammed = 1;
		p->jam_page = page;
	} else {
		p->page_on = 1;
		p->due = at + p->ms_per_page;
		return;
	}
	state_changed(p);
}

/* Hold the sheet being printed while the printer is not ready; go on when it is again. */
static void
hold_or_resume(struct sim_printer *p, uint64_t now)
{
	if (!ready(p) && p->page_on && !p->paused) {
		p->left = p->due > now ? p->due - now : 0;
		p->paused = 1;
	} else if (ready(p) && p->paused) {
		p->due = now + p->left;
		p->paused = 0;
	}
}

static int
tick_locked(struct sim_printer *p, uint64_t now)
{
	uint64_t at = now;

	if (!p->plugged)
		return 0;
	hold_or_resume(p, now);
	while (!p->vanish_due && p->n_queue > 0 && ready(p)) {
		struct job *j = p->queue[0];

		if (!p->page_on) {
			if (j->out == j->pages)
				finish(p);
			else
				start_page(p, at);
			continue;
		}
		if (now < p->due)
			break;
		at = p->due;
		j->out++;
		p->page_on = 0;
	}
	return p->vanish_due;
}

/* A PDF fully received: queue it (it prints once those before it have). */
static void
received(struct sim_printer *p, uint64_t now)
{
	struct job *j = p->rx;

	p->rx = NULL;
	if (j->skip) {
		job_free(j);
		return;
	}
	if (j->too_large || p->n_queue == QUEUE_MAX) {
		log_job(p, j, SIM_PRN_TOO_LARGE, NULL);
		job_free(j);
		state_changed(p);
		return;
	}
	j->pages = sim_printer_count_pages(j->pdf, j->len);
	p->queue[p->n_queue++] = j;
	tick_locked(p, now);
}

/* ---------------------------------------------------------------- the PJL reader */

/* Whether s (after blanks) starts with word, ignoring case; *rest after it. */
static int
word(const char *s, const char *w, const char **rest)
{
	size_t n = strlen(w);

	while (*s == ' ' || *s == '\t')
		s++;
	if (strncasecmp(s, w, n) != 0 ||
	    (s[n] != '\0' && s[n] != ' ' && s[n] != '\t' && s[n] != '='))
		return 0;
	*rest = s + n;
	return 1;
}

/* KEY=value in rest: "ON"/"OFF"... into out (cap bytes); quotes taken off. */
static int
value_of(const char *rest, const char *key, char *out, size_t cap)
{
	const char *at = rest, *v, *end;
	size_t n = strlen(key);

	for (; (at = strcasestr(at, key)) != NULL; at += n) {
		v = at + n;
		while (*v == ' ')
			v++;
		if (*v != '=')
			continue;
		v++;
		while (*v == ' ')
			v++;
		if (*v == '"')
			end = strchr(++v, '"');
		else
			end = v + strcspn(v, " \t");
		if (end == NULL || (size_t)(end - v) >= cap)
			return 0;
		memcpy(out, v, (size_t)(end - v));
		out[end - v] = '\0';
		return 1;
	}
	return 0;
}

/* A name the read-backs can carry: printable ASCII without '"', at most 40 bytes. */
static void
take_job_name(struct sim_printer *p, const char *rest)
{
	char v[sizeof(p->job_name)];

	p->job_name[0] = '\0';
	if (!value_of(rest, "NAME", v, sizeof(v)) || strlen(v) > HWG_PJL_NAME_MAX)
		return;
	for (const char *c = v; *c != '\0'; c++)
		if (*c < 0x20 || *c > 0x7E)
			return;
	memcpy(p->job_name, v, sizeof(v));
}

static void
ustatus(struct sim_printer *p, const char *rest)
{
	char v[16];

	if (value_of(rest, "JOB", v, sizeof(v)))
		p->ustatus_job = strcasecmp(v, "ON") == 0;
	if (value_of(rest, "DEVICE", v, sizeof(v))) {
		p->ustatus_device = strcasecmp(v, "ON") == 0 || strcasecmp(v, "VERBOSE") == 0;
		if (p->ustatus_device) /* the state as it is now, then each change */
			device_readback(p, p->code = device_code(p));
	}
}

static void
enter_language(struct sim_printer *p, const char *rest)
{
	char v[16];
	struct job *j;

	if (!value_of(rest, "LANGUAGE", v, sizeof(v)) || strcasecmp(v, "PDF") != 0 ||
	    (j = calloc(1, sizeof(*j))) == NULL) {
		p->mode = RX_SKIP; /* another language: its bytes go nowhere up to the UEL */
		return;
	}
	memcpy(j->name, p->job_name, sizeof(j->name));
	p->job_name[0] = '\0';
	p->rx = j;
	p->mode = RX_PDF;
	job_readback(p, j, 0);
	state_changed(p);
}

/* One PJL line, UELs before it taken off. */
static void
pjl_line(struct sim_printer *p, char *line)
{
	const char *rest;

	while (strncmp(line, HWG_PJL_UEL, HWG_PJL_UEL_LEN) == 0)
		line += HWG_PJL_UEL_LEN;
	if (strncmp(line, "@PJL", 4) != 0)
		return; /* not a command: a printer in PJL ignores it */
	line += 4;
	if (word(line, "JOB", &rest))
		take_job_name(p, rest);
	else if (word(line, "USTATUS", &rest))
		ustatus(p, rest);
	else if (word(line, "ENTER", &rest))
		enter_language(p, rest);
	/* EOJ, COMMENT, SET and the rest change nothing here */
}

/* Bytes in PJL mode: whole lines; the bytes after ENTER LANGUAGE's line returned. */
static size_t
pjl_bytes(struct sim_printer *p, const uint8_t *d, size_t n)
{
	size_t i = 0;

	while (i < n && p->mode == RX_PJL) {
		uint8_t c = d[i++];

		if (c != '\n') {
			if (p->line_len < LINE_MAX_)
				p->line[p->line_len++] = c == '\0' ? ' ' : (char)c;
			else
				p->line_overflow = 1;
			continue;
		}
		if (p->line_len > 0 && p->line[p->line_len - 1] == '\r')
			p->line_len--;
		p->line[p->line_len] = '\0';
		if (!p->line_overflow)
			pjl_line(p, p->line);
		p->line_len = 0;
		p->line_overflow = 0;
	}
	return i;
}

/*
 * Add n bytes to the job's PDF; *from is where a UEL could begin (up to
 * 8 bytes before them).  Past SIM_PRINTER_PDF_MAX (or for a language
 * skipped) only those 8 bytes are kept before the new ones.
 */
static int
pdf_append(struct job *j, const uint8_t *d, size_t n, size_t *from)
{
	const size_t keep = HWG_PJL_UEL_LEN - 1;

	if (j->len + n > SIM_PRINTER_PDF_MAX)
		j->too_large = 1;
	if ((j->too_large || j->skip) && j->len > keep) {
		memmove(j->pdf, j->pdf + j->len - keep, keep);
		j->len = keep;
	}
	*from = j->len > keep ? j->len - keep : 0;
	if (j->len + n > j->cap) {
		size_t cap = j->cap == 0 ? 65536 : j->cap;
		uint8_t *grown;

		while (cap < j->len + n)
			cap *= 2;
		if ((grown = realloc(j->pdf, cap)) == NULL)
			return -1;
		j->pdf = grown;
		j->cap = cap;
	}
	memcpy(j->pdf + j->len, d, n);
	j->len += n;
	return 0;
}

/*
 * Bytes in PDF (or skipped) mode up to the UEL that ends the language,
 * which may come cut across writes; how many were taken (what follows the
 * UEL goes back to PJL).
 */
static size_t
pdf_bytes(struct sim_printer *p, uint64_t now, const uint8_t *d, size_t n)
{
	struct job *j = p->rx;
	size_t from, taken;
	uint8_t *uel;

	if (j == NULL) { /* RX_SKIP: a throw-away job to find the UEL in */
		if ((j = p->rx = calloc(1, sizeof(*j))) == NULL)
			return n;
		j->skip = 1;
	}
	if (pdf_append(j, d, n, &from) != 0) {
		j->too_large = 1;
		return n;
	}
	if ((uel = memmem(j->pdf + from, j->len - from, HWG_PJL_UEL, HWG_PJL_UEL_LEN)) == NULL)
		return n;
	/* this write's bytes begin at j->len - n; those up to the UEL's end are taken */
	taken = (size_t)(uel + HWG_PJL_UEL_LEN - (j->pdf + (j->len - n)));
	j->len = (size_t)(uel - j->pdf);
	p->mode = RX_PJL;
	received(p, now);
	return taken;
}

int
sim_printer_write(struct sim_printer *p, uint64_t now_ms, const uint8_t *data, size_t len)
{
	size_t used = 0;

	pthread_mutex_lock(&p->mu);
	if (!p->plugged) {
		pthread_mutex_unlock(&p->mu);
		return HWG_E_PRINTER_REMOVED;
	}
	tick_locked(p, now_ms);
	while (used < len)
		used += p->mode == RX_PJL ? pjl_bytes(p, data + used, len - used)
		                          : pdf_bytes(p, now_ms, data + used, len - used);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

int
sim_printer_read(struct sim_printer *p, uint64_t now_ms, uint8_t *buf, size_t cap, size_t *len)
{
	size_t n;
	uint8_t *ff;

	*len = 0;
	pthread_mutex_lock(&p->mu);
	if (!p->plugged) {
		pthread_mutex_unlock(&p->mu);
		return HWG_E_PRINTER_REMOVED;
	}
	tick_locked(p, now_ms);
	n = p->rb_len < cap ? p->rb_len : cap;
	if (p->chunk > 0 && n > p->chunk)
		n = p->chunk;
	if (n > 0) {
		memcpy(buf, p->rb, n);
		memmove(p->rb, p->rb + n, p->rb_len - n);
		p->rb_len -= n;
		/* how much of the message now first has gone out already */
		ff = memrchr(buf, FF, n);
		p->rb_cut = ff != NULL ? (size_t)(buf + n - ff - 1) : p->rb_cut + n;
		if (p->rb_len == 0)
			p->rb_cut = 0;
	}
	*len = n;
	pthread_mutex_unlock(&p->mu);
	return n > 0;
}

size_t
sim_printer_device_id(struct sim_printer *p, uint8_t *buf, size_t cap)
{
	char id[HWG_IEEE1284_ID_MAX];
	int n;

	pthread_mutex_lock(&p->mu);
	n = snprintf(
	    id + 2, sizeof(id) - 2,
	    "MFG:hwsim;MDL:%s;CMD:PJL,PDF;CLS:PRINTER;DES:hwsim certificate printer;SN:%s;",
	    p->model, p->serial);
	pthread_mutex_unlock(&p->mu);
	n += 2;
	id[0] = (char)(n >> 8);
	id[1] = (char)(n & 0xff);
	if ((size_t)n > cap)
		n = (int)cap; /* cut, as a device answers a short wLength: the length field stays */
	memcpy(buf, id, (size_t)n);
	return (size_t)n;
}

uint8_t
sim_printer_port_status(struct sim_printer *p, uint64_t now_ms)
{
	uint8_t st = 0;

	pthread_mutex_lock(&p->mu);
	tick_locked(p, now_ms);
	if (p->paper_out)
		st |= HWG_PRN_PORT_PAPER_EMPTY;
	if (!p->door_open && !p->jammed)
		st |= HWG_PRN_PORT_NOT_ERROR;
	if (ready(p))
		st |= HWG_PRN_PORT_SELECTED;
	pthread_mutex_unlock(&p->mu);
	return st;
}

/* Back to a printer that has received nothing (SOFT_RESET, power). */
static void
reader_reset(struct sim_printer *p)
{
	p->mode = RX_PJL;
	p->line_len = 0;
	p->line_overflow = 0;
	p->job_name[0] = '\0';
	p->rb_len = p->rb_cut = 0;
}

void
sim_printer_soft_reset(struct sim_printer *p, uint64_t now_ms)
{
	pthread_mutex_lock(&p->mu);
	tick_locked(p, now_ms);
	abandon_all(p, SIM_PRN_RESET);
	reader_reset(p);
	state_changed(p);
	pthread_mutex_unlock(&p->mu);
}

int
sim_printer_tick(struct sim_printer *p, uint64_t now_ms)
{
	int vanish;

	pthread_mutex_lock(&p->mu);
	vanish = tick_locked(p, now_ms);
	pthread_mutex_unlock(&p->mu);
	return vanish;
}

int
sim_printer_next_event(struct sim_printer *p, uint64_t *at_ms)
{
	int some;

	pthread_mutex_lock(&p->mu);
	some = p->plugged && (p->vanish_due || (p->page_on && !p->paused));
	*at_ms = p->vanish_due ? 0 : p->due;
	pthread_mutex_unlock(&p->mu);
	return some;
}

/* ---------------------------------------------------------------- test controls */

/* Change a condition at now_ms: printing up to now first, then hold or resume, report. */
static void
condition(struct sim_printer *p, uint64_t now_ms, int *flag, int on)
{
	pthread_mutex_lock(&p->mu);
	tick_locked(p, now_ms);
	*flag = on;
	hold_or_resume(p, now_ms);
	state_changed(p);
	tick_locked(p, now_ms); /* a job held by this condition goes on */
	pthread_mutex_unlock(&p->mu);
}

void
sim_printer_set_paper_out(struct sim_printer *p, uint64_t now_ms, int on)
{
	condition(p, now_ms, &p->paper_out, on);
}

void
sim_printer_clear_jam(struct sim_printer *p, uint64_t now_ms)
{
	condition(p, now_ms, &p->jammed, 0);
}

void
sim_printer_set_offline(struct sim_printer *p, uint64_t now_ms, int on)
{
	condition(p, now_ms, &p->offline, on);
}

void
sim_printer_set_door_open(struct sim_printer *p, uint64_t now_ms, int open)
{
	condition(p, now_ms, &p->door_open, open);
}

static void
arm(struct sim_printer *p, unsigned *what, unsigned value)
{
	pthread_mutex_lock(&p->mu);
	*what = value;
	pthread_mutex_unlock(&p->mu);
}

void
sim_printer_paper_out_at(struct sim_printer *p, unsigned page)
{
	arm(p, &p->arm_paper, page);
}

void
sim_printer_jam_at(struct sim_printer *p, unsigned page)
{
	arm(p, &p->arm_jam, page);
}

void
sim_printer_vanish_at(struct sim_printer *p, unsigned page)
{
	arm(p, &p->arm_vanish, page);
}

void
sim_printer_set_speed(struct sim_printer *p, unsigned ms_per_page)
{
	arm(p, &p->ms_per_page, ms_per_page);
}

void
sim_printer_set_chunk(struct sim_printer *p, size_t bytes)
{
	pthread_mutex_lock(&p->mu);
	p->chunk = bytes;
	pthread_mutex_unlock(&p->mu);
}

void
sim_printer_unplug(struct sim_printer *p, uint64_t now_ms)
{
	pthread_mutex_lock(&p->mu);
	if (p->plugged && !p->vanish_due)
		tick_locked(p, now_ms);
	abandon_all(p, SIM_PRN_REMOVED);
	reader_reset(p);
	p->plugged = 0;
	p->vanish_due = 0;
	p->ustatus_job = p->ustatus_device = 0;
	p->code = device_code(p);
	pthread_mutex_unlock(&p->mu);
}

void
sim_printer_plug(struct sim_printer *p)
{
	pthread_mutex_lock(&p->mu);
	p->plugged = 1;
	p->code = device_code(p);
	pthread_mutex_unlock(&p->mu);
}

int
sim_printer_plugged(struct sim_printer *p)
{
	int plugged;

	pthread_mutex_lock(&p->mu);
	plugged = p->plugged;
	pthread_mutex_unlock(&p->mu);
	return plugged;
}

/* ---------------------------------------------------------------- what it did */

size_t
sim_printer_jobs(struct sim_printer *p, struct sim_printer_job *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&p->mu);
	n = p->n_log < max ? p->n_log : max;
	memcpy(out, p->log + (p->n_log - n), n * sizeof(out[0]));
	pthread_mutex_unlock(&p->mu);
	return n;
}

const char *
sim_printer_outcome_name(enum sim_printer_outcome o)
{
	static const char *const names[] = {"printed", "reset", "removed", "too_large"};

	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}

const char *
sim_printer_state(struct sim_printer *p)
{
	const char *s;

	pthread_mutex_lock(&p->mu);
	if (!p->plugged)
		s = "removed";
	else if (p->door_open)
		s = "door_open";
	else if (p->jammed)
		s = "jammed";
	else if (p->paper_out)
		s = "paper_out";
	else if (p->offline)
		s = "offline";
	else if (p->n_queue > 0 || (p->rx != NULL && !p->rx->skip))
		s = "printing";
	else
		s = "ready";
	pthread_mutex_unlock(&p->mu);
	return s;
}

const char *
sim_printer_serial(const struct sim_printer *p)
{
	return p->serial;
}

void
sim_printer_spool_error(struct sim_printer *p, char *out, size_t cap)
{
	pthread_mutex_lock(&p->mu);
	snprintf(out, cap, "%s", p->spool_error);
	pthread_mutex_unlock(&p->mu);
}

/* ---------------------------------------------------------------- life cycle */

static int
model_ok(const char *m)
{
	size_t n = strlen(m);

	if (n == 0 || n > SIM_PRINTER_MODEL_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (m[i] < 0x20 || m[i] > 0x7E || m[i] == ':' || m[i] == ';')
			return 0;
	return 1;
}

int
sim_printer_new(const struct sim_printer_config *cfg, struct sim_printer **out,
                struct hwg_error *err)
{
	const char *model = cfg->model != NULL ? cfg->model : "CP-SIM";
	struct sim_printer *p;

	*out = NULL;
	if (cfg->serial == NULL || strlen(cfg->serial) > SIM_PRINTER_SERIAL_MAX ||
	    hwg_pjl_name_check(cfg->serial, NULL) != 0)
		return hwg_error_set(
		    err, HWG_E_INVALID,
		    "printer serial: 1..%d of [A-Za-z0-9._-], a letter or digit first",
		    SIM_PRINTER_SERIAL_MAX);
	if (!model_ok(model))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "printer model: 1..%d printable ASCII bytes without ':' ';'",
		                     SIM_PRINTER_MODEL_MAX);
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (cfg->spool_dir != NULL && (p->spool_dir = strdup(cfg->spool_dir)) == NULL)) {
		free(p);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	pthread_mutex_init(&p->mu, NULL);
	snprintf(p->serial, sizeof(p->serial), "%s", cfg->serial);
	snprintf(p->model, sizeof(p->model), "%s", model);
	p->ms_per_page = cfg->ms_per_page > 0 ? cfg->ms_per_page : SIM_PRINTER_DEFAULT_MS_PER_PAGE;
	p->code = CODE_READY;
	p->plugged = 1;
	*out = p;
	return 0;
}

void
sim_printer_free(struct sim_printer *p)
{
	if (p == NULL)
		return;
	abandon_all(p, SIM_PRN_REMOVED);
	pthread_mutex_destroy(&p->mu);
	free(p->spool_dir);
	free(p);
}
