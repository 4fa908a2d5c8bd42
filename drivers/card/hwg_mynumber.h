/*
 * hwg_mynumber.h — the My Number card's applications, spoken in APDUs.
 *
 * Everything here runs inside one card session (hwg_pcsc.h) and sends
 * only the commands listed in firmware-notes/mynumber-card.md.  Status
 * words are turned into HWG_E_* codes here and nowhere else.  Two rules
 * protect the resident: a PIN is never sent to a card whose tries are
 * exhausted (the tries are read first with a no-data VERIFY, which costs
 * nothing, unless this card said since it was inserted that they are not),
 * and the PIN bytes are only ever read from the caller's buffer, never
 * copied.
 *
 * What the card said about itself is kept in the session's memo
 * (hwg_card_memo) for the next session on the same insertion: the token
 * label's verdict and, per PIN, open or locked.  The selected application
 * is followed within a session only (hwg_card_selection): an application
 * already selected is not selected again.
 */
#ifndef HWG_MYNUMBER_H
#define HWG_MYNUMBER_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"
#include "hwg_pcsc.h"

enum hwg_mn_app { HWG_MN_APP_JPKI, HWG_MN_APP_SUPPORT };

enum hwg_mn_pin {
	HWG_MN_AUTH_PIN,      /* JPKI user authentication, 4 digits, 3 tries */
	HWG_MN_SIGN_PASSWORD, /* JPKI signing, 6–16 of A–Z0–9, 5 tries */
	HWG_MN_SUPPORT_PIN,   /* input-support AP, 4 digits, 3 tries */
};

/* JPKI-AP files */
#define HWG_MN_EF_TOKEN 0x0006
#define HWG_MN_EF_AUTH_CERT 0x000A
#define HWG_MN_EF_AUTH_CA 0x000B
#define HWG_MN_EF_AUTH_KEY 0x0017
#define HWG_MN_EF_SIGN_CERT 0x0001
#define HWG_MN_EF_SIGN_CA 0x0002
#define HWG_MN_EF_SIGN_KEY 0x001A
/* input-support AP files */
#define HWG_MN_EF_MYNUMBER 0x0001
#define HWG_MN_EF_FACTS 0x0002
#define HWG_MN_EF_INTEGRITY 0x0003

#define HWG_MN_MAX_EF 4096 /* largest file we read (certificates are ~1.3 KiB) */
#define HWG_MN_SIG_LEN 256

/*
 * What the token label says: 0 for a My Number card, HWG_E_CARD_RETIRED
 * for the 住基カード, HWG_E_CARD_UNSUPPORTED for anything else.  The label
 * is read (JPKI-AP selected, EF 0006) once per insertion; later sessions
 * take the verdict from the memo and send nothing.  The selection is left
 * to the caller.
 */
int hwg_mn_identify(struct hwg_card *card, struct hwg_error *err);

int hwg_mn_select_app(struct hwg_card *card, enum hwg_mn_app app, struct hwg_error *err);
int hwg_mn_select_ef(struct hwg_card *card, uint16_t fid, struct hwg_error *err);

/*
 * Tries left of a PIN (selects its application and PIN file) without
 * consuming one: 0 when locked, -1 when the card will not say.  Always
 * asks the card.
 */
int hwg_mn_tries(struct hwg_card *card, enum hwg_mn_pin pin, int *tries, struct hwg_error *err);

/*
 * Verify a PIN: checks the tries first, unless the card said since its
 * insertion that the PIN is open (a right PIN, a wrong one with tries
 * left, or tries read), and refuses with HWG_E_PIN_LOCKED without sending
 * the PIN when none are left.  A wrong PIN gives
 * HWG_E_PIN_WRONG (or HWG_E_PIN_LOCKED on the try that locks) with
 * *tries_left set; otherwise *tries_left is -1.
 */
int hwg_mn_verify(struct hwg_card *card, enum hwg_mn_pin pin, const char *secret, size_t len,
                  int *tries_left, struct hwg_error *err);

/*
 * Read the file fid of the selected application whose content is one BER
 * TLV (certificates, the input-support files), exactly the TLV's bytes,
 * filler excluded.  *out is malloc'd; the caller frees it.
 */
int hwg_mn_read_tlv_file(struct hwg_card *card, uint16_t fid, uint8_t **out, size_t *len,
                         struct hwg_error *err);

/* Read exactly len bytes (filler included) of the file fid of the selected application. */
int hwg_mn_read_file(struct hwg_card *card, uint16_t fid, uint8_t *out, size_t len,
                     struct hwg_error *err);

/*
 * Have the card sign a DigestInfo with the key file key_fid (its PIN
 * verified in this session): sig receives HWG_MN_SIG_LEN bytes.
 */
int hwg_mn_sign(struct hwg_card *card, uint16_t key_fid, const uint8_t *digest_info, size_t len,
                uint8_t sig[HWG_MN_SIG_LEN], struct hwg_error *err);

/* The SHA-256 DigestInfo the card's sign command takes: prefix and hash. */
#define HWG_MN_DIGEST_INFO_LEN (19 + 32)
void hwg_mn_digest_info_sha256(const uint8_t hash[32], uint8_t out[HWG_MN_DIGEST_INFO_LEN]);

/* The PIN rules, checked before any APDU: HWG_E_PIN_FORMAT. */
int hwg_mn_pin_format(enum hwg_mn_pin pin, const char *secret, size_t len, struct hwg_error *err);
/* Upper-case a signing password in place (the card stores upper case). */
void hwg_mn_password_upcase(char *secret, size_t len);

#endif
