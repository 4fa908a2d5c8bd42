/*
 * test_vein_usb.c — the palm-vein driver (drivers/vein) through the real
 * libusb code path against hwsim's terminal on umockdev's simulated bus:
 * hot-plug, GET_INFO, pairing, captures, and every way a capture fails
 * (timeout, cancel from the gateway and at the terminal, busy, a wrong or
 * swapped device key, a replayed or injected capture, a hardware fault,
 * the plug pulled mid-capture) and the terminal coming back.  Run by
 * test_vein_usb.sh, which starts hwsim and sets UMOCKDEV_DIR and the
 * preload; HWSIM_CONTROL names hwsim's control socket.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hwg_test.h"
#include "hwg_time.h"
#include "hwg_vein.h"
#include "sim_control.h"

#define SERIAL "PV-SIM-0001"

static struct hwg_vein *vein;
static uint8_t paired[HWG_VEIN_PUBKEY_LEN];
static pthread_mutex_t events_mu = PTHREAD_MUTEX_INITIALIZER;
static char events[4096];

static void
on_event(void *arg, const char *event, const char *terminal)
{
	(void)arg;
	pthread_mutex_lock(&events_mu);
	if (strlen(events) + strlen(event) + strlen(terminal) + 3 < sizeof(events)) {
		strcat(events, event);
		strcat(events, ":");
		strcat(events, terminal);
		strcat(events, " ");
	}
	pthread_mutex_unlock(&events_mu);
}

/* The driver reports an event just after its table changes: wait up to 5 s for it. */
static int
saw_event(const char *what)
{
	int seen = 0;

	for (int i = 0; i < 100 && !seen; i++) {
		pthread_mutex_lock(&events_mu);
		seen = strstr(events, what) != NULL;
		pthread_mutex_unlock(&events_mu);
		if (!seen)
			usleep(50 * 1000);
	}
	return seen;
}

/* One hwsim control command; the reply's data (after "ok ") in out if given. */
static int
sim(const char *cmd, char *out, size_t cap)
{
	struct hwg_error err = {0};
	char *answer = NULL;
	int ok;

	if (sim_control_send(getenv("HWSIM_CONTROL"), cmd, &answer, &err) != 0) {
		fprintf(stderr, "  hwsim %s: %s\n", cmd, err.message);
		return -1;
	}
	ok = strncmp(answer, "ok", 2) == 0;
	if (!ok)
		fprintf(stderr, "  hwsim %s: %s\n", cmd, answer);
	if (ok && out != NULL)
		snprintf(out, cap, "%s", answer[2] == ' ' ? answer + 3 : "");
	free(answer);
	return ok ? 0 : -1;
}

static int
connected(void)
{
	struct hwg_vein_info info[4];
	size_t n = 0;

	hwg_vein_list(vein, info, 4, &n);
	return n == 1 && strcmp(info[0].serial, SERIAL) == 0;
}

static int
wait_connected(int want)
{
	for (int i = 0; i < 100; i++) {
		if (connected() == want)
			return 1;
		usleep(50 * 1000);
	}
	return 0;
}

static int
capture(int timeout_ms, struct hwg_vein_capture *c, struct hwg_error *err)
{
	return hwg_vein_capture(vein, SERIAL, paired, timeout_ms, c, err);
}

/* ---------------------------------------------------------------- a capture in the background */

struct bg {
	pthread_t thread;
	int timeout_ms, rc;
	int64_t took_ms;
	struct hwg_error err;
};

static void *
bg_main(void *arg)
{
	struct bg *b = arg;
	struct hwg_vein_capture c;
	int64_t t0 = hwg_now_ms();

	b->rc = capture(b->timeout_ms, &c, &b->err);
	b->took_ms = hwg_now_ms() - t0;
	return NULL;
}

static void
bg_start(struct bg *b, int timeout_ms)
{
	memset(b, 0, sizeof(*b));
	b->timeout_ms = timeout_ms;
	pthread_create(&b->thread, NULL, bg_main, b);
	usleep(300 * 1000); /* the CAPTURE is on its way to the terminal */
}

static void
bg_join(struct bg *b)
{
	pthread_join(b->thread, NULL);
}

/* ---------------------------------------------------------------- tests */

static void
test_attach_and_info(void)
{
	struct hwg_vein_info info[4];
	size_t n = 0;

	CHECK(wait_connected(1));
	CHECK(saw_event("vein.attached:" SERIAL));
	hwg_vein_list(vein, info, 4, &n);
	CHECK_EQ_INT(n, 1);
	if (n == 1) {
		CHECK_EQ_STR(info[0].template_format, "pv1-256i8");
		CHECK(info[0].model[0] != '\0' && info[0].firmware[0] != '\0');
		CHECK_EQ_INT(info[0].capturing, 0);
	}
}

static void
test_pair_matches_display(void)
{
	struct hwg_error err = {0};
	char shown[80], fp[HWG_VEIN_FINGERPRINT_LEN + 1];

	CHECK_EQ_INT(hwg_vein_pair(vein, SERIAL, paired, &err), 0);
	CHECK_EQ_INT(sim("vein fingerprint 0", shown, sizeof(shown)), 0);
	hwg_vein_fingerprint(paired, fp);
	CHECK_EQ_STR(fp, shown);
}

static void
test_capture_good(void)
{
	struct hwg_vein_capture a, b;
	struct hwg_error err = {0};

	CHECK_EQ_INT(sim("vein present 0 alice 2", NULL, 0), 0);
	CHECK_EQ_INT(capture(2000, &a, &err), 0);
	CHECK_EQ_INT(capture(2000, &b, &err), 0);
	CHECK(a.quality >= 60 && a.liveness >= 80);
	CHECK(memcmp(a.tmpl, b.tmpl, sizeof(a.tmpl)) != 0); /* two captures, two noises */
}

static void
test_unknown_terminal(void)
{
	struct hwg_vein_capture c;
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_vein_capture(vein, "PV-NONE", paired, 1000, &c, &err), HWG_E_NO_TERMINAL);
	CHECK_EQ_INT(hwg_vein_cancel(vein, SERIAL, &err), HWG_E_NOT_FOUND); /* nothing to cancel */
}

static void
test_spoofed_device_key(void)
{
	uint8_t other[HWG_VEIN_PUBKEY_LEN];
	struct hwg_vein_capture c;
	struct hwg_error err = {0};

	memcpy(other, paired, sizeof(other));
	other[0] ^= 1;
	CHECK_EQ_INT(sim("vein present 0 alice", NULL, 0), 0);
	CHECK_EQ_INT(hwg_vein_capture(vein, SERIAL, other, 2000, &c, &err), HWG_E_DEVICE_SIGNATURE);
	CHECK_EQ_INT(sim("vein wrong-key 0 on", NULL, 0), 0);
	CHECK_EQ_INT(sim("vein present 0 alice", NULL, 0), 0);
	CHECK_EQ_INT(capture(2000, &c, &err), HWG_E_DEVICE_SIGNATURE);
	CHECK_EQ_INT(sim("vein wrong-key 0 off", NULL, 0), 0);
}

static void
test_replay_and_injection(void)
{
	struct hwg_vein_capture c;
	struct hwg_error err = {0};

	CHECK_EQ_INT(sim("vein replay 0", NULL, 0), 0);
	CHECK_EQ_INT(capture(2000, &c, &err), HWG_E_DEVICE_SIGNATURE);
	CHECK_EQ_INT(sim("vein inject 0 bob", NULL, 0), 0);
	CHECK_EQ_INT(sim("vein present 0 alice", NULL, 0), 0);
	CHECK_EQ_INT(capture(2000, &c, &err), HWG_E_DEVICE_SIGNATURE);
	CHECK_EQ_INT(sim("vein present 0 alice", NULL, 0), 0); /* and the next one is fine */
	CHECK_EQ_INT(capture(2000, &c, &err), 0);
}

static void
test_quality_and_liveness_reported(void)
{
	struct hwg_vein_capture c;
	struct hwg_error err = {0};

	CHECK_EQ_INT(sim("vein low 0 alice", NULL, 0), 0);
	CHECK_EQ_INT(capture(2000, &c, &err), 0);
	CHECK(c.quality < 40);
	CHECK_EQ_INT(sim("vein photo 0 alice", NULL, 0), 0);
	CHECK_EQ_INT(capture(2000, &c, &err), 0);
	CHECK(c.liveness < 20);
}

static void
test_timeout(void)
{
	struct hwg_vein_capture c;
	struct hwg_error err = {0};
	int64_t t0 = hwg_now_ms(), took;

	CHECK_EQ_INT(capture(400, &c, &err), HWG_E_CAPTURE_TIMEOUT);
	took = hwg_now_ms() - t0;
	CHECK(took >= 350 && took < 2000);
}

static void
test_cancel_from_gateway(void)
{
	struct hwg_vein_capture c;
	struct hwg_error err = {0};
	struct bg b;
	int64_t t0;

	bg_start(&b, 20000);
	t0 = hwg_now_ms();
	CHECK_EQ_INT(hwg_vein_cancel(vein, SERIAL, &err), 0);
	bg_join(&b);
	CHECK_EQ_INT(b.rc, HWG_E_CAPTURE_CANCELLED);
	CHECK(hwg_now_ms() - t0 < 2000);
	/* the CANCEL's own answer arrives late and is skipped by the next exchange */
	CHECK_EQ_INT(sim("vein present 0 alice", NULL, 0), 0);
	CHECK_EQ_INT(capture(2000, &c, &err), 0);
}

static void
test_cancel_at_terminal_and_busy(void)
{
	struct hwg_vein_capture c;
	struct hwg_error err = {0};
	struct hwg_vein_info info[2];
	size_t n = 0;
	struct bg b;

	bg_start(&b, 20000);
	hwg_vein_list(vein, info, 2, &n);
	CHECK(n == 1 && info[0].capturing);
	CHECK_EQ_INT(capture(2000, &c, &err), HWG_E_TERMINAL_BUSY);
	CHECK_EQ_INT(sim("vein cancel 0", NULL, 0), 0);
	bg_join(&b);
	CHECK_EQ_INT(b.rc, HWG_E_CAPTURE_CANCELLED);
}

static void
test_hardware_fault(void)
{
	struct hwg_vein_capture c;
	struct hwg_error err = {0};

	CHECK_EQ_INT(sim("vein fault 0 on", NULL, 0), 0);
	CHECK_EQ_INT(capture(1000, &c, &err), HWG_E_TERMINAL_ERROR);
	CHECK(strstr(err.message, "fault") != NULL);
	CHECK_EQ_INT(sim("vein fault 0 off", NULL, 0), 0);
}

static void
test_unplug_mid_capture_and_back(void)
{
	struct hwg_vein_capture c;
	struct hwg_error err = {0};
	struct bg b;

	bg_start(&b, 20000);
	CHECK_EQ_INT(sim("vein unplug 0", NULL, 0), 0);
	bg_join(&b);
	CHECK_EQ_INT(b.rc, HWG_E_TERMINAL_REMOVED);
	CHECK(b.took_ms < 3000);
	CHECK(wait_connected(0));
	CHECK(saw_event("vein.detached:" SERIAL));
	CHECK_EQ_INT(capture(1000, &c, &err), HWG_E_NO_TERMINAL);

	CHECK_EQ_INT(sim("vein plug 0", NULL, 0), 0);
	CHECK(wait_connected(1));
	CHECK_EQ_INT(sim("vein present 0 alice", NULL, 0), 0);
	CHECK_EQ_INT(capture(2000, &c, &err), 0); /* the same device key: still paired */
}

int
main(void)
{
	struct hwg_vein_config cfg = {.ids = {{HWG_VEIN_SIM_VID, HWG_VEIN_SIM_PID}},
	                              .n_ids = 1,
	                              .scan_interval_ms = 500,
	                              .command_timeout_ms = 1000};
	struct hwg_error err = {0};

	if (getenv("HWSIM_CONTROL") == NULL || getenv("UMOCKDEV_DIR") == NULL) {
		fprintf(stderr, "run by test_vein_usb.sh (needs hwsim and umockdev)\n");
		return 2;
	}
	if (hwg_vein_open(&cfg, on_event, NULL, &vein, &err) != 0) {
		fprintf(stderr, "hwg_vein_open: %s\n", err.message);
		return 1;
	}
	HWG_RUN(test_attach_and_info);
	HWG_RUN(test_pair_matches_display);
	HWG_RUN(test_capture_good);
	HWG_RUN(test_unknown_terminal);
	HWG_RUN(test_spoofed_device_key);
	HWG_RUN(test_replay_and_injection);
	HWG_RUN(test_quality_and_liveness_reported);
	HWG_RUN(test_timeout);
	HWG_RUN(test_cancel_from_gateway);
	HWG_RUN(test_cancel_at_terminal_and_busy);
	HWG_RUN(test_hardware_fault);
	HWG_RUN(test_unplug_mid_capture_and_back);
	hwg_vein_close(vein);
	return HWG_TEST_END();
}
