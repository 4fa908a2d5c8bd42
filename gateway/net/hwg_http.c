/*
 * hwg_http.c — the HTTP transport, on libmicrohttpd.
 *
 *   POST    /v1/<operation>  application/cose in, application/cose out
 *   OPTIONS /v1/<operation>  CORS preflight, for allow-listed origins only
 *   GET     /v1/health       unsigned liveness, harmless
 *   GET     /metrics         Prometheus text, harmless
 *
 * Bound to loopback unless the configuration says otherwise; the number
 * of connections, the idle time and the body size are all limited.  A
 * browser Origin that is not on the allow-list is refused (and audited)
 * before the body is looked at.  The signed response is the body of every
 * answer to a POST; the HTTP status only summarises its error class.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hwg_buf.h"
#include "hwg_listen.h"
#include "hwg_request.h"
#include "hwg_log.h"
#include "hwg_metrics.h"
#include "hwg_transport.h"

struct hwg_http {
	struct hwg_front front;
	const struct hwg_config *cfg;
	struct MHD_Daemon *mhd;
	unsigned port;
};

/* One request's state across the access-handler calls. */
struct http_req {
	struct hwg_buf *body;
	int too_large;
};

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

/* NULL when there is no Origin; "" when there is one that is not allowed. */
static const char *
allowed_origin(const struct hwg_config *cfg, struct MHD_Connection *conn)
{
	const char *o = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");

	if (o == NULL)
		return NULL;
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

static enum MHD_Result
serve_post(struct hwg_http *h, struct MHD_Connection *conn, const char *op, struct http_req *hr)
{
	struct hwg_peer peer = {.transport = "http", .uid = -1, .url_op = op};
	struct hwg_reply reply = {0};
	const char *origin = allowed_origin(h->cfg, conn);

	if (origin != NULL && origin[0] == '\0') {
		if (h->front.refuse(h->front.arg, &peer, HWG_E_ORIGIN,
		                    "browser origin not in the allow-list", &reply) != 0)
			reply.body = NULL;
		return send_reply(conn, &reply, NULL);
	}
	if (!is_cose(conn))
		return send_text(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		                 "Content-Type must be application/cose\n");
	if (hr->too_large) {
		char why[96];

		snprintf(why, sizeof(why), "body over the limit of %zu bytes", h->cfg->max_body);
		if (h->front.refuse(h->front.arg, &peer, HWG_E_TOO_LARGE, why, &reply) != 0)
			reply.body = NULL;
		return send_reply(conn, &reply, origin);
	}
	h->front.handle(h->front.arg, &peer, hwg_buf_ptr(hr->body), hwg_buf_len(hr->body), &reply);
	return send_reply(conn, &reply, origin);
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

/* First call for a request: decide early what can be decided on the headers. */
static enum MHD_Result
begin_request(struct hwg_http *h, struct MHD_Connection *conn, void **con_cls)
{
	struct http_req *hr = calloc(1, sizeof(*hr));
	const char *cl =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (hr == NULL || (hr->body = hwg_buf_new(h->cfg->max_body)) == NULL) {
		free(hr);
		return MHD_NO;
	}
	if (cl != NULL && strtoull(cl, NULL, 10) > h->cfg->max_body)
		hr->too_large = 1;
	*con_cls = hr;
	return MHD_YES;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct hwg_http *h = cls;
	struct http_req *hr = *con_cls;

	(void)version;
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
		return serve_get(h, conn, url);
	if (strncmp(url, "/v1/", 4) != 0 || url[4] == '\0' || strlen(url + 4) > HWG_OP_MAX)
		return send_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
	if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0)
		return serve_preflight(h, conn);
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return send_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (hr == NULL)
		return begin_request(h, conn, con_cls);
	if (*upload_data_size > 0) {
		if (!hr->too_large && hwg_buf_put(hr->body, upload_data, *upload_data_size) != 0) {
			hr->too_large = 1;
			hwg_buf_reset(hr->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	return serve_post(h, conn, url + 4, hr);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
	struct http_req *hr = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (hr == NULL)
		return;
	hwg_buf_free(hr->body);
	free(hr);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	hwg_log(HWG_LOG_WARN, "http.mhd", "msg=\"%s\"", msg);
}

static struct MHD_Daemon *
mhd_start(struct hwg_http *h, unsigned flags, int listen_fd)
{
	const struct hwg_config *cfg = h->cfg;

	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
	                        on_mhd_log, h, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
	                        MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
	                        MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s,
	                        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	                        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
}

static int
is_ipv6(int fd)
{
	struct sockaddr_storage ss = {0};
	socklen_t len = sizeof(ss);

	return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_INET6;
}

int
hwg_http_start(const struct hwg_front *front, const struct hwg_config *cfg, int listen_fd,
               struct hwg_http **out, struct hwg_error *err)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	                 MHD_USE_ERROR_LOG | MHD_USE_ITC;
	int passed = listen_fd >= 0, rc;
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
	if ((h->mhd = mhd_start(h, flags, listen_fd)) == NULL) {
		free(h);
		close(listen_fd);
		return hwg_error_set(err, HWG_E_IO, "cannot serve HTTP on %s port %u",
		                     cfg->http_listen, cfg->http_port);
	}
	h->port = hwg_listen_port(listen_fd);
	if (passed)
		hwg_log(HWG_LOG_INFO, "http.serve", "address=%s port=%u max_connections=%u",
		        cfg->http_listen, h->port, cfg->max_connections);
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
	MHD_stop_daemon(h->mhd);
	free(h);
}
