/*
 * sim_control.h — hwsim's control socket: tests insert and pull cards,
 * inject faults and read the APDU log over a Unix stream socket, one
 * command per line, one reply line each ("ok[ data]" or "err message";
 * the protocol is in hw-sim/README.md).  The client side is here too, for
 * `hwsim --send` and for tests.
 */
#ifndef SIM_CONTROL_H
#define SIM_CONTROL_H

#include <stddef.h>

#include "hwg_err.h"
#include "sim_vpcd.h"

#define SIM_CONTROL_CLIENTS 16
#define SIM_CONTROL_LINE 4096

struct sim_control_client {
	int fd; /* -1: free */
	char buf[SIM_CONTROL_LINE];
	size_t have;
	int skipping; /* discarding the rest of a line that was too long */
};

/*
 * Commands of another device family (the vein terminals' "vein ..."): the
 * line, and a reply like sim_control_run's.  NULL means "not mine".
 */
typedef char *(*sim_control_ext_fn)(void *arg, const char *line);

struct sim_control {
	struct sim_slot *slots;
	int n_slots;
	sim_control_ext_fn ext; /* tried first; NULL when hwsim plays cards only */
	void *ext_arg;
	int listen_fd;
	char path[108];
	struct sim_control_client clients[SIM_CONTROL_CLIENTS];
};

int sim_control_open(struct sim_control *c, const char *path, struct sim_slot *slots, int n_slots,
                     struct hwg_error *err);
/* Wait up to timeout_ms for clients and serve whatever arrived. */
void sim_control_poll(struct sim_control *c, int timeout_ms);
/* Close every client and the socket, and remove the socket file. */
void sim_control_close(struct sim_control *c);

/* A reply line (malloc'd; NULL only on ENOMEM), for every family's commands. */
char *sim_control_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run one command line: the reply line without its newline (malloc'd; NULL only on ENOMEM). */
char *sim_control_run(struct sim_slot *slots, int n_slots, const char *line);

/* Client: send cmd to the hwsim listening at path; *reply (malloc'd) is its answer. */
int sim_control_send(const char *path, const char *cmd, char **reply, struct hwg_error *err);

#endif
