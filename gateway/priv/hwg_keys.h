/*
 * hwg_keys.h — the operations' key service (ops/hwg_ops.h, struct
 * hwg_op_keys) over the keyholder process (gateway/keyholder/): public
 * keys, the token's state, templates sealed and opened with the template
 * key, certificates' codes and PDFs sealed with the seal key.  The privileged process holds no key
 * and no PKCS#11 module; every call here is one request to the keyholder, and a keyholder that is
 * gone answers HWG_E_HSM.
 */
#ifndef HWG_KEYS_H
#define HWG_KEYS_H

#include "hwg_keyholder.h"
#include "hwg_ops.h"

/* The key service over kh, which must outlive every use of *out. */
void hwg_keys_service(struct hwg_keyholder *kh, struct hwg_op_keys *out);

#endif
