/*
 * hwg_roles.c — role names, and which roles clients and operators may
 * have (see hwg_roles.h).
 */
#include "hwg_roles.h"

#include <string.h>

static const char *const role_names[HWG_ROLE_COUNT_] = {
    "counter", "issuance", "admin", "auditor", "maintenance", "registry", "supervisor"};

int
hwg_role_parse(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < HWG_ROLE_COUNT_; i++)
		if (strcmp(name, role_names[i]) == 0)
			return i;
	return -1;
}

const char *
hwg_role_name(int role)
{
	return role >= 0 && role < HWG_ROLE_COUNT_ ? role_names[role] : "unknown";
}

int
hwg_role_client(int role)
{
	return role >= 0 && role < HWG_ROLE_COUNT_ && role != HWG_ROLE_SUPERVISOR;
}

int
hwg_role_operator(int role)
{
	return role >= 0 && role < HWG_ROLE_COUNT_ && role != HWG_ROLE_REGISTRY;
}

int
hwg_role_session_allowed(int client_role, int operator_role)
{
	if (!hwg_role_client(client_role) || !hwg_role_operator(operator_role))
		return 0;
	return operator_role != HWG_ROLE_SUPERVISOR || client_role == HWG_ROLE_ISSUANCE;
}
