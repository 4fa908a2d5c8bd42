/*
 * hwg_kh_sandbox.c — see hwg_kh_sandbox.h.  Installed through
 * hwg_sandbox_install (the architecture checked, kill the process by
 * default, no new privileges), like the net process's filter.  The list
 * is what SoftHSM2 2.6.1 and this process were seen to call after the
 * filter's point (strace -f over test_keyholder and test_keyholder_fault:
 * signing with both kinds of key, sealing, opening, INFO, a token moved
 * away and back, which finalises and initialises the module again and
 * logs in), each call's reason in firmware-notes/pkcs11.md.  SoftHSM2
 * keeps its token in files, so opening, locking, reading and writing
 * files stay allowed: the flags an open may carry are restricted, the
 * paths cannot be.
 */
#include "hwg_kh_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hwg_seccomp.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const allowed[] = {
    /* the link (hwg_msg: read, sendmsg) and SoftHSM2's token files */
    "read",
    "write",
    "sendmsg",
    "close",
    "lseek",
    "ftruncate",
    "newfstatat",
    "getdents64",
    /* memory: malloc, the module's unloading at exit */
    "brk",
    "munmap",
    "mremap",
    /* locks, the PIN buffer, time, randomness, identity */
    "futex",
    "mlock",
    "munlock",
    "clock_gettime",
    "getrandom",
    "getpid",
    "gettid",
    "geteuid",
    /* leaving: exit, or abort() (its mask, then tgkill below) */
    "rt_sigprocmask",
    "exit_group",
#ifdef HWG_SANITIZE
    "rt_sigreturn",
    "sigaltstack",
    "prctl",
    "sched_getparam",
    "madvise",
    "sched_yield",
#endif
};

/* How openat may be called (the third argument, flags), and nothing else. */
static int
allow_opens(scmp_filter_ctx f)
{
	/*
	 * reading anything (files, directories, the PIN file, OpenSSL's
	 * engines); O_TMPFILE needs write access, so this mask excludes it too
	 */
	const struct scmp_arg_cmp read_only = {.arg = 2,
	                                       .op = SCMP_CMP_MASKED_EQ,
	                                       .datum_a = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND,
	                                       .datum_b = O_RDONLY};
	/* SoftHSM2's File for writing: token.object, generation */
	const struct scmp_arg_cmp update = {
	    .arg = 2, .op = SCMP_CMP_EQ, .datum_a = O_RDWR | O_CREAT, .datum_b = 0};
	/* and its lock files (token.lock, <object>.lock) */
	const struct scmp_arg_cmp lock = {
	    .arg = 2, .op = SCMP_CMP_EQ, .datum_a = O_WRONLY | O_CREAT | O_TRUNC, .datum_b = 0};

	if (seccomp_rule_add_array(f, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1, &read_only) != 0 ||
	    seccomp_rule_add_array(f, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1, &update) != 0 ||
	    seccomp_rule_add_array(f, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1, &lock) != 0)
		return -1;
	return 0;
}

static int
add_rules(void *filter, void *arg)
{
	scmp_filter_ctx f = filter;
	static const int fcntl_cmds[] = {F_GETFL, F_SETLK, F_SETLKW};
	/* (designated: SCMP_A0's compound literal leaves fields unnamed, which clang refuses) */
	const struct scmp_arg_cmp no_exec = {
	    .arg = 2, .op = SCMP_CMP_MASKED_EQ, .datum_a = PROT_EXEC, .datum_b = 0};
	const struct scmp_arg_cmp self[2] = {
	    {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)getpid(), .datum_b = 0},
	    {.arg = 2, .op = SCMP_CMP_EQ, .datum_a = SIGABRT, .datum_b = 0}};
	const struct scmp_arg_cmp syslog[2] = {
	    {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = AF_UNIX, .datum_b = 0},
	    {.arg = 1, .op = SCMP_CMP_EQ, .datum_a = SOCK_DGRAM | SOCK_CLOEXEC, .datum_b = 0}};

	(void)arg;
	if (hwg_sandbox_allow(f, allowed, N(allowed)) != 0 || allow_opens(f) != 0)
		return -1;
	/* SoftHSM2 locks its files (fcntl record locks) and asks for their flags */
	for (size_t i = 0; i < N(fcntl_cmds); i++) {
		const struct scmp_arg_cmp cmd = {.arg = 1,
		                                 .op = SCMP_CMP_EQ,
		                                 .datum_a = (scmp_datum_t)fcntl_cmds[i],
		                                 .datum_b = 0};

		if (seccomp_rule_add_array(f, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1, &cmd) != 0)
			return -1;
	}
	/* memory, never executable: everything that runs here was loaded before the filter */
	if (seccomp_rule_add_array(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, &no_exec) != 0 ||
	    seccomp_rule_add_array(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1, &no_exec) != 0)
		return -1;
	/* abort() signals this process itself, so that it ends by SIGABRT, not SIGSYS */
	if (seccomp_rule_add_array(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 2, self) != 0)
		return -1;
	/*
	 * SoftHSM2 logs through syslog(3), whose socket to /dev/log is refused
	 * (EACCES): glibc then drops the line.  Any other socket kills.
	 */
	if (seccomp_rule_add_array(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 2, syslog) != 0)
		return -1;
	return 0;
}

int
hwg_kh_sandbox_enter(struct hwg_error *err)
{
	return hwg_sandbox_install(add_rules, NULL, err);
}
