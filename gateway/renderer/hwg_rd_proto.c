/*
 * hwg_rd_proto.c — see hwg_rd_proto.h.  The request is read with libcbor
 * through hwg_cbor_load (bounded, UTF-8 checked) and judged field by
 * field; the small messages going the other way (READY, REPLY) are
 * written and read by hand over hwg_buf in CBOR's shortest form, so that
 * a PDF of megabytes is neither copied into a CBOR item nor parsed by
 * anything but a length check.
 */
#include "hwg_rd_proto.h"

#include <cbor.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_secret.h"
#include "hwg_text.h"

static const char *const kind_names[HWG_RD_KINDS] = {"juminhyo", "kisai", "tenshutsu", "inkan"};

static const char *const field_names[HWG_RD_FIELDS] = {
    "name",        "kana",           "birth",         "sex",      "relation",         "head",
    "address",     "resident_since", "address_since", "notified", "previous_address", "moving_to",
    "moving_date", "seal_no",        "my_number",
};

static const char *const request_keys[] = {"kind",  "no",        "date",   "city",
                                           "mayor", "household", "people", "my_number",
                                           "code",  "reprint",   NULL};
static const char *const reprint_keys[] = {"orig", NULL};

const char *
hwg_rd_kind_name(int kind)
{
	return kind >= 0 && kind < HWG_RD_KINDS ? kind_names[kind] : NULL;
}

int
hwg_rd_kind_from_name(const char *name)
{
	for (int i = 0; name != NULL && i < HWG_RD_KINDS; i++)
		if (strcmp(name, kind_names[i]) == 0)
			return i;
	return -1;
}

const char *
hwg_rd_field_name(int field)
{
	return field >= 0 && field < HWG_RD_FIELDS ? field_names[field] : NULL;
}

int
hwg_rd_field_from_name(const char *name)
{
	for (int i = 0; name != NULL && i < HWG_RD_FIELDS; i++)
		if (strcmp(name, field_names[i]) == 0)
			return i;
	return -1;
}

int
hwg_rd_field_is_date(int field)
{
	return field == HWG_RD_BIRTH || field == HWG_RD_RESIDENT_SINCE ||
	       field == HWG_RD_ADDRESS_SINCE || field == HWG_RD_NOTIFIED ||
	       field == HWG_RD_MOVING_DATE;
}

static int
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
hwg_rd_date_valid(const char *s)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d, max;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4) ||
	    !digits(s + 5, 2) || !digits(s + 8, 2))
		return 0;
	y = atoi(s);
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1800 || y > 2999 || m < 1 || m > 12)
		return 0;
	max = days[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	return d >= 1 && d <= max;
}

/* ---------------------------------------------------------------- checks */

/* 1 if the UTF-8 text holds no C0, DEL or C1 control (U+0080-U+009F: C2 80-9F). */
static int
no_controls(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];

		if (c < 0x20 || c == 0x7f)
			return 0;
		if (c == 0xc2 && i + 1 < n && (uint8_t)s[i + 1] >= 0x80 &&
		    (uint8_t)s[i + 1] <= 0x9f)
			return 0;
	}
	return 1;
}

static int
id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > HWG_RD_NO_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static int
code_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > HWG_RD_CODE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

static int bad(struct hwg_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A refusal of the request: HWG_E_BAD_ARGS, the message after "render request: ". */
static int
bad(struct hwg_error *err, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = hwg_error_vprefixed(err, HWG_E_BAD_ARGS, "render request", fmt, ap);
	va_end(ap);
	return rc;
}

/* A value of field f: its length, its characters, a date's form. */
static int
value_check(int f, const char *v, struct hwg_error *err)
{
	size_t n = strlen(v), max = f == HWG_RD_NAME ? HWG_RD_NAME_MAX : HWG_RD_VALUE_MAX;

	if (n == 0 || n > max)
		return bad(err, "field \"%s\" is empty or over %zu bytes", field_names[f], max);
	if (!no_controls(v, n))
		return bad(err, "field \"%s\" holds a control character", field_names[f]);
	if (hwg_rd_field_is_date(f) && !hwg_rd_date_valid(v))
		return bad(err, "field \"%s\" is not a date (YYYY-MM-DD)", field_names[f]);
	return 0;
}

static int
text_check(const char *key, const char *v, size_t max, struct hwg_error *err)
{
	size_t n = strlen(v);

	if (n == 0 || n > max || !no_controls(v, n))
		return bad(err, "\"%s\" is not 1-%zu bytes of text without controls", key, max);
	return 0;
}

/* What encode and decode both check on the struct. */
static int
request_check(const struct hwg_rd_request *r, struct hwg_error *err)
{
	int rc;

	if (hwg_rd_kind_name(r->kind) == NULL)
		return bad(err, "\"kind\" is not one of %s", "juminhyo, kisai, tenshutsu, inkan");
	if (!id_valid(r->no))
		return bad(err, "\"%s\" is not 1-64 of A-Z a-z 0-9 . _ -", "no");
	if (r->orig[0] != '\0' && !id_valid(r->orig))
		return bad(err, "\"%s\" is not 1-64 of A-Z a-z 0-9 . _ -", "reprint.orig");
	if (!hwg_rd_date_valid(r->date))
		return bad(err, "\"%s\" is not a date (YYYY-MM-DD)", "date");
	if ((rc = text_check("city", r->city, HWG_RD_TEXT_MAX, err)) != 0 ||
	    (rc = text_check("mayor", r->mayor, HWG_RD_TEXT_MAX, err)) != 0)
		return rc;
	if (!code_valid(r->code))
		return bad(err, "\"%s\" is not 1-1024 characters of printable ASCII", "code");
	if (r->n_people == 0 || r->n_people > HWG_RD_PEOPLE_MAX)
		return bad(err, "\"people\" holds %zu, not 1-%d", r->n_people, HWG_RD_PEOPLE_MAX);
	if (r->kind == HWG_RD_INKAN && r->n_people != 1)
		return bad(err, "an %s certificate is for one person", "inkan");
	if (r->my_number && (r->kind == HWG_RD_TENSHUTSU || r->kind == HWG_RD_INKAN))
		return bad(err, "a %s certificate never shows a My Number", kind_names[r->kind]);
	for (size_t i = 0; i < r->n_people; i++) {
		const struct hwg_rd_person *p = &r->people[i];

		if (p->value[HWG_RD_NAME] == NULL)
			return bad(err, "a person has no \"%s\"", "name");
		if (p->value[HWG_RD_MY_NUMBER] != NULL && !r->my_number)
			return bad(err, "a person has \"%s\" but the request's is false",
			           "my_number");
		for (int f = 0; f < HWG_RD_FIELDS; f++)
			if (p->value[f] != NULL && (rc = value_check(f, p->value[f], err)) != 0)
				return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- decode */

static int
get_text(const cbor_item_t *m, const char *key, char *out, size_t cap, struct hwg_error *err)
{
	int dup = 0;
	const cbor_item_t *v = hwg_cbor_map_get(m, key, &dup);

	if (v == NULL)
		return bad(err, "\"%s\" is missing", key);
	if (hwg_cbor_text_copy(v, out, cap) != 0)
		return bad(err, "\"%s\" is not a text of at most %zu bytes", key, cap - 1);
	return 0;
}

static int
get_bool(const cbor_item_t *m, const char *key, int *out, struct hwg_error *err)
{
	int dup = 0;
	const cbor_item_t *v = hwg_cbor_map_get(m, key, &dup);

	if (v == NULL)
		return bad(err, "\"%s\" is missing", key);
	if (!cbor_isa_float_ctrl(v) || !cbor_is_bool(v))
		return bad(err, "\"%s\" is not a bool", key);
	*out = cbor_get_bool(v);
	return 0;
}

static int
get_person(const cbor_item_t *m, struct hwg_rd_person *p, struct hwg_error *err)
{
	struct cbor_pair *pairs;
	char key[32];

	if (!cbor_isa_map(m) || !cbor_map_is_definite(m))
		return bad(err, "a person is not a %s", "definite map of field names to text");
	pairs = cbor_map_handle(m);
	for (size_t i = 0; i < cbor_map_size(m); i++) {
		int f;
		size_t n;

		if (hwg_cbor_text_copy(pairs[i].key, key, sizeof(key)) != 0 ||
		    (f = hwg_rd_field_from_name(key)) < 0)
			return bad(err, "a person has a field that is not one of the %s",
			           "plan's names");
		if (p->value[f] != NULL)
			return bad(err, "a person has \"%s\" twice", field_names[f]);
		if (!cbor_isa_string(pairs[i].value) || !cbor_string_is_definite(pairs[i].value))
			return bad(err, "a person's \"%s\" is not a text", field_names[f]);
		if ((n = cbor_string_length(pairs[i].value)) > HWG_RD_VALUE_MAX)
			return hwg_error_prefixed(err, HWG_E_BAD_ARGS, "render request",
			                          "field \"%s\" is over %d bytes", field_names[f],
			                          HWG_RD_VALUE_MAX);
		if (memchr(cbor_string_handle(pairs[i].value), '\0', n) != NULL)
			return bad(err, "field \"%s\" holds a control character", field_names[f]);
		if ((p->value[f] = malloc(n + 1)) == NULL)
			return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		memcpy(p->value[f], cbor_string_handle(pairs[i].value), n);
		p->value[f][n] = '\0';
	}
	return 0;
}

static int
get_people(const cbor_item_t *m, struct hwg_rd_request *r, struct hwg_error *err)
{
	int dup = 0, rc;
	const cbor_item_t *a = hwg_cbor_map_get(m, "people", &dup);
	size_t n;

	if (a == NULL)
		return bad(err, "\"%s\" is missing", "people");
	if (!cbor_isa_array(a) || !cbor_array_is_definite(a))
		return bad(err, "\"%s\" is not a definite array", "people");
	if ((n = cbor_array_size(a)) == 0 || n > HWG_RD_PEOPLE_MAX)
		return bad(err, "\"people\" holds %zu, not 1-%d", n, HWG_RD_PEOPLE_MAX);
	if ((r->people = calloc(n, sizeof(*r->people))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	r->n_people = n;
	for (size_t i = 0; i < n; i++)
		if ((rc = get_person(cbor_array_handle(a)[i], &r->people[i], err)) != 0)
			return rc;
	return 0;
}

static int
get_reprint(const cbor_item_t *m, struct hwg_rd_request *r, struct hwg_error *err)
{
	int dup = 0;
	const cbor_item_t *v = hwg_cbor_map_get(m, "reprint", &dup);
	char badk[32];

	if (v == NULL)
		return 0;
	if (!cbor_isa_map(v) || hwg_cbor_map_keys_check(v, reprint_keys, badk, sizeof(badk)) != 0)
		return bad(err, "\"reprint\" is not a map of %s", "orig only");
	if (get_text(v, "orig", r->orig, sizeof(r->orig), err) != 0)
		return bad(err, "\"reprint\" has no %s", "orig of at most 64 bytes");
	if (r->orig[0] == '\0')
		return bad(err, "\"%s\" is empty", "reprint.orig");
	return 0;
}

static int
decode_map(const cbor_item_t *m, struct hwg_rd_request *r, struct hwg_error *err)
{
	char kind[16], badk[32];
	int rc;

	if (!cbor_isa_map(m) || !cbor_map_is_definite(m))
		return bad(err, "%s", "not one definite CBOR map");
	if (hwg_cbor_map_keys_check(m, request_keys, badk, sizeof(badk)) != 0)
		return bad(err, "key \"%s\" is unknown or repeated", badk);
	if ((rc = get_text(m, "kind", kind, sizeof(kind), err)) != 0)
		return rc;
	if ((r->kind = hwg_rd_kind_from_name(kind)) < 0)
		return bad(err, "\"kind\" is not one of %s", "juminhyo, kisai, tenshutsu, inkan");
	if ((rc = get_text(m, "no", r->no, sizeof(r->no), err)) != 0 ||
	    (rc = get_text(m, "date", r->date, sizeof(r->date), err)) != 0 ||
	    (rc = get_text(m, "city", r->city, sizeof(r->city), err)) != 0 ||
	    (rc = get_text(m, "mayor", r->mayor, sizeof(r->mayor), err)) != 0 ||
	    (rc = get_text(m, "code", r->code, sizeof(r->code), err)) != 0 ||
	    (rc = get_bool(m, "household", &r->household, err)) != 0 ||
	    (rc = get_bool(m, "my_number", &r->my_number, err)) != 0 ||
	    (rc = get_people(m, r, err)) != 0 || (rc = get_reprint(m, r, err)) != 0)
		return rc;
	return request_check(r, err);
}

int
hwg_rd_request_decode(const uint8_t *p, size_t len, struct hwg_rd_request *out,
                      struct hwg_error *err)
{
	struct hwg_rd_request r = {0};
	const char *why = NULL;
	cbor_item_t *m;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > HWG_RD_REQUEST_MAX)
		return hwg_error_set(err, HWG_E_TOO_LARGE,
		                     "render request: %zu bytes, over the limit of %u", len,
		                     HWG_RD_REQUEST_MAX);
	if ((m = hwg_cbor_load(p, len, &why)) == NULL)
		return hwg_error_prefixed(err, HWG_E_BAD_ARGS, "render request", "not CBOR (%s)",
		                          why != NULL ? why : "malformed");
	rc = decode_map(m, &r, err);
	hwg_cbor_wipe_strings(m); /* names, addresses, a My Number */
	cbor_decref(&m);
	if (rc != 0) {
		hwg_rd_request_clear(&r);
		return rc;
	}
	*out = r;
	return 0;
}

void
hwg_rd_request_clear(struct hwg_rd_request *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; r->people != NULL && i < r->n_people; i++)
		for (int f = 0; f < HWG_RD_FIELDS; f++)
			if (r->people[i].value[f] != NULL) {
				hwg_wipe(r->people[i].value[f], strlen(r->people[i].value[f]));
				free(r->people[i].value[f]);
			}
	free(r->people);
	hwg_wipe(r, sizeof(*r));
}

int
hwg_rd_person_set(struct hwg_rd_person *p, const char *field, const char *value)
{
	int f = hwg_rd_field_from_name(field);
	char *copy;

	if (f < 0 || value == NULL)
		return HWG_E_INVALID;
	if ((copy = strdup(value)) == NULL)
		return HWG_E_NOMEM;
	if (p->value[f] != NULL) {
		hwg_wipe(p->value[f], strlen(p->value[f]));
		free(p->value[f]);
	}
	p->value[f] = copy;
	return 0;
}

/* ---------------------------------------------------------------- CBOR by hand */

/* A head in its shortest form. */
static int
put_head(struct hwg_buf *b, int major, uint64_t arg)
{
	uint8_t m = (uint8_t)(major << 5);

	if (arg < 24)
		return hwg_buf_put_u8(b, m | (uint8_t)arg);
	if (arg <= 0xff)
		return hwg_buf_put_u8(b, m | 24) | hwg_buf_put_u8(b, (uint8_t)arg);
	if (arg <= 0xffff)
		return hwg_buf_put_u8(b, m | 25) | hwg_buf_put_u16be(b, (uint16_t)arg);
	if (arg <= 0xffffffffu)
		return hwg_buf_put_u8(b, m | 26) | hwg_buf_put_u32be(b, (uint32_t)arg);
	return hwg_buf_put_u8(b, m | 27) | hwg_buf_put_u64be(b, arg);
}

static int
put_text(struct hwg_buf *b, const char *s)
{
	size_t n = strlen(s);

	return put_head(b, 3, n) | hwg_buf_put(b, s, n);
}

static int
put_bool(struct hwg_buf *b, int v)
{
	return hwg_buf_put_u8(b, v ? 0xf5 : 0xf4);
}

/* A head, refused unless in its shortest form (what put_head writes). */
static int
get_head(struct hwg_buf *b, int *major, uint64_t *arg)
{
	uint8_t h, b8;
	uint16_t b16;
	uint32_t b32;
	uint64_t v;
	int info;

	if (hwg_buf_get_u8(b, &h) != 0)
		return -1;
	*major = h >> 5;
	info = h & 0x1f;
	if (info < 24) {
		*arg = (uint64_t)info;
		return 0;
	}
	if (info == 24 && hwg_buf_get_u8(b, &b8) == 0 && b8 >= 24)
		v = b8;
	else if (info == 25 && hwg_buf_get_u16be(b, &b16) == 0 && b16 > 0xff)
		v = b16;
	else if (info == 26 && hwg_buf_get_u32be(b, &b32) == 0 && b32 > 0xffff)
		v = b32;
	else if (info == 27 && hwg_buf_get_u64be(b, &v) == 0 && v > 0xffffffffu)
		;
	else
		return -1;
	*arg = v;
	return 0;
}

/* A text of at most max bytes without controls into out (max + 1). */
static int
get_text_b(struct hwg_buf *b, char *out, size_t max)
{
	const uint8_t *p;
	uint64_t n;
	int major;

	/* a CBOR text is UTF-8: what the encoder (hwg_text_escape) never sends is refused */
	if (get_head(b, &major, &n) != 0 || major != 3 || n > max ||
	    hwg_buf_get_view(b, (size_t)n, &p) != 0 || !hwg_utf8_valid(p, (size_t)n) ||
	    !no_controls((const char *)p, (size_t)n) || memchr(p, '\0', (size_t)n) != NULL)
		return -1;
	memcpy(out, p, (size_t)n);
	out[n] = '\0';
	return 0;
}

static int
get_key(struct hwg_buf *b, const char *want)
{
	char key[16];

	return get_text_b(b, key, sizeof(key) - 1) == 0 && strcmp(key, want) == 0 ? 0 : -1;
}

int
hwg_rd_request_encode(const struct hwg_rd_request *r, uint8_t **out, size_t *len,
                      struct hwg_error *err)
{
	struct hwg_buf *b;
	int rc;

	if ((rc = request_check(r, err)) != 0)
		return rc;
	if ((b = hwg_buf_new(HWG_RD_REQUEST_MAX)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	rc = put_head(b, 5, r->orig[0] != '\0' ? 10 : 9);
	rc |= put_text(b, "kind") | put_text(b, kind_names[r->kind]);
	rc |= put_text(b, "no") | put_text(b, r->no);
	rc |= put_text(b, "date") | put_text(b, r->date);
	rc |= put_text(b, "city") | put_text(b, r->city);
	rc |= put_text(b, "mayor") | put_text(b, r->mayor);
	rc |= put_text(b, "household") | put_bool(b, r->household);
	rc |= put_text(b, "people") | put_head(b, 4, r->n_people);
	for (size_t i = 0; i < r->n_people; i++) {
		int n = 0;

		for (int f = 0; f < HWG_RD_FIELDS; f++)
			n += r->people[i].value[f] != NULL;
		rc |= put_head(b, 5, (uint64_t)n);
		for (int f = 0; f < HWG_RD_FIELDS; f++)
			if (r->people[i].value[f] != NULL)
				rc |= put_text(b, field_names[f]) |
				      put_text(b, r->people[i].value[f]);
	}
	rc |= put_text(b, "my_number") | put_bool(b, r->my_number);
	rc |= put_text(b, "code") | put_text(b, r->code);
	if (r->orig[0] != '\0')
		rc |= put_text(b, "reprint") | put_head(b, 5, 1) | put_text(b, "orig") |
		      put_text(b, r->orig);
	if (rc != 0) {
		hwg_buf_free(b);
		return hwg_error_set(err, HWG_E_TOO_LARGE, "render request over %u bytes",
		                     HWG_RD_REQUEST_MAX);
	}
	if ((*out = malloc(hwg_buf_len(b))) == NULL) {
		hwg_buf_free(b);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	memcpy(*out, hwg_buf_ptr(b), hwg_buf_len(b));
	*len = hwg_buf_len(b);
	hwg_buf_free(b); /* wiped */
	return 0;
}

/* ---------------------------------------------------------------- READY, REPLY */

static int
known_error(int code)
{
	return code < 0 && code > HWG_E_MIN_ && strcmp(hwg_err_code(code), "unknown") != 0;
}

static int
put_error(int code, const char *msg, struct hwg_buf *b)
{
	char m[HWG_RD_MSG_MAX + 1];

	if (!known_error(code))
		return HWG_E_INVALID;
	/* valid UTF-8, controls escaped, cut on a character boundary */
	hwg_text_escape(m, sizeof(m), msg != NULL ? msg : "", HWG_TEXT_CONTROLS);
	if (!no_controls(m, strlen(m))) /* a C1 control passes the escape */
		snprintf(m, sizeof(m), "%s", hwg_err_text(code));
	return put_head(b, 5, 2) | put_text(b, "code") | put_text(b, hwg_err_code(code)) |
	               put_text(b, "msg") | put_text(b, m)
	           ? HWG_E_TOO_LARGE
	           : 0;
}

/* {"code": tstr, "msg": tstr}, the map's head already read. */
static int
get_error(struct hwg_buf *b, int *code, char msg[HWG_RD_MSG_MAX + 1])
{
	char name[64];

	if (get_key(b, "code") != 0 || get_text_b(b, name, sizeof(name) - 1) != 0 ||
	    get_key(b, "msg") != 0 || get_text_b(b, msg, HWG_RD_MSG_MAX) != 0)
		return -1;
	*code = hwg_err_from_code(name);
	return strcmp(hwg_err_code(*code), name) == 0 && known_error(*code) ? 0 : -1;
}

int
hwg_rd_ready_encode(int code, const char *msg, struct hwg_buf *b)
{
	if (code == 0)
		return put_head(b, 5, 0) != 0 ? HWG_E_TOO_LARGE : 0;
	return put_error(code, msg, b);
}

int
hwg_rd_ready_decode(struct hwg_buf *b, int *code, char msg[HWG_RD_MSG_MAX + 1],
                    struct hwg_error *err)
{
	uint64_t n;
	int major, c = 0;

	msg[0] = '\0';
	if (get_head(b, &major, &n) != 0 || major != 5 || (n != 0 && n != 2) ||
	    (n == 2 && get_error(b, &c, msg) != 0) || hwg_buf_len(b) != 0) {
		msg[0] = '\0';
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "malformed READY from the renderer");
	}
	*code = c;
	return 0;
}

int
hwg_rd_reply_encode_pdf(const uint8_t *pdf, size_t len, unsigned pages, struct hwg_buf *b)
{
	if (len == 0 || len > HWG_RD_PDF_MAX || pages == 0)
		return HWG_E_INVALID;
	return put_head(b, 5, 2) | put_text(b, "pdf") | put_head(b, 2, len) |
	               hwg_buf_put(b, pdf, len) | put_text(b, "pages") | put_head(b, 0, pages)
	           ? HWG_E_TOO_LARGE
	           : 0;
}

int
hwg_rd_reply_encode_error(int code, const char *msg, struct hwg_buf *b)
{
	return put_error(code, msg, b);
}

int
hwg_rd_reply_decode(struct hwg_buf *b, int *code, char msg[HWG_RD_MSG_MAX + 1], const uint8_t **pdf,
                    size_t *len, unsigned *pages, struct hwg_error *err)
{
	const uint8_t *p = NULL;
	uint64_t n, np = 0, pg = 0;
	int major, c = 0, ok;

	msg[0] = '\0';
	ok = get_head(b, &major, &n) == 0 && major == 5 && n == 2;
	if (ok && hwg_buf_len(b) > 1 && hwg_buf_ptr(b)[1] == 'c') /* "code" (a 4-byte key) */
		ok = get_error(b, &c, msg) == 0;
	else
		ok = ok && get_key(b, "pdf") == 0 && get_head(b, &major, &np) == 0 && major == 2 &&
		     np > 0 && np <= HWG_RD_PDF_MAX && hwg_buf_get_view(b, (size_t)np, &p) == 0 &&
		     get_key(b, "pages") == 0 && get_head(b, &major, &pg) == 0 && major == 0 &&
		     pg > 0 && pg <= HWG_RD_PEOPLE_MAX;
	if (!ok || hwg_buf_len(b) != 0) {
		msg[0] = '\0';
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "malformed reply from the renderer");
	}
	*code = c;
	*pdf = p;
	*len = (size_t)np;
	*pages = (unsigned)pg;
	return 0;
}
