/*
 * hwg_front.h — what a transport hands a client's bytes to.  In hwgwd
 * that is the net process's link to the privileged process
 * (net/hwgw_net.c: verify here, execute there); in tests and fuzzers it
 * may be the privileged side in the same process (hwg_core_front).  The
 * transports know nothing else of the gateway.
 */
#ifndef HWG_FRONT_H
#define HWG_FRONT_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_verify.h"

struct hwg_front {
	/*
	 * One received message: 0 with out->body the signed response
	 * (success or refusal); HWG_E_HSM (out->body NULL) when no response
	 * could be signed, and the transport sends none.
	 */
	int (*handle)(void *arg, const struct hwg_peer *peer, const uint8_t *msg, size_t len,
	              struct hwg_reply *out);
	/*
	 * A message the transport could not hand over (over the size limit,
	 * disallowed origin): audited, and answered with a signed error whose
	 * "req" hashes the bytes received (none).  Returns as handle.
	 */
	int (*refuse)(void *arg, const struct hwg_peer *peer, int code, const char *message,
	              struct hwg_reply *out);
	void *arg;
	struct hwg_metrics *metrics; /* what /metrics shows; may be NULL */
};

#endif
