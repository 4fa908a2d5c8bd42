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

/*
 * What every filter of hwgwd's shares (this one, the keyholder's in
 * gateway/keyholder/): the architecture checked, any call not allowed
 * kills the whole process, no new privileges, every thread.  add_rules
 * gets the libseccomp filter (a scmp_filter_ctx) and arg and returns 0
 * or -1.  The time zone is read first: the filter may forbid reading it.
 */
int hwg_sandbox_install(int (*add_rules)(void *filter, void *arg), void *arg,
                        struct hwg_error *err);
/* Allow each call named, with any arguments (names this architecture lacks are skipped). */
int hwg_sandbox_allow(void *filter, const char *const *names, size_t n);

#endif
