/*
 * sim_usb.h — simulated USB devices for the real libusb code path.
 *
 * hwsim owns a umockdev testbed (a private /sys and /dev tree plus one
 * ioctl socket per device node); a process started with umockdev's
 * preload library and UMOCKDEV_DIR set to sim_usb_root() enumerates the
 * devices through libudev, opens them and talks usbdevfs to them exactly
 * as it would to the kernel.  This module answers those usbdevfs ioctls
 * the way the kernel does for a device with one bulk OUT and one bulk IN
 * endpoint and the default control endpoint: bytes of an OUT transfer go
 * to the device's out() callback;
 * an IN transfer is answered when the device's in() callback has a frame,
 * never before (the bytes are handed over at reap time, so a transfer
 * that libusb cancels never swallows a frame); pulling the plug completes
 * every transfer in flight with -ESHUTDOWN and answers ENODEV afterwards,
 * as usbfs does.  A control transfer, as an URB (what libusb sends) or as
 * the synchronous USBDEVFS_CONTROL ioctl, is answered at once by the
 * device's control() callback, or stalled.  Two kinds of device plug in:
 * the palm-vein terminals (firmware-notes/vein-terminal.md, vendor class,
 * no control requests) and the certificate printers
 * (firmware-notes/certificate-printer.md, printer class, class requests).
 *
 * Thread model: umockdev calls us on its worker thread; a reaper thread
 * of ours answers the non-blocking reaps that found nothing within a few
 * milliseconds instead of at once, so that libusb's event loop, which
 * sees a testbed device node as always ready, does not spin.
 */
#ifndef SIM_USB_H
#define SIM_USB_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

#define SIM_USB_MAX_DEVICES 16 /* ports: the terminals take 0..7, the printers 8..15 */

struct sim_usb;

/* What a simulated device does with its endpoints; called under sim_usb's lock. */
struct sim_usb_device_ops {
	/* A bulk OUT transfer of len bytes arrived. */
	void (*out)(void *dev, const uint8_t *data, size_t len);
	/* A bulk IN transfer is waiting: 1 with *len bytes in buf if a frame is ready, else 0. */
	int (*in)(void *dev, int64_t now_ms, uint8_t *buf, size_t cap, size_t *len);
	/*
	 * A control transfer: setup is its 8-byte SETUP packet (wLength
	 * little-endian in setup[6..7]), data its wLength bytes: for OUT
	 * (setup[0] bit 7 clear) what the host sent, for IN where the answer
	 * goes, *len how many bytes were written (at most wLength).  0 to
	 * answer, -1 to stall.  NULL: every control transfer stalls (libusb
	 * reads the descriptors from sysfs, without a request).
	 */
	int (*control)(void *dev, const uint8_t setup[8], uint8_t *data, size_t *len);
};

struct sim_usb_identity {
	uint16_t vendor, product;
	uint8_t if_class, if_subclass, if_protocol;
	const char *serial, *product_name;
};

/* A new testbed (its directory under $TMPDIR); HWG_E_IO naming the cause. */
int sim_usb_open(struct sim_usb **out, struct hwg_error *err);
/* Unplug everything, stop the reaper, remove the testbed; accepts NULL. */
void sim_usb_close(struct sim_usb *u);
/* The directory to export as UMOCKDEV_DIR. */
const char *sim_usb_root(const struct sim_usb *u);

/*
 * Plug device index (0..SIM_USB_MAX_DEVICES-1) in: a new bus address, a
 * sysfs entry with its descriptors, an ioctl handler and an "add" uevent.
 * HWG_E_EXISTS if that index is plugged in already.
 */
int sim_usb_plug(struct sim_usb *u, int index, const struct sim_usb_identity *id,
                 const struct sim_usb_device_ops *ops, void *dev, struct hwg_error *err);
/* Pull it out ("remove" uevent, transfers in flight fail); HWG_E_NOT_FOUND if not plugged. */
int sim_usb_unplug(struct sim_usb *u, int index, struct hwg_error *err);
int sim_usb_plugged(struct sim_usb *u, int index);
/* Wake the reaper: a device may have a frame now (a palm was presented). */
void sim_usb_kick(struct sim_usb *u);

#endif
