/*
 * hwg_transport.h — the two ways bytes reach the gateway.
 *
 * Both transports do the same little: bound what a client may send
 * (size, connections, time), learn who the peer is (SO_PEERCRED uid,
 * HTTP origin), hand the bytes to their front (shared/hwg_front.h) and
 * send back what it signed.  Neither looks inside a message, and neither
 * knows the store, the HSM or a device.  The listening sockets are made
 * elsewhere (shared/hwg_listen.h).
 */
#ifndef HWG_TRANSPORT_H
#define HWG_TRANSPORT_H

#include "hwg_config.h"
#include "hwg_err.h"
#include "hwg_front.h"

struct hwg_unix;
struct hwg_http;

/*
 * Serve listen_fd (from hwg_unix_listen; the transport owns it from now
 * on, even on failure), or with -1 make one on cfg->socket_path
 * (hwg_unix_listen) and unlink it at stop.  passed: listen_fd came from
 * systemd, whose file is never removed.  front is copied; NULL serves
 * nothing but the socket (tests of the socket's life alone).
 */
int hwg_unix_start(const struct hwg_front *front, const struct hwg_config *cfg, int listen_fd,
                   struct hwg_unix **out, struct hwg_error *err);
/*
 * Stop accepting, let each connection finish its request in flight, join;
 * unlink the socket file unless systemd passed it.
 */
void hwg_unix_stop(struct hwg_unix *u);

/*
 * Serve HTTP on listen_fd (from hwg_http_listen; the transport owns it
 * from now on), or with -1 on a new socket at cfg->http_listen:http_port.
 */
int hwg_http_start(const struct hwg_front *front, const struct hwg_config *cfg, int listen_fd,
                   struct hwg_http **out, struct hwg_error *err);
/* The port actually bound (useful when the configuration said 0). */
unsigned hwg_http_port(const struct hwg_http *h);
/* Stop accepting, finish requests in flight, close. */
void hwg_http_stop(struct hwg_http *h);

#endif
