/*
 * op_cert.c — the certificate operations that print nothing, over the
 * issuance journal (state/hwg_issuance.h): cert.status, what became of
 * an issuance, for the station that asked for it or an auditor (a station
 * that lost its connection learns the outcome here); cert.resolve, a
 * supervisor's decision on a job the printer never confirmed, the only
 * way out of "unconfirmed" (nothing is ever reprinted by itself);
 * cert.history, a person's certificates, for an auditor.  Also what
 * cert.issue and cert.reprint share with them: an issuance as a result
 * map, and what its audit record names.
 *
 * All three run under the state lock in the request's transaction, with
 * the store; each record they leave names the resident (the audit's
 * subject) and, for cert.resolve, the supervisor (the session's operator).
 */
#include <stdio.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_clients.h"
#include "hwg_issuance.h"
#include "hwg_ops.h"
#include "hwg_time.h"

#define HISTORY_LIMIT_DEFAULT 100

static int
nomem(struct hwg_error *err)
{
	return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
}

/* ---------------------------------------------------------------- shared */

/* When the issuance last changed state. */
static int64_t
updated_ms(const struct hwg_issuance *r)
{
	const int64_t times[] = {r->reserved_ms, r->rendered_ms, r->sealed_ms,      r->sent_ms,
	                         r->printed_ms,  r->failed_ms,   r->unconfirmed_ms, r->resolved_ms};
	int64_t t = 0;

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		if (times[i] > t)
			t = times[i];
	return t;
}

static int
put_failure(cbor_item_t *m, const struct hwg_issuance *r)
{
	cbor_item_t *f = cbor_new_definite_map(2);

	if (f == NULL)
		return -1;
	if (hwg_cbor_map_put_text(f, "code", r->failure_code) != 0 ||
	    hwg_cbor_map_put_text(f, "msg", r->failure_msg) != 0) {
		cbor_decref(&f);
		return -1;
	}
	return hwg_cbor_map_put_item(m, "failure", f);
}

cbor_item_t *
hwg_op_issuance_item(const struct hwg_issuance *r)
{
	int pages = r->state == HWG_ISSUANCE_PRINTED && r->pages_confirmed > 0;
	size_t n = 6 + (r->pages_expected > 0) + pages + (r->printer[0] != '\0') +
	           (r->failure_code[0] != '\0') + (r->original_no[0] != '\0') +
	           (r->resolved_by[0] != '\0');
	cbor_item_t *m = cbor_new_definite_map(n);
	int rc;

	if (m == NULL)
		return NULL;
	rc = hwg_cbor_map_put_text(m, "issuance_no", r->no) |
	     hwg_cbor_map_put_text(m, "state", hwg_issuance_state_name(r->state)) |
	     hwg_cbor_map_put_text(m, "kind", r->kind) | hwg_cbor_map_put_text(m, "date", r->date) |
	     hwg_cbor_map_put_uint(m, "reserved_ms", (uint64_t)r->reserved_ms) |
	     hwg_cbor_map_put_uint(m, "updated_ms", (uint64_t)updated_ms(r));
	if (r->pages_expected > 0)
		rc |= hwg_cbor_map_put_uint(m, "pages_expected", r->pages_expected);
	if (pages)
		rc |= hwg_cbor_map_put_uint(m, "pages", r->pages_confirmed);
	if (r->printer[0] != '\0')
		rc |= hwg_cbor_map_put_text(m, "printer", r->printer);
	if (r->failure_code[0] != '\0')
		rc |= put_failure(m, r);
	if (r->original_no[0] != '\0')
		rc |= hwg_cbor_map_put_text(m, "original", r->original_no);
	if (r->resolved_by[0] != '\0')
		rc |= hwg_cbor_map_put_text(m, "resolved_by", r->resolved_by);
	if (rc != 0)
		cbor_decref(&m);
	return m;
}

void
hwg_op_issuance_audit(struct hwg_op_ctx *ctx, const struct hwg_issuance *r, int was)
{
	snprintf(ctx->subject, sizeof(ctx->subject), "%s", r->subject);
	if (was >= 0)
		snprintf(ctx->audit_detail, sizeof(ctx->audit_detail), "issuance=%s %s -> %s",
		         r->no, hwg_issuance_state_name(was), hwg_issuance_state_name(r->state));
	else
		snprintf(ctx->audit_detail, sizeof(ctx->audit_detail), "issuance=%s state=%s",
		         r->no, hwg_issuance_state_name(r->state));
}

/* The issuance the "issuance_no" argument names; the audit's subject is its resident. */
static int
issuance_arg(struct hwg_op_ctx *ctx, struct hwg_issuance *r, struct hwg_error *err)
{
	char no[HWG_ISSUANCE_NO_MAX + 1] = "";
	int rc;

	if (!hwg_args_text(ctx->req->args, "issuance_no", no, sizeof(no)))
		return hwg_error_set(err, HWG_E_BAD_ARGS, "\"issuance_no\" is required");
	if ((rc = hwg_issuance_get(ctx->store, no, r, err)) != 0)
		return rc;
	snprintf(ctx->subject, sizeof(ctx->subject), "%s", r->subject);
	return 0;
}

/* ---------------------------------------------------------------- cert.status */

int
hwg_op_cert_status(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	struct hwg_issuance r;
	int rc;

	if ((rc = issuance_arg(ctx, &r, err)) != 0)
		return rc;
	if (strcmp(r.client_id, ctx->req->client_id) != 0 && ctx->client->role != HWG_ROLE_AUDITOR)
		return hwg_error_set(err, HWG_E_FORBIDDEN,
		                     "issuance %s was asked for by another client: only that "
		                     "client or an auditor may see it",
		                     r.no);
	if ((*result = hwg_op_issuance_item(&r)) == NULL)
		return nomem(err);
	hwg_op_issuance_audit(ctx, &r, -1);
	return 0;
}

/* ---------------------------------------------------------------- cert.resolve */

/* The session is a supervisor's (the table lets the issuance role through for the client). */
static int
supervisor_check(const struct hwg_op_ctx *ctx, struct hwg_error *err)
{
	if (!ctx->session.present)
		return hwg_error_set(err, HWG_E_SESSION,
		                     "cert.resolve needs a supervisor's operator session");
	if (ctx->session.role != HWG_ROLE_SUPERVISOR)
		return hwg_error_set(err, HWG_E_FORBIDDEN,
		                     "operator \"%s\" (role %s) may not resolve an issuance: a "
		                     "supervisor decides",
		                     ctx->session.operator_id, hwg_role_name(ctx->session.role));
	return 0;
}

static int
outcome_arg(const struct hwg_op_ctx *ctx, int *outcome, struct hwg_error *err)
{
	char text[16] = "";

	hwg_args_text(ctx->req->args, "outcome", text, sizeof(text));
	if (strcmp(text, "printed") == 0)
		*outcome = HWG_ISSUANCE_PRINTED;
	else if (strcmp(text, "not_printed") == 0)
		*outcome = HWG_ISSUANCE_NOT_PRINTED;
	else
		return hwg_error_set(err, HWG_E_BAD_ARGS,
		                     "\"outcome\" must be \"printed\" or \"not_printed\"");
	return 0;
}

int
hwg_op_cert_resolve(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	char note[HWG_ISSUANCE_TEXT_MAX + 1] = "";
	struct hwg_issuance r;
	int outcome = -1, rc;

	if ((rc = supervisor_check(ctx, err)) != 0 || (rc = outcome_arg(ctx, &outcome, err)) != 0 ||
	    (rc = issuance_arg(ctx, &r, err)) != 0)
		return rc;
	hwg_args_text(ctx->req->args, "note", note, sizeof(note));
	if ((rc = hwg_issuance_resolve(ctx->store, r.no, outcome, ctx->session.operator_id, note,
	                               hwg_now_ms(), err)) != 0 ||
	    (rc = hwg_issuance_get(ctx->store, r.no, &r, err)) != 0)
		return rc;
	if ((*result = hwg_op_issuance_item(&r)) == NULL)
		return nomem(err);
	hwg_op_issuance_audit(ctx, &r, HWG_ISSUANCE_UNCONFIRMED);
	return 0;
}

/* ---------------------------------------------------------------- cert.history */

static cbor_item_t *
history_entry(const struct hwg_issuance *r)
{
	cbor_item_t *m = cbor_new_definite_map(r->original_no[0] != '\0' ? 11 : 10);
	int rc;

	if (m == NULL)
		return NULL;
	rc = hwg_cbor_map_put_text(m, "issuance_no", r->no) |
	     hwg_cbor_map_put_text(m, "kind", r->kind) | hwg_cbor_map_put_text(m, "date", r->date) |
	     hwg_cbor_map_put_text(m, "state", hwg_issuance_state_name(r->state)) |
	     hwg_cbor_map_put_uint(m, "reserved_ms", (uint64_t)r->reserved_ms) |
	     hwg_cbor_map_put_text(m, "operator", r->operator_id) |
	     hwg_cbor_map_put_text(m, "relation", r->relation) |
	     hwg_cbor_map_put_text(m, "client", r->client_id) |
	     hwg_cbor_map_put_bool(m, "household", r->household) |
	     hwg_cbor_map_put_bool(m, "my_number", r->my_number);
	if (r->original_no[0] != '\0')
		rc |= hwg_cbor_map_put_text(m, "original", r->original_no);
	if (rc != 0)
		cbor_decref(&m);
	return m;
}

struct history {
	cbor_item_t *list;
	size_t n;
};

static int
history_push(void *arg, const struct hwg_issuance *r)
{
	struct history *h = arg;
	cbor_item_t *e = history_entry(r);
	int ok = e != NULL && cbor_array_push(h->list, e);

	if (e != NULL)
		cbor_decref(&e);
	h->n += ok;
	return ok ? 0 : HWG_E_NOMEM;
}

int
hwg_op_cert_history(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	char code[HWG_RESIDENT_CODE_LEN + 1] = "";
	uint64_t limit = HISTORY_LIMIT_DEFAULT;
	struct history h = {NULL, 0};
	cbor_item_t *m;
	int rc;

	hwg_args_text(ctx->req->args, "resident_code", code, sizeof(code));
	hwg_args_uint(ctx->req->args, "limit", &limit);
	if (!hwg_resident_code_valid(code))
		return hwg_error_set(err, HWG_E_BAD_ARGS, "\"resident_code\" must be 11 digits");
	snprintf(ctx->subject, sizeof(ctx->subject), "%s", code);
	if ((h.list = cbor_new_indefinite_array()) == NULL)
		return nomem(err);
	rc = hwg_issuance_each_subject(ctx->store, code, (size_t)limit, history_push, &h, err);
	if (rc != 0) {
		cbor_decref(&h.list);
		return rc == HWG_E_NOMEM ? nomem(err) : rc;
	}
	if ((m = cbor_new_definite_map(2)) == NULL) {
		cbor_decref(&h.list);
		return nomem(err);
	}
	rc = hwg_cbor_map_put_text(m, "resident_code", code);
	rc |=
	    hwg_cbor_map_put_item(m, "issuances", h.list); /* takes the list, even when it fails */
	if (rc != 0) {
		cbor_decref(&m);
		return nomem(err);
	}
	*result = m;
	snprintf(ctx->audit_detail, sizeof(ctx->audit_detail), "issuances=%zu", h.n);
	return 0;
}
