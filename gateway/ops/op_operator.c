/*
 * op_operator.c — operators: operator.enroll, operator.confirm,
 * operator.verify, operator.logout, operator.revoke and operator.list.
 *
 * The palm is captured outside the state lock (HWG_OP_DEVICE) between a
 * prepare phase that checks the store — the operator exists, is active,
 * is not locked, the terminal is paired — and a commit phase that writes
 * the outcome in the transaction of its audit record: a failed
 * verification counted (a lockout at [operator] max_failures in a row),
 * a session opened, an operator inserted.  Every capture is signed by the
 * terminal's paired key over a fresh nonce (drivers/vein), so only
 * quality, liveness and the match are judged here.  Templates leave the
 * HSM unsealed only into wiped buffers; scores go to the audit, never to
 * the client.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_clients.h"
#include "hwg_match.h"
#include "hwg_operators.h"
#include "hwg_ops.h"
#include "hwg_schema.h"
#include "hwg_secret.h"
#include "hwg_sessions.h"
#include "hwg_store.h"
#include "hwg_time.h"
#include "hwg_vein.h"
#include "hwg_palm.h"

#define SESSION_TOKEN_LEN 32
#define ENROLL_CAPTURES 3

static int
nomem(struct hwg_error *err)
{
	return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
}

/* A sealed template of operator id opened by the key service (hwg_templates.h's rules). */
static int
template_open(const struct hwg_op_ctx *ctx, const char *id, const uint8_t *blob, size_t blob_len,
              int8_t tmpl[HWG_MATCH_DIM], struct hwg_error *err)
{
	return ctx->keys->template_open(ctx->keys->arg, id, blob, blob_len, tmpl, err);
}

/* The "operator_id" argument, valid; 0 if absent (*present = 0). */
static int
operator_arg(const struct hwg_op_ctx *ctx, char out[HWG_OPERATOR_ID_MAX + 1], int *present,
             struct hwg_error *err)
{
	*present = hwg_args_text(ctx->req->args, "operator_id", out, HWG_OPERATOR_ID_MAX + 1);
	if (*present && !hwg_operator_id_valid(out))
		return hwg_error_set(
		    err, HWG_E_BAD_ARGS,
		    "\"operator_id\" must be 1-64 characters of A-Z a-z 0-9 . _ -");
	if (!*present)
		out[0] = '\0';
	return 0;
}

/* The operator named, or HWG_E_UNKNOWN_OPERATOR. */
static int
operator_get(struct hwg_op_ctx *ctx, const char *id, struct hwg_operator_rec *o,
             struct hwg_error *err)
{
	int rc = hwg_operator_get(ctx->store, id, o, err);

	if (rc == HWG_E_NOT_FOUND)
		return hwg_error_set(err, HWG_E_UNKNOWN_OPERATOR, "operator \"%s\" is not enrolled",
		                     id);
	return rc;
}

/* One capture judged against [vein] min_quality and min_liveness; what names it in messages. */
static int
capture_judged(struct hwg_op_ctx *ctx, struct hwg_vein *v, const char *terminal,
               const uint8_t pubkey[HWG_TERMINAL_KEY_LEN], const char *what,
               struct hwg_vein_capture *cap, struct hwg_error *err)
{
	const struct hwg_config *cfg = ctx->cfg;
	int rc = hwg_vein_capture(v, terminal, pubkey, cfg->vein_capture_timeout_ms, cap, err);

	if (rc != 0)
		return rc;
	if (cap->quality < cfg->vein_min_quality)
		return hwg_error_set(err, HWG_E_CAPTURE_QUALITY,
		                     "%s: quality %u is below %d; present the palm again", what,
		                     cap->quality, cfg->vein_min_quality);
	if (cap->liveness < cfg->vein_min_liveness)
		return hwg_error_set(err, HWG_E_LIVENESS,
		                     "%s: liveness %u is below %d; not accepted as a living palm",
		                     what, cap->liveness, cfg->vein_min_liveness);
	return 0;
}

/* ---------------------------------------------------------------- operator.verify */

struct verify_state {
	char terminal[HWG_TERMINAL_ID_MAX + 1];
	uint8_t pubkey[HWG_TERMINAL_KEY_LEN];
	int claimed;                               /* operator_id was given */
	char operator_id[HWG_OPERATOR_ID_MAX + 1]; /* claimed, or found by identification */
	uint8_t *sealed;                           /* the claimed operator's template */
	size_t sealed_len;
};

static void
verify_state_free(void *p)
{
	struct verify_state *vs = p;

	if (vs == NULL)
		return;
	free(vs->sealed);
	hwg_wipe(vs, sizeof(*vs));
	free(vs);
}

/* A supervisor's session is opened on an issuance station only (hwg_roles.h). */
static int
session_allowed(const struct hwg_op_ctx *ctx, const struct hwg_operator_rec *o,
                struct hwg_error *err)
{
	if (hwg_role_session_allowed(ctx->client->role, o->role))
		return 0;
	return hwg_error_set(err, HWG_E_FORBIDDEN,
	                     "operator \"%s\" (role %s) works on an issuance station only, not on "
	                     "client \"%s\" (role %s)",
	                     o->id, hwg_role_name(o->role), ctx->client->id,
	                     hwg_role_name(ctx->client->role));
}

static int
verify_claimed(struct hwg_op_ctx *ctx, struct verify_state *vs, struct hwg_error *err)
{
	struct hwg_operator_rec o;
	int rc;

	if ((rc = operator_get(ctx, vs->operator_id, &o, err)) != 0)
		return rc;
	if ((rc = hwg_operator_usable(&o, hwg_now_ms(), err)) == 0 &&
	    (rc = session_allowed(ctx, &o, err)) == 0) {
		vs->sealed = o.tmpl;
		vs->sealed_len = o.tmpl_len;
		o.tmpl = NULL;
	}
	hwg_operator_rec_clear(&o);
	return rc;
}

int
hwg_op_operator_verify_prepare(struct hwg_op_ctx *ctx, struct hwg_error *err)
{
	struct verify_state *vs = calloc(1, sizeof(*vs));
	int rc;

	if (vs == NULL)
		return nomem(err);
	ctx->op_state = vs;
	ctx->op_state_free = verify_state_free;
	if ((rc = hwg_op_terminal_arg(ctx, vs->terminal, err)) != 0 ||
	    (rc = operator_arg(ctx, vs->operator_id, &vs->claimed, err)) != 0)
		return rc;
	/* every refusal from here on is audited with the operator claimed */
	memcpy(ctx->operator_id, vs->operator_id, sizeof(ctx->operator_id));
	if (!vs->claimed && !ctx->cfg->vein_identify)
		return hwg_error_set(err, HWG_E_BAD_ARGS,
		                     "\"operator_id\" is required: this gateway does not identify "
		                     "operators 1:N ([vein] identify = no)");
	if (vs->claimed && (rc = verify_claimed(ctx, vs, err)) != 0)
		return rc;
	return hwg_op_paired_key(ctx, vs->terminal, vs->pubkey, err);
}

/* 1:1: the claimed operator's template opened and scored against the capture. */
static int
match_claimed(struct hwg_op_ctx *ctx, struct verify_state *vs, const int8_t probe[HWG_MATCH_DIM],
              struct hwg_error *err)
{
	double threshold = ctx->cfg->vein_threshold, score;
	int8_t tmpl[HWG_MATCH_DIM];
	int rc;

	rc = template_open(ctx, vs->operator_id, vs->sealed, vs->sealed_len, tmpl, err);
	if (rc != 0)
		return rc;
	score = hwg_match_score(probe, tmpl);
	hwg_wipe(tmpl, sizeof(tmpl));
	snprintf(ctx->audit_detail, sizeof(ctx->audit_detail),
	         "terminal=%s score=%.3f threshold=%.3f", vs->terminal, score, threshold);
	if (score < threshold)
		return hwg_error_set(err, HWG_E_NO_MATCH, "the palm does not match operator \"%s\"",
		                     vs->operator_id);
	return 0;
}

/* 1:N: the best match among the active operators. */
static int
match_gallery(struct hwg_op_ctx *ctx, struct verify_state *vs, const int8_t probe[HWG_MATCH_DIM],
              struct hwg_error *err)
{
	double threshold = ctx->cfg->vein_threshold;
	struct hwg_match_hit hit;
	int rc = hwg_palm_identify(ctx->palm, probe, threshold, NULL, &hit);

	if (rc == HWG_E_NO_MATCH) {
		snprintf(ctx->audit_detail, sizeof(ctx->audit_detail), "terminal=%s 1:N no match",
		         vs->terminal);
		return hwg_error_set(err, HWG_E_NO_MATCH, "the palm matches no enrolled operator");
	}
	if (rc != 0)
		return hwg_error_set(err, rc, "1:N identification is not available");
	memcpy(vs->operator_id, hit.id, sizeof(vs->operator_id));
	memcpy(ctx->operator_id, hit.id, sizeof(ctx->operator_id));
	snprintf(ctx->audit_detail, sizeof(ctx->audit_detail),
	         "terminal=%s 1:N score=%.3f threshold=%.3f", vs->terminal, hit.score, threshold);
	return 0;
}

int
hwg_op_operator_verify(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	struct verify_state *vs = ctx->op_state;
	struct hwg_vein_capture cap;
	struct hwg_vein *v;
	int rc;

	(void)result;
	if ((v = hwg_op_vein_driver(ctx, err)) == NULL)
		return err->code;
	rc = capture_judged(ctx, v, vs->terminal, vs->pubkey, "capture", &cap, err);
	if (rc == 0)
		rc = vs->claimed ? match_claimed(ctx, vs, cap.tmpl, err)
		                 : match_gallery(ctx, vs, cap.tmpl, err);
	hwg_wipe(&cap, sizeof(cap));
	return rc;
}

/* A failed verification of a claimed operator: counted, and a lockout said so. */
static int
count_failure(struct hwg_op_ctx *ctx, struct verify_state *vs, int rc, struct hwg_error *err)
{
	const struct hwg_config *cfg = ctx->cfg;
	struct hwg_error local = {0};
	int64_t until = 0;
	int count = 0;
	size_t n = strlen(ctx->audit_detail);

	if (hwg_operator_fail(ctx->store, vs->operator_id, hwg_now_ms(), cfg->operator_max_failures,
	                      cfg->operator_lockout_s * 1000, &count, &until, &local) != 0)
		return hwg_error_set(err, local.code, "%s", local.message);
	if (until != 0) {
		snprintf(ctx->audit_detail + n, sizeof(ctx->audit_detail) - n,
		         "%slocked until %lld after %d failures in a row", n ? " " : "",
		         (long long)until, cfg->operator_max_failures);
		n = strlen(err->message);
		snprintf(err->message + n, sizeof(err->message) - n,
		         "; operator \"%s\" is now locked for %lld s", vs->operator_id,
		         (long long)cfg->operator_lockout_s);
	} else {
		snprintf(ctx->audit_detail + n, sizeof(ctx->audit_detail) - n, "%sfailures=%d/%d",
		         n ? " " : "", count, cfg->operator_max_failures);
	}
	return rc;
}

static int
session_result(const struct hwg_operator_rec *o, const uint8_t *token, int64_t expires,
               int64_t idle_s, cbor_item_t **result, struct hwg_error *err)
{
	cbor_item_t *m = cbor_new_definite_map(6);

	if (m == NULL || hwg_cbor_map_put_bytes(m, "session", token, SESSION_TOKEN_LEN) != 0 ||
	    hwg_cbor_map_put_text(m, "operator_id", o->id) != 0 ||
	    hwg_cbor_map_put_text(m, "role", hwg_role_name(o->role)) != 0 ||
	    hwg_cbor_map_put_uint(m, "expires_ms", (uint64_t)expires) != 0 ||
	    hwg_cbor_map_put_uint(m, "idle_s", (uint64_t)idle_s) != 0 ||
	    hwg_cbor_map_put_uint(m, "valid_until_ms", (uint64_t)o->valid_until_ms) != 0) {
		if (m != NULL)
			cbor_decref(&m);
		return nomem(err);
	}
	*result = m;
	return 0;
}

/* A verified palm: the operator checked again (it may have changed meanwhile), a session opened. */
static int
open_session(struct hwg_op_ctx *ctx, struct verify_state *vs, cbor_item_t **result,
             struct hwg_error *err)
{
	const struct hwg_config *cfg = ctx->cfg;
	struct hwg_store *s = ctx->store;
	struct hwg_operator_rec o;
	uint8_t token[SESSION_TOKEN_LEN];
	int64_t now = hwg_now_ms(), max_ms = cfg->operator_session_max_s * 1000, expires;
	int replaced = 0, rc;

	if ((rc = operator_get(ctx, vs->operator_id, &o, err)) != 0)
		return rc;
	if ((rc = hwg_operator_usable(&o, now, err)) != 0 ||
	    (rc = session_allowed(ctx, &o, err)) != 0)
		goto out;
	if (RAND_bytes(token, sizeof(token)) != 1) {
		rc = hwg_error_set(err, HWG_E_INTERNAL, "no randomness for the session token");
		goto out;
	}
	if ((rc = hwg_session_create(s, token, sizeof(token), o.id, ctx->client->id, vs->terminal,
	                             now, max_ms, &replaced, err)) != 0 ||
	    (rc = hwg_operator_fail_reset(s, o.id, err)) != 0)
		goto out;
	expires = now + max_ms < o.valid_until_ms ? now + max_ms : o.valid_until_ms;
	rc = session_result(&o, token, expires, cfg->operator_session_idle_s, result, err);
	if (rc == 0 && replaced) {
		size_t n = strlen(ctx->audit_detail);

		snprintf(ctx->audit_detail + n, sizeof(ctx->audit_detail) - n,
		         " (replaced the operator's session on this client and terminal)");
	}
out:
	hwg_wipe(token, sizeof(token));
	hwg_operator_rec_clear(&o);
	return rc;
}

int
hwg_op_operator_verify_commit(struct hwg_op_ctx *ctx, int rc, cbor_item_t **result,
                              struct hwg_error *err)
{
	struct verify_state *vs = ctx->op_state;

	if (rc == HWG_E_NO_MATCH || rc == HWG_E_LIVENESS)
		return vs->claimed ? count_failure(ctx, vs, rc, err) : rc;
	if (rc != 0)
		return rc;
	return open_session(ctx, vs, result, err);
}

/* ---------------------------------------------------------------- operator.enroll */

/* Another operator's sealed template, to check a new palm against. */
struct other_tmpl {
	char id[HWG_OPERATOR_ID_MAX + 1];
	uint8_t *blob;
	size_t len;
};

struct enroll_state {
	char terminal[HWG_TERMINAL_ID_MAX + 1];
	uint8_t pubkey[HWG_TERMINAL_KEY_LEN];
	struct hwg_operator_rec rec; /* what commit inserts; rec.tmpl set by run */
	struct other_tmpl *others;   /* checked one by one (those the gallery lacks) */
	size_t n_others, cap_others;
	struct hwg_secret *fused; /* the new template, for the gallery */
};

static void
enroll_state_free(void *p)
{
	struct enroll_state *es = p;

	if (es == NULL)
		return;
	for (size_t i = 0; i < es->n_others; i++)
		free(es->others[i].blob);
	free(es->others);
	hwg_operator_rec_clear(&es->rec);
	hwg_secret_free(es->fused);
	hwg_wipe(es, sizeof(*es));
	free(es);
}

struct collect_ctx {
	struct enroll_state *es;
	int pending_only; /* the gallery holds the active ones */
	int rc;
};

static int
collect_other(void *arg, const struct hwg_operator_rec *o)
{
	struct collect_ctx *cc = arg;
	struct enroll_state *es = cc->es;
	struct other_tmpl *t;

	if (o->state == HWG_OPERATOR_REVOKED ||
	    (cc->pending_only && o->state != HWG_OPERATOR_PENDING))
		return 0;
	if (es->n_others == es->cap_others) {
		size_t ncap = es->cap_others ? 2 * es->cap_others : 16;

		if ((t = realloc(es->others, ncap * sizeof(*t))) == NULL)
			return cc->rc = HWG_E_NOMEM;
		es->others = t;
		es->cap_others = ncap;
	}
	t = &es->others[es->n_others];
	if ((t->blob = malloc(o->tmpl_len)) == NULL)
		return cc->rc = HWG_E_NOMEM;
	memcpy(t->id, o->id, sizeof(t->id));
	memcpy(t->blob, o->tmpl, o->tmpl_len);
	t->len = o->tmpl_len;
	es->n_others++;
	return 0;
}

/* The arguments of operator.enroll into es->rec. */
static int
enroll_args(struct hwg_op_ctx *ctx, struct enroll_state *es, struct hwg_error *err)
{
	char role[HWG_OP_ROLE_ARG_MAX + 1] = ""; /* every role the schema lets through fits */
	uint64_t until = 0;
	int present, rc;

	if ((rc = hwg_op_terminal_arg(ctx, es->terminal, err)) != 0 ||
	    (rc = operator_arg(ctx, es->rec.id, &present, err)) != 0)
		return rc;
	snprintf(ctx->subject, sizeof(ctx->subject), "operator:%s", es->rec.id);
	hwg_args_text(ctx->req->args, "role", role, sizeof(role));
	if (!hwg_role_operator(es->rec.role = hwg_role_parse(role)))
		return hwg_error_set(err, HWG_E_BAD_ARGS,
		                     "\"role\" must be one of " HWG_ROLES_OPERATOR_TEXT);
	hwg_args_uint(ctx->req->args, "valid_until", &until);
	if ((int64_t)until <= hwg_now_ms())
		return hwg_error_set(err, HWG_E_BAD_ARGS,
		                     "\"valid_until\" (%llu ms) must be in the future",
		                     (unsigned long long)until);
	es->rec.valid_until_ms = (int64_t)until;
	return 0;
}

/*
 * Who enrols: an admin operator's session makes an active operator; in
 * bootstrap mode (no active admin) an admin client alone may enrol an
 * admin, who stays pending until a second admin client confirms.
 */
static int
enroll_party(struct hwg_op_ctx *ctx, struct enroll_state *es, struct hwg_error *err)
{
	memcpy(es->rec.enrolled_by_client, ctx->client->id, sizeof(es->rec.enrolled_by_client));
	if (ctx->session.present) {
		memcpy(es->rec.enrolled_by_operator, ctx->session.operator_id,
		       sizeof(es->rec.enrolled_by_operator));
		es->rec.state = HWG_OPERATOR_ACTIVE;
		return 0;
	}
	if (es->rec.role != HWG_ROLE_ADMIN)
		return hwg_error_set(
		    err, HWG_E_SESSION,
		    "no admin operator exists yet: the first operator enrolled must "
		    "be an admin (bootstrap; a second admin client confirms it)");
	es->rec.state = HWG_OPERATOR_PENDING;
	return 0;
}

int
hwg_op_operator_enroll_prepare(struct hwg_op_ctx *ctx, struct hwg_error *err)
{
	struct enroll_state *es = calloc(1, sizeof(*es));
	struct hwg_palm *veins = ctx->palm;
	struct hwg_operator_rec old;
	struct collect_ctx cc;
	int rc;

	if (es == NULL)
		return nomem(err);
	ctx->op_state = es;
	ctx->op_state_free = enroll_state_free;
	if ((rc = enroll_args(ctx, es, err)) != 0 || (rc = enroll_party(ctx, es, err)) != 0)
		return rc;
	rc = hwg_operator_get(ctx->store, es->rec.id, &old, err);
	hwg_operator_rec_clear(&old);
	if (rc == 0)
		return hwg_error_set(err, HWG_E_EXISTS,
		                     "operator id \"%s\" is already taken (ids are never reused)",
		                     es->rec.id);
	if (rc != HWG_E_NOT_FOUND)
		return rc;
	hwg_error_clear(err);
	if ((rc = hwg_op_paired_key(ctx, es->terminal, es->pubkey, err)) != 0)
		return rc;
	cc = (struct collect_ctx){es, hwg_palm_has_gallery(veins), 0};
	rc = hwg_operator_each(ctx->store, collect_other, &cc, err);
	if (rc == 0 && cc.rc != 0)
		rc = nomem(err);
	return rc;
}

/* The three captures, each judged, fused if they agree. */
static int
enroll_capture(struct hwg_op_ctx *ctx, struct enroll_state *es, struct hwg_vein *v,
               int8_t fused[HWG_MATCH_DIM], struct hwg_error *err)
{
	int8_t caps[ENROLL_CAPTURES][HWG_MATCH_DIM];
	struct hwg_vein_capture cap;
	char what[32];
	int rc = 0;

	for (int i = 0; rc == 0 && i < ENROLL_CAPTURES; i++) {
		snprintf(what, sizeof(what), "capture %d of %d", i + 1, ENROLL_CAPTURES);
		if ((rc = capture_judged(ctx, v, es->terminal, es->pubkey, what, &cap, err)) == 0)
			memcpy(caps[i], cap.tmpl, sizeof(caps[i]));
	}
	hwg_wipe(&cap, sizeof(cap));
	if (rc == 0)
		rc = hwg_match_fuse((const int8_t(*)[HWG_MATCH_DIM])caps, ENROLL_CAPTURES,
		                    ctx->cfg->vein_threshold, fused, err);
	hwg_wipe(caps, sizeof(caps));
	return rc;
}

/* A palm enrolled twice would let one person hold two ids (and two roles). */
static int
duplicate_refused(struct hwg_op_ctx *ctx, const char *whom, double score, struct hwg_error *err)
{
	snprintf(ctx->audit_detail, sizeof(ctx->audit_detail),
	         "the palm matches operator \"%s\" (score %.3f)", whom, score);
	return hwg_error_set(err, HWG_E_DUPLICATE_PALM,
	                     "this palm is already enrolled for another operator");
}

static int
duplicate_check(struct hwg_op_ctx *ctx, struct enroll_state *es, const int8_t fused[HWG_MATCH_DIM],
                struct hwg_error *err)
{
	struct hwg_palm *veins = ctx->palm;
	double threshold = ctx->cfg->vein_threshold, score;
	struct hwg_match_hit hit;
	int8_t tmpl[HWG_MATCH_DIM];
	int rc;

	if (hwg_palm_identify(veins, fused, threshold, NULL, &hit) == 0)
		return duplicate_refused(ctx, hit.id, hit.score, err);
	for (size_t i = 0; i < es->n_others; i++) {
		/* fail closed: a template that does not open cannot be ruled out */
		if ((rc = template_open(ctx, es->others[i].id, es->others[i].blob,
		                        es->others[i].len, tmpl, err)) != 0)
			return rc;
		score = hwg_match_score(fused, tmpl);
		hwg_wipe(tmpl, sizeof(tmpl));
		if (score >= threshold)
			return duplicate_refused(ctx, es->others[i].id, score, err);
	}
	return 0;
}

int
hwg_op_operator_enroll(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	struct enroll_state *es = ctx->op_state;
	struct hwg_vein *v;
	int8_t fused[HWG_MATCH_DIM];
	int rc;

	(void)result;
	if ((v = hwg_op_vein_driver(ctx, err)) == NULL)
		return err->code;
	if ((es->fused = hwg_secret_new(HWG_MATCH_DIM)) == NULL)
		return nomem(err);
	if ((rc = enroll_capture(ctx, es, v, fused, err)) == 0 &&
	    (rc = duplicate_check(ctx, es, fused, err)) == 0)
		rc = ctx->keys->template_seal(ctx->keys->arg, es->rec.id, fused, &es->rec.tmpl,
		                              &es->rec.tmpl_len, err);
	if (rc == 0) {
		memcpy(es->fused->data, fused, sizeof(fused));
		es->fused->len = sizeof(fused);
	}
	hwg_wipe(fused, sizeof(fused));
	return rc;
}

static int
enroll_result(const struct hwg_operator_rec *o, cbor_item_t **result, struct hwg_error *err)
{
	cbor_item_t *m = cbor_new_definite_map(4);

	if (m == NULL || hwg_cbor_map_put_text(m, "operator_id", o->id) != 0 ||
	    hwg_cbor_map_put_text(m, "role", hwg_role_name(o->role)) != 0 ||
	    hwg_cbor_map_put_text(m, "state", hwg_operator_state_name(o->state)) != 0 ||
	    hwg_cbor_map_put_uint(m, "valid_until_ms", (uint64_t)o->valid_until_ms) != 0) {
		if (m != NULL)
			cbor_decref(&m);
		return nomem(err);
	}
	*result = m;
	return 0;
}

int
hwg_op_operator_enroll_commit(struct hwg_op_ctx *ctx, int rc, cbor_item_t **result,
                              struct hwg_error *err)
{
	struct enroll_state *es = ctx->op_state;

	if (rc != 0)
		return rc;
	es->rec.created_ms = hwg_now_ms();
	/* HWG_E_EXISTS when the id was taken while the palm was captured */
	if ((rc = hwg_operator_add(ctx->store, &es->rec, err)) != 0)
		return rc;
	/*
	 * The gallery is not transactional: if the audit record then fails to
	 * commit, it holds an id the store lacks, which verify's commit refuses
	 * as unknown_operator (never a session).
	 */
	if (es->rec.state == HWG_OPERATOR_ACTIVE &&
	    (rc = hwg_palm_gallery_put(ctx->palm, es->rec.id, (const int8_t *)es->fused->data,
	                               err)) != 0)
		return rc;
	snprintf(ctx->audit_detail, sizeof(ctx->audit_detail), "role=%s state=%s terminal=%s%s",
	         hwg_role_name(es->rec.role), hwg_operator_state_name(es->rec.state), es->terminal,
	         ctx->bootstrap ? " (bootstrap: a second admin client must confirm)" : "");
	return enroll_result(&es->rec, result, err);
}

/* ---------------------------------------------------------------- operator.confirm */

/* The record named by "operator_id"; the subject names it too. */
static int
target_operator(struct hwg_op_ctx *ctx, struct hwg_operator_rec *o, struct hwg_error *err)
{
	char id[HWG_OPERATOR_ID_MAX + 1];
	int present, rc;

	memset(o, 0, sizeof(*o));
	if ((rc = operator_arg(ctx, id, &present, err)) != 0)
		return rc;
	snprintf(ctx->subject, sizeof(ctx->subject), "operator:%s", id);
	return operator_get(ctx, id, o, err);
}

static int
state_result(const char *id, const char *state, const char *count_key, int64_t count,
             cbor_item_t **result, struct hwg_error *err)
{
	cbor_item_t *m = cbor_new_definite_map(count_key != NULL ? 3 : 2);

	if (m == NULL || hwg_cbor_map_put_text(m, "operator_id", id) != 0 ||
	    hwg_cbor_map_put_text(m, "state", state) != 0 ||
	    (count_key != NULL && hwg_cbor_map_put_uint(m, count_key, (uint64_t)count) != 0)) {
		if (m != NULL)
			cbor_decref(&m);
		return nomem(err);
	}
	*result = m;
	return 0;
}

int
hwg_op_operator_confirm(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	struct hwg_operator_rec o;
	int rc;

	if ((rc = target_operator(ctx, &o, err)) != 0)
		goto out;
	if (o.state != HWG_OPERATOR_PENDING) {
		rc = hwg_error_set(err, HWG_E_BAD_ARGS, "operator \"%s\" is %s, not pending", o.id,
		                   hwg_operator_state_name(o.state));
		goto out;
	}
	/* the two-person rule: the client that enrolled may not also confirm */
	if (strcmp(o.enrolled_by_client, ctx->client->id) == 0) {
		rc = hwg_error_set(err, HWG_E_FORBIDDEN,
		                   "operator \"%s\" was enrolled from this client: a different "
		                   "admin client must confirm it",
		                   o.id);
		goto out;
	}
	if ((rc = hwg_operator_confirm(ctx->store, o.id, ctx->client->id, err)) == 0 &&
	    (rc = hwg_palm_gallery_put_sealed(ctx->palm, o.id, o.tmpl, o.tmpl_len, err)) == 0) {
		snprintf(ctx->audit_detail, sizeof(ctx->audit_detail),
		         "enrolled from client %s, confirmed from client %s", o.enrolled_by_client,
		         ctx->client->id);
		rc = state_result(o.id, "active", NULL, 0, result, err);
	}
out:
	hwg_operator_rec_clear(&o);
	return rc;
}

/* ---------------------------------------------------------------- operator.revoke */

int
hwg_op_operator_revoke(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	struct hwg_operator_rec o;
	size_t ended = 0;
	int rc;

	if ((rc = target_operator(ctx, &o, err)) != 0)
		goto out;
	if (o.state == HWG_OPERATOR_REVOKED) {
		rc = hwg_error_set(err, HWG_E_BAD_ARGS, "operator \"%s\" is already revoked", o.id);
		goto out;
	}
	if ((rc = hwg_operator_revoke(ctx->store, o.id, &ended, err)) != 0)
		goto out;
	hwg_palm_gallery_remove(ctx->palm, o.id);
	snprintf(ctx->audit_detail, sizeof(ctx->audit_detail), "template wiped; sessions ended=%zu",
	         ended);
	rc = state_result(o.id, "revoked", "sessions_ended", (int64_t)ended, result, err);
out:
	hwg_operator_rec_clear(&o);
	return rc;
}

/* ---------------------------------------------------------------- operator.logout */

int
hwg_op_operator_logout(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	int rc = hwg_session_end(ctx->store, ctx->req->session, ctx->req->session_len, err);

	if (rc != 0)
		return rc;
	snprintf(ctx->audit_detail, sizeof(ctx->audit_detail), "reason=logout terminal=%s",
	         ctx->session.terminal);
	return state_result(ctx->session.operator_id, "logged_out", NULL, 0, result, err);
}

/* ---------------------------------------------------------------- operator.list */

struct list_ctx {
	struct hwg_store *store;
	cbor_item_t *array;
	int64_t now;
	int rc;
	struct hwg_error *err;
};

static cbor_item_t *
operator_entry(const struct hwg_operator_rec *o, int64_t now, int64_t sessions)
{
	int locked = o->locked_until_ms > now;
	cbor_item_t *m = cbor_new_definite_map(locked ? 7 : 6);

	if (m == NULL)
		return NULL;
	if (hwg_cbor_map_put_text(m, "operator_id", o->id) != 0 ||
	    hwg_cbor_map_put_text(m, "role", hwg_role_name(o->role)) != 0 ||
	    hwg_cbor_map_put_text(m, "state", hwg_operator_state_name(o->state)) != 0 ||
	    hwg_cbor_map_put_uint(m, "valid_until_ms", (uint64_t)o->valid_until_ms) != 0 ||
	    hwg_cbor_map_put_uint(m, "failures", (uint64_t)o->fail_count) != 0 ||
	    hwg_cbor_map_put_uint(m, "sessions", (uint64_t)sessions) != 0 ||
	    (locked &&
	     hwg_cbor_map_put_uint(m, "locked_until_ms", (uint64_t)o->locked_until_ms) != 0))
		cbor_decref(&m);
	return m;
}

static int
list_one(void *arg, const struct hwg_operator_rec *o)
{
	struct list_ctx *lc = arg;
	cbor_item_t *e;
	int64_t sessions = 0;
	int ok;

	if ((lc->rc = hwg_session_count(lc->store, o->id, &sessions, lc->err)) != 0)
		return lc->rc;
	e = operator_entry(o, lc->now, sessions);
	ok = e != NULL && cbor_array_push(lc->array, e);
	if (e != NULL)
		cbor_decref(&e);
	return ok ? 0 : (lc->rc = nomem(lc->err));
}

int
hwg_op_operator_list(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	struct list_ctx lc = {ctx->store, cbor_new_indefinite_array(), hwg_now_ms(), 0, err};
	cbor_item_t *m;
	int rc;

	if (lc.array == NULL)
		return nomem(err);
	rc = hwg_operator_each(lc.store, list_one, &lc, err);
	if (rc == 0)
		rc = lc.rc;
	if (rc != 0) {
		cbor_decref(&lc.array);
		return rc;
	}
	/* the map takes the array's reference, even when it fails */
	if ((m = cbor_new_definite_map(1)) == NULL) {
		cbor_decref(&lc.array);
		return nomem(err);
	}
	if (hwg_cbor_map_put_item(m, "operators", lc.array) != 0) {
		cbor_decref(&m);
		return nomem(err);
	}
	*result = m;
	return 0;
}
