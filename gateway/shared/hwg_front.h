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

#include "hwg_metrics.h"
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

/*
 * Where a checked request goes: the net process sends it over the link,
 * the privileged side in one process (tests, fuzzers) executes it.  A
 * refusal the transport made arrives as a verdict with that code, no
 * request and no bytes.  Returns as hwg_front.handle.
 */
typedef int (*hwg_verdict_fn)(void *arg, const struct hwg_peer *peer, struct hwg_verdict *v,
                              const uint8_t *msg, size_t len, struct hwg_reply *out);

struct hwg_front_checks {
	const struct hwg_config *cfg;
	struct hwg_clients *clients;
	struct hwg_metrics *metrics; /* may be NULL */
	hwg_verdict_fn then;
	void *arg;
};

/*
 * A front that runs hwg_verify on each message, hands the verdict to
 * checks->then and records the outcome in checks->metrics; checks must
 * outlive the front.
 */
void hwg_front_init(struct hwg_front *front, struct hwg_front_checks *checks);

#endif
