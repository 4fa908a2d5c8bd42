/*
 * hwg_file.c — see hwg_file.h.
 */
#include "hwg_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
