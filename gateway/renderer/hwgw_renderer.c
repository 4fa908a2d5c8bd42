/*
 * hwgw_renderer.c — the renderer: the process of hwgwd that runs the
 * layout engines (fontconfig, pango, harfbuzz, cairo, libqrencode), which
 * parse fonts and lay out text the registry sent, away from the store,
 * the keys and the devices.  Started by the privileged process
 * (hwg_renderer.c) with the link on descriptor 3, 0 and 1 on /dev/null,
 * 2 the gateway's log, and nothing else open:
 *
 *   hwgw-renderer [--gaiji-table PATH]
 *
 * It finds the font, reads the glyph table, renders a sample document
 * once (hwg_render_warm), enters its seccomp filter (hwg_rd_sandbox.c)
 * and says READY (or why it cannot start, and exits 1); then it answers
 * one RENDER at a time with the PDF or an error (hwg_rd_proto.h) until
 * the link closes (exit 0).  A request it cannot render gets an error
 * reply and the renderer stays up; a broken frame from the parent ends
 * it (exit 3).  SIGUSR2 makes it try a call its filter forbids (tests:
 * it dies of SIGSYS).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_log.h"
#include "hwg_msg.h"
#include "hwg_rd_proto.h"
#include "hwg_rd_sandbox.h"
#include "hwg_render.h"

#define LINK_FD 3

_Static_assert(HWG_RD_RENDER < 32, "the framing carries types < 32");
_Static_assert(HWG_RD_PDF_MAX + 64 <= HWG_MSG_MAX, "a reply fits the framing");

/* Exit from inside the filter. */
static _Noreturn void
leave(int code)
{
#ifdef HWG_SANITIZE
	/* LeakSanitizer's check at exit stops the world with clone and ptrace: forbidden here */
	_exit(code);
#else
	exit(code);
#endif
}

static void
usage(void)
{
	fprintf(stderr, "usage: hwgw-renderer [--gaiji-table PATH]\n"
	                "  (started by hwgwd with its link on descriptor 3)\n");
	exit(2);
}

/* The probe: a new socket is what the filter kills (async-signal-safe). */
static void
probe(int sig)
{
	(void)sig;
	(void)socket(AF_INET, SOCK_STREAM, 0);
}

static void
signals(void)
{
	struct sigaction sa = {.sa_handler = SIG_IGN};
	sigset_t none;

	/* a mask blocked in the parent's threads survives exec */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	sigemptyset(&sa.sa_mask);
	/* its life is the link's; a terminal's ^C is for hwgwd, which then closes it */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = probe;
	sigaction(SIGUSR2, &sa, NULL);
}

static int
send_ready(int code, const char *msg)
{
	struct hwg_buf *b = hwg_buf_new(HWG_RD_MSG_MAX + 64);
	struct hwg_error err = {0};
	int rc = b != NULL && hwg_rd_ready_encode(code, msg, b) == 0
	             ? hwg_msg_send(LINK_FD, HWG_RD_READY, 0, b, &err)
	             : HWG_E_NOMEM;

	hwg_buf_free(b);
	return rc;
}

/* The reply to one request body: the PDF, or the error (out holds it either way). */
static int
answer(struct hwg_render *r, struct hwg_buf *body, struct hwg_buf *out)
{
	struct hwg_rd_request req;
	struct hwg_render_result res = {0};
	struct hwg_error err = {0};
	int rc;

	rc = hwg_rd_request_decode(hwg_buf_ptr(body), hwg_buf_len(body), &req, &err);
	if (rc == 0) {
		rc = hwg_render_pdf(r, &req, &res, &err);
		hwg_rd_request_clear(&req);
	}
	if (rc == 0)
		rc = hwg_rd_reply_encode_pdf(res.pdf, res.len, res.pages, out);
	else
		rc = hwg_rd_reply_encode_error(rc, err.message, out);
	hwg_render_result_clear(&res);
	return rc;
}

/* 0, or the link is broken (the parent is gone or sent a broken frame). */
static int
serve(struct hwg_render *r, struct hwg_error *err)
{
	struct hwg_buf *body, *out;
	uint32_t id;
	uint8_t type;
	int rc;

	for (;;) {
		if ((rc = hwg_msg_recv(LINK_FD, HWG_MSG_BIT(HWG_RD_RENDER), &type, &id, &body,
		                       err)) == 1)
			return 0; /* the privileged process closed the link */
		if (rc != 0)
			return rc;
		if ((out = hwg_buf_new(HWG_RD_PDF_MAX + 64)) == NULL)
			rc = hwg_error_set(err, HWG_E_NOMEM, "out of memory");
		else if ((rc = answer(r, body, out)) != 0)
			hwg_error_set(err, rc, "cannot encode a reply");
		else
			rc = hwg_msg_send(LINK_FD, HWG_RD_REPLY, id, out, err);
		hwg_buf_free(body); /* wiped: it held names and addresses */
		hwg_buf_free(out);
		if (rc != 0)
			return rc;
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"gaiji-table", required_argument, NULL, 'g'},
	    {NULL, 0, NULL, 0},
	};
	struct hwg_render *r = NULL;
	struct hwg_error err = {0};
	const char *table = NULL;
	struct stat st;
	int c, rc;

	hwg_log_init("hwgw-renderer", HWG_LOG_INFO);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'g')
			usage();
		table = optarg;
	}
	if (optind != argc)
		usage();
	if (fstat(LINK_FD, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "hwgw-renderer: descriptor 3 is not the link to hwgwd\n");
		return 2;
	}
	signals();
	if ((rc = hwg_render_new(table, &r, &err)) != 0 || (rc = hwg_render_warm(r, &err)) != 0 ||
	    (rc = hwg_rd_sandbox_enter(&err)) != 0) {
		send_ready(rc, err.message);
		hwg_render_free(r);
		return 1;
	}
	if (send_ready(0, "") != 0)
		leave(3);
	if ((rc = serve(r, &err)) != 0) {
		hwg_log(HWG_LOG_ERR, "renderer.link", "result=%s msg=\"%s\"", hwg_err_code(rc),
		        err.message);
		leave(3);
	}
	hwg_render_free(r);
	leave(0);
}
