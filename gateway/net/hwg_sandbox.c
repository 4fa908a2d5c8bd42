/*
 * hwg_sandbox.c — see hwg_sandbox.h.  Modelled on OpenSSH's
 * sandbox-seccomp-filter.c: the architecture is checked first (any other
 * kills), then an allow-list, and the default is to kill the whole
 * process.  The list was found by tracing the net process through the
 * api, http and vein test suites (strace -f).  Opening a file fails with
 * EACCES (below, add_rules).  Under HWG_SANITIZE the
 * sanitizer runtime's own calls (sigaltstack, prctl) are added; opening
 * files stays forbidden there too, so a sanitizer report from the net
 * process comes without symbols.
 */
#include "hwg_sandbox.h"

#include "hwg_seccomp.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

static const char *const allowed[] = {
    /* bytes over descriptors it holds */
    "read",
    "readv",
    "write",
    "writev",
    "recvfrom",
    "recvmsg",
    "sendto",
    "sendmsg",
    "close",
    "shutdown",
    "fcntl",
    "getsockopt",
    "setsockopt",
    "getsockname",
    "getpeername",
    "lseek",
    "fstat",
    "newfstatat",
    /* accepting and waiting */
    "accept",
    "accept4",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd2",
    "pipe2",
    /* threads, memory, time */
    "futex",
    "set_robust_list",
    "rseq",
    "mmap",
    "munmap",
    "mprotect",
    "madvise",
    "mremap",
    "brk",
    "clock_gettime",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "sched_yield",
    "sched_getaffinity",
    "getrandom",
    "getpid",
    "gettid",
    "getuid",
    "getgid",
    "geteuid",
    "getegid",
    "prlimit64",
    /* signals and leaving */
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigaction",
    "rt_sigtimedwait",
    "tgkill",
    "restart_syscall",
    "exit",
    "exit_group",
#ifdef HWG_SANITIZE
    "sigaltstack",
    "prctl",
    "sched_getparam",
#endif
};

static const char *const refused_open[] = {"open", "openat", "openat2"};

unsigned
hwg_sandbox_allowed(void)
{
	/* the list, prctl (PR_SET_NAME), clone (threads only), clone3 (answered ENOSYS) */
#ifdef HWG_SANITIZE
	return (unsigned)(sizeof(allowed) / sizeof(allowed[0])) + 2;
#else
	return (unsigned)(sizeof(allowed) / sizeof(allowed[0])) + 3;
#endif
}

static int
add_rules(void *filter, void *arg)
{
	scmp_filter_ctx f = filter;
	/* (designated: SCMP_A0's compound literal leaves fields unnamed, which clang refuses) */
	const struct scmp_arg_cmp thread_only = {
	    .arg = 0, .op = SCMP_CMP_MASKED_EQ, .datum_a = CLONE_THREAD, .datum_b = CLONE_THREAD};
	int nr;

	(void)arg;
	if (hwg_sandbox_allow(f, allowed, sizeof(allowed) / sizeof(allowed[0])) != 0)
		return -1;
#ifndef HWG_SANITIZE /* whose runtime needs prctl's other calls: in the list then */
	/* libmicrohttpd names its threads; no other prctl */
	const struct scmp_arg_cmp set_name = {
	    .arg = 0, .op = SCMP_CMP_EQ, .datum_a = PR_SET_NAME, .datum_b = 0};

	if (seccomp_rule_add_array(f, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, &set_name) != 0)
		return -1;
#endif
	/* new threads only, never a new process; clone3's flags are out of a filter's reach */
	if (seccomp_rule_add_array(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, &thread_only) != 0)
		return -1;
	nr = seccomp_syscall_resolve_name("clone3");
	if (nr != __NR_SCMP_ERROR && seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), nr, 0) != 0)
		return -1; /* glibc then falls back to clone */
	/*
	 * Opening a file is refused (EACCES), not killed, as OpenSSH's sandbox
	 * does: glibc opens files lazily on paths we do not control (malloc
	 * reads /proc/sys/vm/overcommit_memory the first time a thread's heap
	 * shrinks: the soak found that one) and copes with the refusal.
	 */
	for (size_t i = 0; i < sizeof(refused_open) / sizeof(refused_open[0]); i++) {
		nr = seccomp_syscall_resolve_name(refused_open[i]);
		if (nr != __NR_SCMP_ERROR &&
		    seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), nr, 0) != 0)
			return -1;
	}
	return 0;
}

int
hwg_sandbox_enter(struct hwg_error *err)
{
	return hwg_sandbox_install(add_rules, NULL, err);
}
