/*
 * fuzz_unix_frame.c — libFuzzer target for the Unix socket's framing
 * (gateway/net/hwg_frame.c, what gateway/net/hwg_unix.c feeds every byte a local
 * client sends).  The input is three bytes of set-up, then the stream:
 *   byte 0      how the stream arrives: 1 + (byte % 16) bytes per read,
 *               or all of it at once when byte >= 0xF0
 *   bytes 1, 2  the limit on a body (big-endian), as [api] max_body
 *   the rest    the bytes of the connection
 * The stream is fed as a socket would deliver it, frame after frame.
 * Each frame handed out must be exactly the one the stream holds at that
 * point (its 4-byte big-endian length, then the body), within the limit,
 * and no byte may be taken past its end; a frame over the limit is
 * refused right after its header; a stream that ends mid-frame leaves it
 * incomplete.  Nothing may crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
claimed(const uint8_t *p)
{
	return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
}

/* A frame was handed out: is it the one at start of s[0..n)? */
static void
check_frame(const struct hwg_frame_in *f, const uint8_t *s, size_t n, size_t start, size_t off)
{
	size_t len;

	if (n - start < HWG_FRAME_HEADER_LEN)
		abort();
	len = claimed(s + start);
	if (f->len != len || len > f->max || f->body == NULL || hwg_buf_len(f->body) != len ||
	    off != start + HWG_FRAME_HEADER_LEN + len ||
	    memcmp(hwg_buf_ptr(f->body), s + start + HWG_FRAME_HEADER_LEN, len) != 0 ||
	    hwg_frame_in_want(f) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hwg_frame_in f;
	const uint8_t *s;
	size_t n, step, off = 0, start = 0;
	int rc = 0;

	if (size < 3)
		return 0;
	step = data[0] >= 0xF0 ? SIZE_MAX : 1 + (size_t)(data[0] % 16);
	hwg_frame_in_init(&f, (size_t)data[1] << 8 | data[2]);
	s = data + 3;
	n = size - 3;
	while (off < n) {
		struct hwg_error err = {0};
		size_t give = n - off < step ? n - off : step, used;

		rc = hwg_frame_in_feed(&f, s + off, give, &used, &err);
		if (used > give || (rc == 0 && hwg_frame_in_want(&f) == 0))
			abort();
		off += used;
		if (rc == 1) {
			check_frame(&f, s, n, start, off);
			hwg_frame_in_reset(&f);
			start = off;
		} else if (rc == HWG_E_TOO_LARGE) {
			if (off != start + HWG_FRAME_HEADER_LEN || claimed(s + start) <= f.max ||
			    err.message[0] == '\0')
				abort();
			break;
		} else if (rc != 0 || used != give) {
			abort(); /* while a frame needs more, all that is given is taken */
		}
	}
	/* the stream ended inside a frame: it really was incomplete */
	if (rc == 0 && off > start && n - start >= HWG_FRAME_HEADER_LEN &&
	    n - start >= HWG_FRAME_HEADER_LEN + claimed(s + start))
		abort();
	hwg_frame_in_reset(&f);
	return 0;
}
