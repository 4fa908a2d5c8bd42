/*
 * hwg_pcsc.h — card readers through pcscd (libpcsclite).
 *
 * Two jobs, kept apart:
 *  - a monitor thread that follows readers and cards with
 *    SCardGetStatusChange and reports each change (reader added or gone,
 *    card inserted or removed, pcscd gone or back) through a callback, and
 *    keeps a table that device.list reads;
 *  - card sessions: one PC/SC context, connection and transaction per
 *    operation, so that two requests never interleave APDUs on one card,
 *    and a pcscd restarted under the gateway costs nothing but the
 *    request that was running.
 * PC/SC return codes stop here: callers see HWG_E_* codes only.
 */
#ifndef HWG_PCSC_H
#define HWG_PCSC_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

#define HWG_READER_NAME_MAX 128
#define HWG_ATR_MAX 33
#define HWG_MAX_READERS 16

struct hwg_reader_state {
	char name[HWG_READER_NAME_MAX];
	int card_present;
	uint8_t atr[HWG_ATR_MAX];
	size_t atr_len;
};

/*
 * Monitor events: event is "reader.added", "reader.removed",
 * "card.inserted", "card.removed", "pcsc.down" or "pcsc.up"; reader is ""
 * for the pcsc.* events.  Called from the monitor thread.
 */
typedef void (*hwg_pcsc_event_fn)(void *arg, const char *event, const char *reader);

struct hwg_pcsc;

/* Start the monitor.  pcscd need not be running yet. */
int hwg_pcsc_open(hwg_pcsc_event_fn on_event, void *arg, struct hwg_pcsc **out,
                  struct hwg_error *err);
/* Stop the monitor and free; accepts NULL. */
void hwg_pcsc_close(struct hwg_pcsc *p);
/*
 * Copy the reader table into out (at most max entries); *n is set to the
 * count.  Returns 1 if pcscd is reachable, 0 if not (then *n is 0).
 */
int hwg_pcsc_readers(struct hwg_pcsc *p, struct hwg_reader_state *out, size_t max, size_t *n);

/* A card connection holding an exclusive PC/SC transaction. */
struct hwg_card;

/*
 * Connect to the card in reader and begin a transaction, waiting at most
 * timeout_ms for another request of this gateway that holds the card.
 * HWG_E_NO_READER, HWG_E_NO_CARD, HWG_E_PCSC_UNAVAILABLE,
 * HWG_E_CARD_TIMEOUT.  The caller must hwg_card_end() a card it got.
 */
int hwg_card_begin(struct hwg_pcsc *p, const char *reader, int timeout_ms, struct hwg_card **out,
                   struct hwg_error *err);
/* End the transaction, disconnect (leaving the card powered) and free. */
void hwg_card_end(struct hwg_card *card);

/*
 * Send one APDU; on success rapdu[0..*rlen) holds the response including
 * SW1 SW2 (at least two bytes).  A card pulled out gives
 * HWG_E_CARD_REMOVED, a reset HWG_E_CARD_RESET, pcscd gone
 * HWG_E_PCSC_UNAVAILABLE, a response shorter than a status word
 * HWG_E_CARD_ERROR.
 */
int hwg_card_transmit(struct hwg_card *card, const uint8_t *capdu, size_t clen, uint8_t *rapdu,
                      size_t *rlen, struct hwg_error *err);
/*
 * What a card driver remembers about the card in a reader, for as long as
 * that card stays in: a session starts with the memo its reader's card
 * left at the end of the last session, or with zeros when the card is not
 * the same insertion (pcscd's event counter for the reader moved, or the
 * ATR differs), and hwg_card_end() keeps it for the next one.  A session
 * that saw the card fail at the PC/SC level (removed, reset, no status
 * word, pcscd gone) keeps nothing: the next session starts from zeros.
 * The driver owns the layout; zeros must mean "nothing known".
 */
#define HWG_CARD_MEMO_MAX 16
uint8_t *hwg_card_memo(struct hwg_card *card);
/*
 * The application selected on the card as the driver names it (0: not
 * known).  It is 0 at the start of every session, whatever the last one
 * left: between two transactions another program may select or reset, and
 * pcscd may power the idle card down.  A transmit that fails sets it to 0.
 */
int *hwg_card_selection(struct hwg_card *card);

/* APDUs sent on this connection so far. */
unsigned hwg_card_apdu_count(const struct hwg_card *card);
/* ATR of the connected card. */
const uint8_t *hwg_card_atr(const struct hwg_card *card, size_t *len);
const char *hwg_card_reader(const struct hwg_card *card);

#endif
