/*
 * test_audit.c — the audit log at module level.  A log of 50 records with
 * a checkpoint signed by an in-process P-256 key verifies; then each kind
 * of tampering, done with raw SQL on a fresh log, must be found at the
 * right record: an edited field, an edit whose hash was recomputed, a
 * deleted record, two records swapped, hidden bytes, a truncation after a
 * checkpoint, a whole chain rewritten after a checkpoint, a forged
 * checkpoint signature and a checkpoint by another key.  The record and
 * checkpoint encodings are recomputed here independently, so a change to
 * them shows.  Also: appends inside rolled-back and committed
 * transactions, truncated long fields, queries, and stores that cannot
 * be written.  Records with a request's hash (schema version 4, the "v2"
 * encoding) verify beside older ones, including in a log written before
 * the column existed and migrated; adding, removing or changing a hash is
 * found; the records of one request are found by hash and client.
 */
#include <ftw.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_audit.h"
#include "hwg_cose.h"
#include "hwg_store.h"
#include "hwg_store_sql.h"
#include "hwg_test.h"

static EVP_PKEY *audit_key, *other_key;

/* ---------------------------------------------------------------- helpers */

static int
sign_with(void *ctx, const uint8_t digest[32], uint8_t sig[64], struct hwg_error *err)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(ctx, NULL);
	uint8_t der[80];
	size_t len = sizeof(der);
	int ok = c != NULL && EVP_PKEY_sign_init(c) == 1 &&
	         EVP_PKEY_sign(c, der, &len, digest, 32) == 1 &&
	         hwg_ecdsa_der_to_raw(der, len, sig) == 0;

	EVP_PKEY_CTX_free(c);
	return ok ? 0 : hwg_error_set(err, HWG_E_INTERNAL, "sign");
}

/* A signer given the checkpoint's fields, as the keyholder is: it makes the digest itself. */
static int
sign_fields_with(void *ctx, int64_t seq, const uint8_t hash[HWG_AUDIT_HASH_LEN], int64_t time_ms,
                 uint8_t sig[64], struct hwg_error *err)
{
	uint8_t digest[32];

	if (hwg_audit_checkpoint_digest(seq, hash, time_ms, digest) != 0)
		return hwg_error_set(err, HWG_E_INTERNAL, "digest");
	return sign_with(ctx, digest, sig, err);
}

static int
sign_fails(void *ctx, const uint8_t digest[32], uint8_t sig[64], struct hwg_error *err)
{
	(void)ctx;
	(void)digest;
	(void)sig;
	return hwg_error_set(err, HWG_E_HSM, "token removed");
}

static int
sign_zeros(void *ctx, const uint8_t digest[32], uint8_t sig[64], struct hwg_error *err)
{
	(void)ctx;
	(void)digest;
	(void)err;
	memset(sig, 0, 64);
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
cleanup(struct hwg_store *s, const char *dir)
{
	hwg_store_close(s);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct hwg_store *
fresh_store(char *dir)
{
	struct hwg_store *s = NULL;
	struct hwg_error err = {0};

	strcpy(dir, "/tmp/hwgw-audit-test.XXXXXX");
	if (mkdtemp(dir) == NULL || hwg_store_open(dir, 1, &s, &err) != 0) {
		fprintf(stderr, "store %s: %s\n", dir, err.message);
		exit(2);
	}
	return s;
}

/* Record seq = i + 1: time t0 + i, subject resident-(i % 5), operator op-7 on odd i. */
static void
append_n(struct hwg_store *s, int n, int64_t t0)
{
	struct hwg_error err = {0};
	int64_t seq = 0, first = -1;

	for (int i = 0; i < n; i++) {
		char subject[32], op[16];
		struct hwg_audit_event ev = {
		    t0 + i,  "counter01", 1000, "unix", op, i % 2 ? "op-7" : "",
		    subject, "ok",        "",   NULL};

		snprintf(subject, sizeof(subject), "resident-%d", i % 5);
		snprintf(op, sizeof(op), "op%d", i);
		CHECK_EQ_INT(hwg_audit_append(s, &ev, &seq, &err), 0);
		if (first < 0)
			first = seq;
		CHECK_EQ_INT(seq, first + i);
	}
}

static void
sql(struct hwg_store *s, const char *q)
{
	char *msg = NULL;

	if (sqlite3_exec(hwg_store_db(s), q, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "  SQL failed: %s: %s\n", q, msg);
		hwg_test_cur_failed = 1;
	}
	sqlite3_free(msg);
}

static long long
query_int(struct hwg_store *s, const char *q)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(hwg_store_db(s), q, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* 50 records and a checkpoint over them that verifies. */
static struct hwg_store *
signed_log(char *dir)
{
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_signer signer = {sign_with, audit_key};
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};

	append_n(s, 50, 1000);
	CHECK_EQ_INT(hwg_audit_checkpoint(s, &signer, 5000, &err), 0);
	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), 0);
	CHECK_EQ_INT(vr.records, 50);
	CHECK_EQ_INT(vr.checkpoints, 1);
	return s;
}

/* Verify must fail as tampered, at first_bad, saying something containing why. */
static void
expect_tampered(struct hwg_store *s, int64_t first_bad, const char *why)
{
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), HWG_E_TAMPERED);
	CHECK_EQ_INT(err.code, HWG_E_TAMPERED);
	CHECK_EQ_INT(vr.first_bad_seq, first_bad);
	if (strstr(vr.reason, why) == NULL) {
		fprintf(stderr, "  reason \"%s\" lacks \"%s\"\n", vr.reason, why);
		hwg_test_cur_failed = 1;
	}
}

/* ---- the encodings, written out independently of hwg_audit.c ---- */

static size_t
put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return (size_t)n;
}

/* The hash record seq should have, from its row as stored now. */
static int
expected_hash(struct hwg_store *s, int64_t seq, uint8_t out[32])
{
	static const char *const q =
	    "SELECT time_ms, peer_uid, prev_hash, client, transport, operation, operator_id, "
	    "subject, result, detail, req FROM audit WHERE seq = ?";
	uint8_t buf[2048];
	size_t o = 0;
	sqlite3_stmt *st;
	int rc = -1;

	if (sqlite3_prepare_v2(hwg_store_db(s), q, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 2) == 32) {
		int has_req = sqlite3_column_type(st, 10) == SQLITE_BLOB;

		memcpy(buf, has_req ? "hwgw-audit-v2" : "hwgw-audit-v1", 13);
		o = 13;
		o += put_be(buf + o, (uint64_t)seq, 8);
		memcpy(buf + o, sqlite3_column_blob(st, 2), 32);
		o += 32;
		o += put_be(buf + o, (uint64_t)sqlite3_column_int64(st, 0), 8);
		o += put_be(buf + o, (uint64_t)sqlite3_column_int64(st, 1), 8);
		for (int col = 3; col <= 9; col++) {
			const unsigned char *t = sqlite3_column_text(st, col);
			size_t n = (size_t)sqlite3_column_bytes(st, col);

			o += put_be(buf + o, n, 4);
			memcpy(buf + o, t, n);
			o += n;
		}
		if (has_req && sqlite3_column_bytes(st, 10) == 32) {
			memcpy(buf + o, sqlite3_column_blob(st, 10), 32);
			o += 32;
		}
		SHA256(buf, o, out);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The hash stored with record seq. */
static int
stored_hash_of(struct hwg_store *s, int64_t seq, uint8_t out[32])
{
	sqlite3_stmt *st;
	int rc = -1;

	if (sqlite3_prepare_v2(hwg_store_db(s), "SELECT hash FROM audit WHERE seq = ?", -1, &st,
	                       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
		memcpy(out, sqlite3_column_blob(st, 0), 32);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* What a naive forger does after editing record seq: store the hash that fits the new row. */
static void
rehash(struct hwg_store *s, int64_t seq)
{
	uint8_t h[32];
	sqlite3_stmt *st;

	CHECK_EQ_INT(expected_hash(s, seq, h), 0);
	CHECK_EQ_INT(sqlite3_prepare_v2(hwg_store_db(s), "UPDATE audit SET hash = ? WHERE seq = ?",
	                                -1, &st, NULL),
	             SQLITE_OK);
	sqlite3_bind_blob(st, 1, h, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* A better forger: relink and rehash every record from seq on. */
static void
rechain_from(struct hwg_store *s, int64_t seq)
{
	char q[160];

	for (int64_t i = seq; i <= query_int(s, "SELECT max(seq) FROM audit"); i++) {
		snprintf(q, sizeof(q),
		         "UPDATE audit SET prev_hash = (SELECT hash FROM audit WHERE seq = %lld) "
		         "WHERE seq = %lld",
		         (long long)i - 1, (long long)i);
		sql(s, q);
		rehash(s, i);
	}
}

/* One bit of the checkpoint's signature, flipped. */
static void
flip_signature_bit(struct hwg_store *s, int byte)
{
	uint8_t sig[64];
	sqlite3_stmt *st;

	memset(sig, 0, sizeof(sig));
	CHECK_EQ_INT(sqlite3_prepare_v2(hwg_store_db(s), "SELECT signature FROM audit_checkpoint",
	                                -1, &st, NULL),
	             SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 64)
		memcpy(sig, sqlite3_column_blob(st, 0), 64);
	else
		hwg_test_cur_failed = 1;
	sqlite3_finalize(st);
	sig[byte] ^= 0x01;
	CHECK_EQ_INT(sqlite3_prepare_v2(hwg_store_db(s),
	                                "UPDATE audit_checkpoint SET signature = ?", -1, &st, NULL),
	             SQLITE_OK);
	sqlite3_bind_blob(st, 1, sig, 64, SQLITE_STATIC);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* ---------------------------------------------------------------- the good path */

static void
test_chain_and_checkpoint_verify(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_signer signer = {sign_with, audit_key};
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};

	append_n(s, 50, 1000);
	CHECK_EQ_INT(hwg_audit_uncheckpointed(s), 50);
	CHECK_EQ_INT(hwg_audit_checkpoint(s, &signer, 5000, &err), 0);
	CHECK_EQ_INT(hwg_audit_uncheckpointed(s), 0);
	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), 0);
	CHECK_EQ_INT(vr.records, 50);
	CHECK_EQ_INT(vr.checkpoints, 1);
	CHECK_EQ_INT(vr.first_bad_seq, 0);
	/* nothing new: no second checkpoint */
	CHECK_EQ_INT(hwg_audit_checkpoint(s, &signer, 5001, &err), 0);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM audit_checkpoint"), 1);
	append_n(s, 10, 6000);
	CHECK_EQ_INT(hwg_audit_uncheckpointed(s), 10);
	CHECK_EQ_INT(hwg_audit_checkpoint(s, &signer, 7000, &err), 0);
	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), 0);
	CHECK_EQ_INT(vr.records, 60);
	CHECK_EQ_INT(vr.checkpoints, 2);
	cleanup(s, dir);
}

static void
test_encoding_pinned(void)
{
	char dir[64];
	struct hwg_store *s = signed_log(dir);
	uint8_t h1[32], h2[32], digest[32], buf[128], *der = NULL;
	sqlite3_stmt *st;
	size_t o, der_len = 0;
	int ok = 0;

	/* records: the stored hashes are the documented encoding's */
	CHECK_EQ_INT(expected_hash(s, 1, h1), 0);
	CHECK_EQ_INT(expected_hash(s, 2, h2), 0);
	CHECK_EQ_INT(query_int(s, "SELECT prev_hash = zeroblob(32) FROM audit WHERE seq = 1"), 1);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM audit a JOIN audit b ON b.seq = a.seq + 1 "
	                          "WHERE b.prev_hash = a.hash"),
	             49);
	CHECK_EQ_INT(sqlite3_prepare_v2(hwg_store_db(s),
	                                "SELECT hash FROM audit WHERE seq IN (1, 2) ORDER BY seq",
	                                -1, &st, NULL),
	             SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW && memcmp(sqlite3_column_blob(st, 0), h1, 32) == 0);
	CHECK(sqlite3_step(st) == SQLITE_ROW && memcmp(sqlite3_column_blob(st, 0), h2, 32) == 0);
	sqlite3_finalize(st);
	/* the checkpoint: its signature verifies over the documented digest */
	CHECK_EQ_INT(
	    sqlite3_prepare_v2(hwg_store_db(s),
	                       "SELECT seq, hash, time_ms, signature FROM audit_checkpoint", -1,
	                       &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW) {
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(audit_key, NULL);

		CHECK_EQ_INT(sqlite3_column_int64(st, 0), 50);
		CHECK_EQ_INT(sqlite3_column_int64(st, 2), 5000);
		memcpy(buf, "hwgw-audit-checkpoint-v1", 24);
		o = 24;
		o += put_be(buf + o, 50, 8);
		memcpy(buf + o, sqlite3_column_blob(st, 1), 32);
		o += 32;
		o += put_be(buf + o, 5000, 8);
		SHA256(buf, o, digest);
		CHECK_EQ_INT(hwg_ecdsa_raw_to_der(sqlite3_column_blob(st, 3), &der, &der_len), 0);
		ok = c != NULL && EVP_PKEY_verify_init(c) == 1 &&
		     EVP_PKEY_verify(c, der, der_len, digest, 32) == 1;
		EVP_PKEY_CTX_free(c);
		OPENSSL_free(der);
	}
	sqlite3_finalize(st);
	CHECK(ok);
	cleanup(s, dir);
}

static void
test_empty_log(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_signer signer = {sign_with, audit_key};
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), 0);
	CHECK_EQ_INT(vr.records, 0);
	CHECK_EQ_INT(vr.checkpoints, 0);
	CHECK_EQ_INT(hwg_audit_uncheckpointed(s), 0);
	CHECK_EQ_INT(hwg_audit_checkpoint(s, &signer, 1000, &err), 0);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM audit_checkpoint"), 0);
	cleanup(s, dir);
}

/* ---------------------------------------------------------------- tampering */

static void
test_edited_field_detected(void)
{
	char dir[64];
	struct hwg_store *s = signed_log(dir);

	sql(s, "UPDATE audit SET subject = 'resident-9' WHERE seq = 20");
	expect_tampered(s, 20, "record 20 does not match its hash");
	cleanup(s, dir);
}

static void
test_edit_with_recomputed_hash_detected(void)
{
	char dir[64];
	struct hwg_store *s = signed_log(dir);
	uint8_t h[32];

	sql(s, "UPDATE audit SET subject = 'resident-9' WHERE seq = 20");
	rehash(s, 20);
	/* record 20 is now consistent with itself: only record 21's link gives it away */
	CHECK_EQ_INT(expected_hash(s, 20, h), 0);
	CHECK_EQ_INT(query_int(s, "SELECT (SELECT prev_hash FROM audit WHERE seq = 21) = "
	                          "(SELECT hash FROM audit WHERE seq = 20)"),
	             0);
	expect_tampered(s, 20, "record 21 chains to");
	cleanup(s, dir);
}

static void
test_deleted_record_detected(void)
{
	char dir[64];
	struct hwg_store *s = signed_log(dir);

	sql(s, "DELETE FROM audit WHERE seq = 20");
	expect_tampered(s, 20, "record 20 missing");
	cleanup(s, dir);
}

static void
test_reordered_records_detected(void)
{
	char dir[64];
	struct hwg_store *s = signed_log(dir);

	/* 20 and 21 trade everything but their place: contents, links and hashes */
	sql(s, "CREATE TEMP TABLE two AS SELECT * FROM audit WHERE seq IN (20, 21);"
	       "UPDATE audit SET (time_ms, client, peer_uid, transport, operation, operator_id,"
	       "  subject, result, detail, prev_hash, hash) = (SELECT time_ms, client, peer_uid,"
	       "  transport, operation, operator_id, subject, result, detail, prev_hash, hash"
	       "  FROM two WHERE two.seq = 41 - audit.seq) WHERE seq IN (20, 21);");
	CHECK_EQ_INT(query_int(s, "SELECT time_ms FROM audit WHERE seq = 20"), 1020);
	CHECK_EQ_INT(query_int(s, "SELECT time_ms FROM audit WHERE seq = 21"), 1019);
	expect_tampered(s, 20, "record 20 does not match its hash");
	cleanup(s, dir);
}

static void
test_reordered_and_relinked_detected(void)
{
	char dir[64];
	struct hwg_store *s = signed_log(dir);

	/* swapped, then every link and hash from 20 on made consistent: the checkpoint sees it */
	sql(s, "CREATE TEMP TABLE two AS SELECT * FROM audit WHERE seq IN (20, 21);"
	       "UPDATE audit SET (time_ms, operation, operator_id, subject) = (SELECT time_ms,"
	       "  operation, operator_id, subject FROM two WHERE two.seq = 41 - audit.seq)"
	       "  WHERE seq IN (20, 21);");
	rechain_from(s, 20);
	expect_tampered(s, 50, "record 50 does not match the hash its checkpoint signed");
	cleanup(s, dir);
}

static void
test_hidden_bytes_detected(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	char subject[128];
	struct hwg_audit_event ev = {1, "c", -1, "unix", "op", "", subject, "ok", "", NULL};
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};

	/* a subject filling its field exactly: bytes after it would vanish in a copy */
	memset(subject, 's', sizeof(subject) - 1);
	subject[sizeof(subject) - 1] = '\0';
	append_n(s, 19, 1000);
	CHECK_EQ_INT(hwg_audit_append(s, &ev, NULL, &err), 0);
	append_n(s, 10, 2000);
	sql(s, "UPDATE audit SET subject = subject || 'EXTRA' WHERE seq = 20");
	expect_tampered(s, 20, "record 20");
	sql(s, "UPDATE audit SET subject = substr(subject, 1, 127) WHERE seq = 20");
	/* a NUL and more after the stored text */
	sql(s, "UPDATE audit SET detail = CAST(x'006869646465' AS TEXT) WHERE seq = 21");
	expect_tampered(s, 21, "record 21");
	sql(s, "UPDATE audit SET detail = '' WHERE seq = 21");
	/* text that still reads as the same number */
	sql(s, "UPDATE audit SET time_ms = time_ms || ' (corrected)' WHERE seq = 22");
	CHECK_EQ_INT(query_int(s, "SELECT time_ms FROM audit WHERE seq = 22"), 2001);
	expect_tampered(s, 22, "record 22");
	/* each undone: the log verifies again, so each finding was that edit's */
	sql(s, "UPDATE audit SET time_ms = 2001 WHERE seq = 22");
	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), 0);
	CHECK_EQ_INT(vr.records, 30);
	cleanup(s, dir);
}

static void
test_truncation_detected(void)
{
	char dir[64];
	struct hwg_store *s = signed_log(dir);

	sql(s, "DELETE FROM audit WHERE seq > 45");
	expect_tampered(s, 46, "log ends at 45 but checkpoint covers 50");
	cleanup(s, dir);
}

static void
test_forged_checkpoint_signature_detected(void)
{
	char dir[64];
	struct hwg_store *s = signed_log(dir);

	flip_signature_bit(s, 40); /* in s */
	expect_tampered(s, 50, "checkpoint at record 50 is not signed by the audit key");
	cleanup(s, dir);
}

static void
test_foreign_key_checkpoint_detected(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_signer foreign = {sign_with, other_key};
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};

	append_n(s, 50, 1000);
	CHECK_EQ_INT(hwg_audit_checkpoint(s, &foreign, 5000, &err), 0);
	expect_tampered(s, 50, "not signed by the audit key");
	/* the same log against the key that did sign it: only the key was wrong */
	CHECK_EQ_INT(hwg_audit_verify(s, other_key, &vr, &err), 0);
	CHECK_EQ_INT(vr.checkpoints, 1);
	cleanup(s, dir);
}

static void
test_checkpoint_row_forged_detected(void)
{
	char dir[64];
	struct hwg_store *s = signed_log(dir);

	/* moving a real signature to another record, or another hash, breaks it */
	sql(s,
	    "UPDATE audit_checkpoint SET seq = 40, hash = (SELECT hash FROM audit WHERE seq = 40)");
	expect_tampered(s, 40, "not signed by the audit key");
	cleanup(s, dir);
}

/* ---------------------------------------------------------------- transactions */

static void
test_rolled_back_append_leaves_nothing(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_event ev = {1, "c", -1, "unix", "op", "", "", "ok", "", NULL};
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};
	int64_t seq = 0;

	append_n(s, 3, 1000);
	CHECK_EQ_INT(hwg_store_begin(s, &err), 0);
	CHECK_EQ_INT(hwg_audit_append(s, &ev, &seq, &err), 0);
	CHECK_EQ_INT(seq, 4);
	hwg_store_rollback(s);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM audit"), 3);
	CHECK_EQ_INT(hwg_audit_append(s, &ev, &seq, &err), 0);
	CHECK_EQ_INT(seq, 4); /* the rolled-back record left no gap */
	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), 0);
	CHECK_EQ_INT(vr.records, 4);
	cleanup(s, dir);
}

static void
test_append_commits_with_the_caller(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_event ev = {1, "c", 0, "unix", "op", "", "", "ok", "", NULL};
	struct hwg_error err = {0};
	uint8_t nonce[16] = {9};

	CHECK_EQ_INT(hwg_store_begin(s, &err), 0);
	CHECK_EQ_INT(hwg_store_nonce_record(s, "c", nonce, sizeof(nonce), 1000, 1000, &err), 0);
	CHECK_EQ_INT(hwg_audit_append(s, &ev, NULL, &err), 0);
	/* the append did not end the caller's transaction */
	CHECK_EQ_INT(sqlite3_get_autocommit(hwg_store_db(s)), 0);
	CHECK_EQ_INT(hwg_store_commit(s, &err), 0);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM audit"), 1);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM nonces"), 1);
	cleanup(s, dir);
}

/* ---------------------------------------------------------------- fields */

struct got {
	int n;
	int64_t seq[64];
	struct hwg_audit_record last;
};

static int
collect(void *ctx, const struct hwg_audit_record *r)
{
	struct got *g = ctx;

	if (g->n < 64)
		g->seq[g->n] = r->seq;
	g->n++;
	g->last = *r;
	return 0;
}

static void
test_long_fields_cut_on_character_boundary(void)
{
	char dir[64], kana[400], detail[400];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_event ev = {7,    NULL,   -1,  "unix-with-a-long-name", "op", NULL, kana,
	                             "ok", detail, NULL};
	struct hwg_audit_filter f = {0};
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};
	struct got g = {0};

	kana[0] = '\0';
	for (int i = 0; i < 100; i++)
		strcat(kana, "\xe3\x81\x82"); /* あ, 3 bytes each */
	memset(detail, 'd', sizeof(detail) - 1);
	detail[sizeof(detail) - 1] = '\0';
	CHECK_EQ_INT(hwg_audit_append(s, &ev, NULL, &err), 0);
	CHECK_EQ_INT(hwg_audit_query(s, &f, collect, &g, &err), 0);
	CHECK_EQ_INT(g.n, 1);
	CHECK_EQ_INT(strlen(g.last.subject), 126); /* 42 whole characters, not 127 bytes */
	CHECK(strncmp(g.last.subject, kana, 126) == 0);
	CHECK_EQ_INT(strlen(g.last.detail), sizeof(g.last.detail) - 1);
	CHECK_EQ_STR(g.last.transport, "unix-with-a-lon");
	CHECK_EQ_STR(g.last.client, "");
	CHECK_EQ_STR(g.last.operator_id, "");
	CHECK_EQ_INT(g.last.peer_uid, -1);
	CHECK_EQ_INT(query_int(s, "SELECT length(CAST(subject AS BLOB)) FROM audit"), 126);
	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), 0);
	cleanup(s, dir);
}

/* ---------------------------------------------------------------- queries */

static int
query(struct hwg_store *s, const char *subject, const char *op, int64_t from, int64_t to,
      int64_t limit, struct got *g)
{
	struct hwg_audit_filter f = {subject, op, from, to, limit};
	struct hwg_error err = {0};

	memset(g, 0, sizeof(*g));
	return hwg_audit_query(s, &f, collect, g, &err);
}

static void
expect_seqs(const struct got *g, const int64_t *want, int n)
{
	CHECK_EQ_INT(g->n, n);
	for (int i = 0; i < n && i < g->n && i < 64; i++)
		CHECK_EQ_INT(g->seq[i], want[i]);
}

static int
stop_after_two(void *ctx, const struct hwg_audit_record *r)
{
	(void)r;
	return ++*(int *)ctx == 2;
}

static void
test_queries(void)
{
	static const int64_t by_subject[] = {4, 9, 14, 19, 24, 29, 34, 39, 44, 49};
	static const int64_t by_both[] = {4, 14, 24, 34, 44};
	static const int64_t by_time[] = {11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
	static const int64_t from_only[] = {46, 47, 48, 49, 50};
	static const int64_t to_only[] = {1, 2, 3};
	int64_t by_operator[25];
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_filter f = {0};
	struct hwg_error err = {0};
	struct got g;
	int n = 0;

	for (int i = 0; i < 25; i++)
		by_operator[i] = 2 * (i + 1);
	append_n(s, 50, 1000); /* seq i+1: time 1000+i, resident-(i%5), op-7 when i is odd */
	CHECK_EQ_INT(query(s, "resident-3", NULL, 0, 0, 0, &g), 0);
	expect_seqs(&g, by_subject, 10);
	CHECK_EQ_STR(g.last.subject, "resident-3");
	CHECK_EQ_INT(query(s, NULL, "op-7", 0, 0, 0, &g), 0);
	expect_seqs(&g, by_operator, 25);
	CHECK_EQ_INT(query(s, "resident-3", "op-7", 0, 0, 0, &g), 0);
	expect_seqs(&g, by_both, 5);
	CHECK_EQ_INT(query(s, NULL, NULL, 1010, 1019, 0, &g), 0); /* inclusive both ends */
	expect_seqs(&g, by_time, 10);
	CHECK_EQ_INT(query(s, NULL, NULL, 1045, 0, 0, &g), 0);
	expect_seqs(&g, from_only, 5);
	CHECK_EQ_INT(query(s, NULL, NULL, 0, 1002, 0, &g), 0);
	expect_seqs(&g, to_only, 3);
	CHECK_EQ_INT(query(s, NULL, NULL, 0, 0, 3, &g), 0);
	expect_seqs(&g, to_only, 3);
	CHECK_EQ_INT(query(s, "resident-", NULL, 0, 0, 0, &g), 0); /* exact, not a prefix */
	CHECK_EQ_INT(g.n, 0);
	CHECK_EQ_INT(query(s, NULL, "nobody", 0, 0, 0, &g), 0);
	CHECK_EQ_INT(g.n, 0);
	CHECK_EQ_INT(query(s, "", NULL, 0, 0, 0, &g), 0); /* an empty subject matches none here */
	CHECK_EQ_INT(g.n, 0);
	CHECK_EQ_INT(query(s, NULL, NULL, 1030, 1020, 0, &g), 0);
	CHECK_EQ_INT(g.n, 0);
	CHECK_EQ_INT(hwg_audit_query(s, &f, stop_after_two, &n, &err), 0);
	CHECK_EQ_INT(n, 2);
	cleanup(s, dir);
}

static void
test_query_limits(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_error err = {0};
	struct got g;

	/* one transaction for speed: appends chain inside it */
	CHECK_EQ_INT(hwg_store_begin(s, &err), 0);
	append_n(s, 10005, 1000);
	CHECK_EQ_INT(hwg_store_commit(s, &err), 0);
	CHECK_EQ_INT(query(s, NULL, NULL, 0, 0, 0, &g), 0);
	CHECK_EQ_INT(g.n, 1000); /* the default */
	CHECK_EQ_INT(query(s, NULL, NULL, 0, 0, 5000, &g), 0);
	CHECK_EQ_INT(g.n, 5000);
	CHECK_EQ_INT(query(s, NULL, NULL, 0, 0, 1000000, &g), 0);
	CHECK_EQ_INT(g.n, 10000); /* the most one query gives */
	CHECK_EQ_INT(g.last.seq, 10000);
	CHECK_EQ_INT(query(s, NULL, NULL, 0, 0, -5, &g), 0);
	CHECK_EQ_INT(g.n, 1000);
	cleanup(s, dir);
}

/* ---------------------------------------------------------------- failures */

static int
refuse_commit(void *ctx)
{
	(void)ctx;
	return 1;
}

static void
test_unwritable_store_fails(void)
{
	char dir[64], db[128];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_event ev = {1, "c", -1, "unix", "op", "", "", "ok", "", NULL};
	struct hwg_error err = {0};
	int64_t seq = 0;

	append_n(s, 1, 1000);
	/* SQLite refuses the write (file modes do not stop root) */
	sql(s, "PRAGMA query_only = 1");
	CHECK_EQ_INT(hwg_audit_append(s, &ev, &seq, &err), HWG_E_STORE);
	CHECK(strstr(err.message, "readonly") != NULL);
	CHECK_EQ_INT(seq, 0);
	sql(s, "PRAGMA query_only = 0");
	CHECK_EQ_INT(sqlite3_get_autocommit(hwg_store_db(s)), 1);
	CHECK_EQ_INT(hwg_audit_append(s, &ev, &seq, &err), 0);
	CHECK_EQ_INT(seq, 2);
	/* the database file made read-only, then opened again */
	hwg_store_close(s);
	snprintf(db, sizeof(db), "%s/hwgw.db", dir);
	CHECK_EQ_INT(chmod(db, 0400), 0);
	s = NULL;
	CHECK_EQ_INT(hwg_store_open(dir, 1, &s, &err), HWG_E_STORE);
	CHECK(s == NULL);
	CHECK_EQ_INT(chmod(db, 0600), 0);
	cleanup(NULL, dir);
}

static void
test_disk_full_fails(void)
{
	char dir[64], detail[250];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_event ev = {1, "c", -1, "unix", "op", "", "", "ok", detail, NULL};
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};
	long long before;
	int rc = 0, i;

	memset(detail, 'x', sizeof(detail) - 1);
	detail[sizeof(detail) - 1] = '\0';
	append_n(s, 5, 1000);
	/* no page may be added: the database is "full" */
	sql(s, "PRAGMA max_page_count = 1");
	for (i = 0; i < 200 && rc == 0; i++)
		rc = hwg_audit_append(s, &ev, NULL, &err);
	CHECK_EQ_INT(rc, HWG_E_STORE);
	CHECK(strstr(err.message, "full") != NULL);
	CHECK_EQ_INT(sqlite3_get_autocommit(hwg_store_db(s)), 1);
	before = query_int(s, "SELECT count(*) FROM audit");
	sql(s, "PRAGMA max_page_count = 1073741823");
	CHECK_EQ_INT(hwg_audit_append(s, &ev, NULL, &err), 0);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM audit"), before + 1);
	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), 0);
	cleanup(s, dir);
}

static void
test_failed_commit_fails(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_event ev = {1, "c", -1, "unix", "op", "", "", "ok", "", NULL};
	struct hwg_error err = {0};
	int64_t seq = 0;

	append_n(s, 2, 1000);
	sqlite3_commit_hook(hwg_store_db(s), refuse_commit, NULL);
	CHECK_EQ_INT(hwg_audit_append(s, &ev, &seq, &err), HWG_E_STORE);
	CHECK_EQ_INT(seq, 0);
	CHECK_EQ_INT(sqlite3_get_autocommit(hwg_store_db(s)), 1);
	sqlite3_commit_hook(hwg_store_db(s), NULL, NULL);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM audit"), 2);
	CHECK_EQ_INT(hwg_audit_append(s, &ev, &seq, &err), 0);
	CHECK_EQ_INT(seq, 3);
	cleanup(s, dir);
}

static void
test_signer_failures(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_signer broken = {sign_fails, NULL}, zeros = {sign_zeros, NULL};
	struct hwg_error err = {0};

	append_n(s, 5, 1000);
	CHECK_EQ_INT(hwg_audit_checkpoint(s, &broken, 2000, &err), HWG_E_HSM);
	CHECK(strstr(err.message, "token removed") != NULL);
	CHECK_EQ_INT(hwg_audit_checkpoint(s, &zeros, 2000, &err), HWG_E_HSM);
	CHECK_EQ_INT(hwg_audit_checkpoint(s, NULL, 2000, &err), HWG_E_INVALID);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM audit_checkpoint"), 0);
	CHECK_EQ_INT(hwg_audit_uncheckpointed(s), 5);
	CHECK_EQ_INT(sqlite3_get_autocommit(hwg_store_db(s)), 1);
	cleanup(s, dir);
}

/* A field signer's checkpoint is the digest signer's: the same row, verified alike. */
static void
test_field_signer(void)
{
	char dir[64], dir2[64];
	struct hwg_store *s = fresh_store(dir), *s2 = fresh_store(dir2);
	struct hwg_audit_signer signer = {sign_with, audit_key};
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};
	uint8_t d1[32], d2[32], hash[HWG_AUDIT_HASH_LEN] = {1};

	append_n(s, 7, 1000);
	append_n(s2, 7, 1000);
	CHECK_EQ_INT(hwg_audit_checkpoint_fields(s, sign_fields_with, audit_key, 5000, &err), 0);
	CHECK_EQ_INT(hwg_audit_checkpoint(s2, &signer, 5000, &err), 0);
	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), 0);
	CHECK_EQ_INT(vr.checkpoints, 1);
	CHECK_EQ_INT(query_int(s, "SELECT seq FROM audit_checkpoint"), 7);
	CHECK_EQ_INT(query_int(s, "SELECT time_ms FROM audit_checkpoint"),
	             query_int(s2, "SELECT time_ms FROM audit_checkpoint"));
	CHECK_EQ_INT(hwg_audit_checkpoint_fields(s, NULL, NULL, 6000, &err), HWG_E_INVALID);
	/* every field is in the digest */
	CHECK_EQ_INT(hwg_audit_checkpoint_digest(7, hash, 5000, d1), 0);
	CHECK_EQ_INT(hwg_audit_checkpoint_digest(8, hash, 5000, d2), 0);
	CHECK(memcmp(d1, d2, 32) != 0);
	CHECK_EQ_INT(hwg_audit_checkpoint_digest(7, hash, 5001, d2), 0);
	CHECK(memcmp(d1, d2, 32) != 0);
	hash[31] = 1;
	CHECK_EQ_INT(hwg_audit_checkpoint_digest(7, hash, 5000, d2), 0);
	CHECK(memcmp(d1, d2, 32) != 0);
	cleanup(s, dir);
	cleanup(s2, dir2);
}

static void
test_verify_needs_the_p256_audit_key(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};

	append_n(s, 2, 1000);
	CHECK_EQ_INT(hwg_audit_verify(s, ed, &vr, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_audit_verify(s, NULL, &vr, &err), HWG_E_INVALID);
	EVP_PKEY_free(ed);
	cleanup(s, dir);
}

/* ---------------------------------------------------------------- request hashes */

static const uint8_t req_a[32] = {0xaa, 1}, req_b[32] = {0xbb, 2};

/* Records 1..6: odd ones without a request hash, 2 and 4 with req_a, 6 with req_b. */
static void
append_mixed(struct hwg_store *s)
{
	struct hwg_error err = {0};

	for (int i = 1; i <= 6; i++) {
		struct hwg_audit_event ev = {i,         "counter01",
		                             1000,      "unix",
		                             "gw.info", "",
		                             "",        i == 4 ? "replayed_nonce" : "ok",
		                             "",        i % 2 ? NULL : (i == 6 ? req_b : req_a)};

		CHECK_EQ_INT(hwg_audit_append(s, &ev, NULL, &err), 0);
	}
}

static void
test_request_hash_chained(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_signer signer = {sign_with, audit_key};
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};
	uint8_t h[32], stored[32];

	append_mixed(s);
	CHECK_EQ_INT(hwg_audit_checkpoint(s, &signer, 10, &err), 0);
	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), 0);
	CHECK_EQ_INT(vr.records, 6);
	/* both encodings, recomputed here */
	for (int64_t seq = 1; seq <= 6; seq++) {
		CHECK_EQ_INT(expected_hash(s, seq, h), 0);
		CHECK_EQ_INT(stored_hash_of(s, seq, stored), 0);
		CHECK(memcmp(h, stored, 32) == 0);
	}
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM audit WHERE req IS NULL"), 3);
	cleanup(s, dir);
}

static void
test_request_hash_tampering_detected(void)
{
	static const struct {
		const char *sql;
		int64_t seq;
		const char *why;
	} cases[] = {
	    {"UPDATE audit SET req = x'00' || substr(req, 2) WHERE seq = 2", 2,
	     "record 2 does not match its hash"},
	    {"UPDATE audit SET req = NULL WHERE seq = 4", 4, "record 4 does not match its hash"},
	    {"UPDATE audit SET req = (SELECT req FROM audit WHERE seq = 2) WHERE seq = 3", 3,
	     "record 3 does not match its hash"},
	    {"UPDATE audit SET req = substr(req, 2) WHERE seq = 6", 6, "malformed req"},
	    {"UPDATE audit SET req = hex(req) WHERE seq = 6", 6, "malformed req"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char dir[64];
		struct hwg_store *s = fresh_store(dir);

		append_mixed(s);
		sql(s, cases[i].sql);
		expect_tampered(s, cases[i].seq, cases[i].why);
		cleanup(s, dir);
	}
}

/* A log written before schema version 4 (no req column) still verifies once migrated. */
static void
test_log_before_request_hashes_verifies(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_signer signer = {sign_with, audit_key};
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};
	struct hwg_audit_event ev = {2000, "c", -1, "unix", "op", "", "", "ok", "", req_a};

	append_n(s, 20, 1000);
	CHECK_EQ_INT(hwg_audit_checkpoint(s, &signer, 1500, &err), 0);
	sql(s, "DROP TABLE issuances; DROP TABLE issuance_numbers; DROP INDEX audit_req;"
	       " ALTER TABLE audit DROP COLUMN req; PRAGMA user_version = 3");
	hwg_store_close(s);
	s = NULL;
	CHECK_EQ_INT(hwg_store_open(dir, 1, &s, &err), 0);
	if (s == NULL)
		return;
	CHECK_EQ_INT(query_int(s, "PRAGMA user_version"), 5);
	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), 0);
	CHECK_EQ_INT(vr.records, 20);
	CHECK_EQ_INT(hwg_audit_append(s, &ev, NULL, &err), 0);
	CHECK_EQ_INT(hwg_audit_checkpoint(s, &signer, 2500, &err), 0);
	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), 0);
	CHECK_EQ_INT(vr.records, 21);
	CHECK_EQ_INT(vr.checkpoints, 2);
	cleanup(s, dir);
}

static int
collect_seq(void *ctx, const struct hwg_audit_record *r)
{
	int64_t *seqs = ctx;

	for (int i = 0; i < HWG_AUDIT_REQUEST_RECORDS_MAX + 4; i++)
		if (seqs[i] == 0) {
			seqs[i] = r->seq;
			break;
		}
	return 0;
}

static void
test_request_records_found(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_event other = {9,  "counter02", 1000, "unix", "gw.info",
	                                "", "",          "ok", "",     req_a};
	struct hwg_error err = {0};
	int64_t seqs[HWG_AUDIT_REQUEST_RECORDS_MAX + 4] = {0};

	append_mixed(s);
	CHECK_EQ_INT(hwg_audit_append(s, &other, NULL, &err), 0);
	CHECK_EQ_INT(hwg_audit_request_records(s, "counter01", req_a, collect_seq, seqs, &err), 0);
	CHECK_EQ_INT(seqs[0], 2);
	CHECK_EQ_INT(seqs[1], 4);
	CHECK_EQ_INT(seqs[2], 0); /* not counter02's record of the same hash */
	memset(seqs, 0, sizeof(seqs));
	CHECK_EQ_INT(hwg_audit_request_records(s, "counter02", req_a, collect_seq, seqs, &err), 0);
	CHECK_EQ_INT(seqs[0], 7);
	CHECK_EQ_INT(seqs[1], 0);
	memset(seqs, 0, sizeof(seqs));
	CHECK_EQ_INT(hwg_audit_request_records(s, "counter01", (const uint8_t[32]){0}, collect_seq,
	                                       seqs, &err),
	             0);
	CHECK_EQ_INT(seqs[0], 0);
	/* a request sent over and over: only the first records */
	for (int i = 0; i < HWG_AUDIT_REQUEST_RECORDS_MAX + 2; i++)
		CHECK_EQ_INT(hwg_audit_append(s, &other, NULL, &err), 0);
	memset(seqs, 0, sizeof(seqs));
	CHECK_EQ_INT(hwg_audit_request_records(s, "counter02", req_a, collect_seq, seqs, &err), 0);
	CHECK_EQ_INT(seqs[HWG_AUDIT_REQUEST_RECORDS_MAX - 1],
	             7 + HWG_AUDIT_REQUEST_RECORDS_MAX - 1);
	CHECK_EQ_INT(seqs[HWG_AUDIT_REQUEST_RECORDS_MAX], 0);
	cleanup(s, dir);
}

int
main(void)
{
	audit_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (audit_key == NULL || other_key == NULL) {
		fprintf(stderr, "cannot make test keys\n");
		return 2;
	}
	HWG_RUN(test_chain_and_checkpoint_verify);
	HWG_RUN(test_encoding_pinned);
	HWG_RUN(test_empty_log);
	HWG_RUN(test_edited_field_detected);
	HWG_RUN(test_edit_with_recomputed_hash_detected);
	HWG_RUN(test_deleted_record_detected);
	HWG_RUN(test_reordered_records_detected);
	HWG_RUN(test_reordered_and_relinked_detected);
	HWG_RUN(test_hidden_bytes_detected);
	HWG_RUN(test_truncation_detected);
	HWG_RUN(test_forged_checkpoint_signature_detected);
	HWG_RUN(test_foreign_key_checkpoint_detected);
	HWG_RUN(test_checkpoint_row_forged_detected);
	HWG_RUN(test_rolled_back_append_leaves_nothing);
	HWG_RUN(test_append_commits_with_the_caller);
	HWG_RUN(test_long_fields_cut_on_character_boundary);
	HWG_RUN(test_queries);
	HWG_RUN(test_query_limits);
	HWG_RUN(test_unwritable_store_fails);
	HWG_RUN(test_disk_full_fails);
	HWG_RUN(test_failed_commit_fails);
	HWG_RUN(test_signer_failures);
	HWG_RUN(test_field_signer);
	HWG_RUN(test_verify_needs_the_p256_audit_key);
	HWG_RUN(test_request_hash_chained);
	HWG_RUN(test_request_hash_tampering_detected);
	HWG_RUN(test_log_before_request_hashes_verifies);
	HWG_RUN(test_request_records_found);
	EVP_PKEY_free(audit_key);
	EVP_PKEY_free(other_key);
	return HWG_TEST_END();
}
