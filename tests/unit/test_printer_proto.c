/*
 * test_printer_proto.c — the certificate printer's protocol code without a
 * printer (drivers/printer): the IEEE 1284 device ID and each way it is
 * refused, the port status byte, the PJL job envelope byte for byte and
 * the job names it refuses, and the read-backs: each message kind, each
 * mapped device code, each refusal, and the accumulator fed a message cut
 * at every byte, two messages in one read, garbage and an endless message.
 */
#include <stdlib.h>
#include <string.h>

#include "hwg_ieee1284.h"
#include "hwg_pjl.h"
#include "hwg_test.h"

/* ---------------------------------------------------------------- device ID */

/* The 2-byte length (of the whole) and the pairs, as GET_DEVICE_ID returns them. */
static size_t
mkid(const char *pairs, size_t n, uint8_t *out)
{
	out[0] = (uint8_t)((n + 2) >> 8);
	out[1] = (uint8_t)(n + 2);
	memcpy(out + 2, pairs, n);
	return n + 2;
}

static int
devid(const char *pairs, struct hwg_ieee1284_id *id)
{
	uint8_t buf[2 * HWG_IEEE1284_ID_MAX];
	size_t n = strlen(pairs);

	return hwg_ieee1284_parse(buf, mkid(pairs, n, buf), id, NULL);
}

/* Refused, with the code and a message, and *id left as it was. */
static void
devid_refused_n(const char *pairs, size_t n)
{
	uint8_t buf[2 * HWG_IEEE1284_ID_MAX];
	struct hwg_ieee1284_id id;
	struct hwg_error err = {0};

	memset(&id, 'x', sizeof(id));
	CHECK_EQ_INT(hwg_ieee1284_parse(buf, mkid(pairs, n, buf), &id, &err), HWG_E_PRINTER_ERROR);
	CHECK_EQ_INT(err.code, HWG_E_PRINTER_ERROR);
	CHECK(strncmp(err.message, "printer device ID: ", 19) == 0);
	CHECK(id.mfg[0] == 'x' && id.sn[HWG_IEEE1284_VALUE_MAX] == 'x');
}

static void
devid_refused(const char *pairs)
{
	devid_refused_n(pairs, strlen(pairs));
}

/* A literal with NUL bytes inside. */
#define DEVID_REFUSED_LIT(s) devid_refused_n(s, sizeof(s) - 1)

static void
test_devid_ok(void)
{
	struct hwg_ieee1284_id id;

	CHECK_EQ_INT(devid("MFG:Kinmoku;MDL:CP-200;CMD:PJL,PDF;CLS:PRINTER;DES:Kinmoku CP-200 "
	                   "certificate printer;SN:KM2000417;",
	                   &id),
	             0);
	CHECK_EQ_STR(id.mfg, "Kinmoku");
	CHECK_EQ_STR(id.mdl, "CP-200");
	CHECK_EQ_STR(id.cmd, "PJL,PDF");
	CHECK_EQ_STR(id.cls, "PRINTER");
	CHECK_EQ_STR(id.des, "Kinmoku CP-200 certificate printer");
	CHECK_EQ_STR(id.sn, "KM2000417");
	CHECK(hwg_ieee1284_pjl_pdf(&id));
	/* long forms, any case, keys the gateway does not read, empty values */
	CHECK_EQ_INT(devid("MANUFACTURER:K;model:M;COMMAND SET: pdf , PCL,Pjl;CID:X_1;DES:;", &id),
	             0);
	CHECK_EQ_STR(id.mfg, "K");
	CHECK_EQ_STR(id.mdl, "M");
	CHECK_EQ_STR(id.des, "");
	CHECK_EQ_STR(id.sn, "");
	CHECK(hwg_ieee1284_pjl_pdf(&id));
	CHECK(hwg_ieee1284_has_command(&id, "PCL"));
	CHECK(!hwg_ieee1284_has_command(&id, "PCLXL"));
	CHECK(!hwg_ieee1284_has_command(&id, ""));
}

static void
test_devid_command_set(void)
{
	struct hwg_ieee1284_id id;

	REQUIRE(devid("MFG:K;MDL:M;CMD:PJL,PCL,POSTSCRIPT;", &id) == 0);
	CHECK(!hwg_ieee1284_pjl_pdf(&id));
	REQUIRE(devid("MFG:K;MDL:M;CMD:PJLX,PDFX,PDF;", &id) == 0);
	CHECK(!hwg_ieee1284_pjl_pdf(&id));
	REQUIRE(devid("MFG:K;MDL:M;", &id) == 0);
	CHECK(!hwg_ieee1284_pjl_pdf(&id));
	REQUIRE(devid("MFG:K;MDL:M;CMD:,,PDF,,PJL,;", &id) == 0);
	CHECK(hwg_ieee1284_pjl_pdf(&id));
}

static void
test_devid_length_field(void)
{
	uint8_t buf[64];
	size_t n = mkid("MFG:K;MDL:M;", 12, buf);
	struct hwg_ieee1284_id id;
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_ieee1284_parse(buf, n, &id, NULL), 0);
	/* the claim one more and one less than what arrived */
	buf[1]++;
	CHECK_EQ_INT(hwg_ieee1284_parse(buf, n, &id, &err), HWG_E_PRINTER_ERROR);
	CHECK(strstr(err.message, "length field 15, but 14 bytes arrived") != NULL);
	buf[1] -= 2;
	CHECK_EQ_INT(hwg_ieee1284_parse(buf, n, &id, NULL), HWG_E_PRINTER_ERROR);
	/* the length without itself, as some printers send it; little-endian */
	buf[1] = 12;
	CHECK_EQ_INT(hwg_ieee1284_parse(buf, n, &id, NULL), HWG_E_PRINTER_ERROR);
	buf[0] = 14;
	buf[1] = 0;
	CHECK_EQ_INT(hwg_ieee1284_parse(buf, n, &id, NULL), HWG_E_PRINTER_ERROR);
	/* cut short: the claim is never trusted past the bytes received */
	buf[0] = 0;
	buf[1] = 14;
	for (size_t i = 0; i < n; i++)
		CHECK_EQ_INT(hwg_ieee1284_parse(buf, i, &id, NULL), HWG_E_PRINTER_ERROR);
	CHECK_EQ_INT(hwg_ieee1284_parse(NULL, 0, &id, NULL), HWG_E_PRINTER_ERROR);
}

static void
test_devid_too_long(void)
{
	static uint8_t buf[HWG_IEEE1284_ID_MAX + 1];
	char pairs[HWG_IEEE1284_ID_MAX];
	struct hwg_ieee1284_id id;

	/* the whole over HWG_IEEE1284_ID_MAX, with a length field that agrees */
	memset(buf, 'A', sizeof(buf));
	buf[0] = (uint8_t)(sizeof(buf) >> 8);
	buf[1] = (uint8_t)sizeof(buf);
	CHECK_EQ_INT(hwg_ieee1284_parse(buf, sizeof(buf), &id, NULL), HWG_E_PRINTER_ERROR);
	/* a value of HWG_IEEE1284_VALUE_MAX bytes is taken, one more is not */
	memcpy(pairs, "MFG:K;MDL:", 10);
	memset(pairs + 10, 'v', HWG_IEEE1284_VALUE_MAX);
	memcpy(pairs + 10 + HWG_IEEE1284_VALUE_MAX, ";", 2);
	CHECK_EQ_INT(devid(pairs, &id), 0);
	CHECK_EQ_INT(strlen(id.mdl), HWG_IEEE1284_VALUE_MAX);
	memset(pairs + 10, 'v', HWG_IEEE1284_VALUE_MAX + 1);
	memcpy(pairs + 11 + HWG_IEEE1284_VALUE_MAX, ";", 2);
	devid_refused(pairs);
	/* a key of HWG_IEEE1284_KEY_MAX bytes is taken, one more is not */
	memcpy(pairs, "MFG:K;MDL:M;", 12);
	memset(pairs + 12, 'K', HWG_IEEE1284_KEY_MAX);
	memcpy(pairs + 12 + HWG_IEEE1284_KEY_MAX, ":v;", 4);
	CHECK_EQ_INT(devid(pairs, &id), 0);
	memset(pairs + 12, 'K', HWG_IEEE1284_KEY_MAX + 1);
	memcpy(pairs + 13 + HWG_IEEE1284_KEY_MAX, ":v;", 4);
	devid_refused(pairs);
}

static void
test_devid_too_many_pairs(void)
{
	char pairs[512] = "MFG:K;MDL:M;";
	struct hwg_ieee1284_id id;
	size_t n = strlen(pairs);

	for (int i = 2; i < HWG_IEEE1284_PAIRS_MAX; i++)
		n += (size_t)snprintf(pairs + n, sizeof(pairs) - n, "K%d:v;", i);
	CHECK_EQ_INT(devid(pairs, &id), 0);
	snprintf(pairs + n, sizeof(pairs) - n, "ONEMORE:v;");
	devid_refused(pairs);
}

static void
test_devid_refusals(void)
{
	devid_refused("");                            /* no MFG, no MDL */
	devid_refused("MDL:M;CMD:PJL,PDF;");          /* no MFG */
	devid_refused("MFG:K;CMD:PJL,PDF;");          /* no MDL */
	devid_refused("MFG:;MDL:M;");                 /* MFG empty */
	devid_refused("MFG:K;MDL:;");                 /* MDL empty */
	devid_refused("MFG:K;MDL:M;MFG:K;");          /* a key twice */
	devid_refused("MFG:K;MDL:M;MANUFACTURER:K;"); /* and its long form */
	devid_refused("MFG:K;MDL:M;mfg:K;");          /* in another case */
	devid_refused("MFG:K;MDL:M;SN:1;SERIALNUMBER:1;");
	devid_refused("MFG:K;MDL:M;CID:a;cid:b;"); /* a key the gateway does not read */
	devid_refused("MFG:K;MDL:M");              /* the last pair not ended */
	devid_refused("MFG:K;MDL:M;CMD;");         /* no ':' */
	devid_refused("MFG:K;MDL:M;:v;");          /* an empty key */
	devid_refused("MFG:K;MDL:M;C.D:v;");       /* a key outside the grammar */
	devid_refused("MFG:K;MDL:M;DES:a:b;");     /* ':' in a value */
	devid_refused("MFG:K;MDL:M; DES:v;");      /* a blank before a key */
	devid_refused("MFG:K;MDL:M;DES :v;");      /* or after it */
	devid_refused("MFG:K; MDL:M;");            /* so " MDL" is no MDL either */
}

static void
test_devid_bytes(void)
{
	DEVID_REFUSED_LIT("MFG:K;MDL:M\0X;");            /* NUL in a value */
	DEVID_REFUSED_LIT("MFG:K\0;MDL:M;");             /* NUL at a value's end */
	DEVID_REFUSED_LIT("M\0G:K;MDL:M;");              /* NUL in a key */
	devid_refused("MFG:K;MDL:M;DES:line\r\nbreak;"); /* control bytes */
	devid_refused("MFG:K;MDL:M;DES:tab\there;");
	devid_refused("MFG:K;MDL:M;DES:del\x7f;");
	devid_refused("MFG:K;MDL:M;DES:caf\xc3\xa9;"); /* past ASCII */
	devid_refused("MFG:K;MDL:M;D\xc3\x89S:v;");
}

/* ---------------------------------------------------------------- port status */

static void
test_port_status(void)
{
	struct hwg_prn_port ps;
	uint8_t b[2] = {0x18, 0};

	CHECK_EQ_INT(hwg_prn_port_parse(b, 1, &ps, NULL), 0);
	CHECK(ps.selected && !ps.error && !ps.paper_empty && hwg_prn_port_ready(&ps));
	b[0] = 0x38; /* paper empty */
	CHECK_EQ_INT(hwg_prn_port_parse(b, 1, &ps, NULL), 0);
	CHECK(ps.paper_empty && ps.selected && !ps.error && !hwg_prn_port_ready(&ps));
	b[0] = 0x08; /* not selected: offline */
	CHECK_EQ_INT(hwg_prn_port_parse(b, 1, &ps, NULL), 0);
	CHECK(!ps.selected && !ps.error && !hwg_prn_port_ready(&ps));
	b[0] = 0x10; /* Not Error clear: an error */
	CHECK_EQ_INT(hwg_prn_port_parse(b, 1, &ps, NULL), 0);
	CHECK(ps.selected && ps.error && !hwg_prn_port_ready(&ps));
	b[0] = 0xC7 | 0x18; /* reserved bits set: ignored */
	CHECK_EQ_INT(hwg_prn_port_parse(b, 1, &ps, NULL), 0);
	CHECK(hwg_prn_port_ready(&ps));
	CHECK_EQ_INT(hwg_prn_port_parse(b, 0, &ps, NULL), HWG_E_PRINTER_ERROR);
	CHECK_EQ_INT(hwg_prn_port_parse(b, 2, &ps, NULL), HWG_E_PRINTER_ERROR);
}

/* ---------------------------------------------------------------- the job */

static void
test_envelope_exact(void)
{
	static const char head[] = "\x1b%-12345X@PJL JOB NAME=\"R6-000123\"\r\n"
	                           "@PJL USTATUS JOB=ON\r\n"
	                           "@PJL USTATUS DEVICE=ON\r\n"
	                           "@PJL ENTER LANGUAGE=PDF\r\n";
	static const char tail[] = "\x1b%-12345X@PJL EOJ NAME=\"R6-000123\"\r\n\x1b%-12345X";
	uint8_t out[HWG_PJL_HEAD_MAX];
	size_t len = 0;

	CHECK_EQ_INT(hwg_pjl_job_head("R6-000123", out, sizeof(out), &len, NULL), 0);
	CHECK_EQ_INT(len, sizeof(head) - 1);
	CHECK(memcmp(out, head, sizeof(head) - 1) == 0);
	CHECK_EQ_INT(hwg_pjl_job_tail("R6-000123", out, sizeof(out), &len, NULL), 0);
	CHECK_EQ_INT(len, sizeof(tail) - 1);
	CHECK(memcmp(out, tail, sizeof(tail) - 1) == 0);
	/* a buffer one byte short */
	len = 7;
	CHECK_EQ_INT(hwg_pjl_job_tail("R6-000123", out, sizeof(tail) - 2, &len, NULL),
	             HWG_E_TOO_LARGE);
	CHECK_EQ_INT(len, 7);
}

static void
test_envelope_longest_name(void)
{
	char name[HWG_PJL_NAME_MAX + 2];
	uint8_t head[HWG_PJL_HEAD_MAX], tail[HWG_PJL_TAIL_MAX];
	size_t len;

	memset(name, '7', HWG_PJL_NAME_MAX);
	name[HWG_PJL_NAME_MAX] = '\0';
	CHECK_EQ_INT(hwg_pjl_job_head(name, head, sizeof(head), &len, NULL), 0);
	CHECK_EQ_INT(hwg_pjl_job_tail(name, tail, sizeof(tail), &len, NULL), 0);
	name[HWG_PJL_NAME_MAX] = '7';
	name[HWG_PJL_NAME_MAX + 1] = '\0';
	CHECK_EQ_INT(hwg_pjl_job_head(name, head, sizeof(head), &len, NULL), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_pjl_job_tail(name, tail, sizeof(tail), &len, NULL), HWG_E_INVALID);
}

static void
test_job_names(void)
{
	static const char *const refused[] = {
	    "",
	    "R6\"000123",
	    "R6-000123\"\r\n@PJL RDYMSG",
	    "R6 000123",
	    "R6\t1",
	    "-R6",
	    ".R6",
	    "R6/1",
	    "R6\x1b%-1",
	    "\xe7\x95\xaa",
	    "R6-0001'3",
	};
	uint8_t out[HWG_PJL_HEAD_MAX];
	struct hwg_error err = {0};
	size_t len;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CHECK_EQ_INT(hwg_pjl_name_check(refused[i], &err), HWG_E_INVALID);
		CHECK_EQ_INT(hwg_pjl_job_head(refused[i], out, sizeof(out), &len, NULL),
		             HWG_E_INVALID);
	}
	CHECK_EQ_INT(hwg_pjl_name_check("R6\"000123", &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "byte 22 at 2") != NULL);
	CHECK_EQ_INT(hwg_pjl_name_check("0", NULL), 0);
	CHECK_EQ_INT(hwg_pjl_name_check("a.b_c-D9", NULL), 0);
}

static void
test_body_check(void)
{
	static const uint8_t pdf[] = "%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n";
	uint8_t bad[64];
	struct hwg_error err = {0};

	CHECK_EQ_INT(hwg_pjl_body_check(pdf, sizeof(pdf) - 1, NULL), 0);
	CHECK_EQ_INT(hwg_pjl_body_check(NULL, 0, NULL), 0);
	memcpy(bad, "%PDF-1.7\n", 9);
	memcpy(bad + 9, HWG_PJL_UEL "@PJL", 13);
	CHECK_EQ_INT(hwg_pjl_body_check(bad, 22, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "byte 9") != NULL);
	/* a UEL cut short at the end is harmless */
	CHECK_EQ_INT(hwg_pjl_body_check(bad, 17, NULL), 0);
}

/* ---------------------------------------------------------------- read-backs */

#define JOB_START "@PJL USTATUS JOB\r\nSTART\r\nNAME=\"R6-000123\"\r\n\f"
#define JOB_END "@PJL USTATUS JOB\r\nEND\r\nNAME=\"R6-000123\"\r\nPAGES=2\r\n\f"
#define DEV_READY "@PJL USTATUS DEVICE\r\nCODE=10001\r\nDISPLAY=\"00 READY\"\r\nONLINE=TRUE\r\n\f"

static int
pjl(const char *s, struct hwg_pjl_msg *m)
{
	return hwg_pjl_parse((const uint8_t *)s, strlen(s), m, NULL);
}

static void
pjl_refused_n(const char *s, size_t n)
{
	struct hwg_pjl_msg m;
	struct hwg_error err = {0};

	memset(&m, 'x', sizeof(m));
	CHECK_EQ_INT(hwg_pjl_parse((const uint8_t *)s, n, &m, &err), HWG_E_PRINTER_ERROR);
	CHECK(strncmp(err.message, "printer PJL read-back: ", 23) == 0);
	CHECK(m.name[0] == 'x');
}

static void
pjl_refused(const char *s)
{
	pjl_refused_n(s, strlen(s));
}

static void
test_job_start_end(void)
{
	struct hwg_pjl_msg m;

	CHECK_EQ_INT(pjl(JOB_START, &m), 0);
	CHECK_EQ_INT(m.kind, HWG_PJL_JOB_START);
	CHECK_EQ_STR(m.name, "R6-000123");
	CHECK_EQ_INT(m.pages, 0);
	CHECK_EQ_INT(hwg_pjl_job_confirmed(&m, "R6-000123", 2, NULL), 0);
	CHECK_EQ_INT(pjl(JOB_END, &m), 0);
	CHECK_EQ_INT(m.kind, HWG_PJL_JOB_END);
	CHECK_EQ_STR(m.name, "R6-000123");
	CHECK_EQ_INT(m.pages, 2);
	CHECK_EQ_INT(hwg_pjl_job_confirmed(&m, "R6-000123", 2, NULL), 1);
	CHECK_EQ_INT(hwg_pjl_job_confirmed(&m, "R6-000124", 2, NULL), 0);
	CHECK_EQ_INT(hwg_pjl_job_confirmed(&m, "R6-00012", 2, NULL), 0);
	CHECK_EQ_INT(hwg_pjl_job_confirmed(&m, "R6-000123", 1, NULL), HWG_E_PRINTER_ERROR);
	/* LF alone, keys in another order, the longest page count */
	CHECK_EQ_INT(pjl("@PJL USTATUS JOB\nEND\nPAGES=99999\nNAME=\"x y\"\n\f", &m), 0);
	CHECK_EQ_INT(m.pages, 99999);
	CHECK_EQ_STR(m.name, "x y");
	CHECK_EQ_INT(pjl("@PJL USTATUS JOB\r\nEND\r\nNAME=\"\"\r\nPAGES=0\r\n\f", &m), 0);
}

static void
test_device_codes(void)
{
	static const struct {
		const char *code;
		enum hwg_pjl_state state;
		unsigned tray;
		const char *name;
	} codes[] = {
	    {"10001", HWG_PJL_ST_READY, 0, "ready"},
	    {"10002", HWG_PJL_ST_OFFLINE, 0, "offline"},
	    {"10023", HWG_PJL_ST_PRINTING, 0, "printing"},
	    {"30016", HWG_PJL_ST_MEMORY_FULL, 0, "memory_full"},
	    {"35078", HWG_PJL_ST_POWERSAVE, 0, "powersave"},
	    {"40021", HWG_PJL_ST_DOOR_OPEN, 0, "door_open"},
	    {"40022", HWG_PJL_ST_PAPER_JAM, 0, "paper_jam"},
	    {"42000", HWG_PJL_ST_PAPER_JAM, 0, "paper_jam"},
	    {"42203", HWG_PJL_ST_PAPER_JAM, 0, "paper_jam"},
	    {"41100", HWG_PJL_ST_PAPER_OUT, 1, "paper_out"},
	    {"41203", HWG_PJL_ST_PAPER_OUT, 2, "paper_out"},
	    {"41000", HWG_PJL_ST_PAPER_OUT, 0, "paper_out"},
	    {"41999", HWG_PJL_ST_PAPER_OUT, 9, "paper_out"},
	    {"10006", HWG_PJL_ST_UNKNOWN, 0, "unknown"},
	    {"40000", HWG_PJL_ST_UNKNOWN, 0, "unknown"},
	    {"43000", HWG_PJL_ST_UNKNOWN, 0, "unknown"},
	    {"44203", HWG_PJL_ST_UNKNOWN, 0, "unknown"},
	    {"50000", HWG_PJL_ST_UNKNOWN, 0, "unknown"},
	    {"99999", HWG_PJL_ST_UNKNOWN, 0, "unknown"},
	};
	char msg[160];
	struct hwg_pjl_msg m;

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		int online = i % 2;

		snprintf(msg, sizeof(msg),
		         "@PJL USTATUS DEVICE\r\nCODE=%s\r\nDISPLAY=\"%s\"\r\nONLINE=%s\r\n\f",
		         codes[i].code, codes[i].name, online ? "TRUE" : "FALSE");
		CHECK_EQ_INT(pjl(msg, &m), 0);
		CHECK_EQ_INT(m.kind, HWG_PJL_DEVICE);
		CHECK_EQ_INT(m.code, strtoul(codes[i].code, NULL, 10));
		CHECK_EQ_INT(m.state, codes[i].state);
		CHECK_EQ_INT(m.tray, codes[i].tray);
		CHECK_EQ_INT(m.online, online);
		CHECK_EQ_STR(m.display, codes[i].name);
		CHECK_EQ_STR(hwg_pjl_state_name(m.state), codes[i].name);
		CHECK_EQ_INT(hwg_pjl_job_confirmed(&m, "R6-000123", 2, NULL), 0);
	}
	CHECK_EQ_STR(hwg_pjl_state_name((enum hwg_pjl_state)99), "unknown");
}

static void
test_device_display(void)
{
	struct hwg_pjl_msg m;

	/* DISPLAY may be left out; a localised one keeps ASCII only */
	CHECK_EQ_INT(pjl("@PJL USTATUS DEVICE\r\nONLINE=FALSE\r\nCODE=40021\r\n\f", &m), 0);
	CHECK_EQ_STR(m.display, "");
	CHECK_EQ_INT(m.state, HWG_PJL_ST_DOOR_OPEN);
	CHECK_EQ_INT(pjl("@PJL USTATUS DEVICE\r\nCODE=41100\r\nDISPLAY=\"\xd6\xb3\xbc "
	                 "1\"\r\nONLINE=FALSE\r\n\f",
	                 &m),
	             0);
	CHECK_EQ_STR(m.display, "??? 1");
	CHECK_EQ_INT(m.tray, 1);
}

static void
test_readback_refusals(void)
{
	pjl_refused("");
	pjl_refused(JOB_START "\f");                                 /* two form feeds */
	pjl_refused("@PJL USTATUS JOB\r\nSTART\r\nNAME=\"R6\"\r\n"); /* no form feed */
	pjl_refused("@PJL USTATUS JOB\r\nSTART\r\nNAME=\"R6\"\f");   /* no LF before it */
	pjl_refused("@PJL USTATUS JOB\r\nSTART\r\n\f");              /* no NAME */
	pjl_refused("@PJL USTATUS JOB\r\nEND\r\nNAME=\"R6\"\r\n\f"); /* END, no PAGES */
	pjl_refused("@PJL USTATUS JOB\r\nSTART\r\nNAME=\"R6\"\r\nPAGES=1\r\n\f"); /* START, PAGES */
	pjl_refused("@PJL USTATUS JOB\r\nNAME=\"R6\"\r\n\f"); /* neither START nor END */
	pjl_refused("@PJL USTATUS JOB\r\nEND\r\nNAME=\"R6\"\r\nNAME=\"R6\"\r\nPAGES=1\r\n\f");
	pjl_refused("@PJL USTATUS JOB\r\nEND\r\nNAME=\"R6\"\r\nPAGES=1\r\nPAGES=1\r\n\f");
	pjl_refused("@PJL USTATUS JOB\r\nEND\r\nNAME=\"R6\"\r\nPAGES=1\r\nRESULT=OK\r\n\f");
	pjl_refused("@PJL USTATUS JOB\r\nEND\r\nNAME=\"R\"6\"\r\nPAGES=1\r\n\f"); /* quote inside */
	pjl_refused("@PJL USTATUS JOB\r\nEND\r\nNAME=R6\r\nPAGES=1\r\n\f");       /* not quoted */
	pjl_refused("@PJL USTATUS JOB\r\nEND\r\nNAME=\"R6\r\nPAGES=1\r\n\f");
	pjl_refused("@PJL USTATUS JOB\r\nEND\r\nNAME=\"\xe7\x95\xaa\"\r\nPAGES=1\r\n\f");
	pjl_refused("@PJL USTATUS JOB\r\nEND\r\nNAME=\"R6\"\r\nPAGES=\r\n\f");
	pjl_refused("@PJL USTATUS JOB\r\nEND\r\nNAME=\"R6\"\r\nPAGES=100000\r\n\f");
	pjl_refused("@PJL USTATUS JOB\r\nEND\r\nNAME=\"R6\"\r\nPAGES=-1\r\n\f");
	pjl_refused("@PJL USTATUS JOB\r\nEND\r\nNAME=\"R6\"\r\nPAGES = 1\r\n\f");
	pjl_refused("@PJL USTATUS PAGE\r\nPAGE=1\r\n\f"); /* a kind we never turn on */
	pjl_refused("@PJL INFO STATUS\r\nCODE=10001\r\nONLINE=TRUE\r\n\f");
	pjl_refused("@PJL USTATUS DEVICE \r\nCODE=10001\r\nONLINE=TRUE\r\n\f");
	pjl_refused("@PJL USTATUS DEVICE\r\nCODE=10001\r\n\f");  /* no ONLINE */
	pjl_refused("@PJL USTATUS DEVICE\r\nONLINE=TRUE\r\n\f"); /* no CODE */
	pjl_refused("@PJL USTATUS DEVICE\r\nCODE=1001\r\nONLINE=TRUE\r\n\f");
	pjl_refused("@PJL USTATUS DEVICE\r\nCODE=01001\r\nONLINE=TRUE\r\n\f");
	pjl_refused("@PJL USTATUS DEVICE\r\nCODE=1000A\r\nONLINE=TRUE\r\n\f");
	pjl_refused("@PJL USTATUS DEVICE\r\nCODE=100010\r\nONLINE=TRUE\r\n\f");
	pjl_refused("@PJL USTATUS DEVICE\r\nCODE=10001\r\nONLINE=true\r\n\f");
	pjl_refused("@PJL USTATUS DEVICE\r\nCODE=10001\r\nONLINE=TRUE\r\nCODE=10001\r\n\f");
	pjl_refused("@PJL USTATUS DEVICE\r\nCODE=10001\r\nDISPLAY=\"a\tb\"\r\nONLINE=TRUE\r\n\f");
	pjl_refused("@PJL USTATUS DEVICE\r\nCODE=10001\rONLINE=TRUE\r\n\f"); /* CR alone */
	pjl_refused("@PJL USTATUS DEVICE\r\nCODE=10001\r\n\r\nONLINE=TRUE\r\n\f");
	{
		static const char nul[] =
		    "@PJL USTATUS DEVICE\r\nCODE=10001\r\nONLINE=TRUE\0\r\n\f";

		pjl_refused_n(nul, sizeof(nul) - 1);
	}
	pjl_refused("\r\n" DEV_READY); /* bytes before the message */
}

static void
test_readback_bounds(void)
{
	char msg[HWG_PJL_MSG_MAX + 64];
	struct hwg_pjl_msg m;
	size_t n;

	/* a NAME of HWG_PJL_STRING_MAX bytes, one more */
	n = (size_t)snprintf(msg, sizeof(msg), "@PJL USTATUS JOB\r\nSTART\r\nNAME=\"%0*d\"\r\n\f",
	                     HWG_PJL_STRING_MAX, 7);
	CHECK_EQ_INT(hwg_pjl_parse((const uint8_t *)msg, n, &m, NULL), 0);
	CHECK_EQ_INT(strlen(m.name), HWG_PJL_STRING_MAX);
	snprintf(msg, sizeof(msg), "@PJL USTATUS JOB\r\nSTART\r\nNAME=\"%0*d\"\r\n\f",
	         HWG_PJL_STRING_MAX + 1, 7);
	pjl_refused(msg);
	/* no message of ours comes near HWG_PJL_MSG_MAX: past it, the size alone refuses */
	memset(msg, 'A', sizeof(msg));
	msg[HWG_PJL_MSG_MAX] = '\f';
	{
		struct hwg_error err = {0};

		CHECK_EQ_INT(hwg_pjl_parse((const uint8_t *)msg, HWG_PJL_MSG_MAX + 1, &m, &err),
		             HWG_E_PRINTER_ERROR);
		CHECK(strstr(err.message, "message of 513 bytes") != NULL);
	}
	pjl_refused_n(msg, HWG_PJL_MSG_MAX + 1);
}

/* ---------------------------------------------------------------- the accumulator */

static void
test_reader_split_everywhere(void)
{
	const char *s = JOB_END;
	size_t n = strlen(s);

	for (size_t cut = 0; cut <= n; cut++) {
		struct hwg_pjl_reader *r = hwg_pjl_reader_new();
		struct hwg_pjl_msg m;

		REQUIRE(r != NULL);
		CHECK_EQ_INT(hwg_pjl_reader_feed(r, (const uint8_t *)s, cut, NULL), 0);
		CHECK_EQ_INT(hwg_pjl_reader_next(r, &m, NULL), cut == n ? 1 : 0);
		CHECK_EQ_INT(hwg_pjl_reader_feed(r, (const uint8_t *)s + cut, n - cut, NULL), 0);
		if (cut < n)
			CHECK_EQ_INT(hwg_pjl_reader_next(r, &m, NULL), 1);
		CHECK_EQ_INT(m.kind, HWG_PJL_JOB_END);
		CHECK_EQ_STR(m.name, "R6-000123");
		CHECK_EQ_INT(m.pages, 2);
		CHECK_EQ_INT(hwg_pjl_reader_next(r, &m, NULL), 0);
		hwg_pjl_reader_free(r);
	}
}

static void
test_reader_byte_by_byte(void)
{
	const char *s = JOB_START DEV_READY JOB_END;
	struct hwg_pjl_reader *r = hwg_pjl_reader_new();
	enum hwg_pjl_kind got[4];
	struct hwg_pjl_msg m;
	int k = 0, rc;

	REQUIRE(r != NULL);
	for (size_t i = 0; s[i] != '\0'; i++) {
		CHECK_EQ_INT(hwg_pjl_reader_feed(r, (const uint8_t *)s + i, 1, NULL), 0);
		while ((rc = hwg_pjl_reader_next(r, &m, NULL)) == 1 && k < 4)
			got[k++] = m.kind;
		CHECK_EQ_INT(rc, 0);
	}
	CHECK_EQ_INT(k, 3);
	CHECK(got[0] == HWG_PJL_JOB_START && got[1] == HWG_PJL_DEVICE && got[2] == HWG_PJL_JOB_END);
	hwg_pjl_reader_free(r);
}

static void
test_reader_two_in_one_read(void)
{
	const char *s = DEV_READY JOB_END;
	struct hwg_pjl_reader *r = hwg_pjl_reader_new();
	struct hwg_pjl_msg m;

	REQUIRE(r != NULL);
	CHECK_EQ_INT(hwg_pjl_reader_feed(r, (const uint8_t *)s, strlen(s), NULL), 0);
	CHECK_EQ_INT(hwg_pjl_reader_next(r, &m, NULL), 1);
	CHECK_EQ_INT(m.kind, HWG_PJL_DEVICE);
	CHECK_EQ_INT(m.state, HWG_PJL_ST_READY);
	CHECK_EQ_INT(m.online, 1);
	CHECK_EQ_STR(m.display, "00 READY");
	CHECK_EQ_INT(hwg_pjl_reader_next(r, &m, NULL), 1);
	CHECK_EQ_INT(hwg_pjl_job_confirmed(&m, "R6-000123", 2, NULL), 1);
	CHECK_EQ_INT(hwg_pjl_reader_next(r, &m, NULL), 0);
	hwg_pjl_reader_free(r);
}

static void
test_reader_bad_then_good(void)
{
	const char *s = "@PJL USTATUS PAGE\r\nPAGE=1\r\n\f" JOB_END;
	struct hwg_pjl_reader *r = hwg_pjl_reader_new();
	struct hwg_pjl_msg m;
	struct hwg_error err = {0};

	REQUIRE(r != NULL);
	CHECK_EQ_INT(hwg_pjl_reader_feed(r, (const uint8_t *)s, strlen(s), NULL), 0);
	CHECK_EQ_INT(hwg_pjl_reader_next(r, &m, &err), HWG_E_PRINTER_ERROR);
	CHECK_EQ_INT(hwg_pjl_reader_next(r, &m, NULL), 1);
	CHECK_EQ_INT(m.kind, HWG_PJL_JOB_END);
	CHECK_EQ_INT(hwg_pjl_reader_next(r, &m, NULL), 0);
	hwg_pjl_reader_free(r);
}

static void
test_reader_endless_message(void)
{
	uint8_t junk[HWG_PJL_FEED_MAX];
	struct hwg_pjl_reader *r = hwg_pjl_reader_new();
	struct hwg_pjl_msg m;
	struct hwg_error err = {0};

	REQUIRE(r != NULL);
	memset(junk, 'A', sizeof(junk));
	/* HWG_PJL_MSG_MAX - 1 bytes may still become a message */
	CHECK_EQ_INT(hwg_pjl_reader_feed(r, junk, HWG_PJL_MSG_MAX - 1, NULL), 0);
	CHECK_EQ_INT(hwg_pjl_reader_next(r, &m, NULL), 0);
	CHECK_EQ_INT(hwg_pjl_reader_feed(r, junk, 1, NULL), 0);
	CHECK_EQ_INT(hwg_pjl_reader_next(r, &m, &err), HWG_E_PRINTER_ERROR);
	CHECK(strstr(err.message, "without a form feed") != NULL);
	/* the rest of it is dropped up to its form feed, said once */
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(hwg_pjl_reader_feed(r, junk, sizeof(junk), NULL), 0);
		CHECK_EQ_INT(hwg_pjl_reader_next(r, &m, NULL), 0);
	}
	CHECK_EQ_INT(
	    hwg_pjl_reader_feed(r, (const uint8_t *)"AAA\f" JOB_START, 4 + strlen(JOB_START), NULL),
	    0);
	CHECK_EQ_INT(hwg_pjl_reader_next(r, &m, NULL), 1);
	CHECK_EQ_INT(m.kind, HWG_PJL_JOB_START);
	CHECK_EQ_INT(hwg_pjl_reader_next(r, &m, NULL), 0);
	hwg_pjl_reader_free(r);
}

static void
test_reader_limits(void)
{
	uint8_t junk[HWG_PJL_FEED_MAX + 1];
	struct hwg_pjl_reader *r = hwg_pjl_reader_new();
	struct hwg_pjl_msg m;

	REQUIRE(r != NULL);
	memset(junk, 'A', sizeof(junk));
	CHECK_EQ_INT(hwg_pjl_reader_feed(r, junk, sizeof(junk), NULL), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_pjl_reader_feed(r, junk, HWG_PJL_FEED_MAX, NULL), 0);
	/* not drained, and more than fits: refused, nothing taken */
	CHECK_EQ_INT(hwg_pjl_reader_feed(r, junk, HWG_PJL_MSG_MAX + 1, NULL), HWG_E_TOO_LARGE);
	CHECK_EQ_INT(hwg_pjl_reader_next(r, &m, NULL), HWG_E_PRINTER_ERROR);
	CHECK_EQ_INT(hwg_pjl_reader_next(r, &m, NULL), 0);
	CHECK_EQ_INT(hwg_pjl_reader_feed(r, junk, HWG_PJL_FEED_MAX, NULL), 0);
	hwg_pjl_reader_free(r);
	hwg_pjl_reader_free(NULL);
}

int
main(void)
{
	HWG_RUN(test_devid_ok);
	HWG_RUN(test_devid_command_set);
	HWG_RUN(test_devid_length_field);
	HWG_RUN(test_devid_too_long);
	HWG_RUN(test_devid_too_many_pairs);
	HWG_RUN(test_devid_refusals);
	HWG_RUN(test_devid_bytes);
	HWG_RUN(test_port_status);
	HWG_RUN(test_envelope_exact);
	HWG_RUN(test_envelope_longest_name);
	HWG_RUN(test_job_names);
	HWG_RUN(test_body_check);
	HWG_RUN(test_job_start_end);
	HWG_RUN(test_device_codes);
	HWG_RUN(test_device_display);
	HWG_RUN(test_readback_refusals);
	HWG_RUN(test_readback_bounds);
	HWG_RUN(test_reader_split_everywhere);
	HWG_RUN(test_reader_byte_by_byte);
	HWG_RUN(test_reader_two_in_one_read);
	HWG_RUN(test_reader_bad_then_good);
	HWG_RUN(test_reader_endless_message);
	HWG_RUN(test_reader_limits);
	return HWG_TEST_END();
}
