/*
 * hwg_netchild.h — the privileged process's side of privilege
 * separation (the diagram is in gateway/README.md): it starts the net
 * process, hwgw-net, by fork + exec with the internal link on descriptor
 * 3, the Unix listening socket on 4, the HTTP one on 5, nothing else;
 * reads each verdict it sends, has it checked again and executed
 * (hwg_core.h), answers with the signed response, and restarts the
 * process when it ends.
 */
#ifndef HWG_NETCHILD_H
#define HWG_NETCHILD_H

#include "hwg_config.h"
#include "hwg_core.h"
#include "hwg_err.h"

struct hwg_netchild;

/*
 * Start the net process serving unix_fd and http_fd (-1: none); they
 * stay open here so that a restarted process serves the same sockets.
 */
int hwg_netchild_start(struct hwg_core *core, const struct hwg_config *cfg, const char *config_path,
                       int unix_fd, int http_fd, struct hwg_netchild **out, struct hwg_error *err);
/* After a registry reload: send the net process the new one. */
void hwg_netchild_send_clients(struct hwg_netchild *m);
/*
 * On SIGCHLD and once a second: a net process that ended is audited
 * (gateway.net_restart, its exit status or signal) and replaced.
 */
void hwg_netchild_reap(struct hwg_netchild *m);
/* Stop the net process, wait for the requests in flight; accepts NULL. */
void hwg_netchild_stop(struct hwg_netchild *m);

#endif
