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
	pthread_mutex_t lock;
	pthread_cond_t idle;        /* a worker became free */
	struct worker *workers;     /* the pool */
	unsigned n_workers;
	struct worker *idle_top;    /* free workers, the last to finish on top */
	int stopping;
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

/*
 * One thread of the pool.  Free workers stand in a stack and the one
 * that finished last takes the next job, so a load of N clients keeps N
 * threads warm and the others' stacks are never touched (a queue that
 * woke any worker grew the process's memory thread by thread).
 */
struct worker {
	struct hwg_netchild *m;
	pthread_t thread;
	pthread_cond_t wake; /* a job was given, or stopping */
	struct job *job;     /* under m->lock */
	struct worker *next_idle;
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

static void
job_done(struct hwg_netchild *m, struct job *j)
{
	hwg_buf_free(j->body);
	link_unref(m, j->link);
	free(j);
}

/* One of the pool: a job at a time until stopping, finishing the one it has. */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct hwg_netchild *m = w->m;
	struct job *j;

	pthread_mutex_lock(&m->lock);
	for (;;) {
		w->next_idle = m->idle_top;
		m->idle_top = w;
		pthread_cond_signal(&m->idle);
		while (w->job == NULL && !m->stopping)
			pthread_cond_wait(&w->wake, &m->lock);
		if ((j = w->job) == NULL)
			break;
		w->job = NULL;
		pthread_mutex_unlock(&m->lock);
		run_job(j);
		job_done(m, j);
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* Hand a verdict to the free worker on top, waiting for one when all are busy. */
static int
dispatch(struct hwg_netchild *m, struct link *l, uint32_t id, struct hwg_buf *body)
{
	struct job *j = calloc(1, sizeof(*j));
	struct worker *w;

	if (j == NULL)
		return HWG_E_NOMEM;
	*j = (struct job){m, l, id, body};
	pthread_mutex_lock(&m->lock);
	while (m->idle_top == NULL)
		pthread_cond_wait(&m->idle, &m->lock);
	w = m->idle_top;
	m->idle_top = w->next_idle;
	l->refs++;
	w->job = j;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* The pool, started once; HWG_E_INTERNAL when not every worker could be. */
static int
start_workers(struct hwg_netchild *m, unsigned n, struct hwg_error *err)
{
	if ((m->workers = calloc(n, sizeof(*m->workers))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	for (; m->n_workers < n; m->n_workers++) {
		struct worker *w = &m->workers[m->n_workers];

		w->m = m;
		pthread_cond_init(&w->wake, NULL);
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			pthread_cond_destroy(&w->wake);
			return hwg_error_set(err, HWG_E_INTERNAL, "cannot start worker %u of %u",
			                     m->n_workers + 1, n);
		}
	}
	return 0;
}

/* Let each worker finish the job it has, then join them. */
static void
stop_workers(struct hwg_netchild *m)
{
	pthread_mutex_lock(&m->lock);
	m->stopping = 1;
	for (unsigned i = 0; i < m->n_workers; i++)
		pthread_cond_signal(&m->workers[i].wake);
	pthread_mutex_unlock(&m->lock);
	for (unsigned i = 0; i < m->n_workers; i++) {
		pthread_join(m->workers[i].thread, NULL);
		pthread_cond_destroy(&m->workers[i].wake);
	}
	free(m->workers);
	m->workers = NULL;
	m->n_workers = 0;
	m->idle_top = NULL;
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
	pthread_cond_init(&m->idle, NULL);
	if ((rc = start_workers(m, cfg->workers, err)) != 0 || (rc = spawn(m, err)) != 0) {
		stop_workers(m);
		pthread_mutex_destroy(&m->lock);
		pthread_cond_destroy(&m->idle);
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
	stop_workers(m); /* each finishes its request and sends the answer first */
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->idle);
	free(m);
}
