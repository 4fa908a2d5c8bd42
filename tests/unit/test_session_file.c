/*
 * test_session_file.c — hwgwctl's session token files
 * (client/hwgwctl_session.c): --session-out writes operator.verify's
 * token as hex to a file only its owner may read (an existing wider file
 * is narrowed before the token goes in; a symbolic link is refused) and
 * shows the result without the token; --session-file reads it back, from
 * hex or raw bytes; a result without a token, files that hold none, and
 * token files others may read or that are symbolic links are refused.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_cbor.h"
#include "hwg_test.h"
#include "hwgwctl.h"
#include "hwgwctl_session.h"

static char dir[] = "/tmp/hwgw-session-file.XXXXXX";
static char last_failure[512];

/* hwgwctl.c's, recorded instead of printed. */
int
hwgwctl_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_failure, sizeof(last_failure), fmt, ap);
	va_end(ap);
	return code;
}

static cbor_item_t *
verify_result(const uint8_t *tok, size_t len)
{
	cbor_item_t *m = cbor_new_definite_map(3);

	hwg_cbor_map_put_bytes(m, "session", tok, len);
	hwg_cbor_map_put_text(m, "operator_id", "tanaka");
	hwg_cbor_map_put_uint(m, "idle_s", 600);
	return m;
}

static void
path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void
test_write_then_read(void)
{
	uint8_t tok[32];
	char path[128], text[128];
	struct stat st;
	struct hwg_secret *back = NULL;
	cbor_item_t *res, *shown = NULL;
	FILE *f;

	for (size_t i = 0; i < sizeof(tok); i++)
		tok[i] = (uint8_t)(0xa0 + i);
	res = verify_result(tok, sizeof(tok));
	path_of(path, sizeof(path), "sess");
	/* an existing file readable by others is narrowed before the token goes in */
	f = fopen(path, "w");
	if (f != NULL)
		fclose(f);
	chmod(path, 0644);
	CHECK_EQ_INT(hwgwctl_session_write(path, res, &shown), 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	f = fopen(path, "r");
	CHECK(f != NULL && fgets(text, sizeof(text), f) != NULL);
	if (f != NULL)
		fclose(f);
	CHECK_EQ_STR(text, "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf\n");
	/* shown: everything but the token, and where it went */
	CHECK(shown != NULL);
	if (shown != NULL) {
		CHECK(hwg_cbor_map_get(shown, "session", NULL) == NULL);
		CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(shown, "session_file", NULL), path));
		CHECK(hwg_cbor_text_eq(hwg_cbor_map_get(shown, "operator_id", NULL), "tanaka"));
		CHECK(hwg_cbor_map_get(shown, "idle_s", NULL) != NULL);
		cbor_decref(&shown);
	}
	CHECK_EQ_INT(hwgwctl_session_read(path, &back), 0);
	CHECK(back != NULL && back->len == sizeof(tok) &&
	      memcmp(back->data, tok, sizeof(tok)) == 0);
	hwg_secret_free(back);
	cbor_decref(&res);
}

static void
test_write_refusals(void)
{
	uint8_t tok[32] = {1};
	char path[128], link_path[128];
	cbor_item_t *res = verify_result(tok, sizeof(tok)), *none = cbor_new_definite_map(1),
	            *shown = NULL;

	hwg_cbor_map_put_text(none, "operator_id", "x");
	path_of(path, sizeof(path), "target");
	path_of(link_path, sizeof(link_path), "link");
	CHECK(symlink(path, link_path) == 0);
	CHECK_EQ_INT(hwgwctl_session_write(link_path, res, &shown), HWGWCTL_EXIT_ERROR);
	CHECK(access(path, F_OK) != 0); /* nothing written through the link */
	CHECK(shown == NULL);
	CHECK_EQ_INT(hwgwctl_session_write(path, none, &shown), HWGWCTL_EXIT_ERROR);
	CHECK(strstr(last_failure, "no session token") != NULL);
	CHECK(access(path, F_OK) != 0);
	cbor_decref(&res);
	cbor_decref(&none);
}

static void
test_read_refusals(void)
{
	char path[128];
	struct hwg_secret *s = NULL;
	FILE *f;

	path_of(path, sizeof(path), "nope");
	CHECK_EQ_INT(hwgwctl_session_read(path, &s), HWGWCTL_EXIT_ERROR);
	CHECK(s == NULL);
	path_of(path, sizeof(path), "big");
	if ((f = fopen(path, "w")) != NULL) {
		for (int i = 0; i < 300; i++)
			fputc('a', f);
		fclose(f);
	}
	chmod(path, 0600);
	CHECK_EQ_INT(hwgwctl_session_read(path, &s), HWGWCTL_EXIT_ERROR);
	CHECK(strstr(last_failure, "not a session token") != NULL);
	path_of(path, sizeof(path), "tiny");
	if ((f = fopen(path, "w")) != NULL) {
		fputs("abc", f);
		fclose(f);
	}
	chmod(path, 0600);
	CHECK_EQ_INT(hwgwctl_session_read(path, &s), HWGWCTL_EXIT_ERROR);
	CHECK(strstr(last_failure, "16 to 64") != NULL);
	CHECK(s == NULL);
}

/* A token others may read, or behind a symbolic link, is not used. */
static void
test_read_private_only(void)
{
	char path[128], link_path[128];
	struct hwg_secret *s = NULL;
	FILE *f;

	path_of(path, sizeof(path), "shared");
	if ((f = fopen(path, "w")) != NULL) {
		fputs("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n", f);
		fclose(f);
	}
	chmod(path, 0640);
	CHECK_EQ_INT(hwgwctl_session_read(path, &s), HWGWCTL_EXIT_ERROR);
	CHECK(s == NULL);
	CHECK(strstr(last_failure, path) != NULL);
	CHECK(strstr(last_failure, "mode 0640") != NULL);
	chmod(path, 0604);
	CHECK_EQ_INT(hwgwctl_session_read(path, &s), HWGWCTL_EXIT_ERROR);
	CHECK(strstr(last_failure, "mode 0604") != NULL);
	path_of(link_path, sizeof(link_path), "shared-link");
	chmod(path, 0600);
	CHECK(symlink(path, link_path) == 0);
	CHECK_EQ_INT(hwgwctl_session_read(link_path, &s), HWGWCTL_EXIT_ERROR);
	CHECK(s == NULL);
	CHECK(strstr(last_failure, "symbolic link") != NULL);
	/* the same file, ours and 0600: read */
	CHECK_EQ_INT(hwgwctl_session_read(path, &s), 0);
	CHECK(s != NULL && s->len == 16);
	hwg_secret_free(s);
}

int
main(void)
{
	char cmd[64];
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	HWG_RUN(test_write_then_read);
	HWG_RUN(test_write_refusals);
	HWG_RUN(test_read_refusals);
	HWG_RUN(test_read_private_only);
	rc = HWG_TEST_END();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}
