/*
 * hwg_pool.h — threads that outlive their jobs, so that no thread is
 * made per request.  A job runs on a free thread of the pool; the thread
 * freed last takes the next one, so a load of N at once keeps N threads
 * warm and the others' stacks are never touched (a queue that woke any
 * free thread grew a process's memory stack by stack).  With none free,
 * a new thread starts while there are fewer than the pool's maximum;
 * at the maximum the caller waits for one.  Thread-safe.
 */
#ifndef HWG_POOL_H
#define HWG_POOL_H

#include "hwg_err.h"

struct hwg_pool;

/*
 * A pool of at most max threads (1 or more), start of them started now.
 * HWG_E_INTERNAL when one of those could not be started.
 */
int hwg_pool_new(unsigned max, unsigned start, struct hwg_pool **out, struct hwg_error *err);

/*
 * Run fn(arg) on a thread of the pool, waiting while all max are busy.
 * 0, or HWG_E_INTERNAL when no thread was free and none could be
 * started: fn was not run, and arg is still the caller's.
 */
int hwg_pool_run(struct hwg_pool *p, void (*fn)(void *arg), void *arg);

/* Let every running job finish, end the threads and free the pool; accepts NULL. */
void hwg_pool_free(struct hwg_pool *p);

#endif
