/*
 * hwg_ops.c — the table of operations and the roles allowed to call each.
 * The roles follow the architecture brief: maintenance sees device state
 * and health only, never personal data; only auditors query the audit.
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

static const struct hwg_op ops[] = {
    {"gw.info", ALL_ROLES, NULL, 0, hwg_op_gw_info},
    {"device.list", ALL_ROLES, NULL, 0, hwg_op_device_list},
    {"audit.verify", HWG_ROLE_BIT(HWG_ROLE_ADMIN) | HWG_ROLE_BIT(HWG_ROLE_AUDITOR), NULL, 0,
     hwg_op_audit_verify},
    {"audit.query", HWG_ROLE_BIT(HWG_ROLE_AUDITOR), audit_query_args,
     sizeof(audit_query_args) / sizeof(audit_query_args[0]), hwg_op_audit_query},
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
