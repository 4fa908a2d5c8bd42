/*
 * counter_gw.c — one signed exchange with the gateway through libhwgw:
 * the request signed with the station's key (and the operator's session
 * from the state directory), sent over the Unix socket, the answer shown
 * only once its signature and request hash verify.  The request's hash
 * and time are kept for request.status, which is how a lost answer is
 * resolved: never by sending a changing operation again blind.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "counter.h"
#include "hwg_cbor.h"
#include "hwg_secret.h"
#include "hwgw.h"

void
ctr_answer_clear(struct ctr_answer *a)
{
	if (a->result != NULL) {
		hwg_cbor_wipe_strings(a->result);
		cbor_decref(&a->result);
	}
	memset(a, 0, sizeof(*a));
	a->tries = -1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct exchange {
	EVP_PKEY *key, *gw;
	struct hwgw_ctx *ctx;
	uint8_t *req, *resp;
	size_t req_len, resp_len;
	uint8_t tok[HWGW_SESSION_MAX];
	size_t tok_len;
};

static void
exchange_clear(struct exchange *x)
{
	if (x->req != NULL)
		hwg_wipe(x->req, x->req_len); /* a PIN, a session token */
	free(x->req);
	if (x->resp != NULL)
		hwg_wipe(x->resp, x->resp_len);
	free(x->resp);
	hwg_wipe(x->tok, sizeof(x->tok));
	hwgw_ctx_free(x->ctx);
	EVP_PKEY_free(x->key);
	EVP_PKEY_free(x->gw);
}

static int
build(struct ctr *c, const struct ctr_call *call, struct exchange *x, struct ctr_answer *a,
      struct hwg_error *err)
{
	const struct ctr_conf *k = &c->conf;
	struct hwgw_request_opts ro = {0};
	int rc;

	if (call->session != NULL) {
		memcpy(x->tok, call->session, call->session_len);
		x->tok_len = call->session_len;
	} else if (call->with_session &&
	           (rc = ctr_session_load(c, x->tok, &x->tok_len, err)) != 0) {
		return rc;
	}
	if (x->tok_len > 0) {
		ro.session = x->tok;
		ro.session_len = x->tok_len;
	}
	ro.time_ms = a->req_t = now_ms();
	if ((rc = hwgw_key_load_private(k->key, &x->key, err)) != 0 ||
	    (rc = hwgw_key_load_public(k->gateway_pub, &x->gw, err)) != 0 ||
	    (rc = hwgw_ctx_new(k->client_id, k->gateway_id, x->key, x->gw, &x->ctx, err)) != 0 ||
	    (rc = hwgw_request_build(x->ctx, call->op, call->args, &ro, &x->req, &x->req_len,
	                             err)) != 0)
		return rc;
	if (EVP_Digest(x->req, x->req_len, a->req_hash, NULL, EVP_sha256(), NULL) != 1)
		return hwg_error_set(err, HWG_E_INTERNAL, "SHA-256 failed");
	return 0;
}

int
ctr_gw_call(struct ctr *c, const struct ctr_call *call, struct ctr_answer *a, struct hwg_error *err)
{
	struct exchange x;
	struct hwgw_response r = {0};
	int rc;

	memset(&x, 0, sizeof(x));
	ctr_answer_clear(a);
	if ((rc = build(c, call, &x, a, err)) != 0 ||
	    (call->before_send != NULL && (rc = call->before_send(call->arg, a, err)) != 0))
		goto out;
	a->sent = 1;
	if ((rc = hwgw_send_unix(c->conf.socket, x.req, x.req_len, &x.resp, &x.resp_len, err)) !=
	        0 ||
	    (rc = hwgw_response_verify(x.ctx, x.req, x.req_len, x.resp, x.resp_len, &r, err)) != 0)
		goto out;
	a->result = r.result;
	r.result = NULL;
	snprintf(a->code, sizeof(a->code), "%s", r.error_code);
	snprintf(a->message, sizeof(a->message), "%s", r.error_message);
	a->tries = r.error_tries;
	a->gw_t = r.time_ms;
out:
	hwgw_response_clear(&r);
	exchange_clear(&x);
	return rc;
}

int
ctr_gw_request_status(struct ctr *c, const uint8_t hash[32], struct ctr_reqstatus *st,
                      struct hwg_error *err)
{
	cbor_item_t *args = cbor_new_definite_map(1);
	struct ctr_call call = {.op = "request.status", .args = args};
	struct ctr_answer a = {0};
	int rc;

	memset(st, 0, sizeof(*st));
	if (args == NULL || hwg_cbor_map_put_bytes(args, "req", hash, 32) != 0)
		rc = hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	else if ((rc = ctr_gw_call(c, &call, &a, err)) == 0 && a.result == NULL)
		rc = hwg_error_set(err, HWG_E_UNAVAILABLE, "request.status refused: %s: %s", a.code,
		                   a.message);
	if (rc == 0) {
		ctr_text(a.result, "state", st->state, sizeof(st->state));
		ctr_text(a.result, "code", st->code, sizeof(st->code));
		st->t_ms = ctr_uint(a.result, "t");
		st->max_age_ms = ctr_uint(a.result, "max_age_ms");
		st->gw_now_ms = a.gw_t;
	}
	ctr_answer_clear(&a);
	if (args != NULL)
		cbor_decref(&args);
	return rc;
}
