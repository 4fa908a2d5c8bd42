/*
 * hwg_printer_usb.c — see hwg_printer.h.  The table and the watcher are
 * the palm-vein driver's (drivers/vein/hwg_vein_usb.c): hot-plug callbacks
 * only note arrivals and departures, and the watcher thread opens,
 * claims and identifies (GET_DEVICE_ID) each new printer outside them, or
 * rescans every scan_interval_ms without hot-plug.  A device is looked at
 * through its descriptors only (no open) until it shows the printer
 * interface, so the driver never touches a palm-vein terminal.  Jobs run
 * on the caller's thread with libusb's synchronous transfers; a printer is
 * reference-counted so that one unplugged mid-job stays valid until that
 * job has returned.  The printer's bytes go through hwg_ieee1284 and
 * hwg_pjl only.
 */
#include "hwg_printer.h"

#include <libusb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwg_ieee1284.h"
#include "hwg_pjl.h"
#include "hwg_time.h"

#define WATCH_SLICE_MS 100
#define MAX_PENDING 16
#define DRAIN_MS 20 /* a read-back queue that stays silent this long is empty */
#define TIMEOUT_MAX_MS (24 * 3600 * 1000)

struct printer {
	int refs;                /* the table's and each caller's; under P->mu */
	libusb_device *dev;      /* a reference */
	libusb_device_handle *h; /* open, interface claimed */
	int iface, alt, config_index;
	uint8_t ep_out, ep_in;
	struct hwg_printer_info info;
	pthread_mutex_t job;     /* one job (or status probe) at a time: bulk OUT and IN */
	int gone;                /* unplugged; under P->mu */
	int printing;            /* a job (not a listing's check) holds `job`; under P->mu */
	enum hwg_pjl_state last; /* the last USTATUS DEVICE state read; under P->mu */
};

struct hwg_printer {
	struct hwg_printer_config cfg;
	libusb_context *ctx;
	hwg_printer_event_fn on_event;
	void *arg;
	pthread_t thread;
	int started;
	volatile int stop;
	int hotplug;
	libusb_hotplug_callback_handle hp;
	pthread_mutex_t mu; /* the tables and the pending lists */
	struct printer *t[HWG_PRINTER_MAX];
	struct hwg_printer_info absent[HWG_PRINTER_MAX]; /* left; serial "" if the slot is free */
	libusb_device *arrived[MAX_PENDING];
	size_t n_arrived;
	libusb_device *left[MAX_PENDING];
	size_t n_left;
	int64_t next_scan_ms;
};

/* ---------------------------------------------------------------- printers */

static void
printer_free(struct printer *t)
{
	if (t->h != NULL) {
		libusb_release_interface(t->h, t->iface);
		libusb_close(t->h);
	}
	if (t->dev != NULL)
		libusb_unref_device(t->dev);
	pthread_mutex_destroy(&t->job);
	free(t);
}

/* Drop a reference; the last one closes the handle (never from a hot-plug callback). */
static void
printer_put(struct hwg_printer *P, struct printer *t)
{
	int last;

	pthread_mutex_lock(&P->mu);
	last = --t->refs == 0;
	pthread_mutex_unlock(&P->mu);
	if (last)
		printer_free(t);
}

static int
printer_gone(struct hwg_printer *P, struct printer *t)
{
	int gone;

	pthread_mutex_lock(&P->mu);
	gone = t->gone;
	pthread_mutex_unlock(&P->mu);
	return gone;
}

static void
set_last(struct hwg_printer *P, struct printer *t, enum hwg_pjl_state st)
{
	pthread_mutex_lock(&P->mu);
	t->last = st;
	pthread_mutex_unlock(&P->mu);
}

static void
emit(struct hwg_printer *P, const char *event, const char *printer)
{
	if (P->on_event != NULL)
		P->on_event(P->arg, event, printer);
}

/* ---------------------------------------------------------------- USB */

/* A libusb failure as ours: a printer that went away is HWG_E_PRINTER_REMOVED. */
static int
usb_error(struct hwg_printer *P, struct printer *t, int rc, const char *what, struct hwg_error *err)
{
	if (rc == LIBUSB_ERROR_NO_DEVICE || printer_gone(P, t))
		return hwg_error_set(err, HWG_E_PRINTER_REMOVED,
		                     "printer %s was unplugged during %s", t->info.serial, what);
	if (rc == LIBUSB_ERROR_TIMEOUT)
		return hwg_error_set(err, HWG_E_PRINTER_ERROR,
		                     "printer %s did not answer %s in %d ms", t->info.serial, what,
		                     P->cfg.command_timeout_ms);
	return hwg_error_set(err, HWG_E_PRINTER_ERROR, "printer %s: %s failed: %s", t->info.serial,
	                     what, libusb_strerror(rc));
}

static int
get_device_id(struct hwg_printer *P, struct printer *t, struct hwg_ieee1284_id *id,
              struct hwg_error *err)
{
	uint8_t buf[HWG_IEEE1284_ID_MAX];
	int n;

	memset(buf, 0, sizeof(buf));
	n = libusb_control_transfer(t->h, 0xA1, HWG_PRN_REQ_GET_DEVICE_ID,
	                            (uint16_t)t->config_index, (uint16_t)(t->iface << 8 | t->alt),
	                            buf, sizeof(buf), (unsigned)P->cfg.command_timeout_ms);
	if (n < 0)
		return usb_error(P, t, n, "GET_DEVICE_ID", err);
	return hwg_ieee1284_parse(buf, (size_t)n, id, err);
}

static int
get_port_status(struct hwg_printer *P, struct printer *t, struct hwg_prn_port *ps,
                struct hwg_error *err)
{
	uint8_t b[8];
	int n =
	    libusb_control_transfer(t->h, 0xA1, HWG_PRN_REQ_GET_PORT_STATUS, 0, (uint16_t)t->iface,
	                            b, 1, (unsigned)P->cfg.command_timeout_ms);

	if (n < 0)
		return usb_error(P, t, n, "GET_PORT_STATUS", err);
	return hwg_prn_port_parse(b, (size_t)n, ps, err);
}

/* Best effort: the printer drops what it holds of an unfinished job. */
static void
soft_reset(struct hwg_printer *P, struct printer *t)
{
	libusb_control_transfer(t->h, 0x21, HWG_PRN_REQ_SOFT_RESET, 0, (uint16_t)t->iface, NULL, 0,
	                        (unsigned)P->cfg.command_timeout_ms);
}

/* All of len bytes to bulk OUT before deadline; *moved set once a byte may have left. */
static int
send_bytes(struct hwg_printer *P, struct printer *t, const uint8_t *b, size_t len, int64_t deadline,
           int *moved, const char *what, struct hwg_error *err)
{
	while (len > 0) {
		int64_t left = deadline - hwg_now_ms();
		int chunk = len > (1 << 30) ? 1 << 30 : (int)len, done = 0, rc;

		if (left <= 0)
			return hwg_error_set(err, HWG_E_PRINT_UNCONFIRMED,
			                     "printer %s did not take %s in time", t->info.serial,
			                     what);
		rc = libusb_bulk_transfer(t->h, t->ep_out, (unsigned char *)b, chunk, &done,
		                          (unsigned)left);
		if (done > 0 || rc == 0 || rc == LIBUSB_ERROR_TIMEOUT)
			*moved = 1;
		if (rc != 0 && rc != LIBUSB_ERROR_TIMEOUT) /* a timeout: the deadline ends this */
			return usb_error(P, t, rc, what, err);
		b += done;
		len -= (size_t)done;
	}
	return 0;
}

/* ---------------------------------------------------------------- read-backs */

struct readback {
	struct hwg_pjl_reader *r;
	uint8_t buf[HWG_PJL_FEED_MAX];
	int refused; /* messages that did not parse */
	struct hwg_error last_refusal;
};

/*
 * The next whole read-back message within deadline: 1 and *m, 0 when the
 * deadline passed first, an error when the printer went away during
 * `what` or USB failed.  Messages that do not parse are counted and
 * skipped.
 */
static int
next_msg(struct hwg_printer *P, struct printer *t, struct readback *rb, int64_t deadline,
         const char *what, struct hwg_pjl_msg *m, struct hwg_error *err)
{
	for (;;) {
		int64_t left;
		int got = 0, rc;

		while ((rc = hwg_pjl_reader_next(rb->r, m, &rb->last_refusal)) != 0) {
			if (rc == 1)
				return 1;
			rb->refused++;
		}
		if ((left = deadline - hwg_now_ms()) <= 0)
			return 0;
		/* no stale bytes of ours travel with the request (umockdev copies the buffer out)
		 */
		memset(rb->buf, 0, sizeof(rb->buf));
		rc = libusb_bulk_transfer(t->h, t->ep_in, rb->buf, sizeof(rb->buf), &got,
		                          (unsigned)left);
		if (rc != 0 && rc != LIBUSB_ERROR_TIMEOUT)
			return usb_error(P, t, rc, what, err);
		if (got > 0 && (rc = hwg_pjl_reader_feed(rb->r, rb->buf, (size_t)got, err)) != 0)
			return rc;
	}
}

/*
 * Read and drop what the printer said while nobody listened (until it is
 * silent for DRAIN_MS, at most command_timeout_ms); its last DEVICE state
 * kept.
 */
static int
drain(struct hwg_printer *P, struct printer *t, struct readback *rb, struct hwg_error *err)
{
	int64_t until = hwg_now_ms() + P->cfg.command_timeout_ms;
	struct hwg_pjl_msg m;
	int rc;

	for (;;) {
		int64_t quiet = hwg_now_ms() + DRAIN_MS;

		if ((rc = next_msg(P, t, rb, quiet < until ? quiet : until, "its read-backs", &m,
		                   err)) != 1)
			return rc;
		if (m.kind == HWG_PJL_DEVICE)
			set_last(P, t, m.state);
	}
}

/*
 * What a DEVICE state means for the job in progress (or, before a job,
 * for the probe): 0 to go on, else the error that ends it.
 */
static int
device_verdict(const struct printer *t, const struct hwg_pjl_msg *m, const char *during,
               struct hwg_error *err)
{
	const char *s = t->info.serial;

	switch (m->state) {
	case HWG_PJL_ST_PAPER_JAM:
		return hwg_error_set(err, HWG_E_PRINTER_JAM,
		                     "printer %s jammed%s (code %u, \"%s\")", s, during, m->code,
		                     m->display);
	case HWG_PJL_ST_PAPER_OUT:
		return hwg_error_set(err, HWG_E_PAPER_OUT,
		                     "printer %s is out of paper in tray %u%s (code %u)", s,
		                     m->tray, during, m->code);
	case HWG_PJL_ST_DOOR_OPEN:
		return hwg_error_set(err, HWG_E_PRINTER_OFFLINE, "printer %s has its door open%s",
		                     s, during);
	case HWG_PJL_ST_OFFLINE:
		return hwg_error_set(err, HWG_E_PRINTER_OFFLINE, "printer %s was taken offline%s",
		                     s, during);
	case HWG_PJL_ST_UNKNOWN:
		if (!m->online)
			return hwg_error_set(err, HWG_E_PRINTER_ERROR,
			                     "printer %s is offline with code %u (\"%s\")%s", s,
			                     m->code, m->display, during);
		return 0;
	default:
		return 0; /* ready, printing, power save, memory full */
	}
}

/* The port status says error: ask the printer why (the status probe). */
static int
why_error(struct hwg_printer *P, struct printer *t, struct readback *rb, struct hwg_error *err)
{
	static const char probe[] = HWG_PJL_STATUS_PROBE;
	int64_t deadline = hwg_now_ms() + P->cfg.command_timeout_ms;
	struct hwg_pjl_msg m;
	int moved = 0, rc;

	if ((rc = send_bytes(P, t, (const uint8_t *)probe, sizeof(probe) - 1, deadline, &moved,
	                     "the status probe", err)) != 0)
		return rc == HWG_E_PRINT_UNCONFIRMED
		           ? usb_error(P, t, LIBUSB_ERROR_TIMEOUT, "the status probe", err)
		           : rc;
	while ((rc = next_msg(P, t, rb, deadline, "the status probe", &m, err)) == 1) {
		if (m.kind != HWG_PJL_DEVICE)
			continue;
		set_last(P, t, m.state);
		if ((rc = device_verdict(t, &m, "", err)) != 0)
			return rc;
		return hwg_error_set(err, HWG_E_PRINTER_ERROR,
		                     "printer %s: its port status says error, its device status "
		                     "code %u (\"%s\")",
		                     t->info.serial, m.code, m.display);
	}
	if (rc == 0)
		return hwg_error_set(err, HWG_E_PRINTER_ERROR,
		                     "printer %s: its port status says error and it did not say "
		                     "why in %d ms",
		                     t->info.serial, P->cfg.command_timeout_ms);
	return rc;
}

/* Ready to take a job: the stale read-backs drained, then the port status (and why not). */
static int
precheck(struct hwg_printer *P, struct printer *t, struct readback *rb, struct hwg_error *err)
{
	struct hwg_prn_port ps;
	int rc;

	if ((rc = drain(P, t, rb, err)) < 0 || (rc = get_port_status(P, t, &ps, err)) != 0)
		return rc;
	if (ps.paper_empty) {
		set_last(P, t, HWG_PJL_ST_PAPER_OUT);
		return hwg_error_set(err, HWG_E_PAPER_OUT, "printer %s is out of paper",
		                     t->info.serial);
	}
	if (ps.error)
		return why_error(P, t, rb, err);
	if (!ps.selected) {
		set_last(P, t, HWG_PJL_ST_OFFLINE);
		return hwg_error_set(err, HWG_E_PRINTER_OFFLINE, "printer %s is offline",
		                     t->info.serial);
	}
	return 0;
}

/* ---------------------------------------------------------------- attaching */

/* The interface 07/01/02 with a bulk OUT and a bulk IN endpoint, in any configuration. */
static int
find_interface(libusb_device *dev, struct printer *t)
{
	struct libusb_device_descriptor dd;
	int found = 0;

	if (libusb_get_device_descriptor(dev, &dd) != 0)
		return 0;
	for (int c = 0; c < dd.bNumConfigurations && !found; c++) {
		struct libusb_config_descriptor *cfg;

		if (libusb_get_config_descriptor(dev, (uint8_t)c, &cfg) != 0)
			continue;
		for (int i = 0; i < cfg->bNumInterfaces && !found; i++)
			for (int a = 0; a < cfg->interface[i].num_altsetting && !found; a++) {
				const struct libusb_interface_descriptor *d =
				    &cfg->interface[i].altsetting[a];
				uint8_t out = 0, in = 0;

				if (d->bInterfaceClass != HWG_PRN_USB_CLASS ||
				    d->bInterfaceSubClass != HWG_PRN_USB_SUBCLASS ||
				    d->bInterfaceProtocol != HWG_PRN_USB_PROTOCOL)
					continue;
				for (int e = 0; e < d->bNumEndpoints; e++) {
					const struct libusb_endpoint_descriptor *ep =
					    &d->endpoint[e];

					if ((ep->bmAttributes & 0x3) != LIBUSB_TRANSFER_TYPE_BULK)
						continue;
					if (ep->bEndpointAddress & LIBUSB_ENDPOINT_IN)
						in = in ? in : ep->bEndpointAddress;
					else
						out = out ? out : ep->bEndpointAddress;
				}
				if (!out || !in)
					continue;
				found = 1;
				t->config_index = c;
				t->iface = d->bInterfaceNumber;
				t->alt = d->bAlternateSetting;
				t->ep_out = out;
				t->ep_in = in;
			}
		libusb_free_config_descriptor(cfg);
	}
	return found;
}

/* GET_DEVICE_ID: the serial and model; a printer that speaks no PJL or PDF is refused. */
static int
identify(struct hwg_printer *P, struct printer *t, struct hwg_error *err)
{
	struct hwg_ieee1284_id id;
	int rc;

	if ((rc = get_device_id(P, t, &id, err)) != 0)
		return rc;
	if (!hwg_ieee1284_pjl_pdf(&id))
		return hwg_error_set(err, HWG_E_PRINTER_ERROR,
		                     "%s: command set \"%s\" lacks PJL or PDF", t->info.serial,
		                     id.cmd);
	if (id.sn[0] != '\0')
		snprintf(t->info.serial, sizeof(t->info.serial), "%.63s", id.sn);
	snprintf(t->info.model, sizeof(t->info.model), "%.63s", id.mdl);
	return 0;
}

static int
claim(struct printer *t, struct hwg_error *err)
{
	int rc;

	libusb_set_auto_detach_kernel_driver(t->h, 1); /* usblp, on a real machine */
	if ((rc = libusb_claim_interface(t->h, t->iface)) != 0)
		return hwg_error_set(err, HWG_E_IO, "%s: cannot claim interface %d: %s",
		                     t->info.serial, t->iface, libusb_strerror(rc));
	if (t->alt != 0 && (rc = libusb_set_interface_alt_setting(t->h, t->iface, t->alt)) != 0) {
		libusb_release_interface(t->h, t->iface);
		return hwg_error_set(err, HWG_E_IO, "%s: cannot select alternate setting %d: %s",
		                     t->info.serial, t->alt, libusb_strerror(rc));
	}
	return 0;
}

/* 1 and *out for a printer, 0 for another kind of device, an error for a printer refused. */
static int
printer_open(struct hwg_printer *P, libusb_device *dev, struct printer **out, struct hwg_error *err)
{
	struct printer *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (t == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	if (!find_interface(dev, t)) {
		free(t);
		return 0;
	}
	pthread_mutex_init(&t->job, NULL);
	t->refs = 1;
	t->dev = libusb_ref_device(dev);
	snprintf(t->info.serial, sizeof(t->info.serial), "usb:%u.%u", libusb_get_bus_number(dev),
	         libusb_get_device_address(dev));
	t->info.present = 1;
	if ((rc = libusb_open(dev, &t->h)) != 0) {
		t->h = NULL;
		rc = hwg_error_set(err, HWG_E_IO, "%s: cannot open: %s", t->info.serial,
		                   libusb_strerror(rc));
	} else if ((rc = claim(t, err)) != 0) {
		libusb_close(t->h);
		t->h = NULL;
	} else {
		rc = identify(P, t, err);
	}
	if (rc != 0) {
		printer_free(t);
		return rc;
	}
	*out = t;
	return 1;
}

/* With P->mu held: forget a printer remembered as gone (it is back, or a slot is needed). */
static void
forget_absent(struct hwg_printer *P, const char *serial)
{
	for (int i = 0; i < HWG_PRINTER_MAX; i++)
		if (strcmp(P->absent[i].serial, serial) == 0)
			memset(&P->absent[i], 0, sizeof(P->absent[i]));
}

/* With P->mu held: remember a printer that left, in a free slot or the oldest's. */
static void
remember_absent(struct hwg_printer *P, const struct printer *t)
{
	int slot = 0;

	forget_absent(P, t->info.serial);
	for (int i = 0; i < HWG_PRINTER_MAX; i++)
		if (P->absent[i].serial[0] == '\0') {
			slot = i;
			break;
		}
	if (P->absent[slot].serial[0] != '\0') { /* full: the oldest goes */
		memmove(&P->absent[0], &P->absent[1], (HWG_PRINTER_MAX - 1) * sizeof(P->absent[0]));
		slot = HWG_PRINTER_MAX - 1;
	}
	P->absent[slot] = t->info;
	P->absent[slot].present = 0;
	P->absent[slot].state = HWG_PRN_OFFLINE;
	snprintf(P->absent[slot].detail, sizeof(P->absent[slot].detail), "removed");
}

/* Open, identify and enter a device in the table (the watcher thread). */
static void
attach(struct hwg_printer *P, libusb_device *dev)
{
	struct hwg_error err = {0};
	struct printer *t;
	char what[400];
	int slot = -1, duplicate = 0, rc;

	if ((rc = printer_open(P, dev, &t, &err)) <= 0) {
		if (rc < 0) {
			snprintf(what, sizeof(what), "usb:%u.%u (%s)", libusb_get_bus_number(dev),
			         libusb_get_device_address(dev), err.message);
			emit(P, "printer.refused", what);
		}
		return;
	}
	pthread_mutex_lock(&P->mu);
	for (int i = 0; i < HWG_PRINTER_MAX; i++) {
		if (P->t[i] == NULL && slot < 0)
			slot = i;
		duplicate |= P->t[i] != NULL && strcmp(P->t[i]->info.serial, t->info.serial) == 0;
	}
	if (slot >= 0 && !duplicate) {
		P->t[slot] = t;
		forget_absent(P, t->info.serial);
	}
	pthread_mutex_unlock(&P->mu);
	if (slot < 0 || duplicate) {
		snprintf(what, sizeof(what), "%s (%s)", t->info.serial,
		         duplicate ? "a printer with this serial is connected already"
		                   : "too many printers");
		printer_free(t);
		emit(P, "printer.refused", what);
		return;
	}
	emit(P, "printer.attached", t->info.serial);
}

/* Take a departed device out of the table; its job sees HWG_E_PRINTER_REMOVED. */
static void
detach(struct hwg_printer *P, libusb_device *dev)
{
	struct printer *t = NULL;
	char serial[64];

	pthread_mutex_lock(&P->mu);
	for (int i = 0; i < HWG_PRINTER_MAX && t == NULL; i++)
		if (P->t[i] != NULL && P->t[i]->dev == dev) {
			t = P->t[i];
			t->gone = 1;
			P->t[i] = NULL;
			remember_absent(P, t);
		}
	pthread_mutex_unlock(&P->mu);
	if (t == NULL)
		return;
	memcpy(serial, t->info.serial, sizeof(serial));
	printer_put(P, t);
	emit(P, "printer.detached", serial);
}

/* Hot-plug callback: note the change; the watcher thread acts on it. */
static int LIBUSB_CALL
on_hotplug(libusb_context *ctx, libusb_device *dev, libusb_hotplug_event event, void *arg)
{
	struct hwg_printer *P = arg;

	(void)ctx;
	pthread_mutex_lock(&P->mu);
	if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED && P->n_arrived < MAX_PENDING)
		P->arrived[P->n_arrived++] = libusb_ref_device(dev);
	else if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT && P->n_left < MAX_PENDING)
		P->left[P->n_left++] = libusb_ref_device(dev);
	for (int i = 0; i < HWG_PRINTER_MAX; i++)
		if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT && P->t[i] != NULL &&
		    P->t[i]->dev == dev)
			P->t[i]->gone = 1; /* a job in flight fails as "removed" from now on */
	pthread_mutex_unlock(&P->mu);
	return 0;
}

static void
handle_pending(struct hwg_printer *P)
{
	libusb_device *arrived[MAX_PENDING], *left[MAX_PENDING];
	size_t n_arrived, n_left;

	pthread_mutex_lock(&P->mu);
	n_arrived = P->n_arrived;
	n_left = P->n_left;
	memcpy(arrived, P->arrived, n_arrived * sizeof(arrived[0]));
	memcpy(left, P->left, n_left * sizeof(left[0]));
	P->n_arrived = P->n_left = 0;
	pthread_mutex_unlock(&P->mu);
	for (size_t i = 0; i < n_left; i++) {
		detach(P, left[i]);
		libusb_unref_device(left[i]);
	}
	for (size_t i = 0; i < n_arrived; i++) {
		attach(P, arrived[i]);
		libusb_unref_device(arrived[i]);
	}
}

/* Without hot-plug: compare the bus with the table every scan_interval_ms. */
static void
scan(struct hwg_printer *P)
{
	libusb_device **list;
	ssize_t n = libusb_get_device_list(P->ctx, &list);

	if (n < 0)
		return;
	pthread_mutex_lock(&P->mu);
	for (int i = 0; i < HWG_PRINTER_MAX; i++) {
		int present = 0;

		for (ssize_t j = 0; j < n && P->t[i] != NULL; j++)
			present |= list[j] == P->t[i]->dev;
		if (P->t[i] != NULL && !present && P->n_left < MAX_PENDING)
			P->left[P->n_left++] = libusb_ref_device(P->t[i]->dev);
	}
	for (ssize_t j = 0; j < n; j++) {
		int known = 0;

		for (int i = 0; i < HWG_PRINTER_MAX; i++)
			known |= P->t[i] != NULL && P->t[i]->dev == list[j];
		if (!known && P->n_arrived < MAX_PENDING)
			P->arrived[P->n_arrived++] = libusb_ref_device(list[j]);
	}
	pthread_mutex_unlock(&P->mu);
	libusb_free_device_list(list, 1);
}

static void *
watch_main(void *arg)
{
	struct hwg_printer *P = arg;

	while (!P->stop) {
		struct timeval tv = {0, WATCH_SLICE_MS * 1000};
		int64_t now;

		libusb_handle_events_timeout_completed(P->ctx, &tv, (int *)&P->stop);
		now = hwg_now_ms();
		if (!P->hotplug && now >= P->next_scan_ms) {
			scan(P);
			P->next_scan_ms = now + P->cfg.scan_interval_ms;
		}
		handle_pending(P);
	}
	return NULL;
}

/* ---------------------------------------------------------------- life cycle */

int
hwg_printer_open(const struct hwg_printer_config *cfg, hwg_printer_event_fn on_event, void *arg,
                 struct hwg_printer **out, struct hwg_error *err)
{
	struct hwg_printer *P;
	int rc;

	*out = NULL;
	if (cfg->scan_interval_ms <= 0 || cfg->command_timeout_ms <= 0)
		return hwg_error_set(err, HWG_E_CONFIG, "[printer]: a bad interval or timeout");
	if ((P = calloc(1, sizeof(*P))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	P->cfg = *cfg;
	P->on_event = on_event;
	P->arg = arg;
	pthread_mutex_init(&P->mu, NULL);
	if ((rc = libusb_init(&P->ctx)) != 0) {
		P->ctx = NULL;
		hwg_printer_close(P);
		return hwg_error_set(err, HWG_E_IO, "libusb: %s", libusb_strerror(rc));
	}
	P->hotplug =
	    libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) &&
	    libusb_hotplug_register_callback(
	        P->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT,
	        LIBUSB_HOTPLUG_ENUMERATE, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
	        LIBUSB_HOTPLUG_MATCH_ANY, on_hotplug, P, &P->hp) == 0;
	if (!P->hotplug) {
		scan(P);
		P->next_scan_ms = hwg_now_ms() + P->cfg.scan_interval_ms;
	}
	handle_pending(P);
	if (pthread_create(&P->thread, NULL, watch_main, P) != 0) {
		hwg_printer_close(P);
		return hwg_error_set(err, HWG_E_IO, "cannot start the printer watcher");
	}
	P->started = 1;
	*out = P;
	return 0;
}

void
hwg_printer_close(struct hwg_printer *P)
{
	if (P == NULL)
		return;
	if (P->started) {
		P->stop = 1;
		libusb_interrupt_event_handler(P->ctx);
		pthread_join(P->thread, NULL);
	}
	if (P->hotplug)
		libusb_hotplug_deregister_callback(P->ctx, P->hp);
	for (size_t i = 0; i < P->n_arrived; i++)
		libusb_unref_device(P->arrived[i]);
	for (size_t i = 0; i < P->n_left; i++)
		libusb_unref_device(P->left[i]);
	for (int i = 0; i < HWG_PRINTER_MAX; i++)
		if (P->t[i] != NULL)
			printer_put(P, P->t[i]);
	if (P->ctx != NULL)
		libusb_exit(P->ctx);
	pthread_mutex_destroy(&P->mu);
	free(P);
}

/* ---------------------------------------------------------------- the table */

/* A reference to the connected printer with that serial, or NULL. */
static struct printer *
printer_get(struct hwg_printer *P, const char *serial)
{
	struct printer *found = NULL;

	pthread_mutex_lock(&P->mu);
	for (int i = 0; i < HWG_PRINTER_MAX && found == NULL; i++)
		if (P->t[i] != NULL && !P->t[i]->gone && strcmp(P->t[i]->info.serial, serial) == 0)
			found = P->t[i];
	if (found != NULL)
		found->refs++;
	pthread_mutex_unlock(&P->mu);
	return found;
}

static int
cmp_serial(const void *a, const void *b)
{
	return strcmp(((const struct hwg_printer_info *)a)->serial,
	              ((const struct hwg_printer_info *)b)->serial);
}

/* The serials of the connected printers, in order (at most HWG_PRINTER_MAX). */
static size_t
connected(struct hwg_printer *P, struct hwg_printer_info *out)
{
	size_t n = 0;

	pthread_mutex_lock(&P->mu);
	for (int i = 0; i < HWG_PRINTER_MAX; i++)
		if (P->t[i] != NULL && !P->t[i]->gone) {
			out[n] = P->t[i]->info;
			out[n].state = P->t[i]->printing ? HWG_PRN_BUSY : HWG_PRN_READY;
			n++;
		}
	pthread_mutex_unlock(&P->mu);
	qsort(out, n, sizeof(out[0]), cmp_serial);
	return n;
}

/*
 * The printer's job lock for a job (listing 0) or a listing's check
 * (listing 1).  A job held by another job is HWG_E_UNAVAILABLE at once; a
 * job finding a listing's check there waits for it (a few command
 * timeouts at most); a listing never waits.
 */
static int
job_begin(struct hwg_printer *P, struct printer *t, int listing, struct hwg_error *err)
{
	struct timespec until;
	int printing;

	if (pthread_mutex_trylock(&t->job) != 0) {
		pthread_mutex_lock(&P->mu);
		printing = t->printing;
		pthread_mutex_unlock(&P->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1 + 3 * P->cfg.command_timeout_ms / 1000;
		if (listing || printing || pthread_mutex_timedlock(&t->job, &until) != 0)
			return hwg_error_set(err, HWG_E_UNAVAILABLE,
			                     "printer %s is printing another job", t->info.serial);
	}
	pthread_mutex_lock(&P->mu);
	t->printing = !listing;
	pthread_mutex_unlock(&P->mu);
	return 0;
}

static void
job_end(struct hwg_printer *P, struct printer *t)
{
	pthread_mutex_lock(&P->mu);
	t->printing = 0;
	pthread_mutex_unlock(&P->mu);
	pthread_mutex_unlock(&t->job);
}

/* ---------------------------------------------------------------- listing */

static const char *const state_names[] = {"ready", "paper_out", "offline", "error", "busy"};

const char *
hwg_printer_state_name(int state)
{
	return state >= 0 && state <= HWG_PRN_BUSY ? state_names[state] : "unknown";
}

/* The state from a check that failed, in the words of hwg_printer_info. */
static void
state_of(struct hwg_printer *P, struct printer *t, int rc, struct hwg_printer_info *info)
{
	enum hwg_pjl_state last;

	pthread_mutex_lock(&P->mu);
	last = t->last;
	pthread_mutex_unlock(&P->mu);
	switch (rc) {
	case 0:
		info->state = HWG_PRN_READY;
		break;
	case HWG_E_PAPER_OUT:
		info->state = HWG_PRN_PAPER_OUT;
		break;
	case HWG_E_PRINTER_OFFLINE:
		info->state = HWG_PRN_OFFLINE;
		break;
	case HWG_E_UNAVAILABLE:
		info->state = HWG_PRN_BUSY;
		break;
	case HWG_E_PRINTER_REMOVED:
		info->state = HWG_PRN_OFFLINE;
		info->present = 0;
		last = HWG_PJL_ST_UNKNOWN;
		break;
	default:
		info->state = HWG_PRN_ERROR;
	}
	if (rc == HWG_E_PRINTER_REMOVED)
		snprintf(info->detail, sizeof(info->detail), "removed");
	else if (rc != 0 && rc != HWG_E_UNAVAILABLE && last != HWG_PJL_ST_UNKNOWN)
		snprintf(info->detail, sizeof(info->detail), "%s", hwg_pjl_state_name(last));
	else
		snprintf(info->detail, sizeof(info->detail), "%s",
		         hwg_printer_state_name(info->state));
}

/* One connected printer's state now, as a job would find it. */
static void
probe_state(struct hwg_printer *P, struct hwg_printer_info *info)
{
	struct printer *t = printer_get(P, info->serial);
	struct readback rb = {0};
	int rc;

	if (t == NULL) {
		info->present = 0;
		info->state = HWG_PRN_OFFLINE;
		snprintf(info->detail, sizeof(info->detail), "removed");
		return;
	}
	if ((rc = job_begin(P, t, 1, NULL)) == 0) {
		set_last(P, t, HWG_PJL_ST_UNKNOWN);
		rc =
		    (rb.r = hwg_pjl_reader_new()) == NULL ? HWG_E_NOMEM : precheck(P, t, &rb, NULL);
		hwg_pjl_reader_free(rb.r);
		job_end(P, t);
	}
	state_of(P, t, rc, info);
	printer_put(P, t);
}

int
hwg_printer_list(struct hwg_printer *P, struct hwg_printer_info *out, size_t max, size_t *n)
{
	struct hwg_printer_info now[HWG_PRINTER_MAX], gone[HWG_PRINTER_MAX];
	size_t n_now = connected(P, now), n_gone = 0;

	for (size_t i = 0; i < n_now; i++)
		if (now[i].state != HWG_PRN_BUSY)
			probe_state(P, &now[i]);
		else
			snprintf(now[i].detail, sizeof(now[i].detail), "busy");
	pthread_mutex_lock(&P->mu);
	for (int i = 0; i < HWG_PRINTER_MAX; i++)
		if (P->absent[i].serial[0] != '\0')
			gone[n_gone++] = P->absent[i];
	pthread_mutex_unlock(&P->mu);
	qsort(gone, n_gone, sizeof(gone[0]), cmp_serial);
	*n = 0;
	for (size_t i = 0; i < n_now && *n < max; i++)
		out[(*n)++] = now[i];
	for (size_t i = 0; i < n_gone && *n < max; i++)
		out[(*n)++] = gone[i];
	return 0;
}

/* ---------------------------------------------------------------- printing */

struct job {
	const char *name;
	const uint8_t *pdf;
	size_t len;
	int timeout_ms;
	int64_t deadline;
	int (*before_send)(void *arg, const char *serial);
	void *arg;
	struct hwg_print_result *res;
};

/* Head, PDF, tail to bulk OUT. */
static int
send_job(struct hwg_printer *P, struct printer *t, const struct job *j, struct hwg_error *err)
{
	uint8_t head[HWG_PJL_HEAD_MAX], tail[HWG_PJL_TAIL_MAX];
	size_t head_len, tail_len;
	int rc;

	if ((rc = hwg_pjl_job_head(j->name, head, sizeof(head), &head_len, err)) != 0 ||
	    (rc = hwg_pjl_job_tail(j->name, tail, sizeof(tail), &tail_len, err)) != 0)
		return rc;
	if ((rc = send_bytes(P, t, head, head_len, j->deadline, &j->res->sent, "the job's head",
	                     err)) != 0 ||
	    (rc = send_bytes(P, t, j->pdf, j->len, j->deadline, &j->res->sent, "the PDF", err)) !=
	        0 ||
	    (rc = send_bytes(P, t, tail, tail_len, j->deadline, &j->res->sent, "the job's tail",
	                     err)) != 0)
		return rc;
	return 0;
}

/* The read-backs until the job's END, a state that holds it, or the deadline. */
static int
await_end(struct hwg_printer *P, struct printer *t, const struct job *j, struct readback *rb,
          struct hwg_error *err)
{
	struct hwg_pjl_msg m;
	char during[80], what[64];
	int started = 0, rc;

	snprintf(during, sizeof(during), " during job %s", j->name);
	snprintf(what, sizeof(what), "job %s", j->name);
	while ((rc = next_msg(P, t, rb, j->deadline, what, &m, err)) == 1) {
		if (m.kind == HWG_PJL_JOB_START && strcmp(m.name, j->name) == 0)
			started = 1;
		if (m.kind == HWG_PJL_JOB_END && strcmp(m.name, j->name) == 0) {
			j->res->pages = m.pages;
			return 0;
		}
		if (m.kind != HWG_PJL_DEVICE)
			continue; /* another job's START or END (a job before ours, reset) */
		set_last(P, t, m.state);
		if ((rc = device_verdict(t, &m, during, err)) != 0)
			return rc;
	}
	if (rc != 0)
		return rc;
	return hwg_error_set(err, HWG_E_PRINT_UNCONFIRMED,
	                     "printer %s did not confirm job %s within %d ms (%s%s%s)",
	                     t->info.serial, j->name, j->timeout_ms,
	                     started ? "it was started" : "not even its start was read back",
	                     rb->refused > 0 ? "; a read-back refused: " : "",
	                     rb->refused > 0 ? rb->last_refusal.message : "");
}

/* The job on printer t, whose job lock the caller holds; the check done (precheck). */
static int
run_job(struct hwg_printer *P, struct printer *t, const struct job *j, struct readback *rb,
        struct hwg_error *err)
{
	int rc;

	if (j->before_send != NULL && (rc = j->before_send(j->arg, t->info.serial)) != 0)
		return hwg_error_set(err, rc, "job %s not sent to printer %s: before_send said %s",
		                     j->name, t->info.serial, hwg_err_code(rc));
	rc = send_job(P, t, j, err);
	if (rc == 0)
		rc = await_end(P, t, j, rb, err);
	if (rc != 0 && j->res->sent && rc != HWG_E_PRINTER_REMOVED)
		soft_reset(P, t); /* what the printer holds of the job must not come out later */
	if (rc == HWG_E_PRINT_UNCONFIRMED && !j->res->sent)
		rc = hwg_error_set(err, HWG_E_PRINTER_ERROR,
		                   "printer %s took no byte of job %s in %d ms", t->info.serial,
		                   j->name, j->timeout_ms);
	return rc;
}

/*
 * Printer t (referenced) for job j: its lock, the check, the job; the
 * reference is dropped.  *checked: the printer passed the check, so the
 * outcome is this printer's whatever it is.
 */
static int
print_on(struct hwg_printer *P, struct printer *t, const struct job *j, int *checked,
         struct hwg_error *err)
{
	struct readback rb = {0};
	int rc;

	*checked = 0;
	if ((rc = job_begin(P, t, 0, err)) != 0) {
		printer_put(P, t);
		return rc;
	}
	snprintf(j->res->printer, sizeof(j->res->printer), "%s", t->info.serial);
	if ((rb.r = hwg_pjl_reader_new()) == NULL)
		rc = hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	else if ((rc = precheck(P, t, &rb, err)) == 0) {
		*checked = 1;
		rc = run_job(P, t, j, &rb, err);
	}
	hwg_pjl_reader_free(rb.r);
	job_end(P, t);
	printer_put(P, t);
	return rc;
}

/*
 * serial NULL: the first printer, in serial order, that passes the check;
 * if none does, the first one's reason.
 */
static int
print_any(struct hwg_printer *P, const struct job *j, struct hwg_error *err)
{
	struct hwg_printer_info all[HWG_PRINTER_MAX];
	struct hwg_error first = {0}, e;
	size_t n = connected(P, all);

	for (size_t i = 0; i < n; i++) {
		struct printer *t = printer_get(P, all[i].serial);
		int checked, rc;

		if (t == NULL)
			continue;
		memset(&e, 0, sizeof(e));
		rc = print_on(P, t, j, &checked, &e);
		if (checked || rc == HWG_E_NOMEM) {
			if (err != NULL && rc != 0)
				*err = e;
			return rc;
		}
		if (first.code == 0)
			first = e;
	}
	j->res->printer[0] = '\0';
	if (first.code == 0)
		return hwg_error_set(err, HWG_E_NO_PRINTER, "no printer is connected");
	if (err != NULL)
		*err = first;
	return first.code;
}

int
hwg_printer_print(struct hwg_printer *P, const char *serial, const char *job_name,
                  const uint8_t *pdf, size_t len, int timeout_ms,
                  int (*before_send)(void *arg, const char *serial), void *arg,
                  struct hwg_print_result *res, struct hwg_error *err)
{
	struct job j = {job_name, pdf, len, timeout_ms, 0, before_send, arg, res};
	struct printer *t;
	int checked, rc;

	memset(res, 0, sizeof(*res));
	if ((rc = hwg_pjl_name_check(job_name, err)) != 0 ||
	    (rc = hwg_pjl_body_check(pdf, len, err)) != 0)
		return rc;
	if (timeout_ms <= 0 || timeout_ms > TIMEOUT_MAX_MS)
		return hwg_error_set(err, HWG_E_INVALID, "print timeout %d ms outside 1..%d",
		                     timeout_ms, TIMEOUT_MAX_MS);
	j.deadline = hwg_now_ms() + timeout_ms;
	if (serial == NULL)
		return print_any(P, &j, err);
	if ((t = printer_get(P, serial)) == NULL)
		return hwg_error_set(err, HWG_E_NO_PRINTER, "no printer \"%s\" is connected",
		                     serial);
	return print_on(P, t, &j, &checked, err);
}
