/*
 * sim_printer_usb.c — see sim_printer_usb.h.  The USB side calls the
 * engine under sim_usb's lock; the control side and the ticker call it
 * with the bus's lock; the engine's own mutex keeps them apart, and is
 * never held while sim_usb is called (lock order: bus, then sim_usb, then
 * engine).
 */
#include "sim_printer_usb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwg_ieee1284.h"
#include "hwg_time.h"
#include "sim_control.h"

#define MAX_WORDS 5
#define TICK_MS 10
#define PAGE_MAX 99999
#define SPEED_MAX 600000
#define CHUNK_MAX 4096

/* ---------------------------------------------------------------- USB side */

static void
usb_out(void *dev, const uint8_t *data, size_t len)
{
	sim_printer_write(dev, (uint64_t)hwg_now_ms(), data, len);
}

static int
usb_in(void *dev, int64_t now_ms, uint8_t *buf, size_t cap, size_t *len)
{
	return sim_printer_read(dev, (uint64_t)now_ms, buf, cap, len) == 1;
}

/* The printer class's three requests to interface 0 (firmware-notes/certificate-printer.md). */
static int
usb_control(void *dev, const uint8_t setup[8], uint8_t *data, size_t *len)
{
	unsigned type = setup[0], req = setup[1];
	unsigned value = setup[2] | setup[3] << 8, index = setup[4] | setup[5] << 8;
	unsigned length = setup[6] | setup[7] << 8;

	*len = 0;
	if (type == 0xA1 && req == HWG_PRN_REQ_GET_DEVICE_ID && value == 0 && index >> 8 == 0) {
		*len = sim_printer_device_id(dev, data, length);
		return 0;
	}
	if (type == 0xA1 && req == HWG_PRN_REQ_GET_PORT_STATUS && index == 0 && length >= 1) {
		data[0] = sim_printer_port_status(dev, (uint64_t)hwg_now_ms());
		*len = 1;
		return 0;
	}
	if ((type == 0x21 || type == 0x23) && req == HWG_PRN_REQ_SOFT_RESET && index == 0) {
		sim_printer_soft_reset(dev, (uint64_t)hwg_now_ms());
		return 0;
	}
	return -1; /* stall */
}

static const struct sim_usb_device_ops printer_ops = {usb_out, usb_in, usb_control};

/* With b->mu held. */
static int
plug(struct sim_printer_bus *b, int i, struct hwg_error *err)
{
	const struct sim_usb_identity id = {SIM_PRINTER_VID,
	                                    SIM_PRINTER_PID,
	                                    HWG_PRN_USB_CLASS,
	                                    HWG_PRN_USB_SUBCLASS,
	                                    HWG_PRN_USB_PROTOCOL,
	                                    sim_printer_serial(b->p[i]),
	                                    "hwsim certificate printer"};

	sim_printer_plug(b->p[i]);
	return sim_usb_plug(b->usb, SIM_PRINTER_PORT0 + i, &id, &printer_ops, b->p[i], err);
}

/* With b->mu held: the engine first (its job lost), then the bus (the driver sees ENODEV). */
static int
unplug(struct sim_printer_bus *b, int i, struct hwg_error *err)
{
	sim_printer_unplug(b->p[i], (uint64_t)hwg_now_ms());
	return sim_usb_unplug(b->usb, SIM_PRINTER_PORT0 + i, err);
}

/* ---------------------------------------------------------------- the ticker */

/* Printing goes on while nobody reads; a printer whose vanish page came is pulled out. */
static void *
ticker_main(void *arg)
{
	struct sim_printer_bus *b = arg;
	const struct timespec slice = {0, TICK_MS * 1000000L};

	for (;;) {
		int printing = 0;

		pthread_mutex_lock(&b->mu);
		if (b->stop) {
			pthread_mutex_unlock(&b->mu);
			return NULL;
		}
		for (int i = 0; i < b->n; i++) {
			uint64_t at;

			if (!sim_usb_plugged(b->usb, SIM_PRINTER_PORT0 + i))
				continue;
			if (sim_printer_tick(b->p[i], (uint64_t)hwg_now_ms())) {
				sim_log("printer %s: vanished mid-job",
				        sim_printer_serial(b->p[i]));
				unplug(b, i, NULL);
			}
			printing |= sim_printer_next_event(b->p[i], &at);
		}
		pthread_mutex_unlock(&b->mu);
		if (printing) /* a sheet may be out, and its read-backs due to a waiting reap */
			sim_usb_kick(b->usb);
		nanosleep(&slice, NULL);
	}
}

/* ---------------------------------------------------------------- life cycle */

int
sim_printer_bus_open(struct sim_printer_bus *b, struct sim_usb *usb, const char *spool_dir,
                     struct hwg_error *err)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
	b->usb = usb;
	if ((b->spool_dir = strdup(spool_dir)) == NULL) {
		sim_printer_bus_close(b);
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	if (pthread_create(&b->ticker, NULL, ticker_main, b) != 0) {
		sim_printer_bus_close(b);
		return hwg_error_set(err, HWG_E_IO, "cannot start the printers' thread");
	}
	b->started = 1;
	return 0;
}

void
sim_printer_bus_close(struct sim_printer_bus *b)
{
	if (b->usb == NULL)
		return; /* zeroed: never opened */
	if (b->started) {
		pthread_mutex_lock(&b->mu);
		b->stop = 1;
		pthread_mutex_unlock(&b->mu);
		pthread_join(b->ticker, NULL);
	}
	for (int i = 0; i < b->n; i++) {
		if (sim_usb_plugged(b->usb, SIM_PRINTER_PORT0 + i))
			unplug(b, i, NULL); /* no ioctl reaches an unplugged engine */
		sim_printer_free(b->p[i]);
	}
	free(b->spool_dir);
	pthread_mutex_destroy(&b->mu);
	memset(b, 0, sizeof(*b));
}

/* ---------------------------------------------------------------- commands */

static char *
reply_rc(int rc, const struct hwg_error *err)
{
	return rc == 0 ? sim_control_reply("ok") : sim_control_reply("err %s", err->message);
}

/* A number in min..max, digits only. */
static int
number(const char *w, unsigned long min, unsigned long max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (w == NULL || *w < '0' || *w > '9')
		return -1;
	v = strtoul(w, &end, 10);
	if (*end != '\0' || v < min || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int
find(const struct sim_printer_bus *b, const char *serial)
{
	for (int i = 0; serial != NULL && i < b->n; i++)
		if (strcmp(serial, sim_printer_serial(b->p[i])) == 0)
			return i;
	return -1;
}

/* printer plug SERIAL [MODEL]: a new printer, or one known back in. */
static char *
cmd_plug(struct sim_printer_bus *b, char **w, int n)
{
	struct sim_printer_config cfg = {
	    .serial = w[2], .model = n > 3 ? w[3] : NULL, .spool_dir = b->spool_dir};
	struct hwg_error err = {0};
	int i = find(b, w[2]), rc;

	if (i >= 0 && sim_usb_plugged(b->usb, SIM_PRINTER_PORT0 + i))
		return sim_control_reply("err printer %s is plugged in already", w[2]);
	if (i < 0) {
		if (b->n == SIM_PRINTERS)
			return sim_control_reply("err at most %d printers", SIM_PRINTERS);
		if (sim_printer_new(&cfg, &b->p[b->n], &err) != 0)
			return reply_rc(-1, &err);
		i = b->n++;
	}
	if ((rc = plug(b, i, &err)) == 0)
		sim_log("printer %s: plugged in", w[2]);
	return reply_rc(rc, &err);
}

static char *
cmd_paper(struct sim_printer_bus *b, struct sim_printer *p, char **w, int n)
{
	unsigned page;

	if (n == 4 && strcmp(w[3], "out") == 0)
		sim_printer_set_paper_out(p, (uint64_t)hwg_now_ms(), 1);
	else if (n == 4 && strcmp(w[3], "in") == 0)
		sim_printer_set_paper_out(p, (uint64_t)hwg_now_ms(), 0);
	else if (n == 5 && strcmp(w[3], "out-at") == 0 && number(w[4], 1, PAGE_MAX, &page) == 0)
		sim_printer_paper_out_at(p, page);
	else
		return sim_control_reply("err usage: printer paper SERIAL out|in|out-at PAGE");
	sim_usb_kick(b->usb);
	return sim_control_reply("ok");
}

/* jam, vanish: PAGE (jam also "clear"). */
static char *
cmd_page(struct sim_printer_bus *b, struct sim_printer *p, char **w, int n)
{
	int jam = strcmp(w[1], "jam") == 0;
	unsigned page;

	if (jam && n == 4 && strcmp(w[3], "clear") == 0) {
		sim_printer_clear_jam(p, (uint64_t)hwg_now_ms());
		sim_usb_kick(b->usb);
		return sim_control_reply("ok");
	}
	if (n != 4 || number(w[3], 1, PAGE_MAX, &page) != 0)
		return sim_control_reply("err usage: printer %s SERIAL PAGE%s", w[1],
		                         jam ? "|clear" : "");
	if (jam)
		sim_printer_jam_at(p, page);
	else
		sim_printer_vanish_at(p, page);
	return sim_control_reply("ok");
}

/* offline on|off, door open|closed. */
static char *
cmd_switch(struct sim_printer_bus *b, struct sim_printer *p, char **w, int n)
{
	int door = strcmp(w[1], "door") == 0;
	const char *on = door ? "open" : "on", *off = door ? "closed" : "off";

	if (n != 4 || (strcmp(w[3], on) != 0 && strcmp(w[3], off) != 0))
		return sim_control_reply("err usage: printer %s SERIAL %s|%s", w[1], on, off);
	if (door)
		sim_printer_set_door_open(p, (uint64_t)hwg_now_ms(), strcmp(w[3], on) == 0);
	else
		sim_printer_set_offline(p, (uint64_t)hwg_now_ms(), strcmp(w[3], on) == 0);
	sim_usb_kick(b->usb);
	return sim_control_reply("ok");
}

/* speed MS_PER_PAGE, chunk BYTES. */
static char *
cmd_setting(struct sim_printer *p, char **w, int n)
{
	int speed = strcmp(w[1], "speed") == 0;
	unsigned v;

	if (n != 4 || number(w[3], 0, speed ? SPEED_MAX : CHUNK_MAX, &v) != 0)
		return sim_control_reply("err usage: printer %s SERIAL %s", w[1],
		                         speed ? "MS_PER_PAGE (0..600000)" : "BYTES (0..4096)");
	if (speed)
		sim_printer_set_speed(p, v);
	else
		sim_printer_set_chunk(p, v);
	return sim_control_reply("ok");
}

static char *
cmd_jobs(struct sim_printer *p)
{
	static struct sim_printer_job jobs[SIM_PRINTER_JOBS_KEPT]; /* the control thread's only */
	char all[64 + 96 * SIM_PRINTER_JOBS_KEPT] = "ok";
	size_t n = sim_printer_jobs(p, jobs, SIM_PRINTER_JOBS_KEPT), len = 2;

	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(all + len, sizeof(all) - len, " %s=%u/%u:%s",
		                        jobs[i].name[0] != '\0' ? jobs[i].name : "-", jobs[i].out,
		                        jobs[i].pages, sim_printer_outcome_name(jobs[i].outcome));
	return sim_control_reply("%s", all);
}

static char *
cmd_list(struct sim_printer_bus *b)
{
	char all[64 + 96 * SIM_PRINTERS] = "ok";
	size_t len = 2;

	for (int i = 0; i < b->n; i++)
		len += (size_t)snprintf(all + len, sizeof(all) - len, " %s:%s",
		                        sim_printer_serial(b->p[i]), sim_printer_state(b->p[i]));
	return sim_control_reply("%s", all);
}

/* The commands on a known printer; with b->mu held. */
static char *
cmd_printer(struct sim_printer_bus *b, int i, char **w, int n)
{
	struct sim_printer *p = b->p[i];
	struct hwg_error err = {0};
	const char *c = w[1];
	int rc;

	if (!strcmp(c, "unplug")) {
		if (!sim_usb_plugged(b->usb, SIM_PRINTER_PORT0 + i))
			return sim_control_reply("err printer %s is not plugged in", w[2]);
		rc = unplug(b, i, &err);
		sim_log("printer %s: unplugged", w[2]);
		return reply_rc(rc, &err);
	}
	if (!strcmp(c, "paper"))
		return cmd_paper(b, p, w, n);
	if (!strcmp(c, "jam") || !strcmp(c, "vanish"))
		return cmd_page(b, p, w, n);
	if (!strcmp(c, "offline") || !strcmp(c, "door"))
		return cmd_switch(b, p, w, n);
	if (!strcmp(c, "speed") || !strcmp(c, "chunk"))
		return cmd_setting(p, w, n);
	if (!strcmp(c, "jobs") && n == 3)
		return cmd_jobs(p);
	if (!strcmp(c, "spool-error") && n == 3) {
		char e[256];

		sim_printer_spool_error(p, e, sizeof(e));
		return sim_control_reply("ok %s", e);
	}
	return sim_control_reply("err unknown printer command %.32s", c);
}

static char *
dispatch(struct sim_printer_bus *b, char **w, int n)
{
	int i;

	if (n == 2 && strcmp(w[1], "list") == 0)
		return cmd_list(b);
	if (n < 3)
		return sim_control_reply("err usage: printer COMMAND SERIAL ...");
	if (strcmp(w[1], "plug") == 0)
		return n <= 4 ? cmd_plug(b, w, n)
		              : sim_control_reply("err usage: printer plug SERIAL [MODEL]");
	if ((i = find(b, w[2])) < 0)
		return sim_control_reply("err no printer %.32s", w[2]);
	return cmd_printer(b, i, w, n);
}

char *
sim_printer_bus_command(void *bus, const char *line)
{
	struct sim_printer_bus *b = bus;
	char copy[512], *w[MAX_WORDS + 1] = {0}, *save = NULL, *out;
	int n = 0;

	if (strncmp(line, "printer ", 8) != 0 && strcmp(line, "printer") != 0)
		return NULL;
	if (b == NULL || b->usb == NULL)
		return sim_control_reply("err no printers: hwsim was started without --spool");
	if (strlen(line) >= sizeof(copy))
		return sim_control_reply("err line too long");
	memcpy(copy, line, strlen(line) + 1);
	for (char *t = strtok_r(copy, " \t\r", &save); t != NULL && n <= MAX_WORDS;
	     t = strtok_r(NULL, " \t\r", &save))
		w[n++] = t;
	if (n > MAX_WORDS)
		return sim_control_reply("err too many words");
	pthread_mutex_lock(&b->mu);
	out = dispatch(b, w, n);
	pthread_mutex_unlock(&b->mu);
	return out;
}
