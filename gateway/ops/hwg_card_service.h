/*
 * hwg_card_service.h — what the gateway keeps for its card operations: the
 * reader monitor, the JPKI trust (roots and CRL directory), the issuer key
 * of the input-support application's integrity record, and the key that
 * turns a My Number into the keyed hash the audit records instead.
 */
#ifndef HWG_CARDS_H
#define HWG_CARDS_H

#include <openssl/evp.h>

#include "hwg_config.h"
#include "hwg_err.h"
#include "hwg_pcsc.h"

struct hwg_card_service;
struct hwg_x509_trust;

#define HWG_SUBJECT_MAX 128

/*
 * Load what cfg's [card] section names and start watching readers
 * (events go to on_event).  The subject key is created in the state
 * directory on first start.  Refuses with HWG_E_CONFIG naming the file.
 */
int hwg_card_service_open(const struct hwg_config *cfg, hwg_pcsc_event_fn on_event, void *arg,
                          struct hwg_card_service **out, struct hwg_error *err);
void hwg_card_service_close(struct hwg_card_service *cards);

/* NULL when [card] enabled = no. */
struct hwg_pcsc *hwg_card_service_pcsc(struct hwg_card_service *cards);
/* NULL when [card] roots/crls are not configured. */
const struct hwg_x509_trust *hwg_card_service_trust(const struct hwg_card_service *cards);
/* NULL when [card] integrity_key is not configured. */
EVP_PKEY *hwg_card_service_integrity_key(const struct hwg_card_service *cards);

/*
 * The audit subject for a My Number: "mn:" and the first 128 bits of
 * HMAC-SHA256 under the state directory's subject key, in hex.  The same
 * number always gives the same subject, so the audit can be searched by
 * person without holding the number.
 */
int hwg_card_service_mynumber_subject(const struct hwg_card_service *cards, const char *mynumber,
                                      char out[HWG_SUBJECT_MAX], struct hwg_error *err);

/* Load or create the 32-byte subject key file (0600) under state_dir. */
int hwg_subject_key_load(const char *state_dir, uint8_t key[32], struct hwg_error *err);

#endif
