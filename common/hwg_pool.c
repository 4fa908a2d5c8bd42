/*
 * hwg_pool.c — see hwg_pool.h.  Free threads stand in a stack, each
 * waiting on a condition of its own, so that handing over a job wakes
 * exactly the thread on top.
 */
#include "hwg_pool.h"

#include <pthread.h>
#include <stdlib.h>

struct pool_thread {
	struct hwg_pool *pool;
	pthread_t thread;
	pthread_cond_t wake; /* a job was given, or stopping */
	void (*fn)(void *);  /* the job, under the pool's lock; NULL: none */
	void *arg;
	struct pool_thread *next_free;
};

struct hwg_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed; /* a thread became free */
	struct pool_thread *threads;
	unsigned max, started;
	struct pool_thread *free_top; /* the free threads, the last freed on top */
	int stopping;
};

static void *
thread_main(void *arg)
{
	struct pool_thread *t = arg;
	struct hwg_pool *p = t->pool;
	void (*fn)(void *);

	pthread_mutex_lock(&p->lock);
	for (;;) {
		t->next_free = p->free_top;
		p->free_top = t;
		pthread_cond_signal(&p->freed);
		while (t->fn == NULL && !p->stopping)
			pthread_cond_wait(&t->wake, &p->lock);
		if ((fn = t->fn) == NULL)
			break;
		t->fn = NULL;
		pthread_mutex_unlock(&p->lock);
		fn(t->arg);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* With the lock held: one more thread, which joins the free ones; 0 or -1. */
static int
grow(struct hwg_pool *p)
{
	struct pool_thread *t = &p->threads[p->started];

	t->pool = p;
	pthread_cond_init(&t->wake, NULL);
	if (pthread_create(&t->thread, NULL, thread_main, t) != 0) {
		pthread_cond_destroy(&t->wake);
		return -1;
	}
	p->started++;
	return 0;
}

int
hwg_pool_new(unsigned max, unsigned start, struct hwg_pool **out, struct hwg_error *err)
{
	struct hwg_pool *p;

	if (max == 0 || start > max)
		return hwg_error_set(err, HWG_E_INVALID, "a pool of %u threads, %u at start", max,
		                     start);
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->threads = calloc(max, sizeof(*p->threads))) == NULL) {
		free(p);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	p->max = max;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	pthread_mutex_lock(&p->lock);
	while (p->started < start && grow(p) == 0)
		;
	pthread_mutex_unlock(&p->lock);
	if (p->started < start) {
		hwg_pool_free(p);
		return hwg_error_set(err, HWG_E_INTERNAL, "cannot start thread %u of %u", start,
		                     max);
	}
	*out = p;
	return 0;
}

int
hwg_pool_run(struct hwg_pool *p, void (*fn)(void *arg), void *arg)
{
	struct pool_thread *t;

	pthread_mutex_lock(&p->lock);
	while (p->free_top == NULL) {
		if (p->started < p->max) {
			if (grow(p) != 0) {
				pthread_mutex_unlock(&p->lock);
				return HWG_E_INTERNAL;
			}
		}
		pthread_cond_wait(&p->freed, &p->lock); /* the new one, or one finishing */
	}
	t = p->free_top;
	p->free_top = t->next_free;
	t->fn = fn;
	t->arg = arg;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void
hwg_pool_free(struct hwg_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	for (unsigned i = 0; i < p->started; i++)
		pthread_cond_signal(&p->threads[i].wake);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->started; i++) {
		pthread_join(p->threads[i].thread, NULL);
		pthread_cond_destroy(&p->threads[i].wake);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->freed);
	free(p->threads);
	free(p);
}
