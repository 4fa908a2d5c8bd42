/*
 * hwgwctl_session.c — see hwgwctl_session.h.
 */
#include "hwgwctl_session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_cbor.h"
#include "hwg_file.h"
#include "hwgw.h"
#include "hwgwctl.h"

#define SESSION_FILE_MAX 256 /* hex of the longest token, a prefix and a newline fit */

/*
 * The bytes of path into raw: standard input for "-", else a file of ours
 * only its owner may read (hwg_file_read_secret), as --session-out writes
 * it.  Either way SESSION_FILE_MAX bytes or more are not a token.
 */
static int
read_raw(const char *path, struct hwg_secret *raw)
{
	struct hwg_error err = {0};
	int rc = 0;

	if (strcmp(path, "-") == 0) {
		raw->len = fread(raw->data, 1, SESSION_FILE_MAX, stdin);
		if (raw->len == SESSION_FILE_MAX)
			rc = HWG_E_TOO_LARGE;
	} else {
		rc = hwg_file_read_secret(path, raw->data, SESSION_FILE_MAX - 1, &raw->len, &err);
	}
	if (rc == HWG_E_TOO_LARGE)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR,
		                    "call: --session-file %s: over %d bytes: not a session token",
		                    path, SESSION_FILE_MAX - 1);
	if (rc != 0)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "call: --session-file %s", err.message);
	return 0;
}

int
hwgwctl_session_read(const char *path, struct hwg_secret **out)
{
	struct hwg_secret *raw = NULL, *tok = NULL;
	struct hwg_error err = {0};
	int rc = HWGWCTL_EXIT_ERROR;

	*out = NULL;
	if ((raw = hwg_secret_new(SESSION_FILE_MAX)) == NULL ||
	    (tok = hwg_secret_new(HWGW_SESSION_MAX)) == NULL) {
		hwgwctl_fail(rc, "out of memory");
		goto out;
	}
	if (read_raw(path, raw) != 0)
		goto out;
	if (hwgw_session_parse((const uint8_t *)raw->data, raw->len, (uint8_t *)tok->data,
	                       &tok->len, &err) != 0) {
		hwgwctl_fail(rc, "call: --session-file %s: %s", path, err.message);
		goto out;
	}
	*out = tok;
	tok = NULL;
	rc = 0;
out:
	hwg_secret_free(raw);
	hwg_secret_free(tok);
	return rc;
}

/* Create or truncate path for the owner alone, then write text. */
static int
write_private(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct stat st;
	int ok;

	if (fd < 0)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "call: --session-out %s: %s", path,
		                    strerror(errno));
	/* an existing file keeps its mode through O_TRUNC: narrow it before writing */
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	     fchmod(fd, 0600) == 0;
	if (!ok) {
		close(fd);
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR,
		                    "call: --session-out %s: not a regular file of ours", path);
	}
	ok = write(fd, text, len) == (ssize_t)len;
	ok = close(fd) == 0 && ok;
	if (!ok)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "call: --session-out %s: %s", path,
		                    strerror(errno));
	return 0;
}

/* The result without "session", with "session_file" naming where it went. */
static int
result_without_token(const cbor_item_t *result, const char *path, cbor_item_t **shown)
{
	size_t n = cbor_map_size(result);
	struct cbor_pair *pairs = cbor_map_handle(result);
	cbor_item_t *m = cbor_new_definite_map(n);

	if (m == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (hwg_cbor_text_eq(pairs[i].key, "session"))
			continue;
		if (!cbor_map_add(m,
		                  (struct cbor_pair){.key = pairs[i].key, .value = pairs[i].value}))
			goto fail;
	}
	if (hwg_cbor_map_put_text(m, "session_file", path) != 0)
		goto fail;
	*shown = m;
	return 0;
fail:
	cbor_decref(&m);
	return -1;
}

int
hwgwctl_session_write(const char *path, const cbor_item_t *result, cbor_item_t **shown)
{
	const uint8_t *tok;
	size_t len;
	struct hwg_secret *hex;
	int rc;

	*shown = NULL;
	if (!cbor_isa_map(result) ||
	    hwg_cbor_bytes(hwg_cbor_map_get(result, "session", NULL), &tok, &len) != 0 ||
	    len < HWGW_SESSION_MIN || len > HWGW_SESSION_MAX)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR,
		                    "call: --session-out: the result holds no session token");
	if ((hex = hwg_secret_new(2 * HWGW_SESSION_MAX + 1)) == NULL)
		return hwgwctl_fail(HWGWCTL_EXIT_ERROR, "out of memory");
	for (size_t i = 0; i < len; i++)
		snprintf(hex->data + 2 * i, 3, "%02x", tok[i]);
	hex->data[2 * len] = '\n';
	rc = write_private(path, hex->data, 2 * len + 1);
	hwg_secret_free(hex);
	if (rc == 0 && result_without_token(result, path, shown) != 0)
		rc = hwgwctl_fail(HWGWCTL_EXIT_ERROR, "out of memory");
	return rc;
}
