/*
 * test_renderer.c — hwgw-renderer as the privileged process runs it
 * (gateway/renderer/hwg_renderer.c): started, a render answered; the
 * process holds descriptors 0, 1, 2 and its link and nothing else (the
 * test opens a file, a socket and a pipe without close-on-exec first, as
 * a store or a device would be), is under seccomp (mode 2, no new
 * privileges) and maps no store, card, USB or PKCS#11 library; killed
 * mid-job (SIGKILL once it has read the request and before it has
 * written a byte of the reply) the request fails with render_failed and
 * the next one is served by a new process; stopped past the timeout it
 * is ended; its filter kills it on a forbidden call (SIGUSR2 probe) and
 * the next request starts another, the end reported; a request refused
 * before it is sent and one the renderer refuses, which stays up; a bad
 * glyph table stops the start; a renderer that breaks the protocol (a
 * malformed reply, a reply to another request, another type: a shell
 * script on the link) is ended; one that keeps ending is started after
 * the back-off, a request shorter than that failing at once; four
 * threads at once.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "hwg_renderer.h"
#include "rdenv.h"

static char exe[600];

struct ends {
	int count;
	long pid;
	int status;
	char detail[300];
};

static void
on_end(void *arg, const struct hwg_renderer_end *e)
{
	struct ends *s = arg;

	s->count++;
	s->pid = e->pid;
	s->status = e->status;
	snprintf(s->detail, sizeof(s->detail), "%s", e->detail);
}

static struct hwg_renderer *
start(int timeout_ms, struct ends *seen, const char *table)
{
	struct hwg_renderer_config cfg = {.exe = exe,
	                                  .gaiji_table = table,
	                                  .timeout_ms = timeout_ms,
	                                  .on_end = on_end,
	                                  .on_end_arg = seen};
	struct hwg_renderer *r = NULL;
	struct hwg_error err = {0};

	if (hwg_renderer_start(&cfg, &r, &err) != 0)
		fprintf(stderr, "  start: %s\n", err.message);
	return r;
}

/* The encoded request for the first n people of the household. */
static uint8_t *
request(size_t n, size_t *len)
{
	struct hwg_rd_request req;
	struct hwg_error err = {0};
	uint8_t *out = NULL;

	if (rd_request(&req, n, 1) != 0 || hwg_rd_request_encode(&req, &out, len, &err) != 0)
		fprintf(stderr, "  request: %s\n", err.message);
	hwg_rd_request_clear(&req);
	return out;
}

static int
render_ok(struct hwg_renderer *r, size_t n, unsigned want_pages)
{
	struct hwg_renderer_pdf pdf = {0};
	struct hwg_error err = {0};
	size_t len = 0;
	uint8_t *req = request(n, &len);
	int rc = req != NULL ? hwg_renderer_render(r, req, len, &pdf, &err) : -1;

	if (rc != 0)
		fprintf(stderr, "  render: %s\n", err.message);
	else if (pdf.len < 5 || memcmp(pdf.pdf, "%PDF-", 5) != 0 || pdf.pages != want_pages)
		rc = -1;
	hwg_renderer_pdf_clear(&pdf);
	free(req);
	return rc;
}

/* 1 once pid is dead: gone, or a zombie its parent has not reaped yet. */
static int
wait_gone(long pid)
{
	const struct timespec tick = {0, 10 * 1000 * 1000};
	char path[64], stat[256];

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(path, "r");
		char *p = NULL;

		if (f == NULL)
			return 1;
		if (fgets(stat, sizeof(stat), f) != NULL)
			p = strrchr(stat, ')');
		fclose(f);
		if (p != NULL && p[1] == ' ' && p[2] == 'Z')
			return 1;
		nanosleep(&tick, NULL);
	}
	return 0;
}

/* A line "key:\tvalue" of /proc/pid/status, or -1. */
static long
status_field(long pid, const char *key)
{
	char path[64], line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

static int
fd_target(long pid, int fd, char *out, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/fd/%d", pid, fd);
	if ((n = readlink(path, out, len - 1)) < 0)
		return -1;
	out[n] = '\0';
	return 0;
}

static void
test_descriptors_and_filter(void)
{
	/* what a privileged process holds: a file, a socket, a pipe, none close-on-exec */
	int file = open("/etc/hostname", O_RDONLY), sock = socket(AF_UNIX, SOCK_STREAM, 0), p[2];
	struct ends seen = {0};
	struct hwg_renderer *r;
	char target[256], path[64], maps[4096];
	struct dirent *e;
	int fds[16], n = 0;
	long pid;
	DIR *d;
	FILE *f;

	CHECK(pipe(p) == 0);
	r = start(0, &seen, NULL);
	REQUIRE(r != NULL);
	pid = hwg_renderer_pid(r);
	CHECK(pid > 0);
	CHECK_EQ_INT(render_ok(r, 1, 1), 0);
	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	REQUIRE((d = opendir(path)) != NULL);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && n < 16)
			fds[n++] = atoi(e->d_name);
	closedir(d);
	fprintf(stderr, "  the renderer's descriptors:");
	for (int i = 0; i < n; i++) {
		fprintf(stderr, " %d", fds[i]);
		if (fd_target(pid, fds[i], target, sizeof(target)) == 0)
			fprintf(stderr, "=%s", target);
	}
	fprintf(stderr, "\n");
	CHECK_EQ_INT(n, 4);
	for (int i = 0; i < n; i++)
		CHECK(fds[i] >= 0 && fds[i] <= 3);
	CHECK(fd_target(pid, 0, target, sizeof(target)) == 0 && strcmp(target, "/dev/null") == 0);
	CHECK(fd_target(pid, 1, target, sizeof(target)) == 0 && strcmp(target, "/dev/null") == 0);
	CHECK(fd_target(pid, 3, target, sizeof(target)) == 0 && strncmp(target, "socket:", 7) == 0);
	CHECK_EQ_INT(status_field(pid, "Seccomp"), 2);
	CHECK_EQ_INT(status_field(pid, "NoNewPrivs"), 1);
	/* no store, card, USB or PKCS#11 library in its address space */
	snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
	REQUIRE((f = fopen(path, "r")) != NULL);
	while (fgets(maps, sizeof(maps), f) != NULL)
		CHECK(strstr(maps, "libsqlite3") == NULL && strstr(maps, "libpcsclite") == NULL &&
		      strstr(maps, "libusb") == NULL && strstr(maps, "softhsm") == NULL &&
		      strstr(maps, "opensc-pkcs11") == NULL);
	fclose(f);
	hwg_renderer_stop(r);
	CHECK(wait_gone(pid));
	CHECK_EQ_INT(seen.count, 0); /* stopped, not ended */
	close(file);
	close(sock);
	close(p[0]);
	close(p[1]);
}

/* /proc/pid/io's rchar and wchar: bytes read and written so far. */
static int
io_counts(long pid, long long *rchar, long long *wchar)
{
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/io", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	*rchar = *wchar = -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "rchar: %lld", rchar);
		sscanf(line, "wchar: %lld", wchar);
	}
	fclose(f);
	return *rchar >= 0 && *wchar >= 0 ? 0 : -1;
}

struct job {
	struct hwg_renderer *r;
	const uint8_t *req;
	size_t len;
	int rc;
	struct hwg_error err;
	unsigned pages;
};

static void *
job_main(void *arg)
{
	struct job *j = arg;
	struct hwg_renderer_pdf pdf = {0};

	j->rc = hwg_renderer_render(j->r, j->req, j->len, &pdf, &j->err);
	j->pages = pdf.pages;
	hwg_renderer_pdf_clear(&pdf);
	return NULL;
}

/*
 * Kill the renderer once it has read the whole request and before it has
 * written any reply (frozen with SIGSTOP to look): 1 caught mid-job, 0 it
 * answered first, -1 the counters could not be read.
 */
static int
kill_mid_job(long pid, size_t len, long long r0, long long w0)
{
	const struct timespec tick = {0, 200 * 1000};
	long long rc, wc;

	for (int i = 0; i < 50000; i++) {
		if (io_counts(pid, &rc, &wc) != 0)
			return -1;
		if (wc != w0)
			return 0;
		if (rc >= r0 + (long long)len) {
			kill((pid_t)pid, SIGSTOP);
			if (io_counts(pid, &rc, &wc) != 0)
				return -1;
			kill((pid_t)pid, SIGKILL);
			return wc == w0;
		}
		nanosleep(&tick, NULL);
	}
	return -1;
}

static void
test_killed_mid_job(void)
{
	struct ends seen = {0};
	struct hwg_renderer *r = start(0, &seen, NULL);
	size_t len = 0;
	uint8_t *req = request(HWG_RD_PEOPLE_MAX, &len); /* 20 pages: time to catch it */
	int caught = 0;
	long pid = 0;

	REQUIRE(r != NULL && req != NULL);
	for (int attempt = 0; attempt < 3 && caught != 1; attempt++) {
		struct job j = {.r = r, .req = req, .len = len};
		long long r0, w0;
		pthread_t t;

		pid = hwg_renderer_pid(r);
		REQUIRE(io_counts(pid, &r0, &w0) == 0);
		pthread_create(&t, NULL, job_main, &j);
		caught = kill_mid_job(pid, len, r0, w0);
		pthread_join(t, NULL);
		if (caught != 1) {
			fprintf(stderr, "  attempt %d: the renderer answered before the kill\n",
			        attempt + 1);
			continue;
		}
		CHECK_EQ_INT(j.rc, HWG_E_RENDER_FAILED);
		fprintf(stderr, "  killed mid-job: %s\n", j.err.message);
		CHECK(strstr(j.err.message, "died (signal 9)") != NULL);
		CHECK_EQ_INT(hwg_renderer_pid(r), 0);
		CHECK_EQ_INT(seen.count, 1);
		CHECK_EQ_INT(seen.pid, pid);
		CHECK(strstr(seen.detail, "signal=9") != NULL);
	}
	CHECK_EQ_INT(caught, 1);
	/* the next request: a new renderer, the document whole */
	CHECK_EQ_INT(render_ok(r, HWG_RD_PEOPLE_MAX, HWG_RD_PEOPLE_MAX / 3), 0);
	CHECK(hwg_renderer_pid(r) > 0 && hwg_renderer_pid(r) != pid);
	free(req);
	hwg_renderer_stop(r);
}

static void
test_timeout(void)
{
	struct ends seen = {0};
	struct hwg_renderer *r = start(1000, &seen, NULL);
	struct hwg_renderer_pdf pdf = {0};
	struct hwg_error err = {0};
	size_t len = 0;
	uint8_t *req = request(1, &len);
	long pid;

	REQUIRE(r != NULL && req != NULL);
	pid = hwg_renderer_pid(r);
	CHECK_EQ_INT(kill((pid_t)pid, SIGSTOP), 0);
	CHECK_EQ_INT(hwg_renderer_render(r, req, len, &pdf, &err), HWG_E_RENDER_FAILED);
	CHECK(pdf.pdf == NULL);
	fprintf(stderr, "  stopped: %s\n", err.message);
	CHECK(strstr(err.message, "no answer within 1000 ms; ended it") != NULL);
	CHECK(wait_gone(pid));
	CHECK_EQ_INT(seen.count, 1);
	CHECK(strstr(seen.detail, "signal=9") != NULL);
	CHECK(strstr(seen.detail, "why=no answer") != NULL);
	CHECK_EQ_INT(render_ok(r, 1, 1), 0);
	CHECK(hwg_renderer_pid(r) != pid);
	free(req);
	hwg_renderer_stop(r);
}

/*
 * The back-off: a renderer that ends within 10 s of its start after the
 * last one did too is started after 1 s; a request whose time is shorter
 * fails at once, a later one gets a new renderer.
 */
static void
test_backoff(void)
{
	struct ends seen = {0};
	struct hwg_renderer *r = start(500, &seen, NULL);
	struct hwg_renderer_pdf pdf = {0};
	struct hwg_error err = {0};
	size_t len = 0;
	uint8_t *req = request(1, &len);
	long pid;

	REQUIRE(r != NULL && req != NULL);
	pid = hwg_renderer_pid(r);
	CHECK_EQ_INT(kill((pid_t)pid, SIGKILL), 0);
	CHECK(wait_gone(pid));
	CHECK_EQ_INT(render_ok(r, 1, 1), 0); /* the first quick end: a new one at once */
	CHECK_EQ_INT(seen.count, 1);
	pid = hwg_renderer_pid(r);
	CHECK_EQ_INT(kill((pid_t)pid, SIGKILL), 0);
	CHECK(wait_gone(pid));
	CHECK_EQ_INT(hwg_renderer_render(r, req, len, &pdf, &err), HWG_E_RENDER_FAILED);
	fprintf(stderr, "  backing off: %s\n", err.message);
	CHECK(strstr(err.message, "the renderer keeps ending; the next starts in") != NULL);
	CHECK_EQ_INT(hwg_renderer_pid(r), 0);
	CHECK_EQ_INT(seen.count, 2);
	nanosleep(&(struct timespec){1, 100 * 1000 * 1000}, NULL);
	CHECK_EQ_INT(render_ok(r, 1, 1), 0);
	CHECK(hwg_renderer_pid(r) > 0 && hwg_renderer_pid(r) != pid);
	free(req);
	hwg_renderer_stop(r);
}

static void
test_filter_kills_probe(void)
{
	struct ends seen = {0};
	struct hwg_renderer *r = start(0, &seen, NULL);
	long pid;

	REQUIRE(r != NULL);
	pid = hwg_renderer_pid(r);
	CHECK_EQ_INT(kill((pid_t)pid, SIGUSR2), 0);
	CHECK(wait_gone(pid)); /* a zombie until the next request reaps it */
	CHECK_EQ_INT(render_ok(r, 2, 1), 0);
	CHECK_EQ_INT(seen.count, 1);
	CHECK_EQ_INT(seen.pid, pid);
	CHECK(seen.status != -1 && WIFSIGNALED(seen.status) && WTERMSIG(seen.status) == SIGSYS);
	CHECK(hwg_renderer_pid(r) > 0 && hwg_renderer_pid(r) != pid);
	hwg_renderer_stop(r);
}

static void
test_refusals(void)
{
	struct ends seen = {0};
	struct hwg_renderer *r = start(0, &seen, NULL);
	struct hwg_renderer_pdf pdf = {0};
	struct hwg_rd_request req;
	struct hwg_error err = {0};
	uint8_t *bytes = NULL;
	size_t len = 0;
	long pid;

	REQUIRE(r != NULL);
	pid = hwg_renderer_pid(r);
	/* not CBOR: refused here, never sent */
	CHECK_EQ_INT(hwg_renderer_render(r, (const uint8_t *)"\xff", 1, &pdf, &err),
	             HWG_E_RENDER_FAILED);
	CHECK(strstr(err.message, "render request: not CBOR") != NULL);
	/* a person whose fields cannot fit a page: the renderer refuses and stays up */
	REQUIRE(rd_request(&req, 1, 0) == 0);
	for (int f = HWG_RD_KANA; f < HWG_RD_MY_NUMBER; f++) {
		char v[HWG_RD_VALUE_MAX + 1];

		if (hwg_rd_field_is_date(f))
			continue;
		memset(v, 'W', HWG_RD_VALUE_MAX);
		v[HWG_RD_VALUE_MAX] = '\0';
		hwg_rd_person_set(&req.people[0], hwg_rd_field_name(f), v);
	}
	REQUIRE(hwg_rd_request_encode(&req, &bytes, &len, &err) == 0);
	hwg_rd_request_clear(&req);
	CHECK_EQ_INT(hwg_renderer_render(r, bytes, len, &pdf, &err), HWG_E_RENDER_FAILED);
	fprintf(stderr, "  refused: %s\n", err.message);
	CHECK(strstr(err.message, "the renderer refused (bad_arguments)") != NULL);
	CHECK(strstr(err.message, "do not fit on one page") != NULL);
	CHECK(pdf.pdf == NULL);
	CHECK_EQ_INT(hwg_renderer_pid(r), pid);
	CHECK_EQ_INT(seen.count, 0);
	CHECK_EQ_INT(render_ok(r, 1, 1), 0);
	free(bytes);
	hwg_renderer_stop(r);
}

static void
test_bad_table(void)
{
	struct ends seen = {0};
	struct hwg_renderer_config cfg = {.exe = exe, .on_end = on_end, .on_end_arg = &seen};
	struct hwg_renderer *r = NULL;
	struct hwg_error err = {0};
	char path[300];

	const char *table = "E000 =崎\nE001 12\n";

	REQUIRE(rd_write("bad-table", table, strlen(table), path, sizeof(path)) == 0);
	cfg.gaiji_table = path;
	CHECK_EQ_INT(hwg_renderer_start(&cfg, &r, &err), HWG_E_CONFIG);
	CHECK(r == NULL);
	fprintf(stderr, "  bad table: %s\n", err.message);
	CHECK(strstr(err.message, "line 2") != NULL);
	cfg.gaiji_table = "/nonexistent/gaiji.txt";
	CHECK_EQ_INT(hwg_renderer_start(&cfg, &r, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "gaiji_table") != NULL);
	CHECK_EQ_INT(seen.count, 2); /* each one that refused to start, reported */
}

/*
 * A renderer that breaks the protocol, played by a shell script on the
 * link: READY, then a reply that is not one, or a reply to another
 * request.  Each is ended (SIGKILL) and the request is render_failed.
 */
static void
test_broken_replies(void)
{
	static const struct {
		const char *reply; /* printf's octal escapes: the frame after the request */
		const char *why;
	} cases[] = {
	    {"\\000\\000\\000\\001\\035\\000\\000\\000\\001\\000",
	     "malformed reply from the renderer; ended it"},
	    {"\\000\\000\\000\\001\\035\\000\\000\\000\\007\\240",
	     "reply 7 to request 1; ended it"},
	    {"\\000\\000\\000\\001\\033\\000\\000\\000\\001\\240",
	     "internal message of type 27 unexpected; ended it"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ends seen = {0};
		struct hwg_renderer_config cfg = {.on_end = on_end, .on_end_arg = &seen};
		struct hwg_renderer *r = NULL;
		struct hwg_renderer_pdf pdf = {0};
		struct hwg_error err = {0};
		char script[1024], path[300];
		size_t len = 0;
		uint8_t *req = request(1, &len);
		long pid;

		snprintf(script, sizeof(script),
		         "#!/bin/sh\n"
		         "printf '\\000\\000\\000\\001\\034\\000\\000\\000\\000\\240' >&3\n"
		         "dd bs=1 count=9 <&3 >/dev/null 2>&1\n"
		         "printf '%s' >&3\n"
		         "exec sleep 30\n",
		         cases[i].reply);
		REQUIRE(rd_write("fake-renderer", script, strlen(script), path, sizeof(path)) == 0);
		REQUIRE(chmod(path, 0700) == 0);
		cfg.exe = path;
		REQUIRE(hwg_renderer_start(&cfg, &r, &err) == 0);
		pid = hwg_renderer_pid(r);
		CHECK_EQ_INT(hwg_renderer_render(r, req, len, &pdf, &err), HWG_E_RENDER_FAILED);
		if (strstr(err.message, cases[i].why) == NULL)
			fprintf(stderr, "  case %zu: %s\n", i, err.message);
		CHECK(strstr(err.message, cases[i].why) != NULL);
		CHECK(pdf.pdf == NULL);
		CHECK_EQ_INT(seen.count, 1);
		CHECK_EQ_INT(seen.pid, pid);
		CHECK(strstr(seen.detail, "signal=9") != NULL);
		CHECK_EQ_INT(hwg_renderer_pid(r), 0);
		free(req);
		hwg_renderer_stop(r);
	}
}

static void *
render_three(void *arg)
{
	struct hwg_renderer *r = arg;
	intptr_t bad = 0;

	for (int i = 0; i < 3; i++)
		bad += render_ok(r, 4, 2) != 0;
	return (void *)bad;
}

static void
test_threads(void)
{
	struct ends seen = {0};
	struct hwg_renderer *r = start(0, &seen, NULL);
	pthread_t t[4];
	void *bad;

	REQUIRE(r != NULL);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, render_three, r);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], &bad);
		CHECK(bad == NULL);
	}
	CHECK_EQ_INT(seen.count, 0);
	hwg_renderer_stop(r);
}

int
main(void)
{
	const char *build = getenv("HWG_BUILD_DIR");

	if (build == NULL) {
		fprintf(stderr, "HWG_BUILD_DIR is not set\n");
		return 1;
	}
	snprintf(exe, sizeof(exe), "%s/gateway/hwgw-renderer", build);
	if (access(exe, X_OK) != 0 || access("/proc/self/io", R_OK) != 0) {
		fprintf(stderr, "SKIP: %s or /proc/self/io missing\n", exe);
		return 77;
	}
	if (rd_setup() != 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	HWG_RUN(test_descriptors_and_filter);
	HWG_RUN(test_killed_mid_job);
	HWG_RUN(test_timeout);
	HWG_RUN(test_backoff);
	HWG_RUN(test_filter_kills_probe);
	HWG_RUN(test_refusals);
	HWG_RUN(test_bad_table);
	HWG_RUN(test_broken_replies);
	HWG_RUN(test_threads);
	rd_teardown();
	return HWG_TEST_END();
}
