/*
 * hwg_rd_sandbox.c — see hwg_rd_sandbox.h.  Installed through
 * hwg_sandbox_install (the architecture checked, kill the process by
 * default, no new privileges, every thread), like the net process's and
 * the keyholder's filters.  What hwgw-renderer was seen to call after the
 * filter's point (strace -f over test_renderer and bench_render: renders
 * of one to twenty pages, 外字, refusals, SIGKILL and SIGSTOP mid-job):
 * read, sendmsg, brk, mmap, munmap, mremap, newfstatat (the time zone)
 * and exit_group, write for a log line.  The rest of the list is what a
 * thread of pango's needs (set_robust_list, rseq, clone, futex, madvise,
 * mprotect, exit: pango sorts a font set it has not made yet in a thread
 * of its own; the warm-up makes every one the layout uses, so none was
 * seen after the filter, but a miss must cost a thread, not the
 * document) and abort()'s way out.  Each call's reason is in
 * gateway/renderer/README.md, "The sandbox".
 */
#include "hwg_rd_sandbox.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hwg_seccomp.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const allowed[] = {
    /* the link (hwg_msg: read, sendmsg), log lines on stderr */
    "read",
    "write",
    "sendmsg",
    /* memory: malloc, cairo's and pango's buffers, a thread's stack */
    "brk",
    "munmap",
    "mremap",
    "madvise",
    /* locks (GLib, fontconfig, cairo), time (cairo's PDF dates, GLib) */
    "futex",
    "clock_gettime",
    "getpid",
    "gettid",
    /* the time zone's file is stat'ed by localtime (glibc) */
    "newfstatat",
    /* pango sorts a new font set in a thread of its own: its start and end */
    "set_robust_list",
    "rseq",
    "exit",
    /* leaving: exit, or abort() (its mask, then tgkill below) */
    "rt_sigprocmask",
    "exit_group",
#ifdef HWG_SANITIZE
    "rt_sigreturn",
    "sigaltstack",
    "prctl",
    "sched_getparam",
    "sched_yield",
#endif
};

static const char *const refused_open[] = {"open",   "openat",    "openat2",
                                           "access", "faccessat", "faccessat2"};

static int
add_rules(void *filter, void *arg)
{
	scmp_filter_ctx f = filter;
	/* (designated: SCMP_A0's compound literal leaves fields unnamed, which clang refuses) */
	const struct scmp_arg_cmp no_exec = {
	    .arg = 2, .op = SCMP_CMP_MASKED_EQ, .datum_a = PROT_EXEC, .datum_b = 0};
	const struct scmp_arg_cmp thread_only = {
	    .arg = 0, .op = SCMP_CMP_MASKED_EQ, .datum_a = CLONE_THREAD, .datum_b = CLONE_THREAD};
	const struct scmp_arg_cmp self[2] = {
	    {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)getpid(), .datum_b = 0},
	    {.arg = 2, .op = SCMP_CMP_EQ, .datum_a = SIGABRT, .datum_b = 0}};
	int nr;

	(void)arg;
	if (hwg_sandbox_allow(f, allowed, N(allowed)) != 0)
		return -1;
	/* memory, never executable: everything that runs here was loaded before the filter */
	if (seccomp_rule_add_array(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, &no_exec) != 0 ||
	    seccomp_rule_add_array(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1, &no_exec) != 0)
		return -1;
	/* new threads only, never a new process; clone3's flags are out of a filter's reach */
	if (seccomp_rule_add_array(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, &thread_only) != 0)
		return -1;
	nr = seccomp_syscall_resolve_name("clone3");
	if (nr != __NR_SCMP_ERROR && seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), nr, 0) != 0)
		return -1; /* glibc then falls back to clone */
	/* abort() signals this process itself, so that it ends by SIGABRT, not SIGSYS */
	if (seccomp_rule_add_array(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 2, self) != 0)
		return -1;
	/*
	 * Opening or probing a file is refused (EACCES), not killed, as in the
	 * net process: every file the renderer needs was read before the
	 * filter, and a library that looks again lazily copes with the refusal.
	 */
	for (size_t i = 0; i < N(refused_open); i++) {
		nr = seccomp_syscall_resolve_name(refused_open[i]);
		if (nr != __NR_SCMP_ERROR &&
		    seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), nr, 0) != 0)
			return -1;
	}
	return 0;
}

int
hwg_rd_sandbox_enter(struct hwg_error *err)
{
	return hwg_sandbox_install(add_rules, NULL, err);
}
