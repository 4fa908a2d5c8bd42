/*
 * hwg_p11keys.h — the operations' key service (ops/hwg_ops.h, struct
 * hwg_op_keys) over the privileged process's own PKCS#11 session: public
 * keys, the token's state, and templates sealed and opened with the
 * template key.  Its own file so that the handlers never name the HSM and
 * a keyholder process can take its place by filling the same struct.
 */
#ifndef HWG_P11KEYS_H
#define HWG_P11KEYS_H

#include "hwg_ops.h"

struct hwg_p11;
struct hwg_p11_key;

/* The session and keys the service uses; all owned by the caller, and by p11 for the keys. */
struct hwg_p11keys {
	struct hwg_p11 *p11;
	struct hwg_p11_key *response;
	struct hwg_p11_key *audit;
	struct hwg_p11_key *tmpl; /* NULL when [vein] enabled = no */
};

/* The key service over ks, which must outlive every use of *out. */
void hwg_p11keys_service(struct hwg_p11keys *ks, struct hwg_op_keys *out);

#endif
