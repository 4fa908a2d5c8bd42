/*
 * hwg_net.h — the two processes of hwgwd (privilege separation; the
 * diagram is in gateway/README.md).
 *
 * The privileged process (hwg_monitor_*) holds the store, the HSM and
 * the devices, makes the listening sockets, and starts the net process
 * by fork + exec of its own binary with --privsep-net: the internal link
 * on descriptor 3, the Unix listening socket on 4, the HTTP one on 5,
 * nothing else.  The net process (hwg_net_main) runs both transports and
 * every check of a request that needs no state (hwg_core_verify) under
 * a seccomp filter, and hands each verdict over the link; the privileged
 * process executes it and answers with the signed response.
 */
#ifndef HWG_NET_H
#define HWG_NET_H

#include "hwg_config.h"
#include "hwg_core.h"
#include "hwg_err.h"

#define HWG_NET_LINK_FD 3
#define HWG_NET_UNIX_FD 4
#define HWG_NET_HTTP_FD 5

/* The net process, after the configuration is read; returns its exit status. */
int hwg_net_main(const struct hwg_config *cfg);

struct hwg_monitor;

/*
 * Start the net process serving unix_fd and http_fd (-1: none); they
 * stay open here so that a restarted process serves the same sockets.
 */
int hwg_monitor_start(struct hwg_core *core, const struct hwg_config *cfg, const char *config_path,
                      int unix_fd, int http_fd, struct hwg_monitor **out, struct hwg_error *err);
/* After a registry reload: send the net process the new one. */
void hwg_monitor_send_clients(struct hwg_monitor *m);
/*
 * On SIGCHLD and once a second: a net process that ended is audited
 * (gateway.net_restart, its exit status or signal) and replaced.
 */
void hwg_monitor_reap(struct hwg_monitor *m);
/* Stop the net process, wait for the requests in flight; accepts NULL. */
void hwg_monitor_stop(struct hwg_monitor *m);

#endif
