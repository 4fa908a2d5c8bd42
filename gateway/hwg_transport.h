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

/* Listen on cfg->socket_path (replacing a stale socket, never another file). */
int hwg_unix_start(struct hwg_core *core, const struct hwg_config *cfg, struct hwg_unix **out,
                   struct hwg_error *err);
/* Stop accepting, let each connection finish its request in flight, join, unlink. */
void hwg_unix_stop(struct hwg_unix *u);

/* Serve HTTP on cfg->http_listen:cfg->http_port. */
int hwg_http_start(struct hwg_core *core, const struct hwg_config *cfg, struct hwg_http **out,
                   struct hwg_error *err);
/* The port actually bound (useful when the configuration said 0). */
unsigned hwg_http_port(const struct hwg_http *h);
/* Stop accepting, finish requests in flight, close. */
void hwg_http_stop(struct hwg_http *h);

#endif
