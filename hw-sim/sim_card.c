/*
 * sim_card.c — the simulated card's file system and APDU engine (see
 * sim_card.h).  Files are built once from the profile: the JPKI-AP's
 * token label, certificates and keys, and the input-support AP's three
 * files, whose integrity record (EF 0003) is signed here with the
 * simulated issuer key.  Status words are those of the brief; where it
 * leaves a choice, hw-sim/README.md says which one we made.
 */
#include "sim_card.h"

#include <openssl/crypto.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_secret.h"

#define MAX_EFS 12
#define MAX_APPS 2
#define CERT_FILLER 256 /* 0xFF bytes after a certificate's DER */
#define TOKEN_LABEL_LEN 32

enum ef_kind { EF_DATA, EF_KEY, EF_PIN };

struct sim_ef {
	uint16_t fid;
	enum ef_kind kind;
	uint8_t *data; /* EF_DATA */
	size_t len;
	int read_pin;  /* EF_DATA: PIN needed to read, -1 if free */
	EVP_PKEY *key; /* EF_KEY */
	int pin;       /* EF_KEY: the PIN that unlocks it; EF_PIN: which PIN it is */
};

struct sim_app {
	uint8_t aid[10];
	struct sim_ef efs[MAX_EFS];
	int n_efs;
};

struct sim_pin {
	char value[SIM_PIN_MAX + 1];
	size_t len;
	int tries, max; /* max 0: the card has no such PIN */
	int app;        /* the DF it belongs to */
	int verified;
};

struct sim_card {
	uint8_t atr[SIM_ATR_MAX];
	size_t atr_len;
	struct sim_app apps[MAX_APPS];
	int n_apps;
	struct sim_pin pins[SIM_N_PINS];
	int cur_app, cur_ef;       /* -1: none */
	int support_app;           /* index of the input-support AP, -1 if none */
	size_t name_off, name_len; /* the name's value inside EF 0002 (for tampering) */
};

static const uint8_t aid_jpki[10] = {0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01};
static const uint8_t aid_support[10] = {0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08};

int
sim_pin_max_tries(enum sim_pin_id pin)
{
	return pin == SIM_PIN_SIGN ? 5 : 3;
}

/* ---------------------------------------------------------------- building */

static struct sim_ef *
add_ef(struct sim_app *app, uint16_t fid, enum ef_kind kind)
{
	struct sim_ef *ef = &app->efs[app->n_efs++];

	memset(ef, 0, sizeof(*ef));
	ef->fid = fid;
	ef->kind = kind;
	ef->read_pin = -1;
	return ef;
}

/* A data file: a copy of data followed by filler 0xFF bytes.  No data: no file (6A82). */
static int
add_data(struct sim_app *app, uint16_t fid, const uint8_t *data, size_t len, size_t filler,
         int read_pin, struct hwg_error *err)
{
	struct sim_ef *ef;
	uint8_t *copy;

	if (data == NULL)
		return 0;
	if ((copy = malloc(len + filler)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory building EF %04X", fid);
	memcpy(copy, data, len);
	memset(copy + len, 0xFF, filler);
	ef = add_ef(app, fid, EF_DATA);
	ef->data = copy;
	ef->len = len + filler;
	ef->read_pin = read_pin;
	return 0;
}

static void
add_key(struct sim_app *app, uint16_t fid, EVP_PKEY *key, int pin)
{
	struct sim_ef *ef;

	if (key == NULL)
		return;
	ef = add_ef(app, fid, EF_KEY);
	EVP_PKEY_up_ref(key);
	ef->key = key;
	ef->pin = pin;
}

static void
add_pin(struct sim_card *c, int app, uint16_t fid, enum sim_pin_id pin,
        const struct sim_card_spec *s)
{
	struct sim_pin *p = &c->pins[pin];
	int tries = s->tries[pin];

	add_ef(&c->apps[app], fid, EF_PIN)->pin = pin;
	p->len = strnlen(s->pins[pin], SIM_PIN_MAX);
	memcpy(p->value, s->pins[pin], p->len);
	p->max = sim_pin_max_tries(pin);
	p->tries = tries < 0 || tries > p->max ? p->max : tries;
	p->app = app;
}

/* ---------------------------------------------------------------- TLV encoding */

/* A growing byte string with a fixed capacity (every file here is small). */
struct out {
	uint8_t *p;
	size_t len, cap;
	int overflow;
};

static void
put(struct out *o, const void *v, size_t n)
{
	if (o->overflow || n > o->cap - o->len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->p + o->len, v, n);
	o->len += n;
}

static void
put_byte(struct out *o, uint8_t b)
{
	put(o, &b, 1);
}

/*
 * A TLV with a two-byte tag.  long_form asks for the card's non-minimal
 * length (81 LL even below 128); lengths from 256 take 82 HH LL.
 */
static void
put_tlv(struct out *o, uint16_t tag, const void *v, size_t len, int long_form)
{
	put_byte(o, (uint8_t)(tag >> 8));
	put_byte(o, (uint8_t)tag);
	if (len >= 256) {
		put_byte(o, 0x82);
		put_byte(o, (uint8_t)(len >> 8));
	} else if (long_form || len >= 128) {
		put_byte(o, 0x81);
	}
	put_byte(o, (uint8_t)len);
	put(o, v, len);
}

/* ---------------------------------------------------------------- input-support files */

/*
 * EF 0002: FF 20 82 HH LL { DF21 08 offsets, DF22 81 LL name, DF23 81 LL
 * address, DF24 08 birth, DF25 01 sex }; the offsets are those of the
 * DF22..DF25 TLVs within the value.  *facts_off is where DF22 starts.
 */
static int
build_facts(struct sim_card *c, const struct sim_card_spec *s, struct out *ef2, size_t *facts_off)
{
	uint8_t buf[1200], offsets[8];
	struct out v = {buf, 11, sizeof(buf), 0}; /* DF21 08 + 8 bytes come first */
	size_t pos[4], name_len = strlen(s->name);

	pos[0] = v.len;
	put_tlv(&v, 0xDF22, s->name, name_len, 1);
	c->name_len = name_len;
	c->name_off = 5 + v.len - name_len;
	pos[1] = v.len;
	put_tlv(&v, 0xDF23, s->address, strlen(s->address), 1);
	pos[2] = v.len;
	put_tlv(&v, 0xDF24, s->birth, 8, 0);
	pos[3] = v.len;
	put_tlv(&v, 0xDF25, s->sex, 1, 0);
	for (int i = 0; i < 4; i++) {
		offsets[2 * i] = (uint8_t)(pos[i] >> 8);
		offsets[2 * i + 1] = (uint8_t)pos[i];
	}
	memcpy(buf, (const uint8_t[]){0xDF, 0x21, 0x08}, 3);
	memcpy(buf + 3, offsets, 8);
	put(ef2, (const uint8_t[]){0xFF, 0x20, 0x82, (uint8_t)(v.len >> 8), (uint8_t)v.len}, 5);
	put(ef2, buf, v.len);
	*facts_off = 5 + 11;
	return v.overflow || ef2->overflow ? -1 : 0;
}

static int
issuer_sign(EVP_PKEY *issuer, const uint8_t tbs[64], uint8_t *sig, size_t *sig_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	ok = md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, issuer) == 1 &&
	     EVP_DigestSign(md, sig, sig_len, tbs, 64) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

/*
 * EF 0003: FF 30 len { DF31 20 SHA-256(EF 0001), DF32 20 SHA-256(EF 0002's
 * value less DF21), DF33 82 01 00 signature over DF31 || DF32 }.
 */
static int
build_integrity(const struct out *ef1, const struct out *ef2, size_t facts_off, EVP_PKEY *issuer,
                struct out *ef3, struct hwg_error *err)
{
	uint8_t tbs[64], sig[512], body[600];
	size_t sig_len = sizeof(sig);
	struct out b = {body, 0, sizeof(body), 0};

	SHA256(ef1->p, ef1->len, tbs);
	SHA256(ef2->p + facts_off, ef2->len - facts_off, tbs + 32);
	if (issuer_sign(issuer, tbs, sig, &sig_len) != 0)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "cannot sign the integrity record with [support] issuer_key");
	put_tlv(&b, 0xDF31, tbs, 32, 0);
	put_tlv(&b, 0xDF32, tbs + 32, 32, 0);
	put_tlv(&b, 0xDF33, sig, sig_len, 0);
	put_tlv(ef3, 0xFF30, body, b.len, 0);
	if (b.overflow || ef3->overflow)
		return hwg_error_set(err, HWG_E_INVALID, "integrity record too large");
	return 0;
}

static int
build_support(struct sim_card *c, const struct sim_card_spec *s, struct hwg_error *err)
{
	uint8_t b1[17] = {0xFF, 0x10, 0x0C}, b2[1300], b3[600];
	struct out ef1 = {b1, 17, 17, 0}, ef2 = {b2, 0, sizeof(b2), 0},
	           ef3 = {b3, 0, sizeof(b3), 0};
	int app = c->n_apps++, rc;
	size_t facts_off;

	memcpy(c->apps[app].aid, aid_support, sizeof(aid_support));
	c->support_app = app;
	memcpy(b1 + 3, s->mynumber, 12);
	b1[15] = b1[16] = 0xFF;
	if (s->issuer_key == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "[support] issuer_key is required");
	if (build_facts(c, s, &ef2, &facts_off) != 0)
		return hwg_error_set(err, HWG_E_INVALID, "[holder] name and address too long");
	if ((rc = build_integrity(&ef1, &ef2, facts_off, s->issuer_key, &ef3, err)) != 0)
		return rc;
	if ((rc = add_data(&c->apps[app], 0x0001, b1, ef1.len, 0, SIM_PIN_SUPPORT, err)) != 0 ||
	    (rc = add_data(&c->apps[app], 0x0002, b2, ef2.len, 0, SIM_PIN_SUPPORT, err)) != 0 ||
	    (rc = add_data(&c->apps[app], 0x0003, b3, ef3.len, 0, SIM_PIN_SUPPORT, err)) != 0)
		return rc;
	add_pin(c, app, 0x0011, SIM_PIN_SUPPORT, s);
	hwg_wipe(b1, sizeof(b1));
	return 0;
}

/* ---------------------------------------------------------------- JPKI files */

static int
build_jpki(struct sim_card *c, const struct sim_card_spec *s, struct hwg_error *err)
{
	int app = c->n_apps++, rc;
	struct sim_app *a = &c->apps[app];
	uint8_t label[TOKEN_LABEL_LEN] = {0};
	const char *text = s->type == SIM_JUKICARD ? "JPKIAPICCTOKEN" : "JPKIAPICCTOKEN2";

	memcpy(a->aid, aid_jpki, sizeof(aid_jpki));
	memcpy(label, text, strlen(text));
	if ((rc = add_data(a, 0x0006, label, sizeof(label), 0, -1, err)) != 0 ||
	    (rc = add_data(a, 0x000A, s->auth_cert, s->auth_cert_len, CERT_FILLER, -1, err)) != 0 ||
	    (rc = add_data(a, 0x000B, s->auth_ca, s->auth_ca_len, CERT_FILLER, -1, err)) != 0 ||
	    (rc = add_data(a, 0x0001, s->sign_cert, s->sign_cert_len, CERT_FILLER, SIM_PIN_SIGN,
	                   err)) != 0 ||
	    (rc = add_data(a, 0x0002, s->sign_ca, s->sign_ca_len, CERT_FILLER, -1, err)) != 0)
		return rc;
	add_key(a, 0x0017, s->auth_key, SIM_PIN_AUTH);
	add_key(a, 0x001A, s->sign_key, SIM_PIN_SIGN);
	add_pin(c, app, 0x0018, SIM_PIN_AUTH, s);
	add_pin(c, app, 0x001B, SIM_PIN_SIGN, s);
	return 0;
}

int
sim_card_new(const struct sim_card_spec *s, struct sim_card **out, struct hwg_error *err)
{
	struct sim_card *c = calloc(1, sizeof(*c));
	int rc = 0;

	*out = NULL;
	if (c == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if (s->atr_len == 0 || s->atr_len > SIM_ATR_MAX) {
		free(c);
		return hwg_error_set(err, HWG_E_INVALID, "ATR of %zu bytes", s->atr_len);
	}
	memcpy(c->atr, s->atr, s->atr_len);
	c->atr_len = s->atr_len;
	c->cur_app = c->cur_ef = c->support_app = -1;
	if (s->type != SIM_BLANK)
		rc = build_jpki(c, s, err);
	if (rc == 0 && s->type == SIM_MYNUMBER)
		rc = build_support(c, s, err);
	if (rc != 0) {
		sim_card_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void
sim_card_free(struct sim_card *c)
{
	if (c == NULL)
		return;
	for (int a = 0; a < c->n_apps; a++)
		for (int i = 0; i < c->apps[a].n_efs; i++) {
			struct sim_ef *ef = &c->apps[a].efs[i];

			if (ef->data != NULL)
				hwg_wipe(ef->data, ef->len);
			free(ef->data);
			EVP_PKEY_free(ef->key);
		}
	hwg_wipe(c, sizeof(*c));
	free(c);
}

void
sim_card_spec_clear(struct sim_card_spec *s)
{
	free(s->auth_cert);
	free(s->auth_ca);
	free(s->sign_cert);
	free(s->sign_ca);
	EVP_PKEY_free(s->auth_key);
	EVP_PKEY_free(s->sign_key);
	EVP_PKEY_free(s->issuer_key);
	hwg_wipe(s, sizeof(*s));
}

/* ---------------------------------------------------------------- state */

void
sim_card_reset(struct sim_card *c)
{
	c->cur_app = c->cur_ef = -1;
	for (int i = 0; i < SIM_N_PINS; i++)
		c->pins[i].verified = 0;
}

const uint8_t *
sim_card_atr(const struct sim_card *c, size_t *len)
{
	*len = c->atr_len;
	return c->atr;
}

int
sim_card_tries(const struct sim_card *c, enum sim_pin_id pin)
{
	return c->pins[pin].max == 0 ? -1 : c->pins[pin].tries;
}

static struct sim_ef *
find_ef(struct sim_card *c, int app, uint16_t fid)
{
	for (int i = 0; app >= 0 && i < c->apps[app].n_efs; i++)
		if (c->apps[app].efs[i].fid == fid)
			return &c->apps[app].efs[i];
	return NULL;
}

/*
 * Change the last byte of the name: a UTF-8 continuation byte keeps its
 * form (the code point moves by one), an ASCII letter becomes another, so
 * the file still parses and only the integrity hash tells.
 */
int
sim_card_tamper_facts(struct sim_card *c, struct hwg_error *err)
{
	struct sim_ef *ef = find_ef(c, c->support_app, 0x0002);
	uint8_t *last;

	if (ef == NULL || c->name_len == 0)
		return hwg_error_set(err, HWG_E_NOT_FOUND, "the card has no EF 0002");
	last = &ef->data[c->name_off + c->name_len - 1];
	if (*last >= 0x80)
		*last ^= 0x01;
	else
		*last = *last == 'A' ? 'B' : 'A';
	return 0;
}

/* ---------------------------------------------------------------- APDUs */

int
sim_apdu_is_sign(const uint8_t *a, size_t n)
{
	return n >= 2 && a[0] == 0x80 && a[1] == 0x2A;
}

int
sim_apdu_has_secret(const uint8_t *a, size_t n)
{
	return n > 5 && (a[0] & 0xFC) == 0x00 && (a[1] == 0x20 || a[1] == 0x24);
}

/* One command: the APDU, where the answer's data goes, and its length. */
struct cmd {
	const uint8_t *a;
	size_t n;
	uint8_t *r;
	size_t rlen;
};

/* Lc and the data are there and agree with the length; trailing Le allowed if le_ok. */
static int
has_data(const struct cmd *k, int le_ok)
{
	return k->n >= 6 && k->a[4] != 0 &&
	       (k->n == 5u + k->a[4] || (le_ok && k->n == 6u + k->a[4]));
}

static struct sim_ef *
current_ef(struct sim_card *c)
{
	return c->cur_ef < 0 ? NULL : &c->apps[c->cur_app].efs[c->cur_ef];
}

/* Entering another DF clears the security state of the one left. */
static void
enter_app(struct sim_card *c, int app)
{
	for (int i = 0; c->cur_app != app && i < SIM_N_PINS; i++)
		if (c->pins[i].app == c->cur_app)
			c->pins[i].verified = 0;
	c->cur_app = app;
	c->cur_ef = -1;
}

static uint16_t
select_app(struct sim_card *c, const uint8_t *aid, size_t len)
{
	for (int i = 0; i < c->n_apps; i++)
		if (len == sizeof(c->apps[i].aid) && memcmp(aid, c->apps[i].aid, len) == 0) {
			enter_app(c, i);
			return 0x9000;
		}
	return 0x6A82;
}

static uint16_t
select_ef(struct sim_card *c, const uint8_t *fid, size_t len)
{
	if (len != 2)
		return 0x6700;
	for (int i = 0; c->cur_app >= 0 && i < c->apps[c->cur_app].n_efs; i++)
		if (c->apps[c->cur_app].efs[i].fid == (uint16_t)(fid[0] << 8 | fid[1])) {
			c->cur_ef = i;
			return 0x9000;
		}
	return 0x6A82; /* also with no DF selected */
}

/* SELECT: P1 04 by AID, 02 EF under the current DF; P2 0C (no FCI) or 00 (none sent either). */
static uint16_t
do_select(struct sim_card *c, struct cmd *k)
{
	const uint8_t *a = k->a;

	if ((a[2] != 0x04 && a[2] != 0x02) || (a[3] != 0x0C && a[3] != 0x00))
		return 0x6A86;
	if (!has_data(k, 1))
		return 0x6700;
	return a[2] == 0x04 ? select_app(c, a + 5, a[4]) : select_ef(c, a + 5, a[4]);
}

static uint16_t
do_read(struct sim_card *c, struct cmd *k)
{
	struct sim_ef *ef = current_ef(c);
	size_t off = (size_t)(k->a[2] << 8 | k->a[3]), le;

	if (k->a[2] & 0x80)
		return 0x6A86; /* short EF identifiers are not supported */
	if (k->n != 5)
		return 0x6700;
	if (ef == NULL)
		return 0x6986;
	if (ef->kind == EF_KEY)
		return 0x6982; /* a private key never leaves the card */
	if (ef->kind == EF_PIN)
		return 0x6981; /* a PIN file is not a binary file */
	if (ef->read_pin >= 0 && !c->pins[ef->read_pin].verified)
		return 0x6982;
	if (off >= ef->len)
		return 0x6B00;
	le = k->a[4] == 0 ? 256 : k->a[4];
	if (le > ef->len - off)
		le = ef->len - off; /* fewer bytes at the end of the file, still 9000 */
	memcpy(k->r, ef->data + off, le);
	k->rlen = le;
	return 0x9000;
}

static struct sim_pin *
selected_pin(struct sim_card *c)
{
	struct sim_ef *ef = current_ef(c);

	return ef == NULL || ef->kind != EF_PIN ? NULL : &c->pins[ef->pin];
}

static uint16_t
try_pin(struct sim_pin *p, const uint8_t *v, size_t len)
{
	if (len == p->len && p->len > 0 && CRYPTO_memcmp(v, p->value, len) == 0) {
		p->tries = p->max;
		p->verified = 1;
		return 0x9000;
	}
	p->tries--; /* a PIN of the wrong length is a wrong PIN too */
	p->verified = 0;
	return (uint16_t)(0x63C0 | p->tries);
}

/* VERIFY 00 20 00 80 [Lc PIN] on the selected PIN file; without data: tries left. */
static uint16_t
do_verify(struct sim_card *c, struct cmd *k)
{
	struct sim_pin *p;

	if (k->a[2] != 0x00 || k->a[3] != 0x80)
		return 0x6A86;
	if ((p = selected_pin(c)) == NULL)
		return 0x6985;
	if (k->n != 4 && !has_data(k, 0))
		return 0x6700;
	if (p->tries == 0)
		return 0x6984;
	if (k->n == 4)
		return (uint16_t)(0x63C0 | p->tries);
	return try_pin(p, k->a + 5, k->a[4]);
}

/* The new value keeps the PIN's rules: 4 digits, or 6-16 of A-Z 0-9 for the password. */
static int
pin_format_ok(const struct sim_pin *p, const struct sim_card *c, const uint8_t *v, size_t len)
{
	int password = p == &c->pins[SIM_PIN_SIGN];

	if (password ? len < 6 || len > 16 : len != 4)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!(v[i] >= '0' && v[i] <= '9') && !(password && v[i] >= 'A' && v[i] <= 'Z'))
			return 0;
	return 1;
}

/* CHANGE REFERENCE DATA 00 24 01 80 Lc new, after the PIN was verified in this DF session. */
static uint16_t
do_change(struct sim_card *c, struct cmd *k)
{
	struct sim_pin *p;

	if (k->a[2] != 0x01 || k->a[3] != 0x80)
		return 0x6A86;
	if ((p = selected_pin(c)) == NULL)
		return 0x6985;
	if (!has_data(k, 0))
		return 0x6700;
	if (p->tries == 0)
		return 0x6984;
	if (!p->verified)
		return 0x6982;
	if (!pin_format_ok(p, c, k->a + 5, k->a[4]))
		return 0x6A80;
	hwg_wipe(p->value, sizeof(p->value));
	memcpy(p->value, k->a + 5, k->a[4]);
	p->len = k->a[4];
	return 0x9000;
}

/* RSA PKCS#1 v1.5 type 1 over the DigestInfo as given (no hash on the card). */
static int
rsa_sign(EVP_PKEY *key, const uint8_t *in, size_t len, uint8_t *sig, size_t *sig_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	int ok;

	ok = ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
	     EVP_PKEY_sign(ctx, sig, sig_len, in, len) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* SIGN 80 2A 00 80 Lc DigestInfo [00] with a key file selected and its PIN verified. */
static uint16_t
do_sign(struct sim_card *c, struct cmd *k)
{
	struct sim_ef *ef = current_ef(c);
	size_t sig_len = SIM_RAPDU_MAX - 2;

	if (k->a[2] != 0x00 || k->a[3] != 0x80)
		return 0x6A86;
	if (!has_data(k, 1))
		return 0x6700;
	if (ef == NULL || ef->kind != EF_KEY)
		return 0x6985;
	if (!c->pins[ef->pin].verified)
		return 0x6982;
	if (rsa_sign(ef->key, k->a + 5, k->a[4], k->r, &sig_len) != 0)
		return 0x6A80; /* incorrect data: the DigestInfo does not fit the key */
	k->rlen = sig_len;
	return 0x9000;
}

/* Class and instruction: 00 for the ISO commands, 80 for the sign command only. */
static uint16_t
dispatch(struct sim_card *c, struct cmd *k)
{
	uint8_t cla = k->a[0], ins = k->a[1];

	if ((cla & 0xFC) != 0x00 && (cla & 0xFC) != 0x80)
		return 0x6E00;
	if ((cla & 0x03) != 0)
		return 0x6881;
	if (ins == 0x2A)
		return cla == 0x80 ? do_sign(c, k) : 0x6E00;
	if (ins != 0xA4 && ins != 0xB0 && ins != 0x20 && ins != 0x24)
		return 0x6D00;
	if (cla != 0x00)
		return 0x6E00;
	if (ins == 0xA4)
		return do_select(c, k);
	if (ins == 0xB0)
		return do_read(c, k);
	return ins == 0x20 ? do_verify(c, k) : do_change(c, k);
}

int
sim_card_apdu(struct sim_card *c, const uint8_t *a, size_t n, uint8_t *r, size_t *rlen)
{
	struct cmd k = {a, n, r, 0};
	uint16_t code;

	if (*rlen < SIM_RAPDU_MAX)
		return HWG_E_INVALID;
	code = n < 4 ? 0x6700 : dispatch(c, &k);
	if (code != 0x9000)
		k.rlen = 0;
	r[k.rlen] = (uint8_t)(code >> 8);
	r[k.rlen + 1] = (uint8_t)code;
	*rlen = k.rlen + 2;
	return 0;
}
