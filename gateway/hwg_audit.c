/*
 * hwg_audit.c — see hwg_audit.h.
 *
 * record hash = SHA-256("hwgw-audit-v1" || seq || prev_hash || each field
 * as a u32 length and its bytes, in a fixed order); checkpoint digest =
 * SHA-256("hwgw-audit-checkpoint-v1" || seq || hash || time), signed with
 * ES256.  Integers are 8 bytes big-endian.  The encoding is built with
 * hwg_buf so there is exactly one way to write a record down.
 */
#include "hwg_audit.h"

#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hwg_buf.h"
#include "hwg_cose.h"

static const char RECORD_DOMAIN[] = "hwgw-audit-v1";
static const char CHECKPOINT_DOMAIN[] = "hwgw-audit-checkpoint-v1";

static const uint8_t zero_hash[HWG_AUDIT_HASH_LEN];

/* Copy s into out (size n), cut on a UTF-8 character boundary. */
static void
copy_field(char *out, size_t n, const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (len >= n) {
		len = n - 1;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	if (len > 0)
		memcpy(out, s, len);
	out[len] = '\0';
}

static int
record_hash(const struct hwg_audit_record *r, uint8_t out[HWG_AUDIT_HASH_LEN])
{
	const char *fields[] = {r->client,      r->transport, r->operation, r->operator_id,
				r->subject,     r->result,    r->detail};
	struct hwg_buf *b = hwg_buf_new(4096);
	int rc;

	if (b == NULL)
		return HWG_E_NOMEM;
	rc = hwg_buf_put(b, RECORD_DOMAIN, sizeof(RECORD_DOMAIN) - 1) |
	     hwg_buf_put_u64be(b, (uint64_t)r->seq) |
	     hwg_buf_put(b, r->prev_hash, HWG_AUDIT_HASH_LEN) |
	     hwg_buf_put_u64be(b, (uint64_t)r->time_ms) |
	     hwg_buf_put_u64be(b, (uint64_t)r->peer_uid);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		rc |= hwg_buf_put_string(b, fields[i], strlen(fields[i]));
	if (rc == 0)
		SHA256(hwg_buf_ptr(b), hwg_buf_len(b), out);
	hwg_buf_free(b);
	return rc == 0 ? 0 : HWG_E_INTERNAL;
}

static void
checkpoint_digest(int64_t seq, const uint8_t hash[HWG_AUDIT_HASH_LEN], int64_t time_ms,
		  uint8_t out[32])
{
	uint8_t buf[sizeof(CHECKPOINT_DOMAIN) - 1 + 8 + HWG_AUDIT_HASH_LEN + 8];
	size_t o = sizeof(CHECKPOINT_DOMAIN) - 1;

	memcpy(buf, CHECKPOINT_DOMAIN, o);
	for (int i = 7; i >= 0; i--)
		buf[o++] = (uint8_t)((uint64_t)seq >> (8 * i));
	memcpy(buf + o, hash, HWG_AUDIT_HASH_LEN);
	o += HWG_AUDIT_HASH_LEN;
	for (int i = 7; i >= 0; i--)
		buf[o++] = (uint8_t)((uint64_t)time_ms >> (8 * i));
	SHA256(buf, o, out);
}

static int
db_err(struct hwg_store *s, struct hwg_error *err, const char *what)
{
	return hwg_error_set(err, HWG_E_STORE, "audit %s: %s", what,
			     sqlite3_errmsg(hwg_store_db(s)));
}

/* Last record's seq and hash (0 and zeros for an empty log). */
static int
head(struct hwg_store *s, int64_t *seq, uint8_t hash[HWG_AUDIT_HASH_LEN], struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	*seq = 0;
	memcpy(hash, zero_hash, HWG_AUDIT_HASH_LEN);
	if (sqlite3_prepare_v2(hwg_store_db(s), "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "head");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == HWG_AUDIT_HASH_LEN) {
		*seq = sqlite3_column_int64(st, 0);
		memcpy(hash, sqlite3_column_blob(st, 1), HWG_AUDIT_HASH_LEN);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(s, err, "head");
}

static int
insert_record(struct hwg_store *s, const struct hwg_audit_record *r, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(hwg_store_db(s),
			       "INSERT INTO audit (seq, time_ms, client, peer_uid, transport, "
			       "operation, operator_id, subject, result, detail, prev_hash, hash) "
			       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "insert");
	sqlite3_bind_int64(st, 1, r->seq);
	sqlite3_bind_int64(st, 2, r->time_ms);
	sqlite3_bind_text(st, 3, r->client, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, r->peer_uid);
	sqlite3_bind_text(st, 5, r->transport, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->operation, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->operator_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, r->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, r->result, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, r->detail, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 11, r->prev_hash, HWG_AUDIT_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 12, r->hash, HWG_AUDIT_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err(s, err, "insert");
}

int
hwg_audit_append(struct hwg_store *s, const struct hwg_audit_event *ev, int64_t *seq_out,
		 struct hwg_error *err)
{
	sqlite3 *db = hwg_store_db(s);
	int own_tx = sqlite3_get_autocommit(db) != 0;
	struct hwg_audit_record r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.time_ms = ev->time_ms;
	r.peer_uid = ev->peer_uid;
	copy_field(r.client, sizeof(r.client), ev->client);
	copy_field(r.transport, sizeof(r.transport), ev->transport);
	copy_field(r.operation, sizeof(r.operation), ev->operation);
	copy_field(r.operator_id, sizeof(r.operator_id), ev->operator_id);
	copy_field(r.subject, sizeof(r.subject), ev->subject);
	copy_field(r.result, sizeof(r.result), ev->result);
	copy_field(r.detail, sizeof(r.detail), ev->detail);
	if (own_tx && (rc = hwg_store_begin(s, err)) != 0)
		return rc;
	if ((rc = head(s, &r.seq, r.prev_hash, err)) == 0) {
		r.seq++;
		rc = record_hash(&r, r.hash);
		if (rc == 0)
			rc = insert_record(s, &r, err);
	}
	if (own_tx) {
		if (rc == 0)
			rc = hwg_store_commit(s, err);
		if (rc != 0)
			hwg_store_rollback(s);
	}
	if (rc == 0 && seq_out != NULL)
		*seq_out = r.seq;
	return rc;
}

/* ---------------------------------------------------------------- checkpoints */

static int64_t
last_checkpoint_seq(struct hwg_store *s)
{
	sqlite3_stmt *st;
	int64_t seq = 0;

	if (sqlite3_prepare_v2(hwg_store_db(s), "SELECT max(seq) FROM audit_checkpoint", -1, &st,
			       NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return seq;
}

int64_t
hwg_audit_uncheckpointed(struct hwg_store *s)
{
	uint8_t hash[HWG_AUDIT_HASH_LEN];
	int64_t seq;

	if (head(s, &seq, hash, NULL) != 0)
		return 0;
	return seq - last_checkpoint_seq(s);
}

int
hwg_audit_checkpoint(struct hwg_store *s, const struct hwg_audit_signer *signer, int64_t now_ms,
		     struct hwg_error *err)
{
	uint8_t hash[HWG_AUDIT_HASH_LEN], digest[32], sig[64];
	sqlite3_stmt *st;
	int64_t seq;
	int rc;

	if ((rc = head(s, &seq, hash, err)) != 0)
		return rc;
	if (seq == 0 || seq == last_checkpoint_seq(s))
		return 0;
	checkpoint_digest(seq, hash, now_ms, digest);
	if ((rc = signer->sign(signer->ctx, digest, sig, err)) != 0)
		return rc;
	if (sqlite3_prepare_v2(hwg_store_db(s),
			       "INSERT INTO audit_checkpoint (seq, hash, time_ms, signature) "
			       "VALUES (?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "checkpoint");
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_blob(st, 2, hash, sizeof(hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	sqlite3_bind_blob(st, 4, sig, sizeof(sig), SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err(s, err, "checkpoint");
}

/* ---------------------------------------------------------------- verify */

static void
column_text(sqlite3_stmt *st, int col, char *out, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	copy_field(out, n, (const char *)t);
}

static void
row_to_record(sqlite3_stmt *st, struct hwg_audit_record *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = sqlite3_column_int64(st, 0);
	r->time_ms = sqlite3_column_int64(st, 1);
	column_text(st, 2, r->client, sizeof(r->client));
	r->peer_uid = sqlite3_column_int64(st, 3);
	column_text(st, 4, r->transport, sizeof(r->transport));
	column_text(st, 5, r->operation, sizeof(r->operation));
	column_text(st, 6, r->operator_id, sizeof(r->operator_id));
	column_text(st, 7, r->subject, sizeof(r->subject));
	column_text(st, 8, r->result, sizeof(r->result));
	column_text(st, 9, r->detail, sizeof(r->detail));
	if (sqlite3_column_bytes(st, 10) == HWG_AUDIT_HASH_LEN)
		memcpy(r->prev_hash, sqlite3_column_blob(st, 10), HWG_AUDIT_HASH_LEN);
	if (sqlite3_column_bytes(st, 11) == HWG_AUDIT_HASH_LEN)
		memcpy(r->hash, sqlite3_column_blob(st, 11), HWG_AUDIT_HASH_LEN);
}

#define RECORD_COLUMNS                                                                     \
	"seq, time_ms, client, peer_uid, transport, operation, operator_id, subject, result, " \
	"detail, prev_hash, hash"

static int
bad(struct hwg_audit_verify_result *res, int64_t seq, struct hwg_error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
bad(struct hwg_audit_verify_result *res, int64_t seq, struct hwg_error *err, const char *fmt, ...)
{
	va_list ap;

	res->first_bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	return hwg_error_set(err, HWG_E_TAMPERED, "audit record %lld: %s", (long long)seq,
			     res->reason);
}

static int
verify_chain(struct hwg_store *s, struct hwg_audit_verify_result *res, struct hwg_error *err)
{
	uint8_t prev[HWG_AUDIT_HASH_LEN], h[HWG_AUDIT_HASH_LEN];
	struct hwg_audit_record r;
	sqlite3_stmt *st;
	int64_t expect = 1;
	int rc = 0, step;

	memcpy(prev, zero_hash, sizeof(prev));
	if (sqlite3_prepare_v2(hwg_store_db(s), "SELECT " RECORD_COLUMNS " FROM audit ORDER BY seq",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "verify");
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		row_to_record(st, &r);
		if (r.seq != expect)
			rc = bad(res, expect, err, "record %lld missing (next is %lld)", (long long)expect,
				 (long long)r.seq);
		else if (memcmp(r.prev_hash, prev, sizeof(prev)) != 0)
			rc = bad(res, r.seq, err, "record %lld does not follow record %lld",
				 (long long)r.seq, (long long)r.seq - 1);
		else if (record_hash(&r, h) != 0 || memcmp(h, r.hash, sizeof(h)) != 0)
			rc = bad(res, r.seq, err, "record %lld does not match its hash",
				 (long long)r.seq);
		memcpy(prev, r.hash, sizeof(prev));
		expect++;
		res->records++;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_err(s, err, "verify");
	sqlite3_finalize(st);
	if (rc != 0)
		res->records--;
	return rc;
}

/* The hash stored with record seq; 0 if found. */
static int
record_hash_at(struct hwg_store *s, int64_t seq, uint8_t out[HWG_AUDIT_HASH_LEN])
{
	sqlite3_stmt *st;
	int rc = -1;

	if (sqlite3_prepare_v2(hwg_store_db(s), "SELECT hash FROM audit WHERE seq = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == HWG_AUDIT_HASH_LEN) {
		memcpy(out, sqlite3_column_blob(st, 0), HWG_AUDIT_HASH_LEN);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
checkpoint_signature_ok(EVP_PKEY *pub, const uint8_t digest[32], const uint8_t *sig, int sig_len)
{
	EVP_PKEY_CTX *ctx;
	uint8_t *der = NULL;
	size_t der_len = 0;
	int ok = 0;

	if (sig_len != 64 || hwg_ecdsa_raw_to_der(sig, &der, &der_len) != 0)
		return 0;
	if ((ctx = EVP_PKEY_CTX_new(pub, NULL)) != NULL && EVP_PKEY_verify_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1)
		ok = EVP_PKEY_verify(ctx, der, der_len, digest, 32) == 1;
	EVP_PKEY_CTX_free(ctx);
	OPENSSL_free(der);
	return ok;
}

static int
verify_checkpoints(struct hwg_store *s, EVP_PKEY *pub, int64_t last_seq,
		   struct hwg_audit_verify_result *res, struct hwg_error *err)
{
	uint8_t hash[HWG_AUDIT_HASH_LEN], digest[32], at[HWG_AUDIT_HASH_LEN];
	sqlite3_stmt *st;
	int rc = 0, step;

	if (sqlite3_prepare_v2(hwg_store_db(s),
			       "SELECT seq, hash, time_ms, signature FROM audit_checkpoint ORDER BY seq",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "verify");
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);

		if (sqlite3_column_bytes(st, 1) != HWG_AUDIT_HASH_LEN) {
			rc = bad(res, seq, err, "checkpoint at %lld is malformed", (long long)seq);
			break;
		}
		memcpy(hash, sqlite3_column_blob(st, 1), sizeof(hash));
		checkpoint_digest(seq, hash, sqlite3_column_int64(st, 2), digest);
		if (!checkpoint_signature_ok(pub, digest, sqlite3_column_blob(st, 3),
					     sqlite3_column_bytes(st, 3)))
			rc = bad(res, seq, err,
				 "checkpoint at record %lld is not signed by the audit key",
				 (long long)seq);
		else if (seq > last_seq)
			rc = bad(res, last_seq + 1, err,
				 "log ends at record %lld but a checkpoint covers record %lld",
				 (long long)last_seq, (long long)seq);
		else if (record_hash_at(s, seq, at) != 0 || memcmp(at, hash, sizeof(at)) != 0)
			rc = bad(res, seq, err, "record %lld differs from its checkpoint",
				 (long long)seq);
		else
			res->checkpoints++;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_err(s, err, "verify");
	sqlite3_finalize(st);
	return rc;
}

int
hwg_audit_verify(struct hwg_store *s, EVP_PKEY *audit_pub, struct hwg_audit_verify_result *res,
		 struct hwg_error *err)
{
	int own_tx = sqlite3_get_autocommit(hwg_store_db(s)) != 0;
	int rc;

	memset(res, 0, sizeof(*res));
	/* one read transaction (the caller's, or ours): the walk sees one consistent log */
	if (own_tx && sqlite3_exec(hwg_store_db(s), "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return db_err(s, err, "verify");
	rc = verify_chain(s, res, err);
	if (rc == 0)
		rc = verify_checkpoints(s, audit_pub, res->records, res, err);
	if (own_tx)
		sqlite3_exec(hwg_store_db(s), "COMMIT", NULL, NULL, NULL);
	return rc;
}

/* ---------------------------------------------------------------- query */

int
hwg_audit_query(struct hwg_store *s, const struct hwg_audit_filter *f,
		int (*fn)(void *ctx, const struct hwg_audit_record *r), void *ctx,
		struct hwg_error *err)
{
	sqlite3_stmt *st;
	struct hwg_audit_record r;
	int64_t limit = f->limit > 0 ? (f->limit > 10000 ? 10000 : f->limit) : 1000;
	int rc;

	if (sqlite3_prepare_v2(hwg_store_db(s),
			       "SELECT " RECORD_COLUMNS " FROM audit WHERE "
			       "(?1 IS NULL OR subject = ?1) AND (?2 IS NULL OR operator_id = ?2) "
			       "AND (?3 = 0 OR time_ms >= ?3) AND (?4 = 0 OR time_ms <= ?4) "
			       "ORDER BY seq LIMIT ?5",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "query");
	if (f->subject != NULL)
		sqlite3_bind_text(st, 1, f->subject, -1, SQLITE_STATIC);
	if (f->operator_id != NULL)
		sqlite3_bind_text(st, 2, f->operator_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, f->from_ms);
	sqlite3_bind_int64(st, 4, f->to_ms);
	sqlite3_bind_int64(st, 5, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_to_record(st, &r);
		if (fn(ctx, &r) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err(s, err, "query");
}
