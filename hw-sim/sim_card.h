/*
 * sim_card.h — a simulated My Number card: its applications, files, PINs
 * and keys, and an APDU engine that answers as the real card does
 * (../shared/brief/mynumber-card.md).  Pure: no I/O, no clock; hwsim.c
 * puts it behind vpcd and the tests drive it directly.
 */
#ifndef SIM_CARD_H
#define SIM_CARD_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_RAPDU_MAX 258
#define SIM_ATR_MAX 33

enum sim_card_type { SIM_MYNUMBER, SIM_JUKICARD, SIM_BLANK };
enum sim_pin_id { SIM_PIN_AUTH, SIM_PIN_SIGN, SIM_PIN_SUPPORT, SIM_N_PINS };

/* What a profile says a card holds (sim_profile.c fills it). */
struct sim_card_spec {
	enum sim_card_type type;
	uint8_t atr[SIM_ATR_MAX];
	size_t atr_len;
	char name[512], address[512], birth[9], sex[2], mynumber[13];
	char pins[SIM_N_PINS][17];
	int tries[SIM_N_PINS]; /* tries left at start; -1: the maximum */
	/* DER certificates (malloc'd) and keys; NULL when the profile has none */
	uint8_t *auth_cert, *auth_ca, *sign_cert, *sign_ca;
	size_t auth_cert_len, auth_ca_len, sign_cert_len, sign_ca_len;
	EVP_PKEY *auth_key, *sign_key, *issuer_key;
};

struct sim_card;

/* Build a card from spec (spec is not kept; keys are up-referenced).  NULL on ENOMEM or a failed
 * signature. */
struct sim_card *sim_card_new(const struct sim_card_spec *spec, char *why, size_t why_len);
void sim_card_free(struct sim_card *card);
void sim_card_spec_clear(struct sim_card_spec *spec);

/*
 * Answer one C-APDU; rapdu receives data and SW1 SW2 (*rlen >= 2).
 * *is_sign is set when the command was a signature (hwsim adds its delay).
 */
void sim_card_apdu(struct sim_card *card, const uint8_t *capdu, size_t clen, uint8_t *rapdu,
                   size_t *rlen, int *is_sign);
/* Power cycle or reset: no application selected, no PIN verified; tries stay. */
void sim_card_reset(struct sim_card *card);

const uint8_t *sim_card_atr(const struct sim_card *card, size_t *len);
int sim_card_tries(const struct sim_card *card, enum sim_pin_id pin);
/* Change one byte of the holder's name in EF 0002, leaving EF 0003 as issued. */
int sim_card_tamper_facts(struct sim_card *card);

#endif
