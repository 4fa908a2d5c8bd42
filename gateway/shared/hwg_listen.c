/*
 * hwg_listen.c — the listening sockets (see hwg_listen.h).  The Unix
 * socket is hwgwd's own (bound at [unix] socket, a stale one from a crash
 * replaced, its mode set before anyone may connect) or, under systemd
 * socket activation, the one hwgwd.socket passed as descriptor 3
 * (LISTEN_PID, LISTEN_FDS; see sd_listen_fds(3), read here without
 * libsystemd).  A passed socket belongs to systemd: it is served as it is
 * and its file is never created, chmod'ed or removed here.
 */
#include "hwg_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hwg_log.h"

/* A leftover socket from a crash is replaced; a live one or any other file is not. */
static int
clear_stale(const char *path, struct hwg_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, live;

	if (lstat(path, &st) != 0)
		return errno == ENOENT
		           ? 0
		           : hwg_error_set(err, HWG_E_CONFIG, "%s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return hwg_error_set(err, HWG_E_CONFIG, "%s exists and is not a socket", path);
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return hwg_error_set(err, HWG_E_IO, "socket: %s", strerror(errno));
	live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	if (live)
		return hwg_error_set(err, HWG_E_CONFIG, "%s is in use by another process", path);
	unlink(path);
	return 0;
}

/* sd_listen_fds(3): passed descriptors start here. */
#define LISTEN_FDS_START 3

/* A decimal number in 0..INT_MAX, or -1. */
static long
env_number(const char *s)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	return errno != 0 || *end != '\0' || v > INT_MAX ? -1 : v;
}

/* The passed descriptors are for this process only, never for anything it starts. */
static void
listen_env_unset(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

/* Is fd a listening Unix stream socket bound to a path?  That path to path (len bytes). */
static int
passed_socket_path(int fd, char *path, size_t len, struct hwg_error *err)
{
	struct sockaddr_un sa;
	socklen_t sl = sizeof(sa), il = sizeof(int);
	size_t off = offsetof(struct sockaddr_un, sun_path), n;
	int type = 0, listening = 0;

	memset(&sa, 0, sizeof(sa));
	if (fcntl(fd, F_GETFD) < 0)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "systemd passed LISTEN_FDS=1 but descriptor 3 is not open");
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &il) != 0 || type != SOCK_STREAM ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0 || sl < off ||
	    sa.sun_family != AF_UNIX)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "descriptor 3 from systemd is not a Unix stream socket "
		                     "(hwgwd.socket needs ListenStream=/path)");
	il = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &il) != 0 || !listening)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "the Unix socket from systemd is not listening (Accept=no "
		                     "in hwgwd.socket)");
	n = (size_t)sl - off;
	if (n == 0 || sa.sun_path[0] == '\0')
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "the Unix socket from systemd has no path (abstract or "
		                     "unnamed sockets are not served)");
	if (n > sizeof(sa.sun_path))
		n = sizeof(sa.sun_path);
	if (n >= len)
		n = len - 1;
	memcpy(path, sa.sun_path, n);
	path[n] = '\0';
	return 0;
}

/* The passed socket must be the configured one, its file without world bits as [unix] mode. */
static int
passed_socket_check(const struct hwg_config *cfg, const char *path, struct hwg_error *err)
{
	struct stat st;

	if (cfg->socket_path == NULL || cfg->socket_path[0] == '\0')
		return hwg_error_set(
		    err, HWG_E_CONFIG,
		    "systemd passed the socket %s but [unix] socket is empty: set it "
		    "to that path",
		    path);
	if (strcmp(path, cfg->socket_path) != 0)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "systemd passed the socket %s but [unix] socket is %s: make "
		                     "them the same (ListenStream= in hwgwd.socket)",
		                     path, cfg->socket_path);
	if (stat(path, &st) != 0)
		return hwg_error_set(err, HWG_E_CONFIG, "socket %s from systemd: %s", path,
		                     strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return hwg_error_set(err, HWG_E_CONFIG, "%s from systemd is not a socket", path);
	if ((st.st_mode & 07) != 0)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "socket %s from systemd has mode %04o; world bits are refused "
		                     "(SocketMode= in hwgwd.socket)",
		                     path, (unsigned)(st.st_mode & 07777));
	return 0;
}

int
hwg_unix_inherit(const struct hwg_config *cfg, int *fd, struct hwg_error *err)
{
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path) + 1];
	long pid = env_number(getenv("LISTEN_PID"));
	long n = env_number(getenv("LISTEN_FDS"));
	const char *raw = getenv("LISTEN_FDS");
	int rc;

	*fd = -1;
	if (raw == NULL || pid != (long)getpid()) {
		listen_env_unset(); /* absent, or meant for another process */
		return 0;
	}
	if (n < 0) {
		rc = hwg_error_set(err, HWG_E_CONFIG, "LISTEN_FDS=\"%.20s\" is not a count", raw);
		listen_env_unset();
		return rc;
	}
	listen_env_unset();
	if (n == 0)
		return 0;
	if (n > 1)
		return hwg_error_set(err, HWG_E_CONFIG,
		                     "systemd passed %ld sockets; hwgwd takes one, the Unix socket "
		                     "(one ListenStream= in hwgwd.socket)",
		                     n);
	if ((rc = passed_socket_path(LISTEN_FDS_START, path, sizeof(path), err)) != 0 ||
	    (rc = passed_socket_check(cfg, path, err)) != 0 ||
	    fcntl(LISTEN_FDS_START, F_SETFD, FD_CLOEXEC) != 0) {
		if (rc == 0)
			rc = hwg_error_set(err, HWG_E_IO, "descriptor 3: %s", strerror(errno));
		close(LISTEN_FDS_START);
		return rc;
	}
	*fd = LISTEN_FDS_START;
	return 0;
}

/* Our own socket at [unix] socket: a stale one replaced, mode set before anyone may connect. */
static int
listen_own(int *fd, const struct hwg_config *cfg)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	strncpy(sa.sun_path, cfg->socket_path, sizeof(sa.sun_path) - 1);
	if ((*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0 ||
	    bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	if (chmod(cfg->socket_path, cfg->socket_mode) != 0 || listen(*fd, 64) != 0) {
		int e = errno;

		unlink(cfg->socket_path); /* bound by us a moment ago */
		errno = e;
		return -1;
	}
	return 0;
}

int
hwg_unix_listen(const struct hwg_config *cfg, int passed_fd, int *fd, struct hwg_error *err)
{
	int rc;

	*fd = -1;
	if (passed_fd >= 0) {
		hwg_log(HWG_LOG_INFO, "unix.listen", "path=%s from=systemd", cfg->socket_path);
		*fd = passed_fd;
		return 0;
	}
	if ((rc = clear_stale(cfg->socket_path, err)) != 0)
		return rc;
	if (listen_own(fd, cfg) != 0) {
		rc = hwg_error_set(err, HWG_E_IO, "cannot listen on %s: %s", cfg->socket_path,
		                   strerror(errno));
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return rc;
	}
	hwg_log(HWG_LOG_INFO, "unix.listen", "path=%s mode=%04o", cfg->socket_path,
	        cfg->socket_mode);
	return 0;
}

static int
listen_addr(const struct hwg_config *cfg, struct sockaddr_storage *ss, socklen_t *len,
            struct hwg_error *err)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, cfg->http_listen, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)cfg->http_port);
		*len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, cfg->http_listen, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)cfg->http_port);
		*len = sizeof(*s6);
	} else {
		return hwg_error_set(err, HWG_E_CONFIG, "bad listen address %s", cfg->http_listen);
	}
	return 0;
}

unsigned
hwg_listen_port(int fd)
{
	struct sockaddr_storage ss = {0};
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int
hwg_http_listen(const struct hwg_config *cfg, int *fd, unsigned *port, struct hwg_error *err)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int s, one = 1, rc;

	*fd = -1;
	if ((rc = listen_addr(cfg, &ss, &len, err)) != 0)
		return rc;
	if ((s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(s, (struct sockaddr *)&ss, len) != 0 || listen(s, 64) != 0) {
		rc = hwg_error_set(err, HWG_E_IO, "cannot listen on %s port %u: %s",
		                   cfg->http_listen, cfg->http_port, strerror(errno));
		if (s >= 0)
			close(s);
		return rc;
	}
	*port = hwg_listen_port(s);
	hwg_log(HWG_LOG_INFO, "http.listen", "address=%s port=%u max_connections=%u",
	        cfg->http_listen, *port, cfg->max_connections);
	*fd = s;
	return 0;
}
