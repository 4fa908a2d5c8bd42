/*
 * hwsim.c — the device simulator's main: My Number cards in vpcd reader
 * slots (sim_vpcd.c), palm-vein terminals and certificate printers on a
 * simulated USB bus (sim_vein_usb.c, sim_printer_usb.c over sim_usb.c),
 * driven by tests over a control socket (sim_control.c; protocol in
 * hw-sim/README.md).  `hwsim --control PATH --send CMD` is the client side
 * of that protocol, for shell tests.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_control.h"
#include "sim_cs.h"
#include "sim_printer_usb.h"
#include "sim_vein_usb.h"
#include "sim_vpcd.h"

#define MAX_SLOTS 16
#define MAX_INSERTS 64
#define CONTROL_POLL_MS 200

static volatile sig_atomic_t stop_requested;

struct options {
	const char *control, *send, *spool;
	const char *inserts[MAX_INSERTS];
	int n_inserts;
	const char *veins[SIM_VEIN_TERMINALS];
	int n_veins;
	long port, slots;
	long cs_port; /* the simulated CS receiver (sim_cs.c), 0: none */
	const char *cs_log;
};

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int
usage(void)
{
	fprintf(stderr,
	        "usage: hwsim [--port PORT [--slots N]] [--vein SERIAL]... [--spool DIR]\n"
	        "             [--cs-port PORT --cs-log FILE] --control PATH [--insert "
	        "SLOT=PROFILE]...\n"
	        "       hwsim --control PATH --send COMMAND\n"
	        "Slot i is vpcd's reader at 127.0.0.1:PORT+i (N from 1 to %d, default 2).\n"
	        "Each --vein is a palm-vein terminal on a simulated USB bus (at most %d);\n"
	        "with --spool, certificate printers (at most %d) are plugged into that bus\n"
	        "with the control command \"printer plug SERIAL\" and spool into DIR.\n"
	        "The control command usb-root names the directory to export as UMOCKDEV_DIR.\n"
	        "--cs-port plays the CS that receives the register's notices (cs commands).\n",
	        MAX_SLOTS, SIM_VEIN_TERMINALS, SIM_PRINTERS);
	return 2;
}

static int
parse_number(const char *arg, long min, long max, long *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
	    {"port", required_argument, NULL, 'p'},    {"slots", required_argument, NULL, 'n'},
	    {"control", required_argument, NULL, 'c'}, {"insert", required_argument, NULL, 'i'},
	    {"send", required_argument, NULL, 's'},    {"vein", required_argument, NULL, 'v'},
	    {"spool", required_argument, NULL, 'o'},   {"cs-port", required_argument, NULL, 'C'},
	    {"cs-log", required_argument, NULL, 'L'},  {NULL, 0, NULL, 0}};
	int ch;

	memset(o, 0, sizeof(*o));
	o->slots = 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((ch == 'p' && parse_number(optarg, 1, 65535, &o->port) != 0) ||
		    (ch == 'n' && parse_number(optarg, 1, MAX_SLOTS, &o->slots) != 0) ||
		    (ch == 'C' && parse_number(optarg, 1, 65535, &o->cs_port) != 0))
			return -1;
		if (ch == 'L')
			o->cs_log = optarg;
		else if (ch == 'c')
			o->control = optarg;
		else if (ch == 's')
			o->send = optarg;
		else if (ch == 'o')
			o->spool = optarg;
		else if (ch == 'i' && o->n_inserts < MAX_INSERTS)
			o->inserts[o->n_inserts++] = optarg;
		else if (ch == 'v' && o->n_veins < SIM_VEIN_TERMINALS)
			o->veins[o->n_veins++] = optarg;
		else if (ch != 'p' && ch != 'n' && ch != 'C' && ch != 'L')
			return -1;
	}
	if (optind != argc || o->control == NULL)
		return -1;
	if (o->port == 0)
		o->slots = 0; /* USB devices only */
	if ((o->cs_port == 0) != (o->cs_log == NULL))
		return -1;
	if (o->send == NULL &&
	    ((o->port == 0 && o->n_veins == 0 && o->spool == NULL && o->cs_port == 0) ||
	     o->port + o->slots - 1 > 65535))
		return -1;
	return 0;
}

static int
send_command(const char *path, const char *cmd)
{
	struct hwg_error err = {0};
	char *answer = NULL;
	int ok;

	if (sim_control_send(path, cmd, &answer, &err) != 0) {
		fprintf(stderr, "hwsim: %s\n", err.message);
		return 2;
	}
	puts(answer);
	ok = strncmp(answer, "ok", 2) == 0;
	free(answer);
	return ok ? 0 : 1;
}

/* --insert SLOT=PROFILE, run as the control command "insert SLOT PROFILE". */
static int
insert_at_start(struct sim_slot *slots, int n_slots, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char line[SIM_CONTROL_LINE], *out;
	int ok;

	if (eq == NULL) {
		fprintf(stderr, "hwsim: --insert %s: expected SLOT=PROFILE\n", arg);
		return -1;
	}
	snprintf(line, sizeof(line), "insert %.*s %s", (int)(eq - arg), arg, eq + 1);
	out = sim_control_run(slots, n_slots, line);
	ok = out != NULL && strncmp(out, "ok", 2) == 0;
	if (!ok)
		fprintf(stderr, "hwsim: --insert %s: %s\n", arg,
		        out != NULL ? out : "out of memory");
	free(out);
	return ok ? 0 : -1;
}

static void
catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll returns */

	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* The USB devices: the bus and both kinds of device on it. */
struct usb_side {
	struct sim_usb *usb;
	struct sim_vein_bus veins;
	struct sim_printer_bus printers;
	struct sim_cs *cs; /* the simulated CS, not a USB device but commanded alike */
};

/* The control commands of the USB side: usb-root, vein ..., printer ...; NULL for others. */
static char *
usb_command(void *arg, const char *line)
{
	struct usb_side *u = arg;
	char *out;

	if (u->cs != NULL && (out = sim_cs_command(u->cs, line)) != NULL)
		return out;
	if (u->usb == NULL)
		return NULL;
	if (strcmp(line, "usb-root") == 0)
		return sim_control_reply("ok %s", sim_usb_root(u->usb));
	if ((out = sim_vein_bus_command(&u->veins, line)) != NULL)
		return out;
	return sim_printer_bus_command(&u->printers, line);
}

static int
usb_side_open(const struct options *o, struct usb_side *u)
{
	struct hwg_error err = {0};

	memset(u, 0, sizeof(*u));
	if (o->cs_port != 0 && sim_cs_start((int)o->cs_port, o->cs_log, &u->cs, &err) != 0) {
		fprintf(stderr, "hwsim: %s\n", err.message);
		return -1;
	}
	if (o->n_veins == 0 && o->spool == NULL)
		return 0; /* no USB device: no testbed */
	if (sim_usb_open(&u->usb, &err) != 0) {
		fprintf(stderr, "hwsim: USB: %s\n", err.message);
		return -1;
	}
	if (sim_vein_bus_open(&u->veins, u->usb, o->veins, o->n_veins, &err) != 0) {
		fprintf(stderr, "hwsim: palm-vein terminals: %s\n", err.message);
		return -1;
	}
	if (o->spool != NULL && sim_printer_bus_open(&u->printers, u->usb, o->spool, &err) != 0) {
		fprintf(stderr, "hwsim: printers: %s\n", err.message);
		return -1;
	}
	return 0;
}

static void
usb_side_close(struct usb_side *u)
{
	sim_cs_stop(u->cs);
	if (u->usb != NULL) {
		sim_printer_bus_close(&u->printers);
		sim_vein_bus_close(&u->veins);
		sim_usb_close(u->usb);
	}
	memset(u, 0, sizeof(*u));
}

static int
run(const struct options *o, struct sim_slot *slots)
{
	struct sim_control ctl;
	struct usb_side usb;
	struct hwg_error err = {0};

	if (usb_side_open(o, &usb) != 0) {
		usb_side_close(&usb);
		return 1;
	}
	if (sim_control_open(&ctl, o->control, slots, (int)o->slots, &err) != 0) {
		fprintf(stderr, "hwsim: %s\n", err.message);
		usb_side_close(&usb);
		return 1;
	}
	if (usb.usb != NULL || usb.cs != NULL) {
		ctl.ext = usb_command;
		ctl.ext_arg = &usb;
	}
	for (int i = 0; i < o->n_inserts; i++)
		if (insert_at_start(slots, (int)o->slots, o->inserts[i]) != 0) {
			sim_control_close(&ctl);
			usb_side_close(&usb);
			return 1;
		}
	sim_log("ready: %ld slots on vpcd ports %ld-%ld, %d vein terminals, printers %s%s%s%s, "
	        "CS port %ld, control %s",
	        o->slots, o->port, o->port + o->slots - 1, o->n_veins,
	        o->spool != NULL ? "spooling to " : "off", o->spool != NULL ? o->spool : "",
	        usb.usb != NULL ? ", USB bus under " : "",
	        usb.usb != NULL ? sim_usb_root(usb.usb) : "", o->cs_port, o->control);
	while (!stop_requested)
		sim_control_poll(&ctl, CONTROL_POLL_MS);
	sim_log("stopping");
	sim_control_close(&ctl);
	usb_side_close(&usb);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct sim_slot slots[MAX_SLOTS];
	struct hwg_error err = {0};
	struct options o;
	int rc = 1, started = 0;

	if (parse_options(argc, argv, &o) != 0)
		return usage();
	if (o.send != NULL)
		return send_command(o.control, o.send);
	catch_signals();
	while (started < o.slots &&
	       sim_slot_start(&slots[started], started, (int)(o.port + started), &err) == 0)
		started++;
	if (started == o.slots)
		rc = run(&o, slots);
	else
		fprintf(stderr, "hwsim: %s\n", err.message);
	for (int i = 0; i < started; i++)
		sim_slot_stop(&slots[i]);
	return rc;
}
