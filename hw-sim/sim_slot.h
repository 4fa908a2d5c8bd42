/*
 * sim_slot.h — one vpcd reader slot: the card in it (or none), its
 * connection to vpcd, and the faults a test has asked for.  Each slot has
 * a thread that keeps the card connected to vpcd while it is inserted and
 * answers vpcd's frames; the control socket changes the slot under its
 * lock.
 */
#ifndef SIM_SLOT_H
#define SIM_SLOT_H

#include <pthread.h>
#include <stddef.h>

#include "sim_card.h"

enum sim_fault { SIM_FAULT_NONE, SIM_FAULT_REMOVE, SIM_FAULT_SILENT, SIM_FAULT_GARBAGE };

struct sim_slot {
	int index;
	int port; /* vpcd's port for this slot */
	pthread_t thread;
	pthread_mutex_t mu; /* guards everything below */
	struct sim_card *card;
	char profile[256];
	int inserted, unplugged, stop;
	int fd; /* connection to vpcd, owned by the slot thread */
	enum sim_fault fault;
	unsigned fault_at; /* the fault's APDU, counted from when it was set */
	unsigned since;    /* APDUs since the fault was set */
	int silent;        /* swallowing everything (silent-at reached) */
	int delay_apdu_ms, delay_sign_ms;
	char *log; /* C-APDUs since apdus-clear, hex, PIN data masked */
	size_t log_len, log_cap;
	unsigned log_count;
};

int sim_slot_start(struct sim_slot *s, int index, int port);
void sim_slot_stop(struct sim_slot *s);

#endif
