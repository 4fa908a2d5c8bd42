/*
 * hwg_seccomp.h — what every seccomp filter of hwgwd's processes shares
 * (the net process's, gateway/net/hwg_sandbox.c; the keyholder's,
 * gateway/keyholder/hwg_kh_sandbox.c), as OpenSSH keeps its filter in one
 * place: the architecture checked, any call not allowed kills the whole
 * process, no new privileges, every thread.  A library of its own
 * (hwg_seccomp), so that only the processes with a filter link libseccomp.
 */
#ifndef HWG_SECCOMP_H
#define HWG_SECCOMP_H

#include <stddef.h>

#include "hwg_err.h"

/*
 * add_rules gets the libseccomp filter (a scmp_filter_ctx) and arg and
 * returns 0 or -1.  The time zone is read first: the filter may forbid
 * reading it.  HWG_E_INTERNAL if the filter cannot be loaded.
 */
int hwg_sandbox_install(int (*add_rules)(void *filter, void *arg), void *arg,
                        struct hwg_error *err);
/* Allow each call named, with any arguments (names this architecture lacks are skipped). */
int hwg_sandbox_allow(void *filter, const char *const *names, size_t n);

#endif
