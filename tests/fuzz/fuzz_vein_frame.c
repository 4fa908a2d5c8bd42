/*
 * fuzz_vein_frame.c — libFuzzer target for what a palm-vein terminal
 * sends over USB (hostile device bytes, drivers/vein/hwg_vein_proto):
 * the input is one bulk IN transfer, decoded as a frame to the host and
 * its payload handed to every response parser, then to the signature
 * check with a fixed key.  The same bytes are also decoded as a frame
 * to a terminal and given to the command parsers, which the simulated
 * terminal runs on the host's bytes.  Nothing may crash, and what is
 * accepted must keep the codec's promises: a payload inside the input
 * and exactly filling it, fields in their ranges, strings printable
 * and terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_vein_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[HWG_VEIN_PUBKEY_LEN] = {
    0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
    0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};

static void
check_str(const char *s)
{
	size_t n = strnlen(s, HWG_VEIN_STR_MAX + 1);

	if (n == 0 || n > HWG_VEIN_STR_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7E)
			abort();
}

static void
check_frame(const uint8_t *data, size_t size, const struct hwg_vein_frame *f)
{
	if (f->payload_len > HWG_VEIN_PAYLOAD_MAX || f->payload_len + HWG_VEIN_FRAME_MIN != size ||
	    f->payload != data + HWG_VEIN_HEADER_LEN)
		abort();
}

static void
responses(const uint8_t *p, size_t n)
{
	struct hwg_vein_msg_info info;
	struct hwg_vein_msg_capture cap;
	struct hwg_vein_msg_status st;
	struct hwg_vein_msg_pair pair;
	uint8_t nonce[HWG_VEIN_NONCE_LEN] = {0}, s;
	struct hwg_error err = {0};

	if (hwg_vein_parse_info(p, n, &info, &err) == 0 && info.status == HWG_VEIN_ST_OK) {
		check_str(info.model);
		check_str(info.serial);
		check_str(info.firmware);
		check_str(info.template_format);
	}
	if (hwg_vein_parse_capture(p, n, &cap, &err) == 0) {
		if (cap.status == HWG_VEIN_ST_OK && (cap.quality > 100 || cap.liveness > 100 ||
		                                     cap.sig_alg != HWG_VEIN_ALG_ED25519))
			abort();
		if (cap.status != HWG_VEIN_ST_OK && n != 1)
			abort();
		(void)hwg_vein_verify_capture(key, nonce, &cap, &err);
	}
	if (hwg_vein_parse_status(p, n, &st, &err) == 0 && st.status == HWG_VEIN_ST_OK &&
	    (st.state > HWG_VEIN_STATE_FAULT || st.palm_present > 1))
		abort();
	if (hwg_vein_parse_pair(p, n, &pair, &err) == 0 && pair.status == HWG_VEIN_ST_OK)
		(void)hwg_vein_verify_pair(nonce, &pair, &err);
	if (hwg_vein_parse_cancel_resp(p, n, &s, &err) == 0 && s > HWG_VEIN_ST_MAX_)
		abort();
	if (hwg_vein_parse_error(p, n, &s, &err) == 0 && s == HWG_VEIN_ST_OK)
		abort();
}

static void
commands(const uint8_t *p, size_t n)
{
	struct hwg_vein_msg_capture_req req;
	uint8_t nonce[HWG_VEIN_NONCE_LEN];
	struct hwg_error err = {0};

	if (hwg_vein_parse_capture_req(p, n, &req, &err) == 0 &&
	    (req.timeout_ms < HWG_VEIN_TIMEOUT_MIN || req.timeout_ms > HWG_VEIN_TIMEOUT_MAX))
		abort();
	(void)hwg_vein_parse_pair_req(p, n, nonce, &err);
	(void)hwg_vein_parse_empty(p, n, &err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hwg_vein_frame f;
	struct hwg_error err = {0};

	if (hwg_vein_frame_decode(data, size, HWG_VEIN_TO_HOST, &f, &err) == 0) {
		check_frame(data, size, &f);
		(void)hwg_vein_frame_expect(&f, f.type & 0x7F, f.seq, &err);
		responses(f.payload, f.payload_len);
	} else if (f.refusal != HWG_VEIN_ST_BAD_REQUEST && f.refusal != HWG_VEIN_ST_BAD_CRC &&
	           f.refusal != HWG_VEIN_ST_VERSION && f.refusal != HWG_VEIN_ST_UNKNOWN_TYPE) {
		abort();
	}
	if (hwg_vein_frame_decode(data, size, HWG_VEIN_TO_TERMINAL, &f, &err) == 0) {
		check_frame(data, size, &f);
		commands(f.payload, f.payload_len);
	}
	/* the payload parsers also meet bytes no frame checked */
	if (size <= HWG_VEIN_PAYLOAD_MAX) {
		responses(data, size);
		commands(data, size);
	}
	return 0;
}
