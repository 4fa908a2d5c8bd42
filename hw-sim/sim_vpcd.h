/*
 * sim_vpcd.h — one vpcd reader slot: the card in it (or none), the TCP
 * connection that tells vpcd a card is present, and the faults and delays
 * a test has asked for.  Each slot has a thread that keeps the card
 * connected to vpcd while it is inserted and answers vpcd's frames; the
 * control socket (sim_control.c) changes the slot through the functions
 * below, which take the slot's lock.
 */
#ifndef SIM_VPCD_H
#define SIM_VPCD_H

#include <pthread.h>
#include <stddef.h>

#include "hwg_err.h"
#include "sim_card.h"

enum sim_fault {
	SIM_FAULT_NONE,
	SIM_FAULT_REMOVE,
	SIM_FAULT_SILENT,
	SIM_FAULT_GARBAGE,
	SIM_FAULT_HOLD
};

/* The C-APDUs a slot has seen since the last clear (hex, PIN data masked). */
struct sim_apdu_log {
	char *text;
	size_t len, cap;
	unsigned count;
	int truncated; /* stopped recording text past SIM_LOG_MAX; count goes on */
};

struct sim_slot {
	int index;
	int port; /* vpcd's port for this slot */
	pthread_t thread;
	int started;
	pthread_mutex_t mu; /* guards everything below */
	struct sim_card *card;
	char profile[256];
	int inserted, unplugged, stop;
	unsigned generation; /* bumped by insert/reinsert: the thread reconnects */
	int fd;              /* the connection to vpcd, -1 if none (the thread owns it) */
	enum sim_fault fault;
	unsigned fault_at; /* the fault's APDU, counted from when it was set */
	unsigned since;    /* APDUs since the fault was set */
	int silent;        /* swallowing APDUs (silent-at reached) */
	int held;          /* an APDU waits, unprocessed, for sim_slot_release (hold-at reached) */
	int delay_apdu_ms, delay_sign_ms;
	struct sim_apdu_log log;
};

/* One line on stderr: "hwsim: ..." (every event of every slot). */
void sim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int sim_slot_start(struct sim_slot *s, int index, int port, struct hwg_error *err);
/* Stop the thread, close the connection, free the card. */
void sim_slot_stop(struct sim_slot *s);

/* Put card (owned from now on) in the slot, replacing any card there. */
void sim_slot_insert(struct sim_slot *s, struct sim_card *card, const char *profile);
void sim_slot_remove(struct sim_slot *s);
/* The card last inserted, back in with its state (tries, tampering). */
int sim_slot_reinsert(struct sim_slot *s, struct hwg_error *err);
/* The reader itself gone (plugged = 0) or back (1). */
void sim_slot_plug(struct sim_slot *s, int plugged);

int sim_slot_fault(struct sim_slot *s, enum sim_fault fault, unsigned at, struct hwg_error *err);
void sim_slot_delay(struct sim_slot *s, int apdu_ms, int sign_ms);
/* The APDU held by hold-at goes on (processed, answered): 0, or -1 if none is held. */
int sim_slot_release(struct sim_slot *s);
/* 1 while an APDU is held. */
int sim_slot_held(struct sim_slot *s);

/* "COUNT APDU..." (malloc'd, NULL if out of memory); clear starts again. */
char *sim_slot_apdus(struct sim_slot *s);
void sim_slot_apdus_clear(struct sim_slot *s);

int sim_slot_tries(struct sim_slot *s, int tries[SIM_N_PINS], struct hwg_error *err);
int sim_slot_tamper(struct sim_slot *s, struct hwg_error *err);
/* "empty", "card:PROFILE" or "unplugged". */
void sim_slot_describe(struct sim_slot *s, char *out, size_t cap);

#endif
