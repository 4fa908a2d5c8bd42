/*
 * hwg_unix.c — the Unix stream socket transport.
 *
 * Frames are a 4-byte big-endian length and that many bytes, one request
 * then one response, as often as the client likes on one connection.
 * The peer's uid comes from SO_PEERCRED and goes to the core, which
 * checks it against the client's allowed uids and audits it.  One thread
 * per connection, at most max_connections of them; a connection idle for
 * connection_timeout seconds, or slower than that to send one frame, is
 * closed.  Stopping wakes every thread through a pipe; a thread in the
 * middle of a request finishes it and sends the reply first.
 *
 * The listening socket is hwgwd's own (bound at [unix] socket, unlinked
 * at stop) or, under systemd socket activation, the one hwgwd.socket
 * passed as descriptor 3 (LISTEN_PID, LISTEN_FDS; see sd_listen_fds(3),
 * read here without libsystemd).  A passed socket belongs to systemd: it
 * is served as it is and its file is never created, chmod'ed or removed
 * here, so connections made while hwgwd restarts wait in its backlog.
 *
 * The framing itself (the length checked against max_body, the body
 * accumulated) is hwg_frame.c, apart from the socket so that it is fuzzed
 * on its own (fuzz_unix_frame).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hwg_frame.h"
#include "hwg_log.h"
#include "hwg_secret.h"
#include "hwg_time.h"
#include "hwg_transport.h"

struct hwg_unix {
	struct hwg_core *core;
	const struct hwg_config *cfg;
	int listen_fd;
	int inherited;    /* listen_fd came from systemd: its file is not ours */
	int stop_pipe[2]; /* readable once stopping: wakes every poll */
	pthread_t accept_thread;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned active;
	atomic_int stopping;
};

struct conn {
	struct hwg_unix *u;
	int fd;
	int64_t uid;
};

/*
 * Wait until fd is ready for events or the deadline passes.  1 ready,
 * 0 timeout or stop requested, -1 error.  With allow_stop=0 the stop pipe
 * is ignored (a reply in progress is always finished).
 */
static int
wait_fd(struct hwg_unix *u, int fd, short events, int64_t deadline, int allow_stop)
{
	struct pollfd pfd[2] = {{fd, events, 0}, {u->stop_pipe[0], POLLIN, 0}};
	int64_t left;
	int n;

	for (;;) {
		if ((left = deadline - hwg_mono_ms()) <= 0)
			return 0;
		n = poll(pfd, allow_stop ? 2 : 1, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		/* bytes that already arrived are served even when stopping */
		if (pfd[0].revents != 0)
			return 1;
		if (allow_stop && (pfd[1].revents & POLLIN))
			return 0;
	}
}

/* Write exactly len bytes before deadline: 0, or -1 (closed, timeout, error). */
static int
write_full(struct hwg_unix *u, int fd, const uint8_t *p, size_t len, int64_t deadline)
{
	while (len > 0) {
		ssize_t n;

		if (wait_fd(u, fd, POLLOUT, deadline, 0) != 1)
			return -1;
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read one frame into f: 1 complete, -1 closed, timed out, stopped while
 * idle or failed, or a negative HWG_E_* from the framing (err says why).
 * Waiting for a frame's first byte may be cut short by stop; once it
 * started the frame is read whole.  Each part (the header's first byte,
 * the rest of it, the body) gets connection_timeout, and no more than the
 * frame needs is read, so a pipelined next frame stays in the socket.
 */
static int
read_frame(struct hwg_unix *u, int fd, struct hwg_frame_in *f, struct hwg_error *err)
{
	int64_t timeout = (int64_t)u->cfg->connection_timeout_s * 1000;
	int64_t deadline = hwg_mono_ms() + timeout;
	uint8_t chunk[16384];
	int rc = 0;

	while (rc == 0) {
		size_t want = hwg_frame_in_want(f), got = f->header_got, used;
		ssize_t n;

		if (wait_fd(u, fd, POLLIN, deadline, f->header_got == 0) != 1)
			return -1;
		n = read(fd, chunk, want < sizeof(chunk) ? want : sizeof(chunk));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		rc = hwg_frame_in_feed(f, chunk, (size_t)n, &used, err);
		hwg_wipe(chunk, (size_t)n); /* the request may carry a PIN */
		if (got == 0 ||
		    (got < HWG_FRAME_HEADER_LEN && f->header_got == HWG_FRAME_HEADER_LEN))
			deadline = hwg_mono_ms() + timeout;
	}
	return rc;
}

static int
send_reply(struct hwg_unix *u, int fd, const struct hwg_reply *r)
{
	uint8_t hdr[4] = {(uint8_t)(r->len >> 24), (uint8_t)(r->len >> 16), (uint8_t)(r->len >> 8),
	                  (uint8_t)r->len};
	int64_t deadline = hwg_mono_ms() + (int64_t)u->cfg->connection_timeout_s * 1000;

	if (r->body == NULL)
		return -1; /* nothing could be signed: closing is the answer */
	if (write_full(u, fd, hdr, sizeof(hdr), deadline) != 0)
		return -1;
	return write_full(u, fd, r->body, r->len, deadline);
}

/* Serve one frame; 0 to keep the connection, -1 to close it. */
static int
serve_frame(struct conn *cn)
{
	struct hwg_unix *u = cn->u;
	struct hwg_peer peer = {.transport = "unix", .uid = cn->uid};
	struct hwg_reply reply = {0};
	struct hwg_error err = {0};
	struct hwg_frame_in f;
	int rc, keep;

	hwg_frame_in_init(&f, u->cfg->max_body);
	rc = read_frame(u, cn->fd, &f, &err);
	if (rc == HWG_E_TOO_LARGE) {
		if (hwg_core_refuse(u->core, &peer, HWG_E_TOO_LARGE, err.message, &reply) == 0)
			send_reply(u, cn->fd, &reply);
		hwg_reply_clear(&reply);
		return -1; /* the body is not read: the stream is out of step */
	}
	if (rc != 1) {
		hwg_frame_in_reset(&f);
		return -1;
	}
	hwg_core_handle(u->core, &peer, hwg_buf_ptr(f.body), f.len, &reply);
	hwg_frame_in_reset(&f);
	keep = send_reply(u, cn->fd, &reply);
	hwg_reply_clear(&reply);
	return keep;
}

static void *
conn_main(void *arg)
{
	struct conn *cn = arg;
	struct hwg_unix *u = cn->u;

	while (!atomic_load(&u->stopping) && serve_frame(cn) == 0)
		;
	close(cn->fd);
	free(cn);
	pthread_mutex_lock(&u->lock);
	u->active--;
	pthread_cond_broadcast(&u->idle);
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

static void
accept_one(struct hwg_unix *u)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct conn *cn;
	pthread_t t;
	int fd;

	if ((fd = accept4(u->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&u->lock);
	if (u->active >= u->cfg->max_connections) {
		pthread_mutex_unlock(&u->lock);
		hwg_log(HWG_LOG_WARN, "unix.limit", "uid=%u max_connections=%u", cred.uid,
		        u->cfg->max_connections);
		close(fd);
		return;
	}
	u->active++;
	pthread_mutex_unlock(&u->lock);
	if ((cn = malloc(sizeof(*cn))) != NULL) {
		*cn = (struct conn){u, fd, (int64_t)cred.uid};
		if (pthread_create(&t, NULL, conn_main, cn) == 0) {
			pthread_detach(t);
			return;
		}
		free(cn);
	}
	close(fd);
	pthread_mutex_lock(&u->lock);
	u->active--;
	pthread_cond_broadcast(&u->idle);
	pthread_mutex_unlock(&u->lock);
}

static void *
accept_main(void *arg)
{
	struct hwg_unix *u = arg;
	struct pollfd pfd[2] = {{u->listen_fd, POLLIN, 0}, {u->stop_pipe[0], POLLIN, 0}};

	while (!atomic_load(&u->stopping)) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents & POLLIN)
			break;
		if (pfd[0].revents & POLLIN)
			accept_one(u);
	}
	return NULL;
}

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
listen_own(struct hwg_unix *u, const struct hwg_config *cfg)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	strncpy(sa.sun_path, cfg->socket_path, sizeof(sa.sun_path) - 1);
	if ((u->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0 ||
	    bind(u->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	if (chmod(cfg->socket_path, cfg->socket_mode) != 0 || listen(u->listen_fd, 64) != 0) {
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
	struct hwg_unix u = {.listen_fd = -1};
	int rc;

	*fd = -1;
	if (passed_fd >= 0) {
		hwg_log(HWG_LOG_INFO, "unix.listen", "path=%s from=systemd", cfg->socket_path);
		*fd = passed_fd;
		return 0;
	}
	if ((rc = clear_stale(cfg->socket_path, err)) != 0)
		return rc;
	if (listen_own(&u, cfg) != 0) {
		rc = hwg_error_set(err, HWG_E_IO, "cannot listen on %s: %s", cfg->socket_path,
		                   strerror(errno));
		if (u.listen_fd >= 0)
			close(u.listen_fd);
		return rc;
	}
	hwg_log(HWG_LOG_INFO, "unix.listen", "path=%s mode=%04o", cfg->socket_path,
	        cfg->socket_mode);
	*fd = u.listen_fd;
	return 0;
}

int
hwg_unix_start(struct hwg_core *core, const struct hwg_config *cfg, int passed_fd,
               struct hwg_unix **out, struct hwg_error *err)
{
	struct hwg_unix *u;
	int rc;

	if (passed_fd < 0 && (rc = clear_stale(cfg->socket_path, err)) != 0)
		return rc;
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		if (passed_fd >= 0)
			close(passed_fd);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	u->core = core;
	u->cfg = cfg;
	u->listen_fd = passed_fd;
	u->inherited = passed_fd >= 0;
	u->stop_pipe[0] = u->stop_pipe[1] = -1;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->idle, NULL);
	/* the accept thread must never block in accept4 on a connection gone meanwhile */
	if ((u->inherited ? fcntl(u->listen_fd, F_SETFL, fcntl(u->listen_fd, F_GETFL) | O_NONBLOCK)
	                  : listen_own(u, cfg)) != 0 ||
	    pipe2(u->stop_pipe, O_CLOEXEC) != 0) {
		rc = hwg_error_set(err, HWG_E_IO, "cannot listen on %s: %s", cfg->socket_path,
		                   strerror(errno));
		goto fail;
	}
	if (pthread_create(&u->accept_thread, NULL, accept_main, u) != 0) {
		rc = hwg_error_set(err, HWG_E_INTERNAL, "cannot start the accept thread");
		if (!u->inherited)
			unlink(cfg->socket_path);
		goto fail;
	}
	if (u->inherited)
		hwg_log(HWG_LOG_INFO, "unix.serve", "path=%s", cfg->socket_path);
	else
		hwg_log(HWG_LOG_INFO, "unix.listen", "path=%s mode=%04o", cfg->socket_path,
		        cfg->socket_mode);
	*out = u;
	return 0;
fail:
	if (u->listen_fd >= 0)
		close(u->listen_fd);
	if (u->stop_pipe[0] >= 0) {
		close(u->stop_pipe[0]);
		close(u->stop_pipe[1]);
	}
	pthread_mutex_destroy(&u->lock);
	pthread_cond_destroy(&u->idle);
	free(u);
	return rc;
}

void
hwg_unix_stop(struct hwg_unix *u)
{
	if (u == NULL)
		return;
	atomic_store(&u->stopping, 1);
	(void)!write(u->stop_pipe[1], "x", 1);
	pthread_join(u->accept_thread, NULL);
	close(u->listen_fd);
	if (!u->inherited)
		unlink(u->cfg->socket_path);
	pthread_mutex_lock(&u->lock);
	while (u->active > 0)
		pthread_cond_wait(&u->idle, &u->lock);
	pthread_mutex_unlock(&u->lock);
	close(u->stop_pipe[0]);
	close(u->stop_pipe[1]);
	pthread_mutex_destroy(&u->lock);
	pthread_cond_destroy(&u->idle);
	free(u);
}
