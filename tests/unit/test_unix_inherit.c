/*
 * test_unix_inherit.c — socket activation without libsystemd
 * (hwg_unix_inherit, hwg_unix_start with a passed socket): the socket at
 * descriptor 3 is taken only when LISTEN_PID is this process and
 * LISTEN_FDS=1, and only if it is a listening Unix stream socket bound to
 * [unix] socket whose file has no world bits; every other case is either
 * "none passed" or a refusal naming the problem, and the variables are
 * gone afterwards.  A passed socket's file survives hwg_unix_stop; our
 * own socket's file does not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hwg_config.h"
#include "hwg_test.h"
#include "hwg_listen.h"
#include "hwg_transport.h"

static char dir[] = "/tmp/hwgw-inherit-test.XXXXXX";
static char sock_path[200];

/*
 * A socket of type bound at path (NULL: unbound, "@": an abstract name,
 * "": an autobound abstract name), listening if asked.
 */
static int
make_socket(int type, const char *path, int listening)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0)
		return -1;
	if (path != NULL && strcmp(path, "@") == 0) {
		memcpy(sa.sun_path, "\0hwgw-inherit-test", 18);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 18);
	} else if (path != NULL && path[0] == '\0') {
		len = sizeof(sa_family_t);
	} else if (path != NULL) {
		unlink(path);
		strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	}
	if ((path != NULL && bind(fd, (struct sockaddr *)&sa, len) != 0) ||
	    (listening && listen(fd, 8) != 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* What systemd does before exec: fd at 3, LISTEN_PID (pid, 0 = ours) and LISTEN_FDS. */
static void
pass(int fd, long pid, const char *fds)
{
	char buf[32];

	if (fd >= 0) {
		if (fd != 3) {
			dup2(fd, 3);
			close(fd);
		}
	} else {
		close(3);
	}
	snprintf(buf, sizeof(buf), "%ld", pid != 0 ? pid : (long)getpid());
	setenv("LISTEN_PID", buf, 1);
	setenv("LISTEN_FDS", fds, 1);
	setenv("LISTEN_FDNAMES", "hwgwd.socket", 1);
}

static int
env_gone(void)
{
	return getenv("LISTEN_PID") == NULL && getenv("LISTEN_FDS") == NULL &&
	       getenv("LISTEN_FDNAMES") == NULL;
}

static void
config(struct hwg_config *c, const char *socket_path)
{
	hwg_config_defaults(c);
	c->socket_path = strdup(socket_path);
}

/* Run hwg_unix_inherit on what was passed; fd and message out. */
static int
inherit(const char *socket_path, int *fd, struct hwg_error *err)
{
	struct hwg_config c;
	int rc;

	config(&c, socket_path);
	memset(err, 0, sizeof(*err));
	*fd = 99;
	rc = hwg_unix_inherit(&c, fd, err);
	hwg_config_clear(&c);
	return rc;
}

static void
test_nothing_passed(void)
{
	struct hwg_error err;
	int fd;

	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	CHECK_EQ_INT(inherit(sock_path, &fd, &err), 0);
	CHECK_EQ_INT(fd, -1);
}

static void
test_other_pid_ignored(void)
{
	struct hwg_error err;
	int fd;

	pass(make_socket(SOCK_STREAM, sock_path, 1), (long)getpid() + 1, "1");
	CHECK_EQ_INT(inherit(sock_path, &fd, &err), 0);
	CHECK_EQ_INT(fd, -1);
	CHECK(env_gone());
	/* not ours to close: another process's descriptors are left alone */
	CHECK(fcntl(3, F_GETFD) >= 0);
	close(3);
}

static void
test_zero_fds(void)
{
	struct hwg_error err;
	int fd;

	pass(-1, 0, "0");
	CHECK_EQ_INT(inherit(sock_path, &fd, &err), 0);
	CHECK_EQ_INT(fd, -1);
	CHECK(env_gone());
}

static void
test_bad_count(void)
{
	struct hwg_error err;
	int fd;

	pass(-1, 0, "one");
	CHECK_EQ_INT(inherit(sock_path, &fd, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "LISTEN_FDS=\"one\" is not a count") != NULL);
	CHECK_EQ_INT(fd, -1);
	CHECK(env_gone());
	pass(-1, 0, "-1");
	CHECK_EQ_INT(inherit(sock_path, &fd, &err), HWG_E_CONFIG);
	CHECK(env_gone());
}

static void
test_two_sockets_refused(void)
{
	struct hwg_error err;
	int fd;

	pass(make_socket(SOCK_STREAM, sock_path, 1), 0, "2");
	CHECK_EQ_INT(inherit(sock_path, &fd, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "passed 2 sockets; hwgwd takes one") != NULL);
	CHECK_EQ_INT(fd, -1);
	CHECK(env_gone());
	close(3);
}

static void
test_not_open(void)
{
	struct hwg_error err;
	int fd;

	pass(-1, 0, "1");
	CHECK_EQ_INT(inherit(sock_path, &fd, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "descriptor 3 is not open") != NULL);
	CHECK_EQ_INT(fd, -1);
}

static void
test_not_a_stream_socket(void)
{
	char file[256];
	struct hwg_error err;
	int fd;

	snprintf(file, sizeof(file), "%s/plain", dir);
	pass(open(file, O_RDWR | O_CREAT, 0600), 0, "1");
	CHECK_EQ_INT(inherit(sock_path, &fd, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "not a Unix stream socket") != NULL);
	CHECK_EQ_INT(fd, -1);
	CHECK(fcntl(3, F_GETFD) < 0); /* refused: closed */

	pass(make_socket(SOCK_DGRAM, sock_path, 0), 0, "1");
	CHECK_EQ_INT(inherit(sock_path, &fd, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "not a Unix stream socket") != NULL);

	pass(socket(AF_INET, SOCK_STREAM, 0), 0, "1");
	CHECK_EQ_INT(inherit(sock_path, &fd, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "not a Unix stream socket") != NULL);
}

static void
test_not_listening(void)
{
	struct hwg_error err;
	int fd;

	pass(make_socket(SOCK_STREAM, sock_path, 0), 0, "1");
	CHECK_EQ_INT(inherit(sock_path, &fd, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "not listening") != NULL);
	CHECK_EQ_INT(fd, -1);
}

static void
test_abstract_refused(void)
{
	struct hwg_error err;
	int fd;

	pass(make_socket(SOCK_STREAM, "@", 1), 0, "1");
	CHECK_EQ_INT(inherit(sock_path, &fd, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "has no path") != NULL);
	pass(make_socket(SOCK_STREAM, "", 1), 0, "1");
	CHECK_EQ_INT(inherit(sock_path, &fd, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "has no path") != NULL);
}

static void
test_other_path_refused(void)
{
	char want[256];
	struct hwg_error err;
	int fd;

	snprintf(want, sizeof(want), "%s/configured.sock", dir);
	pass(make_socket(SOCK_STREAM, sock_path, 1), 0, "1");
	CHECK_EQ_INT(inherit(want, &fd, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, sock_path) != NULL);
	CHECK(strstr(err.message, "but [unix] socket is") != NULL);
	CHECK(strstr(err.message, want) != NULL);
	CHECK_EQ_INT(fd, -1);

	pass(make_socket(SOCK_STREAM, sock_path, 1), 0, "1");
	CHECK_EQ_INT(inherit("", &fd, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "[unix] socket is empty") != NULL);
}

static void
test_world_bits_refused(void)
{
	struct hwg_error err;
	int fd;

	pass(make_socket(SOCK_STREAM, sock_path, 1), 0, "1");
	chmod(sock_path, 0666);
	CHECK_EQ_INT(inherit(sock_path, &fd, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "mode 0666; world bits are refused") != NULL);
	CHECK_EQ_INT(fd, -1);
	CHECK(fcntl(3, F_GETFD) < 0);

	pass(make_socket(SOCK_STREAM, sock_path, 1), 0, "1");
	unlink(sock_path); /* the file gone: nobody could connect */
	CHECK_EQ_INT(inherit(sock_path, &fd, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, "No such file") != NULL);
}

static void
test_taken(void)
{
	struct hwg_error err;
	int fd;

	pass(make_socket(SOCK_STREAM, sock_path, 1), 0, "1");
	fcntl(3, F_SETFD, 0);
	chmod(sock_path, 0660);
	CHECK_EQ_INT(inherit(sock_path, &fd, &err), 0);
	CHECK_EQ_INT(fd, 3);
	CHECK(env_gone());
	CHECK((fcntl(3, F_GETFD) & FD_CLOEXEC) != 0); /* not leaked into anything started */
	close(3);
}

/* Served until stop, then the file stays: it is systemd's, which keeps listening. */
static void
test_passed_socket_kept_at_stop(void)
{
	struct hwg_config c;
	struct hwg_error err = {0};
	struct hwg_unix *u = NULL;
	struct stat st;

	config(&c, sock_path);
	pass(make_socket(SOCK_STREAM, sock_path, 1), 0, "1");
	chmod(sock_path, 0660);
	CHECK_EQ_INT(hwg_unix_inherit(&c, &(int){0}, &err), 0);
	CHECK_EQ_INT(hwg_unix_start(NULL, &c, 3, &u, &err), 0);
	CHECK(u != NULL);
	CHECK((fcntl(3, F_GETFL) & O_NONBLOCK) != 0);
	hwg_unix_stop(u);
	CHECK(stat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK_EQ_INT(st.st_mode & 07777, 0660); /* not chmod'ed to [unix] mode either */
	CHECK(fcntl(3, F_GETFD) < 0);           /* our copy closed */
	hwg_config_clear(&c);
}

/* Without systemd, our own socket: [unix] mode applied, removed at stop. */
static void
test_own_socket_removed_at_stop(void)
{
	struct hwg_config c;
	struct hwg_error err = {0};
	struct hwg_unix *u = NULL;
	struct stat st;

	config(&c, sock_path);
	c.socket_mode = 0600;
	unlink(sock_path);
	CHECK_EQ_INT(hwg_unix_start(NULL, &c, -1, &u, &err), 0);
	CHECK(stat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK_EQ_INT(st.st_mode & 07777, 0600);
	hwg_unix_stop(u);
	CHECK(stat(sock_path, &st) != 0 && errno == ENOENT);
	hwg_config_clear(&c);
}

static void
cleanup(void)
{
	char file[256];

	snprintf(file, sizeof(file), "%s/plain", dir);
	unlink(file);
	unlink(sock_path);
	rmdir(dir);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/hwgw.sock", dir);
	HWG_RUN(test_nothing_passed);
	HWG_RUN(test_other_pid_ignored);
	HWG_RUN(test_zero_fds);
	HWG_RUN(test_bad_count);
	HWG_RUN(test_two_sockets_refused);
	HWG_RUN(test_not_open);
	HWG_RUN(test_not_a_stream_socket);
	HWG_RUN(test_not_listening);
	HWG_RUN(test_abstract_refused);
	HWG_RUN(test_other_path_refused);
	HWG_RUN(test_world_bits_refused);
	HWG_RUN(test_taken);
	HWG_RUN(test_passed_socket_kept_at_stop);
	HWG_RUN(test_own_socket_removed_at_stop);
	cleanup();
	return HWG_TEST_END();
}
