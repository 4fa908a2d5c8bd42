/*
 * hwg_transport.h — the two ways bytes reach hwg_core.
 *
 * Both transports do the same little: bound what a client may send
 * (size, connections, time), learn who the peer is (SO_PEERCRED uid,
 * HTTP origin), hand the bytes to hwg_core_handle and send back what it
 * signed.  Neither looks inside a message.
 */
#ifndef HWG_TRANSPORT_H
#define HWG_TRANSPORT_H

#include "hwg_config.h"
#include "hwg_core.h"
#include "hwg_err.h"

struct hwg_unix;
struct hwg_http;

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
 * The listening socket alone, for a process that serves it elsewhere:
 * passed_fd as it is (from hwg_unix_inherit), or, with -1, a new one on
 * cfg->socket_path as hwg_unix_start would make it (the caller unlinks
 * the file when done).  Logged as unix.listen.
 */
int hwg_unix_listen(const struct hwg_config *cfg, int passed_fd, int *fd, struct hwg_error *err);
/*
 * Serve passed_fd (from hwg_unix_inherit; the transport owns it from now
 * on, even on failure), or with -1 listen on cfg->socket_path (replacing
 * a stale socket, never another file).
 */
int hwg_unix_start(struct hwg_core *core, const struct hwg_config *cfg, int passed_fd,
                   struct hwg_unix **out, struct hwg_error *err);
/*
 * Stop accepting, let each connection finish its request in flight, join;
 * unlink the socket file unless systemd passed it.
 */
void hwg_unix_stop(struct hwg_unix *u);

/*
 * A listening TCP socket on cfg->http_listen:cfg->http_port, for
 * hwg_http_start in another process; *port is the port bound.
 */
int hwg_http_listen(const struct hwg_config *cfg, int *fd, unsigned *port, struct hwg_error *err);
/*
 * Serve HTTP on listen_fd (from hwg_http_listen; the transport owns it
 * from now on), or with -1 on cfg->http_listen:cfg->http_port.
 */
int hwg_http_start(struct hwg_core *core, const struct hwg_config *cfg, int listen_fd,
                   struct hwg_http **out, struct hwg_error *err);
/* The port actually bound (useful when the configuration said 0). */
unsigned hwg_http_port(const struct hwg_http *h);
/* Stop accepting, finish requests in flight, close. */
void hwg_http_stop(struct hwg_http *h);

#endif
