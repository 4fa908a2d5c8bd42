/*
 * hwg_renderer.c — see hwg_renderer.h.  Modelled on the keyholder's
 * client (keyholder/hwg_keyholder.c): fork + exec with the link on
 * descriptor 3, waitpid on its own pid only, signals through a pidfd,
 * replies decoded as strictly as client bytes (hwg_rd_proto.c).  Unlike
 * the keyholder, the renderer is not restarted from the main loop: a
 * request that finds none running starts one, so a renderer that died
 * between two certificates costs the next one a start (about 0.1 s),
 * and a renderer that keeps dying at once is started after the common
 * back-off, which a request waits out when it is shorter than its own
 * timeout.
 */
#include "hwg_renderer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hwg_backoff.h"
#include "hwg_helper.h"
#include "hwg_msg.h"
#include "hwg_rd_proto.h"
#include "hwg_time.h"

#define EXE_NAME "hwgw-renderer"
#define LINK_FD 3
#define STOP_WAIT_MS 5000
#define ARGV_MAX 4

struct hwg_renderer {
	pthread_mutex_t lock; /* everything below; held for a whole request */
	int fd;               /* the link, -1 when none */
	int pidfd;            /* -1 when none (or no pidfd on this kernel) */
	long pid;             /* 0 when none */
	uint32_t next_id;
	struct hwg_backoff backoff;
	int64_t next_spawn_ms;
	int timeout_ms;
	hwg_renderer_end_fn on_end;
	void *on_end_arg;
	char exe[PATH_MAX];
	char *argv[ARGV_MAX];
};

/* ---------------------------------------------------------------- the process */

static int
resolve_exe(struct hwg_renderer *r, const struct hwg_renderer_config *cfg, struct hwg_error *err)
{
	if (cfg->exe == NULL)
		return hwg_helper_path(cfg->libexec_dir, EXE_NAME, r->exe, sizeof(r->exe), err);
	if ((size_t)snprintf(r->exe, sizeof(r->exe), "%s", cfg->exe) >= sizeof(r->exe) ||
	    access(r->exe, X_OK) != 0)
		return hwg_error_set(err, HWG_E_CONFIG, "cannot run the renderer %s: %s", cfg->exe,
		                     strerror(errno));
	return 0;
}

static int
make_argv(struct hwg_renderer *r, const struct hwg_renderer_config *cfg, struct hwg_error *err)
{
	const char *args[ARGV_MAX] = {EXE_NAME};
	size_t n = 1;

	if (cfg->gaiji_table != NULL && cfg->gaiji_table[0] != '\0') {
		args[n++] = "--gaiji-table";
		args[n++] = cfg->gaiji_table;
	}
	for (size_t i = 0; i < n; i++)
		if ((r->argv[i] = strdup(args[i])) == NULL)
			return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	return 0;
}

/*
 * In the child, async-signal-safe calls only: 0 and 1 on /dev/null, the
 * link on 3, 2 left as it is (the gateway's log), every other descriptor
 * closed — the store's, the keyholder's link, the devices', the
 * listening sockets — then exec, which gives a clean address space.
 */
static _Noreturn void
exec_child(const struct hwg_renderer *r, int link_fd, int null_fd)
{
	/* first out of the way of 0-3, then into place (dup2 clears close-on-exec) */
	int link = fcntl(link_fd, F_DUPFD, 16), devnull = fcntl(null_fd, F_DUPFD, 16);

	if (link < 0 || devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 ||
	    dup2(link, LINK_FD) < 0)
		_exit(127);
	if (syscall(SYS_close_range, LINK_FD + 1, ~0u, 0) != 0)
		for (int fd = LINK_FD + 1; fd < 65536; fd++)
			close(fd);
	execv(r->exe, r->argv);
	_exit(127);
}

static void
signal_renderer(struct hwg_renderer *r, int sig)
{
	if (r->pidfd >= 0)
		(void)pidfd_send_signal(r->pidfd, sig, NULL, 0);
	else if (r->pid > 0)
		(void)kill((pid_t)r->pid, sig);
}

/* Wait up to ms for the renderer to end: 1 with *status (-1: reaped elsewhere), 0 not yet. */
static int
wait_end(struct hwg_renderer *r, int64_t ms, int *status)
{
	int64_t deadline = hwg_mono_ms() + ms;
	const struct timespec tick = {0, 5 * 1000 * 1000};
	pid_t w;

	for (;;) {
		if ((w = waitpid((pid_t)r->pid, status, WNOHANG)) == (pid_t)r->pid)
			return 1;
		if (w < 0 && errno == ECHILD) {
			*status = -1;
			return 1;
		}
		if (hwg_mono_ms() >= deadline)
			return 0;
		nanosleep(&tick, NULL);
	}
}

static void
report(struct hwg_renderer *r, long pid, int status, const char *why)
{
	char detail[HWG_RD_MSG_MAX + 128];
	size_t n;

	if (status == -1)
		snprintf(detail, sizeof(detail), "pid=%ld", pid);
	else if (WIFSIGNALED(status))
		snprintf(detail, sizeof(detail), "pid=%ld signal=%d", pid, WTERMSIG(status));
	else
		snprintf(detail, sizeof(detail), "pid=%ld exit=%d", pid, WEXITSTATUS(status));
	n = strlen(detail);
	if (why[0] != '\0')
		snprintf(detail + n, sizeof(detail) - n, " why=%s", why);
	if (r->on_end != NULL) {
		struct hwg_renderer_end e = {pid, status, why, detail};

		r->on_end(r->on_end_arg, &e);
	}
}

/* The process has ended (status -1: reaped elsewhere): report it, set the back-off, forget it. */
static void
forget(struct hwg_renderer *r, int status, const char *why)
{
	int64_t now = hwg_mono_ms();

	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	report(r, r->pid, status, why);
	if (r->pidfd >= 0)
		close(r->pidfd);
	r->pidfd = -1;
	r->pid = 0;
	r->next_spawn_ms = now + hwg_backoff_ended(&r->backoff, now);
}

/* 1 with *status when the renderer has ended (status -1: reaped elsewhere), else 0. */
static int
ended(struct hwg_renderer *r, int *status)
{
	pid_t w = waitpid((pid_t)r->pid, status, WNOHANG);

	if (w < 0 && errno == ECHILD)
		*status = -1;
	return w == (pid_t)r->pid || (w < 0 && errno == ECHILD);
}

/* 1 when the renderer's end of the link is closed: it exited or died. */
static int
peer_gone(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLRDHUP};

	return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

/*
 * The renderer failed a request (why).  One whose end of the link is
 * closed has ended or is ending by itself: it is waited for (and killed
 * only if it lingers); one still there is killed now.  Reaped and
 * forgotten either way; 1 when it had ended by itself (*status says how).
 */
static int
end_renderer(struct hwg_renderer *r, const char *why, int *status)
{
	int self = 0;

	*status = -1;
	if (r->pid <= 0)
		return 0;
	if (ended(r, status) || (peer_gone(r->fd) && wait_end(r, STOP_WAIT_MS, status)))
		self = 1;
	else {
		signal_renderer(r, SIGKILL);
		if (!wait_end(r, STOP_WAIT_MS, status))
			*status = -1; /* cannot happen after SIGKILL; forget it all the same */
	}
	forget(r, *status, why);
	return self;
}

/* Both ways on the link, bounded by the time left (a stopped renderer blocks neither). */
static void
link_timeouts(int fd, int64_t deadline)
{
	int64_t left = deadline - hwg_mono_ms();
	struct timeval tv;

	if (left < 1)
		left = 1;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Wait for READY: 0, or why the renderer did not start (*said: it told us itself). */
static int
await_ready(int fd, int *said, struct hwg_error *err)
{
	char msg[HWG_RD_MSG_MAX + 1];
	int64_t deadline = hwg_mono_ms() + HWG_RENDERER_READY_MS, left;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct hwg_error lerr = {0};
	struct hwg_buf *b = NULL;
	uint32_t id;
	uint8_t type;
	int rc, code;

	*said = 0;
	for (;;) {
		if ((left = deadline - hwg_mono_ms()) <= 0)
			return hwg_error_set(err, HWG_E_RENDER_FAILED,
			                     "the renderer was not ready within %d ms",
			                     HWG_RENDERER_READY_MS);
		if ((rc = poll(&pfd, 1, (int)left)) > 0)
			break;
		if (rc < 0 && errno != EINTR)
			return hwg_error_set(err, HWG_E_IO, "poll: %s", strerror(errno));
	}
	link_timeouts(fd, deadline); /* one that stops inside READY cannot hold the start */
	rc = hwg_msg_recv(fd, HWG_MSG_BIT(HWG_RD_READY), &type, &id, &b, &lerr);
	if (rc == 1)
		return hwg_error_set(err, HWG_E_RENDER_FAILED,
		                     "the renderer ended before it was ready");
	if (rc != 0 || hwg_rd_ready_decode(b, &code, msg, &lerr) != 0) {
		hwg_buf_free(b);
		return hwg_error_set(err, HWG_E_RENDER_FAILED, "the renderer did not start: %s",
		                     lerr.message);
	}
	hwg_buf_free(b);
	if (code != 0) {
		*said = 1;
		return hwg_error_set(err, code, "%s", msg);
	}
	return 0;
}

/* With the lock, none running: start one and wait for READY. */
static int
spawn(struct hwg_renderer *r, struct hwg_error *err)
{
	int sv[2], null_fd, rc, said = 0, status;
	pid_t pid;

	if ((null_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return hwg_error_set(err, HWG_E_IO, "/dev/null: %s", strerror(errno));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		close(null_fd);
		return hwg_error_set(err, HWG_E_IO, "socketpair: %s", strerror(errno));
	}
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		close(null_fd);
		return hwg_error_set(err, HWG_E_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0)
		exec_child(r, sv[1], null_fd);
	close(sv[1]);
	close(null_fd);
	r->pid = pid;
	r->pidfd = pidfd_open(pid, 0); /* close-on-exec always */
	r->fd = sv[0];
	hwg_backoff_started(&r->backoff, hwg_mono_ms());
	if ((rc = await_ready(sv[0], &said, err)) == 0)
		return 0;
	/* one that said why exits by itself; silent, too slow or broke the protocol: ended */
	if (said && wait_end(r, STOP_WAIT_MS, &status))
		forget(r, status, err->message);
	else
		end_renderer(r, err->message, &status);
	return rc;
}

static void
renderer_free(struct hwg_renderer *r)
{
	for (size_t i = 0; i < ARGV_MAX; i++)
		free(r->argv[i]);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int
hwg_renderer_start(const struct hwg_renderer_config *cfg, struct hwg_renderer **out,
                   struct hwg_error *err)
{
	struct hwg_renderer *r = calloc(1, sizeof(*r));
	int rc;

	if (r == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	pthread_mutex_init(&r->lock, NULL);
	r->fd = r->pidfd = -1;
	r->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : HWG_RENDERER_TIMEOUT_MS;
	r->on_end = cfg->on_end;
	r->on_end_arg = cfg->on_end_arg;
	if ((rc = resolve_exe(r, cfg, err)) != 0 || (rc = make_argv(r, cfg, err)) != 0 ||
	    (rc = spawn(r, err)) != 0) {
		renderer_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void
hwg_renderer_stop(struct hwg_renderer *r)
{
	int status;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	if (r->fd >= 0)
		close(r->fd); /* it reads the end of the link and exits 0 */
	r->fd = -1;
	if (r->pid > 0 && !wait_end(r, STOP_WAIT_MS, &status)) {
		signal_renderer(r, SIGKILL);
		wait_end(r, STOP_WAIT_MS, &status);
	}
	if (r->pidfd >= 0)
		close(r->pidfd);
	pthread_mutex_unlock(&r->lock);
	renderer_free(r);
}

long
hwg_renderer_pid(struct hwg_renderer *r)
{
	long pid;

	pthread_mutex_lock(&r->lock);
	pid = r->pid;
	pthread_mutex_unlock(&r->lock);
	return pid;
}

void
hwg_renderer_pdf_clear(struct hwg_renderer_pdf *p)
{
	if (p == NULL)
		return;
	free(p->pdf);
	memset(p, 0, sizeof(*p));
}

/* ---------------------------------------------------------------- a request */

/*
 * With the lock: a renderer running, started now if there is none (or
 * the last one ended since), after its back-off when that is shorter
 * than the request's time; 0 or HWG_E_RENDER_FAILED.
 */
static int
ensure_running(struct hwg_renderer *r, int64_t deadline, struct hwg_error *err)
{
	struct hwg_error lerr = {0};
	int64_t wait;
	int status;

	if (r->pid > 0 && !ended(r, &status))
		return 0;
	if (r->pid > 0) /* ended while idle: forget it, then start anew */
		forget(r, status, "");
	if ((wait = r->next_spawn_ms - hwg_mono_ms()) > 0) {
		if (hwg_mono_ms() + wait >= deadline)
			return hwg_error_set(
			    err, HWG_E_RENDER_FAILED,
			    "the renderer keeps ending; the next starts in %lld ms",
			    (long long)wait);
		struct timespec ts = {wait / 1000, (long)(wait % 1000) * 1000000};

		nanosleep(&ts, NULL);
	}
	if (spawn(r, &lerr) != 0)
		return hwg_error_set(err, HWG_E_RENDER_FAILED, "cannot start the renderer: %s",
		                     lerr.message);
	return 0;
}

/* Wait for the reply's first byte: 0, or why there is none (the renderer to be ended). */
static int
await_reply(struct hwg_renderer *r, int64_t deadline, char *why, size_t why_len)
{
	struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
	int64_t left;
	int rc;

	for (;;) {
		if ((left = deadline - hwg_mono_ms()) <= 0) {
			snprintf(why, why_len, "no answer within %d ms", r->timeout_ms);
			return -1;
		}
		if ((rc = poll(&pfd, 1, (int)left)) > 0)
			return 0;
		if (rc < 0 && errno != EINTR) {
			snprintf(why, why_len, "poll: %s", strerror(errno));
			return -1;
		}
	}
}

/*
 * Send the request, take the reply: 0 with *reply (the renderer's
 * answer, maybe an error), or -1 with why (the link broke, the reply was
 * late or malformed: the renderer is to be ended).
 */
static int
exchange(struct hwg_renderer *r, const uint8_t *request, size_t len, int64_t deadline,
         struct hwg_buf **reply, char *why, size_t why_len)
{
	struct hwg_error lerr = {0};
	struct hwg_buf *b = hwg_buf_from(request, len);
	uint32_t id = ++r->next_id, rid;
	uint8_t type;
	int rc;

	*reply = NULL;
	link_timeouts(r->fd, deadline);
	rc = b != NULL ? hwg_msg_send(r->fd, HWG_RD_RENDER, id, b, &lerr) : HWG_E_NOMEM;
	hwg_buf_free(b);
	if (rc != 0) {
		snprintf(why, why_len, "sending the request: %.200s", lerr.message);
		return -1;
	}
	if (await_reply(r, deadline, why, why_len) != 0)
		return -1;
	link_timeouts(r->fd, deadline);
	rc = hwg_msg_recv(r->fd, HWG_MSG_BIT(HWG_RD_REPLY), &type, &rid, reply, &lerr);
	if (rc == 0 && rid != id)
		snprintf(lerr.message, sizeof(lerr.message), "reply %u to request %u", rid, id);
	if (rc == 1)
		snprintf(lerr.message, sizeof(lerr.message), "it closed the link");
	if (rc != 0 || rid != id) {
		hwg_buf_free(*reply);
		*reply = NULL;
		snprintf(why, why_len, "%s", lerr.message);
		return -1;
	}
	return 0;
}

/* The renderer's reply into out: 0, its refusal, or -1 with why (malformed). */
static int
take_reply(struct hwg_buf *reply, struct hwg_renderer_pdf *out, char *why, size_t why_len,
           struct hwg_error *err)
{
	char msg[HWG_RD_MSG_MAX + 1];
	struct hwg_error lerr = {0};
	const uint8_t *pdf;
	unsigned pages;
	size_t len;
	int code;

	if (hwg_rd_reply_decode(reply, &code, msg, &pdf, &len, &pages, &lerr) != 0) {
		snprintf(why, why_len, "%s", lerr.message);
		return -1;
	}
	if (code != 0)
		return hwg_error_set(err, HWG_E_RENDER_FAILED, "the renderer refused (%s): %s",
		                     hwg_err_code(code), msg);
	if ((out->pdf = malloc(len)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	memcpy(out->pdf, pdf, len);
	out->len = len;
	out->pages = pages;
	return 0;
}

int
hwg_renderer_render(struct hwg_renderer *r, const uint8_t *request, size_t len,
                    struct hwg_renderer_pdf *out, struct hwg_error *err)
{
	struct hwg_renderer_pdf pdf = {0};
	struct hwg_rd_request req;
	struct hwg_error lerr = {0};
	struct hwg_buf *reply = NULL;
	char why[HWG_RD_MSG_MAX + 1] = "";
	int64_t deadline;
	int rc, status;

	/* the same checks as the renderer's: a request it would refuse is not sent */
	if (hwg_rd_request_decode(request, len, &req, &lerr) != 0)
		return hwg_error_set(err, HWG_E_RENDER_FAILED, "%s", lerr.message);
	hwg_rd_request_clear(&req);
	pthread_mutex_lock(&r->lock);
	if ((rc = ensure_running(r, hwg_mono_ms() + r->timeout_ms, err)) == 0) {
		deadline = hwg_mono_ms() + r->timeout_ms; /* a start has its own limit */
		if (exchange(r, request, len, deadline, &reply, why, sizeof(why)) == 0)
			rc = take_reply(reply, &pdf, why, sizeof(why), err);
		else
			rc = -1;
		hwg_buf_free(reply);
		if (rc == -1 && end_renderer(r, why, &status))
			rc =
			    hwg_error_set(err, HWG_E_RENDER_FAILED, "the renderer died (%s%d): %s",
			                  status != -1 && WIFSIGNALED(status) ? "signal " : "exit ",
			                  status == -1          ? -1
			                  : WIFSIGNALED(status) ? WTERMSIG(status)
			                                        : WEXITSTATUS(status),
			                  why);
		else if (rc == -1)
			rc = hwg_error_set(err, HWG_E_RENDER_FAILED,
			                   "the renderer failed: %s; ended it", why);
	}
	pthread_mutex_unlock(&r->lock);
	if (rc == 0)
		*out = pdf;
	return rc;
}
