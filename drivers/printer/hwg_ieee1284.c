/*
 * hwg_ieee1284.c — see hwg_ieee1284.h and firmware-notes/certificate-printer.md.
 */
#include "hwg_ieee1284.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hwg_buf.h"

enum { F_OTHER = -1, F_MFG, F_MDL, F_CMD, F_CLS, F_DES, F_SN };

/* Each key the gateway reads, short and long form alike. */
static const struct {
	const char *key;
	int field;
} known_keys[] = {
    {"MFG", F_MFG}, {"MANUFACTURER", F_MFG}, {"MDL", F_MDL}, {"MODEL", F_MDL},
    {"CMD", F_CMD}, {"COMMAND SET", F_CMD},  {"CLS", F_CLS}, {"CLASS", F_CLS},
    {"DES", F_DES}, {"DESCRIPTION", F_DES},  {"SN", F_SN},   {"SERIALNUMBER", F_SN},
};

/* The keys met so far, to refuse a second one. */
struct seen {
	unsigned fields; /* 1 << F_* */
	size_t pairs;
	const uint8_t *other[HWG_IEEE1284_PAIRS_MAX];
	size_t other_len[HWG_IEEE1284_PAIRS_MAX];
	size_t n_other;
};

/* A refusal of the printer's bytes. */
#define bad(err, ...) hwg_error_prefixed(err, HWG_E_PRINTER_ERROR, "printer device ID", __VA_ARGS__)

static int
field_of(const uint8_t *key, size_t n)
{
	for (size_t i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
		if (strlen(known_keys[i].key) == n &&
		    strncasecmp(known_keys[i].key, (const char *)key, n) == 0)
			return known_keys[i].field;
	return F_OTHER;
}

static char *
field_ptr(struct hwg_ieee1284_id *id, int field)
{
	switch (field) {
	case F_MFG:
		return id->mfg;
	case F_MDL:
		return id->mdl;
	case F_CMD:
		return id->cmd;
	case F_CLS:
		return id->cls;
	case F_DES:
		return id->des;
	default:
		return id->sn;
	}
}

static int
key_ok(const uint8_t *k, size_t n)
{
	if (n == 0 || n > HWG_IEEE1284_KEY_MAX || k[0] == ' ' || k[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= 'a' && k[i] <= 'z') ||
		      (k[i] >= '0' && k[i] <= '9') || k[i] == ' ' || k[i] == '-' || k[i] == '_'))
			return 0;
	return 1;
}

/* Index of the first byte that is not printable ASCII or is ':', else n. */
static size_t
value_bad_at(const uint8_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7E || v[i] == ':')
			return i;
	return n;
}

/* A key not read by the gateway: refused only when it comes twice. */
static int
take_other(struct seen *s, const uint8_t *key, size_t kn, size_t at, struct hwg_error *err)
{
	for (size_t i = 0; i < s->n_other; i++)
		if (s->other_len[i] == kn &&
		    strncasecmp((const char *)s->other[i], (const char *)key, kn) == 0)
			return bad(err, "key at byte %zu comes twice", at);
	s->other[s->n_other] = key;
	s->other_len[s->n_other++] = kn;
	return 0;
}

static int
take(struct hwg_ieee1284_id *id, struct seen *s, const uint8_t *key, size_t kn, const uint8_t *val,
     size_t vn, size_t at, struct hwg_error *err)
{
	int f = field_of(key, kn);
	char *dst;

	if (f == F_OTHER)
		return take_other(s, key, kn, at, err);
	if (s->fields & (1u << f))
		return bad(err, "key %.*s at byte %zu comes twice", (int)kn, (const char *)key, at);
	s->fields |= 1u << f;
	dst = field_ptr(id, f);
	memcpy(dst, val, vn);
	dst[vn] = '\0';
	return 0;
}

/* One KEY:value; pair, the ';' included. */
static int
parse_pair(struct hwg_buf *b, size_t at, struct hwg_ieee1284_id *id, struct seen *s,
           struct hwg_error *err)
{
	const uint8_t *semi, *colon, *pair;
	size_t n, kn, vn, badv;

	if (++s->pairs > HWG_IEEE1284_PAIRS_MAX)
		return bad(err, "more than %d pairs", HWG_IEEE1284_PAIRS_MAX);
	if ((semi = memchr(hwg_buf_ptr(b), ';', hwg_buf_len(b))) == NULL)
		return bad(err, "pair at byte %zu not ended by ';'", at);
	n = (size_t)(semi - hwg_buf_ptr(b));
	hwg_buf_get_view(b, n + 1, &pair);
	if ((colon = memchr(pair, ':', n)) == NULL)
		return bad(err, "pair at byte %zu has no ':'", at);
	kn = (size_t)(colon - pair);
	vn = n - kn - 1;
	if (!key_ok(pair, kn))
		return bad(
		    err,
		    "key at byte %zu is empty, over %d bytes, blank-edged or not [A-Za-z0-9 _-]",
		    at, HWG_IEEE1284_KEY_MAX);
	if (vn > HWG_IEEE1284_VALUE_MAX)
		return bad(err, "value at byte %zu is %zu bytes (max %d)", at + kn + 1, vn,
		           HWG_IEEE1284_VALUE_MAX);
	if ((badv = value_bad_at(colon + 1, vn)) < vn)
		return bad(err, "byte %02X at %zu in a value", colon[1 + badv], at + kn + 1 + badv);
	return take(id, s, pair, kn, colon + 1, vn, at, err);
}

static int
parse_pairs(struct hwg_buf *b, size_t len, struct hwg_ieee1284_id *id, struct hwg_error *err)
{
	struct seen s;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	while (rc == 0 && hwg_buf_len(b) > 0)
		rc = parse_pair(b, len - hwg_buf_len(b), id, &s, err);
	if (rc == 0 && id->mfg[0] == '\0')
		rc = bad(err, "no MFG (manufacturer)");
	if (rc == 0 && id->mdl[0] == '\0')
		rc = bad(err, "no MDL (model)");
	return rc;
}

int
hwg_ieee1284_parse(const uint8_t *p, size_t len, struct hwg_ieee1284_id *id, struct hwg_error *err)
{
	struct hwg_ieee1284_id out;
	struct hwg_buf *b;
	uint16_t claimed = 0;
	int rc;

	if (len < 2)
		return bad(err, "%zu bytes, shorter than its length field", len);
	if (len > HWG_IEEE1284_ID_MAX)
		return bad(err, "%zu bytes (max %d)", len, HWG_IEEE1284_ID_MAX);
	if ((b = hwg_buf_from(p, len)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "printer device ID: out of memory");
	memset(&out, 0, sizeof(out));
	hwg_buf_get_u16be(b, &claimed);
	if (claimed != len)
		rc = bad(err, "length field %u, but %zu bytes arrived", claimed, len);
	else
		rc = parse_pairs(b, len, &out, err);
	hwg_buf_free(b);
	if (rc == 0)
		*id = out;
	return rc;
}

int
hwg_ieee1284_has_command(const struct hwg_ieee1284_id *id, const char *lang)
{
	size_t want = strlen(lang);
	const char *s = id->cmd;

	while (want > 0 && *s != '\0') {
		size_t n = strcspn(s, ","), i = 0;

		while (i < n && s[i] == ' ')
			i++;
		while (n > i && s[n - 1] == ' ')
			n--;
		if (n - i == want && strncasecmp(s + i, lang, want) == 0)
			return 1;
		s += strcspn(s, ",");
		if (*s == ',')
			s++;
	}
	return 0;
}

int
hwg_ieee1284_pjl_pdf(const struct hwg_ieee1284_id *id)
{
	return hwg_ieee1284_has_command(id, "PJL") && hwg_ieee1284_has_command(id, "PDF");
}

int
hwg_prn_port_parse(const uint8_t *p, size_t len, struct hwg_prn_port *ps, struct hwg_error *err)
{
	if (len != 1)
		return hwg_error_set(err, HWG_E_PRINTER_ERROR,
		                     "printer port status: %zu bytes, not 1", len);
	ps->paper_empty = (p[0] & HWG_PRN_PORT_PAPER_EMPTY) != 0;
	ps->selected = (p[0] & HWG_PRN_PORT_SELECTED) != 0;
	ps->error = (p[0] & HWG_PRN_PORT_NOT_ERROR) == 0;
	return 0;
}

int
hwg_prn_port_ready(const struct hwg_prn_port *ps)
{
	return ps->selected && !ps->error && !ps->paper_empty;
}
