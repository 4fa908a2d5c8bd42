/*
 * hwg_http.c — the HTTP transport, on libmicrohttpd.
 *
 *   POST    /v1/<operation>  application/cose in, application/cose out
 *   OPTIONS /v1/<operation>  CORS preflight, for allow-listed origins only
 *   GET     /v1/health       unsigned liveness, harmless
 *   GET     /metrics         Prometheus text, harmless
 *
 * Bound to loopback unless the configuration says otherwise.  Every
 * resource a client controls is limited (hwgwd.conf.example, [http]):
 *  - connections: max_connections in all, max_connections_per_peer from
 *    one address, applied by the accept policy (so that each refusal is
 *    counted and logged; libmicrohttpd's own per-IP limit refuses without
 *    saying which limit);
 *  - time: a connection's head must be in within header_timeout and its
 *    body within request_timeout of the request's start (the connection's
 *    accept, or the end of the previous answer on a kept-alive one), as
 *    steadily as the bytes may come: libmicrohttpd's connection_timeout
 *    only cuts a connection that sends nothing at all.  A reaper thread
 *    shuts a late connection's socket down (libmicrohttpd closes it only
 *    after its CLOSED notification, which takes it off our list first,
 *    so the descriptor is never another connection's);
 *  - size: max_body, refused on the Content-Length before the body is
 *    read (no 100 Continue is sent for it).
 * What the headers alone decide is decided at the first call, before any
 * body byte: a repeated Content-Length, Content-Length beside
 * Transfer-Encoding, more than one Origin, an operation in the URL outside
 * [a-z0-9._]{1,48} (URLs are not unescaped: %00 or %2e is outside it)
 * are bad_encoding (400); an Origin not on the allow-list is refused;
 * each is audited and answered with a signed response over zero bytes.
 * The signed response is the body of every answer to a POST; the HTTP
 * status only summarises its error class.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hwg_buf.h"
#include "hwg_listen.h"
#include "hwg_request.h"
#include "hwg_log.h"
#include "hwg_metrics.h"
#include "hwg_text.h"
#include "hwg_time.h"
#include "hwg_transport.h"

/* Where a connection's current request is, for its deadlines. */
enum phase {
	PHASE_HEAD,   /* waiting for the request line and headers: header_timeout */
	PHASE_BODY,   /* headers in, body not yet: request_timeout */
	PHASE_SERVING /* the whole request is in: no deadline here */
};

/* One connection (libmicrohttpd's socket context), on hwg_http's list. */
struct http_conn {
	int fd;
	struct sockaddr_storage addr;
	int64_t start_ms; /* monotonic: the current request's start */
	enum phase phase;
	int cut; /* shut down past a deadline */
	struct http_conn *prev, *next;
};

struct hwg_http {
	struct hwg_front front;
	const struct hwg_config *cfg;
	struct MHD_Daemon *mhd;
	unsigned port;
	pthread_mutex_t lock; /* conns, n_conns, stopping */
	pthread_cond_t wake;  /* the reaper's */
	struct http_conn *conns;
	unsigned n_conns;
	int stopping;
	pthread_t reaper;
};

/* One request's state across the access-handler calls. */
struct http_req {
	struct hwg_buf *body;
	int too_large;      /* a chunked body grew past max_body */
	const char *origin; /* the allowed Origin it came with, or NULL */
	double arrived;     /* hwg_mono_seconds when its head was in */
};

/* Refusals a client can cause at will: logged at most once a second each. */
static struct hwg_log_limit limit_log, timeout_log, mhd_log;

static enum MHD_Result
send_bytes(struct MHD_Connection *conn, unsigned status, const char *type, const void *data,
           size_t len, const char *allow_origin)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	if (type != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow_origin != NULL) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN,
		                        allow_origin);
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Origin");
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
send_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	return send_bytes(conn, status, "text/plain; charset=utf-8", text, strlen(text), NULL);
}

static enum MHD_Result
send_reply(struct MHD_Connection *conn, struct hwg_reply *reply, const char *allow_origin)
{
	enum MHD_Result ret;

	if (reply->body == NULL) /* nothing could be signed */
		return send_bytes(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "", 0, NULL);
	ret = send_bytes(conn, (unsigned)hwg_err_http_status(reply->code), "application/cose",
	                 reply->body, reply->len, allow_origin);
	hwg_reply_clear(reply);
	return ret;
}

static enum MHD_Result
count_origin(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	(void)value;
	*(unsigned *)cls += strcasecmp(key, "Origin") == 0;
	return MHD_YES;
}

/*
 * NULL when there is no Origin; "" when there is one that is not allowed,
 * or more than one (only the first would be looked up).
 */
static const char *
allowed_origin(const struct hwg_config *cfg, struct MHD_Connection *conn)
{
	const char *o = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	unsigned n = 0;

	if (o == NULL)
		return NULL;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_origin, &n);
	if (n > 1)
		return "";
	for (size_t i = 0; i < cfg->n_origins; i++)
		if (strcmp(o, cfg->origins[i]) == 0)
			return cfg->origins[i];
	return "";
}

static int
is_cose(struct MHD_Connection *conn)
{
	const char *t =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen("application/cose");

	return t != NULL && strncasecmp(t, "application/cose", n) == 0 &&
	       (t[n] == '\0' || t[n] == ';' || t[n] == ' ');
}

/* A signed refusal of a request the headers decided (nothing of its body is read). */
static enum MHD_Result refuse(struct hwg_http *h, struct MHD_Connection *conn,
                              const struct hwg_peer *peer, int code, const char *allow_origin,
                              const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static enum MHD_Result
refuse(struct hwg_http *h, struct MHD_Connection *conn, const struct hwg_peer *peer, int code,
       const char *allow_origin, const char *fmt, ...)
{
	struct hwg_reply reply = {0};
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (h->front.refuse(h->front.arg, peer, code, why, &reply) != 0)
		reply.body = NULL;
	return send_reply(conn, &reply, allow_origin);
}

static enum MHD_Result
serve_post(struct hwg_http *h, struct MHD_Connection *conn, const char *op, struct http_req *hr)
{
	struct hwg_peer peer = {.transport = "http", .uid = -1, .url_op = op, .arrived = hr->arrived};
	struct hwg_reply reply = {0};
	enum MHD_Result ret;
	double t;

	if (hr->too_large) /* a chunked body: no length to refuse it by before it came */
		return refuse(h, conn, &peer, HWG_E_TOO_LARGE, hr->origin,
		              "body over the limit of %zu bytes", h->cfg->max_body);
	h->front.handle(h->front.arg, &peer, hwg_buf_ptr(hr->body), hwg_buf_len(hr->body), &reply);
	t = hwg_mono_seconds();
	ret = send_reply(conn, &reply, hr->origin);
	hwg_metrics_stage(h->front.metrics, "http", HWG_STAGE_REPLY, hwg_mono_seconds() - t);
	return ret;
}

static enum MHD_Result
serve_preflight(struct hwg_http *h, struct MHD_Connection *conn)
{
	const char *origin = allowed_origin(h->cfg, conn);
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (origin == NULL || origin[0] == '\0')
		return send_text(conn, MHD_HTTP_FORBIDDEN, "origin not allowed\n");
	if ((r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)) == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, origin);
	MHD_add_response_header(r, "Access-Control-Allow-Methods", "POST");
	MHD_add_response_header(r, "Access-Control-Allow-Headers", "Content-Type");
	MHD_add_response_header(r, "Access-Control-Max-Age", "600");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Origin");
	ret = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
serve_get(struct hwg_http *h, struct MHD_Connection *conn, const char *url)
{
	enum MHD_Result ret;
	char *text;
	size_t len;

	if (strcmp(url, "/v1/health") == 0)
		return send_bytes(conn, MHD_HTTP_OK, "application/json", "{\"status\":\"ok\"}\n",
		                  16, NULL);
	if (strcmp(url, "/metrics") != 0)
		return send_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
	if (h->front.metrics == NULL)
		return send_text(conn, MHD_HTTP_NOT_FOUND, "no metrics\n");
	if (hwg_metrics_render(h->front.metrics, &text, &len) != 0)
		return send_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	ret = send_bytes(conn, MHD_HTTP_OK, "text/plain; version=0.0.4", text, len, NULL);
	free(text);
	return ret;
}

/* ---------------------------------------------------------------- the headers */

struct header_counts {
	unsigned content_length, transfer_encoding, origin;
};

static enum MHD_Result
count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct header_counts *n = cls;

	(void)kind;
	(void)value;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		n->content_length++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		n->transfer_encoding++;
	else if (strcasecmp(key, "Origin") == 0)
		n->origin++;
	return MHD_YES;
}

/* api.cddl's operation names: [a-z0-9._], 1 to HWG_OP_MAX bytes; the URL is not unescaped. */
static int
op_path_valid(const char *op)
{
	size_t n = 0;

	for (const char *p = op; *p != '\0'; p++, n++)
		if (n == HWG_OP_MAX || !((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		                         *p == '.' || *p == '_'))
			return 0;
	return n > 0;
}

/*
 * First call for a POST: everything the headers decide, before any body
 * byte is read (a response queued now makes libmicrohttpd skip the body,
 * send no 100 Continue and close the connection after the answer).
 */
static enum MHD_Result
begin_post(struct hwg_http *h, struct MHD_Connection *conn, const char *op, void **con_cls)
{
	struct hwg_peer peer = {.transport = "http", .uid = -1, .url_op = NULL};
	struct header_counts n = {0};
	const char *origin, *cl;
	unsigned long long len;
	struct http_req *hr;
	char *end;

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &n);
	if (n.content_length > 1) /* RFC 9112 §6.3: the framing is not to be guessed */
		return refuse(h, conn, &peer, HWG_E_BAD_ENCODING, NULL,
		              "Content-Length given %u times", n.content_length);
	if (n.content_length > 0 && n.transfer_encoding > 0) /* RFC 9112 §6.1 */
		return refuse(h, conn, &peer, HWG_E_BAD_ENCODING, NULL,
		              "both Content-Length and Transfer-Encoding");
	if (n.origin > 1) /* each would have to be allowed; a browser sends one */
		return refuse(h, conn, &peer, HWG_E_BAD_ENCODING, NULL, "Origin given %u times",
		              n.origin);
	if (!op_path_valid(op))
		return refuse(h, conn, &peer, HWG_E_BAD_ENCODING, NULL,
		              "the operation in the URL must be 1-%d characters of [a-z0-9._], "
		              "unescaped",
		              HWG_OP_MAX);
	if ((origin = allowed_origin(h->cfg, conn)) != NULL && origin[0] == '\0')
		return refuse(h, conn, &peer, HWG_E_ORIGIN, NULL,
		              "browser origin not in the allow-list");
	if (!is_cose(conn))
		return send_text(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		                 "Content-Type must be application/cose\n");
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL) {
		errno = 0;
		len = strtoull(cl, &end, 10);
		if (errno != 0 || end == cl || len > h->cfg->max_body)
			return refuse(h, conn, &peer, HWG_E_TOO_LARGE, origin,
			              "Content-Length %.24s over the limit of %zu bytes", cl,
			              h->cfg->max_body);
	}
	if ((hr = calloc(1, sizeof(*hr))) == NULL ||
	    (hr->body = hwg_buf_new(h->cfg->max_body)) == NULL) {
		free(hr);
		return MHD_NO;
	}
	hr->origin = origin;
	hr->arrived = hwg_mono_seconds();
	*con_cls = hr;
	return MHD_YES;
}

/* ---------------------------------------------------------------- connections and deadlines */

static struct http_conn *
conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/* The connection's request moves on; restart: a new request starts now. */
static void
set_phase(struct hwg_http *h, struct MHD_Connection *conn, enum phase phase, int restart)
{
	struct http_conn *c = conn_of(conn);

	if (c == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	c->phase = phase;
	if (restart)
		c->start_ms = hwg_mono_ms();
	pthread_mutex_unlock(&h->lock);
}

static int
same_peer(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return 0;
	if (b->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		              &((const struct sockaddr_in *)b)->sin_addr,
		              sizeof(struct in_addr)) == 0;
	if (b->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		              &((const struct sockaddr_in6 *)b)->sin6_addr,
		              sizeof(struct in6_addr)) == 0;
	return 0;
}

static const char *
peer_text(const struct sockaddr *sa, char *out, size_t len)
{
	const void *a = sa->sa_family == AF_INET6
	                    ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
	                    : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    inet_ntop(sa->sa_family, a, out, (socklen_t)len) == NULL)
		snprintf(out, len, "?");
	return out;
}

/*
 * libmicrohttpd's accept policy: over max_connections, or over the
 * peer's share, the connection is closed at once, counted and logged.
 * (Its own limit is set one higher, so that this one decides.)
 */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct hwg_http *h = cls;
	unsigned total, same = 0;
	unsigned long skipped;
	enum hwg_metrics_conn why;
	char peer[INET6_ADDRSTRLEN];

	(void)addrlen;
	pthread_mutex_lock(&h->lock);
	total = h->n_conns;
	for (const struct http_conn *c = h->conns; c != NULL; c = c->next)
		same += same_peer(&c->addr, addr);
	pthread_mutex_unlock(&h->lock);
	if (total < h->cfg->max_connections && same < h->cfg->max_connections_per_peer)
		return MHD_YES;
	why = total >= h->cfg->max_connections ? HWG_METRICS_HTTP_OVER_MAX
	                                       : HWG_METRICS_HTTP_OVER_PEER;
	hwg_metrics_conn(h->front.metrics, why);
	if (hwg_log_limit_pass(&limit_log, &skipped))
		hwg_log(HWG_LOG_WARN, "http.limit",
		        "peer=%s reason=%s connections=%u peer_connections=%u max_connections=%u "
		        "max_connections_per_peer=%u skipped=%lu",
		        peer_text(addr, peer, sizeof(peer)),
		        why == HWG_METRICS_HTTP_OVER_MAX ? "max_connections" : "per_peer", total,
		        same, h->cfg->max_connections, h->cfg->max_connections_per_peer, skipped);
	return MHD_NO;
}

/* Connections on and off the list; a connection that cannot be listed is not served. */
static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
              enum MHD_ConnectionNotificationCode code)
{
	struct hwg_http *h = cls;
	const union MHD_ConnectionInfo *fd, *addr;
	struct http_conn *c = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (c == NULL)
			return;
		pthread_mutex_lock(&h->lock);
		if (c->prev != NULL)
			c->prev->next = c->next;
		else
			h->conns = c->next;
		if (c->next != NULL)
			c->next->prev = c->prev;
		h->n_conns--;
		pthread_mutex_unlock(&h->lock);
		free(c);
		*socket_context = NULL;
		return;
	}
	fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	addr = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (fd == NULL)
		return;
	if (addr == NULL || addr->client_addr == NULL || (c = calloc(1, sizeof(*c))) == NULL) {
		shutdown(fd->connect_fd, SHUT_RDWR); /* no deadline could be kept on it */
		return;
	}
	c->fd = fd->connect_fd;
	memcpy(&c->addr, addr->client_addr,
	       addr->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                                : sizeof(struct sockaddr_in));
	c->start_ms = hwg_mono_ms();
	c->phase = PHASE_HEAD;
	pthread_mutex_lock(&h->lock);
	c->next = h->conns;
	if (h->conns != NULL)
		h->conns->prev = c;
	h->conns = c;
	h->n_conns++;
	pthread_mutex_unlock(&h->lock);
	*socket_context = c;
}

/* With h->lock held: c is past its deadline; its socket is shut down, counted, logged. */
static void
cut(struct hwg_http *h, struct http_conn *c, int64_t now)
{
	int head = c->phase == PHASE_HEAD;
	unsigned long skipped;
	char peer[INET6_ADDRSTRLEN];

	shutdown(c->fd, SHUT_RDWR);
	c->cut = 1;
	hwg_metrics_conn(h->front.metrics,
	                 head ? HWG_METRICS_HTTP_HEAD_TIMEOUT : HWG_METRICS_HTTP_BODY_TIMEOUT);
	if (hwg_log_limit_pass(&timeout_log, &skipped))
		hwg_log(HWG_LOG_WARN, "http.timeout", "peer=%s phase=%s after_ms=%lld skipped=%lu",
		        peer_text((const struct sockaddr *)&c->addr, peer, sizeof(peer)),
		        head ? "head" : "body", (long long)(now - c->start_ms), skipped);
}

/* Cuts each connection whose head or body is late; sleeps until the next deadline. */
static void *
reaper_main(void *arg)
{
	struct hwg_http *h = arg;
	int64_t head_ms = (int64_t)h->cfg->header_timeout_s * 1000;
	int64_t body_ms = (int64_t)h->cfg->request_timeout_s * 1000;

	pthread_mutex_lock(&h->lock);
	while (!h->stopping) {
		int64_t now = hwg_mono_ms(), next = now + 1000;
		struct timespec ts;

		for (struct http_conn *c = h->conns; c != NULL; c = c->next) {
			int64_t due;

			if (c->cut || c->phase == PHASE_SERVING)
				continue;
			due = c->start_ms + (c->phase == PHASE_HEAD ? head_ms : body_ms);
			if (due <= now)
				cut(h, c, now);
			else if (due < next)
				next = due;
		}
		ts.tv_sec = (time_t)(next / 1000);
		ts.tv_nsec = (long)(next % 1000) * 1000000L;
		pthread_cond_timedwait(&h->wake, &h->lock, &ts);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* ---------------------------------------------------------------- requests */

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct hwg_http *h = cls;
	struct http_req *hr = *con_cls;

	(void)version;
	if (hr == NULL)
		set_phase(h, conn, PHASE_BODY, 0); /* the head is in */
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
		return serve_get(h, conn, url);
	if (strncmp(url, "/v1/", 4) != 0)
		return send_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
	if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0)
		return serve_preflight(h, conn);
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return send_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (hr == NULL)
		return begin_post(h, conn, url + 4, con_cls);
	if (*upload_data_size > 0) {
		if (!hr->too_large && hwg_buf_put(hr->body, upload_data, *upload_data_size) != 0) {
			hr->too_large = 1;
			hwg_buf_reset(hr->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	set_phase(h, conn, PHASE_SERVING, 0); /* the whole request is in: running takes its time */
	return serve_post(h, conn, url + 4, hr);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
	struct hwg_http *h = cls;
	struct http_req *hr = *con_cls;

	(void)toe;
	set_phase(h, conn, PHASE_HEAD, 1); /* a kept-alive connection's next request starts now */
	if (hr == NULL)
		return;
	hwg_buf_free(hr->body);
	free(hr);
	*con_cls = NULL;
}

/* URLs are taken as sent: an escape is outside every path served, never a NUL inside one. */
static size_t
no_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return strlen(s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256], safe[256];
	unsigned long skipped;
	size_t n;

	(void)cls;
	/* a client causes most of these (a closed connection, a malformed request) at will */
	if (!hwg_log_limit_pass(&mhd_log, &skipped))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if ((n = strlen(msg)) > 0 && msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	hwg_log(HWG_LOG_WARN, "http.mhd", "msg=\"%s\" skipped=%lu",
	        hwg_text_escape(safe, sizeof(safe), msg, HWG_TEXT_QUOTES | HWG_TEXT_CONTROLS),
	        skipped);
}

/*
 * A connection's memory (its head, read and write buffers; the body
 * goes to our own buffer): 32 KiB, libmicrohttpd's default and the most
 * it takes from malloc.  Above that it maps the pool and unmaps it with
 * every connection, whose TLB flush on every core took half the
 * connection threads' time under load.
 */
#define MHD_POOL_BYTES (32 * 1024)
/*
 * A connection thread's stack: 1 MiB, not the default 8 MiB, so that
 * the C library keeps the stacks of ended threads for the next ones
 * (it keeps 40 MiB of them) instead of unmapping one per connection.
 */
#define MHD_STACK_BYTES (1024 * 1024)

static struct MHD_Daemon *
mhd_start(struct hwg_http *h, unsigned flags, int listen_fd)
{
	const struct hwg_config *cfg = h->cfg;

	return MHD_start_daemon(
	    flags, 0, on_accept, h, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd, MHD_OPTION_CONNECTION_LIMIT,
	    cfg->max_connections + 1, MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MHD_POOL_BYTES, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	    MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, h, MHD_OPTION_THREAD_STACK_SIZE,
	    (size_t)MHD_STACK_BYTES, MHD_OPTION_END);
}

static int
is_ipv6(int fd)
{
	struct sockaddr_storage ss = {0};
	socklen_t len = sizeof(ss);

	return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_INET6;
}

static void
reaper_stop(struct hwg_http *h)
{
	pthread_mutex_lock(&h->lock);
	h->stopping = 1;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->reaper, NULL);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
}

int
hwg_http_start(const struct hwg_front *front, const struct hwg_config *cfg, int listen_fd,
               struct hwg_http **out, struct hwg_error *err)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	                 MHD_USE_ERROR_LOG | MHD_USE_ITC;
	int passed = listen_fd >= 0, rc;
	pthread_condattr_t ca;
	struct hwg_http *h;
	unsigned port;

	if (!passed && (rc = hwg_http_listen(cfg, &listen_fd, &port, err)) != 0)
		return rc;
	if (is_ipv6(listen_fd))
		flags |= MHD_USE_IPv6;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		close(listen_fd);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	h->front = *front;
	h->cfg = cfg;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the deadlines' clock (hwg_mono_ms) */
	pthread_cond_init(&h->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&h->reaper, NULL, reaper_main, h) != 0) {
		pthread_cond_destroy(&h->wake);
		pthread_mutex_destroy(&h->lock);
		free(h);
		close(listen_fd);
		return hwg_error_set(err, HWG_E_INTERNAL, "cannot start the HTTP deadline thread");
	}
	if ((h->mhd = mhd_start(h, flags, listen_fd)) == NULL) {
		reaper_stop(h);
		free(h);
		close(listen_fd);
		return hwg_error_set(err, HWG_E_IO, "cannot serve HTTP on %s port %u",
		                     cfg->http_listen, cfg->http_port);
	}
	h->port = hwg_listen_port(listen_fd);
	if (passed)
		hwg_log(HWG_LOG_INFO, "http.serve",
		        "address=%s port=%u max_connections=%u max_connections_per_peer=%u "
		        "header_timeout=%u request_timeout=%u",
		        cfg->http_listen, h->port, cfg->max_connections,
		        cfg->max_connections_per_peer, cfg->header_timeout_s,
		        cfg->request_timeout_s);
	*out = h;
	return 0;
}

unsigned
hwg_http_port(const struct hwg_http *h)
{
	return h->port;
}

void
hwg_http_stop(struct hwg_http *h)
{
	if (h == NULL)
		return;
	MHD_quiesce_daemon(h->mhd); /* no new connections; in-flight ones finish */
	MHD_stop_daemon(h->mhd);    /* every connection's CLOSED: the list is empty */
	reaper_stop(h);
	free(h);
}
