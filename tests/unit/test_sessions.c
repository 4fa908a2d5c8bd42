/*
 * test_sessions.c — operator sessions and the operator operations as the
 * request path runs them, in-process: a real hwg_core on a SoftHSM2 token
 * made by scripts/hsm-init (no terminals: [vein] enabled = no, [card]
 * enabled = no), signed requests from libhwgw handed to hwg_core_handle,
 * operators, terminals and sessions written straight into the store.
 * Each check asserts the signed answer, the audit record (result,
 * operator, detail) and what changed.
 *
 * Sessions: a live one is accepted and its use recorded; unknown, another
 * client's, idle, past-limit, past-valid_until and revoked sessions are
 * refused with their own message, before the replay check and without
 * spending the nonce; operations that need a session refuse without one
 * or with an operator of the wrong role; the tick ends expired sessions
 * and audits each with its reason.
 *
 * Operations (everything short of a capture, which needs a terminal:
 * the vein integration tests drive those): bootstrap mode (an admin
 * client pairs and enrols the first admin without a session, only an
 * admin, who stays pending until a different admin client confirms; then
 * sessions are required), the refusals of operator.enroll's and
 * operator.verify's prepare phase (audited with the operator claimed and
 * the nonce spent), operator.list, operator.revoke (template wiped,
 * sessions ended), operator.logout, and paired terminals in device.list.
 */
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hwg_cbor.h"
#include "hwg_config.h"
#include "hwg_cose.h"
#include "hwg_core.h"
#include "hwg_operators.h"
#include "hwg_sessions.h"
#include "hwg_store.h"
#include "hwg_store_sql.h"
#include "hwg_ops.h"
#include "hwg_terminals.h"
#include "hwg_test.h"
#include "hwg_time.h"
#include "hwg_palm.h"
#include "hwgw.h"

#define GW_ID "test-gw"
#define IDLE_S 600
#define MAX_S 3600

static char dir[] = "/tmp/hwgw-sessions-test.XXXXXX";
static struct hwg_config cfg;
static struct hwg_core *core;
static EVP_PKEY *gw_pub;

struct client {
	const char *id;
	EVP_PKEY *key;
	struct hwgw_ctx *ctx;
};
static struct client counter1 = {"counter-1", NULL, NULL}, counter2 = {"counter-2", NULL, NULL},
                     admin1 = {"admin-1", NULL, NULL}, admin2 = {"admin-2", NULL, NULL},
                     station1 = {"station-1", NULL, NULL};

/* ---------------------------------------------------------------- set-up */

static int
write_config(void)
{
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
	        "[card]\nenabled = no\n[vein]\nenabled = no\n"
	        "[operator]\nsession_idle_s = %d\nsession_max_s = %d\nmax_failures = 3\n"
	        "lockout_s = 60\n",
	        dir, getenv("HWG_BUILD_DIR") ? getenv("HWG_BUILD_DIR") : ".", dir,
	        getenv("HWG_P11_MODULE") ? getenv("HWG_P11_MODULE")
	                                 : "/usr/lib/softhsm/libsofthsm2.so",
	        dir, IDLE_S, MAX_S);
	fclose(f);
	hwg_config_defaults(&cfg);
	struct hwg_error err = {0};
	if (hwg_config_load(path, &cfg, &err) != 0) {
		fprintf(stderr, "config: %s\n", err.message);
		return -1;
	}
	return 0;
}

static int
add_client(struct client *cl, int role)
{
	struct hwg_client_rec rec;
	struct hwg_error err = {0};
	unsigned char *der = NULL;
	int len, rc;

	if (hwgw_key_generate(HWG_COSE_EDDSA, &cl->key, &err) != 0)
		return -1;
	if ((len = i2d_PUBKEY(cl->key, &der)) <= 0)
		return -1;
	memset(&rec, 0, sizeof(rec));
	snprintf(rec.id, sizeof(rec.id), "%s", cl->id);
	rec.role = role;
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
setup(void)
{
	const char *src = getenv("HWG_SOURCE_DIR");
	struct hwg_error err = {0};
	char cmd[1200], conf[300];

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
	if (write_config() != 0)
		return -1;
	if (hwg_core_open(&cfg, &core, &err) != 0) {
		fprintf(stderr, "core: %s\n", err.message);
		return -1;
	}
	{
		const struct hwg_op_keys *keys = hwg_core_keys(core);
		int alg;

		if (keys->public_key(keys->arg, HWG_OP_KEY_RESPONSE, &gw_pub, &alg, &err) != 0)
			return -1;
	}
	if (add_client(&counter1, HWG_ROLE_COUNTER) != 0 ||
	    add_client(&counter2, HWG_ROLE_COUNTER) != 0 ||
	    add_client(&admin1, HWG_ROLE_ADMIN) != 0 || add_client(&admin2, HWG_ROLE_ADMIN) != 0 ||
	    add_client(&station1, HWG_ROLE_ISSUANCE) != 0)
		return -1;
	return hwg_core_reload_clients(core, &err);
}

static void
teardown(void)
{
	struct client *all[] = {&counter1, &counter2, &admin1, &admin2, &station1};
	char cmd[200];

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		hwgw_ctx_free(all[i]->ctx);
		EVP_PKEY_free(all[i]->key);
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

static long long
db_int(const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(hwg_store_db(store()), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The newest audit record's fields. */
struct audit_last {
	char op[64], operator_id[65], result[48], detail[256], client[65];
};

static void
last_audit(struct audit_last *a)
{
	sqlite3_stmt *st;

	memset(a, 0, sizeof(*a));
	if (sqlite3_prepare_v2(hwg_store_db(store()),
	                       "SELECT operation, operator_id, result, detail, client FROM audit "
	                       "ORDER BY seq DESC LIMIT 1",
	                       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		snprintf(a->op, sizeof(a->op), "%s", sqlite3_column_text(st, 0));
		snprintf(a->operator_id, sizeof(a->operator_id), "%s", sqlite3_column_text(st, 1));
		snprintf(a->result, sizeof(a->result), "%s", sqlite3_column_text(st, 2));
		snprintf(a->detail, sizeof(a->detail), "%s", sqlite3_column_text(st, 3));
		snprintf(a->client, sizeof(a->client), "%s", sqlite3_column_text(st, 4));
	}
	sqlite3_finalize(st);
}

static long long
audit_count(void)
{
	return db_int("SELECT count(*) FROM audit");
}

static uint8_t tmpl_blob[40] = {0x5e};

static void
add_operator(const char *id, int role, int64_t valid_until)
{
	struct hwg_operator_rec o;
	struct hwg_error err = {0};

	memset(&o, 0, sizeof(o));
	snprintf(o.id, sizeof(o.id), "%s", id);
	o.role = role;
	o.state = HWG_OPERATOR_ACTIVE;
	o.valid_until_ms = valid_until;
	snprintf(o.enrolled_by_client, sizeof(o.enrolled_by_client), "admin-1");
	o.created_ms = hwg_now_ms();
	o.tmpl = tmpl_blob;
	o.tmpl_len = sizeof(tmpl_blob);
	if (hwg_operator_add(store(), &o, &err) != 0)
		fprintf(stderr, "  add operator %s: %s\n", id, err.message);
}

/* A session for operator on client, opened ago_ms before now and last used used_ago_ms ago. */
static void
open_session(uint8_t tok[32], const char *operator_id, const char *client, int64_t ago_ms,
             int64_t used_ago_ms)
{
	struct hwg_error err = {0};
	int64_t now = hwg_now_ms();

	RAND_bytes(tok, 32);
	if (hwg_session_create(store(), tok, 32, operator_id, client, "PV-1", now - ago_ms,
	                       MAX_S * 1000LL, NULL, &err) != 0)
		fprintf(stderr, "  session: %s\n", err.message);
	/* touch never goes backwards, so set the last use directly */
	char sql[200];
	uint8_t h[32];
	sqlite3_stmt *st;

	SHA256(tok, 32, h);
	snprintf(sql, sizeof(sql),
	         "UPDATE operator_sessions SET last_used_ms = ? WHERE "
	         "token_hash = ?");
	if (sqlite3_prepare_v2(hwg_store_db(store()), sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, now - used_ago_ms);
		sqlite3_bind_blob(st, 2, h, 32, SQLITE_STATIC);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
}

struct call {
	const uint8_t *session;
	size_t session_len;
	const uint8_t *nonce; /* NULL: random */
	size_t nonce_len;
};

/* One request through the core; r receives the verified answer.  Returns 0 if authentic. */
static int
call(struct client *cl, const char *op, cbor_item_t *args, const struct call *o,
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
	if (o != NULL) {
		opts.session = o->session;
		opts.session_len = o->session_len;
		opts.nonce = o->nonce;
		opts.nonce_len = o->nonce_len;
	}
	if (hwgw_request_build(cl->ctx, op, args, &opts, &req, &req_len, &err) != 0) {
		fprintf(stderr, "  build: %s\n", err.message);
		return -1;
	}
	if (args != NULL)
		cbor_decref(&args);
	rc = hwg_core_handle(core, &peer, req, req_len, &reply);
	if (rc == 0)
		rc = hwgw_response_verify(cl->ctx, req, req_len, reply.body, reply.len, r, &err);
	if (rc != 0)
		fprintf(stderr, "  response: %s\n", err.message);
	hwg_reply_clear(&reply);
	free(req);
	return rc;
}

/* Expect a refusal with code, whose message contains text. */
static int
refused_with(const struct hwgw_response *r, const char *code, const char *text)
{
	if (r->result != NULL || strcmp(r->error_code, code) != 0 ||
	    strstr(r->error_message, text) == NULL) {
		fprintf(stderr, "  got %s: \"%s\"; expected %s with \"%s\"\n",
		        r->result != NULL ? "ok" : r->error_code, r->error_message, code, text);
		return 0;
	}
	return 1;
}

/* ---------------------------------------------------------------- tests */

static void
test_no_session_needed_none_given(void)
{
	struct hwgw_response r;
	struct audit_last a;

	CHECK_EQ_INT(call(&counter1, "gw.info", NULL, NULL, &r), 0);
	CHECK(r.result != NULL);
	hwgw_response_clear(&r);
	last_audit(&a);
	CHECK_EQ_STR(a.op, "gw.info");
	CHECK_EQ_STR(a.result, "ok");
	CHECK_EQ_STR(a.operator_id, "");
}

static void
test_live_session_accepted_and_recorded(void)
{
	struct hwgw_response r;
	struct audit_last a;
	struct call o;
	uint8_t tok[32];

	add_operator("live.op", HWG_ROLE_COUNTER, hwg_now_ms() + 86400000LL);
	open_session(tok, "live.op", "counter-1", 5000, 5000);
	o = (struct call){tok, sizeof(tok), NULL, 0};
	CHECK_EQ_INT(call(&counter1, "gw.info", NULL, &o, &r), 0);
	CHECK(r.result != NULL);
	hwgw_response_clear(&r);
	last_audit(&a);
	CHECK_EQ_STR(a.result, "ok");
	CHECK_EQ_STR(a.operator_id, "live.op");
	/* the use was recorded: last_used is now, not five seconds ago */
	CHECK(db_int("SELECT max(last_used_ms) FROM operator_sessions WHERE "
	             "operator_id = 'live.op'") >= hwg_now_ms() - 2000);
}

/* A refused session: code, message, audited with the operator, nonce not spent. */
static void
expect_session_refused(struct client *cl, const uint8_t *tok, size_t len, const char *text,
                       const char *audit_operator)
{
	struct hwgw_response r;
	struct audit_last a;
	struct call o;
	uint8_t nonce[16];
	long long before = audit_count(), nonces = db_int("SELECT count(*) FROM nonces");

	RAND_bytes(nonce, sizeof(nonce));
	o = (struct call){tok, len, nonce, sizeof(nonce)};
	CHECK_EQ_INT(call(cl, "gw.info", NULL, &o, &r), 0);
	CHECK(refused_with(&r, "session_required", text));
	hwgw_response_clear(&r);
	CHECK_EQ_INT(audit_count(), before + 1);
	last_audit(&a);
	CHECK_EQ_STR(a.result, "session_required");
	CHECK_EQ_STR(a.operator_id, audit_operator);
	CHECK(strstr(a.detail, text) != NULL);
	CHECK_EQ_INT(db_int("SELECT count(*) FROM nonces"), nonces);
	/* the nonce was not spent: the same nonce without the session goes through */
	o = (struct call){NULL, 0, nonce, sizeof(nonce)};
	CHECK_EQ_INT(call(cl, "gw.info", NULL, &o, &r), 0);
	CHECK(r.result != NULL);
	hwgw_response_clear(&r);
}

static void
test_unknown_session_refused(void)
{
	uint8_t tok[32];

	RAND_bytes(tok, sizeof(tok));
	expect_session_refused(&counter1, tok, sizeof(tok), "unknown operator session", "");
}

static void
test_other_clients_session_refused(void)
{
	uint8_t tok[32];

	add_operator("other.op", HWG_ROLE_COUNTER, hwg_now_ms() + 86400000LL);
	open_session(tok, "other.op", "counter-1", 0, 0);
	expect_session_refused(&counter2, tok, sizeof(tok), "another client", "other.op");
}

static void
test_idle_session_refused(void)
{
	uint8_t tok[32];

	add_operator("idle.op", HWG_ROLE_COUNTER, hwg_now_ms() + 86400000LL);
	open_session(tok, "idle.op", "counter-1", (IDLE_S + 5) * 1000LL, (IDLE_S + 5) * 1000LL);
	expect_session_refused(&counter1, tok, sizeof(tok), "idle", "idle.op");
}

static void
test_absolute_limit_refused(void)
{
	uint8_t tok[32];

	add_operator("old.op", HWG_ROLE_COUNTER, hwg_now_ms() + 86400000LL);
	open_session(tok, "old.op", "counter-1", (MAX_S + 1) * 1000LL, 1000);
	expect_session_refused(&counter1, tok, sizeof(tok), "limit", "old.op");
}

static void
test_valid_until_refused(void)
{
	uint8_t tok[32];

	add_operator("leaver.op", HWG_ROLE_COUNTER, hwg_now_ms() + 400);
	open_session(tok, "leaver.op", "counter-1", 0, 0);
	usleep(500 * 1000);
	expect_session_refused(&counter1, tok, sizeof(tok), "valid until", "leaver.op");
}

static void
test_revoked_operator_refused(void)
{
	struct hwg_error err = {0};
	uint8_t tok[32];

	add_operator("revoked.op", HWG_ROLE_COUNTER, hwg_now_ms() + 86400000LL);
	open_session(tok, "revoked.op", "counter-1", 0, 0);
	/* revoked behind the sessions' back: they are refused even before the sweep */
	CHECK_EQ_INT(sqlite3_exec(hwg_store_db(store()),
	                          "UPDATE operators SET state = 'revoked', template = NULL "
	                          "WHERE id = 'revoked.op'",
	                          NULL, NULL, NULL),
	             SQLITE_OK);
	expect_session_refused(&counter1, tok, sizeof(tok), "revoked", "revoked.op");
	(void)err;
}

/* api.cddl's order: the session is checked before the nonce. */
static void
test_session_checked_before_replay(void)
{
	struct hwgw_response r;
	struct call o;
	uint8_t nonce[16], tok[32];

	RAND_bytes(nonce, sizeof(nonce));
	RAND_bytes(tok, sizeof(tok));
	o = (struct call){NULL, 0, nonce, sizeof(nonce)};
	CHECK_EQ_INT(call(&counter1, "gw.info", NULL, &o, &r), 0);
	CHECK(r.result != NULL);
	hwgw_response_clear(&r);
	o = (struct call){tok, sizeof(tok), nonce, sizeof(nonce)};
	CHECK_EQ_INT(call(&counter1, "gw.info", NULL, &o, &r), 0);
	CHECK(refused_with(&r, "session_required", "unknown"));
	hwgw_response_clear(&r);
	o = (struct call){NULL, 0, nonce, sizeof(nonce)};
	CHECK_EQ_INT(call(&counter1, "gw.info", NULL, &o, &r), 0);
	CHECK(refused_with(&r, "replayed_nonce", ""));
	hwgw_response_clear(&r);
}

static cbor_item_t *
reader_args(void)
{
	cbor_item_t *m = cbor_new_definite_map(2);

	hwg_cbor_map_put_text(m, "reader", "Virtual PCD 00 00");
	hwg_cbor_map_put_text(m, "pin", "1234");
	return m;
}

static void
test_card_ops_need_a_session_of_their_role(void)
{
	struct hwgw_response r;
	struct audit_last a;
	struct call o;
	uint8_t tok[32], admin_tok[32];
	cbor_item_t *st_args;

	/* card.status concerns no resident: no session needed */
	st_args = cbor_new_definite_map(1);
	hwg_cbor_map_put_text(st_args, "reader", "Virtual PCD 00 00");
	CHECK_EQ_INT(call(&counter1, "card.status", st_args, NULL, &r), 0);
	CHECK(refused_with(&r, "unavailable", "[card] enabled = no"));
	hwgw_response_clear(&r);

	CHECK_EQ_INT(call(&counter1, "card.read_info", reader_args(), NULL, &r), 0);
	CHECK(refused_with(&r, "session_required", "card.read_info needs an operator session"));
	hwgw_response_clear(&r);

	/* an admin operator may not read a resident's card */
	add_operator("admin.op", HWG_ROLE_ADMIN, hwg_now_ms() + 86400000LL);
	open_session(admin_tok, "admin.op", "counter-1", 0, 0);
	o = (struct call){admin_tok, sizeof(admin_tok), NULL, 0};
	CHECK_EQ_INT(call(&counter1, "card.authenticate", reader_args(), &o, &r), 0);
	CHECK(refused_with(&r, "forbidden", "role admin"));
	hwgw_response_clear(&r);
	last_audit(&a);
	CHECK_EQ_STR(a.result, "forbidden");
	CHECK_EQ_STR(a.operator_id, "admin.op");

	/* with a counter operator's session the request passes the checks and reaches the card */
	add_operator("card.op", HWG_ROLE_COUNTER, hwg_now_ms() + 86400000LL);
	open_session(tok, "card.op", "counter-1", 0, 0);
	o = (struct call){tok, sizeof(tok), NULL, 0};
	CHECK_EQ_INT(call(&counter1, "card.read_info", reader_args(), &o, &r), 0);
	CHECK(refused_with(&r, "unavailable", "integrity_key"));
	hwgw_response_clear(&r);
	last_audit(&a);
	CHECK_EQ_STR(a.op, "card.read_info");
	CHECK_EQ_STR(a.operator_id, "card.op");
}

/*
 * A supervisor's session: on an issuance station only (another client
 * carrying one is refused forbidden whatever it calls), and only where an
 * operation names the role (operator.logout does; card.read_info does not).
 */
static void
test_supervisor_session_on_issuance_station_only(void)
{
	struct hwgw_response r;
	struct audit_last a;
	struct call o;
	uint8_t on_counter[32], on_station[32];

	add_operator("super.op", HWG_ROLE_SUPERVISOR, hwg_now_ms() + 86400000LL);
	open_session(on_counter, "super.op", "counter-1", 0, 0);
	o = (struct call){on_counter, sizeof(on_counter), NULL, 0};
	CHECK_EQ_INT(call(&counter1, "operator.logout", NULL, &o, &r), 0);
	CHECK(refused_with(&r, "forbidden", "works on an issuance station only"));
	hwgw_response_clear(&r);
	last_audit(&a);
	CHECK_EQ_STR(a.result, "forbidden");
	CHECK_EQ_STR(a.operator_id, "super.op");

	open_session(on_station, "super.op", "station-1", 0, 0);
	o = (struct call){on_station, sizeof(on_station), NULL, 0};
	CHECK_EQ_INT(call(&station1, "card.read_info", reader_args(), &o, &r), 0);
	CHECK(refused_with(&r, "forbidden", "role supervisor"));
	hwgw_response_clear(&r);
	CHECK_EQ_INT(call(&station1, "operator.logout", NULL, &o, &r), 0);
	CHECK(r.result != NULL && r.error_code[0] == '\0');
	hwgw_response_clear(&r);
}

static void
test_tick_ends_expired_sessions(void)
{
	struct audit_last a;
	uint8_t keep[32], idle[32];
	long long before;

	sqlite3_exec(hwg_store_db(store()), "DELETE FROM operator_sessions", NULL, NULL, NULL);
	add_operator("tick.op", HWG_ROLE_COUNTER, hwg_now_ms() + 86400000LL);
	open_session(keep, "tick.op", "counter-1", 0, 0);
	open_session(idle, "tick.op", "counter-2", (IDLE_S + 1) * 1000LL, (IDLE_S + 1) * 1000LL);
	before = audit_count();
	hwg_core_tick(core);
	CHECK_EQ_INT(audit_count(), before + 1);
	last_audit(&a);
	CHECK_EQ_STR(a.op, "operator.session_end");
	CHECK_EQ_STR(a.operator_id, "tick.op");
	CHECK_EQ_STR(a.client, "counter-2");
	CHECK(strstr(a.detail, "reason=idle") != NULL);
	CHECK_EQ_INT(db_int("SELECT count(*) FROM operator_sessions"), 1);
	/* nothing more to end */
	hwg_core_tick(core);
	CHECK_EQ_INT(audit_count(), before + 1);
}

/* ---------------------------------------------------------------- operations */

static cbor_item_t *
args_of(const char *k1, const char *v1, const char *k2, const char *v2)
{
	cbor_item_t *m = cbor_new_definite_map(4);

	if (k1 != NULL)
		hwg_cbor_map_put_text(m, k1, v1);
	if (k2 != NULL)
		hwg_cbor_map_put_text(m, k2, v2);
	return m;
}

static cbor_item_t *
enroll_args(const char *terminal, const char *id, const char *role, int64_t valid_until)
{
	cbor_item_t *m = args_of("terminal", terminal, "operator_id", id);

	hwg_cbor_map_put_text(m, "role", role);
	hwg_cbor_map_put_uint(m, "valid_until", (uint64_t)valid_until);
	return m;
}

static void
pair_in_store(const char *serial)
{
	struct hwg_terminal_rec t;
	struct hwg_error err = {0};

	memset(&t, 0, sizeof(t));
	snprintf(t.serial, sizeof(t.serial), "%s", serial);
	memset(t.pubkey, 0x42, sizeof(t.pubkey));
	snprintf(t.paired_by, sizeof(t.paired_by), "admin-1");
	t.paired_ms = hwg_now_ms();
	if (hwg_terminal_pair(store(), &t, NULL, &err) != 0)
		fprintf(stderr, "  pair: %s\n", err.message);
}

/* Refused in a prepare phase: audited with the operator claimed, the nonce spent. */
static void
expect_prepare_refusal(struct client *cl, const char *op, cbor_item_t *args, const struct call *o,
                       const char *code, const char *text, const char *audit_operator)
{
	struct hwgw_response r;
	struct audit_last a;
	struct call with_nonce = {0};
	uint8_t nonce[16];
	long long nonces = db_int("SELECT count(*) FROM nonces");

	if (o != NULL)
		with_nonce = *o;
	RAND_bytes(nonce, sizeof(nonce));
	with_nonce.nonce = nonce;
	with_nonce.nonce_len = sizeof(nonce);
	CHECK_EQ_INT(call(cl, op, args, &with_nonce, &r), 0);
	CHECK(refused_with(&r, code, text));
	hwgw_response_clear(&r);
	last_audit(&a);
	CHECK_EQ_STR(a.op, op);
	CHECK_EQ_STR(a.result, code);
	CHECK_EQ_STR(a.operator_id, audit_operator);
	CHECK_EQ_INT(db_int("SELECT count(*) FROM nonces"), nonces + 1);
	/* the nonce is spent: the same one again is a replay */
	CHECK_EQ_INT(call(cl, "gw.info", NULL, &with_nonce, &r), 0);
	CHECK(refused_with(&r, "replayed_nonce", ""));
	hwgw_response_clear(&r);
}

static void
test_bootstrap_pair_and_enroll_first_admin(void)
{
	struct hwgw_response r;
	struct audit_last a;
	int64_t later = hwg_now_ms() + 86400000LL;

	/* bootstrap: no active admin, so an admin client pairs without a session */
	CHECK_EQ_INT(
	    call(&admin1, "terminal.pair",
	         args_of("terminal", "PV-1", "fingerprint",
	                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
	         NULL, &r),
	    0);
	CHECK(refused_with(&r, "unavailable", "[vein] enabled = no"));
	hwgw_response_clear(&r);
	last_audit(&a);
	CHECK_EQ_STR(a.op, "terminal.pair");
	CHECK_EQ_INT(
	    call(&admin1, "terminal.pair",
	         args_of("terminal", "PV-1", "fingerprint",
	                 "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
	         NULL, &r),
	    0);
	CHECK(refused_with(&r, "bad_arguments", "hex digits"));
	hwgw_response_clear(&r);
	/* a counter client may not pair at all */
	CHECK_EQ_INT(
	    call(&counter1, "terminal.pair",
	         args_of("terminal", "PV-1", "fingerprint",
	                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
	         NULL, &r),
	    0);
	CHECK(refused_with(&r, "forbidden", "role counter"));
	hwgw_response_clear(&r);

	/* the first operator must be an admin */
	expect_prepare_refusal(&admin1, "operator.enroll",
	                       enroll_args("PV-1", "first.counter", "counter", later), NULL,
	                       "session_required", "must be an admin", "");
	expect_prepare_refusal(&admin1, "operator.enroll",
	                       enroll_args("PV-1", "first.admin", "admin", later), NULL,
	                       "terminal_unpaired", "not paired", "");
	pair_in_store("PV-1");
	expect_prepare_refusal(&admin1, "operator.enroll",
	                       enroll_args("PV-1", "first.admin", "admin", hwg_now_ms() - 1), NULL,
	                       "bad_arguments", "future", "");
	expect_prepare_refusal(&admin1, "operator.enroll",
	                       enroll_args("PV-1", "first.admin", "chief", later), NULL,
	                       "bad_arguments", "\"role\"", "");
	/* the longest role the schema lets through (16 bytes) is read whole, and refused */
	expect_prepare_refusal(&admin1, "operator.enroll",
	                       enroll_args("PV-1", "first.admin", "administrator.16", later), NULL,
	                       "bad_arguments", "\"role\"", "");
	expect_prepare_refusal(&admin1, "operator.enroll",
	                       enroll_args("PV 1", "first.admin", "admin", later), NULL,
	                       "bad_arguments", "terminal", "");
	/* everything checked: the capture is next, and there is no terminal driver here */
	CHECK_EQ_INT(call(&admin1, "operator.enroll",
	                  enroll_args("PV-1", "first.admin", "admin", later), NULL, &r),
	             0);
	CHECK(refused_with(&r, "unavailable", "[vein] enabled = no"));
	hwgw_response_clear(&r);
	last_audit(&a);
	CHECK_EQ_STR(a.result, "unavailable");
	CHECK_EQ_INT(db_int("SELECT count(*) FROM operators WHERE id = 'first.admin'"), 0);
}

/* What enrolment in bootstrap mode leaves: a pending admin enrolled from admin-1. */
static void
add_pending_admin(const char *id)
{
	struct hwg_operator_rec o;
	struct hwg_error err = {0};

	memset(&o, 0, sizeof(o));
	snprintf(o.id, sizeof(o.id), "%s", id);
	o.role = HWG_ROLE_ADMIN;
	o.state = HWG_OPERATOR_PENDING;
	o.valid_until_ms = hwg_now_ms() + 86400000LL;
	snprintf(o.enrolled_by_client, sizeof(o.enrolled_by_client), "admin-1");
	o.created_ms = hwg_now_ms();
	o.tmpl = tmpl_blob;
	o.tmpl_len = sizeof(tmpl_blob);
	if (hwg_operator_add(store(), &o, &err) != 0)
		fprintf(stderr, "  add %s: %s\n", id, err.message);
}

static void
test_confirm_needs_a_second_admin_client(void)
{
	struct hwgw_response r;
	struct audit_last a;
	struct hwg_operator_rec o;
	struct hwg_error err = {0};
	int64_t later = hwg_now_ms() + 86400000LL;

	add_pending_admin("first.admin");
	/* a pending admin is no admin yet: still bootstrap, and it cannot verify */
	pair_in_store("PV-2");
	expect_prepare_refusal(&counter1, "operator.verify",
	                       args_of("terminal", "PV-2", "operator_id", "first.admin"), NULL,
	                       "operator_expired", "pending", "first.admin");
	CHECK_EQ_INT(call(&admin1, "operator.confirm",
	                  args_of("operator_id", "first.admin", NULL, NULL), NULL, &r),
	             0);
	CHECK(refused_with(&r, "forbidden", "different admin client"));
	hwgw_response_clear(&r);
	CHECK_EQ_INT(call(&counter1, "operator.confirm",
	                  args_of("operator_id", "first.admin", NULL, NULL), NULL, &r),
	             0);
	CHECK(refused_with(&r, "forbidden", "role counter"));
	hwgw_response_clear(&r);
	CHECK_EQ_INT(call(&admin2, "operator.confirm", args_of("operator_id", "nobody", NULL, NULL),
	                  NULL, &r),
	             0);
	CHECK(refused_with(&r, "unknown_operator", "nobody"));
	hwgw_response_clear(&r);

	CHECK_EQ_INT(call(&admin2, "operator.confirm",
	                  args_of("operator_id", "first.admin", NULL, NULL), NULL, &r),
	             0);
	CHECK(r.result != NULL);
	CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(r.result, "state", NULL), "active"));
	hwgw_response_clear(&r);
	last_audit(&a);
	CHECK_EQ_STR(a.op, "operator.confirm");
	CHECK_EQ_STR(a.result, "ok");
	CHECK(strstr(a.detail, "confirmed from client admin-2") != NULL);
	CHECK_EQ_INT(hwg_operator_get(store(), "first.admin", &o, &err), 0);
	CHECK_EQ_INT(o.state, HWG_OPERATOR_ACTIVE);
	CHECK_EQ_STR(o.confirmed_by, "admin-2");
	hwg_operator_rec_clear(&o);

	/* an admin exists now: the admin operations need an admin operator's session */
	CHECK_EQ_INT(call(&admin1, "operator.enroll",
	                  enroll_args("PV-1", "second.admin", "admin", later), NULL, &r),
	             0);
	CHECK(refused_with(&r, "session_required", "operator.enroll needs an operator session"));
	hwgw_response_clear(&r);
	CHECK_EQ_INT(
	    call(&admin1, "terminal.pair",
	         args_of("terminal", "PV-1", "fingerprint",
	                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
	         NULL, &r),
	    0);
	CHECK(refused_with(&r, "session_required", "needs an operator session"));
	hwgw_response_clear(&r);
	add_pending_admin("late.admin");
	CHECK_EQ_INT(call(&admin2, "operator.confirm",
	                  args_of("operator_id", "late.admin", NULL, NULL), NULL, &r),
	             0);
	CHECK(refused_with(&r, "session_required", "needs an operator session"));
	hwgw_response_clear(&r);
}

static void
test_enroll_with_an_admin_session(void)
{
	struct hwgw_response r;
	struct call o;
	uint8_t tok[32], counter_tok[32];
	int64_t later = hwg_now_ms() + 86400000LL;

	open_session(tok, "first.admin", "admin-1", 0, 0);
	o = (struct call){tok, sizeof(tok), NULL, 0};
	expect_prepare_refusal(&admin1, "operator.enroll",
	                       enroll_args("PV-1", "first.admin", "counter", later), &o, "exists",
	                       "already taken", "first.admin");
	/* past the checks; the capture needs a terminal */
	CHECK_EQ_INT(call(&admin1, "operator.enroll",
	                  enroll_args("PV-1", "new.counter", "counter", later), &o, &r),
	             0);
	CHECK(refused_with(&r, "unavailable", "[vein] enabled = no"));
	hwgw_response_clear(&r);
	/* a counter operator's session does not make an admin */
	add_operator("plain.counter", HWG_ROLE_COUNTER, later);
	open_session(counter_tok, "plain.counter", "admin-1", 0, 0);
	o = (struct call){counter_tok, sizeof(counter_tok), NULL, 0};
	CHECK_EQ_INT(call(&admin1, "operator.enroll",
	                  enroll_args("PV-1", "new.counter", "counter", later), &o, &r),
	             0);
	CHECK(refused_with(&r, "forbidden", "role counter"));
	hwgw_response_clear(&r);
}

static void
test_verify_prepare_refusals(void)
{
	struct hwg_error err = {0};
	int64_t until = 0, later = hwg_now_ms() + 86400000LL;
	int count = 0;
	struct hwgw_response r;

	expect_prepare_refusal(&counter1, "operator.verify",
	                       args_of("terminal", "PV-1", "operator_id", "ghost"), NULL,
	                       "unknown_operator", "not enrolled", "ghost");
	add_operator("v.revoked", HWG_ROLE_COUNTER, later);
	CHECK_EQ_INT(hwg_operator_revoke(store(), "v.revoked", NULL, &err), 0);
	expect_prepare_refusal(&counter1, "operator.verify",
	                       args_of("terminal", "PV-1", "operator_id", "v.revoked"), NULL,
	                       "operator_expired", "revoked", "v.revoked");
	add_operator("v.expired", HWG_ROLE_COUNTER, hwg_now_ms() - 1);
	expect_prepare_refusal(&counter1, "operator.verify",
	                       args_of("terminal", "PV-1", "operator_id", "v.expired"), NULL,
	                       "operator_expired", "valid until", "v.expired");
	add_operator("v.locked", HWG_ROLE_COUNTER, later);
	for (int i = 0; i < 3; i++) /* [operator] max_failures = 3 */
		CHECK_EQ_INT(hwg_operator_fail(store(), "v.locked", hwg_now_ms(), 3, 60000, &count,
		                               &until, &err),
		             0);
	CHECK(until > hwg_now_ms());
	expect_prepare_refusal(&counter1, "operator.verify",
	                       args_of("terminal", "PV-1", "operator_id", "v.locked"), NULL,
	                       "operator_locked", "locked", "v.locked");
	/* a supervisor works on an issuance station only: refused before the capture */
	add_operator("v.super", HWG_ROLE_SUPERVISOR, later);
	expect_prepare_refusal(&counter1, "operator.verify",
	                       args_of("terminal", "PV-1", "operator_id", "v.super"), NULL,
	                       "forbidden", "works on an issuance station only", "v.super");
	CHECK_EQ_INT(call(&station1, "operator.verify",
	                  args_of("terminal", "PV-1", "operator_id", "v.super"), NULL, &r),
	             0);
	CHECK(refused_with(&r, "unavailable", "[vein] enabled = no")); /* the capture is next */
	hwgw_response_clear(&r);
	add_operator("v.ok", HWG_ROLE_COUNTER, later);
	expect_prepare_refusal(&counter1, "operator.verify",
	                       args_of("terminal", "PV-9", "operator_id", "v.ok"), NULL,
	                       "terminal_unpaired", "PV-9", "v.ok");
	expect_prepare_refusal(&counter1, "operator.verify",
	                       args_of("terminal", "PV-1", NULL, NULL), NULL, "bad_arguments",
	                       "identify = no", "");
	/* all checks passed: the capture is next */
	CHECK_EQ_INT(call(&counter1, "operator.verify",
	                  args_of("terminal", "PV-1", "operator_id", "v.ok"), NULL, &r),
	             0);
	CHECK(refused_with(&r, "unavailable", "[vein] enabled = no"));
	hwgw_response_clear(&r);
}

static const cbor_item_t *
listed(const cbor_item_t *result, const char *id)
{
	const cbor_item_t *ops = hwg_cbor_map_get(result, "operators", NULL);

	for (size_t i = 0; ops != NULL && i < cbor_array_size(ops); i++) {
		const cbor_item_t *e = cbor_array_handle(ops)[i];

		if (hwg_cbor_text_eq(hwg_cbor_map_get(e, "operator_id", NULL), id))
			return e;
	}
	return NULL;
}

static uint64_t
field(const cbor_item_t *e, const char *key)
{
	uint64_t v = UINT64_MAX;

	hwg_cbor_uint(hwg_cbor_map_get(e, key, NULL), &v);
	return v;
}

static void
test_list_revoke_logout(void)
{
	struct hwgw_response r;
	struct audit_last a;
	struct call o;
	uint8_t admin_tok[32], s1[32], s2[32];
	const cbor_item_t *e;
	int64_t later = hwg_now_ms() + 86400000LL;

	open_session(admin_tok, "first.admin", "admin-2", 0, 0);
	o = (struct call){admin_tok, sizeof(admin_tok), NULL, 0};
	add_operator("to.revoke", HWG_ROLE_COUNTER, later);
	open_session(s1, "to.revoke", "counter-1", 0, 0);
	open_session(s2, "to.revoke", "counter-2", 0, 0);

	CHECK_EQ_INT(call(&admin2, "operator.list", NULL, &o, &r), 0);
	CHECK(r.result != NULL);
	CHECK((e = listed(r.result, "to.revoke")) != NULL);
	if (e != NULL) {
		CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(e, "state", NULL), "active"));
		CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(e, "role", NULL), "counter"));
		CHECK_EQ_INT(field(e, "sessions"), 2);
		CHECK_EQ_INT(field(e, "failures"), 0);
		CHECK_EQ_INT(field(e, "valid_until_ms"), later);
		CHECK(hwg_cbor_map_get(e, "locked_until_ms", NULL) == NULL);
		CHECK_EQ_INT(cbor_map_size(e), 6); /* and never a template */
	}
	CHECK((e = listed(r.result, "v.locked")) != NULL);
	if (e != NULL)
		CHECK(field(e, "locked_until_ms") > (uint64_t)hwg_now_ms());
	hwgw_response_clear(&r);
	CHECK_EQ_INT(call(&counter1, "operator.list", NULL, NULL, &r), 0);
	CHECK(refused_with(&r, "forbidden", "role counter"));
	hwgw_response_clear(&r);

	/* revoke: the template wiped, both sessions ended at once */
	CHECK_EQ_INT(call(&admin2, "operator.revoke",
	                  args_of("operator_id", "to.revoke", NULL, NULL), &o, &r),
	             0);
	CHECK(r.result != NULL);
	CHECK_EQ_INT(field(r.result, "sessions_ended"), 2);
	hwgw_response_clear(&r);
	last_audit(&a);
	CHECK_EQ_STR(a.op, "operator.revoke");
	CHECK_EQ_STR(a.operator_id, "first.admin");
	CHECK(strstr(a.detail, "sessions ended=2") != NULL);
	CHECK_EQ_INT(db_int("SELECT count(*) FROM operators WHERE id = 'to.revoke' AND "
	                    "template IS NULL AND state = 'revoked'"),
	             1);
	o = (struct call){s1, sizeof(s1), NULL, 0};
	CHECK_EQ_INT(call(&counter1, "gw.info", NULL, &o, &r), 0);
	CHECK(refused_with(&r, "session_required", "ended when its operator was revoked"));
	hwgw_response_clear(&r);
	o = (struct call){admin_tok, sizeof(admin_tok), NULL, 0};
	CHECK_EQ_INT(call(&admin2, "operator.revoke",
	                  args_of("operator_id", "to.revoke", NULL, NULL), &o, &r),
	             0);
	CHECK(refused_with(&r, "bad_arguments", "already revoked"));
	hwgw_response_clear(&r);
	CHECK_EQ_INT(
	    call(&admin2, "operator.revoke", args_of("operator_id", "nobody", NULL, NULL), &o, &r),
	    0);
	CHECK(refused_with(&r, "unknown_operator", "nobody"));
	hwgw_response_clear(&r);

	/* logout ends the session it is sent with */
	CHECK_EQ_INT(call(&admin2, "operator.logout", NULL, &o, &r), 0);
	CHECK(r.result != NULL);
	hwgw_response_clear(&r);
	last_audit(&a);
	CHECK_EQ_STR(a.op, "operator.logout");
	CHECK_EQ_STR(a.operator_id, "first.admin");
	CHECK(strstr(a.detail, "reason=logout") != NULL);
	CHECK_EQ_INT(call(&admin2, "operator.list", NULL, &o, &r), 0);
	CHECK(refused_with(&r, "session_required", "was logged out"));
	hwgw_response_clear(&r);
	CHECK_EQ_INT(call(&admin2, "operator.logout", NULL, NULL, &r), 0);
	CHECK(refused_with(&r, "session_required", "needs an operator session"));
	hwgw_response_clear(&r);
}

static void
test_device_list_shows_paired_terminals(void)
{
	struct hwgw_response r;
	const cbor_item_t *devices;
	int found = 0;

	CHECK_EQ_INT(call(&counter1, "device.list", NULL, NULL, &r), 0);
	CHECK(r.result != NULL);
	devices = r.result != NULL ? hwg_cbor_map_get(r.result, "devices", NULL) : NULL;
	for (size_t i = 0; devices != NULL && i < cbor_array_size(devices); i++) {
		cbor_item_t *d = cbor_array_handle(devices)[i];

		if (!hwg_cbor_text_eq(hwg_cbor_map_get(d, "class", NULL), "terminal"))
			continue;
		found++;
		CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(d, "state", NULL), "absent"));
		CHECK(hwg_cbor_map_get(d, "paired", NULL) != NULL &&
		      cbor_get_bool(hwg_cbor_map_get(d, "paired", NULL)));
		CHECK(hwg_cbor_map_get(d, "fingerprint", NULL) != NULL);
	}
	CHECK_EQ_INT(found, 2); /* PV-1 and PV-2, paired, not plugged in */
	hwgw_response_clear(&r);
}

/* [vein] enabled = yes without the template key in the token: hwgwd does not start. */
static void
test_start_refused_without_template_key(void)
{
	struct hwg_config c = cfg; /* shallow: the strings stay cfg's */
	struct hwg_core *other = NULL;
	struct hwg_error err = {0};
	char state[300];

	snprintf(state, sizeof(state), "%s/state-nokey", dir);
	c.state_dir = state;
	c.vein_enabled = 1;
	c.hsm_template_key = "no-such-key";
	CHECK_EQ_INT(hwg_core_open(&c, &other, &err), HWG_E_CONFIG);
	CHECK(other == NULL);
	CHECK(strstr(err.message, "\"no-such-key\"") != NULL);
	CHECK(strstr(err.message, "[vein] enabled = no") != NULL);
}

/* An operator with a real sealed template, in the store at state. */
static int
add_sealed(struct hwg_store *st, const char *id, int state, const int8_t tmpl[HWG_MATCH_DIM],
           const char *seal_as)
{
	const struct hwg_op_keys *keys = hwg_core_keys(core);
	struct hwg_operator_rec o;
	struct hwg_error err = {0};
	int rc;

	memset(&o, 0, sizeof(o));
	if (keys->template_seal(keys->arg, seal_as, tmpl, &o.tmpl, &o.tmpl_len, &err) != 0) {
		fprintf(stderr, "  seal: %s\n", err.message);
		return -1;
	}
	snprintf(o.id, sizeof(o.id), "%s", id);
	o.role = HWG_ROLE_COUNTER;
	o.state = state;
	o.valid_until_ms = hwg_now_ms() + 86400000LL;
	snprintf(o.enrolled_by_client, sizeof(o.enrolled_by_client), "admin-1");
	rc = hwg_operator_add(st, &o, &err);
	hwg_operator_rec_clear(&o);
	return rc;
}

/* [vein] identify = yes: every active operator's template opened into the gallery at start. */
static void
test_gallery_loaded_at_start(void)
{
	struct hwg_config c = cfg;
	struct hwg_core *other = NULL;
	struct hwg_store *st = NULL;
	struct hwg_error err = {0};
	struct hwg_match_hit hit;
	int8_t a[HWG_MATCH_DIM], b[HWG_MATCH_DIM];
	char state[300];

	for (int i = 0; i < HWG_MATCH_DIM; i++) {
		a[i] = (int8_t)((i * 37) % 200 - 100);
		b[i] = (int8_t)((i * 91 + 13) % 200 - 100);
	}
	snprintf(state, sizeof(state), "%s/state-gallery", dir);
	CHECK_EQ_INT(hwg_store_open(state, 1, &st, &err), 0);
	if (st == NULL)
		return;
	CHECK_EQ_INT(add_sealed(st, "g.one", HWG_OPERATOR_ACTIVE, a, "g.one"), 0);
	CHECK_EQ_INT(add_sealed(st, "g.pending", HWG_OPERATOR_PENDING, b, "g.pending"), 0);
	hwg_store_close(st);
	c.state_dir = state;
	c.vein_enabled = 1;
	c.vein_identify = 1;
	CHECK_EQ_INT(hwg_core_open(&c, &other, &err), 0);
	if (other == NULL) {
		fprintf(stderr, "  open: %s\n", err.message);
		return;
	}
	CHECK(hwg_palm_has_gallery(hwg_core_palm(other)));
	CHECK_EQ_INT(hwg_palm_gallery_count(hwg_core_palm(other)), 1); /* not the pending one */
	CHECK_EQ_INT(hwg_palm_identify(hwg_core_palm(other), a, 0.9, NULL, &hit), 0);
	CHECK_EQ_STR(hit.id, "g.one");
	CHECK_EQ_INT(hwg_palm_identify(hwg_core_palm(other), b, 0.9, NULL, &hit), HWG_E_NO_MATCH);
	hwg_core_close(other);
	other = NULL;

	/* a template sealed for another operator (swapped in the store) stops the start */
	CHECK_EQ_INT(hwg_store_open(state, 1, &st, &err), 0);
	if (st == NULL)
		return;
	CHECK_EQ_INT(add_sealed(st, "g.swapped", HWG_OPERATOR_ACTIVE, b, "g.one"), 0);
	hwg_store_close(st);
	CHECK_EQ_INT(hwg_core_open(&c, &other, &err), HWG_E_TEMPLATE_TAMPERED);
	CHECK(other == NULL);
	CHECK(strstr(err.message, "identify") != NULL);
	CHECK(strstr(err.message, "g.swapped") != NULL);
}

int
main(void)
{
	if (access(getenv("HWG_P11_MODULE") ? getenv("HWG_P11_MODULE")
	                                    : "/usr/lib/softhsm/libsofthsm2.so",
	           R_OK) != 0) {
		fprintf(stderr, "skip: needs SoftHSM2 (scripts/setup installs it)\n");
		return 77;
	}
	if (setup() != 0) {
		fprintf(stderr, "set-up failed\n");
		return 1;
	}
	/* bootstrap first: later tests add admin operators */
	HWG_RUN(test_bootstrap_pair_and_enroll_first_admin);
	HWG_RUN(test_confirm_needs_a_second_admin_client);
	HWG_RUN(test_enroll_with_an_admin_session);
	HWG_RUN(test_verify_prepare_refusals);
	HWG_RUN(test_list_revoke_logout);
	HWG_RUN(test_device_list_shows_paired_terminals);
	HWG_RUN(test_no_session_needed_none_given);
	HWG_RUN(test_live_session_accepted_and_recorded);
	HWG_RUN(test_unknown_session_refused);
	HWG_RUN(test_other_clients_session_refused);
	HWG_RUN(test_idle_session_refused);
	HWG_RUN(test_absolute_limit_refused);
	HWG_RUN(test_valid_until_refused);
	HWG_RUN(test_revoked_operator_refused);
	HWG_RUN(test_session_checked_before_replay);
	HWG_RUN(test_card_ops_need_a_session_of_their_role);
	HWG_RUN(test_supervisor_session_on_issuance_station_only);
	HWG_RUN(test_tick_ends_expired_sessions);
	HWG_RUN(test_start_refused_without_template_key);
	HWG_RUN(test_gallery_loaded_at_start);
	teardown();
	return HWG_TEST_END();
}
