/*
 * test_simvein.c — the simulated palm-vein terminal driven with frames
 * built by the gateway's own codec (hwg_vein_proto): GET_INFO, PAIR and
 * its proof, captures under every control (palm, queued palms, nobody,
 * low quality, a photo, the terminal's cancel button), the capture time
 * and timeouts on a fake clock, CANCEL, BUSY, faults and unplugging, refused frames, and
 * the attacks (replay, injection, a wrong key) whose answers must fail
 * the host's signature check.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "hwg_test.h"
#include "hwg_vein_proto.h"
#include "sim_vein.h"

/* RFC 8032 section 7.1, TEST 1: a known key makes the fingerprint a known value. */
static const uint8_t rfc_seed[32] = {
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
static const uint8_t rfc_pub[32] = {
    0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
    0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};

/* One answer as the host sees it. */
struct rx {
	int rc; /* sim_vein_read's */
	uint8_t buf[HWG_VEIN_IN_TRANSFER_LEN];
	size_t len;
	struct hwg_vein_frame f;
	int decoded;
};

static struct sim_vein *
terminal(const char *serial)
{
	struct sim_vein_config cfg = {.serial = serial, .key_seed = rfc_seed, .rng_seed = 42};
	struct sim_vein *t = NULL;
	struct hwg_error err = {0};

	if (sim_vein_new(&cfg, &t, &err) != 0)
		fprintf(stderr, "  sim_vein_new: %s\n", err.message);
	return t;
}

static int
send_raw(struct sim_vein *t, uint64_t now, uint8_t type, uint16_t seq, const uint8_t *p, size_t n)
{
	uint8_t f[HWG_VEIN_FRAME_MAX];
	size_t len = 0;

	if (hwg_vein_frame_encode(type, seq, p, n, f, sizeof(f), &len, NULL) != 0)
		return -1;
	return sim_vein_write(t, now, f, len, NULL);
}

static int
send_capture(struct sim_vein *t, uint64_t now, uint16_t seq, uint8_t nonce_byte,
             uint16_t timeout_ms)
{
	struct hwg_vein_msg_capture_req req;
	uint8_t p[64];
	size_t n = 0;

	memset(req.nonce, nonce_byte, sizeof(req.nonce));
	req.timeout_ms = timeout_ms;
	if (hwg_vein_enc_capture_req(&req, p, sizeof(p), &n, NULL) != 0)
		return -1;
	return send_raw(t, now, HWG_VEIN_CAPTURE, seq, p, n);
}

static void
recv_at(struct sim_vein *t, uint64_t now, struct rx *r)
{
	memset(r, 0, sizeof(*r));
	r->rc = sim_vein_read(t, now, r->buf, sizeof(r->buf), &r->len);
	if (r->rc == SIM_VEIN_FRAME_READY)
		r->decoded =
		    hwg_vein_frame_decode(r->buf, r->len, HWG_VEIN_TO_HOST, &r->f, NULL) == 0;
}

/* The next answer must be an OK-framed response to (type, seq); its status byte, or -1. */
static int
expect_status(struct sim_vein *t, uint64_t now, uint8_t type, uint16_t seq, struct rx *r)
{
	recv_at(t, now, r);
	if (r->rc != SIM_VEIN_FRAME_READY || !r->decoded ||
	    hwg_vein_frame_expect(&r->f, type, seq, NULL) != 0 || r->f.payload_len == 0)
		return -1;
	return r->f.payload[0];
}

/* Capture answer at now: parsed into m; 0 on a well-formed CAPTURE response to seq. */
static int
get_capture(struct sim_vein *t, uint64_t now, uint16_t seq, struct hwg_vein_msg_capture *m)
{
	struct rx r;

	if (expect_status(t, now, HWG_VEIN_CAPTURE, seq, &r) < 0)
		return -1;
	return hwg_vein_parse_capture(r.f.payload, r.f.payload_len, m, NULL);
}

static int
verify(const struct hwg_vein_msg_capture *m, uint8_t nonce_byte)
{
	uint8_t nonce[HWG_VEIN_NONCE_LEN];

	memset(nonce, nonce_byte, sizeof(nonce));
	return hwg_vein_verify_capture(rfc_pub, nonce, m, NULL);
}

static double
cosine(const int8_t *a, const int8_t *b)
{
	double ab = 0, aa = 0, bb = 0;

	for (int i = 0; i < HWG_VEIN_TEMPLATE_LEN; i++) {
		ab += (double)a[i] * b[i];
		aa += (double)a[i] * a[i];
		bb += (double)b[i] * b[i];
	}
	return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

/* ---------------------------------------------------------------- identity and pairing */

static void
test_new_refusals(void)
{
	struct sim_vein_config cfg = {.serial = "bad\tserial"};
	struct sim_vein *t = NULL;
	struct hwg_error err = {0};

	CHECK_EQ_INT(sim_vein_new(&cfg, &t, &err), HWG_E_INVALID);
	cfg.serial = "";
	CHECK_EQ_INT(sim_vein_new(&cfg, &t, &err), HWG_E_INVALID);
	cfg.serial = "S-1";
	cfg.model = "a model name longer than thirty-two bytes";
	CHECK_EQ_INT(sim_vein_new(&cfg, &t, &err), HWG_E_INVALID);
	CHECK(t == NULL);
	/* no seed: a fresh key each time */
	struct sim_vein *a = NULL, *b = NULL;
	uint8_t ka[32], kb[32];

	cfg.model = NULL;
	CHECK_EQ_INT(sim_vein_new(&cfg, &a, &err), 0);
	CHECK_EQ_INT(sim_vein_new(&cfg, &b, &err), 0);
	if (a != NULL && b != NULL) {
		sim_vein_pubkey(a, ka);
		sim_vein_pubkey(b, kb);
		CHECK(memcmp(ka, kb, 32) != 0);
	}
	sim_vein_free(a);
	sim_vein_free(b);
	sim_vein_free(NULL);
}

static void
test_info(void)
{
	struct sim_vein *t = terminal("SIM-0001");
	struct hwg_vein_msg_info m;
	struct rx r;

	if (t == NULL)
		return;
	CHECK_EQ_STR(sim_vein_serial(t), "SIM-0001");
	CHECK_EQ_INT(send_raw(t, 0, HWG_VEIN_GET_INFO, 1, NULL, 0), 0);
	CHECK_EQ_INT(expect_status(t, 0, HWG_VEIN_GET_INFO, 1, &r), HWG_VEIN_ST_OK);
	CHECK_EQ_INT(hwg_vein_parse_info(r.f.payload, r.f.payload_len, &m, NULL), 0);
	CHECK_EQ_STR(m.serial, "SIM-0001");
	CHECK_EQ_STR(m.model, "hwsim PV-1");
	CHECK_EQ_STR(m.firmware, "1.0.0");
	CHECK_EQ_STR(m.template_format, HWG_VEIN_TEMPLATE_FORMAT);
	/* nothing more to read */
	recv_at(t, 0, &r);
	CHECK_EQ_INT(r.rc, SIM_VEIN_NOTHING_YET);
	sim_vein_free(t);
}

static void
test_pair(void)
{
	struct sim_vein *t = terminal("SIM-0002");
	struct hwg_vein_msg_pair m;
	uint8_t nonce[32], pub[32];
	char fp[HWG_VEIN_FINGERPRINT_LEN + 1];
	struct rx r;
	struct hwg_error err = {0};

	if (t == NULL)
		return;
	memset(nonce, 0x3C, sizeof(nonce));
	CHECK_EQ_INT(send_raw(t, 0, HWG_VEIN_PAIR, 0xFFFF, nonce, sizeof(nonce)), 0);
	CHECK_EQ_INT(expect_status(t, 0, HWG_VEIN_PAIR, 0xFFFF, &r), HWG_VEIN_ST_OK);
	CHECK_EQ_INT(hwg_vein_parse_pair(r.f.payload, r.f.payload_len, &m, &err), 0);
	CHECK(memcmp(m.pubkey, rfc_pub, 32) == 0);
	CHECK_EQ_INT(hwg_vein_verify_pair(nonce, &m, &err), 0);
	nonce[31] ^= 1; /* the proof is for that nonce only */
	CHECK_EQ_INT(hwg_vein_verify_pair(nonce, &m, &err), HWG_E_DEVICE_SIGNATURE);
	sim_vein_pubkey(t, pub);
	CHECK(memcmp(pub, rfc_pub, 32) == 0);
	sim_vein_fingerprint(t, fp);
	CHECK_EQ_STR(fp, "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9");
	/* a PAIR without its nonce is a bad request, not an ERROR frame */
	CHECK_EQ_INT(send_raw(t, 0, HWG_VEIN_PAIR, 3, nonce, 31), 0);
	CHECK_EQ_INT(expect_status(t, 0, HWG_VEIN_PAIR, 3, &r), HWG_VEIN_ST_BAD_REQUEST);
	CHECK_EQ_INT(r.f.payload_len, 1);
	sim_vein_free(t);
}

/* ---------------------------------------------------------------- captures */

static void
test_capture_good(void)
{
	struct sim_vein *t = terminal("SIM-0003");
	struct hwg_vein_msg_capture a1, a2, b;
	struct hwg_error err = {0};

	if (t == NULL)
		return;
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "alice", 2, &err), 0);
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "bob", 1, &err), 0);
	CHECK_EQ_INT(sim_vein_queued(t), 3);
	CHECK_EQ_INT(send_capture(t, 0, 10, 0xA1, 5000), 0);
	CHECK_EQ_INT(get_capture(t, 1, 10, &a1), 0);
	CHECK_EQ_INT(a1.status, HWG_VEIN_ST_OK);
	CHECK_EQ_INT(verify(&a1, 0xA1), 0);
	CHECK(a1.quality >= 60 && a1.liveness >= 80 && a1.liveness <= 99);
	CHECK_EQ_INT(send_capture(t, 2, 11, 0xA2, 5000), 0);
	CHECK_EQ_INT(get_capture(t, 2, 11, &a2), 0);
	CHECK_EQ_INT(verify(&a2, 0xA2), 0);
	CHECK_EQ_INT(send_capture(t, 3, 12, 0xA3, 5000), 0);
	CHECK_EQ_INT(get_capture(t, 3, 12, &b), 0);
	CHECK_EQ_INT(verify(&b, 0xA3), 0);
	CHECK_EQ_INT(sim_vein_queued(t), 0);
	/* two captures of a palm differ by noise, and stay closer than another person's */
	CHECK(memcmp(a1.tmpl, a2.tmpl, sizeof(a1.tmpl)) != 0);
	CHECK(cosine(a1.tmpl, a2.tmpl) > cosine(a1.tmpl, b.tmpl) + 0.2);
	sim_vein_free(t);
}

static void
test_capture_waits_for_palm(void)
{
	struct sim_vein *t = terminal("SIM-0004");
	struct hwg_vein_msg_capture m;
	struct hwg_vein_msg_status st;
	uint64_t deadline = 0;
	struct rx r;
	struct hwg_error err = {0};

	if (t == NULL)
		return;
	CHECK_EQ_INT(send_capture(t, 1000, 7, 0x07, 3000), 0);
	CHECK_EQ_INT(sim_vein_state(t), HWG_VEIN_STATE_CAPTURING);
	CHECK_EQ_INT(sim_vein_deadline(t, &deadline), 1);
	CHECK_EQ_INT(deadline, 4000);
	recv_at(t, 2000, &r);
	CHECK_EQ_INT(r.rc, SIM_VEIN_NOTHING_YET);
	/* STATUS is answered while the capture waits */
	CHECK_EQ_INT(send_raw(t, 2100, HWG_VEIN_STATUS, 8, NULL, 0), 0);
	CHECK_EQ_INT(expect_status(t, 2100, HWG_VEIN_STATUS, 8, &r), HWG_VEIN_ST_OK);
	CHECK_EQ_INT(hwg_vein_parse_status(r.f.payload, r.f.payload_len, &st, NULL), 0);
	CHECK(st.state == HWG_VEIN_STATE_CAPTURING && st.palm_present == 0);
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "carol", 1, &err), 0);
	CHECK_EQ_INT(get_capture(t, 2500, 7, &m), 0);
	CHECK_EQ_INT(m.status, HWG_VEIN_ST_OK);
	CHECK_EQ_INT(verify(&m, 0x07), 0);
	CHECK_EQ_INT(sim_vein_state(t), HWG_VEIN_STATE_IDLE);
	CHECK_EQ_INT(sim_vein_deadline(t, &deadline), 0);
	sim_vein_free(t);
}

/* A capture time: the answer no sooner than that long after the palm was taken. */
static void
test_capture_time(void)
{
	struct sim_vein *t = terminal("SIM-0020");
	struct hwg_vein_msg_capture m;
	uint64_t due = 0;
	struct rx r;
	struct hwg_error err = {0};

	if (t == NULL)
		return;
	sim_vein_set_capture_ms(t, 800);
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "dave", 2, &err), 0);
	CHECK_EQ_INT(send_capture(t, 1000, 1, 0x01, 3000), 0);
	recv_at(t, 1000, &r); /* the palm taken at this read */
	CHECK_EQ_INT(r.rc, SIM_VEIN_NOTHING_YET);
	CHECK_EQ_INT(sim_vein_deadline(t, &due), 1);
	CHECK_EQ_INT(due, 1800);
	recv_at(t, 1799, &r);
	CHECK_EQ_INT(r.rc, SIM_VEIN_NOTHING_YET);
	CHECK_EQ_INT(get_capture(t, 1800, 1, &m), 0);
	CHECK_EQ_INT(m.status, HWG_VEIN_ST_OK);
	CHECK_EQ_INT(verify(&m, 0x01), 0);
	/* longer than the capture's timeout: it times out first */
	sim_vein_set_capture_ms(t, 5000);
	CHECK_EQ_INT(send_capture(t, 2000, 2, 0x02, 1000), 0);
	recv_at(t, 2000, &r);
	CHECK_EQ_INT(r.rc, SIM_VEIN_NOTHING_YET);
	CHECK_EQ_INT(get_capture(t, 3000, 2, &m), 0);
	CHECK_EQ_INT(m.status, HWG_VEIN_ST_TIMEOUT);
	/* 0 again: at once */
	sim_vein_set_capture_ms(t, 0);
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "dave", 1, &err), 0);
	CHECK_EQ_INT(send_capture(t, 4000, 3, 0x03, 3000), 0);
	CHECK_EQ_INT(get_capture(t, 4000, 3, &m), 0);
	CHECK_EQ_INT(m.status, HWG_VEIN_ST_OK);
	sim_vein_free(t);
}

static void
test_timeout(void)
{
	struct sim_vein *t = terminal("SIM-0005");
	struct hwg_vein_msg_capture m;
	struct rx r;

	if (t == NULL)
		return;
	CHECK_EQ_INT(send_capture(t, 1000, 1, 0x01, 1000), 0);
	recv_at(t, 1999, &r);
	CHECK_EQ_INT(r.rc, SIM_VEIN_NOTHING_YET);
	CHECK_EQ_INT(get_capture(t, 2000, 1, &m), 0);
	CHECK_EQ_INT(m.status, HWG_VEIN_ST_TIMEOUT);
	CHECK_EQ_INT(sim_vein_state(t), HWG_VEIN_STATE_IDLE);
	/* the longest timeout, on the fake clock */
	CHECK_EQ_INT(send_capture(t, 5000, 2, 0x02, HWG_VEIN_TIMEOUT_MAX), 0);
	recv_at(t, 5000 + HWG_VEIN_TIMEOUT_MAX - 1, &r);
	CHECK_EQ_INT(r.rc, SIM_VEIN_NOTHING_YET);
	CHECK_EQ_INT(get_capture(t, 5000 + HWG_VEIN_TIMEOUT_MAX, 2, &m), 0);
	CHECK_EQ_INT(m.status, HWG_VEIN_ST_TIMEOUT);
	sim_vein_free(t);
}

static void
test_absent_and_clear(void)
{
	struct sim_vein *t = terminal("SIM-0006");
	struct hwg_vein_msg_capture m;
	struct rx r;
	struct hwg_error err = {0};

	if (t == NULL)
		return;
	/* nobody for the first capture, even with alice queued behind */
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_ABSENT, NULL, 1, &err), 0);
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "alice", 1, &err), 0);
	CHECK_EQ_INT(send_capture(t, 0, 1, 0x01, 500), 0);
	recv_at(t, 499, &r);
	CHECK_EQ_INT(r.rc, SIM_VEIN_NOTHING_YET);
	CHECK_EQ_INT(get_capture(t, 500, 1, &m), 0);
	CHECK_EQ_INT(m.status, HWG_VEIN_ST_TIMEOUT);
	CHECK_EQ_INT(send_capture(t, 600, 2, 0x02, 500), 0);
	CHECK_EQ_INT(get_capture(t, 600, 2, &m), 0);
	CHECK_EQ_INT(m.status, HWG_VEIN_ST_OK);
	/* withdrawn palms are not captured */
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "alice", 3, &err), 0);
	sim_vein_clear(t);
	CHECK_EQ_INT(sim_vein_queued(t), 0);
	CHECK_EQ_INT(send_capture(t, 1000, 3, 0x03, 100), 0);
	CHECK_EQ_INT(get_capture(t, 1100, 3, &m), 0);
	CHECK_EQ_INT(m.status, HWG_VEIN_ST_TIMEOUT);
	sim_vein_free(t);
}

static void
test_low_quality_and_photo(void)
{
	struct sim_vein *t = terminal("SIM-0007");
	struct hwg_vein_msg_capture good, low, photo;
	struct hwg_error err = {0};

	if (t == NULL)
		return;
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "dave", 1, &err), 0);
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_LOW, "dave", 1, &err), 0);
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_PHOTO, "dave", 1, &err), 0);
	CHECK_EQ_INT(send_capture(t, 0, 1, 0x11, 1000), 0);
	CHECK_EQ_INT(get_capture(t, 0, 1, &good), 0);
	CHECK_EQ_INT(send_capture(t, 0, 2, 0x12, 1000), 0);
	CHECK_EQ_INT(get_capture(t, 0, 2, &low), 0);
	CHECK_EQ_INT(send_capture(t, 0, 3, 0x13, 1000), 0);
	CHECK_EQ_INT(get_capture(t, 0, 3, &photo), 0);
	/* all three are genuine, signed captures: judging them is the gateway's job */
	CHECK_EQ_INT(verify(&good, 0x11), 0);
	CHECK_EQ_INT(verify(&low, 0x12), 0);
	CHECK_EQ_INT(verify(&photo, 0x13), 0);
	CHECK(low.quality < 40 && good.quality >= 60);
	CHECK(low.liveness >= 80);
	CHECK(photo.liveness < 20 && photo.quality >= 60);
	CHECK(cosine(good.tmpl, photo.tmpl) > 0.5);
	sim_vein_free(t);
}

static void
test_cancel(void)
{
	struct sim_vein *t = terminal("SIM-0008");
	struct hwg_vein_msg_capture m;
	struct rx r;
	struct hwg_error err = {0};

	if (t == NULL)
		return;
	/* nothing to cancel */
	CHECK_EQ_INT(send_raw(t, 0, HWG_VEIN_CANCEL, 1, NULL, 0), 0);
	CHECK_EQ_INT(expect_status(t, 0, HWG_VEIN_CANCEL, 1, &r), HWG_VEIN_ST_NOT_CAPTURING);
	/* the capture's CANCELLED comes first, then CANCEL's own answer */
	CHECK_EQ_INT(send_capture(t, 0, 2, 0x22, 10000), 0);
	CHECK_EQ_INT(send_raw(t, 100, HWG_VEIN_CANCEL, 3, NULL, 0), 0);
	CHECK_EQ_INT(get_capture(t, 100, 2, &m), 0);
	CHECK_EQ_INT(m.status, HWG_VEIN_ST_CANCELLED);
	CHECK_EQ_INT(expect_status(t, 100, HWG_VEIN_CANCEL, 3, &r), HWG_VEIN_ST_OK);
	CHECK_EQ_INT(sim_vein_state(t), HWG_VEIN_STATE_IDLE);
	/* the terminal's own button */
	CHECK_EQ_INT(sim_vein_press_cancel(t, &err), HWG_E_NOT_FOUND);
	CHECK_EQ_INT(send_capture(t, 200, 4, 0x24, 10000), 0);
	CHECK_EQ_INT(sim_vein_press_cancel(t, &err), 0);
	CHECK_EQ_INT(get_capture(t, 300, 4, &m), 0);
	CHECK_EQ_INT(m.status, HWG_VEIN_ST_CANCELLED);
	/* a CANCEL with a payload is a bad request and cancels nothing */
	CHECK_EQ_INT(send_capture(t, 400, 5, 0x25, 10000), 0);
	CHECK_EQ_INT(send_raw(t, 400, HWG_VEIN_CANCEL, 6, (const uint8_t *)"x", 1), 0);
	CHECK_EQ_INT(expect_status(t, 400, HWG_VEIN_CANCEL, 6, &r), HWG_VEIN_ST_BAD_REQUEST);
	CHECK_EQ_INT(sim_vein_state(t), HWG_VEIN_STATE_CAPTURING);
	sim_vein_free(t);
}

static void
test_busy(void)
{
	struct sim_vein *t = terminal("SIM-0009");
	struct hwg_vein_msg_capture m;
	struct hwg_vein_msg_status st;
	uint8_t nonce[32] = {0};
	struct rx r;
	struct hwg_error err = {0};

	if (t == NULL)
		return;
	CHECK_EQ_INT(send_capture(t, 0, 1, 0x31, 10000), 0);
	CHECK_EQ_INT(send_capture(t, 10, 2, 0x32, 10000), 0);
	CHECK_EQ_INT(get_capture(t, 10, 2, &m), 0);
	CHECK_EQ_INT(m.status, HWG_VEIN_ST_BUSY);
	CHECK_EQ_INT(send_raw(t, 20, HWG_VEIN_PAIR, 3, nonce, sizeof(nonce)), 0);
	CHECK_EQ_INT(expect_status(t, 20, HWG_VEIN_PAIR, 3, &r), HWG_VEIN_ST_BUSY);
	/* the first capture still runs, and takes the palm */
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "erin", 1, &err), 0);
	CHECK_EQ_INT(send_raw(t, 30, HWG_VEIN_STATUS, 4, NULL, 0), 0);
	CHECK_EQ_INT(get_capture(t, 30, 1, &m), 0);
	CHECK_EQ_INT(verify(&m, 0x31), 0);
	CHECK_EQ_INT(expect_status(t, 30, HWG_VEIN_STATUS, 4, &r), HWG_VEIN_ST_OK);
	CHECK_EQ_INT(hwg_vein_parse_status(r.f.payload, r.f.payload_len, &st, NULL), 0);
	CHECK_EQ_INT(st.state, HWG_VEIN_STATE_IDLE);
	/* a palm waiting with no capture shows in STATUS */
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "erin", 1, &err), 0);
	CHECK_EQ_INT(send_raw(t, 40, HWG_VEIN_STATUS, 5, NULL, 0), 0);
	CHECK_EQ_INT(expect_status(t, 40, HWG_VEIN_STATUS, 5, &r), HWG_VEIN_ST_OK);
	CHECK_EQ_INT(hwg_vein_parse_status(r.f.payload, r.f.payload_len, &st, NULL), 0);
	CHECK(st.state == HWG_VEIN_STATE_IDLE && st.palm_present == 1);
	sim_vein_free(t);
}

/* ---------------------------------------------------------------- attacks */

static void
test_wrong_key(void)
{
	struct sim_vein *t = terminal("SIM-0010");
	struct hwg_vein_msg_capture m;
	struct hwg_error err = {0};

	if (t == NULL)
		return;
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "frank", 3, &err), 0);
	sim_vein_set_wrong_key(t, 1);
	for (uint16_t seq = 1; seq <= 2; seq++) { /* sticky */
		CHECK_EQ_INT(send_capture(t, 0, seq, 0x40, 1000), 0);
		CHECK_EQ_INT(get_capture(t, 0, seq, &m), 0);
		CHECK_EQ_INT(m.status, HWG_VEIN_ST_OK);
		CHECK_EQ_INT(verify(&m, 0x40), HWG_E_DEVICE_SIGNATURE);
	}
	sim_vein_set_wrong_key(t, 0);
	CHECK_EQ_INT(send_capture(t, 0, 3, 0x41, 1000), 0);
	CHECK_EQ_INT(get_capture(t, 0, 3, &m), 0);
	CHECK_EQ_INT(verify(&m, 0x41), 0);
	sim_vein_free(t);
}

static void
test_replay(void)
{
	struct sim_vein *t = terminal("SIM-0011");
	struct hwg_vein_msg_capture first, again;
	struct rx r1, r2;
	struct hwg_error err = {0};

	if (t == NULL)
		return;
	CHECK_EQ_INT(sim_vein_replay_next(t, &err), HWG_E_NOT_FOUND);
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "grace", 1, &err), 0);
	CHECK_EQ_INT(send_capture(t, 0, 1, 0x51, 1000), 0);
	CHECK_EQ_INT(expect_status(t, 0, HWG_VEIN_CAPTURE, 1, &r1), HWG_VEIN_ST_OK);
	CHECK_EQ_INT(sim_vein_replay_next(t, &err), 0);
	/* answered at once, without a palm, with the old bytes under the new seq */
	CHECK_EQ_INT(send_capture(t, 100, 2, 0x52, 1000), 0);
	CHECK_EQ_INT(expect_status(t, 100, HWG_VEIN_CAPTURE, 2, &r2), HWG_VEIN_ST_OK);
	CHECK(r1.f.payload_len == r2.f.payload_len &&
	      memcmp(r1.f.payload, r2.f.payload, r1.f.payload_len) == 0);
	CHECK_EQ_INT(hwg_vein_parse_capture(r1.f.payload, r1.f.payload_len, &first, NULL), 0);
	CHECK_EQ_INT(hwg_vein_parse_capture(r2.f.payload, r2.f.payload_len, &again, NULL), 0);
	CHECK_EQ_INT(verify(&again, 0x52), HWG_E_DEVICE_SIGNATURE);
	CHECK_EQ_INT(verify(&again, 0x51), 0); /* a genuine signature, for the old nonce */
	/* one-shot: the next capture is honest again */
	CHECK_EQ_INT(send_capture(t, 200, 3, 0x53, 1000), 0);
	CHECK_EQ_INT(get_capture(t, 1200, 3, &again), 0);
	CHECK_EQ_INT(again.status, HWG_VEIN_ST_TIMEOUT);
	sim_vein_free(t);
}

static void
test_inject(void)
{
	struct sim_vein *t = terminal("SIM-0012");
	struct hwg_vein_msg_capture m;
	struct hwg_error err = {0};

	if (t == NULL)
		return;
	CHECK_EQ_INT(sim_vein_inject_next(t, "bad name", &err), HWG_E_INVALID);
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "heidi", 3, &err), 0);
	CHECK_EQ_INT(sim_vein_inject_next(t, NULL, &err), 0);
	CHECK_EQ_INT(send_capture(t, 0, 1, 0x61, 1000), 0);
	CHECK_EQ_INT(get_capture(t, 0, 1, &m), 0);
	CHECK_EQ_INT(m.status, HWG_VEIN_ST_OK);
	CHECK_EQ_INT(verify(&m, 0x61), HWG_E_DEVICE_SIGNATURE);
	/* an attacker's own palm in place of heidi's */
	CHECK_EQ_INT(sim_vein_inject_next(t, "mallory", &err), 0);
	CHECK_EQ_INT(send_capture(t, 0, 2, 0x62, 1000), 0);
	CHECK_EQ_INT(get_capture(t, 0, 2, &m), 0);
	CHECK_EQ_INT(verify(&m, 0x62), HWG_E_DEVICE_SIGNATURE);
	CHECK_EQ_INT(send_capture(t, 0, 3, 0x63, 1000), 0);
	CHECK_EQ_INT(get_capture(t, 0, 3, &m), 0);
	CHECK_EQ_INT(verify(&m, 0x63), 0);
	sim_vein_free(t);
}

/* ---------------------------------------------------------------- faults and removal */

static void
test_fault(void)
{
	struct sim_vein *t = terminal("SIM-0013");
	struct hwg_vein_msg_capture m;
	struct hwg_vein_msg_status st;
	uint8_t nonce[32] = {0};
	struct rx r;
	struct hwg_error err = {0};

	if (t == NULL)
		return;
	CHECK_EQ_INT(send_capture(t, 0, 1, 0x71, 10000), 0);
	sim_vein_set_fault(t, 1);
	CHECK_EQ_INT(sim_vein_state(t), HWG_VEIN_STATE_FAULT);
	CHECK_EQ_INT(get_capture(t, 10, 1, &m), 0);
	CHECK_EQ_INT(m.status, HWG_VEIN_ST_HW_FAULT);
	CHECK_EQ_INT(send_capture(t, 20, 2, 0x72, 10000), 0);
	CHECK_EQ_INT(get_capture(t, 20, 2, &m), 0);
	CHECK_EQ_INT(m.status, HWG_VEIN_ST_HW_FAULT);
	CHECK_EQ_INT(send_raw(t, 30, HWG_VEIN_PAIR, 3, nonce, sizeof(nonce)), 0);
	CHECK_EQ_INT(expect_status(t, 30, HWG_VEIN_PAIR, 3, &r), HWG_VEIN_ST_HW_FAULT);
	CHECK_EQ_INT(send_raw(t, 40, HWG_VEIN_STATUS, 4, NULL, 0), 0);
	CHECK_EQ_INT(expect_status(t, 40, HWG_VEIN_STATUS, 4, &r), HWG_VEIN_ST_OK);
	CHECK_EQ_INT(hwg_vein_parse_status(r.f.payload, r.f.payload_len, &st, NULL), 0);
	CHECK_EQ_INT(st.state, HWG_VEIN_STATE_FAULT);
	CHECK_EQ_INT(send_raw(t, 50, HWG_VEIN_GET_INFO, 5, NULL, 0), 0);
	CHECK_EQ_INT(expect_status(t, 50, HWG_VEIN_GET_INFO, 5, &r), HWG_VEIN_ST_OK);
	sim_vein_set_fault(t, 0);
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "ivan", 1, &err), 0);
	CHECK_EQ_INT(send_capture(t, 60, 6, 0x76, 10000), 0);
	CHECK_EQ_INT(get_capture(t, 60, 6, &m), 0);
	CHECK_EQ_INT(verify(&m, 0x76), 0);
	sim_vein_free(t);
}

static void
test_unplug(void)
{
	struct sim_vein *t = terminal("SIM-0014");
	uint8_t f[HWG_VEIN_FRAME_MAX];
	uint64_t deadline;
	struct rx r;
	struct hwg_error err = {0};

	if (t == NULL)
		return;
	CHECK_EQ_INT(send_raw(t, 0, HWG_VEIN_STATUS, 1, NULL, 0), 0);
	CHECK_EQ_INT(send_capture(t, 0, 2, 0x02, 10000), 0);
	sim_vein_unplug(t);
	CHECK(!sim_vein_plugged(t));
	recv_at(t, 10, &r);
	CHECK_EQ_INT(r.rc, HWG_E_TERMINAL_REMOVED);
	CHECK_EQ_INT(sim_vein_write(t, 10, f, 12, &err), HWG_E_TERMINAL_REMOVED);
	CHECK_EQ_INT(sim_vein_deadline(t, &deadline), 0);
	CHECK_EQ_INT(sim_vein_press_cancel(t, &err), HWG_E_NOT_FOUND);
	/* back, freshly powered: idle, nothing left over to read */
	sim_vein_plug(t);
	CHECK(sim_vein_plugged(t));
	CHECK_EQ_INT(sim_vein_state(t), HWG_VEIN_STATE_IDLE);
	recv_at(t, 20, &r);
	CHECK_EQ_INT(r.rc, SIM_VEIN_NOTHING_YET);
	CHECK_EQ_INT(send_raw(t, 20, HWG_VEIN_GET_INFO, 3, NULL, 0), 0);
	CHECK_EQ_INT(expect_status(t, 20, HWG_VEIN_GET_INFO, 3, &r), HWG_VEIN_ST_OK);
	sim_vein_free(t);
}

/* ---------------------------------------------------------------- refused frames */

/* Write raw bytes; the answer must be ERROR with refusal st and seq; returns its version. */
static int
expect_error(struct sim_vein *t, const uint8_t *data, size_t len, uint8_t st, uint16_t seq)
{
	uint8_t got = 0xEE;
	struct rx r;

	if (sim_vein_write(t, 0, data, len, NULL) != 0)
		return -1;
	recv_at(t, 0, &r);
	if (r.rc != SIM_VEIN_FRAME_READY || !r.decoded || r.f.type != HWG_VEIN_ERROR ||
	    r.f.seq != seq || hwg_vein_parse_error(r.f.payload, r.f.payload_len, &got, NULL) != 0 ||
	    got != st)
		return -1;
	return r.f.version;
}

static void
test_refused_frames(void)
{
	struct sim_vein *t = terminal("SIM-0015");
	uint8_t f[HWG_VEIN_FRAME_MAX + 4], p[34] = {0};
	size_t n = 0;
	uint32_t crc;
	struct rx r;

	if (t == NULL)
		return;
	hwg_vein_frame_encode(HWG_VEIN_STATUS, 0x0102, NULL, 0, f, sizeof(f), &n, NULL);
	f[n - 1] ^= 1;
	CHECK_EQ_INT(expect_error(t, f, n, HWG_VEIN_ST_BAD_CRC, 0x0102), 1);
	CHECK_EQ_INT(expect_error(t, (const uint8_t *)"hello", 5, HWG_VEIN_ST_BAD_REQUEST, 0), 1);
	f[n - 1] ^= 1;
	f[0] = 'X';
	CHECK_EQ_INT(expect_error(t, f, n, HWG_VEIN_ST_BAD_REQUEST, 0), 1);
	f[0] = 'P';
	f[n] = 0; /* a trailing byte */
	CHECK_EQ_INT(expect_error(t, f, n + 1, HWG_VEIN_ST_BAD_REQUEST, 0x0102), 1);
	/* a newer version: refused, answered at the terminal's own version */
	f[2] = 2;
	crc = hwg_vein_crc(f, n - 4);
	f[n - 4] = (uint8_t)(crc >> 24);
	f[n - 3] = (uint8_t)(crc >> 16);
	f[n - 2] = (uint8_t)(crc >> 8);
	f[n - 1] = (uint8_t)crc;
	CHECK_EQ_INT(expect_error(t, f, n, HWG_VEIN_ST_VERSION, 0x0102), HWG_VEIN_VERSION);
	/* a response type, and a type nobody defined */
	hwg_vein_frame_encode(HWG_VEIN_STATUS | HWG_VEIN_RESPONSE, 9, NULL, 0, f, sizeof(f), &n,
	                      NULL);
	CHECK_EQ_INT(expect_error(t, f, n, HWG_VEIN_ST_UNKNOWN_TYPE, 9), 1);
	hwg_vein_frame_encode(0x06, 10, NULL, 0, f, sizeof(f), &n, NULL);
	CHECK_EQ_INT(expect_error(t, f, n, HWG_VEIN_ST_UNKNOWN_TYPE, 10), 1);
	/* well framed, bad payload: the command's own response says BAD_REQUEST */
	p[32] = 0;
	p[33] = 99; /* timeout 99 ms */
	CHECK_EQ_INT(send_raw(t, 0, HWG_VEIN_CAPTURE, 11, p, sizeof(p)), 0);
	CHECK_EQ_INT(expect_status(t, 0, HWG_VEIN_CAPTURE, 11, &r), HWG_VEIN_ST_BAD_REQUEST);
	CHECK_EQ_INT(r.f.payload_len, 1);
	CHECK_EQ_INT(sim_vein_state(t), HWG_VEIN_STATE_IDLE);
	CHECK_EQ_INT(send_raw(t, 0, HWG_VEIN_GET_INFO, 12, p, 1), 0);
	CHECK_EQ_INT(expect_status(t, 0, HWG_VEIN_GET_INFO, 12, &r), HWG_VEIN_ST_BAD_REQUEST);
	CHECK_EQ_INT(send_raw(t, 0, HWG_VEIN_STATUS, 13, p, 2), 0);
	CHECK_EQ_INT(expect_status(t, 0, HWG_VEIN_STATUS, 13, &r), HWG_VEIN_ST_BAD_REQUEST);
	sim_vein_free(t);
}

static void
test_backpressure(void)
{
	struct sim_vein *t = terminal("SIM-0016");
	uint8_t small[8];
	size_t len = 0;
	int rc = 0, taken = 0;
	struct rx r;

	if (t == NULL)
		return;
	for (uint16_t i = 0; i < 20 && (rc = send_raw(t, 0, HWG_VEIN_STATUS, i, NULL, 0)) == 0; i++)
		taken++;
	CHECK_EQ_INT(rc, HWG_E_UNAVAILABLE);
	CHECK(taken >= 2 && taken < 20);
	/* a short IN buffer leaves the answer queued */
	CHECK_EQ_INT(sim_vein_read(t, 0, small, sizeof(small), &len), HWG_E_TOO_LARGE);
	for (int i = 0; i < taken; i++)
		CHECK_EQ_INT(expect_status(t, 0, HWG_VEIN_STATUS, (uint16_t)i, &r), HWG_VEIN_ST_OK);
	recv_at(t, 0, &r);
	CHECK_EQ_INT(r.rc, SIM_VEIN_NOTHING_YET);
	CHECK_EQ_INT(send_raw(t, 0, HWG_VEIN_STATUS, 99, NULL, 0), 0);
	sim_vein_free(t);
}

static void
test_control_refusals(void)
{
	struct sim_vein *t = terminal("SIM-0017");
	char longname[SIM_VEIN_PERSON_MAX + 2];
	int rc = 0;
	struct hwg_error err = {0};

	if (t == NULL)
		return;
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "", 1, &err), HWG_E_INVALID);
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, NULL, 1, &err), HWG_E_INVALID);
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "two words", 1, &err), HWG_E_INVALID);
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, longname, 1, &err), HWG_E_INVALID);
	CHECK_EQ_INT(sim_vein_present(t, SIM_VEIN_GOOD, "judy", 0, &err), HWG_E_INVALID);
	CHECK_EQ_INT(sim_vein_present(t, (enum sim_vein_palm)7, "judy", 1, &err), HWG_E_INVALID);
	for (int i = 0; i < SIM_VEIN_QUEUE_MAX + 1 && rc == 0; i++)
		rc = sim_vein_present(t, SIM_VEIN_GOOD, "judy", 1, &err);
	CHECK_EQ_INT(rc, HWG_E_UNAVAILABLE);
	CHECK_EQ_INT(sim_vein_queued(t), SIM_VEIN_QUEUE_MAX);
	sim_vein_free(t);
}

/* ---------------------------------------------------------------- determinism and threads */

static void
test_deterministic(void)
{
	struct sim_vein *a = terminal("SIM-0018"), *b = terminal("SIM-0018");
	struct rx ra, rb;
	struct hwg_error err = {0};

	if (a == NULL || b == NULL)
		goto out;
	CHECK_EQ_INT(sim_vein_present(a, SIM_VEIN_GOOD, "kim", 1, &err), 0);
	CHECK_EQ_INT(sim_vein_present(b, SIM_VEIN_GOOD, "kim", 1, &err), 0);
	CHECK_EQ_INT(send_capture(a, 0, 1, 0x81, 1000), 0);
	CHECK_EQ_INT(send_capture(b, 0, 1, 0x81, 1000), 0);
	recv_at(a, 0, &ra);
	recv_at(b, 0, &rb);
	CHECK(ra.rc == SIM_VEIN_FRAME_READY && ra.len == rb.len &&
	      memcmp(ra.buf, rb.buf, ra.len) == 0);
out:
	sim_vein_free(a);
	sim_vein_free(b);
}

static void *
present_later(void *arg)
{
	struct timespec ts = {0, 20 * 1000 * 1000};

	nanosleep(&ts, NULL);
	sim_vein_present(arg, SIM_VEIN_GOOD, "leo", 1, NULL);
	return NULL;
}

/* The control thread presents while the USB thread polls, as under the glue. */
static void
test_threads(void)
{
	struct sim_vein *t = terminal("SIM-0019");
	struct hwg_vein_msg_capture m;
	struct timespec ts = {0, 1000 * 1000};
	pthread_t th;
	struct rx r;
	int polls = 0;

	if (t == NULL)
		return;
	CHECK_EQ_INT(send_capture(t, 0, 1, 0x91, 60000), 0);
	CHECK_EQ_INT(pthread_create(&th, NULL, present_later, t), 0);
	do {
		nanosleep(&ts, NULL);
		recv_at(t, 1, &r);
	} while (r.rc == SIM_VEIN_NOTHING_YET && ++polls < 5000);
	pthread_join(th, NULL);
	CHECK(r.rc == SIM_VEIN_FRAME_READY && r.decoded);
	CHECK_EQ_INT(hwg_vein_parse_capture(r.f.payload, r.f.payload_len, &m, NULL), 0);
	CHECK_EQ_INT(verify(&m, 0x91), 0);
	sim_vein_free(t);
}

int
main(void)
{
	HWG_RUN(test_new_refusals);
	HWG_RUN(test_info);
	HWG_RUN(test_pair);
	HWG_RUN(test_capture_good);
	HWG_RUN(test_capture_waits_for_palm);
	HWG_RUN(test_capture_time);
	HWG_RUN(test_timeout);
	HWG_RUN(test_absent_and_clear);
	HWG_RUN(test_low_quality_and_photo);
	HWG_RUN(test_cancel);
	HWG_RUN(test_busy);
	HWG_RUN(test_wrong_key);
	HWG_RUN(test_replay);
	HWG_RUN(test_inject);
	HWG_RUN(test_fault);
	HWG_RUN(test_unplug);
	HWG_RUN(test_refused_frames);
	HWG_RUN(test_backpressure);
	HWG_RUN(test_control_refusals);
	HWG_RUN(test_deterministic);
	HWG_RUN(test_threads);
	return HWG_TEST_END();
}
