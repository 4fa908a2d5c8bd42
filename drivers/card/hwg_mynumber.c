/*
 * hwg_mynumber.c — APDUs to the My Number card's JPKI and input-support
 * applications (see hwg_mynumber.h and firmware-notes/mynumber-card.md).
 */
#include "hwg_mynumber.h"

#include <stdlib.h>
#include <string.h>

#include "hwg_ber.h"
#include "hwg_secret.h"

#define RAPDU_MAX (256 + 2)
#define SW_OK 0x9000

static const uint8_t aid_jpki[] = {0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01};
static const uint8_t aid_support[] = {0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08};

#define TOKEN_LABEL_LEN 32
#define LABEL_MYNUMBER "JPKIAPICCTOKEN2"
#define LABEL_JUKI "JPKIAPICCTOKEN"

struct pin_file {
	enum hwg_mn_app app;
	uint16_t fid;
	const char *name;
};

static const struct pin_file pin_files[] = {
    [HWG_MN_AUTH_PIN] = {HWG_MN_APP_JPKI, 0x0018, "authentication PIN"},
    [HWG_MN_SIGN_PASSWORD] = {HWG_MN_APP_JPKI, 0x001B, "signing password"},
    [HWG_MN_SUPPORT_PIN] = {HWG_MN_APP_SUPPORT, 0x0011, "card-info PIN"},
};

/*
 * What is known of the card in the reader, kept in its session memo
 * (hwg_card_memo) for as long as the same insertion lasts.  Zeros: nothing.
 * Only what the card itself said is written here.
 */
enum memo_kind { KIND_UNKNOWN, KIND_MYNUMBER, KIND_JUKI, KIND_OTHER };
enum memo_pin { PIN_UNKNOWN, PIN_OPEN, PIN_LOCKED };

struct memo {
	uint8_t kind;   /* enum memo_kind: the token label's verdict */
	uint8_t pin[3]; /* enum memo_pin, by enum hwg_mn_pin */
};

_Static_assert(sizeof(struct memo) <= HWG_CARD_MEMO_MAX, "the memo fits hwg_card_memo");

static struct memo *
memo_of(struct hwg_card *card)
{
	return (struct memo *)(void *)hwg_card_memo(card);
}

static void
memo_pin(struct hwg_card *card, enum hwg_mn_pin pin, int tries)
{
	memo_of(card)->pin[pin] = tries < 0 ? PIN_UNKNOWN : tries == 0 ? PIN_LOCKED : PIN_OPEN;
}

/* ---------------------------------------------------------------- APDU */

struct rapdu {
	uint8_t buf[RAPDU_MAX];
	size_t len; /* data length, SW excluded */
	uint16_t sw;
};

static int
transmit(struct hwg_card *card, const uint8_t *capdu, size_t clen, struct rapdu *r,
         struct hwg_error *err)
{
	size_t len = sizeof(r->buf);
	int rc;

	if ((rc = hwg_card_transmit(card, capdu, clen, r->buf, &len, err)) != 0)
		return rc;
	r->len = len - 2;
	r->sw = (uint16_t)(r->buf[len - 2] << 8 | r->buf[len - 1]);
	return 0;
}

static int
sw_error(uint16_t sw, const char *what, struct hwg_error *err)
{
	return hwg_error_set(err, HWG_E_CARD_ERROR, "%s: card answered status %04X", what, sw);
}

int
hwg_mn_select_app(struct hwg_card *card, enum hwg_mn_app app, struct hwg_error *err)
{
	uint8_t apdu[5 + 10] = {0x00, 0xA4, 0x04, 0x0C, 0x0A};
	int *selected = hwg_card_selection(card);
	struct rapdu r;
	int rc;

	if (*selected == (int)app + 1)
		return 0; /* selected earlier in this session */
	*selected = 0;
	memcpy(apdu + 5, app == HWG_MN_APP_JPKI ? aid_jpki : aid_support, 10);
	if ((rc = transmit(card, apdu, sizeof(apdu), &r, err)) != 0)
		return rc;
	if (r.sw == SW_OK)
		*selected = (int)app + 1;
	if (r.sw == 0x6A82)
		return hwg_error_set(err, HWG_E_CARD_UNSUPPORTED, "the card has no %s application",
		                     app == HWG_MN_APP_JPKI ? "JPKI" : "card-info input-support");
	return r.sw == SW_OK ? 0 : sw_error(r.sw, "select application", err);
}

int
hwg_mn_select_ef(struct hwg_card *card, uint16_t fid, struct hwg_error *err)
{
	uint8_t apdu[7] = {0x00, 0xA4, 0x02, 0x0C, 0x02, (uint8_t)(fid >> 8), (uint8_t)fid};
	struct rapdu r;
	int rc;

	if ((rc = transmit(card, apdu, sizeof(apdu), &r, err)) != 0)
		return rc;
	if (r.sw == 0x6A82)
		return hwg_error_set(err, HWG_E_CARD_UNSUPPORTED, "the card has no file %04X", fid);
	return r.sw == SW_OK ? 0 : sw_error(r.sw, "select file", err);
}

/*
 * READ BINARY of up to want bytes (1..256) at off into out.  A card that
 * says 6Cxx (wrong Le) is asked again with its length; 6282 (end of file
 * reached) still carries data.
 */
static int
read_binary(struct hwg_card *card, size_t off, size_t want, uint8_t *out, size_t *got,
            struct hwg_error *err)
{
	uint8_t apdu[5] = {0x00, 0xB0, (uint8_t)(off >> 8), (uint8_t)off, (uint8_t)want};
	struct rapdu r;
	int rc;

	if (off > 0x7FFF)
		return hwg_error_set(err, HWG_E_CARD_ERROR, "file offset %zu beyond READ BINARY",
		                     off);
	if ((rc = transmit(card, apdu, sizeof(apdu), &r, err)) != 0)
		return rc;
	if ((r.sw >> 8) == 0x6C && (r.sw & 0xFF) != 0) {
		apdu[4] = (uint8_t)r.sw;
		if ((rc = transmit(card, apdu, sizeof(apdu), &r, err)) != 0)
			return rc;
	}
	if (r.sw == 0x6982)
		return hwg_error_set(err, HWG_E_CARD_ERROR,
		                     "card refused the read: security status not satisfied");
	if (r.sw != SW_OK && r.sw != 0x6282)
		return sw_error(r.sw, "read binary", err);
	if (r.len > want || r.len == 0)
		return hwg_error_set(err, HWG_E_CARD_ERROR,
		                     "card returned %zu bytes to a read of %zu", r.len, want);
	memcpy(out, r.buf, r.len);
	*got = r.len;
	return 0;
}

/* How long the TLV at the start of a file is, from its first bytes. */
static int
tlv_file_length(const uint8_t *head, size_t head_len, size_t *total, struct hwg_error *err)
{
	struct hwg_ber_tlv t;
	int rc;

	if ((rc = hwg_ber_header(head, head_len, &t, err)) != 0)
		return hwg_error_set(err, HWG_E_CARD_ERROR,
		                     "card file does not start with a TLV: %s", err->message);
	if (t.len > HWG_MN_MAX_EF - t.header_len)
		return hwg_error_set(err, HWG_E_CARD_ERROR, "card file claims %zu bytes", t.len);
	*total = t.header_len + t.len;
	return 0;
}

int
hwg_mn_read_tlv_file(struct hwg_card *card, uint16_t fid, uint8_t **out, size_t *len,
                     struct hwg_error *err)
{
	uint8_t *buf;
	size_t have = 0, total = 0, got = 0;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = hwg_mn_select_ef(card, fid, err)) != 0)
		return rc;
	if ((buf = malloc(HWG_MN_MAX_EF)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	rc = read_binary(card, 0, 256, buf, &have, err);
	if (rc == 0)
		rc = tlv_file_length(buf, have, &total, err);
	while (rc == 0 && have < total) {
		size_t want = total - have > 256 ? 256 : total - have;

		if ((rc = read_binary(card, have, want, buf + have, &got, err)) == 0)
			have += got;
	}
	if (rc != 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = total;
	return 0;
}

int
hwg_mn_read_file(struct hwg_card *card, uint16_t fid, uint8_t *out, size_t len,
                 struct hwg_error *err)
{
	size_t have = 0, got = 0;
	int rc;

	if ((rc = hwg_mn_select_ef(card, fid, err)) != 0)
		return rc;
	while (have < len) {
		size_t want = len - have > 256 ? 256 : len - have;

		if ((rc = read_binary(card, have, want, out + have, &got, err)) != 0)
			return rc;
		have += got;
		if (got < want && have < len)
			return hwg_error_set(err, HWG_E_CARD_ERROR,
			                     "card file %04X is shorter than %zu bytes", fid, len);
	}
	return 0;
}

/* ---------------------------------------------------------------- identity */

int
hwg_mn_identify(struct hwg_card *card, struct hwg_error *err)
{
	struct memo *m = memo_of(card);
	uint8_t label[256];
	size_t got, n;
	int rc;

	if (m->kind == KIND_UNKNOWN) {
		rc = hwg_mn_select_app(card, HWG_MN_APP_JPKI, err);
		if (rc == HWG_E_CARD_UNSUPPORTED)
			m->kind = KIND_OTHER; /* no JPKI application */
		if (rc != 0)
			return rc;
		if ((rc = hwg_mn_select_ef(card, HWG_MN_EF_TOKEN, err)) != 0 ||
		    (rc = read_binary(card, 0, TOKEN_LABEL_LEN, label, &got, err)) != 0)
			return rc;
		for (n = 0; n < got && label[n] > 0x20 && label[n] < 0x7F; n++)
			;
		m->kind = n == strlen(LABEL_MYNUMBER) && memcmp(label, LABEL_MYNUMBER, n) == 0
		              ? KIND_MYNUMBER
		          : n == strlen(LABEL_JUKI) && memcmp(label, LABEL_JUKI, n) == 0
		              ? KIND_JUKI
		              : KIND_OTHER;
	}
	if (m->kind == KIND_MYNUMBER)
		return 0;
	if (m->kind == KIND_JUKI)
		return hwg_error_set(
		    err, HWG_E_CARD_RETIRED,
		    "this is a 住基カード (Basic Resident Register card): the card "
		    "type is retired and no longer accepted");
	return hwg_error_set(err, HWG_E_CARD_UNSUPPORTED,
	                     "the card's JPKI token label is not a My Number card's");
}

/* ---------------------------------------------------------------- PINs */

static int
select_pin(struct hwg_card *card, enum hwg_mn_pin pin, struct hwg_error *err)
{
	int rc;

	if ((rc = hwg_mn_select_app(card, pin_files[pin].app, err)) != 0)
		return rc;
	return hwg_mn_select_ef(card, pin_files[pin].fid, err);
}

int
hwg_mn_tries(struct hwg_card *card, enum hwg_mn_pin pin, int *tries, struct hwg_error *err)
{
	static const uint8_t apdu[4] = {0x00, 0x20, 0x00, 0x80};
	struct rapdu r;
	int rc;

	*tries = -1;
	memo_pin(card, pin, -1);
	if ((rc = select_pin(card, pin, err)) != 0)
		return rc;
	if ((rc = transmit(card, apdu, sizeof(apdu), &r, err)) != 0)
		return rc;
	if ((r.sw & 0xFFF0) == 0x63C0)
		*tries = r.sw & 0x0F;
	else if (r.sw == 0x6984 || r.sw == 0x6983)
		*tries = 0;
	else if (r.sw != SW_OK)
		return sw_error(r.sw, "PIN tries", err);
	if (r.sw != SW_OK)
		memo_pin(card, pin, *tries);
	return 0;
}

/* What the card said to a VERIFY with the PIN, kept for the next operation. */
static int
verify_answer(struct hwg_card *card, enum hwg_mn_pin pin, uint16_t sw, int *tries_left,
              struct hwg_error *err)
{
	if (sw == SW_OK) {
		memo_pin(card, pin, 1); /* a right PIN restores the tries */
		return 0;
	}
	if ((sw & 0xFFF0) == 0x63C0) {
		*tries_left = sw & 0x0F;
		memo_pin(card, pin, *tries_left);
		if (*tries_left == 0)
			return hwg_error_set(err, HWG_E_PIN_LOCKED,
			                     "wrong %s; that was the last try and it is now locked",
			                     pin_files[pin].name);
		return hwg_error_set(err, HWG_E_PIN_WRONG, "wrong %s; %d tries left",
		                     pin_files[pin].name, *tries_left);
	}
	if (sw == 0x6984 || sw == 0x6983) {
		*tries_left = 0;
		memo_pin(card, pin, 0);
		return hwg_error_set(err, HWG_E_PIN_LOCKED, "the %s is locked",
		                     pin_files[pin].name);
	}
	return sw_error(sw, "verify", err);
}

int
hwg_mn_verify(struct hwg_card *card, enum hwg_mn_pin pin, const char *secret, size_t len,
              int *tries_left, struct hwg_error *err)
{
	uint8_t apdu[5 + 16] = {0x00, 0x20, 0x00, 0x80, (uint8_t)len};
	struct rapdu r;
	int tries, rc;

	*tries_left = -1;
	if (len == 0 || len > 16)
		return hwg_error_set(err, HWG_E_PIN_FORMAT, "%s of %zu characters",
		                     pin_files[pin].name, len);
	/*
	 * The tries are asked for unless this card said, since it was
	 * inserted, that the PIN is not locked; a locked one is asked about
	 * again (it may have been reset at a counter), never tried.
	 */
	tries = 1;
	if (memo_of(card)->pin[pin] == PIN_OPEN)
		rc = select_pin(card, pin, err);
	else
		rc = hwg_mn_tries(card, pin, &tries, err);
	if (rc != 0)
		return rc;
	if (tries == 0) {
		*tries_left = 0;
		return hwg_error_set(
		    err, HWG_E_PIN_LOCKED,
		    "the %s is locked; it was not tried. The resident must have it "
		    "reset at the counter",
		    pin_files[pin].name);
	}
	memcpy(apdu + 5, secret, len);
	memo_pin(card, pin, -1); /* until the card answers */
	rc = transmit(card, apdu, 5 + len, &r, err);
	hwg_wipe(apdu, sizeof(apdu));
	return rc != 0 ? rc : verify_answer(card, pin, r.sw, tries_left, err);
}

int
hwg_mn_pin_format(enum hwg_mn_pin pin, const char *secret, size_t len, struct hwg_error *err)
{
	size_t min = pin == HWG_MN_SIGN_PASSWORD ? 6 : 4,
	       max = pin == HWG_MN_SIGN_PASSWORD ? 16 : 4;

	if ((len < min || len > max) && min == max)
		return hwg_error_set(err, HWG_E_PIN_FORMAT, "the %s must have %zu digits",
		                     pin_files[pin].name, min);
	if (len < min || len > max)
		return hwg_error_set(err, HWG_E_PIN_FORMAT,
		                     "the %s must have %zu to %zu characters", pin_files[pin].name,
		                     min, max);
	for (size_t i = 0; i < len; i++) {
		char ch = secret[i];
		int digit = ch >= '0' && ch <= '9';
		int alpha = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');

		if (!digit && !(alpha && pin == HWG_MN_SIGN_PASSWORD))
			return hwg_error_set(err, HWG_E_PIN_FORMAT, "the %s may only contain %s",
			                     pin_files[pin].name,
			                     pin == HWG_MN_SIGN_PASSWORD ? "letters A-Z and digits"
			                                                 : "digits");
	}
	return 0;
}

void
hwg_mn_password_upcase(char *secret, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (secret[i] >= 'a' && secret[i] <= 'z')
			secret[i] = (char)(secret[i] - 'a' + 'A');
}

/* ---------------------------------------------------------------- signing */

void
hwg_mn_digest_info_sha256(const uint8_t hash[32], uint8_t out[HWG_MN_DIGEST_INFO_LEN])
{
	static const uint8_t prefix[19] = {0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60,
	                                   0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	                                   0x01, 0x05, 0x00, 0x04, 0x20};

	memcpy(out, prefix, sizeof(prefix));
	memcpy(out + sizeof(prefix), hash, 32);
}

int
hwg_mn_sign(struct hwg_card *card, uint16_t key_fid, const uint8_t *digest_info, size_t len,
            uint8_t sig[HWG_MN_SIG_LEN], struct hwg_error *err)
{
	uint8_t apdu[5 + 255 + 1] = {0x80, 0x2A, 0x00, 0x80, (uint8_t)len};
	struct rapdu r;
	int rc;

	if (len == 0 || len > 255 - 11)
		return hwg_error_set(err, HWG_E_INVALID, "DigestInfo of %zu bytes", len);
	if ((rc = hwg_mn_select_ef(card, key_fid, err)) != 0)
		return rc;
	memcpy(apdu + 5, digest_info, len);
	apdu[5 + len] = 0x00;
	if ((rc = transmit(card, apdu, 5 + len + 1, &r, err)) != 0)
		return rc;
	if (r.sw == 0x6982)
		return hwg_error_set(err, HWG_E_CARD_ERROR,
		                     "card refused to sign: PIN not verified in this session");
	if (r.sw != SW_OK)
		return sw_error(r.sw, "sign", err);
	if (r.len != HWG_MN_SIG_LEN)
		return hwg_error_set(err, HWG_E_CARD_ERROR, "card returned a %zu-byte signature",
		                     r.len);
	memcpy(sig, r.buf, HWG_MN_SIG_LEN);
	return 0;
}
