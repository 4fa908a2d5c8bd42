/*
 * sim_printer_usb.h — hwsim's certificate printers: each engine
 * (sim_printer.c) plugged into the simulated USB bus (sim_usb.c) as a
 * printer-class device (interface 07/01/02, bulk OUT 01 and IN 81, the
 * class requests GET_DEVICE_ID, GET_PORT_STATUS and SOFT_RESET), and the
 * "printer ..." control commands that plug them in, arm faults and list
 * their jobs (hw-sim/README.md lists them).  A thread of its own moves
 * printing on while nobody reads, and pulls the plug of a printer told
 * to vanish when its page comes.
 */
#ifndef SIM_PRINTER_USB_H
#define SIM_PRINTER_USB_H

#include <pthread.h>

#include "hwg_err.h"
#include "sim_printer.h"
#include "sim_usb.h"

#define SIM_PRINTERS 8         /* printers one hwsim plays */
#define SIM_PRINTER_PORT0 8    /* the bus ports they take: 8..15 (the terminals 0..7) */
#define SIM_PRINTER_VID 0x1209 /* pid.codes, as the terminals */
#define SIM_PRINTER_PID 0x0002

struct sim_printer_bus {
	struct sim_usb *usb; /* borrowed: hwsim's */
	char *spool_dir;
	pthread_mutex_t mu; /* the table, and plugging (commands against the ticker) */
	struct sim_printer *p[SIM_PRINTERS];
	int n;
	pthread_t ticker;
	int started, stop;
};

/* Printers may be plugged into usb from now on; finished jobs go to spool_dir. */
int sim_printer_bus_open(struct sim_printer_bus *b, struct sim_usb *usb, const char *spool_dir,
                         struct hwg_error *err);
/* Stop the ticker, unplug and free every printer; accepts a zeroed bus. */
void sim_printer_bus_close(struct sim_printer_bus *b);

/* The reply to a "printer ..." line, NULL for other lines (a sim_control_ext_fn's shape). */
char *sim_printer_bus_command(void *bus, const char *line);

#endif
