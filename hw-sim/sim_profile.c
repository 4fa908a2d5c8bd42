/*
 * sim_profile.c — reads a card profile (INI, hw-sim/README.md) into a
 * sim_card_spec.  Every refusal names the file, the section and the key,
 * because profiles are written by hand for tests.
 */
#include "sim_profile.h"

#include <ini.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_mn_info.h"

struct loader {
	struct sim_card_spec *spec;
	char dir[4096];
	char *why;
	size_t why_len;
	int failed;
};

static int
fail(struct loader *l, const char *section, const char *key, const char *what)
{
	if (!l->failed)
		snprintf(l->why, l->why_len, "[%s] %s: %s", section, key, what);
	l->failed = 1;
	return 0;
}

static int
read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	long n;

	*out = NULL;
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || n > 65536 ||
	    fseek(f, 0, SEEK_SET) != 0 || (*out = malloc((size_t)n)) == NULL ||
	    fread(*out, 1, (size_t)n, f) != (size_t)n) {
		if (f != NULL)
			fclose(f);
		free(*out);
		*out = NULL;
		return -1;
	}
	fclose(f);
	*len = (size_t)n;
	return 0;
}

static EVP_PKEY *
read_key(const char *path)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k;

	if (f == NULL)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

static int
text(char *out, size_t cap, const char *v)
{
	if (strlen(v) >= cap)
		return -1;
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

static int
hex_atr(struct sim_card_spec *s, const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n % 2 != 0 || n / 2 > SIM_ATR_MAX)
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
		return hex_atr(s, v) == 0 ? 1 : fail(l, "card", key, "expected 2 to 66 hex digits");
	return fail(l, "card", key, "unknown key");
}

static int
on_holder(struct loader *l, const char *key, const char *v)
{
	struct sim_card_spec *s = l->spec;
	int ok;

	if (strcmp(key, "name") == 0)
		ok = text(s->name, sizeof(s->name), v) == 0 && v[0] != '\0';
	else if (strcmp(key, "address") == 0)
		ok = text(s->address, sizeof(s->address), v) == 0 && v[0] != '\0';
	else if (strcmp(key, "birth") == 0)
		ok = strlen(v) == 8 && strspn(v, "0123456789") == 8 && text(s->birth, 9, v) == 0;
	else if (strcmp(key, "sex") == 0)
		ok = (strcmp(v, "1") == 0 || strcmp(v, "2") == 0 || strcmp(v, "9") == 0) &&
		     text(s->sex, 2, v) == 0;
	else if (strcmp(key, "mynumber") == 0)
		ok = strlen(v) == 12 && hwg_mn_mynumber_valid(v) && text(s->mynumber, 13, v) == 0;
	else
		return fail(l, "holder", key, "unknown key");
	return ok ? 1 : fail(l, "holder", key, "bad value (mynumber needs a valid check digit)");
}

static int
on_pins(struct loader *l, const char *key, const char *v)
{
	static const char *const names[SIM_N_PINS] = {"auth", "sign", "support"};

	for (int i = 0; i < SIM_N_PINS; i++) {
		size_t k = strlen(names[i]);

		if (strcmp(key, names[i]) == 0)
			return text(l->spec->pins[i], sizeof(l->spec->pins[i]), v) == 0
			           ? 1
			           : fail(l, "pins", key, "at most 16 characters");
		if (strncmp(key, names[i], k) == 0 && strcmp(key + k, "_tries") == 0) {
			char *end;
			long t = strtol(v, &end, 10);

			if (*v == '\0' || *end != '\0' || t < 0 || t > 15)
				return fail(l, "pins", key, "expected 0 to 15");
			l->spec->tries[i] = (int)t;
			return 1;
		}
	}
	return fail(l, "pins", key, "unknown key");
}

static int
on_file(struct loader *l, const char *section, const char *key, const char *v)
{
	struct sim_card_spec *s = l->spec;
	struct {
		const char *key;
		uint8_t **der;
		size_t *len;
		EVP_PKEY **pkey;
	} files[] = {
	    {"auth_cert", &s->auth_cert, &s->auth_cert_len, NULL},
	    {"auth_ca", &s->auth_ca, &s->auth_ca_len, NULL},
	    {"sign_cert", &s->sign_cert, &s->sign_cert_len, NULL},
	    {"sign_ca", &s->sign_ca, &s->sign_ca_len, NULL},
	    {"auth_key", NULL, NULL, &s->auth_key},
	    {"sign_key", NULL, NULL, &s->sign_key},
	    {"issuer_key", NULL, NULL, &s->issuer_key},
	};
	char path[8192];

	snprintf(path, sizeof(path), "%s%s%s", v[0] == '/' ? "" : l->dir, v[0] == '/' ? "" : "/",
	         v);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (strcmp(key, files[i].key) != 0 ||
		    (strcmp(section, "support") == 0) != (strcmp(key, "issuer_key") == 0))
			continue;
		if (files[i].der != NULL) {
			free(*files[i].der);
			if (read_file(path, files[i].der, files[i].len) != 0)
				return fail(l, section, key, "cannot read the file");
		}
		if (files[i].pkey != NULL) {
			EVP_PKEY_free(*files[i].pkey);
			if ((*files[i].pkey = read_key(path)) == NULL)
				return fail(l, section, key, "not a PEM private key");
		}
		return 1;
	}
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

static const uint8_t default_atr[] = {0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14};

/* A My Number card needs the holder's facts for its input-support files. */
static int
complete(const struct sim_card_spec *s, char *why, size_t why_len)
{
	if (s->type != SIM_MYNUMBER)
		return 0;
	if (s->name[0] == '\0' || s->address[0] == '\0' || s->birth[0] == '\0' ||
	    s->sex[0] == '\0' || s->mynumber[0] == '\0') {
		snprintf(why, why_len, "[holder] needs name, address, birth, sex and mynumber");
		return -1;
	}
	return 0;
}

int
sim_profile_load(const char *path, struct sim_card_spec *spec, char *why, size_t why_len)
{
	struct loader l = {.spec = spec, .why = why, .why_len = why_len};
	const char *slash = strrchr(path, '/');
	char inner[512] = "";
	int rc;

	memset(spec, 0, sizeof(*spec));
	for (int i = 0; i < SIM_N_PINS; i++)
		spec->tries[i] = -1;
	memcpy(spec->atr, default_atr, sizeof(default_atr));
	spec->atr_len = sizeof(default_atr);
	snprintf(l.dir, sizeof(l.dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	l.why = inner;
	l.why_len = sizeof(inner);
	rc = ini_parse(path, on_entry, &l);
	if (rc == 0 && !l.failed)
		rc = complete(spec, inner, sizeof(inner)) == 0 ? 0 : -2;
	if (rc != 0) {
		if (rc == -1)
			snprintf(why, why_len, "%s: cannot open", path);
		else if (l.failed)
			snprintf(why, why_len, "%s:%d: %s", path, rc > 0 ? rc : 0, inner);
		else if (rc > 0)
			snprintf(why, why_len, "%s:%d: syntax error", path, rc);
		else
			snprintf(why, why_len, "%s: %s", path, inner);
		sim_card_spec_clear(spec);
		return -1;
	}
	return 0;
}
