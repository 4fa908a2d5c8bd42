/*
 * hwg_vein.h — palm-vein terminals over libusb (firmware-notes/vein-terminal.md).
 *
 * The driver owns one libusb context and a table of the terminals that
 * are plugged in, kept current by libusb hot-plug where the platform has
 * it and by a periodic scan otherwise.  A terminal is named by the serial
 * it reports in GET_INFO.  Every exchange is one framed command and its
 * answer, bounded by a timeout; a terminal unplugged mid-exchange gives
 * HWG_E_TERMINAL_REMOVED, never a hang.  Capture results are accepted only
 * when signed by the terminal's paired device key over the gateway's fresh
 * nonce, so a spoofed device, a replayed capture or a template changed on
 * the bus is refused (HWG_E_DEVICE_SIGNATURE).  libusb codes stop here.
 * Thread-safe: one lock per terminal; a capture on one terminal does not
 * block another.
 */
#ifndef HWG_VEIN_H
#define HWG_VEIN_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"
#include "hwg_vein_proto.h"

struct hwg_vein;

#define HWG_VEIN_MAX_IDS 8
#define HWG_VEIN_MAX_TERMINALS 16

struct hwg_vein_config {
	uint16_t ids[HWG_VEIN_MAX_IDS][2]; /* USB vendor, product pairs we drive */
	size_t n_ids;
	int scan_interval_ms; /* periodic rescan when hot-plug is unavailable */
	int command_timeout_ms; /* GET_INFO, STATUS, PAIR, CANCEL */
};

/* event: "vein.attached" or "vein.detached"; terminal: its serial. */
typedef void (*hwg_vein_event_fn)(void *arg, const char *event, const char *terminal);

/* Start libusb and the watcher thread.  HWG_E_CONFIG/HWG_E_IO naming the cause. */
int hwg_vein_open(const struct hwg_vein_config *cfg, hwg_vein_event_fn on_event, void *arg,
                  struct hwg_vein **out, struct hwg_error *err);
/* Stop the watcher, cancel captures, close every terminal; accepts NULL. */
void hwg_vein_close(struct hwg_vein *v);

struct hwg_vein_info {
	char serial[HWG_VEIN_STR_MAX + 1];
	char model[HWG_VEIN_STR_MAX + 1];
	char firmware[HWG_VEIN_STR_MAX + 1];
	char template_format[HWG_VEIN_STR_MAX + 1];
	uint8_t bus, address;
	int capturing; /* a capture is in progress */
};
/* Snapshot of the connected terminals (at most max), in serial order. */
int hwg_vein_list(struct hwg_vein *v, struct hwg_vein_info *out, size_t max, size_t *n);

/*
 * PAIR: the terminal's device public key, after checking its proof of
 * possession over a fresh nonce.  The caller (an admin operation)
 * compares its fingerprint with what the terminal displays and records it.
 */
int hwg_vein_pair(struct hwg_vein *v, const char *terminal,
                  uint8_t pubkey[HWG_VEIN_PUBKEY_LEN], struct hwg_error *err);

struct hwg_vein_capture {
	int8_t tmpl[HWG_VEIN_TEMPLATE_LEN];
	uint8_t quality;  /* 0..100, as the terminal measured it */
	uint8_t liveness; /* 0..100 */
};

/*
 * CAPTURE with a fresh gateway nonce; waits up to timeout_ms for a palm.
 * The result is returned only if its signature verifies under
 * paired_pubkey for that nonce.  HWG_E_NO_TERMINAL, HWG_E_TERMINAL_BUSY,
 * HWG_E_TERMINAL_REMOVED, HWG_E_CAPTURE_TIMEOUT, HWG_E_CAPTURE_CANCELLED,
 * HWG_E_DEVICE_SIGNATURE, HWG_E_TERMINAL_ERROR.  Quality and liveness are
 * judged by the caller against its configuration.
 */
int hwg_vein_capture(struct hwg_vein *v, const char *terminal,
                     const uint8_t paired_pubkey[HWG_VEIN_PUBKEY_LEN], int timeout_ms,
                     struct hwg_vein_capture *out, struct hwg_error *err);

/* Ask the capture in progress on terminal to stop (any thread); HWG_E_NOT_FOUND if none. */
int hwg_vein_cancel(struct hwg_vein *v, const char *terminal, struct hwg_error *err);

#endif
