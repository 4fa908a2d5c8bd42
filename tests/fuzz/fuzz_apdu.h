/*
 * fuzz_apdu.h — the card fuzz_apdu puts under drivers/card/hwg_mynumber.c:
 * hwg_pcsc.c is left out and hwg_card_transmit answered here, from a
 * script of R-APDUs (the fuzz input) or by a hook (make_apdu_seeds.c
 * records the simulated card's answers through it).  The input is
 *   byte 0    the operation (enum fuzz_apdu_op, modulo FUZZ_APDU_N_OPS)
 *   byte 1    its parameter: the application, PIN, file or length
 *   the rest  the card's answers in order, each a 2-byte big-endian
 *             length and that many bytes (data, then SW1 SW2)
 */
#ifndef FUZZ_APDU_H
#define FUZZ_APDU_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"
#include "hwg_mynumber.h"

enum fuzz_apdu_op {
	FUZZ_APDU_IDENTIFY,   /* hwg_mn_identify */
	FUZZ_APDU_SELECT_APP, /* hwg_mn_select_app, parameter % 2 */
	FUZZ_APDU_TRIES,      /* hwg_mn_tries, PIN parameter % 3 */
	FUZZ_APDU_VERIFY,     /* hwg_mn_verify with the PIN's fixed secret */
	FUZZ_APDU_READ_TLV,   /* hwg_mn_read_tlv_file, fuzz_apdu_tlv_fids[parameter % 6] */
	FUZZ_APDU_READ_FILE,  /* hwg_mn_read_file of EF 0001, 17 bytes or parameter * 16 */
	FUZZ_APDU_SIGN,       /* hwg_mn_sign with the authentication or the signing key */
	FUZZ_APDU_N_OPS,
};

extern const uint16_t fuzz_apdu_tlv_fids[6];
/* The secret hwg_mn_verify sends for each PIN (the seeds' right one). */
extern const char *const fuzz_apdu_secrets[3];

typedef int (*fuzz_apdu_answer_fn)(void *arg, const uint8_t *capdu, size_t clen, uint8_t *rapdu,
                                   size_t *rlen);

struct hwg_card {
	const uint8_t *script; /* answers not yet given */
	size_t left;
	fuzz_apdu_answer_fn answer; /* NULL: the script answers */
	void *answer_arg;
	/* a no-data VERIFY was just answered with tries left: a PIN may follow */
	int pin_allowed;
	uint8_t last[258]; /* the last answer, for the checks */
	size_t last_len;
	/* hwg_card_memo and hwg_card_selection: nothing known, as on a fresh insertion */
	uint8_t memo[HWG_CARD_MEMO_MAX];
	int selection;
};

/*
 * Run the operation data[0..2) names on card (whose script or hook gives
 * the answers) and check what it promises; abort() on a broken promise.
 * Returns the operation's code.
 */
int fuzz_apdu_run(const uint8_t *data, size_t size, struct hwg_card *card);

#endif
