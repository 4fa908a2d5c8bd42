/*
 * test_cert_core.c — the issuance journal on the request path, in-process:
 * a real hwg_core on a SoftHSM2 token made by scripts/hsm-init (no
 * readers, no terminals), signed requests from libhwgw handed to
 * hwg_core_handle, issuances, operators and sessions written straight
 * into the store.  Each check asserts the signed answer and the audit
 * record (operation, result, operator, subject, detail).
 *
 * The journal service a device operation's run phase uses: each call is
 * committed before it returns (a second connection to the database sees
 * it), a refused transition leaves nothing open.  cert.status,
 * cert.resolve and cert.history, accepted and refused (a client role the
 * table does not allow, another station's issuance, no session, an
 * operator who is not a supervisor, a state that is not unconfirmed):
 * every refusal has its audit record.  hwgwd started again over a journal
 * with issuances in flight: those not sent fail, the sent one is held
 * unconfirmed, each with a cert.recovered record; the settled ones stay.
 */
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hwg_cbor.h"
#include "hwg_config.h"
#include "hwg_cose.h"
#include "hwg_core.h"
#include "hwg_issuance.h"
#include "hwg_operators.h"
#include "hwg_ops.h"
#include "hwg_sessions.h"
#include "hwg_store.h"
#include "hwg_store_sql.h"
#include "hwg_test.h"
#include "hwg_time.h"
#include "hwgw.h"

#define GW_ID "cert-gw"
#define ALICE "12345678901"

static char dir[] = "/tmp/hwgw-cert-core-test.XXXXXX";
static struct hwg_config cfg;
static struct hwg_core *core;
static EVP_PKEY *gw_pub;
static const uint8_t digest[32] = {0xdc};
static int requests;

struct client {
	const char *id;
	int role;
	EVP_PKEY *key;
	struct hwgw_ctx *ctx;
};
static struct client station1 = {"station-1", HWG_ROLE_ISSUANCE, NULL, NULL},
                     station2 = {"station-2", HWG_ROLE_ISSUANCE, NULL, NULL},
                     auditor = {"auditor-1", HWG_ROLE_AUDITOR, NULL, NULL},
                     counter = {"counter-1", HWG_ROLE_COUNTER, NULL, NULL};
static struct client *const clients[] = {&station1, &station2, &auditor, &counter};

/* ---------------------------------------------------------------- set-up */

static int
write_config(void)
{
	struct hwg_error err = {0};
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/hwgwd.conf", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f,
	        "[gateway]\nid = " GW_ID "\nstate_dir = %s/state\nlog_level = error\n"
	        "libexec_dir = %s/gateway\n"
	        "[unix]\nsocket = %s/hwgw.sock\n"
	        "[hsm]\nmodule = %s\ntoken = hwgw\npin_file = %s/hsm/hsm.pin\n"
	        "[card]\nenabled = no\n[vein]\nenabled = no\n",
	        dir, getenv("HWG_BUILD_DIR") ? getenv("HWG_BUILD_DIR") : ".", dir,
	        getenv("HWG_P11_MODULE") ? getenv("HWG_P11_MODULE")
	                                 : "/usr/lib/softhsm/libsofthsm2.so",
	        dir);
	fclose(f);
	hwg_config_defaults(&cfg);
	if (hwg_config_load(path, &cfg, &err) != 0) {
		fprintf(stderr, "config: %s\n", err.message);
		return -1;
	}
	return 0;
}

static int
add_client(struct client *cl)
{
	struct hwg_client_rec rec;
	struct hwg_error err = {0};
	unsigned char *der = NULL;
	int len, rc;

	if (hwgw_key_generate(HWG_COSE_EDDSA, &cl->key, &err) != 0 ||
	    (len = i2d_PUBKEY(cl->key, &der)) <= 0)
		return -1;
	memset(&rec, 0, sizeof(rec));
	snprintf(rec.id, sizeof(rec.id), "%s", cl->id);
	rec.role = cl->role;
	rec.pubkey_der = der;
	rec.pubkey_len = (size_t)len;
	rec.created_ms = hwg_now_ms();
	rc = hwg_store_client_add(hwg_core_store(core), &rec, &err);
	OPENSSL_free(der);
	if (rc != 0 || hwgw_ctx_new(cl->id, GW_ID, cl->key, gw_pub, &cl->ctx, &err) != 0) {
		fprintf(stderr, "client %s: %s\n", cl->id, err.message);
		return -1;
	}
	return 0;
}

static int
open_core(void)
{
	struct hwg_error err = {0};

	if (hwg_core_open(&cfg, &core, &err) != 0) {
		fprintf(stderr, "core: %s\n", err.message);
		return -1;
	}
	return 0;
}

static int
setup(void)
{
	const char *src = getenv("HWG_SOURCE_DIR");
	const struct hwg_op_keys *keys;
	struct hwg_error err = {0};
	char cmd[1200], conf[300];
	int alg;

	if (src == NULL || mkdtemp(dir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "'%s/scripts/hsm-init' --dir '%s/hsm' >/dev/null 2>&1", src,
	         dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "scripts/hsm-init failed\n");
		return -1;
	}
	snprintf(conf, sizeof(conf), "%s/hsm/softhsm2.conf", dir);
	setenv("SOFTHSM2_CONF", conf, 1);
	if (write_config() != 0 || open_core() != 0)
		return -1;
	keys = hwg_core_keys(core);
	if (keys->public_key(keys->arg, HWG_OP_KEY_RESPONSE, &gw_pub, &alg, &err) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(clients) / sizeof(clients[0]); i++)
		if (add_client(clients[i]) != 0)
			return -1;
	return hwg_core_reload_clients(core, &err);
}

static void
teardown(void)
{
	char cmd[200];

	for (size_t i = 0; i < sizeof(clients) / sizeof(clients[0]); i++) {
		hwgw_ctx_free(clients[i]->ctx);
		EVP_PKEY_free(clients[i]->key);
	}
	EVP_PKEY_free(gw_pub);
	hwg_core_close(core);
	hwg_config_clear(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* ---------------------------------------------------------------- helpers */

static struct hwg_store *
store(void)
{
	return hwg_core_store(core);
}

/* The state of no as a second connection to the database reads it: what is committed. */
static int
committed_state(const char *no)
{
	struct hwg_store *other = NULL;
	struct hwg_issuance r;
	struct hwg_error err = {0};
	int state = -1;

	if (hwg_store_open(cfg.state_dir, 0, &other, &err) != 0) {
		fprintf(stderr, "  second connection: %s\n", err.message);
		return -1;
	}
	if (hwg_issuance_get(other, no, &r, &err) == 0)
		state = r.state;
	hwg_store_close(other);
	return state;
}

static long long
audit_count(void)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(hwg_store_db(store()), "SELECT count(*) FROM audit", -1, &st,
	                       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

struct audit_last {
	char op[64], operator_id[65], subject[128], result[48], detail[256], client[65];
};

/* The audit record n back from the newest (0: the newest). */
static void
audit_back(int n, struct audit_last *a)
{
	sqlite3_stmt *st;

	memset(a, 0, sizeof(*a));
	if (sqlite3_prepare_v2(hwg_store_db(store()),
	                       "SELECT operation, operator_id, subject, result, detail, client"
	                       " FROM audit ORDER BY seq DESC LIMIT 1 OFFSET ?",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int(st, 1, n);
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(a->op, sizeof(a->op), "%s", sqlite3_column_text(st, 0));
			snprintf(a->operator_id, sizeof(a->operator_id), "%s",
			         sqlite3_column_text(st, 1));
			snprintf(a->subject, sizeof(a->subject), "%s", sqlite3_column_text(st, 2));
			snprintf(a->result, sizeof(a->result), "%s", sqlite3_column_text(st, 3));
			snprintf(a->detail, sizeof(a->detail), "%s", sqlite3_column_text(st, 4));
			snprintf(a->client, sizeof(a->client), "%s", sqlite3_column_text(st, 5));
		}
	}
	sqlite3_finalize(st);
}

/* The newest record is of op, result, operator and subject; its detail contains detail. */
static int
audited(const char *op, const char *result, const char *operator_id, const char *subject,
        const char *detail)
{
	struct audit_last a;

	audit_back(0, &a);
	if (strcmp(a.op, op) != 0 || strcmp(a.result, result) != 0 ||
	    strcmp(a.operator_id, operator_id) != 0 || strcmp(a.subject, subject) != 0 ||
	    strstr(a.detail, detail) == NULL) {
		fprintf(stderr,
		        "  audit: %s %s operator \"%s\" subject \"%s\" detail \"%s\"; expected "
		        "%s %s \"%s\" \"%s\" \"%s\"\n",
		        a.op, a.result, a.operator_id, a.subject, a.detail, op, result, operator_id,
		        subject, detail);
		return 0;
	}
	return 1;
}

static void
add_operator(const char *id, int role)
{
	static uint8_t tmpl[40] = {0x5e};
	struct hwg_operator_rec o;
	struct hwg_error err = {0};

	memset(&o, 0, sizeof(o));
	snprintf(o.id, sizeof(o.id), "%s", id);
	o.role = role;
	o.state = HWG_OPERATOR_ACTIVE;
	o.valid_until_ms = hwg_now_ms() + 86400000LL;
	snprintf(o.enrolled_by_client, sizeof(o.enrolled_by_client), "admin-1");
	o.created_ms = hwg_now_ms();
	o.tmpl = tmpl;
	o.tmpl_len = sizeof(tmpl);
	if (hwg_operator_add(store(), &o, &err) != 0)
		fprintf(stderr, "  add operator %s: %s\n", id, err.message);
}

static void
open_session(uint8_t tok[32], const char *operator_id, const char *client)
{
	struct hwg_error err = {0};

	RAND_bytes(tok, 32);
	if (hwg_session_create(store(), tok, 32, operator_id, client, "PV-1", hwg_now_ms(),
	                       3600 * 1000LL, NULL, &err) != 0)
		fprintf(stderr, "  session: %s\n", err.message);
}

/* One request through the core (args taken); r receives the verified answer. */
static int
call(struct client *cl, const char *op, cbor_item_t *args, const uint8_t *session,
     struct hwgw_response *r)
{
	struct hwgw_request_opts opts;
	struct hwg_peer peer = {"http", -1, NULL, 0};
	struct hwg_reply reply;
	struct hwg_error err = {0};
	uint8_t *req = NULL;
	size_t req_len = 0;
	int rc;

	memset(&opts, 0, sizeof(opts));
	memset(r, 0, sizeof(*r));
	opts.session = session;
	opts.session_len = session != NULL ? 32 : 0;
	rc = hwgw_request_build(cl->ctx, op, args, &opts, &req, &req_len, &err);
	if (args != NULL)
		cbor_decref(&args);
	if (rc != 0) {
		fprintf(stderr, "  build: %s\n", err.message);
		return -1;
	}
	rc = hwg_core_handle(core, &peer, req, req_len, &reply);
	if (rc == 0)
		rc = hwgw_response_verify(cl->ctx, req, req_len, reply.body, reply.len, r, &err);
	if (rc != 0)
		fprintf(stderr, "  response: %s\n", err.message);
	hwg_reply_clear(&reply);
	free(req);
	return rc;
}

/* The answer is the refusal code. */
static int
refused(const struct hwgw_response *r, const char *code)
{
	if (r->result != NULL || strcmp(r->error_code, code) != 0) {
		fprintf(stderr, "  got %s \"%s\", expected %s\n",
		        r->result != NULL ? "ok" : r->error_code, r->error_message, code);
		return 0;
	}
	return 1;
}

static cbor_item_t *
args_text(const char *key, const char *value, const char *key2, const char *value2)
{
	cbor_item_t *m = cbor_new_definite_map(key2 != NULL ? 2 : 1);

	hwg_cbor_map_put_text(m, key, value);
	if (key2 != NULL)
		hwg_cbor_map_put_text(m, key2, value2);
	return m;
}

/* An issuance of ALICE asked for by client, reserved through the journal service. */
static void
reserve(const char *client, struct hwg_issuance *r)
{
	const struct hwg_op_journal *j = hwg_core_journal(core);
	struct hwg_error err = {0};
	char rid[32];
	struct hwg_issuance_request rq = {.gateway_id = GW_ID,
	                                  .client_id = client,
	                                  .request_id = rid,
	                                  .operator_id = "clerk.1",
	                                  .relation = "self",
	                                  .subject = ALICE,
	                                  .kind = "kisai",
	                                  .doc_digest = digest};
	int existing = -1;

	snprintf(rid, sizeof(rid), "core-%d", ++requests);
	if (j->reserve(j->arg, &rq, r, &existing, &err) != 0 || existing != 0)
		fprintf(stderr, "  reserve: %s\n", err.message);
}

/* Through the journal service, up to state (rendered, sealed, sent, printed, unconfirmed). */
static void
advance(const char *no, int state)
{
	static const uint8_t seal[64] = {0x5e};
	const struct hwg_op_journal *j = hwg_core_journal(core);
	struct hwg_error err = {0};
	int rc = j->rendered(j->arg, no, digest, 1, &err);

	if (rc == 0 && state != HWG_ISSUANCE_RENDERED)
		rc = j->sealed(j->arg, no, seal, &err);
	if (rc == 0 && state != HWG_ISSUANCE_RENDERED && state != HWG_ISSUANCE_SEALED)
		rc = j->sent(j->arg, no, "PRN-1", no, &err);
	if (rc == 0 && state == HWG_ISSUANCE_PRINTED)
		rc = j->printed(j->arg, no, 1, &err);
	if (rc == 0 && state == HWG_ISSUANCE_UNCONFIRMED)
		rc = j->unconfirmed(j->arg, no, HWG_E_PRINTER_REMOVED, "unplugged", &err);
	if (rc != 0)
		fprintf(stderr, "  advance to %s: %s\n", hwg_issuance_state_name(state),
		        err.message);
}

/* ---------------------------------------------------------------- the journal service */

static void
test_journal_service_commits_each_step(void)
{
	static const uint8_t seal[64] = {0x5e};
	const struct hwg_op_journal *j = hwg_core_journal(core);
	struct hwg_issuance r, again;
	struct hwg_error err = {0};
	struct hwg_issuance_request rq = {.gateway_id = GW_ID,
	                                  .client_id = "station-1",
	                                  .request_id = "journal-1",
	                                  .operator_id = "clerk.1",
	                                  .relation = "household",
	                                  .subject = ALICE,
	                                  .kind = "juminhyo",
	                                  .doc_digest = digest,
	                                  .now_ms = 1}; /* not read: the gateway's time is */
	long long audit_before;
	int existing = -1;
	int64_t before = hwg_now_ms();

	audit_before = audit_count();
	REQUIRE(j != NULL);
	CHECK_EQ_INT(j->reserve(j->arg, &rq, &r, &existing, &err), 0);
	CHECK_EQ_INT(existing, 0);
	CHECK(strncmp(r.no, GW_ID "-", strlen(GW_ID) + 1) == 0);
	CHECK(r.reserved_ms >= before);
	CHECK_EQ_INT(committed_state(r.no), HWG_ISSUANCE_RESERVED);
	CHECK_EQ_INT(j->rendered(j->arg, r.no, digest, 2, &err), 0);
	CHECK_EQ_INT(committed_state(r.no), HWG_ISSUANCE_RENDERED);
	CHECK_EQ_INT(j->sealed(j->arg, r.no, seal, &err), 0);
	CHECK_EQ_INT(committed_state(r.no), HWG_ISSUANCE_SEALED);
	/* a refused step: nothing changed, nothing left open */
	CHECK_EQ_INT(j->printed(j->arg, r.no, 2, &err), HWG_E_WRONG_STATE);
	CHECK(strstr(err.message, "sealed") != NULL);
	CHECK_EQ_INT(j->sent(j->arg, r.no, "PRN-1", r.no, &err), 0);
	CHECK_EQ_INT(committed_state(r.no), HWG_ISSUANCE_SENT);
	CHECK_EQ_INT(j->printed(j->arg, r.no, 2, &err), 0);
	CHECK_EQ_INT(committed_state(r.no), HWG_ISSUANCE_PRINTED);
	/* the same request again: the first issuance; another document: a conflict */
	CHECK_EQ_INT(j->reserve(j->arg, &rq, &again, &existing, &err), 0);
	CHECK_EQ_INT(existing, 1);
	CHECK_EQ_STR(again.no, r.no);
	CHECK_EQ_INT(again.state, HWG_ISSUANCE_PRINTED);
	rq.doc_digest = (const uint8_t[32]){1};
	CHECK_EQ_INT(j->reserve(j->arg, &rq, &again, &existing, &err), HWG_E_REQUEST_CONFLICT);
	/* failed and unconfirmed, each from its own issuance */
	reserve("station-1", &r);
	CHECK_EQ_INT(j->failed(j->arg, r.no, HWG_E_RENDER_FAILED, "renderer died", &err), 0);
	CHECK_EQ_INT(committed_state(r.no), HWG_ISSUANCE_FAILED);
	reserve("station-1", &r);
	advance(r.no, HWG_ISSUANCE_UNCONFIRMED);
	CHECK_EQ_INT(committed_state(r.no), HWG_ISSUANCE_UNCONFIRMED);
	/* the service audits nothing by itself */
	CHECK_EQ_INT(audit_count(), audit_before);
}

/* ---------------------------------------------------------------- cert.status */

static void
test_status_on_the_request_path(void)
{
	struct hwg_issuance r;
	struct hwgw_response a;
	char detail[160];

	reserve("station-1", &r);
	advance(r.no, HWG_ISSUANCE_PRINTED);
	CHECK_EQ_INT(
	    call(&station1, "cert.status", args_text("issuance_no", r.no, NULL, NULL), NULL, &a),
	    0);
	CHECK(a.result != NULL &&
	      hwg_cbor_text_eq(hwg_cbor_map_get(a.result, "state", NULL), "printed"));
	hwgw_response_clear(&a);
	snprintf(detail, sizeof(detail), "issuance=%s state=printed", r.no);
	CHECK(audited("cert.status", "ok", "", ALICE, detail));
	/* another station: forbidden, audited with whose certificate it asked about */
	CHECK_EQ_INT(
	    call(&station2, "cert.status", args_text("issuance_no", r.no, NULL, NULL), NULL, &a),
	    0);
	CHECK(refused(&a, "forbidden"));
	hwgw_response_clear(&a);
	CHECK(audited("cert.status", "forbidden", "", ALICE, "another client"));
	/* an unknown number */
	CHECK_EQ_INT(call(&station1, "cert.status",
	                  args_text("issuance_no", GW_ID "-20240401-999999", NULL, NULL), NULL, &a),
	             0);
	CHECK(refused(&a, "not_found"));
	hwgw_response_clear(&a);
	CHECK(audited("cert.status", "not_found", "", "", "no issuance"));
	/* a counter may not ask at all: refused by the table, audited as such */
	CHECK_EQ_INT(
	    call(&counter, "cert.status", args_text("issuance_no", r.no, NULL, NULL), NULL, &a), 0);
	CHECK(refused(&a, "forbidden"));
	hwgw_response_clear(&a);
	CHECK(audited("cert.status", "forbidden", "", "", ""));
	/* an auditor may */
	CHECK_EQ_INT(
	    call(&auditor, "cert.status", args_text("issuance_no", r.no, NULL, NULL), NULL, &a), 0);
	CHECK(a.result != NULL);
	hwgw_response_clear(&a);
}

/* ---------------------------------------------------------------- cert.resolve */

static void
test_resolve_on_the_request_path(void)
{
	struct hwg_issuance held, printed;
	struct hwgw_response a;
	uint8_t clerk_tok[32], super_tok[32];
	char detail[160];

	add_operator("clerk.9", HWG_ROLE_ISSUANCE);
	add_operator("super.9", HWG_ROLE_SUPERVISOR);
	open_session(clerk_tok, "clerk.9", "station-1");
	open_session(super_tok, "super.9", "station-1");
	reserve("station-1", &held);
	advance(held.no, HWG_ISSUANCE_UNCONFIRMED);
	reserve("station-1", &printed);
	advance(printed.no, HWG_ISSUANCE_PRINTED);
	/* no session: refused before the handler, audited */
	CHECK_EQ_INT(call(&station1, "cert.resolve",
	                  args_text("issuance_no", held.no, "outcome", "not_printed"), NULL, &a),
	             0);
	CHECK(refused(&a, "session_required"));
	hwgw_response_clear(&a);
	CHECK(audited("cert.resolve", "session_required", "", "", "operator session"));
	/* a clerk's session: forbidden by the table's operator roles, audited with the clerk */
	CHECK_EQ_INT(call(&station1, "cert.resolve",
	                  args_text("issuance_no", held.no, "outcome", "not_printed"), clerk_tok,
	                  &a),
	             0);
	CHECK(refused(&a, "forbidden"));
	hwgw_response_clear(&a);
	CHECK(audited("cert.resolve", "forbidden", "clerk.9", "", "may not call cert.resolve"));
	/* a supervisor, on an issuance that printed: wrong_state, audited */
	CHECK_EQ_INT(call(&station1, "cert.resolve",
	                  args_text("issuance_no", printed.no, "outcome", "not_printed"), super_tok,
	                  &a),
	             0);
	CHECK(refused(&a, "wrong_state"));
	hwgw_response_clear(&a);
	CHECK(audited("cert.resolve", "wrong_state", "super.9", ALICE, "is printed"));
	CHECK_EQ_INT(committed_state(held.no), HWG_ISSUANCE_UNCONFIRMED);
	/* the supervisor's decision */
	CHECK_EQ_INT(call(&station1, "cert.resolve",
	                  args_text("issuance_no", held.no, "outcome", "not_printed"), super_tok,
	                  &a),
	             0);
	CHECK(a.result != NULL &&
	      hwg_cbor_text_eq(hwg_cbor_map_get(a.result, "state", NULL), "not_printed") &&
	      hwg_cbor_text_eq(hwg_cbor_map_get(a.result, "resolved_by", NULL), "super.9"));
	hwgw_response_clear(&a);
	snprintf(detail, sizeof(detail), "issuance=%s unconfirmed -> not_printed", held.no);
	CHECK(audited("cert.resolve", "ok", "super.9", ALICE, detail));
	CHECK_EQ_INT(committed_state(held.no), HWG_ISSUANCE_NOT_PRINTED);
	/* a supervisor session sent with an auditor's request is no way in: the table says no */
	CHECK_EQ_INT(call(&auditor, "cert.resolve",
	                  args_text("issuance_no", held.no, "outcome", "printed"), NULL, &a),
	             0);
	CHECK(refused(&a, "forbidden"));
	hwgw_response_clear(&a);
	CHECK(audited("cert.resolve", "forbidden", "", "", ""));
}

/* ---------------------------------------------------------------- cert.history */

static void
test_history_on_the_request_path(void)
{
	struct hwgw_response a;
	const cbor_item_t *list;

	CHECK_EQ_INT(
	    call(&auditor, "cert.history", args_text("resident_code", ALICE, NULL, NULL), NULL, &a),
	    0);
	REQUIRE(a.result != NULL);
	list = hwg_cbor_map_get(a.result, "issuances", NULL);
	CHECK(list != NULL && cbor_isa_array(list) && cbor_array_size(list) >= 4);
	hwgw_response_clear(&a);
	CHECK(audited("cert.history", "ok", "", ALICE, "issuances="));
	CHECK_EQ_INT(call(&station1, "cert.history", args_text("resident_code", ALICE, NULL, NULL),
	                  NULL, &a),
	             0);
	CHECK(refused(&a, "forbidden"));
	hwgw_response_clear(&a);
	CHECK(audited("cert.history", "forbidden", "", "", ""));
	CHECK_EQ_INT(
	    call(&auditor, "cert.history", args_text("resident_code", "123", NULL, NULL), NULL, &a),
	    0);
	CHECK(refused(&a, "bad_arguments"));
	hwgw_response_clear(&a);
	CHECK(audited("cert.history", "bad_arguments", "", "", "resident_code"));
}

/* ---------------------------------------------------------------- restart */

static void
test_restart_recovers_in_flight(void)
{
	struct hwg_issuance reserved, sealed, sent, printed, r;
	struct hwg_error err = {0};
	struct audit_last a;
	char detail[160];

	reserve("station-1", &reserved);
	reserve("station-2", &sealed);
	advance(sealed.no, HWG_ISSUANCE_SEALED);
	reserve("station-1", &sent);
	advance(sent.no, HWG_ISSUANCE_SENT);
	reserve("station-1", &printed);
	advance(printed.no, HWG_ISSUANCE_PRINTED);
	/* hwgwd stops (a crash would leave the same: every step was committed) and starts */
	hwg_core_close(core);
	core = NULL;
	REQUIRE(open_core() == 0);
	REQUIRE(hwg_issuance_get(store(), reserved.no, &r, &err) == 0);
	CHECK_EQ_INT(r.state, HWG_ISSUANCE_FAILED);
	CHECK_EQ_STR(r.failure_code, "unavailable");
	REQUIRE(hwg_issuance_get(store(), sealed.no, &r, &err) == 0);
	CHECK_EQ_INT(r.state, HWG_ISSUANCE_FAILED);
	REQUIRE(hwg_issuance_get(store(), sent.no, &r, &err) == 0);
	CHECK_EQ_INT(r.state, HWG_ISSUANCE_UNCONFIRMED);
	CHECK_EQ_STR(r.failure_code, "print_unconfirmed");
	REQUIRE(hwg_issuance_get(store(), printed.no, &r, &err) == 0);
	CHECK_EQ_INT(r.state, HWG_ISSUANCE_PRINTED);
	/* after gateway.start, one record each, in the order of their numbers */
	audit_back(3, &a);
	CHECK_EQ_STR(a.op, "gateway.start");
	audit_back(2, &a);
	CHECK_EQ_STR(a.op, "cert.recovered");
	CHECK_EQ_STR(a.client, "station-1");
	CHECK_EQ_STR(a.subject, ALICE);
	CHECK_EQ_STR(a.result, "unavailable");
	snprintf(detail, sizeof(detail), "issuance=%s reserved -> failed", reserved.no);
	CHECK_EQ_STR(a.detail, detail);
	audit_back(1, &a);
	CHECK_EQ_STR(a.client, "station-2");
	snprintf(detail, sizeof(detail), "issuance=%s sealed -> failed", sealed.no);
	CHECK_EQ_STR(a.detail, detail);
	audit_back(0, &a);
	CHECK_EQ_STR(a.op, "cert.recovered");
	CHECK_EQ_STR(a.result, "print_unconfirmed");
	snprintf(detail, sizeof(detail), "issuance=%s sent -> unconfirmed", sent.no);
	CHECK_EQ_STR(a.detail, detail);
	/* starting again finds nothing more */
	hwg_core_close(core);
	core = NULL;
	REQUIRE(open_core() == 0);
	audit_back(0, &a);
	CHECK_EQ_STR(a.op, "gateway.start");
}

int
main(void)
{
	if (setup() != 0) {
		fprintf(stderr, "set-up failed\n");
		return 2;
	}
	HWG_RUN(test_journal_service_commits_each_step);
	HWG_RUN(test_status_on_the_request_path);
	HWG_RUN(test_resolve_on_the_request_path);
	HWG_RUN(test_history_on_the_request_path);
	HWG_RUN(test_restart_recovers_in_flight);
	teardown();
	return HWG_TEST_END();
}
