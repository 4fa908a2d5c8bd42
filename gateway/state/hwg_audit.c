/*
 * hwg_audit.c — see hwg_audit.h.
 *
 * record hash = SHA-256("hwgw-audit-v1" || seq || prev_hash || time_ms ||
 * peer_uid || client || transport || operation || operator_id || subject
 * || result || detail), integers 8 bytes big-endian, each text field a
 * u32 length and its bytes (hwg_buf_put_string), so no two records encode
 * alike.  A record with a request hash (column req, schema version 4 on)
 * is hashed as "hwgw-audit-v2" with the same fields and then the 32 bytes
 * of req: a record written before keeps its v1 hash and still verifies,
 * and a req added to, removed from or changed in a record breaks it.  The
 * first record's prev_hash is 32 zero bytes.  Checkpoint
 * digest = SHA-256("hwgw-audit-checkpoint-v1" || seq || hash || time_ms),
 * signed ES256 by the audit key through the caller's signer, which is
 * given either that digest or the fields (and computes it itself).
 *
 * The verifier hashes the bytes the database holds, not a cleaned-up
 * copy: a field longer than its record field, with a NUL in it, or of the
 * wrong SQLite type could not have been written by hwg_audit_append and
 * counts as tampering.
 */
#include "hwg_audit.h"

#include <openssl/err.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "hwg_buf.h"
#include "hwg_cose.h"
#include "hwg_store_sql.h"

static const char RECORD_DOMAIN[] = "hwgw-audit-v1";
static const char RECORD_DOMAIN_REQ[] = "hwgw-audit-v2"; /* the same, then the request's hash */
static const uint8_t zero_hash[HWG_AUDIT_HASH_LEN];

/* Larger than any record's encoding (about 700 bytes with every field full). */
#define ENCODING_MAX 1024
#define QUERY_LIMIT_DEFAULT 1000
#define QUERY_LIMIT_MAX 10000

#define RECORD_COLUMNS                                                                             \
	"seq, time_ms, client, peer_uid, transport, operation, operator_id, subject, result, "     \
	"detail, prev_hash, hash, req"
enum {
	COL_SEQ,
	COL_TIME,
	COL_CLIENT,
	COL_UID,
	COL_TRANSPORT,
	COL_OPERATION,
	COL_OPERATOR,
	COL_SUBJECT,
	COL_RESULT,
	COL_DETAIL,
	COL_PREV,
	COL_HASH,
	COL_REQ
};

/* The text fields, in hash order: where each lives in a record, and in a row. */
struct text_field {
	size_t off, cap;
	int col;
	const char *name;
};
#define TEXT_FIELD(f, c)                                                                           \
	{                                                                                          \
		offsetof(struct hwg_audit_record, f), sizeof(((struct hwg_audit_record *)0)->f),   \
		    c, #f                                                                          \
	}
static const struct text_field text_fields[] = {
    TEXT_FIELD(client, COL_CLIENT),       TEXT_FIELD(transport, COL_TRANSPORT),
    TEXT_FIELD(operation, COL_OPERATION), TEXT_FIELD(operator_id, COL_OPERATOR),
    TEXT_FIELD(subject, COL_SUBJECT),     TEXT_FIELD(result, COL_RESULT),
    TEXT_FIELD(detail, COL_DETAIL),
};
#define N_TEXT_FIELDS (sizeof(text_fields) / sizeof(text_fields[0]))

static char *
field_ptr(struct hwg_audit_record *r, const struct text_field *f)
{
	return (char *)r + f->off;
}

static const char *
field_cptr(const struct hwg_audit_record *r, const struct text_field *f)
{
	return (const char *)r + f->off;
}

static int
db_err(struct hwg_store *s, struct hwg_error *err, const char *what)
{
	return hwg_error_set(err, HWG_E_STORE, "audit %s: %s", what,
	                     sqlite3_errmsg(hwg_store_db(s)));
}

/* Copy len bytes of src into out (size n), cut on a UTF-8 character boundary if too long. */
static void
copy_text(char *out, size_t n, const char *src, size_t len)
{
	if (src == NULL)
		len = 0;
	if (len >= n) {
		len = n - 1;
		/* src[len] is the first byte left out: never leave half a character behind */
		while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	if (len > 0)
		memcpy(out, src, len);
	out[len] = '\0';
}

/* ---------------------------------------------------------------- hashing */

static int
record_hash(struct hwg_buf *b, const struct hwg_audit_record *r, uint8_t out[HWG_AUDIT_HASH_LEN])
{
	const char *domain = r->has_req ? RECORD_DOMAIN_REQ : RECORD_DOMAIN;

	hwg_buf_reset(b);
	if (hwg_buf_put(b, domain, strlen(domain)) != 0 ||
	    hwg_buf_put_u64be(b, (uint64_t)r->seq) != 0 ||
	    hwg_buf_put(b, r->prev_hash, HWG_AUDIT_HASH_LEN) != 0 ||
	    hwg_buf_put_u64be(b, (uint64_t)r->time_ms) != 0 ||
	    hwg_buf_put_u64be(b, (uint64_t)r->peer_uid) != 0)
		return HWG_E_INTERNAL;
	for (size_t i = 0; i < N_TEXT_FIELDS; i++) {
		const char *t = field_cptr(r, &text_fields[i]);

		if (hwg_buf_put_string(b, t, strlen(t)) != 0)
			return HWG_E_INTERNAL;
	}
	if (r->has_req && hwg_buf_put(b, r->req_hash, HWG_AUDIT_HASH_LEN) != 0)
		return HWG_E_INTERNAL;
	SHA256(hwg_buf_ptr(b), hwg_buf_len(b), out);
	return 0;
}

/* ---------------------------------------------------------------- rows */

/*
 * A row into r.  strict (the verifier): return why the row could not have
 * been written by hwg_audit_append, or NULL.  Not strict (queries): copy
 * what fits.
 */
static const char *
row_to_record(sqlite3_stmt *st, struct hwg_audit_record *r, int strict)
{
	memset(r, 0, sizeof(*r));
	r->seq = sqlite3_column_int64(st, COL_SEQ);
	r->time_ms = sqlite3_column_int64(st, COL_TIME);
	r->peer_uid = sqlite3_column_int64(st, COL_UID);
	if (strict && (sqlite3_column_type(st, COL_TIME) != SQLITE_INTEGER ||
	               sqlite3_column_type(st, COL_UID) != SQLITE_INTEGER))
		return "time_ms or peer_uid is not an integer";
	for (size_t i = 0; i < N_TEXT_FIELDS; i++) {
		const struct text_field *f = &text_fields[i];
		const char *t = (const char *)sqlite3_column_text(st, f->col);
		size_t len = (size_t)sqlite3_column_bytes(st, f->col);

		if (strict && (sqlite3_column_type(st, f->col) != SQLITE_TEXT || len >= f->cap ||
		               memchr(t, '\0', len) != NULL))
			return f->name;
		copy_text(field_ptr(r, f), f->cap, t, t != NULL ? strnlen(t, len) : 0);
	}
	if (sqlite3_column_type(st, COL_PREV) == SQLITE_BLOB &&
	    sqlite3_column_bytes(st, COL_PREV) == HWG_AUDIT_HASH_LEN)
		memcpy(r->prev_hash, sqlite3_column_blob(st, COL_PREV), HWG_AUDIT_HASH_LEN);
	else if (strict)
		return "prev_hash";
	if (sqlite3_column_type(st, COL_HASH) == SQLITE_BLOB &&
	    sqlite3_column_bytes(st, COL_HASH) == HWG_AUDIT_HASH_LEN)
		memcpy(r->hash, sqlite3_column_blob(st, COL_HASH), HWG_AUDIT_HASH_LEN);
	else if (strict)
		return "hash";
	/* NULL: a record without one (or from before schema version 4) */
	if (sqlite3_column_type(st, COL_REQ) == SQLITE_BLOB &&
	    sqlite3_column_bytes(st, COL_REQ) == HWG_AUDIT_HASH_LEN) {
		memcpy(r->req_hash, sqlite3_column_blob(st, COL_REQ), HWG_AUDIT_HASH_LEN);
		r->has_req = 1;
	} else if (strict && sqlite3_column_type(st, COL_REQ) != SQLITE_NULL) {
		return "req";
	}
	return NULL;
}

/* Last record's seq and hash: 0 and zeros for an empty log. */
static int
head(struct hwg_store *s, int64_t *seq, uint8_t hash[HWG_AUDIT_HASH_LEN], struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	*seq = 0;
	memcpy(hash, zero_hash, HWG_AUDIT_HASH_LEN);
	if ((st = hwg_store_stmt(s, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
	                         err)) == NULL)
		return err->code;
	switch (sqlite3_step(st)) {
	case SQLITE_DONE:
		rc = 0;
		break;
	case SQLITE_ROW:
		*seq = sqlite3_column_int64(st, 0);
		if (sqlite3_column_type(st, 1) == SQLITE_BLOB &&
		    sqlite3_column_bytes(st, 1) == HWG_AUDIT_HASH_LEN) {
			memcpy(hash, sqlite3_column_blob(st, 1), HWG_AUDIT_HASH_LEN);
			rc = 0;
		} else {
			rc = hwg_error_set(err, HWG_E_TAMPERED,
			                   "audit record %lld has no valid hash to chain to",
			                   (long long)*seq);
		}
		break;
	default:
		rc = db_err(s, err, "head");
		break;
	}
	sqlite3_reset(st);
	return rc;
}

static int
last_checkpoint_seq(struct hwg_store *s, int64_t *seq, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	*seq = 0;
	if ((st = hwg_store_stmt(s, "SELECT max(seq) FROM audit_checkpoint", err)) == NULL)
		return err->code;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*seq = sqlite3_column_int64(st, 0);
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(s, err, "checkpoint head");
	sqlite3_reset(st);
	return rc;
}

static int
insert_record(struct hwg_store *s, const struct hwg_audit_record *r, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc = 0;

	if ((st = hwg_store_stmt(
	         s, "INSERT INTO audit (" RECORD_COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
	         err)) == NULL)
		return err->code;
	if (sqlite3_bind_int64(st, COL_SEQ + 1, r->seq) != SQLITE_OK ||
	    sqlite3_bind_int64(st, COL_TIME + 1, r->time_ms) != SQLITE_OK ||
	    sqlite3_bind_int64(st, COL_UID + 1, r->peer_uid) != SQLITE_OK ||
	    sqlite3_bind_blob(st, COL_PREV + 1, r->prev_hash, HWG_AUDIT_HASH_LEN, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    sqlite3_bind_blob(st, COL_HASH + 1, r->hash, HWG_AUDIT_HASH_LEN, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    (r->has_req ? sqlite3_bind_blob(st, COL_REQ + 1, r->req_hash, HWG_AUDIT_HASH_LEN,
	                                    SQLITE_STATIC)
	                : sqlite3_bind_null(st, COL_REQ + 1)) != SQLITE_OK)
		rc = db_err(s, err, "insert");
	for (size_t i = 0; rc == 0 && i < N_TEXT_FIELDS; i++)
		if (sqlite3_bind_text(st, text_fields[i].col + 1, field_cptr(r, &text_fields[i]),
		                      -1, SQLITE_STATIC) != SQLITE_OK)
			rc = db_err(s, err, "insert");
	if (rc == 0 && sqlite3_step(st) != SQLITE_DONE)
		rc = db_err(s, err, "insert");
	sqlite3_reset(st);
	return rc;
}

/* ---------------------------------------------------------------- append */

/* The event's fields into r; NULL strings become "", long ones are cut to fit. */
static void
event_to_record(const struct hwg_audit_event *ev, struct hwg_audit_record *r)
{
	const char *src[N_TEXT_FIELDS] = {ev->client,      ev->transport, ev->operation,
	                                  ev->operator_id, ev->subject,   ev->result,
	                                  ev->detail};

	memset(r, 0, sizeof(*r));
	r->time_ms = ev->time_ms;
	r->peer_uid = ev->peer_uid;
	for (size_t i = 0; i < N_TEXT_FIELDS; i++)
		copy_text(field_ptr(r, &text_fields[i]), text_fields[i].cap, src[i],
		          src[i] != NULL ? strlen(src[i]) : 0);
	if (ev->req_hash != NULL) {
		memcpy(r->req_hash, ev->req_hash, HWG_AUDIT_HASH_LEN);
		r->has_req = 1;
	}
}

int
hwg_audit_append(struct hwg_store *s, const struct hwg_audit_event *ev, int64_t *seq_out,
                 struct hwg_error *err)
{
	struct hwg_error local = {0};
	struct hwg_audit_record r;
	struct hwg_buf *b;
	int own_tx, rc;

	if (err == NULL)
		err = &local;
	if (ev == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no audit event");
	event_to_record(ev, &r);
	if ((b = hwg_buf_new(ENCODING_MAX)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	/* normally inside the caller's BEGIN IMMEDIATE; on its own, in a transaction of its own */
	own_tx = sqlite3_get_autocommit(hwg_store_db(s)) != 0;
	if (own_tx && (rc = hwg_store_begin(s, err)) != 0) {
		hwg_buf_free(b);
		return rc;
	}
	if ((rc = head(s, &r.seq, r.prev_hash, err)) == 0) {
		r.seq++;
		if ((rc = record_hash(b, &r, r.hash)) != 0)
			hwg_error_set(err, rc, "cannot encode audit record %lld", (long long)r.seq);
		else
			rc = insert_record(s, &r, err);
	}
	if (own_tx) {
		if (rc == 0)
			rc = hwg_store_commit(s, err);
		else
			hwg_store_rollback(s);
	}
	hwg_buf_free(b);
	if (rc == 0 && seq_out != NULL)
		*seq_out = r.seq;
	return rc;
}

/* ---------------------------------------------------------------- checkpoints */

int64_t
hwg_audit_uncheckpointed(struct hwg_store *s)
{
	uint8_t hash[HWG_AUDIT_HASH_LEN];
	struct hwg_error err = {0};
	int64_t seq, cp;

	if (head(s, &seq, hash, &err) != 0 || last_checkpoint_seq(s, &cp, &err) != 0)
		return 0;
	return seq > cp ? seq - cp : 0;
}

/* A digest signer (struct hwg_audit_signer) given the fields. */
static int
sign_digest(void *ctx, int64_t seq, const uint8_t hash[HWG_AUDIT_HASH_LEN], int64_t time_ms,
            uint8_t sig[64], struct hwg_error *err)
{
	const struct hwg_audit_signer *signer = ctx;
	uint8_t digest[32];
	int rc;

	if ((rc = hwg_audit_checkpoint_digest(seq, hash, time_ms, digest)) != 0)
		return hwg_error_set(err, rc, "cannot encode the checkpoint");
	return signer->sign(signer->ctx, digest, sig, err);
}

static int
checkpoint_locked(struct hwg_store *s, hwg_audit_cp_sign_fn sign, void *ctx, int64_t now_ms,
                  struct hwg_error *err)
{
	uint8_t hash[HWG_AUDIT_HASH_LEN], sig[64], *der = NULL;
	size_t der_len = 0;
	sqlite3_stmt *st;
	int64_t seq, cp;
	int rc;

	if ((rc = head(s, &seq, hash, err)) != 0 || (rc = last_checkpoint_seq(s, &cp, err)) != 0)
		return rc;
	if (seq < cp)
		return hwg_error_set(err, HWG_E_TAMPERED,
		                     "log ends at %lld but checkpoint covers %lld", (long long)seq,
		                     (long long)cp);
	if (seq == cp)
		return 0; /* nothing new (or an empty log) */
	if ((rc = sign(ctx, seq, hash, now_ms, sig, err)) != 0)
		return rc;
	/* a signature that can never verify would later read as tampering */
	if (hwg_ecdsa_raw_to_der(sig, &der, &der_len) != 0)
		return hwg_error_set(err, HWG_E_HSM,
		                     "the audit signer returned a malformed ES256 signature");
	OPENSSL_free(der);
	if ((st = hwg_store_stmt(s,
	                         "INSERT INTO audit_checkpoint (seq, hash, time_ms, signature) "
	                         "VALUES (?, ?, ?, ?)",
	                         err)) == NULL)
		return err->code;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_blob(st, 2, hash, sizeof(hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	sqlite3_bind_blob(st, 4, sig, sizeof(sig), SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(s, err, "checkpoint");
	sqlite3_reset(st);
	return rc;
}

int
hwg_audit_checkpoint_fields(struct hwg_store *s, hwg_audit_cp_sign_fn sign, void *ctx,
                            int64_t now_ms, struct hwg_error *err)
{
	struct hwg_error local = {0};
	int own_tx, rc;

	if (err == NULL)
		err = &local;
	if (sign == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no audit signer");
	own_tx = sqlite3_get_autocommit(hwg_store_db(s)) != 0;
	if (own_tx && (rc = hwg_store_begin(s, err)) != 0)
		return rc;
	rc = checkpoint_locked(s, sign, ctx, now_ms, err);
	if (own_tx) {
		if (rc == 0)
			rc = hwg_store_commit(s, err);
		else
			hwg_store_rollback(s);
	}
	return rc;
}

int
hwg_audit_checkpoint(struct hwg_store *s, const struct hwg_audit_signer *signer, int64_t now_ms,
                     struct hwg_error *err)
{
	if (signer == NULL || signer->sign == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no audit signer");
	return hwg_audit_checkpoint_fields(s, sign_digest, (void *)signer, now_ms, err);
}

/* ---------------------------------------------------------------- verify */

static int bad(struct hwg_audit_verify_result *res, int64_t seq, struct hwg_error *err,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
bad(struct hwg_audit_verify_result *res, int64_t seq, struct hwg_error *err, const char *fmt, ...)
{
	va_list ap;

	res->first_bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	return hwg_error_set(err, HWG_E_TAMPERED, "audit log does not verify: %s", res->reason);
}

/* Every record in seq order: contiguous from 1, each hashing to itself and chained to the last. */
static int
verify_chain(struct hwg_store *s, struct hwg_buf *b, struct hwg_audit_verify_result *res,
             int64_t *last_seq, struct hwg_error *err)
{
	uint8_t prev[HWG_AUDIT_HASH_LEN], h[HWG_AUDIT_HASH_LEN];
	struct hwg_audit_record r;
	const char *why;
	sqlite3_stmt *st;
	int64_t expect = 1;
	int rc = 0, step;

	memcpy(prev, zero_hash, sizeof(prev));
	if (sqlite3_prepare_v2(hwg_store_db(s), "SELECT " RECORD_COLUMNS " FROM audit ORDER BY seq",
	                       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "verify");
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		why = row_to_record(st, &r, 1);
		if (r.seq < expect)
			rc = bad(res, r.seq, err, "record %lld is out of sequence",
			         (long long)r.seq);
		else if (r.seq > expect)
			rc = bad(res, expect, err,
			         "record %lld missing (the log jumps from %lld to %lld)",
			         (long long)expect, (long long)expect - 1, (long long)r.seq);
		else if (why != NULL)
			rc = bad(res, r.seq, err,
			         "record %lld does not match its hash (malformed %s)",
			         (long long)r.seq, why);
		else if (record_hash(b, &r, h) != 0 || memcmp(h, r.hash, sizeof(h)) != 0)
			rc = bad(res, r.seq, err, "record %lld does not match its hash",
			         (long long)r.seq);
		else if (memcmp(r.prev_hash, prev, sizeof(prev)) != 0 && r.seq == 1)
			rc = bad(res, 1, err, "record 1 does not start the chain");
		else if (memcmp(r.prev_hash, prev, sizeof(prev)) != 0) {
			/* record r.seq is whole, so the one before it changed (or was rehashed) */
			rc = bad(res, r.seq - 1, err,
			         "record %lld does not match the hash record %lld chains to",
			         (long long)r.seq - 1, (long long)r.seq);
			res->records--;
		}
		if (rc != 0)
			break;
		memcpy(prev, r.hash, sizeof(prev));
		expect++;
		res->records++;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_err(s, err, "verify");
	sqlite3_finalize(st);
	*last_seq = expect - 1;
	return rc;
}

static int
signature_ok(EVP_PKEY *pub, const uint8_t digest[32], const uint8_t sig[64])
{
	EVP_PKEY_CTX *ctx;
	uint8_t *der = NULL;
	size_t der_len = 0;
	int ok = 0;

	if (hwg_ecdsa_raw_to_der(sig, &der, &der_len) != 0)
		return 0;
	if ((ctx = EVP_PKEY_CTX_new(pub, NULL)) != NULL && EVP_PKEY_verify_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1)
		ok = EVP_PKEY_verify(ctx, der, der_len, digest, 32) == 1;
	EVP_PKEY_CTX_free(ctx);
	OPENSSL_free(der);
	ERR_clear_error();
	return ok;
}

/* The hash stored with record seq into out: 0 if there is one. */
static int
stored_hash(struct hwg_store *s, int64_t seq, uint8_t out[HWG_AUDIT_HASH_LEN],
            struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = hwg_store_stmt(s, "SELECT hash FROM audit WHERE seq = ?", err)) == NULL)
		return err->code;
	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == HWG_AUDIT_HASH_LEN) {
		memcpy(out, sqlite3_column_blob(st, 0), HWG_AUDIT_HASH_LEN);
		rc = 0;
	} else {
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? HWG_E_NOT_FOUND
		                                           : db_err(s, err, "verify");
	}
	sqlite3_reset(st);
	return rc;
}

/* Every checkpoint: signed by the audit key, naming a record the log still has, with its hash. */
static int
verify_checkpoints(struct hwg_store *s, EVP_PKEY *pub, int64_t last_seq,
                   struct hwg_audit_verify_result *res, struct hwg_error *err)
{
	uint8_t hash[HWG_AUDIT_HASH_LEN], digest[32], at[HWG_AUDIT_HASH_LEN];
	sqlite3_stmt *st;
	int rc = 0, step;

	if (sqlite3_prepare_v2(
	        hwg_store_db(s),
	        "SELECT seq, hash, time_ms, signature FROM audit_checkpoint ORDER BY seq", -1, &st,
	        NULL) != SQLITE_OK)
		return db_err(s, err, "verify");
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);

		if (seq < 1 || sqlite3_column_type(st, 1) != SQLITE_BLOB ||
		    sqlite3_column_bytes(st, 1) != HWG_AUDIT_HASH_LEN ||
		    sqlite3_column_type(st, 2) != SQLITE_INTEGER ||
		    sqlite3_column_type(st, 3) != SQLITE_BLOB ||
		    sqlite3_column_bytes(st, 3) != 64) {
			rc = bad(res, seq, err, "checkpoint at record %lld is malformed",
			         (long long)seq);
			break;
		}
		memcpy(hash, sqlite3_column_blob(st, 1), sizeof(hash));
		if (hwg_audit_checkpoint_digest(seq, hash, sqlite3_column_int64(st, 2), digest) !=
		    0) {
			rc = hwg_error_set(err, HWG_E_INTERNAL, "cannot encode a checkpoint");
			break;
		}
		if (!signature_ok(pub, digest, sqlite3_column_blob(st, 3)))
			rc = bad(res, seq, err,
			         "checkpoint at record %lld is not signed by the audit key",
			         (long long)seq);
		else if (seq > last_seq)
			rc = bad(res, last_seq + 1, err,
			         "log ends at %lld but checkpoint covers %lld", (long long)last_seq,
			         (long long)seq);
		else if ((rc = stored_hash(s, seq, at, err)) != 0 && rc != HWG_E_NOT_FOUND)
			break;
		else if (rc != 0 || memcmp(at, hash, sizeof(at)) != 0)
			rc = bad(res, seq, err,
			         "record %lld does not match the hash its checkpoint signed",
			         (long long)seq);
		if (rc != 0)
			break;
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
	struct hwg_error local = {0};
	struct hwg_buf *b;
	int64_t last_seq = 0;
	int own_tx, rc;

	if (err == NULL)
		err = &local;
	if (res == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no result");
	memset(res, 0, sizeof(*res));
	if (hwg_cose_alg_for_key(audit_pub) != HWG_COSE_ES256)
		return hwg_error_set(err, HWG_E_INVALID, "the audit key must be an EC P-256 key");
	if ((b = hwg_buf_new(ENCODING_MAX)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	/* one read transaction (the caller's, or ours): the walk sees one consistent log */
	own_tx = sqlite3_get_autocommit(hwg_store_db(s)) != 0;
	if (own_tx && sqlite3_exec(hwg_store_db(s), "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		hwg_buf_free(b);
		return db_err(s, err, "verify");
	}
	rc = verify_chain(s, b, res, &last_seq, err);
	if (rc == 0)
		rc = verify_checkpoints(s, audit_pub, last_seq, res, err);
	if (own_tx)
		hwg_store_rollback(s); /* nothing was written */
	hwg_buf_free(b);
	return rc;
}

/* ---------------------------------------------------------------- query */

int
hwg_audit_query(struct hwg_store *s, const struct hwg_audit_filter *f,
                int (*fn)(void *ctx, const struct hwg_audit_record *r), void *ctx,
                struct hwg_error *err)
{
	static const struct hwg_audit_filter none = {0};
	struct hwg_audit_record r;
	char sql[512];
	sqlite3_stmt *st;
	sqlite3 *db = hwg_store_db(s);
	int64_t limit;
	int rc;

	if (f == NULL)
		f = &none;
	if (fn == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no callback");
	limit = f->limit <= 0 ? QUERY_LIMIT_DEFAULT
	                      : (f->limit > QUERY_LIMIT_MAX ? QUERY_LIMIT_MAX : f->limit);
	/* only the conditions asked for, so SQLite can use the (partial) indexes */
	snprintf(sql, sizeof(sql),
	         "SELECT " RECORD_COLUMNS " FROM audit WHERE 1%s%s%s%s%s%s "
	         "ORDER BY seq LIMIT :limit",
	         f->subject != NULL ? " AND subject = :subject" : "",
	         f->subject != NULL && f->subject[0] != '\0' ? " AND subject != ''" : "",
	         f->operator_id != NULL ? " AND operator_id = :operator" : "",
	         f->operator_id != NULL && f->operator_id[0] != '\0' ? " AND operator_id != ''"
	                                                             : "",
	         f->from_ms != 0 ? " AND time_ms >= :from" : "",
	         f->to_ms != 0 ? " AND time_ms <= :to" : "");
	/* not a cached statement: fn may call back into the store */
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "query");
	if (f->subject != NULL)
		sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":subject"), f->subject, -1,
		                  SQLITE_STATIC);
	if (f->operator_id != NULL)
		sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":operator"), f->operator_id,
		                  -1, SQLITE_STATIC);
	if (f->from_ms != 0)
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":from"), f->from_ms);
	if (f->to_ms != 0)
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":to"), f->to_ms);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":limit"), limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_to_record(st, &r, 0);
		if (fn(ctx, &r) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : db_err(s, err, "query");
	sqlite3_finalize(st);
	return rc;
}

int
hwg_audit_request_records(struct hwg_store *s, const char *client,
                          const uint8_t req_hash[HWG_AUDIT_HASH_LEN],
                          int (*fn)(void *ctx, const struct hwg_audit_record *r), void *ctx,
                          struct hwg_error *err)
{
	struct hwg_audit_record r;
	sqlite3_stmt *st;
	int rc;

	if (client == NULL || req_hash == NULL || fn == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no client, request hash or callback");
	/* not a cached statement: fn may call back into the store */
	if (sqlite3_prepare_v2(hwg_store_db(s),
	                       "SELECT " RECORD_COLUMNS " FROM audit WHERE req = ? AND client = ? "
	                       "ORDER BY seq LIMIT ?",
	                       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "request records");
	sqlite3_bind_blob(st, 1, req_hash, HWG_AUDIT_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, client, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, HWG_AUDIT_REQUEST_RECORDS_MAX);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_to_record(st, &r, 0);
		if (fn(ctx, &r) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : db_err(s, err, "request records");
	sqlite3_finalize(st);
	return rc;
}
