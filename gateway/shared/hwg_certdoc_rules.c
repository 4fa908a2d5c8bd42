/*
 * hwg_certdoc_rules.c — what each kind of certificate shows and the
 * format of each field (see hwg_certdoc_rules.h and hwg_certdoc.h).
 */
#include "hwg_certdoc_rules.h"

#include <string.h>

#include "hwg_idnum.h"
#include "hwg_text.h"
#include "hwg_time.h"

enum format { F_TEXT, F_NAME, F_KANA, F_DATE, F_SEX, F_DIGITS, F_MYNUMBER };

/* The fields a page may show; the index is the bit of the kinds' masks. */
static const struct {
	const char *name;
	enum format format;
} fields[] = {
    {"name", F_NAME},             /*  0 氏名 */
    {"kana", F_KANA},             /*  1 フリガナ */
    {"birth", F_DATE},            /*  2 生年月日 */
    {"sex", F_SEX},               /*  3 性別 */
    {"relation", F_TEXT},         /*  4 続柄 */
    {"address", F_TEXT},          /*  5 住所 */
    {"head", F_TEXT},             /*  6 世帯主 */
    {"resident_since", F_DATE},   /*  7 住民となった年月日 */
    {"address_since", F_DATE},    /*  8 住所を定めた年月日 */
    {"notified", F_DATE},         /*  9 届出日 */
    {"previous_address", F_TEXT}, /* 10 前住所 */
    {"moving_to", F_TEXT},        /* 11 転出先 */
    {"moving_date", F_DATE},      /* 12 転出予定年月日 */
    {"seal_no", F_DIGITS},        /* 13 印鑑登録番号 */
    {"my_number", F_MYNUMBER},    /* 14 個人番号 */
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))
#define B(i) (1u << (i))
#define MY_NUMBER_BIT B(14)
/* Allowed on every kind besides its required fields; my_number's rules are steps 6 and 7. */
#define OPTIONAL (B(9) | B(10) | MY_NUMBER_BIT)

static const unsigned required[HWG_CERTDOC_KIND_COUNT_] = {
    [HWG_CERTDOC_JUMINHYO] = B(0) | B(1) | B(2) | B(3) | B(4) | B(5) | B(6) | B(7) | B(8),
    [HWG_CERTDOC_KISAI] = B(0) | B(5),
    [HWG_CERTDOC_TENSHUTSU] = B(0) | B(1) | B(2) | B(3) | B(4) | B(5) | B(6) | B(11) | B(12),
    [HWG_CERTDOC_INKAN] = B(0) | B(2) | B(5) | B(13),
};

#define SEAL_NO_MAX 20 /* digits of a seal registration number */

/*
 * Control characters, which no value may hold: C0, DEL, C1, the line and
 * paragraph separators, and the bidirectional controls that make text
 * read otherwise than it is stored.
 */
static int
is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
	       cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

int
hwg_certdoc_plain(const char *s, size_t max)
{
	size_t n = s != NULL ? strnlen(s, max + 1) : 0, i = 0, k;
	uint32_t cp;

	if (n == 0 || n > max)
		return 0;
	while (i < n) {
		if ((k = hwg_utf8_next((const uint8_t *)s + i, n - i, &cp)) == 0 || is_control(cp))
			return 0;
		i += k;
	}
	return 1;
}

/* Katakana (with the prolonged sound mark, iteration marks, middle dot, small kana) and spaces. */
static int
kana(const char *s)
{
	size_t n = strlen(s), i = 0, k, letters = 0;
	uint32_t cp;

	while (i < n) {
		if ((k = hwg_utf8_next((const uint8_t *)s + i, n - i, &cp)) == 0)
			return 0;
		if ((cp >= 0x30a1 && cp <= 0x30fe) || (cp >= 0x31f0 && cp <= 0x31ff))
			letters++;
		else if (cp != 0x3000 && cp != 0x20)
			return 0;
		i += k;
	}
	return letters > 0;
}

static int
digits(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && strspn(s, "0123456789") == n;
}

/* Why value breaks field f's format, or NULL. */
static const char *
format_fault(size_t f, const char *value)
{
	if (value[0] == '\0')
		return "is empty";
	if (strlen(value) > HWG_CERTDOC_VALUE_MAX)
		return "is over 200 bytes";
	if (!hwg_certdoc_plain(value, HWG_CERTDOC_VALUE_MAX))
		return "holds a control character";
	switch (fields[f].format) {
	case F_NAME:
		return strlen(value) <= HWG_CERTDOC_NAME_MAX ? NULL : "is over 64 bytes";
	case F_KANA:
		return kana(value) ? NULL : "is not katakana (spaces allowed)";
	case F_DATE:
		return hwg_date_valid(value) ? NULL : "is not a date YYYY-MM-DD";
	case F_SEX:
		return strcmp(value, "男") == 0 || strcmp(value, "女") == 0 ? NULL
		                                                            : "is not 男 or 女";
	case F_DIGITS:
		return digits(value, SEAL_NO_MAX) ? NULL : "is not 1 to 20 digits";
	case F_MYNUMBER:
		return hwg_mynumber_valid(value) ? NULL
		                                 : "is not 12 digits with a valid check digit";
	default:
		return NULL;
	}
}

static int
field_index(const char *name)
{
	for (size_t i = 0; i < N_FIELDS; i++)
		if (strcmp(fields[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The fields person p shows as a mask; HWG_E_DOCUMENT_INVALID for one its kind does not allow. */
static int
person_mask(const struct hwg_certdoc *doc, size_t i, unsigned *mask, struct hwg_error *err)
{
	const struct hwg_certdoc_person *p = &doc->people[i];
	unsigned allowed = required[doc->kind] | OPTIONAL;
	char shown[4 * HWG_CERTDOC_FIELD_NAME_MAX + 1];

	*mask = 0;
	for (size_t j = 0; j < p->n_fields; j++) {
		int f = field_index(p->fields[j].name);

		if (f < 0 || (allowed & B(f)) == 0)
			return hwg_error_set(err, HWG_E_DOCUMENT_INVALID,
			                     "person %zu: field \"%s\" is %s on a %s", i + 1,
			                     hwg_text_escape(shown, sizeof(shown),
			                                     p->fields[j].name, HWG_TEXT_CONTROLS),
			                     f < 0 ? "unknown" : "not shown",
			                     hwg_certdoc_kind_name(doc->kind));
		*mask |= B(f);
	}
	return 0;
}

static int
person_fields(const struct hwg_certdoc *doc, size_t i, struct hwg_error *err)
{
	const struct hwg_certdoc_person *p = &doc->people[i];
	unsigned mask, missing;
	const char *why;
	int rc;

	if ((rc = person_mask(doc, i, &mask, err)) != 0)
		return rc;
	if ((missing = required[doc->kind] & ~mask) != 0)
		for (size_t f = 0; f < N_FIELDS; f++)
			if (missing & B(f))
				return hwg_error_set(
				    err, HWG_E_DOCUMENT_INVALID,
				    "person %zu has no \"%s\", which a %s requires", i + 1,
				    fields[f].name, hwg_certdoc_kind_name(doc->kind));
	for (size_t j = 0; j < p->n_fields; j++) {
		int f = field_index(p->fields[j].name);

		if ((why = format_fault((size_t)f, p->fields[j].value)) != NULL)
			return hwg_error_set(err, HWG_E_DOCUMENT_INVALID, "person %zu: \"%s\" %s",
			                     i + 1, fields[f].name, why);
	}
	return 0;
}

int
hwg_certdoc_rules_fields(const struct hwg_certdoc *doc, struct hwg_error *err)
{
	int rc;

	if (doc->kind < 0 || doc->kind >= HWG_CERTDOC_KIND_COUNT_)
		return hwg_error_set(err, HWG_E_DOCUMENT_INVALID, "unknown kind");
	for (size_t i = 0; i < doc->n_people; i++)
		if ((rc = person_fields(doc, i, err)) != 0)
			return rc;
	return 0;
}

static int
has_field(const struct hwg_certdoc_person *p, const char *name)
{
	for (size_t j = 0; j < p->n_fields; j++)
		if (strcmp(p->fields[j].name, name) == 0)
			return 1;
	return 0;
}

int
hwg_certdoc_rules_my_number(const struct hwg_certdoc *doc, struct hwg_error *err)
{
	for (size_t i = 0; i < doc->n_people; i++) {
		int has = has_field(&doc->people[i], "my_number");

		if (has && !doc->my_number)
			return hwg_error_set(err, HWG_E_DOCUMENT_INVALID,
			                     "person %zu shows a My Number, and the document says "
			                     "\"my_number\": false",
			                     i + 1);
		if (!has && doc->my_number)
			return hwg_error_set(
			    err, HWG_E_DOCUMENT_INVALID,
			    "person %zu has no \"my_number\", and the document says "
			    "\"my_number\": true",
			    i + 1);
	}
	if (!doc->my_number)
		return 0;
	if (doc->kind == HWG_CERTDOC_TENSHUTSU || doc->kind == HWG_CERTDOC_INKAN)
		return hwg_error_set(err, HWG_E_MY_NUMBER_NOT_ALLOWED,
		                     "a %s never shows the My Number",
		                     hwg_certdoc_kind_name(doc->kind));
	if (doc->relation == HWG_CERTDOC_PROXY)
		return hwg_error_set(err, HWG_E_MY_NUMBER_NOT_ALLOWED,
		                     "the My Number is not shown on a copy a proxy asked for");
	return 0;
}

int
hwg_certdoc_rules_letter(const struct hwg_certdoc *doc, struct hwg_error *err)
{
	if (doc->relation == HWG_CERTDOC_PROXY && doc->letter[0] == '\0')
		return hwg_error_set(err, HWG_E_DOCUMENT_INVALID,
		                     "a proxy's request names its letter of attorney (\"letter\")");
	return 0;
}
