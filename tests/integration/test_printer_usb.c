/*
 * test_printer_usb.c — the certificate printer driver (drivers/printer)
 * through the real libusb code path against hwsim's printer on umockdev's
 * simulated bus: hot-plug and the device ID, the list and each state, a
 * two-page job confirmed with its pages and spooled byte for byte, the
 * class requests through the synchronous USBDEVFS_CONTROL ioctl too, and
 * every way a job fails: paper out before sending (nothing sent) and at
 * page 2, a jam at page 1 and at page 2, offline before and during a job,
 * the door open, the printer vanishing mid-job and coming back, no
 * confirmation in time, a second job while one prints (and none refused
 * for a listing's check of the printer), the journal's hook refusing; read-backs cut into small
 * transfers; the first ready of two printers; a palm-vein terminal on the same bus left alone.  Run
 * by test_printer_usb.sh, which starts hwsim with one printer and one terminal and sets
 * UMOCKDEV_DIR and the preload; HWSIM_CONTROL names hwsim's control socket, PRINT_SPOOL its spool
 * folder.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/usbdevice_fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hwg_ieee1284.h"
#include "hwg_printer.h"
#include "hwg_test.h"
#include "hwg_time.h"
#include "minipdf.h"
#include "sim_control.h"

#define SERIAL "KM2000417"
#define SERIAL2 "KM2000418"

static struct hwg_printer *prn;
static pthread_mutex_t events_mu = PTHREAD_MUTEX_INITIALIZER;
static char events[4096];
static uint8_t pdf2[8192];
static size_t pdf2_len;
static unsigned job_seq;

static void
on_event(void *arg, const char *event, const char *printer)
{
	(void)arg;
	pthread_mutex_lock(&events_mu);
	if (strlen(events) + strlen(event) + strlen(printer) + 3 < sizeof(events)) {
		strcat(events, event);
		strcat(events, ":");
		strcat(events, printer);
		strcat(events, " ");
	}
	pthread_mutex_unlock(&events_mu);
}

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

/* The printer's entry in the list; 0 if it is not listed. */
static int
info_of(const char *serial, struct hwg_printer_info *info)
{
	struct hwg_printer_info all[2 * HWG_PRINTER_MAX];
	size_t n = 0;

	hwg_printer_list(prn, all, 2 * HWG_PRINTER_MAX, &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(all[i].serial, serial) == 0) {
			*info = all[i];
			return 1;
		}
	return 0;
}

/* Wait up to 5 s for the printer to be listed present (or not). */
static int
wait_present(const char *serial, int want)
{
	struct hwg_printer_info info;

	for (int i = 0; i < 100; i++) {
		if (info_of(serial, &info) && info.present == want)
			return 1;
		usleep(50 * 1000);
	}
	return 0;
}

/* The job's line in "printer jobs": "NAME=OUT/PAGES:OUTCOME", or "" if absent. */
static const char *
sim_job(const char *serial, const char *name)
{
	static char all[8192], one[128];
	char cmd[96], *at, *end;
	size_t n = strlen(name);

	one[0] = '\0';
	snprintf(cmd, sizeof(cmd), "printer jobs %s", serial);
	if (sim(cmd, all, sizeof(all)) != 0)
		return one;
	for (at = all; (at = strstr(at, name)) != NULL; at += n)
		if ((at == all || at[-1] == ' ') && at[n] == '=') {
			end = strchr(at, ' ');
			snprintf(one, sizeof(one), "%.*s",
			         (int)(end != NULL ? end - at : (long)strlen(at)), at);
		}
	return one; /* the last job of that name */
}

static int
spooled_equal(const char *name, const uint8_t *want, size_t len)
{
	static uint8_t got[16384];
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s.pdf", getenv("PRINT_SPOOL"), name);
	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	n = fread(got, 1, sizeof(got), f);
	fclose(f);
	return n == len && memcmp(got, want, len) == 0;
}

static int
spooled(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.pdf", getenv("PRINT_SPOOL"), name);
	return access(path, F_OK) == 0;
}

/* ---------------------------------------------------------------- a job */

struct journal {
	int calls;
	char serial[64];
	int refuse; /* the code before_send returns */
};

static int
before_send(void *arg, const char *serial)
{
	struct journal *j = arg;

	j->calls++;
	snprintf(j->serial, sizeof(j->serial), "%s", serial);
	return j->refuse;
}

struct job {
	char name[32];
	const char *serial;
	int timeout_ms, rc;
	struct journal journal;
	struct hwg_print_result res;
	struct hwg_error err;
	pthread_t thread;
};

static void
job_init(struct job *j, const char *serial, int timeout_ms)
{
	memset(j, 0, sizeof(*j));
	snprintf(j->name, sizeof(j->name), "R6-%06u", ++job_seq);
	j->serial = serial;
	j->timeout_ms = timeout_ms;
}

static int
job_run(struct job *j)
{
	j->rc = hwg_printer_print(prn, j->serial, j->name, pdf2, pdf2_len, j->timeout_ms,
	                          before_send, &j->journal, &j->res, &j->err);
	if (j->rc != 0)
		fprintf(stderr, "  (job %s: %d %s)\n", j->name, j->rc, j->err.message);
	return j->rc;
}

static void *
job_main(void *arg)
{
	job_run(arg);
	return NULL;
}

/* A job in the background, on its way for ms before this returns. */
static void
job_start(struct job *j, int ms)
{
	pthread_create(&j->thread, NULL, job_main, j);
	usleep((useconds_t)ms * 1000);
}

/* A job that fails before a byte is sent: nothing sent, the hook not called, nothing spooled. */
static void
check_refused_before(int want, const char *in_message)
{
	struct job j;

	job_init(&j, SERIAL, 5000);
	CHECK_EQ_INT(job_run(&j), want);
	CHECK_EQ_INT(j.res.sent, 0);
	CHECK_EQ_INT(j.journal.calls, 0);
	CHECK(strstr(j.err.message, in_message) != NULL);
	CHECK(!spooled(j.name));
	CHECK_EQ_STR(sim_job(SERIAL, j.name), "");
}

static void
check_state(int state, const char *detail)
{
	struct hwg_printer_info info;

	CHECK(info_of(SERIAL, &info));
	CHECK_EQ_INT(info.state, state);
	CHECK_EQ_STR(info.detail, detail);
	CHECK_EQ_INT(info.present, 1);
}

/* ---------------------------------------------------------------- tests */

static void
test_attach_and_list(void)
{
	struct hwg_printer_info info;

	CHECK(wait_present(SERIAL, 1));
	CHECK(saw_event("printer.attached:" SERIAL));
	REQUIRE(info_of(SERIAL, &info));
	CHECK_EQ_STR(info.model, "CP-200");
	CHECK_EQ_INT(info.state, HWG_PRN_READY);
	CHECK_EQ_STR(info.detail, "ready");
	CHECK_EQ_STR(hwg_printer_state_name(info.state), "ready");
	/* the terminal beside it is not a printer: neither listed nor refused */
	CHECK(!info_of("PV-SIM-0001", &info));
	pthread_mutex_lock(&events_mu);
	CHECK(strstr(events, "refused") == NULL);
	pthread_mutex_unlock(&events_mu);
}

/* The class requests through USBDEVFS_CONTROL, as a program without libusb sends them. */
static void
test_control_ioctl(void)
{
	uint8_t id[HWG_IEEE1284_ID_MAX], port = 0;
	struct usbdevfs_ctrltransfer c = {0xA1, HWG_PRN_REQ_GET_DEVICE_ID, 0, 0, sizeof(id), 1000,
	                                  id};
	struct hwg_ieee1284_id parsed;
	char path[300] = "";
	struct dirent *e;
	DIR *d = opendir("/dev/bus/usb/001");
	int fd, n;

	/* the printer's node: the one that answers GET_DEVICE_ID (the terminal stalls it) */
	for (fd = -1, n = -1; d != NULL && n < 0 && (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/dev/bus/usb/001/%s", e->d_name);
		if (fd >= 0)
			close(fd);
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) >= 0)
			n = ioctl(fd, USBDEVFS_CONTROL, &c);
	}
	if (d != NULL)
		closedir(d);
	REQUIRE(fd >= 0);
	CHECK(n > 2);
	CHECK_EQ_INT(hwg_ieee1284_parse(id, n > 0 ? (size_t)n : 0, &parsed, NULL), 0);
	CHECK_EQ_STR(parsed.sn, SERIAL);
	c = (struct usbdevfs_ctrltransfer){0xA1, HWG_PRN_REQ_GET_PORT_STATUS, 0, 0, 1, 1000, &port};
	CHECK_EQ_INT(ioctl(fd, USBDEVFS_CONTROL, &c), 1);
	CHECK_EQ_INT(port, HWG_PRN_PORT_SELECTED | HWG_PRN_PORT_NOT_ERROR);
	c = (struct usbdevfs_ctrltransfer){0xA1, 0x07, 0, 0, 1, 1000, &port}; /* no such request */
	CHECK_EQ_INT(ioctl(fd, USBDEVFS_CONTROL, &c), -1);
	close(fd);
}

static void
test_two_pages_printed_and_spooled(void)
{
	struct job j;

	job_init(&j, SERIAL, 5000);
	CHECK_EQ_INT(job_run(&j), 0);
	CHECK_EQ_INT(j.res.pages, 2);
	CHECK_EQ_INT(j.res.sent, 1);
	CHECK_EQ_STR(j.res.printer, SERIAL);
	CHECK_EQ_INT(j.journal.calls, 1);
	CHECK_EQ_STR(j.journal.serial, SERIAL);
	CHECK(spooled_equal(j.name, pdf2, pdf2_len));
	CHECK(strstr(sim_job(SERIAL, j.name), "=2/2:printed") != NULL);
}

static void
test_first_ready_printer(void)
{
	struct job j;

	job_init(&j, NULL, 5000);
	CHECK_EQ_INT(job_run(&j), 0);
	CHECK_EQ_STR(j.res.printer, SERIAL);
	CHECK(spooled_equal(j.name, pdf2, pdf2_len));
}

static void
test_refusals_before_any_io(void)
{
	static const uint8_t with_uel[] = "%PDF-1.4\n\x1b%-12345X@PJL";
	struct hwg_print_result res;
	struct hwg_error err = {0};

	CHECK_EQ_INT(
	    hwg_printer_print(prn, "KM-NONE", "R6-x", pdf2, pdf2_len, 1000, NULL, NULL, &res, &err),
	    HWG_E_NO_PRINTER);
	CHECK_EQ_INT(
	    hwg_printer_print(prn, SERIAL, "R6 x", pdf2, pdf2_len, 1000, NULL, NULL, &res, &err),
	    HWG_E_INVALID);
	CHECK_EQ_INT(hwg_printer_print(prn, SERIAL, "R6-x", with_uel, sizeof(with_uel) - 1, 1000,
	                               NULL, NULL, &res, &err),
	             HWG_E_INVALID);
	CHECK_EQ_INT(
	    hwg_printer_print(prn, SERIAL, "R6-x", pdf2, pdf2_len, 0, NULL, NULL, &res, &err),
	    HWG_E_INVALID);
	CHECK_EQ_INT(res.sent, 0);
}

/* The journal's hook says no: nothing sent, its code returned. */
static void
test_before_send_refuses(void)
{
	struct job j;

	job_init(&j, SERIAL, 5000);
	j.journal.refuse = HWG_E_STORE;
	CHECK_EQ_INT(job_run(&j), HWG_E_STORE);
	CHECK_EQ_INT(j.journal.calls, 1);
	CHECK_EQ_INT(j.res.sent, 0);
	CHECK_EQ_STR(sim_job(SERIAL, j.name), "");
}

static void
test_paper_out_before_sending(void)
{
	CHECK_EQ_INT(sim("printer paper " SERIAL " out", NULL, 0), 0);
	check_state(HWG_PRN_PAPER_OUT, "paper_out");
	check_refused_before(HWG_E_PAPER_OUT, "out of paper");
	CHECK_EQ_INT(sim("printer paper " SERIAL " in", NULL, 0), 0);
	check_state(HWG_PRN_READY, "ready");
}

static void
test_paper_out_mid_job(void)
{
	struct job j;

	CHECK_EQ_INT(sim("printer paper " SERIAL " out-at 2", NULL, 0), 0);
	job_init(&j, SERIAL, 5000);
	CHECK_EQ_INT(job_run(&j), HWG_E_PAPER_OUT);
	CHECK_EQ_INT(j.res.sent, 1);
	CHECK(strstr(j.err.message, "tray 1") != NULL && strstr(j.err.message, j.name) != NULL);
	CHECK(strstr(sim_job(SERIAL, j.name), "=1/2:reset") != NULL); /* soft reset: dropped */
	CHECK(!spooled(j.name));
	CHECK_EQ_INT(sim("printer paper " SERIAL " in", NULL, 0), 0);
	check_state(HWG_PRN_READY, "ready");
}

/* A jam at page n: an error naming the page, the job dropped, the printer jammed until cleared. */
static void
check_jam(unsigned page)
{
	char cmd[64], want[32];
	struct job j;

	snprintf(cmd, sizeof(cmd), "printer jam %s %u", SERIAL, page);
	CHECK_EQ_INT(sim(cmd, NULL, 0), 0);
	job_init(&j, SERIAL, 5000);
	CHECK_EQ_INT(job_run(&j), HWG_E_PRINTER_JAM);
	CHECK_EQ_INT(j.res.sent, 1);
	snprintf(want, sizeof(want), "PAGE %u", page);
	CHECK(strstr(j.err.message, want) != NULL);
	snprintf(want, sizeof(want), "=%u/2:reset", page - 1);
	CHECK(strstr(sim_job(SERIAL, j.name), want) != NULL);
	CHECK(!spooled(j.name));
	check_state(HWG_PRN_ERROR, "paper_jam");
	check_refused_before(HWG_E_PRINTER_JAM, "jammed"); /* still jammed: told by the probe */
	CHECK_EQ_INT(sim("printer jam " SERIAL " clear", NULL, 0), 0);
	check_state(HWG_PRN_READY, "ready");
}

static void
test_jam_at_page_1(void)
{
	check_jam(1);
}

static void
test_jam_at_page_2(void)
{
	check_jam(2);
}

static void
test_offline(void)
{
	struct job j;

	CHECK_EQ_INT(sim("printer offline " SERIAL " on", NULL, 0), 0);
	check_state(HWG_PRN_OFFLINE, "offline");
	check_refused_before(HWG_E_PRINTER_OFFLINE, "offline");
	CHECK_EQ_INT(sim("printer offline " SERIAL " off", NULL, 0), 0);
	check_state(HWG_PRN_READY, "ready");
	/* taken offline during a job */
	CHECK_EQ_INT(sim("printer speed " SERIAL " 1000", NULL, 0), 0);
	job_init(&j, SERIAL, 10000);
	job_start(&j, 300);
	CHECK_EQ_INT(sim("printer offline " SERIAL " on", NULL, 0), 0);
	pthread_join(j.thread, NULL);
	CHECK_EQ_INT(j.rc, HWG_E_PRINTER_OFFLINE);
	CHECK_EQ_INT(j.res.sent, 1);
	CHECK(strstr(sim_job(SERIAL, j.name), "=0/2:reset") != NULL);
	CHECK_EQ_INT(sim("printer offline " SERIAL " off", NULL, 0), 0);
	CHECK_EQ_INT(sim("printer speed " SERIAL " 200", NULL, 0), 0);
}

static void
test_door_open(void)
{
	CHECK_EQ_INT(sim("printer door " SERIAL " open", NULL, 0), 0);
	check_state(HWG_PRN_OFFLINE, "door_open");
	check_refused_before(HWG_E_PRINTER_OFFLINE, "door open");
	CHECK_EQ_INT(sim("printer door " SERIAL " closed", NULL, 0), 0);
	check_state(HWG_PRN_READY, "ready");
}

/* A second job while one prints is refused at once; the list says busy. */
static void
test_busy(void)
{
	struct hwg_printer_info info;
	struct job a, b;
	int64_t t0;

	CHECK_EQ_INT(sim("printer speed " SERIAL " 1000", NULL, 0), 0);
	job_init(&a, SERIAL, 10000);
	job_start(&a, 300);
	job_init(&b, SERIAL, 10000);
	t0 = hwg_now_ms();
	CHECK_EQ_INT(job_run(&b), HWG_E_UNAVAILABLE);
	CHECK(hwg_now_ms() - t0 < 500);
	CHECK_EQ_INT(b.res.sent, 0);
	CHECK_EQ_INT(b.journal.calls, 0);
	b.serial = NULL; /* the only printer is busy */
	CHECK_EQ_INT(job_run(&b), HWG_E_UNAVAILABLE);
	CHECK(info_of(SERIAL, &info) && info.state == HWG_PRN_BUSY);
	pthread_join(a.thread, NULL);
	CHECK_EQ_INT(a.rc, 0);
	CHECK_EQ_INT(a.res.pages, 2);
	CHECK(spooled_equal(a.name, pdf2, pdf2_len));
	CHECK_EQ_INT(sim("printer speed " SERIAL " 200", NULL, 0), 0);
}

static volatile int listing_stop;

static void *
lister_main(void *arg)
{
	struct hwg_printer_info all[HWG_PRINTER_MAX];
	size_t n;
	int *rounds = arg;

	while (!listing_stop) {
		hwg_printer_list(prn, all, HWG_PRINTER_MAX, &n);
		(*rounds)++;
	}
	return NULL;
}

/* Listing all the time (each listing checks the idle printer) never makes a job "busy". */
static void
test_list_while_printing(void)
{
	pthread_t lister;
	int rounds = 0;
	struct job j;

	listing_stop = 0;
	pthread_create(&lister, NULL, lister_main, &rounds);
	for (int i = 0; i < 4; i++) {
		job_init(&j, SERIAL, 5000);
		CHECK_EQ_INT(job_run(&j), 0);
		usleep(30 * 1000);
	}
	listing_stop = 1;
	pthread_join(lister, NULL);
	CHECK(rounds > 4);
}

/* No END in time: unconfirmed; the printer drops the job, the next one prints. */
static void
test_timeout_unconfirmed(void)
{
	struct job j;
	int64_t t0;

	CHECK_EQ_INT(sim("printer speed " SERIAL " 5000", NULL, 0), 0);
	job_init(&j, SERIAL, 800);
	t0 = hwg_now_ms();
	CHECK_EQ_INT(job_run(&j), HWG_E_PRINT_UNCONFIRMED);
	CHECK(hwg_now_ms() - t0 >= 750 && hwg_now_ms() - t0 < 3000);
	CHECK_EQ_INT(j.res.sent, 1);
	CHECK(strstr(j.err.message, "it was started") != NULL);
	CHECK(strstr(sim_job(SERIAL, j.name), "=0/2:reset") != NULL);
	CHECK_EQ_INT(sim("printer speed " SERIAL " 200", NULL, 0), 0);
	usleep(600 * 1000);
	CHECK(!spooled(j.name));
	test_two_pages_printed_and_spooled();
}

/* Read-backs in 7-byte transfers read the same. */
static void
test_cut_readbacks(void)
{
	CHECK_EQ_INT(sim("printer chunk " SERIAL " 7", NULL, 0), 0);
	test_two_pages_printed_and_spooled();
	CHECK_EQ_INT(sim("printer chunk " SERIAL " 0", NULL, 0), 0);
}

/* Unplugged at page 2: removed; listed not present; back, and printing again. */
static void
test_vanish_mid_job_and_back(void)
{
	struct hwg_printer_info info;
	struct job j;

	CHECK_EQ_INT(sim("printer vanish " SERIAL " 2", NULL, 0), 0);
	job_init(&j, SERIAL, 5000);
	CHECK_EQ_INT(job_run(&j), HWG_E_PRINTER_REMOVED);
	CHECK_EQ_INT(j.res.sent, 1);
	CHECK(strstr(sim_job(SERIAL, j.name), "=1/2:removed") != NULL);
	CHECK(!spooled(j.name));
	CHECK(wait_present(SERIAL, 0));
	CHECK(saw_event("printer.detached:" SERIAL));
	CHECK(info_of(SERIAL, &info) && info.state == HWG_PRN_OFFLINE);
	CHECK_EQ_STR(info.detail, "removed");
	CHECK_EQ_STR(info.model, "CP-200");
	job_init(&j, SERIAL, 1000);
	CHECK_EQ_INT(job_run(&j), HWG_E_NO_PRINTER);
	job_init(&j, NULL, 1000);
	CHECK_EQ_INT(job_run(&j), HWG_E_NO_PRINTER);

	CHECK_EQ_INT(sim("printer plug " SERIAL, NULL, 0), 0);
	CHECK(wait_present(SERIAL, 1));
	check_state(HWG_PRN_READY, "ready");
	test_two_pages_printed_and_spooled();
}

/* Two printers: the first ready one in serial order; each listed. */
static void
test_second_printer(void)
{
	struct hwg_printer_info info;
	struct job j;

	CHECK_EQ_INT(sim("printer plug " SERIAL2 " CP-300", NULL, 0), 0);
	CHECK(wait_present(SERIAL2, 1));
	CHECK(info_of(SERIAL2, &info) && strcmp(info.model, "CP-300") == 0);
	CHECK_EQ_INT(sim("printer paper " SERIAL " out", NULL, 0), 0);
	job_init(&j, NULL, 5000);
	CHECK_EQ_INT(job_run(&j), 0);
	CHECK_EQ_STR(j.res.printer, SERIAL2);
	CHECK(strstr(sim_job(SERIAL2, j.name), "=2/2:printed") != NULL);
	CHECK_EQ_INT(sim("printer paper " SERIAL2 " out", NULL, 0), 0);
	job_init(&j, NULL, 5000); /* none ready: the first one's reason */
	CHECK_EQ_INT(job_run(&j), HWG_E_PAPER_OUT);
	CHECK_EQ_INT(j.res.sent, 0);
	CHECK(strstr(j.err.message, SERIAL) != NULL);
	CHECK_EQ_INT(sim("printer paper " SERIAL " in", NULL, 0), 0);
	CHECK_EQ_INT(sim("printer unplug " SERIAL2, NULL, 0), 0);
	CHECK(wait_present(SERIAL2, 0));
}

int
main(void)
{
	struct hwg_printer_config cfg = {.scan_interval_ms = 500, .command_timeout_ms = 1000};
	struct hwg_error err = {0};

	if (getenv("HWSIM_CONTROL") == NULL || getenv("UMOCKDEV_DIR") == NULL ||
	    getenv("PRINT_SPOOL") == NULL) {
		fprintf(stderr, "run by test_printer_usb.sh (needs hwsim and umockdev)\n");
		return 2;
	}
	if ((pdf2_len = minipdf(2, "R6 certificate", pdf2, sizeof(pdf2))) == 0)
		return 1;
	if (hwg_printer_open(&cfg, on_event, NULL, &prn, &err) != 0) {
		fprintf(stderr, "hwg_printer_open: %s\n", err.message);
		return 1;
	}
	HWG_RUN(test_attach_and_list);
	HWG_RUN(test_control_ioctl);
	HWG_RUN(test_two_pages_printed_and_spooled);
	HWG_RUN(test_first_ready_printer);
	HWG_RUN(test_refusals_before_any_io);
	HWG_RUN(test_before_send_refuses);
	HWG_RUN(test_paper_out_before_sending);
	HWG_RUN(test_paper_out_mid_job);
	HWG_RUN(test_jam_at_page_1);
	HWG_RUN(test_jam_at_page_2);
	HWG_RUN(test_offline);
	HWG_RUN(test_door_open);
	HWG_RUN(test_busy);
	HWG_RUN(test_list_while_printing);
	HWG_RUN(test_timeout_unconfirmed);
	HWG_RUN(test_cut_readbacks);
	HWG_RUN(test_vanish_mid_job_and_back);
	HWG_RUN(test_second_printer);
	hwg_printer_close(prn);
	return HWG_TEST_END();
}
