/*
 * hwg_store.h — the state directory and its SQLite database.
 *
 * One database, <state_dir>/hwgw.db, in WAL mode with synchronous=FULL:
 * a commit that returns has reached the disk, which is what lets the
 * audit log promise "no request runs unaudited".  The state directory
 * must be owned by us and private (mode 0700 or narrower); it is created
 * that way on first start.  The schema is versioned (PRAGMA user_version)
 * and migrated forward on open.  Holds: registered clients, the replay
 * cache, the audit log and its checkpoints (hwg_audit.h), paired terminals
 * (hwg_terminals.h), operators (hwg_operators.h) and their sessions
 * (hwg_sessions.h), and the issuance journal (hwg_issuance.h).  SQLite
 * itself stays behind these headers: no SQL and no SQLite handle leave
 * gateway/state/.  Not thread-safe: the daemon
 * serialises access; other processes (hwgwctl) open their own handle and
 * SQLite's locking plus a busy timeout keeps them apart.
 */
#ifndef HWG_STORE_H
#define HWG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_clients.h"
#include "hwg_err.h"
#include "hwg_roles.h"

struct hwg_store;

/*
 * Open (create=1: creating the directory 0700 and the database if
 * missing).  HWG_E_CONFIG if the directory is not a directory, not ours,
 * or its mode is wider than 0700 (the message names the path and mode);
 * the same for hwgw.db (a regular file, ours, 0600).  A read-only
 * hwgw.db is HWG_E_STORE: nothing could be recorded in it.
 */
int hwg_store_open(const char *state_dir, int create, struct hwg_store **out,
                   struct hwg_error *err);
void hwg_store_close(struct hwg_store *s);
const char *hwg_store_dir(const struct hwg_store *s);

/*
 * Transactions (BEGIN IMMEDIATE).  A failed commit (disk full, I/O
 * error) is HWG_E_STORE and leaves no transaction open.
 */
int hwg_store_begin(struct hwg_store *s, struct hwg_error *err);
int hwg_store_commit(struct hwg_store *s, struct hwg_error *err);
void hwg_store_rollback(struct hwg_store *s);
/*
 * 1 while a transaction is open.  SQLite ends one on its own after some
 * failures (a full disk, an I/O error): a caller holding one open across
 * several steps checks before it builds on it.
 */
int hwg_store_in_transaction(const struct hwg_store *s);

/*
 * Savepoints inside the open transaction, named by 1-32 of [a-z_]
 * (HWG_E_INVALID otherwise): a part of it that can be undone alone.
 * rollback_to undoes what was written since the savepoint and keeps it;
 * release ends it, keeping what was written.  HWG_E_STORE on failure
 * (err may be NULL).
 */
int hwg_store_savepoint(struct hwg_store *s, const char *name, struct hwg_error *err);
int hwg_store_rollback_to(struct hwg_store *s, const char *name, struct hwg_error *err);
int hwg_store_release(struct hwg_store *s, const char *name, struct hwg_error *err);

/* ---- registered clients ---- */

/*
 * Client ids are 1..64 of [A-Za-z0-9._-]; the key must parse as an
 * Ed25519 or P-256 SubjectPublicKeyInfo.  HWG_E_EXISTS on a duplicate.
 */
int hwg_store_client_add(struct hwg_store *s, const struct hwg_client_rec *c,
                         struct hwg_error *err);
int hwg_store_client_remove(struct hwg_store *s, const char *id, struct hwg_error *err);
/* Calls fn for each client in id order; fn's non-zero return stops the walk. */
int hwg_store_client_each(struct hwg_store *s, int (*fn)(void *ctx, const struct hwg_client_rec *c),
                          void *ctx, struct hwg_error *err);

/* Fill the client registry from the store (start, SIGHUP); the old table stays on failure. */
int hwg_store_load_clients(struct hwg_store *s, struct hwg_clients *cs, size_t *count,
                           struct hwg_error *err);

/* ---- replay cache ---- */

/*
 * Record (client, nonce) seen at time_ms; HWG_E_REPLAY if already there.
 * Entries older than now_ms - keep_ms are pruned opportunistically.
 */
int hwg_store_nonce_record(struct hwg_store *s, const char *client, const uint8_t *nonce,
                           size_t nonce_len, int64_t now_ms, int64_t keep_ms,
                           struct hwg_error *err);
/* 1 if present, 0 if not, <0 on error. */
int hwg_store_nonce_seen(struct hwg_store *s, const char *client, const uint8_t *nonce,
                         size_t nonce_len, struct hwg_error *err);

#endif
