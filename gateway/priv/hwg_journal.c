/*
 * hwg_journal.c — see hwg_journal.h.  One function, durable(), takes
 * the lock, opens the transaction, runs one step of state/hwg_issuance.c
 * and commits (or rolls back what the step did); the service's calls
 * only pack their arguments for it.
 */
#include "hwg_journal.h"

#include "hwg_core.h"
#include "hwg_issuance.h"
#include "hwg_store.h"
#include "hwg_time.h"

/* The arguments of one call, whichever it is. */
struct step {
	const char *no;
	const uint8_t *bytes; /* pdf digest, seal */
	unsigned pages;
	const char *printer, *job_name, *message;
	int code;
	const struct hwg_issuance_request *rq;
	struct hwg_issuance *out;
	int *existing;
	int64_t now;
};

typedef int (*step_fn)(struct hwg_store *s, const struct step *a, struct hwg_error *err);

static int
durable(void *arg, step_fn fn, struct step *a, struct hwg_error *err)
{
	struct hwg_journal *j = arg;
	int rc;

	hwg_core_state_lock(j->core);
	a->now = hwg_now_ms();
	if ((rc = hwg_store_begin(j->store, err)) == 0) {
		if ((rc = fn(j->store, a, err)) == 0)
			rc = hwg_store_commit(j->store, err);
		else
			hwg_store_rollback(j->store);
	}
	hwg_core_state_unlock(j->core);
	return rc;
}

static int
do_reserve(struct hwg_store *s, const struct step *a, struct hwg_error *err)
{
	struct hwg_issuance_request rq = *a->rq;

	rq.now_ms = a->now;
	return hwg_issuance_reserve(s, &rq, a->out, a->existing, err);
}

static int
reserve(void *arg, const struct hwg_issuance_request *rq, struct hwg_issuance *out, int *existing,
        struct hwg_error *err)
{
	struct step a = {.rq = rq, .out = out, .existing = existing};

	return durable(arg, do_reserve, &a, err);
}

static int
do_rendered(struct hwg_store *s, const struct step *a, struct hwg_error *err)
{
	return hwg_issuance_rendered(s, a->no, a->bytes, a->pages, a->now, err);
}

static int
rendered(void *arg, const char *no, const uint8_t pdf_digest[32], unsigned pages,
         struct hwg_error *err)
{
	struct step a = {.no = no, .bytes = pdf_digest, .pages = pages};

	return durable(arg, do_rendered, &a, err);
}

static int
do_sealed(struct hwg_store *s, const struct step *a, struct hwg_error *err)
{
	return hwg_issuance_sealed(s, a->no, a->bytes, a->now, err);
}

static int
sealed(void *arg, const char *no, const uint8_t seal[64], struct hwg_error *err)
{
	struct step a = {.no = no, .bytes = seal};

	return durable(arg, do_sealed, &a, err);
}

static int
do_sent(struct hwg_store *s, const struct step *a, struct hwg_error *err)
{
	return hwg_issuance_sent(s, a->no, a->printer, a->job_name, a->now, err);
}

static int
sent(void *arg, const char *no, const char *printer, const char *job_name, struct hwg_error *err)
{
	struct step a = {.no = no, .printer = printer, .job_name = job_name};

	return durable(arg, do_sent, &a, err);
}

static int
do_printed(struct hwg_store *s, const struct step *a, struct hwg_error *err)
{
	return hwg_issuance_printed(s, a->no, a->pages, a->now, err);
}

static int
printed(void *arg, const char *no, unsigned pages, struct hwg_error *err)
{
	struct step a = {.no = no, .pages = pages};

	return durable(arg, do_printed, &a, err);
}

static int
do_failed(struct hwg_store *s, const struct step *a, struct hwg_error *err)
{
	return hwg_issuance_failed(s, a->no, a->code, a->message, a->now, err);
}

static int
failed(void *arg, const char *no, int code, const char *message, struct hwg_error *err)
{
	struct step a = {.no = no, .code = code, .message = message};

	return durable(arg, do_failed, &a, err);
}

static int
do_unconfirmed(struct hwg_store *s, const struct step *a, struct hwg_error *err)
{
	return hwg_issuance_unconfirmed(s, a->no, a->code, a->message, a->now, err);
}

static int
unconfirmed(void *arg, const char *no, int code, const char *message, struct hwg_error *err)
{
	struct step a = {.no = no, .code = code, .message = message};

	return durable(arg, do_unconfirmed, &a, err);
}

void
hwg_journal_service(struct hwg_journal *j, struct hwg_op_journal *out)
{
	*out = (struct hwg_op_journal){reserve, rendered, sealed,      sent,
	                               printed, failed,   unconfirmed, j};
}
