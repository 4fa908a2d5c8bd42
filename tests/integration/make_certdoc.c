/*
 * make_certdoc.c — the documents cert.issue carries, made for the gateway's
 * certificate tests (test_cert*.sh) as the registry makes them
 * (gateway/shared/hwg_certdoc.h: hwg_certdoc_build, the digests,
 * hwg_certdoc_sign), and the check of a spooled certificate's text
 * against the document it came from.
 *
 *   make_certdoc doc CASE --key PEM --kid ID --gateway GW [--subject CODE]
 *       the signed document as hex (for hwgwctl's "hex:" byte strings)
 *   make_certdoc values CASE [--subject CODE]
 *       each value the page will show, as it shows it (dates as 2026年5月1日),
 *       one a line
 *   make_certdoc page-text CASE TEXT --no NO --date YYYY-MM-DD --city CITY
 *                --mayor MAYOR --pages N [--orig NO] [--subject CODE]
 *       TEXT (pdftotext's output) holds every value, the number, the date,
 *       "<city>長", the mayor and each "p/N", and nothing else but the
 *       renderer's template strings (hwg_render_templates); white space and
 *       U+3000 are dropped before comparing (the page letter-spaces its
 *       titles).  What is left over or missing goes to stdout; exit 1.
 *
 * CASE: good (住民票の写し of one person, the requester themself), household
 * (a household copy of five: two pages at three people a page), badsig
 * (good, signed by a key of its own under the registry's kid), mismatch (a
 * person's address from another record version: the value changed, its
 * version digest left, the fields' digest signed anew), missing (birth
 * left out: document_invalid), mynumber-proxy (the My Number asked for by a
 * proxy with a letter: my_number_not_allowed), wronggw (built for another
 * gateway: document_invalid).  The people's resident codes start at
 * --subject (default 10000000001) and count up.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwg_certdoc.h"
#include "hwg_cose.h"
#include "hwg_rd_proto.h"
#include "hwg_render.h"

#define PEOPLE 5
#define FIELDS 16

struct fixture {
	struct hwg_certdoc doc;
	struct hwg_certdoc_person people[PEOPLE];
	struct hwg_certdoc_field f[PEOPLE][FIELDS];
	char codes[PEOPLE][HWG_CERTDOC_CODE_LEN + 1];
	char my_number[13];
};

static void
set(struct fixture *x, size_t i, const char *name, const char *value)
{
	struct hwg_certdoc_person *p = &x->people[i];

	for (size_t j = 0; j < p->n_fields; j++)
		if (strcmp(x->f[i][j].name, name) == 0) {
			x->f[i][j].value = value;
			return;
		}
	x->f[i][p->n_fields].name = name;
	x->f[i][p->n_fields].value = value;
	p->n_fields++;
}

static void
drop(struct fixture *x, size_t i, const char *name)
{
	struct hwg_certdoc_person *p = &x->people[i];

	for (size_t j = 0; j < p->n_fields; j++)
		if (strcmp(x->f[i][j].name, name) == 0) {
			memmove(&x->f[i][j], &x->f[i][j + 1],
			        (p->n_fields - j - 1) * sizeof(x->f[i][0]));
			p->n_fields--;
			return;
		}
}

/* Each person's version digest, then the fields' digest: what the registry signs. */
static int
seal_people(struct fixture *x)
{
	for (size_t i = 0; i < x->doc.n_people; i++)
		if (hwg_certdoc_version_digest(x->people[i].resident_code,
		                               x->people[i].record_version, x->people[i].fields,
		                               x->people[i].n_fields,
		                               x->people[i].version_digest) != 0)
			return -1;
	return hwg_certdoc_fields_digest(x->people, x->doc.n_people, x->doc.fields_digest);
}

/* A My Number: 11 digits and the check digit the gateway recomputes. */
static void
my_number(char out[13], const char *first11)
{
	int sum = 0, r;

	for (int n = 1; n <= 11; n++) {
		int p = first11[11 - n] - '0', q = n <= 6 ? n + 1 : n - 5;

		sum += p * q;
	}
	r = sum % 11;
	snprintf(out, 13, "%.11s%d", first11, r <= 1 ? 0 : 11 - r);
}

static const struct {
	const char *name, *kana, *birth, *sex, *relation;
} household[PEOPLE] = {
    {"山田　太郎", "ヤマダ　タロウ", "1975-04-01", "男", "世帯主"},
    {"山田　花子", "ヤマダ　ハナコ", "1977-02-28", "女", "妻"},
    {"山田　一郎", "ヤマダ　イチロウ", "2003-07-15", "男", "子"},
    {"山田　桜", "ヤマダ　サクラ", "2006-11-03", "女", "子"},
    {"山田　梅", "ヤマダ　ウメ", "1948-01-20", "女", "母"},
};
#define ADDRESS "架空県架空市桜町二丁目3番4号"

/* A resident code: v (below 10^11) as 11 digits. */
static void
code_of(char out[HWG_CERTDOC_CODE_LEN + 1], unsigned long long v)
{
	char b[24];

	snprintf(b, sizeof(b), "%011llu", v);
	memcpy(out, b, HWG_CERTDOC_CODE_LEN);
	out[HWG_CERTDOC_CODE_LEN] = '\0';
}

static void
person(struct fixture *x, size_t i, unsigned long long subject)
{
	code_of(x->codes[i], subject + i);
	snprintf(x->people[i].resident_code, sizeof(x->people[i].resident_code), "%s", x->codes[i]);
	x->people[i].record_version = 3 + i;
	x->people[i].fields = x->f[i];
	x->people[i].n_fields = 0;
	set(x, i, "name", household[i].name);
	set(x, i, "kana", household[i].kana);
	set(x, i, "birth", household[i].birth);
	set(x, i, "sex", household[i].sex);
	set(x, i, "relation", household[i].relation);
	set(x, i, "address", ADDRESS);
	set(x, i, "head", household[0].name);
	set(x, i, "resident_since",
	    household[i].birth[0] == '1' ? "1998-04-01" : household[i].birth);
	set(x, i, "address_since", "2015-09-01");
	if (i == 0) {
		set(x, i, "notified", "2015-09-07");
		set(x, i, "previous_address", "架空県架空市梅町一丁目5番6号");
	}
}

/* The case's document, its digests as the registry computed them (but for the faults). */
static int
fixture(struct fixture *x, const char *c, const char *gateway, unsigned long long subject)
{
	int n = strcmp(c, "household") == 0 ? PEOPLE : 1;

	memset(x, 0, sizeof(*x));
	x->doc.kind = HWG_CERTDOC_JUMINHYO;
	snprintf(x->doc.gateway, sizeof(x->doc.gateway), "%s",
	         strcmp(c, "wronggw") == 0 ? "another-gw" : gateway);
	code_of(x->doc.subject, subject);
	x->doc.household = n > 1;
	x->doc.people = x->people;
	x->doc.n_people = (size_t)n;
	snprintf(x->doc.requester_name, sizeof(x->doc.requester_name), "%s", household[0].name);
	x->doc.relation = HWG_CERTDOC_SELF;
	x->doc.built = (uint64_t)time(NULL);
	for (int i = 0; i < n; i++)
		person(x, (size_t)i, subject);
	if (strcmp(c, "missing") == 0)
		drop(x, 0, "birth");
	if (strcmp(c, "mynumber-proxy") == 0) {
		my_number(x->my_number, "12345678901");
		set(x, 0, "my_number", x->my_number);
		x->doc.my_number = 1;
		x->doc.relation = HWG_CERTDOC_PROXY;
		snprintf(x->doc.requester_name, sizeof(x->doc.requester_name), "代理　次郎");
		snprintf(x->doc.letter, sizeof(x->doc.letter), "委任状 第2026-0042号");
	}
	if (seal_people(x) != 0)
		return -1;
	if (strcmp(c, "mismatch") == 0) {
		/* another record's address, under this record version's digest */
		set(x, 0, "address", "架空県架空市松町九丁目9番9号");
		return hwg_certdoc_fields_digest(x->people, x->doc.n_people, x->doc.fields_digest);
	}
	return 0;
}

static const char *const cases[] = {"good",    "household",      "badsig",  "mismatch",
                                    "missing", "mynumber-proxy", "wronggw", NULL};

static int
known_case(const char *c)
{
	for (size_t i = 0; cases[i] != NULL; i++)
		if (strcmp(cases[i], c) == 0)
			return 1;
	return 0;
}

/* ---------------------------------------------------------------- doc */

static EVP_PKEY *
read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (f == NULL) {
		perror(path);
		return NULL;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		fprintf(stderr, "make_certdoc: %s: no private key in PEM\n", path);
	return k;
}

/* badsig: a key of our own, of the registry key's kind */
static EVP_PKEY *
stranger_key(EVP_PKEY *like)
{
	return EVP_PKEY_get_base_id(like) == EVP_PKEY_ED25519
	           ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
	           : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static int
cmd_doc(const struct fixture *x, const char *c, const char *key_path, const char *kid)
{
	struct hwg_error err = {0};
	uint8_t *payload = NULL, *doc = NULL;
	size_t plen = 0, dlen = 0;
	EVP_PKEY *key = read_key(key_path), *signer = key;
	int rc = 1;

	if (key == NULL)
		return 1;
	if (strcmp(c, "badsig") == 0 && (signer = stranger_key(key)) == NULL)
		fprintf(stderr, "make_certdoc: keygen failed\n");
	else if (hwg_certdoc_build(&x->doc, &payload, &plen, &err) != 0 ||
	         hwg_certdoc_sign(payload, plen, kid, hwg_cose_alg_for_key(signer),
	                          hwg_cose_evp_signer, signer, &doc, &dlen, &err) != 0)
		fprintf(stderr, "make_certdoc: %s\n", err.message);
	else {
		for (size_t i = 0; i < dlen; i++)
			printf("%02x", doc[i]);
		printf("\n");
		rc = 0;
	}
	free(payload);
	free(doc);
	if (signer != key)
		EVP_PKEY_free(signer);
	EVP_PKEY_free(key);
	return rc;
}

/* ---------------------------------------------------------------- values, page-text */

/* A value as the page shows it: dates in Japanese form. */
static int
shown(const struct hwg_certdoc_field *f, char *out, size_t cap)
{
	int field = hwg_rd_field_from_name(f->name);

	if (field >= 0 && hwg_rd_field_is_date(field))
		return hwg_render_date(f->value, out, cap);
	snprintf(out, cap, "%s", f->value);
	return 0;
}

static int
cmd_values(const struct fixture *x)
{
	char v[256];

	for (size_t i = 0; i < x->doc.n_people; i++)
		for (size_t j = 0; j < x->people[i].n_fields; j++) {
			if (shown(&x->people[i].fields[j], v, sizeof(v)) != 0)
				return 1;
			printf("%s\n", v);
		}
	return 0;
}

/* Drop ASCII white space and U+3000 in place: pdftotext's spacing is not the page's. */
static void
squeeze(char *s)
{
	char *w = s;

	for (char *p = s; *p != '\0';) {
		if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v')
			p++;
		else if ((unsigned char)p[0] == 0xe3 && (unsigned char)p[1] == 0x80 &&
		         (unsigned char)p[2] == 0x80)
			p += 3;
		else
			*w++ = *p++;
	}
	*w = '\0';
}

static void
cut_all(char *text, const char *s)
{
	size_t n = strlen(s);
	char *at;

	while (n > 0 && (at = strstr(text, s)) != NULL)
		memmove(at, at + n, strlen(at + n) + 1);
}

#define LIST_MAX 512

struct list {
	char *s[LIST_MAX];
	size_t n;
};

static void
add(struct list *l, const char *s)
{
	if (l->n < LIST_MAX && (l->s[l->n] = strdup(s)) != NULL) {
		squeeze(l->s[l->n]);
		l->n++;
	}
}

/* Every string cut out of text, longest first (a label inside a longer one stays whole). */
static void
subtract(char *text, struct list *l)
{
	for (;;) {
		size_t best = 0, best_len = 0;

		for (size_t i = 0; i < l->n; i++)
			if (l->s[i] != NULL && strlen(l->s[i]) > best_len)
				best = i, best_len = strlen(l->s[i]);
		if (best_len == 0)
			return;
		cut_all(text, l->s[best]);
		free(l->s[best]);
		l->s[best] = NULL;
	}
}

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		perror(path);
		return NULL;
	}
	do {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = (cap + 4096) * 2);

			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

struct page_args {
	const char *no, *date, *city, *mayor, *orig;
	unsigned pages;
};

/* The page's own strings besides the templates: each must be there. */
static int
expected(const struct fixture *x, const struct page_args *a, struct list *need)
{
	char v[256];

	for (size_t i = 0; i < x->doc.n_people; i++)
		for (size_t j = 0; j < x->people[i].n_fields; j++) {
			if (shown(&x->people[i].fields[j], v, sizeof(v)) != 0)
				return -1;
			add(need, v);
		}
	add(need, a->no);
	if (hwg_render_date(a->date, v, sizeof(v)) != 0)
		return -1;
	add(need, v);
	snprintf(v, sizeof(v), "%s長", a->city);
	add(need, v);
	add(need, a->mayor);
	if (a->orig != NULL)
		add(need, a->orig);
	for (unsigned p = 1; p <= a->pages; p++) {
		snprintf(v, sizeof(v), "%u/%u", p, a->pages);
		add(need, v);
	}
	return 0;
}

static int
cmd_page_text(const struct fixture *x, const char *path, const struct page_args *a)
{
	struct list l = {0};
	char *text = read_all(path);
	int bad = 0;

	if (text == NULL || expected(x, a, &l) != 0)
		return 1;
	squeeze(text);
	for (size_t i = 0; i < l.n; i++)
		if (strstr(text, l.s[i]) == NULL) {
			printf("missing: %s\n", l.s[i]);
			bad = 1;
		}
	for (const char *const *t = hwg_render_templates(); *t != NULL; t++)
		add(&l, *t);
	subtract(text, &l);
	if (text[0] != '\0') {
		printf("left over: %s\n", text);
		bad = 1;
	}
	free(text);
	return bad;
}

/* ---------------------------------------------------------------- main */

static int
usage(void)
{
	fprintf(stderr, "usage: make_certdoc doc CASE --key PEM --kid ID --gateway GW [--subject "
	                "CODE]\n"
	                "       make_certdoc values CASE [--subject CODE]\n"
	                "       make_certdoc page-text CASE TEXT --no NO --date YYYY-MM-DD --city "
	                "CITY --mayor MAYOR --pages N [--orig NO] [--subject CODE]\n"
	                "CASE: good household badsig mismatch missing mynumber-proxy wronggw\n");
	return 2;
}

int
main(int argc, char **argv)
{
	const char *key = NULL, *kid = NULL, *gateway = "test-gw-01", *text = NULL;
	struct page_args a = {0};
	unsigned long long subject = 10000000001ULL;
	static struct fixture x;
	int first = 3;

	if (argc < 3 || !known_case(argv[2]))
		return usage();
	if (strcmp(argv[1], "page-text") == 0) {
		if (argc < 4)
			return usage();
		text = argv[3];
		first = 4;
	}
	for (int i = first; i < argc; i += 2) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			return usage();
		if (!strcmp(o, "--key"))
			key = v;
		else if (!strcmp(o, "--kid"))
			kid = v;
		else if (!strcmp(o, "--gateway"))
			gateway = v;
		else if (!strcmp(o, "--subject"))
			subject = strtoull(v, NULL, 10);
		else if (!strcmp(o, "--no"))
			a.no = v;
		else if (!strcmp(o, "--date"))
			a.date = v;
		else if (!strcmp(o, "--city"))
			a.city = v;
		else if (!strcmp(o, "--mayor"))
			a.mayor = v;
		else if (!strcmp(o, "--orig"))
			a.orig = v;
		else if (!strcmp(o, "--pages"))
			a.pages = (unsigned)strtoul(v, NULL, 10);
		else
			return usage();
	}
	if (subject < 1 || subject + PEOPLE > 99999999999ULL ||
	    fixture(&x, argv[2], gateway, subject) != 0) {
		fprintf(stderr, "make_certdoc: cannot make case %s\n", argv[2]);
		return 1;
	}
	if (!strcmp(argv[1], "doc"))
		return key != NULL && kid != NULL ? cmd_doc(&x, argv[2], key, kid) : usage();
	if (!strcmp(argv[1], "values"))
		return cmd_values(&x);
	if (!strcmp(argv[1], "page-text"))
		return a.no && a.date && a.city && a.mayor && a.pages > 0
		           ? cmd_page_text(&x, text, &a)
		           : usage();
	return usage();
}
