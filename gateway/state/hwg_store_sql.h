/*
 * hwg_store_sql.h — gateway/state/'s own: the SQLite handle behind a
 * store, its statement cache, the row helpers the state files share, and
 * the two calls between the operator and session records.
 *
 * Everything outside gateway/state/ reaches the database only through the
 * public headers (hwg_store.h, hwg_audit.h, hwg_terminals.h,
 * hwg_operators.h, hwg_sessions.h), so that SQL lives in one folder.  The
 * unit tests of these files include this one too: they damage a database
 * on purpose and read back what was written.
 */
#ifndef HWG_STORE_SQL_H
#define HWG_STORE_SQL_H

#include <sqlite3.h>
#include <stddef.h>

#include "hwg_err.h"
#include "hwg_store.h"

sqlite3 *hwg_store_db(struct hwg_store *s);

/*
 * The store's cached prepared statement for sql, reset and with its
 * bindings cleared; finalized by hwg_store_close.  For statements that
 * are stepped and sqlite3_reset() before calling out to anything else
 * (a walk that runs callbacks prepares its own).  NULL and HWG_E_STORE
 * in err if sql does not prepare.
 */
sqlite3_stmt *hwg_store_stmt(struct hwg_store *s, const char *sql, struct hwg_error *err);

/* HWG_E_STORE: "what: " and SQLite's message. */
int hwg_store_db_err(struct hwg_store *s, struct hwg_error *err, const char *what);
/* Step a statement that returns no row, then reset it; 0 or hwg_store_db_err. */
int hwg_store_step_done(struct hwg_store *s, sqlite3_stmt *st, const char *what,
                        struct hwg_error *err);
/* Rows changed by the last statement. */
int hwg_store_changes(struct hwg_store *s);
/* Copy a text column into out (n bytes); 0 if it fits, -1 if NULL or too long. */
int hwg_store_column_text(sqlite3_stmt *st, int col, char *out, size_t n);

/* hwg_operators.c: the state of operator id (enum hwg_operator_state), or HWG_E_NOT_FOUND. */
int hwg_operator_state_of(struct hwg_store *s, const char *id, int *state, struct hwg_error *err);
/*
 * hwg_sessions.c: end every session of operator id, remembered as ended
 * because its operator was revoked; *n (may be NULL) says how many.
 */
int hwg_sessions_end_operator(struct hwg_store *s, const char *id, size_t *n,
                              struct hwg_error *err);

#endif
