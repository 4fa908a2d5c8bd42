/*
 * hwgw_transport.c — libhwgw's two ways to reach hwgwd: a framed Unix
 * socket exchange and an HTTP POST (libcurl).  Both bound what they
 * accept from the gateway (1 MiB) and how long they wait (30 s).
 */
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hwg_time.h"
#include "hwgw.h"

#define RESPONSE_MAX (1024 * 1024)
#define TIMEOUT_MS 30000

static int
io_full(int fd, uint8_t *p, size_t len, int writing, int64_t deadline)
{
	while (len > 0) {
		struct pollfd pfd = {fd, writing ? POLLOUT : POLLIN, 0};
		int64_t left = deadline - hwg_mono_ms();
		ssize_t n;

		if (left <= 0)
			return HWG_E_IO;
		if (poll(&pfd, 1, (int)left) <= 0) {
			if (errno == EINTR)
				continue;
			return HWG_E_IO;
		}
		n = writing ? send(fd, p, len, MSG_NOSIGNAL) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return HWG_E_IO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
hwgw_send_unix(const char *path, const uint8_t *req, size_t req_len, uint8_t **resp,
	       size_t *resp_len, struct hwg_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int64_t deadline = hwg_mono_ms() + TIMEOUT_MS;
	uint8_t hdr[4] = {(uint8_t)(req_len >> 24), (uint8_t)(req_len >> 16),
			  (uint8_t)(req_len >> 8), (uint8_t)req_len};
	uint8_t *body;
	size_t len;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return hwg_error_set(err, HWG_E_INVALID, "socket path too long");
	if (req_len > UINT32_MAX)
		return hwg_error_set(err, HWG_E_TOO_LARGE, "request too large");
	memcpy(sa.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return hwg_error_set(err, HWG_E_IO, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(fd);
		return hwg_error_set(err, HWG_E_IO, "cannot connect to %s: %s", path, strerror(e));
	}
	if (io_full(fd, hdr, 4, 1, deadline) != 0 ||
	    io_full(fd, (uint8_t *)(uintptr_t)req, req_len, 1, deadline) != 0 ||
	    io_full(fd, hdr, 4, 0, deadline) != 0) {
		close(fd);
		return hwg_error_set(err, HWG_E_IO, "%s: connection closed without a response", path);
	}
	len = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
	if (len > RESPONSE_MAX) {
		close(fd);
		return hwg_error_set(err, HWG_E_BAD_RESPONSE, "response of %zu bytes is too large",
				     len);
	}
	if ((body = malloc(len ? len : 1)) == NULL) {
		close(fd);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	if (io_full(fd, body, len, 0, deadline) != 0) {
		free(body);
		close(fd);
		return hwg_error_set(err, HWG_E_IO, "%s: response cut short", path);
	}
	close(fd);
	*resp = body;
	*resp_len = len;
	return 0;
}

struct sink {
	uint8_t *p;
	size_t len;
	int too_large;
};

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t add = size * n;
	uint8_t *np;

	if (s->len + add > RESPONSE_MAX) {
		s->too_large = 1;
		return 0;
	}
	if ((np = realloc(s->p, s->len + add + 1)) == NULL)
		return 0;
	s->p = np;
	memcpy(s->p + s->len, data, add);
	s->len += add;
	return add;
}

int
hwgw_send_http(const char *base_url, const char *op, const uint8_t *req, size_t req_len,
	       uint8_t **resp, size_t *resp_len, long *http_status, struct hwg_error *err)
{
	struct curl_slist *hdrs = NULL;
	struct sink s = {0};
	char url[1024];
	long status = 0;
	CURLcode cc;
	CURL *c;

	if ((size_t)snprintf(url, sizeof(url), "%s/v1/%s", base_url, op) >= sizeof(url))
		return hwg_error_set(err, HWG_E_INVALID, "URL too long");
	if ((c = curl_easy_init()) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "curl_easy_init failed");
	hdrs = curl_slist_append(hdrs, "Content-Type: application/cose");
	hdrs = curl_slist_append(hdrs, "Accept: application/cose");
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req_len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (http_status != NULL)
		*http_status = status;
	if (cc != CURLE_OK) {
		free(s.p);
		if (s.too_large)
			return hwg_error_set(err, HWG_E_BAD_RESPONSE, "response over %d bytes",
					     RESPONSE_MAX);
		return hwg_error_set(err, HWG_E_IO, "%s: %s", url, curl_easy_strerror(cc));
	}
	if (s.len == 0) {
		free(s.p);
		return hwg_error_set(err, status == 503 ? HWG_E_UNAVAILABLE : HWG_E_IO,
				     "%s: HTTP %ld with no signed response", url, status);
	}
	*resp = s.p;
	*resp_len = s.len;
	return 0;
}
