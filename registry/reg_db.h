/*
 * reg_db.h — the one narrow interface between the registry's rules and
 * its storage engines: a table of functions that each engine (SQLite,
 * PostgreSQL) fills.  Statements are written once, with ? placeholders,
 * in SQL both engines speak; parameters and results are text (NULL for
 * SQL NULL), which both engines convert by the column's type.  Engines
 * turn their own failures into HWG_E_STORE with the engine's message, a
 * unique-key violation into HWG_E_EXISTS, and a lost serialisation or
 * deadlock into HWG_E_UNAVAILABLE (the caller may retry the transaction).
 */
#ifndef REG_DB_H
#define REG_DB_H

#include <stddef.h>

#include "hwg_err.h"

struct reg_db;

/* A row: ncols values, each NUL-terminated text or NULL; nonzero stops the query and is returned.
 */
typedef int (*reg_row_fn)(void *arg, int ncols, const char *const *vals);

#define REG_TX_READ 0  /* one consistent snapshot, no writes */
#define REG_TX_WRITE 1 /* writes; serialised with other writers where they meet */

struct reg_db_ops {
	const char *name;
	/* run first in the schema's transaction: handles opened at once create it once */
	const char *schema_lock_sql;
	void (*close)(struct reg_db *db);
	int (*begin)(struct reg_db *db, int mode, struct hwg_error *err);
	int (*commit)(struct reg_db *db, struct hwg_error *err);
	int (*rollback)(struct reg_db *db);
	/* Statements without parameters or results (the schema). */
	int (*exec)(struct reg_db *db, const char *sql, struct hwg_error *err);
	/* One statement; fn (may be NULL) sees each row; *changed (may be NULL) the rows changed.
	 */
	int (*query)(struct reg_db *db, const char *sql, int nparams, const char *const *params,
	             reg_row_fn fn, void *arg, long *changed, struct hwg_error *err);
};

/* Every engine's connection begins with this. */
struct reg_db {
	const struct reg_db_ops *ops;
};

int reg_db_sqlite_open(const char *path, struct reg_db **out, struct hwg_error *err);
int reg_db_pg_open(const char *conninfo, struct reg_db **out, struct hwg_error *err);

/* Thin calls through the table. */
static inline int
reg_db_begin(struct reg_db *db, int mode, struct hwg_error *err)
{
	return db->ops->begin(db, mode, err);
}

static inline int
reg_db_commit(struct reg_db *db, struct hwg_error *err)
{
	return db->ops->commit(db, err);
}

static inline int
reg_db_rollback(struct reg_db *db)
{
	return db->ops->rollback(db);
}

static inline int
reg_db_query(struct reg_db *db, const char *sql, int nparams, const char *const *params,
             reg_row_fn fn, void *arg, long *changed, struct hwg_error *err)
{
	return db->ops->query(db, sql, nparams, params, fn, arg, changed, err);
}

#endif
