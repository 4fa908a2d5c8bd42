/*
 * hwg_ops.c — the handlers of each operation, by name.  What an
 * operation is (roles, schema, flags) is in gateway/shared/hwg_optable.c,
 * which the net process checks requests against without linking any of
 * this; hwg_ops_check makes sure the two tables name the same operations.
 */
#include "hwg_ops.h"

#include <string.h>

static const struct hwg_op_handlers handlers[] = {
    {.name = "gw.info", .run = hwg_op_gw_info},
    {.name = "device.list", .run = hwg_op_device_list},
    {.name = "audit.verify", .run = hwg_op_audit_verify},
    {.name = "audit.query", .run = hwg_op_audit_query},
    {.name = "card.status", .run = hwg_op_card_status},
    {.name = "card.read_info", .run = hwg_op_card_read_info},
    {.name = "card.authenticate", .run = hwg_op_card_authenticate},
    {.name = "card.sign", .run = hwg_op_card_sign},
    {.name = "terminal.pair",
     .prepare = hwg_op_terminal_pair_prepare,
     .run = hwg_op_terminal_pair,
     .commit = hwg_op_terminal_pair_commit},
    {.name = "terminal.cancel", .run = hwg_op_terminal_cancel},
    {.name = "operator.enroll",
     .prepare = hwg_op_operator_enroll_prepare,
     .run = hwg_op_operator_enroll,
     .commit = hwg_op_operator_enroll_commit},
    {.name = "operator.confirm", .run = hwg_op_operator_confirm},
    {.name = "operator.verify",
     .prepare = hwg_op_operator_verify_prepare,
     .run = hwg_op_operator_verify,
     .commit = hwg_op_operator_verify_commit},
    {.name = "operator.logout", .run = hwg_op_operator_logout},
    {.name = "operator.revoke", .run = hwg_op_operator_revoke},
    {.name = "operator.list", .run = hwg_op_operator_list},
    {.name = "request.status", .run = hwg_op_request_status},
    {.name = "cert.status", .run = hwg_op_cert_status},
    {.name = "cert.resolve", .run = hwg_op_cert_resolve},
    {.name = "cert.history", .run = hwg_op_cert_history},
    {.name = "cert.issue",
     .prepare = hwg_op_cert_issue_prepare,
     .run = hwg_op_cert_issue,
     .commit = hwg_op_cert_issue_commit},
    {.name = "cert.reprint",
     .prepare = hwg_op_cert_reprint_prepare,
     .run = hwg_op_cert_reprint,
     .commit = hwg_op_cert_issue_commit},
};
#define N_HANDLERS (sizeof(handlers) / sizeof(handlers[0]))

const struct hwg_op_handlers *
hwg_op_handlers(const struct hwg_op *op)
{
	for (size_t i = 0; i < N_HANDLERS; i++)
		if (strcmp(handlers[i].name, op->name) == 0)
			return &handlers[i];
	return NULL;
}

int
hwg_ops_check(struct hwg_error *err)
{
	const struct hwg_op *op;
	size_t n = 0;

	for (int i = 0; (op = hwg_op_at(i)) != NULL; i++, n++) {
		const struct hwg_op_handlers *h = hwg_op_handlers(op);

		if (h == NULL || h->run == NULL)
			return hwg_error_set(err, HWG_E_INTERNAL, "operation %s has no handler",
			                     op->name);
	}
	if (n != N_HANDLERS)
		return hwg_error_set(err, HWG_E_INTERNAL,
		                     "%zu handlers for %zu operations: one names no operation",
		                     N_HANDLERS, n);
	return 0;
}
