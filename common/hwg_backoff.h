/*
 * hwg_backoff.h — when to start again a helper process that ended.  The
 * privileged process restarts the net process and the keyholder by one
 * rule: a process that ends within HWG_BACKOFF_STABLE_MS of its start is
 * replaced at once the first time, then after 1 s, 2 s, 4 s ... up to
 * HWG_BACKOFF_MAX_MS, so that one that dies at every start (a bad
 * library, a filter that forbids a call it needs, a token that refuses
 * the PIN) does not spin the CPU and flood the audit.  One that ran
 * HWG_BACKOFF_STABLE_MS resets the delay.  Pure: the caller reads the
 * (monotonic) clock and keeps the state.
 */
#ifndef HWG_BACKOFF_H
#define HWG_BACKOFF_H

#include <stdint.h>

#define HWG_BACKOFF_STABLE_MS 10000
#define HWG_BACKOFF_FIRST_MS 1000
#define HWG_BACKOFF_MAX_MS 30000

struct hwg_backoff {
	int64_t started_ms; /* the process's start */
	int64_t backoff_ms; /* the delay after its next quick end, 0 none yet */
};

/* The process was started at now_ms. */
void hwg_backoff_started(struct hwg_backoff *b, int64_t now_ms);
/* It ended at now_ms: the delay before starting the next one (0: at once). */
int64_t hwg_backoff_ended(struct hwg_backoff *b, int64_t now_ms);

#endif
