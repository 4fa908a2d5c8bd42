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

#define SIM_VEIN_TERMINALS SIM_USB_MAX_DEVICES

struct sim_vein_bus {
	struct sim_usb *usb;
	struct sim_vein *t[SIM_VEIN_TERMINALS];
	int n;
};

/* A testbed with one terminal per serial, all plugged in. */
int sim_vein_bus_open(struct sim_vein_bus *b, const char *const *serials, int n,
                      struct hwg_error *err);
/* Unplug and free everything; accepts a zeroed bus. */
void sim_vein_bus_close(struct sim_vein_bus *b);

/* A sim_control_ext_fn: the reply to a "vein ..." or "usb-root" line, NULL for other lines. */
char *sim_vein_bus_command(void *bus, const char *line);

#endif
