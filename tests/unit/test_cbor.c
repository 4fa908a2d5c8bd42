/*
 * test_cbor.c — the bounded CBOR load refuses lying lengths and deep
 * nesting before libcbor allocates anything (the fuzzer found a 5-byte
 * map claiming 327 million entries), refuses text strings that are not
 * UTF-8, and accepts well-formed items.  test_text_* check the UTF-8
 * rules and the escaping of hwg_text.c that answers and logs rely on;
 * test_det_* the deterministic encoding (hwg_cbor_det.c) that signed
 * documents and summaries are hashed in.
 */
#include <stdlib.h>

#include "hwg_cbor.h"
#include "hwg_cbor_det.h"
#include "hwg_err.h"
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
test_utf8_next(void)
{
	uint32_t cp = 0;

	CHECK_EQ_INT(hwg_utf8_next((const uint8_t *)"a", 1, &cp), 1);
	CHECK_EQ_INT(cp, 'a');
	CHECK_EQ_INT(hwg_utf8_next((const uint8_t *)"\xc3\xa9", 2, &cp), 2);
	CHECK_EQ_INT(cp, 0xe9);
	CHECK_EQ_INT(hwg_utf8_next((const uint8_t *)"\xe3\x82\xa2x", 4, &cp), 3); /* ア */
	CHECK_EQ_INT(cp, 0x30a2);
	CHECK_EQ_INT(hwg_utf8_next((const uint8_t *)"\xee\x80\x80", 3, &cp), 3); /* U+E000 */
	CHECK_EQ_INT(cp, 0xe000);
	CHECK_EQ_INT(hwg_utf8_next((const uint8_t *)"\xf0\xa0\xae\xb7", 4, &cp), 4); /* 𠮷 */
	CHECK_EQ_INT(cp, 0x20bb7);
	cp = 7;
	CHECK_EQ_INT(hwg_utf8_next((const uint8_t *)"\xe3\x82", 2, &cp), 0);
	CHECK_EQ_INT(hwg_utf8_next((const uint8_t *)"\x80", 1, &cp), 0);
	CHECK_EQ_INT(hwg_utf8_next((const uint8_t *)"a", 0, &cp), 0);
	CHECK_EQ_INT(cp, 7);
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

/* The deterministic encoding of the item that bytes decode to. */
static int
det_of(const char *bytes, size_t len, const char *want, size_t want_len)
{
	cbor_item_t *it = hwg_cbor_load((const uint8_t *)bytes, len, NULL);
	uint8_t *out = NULL;
	size_t n = 0;
	int ok;

	if (it == NULL)
		return 0;
	ok = hwg_cbor_det_encode(it, 1024, &out, &n) == 0 && n == want_len &&
	     memcmp(out, want, n) == 0 && hwg_cbor_det_is(it, (const uint8_t *)want, want_len);
	free(out);
	cbor_decref(&it);
	return ok;
}

static int
det_code(const char *bytes, size_t len, size_t max)
{
	cbor_item_t *it = hwg_cbor_load((const uint8_t *)bytes, len, NULL);
	uint8_t *out = NULL;
	size_t n = 0;
	int rc;

	if (it == NULL)
		return 1;
	rc = hwg_cbor_det_encode(it, max, &out, &n);
	free(out);
	cbor_decref(&it);
	return rc;
}

/* DET(in, out): the item in decodes to is encoded deterministically as out. */
#define DET(in, out) det_of(in, sizeof(in) - 1, out, sizeof(out) - 1)

static void
test_det_shortest_heads(void)
{
	CHECK(DET("\x18\x17", "\x17"));         /* 23 in one byte */
	CHECK(DET("\x19\x00\x18", "\x18\x18")); /* 24 in two */
	CHECK(DET("\x1b\x00\x00\x00\x00\x00\x01\x00\x00", "\x1a\x00\x01\x00\x00")); /* 65536 */
	CHECK(DET("\x38\x00", "\x20"));                                             /* -1 */
	CHECK(DET("\x79\x00\x01\x61", "\x61\x61")); /* "a", long head */
	CHECK(DET("\x58\x01\xff", "\x41\xff"));     /* h'ff', long head */
	CHECK(DET("\x98\x01\xf5", "\x81\xf5"));     /* [true] */
	CHECK(DET("\x82\xf4\xf6", "\x82\xf4\xf6")); /* [false, null] */
}

static void
test_det_map_keys_sorted(void)
{
	/* {"bb": 1, "a": 2, "c": 3}: shorter keys first, then bytewise */
	CHECK(DET("\xa3\x62\x62\x62\x01\x61\x61\x02\x61\x63\x03",
	          "\xa3\x61\x61\x02\x61\x63\x03\x62\x62\x62\x01"));
	/* {"": 0, -1: 0, 10: 0}: 0x0a < 0x20 < 0x60 */
	CHECK(DET("\xa3\x60\x00\x20\x00\x0a\x00", "\xa3\x0a\x00\x20\x00\x60\x00"));
	/* [{"z": 0, "y": 0}]: nested maps are sorted too */
	CHECK(DET("\x81\xa2\x61\x7a\x00\x61\x79\x00", "\x81\xa2\x61\x79\x00\x61\x7a\x00"));
	/* {"a": 0, "a": 1}, the second "a" with a long head: a key twice */
	CHECK_EQ_INT(det_code("\xa2\x61\x61\x00\x79\x00\x01\x61\x01", 9, 64), HWG_E_INVALID);
}

static void
test_det_refusals(void)
{
	static const char big[] = "\x43\x61\x62\x63"; /* h'616263' */

	CHECK_EQ_INT(det_code("\x5f\x41\x61\xff", 4, 64), HWG_E_INVALID); /* indefinite bytes */
	CHECK_EQ_INT(det_code("\x9f\x01\xff", 3, 64), HWG_E_INVALID);     /* indefinite array */
	CHECK_EQ_INT(det_code("\xbf\x01\x01\xff", 4, 64), HWG_E_INVALID); /* indefinite map */
	CHECK_EQ_INT(det_code("\xf9\x3c\x00", 3, 64), HWG_E_INVALID);     /* 1.0 */
	CHECK_EQ_INT(det_code("\xc1\x01", 2, 64), HWG_E_INVALID);         /* a tag */
	CHECK_EQ_INT(det_code("\xf7", 1, 64), HWG_E_INVALID);             /* undefined */
	CHECK_EQ_INT(det_code(big, 4, 3), HWG_E_TOO_LARGE);
	CHECK_EQ_INT(det_code(big, 4, 4), 0);
	CHECK(!hwg_cbor_det_is(NULL, (const uint8_t *)"", 0));
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
	HWG_RUN(test_utf8_next);
	HWG_RUN(test_text_escape);
	HWG_RUN(test_texts_made_utf8);
	HWG_RUN(test_det_shortest_heads);
	HWG_RUN(test_det_map_keys_sorted);
	HWG_RUN(test_det_refusals);
	return HWG_TEST_END();
}
