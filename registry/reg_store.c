/*
 * reg_store.c — opening the register, its schema, and the record
 * versions: one table-driven mapping between struct reg_person and the
 * columns of record_versions, so that a field is named once.
 *
 * Tables (the same SQL on both engines):
 *  record_versions  every version of every record; rows are inserted,
 *                   never updated or deleted (a removed record is kept)
 *  residents        the current version of each record, with the five
 *                   facts and the My Number's keyed hash for search
 *  households       household ids ever made
 *  dv_measures      DV support measures: applied, decided, ended
 *  outbox           identity-information notifications by update
 *                   sequence number, with when each was delivered
 *  reg_counter      the update sequence and the id counters
 *  moveouts         move-out data received from other cities, pending
 *                   until the person moves in (特例転入) or it expires
 *  moveout_erasures what expired move-out data was erased, and when (no
 *                   personal data)
 *  reconcile_diffs  each field in which a migrated record differs from the
 *                   legacy export, until an operator resolves it: while
 *                   one is open no document or notice is built for it
 *
 * Opening a register made by an older version creates what it lacks and
 * moves reg_meta's schema version forward.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_secret.h"
#include "reg_internal.h"

#define SCHEMA_VERSION "3"

/* The search indexes of residents (also dropped and made again around a bulk load). */
#define RESIDENT_INDEXES                                                                           \
	"CREATE INDEX IF NOT EXISTS residents_name ON residents (name);"                           \
	"CREATE INDEX IF NOT EXISTS residents_kana ON residents (kana);"                           \
	"CREATE INDEX IF NOT EXISTS residents_birth ON residents (birth);"                         \
	"CREATE INDEX IF NOT EXISTS residents_address ON residents (address);"                     \
	"CREATE INDEX IF NOT EXISTS residents_household ON residents (household_id);"              \
	"CREATE INDEX IF NOT EXISTS residents_mn ON residents (mn_hash);"
#define RESIDENT_INDEXES_DROP                                                                      \
	"DROP INDEX IF EXISTS residents_name; DROP INDEX IF EXISTS residents_kana;"                \
	"DROP INDEX IF EXISTS residents_birth; DROP INDEX IF EXISTS residents_address;"            \
	"DROP INDEX IF EXISTS residents_household; DROP INDEX IF EXISTS residents_mn;"

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS reg_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS reg_counter (name TEXT PRIMARY KEY, value BIGINT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS households (household_id TEXT PRIMARY KEY,"
    " created_seq BIGINT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS residents (resident_code TEXT PRIMARY KEY,"
    " version BIGINT NOT NULL, status TEXT NOT NULL, household_id TEXT NOT NULL,"
    " relation TEXT NOT NULL, name TEXT NOT NULL, kana TEXT NOT NULL, birth TEXT NOT NULL,"
    " sex TEXT NOT NULL, address TEXT NOT NULL, mn_hash TEXT);" RESIDENT_INDEXES
    "CREATE TABLE IF NOT EXISTS record_versions (resident_code TEXT NOT NULL,"
    " version BIGINT NOT NULL, status TEXT NOT NULL, household_id TEXT NOT NULL,"
    " relation TEXT NOT NULL, name TEXT NOT NULL, name_gaiji INTEGER NOT NULL,"
    " kana TEXT NOT NULL, former_surname TEXT NOT NULL, former_surname_kana TEXT NOT NULL,"
    " birth TEXT NOT NULL, sex TEXT NOT NULL, city_code TEXT NOT NULL,"
    " aza_code TEXT NOT NULL, postcode TEXT NOT NULL, address TEXT NOT NULL,"
    " address_gaiji INTEGER NOT NULL, previous_address TEXT NOT NULL,"
    " resident_since TEXT NOT NULL, address_since TEXT NOT NULL, notified TEXT NOT NULL,"
    " reason TEXT NOT NULL, change_date TEXT NOT NULL, moving_to TEXT NOT NULL,"
    " moving_date TEXT NOT NULL, cert_control INTEGER NOT NULL,"
    " wide_control INTEGER NOT NULL, operator_id TEXT NOT NULL, terminal_id TEXT NOT NULL,"
    " seq BIGINT NOT NULL UNIQUE, mn_sealed TEXT, mn_hash TEXT,"
    " PRIMARY KEY (resident_code, version));"
    "CREATE TABLE IF NOT EXISTS dv_measures (resident_code TEXT NOT NULL,"
    " applied TEXT NOT NULL, decided TEXT, ended TEXT, PRIMARY KEY (resident_code, applied));"
    "CREATE TABLE IF NOT EXISTS outbox (seq BIGINT PRIMARY KEY, resident_code TEXT NOT NULL,"
    " version BIGINT NOT NULL, sent_ms BIGINT, attempts BIGINT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS moveouts (moveout_id BIGINT PRIMARY KEY,"
    " resident_code TEXT NOT NULL, name TEXT NOT NULL, kana TEXT NOT NULL,"
    " birth TEXT NOT NULL, sex TEXT NOT NULL, address TEXT NOT NULL, mn_sealed TEXT NOT NULL,"
    " mn_hash TEXT NOT NULL, from_city TEXT NOT NULL, moving_to TEXT NOT NULL,"
    " moving_date TEXT NOT NULL, received TEXT NOT NULL, claimed_seq BIGINT);"
    "CREATE INDEX IF NOT EXISTS moveouts_mn ON moveouts (mn_hash);"
    "CREATE TABLE IF NOT EXISTS moveout_erasures (moveout_id BIGINT PRIMARY KEY,"
    " from_city TEXT NOT NULL, received TEXT NOT NULL, erased TEXT NOT NULL,"
    " reason TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS reconcile_diffs (resident_code TEXT NOT NULL,"
    " field TEXT NOT NULL, found TEXT NOT NULL, resolved_by TEXT, resolved TEXT,"
    " PRIMARY KEY (resident_code, field));"
    "CREATE INDEX IF NOT EXISTS reconcile_open ON reconcile_diffs (resolved, resident_code);"
    "INSERT INTO reg_counter (name, value) VALUES ('seq', 0), ('household', 0), ('code', 0),"
    " ('moveout', 0) ON CONFLICT (name) DO NOTHING;"
    "INSERT INTO reg_meta (key, value) VALUES ('schema', '" SCHEMA_VERSION "')"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value;";

/* ------------------------------------------------------- the mapping */

enum col_type { COL_TEXT, COL_INT, COL_I64 };
struct col {
	const char *name;
	size_t off, size;
	enum col_type type;
};
#define T(f)                                                                                       \
	{                                                                                          \
#f, offsetof(struct reg_person, f), sizeof(((struct reg_person *)0)->f), COL_TEXT  \
	}
#define I(f)                                                                                       \
	{                                                                                          \
#f, offsetof(struct reg_person, f), sizeof(int), COL_INT                           \
	}
#define L(f)                                                                                       \
	{                                                                                          \
#f, offsetof(struct reg_person, f), sizeof(int64_t), COL_I64                       \
	}
static const struct col cols[] = {
    T(resident_code),
    L(version),
    {"household_id", offsetof(struct reg_person, household),
     sizeof(((struct reg_person *)0)->household), COL_TEXT},
    T(status),
    T(relation),
    T(name),
    I(name_gaiji),
    T(kana),
    T(former_surname),
    T(former_surname_kana),
    T(birth),
    T(sex),
    T(city_code),
    T(aza_code),
    T(postcode),
    T(address),
    I(address_gaiji),
    T(previous_address),
    T(resident_since),
    T(address_since),
    T(notified),
    T(reason),
    T(change_date),
    T(moving_to),
    T(moving_date),
    I(cert_control),
    I(wide_control),
    T(operator_id),
    T(terminal_id),
    L(seq),
};
#undef T
#undef I
#undef L
#define N_COLS (sizeof(cols) / sizeof(cols[0]))

static char insert_sql[2048], select_sql[2048];
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;

/* The two statements, made once from cols[] (the same text every time). */
static void
make_sql(void)
{
	size_t i, o = 0, s = 0;

	o += (size_t)snprintf(insert_sql, sizeof(insert_sql), "INSERT INTO record_versions (");
	s += (size_t)snprintf(select_sql, sizeof(select_sql), "SELECT ");
	for (i = 0; i < N_COLS; i++) {
		o += (size_t)snprintf(insert_sql + o, sizeof(insert_sql) - o, "%s, ", cols[i].name);
		s += (size_t)snprintf(select_sql + s, sizeof(select_sql) - s, "%s, ", cols[i].name);
	}
	o += (size_t)snprintf(insert_sql + o, sizeof(insert_sql) - o,
	                      "mn_sealed, mn_hash) VALUES (");
	for (i = 0; i < N_COLS + 2; i++)
		o += (size_t)snprintf(insert_sql + o, sizeof(insert_sql) - o, "%s?", i ? ", " : "");
	snprintf(insert_sql + o, sizeof(insert_sql) - o, ")");
	snprintf(select_sql + s, sizeof(select_sql) - s,
	         "mn_sealed FROM record_versions WHERE resident_code = ? AND version = ?");
}

/* --------------------------------------------------------- helpers */

int
reg_copy(char *dst, size_t n, const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (len >= n)
		return -1;
	memcpy(dst, s != NULL ? s : "", len + 1);
	return 0;
}

int
reg_row_i64(void *arg, int ncols, const char *const *vals)
{
	if (ncols < 1 || vals[0] == NULL)
		return HWG_E_STORE;
	*(int64_t *)arg = strtoll(vals[0], NULL, 10);
	return 0;
}

int
reg_row_text32(void *arg, int ncols, const char *const *vals)
{
	if (ncols < 1 || vals[0] == NULL || reg_copy(arg, 32, vals[0]) != 0)
		return HWG_E_STORE;
	return 0;
}

int
reg_counter_take(struct hwgw_registry *r, const char *name, int64_t k, int64_t *first,
                 struct hwg_error *err)
{
	char n[24];
	const char *p[2] = {n, name};
	int64_t last = -1;
	int rc;

	*first = -1;
	snprintf(n, sizeof(n), "%lld", (long long)k);
	rc = reg_db_query(r->db,
	                  "UPDATE reg_counter SET value = value + ? WHERE name = ?"
	                  " RETURNING value",
	                  2, p, reg_row_i64, &last, NULL, err);
	if (rc == 0 && last < k)
		rc = hwg_error_set(err, HWG_E_STORE, "counter %s missing", name);
	if (rc == 0)
		*first = last - k + 1;
	return rc;
}

int
reg_counter_next(struct hwgw_registry *r, const char *name, int64_t *out, struct hwg_error *err)
{
	return reg_counter_take(r, name, 1, out, err);
}

/* ------------------------------------------------------ store, load */

struct param_text {
	char buf[N_COLS + 2][24]; /* numbers as text */
	const char *p[N_COLS + 2];
};

static void
params_of(const struct reg_person *x, struct param_text *t)
{
	for (size_t i = 0; i < N_COLS; i++) {
		const char *f = (const char *)x + cols[i].off;
		if (cols[i].type == COL_TEXT)
			t->p[i] = f;
		else if (cols[i].type == COL_INT)
			snprintf(t->buf[i], sizeof(t->buf[i]), "%d", *(const int *)f),
			    t->p[i] = t->buf[i];
		else
			snprintf(t->buf[i], sizeof(t->buf[i]), "%lld",
			         (long long)*(const int64_t *)f),
			    t->p[i] = t->buf[i];
	}
}

static int
index_store(struct hwgw_registry *r, const struct reg_person *x, const char *mn_hash,
            struct hwg_error *err)
{
	char v[24];
	const char *p[11] = {x->resident_code, v,          x->status, x->household,
	                     x->relation,      x->name,    x->kana,   x->birth,
	                     x->sex,           x->address, mn_hash};

	snprintf(v, sizeof(v), "%lld", (long long)x->version);
	return reg_db_query(
	    r->db,
	    "INSERT INTO residents (resident_code, version, status, household_id, relation, name,"
	    " kana, birth, sex, address, mn_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT (resident_code) DO UPDATE SET version = excluded.version,"
	    " status = excluded.status, household_id = excluded.household_id,"
	    " relation = excluded.relation, name = excluded.name, kana = excluded.kana,"
	    " birth = excluded.birth, sex = excluded.sex, address = excluded.address,"
	    " mn_hash = excluded.mn_hash",
	    11, p, NULL, NULL, NULL, err);
}

int
reg_version_store(struct hwgw_registry *r, const struct reg_person *x, struct hwg_error *err)
{
	char sealed[REG_MN_SEALED_HEX + 1], hash[REG_MN_HASH_HEX + 1];
	struct param_text t;
	int rc;

	params_of(x, &t);
	t.p[N_COLS] = t.p[N_COLS + 1] = NULL;
	if (x->my_number[0] != '\0') {
		if ((rc = reg_mn_seal(&r->key, x->resident_code, x->my_number, sealed, err)) != 0)
			return rc;
		if (reg_mn_hash(&r->key, x->my_number, hash) != 0)
			return hwg_error_set(err, HWG_E_INTERNAL, "My Number: hash failed");
		t.p[N_COLS] = sealed;
		t.p[N_COLS + 1] = hash;
	}
	rc = reg_db_query(r->db, insert_sql, (int)N_COLS + 2, t.p, NULL, NULL, NULL, err);
	if (rc == HWG_E_EXISTS)
		return hwg_error_set(err, HWG_E_EXISTS, "record %s version %lld exists already",
		                     x->resident_code, (long long)x->version);
	if (rc == 0)
		rc = index_store(r, x, t.p[N_COLS + 1], err);
	hwg_wipe(sealed, sizeof(sealed));
	return rc;
}

struct load_arg {
	struct reg_person *out;
	char sealed[REG_MN_SEALED_HEX + 1];
	int found;
};

static int
load_row(void *arg, int ncols, const char *const *vals)
{
	struct load_arg *a = arg;

	if (ncols != (int)N_COLS + 1)
		return HWG_E_STORE;
	memset(a->out, 0, sizeof(*a->out));
	for (size_t i = 0; i < N_COLS; i++) {
		char *f = (char *)a->out + cols[i].off;
		const char *v = vals[i] != NULL ? vals[i] : "";
		if (cols[i].type == COL_TEXT && reg_copy(f, cols[i].size, v) != 0)
			return HWG_E_STORE;
		if (cols[i].type == COL_INT)
			*(int *)f = (int)strtol(v, NULL, 10);
		if (cols[i].type == COL_I64)
			*(int64_t *)f = strtoll(v, NULL, 10);
	}
	if (reg_copy(a->sealed, sizeof(a->sealed), vals[N_COLS]) != 0)
		return HWG_E_STORE;
	a->found = 1;
	return 0;
}

int
reg_version_load(struct hwgw_registry *r, const char *code, int64_t version, int with_mn,
                 struct reg_person *out, struct hwg_error *err)
{
	struct load_arg a = {.out = out};
	char v[24];
	const char *p[2] = {code, v};
	int rc;

	if (version == 0) {
		const char *q[1] = {code};
		rc = reg_db_query(r->db, "SELECT version FROM residents WHERE resident_code = ?", 1,
		                  q, reg_row_i64, &version, NULL, err);
		if (rc != 0)
			return rc;
		if (version == 0)
			return hwg_error_set(err, HWG_E_NOT_FOUND,
			                     "no record with resident code %s", code);
	}
	snprintf(v, sizeof(v), "%lld", (long long)version);
	if ((rc = reg_db_query(r->db, select_sql, 2, p, load_row, &a, NULL, err)) != 0)
		return rc == HWG_E_STORE && err != NULL && err->code != rc
		           ? hwg_error_set(err, rc, "record %s: a stored field does not fit", code)
		           : rc;
	if (!a.found)
		return hwg_error_set(err, HWG_E_NOT_FOUND, "no version %lld of record %s",
		                     (long long)version, code);
	if (with_mn && a.sealed[0] != '\0')
		rc = reg_mn_open(&r->key, code, a.sealed, out->my_number, err);
	hwg_wipe(a.sealed, sizeof(a.sealed));
	return rc;
}

struct members_arg {
	char (*codes)[REG_CODE_LEN + 1];
	size_t max, n;
};

static int
member_row(void *arg, int ncols, const char *const *vals)
{
	struct members_arg *a = arg;

	if (ncols < 1 || vals[0] == NULL)
		return HWG_E_STORE;
	if (a->n == a->max)
		return HWG_E_TOO_LARGE;
	if (reg_copy(a->codes[a->n], REG_CODE_LEN + 1, vals[0]) != 0)
		return HWG_E_STORE;
	a->n++;
	return 0;
}

int
reg_household_members(struct hwgw_registry *r, const char *household,
                      char (*codes)[REG_CODE_LEN + 1], size_t max, size_t *n, struct hwg_error *err)
{
	struct members_arg a = {codes, max, 0};
	const char *p[1] = {household};
	int rc;

	rc = reg_db_query(r->db,
	                  "SELECT resident_code FROM residents WHERE household_id = ?"
	                  " AND status = 'active' ORDER BY CASE WHEN relation = '世帯主' THEN 0"
	                  " ELSE 1 END, resident_code",
	                  1, p, member_row, &a, NULL, err);
	if (rc == HWG_E_TOO_LARGE)
		return hwg_error_set(err, rc, "household %s: more than %zu members", household,
		                     max);
	if (rc == HWG_E_STORE && err != NULL && err->code != HWG_E_STORE)
		return hwg_error_set(err, rc, "household %s: a stored code does not fit",
		                     household);
	*n = a.n;
	return rc;
}

int
reg_resident_indexes(struct hwgw_registry *r, int make, struct hwg_error *err)
{
	int rc;

	if ((rc = reg_db_begin(r->db, REG_TX_WRITE, err)) != 0)
		return rc;
	rc = r->db->ops->exec(r->db, make ? RESIDENT_INDEXES : RESIDENT_INDEXES_DROP, err);
	if (rc == 0)
		return reg_db_commit(r->db, err);
	reg_db_rollback(r->db);
	return rc;
}

/* ------------------------------------------------------ open, close */

static int
open_engine(const char *uri, struct reg_db **db, struct hwg_error *err)
{
	if (strncmp(uri, "sqlite:", 7) == 0)
		return reg_db_sqlite_open(uri + 7, db, err);
	if (strncmp(uri, "postgres:", 9) == 0)
		return reg_db_pg_open(uri + 9, db, err);
	return hwg_error_set(err, HWG_E_CONFIG, "register %s: not sqlite:PATH or postgres:CONNINFO",
	                     uri);
}

/*
 * 1 if the schema is there at our version.  Checked before creating it:
 * CREATE INDEX IF NOT EXISTS locks its table even when the index exists,
 * which would make every handle opened during a write wait on writers.
 */
static int
schema_current(struct reg_db *db)
{
	char v[32] = "";

	if (reg_db_query(db, "SELECT value FROM reg_meta WHERE key = 'schema'", 0, NULL,
	                 reg_row_text32, v, NULL, NULL) != 0)
		return 0;
	return strcmp(v, SCHEMA_VERSION) == 0;
}

static int
make_schema(struct reg_db *db, struct hwg_error *err)
{
	int rc;

	if (schema_current(db))
		return 0;
	if ((rc = reg_db_begin(db, REG_TX_WRITE, err)) != 0)
		return rc;
	if (db->ops->schema_lock_sql != NULL)
		rc = db->ops->exec(db, db->ops->schema_lock_sql, err);
	if (rc == 0)
		rc = db->ops->exec(db, schema_sql, err);
	if (rc == 0)
		return reg_db_commit(db, err);
	reg_db_rollback(db);
	return rc;
}

/* The register at uri with its My Number key: loaded (hsm NULL) or unsealed. */
static int
open_register(const char *uri, const char *mn_key_path, const struct reg_p11_key *hsm,
              struct hwgw_registry **out, struct hwg_error *err)
{
	struct hwgw_registry *r;
	int rc;

	if (uri == NULL || mn_key_path == NULL)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "register: no database or no My Number key");
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	pthread_once(&sql_once, make_sql);
	rc = hsm == NULL ? reg_mn_key_load(mn_key_path, &r->key, err)
	                 : reg_mn_key_unseal(mn_key_path, hsm, &r->key, err);
	if (rc != 0 || (rc = open_engine(uri, &r->db, err)) != 0 ||
	    (rc = make_schema(r->db, err)) != 0) {
		hwgw_registry_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

int
hwgw_registry_open(const char *uri, const char *mn_key_path, struct hwgw_registry **out,
                   struct hwg_error *err)
{
	return open_register(uri, mn_key_path, NULL, out, err);
}

int
hwgw_registry_open_sealed(const char *uri, const char *sealed_path, const struct reg_p11_key *hsm,
                          struct hwgw_registry **out, struct hwg_error *err)
{
	if (hsm == NULL)
		return hwg_error_set(err, HWG_E_CONFIG, "register: no HSM for the sealed key");
	return open_register(uri, sealed_path, hsm, out, err);
}

void
hwgw_registry_close(struct hwgw_registry *r)
{
	if (r == NULL)
		return;
	if (r->db != NULL)
		r->db->ops->close(r->db);
	reg_mn_key_wipe(&r->key);
	free(r);
}

const char *
hwgw_registry_engine(const struct hwgw_registry *r)
{
	return r->db->ops->name;
}
