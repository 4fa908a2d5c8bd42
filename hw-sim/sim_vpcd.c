/*
 * sim_vpcd.c — the vpcd client of one reader slot (see sim_vpcd.h).
 *
 * vpcd listens on 127.0.0.1:port; the card connects to it while inserted
 * and closes the connection when pulled out, and vpcd reports the slot
 * empty while no one is connected.  Frames are a 2-byte big-endian length
 * and a payload; a 1-byte payload is a control code (00 power off, 01
 * power on, 02 reset, 04 get ATR — only the ATR is answered); anything
 * longer is a C-APDU answered with the R-APDU.  While a card is inserted
 * the slot reconnects every 200 ms, so pcscd may start late or restart.
 */
#include "sim_vpcd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 50
#define RECONNECT_MS 200
#define DELAY_STEP_MS 10
#define SIM_LOG_MAX (4u << 20)

void
sim_log(const char *fmt, ...)
{
	char line[512];
	struct timespec now;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "hwsim %02d:%02d:%02d.%03ld %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
	        now.tv_nsec / 1000000L, line);
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---------------------------------------------------------------- the socket */

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
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
send_frame(int fd, const uint8_t *p, size_t n)
{
	uint8_t buf[2 + SIM_RAPDU_MAX];
	size_t done = 0;

	buf[0] = (uint8_t)(n >> 8);
	buf[1] = (uint8_t)n;
	memcpy(buf + 2, p, n);
	while (done < n + 2) {
		ssize_t w = write(fd, buf + done, n + 2 - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

/* ---------------------------------------------------------------- the APDU log */

static void
log_append(struct sim_apdu_log *l, const char *text)
{
	size_t n = strlen(text), need = l->len + n + 2;

	if (need > SIM_LOG_MAX) {
		l->truncated = 1;
		return;
	}
	if (need > l->cap) {
		char *p = realloc(l->text, need * 2);

		if (p == NULL) {
			l->truncated = 1;
			return;
		}
		l->text = p;
		l->cap = need * 2;
	}
	if (l->len > 0)
		l->text[l->len++] = ' ';
	memcpy(l->text + l->len, text, n + 1);
	l->len += n;
}

/* Hex of the C-APDU; the data of VERIFY and CHANGE REFERENCE DATA as "**" per byte. */
static void
log_apdu(struct sim_apdu_log *l, const uint8_t *a, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	static _Thread_local char text[2 * 65536 + 1];
	int secret = sim_apdu_has_secret(a, n);

	for (size_t i = 0; i < n; i++) {
		text[2 * i] = secret && i >= 5 ? '*' : hex[a[i] >> 4];
		text[2 * i + 1] = secret && i >= 5 ? '*' : hex[a[i] & 15];
	}
	text[2 * n] = '\0';
	l->count++;
	log_append(l, text);
}

/* ---------------------------------------------------------------- frames */

/* What to do with an APDU, decided under the lock. */
enum action { ANSWER, DROP_CARD, SWALLOW, GARBAGE, HOLD };

static enum action
apdu_action(struct sim_slot *s)
{
	if (s->silent)
		return SWALLOW;
	if (s->fault == SIM_FAULT_NONE || ++s->since != s->fault_at)
		return ANSWER;
	switch (s->fault) {
	case SIM_FAULT_REMOVE:
		sim_log("slot %d: fault: card pulled at APDU %u", s->index, s->fault_at);
		s->fault = SIM_FAULT_NONE;
		s->inserted = 0;
		return DROP_CARD;
	case SIM_FAULT_HOLD:
		sim_log("slot %d: fault: APDU %u held", s->index, s->fault_at);
		s->fault = SIM_FAULT_NONE;
		s->held = 1;
		return HOLD;
	case SIM_FAULT_SILENT:
		sim_log("slot %d: fault: card silent from APDU %u", s->index, s->fault_at);
		s->silent = 1;
		return SWALLOW;
	default:
		sim_log("slot %d: fault: one garbage byte for APDU %u", s->index, s->fault_at);
		s->fault = SIM_FAULT_NONE;
		return GARBAGE;
	}
}

/* Under the lock: the card this connection was made for is still in (else: close). */
static int
card_here(const struct sim_slot *s, unsigned gen)
{
	return s->card != NULL && s->inserted && !s->unplugged && !s->stop && s->generation == gen;
}

/* Sleep ms unless the card is pulled meanwhile: then 0 (no answer is sent). */
static int
wait_still_in(struct sim_slot *s, int ms, unsigned gen)
{
	int in = 1;

	for (; ms > 0 && in; ms -= DELAY_STEP_MS) {
		sleep_ms(ms < DELAY_STEP_MS ? ms : DELAY_STEP_MS);
		pthread_mutex_lock(&s->mu);
		in = card_here(s, gen);
		pthread_mutex_unlock(&s->mu);
	}
	return in;
}

/*
 * A held APDU waits for sim_slot_release, unprocessed: a test kills the
 * gateway or pcscd while the gateway waits for this answer.  0 once
 * released (the card still in), -1 if the card went meanwhile.
 */
static int
wait_released(struct sim_slot *s, unsigned gen)
{
	int held = 1, in = 1;

	while (held && in) {
		sleep_ms(DELAY_STEP_MS);
		pthread_mutex_lock(&s->mu);
		held = s->held;
		in = card_here(s, gen);
		pthread_mutex_unlock(&s->mu);
	}
	return in ? 0 : -1;
}

static int
control_code(struct sim_slot *s, int fd, unsigned gen, uint8_t code)
{
	uint8_t atr[SIM_ATR_MAX];
	size_t len = 0;

	pthread_mutex_lock(&s->mu);
	if (!card_here(s, gen)) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	if (code == 0x04) {
		const uint8_t *p = sim_card_atr(s->card, &len);

		memcpy(atr, p, len);
	} else if (code == 0x00 || code == 0x02)
		sim_card_reset(s->card);
	pthread_mutex_unlock(&s->mu);
	if (code != 0x04)
		sim_log("slot %d: %s", s->index,
		        code == 0x00   ? "power off"
		        : code == 0x01 ? "power on"
		                       : "reset");
	return code == 0x04 ? send_frame(fd, atr, len) : 0;
}

static int
apdu(struct sim_slot *s, int fd, unsigned gen, const uint8_t *in, size_t n)
{
	uint8_t out[SIM_RAPDU_MAX];
	size_t rlen = sizeof(out);
	enum action act;
	int delay;

	pthread_mutex_lock(&s->mu);
	if (!card_here(s, gen)) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	act = apdu_action(s);
	if (act == HOLD) {
		pthread_mutex_unlock(&s->mu);
		if (wait_released(s, gen) != 0)
			return -1;
		pthread_mutex_lock(&s->mu);
		if (!card_here(s, gen)) {
			pthread_mutex_unlock(&s->mu);
			return -1;
		}
		act = ANSWER;
	}
	if (act != DROP_CARD)
		log_apdu(&s->log, in, n);
	if (act == ANSWER)
		sim_card_apdu(s->card, in, n, out, &rlen);
	delay = s->delay_apdu_ms + (sim_apdu_is_sign(in, n) ? s->delay_sign_ms : 0);
	pthread_mutex_unlock(&s->mu);
	if (act == DROP_CARD)
		return -1;
	if (act == SWALLOW)
		return 0;
	if (act == GARBAGE) {
		out[0] = (uint8_t)(0x5A ^ n);
		return send_frame(fd, out, 1);
	}
	if (delay > 0 && !wait_still_in(s, delay, gen))
		return 0; /* pulled during the delay: the thread closes the connection */
	return send_frame(fd, out, rlen);
}

/* One frame from vpcd: 0 handled, -1 the connection must close. */
static int
serve_frame(struct sim_slot *s, int fd, unsigned gen)
{
	static _Thread_local uint8_t in[65536];
	uint8_t head[2];
	size_t n;

	if (read_full(fd, head, 2) != 0)
		return -1;
	n = (size_t)(head[0] << 8 | head[1]);
	if (n == 0)
		return 0;
	if (read_full(fd, in, n) != 0)
		return -1;
	return n == 1 ? control_code(s, fd, gen, in[0]) : apdu(s, fd, gen, in, n);
}

/* ---------------------------------------------------------------- the slot's thread */

struct want {
	int stop, connected;
	unsigned generation;
};

static struct want
wanted(struct sim_slot *s)
{
	struct want w;

	pthread_mutex_lock(&s->mu);
	w.stop = s->stop;
	w.connected = s->card != NULL && s->inserted && !s->unplugged;
	w.generation = s->generation;
	pthread_mutex_unlock(&s->mu);
	return w;
}

static void
disconnect(struct sim_slot *s, int *fd, const char *why)
{
	pthread_mutex_lock(&s->mu);
	s->fd = -1;
	pthread_mutex_unlock(&s->mu);
	close(*fd);
	*fd = -1;
	sim_log("slot %d: %s", s->index, why);
}

/* Connect as a freshly powered card: 0, or -1 if vpcd is not listening. */
static int
connect_card(struct sim_slot *s, int *fd)
{
	char profile[sizeof(s->profile)];

	if ((*fd = vpcd_connect(s->port)) < 0)
		return -1;
	pthread_mutex_lock(&s->mu);
	s->fd = *fd;
	if (s->card != NULL)
		sim_card_reset(s->card);
	memcpy(profile, s->profile, sizeof(profile));
	pthread_mutex_unlock(&s->mu);
	sim_log("slot %d: card in (%s), connected to vpcd on port %d", s->index, profile, s->port);
	return 0;
}

static void
keep_connected(struct sim_slot *s, int *fd, unsigned *gen, const struct want *w, int *waiting)
{
	struct pollfd p;

	if (*fd < 0) {
		if (connect_card(s, fd) != 0) {
			if (!*waiting)
				sim_log("slot %d: vpcd not listening on port %d, retrying",
				        s->index, s->port);
			*waiting = 1;
			sleep_ms(RECONNECT_MS);
			return;
		}
		*waiting = 0;
		*gen = w->generation;
	}
	p = (struct pollfd){.fd = *fd, .events = POLLIN};
	if (poll(&p, 1, POLL_MS) > 0 && serve_frame(s, *fd, *gen) != 0)
		disconnect(s, fd, "connection closed");
}

static void *
slot_main(void *arg)
{
	struct sim_slot *s = arg;
	unsigned gen = 0;
	int fd = -1, waiting = 0;

	for (;;) {
		struct want w = wanted(s);

		if (w.stop)
			break;
		if (fd >= 0 && (!w.connected || w.generation != gen))
			disconnect(s, &fd, w.connected ? "card replaced" : "card out");
		if (w.connected)
			keep_connected(s, &fd, &gen, &w, &waiting);
		else
			sleep_ms(POLL_MS);
	}
	if (fd >= 0)
		disconnect(s, &fd, "stopped");
	return NULL;
}

int
sim_slot_start(struct sim_slot *s, int index, int port, struct hwg_error *err)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->index = index;
	s->port = port;
	s->fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	if ((rc = pthread_create(&s->thread, NULL, slot_main, s)) != 0)
		return hwg_error_set(err, HWG_E_INTERNAL, "slot %d: cannot start its thread: %s",
		                     index, strerror(rc));
	s->started = 1;
	return 0;
}

void
sim_slot_stop(struct sim_slot *s)
{
	if (!s->started)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	if (s->fd >= 0)
		shutdown(s->fd, SHUT_RDWR); /* a read in the middle of a frame returns */
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	sim_card_free(s->card);
	free(s->log.text);
	pthread_mutex_destroy(&s->mu);
	s->started = 0;
}

/* ---------------------------------------------------------------- commands */

void
sim_slot_insert(struct sim_slot *s, struct sim_card *card, const char *profile)
{
	const char *base = strrchr(profile, '/');

	pthread_mutex_lock(&s->mu);
	sim_card_free(s->card);
	s->card = card;
	snprintf(s->profile, sizeof(s->profile), "%s", base != NULL ? base + 1 : profile);
	s->inserted = 1;
	s->generation++;
	s->fault = SIM_FAULT_NONE;
	s->silent = s->held = 0;
	pthread_mutex_unlock(&s->mu);
	sim_log("slot %d: insert %s", s->index, profile);
}

void
sim_slot_remove(struct sim_slot *s)
{
	pthread_mutex_lock(&s->mu);
	s->inserted = 0;
	pthread_mutex_unlock(&s->mu);
	sim_log("slot %d: remove", s->index);
}

int
sim_slot_reinsert(struct sim_slot *s, struct hwg_error *err)
{
	int have;

	pthread_mutex_lock(&s->mu);
	if ((have = s->card != NULL)) {
		s->inserted = 1;
		s->generation++;
	}
	pthread_mutex_unlock(&s->mu);
	if (!have)
		return hwg_error_set(err, HWG_E_NOT_FOUND, "no card was ever inserted in slot %d",
		                     s->index);
	sim_log("slot %d: reinsert", s->index);
	return 0;
}

void
sim_slot_plug(struct sim_slot *s, int plugged)
{
	pthread_mutex_lock(&s->mu);
	s->unplugged = !plugged;
	pthread_mutex_unlock(&s->mu);
	sim_log("slot %d: reader %s", s->index, plugged ? "plugged" : "unplugged");
}

int
sim_slot_fault(struct sim_slot *s, enum sim_fault fault, unsigned at, struct hwg_error *err)
{
	if (fault != SIM_FAULT_NONE && at == 0)
		return hwg_error_set(err, HWG_E_INVALID, "APDUs are counted from 1");
	pthread_mutex_lock(&s->mu);
	s->fault = fault;
	s->fault_at = at;
	s->since = 0;
	if (fault == SIM_FAULT_NONE)
		s->silent = s->held = 0;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int
sim_slot_release(struct sim_slot *s)
{
	int was;

	pthread_mutex_lock(&s->mu);
	was = s->held;
	s->held = 0;
	pthread_mutex_unlock(&s->mu);
	if (was)
		sim_log("slot %d: held APDU released", s->index);
	return was ? 0 : -1;
}

int
sim_slot_held(struct sim_slot *s)
{
	int held;

	pthread_mutex_lock(&s->mu);
	held = s->held;
	pthread_mutex_unlock(&s->mu);
	return held;
}

void
sim_slot_delay(struct sim_slot *s, int apdu_ms, int sign_ms)
{
	pthread_mutex_lock(&s->mu);
	s->delay_apdu_ms = apdu_ms;
	s->delay_sign_ms = sign_ms;
	pthread_mutex_unlock(&s->mu);
}

char *
sim_slot_apdus(struct sim_slot *s)
{
	char *out;
	size_t cap;

	pthread_mutex_lock(&s->mu);
	cap = s->log.len + 32;
	if ((out = malloc(cap)) != NULL)
		snprintf(out, cap, "%u%s%s", s->log.count, s->log.len > 0 ? " " : "",
		         s->log.len > 0 ? s->log.text : "");
	pthread_mutex_unlock(&s->mu);
	return out;
}

void
sim_slot_apdus_clear(struct sim_slot *s)
{
	pthread_mutex_lock(&s->mu);
	s->log.len = 0;
	s->log.count = 0;
	s->log.truncated = 0;
	pthread_mutex_unlock(&s->mu);
}

int
sim_slot_tries(struct sim_slot *s, int tries[SIM_N_PINS], struct hwg_error *err)
{
	int have;

	pthread_mutex_lock(&s->mu);
	if ((have = s->card != NULL))
		for (int i = 0; i < SIM_N_PINS; i++)
			tries[i] = sim_card_tries(s->card, (enum sim_pin_id)i);
	pthread_mutex_unlock(&s->mu);
	return have ? 0 : hwg_error_set(err, HWG_E_NOT_FOUND, "no card in slot %d", s->index);
}

int
sim_slot_tamper(struct sim_slot *s, struct hwg_error *err)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = s->card != NULL ? sim_card_tamper_facts(s->card, err)
	                     : hwg_error_set(err, HWG_E_NOT_FOUND, "no card in slot %d", s->index);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void
sim_slot_describe(struct sim_slot *s, char *out, size_t cap)
{
	pthread_mutex_lock(&s->mu);
	if (s->unplugged)
		snprintf(out, cap, "unplugged");
	else if (s->card != NULL && s->inserted)
		snprintf(out, cap, "card:%s", s->profile);
	else
		snprintf(out, cap, "empty");
	pthread_mutex_unlock(&s->mu);
}
