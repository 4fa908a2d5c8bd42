/*
 * reg_db_sqlite.c — the register on SQLite, the embedded default: one
 * file (created 0600), WAL, a busy timeout so that writers from several
 * handles queue instead of failing, and BEGIN IMMEDIATE for a write
 * transaction so that two writers never both read and then collide.
 * Statements are prepared once and kept (a small cache by SQL text): the
 * registry runs the same few statements over and over.
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reg_db.h"

#define BUSY_TIMEOUT_MS 30000
#define N_PARAMS_MAX 64
#define N_COLS_MAX 64
#define CACHE_SIZE 48

struct cached {
	char *sql;
	sqlite3_stmt *st;
	int busy; /* in use by a query still running (a row callback's own query) */
};

struct sqlite_db {
	struct reg_db base;
	sqlite3 *db;
	struct cached cache[CACHE_SIZE];
	unsigned next; /* the entry replaced when the cache is full */
};

static int
db_fail(struct sqlite_db *s, struct hwg_error *err, const char *what)
{
	int ext = sqlite3_extended_errcode(s->db);
	int code = HWG_E_STORE;

	if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
		code = HWG_E_EXISTS;
	else if ((ext & 0xff) == SQLITE_BUSY || (ext & 0xff) == SQLITE_LOCKED)
		code = HWG_E_UNAVAILABLE;
	return hwg_error_set(err, code, "sqlite: %s: %s", what, sqlite3_errmsg(s->db));
}

static int
sq_exec(struct reg_db *db, const char *sql, struct hwg_error *err)
{
	struct sqlite_db *s = (struct sqlite_db *)db;
	char *msg = NULL;
	int rc = 0;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		rc = db_fail(s, err, msg != NULL ? msg : "exec");
	}
	sqlite3_free(msg);
	return rc;
}

static int
sq_begin(struct reg_db *db, int mode, struct hwg_error *err)
{
	return sq_exec(db, mode == REG_TX_WRITE ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED", err);
}

static int
sq_commit(struct reg_db *db, struct hwg_error *err)
{
	return sq_exec(db, "COMMIT", err);
}

static int
sq_rollback(struct reg_db *db)
{
	struct sqlite_db *s = (struct sqlite_db *)db;

	if (sqlite3_get_autocommit(s->db))
		return 0;
	return sq_exec(db, "ROLLBACK", NULL);
}

static int
bind_all(struct sqlite_db *s, sqlite3_stmt *st, int n, const char *const *params,
         struct hwg_error *err)
{
	for (int i = 0; i < n; i++) {
		int rc = params[i] == NULL
		             ? sqlite3_bind_null(st, i + 1)
		             : sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_TRANSIENT);
		if (rc != SQLITE_OK)
			return db_fail(s, err, "bind");
	}
	return 0;
}

static int
row_out(sqlite3_stmt *st, reg_row_fn fn, void *arg)
{
	const char *vals[N_COLS_MAX];
	int n = sqlite3_column_count(st);

	if (n > N_COLS_MAX)
		n = N_COLS_MAX;
	for (int i = 0; i < n; i++)
		vals[i] = (const char *)sqlite3_column_text(st, i);
	return fn(arg, n, vals);
}

/* sql's prepared statement from the cache, or prepared now (*c the entry, NULL if uncached). */
static int
stmt_get(struct sqlite_db *s, const char *sql, sqlite3_stmt **st, struct cached **c,
         struct hwg_error *err)
{
	struct cached *e = NULL;
	char *copy;

	*c = NULL;
	for (int i = 0; i < CACHE_SIZE; i++)
		if (s->cache[i].sql != NULL && strcmp(s->cache[i].sql, sql) == 0) {
			if (s->cache[i].busy)
				break;
			*st = s->cache[i].st;
			*c = &s->cache[i];
			(*c)->busy = 1;
			return 0;
		}
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(s, err, "prepare");
	for (int i = 0; i < CACHE_SIZE && e == NULL; i++)
		if (!s->cache[(s->next + (unsigned)i) % CACHE_SIZE].busy)
			e = &s->cache[(s->next + (unsigned)i) % CACHE_SIZE];
	if (e == NULL || (copy = strdup(sql)) == NULL)
		return 0;
	sqlite3_finalize(e->st);
	free(e->sql);
	*e = (struct cached){copy, *st, 1};
	s->next = (unsigned)(e - s->cache + 1) % CACHE_SIZE;
	*c = e;
	return 0;
}

static void
stmt_put(sqlite3_stmt *st, struct cached *c)
{
	if (c == NULL) {
		sqlite3_finalize(st);
		return;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	c->busy = 0;
}

static int
sq_query(struct reg_db *db, const char *sql, int nparams, const char *const *params, reg_row_fn fn,
         void *arg, long *changed, struct hwg_error *err)
{
	struct sqlite_db *s = (struct sqlite_db *)db;
	sqlite3_stmt *st = NULL;
	struct cached *c = NULL;
	int rc;

	if (nparams > N_PARAMS_MAX || (nparams != 0 && params == NULL))
		return hwg_error_set(err, HWG_E_INVALID, "sqlite: bad parameters");
	if ((rc = stmt_get(s, sql, &st, &c, err)) != 0)
		return rc;
	if ((rc = bind_all(s, st, nparams, params, err)) != 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (fn != NULL && (rc = row_out(st, fn, arg)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : db_fail(s, err, "step");
	if (rc == 0 && changed != NULL)
		*changed = sqlite3_changes(s->db);
out:
	stmt_put(st, c);
	return rc;
}

static void
sq_close(struct reg_db *db)
{
	struct sqlite_db *s = (struct sqlite_db *)db;

	if (s == NULL)
		return;
	for (int i = 0; i < CACHE_SIZE; i++) {
		sqlite3_finalize(s->cache[i].st);
		free(s->cache[i].sql);
	}
	sqlite3_close_v2(s->db);
	free(s);
}

static const struct reg_db_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .exec = sq_exec,
    .query = sq_query,
};

/* Create the file private before SQLite opens it (SQLite would use the umask). */
static int
create_private(const char *path, struct hwg_error *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return hwg_error_set(err, HWG_E_STORE, "sqlite: cannot open %s", path);
	close(fd);
	return 0;
}

int
reg_db_sqlite_open(const char *path, struct reg_db **out, struct hwg_error *err)
{
	struct sqlite_db *s;
	int rc;

	if ((rc = create_private(path, err)) != 0)
		return rc;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	s->base.ops = &sqlite_ops;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) !=
	    SQLITE_OK) {
		rc = db_fail(s, err, path);
		sq_close(&s->base);
		return rc;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	if ((rc = sq_exec(
	         &s->base,
	         "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536",
	         err)) != 0) {
		sq_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}
