/*
 * hwg_helper.c — see hwg_helper.h.
 */
#include "hwg_helper.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef HWG_LIBEXECDIR
#error "HWG_LIBEXECDIR must be defined by the build"
#endif
#ifndef HWG_LIBEXEC_FROM_SBIN
#error "HWG_LIBEXEC_FROM_SBIN must be defined by the build"
#endif

static int
executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* out = dir/sub/name if that is an executable file; sub may be "" */
static int
found(char *out, size_t len, const char *dir, const char *sub, const char *name)
{
	int n = snprintf(out, len, "%s%s%s/%s", dir, sub[0] != '\0' ? "/" : "", sub, name);

	return n > 0 && (size_t)n < len && executable(out);
}

int
hwg_helper_path(const char *dir, const char *name, char *out, size_t len, struct hwg_error *err)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (dir != NULL && dir[0] != '\0')
		return found(out, len, dir, "", name)
		           ? 0
		           : hwg_error_set(
		                 err, HWG_E_CONFIG,
		                 "%s is not an executable file in [gateway] libexec_dir %s", name,
		                 dir);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if (found(out, len, self, "", name) ||
			    found(out, len, self, HWG_LIBEXEC_FROM_SBIN, name))
				return 0;
		}
	}
	if (found(out, len, HWG_LIBEXECDIR, "", name))
		return 0;
	return hwg_error_set(err, HWG_E_CONFIG,
	                     "%s is neither beside hwgwd, nor in %s from it, nor in %s", name,
	                     HWG_LIBEXEC_FROM_SBIN, HWG_LIBEXECDIR);
}
