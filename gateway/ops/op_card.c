/*
 * op_card.c — the My Number card operations: card.status, card.read_info,
 * card.authenticate and card.sign.
 *
 * Each runs inside one card session (one PC/SC transaction) and in the
 * order that spends the resident's PIN tries last: argument rules, card
 * type, certificate checks, then the PIN.  PINs are copied once, into a
 * locked buffer wiped on every path; they appear in no message, log or
 * audit record.  The audit subject is a keyed hash of the My Number or the
 * certificate serial, never personal data.
 */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_card_service.h"
#include "hwg_cbor.h"
#include "hwg_clients.h"
#include "hwg_mn_info.h"
#include "hwg_mynumber.h"
#include "hwg_ops.h"
#include "hwg_schema.h"
#include "hwg_secret.h"
#include "hwg_store.h"
#include "hwg_time.h"
#include "hwg_x509.h"

#define SECRET_MAX 64
#define CHALLENGE_LEN 32

static int
nomem(struct hwg_error *err)
{
	return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
}

/* Copy a secret argument into a locked buffer; the caller frees it. */
static int
secret_arg(const struct hwg_op_ctx *ctx, const char *key, struct hwg_secret **out,
           struct hwg_error *err)
{
	struct hwg_secret *s = hwg_secret_new(SECRET_MAX);

	if ((*out = s) == NULL)
		return nomem(err);
	if (!hwg_args_text(ctx->req->args, key, s->data, s->cap + 1))
		return hwg_error_set(err, HWG_E_BAD_ARGS, "\"%s\" is missing", key);
	s->len = strlen(s->data);
	return 0;
}

/* Begin a card session on the reader named in the arguments. */
static int
card_begin(struct hwg_op_ctx *ctx, struct hwg_card **card, struct hwg_error *err)
{
	struct hwg_pcsc *pcsc = hwg_card_service_pcsc(ctx->cards);
	char reader[HWG_READER_NAME_MAX];

	*card = NULL;
	if (pcsc == NULL)
		return hwg_error_set(
		    err, HWG_E_UNAVAILABLE,
		    "card readers are disabled in this gateway ([card] enabled = no)");
	hwg_args_text(ctx->req->args, "reader", reader, sizeof(reader));
	return hwg_card_begin(pcsc, reader, ctx->cfg->card_timeout_ms, card, err);
}

/* Verify a PIN, recording the tries left for the error reply. */
static int
verify_pin(struct hwg_op_ctx *ctx, struct hwg_card *card, enum hwg_mn_pin pin,
           const struct hwg_secret *secret, struct hwg_error *err)
{
	int tries = -1, rc;

	rc = hwg_mn_verify(card, pin, secret->data, secret->len, &tries, err);
	if (rc == HWG_E_PIN_WRONG || rc == HWG_E_PIN_LOCKED)
		ctx->tries_left = tries < 0 ? 0 : tries;
	return rc;
}

/* Have the card sign SHA-256 digest with key_fid and check it against the certificate. */
static int
card_sign_checked(struct hwg_card *card, uint16_t key_fid, const uint8_t digest[32],
                  const uint8_t *cert, size_t cert_len, uint8_t sig[HWG_MN_SIG_LEN],
                  struct hwg_error *err)
{
	uint8_t di[HWG_MN_DIGEST_INFO_LEN];
	EVP_PKEY *pub = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	int rc, ok;

	hwg_mn_digest_info_sha256(digest, di);
	if ((rc = hwg_mn_sign(card, key_fid, di, sizeof(di), sig, err)) != 0)
		return rc;
	if ((rc = hwg_x509_pubkey(cert, cert_len, &pub, err)) != 0)
		return rc;
	pctx = EVP_PKEY_CTX_new(pub, NULL);
	ok = pctx != NULL && EVP_PKEY_verify_init(pctx) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
	     EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) == 1 &&
	     EVP_PKEY_verify(pctx, sig, HWG_MN_SIG_LEN, digest, 32) == 1;
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(pub);
	if (!ok)
		return hwg_error_set(err, HWG_E_CARD_SIGNATURE,
		                     "the card's signature does not verify with its certificate");
	return 0;
}

/* ---------------------------------------------------------------- card.status */

/* The tries of each PIN, read from the card (each read spends nothing). */
static cbor_item_t *
tries_map(struct hwg_card *card, struct hwg_error *err)
{
	static const struct {
		enum hwg_mn_pin pin;
		const char *key;
	} pins[] = {{HWG_MN_AUTH_PIN, "auth"},
	            {HWG_MN_SUPPORT_PIN, "support"},
	            {HWG_MN_SIGN_PASSWORD, "sign"}};
	/* asked by application (JPKI, then input support): one SELECT each */
	static const size_t order[] = {0, 2, 1};
	cbor_item_t *m = cbor_new_definite_map(3);
	int tries[3], rc = m == NULL ? nomem(err) : 0;

	for (size_t i = 0; rc == 0 && i < 3; i++)
		rc = hwg_mn_tries(card, pins[order[i]].pin, &tries[order[i]], err);
	for (size_t i = 0; rc == 0 && i < 3; i++)
		if (tries[i] >= 0 && hwg_cbor_map_put_uint(m, pins[i].key, (uint64_t)tries[i]) != 0)
			rc = nomem(err);
	if (rc != 0 && m != NULL)
		cbor_decref(&m);
	return rc == 0 ? m : NULL;
}

static int
status_present(struct hwg_card *card, cbor_item_t *m, struct hwg_error *err)
{
	size_t atr_len;
	const uint8_t *atr = hwg_card_atr(card, &atr_len);
	cbor_item_t *tries = NULL;
	int rc = hwg_mn_identify(card, err);
	const char *type = rc == 0                        ? "mynumber"
	                   : rc == HWG_E_CARD_RETIRED     ? "jukicard"
	                   : rc == HWG_E_CARD_UNSUPPORTED ? "unknown"
	                                                  : NULL;

	if (type == NULL)
		return rc;
	if (rc == 0 && (tries = tries_map(card, err)) == NULL)
		return err->code;
	if (hwg_cbor_map_put_bool(m, "present", 1) != 0 ||
	    hwg_cbor_map_put_bytes(m, "atr", atr, atr_len) != 0 ||
	    hwg_cbor_map_put_text(m, "type", type) != 0 ||
	    (tries != NULL && hwg_cbor_map_put_item(m, "tries", tries) != 0))
		return nomem(err);
	return 0;
}

int
hwg_op_card_status(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	struct hwg_card *card = NULL;
	char reader[HWG_READER_NAME_MAX];
	cbor_item_t *m;
	int rc;

	hwg_args_text(ctx->req->args, "reader", reader, sizeof(reader));
	if ((m = cbor_new_definite_map(5)) == NULL ||
	    hwg_cbor_map_put_text(m, "reader", reader) != 0) {
		if (m != NULL)
			cbor_decref(&m);
		return nomem(err);
	}
	rc = card_begin(ctx, &card, err);
	if (rc == HWG_E_NO_CARD) {
		hwg_error_clear(err);
		rc = hwg_cbor_map_put_bool(m, "present", 0) != 0 ? nomem(err) : 0;
	} else if (rc == 0) {
		rc = status_present(card, m, err);
	}
	hwg_card_end(card);
	if (rc != 0) {
		cbor_decref(&m);
		return rc;
	}
	*result = m;
	return 0;
}

/* ---------------------------------------------------------------- card.read_info */

struct support_files {
	uint8_t ef1[HWG_MN_EF_MYNUMBER_LEN];
	uint8_t *ef2, *ef3;
	size_t len2, len3;
};

static void
support_files_clear(struct support_files *f)
{
	hwg_wipe(f->ef1, sizeof(f->ef1));
	if (f->ef2 != NULL)
		hwg_wipe(f->ef2, f->len2);
	free(f->ef2);
	free(f->ef3);
	memset(f, 0, sizeof(*f));
}

/* The three input-support files, read after the PIN was verified. */
static int
read_support_files(struct hwg_card *card, struct support_files *f, struct hwg_error *err)
{
	int rc;

	if ((rc = hwg_mn_read_file(card, HWG_MN_EF_MYNUMBER, f->ef1, sizeof(f->ef1), err)) != 0 ||
	    (rc = hwg_mn_read_tlv_file(card, HWG_MN_EF_FACTS, &f->ef2, &f->len2, err)) != 0 ||
	    (rc = hwg_mn_read_tlv_file(card, HWG_MN_EF_INTEGRITY, &f->ef3, &f->len3, err)) != 0)
		return rc;
	return 0;
}

static int
info_result(struct hwg_op_ctx *ctx, const struct hwg_mn_facts *facts, const char *mynumber,
            cbor_item_t **result, struct hwg_error *err)
{
	const struct hwg_config *cfg = ctx->cfg;
	int show = (cfg->card_mynumber_roles & HWG_ROLE_BIT(ctx->client->role)) != 0;
	cbor_item_t *m = cbor_new_definite_map(6);

	if (m == NULL)
		return nomem(err);
	if (hwg_cbor_map_put_text(m, "name", facts->name) != 0 ||
	    hwg_cbor_map_put_text(m, "address", facts->address) != 0 ||
	    hwg_cbor_map_put_text(m, "birth", facts->birth) != 0 ||
	    hwg_cbor_map_put_text(m, "sex", facts->sex) != 0 ||
	    (show ? hwg_cbor_map_put_text(m, "mynumber", mynumber)
	          : hwg_cbor_map_put_bool(m, "mynumber_masked", 1)) != 0 ||
	    hwg_cbor_map_put_text(m, "integrity", "verified") != 0) {
		cbor_decref(&m);
		return nomem(err);
	}
	*result = m;
	return 0;
}

/* Parse and check what was read; the subject is set as soon as the number is known. */
static int
info_from_files(struct hwg_op_ctx *ctx, struct support_files *f, cbor_item_t **result,
                struct hwg_error *err)
{
	struct hwg_card_service *cards = ctx->cards;
	struct hwg_mn_facts facts;
	char mynumber[13];
	int rc;

	if ((rc = hwg_mn_parse_mynumber(f->ef1, sizeof(f->ef1), mynumber, err)) != 0)
		return rc;
	rc = hwg_card_service_mynumber_subject(cards, mynumber, ctx->subject, err);
	if (rc == 0)
		rc = hwg_mn_check_integrity(f->ef1, sizeof(f->ef1), f->ef2, f->len2, f->ef3,
		                            f->len3, hwg_card_service_integrity_key(cards), err);
	if (rc == 0)
		rc = hwg_mn_parse_facts(f->ef2, f->len2, &facts, err);
	if (rc == 0)
		rc = info_result(ctx, &facts, mynumber, result, err);
	hwg_wipe(&facts, sizeof(facts));
	hwg_wipe(mynumber, sizeof(mynumber));
	return rc;
}

int
hwg_op_card_read_info(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	struct support_files files;
	struct hwg_secret *pin = NULL;
	struct hwg_card *card = NULL;
	int rc;

	memset(&files, 0, sizeof(files));
	if (hwg_card_service_integrity_key(ctx->cards) == NULL)
		return hwg_error_set(err, HWG_E_UNAVAILABLE,
		                     "card.read_info needs the issuer key of the integrity record "
		                     "([card] integrity_key)");
	if ((rc = secret_arg(ctx, "pin", &pin, err)) == 0 &&
	    (rc = hwg_mn_pin_format(HWG_MN_SUPPORT_PIN, pin->data, pin->len, err)) == 0 &&
	    (rc = card_begin(ctx, &card, err)) == 0 && (rc = hwg_mn_identify(card, err)) == 0 &&
	    (rc = verify_pin(ctx, card, HWG_MN_SUPPORT_PIN, pin, err)) == 0)
		rc = read_support_files(card, &files, err);
	hwg_card_end(card);
	hwg_secret_free(pin);
	if (rc == 0)
		rc = info_from_files(ctx, &files, result, err);
	support_files_clear(&files);
	return rc;
}

/* ---------------------------------------------------------------- card.authenticate */

static void
set_cert_subject(struct hwg_op_ctx *ctx, const char *prefix, const struct hwg_cert_report *rep)
{
	if (rep->serial[0] != '\0')
		snprintf(ctx->subject, sizeof(ctx->subject), "%s:%s", prefix, rep->serial);
}

static int
auth_result(const struct hwg_cert_report *rep, const uint8_t *cert, size_t cert_len,
            const uint8_t *challenge, const uint8_t *sig, cbor_item_t **result,
            struct hwg_error *err)
{
	cbor_item_t *m = cbor_new_definite_map(10);

	if (m == NULL)
		return nomem(err);
	if (hwg_cbor_map_put_text(m, "serial", rep->serial) != 0 ||
	    hwg_cbor_map_put_text(m, "subject", rep->subject) != 0 ||
	    hwg_cbor_map_put_text(m, "issuer", rep->issuer) != 0 ||
	    hwg_cbor_map_put_text(m, "issuer_root", rep->issuer_root) != 0 ||
	    hwg_cbor_map_put_uint(m, "not_before", (uint64_t)rep->not_before) != 0 ||
	    hwg_cbor_map_put_uint(m, "not_after", (uint64_t)rep->not_after) != 0 ||
	    hwg_cbor_map_put_text(m, "revocation", rep->revocation) != 0 ||
	    hwg_cbor_map_put_bytes(m, "certificate", cert, cert_len) != 0 ||
	    hwg_cbor_map_put_bytes(m, "challenge", challenge, CHALLENGE_LEN) != 0 ||
	    hwg_cbor_map_put_bytes(m, "signature", sig, HWG_MN_SIG_LEN) != 0) {
		cbor_decref(&m);
		return nomem(err);
	}
	*result = m;
	return 0;
}

/* Certificate first (costs the resident nothing), then the PIN, then the card's signature. */
static int
authenticate_on_card(struct hwg_op_ctx *ctx, struct hwg_card *card, const struct hwg_secret *pin,
                     cbor_item_t **result, struct hwg_error *err)
{
	const struct hwg_x509_trust *trust = hwg_card_service_trust(ctx->cards);
	struct hwg_cert_report rep;
	uint8_t challenge[CHALLENGE_LEN], digest[SHA256_DIGEST_LENGTH], sig[HWG_MN_SIG_LEN];
	uint8_t *cert = NULL;
	size_t cert_len = 0;
	int rc;

	memset(&rep, 0, sizeof(rep));
	if ((rc = hwg_mn_select_app(card, HWG_MN_APP_JPKI, err)) != 0 ||
	    (rc = hwg_mn_read_tlv_file(card, HWG_MN_EF_AUTH_CERT, &cert, &cert_len, err)) != 0)
		return rc;
	rc = hwg_x509_check(trust, cert, cert_len, hwg_now_ms() / 1000, &rep, err);
	set_cert_subject(ctx, "jpki-auth", &rep);
	if (rc == 0 && RAND_bytes(challenge, sizeof(challenge)) != 1)
		rc = hwg_error_set(err, HWG_E_INTERNAL, "no randomness for the challenge");
	if (rc == 0)
		rc = verify_pin(ctx, card, HWG_MN_AUTH_PIN, pin, err);
	if (rc == 0) {
		SHA256(challenge, sizeof(challenge), digest);
		rc = card_sign_checked(card, HWG_MN_EF_AUTH_KEY, digest, cert, cert_len, sig, err);
	}
	if (rc == 0)
		rc = auth_result(&rep, cert, cert_len, challenge, sig, result, err);
	free(cert);
	return rc;
}

int
hwg_op_card_authenticate(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	struct hwg_secret *pin = NULL;
	struct hwg_card *card = NULL;
	int rc;

	if (hwg_card_service_trust(ctx->cards) == NULL)
		return hwg_error_set(err, HWG_E_UNAVAILABLE,
		                     "card.authenticate needs the JPKI roots and CRLs "
		                     "([card] roots and crls)");
	if ((rc = secret_arg(ctx, "pin", &pin, err)) == 0 &&
	    (rc = hwg_mn_pin_format(HWG_MN_AUTH_PIN, pin->data, pin->len, err)) == 0 &&
	    (rc = card_begin(ctx, &card, err)) == 0 && (rc = hwg_mn_identify(card, err)) == 0)
		rc = authenticate_on_card(ctx, card, pin, result, err);
	hwg_card_end(card);
	hwg_secret_free(pin);
	return rc;
}

/* ---------------------------------------------------------------- card.sign */

static int
sign_on_card(struct hwg_op_ctx *ctx, struct hwg_card *card, const struct hwg_secret *password,
             const uint8_t *digest, cbor_item_t **result, struct hwg_error *err)
{
	struct hwg_cert_report rep;
	uint8_t sig[HWG_MN_SIG_LEN];
	uint8_t *cert = NULL;
	size_t cert_len = 0;
	cbor_item_t *m = NULL;
	int rc;

	memset(&rep, 0, sizeof(rep));
	if ((rc = verify_pin(ctx, card, HWG_MN_SIGN_PASSWORD, password, err)) != 0 ||
	    (rc = hwg_mn_read_tlv_file(card, HWG_MN_EF_SIGN_CERT, &cert, &cert_len, err)) != 0)
		return rc;
	if ((rc = hwg_x509_describe(cert, cert_len, &rep, err)) == 0) {
		set_cert_subject(ctx, "jpki-sign", &rep);
		rc = card_sign_checked(card, HWG_MN_EF_SIGN_KEY, digest, cert, cert_len, sig, err);
	}
	if (rc == 0 && ((m = cbor_new_definite_map(3)) == NULL ||
	                hwg_cbor_map_put_bytes(m, "signature", sig, sizeof(sig)) != 0 ||
	                hwg_cbor_map_put_bytes(m, "certificate", cert, cert_len) != 0 ||
	                hwg_cbor_map_put_text(m, "serial", rep.serial) != 0)) {
		if (m != NULL)
			cbor_decref(&m);
		rc = nomem(err);
	}
	if (rc == 0)
		*result = m;
	if (cert != NULL)
		hwg_wipe(cert, cert_len); /* the signing certificate carries the four facts */
	free(cert);
	return rc;
}

int
hwg_op_card_sign(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	struct hwg_secret *password = NULL;
	struct hwg_card *card = NULL;
	const uint8_t *digest;
	size_t digest_len;
	int rc;

	hwg_cbor_bytes(hwg_cbor_map_get(ctx->req->args, "digest", NULL), &digest, &digest_len);
	if ((rc = secret_arg(ctx, "password", &password, err)) == 0 &&
	    (rc = hwg_mn_pin_format(HWG_MN_SIGN_PASSWORD, password->data, password->len, err)) ==
	        0) {
		hwg_mn_password_upcase(password->data, password->len);
		if ((rc = card_begin(ctx, &card, err)) == 0 &&
		    (rc = hwg_mn_identify(card, err)) == 0)
			rc = sign_on_card(ctx, card, password, digest, result, err);
	}
	hwg_card_end(card);
	hwg_secret_free(password);
	return rc;
}
