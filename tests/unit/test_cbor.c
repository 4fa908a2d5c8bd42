/*
 * test_cbor.c — the bounded CBOR load refuses lying lengths and deep
 * nesting before libcbor allocates anything (the fuzzer found a 5-byte
 * map claiming 327 million entries), refuses text strings that are not
 * UTF-8, and accepts well-formed items.  test_text_* check the UTF-8
 * rules and the escaping of hwg_text.c that answers and logs rely on.
 */
#include <stdlib.h>

#include "hwg_cbor.h"
#include "hwg_test.h"
#include "hwg_text.h"

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
test_text_not_utf8_refused(void)
{
	const char *why = NULL;
	cbor_item_t *it;

	CHECK(!loads("\x61\xff", 2));                 /* "\xff" */
	CHECK(!loads("\xa1\x61v\x62\xc3\x28", 6));    /* {"v": bad 2-byte sequence} */
	CHECK(!loads("\x7f\x61\xc3\x61\xa9\xff", 6)); /* a character split over chunks */
	CHECK(!loads("\x63\xed\xa0\x80", 4));         /* a surrogate */
	CHECK(!loads("\x62\xc0\x80", 3));             /* overlong NUL */
	CHECK(loads("\x42\xff\xfe", 3));              /* byte strings may hold anything */
	CHECK(loads("\x63\xe2\x82\xac", 4));          /* "€" */
	it = hwg_cbor_load((const uint8_t *)"\x61\xff", 2, &why);
	CHECK(it == NULL && why != NULL && strstr(why, "UTF-8") != NULL);
}

static void
test_text_utf8_rules(void)
{
	CHECK(hwg_utf8_valid((const uint8_t *)"a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80", 10));
	CHECK(hwg_utf8_valid((const uint8_t *)"", 0));
	CHECK(!hwg_utf8_valid((const uint8_t *)"\x80", 1));             /* lone continuation */
	CHECK(!hwg_utf8_valid((const uint8_t *)"\xc3", 1));             /* cut short */
	CHECK(!hwg_utf8_valid((const uint8_t *)"\xe0\x80\x80", 3));     /* overlong */
	CHECK(!hwg_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
	CHECK(!hwg_utf8_valid((const uint8_t *)"\xf5\x80\x80\x80", 4));
	CHECK(!hwg_utf8_valid((const uint8_t *)"\xed\xbf\xbf", 3)); /* surrogate */
}

static void
test_text_escape(void)
{
	char out[32];

	CHECK_EQ_STR(hwg_text_escape(out, sizeof(out), "gw.\xffinfo", 0), "gw.\\xffinfo");
	CHECK_EQ_STR(hwg_text_escape(out, sizeof(out), "\xc3\xa9t\xc3", 0), "\xc3\xa9t\\xc3");
	CHECK_EQ_STR(hwg_text_escape(out, sizeof(out), "a\nb", 0), "a\nb");
	CHECK_EQ_STR(hwg_text_escape(out, sizeof(out), "a\nb", HWG_TEXT_CONTROLS), "a\\x0ab");
	CHECK_EQ_STR(hwg_text_escape(out, sizeof(out), "say \"x\\y\"", HWG_TEXT_QUOTES),
	             "say \\\"x\\\\y\\\"");
	/* cut on a character or escape, never inside one */
	CHECK_EQ_STR(hwg_text_escape(out, 4, "ab\xc3\xa9", 0), "ab");
	CHECK_EQ_STR(hwg_text_escape(out, 6, "ab\xff", 0), "ab");
	CHECK_EQ_STR(hwg_text_escape(out, 7, "ab\xff", 0), "ab\\xff");
	CHECK(hwg_utf8_valid((const uint8_t *)out, strlen(out)));
}

/* An answer's texts (a device's strings, an old record's) made UTF-8 in place. */
static void
test_texts_made_utf8(void)
{
	cbor_item_t *m = cbor_new_definite_map(3), *list = cbor_new_definite_array(2);
	unsigned char *out = NULL;
	size_t cap = 0, len;
	char model[16];

	hwg_cbor_map_put_item(m, "model", cbor_build_stringn("PV\xff-1", 5));
	cbor_array_push(list, cbor_move(cbor_build_stringn("ok", 2)));
	cbor_array_push(list, cbor_move(cbor_build_stringn("\xc3\x28", 2)));
	hwg_cbor_map_put_item(m, "list", list);
	cbor_map_add(m, (struct cbor_pair){.key = cbor_move(cbor_build_stringn("k\x80", 2)),
	                                   .value = cbor_move(cbor_build_uint8(1))});
	CHECK_EQ_INT(hwg_cbor_texts_to_utf8(m), 0);
	CHECK(hwg_cbor_text_copy(hwg_cbor_map_get(m, "model", NULL), model, sizeof(model)) == 0);
	CHECK_EQ_STR(model, "PV\\xff-1");
	CHECK(hwg_cbor_map_get(m, "k\\x80", NULL) != NULL);
	len = cbor_serialize_alloc(m, &out, &cap);
	CHECK(len > 0 && loads((const char *)out, len)); /* the bounded load checks UTF-8 */
	free(out);
	cbor_decref(&m);
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
	HWG_RUN(test_text_not_utf8_refused);
	HWG_RUN(test_text_utf8_rules);
	HWG_RUN(test_text_escape);
	HWG_RUN(test_texts_made_utf8);
	return HWG_TEST_END();
}
