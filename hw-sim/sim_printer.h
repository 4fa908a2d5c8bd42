/*
 * sim_printer.h — the simulated certificate printer's engine.
 *
 * A printer that speaks firmware-notes/certificate-printer.md with no USB
 * and no sockets: the umockdev glue (sim_printer_usb.c) hands it each bulk
 * OUT transfer (sim_printer_write), asks it for each bulk IN transfer
 * (sim_printer_read) and passes the printer-class requests on (device ID,
 * port status, soft reset).  It reads the PJL stream, keeps the PDF that
 * follows ENTER LANGUAGE=PDF up to the next UEL, counts its pages (the
 * /Type /Page objects), "prints" them at ms_per_page each, writes each
 * finished job's PDF to the spool folder as <JOB NAME>.pdf (a temporary
 * file renamed into place) and reads back USTATUS JOB START / END and
 * USTATUS DEVICE as the note describes.  Tests arm faults: paper out now
 * or at page n, a jam at page n, offline, the door open, the plug pulled
 * at page n.  Time is the caller's now_ms: nothing happens between calls,
 * so a unit test runs a slow job in no time.  Thread-safe: one mutex per
 * printer (the USB side and the control side run on different threads).
 */
#ifndef SIM_PRINTER_H
#define SIM_PRINTER_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

struct sim_printer;

#define SIM_PRINTER_SERIAL_MAX 32      /* [A-Za-z0-9._-], the first a letter or digit */
#define SIM_PRINTER_MODEL_MAX 40       /* printable ASCII without ':' ';' */
#define SIM_PRINTER_PDF_MAX (32 << 20) /* a job's PDF; past it the job is dropped */
#define SIM_PRINTER_READBACK_MAX 8192  /* read-backs waiting for bulk IN; the oldest go first */
#define SIM_PRINTER_JOBS_KEPT 64       /* the job log's length (the oldest drop out) */
#define SIM_PRINTER_DEFAULT_MS_PER_PAGE 200

struct sim_printer_config {
	const char *serial;    /* the device ID's SN */
	const char *model;     /* its MDL; NULL: "CP-SIM" */
	const char *spool_dir; /* where finished jobs go; NULL: nowhere (the job log only) */
	unsigned ms_per_page;  /* 0: SIM_PRINTER_DEFAULT_MS_PER_PAGE */
};

/* HWG_E_INVALID for a bad serial or model. */
int sim_printer_new(const struct sim_printer_config *cfg, struct sim_printer **out,
                    struct hwg_error *err);
/* Frees every job's bytes; accepts NULL. */
void sim_printer_free(struct sim_printer *p);

/* ---------------------------------------------------------------- USB side */

/*
 * A bulk OUT transfer arrived at now_ms: the bytes go through the PJL
 * reader (and into the PDF of the job being received).  0, or
 * HWG_E_PRINTER_REMOVED when unplugged.
 */
int sim_printer_write(struct sim_printer *p, uint64_t now_ms, const uint8_t *data, size_t len);

/*
 * A bulk IN transfer of cap bytes asks at now_ms: 1 with the next
 * read-back bytes in buf (*len, at most cap and at most the chunk size,
 * so a message may be cut), 0 when nothing waits, HWG_E_PRINTER_REMOVED
 * when unplugged.  Also moves printing on to now_ms.
 */
int sim_printer_read(struct sim_printer *p, uint64_t now_ms, uint8_t *buf, size_t cap, size_t *len);

/* GET_DEVICE_ID: the whole ID (its 2-byte big-endian length first) into buf; its length. */
size_t sim_printer_device_id(struct sim_printer *p, uint8_t *buf, size_t cap);
/* GET_PORT_STATUS at now_ms: HWG_PRN_PORT_* bits (hwg_ieee1284.h). */
uint8_t sim_printer_port_status(struct sim_printer *p, uint64_t now_ms);
/*
 * SOFT_RESET: the PJL reader starts afresh, the unread read-backs are
 * dropped, and the job being received or printed is abandoned (the job
 * log says "reset" with the sheets already out).  Paper, jam, door and
 * offline stay as they are; USTATUS settings too.
 */
void sim_printer_soft_reset(struct sim_printer *p, uint64_t now_ms);

/*
 * Move printing on to now_ms (sheets out, jobs ended, faults struck).  1
 * if the printer has reached a "vanish" page: the glue must pull its plug
 * (and call sim_printer_unplug); else 0.
 */
int sim_printer_tick(struct sim_printer *p, uint64_t now_ms);
/* 1 and when something next happens by itself (a sheet out), so the glue ticks then; else 0. */
int sim_printer_next_event(struct sim_printer *p, uint64_t *at_ms);

/* ---------------------------------------------------------------- test controls */

/* Paper out now (on) or loaded (off); loading ends a paper-out fault and resumes a held job. */
void sim_printer_set_paper_out(struct sim_printer *p, uint64_t now_ms, int on);
/* Run out of paper when page page (1-based) of a job is due; 0 disarms.  One-shot. */
void sim_printer_paper_out_at(struct sim_printer *p, unsigned page);
/* Jam when page page of a job is due (0 disarms; one-shot); the jam stays until cleared. */
void sim_printer_jam_at(struct sim_printer *p, unsigned page);
/* The operator clears a jam: the held job goes on with the page that jammed. */
void sim_printer_clear_jam(struct sim_printer *p, uint64_t now_ms);
/* Taken offline at the panel (on) or back online; a job printing pauses meanwhile. */
void sim_printer_set_offline(struct sim_printer *p, uint64_t now_ms, int on);
/* The door (cover) open or closed; a job printing pauses while it is open. */
void sim_printer_set_door_open(struct sim_printer *p, uint64_t now_ms, int open);
/* Vanish (sim_printer_tick returns 1) when page page of a job is due; 0 disarms.  One-shot. */
void sim_printer_vanish_at(struct sim_printer *p, unsigned page);
/* Printing speed (0: every sheet at once); the sheet being printed keeps its time. */
void sim_printer_set_speed(struct sim_printer *p, unsigned ms_per_page);
/* Bulk IN hands out at most bytes per transfer (0: as much as asked), cutting messages. */
void sim_printer_set_chunk(struct sim_printer *p, size_t bytes);

/*
 * A new printer is plugged in.  Unplugged: the job being received or printed is lost ("removed" in
 * the log), read-backs and the reader's state are dropped, USTATUS goes off. Plugged back: a
 * freshly powered printer (faults, paper and door kept).
 */
void sim_printer_unplug(struct sim_printer *p, uint64_t now_ms);
void sim_printer_plug(struct sim_printer *p);
int sim_printer_plugged(struct sim_printer *p);

/* ---------------------------------------------------------------- what it did */

enum sim_printer_outcome {
	SIM_PRN_PRINTED = 0, /* every page out, END sent, the PDF spooled */
	SIM_PRN_RESET,       /* abandoned by SOFT_RESET */
	SIM_PRN_REMOVED,     /* the plug was pulled (vanish, unplug) */
	SIM_PRN_TOO_LARGE,   /* its PDF passed SIM_PRINTER_PDF_MAX */
};

struct sim_printer_job {
	char name[48];  /* the JOB NAME ("" when none was given) */
	unsigned pages; /* pages in its PDF */
	unsigned out;   /* sheets that came out */
	enum sim_printer_outcome outcome;
	char spooled[64]; /* the spool file's name, "" if none was written */
};

/* The jobs that ended (oldest first, at most max); how many were copied. */
size_t sim_printer_jobs(struct sim_printer *p, struct sim_printer_job *out, size_t max);
/* "printed", "reset", "removed", "too_large". */
const char *sim_printer_outcome_name(enum sim_printer_outcome o);
/*
 * The printer's state in one word: "removed", "door_open", "jammed",
 * "paper_out", "offline", "printing" (a job received or printing),
 * "ready".
 */
const char *sim_printer_state(struct sim_printer *p);
const char *sim_printer_serial(const struct sim_printer *p);
/* The spool failure of the last job, "" if none (a full disk, a missing folder). */
void sim_printer_spool_error(struct sim_printer *p, char *out, size_t cap);

/* Pages of a PDF: its "/Type /Page" objects ("/Type/Page", not "/Pages"). */
unsigned sim_printer_count_pages(const uint8_t *pdf, size_t len);

#endif
