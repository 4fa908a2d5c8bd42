/*
 * hwg_terminals.h — the palm-vein terminals paired with this gateway: for
 * each serial, the Ed25519 device key its captures must be signed with,
 * and which admin client paired it when.
 *
 * Plain records over hwg_store: terminal.pair (gateway/ops/op_terminal.c)
 * decides who may pair and checks the key's fingerprint first.  Not
 * thread-safe, like the store.
 */
#ifndef HWG_TERMINALS_H
#define HWG_TERMINALS_H

#include <stdint.h>

#include "hwg_err.h"
#include "hwg_ids.h"
#include "hwg_store.h"

/* 1 if serial is 1..32 printable ASCII characters other than space. */
int hwg_terminal_id_valid(const char *serial);

struct hwg_terminal_rec {
	char serial[HWG_TERMINAL_ID_MAX + 1];
	uint8_t pubkey[HWG_TERMINAL_KEY_LEN];
	char paired_by[HWG_CLIENT_ID_MAX + 1]; /* the admin client */
	int64_t paired_ms;
};

/* Record (or replace) a terminal's device key; *replaced (may be NULL) says whether one was there.
 */
int hwg_terminal_pair(struct hwg_store *s, const struct hwg_terminal_rec *t, int *replaced,
                      struct hwg_error *err);
/* HWG_E_NOT_FOUND when the terminal was never paired. */
int hwg_terminal_get(struct hwg_store *s, const char *serial, struct hwg_terminal_rec *out,
                     struct hwg_error *err);
/* Calls fn for each paired terminal in serial order; fn's non-zero return stops the walk. */
int hwg_terminal_each(struct hwg_store *s, int (*fn)(void *ctx, const struct hwg_terminal_rec *t),
                      void *ctx, struct hwg_error *err);

#endif
