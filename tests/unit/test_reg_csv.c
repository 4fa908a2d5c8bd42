/*
 * test_reg_csv.c — the strict CSV reader (registry/reg_csv.c): quoted
 * fields with commas, line breaks and doubled quotes; CRLF and LF; a last
 * record without a line end; the header required, its names non-empty and
 * distinct; each refusal with its line (a wrong field count, a bare CR, a
 * quote inside an unquoted field, text after a closing quote, a quote
 * never closed, a NUL); and the declared encoding: Shift_JIS (CP932)
 * converted, a byte that is no character refused with its line, invalid
 * UTF-8 refused, a BOM dropped, an unknown encoding refused.
 */
#include <stdlib.h>
#include <string.h>

#include "hwg_test.h"
#include "reg_csv.h"

/* Every record of text; the last refusal's code (0 when all read) and *rows the records read. */
static int
read_csv(const char *text, int *rows, struct hwg_error *err)
{
	struct reg_csv c;
	int rc;

	*rows = 0;
	if ((rc = reg_csv_open(&c, text, strlen(text), err)) == 0) {
		while ((rc = reg_csv_next(&c, err)) == 1)
			(*rows)++;
	}
	reg_csv_close(&c);
	return rc;
}

static void
test_fields(void)
{
	static const char text[] = "code,name,note\r\n"
	                           "1,\"大分, 太郎\",\"say \"\"hi\"\"\"\r\n"
	                           "2,\"two\r\nlines\",\n"
	                           "3,,last";
	struct reg_csv c;
	struct hwg_error err = {0};

	REQUIRE(reg_csv_open(&c, text, strlen(text), &err) == 0);
	CHECK_EQ_INT(c.ncols, 3);
	CHECK_EQ_INT(reg_csv_column(&c, "name"), 1);
	CHECK_EQ_INT(reg_csv_column(&c, "phone"), -1);
	REQUIRE(reg_csv_next(&c, &err) == 1);
	CHECK_EQ_STR(c.fields[1], "大分, 太郎");
	CHECK_EQ_STR(c.fields[2], "say \"hi\"");
	CHECK_EQ_INT(c.line, 2);
	REQUIRE(reg_csv_next(&c, &err) == 1);
	CHECK_EQ_STR(c.fields[1], "two\r\nlines");
	CHECK_EQ_STR(c.fields[2], "");
	CHECK_EQ_INT(c.line, 3);
	REQUIRE(reg_csv_next(&c, &err) == 1);
	CHECK_EQ_INT(c.line, 5); /* the quoted line break counted */
	CHECK_EQ_STR(c.fields[0], "3");
	CHECK_EQ_STR(c.fields[2], "last");
	CHECK_EQ_INT(reg_csv_next(&c, &err), 0);
	reg_csv_close(&c);
}

struct refusal {
	const char *text, *says;
};

static void
test_refusals(void)
{
	static const struct refusal cases[] = {
	    {"", "line 1: no header"},
	    {"a,,c\n", "column 2 has no name"},
	    {"a,b,a\n", "column 3's name is column 1's too"},
	    {"a,b\n1,2\n\"x\ny\",2,3\n", "line 3: 3 fields where the header names 2"},
	    {"a,b\n1,2\n3\n", "line 3: 1 fields"},
	    {"a,b\n1,2\n\n", "line 3: 1 fields"},
	    {"a,b\r1,2\n", "line 1: a CR not followed by LF"},
	    {"a,b\n1,x\"y\n", "line 2: a quote inside an unquoted field"},
	    {"a,b\n\"1\"x,2\n", "line 2: something between a closing quote"},
	    {"a,b\n1,\"2\n", "a quoted field not closed"},
	};
	struct hwg_error err = {0};
	int rows;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err.message[0] = '\0';
		CHECK_EQ_INT(read_csv(cases[i].text, &rows, &err), HWG_E_INVALID);
		if (strstr(err.message, cases[i].says) == NULL) {
			fprintf(stderr, "  case %zu: \"%s\" does not say \"%s\"\n", i, err.message,
			        cases[i].says);
			CHECK(0);
		}
	}
	{
		static const char nul[] = "a,b\n1\0,2\n";
		struct reg_csv c;
		REQUIRE(reg_csv_open(&c, nul, sizeof(nul) - 1, &err) == 0);
		CHECK_EQ_INT(reg_csv_next(&c, &err), HWG_E_INVALID);
		CHECK(strstr(err.message, "NUL") != NULL);
		reg_csv_close(&c);
	}
}

static void
test_limits(void)
{
	size_t n = REG_CSV_RECORD_MAX + 100;
	char *big = malloc(n + 16);
	struct hwg_error err = {0};
	int rows;

	REQUIRE(big != NULL);
	memcpy(big, "a\n", 2);
	memset(big + 2, 'x', n);
	big[n + 2] = '\0';
	CHECK_EQ_INT(read_csv(big, &rows, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "longer than the limit") != NULL);
	free(big);
}

static void
test_encodings(void)
{
	/* "名前\n大分\n" in CP932 */
	static const uint8_t sjis[] = {0x96, 0xbc, 0x91, 0x4f, '\n', 0x91, 0xe5, 0x95, 0xaa, '\n'};
	static const uint8_t bad_sjis[] = {'a', '\n', 'b', '\n', 0x82, 0xa0, 0xff, '\n'};
	static const uint8_t bad_utf8[] = {'a', '\n', 0xc3, 0x28, '\n'};
	static const uint8_t bom[] = {0xef, 0xbb, 0xbf, 'a', '\n'};
	struct hwg_error err = {0};
	char *out = NULL;
	size_t len = 0;

	REQUIRE(reg_csv_decode(sjis, sizeof(sjis), "shift_jis", &out, &len, &err) == 0);
	CHECK_EQ_STR(out, "名前\n大分\n");
	free(out);
	CHECK_EQ_INT(reg_csv_decode(bad_sjis, sizeof(bad_sjis), "cp932", &out, &len, &err),
	             HWG_E_INVALID);
	CHECK(strstr(err.message, "line 3 (byte 6)") != NULL);
	CHECK(out == NULL);
	CHECK_EQ_INT(reg_csv_decode(bad_utf8, sizeof(bad_utf8), "utf-8", &out, &len, &err),
	             HWG_E_INVALID);
	CHECK(strstr(err.message, "line 2") != NULL);
	CHECK_EQ_INT(reg_csv_decode(sjis, 3, "shift_jis", &out, &len, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "ends inside a character") != NULL);
	REQUIRE(reg_csv_decode(bom, sizeof(bom), "utf-8", &out, &len, &err) == 0);
	CHECK_EQ_STR(out, "a\n");
	CHECK_EQ_INT(len, 2);
	free(out);
	CHECK_EQ_INT(reg_csv_decode(bom, sizeof(bom), "ebcdic", &out, &len, &err), HWG_E_INVALID);
}

int
main(void)
{
	HWG_RUN(test_fields);
	HWG_RUN(test_refusals);
	HWG_RUN(test_limits);
	HWG_RUN(test_encodings);
	return HWG_TEST_END();
}
