/*
 * test_store.c — the state directory and its database: private
 * directory and file modes, WAL and the pragmas that make a commit
 * durable, schema versions, client registration and its refusals, the
 * replay cache across restarts and its pruning, transactions whose commit
 * fails, savepoints and their names, and a read-only database that must
 * not pretend to accept writes.
 */
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_store.h"
#include "hwg_store_sql.h"
#include "hwg_test.h"

static uint8_t *ed_der, *p256_der, *p384_der, *rsa_der;
static size_t ed_len, p256_len, p384_len, rsa_len;

/* ---------------------------------------------------------------- helpers */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh private directory under /tmp. */
static void
make_base(char *dir, size_t n)
{
	snprintf(dir, n, "/tmp/hwgw-store-test.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
}

static struct hwg_store *
open_ok(const char *dir)
{
	struct hwg_store *s = NULL;
	struct hwg_error err = {0};

	if (hwg_store_open(dir, 1, &s, &err) != 0) {
		fprintf(stderr, "  store %s: %s\n", dir, err.message);
		exit(2);
	}
	return s;
}

static long long
query_int(struct hwg_store *s, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(hwg_store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
query_text(struct hwg_store *s, const char *sql, char *out, size_t n)
{
	sqlite3_stmt *st;

	out[0] = '\0';
	if (sqlite3_prepare_v2(hwg_store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static int
mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static uint8_t *
der_of(EVP_PKEY *k, size_t *len)
{
	uint8_t *der = NULL;
	int n = i2d_PUBKEY(k, &der);

	*len = n > 0 ? (size_t)n : 0;
	EVP_PKEY_free(k);
	return der;
}

static struct hwg_client_rec
client(const char *id, int role, const uint8_t *der, size_t len)
{
	struct hwg_client_rec c;

	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "%s", id);
	c.role = role;
	c.pubkey_der = (uint8_t *)(uintptr_t)der;
	c.pubkey_len = len;
	c.created_ms = 1700000000000;
	return c;
}

/* What a client walk saw. */
struct seen {
	int n;
	char ids[8][HWG_CLIENT_ID_MAX + 1];
	int roles[8];
	size_t n_uids[8];
	uint32_t uids[8][HWG_CLIENT_UIDS_MAX];
	size_t key_len[8];
	uint8_t key_first[8];
	int64_t created[8];
};

static int
collect(void *ctx, const struct hwg_client_rec *c)
{
	struct seen *v = ctx;

	if (v->n == 8)
		return 1;
	memcpy(v->ids[v->n], c->id, sizeof(c->id));
	v->roles[v->n] = c->role;
	v->n_uids[v->n] = c->n_uids;
	memcpy(v->uids[v->n], c->uids, sizeof(c->uids));
	v->key_len[v->n] = c->pubkey_len;
	v->key_first[v->n] = c->pubkey_der[0];
	v->created[v->n] = c->created_ms;
	v->n++;
	return 0;
}

static int
list(struct hwg_store *s, struct seen *v)
{
	struct hwg_error err = {0};

	memset(v, 0, sizeof(*v));
	return hwg_store_client_each(s, collect, v, &err);
}

/* ---------------------------------------------------------------- directory */

static void
test_dir_created_private(void)
{
	char base[64], dir[128], db[160];
	struct hwg_store *s = NULL;
	struct hwg_error err = {0};
	mode_t old;

	make_base(base, sizeof(base));
	snprintf(dir, sizeof(dir), "%s/state", base);
	snprintf(db, sizeof(db), "%s/hwgw.db", dir);
	/* not there and not to be created: refused, naming the path */
	CHECK_EQ_INT(hwg_store_open(dir, 0, &s, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, dir) != NULL);
	/* a hostile umask must not decide the modes */
	old = umask(0277);
	CHECK_EQ_INT(hwg_store_open(dir, 1, &s, &err), 0);
	umask(old);
	CHECK_EQ_INT(mode_of(dir), 0700);
	CHECK_EQ_INT(mode_of(db), 0600);
	if (s != NULL) {
		CHECK_EQ_STR(hwg_store_dir(s), dir);
		hwg_store_close(s);
	}
	s = NULL;
	CHECK_EQ_INT(hwg_store_open(dir, 0, &s, &err), 0);
	hwg_store_close(s);
	rm_tree(base);
}

static void
test_wide_dir_refused(void)
{
	char base[64], dir[128], db[160];
	struct hwg_store *s = NULL;
	struct hwg_error err = {0};

	make_base(base, sizeof(base));
	snprintf(dir, sizeof(dir), "%s/state", base);
	snprintf(db, sizeof(db), "%s/hwgw.db", dir);
	CHECK_EQ_INT(mkdir(dir, 0700), 0);
	CHECK_EQ_INT(chmod(dir, 0755), 0);
	CHECK_EQ_INT(hwg_store_open(dir, 1, &s, &err), HWG_E_CONFIG);
	CHECK(s == NULL);
	CHECK(strstr(err.message, dir) != NULL);
	CHECK(strstr(err.message, "0755") != NULL);
	CHECK(access(db, F_OK) != 0); /* nothing was created in it */
	CHECK_EQ_INT(chmod(dir, 0710), 0);
	CHECK_EQ_INT(hwg_store_open(dir, 1, &s, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "0710") != NULL);
	CHECK_EQ_INT(chmod(dir, 0700), 0);
	CHECK_EQ_INT(hwg_store_open(dir, 1, &s, &err), 0);
	hwg_store_close(s);
	rm_tree(base);
}

static void
test_not_a_directory_refused(void)
{
	char base[64], file[128], link[128], real[128];
	struct hwg_store *s = NULL;
	struct hwg_error err = {0};
	int fd;

	make_base(base, sizeof(base));
	snprintf(file, sizeof(file), "%s/file", base);
	snprintf(real, sizeof(real), "%s/real", base);
	snprintf(link, sizeof(link), "%s/link", base);
	fd = open(file, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK_EQ_INT(hwg_store_open(file, 1, &s, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "not a directory") != NULL);
	/* a symlink, even to a private directory, is not the directory */
	CHECK_EQ_INT(mkdir(real, 0700), 0);
	CHECK_EQ_INT(symlink(real, link), 0);
	CHECK_EQ_INT(hwg_store_open(link, 1, &s, &err), HWG_E_CONFIG);
	CHECK(s == NULL);
	rm_tree(base);
}

static void
test_foreign_owner_refused(void)
{
	char base[64], dir[128];
	struct hwg_store *s = NULL;
	struct hwg_error err = {0};

	if (geteuid() != 0) {
		fprintf(stderr, "  (not root: cannot give a directory away; part skipped)\n");
		return;
	}
	make_base(base, sizeof(base));
	snprintf(dir, sizeof(dir), "%s/state", base);
	CHECK_EQ_INT(mkdir(dir, 0700), 0);
	CHECK_EQ_INT(chown(dir, 1, 1), 0);
	CHECK_EQ_INT(hwg_store_open(dir, 1, &s, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "owned by uid 1") != NULL);
	rm_tree(base);
}

static void
test_database_file_checked(void)
{
	char dir[64], db[128];
	struct hwg_store *s = NULL;
	struct hwg_error err = {0};

	make_base(dir, sizeof(dir));
	snprintf(db, sizeof(db), "%s/hwgw.db", dir);
	hwg_store_close(open_ok(dir));
	CHECK_EQ_INT(chmod(db, 0644), 0);
	CHECK_EQ_INT(hwg_store_open(dir, 1, &s, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, db) != NULL && strstr(err.message, "0644") != NULL);
	/* read-only: refused as a store failure, by mode (root could write it anyway) */
	CHECK_EQ_INT(chmod(db, 0400), 0);
	CHECK_EQ_INT(hwg_store_open(dir, 1, &s, &err), HWG_E_STORE);
	CHECK(strstr(err.message, "read-only") != NULL);
	CHECK(s == NULL);
	CHECK_EQ_INT(chmod(db, 0600), 0);
	CHECK_EQ_INT(hwg_store_open(dir, 1, &s, &err), 0);
	hwg_store_close(s);
	s = NULL;
	/* a symlink in place of the database */
	CHECK_EQ_INT(rename(db, "/tmp/hwgw-store-test-moved.db"), 0);
	CHECK_EQ_INT(symlink("/tmp/hwgw-store-test-moved.db", db), 0);
	CHECK_EQ_INT(hwg_store_open(dir, 1, &s, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "not a regular file") != NULL);
	unlink("/tmp/hwgw-store-test-moved.db");
	rm_tree(dir);
}

/* ---------------------------------------------------------------- database */

static void
test_wal_and_pragmas(void)
{
	char dir[64], wal[128], text[32];
	struct hwg_store *s;
	struct hwg_error err = {0};
	const uint8_t nonce[16] = {1};

	make_base(dir, sizeof(dir));
	s = open_ok(dir);
	query_text(s, "PRAGMA journal_mode", text, sizeof(text));
	CHECK_EQ_STR(text, "wal");
	CHECK_EQ_INT(query_int(s, "PRAGMA synchronous"), 2); /* FULL */
	CHECK_EQ_INT(query_int(s, "PRAGMA foreign_keys"), 1);
	CHECK_EQ_INT(query_int(s, "PRAGMA secure_delete"), 1);
	CHECK_EQ_INT(query_int(s, "PRAGMA busy_timeout"), 5000);
	CHECK_EQ_INT(query_int(s, "PRAGMA user_version"), 5);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
	                          "name IN ('clients', 'nonces', 'audit', 'audit_checkpoint')"),
	             4);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
	                          "tbl_name = 'nonces' AND sql LIKE '%seen_ms%'"),
	             1);
	CHECK_EQ_INT(hwg_store_nonce_record(s, "c", nonce, sizeof(nonce), 1000, 1000, &err), 0);
	snprintf(wal, sizeof(wal), "%s/hwgw.db-wal", dir);
	CHECK_EQ_INT(mode_of(wal), 0600); /* written to the WAL, and just as private */
	hwg_store_close(s);
	rm_tree(dir);
}

static void
test_newer_schema_refused(void)
{
	char dir[64];
	struct hwg_store *s;
	struct hwg_error err = {0};

	make_base(dir, sizeof(dir));
	s = open_ok(dir);
	CHECK_EQ_INT(sqlite3_exec(hwg_store_db(s), "PRAGMA user_version = 99", NULL, NULL, NULL),
	             SQLITE_OK);
	hwg_store_close(s);
	s = NULL;
	CHECK_EQ_INT(hwg_store_open(dir, 1, &s, &err), HWG_E_STORE);
	CHECK(strstr(err.message, "newer") != NULL);
	CHECK(s == NULL);
	rm_tree(dir);
}

static void
test_statement_cache(void)
{
	char dir[64];
	struct hwg_store *s;
	struct hwg_error err = {0};
	sqlite3_stmt *a, *b;

	make_base(dir, sizeof(dir));
	s = open_ok(dir);
	a = hwg_store_stmt(s, "SELECT count(*) FROM clients", &err);
	CHECK(a != NULL);
	if (a != NULL)
		CHECK_EQ_INT(sqlite3_step(a), SQLITE_ROW); /* left mid-way on purpose */
	b = hwg_store_stmt(s, "SELECT count(*) FROM clients", &err);
	CHECK(a == b);
	if (b != NULL) {
		CHECK_EQ_INT(sqlite3_stmt_busy(b), 0); /* handed back reset */
		sqlite3_reset(b);
	}
	CHECK(hwg_store_stmt(s, "SELECT missing FROM nowhere", &err) == NULL);
	CHECK_EQ_INT(err.code, HWG_E_STORE);
	CHECK(strstr(err.message, "no such") != NULL); /* SQLite's own words */
	hwg_store_close(s);
	rm_tree(dir);
}

static int
refuse_commit(void *ctx)
{
	(void)ctx;
	return 1;
}

static void
test_transactions_and_failed_commit(void)
{
	char dir[64];
	struct hwg_store *s;
	struct hwg_error err = {0};
	struct hwg_client_rec a = client("a", HWG_ROLE_COUNTER, ed_der, ed_len);
	struct hwg_client_rec b = client("b", HWG_ROLE_COUNTER, ed_der, ed_len);

	make_base(dir, sizeof(dir));
	s = open_ok(dir);
	CHECK_EQ_INT(hwg_store_begin(s, &err), 0);
	CHECK_EQ_INT(hwg_store_client_add(s, &a, &err), 0);
	hwg_store_rollback(s);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM clients"), 0);
	CHECK_EQ_INT(hwg_store_begin(s, &err), 0);
	CHECK_EQ_INT(hwg_store_client_add(s, &a, &err), 0);
	CHECK_EQ_INT(hwg_store_commit(s, &err), 0);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM clients"), 1);
	/* a commit that fails is a store failure, and leaves no transaction behind */
	sqlite3_commit_hook(hwg_store_db(s), refuse_commit, NULL);
	CHECK_EQ_INT(hwg_store_begin(s, &err), 0);
	CHECK_EQ_INT(hwg_store_client_add(s, &b, &err), 0);
	CHECK_EQ_INT(hwg_store_commit(s, &err), HWG_E_STORE);
	CHECK(strstr(err.message, "commit") != NULL);
	CHECK_EQ_INT(sqlite3_get_autocommit(hwg_store_db(s)), 1);
	sqlite3_commit_hook(hwg_store_db(s), NULL, NULL);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM clients"), 1);
	CHECK_EQ_INT(hwg_store_begin(s, &err), 0);
	CHECK_EQ_INT(hwg_store_commit(s, &err), 0);
	/* begin inside a transaction is refused, not nested silently */
	CHECK_EQ_INT(hwg_store_begin(s, &err), 0);
	CHECK_EQ_INT(hwg_store_begin(s, &err), HWG_E_STORE);
	hwg_store_rollback(s);
	hwg_store_close(s);
	rm_tree(dir);
}

/* A savepoint undoes its part alone; its name is spliced into SQL, so only [a-z_] passes. */
static void
test_savepoints(void)
{
	static const char *const bad[] = {"", "OP", "op; DROP TABLE audit", "op x",
	                                  "a_name_of_thirty_three_letters_xy"};
	char dir[64];
	struct hwg_store *s;
	struct hwg_error err = {0};
	struct hwg_client_rec a = client("a", HWG_ROLE_COUNTER, ed_der, ed_len);
	struct hwg_client_rec b = client("b", HWG_ROLE_COUNTER, ed_der, ed_len);

	make_base(dir, sizeof(dir));
	s = open_ok(dir);
	CHECK_EQ_INT(hwg_store_begin(s, &err), 0);
	CHECK_EQ_INT(hwg_store_client_add(s, &a, &err), 0);
	CHECK_EQ_INT(hwg_store_savepoint(s, "op", &err), 0);
	CHECK_EQ_INT(hwg_store_client_add(s, &b, &err), 0);
	CHECK_EQ_INT(hwg_store_rollback_to(s, "op", &err), 0);
	CHECK_EQ_INT(hwg_store_release(s, "op", &err), 0);
	CHECK_EQ_INT(hwg_store_savepoint(s, "op_commit", &err), 0);
	CHECK_EQ_INT(hwg_store_release(s, "op_commit", &err), 0);
	CHECK_EQ_INT(hwg_store_commit(s, &err), 0);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM clients"), 1);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM clients WHERE id = 'a'"), 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(hwg_store_savepoint(s, bad[i], &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_store_savepoint(s, NULL, &err), HWG_E_INVALID);
	/* a savepoint never made cannot be rolled back to */
	CHECK_EQ_INT(hwg_store_rollback_to(s, "never", &err), HWG_E_STORE);
	CHECK(strstr(err.message, "ROLLBACK TO never") != NULL);
	CHECK_EQ_INT(sqlite3_get_autocommit(hwg_store_db(s)), 1);
	hwg_store_close(s);
	rm_tree(dir);
}

static void
test_write_refused_is_an_error(void)
{
	char dir[64];
	struct hwg_store *s;
	struct hwg_error err = {0};
	struct hwg_client_rec a = client("a", HWG_ROLE_COUNTER, ed_der, ed_len);
	const uint8_t nonce[16] = {7};

	make_base(dir, sizeof(dir));
	s = open_ok(dir);
	/* SQLite itself refuses writes (file modes do not stop root) */
	CHECK_EQ_INT(sqlite3_exec(hwg_store_db(s), "PRAGMA query_only = 1", NULL, NULL, NULL),
	             SQLITE_OK);
	CHECK_EQ_INT(hwg_store_client_add(s, &a, &err), HWG_E_STORE);
	CHECK(strstr(err.message, "readonly") != NULL);
	CHECK_EQ_INT(hwg_store_nonce_record(s, "a", nonce, sizeof(nonce), 5000, 1000, &err),
	             HWG_E_STORE);
	CHECK_EQ_INT(sqlite3_exec(hwg_store_db(s), "PRAGMA query_only = 0", NULL, NULL, NULL),
	             SQLITE_OK);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM clients"), 0);
	CHECK_EQ_INT(hwg_store_client_add(s, &a, &err), 0);
	hwg_store_close(s);
	rm_tree(dir);
}

/* ---------------------------------------------------------------- clients */

static void
test_roles(void)
{
	static const char *const names[] = {"counter",     "issuance", "admin",     "auditor",
	                                    "maintenance", "registry", "supervisor"};

	for (int i = 0; i < HWG_ROLE_COUNT_; i++) {
		CHECK_EQ_INT(hwg_role_parse(names[i]), i);
		CHECK_EQ_STR(hwg_role_name(i), names[i]);
	}
	CHECK_EQ_INT(hwg_role_parse("root"), -1);
	CHECK_EQ_INT(hwg_role_parse("Counter"), -1);
	CHECK_EQ_INT(hwg_role_parse(""), -1);
	CHECK_EQ_STR(hwg_role_name(-1), "unknown");
	CHECK_EQ_STR(hwg_role_name(HWG_ROLE_COUNT_), "unknown");
	CHECK_EQ_INT(HWG_ROLE_COUNT_, sizeof(names) / sizeof(names[0]));
}

static void
test_client_id_rule(void)
{
	char max[HWG_CLIENT_ID_MAX + 2];

	memset(max, 'a', sizeof(max));
	max[HWG_CLIENT_ID_MAX] = '\0';
	CHECK_EQ_INT(hwg_client_id_valid(max), 1);
	max[HWG_CLIENT_ID_MAX] = 'a';
	max[HWG_CLIENT_ID_MAX + 1] = '\0';
	CHECK_EQ_INT(hwg_client_id_valid(max), 0);
	CHECK_EQ_INT(hwg_client_id_valid("counter-01.east_2"), 1);
	CHECK_EQ_INT(hwg_client_id_valid("A"), 1);
	CHECK_EQ_INT(hwg_client_id_valid(""), 0);
	CHECK_EQ_INT(hwg_client_id_valid("a b"), 0);
	CHECK_EQ_INT(hwg_client_id_valid("a/b"), 0);
	CHECK_EQ_INT(hwg_client_id_valid("caf\xc3\xa9"), 0);
	CHECK_EQ_INT(hwg_client_id_valid("a,b"), 0);
	CHECK_EQ_INT(hwg_client_id_valid(NULL), 0);
}

static void
test_clients_add_list_remove(void)
{
	char dir[64];
	struct hwg_store *s;
	struct hwg_error err = {0};
	struct hwg_client_rec c1 = client("counter-01", HWG_ROLE_COUNTER, ed_der, ed_len);
	struct hwg_client_rec c2 = client("admin.a", HWG_ROLE_ADMIN, p256_der, p256_len);
	struct seen v;

	c1.uids[0] = 1000;
	c1.uids[1] = 4294967295u;
	c1.n_uids = 2;
	make_base(dir, sizeof(dir));
	s = open_ok(dir);
	CHECK_EQ_INT(hwg_store_client_add(s, &c1, &err), 0);
	CHECK_EQ_INT(hwg_store_client_add(s, &c2, &err), 0);
	CHECK_EQ_INT(list(s, &v), 0);
	CHECK_EQ_INT(v.n, 2);
	CHECK_EQ_STR(v.ids[0], "admin.a"); /* id order */
	CHECK_EQ_INT(v.roles[0], HWG_ROLE_ADMIN);
	CHECK_EQ_INT(v.n_uids[0], 0);
	CHECK_EQ_INT(v.key_len[0], p256_len);
	CHECK_EQ_STR(v.ids[1], "counter-01");
	CHECK_EQ_INT(v.roles[1], HWG_ROLE_COUNTER);
	CHECK_EQ_INT(v.n_uids[1], 2);
	CHECK_EQ_INT(v.uids[1][0], 1000);
	CHECK_EQ_INT(v.uids[1][1], 4294967295u);
	CHECK_EQ_INT(v.key_len[1], ed_len);
	CHECK_EQ_INT(v.key_first[1], ed_der[0]);
	CHECK_EQ_INT(v.created[1], 1700000000000);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM clients WHERE id = 'counter-01' AND "
	                          "uids = '1000,4294967295' AND role = 'counter'"),
	             1);
	CHECK_EQ_INT(hwg_store_client_remove(s, "counter-01", &err), 0);
	CHECK_EQ_INT(list(s, &v), 0);
	CHECK_EQ_INT(v.n, 1);
	CHECK_EQ_STR(v.ids[0], "admin.a");
	CHECK_EQ_INT(hwg_store_client_remove(s, "counter-01", &err), HWG_E_NOT_FOUND);
	CHECK_EQ_INT(hwg_store_client_remove(s, "no such/id", &err), HWG_E_INVALID);
	hwg_store_close(s);
	rm_tree(dir);
}

static void
test_client_duplicate_refused(void)
{
	char dir[64];
	struct hwg_store *s;
	struct hwg_error err = {0};
	struct hwg_client_rec c = client("counter-01", HWG_ROLE_COUNTER, ed_der, ed_len);
	struct hwg_client_rec again = client("counter-01", HWG_ROLE_ADMIN, p256_der, p256_len);
	struct seen v;

	make_base(dir, sizeof(dir));
	s = open_ok(dir);
	CHECK_EQ_INT(hwg_store_client_add(s, &c, &err), 0);
	CHECK_EQ_INT(hwg_store_client_add(s, &again, &err), HWG_E_EXISTS);
	CHECK(strstr(err.message, "counter-01") != NULL);
	CHECK_EQ_INT(list(s, &v), 0);
	CHECK_EQ_INT(v.n, 1);
	CHECK_EQ_INT(v.roles[0], HWG_ROLE_COUNTER); /* the first registration stands */
	hwg_store_close(s);
	rm_tree(dir);
}

static void
test_client_bad_id_refused(void)
{
	static const char *const bad[] = {"", "a b", "a/b", "caf\xc3\xa9", "../x", "a\tb"};
	char dir[64], long_id[HWG_CLIENT_ID_MAX + 1];
	struct hwg_store *s;
	struct hwg_error err = {0};
	struct hwg_client_rec c;

	make_base(dir, sizeof(dir));
	s = open_ok(dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = client(bad[i], HWG_ROLE_COUNTER, ed_der, ed_len);
		CHECK_EQ_INT(hwg_store_client_add(s, &c, &err), HWG_E_INVALID);
	}
	/* 65 characters: the record's id field holds no terminator */
	c = client("x", HWG_ROLE_COUNTER, ed_der, ed_len);
	memset(c.id, 'a', sizeof(c.id));
	CHECK_EQ_INT(hwg_store_client_add(s, &c, &err), HWG_E_INVALID);
	memset(long_id, 'b', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	c = client(long_id, HWG_ROLE_COUNTER, ed_der, ed_len);
	CHECK_EQ_INT(hwg_store_client_add(s, &c, &err), 0); /* 64 is fine */
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM clients"), 1);
	hwg_store_close(s);
	rm_tree(dir);
}

static void
test_client_bad_key_refused(void)
{
	char dir[64];
	struct hwg_store *s;
	struct hwg_error err = {0};
	uint8_t garbage[64], trailing[256];
	struct hwg_client_rec c;

	memset(garbage, 0x30, sizeof(garbage));
	memcpy(trailing, p256_der, p256_len);
	trailing[p256_len] = 0;
	make_base(dir, sizeof(dir));
	s = open_ok(dir);
	c = client("k1", HWG_ROLE_COUNTER, garbage, sizeof(garbage));
	CHECK_EQ_INT(hwg_store_client_add(s, &c, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "Ed25519") != NULL);
	c = client("k2", HWG_ROLE_COUNTER, p256_der, p256_len - 1); /* truncated */
	CHECK_EQ_INT(hwg_store_client_add(s, &c, &err), HWG_E_INVALID);
	c = client("k3", HWG_ROLE_COUNTER, trailing, p256_len + 1); /* a byte after the key */
	CHECK_EQ_INT(hwg_store_client_add(s, &c, &err), HWG_E_INVALID);
	c = client("k4", HWG_ROLE_COUNTER, p384_der, p384_len); /* EC, but not P-256 */
	CHECK_EQ_INT(hwg_store_client_add(s, &c, &err), HWG_E_INVALID);
	c = client("k5", HWG_ROLE_COUNTER, rsa_der, rsa_len);
	CHECK_EQ_INT(hwg_store_client_add(s, &c, &err), HWG_E_INVALID);
	c = client("k6", HWG_ROLE_COUNTER, NULL, 0);
	CHECK_EQ_INT(hwg_store_client_add(s, &c, &err), HWG_E_INVALID);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM clients"), 0);
	hwg_store_close(s);
	rm_tree(dir);
}

static void
test_client_uids_and_role_limits(void)
{
	char dir[64];
	struct hwg_store *s;
	struct hwg_error err = {0};
	struct hwg_client_rec c = client("many", HWG_ROLE_COUNTER, ed_der, ed_len);
	struct seen v;

	for (size_t i = 0; i < HWG_CLIENT_UIDS_MAX; i++)
		c.uids[i] = (uint32_t)(1000 + i);
	make_base(dir, sizeof(dir));
	s = open_ok(dir);
	c.n_uids = HWG_CLIENT_UIDS_MAX + 1;
	CHECK_EQ_INT(hwg_store_client_add(s, &c, &err), HWG_E_INVALID);
	c.n_uids = HWG_CLIENT_UIDS_MAX;
	c.role = -1;
	CHECK_EQ_INT(hwg_store_client_add(s, &c, &err), HWG_E_INVALID);
	c.role = HWG_ROLE_COUNT_;
	CHECK_EQ_INT(hwg_store_client_add(s, &c, &err), HWG_E_INVALID);
	c.role = HWG_ROLE_SUPERVISOR; /* an operator's role only */
	CHECK_EQ_INT(hwg_store_client_add(s, &c, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "supervisor is not a client's") != NULL);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM clients"), 0);
	c.role = HWG_ROLE_MAINTENANCE;
	CHECK_EQ_INT(hwg_store_client_add(s, &c, &err), 0);
	CHECK_EQ_INT(list(s, &v), 0);
	CHECK_EQ_INT(v.n_uids[0], HWG_CLIENT_UIDS_MAX);
	CHECK_EQ_INT(v.uids[0][HWG_CLIENT_UIDS_MAX - 1], 1000 + HWG_CLIENT_UIDS_MAX - 1);
	CHECK_EQ_INT(v.roles[0], HWG_ROLE_MAINTENANCE);
	hwg_store_close(s);
	rm_tree(dir);
}

static void
test_damaged_client_row_fails_closed(void)
{
	static const char *const damage[] = {
	    "UPDATE clients SET uids = '1000,x'",      "UPDATE clients SET uids = '1000,'",
	    "UPDATE clients SET uids = '99999999999'", "UPDATE clients SET role = 'root'",
	    "UPDATE clients SET role = 'supervisor'",  "UPDATE clients SET pubkey = ''"};
	char dir[64];
	struct hwg_store *s;
	struct hwg_error err = {0};
	struct hwg_client_rec c = client("c1", HWG_ROLE_COUNTER, ed_der, ed_len);
	struct seen v;

	c.uids[0] = 1000;
	c.n_uids = 1;
	make_base(dir, sizeof(dir));
	s = open_ok(dir);
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		sqlite3_exec(hwg_store_db(s), "DELETE FROM clients", NULL, NULL, NULL);
		CHECK_EQ_INT(hwg_store_client_add(s, &c, &err), 0);
		CHECK_EQ_INT(sqlite3_exec(hwg_store_db(s), damage[i], NULL, NULL, NULL), SQLITE_OK);
		/* never read as "any uid" or as some role: the walk fails */
		memset(&v, 0, sizeof(v));
		CHECK_EQ_INT(hwg_store_client_each(s, collect, &v, &err), HWG_E_STORE);
		CHECK_EQ_INT(v.n, 0);
		CHECK(strstr(err.message, "c1") != NULL);
	}
	hwg_store_close(s);
	rm_tree(dir);
}

/* ---------------------------------------------------------------- nonces */

static void
test_nonce_replay_refused(void)
{
	char dir[64];
	struct hwg_store *s;
	struct hwg_error err = {0};
	uint8_t n1[16], n2[16];

	memset(n1, 0x11, sizeof(n1));
	memset(n2, 0x22, sizeof(n2));
	make_base(dir, sizeof(dir));
	s = open_ok(dir);
	CHECK_EQ_INT(hwg_store_nonce_record(s, "c1", n1, sizeof(n1), 10000, 60000, &err), 0);
	CHECK_EQ_INT(hwg_store_nonce_record(s, "c1", n1, sizeof(n1), 10001, 60000, &err),
	             HWG_E_REPLAY);
	CHECK(strstr(err.message, "c1") != NULL);
	/* the same bytes from another client, or other bytes: new */
	CHECK_EQ_INT(hwg_store_nonce_record(s, "c2", n1, sizeof(n1), 10002, 60000, &err), 0);
	CHECK_EQ_INT(hwg_store_nonce_record(s, "c1", n2, sizeof(n2), 10003, 60000, &err), 0);
	/* a prefix of a seen nonce is another nonce */
	CHECK_EQ_INT(hwg_store_nonce_record(s, "c1", n1, sizeof(n1) - 1, 10004, 60000, &err), 0);
	CHECK_EQ_INT(hwg_store_nonce_seen(s, "c1", n1, sizeof(n1), &err), 1);
	CHECK_EQ_INT(hwg_store_nonce_seen(s, "c3", n1, sizeof(n1), &err), 0);
	CHECK_EQ_INT(hwg_store_nonce_record(s, "c1", n1, 0, 10005, 60000, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_store_nonce_record(s, NULL, n1, sizeof(n1), 10005, 60000, &err),
	             HWG_E_INVALID);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM nonces"), 4);
	hwg_store_close(s);
	rm_tree(dir);
}

static void
test_nonces_survive_reopen(void)
{
	char dir[64];
	struct hwg_store *s;
	struct hwg_error err = {0};
	uint8_t n[32];

	memset(n, 0x5a, sizeof(n));
	make_base(dir, sizeof(dir));
	s = open_ok(dir);
	CHECK_EQ_INT(hwg_store_nonce_record(s, "c1", n, sizeof(n), 50000, 60000, &err), 0);
	hwg_store_close(s);
	s = open_ok(dir);
	CHECK_EQ_INT(hwg_store_nonce_seen(s, "c1", n, sizeof(n), &err), 1);
	CHECK_EQ_INT(hwg_store_nonce_record(s, "c1", n, sizeof(n), 51000, 60000, &err),
	             HWG_E_REPLAY);
	hwg_store_close(s);
	rm_tree(dir);
}

static void
test_nonce_pruning(void)
{
	char dir[64];
	struct hwg_store *s;
	struct hwg_error err = {0};
	uint8_t a[16], b[16], c[16], d[16], e[16];

	memset(a, 'a', 16);
	memset(b, 'b', 16);
	memset(c, 'c', 16);
	memset(d, 'd', 16);
	memset(e, 'e', 16);
	make_base(dir, sizeof(dir));
	s = open_ok(dir);
	CHECK_EQ_INT(hwg_store_nonce_record(s, "c1", a, 16, 1000, 5000, &err), 0);
	CHECK_EQ_INT(hwg_store_nonce_record(s, "c1", b, 16, 4000, 5000, &err), 0);
	/* at 8000, keeping 5000 ms: a (1000) goes, b (4000) stays */
	CHECK_EQ_INT(hwg_store_nonce_record(s, "c1", c, 16, 8000, 5000, &err), 0);
	CHECK_EQ_INT(hwg_store_nonce_seen(s, "c1", a, 16, &err), 0);
	CHECK_EQ_INT(hwg_store_nonce_seen(s, "c1", b, 16, &err), 1);
	/* at most once a second: 8500 prunes nothing, even with nothing to keep */
	CHECK_EQ_INT(hwg_store_nonce_record(s, "c1", d, 16, 8500, 0, &err), 0);
	CHECK_EQ_INT(hwg_store_nonce_seen(s, "c1", b, 16, &err), 1);
	/* a second later, everything before 9000 goes */
	CHECK_EQ_INT(hwg_store_nonce_record(s, "c1", e, 16, 9000, 0, &err), 0);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM nonces"), 1);
	CHECK_EQ_INT(hwg_store_nonce_seen(s, "c1", e, 16, &err), 1);
	/* a pruned nonce is accepted again: the clock window, not this table, refuses it */
	CHECK_EQ_INT(hwg_store_nonce_record(s, "c1", a, 16, 9001, 5000, &err), 0);
	hwg_store_close(s);
	rm_tree(dir);
}

int
main(void)
{
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);

	ed_der = der_of(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), &ed_len);
	p256_der = der_of(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), &p256_len);
	p384_der = der_of(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"), &p384_len);
	rsa_der = der_of(rsa, &rsa_len);
	if (ed_der == NULL || p256_der == NULL || p384_der == NULL || rsa_der == NULL) {
		fprintf(stderr, "cannot make test keys\n");
		return 2;
	}
	HWG_RUN(test_dir_created_private);
	HWG_RUN(test_wide_dir_refused);
	HWG_RUN(test_not_a_directory_refused);
	HWG_RUN(test_foreign_owner_refused);
	HWG_RUN(test_database_file_checked);
	HWG_RUN(test_wal_and_pragmas);
	HWG_RUN(test_newer_schema_refused);
	HWG_RUN(test_statement_cache);
	HWG_RUN(test_transactions_and_failed_commit);
	HWG_RUN(test_savepoints);
	HWG_RUN(test_write_refused_is_an_error);
	HWG_RUN(test_roles);
	HWG_RUN(test_client_id_rule);
	HWG_RUN(test_clients_add_list_remove);
	HWG_RUN(test_client_duplicate_refused);
	HWG_RUN(test_client_bad_id_refused);
	HWG_RUN(test_client_bad_key_refused);
	HWG_RUN(test_client_uids_and_role_limits);
	HWG_RUN(test_damaged_client_row_fails_closed);
	HWG_RUN(test_nonce_replay_refused);
	HWG_RUN(test_nonces_survive_reopen);
	HWG_RUN(test_nonce_pruning);
	OPENSSL_free(ed_der);
	OPENSSL_free(p256_der);
	OPENSSL_free(p384_der);
	OPENSSL_free(rsa_der);
	return HWG_TEST_END();
}
