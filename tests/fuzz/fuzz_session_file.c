/*
 * fuzz_session_file.c — libFuzzer target for what `hwgwctl call
 * --session-file FILE` reads: any file a user points it at
 * (client/hwgwctl_session.c, which parses with client/hwgw.c's
 * hwgw_session_parse: hex, "hex:" and hex, or the raw bytes).  The input
 * goes to the parser directly, and as a file to the reader (a temporary
 * file of ours, mode 0600, as the reader wants a token file to be), which
 * must agree with the parser on every input it does not refuse for its
 * size.  An accepted token must be 16 to 64 bytes and be the input:
 * its bytes when raw, its hex (either case, after an optional "hex:",
 * before trailing whitespace) otherwise.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hwgw.h"
#include "hwgwctl.h"
#include "hwgwctl_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_MAX 256 /* hwgwctl_session.c refuses a file of this size or more */

/* hwgwctl.c's prints; the fuzzer wants no output. */
int
hwgwctl_fail(int code, const char *fmt, ...)
{
	(void)fmt;
	return code;
}

static int
hex_value(uint8_t c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

/* Is data[0..len) the hex of tok[0..n), after "hex:" if any, then only whitespace? */
static int
is_hex_of(const uint8_t *data, size_t len, const uint8_t *tok, size_t n)
{
	size_t i;

	if (len >= 4 && memcmp(data, "hex:", 4) == 0) {
		data += 4;
		len -= 4;
	}
	if (len < 2 * n)
		return 0;
	for (i = 0; i < n; i++)
		if (hex_value(data[2 * i]) < 0 || hex_value(data[2 * i + 1]) < 0 ||
		    (hex_value(data[2 * i]) << 4 | hex_value(data[2 * i + 1])) != tok[i])
			return 0;
	for (i = 2 * n; i < len; i++)
		if (data[i] != '\n' && data[i] != '\r' && data[i] != ' ' && data[i] != '\t')
			return 0;
	return 1;
}

static char file_path[] = "/tmp/fuzz_session_file.XXXXXX";

static void
remove_file(void)
{
	unlink(file_path);
}

/* The reader, on the input as a file; -1 if the file could not be made. */
static int
read_as_file(const uint8_t *data, size_t size, struct hwg_secret **tok)
{
	static int fd = -1;

	if (fd < 0) {
		if ((fd = mkstemp(file_path)) < 0) /* mode 0600 */
			return -1;
		atexit(remove_file);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return -1;
	return hwgwctl_session_read(file_path, tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[HWGW_SESSION_MAX];
	struct hwg_secret *tok = NULL;
	struct hwg_error err = {0};
	size_t n = 0;
	int rc, file_rc;

	rc = hwgw_session_parse(data, size, out, &n, &err);
	if (rc == 0) {
		/* raw: every byte, and never after "hex:" */
		int raw = n == size && memcmp(out, data, n) == 0 &&
		          !(size >= 4 && memcmp(data, "hex:", 4) == 0);

		if (n < HWGW_SESSION_MIN || n > HWGW_SESSION_MAX ||
		    !(raw || is_hex_of(data, size, out, n)))
			abort();
	} else if (rc != HWG_E_INVALID || err.message[0] == '\0') {
		abort();
	}
	if ((file_rc = read_as_file(data, size, &tok)) < 0)
		return 0;
	if (size >= FILE_MAX) {
		if (file_rc != HWGWCTL_EXIT_ERROR || tok != NULL)
			abort();
	} else if ((file_rc == 0) != (rc == 0) ||
	           (rc == 0 && (tok == NULL || tok->len != n || memcmp(tok->data, out, n) != 0))) {
		abort();
	}
	hwg_secret_free(tok);
	return 0;
}
