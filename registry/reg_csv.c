/*
 * reg_csv.c — the strict CSV reader (RFC 4180, named columns) and the
 * conversion of a declared encoding to UTF-8 with iconv; see reg_csv.h.
 * Pure: no I/O, no logging; allocation bounded by REG_CSV_RECORD_MAX per
 * record and three bytes per input byte for the conversion.
 */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hwg_text.h"
#include "reg_csv.h"

#define ROW_BUF (REG_CSV_RECORD_MAX + REG_CSV_COLS_MAX + 1)

/* ------------------------------------------------------------ decode */

static const char *
iconv_name(const char *encoding)
{
	if (encoding == NULL || strcasecmp(encoding, "utf-8") == 0 ||
	    strcasecmp(encoding, "utf8") == 0)
		return "UTF-8";
	if (strcasecmp(encoding, "shift_jis") == 0 || strcasecmp(encoding, "sjis") == 0 ||
	    strcasecmp(encoding, "cp932") == 0 || strcasecmp(encoding, "windows-31j") == 0)
		return "CP932";
	return NULL;
}

static long
line_at(const uint8_t *in, size_t off)
{
	long line = 1;

	for (size_t i = 0; i < off; i++)
		line += in[i] == '\n';
	return line;
}

static int
convert(iconv_t cd, const uint8_t *in, size_t len, char *out, size_t cap, size_t *out_len,
        struct hwg_error *err)
{
	char *ip = (char *)(uintptr_t)in, *op = out;
	size_t il = len, ol = cap;

	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 ||
	    iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1) {
		size_t off = (size_t)((const uint8_t *)ip - in);
		return hwg_error_set(err, HWG_E_INVALID,
		                     errno == EINVAL
		                         ? "line %ld: the file ends inside a character"
		                         : "line %ld (byte %zu): not a character of the "
		                           "declared encoding",
		                     line_at(in, off), off);
	}
	*out_len = cap - ol;
	return 0;
}

int
reg_csv_decode(const uint8_t *in, size_t len, const char *encoding, char **out, size_t *out_len,
               struct hwg_error *err)
{
	const char *name = iconv_name(encoding);
	size_t cap = 3 * len + 4, n = 0;
	char *buf;
	iconv_t cd;
	int rc;

	*out = NULL;
	if (name == NULL)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "encoding %s: not utf-8, shift_jis or cp932", encoding);
	if (len > REG_CSV_INPUT_MAX)
		return hwg_error_set(err, HWG_E_TOO_LARGE, "file larger than %u bytes",
		                     REG_CSV_INPUT_MAX);
	if ((cd = iconv_open("UTF-8", name)) == (iconv_t)-1)
		return hwg_error_set(err, HWG_E_CONFIG, "iconv cannot convert from %s", name);
	if ((buf = malloc(cap + 1)) == NULL)
		rc = hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	else
		rc = convert(cd, in, len, buf, cap, &n, err);
	iconv_close(cd);
	if (rc == 0 && !hwg_utf8_valid((const uint8_t *)buf, n))
		rc = hwg_error_set(err, HWG_E_INVALID, "the converted text is not UTF-8");
	if (rc != 0) {
		free(buf);
		return rc;
	}
	if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		memmove(buf, buf + 3, n -= 3);
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return 0;
}

/* ------------------------------------------------------------- parse */

struct field_out {
	char *buf;
	size_t used;
	const char **fields;
	int n;
};

static int
bad(struct reg_csv *c, struct hwg_error *err, const char *what)
{
	return hwg_error_set(err, HWG_E_INVALID, "line %ld: %s", c->next_line, what);
}

static int
put(struct reg_csv *c, struct field_out *o, char ch, struct hwg_error *err)
{
	if (o->used + 1 >= ROW_BUF)
		return bad(c, err, "a record longer than the limit");
	o->buf[o->used++] = ch;
	return 0;
}

/* A quoted field, c->p just past the opening quote. */
static int
quoted(struct reg_csv *c, struct field_out *o, struct hwg_error *err)
{
	int rc;

	for (;;) {
		if (c->p == c->end)
			return bad(c, err, "a quoted field not closed before the end");
		if (*c->p == '"' && (c->p + 1 == c->end || c->p[1] != '"')) {
			c->p++;
			return 0;
		}
		if (*c->p == '\0')
			return bad(c, err, "a NUL byte");
		if (*c->p == '"')
			c->p++;
		else if (*c->p == '\n')
			c->next_line++;
		if ((rc = put(c, o, *c->p++, err)) != 0)
			return rc;
	}
}

static int
unquoted(struct reg_csv *c, struct field_out *o, struct hwg_error *err)
{
	int rc;

	while (c->p < c->end && *c->p != ',' && *c->p != '\r' && *c->p != '\n') {
		if (*c->p == '"')
			return bad(c, err, "a quote inside an unquoted field");
		if (*c->p == '\0')
			return bad(c, err, "a NUL byte");
		if ((rc = put(c, o, *c->p++, err)) != 0)
			return rc;
	}
	return 0;
}

/* After a field: 1 another follows, 0 the record ends, or a refusal. */
static int
separator(struct reg_csv *c, struct hwg_error *err)
{
	if (c->p == c->end)
		return 0;
	if (*c->p == ',') {
		c->p++;
		return 1;
	}
	if (*c->p == '\n' || (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n')) {
		c->p += *c->p == '\r' ? 2 : 1;
		c->next_line++;
		return 0;
	}
	return bad(c, err,
	           *c->p == '\r' ? "a CR not followed by LF"
	                         : "something between a closing quote and the next comma");
}

/* One record into o: its fields, NUL-terminated in o->buf. */
static int
record(struct reg_csv *c, struct field_out *o, struct hwg_error *err)
{
	const char *start = c->p;
	int rc, more;

	c->line = c->next_line;
	o->used = 0;
	o->n = 0;
	do {
		if (o->n == REG_CSV_COLS_MAX)
			return bad(c, err, "more columns than the limit");
		o->fields[o->n++] = o->buf + o->used;
		if (c->p < c->end && *c->p == '"') {
			c->p++;
			rc = quoted(c, o, err);
		} else {
			rc = unquoted(c, o, err);
		}
		if (rc != 0 || (rc = put(c, o, '\0', err)) != 0)
			return rc;
		if ((size_t)(c->p - start) > REG_CSV_RECORD_MAX)
			return bad(c, err, "a record longer than the limit");
	} while ((more = separator(c, err)) == 1);
	return more;
}

static int
header_check(struct reg_csv *c, struct hwg_error *err)
{
	for (int i = 0; i < c->ncols; i++) {
		if (c->names[i][0] == '\0')
			return hwg_error_set(err, HWG_E_INVALID, "line 1: column %d has no name",
			                     i + 1);
		for (int j = 0; j < i; j++)
			if (strcmp(c->names[i], c->names[j]) == 0)
				return hwg_error_set(err, HWG_E_INVALID,
				                     "line 1: column %d's name is column %d's too",
				                     i + 1, j + 1);
	}
	return 0;
}

int
reg_csv_open(struct reg_csv *c, const char *text, size_t len, struct hwg_error *err)
{
	struct field_out o;
	int rc;

	memset(c, 0, sizeof(*c));
	c->p = text;
	c->end = text + len;
	c->next_line = 1;
	c->header = malloc(ROW_BUF);
	c->row = malloc(ROW_BUF);
	if (c->header == NULL || c->row == NULL) {
		reg_csv_close(c);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	if (len == 0)
		return hwg_error_set(err, HWG_E_INVALID, "line 1: no header (the file is empty)");
	o = (struct field_out){c->header, 0, c->names, 0};
	if ((rc = record(c, &o, err)) != 0)
		return rc;
	c->ncols = o.n;
	return header_check(c, err);
}

int
reg_csv_next(struct reg_csv *c, struct hwg_error *err)
{
	struct field_out o = {c->row, 0, c->fields, 0};
	int rc;

	if (c->p >= c->end)
		return 0;
	if ((rc = record(c, &o, err)) != 0)
		return rc;
	if (o.n != c->ncols)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "line %ld: %d fields where the header names %d columns",
		                     c->line, o.n, c->ncols);
	return 1;
}

int
reg_csv_column(const struct reg_csv *c, const char *name)
{
	for (int i = 0; i < c->ncols; i++)
		if (strcmp(c->names[i], name) == 0)
			return i;
	return -1;
}

void
reg_csv_close(struct reg_csv *c)
{
	free(c->header);
	free(c->row);
	c->header = c->row = NULL;
}
