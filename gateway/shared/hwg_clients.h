/*
 * hwg_clients.h — the in-memory registry of clients the daemon serves.
 *
 * Loaded from the store at start and again on SIGHUP (hwgwctl client
 * add/remove write the store, then signal the daemon); the net process
 * gets it as a message (export/import).  No store here: the loader is
 * handed a walk over the records (the store's, hwg_store_load_clients).  Lookups return a
 * copy holding its own key reference, so a reload never pulls a key out
 * from under a request in flight.
 */
#ifndef HWG_CLIENTS_H
#define HWG_CLIENTS_H

#include <openssl/evp.h>
#include <stdint.h>

#include "hwg_buf.h"
#include "hwg_err.h"

struct hwg_clients;

#define HWG_CLIENT_ID_MAX 64
#define HWG_CLIENT_UIDS_MAX 16

/* A client as registered (the store's row, hwgwctl client add). */
struct hwg_client_rec {
	char id[HWG_CLIENT_ID_MAX + 1];
	int role;
	uint8_t *pubkey_der; /* SubjectPublicKeyInfo DER, owned */
	size_t pubkey_len;
	uint32_t uids[HWG_CLIENT_UIDS_MAX]; /* uids allowed on the Unix socket */
	size_t n_uids;                      /* 0: HTTP only, never the Unix socket */
	int64_t created_ms;
};
void hwg_client_rec_clear(struct hwg_client_rec *c);
/* Client ids are 1..64 of [A-Za-z0-9._-]. */
int hwg_client_id_valid(const char *id);

/* A walk over registered clients: fn for each, in id order; fn's non-zero return stops it. */
typedef int (*hwg_client_walk_fn)(void *src, int (*fn)(void *ctx, const struct hwg_client_rec *c),
                                  void *ctx, struct hwg_error *err);

struct hwg_client_entry {
	char id[HWG_CLIENT_ID_MAX + 1];
	int role;
	EVP_PKEY *key; /* owned reference */
	uint32_t uids[HWG_CLIENT_UIDS_MAX];
	size_t n_uids; /* 0: may not use the Unix socket at all */
};

struct hwg_clients *hwg_clients_new(void);
void hwg_clients_free(struct hwg_clients *cs);
/* Replace the table with the clients walk finds in src; on failure the old table stays. */
int hwg_clients_load(struct hwg_clients *cs, hwg_client_walk_fn walk, void *src, size_t *count,
                     struct hwg_error *err);
/*
 * The table as a message body for the net process (privilege
 * separation): u32 count, then per client id, role, public key (DER),
 * uids.  Import replaces the table with such a body, all of it consumed;
 * HWG_E_BAD_ENCODING (old table kept) for anything else.
 */
int hwg_clients_export(struct hwg_clients *cs, struct hwg_buf *b);
int hwg_clients_import(struct hwg_clients *cs, struct hwg_buf *b, size_t *count,
                       struct hwg_error *err);
/* Copy of the entry for id into out (release with hwg_client_entry_clear); HWG_E_UNKNOWN_CLIENT. */
int hwg_clients_lookup(struct hwg_clients *cs, const char *id, struct hwg_client_entry *out);
void hwg_client_entry_clear(struct hwg_client_entry *e);
/* 1 if the entry allows Unix-socket connections from uid. */
int hwg_client_uid_allowed(const struct hwg_client_entry *e, int64_t uid);

#endif
