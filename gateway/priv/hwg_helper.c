/*
 * hwg_helper.c — see hwg_helper.h.
 */
#include "hwg_helper.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef HWG_LIBEXECDIR
#error "HWG_LIBEXECDIR must be defined by the build"
#endif

static int
executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int
hwg_helper_path(const char *name, char *out, size_t len, struct hwg_error *err)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if ((size_t)snprintf(out, len, "%s/%s", self, name) < len &&
			    executable(out))
				return 0;
		}
	}
	if ((size_t)snprintf(out, len, "%s/%s", HWG_LIBEXECDIR, name) < len && executable(out))
		return 0;
	return hwg_error_set(err, HWG_E_CONFIG, "%s is not installed beside hwgwd (%s) or in %s",
	                     name, n > 0 ? self : "?", HWG_LIBEXECDIR);
}
