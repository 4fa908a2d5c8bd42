/*
 * hwg_optable.h — what each operation of the API is, as far as checking
 * a request needs to know: its name, the roles that may call it, the
 * schema of its arguments and its flags.  The net process checks every
 * request against it and the privileged process checks again; neither
 * needs the handlers for that (gateway/ops/hwg_ops.h has them, found by
 * the same name).
 */
#ifndef HWG_OPTABLE_H
#define HWG_OPTABLE_H

#include <stddef.h>

#include "hwg_schema.h"

/* operator.enroll's "role" argument: at most this many bytes (role names are shorter) */
#define HWG_OP_ROLE_ARG_MAX 16

/*
 * HWG_OP_DEVICE: the handler talks to a device and may take seconds, so
 * run is called outside the state lock (and must not use the store); the
 * replay-cache entry is committed before it starts and the audit record
 * after it ends.
 */
#define HWG_OP_DEVICE 0x1u
/*
 * HWG_OP_OPERATOR: the request must carry a live operator session of this
 * client whose operator's role is among the operation's roles.  Any
 * operation given a session checks it (and records its operator); only
 * these need one.
 */
#define HWG_OP_OPERATOR 0x2u
/*
 * HWG_OP_BOOTSTRAP (with HWG_OP_OPERATOR): the session is not needed while
 * no active admin operator exists, so the first admin can be enrolled and
 * confirmed; the handler's context tells it (hwg_op_ctx.bootstrap).
 */
#define HWG_OP_BOOTSTRAP 0x4u

struct hwg_op {
	const char *name;
	unsigned roles; /* HWG_ROLE_BIT() of each client role allowed to call it */
	/*
	 * HWG_OP_OPERATOR: HWG_ROLE_BIT() of each operator role whose session
	 * it takes; 0 means the same roles as the client's (roles).  An
	 * operation an issuance station calls with a supervisor's session
	 * says roles = issuance, operator_roles = supervisor.
	 */
	unsigned operator_roles;
	const struct hwg_arg_spec *args;
	size_t n_args;
	unsigned flags; /* HWG_OP_* */
};

const struct hwg_op *hwg_op_find(const char *name);
/* Index of a known operation (stable within a build), -1 if unknown. */
int hwg_op_index(const char *name);
const char *hwg_op_name(int index);
/* The operation at index (0 up), NULL past the last: for walking the table. */
const struct hwg_op *hwg_op_at(int index);

#endif
