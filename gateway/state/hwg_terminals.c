/*
 * hwg_terminals.c — see hwg_terminals.h.  Each statement is one of the
 * store's cached ones, stepped and reset before anything else runs, except
 * the walk, which prepares its own so its callback may use the store.  A
 * row that does not read back as what was written (a key of the wrong
 * size, a serial too long) is HWG_E_STORE, never a default.
 */
#include "hwg_terminals.h"

#include <string.h>

#include "hwg_store_sql.h"

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
	return hwg_store_step_done(s, st, "terminal pair", err);
}

static int
row_to_terminal(sqlite3_stmt *st, struct hwg_terminal_rec *t)
{
	memset(t, 0, sizeof(*t));
	if (hwg_store_column_text(st, 0, t->serial, sizeof(t->serial)) != 0 ||
	    sqlite3_column_type(st, 1) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, 1) != HWG_TERMINAL_KEY_LEN ||
	    hwg_store_column_text(st, 2, t->paired_by, sizeof(t->paired_by)) != 0)
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
		rc = hwg_store_db_err(s, err, "terminal lookup");
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
		return hwg_store_db_err(s, err, "terminal list");
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
	rc = rc == SQLITE_DONE ? 0 : hwg_store_db_err(s, err, "terminal list");
	sqlite3_finalize(st);
	return rc;
}
