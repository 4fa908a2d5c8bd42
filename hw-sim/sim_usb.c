/*
 * sim_usb.c — see sim_usb.h.  Every plug-in is a fresh "plug": its own
 * bus address, sysfs entry and ioctl handler.  A plug that was pulled out
 * stays alive, answering ENODEV to the process that still has it open,
 * until the testbed closes, so a late ioctl never reaches freed memory.
 */
#include "sim_usb.h"

#include <errno.h>
#include <linux/usbdevice_fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <umockdev.h>

#include "hwg_time.h"

#define URB_MAX 8
#define PARK_MS 5 /* how long a reap that found nothing is held back */
#define IN_EP 0x81
#define OUT_EP 0x01
#define MAX_PACKET 512
#define SETUP_LEN 8 /* a control transfer's SETUP packet, before its data */
#define MAX_PLUGS (4 * SIM_USB_MAX_DEVICES * 8)

struct urb {
	UMockdevIoctlClient *owner; /* the open file it was submitted on (a reference) */
	UMockdevIoctlData *urb;     /* the client's struct usbdevfs_urb (a reference) */
	UMockdevIoctlData *buf;     /* its buffer (a reference), NULL for zero length */
	int status, actual;
};

struct plug {
	struct sim_usb *usb;
	int index, devnum, gone;
	char syspath[256], devnode[64];
	UMockdevIoctlBase *handler;
	const struct sim_usb_device_ops *ops;
	void *dev;
	struct urb in[URB_MAX]; /* IN transfers waiting for a frame, oldest first */
	size_t n_in;
	struct urb done[URB_MAX]; /* completed, waiting to be reaped */
	size_t n_done;
	UMockdevIoctlClient *parked; /* a reap held back, with the slot for its answer */
	UMockdevIoctlData *parked_slot;
	int64_t parked_until;
};

struct sim_usb {
	UMockdevTestbed *tb;
	char *root;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	pthread_t reaper;
	int reaper_started, stop;
	struct plug *plugs[MAX_PLUGS]; /* every plug ever made, live or pulled */
	size_t n_plugs;
	struct plug *live[SIM_USB_MAX_DEVICES];
	int next_devnum;
};

/* ---------------------------------------------------------------- URBs */

static void
urb_release(struct urb *u)
{
	if (u->buf != NULL)
		g_object_unref(u->buf);
	if (u->urb != NULL)
		g_object_unref(u->urb);
	if (u->owner != NULL)
		g_object_unref(u->owner);
	memset(u, 0, sizeof(*u));
}

/* Drop client's transfers from list, or (others = 1) everyone else's. */
static void
forget(struct urb *list, size_t *n, const UMockdevIoctlClient *client, int others)
{
	size_t kept = 0;

	for (size_t i = 0; i < *n; i++) {
		if ((list[i].owner == client) == (others != 0))
			list[kept++] = list[i];
		else
			urb_release(&list[i]);
	}
	*n = kept;
}

static int
queue_done(struct plug *p, struct urb *u, int status, int actual)
{
	if (p->n_done == URB_MAX)
		return -1;
	u->status = status;
	u->actual = actual;
	p->done[p->n_done++] = *u;
	memset(u, 0, sizeof(*u));
	return 0;
}

/* Index of client's oldest transfer in list, or -1. */
static long
oldest_of(const struct urb *list, size_t n, const UMockdevIoctlClient *client)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].owner == client)
			return (long)i;
	return -1;
}

/* Fill client's oldest waiting IN transfer if the device has a frame for it. */
static int
fill_in(struct plug *p, const UMockdevIoctlClient *client)
{
	struct usbdevfs_urb *req;
	long i = oldest_of(p->in, p->n_in, client);
	size_t len = 0;

	if (i < 0 || p->n_done == URB_MAX || p->gone)
		return 0;
	req = (struct usbdevfs_urb *)p->in[i].urb->data;
	if (p->in[i].buf == NULL ||
	    !p->ops->in(p->dev, hwg_now_ms(), p->in[i].buf->data, (size_t)req->buffer_length, &len))
		return 0;
	queue_done(p, &p->in[i], 0, (int)len);
	memmove(&p->in[i], &p->in[i + 1], (--p->n_in - (size_t)i) * sizeof(p->in[0]));
	return 1;
}

/*
 * Hand client's oldest completed transfer to its reap, whose answer goes
 * in slot; 0 if none.  A transfer is only ever reaped on the open file
 * it was submitted on, as with usbfs.
 */
static int
reap_one(struct plug *p, const UMockdevIoctlClient *client, UMockdevIoctlData *slot)
{
	struct usbdevfs_urb *req;
	struct urb u;
	long i = oldest_of(p->done, p->n_done, client);

	if (i < 0 && fill_in(p, client))
		i = oldest_of(p->done, p->n_done, client);
	if (i < 0)
		return 0;
	u = p->done[i];
	memmove(&p->done[i], &p->done[i + 1], (--p->n_done - (size_t)i) * sizeof(p->done[0]));
	req = (struct usbdevfs_urb *)u.urb->data;
	req->status = u.status;
	req->actual_length = u.actual;
	umockdev_ioctl_data_set_ptr(slot, 0, u.urb);
	urb_release(&u);
	return 1;
}

/* ---------------------------------------------------------------- ioctls */

/*
 * One control transfer: the SETUP packet, then data (wLength bytes, room
 * for the answer of an IN request); the bytes the data stage carried, or
 * -1 for a stall (no handler, or the device refuses the request).
 */
static int
control(struct plug *p, const uint8_t setup[SETUP_LEN], uint8_t *data)
{
	size_t want = (size_t)setup[6] | (size_t)setup[7] << 8, len = 0;

	if (p->ops->control == NULL || p->ops->control(p->dev, setup, data, &len) != 0)
		return -1;
	if (!(setup[0] & 0x80))
		return (int)want; /* OUT: the device took what was sent */
	return (int)(len < want ? len : want);
}

/* A control URB: SETUP then data in one buffer; completed (or stalled) at once. */
static int
submit_control(struct plug *p, struct urb *u, int length)
{
	uint8_t *b = u->buf != NULL ? u->buf->data : NULL;
	int n;

	if (b == NULL || length < SETUP_LEN || length - SETUP_LEN < (b[6] | b[7] << 8))
		return queue_done(p, u, -EPIPE, 0);
	n = control(p, b, b + SETUP_LEN);
	return queue_done(p, u, n < 0 ? -EPIPE : 0, n < 0 ? 0 : n);
}

/* USBDEVFS_CONTROL: the same, synchronous; the data stage's length, or -1 and errno. */
static int
control_ioctl(struct plug *p, UMockdevIoctlData *data, int *result)
{
	struct usbdevfs_ctrltransfer *c = (struct usbdevfs_ctrltransfer *)data->data;
	uint8_t setup[SETUP_LEN] = {c->bRequestType,   c->bRequest,      c->wValue & 0xff,
	                            c->wValue >> 8,    c->wIndex & 0xff, c->wIndex >> 8,
	                            c->wLength & 0xff, c->wLength >> 8};
	UMockdevIoctlData *buf = NULL;
	uint8_t none[1];
	GError *e = NULL;

	if (p->gone)
		return ENODEV;
	if (c->wLength > 0 &&
	    (buf = umockdev_ioctl_data_resolve(data, offsetof(struct usbdevfs_ctrltransfer, data),
	                                       c->wLength, &e)) == NULL) {
		g_clear_error(&e);
		return EFAULT;
	}
	if ((*result = control(p, setup, buf != NULL ? buf->data : none)) < 0)
		return EPIPE;
	return 0;
}

static int
submit(struct plug *p, UMockdevIoctlClient *client, UMockdevIoctlData *data)
{
	struct usbdevfs_urb *req = (struct usbdevfs_urb *)data->data;
	struct urb u = {g_object_ref(client), g_object_ref(data), NULL, 0, 0};
	GError *e = NULL;

	if (req->buffer_length < 0 || req->buffer_length > 65536) {
		urb_release(&u);
		return EINVAL;
	}
	if (req->buffer_length > 0) {
		u.buf = umockdev_ioctl_data_resolve(data, offsetof(struct usbdevfs_urb, buffer),
		                                    (size_t)req->buffer_length, &e);
		if (u.buf == NULL) {
			g_clear_error(&e);
			urb_release(&u);
			return EFAULT;
		}
		g_object_ref(u.buf);
	}
	if (req->type == USBDEVFS_URB_TYPE_BULK && req->endpoint == OUT_EP) {
		p->ops->out(p->dev, u.buf != NULL ? u.buf->data : (const uint8_t *)"",
		            (size_t)req->buffer_length);
		if (queue_done(p, &u, 0, req->buffer_length) == 0)
			return 0;
	} else if (req->type == USBDEVFS_URB_TYPE_BULK && req->endpoint == IN_EP) {
		if (p->n_in < URB_MAX) {
			p->in[p->n_in++] = u;
			return 0;
		}
	} else if (req->type == USBDEVFS_URB_TYPE_CONTROL) {
		if (submit_control(p, &u, req->buffer_length) == 0)
			return 0;
	} else if (queue_done(p, &u, -EPIPE, 0) == 0) {
		return 0; /* another endpoint or transfer type: stalled */
	}
	urb_release(&u);
	return ENOMEM;
}

/* DISCARDURB: a waiting IN transfer is cancelled (reaped with -ENOENT). */
static int
discard(struct plug *p, const UMockdevIoctlClient *client, gulong client_addr)
{
	for (size_t i = 0; i < p->n_in; i++) {
		if (p->in[i].owner != client || p->in[i].urb->client_addr != client_addr)
			continue;
		if (queue_done(p, &p->in[i], -ENOENT, 0) != 0)
			return ENOMEM;
		memmove(&p->in[i], &p->in[i + 1], (--p->n_in - i) * sizeof(p->in[0]));
		return 0;
	}
	return EINVAL; /* completed already: it will be reaped */
}

static void
park(struct plug *p, UMockdevIoctlClient *client, UMockdevIoctlData *slot)
{
	p->parked = g_object_ref(client);
	p->parked_slot = g_object_ref(slot);
	p->parked_until = hwg_now_ms() + PARK_MS;
	pthread_cond_signal(&p->usb->cond);
}

static void
unpark(struct plug *p, long res, int errno_)
{
	umockdev_ioctl_client_complete(p->parked, res, errno_);
	g_object_unref(p->parked_slot);
	g_object_unref(p->parked);
	p->parked = NULL;
	p->parked_slot = NULL;
}

/* Returns the errno to answer with, or -1 when the reap was parked. */
static int
reap(struct plug *p, UMockdevIoctlClient *client, UMockdevIoctlData *slot)
{
	if (reap_one(p, client, slot))
		return 0;
	if (p->gone)
		return ENODEV;
	if (p->parked != NULL)
		return EAGAIN;
	park(p, client, slot);
	return -1;
}

static int
plain_ioctl(struct plug *p, gulong request, UMockdevIoctlData *data)
{
	switch (request) {
	case USBDEVFS_GET_CAPABILITIES:
		*(uint32_t *)data->data =
		    USBDEVFS_CAP_BULK_CONTINUATION | USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
		    USBDEVFS_CAP_REAP_AFTER_DISCONNECT | USBDEVFS_CAP_ZERO_PACKET;
		return 0;
	case USBDEVFS_CLAIMINTERFACE:
	case USBDEVFS_RELEASEINTERFACE:
	case USBDEVFS_SETINTERFACE:
	case USBDEVFS_CLEAR_HALT:
	case USBDEVFS_RESETEP:
	case USBDEVFS_RESET:
		return p->gone ? ENODEV : 0;
	case USBDEVFS_GETDRIVER:
	case USBDEVFS_IOCTL:
		return ENODATA; /* no kernel driver bound to our interface */
	default:
		return ENOTTY;
	}
}

static gboolean
on_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer arg)
{
	struct plug *p = arg;
	gulong request = umockdev_ioctl_client_get_request(client);
	UMockdevIoctlData *raw = umockdev_ioctl_client_get_arg(client), *data;
	gsize size = (request >> _IOC_SIZESHIFT) & ((1u << _IOC_SIZEBITS) - 1);
	GError *e = NULL;
	int rc;

	(void)handler;
	if (request == USBDEVFS_DISCARDURB) {
		pthread_mutex_lock(&p->usb->mu);
		rc = p->gone ? ENODEV : discard(p, client, *(gulong *)raw->data);
		pthread_mutex_unlock(&p->usb->mu);
		umockdev_ioctl_client_complete(client, rc == 0 ? 0 : -1, rc);
		return TRUE;
	}
	if ((data = umockdev_ioctl_data_resolve(raw, 0, size, &e)) == NULL) {
		g_clear_error(&e);
		umockdev_ioctl_client_complete(client, -1, EFAULT);
		return TRUE;
	}
	pthread_mutex_lock(&p->usb->mu);
	if (request == USBDEVFS_CONTROL) {
		int n = 0;

		rc = control_ioctl(p, data, &n);
		pthread_mutex_unlock(&p->usb->mu);
		umockdev_ioctl_client_complete(client, rc == 0 ? n : -1, rc);
		return TRUE;
	}
	if (request == USBDEVFS_SUBMITURB)
		rc = p->gone ? ENODEV : submit(p, client, data);
	else if (request == USBDEVFS_REAPURB || request == USBDEVFS_REAPURBNDELAY)
		rc = reap(p, client, data);
	else
		rc = plain_ioctl(p, request, data);
	pthread_mutex_unlock(&p->usb->mu);
	if (rc >= 0)
		umockdev_ioctl_client_complete(client, rc == 0 ? 0 : -1, rc);
	return TRUE;
}

/*
 * A new open file: the device has one user at a time (the gateway claims
 * its interface), so the transfers of any earlier file are forgotten.
 * umockdev does not report a file whose process was killed while one of
 * its ioctls was held here, so this is also where such a file's state goes.
 */
static void
on_connected(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer arg)
{
	struct plug *p = arg;

	(void)handler;
	pthread_mutex_lock(&p->usb->mu);
	forget(p->in, &p->n_in, client, 1);
	forget(p->done, &p->n_done, client, 1);
	if (p->parked != NULL && p->parked != client)
		unpark(p, -1, ENODEV);
	pthread_mutex_unlock(&p->usb->mu);
}

/* The process that had the device open closed it: forget its transfers. */
static void
on_vanished(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer arg)
{
	struct plug *p = arg;

	(void)handler;
	pthread_mutex_lock(&p->usb->mu);
	forget(p->in, &p->n_in, client, 0);
	forget(p->done, &p->n_done, client, 0);
	if (p->parked == client)
		unpark(p, -1, ENODEV);
	pthread_mutex_unlock(&p->usb->mu);
}

/* ---------------------------------------------------------------- reaper */

/* Answer held-back reaps: with a transfer as soon as one is ready, EAGAIN when due. */
static void *
reaper_main(void *arg)
{
	struct sim_usb *u = arg;

	pthread_mutex_lock(&u->mu);
	while (!u->stop) {
		int64_t now = hwg_now_ms(), next = now + 50;
		struct timespec ts;

		for (int i = 0; i < SIM_USB_MAX_DEVICES; i++) {
			struct plug *p = u->live[i];

			if (p == NULL || p->parked == NULL)
				continue;
			if (reap_one(p, p->parked, p->parked_slot))
				unpark(p, 0, 0);
			else if (now >= p->parked_until)
				unpark(p, -1, EAGAIN);
			else if (p->parked_until < next)
				next = p->parked_until;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)(next - now) * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&u->cond, &u->mu, &ts);
	}
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

void
sim_usb_kick(struct sim_usb *u)
{
	pthread_mutex_lock(&u->mu);
	pthread_cond_signal(&u->cond);
	pthread_mutex_unlock(&u->mu);
}

/* ---------------------------------------------------------------- testbed */

int
sim_usb_open(struct sim_usb **out, struct hwg_error *err)
{
	struct sim_usb *u = calloc(1, sizeof(*u));

	*out = NULL;
	if (u == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cond, NULL);
	u->next_devnum = 2; /* 1 is the root hub's */
	if ((u->tb = umockdev_testbed_new()) == NULL ||
	    (u->root = umockdev_testbed_get_root_dir(u->tb)) == NULL) {
		sim_usb_close(u);
		return hwg_error_set(err, HWG_E_IO, "cannot create the umockdev testbed");
	}
	if (pthread_create(&u->reaper, NULL, reaper_main, u) != 0) {
		sim_usb_close(u);
		return hwg_error_set(err, HWG_E_IO, "cannot start the USB reaper thread");
	}
	u->reaper_started = 1;
	*out = u;
	return 0;
}

const char *
sim_usb_root(const struct sim_usb *u)
{
	return u->root;
}

/*
 * Device and configuration descriptors: one interface of the identity's
 * class (vendor for a terminal, printer for a printer), bulk OUT 0x01 and
 * IN 0x81.
 */
static void
descriptors_hex(const struct sim_usb_identity *id, char *out, size_t cap)
{
	const uint8_t d[] = {
	    18, 1, 0x00, 0x02, 0, 0, 0, 64, id->vendor & 0xff, id->vendor >> 8, id->product & 0xff,
	    id->product >> 8, 0x00, 0x01, 1, 2, 3, 1,
	    /* configuration: 32 bytes in all, one interface, bus powered, 100 mA */
	    9, 2, 32, 0, 1, 1, 0, 0x80, 50,
	    /* interface 0: two endpoints, vendor class */
	    9, 4, 0, 0, 2, id->if_class, id->if_subclass, id->if_protocol, 0,
	    /* endpoints */
	    7, 5, OUT_EP, 2, MAX_PACKET & 0xff, MAX_PACKET >> 8, 0, 7, 5, IN_EP, 2,
	    MAX_PACKET & 0xff, MAX_PACKET >> 8, 0};
	size_t o = 0;

	for (size_t i = 0; i < sizeof(d) && o + 3 <= cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%02x", d[i]);
}

static int
testbed_add(struct sim_usb *u, struct plug *p, const struct sim_usb_identity *id,
            struct hwg_error *err)
{
	char hex[256], desc[2048];
	GError *e = NULL;
	int ok;

	descriptors_hex(id, hex, sizeof(hex));
	snprintf(p->syspath, sizeof(p->syspath), "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-%d",
	         p->index + 1);
	snprintf(p->devnode, sizeof(p->devnode), "/dev/bus/usb/001/%03d", p->devnum);
	snprintf(desc, sizeof(desc),
	         "P: /devices/pci0000:00/0000:00:14.0/usb1/1-%d\n"
	         "N: bus/usb/001/%03d\n"
	         "E: DEVNAME=%s\nE: DEVTYPE=usb_device\nE: DRIVER=usb\nE: PRODUCT=%x/%x/100\n"
	         "E: TYPE=0/0/0\nE: BUSNUM=001\nE: DEVNUM=%03d\nE: MAJOR=189\nE: MINOR=%d\n"
	         "E: SUBSYSTEM=usb\n"
	         "A: busnum=1\nA: devnum=%d\nA: speed=480\nA: bConfigurationValue=1\n"
	         "A: bNumConfigurations=1\nA: idVendor=%04x\nA: idProduct=%04x\nA: serial=%s\n"
	         "A: product=%s\nA: manufacturer=hwsim\n"
	         "H: descriptors=%s\n",
	         p->index + 1, p->devnum, p->devnode, id->vendor, id->product, p->devnum,
	         p->devnum - 1, p->devnum, id->vendor, id->product, id->serial, id->product_name,
	         hex);
	/* the handler first: a device node must never be visible without it */
	p->handler = umockdev_ioctl_base_new();
	g_signal_connect(p->handler, "handle-ioctl", G_CALLBACK(on_ioctl), p);
	g_signal_connect(p->handler, "client-connected", G_CALLBACK(on_connected), p);
	g_signal_connect(p->handler, "client-vanished", G_CALLBACK(on_vanished), p);
	if (!umockdev_testbed_attach_ioctl(u->tb, p->devnode, p->handler, &e)) {
		hwg_error_set(err, HWG_E_IO, "umockdev ioctl handler for %s: %s", p->devnode,
		              e->message);
		g_clear_error(&e);
		return HWG_E_IO;
	}
	ok = umockdev_testbed_add_from_string(u->tb, desc, &e);
	if (!ok) {
		hwg_error_set(err, HWG_E_IO, "umockdev refused the device: %s", e->message);
		g_clear_error(&e);
		umockdev_testbed_detach_ioctl(u->tb, p->devnode, NULL);
		return HWG_E_IO;
	}
	return 0;
}

int
sim_usb_plug(struct sim_usb *u, int index, const struct sim_usb_identity *id,
             const struct sim_usb_device_ops *ops, void *dev, struct hwg_error *err)
{
	struct plug *p;
	int rc;

	if (index < 0 || index >= SIM_USB_MAX_DEVICES)
		return hwg_error_set(err, HWG_E_INVALID, "USB device index %d out of range", index);
	if (u->live[index] != NULL)
		return hwg_error_set(err, HWG_E_EXISTS, "USB device %d is plugged in already",
		                     index);
	if (u->n_plugs == MAX_PLUGS || u->next_devnum > 127)
		return hwg_error_set(err, HWG_E_TOO_LARGE, "too many plug-ins in one run");
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	p->usb = u;
	p->index = index;
	p->devnum = u->next_devnum++;
	p->ops = ops;
	p->dev = dev;
	if ((rc = testbed_add(u, p, id, err)) != 0) {
		if (p->handler != NULL)
			g_object_unref(p->handler);
		free(p);
		return rc;
	}
	pthread_mutex_lock(&u->mu);
	u->plugs[u->n_plugs++] = p;
	u->live[index] = p;
	pthread_mutex_unlock(&u->mu);
	umockdev_testbed_uevent(u->tb, p->syspath, "add");
	return 0;
}

/* With the lock held: the plug answers ENODEV from now on; transfers in flight fail. */
static void
pull(struct plug *p)
{
	p->gone = 1;
	while (p->n_in > 0 && queue_done(p, &p->in[0], -ESHUTDOWN, 0) == 0)
		memmove(&p->in[0], &p->in[1], --p->n_in * sizeof(p->in[0]));
	if (p->parked != NULL) {
		int reaped = reap_one(p, p->parked, p->parked_slot);

		unpark(p, reaped ? 0 : -1, reaped ? 0 : ENODEV);
	}
}

int
sim_usb_unplug(struct sim_usb *u, int index, struct hwg_error *err)
{
	struct plug *p;

	pthread_mutex_lock(&u->mu);
	p = index >= 0 && index < SIM_USB_MAX_DEVICES ? u->live[index] : NULL;
	if (p != NULL) {
		pull(p);
		u->live[index] = NULL;
	}
	pthread_mutex_unlock(&u->mu);
	if (p == NULL)
		return hwg_error_set(err, HWG_E_NOT_FOUND, "USB device %d is not plugged in",
		                     index);
	umockdev_testbed_uevent(u->tb, p->syspath, "remove");
	umockdev_testbed_detach_ioctl(u->tb, p->devnode, NULL);
	umockdev_testbed_remove_device(u->tb, p->syspath);
	return 0;
}

int
sim_usb_plugged(struct sim_usb *u, int index)
{
	int plugged;

	pthread_mutex_lock(&u->mu);
	plugged = index >= 0 && index < SIM_USB_MAX_DEVICES && u->live[index] != NULL;
	pthread_mutex_unlock(&u->mu);
	return plugged;
}

void
sim_usb_close(struct sim_usb *u)
{
	if (u == NULL)
		return;
	for (int i = 0; i < SIM_USB_MAX_DEVICES; i++)
		if (u->live[i] != NULL)
			sim_usb_unplug(u, i, NULL);
	if (u->reaper_started) {
		pthread_mutex_lock(&u->mu);
		u->stop = 1;
		pthread_cond_signal(&u->cond);
		pthread_mutex_unlock(&u->mu);
		pthread_join(u->reaper, NULL);
	}
	if (u->tb != NULL)
		g_object_unref(u->tb); /* removes the testbed directory */
	for (size_t i = 0; i < u->n_plugs; i++) {
		struct plug *p = u->plugs[i];

		for (size_t j = 0; j < p->n_done; j++)
			urb_release(&p->done[j]);
		g_object_unref(p->handler);
		free(p);
	}
	g_free(u->root);
	pthread_cond_destroy(&u->cond);
	pthread_mutex_destroy(&u->mu);
	free(u);
}
