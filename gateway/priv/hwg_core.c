/*
 * hwg_core.c — see hwg_core.h.  The checks run in a fixed order, cheapest
 * and least revealing first; each refusal has its own code, is audited
 * and counted, and changes nothing else.  Accepted requests run inside
 * one store transaction together with their replay-cache entry and their
 * audit record: either all of it reaches the disk or the client is told
 * audit_unavailable and nothing happened.  Requests that arrive together
 * share that transaction and its fsync (a batch, below), each in a
 * savepoint of its own.  A request that waited past its
 * time plus [api] max_age is refused as expired under the state lock, so
 * that request.status, which reads the audit and the requests running
 * under that lock too, can tell a client for good what became of it.
 */
#include "hwg_core.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwg_audit.h"
#include "hwg_card_service.h"
#include "hwg_cbor.h"
#include "hwg_certdoc.h"
#include "hwg_certs.h"
#include "hwg_clients.h"
#include "hwg_cose.h"
#include "hwg_log.h"
#include "hwg_metrics.h"
#include "hwg_operators.h"
#include "hwg_ops.h"
#include "hwg_helper.h"
#include "hwg_issuance.h"
#include "hwg_journal.h"
#include "hwg_keyholder.h"
#include "hwg_keys.h"
#include "hwg_request.h"
#include "hwg_sessions.h"
#include "hwg_store.h"
#include "hwg_text.h"
#include "hwg_time.h"
#include "hwg_palm.h"

/* A device operation between its nonce and its audit record (hwg_core_request_running). */
struct running {
	uint8_t req_hash[SHA256_DIGEST_LENGTH];
	const char *client;
	int listed;
	struct running *next;
};

/* Requests sharing one transaction (see "batches" below). */
struct batch {
	unsigned members; /* requests whose work is in it */
	unsigned waiting; /* of those, still to read rc: the last frees it */
	int done, rc;     /* committed (rc 0) or failed */
};

struct hwg_core {
	const struct hwg_config *cfg;
	struct hwg_store *store;
	pthread_mutex_t state_lock; /* the store is used by one thread at a time */
	atomic_uint entering;       /* threads waiting for state_lock */
	struct batch *batch;        /* under state_lock: the open batch, or NULL */
	pthread_cond_t committed;   /* with state_lock: a batch ended */
	struct hwg_keyholder *kh;   /* the keys: a process of their own */
	struct running *running;    /* under state_lock */
	struct hwg_clients *clients;
	struct hwg_card_service *cards;
	struct hwg_palm *veins;
	struct hwg_certs *certs; /* renderer and printers; NULL when both are off */
	struct hwg_op_keys keys; /* the handlers' key service, over kh */
	struct hwg_journal journal;
	struct hwg_op_journal journal_ops; /* the handlers' journal service, over journal */
	int64_t last_checkpoint_ms;
	/* last HSM state seen by the tick, so changes become device events */
	int hsm_state_known;
	int hsm_present;
	unsigned long hsm_reopens;
	struct hwg_front_checks front; /* hwg_core_front's */
};

struct hwg_store *
hwg_core_store(struct hwg_core *c)
{
	return c->store;
}

const struct hwg_op_keys *
hwg_core_keys(struct hwg_core *c)
{
	return &c->keys;
}

struct hwg_clients *
hwg_core_clients(struct hwg_core *c)
{
	return c->clients;
}

const struct hwg_op_journal *
hwg_core_journal(struct hwg_core *c)
{
	return &c->journal_ops;
}

struct hwg_palm *
hwg_core_palm(struct hwg_core *c)
{
	return c->veins;
}

/* ---------------------------------------------------------------- batches */

/*
 * Group commit.  A request does its work in a savepoint of the open
 * batch's transaction, then waits for the batch to commit: whoever lets
 * go of the state lock while nobody waits for it (or with the batch full)
 * commits, so requests that arrive together share one fsync, and a lone
 * request commits at once.  An answer leaves only after its batch's
 * commit returned.  A failed commit (a full disk, an I/O error) undoes the
 * whole batch and fails every request in it with audit_unavailable.
 * Every other use of the store commits the open batch first
 * (state_lock_alone) and finds no transaction open.
 */
#define BATCH_MAX 64 /* requests a batch holds at most: bounds a request's wait */

static void
state_lock(struct hwg_core *c)
{
	atomic_fetch_add(&c->entering, 1);
	pthread_mutex_lock(&c->state_lock);
	atomic_fetch_sub(&c->entering, 1);
}

/* With the lock held: end the open batch, commit its work and wake its requests; its result. */
static int
batch_commit(struct hwg_core *c)
{
	struct batch *b = c->batch;
	struct hwg_error err = {0};
	int rc;

	if (b == NULL)
		return 0;
	c->batch = NULL;
	if (!hwg_store_in_transaction(c->store))
		rc = hwg_error_set(&err, HWG_E_STORE, "the store ended the transaction");
	else
		rc = hwg_store_commit(c->store, &err);
	if (rc != 0)
		hwg_log(HWG_LOG_ERR, "audit.commit", "requests=%u result=%s msg=\"%s\"", b->members,
		        hwg_err_code(rc), err.message);
	else
		hwg_log(HWG_LOG_DEBUG, "audit.commit", "requests=%u", b->members);
	b->done = 1;
	b->rc = rc;
	pthread_cond_broadcast(&c->committed);
	if (b->waiting == 0)
		free(b);
	return rc;
}

/* The rule at every release of the lock: with nobody waiting for it, the open batch commits. */
static void
state_unlock(struct hwg_core *c)
{
	if (c->batch != NULL && atomic_load(&c->entering) == 0)
		batch_commit(c);
	pthread_mutex_unlock(&c->state_lock);
}

/* The lock, for a use of the store outside any batch: the open one commits first. */
static void
state_lock_alone(struct hwg_core *c)
{
	state_lock(c);
	batch_commit(c);
}

void
hwg_core_state_lock(struct hwg_core *c)
{
	state_lock_alone(c);
}

void
hwg_core_state_unlock(struct hwg_core *c)
{
	state_unlock(c);
}

/*
 * With the lock held: a savepoint "req" for one request in the open
 * batch, which is opened if there is none (or if the store ended the
 * last one's transaction: that batch fails).  HWG_E_AUDIT when neither
 * can be had; nothing is open then.
 */
static int
batch_join(struct hwg_core *c, struct hwg_error *err)
{
	if (c->batch != NULL && !hwg_store_in_transaction(c->store))
		batch_commit(c);
	if (c->batch == NULL) {
		if ((c->batch = calloc(1, sizeof(*c->batch))) == NULL)
			return hwg_error_set(err, HWG_E_AUDIT, "state store unavailable: out of memory");
		if (hwg_store_begin(c->store, NULL) != 0) {
			free(c->batch);
			c->batch = NULL;
			return hwg_error_set(err, HWG_E_AUDIT, "state store unavailable");
		}
	}
	if (hwg_store_savepoint(c->store, "req", NULL) != 0)
		return hwg_error_set(err, HWG_E_AUDIT, "state store unavailable");
	return 0;
}

/*
 * With the lock held: end the request's savepoint, keeping what it wrote
 * or (keep 0) undoing it.  HWG_E_STORE when the batch's transaction is
 * gone, with whatever the request wrote.
 */
static int
batch_savepoint_end(struct hwg_core *c, int keep)
{
	if (!keep)
		hwg_store_rollback_to(c->store, "req", NULL);
	if (hwg_store_release(c->store, "req", NULL) != 0 || !hwg_store_in_transaction(c->store))
		return HWG_E_STORE;
	return 0;
}

/*
 * With the lock held, after batch_savepoint_end: wait until the batch
 * holding the request's work committed; 0, or HWG_E_STORE when that
 * commit failed.  Returns with the lock held; adds the seconds it took
 * to *waited.
 */
static int
batch_wait(struct hwg_core *c, double *waited)
{
	struct batch *b = c->batch;
	double t0 = hwg_mono_seconds();
	int rc;

	if (b == NULL)
		return HWG_E_STORE;
	b->members++;
	b->waiting++;
	if (atomic_load(&c->entering) == 0 || b->members >= BATCH_MAX)
		batch_commit(c);
	while (!b->done)
		pthread_cond_wait(&c->committed, &c->state_lock);
	rc = b->rc;
	if (--b->waiting == 0)
		free(b);
	*waited += hwg_mono_seconds() - t0;
	return rc;
}

/* ---------------------------------------------------------------- signing */

static int
checkpoint_locked(struct hwg_core *c, int64_t now)
{
	struct hwg_error err = {0};
	int rc;

	/* the keyholder computes the digest from the fields: the audit key signs checkpoints only
	 */
	if ((rc = hwg_audit_checkpoint_fields(c->store, hwg_keyholder_sign_checkpoint, c->kh, now,
	                                      &err)) != 0)
		hwg_log(HWG_LOG_ERR, "audit.checkpoint", "result=%s msg=\"%s\"", hwg_err_code(rc),
		        err.message);
	else
		c->last_checkpoint_ms = now;
	return rc;
}

/* ---------------------------------------------------------------- replies */

static int
reply_build(struct hwg_core *c, const uint8_t req_hash[SHA256_DIGEST_LENGTH], int code,
            const char *message, int tries_left, cbor_item_t *result, struct hwg_reply *out)
{
	cbor_item_t *map, *e;
	unsigned char *payload = NULL;
	size_t payload_cap = 0, payload_len;
	struct hwg_error err = {0};
	char msg[sizeof(err.message)];
	int rc;

	memset(out, 0, sizeof(*out));
	/* the message may quote what the client sent: a CBOR text is UTF-8, whatever that was */
	hwg_text_escape(msg, sizeof(msg), message != NULL ? message : hwg_err_text(code), 0);
	out->code = code;
	if ((map = cbor_new_definite_map(4)) == NULL)
		return HWG_E_NOMEM;
	rc = hwg_cbor_map_put_uint(map, "v", 1) | hwg_cbor_map_put_bytes(map, "req", req_hash, 32) |
	     hwg_cbor_map_put_uint(map, "t", (uint64_t)hwg_now_ms());
	if (code == HWG_OK) {
		/* what a device or an old audit record said: escaped, if it is not UTF-8 */
		rc |= hwg_cbor_texts_to_utf8(result);
		rc |= hwg_cbor_map_put_item(map, "ok", cbor_incref(result));
	} else if ((e = cbor_new_definite_map(tries_left >= 0 ? 3 : 2)) == NULL) {
		rc = -1;
	} else {
		rc |= hwg_cbor_map_put_text(e, "code", hwg_err_code(code)) |
		      hwg_cbor_map_put_text(e, "msg", msg);
		if (tries_left >= 0)
			rc |= hwg_cbor_map_put_uint(e, "tries", (uint64_t)tries_left);
		rc |= hwg_cbor_map_put_item(map, "err", e);
	}
	payload_len = rc == 0 ? cbor_serialize_alloc(map, &payload, &payload_cap) : 0;
	cbor_decref(&map);
	if (payload_len == 0) {
		free(payload);
		return HWG_E_NOMEM;
	}
	/* the keyholder signs only what is shaped as a response (gateway/keyholder/README.md) */
	rc = hwg_cose_sign1_encode(hwg_keyholder_response_alg(c->kh), payload, payload_len,
	                           hwg_keyholder_sign_response, c->kh, &out->body, &out->len, &err);
	free(payload);
	if (rc != 0) {
		hwg_log(HWG_LOG_ERR, "response.sign", "result=%s msg=\"%s\"", hwg_err_code(rc),
		        err.message);
		out->body = NULL;
		out->len = 0;
		return HWG_E_HSM;
	}
	return 0;
}

/* ---------------------------------------------------------------- audit */

/* SHA-256 of zero bytes: the "req" of a refusal made before any body byte was read. */
static const uint8_t empty_sha256[SHA256_DIGEST_LENGTH] = {
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};

/*
 * The request's record.  read: the request's bytes were read, so its
 * hash goes into the record (request.status finds it by that).  A
 * transport's refusal made before the body (too_large, origin_not_allowed,
 * HTTP framing; the net process passes it with the hash of zero bytes)
 * has none, nor has an empty message: there is no request to find.
 */
static int
audit_event(struct hwg_core *c, const struct hwg_peer *peer, const struct hwg_verdict *v, int read,
            int code, const char *detail)
{
	char safe[256];
	struct hwg_audit_event ev = {
	    .time_ms = hwg_now_ms(),
	    .client = v->have_req ? v->req.client_id : "",
	    .peer_uid = peer->uid,
	    .transport = peer->transport,
	    .operation = v->have_req ? v->req.op : "",
	    .operator_id = v->operator_id,
	    .subject = v->subject,
	    .result = hwg_err_code(code),
	    .detail = hwg_text_escape(safe, sizeof(safe), detail != NULL ? detail : "", 0),
	    .req_hash = read && memcmp(v->req_hash, empty_sha256, sizeof(empty_sha256)) != 0
	                    ? v->req_hash
	                    : NULL,
	};
	struct hwg_error err = {0};
	int rc;

	if ((rc = hwg_audit_append(c->store, &ev, NULL, &err)) != 0)
		hwg_log(HWG_LOG_ERR, "audit.append", "result=%s msg=\"%s\"", hwg_err_code(rc),
		        err.message);
	return rc;
}

static void
checkpoint_if_due(struct hwg_core *c)
{
	if (hwg_audit_uncheckpointed(c->store) >= c->cfg->checkpoint_every)
		checkpoint_locked(c, hwg_now_ms());
}

/*
 * The response to a request could not be signed (the HSM gone), so it is
 * not sent: the request's own record says what ran, this one that its
 * answer never left the gateway (operation gateway.response_withheld,
 * result hsm_unavailable, detail "op=OP answer=CODE").
 */
static void
audit_withheld(struct hwg_core *c, const struct hwg_peer *peer, const struct hwg_verdict *v,
               int code)
{
	char detail[96];
	struct hwg_audit_event ev = {
	    .time_ms = hwg_now_ms(),
	    .client = v->have_req ? v->req.client_id : "",
	    .peer_uid = peer->uid,
	    .transport = peer->transport,
	    .operation = "gateway.response_withheld",
	    .operator_id = v->operator_id,
	    .subject = v->subject,
	    .result = hwg_err_code(HWG_E_HSM),
	    .detail = detail,
	    .req_hash = v->have_req ? v->req_hash : NULL,
	};
	struct hwg_error err = {0};

	snprintf(detail, sizeof(detail), "op=%s answer=%s", v->have_req ? v->req.op : "-",
	         hwg_err_code(code));
	state_lock_alone(c);
	if (hwg_audit_append(c->store, &ev, NULL, &err) != 0)
		hwg_log(HWG_LOG_ERR, "audit.append", "event=%s msg=\"%s\"", ev.operation,
		        err.message);
	state_unlock(c);
}

/*
 * Audit a refusal on its own (no state changes with it), in a batch;
 * read as audit_event's.  0 once the record is durable.
 */
static int
audit_refusal(struct hwg_core *c, const struct hwg_peer *peer, const struct hwg_verdict *v,
              int read, int code, const char *detail, double *commit_s)
{
	struct hwg_error err = {0};
	int rc;

	state_lock(c);
	if ((rc = batch_join(c, &err)) == 0) {
		rc = audit_event(c, peer, v, read, code, detail);
		if (batch_savepoint_end(c, rc == 0) != 0)
			rc = HWG_E_STORE;
		else if (rc == 0) {
			checkpoint_if_due(c);
			rc = batch_wait(c, commit_s);
		}
	}
	state_unlock(c);
	return rc;
}

/* ---------------------------------------------------------------- execution */

/* run inside the request's transaction; a failure rolls back what it wrote. */
static int
run_in_savepoint(struct hwg_core *c, struct hwg_op_ctx *ctx, const struct hwg_op_handlers *op,
                 cbor_item_t **result, struct hwg_error *err)
{
	int rc;

	if ((rc = hwg_store_savepoint(c->store, "op", err)) != 0)
		return rc;
	rc = op->run(ctx, result, err);
	if (rc != 0)
		hwg_store_rollback_to(c->store, "op", NULL);
	hwg_store_release(c->store, "op", NULL);
	return rc;
}

/* The commit phase (hwg_ops.h): kept only when it confirms the code it received. */
static int
commit_phase(struct hwg_core *c, struct hwg_op_ctx *ctx, const struct hwg_op_handlers *op, int rc,
             cbor_item_t **result, struct hwg_error *err)
{
	int final;

	if (op->commit == NULL)
		return rc;
	if ((final = hwg_store_savepoint(c->store, "op_commit", err)) != 0)
		return final;
	final = op->commit(ctx, rc, result, err);
	if (final != rc)
		hwg_store_rollback_to(c->store, "op_commit", NULL);
	hwg_store_release(c->store, "op_commit", NULL);
	return final;
}

/* Bootstrap mode: no admin operator is active, so none can open a session. */
static int
bootstrap_mode(struct hwg_core *c, int64_t now, int *yes, struct hwg_error *err)
{
	int64_t admins = 0;
	int rc = hwg_operator_count_active(c->store, HWG_ROLE_ADMIN, now, &admins, err);

	*yes = rc == 0 && admins == 0;
	return rc;
}

/*
 * The operator session (api.cddl's order: after the schema, before the
 * replay check).  HWG_E_SESSION for a missing one where the operation
 * needs it and for any that is not live; HWG_E_FORBIDDEN when its
 * operator's role may not call the operation (hwg_op.operator_roles, or
 * the client roles), or may not work on this client (a supervisor's
 * session on anything but an issuance station: hwg_role_session_allowed).  The session's operator
 * is recorded in v even when refused, for the audit.
 */
static int
check_session(struct hwg_core *c, struct hwg_verdict *v, struct hwg_op_ctx *ctx, int64_t now,
              struct hwg_error *err)
{
	const struct hwg_op *op = v->op;
	struct hwg_session_rec r;
	int need = (op->flags & HWG_OP_OPERATOR) != 0, rc;

	if (need && (op->flags & HWG_OP_BOOTSTRAP) &&
	    (rc = bootstrap_mode(c, now, &ctx->bootstrap, err)) != 0)
		return rc;
	if (v->req.session_len == 0)
		return need && !ctx->bootstrap
		           ? hwg_error_set(
		                 err, HWG_E_SESSION,
		                 "%s needs an operator session (operator.verify opens one)",
		                 op->name)
		           : 0;
	rc = hwg_session_lookup(c->store, v->req.session, v->req.session_len, v->req.client_id, now,
	                        c->cfg->operator_session_idle_s * 1000, &r, err);
	memcpy(v->operator_id, r.operator_id, sizeof(v->operator_id));
	if (rc != 0)
		return rc;
	if (need && ((op->operator_roles ? op->operator_roles : op->roles) &
	             HWG_ROLE_BIT(r.operator_role)) == 0)
		return hwg_error_set(err, HWG_E_FORBIDDEN,
		                     "operator \"%s\" (role %s) may not call %s", r.operator_id,
		                     hwg_role_name(r.operator_role), op->name);
	if (!hwg_role_session_allowed(v->client.role, r.operator_role))
		return hwg_error_set(err, HWG_E_FORBIDDEN,
		                     "operator \"%s\" (role %s) works on an issuance station only, "
		                     "not on client \"%s\" (role %s)",
		                     r.operator_id, hwg_role_name(r.operator_role), v->client.id,
		                     hwg_role_name(v->client.role));
	ctx->session.present = 1;
	ctx->session.role = r.operator_role;
	memcpy(ctx->session.operator_id, r.operator_id, sizeof(ctx->session.operator_id));
	memcpy(ctx->session.terminal, r.terminal, sizeof(ctx->session.terminal));
	memcpy(ctx->operator_id, r.operator_id, sizeof(ctx->operator_id));
	return 0;
}

/* A refusal of the request's checks: nothing changes, not even the nonce. */
static int
is_refusal(int rc)
{
	return rc == HWG_E_EXPIRED || rc == HWG_E_SESSION || rc == HWG_E_FORBIDDEN ||
	       rc == HWG_E_REPLAY;
}

/*
 * With the state lock held: join the batch (the request's savepoint),
 * check its operator session, spend its nonce and record the session's
 * use.  HWG_E_AUDIT when no savepoint could be had (nothing to roll
 * back); otherwise the first failure, in the open savepoint.
 */
static int
begin_request(struct hwg_core *c, struct hwg_verdict *v, struct hwg_op_ctx *ctx,
              struct hwg_error *err)
{
	int64_t keep = 2 * c->cfg->clock_skew_ms + 1000, now = hwg_now_ms();
	int rc;

	if ((rc = batch_join(c, err)) != 0)
		return rc;
	/* under the lock: request.status sees a request either started or never to start */
	if (now - v->req.time_ms > c->cfg->max_age_ms)
		return hwg_error_set(
		    err, HWG_E_EXPIRED,
		    "the request, %lld ms old, waited past [api] max_age (%lld ms): "
		    "it was not started",
		    (long long)(now - v->req.time_ms), (long long)c->cfg->max_age_ms);
	if ((rc = check_session(c, v, ctx, now, err)) != 0 ||
	    (rc = hwg_store_nonce_record(c->store, v->req.client_id, v->req.nonce, v->req.nonce_len,
	                                 now, keep, err)) != 0)
		return rc;
	if (ctx->session.present)
		rc = hwg_session_touch(c->store, v->req.session, v->req.session_len, now, err);
	return rc;
}

static const char *
detail_of(const struct hwg_op_ctx *ctx, int code, const struct hwg_error *err)
{
	if (ctx->audit_detail[0] != '\0')
		return ctx->audit_detail;
	return code == HWG_OK ? "" : err->message;
}

/*
 * With the lock held and the request's savepoint open: the commit phase
 * (when run ran), the audit record, the batch's commit.  Returns the code
 * to answer with; a result is withheld when the record cannot be made
 * durable.
 */
static int
finish(struct hwg_core *c, const struct hwg_peer *peer, struct hwg_verdict *v,
       struct hwg_op_ctx *ctx, int rc, int ran, cbor_item_t **result, double *commit_s,
       struct hwg_error *err)
{
	int arc;

	if (ran)
		rc = commit_phase(c, ctx, hwg_op_handlers(v->op), rc, result, err);
	if (rc != 0 && *result != NULL)
		cbor_decref(result);
	memcpy(v->subject, ctx->subject, sizeof(v->subject));
	if (ctx->operator_id[0] != '\0')
		memcpy(v->operator_id, ctx->operator_id, sizeof(v->operator_id));
	v->tries_left = ctx->tries_left;
	arc = audit_event(c, peer, v, 1, rc, detail_of(ctx, rc, err));
	if (batch_savepoint_end(c, arc == 0) != 0 && arc == 0)
		arc = HWG_E_STORE;
	if (arc == 0) {
		checkpoint_if_due(c);
		arc = batch_wait(c, commit_s);
	}
	if (arc != 0) {
		if (*result != NULL)
			cbor_decref(result);
		v->tries_left = -1;
		return hwg_error_set(
		    err, HWG_E_AUDIT,
		    v->op->flags & HWG_OP_DEVICE
		        ? "the audit record could not be made durable; the result "
		          "is withheld"
		        : "the audit record could not be made durable; nothing was "
		          "done");
	}
	return rc;
}

/*
 * A device handler runs without the state lock (a slow card or a palm
 * that takes seconds must not stall other requests): the batch holding
 * its nonce commits first (it does not wait for others), so a replay
 * never reaches the device, and it joins a batch again when it returns.
 * Meanwhile it has no store, only the journal service, whose calls take
 * the lock themselves.  Called and returning with the lock held: 0 with
 * the request's savepoint open and *rc the handler's code; HWG_E_AUDIT,
 * with none open, when either could not be had.
 */
static int
run_unlocked(struct hwg_core *c, struct hwg_op_ctx *ctx, const struct hwg_op_handlers *op,
             cbor_item_t **result, int *rc, struct hwg_error *err)
{
	if (batch_savepoint_end(c, 1) != 0 || batch_commit(c) != 0)
		return hwg_error_set(err, HWG_E_AUDIT, "state store unavailable");
	ctx->store = NULL;
	ctx->journal = &c->journal_ops;
	state_unlock(c);
	*rc = op->run(ctx, result, err);
	state_lock(c);
	ctx->store = c->store;
	ctx->journal = NULL;
	if (batch_join(c, err) != 0) {
		if (*result != NULL)
			cbor_decref(result);
		return hwg_error_set(
		    err, HWG_E_AUDIT,
		    "the audit record could not be made durable; the result is withheld");
	}
	return 0;
}

/* With the state lock held: r (the caller's) is listed as running until running_end. */
static void
running_begin(struct hwg_core *c, struct running *r, const struct hwg_verdict *v)
{
	memcpy(r->req_hash, v->req_hash, sizeof(r->req_hash));
	r->client = v->req.client_id;
	r->next = c->running;
	r->listed = 1;
	c->running = r;
}

static void
running_end(struct hwg_core *c, struct running *r)
{
	if (!r->listed)
		return;
	for (struct running **p = &c->running; *p != NULL; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	r->listed = 0;
}

int
hwg_core_request_running(struct hwg_core *c, const char *client, const uint8_t req_hash[32])
{
	for (const struct running *r = c->running; r != NULL; r = r->next)
		if (strcmp(r->client, client) == 0 &&
		    memcmp(r->req_hash, req_hash, sizeof(r->req_hash)) == 0)
			return 1;
	return 0;
}

/* hwg_core_request_running for the handlers' context. */
static int
request_running(void *arg, const char *client, const uint8_t req_hash[32])
{
	return hwg_core_request_running(arg, client, req_hash);
}

/*
 * The one path of an accepted request: nonce, prepare, run, commit and
 * audit record as hwg_ops.h describes.  Returns the code to answer with;
 * *result is set only when that code is HWG_OK.
 */
static int
execute(struct hwg_core *c, const struct hwg_peer *peer, struct hwg_verdict *v,
        cbor_item_t **result, double *commit_s, struct hwg_error *err)
{
	struct hwg_op_ctx ctx = {.cfg = c->cfg,
	                         .store = c->store,
	                         .cards = c->cards,
	                         .palm = c->veins,
	                         .cert = hwg_certs_service(c->certs),
	                         .printer_list =
	                             hwg_certs_printing(c->certs) ? hwg_certs_printer_list : NULL,
	                         .printer_list_arg = c->certs,
	                         .keys = &c->keys,
	                         .request_running = request_running,
	                         .request_running_arg = c,
	                         .req = &v->req,
	                         .client = &v->client,
	                         .tries_left = -1};
	const struct hwg_op_handlers *op = hwg_op_handlers(v->op);
	struct running me = {.listed = 0};
	int rc, arc, ran = 0;

	state_lock(c);
	if ((rc = begin_request(c, v, &ctx, err)) == HWG_E_AUDIT)
		goto unlock;
	if (is_refusal(rc)) {
		/* nothing it did stays, not even the nonce: only its record */
		hwg_store_rollback_to(c->store, "req", NULL);
		arc = audit_event(c, peer, v, 1, rc, err->message);
		if (batch_savepoint_end(c, arc == 0) != 0 || arc != 0 || batch_wait(c, commit_s) != 0)
			rc = hwg_error_set(err, HWG_E_AUDIT, "audit unavailable");
		goto unlock;
	}
	if (rc == 0 && op->prepare != NULL)
		rc = op->prepare(&ctx, err);
	if (rc == 0 && (v->op->flags & HWG_OP_DEVICE)) {
		running_begin(c, &me, v); /* from its nonce's commit to its record's */
		if ((arc = run_unlocked(c, &ctx, op, result, &rc, err)) != 0) {
			rc = arc;
			goto unlock;
		}
		ran = 1;
	} else if (rc == 0) {
		rc = run_in_savepoint(c, &ctx, op, result, err);
		ran = 1;
	}
	rc = finish(c, peer, v, &ctx, rc, ran, result, commit_s, err);
unlock:
	running_end(c, &me);
	state_unlock(c);
	if (ctx.op_state_free != NULL)
		ctx.op_state_free(ctx.op_state);
	return rc;
}

/* Seconds as a stage's microseconds (struct hwg_priv_stages). */
static uint32_t
stage_us(double seconds)
{
	return seconds <= 0 ? 0 : seconds >= 4000 ? UINT32_MAX : (uint32_t)(seconds * 1e6);
}

int
hwg_core_execute(struct hwg_core *c, const struct hwg_peer *peer, struct hwg_verdict *v,
                 struct hwg_reply *out)
{
	struct hwg_error err = {0};
	cbor_item_t *result = NULL;
	double t0 = hwg_mono_seconds(), t1, commit_s = 0;
	int rc = v->code;

	if (rc == 0) {
		rc = execute(c, peer, v, &result, &commit_s, &err);
	} else {
		hwg_error_set(&err, rc, "%s", v->message);
		if (audit_refusal(c, peer, v, 1, rc, err.message, &commit_s) != 0)
			rc = hwg_error_set(&err, HWG_E_AUDIT, "the refusal could not be audited");
	}
	if (rc != 0) {
		char msg[sizeof(err.message)];

		hwg_log(HWG_LOG_INFO, "refused", "transport=%s client=%s op=%s code=%s msg=\"%s\"",
		        peer->transport, v->have_req ? v->req.client_id : "-",
		        v->have_req ? v->req.op : "-", hwg_err_code(rc),
		        hwg_text_escape(msg, sizeof(msg), err.message,
		                        HWG_TEXT_QUOTES | HWG_TEXT_CONTROLS));
	}
	t1 = hwg_mono_seconds();
	if (reply_build(c, v->req_hash, rc, err.message, v->tries_left, result, out) != 0) {
		audit_withheld(c, peer, v, rc);
		rc = HWG_E_HSM;
	}
	out->stages.execute_us = stage_us(t1 - t0 - commit_s);
	out->stages.commit_us = stage_us(commit_s);
	out->stages.sign_us = stage_us(hwg_mono_seconds() - t1);
	if (result != NULL)
		cbor_decref(&result);
	return rc == HWG_E_HSM ? HWG_E_HSM : 0;
}

int
hwg_core_handle(struct hwg_core *c, const struct hwg_peer *peer, const uint8_t *msg, size_t len,
                struct hwg_reply *out)
{
	struct hwg_verdict v;
	int rc;

	hwg_verify(c->cfg, c->clients, peer, msg, len, &v);
	rc = hwg_core_execute(c, peer, &v, out);
	hwg_verdict_clear(&v);
	return rc;
}

static int
execute_verdict(void *arg, const struct hwg_peer *peer, struct hwg_verdict *v, const uint8_t *msg,
                size_t len, struct hwg_reply *out)
{
	(void)msg; /* checked in this process: nothing to check again */
	(void)len;
	return hwg_core_execute(arg, peer, v, out);
}

void
hwg_core_front(struct hwg_core *c, struct hwg_metrics *metrics, struct hwg_front *out)
{
	c->front = (struct hwg_front_checks){c->cfg, c->clients, metrics, execute_verdict, c};
	hwg_front_init(out, &c->front);
}

/* ---------------------------------------------------------------- life cycle */

/* A record of something the gateway or a device did, not a client. */
static int
audit_own_event(struct hwg_core *c, const char *transport, const char *event, const char *result,
                const char *detail)
{
	struct hwg_audit_event ev = {
	    .time_ms = hwg_now_ms(),
	    .client = "",
	    .peer_uid = -1,
	    .transport = transport,
	    .operation = event,
	    .operator_id = "",
	    .subject = "",
	    .result = result,
	    .detail = detail,
	};
	struct hwg_error err = {0};
	int rc;

	state_lock_alone(c);
	rc = hwg_audit_append(c->store, &ev, NULL, &err);
	state_unlock(c);
	if (rc != 0)
		hwg_log(HWG_LOG_ERR, "audit.append", "event=%s result=%s msg=\"%s\"", event,
		        hwg_err_code(rc), err.message);
	return rc;
}

static int
gateway_event(struct hwg_core *c, const char *event, const char *detail)
{
	if (c->store == NULL)
		return 0;
	return audit_own_event(c, "gateway", event, "ok", detail);
}

static int
device_event(struct hwg_core *c, const char *event, const char *result, const char *detail)
{
	return audit_own_event(c, "device", event, result, detail);
}

/* Reader monitor callback (its own thread): each change is a device event. */
static void
pcsc_event(void *arg, const char *event, const char *reader)
{
	struct hwg_core *c = arg;
	char op[64];
	int down = strcmp(event, "pcsc.down") == 0;

	snprintf(op, sizeof(op), "device.%s", event);
	device_event(c, op, down ? hwg_err_code(HWG_E_PCSC_UNAVAILABLE) : "ok", reader);
	hwg_log(down ? HWG_LOG_WARN : HWG_LOG_INFO, op, "reader=\"%s\"", reader);
}

/* Terminal watcher callback (its own thread): plugged in or out, a device event. */
static void
vein_event(void *arg, const char *event, const char *terminal)
{
	struct hwg_core *c = arg;
	char op[64];

	snprintf(op, sizeof(op), "device.%s", event);
	device_event(c, op, "ok", terminal);
	hwg_log(HWG_LOG_INFO, op, "terminal=\"%s\"", terminal);
}

/* The renderer's and the printers' events: a renderer that ended is the gateway's, a printer's a
 * device's. */
static void
certs_event(void *arg, const char *event, const char *detail)
{
	struct hwg_core *c = arg;

	if (strncmp(event, "gateway.", 8) == 0)
		gateway_event(c, event, detail);
	else
		device_event(c, event, "ok", detail);
}

static int
open_veins(struct hwg_core *c, struct hwg_error *err)
{
	int rc;

	/* the gallery is read under the lock; the watcher, whose events take it, starts after */
	state_lock_alone(c);
	rc = hwg_palm_open(c->cfg, c->keys.template_open, c->keys.arg, c->store, &c->veins, err);
	state_unlock(c);
	if (rc == 0)
		rc = hwg_palm_start(c->veins, c->cfg, vein_event, c, err);
	return rc;
}

struct recovery_audit {
	struct hwg_core *c;
	int64_t now;
};

/* Each issuance a restart found in flight: one record, in the recovery's transaction. */
static int
audit_recovered(void *arg, const struct hwg_issuance *r, int was, struct hwg_error *err)
{
	struct recovery_audit *ra = arg;
	char detail[HWG_ISSUANCE_NO_MAX + 64];
	struct hwg_audit_event ev = {
	    .time_ms = ra->now,
	    .client = r->client_id,
	    .peer_uid = -1,
	    .transport = "gateway",
	    .operation = "cert.recovered",
	    .operator_id = "",
	    .subject = r->subject,
	    .result = r->failure_code,
	    .detail = detail,
	};

	snprintf(detail, sizeof(detail), "issuance=%s %s -> %s", r->no,
	         hwg_issuance_state_name(was), hwg_issuance_state_name(r->state));
	return hwg_audit_append(ra->c->store, &ev, NULL, err);
}

/*
 * At start, before any request: issuances a stopped gateway left in
 * flight are failed (nothing was sent) or held as unconfirmed (sent),
 * each with its audit record, all in one transaction.
 */
static int
recover_issuances(struct hwg_core *c, struct hwg_error *err)
{
	struct recovery_audit ra = {c, hwg_now_ms()};
	struct hwg_issuance_recovery n;
	int rc;

	state_lock_alone(c);
	if ((rc = hwg_store_begin(c->store, err)) == 0) {
		rc = hwg_issuance_recover(c->store, ra.now, audit_recovered, &ra, &n, err);
		if (rc == 0)
			rc = hwg_store_commit(c->store, err);
		else
			hwg_store_rollback(c->store);
	}
	state_unlock(c);
	if (rc != 0)
		return hwg_error_set(err, HWG_E_AUDIT, "cannot recover the issuance journal: %s",
		                     err->message);
	if (n.failed + n.unconfirmed > 0)
		hwg_log(n.unconfirmed > 0 ? HWG_LOG_WARN : HWG_LOG_INFO, "cert.recovered",
		        "failed=%zu unconfirmed=%zu", n.failed, n.unconfirmed);
	return 0;
}

/* A keyholder ended (hwg_keyholder_reap, from the tick): audited, as the net process's end is. */
static void
keyholder_ended(void *arg, const struct hwg_keyholder_end *end)
{
	struct hwg_core *c = arg;

	hwg_log(HWG_LOG_WARN, "keyholder.ended", "%s", end->detail);
	gateway_event(c, "gateway.keyholder_restart", end->detail);
}

/*
 * The keyholder, the one process that loads the PKCS#11 module; with
 * [vein] enabled its token must hold the template key (it reports
 * whether it found one).
 */
static int
open_keyholder(struct hwg_core *c, struct hwg_error *err)
{
	const struct hwg_config *cfg = c->cfg;
	struct hwg_keyholder_config kc = {NULL,
	                                  cfg->hsm_module,
	                                  cfg->hsm_token,
	                                  cfg->hsm_pin_file,
	                                  cfg->hsm_response_key,
	                                  cfg->hsm_audit_key,
	                                  cfg->hsm_template_key,
	                                  cfg->hsm_seal_key,
	                                  cfg->hsm_signers};
	struct hwg_keyholder_info info;
	char exe[4096];
	int rc;

	if ((rc = hwg_helper_path(cfg->libexec_dir, "hwgw-keyholder", exe, sizeof(exe), err)) != 0)
		return rc;
	kc.exe = exe;
	if ((rc = hwg_keyholder_start(&kc, keyholder_ended, c, &c->kh, err)) != 0 ||
	    (rc = hwg_keyholder_info(c->kh, &info, err)) != 0)
		return rc;
	if (cfg->vein_enabled && !info.template_key)
		return hwg_error_set(
		    err, HWG_E_CONFIG,
		    "[vein] enabled = yes needs the AES-256 template key \"%s\" in "
		    "token \"%s\" (scripts/hsm-init makes it; [hsm] template_key "
		    "names it), or set [vein] enabled = no",
		    cfg->hsm_template_key, cfg->hsm_token);
	hwg_keys_service(c->kh, &c->keys);
	hwg_log(HWG_LOG_INFO, "keyholder.ready", "pid=%ld template_key=%s seal_key=%s",
	        hwg_keyholder_pid(c->kh), info.template_key ? "yes" : "no",
	        info.seal_key ? "yes" : "no");
	return 0;
}

int
hwg_core_open(const struct hwg_config *cfg, struct hwg_core **out, struct hwg_error *err)
{
	struct hwg_core *c = calloc(1, sizeof(*c));
	size_t n_clients = 0;
	int rc;

	if (c == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	c->cfg = cfg;
	pthread_mutex_init(&c->state_lock, NULL);
	pthread_cond_init(&c->committed, NULL);
	if ((c->clients = hwg_clients_new()) == NULL) {
		rc = hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = hwg_store_open(cfg->state_dir, 1, &c->store, err)) != 0)
		goto fail;
	c->journal = (struct hwg_journal){c->store, c};
	hwg_journal_service(&c->journal, &c->journal_ops);
	if ((rc = open_keyholder(c, err)) != 0)
		goto fail;
	if ((rc = hwg_store_load_clients(c->store, c->clients, &n_clients, err)) != 0)
		goto fail;
	if ((rc = gateway_event(c, "gateway.start", HWG_VERSION)) != 0) {
		rc = hwg_error_set(err, HWG_E_AUDIT, "cannot write the audit log in %s",
		                   cfg->state_dir);
		goto fail;
	}
	if ((rc = recover_issuances(c, err)) != 0)
		goto fail;
	if ((rc = hwg_card_service_open(cfg, pcsc_event, c, &c->cards, err)) != 0 ||
	    (rc = open_veins(c, err)) != 0 ||
	    (rc = hwg_certs_open(cfg, certs_event, c, hwg_certdoc_registry_key, c->clients,
	                         &c->certs, err)) != 0)
		goto fail;
	c->last_checkpoint_ms = hwg_now_ms();
	hwg_log(HWG_LOG_INFO, "core.open",
	        "gateway_id=%s clients=%zu state_dir=%s vein=%s gallery=%zu", cfg->gateway_id,
	        n_clients, cfg->state_dir, cfg->vein_enabled ? "yes" : "no",
	        hwg_palm_gallery_count(c->veins));
	*out = c;
	return 0;
fail:
	hwg_core_close(c);
	return rc;
}

int
hwg_core_gateway_event(struct hwg_core *c, const char *event, const char *detail)
{
	return gateway_event(c, event, detail);
}

void
hwg_core_close(struct hwg_core *c)
{
	if (c == NULL)
		return;
	/* first: their monitor threads write device events */
	hwg_certs_close(c->certs);
	hwg_palm_close(c->veins);
	hwg_card_service_close(c->cards);
	if (c->store != NULL && c->kh != NULL) {
		gateway_event(c, "gateway.stop", "");
		state_lock_alone(c);
		checkpoint_locked(c, hwg_now_ms());
		state_unlock(c);
	}
	hwg_keyholder_stop(c->kh); /* after the final checkpoint, which it signs */
	hwg_store_close(c->store);
	hwg_clients_free(c->clients);
	pthread_mutex_destroy(&c->state_lock);
	pthread_cond_destroy(&c->committed);
	free(c);
}

int
hwg_core_reload_clients(struct hwg_core *c, struct hwg_error *err)
{
	size_t n = 0;
	int rc;

	state_lock_alone(c);
	rc = hwg_store_load_clients(c->store, c->clients, &n, err);
	state_unlock(c);
	if (rc == 0) {
		char detail[32];

		snprintf(detail, sizeof(detail), "clients=%zu", n);
		gateway_event(c, "gateway.reload", detail);
		hwg_log(HWG_LOG_INFO, "clients.reload", "clients=%zu", n);
	}
	return rc;
}

/* Audit HSM state changes (token gone or back, session re-opened) as device events. */
static void
watch_hsm(struct hwg_core *c)
{
	struct hwg_keyholder_info ti;
	struct hwg_error err = {0};
	char detail[96];
	int present;

	present = hwg_keyholder_info(c->kh, &ti, &err) == 0 && ti.present;
	if (!present)
		ti.session_reopens = c->hsm_reopens;
	if (c->hsm_state_known && present == c->hsm_present && ti.session_reopens == c->hsm_reopens)
		return;
	if (c->hsm_state_known) {
		snprintf(detail, sizeof(detail), "token %s; session re-opened %lu times",
		         present ? "present" : "absent", ti.session_reopens);
		device_event(c, "device.hsm", present ? "ok" : hwg_err_code(HWG_E_HSM), detail);
		hwg_log(present ? HWG_LOG_INFO : HWG_LOG_ERR, "device.hsm",
		        "token=%s present=%d "
		        "reopens=%lu",
		        c->cfg->hsm_token, present, ti.session_reopens);
	}
	c->hsm_state_known = 1;
	c->hsm_present = present;
	c->hsm_reopens = ti.session_reopens;
}

#define SWEEP_MAX 64 /* sessions ended per tick; the rest wait a second */

struct sweep_state {
	struct hwg_core *c;
	int64_t now;
	struct hwg_error *err;
};

/* Each session the sweep ended: one audit record, in the sweep's transaction. */
static int
audit_session_end(void *arg, const struct hwg_session_rec *r, int why)
{
	struct sweep_state *sw = arg;
	char detail[96];
	struct hwg_audit_event ev = {
	    .time_ms = sw->now,
	    .client = r->client_id,
	    .peer_uid = -1,
	    .transport = "gateway",
	    .operation = "operator.session_end",
	    .operator_id = r->operator_id,
	    .subject = "",
	    .result = "ok",
	    .detail = detail,
	};

	snprintf(detail, sizeof(detail), "reason=%s terminal=%s", hwg_session_end_name(why),
	         r->terminal);
	return hwg_audit_append(sw->c->store, &ev, NULL, sw->err);
}

/*
 * End the sessions that expired (idle, absolute limit, their operator's
 * valid_until passed, operator revoked), each with its audit record; all
 * or none of a sweep commits.  With the state lock held.
 */
static void
sweep_sessions(struct hwg_core *c, int64_t now)
{
	struct hwg_error err = {0};
	struct sweep_state sw = {c, now, &err};
	size_t ended = 0;
	int rc;

	if ((rc = hwg_store_begin(c->store, &err)) == 0) {
		rc = hwg_session_sweep(c->store, now, c->cfg->operator_session_idle_s * 1000,
		                       SWEEP_MAX, audit_session_end, &sw, &ended, &err);
		if (rc == 0 && ended > 0)
			rc = hwg_store_commit(c->store, &err);
		else
			hwg_store_rollback(c->store);
	}
	if (rc != 0) {
		hwg_log(HWG_LOG_ERR, "operator.session_end", "result=%s msg=\"%s\"",
		        hwg_err_code(rc), err.message);
		return;
	}
	if (ended > 0) {
		hwg_log(HWG_LOG_INFO, "operator.session_end", "sessions=%zu", ended);
		checkpoint_if_due(c);
	}
}

void
hwg_core_tick(struct hwg_core *c)
{
	int64_t now = hwg_now_ms();

	hwg_keyholder_reap(c->kh);
	watch_hsm(c);

	state_lock_alone(c);
	sweep_sessions(c, now);
	if (now - c->last_checkpoint_ms >= c->cfg->checkpoint_interval_s * 1000) {
		if (hwg_audit_uncheckpointed(c->store) > 0)
			checkpoint_locked(c, now);
		else
			c->last_checkpoint_ms = now;
	}
	state_unlock(c);
}
