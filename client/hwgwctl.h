/*
 * hwgwctl.h — what hwgwctl's command files share: the signature of a
 * command, the command table entry, the exit codes and the one way of
 * printing a failure.  main() and the table live in hwgwctl.c; each
 * further group of commands lives in its own file (hwgwctl_admin.c) and
 * adds its entries to that table.
 */
#ifndef HWGWCTL_H
#define HWGWCTL_H

/* Exit codes, the same for every command. */
enum {
	HWGWCTL_EXIT_OK = 0,      /* done */
	HWGWCTL_EXIT_REFUSED = 1, /* the gateway refused, or a check failed */
	HWGWCTL_EXIT_ERROR = 2,   /* usage, key, transport or verification error */
};

/*
 * A command: argv[0] is the command's name, the options follow (parse
 * them with getopt_long; optind starts at 1).  Returns the exit code.
 */
typedef int hwgwctl_cmd_fn(int argc, char **argv);

struct hwgwctl_command {
	const char *name;
	hwgwctl_cmd_fn *run;
	const char *usage;   /* synopsis after "hwgwctl ", may span lines */
	const char *summary; /* one line */
};

/* Print "hwgwctl: <message>" on stderr and return code. */
int hwgwctl_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
