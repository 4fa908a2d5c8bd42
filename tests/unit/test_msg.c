/*
 * test_msg.c — hwg_msg, the framing between hwgwd's two processes: a
 * verdict and a reply survive the trip; a wrong type, a length over the
 * maximum, a cut message, a leftover byte, a passed verdict naming no
 * operation or without the client's bytes are refused; so is a
 * malformed client table.  And hwg_reverify, what the privileged
 * process makes of a passed verdict: its own checks on the client's
 * bytes, so a lying net process (a forged pass, another operation, an
 * unsigned request, a client removed meanwhile) runs nothing.
 */
#include <cbor.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hwg_clients.h"
#include "hwg_config.h"
#include "hwg_msg.h"
#include "hwg_optable.h"
#include "hwg_roles.h"
#include "hwg_store.h"
#include "hwg_test.h"
#include "hwgw.h"

static const uint8_t client_bytes[] = "the request as the client sent it";

static struct hwg_verdict
sample(void)
{
	struct hwg_verdict v;

	memset(&v, 0, sizeof(v));
	memset(v.req_hash, 0xab, sizeof(v.req_hash));
	v.have_req = 1;
	v.req.version = 1;
	strcpy(v.req.client_id, "counter-1");
	strcpy(v.req.op, "gw.info");
	strcpy(v.req.audience, "gw-01");
	v.req.time_ms = 1234567;
	memset(v.req.nonce, 7, 16);
	v.req.nonce_len = 16;
	v.req.args = cbor_new_definite_map(0);
	return v;
}

static void
test_verdict_round_trip(void)
{
	struct hwg_peer peer = {"unix", 1000, NULL, 0}, got_peer;
	struct hwg_verdict v = sample(), got;
	struct hwg_buf *b = hwg_buf_new(HWG_MSG_MAX);
	struct hwg_error err = {0};

	const uint8_t *msg;
	size_t len;

	CHECK_EQ_INT(hwg_msg_verdict_encode(&peer, &v, client_bytes, sizeof(client_bytes), b), 0);
	CHECK_EQ_INT(hwg_msg_verdict_decode(b, &got_peer, &got, &msg, &len, &err), 0);
	CHECK(len == sizeof(client_bytes) && memcmp(msg, client_bytes, len) == 0);
	CHECK_EQ_STR(got_peer.transport, "unix");
	CHECK(got_peer.uid == 1000);
	CHECK_EQ_STR(got.req.client_id, "counter-1");
	CHECK(got.op != NULL && strcmp(got.op->name, "gw.info") == 0);
	CHECK(got.req.nonce_len == 16 && got.req.time_ms == 1234567);
	CHECK(memcmp(got.req_hash, v.req_hash, 32) == 0);
	CHECK(got.req.args != NULL && cbor_isa_map(got.req.args));
	hwg_verdict_clear(&got);
	hwg_verdict_clear(&v);
	hwg_buf_free(b);
}

/* encode v, decode it: the decoder's code */
static int
trip(const struct hwg_peer *peer, const struct hwg_verdict *v, const uint8_t *msg, size_t len,
     int extra_byte)
{
	struct hwg_buf *b = hwg_buf_new(HWG_MSG_MAX);
	struct hwg_error err = {0};
	struct hwg_peer got_peer;
	struct hwg_verdict got;
	const uint8_t *m;
	size_t n;
	int rc = hwg_msg_verdict_encode(peer, v, msg, len, b);

	if (rc == 0 && extra_byte)
		rc = hwg_buf_put_u8(b, 0);
	if (rc == 0)
		rc = hwg_msg_verdict_decode(b, &got_peer, &got, &m, &n, &err);
	hwg_verdict_clear(&got);
	hwg_buf_free(b);
	return rc;
}

/*
 * A passed verdict for an operation this build does not have, with a
 * byte too many, an unknown transport, or without the client's bytes;
 * a refusal that carries bytes.
 */
static void
test_verdict_refused(void)
{
	struct hwg_peer peer = {"http", -1, NULL, 0};
	struct hwg_verdict v = sample();
	const size_t n = sizeof(client_bytes);

	strcpy(v.req.op, "no.such");
	CHECK_EQ_INT(trip(&peer, &v, client_bytes, n, 0), HWG_E_BAD_ENCODING);
	strcpy(v.req.op, "gw.info");
	CHECK_EQ_INT(trip(&peer, &v, client_bytes, n, 0), 0);
	CHECK_EQ_INT(trip(&peer, &v, client_bytes, n, 1), HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(trip(&peer, &v, NULL, 0, 0), HWG_E_BAD_ENCODING);
	peer.transport = "smtp";
	CHECK_EQ_INT(trip(&peer, &v, client_bytes, n, 0), HWG_E_BAD_ENCODING);
	peer.transport = "http";
	v.code = HWG_E_BAD_SIGNATURE; /* a refusal: encoded without bytes, so it decodes */
	CHECK_EQ_INT(trip(&peer, &v, client_bytes, n, 0), 0);
	hwg_verdict_clear(&v);
}

/* ---------------------------------------------------------------- reverify */

struct world {
	char dir[64];
	struct hwg_store *store;
	struct hwg_clients *clients;
	struct hwg_config cfg;
	EVP_PKEY *key, *other;
	struct hwgw_ctx *ctx, *forger;
};

static EVP_PKEY *
ed25519(void)
{
	struct hwg_error err = {0};
	EVP_PKEY *k = NULL;

	if (hwgw_key_generate(HWGW_ALG_EDDSA, &k, &err) != 0) {
		fprintf(stderr, "keygen: %s\n", err.message);
		exit(2);
	}
	return k;
}

/* a store with client counter-1 (key w->key), its registry, a config for gw-01 */
static void
world_open(struct world *w)
{
	struct hwg_error err = {0};
	struct hwg_client_rec c;
	uint8_t *der = NULL;
	int len;

	memset(w, 0, sizeof(*w));
	snprintf(w->dir, sizeof(w->dir), "/tmp/hwgw-msg-test.XXXXXX");
	if (mkdtemp(w->dir) == NULL)
		exit(2);
	w->key = ed25519();
	w->other = ed25519();
	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "counter-1");
	c.role = HWG_ROLE_COUNTER;
	len = i2d_PUBKEY(w->key, &der);
	c.pubkey_der = der;
	c.pubkey_len = (size_t)len;
	c.created_ms = 1700000000000;
	w->clients = hwg_clients_new();
	hwg_config_defaults(&w->cfg);
	if (len <= 0 || hwg_store_open(w->dir, 1, &w->store, &err) != 0 ||
	    hwg_store_begin(w->store, &err) != 0 || hwg_store_client_add(w->store, &c, &err) != 0 ||
	    hwg_store_commit(w->store, &err) != 0 ||
	    hwg_store_load_clients(w->store, w->clients, NULL, &err) != 0 ||
	    hwg_config_parse_string("[gateway]\nid = gw-01\nstate_dir = /var/lib/hwgw\n"
	                            "[hsm]\nmodule = /m.so\ntoken = t\npin_file = /p\n"
	                            "[unix]\nsocket = /run/x.sock\n",
	                            "inline", &w->cfg, &err) != 0 ||
	    hwgw_ctx_new("counter-1", "gw-01", w->key, NULL, &w->ctx, &err) != 0 ||
	    hwgw_ctx_new("counter-1", "gw-01", w->other, NULL, &w->forger, &err) != 0) {
		fprintf(stderr, "world: %s\n", err.message);
		exit(2);
	}
	OPENSSL_free(der);
}

static void
world_close(struct world *w)
{
	char cmd[128];

	hwgw_ctx_free(w->ctx);
	hwgw_ctx_free(w->forger);
	EVP_PKEY_free(w->key);
	EVP_PKEY_free(w->other);
	hwg_clients_free(w->clients);
	hwg_store_close(w->store);
	hwg_config_clear(&w->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", w->dir);
}

/* the net process's claim: a pass of OP for counter-1 */
static struct hwg_verdict
claimed_pass(const char *op)
{
	struct hwg_verdict v = sample();

	strcpy(v.req.op, op);
	v.op = hwg_op_find(op);
	return v;
}

static void
test_reverify(void)
{
	struct hwg_peer peer = {"http", -1, NULL, 0};
	struct hwg_error err = {0};
	struct hwg_verdict v;
	struct world w;
	uint8_t *good = NULL, *forged = NULL;
	size_t good_len = 0, forged_len = 0;

	world_open(&w);
	CHECK_EQ_INT(hwgw_request_build(w.ctx, "gw.info", NULL, NULL, &good, &good_len, &err), 0);
	CHECK_EQ_INT(
	    hwgw_request_build(w.forger, "card.sign", NULL, NULL, &forged, &forged_len, &err), 0);
	/* the client's own request: passes, as what it says */
	v = claimed_pass("gw.info");
	CHECK_EQ_INT(hwg_reverify(&w.cfg, w.clients, &peer, good, good_len, &v), 0);
	CHECK(v.op != NULL && strcmp(v.op->name, "gw.info") == 0 && v.have_client);
	hwg_verdict_clear(&v);
	/* a pass claimed for another operation: the bytes say gw.info, and that is what runs */
	v = claimed_pass("card.sign");
	CHECK_EQ_INT(hwg_reverify(&w.cfg, w.clients, &peer, good, good_len, &v), 0);
	CHECK(v.op != NULL && strcmp(v.op->name, "gw.info") == 0);
	hwg_verdict_clear(&v);
	/* a request signed by another key, passed anyway: refused */
	v = claimed_pass("card.sign");
	CHECK_EQ_INT(hwg_reverify(&w.cfg, w.clients, &peer, forged, forged_len, &v),
	             HWG_E_BAD_SIGNATURE);
	hwg_verdict_clear(&v);
	/* bytes that are no request at all */
	v = claimed_pass("gw.info");
	CHECK(hwg_reverify(&w.cfg, w.clients, &peer, client_bytes, sizeof(client_bytes), &v) != 0);
	hwg_verdict_clear(&v);
	/* the client removed from this process's registry since the net process checked */
	CHECK_EQ_INT(hwg_store_begin(w.store, &err), 0);
	CHECK_EQ_INT(hwg_store_client_remove(w.store, "counter-1", &err), 0);
	CHECK_EQ_INT(hwg_store_commit(w.store, &err), 0);
	CHECK_EQ_INT(hwg_store_load_clients(w.store, w.clients, NULL, &err), 0);
	v = claimed_pass("gw.info");
	CHECK_EQ_INT(hwg_reverify(&w.cfg, w.clients, &peer, good, good_len, &v),
	             HWG_E_UNKNOWN_CLIENT);
	hwg_verdict_clear(&v);
	/* a refusal stays the net process's: nothing to run, only to audit */
	v = claimed_pass("gw.info");
	v.code = HWG_E_REPLAY;
	CHECK_EQ_INT(hwg_reverify(&w.cfg, w.clients, &peer, NULL, 0, &v), HWG_E_REPLAY);
	hwg_verdict_clear(&v);
	free(good);
	free(forged);
	world_close(&w);
}

static void
test_framing(void)
{
	static const uint8_t big[9] = {0x7f, 0xff, 0xff, 0xff, HWG_MSG_VERDICT, 0, 0, 0, 1};
	static const uint8_t cut[11] = {0, 0, 0, 5, HWG_MSG_REPLY, 0, 0, 0, 1, 'a', 'b'};
	struct hwg_reply r = {.body = (uint8_t *)"signed", .len = 6, .stages = {1, 2, 3, 4}}, got;
	struct hwg_buf *b = hwg_buf_new(HWG_MSG_MAX), *in = NULL;
	struct hwg_error err = {0};
	uint32_t id;
	uint8_t type;
	int sv[2], rc;

	CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_EQ_INT(hwg_msg_reply_encode(0, &r, b), 0);
	CHECK_EQ_INT(hwg_msg_send(sv[0], HWG_MSG_REPLY, 42, b, &err), 0);
	CHECK_EQ_INT(hwg_msg_recv(sv[1], HWG_MSG_BIT(HWG_MSG_REPLY), &type, &id, &in, &err), 0);
	CHECK(type == HWG_MSG_REPLY && id == 42);
	CHECK_EQ_INT(hwg_msg_reply_decode(in, &rc, &got, &err), 0);
	CHECK(rc == 0 && got.len == 6 && memcmp(got.body, "signed", 6) == 0);
	/* the privileged process's stage times travel with it (make bench's shares) */
	CHECK(got.stages.reverify_us == 1 && got.stages.execute_us == 2 &&
	      got.stages.commit_us == 3 && got.stages.sign_us == 4);
	hwg_reply_clear(&got);
	hwg_buf_free(in);
	/* a type not expected */
	CHECK_EQ_INT(hwg_msg_send(sv[0], HWG_MSG_REPLY, 1, b, &err), 0);
	CHECK_EQ_INT(hwg_msg_recv(sv[1], HWG_MSG_BIT(HWG_MSG_VERDICT), &type, &id, &in, &err),
	             HWG_E_BAD_ENCODING);
	close(sv[0]);
	close(sv[1]);
	/* over the maximum, before any body byte */
	CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK(write(sv[0], big, sizeof(big)) == (ssize_t)sizeof(big));
	CHECK_EQ_INT(hwg_msg_recv(sv[1], HWG_MSG_BIT(HWG_MSG_VERDICT), &type, &id, &in, &err),
	             HWG_E_TOO_LARGE);
	close(sv[0]);
	close(sv[1]);
	/* cut inside the body; and a clean end before a header */
	CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK(write(sv[0], cut, sizeof(cut)) == (ssize_t)sizeof(cut));
	close(sv[0]);
	CHECK_EQ_INT(hwg_msg_recv(sv[1], HWG_MSG_BIT(HWG_MSG_REPLY), &type, &id, &in, &err),
	             HWG_E_IO);
	CHECK_EQ_INT(hwg_msg_recv(sv[1], HWG_MSG_BIT(HWG_MSG_REPLY), &type, &id, &in, &err), 1);
	close(sv[1]);
	hwg_buf_free(b);
}

static void
test_clients_import_refused(void)
{
	static const uint8_t bad[] = {0, 0, 0, 1, 0,    0,    0, 1, 'x', 1,
	                              0, 0, 0, 2, 0xde, 0xad, 0, 0, 0,   0};
	struct hwg_clients *cs = hwg_clients_new();
	struct hwg_buf *b = hwg_buf_from(bad, sizeof(bad));
	struct hwg_buf *empty = hwg_buf_new(64);
	struct hwg_error err = {0};
	size_t n = 99;

	CHECK_EQ_INT(hwg_clients_import(cs, b, &n, &err), HWG_E_BAD_ENCODING); /* key not DER */
	CHECK(n == 99);
	CHECK_EQ_INT(hwg_clients_export(cs, empty), 0);
	CHECK_EQ_INT(hwg_clients_import(cs, empty, &n, &err), 0);
	CHECK(n == 0);
	hwg_buf_free(b);
	hwg_buf_free(empty);
	hwg_clients_free(cs);
}

int
main(void)
{
	HWG_RUN(test_verdict_round_trip);
	HWG_RUN(test_verdict_refused);
	HWG_RUN(test_framing);
	HWG_RUN(test_clients_import_refused);
	HWG_RUN(test_reverify);
	return HWG_TEST_END();
}
