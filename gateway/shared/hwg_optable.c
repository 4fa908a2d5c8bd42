/*
 * hwg_optable.c — the table of operations: names, the roles allowed to
 * call each, argument schemas and flags; everything a request is checked
 * against before it runs, and nothing that runs it (the handlers are in
 * gateway/ops/, indexed by the same names).
 *
 * The roles follow the architecture brief: maintenance sees device state
 * and health only, never personal data (card.status tells presence, type
 * and tries, nothing about the holder); only auditors query the audit;
 * only issuance stations have the resident's card sign.  Operations on a
 * resident's card need an operator session as well (HWG_OP_OPERATOR), and
 * the operator's role must be allowed just as the client's is; admins
 * pair terminals and enrol, confirm, revoke and list operators, from an
 * admin client with an admin operator's session (none exists before the
 * first admin: HWG_OP_BOOTSTRAP); any client may verify an operator, and
 * ask what became of a request of its own (request.status).  A registry
 * client (it signs certificate documents) is allowed no operation at all;
 * supervisor is an operator role only (no client has it), whose session
 * the operations that need one name in operator_roles, and which may log
 * out like any other.  An issuance station asks what became of a
 * certificate (cert.status: the handler lets only the station that asked
 * for it, or an auditor, see it); a supervisor, at such a station,
 * resolves an unconfirmed one (cert.resolve) or orders a reprint
 * (cert.reprint); an auditor lists a person's certificates (cert.history).
 */
#include "hwg_optable.h"

#include <stdint.h>
#include <string.h>

#include "hwg_ids.h"
#include "hwg_roles.h"

#define ALL_ROLES                                                                                  \
	(HWG_ROLE_BIT(HWG_ROLE_COUNTER) | HWG_ROLE_BIT(HWG_ROLE_ISSUANCE) |                        \
	 HWG_ROLE_BIT(HWG_ROLE_ADMIN) | HWG_ROLE_BIT(HWG_ROLE_AUDITOR) |                           \
	 HWG_ROLE_BIT(HWG_ROLE_MAINTENANCE))

/* Every operator role: whose session operator.logout ends. */
#define ALL_OPERATOR_ROLES (ALL_ROLES | HWG_ROLE_BIT(HWG_ROLE_SUPERVISOR))

#define N_ARGS(a) (sizeof(a) / sizeof((a)[0]))

static const struct hwg_arg_spec audit_query_args[] = {
    {"subject", HWG_ARG_TEXT, 0, 1, 128},    {"operator", HWG_ARG_TEXT, 0, 1, 64},
    {"from", HWG_ARG_UINT, 0, 0, INT64_MAX}, {"to", HWG_ARG_UINT, 0, 0, INT64_MAX},
    {"limit", HWG_ARG_UINT, 0, 1, 1000},
};

#define PERSONAL_ROLES (HWG_ROLE_BIT(HWG_ROLE_COUNTER) | HWG_ROLE_BIT(HWG_ROLE_ISSUANCE))
#define DEVICE_ROLES (PERSONAL_ROLES | HWG_ROLE_BIT(HWG_ROLE_MAINTENANCE))

/* Secrets are length-checked loosely here: the PIN rules (hwg_mn_pin_format) give the clear error.
 */
static const struct hwg_arg_spec card_status_args[] = {
    {"reader", HWG_ARG_TEXT, 1, 1, 127},
};
static const struct hwg_arg_spec card_pin_args[] = {
    {"reader", HWG_ARG_TEXT, 1, 1, 127},
    {"pin", HWG_ARG_TEXT, 1, 1, 64},
};
static const struct hwg_arg_spec card_sign_args[] = {
    {"reader", HWG_ARG_TEXT, 1, 1, 127},
    {"password", HWG_ARG_TEXT, 1, 1, 64},
    {"digest", HWG_ARG_BYTES, 1, 32, 32},
};

static const struct hwg_arg_spec terminal_args[] = {
    {"terminal", HWG_ARG_TEXT, 1, 1, HWG_TERMINAL_ID_MAX},
};
static const struct hwg_arg_spec pair_args[] = {
    {"terminal", HWG_ARG_TEXT, 1, 1, HWG_TERMINAL_ID_MAX},
    {"fingerprint", HWG_ARG_TEXT, 1, 64, 64},
};
static const struct hwg_arg_spec enroll_args[] = {
    {"terminal", HWG_ARG_TEXT, 1, 1, HWG_TERMINAL_ID_MAX},
    {"operator_id", HWG_ARG_TEXT, 1, 1, HWG_OPERATOR_ID_MAX},
    {"role", HWG_ARG_TEXT, 1, 1, HWG_OP_ROLE_ARG_MAX},
    {"valid_until", HWG_ARG_UINT, 1, 1, INT64_MAX},
};
static const struct hwg_arg_spec verify_args[] = {
    {"terminal", HWG_ARG_TEXT, 1, 1, HWG_TERMINAL_ID_MAX},
    {"operator_id", HWG_ARG_TEXT, 0, 1, HWG_OPERATOR_ID_MAX},
};
static const struct hwg_arg_spec operator_id_args[] = {
    {"operator_id", HWG_ARG_TEXT, 1, 1, HWG_OPERATOR_ID_MAX},
};
static const struct hwg_arg_spec request_status_args[] = {
    {"req", HWG_ARG_BYTES, 1, 32, 32},
};
static const struct hwg_arg_spec cert_status_args[] = {
    {"issuance_no", HWG_ARG_TEXT, 1, 1, HWG_ISSUANCE_NO_MAX},
};
static const struct hwg_arg_spec cert_resolve_args[] = {
    {"issuance_no", HWG_ARG_TEXT, 1, 1, HWG_ISSUANCE_NO_MAX},
    {"outcome", HWG_ARG_TEXT, 1, 1, 16},
    {"note", HWG_ARG_TEXT, 0, 1, HWG_ISSUANCE_TEXT_MAX},
};
static const struct hwg_arg_spec cert_history_args[] = {
    {"resident_code", HWG_ARG_TEXT, 1, HWG_RESIDENT_CODE_LEN, HWG_RESIDENT_CODE_LEN},
    {"limit", HWG_ARG_UINT, 0, 1, 1000},
};
/* a document is at most HWG_CERTDOC_MAX bytes; [api] max_body bounds the request first */
static const struct hwg_arg_spec cert_issue_args[] = {
    {"document", HWG_ARG_BYTES, 1, 1, 256 * 1024},
    {"request_id", HWG_ARG_TEXT, 1, 1, HWG_ISSUANCE_REQUEST_ID_MAX},
    {"printer", HWG_ARG_TEXT, 0, 1, 63},
};
static const struct hwg_arg_spec cert_reprint_args[] = {
    {"issuance_no", HWG_ARG_TEXT, 1, 1, HWG_ISSUANCE_NO_MAX},
    {"reason", HWG_ARG_TEXT, 1, 1, HWG_ISSUANCE_TEXT_MAX},
    {"document", HWG_ARG_BYTES, 1, 1, 256 * 1024},
    {"request_id", HWG_ARG_TEXT, 1, 1, HWG_ISSUANCE_REQUEST_ID_MAX},
    {"printer", HWG_ARG_TEXT, 0, 1, 63},
};

#define ADMIN HWG_ROLE_BIT(HWG_ROLE_ADMIN)

static const struct hwg_op ops[] = {
    {.name = "gw.info", .roles = ALL_ROLES},
    {.name = "device.list", .roles = ALL_ROLES},
    {.name = "audit.verify",
     .roles = HWG_ROLE_BIT(HWG_ROLE_ADMIN) | HWG_ROLE_BIT(HWG_ROLE_AUDITOR)},
    {.name = "audit.query",
     .roles = HWG_ROLE_BIT(HWG_ROLE_AUDITOR),
     .args = audit_query_args,
     .n_args = N_ARGS(audit_query_args)},
    {.name = "card.status",
     .roles = DEVICE_ROLES,
     .args = card_status_args,
     .n_args = N_ARGS(card_status_args),
     .flags = HWG_OP_DEVICE},
    {.name = "card.read_info",
     .roles = PERSONAL_ROLES,
     .args = card_pin_args,
     .n_args = N_ARGS(card_pin_args),
     .flags = HWG_OP_DEVICE | HWG_OP_OPERATOR},
    {.name = "card.authenticate",
     .roles = PERSONAL_ROLES,
     .args = card_pin_args,
     .n_args = N_ARGS(card_pin_args),
     .flags = HWG_OP_DEVICE | HWG_OP_OPERATOR},
    {.name = "card.sign",
     .roles = HWG_ROLE_BIT(HWG_ROLE_ISSUANCE),
     .args = card_sign_args,
     .n_args = N_ARGS(card_sign_args),
     .flags = HWG_OP_DEVICE | HWG_OP_OPERATOR},
    {.name = "terminal.pair",
     .roles = ADMIN,
     .args = pair_args,
     .n_args = N_ARGS(pair_args),
     .flags = HWG_OP_DEVICE | HWG_OP_OPERATOR | HWG_OP_BOOTSTRAP},
    {.name = "terminal.cancel",
     .roles = ALL_ROLES,
     .args = terminal_args,
     .n_args = N_ARGS(terminal_args),
     .flags = HWG_OP_DEVICE},
    {.name = "operator.enroll",
     .roles = ADMIN,
     .args = enroll_args,
     .n_args = N_ARGS(enroll_args),
     .flags = HWG_OP_DEVICE | HWG_OP_OPERATOR | HWG_OP_BOOTSTRAP},
    {.name = "operator.confirm",
     .roles = ADMIN,
     .args = operator_id_args,
     .n_args = N_ARGS(operator_id_args),
     .flags = HWG_OP_OPERATOR | HWG_OP_BOOTSTRAP},
    {.name = "operator.verify",
     .roles = ALL_ROLES,
     .args = verify_args,
     .n_args = N_ARGS(verify_args),
     .flags = HWG_OP_DEVICE},
    {.name = "operator.logout",
     .roles = ALL_ROLES,
     .operator_roles = ALL_OPERATOR_ROLES,
     .flags = HWG_OP_OPERATOR},
    {.name = "operator.revoke",
     .roles = ADMIN,
     .args = operator_id_args,
     .n_args = N_ARGS(operator_id_args),
     .flags = HWG_OP_OPERATOR},
    {.name = "operator.list", .roles = ADMIN, .flags = HWG_OP_OPERATOR},
    {.name = "request.status",
     .roles = ALL_ROLES,
     .args = request_status_args,
     .n_args = N_ARGS(request_status_args)},
    {.name = "cert.status",
     .roles = HWG_ROLE_BIT(HWG_ROLE_ISSUANCE) | HWG_ROLE_BIT(HWG_ROLE_AUDITOR),
     .args = cert_status_args,
     .n_args = N_ARGS(cert_status_args)},
    {.name = "cert.resolve",
     .roles = HWG_ROLE_BIT(HWG_ROLE_ISSUANCE),
     .operator_roles = HWG_ROLE_BIT(HWG_ROLE_SUPERVISOR),
     .args = cert_resolve_args,
     .n_args = N_ARGS(cert_resolve_args),
     .flags = HWG_OP_OPERATOR},
    {.name = "cert.issue",
     .roles = HWG_ROLE_BIT(HWG_ROLE_ISSUANCE),
     .operator_roles = HWG_ROLE_BIT(HWG_ROLE_ISSUANCE) | HWG_ROLE_BIT(HWG_ROLE_SUPERVISOR),
     .args = cert_issue_args,
     .n_args = N_ARGS(cert_issue_args),
     .flags = HWG_OP_DEVICE | HWG_OP_OPERATOR},
    {.name = "cert.reprint",
     .roles = HWG_ROLE_BIT(HWG_ROLE_ISSUANCE),
     .operator_roles = HWG_ROLE_BIT(HWG_ROLE_SUPERVISOR),
     .args = cert_reprint_args,
     .n_args = N_ARGS(cert_reprint_args),
     .flags = HWG_OP_DEVICE | HWG_OP_OPERATOR},
    {.name = "cert.history",
     .roles = HWG_ROLE_BIT(HWG_ROLE_AUDITOR),
     .args = cert_history_args,
     .n_args = N_ARGS(cert_history_args)},
};
#define N_OPS ((int)(sizeof(ops) / sizeof(ops[0])))

int
hwg_op_index(const char *name)
{
	for (int i = 0; i < N_OPS; i++)
		if (strcmp(ops[i].name, name) == 0)
			return i;
	return -1;
}

const struct hwg_op *
hwg_op_find(const char *name)
{
	int i = hwg_op_index(name);

	return i < 0 ? NULL : &ops[i];
}

const char *
hwg_op_name(int index)
{
	return index >= 0 && index < N_OPS ? ops[index].name : "unknown";
}

const struct hwg_op *
hwg_op_at(int index)
{
	return index >= 0 && index < N_OPS ? &ops[index] : NULL;
}
