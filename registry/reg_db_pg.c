/*
 * reg_db_pg.c — the register on PostgreSQL through libpq, for a city whose
 * counters share one register.  Statements come with ? placeholders and
 * are rewritten to $1, $2, ... here; parameters and results travel as
 * text.  A write transaction runs at READ COMMITTED: the registry takes
 * its row locks (the update sequence counter first) before it reads what
 * it changes, so every statement after the lock sees the latest commit.
 * A read transaction is REPEATABLE READ READ ONLY: one snapshot for a
 * document built from several records.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reg_db.h"

#define N_PARAMS_MAX 64
#define N_COLS_MAX 64
#define SQL_MAX 8192

struct pg_db {
	struct reg_db base;
	PGconn *conn;
};

/* One line of libpq's message, for ours. */
static const char *
first_line(const char *msg, char *out, size_t n)
{
	size_t len = strcspn(msg, "\n");

	snprintf(out, n, "%.*s", (int)len, msg);
	return out;
}

static int
res_fail(struct pg_db *p, PGresult *res, struct hwg_error *err, const char *what)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(p->conn);
	char line[200];
	int code = HWG_E_STORE;

	if (state != NULL && strcmp(state, "23505") == 0)
		code = HWG_E_EXISTS;
	else if (state != NULL && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
		code = HWG_E_UNAVAILABLE;
	return hwg_error_set(err, code, "postgres: %s: %s", what,
	                     first_line(msg != NULL ? msg : "", line, sizeof(line)));
}

static int
pg_exec(struct reg_db *db, const char *sql, struct hwg_error *err)
{
	struct pg_db *p = (struct pg_db *)db;
	PGresult *res = PQexec(p->conn, sql);
	int st = PQresultStatus(res);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = res_fail(p, res, err, "exec");
	PQclear(res);
	return rc;
}

static int
pg_begin(struct reg_db *db, int mode, struct hwg_error *err)
{
	return pg_exec(
	    db, mode == REG_TX_WRITE ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    err);
}

static int
pg_commit(struct reg_db *db, struct hwg_error *err)
{
	return pg_exec(db, "COMMIT", err);
}

static int
pg_rollback(struct reg_db *db)
{
	struct pg_db *p = (struct pg_db *)db;

	if (PQtransactionStatus(p->conn) == PQTRANS_IDLE)
		return 0;
	return pg_exec(db, "ROLLBACK", NULL);
}

/* ? → $n outside quoted literals; -1 if it does not fit or counts wrong. */
static int
rewrite(const char *sql, char *out, size_t n, int nparams)
{
	size_t o = 0;
	int k = 0, quoted = 0;

	for (const char *s = sql; *s != '\0'; s++) {
		if (*s == '\'')
			quoted = !quoted;
		if (*s == '?' && !quoted) {
			int w = snprintf(out + o, n - o, "$%d", ++k);
			if (w < 0 || (size_t)w >= n - o)
				return -1;
			o += (size_t)w;
			continue;
		}
		if (o + 1 >= n)
			return -1;
		out[o++] = *s;
	}
	out[o] = '\0';
	return k == nparams ? 0 : -1;
}

static int
rows_out(PGresult *res, reg_row_fn fn, void *arg)
{
	const char *vals[N_COLS_MAX];
	int nc = PQnfields(res), nr = PQntuples(res), rc;

	if (nc > N_COLS_MAX)
		nc = N_COLS_MAX;
	for (int r = 0; r < nr; r++) {
		for (int c = 0; c < nc; c++)
			vals[c] = PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
		if ((rc = fn(arg, nc, vals)) != 0)
			return rc;
	}
	return 0;
}

static int
pg_query(struct reg_db *db, const char *sql, int nparams, const char *const *params, reg_row_fn fn,
         void *arg, long *changed, struct hwg_error *err)
{
	struct pg_db *p = (struct pg_db *)db;
	char text[SQL_MAX];
	PGresult *res;
	int st, rc = 0;

	if (nparams > N_PARAMS_MAX || rewrite(sql, text, sizeof(text), nparams) != 0)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "postgres: statement and parameters differ");
	res = PQexecParams(p->conn, text, nparams, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = res_fail(p, res, err, "query");
	else if (fn != NULL)
		rc = rows_out(res, fn, arg);
	if (rc == 0 && changed != NULL)
		*changed = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return rc;
}

static void
pg_close(struct reg_db *db)
{
	struct pg_db *p = (struct pg_db *)db;

	if (p == NULL)
		return;
	PQfinish(p->conn);
	free(p);
}

static const struct reg_db_ops pg_ops = {
    .name = "postgres",
    .schema_lock_sql = "SELECT pg_advisory_xact_lock(4242015)",
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .exec = pg_exec,
    .query = pg_query,
};

static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg; /* NOTICEs ("relation exists, skipping") are not ours to print */
}

int
reg_db_pg_open(const char *conninfo, struct reg_db **out, struct hwg_error *err)
{
	struct pg_db *p;
	char line[200];

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	p->base.ops = &pg_ops;
	p->conn = PQconnectdb(conninfo);
	if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK) {
		hwg_error_set(err, HWG_E_STORE, "postgres: cannot connect: %s",
		              first_line(p->conn ? PQerrorMessage(p->conn) : "out of memory", line,
		                         sizeof(line)));
		pg_close(&p->base);
		return HWG_E_STORE;
	}
	PQsetNoticeProcessor(p->conn, quiet, NULL);
	*out = &p->base;
	return 0;
}
