/*
 * test_cert_ops.c — the certificate operations that print nothing
 * (gateway/ops/op_cert.c), as handlers given a context and nothing else
 * (as test_ops.c does): issuances written through the journal's API into
 * a real store, then cert.status (the client that asked for it, another
 * client, an auditor, an unknown number), cert.resolve (no session, an
 * operator who is not a supervisor, each issuance state but unconfirmed,
 * both outcomes, a bad outcome), cert.history (newest first, a limit,
 * nobody's), each with what its audit record will name; and device.list
 * with and without the printer hook.  That each refusal is audited is
 * the core's part: test_cert_core checks it on the request path.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hwg_card_service.h"
#include "hwg_cbor.h"
#include "hwg_clients.h"
#include "hwg_config.h"
#include "hwg_issuance.h"
#include "hwg_ops.h"
#include "hwg_palm.h"
#include "hwg_store.h"
#include "hwg_test.h"
#include "hwg_time.h"

#define GW "cert-test-gw"
#define ALICE "12345678901"
#define BOB "10987654321"

static struct hwg_config cfg;
static struct hwg_store *store;
static struct hwg_card_service *cards;
static struct hwg_palm *palm;
static char dir[64];
static int requests;
static const uint8_t digest[32] = {0xd0};

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
setup(void)
{
	struct hwg_error err = {0};

	snprintf(dir, sizeof(dir), "/tmp/hwgw-cert-ops-test.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	hwg_config_defaults(&cfg);
	free(cfg.gateway_id);
	free(cfg.state_dir);
	free(cfg.hsm_token);
	cfg.gateway_id = strdup(GW);
	cfg.state_dir = strdup(dir);
	cfg.hsm_token = strdup("no-token");
	cfg.card_enabled = 0; /* device.list: no readers, no terminals */
	cfg.vein_enabled = 0;
	if (hwg_store_open(dir, 1, &store, &err) != 0 ||
	    hwg_card_service_open(&cfg, NULL, NULL, &cards, &err) != 0 ||
	    hwg_palm_open(&cfg, NULL, NULL, store, &palm, &err) != 0) {
		fprintf(stderr, "set-up: %s\n", err.message);
		exit(2);
	}
}

static void
teardown(void)
{
	hwg_palm_close(palm);
	hwg_card_service_close(cards);
	hwg_store_close(store);
	hwg_config_clear(&cfg);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---------------------------------------------------------------- helpers */

/* A request of client (with role) carrying args (taken). */
struct call {
	struct hwg_request req;
	struct hwg_client_entry client;
	struct hwg_op_ctx ctx;
	struct hwg_error err;
	cbor_item_t *result;
};

static void
call_init(struct call *c, const char *client, int role, cbor_item_t *args)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->req.client_id, sizeof(c->req.client_id), "%s", client);
	c->req.args = args != NULL ? args : cbor_new_definite_map(0);
	snprintf(c->client.id, sizeof(c->client.id), "%s", client);
	c->client.role = role;
	c->ctx = (struct hwg_op_ctx){.cfg = &cfg,
	                             .store = store,
	                             .cards = cards,
	                             .palm = palm,
	                             .req = &c->req,
	                             .client = &c->client,
	                             .tries_left = -1};
}

/* A session of operator with role on the call (hwg_core checked it). */
static void
call_session(struct call *c, const char *operator_id, int role)
{
	c->ctx.session.present = 1;
	c->ctx.session.role = role;
	snprintf(c->ctx.session.operator_id, sizeof(c->ctx.session.operator_id), "%s", operator_id);
	snprintf(c->ctx.operator_id, sizeof(c->ctx.operator_id), "%s", operator_id);
}

static void
call_clear(struct call *c)
{
	if (c->result != NULL)
		cbor_decref(&c->result);
	if (c->req.args != NULL)
		cbor_decref(&c->req.args);
}

static cbor_item_t *
args_no(const char *no)
{
	cbor_item_t *m = cbor_new_definite_map(1);

	hwg_cbor_map_put_text(m, "issuance_no", no);
	return m;
}

static cbor_item_t *
args_resolve(const char *no, const char *outcome, const char *note)
{
	cbor_item_t *m = cbor_new_definite_map(note != NULL ? 3 : 2);

	hwg_cbor_map_put_text(m, "issuance_no", no);
	hwg_cbor_map_put_text(m, "outcome", outcome);
	if (note != NULL)
		hwg_cbor_map_put_text(m, "note", note);
	return m;
}

/* An issuance of subject asked for by client, taken to state through the journal. */
static void
issue(const char *client, const char *subject, int state, struct hwg_issuance *r)
{
	struct hwg_error err = {0};
	char rid[32];
	struct hwg_issuance_request rq = {.gateway_id = GW,
	                                  .client_id = client,
	                                  .request_id = rid,
	                                  .operator_id = "clerk.1",
	                                  .relation = "proxy",
	                                  .subject = subject,
	                                  .kind = "juminhyo",
	                                  .doc_digest = digest,
	                                  .my_number = 0,
	                                  .now_ms = hwg_now_ms() + requests};
	int64_t t = rq.now_ms; /* each step a millisecond after the one before */
	int rc;

	snprintf(rid, sizeof(rid), "rid-%d", ++requests);
	rc = hwg_issuance_reserve(store, &rq, r, NULL, &err);
	if (rc == 0 && state == HWG_ISSUANCE_FAILED)
		rc = hwg_issuance_failed(store, r->no, HWG_E_RENDER_FAILED, "renderer died", t + 1,
		                         &err);
	if (rc == 0 && state != HWG_ISSUANCE_RESERVED && state != HWG_ISSUANCE_FAILED)
		rc = hwg_issuance_rendered(store, r->no, digest, 2, t + 2, &err);
	if (rc == 0 && state >= HWG_ISSUANCE_SEALED && state != HWG_ISSUANCE_FAILED)
		rc = hwg_issuance_sealed(store, r->no, (const uint8_t[64]){1}, t + 3, &err);
	if (rc == 0 && state >= HWG_ISSUANCE_SENT && state != HWG_ISSUANCE_FAILED)
		rc = hwg_issuance_sent(store, r->no, "PRN-1", r->no, t + 4, &err);
	if (rc == 0 && state == HWG_ISSUANCE_PRINTED)
		rc = hwg_issuance_printed(store, r->no, 2, t + 5, &err);
	if (rc == 0 && (state == HWG_ISSUANCE_UNCONFIRMED || state == HWG_ISSUANCE_NOT_PRINTED))
		rc = hwg_issuance_unconfirmed(store, r->no, HWG_E_PRINTER_JAM, "jam at page 2",
		                              t + 5, &err);
	if (rc == 0 && state == HWG_ISSUANCE_NOT_PRINTED)
		rc = hwg_issuance_resolve(store, r->no, HWG_ISSUANCE_NOT_PRINTED, "super.0", NULL,
		                          t + 6, &err);
	if (rc == 0)
		rc = hwg_issuance_get(store, r->no, r, &err);
	if (rc != 0 || r->state != state)
		fprintf(stderr, "  issue %s: %s\n", hwg_issuance_state_name(state), err.message);
}

static int
text_is(const cbor_item_t *m, const char *key, const char *want)
{
	int ok = hwg_cbor_text_eq(hwg_cbor_map_get(m, key, NULL), want);

	if (!ok)
		fprintf(stderr, "  \"%s\" is not \"%s\"\n", key, want);
	return ok;
}

static uint64_t
uint_of(const cbor_item_t *m, const char *key)
{
	uint64_t v = 0;

	return hwg_cbor_uint(hwg_cbor_map_get(m, key, NULL), &v) == 0 ? v : (uint64_t)-1;
}

/* ---------------------------------------------------------------- cert.status */

static void
test_status_for_the_client_that_asked(void)
{
	struct hwg_issuance r;
	struct call c;
	const cbor_item_t *f;

	issue("station-1", ALICE, HWG_ISSUANCE_UNCONFIRMED, &r);
	call_init(&c, "station-1", HWG_ROLE_ISSUANCE, args_no(r.no));
	CHECK_EQ_INT(hwg_op_cert_status(&c.ctx, &c.result, &c.err), 0);
	REQUIRE(c.result != NULL);
	CHECK(text_is(c.result, "issuance_no", r.no));
	CHECK(text_is(c.result, "state", "unconfirmed"));
	CHECK(text_is(c.result, "kind", "juminhyo"));
	CHECK(text_is(c.result, "date", r.date));
	CHECK(text_is(c.result, "printer", "PRN-1"));
	CHECK_EQ_INT(uint_of(c.result, "pages_expected"), 2);
	CHECK_EQ_INT(uint_of(c.result, "reserved_ms"), r.reserved_ms);
	CHECK_EQ_INT(uint_of(c.result, "updated_ms"), r.unconfirmed_ms); /* its latest step */
	CHECK(hwg_cbor_map_get(c.result, "pages", NULL) == NULL);
	CHECK(hwg_cbor_map_get(c.result, "original", NULL) == NULL);
	f = hwg_cbor_map_get(c.result, "failure", NULL);
	CHECK(f != NULL && text_is(f, "code", "printer_jam") && text_is(f, "msg", "jam at page 2"));
	CHECK_EQ_INT(cbor_map_size(c.result), 9);
	/* never the resident code, the requester or the operator in the answer */
	CHECK(hwg_cbor_map_get(c.result, "subject", NULL) == NULL);
	CHECK_EQ_STR(c.ctx.subject, ALICE);
	CHECK(strstr(c.ctx.audit_detail, r.no) != NULL &&
	      strstr(c.ctx.audit_detail, "state=unconfirmed") != NULL);
	call_clear(&c);
}

static void
test_status_printed(void)
{
	struct hwg_issuance r;
	struct call c;

	issue("station-1", ALICE, HWG_ISSUANCE_PRINTED, &r);
	call_init(&c, "station-1", HWG_ROLE_ISSUANCE, args_no(r.no));
	CHECK_EQ_INT(hwg_op_cert_status(&c.ctx, &c.result, &c.err), 0);
	REQUIRE(c.result != NULL);
	CHECK(text_is(c.result, "state", "printed"));
	CHECK_EQ_INT(uint_of(c.result, "pages"), 2);
	CHECK(hwg_cbor_map_get(c.result, "failure", NULL) == NULL);
	call_clear(&c);
}

static void
test_status_of_another_clients_issuance(void)
{
	struct hwg_issuance r;
	struct call c;

	issue("station-1", ALICE, HWG_ISSUANCE_FAILED, &r);
	/* another station: refused, and the audit names whose certificate it asked about */
	call_init(&c, "station-2", HWG_ROLE_ISSUANCE, args_no(r.no));
	CHECK_EQ_INT(hwg_op_cert_status(&c.ctx, &c.result, &c.err), HWG_E_FORBIDDEN);
	CHECK(strstr(c.err.message, "another client") != NULL);
	CHECK(c.result == NULL);
	CHECK_EQ_STR(c.ctx.subject, ALICE);
	CHECK_EQ_STR(c.ctx.audit_detail, "");
	call_clear(&c);
	/* a supervisor's client is another client too */
	call_init(&c, "super-desk", HWG_ROLE_SUPERVISOR, args_no(r.no));
	CHECK_EQ_INT(hwg_op_cert_status(&c.ctx, &c.result, &c.err), HWG_E_FORBIDDEN);
	call_clear(&c);
	/* an auditor sees any */
	call_init(&c, "auditor-1", HWG_ROLE_AUDITOR, args_no(r.no));
	CHECK_EQ_INT(hwg_op_cert_status(&c.ctx, &c.result, &c.err), 0);
	REQUIRE(c.result != NULL);
	CHECK(text_is(c.result, "state", "failed"));
	call_clear(&c);
}

static void
test_status_unknown(void)
{
	struct call c;

	call_init(&c, "station-1", HWG_ROLE_ISSUANCE, args_no(GW "-20240401-999999"));
	CHECK_EQ_INT(hwg_op_cert_status(&c.ctx, &c.result, &c.err), HWG_E_NOT_FOUND);
	CHECK_EQ_STR(c.err.message, "no issuance " GW "-20240401-999999");
	CHECK_EQ_STR(c.ctx.subject, "");
	call_clear(&c);
	call_init(&c, "station-1", HWG_ROLE_ISSUANCE, NULL);
	CHECK_EQ_INT(hwg_op_cert_status(&c.ctx, &c.result, &c.err), HWG_E_BAD_ARGS);
	call_clear(&c);
}

/* ---------------------------------------------------------------- cert.resolve */

static void
test_resolve_needs_a_supervisor(void)
{
	struct hwg_issuance r;
	struct call c;

	issue("station-1", ALICE, HWG_ISSUANCE_UNCONFIRMED, &r);
	call_init(&c, "station-1", HWG_ROLE_ISSUANCE, args_resolve(r.no, "printed", NULL));
	CHECK_EQ_INT(hwg_op_cert_resolve(&c.ctx, &c.result, &c.err), HWG_E_SESSION);
	CHECK(strstr(c.err.message, "supervisor") != NULL);
	call_clear(&c);
	call_init(&c, "station-1", HWG_ROLE_ISSUANCE, args_resolve(r.no, "printed", NULL));
	call_session(&c, "clerk.1", HWG_ROLE_ISSUANCE);
	CHECK_EQ_INT(hwg_op_cert_resolve(&c.ctx, &c.result, &c.err), HWG_E_FORBIDDEN);
	CHECK(strstr(c.err.message, "\"clerk.1\" (role issuance)") != NULL);
	CHECK(c.result == NULL);
	call_clear(&c);
	call_init(&c, "station-1", HWG_ROLE_ISSUANCE, args_resolve(r.no, "printed", NULL));
	call_session(&c, "boss.1", HWG_ROLE_ADMIN);
	CHECK_EQ_INT(hwg_op_cert_resolve(&c.ctx, &c.result, &c.err), HWG_E_FORBIDDEN);
	call_clear(&c);
	CHECK_EQ_INT(hwg_issuance_get(store, r.no, &r, NULL), 0);
	CHECK_EQ_INT(r.state, HWG_ISSUANCE_UNCONFIRMED);
}

static void
test_resolve_only_unconfirmed(void)
{
	for (int st = 0; st < HWG_ISSUANCE_STATE_COUNT_; st++) {
		struct hwg_issuance r;
		struct call c;

		if (st == HWG_ISSUANCE_UNCONFIRMED)
			continue;
		issue("station-1", ALICE, st, &r);
		call_init(&c, "station-1", HWG_ROLE_ISSUANCE, args_resolve(r.no, "printed", NULL));
		call_session(&c, "super.1", HWG_ROLE_SUPERVISOR);
		CHECK_EQ_INT(hwg_op_cert_resolve(&c.ctx, &c.result, &c.err), HWG_E_WRONG_STATE);
		CHECK(strstr(c.err.message, hwg_issuance_state_name(st)) != NULL);
		CHECK_EQ_STR(c.ctx.subject, ALICE);
		call_clear(&c);
		CHECK_EQ_INT(hwg_issuance_get(store, r.no, &r, NULL), 0);
		CHECK_EQ_INT(r.state, st);
	}
}

static void
resolve_to(const char *outcome, int state, const char *note)
{
	struct hwg_issuance r;
	struct call c;
	char detail[200];

	issue("station-1", BOB, HWG_ISSUANCE_UNCONFIRMED, &r);
	/* from another station than the one that asked: a supervisor may walk over */
	call_init(&c, "station-2", HWG_ROLE_ISSUANCE, args_resolve(r.no, outcome, note));
	call_session(&c, "super.1", HWG_ROLE_SUPERVISOR);
	CHECK_EQ_INT(hwg_op_cert_resolve(&c.ctx, &c.result, &c.err), 0);
	REQUIRE(c.result != NULL);
	CHECK(text_is(c.result, "state", outcome));
	CHECK(text_is(c.result, "resolved_by", "super.1"));
	CHECK(hwg_cbor_map_get(c.result, "pages", NULL) == NULL); /* no printer confirmed pages */
	CHECK(hwg_cbor_map_get(c.result, "failure", NULL) != NULL);
	CHECK_EQ_STR(c.ctx.subject, BOB);
	snprintf(detail, sizeof(detail), "issuance=%s unconfirmed -> %s", r.no, outcome);
	CHECK_EQ_STR(c.ctx.audit_detail, detail);
	call_clear(&c);
	CHECK_EQ_INT(hwg_issuance_get(store, r.no, &r, NULL), 0);
	CHECK_EQ_INT(r.state, state);
	CHECK_EQ_STR(r.resolved_by, "super.1");
	CHECK_EQ_STR(r.resolution_note, note != NULL ? note : "");
	/* decided once: a second decision finds it no longer unconfirmed */
	call_init(&c, "station-2", HWG_ROLE_ISSUANCE, args_resolve(r.no, "not_printed", NULL));
	call_session(&c, "super.2", HWG_ROLE_SUPERVISOR);
	CHECK_EQ_INT(hwg_op_cert_resolve(&c.ctx, &c.result, &c.err), HWG_E_WRONG_STATE);
	call_clear(&c);
}

static void
test_resolve_printed(void)
{
	resolve_to("printed", HWG_ISSUANCE_PRINTED, "the resident has the copy");
}

static void
test_resolve_not_printed(void)
{
	resolve_to("not_printed", HWG_ISSUANCE_NOT_PRINTED, NULL);
}

static void
test_resolve_bad_arguments(void)
{
	struct hwg_issuance r;
	struct call c;

	issue("station-1", ALICE, HWG_ISSUANCE_UNCONFIRMED, &r);
	call_init(&c, "station-1", HWG_ROLE_ISSUANCE, args_resolve(r.no, "maybe", NULL));
	call_session(&c, "super.1", HWG_ROLE_SUPERVISOR);
	CHECK_EQ_INT(hwg_op_cert_resolve(&c.ctx, &c.result, &c.err), HWG_E_BAD_ARGS);
	CHECK(strstr(c.err.message, "\"outcome\"") != NULL);
	call_clear(&c);
	call_init(&c, "station-1", HWG_ROLE_ISSUANCE,
	          args_resolve(GW "-20240401-999999", "printed", NULL));
	call_session(&c, "super.1", HWG_ROLE_SUPERVISOR);
	CHECK_EQ_INT(hwg_op_cert_resolve(&c.ctx, &c.result, &c.err), HWG_E_NOT_FOUND);
	call_clear(&c);
	CHECK_EQ_INT(hwg_issuance_get(store, r.no, &r, NULL), 0);
	CHECK_EQ_INT(r.state, HWG_ISSUANCE_UNCONFIRMED);
}

/* ---------------------------------------------------------------- cert.history */

static cbor_item_t *
args_history(const char *code, uint64_t limit)
{
	cbor_item_t *m = cbor_new_definite_map(limit > 0 ? 2 : 1);

	hwg_cbor_map_put_text(m, "resident_code", code);
	if (limit > 0)
		hwg_cbor_map_put_uint(m, "limit", limit);
	return m;
}

static void
test_history(void)
{
	const char *carol = "55555555555";
	struct hwg_issuance a, b, d;
	struct call c;
	cbor_item_t *list, *e;

	issue("station-1", carol, HWG_ISSUANCE_PRINTED, &a);
	issue("station-2", carol, HWG_ISSUANCE_FAILED, &b);
	issue("station-1", ALICE, HWG_ISSUANCE_PRINTED, &d);
	call_init(&c, "auditor-1", HWG_ROLE_AUDITOR, args_history(carol, 0));
	CHECK_EQ_INT(hwg_op_cert_history(&c.ctx, &c.result, &c.err), 0);
	REQUIRE(c.result != NULL);
	CHECK(text_is(c.result, "resident_code", carol));
	list = hwg_cbor_map_get(c.result, "issuances", NULL);
	REQUIRE(list != NULL && cbor_isa_array(list) && cbor_array_size(list) == 2);
	e = cbor_array_get(list, 0); /* newest first */
	CHECK(text_is(e, "issuance_no", b.no));
	CHECK(text_is(e, "state", "failed"));
	CHECK(text_is(e, "client", "station-2"));
	cbor_decref(&e);
	e = cbor_array_get(list, 1);
	CHECK(text_is(e, "issuance_no", a.no));
	CHECK(text_is(e, "kind", "juminhyo"));
	CHECK(text_is(e, "date", a.date));
	CHECK(text_is(e, "state", "printed"));
	CHECK(text_is(e, "operator", "clerk.1"));
	CHECK(text_is(e, "relation", "proxy"));
	CHECK(text_is(e, "client", "station-1"));
	CHECK_EQ_INT(uint_of(e, "reserved_ms"), a.reserved_ms);
	CHECK(cbor_get_bool(hwg_cbor_map_get(e, "household", NULL)) == false);
	CHECK(cbor_get_bool(hwg_cbor_map_get(e, "my_number", NULL)) == false);
	cbor_decref(&e);
	CHECK_EQ_STR(c.ctx.subject, carol);
	CHECK_EQ_STR(c.ctx.audit_detail, "issuances=2");
	call_clear(&c);
	/* a limit */
	call_init(&c, "auditor-1", HWG_ROLE_AUDITOR, args_history(carol, 1));
	CHECK_EQ_INT(hwg_op_cert_history(&c.ctx, &c.result, &c.err), 0);
	REQUIRE(c.result != NULL);
	CHECK_EQ_INT(cbor_array_size(hwg_cbor_map_get(c.result, "issuances", NULL)), 1);
	call_clear(&c);
	/* nobody's: an empty list */
	call_init(&c, "auditor-1", HWG_ROLE_AUDITOR, args_history("00000000000", 0));
	CHECK_EQ_INT(hwg_op_cert_history(&c.ctx, &c.result, &c.err), 0);
	REQUIRE(c.result != NULL);
	CHECK_EQ_INT(cbor_array_size(hwg_cbor_map_get(c.result, "issuances", NULL)), 0);
	CHECK_EQ_STR(c.ctx.audit_detail, "issuances=0");
	call_clear(&c);
	/* the schema checks the length; the handler the digits */
	call_init(&c, "auditor-1", HWG_ROLE_AUDITOR, args_history("1234567890x", 0));
	CHECK_EQ_INT(hwg_op_cert_history(&c.ctx, &c.result, &c.err), HWG_E_BAD_ARGS);
	CHECK(c.result == NULL);
	call_clear(&c);
}

/* ---------------------------------------------------------------- device.list */

static int
no_key(void *arg, int which, EVP_PKEY **out, int *alg, struct hwg_error *err)
{
	(void)arg;
	(void)which;
	(void)alg;
	*out = NULL;
	return hwg_error_set(err, HWG_E_HSM, "no token here");
}

static int
no_token(void *arg, struct hwg_op_token_info *out, struct hwg_error *err)
{
	(void)arg;
	memset(out, 0, sizeof(*out));
	return hwg_error_set(err, HWG_E_HSM, "no token here");
}

static void
two_printers(void *arg, struct hwg_op_printer *out, size_t max, size_t *n)
{
	(*(int *)arg)++;
	*n = 0;
	if (max < 2)
		return;
	snprintf(out[0].serial, sizeof(out[0].serial), "PRN-1");
	snprintf(out[0].model, sizeof(out[0].model), "CP-900");
	out[0].state = HWG_OP_PRINTER_READY;
	snprintf(out[1].serial, sizeof(out[1].serial), "PRN-2");
	out[1].state = HWG_OP_PRINTER_PAPER_OUT;
	*n = 2;
}

/* The devices of class cls in a device.list result, into found (at most 4). */
static size_t
devices_of(const cbor_item_t *result, const char *cls, cbor_item_t *found[4])
{
	const cbor_item_t *devices = hwg_cbor_map_get(result, "devices", NULL);
	size_t n = 0;

	for (size_t i = 0; devices != NULL && i < cbor_array_size(devices); i++) {
		cbor_item_t *d = cbor_array_get(devices, i);

		if (n < 4 && hwg_cbor_text_eq(hwg_cbor_map_get(d, "class", NULL), cls))
			found[n++] = d;
		else
			cbor_decref(&d);
	}
	return n;
}

static void
test_device_list_printers(void)
{
	struct hwg_op_keys keys = {.public_key = no_key, .token_info = no_token};
	cbor_item_t *found[4];
	struct call c;
	int calls = 0;

	/* no printer driver: no printer listed */
	call_init(&c, "maint-1", HWG_ROLE_MAINTENANCE, NULL);
	c.ctx.keys = &keys;
	CHECK_EQ_INT(hwg_op_device_list(&c.ctx, &c.result, &c.err), 0);
	REQUIRE(c.result != NULL);
	CHECK_EQ_INT(devices_of(c.result, "printer", found), 0);
	call_clear(&c);
	call_init(&c, "maint-1", HWG_ROLE_MAINTENANCE, NULL);
	c.ctx.keys = &keys;
	c.ctx.printer_list = two_printers;
	c.ctx.printer_list_arg = &calls;
	CHECK_EQ_INT(hwg_op_device_list(&c.ctx, &c.result, &c.err), 0);
	CHECK_EQ_INT(calls, 1);
	REQUIRE(c.result != NULL);
	REQUIRE(devices_of(c.result, "printer", found) == 2);
	CHECK(text_is(found[0], "id", "PRN-1"));
	CHECK(text_is(found[0], "state", "ready"));
	CHECK(text_is(found[0], "model", "CP-900"));
	CHECK(text_is(found[1], "id", "PRN-2"));
	CHECK(text_is(found[1], "state", "paper_out"));
	CHECK(hwg_cbor_map_get(found[1], "model", NULL) == NULL);
	cbor_decref(&found[0]);
	cbor_decref(&found[1]);
	call_clear(&c);
}

int
main(void)
{
	setup();
	HWG_RUN(test_status_for_the_client_that_asked);
	HWG_RUN(test_status_printed);
	HWG_RUN(test_status_of_another_clients_issuance);
	HWG_RUN(test_status_unknown);
	HWG_RUN(test_resolve_needs_a_supervisor);
	HWG_RUN(test_resolve_only_unconfirmed);
	HWG_RUN(test_resolve_printed);
	HWG_RUN(test_resolve_not_printed);
	HWG_RUN(test_resolve_bad_arguments);
	HWG_RUN(test_history);
	HWG_RUN(test_device_list_printers);
	teardown();
	return HWG_TEST_END();
}
