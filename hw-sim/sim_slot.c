/*
 * sim_slot.c — a slot's thread: the vpcd side of a reader (see
 * sim_slot.h).  vpcd listens on 127.0.0.1:port; the card connects to it
 * while inserted and closes the connection when pulled out.  Frames are
 * a 2-byte big-endian length and a payload; a 1-byte payload is a control
 * code (00 power off, 01 power on, 02 reset, 04 ATR — only the ATR is
 * answered); anything longer is a C-APDU answered with the R-APDU.
 */
#include "sim_slot.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 50
#define RECONNECT_MS 200

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
vpcd_connect(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/*
 * vpcd writes a frame's length and payload separately; with Nagle on its
 * side and delayed ACKs on ours each APDU would wait ~40 ms.  Ask for
 * immediate ACKs before every read (Linux resets the flag by itself).
 */
static int
read_full(int fd, uint8_t *p, size_t n)
{
	int one = 1;

	while (n > 0) {
		ssize_t r;

		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		r = read(fd, p, n);

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
send_frame(int fd, const uint8_t *p, size_t n)
{
	uint8_t buf[2 + SIM_RAPDU_MAX];

	buf[0] = (uint8_t)(n >> 8);
	buf[1] = (uint8_t)n;
	memcpy(buf + 2, p, n);
	return write(fd, buf, n + 2) == (ssize_t)(n + 2) ? 0 : -1;
}

/* Log a C-APDU in hex; the data of VERIFY and CHANGE REFERENCE DATA as '*'. */
static void
log_apdu(struct sim_slot *s, const uint8_t *a, size_t n)
{
	int secret = n > 5 && a[0] == 0x00 && (a[1] == 0x20 || a[1] == 0x24);
	size_t need = s->log_len + 2 * n + 2;

	if (need > s->log_cap) {
		char *p = realloc(s->log, need * 2);

		if (p == NULL)
			return;
		s->log = p;
		s->log_cap = need * 2;
	}
	if (s->log_len > 0)
		s->log[s->log_len++] = ' ';
	for (size_t i = 0; i < n; i++) {
		if (secret && i >= 5)
			s->log_len += (size_t)sprintf(s->log + s->log_len, "**");
		else
			s->log_len += (size_t)sprintf(s->log + s->log_len, "%02X", a[i]);
	}
	s->log[s->log_len] = '\0';
	s->log_count++;
}

/* What to do with an APDU, decided under the lock. */
enum action { ANSWER, DROP_CARD, SWALLOW, GARBAGE };

static enum action
apdu_action(struct sim_slot *s)
{
	if (s->silent)
		return SWALLOW;
	if (s->fault == SIM_FAULT_NONE || ++s->since != s->fault_at)
		return ANSWER;
	switch (s->fault) {
	case SIM_FAULT_REMOVE:
		s->fault = SIM_FAULT_NONE;
		s->inserted = 0;
		return DROP_CARD;
	case SIM_FAULT_SILENT:
		s->silent = 1;
		return SWALLOW;
	default:
		s->fault = SIM_FAULT_NONE;
		return GARBAGE;
	}
}

/* One frame from vpcd: 0 handled, -1 the connection must close. */
static int
serve_frame(struct sim_slot *s, int fd)
{
	uint8_t head[2], in[65536], out[SIM_RAPDU_MAX];
	size_t n, rlen = 0;
	int is_sign = 0, delay;
	enum action act;

	if (read_full(fd, head, 2) != 0)
		return -1;
	n = (size_t)(head[0] << 8 | head[1]);
	if (n == 0 || read_full(fd, in, n) != 0)
		return -1;
	pthread_mutex_lock(&s->mu);
	if (s->card == NULL || !s->inserted) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	if (n == 1) {
		const uint8_t *atr = sim_card_atr(s->card, &rlen);

		if (in[0] == 0x04)
			memcpy(out, atr, rlen);
		else if (in[0] == 0x00 || in[0] == 0x02)
			sim_card_reset(s->card);
		pthread_mutex_unlock(&s->mu);
		return in[0] == 0x04 ? send_frame(fd, out, rlen) : 0;
	}
	act = apdu_action(s);
	if (act != DROP_CARD)
		log_apdu(s, in, n);
	if (act == ANSWER)
		sim_card_apdu(s->card, in, n, out, &rlen, &is_sign);
	delay = s->delay_apdu_ms + (is_sign ? s->delay_sign_ms : 0);
	pthread_mutex_unlock(&s->mu);
	if (act == DROP_CARD)
		return -1;
	if (act == SWALLOW)
		return 0;
	if (act == GARBAGE) {
		out[0] = 0x6F;
		return send_frame(fd, out, 1);
	}
	sleep_ms(delay);
	return send_frame(fd, out, rlen);
}

static int
want_connected(struct sim_slot *s)
{
	int want;

	pthread_mutex_lock(&s->mu);
	want = s->card != NULL && s->inserted && !s->unplugged;
	pthread_mutex_unlock(&s->mu);
	return want;
}

static int
stopping(struct sim_slot *s)
{
	int stop;

	pthread_mutex_lock(&s->mu);
	stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

static void *
slot_main(void *arg)
{
	struct sim_slot *s = arg;
	int fd = -1;

	while (!stopping(s)) {
		struct pollfd p;

		if (!want_connected(s)) {
			if (fd >= 0) {
				close(fd);
				fd = -1;
				fprintf(stderr, "hwsim: slot %d: card out\n", s->index);
			}
			sleep_ms(POLL_MS);
			continue;
		}
		if (fd < 0) {
			if ((fd = vpcd_connect(s->port)) < 0) {
				sleep_ms(RECONNECT_MS); /* pcscd not (yet) there: keep trying */
				continue;
			}
			fprintf(stderr, "hwsim: slot %d: card in (%s)\n", s->index, s->profile);
		}
		p = (struct pollfd){.fd = fd, .events = POLLIN};
		if (poll(&p, 1, POLL_MS) > 0 && serve_frame(s, fd) != 0) {
			close(fd);
			fd = -1;
			fprintf(stderr, "hwsim: slot %d: connection closed\n", s->index);
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

int
sim_slot_start(struct sim_slot *s, int index, int port)
{
	memset(s, 0, sizeof(*s));
	s->index = index;
	s->port = port;
	s->fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	return pthread_create(&s->thread, NULL, slot_main, s) == 0 ? 0 : -1;
}

void
sim_slot_stop(struct sim_slot *s)
{
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	sim_card_free(s->card);
	free(s->log);
	pthread_mutex_destroy(&s->mu);
}
