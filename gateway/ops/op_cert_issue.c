/*
 * op_cert_issue.c — cert.issue and cert.reprint: a certificate from a
 * document the registry signed, through every durable step of the
 * journal (api.cddl, "Certificates").
 *
 * prepare (state lock, the nonce's transaction): the operator's role,
 * the document's checks (hwg_certdoc_check: nothing that fails them is
 * rendered or printed, the remedy of the 2024 misprint), and the
 * reservation of an issuance number, committed with the nonce; a request
 * id the client used before answers with that first issuance instead.
 * run (no lock; each step made durable through the journal service
 * before the next starts): the verification code sealed by the keyholder,
 * the PDF laid out by the renderer, its digest sealed, the job sent, its
 * END awaited.  A failure before a byte left for the printer fails the
 * issuance (nothing printed); any after is held unconfirmed for a
 * supervisor (cert.resolve) and never printed again by itself.
 * commit: the issuance read back from the journal for the result (its
 * times are the journal's), and the audit record (operator, requester's
 * relation, resident, kind, the issuance's number and state).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_cbor.h"
#include "hwg_certcode.h"
#include "hwg_certdoc.h"
#include "hwg_issuance.h"
#include "hwg_ops.h"
#include "hwg_printer.h"
#include "hwg_rd_proto.h"
#include "hwg_renderer.h"
#include "hwg_schema.h"
#include "hwg_time.h"

/* src into dst whole, or -1 (nothing the journal holds is cut short on a page or a code). */
static int
copy_text(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* What prepare found, for run and commit. */
struct issue_state {
	struct hwg_certdoc doc;
	struct hwg_issuance iss;
	int existing; /* the client's request id named an issuance already */
	int was;      /* the state when run started */
};

static void
issue_state_free(void *p)
{
	struct issue_state *st = p;

	if (st == NULL)
		return;
	hwg_certdoc_clear(&st->doc);
	free(st);
}

/* ---------------------------------------------------------------- prepare */

/* cert.issue: an issuance or supervisor operator; cert.reprint: a supervisor only. */
static int
operator_check(const struct hwg_op_ctx *ctx, int reprint, struct hwg_error *err)
{
	int role = ctx->session.role;

	if (role == HWG_ROLE_SUPERVISOR || (!reprint && role == HWG_ROLE_ISSUANCE))
		return 0;
	return hwg_error_set(err, HWG_E_FORBIDDEN, "operator role %s may not %s certificates",
	                     hwg_role_name(role), reprint ? "reprint" : "issue");
}

static int
document_check(struct hwg_op_ctx *ctx, struct issue_state *st, struct hwg_error *err)
{
	const cbor_item_t *doc = hwg_cbor_map_get(ctx->req->args, "document", NULL);

	if (doc == NULL || !cbor_isa_bytestring(doc) || !cbor_bytestring_is_definite(doc))
		return hwg_error_set(err, HWG_E_BAD_ARGS, "\"document\" is required");
	return hwg_certdoc_check(cbor_bytestring_handle(doc), cbor_bytestring_length(doc),
	                         ctx->cfg->gateway_id, ctx->cert->registry_key,
	                         ctx->cert->registry_key_arg, &st->doc, err);
}

static int
reserve(struct hwg_op_ctx *ctx, struct issue_state *st, int reprint, struct hwg_error *err)
{
	char request_id[HWG_ISSUANCE_REQUEST_ID_MAX + 1] = "", orig[HWG_ISSUANCE_NO_MAX + 1] = "";
	char reason[HWG_ISSUANCE_TEXT_MAX + 1] = "";
	struct hwg_issuance_request rq = {
	    .gateway_id = ctx->cfg->gateway_id,
	    .client_id = ctx->client->id,
	    .request_id = request_id,
	    .operator_id = ctx->session.operator_id,
	    .relation = hwg_certdoc_relation_name(st->doc.relation),
	    .subject = st->doc.subject,
	    .kind = hwg_certdoc_kind_name(st->doc.kind),
	    .doc_digest = st->doc.digest,
	    .household = st->doc.household,
	    .my_number = st->doc.my_number,
	    .now_ms = hwg_now_ms(),
	};

	hwg_args_text(ctx->req->args, "request_id", request_id, sizeof(request_id));
	if (reprint) {
		hwg_args_text(ctx->req->args, "issuance_no", orig, sizeof(orig));
		hwg_args_text(ctx->req->args, "reason", reason, sizeof(reason));
		rq.original_no = orig;
		rq.reprint_reason = reason;
	}
	return hwg_issuance_reserve(ctx->store, &rq, &st->iss, &st->existing, err);
}

static int
prepare(struct hwg_op_ctx *ctx, int reprint, struct hwg_error *err)
{
	struct issue_state *st;
	int rc;

	if ((rc = operator_check(ctx, reprint, err)) != 0)
		return rc;
	if (ctx->cert == NULL || ctx->cert->renderer == NULL)
		return hwg_error_set(
		    err, HWG_E_UNAVAILABLE,
		    "certificates are not enabled on this gateway ([cert] enabled)");
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	ctx->op_state = st;
	ctx->op_state_free = issue_state_free;
	if ((rc = document_check(ctx, st, err)) != 0) {
		snprintf(ctx->subject, sizeof(ctx->subject), "%s", st->doc.subject);
		return rc;
	}
	snprintf(ctx->subject, sizeof(ctx->subject), "%s", st->doc.subject);
	if ((rc = reserve(ctx, st, reprint, err)) != 0)
		return rc;
	st->was = st->existing ? -1 : HWG_ISSUANCE_RESERVED;
	return 0;
}

int
hwg_op_cert_issue_prepare(struct hwg_op_ctx *ctx, struct hwg_error *err)
{
	return prepare(ctx, 0, err);
}

int
hwg_op_cert_reprint_prepare(struct hwg_op_ctx *ctx, struct hwg_error *err)
{
	return prepare(ctx, 1, err);
}

/* ---------------------------------------------------------------- run */

/* The verification code's text (malloc'd into *code), sealed by the keyholder. */
static int
seal_code(struct hwg_op_ctx *ctx, const struct issue_state *st, char **code, struct hwg_error *err)
{
	struct hwg_certcode_summary s = {0};
	uint8_t *cose = NULL;
	size_t len = 0;
	int rc;

	memcpy(s.doc, st->doc.digest, sizeof(s.doc));
	if (copy_text(s.no, sizeof(s.no), st->iss.no) != 0 ||
	    copy_text(s.kind, sizeof(s.kind), st->iss.kind) != 0 ||
	    copy_text(s.date, sizeof(s.date), st->iss.date) != 0 ||
	    copy_text(s.gw, sizeof(s.gw), ctx->cfg->gateway_id) != 0 ||
	    copy_text(s.orig, sizeof(s.orig), st->iss.original_no) != 0)
		return hwg_error_set(err, HWG_E_INTERNAL, "issuance %s: too long for its code",
		                     st->iss.no);
	if ((rc = ctx->keys->seal_summary(ctx->keys->arg, &s, &cose, &len, err)) != 0)
		return rc;
	rc = hwg_certcode_text(cose, len, code, err);
	free(cose);
	return rc;
}

/* The render request of the checked document: only its fields reach the page. */
static int
render_request(struct hwg_op_ctx *ctx, const struct issue_state *st, const char *code,
               uint8_t **out, size_t *len, struct hwg_error *err)
{
	struct hwg_rd_request r = {.kind = hwg_rd_kind_from_name(st->iss.kind),
	                           .household = st->doc.household,
	                           .my_number = st->doc.my_number};
	int rc = 0;

	if (copy_text(r.no, sizeof(r.no), st->iss.no) != 0 ||
	    copy_text(r.date, sizeof(r.date), st->iss.date) != 0 ||
	    copy_text(r.city, sizeof(r.city), ctx->cert->city) != 0 ||
	    copy_text(r.mayor, sizeof(r.mayor), ctx->cert->mayor) != 0 ||
	    copy_text(r.code, sizeof(r.code), code) != 0 ||
	    copy_text(r.orig, sizeof(r.orig), st->iss.original_no) != 0)
		return hwg_error_set(err, HWG_E_RENDER_FAILED,
		                     "issuance %s: a text too long for the page", st->iss.no);
	if ((r.people = calloc(st->doc.n_people, sizeof(*r.people))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	r.n_people = st->doc.n_people;
	for (size_t i = 0; i < st->doc.n_people && rc == 0; i++) {
		const struct hwg_certdoc_person *p = &st->doc.people[i];

		for (size_t j = 0; j < p->n_fields && rc == 0; j++)
			if (hwg_rd_person_set(&r.people[i], p->fields[j].name,
			                      p->fields[j].value) != 0)
				rc = hwg_error_set(err, HWG_E_RENDER_FAILED,
				                   "person %zu: field %s has no place on the page",
				                   i + 1, p->fields[j].name);
	}
	if (rc == 0)
		rc = hwg_rd_request_encode(&r, out, len, err);
	if (rc != 0 && rc != HWG_E_RENDER_FAILED && rc != HWG_E_NOMEM) {
		char why[sizeof(err->message)];

		snprintf(why, sizeof(why), "%s", err->message);
		rc = hwg_error_prefixed(err, HWG_E_RENDER_FAILED, "render request", "%s", why);
	}
	hwg_rd_request_clear(&r);
	return rc;
}

static int
render(struct hwg_op_ctx *ctx, struct issue_state *st, struct hwg_renderer_pdf *pdf,
       struct hwg_error *err)
{
	char *code = NULL;
	uint8_t *req = NULL;
	size_t len = 0;
	int rc;

	if ((rc = seal_code(ctx, st, &code, err)) != 0)
		return rc;
	if ((rc = render_request(ctx, st, code, &req, &len, err)) == 0)
		rc = hwg_renderer_render(ctx->cert->renderer, req, len, pdf, err);
	free(code);
	free(req);
	return rc;
}

struct send_hook {
	struct hwg_op_ctx *ctx;
	struct issue_state *st;
};

/* Before the first byte leaves: the journal says sent, or nothing is sent. */
static int
before_send(void *arg, const char *serial)
{
	struct send_hook *h = arg;
	struct hwg_error err = {0};
	int rc;

	rc =
	    h->ctx->journal->sent(h->ctx->journal->arg, h->st->iss.no, serial, h->st->iss.no, &err);
	if (rc == 0) {
		h->st->iss.state = HWG_ISSUANCE_SENT;
		copy_text(h->st->iss.printer, sizeof(h->st->iss.printer), serial);
		copy_text(h->st->iss.job_name, sizeof(h->st->iss.job_name), h->st->iss.no);
	}
	return rc;
}

/* A failure: before anything was sent the issuance failed; after, it is held unconfirmed. */
static int
settle_failure(struct hwg_op_ctx *ctx, struct issue_state *st, int rc, struct hwg_error *err)
{
	const struct hwg_op_journal *j = ctx->journal;
	struct hwg_error jerr = {0};
	char why[sizeof(err->message)];

	snprintf(why, sizeof(why), "%s", err->message);
	if (st->iss.state == HWG_ISSUANCE_SENT) {
		if (j->unconfirmed(j->arg, st->iss.no, rc, why, &jerr) == 0)
			st->iss.state = HWG_ISSUANCE_UNCONFIRMED;
		return hwg_error_set(err, rc,
		                     "issuance %s held unconfirmed for a supervisor's decision "
		                     "(cert.resolve), not to be printed again without one: %s",
		                     st->iss.no, why);
	}
	if (j->failed(j->arg, st->iss.no, rc, why, &jerr) == 0)
		st->iss.state = HWG_ISSUANCE_FAILED;
	return hwg_error_set(err, rc, "issuance %s failed, nothing was printed: %s", st->iss.no,
	                     why);
}

static int
print(struct hwg_op_ctx *ctx, struct issue_state *st, const struct hwg_renderer_pdf *pdf,
      struct hwg_error *err)
{
	const struct hwg_op_journal *j = ctx->journal;
	struct send_hook hook = {ctx, st};
	struct hwg_print_result res = {0};
	char serial[64] = "";
	int rc;

	if (ctx->cert->printers == NULL)
		return hwg_error_set(err, HWG_E_NO_PRINTER,
		                     "no printer driver runs ([printer] enabled)");
	hwg_args_text(ctx->req->args, "printer", serial, sizeof(serial));
	rc = hwg_printer_print(ctx->cert->printers, serial[0] ? serial : NULL, st->iss.no, pdf->pdf,
	                       pdf->len, ctx->cert->job_timeout_ms, before_send, &hook, &res, err);
	if (rc != 0)
		return rc;
	if (res.pages != pdf->pages)
		return hwg_error_set(err, HWG_E_PRINT_UNCONFIRMED,
		                     "the printer confirmed %u pages of %u", res.pages, pdf->pages);
	if ((rc = j->printed(j->arg, st->iss.no, res.pages, err)) != 0)
		return rc;
	st->iss.state = HWG_ISSUANCE_PRINTED;
	st->iss.pages_confirmed = res.pages;
	return 0;
}

/* Render, seal and print the reserved issuance, each step durable before the next. */
static int
produce(struct hwg_op_ctx *ctx, struct issue_state *st, struct hwg_error *err)
{
	const struct hwg_op_journal *j = ctx->journal;
	struct hwg_renderer_pdf pdf = {0};
	uint8_t digest[32], seal[HWG_CERTCODE_SEAL_LEN];
	int rc;

	if ((rc = render(ctx, st, &pdf, err)) == 0 &&
	    (rc = EVP_Digest(pdf.pdf, pdf.len, digest, NULL, EVP_sha256(), NULL) == 1
	              ? 0
	              : hwg_error_set(err, HWG_E_INTERNAL, "SHA-256 failed")) == 0 &&
	    (rc = j->rendered(j->arg, st->iss.no, digest, pdf.pages, err)) == 0) {
		st->iss.state = HWG_ISSUANCE_RENDERED;
		st->iss.pages_expected = pdf.pages;
		if ((rc = ctx->keys->seal_pdf(ctx->keys->arg, st->iss.no, digest, seal, err)) ==
		        0 &&
		    (rc = j->sealed(j->arg, st->iss.no, seal, err)) == 0) {
			st->iss.state = HWG_ISSUANCE_SEALED;
			rc = print(ctx, st, &pdf, err);
		}
	}
	hwg_renderer_pdf_clear(&pdf);
	if (rc != 0 && st->iss.state != HWG_ISSUANCE_PRINTED)
		rc = settle_failure(ctx, st, rc, err);
	return rc;
}

static int
run(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	struct issue_state *st = ctx->op_state;
	int rc = 0;

	if (!st->existing && (rc = produce(ctx, st, err)) != 0)
		return rc;
	if ((*result = hwg_op_issuance_item(&st->iss)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	return 0;
}

int
hwg_op_cert_issue(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	return run(ctx, result, err);
}

int
hwg_op_cert_reprint(struct hwg_op_ctx *ctx, cbor_item_t **result, struct hwg_error *err)
{
	return run(ctx, result, err);
}

/* ---------------------------------------------------------------- commit */

/*
 * The issuance as the journal holds it now (run kept only its state:
 * each step's time is the journal's), for the result and the audit; the
 * result run made is kept if the row cannot be read.
 */
static void
refresh(struct hwg_op_ctx *ctx, struct issue_state *st, int rc, cbor_item_t **result)
{
	struct hwg_issuance fresh;
	struct hwg_error e = {0};
	cbor_item_t *item;

	if (hwg_issuance_get(ctx->store, st->iss.no, &fresh, &e) != 0)
		return;
	st->iss = fresh;
	if (rc != 0 || *result == NULL || (item = hwg_op_issuance_item(&fresh)) == NULL)
		return;
	cbor_decref(result);
	*result = item;
}

/* The audit record: who, for whom, which kind, and where the issuance ended. */
int
hwg_op_cert_issue_commit(struct hwg_op_ctx *ctx, int rc, cbor_item_t **result,
                         struct hwg_error *err)
{
	struct issue_state *st = ctx->op_state;
	size_t n;

	if (st == NULL || st->iss.no[0] == '\0')
		return rc;
	refresh(ctx, st, rc, result);
	hwg_op_issuance_audit(ctx, &st->iss, st->was);
	n = strlen(ctx->audit_detail);
	snprintf(ctx->audit_detail + n, sizeof(ctx->audit_detail) - n, " kind=%s relation=%s%s%s",
	         st->iss.kind, st->iss.relation,
	         st->existing ? " (the first issuance of this request id)" : "",
	         rc != 0 ? ": " : "");
	if (rc != 0) { /* the reason too (the journal's, without the number again) */
		n = strlen(ctx->audit_detail);
		snprintf(ctx->audit_detail + n, sizeof(ctx->audit_detail) - n, "%s",
		         st->iss.failure_msg[0] != '\0' ? st->iss.failure_msg : err->message);
	}
	return rc;
}
