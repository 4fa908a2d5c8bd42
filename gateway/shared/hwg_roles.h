/*
 * hwg_roles.h — the roles of clients (machines) and operators (people),
 * and their names on the wire, in the store and in the configuration.
 * Its own module because every gateway process needs them (the net
 * process checks a client's role, the store keeps it, operations allow
 * it) and none of them may own the others' headers.
 *
 * Five roles are both a client's and an operator's: counter, issuance,
 * admin, auditor, maintenance.  Two belong to one side only:
 *  - registry, a client role: the resident registry's key, which signs
 *    certificate documents (gateway/shared/hwg_certdoc.h) and may call
 *    no operation at all (the operation table allows it none, so any
 *    request it signs is refused forbidden);
 *  - supervisor, an operator role: the person who decides what became of
 *    an unconfirmed print and may order a reprint (cert.resolve,
 *    cert.reprint).  A supervisor's session is carried by an issuance
 *    station (a client of role issuance) and no other client.
 */
#ifndef HWG_ROLES_H
#define HWG_ROLES_H

enum hwg_role {
	HWG_ROLE_COUNTER = 0,
	HWG_ROLE_ISSUANCE,
	HWG_ROLE_ADMIN,
	HWG_ROLE_AUDITOR,
	HWG_ROLE_MAINTENANCE,
	HWG_ROLE_REGISTRY,   /* clients only: signs documents, calls nothing */
	HWG_ROLE_SUPERVISOR, /* operators only: cert.resolve, cert.reprint */
	HWG_ROLE_COUNT_
};

#define HWG_ROLE_BIT(r) (1u << (r))

/* "counter" ... -> enum; -1 if unknown. */
int hwg_role_parse(const char *name);
/* The role's name; "unknown" outside the enum. */
const char *hwg_role_name(int role);
/* 1 if a client may be registered with role (every role but supervisor). */
int hwg_role_client(int role);
/* 1 if an operator may be enrolled with role (every role but registry). */
int hwg_role_operator(int role);
/*
 * 1 if a client of client_role may carry the session of an operator of
 * operator_role: a supervisor's only on an issuance station, any other
 * operator's on any client.
 */
int hwg_role_session_allowed(int client_role, int operator_role);
/* The client roles and the operator roles as text, for messages ("counter, issuance, ..."). */
#define HWG_ROLES_CLIENT_TEXT "counter, issuance, admin, auditor, maintenance, registry"
#define HWG_ROLES_OPERATOR_TEXT "counter, issuance, admin, auditor, maintenance, supervisor"

#endif
