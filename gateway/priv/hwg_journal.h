/*
 * hwg_journal.h — the handlers' journal service (ops/hwg_ops.h, struct
 * hwg_op_journal) over the privileged process's store and state lock:
 * each issuance transition a device operation's run phase records is
 * committed in a transaction of its own, under the lock every other use
 * of the store takes, before the call returns.  Its own module so that
 * hwg_core.c only hands over the store and the lock.
 */
#ifndef HWG_JOURNAL_H
#define HWG_JOURNAL_H

#include "hwg_ops.h"

struct hwg_core;
struct hwg_store;

/* What the service works on; both outlive it. */
struct hwg_journal {
	struct hwg_store *store;
	struct hwg_core *core; /* its state lock, taken by every call, so never held by the caller */
};

/* Fill out with the service over j (j must outlive out). */
void hwg_journal_service(struct hwg_journal *j, struct hwg_op_journal *out);

#endif
