/*
 * reg_send.h — the outbox sender: delivers the queued identity-information
 * notifications to the CS over HTTP, in update-sequence order, each marked
 * delivered only on the CS's acknowledgement (registry/reg_send.c).  Part
 * of the hwgw-registry command (`send --to URL`), not of the library: only
 * the command links libcurl.
 */
#ifndef REG_SEND_H
#define REG_SEND_H

#include <stdint.h>

#include "hwgw_registry.h"

struct reg_send_opts {
	const char *url; /* the CS's notice endpoint, http://host:port/notice */
	int until_empty; /* return when the outbox is empty (else poll forever) */
	int poll_ms;     /* how often an empty outbox is looked at again */
	int timeout_ms;  /* one delivery's time limit */
};

struct reg_send_stats {
	long delivered, failed_attempts;
};

/*
 * Deliver until the outbox is empty (opts->until_empty) or forever.  A
 * notice is retried, after 0 s, 1 s, 2 s, 4 s ... up to 30 s
 * (common/hwg_backoff.h), until the CS acknowledges it with "ack SEQ";
 * the next is not sent before.  Stops with the error only when the
 * register fails.
 */
int reg_send_run(struct hwgw_registry *r, const struct reg_send_opts *opts,
                 struct reg_send_stats *st, struct hwg_error *err);

#endif
