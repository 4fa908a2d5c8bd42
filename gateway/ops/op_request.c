/*
 * op_request.c — request.status: what became of a request whose answer
 * its client never got (the connection dropped, the client gave up
 * waiting).  The audit holds a record of every request the gateway read,
 * under the SHA-256 of its bytes (the response's "req"); this operation
 * answers from it, for the client that sent the request and nobody else.
 *
 * It runs under the state lock, as requests start (the expiry check,
 * hwg_core.c) and as device operations write their records, so its answer
 * is never half of a change: a request is ran, running, refused, or not
 * seen; and once the gateway's time is past that request's t plus
 * [api] max_age, "unknown" means it never ran and never will (api.cddl).
 */
#include <stdio.h>
#include <string.h>

#include "hwg_audit.h"
#include "hwg_cbor.h"
#include "hwg_ops.h"

/* What the records of one request say. */
struct status {
	int ran;                     /* a record of the request having run */
	struct hwg_audit_record run; /* the first such */
	int refused;                 /* a refusal of its bytes, and none that ran */
	struct hwg_audit_record refusal;
};

/*
 * A refusal of the request's checks (api.cddl's request refusals, and
 * expired): nothing of the operation ran.  Any other result (ok, or an
 * operation's own error) is the operation's outcome.
 */
static int
is_check_refusal(const char *result)
{
	int code = strcmp(result, "ok") == 0 ? HWG_OK : hwg_err_from_code(result);

	return code <= HWG_E_BAD_ENCODING && code >= HWG_E_EXPIRED;
}

static int
take_record(void *arg, const struct hwg_audit_record *r)
{
	struct status *st = arg;

	if (strcmp(r->operation, "gateway.response_withheld") == 0)
		return 0; /* says the answer was lost, not what ran: the request's own record does
		           */
	if (!is_check_refusal(r->result)) {
		st->run = *r;
		st->ran = 1;
		return 1; /* a nonce is spent once: no other record of these bytes ran */
	}
	if (!st->refused) {
		st->refusal = *r;
		st->refused = 1;
	}
	return 0;
}

static cbor_item_t *
status_item(const char *state, const struct hwg_audit_record *r, int64_t max_age_ms)
{
	cbor_item_t *m = cbor_new_definite_map(r != NULL ? 5 : 2);
	int rc;

	if (m == NULL)
		return NULL;
	rc = hwg_cbor_map_put_text(m, "state", state) |
	     hwg_cbor_map_put_uint(m, "max_age_ms", (uint64_t)max_age_ms);
	if (r != NULL)
		rc |= hwg_cbor_map_put_text(m, "code", r->result) |
		      hwg_cbor_map_put_uint(m, "t", (uint64_t)r->time_ms) |
		      hwg_cbor_map_put_uint(m, "seq", (uint64_t)r->seq);
	if (rc != 0)
		cbor_decref(&m);
	return m;
}

int
hwg_op_request_status(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	const uint8_t *req = NULL;
	size_t len = 0;
	struct status st;
	const char *state;
	const struct hwg_audit_record *r = NULL;
	char hex[2 * HWG_AUDIT_HASH_LEN + 1];
	int rc;

	if (hwg_cbor_bytes(hwg_cbor_map_get(ctx->req->args, "req", NULL), &req, &len) != 0 ||
	    len != HWG_AUDIT_HASH_LEN)
		return hwg_error_set(err, HWG_E_BAD_ARGS, "\"req\" must be 32 bytes");
	memset(&st, 0, sizeof(st));
	if ((rc = hwg_audit_request_records(ctx->store, ctx->req->client_id, req, take_record, &st,
	                                    err)) != 0)
		return rc;
	if (st.ran) {
		state = "ran";
		r = &st.run;
	} else if (ctx->request_running(ctx->request_running_arg, ctx->req->client_id, req)) {
		state = "running";
	} else if (st.refused) {
		state = "refused";
		r = &st.refusal;
	} else {
		state = "unknown";
	}
	if ((*result = status_item(state, r, ctx->cfg->max_age_ms)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	for (size_t i = 0; i < HWG_AUDIT_HASH_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", req[i]);
	snprintf(ctx->audit_detail, sizeof(ctx->audit_detail), "req=%s state=%s", hex, state);
	return 0;
}
