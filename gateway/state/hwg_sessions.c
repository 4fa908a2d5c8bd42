/*
 * hwg_sessions.c — see hwg_sessions.h.  Every statement is one of the
 * store's cached ones, stepped and reset before anything else runs.  A
 * session is looked up joined with its operator, so that one rule
 * (hwg_session_state) says whether it is live, for a request and for the
 * sweep alike; what ended is remembered in ended_sessions with its reason.
 */
#include "hwg_sessions.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_operators.h"
#include "hwg_store_sql.h"
#include "hwg_terminals.h"

static const char *const end_names[] = {
    "live", "idle", "absolute", "valid_until", "operator_revoked", "logout", "replaced"};

const char *
hwg_session_end_name(int why)
{
	return why >= 0 && why < (int)(sizeof(end_names) / sizeof(end_names[0])) ? end_names[why]
	                                                                         : "unknown";
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

int
hwg_sessions_end_operator(struct hwg_store *s, const char *id, size_t *n, struct hwg_error *err)
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
	if ((rc = hwg_store_step_done(s, st, "session end", err)) != 0)
		return rc;
	if ((st = hwg_store_stmt(s, "DELETE FROM operator_sessions WHERE operator_id = ?", err)) ==
	    NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = hwg_store_step_done(s, st, "session end", err)) == 0 && n != NULL)
		*n = (size_t)hwg_store_changes(s);
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
	    hwg_store_column_text(st, 1, r->operator_id, sizeof(r->operator_id)) != 0 ||
	    hwg_store_column_text(st, 2, r->client_id, sizeof(r->client_id)) != 0 ||
	    hwg_store_column_text(st, 3, r->terminal, sizeof(r->terminal)) != 0)
		return -1;
	memcpy(r->token_hash, sqlite3_column_blob(st, 0), 32);
	r->created_ms = sqlite3_column_int64(st, 4);
	r->last_used_ms = sqlite3_column_int64(st, 5);
	r->absolute_expiry_ms = sqlite3_column_int64(st, 6);
	r->operator_role = hwg_role_parse((const char *)sqlite3_column_text(st, 7));
	r->operator_state = hwg_operator_state_parse((const char *)sqlite3_column_text(st, 8));
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
	rc = rc == SQLITE_ROW ? 0 : hwg_store_db_err(s, err, "session count");
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
	if ((rc = hwg_store_step_done(s, st, "session replace", err)) != 0)
		return rc;
	if ((st = hwg_store_stmt(s,
	                         "DELETE FROM operator_sessions WHERE operator_id = ? AND "
	                         "client_id = ? AND terminal = ?",
	                         err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, operator_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, client_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, terminal, -1, SQLITE_STATIC);
	if ((rc = hwg_store_step_done(s, st, "session replace", err)) == 0)
		*replaced = hwg_store_changes(s) > 0;
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
	if ((rc = hwg_operator_state_of(s, operator_id, &state, err)) != 0 ||
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
		rc = rc == SQLITE_DONE ? 0 : hwg_store_db_err(s, err, "session create");
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
		rc = hwg_store_db_err(s, err, "session lookup");
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
	if ((rc = hwg_store_step_done(s, st, "session touch", err)) != 0)
		return rc;
	return hwg_store_changes(s) > 0 ? 0
	                                : hwg_error_set(err, HWG_E_NOT_FOUND, "no such session");
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
	if ((rc = hwg_store_step_done(s, st, "session end", err)) != 0)
		return rc;
	if (hwg_store_changes(s) == 0)
		return HWG_E_NOT_FOUND;
	if ((st = tombstone_stmt(
	         s, "INSERT OR REPLACE INTO ended_sessions VALUES (?2, ?1, " NOW_MS_SQL ")", why,
	         err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
	return hwg_store_step_done(s, st, "session end", err);
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
		return hwg_store_db_err(s, err, "session sweep");
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
	return hwg_store_step_done(s, st, "ended sessions", err);
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
