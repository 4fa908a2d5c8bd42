/*
 * test_buf.c — the bounded buffer refuses what it must and keeps outputs
 * untouched on failure.
 */
#include <stdint.h>

#include "hwg_buf.h"
#include "hwg_err.h"
#include "hwg_test.h"

static void
test_put_get_roundtrip(void)
{
	struct hwg_buf *b = hwg_buf_new(64);
	uint32_t v32 = 0;
	uint16_t v16 = 0;
	uint64_t v64 = 0;
	const uint8_t *p = NULL;
	size_t len = 0;

	REQUIRE(b != NULL);
	CHECK_EQ_INT(hwg_buf_put_u32be(b, 0x01020304), 0);
	CHECK_EQ_INT(hwg_buf_put_u16be(b, 0xa1b2), 0);
	CHECK_EQ_INT(hwg_buf_put_u64be(b, 0x1122334455667788ULL), 0);
	CHECK_EQ_INT(hwg_buf_put_string(b, "abc", 3), 0);
	CHECK_EQ_INT(hwg_buf_len(b), 4 + 2 + 8 + 4 + 3);
	CHECK_EQ_INT(hwg_buf_ptr(b)[0], 0x01);
	CHECK_EQ_INT(hwg_buf_get_u32be(b, &v32), 0);
	CHECK_EQ_INT(v32, 0x01020304);
	CHECK_EQ_INT(hwg_buf_get_u16be(b, &v16), 0);
	CHECK_EQ_INT(v16, 0xa1b2);
	CHECK_EQ_INT(hwg_buf_get_u64be(b, &v64), 0);
	CHECK(v64 == 0x1122334455667788ULL);
	CHECK_EQ_INT(hwg_buf_get_string_view(b, 16, &p, &len), 0);
	CHECK_EQ_INT(len, 3);
	CHECK(memcmp(p, "abc", 3) == 0);
	CHECK_EQ_INT(hwg_buf_len(b), 0);
	hwg_buf_free(b);
}

static void
test_max_enforced(void)
{
	struct hwg_buf *b = hwg_buf_new(8);
	uint8_t nine[9] = {0};

	REQUIRE(b != NULL);
	CHECK_EQ_INT(hwg_buf_put(b, nine, 8), 0);
	CHECK_EQ_INT(hwg_buf_put_u8(b, 1), HWG_E_TOO_LARGE);
	CHECK_EQ_INT(hwg_buf_len(b), 8);
	hwg_buf_reset(b);
	CHECK_EQ_INT(hwg_buf_put(b, nine, 9), HWG_E_TOO_LARGE);
	CHECK_EQ_INT(hwg_buf_len(b), 0);
	/* consumed bytes make room again */
	CHECK_EQ_INT(hwg_buf_put(b, nine, 8), 0);
	CHECK_EQ_INT(hwg_buf_skip(b, 4), 0);
	CHECK_EQ_INT(hwg_buf_put(b, nine, 4), 0);
	CHECK_EQ_INT(hwg_buf_len(b), 8);
	hwg_buf_free(b);
}

static void
test_short_reads_leave_output(void)
{
	const uint8_t data[3] = {1, 2, 3};
	struct hwg_buf *b = hwg_buf_from(data, sizeof(data));
	uint32_t v = 0xdeadbeef;
	const uint8_t *p = NULL;
	size_t len = 77;

	CHECK_EQ_INT(hwg_buf_get_u32be(b, &v), HWG_E_BAD_ENCODING);
	CHECK(v == 0xdeadbeef);
	CHECK_EQ_INT(hwg_buf_len(b), 3);
	CHECK_EQ_INT(hwg_buf_get_string_view(b, 100, &p, &len), HWG_E_BAD_ENCODING);
	CHECK(p == NULL && len == 77);
	CHECK_EQ_INT(hwg_buf_put_u8(b, 1), HWG_E_INVALID); /* read-only */
	hwg_buf_free(b);
}

static void
test_string_length_limits(void)
{
	/* claims 0xffffffff bytes but holds 2: refused, nothing consumed */
	const uint8_t lie[6] = {0xff, 0xff, 0xff, 0xff, 'h', 'i'};
	const uint8_t big[6] = {0, 0, 0, 2, 'h', 'i'};
	struct hwg_buf *b = hwg_buf_from(lie, sizeof(lie));
	const uint8_t *p;
	size_t len;

	CHECK_EQ_INT(hwg_buf_get_string_view(b, SIZE_MAX, &p, &len), HWG_E_BAD_ENCODING);
	CHECK_EQ_INT(hwg_buf_len(b), 6);
	hwg_buf_free(b);
	b = hwg_buf_from(big, sizeof(big));
	CHECK_EQ_INT(hwg_buf_get_string_view(b, 1, &p, &len), HWG_E_TOO_LARGE);
	CHECK_EQ_INT(hwg_buf_get_string_view(b, 2, &p, &len), 0);
	CHECK_EQ_INT(len, 2);
	hwg_buf_free(b);
}

static void
test_error_names_stable(void)
{
	CHECK_EQ_STR(hwg_err_code(HWG_E_BAD_SIGNATURE), "bad_signature");
	CHECK_EQ_STR(hwg_err_code(HWG_E_REPLAY), "replayed_nonce");
	CHECK_EQ_INT(hwg_err_from_code("wrong_audience"), HWG_E_WRONG_AUDIENCE);
	for (int c = 0; c > HWG_E_MIN_; c--) {
		const char *name = hwg_err_code(c);
		if (strcmp(name, "unknown") != 0)
			CHECK_EQ_INT(hwg_err_from_code(name), c);
	}
}

static void
test_empty_buffer_pointer(void)
{
	/* fuzz_http: an empty POST body reached hwg_buf_ptr before any byte was stored */
	struct hwg_buf *b = hwg_buf_new(16);

	REQUIRE(b != NULL);
	CHECK(hwg_buf_ptr(b) != NULL);
	CHECK_EQ_INT(hwg_buf_len(b), 0);
	hwg_buf_free(b);
}

int
main(void)
{
	HWG_RUN(test_put_get_roundtrip);
	HWG_RUN(test_max_enforced);
	HWG_RUN(test_short_reads_leave_output);
	HWG_RUN(test_string_length_limits);
	HWG_RUN(test_error_names_stable);
	HWG_RUN(test_empty_buffer_pointer);
	return HWG_TEST_END();
}
