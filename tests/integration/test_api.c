/*
 * test_api.c — every check on every request, against a running hwgwd.
 *
 * Run by test_api.sh, which starts a real gateway on a fresh SoftHSM2
 * token and registers the clients named below.  Each refusal test sends
 * one bad request and asserts: the signed response carries exactly the
 * expected error code, one audit record was added with that result, and
 * nothing else changed (no replay-cache entry, no client change).  Every
 * answer is also read with a strict CBOR reader (tests/lib/strict_cbor.h:
 * tag 18, definite lengths, valid UTF-8 texts), as a client in another
 * language would read it.
 *
 * Environment: GW (the test directory), GW_URL, GW_ID.
 */
#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gwclient.h"
#include "hwg_cbor.h"
#include "hwg_cose.h"
#include "hwg_test.h"
#include "hwgw.h"

static int
call(enum transport t, struct hwgw_ctx *c, const char *op, cbor_item_t *args,
     const struct hwgw_request_opts *opts, struct hwgw_response *resp)
{
	uint8_t *req = NULL;
	size_t len = 0;
	struct hwg_error err = {0};
	long status = 0;
	int rc;

	if (hwgw_request_build(c, op, args, opts, &req, &len, &err) != 0) {
		fprintf(stderr, "  build: %s\n", err.message);
		return -1;
	}
	rc = send_req(t, op, req, len, c, resp, &status);
	free(req);
	return rc;
}

/*
 * Expect a refusal with code: response verified, code right, audit grew
 * by one record with that result, replay cache and clients unchanged.
 */
static void
expect_refusal(enum transport t, const char *code,
               int (*send)(enum transport, struct hwgw_response *))
{
	long long audit0 = db_int("SELECT count(*) FROM audit");
	long long nonces0 = db_int("SELECT count(*) FROM nonces");
	long long clients0 = db_int("SELECT count(*) FROM clients");
	struct hwgw_response resp;
	struct last_record last;

	CHECK_EQ_INT(send(t, &resp), 0);
	CHECK(resp.result == NULL);
	CHECK_EQ_STR(resp.error_code, code);
	CHECK(resp.error_message[0] != '\0');
	CHECK_EQ_INT(db_int("SELECT count(*) FROM audit"), audit0 + 1);
	db_last(&last);
	CHECK_EQ_STR(last.result, code);
	CHECK_EQ_INT(db_int("SELECT count(*) FROM nonces"), nonces0);
	CHECK_EQ_INT(db_int("SELECT count(*) FROM clients"), clients0);
	hwgw_response_clear(&resp);
}

/* ---------------------------------------------------------------- senders */

static struct hwgw_ctx *counter_ctx, *auditor_ctx, *maint_ctx;

static int
send_garbage(enum transport t, struct hwgw_response *r)
{
	static const uint8_t junk[] = "this is not CBOR \xff\xff";
	return send_req(t, "gw.info", junk, sizeof(junk), counter_ctx, r, NULL);
}

static int
send_not_sign1(enum transport t, struct hwgw_response *r)
{
	static const uint8_t cbor_int[] = {0x18, 0x2a}; /* the number 42 */
	return send_req(t, "gw.info", cbor_int, sizeof(cbor_int), counter_ctx, r, NULL);
}

static int
send_trailing(enum transport t, struct hwgw_response *r)
{
	uint8_t *req = NULL, *longer;
	size_t len = 0;
	struct hwg_error err = {0};
	int rc;

	hwgw_request_build(counter_ctx, "gw.info", NULL, NULL, &req, &len, &err);
	longer = malloc(len + 1);
	memcpy(longer, req, len);
	longer[len] = 0x00;
	rc = send_req(t, "gw.info", longer, len + 1, counter_ctx, r, NULL);
	free(req);
	free(longer);
	return rc;
}

static int
send_unknown_client(enum transport t, struct hwgw_response *r)
{
	struct hwgw_ctx *c = ctx_for("nobody", "stranger");
	int rc = call(t, c, "gw.info", NULL, NULL, r);

	hwgw_ctx_free(c);
	return rc;
}

static int
send_bad_signature(enum transport t, struct hwgw_response *r)
{
	/* claims to be "counter" but signs with the stranger's key (same algorithm) */
	struct hwgw_ctx *c = ctx_for("counter", "stranger");
	int rc = call(t, c, "gw.info", NULL, NULL, r);

	hwgw_ctx_free(c);
	return rc;
}

static int
send_alg_mismatch(enum transport t, struct hwgw_response *r)
{
	/* "p256" is registered with a P-256 key; an Ed25519 signature is not its algorithm */
	struct hwgw_ctx *c = ctx_for("p256", "stranger");
	int rc = call(t, c, "gw.info", NULL, NULL, r);

	hwgw_ctx_free(c);
	return rc;
}

static int
send_wrong_audience(enum transport t, struct hwgw_response *r)
{
	struct hwgw_request_opts o = {.audience = "another-gateway"};
	return call(t, counter_ctx, "gw.info", NULL, &o, r);
}

static int
send_old(enum transport t, struct hwgw_response *r)
{
	struct hwgw_request_opts o = {.time_ms = (int64_t)time(NULL) * 1000 - 60000};
	return call(t, counter_ctx, "gw.info", NULL, &o, r);
}

static int
send_future(enum transport t, struct hwgw_response *r)
{
	struct hwgw_request_opts o = {.time_ms = (int64_t)time(NULL) * 1000 + 60000};
	return call(t, counter_ctx, "gw.info", NULL, &o, r);
}

static uint8_t replay_nonce[32];

static int
send_replay(enum transport t, struct hwgw_response *r)
{
	struct hwgw_request_opts o = {.nonce = replay_nonce, .nonce_len = sizeof(replay_nonce)};
	return call(t, counter_ctx, "gw.info", NULL, &o, r);
}

static int
send_unknown_op(enum transport t, struct hwgw_response *r)
{
	return call(t, counter_ctx, "card.teleport", NULL, NULL, r);
}

static int
send_forbidden(enum transport t, struct hwgw_response *r)
{
	return call(t, maint_ctx, "audit.query", NULL, NULL, r);
}

static int
send_bad_args_unknown_key(enum transport t, struct hwgw_response *r)
{
	cbor_item_t *a = cbor_new_definite_map(1);
	int rc;

	hwg_cbor_map_put_uint(a, "verbose", 1);
	rc = call(t, counter_ctx, "gw.info", a, NULL, r);
	cbor_decref(&a);
	return rc;
}

static int
send_bad_args_range(enum transport t, struct hwgw_response *r)
{
	cbor_item_t *a = cbor_new_definite_map(1);
	int rc;

	hwg_cbor_map_put_uint(a, "limit", 0);
	rc = call(t, auditor_ctx, "audit.query", a, NULL, r);
	cbor_decref(&a);
	return rc;
}

static int
send_bad_args_type(enum transport t, struct hwgw_response *r)
{
	cbor_item_t *a = cbor_new_definite_map(1);
	int rc;

	hwg_cbor_map_put_uint(a, "subject", 7);
	rc = call(t, auditor_ctx, "audit.query", a, NULL, r);
	cbor_decref(&a);
	return rc;
}

static int
send_too_large(enum transport t, struct hwgw_response *r)
{
	size_t len = 70 * 1024;
	uint8_t *big = calloc(1, len);
	int rc = send_req(t, "gw.info", big, len, counter_ctx, r, NULL);

	free(big);
	return rc;
}

static int
send_bad_version(enum transport t, struct hwgw_response *r)
{
	struct hwgw_request_opts o = {.version = 2};
	return call(t, counter_ctx, "gw.info", NULL, &o, r);
}

static int
send_uid_locked(enum transport t, struct hwgw_response *r)
{
	struct hwgw_ctx *c = ctx_for("uidlocked", "uidlocked");
	int rc = call(t, c, "gw.info", NULL, NULL, r);

	hwgw_ctx_free(c);
	return rc;
}

static int
send_unknown_session(enum transport t, struct hwgw_response *r)
{
	static const uint8_t sess[16] = {1, 2, 3};
	struct hwgw_request_opts o = {.session = sess, .session_len = sizeof(sess)};
	return call(t, counter_ctx, "gw.info", NULL, &o, r);
}

/* ---------------------------------------------------------------- tests */

#define REFUSAL_TEST(name, code, sender)                                                           \
	static void name(void)                                                                     \
	{                                                                                          \
		expect_refusal(UNIX, code, sender);                                                \
		expect_refusal(HTTP, code, sender);                                                \
	}

REFUSAL_TEST(test_refuse_not_cbor, "bad_encoding", send_garbage)
REFUSAL_TEST(test_refuse_not_cose_sign1, "bad_encoding", send_not_sign1)
REFUSAL_TEST(test_refuse_trailing_bytes, "bad_encoding", send_trailing)
REFUSAL_TEST(test_refuse_bad_version, "bad_version", send_bad_version)
REFUSAL_TEST(test_refuse_unknown_client, "unknown_client", send_unknown_client)
REFUSAL_TEST(test_refuse_bad_signature, "bad_signature", send_bad_signature)
REFUSAL_TEST(test_refuse_alg_not_allowed, "alg_not_allowed", send_alg_mismatch)
REFUSAL_TEST(test_refuse_wrong_audience, "wrong_audience", send_wrong_audience)
REFUSAL_TEST(test_refuse_clock_skew_past, "clock_skew", send_old)
REFUSAL_TEST(test_refuse_clock_skew_future, "clock_skew", send_future)
REFUSAL_TEST(test_refuse_unknown_operation, "unknown_operation", send_unknown_op)
REFUSAL_TEST(test_refuse_forbidden_role, "forbidden", send_forbidden)
REFUSAL_TEST(test_refuse_args_unknown_key, "bad_arguments", send_bad_args_unknown_key)
REFUSAL_TEST(test_refuse_args_out_of_range, "bad_arguments", send_bad_args_range)
REFUSAL_TEST(test_refuse_args_wrong_type, "bad_arguments", send_bad_args_type)
REFUSAL_TEST(test_refuse_too_large, "too_large", send_too_large)
REFUSAL_TEST(test_refuse_unknown_session, "session_required", send_unknown_session)

static void
test_refuse_uid_not_allowed(void)
{
	struct hwgw_response r;
	struct hwgw_ctx *c;

	/* over the Unix socket our uid is not among uidlocked's ... */
	expect_refusal(UNIX, "uid_not_allowed", send_uid_locked);
	/* ... and a client registered without uids may not use the socket at all */
	c = ctx_for("httponly", "httponly");
	CHECK_EQ_INT(call(UNIX, c, "gw.info", NULL, NULL, &r), 0);
	CHECK_EQ_STR(r.error_code, "uid_not_allowed");
	hwgw_response_clear(&r);
	/* HTTP has no uid to check: the same client is served there */
	CHECK_EQ_INT(call(HTTP, c, "gw.info", NULL, NULL, &r), 0);
	CHECK(r.result != NULL);
	hwgw_response_clear(&r);
	hwgw_ctx_free(c);
}

static void
test_refuse_replayed_nonce(void)
{
	struct hwgw_response r;
	long long nonces0 = db_int("SELECT count(*) FROM nonces");

	for (size_t i = 0; i < sizeof(replay_nonce); i++)
		replay_nonce[i] = (uint8_t)(i * 7 + (unsigned)time(NULL));
	CHECK_EQ_INT(send_replay(UNIX, &r), 0);
	CHECK(r.result != NULL);
	hwgw_response_clear(&r);
	CHECK_EQ_INT(db_int("SELECT count(*) FROM nonces"), nonces0 + 1);
	expect_refusal(UNIX, "replayed_nonce", send_replay);
	expect_refusal(HTTP, "replayed_nonce", send_replay);
}

static void
test_replay_cache_survives_restart(void)
{
	const char *restart = getenv("GW_RESTART");

	CHECK(restart != NULL);
	if (restart == NULL)
		return;
	CHECK_EQ_INT(system(restart), 0);
	gw_url = getenv("GW_URL_AFTER_RESTART") ? getenv("GW_URL_AFTER_RESTART") : gw_url;
	/* the nonce accepted before the restart is still refused after it (Unix: same path) */
	expect_refusal(UNIX, "replayed_nonce", send_replay);
}

static void
test_gw_info_both_transports(void)
{
	for (int t = UNIX; t <= HTTP; t++) {
		struct hwgw_response r;
		cbor_item_t *v;
		const uint8_t *der;
		size_t der_len;
		char id[80];
		EVP_PKEY *k;

		CHECK_EQ_INT(call((enum transport)t, counter_ctx, "gw.info", NULL, NULL, &r), 0);
		CHECK(r.result != NULL);
		if (r.result == NULL)
			continue;
		CHECK(hwg_cbor_text_copy(hwg_cbor_map_get(r.result, "gateway_id", NULL), id,
		                         sizeof(id)) == 0);
		CHECK_EQ_STR(id, gw_id);
		v = hwg_cbor_map_get(r.result, "public_key", NULL);
		CHECK(hwg_cbor_bytes(v, &der, &der_len) == 0);
		k = d2i_PUBKEY(NULL, &der, (long)der_len);
		CHECK(k != NULL && EVP_PKEY_eq(k, gw_pub) == 1); /* the key that signed this */
		EVP_PKEY_free(k);
		hwgw_response_clear(&r);
	}
}

static void
test_device_list_shows_hsm(void)
{
	struct hwgw_response r;
	cbor_item_t *devs, *d;

	CHECK_EQ_INT(call(UNIX, maint_ctx, "device.list", NULL, NULL, &r), 0);
	devs = hwg_cbor_map_get(r.result, "devices", NULL);
	CHECK(devs != NULL && cbor_isa_array(devs) && cbor_array_size(devs) >= 1);
	if (devs != NULL && cbor_array_size(devs) >= 1) {
		d = cbor_array_get(devs, 0);
		CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(d, "class", NULL), "hsm"));
		CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(d, "state", NULL), "ready"));
		cbor_decref(&d);
	}
	hwgw_response_clear(&r);
}

static void
test_accepted_request_is_audited_with_uid(void)
{
	long long audit0 = db_int("SELECT count(*) FROM audit");
	struct hwgw_response r;
	char sql[160];

	CHECK_EQ_INT(call(UNIX, counter_ctx, "gw.info", NULL, NULL, &r), 0);
	hwgw_response_clear(&r);
	CHECK_EQ_INT(db_int("SELECT count(*) FROM audit"), audit0 + 1);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM audit WHERE seq = (SELECT max(seq) FROM audit) AND "
	         "peer_uid = %d AND transport = 'unix' AND client = 'counter' AND result = 'ok'",
	         (int)getuid());
	CHECK_EQ_INT(db_int(sql), 1);
}

static void
test_audit_verify_and_query(void)
{
	struct hwgw_response r;
	cbor_item_t *a, *recs;

	CHECK_EQ_INT(call(HTTP, auditor_ctx, "audit.verify", NULL, NULL, &r), 0);
	CHECK(r.result != NULL);
	if (r.result != NULL) {
		cbor_item_t *ok = hwg_cbor_map_get(r.result, "ok", NULL);
		CHECK(ok != NULL && cbor_is_bool(ok) && cbor_get_bool(ok));
	}
	hwgw_response_clear(&r);
	a = cbor_new_definite_map(1);
	hwg_cbor_map_put_uint(a, "limit", 5);
	CHECK_EQ_INT(call(UNIX, auditor_ctx, "audit.query", a, NULL, &r), 0);
	cbor_decref(&a);
	recs = hwg_cbor_map_get(r.result, "records", NULL);
	CHECK(recs != NULL && cbor_isa_array(recs) && cbor_array_size(recs) == 5);
	hwgw_response_clear(&r);
}

static void
test_response_from_other_key_rejected(void)
{
	/* a client that trusts another gateway key must not accept this gateway's answer */
	EVP_PKEY *k = load_key("counter", 1), *wrong = load_key("stranger", 0);
	struct hwgw_ctx *c = NULL;
	struct hwg_error err = {0};
	struct hwgw_response r;
	uint8_t *req = NULL, *body = NULL;
	size_t len = 0, body_len = 0;

	hwgw_ctx_new("counter", gw_id, k, wrong, &c, &err);
	hwgw_request_build(c, "gw.info", NULL, NULL, &req, &len, &err);
	CHECK_EQ_INT(hwgw_send_unix(sock_path, req, len, &body, &body_len, &err), 0);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(hwgw_response_verify(c, req, len, body, body_len, &r, &err),
	             HWG_E_BAD_RESPONSE);
	CHECK(r.result == NULL);
	free(req);
	free(body);
	hwgw_ctx_free(c);
	EVP_PKEY_free(k);
	EVP_PKEY_free(wrong);
}

/* Raw framed exchange on our own socket, so the request can be cut in two. */
static int
read_exact(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
test_sigterm_finishes_request_in_flight(void)
{
	struct hwg_error err = {0};
	struct hwgw_response r;
	uint8_t *req = NULL, hdr[4], *resp;
	size_t len = 0, resp_len;
	char pidpath[600];
	long pid = 0;
	FILE *f;
	int fd;

	snprintf(pidpath, sizeof(pidpath), "%s/state/hwgwd.pid", gw_dir);
	f = fopen(pidpath, "r");
	CHECK(f != NULL && fscanf(f, "%ld", &pid) == 1);
	if (f != NULL)
		fclose(f);
	CHECK_EQ_INT(hwgw_request_build(counter_ctx, "gw.info", NULL, NULL, &req, &len, &err), 0);
	fd = unix_connect();
	CHECK(fd >= 0 && pid > 1);
	if (fd < 0 || pid <= 1)
		return;
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
	/*
	 * Half a request, a pause so the gateway is surely reading it, then
	 * SIGTERM, then the rest: the answer must still come.
	 */
	CHECK(send(fd, hdr, 4, MSG_NOSIGNAL) == 4 &&
	      send(fd, req, len / 2, MSG_NOSIGNAL) == (ssize_t)(len / 2));
	usleep(200 * 1000);
	CHECK_EQ_INT(kill((pid_t)pid, SIGTERM), 0);
	usleep(300 * 1000);
	CHECK(send(fd, req + len / 2, len - len / 2, MSG_NOSIGNAL) == (ssize_t)(len - len / 2));
	CHECK_EQ_INT(read_exact(fd, hdr, 4), 0);
	resp_len = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
	resp = malloc(resp_len + 1);
	CHECK_EQ_INT(read_exact(fd, resp, resp_len), 0);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(hwgw_response_verify(counter_ctx, req, len, resp, resp_len, &r, &err), 0);
	CHECK(r.result != NULL);
	hwgw_response_clear(&r);
	free(resp);
	free(req);
	close(fd);
	/* and then it stops: new connections are refused */
	for (int i = 0; i < 50 && (fd = unix_connect()) >= 0; i++) {
		close(fd);
		usleep(100 * 1000);
	}
	CHECK(unix_connect() < 0);
}

int
main(void)
{
	int rc = gw_init("test_api.sh", NULL);

	if (rc != 0)
		return rc;
	counter_ctx = ctx_for("counter", "counter");
	auditor_ctx = ctx_for("auditor", "auditor");
	maint_ctx = ctx_for("maint", "maint");

	HWG_RUN(test_gw_info_both_transports);
	HWG_RUN(test_device_list_shows_hsm);
	HWG_RUN(test_accepted_request_is_audited_with_uid);
	HWG_RUN(test_response_from_other_key_rejected);
	HWG_RUN(test_refuse_not_cbor);
	HWG_RUN(test_refuse_not_cose_sign1);
	HWG_RUN(test_refuse_trailing_bytes);
	HWG_RUN(test_refuse_bad_version);
	HWG_RUN(test_refuse_unknown_client);
	HWG_RUN(test_refuse_uid_not_allowed);
	HWG_RUN(test_refuse_bad_signature);
	HWG_RUN(test_refuse_alg_not_allowed);
	HWG_RUN(test_refuse_wrong_audience);
	HWG_RUN(test_refuse_clock_skew_past);
	HWG_RUN(test_refuse_clock_skew_future);
	HWG_RUN(test_refuse_replayed_nonce);
	HWG_RUN(test_refuse_unknown_operation);
	HWG_RUN(test_refuse_forbidden_role);
	HWG_RUN(test_refuse_args_unknown_key);
	HWG_RUN(test_refuse_args_out_of_range);
	HWG_RUN(test_refuse_args_wrong_type);
	HWG_RUN(test_refuse_too_large);
	HWG_RUN(test_refuse_unknown_session);
	HWG_RUN(test_audit_verify_and_query);
	HWG_RUN(test_replay_cache_survives_restart);
	HWG_RUN(test_sigterm_finishes_request_in_flight); /* last: the gateway stops */

	hwgw_ctx_free(counter_ctx);
	hwgw_ctx_free(auditor_ctx);
	hwgw_ctx_free(maint_ctx);
	EVP_PKEY_free(gw_pub);
	return HWG_TEST_END();
}
