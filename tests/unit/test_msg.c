/*
 * test_msg.c — hwg_msg, the framing between hwgwd's two processes: a
 * verdict and a reply survive the trip; a wrong type, a length over the
 * maximum, a cut message, a leftover byte or a passed verdict naming no
 * operation are refused; so is a malformed client table.
 */
#include <cbor.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hwg_clients.h"
#include "hwg_msg.h"
#include "hwg_ops.h"
#include "hwg_test.h"

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
	struct hwg_peer peer = {"unix", 1000, NULL}, got_peer;
	struct hwg_verdict v = sample(), got;
	struct hwg_buf *b = hwg_buf_new(HWG_MSG_MAX);
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_msg_verdict_encode(&peer, &v, b), 0);
	CHECK_EQ_INT(hwg_msg_verdict_decode(b, &got_peer, &got, &err), 0);
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

/* A passed verdict for an operation this build does not have, and one with a byte too many. */
static void
test_verdict_refused(void)
{
	struct hwg_peer peer = {"http", -1, NULL}, got_peer;
	struct hwg_verdict v = sample(), got;
	struct hwg_buf *b = hwg_buf_new(HWG_MSG_MAX);
	struct hwg_error err = {0};

	strcpy(v.req.op, "no.such");
	CHECK_EQ_INT(hwg_msg_verdict_encode(&peer, &v, b), 0);
	CHECK_EQ_INT(hwg_msg_verdict_decode(b, &got_peer, &got, &err), HWG_E_BAD_ENCODING);
	hwg_verdict_clear(&got);
	hwg_buf_reset(b);
	strcpy(v.req.op, "gw.info");
	CHECK_EQ_INT(hwg_msg_verdict_encode(&peer, &v, b), 0);
	CHECK_EQ_INT(hwg_buf_put_u8(b, 0), 0);
	CHECK_EQ_INT(hwg_msg_verdict_decode(b, &got_peer, &got, &err), HWG_E_BAD_ENCODING);
	hwg_verdict_clear(&got);
	hwg_buf_reset(b);
	peer.transport = "smtp";
	CHECK_EQ_INT(hwg_msg_verdict_encode(&peer, &v, b), 0);
	CHECK_EQ_INT(hwg_msg_verdict_decode(b, &got_peer, &got, &err), HWG_E_BAD_ENCODING);
	hwg_verdict_clear(&got);
	hwg_verdict_clear(&v);
	hwg_buf_free(b);
}

static void
test_framing(void)
{
	static const uint8_t big[9] = {0x7f, 0xff, 0xff, 0xff, HWG_MSG_VERDICT, 0, 0, 0, 1};
	static const uint8_t cut[11] = {0, 0, 0, 5, HWG_MSG_REPLY, 0, 0, 0, 1, 'a', 'b'};
	struct hwg_reply r = {(uint8_t *)"signed", 6, 0}, got;
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
	return HWG_TEST_END();
}
