/*
 * test_file.c — hwg_file_read_secret (common/hwg_file.c), the one reader
 * of secret files (the subject key, the HSM PIN, hwgwctl's session
 * token): a regular file of ours with mode 0600 or stricter is read
 * whole; a file others may read, a symbolic link, a directory or a FIFO,
 * a file owned by someone else and one over the caller's limit are
 * refused with a message naming the path and what was found, and the
 * caller's buffer then holds nothing of the file.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_err.h"
#include "hwg_file.h"
#include "hwg_test.h"
#include "testfiles.h"

#define FILL 0x5a

static char dir[] = "/tmp/hwgw-file.XXXXXX";

static int
all_fill(const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != FILL)
			return 0;
	return 1;
}

/* Read path with a limit of max into a filled buffer: refused with code,
 * the message naming path and holding want, the buffer untouched. */
static void
expect_refusal(const char *path, size_t max, int code, const char *want)
{
	uint8_t buf[64];
	struct hwg_error err = {0};
	size_t len = 99;

	memset(buf, FILL, sizeof(buf));
	CHECK_EQ_INT(hwg_file_read_secret(path, buf, max, &len, &err), code);
	CHECK_EQ_INT(err.code, code);
	CHECK_EQ_INT(len, 0);
	CHECK(all_fill(buf, sizeof(buf)));
	CHECK(strstr(err.message, path) != NULL);
	CHECK(strstr(err.message, want) != NULL);
	if (strstr(err.message, want) == NULL)
		fprintf(stderr, "  message: %s\n", err.message);
}

static void
test_ok(void)
{
	uint8_t buf[64];
	struct hwg_error err = {0};
	const char *path;
	size_t len = 0;

	path = write_file(dir, "ok", "s3cret\n", 7, 0600);
	CHECK_EQ_INT(hwg_file_read_secret(path, buf, sizeof(buf), &len, &err), 0);
	CHECK_EQ_INT(len, 7);
	CHECK(memcmp(buf, "s3cret\n", 7) == 0);
	/* stricter than 0600 is fine; exactly the limit is fine */
	path = write_file(dir, "ro", "0123456789", 10, 0400);
	CHECK_EQ_INT(hwg_file_read_secret(path, buf, 10, &len, &err), 0);
	CHECK_EQ_INT(len, 10);
	CHECK(memcmp(buf, "0123456789", 10) == 0);
	/* an empty file is read (the caller judges what it holds) */
	path = write_file(dir, "empty", "", 0, 0600);
	CHECK_EQ_INT(hwg_file_read_secret(path, buf, sizeof(buf), &len, &err), 0);
	CHECK_EQ_INT(len, 0);
}

static void
test_group_readable(void)
{
	expect_refusal(write_file(dir, "group", "s3cret", 6, 0640), 64, HWG_E_IO, "mode 0640");
	expect_refusal(write_file(dir, "group-w", "s3cret", 6, 0620), 64, HWG_E_IO, "mode 0620");
}

static void
test_world_readable(void)
{
	expect_refusal(write_file(dir, "world", "s3cret", 6, 0604), 64, HWG_E_IO, "mode 0604");
	expect_refusal(write_file(dir, "loose", "s3cret", 6, 0644), 64, HWG_E_IO,
	               "with mode 0600 or stricter");
}

static void
test_not_ours(void)
{
	const char *path = write_file(dir, "theirs", "s3cret", 6, 0600);

	/* only root may give a file away; as anyone else, there is nothing to try */
	if (chown(path, geteuid() == 65534 ? 65533 : 65534, (gid_t)-1) != 0)
		return;
	expect_refusal(path, 64, HWG_E_IO, "owner uid 6553");
}

static void
test_symlink(void)
{
	char link[256];

	write_file(dir, "target", "s3cret", 6, 0600);
	snprintf(link, sizeof(link), "%s/link", dir);
	CHECK(symlink("target", link) == 0);
	expect_refusal(link, 64, HWG_E_IO, "symbolic link");
}

static void
test_not_regular(void)
{
	char fifo[256];

	expect_refusal(dir, 64, HWG_E_IO, "a directory (mode 0700)");
	/* a FIFO is refused at once, not waited on */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	CHECK(mkfifo(fifo, 0600) == 0);
	alarm(20);
	expect_refusal(fifo, 64, HWG_E_IO, "a FIFO (mode 0600)");
	alarm(0);
}

static void
test_too_large(void)
{
	const char *path = write_file(dir, "big", "0123456789", 10, 0600);

	expect_refusal(path, 9, HWG_E_TOO_LARGE, "10 bytes, over the 9 allowed");
	expect_refusal(path, 0, HWG_E_TOO_LARGE, "over the 0 allowed");
}

static void
test_missing(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/none", dir);
	expect_refusal(path, 64, HWG_E_NOT_FOUND, "No such file");
}

int
main(void)
{
	char cmd[64];
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	HWG_RUN(test_ok);
	HWG_RUN(test_group_readable);
	HWG_RUN(test_world_readable);
	HWG_RUN(test_not_ours);
	HWG_RUN(test_symlink);
	HWG_RUN(test_not_regular);
	HWG_RUN(test_too_large);
	HWG_RUN(test_missing);
	rc = HWG_TEST_END();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}
