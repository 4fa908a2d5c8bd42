/*
 * hwsim.c — the device simulator's main: My Number cards in vpcd reader
 * slots, driven by tests over a control socket (line protocol in
 * hw-sim/README.md).  `hwsim --control PATH --send CMD` is the client
 * side of that protocol, for shell tests.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim_profile.h"
#include "sim_slot.h"

#define MAX_SLOTS 8
#define LINE_MAX_LEN 4096

static volatile sig_atomic_t stop_requested;

struct sim {
	struct sim_slot slots[MAX_SLOTS];
	int n_slots;
};

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* ---------------------------------------------------------------- commands */

/* Reply buffer helpers: every command answers "ok[ data]" or "err message". */
static int reply(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
reply(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, cap, fmt, ap);
	va_end(ap);
	return 0;
}

static struct sim_slot *
slot_arg(struct sim *sim, const char *arg)
{
	char *end;
	long i = arg != NULL ? strtol(arg, &end, 10) : -1;

	if (arg == NULL || *end != '\0' || i < 0 || i >= sim->n_slots)
		return NULL;
	return &sim->slots[i];
}

static int
int_arg(const char *arg, int *out)
{
	char *end;
	long v = arg != NULL ? strtol(arg, &end, 10) : -1;

	if (arg == NULL || *end != '\0' || v < 0 || v > 600000)
		return -1;
	*out = (int)v;
	return 0;
}

static void
cmd_insert(struct sim_slot *s, const char *path, char *out, size_t cap)
{
	struct sim_card_spec spec;
	struct sim_card *card;
	char why[512];

	if (path == NULL) {
		reply(out, cap, "err insert SLOT PROFILE");
		return;
	}
	if (sim_profile_load(path, &spec, why, sizeof(why)) != 0) {
		reply(out, cap, "err %s", why);
		return;
	}
	card = sim_card_new(&spec, why, sizeof(why));
	sim_card_spec_clear(&spec);
	if (card == NULL) {
		reply(out, cap, "err %s: %s", path, why);
		return;
	}
	pthread_mutex_lock(&s->mu);
	sim_card_free(s->card);
	s->card = card;
	snprintf(s->profile, sizeof(s->profile), "%s",
	         strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	s->inserted = 1;
	s->fault = SIM_FAULT_NONE;
	s->silent = 0;
	pthread_mutex_unlock(&s->mu);
	reply(out, cap, "ok");
}

static void
cmd_fault(struct sim_slot *s, const char *kind, const char *n, char *out, size_t cap)
{
	static const struct {
		const char *name;
		enum sim_fault fault;
	} kinds[] = {{"remove-at", SIM_FAULT_REMOVE},
	             {"silent-at", SIM_FAULT_SILENT},
	             {"garbage-at", SIM_FAULT_GARBAGE}};
	int at;

	pthread_mutex_lock(&s->mu);
	if (kind != NULL && strcmp(kind, "clear") == 0) {
		s->fault = SIM_FAULT_NONE;
		s->silent = 0;
		pthread_mutex_unlock(&s->mu);
		reply(out, cap, "ok");
		return;
	}
	for (size_t i = 0; kind != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i].name) == 0 && int_arg(n, &at) == 0 && at > 0) {
			s->fault = kinds[i].fault;
			s->fault_at = (unsigned)at;
			s->since = 0;
			pthread_mutex_unlock(&s->mu);
			reply(out, cap, "ok");
			return;
		}
	pthread_mutex_unlock(&s->mu);
	reply(out, cap, "err fault SLOT remove-at|silent-at|garbage-at N, or fault SLOT clear");
}

/* Commands that only read or flip the slot's state. */
static void
cmd_slot_state(struct sim_slot *s, const char *cmd, char **argv, char *out, size_t cap)
{
	pthread_mutex_lock(&s->mu);
	if (strcmp(cmd, "remove") == 0) {
		s->inserted = 0;
		reply(out, cap, "ok");
	} else if (strcmp(cmd, "reinsert") == 0) {
		s->inserted = s->card != NULL;
		reply(out, cap, s->card != NULL ? "ok" : "err no card was inserted in this slot");
	} else if (strcmp(cmd, "unplug") == 0 || strcmp(cmd, "plug") == 0) {
		s->unplugged = strcmp(cmd, "unplug") == 0;
		reply(out, cap, "ok");
	} else if (strcmp(cmd, "apdus") == 0) {
		reply(out, cap, "ok %u%s%s", s->log_count, s->log_len ? " " : "",
		      s->log ? s->log : "");
	} else if (strcmp(cmd, "apdus-clear") == 0) {
		s->log_len = 0;
		s->log_count = 0;
		if (s->log != NULL)
			s->log[0] = '\0';
		reply(out, cap, "ok");
	} else if (strcmp(cmd, "tries") == 0 && s->card != NULL) {
		reply(out, cap, "ok auth=%d support=%d sign=%d",
		      sim_card_tries(s->card, SIM_PIN_AUTH),
		      sim_card_tries(s->card, SIM_PIN_SUPPORT),
		      sim_card_tries(s->card, SIM_PIN_SIGN));
	} else if (strcmp(cmd, "tamper") == 0 && s->card != NULL && argv[2] != NULL &&
	           strcmp(argv[2], "ef0002") == 0) {
		reply(out, cap,
		      sim_card_tamper_facts(s->card) == 0 ? "ok" : "err the card has no EF 0002");
	} else if (strcmp(cmd, "delay") == 0 && int_arg(argv[2], &s->delay_apdu_ms) == 0 &&
	           int_arg(argv[3], &s->delay_sign_ms) == 0) {
		reply(out, cap, "ok");
	} else {
		reply(out, cap, "err %s: bad arguments or no card in the slot", cmd);
	}
	pthread_mutex_unlock(&s->mu);
}

static void
cmd_status(struct sim *sim, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "ok");

	for (int i = 0; i < sim->n_slots && n < cap; i++) {
		struct sim_slot *s = &sim->slots[i];

		pthread_mutex_lock(&s->mu);
		n += (size_t)snprintf(out + n, cap - n, " slot%d=%s%s", i,
		                      s->unplugged  ? "unplugged"
		                      : s->inserted ? "card:"
		                                    : "empty",
		                      !s->unplugged && s->inserted ? s->profile : "");
		pthread_mutex_unlock(&s->mu);
	}
}

static void
run_command(struct sim *sim, char *line, char *out, size_t cap)
{
	char *argv[6] = {0}, *save = NULL;
	struct sim_slot *s;
	int argc = 0;

	for (char *t = strtok_r(line, " \t\r\n", &save); t != NULL && argc < 5;
	     t = strtok_r(NULL, " \t\r\n", &save))
		argv[argc++] = t;
	if (argc == 0) {
		reply(out, cap, "err empty command");
		return;
	}
	if (strcmp(argv[0], "status") == 0) {
		cmd_status(sim, out, cap);
		return;
	}
	if ((s = slot_arg(sim, argv[1])) == NULL) {
		reply(out, cap, "err %s: no such slot (0..%d)", argv[0], sim->n_slots - 1);
		return;
	}
	if (strcmp(argv[0], "insert") == 0)
		cmd_insert(s, argv[2], out, cap);
	else if (strcmp(argv[0], "fault") == 0)
		cmd_fault(s, argv[2], argv[3], out, cap);
	else
		cmd_slot_state(s, argv[0], argv, out, cap);
}

/* ---------------------------------------------------------------- control socket */

static int
control_listen(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(a.sun_path))
		return -1;
	strcpy(a.sun_path, path);
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 8) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Serve one control connection: a line in, a line out, until it closes. */
static void
control_serve(struct sim *sim, int fd)
{
	static char line[LINE_MAX_LEN], out[1 << 20];
	size_t have = 0;

	for (;;) {
		char *nl;
		ssize_t r = read(fd, line + have, sizeof(line) - 1 - have);

		if (r <= 0)
			return;
		have += (size_t)r;
		line[have] = '\0';
		while ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			run_command(sim, line, out, sizeof(out));
			strcat(out, "\n");
			if (write(fd, out, strlen(out)) < 0)
				return;
			have -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, have + 1);
		}
		if (have == sizeof(line) - 1)
			return; /* a line too long: drop the client */
	}
}

static int
serve(struct sim *sim, const char *path)
{
	int lfd = control_listen(path);

	if (lfd < 0) {
		fprintf(stderr, "hwsim: cannot listen on %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (!stop_requested) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		control_serve(sim, fd);
		close(fd);
	}
	close(lfd);
	unlink(path);
	return 0;
}

/* The client side: send one command, print the reply, exit 0 on "ok". */
static int
send_command(const char *path, const char *cmd)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char buf[1 << 16];
	size_t have = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		fprintf(stderr, "hwsim: cannot reach %s: %s\n", path, strerror(errno));
		return 2;
	}
	if (write(fd, cmd, strlen(cmd)) < 0 || write(fd, "\n", 1) < 0)
		return 2;
	while (have < sizeof(buf) - 1 && memchr(buf, '\n', have) == NULL) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);

		if (r <= 0)
			break;
		have += (size_t)r;
	}
	close(fd);
	buf[have] = '\0';
	fputs(buf, stdout);
	return strncmp(buf, "ok", 2) == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------- main */

static int
usage(void)
{
	fprintf(stderr,
	        "usage: hwsim --port PORT [--slots N] --control PATH [--insert SLOT=PROFILE]...\n"
	        "       hwsim --control PATH --send COMMAND\n");
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"port", required_argument, NULL, 'p'},    {"slots", required_argument, NULL, 'n'},
	    {"control", required_argument, NULL, 'c'}, {"insert", required_argument, NULL, 'i'},
	    {"send", required_argument, NULL, 's'},    {NULL, 0, NULL, 0}};
	static struct sim sim;
	const char *control = NULL, *send = NULL, *inserts[MAX_SLOTS * 4];
	int port = 0, n_inserts = 0, ch, rc;

	sim.n_slots = 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'p')
			port = atoi(optarg);
		else if (ch == 'n')
			sim.n_slots = atoi(optarg);
		else if (ch == 'c')
			control = optarg;
		else if (ch == 's')
			send = optarg;
		else if (ch == 'i' && n_inserts < (int)(sizeof(inserts) / sizeof(inserts[0])))
			inserts[n_inserts++] = optarg;
		else
			return usage();
	}
	if (control != NULL && send != NULL)
		return send_command(control, send);
	if (control == NULL || port <= 0 || port > 65535 - MAX_SLOTS || sim.n_slots < 1 ||
	    sim.n_slots > MAX_SLOTS || optind != argc)
		return usage();
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &(struct sigaction){.sa_handler = on_signal}, NULL);
	sigaction(SIGINT, &(struct sigaction){.sa_handler = on_signal}, NULL);
	for (int i = 0; i < sim.n_slots; i++)
		if (sim_slot_start(&sim.slots[i], i, port + i) != 0)
			return 1;
	for (int i = 0; i < n_inserts; i++) {
		char cmd[LINE_MAX_LEN], out[1024], *eq = strchr(inserts[i], '=');

		snprintf(cmd, sizeof(cmd), "insert %.*s %s", eq ? (int)(eq - inserts[i]) : 0,
		         inserts[i], eq ? eq + 1 : "");
		run_command(&sim, cmd, out, sizeof(out));
		if (strncmp(out, "ok", 2) != 0) {
			fprintf(stderr, "hwsim: --insert %s: %s\n", inserts[i], out);
			return 1;
		}
	}
	rc = serve(&sim, control);
	for (int i = 0; i < sim.n_slots; i++)
		sim_slot_stop(&sim.slots[i]);
	return rc;
}
