/*
 * sim_cs.c — the simulated CS receiver (see sim_cs.h): libmicrohttpd on
 * the loopback interface, one request at a time (MHD's internal thread),
 * the state behind one mutex that the control commands share.
 */
#include "sim_cs.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hwg_cbor.h"
#include "sim_control.h"

#define BODY_MAX 65536
#define SEQ_MAX (1u << 26) /* the seen-bitmap's reach: 64 M notices */
#define DELAY_MAX_MS 600000

struct sim_cs {
	struct MHD_Daemon *d;
	int port;
	FILE *log;
	pthread_mutex_t mu;
	long fail_left, delay_ms, recorded, duplicates, failed;
	uint8_t *seen; /* one bit per sequence number */
	size_t seen_len;
};

struct upload {
	uint8_t buf[BODY_MAX];
	size_t len;
	int too_big;
};

/* ----------------------------------------------------------- recording */

static int
seen_test_set(struct sim_cs *cs, uint64_t seq)
{
	size_t byte = (size_t)(seq / 8);
	int was;

	if (byte >= cs->seen_len) {
		size_t n = byte * 2 + 64;
		uint8_t *p = realloc(cs->seen, n);
		if (p == NULL)
			return -1;
		memset(p + cs->seen_len, 0, n - cs->seen_len);
		cs->seen = p;
		cs->seen_len = n;
	}
	was = (cs->seen[byte] >> (seq % 8)) & 1;
	cs->seen[byte] |= (uint8_t)(1u << (seq % 8));
	return was;
}

struct notice {
	uint64_t seq;
	char code[16], reason[32], date[16];
};

static int
parse(const struct upload *u, struct notice *n)
{
	const char *why = NULL;
	cbor_item_t *m = hwg_cbor_load(u->buf, u->len, &why);
	int ok;

	if (m == NULL)
		return -1;
	ok = cbor_isa_map(m) && hwg_cbor_uint(hwg_cbor_map_get(m, "seq", NULL), &n->seq) == 0 &&
	     hwg_cbor_text_copy(hwg_cbor_map_get(m, "resident_code", NULL), n->code,
	                        sizeof(n->code)) == 0 &&
	     hwg_cbor_text_copy(hwg_cbor_map_get(m, "reason", NULL), n->reason,
	                        sizeof(n->reason)) == 0 &&
	     hwg_cbor_text_copy(hwg_cbor_map_get(m, "change_date", NULL), n->date,
	                        sizeof(n->date)) == 0;
	hwg_cbor_wipe_strings(m);
	cbor_decref(&m);
	return ok && n->seq > 0 && n->seq < SEQ_MAX ? 0 : -1;
}

/* The answer's status and text for one delivery; *delay how long to hold it. */
static unsigned
deliver(struct sim_cs *cs, const struct upload *u, char *text, size_t n, long *delay)
{
	struct notice x;
	int was;

	*delay = 0;
	if (u->too_big || parse(u, &x) != 0) {
		snprintf(text, n, "bad notice");
		return MHD_HTTP_BAD_REQUEST;
	}
	pthread_mutex_lock(&cs->mu);
	if (cs->fail_left > 0) {
		cs->fail_left--;
		cs->failed++;
		pthread_mutex_unlock(&cs->mu);
		snprintf(text, n, "fail");
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	if ((was = seen_test_set(cs, x.seq)) == 0) {
		fprintf(cs->log, "seq=%llu code=%s reason=%s date=%s\n", (unsigned long long)x.seq,
		        x.code, x.reason, x.date);
		fflush(cs->log);
		fsync(fileno(cs->log));
		cs->recorded++;
	} else if (was == 1) {
		cs->duplicates++;
	}
	*delay = cs->delay_ms;
	pthread_mutex_unlock(&cs->mu);
	snprintf(text, n, was < 0 ? "out of memory" : "ack %llu", (unsigned long long)x.seq);
	return was < 0 ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_OK;
}

/* --------------------------------------------------------------- HTTP */

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ok;

	if (r == NULL)
		return MHD_NO;
	ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result
on_request(void *arg, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *data, size_t *size, void **state)
{
	struct sim_cs *cs = arg;
	struct upload *u = *state;
	char text[64];
	long delay;
	unsigned status;

	(void)version;
	if (strcmp(method, "POST") != 0 || strcmp(url, "/notice") != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "POST /notice only");
	if (u == NULL) {
		if ((u = calloc(1, sizeof(*u))) == NULL)
			return MHD_NO;
		*state = u;
		return MHD_YES;
	}
	if (*size > 0) {
		if (u->len + *size > BODY_MAX)
			u->too_big = 1;
		else {
			memcpy(u->buf + u->len, data, *size);
			u->len += *size;
		}
		*size = 0;
		return MHD_YES;
	}
	status = deliver(cs, u, text, sizeof(text), &delay);
	if (delay > 0)
		usleep((useconds_t)delay * 1000);
	return reply(c, status, text);
}

static void
on_done(void *arg, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode why)
{
	(void)arg;
	(void)c;
	(void)why;
	free(*state);
	*state = NULL;
}

static int
listen_on(struct sim_cs *cs, struct hwg_error *err)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cs->port)};

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cs->d =
	    MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)cs->port, NULL, NULL,
	                     on_request, cs, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	                     MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_NOTIFY_COMPLETED,
	                     on_done, cs, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (cs->d == NULL)
		return hwg_error_set(err, HWG_E_IO, "cs: cannot listen on 127.0.0.1:%d", cs->port);
	return 0;
}

int
sim_cs_start(int port, const char *log_path, struct sim_cs **out, struct hwg_error *err)
{
	struct sim_cs *cs = calloc(1, sizeof(*cs));
	int rc;

	if (cs == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	cs->port = port;
	pthread_mutex_init(&cs->mu, NULL);
	if ((cs->log = fopen(log_path, "ae")) == NULL) {
		sim_cs_stop(cs);
		return hwg_error_set(err, HWG_E_IO, "cs: cannot open %s", log_path);
	}
	if ((rc = listen_on(cs, err)) != 0) {
		sim_cs_stop(cs);
		return rc;
	}
	*out = cs;
	return 0;
}

void
sim_cs_stop(struct sim_cs *cs)
{
	if (cs == NULL)
		return;
	if (cs->d != NULL)
		MHD_stop_daemon(cs->d);
	if (cs->log != NULL)
		fclose(cs->log);
	pthread_mutex_destroy(&cs->mu);
	free(cs->seen);
	free(cs);
}

/* ------------------------------------------------------------ control */

static char *
set_number(struct sim_cs *cs, long *field, const char *arg, long max)
{
	char *end;
	long v = arg != NULL ? strtol(arg, &end, 10) : -1;

	if (arg == NULL || *arg == '\0' || *end != '\0' || v < 0 || v > max)
		return sim_control_reply("err usage: cs fail N | cs delay MS (0 to %ld)", max);
	pthread_mutex_lock(&cs->mu);
	*field = v;
	pthread_mutex_unlock(&cs->mu);
	return sim_control_reply("ok");
}

static char *
status(struct sim_cs *cs)
{
	char *out;

	pthread_mutex_lock(&cs->mu);
	out = sim_control_reply("ok recorded=%ld duplicates=%ld failed=%ld away=%d", cs->recorded,
	                        cs->duplicates, cs->failed, cs->d == NULL);
	pthread_mutex_unlock(&cs->mu);
	return out;
}

static char *
away_back(struct sim_cs *cs, int away)
{
	struct hwg_error err = {0};

	if (away && cs->d != NULL) {
		MHD_stop_daemon(cs->d);
		cs->d = NULL;
	} else if (!away && cs->d == NULL && listen_on(cs, &err) != 0) {
		return sim_control_reply("err %s", err.message);
	}
	return sim_control_reply("ok");
}

char *
sim_cs_command(void *arg, const char *line)
{
	struct sim_cs *cs = arg;
	char verb[16] = "", num[24] = "", extra[2] = "";
	int n;

	if (strncmp(line, "cs ", 3) != 0 && strcmp(line, "cs") != 0)
		return NULL;
	n = sscanf(line + 2, "%15s %23s %1s", verb, num, extra);
	if (n < 1 || n > 2)
		return sim_control_reply("err usage: cs ack|fail N|away|back|delay MS|status");
	if (strcmp(verb, "fail") == 0)
		return set_number(cs, &cs->fail_left, n == 2 ? num : NULL, 1000000);
	if (strcmp(verb, "delay") == 0)
		return set_number(cs, &cs->delay_ms, n == 2 ? num : NULL, DELAY_MAX_MS);
	if (n != 1)
		return sim_control_reply("err usage: cs %s takes no argument", verb);
	if (strcmp(verb, "ack") == 0) {
		pthread_mutex_lock(&cs->mu);
		cs->fail_left = cs->delay_ms = 0;
		pthread_mutex_unlock(&cs->mu);
		return sim_control_reply("ok");
	}
	if (strcmp(verb, "away") == 0 || strcmp(verb, "back") == 0)
		return away_back(cs, strcmp(verb, "away") == 0);
	if (strcmp(verb, "status") == 0)
		return status(cs);
	return sim_control_reply("err usage: cs ack|fail N|away|back|delay MS|status");
}
