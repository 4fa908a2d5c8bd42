/*
 * hwg_store.c — see hwg_store.h.
 *
 * The state directory and the database file are checked before SQLite
 * sees them: ours, private, a real directory and a real file.  Schema
 * changes are appended to migrations[] and never edited: a city's
 * database is migrated forward from whatever version wrote it.  Every
 * SQLite failure becomes HWG_E_STORE with SQLite's own message, so the
 * caller can answer audit_unavailable instead of pretending success.
 */
#include "hwg_store.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_cose.h"
#include "hwg_store_sql.h"

#define DB_NAME "hwgw.db"
#define NONCE_LEN_MAX 1024
#define PRUNE_EVERY_MS 1000
#define SAVEPOINT_NAME_MAX 32

struct stmt_slot {
	char *sql;
	sqlite3_stmt *st;
};

struct hwg_store {
	sqlite3 *db;
	char dir[4096];
	int64_t last_prune_ms;
	int pruned;
	struct stmt_slot *stmts;
	size_t n_stmts, cap_stmts;
};

/* ---------------------------------------------------------------- helpers */

int
hwg_store_db_err(struct hwg_store *s, struct hwg_error *err, const char *what)
{
	return hwg_error_set(err, HWG_E_STORE, "%s: %s", what, sqlite3_errmsg(s->db));
}

static int
exec_sql(struct hwg_store *s, const char *sql, const char *what, struct hwg_error *err)
{
	char *msg = NULL;
	int rc = 0;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK)
		rc = hwg_error_set(err, HWG_E_STORE, "%s: %s", what,
		                   msg != NULL ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return rc;
}

/* The single-row answer of a PRAGMA as text ("" if it gave none). */
static int
pragma_text(struct hwg_store *s, const char *sql, char *out, size_t n, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	out[0] = '\0';
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return hwg_store_db_err(s, err, sql);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		rc = hwg_store_db_err(s, err, sql);
	else
		rc = 0;
	sqlite3_finalize(st);
	return rc;
}

int
hwg_store_step_done(struct hwg_store *s, sqlite3_stmt *st, const char *what, struct hwg_error *err)
{
	int rc = sqlite3_step(st);

	rc = rc == SQLITE_DONE ? 0 : hwg_store_db_err(s, err, what);
	sqlite3_reset(st);
	return rc;
}

int
hwg_store_changes(struct hwg_store *s)
{
	return sqlite3_changes(s->db);
}

int
hwg_store_column_text(sqlite3_stmt *st, int col, char *out, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t len = t != NULL ? strlen((const char *)t) : 0;

	out[0] = '\0';
	if (t == NULL || len >= n)
		return -1;
	memcpy(out, t, len + 1);
	return 0;
}

/* The cached statement for sql in *out; prepared on first use. */
static int
cached(struct hwg_store *s, const char *sql, sqlite3_stmt **out, struct hwg_error *err)
{
	struct stmt_slot *slot;
	sqlite3_stmt *st;
	char *copy;

	for (size_t i = 0; i < s->n_stmts; i++) {
		if (strcmp(s->stmts[i].sql, sql) == 0) {
			sqlite3_reset(s->stmts[i].st);
			sqlite3_clear_bindings(s->stmts[i].st);
			*out = s->stmts[i].st;
			return 0;
		}
	}
	if (s->n_stmts == s->cap_stmts) {
		size_t ncap = s->cap_stmts ? 2 * s->cap_stmts : 16;

		if ((slot = realloc(s->stmts, ncap * sizeof(*slot))) == NULL)
			return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		s->stmts = slot;
		s->cap_stmts = ncap;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		return hwg_store_db_err(s, err, "prepare");
	if ((copy = strdup(sql)) == NULL) {
		sqlite3_finalize(st);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	s->stmts[s->n_stmts].sql = copy;
	s->stmts[s->n_stmts].st = st;
	s->n_stmts++;
	*out = st;
	return 0;
}

sqlite3_stmt *
hwg_store_stmt(struct hwg_store *s, const char *sql, struct hwg_error *err)
{
	sqlite3_stmt *st = NULL;

	return cached(s, sql, &st, err) == 0 ? st : NULL;
}

/* ---------------------------------------------------------------- schema */

struct migration {
	const char *what;
	int (*apply)(struct hwg_store *s, struct hwg_error *err);
};

static int
migrate_1_initial(struct hwg_store *s, struct hwg_error *err)
{
	return exec_sql(
	    s,
	    "CREATE TABLE clients (id TEXT PRIMARY KEY, role TEXT NOT NULL, pubkey BLOB NOT NULL,"
	    "  uids TEXT NOT NULL, created_ms INTEGER NOT NULL);"
	    "CREATE TABLE nonces (client TEXT NOT NULL, nonce BLOB NOT NULL,"
	    "  seen_ms INTEGER NOT NULL, PRIMARY KEY (client, nonce)) WITHOUT ROWID;"
	    "CREATE INDEX nonces_seen ON nonces (seen_ms);"
	    "CREATE TABLE audit (seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
	    "  client TEXT NOT NULL, peer_uid INTEGER NOT NULL, transport TEXT NOT NULL,"
	    "  operation TEXT NOT NULL, operator_id TEXT NOT NULL, subject TEXT NOT NULL,"
	    "  result TEXT NOT NULL, detail TEXT NOT NULL, prev_hash BLOB NOT NULL,"
	    "  hash BLOB NOT NULL);"
	    "CREATE INDEX audit_subject ON audit (subject) WHERE subject != '';"
	    "CREATE INDEX audit_operator ON audit (operator_id) WHERE operator_id != '';"
	    "CREATE INDEX audit_time ON audit (time_ms);"
	    "CREATE TABLE audit_checkpoint (seq INTEGER PRIMARY KEY, hash BLOB NOT NULL,"
	    "  time_ms INTEGER NOT NULL, signature BLOB NOT NULL);",
	    "schema", err);
}

/*
 * Issue 4.  A revoked operator keeps its row (the id is never reused, so
 * the audit's operator field names one person forever) but loses its
 * template.  Sessions are keyed by the token's SHA-256, never the token.
 */
static int
migrate_2_operators(struct hwg_store *s, struct hwg_error *err)
{
	return exec_sql(
	    s,
	    "CREATE TABLE terminals (serial TEXT PRIMARY KEY,"
	    "  pubkey BLOB NOT NULL CHECK (length(pubkey) = 32),"
	    "  paired_by TEXT NOT NULL, paired_ms INTEGER NOT NULL);"
	    "CREATE TABLE operators (id TEXT PRIMARY KEY, role TEXT NOT NULL,"
	    "  state TEXT NOT NULL CHECK (state IN ('active', 'pending', 'revoked')),"
	    "  valid_until_ms INTEGER NOT NULL, enrolled_by_client TEXT NOT NULL,"
	    "  enrolled_by_operator TEXT NOT NULL, confirmed_by TEXT NOT NULL,"
	    "  created_ms INTEGER NOT NULL, template BLOB,"
	    "  fail_count INTEGER NOT NULL DEFAULT 0, locked_until_ms INTEGER NOT NULL DEFAULT 0,"
	    "  CHECK ((state = 'revoked') = (template IS NULL)));"
	    "CREATE TABLE operator_sessions (token_hash BLOB PRIMARY KEY"
	    "    CHECK (length(token_hash) = 32),"
	    "  operator_id TEXT NOT NULL REFERENCES operators (id),"
	    "  client_id TEXT NOT NULL, terminal TEXT NOT NULL, created_ms INTEGER NOT NULL,"
	    "  last_used_ms INTEGER NOT NULL, absolute_expiry_ms INTEGER NOT NULL) WITHOUT ROWID;"
	    "CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);",
	    "operators", err);
}

/*
 * Sessions that ended, for a day: a client that sends one is told why it
 * ended (idle, its limit, logout...) rather than "unknown".  The hash of
 * a dead token opens nothing.
 */
static int
migrate_3_ended_sessions(struct hwg_store *s, struct hwg_error *err)
{
	return exec_sql(s,
	                "CREATE TABLE ended_sessions (token_hash BLOB PRIMARY KEY"
	                "    CHECK (length(token_hash) = 32),"
	                "  reason INTEGER NOT NULL, ended_ms INTEGER NOT NULL) WITHOUT ROWID;"
	                "CREATE INDEX ended_sessions_time ON ended_sessions (ended_ms);",
	                "ended sessions", err);
}

/*
 * Issue 13.  Each request's record carries the SHA-256 of the bytes it
 * came as (NULL for gateway and device events, and for refusals made
 * before a body was read), so a client that lost an answer can ask what
 * became of its request (request.status).  Older records keep NULL and
 * the hash they were written with (hwg_audit.c).
 */
static int
migrate_4_audit_request(struct hwg_store *s, struct hwg_error *err)
{
	return exec_sql(s,
	                "ALTER TABLE audit ADD COLUMN req BLOB;"
	                "CREATE INDEX audit_req ON audit (req) WHERE req IS NOT NULL;",
	                "audit request hash", err);
}

/*
 * Issue 14.  The issuance journal (hwg_issuance.h): one row per
 * certificate asked for, never deleted, its number's sequence counted per
 * gateway id in issuance_numbers, which only goes up.  The triggers keep
 * what names an issuance (its number, owner, request id, subject, kind,
 * document) as it was reserved.
 */
static int
migrate_5_issuances(struct hwg_store *s, struct hwg_error *err)
{
	return exec_sql(
	    s,
	    "CREATE TABLE issuance_numbers (gateway_id TEXT PRIMARY KEY,"
	    "  last_seq INTEGER NOT NULL CHECK (last_seq > 0)) WITHOUT ROWID;"
	    "CREATE TRIGGER issuance_numbers_up BEFORE UPDATE ON issuance_numbers"
	    "  WHEN NEW.last_seq <= OLD.last_seq OR NEW.gateway_id != OLD.gateway_id"
	    "  BEGIN SELECT RAISE(ABORT, 'issuance numbers are never reused'); END;"
	    "CREATE TRIGGER issuance_numbers_kept BEFORE DELETE ON issuance_numbers"
	    "  BEGIN SELECT RAISE(ABORT, 'issuance numbers are never reused'); END;"
	    "CREATE TABLE issuances (issuance_no TEXT PRIMARY KEY,"
	    "  gateway_id TEXT NOT NULL, seq INTEGER NOT NULL CHECK (seq > 0),"
	    "  issue_date TEXT NOT NULL, client_id TEXT NOT NULL, request_id TEXT NOT NULL,"
	    "  operator_id TEXT NOT NULL,"
	    "  relation TEXT NOT NULL CHECK (relation IN ('self', 'household', 'proxy')),"
	    "  subject TEXT NOT NULL,"
	    "  kind TEXT NOT NULL CHECK (kind IN ('juminhyo', 'kisai', 'tenshutsu', 'inkan')),"
	    "  doc_digest BLOB NOT NULL CHECK (length(doc_digest) = 32),"
	    "  household INTEGER NOT NULL CHECK (household IN (0, 1)),"
	    "  my_number INTEGER NOT NULL CHECK (my_number IN (0, 1)),"
	    "  state TEXT NOT NULL CHECK (state IN ('reserved', 'rendered', 'sealed', 'sent',"
	    "    'printed', 'failed', 'unconfirmed', 'not_printed')),"
	    "  pdf_digest BLOB CHECK (length(pdf_digest) = 32),"
	    "  pages_expected INTEGER CHECK (pages_expected > 0),"
	    "  pdf_seal BLOB CHECK (length(pdf_seal) = 64),"
	    "  printer TEXT, job_name TEXT, pages_confirmed INTEGER,"
	    "  failure_code TEXT, failure_msg TEXT,"
	    "  original_no TEXT REFERENCES issuances (issuance_no), reprint_reason TEXT,"
	    "  resolved_by TEXT,"
	    "  resolution TEXT CHECK (resolution IN ('printed', 'not_printed')),"
	    "  resolution_note TEXT,"
	    "  reserved_ms INTEGER NOT NULL, rendered_ms INTEGER, sealed_ms INTEGER,"
	    "  sent_ms INTEGER, printed_ms INTEGER, failed_ms INTEGER, unconfirmed_ms INTEGER,"
	    "  resolved_ms INTEGER,"
	    "  UNIQUE (gateway_id, seq), UNIQUE (client_id, request_id),"
	    "  CHECK ((original_no IS NULL) = (reprint_reason IS NULL)));"
	    "CREATE INDEX issuances_subject ON issuances (subject, reserved_ms);"
	    "CREATE INDEX issuances_open ON issuances (state)"
	    "  WHERE state IN ('reserved', 'rendered', 'sealed', 'sent', 'unconfirmed');"
	    "CREATE TRIGGER issuances_kept BEFORE DELETE ON issuances"
	    "  BEGIN SELECT RAISE(ABORT, 'issuances are never deleted'); END;"
	    "CREATE TRIGGER issuances_named BEFORE UPDATE OF issuance_no, gateway_id, seq,"
	    "  issue_date, client_id, request_id, operator_id, relation, subject, kind,"
	    "  doc_digest, household, my_number, original_no, reprint_reason, reserved_ms"
	    "  ON issuances"
	    "  BEGIN SELECT RAISE(ABORT, 'an issuance keeps what it was reserved as'); END;",
	    "issuances", err);
}

/* Version N of the schema is reached by applying migrations[N - 1]. */
static const struct migration migrations[] = {
    {"clients, replay cache, audit log, checkpoints", migrate_1_initial},
    {"paired terminals, operators, operator sessions", migrate_2_operators},
    {"why recent sessions ended", migrate_3_ended_sessions},
    {"each request's hash in its audit record", migrate_4_audit_request},
    {"the issuance journal", migrate_5_issuances},
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int
schema_version(struct hwg_store *s, int *version, struct hwg_error *err)
{
	char text[32];
	int rc;

	if ((rc = pragma_text(s, "PRAGMA user_version", text, sizeof(text), err)) != 0)
		return rc;
	*version = atoi(text);
	if (*version > SCHEMA_VERSION)
		return hwg_error_set(err, HWG_E_STORE,
		                     "database schema version %d is newer than this build's (%d)",
		                     *version, SCHEMA_VERSION);
	return 0;
}

static int
migrate(struct hwg_store *s, struct hwg_error *err)
{
	char sql[64];
	int version, rc;

	if ((rc = schema_version(s, &version, err)) != 0 || version == SCHEMA_VERSION)
		return rc;
	if ((rc = hwg_store_begin(s, err)) != 0)
		return rc;
	/* read again under the write lock: another process may have migrated meanwhile */
	if ((rc = schema_version(s, &version, err)) != 0)
		goto fail;
	for (; version < SCHEMA_VERSION; version++) {
		if ((rc = migrations[version].apply(s, err)) != 0) {
			hwg_error_set(err, rc, "schema migration to version %d (%s) failed: %s",
			              version + 1, migrations[version].what, sqlite3_errmsg(s->db));
			goto fail;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
	if ((rc = exec_sql(s, sql, "schema version", err)) != 0)
		goto fail;
	return hwg_store_commit(s, err);
fail:
	hwg_store_rollback(s);
	return rc;
}

/* ---------------------------------------------------------------- open */

/* The directory: a directory, ours, and closed to everyone else. */
static int
check_dir(const char *dir, int create, struct hwg_error *err)
{
	struct stat st;

	if (lstat(dir, &st) != 0) {
		if (errno != ENOENT || !create)
			return hwg_error_set(err, HWG_E_CONFIG, "state directory %s: %s", dir,
			                     strerror(errno));
		/* chmod as well: the umask must not decide what the directory allows */
		if (mkdir(dir, 0700) != 0 || chmod(dir, 0700) != 0 || lstat(dir, &st) != 0)
			return hwg_error_set(err, HWG_E_CONFIG,
			                     "cannot create state directory %s: %s", dir,
			                     strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return hwg_error_set(err, HWG_E_CONFIG, "state directory %s is not a directory",
		                     dir);
	if (st.st_uid != geteuid())
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "state directory %s is owned by uid %u, not by uid %u", dir,
		                     (unsigned)st.st_uid, (unsigned)geteuid());
	if ((st.st_mode & 077) != 0)
		return hwg_error_set(
		    err, HWG_E_CONFIG,
		    "state directory %s has mode %04o; it must be 0700 or narrower", dir,
		    (unsigned)(st.st_mode & 07777));
	return 0;
}

/*
 * The database file: created 0600 by us (SQLite gives its -wal and -shm
 * files the same mode), a regular file, ours, private and writable.
 */
static int
check_db_file(const char *path, int create, struct hwg_error *err)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) != 0) {
		if (errno != ENOENT)
			return hwg_error_set(err, HWG_E_STORE, "database %s: %s", path,
			                     strerror(errno));
		if (!create)
			return hwg_error_set(err, HWG_E_CONFIG,
			                     "no database at %s (hwgwd creates it when it starts)",
			                     path);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return hwg_error_set(err, HWG_E_STORE, "cannot create database %s: %s",
			                     path, strerror(errno));
		if (fd >= 0) {
			int frc = fchmod(fd, 0600);

			close(fd);
			if (frc != 0)
				return hwg_error_set(err, HWG_E_STORE, "database %s: %s", path,
				                     strerror(errno));
		}
		if (lstat(path, &st) != 0)
			return hwg_error_set(err, HWG_E_STORE, "database %s: %s", path,
			                     strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return hwg_error_set(err, HWG_E_CONFIG, "database %s is not a regular file", path);
	if (st.st_uid != geteuid())
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "database %s is owned by uid %u, not by uid %u", path,
		                     (unsigned)st.st_uid, (unsigned)geteuid());
	if ((st.st_mode & 077) != 0)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "database %s has mode %04o; it must be 0600", path,
		                     (unsigned)(st.st_mode & 07777));
	/* by mode, not access(2): root may write anything, but a 0400 file says "do not" */
	if ((st.st_mode & 0600) != 0600)
		return hwg_error_set(
		    err, HWG_E_STORE,
		    "database %s is read-only (mode %04o); nothing can be recorded", path,
		    (unsigned)(st.st_mode & 07777));
	return 0;
}

static int
configure(struct hwg_store *s, const char *path, struct hwg_error *err)
{
	char mode[16];
	int rc;

	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 5000);
	/* a database file is data, never code: no schema tricks, no untrusted functions */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if (sqlite3_db_readonly(s->db, "main") != 0)
		return hwg_error_set(err, HWG_E_STORE, "database %s opened read-only", path);
	if ((rc = pragma_text(s, "PRAGMA journal_mode=WAL", mode, sizeof(mode), err)) != 0)
		return rc;
	if (strcmp(mode, "wal") != 0)
		return hwg_error_set(err, HWG_E_STORE, "database %s refused WAL (journal_mode=%s)",
		                     path, mode);
	if ((rc = exec_sql(s,
	                   "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
	                   "PRAGMA secure_delete=ON;",
	                   "pragmas", err)) != 0)
		return rc;
	/* durability is the audit log's promise: check it took */
	if ((rc = pragma_text(s, "PRAGMA synchronous", mode, sizeof(mode), err)) != 0)
		return rc;
	if (strcmp(mode, "2") != 0)
		return hwg_error_set(err, HWG_E_STORE, "database %s refused synchronous=FULL",
		                     path);
	return 0;
}

int
hwg_store_open(const char *state_dir, int create, struct hwg_store **out, struct hwg_error *err)
{
	struct hwg_store *s;
	char path[sizeof(s->dir) + sizeof(DB_NAME) + 1];
	int rc, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

#ifdef SQLITE_OPEN_NOFOLLOW
	flags |= SQLITE_OPEN_NOFOLLOW;
#endif
	if (state_dir == NULL || state_dir[0] == '\0' || out == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no state directory");
	if (strlen(state_dir) >= sizeof(s->dir))
		return hwg_error_set(err, HWG_E_CONFIG, "state directory path too long");
	if ((rc = check_dir(state_dir, create, err)) != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/" DB_NAME, state_dir);
	if ((rc = check_db_file(path, create, err)) != 0)
		return rc;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	snprintf(s->dir, sizeof(s->dir), "%s", state_dir);
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		rc = hwg_error_set(err, HWG_E_STORE, "cannot open %s: %s", path,
		                   s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	if ((rc = configure(s, path, err)) != 0 || (rc = migrate(s, err)) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	hwg_store_close(s);
	return rc;
}

void
hwg_store_close(struct hwg_store *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_stmts; i++) {
		sqlite3_finalize(s->stmts[i].st);
		free(s->stmts[i].sql);
	}
	free(s->stmts);
	sqlite3_close_v2(s->db);
	free(s);
}

sqlite3 *
hwg_store_db(struct hwg_store *s)
{
	return s->db;
}

const char *
hwg_store_dir(const struct hwg_store *s)
{
	return s->dir;
}

/* ---------------------------------------------------------------- transactions */

int
hwg_store_begin(struct hwg_store *s, struct hwg_error *err)
{
	return exec_sql(s, "BEGIN IMMEDIATE", "begin", err);
}

int
hwg_store_commit(struct hwg_store *s, struct hwg_error *err)
{
	int rc = exec_sql(s, "COMMIT", "commit", err);

	/* SQLite may keep the transaction open after a failed COMMIT: never leave it so */
	if (rc != 0)
		hwg_store_rollback(s);
	return rc;
}

void
hwg_store_rollback(struct hwg_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int
hwg_store_in_transaction(const struct hwg_store *s)
{
	return !sqlite3_get_autocommit(s->db);
}

/* "VERB name" for a savepoint name of 1-32 of [a-z_] (it is spliced into SQL). */
static int
savepoint_sql(const char *verb, const char *name, char *out, size_t n, struct hwg_error *err)
{
	size_t len = name != NULL ? strspn(name, "abcdefghijklmnopqrstuvwxyz_") : 0;

	if (len == 0 || len > SAVEPOINT_NAME_MAX || name[len] != '\0')
		return hwg_error_set(err, HWG_E_INVALID, "a savepoint is named by 1-%d of a-z _",
		                     SAVEPOINT_NAME_MAX);
	snprintf(out, n, "%s %s", verb, name);
	return 0;
}

static int
savepoint_exec(struct hwg_store *s, const char *verb, const char *name, struct hwg_error *err)
{
	char sql[sizeof("ROLLBACK TO ") + SAVEPOINT_NAME_MAX];
	int rc;

	if ((rc = savepoint_sql(verb, name, sql, sizeof(sql), err)) != 0)
		return rc;
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return hwg_store_db_err(s, err, sql);
	return 0;
}

int
hwg_store_savepoint(struct hwg_store *s, const char *name, struct hwg_error *err)
{
	return savepoint_exec(s, "SAVEPOINT", name, err);
}

int
hwg_store_rollback_to(struct hwg_store *s, const char *name, struct hwg_error *err)
{
	return savepoint_exec(s, "ROLLBACK TO", name, err);
}

int
hwg_store_release(struct hwg_store *s, const char *name, struct hwg_error *err)
{
	return savepoint_exec(s, "RELEASE", name, err);
}

/* ---------------------------------------------------------------- clients */

/* Exactly one Ed25519 or P-256 SubjectPublicKeyInfo, nothing after it. */
static int
key_acceptable(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *k;
	int ok;

	if (der == NULL || len == 0 || len > 4096)
		return 0;
	k = d2i_PUBKEY(NULL, &p, (long)len);
	ok = k != NULL && p == der + len && hwg_cose_alg_for_key(k) != 0;
	EVP_PKEY_free(k);
	ERR_clear_error();
	return ok;
}

int
hwg_store_client_add(struct hwg_store *s, const struct hwg_client_rec *c, struct hwg_error *err)
{
	static const char sql[] = "INSERT INTO clients (id, role, pubkey, uids, created_ms) "
	                          "VALUES (?, ?, ?, ?, ?)";
	char uids[HWG_CLIENT_UIDS_MAX * 11 + 1] = "";
	sqlite3_stmt *st;
	size_t off = 0;
	int rc;

	if (!hwg_client_id_valid(c->id))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "client id \"%.*s\": 1-64 characters of A-Z a-z 0-9 . _ -",
		                     HWG_CLIENT_ID_MAX, c->id);
	if (!hwg_role_client(c->role))
		return hwg_error_set(
		    err, HWG_E_INVALID,
		    "client \"%s\": role %s is not a client's (one of " HWG_ROLES_CLIENT_TEXT ")",
		    c->id, hwg_role_name(c->role));
	if (c->n_uids > HWG_CLIENT_UIDS_MAX)
		return hwg_error_set(err, HWG_E_INVALID, "client \"%s\": %zu uids, at most %d",
		                     c->id, c->n_uids, HWG_CLIENT_UIDS_MAX);
	if (!key_acceptable(c->pubkey_der, c->pubkey_len))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "client \"%s\": the public key is not an Ed25519 or EC P-256 "
		                     "SubjectPublicKeyInfo",
		                     c->id);
	for (size_t i = 0; i < c->n_uids; i++)
		off += (size_t)snprintf(uids + off, sizeof(uids) - off, "%s%u", i ? "," : "",
		                        (unsigned)c->uids[i]);
	if ((rc = cached(s, sql, &st, err)) != 0)
		return rc;
	if (sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, hwg_role_name(c->role), -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 3, c->pubkey_der, (int)c->pubkey_len, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    sqlite3_bind_text(st, 4, uids, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, c->created_ms) != SQLITE_OK) {
		rc = hwg_store_db_err(s, err, "client add");
		sqlite3_reset(st);
		return rc;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc = hwg_error_set(err, HWG_E_EXISTS, "client \"%s\" is already registered", c->id);
	else
		rc = rc == SQLITE_DONE ? 0 : hwg_store_db_err(s, err, "client add");
	sqlite3_reset(st);
	return rc;
}

int
hwg_store_client_remove(struct hwg_store *s, const char *id, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (!hwg_client_id_valid(id))
		return hwg_error_set(err, HWG_E_INVALID, "not a client id");
	if ((rc = cached(s, "DELETE FROM clients WHERE id = ?", &st, err)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = hwg_store_step_done(s, st, "client remove", err)) != 0)
		return rc;
	if (sqlite3_changes(s->db) == 0)
		return hwg_error_set(err, HWG_E_NOT_FOUND, "client \"%s\" is not registered", id);
	return 0;
}

/* "1000,1001": decimal uids, comma-separated; -1 on anything else. */
static int
parse_uids(const char *text, struct hwg_client_rec *c)
{
	const char *p = text;

	c->n_uids = 0;
	if (p == NULL || *p == '\0')
		return 0;
	for (;;) {
		const char *start = p;
		uint64_t v = 0;

		for (; *p >= '0' && *p <= '9'; p++)
			if ((v = v * 10 + (uint64_t)(*p - '0')) > UINT32_MAX)
				return -1;
		if (p == start || c->n_uids == HWG_CLIENT_UIDS_MAX)
			return -1;
		c->uids[c->n_uids++] = (uint32_t)v;
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			return -1;
	}
}

/* One row into c (the key points into the statement); a reason if malformed. */
static const char *
row_to_client(sqlite3_stmt *st, struct hwg_client_rec *c)
{
	const char *id = (const char *)sqlite3_column_text(st, 0);

	memset(c, 0, sizeof(*c));
	if (!hwg_client_id_valid(id))
		return "bad id";
	memcpy(c->id, id, strlen(id) + 1);
	if (!hwg_role_client(c->role = hwg_role_parse((const char *)sqlite3_column_text(st, 1))))
		return "unknown role";
	if (sqlite3_column_type(st, 2) != SQLITE_BLOB || sqlite3_column_bytes(st, 2) <= 0)
		return "no public key";
	c->pubkey_der = (uint8_t *)(uintptr_t)sqlite3_column_blob(st, 2);
	c->pubkey_len = (size_t)sqlite3_column_bytes(st, 2);
	/* a damaged uid list must not turn into "any uid" */
	if (parse_uids((const char *)sqlite3_column_text(st, 3), c) != 0)
		return "bad uid list";
	c->created_ms = sqlite3_column_int64(st, 4);
	return NULL;
}

int
hwg_store_client_each(struct hwg_store *s, int (*fn)(void *ctx, const struct hwg_client_rec *c),
                      void *ctx, struct hwg_error *err)
{
	struct hwg_client_rec c;
	const char *why;
	sqlite3_stmt *st;
	int rc;

	/* not a cached statement: fn may call back into the store */
	if (sqlite3_prepare_v2(s->db,
	                       "SELECT id, role, pubkey, uids, created_ms FROM clients ORDER BY id",
	                       -1, &st, NULL) != SQLITE_OK)
		return hwg_store_db_err(s, err, "client list");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((why = row_to_client(st, &c)) != NULL) {
			rc = hwg_error_set(err, HWG_E_STORE,
			                   "client \"%s\" in the store is damaged (%s)",
			                   c.id[0] != '\0' ? c.id : "?", why);
			sqlite3_finalize(st);
			return rc;
		}
		if (fn(ctx, &c) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : hwg_store_db_err(s, err, "client list");
	sqlite3_finalize(st);
	return rc;
}

static int
walk_clients(void *src, int (*fn)(void *ctx, const struct hwg_client_rec *c), void *ctx,
             struct hwg_error *err)
{
	return hwg_store_client_each(src, fn, ctx, err);
}

int
hwg_store_load_clients(struct hwg_store *s, struct hwg_clients *cs, size_t *count,
                       struct hwg_error *err)
{
	return hwg_clients_load(cs, walk_clients, s, count, err);
}

/* ---------------------------------------------------------------- nonces */

static int
nonce_args(const char *client, const uint8_t *nonce, size_t nonce_len, struct hwg_error *err)
{
	if (client == NULL || nonce == NULL || nonce_len == 0 || nonce_len > NONCE_LEN_MAX)
		return hwg_error_set(err, HWG_E_INVALID, "no client or nonce of 1-%d bytes",
		                     NONCE_LEN_MAX);
	return 0;
}

/* Forget nonces older than the window; cheap (seen_ms is indexed) and at most once a second. */
static int
prune_nonces(struct hwg_store *s, int64_t now_ms, int64_t keep_ms, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (s->pruned && now_ms >= s->last_prune_ms && now_ms - s->last_prune_ms < PRUNE_EVERY_MS)
		return 0;
	if ((rc = cached(s, "DELETE FROM nonces WHERE seen_ms < ?", &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, now_ms - (keep_ms > 0 ? keep_ms : 0));
	if ((rc = hwg_store_step_done(s, st, "nonce prune", err)) != 0)
		return rc;
	s->last_prune_ms = now_ms;
	s->pruned = 1;
	return 0;
}

int
hwg_store_nonce_record(struct hwg_store *s, const char *client, const uint8_t *nonce,
                       size_t nonce_len, int64_t now_ms, int64_t keep_ms, struct hwg_error *err)
{
	static const char sql[] = "INSERT INTO nonces (client, nonce, seen_ms) VALUES (?, ?, ?)";
	sqlite3_stmt *st;
	int rc;

	if ((rc = nonce_args(client, nonce, nonce_len, err)) != 0 ||
	    (rc = prune_nonces(s, now_ms, keep_ms, err)) != 0)
		return rc;
	if ((rc = cached(s, sql, &st, err)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, client, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, nonce, (int)nonce_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc =
		    hwg_error_set(err, HWG_E_REPLAY, "nonce already used by client \"%s\"", client);
	else
		rc = rc == SQLITE_DONE ? 0 : hwg_store_db_err(s, err, "nonce record");
	sqlite3_reset(st);
	return rc;
}

int
hwg_store_nonce_seen(struct hwg_store *s, const char *client, const uint8_t *nonce,
                     size_t nonce_len, struct hwg_error *err)
{
	static const char sql[] = "SELECT 1 FROM nonces WHERE client = ? AND nonce = ?";
	sqlite3_stmt *st;
	int rc;

	if ((rc = nonce_args(client, nonce, nonce_len, err)) != 0)
		return rc;
	if ((rc = cached(s, sql, &st, err)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, client, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, nonce, (int)nonce_len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = 1;
	else
		rc = rc == SQLITE_DONE ? 0 : hwg_store_db_err(s, err, "nonce lookup");
	sqlite3_reset(st);
	return rc;
}
