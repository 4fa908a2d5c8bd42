/*
 * hwg_sessions.h — operator sessions: what a verified palm opens.
 *
 * A session is bound to one client and one terminal, with an idle timeout
 * and an absolute limit, and lives no longer than its operator is active
 * and valid.  The store keeps only the SHA-256 of a session token, never
 * the token, so a copy of the database opens no session; a session that
 * ended is remembered (by that hash) for a day, so that a late request is
 * told why rather than "unknown".
 *
 * Plain records over hwg_store (the request path in gateway/priv/hwg_core.c
 * decides when a session is needed and what its role allows).  Times are
 * ms since the epoch, passed in by the caller so tests can move the
 * clock.  Not thread-safe, like the store.
 */
#ifndef HWG_SESSIONS_H
#define HWG_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"
#include "hwg_ids.h"
#include "hwg_store.h"

#define HWG_SESSIONS_PER_OPERATOR 32 /* open sessions one operator may hold */

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
