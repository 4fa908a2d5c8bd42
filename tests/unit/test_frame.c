/*
 * test_frame.c — the Unix socket's framing apart from the socket
 * (gateway/net/hwg_frame.c): a frame given whole or a byte at a time comes
 * out the same, a pipelined second frame is left untouched, an empty
 * frame is complete with its header, a body of exactly the limit is
 * taken and one byte more refused before any body byte is, and a frame
 * that ended takes nothing until it is reset.
 */
#include <stdlib.h>
#include <string.h>

#include "hwg_frame.h"
#include "hwg_test.h"

/* A frame of len bytes of ch, header included, into out; its size. */
static size_t
frame(uint8_t *out, size_t len, uint8_t ch)
{
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	memset(out + 4, ch, len);
	return len + 4;
}

static int
body_is(const struct hwg_frame_in *f, size_t len, uint8_t ch)
{
	const uint8_t *p = hwg_buf_ptr(f->body);

	if (f->len != len || hwg_buf_len(f->body) != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (p[i] != ch)
			return 0;
	return 1;
}

static void
test_whole_and_bytewise(void)
{
	uint8_t buf[64];
	size_t n = frame(buf, 20, 'a'), used = 0;
	struct hwg_frame_in f;
	struct hwg_error err = {0};
	int rc = 0;

	hwg_frame_in_init(&f, 1024);
	CHECK_EQ_INT(hwg_frame_in_want(&f), 4);
	CHECK_EQ_INT(hwg_frame_in_feed(&f, buf, n, &used, &err), 1);
	CHECK_EQ_INT(used, n);
	CHECK(body_is(&f, 20, 'a'));
	CHECK_EQ_INT(hwg_frame_in_want(&f), 0);
	hwg_frame_in_reset(&f);
	CHECK(f.body == NULL && f.header_got == 0 && f.max == 1024);
	/* a byte at a time: the header's rest, then the body's */
	for (size_t i = 0; i < n; i++) {
		CHECK_EQ_INT(hwg_frame_in_want(&f), i < 4 ? 4 - i : n - i);
		rc = hwg_frame_in_feed(&f, buf + i, 1, &used, &err);
		CHECK_EQ_INT(used, 1);
		CHECK_EQ_INT(rc, i + 1 == n ? 1 : 0);
	}
	CHECK(rc == 1 && body_is(&f, 20, 'a'));
	hwg_frame_in_reset(&f);
	/* nothing given, nothing taken */
	CHECK_EQ_INT(hwg_frame_in_feed(&f, buf, 0, &used, &err), 0);
	CHECK_EQ_INT(used, 0);
	hwg_frame_in_reset(&f);
}

static void
test_pipelined_and_empty(void)
{
	uint8_t buf[128];
	size_t n1 = frame(buf, 30, 'x'), n2 = frame(buf + n1, 0, 0), n3, used = 0;
	struct hwg_frame_in f;
	struct hwg_error err = {0};

	n3 = frame(buf + n1 + n2, 5, 'z');
	hwg_frame_in_init(&f, 64);
	CHECK_EQ_INT(hwg_frame_in_feed(&f, buf, n1 + n2 + n3, &used, &err), 1);
	CHECK_EQ_INT(used, n1); /* the next frames are not taken */
	CHECK(body_is(&f, 30, 'x'));
	hwg_frame_in_reset(&f);
	/* the empty frame is complete with its header, its body a valid pointer */
	CHECK_EQ_INT(hwg_frame_in_feed(&f, buf + n1, n2 + n3, &used, &err), 1);
	CHECK_EQ_INT(used, 4);
	CHECK(f.body != NULL && f.len == 0 && hwg_buf_ptr(f.body) != NULL);
	hwg_frame_in_reset(&f);
	CHECK_EQ_INT(hwg_frame_in_feed(&f, buf + n1 + n2, n3, &used, &err), 1);
	CHECK(body_is(&f, 5, 'z'));
	hwg_frame_in_reset(&f);
}

static void
test_limit(void)
{
	uint8_t *buf = malloc(1024 + 1 + 4);
	static const uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
	struct hwg_frame_in f;
	struct hwg_error err = {0};
	size_t n, used = 0;

	if (buf == NULL) {
		CHECK(buf != NULL);
		return;
	}
	hwg_frame_in_init(&f, 1024);
	n = frame(buf, 1024, 'm');
	CHECK_EQ_INT(hwg_frame_in_feed(&f, buf, n, &used, &err), 1);
	CHECK(body_is(&f, 1024, 'm'));
	hwg_frame_in_reset(&f);
	/* one more: refused with the header, no body byte taken */
	n = frame(buf, 1025, 'm');
	CHECK_EQ_INT(hwg_frame_in_feed(&f, buf, n, &used, &err), HWG_E_TOO_LARGE);
	CHECK_EQ_INT(used, 4);
	CHECK_EQ_STR(err.message, "frame of 1025 bytes over the limit of 1024");
	CHECK(f.body == NULL);
	/* ended: nothing more is taken until reset */
	CHECK_EQ_INT(hwg_frame_in_feed(&f, buf + 4, 10, &used, &err), HWG_E_INVALID);
	CHECK_EQ_INT(used, 0);
	hwg_frame_in_reset(&f);
	CHECK_EQ_INT(hwg_frame_in_feed(&f, huge, 4, &used, &err), HWG_E_TOO_LARGE);
	CHECK_EQ_STR(err.message, "frame of 4294967295 bytes over the limit of 1024");
	hwg_frame_in_reset(&f);
	/* a complete frame takes nothing either */
	n = frame(buf, 3, 'c');
	CHECK_EQ_INT(hwg_frame_in_feed(&f, buf, n, &used, &err), 1);
	CHECK_EQ_INT(hwg_frame_in_feed(&f, buf, n, &used, &err), HWG_E_INVALID);
	CHECK_EQ_INT(used, 0);
	CHECK(body_is(&f, 3, 'c'));
	hwg_frame_in_reset(&f);
	free(buf);
}

int
main(void)
{
	HWG_RUN(test_whole_and_bytewise);
	HWG_RUN(test_pipelined_and_empty);
	HWG_RUN(test_limit);
	return HWG_TEST_END();
}
