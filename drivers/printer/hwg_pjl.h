/*
 * hwg_pjl.h — the PJL a certificate printer is spoken to and answers in.
 *
 * The gateway wraps each certificate's PDF in a PJL job named by its
 * issuance number, with unsolicited job and device status turned on, and
 * reads back what the printer then sends on its own over bulk IN: a
 * USTATUS JOB at the job's start and end (its name and page count: the
 * end-of-job confirmation) and a USTATUS DEVICE whenever the printer's
 * state changes (paper out, jam, door open, offline).  Those messages
 * arrive cut anywhere and several to a read, so an accumulator takes
 * whatever bytes came and hands out whole messages.
 *
 * Pure: no I/O, no logging.  The printer's bytes are hostile and parsed
 * only through common/hwg_buf, bounded by what arrived.
 * firmware-notes/certificate-printer.md is the dialect's document; if
 * they disagree, that note is the bug report.
 */
#ifndef HWG_PJL_H
#define HWG_PJL_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

/* ------------------------------------------------------------ sizes */

#define HWG_PJL_UEL "\x1b%-12345X" /* Universal Exit Language: 9 bytes */
#define HWG_PJL_UEL_LEN 9
#define HWG_PJL_NAME_MAX 40   /* a job name we send: the issuance number */
#define HWG_PJL_STRING_MAX 80 /* a quoted value read back (PJL's own limit) */
#define HWG_PJL_MSG_MAX 512   /* one read-back message, its form feed included */
#define HWG_PJL_FEED_MAX 4096 /* bytes given to hwg_pjl_reader_feed at once */
#define HWG_PJL_HEAD_MAX 160  /* hwg_pjl_job_head's bytes, at most */
#define HWG_PJL_TAIL_MAX 80   /* hwg_pjl_job_tail's bytes, at most */

/* ------------------------------------------------------------ the job */

/*
 * 0 if name may name a job: 1..HWG_PJL_NAME_MAX bytes of A-Z a-z 0-9
 * . _ -, the first a letter or digit (no quote, blank or control byte can
 * reach the printer's parser).  HWG_E_INVALID with a message otherwise.
 */
int hwg_pjl_name_check(const char *name, struct hwg_error *err);

/*
 * What goes before the PDF, into out (cap bytes), *len its size:
 *   UEL "@PJL JOB NAME=\"<name>\"" CR LF
 *   "@PJL USTATUS JOB=ON" CR LF "@PJL USTATUS DEVICE=ON" CR LF
 *   "@PJL ENTER LANGUAGE=PDF" CR LF
 * HWG_E_INVALID for a name hwg_pjl_name_check refuses, HWG_E_TOO_LARGE if
 * cap is short (HWG_PJL_HEAD_MAX always suffices).
 */
int hwg_pjl_job_head(const char *name, uint8_t *out, size_t cap, size_t *len,
                     struct hwg_error *err);
/* What goes after the PDF: UEL "@PJL EOJ NAME=\"<name>\"" CR LF UEL. */
int hwg_pjl_job_tail(const char *name, uint8_t *out, size_t cap, size_t *len,
                     struct hwg_error *err);
/*
 * The status probe, sent outside any job when the port status shows an
 * error: USTATUS DEVICE=ON, which the printer answers at once with a
 * USTATUS DEVICE of its state now (the reason the port status does not
 * give: door open, jam, paper out).  The UEL after it leaves the printer
 * in PJL, as a job's tail does.
 */
#define HWG_PJL_STATUS_PROBE HWG_PJL_UEL "@PJL USTATUS DEVICE=ON\r\n" HWG_PJL_UEL

/*
 * 0 if the len bytes of a PDF may go between head and tail: the UEL
 * anywhere in them would end the job early and hand the rest to PJL.
 * HWG_E_INVALID naming the offset otherwise.
 */
int hwg_pjl_body_check(const uint8_t *p, size_t len, struct hwg_error *err);

/* ------------------------------------------------------------ device states */

/* What a USTATUS DEVICE code means to the gateway (the table in the note). */
enum hwg_pjl_state {
	HWG_PJL_ST_UNKNOWN = 0, /* any code not below: judge by ONLINE alone */
	HWG_PJL_ST_READY,       /* 10001 */
	HWG_PJL_ST_OFFLINE,     /* 10002: ready but taken offline */
	HWG_PJL_ST_PRINTING,    /* 10023 */
	HWG_PJL_ST_MEMORY_FULL, /* 30016 */
	HWG_PJL_ST_POWERSAVE,   /* 35078: wakes by itself on a job */
	HWG_PJL_ST_DOOR_OPEN,   /* 40021 */
	HWG_PJL_ST_PAPER_JAM,   /* 40022, 42xyy */
	HWG_PJL_ST_PAPER_OUT,   /* 41xyy: tray x */
	HWG_PJL_ST_MAX_ = HWG_PJL_ST_PAPER_OUT
};

/* The state a code means; for 41xyy *tray receives x, else 0 (tray may be NULL). */
enum hwg_pjl_state hwg_pjl_state_of(unsigned code, unsigned *tray);
/* "ready", "paper_out", ...; "unknown" for HWG_PJL_ST_UNKNOWN or out of range. */
const char *hwg_pjl_state_name(enum hwg_pjl_state st);

/* ------------------------------------------------------------ read-backs */

enum hwg_pjl_kind { HWG_PJL_JOB_START = 1, HWG_PJL_JOB_END, HWG_PJL_DEVICE };

/* One read-back message.  Strings are NUL-terminated printable ASCII. */
struct hwg_pjl_msg {
	enum hwg_pjl_kind kind;
	/* JOB_START, JOB_END */
	char name[HWG_PJL_STRING_MAX + 1];
	unsigned pages; /* JOB_END: pages printed, 0..99999 */
	/* DEVICE */
	unsigned code;                        /* 10000..99999 */
	int online;                           /* ONLINE=TRUE */
	char display[HWG_PJL_STRING_MAX + 1]; /* "" when absent; bytes past ASCII as '?' */
	enum hwg_pjl_state state;             /* hwg_pjl_state_of(code) */
	unsigned tray;                        /* HWG_PJL_ST_PAPER_OUT: the tray */
};

/*
 * Exactly one message from p[0..len), its closing form feed (0x0C) the
 * last byte and the only one:
 *   "@PJL USTATUS JOB" LF, "START" or "END" LF, NAME="..." LF, and for
 *   END PAGES=n LF;
 *   "@PJL USTATUS DEVICE" LF, CODE=nnnnn LF, DISPLAY="..." LF (may be
 *   left out), ONLINE=TRUE|FALSE LF;
 * each LF may follow a CR; the KEY=value lines in any order, each once;
 * nothing else.  HWG_E_PRINTER_ERROR naming the fault; *m untouched then.
 */
int hwg_pjl_parse(const uint8_t *p, size_t len, struct hwg_pjl_msg *m, struct hwg_error *err);

/*
 * For a job named name whose PDF has pages pages: 1 if m is its JOB_END
 * with that page count, 0 if m is anything else (keep waiting),
 * HWG_E_PRINTER_ERROR if it is its JOB_END with another page count.
 */
int hwg_pjl_job_confirmed(const struct hwg_pjl_msg *m, const char *name, unsigned pages,
                          struct hwg_error *err);

/* ------------------------------------------------------------ the accumulator */

struct hwg_pjl_reader;

/* NULL on ENOMEM. */
struct hwg_pjl_reader *hwg_pjl_reader_new(void);
/* Wipes and frees; accepts NULL. */
void hwg_pjl_reader_free(struct hwg_pjl_reader *r);

/*
 * Add len bytes as they came from bulk IN: HWG_E_INVALID past
 * HWG_PJL_FEED_MAX.  Call hwg_pjl_reader_next until it returns 0 before
 * feeding again: what then waits is shorter than a message, and the next
 * feed fits.  HWG_E_TOO_LARGE (the bytes not taken) when it does not.
 */
int hwg_pjl_reader_feed(struct hwg_pjl_reader *r, const uint8_t *p, size_t len,
                        struct hwg_error *err);
/*
 * 1 and *m filled when a whole message was waiting (it is consumed), 0
 * when none is; HWG_E_PRINTER_ERROR for a message that does not parse or
 * grows past HWG_PJL_MSG_MAX without a form feed: it is dropped up to its
 * form feed, and the next call goes on with what follows.
 */
int hwg_pjl_reader_next(struct hwg_pjl_reader *r, struct hwg_pjl_msg *m, struct hwg_error *err);

#endif
