/*
 * reg_hsm.h — the registry's keys in an HSM (the document key, the My
 * Number key's sealing key): one PKCS#11 session opened from the
 * reg_p11_key a caller configured, every setting checked in one place.
 */
#ifndef REG_HSM_H
#define REG_HSM_H

#include "hwg_err.h"
#include "hwg_p11.h"
#include "hwgw_registry.h"

/*
 * A logged-in session on key's token (*p, the caller's to close).
 * HWG_E_CONFIG, naming what (e.g. "registry key"), when a setting is
 * missing; the driver's codes otherwise.
 */
int reg_hsm_open(const struct reg_p11_key *key, const char *what, struct hwg_p11 **p,
                 struct hwg_error *err);

#endif
