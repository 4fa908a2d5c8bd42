/*
 * counter_issue.c — a certificate in flight (counter_issue.h).
 *
 * Before cert.issue leaves, the state directory holds the request id,
 * the document and then the request's hash; after it, the outcome
 * decides: printed (the page count confirmed) or failed (nothing
 * printed) ends it; unconfirmed waits for a supervisor.  A lost answer
 * is resolved in this order, and nothing is sent again blind:
 *   1. the issuance number known: cert.status;
 *   2. else request.status of the request sent: "running" — ask again
 *      later; "unknown" before its time plus max_age — ask again later;
 *   3. else the same document under the same request id: the gateway
 *      answers with the issuance it reserved for that id (printing
 *      nothing), or, when it never reserved one, makes it now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter_issue.h"
#include "hwg_cbor.h"
#include "hwg_secret.h"

/* ---------------------------------------------------------------- the state file */

static void
hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static int
unhex(const char *s, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		b[i] = (uint8_t)v;
	}
	return s[2 * n] == '\0' ? 0 : -1;
}

int
ctr_pending_load(const struct ctr *c, struct ctr_pending *p, struct hwg_error *err)
{
	char *text = NULL, h[80], t[24];
	size_t n;
	int rc;

	memset(p, 0, sizeof(*p));
	if ((rc = ctr_state_read(c, "issue", &text, &n, err)) != 0)
		return rc;
	if (ctr_kv_get(text, "request_id", p->request_id, sizeof(p->request_id)) != 0 ||
	    ctr_kv_get(text, "kind", p->kind, sizeof(p->kind)) != 0 ||
	    ctr_kv_get(text, "subject", p->subject, sizeof(p->subject)) != 0)
		rc = hwg_error_set(err, HWG_E_IO, "the state file \"issue\" is damaged");
	ctr_kv_get(text, "issuance_no", p->issuance_no, sizeof(p->issuance_no));
	if (ctr_kv_get(text, "req_hash", h, sizeof(h)) == 0 && unhex(h, p->req_hash, 32) == 0 &&
	    ctr_kv_get(text, "req_t", t, sizeof(t)) == 0) {
		p->has_hash = 1;
		p->req_t = strtoll(t, NULL, 10);
	}
	free(text);
	return rc;
}

int
ctr_pending_save(const struct ctr *c, const struct ctr_pending *p, struct hwg_error *err)
{
	char text[512], h[65] = "";
	int n;

	if (p->has_hash)
		hex(p->req_hash, 32, h);
	n = snprintf(
	    text, sizeof(text),
	    "request_id=%s\nkind=%s\nsubject=%s\nissuance_no=%s\nreq_hash=%s\nreq_t=%lld\n",
	    p->request_id, p->kind, p->subject, p->issuance_no, h, (long long)p->req_t);
	return ctr_state_write(c, "issue", text, (size_t)n, err);
}

void
ctr_pending_clear(const struct ctr *c)
{
	struct hwg_error err = {0};

	ctr_state_remove(c, "issue.doc", &err);
	ctr_state_remove(c, "issue", &err);
}

/* ---------------------------------------------------------------- outcomes */

static void
show_issuance(struct ctr *c, const cbor_item_t *r, char *state, size_t len)
{
	char no[100], kind[16], printer[64];

	ctr_text(r, "state", state, len);
	ctr_set(c, "issuance_no", json_string(ctr_text(r, "issuance_no", no, sizeof(no))));
	ctr_set(c, "state", json_string(state));
	ctr_set(c, "kind", json_string(ctr_text(r, "kind", kind, sizeof(kind))));
	if (ctr_text(r, "printer", printer, sizeof(printer))[0] != '\0')
		ctr_set(c, "printer", json_string(printer));
	if (ctr_uint(r, "pages") >= 0)
		ctr_set(c, "pages", json_integer(ctr_uint(r, "pages")));
	if (ctr_uint(r, "pages_expected") >= 0)
		ctr_set(c, "pages_expected", json_integer(ctr_uint(r, "pages_expected")));
}

static int
outcome_failed(struct ctr *c, const cbor_item_t *r)
{
	const cbor_item_t *f = hwg_cbor_map_get(r, "failure", NULL);
	char code[48] = "failed", msg[256] = "", text[400];
	struct ctr_fail fail = {.device = "printer", .tries = -1};

	ctr_text(f, "code", code, sizeof(code));
	ctr_text(f, "msg", msg, sizeof(msg));
	snprintf(text, sizeof(text), "nothing was printed (%s)", msg);
	fail.code = code;
	fail.message = text;
	fail.action = strcmp(code, "paper_out") == 0
	                  ? "load paper into the printer, then issue again"
	                  : "put right what the message says, then issue again";
	ctr_pending_clear(c);
	return ctr_failed(c, CTR_EXIT_REFUSED, &fail);
}

int
ctr_issue_outcome(struct ctr *c, struct ctr_pending *p, const cbor_item_t *r)
{
	struct hwg_error err = {0};
	char state[24], no[100];

	show_issuance(c, r, state, sizeof(state));
	if (ctr_text(r, "issuance_no", no, sizeof(no))[0] != '\0' &&
	    strcmp(no, p->issuance_no) != 0) {
		snprintf(p->issuance_no, sizeof(p->issuance_no), "%s", no);
		(void)ctr_pending_save(c, p, &err);
	}
	if (strcmp(state, "printed") == 0) {
		if (ctr_uint(r, "pages") >= 0)
			ctr_say(
			    c,
			    "printed: certificate %s (%s), %lld page(s) confirmed by the printer",
			    p->issuance_no, p->kind, (long long)ctr_uint(r, "pages"));
		else
			ctr_say(c, "printed: certificate %s (%s), as a supervisor recorded it",
			        p->issuance_no, p->kind);
		ctr_say(c, "hand the certificate to the requester");
		ctr_pending_clear(c);
		return 0;
	}
	if (strcmp(state, "failed") == 0)
		return outcome_failed(c, r);
	if (strcmp(state, "not_printed") == 0) {
		ctr_say(c,
		        "certificate %s: a supervisor recorded that it did not come out; issue "
		        "again",
		        p->issuance_no);
		ctr_pending_clear(c);
		return 0;
	}
	if (strcmp(state, "unconfirmed") == 0) {
		struct ctr_fail f = {
		    .code = "print_unconfirmed",
		    .device = "printer",
		    .message = "the certificate was sent to the printer but its end was never "
		               "confirmed: it is held",
		    .action =
		        "do not issue again: a supervisor looks at the printer's output and "
		        "records it with `hwgw-counter supervise --outcome printed|not_printed`",
		    .tries = -1};
		ctr_say(c, "certificate %s held for a supervisor's decision", p->issuance_no);
		return ctr_failed(c, CTR_EXIT_PENDING, &f);
	}
	ctr_say(c, "certificate %s is %s: ask again with `hwgw-counter status`", p->issuance_no,
	        state);
	return CTR_EXIT_PENDING;
}

/* ---------------------------------------------------------------- cert.issue */

struct send_ctx {
	const struct ctr *c;
	struct ctr_pending *p;
};

/* The request's hash on disk before its first byte leaves. */
static int
before_send(void *arg, const struct ctr_answer *a, struct hwg_error *err)
{
	struct send_ctx *s = arg;

	memcpy(s->p->req_hash, a->req_hash, 32);
	s->p->has_hash = 1;
	s->p->req_t = a->req_t;
	return ctr_pending_save(s->c, s->p, err);
}

static cbor_item_t *
issue_args(const struct ctr *c, const struct ctr_pending *p, const char *doc, size_t len)
{
	cbor_item_t *m = cbor_new_definite_map(3);

	if (m == NULL || hwg_cbor_map_put_bytes(m, "document", (const uint8_t *)doc, len) != 0 ||
	    hwg_cbor_map_put_text(m, "request_id", p->request_id) != 0 ||
	    (c->conf.printer != NULL &&
	     hwg_cbor_map_put_text(m, "printer", c->conf.printer) != 0)) {
		if (m != NULL)
			cbor_decref(&m);
		return NULL;
	}
	return m;
}

static int
lost(struct ctr *c, const char *what)
{
	struct ctr_fail f = {.code = "outcome_unknown",
	                     .device = "gateway",
	                     .message = what,
	                     .action = "do not issue again: when the gateway answers, run "
	                               "`hwgw-counter status` to learn what became of it",
	                     .tries = -1};

	return ctr_failed(c, CTR_EXIT_PENDING, &f);
}

/* Codes refused before an issuance was reserved: nothing is in flight. */
static int
refused_before(const char *code)
{
	static const char *const codes[] = {
	    "document_signature", "document_mismatch", "document_invalid", "my_number_not_allowed",
	    "forbidden",          "session_required",  "bad_arguments",    "request_conflict",
	    "unknown_client",     "bad_signature",     "clock_skew",       "wrong_audience"};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

int
ctr_issue_send(struct ctr *c, struct ctr_pending *p)
{
	struct hwg_error err = {0};
	struct ctr_answer a = {0};
	struct send_ctx s = {c, p};
	char *doc = NULL;
	size_t len = 0;
	cbor_item_t *args = NULL;
	int rc;

	if (ctr_state_read(c, "issue.doc", &doc, &len, &err) != 0 ||
	    (args = issue_args(c, p, doc, len)) == NULL) {
		free(doc);
		return ctr_error(c, "state directory", &err, "issue again");
	}
	struct ctr_call call = {.op = "cert.issue",
	                        .args = args,
	                        .with_session = 1,
	                        .before_send = before_send,
	                        .arg = &s};
	ctr_progress(c, "printing (cert.issue, request id %s)", p->request_id);
	if (ctr_gw_call(c, &call, &a, &err) != 0)
		rc = a.sent ? lost(c, err.message) : ctr_gw_unreachable(c, "cert.issue", &err);
	else if (a.result != NULL)
		rc = ctr_issue_outcome(c, p, a.result);
	else if (refused_before(a.code)) {
		ctr_pending_clear(c);
		rc = ctr_gw_refused(c, "cert.issue", &a);
	} else if (p->resent) {
		rc = ctr_gw_refused(c, "cert.issue", &a);
		rc = rc == CTR_EXIT_REFUSED ? CTR_EXIT_PENDING : rc;
	} else {
		(void)ctr_gw_refused(c, "cert.issue", &a);
		ctr_progress(c, "asking the gateway what became of request id %s", p->request_id);
		ctr_answer_clear(&a);
		rc = ctr_issue_resolve(c, p);
	}
	ctr_answer_clear(&a);
	cbor_decref(&args);
	hwg_wipe(doc, len);
	free(doc);
	return rc;
}

/* ---------------------------------------------------------------- resolving */

static int
cert_status(struct ctr *c, struct ctr_pending *p)
{
	struct hwg_error err = {0};
	struct ctr_answer a = {0};
	cbor_item_t *args = cbor_new_definite_map(1);
	struct ctr_call call = {.op = "cert.status", .args = args};
	int rc;

	if (args == NULL || hwg_cbor_map_put_text(args, "issuance_no", p->issuance_no) != 0)
		return CTR_EXIT_ERROR;
	if (ctr_gw_call(c, &call, &a, &err) != 0)
		rc = lost(c, err.message);
	else if (a.result == NULL)
		rc = ctr_gw_refused(c, "cert.status", &a);
	else
		rc = ctr_issue_outcome(c, p, a.result);
	ctr_answer_clear(&a);
	cbor_decref(&args);
	return rc;
}

int
ctr_issue_resolve(struct ctr *c, struct ctr_pending *p)
{
	struct hwg_error err = {0};
	struct ctr_reqstatus st;

	if (p->issuance_no[0] != '\0')
		return cert_status(c, p);
	if (p->has_hash) {
		if (ctr_gw_request_status(c, p->req_hash, &st, &err) != 0)
			return lost(c, err.message);
		ctr_progress(c, "request.status: %s%s%s", st.state, st.code[0] ? " " : "", st.code);
		if (strcmp(st.state, "running") == 0 ||
		    (strcmp(st.state, "unknown") == 0 &&
		     st.gw_now_ms <= p->req_t + st.max_age_ms)) {
			ctr_say(c, "the request is still %s at the gateway: ask again in a moment",
			        strcmp(st.state, "running") == 0 ? "running" : "on its way");
			ctr_set(c, "state", json_string("running"));
			return CTR_EXIT_PENDING;
		}
	}
	/* ran, refused, or never ran: the request id names what the gateway holds, if anything */
	p->resent = 1;
	return ctr_issue_send(c, p);
}
