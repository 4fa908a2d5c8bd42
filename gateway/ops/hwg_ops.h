/*
 * hwg_ops.h — the operation table: where the API meets the devices.
 *
 * Each operation names the roles that may call it, the schema of its
 * arguments, and a handler.  hwg_core checks role and schema before the
 * handler runs, and runs it inside the state transaction that also holds
 * its audit record.  Handlers build a CBOR result (api.cddl) or return an
 * error with a message; they never see transport details beyond the peer.
 */
#ifndef HWG_OPS_H
#define HWG_OPS_H

#include <cbor.h>

#include "hwg_err.h"
#include "hwg_operators.h"
#include "hwg_optable.h"
#include "hwg_request.h"
#include "hwg_roles.h"

struct hwg_core;
struct hwg_client_entry;

/* The live operator session a request came with (hwg_core checked it). */
struct hwg_op_session {
	int present;
	char operator_id[HWG_OPERATOR_ID_MAX + 1];
	int role; /* the operator's role */
	char terminal[HWG_TERMINAL_ID_MAX + 1];
};

struct hwg_op_ctx {
	struct hwg_core *core;
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
 * Every operation runs the same phases (hwg_core.c, execute):
 *   under the state lock, in the transaction that spends the nonce:
 *     prepare (optional) — may read and check the store; a refusal here
 *       is audited in that transaction, with the nonce spent;
 *   run — the handler (for HWG_OP_DEVICE without the lock, after that
 *     transaction committed; otherwise inside it, in a savepoint that a
 *     failure rolls back);
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
 * op_request.c).
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
