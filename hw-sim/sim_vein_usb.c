/*
 * sim_vein_usb.c — see sim_vein_usb.h.  The USB side calls the engine
 * under sim_usb's lock; the control side calls it from hwsim's main
 * thread; the engine's own mutex keeps them apart.  After anything that
 * may give a waiting capture its answer, the reaper is woken so the
 * driver hears of it within milliseconds.
 */
#include "sim_vein_usb.h"

#include "sim_control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_time.h"
#include "hwg_vein_proto.h"

#define MAX_WORDS 5

static void
usb_out(void *dev, const uint8_t *data, size_t len)
{
	sim_vein_write(dev, (uint64_t)hwg_now_ms(), data, len, NULL);
}

static int
usb_in(void *dev, int64_t now_ms, uint8_t *buf, size_t cap, size_t *len)
{
	return sim_vein_read(dev, (uint64_t)now_ms, buf, cap, len) == SIM_VEIN_FRAME_READY;
}

static const struct sim_usb_device_ops vein_ops = {usb_out, usb_in, NULL}; /* no control requests */

static int
plug(struct sim_vein_bus *b, int i, struct hwg_error *err)
{
	const struct sim_usb_identity id = {HWG_VEIN_SIM_VID,          HWG_VEIN_SIM_PID,
	                                    HWG_VEIN_USB_CLASS,        HWG_VEIN_USB_SUBCLASS,
	                                    HWG_VEIN_USB_PROTOCOL,     sim_vein_serial(b->t[i]),
	                                    "hwsim palm-vein terminal"};

	sim_vein_plug(b->t[i]);
	return sim_usb_plug(b->usb, i, &id, &vein_ops, b->t[i], err);
}

int
sim_vein_bus_open(struct sim_vein_bus *b, struct sim_usb *usb, const char *const *serials, int n,
                  struct hwg_error *err)
{
	int rc;

	memset(b, 0, sizeof(*b));
	if (n > SIM_VEIN_TERMINALS)
		return hwg_error_set(err, HWG_E_INVALID, "at most %d terminals",
		                     SIM_VEIN_TERMINALS);
	b->usb = usb;
	for (int i = 0; i < n; i++) {
		struct sim_vein_config cfg = {.serial = serials[i]};

		if ((rc = sim_vein_new(&cfg, &b->t[i], err)) != 0 || (rc = plug(b, i, err)) != 0) {
			sim_vein_bus_close(b);
			return rc;
		}
		b->n = i + 1;
	}
	return 0;
}

void
sim_vein_bus_close(struct sim_vein_bus *b)
{
	for (int i = 0; i < SIM_VEIN_TERMINALS; i++) {
		/* first: no ioctl reaches an unplugged engine */
		if (b->t[i] != NULL && sim_usb_plugged(b->usb, i))
			sim_usb_unplug(b->usb, i, NULL);
		sim_vein_free(b->t[i]);
	}
	memset(b, 0, sizeof(*b));
}

/* ---------------------------------------------------------------- commands */

static char *
reply_rc(int rc, const struct hwg_error *err)
{
	return rc == 0 ? sim_control_reply("ok") : sim_control_reply("err %s", err->message);
}

static int
on_off(const char *w, int *out)
{
	if (w != NULL && strcmp(w, "on") == 0)
		*out = 1;
	else if (w != NULL && strcmp(w, "off") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static int
count_of(const char *w, unsigned *out)
{
	char *end;
	unsigned long n;

	if (w == NULL) {
		*out = 1;
		return 0;
	}
	n = strtoul(w, &end, 10);
	if (*w < '0' || *w > '9' || *end != '\0' || n < 1 || n > SIM_VEIN_QUEUE_MAX)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static char *
cmd_present(struct sim_vein_bus *b, struct sim_vein *t, char **w, int n)
{
	static const struct {
		const char *name;
		enum sim_vein_palm kind;
	} kinds[] = {{"present", SIM_VEIN_GOOD},
	             {"low", SIM_VEIN_LOW},
	             {"photo", SIM_VEIN_PHOTO},
	             {"absent", SIM_VEIN_ABSENT}};
	struct hwg_error err = {0};
	int absent = strcmp(w[1], "absent") == 0;
	const char *person = absent ? "nobody" : w[3];
	unsigned count;
	int rc;

	if ((!absent && n < 4) || count_of(w[absent ? 3 : 4], &count) != 0)
		return sim_control_reply("err usage: vein %s TERMINAL %s[COUNT]", w[1],
		                         absent ? "" : "PERSON ");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(w[1], kinds[i].name) == 0) {
			rc = sim_vein_present(t, kinds[i].kind, person, count, &err);
			sim_usb_kick(b->usb);
			return reply_rc(rc, &err);
		}
	return sim_control_reply("err unknown presentation %s", w[1]);
}

static char *
cmd_plug(struct sim_vein_bus *b, int i, int in)
{
	struct hwg_error err = {0};
	int rc;

	if (in) {
		rc = plug(b, i, &err);
	} else {
		sim_vein_unplug(b->t[i]);
		rc = sim_usb_unplug(b->usb, i, &err);
	}
	return reply_rc(rc, &err);
}

static char *
cmd_flag(struct sim_vein_bus *b, struct sim_vein *t, char **w)
{
	int on;

	if (on_off(w[3], &on) != 0)
		return sim_control_reply("err usage: vein %s TERMINAL on|off", w[1]);
	if (strcmp(w[1], "wrong-key") == 0)
		sim_vein_set_wrong_key(t, on);
	else
		sim_vein_set_fault(t, on);
	sim_usb_kick(b->usb);
	return sim_control_reply("ok");
}

/* delay TERMINAL MS: the capture time (sim_vein_set_capture_ms). */
static char *
cmd_delay(struct sim_vein *t, char **w, int n)
{
	char *end;
	unsigned long ms = n == 4 ? strtoul(w[3], &end, 10) : 0;

	if (n != 4 || *w[3] < '0' || *w[3] > '9' || *end != '\0' || ms > SIM_VEIN_CAPTURE_MS_MAX)
		return sim_control_reply("err usage: vein delay TERMINAL MS (0 to %d)",
		                         SIM_VEIN_CAPTURE_MS_MAX);
	sim_vein_set_capture_ms(t, (unsigned)ms);
	return sim_control_reply("ok");
}

static char *
cmd_terminal(struct sim_vein_bus *b, int i, char **w, int n)
{
	struct sim_vein *t = b->t[i];
	struct hwg_error err = {0};
	char fp[HWG_VEIN_FINGERPRINT_LEN + 1];
	const char *c = w[1];
	int rc;

	if (!strcmp(c, "present") || !strcmp(c, "low") || !strcmp(c, "photo") ||
	    !strcmp(c, "absent"))
		return cmd_present(b, t, w, n);
	if (!strcmp(c, "wrong-key") || !strcmp(c, "fault"))
		return cmd_flag(b, t, w);
	if (!strcmp(c, "unplug") || !strcmp(c, "plug"))
		return cmd_plug(b, i, !strcmp(c, "plug"));
	if (!strcmp(c, "delay"))
		return cmd_delay(t, w, n);
	if (!strcmp(c, "fingerprint")) {
		sim_vein_fingerprint(t, fp);
		return sim_control_reply("ok %s", fp);
	}
	if (!strcmp(c, "clear")) {
		sim_vein_clear(t);
		return sim_control_reply("ok");
	}
	if (!strcmp(c, "queued"))
		return sim_control_reply("ok %u", sim_vein_queued(t));
	if (!strcmp(c, "cancel"))
		rc = sim_vein_press_cancel(t, &err);
	else if (!strcmp(c, "replay"))
		rc = sim_vein_replay_next(t, &err);
	else if (!strcmp(c, "inject"))
		rc = sim_vein_inject_next(t, n > 3 ? w[3] : NULL, &err);
	else
		return sim_control_reply("err unknown vein command %.32s", c);
	sim_usb_kick(b->usb);
	return reply_rc(rc, &err);
}

static char *
cmd_list(struct sim_vein_bus *b)
{
	static const char *const states[] = {"idle", "capturing", "fault"};
	char all[64 + 96 * SIM_VEIN_TERMINALS] = "ok";
	size_t len = 2;

	for (int i = 0; i < b->n; i++) {
		int s = sim_vein_state(b->t[i]);

		len += (size_t)snprintf(all + len, sizeof(all) - len, " %d=%s:%s:%s", i,
		                        sim_vein_serial(b->t[i]),
		                        sim_usb_plugged(b->usb, i) ? "plugged" : "unplugged",
		                        s >= 0 && s <= 2 ? states[s] : "?");
	}
	return sim_control_reply("%s", all);
}

/* The terminal a word names: its index or its serial; -1 if none. */
static int
terminal_index(const struct sim_vein_bus *b, const char *w)
{
	for (int i = 0; w != NULL && i < b->n; i++) {
		char idx[12];

		snprintf(idx, sizeof(idx), "%d", i);
		if (strcmp(w, idx) == 0 || strcmp(w, sim_vein_serial(b->t[i])) == 0)
			return i;
	}
	return -1;
}

char *
sim_vein_bus_command(void *bus, const char *line)
{
	struct sim_vein_bus *b = bus;
	char copy[512], *w[MAX_WORDS + 1] = {0}, *save = NULL;
	int n = 0, i;

	if (strlen(line) >= sizeof(copy))
		return strncmp(line, "vein ", 5) == 0 ? sim_control_reply("err line too long")
		                                      : NULL;
	memcpy(copy, line, strlen(line) + 1);
	for (char *t = strtok_r(copy, " \t\r", &save); t != NULL && n <= MAX_WORDS;
	     t = strtok_r(NULL, " \t\r", &save))
		w[n++] = t;
	if (n == 0 || strcmp(w[0], "vein") != 0)
		return NULL;
	if (n > MAX_WORDS)
		return sim_control_reply("err too many words");
	if (n == 2 && strcmp(w[1], "list") == 0)
		return cmd_list(b);
	if (n < 3 || (i = terminal_index(b, w[2])) < 0)
		return sim_control_reply("err usage: vein COMMAND TERMINAL ...; no terminal %.32s",
		                         n >= 3 ? w[2] : "given");
	return cmd_terminal(b, i, w, n);
}
