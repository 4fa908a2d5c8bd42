/*
 * sim_control.c — the control socket's commands and its server and
 * client (see sim_control.h).  The server serves several clients at once
 * from one poll loop; a malformed or over-long line gets "err ...", never
 * a crash or a dropped connection.
 */
#include "sim_control.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim_profile.h"

#define MAX_ARGS 6
#define MAX_DELAY_MS 600000
#define WRITE_TIMEOUT_S 2
#define CLIENT_TIMEOUT_S 60

char *
sim_control_reply(const char *fmt, ...)
{
	char *out = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&out, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : out;
}

/* ---------------------------------------------------------------- commands */

struct args {
	char *v[MAX_ARGS + 1];
	int n;
	const char *rest; /* the line after the slot argument (insert's path may hold spaces) */
	struct sim_slot *slot;
};

static int
number(const char *arg, long max, long *out)
{
	char *end;
	long v;

	if (arg == NULL || *arg < '0' || *arg > '9')
		return -1;
	errno = 0;
	v = strtol(arg, &end, 10);
	if (*end != '\0' || errno != 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

static char *
cmd_insert(struct args *a)
{
	struct hwg_error err = {0};
	struct sim_card *card;

	if (a->rest == NULL || *a->rest == '\0')
		return sim_control_reply("err usage: insert SLOT PROFILE");
	if (sim_profile_card(a->rest, &card, &err) != 0) {
		sim_log("slot %d: insert refused: %s", a->slot->index, err.message);
		return sim_control_reply("err %s", err.message);
	}
	sim_slot_insert(a->slot, card, a->rest);
	return sim_control_reply("ok");
}

static char *
cmd_fault(struct args *a)
{
	static const struct {
		const char *name;
		enum sim_fault fault;
	} kinds[] = {{"remove-at", SIM_FAULT_REMOVE},
	             {"silent-at", SIM_FAULT_SILENT},
	             {"garbage-at", SIM_FAULT_GARBAGE},
	             {"hold-at", SIM_FAULT_HOLD}};
	struct hwg_error err = {0};
	long at;

	if (a->n == 3 && strcmp(a->v[2], "clear") == 0) {
		sim_slot_fault(a->slot, SIM_FAULT_NONE, 0, &err);
		return sim_control_reply("ok");
	}
	for (size_t i = 0; a->n == 4 && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(a->v[2], kinds[i].name) != 0)
			continue;
		if (number(a->v[3], 1000000, &at) != 0 ||
		    sim_slot_fault(a->slot, kinds[i].fault, (unsigned)at, &err) != 0)
			return sim_control_reply("err fault %s: N must be a number from 1",
			                         kinds[i].name);
		sim_log("slot %d: fault %s %ld", a->slot->index, kinds[i].name, at);
		return sim_control_reply("ok");
	}
	return sim_control_reply(
	    "err usage: fault SLOT remove-at|silent-at|garbage-at|hold-at N, or fault SLOT clear");
}

static char *
cmd_delay(struct args *a)
{
	long apdu_ms, sign_ms;

	if (a->n != 4 || number(a->v[2], MAX_DELAY_MS, &apdu_ms) != 0 ||
	    number(a->v[3], MAX_DELAY_MS, &sign_ms) != 0)
		return sim_control_reply("err usage: delay SLOT APDU_MS SIGN_MS (0 to %d)",
		                         MAX_DELAY_MS);
	sim_slot_delay(a->slot, (int)apdu_ms, (int)sign_ms);
	return sim_control_reply("ok");
}

static char *
cmd_apdus(struct args *a)
{
	char *log = sim_slot_apdus(a->slot), *out;

	if (log == NULL)
		return NULL;
	out = sim_control_reply("ok %s", log);
	free(log);
	return out;
}

static char *
cmd_tries(struct args *a)
{
	struct hwg_error err = {0};
	int t[SIM_N_PINS];

	if (sim_slot_tries(a->slot, t, &err) != 0)
		return sim_control_reply("err %s", err.message);
	return sim_control_reply("ok auth=%d support=%d sign=%d", t[SIM_PIN_AUTH],
	                         t[SIM_PIN_SUPPORT], t[SIM_PIN_SIGN]);
}

static char *
cmd_tamper(struct args *a)
{
	struct hwg_error err = {0};

	if (a->n != 3 || strcmp(a->v[2], "ef0002") != 0)
		return sim_control_reply("err usage: tamper SLOT ef0002");
	if (sim_slot_tamper(a->slot, &err) != 0)
		return sim_control_reply("err %s", err.message);
	sim_log("slot %d: EF 0002 tampered", a->slot->index);
	return sim_control_reply("ok");
}

/* Commands that take the slot and nothing else. */
static char *
cmd_simple(struct args *a)
{
	struct hwg_error err = {0};
	const char *cmd = a->v[0];

	if (a->n != 2)
		return sim_control_reply("err usage: %s SLOT", cmd);
	if (strcmp(cmd, "remove") == 0)
		sim_slot_remove(a->slot);
	else if (strcmp(cmd, "reinsert") == 0 && sim_slot_reinsert(a->slot, &err) != 0)
		return sim_control_reply("err %s", err.message);
	else if (strcmp(cmd, "unplug") == 0 || strcmp(cmd, "plug") == 0)
		sim_slot_plug(a->slot, strcmp(cmd, "plug") == 0);
	else if (strcmp(cmd, "apdus-clear") == 0)
		sim_slot_apdus_clear(a->slot);
	else if (strcmp(cmd, "apdus") == 0)
		return cmd_apdus(a);
	else if (strcmp(cmd, "tries") == 0)
		return cmd_tries(a);
	else if (strcmp(cmd, "held") == 0)
		return sim_control_reply("ok %s", sim_slot_held(a->slot) ? "yes" : "no");
	else if (strcmp(cmd, "release") == 0 && sim_slot_release(a->slot) != 0)
		return sim_control_reply("err slot %d holds no APDU", a->slot->index);
	return sim_control_reply("ok");
}

static char *
cmd_status(struct sim_slot *slots, int n_slots)
{
	char all[64 + 300 * 16] = "ok", one[300];
	size_t len = 2;

	for (int i = 0; i < n_slots && len < sizeof(all); i++) {
		sim_slot_describe(&slots[i], one, sizeof(one));
		len += (size_t)snprintf(all + len, sizeof(all) - len, " slot%d=%s", i, one);
	}
	return sim_control_reply("%s", all);
}

static const struct {
	const char *name;
	char *(*run)(struct args *a);
} commands[] = {
    {"insert", cmd_insert},      {"fault", cmd_fault},   {"delay", cmd_delay},
    {"tamper", cmd_tamper},      {"remove", cmd_simple}, {"reinsert", cmd_simple},
    {"unplug", cmd_simple},      {"plug", cmd_simple},   {"apdus", cmd_simple},
    {"apdus-clear", cmd_simple}, {"tries", cmd_simple},  {"held", cmd_simple},
    {"release", cmd_simple},
};

/* Split line into words; rest points after the second word. */
static int
split(char *line, const char *orig, struct args *a)
{
	char *save = NULL;

	memset(a, 0, sizeof(*a));
	for (char *t = strtok_r(line, " \t\r", &save); t != NULL;
	     t = strtok_r(NULL, " \t\r", &save)) {
		if (a->n == MAX_ARGS)
			return -1;
		if (a->n == 2)
			a->rest = orig + (t - line);
		a->v[a->n++] = t;
	}
	return 0;
}

/* The first 40 bytes of a word, other than printable ASCII as '?', for an error reply. */
static const char *
printable(const char *word)
{
	static _Thread_local char out[41];
	size_t i;

	for (i = 0; i < sizeof(out) - 1 && word[i] != '\0'; i++)
		out[i] = word[i] > 0x20 && word[i] < 0x7F ? word[i] : '?';
	out[i] = '\0';
	return out;
}

static char *
dispatch(struct sim_slot *slots, int n_slots, struct args *a, char *rest)
{
	long i;

	if (a->n == 0)
		return sim_control_reply("err empty command");
	if (strcmp(a->v[0], "status") == 0)
		return a->n == 1 ? cmd_status(slots, n_slots)
		                 : sim_control_reply("err usage: status");
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		if (strcmp(a->v[0], commands[k].name) != 0)
			continue;
		if (number(a->v[1], n_slots - 1, &i) != 0)
			return sim_control_reply("err %s: no slot %s (slots 0 to %d)", a->v[0],
			                         a->v[1] != NULL ? a->v[1] : "given", n_slots - 1);
		a->slot = &slots[i];
		a->rest = rest;
		return commands[k].run(a);
	}
	return sim_control_reply("err unknown command %s", printable(a->v[0]));
}

static void
rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && strchr(" \t\r", s[n - 1]) != NULL)
		s[--n] = '\0';
}

char *
sim_control_run(struct sim_slot *slots, int n_slots, const char *line)
{
	char *words = strdup(line), *rest = strdup(line), *out;
	struct args a;

	if (words == NULL || rest == NULL) {
		free(words);
		free(rest);
		return NULL;
	}
	if (split(words, line, &a) != 0) {
		out = sim_control_reply("err too many words");
	} else {
		char *r = a.rest != NULL ? rest + (a.rest - line) : NULL;

		if (r != NULL)
			rtrim(r);
		out = dispatch(slots, n_slots, &a, r);
	}
	free(words);
	free(rest);
	return out;
}

/* ---------------------------------------------------------------- server */

int
sim_control_open(struct sim_control *c, const char *path, struct sim_slot *slots, int n_slots,
                 struct hwg_error *err)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct stat st;

	memset(c, 0, sizeof(*c));
	c->slots = slots;
	c->n_slots = n_slots;
	for (int i = 0; i < SIM_CONTROL_CLIENTS; i++)
		c->clients[i].fd = -1;
	if (strlen(path) >= sizeof(a.sun_path))
		return hwg_error_set(err, HWG_E_CONFIG, "control socket path too long: %s", path);
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		return hwg_error_set(err, HWG_E_CONFIG, "%s exists and is not a socket", path);
	unlink(path);
	memcpy(a.sun_path, path, strlen(path) + 1);
	memcpy(c->path, path, strlen(path) + 1);
	if ((c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return hwg_error_set(err, HWG_E_IO, "socket: %s", strerror(errno));
	if (bind(c->listen_fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(c->listen_fd, 16) != 0) {
		int e = errno;

		close(c->listen_fd);
		c->listen_fd = -1;
		return hwg_error_set(err, HWG_E_IO, "cannot listen on %s: %s", path, strerror(e));
	}
	return 0;
}

static void
drop_client(struct sim_control_client *cl)
{
	close(cl->fd);
	cl->fd = -1;
	cl->have = 0;
	cl->skipping = 0;
}

static int
write_line(int fd, const char *text)
{
	size_t n = strlen(text), done = 0;

	while (done <= n) {
		const char *p = done < n ? text + done : "\n";
		ssize_t w = write(fd, p, done < n ? n - done : 1);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

static int
answer(struct sim_control *c, int fd, const char *line)
{
	char *out = c->ext != NULL ? c->ext(c->ext_arg, line) : NULL;
	int rc;

	if (out == NULL)
		out = sim_control_run(c->slots, c->n_slots, line);
	rc = write_line(fd, out != NULL ? out : "err out of memory");

	free(out);
	return rc;
}

/* Every complete line in the client's buffer; -1 if the client must go. */
static int
serve_lines(struct sim_control *c, struct sim_control_client *cl)
{
	char *nl;

	while ((nl = memchr(cl->buf, '\n', cl->have)) != NULL) {
		size_t used = (size_t)(nl - cl->buf) + 1;

		*nl = '\0';
		if (!cl->skipping && answer(c, cl->fd, cl->buf) != 0)
			return -1;
		cl->skipping = 0;
		memmove(cl->buf, cl->buf + used, cl->have - used);
		cl->have -= used;
	}
	if (cl->have == sizeof(cl->buf)) { /* no newline in a full buffer */
		cl->have = 0;
		if (!cl->skipping && write_line(cl->fd, "err line too long") != 0)
			return -1;
		cl->skipping = 1;
	}
	return 0;
}

static void
read_client(struct sim_control *c, struct sim_control_client *cl)
{
	ssize_t r = read(cl->fd, cl->buf + cl->have, sizeof(cl->buf) - cl->have);

	if (r < 0 && errno == EINTR)
		return;
	if (r <= 0) {
		drop_client(cl);
		return;
	}
	for (ssize_t i = 0; i < r; i++)
		if (cl->buf[cl->have + (size_t)i] == '\0')
			cl->buf[cl->have + (size_t)i] = ' '; /* a NUL must not hide the rest */
	cl->have += (size_t)r;
	if (serve_lines(c, cl) != 0)
		drop_client(cl);
}

static void
accept_client(struct sim_control *c)
{
	struct timeval tv = {WRITE_TIMEOUT_S, 0};
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < SIM_CONTROL_CLIENTS; i++)
		if (c->clients[i].fd < 0) {
			c->clients[i].fd = fd;
			return;
		}
	write_line(fd, "err too many control clients");
	close(fd);
}

void
sim_control_poll(struct sim_control *c, int timeout_ms)
{
	struct pollfd p[1 + SIM_CONTROL_CLIENTS];
	int map[1 + SIM_CONTROL_CLIENTS], n = 1;

	p[0] = (struct pollfd){.fd = c->listen_fd, .events = POLLIN};
	for (int i = 0; i < SIM_CONTROL_CLIENTS; i++)
		if (c->clients[i].fd >= 0) {
			map[n] = i;
			p[n++] = (struct pollfd){.fd = c->clients[i].fd, .events = POLLIN};
		}
	if (poll(p, (nfds_t)n, timeout_ms) <= 0)
		return;
	for (int k = 1; k < n; k++)
		if (p[k].revents & (POLLIN | POLLHUP | POLLERR))
			read_client(c, &c->clients[map[k]]);
	if (p[0].revents & POLLIN)
		accept_client(c);
}

void
sim_control_close(struct sim_control *c)
{
	for (int i = 0; i < SIM_CONTROL_CLIENTS; i++)
		if (c->clients[i].fd >= 0)
			drop_client(&c->clients[i]);
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		unlink(c->path);
	}
	c->listen_fd = -1;
}

/* ---------------------------------------------------------------- client */

static int
read_reply(int fd, char **reply_out, struct hwg_error *err)
{
	char buf[1 << 16], *big = NULL;
	size_t have = 0;

	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		char *grown;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if ((grown = realloc(big, have + (size_t)r + 1)) == NULL) {
			free(big);
			return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		}
		big = grown;
		memcpy(big + have, buf, (size_t)r);
		have += (size_t)r;
		big[have] = '\0';
		if (memchr(buf, '\n', (size_t)r) != NULL)
			break;
	}
	if (big == NULL || strchr(big, '\n') == NULL) {
		free(big);
		return hwg_error_set(err, HWG_E_IO, "hwsim closed the control connection");
	}
	*strchr(big, '\n') = '\0';
	*reply_out = big;
	return 0;
}

int
sim_control_send(const char *path, const char *cmd, char **reply_out, struct hwg_error *err)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct timeval tv = {CLIENT_TIMEOUT_S, 0};
	int fd, rc;

	*reply_out = NULL;
	if (strlen(path) >= sizeof(a.sun_path) || strchr(cmd, '\n') != NULL)
		return hwg_error_set(err, HWG_E_INVALID, "bad control path or command");
	memcpy(a.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return hwg_error_set(err, HWG_E_IO, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		rc = hwg_error_set(err, HWG_E_IO, "cannot reach hwsim at %s: %s", path,
		                   strerror(errno));
		close(fd);
		return rc;
	}
	rc = write_line(fd, cmd) != 0
	         ? hwg_error_set(err, HWG_E_IO, "cannot write to %s: %s", path, strerror(errno))
	         : read_reply(fd, reply_out, err);
	close(fd);
	return rc;
}
