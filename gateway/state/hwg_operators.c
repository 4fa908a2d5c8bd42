/*
 * hwg_operators.c — see hwg_operators.h.  Every statement is one of the
 * store's cached ones, stepped and reset before anything else runs, except
 * the walk, which prepares its own so its callback may use the store.  A
 * row that does not read back as what was written (unknown role or
 * state) is HWG_E_STORE, never a default.  Revoking an operator ends its
 * sessions in the same transaction (hwg_sessions.c).
 */
#include "hwg_operators.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_secret.h"
#include "hwg_store_sql.h"

static const char *const state_names[] = {"active", "pending", "revoked"};

int
hwg_operator_state_parse(const char *name)
{
	for (int i = 0; i < (int)(sizeof(state_names) / sizeof(state_names[0])); i++)
		if (name != NULL && strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

const char *
hwg_operator_state_name(int state)
{
	return state >= 0 && state < (int)(sizeof(state_names) / sizeof(state_names[0]))
	           ? state_names[state]
	           : "unknown";
}

#define OPERATOR_COLUMNS                                                                           \
	"id, role, state, valid_until_ms, enrolled_by_client, enrolled_by_operator,"               \
	" confirmed_by, created_ms, template, fail_count, locked_until_ms"

void
hwg_operator_rec_clear(struct hwg_operator_rec *o)
{
	if (o == NULL)
		return;
	if (o->tmpl != NULL)
		hwg_wipe(o->tmpl, o->tmpl_len);
	free(o->tmpl);
	memset(o, 0, sizeof(*o));
}

static int
operator_valid(const struct hwg_operator_rec *o, struct hwg_error *err)
{
	if (!hwg_operator_id_valid(o->id))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "operator id \"%.*s\": 1-64 characters of A-Z a-z 0-9 . _ -",
		                     HWG_OPERATOR_ID_MAX, o->id);
	if (!hwg_role_operator(o->role) ||
	    (o->state != HWG_OPERATOR_ACTIVE && o->state != HWG_OPERATOR_PENDING))
		return hwg_error_set(err, HWG_E_INVALID, "operator \"%s\": bad role or state",
		                     o->id);
	if (o->tmpl == NULL || o->tmpl_len == 0 || o->tmpl_len > 4096)
		return hwg_error_set(err, HWG_E_INVALID, "operator \"%s\": no sealed template",
		                     o->id);
	if (!hwg_client_id_valid(o->enrolled_by_client) ||
	    (o->enrolled_by_operator[0] != '\0' && !hwg_operator_id_valid(o->enrolled_by_operator)))
		return hwg_error_set(err, HWG_E_INVALID, "operator \"%s\": bad enrolling party",
		                     o->id);
	return 0;
}

int
hwg_operator_add(struct hwg_store *s, const struct hwg_operator_rec *o, struct hwg_error *err)
{
	static const char sql[] =
	    "INSERT INTO operators (" OPERATOR_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)";
	sqlite3_stmt *st;
	int rc;

	if ((rc = operator_valid(o, err)) != 0)
		return rc;
	if ((st = hwg_store_stmt(s, sql, err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, o->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hwg_role_name(o->role), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, state_names[o->state], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, o->valid_until_ms);
	sqlite3_bind_text(st, 5, o->enrolled_by_client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, o->enrolled_by_operator, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, o->confirmed_by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, o->created_ms);
	sqlite3_bind_blob(st, 9, o->tmpl, (int)o->tmpl_len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc = hwg_error_set(err, HWG_E_EXISTS, "operator id \"%s\" is already taken", o->id);
	else
		rc = rc == SQLITE_DONE ? 0 : hwg_store_db_err(s, err, "operator add");
	sqlite3_reset(st);
	return rc;
}

/* One row into o; the template points into the statement.  A reason if malformed. */
static const char *
row_to_operator(sqlite3_stmt *st, struct hwg_operator_rec *o)
{
	memset(o, 0, sizeof(*o));
	if (hwg_store_column_text(st, 0, o->id, sizeof(o->id)) != 0)
		return "bad id";
	if (!hwg_role_operator(o->role = hwg_role_parse((const char *)sqlite3_column_text(st, 1))))
		return "unknown role";
	if ((o->state = hwg_operator_state_parse((const char *)sqlite3_column_text(st, 2))) < 0)
		return "unknown state";
	o->valid_until_ms = sqlite3_column_int64(st, 3);
	if (hwg_store_column_text(st, 4, o->enrolled_by_client, sizeof(o->enrolled_by_client)) !=
	        0 ||
	    hwg_store_column_text(st, 5, o->enrolled_by_operator,
	                          sizeof(o->enrolled_by_operator)) != 0 ||
	    hwg_store_column_text(st, 6, o->confirmed_by, sizeof(o->confirmed_by)) != 0)
		return "bad enrolling party";
	o->created_ms = sqlite3_column_int64(st, 7);
	if (sqlite3_column_type(st, 8) == SQLITE_BLOB) {
		o->tmpl = (uint8_t *)(uintptr_t)sqlite3_column_blob(st, 8);
		o->tmpl_len = (size_t)sqlite3_column_bytes(st, 8);
	}
	if ((o->tmpl == NULL) != (o->state == HWG_OPERATOR_REVOKED))
		return "template and state disagree";
	o->fail_count = sqlite3_column_int(st, 9);
	o->locked_until_ms = sqlite3_column_int64(st, 10);
	return NULL;
}

int
hwg_operator_get(struct hwg_store *s, const char *id, struct hwg_operator_rec *out,
                 struct hwg_error *err)
{
	static const char sql[] = "SELECT " OPERATOR_COLUMNS " FROM operators WHERE id = ?";
	const char *why;
	uint8_t *copy;
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((st = hwg_store_stmt(s, sql, err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		rc = hwg_error_set(err, HWG_E_NOT_FOUND, "operator \"%s\" is not enrolled", id);
	} else if (rc != SQLITE_ROW) {
		rc = hwg_store_db_err(s, err, "operator lookup");
	} else if ((why = row_to_operator(st, out)) != NULL) {
		rc = hwg_error_set(err, HWG_E_STORE, "operator \"%s\" in the store is damaged (%s)",
		                   id, why);
	} else if (out->tmpl != NULL) {
		if ((copy = malloc(out->tmpl_len)) == NULL) {
			rc = hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		} else {
			memcpy(copy, out->tmpl, out->tmpl_len);
			out->tmpl = copy;
			rc = 0;
		}
	} else {
		rc = 0;
	}
	sqlite3_reset(st);
	if (rc != 0)
		memset(out, 0, sizeof(*out)); /* tmpl pointed into the row, if anywhere */
	return rc;
}

int
hwg_operator_each(struct hwg_store *s, int (*fn)(void *ctx, const struct hwg_operator_rec *o),
                  void *ctx, struct hwg_error *err)
{
	struct hwg_operator_rec o;
	const char *why;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(hwg_store_db(s),
	                       "SELECT " OPERATOR_COLUMNS " FROM operators ORDER BY id", -1, &st,
	                       NULL) != SQLITE_OK)
		return hwg_store_db_err(s, err, "operator list");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((why = row_to_operator(st, &o)) != NULL) {
			rc = hwg_error_set(err, HWG_E_STORE,
			                   "operator \"%s\" in the store is damaged (%s)",
			                   o.id[0] != '\0' ? o.id : "?", why);
			sqlite3_finalize(st);
			return rc;
		}
		if (fn(ctx, &o) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : hwg_store_db_err(s, err, "operator list");
	sqlite3_finalize(st);
	return rc;
}

int
hwg_operator_state_of(struct hwg_store *s, const char *id, int *state, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = hwg_store_stmt(s, "SELECT state FROM operators WHERE id = ?", err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = (*state =
		          hwg_operator_state_parse((const char *)sqlite3_column_text(st, 0))) >= 0
		         ? 0
		         : hwg_error_set(err, HWG_E_STORE, "operator \"%s\" has an unknown state",
		                         id);
	else if (rc == SQLITE_DONE)
		rc = hwg_error_set(err, HWG_E_NOT_FOUND, "operator \"%s\" is not enrolled", id);
	else
		rc = hwg_store_db_err(s, err, "operator lookup");
	sqlite3_reset(st);
	return rc;
}

int
hwg_operator_confirm(struct hwg_store *s, const char *id, const char *confirmed_by,
                     struct hwg_error *err)
{
	sqlite3_stmt *st;
	int state, rc;

	if ((rc = hwg_operator_state_of(s, id, &state, err)) != 0)
		return rc;
	if (state != HWG_OPERATOR_PENDING)
		return hwg_error_set(err, HWG_E_INVALID, "operator \"%s\" is %s, not pending", id,
		                     state_names[state]);
	if ((st = hwg_store_stmt(s,
	                         "UPDATE operators SET state = 'active', confirmed_by = ? "
	                         "WHERE id = ? AND state = 'pending'",
	                         err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, confirmed_by, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	return hwg_store_step_done(s, st, "operator confirm", err);
}

int
hwg_operator_revoke(struct hwg_store *s, const char *id, size_t *sessions_ended,
                    struct hwg_error *err)
{
	sqlite3_stmt *st;
	int state, rc;

	if (sessions_ended != NULL)
		*sessions_ended = 0;
	if ((rc = hwg_operator_state_of(s, id, &state, err)) != 0)
		return rc;
	if (state == HWG_OPERATOR_REVOKED)
		return hwg_error_set(err, HWG_E_INVALID, "operator \"%s\" is already revoked", id);
	if ((st = hwg_store_stmt(s,
	                         "UPDATE operators SET state = 'revoked', template = NULL "
	                         "WHERE id = ?",
	                         err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = hwg_store_step_done(s, st, "operator revoke", err)) != 0)
		return rc;
	return hwg_sessions_end_operator(s, id, sessions_ended, err);
}

int
hwg_operator_fail(struct hwg_store *s, const char *id, int64_t now_ms, int max_failures,
                  int64_t lockout_ms, int *fail_count, int64_t *locked_until_ms,
                  struct hwg_error *err)
{
	static const char upd[] =
	    "UPDATE operators SET"
	    " locked_until_ms = CASE WHEN fail_count + 1 >= ?1 THEN ?2 ELSE locked_until_ms END,"
	    " fail_count = CASE WHEN fail_count + 1 >= ?1 THEN 0 ELSE fail_count + 1 END "
	    "WHERE id = ?3";
	sqlite3_stmt *st;
	int rc;

	*fail_count = 0;
	*locked_until_ms = 0;
	if (max_failures < 1)
		return hwg_error_set(err, HWG_E_INVALID, "max_failures must be at least 1");
	if ((st = hwg_store_stmt(s, "SELECT fail_count FROM operators WHERE id = ?", err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*fail_count = sqlite3_column_int(st, 0) + 1;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return hwg_error_set(err, HWG_E_NOT_FOUND, "operator \"%s\" is not enrolled", id);
	if (rc != SQLITE_ROW)
		return hwg_store_db_err(s, err, "operator lookup");
	if ((st = hwg_store_stmt(s, upd, err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_int(st, 1, max_failures);
	sqlite3_bind_int64(st, 2, now_ms + lockout_ms);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	if ((rc = hwg_store_step_done(s, st, "operator failure", err)) != 0)
		return rc;
	if (*fail_count >= max_failures) {
		*fail_count = 0;
		*locked_until_ms = now_ms + lockout_ms;
	}
	return 0;
}

int
hwg_operator_fail_reset(struct hwg_store *s, const char *id, struct hwg_error *err)
{
	sqlite3_stmt *st;

	if ((st = hwg_store_stmt(s,
	                         "UPDATE operators SET fail_count = 0, locked_until_ms = 0 "
	                         "WHERE id = ?",
	                         err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return hwg_store_step_done(s, st, "operator reset", err);
}

int
hwg_operator_usable(const struct hwg_operator_rec *o, int64_t now_ms, struct hwg_error *err)
{
	if (o->state == HWG_OPERATOR_PENDING)
		return hwg_error_set(
		    err, HWG_E_OPERATOR_EXPIRED,
		    "operator \"%s\" is pending: a second admin client must confirm "
		    "it (operator.confirm)",
		    o->id);
	if (o->state != HWG_OPERATOR_ACTIVE)
		return hwg_error_set(err, HWG_E_OPERATOR_EXPIRED, "operator \"%s\" is revoked",
		                     o->id);
	if (now_ms >= o->valid_until_ms)
		return hwg_error_set(err, HWG_E_OPERATOR_EXPIRED,
		                     "operator \"%s\" was valid until %lld ms (now %lld)", o->id,
		                     (long long)o->valid_until_ms, (long long)now_ms);
	if (now_ms < o->locked_until_ms)
		return hwg_error_set(err, HWG_E_OPERATOR_LOCKED,
		                     "operator \"%s\" is locked after failed verifications until "
		                     "%lld ms (%lld s from now)",
		                     o->id, (long long)o->locked_until_ms,
		                     (long long)((o->locked_until_ms - now_ms + 999) / 1000));
	return 0;
}

int
hwg_operator_count_active(struct hwg_store *s, int role, int64_t now_ms, int64_t *count,
                          struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	*count = 0;
	if ((st = hwg_store_stmt(s,
	                         "SELECT count(*) FROM operators WHERE role = ? AND "
	                         "state = 'active' AND valid_until_ms > ?",
	                         err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, hwg_role_name(role), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	rc = rc == SQLITE_ROW ? 0 : hwg_store_db_err(s, err, "operator count");
	sqlite3_reset(st);
	return rc;
}
