/*
 * hwg_listen.h — the listening sockets of both transports.  The
 * privileged process makes them (or takes the one systemd passed) and
 * keeps them open, so that a restarted net process serves the same
 * sockets and connections made meanwhile wait in the backlog; the net
 * process only accepts on them.  Nothing here reads a client's bytes.
 */
#ifndef HWG_LISTEN_H
#define HWG_LISTEN_H

#include "hwg_config.h"
#include "hwg_err.h"

/*
 * The socket systemd passed for socket activation (LISTEN_PID is ours and
 * LISTEN_FDS=1): descriptor 3, checked to be a listening Unix stream
 * socket bound to cfg->socket_path, whose file has no world bits; *fd = -1
 * when none was passed.  More than one socket, or anything else at
 * descriptor 3, is HWG_E_CONFIG (descriptor closed).  LISTEN_PID,
 * LISTEN_FDS and LISTEN_FDNAMES are unset in every case, so call it
 * before any thread starts.
 */
int hwg_unix_inherit(const struct hwg_config *cfg, int *fd, struct hwg_error *err);
/*
 * The Unix listening socket: passed_fd as it is (from hwg_unix_inherit),
 * or, with -1, a new one on cfg->socket_path (a stale socket replaced,
 * never another file; the caller unlinks the file when done).  Logged as
 * unix.listen.
 */
int hwg_unix_listen(const struct hwg_config *cfg, int passed_fd, int *fd, struct hwg_error *err);
/* A listening TCP socket on cfg->http_listen:cfg->http_port; *port is the port bound. */
int hwg_http_listen(const struct hwg_config *cfg, int *fd, unsigned *port, struct hwg_error *err);
/* The local port a TCP socket is bound to; 0 if it cannot be read. */
unsigned hwg_listen_port(int fd);

#endif
