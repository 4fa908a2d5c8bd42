/*
 * hwg_vein_usb.c — see hwg_vein.h.  One watcher thread runs libusb's
 * event loop: hot-plug callbacks only note arrivals and departures (no
 * I/O is allowed inside them), and the thread then opens, claims and
 * identifies (GET_INFO) each new terminal outside the callback.  Without
 * hot-plug the thread rescans every scan_interval_ms instead.  Operations
 * run on the caller's thread with libusb's synchronous transfers; a
 * terminal is reference-counted so that one unplugged during a capture
 * stays valid until that capture has returned.  Frames in both directions
 * go through hwg_vein_proto; an answer whose sequence number is not the
 * one awaited (a late CANCEL answer) is skipped, never taken for another.
 */
#include "hwg_vein.h"

#include <libusb.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_time.h"

#define WATCH_SLICE_MS 100
#define MAX_PENDING 16

struct terminal {
	int refs;                 /* the table's and each caller's; under v->mu */
	libusb_device *dev;       /* a reference */
	libusb_device_handle *h;  /* open, interface claimed */
	int iface;
	struct hwg_vein_info info;
	pthread_mutex_t io;       /* one exchange at a time reads the IN endpoint */
	pthread_mutex_t out_lock; /* writes (an exchange's command, or a CANCEL) */
	uint16_t seq;             /* under out_lock */
	int gone;                 /* unplugged; under v->mu */
	int capturing;            /* under out_lock */
	int cancel_requested;     /* under out_lock */
};

struct hwg_vein {
	struct hwg_vein_config cfg;
	libusb_context *ctx;
	hwg_vein_event_fn on_event;
	void *arg;
	pthread_t thread;
	int started;
	volatile int stop;
	int hotplug;
	libusb_hotplug_callback_handle hp;
	pthread_mutex_t mu; /* the table and the pending lists */
	struct terminal *t[HWG_VEIN_MAX_TERMINALS];
	libusb_device *arrived[MAX_PENDING];
	size_t n_arrived;
	libusb_device *left[MAX_PENDING];
	size_t n_left;
	int64_t next_scan_ms;
};

/* ---------------------------------------------------------------- terminals */

static void
terminal_free(struct terminal *t)
{
	if (t->h != NULL) {
		libusb_release_interface(t->h, t->iface);
		libusb_close(t->h);
	}
	if (t->dev != NULL)
		libusb_unref_device(t->dev);
	pthread_mutex_destroy(&t->io);
	pthread_mutex_destroy(&t->out_lock);
	free(t);
}

/* Drop a reference; the last one closes the handle (never from a hot-plug callback). */
static void
terminal_put(struct hwg_vein *v, struct terminal *t)
{
	int last;

	pthread_mutex_lock(&v->mu);
	last = --t->refs == 0;
	pthread_mutex_unlock(&v->mu);
	if (last)
		terminal_free(t);
}

/* A reference to the connected terminal with that serial, or NULL. */
static struct terminal *
terminal_get(struct hwg_vein *v, const char *serial)
{
	struct terminal *found = NULL;

	pthread_mutex_lock(&v->mu);
	for (int i = 0; i < HWG_VEIN_MAX_TERMINALS && found == NULL; i++)
		if (v->t[i] != NULL && !v->t[i]->gone && strcmp(v->t[i]->info.serial, serial) == 0)
			found = v->t[i];
	if (found != NULL)
		found->refs++;
	pthread_mutex_unlock(&v->mu);
	return found;
}

static int
terminal_gone(struct hwg_vein *v, struct terminal *t)
{
	int gone;

	pthread_mutex_lock(&v->mu);
	gone = t->gone;
	pthread_mutex_unlock(&v->mu);
	return gone;
}

/* ---------------------------------------------------------------- frames */

/* A libusb failure as our error; a terminal that went away is HWG_E_TERMINAL_REMOVED. */
static int
usb_error(struct hwg_vein *v, struct terminal *t, int rc, const char *what, int timeout_ms,
          struct hwg_error *err)
{
	if (rc == LIBUSB_ERROR_NO_DEVICE || terminal_gone(v, t))
		return hwg_error_set(err, HWG_E_TERMINAL_REMOVED,
		                     "terminal %s was unplugged during %s", t->info.serial, what);
	if (rc == LIBUSB_ERROR_TIMEOUT)
		return hwg_error_set(err, HWG_E_TERMINAL_ERROR,
		                     "terminal %s did not answer %s within %d ms", t->info.serial,
		                     what, timeout_ms);
	return hwg_error_set(err, HWG_E_TERMINAL_ERROR, "terminal %s: %s failed: %s",
	                     t->info.serial, what, libusb_strerror(rc));
}

/* With out_lock held: frame and send one command; *seq receives its number. */
static int
send_locked(struct hwg_vein *v, struct terminal *t, uint8_t type, const uint8_t *payload,
            size_t len, uint16_t *seq, const char *what, struct hwg_error *err)
{
	uint8_t frame[HWG_VEIN_FRAME_MAX];
	size_t n;
	int sent = 0, rc;

	*seq = ++t->seq;
	if ((rc = hwg_vein_frame_encode(type, *seq, payload, len, frame, sizeof(frame), &n, err)) != 0)
		return rc;
	rc = libusb_bulk_transfer(t->h, HWG_VEIN_EP_OUT, frame, (int)n, &sent,
	                          (unsigned)v->cfg.command_timeout_ms);
	if (rc == 0 && (size_t)sent != n)
		return hwg_error_set(err, HWG_E_TERMINAL_ERROR, "terminal %s took %d of %zu bytes",
		                     t->info.serial, sent, n);
	return rc == 0 ? 0 : usb_error(v, t, rc, what, v->cfg.command_timeout_ms, err);
}

/*
 * Read until the answer to (type, seq) arrives or timeout_ms pass; frames
 * answering something else are skipped.  buf keeps the bytes f points into.
 */
static int
recv_answer(struct hwg_vein *v, struct terminal *t, uint8_t type, uint16_t seq, int timeout_ms,
            uint8_t buf[HWG_VEIN_IN_TRANSFER_LEN], struct hwg_vein_frame *f, const char *what,
            struct hwg_error *err)
{
	int64_t deadline = hwg_now_ms() + timeout_ms;

	for (;;) {
		int64_t left = deadline - hwg_now_ms();
		int got = 0, rc;

		if (left <= 0)
			return usb_error(v, t, LIBUSB_ERROR_TIMEOUT, what, timeout_ms, err);
		/* no stale bytes of ours travel with the request (umockdev copies the buffer out) */
		memset(buf, 0, HWG_VEIN_IN_TRANSFER_LEN);
		rc = libusb_bulk_transfer(t->h, HWG_VEIN_EP_IN, buf, HWG_VEIN_IN_TRANSFER_LEN, &got,
		                          (unsigned)left);
		if (rc != 0)
			return usb_error(v, t, rc, what, timeout_ms, err);
		if ((rc = hwg_vein_frame_decode(buf, (size_t)got, HWG_VEIN_TO_HOST, f, err)) != 0)
			return rc;
		if (f->type == HWG_VEIN_ERROR || (f->type == (type | HWG_VEIN_RESPONSE) && f->seq == seq))
			return hwg_vein_frame_expect(f, type, seq, err);
	}
}

/* One command and its answer, under the terminal's exchange lock (held by the caller). */
static int
exchange(struct hwg_vein *v, struct terminal *t, uint8_t type, const uint8_t *payload, size_t len,
         int timeout_ms, uint8_t buf[HWG_VEIN_IN_TRANSFER_LEN], struct hwg_vein_frame *f,
         const char *what, struct hwg_error *err)
{
	uint16_t seq;
	int rc;

	pthread_mutex_lock(&t->out_lock);
	rc = send_locked(v, t, type, payload, len, &seq, what, err);
	pthread_mutex_unlock(&t->out_lock);
	return rc != 0 ? rc : recv_answer(v, t, type, seq, timeout_ms, buf, f, what, err);
}

/* ---------------------------------------------------------------- attaching */

static int
id_wanted(const struct hwg_vein *v, uint16_t vendor, uint16_t product)
{
	for (size_t i = 0; i < v->cfg.n_ids; i++)
		if (v->cfg.ids[i][0] == vendor && v->cfg.ids[i][1] == product)
			return 1;
	return 0;
}

/* The interface of our class with a bulk OUT 0x01 and a bulk IN 0x81; -1 if none. */
static int
find_interface(libusb_device *dev)
{
	struct libusb_config_descriptor *cfg;
	int found = -1;

	if (libusb_get_active_config_descriptor(dev, &cfg) != 0)
		return -1;
	for (int i = 0; i < cfg->bNumInterfaces && found < 0; i++) {
		const struct libusb_interface_descriptor *d;
		int out = 0, in = 0;

		if (cfg->interface[i].num_altsetting < 1)
			continue;
		d = &cfg->interface[i].altsetting[0];
		if (d->bInterfaceClass != HWG_VEIN_USB_CLASS ||
		    d->bInterfaceSubClass != HWG_VEIN_USB_SUBCLASS ||
		    d->bInterfaceProtocol != HWG_VEIN_USB_PROTOCOL)
			continue;
		for (int e = 0; e < d->bNumEndpoints; e++) {
			const struct libusb_endpoint_descriptor *ep = &d->endpoint[e];
			int bulk = (ep->bmAttributes & 0x3) == LIBUSB_TRANSFER_TYPE_BULK;

			out |= bulk && ep->bEndpointAddress == HWG_VEIN_EP_OUT;
			in |= bulk && ep->bEndpointAddress == HWG_VEIN_EP_IN;
		}
		if (out && in)
			found = d->bInterfaceNumber;
	}
	libusb_free_config_descriptor(cfg);
	return found;
}

/* GET_INFO into t->info; a terminal of another template format is refused. */
static int
identify(struct hwg_vein *v, struct terminal *t, struct hwg_error *err)
{
	uint8_t buf[HWG_VEIN_IN_TRANSFER_LEN];
	struct hwg_vein_frame f;
	struct hwg_vein_msg_info m;
	int rc;

	pthread_mutex_lock(&t->io);
	rc = exchange(v, t, HWG_VEIN_GET_INFO, NULL, 0, v->cfg.command_timeout_ms, buf, &f, "GET_INFO",
	              err);
	pthread_mutex_unlock(&t->io);
	if (rc == 0)
		rc = hwg_vein_parse_info(f.payload, f.payload_len, &m, err);
	if (rc == 0)
		rc = hwg_vein_status_error(m.status, "GET_INFO", err);
	if (rc != 0)
		return rc;
	if (strcmp(m.template_format, HWG_VEIN_TEMPLATE_FORMAT) != 0)
		return hwg_error_set(err, HWG_E_TERMINAL_ERROR,
		                     "terminal %s makes templates \"%s\", not \"%s\"", m.serial,
		                     m.template_format, HWG_VEIN_TEMPLATE_FORMAT);
	memcpy(t->info.serial, m.serial, sizeof(m.serial));
	memcpy(t->info.model, m.model, sizeof(m.model));
	memcpy(t->info.firmware, m.firmware, sizeof(m.firmware));
	memcpy(t->info.template_format, m.template_format, sizeof(m.template_format));
	return 0;
}

/*
 * A terminal found busy with a capture an earlier gateway started (one
 * that crashed, or was killed) is cancelled, and that capture's late
 * answer read and dropped with CANCEL's, so that our first capture is not
 * refused BUSY or answered with its result.  Best effort: a terminal
 * that is idle answers NOT_CAPTURING.
 */
static void
settle(struct hwg_vein *v, struct terminal *t)
{
	uint8_t buf[HWG_VEIN_IN_TRANSFER_LEN];
	struct hwg_vein_frame f;

	pthread_mutex_lock(&t->io);
	exchange(v, t, HWG_VEIN_CANCEL, NULL, 0, v->cfg.command_timeout_ms, buf, &f, "CANCEL", NULL);
	pthread_mutex_unlock(&t->io);
}

static int
terminal_open(struct hwg_vein *v, libusb_device *dev, struct terminal **out, struct hwg_error *err)
{
	struct terminal *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (t == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	pthread_mutex_init(&t->io, NULL);
	pthread_mutex_init(&t->out_lock, NULL);
	t->refs = 1;
	/* a random first sequence number: answers meant for an earlier gateway never match ours */
	if (RAND_bytes((unsigned char *)&t->seq, sizeof(t->seq)) != 1)
		t->seq = (uint16_t)hwg_now_ms();
	t->dev = libusb_ref_device(dev);
	t->info.bus = libusb_get_bus_number(dev);
	t->info.address = libusb_get_device_address(dev);
	snprintf(t->info.serial, sizeof(t->info.serial), "usb:%u.%u", t->info.bus, t->info.address);
	if ((t->iface = find_interface(dev)) < 0) {
		rc = hwg_error_set(err, HWG_E_TERMINAL_ERROR, "%s has no palm-vein interface",
		                   t->info.serial);
	} else if ((rc = libusb_open(dev, &t->h)) != 0) {
		t->h = NULL;
		rc = hwg_error_set(err, HWG_E_IO, "%s: cannot open: %s", t->info.serial,
		                   libusb_strerror(rc));
	} else if ((rc = libusb_claim_interface(t->h, t->iface)) != 0) {
		libusb_close(t->h);
		t->h = NULL;
		rc = hwg_error_set(err, HWG_E_IO, "%s: cannot claim interface %d: %s",
		                   t->info.serial, t->iface, libusb_strerror(rc));
	} else if ((rc = identify(v, t, err)) == 0) {
		settle(v, t);
	}
	if (rc != 0) {
		terminal_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

static void
emit(struct hwg_vein *v, const char *event, const char *terminal)
{
	if (v->on_event != NULL)
		v->on_event(v->arg, event, terminal);
}

/* Open, identify and enter a device in the table (the watcher thread). */
static void
attach(struct hwg_vein *v, libusb_device *dev)
{
	struct hwg_error err = {0};
	struct terminal *t;
	char what[HWG_VEIN_STR_MAX + 300];
	int slot = -1, duplicate = 0;

	if (terminal_open(v, dev, &t, &err) != 0) {
		snprintf(what, sizeof(what), "usb:%u.%u (%s)", libusb_get_bus_number(dev),
		         libusb_get_device_address(dev), err.message);
		emit(v, "vein.refused", what);
		return;
	}
	pthread_mutex_lock(&v->mu);
	for (int i = 0; i < HWG_VEIN_MAX_TERMINALS; i++) {
		if (v->t[i] == NULL && slot < 0)
			slot = i;
		duplicate |= v->t[i] != NULL && strcmp(v->t[i]->info.serial, t->info.serial) == 0;
	}
	if (slot >= 0 && !duplicate)
		v->t[slot] = t;
	pthread_mutex_unlock(&v->mu);
	if (slot < 0 || duplicate) {
		snprintf(what, sizeof(what), "%s (%s)", t->info.serial,
		         duplicate ? "a terminal with this serial is connected already"
		                   : "too many terminals");
		terminal_free(t);
		emit(v, "vein.refused", what);
		return;
	}
	emit(v, "vein.attached", t->info.serial);
}

/* Take a departed device out of the table; its users see HWG_E_TERMINAL_REMOVED. */
static void
detach(struct hwg_vein *v, libusb_device *dev)
{
	struct terminal *t = NULL;
	char serial[HWG_VEIN_STR_MAX + 1];

	pthread_mutex_lock(&v->mu);
	for (int i = 0; i < HWG_VEIN_MAX_TERMINALS && t == NULL; i++)
		if (v->t[i] != NULL && v->t[i]->dev == dev) {
			t = v->t[i];
			t->gone = 1;
			v->t[i] = NULL;
		}
	pthread_mutex_unlock(&v->mu);
	if (t == NULL)
		return;
	memcpy(serial, t->info.serial, sizeof(serial));
	terminal_put(v, t);
	emit(v, "vein.detached", serial);
}

/* Hot-plug callback: note the change; the watcher thread acts on it. */
static int LIBUSB_CALL
on_hotplug(libusb_context *ctx, libusb_device *dev, libusb_hotplug_event event, void *arg)
{
	struct hwg_vein *v = arg;
	struct libusb_device_descriptor d;

	(void)ctx;
	if (libusb_get_device_descriptor(dev, &d) != 0 || !id_wanted(v, d.idVendor, d.idProduct))
		return 0;
	pthread_mutex_lock(&v->mu);
	if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED && v->n_arrived < MAX_PENDING)
		v->arrived[v->n_arrived++] = libusb_ref_device(dev);
	else if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT && v->n_left < MAX_PENDING)
		v->left[v->n_left++] = libusb_ref_device(dev);
	for (int i = 0; i < HWG_VEIN_MAX_TERMINALS; i++)
		if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT && v->t[i] != NULL && v->t[i]->dev == dev)
			v->t[i]->gone = 1; /* captures in flight fail as "removed" from now on */
	pthread_mutex_unlock(&v->mu);
	return 0;
}

static void
handle_pending(struct hwg_vein *v)
{
	libusb_device *arrived[MAX_PENDING], *left[MAX_PENDING];
	size_t n_arrived, n_left;

	pthread_mutex_lock(&v->mu);
	n_arrived = v->n_arrived;
	n_left = v->n_left;
	memcpy(arrived, v->arrived, n_arrived * sizeof(arrived[0]));
	memcpy(left, v->left, n_left * sizeof(left[0]));
	v->n_arrived = v->n_left = 0;
	pthread_mutex_unlock(&v->mu);
	for (size_t i = 0; i < n_left; i++) {
		detach(v, left[i]);
		libusb_unref_device(left[i]);
	}
	for (size_t i = 0; i < n_arrived; i++) {
		attach(v, arrived[i]);
		libusb_unref_device(arrived[i]);
	}
}

/* Without hot-plug: compare the bus with the table every scan_interval_ms. */
static void
scan(struct hwg_vein *v)
{
	libusb_device **list;
	struct libusb_device_descriptor d;
	ssize_t n = libusb_get_device_list(v->ctx, &list);

	if (n < 0)
		return;
	pthread_mutex_lock(&v->mu);
	for (int i = 0; i < HWG_VEIN_MAX_TERMINALS; i++) {
		int present = 0;

		for (ssize_t j = 0; j < n && v->t[i] != NULL; j++)
			present |= list[j] == v->t[i]->dev;
		if (v->t[i] != NULL && !present && v->n_left < MAX_PENDING)
			v->left[v->n_left++] = libusb_ref_device(v->t[i]->dev);
	}
	for (ssize_t j = 0; j < n; j++) {
		int known = 0;

		for (int i = 0; i < HWG_VEIN_MAX_TERMINALS; i++)
			known |= v->t[i] != NULL && v->t[i]->dev == list[j];
		if (!known && libusb_get_device_descriptor(list[j], &d) == 0 &&
		    id_wanted(v, d.idVendor, d.idProduct) && v->n_arrived < MAX_PENDING)
			v->arrived[v->n_arrived++] = libusb_ref_device(list[j]);
	}
	pthread_mutex_unlock(&v->mu);
	libusb_free_device_list(list, 1);
}

static void *
watch_main(void *arg)
{
	struct hwg_vein *v = arg;

	while (!v->stop) {
		struct timeval tv = {0, WATCH_SLICE_MS * 1000};
		int64_t now;

		libusb_handle_events_timeout_completed(v->ctx, &tv, (int *)&v->stop);
		now = hwg_now_ms();
		if (!v->hotplug && now >= v->next_scan_ms) {
			scan(v);
			v->next_scan_ms = now + v->cfg.scan_interval_ms;
		}
		handle_pending(v);
	}
	return NULL;
}

/* ---------------------------------------------------------------- life cycle */

int
hwg_vein_open(const struct hwg_vein_config *cfg, hwg_vein_event_fn on_event, void *arg,
              struct hwg_vein **out, struct hwg_error *err)
{
	struct hwg_vein *v;
	int rc;

	*out = NULL;
	if (cfg->n_ids == 0 || cfg->n_ids > HWG_VEIN_MAX_IDS || cfg->scan_interval_ms <= 0 ||
	    cfg->command_timeout_ms <= 0)
		return hwg_error_set(err, HWG_E_CONFIG, "[vein]: no USB ids, or a bad interval");
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	v->cfg = *cfg;
	v->on_event = on_event;
	v->arg = arg;
	pthread_mutex_init(&v->mu, NULL);
	if ((rc = libusb_init(&v->ctx)) != 0) {
		v->ctx = NULL;
		hwg_vein_close(v);
		return hwg_error_set(err, HWG_E_IO, "libusb: %s", libusb_strerror(rc));
	}
	v->hotplug = libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) &&
	             libusb_hotplug_register_callback(
	                 v->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT,
	                 LIBUSB_HOTPLUG_ENUMERATE, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
	                 LIBUSB_HOTPLUG_MATCH_ANY, on_hotplug, v, &v->hp) == 0;
	/* terminals plugged in already are in the table when we return */
	if (!v->hotplug) {
		scan(v);
		v->next_scan_ms = hwg_now_ms() + v->cfg.scan_interval_ms;
	}
	handle_pending(v);
	if (pthread_create(&v->thread, NULL, watch_main, v) != 0) {
		hwg_vein_close(v);
		return hwg_error_set(err, HWG_E_IO, "cannot start the terminal watcher");
	}
	v->started = 1;
	*out = v;
	return 0;
}

void
hwg_vein_close(struct hwg_vein *v)
{
	if (v == NULL)
		return;
	if (v->started) {
		v->stop = 1;
		libusb_interrupt_event_handler(v->ctx);
		pthread_join(v->thread, NULL);
	}
	if (v->hotplug)
		libusb_hotplug_deregister_callback(v->ctx, v->hp);
	for (size_t i = 0; i < v->n_arrived; i++)
		libusb_unref_device(v->arrived[i]);
	for (size_t i = 0; i < v->n_left; i++)
		libusb_unref_device(v->left[i]);
	for (int i = 0; i < HWG_VEIN_MAX_TERMINALS; i++)
		if (v->t[i] != NULL)
			terminal_put(v, v->t[i]);
	if (v->ctx != NULL)
		libusb_exit(v->ctx);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

static int
cmp_info(const void *a, const void *b)
{
	return strcmp(((const struct hwg_vein_info *)a)->serial,
	              ((const struct hwg_vein_info *)b)->serial);
}

int
hwg_vein_list(struct hwg_vein *v, struct hwg_vein_info *out, size_t max, size_t *n)
{
	*n = 0;
	pthread_mutex_lock(&v->mu);
	for (int i = 0; i < HWG_VEIN_MAX_TERMINALS && *n < max; i++) {
		if (v->t[i] == NULL || v->t[i]->gone)
			continue;
		out[*n] = v->t[i]->info;
		out[*n].capturing = v->t[i]->capturing;
		(*n)++;
	}
	pthread_mutex_unlock(&v->mu);
	qsort(out, *n, sizeof(out[0]), cmp_info);
	return 0;
}

/* ---------------------------------------------------------------- operations */

/* The terminal, with its exchange lock held; HWG_E_TERMINAL_BUSY if another request has it. */
static int
begin(struct hwg_vein *v, const char *serial, struct terminal **out, struct hwg_error *err)
{
	struct terminal *t = terminal_get(v, serial);

	*out = NULL;
	if (t == NULL)
		return hwg_error_set(err, HWG_E_NO_TERMINAL, "no terminal \"%s\" is connected", serial);
	if (pthread_mutex_trylock(&t->io) != 0) {
		terminal_put(v, t);
		return hwg_error_set(err, HWG_E_TERMINAL_BUSY,
		                     "terminal %s is busy with another request", serial);
	}
	*out = t;
	return 0;
}

static void
end(struct hwg_vein *v, struct terminal *t)
{
	pthread_mutex_unlock(&t->io);
	terminal_put(v, t);
}

int
hwg_vein_pair(struct hwg_vein *v, const char *terminal, uint8_t pubkey[HWG_VEIN_PUBKEY_LEN],
              struct hwg_error *err)
{
	uint8_t nonce[HWG_VEIN_NONCE_LEN], payload[64], buf[HWG_VEIN_IN_TRANSFER_LEN];
	struct hwg_vein_frame f;
	struct hwg_vein_msg_pair m;
	struct terminal *t;
	size_t len;
	int rc;

	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return hwg_error_set(err, HWG_E_INTERNAL, "no randomness for the pairing nonce");
	if ((rc = hwg_vein_enc_pair_req(nonce, payload, sizeof(payload), &len, err)) != 0 ||
	    (rc = begin(v, terminal, &t, err)) != 0)
		return rc;
	rc = exchange(v, t, HWG_VEIN_PAIR, payload, len, v->cfg.command_timeout_ms, buf, &f, "PAIR",
	              err);
	end(v, t);
	if (rc == 0)
		rc = hwg_vein_parse_pair(f.payload, f.payload_len, &m, err);
	if (rc == 0)
		rc = hwg_vein_status_error(m.status, "PAIR", err);
	if (rc == 0)
		rc = hwg_vein_verify_pair(nonce, &m, err);
	if (rc == 0)
		memcpy(pubkey, m.pubkey, HWG_VEIN_PUBKEY_LEN);
	return rc;
}

/*
 * Send CAPTURE and mark the terminal capturing in one hold of out_lock, so
 * that a cancel either finds no capture or one the terminal knows about.
 */
static int
send_capture(struct hwg_vein *v, struct terminal *t, const uint8_t *payload, size_t len,
             uint16_t *seq, struct hwg_error *err)
{
	int rc;

	pthread_mutex_lock(&t->out_lock);
	rc = send_locked(v, t, HWG_VEIN_CAPTURE, payload, len, seq, "CAPTURE", err);
	t->capturing = rc == 0;
	pthread_mutex_unlock(&t->out_lock);
	return rc;
}

static void
capture_done(struct terminal *t)
{
	pthread_mutex_lock(&t->out_lock);
	t->capturing = 0;
	t->cancel_requested = 0;
	pthread_mutex_unlock(&t->out_lock);
}

int
hwg_vein_capture(struct hwg_vein *v, const char *terminal,
                 const uint8_t paired_pubkey[HWG_VEIN_PUBKEY_LEN], int timeout_ms,
                 struct hwg_vein_capture *out, struct hwg_error *err)
{
	struct hwg_vein_msg_capture_req req = {.timeout_ms = (uint16_t)timeout_ms};
	uint8_t payload[64], buf[HWG_VEIN_IN_TRANSFER_LEN];
	struct hwg_vein_msg_capture m;
	struct hwg_vein_frame f;
	struct terminal *t;
	uint16_t seq = 0;
	size_t len;
	int rc;

	if (timeout_ms < HWG_VEIN_TIMEOUT_MIN || timeout_ms > HWG_VEIN_TIMEOUT_MAX)
		return hwg_error_set(err, HWG_E_INVALID, "capture timeout %d ms outside %d..%d",
		                     timeout_ms, HWG_VEIN_TIMEOUT_MIN, HWG_VEIN_TIMEOUT_MAX);
	if (RAND_bytes(req.nonce, sizeof(req.nonce)) != 1)
		return hwg_error_set(err, HWG_E_INTERNAL, "no randomness for the capture nonce");
	if ((rc = hwg_vein_enc_capture_req(&req, payload, sizeof(payload), &len, err)) != 0 ||
	    (rc = begin(v, terminal, &t, err)) != 0)
		return rc;
	rc = send_capture(v, t, payload, len, &seq, err);
	if (rc == 0)
		rc = recv_answer(v, t, HWG_VEIN_CAPTURE, seq,
		                 timeout_ms + HWG_VEIN_CAPTURE_GRACE_MS + v->cfg.command_timeout_ms, buf,
		                 &f, "CAPTURE", err);
	if (rc == HWG_E_TERMINAL_ERROR)
		hwg_vein_cancel(v, terminal, NULL); /* past its promise: leave it idle for the next */
	capture_done(t);
	end(v, t);
	if (rc == 0)
		rc = hwg_vein_parse_capture(f.payload, f.payload_len, &m, err);
	if (rc == 0)
		rc = hwg_vein_status_error(m.status, "CAPTURE", err);
	if (rc == 0)
		rc = hwg_vein_verify_capture(paired_pubkey, req.nonce, &m, err);
	if (rc == 0) {
		memcpy(out->tmpl, m.tmpl, sizeof(out->tmpl));
		out->quality = m.quality;
		out->liveness = m.liveness;
	}
	OPENSSL_cleanse(&m, sizeof(m));
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

int
hwg_vein_cancel(struct hwg_vein *v, const char *terminal, struct hwg_error *err)
{
	struct terminal *t = terminal_get(v, terminal);
	uint16_t seq;
	int rc = 0;

	if (t == NULL)
		return hwg_error_set(err, HWG_E_NO_TERMINAL, "no terminal \"%s\" is connected",
		                     terminal);
	pthread_mutex_lock(&t->out_lock);
	if (!t->capturing)
		rc = hwg_error_set(err, HWG_E_NOT_FOUND, "terminal %s is not capturing", terminal);
	else if (!t->cancel_requested)
		rc = send_locked(v, t, HWG_VEIN_CANCEL, NULL, 0, &seq, "CANCEL", err);
	if (rc == 0)
		t->cancel_requested = 1;
	pthread_mutex_unlock(&t->out_lock);
	terminal_put(v, t);
	return rc;
}
