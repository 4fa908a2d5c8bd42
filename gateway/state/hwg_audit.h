/*
 * hwg_audit.h — the append-only, hash-chained audit log.
 *
 * Every request, refusal and device event becomes one record.  Each
 * record's hash covers its sequence number, the previous record's hash
 * and all its fields (the request's hash among them, when it has one), so
 * an edit, deletion or reordering breaks the chain at that record.  Every N records or T seconds,
 * and at clean shutdown, a checkpoint (sequence, hash, time) is signed with the HSM audit key; a
 * checkpoint that names a record the log no longer has, or a different
 * hash, reveals truncation.  Records are appended inside the caller's
 * transaction, so an operation's state change and its audit record
 * commit together or not at all.  PINs never reach this module; My
 * Numbers only as keyed hashes (the subject field is caller-supplied).
 */
#ifndef HWG_AUDIT_H
#define HWG_AUDIT_H

#include <openssl/evp.h>
#include <stdint.h>

#include "hwg_checkpoint.h"
#include "hwg_err.h"
#include "hwg_store.h"

/* What happened.  NULL strings are stored as empty; peer_uid -1 = none. */
struct hwg_audit_event {
	int64_t time_ms;
	const char *client;    /* client id, or "" when unknown */
	int64_t peer_uid;      /* SO_PEERCRED uid; -1 over HTTP */
	const char *transport; /* "unix", "http", "device", "admin" */
	const char *operation; /* operation or event name */
	const char *operator_id;
	const char *subject; /* which resident (never a raw My Number) */
	const char *result;  /* "ok" or an hwg_err_code() name */
	const char *detail;  /* short, secret-free detail */
	/* SHA-256 of the request's bytes as received; NULL for events and unread refusals */
	const uint8_t *req_hash;
};

struct hwg_audit_record {
	int64_t seq;
	int64_t time_ms;
	char client[65];
	int64_t peer_uid;
	char transport[16];
	char operation[64];
	char operator_id[64];
	char subject[128];
	char result[32];
	char detail[256];
	int has_req; /* req_hash is set (records written since schema version 4) */
	uint8_t req_hash[HWG_AUDIT_HASH_LEN];
	uint8_t prev_hash[HWG_AUDIT_HASH_LEN];
	uint8_t hash[HWG_AUDIT_HASH_LEN];
};

/* Append one record (caller holds the transaction). *seq_out may be NULL. */
int hwg_audit_append(struct hwg_store *s, const struct hwg_audit_event *ev, int64_t *seq_out,
                     struct hwg_error *err);

/* Signs a 32-byte digest with the audit key: 64 raw bytes (ES256). */
struct hwg_audit_signer {
	int (*sign)(void *ctx, const uint8_t digest[32], uint8_t sig[64], struct hwg_error *err);
	void *ctx;
};
/*
 * Signs a checkpoint given its fields: 64 raw bytes (ES256) over
 * hwg_audit_checkpoint_digest(seq, hash, time_ms), which the signer
 * computes itself, so that the holder of the audit key signs checkpoints
 * and never a digest chosen by its caller (gateway/keyholder/).
 */
typedef int (*hwg_audit_cp_sign_fn)(void *ctx, int64_t seq, const uint8_t hash[HWG_AUDIT_HASH_LEN],
                                    int64_t time_ms, uint8_t sig[64], struct hwg_error *err);
/* Records since the last checkpoint (for the every-N policy). */
int64_t hwg_audit_uncheckpointed(struct hwg_store *s);
/* Sign a checkpoint of the current head (no-op if nothing new). */
int hwg_audit_checkpoint(struct hwg_store *s, const struct hwg_audit_signer *signer, int64_t now_ms,
                         struct hwg_error *err);
/* The same with a signer that is given the checkpoint's fields. */
int hwg_audit_checkpoint_fields(struct hwg_store *s, hwg_audit_cp_sign_fn sign, void *ctx,
                                int64_t now_ms, struct hwg_error *err);

struct hwg_audit_verify_result {
	int64_t records;       /* records checked */
	int64_t checkpoints;   /* checkpoints whose signature verified */
	int64_t first_bad_seq; /* 0 if all good */
	char reason[200];      /* why first_bad_seq is bad */
};
/* Walk the whole chain and every checkpoint; HWG_E_TAMPERED on the first problem. */
int hwg_audit_verify(struct hwg_store *s, EVP_PKEY *audit_pub, struct hwg_audit_verify_result *res,
                     struct hwg_error *err);

struct hwg_audit_filter {
	const char *subject;     /* exact match, or NULL */
	const char *operator_id; /* exact match, or NULL */
	int64_t from_ms;         /* inclusive, 0 = open */
	int64_t to_ms;           /* inclusive, 0 = open */
	int64_t limit;           /* 0 = default 1000 */
};
int hwg_audit_query(struct hwg_store *s, const struct hwg_audit_filter *f,
                    int (*fn)(void *ctx, const struct hwg_audit_record *r), void *ctx,
                    struct hwg_error *err);

#define HWG_AUDIT_REQUEST_RECORDS_MAX 16
/*
 * The records of one request: those whose req_hash is req_hash and whose
 * client is client, in sequence order, at most
 * HWG_AUDIT_REQUEST_RECORDS_MAX (a request's own record, the refusals of
 * its bytes sent again, a gateway.response_withheld).  fn returns
 * non-zero to stop.  For request.status.
 */
int hwg_audit_request_records(struct hwg_store *s, const char *client,
                              const uint8_t req_hash[HWG_AUDIT_HASH_LEN],
                              int (*fn)(void *ctx, const struct hwg_audit_record *r), void *ctx,
                              struct hwg_error *err);

#endif
