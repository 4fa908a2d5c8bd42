/*
 * hwg_file.c — see hwg_file.h.
 */
#include "hwg_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_secret.h"

static int
read_open(FILE *f, const char *path, size_t max, uint8_t **out, size_t *len, struct hwg_error *err)
{
	struct stat st;

	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
		return hwg_error_set(err, HWG_E_IO, "%s is not a regular file", path);
	if (st.st_size == 0)
		return hwg_error_set(err, HWG_E_IO, "%s is empty", path);
	if ((unsigned long long)st.st_size > max)
		return hwg_error_set(err, HWG_E_IO, "%s is larger than %zu bytes", path, max);
	*len = (size_t)st.st_size;
	if ((*out = malloc(*len + 1)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory reading %s", path);
	if (fread(*out, 1, *len, f) != *len)
		return hwg_error_set(err, HWG_E_IO, "cannot read %s", path);
	return 0;
}

int
hwg_file_read(const char *path, size_t max, uint8_t **out, size_t *len, struct hwg_error *err)
{
	FILE *f = fopen(path, "rbe");
	int rc;

	*out = NULL;
	*len = 0;
	if (f == NULL)
		return hwg_error_set(err, HWG_E_IO, "cannot open %s: %s", path, strerror(errno));
	rc = read_open(f, path, max, out, len, err);
	fclose(f);
	if (rc != 0) {
		free(*out);
		*out = NULL;
		*len = 0;
	}
	return rc;
}

/* What a file that is not a regular one is, for messages. */
static const char *
file_kind(mode_t mode)
{
	return S_ISDIR(mode)    ? "a directory"
	       : S_ISFIFO(mode) ? "a FIFO"
	       : S_ISSOCK(mode) ? "a socket"
	       : S_ISCHR(mode)  ? "a character device"
	       : S_ISBLK(mode)  ? "a block device"
	                        : "an unknown kind of file";
}

static int
open_secret(const char *path, int *fd, struct hwg_error *err)
{
	struct stat st;
	int saved;

	/* O_NONBLOCK: a FIFO put where the file should be must not hang the open. */
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (*fd >= 0)
		return 0;
	saved = errno;
	if (saved == ENOENT)
		return hwg_error_set(err, HWG_E_NOT_FOUND, "%s: %s", path, strerror(saved));
	if (saved == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return hwg_error_set(
		    err, HWG_E_IO, "%s: a symbolic link, not followed (it must be a regular file)",
		    path);
	return hwg_error_set(err, HWG_E_IO, "%s: %s", path, strerror(saved));
}

static int
check_secret(int fd, const char *path, size_t max, struct hwg_error *err)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return hwg_error_set(err, HWG_E_IO, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return hwg_error_set(err, HWG_E_IO, "%s: %s (mode %04o), not a regular file", path,
		                     file_kind(st.st_mode), (unsigned)(st.st_mode & 07777));
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		return hwg_error_set(err, HWG_E_IO,
		                     "%s: mode %04o, owner uid %lu; it must be ours (uid %lu) "
		                     "with mode 0600 or stricter",
		                     path, (unsigned)(st.st_mode & 07777), (unsigned long)st.st_uid,
		                     (unsigned long)geteuid());
	if ((unsigned long long)st.st_size > max)
		return hwg_error_set(err, HWG_E_TOO_LARGE, "%s: %lld bytes, over the %zu allowed",
		                     path, (long long)st.st_size, max);
	return 0;
}

/* Read to the end, at most max bytes; one byte more means the file grew. */
static int
read_secret(int fd, const char *path, uint8_t *buf, size_t max, size_t *len, struct hwg_error *err)
{
	size_t n = 0;
	uint8_t extra;
	ssize_t r;

	for (;;) {
		r = n < max ? read(fd, buf + n, max - n) : read(fd, &extra, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r > 0 && n == max)) {
			int saved = errno;

			hwg_wipe(buf, n);
			hwg_wipe(&extra, sizeof(extra));
			if (r < 0)
				return hwg_error_set(err, HWG_E_IO, "%s: %s", path,
				                     strerror(saved));
			return hwg_error_set(err, HWG_E_TOO_LARGE,
			                     "%s: over the %zu bytes allowed (it grew while read)",
			                     path, max);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return 0;
}

int
hwg_file_read_secret(const char *path, void *buf, size_t max, size_t *len, struct hwg_error *err)
{
	int fd, rc;

	*len = 0;
	if ((rc = open_secret(path, &fd, err)) != 0)
		return rc;
	rc = check_secret(fd, path, max, err);
	if (rc == 0)
		rc = read_secret(fd, path, buf, max, len, err);
	close(fd);
	return rc;
}
