/*
 * hwg_printer.h — certificate printers over libusb
 * (firmware-notes/certificate-printer.md).
 *
 * The driver owns one libusb context and a table of the printers plugged
 * in, kept current by libusb hot-plug where the platform has it and by a
 * periodic scan otherwise, like the palm-vein driver.  A printer is any
 * USB device with an interface 07/01/02 (printer class, bidirectional)
 * with a bulk OUT and a bulk IN endpoint whose IEEE 1284 device ID names
 * PJL and PDF in its command set; it is named by the ID's serial number
 * (SN), or "usb:BUS.ADDRESS" when the ID has none.  A printer that goes
 * away stays listed, not present, until it comes back.
 *
 * One certificate is one PJL job (hwg_pjl.h builds its ends) whose end is
 * confirmed by the printer's USTATUS JOB END with the job's name and page
 * count; any state that holds the job (a jam, paper out, the door open,
 * offline), the printer unplugged or the deadline passing ends the wait
 * with a distinct error, and the job is then dropped from the printer
 * with SOFT_RESET so that it never comes out later unrecorded.  libusb
 * codes stop here; errors come back with a message, never printed.
 * Thread-safe: one lock per printer, one job at a time on each (a second
 * is refused at once), jobs on different printers run side by side.
 */
#ifndef HWG_PRINTER_H
#define HWG_PRINTER_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_err.h"

struct hwg_printer;

#define HWG_PRINTER_MAX 8 /* printers connected, and as many remembered after they left */

enum hwg_printer_state {
	HWG_PRN_READY,     /* selected, no error, paper in */
	HWG_PRN_PAPER_OUT, /* the port status says paper empty */
	HWG_PRN_OFFLINE,   /* not selected: taken offline, its door open, or not present */
	HWG_PRN_ERROR,     /* the port status says error (a jam, or a reason not given) */
	HWG_PRN_BUSY,      /* printing one of our jobs */
};

struct hwg_printer_info {
	char serial[64]; /* the device ID's SN, or "usb:BUS.ADDRESS" */
	char model[64];  /* the device ID's MDL */
	int state;       /* enum hwg_printer_state */
	int present;     /* connected now; 0: seen since hwg_printer_open, gone since */
	/*
	 * The finer reason, from the printer's last USTATUS DEVICE when it
	 * agrees with the port status: "door_open", "paper_jam",
	 * "paper_out", "offline", "removed", ...; else the state's name.
	 */
	char detail[32];
};

struct hwg_print_result {
	unsigned pages;   /* pages the printer confirmed (END PAGES=) */
	int sent;         /* any byte of the job left for the printer */
	char printer[64]; /* serial used ("" if none was chosen) */
};

struct hwg_printer_config {
	int scan_interval_ms;   /* periodic rescan when hot-plug is unavailable */
	int command_timeout_ms; /* each class request, and the status probe's answer */
};

/* event: "printer.attached", "printer.detached" or "printer.refused"; printer: its serial. */
typedef void (*hwg_printer_event_fn)(void *arg, const char *event, const char *printer);

/*
 * Start libusb and the watcher thread; the printers already plugged in
 * are in the table when it returns.  HWG_E_CONFIG/HWG_E_IO naming the
 * cause.
 */
int hwg_printer_open(const struct hwg_printer_config *cfg, hwg_printer_event_fn on_event, void *arg,
                     struct hwg_printer **out, struct hwg_error *err);
/* Stop the watcher and close every printer (a job in progress must have returned); accepts NULL. */
void hwg_printer_close(struct hwg_printer *p);

/*
 * Snapshot of the printers (at most max, *n of them), present ones first,
 * each in serial order.  A present printer not printing is asked its port
 * status now (and, when that says error, its device status), so this does
 * USB I/O of up to command_timeout_ms per printer.
 */
int hwg_printer_list(struct hwg_printer *p, struct hwg_printer_info *out, size_t max, size_t *n);
/* "ready", "paper_out", "offline", "error", "busy"; "unknown" otherwise. */
const char *hwg_printer_state_name(int state);

/*
 * Print one certificate: the PDF (len bytes, no UEL inside) as the job
 * job_name (the issuance number: hwg_pjl_name_check's grammar) on the
 * printer serial, or with serial NULL the first ready one in serial
 * order.  In order:
 *   - the printer's port status: paper empty → HWG_E_PAPER_OUT; error →
 *     the status probe says why (jam → HWG_E_PRINTER_JAM, door open →
 *     HWG_E_PRINTER_OFFLINE, paper out → HWG_E_PAPER_OUT, else
 *     HWG_E_PRINTER_ERROR); not selected → HWG_E_PRINTER_OFFLINE;
 *   - before_send(arg, serial) (the journal's "sent" step; may be NULL):
 *     nonzero → nothing is sent and print returns that code;
 *   - the job (head, PDF, tail) to bulk OUT; res->sent = 1 from the
 *     moment a byte may have left;
 *   - the read-backs until the job's END with its name: 0 and
 *     res->pages.  The caller compares res->pages with the PDF's page
 *     count (hwg_pjl_job_confirmed).  A DEVICE state during the job:
 *     jam → HWG_E_PRINTER_JAM (the panel text, which may name the page,
 *     in the message), paper out → HWG_E_PAPER_OUT, door open or offline
 *     → HWG_E_PRINTER_OFFLINE, an unknown code with ONLINE=FALSE →
 *     HWG_E_PRINTER_ERROR; the printer gone → HWG_E_PRINTER_REMOVED;
 *     timeout_ms (for the whole job) passing → HWG_E_PRINT_UNCONFIRMED.
 * Every error before a byte was sent leaves res->sent 0; after, the job
 * may have printed in part or whole (the caller holds it unconfirmed),
 * and the driver soft-resets the printer so it does not print it later.
 * Also HWG_E_NO_PRINTER (no such printer connected, or none at all),
 * HWG_E_UNAVAILABLE (the printer is printing another job; with serial
 * NULL, every printer is), HWG_E_INVALID (a bad name, a PDF holding the
 * UEL, a bad timeout), HWG_E_PRINTER_ERROR (the printer answered outside
 * the protocol, or USB failed).
 */
int hwg_printer_print(struct hwg_printer *p, const char *serial, const char *job_name,
                      const uint8_t *pdf, size_t len, int timeout_ms,
                      int (*before_send)(void *arg, const char *serial), void *arg,
                      struct hwg_print_result *res, struct hwg_error *err);

#endif
