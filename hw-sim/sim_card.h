/*
 * sim_card.h — a simulated My Number card: its applications, files, PINs
 * and keys, and an APDU engine that answers as the real card does
 * (../shared/brief/mynumber-card.md, firmware-notes/mynumber-card.md).
 * Pure: no I/O, no clock, no threads; sim_vpcd.c puts it behind vpcd and
 * tests/unit/test_simcard.c drives it directly.
 */
#ifndef SIM_CARD_H
#define SIM_CARD_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

#define SIM_RAPDU_MAX 258 /* 256 data bytes and the status word */
#define SIM_ATR_MAX 33
#define SIM_PIN_MAX 16

enum sim_card_type { SIM_MYNUMBER, SIM_JUKICARD, SIM_BLANK };
enum sim_pin_id { SIM_PIN_AUTH, SIM_PIN_SIGN, SIM_PIN_SUPPORT, SIM_N_PINS };

/* Tries of a fresh PIN: 3 (auth), 5 (signing password), 3 (input support). */
int sim_pin_max_tries(enum sim_pin_id pin);

/* What a profile says a card holds (sim_profile.c fills it). */
struct sim_card_spec {
	enum sim_card_type type;
	uint8_t atr[SIM_ATR_MAX];
	size_t atr_len;
	char name[512], address[512], birth[9], sex[2], mynumber[13];
	char pins[SIM_N_PINS][SIM_PIN_MAX + 1]; /* "" = no PIN set: VERIFY never succeeds */
	int tries[SIM_N_PINS];                  /* tries left at start; -1: the maximum */
	/* DER certificates (malloc'd) and RSA keys; NULL when the profile has none */
	uint8_t *auth_cert, *auth_ca, *sign_cert, *sign_ca;
	size_t auth_cert_len, auth_ca_len, sign_cert_len, sign_ca_len;
	EVP_PKEY *auth_key, *sign_key, *issuer_key;
};

struct sim_card;

/*
 * Build a card from spec.  The spec is not kept (files are copied, keys
 * up-referenced); EF 0003 is signed here with spec->issuer_key.
 */
int sim_card_new(const struct sim_card_spec *spec, struct sim_card **out, struct hwg_error *err);
void sim_card_free(struct sim_card *card);
/* Free what a spec holds and wipe it (PINs). */
void sim_card_spec_clear(struct sim_card_spec *spec);

/*
 * Answer one C-APDU.  On entry *rlen is rapdu's capacity (at least
 * SIM_RAPDU_MAX); on return the R-APDU's length: data, then SW1 SW2.
 * Returns 0, or HWG_E_INVALID (nothing answered) if rapdu is too small.
 */
int sim_card_apdu(struct sim_card *card, const uint8_t *capdu, size_t clen, uint8_t *rapdu,
                  size_t *rlen);
/* Power cycle or reset: no application selected, no PIN verified; tries stay. */
void sim_card_reset(struct sim_card *card);

const uint8_t *sim_card_atr(const struct sim_card *card, size_t *len);
/* Tries left of a PIN, or -1 if the card has no such PIN (jukicard: support; blank: all). */
int sim_card_tries(const struct sim_card *card, enum sim_pin_id pin);
/* Change one byte of the holder's name in EF 0002, leaving EF 0003 as issued. */
int sim_card_tamper_facts(struct sim_card *card, struct hwg_error *err);

/* 1 if the C-APDU is the sign command (80 2A): hwsim adds its signing delay. */
int sim_apdu_is_sign(const uint8_t *capdu, size_t clen);
/* 1 if the C-APDU's data is a PIN (VERIFY, CHANGE REFERENCE DATA): logs mask it. */
int sim_apdu_has_secret(const uint8_t *capdu, size_t clen);

#endif
