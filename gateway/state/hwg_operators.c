/*
 * hwg_operators.c — see hwg_operators.h.  Every statement is one of the
 * store's cached ones, stepped and reset before anything else runs, except
 * the walks, which prepare their own so their callbacks may use the store.
 * A row that does not read back as what was written (unknown role or
 * state, a key of the wrong size) is HWG_E_STORE, never a default.
 */
#include "hwg_operators.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_secret.h"

static const char *const state_names[] = {"active", "pending", "revoked"};
static const char *const end_names[] = {
    "live", "idle", "absolute", "valid_until", "operator_revoked", "logout", "replaced"};

/* ---------------------------------------------------------------- helpers */

static int
db_err(struct hwg_store *s, struct hwg_error *err, const char *what)
{
	return hwg_error_set(err, HWG_E_STORE, "%s: %s", what, sqlite3_errmsg(hwg_store_db(s)));
}

/* Step a statement that returns no row, then reset it. */
static int
step_done(struct hwg_store *s, sqlite3_stmt *st, const char *what, struct hwg_error *err)
{
	int rc = sqlite3_step(st);

	rc = rc == SQLITE_DONE ? 0 : db_err(s, err, what);
	sqlite3_reset(st);
	return rc;
}

static int
changes(struct hwg_store *s)
{
	return sqlite3_changes(hwg_store_db(s));
}

/* Copy a text column into out (n bytes); 0 if it fits, -1 if NULL or too long. */
static int
column_text(sqlite3_stmt *st, int col, char *out, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t len = t != NULL ? strlen((const char *)t) : 0;

	out[0] = '\0';
	if (t == NULL || len >= n)
		return -1;
	memcpy(out, t, len + 1);
	return 0;
}

static int
state_parse(const char *name)
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

const char *
hwg_session_end_name(int why)
{
	return why >= 0 && why < (int)(sizeof(end_names) / sizeof(end_names[0])) ? end_names[why]
	                                                                         : "unknown";
}

int
hwg_operator_id_valid(const char *id)
{
	/* the same alphabet and length as client ids */
	return hwg_client_id_valid(id);
}

int
hwg_terminal_id_valid(const char *serial)
{
	size_t n = 0;

	if (serial == NULL)
		return 0;
	for (const unsigned char *p = (const unsigned char *)serial; *p != '\0'; p++, n++)
		if (n == HWG_TERMINAL_ID_MAX || *p <= 0x20 || *p >= 0x7f)
			return 0;
	return n > 0;
}

static void
token_hash(const uint8_t *token, size_t len, uint8_t out[32])
{
	SHA256(token, len, out);
}

static int
token_check(const uint8_t *token, size_t len, struct hwg_error *err)
{
	if (token == NULL || len < HWG_SESSION_TOKEN_MIN || len > HWG_SESSION_TOKEN_MAX)
		return hwg_error_set(err, HWG_E_INVALID, "a session token is %d to %d bytes",
		                     HWG_SESSION_TOKEN_MIN, HWG_SESSION_TOKEN_MAX);
	return 0;
}

/* ---------------------------------------------------------------- terminals */

int
hwg_terminal_pair(struct hwg_store *s, const struct hwg_terminal_rec *t, int *replaced,
                  struct hwg_error *err)
{
	static const char sql[] =
	    "INSERT INTO terminals (serial, pubkey, paired_by, paired_ms) VALUES (?, ?, ?, ?) "
	    "ON CONFLICT (serial) DO UPDATE SET pubkey = excluded.pubkey,"
	    " paired_by = excluded.paired_by, paired_ms = excluded.paired_ms";
	struct hwg_terminal_rec old;
	sqlite3_stmt *st;
	int rc;

	if (!hwg_terminal_id_valid(t->serial) || !hwg_client_id_valid(t->paired_by))
		return hwg_error_set(err, HWG_E_INVALID, "terminal serial or client id malformed");
	rc = hwg_terminal_get(s, t->serial, &old, err);
	if (rc != 0 && rc != HWG_E_NOT_FOUND)
		return rc;
	hwg_error_clear(err);
	if (replaced != NULL)
		*replaced = rc == 0;
	if ((st = hwg_store_stmt(s, sql, err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, t->serial, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, t->pubkey, sizeof(t->pubkey), SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t->paired_by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, t->paired_ms);
	return step_done(s, st, "terminal pair", err);
}

static int
row_to_terminal(sqlite3_stmt *st, struct hwg_terminal_rec *t)
{
	memset(t, 0, sizeof(*t));
	if (column_text(st, 0, t->serial, sizeof(t->serial)) != 0 ||
	    sqlite3_column_type(st, 1) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, 1) != HWG_TERMINAL_KEY_LEN ||
	    column_text(st, 2, t->paired_by, sizeof(t->paired_by)) != 0)
		return -1;
	memcpy(t->pubkey, sqlite3_column_blob(st, 1), HWG_TERMINAL_KEY_LEN);
	t->paired_ms = sqlite3_column_int64(st, 3);
	return 0;
}

int
hwg_terminal_get(struct hwg_store *s, const char *serial, struct hwg_terminal_rec *out,
                 struct hwg_error *err)
{
	static const char sql[] =
	    "SELECT serial, pubkey, paired_by, paired_ms FROM terminals WHERE serial = ?";
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((st = hwg_store_stmt(s, sql, err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = row_to_terminal(st, out) == 0
		         ? 0
		         : hwg_error_set(err, HWG_E_STORE,
		                         "terminal \"%s\" in the store is damaged", serial);
	else if (rc == SQLITE_DONE)
		rc = hwg_error_set(err, HWG_E_NOT_FOUND, "terminal \"%s\" is not paired", serial);
	else
		rc = db_err(s, err, "terminal lookup");
	sqlite3_reset(st);
	return rc;
}

int
hwg_terminal_each(struct hwg_store *s, int (*fn)(void *ctx, const struct hwg_terminal_rec *t),
                  void *ctx, struct hwg_error *err)
{
	struct hwg_terminal_rec t;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(hwg_store_db(s),
	                       "SELECT serial, pubkey, paired_by, paired_ms FROM terminals "
	                       "ORDER BY serial",
	                       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "terminal list");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (row_to_terminal(st, &t) != 0) {
			sqlite3_finalize(st);
			return hwg_error_set(err, HWG_E_STORE, "a paired terminal is damaged");
		}
		if (fn(ctx, &t) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : db_err(s, err, "terminal list");
	sqlite3_finalize(st);
	return rc;
}

/* ---------------------------------------------------------------- operators */

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
	if (o->role < 0 || o->role >= HWG_ROLE_COUNT_ ||
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
		rc = rc == SQLITE_DONE ? 0 : db_err(s, err, "operator add");
	sqlite3_reset(st);
	return rc;
}

/* One row into o; the template points into the statement.  A reason if malformed. */
static const char *
row_to_operator(sqlite3_stmt *st, struct hwg_operator_rec *o)
{
	memset(o, 0, sizeof(*o));
	if (column_text(st, 0, o->id, sizeof(o->id)) != 0)
		return "bad id";
	if ((o->role = hwg_role_parse((const char *)sqlite3_column_text(st, 1))) < 0)
		return "unknown role";
	if ((o->state = state_parse((const char *)sqlite3_column_text(st, 2))) < 0)
		return "unknown state";
	o->valid_until_ms = sqlite3_column_int64(st, 3);
	if (column_text(st, 4, o->enrolled_by_client, sizeof(o->enrolled_by_client)) != 0 ||
	    column_text(st, 5, o->enrolled_by_operator, sizeof(o->enrolled_by_operator)) != 0 ||
	    column_text(st, 6, o->confirmed_by, sizeof(o->confirmed_by)) != 0)
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
		rc = db_err(s, err, "operator lookup");
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
		return db_err(s, err, "operator list");
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
	rc = rc == SQLITE_DONE ? 0 : db_err(s, err, "operator list");
	sqlite3_finalize(st);
	return rc;
}

/* The state of id, or HWG_E_NOT_FOUND. */
static int
operator_state(struct hwg_store *s, const char *id, int *state, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = hwg_store_stmt(s, "SELECT state FROM operators WHERE id = ?", err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = (*state = state_parse((const char *)sqlite3_column_text(st, 0))) >= 0
		         ? 0
		         : hwg_error_set(err, HWG_E_STORE, "operator \"%s\" has an unknown state",
		                         id);
	else if (rc == SQLITE_DONE)
		rc = hwg_error_set(err, HWG_E_NOT_FOUND, "operator \"%s\" is not enrolled", id);
	else
		rc = db_err(s, err, "operator lookup");
	sqlite3_reset(st);
	return rc;
}

int
hwg_operator_confirm(struct hwg_store *s, const char *id, const char *confirmed_by,
                     struct hwg_error *err)
{
	sqlite3_stmt *st;
	int state, rc;

	if ((rc = operator_state(s, id, &state, err)) != 0)
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
	return step_done(s, st, "operator confirm", err);
}

/* Ended sessions are remembered for this long, so a late request learns why. */
#define ENDED_KEEP_MS (24 * 3600 * 1000LL)
#define NOW_MS_SQL "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"

/* Remember why the sessions that sql_where selects (binding ?2.. ) end; ?1 is the reason. */
static sqlite3_stmt *
tombstone_stmt(struct hwg_store *s, const char *sql, int why, struct hwg_error *err)
{
	sqlite3_stmt *st = hwg_store_stmt(s, sql, err);

	if (st != NULL)
		sqlite3_bind_int(st, 1, why);
	return st;
}

static int
sessions_delete_of(struct hwg_store *s, const char *id, size_t *n, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = tombstone_stmt(
	         s,
	         "INSERT OR REPLACE INTO ended_sessions SELECT token_hash, ?1, " NOW_MS_SQL
	         " FROM operator_sessions WHERE operator_id = ?2",
	         HWG_SESSION_OPERATOR, err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if ((rc = step_done(s, st, "session end", err)) != 0)
		return rc;
	if ((st = hwg_store_stmt(s, "DELETE FROM operator_sessions WHERE operator_id = ?", err)) ==
	    NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = step_done(s, st, "session end", err)) == 0 && n != NULL)
		*n = (size_t)changes(s);
	return rc;
}

int
hwg_operator_revoke(struct hwg_store *s, const char *id, size_t *sessions_ended,
                    struct hwg_error *err)
{
	sqlite3_stmt *st;
	int state, rc;

	if (sessions_ended != NULL)
		*sessions_ended = 0;
	if ((rc = operator_state(s, id, &state, err)) != 0)
		return rc;
	if (state == HWG_OPERATOR_REVOKED)
		return hwg_error_set(err, HWG_E_INVALID, "operator \"%s\" is already revoked", id);
	if ((st = hwg_store_stmt(s,
	                         "UPDATE operators SET state = 'revoked', template = NULL "
	                         "WHERE id = ?",
	                         err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = step_done(s, st, "operator revoke", err)) != 0)
		return rc;
	return sessions_delete_of(s, id, sessions_ended, err);
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
		return db_err(s, err, "operator lookup");
	if ((st = hwg_store_stmt(s, upd, err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_int(st, 1, max_failures);
	sqlite3_bind_int64(st, 2, now_ms + lockout_ms);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	if ((rc = step_done(s, st, "operator failure", err)) != 0)
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
	return step_done(s, st, "operator reset", err);
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
	rc = rc == SQLITE_ROW ? 0 : db_err(s, err, "operator count");
	sqlite3_reset(st);
	return rc;
}

/* ---------------------------------------------------------------- sessions */

#define SESSION_SELECT                                                                             \
	"SELECT s.token_hash, s.operator_id, s.client_id, s.terminal, s.created_ms,"               \
	" s.last_used_ms, s.absolute_expiry_ms, o.role, o.state, o.valid_until_ms "                \
	"FROM operator_sessions s JOIN operators o ON o.id = s.operator_id "

static int
row_to_session(sqlite3_stmt *st, struct hwg_session_rec *r)
{
	memset(r, 0, sizeof(*r));
	if (sqlite3_column_type(st, 0) != SQLITE_BLOB || sqlite3_column_bytes(st, 0) != 32 ||
	    column_text(st, 1, r->operator_id, sizeof(r->operator_id)) != 0 ||
	    column_text(st, 2, r->client_id, sizeof(r->client_id)) != 0 ||
	    column_text(st, 3, r->terminal, sizeof(r->terminal)) != 0)
		return -1;
	memcpy(r->token_hash, sqlite3_column_blob(st, 0), 32);
	r->created_ms = sqlite3_column_int64(st, 4);
	r->last_used_ms = sqlite3_column_int64(st, 5);
	r->absolute_expiry_ms = sqlite3_column_int64(st, 6);
	r->operator_role = hwg_role_parse((const char *)sqlite3_column_text(st, 7));
	r->operator_state = state_parse((const char *)sqlite3_column_text(st, 8));
	r->valid_until_ms = sqlite3_column_int64(st, 9);
	return r->operator_role < 0 || r->operator_state < 0 ? -1 : 0;
}

int
hwg_session_state(const struct hwg_session_rec *r, int64_t now_ms, int64_t idle_ms)
{
	if (r->operator_state != HWG_OPERATOR_ACTIVE)
		return HWG_SESSION_OPERATOR;
	if (now_ms >= r->valid_until_ms)
		return HWG_SESSION_VALID_UNTIL;
	if (now_ms >= r->absolute_expiry_ms)
		return HWG_SESSION_ABSOLUTE;
	if (now_ms - r->last_used_ms > idle_ms)
		return HWG_SESSION_IDLE;
	return HWG_SESSION_LIVE;
}

static int
session_count_of(struct hwg_store *s, const char *operator_id, int64_t *count,
                 struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	*count = 0;
	if ((st = hwg_store_stmt(s, "SELECT count(*) FROM operator_sessions WHERE operator_id = ?",
	                         err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, operator_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	rc = rc == SQLITE_ROW ? 0 : db_err(s, err, "session count");
	sqlite3_reset(st);
	return rc;
}

int
hwg_session_count(struct hwg_store *s, const char *operator_id, int64_t *count,
                  struct hwg_error *err)
{
	return session_count_of(s, operator_id, count, err);
}

/* End the operator's session on this client and terminal, if there is one. */
static int
session_replace(struct hwg_store *s, const char *operator_id, const char *client_id,
                const char *terminal, int *replaced, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = tombstone_stmt(
	         s,
	         "INSERT OR REPLACE INTO ended_sessions SELECT token_hash, ?1, " NOW_MS_SQL
	         " FROM operator_sessions WHERE operator_id = ?2 AND client_id = ?3"
	         " AND terminal = ?4",
	         HWG_SESSION_REPLACED, err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 2, operator_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, terminal, -1, SQLITE_STATIC);
	if ((rc = step_done(s, st, "session replace", err)) != 0)
		return rc;
	if ((st = hwg_store_stmt(s,
	                         "DELETE FROM operator_sessions WHERE operator_id = ? AND "
	                         "client_id = ? AND terminal = ?",
	                         err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, operator_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, client_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, terminal, -1, SQLITE_STATIC);
	if ((rc = step_done(s, st, "session replace", err)) == 0)
		*replaced = changes(s) > 0;
	return rc;
}

int
hwg_session_create(struct hwg_store *s, const uint8_t *token, size_t token_len,
                   const char *operator_id, const char *client_id, const char *terminal,
                   int64_t now_ms, int64_t max_ms, int *replaced, struct hwg_error *err)
{
	static const char sql[] =
	    "INSERT INTO operator_sessions (token_hash, operator_id, client_id, terminal,"
	    " created_ms, last_used_ms, absolute_expiry_ms) VALUES (?, ?, ?, ?, ?, ?, ?)";
	uint8_t hash[32];
	sqlite3_stmt *st;
	int64_t open;
	int state, rc, dummy;

	if (replaced == NULL)
		replaced = &dummy;
	*replaced = 0;
	if ((rc = token_check(token, token_len, err)) != 0)
		return rc;
	if (!hwg_client_id_valid(client_id) || !hwg_terminal_id_valid(terminal) || max_ms <= 0)
		return hwg_error_set(err, HWG_E_INVALID, "bad client, terminal or session limit");
	if ((rc = operator_state(s, operator_id, &state, err)) != 0 ||
	    (rc = session_replace(s, operator_id, client_id, terminal, replaced, err)) != 0 ||
	    (rc = session_count_of(s, operator_id, &open, err)) != 0)
		return rc;
	if (open >= HWG_SESSIONS_PER_OPERATOR)
		return hwg_error_set(err, HWG_E_UNAVAILABLE,
		                     "operator \"%s\" already has %d open sessions: log one out",
		                     operator_id, HWG_SESSIONS_PER_OPERATOR);
	if ((st = hwg_store_stmt(s, sql, err)) == NULL)
		return HWG_E_STORE;
	token_hash(token, token_len, hash);
	sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, operator_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, terminal, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now_ms);
	sqlite3_bind_int64(st, 6, now_ms);
	sqlite3_bind_int64(st, 7, now_ms + max_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc = hwg_error_set(err, HWG_E_EXISTS, "session token already in use");
	else
		rc = rc == SQLITE_DONE ? 0 : db_err(s, err, "session create");
	sqlite3_reset(st);
	return rc;
}

static int
session_get(struct hwg_store *s, const uint8_t hash[32], struct hwg_session_rec *out,
            struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = hwg_store_stmt(s, SESSION_SELECT "WHERE s.token_hash = ?", err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = row_to_session(st, out) == 0
		         ? 0
		         : hwg_error_set(err, HWG_E_STORE, "an operator session is damaged");
	else if (rc == SQLITE_DONE)
		rc = HWG_E_NOT_FOUND;
	else
		rc = db_err(s, err, "session lookup");
	sqlite3_reset(st);
	return rc;
}

/* Why the session with this hash ended, if it did within ENDED_KEEP_MS; else HWG_SESSION_LIVE. */
static int
session_ended_why(struct hwg_store *s, const uint8_t hash[32])
{
	sqlite3_stmt *st =
	    hwg_store_stmt(s, "SELECT reason FROM ended_sessions WHERE token_hash = ?", NULL);
	int why = HWG_SESSION_LIVE;

	if (st == NULL)
		return why;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		why = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return why;
}

static int
ended_refusal(int why, struct hwg_error *err)
{
	static const char *const texts[] = {
	    [HWG_SESSION_IDLE] = "was unused for too long",
	    [HWG_SESSION_ABSOLUTE] = "reached its time limit",
	    [HWG_SESSION_VALID_UNTIL] = "ended when its operator's validity ended",
	    [HWG_SESSION_OPERATOR] = "ended when its operator was revoked",
	    [HWG_SESSION_LOGOUT] = "was logged out",
	    [HWG_SESSION_REPLACED] = "was replaced by a newer verification of the same operator",
	};

	if (why <= HWG_SESSION_LIVE || why > HWG_SESSION_REPLACED)
		return hwg_error_set(err, HWG_E_SESSION,
		                     "unknown operator session (ended, or never opened)");
	return hwg_error_set(err, HWG_E_SESSION, "the operator session %s: verify again",
	                     texts[why]);
}

static int
session_refusal(const struct hwg_session_rec *r, int why, int64_t now_ms, int64_t idle_ms,
                struct hwg_error *err)
{
	switch (why) {
	case HWG_SESSION_OPERATOR:
		return hwg_error_set(err, HWG_E_SESSION,
		                     "operator \"%s\" is %s: the session has ended", r->operator_id,
		                     hwg_operator_state_name(r->operator_state));
	case HWG_SESSION_VALID_UNTIL:
		return hwg_error_set(
		    err, HWG_E_SESSION,
		    "operator \"%s\" was valid until %lld ms: the session has ended",
		    r->operator_id, (long long)r->valid_until_ms);
	case HWG_SESSION_ABSOLUTE:
		return hwg_error_set(err, HWG_E_SESSION,
		                     "the operator session reached its limit %lld s after it was "
		                     "opened: verify again",
		                     (long long)((r->absolute_expiry_ms - r->created_ms) / 1000));
	default:
		return hwg_error_set(err, HWG_E_SESSION,
		                     "the operator session was idle for %lld s (limit %lld s): "
		                     "verify again",
		                     (long long)((now_ms - r->last_used_ms) / 1000),
		                     (long long)(idle_ms / 1000));
	}
}

int
hwg_session_lookup(struct hwg_store *s, const uint8_t *token, size_t token_len,
                   const char *client_id, int64_t now_ms, int64_t idle_ms,
                   struct hwg_session_rec *out, struct hwg_error *err)
{
	uint8_t hash[32];
	int rc, why;

	memset(out, 0, sizeof(*out));
	if (token == NULL || token_len < HWG_SESSION_TOKEN_MIN || token_len > HWG_SESSION_TOKEN_MAX)
		return hwg_error_set(err, HWG_E_SESSION, "a session token is %d to %d bytes",
		                     HWG_SESSION_TOKEN_MIN, HWG_SESSION_TOKEN_MAX);
	token_hash(token, token_len, hash);
	rc = session_get(s, hash, out, err);
	if (rc == HWG_E_NOT_FOUND)
		return ended_refusal(session_ended_why(s, hash), err);
	if (rc != 0)
		return rc;
	if (strcmp(out->client_id, client_id) != 0)
		return hwg_error_set(err, HWG_E_SESSION,
		                     "the operator session was opened by another client");
	if ((why = hwg_session_state(out, now_ms, idle_ms)) != HWG_SESSION_LIVE)
		return session_refusal(out, why, now_ms, idle_ms, err);
	return 0;
}

int
hwg_session_touch(struct hwg_store *s, const uint8_t *token, size_t token_len, int64_t now_ms,
                  struct hwg_error *err)
{
	uint8_t hash[32];
	sqlite3_stmt *st;
	int rc;

	if ((rc = token_check(token, token_len, err)) != 0)
		return rc;
	if ((st = hwg_store_stmt(s,
	                         "UPDATE operator_sessions SET last_used_ms = max(last_used_ms, ?) "
	                         "WHERE token_hash = ?",
	                         err)) == NULL)
		return HWG_E_STORE;
	token_hash(token, token_len, hash);
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_blob(st, 2, hash, sizeof(hash), SQLITE_TRANSIENT);
	if ((rc = step_done(s, st, "session touch", err)) != 0)
		return rc;
	return changes(s) > 0 ? 0 : hwg_error_set(err, HWG_E_NOT_FOUND, "no such session");
}

/* End one session, remembering why (enum hwg_session_end); HWG_E_NOT_FOUND if none. */
static int
session_delete(struct hwg_store *s, const uint8_t hash[32], int why, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = hwg_store_stmt(s, "DELETE FROM operator_sessions WHERE token_hash = ?", err)) ==
	    NULL)
		return HWG_E_STORE;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	if ((rc = step_done(s, st, "session end", err)) != 0)
		return rc;
	if (changes(s) == 0)
		return HWG_E_NOT_FOUND;
	if ((st = tombstone_stmt(
	         s, "INSERT OR REPLACE INTO ended_sessions VALUES (?2, ?1, " NOW_MS_SQL ")", why,
	         err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
	return step_done(s, st, "session end", err);
}

int
hwg_session_end(struct hwg_store *s, const uint8_t *token, size_t token_len, struct hwg_error *err)
{
	uint8_t hash[32];
	int rc;

	if ((rc = token_check(token, token_len, err)) != 0)
		return rc;
	token_hash(token, token_len, hash);
	rc = session_delete(s, hash, HWG_SESSION_LOGOUT, err);
	if (rc == HWG_E_NOT_FOUND)
		return hwg_error_set(err, HWG_E_NOT_FOUND, "no such operator session");
	return rc;
}

/* Up to max sessions that are no longer live, into a malloc'd array. */
static int
sweep_collect(struct hwg_store *s, int64_t now_ms, int64_t idle_ms, size_t max,
              struct hwg_session_rec **out, size_t *n, struct hwg_error *err)
{
	struct hwg_session_rec *recs;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	if (max == 0)
		return 0;
	if ((recs = calloc(max, sizeof(*recs))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	/* the same conditions as hwg_session_state, so that the index does the work */
	if ((st =
	         hwg_store_stmt(s,
	                        SESSION_SELECT "WHERE o.state != 'active' OR ?1 >= o.valid_until_ms"
	                                       " OR ?1 >= s.absolute_expiry_ms"
	                                       " OR ?1 - s.last_used_ms > ?2 LIMIT ?3",
	                        err)) == NULL) {
		free(recs);
		return HWG_E_STORE;
	}
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, idle_ms);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max)
		if (row_to_session(st, &recs[*n]) == 0)
			(*n)++;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		free(recs);
		*n = 0;
		return db_err(s, err, "session sweep");
	}
	*out = recs;
	return 0;
}

static int
ended_prune(struct hwg_store *s, int64_t now_ms, struct hwg_error *err)
{
	sqlite3_stmt *st = hwg_store_stmt(s, "DELETE FROM ended_sessions WHERE ended_ms < ?", err);

	if (st == NULL)
		return HWG_E_STORE;
	sqlite3_bind_int64(st, 1, now_ms - ENDED_KEEP_MS);
	return step_done(s, st, "ended sessions", err);
}

int
hwg_session_sweep(struct hwg_store *s, int64_t now_ms, int64_t idle_ms, size_t max,
                  int (*fn)(void *ctx, const struct hwg_session_rec *r, int why), void *ctx,
                  size_t *ended, struct hwg_error *err)
{
	struct hwg_session_rec *recs;
	size_t n, done = 0;
	int rc;

	if (ended != NULL)
		*ended = 0;
	if ((rc = sweep_collect(s, now_ms, idle_ms, max, &recs, &n, err)) != 0)
		return rc;
	if ((rc = ended_prune(s, now_ms, err)) != 0) {
		free(recs);
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		int why = hwg_session_state(&recs[i], now_ms, idle_ms);

		if (why == HWG_SESSION_LIVE)
			continue;
		if ((rc = session_delete(s, recs[i].token_hash, why, err)) == HWG_E_NOT_FOUND) {
			rc = 0;
			continue;
		}
		if (rc == 0) {
			done++;
			if (fn != NULL)
				rc = fn(ctx, &recs[i], why);
		}
	}
	free(recs);
	if (ended != NULL)
		*ended = done;
	return rc;
}
