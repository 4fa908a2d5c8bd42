/*
 * hwg_kh_sandbox.h — the keyholder's seccomp filter.  Entered once the
 * module, the session and the keys are open: from then on the keyholder
 * may read and write its link, and do what the PKCS#11 module needs to
 * sign, seal, open and find its token again after it went away
 * (firmware-notes/pkcs11.md, "The keyholder's filter").  Anything else
 * kills it; the privileged process audits that and starts another.
 */
#ifndef HWG_KH_SANDBOX_H
#define HWG_KH_SANDBOX_H

#include "hwg_err.h"

/* Load the filter; HWG_E_INTERNAL if it cannot be. */
int hwg_kh_sandbox_enter(struct hwg_error *err);

#endif
