/*
 * counter_state.c — the station's state directory ([counter] state_dir,
 * mode 0700): the operator's session token ("session", hex, 0600, never
 * printed), the visit ("visit": who the card identified) and an issuance
 * in flight ("issue": its request id and request hash, and "issue.doc",
 * the signed document), each written whole (a temporary file, fsync,
 * rename) so that a crash leaves the old file or the new, never half.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "counter.h"
#include "hwg_file.h"
#include "hwg_secret.h"
#include "hwgw.h"

int
ctr_state_path(const struct ctr *c, const char *name, char out[CTR_PATH_MAX], struct hwg_error *err)
{
	const char *dir = c->conf.state_dir;
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return hwg_error_set(err, HWG_E_IO, "state directory %s: %s", dir, strerror(errno));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0)
		return hwg_error_set(err, HWG_E_IO,
		                     "state directory %s: must be a directory of ours, mode 0700",
		                     dir);
	if ((size_t)snprintf(out, CTR_PATH_MAX, "%s/%s", dir, name) >= CTR_PATH_MAX)
		return hwg_error_set(err, HWG_E_IO, "state directory %s: path too long", dir);
	return 0;
}

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ctr_state_write(const struct ctr *c, const char *name, const void *data, size_t len,
                struct hwg_error *err)
{
	char path[CTR_PATH_MAX], tmp[CTR_PATH_MAX + 8];
	int fd, rc;

	if ((rc = ctr_state_path(c, name, path, err)) != 0)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return hwg_error_set(err, HWG_E_IO, "%s: %s", tmp, strerror(errno));
	rc = write_all(fd, data, len) == 0 && fsync(fd) == 0 ? 0 : -1;
	if (close(fd) != 0 || rc != 0 || rename(tmp, path) != 0) {
		rc = hwg_error_set(err, HWG_E_IO, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return rc;
	}
	return 0;
}

int
ctr_state_read(const struct ctr *c, const char *name, char **out, size_t *len,
               struct hwg_error *err)
{
	char path[CTR_PATH_MAX];
	uint8_t *data = NULL;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = ctr_state_path(c, name, path, err)) != 0)
		return rc;
	if (access(path, F_OK) != 0)
		return hwg_error_set(err, HWG_E_NOT_FOUND, "%s: none", path);
	if ((rc = hwg_file_read(path, 1 << 20, &data, len, err)) != 0)
		return rc;
	data[*len] = '\0';
	*out = (char *)data;
	return 0;
}

int
ctr_state_remove(const struct ctr *c, const char *name, struct hwg_error *err)
{
	char path[CTR_PATH_MAX], *old = NULL;
	size_t len = 0;
	int fd, rc;

	if ((rc = ctr_state_path(c, name, path, err)) != 0)
		return rc;
	if (ctr_state_read(c, name, &old, &len, err) == 0 &&
	    (fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		hwg_wipe(old, len); /* zeros over what the file held, before it goes */
		(void)write_all(fd, old, len);
		close(fd);
	}
	free(old);
	if (unlink(path) != 0 && errno != ENOENT)
		return hwg_error_set(err, HWG_E_IO, "%s: %s", path, strerror(errno));
	return 0;
}

void
ctr_state_value(const struct ctr *c, const char *name, const char *key, char *out, size_t outlen)
{
	struct hwg_error err = {0};
	char *text = NULL;
	size_t n;

	out[0] = '\0';
	if (ctr_state_read(c, name, &text, &n, &err) == 0 &&
	    ctr_kv_get(text, key, out, outlen) != 0)
		out[0] = '\0';
	free(text);
}

int
ctr_kv_get(const char *text, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);

	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			if (n - klen - 1 >= outlen)
				return -1;
			memcpy(out, p + klen + 1, n - klen - 1);
			out[n - klen - 1] = '\0';
			return 0;
		}
		p = nl ? nl + 1 : NULL;
	}
	return -1;
}

int
ctr_session_load(const struct ctr *c, uint8_t *tok, size_t *len, struct hwg_error *err)
{
	char path[CTR_PATH_MAX];
	uint8_t raw[256];
	size_t n = 0;
	int rc;

	if ((rc = ctr_state_path(c, "session", path, err)) != 0)
		return rc;
	rc = hwg_file_read_secret(path, raw, sizeof(raw), &n, err);
	if (rc == HWG_E_NOT_FOUND)
		return hwg_error_set(err, HWG_E_SESSION,
		                     "no operator is logged in at this counter");
	if (rc == 0)
		rc = hwgw_session_parse(raw, n, tok, len, err);
	hwg_wipe(raw, sizeof(raw));
	return rc;
}
