/*
 * hwg_issuance.h — the issuance journal: every certificate the gateway
 * was asked to print, and how far it got.
 *
 * A certificate must never be printed twice without anyone knowing, and
 * never be lost.  So each issuance moves through durable states, each
 * transition committed (by the caller's transaction) before the next step
 * starts:
 *
 *   reserved ──▶ rendered ──▶ sealed ──▶ sent ──▶ printed
 *       │            │           │         ├────▶ unconfirmed ──▶ printed | not_printed
 *       └────────────┴───────────┴─────────┴────▶ failed               (hwg_issuance_resolve)
 *
 * reserved: a number is allocated; rendered: the PDF exists (its digest
 * and page count); sealed: the keyholder sealed its digest; sent: the
 * first byte is about to leave for the printer (serial and job name);
 * printed: the printer confirmed the job's end (pages), or a supervisor
 * said so; failed: nothing was printed (a reason); unconfirmed: the job
 * was sent and its end never confirmed, held until a supervisor decides;
 * not_printed: a supervisor's decision that it was not.  A transition
 * from any other state is HWG_E_WRONG_STATE, and nothing changes.
 * Issuances are never deleted.
 *
 * Numbers are "<gateway id>-<YYYYMMDD>-<sequence>", the date the issue
 * date in Japan (UTC+9), the sequence six digits (more after 999999),
 * counted per gateway id from 1 and never reused: a number allocated is
 * spent even when its issuance fails.  A client names each issuance with
 * a request id of its own; asking again with the same client, request id
 * and document gives back the first issuance (hwg_issuance_reserve).
 *
 * Plain records over hwg_store, like hwg_sessions.h: the caller holds the
 * transaction (the journal service in ops/hwg_ops.h gives each
 * transition its own); times are ms since the epoch, passed in.  What is
 * recorded is what the audit and a supervisor need, never a page's
 * content: the resident code of the subject, the kind, the digests.
 * Failure messages pass through as given, made safe (UTF-8, no control
 * character, at most HWG_ISSUANCE_TEXT_MAX bytes): the caller keeps them
 * free of personal data.  Not thread-safe, like the store.
 */
#ifndef HWG_ISSUANCE_H
#define HWG_ISSUANCE_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_clients.h"
#include "hwg_err.h"
#include "hwg_ids.h"
#include "hwg_store.h"

/* HWG_ISSUANCE_NO_MAX, _REQUEST_ID_MAX, _TEXT_MAX, HWG_RESIDENT_CODE_LEN: hwg_ids.h */
#define HWG_ISSUANCE_PRINTER_MAX 63 /* a printer's serial */
#define HWG_ISSUANCE_JOB_MAX 63     /* the job name sent to the printer */
#define HWG_ISSUANCE_SEAL_LEN 64    /* ES256 raw r||s */

enum hwg_issuance_state {
	HWG_ISSUANCE_RESERVED = 0,
	HWG_ISSUANCE_RENDERED,
	HWG_ISSUANCE_SEALED,
	HWG_ISSUANCE_SENT,
	HWG_ISSUANCE_PRINTED,
	HWG_ISSUANCE_FAILED,
	HWG_ISSUANCE_UNCONFIRMED,
	HWG_ISSUANCE_NOT_PRINTED,
	HWG_ISSUANCE_STATE_COUNT_
};
/* "reserved", ... "not_printed"; "unknown" outside the enum. */
const char *hwg_issuance_state_name(int state);
/* The inverse; -1 if unknown. */
int hwg_issuance_state_parse(const char *name);

/* 1 if kind is "juminhyo", "kisai", "tenshutsu" or "inkan" (the plan's document kinds). */
int hwg_issuance_kind_valid(const char *kind);
/* 1 if relation is "self", "household" or "proxy" (the requester's relation). */
int hwg_issuance_relation_valid(const char *relation);
/* 1 if code is 11 ASCII digits. */
int hwg_resident_code_valid(const char *code);
/* 1 if id is 1..HWG_ISSUANCE_REQUEST_ID_MAX of [A-Za-z0-9._-]. */
int hwg_issuance_request_id_valid(const char *id);
/* "YYYY-MM-DD": the issue date in Japan (UTC+9) at ms (what numbers and pages carry). */
void hwg_issuance_date(int64_t ms, char out[11]);

/* What reserving an issuance is given. */
struct hwg_issuance_request {
	const char *gateway_id; /* [A-Za-z0-9._-]{1,64}, the first a letter or digit */
	const char *client_id;
	const char *request_id; /* the client's own id of this issuance */
	const char *operator_id;
	const char *relation; /* the requester's: self, household, proxy */
	const char *subject;  /* resident code of the person the certificate is about */
	const char *kind;
	const uint8_t *doc_digest; /* 32 bytes: SHA-256 of the document's payload */
	int household;             /* a household copy (世帯全員) */
	int my_number;             /* the My Number is on the page */
	/* a reprint: the original's number (printed, same subject and kind) and why; else NULL */
	const char *original_no;
	const char *reprint_reason;
	int64_t now_ms;
};

struct hwg_issuance {
	char no[HWG_ISSUANCE_NO_MAX + 1];
	char gateway_id[HWG_ISSUANCE_GATEWAY_ID_MAX + 1];
	int64_t seq;
	char date[11]; /* YYYY-MM-DD, as in the number */
	char client_id[HWG_CLIENT_ID_MAX + 1];
	char request_id[HWG_ISSUANCE_REQUEST_ID_MAX + 1];
	char operator_id[HWG_OPERATOR_ID_MAX + 1];
	char relation[16];
	char subject[HWG_RESIDENT_CODE_LEN + 1];
	char kind[16];
	uint8_t doc_digest[32];
	int household;
	int my_number;
	int state; /* enum hwg_issuance_state */
	int has_pdf;
	uint8_t pdf_digest[32];
	unsigned pages_expected; /* rendered */
	int has_seal;
	uint8_t pdf_seal[HWG_ISSUANCE_SEAL_LEN];
	char printer[HWG_ISSUANCE_PRINTER_MAX + 1]; /* sent */
	char job_name[HWG_ISSUANCE_JOB_MAX + 1];
	unsigned pages_confirmed; /* printed by the printer's confirmation */
	/* failed, unconfirmed: an error code's name (hwg_err_code) and a plain message */
	char failure_code[32];
	char failure_msg[HWG_ISSUANCE_TEXT_MAX + 1];
	char original_no[HWG_ISSUANCE_NO_MAX + 1]; /* "" unless a reprint */
	char reprint_reason[HWG_ISSUANCE_TEXT_MAX + 1];
	/* hwg_issuance_resolve: who decided, what (printed or not_printed), why */
	char resolved_by[HWG_OPERATOR_ID_MAX + 1];
	int resolution; /* HWG_ISSUANCE_PRINTED or HWG_ISSUANCE_NOT_PRINTED; -1 if none */
	char resolution_note[HWG_ISSUANCE_TEXT_MAX + 1];
	/* when each state was reached; 0 if it was not */
	int64_t reserved_ms, rendered_ms, sealed_ms, sent_ms, printed_ms, failed_ms, unconfirmed_ms,
	    resolved_ms;
};

/*
 * Reserve an issuance: allocate its number and record it as reserved,
 * into *out, *existing = 0.  When the client already has an issuance
 * with this request id: the same document (digest) and the same original
 * gives that issuance back as it is now, *existing = 1, nothing written;
 * another is HWG_E_REQUEST_CONFLICT.  A reprint's original must exist
 * (HWG_E_NOT_FOUND), be printed (HWG_E_WRONG_STATE) and be of the same
 * subject and kind (HWG_E_INVALID), and a reprint needs a reason.
 * HWG_E_INVALID for any other malformed field.  Runs in a savepoint: a
 * failure leaves nothing behind, no number spent.
 */
int hwg_issuance_reserve(struct hwg_store *s, const struct hwg_issuance_request *rq,
                         struct hwg_issuance *out, int *existing, struct hwg_error *err);

/*
 * The transitions.  Each: HWG_E_NOT_FOUND for an unknown number,
 * HWG_E_WRONG_STATE (naming the state it is in) from any state but those
 * listed, HWG_E_INVALID for a malformed argument; nothing changes then.
 */
/* reserved → rendered: the PDF's SHA-256 and its page count (1 or more). */
int hwg_issuance_rendered(struct hwg_store *s, const char *no, const uint8_t pdf_digest[32],
                          unsigned pages, int64_t now_ms, struct hwg_error *err);
/* rendered → sealed: the seal over the PDF's digest. */
int hwg_issuance_sealed(struct hwg_store *s, const char *no,
                        const uint8_t seal[HWG_ISSUANCE_SEAL_LEN], int64_t now_ms,
                        struct hwg_error *err);
/* sealed → sent: before the first byte of the job leaves; the printer's serial, the job name. */
int hwg_issuance_sent(struct hwg_store *s, const char *no, const char *printer,
                      const char *job_name, int64_t now_ms, struct hwg_error *err);
/* sent or unconfirmed → printed: the printer confirmed the job's end with pages pages. */
int hwg_issuance_printed(struct hwg_store *s, const char *no, unsigned pages, int64_t now_ms,
                         struct hwg_error *err);
/*
 * reserved, rendered, sealed or sent → failed: nothing was printed, for
 * the reason code (an HWG_E_* code) and message.
 */
int hwg_issuance_failed(struct hwg_store *s, const char *no, int code, const char *message,
                        int64_t now_ms, struct hwg_error *err);
/* sent → unconfirmed: sent, its end not confirmed (code and message say why). */
int hwg_issuance_unconfirmed(struct hwg_store *s, const char *no, int code, const char *message,
                             int64_t now_ms, struct hwg_error *err);
/*
 * unconfirmed → outcome (HWG_ISSUANCE_PRINTED or HWG_ISSUANCE_NOT_PRINTED):
 * a supervisor's decision, by operator supervisor, with a note (may be
 * NULL or "").
 */
int hwg_issuance_resolve(struct hwg_store *s, const char *no, int outcome, const char *supervisor,
                         const char *note, int64_t now_ms, struct hwg_error *err);

/* The issuance numbered no, or HWG_E_NOT_FOUND. */
int hwg_issuance_get(struct hwg_store *s, const char *no, struct hwg_issuance *out,
                     struct hwg_error *err);
/* The issuance client_id reserved under request_id, or HWG_E_NOT_FOUND. */
int hwg_issuance_get_request(struct hwg_store *s, const char *client_id, const char *request_id,
                             struct hwg_issuance *out, struct hwg_error *err);
/*
 * The issuances of subject (a resident code), newest first, at most
 * limit (1..1000); fn's non-zero return stops the walk and is returned.
 * fn must not use the store.
 */
int hwg_issuance_each_subject(struct hwg_store *s, const char *subject, size_t limit,
                              int (*fn)(void *ctx, const struct hwg_issuance *r), void *ctx,
                              struct hwg_error *err);

/* What hwg_issuance_recover changed. */
struct hwg_issuance_recovery {
	size_t failed;      /* reserved, rendered or sealed: nothing was sent */
	size_t unconfirmed; /* sent: it may have printed */
};
/*
 * At start, before any request: what a gateway that stopped left in
 * flight.  Issuances reserved, rendered or sealed become failed
 * (unavailable, "gateway stopped before the job was sent: nothing
 * printed"); sent ones become unconfirmed (print_unconfirmed), for a
 * supervisor.  fn (may be NULL) is called with each issuance as it now
 * is and the state it was in, and may use the store (the audit record of
 * each); its non-zero return (with err set) stops and is returned.  Runs in a
 * savepoint: all or nothing.
 */
int hwg_issuance_recover(struct hwg_store *s, int64_t now_ms,
                         int (*fn)(void *ctx, const struct hwg_issuance *r, int was,
                                   struct hwg_error *err),
                         void *ctx, struct hwg_issuance_recovery *out, struct hwg_error *err);

#endif
