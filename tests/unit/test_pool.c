/*
 * test_pool.c — common/hwg_pool.h: jobs run on threads that outlive
 * them, the thread freed last takes the next job, no more than the
 * maximum run at once (the caller waits), new threads start only when
 * none is free, and freeing the pool lets running jobs finish.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "hwg_pool.h"
#include "hwg_test.h"

struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int open;
};

static struct gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
static atomic_int running, most, finished;
static pthread_t ran_on[64];

static void
gate_set(int open)
{
	pthread_mutex_lock(&gate.lock);
	gate.open = open;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.lock);
}

/* A job that records its thread and, while the gate is shut, holds it. */
static void
held_job(void *arg)
{
	int n = atomic_fetch_add(&running, 1) + 1, m;

	while ((m = atomic_load(&most)) < n && !atomic_compare_exchange_weak(&most, &m, n))
		;
	ran_on[(long)arg] = pthread_self();
	pthread_mutex_lock(&gate.lock);
	while (!gate.open)
		pthread_cond_wait(&gate.cond, &gate.lock);
	pthread_mutex_unlock(&gate.lock);
	atomic_fetch_sub(&running, 1);
	atomic_fetch_add(&finished, 1);
}

static void
wait_finished(int n)
{
	for (int i = 0; i < 2000 && atomic_load(&finished) < n; i++)
		usleep(1000);
}

static void
reset(int open)
{
	atomic_store(&running, 0);
	atomic_store(&most, 0);
	atomic_store(&finished, 0);
	gate_set(open);
}

static void
test_bad_sizes(void)
{
	struct hwg_error err = {0};
	struct hwg_pool *p = NULL;

	CHECK_EQ_INT(hwg_pool_new(0, 0, &p, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_pool_new(2, 3, &p, &err), HWG_E_INVALID);
	CHECK(p == NULL);
	hwg_pool_free(NULL);
}

/* One job after another: the same warm thread each time, not a new one per job. */
static void
test_last_freed_takes_the_next(void)
{
	struct hwg_error err = {0};
	struct hwg_pool *p = NULL;

	reset(1);
	CHECK_EQ_INT(hwg_pool_new(8, 0, &p, &err), 0);
	for (long i = 0; i < 20; i++) {
		CHECK_EQ_INT(hwg_pool_run(p, held_job, (void *)i), 0);
		wait_finished((int)i + 1);
		usleep(2000); /* back among the free ones */
	}
	CHECK_EQ_INT(atomic_load(&finished), 20);
	for (int i = 1; i < 20; i++)
		CHECK(pthread_equal(ran_on[i], ran_on[0]));
	hwg_pool_free(p);
}

static atomic_int fourth_returned;

static void *
fourth_main(void *arg)
{
	int rc = hwg_pool_run(arg, held_job, (void *)3L);

	atomic_store(&fourth_returned, rc == 0 ? 1 : -1);
	return NULL;
}

/* At the maximum the caller waits; the jobs run on distinct threads, never more at once. */
static void
test_at_most_max(void)
{
	struct hwg_error err = {0};
	struct hwg_pool *p = NULL;
	pthread_t t;

	reset(0);
	atomic_store(&fourth_returned, 0);
	CHECK_EQ_INT(hwg_pool_new(3, 3, &p, &err), 0);
	for (long i = 0; i < 3; i++)
		CHECK_EQ_INT(hwg_pool_run(p, held_job, (void *)i), 0);
	for (int i = 0; i < 2000 && atomic_load(&running) < 3; i++)
		usleep(1000);
	CHECK_EQ_INT(atomic_load(&running), 3);
	CHECK(!pthread_equal(ran_on[0], ran_on[1]) && !pthread_equal(ran_on[1], ran_on[2]) &&
	      !pthread_equal(ran_on[0], ran_on[2]));
	CHECK_EQ_INT(pthread_create(&t, NULL, fourth_main, p), 0);
	usleep(50000);
	CHECK_EQ_INT(atomic_load(&fourth_returned), 0); /* all three busy: it waits */
	gate_set(1);
	pthread_join(t, NULL);
	CHECK_EQ_INT(atomic_load(&fourth_returned), 1);
	wait_finished(4);
	CHECK_EQ_INT(atomic_load(&finished), 4);
	CHECK_EQ_INT(atomic_load(&most), 3);
	hwg_pool_free(p);
}

static void *
open_later(void *arg)
{
	usleep(50000);
	gate_set(1);
	return arg;
}

/* Freeing the pool waits for the job that runs; its end is not cut short. */
static void
test_free_lets_jobs_finish(void)
{
	struct hwg_error err = {0};
	struct hwg_pool *p = NULL;
	pthread_t t;

	reset(0);
	CHECK_EQ_INT(hwg_pool_new(2, 0, &p, &err), 0);
	CHECK_EQ_INT(hwg_pool_run(p, held_job, (void *)0L), 0);

	for (int i = 0; i < 2000 && atomic_load(&running) < 1; i++)
		usleep(1000);
	CHECK_EQ_INT(pthread_create(&t, NULL, open_later, NULL), 0);
	hwg_pool_free(p); /* the gate opens 50 ms into this */
	CHECK_EQ_INT(atomic_load(&finished), 1);
	pthread_join(t, NULL);
}

int
main(void)
{
	HWG_RUN(test_bad_sizes);
	HWG_RUN(test_last_freed_takes_the_next);
	HWG_RUN(test_at_most_max);
	HWG_RUN(test_free_lets_jobs_finish);
	return HWG_TEST_END();
}
