/*
 * test_vein_proto.c — the vein terminal's protocol codec without a
 * terminal: frames and every message round trip; each malformed frame
 * and payload is refused with the right refusal; the signed bytes and a
 * frame are fixed by known vectors (computed outside this code), and
 * signatures made with the RFC 8032 test key verify only over exactly
 * those bytes.
 */
#include <openssl/evp.h>
#include <string.h>

#include "hwg_test.h"
#include "hwg_vein_proto.h"

/* RFC 8032 section 7.1, TEST 1 */
static const uint8_t rfc_seed[32] = {
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
static const uint8_t rfc_pub[32] = {
    0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
    0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};

static void
hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void
sha256_hex(const uint8_t *p, size_t n, char out[65])
{
	uint8_t d[32];
	unsigned int dl = 0;

	EVP_Digest(p, n, d, &dl, EVP_sha256(), NULL);
	hex(d, sizeof(d), out);
}

static int
sign(const uint8_t seed[32], const uint8_t *msg, size_t len, uint8_t sig[64])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t sl = 64;
	int ok = k != NULL && c != NULL && EVP_DigestSignInit(c, NULL, NULL, NULL, k) == 1 &&
	         EVP_DigestSign(c, sig, &sl, msg, len) == 1 && sl == 64;

	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return ok;
}

/* A frame around payload at the given version, CRC recomputed. */
static size_t
frame_v(uint8_t version, uint8_t type, uint16_t seq, const uint8_t *p, size_t n, uint8_t *out)
{
	size_t len = 0;
	uint32_t crc;

	if (hwg_vein_frame_encode(type, seq, p, n, out, HWG_VEIN_FRAME_MAX, &len, NULL) != 0)
		return 0;
	out[2] = version;
	crc = hwg_vein_crc(out, len - 4);
	out[len - 4] = (uint8_t)(crc >> 24);
	out[len - 3] = (uint8_t)(crc >> 16);
	out[len - 2] = (uint8_t)(crc >> 8);
	out[len - 1] = (uint8_t)crc;
	return len;
}

static void
fill_capture(struct hwg_vein_msg_capture *m)
{
	memset(m, 0, sizeof(*m));
	m->quality = 87;
	m->liveness = 95;
	for (int i = 0; i < HWG_VEIN_TEMPLATE_LEN; i++)
		m->tmpl[i] = (int8_t)(i - 128);
	m->sig_alg = HWG_VEIN_ALG_ED25519;
	for (int i = 0; i < HWG_VEIN_SIG_LEN; i++)
		m->sig[i] = (uint8_t)(0xC0 ^ i);
}

/* ---------------------------------------------------------------- frames */

static void
test_frame_vector(void)
{
	static const uint8_t want[] = {'P', 'V', 1, 1, 0, 7, 0, 0, 0x83, 0x72, 0x1C, 0xB2};
	uint8_t f[HWG_VEIN_FRAME_MAX];
	size_t n = 0;
	struct hwg_vein_frame fr;
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_vein_frame_encode(HWG_VEIN_GET_INFO, 7, NULL, 0, f, sizeof(f), &n, &err),
	             0);
	CHECK_EQ_INT(n, sizeof(want));
	CHECK(memcmp(f, want, sizeof(want)) == 0);
	CHECK_EQ_INT(hwg_vein_frame_decode(want, sizeof(want), HWG_VEIN_TO_TERMINAL, &fr, &err), 0);
	CHECK(fr.version == 1 && fr.type == HWG_VEIN_GET_INFO && fr.seq == 7 &&
	      fr.payload_len == 0);
	CHECK_EQ_INT(HWG_VEIN_FRAME_MAX, 1036);
	CHECK_EQ_INT(HWG_VEIN_IN_TRANSFER_LEN, 1536);
}

static void
test_frame_round_trip(void)
{
	uint8_t payload[HWG_VEIN_PAYLOAD_MAX], f[HWG_VEIN_FRAME_MAX];
	size_t n = 0;
	struct hwg_vein_frame fr;
	struct hwg_error err = {0};

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	CHECK_EQ_INT(hwg_vein_frame_encode(HWG_VEIN_CAPTURE | HWG_VEIN_RESPONSE, 0xBEEF, payload,
	                                   sizeof(payload), f, sizeof(f), &n, &err),
	             0);
	CHECK_EQ_INT(n, HWG_VEIN_FRAME_MAX);
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_HOST, &fr, &err), 0);
	CHECK(fr.type == 0x82 && fr.seq == 0xBEEF && fr.payload_len == sizeof(payload));
	CHECK(fr.payload == f + HWG_VEIN_HEADER_LEN);
	CHECK(memcmp(fr.payload, payload, sizeof(payload)) == 0);
	/* every command to a terminal, every response and ERROR to a host */
	for (uint8_t t = HWG_VEIN_GET_INFO; t <= HWG_VEIN_PAIR; t++) {
		n = frame_v(1, t, t, payload, 3, f);
		CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_TERMINAL, &fr, &err), 0);
		n = frame_v(1, t | HWG_VEIN_RESPONSE, t, payload, 3, f);
		CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_HOST, &fr, &err), 0);
	}
	n = frame_v(1, HWG_VEIN_ERROR, 0, payload, 1, f);
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_HOST, &fr, &err), 0);
}

static void
test_frame_encode_refusals(void)
{
	uint8_t payload[HWG_VEIN_PAYLOAD_MAX + 1] = {0}, f[HWG_VEIN_FRAME_MAX + 1];
	size_t n = 0;
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_vein_frame_encode(1, 0, payload, sizeof(payload), f, sizeof(f), &n, &err),
	             HWG_E_INVALID);
	CHECK_EQ_INT(hwg_vein_frame_encode(1, 0, payload, 10, f, 21, &n, &err), HWG_E_TOO_LARGE);
	CHECK_EQ_INT(hwg_vein_frame_encode(1, 0, payload, 10, f, 22, &n, &err), 0);
}

static void
test_frame_short_and_magic(void)
{
	uint8_t f[HWG_VEIN_FRAME_MAX];
	size_t n = frame_v(1, HWG_VEIN_STATUS, 9, NULL, 0, f);
	struct hwg_vein_frame fr;
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_vein_frame_decode(f, 0, HWG_VEIN_TO_TERMINAL, &fr, &err),
	             HWG_E_TERMINAL_ERROR);
	CHECK(fr.refusal == HWG_VEIN_ST_BAD_REQUEST && !fr.seq_known);
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n - 1, HWG_VEIN_TO_TERMINAL, &fr, &err),
	             HWG_E_TERMINAL_ERROR);
	CHECK(fr.refusal == HWG_VEIN_ST_BAD_REQUEST && !fr.seq_known && fr.seq == 0);
	CHECK(strstr(err.message, "shorter") != NULL);
	f[1] = 'W';
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_TERMINAL, &fr, &err),
	             HWG_E_TERMINAL_ERROR);
	CHECK(fr.refusal == HWG_VEIN_ST_BAD_REQUEST && !fr.seq_known && fr.seq == 0);
	CHECK(strstr(err.message, "magic") != NULL);
}

static void
test_frame_bad_crc(void)
{
	uint8_t p[4] = {1, 2, 3, 4}, f[HWG_VEIN_FRAME_MAX];
	size_t n = frame_v(1, HWG_VEIN_CAPTURE, 0x1234, p, sizeof(p), f);
	struct hwg_vein_frame fr;
	struct hwg_error err = {0};

	f[HWG_VEIN_HEADER_LEN + 2] ^= 0x01;
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_TERMINAL, &fr, &err),
	             HWG_E_TERMINAL_ERROR);
	CHECK(fr.refusal == HWG_VEIN_ST_BAD_CRC && fr.seq_known && fr.seq == 0x1234);
	CHECK(strstr(err.message, "CRC") != NULL);
	f[HWG_VEIN_HEADER_LEN + 2] ^= 0x01;
	f[n - 1] ^= 0x80;
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_TERMINAL, &fr, &err),
	             HWG_E_TERMINAL_ERROR);
	CHECK(fr.refusal == HWG_VEIN_ST_BAD_CRC);
	/* a corrupted version byte is a CRC failure, not a version refusal */
	f[n - 1] ^= 0x80;
	f[2] = 2;
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_TERMINAL, &fr, &err),
	             HWG_E_TERMINAL_ERROR);
	CHECK(fr.refusal == HWG_VEIN_ST_BAD_CRC);
}

static void
test_frame_lengths(void)
{
	uint8_t p[20] = {0}, f[HWG_VEIN_FRAME_MAX + 8] = {0};
	size_t n = frame_v(1, HWG_VEIN_PAIR, 5, p, sizeof(p), f);
	struct hwg_vein_frame fr;
	struct hwg_error err = {0};

	/* the length field claims more than arrived */
	f[6] = 0x00;
	f[7] = 100;
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_TERMINAL, &fr, &err),
	             HWG_E_TERMINAL_ERROR);
	CHECK(fr.refusal == HWG_VEIN_ST_BAD_REQUEST && fr.seq_known && fr.seq == 5);
	CHECK(strstr(err.message, "only") != NULL);
	/* over the maximum, even with the bytes there */
	f[6] = 0x04;
	f[7] = 0x01;
	CHECK_EQ_INT(hwg_vein_frame_decode(f, sizeof(f), HWG_VEIN_TO_TERMINAL, &fr, &err),
	             HWG_E_TERMINAL_ERROR);
	CHECK(fr.refusal == HWG_VEIN_ST_BAD_REQUEST && strstr(err.message, "maximum") != NULL);
	/* a byte after the CRC: exactly one frame per transfer */
	n = frame_v(1, HWG_VEIN_PAIR, 5, p, sizeof(p), f);
	f[n] = 0;
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n + 1, HWG_VEIN_TO_TERMINAL, &fr, &err),
	             HWG_E_TERMINAL_ERROR);
	CHECK(fr.refusal == HWG_VEIN_ST_BAD_REQUEST && strstr(err.message, "after") != NULL);
	/* the length field claims less than arrived: the rest is trailing */
	f[7] = 10;
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_TERMINAL, &fr, &err),
	             HWG_E_TERMINAL_ERROR);
	CHECK(fr.refusal == HWG_VEIN_ST_BAD_REQUEST);
}

static void
test_frame_versions(void)
{
	uint8_t st = HWG_VEIN_ST_VERSION, f[HWG_VEIN_FRAME_MAX];
	size_t n = frame_v(2, HWG_VEIN_GET_INFO, 77, NULL, 0, f);
	struct hwg_vein_frame fr;
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_TERMINAL, &fr, &err),
	             HWG_E_TERMINAL_ERROR);
	CHECK(fr.refusal == HWG_VEIN_ST_VERSION && fr.seq_known && fr.seq == 77 && fr.version == 2);
	n = frame_v(0, HWG_VEIN_GET_INFO, 77, NULL, 0, f);
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_TERMINAL, &fr, &err),
	             HWG_E_TERMINAL_ERROR);
	CHECK(fr.refusal == HWG_VEIN_ST_VERSION);
	n = frame_v(2, HWG_VEIN_GET_INFO | HWG_VEIN_RESPONSE, 77, &st, 1, f);
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_HOST, &fr, &err),
	             HWG_E_TERMINAL_ERROR);
	CHECK(fr.refusal == HWG_VEIN_ST_VERSION);
	/* a terminal's ERROR/VERSION is read at its version, which the host learns */
	n = frame_v(3, HWG_VEIN_ERROR, 77, &st, 1, f);
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_HOST, &fr, &err), 0);
	CHECK_EQ_INT(fr.version, 3);
	CHECK_EQ_INT(hwg_vein_frame_expect(&fr, HWG_VEIN_GET_INFO, 77, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "speaks version 3") != NULL);
	/* ... but a terminal does not take an ERROR frame at any version */
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_TERMINAL, &fr, &err),
	             HWG_E_TERMINAL_ERROR);
	CHECK(fr.refusal == HWG_VEIN_ST_VERSION);
}

static void
test_frame_types(void)
{
	static const uint8_t to_terminal_bad[] = {0x00, 0x06, 0x7F, 0x81, 0x85, 0xFF};
	static const uint8_t to_host_bad[] = {0x01, 0x05, 0x80, 0x86, 0xFE};
	uint8_t f[HWG_VEIN_FRAME_MAX];
	size_t n;
	struct hwg_vein_frame fr;
	struct hwg_error err = {0};

	for (size_t i = 0; i < sizeof(to_terminal_bad); i++) {
		n = frame_v(1, to_terminal_bad[i], 3, NULL, 0, f);
		CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_TERMINAL, &fr, &err),
		             HWG_E_TERMINAL_ERROR);
		CHECK(fr.refusal == HWG_VEIN_ST_UNKNOWN_TYPE && fr.seq == 3);
	}
	for (size_t i = 0; i < sizeof(to_host_bad); i++) {
		n = frame_v(1, to_host_bad[i], 3, NULL, 0, f);
		CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_HOST, &fr, &err),
		             HWG_E_TERMINAL_ERROR);
		CHECK(fr.refusal == HWG_VEIN_ST_UNKNOWN_TYPE);
	}
}

static void
test_frame_expect(void)
{
	uint8_t st, f[HWG_VEIN_FRAME_MAX];
	size_t n;
	struct hwg_vein_frame fr;
	struct hwg_error err = {0};

	st = HWG_VEIN_ST_OK;
	n = frame_v(1, HWG_VEIN_STATUS | HWG_VEIN_RESPONSE, 10, &st, 1, f);
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_HOST, &fr, &err), 0);
	CHECK_EQ_INT(hwg_vein_frame_expect(&fr, HWG_VEIN_STATUS, 10, &err), 0);
	CHECK_EQ_INT(hwg_vein_frame_expect(&fr, HWG_VEIN_STATUS, 11, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "seq") != NULL);
	CHECK_EQ_INT(hwg_vein_frame_expect(&fr, HWG_VEIN_PAIR, 10, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "type") != NULL);
	st = HWG_VEIN_ST_BAD_CRC;
	n = frame_v(1, HWG_VEIN_ERROR, 0, &st, 1, f);
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_HOST, &fr, &err), 0);
	CHECK_EQ_INT(hwg_vein_frame_expect(&fr, HWG_VEIN_STATUS, 10, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "bad CRC") != NULL);
	n = frame_v(1, HWG_VEIN_ERROR, 9, &st, 1, f);
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_HOST, &fr, &err), 0);
	CHECK_EQ_INT(hwg_vein_frame_expect(&fr, HWG_VEIN_STATUS, 10, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "seq 9") != NULL);
	/* an ERROR whose payload is not a refusal is itself outside the protocol */
	st = HWG_VEIN_ST_OK;
	n = frame_v(1, HWG_VEIN_ERROR, 10, &st, 1, f);
	CHECK_EQ_INT(hwg_vein_frame_decode(f, n, HWG_VEIN_TO_HOST, &fr, &err), 0);
	CHECK_EQ_INT(hwg_vein_frame_expect(&fr, HWG_VEIN_STATUS, 10, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "not a frame refusal") != NULL);
}

/* ---------------------------------------------------------------- statuses */

static void
test_statuses(void)
{
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_vein_status_error(HWG_VEIN_ST_OK, "capture", &err), 0);
	CHECK_EQ_INT(hwg_vein_status_error(HWG_VEIN_ST_TIMEOUT, "capture", &err),
	             HWG_E_CAPTURE_TIMEOUT);
	CHECK_EQ_STR(err.message, "capture: terminal answered timeout");
	CHECK_EQ_INT(hwg_vein_status_error(HWG_VEIN_ST_CANCELLED, "capture", &err),
	             HWG_E_CAPTURE_CANCELLED);
	CHECK_EQ_INT(hwg_vein_status_error(HWG_VEIN_ST_BUSY, "capture", &err), HWG_E_TERMINAL_BUSY);
	for (uint8_t s = HWG_VEIN_ST_BAD_REQUEST; s <= HWG_VEIN_ST_NOT_CAPTURING; s++)
		CHECK_EQ_INT(hwg_vein_status_error(s, "x", &err), HWG_E_TERMINAL_ERROR);
	CHECK_EQ_INT(hwg_vein_status_error(HWG_VEIN_ST_HW_FAULT, "pair", &err),
	             HWG_E_TERMINAL_ERROR);
	CHECK_EQ_STR(err.message, "pair: terminal answered hardware fault");
	CHECK_EQ_INT(hwg_vein_status_error(200, "pair", &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "unknown status 200") != NULL);
	CHECK_EQ_STR(hwg_vein_status_text(HWG_VEIN_ST_NOT_CAPTURING), "not capturing");
	CHECK_EQ_STR(hwg_vein_status_text(HWG_VEIN_ST_VERSION), "unsupported version");
	CHECK_EQ_STR(hwg_vein_status_text(10), "unknown status");
}

/* ---------------------------------------------------------------- messages */

static void
test_empty_and_status_only(void)
{
	uint8_t p[4] = {0}, st = 0xEE;
	size_t n = 0;
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_vein_parse_empty(p, 0, &err), 0);
	CHECK_EQ_INT(hwg_vein_parse_empty(p, 1, &err), HWG_E_TERMINAL_ERROR);
	CHECK_EQ_INT(hwg_vein_enc_status_only(HWG_VEIN_ST_NOT_CAPTURING, p, sizeof(p), &n, &err),
	             0);
	CHECK(n == 1 && p[0] == 9);
	CHECK_EQ_INT(hwg_vein_parse_cancel_resp(p, n, &st, &err), 0);
	CHECK_EQ_INT(st, HWG_VEIN_ST_NOT_CAPTURING);
	CHECK_EQ_INT(hwg_vein_enc_status_only(10, p, sizeof(p), &n, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_vein_enc_status_only(0, p, 0, &n, &err), HWG_E_TOO_LARGE);
	st = 0xEE;
	CHECK_EQ_INT(hwg_vein_parse_cancel_resp(p, 0, &st, &err), HWG_E_TERMINAL_ERROR);
	CHECK_EQ_INT(st, 0xEE); /* untouched on failure */
	p[0] = 0;
	p[1] = 0;
	CHECK_EQ_INT(hwg_vein_parse_cancel_resp(p, 2, &st, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "trailing") != NULL);
	p[0] = 10;
	CHECK_EQ_INT(hwg_vein_parse_cancel_resp(p, 1, &st, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "unknown status") != NULL);
	for (uint8_t s = 0; s <= HWG_VEIN_ST_MAX_; s++) {
		int refusal = s == HWG_VEIN_ST_BAD_REQUEST || s == HWG_VEIN_ST_UNKNOWN_TYPE ||
		              s == HWG_VEIN_ST_BAD_CRC || s == HWG_VEIN_ST_VERSION;

		p[0] = s;
		CHECK_EQ_INT(hwg_vein_parse_error(p, 1, &st, &err),
		             refusal ? 0 : HWG_E_TERMINAL_ERROR);
	}
	CHECK_EQ_INT(hwg_vein_parse_error(p, 0, &st, &err), HWG_E_TERMINAL_ERROR);
}

static void
test_info(void)
{
	struct hwg_vein_msg_info m = {HWG_VEIN_ST_OK, "PV-100", "SIM0001", "1.0.3",
	                              HWG_VEIN_TEMPLATE_FORMAT},
	                         o;
	uint8_t p[HWG_VEIN_PAYLOAD_MAX];
	size_t n = 0;
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_vein_enc_info(&m, p, sizeof(p), &n, &err), 0);
	CHECK_EQ_INT(n, 1 + 7 + 8 + 6 + 10);
	CHECK(p[0] == 0 && p[1] == 6 && memcmp(p + 2, "PV-100", 6) == 0 && p[8] == 7);
	CHECK_EQ_INT(hwg_vein_parse_info(p, n, &o, &err), 0);
	CHECK(o.status == 0);
	CHECK_EQ_STR(o.model, "PV-100");
	CHECK_EQ_STR(o.serial, "SIM0001");
	CHECK_EQ_STR(o.firmware, "1.0.3");
	CHECK_EQ_STR(o.template_format, "pv1-256i8");
	/* the longest strings */
	memset(m.serial, 'S', HWG_VEIN_STR_MAX);
	m.serial[HWG_VEIN_STR_MAX] = '\0';
	CHECK_EQ_INT(hwg_vein_enc_info(&m, p, sizeof(p), &n, &err), 0);
	CHECK_EQ_INT(hwg_vein_parse_info(p, n, &o, &err), 0);
	CHECK_EQ_STR(o.serial, m.serial);
	CHECK_EQ_INT(hwg_vein_enc_info(&m, p, n - 1, &n, &err), HWG_E_TOO_LARGE);
	/* not OK: the status alone */
	m.status = HWG_VEIN_ST_HW_FAULT;
	CHECK_EQ_INT(hwg_vein_enc_info(&m, p, sizeof(p), &n, &err), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(hwg_vein_parse_info(p, n, &o, &err), 0);
	CHECK_EQ_INT(o.status, HWG_VEIN_ST_HW_FAULT);
}

static void
test_info_refusals(void)
{
	struct hwg_vein_msg_info m = {0, "M", "S", "F", HWG_VEIN_TEMPLATE_FORMAT}, o;
	uint8_t p[HWG_VEIN_PAYLOAD_MAX];
	size_t n = 0, good;
	struct hwg_error err = {0};

	/* encoder: non-printable, empty, too long */
	m.serial[0] = '\n';
	CHECK_EQ_INT(hwg_vein_enc_info(&m, p, sizeof(p), &n, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "serial") != NULL);
	m.serial[0] = '\0';
	CHECK_EQ_INT(hwg_vein_enc_info(&m, p, sizeof(p), &n, &err), HWG_E_INVALID);
	memset(m.model, 'M', sizeof(m.model)); /* 33 bytes, no NUL */
	m.serial[0] = 'S';
	CHECK_EQ_INT(hwg_vein_enc_info(&m, p, sizeof(p), &n, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "model") != NULL);
	strcpy(m.model, "M");
	CHECK_EQ_INT(hwg_vein_enc_info(&m, p, sizeof(p), &n, &err), 0);
	good = n; /* 00 01 M 01 S 01 F 09 pv1-256i8 */
	/* parser: byte 4 is the serial's */
	p[4] = 0x7F;
	CHECK_EQ_INT(hwg_vein_parse_info(p, good, &o, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "serial has byte 7F") != NULL);
	p[4] = 0x00;
	CHECK_EQ_INT(hwg_vein_parse_info(p, good, &o, &err), HWG_E_TERMINAL_ERROR);
	p[4] = 0xC3;
	CHECK_EQ_INT(hwg_vein_parse_info(p, good, &o, &err), HWG_E_TERMINAL_ERROR);
	p[4] = 'S';
	p[3] = 33; /* a length over the maximum, with the bytes present */
	memset(p + good, 'x', 40);
	CHECK_EQ_INT(hwg_vein_parse_info(p, good + 40, &o, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "33 bytes") != NULL);
	p[3] = 0;
	CHECK_EQ_INT(hwg_vein_parse_info(p, good, &o, &err), HWG_E_TERMINAL_ERROR);
	p[3] = 1;
	CHECK_EQ_INT(hwg_vein_parse_info(p, good, &o, &err), 0);
	/* cut anywhere, or with a byte more */
	for (size_t cut = 0; cut < good; cut++)
		CHECK_EQ_INT(hwg_vein_parse_info(p, cut, &o, &err), HWG_E_TERMINAL_ERROR);
	CHECK_EQ_INT(hwg_vein_parse_info(p, good + 1, &o, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "trailing") != NULL);
	/* a not-OK status followed by fields */
	p[0] = HWG_VEIN_ST_BUSY;
	CHECK_EQ_INT(hwg_vein_parse_info(p, good, &o, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "not-OK") != NULL);
	p[0] = 0x0A;
	CHECK_EQ_INT(hwg_vein_parse_info(p, 1, &o, &err), HWG_E_TERMINAL_ERROR);
}

static void
test_capture_req(void)
{
	struct hwg_vein_msg_capture_req m, o;
	uint8_t p[64];
	size_t n = 0;
	struct hwg_error err = {0};

	for (int i = 0; i < HWG_VEIN_NONCE_LEN; i++)
		m.nonce[i] = (uint8_t)(0x40 + i);
	m.timeout_ms = 15000;
	CHECK_EQ_INT(hwg_vein_enc_capture_req(&m, p, sizeof(p), &n, &err), 0);
	CHECK(n == 34 && p[32] == 0x3A && p[33] == 0x98);
	CHECK_EQ_INT(hwg_vein_parse_capture_req(p, n, &o, &err), 0);
	CHECK(memcmp(o.nonce, m.nonce, 32) == 0 && o.timeout_ms == 15000);
	CHECK_EQ_INT(hwg_vein_parse_capture_req(p, 33, &o, &err), HWG_E_TERMINAL_ERROR);
	CHECK_EQ_INT(hwg_vein_parse_capture_req(p, 35, &o, &err), HWG_E_TERMINAL_ERROR);
	CHECK_EQ_INT(hwg_vein_enc_capture_req(&m, p, 33, &n, &err), HWG_E_TOO_LARGE);
	/* the timeout's range, at both edges */
	static const struct {
		uint16_t ms;
		int ok;
	} t[] = {{0, 0}, {99, 0}, {100, 1}, {60000, 1}, {60001, 0}, {65535, 0}};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		m.timeout_ms = t[i].ms;
		CHECK_EQ_INT(hwg_vein_enc_capture_req(&m, p, sizeof(p), &n, &err),
		             t[i].ok ? 0 : HWG_E_INVALID);
		p[32] = (uint8_t)(t[i].ms >> 8);
		p[33] = (uint8_t)t[i].ms;
		CHECK_EQ_INT(hwg_vein_parse_capture_req(p, 34, &o, &err),
		             t[i].ok ? 0 : HWG_E_TERMINAL_ERROR);
	}
	CHECK(strstr(err.message, "timeout 65535") != NULL);
}

static void
test_capture(void)
{
	struct hwg_vein_msg_capture m, o;
	uint8_t p[HWG_VEIN_PAYLOAD_MAX];
	size_t n = 0;
	struct hwg_error err = {0};

	fill_capture(&m);
	CHECK_EQ_INT(hwg_vein_enc_capture(&m, p, sizeof(p), &n, &err), 0);
	CHECK_EQ_INT(n, 326);
	CHECK(p[0] == 0 && p[1] == 87 && p[2] == 95 && p[3] == 0x01 && p[4] == 0x00);
	CHECK(p[5] == 0x80 && p[5 + 255] == 0x7F && p[261] == 1 && p[262] == 0xC0);
	CHECK_EQ_INT(hwg_vein_parse_capture(p, n, &o, &err), 0);
	CHECK(o.status == 0 && o.quality == 87 && o.liveness == 95 && o.sig_alg == 1);
	CHECK(memcmp(o.tmpl, m.tmpl, sizeof(m.tmpl)) == 0 && memcmp(o.sig, m.sig, 64) == 0);
	CHECK_EQ_INT(hwg_vein_enc_capture(&m, p, 325, &n, &err), HWG_E_TOO_LARGE);
	for (uint8_t s = 1; s <= HWG_VEIN_ST_MAX_; s++) {
		m.status = s;
		CHECK_EQ_INT(hwg_vein_enc_capture(&m, p, sizeof(p), &n, &err), 0);
		CHECK_EQ_INT(n, 1);
		CHECK_EQ_INT(hwg_vein_parse_capture(p, n, &o, &err), 0);
		CHECK_EQ_INT(o.status, s);
	}
	fill_capture(&m);
	m.quality = 101;
	CHECK_EQ_INT(hwg_vein_enc_capture(&m, p, sizeof(p), &n, &err), HWG_E_INVALID);
}

static void
test_capture_refusals(void)
{
	struct hwg_vein_msg_capture m, o;
	uint8_t p[HWG_VEIN_PAYLOAD_MAX], q[HWG_VEIN_PAYLOAD_MAX];
	size_t n = 0;
	struct hwg_error err = {0};

	fill_capture(&m);
	hwg_vein_enc_capture(&m, p, sizeof(p), &n, &err);
	memcpy(q, p, n);
	for (size_t cut = 0; cut < n; cut++)
		CHECK_EQ_INT(hwg_vein_parse_capture(p, cut, &o, &err), HWG_E_TERMINAL_ERROR);
	q[n] = 0;
	CHECK_EQ_INT(hwg_vein_parse_capture(q, n + 1, &o, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "trailing") != NULL);
	/* template lengths other than 256, with the bytes to match */
	q[3] = 0x00;
	q[4] = 0xFF;
	CHECK_EQ_INT(hwg_vein_parse_capture(q, n - 1, &o, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "template of 255 bytes") != NULL);
	q[3] = 0x01;
	q[4] = 0x01;
	CHECK_EQ_INT(hwg_vein_parse_capture(q, n + 1, &o, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "257") != NULL);
	memcpy(q, p, n);
	q[1] = 101;
	CHECK_EQ_INT(hwg_vein_parse_capture(q, n, &o, &err), HWG_E_TERMINAL_ERROR);
	q[1] = 87;
	q[2] = 255;
	CHECK_EQ_INT(hwg_vein_parse_capture(q, n, &o, &err), HWG_E_TERMINAL_ERROR);
	q[2] = 95;
	q[261] = 2;
	CHECK_EQ_INT(hwg_vein_parse_capture(q, n, &o, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "signature algorithm 2") != NULL);
	q[261] = 1;
	q[0] = HWG_VEIN_ST_TIMEOUT; /* not OK, yet the fields follow */
	CHECK_EQ_INT(hwg_vein_parse_capture(q, n, &o, &err), HWG_E_TERMINAL_ERROR);
	q[0] = 11;
	CHECK_EQ_INT(hwg_vein_parse_capture(q, 1, &o, &err), HWG_E_TERMINAL_ERROR);
	q[0] = 0;
	CHECK_EQ_INT(hwg_vein_parse_capture(q, n, &o, &err), 0);
}

static void
test_status_msg(void)
{
	struct hwg_vein_msg_status m = {0, HWG_VEIN_STATE_CAPTURING, 1}, o;
	uint8_t p[8];
	size_t n = 0;
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_vein_enc_status(&m, p, sizeof(p), &n, &err), 0);
	CHECK(n == 3 && p[0] == 0 && p[1] == 1 && p[2] == 1);
	CHECK_EQ_INT(hwg_vein_parse_status(p, n, &o, &err), 0);
	CHECK(o.status == 0 && o.state == 1 && o.palm_present == 1);
	CHECK_EQ_INT(hwg_vein_parse_status(p, 2, &o, &err), HWG_E_TERMINAL_ERROR);
	CHECK_EQ_INT(hwg_vein_parse_status(p, 4, &o, &err), HWG_E_TERMINAL_ERROR);
	p[1] = 3;
	CHECK_EQ_INT(hwg_vein_parse_status(p, 3, &o, &err), HWG_E_TERMINAL_ERROR);
	p[1] = 2;
	p[2] = 2;
	CHECK_EQ_INT(hwg_vein_parse_status(p, 3, &o, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "palm_present 2") != NULL);
	p[2] = 0;
	CHECK_EQ_INT(hwg_vein_parse_status(p, 3, &o, &err), 0);
	CHECK_EQ_INT(o.state, HWG_VEIN_STATE_FAULT);
	m.state = 3;
	CHECK_EQ_INT(hwg_vein_enc_status(&m, p, sizeof(p), &n, &err), HWG_E_INVALID);
	m.state = 0;
	CHECK_EQ_INT(hwg_vein_enc_status(&m, p, 2, &n, &err), HWG_E_TOO_LARGE);
	m.status = HWG_VEIN_ST_BAD_REQUEST;
	CHECK_EQ_INT(hwg_vein_enc_status(&m, p, sizeof(p), &n, &err), 0);
	CHECK_EQ_INT(n, 1);
}

static void
test_pair_msgs(void)
{
	struct hwg_vein_msg_pair m = {0}, o;
	uint8_t nonce[32], got[32], p[HWG_VEIN_PAYLOAD_MAX];
	size_t n = 0;
	struct hwg_error err = {0};

	memset(nonce, 0x5A, sizeof(nonce));
	CHECK_EQ_INT(hwg_vein_enc_pair_req(nonce, p, sizeof(p), &n, &err), 0);
	CHECK_EQ_INT(n, 32);
	CHECK_EQ_INT(hwg_vein_parse_pair_req(p, n, got, &err), 0);
	CHECK(memcmp(got, nonce, 32) == 0);
	CHECK_EQ_INT(hwg_vein_parse_pair_req(p, 31, got, &err), HWG_E_TERMINAL_ERROR);
	CHECK_EQ_INT(hwg_vein_parse_pair_req(p, 33, got, &err), HWG_E_TERMINAL_ERROR);
	CHECK_EQ_INT(hwg_vein_enc_pair_req(nonce, p, 31, &n, &err), HWG_E_TOO_LARGE);

	m.key_alg = HWG_VEIN_ALG_ED25519;
	memcpy(m.pubkey, rfc_pub, 32);
	memset(m.sig, 0x33, sizeof(m.sig));
	CHECK_EQ_INT(hwg_vein_enc_pair(&m, p, sizeof(p), &n, &err), 0);
	CHECK(n == 98 && p[0] == 0 && p[1] == 1 && p[2] == 0xd7 && p[34] == 0x33);
	CHECK_EQ_INT(hwg_vein_parse_pair(p, n, &o, &err), 0);
	CHECK(o.key_alg == 1 && memcmp(o.pubkey, rfc_pub, 32) == 0 && o.sig[63] == 0x33);
	for (size_t cut = 0; cut < n; cut++)
		CHECK_EQ_INT(hwg_vein_parse_pair(p, cut, &o, &err), HWG_E_TERMINAL_ERROR);
	p[n] = 0;
	CHECK_EQ_INT(hwg_vein_parse_pair(p, n + 1, &o, &err), HWG_E_TERMINAL_ERROR);
	p[1] = 2;
	CHECK_EQ_INT(hwg_vein_parse_pair(p, n, &o, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "key algorithm 2") != NULL);
	m.status = HWG_VEIN_ST_BUSY;
	CHECK_EQ_INT(hwg_vein_enc_pair(&m, p, sizeof(p), &n, &err), 0);
	CHECK_EQ_INT(hwg_vein_parse_pair(p, n, &o, &err), 0);
	CHECK(n == 1 && o.status == HWG_VEIN_ST_BUSY);
}

/* ---------------------------------------------------------------- signatures */

static void
test_signed_vectors(void)
{
	struct hwg_vein_msg_capture m;
	uint8_t nonce[32], cap[HWG_VEIN_CAPTURE_SIGNED_LEN], pair[HWG_VEIN_PAIR_SIGNED_LEN];
	char h[65], fp[HWG_VEIN_FINGERPRINT_LEN + 1];

	CHECK_EQ_INT(sizeof(cap), 306);
	CHECK_EQ_INT(sizeof(pair), 80);
	fill_capture(&m);
	for (int i = 0; i < 32; i++)
		nonce[i] = (uint8_t)i;
	hwg_vein_capture_signed(nonce, m.tmpl, m.quality, m.liveness, cap);
	CHECK(memcmp(cap, "hwgw-pv1-capture", 16) == 0 && cap[16] == 0 && cap[47] == 31);
	CHECK(cap[48] == 0x80 && cap[303] == 0x7F && cap[304] == 87 && cap[305] == 95);
	sha256_hex(cap, sizeof(cap), h);
	CHECK_EQ_STR(h, "1770a3682925674e49d1a1191f3e44a3f9cbee9351552a39fd74d4d0f0758f2e");
	for (int i = 0; i < 32; i++)
		nonce[i] = (uint8_t)(0xA0 + i);
	hwg_vein_pair_signed(nonce, rfc_pub, pair);
	CHECK(memcmp(pair, "hwgw-pv1-pair\0\0\0", 16) == 0 && pair[16] == 0xA0);
	CHECK(pair[48] == 0xd7 && pair[79] == 0x1a);
	sha256_hex(pair, sizeof(pair), h);
	CHECK_EQ_STR(h, "5e7215f106dcf4c839f6d3792b884de419155bb035b30fabca9d2cfee448d53f");
	hwg_vein_fingerprint(rfc_pub, fp);
	CHECK_EQ_STR(fp, "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9");
}

static void
test_verify_capture(void)
{
	struct hwg_vein_msg_capture m, t;
	uint8_t nonce[32], other[32], msg[HWG_VEIN_CAPTURE_SIGNED_LEN], seed2[32];
	struct hwg_error err = {0};

	fill_capture(&m);
	memset(nonce, 0x11, sizeof(nonce));
	memset(other, 0x12, sizeof(other));
	hwg_vein_capture_signed(nonce, m.tmpl, m.quality, m.liveness, msg);
	CHECK(sign(rfc_seed, msg, sizeof(msg), m.sig));
	CHECK_EQ_INT(hwg_vein_verify_capture(rfc_pub, nonce, &m, &err), 0);
	/* a replayed capture: the signature is over another nonce */
	CHECK_EQ_INT(hwg_vein_verify_capture(rfc_pub, other, &m, &err), HWG_E_DEVICE_SIGNATURE);
	/* a template changed on the bus */
	t = m;
	t.tmpl[100] ^= 1;
	CHECK_EQ_INT(hwg_vein_verify_capture(rfc_pub, nonce, &t, &err), HWG_E_DEVICE_SIGNATURE);
	t = m;
	t.liveness = 96;
	CHECK_EQ_INT(hwg_vein_verify_capture(rfc_pub, nonce, &t, &err), HWG_E_DEVICE_SIGNATURE);
	t = m;
	t.quality = 88;
	CHECK_EQ_INT(hwg_vein_verify_capture(rfc_pub, nonce, &t, &err), HWG_E_DEVICE_SIGNATURE);
	t = m;
	t.sig_alg = 2;
	CHECK_EQ_INT(hwg_vein_verify_capture(rfc_pub, nonce, &t, &err), HWG_E_DEVICE_SIGNATURE);
	t = m;
	t.status = HWG_VEIN_ST_TIMEOUT;
	CHECK_EQ_INT(hwg_vein_verify_capture(rfc_pub, nonce, &t, &err), HWG_E_DEVICE_SIGNATURE);
	/* a spoofed device: signed by a key that was not paired */
	memset(seed2, 0x77, sizeof(seed2));
	t = m;
	CHECK(sign(seed2, msg, sizeof(msg), t.sig));
	CHECK_EQ_INT(hwg_vein_verify_capture(rfc_pub, nonce, &t, &err), HWG_E_DEVICE_SIGNATURE);
	CHECK_EQ_STR(err.message, "capture not signed by the paired device key for this nonce");
	/* the pairing proof's bytes are not a capture's */
	hwg_vein_pair_signed(nonce, rfc_pub, msg);
	t = m;
	CHECK(sign(rfc_seed, msg, HWG_VEIN_PAIR_SIGNED_LEN, t.sig));
	CHECK_EQ_INT(hwg_vein_verify_capture(rfc_pub, nonce, &t, &err), HWG_E_DEVICE_SIGNATURE);
}

static void
test_verify_pair(void)
{
	struct hwg_vein_msg_pair m = {0}, t;
	uint8_t nonce[32], msg[HWG_VEIN_PAIR_SIGNED_LEN];
	struct hwg_error err = {0};

	memset(nonce, 0x21, sizeof(nonce));
	m.key_alg = HWG_VEIN_ALG_ED25519;
	memcpy(m.pubkey, rfc_pub, 32);
	hwg_vein_pair_signed(nonce, m.pubkey, msg);
	CHECK(sign(rfc_seed, msg, sizeof(msg), m.sig));
	CHECK_EQ_INT(hwg_vein_verify_pair(nonce, &m, &err), 0);
	nonce[0] ^= 1;
	CHECK_EQ_INT(hwg_vein_verify_pair(nonce, &m, &err), HWG_E_DEVICE_SIGNATURE);
	nonce[0] ^= 1;
	t = m;
	t.pubkey[5] ^= 1; /* a key offered without its private half */
	CHECK_EQ_INT(hwg_vein_verify_pair(nonce, &t, &err), HWG_E_DEVICE_SIGNATURE);
	t = m;
	t.key_alg = 3;
	CHECK_EQ_INT(hwg_vein_verify_pair(nonce, &t, &err), HWG_E_DEVICE_SIGNATURE);
	t = m;
	memset(t.pubkey, 0xFF, 32); /* not a curve point */
	CHECK_EQ_INT(hwg_vein_verify_pair(nonce, &t, &err), HWG_E_DEVICE_SIGNATURE);
}

int
main(void)
{
	HWG_RUN(test_frame_vector);
	HWG_RUN(test_frame_round_trip);
	HWG_RUN(test_frame_encode_refusals);
	HWG_RUN(test_frame_short_and_magic);
	HWG_RUN(test_frame_bad_crc);
	HWG_RUN(test_frame_lengths);
	HWG_RUN(test_frame_versions);
	HWG_RUN(test_frame_types);
	HWG_RUN(test_frame_expect);
	HWG_RUN(test_statuses);
	HWG_RUN(test_empty_and_status_only);
	HWG_RUN(test_info);
	HWG_RUN(test_info_refusals);
	HWG_RUN(test_capture_req);
	HWG_RUN(test_capture);
	HWG_RUN(test_capture_refusals);
	HWG_RUN(test_status_msg);
	HWG_RUN(test_pair_msgs);
	HWG_RUN(test_signed_vectors);
	HWG_RUN(test_verify_capture);
	HWG_RUN(test_verify_pair);
	return HWG_TEST_END();
}
