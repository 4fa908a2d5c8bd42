/*
 * test_cbor.c — the bounded CBOR load refuses lying lengths and deep
 * nesting before libcbor allocates anything (the fuzzer found a 5-byte
 * map claiming 327 million entries), and accepts well-formed items.
 */
#include "hwg_cbor.h"
#include "hwg_test.h"

static int
loads(const char *bytes, size_t len)
{
	cbor_item_t *it = hwg_cbor_load((const uint8_t *)bytes, len, NULL);

	if (it == NULL)
		return 0;
	cbor_decref(&it);
	return 1;
}

static void
test_lying_lengths_refused(void)
{
	CHECK(!loads("\xba\x13\x8a\x00\x7a", 5)); /* map of 327M pairs (fuzzer find) */
	CHECK(!loads("\x9b\x00\x00\x00\x01\x00\x00\x00\x00", 9)); /* array of 2^32 */
	CHECK(!loads("\x5a\x00\x10\x00\x00"
	             "abc",
	             8));                         /* 1 MiB bstr, 3 bytes present */
	CHECK(!loads("\x7a\xff\xff\xff\xff", 5)); /* 4 GiB text */
	CHECK(!loads("\xa2\x01\x02", 3));         /* 2 pairs, 1 present */
}

static void
test_nesting_limited(void)
{
	char deep[64];

	memset(deep, 0x81, sizeof(deep)); /* [[[[...]]]] */
	deep[sizeof(deep) - 1] = 0x00;
	CHECK(!loads(deep, sizeof(deep)));
	memset(deep, 0x81, 10);
	deep[10] = 0x00;
	CHECK(loads(deep, 11));
}

static void
test_trailing_and_reserved_refused(void)
{
	CHECK(!loads("\x01\x02", 2));         /* two items */
	CHECK(!loads("\x1c", 1));             /* reserved additional info */
	CHECK(!loads("\x5f\x61\x61\xff", 4)); /* text chunk in a byte-string stream */
	CHECK(!loads("", 0));
}

static void
test_well_formed_accepted(void)
{
	CHECK(loads("\xa1\x61v\x01", 4));                        /* {"v": 1} */
	CHECK(loads("\x9f\x01\x02\xff", 4));                     /* [_ 1, 2] */
	CHECK(loads("\x5f\x41\x01\x42\x02\x03\xff", 7));         /* (_ h'01', h'0203') */
	CHECK(loads("\xd8\x12\x80", 3));                         /* 18([]) in the two-byte form */
	CHECK(loads("\xfb\x3f\xf0\x00\x00\x00\x00\x00\x00", 9)); /* 1.0 */
}

int
main(void)
{
	HWG_RUN(test_lying_lengths_refused);
	HWG_RUN(test_nesting_limited);
	HWG_RUN(test_trailing_and_reserved_refused);
	HWG_RUN(test_well_formed_accepted);
	return HWG_TEST_END();
}
