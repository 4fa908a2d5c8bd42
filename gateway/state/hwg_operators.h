/*
 * hwg_operators.h — the store's records of people and terminals: paired
 * palm-vein terminals, enrolled operators and their open sessions.
 *
 * Operators are the staff who work at a counter; each has an id, a role
 * (the same roles as clients), a validity end (staff who transfer lose
 * their rights that day), a state (pending until a second admin confirms
 * the first admin, active, or revoked), a sealed palm template (wiped when
 * revoked) and a count of failed verifications in a row with the lockout
 * it led to.  A session is what a verified palm opens: bound to one client
 * and one terminal, with an idle timeout and an absolute limit.  The store
 * keeps only the SHA-256 of a session token, never the token, so a copy of
 * the database opens no session.
 *
 * Plain records over hwg_store: no policy beyond what keeps the records
 * consistent (the operations in gateway/op_operator.c decide who may do
 * what).  Times are ms since the epoch, passed in by the caller so tests
 * can move the clock.  Not thread-safe, like the store.
 */
#ifndef HWG_OPERATORS_H
#define HWG_OPERATORS_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"
#include "hwg_ids.h"
#include "hwg_store.h"

#define HWG_SESSIONS_PER_OPERATOR 32 /* open sessions one operator may hold */

/* 1 if id is 1..64 of [A-Za-z0-9._-]. */
int hwg_operator_id_valid(const char *id);
/* 1 if serial is 1..32 printable ASCII characters other than space. */
int hwg_terminal_id_valid(const char *serial);

/* ---- paired terminals ---- */

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

/* ---- operators ---- */

enum hwg_operator_state { HWG_OPERATOR_ACTIVE = 0, HWG_OPERATOR_PENDING, HWG_OPERATOR_REVOKED };
const char *hwg_operator_state_name(int state);

struct hwg_operator_rec {
	char id[HWG_OPERATOR_ID_MAX + 1];
	int role;  /* enum hwg_role */
	int state; /* enum hwg_operator_state */
	int64_t valid_until_ms;
	char enrolled_by_client[HWG_CLIENT_ID_MAX + 1];
	char enrolled_by_operator[HWG_OPERATOR_ID_MAX + 1]; /* "" in bootstrap mode */
	char confirmed_by[HWG_CLIENT_ID_MAX + 1];           /* the second admin client, or "" */
	int64_t created_ms;
	uint8_t *tmpl; /* sealed template; NULL once revoked */
	size_t tmpl_len;
	int fail_count; /* failed verifications in a row */
	int64_t locked_until_ms;
};
/* Free (wiping) the template copy; accepts NULL. */
void hwg_operator_rec_clear(struct hwg_operator_rec *o);

/* Insert a new operator (tmpl required).  HWG_E_EXISTS when the id is taken, even by a revoked one.
 */
int hwg_operator_add(struct hwg_store *s, const struct hwg_operator_rec *o, struct hwg_error *err);
/* A copy of the record (tmpl malloc'd; release with hwg_operator_rec_clear); HWG_E_NOT_FOUND. */
int hwg_operator_get(struct hwg_store *s, const char *id, struct hwg_operator_rec *out,
                     struct hwg_error *err);
/*
 * Calls fn for each operator in id order; o->tmpl points into the store's
 * row and is valid only during the call.  fn may not use the store.
 */
int hwg_operator_each(struct hwg_store *s, int (*fn)(void *ctx, const struct hwg_operator_rec *o),
                      void *ctx, struct hwg_error *err);
/* pending -> active, recording who confirmed.  HWG_E_NOT_FOUND; HWG_E_INVALID if not pending. */
int hwg_operator_confirm(struct hwg_store *s, const char *id, const char *confirmed_by,
                         struct hwg_error *err);
/*
 * Revoke: state revoked, the template wiped (secure_delete overwrites the
 * freed pages), every session ended (*sessions_ended, may be NULL).
 * HWG_E_NOT_FOUND; HWG_E_INVALID if already revoked.
 */
int hwg_operator_revoke(struct hwg_store *s, const char *id, size_t *sessions_ended,
                        struct hwg_error *err);
/*
 * One more failed verification at now.  At max_failures in a row the
 * operator is locked until now + lockout_ms and the count starts again
 * from 0 (so *locked_until_ms is non-zero exactly when this failure
 * locked it).  *fail_count receives the count after this failure.
 */
int hwg_operator_fail(struct hwg_store *s, const char *id, int64_t now_ms, int max_failures,
                      int64_t lockout_ms, int *fail_count, int64_t *locked_until_ms,
                      struct hwg_error *err);
/* A successful verification: the count back to 0 and any expired lock forgotten. */
int hwg_operator_fail_reset(struct hwg_store *s, const char *id, struct hwg_error *err);
/*
 * Whether o may open a session at now: 0, or HWG_E_OPERATOR_EXPIRED (pending,
 * revoked, or past valid_until: a message for each) or HWG_E_OPERATOR_LOCKED
 * (saying until when).
 */
int hwg_operator_usable(const struct hwg_operator_rec *o, int64_t now_ms, struct hwg_error *err);
/* Operators of role that are active and before their valid_until at now. */
int hwg_operator_count_active(struct hwg_store *s, int role, int64_t now_ms, int64_t *count,
                              struct hwg_error *err);

/* ---- operator sessions ---- */

/* Why a session is not (or no longer) usable; HWG_SESSION_LIVE if it is. */
enum hwg_session_end {
	HWG_SESSION_LIVE = 0,
	HWG_SESSION_IDLE,        /* unused for longer than the idle timeout */
	HWG_SESSION_ABSOLUTE,    /* past its absolute limit */
	HWG_SESSION_VALID_UNTIL, /* its operator's validity ended */
	HWG_SESSION_OPERATOR,    /* its operator is revoked (or not active) */
	HWG_SESSION_LOGOUT,      /* ended by operator.logout */
	HWG_SESSION_REPLACED,    /* the operator verified again on the same client and terminal */
};
/* "idle", "absolute", "valid_until", "operator_revoked", "logout", "replaced". */
const char *hwg_session_end_name(int why);

struct hwg_session_rec {
	uint8_t token_hash[32];
	char operator_id[HWG_OPERATOR_ID_MAX + 1];
	char client_id[HWG_CLIENT_ID_MAX + 1];
	char terminal[HWG_TERMINAL_ID_MAX + 1];
	int64_t created_ms;
	int64_t last_used_ms;
	int64_t absolute_expiry_ms;
	/* of its operator, at lookup */
	int operator_role;
	int operator_state;
	int64_t valid_until_ms;
};

/*
 * Open a session for the token (its SHA-256 is stored).  The operator's
 * earlier session on the same client and terminal, if any, is ended
 * (*replaced = 1).  HWG_E_NOT_FOUND for an unknown operator; HWG_E_EXISTS
 * for a token already in use; HWG_E_UNAVAILABLE when the operator already
 * holds HWG_SESSIONS_PER_OPERATOR sessions.
 */
int hwg_session_create(struct hwg_store *s, const uint8_t *token, size_t token_len,
                       const char *operator_id, const char *client_id, const char *terminal,
                       int64_t now_ms, int64_t max_ms, int *replaced, struct hwg_error *err);
/*
 * The session for token, used by client_id at now: 0 with *out filled
 * when it is live; HWG_E_SESSION with a message for each reason it is
 * not (unknown, another client's, idle past idle_ms, past its absolute
 * limit, its operator not active, past the operator's valid_until).
 * *out is filled whenever the session exists (for the audit).
 * Changes nothing; see hwg_session_touch.
 */
int hwg_session_lookup(struct hwg_store *s, const uint8_t *token, size_t token_len,
                       const char *client_id, int64_t now_ms, int64_t idle_ms,
                       struct hwg_session_rec *out, struct hwg_error *err);
/* Record a use at now (the idle timeout starts again). */
int hwg_session_touch(struct hwg_store *s, const uint8_t *token, size_t token_len, int64_t now_ms,
                      struct hwg_error *err);
/* End one session (logout); HWG_E_NOT_FOUND if there is none. */
int hwg_session_end(struct hwg_store *s, const uint8_t *token, size_t token_len,
                    struct hwg_error *err);
/* Sessions open for operator_id (for operator.list). */
int hwg_session_count(struct hwg_store *s, const char *operator_id, int64_t *count,
                      struct hwg_error *err);
/* Which end (if any) applies to r at now: the one rule lookup and sweep share. */
int hwg_session_state(const struct hwg_session_rec *r, int64_t now_ms, int64_t idle_ms);
/*
 * End every session that is no longer live at now (at most max), calling
 * fn with each ended record and its reason after it is deleted; fn may
 * use the store.  *ended (may be NULL) receives how many ended.
 */
int hwg_session_sweep(struct hwg_store *s, int64_t now_ms, int64_t idle_ms, size_t max,
                      int (*fn)(void *ctx, const struct hwg_session_rec *r, int why), void *ctx,
                      size_t *ended, struct hwg_error *err);

#endif
