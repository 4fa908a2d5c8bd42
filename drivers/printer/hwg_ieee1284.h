/*
 * hwg_ieee1284.h — what a USB printer-class certificate printer says about
 * itself: the IEEE 1284 device ID (GET_DEVICE_ID) and the port status byte
 * (GET_PORT_STATUS).
 *
 * Pure: no I/O, no logging, no allocation that outlives a call.  The bytes
 * are the printer's and hostile, parsed only through common/hwg_buf and
 * bounded by what the control transfer actually returned, never by the
 * length the printer claims.  firmware-notes/certificate-printer.md is the
 * dialect's document; if they disagree, that note is the bug report.
 */
#ifndef HWG_IEEE1284_H
#define HWG_IEEE1284_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

/* ------------------------------------------------------------ USB identity */

#define HWG_PRN_USB_CLASS 0x07    /* printer */
#define HWG_PRN_USB_SUBCLASS 0x01 /* printers */
#define HWG_PRN_USB_PROTOCOL 0x02 /* bidirectional: status comes back on bulk IN */

/* Class-specific requests (USB Printer Class 1.1, section 4.2). */
#define HWG_PRN_REQ_GET_DEVICE_ID 0x00   /* IN, interface: the device ID below */
#define HWG_PRN_REQ_GET_PORT_STATUS 0x01 /* IN, interface: one byte */
#define HWG_PRN_REQ_SOFT_RESET 0x02      /* OUT, interface: flush, no data */

/* ------------------------------------------------------------ device ID */

/* The whole ID, its 2-byte length included: the driver asks for this much. */
#define HWG_IEEE1284_ID_MAX 1024
#define HWG_IEEE1284_KEY_MAX 32    /* bytes of a key */
#define HWG_IEEE1284_VALUE_MAX 255 /* bytes of a value */
#define HWG_IEEE1284_PAIRS_MAX 32  /* KEY:value; pairs in one ID */

/*
 * The fields the gateway reads, NUL-terminated; "" when the key was absent.
 * Other keys are checked and skipped.
 */
struct hwg_ieee1284_id {
	char mfg[HWG_IEEE1284_VALUE_MAX + 1]; /* MFG or MANUFACTURER: never empty */
	char mdl[HWG_IEEE1284_VALUE_MAX + 1]; /* MDL or MODEL: never empty */
	char cmd[HWG_IEEE1284_VALUE_MAX + 1]; /* CMD or COMMAND SET: "PJL,PDF" */
	char cls[HWG_IEEE1284_VALUE_MAX + 1]; /* CLS or CLASS: "PRINTER" */
	char des[HWG_IEEE1284_VALUE_MAX + 1]; /* DES or DESCRIPTION */
	char sn[HWG_IEEE1284_VALUE_MAX + 1];  /* SN or SERIALNUMBER */
};

/*
 * Exactly one device ID from the len bytes GET_DEVICE_ID returned: a
 * big-endian length that counts itself and equals len, then KEY:value;
 * pairs, each ended by ';'.  Keys are 1..HWG_IEEE1284_KEY_MAX bytes of
 * A-Z a-z 0-9 space - _, not starting or ending with the space ("COMMAND
 * SET" has one inside), matched ignoring case, each at most once (a key
 * and its long form count as one); values 0..HWG_IEEE1284_VALUE_MAX bytes
 * of printable ASCII without ':' or ';'.  MFG and MDL must be present and
 * not empty.  HWG_E_PRINTER_ERROR naming the fault; *id untouched then.
 */
int hwg_ieee1284_parse(const uint8_t *p, size_t len, struct hwg_ieee1284_id *id,
                       struct hwg_error *err);

/* 1 if the comma-separated command set names lang (ignoring case and blanks). */
int hwg_ieee1284_has_command(const struct hwg_ieee1284_id *id, const char *lang);
/* 1 if the command set names both PJL and PDF: the jobs the gateway sends. */
int hwg_ieee1284_pjl_pdf(const struct hwg_ieee1284_id *id);

/* ------------------------------------------------------------ port status */

/* GET_PORT_STATUS bits (the IEEE 1284 status lines); the others are reserved. */
#define HWG_PRN_PORT_PAPER_EMPTY 0x20
#define HWG_PRN_PORT_SELECTED 0x10
#define HWG_PRN_PORT_NOT_ERROR 0x08

struct hwg_prn_port {
	int paper_empty; /* PaperError line: out of paper */
	int selected;    /* Select line: online */
	int error;       /* nFault line low: the Not Error bit was clear */
};

/* The one byte GET_PORT_STATUS returned (exactly one); reserved bits ignored. */
int hwg_prn_port_parse(const uint8_t *p, size_t len, struct hwg_prn_port *ps,
                       struct hwg_error *err);
/* 1 if selected, without error, with paper. */
int hwg_prn_port_ready(const struct hwg_prn_port *ps);

#endif
