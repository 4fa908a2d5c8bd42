/*
 * fuzz_csv.c — libFuzzer target for the strict CSV reader the register
 * imports legacy exports and move-out feeds with (registry/reg_csv.c):
 * the input's first byte declares the encoding ('s' Shift_JIS, anything
 * else UTF-8), the rest is the file.  Nothing may crash, and what is
 * accepted must keep the reader's promises: valid UTF-8 text with no NUL,
 * a header of named, distinct columns, every record exactly as many
 * fields as the header, each field NUL-free and no longer than a record
 * may be, and line numbers that never go back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_text.h"
#include "reg_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_fields(const char *const *f, int n)
{
	for (int i = 0; i < n; i++) {
		size_t len = strlen(f[i]);
		if (len > REG_CSV_RECORD_MAX || !hwg_utf8_valid((const uint8_t *)f[i], len))
			abort();
	}
}

static void
read_all(const char *text, size_t len)
{
	struct reg_csv c;
	struct hwg_error err = {0};
	long line = 0;
	int rc;

	if (reg_csv_open(&c, text, len, &err) == 0) {
		if (c.ncols < 1 || c.ncols > REG_CSV_COLS_MAX)
			abort();
		check_fields(c.names, c.ncols);
		for (int i = 0; i < c.ncols; i++)
			if (c.names[i][0] == '\0' || reg_csv_column(&c, c.names[i]) != i)
				abort();
		while ((rc = reg_csv_next(&c, &err)) == 1) {
			if (c.line <= line)
				abort();
			line = c.line;
			check_fields(c.fields, c.ncols);
		}
		if (rc != 0 && err.code != HWG_E_INVALID)
			abort();
	} else if (err.code != HWG_E_INVALID && err.code != HWG_E_NOMEM) {
		abort();
	}
	reg_csv_close(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hwg_error err = {0};
	char *text = NULL;
	size_t len = 0;

	if (size < 1)
		return 0;
	if (reg_csv_decode(data + 1, size - 1, data[0] == 's' ? "shift_jis" : "utf-8", &text, &len,
	                   &err) != 0) {
		if (err.code != HWG_E_INVALID || text != NULL)
			abort();
		return 0;
	}
	if (memchr(text, '\0', len) == NULL && !hwg_utf8_valid((const uint8_t *)text, len))
		abort();
	read_all(text, len);
	free(text);
	return 0;
}
