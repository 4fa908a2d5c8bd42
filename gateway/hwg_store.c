/*
 * hwg_store.c — see hwg_store.h.  Schema changes are appended to
 * migrations[] and never edited: a city's database is migrated forward
 * from whatever version it was written by.
 */
#include "hwg_store.h"

#include <errno.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_cose.h"

struct hwg_store {
	sqlite3 *db;
	char dir[4096];
	int64_t last_prune_ms;
};

static const char *const migrations[] = {
	/* 1: clients, replay cache, audit log, checkpoints */
	"CREATE TABLE clients (id TEXT PRIMARY KEY, role TEXT NOT NULL, pubkey BLOB NOT NULL,"
	"  uids TEXT NOT NULL, created_ms INTEGER NOT NULL);"
	"CREATE TABLE nonces (client TEXT NOT NULL, nonce BLOB NOT NULL, seen_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (client, nonce)) WITHOUT ROWID;"
	"CREATE INDEX nonces_seen ON nonces (seen_ms);"
	"CREATE TABLE audit (seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
	"  client TEXT NOT NULL, peer_uid INTEGER NOT NULL, transport TEXT NOT NULL,"
	"  operation TEXT NOT NULL, operator_id TEXT NOT NULL, subject TEXT NOT NULL,"
	"  result TEXT NOT NULL, detail TEXT NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL);"
	"CREATE INDEX audit_subject ON audit (subject) WHERE subject != '';"
	"CREATE INDEX audit_operator ON audit (operator_id) WHERE operator_id != '';"
	"CREATE INDEX audit_time ON audit (time_ms);"
	"CREATE TABLE audit_checkpoint (seq INTEGER PRIMARY KEY, hash BLOB NOT NULL,"
	"  time_ms INTEGER NOT NULL, signature BLOB NOT NULL);",
};

static const char *const role_names[HWG_ROLE_COUNT_] = {"counter", "issuance", "admin", "auditor",
							"maintenance"};

int
hwg_role_parse(const char *name)
{
	for (int i = 0; i < HWG_ROLE_COUNT_; i++)
		if (strcmp(name, role_names[i]) == 0)
			return i;
	return -1;
}

const char *
hwg_role_name(int role)
{
	return role >= 0 && role < HWG_ROLE_COUNT_ ? role_names[role] : "unknown";
}

int
hwg_client_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > HWG_CLIENT_ID_MAX)
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return 0;
	return 1;
}

void
hwg_client_rec_clear(struct hwg_client_rec *c)
{
	OPENSSL_free(c->pubkey_der);
	memset(c, 0, sizeof(*c));
}

static int
db_err(struct hwg_store *s, struct hwg_error *err, const char *what)
{
	return hwg_error_set(err, HWG_E_STORE, "%s: %s", what, sqlite3_errmsg(s->db));
}

/* The directory: ours, a directory, and closed to everyone else. */
static int
check_dir(const char *dir, int create, struct hwg_error *err)
{
	struct stat st;

	if (lstat(dir, &st) != 0) {
		if (errno != ENOENT || !create)
			return hwg_error_set(err, HWG_E_CONFIG, "state directory %s: %s", dir,
					     strerror(errno));
		if (mkdir(dir, 0700) != 0 || lstat(dir, &st) != 0)
			return hwg_error_set(err, HWG_E_CONFIG, "cannot create state directory %s: %s",
					     dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return hwg_error_set(err, HWG_E_CONFIG, "state directory %s is not a directory", dir);
	if (st.st_uid != geteuid())
		return hwg_error_set(err, HWG_E_CONFIG, "state directory %s is owned by uid %u, not us",
				     dir, (unsigned)st.st_uid);
	if ((st.st_mode & 077) != 0)
		return hwg_error_set(err, HWG_E_CONFIG,
				     "state directory %s has mode %04o: it must be 0700 (private)",
				     dir, (unsigned)(st.st_mode & 07777));
	return 0;
}

static int
migrate(struct hwg_store *s, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int version = 0;
	const int target = (int)(sizeof(migrations) / sizeof(migrations[0]));

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "user_version");
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > target)
		return hwg_error_set(err, HWG_E_STORE,
				     "database schema %d is newer than this hwgwd (%d)", version,
				     target);
	for (; version < target; version++) {
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
		if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(s->db, migrations[version], NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			int rc = db_err(s, err, "schema migration");
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
	}
	return 0;
}

int
hwg_store_open(const char *state_dir, int create, struct hwg_store **out, struct hwg_error *err)
{
	struct hwg_store *s;
	char path[4200], mode[16] = "";
	sqlite3_stmt *st;
	int rc, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	if (strlen(state_dir) >= sizeof(s->dir))
		return hwg_error_set(err, HWG_E_CONFIG, "state directory path too long");
	if ((rc = check_dir(state_dir, create, err)) != 0)
		return rc;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	snprintf(s->dir, sizeof(s->dir), "%s", state_dir);
	snprintf(path, sizeof(path), "%s/hwgw.db", state_dir);
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		rc = hwg_error_set(err, create ? HWG_E_STORE : HWG_E_CONFIG, "cannot open %s: %s",
				   path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	chmod(path, 0600);
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (strcmp(mode, "wal") != 0) {
		rc = hwg_error_set(err, HWG_E_STORE, "%s: WAL mode refused (journal_mode=%s)", path,
				   mode);
		goto fail;
	}
	if (sqlite3_exec(s->db,
			 "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;",
			 NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_err(s, err, "pragmas");
		goto fail;
	}
	if ((rc = migrate(s, err)) != 0)
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

int
hwg_store_begin(struct hwg_store *s, struct hwg_error *err)
{
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_err(s, err, "begin");
	return 0;
}

int
hwg_store_commit(struct hwg_store *s, struct hwg_error *err)
{
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return db_err(s, err, "commit");
	return 0;
}

void
hwg_store_rollback(struct hwg_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---------------------------------------------------------------- clients */

static int
key_acceptable(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);
	int ok = k != NULL && p == der + len && hwg_cose_alg_for_key(k) != 0;

	EVP_PKEY_free(k);
	return ok;
}

int
hwg_store_client_add(struct hwg_store *s, const struct hwg_client_rec *c, struct hwg_error *err)
{
	char uids[HWG_CLIENT_UIDS_MAX * 11 + 1] = "";
	sqlite3_stmt *st;
	size_t off = 0;
	int rc;

	if (!hwg_client_id_valid(c->id))
		return hwg_error_set(err, HWG_E_INVALID,
				     "client id \"%s\": 1-64 characters of A-Z a-z 0-9 . _ -", c->id);
	if (c->role < 0 || c->role >= HWG_ROLE_COUNT_)
		return hwg_error_set(err, HWG_E_INVALID, "unknown role");
	if (c->n_uids > HWG_CLIENT_UIDS_MAX)
		return hwg_error_set(err, HWG_E_INVALID, "at most %d uids", HWG_CLIENT_UIDS_MAX);
	if (!key_acceptable(c->pubkey_der, c->pubkey_len))
		return hwg_error_set(err, HWG_E_INVALID,
				     "the public key is neither Ed25519 nor EC P-256");
	for (size_t i = 0; i < c->n_uids; i++)
		off += (size_t)snprintf(uids + off, sizeof(uids) - off, "%s%u", i ? "," : "",
					c->uids[i]);
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO clients (id, role, pubkey, uids, created_ms) "
			       "VALUES (?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "client add");
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hwg_role_name(c->role), -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, c->pubkey_der, (int)c->pubkey_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, uids, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, c->created_ms);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return hwg_error_set(err, HWG_E_EXISTS, "client \"%s\" is already registered", c->id);
	if (rc != SQLITE_DONE)
		return db_err(s, err, "client add");
	return 0;
}

int
hwg_store_client_remove(struct hwg_store *s, const char *id, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "DELETE FROM clients WHERE id = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_err(s, err, "client remove");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, err, "client remove");
	if (sqlite3_changes(s->db) == 0)
		return hwg_error_set(err, HWG_E_NOT_FOUND, "client \"%s\" is not registered", id);
	return 0;
}

static void
parse_uids(const char *text, struct hwg_client_rec *c)
{
	char *end;

	c->n_uids = 0;
	while (text != NULL && *text != '\0' && c->n_uids < HWG_CLIENT_UIDS_MAX) {
		c->uids[c->n_uids++] = (uint32_t)strtoul(text, &end, 10);
		text = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end != '\0')
			break;
	}
}

int
hwg_store_client_each(struct hwg_store *s, int (*fn)(void *ctx, const struct hwg_client_rec *c),
		      void *ctx, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT id, role, pubkey, uids, created_ms FROM clients ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "client list");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hwg_client_rec c;

		memset(&c, 0, sizeof(c));
		snprintf(c.id, sizeof(c.id), "%s", (const char *)sqlite3_column_text(st, 0));
		c.role = hwg_role_parse((const char *)sqlite3_column_text(st, 1));
		c.pubkey_der = (uint8_t *)(uintptr_t)sqlite3_column_blob(st, 2);
		c.pubkey_len = (size_t)sqlite3_column_bytes(st, 2);
		parse_uids((const char *)sqlite3_column_text(st, 3), &c);
		c.created_ms = sqlite3_column_int64(st, 4);
		if (fn(ctx, &c) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err(s, err, "client list");
}

/* ---------------------------------------------------------------- nonces */

int
hwg_store_nonce_record(struct hwg_store *s, const char *client, const uint8_t *nonce,
		       size_t nonce_len, int64_t now_ms, int64_t keep_ms, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (now_ms - s->last_prune_ms >= 1000) {
		if (sqlite3_prepare_v2(s->db, "DELETE FROM nonces WHERE seen_ms < ?", -1, &st,
				       NULL) != SQLITE_OK)
			return db_err(s, err, "nonce prune");
		sqlite3_bind_int64(st, 1, now_ms - keep_ms);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return db_err(s, err, "nonce prune");
		s->last_prune_ms = now_ms;
	}
	if (sqlite3_prepare_v2(s->db, "INSERT INTO nonces (client, nonce, seen_ms) VALUES (?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "nonce record");
	sqlite3_bind_text(st, 1, client, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, nonce, (int)nonce_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return hwg_error_set(err, HWG_E_REPLAY, "nonce already used by client \"%s\"", client);
	if (rc != SQLITE_DONE)
		return db_err(s, err, "nonce record");
	return 0;
}

int
hwg_store_nonce_seen(struct hwg_store *s, const char *client, const uint8_t *nonce,
		     size_t nonce_len, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM nonces WHERE client = ? AND nonce = ?", -1,
			       &st, NULL) != SQLITE_OK)
		return db_err(s, err, "nonce lookup");
	sqlite3_bind_text(st, 1, client, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, nonce, (int)nonce_len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : db_err(s, err, "nonce lookup");
}
