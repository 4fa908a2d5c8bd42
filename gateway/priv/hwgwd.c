/*
 * hwgwd.c — the daemon: read the configuration, open the core (state,
 * HSM, clients), start the transports, and wait for signals.
 *
 *   SIGTERM, SIGINT  stop accepting, finish requests in flight, sign a
 *                    final audit checkpoint, exit 0
 *   SIGHUP           re-read the client registry from the state store
 *
 * Signals are blocked in every thread and taken synchronously here, so no
 * handler ever runs inside a request.  It always runs in the foreground
 * (systemd supervises it); --foreground is accepted for clarity.  Under
 * socket activation (dist/systemd/hwgwd.socket) the Unix socket comes
 * from systemd (hwg_unix_inherit), taken before any thread starts.
 *
 * This process holds the store and the devices and never reads a
 * connection: it makes the listening sockets and hands them to the net
 * process, hwgw-net (hwg_netchild.h), restarted whenever it ends; what
 * that process passes is checked again here on the bytes the client
 * signed before anything runs.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_config.h"
#include "hwg_core.h"
#include "hwg_log.h"
#include "hwg_listen.h"
#include "hwg_netchild.h"

#define DEFAULT_CONFIG "/etc/hwgw/hwgwd.conf"

static void
usage(FILE *f)
{
	fprintf(f, "usage: hwgwd [--foreground] [--config FILE] [--version]\n"
	           "  --config FILE   configuration (default " DEFAULT_CONFIG ")\n"
	           "  --foreground    run in the foreground (always the case; for systemd)\n"
	           "  --version       print the version and exit\n");
}

/* <state_dir>/hwgwd.pid lets hwgwctl ask for a reload after it changes clients. */
static void
pidfile_write(const struct hwg_config *cfg, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/hwgwd.pid", cfg->state_dir);
	if ((f = fopen(path, "we")) == NULL) {
		hwg_log(HWG_LOG_WARN, "pidfile", "path=%s msg=\"%s\"", path, strerror(errno));
		path[0] = '\0';
		return;
	}
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

/* The listening sockets, made here so that they outlive any net process. */
static int
listen_all(const struct hwg_config *cfg, int passed_fd, int *unix_fd, int *http_fd, unsigned *port,
           struct hwg_error *err)
{
	*unix_fd = *http_fd = -1;
	*port = 0;
	/* a passed socket implies [unix] socket is set (hwg_unix_inherit checked it) */
	if (cfg->socket_path != NULL && cfg->socket_path[0] != '\0' &&
	    hwg_unix_listen(cfg, passed_fd, unix_fd, err) != 0)
		return -1;
	if (cfg->http_listen != NULL && cfg->http_listen[0] != '\0' &&
	    hwg_http_listen(cfg, http_fd, port, err) != 0)
		return -1;
	return 0;
}

static void
unlisten(const struct hwg_config *cfg, int passed_fd, int unix_fd, int http_fd)
{
	if (unix_fd >= 0) {
		close(unix_fd);
		if (passed_fd < 0)
			unlink(cfg->socket_path);
	}
	if (http_fd >= 0)
		close(http_fd);
}

static void
serve(struct hwg_core *core, const struct hwg_config *cfg, struct hwg_netchild *mon)
{
	struct hwg_error err = {0};
	struct timespec tick = {1, 0};
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	for (;;) {
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			if (hwg_core_reload_clients(core, &err) != 0)
				hwg_log(HWG_LOG_ERR, "clients.reload", "code=%s msg=\"%s\"",
				        hwg_err_code(err.code), err.message);
			else
				hwg_netchild_send_clients(mon);
		}
		hwg_netchild_reap(mon);
		hwg_core_tick(core);
	}
	hwg_log(HWG_LOG_INFO, "stopping", "signal=%d", sig);
	(void)cfg;
}

static int
run(const struct hwg_config *cfg, const char *config_path, int passed_fd)
{
	char pidfile[4200] = "";
	struct hwg_error err = {0};
	struct hwg_core *core = NULL;
	struct hwg_netchild *mon = NULL;
	int unix_fd = -1, http_fd = -1, rc = 1;
	unsigned port;

	if (hwg_core_open(cfg, &core, &err) != 0) {
		hwg_log(HWG_LOG_ERR, "start.refused", "code=%s msg=\"%s\"", hwg_err_code(err.code),
		        err.message);
		fprintf(stderr, "hwgwd: %s\n", err.message);
		if (passed_fd >= 0)
			close(passed_fd);
		return 1;
	}
	if (listen_all(cfg, passed_fd, &unix_fd, &http_fd, &port, &err) != 0 ||
	    hwg_netchild_start(core, cfg, config_path, unix_fd, http_fd, &mon, &err) != 0) {
		fprintf(stderr, "hwgwd: %s\n", err.message);
		goto out;
	}
	pidfile_write(cfg, pidfile, sizeof(pidfile));
	hwg_log(HWG_LOG_INFO, "ready", "version=%s gateway_id=%s http_port=%u", HWG_VERSION,
	        cfg->gateway_id, port);
	serve(core, cfg, mon);
	rc = 0;
out:
	hwg_netchild_stop(mon);
	unlisten(cfg, passed_fd, unix_fd, http_fd);
	hwg_core_close(core);
	/* last: whoever waits for the pid file to go may then touch the state and the token */
	if (pidfile[0] != '\0')
		unlink(pidfile);
	hwg_log(HWG_LOG_INFO, "stopped", "rc=%d", rc);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = DEFAULT_CONFIG;
	struct hwg_config cfg;
	struct hwg_error err = {0};
	sigset_t set;
	int ch, rc, passed_fd;

	while ((ch = getopt_long(argc, argv, "c:fVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'f':
			break;
		case 'V':
			printf("hwgwd %s\n", HWG_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	umask(077);
	/*
	 * Two heaps for all the workers: the C library would give each new
	 * thread of a burst a heap of its own (up to 8 per core), and the
	 * pool's threads keep theirs, so memory would grow with the largest
	 * burst ever seen.
	 */
	mallopt(M_ARENA_MAX, 2);
	hwg_log_init("hwgwd", HWG_LOG_INFO);
	hwg_config_defaults(&cfg);
	if (hwg_config_load(config_path, &cfg, &err) != 0) {
		fprintf(stderr, "hwgwd: %s\n", err.message);
		hwg_config_clear(&cfg);
		return 1;
	}
	hwg_log_init("hwgwd", (enum hwg_log_level)cfg.log_level);
	if (hwg_unix_inherit(&cfg, &passed_fd, &err) != 0) {
		hwg_log(HWG_LOG_ERR, "start.refused", "code=%s msg=\"%s\"", hwg_err_code(err.code),
		        err.message);
		fprintf(stderr, "hwgwd: %s\n", err.message);
		hwg_config_clear(&cfg);
		return 1;
	}
	/* block the signals we wait for before any thread exists */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	rc = run(&cfg, config_path, passed_fd);
	hwg_config_clear(&cfg);
	return rc;
}
