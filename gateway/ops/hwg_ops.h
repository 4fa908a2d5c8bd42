/*
 * hwg_ops.h — the operation table: where the API meets the devices.
 *
 * Each operation names the roles that may call it, the schema of its
 * arguments, and a handler.  hwg_core checks role and schema before the
 * handler runs, and runs it inside the state transaction that also holds
 * its audit record.  Handlers build a CBOR result (api.cddl) or return an
 * error with a message; they never see transport details beyond the peer.
 *
 * A handler is given what it may use in its context (struct hwg_op_ctx):
 * the configuration, the store (or, in a device operation's run phase,
 * the journal service), the card service, the palm service and the key
 * service below.  It reaches nothing else of the privileged
 * process, and never the HSM but through the key service, so that the
 * process holding the keys can change without touching a handler.
 */
#ifndef HWG_OPS_H
#define HWG_OPS_H

#include <cbor.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "hwg_certcode.h"
#include "hwg_config.h"
#include "hwg_err.h"
#include "hwg_match.h"
#include "hwg_operators.h"
#include "hwg_optable.h"
#include "hwg_request.h"
#include "hwg_roles.h"

struct hwg_client_entry;
struct hwg_store;
struct hwg_card_service;
struct hwg_palm;
struct hwg_issuance;
struct hwg_issuance_request;

/* The public keys a handler may ask for (hwg_op_keys.public_key). */
enum hwg_op_key {
	HWG_OP_KEY_RESPONSE = 0,
	HWG_OP_KEY_AUDIT,
	HWG_OP_KEY_SEAL /* certificates; HWG_E_NOT_FOUND when the token has none */
};

/* The HSM token as device.list shows it. */
struct hwg_op_token_info {
	char label[33];
	char manufacturer[33];
	char model[17];
	char serial[17];
	int present;                   /* token present in its slot */
	int logged_in;                 /* the gateway's session is logged in */
	unsigned long session_reopens; /* times that session was re-opened */
};

/*
 * The key service: what handlers need of the keys, and nothing that
 * signs.  Filled by the privileged process (priv/hwg_p11keys.c over its
 * own PKCS#11 session); arg is passed back to every call.  Each returns
 * 0 or an error code with err set (HWG_E_HSM when the token fails).
 */
struct hwg_op_keys {
	/*
	 * The public half of the response, audit or seal key (which: enum
	 * hwg_op_key; the caller frees *out) and its COSE algorithm.
	 */
	int (*public_key)(void *arg, int which, EVP_PKEY **out, int *alg, struct hwg_error *err);
	/*
	 * The same key as its DER SubjectPublicKeyInfo, copied into der (cap
	 * bytes; HWG_E_INTERNAL if it does not fit): what gw.info publishes,
	 * without decoding and encoding the key again on every call.
	 */
	int (*public_spki)(void *arg, int which, uint8_t *der, size_t cap, size_t *len, int *alg,
	                   struct hwg_error *err);
	/* The token's state now (gw.info, device.list). */
	int (*token_info)(void *arg, struct hwg_op_token_info *out, struct hwg_error *err);
	/* hwg_template_seal and hwg_template_open (palm/hwg_templates.h) with the template key. */
	int (*template_seal)(void *arg, const char *operator_id, const int8_t tmpl[HWG_MATCH_DIM],
	                     uint8_t **blob, size_t *blob_len, struct hwg_error *err);
	int (*template_open)(void *arg, const char *operator_id, const uint8_t *blob,
	                     size_t blob_len, int8_t tmpl[HWG_MATCH_DIM], struct hwg_error *err);
	/*
	 * A certificate's verification code: the seal key signs the summary
	 * built from s's fields (crypto/hwg_certcode.h; ES256, kid = s->gw);
	 * *cose (malloc'd) is the COSE_Sign1, hwg_certcode_text its QR text.
	 * HWG_E_NOT_FOUND without a seal key, HWG_E_INVALID for a summary
	 * hwg_certcode_summary_check refuses.
	 */
	int (*seal_summary)(void *arg, const struct hwg_certcode_summary *s, uint8_t **cose,
	                    size_t *cose_len, struct hwg_error *err);
	/*
	 * A certificate PDF's seal: the seal key's ES256 signature (raw r || s)
	 * over ["hwgw-pdf-seal-v1", issuance_no, pdf_digest]
	 * (hwg_certcode_pdf_seal_tbs, hwg_certcode_pdf_seal_verify).
	 */
	int (*seal_pdf)(void *arg, const char *issuance_no, const uint8_t pdf_digest[32],
	                uint8_t seal[HWG_CERTCODE_SEAL_LEN], struct hwg_error *err);
	void *arg;
};

/*
 * The journal service: the issuance transitions of state/hwg_issuance.h
 * for the run phase of a device operation (HWG_OP_DEVICE), which holds no
 * state lock and has no store.  Each call takes the state lock, runs the
 * hwg_issuance_* function of its name in a transaction of its own and
 * commits it, with the gateway's time (rq->now_ms is not read).  0: the
 * transition is on disk, and the next step may start.  Any error: nothing
 * changed (HWG_E_STORE when the commit failed, HWG_E_WRONG_STATE,
 * HWG_E_REQUEST_CONFLICT... as hwg_issuance.h says), and the step the
 * transition would have recorded must not be taken (nothing sent to the
 * printer without "sent" on disk first).  Nothing is audited: the
 * request's own record says what the operation did.  Filled by the
 * privileged process (priv/hwg_journal.c); arg is passed back to every
 * call.
 */
struct hwg_op_journal {
	int (*reserve)(void *arg, const struct hwg_issuance_request *rq, struct hwg_issuance *out,
	               int *existing, struct hwg_error *err);
	int (*rendered)(void *arg, const char *no, const uint8_t pdf_digest[32], unsigned pages,
	                struct hwg_error *err);
	int (*sealed)(void *arg, const char *no, const uint8_t seal[64], struct hwg_error *err);
	int (*sent)(void *arg, const char *no, const char *printer, const char *job_name,
	            struct hwg_error *err);
	int (*printed)(void *arg, const char *no, unsigned pages, struct hwg_error *err);
	int (*failed)(void *arg, const char *no, int code, const char *message,
	              struct hwg_error *err);
	int (*unconfirmed)(void *arg, const char *no, int code, const char *message,
	                   struct hwg_error *err);
	void *arg;
};

/* A certificate printer's state as device.list shows it (the printer driver's order). */
enum hwg_op_printer_state {
	HWG_OP_PRINTER_READY = 0,
	HWG_OP_PRINTER_PAPER_OUT,
	HWG_OP_PRINTER_OFFLINE,
	HWG_OP_PRINTER_ERROR,
	HWG_OP_PRINTER_BUSY,
};
/* One connected certificate printer (hwg_op_ctx.printer_list). */
struct hwg_op_printer {
	char serial[64];
	char model[64];
	int state; /* enum hwg_op_printer_state */
};

/* The live operator session a request came with (hwg_core checked it). */
struct hwg_op_session {
	int present;
	char operator_id[HWG_OPERATOR_ID_MAX + 1];
	int role; /* the operator's role */
	char terminal[HWG_TERMINAL_ID_MAX + 1];
};

/*
 * What cert.issue and cert.reprint print with (op_cert_issue.c), filled
 * by the privileged process; NULL in the context while [cert] enabled =
 * no.  The registry's key is looked up in the client registry (under the
 * state lock: prepare only).
 */
struct hwg_renderer;
struct hwg_printer;
struct hwg_op_cert {
	struct hwg_renderer *renderer; /* gateway/renderer/hwg_renderer.h */
	struct hwg_printer *printers;  /* drivers/printer/hwg_printer.h; NULL: [printer] off */
	int (*registry_key)(void *arg, const char *kid, EVP_PKEY **key, struct hwg_error *err);
	void *registry_key_arg;
	const char *city, *mayor; /* [cert] city, mayor */
	int job_timeout_ms;       /* [cert] job_timeout_ms */
};

struct hwg_op_ctx {
	/* the services, filled by the privileged process (hwg_core.c, execute) */
	const struct hwg_config *cfg;
	struct hwg_store *store; /* NULL in the run phase of HWG_OP_DEVICE operations */
	struct hwg_card_service *cards;
	struct hwg_palm *palm;
	const struct hwg_op_keys *keys;
	/* only in the run phase of HWG_OP_DEVICE operations (where store is NULL); NULL elsewhere
	 */
	const struct hwg_op_journal *journal;
	const struct hwg_op_cert *cert; /* NULL while [cert] enabled = no */
	/*
	 * The certificate printers connected now, at most max into out (*n
	 * of them); NULL while no printer driver runs (device.list then
	 * lists none).
	 */
	void (*printer_list)(void *arg, struct hwg_op_printer *out, size_t max, size_t *n);
	void *printer_list_arg;
	/*
	 * Whether a device operation of client with these request bytes is
	 * between its nonce and its audit record (request.status); called
	 * with the state lock held, as run is for operations without
	 * HWG_OP_DEVICE.
	 */
	int (*request_running)(void *arg, const char *client, const uint8_t req_hash[32]);
	void *request_running_arg;
	/* the request */
	const struct hwg_request *req;
	const struct hwg_client_entry *client;
	struct hwg_op_session session;
	int bootstrap; /* HWG_OP_BOOTSTRAP operations: no active admin operator exists */
	/* the audit record's operator: the session's, or (operator.verify) the one claimed */
	char operator_id[HWG_OPERATOR_ID_MAX + 1];
	char subject[128]; /* handler sets it when the operation concerns a resident */
	int tries_left;    /* handler sets it (>= 0) when a PIN was refused; -1 otherwise */
	/*
	 * The audit record's detail in place of the error message (empty: the
	 * message, or nothing on success): for what the audit may say and the
	 * client may not, or what a success changed.
	 */
	char audit_detail[200];
	/* State a handler keeps between its phases; freed with op_state_free after commit. */
	void *op_state;
	void (*op_state_free)(void *state);
};

/*
 * Every operation runs the same phases (priv/hwg_core.c, execute):
 *   under the state lock, in the transaction that spends the nonce:
 *     prepare (optional) — may read and check the store; a refusal here
 *       is audited in that transaction, with the nonce spent;
 *   run — the handler (for HWG_OP_DEVICE without the lock, after that
 *     transaction committed, with no store but the journal service, each
 *     of whose calls commits on its own; otherwise inside it, in a
 *     savepoint that a failure rolls back);
 *   under the lock, in the transaction that holds the audit record:
 *     commit (optional) — receives run's code and returns the final one
 *       (e.g. counts a failed verification, inserts what was enrolled);
 *       what it wrote is rolled back when it returns any other code than
 *       it received, and *result is dropped when the final code is not 0.
 * If the audit record cannot be committed, the client is told
 * audit_unavailable and any result is withheld.
 */
struct hwg_op_handlers {
	const char *name; /* as in the operation table (hwg_optable.c) */
	int (*prepare)(struct hwg_op_ctx *ctx, struct hwg_error *err);
	int (*run)(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
	int (*commit)(struct hwg_op_ctx *ctx, int rc, cbor_item_t **result, struct hwg_error *err);
};

/* The handlers of a known operation; NULL only if the two tables disagree (hwg_ops_check). */
const struct hwg_op_handlers *hwg_op_handlers(const struct hwg_op *op);
/* HWG_E_INTERNAL naming the first operation of the table without a handler, or one too many. */
int hwg_ops_check(struct hwg_error *err);

/*
 * Handlers, one file per family (op_gw.c, op_audit.c, op_card.c, op_terminal.c, op_operator.c,
 * op_request.c, op_cert.c).
 */
int hwg_op_gw_info(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
int hwg_op_device_list(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
int hwg_op_audit_verify(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
int hwg_op_audit_query(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
/* op_card.c */
int hwg_op_card_status(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
int hwg_op_card_read_info(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
int hwg_op_card_authenticate(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
int hwg_op_card_sign(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
/* op_terminal.c */
int hwg_op_terminal_pair_prepare(struct hwg_op_ctx *ctx, struct hwg_error *err);
int hwg_op_terminal_pair(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
int hwg_op_terminal_pair_commit(struct hwg_op_ctx *ctx, int rc, cbor_item_t **result,
                                struct hwg_error *err);
int hwg_op_terminal_cancel(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
/* op_operator.c */
int hwg_op_operator_enroll_prepare(struct hwg_op_ctx *ctx, struct hwg_error *err);
int hwg_op_operator_enroll(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
int hwg_op_operator_enroll_commit(struct hwg_op_ctx *ctx, int rc, cbor_item_t **result,
                                  struct hwg_error *err);
int hwg_op_operator_confirm(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
int hwg_op_operator_verify_prepare(struct hwg_op_ctx *ctx, struct hwg_error *err);
int hwg_op_operator_verify(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
int hwg_op_operator_verify_commit(struct hwg_op_ctx *ctx, int rc, cbor_item_t **result,
                                  struct hwg_error *err);
int hwg_op_operator_logout(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
int hwg_op_operator_revoke(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
int hwg_op_operator_list(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
/* op_request.c */
int hwg_op_request_status(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
/* op_cert.c */
int hwg_op_cert_status(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
int hwg_op_cert_resolve(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
int hwg_op_cert_history(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
/* op_cert_issue.c */
int hwg_op_cert_issue_prepare(struct hwg_op_ctx *ctx, struct hwg_error *err);
int hwg_op_cert_issue(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
int hwg_op_cert_reprint_prepare(struct hwg_op_ctx *ctx, struct hwg_error *err);
int hwg_op_cert_reprint(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err);
int hwg_op_cert_issue_commit(struct hwg_op_ctx *ctx, int rc, cbor_item_t **result,
                             struct hwg_error *err);

/* What cert.issue and cert.reprint share with cert.status and cert.resolve (op_cert.c). */
/* An issuance as api.cddl's issuance-result map; NULL when out of memory. */
cbor_item_t *hwg_op_issuance_item(const struct hwg_issuance *r);
/*
 * The audit record of an operation on r: its subject the resident code,
 * its detail "issuance=N state=S", or "issuance=N W -> S" when was (an
 * enum hwg_issuance_state) is not -1.  For a success: the detail replaces
 * the error message a refusal would be recorded with.
 */
void hwg_op_issuance_audit(struct hwg_op_ctx *ctx, const struct hwg_issuance *r, int was);

/* What the terminal and operator operations share (op_terminal.c). */
struct hwg_vein;
/* The "terminal" argument as a valid serial, or HWG_E_BAD_ARGS. */
int hwg_op_terminal_arg(const struct hwg_op_ctx *ctx, char out[HWG_TERMINAL_ID_MAX + 1],
                        struct hwg_error *err);
/* The terminal's paired device key (store: prepare or commit), or HWG_E_TERMINAL_UNPAIRED. */
int hwg_op_paired_key(struct hwg_op_ctx *ctx, const char *terminal,
                      uint8_t pubkey[HWG_TERMINAL_KEY_LEN], struct hwg_error *err);
/* The terminal driver, or NULL with HWG_E_UNAVAILABLE in err when [vein] enabled = no. */
struct hwg_vein *hwg_op_vein_driver(struct hwg_op_ctx *ctx, struct hwg_error *err);

#endif
