/*
 * hwg_pcsc.c — reader monitor and card sessions over libpcsclite (see
 * hwg_pcsc.h).  Each card session has its own PC/SC context: contexts are
 * per thread in libpcsclite, and a fresh one per operation is what lets
 * the gateway live through a pcscd restart without any reconnect logic.
 */
#include "hwg_pcsc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <winscard.h>

#define MONITOR_WAIT_MS 500

/* The upper 16 bits of dwEventState: pcscd counts each insertion and removal there. */
#define EVENT_COUNTER(state) (((state) >> 16) & 0xFFFFu)

/* A card driver's memo of the card in one reader (hwg_card_memo). */
struct card_memo {
	char reader[HWG_READER_NAME_MAX]; /* "" for a free entry */
	unsigned counter;                 /* the reader's event counter when it was kept */
	uint8_t atr[HWG_ATR_MAX];
	size_t atr_len;
	uint8_t memo[HWG_CARD_MEMO_MAX];
};

struct hwg_pcsc {
	hwg_pcsc_event_fn on_event;
	void *event_arg;
	pthread_t thread;
	int thread_started;
	pthread_mutex_t mu; /* guards everything below */
	pthread_cond_t released;
	pthread_cond_t wake; /* ends the monitor's pause at close */
	int stop;
	int service_up; /* -1 unknown, 0 down, 1 up */
	SCARDCONTEXT monitor_ctx;
	int monitor_ctx_valid;
	struct hwg_reader_state readers[HWG_MAX_READERS];
	DWORD reader_event_state[HWG_MAX_READERS];
	size_t n_readers;
	char busy[HWG_MAX_READERS][HWG_READER_NAME_MAX]; /* readers held by a session */
	struct card_memo memos[HWG_MAX_READERS];
};

struct hwg_card {
	struct hwg_pcsc *pcsc;
	SCARDCONTEXT ctx;
	SCARDHANDLE handle;
	DWORD protocol;
	int in_transaction;
	int counter_known; /* counter read inside the transaction */
	unsigned counter;
	int failed; /* the card failed at the PC/SC level: keep no memo */
	int selection;
	uint8_t memo[HWG_CARD_MEMO_MAX];
	unsigned apdus;
	char reader[HWG_READER_NAME_MAX];
	uint8_t atr[HWG_ATR_MAX];
	size_t atr_len;
};

/* ---------------------------------------------------------------- errors */

static int
is_service_gone(LONG rv)
{
	return rv == SCARD_E_NO_SERVICE || rv == SCARD_E_SERVICE_STOPPED ||
	       rv == SCARD_F_COMM_ERROR || rv == SCARD_E_INVALID_HANDLE;
}

/* The gateway code for a PC/SC failure during or before a card session. */
static int
map_rv(LONG rv, int connecting)
{
	switch (rv) {
	case SCARD_W_REMOVED_CARD:
	case SCARD_E_NO_SMARTCARD:
		return connecting ? HWG_E_NO_CARD : HWG_E_CARD_REMOVED;
	case SCARD_W_RESET_CARD:
		return HWG_E_CARD_RESET;
	case SCARD_E_UNKNOWN_READER:
	case SCARD_E_READER_UNAVAILABLE:
	case SCARD_E_NO_READERS_AVAILABLE:
		return HWG_E_NO_READER;
	case SCARD_E_TIMEOUT:
	case SCARD_E_SHARING_VIOLATION:
		return HWG_E_CARD_TIMEOUT;
	case SCARD_W_UNRESPONSIVE_CARD:
	case SCARD_W_UNPOWERED_CARD:
	case SCARD_E_PROTO_MISMATCH:
		return HWG_E_CARD_ERROR;
	default:
		return is_service_gone(rv) ? HWG_E_PCSC_UNAVAILABLE : HWG_E_CARD_ERROR;
	}
}

static int
pcsc_fail(struct hwg_error *err, LONG rv, int connecting, const char *what, const char *reader)
{
	return hwg_error_set(err, map_rv(rv, connecting), "%s on reader \"%s\": %s", what, reader,
	                     pcsc_stringify_error(rv));
}

/* ---------------------------------------------------------------- monitor */

static void
emit(struct hwg_pcsc *p, const char *event, const char *reader)
{
	if (p->on_event != NULL)
		p->on_event(p->event_arg, event, reader);
}

static void
set_service(struct hwg_pcsc *p, int up)
{
	int was;

	pthread_mutex_lock(&p->mu);
	was = p->service_up;
	p->service_up = up;
	if (!up) {
		p->n_readers = 0;
		/* a new pcscd counts events afresh: its counters say nothing of the old one's */
		memset(p->memos, 0, sizeof(p->memos));
	}
	pthread_mutex_unlock(&p->mu);
	if (was != up)
		emit(p, up ? "pcsc.up" : "pcsc.down", "");
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int
find_reader(const struct hwg_reader_state *r, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Replace the table with the readers in the multi-string list. */
static void
sync_readers(struct hwg_pcsc *p, const char *list)
{
	struct hwg_reader_state next[HWG_MAX_READERS];
	DWORD next_state[HWG_MAX_READERS];
	size_t n = 0;
	int i;

	memset(next, 0, sizeof(next));
	for (const char *s = list; s != NULL && *s != '\0' && n < HWG_MAX_READERS;
	     s += strlen(s) + 1) {
		pthread_mutex_lock(&p->mu);
		i = find_reader(p->readers, p->n_readers, s);
		if (i >= 0) {
			next[n] = p->readers[i];
			next_state[n] = p->reader_event_state[i];
		} else {
			snprintf(next[n].name, sizeof(next[n].name), "%s", s);
			next_state[n] = SCARD_STATE_UNAWARE;
		}
		pthread_mutex_unlock(&p->mu);
		if (i < 0)
			emit(p, "reader.added", s);
		n++;
	}
	pthread_mutex_lock(&p->mu);
	for (size_t k = 0; k < p->n_readers; k++)
		if (find_reader(next, n, p->readers[k].name) < 0) {
			char gone[HWG_READER_NAME_MAX];

			memcpy(gone, p->readers[k].name, sizeof(gone));
			pthread_mutex_unlock(&p->mu);
			emit(p, "reader.removed", gone);
			pthread_mutex_lock(&p->mu);
		}
	memcpy(p->readers, next, sizeof(next));
	memcpy(p->reader_event_state, next_state, sizeof(next_state));
	p->n_readers = n;
	pthread_mutex_unlock(&p->mu);
}

/* Record what GetStatusChange reported and announce card changes. */
static void
apply_states(struct hwg_pcsc *p, SCARD_READERSTATE *st, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		int present = (st[k].dwEventState & SCARD_STATE_PRESENT) != 0, was, swapped, i;

		pthread_mutex_lock(&p->mu);
		i = find_reader(p->readers, p->n_readers, st[k].szReader);
		if (i < 0) {
			pthread_mutex_unlock(&p->mu);
			continue;
		}
		was = p->readers[i].card_present;
		/* out and in again between two rounds: the counter moved, the state did not */
		swapped =
		    present && was &&
		    EVENT_COUNTER(st[k].dwEventState) != EVENT_COUNTER(p->reader_event_state[i]) &&
		    (p->reader_event_state[i] & SCARD_STATE_PRESENT) != 0;
		p->reader_event_state[i] = st[k].dwEventState & ~SCARD_STATE_CHANGED;
		p->readers[i].card_present = present;
		p->readers[i].atr_len = present && st[k].cbAtr <= HWG_ATR_MAX ? st[k].cbAtr : 0;
		memcpy(p->readers[i].atr, st[k].rgbAtr, p->readers[i].atr_len);
		pthread_mutex_unlock(&p->mu);
		if (swapped)
			emit(p, "card.removed", st[k].szReader);
		if (present != was || swapped)
			emit(p, present ? "card.inserted" : "card.removed", st[k].szReader);
	}
}

/* The monitor's pause between tries; hwg_pcsc_close() ends it at once. */
static void
monitor_pause(struct hwg_pcsc *p)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += (long)MONITOR_WAIT_MS * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&p->mu);
	while (!p->stop && pthread_cond_timedwait(&p->wake, &p->mu, &until) == 0)
		;
	pthread_mutex_unlock(&p->mu);
}

/* One round: list readers, wait for a change.  0, or -1 if pcscd is gone. */
static int
monitor_round(struct hwg_pcsc *p, SCARDCONTEXT ctx)
{
	SCARD_READERSTATE st[HWG_MAX_READERS];
	char *list = NULL;
	DWORD len = SCARD_AUTOALLOCATE;
	size_t n;
	LONG rv;

	rv = SCardListReaders(ctx, NULL, (LPSTR)&list, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE)
		list = NULL;
	else if (rv != SCARD_S_SUCCESS)
		return is_service_gone(rv) ? -1 : 0;
	sync_readers(p, list);
	if (list != NULL)
		SCardFreeMemory(ctx, list);

	memset(st, 0, sizeof(st));
	pthread_mutex_lock(&p->mu);
	n = p->n_readers;
	for (size_t k = 0; k < n; k++) {
		st[k].szReader = p->readers[k].name;
		st[k].dwCurrentState = p->reader_event_state[k];
	}
	pthread_mutex_unlock(&p->mu);
	if (n == 0) {
		monitor_pause(p);
		return 0;
	}
	rv = SCardGetStatusChange(ctx, MONITOR_WAIT_MS, st, (DWORD)n);
	if (rv == SCARD_S_SUCCESS)
		apply_states(p, st, n);
	else if (is_service_gone(rv))
		return -1;
	else if (rv != SCARD_E_TIMEOUT && rv != SCARD_E_CANCELLED)
		monitor_pause(p); /* e.g. a reader vanished between list and wait */
	return 0;
}

static int
monitor_should_stop(struct hwg_pcsc *p)
{
	int stop;

	pthread_mutex_lock(&p->mu);
	stop = p->stop;
	pthread_mutex_unlock(&p->mu);
	return stop;
}

static void
monitor_set_ctx(struct hwg_pcsc *p, SCARDCONTEXT ctx, int valid)
{
	pthread_mutex_lock(&p->mu);
	p->monitor_ctx = ctx;
	p->monitor_ctx_valid = valid;
	pthread_mutex_unlock(&p->mu);
}

static void *
monitor_main(void *arg)
{
	struct hwg_pcsc *p = arg;
	SCARDCONTEXT ctx;

	while (!monitor_should_stop(p)) {
		if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) !=
		    SCARD_S_SUCCESS) {
			set_service(p, 0);
			monitor_pause(p);
			continue;
		}
		monitor_set_ctx(p, ctx, 1);
		set_service(p, 1);
		while (!monitor_should_stop(p))
			if (monitor_round(p, ctx) != 0) {
				set_service(p, 0);
				break;
			}
		monitor_set_ctx(p, 0, 0);
		SCardReleaseContext(ctx);
	}
	return NULL;
}

int
hwg_pcsc_open(hwg_pcsc_event_fn on_event, void *arg, struct hwg_pcsc **out, struct hwg_error *err)
{
	pthread_condattr_t ca;
	struct hwg_pcsc *p;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	p->on_event = on_event;
	p->event_arg = arg;
	p->service_up = -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->released, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&p->thread, NULL, monitor_main, p) != 0) {
		hwg_pcsc_close(p);
		return hwg_error_set(err, HWG_E_INTERNAL, "cannot start the reader monitor");
	}
	p->thread_started = 1;
	*out = p;
	return 0;
}

void
hwg_pcsc_close(struct hwg_pcsc *p)
{
	if (p == NULL)
		return;
	if (p->thread_started) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_signal(&p->wake);
		if (p->monitor_ctx_valid)
			SCardCancel(p->monitor_ctx);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->thread, NULL);
	}
	pthread_cond_destroy(&p->released);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

int
hwg_pcsc_readers(struct hwg_pcsc *p, struct hwg_reader_state *out, size_t max, size_t *n)
{
	int up;

	pthread_mutex_lock(&p->mu);
	up = p->service_up == 1;
	*n = up ? (p->n_readers < max ? p->n_readers : max) : 0;
	memcpy(out, p->readers, *n * sizeof(*out));
	pthread_mutex_unlock(&p->mu);
	return up;
}

/* ---------------------------------------------------------------- sessions */

static int
busy_index(struct hwg_pcsc *p, const char *reader)
{
	for (int i = 0; i < HWG_MAX_READERS; i++)
		if (strcmp(p->busy[i], reader) == 0)
			return i;
	return -1;
}

/* Wait until no other session of this gateway holds the reader. */
static int
reader_claim(struct hwg_pcsc *p, const char *reader, int timeout_ms, struct hwg_error *err)
{
	struct timespec deadline;
	int free_slot = -1, rc = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->mu);
	while (busy_index(p, reader) >= 0 && rc == 0)
		if (pthread_cond_timedwait(&p->released, &p->mu, &deadline) == ETIMEDOUT)
			rc = hwg_error_set(
			    err, HWG_E_CARD_TIMEOUT,
			    "reader \"%s\" still busy with another request after %d ms", reader,
			    timeout_ms);
	if (rc == 0 && (free_slot = busy_index(p, "")) < 0)
		rc = hwg_error_set(err, HWG_E_UNAVAILABLE, "too many card sessions at once");
	if (rc == 0)
		snprintf(p->busy[free_slot], sizeof(p->busy[free_slot]), "%s", reader);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static void
reader_release(struct hwg_pcsc *p, const char *reader)
{
	int i;

	pthread_mutex_lock(&p->mu);
	if ((i = busy_index(p, reader)) >= 0)
		p->busy[i][0] = '\0';
	pthread_cond_broadcast(&p->released);
	pthread_mutex_unlock(&p->mu);
}

static struct card_memo *
memo_find(struct hwg_pcsc *p, const char *reader)
{
	for (size_t i = 0; i < HWG_MAX_READERS; i++)
		if (strcmp(p->memos[i].reader, reader) == 0)
			return &p->memos[i];
	return NULL;
}

/*
 * The reader's event counter, read inside the transaction: a card swapped
 * before it was read moved it; one swapped after it was read takes this
 * session's handle with it (every later call fails with a removed card).
 */
static void
read_counter(struct hwg_card *c)
{
	SCARD_READERSTATE st;

	memset(&st, 0, sizeof(st));
	st.szReader = c->reader;
	st.dwCurrentState = SCARD_STATE_UNAWARE;
	if (SCardGetStatusChange(c->ctx, 0, &st, 1) == SCARD_S_SUCCESS &&
	    (st.dwEventState & SCARD_STATE_PRESENT) != 0) {
		c->counter = EVENT_COUNTER(st.dwEventState);
		c->counter_known = 1;
	}
}

/* Start from the memo the same card left, if it is still the same insertion. */
static void
memo_load(struct hwg_card *c)
{
	struct card_memo *m;

	pthread_mutex_lock(&c->pcsc->mu);
	m = memo_find(c->pcsc, c->reader);
	if (m != NULL && c->counter_known && m->counter == c->counter && m->atr_len == c->atr_len &&
	    memcmp(m->atr, c->atr, c->atr_len) == 0)
		memcpy(c->memo, m->memo, sizeof(c->memo));
	pthread_mutex_unlock(&c->pcsc->mu);
}

/* Keep the session's memo for the next session, or forget the card. */
static void
memo_store(struct hwg_card *c)
{
	struct card_memo *m;
	int keep = c->counter_known && !c->failed;

	pthread_mutex_lock(&c->pcsc->mu);
	if ((m = memo_find(c->pcsc, c->reader)) == NULL && keep)
		m = memo_find(c->pcsc, "");
	if (m != NULL && keep) {
		snprintf(m->reader, sizeof(m->reader), "%s", c->reader);
		m->counter = c->counter;
		memcpy(m->atr, c->atr, c->atr_len);
		m->atr_len = c->atr_len;
		memcpy(m->memo, c->memo, sizeof(m->memo));
	} else if (m != NULL) {
		memset(m, 0, sizeof(*m));
	}
	pthread_mutex_unlock(&c->pcsc->mu);
}

static int
card_connect(struct hwg_card *c, struct hwg_error *err)
{
	DWORD atr_len = sizeof(c->atr), state, proto, rlen = 0;
	LONG rv;

	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &c->ctx)) !=
	    SCARD_S_SUCCESS)
		return hwg_error_set(err, HWG_E_PCSC_UNAVAILABLE, "smart-card service: %s",
		                     pcsc_stringify_error(rv));
	rv = SCardConnect(c->ctx, c->reader, SCARD_SHARE_SHARED,
	                  SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &c->handle, &c->protocol);
	if (rv != SCARD_S_SUCCESS) {
		SCardReleaseContext(c->ctx);
		c->ctx = 0;
		return pcsc_fail(err, rv, 1, "connect", c->reader);
	}
	if ((rv = SCardBeginTransaction(c->handle)) != SCARD_S_SUCCESS) {
		c->failed = 1; /* e.g. reset by another program since connect */
		return pcsc_fail(err, rv, 1, "begin transaction", c->reader);
	}
	c->in_transaction = 1;
	rv = SCardStatus(c->handle, NULL, &rlen, &state, &proto, c->atr, &atr_len);
	if (rv != SCARD_S_SUCCESS) {
		c->failed = 1;
		return pcsc_fail(err, rv, 0, "status", c->reader);
	}
	c->atr_len = atr_len;
	read_counter(c);
	memo_load(c);
	return 0;
}

int
hwg_card_begin(struct hwg_pcsc *p, const char *reader, int timeout_ms, struct hwg_card **out,
               struct hwg_error *err)
{
	struct hwg_card *c;
	int rc;

	*out = NULL;
	if (strlen(reader) >= HWG_READER_NAME_MAX || reader[0] == '\0')
		return hwg_error_set(err, HWG_E_NO_READER, "no reader named \"%.64s\"", reader);
	if ((rc = reader_claim(p, reader, timeout_ms, err)) != 0)
		return rc;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		reader_release(p, reader);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	c->pcsc = p;
	snprintf(c->reader, sizeof(c->reader), "%s", reader);
	if ((rc = card_connect(c, err)) != 0) {
		hwg_card_end(c);
		return rc;
	}
	*out = c;
	return 0;
}

void
hwg_card_end(struct hwg_card *c)
{
	if (c == NULL)
		return;
	if (c->in_transaction || c->failed)
		memo_store(c);
	if (c->in_transaction)
		SCardEndTransaction(c->handle, SCARD_LEAVE_CARD);
	if (c->handle != 0)
		SCardDisconnect(c->handle, SCARD_LEAVE_CARD);
	if (c->ctx != 0)
		SCardReleaseContext(c->ctx);
	reader_release(c->pcsc, c->reader);
	free(c);
}

#define GONE_WAIT_MS 1500 /* pcscd polls a reader for its card about every 400 ms */

/*
 * After a failed or empty transmit: was the card pulled out?  A reader
 * driver may answer before pcscd has noticed (vpcd returns an empty
 * response when the card's connection drops), so ask again for a while.
 */
static int
card_gone(struct hwg_card *c)
{
	for (int waited = 0; waited <= GONE_WAIT_MS; waited += 100) {
		DWORD state = 0, proto, rlen = 0, alen = HWG_ATR_MAX;
		uint8_t atr[HWG_ATR_MAX];
		LONG rv = SCardStatus(c->handle, NULL, &rlen, &state, &proto, atr, &alen);

		if (rv == SCARD_W_REMOVED_CARD || rv == SCARD_E_NO_SMARTCARD ||
		    (rv == SCARD_S_SUCCESS && (state & SCARD_PRESENT) == 0))
			return 1;
		if (rv != SCARD_S_SUCCESS)
			return 0;
		sleep_ms(100);
	}
	return 0;
}

int
hwg_card_transmit(struct hwg_card *c, const uint8_t *capdu, size_t clen, uint8_t *rapdu,
                  size_t *rlen, struct hwg_error *err)
{
	const SCARD_IO_REQUEST *pci =
	    c->protocol == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	DWORD len = (DWORD)*rlen;
	LONG rv;

	c->apdus++;
	rv = SCardTransmit(c->handle, pci, capdu, (DWORD)clen, NULL, rapdu, &len);
	if (rv != SCARD_S_SUCCESS || len < 2) {
		c->failed = 1; /* removed, reset, pcscd gone or no status word: forget the card */
		c->selection = 0;
	}
	if (rv != SCARD_S_SUCCESS) {
		if (map_rv(rv, 0) == HWG_E_CARD_ERROR && card_gone(c))
			rv = SCARD_W_REMOVED_CARD;
		return pcsc_fail(err, rv, 0, "transmit", c->reader);
	}
	if (len < 2 && card_gone(c))
		return pcsc_fail(err, SCARD_W_REMOVED_CARD, 0, "transmit", c->reader);
	if (len < 2)
		return hwg_error_set(err, HWG_E_CARD_ERROR,
		                     "card in \"%s\" answered %lu bytes, no status word", c->reader,
		                     (unsigned long)len);
	*rlen = len;
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

unsigned
hwg_card_apdu_count(const struct hwg_card *c)
{
	return c->apdus;
}

const uint8_t *
hwg_card_atr(const struct hwg_card *c, size_t *len)
{
	*len = c->atr_len;
	return c->atr;
}

const char *
hwg_card_reader(const struct hwg_card *c)
{
	return c->reader;
}
