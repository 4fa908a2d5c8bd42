/*
 * hwg_pjl.c — see hwg_pjl.h and firmware-notes/certificate-printer.md.
 */
#include "hwg_pjl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_buf.h"

#define FF 0x0C

/* The KEY=value lines of a message, as bits of what was seen. */
enum { K_NAME = 1, K_PAGES = 2, K_CODE = 4, K_DISPLAY = 8, K_ONLINE = 16 };

/* A refusal of the printer's bytes. */
#define bad(err, ...)                                                                              \
	hwg_error_prefixed(err, HWG_E_PRINTER_ERROR, "printer PJL read-back", __VA_ARGS__)

/* ---------------------------------------------------------------- the job */

static int
name_char(char c, int first)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return 1;
	return !first && (c == '.' || c == '_' || c == '-');
}

int
hwg_pjl_name_check(const char *name, struct hwg_error *err)
{
	size_t n = strnlen(name, HWG_PJL_NAME_MAX + 1);

	if (n == 0 || n > HWG_PJL_NAME_MAX)
		return hwg_error_set(err, HWG_E_INVALID, "PJL job name: empty or over %d bytes",
		                     HWG_PJL_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		if (!name_char(name[i], i == 0))
			return hwg_error_set(err, HWG_E_INVALID,
			                     "PJL job name: byte %02X at %zu is not "
			                     "[A-Za-z0-9] then [A-Za-z0-9._-]",
			                     (unsigned char)name[i], i);
	return 0;
}

static int
put_str(struct hwg_buf *b, const char *s)
{
	return hwg_buf_put(b, s, strlen(s));
}

/* Copy what b holds into out, or say why not; frees b. */
static int
build_finish(struct hwg_buf *b, int rc, const char *what, uint8_t *out, size_t cap, size_t *len,
             struct hwg_error *err)
{
	size_t n = hwg_buf_len(b);

	if (rc == 0 && n > cap)
		rc =
		    hwg_error_set(err, HWG_E_TOO_LARGE, "PJL %s of %zu bytes in %zu", what, n, cap);
	else if (rc != 0)
		rc = hwg_error_set(err, rc, "PJL %s could not be built", what);
	if (rc == 0) {
		memcpy(out, hwg_buf_ptr(b), n);
		*len = n;
	}
	hwg_buf_free(b);
	return rc;
}

/* prefix, the name, suffix: the shape of both ends of a job. */
static int
build(const char *name, const char *what, const char *prefix, const char *suffix, size_t max,
      uint8_t *out, size_t cap, size_t *len, struct hwg_error *err)
{
	struct hwg_buf *b;
	int rc;

	if ((rc = hwg_pjl_name_check(name, err)) != 0)
		return rc;
	if ((b = hwg_buf_new(max)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "PJL %s: out of memory", what);
	rc = put_str(b, prefix);
	if (rc == 0)
		rc = put_str(b, name);
	if (rc == 0)
		rc = put_str(b, suffix);
	return build_finish(b, rc, what, out, cap, len, err);
}

int
hwg_pjl_job_head(const char *name, uint8_t *out, size_t cap, size_t *len, struct hwg_error *err)
{
	return build(name, "job head", HWG_PJL_UEL "@PJL JOB NAME=\"",
	             "\"\r\n"
	             "@PJL USTATUS JOB=ON\r\n"
	             "@PJL USTATUS DEVICE=ON\r\n"
	             "@PJL ENTER LANGUAGE=PDF\r\n",
	             HWG_PJL_HEAD_MAX, out, cap, len, err);
}

int
hwg_pjl_job_tail(const char *name, uint8_t *out, size_t cap, size_t *len, struct hwg_error *err)
{
	return build(name, "job tail", HWG_PJL_UEL "@PJL EOJ NAME=\"", "\"\r\n" HWG_PJL_UEL,
	             HWG_PJL_TAIL_MAX, out, cap, len, err);
}

int
hwg_pjl_body_check(const uint8_t *p, size_t len, struct hwg_error *err)
{
	const uint8_t *uel;

	if (len == 0)
		return 0;
	if ((uel = memmem(p, len, HWG_PJL_UEL, HWG_PJL_UEL_LEN)) != NULL)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "PJL job body: the UEL sequence at byte %zu would end the job",
		                     (size_t)(uel - p));
	return 0;
}

/* ---------------------------------------------------------------- device states */

/* Codes meaning one state each; 41xyy and 42xyy are ranges (hwg_pjl_state_of). */
static const struct {
	unsigned code;
	enum hwg_pjl_state state;
} state_codes[] = {
    {10001, HWG_PJL_ST_READY},       {10002, HWG_PJL_ST_OFFLINE},   {10023, HWG_PJL_ST_PRINTING},
    {30016, HWG_PJL_ST_MEMORY_FULL}, {35078, HWG_PJL_ST_POWERSAVE}, {40021, HWG_PJL_ST_DOOR_OPEN},
    {40022, HWG_PJL_ST_PAPER_JAM},
};

static const char *const state_names[] = {
    [HWG_PJL_ST_UNKNOWN] = "unknown",         [HWG_PJL_ST_READY] = "ready",
    [HWG_PJL_ST_OFFLINE] = "offline",         [HWG_PJL_ST_PRINTING] = "printing",
    [HWG_PJL_ST_MEMORY_FULL] = "memory_full", [HWG_PJL_ST_POWERSAVE] = "powersave",
    [HWG_PJL_ST_DOOR_OPEN] = "door_open",     [HWG_PJL_ST_PAPER_JAM] = "paper_jam",
    [HWG_PJL_ST_PAPER_OUT] = "paper_out",
};

enum hwg_pjl_state
hwg_pjl_state_of(unsigned code, unsigned *tray)
{
	if (tray != NULL)
		*tray = 0;
	for (size_t i = 0; i < sizeof(state_codes) / sizeof(state_codes[0]); i++)
		if (state_codes[i].code == code)
			return state_codes[i].state;
	if (code / 1000 == 41) {
		if (tray != NULL)
			*tray = code / 100 % 10;
		return HWG_PJL_ST_PAPER_OUT;
	}
	if (code / 1000 == 42)
		return HWG_PJL_ST_PAPER_JAM;
	return HWG_PJL_ST_UNKNOWN;
}

const char *
hwg_pjl_state_name(enum hwg_pjl_state st)
{
	if ((unsigned)st > HWG_PJL_ST_MAX_)
		return "unknown";
	return state_names[st];
}

/* ---------------------------------------------------------------- values */

/* "..." into out (HWG_PJL_STRING_MAX + 1); bytes past ASCII refused or made '?'. */
static int
quoted(const uint8_t *v, size_t vn, int ascii_only, const char *key, char *out,
       struct hwg_error *err)
{
	if (vn < 2 || v[0] != '"' || v[vn - 1] != '"')
		return bad(err, "%s value not between double quotes", key);
	v++;
	vn -= 2;
	if (vn > HWG_PJL_STRING_MAX)
		return bad(err, "%s value of %zu bytes (max %d)", key, vn, HWG_PJL_STRING_MAX);
	for (size_t i = 0; i < vn; i++) {
		if (v[i] == '"' || (ascii_only && v[i] > 0x7E))
			return bad(err, "byte %02X at %zu in the %s value", v[i], i, key);
		out[i] = v[i] > 0x7E ? '?' : (char)v[i];
	}
	out[vn] = '\0';
	return 0;
}

/* digits decimal digits at most, at least one, no sign or blank. */
static int
number(const uint8_t *v, size_t vn, size_t digits, const char *key, unsigned *out,
       struct hwg_error *err)
{
	unsigned n = 0;

	if (vn == 0 || vn > digits)
		return bad(err, "%s value of %zu digits (1..%zu)", key, vn, digits);
	for (size_t i = 0; i < vn; i++) {
		if (v[i] < '0' || v[i] > '9')
			return bad(err, "byte %02X at %zu in the %s value", v[i], i, key);
		n = n * 10 + (unsigned)(v[i] - '0');
	}
	*out = n;
	return 0;
}

static int
take_name(const uint8_t *v, size_t vn, struct hwg_pjl_msg *m, struct hwg_error *err)
{
	return quoted(v, vn, 1, "NAME", m->name, err);
}

static int
take_pages(const uint8_t *v, size_t vn, struct hwg_pjl_msg *m, struct hwg_error *err)
{
	return number(v, vn, 5, "PAGES", &m->pages, err);
}

static int
take_code(const uint8_t *v, size_t vn, struct hwg_pjl_msg *m, struct hwg_error *err)
{
	if (vn != 5 || v[0] == '0')
		return bad(err, "CODE is not five digits from 10000");
	return number(v, vn, 5, "CODE", &m->code, err);
}

static int
take_display(const uint8_t *v, size_t vn, struct hwg_pjl_msg *m, struct hwg_error *err)
{
	return quoted(v, vn, 0, "DISPLAY", m->display, err);
}

static int
take_online(const uint8_t *v, size_t vn, struct hwg_pjl_msg *m, struct hwg_error *err)
{
	if (vn == 4 && memcmp(v, "TRUE", 4) == 0)
		m->online = 1;
	else if (vn == 5 && memcmp(v, "FALSE", 5) == 0)
		m->online = 0;
	else
		return bad(err, "ONLINE is neither TRUE nor FALSE");
	return 0;
}

/* ---------------------------------------------------------------- messages */

struct field {
	const char *key;
	unsigned bit;
	int (*take)(const uint8_t *v, size_t vn, struct hwg_pjl_msg *m, struct hwg_error *err);
};

static const struct field job_fields[] = {
    {"NAME", K_NAME, take_name},
    {"PAGES", K_PAGES, take_pages},
    {NULL, 0, NULL},
};

static const struct field device_fields[] = {
    {"CODE", K_CODE, take_code},
    {"DISPLAY", K_DISPLAY, take_display},
    {"ONLINE", K_ONLINE, take_online},
    {NULL, 0, NULL},
};

/* The next line without its LF (and a CR before it); control bytes refused. */
static int
next_line(struct hwg_buf *b, const uint8_t **line, size_t *n, struct hwg_error *err)
{
	const uint8_t *lf = memchr(hwg_buf_ptr(b), '\n', hwg_buf_len(b));
	size_t k;

	if (lf == NULL && hwg_buf_len(b) == 0)
		return bad(err, "the form feed came where a line was due");
	if (lf == NULL)
		return bad(err, "%zu bytes before the form feed not ended by LF", hwg_buf_len(b));
	k = (size_t)(lf - hwg_buf_ptr(b));
	hwg_buf_get_view(b, k + 1, line);
	if (k > 0 && (*line)[k - 1] == '\r')
		k--;
	for (size_t i = 0; i < k; i++)
		if ((*line)[i] < 0x20 || (*line)[i] == 0x7F)
			return bad(err, "control byte %02X in a line", (*line)[i]);
	*n = k;
	return 0;
}

static int
line_is(const uint8_t *line, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(line, s, n) == 0;
}

static const struct field *
field_for(const struct field *fields, const uint8_t *key, size_t kn)
{
	for (; fields->key != NULL; fields++)
		if (line_is(key, kn, fields->key))
			return fields;
	return NULL;
}

/* One KEY=value line of fields, each key once. */
static int
take_line(const struct field *fields, const uint8_t *line, size_t n, unsigned *got,
          struct hwg_pjl_msg *m, struct hwg_error *err)
{
	const uint8_t *eq = memchr(line, '=', n);
	const struct field *f;
	size_t kn;

	if (eq == NULL)
		return bad(err, "a line without '=' in a %s message",
		           m->kind == HWG_PJL_DEVICE ? "DEVICE" : "JOB");
	kn = (size_t)(eq - line);
	if ((f = field_for(fields, line, kn)) == NULL)
		return bad(err, "a key this dialect does not have in a %s message",
		           m->kind == HWG_PJL_DEVICE ? "DEVICE" : "JOB");
	if (*got & f->bit)
		return bad(err, "%s comes twice", f->key);
	*got |= f->bit;
	return f->take(eq + 1, n - kn - 1, m, err);
}

static int
take_lines(struct hwg_buf *b, const struct field *fields, unsigned *got, struct hwg_pjl_msg *m,
           struct hwg_error *err)
{
	const uint8_t *line;
	size_t n;
	int rc = 0;

	while (rc == 0 && hwg_buf_len(b) > 0)
		if ((rc = next_line(b, &line, &n, err)) == 0)
			rc = take_line(fields, line, n, got, m, err);
	return rc;
}

static int
parse_job(struct hwg_buf *b, struct hwg_pjl_msg *m, struct hwg_error *err)
{
	const uint8_t *line;
	size_t n;
	unsigned got = 0, want;
	int rc;

	if ((rc = next_line(b, &line, &n, err)) != 0)
		return rc;
	if (line_is(line, n, "START"))
		m->kind = HWG_PJL_JOB_START;
	else if (line_is(line, n, "END"))
		m->kind = HWG_PJL_JOB_END;
	else
		return bad(err, "USTATUS JOB is neither START nor END");
	if ((rc = take_lines(b, job_fields, &got, m, err)) != 0)
		return rc;
	want = m->kind == HWG_PJL_JOB_END ? (K_NAME | K_PAGES) : K_NAME;
	if (got != want)
		return bad(err, "USTATUS JOB %s wants NAME%s and nothing else",
		           m->kind == HWG_PJL_JOB_END ? "END" : "START",
		           m->kind == HWG_PJL_JOB_END ? " and PAGES" : "");
	return 0;
}

static int
parse_device(struct hwg_buf *b, struct hwg_pjl_msg *m, struct hwg_error *err)
{
	unsigned got = 0;
	int rc;

	m->kind = HWG_PJL_DEVICE;
	if ((rc = take_lines(b, device_fields, &got, m, err)) != 0)
		return rc;
	if ((got & (K_CODE | K_ONLINE)) != (K_CODE | K_ONLINE))
		return bad(err, "USTATUS DEVICE without %s", got & K_CODE ? "ONLINE" : "CODE");
	m->state = hwg_pjl_state_of(m->code, &m->tray);
	return 0;
}

static int
parse_body(struct hwg_buf *b, struct hwg_pjl_msg *m, struct hwg_error *err)
{
	const uint8_t *line;
	size_t n;
	int rc;

	if ((rc = next_line(b, &line, &n, err)) != 0)
		return rc;
	if (line_is(line, n, "@PJL USTATUS JOB"))
		return parse_job(b, m, err);
	if (line_is(line, n, "@PJL USTATUS DEVICE"))
		return parse_device(b, m, err);
	return bad(err, "a message other than USTATUS JOB or DEVICE");
}

int
hwg_pjl_parse(const uint8_t *p, size_t len, struct hwg_pjl_msg *m, struct hwg_error *err)
{
	struct hwg_pjl_msg out;
	struct hwg_buf *b;
	int rc;

	if (len == 0 || len > HWG_PJL_MSG_MAX)
		return bad(err, "message of %zu bytes (1..%d)", len, HWG_PJL_MSG_MAX);
	if (p[len - 1] != FF)
		return bad(err, "message not ended by a form feed");
	if ((b = hwg_buf_from(p, len - 1)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "printer PJL read-back: out of memory");
	memset(&out, 0, sizeof(out));
	rc = parse_body(b, &out, err);
	hwg_buf_free(b);
	if (rc == 0)
		*m = out;
	return rc;
}

int
hwg_pjl_job_confirmed(const struct hwg_pjl_msg *m, const char *name, unsigned pages,
                      struct hwg_error *err)
{
	if (m->kind != HWG_PJL_JOB_END || strcmp(m->name, name) != 0)
		return 0;
	if (m->pages != pages)
		return hwg_error_set(err, HWG_E_PRINTER_ERROR,
		                     "printer: job %s ended with %u pages printed, not %u", m->name,
		                     m->pages, pages);
	return 1;
}

/* ---------------------------------------------------------------- the accumulator */

struct hwg_pjl_reader {
	struct hwg_buf *pending;
	int skipping; /* dropping an over-long message up to its form feed */
};

struct hwg_pjl_reader *
hwg_pjl_reader_new(void)
{
	struct hwg_pjl_reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	if ((r->pending = hwg_buf_new(HWG_PJL_MSG_MAX + HWG_PJL_FEED_MAX)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
hwg_pjl_reader_free(struct hwg_pjl_reader *r)
{
	if (r == NULL)
		return;
	hwg_buf_free(r->pending);
	free(r);
}

int
hwg_pjl_reader_feed(struct hwg_pjl_reader *r, const uint8_t *p, size_t len, struct hwg_error *err)
{
	int rc;

	if (len > HWG_PJL_FEED_MAX)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "PJL reader: %zu bytes fed at once (max %d)", len,
		                     HWG_PJL_FEED_MAX);
	if ((rc = hwg_buf_put(r->pending, p, len)) == HWG_E_TOO_LARGE)
		return hwg_error_set(err, rc, "PJL reader: fed again before it was drained");
	if (rc != 0)
		return hwg_error_set(err, rc, "PJL reader: out of memory");
	return 0;
}

/* While skipping: drop bytes through the next form feed; 1 once it came. */
static int
skip_to_ff(struct hwg_pjl_reader *r)
{
	const uint8_t *p = hwg_buf_ptr(r->pending);
	const uint8_t *ff = memchr(p, FF, hwg_buf_len(r->pending));

	if (ff == NULL) {
		hwg_buf_reset(r->pending);
		return 0;
	}
	hwg_buf_skip(r->pending, (size_t)(ff - p) + 1);
	r->skipping = 0;
	return 1;
}

int
hwg_pjl_reader_next(struct hwg_pjl_reader *r, struct hwg_pjl_msg *m, struct hwg_error *err)
{
	const uint8_t *p, *ff, *msg;
	size_t n;
	int rc;

	if (r->skipping && !skip_to_ff(r))
		return 0;
	p = hwg_buf_ptr(r->pending);
	n = hwg_buf_len(r->pending);
	if ((ff = memchr(p, FF, n)) == NULL) {
		if (n < HWG_PJL_MSG_MAX)
			return 0;
		hwg_buf_reset(r->pending);
		r->skipping = 1;
		return bad(err, "over %d bytes without a form feed", HWG_PJL_MSG_MAX);
	}
	n = (size_t)(ff - p) + 1;
	hwg_buf_get_view(r->pending, n, &msg);
	if ((rc = hwg_pjl_parse(msg, n, m, err)) != 0)
		return rc;
	return 1;
}
