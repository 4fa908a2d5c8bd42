/*
 * hwg_operators.h — the store's records of people: the enrolled operators.
 *
 * Operators are the staff who work at a counter; each has an id, a role
 * (the same roles as clients), a validity end (staff who transfer lose
 * their rights that day), a state (pending until a second admin confirms
 * the first admin, active, or revoked), a sealed palm template (wiped when
 * revoked) and a count of failed verifications in a row with the lockout
 * it led to.  The sessions a verified palm opens are in hwg_sessions.h.
 *
 * Plain records over hwg_store: no policy beyond what keeps the records
 * consistent (the operations in gateway/ops/op_operator.c decide who may
 * do what).  Times are ms since the epoch, passed in by the caller so
 * tests can move the clock.  Not thread-safe, like the store.
 */
#ifndef HWG_OPERATORS_H
#define HWG_OPERATORS_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"
#include "hwg_ids.h"
#include "hwg_store.h"


enum hwg_operator_state { HWG_OPERATOR_ACTIVE = 0, HWG_OPERATOR_PENDING, HWG_OPERATOR_REVOKED };
const char *hwg_operator_state_name(int state);
/* "active", "pending", "revoked" -> enum; -1 if unknown. */
int hwg_operator_state_parse(const char *name);

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

#endif
