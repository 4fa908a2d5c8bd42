/*
 * hwg_seccomp.c — see hwg_seccomp.h.  Modelled on OpenSSH's
 * sandbox-seccomp-filter.c.
 */
#include "hwg_seccomp.h"

#include <seccomp.h>
#include <time.h>

int
hwg_sandbox_allow(void *filter, const char *const *names, size_t n)
{
	int nr;

	for (size_t i = 0; i < n; i++) {
		if ((nr = seccomp_syscall_resolve_name(names[i])) == __NR_SCMP_ERROR)
			continue; /* not a call of this architecture */
		if (seccomp_rule_add(filter, SCMP_ACT_ALLOW, nr, 0) != 0)
			return -1;
	}
	return 0;
}

int
hwg_sandbox_install(int (*rules)(void *filter, void *arg), void *arg, struct hwg_error *err)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = -1;

	time_t now = time(NULL);
	struct tm tm;

	if (f == NULL)
		return hwg_error_set(err, HWG_E_INTERNAL, "seccomp: cannot make a filter");
	/* the time zone is read now; later only stat'ed, which the filter allows */
	tzset();
	localtime_r(&now, &tm);
	if (seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) == 0 &&
	    seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 1) == 0 &&
	    seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1) == 0 && rules(f, arg) == 0)
		rc = seccomp_load(f);
	seccomp_release(f);
	if (rc != 0)
		return hwg_error_set(err, HWG_E_INTERNAL, "seccomp: cannot load the filter (%d)",
		                     rc);
	return 0;
}
