/*
 * sim_vein_usb.h — hwsim's palm-vein terminals: each engine (sim_vein.c)
 * plugged into the simulated USB bus (sim_usb.c) under the terminal's
 * USB identity, and the "vein ..." control commands that present palms,
 * arm faults and attacks, and pull the plug (hw-sim/README.md lists them).
 */
#ifndef SIM_VEIN_USB_H
#define SIM_VEIN_USB_H

#include "hwg_err.h"
#include "sim_usb.h"
#include "sim_vein.h"

#define SIM_VEIN_TERMINALS 8 /* on the bus ports 0..7 (the printers take 8..15) */

struct sim_vein_bus {
	struct sim_usb *usb; /* borrowed: hwsim's */
	struct sim_vein *t[SIM_VEIN_TERMINALS];
	int n;
};

/* One terminal per serial, all plugged into usb (NULL when n is 0). */
int sim_vein_bus_open(struct sim_vein_bus *b, struct sim_usb *usb, const char *const *serials,
                      int n, struct hwg_error *err);
/* Unplug and free every terminal; accepts a zeroed bus. */
void sim_vein_bus_close(struct sim_vein_bus *b);

/* The reply to a "vein ..." line, NULL for other lines (a sim_control_ext_fn's shape). */
char *sim_vein_bus_command(void *bus, const char *line);

#endif
