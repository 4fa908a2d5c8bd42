/*
 * fuzz_http.c — the HTTP request path, whole: raw bytes from a TCP peer
 * through libmicrohttpd, our routing, origin and size checks, the COSE
 * and request decoders, the checks of hwg_verify, execution in the
 * privileged half (in this process), and the signed reply.
 *
 * At first call it makes a real gateway: a SoftHSM2 token (scripts/
 * hsm-init), a state directory on /dev/shm (so audit fsyncs stay cheap),
 * one registered client, and the HTTP transport on 127.0.0.1, port 0.
 * Each input is written to a fresh connection, the write side is shut,
 * and the answer read to EOF.  A crash, a sanitizer report or a hang
 * (libFuzzer's -timeout) anywhere on that path is a finding.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hwg_config.h"
#include "hwg_core.h"
#include "hwg_log.h"
#include "hwg_metrics.h"
#include "hwg_transport.h"

static struct hwg_config cfg;
static struct hwg_core *core;
static struct hwg_metrics *metrics;
static struct hwg_front front;
static struct hwg_http *http;
static unsigned port;

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_http set-up: %s\n", what);
	abort();
}

static void
setup(void)
{
	const char *src = getenv("HWG_SOURCE_DIR") ? getenv("HWG_SOURCE_DIR") : ".";
	char dir[] = "/dev/shm/hwgw-fuzz-http.XXXXXX", cmd[1024], path[512];
	struct hwg_error err = {0};

	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	snprintf(cmd, sizeof(cmd), "'%s/scripts/hsm-init' --dir '%s/hsm' >/dev/null", src, dir);
	if (system(cmd) != 0)
		die("scripts/hsm-init failed (set HWG_SOURCE_DIR to the source tree)");
	snprintf(path, sizeof(path), "%s/hsm/softhsm2.conf", dir);
	setenv("SOFTHSM2_CONF", path, 1);
	hwg_log_init("fuzz_http", HWG_LOG_ERR);
	hwg_config_defaults(&cfg);
	cfg.gateway_id = strdup("fuzz-gw");
	snprintf(path, sizeof(path), "%s/state", dir);
	cfg.state_dir = strdup(path);
	snprintf(path, sizeof(path), "%s/gateway",
	         getenv("HWG_BUILD_DIR") ? getenv("HWG_BUILD_DIR") : ".");
	cfg.libexec_dir = strdup(path); /* hwgw-keyholder */
	cfg.http_listen = strdup("127.0.0.1");
	cfg.http_port = 0;
	cfg.connection_timeout_s = 1;
	cfg.origins[0] = strdup("http://localhost:8080");
	cfg.n_origins = 1;
	cfg.hsm_module = strdup(getenv("HWG_P11_MODULE") ? getenv("HWG_P11_MODULE")
	                                                 : "/usr/lib/softhsm/libsofthsm2.so");
	cfg.hsm_token = strdup("hwgw");
	snprintf(path, sizeof(path), "%s/hsm/hsm.pin", dir);
	cfg.hsm_pin_file = strdup(path);
	if (hwg_core_open(&cfg, &core, &err) != 0 || (metrics = hwg_metrics_new()) == NULL)
		die(err.message);
	hwg_core_front(core, metrics, &front);
	if (hwg_http_start(&front, &cfg, -1, &http, &err) != 0)
		die(err.message);
	port = hwg_http_port(http);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct pollfd pfd;
	char buf[4096];
	int fd;

	if (core == NULL)
		setup();
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return 0;
	}
	for (size_t off = 0; off < size;) {
		ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	pfd = (struct pollfd){fd, POLLIN, 0};
	while (poll(&pfd, 1, 3000) == 1 && read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return 0;
}
