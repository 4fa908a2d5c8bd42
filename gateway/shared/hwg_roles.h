/*
 * hwg_roles.h — the roles of clients (machines) and operators
 * (people), and their names on the wire, in the store and in the
 * configuration.  Its own module because every gateway process needs
 * them (the net process checks a client's role, the store keeps it,
 * operations allow it) and none of them may own the others' headers.
 */
#ifndef HWG_ROLES_H
#define HWG_ROLES_H

enum hwg_role {
	HWG_ROLE_COUNTER = 0,
	HWG_ROLE_ISSUANCE,
	HWG_ROLE_ADMIN,
	HWG_ROLE_AUDITOR,
	HWG_ROLE_MAINTENANCE,
	HWG_ROLE_REGISTRY,
	HWG_ROLE_SUPERVISOR,
	HWG_ROLE_COUNT_
};

#define HWG_ROLE_BIT(r) (1u << (r))

/* "counter" ... -> enum; -1 if unknown. */
int hwg_role_parse(const char *name);
/* The role's name; "unknown" outside the enum. */
const char *hwg_role_name(int role);

#endif
