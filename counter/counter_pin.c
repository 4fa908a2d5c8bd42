/*
 * counter_pin.c — the resident's PIN: typed on the station's terminal
 * with echo off (termios on /dev/tty, restored whatever happens), or read
 * from a file a script made (mode 0600, ours; one line).  It lives only
 * in a locked buffer the caller wipes (struct hwg_secret), and goes
 * nowhere but into the signed request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "counter.h"
#include "hwg_file.h"
#include "hwg_secret.h"

#define PIN_MAX 64

/* Strip one trailing newline (and a carriage return before it). */
static void
chomp(struct hwg_secret *s)
{
	if (s->len > 0 && s->data[s->len - 1] == '\n')
		s->data[--s->len] = '\0';
	if (s->len > 0 && s->data[s->len - 1] == '\r')
		s->data[--s->len] = '\0';
}

static int
from_file(const char *path, struct hwg_secret *s, struct hwg_error *err)
{
	int rc = hwg_file_read_secret(path, s->data, PIN_MAX + 2, &s->len, err);

	if (rc == HWG_E_TOO_LARGE)
		return hwg_error_set(err, HWG_E_INVALID, "--pin-file %s: too long for a PIN", path);
	if (rc != 0)
		return rc;
	s->data[s->len] = '\0';
	chomp(s);
	return 0;
}

/* Read one line from fd with no echo. */
static int
read_line(int fd, struct hwg_secret *s)
{
	char ch;
	ssize_t n;

	s->len = 0;
	while ((n = read(fd, &ch, 1)) == 1 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		if (ch == '\n' || ch == '\r')
			break;
		if (s->len < PIN_MAX)
			s->data[s->len++] = ch;
	}
	ch = 0;
	s->data[s->len] = '\0';
	return n < 0 ? -1 : 0;
}

static int
from_tty(const char *prompt, struct hwg_secret *s, struct hwg_error *err)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	struct termios old, quiet;
	int rc;

	if (fd < 0)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "no terminal to type the PIN on: give --pin-file FILE");
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		return hwg_error_set(err, HWG_E_INVALID, "not a terminal: give --pin-file FILE");
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	(void)!write(fd, prompt, strlen(prompt));
	tcsetattr(fd, TCSAFLUSH, &quiet);
	rc = read_line(fd, s);
	tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	close(fd);
	return rc == 0 ? 0 : hwg_error_set(err, HWG_E_IO, "the PIN could not be read");
}

int
ctr_pin_read(const char *pin_file, const char *prompt, struct hwg_secret **out,
             struct hwg_error *err)
{
	struct hwg_secret *s = hwg_secret_new(PIN_MAX + 3);
	int rc;

	*out = NULL;
	if (s == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	rc = pin_file != NULL ? from_file(pin_file, s, err) : from_tty(prompt, s, err);
	if (rc == 0 && s->len == 0)
		rc = hwg_error_set(err, HWG_E_INVALID, "no PIN was given");
	if (rc != 0) {
		hwg_secret_free(s);
		return rc;
	}
	*out = s;
	return 0;
}
