/*
 * sim_card.c — the simulated card's file system and APDU engine (see
 * sim_card.h).  Files are built once from the profile; the input-support
 * integrity record is signed here with the simulated issuer key.
 */
#include "sim_card.h"

#include <openssl/crypto.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EFS 12
#define CERT_FILLER 256

enum ef_kind { EF_DATA, EF_KEY, EF_PIN };

struct sim_ef {
	uint16_t fid;
	enum ef_kind kind;
	uint8_t *data; /* EF_DATA */
	size_t len;
	int read_pin;  /* EF_DATA: PIN needed to read, -1 if free */
	EVP_PKEY *key; /* EF_KEY */
	int pin;       /* EF_KEY: PIN that unlocks it; EF_PIN: which PIN */
};

struct sim_app {
	uint8_t aid[10];
	struct sim_ef efs[MAX_EFS];
	int n_efs;
};

struct sim_pin {
	char value[17];
	size_t len;
	int tries, max;
	int verified;
};

struct sim_card {
	uint8_t atr[SIM_ATR_MAX];
	size_t atr_len;
	struct sim_app apps[2];
	int n_apps;
	struct sim_pin pins[SIM_N_PINS];
	int cur_app, cur_ef;   /* -1: none */
	size_t facts_name_off; /* where the name's value is in EF 0002 (for tampering) */
};

static const uint8_t aid_jpki[10] = {0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01};
static const uint8_t aid_support[10] = {0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08};

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

static int
add_data(struct sim_app *app, uint16_t fid, const uint8_t *data, size_t len, size_t filler,
         int read_pin)
{
	struct sim_ef *ef;
	uint8_t *copy;

	if (data == NULL)
		return 0; /* the profile has no such file: SELECT answers 6A82 */
	if ((copy = malloc(len + filler)) == NULL)
		return -1;
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
add_pin(struct sim_card *c, struct sim_app *app, uint16_t fid, int pin, const char *value, int max,
        int tries)
{
	struct sim_pin *p = &c->pins[pin];

	add_ef(app, fid, EF_PIN)->pin = pin;
	snprintf(p->value, sizeof(p->value), "%s", value);
	p->len = strlen(p->value);
	p->max = max;
	p->tries = tries < 0 || tries > max ? max : tries;
}

/* Append a TLV with a long-form length (the card's non-minimal habit). */
static size_t
put_tlv(uint8_t *out, uint16_t tag, const void *v, size_t len, int long_form)
{
	size_t n = 0;

	out[n++] = (uint8_t)(tag >> 8);
	out[n++] = (uint8_t)tag;
	if (long_form && len < 256) {
		out[n++] = 0x81;
	} else if (len >= 128) {
		out[n++] = 0x82;
		out[n++] = (uint8_t)(len >> 8);
	}
	out[n++] = (uint8_t)len;
	memcpy(out + n, v, len);
	return n + len;
}

/* EF 0002: FF 20 82 HH LL { DF21 offsets, DF22 name, DF23 address, DF24, DF25 }. */
static size_t
build_facts(const struct sim_card_spec *s, uint8_t *out, size_t *name_off)
{
	uint8_t value[1200];
	uint8_t offsets[8];
	size_t n = 11, pos[4], len; /* DF21 08 + 8 bytes first */

	pos[0] = n;
	n += put_tlv(value + n, 0xDF22, s->name, strlen(s->name), 1);
	*name_off = 5 + pos[0] + (strlen(s->name) < 256 ? 4 : 5);
	pos[1] = n;
	n += put_tlv(value + n, 0xDF23, s->address, strlen(s->address), 1);
	pos[2] = n;
	n += put_tlv(value + n, 0xDF24, s->birth, 8, 0);
	pos[3] = n;
	n += put_tlv(value + n, 0xDF25, s->sex, 1, 0);
	for (int i = 0; i < 4; i++) {
		offsets[2 * i] = (uint8_t)(pos[i] >> 8);
		offsets[2 * i + 1] = (uint8_t)pos[i];
	}
	put_tlv(value, 0xDF21, offsets, 8, 0);
	out[0] = 0xFF;
	out[1] = 0x20;
	out[2] = 0x82;
	out[3] = (uint8_t)(n >> 8);
	out[4] = (uint8_t)n;
	memcpy(out + 5, value, n);
	len = 5 + n;
	return len;
}

/* EF 0003: FF 30 { DF31 SHA-256(EF 0001), DF32 SHA-256(EF 0002 value less DF21), DF33 sig }. */
static int
build_integrity(const uint8_t *ef1, size_t len1, const uint8_t *ef2, size_t len2, EVP_PKEY *issuer,
                uint8_t *out, size_t *out_len)
{
	uint8_t tbs[64], sig[512];
	size_t sig_len = sizeof(sig), n = 4;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	SHA256(ef1, len1, tbs);
	SHA256(ef2 + 5 + 11, len2 - 5 - 11, tbs + 32);
	ok = md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, issuer) == 1 &&
	     EVP_DigestSign(md, sig, &sig_len, tbs, sizeof(tbs)) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return -1;
	n += put_tlv(out + n, 0xDF31, tbs, 32, 0);
	n += put_tlv(out + n, 0xDF32, tbs + 32, 32, 0);
	n += put_tlv(out + n, 0xDF33, sig, sig_len, 0);
	out[0] = 0xFF;
	out[1] = 0x30;
	out[2] = 0x81;
	if (n - 4 > 255) { /* 82 form */
		memmove(out + 5, out + 4, n - 4);
		out[2] = 0x82;
		out[3] = (uint8_t)((n - 4) >> 8);
		out[4] = (uint8_t)(n - 4);
		n++;
	} else {
		out[3] = (uint8_t)(n - 4);
	}
	*out_len = n;
	return 0;
}

static int
build_jpki(struct sim_card *c, const struct sim_card_spec *s)
{
	struct sim_app *app = &c->apps[c->n_apps++];
	uint8_t label[32] = {0};
	const char *text = s->type == SIM_JUKICARD ? "JPKIAPICCTOKEN" : "JPKIAPICCTOKEN2";

	memcpy(app->aid, aid_jpki, sizeof(aid_jpki));
	memcpy(label, text, strlen(text));
	if (add_data(app, 0x0006, label, sizeof(label), 0, -1) != 0 ||
	    add_data(app, 0x000A, s->auth_cert, s->auth_cert_len, CERT_FILLER, -1) != 0 ||
	    add_data(app, 0x000B, s->auth_ca, s->auth_ca_len, CERT_FILLER, -1) != 0 ||
	    add_data(app, 0x0001, s->sign_cert, s->sign_cert_len, CERT_FILLER, SIM_PIN_SIGN) != 0 ||
	    add_data(app, 0x0002, s->sign_ca, s->sign_ca_len, CERT_FILLER, -1) != 0)
		return -1;
	add_key(app, 0x0017, s->auth_key, SIM_PIN_AUTH);
	add_key(app, 0x001A, s->sign_key, SIM_PIN_SIGN);
	add_pin(c, app, 0x0018, SIM_PIN_AUTH, s->pins[SIM_PIN_AUTH], 3, s->tries[SIM_PIN_AUTH]);
	add_pin(c, app, 0x001B, SIM_PIN_SIGN, s->pins[SIM_PIN_SIGN], 5, s->tries[SIM_PIN_SIGN]);
	return 0;
}

static int
build_support(struct sim_card *c, const struct sim_card_spec *s, char *why, size_t why_len)
{
	struct sim_app *app = &c->apps[c->n_apps++];
	uint8_t ef1[17] = {0xFF, 0x10, 0x0C}, ef2[1300], ef3[600];
	size_t len2, len3;

	memcpy(app->aid, aid_support, sizeof(aid_support));
	memcpy(ef1 + 3, s->mynumber, 12);
	ef1[15] = ef1[16] = 0xFF;
	len2 = build_facts(s, ef2, &c->facts_name_off);
	if (s->issuer_key == NULL ||
	    build_integrity(ef1, sizeof(ef1), ef2, len2, s->issuer_key, ef3, &len3) != 0) {
		snprintf(why, why_len,
		         "cannot sign the integrity record (no [support] issuer_key?)");
		return -1;
	}
	if (add_data(app, 0x0001, ef1, sizeof(ef1), 0, SIM_PIN_SUPPORT) != 0 ||
	    add_data(app, 0x0002, ef2, len2, 0, SIM_PIN_SUPPORT) != 0 ||
	    add_data(app, 0x0003, ef3, len3, 0, SIM_PIN_SUPPORT) != 0)
		return -1;
	add_pin(c, app, 0x0011, SIM_PIN_SUPPORT, s->pins[SIM_PIN_SUPPORT], 3,
	        s->tries[SIM_PIN_SUPPORT]);
	return 0;
}

struct sim_card *
sim_card_new(const struct sim_card_spec *s, char *why, size_t why_len)
{
	struct sim_card *c = calloc(1, sizeof(*c));
	int rc = 0;

	snprintf(why, why_len, "out of memory");
	if (c == NULL)
		return NULL;
	memcpy(c->atr, s->atr, s->atr_len);
	c->atr_len = s->atr_len;
	c->cur_app = c->cur_ef = -1;
	if (s->type != SIM_BLANK)
		rc = build_jpki(c, s);
	if (rc == 0 && s->type == SIM_MYNUMBER)
		rc = build_support(c, s, why, why_len);
	if (rc != 0) {
		sim_card_free(c);
		return NULL;
	}
	return c;
}

void
sim_card_free(struct sim_card *c)
{
	if (c == NULL)
		return;
	for (int a = 0; a < c->n_apps; a++)
		for (int i = 0; i < c->apps[a].n_efs; i++) {
			free(c->apps[a].efs[i].data);
			EVP_PKEY_free(c->apps[a].efs[i].key);
		}
	OPENSSL_cleanse(c, sizeof(*c));
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
	OPENSSL_cleanse(s, sizeof(*s));
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

int
sim_card_tamper_facts(struct sim_card *c)
{
	struct sim_ef *ef = c->n_apps == 2 ? find_ef(c, 1, 0x0002) : NULL;

	if (ef == NULL || c->facts_name_off + 3 >= ef->len)
		return -1;
	ef->data[c->facts_name_off + 3] ^= 0x01; /* a continuation byte stays one */
	return 0;
}

/* ---------------------------------------------------------------- APDUs */

static void
sw(uint8_t *r, size_t *rlen, uint16_t code)
{
	r[*rlen] = (uint8_t)(code >> 8);
	r[*rlen + 1] = (uint8_t)code;
	*rlen += 2;
}

static struct sim_ef *
current_ef(struct sim_card *c)
{
	return c->cur_ef < 0 ? NULL : &c->apps[c->cur_app].efs[c->cur_ef];
}

static uint16_t
do_select(struct sim_card *c, const uint8_t *a, size_t n)
{
	if (a[2] != 0x04 && a[2] != 0x02)
		return 0x6A86;
	if (a[3] != 0x0C && a[3] != 0x00)
		return 0x6A86;
	if (n < 5 || n != 5u + a[4])
		return 0x6700;
	if (a[2] == 0x04) {
		for (int i = 0; i < c->n_apps; i++)
			if (a[4] == 10 && memcmp(a + 5, c->apps[i].aid, 10) == 0) {
				if (c->cur_app != i)
					sim_card_reset(
					    c); /* leaving a DF clears its security state */
				c->cur_app = i;
				c->cur_ef = -1;
				return 0x9000;
			}
		return 0x6A82;
	}
	if (a[4] != 2)
		return 0x6700;
	for (int i = 0; c->cur_app >= 0 && i < c->apps[c->cur_app].n_efs; i++)
		if (c->apps[c->cur_app].efs[i].fid == (uint16_t)(a[5] << 8 | a[6])) {
			c->cur_ef = i;
			return 0x9000;
		}
	return 0x6A82;
}

static uint16_t
do_read(struct sim_card *c, const uint8_t *a, size_t n, uint8_t *r, size_t *rlen)
{
	struct sim_ef *ef = current_ef(c);
	size_t off = (size_t)(a[2] << 8 | a[3]), le;

	if (a[2] & 0x80)
		return 0x6A86; /* short EF identifiers are not supported */
	if (n != 5)
		return 0x6700;
	if (ef == NULL)
		return 0x6986;
	if (ef->kind != EF_DATA)
		return 0x6981;
	if (ef->read_pin >= 0 && !c->pins[ef->read_pin].verified)
		return 0x6982;
	if (off >= ef->len)
		return 0x6B00;
	le = a[4] == 0 ? 256 : a[4];
	if (le > ef->len - off)
		le = ef->len - off;
	memcpy(r, ef->data + off, le);
	*rlen = le;
	return 0x9000;
}

static uint16_t
do_verify(struct sim_card *c, const uint8_t *a, size_t n)
{
	struct sim_ef *ef = current_ef(c);
	struct sim_pin *p;

	if (a[2] != 0x00 || a[3] != 0x80)
		return 0x6A86;
	if (ef == NULL || ef->kind != EF_PIN)
		return 0x6985;
	p = &c->pins[ef->pin];
	if (n > 4 && (n != 5u + a[4] || a[4] == 0))
		return 0x6700;
	if (p->tries == 0)
		return 0x6984;
	if (n == 4)
		return (uint16_t)(0x63C0 | p->tries);
	if (a[4] == p->len && CRYPTO_memcmp(a + 5, p->value, p->len) == 0) {
		p->tries = p->max;
		p->verified = 1;
		return 0x9000;
	}
	p->tries--;
	p->verified = 0;
	return (uint16_t)(0x63C0 | p->tries);
}

static uint16_t
do_change(struct sim_card *c, const uint8_t *a, size_t n)
{
	struct sim_ef *ef = current_ef(c);
	struct sim_pin *p;

	if (a[2] != 0x01 || a[3] != 0x80)
		return 0x6A86;
	if (n < 5 || n != 5u + a[4] || a[4] < 4 || a[4] > 16)
		return 0x6700;
	if (ef == NULL || ef->kind != EF_PIN)
		return 0x6985;
	p = &c->pins[ef->pin];
	if (!p->verified)
		return 0x6982;
	memset(p->value, 0, sizeof(p->value));
	memcpy(p->value, a + 5, a[4]);
	p->len = a[4];
	return 0x9000;
}

static uint16_t
do_sign(struct sim_card *c, const uint8_t *a, size_t n, uint8_t *r, size_t *rlen)
{
	struct sim_ef *ef = current_ef(c);
	EVP_PKEY_CTX *ctx;
	size_t sig_len = 256;
	int ok;

	if (a[2] != 0x00 || a[3] != 0x80)
		return 0x6A86;
	if (n < 6 || a[4] == 0 || (n != 5u + a[4] && n != 6u + a[4]))
		return 0x6700;
	if (ef == NULL || ef->kind != EF_KEY)
		return 0x6985;
	if (!c->pins[ef->pin].verified)
		return 0x6982;
	ctx = EVP_PKEY_CTX_new(ef->key, NULL);
	ok = ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
	     EVP_PKEY_sign(ctx, r, &sig_len, a + 5, a[4]) == 1;
	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		return 0x6A80; /* incorrect data: the DigestInfo does not fit the key */
	*rlen = sig_len;
	return 0x9000;
}

void
sim_card_apdu(struct sim_card *c, const uint8_t *a, size_t n, uint8_t *r, size_t *rlen,
              int *is_sign)
{
	uint16_t code;

	*rlen = 0;
	*is_sign = 0;
	if (n < 4)
		code = 0x6700;
	else if ((a[0] & 0x03) != 0)
		code = 0x6881;
	else if (a[0] != 0x00 && a[0] != 0x80)
		code = 0x6E00;
	else if (a[0] == 0x80)
		code = a[1] == 0x2A ? (*is_sign = 1, do_sign(c, a, n, r, rlen)) : 0x6D00;
	else if (a[1] == 0xA4)
		code = do_select(c, a, n);
	else if (a[1] == 0xB0)
		code = do_read(c, a, n, r, rlen);
	else if (a[1] == 0x20)
		code = do_verify(c, a, n);
	else if (a[1] == 0x24)
		code = do_change(c, a, n);
	else
		code = 0x6D00;
	if (code != 0x9000)
		*rlen = 0;
	sw(r, rlen, code);
}
