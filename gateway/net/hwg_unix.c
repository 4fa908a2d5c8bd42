/*
 * hwg_unix.c — the Unix stream socket transport.
 *
 * Frames are a 4-byte big-endian length and that many bytes, one request
 * then one response, as often as the client likes on one connection.
 * The peer's uid comes from SO_PEERCRED and goes to the front, whose
 * checks check it against the client's allowed uids and audit it.  A
 * connection is served by a thread of a pool (hwg_pool.h: one is not made
 * per connection), at most max_connections of them and
 * max_connections_per_uid of one uid's (a connection over either is
 * closed at once, counted in the metrics and logged at most once a
 * second).  A connection idle for connection_timeout seconds is closed;
 * so is one whose frame, from its first byte, has not its 4-byte length
 * within header_timeout or its last byte within request_timeout, however
 * steadily the bytes come.  Stopping wakes every thread through a pipe; a
 * thread in the middle of a request finishes it and sends the reply
 * first.
 *
 * The listening socket comes from the privileged process (its own, or
 * the one systemd passed: shared/hwg_listen.c) and its file is never
 * removed here; only a socket this transport made itself (listen_fd -1,
 * tests) is unlinked at stop.
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
#include "hwg_listen.h"
#include "hwg_log.h"
#include "hwg_metrics.h"
#include "hwg_pool.h"
#include "hwg_secret.h"
#include "hwg_time.h"
#include "hwg_transport.h"

struct hwg_unix {
	struct hwg_front front; /* handle NULL: no front (a socket served for its life alone) */
	const struct hwg_config *cfg;
	int listen_fd;
	int inherited;    /* listen_fd came from systemd: its file is not ours */
	int stop_pipe[2]; /* readable once stopping: wakes every poll */
	pthread_t accept_thread;
	struct hwg_pool *threads; /* max_connections, one a connection */
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned active;
	struct conn *conns; /* the active ones, for the per-uid limit */
	atomic_int stopping;
};

struct conn {
	struct hwg_unix *u;
	int fd;
	int64_t uid;
	struct conn *prev, *next;
};

/* Refusals a client can cause at will: logged at most once a second each. */
static struct hwg_log_limit limit_log, timeout_log;

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

/* A frame past its deadline: counted, logged at most once a second. */
static void
frame_late(struct hwg_unix *u, int64_t uid, int head, int64_t after_ms)
{
	unsigned long skipped;

	hwg_metrics_conn(u->front.metrics,
	                 head ? HWG_METRICS_UNIX_HEAD_TIMEOUT : HWG_METRICS_UNIX_BODY_TIMEOUT);
	if (hwg_log_limit_pass(&timeout_log, &skipped))
		hwg_log(HWG_LOG_WARN, "unix.timeout", "uid=%lld phase=%s after_ms=%lld skipped=%lu",
		        (long long)uid, head ? "head" : "body", (long long)after_ms, skipped);
}

/*
 * Read one frame into f: 1 complete, -1 closed, timed out, stopped while
 * idle or failed, or a negative HWG_E_* from the framing (err says why).
 * Waiting for a frame's first byte may be cut short by stop, and lasts
 * connection_timeout; once it came, the frame is read whole, its header
 * by header_timeout and its last byte by request_timeout from that first
 * byte.  No more than the frame needs is read, so a pipelined next frame
 * stays in the socket.
 */
static int
read_frame(struct hwg_unix *u, int fd, int64_t uid, struct hwg_frame_in *f, double *arrived,
           struct hwg_error *err)
{
	int64_t start = -1, deadline = hwg_mono_ms() + (int64_t)u->cfg->connection_timeout_s * 1000;
	int64_t head_ms = (int64_t)u->cfg->header_timeout_s * 1000;
	int64_t body_ms = (int64_t)u->cfg->request_timeout_s * 1000;
	uint8_t chunk[16384];
	int rc = 0;

	while (rc == 0) {
		size_t want = hwg_frame_in_want(f), got = f->header_got, used;
		ssize_t n;

		if (start >= 0)
			deadline =
			    start + (f->header_got < HWG_FRAME_HEADER_LEN ? head_ms : body_ms);
		if ((n = wait_fd(u, fd, POLLIN, deadline, f->header_got == 0)) != 1) {
			if (n == 0 && start >= 0 && !atomic_load(&u->stopping))
				frame_late(u, uid, f->header_got < HWG_FRAME_HEADER_LEN,
				           hwg_mono_ms() - start);
			return -1;
		}
		n = read(fd, chunk, want < sizeof(chunk) ? want : sizeof(chunk));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		if (got == 0 && start < 0) {
			start = hwg_mono_ms(); /* the frame's first byte */
			*arrived = hwg_mono_seconds();
		}
		rc = hwg_frame_in_feed(f, chunk, (size_t)n, &used, err);
		hwg_wipe(chunk, (size_t)n); /* the request may carry a PIN */
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
	double t;
	int rc, keep;

	if (u->front.handle == NULL)
		return -1;
	hwg_frame_in_init(&f, u->cfg->max_body);
	rc = read_frame(u, cn->fd, cn->uid, &f, &peer.arrived, &err);
	if (rc == HWG_E_TOO_LARGE) {
		if (u->front.refuse(u->front.arg, &peer, HWG_E_TOO_LARGE, err.message, &reply) == 0)
			send_reply(u, cn->fd, &reply);
		hwg_reply_clear(&reply);
		return -1; /* the body is not read: the stream is out of step */
	}
	if (rc != 1) {
		hwg_frame_in_reset(&f);
		return -1;
	}
	u->front.handle(u->front.arg, &peer, hwg_buf_ptr(f.body), f.len, &reply);
	hwg_frame_in_reset(&f);
	t = hwg_mono_seconds();
	keep = send_reply(u, cn->fd, &reply);
	hwg_metrics_stage(u->front.metrics, "unix", HWG_STAGE_REPLY, hwg_mono_seconds() - t);
	hwg_reply_clear(&reply);
	return keep;
}

/* With u->lock held. */
static void
conn_unlist(struct hwg_unix *u, struct conn *cn)
{
	if (cn->prev != NULL)
		cn->prev->next = cn->next;
	else
		u->conns = cn->next;
	if (cn->next != NULL)
		cn->next->prev = cn->prev;
	u->active--;
}

/*
 * With u->lock held: cn is listed if there is room for it (under
 * max_connections, and under max_connections_per_uid for its uid); else
 * it is counted and logged, and 0 returned.
 */
static int
conn_list(struct hwg_unix *u, struct conn *cn)
{
	unsigned same = 0;
	unsigned long skipped;
	enum hwg_metrics_conn why;

	for (const struct conn *c = u->conns; c != NULL; c = c->next)
		same += c->uid == cn->uid;
	if (u->active < u->cfg->max_connections && same < u->cfg->max_connections_per_uid) {
		cn->prev = NULL;
		cn->next = u->conns;
		if (u->conns != NULL)
			u->conns->prev = cn;
		u->conns = cn;
		u->active++;
		return 1;
	}
	why = u->active >= u->cfg->max_connections ? HWG_METRICS_UNIX_OVER_MAX
	                                           : HWG_METRICS_UNIX_OVER_UID;
	hwg_metrics_conn(u->front.metrics, why);
	if (hwg_log_limit_pass(&limit_log, &skipped))
		hwg_log(HWG_LOG_WARN, "unix.limit",
		        "uid=%lld reason=%s connections=%u uid_connections=%u max_connections=%u "
		        "max_connections_per_uid=%u skipped=%lu",
		        (long long)cn->uid,
		        why == HWG_METRICS_UNIX_OVER_MAX ? "max_connections" : "per_uid", u->active,
		        same, u->cfg->max_connections, u->cfg->max_connections_per_uid, skipped);
	return 0;
}

static void
conn_end(struct conn *cn)
{
	struct hwg_unix *u = cn->u;

	close(cn->fd);
	pthread_mutex_lock(&u->lock);
	conn_unlist(u, cn);
	pthread_cond_broadcast(&u->idle);
	pthread_mutex_unlock(&u->lock);
	free(cn);
}

/* A job of the pool: one connection, frame after frame. */
static void
conn_main(void *arg)
{
	struct conn *cn = arg;

	while (!atomic_load(&cn->u->stopping) && serve_frame(cn) == 0)
		;
	conn_end(cn);
}

static void
accept_one(struct hwg_unix *u)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct conn *cn;
	int fd;

	if ((fd = accept4(u->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
	    (cn = calloc(1, sizeof(*cn))) == NULL) {
		close(fd);
		return;
	}
	*cn = (struct conn){.u = u, .fd = fd, .uid = (int64_t)cred.uid};
	pthread_mutex_lock(&u->lock);
	if (!conn_list(u, cn)) {
		pthread_mutex_unlock(&u->lock);
		close(fd);
		free(cn);
		return;
	}
	pthread_mutex_unlock(&u->lock);
	if (hwg_pool_run(u->threads, conn_main, cn) != 0)
		conn_end(cn);
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

int
hwg_unix_start(const struct hwg_front *front, const struct hwg_config *cfg, int listen_fd,
               struct hwg_unix **out, struct hwg_error *err)
{
	int inherited = listen_fd >= 0, rc;
	struct hwg_unix *u;

	if (!inherited && (rc = hwg_unix_listen(cfg, -1, &listen_fd, err)) != 0)
		return rc;
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		close(listen_fd);
		if (!inherited)
			unlink(cfg->socket_path);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	if (front != NULL)
		u->front = *front;
	u->cfg = cfg;
	u->listen_fd = listen_fd;
	u->inherited = inherited;
	u->stop_pipe[0] = u->stop_pipe[1] = -1;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->idle, NULL);
	/* the accept thread must never block in accept4 on a connection gone meanwhile */
	if (fcntl(u->listen_fd, F_SETFL, fcntl(u->listen_fd, F_GETFL) | O_NONBLOCK) != 0 ||
	    pipe2(u->stop_pipe, O_CLOEXEC) != 0) {
		rc = hwg_error_set(err, HWG_E_IO, "cannot listen on %s: %s", cfg->socket_path,
		                   strerror(errno));
		goto fail;
	}
	if ((rc = hwg_pool_new(cfg->max_connections, 0, &u->threads, err)) != 0)
		goto fail;
	if (pthread_create(&u->accept_thread, NULL, accept_main, u) != 0) {
		rc = hwg_error_set(err, HWG_E_INTERNAL, "cannot start the accept thread");
		goto fail;
	}
	if (u->inherited)
		hwg_log(HWG_LOG_INFO, "unix.serve", "path=%s", cfg->socket_path);
	*out = u;
	return 0;
fail:
	close(u->listen_fd);
	if (!u->inherited)
		unlink(cfg->socket_path);
	if (u->stop_pipe[0] >= 0) {
		close(u->stop_pipe[0]);
		close(u->stop_pipe[1]);
	}
	hwg_pool_free(u->threads);
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
	hwg_pool_free(u->threads);
	close(u->stop_pipe[0]);
	close(u->stop_pipe[1]);
	pthread_mutex_destroy(&u->lock);
	pthread_cond_destroy(&u->idle);
	free(u);
}
