/*
 * hwg_keyholder.c — see hwg_keyholder.h.  Modelled on priv/hwg_netchild.c's
 * handling of the net process: fork + exec with the link on descriptor 3
 * and every other descriptor above 2 closed, waitpid on its own pid only,
 * the same restart back-off (hwg_backoff.h).  The keyholder runs a
 * vendor's module, so its replies are decoded as strictly as client
 * bytes (hwg_kh_proto.c), and one that breaks the protocol is killed.
 * Signals go through a pidfd, so a keyholder reaped meanwhile never
 * turns into another process that happens to get its pid.
 */
#include "hwg_keyholder.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/x509.h>
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
#include "hwg_cose.h"
#include "hwg_helper.h"
#include "hwg_kh_proto.h"
#include "hwg_msg.h"
#include "hwg_secret.h"
#include "hwg_time.h"

#define EXE_NAME "hwgw-keyholder"
#define LINK_FD 3
#define STOP_WAIT_MS 5000
#define INFO_MAX 1024
#define ARGV_MAX 20

/*
 * A request waiting for its turn on the link.  Requests that arrive while
 * another thread is on the link queue up; that thread (the flusher) then
 * sends them together and reads their replies in order, so that a busy
 * gateway wakes the keyholder once for many signatures instead of once
 * for each (the keyholder still answers them one by one, in order).
 */
struct job {
	uint8_t type;
	const struct hwg_buf *body;
	struct hwg_buf *reply; /* the flusher's result: the reply, or NULL with rc */
	int rc;                /* 0, HWG_E_TOO_LARGE, HWG_E_IO, HWG_E_BAD_ENCODING */
	struct hwg_error err;
	int fd; /* the link it went over: what a failure ends, if it is still the one */
	int done;
	struct job *next;
};
#define BATCH_MAX 32 /* requests sent before their replies are read (replies are small) */

struct hwg_keyholder {
	/*
	 * The lock guards fd, the queue and next_id; it is not held on the
	 * link (the flusher works on its own copy of fd, which a link lost
	 * meanwhile only shuts down: the flusher closes it).  pid and pidfd
	 * change only in the main thread (start, reap, stop), under the lock,
	 * and are read by requests under it.
	 */
	pthread_mutex_t lock;
	pthread_cond_t done;       /* a batch was answered, or the flusher left */
	struct job *queue, **tail; /* requests not sent yet */
	int flushing;              /* a thread is on the link */
	int orphan_fd; /* a link lost while the flusher used it: the flusher closes it */
	int fd;        /* the link, -1 when none */
	int pidfd;     /* the keyholder, -1 when none (or no pidfd on this kernel) */
	long pid;      /* the keyholder, 0 when none */
	uint32_t next_id;
	char why[HWG_KH_TEXT_MAX + 1]; /* why the privileged side ended it, for the report */
	struct hwg_backoff backoff;
	int64_t next_spawn_ms;
	int halted; /* the token refused the PIN: no more keyholders */
	hwg_keyholder_end_fn on_end;
	void *on_end_arg;
	char exe[PATH_MAX];
	char *argv[ARGV_MAX];
	int alg;                                  /* the response key's */
	struct hwg_keyholder_key response, audit; /* what the first keyholder found */
	int have_seal;                            /* and whether it found a seal key, */
	struct hwg_keyholder_key seal;            /* this one */
};

/* ---------------------------------------------------------------- the link */

/*
 * Take the reply to request id: 0, HWG_E_IO (the link is gone) or
 * HWG_E_BAD_ENCODING (the reply is not one, or not to id).
 */
static int
exchange_reply(int fd, uint32_t id, struct hwg_buf **reply, struct hwg_error *err)
{
	uint32_t rid;
	uint8_t rtype;
	int rc;

	*reply = NULL;
	rc = hwg_msg_recv(fd, HWG_MSG_BIT(HWG_KH_REPLY), &rtype, &rid, reply, err);
	if (rc == 1)
		return hwg_error_set(err, HWG_E_IO, "it closed the link");
	if (rc == HWG_E_IO)
		return rc;
	if (rc == 0 && rid != id) {
		hwg_buf_free(*reply);
		*reply = NULL;
		return hwg_error_set(err, HWG_E_BAD_ENCODING, "reply %u to request %u", rid, id);
	}
	return rc == 0 ? 0 : HWG_E_BAD_ENCODING;
}

/*
 * Send a request and take its reply: 0, HWG_E_TOO_LARGE (not sent),
 * HWG_E_IO (the link is gone) or HWG_E_BAD_ENCODING (the reply is not one).
 */
static int
exchange(int fd, uint32_t id, uint8_t type, const struct hwg_buf *body, struct hwg_buf **reply,
         struct hwg_error *err)
{
	int rc;

	*reply = NULL;
	if ((rc = hwg_msg_send(fd, type, id, body, err)) != 0)
		return rc == HWG_E_TOO_LARGE ? rc : HWG_E_IO;
	return exchange_reply(fd, id, reply, err);
}

static void
signal_keyholder(struct hwg_keyholder *k, int sig)
{
	if (k->pidfd >= 0)
		(void)pidfd_send_signal(k->pidfd, sig, NULL, 0);
	else if (k->pid > 0)
		(void)kill((pid_t)k->pid, sig);
}

/* With the lock: the link is unusable; reap will wait for the process. */
static void
link_lost(struct hwg_keyholder *k)
{
	if (k->fd >= 0 && k->flushing) {
		shutdown(k->fd, SHUT_RDWR); /* the flusher's read ends; it closes the fd */
		k->orphan_fd = k->fd;
	} else if (k->fd >= 0) {
		close(k->fd);
	}
	k->fd = -1;
}

/* With the lock: the keyholder broke the protocol and is not to be trusted. */
static void
peer_fatal(struct hwg_keyholder *k, const char *what)
{
	snprintf(k->why, sizeof(k->why), "%s", what);
	signal_keyholder(k, SIGKILL);
	link_lost(k);
}

/*
 * Without the lock: send the batch, then read its replies in order.  A
 * link that fails fails the rest of the batch with the same code.
 */
static void
send_batch(int fd, struct job *batch, uint32_t first_id)
{
	struct job *j;
	uint32_t id = first_id;
	int rc = 0;

	for (j = batch; j != NULL; j = j->next, id++)
		if ((j->rc = rc != 0 ? rc : hwg_msg_send(fd, j->type, id, j->body, &j->err)) != 0 &&
		    j->rc != HWG_E_TOO_LARGE)  /* too large: refused before sending, no reply */
			rc = j->rc = HWG_E_IO; /* the link is gone for the rest */
	id = first_id;
	for (j = batch; j != NULL; j = j->next, id++)
		if (j->rc == 0 && (j->rc = exchange_reply(fd, id, &j->reply, &j->err)) != 0)
			break; /* out of step: the rest cannot be read */
	for (; j != NULL; j = j->next)
		if (j->rc == 0)
			j->rc = hwg_error_set(&j->err, HWG_E_IO, "an earlier reply was lost");
}

/* With the lock, as the flusher: send what is queued until nothing is. */
static void
flush(struct hwg_keyholder *k)
{
	struct job *batch, *j;
	uint32_t first;
	int fd, n;

	k->flushing = 1;
	while (k->queue != NULL) {
		batch = k->queue;
		for (j = batch, n = 1; j->next != NULL && n < BATCH_MAX; j = j->next, n++)
			;
		k->queue = j->next;
		if (k->queue == NULL)
			k->tail = &k->queue;
		j->next = NULL;
		fd = k->fd;
		first = k->next_id + 1;
		if (first == 0)
			first = 1;
		k->next_id = first + (uint32_t)n - 1;
		if (fd < 0) {
			for (j = batch; j != NULL; j = j->next)
				j->rc = hwg_error_set(&j->err, HWG_E_IO, "the link is gone");
		} else {
			pthread_mutex_unlock(&k->lock);
			send_batch(fd, batch, first);
			pthread_mutex_lock(&k->lock);
			if (k->orphan_fd == fd) {
				close(fd);
				k->orphan_fd = -1;
			}
		}
		for (j = batch; j != NULL; j = j->next)
			j->fd = fd;
		for (j = batch; j != NULL; j = j->next)
			j->done = 1;
		pthread_cond_broadcast(&k->done);
	}
	k->flushing = 0;
	pthread_cond_broadcast(&k->done);
}

/*
 * One request: on success the result (exactly want bytes, or at most cap
 * when want is 0) in out and *out_len.  The keyholder's refusals come back
 * as its code and message; a dead or misbehaving keyholder is HWG_E_HSM.
 */
static int
request(struct hwg_keyholder *k, uint8_t type, const struct hwg_buf *body, size_t want,
        uint8_t *out, size_t cap, size_t *out_len, struct hwg_error *err)
{
	char msg[HWG_KH_TEXT_MAX + 1];
	struct hwg_error lerr = {0};
	struct job job = {.type = type, .body = body, .fd = -1};
	const uint8_t *res;
	size_t res_len;
	int rc, code, same;

	pthread_mutex_lock(&k->lock);
	if (k->fd < 0) {
		rc = k->halted;
		pthread_mutex_unlock(&k->lock);
		if (rc)
			return hwg_error_set(
			    err, HWG_E_HSM,
			    "the keyholder is not restarted: the token refused the "
			    "PIN (fix the PIN file, then restart hwgwd)");
		return hwg_error_set(err, HWG_E_HSM,
		                     "the keyholder is not running (it ended; hwgwd restarts it)");
	}
	*k->tail = &job;
	k->tail = &job.next;
	while (!job.done) {
		if (!k->flushing)
			flush(k);
		else
			pthread_cond_wait(&k->done, &k->lock);
	}
	rc = job.rc;
	same = job.fd >= 0 && job.fd == k->fd; /* not a link started since */
	if (rc == HWG_E_TOO_LARGE) {
		rc = hwg_error_set(err, rc, "%s", job.err.message);
	} else if (rc == HWG_E_IO) {
		if (same)
			link_lost(k);
		rc = hwg_error_set(err, HWG_E_HSM, "the keyholder ended: %s", job.err.message);
	} else if (rc != 0 ||
	           hwg_kh_reply_decode(job.reply, &code, msg, &res, &res_len, &lerr) != 0) {
		if (same)
			peer_fatal(k, "malformed reply");
		rc =
		    hwg_error_set(err, HWG_E_HSM, "the keyholder broke the protocol (%s); ended it",
		                  rc != 0 ? job.err.message : lerr.message);
	} else if (code != 0) {
		rc = hwg_error_set(err, code, "%s", msg);
	} else if (want != 0 ? res_len != want : res_len > cap) {
		if (same)
			peer_fatal(k, "result of the wrong length");
		rc = hwg_error_set(
		    err, HWG_E_HSM,
		    "the keyholder answered %zu bytes to a request of type %u; ended it", res_len,
		    type);
	} else {
		memcpy(out, res, res_len);
		if (out_len != NULL)
			*out_len = res_len;
	}
	pthread_mutex_unlock(&k->lock);
	hwg_buf_free(job.reply);
	return rc;
}

/* ---------------------------------------------------------------- starting */

/* The keyholder to run: the one named (tests), else where hwgwd's helpers are (hwg_helper.h). */
static int
resolve_exe(struct hwg_keyholder *k, const char *exe, struct hwg_error *err)
{
	if (exe == NULL)
		return hwg_helper_path(NULL, EXE_NAME, k->exe, sizeof(k->exe), err);
	snprintf(k->exe, sizeof(k->exe), "%s", exe);
	if (access(k->exe, X_OK) != 0)
		return hwg_error_set(err, HWG_E_CONFIG, "cannot run the keyholder %s: %s", k->exe,
		                     strerror(errno));
	return 0;
}

static int
make_argv(struct hwg_keyholder *k, const struct hwg_keyholder_config *cfg, struct hwg_error *err)
{
	const char *const opts[][2] = {
	    {"--module", cfg->module_path},  {"--token", cfg->token_label},
	    {"--pin-file", cfg->pin_file},   {"--response-key", cfg->response_key},
	    {"--audit-key", cfg->audit_key}, {"--template-key", cfg->template_key},
	    {"--seal-key", cfg->seal_key},
	};
	const char *args[ARGV_MAX] = {EXE_NAME};
	size_t n = 1, n_opts = sizeof(opts) / sizeof(opts[0]), first_optional = 5;
	char signers[16];

	for (size_t i = 0; i < n_opts; i++) {
		if (opts[i][1] == NULL || opts[i][1][0] == '\0') {
			if (i >= first_optional)
				continue; /* no template key: no palm-vein operations; no seal key:
				             no certificates */
			return hwg_error_set(err, HWG_E_CONFIG, "the keyholder needs %s",
			                     opts[i][0]);
		}
		args[n++] = opts[i][0];
		args[n++] = opts[i][1];
	}
	if (cfg->signers > 1) {
		snprintf(signers, sizeof(signers), "%u", cfg->signers);
		args[n++] = "--signers";
		args[n++] = signers;
	}
	for (size_t i = 0; i < n; i++)
		if ((k->argv[i] = strdup(args[i])) == NULL)
			return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	return 0;
}

/* Between fork and exec: only async-signal-safe calls. */
static _Noreturn void
exec_child(struct hwg_keyholder *k, int link_fd)
{
	/* first out of the way of 3, then into place (dup2 clears close-on-exec) */
	int tmp = fcntl(link_fd, F_DUPFD, 16);

	if (tmp < 0 || dup2(tmp, LINK_FD) < 0)
		_exit(127);
	if (syscall(SYS_close_range, LINK_FD + 1, ~0u, 0) != 0)
		for (int fd = LINK_FD + 1; fd < 65536; fd++)
			close(fd);
	execv(k->exe, k->argv);
	_exit(127);
}

/*
 * Wait for READY: 0, or why the keyholder did not start.  *said is 1
 * when it said why itself (it then exits by itself).
 */
static int
await_ready(int fd, int *said, struct hwg_error *err)
{
	char msg[HWG_KH_TEXT_MAX + 1];
	int64_t deadline = hwg_mono_ms() + HWG_KEYHOLDER_READY_MS, left;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct hwg_error lerr = {0};
	struct hwg_buf *b = NULL;
	uint32_t id;
	uint8_t type;
	int rc, code;

	*said = 0;
	for (;;) {
		if ((left = deadline - hwg_mono_ms()) <= 0)
			return hwg_error_set(err, HWG_E_HSM,
			                     "the keyholder was not ready within %d ms",
			                     HWG_KEYHOLDER_READY_MS);
		if ((rc = poll(&pfd, 1, (int)left)) > 0)
			break;
		if (rc < 0 && errno != EINTR)
			return hwg_error_set(err, HWG_E_IO, "poll: %s", strerror(errno));
	}
	rc = hwg_msg_recv(fd, HWG_MSG_BIT(HWG_KH_READY), &type, &id, &b, &lerr);
	if (rc == 1)
		return hwg_error_set(err, HWG_E_HSM, "the keyholder ended before it was ready");
	if (rc != 0 || hwg_kh_ready_decode(b, &code, msg, &lerr) != 0) {
		hwg_buf_free(b);
		return hwg_error_set(err, HWG_E_HSM, "the keyholder did not start: %s",
		                     lerr.message);
	}
	hwg_buf_free(b);
	if (code != 0) {
		*said = 1;
		return hwg_error_set(err, code, "%s", msg);
	}
	return 0;
}

static int
same_key(const struct hwg_keyholder_key *a, const struct hwg_keyholder_key *b)
{
	return a->alg == b->alg && a->spki_len == b->spki_len &&
	       memcmp(a->spki, b->spki, a->spki_len) == 0;
}

/* The new keyholder's INFO: the keys, which must be the first one's. */
static int
check_keys(struct hwg_keyholder *k, int fd, int first, struct hwg_error *err)
{
	struct hwg_keyholder_info in;
	struct hwg_error lerr = {0};
	struct hwg_buf *reply = NULL;
	char msg[HWG_KH_TEXT_MAX + 1];
	const uint8_t *res;
	size_t res_len;
	struct hwg_buf *r;
	int rc, code;

	if ((rc = exchange(fd, 0, HWG_KH_INFO, NULL, &reply, &lerr)) != 0 ||
	    (rc = hwg_kh_reply_decode(reply, &code, msg, &res, &res_len, &lerr)) != 0) {
		hwg_buf_free(reply);
		return hwg_error_set(err, HWG_E_HSM, "the keyholder's first INFO: %s",
		                     lerr.message);
	}
	if (code != 0) {
		hwg_buf_free(reply);
		return hwg_error_set(err, code, "%s", msg);
	}
	r = hwg_buf_from(res, res_len);
	rc = r != NULL ? hwg_kh_info_decode(r, &in, &lerr) : HWG_E_NOMEM;
	hwg_buf_free(r);
	hwg_buf_free(reply);
	if (rc != 0)
		return hwg_error_set(err, HWG_E_HSM, "the keyholder's first INFO: %s",
		                     lerr.message);
	if (first) {
		k->response = in.response;
		k->audit = in.audit;
		k->alg = in.response.alg;
		k->have_seal = in.seal_key;
		k->seal = in.seal;
	} else if (!same_key(&in.response, &k->response) || !same_key(&in.audit, &k->audit) ||
	           in.seal_key != k->have_seal || (in.seal_key && !same_key(&in.seal, &k->seal))) {
		return hwg_error_set(
		    err, HWG_E_HSM,
		    "its keys are not those found at start (replaced in the token?)");
	}
	return 0;
}

/*
 * Start a keyholder.  Once forked, its pid is kept (reap waits for it and
 * reports its end) whether or not it becomes ready; the link only when it
 * did.  *forked tells the caller whether there is a process to wait for.
 */
static int
spawn(struct hwg_keyholder *k, int first, int *forked, struct hwg_error *err)
{
	int sv[2], pidfd, rc, said = 0;
	pid_t pid;

	*forked = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return hwg_error_set(err, HWG_E_IO, "socketpair: %s", strerror(errno));
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		return hwg_error_set(err, HWG_E_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0)
		exec_child(k, sv[1]);
	close(sv[1]);
	*forked = 1;
	pidfd = pidfd_open(pid, 0); /* close-on-exec always */
	pthread_mutex_lock(&k->lock);
	k->pid = pid;
	k->pidfd = pidfd;
	k->why[0] = '\0';
	pthread_mutex_unlock(&k->lock);
	hwg_backoff_started(&k->backoff, hwg_mono_ms());
	if ((rc = await_ready(sv[0], &said, err)) == 0 &&
	    (rc = check_keys(k, sv[0], first, err)) == 0) {
		pthread_mutex_lock(&k->lock);
		k->fd = sv[0];
		pthread_mutex_unlock(&k->lock);
		return 0;
	}
	pthread_mutex_lock(&k->lock);
	snprintf(k->why, sizeof(k->why), "%s", err->message);
	if (!said) /* silent, too slow, broke the protocol or has other keys */
		signal_keyholder(k, SIGKILL);
	pthread_mutex_unlock(&k->lock);
	close(sv[0]); /* after the signal: it would exit 0 on the link's end */
	return rc;
}

/* With the process ended (or reaped by someone else): forget it. */
static void
forget(struct hwg_keyholder *k, char why[HWG_KH_TEXT_MAX + 1])
{
	pthread_mutex_lock(&k->lock);
	link_lost(k);
	if (k->pidfd >= 0)
		close(k->pidfd);
	k->pidfd = -1;
	k->pid = 0;
	memcpy(why, k->why, sizeof(k->why));
	k->why[0] = '\0';
	pthread_mutex_unlock(&k->lock);
}

static void
report(struct hwg_keyholder *k, long pid, int status, int64_t delay, const char *why)
{
	char detail[HWG_KH_TEXT_MAX + 128];
	size_t n;

	if (status == -1)
		snprintf(detail, sizeof(detail), "pid=%ld", pid); /* reaped by someone else */
	else if (WIFSIGNALED(status))
		snprintf(detail, sizeof(detail), "pid=%ld signal=%d", pid, WTERMSIG(status));
	else
		snprintf(detail, sizeof(detail), "pid=%ld exit=%d", pid, WEXITSTATUS(status));
	n = strlen(detail);
	snprintf(detail + n, sizeof(detail) - n, " restart_in_ms=%lld%s%s", (long long)delay,
	         why[0] != '\0' ? " why=" : "", why);
	if (k->on_end != NULL) {
		struct hwg_keyholder_end e = {pid, status, delay, why, detail};

		k->on_end(k->on_end_arg, &e);
	}
}

static void
keyholder_free(struct hwg_keyholder *k)
{
	for (size_t i = 0; i < ARGV_MAX; i++)
		free(k->argv[i]);
	pthread_cond_destroy(&k->done);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

/* Wait up to ms for the keyholder to end: 1 with *status, 0 still running. */
static int
wait_end(struct hwg_keyholder *k, int64_t ms, int *status)
{
	int64_t deadline = hwg_mono_ms() + ms;
	const struct timespec tick = {0, 10 * 1000 * 1000};
	pid_t r;

	for (;;) {
		if ((r = waitpid((pid_t)k->pid, status, WNOHANG)) == (pid_t)k->pid)
			return 1;
		if (r < 0 && errno == ECHILD) {
			*status = -1;
			return 1;
		}
		if (hwg_mono_ms() >= deadline)
			return 0;
		nanosleep(&tick, NULL);
	}
}

int
hwg_keyholder_start(const struct hwg_keyholder_config *cfg, hwg_keyholder_end_fn on_end, void *arg,
                    struct hwg_keyholder **out, struct hwg_error *err)
{
	struct hwg_keyholder *k = calloc(1, sizeof(*k));
	char why[HWG_KH_TEXT_MAX + 1];
	int forked = 0, status, rc;

	if (k == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->done, NULL);
	k->tail = &k->queue;
	k->fd = k->pidfd = k->orphan_fd = -1;
	k->on_end = on_end;
	k->on_end_arg = arg;
	if ((rc = resolve_exe(k, cfg->exe, err)) != 0 || (rc = make_argv(k, cfg, err)) != 0 ||
	    (rc = spawn(k, 1, &forked, err)) != 0) {
		if (forked && !wait_end(k, STOP_WAIT_MS, &status)) {
			signal_keyholder(k, SIGKILL);
			wait_end(k, STOP_WAIT_MS, &status);
		}
		if (forked)
			forget(k, why);
		keyholder_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

void
hwg_keyholder_reap(struct hwg_keyholder *k)
{
	char why[HWG_KH_TEXT_MAX + 1];
	struct hwg_error err = {0};
	int64_t now, delay;
	int status = 0, forked;
	long pid = k->pid;
	pid_t r;

	if (pid > 0) {
		if ((r = waitpid((pid_t)pid, &status, WNOHANG)) == 0)
			return; /* still running */
		if (r < 0 && errno != ECHILD)
			return; /* EINTR: next time */
		if (r < 0)
			status = -1;
		forget(k, why);
		now = hwg_mono_ms();
		delay = hwg_backoff_ended(&k->backoff, now);
		k->next_spawn_ms = now + delay;
		if (status != -1 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == HWG_KH_EXIT_PIN_REFUSED) {
			pthread_mutex_lock(&k->lock);
			k->halted = 1;
			pthread_mutex_unlock(&k->lock);
			delay = -1;
		}
		report(k, pid, status, delay, why);
	}
	if (k->halted || hwg_mono_ms() < k->next_spawn_ms)
		return; /* backing off: the main loop calls again each second */
	if (spawn(k, 0, &forked, &err) != 0 && !forked)
		k->next_spawn_ms =
		    hwg_mono_ms() + HWG_BACKOFF_FIRST_MS; /* no process: next second */
}

void
hwg_keyholder_stop(struct hwg_keyholder *k)
{
	struct timespec until;
	char why[HWG_KH_TEXT_MAX + 1];
	int status;

	if (k == NULL)
		return;
	/* no request holds the lock on the link; a timed lock all the same, as stop must end */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STOP_WAIT_MS / 1000;
	if (pthread_mutex_timedlock(&k->lock, &until) != 0) {
		signal_keyholder(k, SIGKILL);
		pthread_mutex_lock(&k->lock);
	}
	link_lost(k); /* it reads the end of the link and exits 0 */
	pthread_mutex_unlock(&k->lock);
	if (k->pid > 0) {
		if (!wait_end(k, STOP_WAIT_MS, &status)) {
			signal_keyholder(k, SIGKILL);
			wait_end(k, STOP_WAIT_MS, &status);
		}
		forget(k, why);
	}
	keyholder_free(k);
}

long
hwg_keyholder_pid(struct hwg_keyholder *k)
{
	long pid;

	pthread_mutex_lock(&k->lock);
	pid = k->pid;
	pthread_mutex_unlock(&k->lock);
	return pid;
}

/* ---------------------------------------------------------------- requests */

int
hwg_keyholder_info(struct hwg_keyholder *k, struct hwg_keyholder_info *out, struct hwg_error *err)
{
	struct hwg_keyholder_info in;
	struct hwg_error lerr = {0};
	uint8_t res[INFO_MAX];
	struct hwg_buf *r;
	size_t len = 0;
	int rc;

	if ((rc = request(k, HWG_KH_INFO, NULL, 0, res, sizeof(res), &len, err)) != 0)
		return rc;
	if ((r = hwg_buf_from(res, len)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	rc = hwg_kh_info_decode(r, &in, &lerr);
	hwg_buf_free(r);
	if (rc != 0) {
		pthread_mutex_lock(&k->lock);
		peer_fatal(k, "malformed INFO");
		pthread_mutex_unlock(&k->lock);
		return hwg_error_set(err, HWG_E_HSM, "%s; ended it", lerr.message);
	}
	*out = in;
	return 0;
}

EVP_PKEY *
hwg_keyholder_key_public(const struct hwg_keyholder_key *key)
{
	const uint8_t *p = key->spki;
	EVP_PKEY *pk;

	if (key->spki_len == 0 || key->spki_len > sizeof(key->spki))
		return NULL;
	pk = d2i_PUBKEY(NULL, &p, (long)key->spki_len);
	if (pk != NULL &&
	    (p != key->spki + key->spki_len || hwg_cose_alg_for_key(pk) != key->alg)) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	return pk;
}

int
hwg_keyholder_response_alg(struct hwg_keyholder *k)
{
	return k->alg;
}

void
hwg_keyholder_keys(struct hwg_keyholder *k, struct hwg_keyholder_key *response,
                   struct hwg_keyholder_key *audit)
{
	/* set by the first keyholder and never changed: a restart with other keys is killed */
	pthread_mutex_lock(&k->lock);
	*response = k->response;
	*audit = k->audit;
	pthread_mutex_unlock(&k->lock);
}

int
hwg_keyholder_seal_key(struct hwg_keyholder *k, struct hwg_keyholder_key *seal)
{
	int have;

	pthread_mutex_lock(&k->lock);
	if ((have = k->have_seal) != 0)
		*seal = k->seal;
	pthread_mutex_unlock(&k->lock);
	return have ? 0 : HWG_E_NOT_FOUND;
}

int
hwg_keyholder_sign_response(void *keyholder, int alg, const uint8_t *tbs, size_t tbs_len,
                            uint8_t sig[64], struct hwg_error *err)
{
	struct hwg_keyholder *k = keyholder;
	uint8_t out[HWG_KH_SIG_LEN];
	struct hwg_buf *b;
	int rc;

	if (alg != k->alg)
		return hwg_error_set(err, HWG_E_ALG_NOT_ALLOWED,
		                     "the response key signs %s, not %s", hwg_cose_alg_name(k->alg),
		                     hwg_cose_alg_name(alg) ? hwg_cose_alg_name(alg) : "that");
	if (tbs == NULL && tbs_len > 0)
		return hwg_error_set(err, HWG_E_INVALID, "nothing to sign");
	if ((b = hwg_buf_new(tbs_len + 8)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if ((rc = hwg_kh_sign_response_encode(tbs, tbs_len, b)) != 0)
		rc = hwg_error_set(err, rc, "a Sig_structure of %zu bytes is too large", tbs_len);
	else if ((rc = request(k, HWG_KH_SIGN_RESPONSE, b, sizeof(out), out, sizeof(out), NULL,
	                       err)) == 0)
		memcpy(sig, out, sizeof(out));
	hwg_buf_free(b);
	return rc;
}

int
hwg_keyholder_sign_checkpoint(void *keyholder, int64_t seq, const uint8_t hash[32], int64_t time_ms,
                              uint8_t sig[64], struct hwg_error *err)
{
	struct hwg_kh_checkpoint cp = {.seq = seq, .time_ms = time_ms};
	uint8_t out[HWG_KH_SIG_LEN];
	struct hwg_buf *b;
	int rc;

	memcpy(cp.hash, hash, sizeof(cp.hash));
	if ((b = hwg_buf_new(64)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if (hwg_kh_checkpoint_encode(&cp, b) != 0)
		rc = hwg_error_set(err, HWG_E_INVALID, "checkpoint sequence %lld, time %lld",
		                   (long long)seq, (long long)time_ms);
	else if ((rc = request(keyholder, HWG_KH_SIGN_CHECKPOINT, b, sizeof(out), out, sizeof(out),
	                       NULL, err)) == 0)
		memcpy(sig, out, sizeof(out));
	hwg_buf_free(b);
	return rc;
}

int
hwg_keyholder_seal_template(struct hwg_keyholder *k, const char *operator_id,
                            const int8_t tmpl[HWG_MATCH_DIM], uint8_t **blob, size_t *blob_len,
                            struct hwg_error *err)
{
	uint8_t out[HWG_KEYHOLDER_BLOB_LEN], *copy;
	struct hwg_buf *b;
	int rc;

	if ((b = hwg_buf_new(HWG_MATCH_DIM + HWG_MATCH_ID_MAX + 8)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if (hwg_kh_seal_encode(operator_id, tmpl, b) != 0)
		rc = hwg_error_set(err, HWG_E_INVALID, "operator id must be 1-%d bytes",
		                   HWG_MATCH_ID_MAX);
	else
		rc = request(k, HWG_KH_SEAL_TEMPLATE, b, sizeof(out), out, sizeof(out), NULL, err);
	hwg_buf_free(b); /* wiped: it held the template */
	if (rc != 0)
		return rc;
	if ((copy = malloc(sizeof(out))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	memcpy(copy, out, sizeof(out));
	*blob = copy;
	*blob_len = sizeof(out);
	return 0;
}

int
hwg_keyholder_open_template(struct hwg_keyholder *k, const char *operator_id, const uint8_t *blob,
                            size_t blob_len, int8_t tmpl[HWG_MATCH_DIM], struct hwg_error *err)
{
	uint8_t out[HWG_MATCH_DIM];
	struct hwg_buf *b;
	int rc;

	if (blob == NULL && blob_len > 0)
		return hwg_error_set(err, HWG_E_INVALID, "no sealed template");
	if (blob_len > HWG_KH_BLOB_MAX)
		return hwg_error_set(err, HWG_E_TEMPLATE_TAMPERED,
		                     "sealed template is %zu bytes, not %d", blob_len,
		                     HWG_KEYHOLDER_BLOB_LEN);
	if ((b = hwg_buf_new(blob_len + HWG_MATCH_ID_MAX + 16)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if (hwg_kh_open_encode(operator_id, blob, blob_len, b) != 0)
		rc = hwg_error_set(err, HWG_E_INVALID, "operator id must be 1-%d bytes",
		                   HWG_MATCH_ID_MAX);
	else if ((rc = request(k, HWG_KH_OPEN_TEMPLATE, b, sizeof(out), out, sizeof(out), NULL,
	                       err)) == 0)
		memcpy(tmpl, out, sizeof(out));
	hwg_wipe(out, sizeof(out));
	hwg_buf_free(b);
	return rc;
}

/* The seal key as an OpenSSL key, or HWG_E_NOT_FOUND. */
static int
seal_public(struct hwg_keyholder *k, EVP_PKEY **pub, struct hwg_error *err)
{
	struct hwg_keyholder_key seal;

	if (hwg_keyholder_seal_key(k, &seal) != 0)
		return hwg_error_set(err, HWG_E_NOT_FOUND,
		                     "the token has no seal key ([hsm] seal_key; scripts/hsm-init "
		                     "makes it)");
	if ((*pub = hwg_keyholder_key_public(&seal)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	return 0;
}

/* A keyholder's seal that is not what was asked for: it is ended. */
static int
seal_refused(struct hwg_keyholder *k, const char *what, struct hwg_error *err)
{
	pthread_mutex_lock(&k->lock);
	peer_fatal(k, what);
	pthread_mutex_unlock(&k->lock);
	return hwg_error_set(err, HWG_E_HSM, "the keyholder answered %s; ended it", what);
}

/* The keyholder's COSE_Sign1 is a code for exactly s, sealed by pub. */
static int
summary_answer_ok(const uint8_t *cose, size_t len, const struct hwg_certcode_summary *s,
                  EVP_PKEY *pub)
{
	struct hwg_certcode_summary back;
	char *text = NULL;
	int ok;

	if (hwg_certcode_text(cose, len, &text, NULL) != 0)
		return 0;
	ok = hwg_certcode_verify(text, strlen(text), pub, &back, NULL) == 0 &&
	     memcmp(&back, s, sizeof(back)) == 0;
	free(text);
	return ok;
}

int
hwg_keyholder_seal_summary(struct hwg_keyholder *k, const struct hwg_certcode_summary *s,
                           uint8_t **cose, size_t *cose_len, struct hwg_error *err)
{
	uint8_t out[HWG_CERTCODE_COSE_MAX], *copy;
	struct hwg_certcode_summary clean;
	struct hwg_buf *b = NULL;
	EVP_PKEY *pub;
	size_t len = 0;
	int rc;

	if (s == NULL || cose == NULL || cose_len == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "no summary or no output");
	/* the struct as the keyholder will rebuild it: nothing after each string's end */
	memset(&clean, 0, sizeof(clean));
	memcpy(clean.doc, s->doc, sizeof(clean.doc));
	snprintf(clean.no, sizeof(clean.no), "%s", s->no);
	snprintf(clean.kind, sizeof(clean.kind), "%s", s->kind);
	snprintf(clean.date, sizeof(clean.date), "%s", s->date);
	snprintf(clean.gw, sizeof(clean.gw), "%s", s->gw);
	snprintf(clean.orig, sizeof(clean.orig), "%s", s->orig);
	if ((rc = hwg_certcode_summary_check(&clean, err)) != 0 ||
	    (rc = seal_public(k, &pub, err)) != 0)
		return rc;
	if ((b = hwg_buf_new(512)) == NULL || hwg_kh_summary_encode(&clean, b) != 0)
		rc = hwg_error_set(err, HWG_E_NOMEM, "cannot encode the summary");
	else
		rc = request(k, HWG_KH_SEAL_SUMMARY, b, 0, out, sizeof(out), &len, err);
	hwg_buf_free(b);
	if (rc == 0 && !summary_answer_ok(out, len, &clean, pub))
		rc = seal_refused(k, "a summary's seal that is not the one asked for", err);
	EVP_PKEY_free(pub);
	if (rc != 0)
		return rc;
	if ((copy = malloc(len)) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	memcpy(copy, out, len);
	*cose = copy;
	*cose_len = len;
	return 0;
}

int
hwg_keyholder_seal_pdf(struct hwg_keyholder *k, const char *issuance_no,
                       const uint8_t pdf_digest[32], uint8_t seal[HWG_CERTCODE_SEAL_LEN],
                       struct hwg_error *err)
{
	uint8_t out[HWG_CERTCODE_SEAL_LEN];
	struct hwg_buf *b = NULL;
	EVP_PKEY *pub;
	int rc;

	if (!hwg_certcode_number_valid(issuance_no, NULL) || pdf_digest == NULL || seal == NULL)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "not an issuance number (<gateway>-<YYYYMMDD>-<6 digits>)");
	if ((rc = seal_public(k, &pub, err)) != 0)
		return rc;
	if ((b = hwg_buf_new(256)) == NULL || hwg_kh_pdf_encode(issuance_no, pdf_digest, b) != 0)
		rc = hwg_error_set(err, HWG_E_NOMEM, "cannot encode the PDF's seal request");
	else
		rc = request(k, HWG_KH_SEAL_PDF, b, sizeof(out), out, sizeof(out), NULL, err);
	hwg_buf_free(b);
	if (rc == 0 && hwg_certcode_pdf_seal_verify(pub, issuance_no, pdf_digest, out, NULL) != 0)
		rc = seal_refused(k, "a PDF's seal that does not verify", err);
	EVP_PKEY_free(pub);
	if (rc == 0)
		memcpy(seal, out, sizeof(out));
	return rc;
}

int
hwg_keyholder_test_raw(struct hwg_keyholder *k, uint8_t type, const uint8_t *body, size_t len,
                       struct hwg_error *err)
{
	struct hwg_buf *b = hwg_buf_new(len + 1);
	uint8_t *out = malloc(HWG_KH_TBS_MAX);
	size_t out_len;
	int rc;

	if (b == NULL || out == NULL || hwg_buf_put(b, body, len) != 0)
		rc = hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	else
		rc = request(k, type, b, 0, out, HWG_KH_TBS_MAX, &out_len, err);
	free(out);
	hwg_buf_free(b);
	return rc;
}
