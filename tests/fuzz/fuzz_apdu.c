/*
 * fuzz_apdu.c — libFuzzer target for the My Number card's answers as the
 * gateway reads them (drivers/card/hwg_mynumber.c: status words, READ
 * BINARY with its 6Cxx retry and 6282, the TLV file length across reads,
 * PIN tries and verification, the signature).  The card is hostile: it
 * answers whatever the input says (fuzz_apdu.h gives the layout), so
 * every interpretation of an R-APDU meets every status word and length.
 * Beyond not crashing, the driver must keep its promises: never send a
 * PIN unless the card just said tries are left, never read outside a
 * file's offsets, return a TLV file of exactly its TLV's length, tries
 * within 0..15, a signature that is the card's 256 bytes, and a message
 * with every refusal.
 */
#include "fuzz_apdu.h"

#include <stdlib.h>
#include <string.h>

#include "hwg_ber.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const uint16_t fuzz_apdu_tlv_fids[6] = {HWG_MN_EF_AUTH_CERT, HWG_MN_EF_AUTH_CA,
                                        HWG_MN_EF_SIGN_CERT, HWG_MN_EF_FACTS,
                                        HWG_MN_EF_INTEGRITY, HWG_MN_EF_TOKEN};
const char *const fuzz_apdu_secrets[3] = {"1234", "ABC123", "1234"};

/* What hwg_mynumber.c sends: only the commands it is allowed to. */
static void
check_command(struct hwg_card *c, const uint8_t *capdu, size_t clen)
{
	if (clen < 4)
		abort();
	if (capdu[1] == 0x20 && clen > 4) {
		/* a PIN: only right after the card said tries are left */
		if (!c->pin_allowed || clen != 5u + capdu[4] || capdu[4] == 0 || capdu[4] > 16)
			abort();
	} else if (capdu[1] == 0xB0) {
		if (clen != 5 || (capdu[2] & 0x80) != 0)
			abort();
	} else if (capdu[0] == 0x80 && capdu[1] == 0x2A) {
		if (clen < 6 || clen != 5u + capdu[4] + 1)
			abort();
	} else if (capdu[1] != 0xA4 && capdu[1] != 0x20) {
		abort();
	}
}

/* The script's next answer, as hwg_pcsc.c's transmit would give it. */
static int
script_answer(struct hwg_card *c, uint8_t *rapdu, size_t *rlen, struct hwg_error *err)
{
	size_t n;

	if (c->left < 2)
		return hwg_error_set(err, HWG_E_CARD_REMOVED, "the card was pulled out");
	n = (size_t)c->script[0] << 8 | c->script[1];
	c->script += 2;
	c->left -= 2;
	if (n > c->left)
		n = c->left;
	if (n > *rlen) { /* SCardTransmit: SCARD_E_INSUFFICIENT_BUFFER */
		c->script += n;
		c->left -= n;
		return hwg_error_set(err, HWG_E_CARD_ERROR, "answer of %zu bytes", n);
	}
	memcpy(rapdu, c->script, n);
	c->script += n;
	c->left -= n;
	if (n < 2)
		return hwg_error_set(err, HWG_E_CARD_ERROR, "answered %zu bytes, no status word",
		                     n);
	*rlen = n;
	return 0;
}

int
hwg_card_transmit(struct hwg_card *c, const uint8_t *capdu, size_t clen, uint8_t *rapdu,
                  size_t *rlen, struct hwg_error *err)
{
	int tries_query = clen == 4 && capdu[1] == 0x20, rc;
	uint16_t sw;

	check_command(c, capdu, clen);
	c->pin_allowed = 0;
	if (c->answer != NULL)
		rc = c->answer(c->answer_arg, capdu, clen, rapdu, rlen) == 0
		         ? 0
		         : hwg_error_set(err, HWG_E_CARD_ERROR, "no answer");
	else
		rc = script_answer(c, rapdu, rlen, err);
	if (rc != 0)
		return rc;
	if (*rlen < 2 || *rlen > sizeof(c->last))
		abort(); /* hwg_pcsc.c's contract */
	memcpy(c->last, rapdu, *rlen);
	c->last_len = *rlen;
	sw = (uint16_t)(rapdu[*rlen - 2] << 8 | rapdu[*rlen - 1]);
	c->pin_allowed =
	    tries_query && (sw == 0x9000 || ((sw & 0xFFF0) == 0x63C0 && (sw & 0x0F) != 0));
	return 0;
}

uint8_t *
hwg_card_memo(struct hwg_card *c)
{
	return c->memo;
}

int *
hwg_card_selection(struct hwg_card *c)
{
	return &c->selection;
}

static void
check_tlv_file(int rc, uint8_t *out, size_t len)
{
	struct hwg_ber_tlv t;
	struct hwg_error err = {0};

	if (rc != 0) {
		if (out != NULL || len != 0)
			abort();
		return;
	}
	if (out == NULL || len == 0 || len > HWG_MN_MAX_EF ||
	    hwg_ber_header(out, len, &t, &err) != 0 || t.header_len + t.len != len)
		abort();
	free(out);
}

static int
run_pin(struct hwg_card *c, int verify, enum hwg_mn_pin pin, struct hwg_error *err)
{
	const char *secret = fuzz_apdu_secrets[pin];
	int tries = 99, rc;

	if (!verify) {
		rc = hwg_mn_tries(c, pin, &tries, err);
		if (tries < -1 || tries > 15 || (rc != 0 && tries != -1))
			abort();
		return rc;
	}
	rc = hwg_mn_verify(c, pin, secret, strlen(secret), &tries, err);
	if ((rc == 0 && tries != -1) || (rc == HWG_E_PIN_WRONG && (tries < 1 || tries > 15)) ||
	    (rc == HWG_E_PIN_LOCKED && tries != 0) ||
	    (rc != 0 && rc != HWG_E_PIN_WRONG && rc != HWG_E_PIN_LOCKED && tries != -1))
		abort();
	return rc;
}

int
fuzz_apdu_run(const uint8_t *data, size_t size, struct hwg_card *c)
{
	static const uint8_t digest_info[HWG_MN_DIGEST_INFO_LEN] = {0x30, 0x31};
	struct hwg_error err = {0};
	uint8_t sig[HWG_MN_SIG_LEN], *out = NULL;
	size_t len = 0;
	int rc = 0;

	if (size < 2)
		return 0;
	switch (data[0] % FUZZ_APDU_N_OPS) {
	case FUZZ_APDU_IDENTIFY:
		rc = hwg_mn_identify(c, &err);
		break;
	case FUZZ_APDU_SELECT_APP:
		rc = hwg_mn_select_app(c, data[1] % 2 ? HWG_MN_APP_SUPPORT : HWG_MN_APP_JPKI, &err);
		break;
	case FUZZ_APDU_TRIES:
	case FUZZ_APDU_VERIFY:
		rc = run_pin(c, data[0] % FUZZ_APDU_N_OPS == FUZZ_APDU_VERIFY,
		             (enum hwg_mn_pin)(data[1] % 3), &err);
		break;
	case FUZZ_APDU_READ_TLV:
		rc = hwg_mn_read_tlv_file(c, fuzz_apdu_tlv_fids[data[1] % 6], &out, &len, &err);
		check_tlv_file(rc, out, len);
		break;
	case FUZZ_APDU_READ_FILE:
		/* exactly the size asked for, so that ASan sees a write past it */
		len = data[1] == 0 ? 17 : (size_t)data[1] * 16;
		if ((out = malloc(len)) == NULL)
			return 0;
		rc = hwg_mn_read_file(c, HWG_MN_EF_MYNUMBER, out, len, &err);
		free(out);
		break;
	case FUZZ_APDU_SIGN:
		rc = hwg_mn_sign(c, data[1] % 2 ? HWG_MN_EF_SIGN_KEY : HWG_MN_EF_AUTH_KEY,
		                 digest_info, sizeof(digest_info), sig, &err);
		if (rc == 0 && (c->last_len != HWG_MN_SIG_LEN + 2 ||
		                memcmp(sig, c->last, HWG_MN_SIG_LEN) != 0))
			abort();
		break;
	}
	if (rc > 0 || (rc != 0 && err.message[0] == '\0'))
		abort();
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hwg_card card = {0};

	if (size < 2)
		return 0;
	card.script = data + 2;
	card.left = size - 2;
	(void)fuzz_apdu_run(data, size, &card);
	return 0;
}
