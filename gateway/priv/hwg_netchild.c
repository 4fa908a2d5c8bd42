/*
 * hwg_netchild.c — the privileged side of the link to the net process
 * (see hwg_netchild.h).  A reader thread hands each verdict to a free
 * worker of a fixed pool ([gateway] workers, started once: no thread is
 * made per request), so that a card or a palm that takes seconds holds
 * one worker and others go on; with every worker busy the reader waits,
 * which holds the net process back.  Workers write their replies under
 * the link's write lock.  A link is reference counted, so a worker
 * finishing after its net process died writes into a closed peer (EPIPE,
 * ignored) and never into its successor.
 */
#include "hwg_netchild.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hwg_backoff.h"
#include "hwg_clients.h"
#include "hwg_helper.h"
#include "hwg_log.h"
#include "hwg_msg.h"
#include "hwg_pool.h"
#include "hwg_verify.h"
#include "hwg_time.h"

/* Restart back-off: common/hwg_backoff.h, the rule the keyholder shares. */

struct link {
	int fd;
	pid_t pid;
	int refs; /* under the monitor's lock */
	pthread_mutex_t write_lock;
};

struct hwg_netchild {
	struct hwg_core *core;
	const struct hwg_config *cfg;
	char exe[PATH_MAX];
	char config_path[PATH_MAX];
	int unix_fd, http_fd;
	pthread_mutex_t lock;       /* the links' reference counts */
	struct hwg_pool *workers;   /* [gateway] workers threads */
	struct link *link;
	pthread_t reader;
	struct hwg_backoff backoff; /* the net process's start and restart delay */
	int64_t next_spawn_ms;      /* no net process: the earliest restart */
};

struct job {
	struct hwg_netchild *m;
	struct link *link;
	uint32_t id;
	struct hwg_buf *body;
};

static void
link_unref(struct hwg_netchild *m, struct link *l)
{
	int last;

	pthread_mutex_lock(&m->lock);
	last = --l->refs == 0;
	pthread_mutex_unlock(&m->lock);
	if (!last)
		return;
	close(l->fd);
	pthread_mutex_destroy(&l->write_lock);
	free(l);
}

static int
link_send(struct link *l, uint8_t type, uint32_t id, const struct hwg_buf *b)
{
	struct hwg_error err = {0};
	int rc;

	pthread_mutex_lock(&l->write_lock);
	rc = hwg_msg_send(l->fd, type, id, b, &err);
	pthread_mutex_unlock(&l->write_lock);
	return rc;
}

static int
send_clients(struct hwg_netchild *m, struct link *l)
{
	struct hwg_buf *b = hwg_buf_new(HWG_MSG_MAX);
	int rc = b == NULL ? HWG_E_NOMEM : hwg_clients_export(hwg_core_clients(m->core), b);

	if (rc == 0)
		rc = link_send(l, HWG_MSG_CLIENTS, 0, b);
	hwg_buf_free(b);
	return rc;
}

/* Bad data from the net process: it is not to be trusted any more. */
static void
peer_fatal(struct link *l, const char *what, const struct hwg_error *err)
{
	hwg_log(HWG_LOG_ERR, "net.killed", "pid=%ld what=%s msg=\"%s\"", (long)l->pid, what,
	        err != NULL ? err->message : "");
	kill(l->pid, SIGKILL);
}

static void
run_job(struct job *j)
{
	struct hwg_error err = {0};
	struct hwg_reply reply = {0};
	struct hwg_peer peer = {0};
	struct hwg_verdict v;
	const uint8_t *msg;
	struct hwg_buf *b;
	double t0, reverify_s;
	size_t len;
	int rc;

	if (hwg_msg_verdict_decode(j->body, &peer, &v, &msg, &len, &err) != 0) {
		peer_fatal(j->link, "verdict", &err);
		hwg_verdict_clear(&v);
		return;
	}
	/* what the net process passed runs only on this process's own checks */
	t0 = hwg_mono_seconds();
	hwg_reverify(j->m->cfg, hwg_core_clients(j->m->core), &peer, msg, len, &v);
	reverify_s = hwg_mono_seconds() - t0;
	rc = hwg_core_execute(j->m->core, &peer, &v, &reply);
	reply.stages.reverify_us = (uint32_t)(reverify_s * 1e6);
	hwg_verdict_clear(&v);
	if ((b = hwg_buf_new(HWG_MSG_MAX)) != NULL && hwg_msg_reply_encode(rc, &reply, b) == 0)
		link_send(j->link, HWG_MSG_REPLY, j->id, b); /* EPIPE: that process is gone */
	hwg_buf_free(b);
	hwg_reply_clear(&reply);
}

/* A job of the pool: one verdict answered. */
static void
job_main(void *arg)
{
	struct job *j = arg;

	run_job(j);
	hwg_buf_free(j->body);
	link_unref(j->m, j->link);
	free(j);
}

/* Hand a verdict to a free worker, waiting for one when all are busy. */
static int
dispatch(struct hwg_netchild *m, struct link *l, uint32_t id, struct hwg_buf *body)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return HWG_E_NOMEM;
	*j = (struct job){m, l, id, body};
	pthread_mutex_lock(&m->lock);
	l->refs++;
	pthread_mutex_unlock(&m->lock);
	if (hwg_pool_run(m->workers, job_main, j) != 0) {
		link_unref(m, l);
		free(j);
		return HWG_E_INTERNAL;
	}
	return 0;
}

static void *
reader_main(void *arg)
{
	struct hwg_netchild *m = arg;
	struct link *l = m->link;
	struct hwg_error err = {0};
	struct hwg_buf *b;
	uint32_t id;
	uint8_t type;
	int rc;

	while ((rc = hwg_msg_recv(l->fd, HWG_MSG_BIT(HWG_MSG_VERDICT), &type, &id, &b, &err)) ==
	       0) {
		if (dispatch(m, l, id, b) != 0) {
			hwg_buf_free(b);
			hwg_log(HWG_LOG_ERR, "net.dispatch", "msg=\"cannot start a worker\"");
		}
	}
	if (rc < 0)
		peer_fatal(l, "receive", &err);
	return NULL;
}

/* Between fork and exec: only async-signal-safe calls. */
static _Noreturn void
exec_child(struct hwg_netchild *m, int link_fd)
{
	char *argv[] = {"hwgw-net", "--config", m->config_path, NULL};
	int src[3] = {link_fd, m->unix_fd, m->http_fd}, tmp[3];

	/* first out of the way of 3..5, then into place (dup2 clears close-on-exec) */
	for (int i = 0; i < 3; i++)
		tmp[i] = src[i] >= 0 ? fcntl(src[i], F_DUPFD, 16) : -1;
	for (int i = 0; i < 3; i++)
		if (tmp[i] >= 0 && dup2(tmp[i], HWG_NET_LINK_FD + i) < 0)
			_exit(127);
	for (int i = 0; i < 3; i++)
		if (tmp[i] < 0)
			close(HWG_NET_LINK_FD + i);
	if (syscall(SYS_close_range, HWG_NET_HTTP_FD + 1, ~0u, 0) != 0)
		for (int fd = HWG_NET_HTTP_FD + 1; fd < 65536; fd++)
			close(fd);
	execv(m->exe, argv);
	_exit(127);
}

static int
spawn(struct hwg_netchild *m, struct hwg_error *err)
{
	struct link *l;
	int sv[2];
	pid_t pid;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		free(l);
		return hwg_error_set(err, HWG_E_IO, "socketpair: %s", strerror(errno));
	}
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		free(l);
		return hwg_error_set(err, HWG_E_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0)
		exec_child(m, sv[1]);
	close(sv[1]);
	l->fd = sv[0];
	l->pid = pid;
	l->refs = 1;
	pthread_mutex_init(&l->write_lock, NULL);
	m->link = l;
	hwg_backoff_started(&m->backoff, hwg_mono_ms());
	hwg_log(HWG_LOG_INFO, "net.start", "pid=%ld", (long)pid);
	if (send_clients(m, l) != 0)
		hwg_log(HWG_LOG_ERR, "net.clients", "pid=%ld msg=\"cannot send the registry\"",
		        (long)pid); /* it dies on the missing registry and is restarted */
	if (pthread_create(&m->reader, NULL, reader_main, m) != 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		link_unref(m, l);
		m->link = NULL;
		return hwg_error_set(err, HWG_E_INTERNAL, "cannot start the link's reader");
	}
	return 0;
}

int
hwg_netchild_start(struct hwg_core *core, const struct hwg_config *cfg, const char *config_path,
                   int unix_fd, int http_fd, struct hwg_netchild **out, struct hwg_error *err)
{
	struct hwg_netchild *m = calloc(1, sizeof(*m));
	int rc;

	if (m == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if ((rc = hwg_helper_path(cfg->libexec_dir, "hwgw-net", m->exe, sizeof(m->exe), err)) !=
	    0) {
		free(m);
		return rc;
	}
	if (realpath(config_path, m->config_path) == NULL) {
		free(m);
		return hwg_error_set(err, HWG_E_CONFIG, "cannot resolve %s: %s", config_path,
		                     strerror(errno));
	}
	m->core = core;
	m->cfg = cfg;
	m->unix_fd = unix_fd;
	m->http_fd = http_fd;
	pthread_mutex_init(&m->lock, NULL);
	if ((rc = hwg_pool_new(cfg->workers, cfg->workers, &m->workers, err)) != 0 ||
	    (rc = spawn(m, err)) != 0) {
		hwg_pool_free(m->workers);
		pthread_mutex_destroy(&m->lock);
		free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void
hwg_netchild_send_clients(struct hwg_netchild *m)
{
	if (m->link != NULL && send_clients(m, m->link) != 0)
		hwg_log(HWG_LOG_ERR, "net.clients", "pid=%ld msg=\"cannot send the registry\"",
		        (long)m->link->pid);
}

static void
audit_end(struct hwg_netchild *m, pid_t pid, int status, int64_t delay_ms)
{
	char detail[128];
	int n;

	if (WIFSIGNALED(status))
		n = snprintf(detail, sizeof(detail), "pid=%ld signal=%d", (long)pid,
		             WTERMSIG(status));
	else
		n = snprintf(detail, sizeof(detail), "pid=%ld exit=%d", (long)pid,
		             WEXITSTATUS(status));
	snprintf(detail + n, sizeof(detail) - (size_t)n, " restart_in_ms=%lld",
	         (long long)delay_ms);
	hwg_log(HWG_LOG_WARN, "net.ended", "%s", detail);
	hwg_core_gateway_event(m->core, "gateway.net_restart", detail);
}

/* The link's reader ends once the dead process's end is closed. */
static void
retire(struct hwg_netchild *m)
{
	pthread_join(m->reader, NULL);
	link_unref(m, m->link);
	m->link = NULL;
}

void
hwg_netchild_reap(struct hwg_netchild *m)
{
	struct hwg_error err = {0};
	int64_t now = hwg_mono_ms(), delay;
	int status;

	if (m->link != NULL) {
		if (waitpid(m->link->pid, &status, WNOHANG) <= 0)
			return;
		delay = hwg_backoff_ended(&m->backoff, now);
		m->next_spawn_ms = now + delay;
		audit_end(m, m->link->pid, status, delay);
		retire(m);
	}
	if (now < m->next_spawn_ms)
		return; /* backing off: the main loop calls again each second */
	if (spawn(m, &err) != 0)
		hwg_log(HWG_LOG_ERR, "net.start", "msg=\"%s\"",
		        err.message); /* again next second */
}

void
hwg_netchild_stop(struct hwg_netchild *m)
{
	if (m == NULL)
		return;
	if (m->link != NULL) {
		kill(m->link->pid, SIGTERM);
		waitpid(m->link->pid, NULL, 0);
		retire(m);
	}
	hwg_pool_free(m->workers); /* each finishes its request and sends the answer first */
	pthread_mutex_destroy(&m->lock);
	free(m);
}
