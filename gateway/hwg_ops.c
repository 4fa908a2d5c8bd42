/*
 * hwg_ops.c — the table of operations and the roles allowed to call each.
 * The roles follow the architecture brief: maintenance sees device state
 * and health only, never personal data (card.status tells presence, type
 * and tries, nothing about the holder); only auditors query the audit;
 * only issuance stations have the resident's card sign.
 */
#include "hwg_ops.h"

#include <string.h>

#include "hwg_store.h"

#define ALL_ROLES                                                                                  \
	(HWG_ROLE_BIT(HWG_ROLE_COUNTER) | HWG_ROLE_BIT(HWG_ROLE_ISSUANCE) |                        \
	 HWG_ROLE_BIT(HWG_ROLE_ADMIN) | HWG_ROLE_BIT(HWG_ROLE_AUDITOR) |                           \
	 HWG_ROLE_BIT(HWG_ROLE_MAINTENANCE))

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
#define N_ARGS(a) (sizeof(a) / sizeof((a)[0]))

static const struct hwg_op ops[] = {
    {"gw.info", ALL_ROLES, NULL, 0, hwg_op_gw_info, 0},
    {"device.list", ALL_ROLES, NULL, 0, hwg_op_device_list, 0},
    {"audit.verify", HWG_ROLE_BIT(HWG_ROLE_ADMIN) | HWG_ROLE_BIT(HWG_ROLE_AUDITOR), NULL, 0,
     hwg_op_audit_verify, 0},
    {"audit.query", HWG_ROLE_BIT(HWG_ROLE_AUDITOR), audit_query_args,
     sizeof(audit_query_args) / sizeof(audit_query_args[0]), hwg_op_audit_query, 0},
    {"card.status", DEVICE_ROLES, card_status_args, N_ARGS(card_status_args), hwg_op_card_status,
     HWG_OP_DEVICE},
    {"card.read_info", PERSONAL_ROLES, card_pin_args, N_ARGS(card_pin_args), hwg_op_card_read_info,
     HWG_OP_DEVICE},
    {"card.authenticate", PERSONAL_ROLES, card_pin_args, N_ARGS(card_pin_args),
     hwg_op_card_authenticate, HWG_OP_DEVICE},
    {"card.sign", HWG_ROLE_BIT(HWG_ROLE_ISSUANCE), card_sign_args, N_ARGS(card_sign_args),
     hwg_op_card_sign, HWG_OP_DEVICE},
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
