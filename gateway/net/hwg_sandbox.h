/*
 * hwg_sandbox.h — the seccomp filter of hwgwd's net process.
 *
 * Entered once the process is set up (listening sockets inherited,
 * configuration read, client registry received, transports started):
 * from then on it may only move bytes over descriptors it already has,
 * accept connections, start threads, wait and allocate.  Anything else
 * (opening a file, making a socket, exec, ptrace...) kills the process;
 * the privileged process audits that and starts a fresh one.
 */
#ifndef HWG_SANDBOX_H
#define HWG_SANDBOX_H

#include "hwg_err.h"

/* Load the filter on every thread of the process; HWG_E_INTERNAL if it cannot be. */
int hwg_sandbox_enter(struct hwg_error *err);
/* How many system calls the filter allows (for the log and the README). */
unsigned hwg_sandbox_allowed(void);

#endif
