/*
 * hwgw_transport.c — libhwgw's two ways to reach hwgwd: a framed Unix
 * socket exchange and an HTTP POST (libcurl).  Both carry the same bytes
 * (gateway/api.cddl), bound what they accept from the gateway (1 MiB) and
 * how long each step may take (30 s).  Neither looks inside the bytes:
 * whether they are an answer is hwgw_response_verify's question.
 */
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hwg_time.h"
#include "hwgw.h"

#define RESPONSE_MAX (1024 * 1024)
#define TIMEOUT_MS 30000
#define OP_MAX 64

/* ---------------------------------------------------------------- Unix socket */

#define IO_CLOSED (-1) /* the peer closed the connection */

/*
 * Move exactly len bytes to or from fd, waiting at most until deadline
 * (CLOCK_MONOTONIC ms); only poll waits (MSG_DONTWAIT), so the deadline
 * holds.  0, IO_CLOSED, ETIMEDOUT or another errno.
 */
static int
io_full(int fd, uint8_t *p, size_t len, int writing, int64_t deadline)
{
	while (len > 0) {
		struct pollfd pfd = {.fd = fd, .events = writing ? POLLOUT : POLLIN};
		int64_t left = deadline - hwg_mono_ms();
		ssize_t n;
		int pr;

		if (left <= 0)
			return ETIMEDOUT;
		pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return errno;
		if (pr == 0)
			return ETIMEDOUT;
		n = writing ? send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT)
		            : recv(fd, p, len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return IO_CLOSED;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static const char *
io_text(int e)
{
	if (e == IO_CLOSED)
		return "the gateway closed the connection";
	if (e == ETIMEDOUT)
		return "timed out after 30 s";
	return strerror(e);
}

static int
unix_connect(const char *path, int *out, struct hwg_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	/* A blocking connect waits while the listener's backlog is full: bound it. */
	struct timeval tv = {.tv_sec = TIMEOUT_MS / 1000};
	size_t n = strlen(path);
	int fd, e;

	if (n == 0 || n >= sizeof(sa.sun_path))
		return hwg_error_set(err, HWG_E_INVALID, "socket path must be 1-%zu bytes",
		                     sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, n);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return hwg_error_set(err, HWG_E_IO, "socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
		e = errno;
		close(fd);
		return hwg_error_set(err, HWG_E_IO, "SO_SNDTIMEO: %s", strerror(e));
	}
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno == EINTR)
			continue;
		e = errno;
		close(fd);
		return hwg_error_set(
		    err, e == EAGAIN ? HWG_E_UNAVAILABLE : HWG_E_IO, "cannot connect to %s: %s",
		    path, e == EAGAIN ? "the gateway is not accepting connections" : strerror(e));
	}
	*out = fd;
	return 0;
}

int
hwgw_send_unix(const char *path, const uint8_t *req, size_t req_len, uint8_t **resp,
               size_t *resp_len, struct hwg_error *err)
{
	uint8_t hdr[4];
	uint8_t *body = NULL;
	size_t len;
	int fd = -1, e, rc;

	if (path == NULL || req == NULL || req_len == 0)
		return hwg_error_set(err, HWG_E_INVALID, "a socket path and a request are needed");
	if (req_len > UINT32_MAX)
		return hwg_error_set(err, HWG_E_TOO_LARGE, "request of %zu bytes cannot be framed",
		                     req_len);
	if ((rc = unix_connect(path, &fd, err)) != 0)
		return rc;
	hdr[0] = (uint8_t)(req_len >> 24);
	hdr[1] = (uint8_t)(req_len >> 16);
	hdr[2] = (uint8_t)(req_len >> 8);
	hdr[3] = (uint8_t)req_len;
	if ((e = io_full(fd, hdr, 4, 1, hwg_mono_ms() + TIMEOUT_MS)) != 0 ||
	    (e = io_full(fd, (uint8_t *)req, req_len, 1, hwg_mono_ms() + TIMEOUT_MS)) != 0) {
		rc = hwg_error_set(err, HWG_E_IO, "%s: cannot send the request: %s", path,
		                   io_text(e));
		goto out;
	}
	if ((e = io_full(fd, hdr, 4, 0, hwg_mono_ms() + TIMEOUT_MS)) != 0) {
		rc = hwg_error_set(err, HWG_E_IO, "%s: no response: %s", path, io_text(e));
		goto out;
	}
	len = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
	if (len == 0 || len > RESPONSE_MAX) {
		rc = hwg_error_set(err, HWG_E_BAD_RESPONSE,
		                   "%s: response frame of %zu bytes refused (1 to %d allowed)",
		                   path, len, RESPONSE_MAX);
		goto out;
	}
	if ((body = malloc(len)) == NULL) {
		rc = hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		goto out;
	}
	if ((e = io_full(fd, body, len, 0, hwg_mono_ms() + TIMEOUT_MS)) != 0) {
		rc = hwg_error_set(err, HWG_E_IO, "%s: response of %zu bytes cut short: %s", path,
		                   len, io_text(e));
		goto out;
	}
	*resp = body;
	*resp_len = len;
	body = NULL;
	rc = 0;
out:
	free(body);
	close(fd);
	return rc;
}

/* ---------------------------------------------------------------- HTTP */

struct sink {
	uint8_t *p;
	size_t len, cap;
	int too_large;
};

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t add = size * n;

	if (add > RESPONSE_MAX - s->len) {
		s->too_large = 1;
		return 0;
	}
	if (s->len + add > s->cap) {
		size_t cap = s->cap != 0 ? s->cap : 4096;
		uint8_t *np;

		while (cap < s->len + add)
			cap *= 2;
		if ((np = realloc(s->p, cap)) == NULL)
			return 0;
		s->p = np;
		s->cap = cap;
	}
	memcpy(s->p + s->len, data, add);
	s->len += add;
	return add;
}

/* Operation names go into the URL path: the characters of api.cddl's names only. */
static int
op_ok(const char *op)
{
	size_t n = strlen(op);

	if (n == 0 || n > OP_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((op[i] >= 'A' && op[i] <= 'Z') || (op[i] >= 'a' && op[i] <= 'z') ||
		      (op[i] >= '0' && op[i] <= '9') || op[i] == '.' || op[i] == '_' ||
		      op[i] == '-'))
			return 0;
	return 1;
}

static int
http_setup(CURL *c, const char *url, struct curl_slist *hdrs, const uint8_t *req, size_t req_len,
           struct sink *s, char *errbuf)
{
	return curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	       curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	       curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	       curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
	       curl_easy_setopt(c, CURLOPT_POST, 1L) != CURLE_OK ||
	       curl_easy_setopt(c, CURLOPT_POSTFIELDS, req) != CURLE_OK ||
	       curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req_len) != CURLE_OK ||
	       curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	       curl_easy_setopt(c, CURLOPT_WRITEDATA, s) != CURLE_OK ||
	       curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)RESPONSE_MAX) !=
	           CURLE_OK ||
	       curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)TIMEOUT_MS) != CURLE_OK ||
	       curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS) != CURLE_OK ||
	       curl_easy_setopt(c, CURLOPT_NOPROXY, "*") != CURLE_OK ||
	       curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	       curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
}

int
hwgw_send_http(const char *base_url, const char *op, const uint8_t *req, size_t req_len,
               uint8_t **resp, size_t *resp_len, long *http_status, struct hwg_error *err)
{
	static const char *const headers[] = {"Content-Type: application/cose",
	                                      "Accept: application/cose", "Expect:"};
	char url[1024], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL, *h;
	struct sink s = {0};
	long status = 0;
	size_t blen;
	CURLcode cc;
	CURL *c;

	if (http_status != NULL)
		*http_status = 0;
	if (base_url == NULL || op == NULL || req == NULL || req_len == 0)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "a URL, an operation and a request are needed");
	if (!op_ok(op))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "operation name must be 1-%d of A-Z a-z 0-9 . _ -", OP_MAX);
	for (blen = strlen(base_url); blen > 0 && base_url[blen - 1] == '/'; blen--)
		;
	if (blen > INT32_MAX || (size_t)snprintf(url, sizeof(url), "%.*s/v1/%s", (int)blen,
	                                         base_url, op) >= sizeof(url))
		return hwg_error_set(err, HWG_E_INVALID, "URL too long");
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		if ((h = curl_slist_append(hdrs, headers[i])) == NULL) {
			curl_slist_free_all(hdrs);
			return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		}
		hdrs = h;
	}
	if ((c = curl_easy_init()) == NULL) {
		curl_slist_free_all(hdrs);
		return hwg_error_set(err, HWG_E_NOMEM, "curl_easy_init failed");
	}
	if (http_setup(c, url, hdrs, req, req_len, &s, errbuf) != 0) {
		curl_easy_cleanup(c);
		curl_slist_free_all(hdrs);
		return hwg_error_set(err, HWG_E_INTERNAL, "libcurl refuses a required option");
	}
	cc = curl_easy_perform(c);
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	if (http_status != NULL)
		*http_status = status;
	if (cc == CURLE_FILESIZE_EXCEEDED || (cc == CURLE_WRITE_ERROR && s.too_large)) {
		free(s.p);
		return hwg_error_set(err, HWG_E_BAD_RESPONSE, "%s: response over %d bytes refused",
		                     url, RESPONSE_MAX);
	}
	if (cc != CURLE_OK) {
		free(s.p);
		return hwg_error_set(err, cc == CURLE_OUT_OF_MEMORY ? HWG_E_NOMEM : HWG_E_IO,
		                     "%s: %s", url,
		                     errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
	}
	if (s.len == 0) {
		free(s.p);
		if (status == 503)
			return hwg_error_set(err, HWG_E_UNAVAILABLE,
			                     "%s: HTTP 503 with no signed response (the gateway "
			                     "cannot sign now; retry later)",
			                     url);
		return hwg_error_set(
		    err, HWG_E_IO, "%s: HTTP %ld with no signed response%s", url, status,
		    status >= 300 && status < 400 ? " (redirects are not followed)" : "");
	}
	*resp = s.p;
	*resp_len = s.len;
	return 0;
}
