/*
 * sim_profile.c — reads a card profile (INI, hw-sim/README.md) into a
 * sim_card_spec.  Profiles are written by hand for tests, so every
 * refusal names the file, the line, the section and the key, and a value
 * the real card could not hold (a PIN of the wrong form, a My Number with
 * a wrong check digit, a PEM file where DER belongs) is refused at load
 * rather than discovered through the gateway.
 */
#include "sim_profile.h"

#include <ini.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_file.h"
#include "hwg_idnum.h"
#include "hwg_mn_info.h"
#include "hwg_secret.h"

#define MAX_FILE 32767             /* READ BINARY offsets have 15 bits */
#define CERT_ROOM (MAX_FILE - 256) /* room for the certificate EF's filler */

/* The profile's lines as inih reads them, counted, and refused when longer than inih takes. */
struct lines {
	FILE *f;
	int line;
	int too_long, max;
};

struct loader {
	struct sim_card_spec *spec;
	const struct lines *lines;
	int fail_line; /* line of the first refusal, 0 if found after the last line */
	char dir[4096];
	char why[300]; /* "[section] key: problem" of the first refusal */
	int failed;
	int unchecked; /* [holder] mynumber_unchecked = yes */
};

static int
fail(struct loader *l, const char *section, const char *key, const char *what)
{
	if (!l->failed) {
		snprintf(l->why, sizeof(l->why), "[%s] %s: %s", section, key, what);
		l->fail_line = l->lines != NULL ? l->lines->line : 0;
	}
	l->failed = 1;
	return 0;
}

static int
all_of(const char *v, const char *set)
{
	return strspn(v, set) == strlen(v);
}

static int
copy_text(char *out, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, v, n + 1);
	return 0;
}

/* ---------------------------------------------------------------- files */

/* One DER SEQUENCE filling the whole file (30 81 LL / 30 82 HH LL), as a certificate EF holds. */
static int
der_shape_ok(const uint8_t *p, size_t n)
{
	size_t body;

	if (n < 4 || p[0] != 0x30)
		return 0;
	if (p[1] == 0x82)
		body = (size_t)(p[2] << 8 | p[3]) + 4;
	else if (p[1] == 0x81)
		body = (size_t)p[2] + 3;
	else
		body = (size_t)p[1] + 2;
	return body == n;
}

static int
load_cert(struct loader *l, const char *section, const char *key, const char *path, uint8_t **der,
          size_t *len)
{
	struct hwg_error ferr = {0};
	char why[200];

	free(*der);
	*der = NULL;
	if (hwg_file_read(path, MAX_FILE, der, len, &ferr) != 0) {
		snprintf(why, sizeof(why), "cannot read the file (%.160s)", ferr.message);
		return fail(l, section, key, why);
	}
	if (!der_shape_ok(*der, *len))
		return fail(l, section, key,
		            "not a DER certificate (PEM? openssl x509 -outform DER converts it)");
	if (*len > CERT_ROOM)
		return fail(l, section, key, "certificate too large for a card file");
	return 1;
}

static int
load_key(struct loader *l, const char *section, const char *key, const char *path, EVP_PKEY **pkey)
{
	FILE *f = fopen(path, "re");

	EVP_PKEY_free(*pkey);
	*pkey = NULL;
	if (f == NULL)
		return fail(l, section, key, "cannot read the file");
	*pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (*pkey == NULL)
		return fail(l, section, key, "not a PEM private key (or it has a passphrase)");
	if (!EVP_PKEY_is_a(*pkey, "RSA") || EVP_PKEY_get_bits(*pkey) < 1024 ||
	    EVP_PKEY_get_bits(*pkey) > 2048)
		return fail(l, section, key, "not an RSA key of 1024 to 2048 bits");
	return 1;
}

/* ---------------------------------------------------------------- sections */

static int
parse_atr(struct sim_card_spec *s, const char *v)
{
	size_t n = strlen(v);

	if (n < 4 || n % 2 != 0 || n / 2 > SIM_ATR_MAX || !all_of(v, "0123456789abcdefABCDEF"))
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned b;

		if (sscanf(v + 2 * i, "%2x", &b) != 1)
			return -1;
		s->atr[i] = (uint8_t)b;
	}
	s->atr_len = n / 2;
	return 0;
}

static int
on_card(struct loader *l, const char *key, const char *v)
{
	struct sim_card_spec *s = l->spec;

	if (strcmp(key, "type") == 0) {
		if (strcmp(v, "mynumber") == 0)
			s->type = SIM_MYNUMBER;
		else if (strcmp(v, "jukicard") == 0)
			s->type = SIM_JUKICARD;
		else if (strcmp(v, "blank") == 0)
			s->type = SIM_BLANK;
		else
			return fail(l, "card", key, "expected mynumber, jukicard or blank");
		return 1;
	}
	if (strcmp(key, "atr") == 0)
		return parse_atr(s, v) == 0 ? 1
		                            : fail(l, "card", key, "expected 4 to 66 hex digits");
	return fail(l, "card", key, "unknown key");
}

static int
yes_no(const char *v, int *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static int
on_holder(struct loader *l, const char *key, const char *v)
{
	struct sim_card_spec *s = l->spec;
	const char *D = "0123456789";

	if (strcmp(key, "name") == 0 || strcmp(key, "address") == 0)
		return copy_text(key[0] == 'n' ? s->name : s->address, sizeof(s->name), v) == 0
		           ? 1
		           : fail(l, "holder", key, "expected 1 to 511 bytes of UTF-8");
	if (strcmp(key, "birth") == 0)
		return strlen(v) == 8 && all_of(v, D) && copy_text(s->birth, 9, v) == 0
		           ? 1
		           : fail(l, "holder", key, "expected YYYYMMDD");
	if (strcmp(key, "sex") == 0)
		return strlen(v) == 1 && strchr("129", v[0]) != NULL && copy_text(s->sex, 2, v) == 0
		           ? 1
		           : fail(l, "holder", key, "expected 1, 2 or 9 (ISO 5218)");
	if (strcmp(key, "mynumber") == 0)
		return strlen(v) == 12 && all_of(v, D) && copy_text(s->mynumber, 13, v) == 0
		           ? 1
		           : fail(l, "holder", key, "expected 12 digits");
	if (strcmp(key, "mynumber_unchecked") == 0)
		return yes_no(v, &l->unchecked) == 0 ? 1
		                                     : fail(l, "holder", key, "expected yes or no");
	return fail(l, "holder", key, "unknown key");
}

static const char *const pin_keys[SIM_N_PINS] = {"auth", "sign", "support"};

static int
pin_value(struct loader *l, enum sim_pin_id pin, const char *key, const char *v)
{
	size_t n = strlen(v);

	if (pin == SIM_PIN_SIGN &&
	    (n < 6 || n > 16 || !all_of(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")))
		return fail(l, "pins", key, "expected 6 to 16 characters A-Z 0-9 (upper case)");
	if (pin != SIM_PIN_SIGN && (n != 4 || !all_of(v, "0123456789")))
		return fail(l, "pins", key, "expected 4 digits");
	memcpy(l->spec->pins[pin], v, n + 1);
	return 1;
}

static int
pin_tries(struct loader *l, enum sim_pin_id pin, const char *key, const char *v)
{
	char *end, msg[64];
	long t = strtol(v, &end, 10);

	if (*v == '\0' || *end != '\0' || t < 0 || t > sim_pin_max_tries(pin)) {
		snprintf(msg, sizeof(msg), "expected 0 to %d", sim_pin_max_tries(pin));
		return fail(l, "pins", key, msg);
	}
	l->spec->tries[pin] = (int)t;
	return 1;
}

static int
on_pins(struct loader *l, const char *key, const char *v)
{
	for (int i = 0; i < SIM_N_PINS; i++) {
		size_t k = strlen(pin_keys[i]);

		if (strcmp(key, pin_keys[i]) == 0)
			return pin_value(l, (enum sim_pin_id)i, key, v);
		if (strncmp(key, pin_keys[i], k) == 0 && strcmp(key + k, "_tries") == 0)
			return pin_tries(l, (enum sim_pin_id)i, key, v);
	}
	return fail(l, "pins", key, "unknown key");
}

static int
on_file(struct loader *l, const char *section, const char *key, const char *v)
{
	struct sim_card_spec *s = l->spec;
	int jpki = strcmp(section, "jpki") == 0;
	char path[8192];

	if (v[0] == '\0')
		return fail(l, section, key, "empty file name");
	snprintf(path, sizeof(path), "%s%s", v[0] == '/' ? "" : l->dir, v);
	if (jpki && strcmp(key, "auth_cert") == 0)
		return load_cert(l, section, key, path, &s->auth_cert, &s->auth_cert_len);
	if (jpki && strcmp(key, "auth_ca") == 0)
		return load_cert(l, section, key, path, &s->auth_ca, &s->auth_ca_len);
	if (jpki && strcmp(key, "sign_cert") == 0)
		return load_cert(l, section, key, path, &s->sign_cert, &s->sign_cert_len);
	if (jpki && strcmp(key, "sign_ca") == 0)
		return load_cert(l, section, key, path, &s->sign_ca, &s->sign_ca_len);
	if (jpki && strcmp(key, "auth_key") == 0)
		return load_key(l, section, key, path, &s->auth_key);
	if (jpki && strcmp(key, "sign_key") == 0)
		return load_key(l, section, key, path, &s->sign_key);
	if (!jpki && strcmp(key, "issuer_key") == 0)
		return load_key(l, section, key, path, &s->issuer_key);
	return fail(l, section, key, "unknown key");
}

static int
on_entry(void *arg, const char *section, const char *key, const char *value)
{
	struct loader *l = arg;

	if (l->failed)
		return 0;
	if (strcmp(section, "card") == 0)
		return on_card(l, key, value);
	if (strcmp(section, "holder") == 0)
		return on_holder(l, key, value);
	if (strcmp(section, "pins") == 0)
		return on_pins(l, key, value);
	if (strcmp(section, "jpki") == 0 || strcmp(section, "support") == 0)
		return on_file(l, section, key, value);
	return fail(l, section, key, "unknown section");
}

/* ---------------------------------------------------------------- the whole profile */

static int
refuse(struct loader *l, const char *section, const char *key, const char *what)
{
	fail(l, section, key, what);
	return -1;
}

/* What a type needs once every line is read; 0 or -1 with l->why set. */
static int
complete(struct loader *l)
{
	const struct sim_card_spec *s = l->spec;
	static const char *const need[] = {"name", "address", "birth", "sex", "mynumber"};
	const char *have[] = {s->name, s->address, s->birth, s->sex, s->mynumber};

	if (s->type != SIM_MYNUMBER)
		return 0;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (have[i][0] == '\0')
			return refuse(l, "holder", need[i], "required for type mynumber");
	if (!l->unchecked && !hwg_mynumber_valid(s->mynumber))
		return refuse(l, "holder", "mynumber",
		              "wrong check digit (mynumber_unchecked = yes keeps it)");
	if (s->issuer_key == NULL)
		return refuse(l, "support", "issuer_key", "required for type mynumber");
	return 0;
}

/*
 * The ATR a card presents unless its profile names one, as pcsc-tools'
 * smartcard_list.txt names them: a My Number card's ("My Number Card (The
 * Social Security and Tax Number System in JAPAN)"), and the retired
 * 住基カード's ("JUKICARD"), which a blank card presents too.  The gateway
 * must tell cards apart by what it reads, never by the ATR
 * (tests/integration/test_card_trust.sh swaps them).
 */
static const uint8_t mynumber_atr[] = {0x3B, 0xDA, 0x13, 0xFF, 0x81, 0x31, 0xFB, 0x46, 0x80, 0x12,
                                       0x39, 0x2F, 0x31, 0xC1, 0x73, 0xC6, 0x01, 0xC0, 0x3B};
static const uint8_t jukicard_atr[] = {0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14};

static void
spec_defaults(struct sim_card_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	for (int i = 0; i < SIM_N_PINS; i++)
		spec->tries[i] = -1;
}

/* The type's ATR when the profile named none. */
static void
default_atr(struct sim_card_spec *spec)
{
	const uint8_t *atr = spec->type == SIM_MYNUMBER ? mynumber_atr : jukicard_atr;
	size_t len = spec->type == SIM_MYNUMBER ? sizeof(mynumber_atr) : sizeof(jukicard_atr);

	if (spec->atr_len != 0)
		return;
	memcpy(spec->atr, atr, len);
	spec->atr_len = len;
}

/* inih's reader: one line, or NULL at the end or at a line inih would cut in two. */
static char *
next_line(char *str, int num, void *stream)
{
	struct lines *ls = stream;
	size_t n;
	int c;

	if (ls->too_long || fgets(str, num, ls->f) == NULL)
		return NULL;
	ls->line++;
	n = strlen(str);
	if (n + 1 == (size_t)num && str[n - 1] != '\n' && (c = getc(ls->f)) != EOF) {
		ungetc(c, ls->f);
		ls->too_long = 1;
		ls->max = num - 2;
		return NULL;
	}
	return str;
}

static int
parse(const char *path, struct loader *l, struct hwg_error *err)
{
	struct lines ls = {.f = fopen(path, "re")};
	int rc;

	if (ls.f == NULL)
		return hwg_error_set(err, HWG_E_CONFIG, "%s: cannot open the profile", path);
	l->lines = &ls;
	rc = ini_parse_stream(next_line, &ls, on_entry, l);
	l->lines = NULL;
	fclose(ls.f);
	if (rc > 0 && (!l->failed || rc < l->fail_line))
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "%s:%d: not a [section] or key = value line", path, rc);
	if (l->failed)
		return hwg_error_set(err, HWG_E_CONFIG, "%s:%d: %s", path, l->fail_line, l->why);
	if (ls.too_long)
		return hwg_error_set(err, HWG_E_CONFIG, "%s:%d: line longer than %d bytes", path,
		                     ls.line, ls.max);
	if (rc != 0)
		return hwg_error_set(err, HWG_E_NOMEM, "%s: out of memory", path);
	default_atr(l->spec);
	if (complete(l) != 0)
		return hwg_error_set(err, HWG_E_CONFIG, "%s: %s", path, l->why);
	return 0;
}

int
sim_profile_load(const char *path, struct sim_card_spec *spec, struct hwg_error *err)
{
	struct loader l = {.spec = spec};
	const char *slash = strrchr(path, '/');
	int rc;

	spec_defaults(spec);
	if (slash != NULL)
		snprintf(l.dir, sizeof(l.dir), "%.*s/", (int)(slash - path), path);
	if ((rc = parse(path, &l, err)) != 0)
		sim_card_spec_clear(spec);
	return rc;
}

int
sim_profile_card(const char *path, struct sim_card **card, struct hwg_error *err)
{
	struct sim_card_spec spec;
	struct hwg_error inner = {0};
	int rc;

	*card = NULL;
	if ((rc = sim_profile_load(path, &spec, err)) != 0)
		return rc;
	rc = sim_card_new(&spec, card, &inner);
	sim_card_spec_clear(&spec);
	if (rc != 0)
		return hwg_error_set(err, rc, "%s: %s", path, inner.message);
	return 0;
}
