/*
 * test_simprinter.c — the simulated certificate printer's engine
 * (hw-sim/sim_printer.c) driven as the gateway drives a printer: jobs
 * built by the gateway's own hwg_pjl (head, PDF, tail), written whole or
 * cut at every size, read back through the gateway's accumulator on a
 * fake clock.  A job prints at its speed, answers START, END with its
 * pages and the DEVICE states, and leaves its PDF in the spool byte for
 * byte; each fault (paper out now and at a page, a jam at pages 1 and 2,
 * offline, the door, vanishing at a page), SOFT_RESET, unplugging, slow
 * and cut read-backs, a full read-back queue, the same name twice, a
 * spool that cannot be written, another language, the device ID and the
 * port status, and the page count (not /Pages, compressed object
 * streams).
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "hwg_ieee1284.h"
#include "hwg_pjl.h"
#include "hwg_test.h"
#include "minipdf.h"
#include "sim_printer.h"

#define MS 100 /* ms per page in these tests */

static char spool_dir[] = "/tmp/test_simprinter.XXXXXX";
static uint8_t pdf2[8192], pdf1[8192];
static size_t pdf2_len, pdf1_len;

static struct sim_printer *
printer(void)
{
	struct sim_printer_config cfg = {
	    .serial = "KM2000417", .model = "CP-200", .spool_dir = spool_dir, .ms_per_page = MS};
	struct sim_printer *p = NULL;
	struct hwg_error err = {0};

	if (sim_printer_new(&cfg, &p, &err) != 0)
		fprintf(stderr, "  sim_printer_new: %s\n", err.message);
	return p;
}

/* A whole job as the gateway sends it, written in pieces of `piece` bytes (0: at once). */
static int
send_job(struct sim_printer *p, uint64_t now, const char *name, const uint8_t *pdf, size_t len,
         size_t piece)
{
	static uint8_t all[16384];
	size_t head_len, tail_len, n;

	if (hwg_pjl_job_head(name, all, HWG_PJL_HEAD_MAX, &head_len, NULL) != 0 ||
	    head_len + len + HWG_PJL_TAIL_MAX > sizeof(all))
		return -1;
	memcpy(all + head_len, pdf, len);
	if (hwg_pjl_job_tail(name, all + head_len + len, HWG_PJL_TAIL_MAX, &tail_len, NULL) != 0)
		return -1;
	n = head_len + len + tail_len;
	for (size_t at = 0; at<n; at += piece> 0 ? piece : n) {
		size_t k = piece > 0 && n - at > piece ? piece : n - at;

		if (sim_printer_write(p, now, all + at, k) != 0)
			return -1;
	}
	return 0;
}

/* The gateway's status probe, which the printer answers with its state now. */
static void
probe(struct sim_printer *p, uint64_t now)
{
	static const char q[] = HWG_PJL_STATUS_PROBE;

	sim_printer_write(p, now, (const uint8_t *)q, sizeof(q) - 1);
}

/* Every read-back waiting at now, through the gateway's accumulator. */
struct backs {
	struct hwg_pjl_msg m[32];
	size_t n;
	int refused;
};

static void
read_all(struct sim_printer *p, uint64_t now, struct backs *b)
{
	struct hwg_pjl_reader *r = hwg_pjl_reader_new();
	uint8_t buf[HWG_PJL_FEED_MAX];
	size_t len;
	int rc;

	memset(b, 0, sizeof(*b));
	while (r != NULL && sim_printer_read(p, now, buf, sizeof(buf), &len) == 1) {
		hwg_pjl_reader_feed(r, buf, len, NULL);
		while ((rc = hwg_pjl_reader_next(r, &b->m[b->n < 31 ? b->n : 31], NULL)) != 0)
			if (rc == 1 && b->n < 31)
				b->n++;
			else if (rc < 0)
				b->refused++;
	}
	hwg_pjl_reader_free(r);
}

/* The index of the first message of that kind (and name, for JOB), or -1. */
static long
find_job(const struct backs *b, enum hwg_pjl_kind kind, const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->m[i].kind == kind && strcmp(b->m[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* The last DEVICE state read back, or -1 if none. */
static int
last_state(const struct backs *b, unsigned *code)
{
	for (size_t i = b->n; i-- > 0;)
		if (b->m[i].kind == HWG_PJL_DEVICE) {
			if (code != NULL)
				*code = b->m[i].code;
			return (int)b->m[i].state;
		}
	return -1;
}

static int
end_pages(const struct backs *b, const char *name)
{
	long i = find_job(b, HWG_PJL_JOB_END, name);

	return i < 0 ? -1 : (int)b->m[i].pages;
}

/* The spooled file's bytes equal want. */
static int
spooled_equal(const char *file, const uint8_t *want, size_t len)
{
	static uint8_t got[16384];
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", spool_dir, file);
	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	n = fread(got, 1, sizeof(got), f);
	fclose(f);
	return n == len && memcmp(got, want, len) == 0;
}

static int
spooled(const char *file)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", spool_dir, file);
	return access(path, F_OK) == 0;
}

/* The newest job in the log. */
static struct sim_printer_job
last_job(struct sim_printer *p)
{
	struct sim_printer_job all[SIM_PRINTER_JOBS_KEPT], none = {0};
	size_t n = sim_printer_jobs(p, all, SIM_PRINTER_JOBS_KEPT);

	return n > 0 ? all[n - 1] : none;
}

/* ---------------------------------------------------------------- tests */

static void
test_device_id_and_port(void)
{
	struct sim_printer *p = printer();
	struct hwg_ieee1284_id id;
	struct hwg_prn_port ps;
	struct hwg_error err = {0};
	uint8_t buf[HWG_IEEE1284_ID_MAX];
	size_t n;

	REQUIRE(p != NULL);
	n = sim_printer_device_id(p, buf, sizeof(buf));
	CHECK_EQ_INT(hwg_ieee1284_parse(buf, n, &id, &err), 0);
	CHECK_EQ_STR(id.mfg, "hwsim");
	CHECK_EQ_STR(id.mdl, "CP-200");
	CHECK_EQ_STR(id.sn, "KM2000417");
	CHECK(hwg_ieee1284_pjl_pdf(&id));
	/* a short wLength cuts the ID, and its length field no longer agrees */
	n = sim_printer_device_id(p, buf, 20);
	CHECK_EQ_INT(n, 20);
	CHECK_EQ_INT(hwg_ieee1284_parse(buf, n, &id, &err), HWG_E_PRINTER_ERROR);
	buf[0] = sim_printer_port_status(p, 0);
	CHECK_EQ_INT(buf[0], HWG_PRN_PORT_SELECTED | HWG_PRN_PORT_NOT_ERROR);
	CHECK_EQ_INT(hwg_prn_port_parse(buf, 1, &ps, &err), 0);
	CHECK(hwg_prn_port_ready(&ps));
	CHECK_EQ_STR(sim_printer_state(p), "ready");
	sim_printer_free(p);
}

static void
test_bad_config(void)
{
	struct sim_printer_config cfg = {.serial = "a/b"};
	struct sim_printer *p = NULL;
	struct hwg_error err = {0};

	CHECK_EQ_INT(sim_printer_new(&cfg, &p, &err), HWG_E_INVALID);
	cfg.serial = "KM1";
	cfg.model = "CP;200";
	CHECK_EQ_INT(sim_printer_new(&cfg, &p, &err), HWG_E_INVALID);
	CHECK(p == NULL);
}

static void
test_page_count(void)
{
	static const char cases[] = "/Type /Pages /Kids [] /Type/Page /Type\n/Page>> /Type /Page/X "
	                            "/Type /PageLabel /Type /Page";
	uint8_t plain[256], z[512];
	uLongf zlen = sizeof(z);
	char objstm[1024];
	int n;

	CHECK_EQ_INT(sim_printer_count_pages((const uint8_t *)cases, strlen(cases)), 4);
	CHECK_EQ_INT(sim_printer_count_pages(pdf2, pdf2_len), 2);
	CHECK_EQ_INT(sim_printer_count_pages(pdf1, pdf1_len), 1);
	/* page objects inside a compressed object stream, as PDF 1.5 writers make them */
	n = snprintf((char *)plain, sizeof(plain),
	             "4 0 6 40 << /Type /Page /Parent 2 0 R >> << /Type /Page /Parent 2 0 R >>");
	REQUIRE(compress(z, &zlen, plain, (uLong)n) == Z_OK);
	n = snprintf(objstm, sizeof(objstm),
	             "%%PDF-1.5\n2 0 obj\n<< /Type /Pages /Count 2 >>\nendobj\n"
	             "9 0 obj\n<< /Type /ObjStm /N 2 /First 8 /Filter /FlateDecode /Length %lu >>\n"
	             "stream\n",
	             (unsigned long)zlen);
	memcpy(objstm + n, z, zlen);
	n += (int)zlen;
	n += snprintf(objstm + n, sizeof(objstm) - (size_t)n, "\nendstream\nendobj\n%%%%EOF\n");
	CHECK_EQ_INT(sim_printer_count_pages((const uint8_t *)objstm, (size_t)n), 2);
}

/* A 2-page job: START, DEVICE printing, nothing more until the second sheet is out. */
static void
check_two_pages(size_t piece)
{
	struct sim_printer *p = printer();
	struct backs b;
	char name[32];
	unsigned code = 0;

	REQUIRE(p != NULL);
	snprintf(name, sizeof(name), "R6-%zu", piece);
	CHECK_EQ_INT(send_job(p, 1000, name, pdf2, pdf2_len, piece), 0);
	read_all(p, 1000, &b);
	CHECK(find_job(&b, HWG_PJL_JOB_START, name) >= 0);
	CHECK_EQ_INT(last_state(&b, &code), HWG_PJL_ST_PRINTING);
	CHECK_EQ_INT(b.refused, 0);
	CHECK_EQ_STR(sim_printer_state(p), "printing");
	read_all(p, 1000 + 2 * MS - 1, &b);
	CHECK_EQ_INT(b.n, 0); /* the second sheet is not out yet */
	read_all(p, 1000 + 2 * MS, &b);
	CHECK_EQ_INT(end_pages(&b, name), 2);
	CHECK_EQ_INT(last_state(&b, &code), HWG_PJL_ST_READY);
	CHECK_EQ_INT(code, 10001);
	snprintf(name + strlen(name), sizeof(name) - strlen(name), ".pdf");
	CHECK(spooled_equal(name, pdf2, pdf2_len));
	CHECK_EQ_INT(last_job(p).outcome, SIM_PRN_PRINTED);
	CHECK_EQ_INT(last_job(p).out, 2);
	CHECK_EQ_STR(last_job(p).spooled, name);
	sim_printer_free(p);
}

static void
test_job_printed_and_spooled(void)
{
	check_two_pages(0);
}

/* The PJL and the PDF's end (the UEL) cut across writes at every size. */
static void
test_job_cut_anywhere(void)
{
	for (size_t piece = 1; piece <= 13; piece++)
		check_two_pages(piece);
	check_two_pages(4095);
}

static void
test_paper_out_before(void)
{
	struct sim_printer *p = printer();
	struct hwg_prn_port ps;
	struct backs b;
	uint8_t st;

	REQUIRE(p != NULL);
	sim_printer_set_paper_out(p, 0, 1);
	st = sim_printer_port_status(p, 0);
	hwg_prn_port_parse(&st, 1, &ps, NULL);
	CHECK(ps.paper_empty && !ps.selected && !ps.error);
	probe(p, 0);
	read_all(p, 0, &b);
	CHECK_EQ_INT(b.n, 1);
	CHECK_EQ_INT(b.m[0].state, HWG_PJL_ST_PAPER_OUT);
	CHECK_EQ_INT(b.m[0].tray, 1);
	CHECK_EQ_INT(b.m[0].online, 0);
	CHECK_EQ_STR(sim_printer_state(p), "paper_out");
	sim_printer_set_paper_out(p, 10, 0);
	read_all(p, 10, &b);
	CHECK_EQ_INT(last_state(&b, NULL), HWG_PJL_ST_READY);
	CHECK_EQ_INT(sim_printer_port_status(p, 10), 0x18);
	sim_printer_free(p);
}

/* Out of paper when page 2 is due: held, then resumed when paper is loaded. */
static void
test_paper_out_at_page(void)
{
	struct sim_printer *p = printer();
	struct backs b;

	REQUIRE(p != NULL);
	sim_printer_paper_out_at(p, 2);
	CHECK_EQ_INT(send_job(p, 0, "R6-paper", pdf2, pdf2_len, 0), 0);
	read_all(p, MS, &b);
	CHECK_EQ_INT(last_state(&b, NULL), HWG_PJL_ST_PAPER_OUT);
	CHECK(sim_printer_port_status(p, MS) & HWG_PRN_PORT_PAPER_EMPTY);
	read_all(p, 10 * MS, &b);
	CHECK_EQ_INT(b.n, 0); /* held: no END */
	sim_printer_set_paper_out(p, 10 * MS, 0);
	read_all(p, 11 * MS, &b);
	CHECK_EQ_INT(end_pages(&b, "R6-paper"), 2);
	CHECK(spooled_equal("R6-paper.pdf", pdf2, pdf2_len));
	sim_printer_free(p);
}

/* Jam at page n: sheets before it out, DEVICE jam, held; SOFT_RESET drops the job. */
static void
check_jam(unsigned page)
{
	struct sim_printer *p = printer();
	struct hwg_prn_port ps;
	struct backs b;
	char name[32], disp[40];
	unsigned code = 0;
	uint8_t st;

	REQUIRE(p != NULL);
	snprintf(name, sizeof(name), "R6-jam%u", page);
	sim_printer_jam_at(p, page);
	CHECK_EQ_INT(send_job(p, 0, name, pdf2, pdf2_len, 0), 0);
	read_all(p, (page - 1) * MS, &b);
	CHECK_EQ_INT(last_state(&b, &code), HWG_PJL_ST_PAPER_JAM);
	CHECK_EQ_INT(code / 1000, 42);
	snprintf(disp, sizeof(disp), "PAGE %u", page);
	CHECK(b.n > 0 && strstr(b.m[b.n - 1].display, disp) != NULL);
	CHECK_EQ_INT(end_pages(&b, name), -1);
	st = sim_printer_port_status(p, page * MS);
	hwg_prn_port_parse(&st, 1, &ps, NULL);
	CHECK(ps.error && !ps.selected);
	sim_printer_soft_reset(p, 5 * MS);
	CHECK_EQ_INT(last_job(p).outcome, SIM_PRN_RESET);
	CHECK_EQ_INT(last_job(p).out, page - 1);
	CHECK_EQ_STR(sim_printer_state(p), "jammed"); /* the paper is still in there */
	snprintf(name + strlen(name), sizeof(name) - strlen(name), ".pdf");
	CHECK(!spooled(name));
	sim_printer_clear_jam(p, 6 * MS);
	CHECK_EQ_STR(sim_printer_state(p), "ready");
	read_all(p, 20 * MS, &b);
	CHECK_EQ_INT(last_state(&b, NULL), HWG_PJL_ST_READY);
	sim_printer_free(p);
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

/* A jam cleared without a reset: the jammed page again, then END. */
static void
test_jam_cleared_resumes(void)
{
	struct sim_printer *p = printer();
	struct backs b;

	REQUIRE(p != NULL);
	sim_printer_jam_at(p, 2);
	CHECK_EQ_INT(send_job(p, 0, "R6-resume", pdf2, pdf2_len, 0), 0);
	read_all(p, 5 * MS, &b);
	CHECK_EQ_INT(end_pages(&b, "R6-resume"), -1);
	sim_printer_clear_jam(p, 5 * MS);
	read_all(p, 6 * MS - 1, &b);
	CHECK_EQ_INT(end_pages(&b, "R6-resume"), -1);
	read_all(p, 6 * MS, &b);
	CHECK_EQ_INT(end_pages(&b, "R6-resume"), 2);
	sim_printer_free(p);
}

/* Offline mid-sheet: held with the rest of that sheet's time, which it keeps. */
static void
test_offline_mid_job(void)
{
	struct sim_printer *p = printer();
	struct backs b;
	unsigned code = 0;

	REQUIRE(p != NULL);
	CHECK_EQ_INT(send_job(p, 0, "R6-off", pdf2, pdf2_len, 0), 0);
	sim_printer_set_offline(p, MS + MS / 2, 1);
	read_all(p, MS + MS / 2, &b);
	CHECK_EQ_INT(last_state(&b, &code), HWG_PJL_ST_OFFLINE);
	CHECK_EQ_INT(code, 10002);
	CHECK_EQ_INT(sim_printer_port_status(p, MS + MS / 2), HWG_PRN_PORT_NOT_ERROR);
	read_all(p, 50 * MS, &b);
	CHECK_EQ_INT(b.n, 0);
	sim_printer_set_offline(p, 50 * MS, 0);
	read_all(p, 50 * MS + MS / 2 - 1, &b);
	CHECK_EQ_INT(end_pages(&b, "R6-off"), -1);
	read_all(p, 50 * MS + MS / 2, &b);
	CHECK_EQ_INT(end_pages(&b, "R6-off"), 2);
	sim_printer_free(p);
}

static void
test_door_open(void)
{
	struct sim_printer *p = printer();
	struct hwg_prn_port ps;
	struct backs b;
	unsigned code = 0;
	uint8_t st;

	REQUIRE(p != NULL);
	sim_printer_set_door_open(p, 0, 1);
	st = sim_printer_port_status(p, 0);
	hwg_prn_port_parse(&st, 1, &ps, NULL);
	CHECK(ps.error && !ps.selected && !ps.paper_empty);
	probe(p, 0);
	read_all(p, 0, &b);
	CHECK_EQ_INT(last_state(&b, &code), HWG_PJL_ST_DOOR_OPEN);
	CHECK_EQ_INT(code, 40021);
	CHECK_EQ_STR(b.m[0].display, "12 PRINTER OPEN");
	/* a job sent anyway waits for the door */
	CHECK_EQ_INT(send_job(p, 0, "R6-door", pdf1, pdf1_len, 0), 0);
	read_all(p, 10 * MS, &b);
	CHECK_EQ_INT(end_pages(&b, "R6-door"), -1);
	sim_printer_set_door_open(p, 10 * MS, 0);
	read_all(p, 11 * MS, &b);
	CHECK_EQ_INT(end_pages(&b, "R6-door"), 1);
	sim_printer_free(p);
}

/* Vanish at page 2: tick says so when it is due; unplugged, the job is lost. */
static void
test_vanish_and_back(void)
{
	struct sim_printer *p = printer();
	uint8_t buf[64];
	size_t len;
	struct backs b;

	REQUIRE(p != NULL);
	sim_printer_vanish_at(p, 2);
	CHECK_EQ_INT(send_job(p, 0, "R6-gone", pdf2, pdf2_len, 0), 0);
	CHECK_EQ_INT(sim_printer_tick(p, MS - 1), 0);
	CHECK_EQ_INT(sim_printer_tick(p, MS), 1);
	sim_printer_unplug(p, MS);
	CHECK_EQ_INT(last_job(p).outcome, SIM_PRN_REMOVED);
	CHECK_EQ_INT(last_job(p).out, 1);
	CHECK(!spooled("R6-gone.pdf"));
	CHECK_EQ_INT(sim_printer_read(p, MS, buf, sizeof(buf), &len), HWG_E_PRINTER_REMOVED);
	CHECK_EQ_INT(sim_printer_write(p, MS, buf, 1), HWG_E_PRINTER_REMOVED);
	CHECK_EQ_STR(sim_printer_state(p), "removed");
	sim_printer_plug(p);
	/* freshly powered: nothing unsolicited until USTATUS is turned on again */
	CHECK_EQ_INT(sim_printer_read(p, 2 * MS, buf, sizeof(buf), &len), 0);
	CHECK_EQ_INT(send_job(p, 3 * MS, "R6-back", pdf1, pdf1_len, 0), 0);
	read_all(p, 4 * MS, &b);
	CHECK_EQ_INT(end_pages(&b, "R6-back"), 1);
	sim_printer_free(p);
}

/* Slow printing and a reset before the END: nothing spooled, the log says reset. */
static void
test_slow_then_reset(void)
{
	struct sim_printer *p = printer();
	uint64_t at = 0;
	struct backs b;

	REQUIRE(p != NULL);
	sim_printer_set_speed(p, 60000);
	CHECK_EQ_INT(send_job(p, 0, "R6-slow", pdf2, pdf2_len, 0), 0);
	CHECK(sim_printer_next_event(p, &at) && at == 60000);
	read_all(p, 59999, &b);
	CHECK_EQ_INT(end_pages(&b, "R6-slow"), -1);
	sim_printer_soft_reset(p, 59999);
	CHECK_EQ_INT(last_job(p).outcome, SIM_PRN_RESET);
	CHECK_EQ_INT(last_job(p).out, 0);
	CHECK(!sim_printer_next_event(p, &at));
	read_all(p, 200000, &b);
	CHECK_EQ_INT(end_pages(&b, "R6-slow"), -1);
	CHECK(!spooled("R6-slow.pdf"));
	/* speed 0: every sheet at once */
	sim_printer_set_speed(p, 0);
	CHECK_EQ_INT(send_job(p, 200000, "R6-fast", pdf2, pdf2_len, 0), 0);
	read_all(p, 200000, &b);
	CHECK_EQ_INT(end_pages(&b, "R6-fast"), 2);
	sim_printer_free(p);
}

/* Read-backs handed out a few bytes at a time read the same through the accumulator. */
static void
test_chunked_readbacks(void)
{
	struct sim_printer *p = printer();
	struct backs b;

	REQUIRE(p != NULL);
	sim_printer_set_chunk(p, 5);
	CHECK_EQ_INT(send_job(p, 0, "R6-chunk", pdf1, pdf1_len, 0), 0);
	read_all(p, MS, &b);
	CHECK(find_job(&b, HWG_PJL_JOB_START, "R6-chunk") >= 0);
	CHECK_EQ_INT(end_pages(&b, "R6-chunk"), 1);
	CHECK_EQ_INT(b.refused, 0);
	sim_printer_free(p);
}

/* Nobody reads: the queue keeps the newest messages, whole, and stays bounded. */
static void
test_readback_queue_bounded(void)
{
	struct sim_printer *p = printer();
	uint8_t buf[5];
	size_t len = 0;
	struct backs b;

	REQUIRE(p != NULL);
	for (int i = 0; i < 200; i++)
		probe(p, 0);
	/* half a message read, then more arrive: the half-read one is not dropped */
	sim_printer_set_chunk(p, sizeof(buf));
	CHECK_EQ_INT(sim_printer_read(p, 0, buf, sizeof(buf), &len), 1);
	for (int i = 0; i < 50; i++)
		probe(p, 0);
	sim_printer_set_chunk(p, 0);
	{
		struct hwg_pjl_reader *r = hwg_pjl_reader_new();
		uint8_t big[HWG_PJL_FEED_MAX];
		struct hwg_pjl_msg m;
		size_t got, total = len, msgs = 0;
		int rc, refused = 0;

		REQUIRE(r != NULL);
		hwg_pjl_reader_feed(r, buf, len, NULL);
		while (sim_printer_read(p, 0, big, sizeof(big), &got) == 1) {
			total += got;
			hwg_pjl_reader_feed(r, big, got, NULL);
			while ((rc = hwg_pjl_reader_next(r, &m, NULL)) != 0)
				if (rc == 1)
					msgs++;
				else
					refused++;
		}
		hwg_pjl_reader_free(r);
		CHECK(total <= SIM_PRINTER_READBACK_MAX + sizeof(buf));
		CHECK(msgs > 50);
		CHECK_EQ_INT(refused, 0);
	}
	read_all(p, 0, &b);
	CHECK_EQ_INT(b.n, 0);
	sim_printer_free(p);
}

/* The same name twice: two files, the second marked, never one overwritten. */
static void
test_same_name_twice(void)
{
	struct sim_printer *p = printer();
	struct backs b;

	REQUIRE(p != NULL);
	CHECK_EQ_INT(send_job(p, 0, "R6-twice", pdf2, pdf2_len, 0), 0);
	CHECK_EQ_INT(send_job(p, 0, "R6-twice", pdf1, pdf1_len, 0), 0);
	read_all(p, 3 * MS, &b);
	CHECK_EQ_INT(end_pages(&b, "R6-twice"), 2);
	CHECK(spooled_equal("R6-twice.pdf", pdf2, pdf2_len));
	CHECK(spooled_equal("R6-twice+2.pdf", pdf1, pdf1_len));
	CHECK_EQ_STR(last_job(p).spooled, "R6-twice+2.pdf");
	sim_printer_free(p);
}

static void
test_spool_error(void)
{
	struct sim_printer_config cfg = {
	    .serial = "KM9", .spool_dir = "/nonexistent/spool", .ms_per_page = MS};
	struct sim_printer *p = NULL;
	struct backs b;
	char e[256];

	REQUIRE(sim_printer_new(&cfg, &p, NULL) == 0);
	CHECK_EQ_INT(send_job(p, 0, "R6-nospool", pdf1, pdf1_len, 0), 0);
	read_all(p, MS, &b);
	CHECK_EQ_INT(end_pages(&b, "R6-nospool"), 1); /* the sheet came out all the same */
	sim_printer_spool_error(p, e, sizeof(e));
	CHECK(strstr(e, "R6-nospool") != NULL && strstr(e, "/nonexistent/spool") != NULL);
	CHECK_EQ_STR(last_job(p).spooled, "");
	sim_printer_free(p);
}

/* Another language is skipped up to the UEL; a PDF job after it prints. */
static void
test_other_language_skipped(void)
{
	static const char pcl[] =
	    HWG_PJL_UEL "@PJL JOB NAME=\"pcl\"\r\n@PJL ENTER LANGUAGE=PCL\r\n"
	                "\x1b"
	                "E/Type /Page junk" HWG_PJL_UEL "@PJL EOJ\r\n" HWG_PJL_UEL;
	struct sim_printer *p = printer();
	struct sim_printer_job none[4];
	struct backs b;

	REQUIRE(p != NULL);
	/* cut before its UEL and reset there: nothing to log either */
	CHECK_EQ_INT(sim_printer_write(p, 0, (const uint8_t *)pcl, 60), 0);
	CHECK_EQ_STR(sim_printer_state(p), "ready");
	sim_printer_soft_reset(p, 0);
	CHECK_EQ_INT(sim_printer_jobs(p, none, 4), 0);
	CHECK_EQ_INT(sim_printer_write(p, 0, (const uint8_t *)pcl, sizeof(pcl) - 1), 0);
	CHECK_EQ_INT(send_job(p, 0, "R6-after", pdf1, pdf1_len, 0), 0);
	read_all(p, MS, &b);
	CHECK_EQ_INT(end_pages(&b, "R6-after"), 1);
	CHECK_EQ_INT(last_job(p).outcome, SIM_PRN_PRINTED);
	CHECK_EQ_STR(last_job(p).name, "R6-after");
	CHECK(!spooled("pcl.pdf"));
	sim_printer_free(p);
}

/* USTATUS off: the job prints, nothing is read back. */
static void
test_ustatus_off(void)
{
	static const char off[] =
	    HWG_PJL_UEL "@PJL USTATUS JOB=OFF\r\n@PJL USTATUS DEVICE=OFF\r\n"
	                "@PJL JOB NAME=\"quiet\"\r\n@PJL ENTER LANGUAGE=PDF\r\n";
	struct sim_printer *p = printer();
	uint8_t buf[64];
	size_t len;

	REQUIRE(p != NULL);
	CHECK_EQ_INT(sim_printer_write(p, 0, (const uint8_t *)off, sizeof(off) - 1), 0);
	CHECK_EQ_INT(sim_printer_write(p, 0, pdf1, pdf1_len), 0);
	CHECK_EQ_INT(sim_printer_write(p, 0, (const uint8_t *)HWG_PJL_UEL, HWG_PJL_UEL_LEN), 0);
	CHECK_EQ_INT(sim_printer_read(p, MS, buf, sizeof(buf), &len), 0);
	CHECK_EQ_INT(last_job(p).outcome, SIM_PRN_PRINTED);
	CHECK(spooled_equal("quiet.pdf", pdf1, pdf1_len));
	sim_printer_free(p);
}

static void
remove_spool(void)
{
	DIR *d = opendir(spool_dir);
	struct dirent *e;
	char path[600];

	while (d != NULL && (e = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", spool_dir, e->d_name);
		if (e->d_name[0] != '.' || strncmp(e->d_name, ".spool-", 7) == 0)
			unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(spool_dir);
}

int
main(void)
{
	if (mkdtemp(spool_dir) == NULL)
		return 1;
	pdf2_len = minipdf(2, "R6-000123", pdf2, sizeof(pdf2));
	pdf1_len = minipdf(1, "R6-000124", pdf1, sizeof(pdf1));
	if (pdf2_len == 0 || pdf1_len == 0)
		return 1;
	HWG_RUN(test_device_id_and_port);
	HWG_RUN(test_bad_config);
	HWG_RUN(test_page_count);
	HWG_RUN(test_job_printed_and_spooled);
	HWG_RUN(test_job_cut_anywhere);
	HWG_RUN(test_paper_out_before);
	HWG_RUN(test_paper_out_at_page);
	HWG_RUN(test_jam_at_page_1);
	HWG_RUN(test_jam_at_page_2);
	HWG_RUN(test_jam_cleared_resumes);
	HWG_RUN(test_offline_mid_job);
	HWG_RUN(test_door_open);
	HWG_RUN(test_vanish_and_back);
	HWG_RUN(test_slow_then_reset);
	HWG_RUN(test_chunked_readbacks);
	HWG_RUN(test_readback_queue_bounded);
	HWG_RUN(test_same_name_twice);
	HWG_RUN(test_spool_error);
	HWG_RUN(test_other_language_skipped);
	HWG_RUN(test_ustatus_off);
	remove_spool();
	return HWG_TEST_END();
}
