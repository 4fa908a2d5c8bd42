/*
 * sim_vein.h — the simulated palm-vein terminal's engine.
 *
 * A state machine that speaks firmware-notes/vein-terminal.md through
 * drivers/vein/hwg_vein_proto, with no USB and no sockets: the umockdev
 * glue hands it each bulk OUT transfer (sim_vein_write) and asks it for
 * each bulk IN transfer (sim_vein_read); the control side presents palms
 * and arms faults and attacks.  Time is the caller's now_ms, so a test
 * can run a 60-second timeout in no time.  Palms come from sim_palm.h.
 * Thread-safe: one mutex per terminal (the USB side and the control
 * side run on different threads).
 */
#ifndef SIM_VEIN_H
#define SIM_VEIN_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"
#include "hwg_vein_proto.h"

struct sim_vein;

#define SIM_VEIN_PERSON_MAX 63         /* a person's name, as sim_palm takes it */
#define SIM_VEIN_QUEUE_MAX 64          /* presentations waiting for captures */
#define SIM_VEIN_PHOTO_LIVENESS_MAX 19 /* a photo scores 0..19, a live hand 80..99 */

struct sim_vein_config {
	const char *serial;      /* 1..32 printable ASCII */
	const char *model;       /* NULL: "hwsim PV-1" */
	const char *firmware;    /* NULL: "1.0.0" */
	const uint8_t *key_seed; /* 32 bytes, a deterministic Ed25519 key; NULL: a fresh key */
	uint64_t rng_seed;       /* captures' noise and liveness; 0: derived from the serial */
};

/* HWG_E_INVALID for a bad serial, model or firmware; HWG_E_INTERNAL if OpenSSL fails. */
int sim_vein_new(const struct sim_vein_config *cfg, struct sim_vein **out, struct hwg_error *err);
/* Wipes the keys; accepts NULL. */
void sim_vein_free(struct sim_vein *t);

/* ---------------------------------------------------------------- USB side */

/*
 * A bulk OUT transfer arrived at now_ms: one frame, answered (possibly
 * later) through sim_vein_read.  0 when taken, even if the frame is
 * refused in protocol (that is an ERROR answer); HWG_E_UNAVAILABLE when
 * the answers waiting to be read leave no room (the device would NAK);
 * HWG_E_TERMINAL_REMOVED when unplugged.
 */
int sim_vein_write(struct sim_vein *t, uint64_t now_ms, const uint8_t *data, size_t len,
                   struct hwg_error *err);

enum { SIM_VEIN_NOTHING_YET = 0, SIM_VEIN_FRAME_READY = 1 };

/*
 * A bulk IN transfer of cap bytes asks at now_ms: SIM_VEIN_FRAME_READY
 * with the next answer in buf (*len bytes), or SIM_VEIN_NOTHING_YET (a
 * capture still waiting for a palm or its timeout, or nothing asked).
 * HWG_E_TOO_LARGE if cap is short (the answer stays queued);
 * HWG_E_TERMINAL_REMOVED when unplugged.
 */
int sim_vein_read(struct sim_vein *t, uint64_t now_ms, uint8_t *buf, size_t cap, size_t *len);

/*
 * 1 and the time a waiting capture is due (its answer with a capture time
 * set, else its timeout), so the glue knows when to ask again; else 0.
 */
int sim_vein_deadline(struct sim_vein *t, uint64_t *deadline_ms);

/* ---------------------------------------------------------------- test controls */

enum sim_vein_palm {
	SIM_VEIN_GOOD,   /* an ordinary capture (SIM_PALM_NOISE_GOOD), a live hand */
	SIM_VEIN_LOW,    /* a poor capture (SIM_PALM_NOISE_LOW): low quality */
	SIM_VEIN_PHOTO,  /* the person's veins from a photo: good template, liveness < 20 */
	SIM_VEIN_ABSENT, /* nobody there: that capture times out (person ignored) */
};

/*
 * Queue count presentations of person's palm, each consumed by one
 * capture (the one waiting, else the next), in order: enrolment's three
 * captures are "present alice 3".  HWG_E_INVALID for a bad name or
 * count; HWG_E_UNAVAILABLE when the queue is full.
 */
int sim_vein_present(struct sim_vein *t, enum sim_vein_palm kind, const char *person,
                     unsigned count, struct hwg_error *err);
/* Withdraw every queued presentation: the captures that follow time out. */
void sim_vein_clear(struct sim_vein *t);
/* Presentations still queued. */
unsigned sim_vein_queued(struct sim_vein *t);

/* The terminal's own cancel button: 0 if a capture was cancelled, HWG_E_NOT_FOUND if none ran. */
int sim_vein_press_cancel(struct sim_vein *t, struct hwg_error *err);

/* Sign captures with another key than the one PAIR reports (a swapped device); sticky. */
void sim_vein_set_wrong_key(struct sim_vein *t, int on);
/*
 * Answer the next CAPTURE at once with the last OK capture's payload,
 * byte for byte (its signature is over the old nonce).  HWG_E_NOT_FOUND
 * if no capture has succeeded yet.  One-shot.
 */
int sim_vein_replay_next(struct sim_vein *t, struct hwg_error *err);
/*
 * Change the next OK capture's template after signing, as an attacker
 * on the bus would: replaced by a capture of person's palm, or, with
 * person NULL, its first 32 bytes inverted.  One-shot.
 */
int sim_vein_inject_next(struct sim_vein *t, const char *person, struct hwg_error *err);
/*
 * The sensor's time from taking a palm to its signed template: a capture
 * answers no sooner than ms after it took its presentation (a palm queued
 * before the CAPTURE is taken at the first read after it), or times out
 * first.  0 (the default): at once.  Sticky.
 */
#define SIM_VEIN_CAPTURE_MS_MAX 60000
void sim_vein_set_capture_ms(struct sim_vein *t, unsigned ms);
/* Hardware fault: STATUS says fault, CAPTURE and PAIR answer HW_FAULT (a running capture too). */
void sim_vein_set_fault(struct sim_vein *t, int on);

/*
 * Unplugged: answers and the running capture are dropped, reads and
 * writes give HWG_E_TERMINAL_REMOVED.  Plugged back: a freshly powered
 * terminal (idle, nothing queued to read; presentations and sticky
 * settings kept).
 */
void sim_vein_unplug(struct sim_vein *t);
void sim_vein_plug(struct sim_vein *t);
int sim_vein_plugged(struct sim_vein *t);

/* HWG_VEIN_STATE_IDLE, _CAPTURING or _FAULT. */
int sim_vein_state(struct sim_vein *t);
const char *sim_vein_serial(const struct sim_vein *t);
/* The device key PAIR reports, and its fingerprint as the terminal displays it. */
void sim_vein_pubkey(const struct sim_vein *t, uint8_t out[HWG_VEIN_PUBKEY_LEN]);
void sim_vein_fingerprint(const struct sim_vein *t, char out[HWG_VEIN_FINGERPRINT_LEN + 1]);

#endif
