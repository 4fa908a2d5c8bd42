/*
 * step_status.c — what became of the certificate asked for at this
 * counter (after a lost connection, a restarted gateway, a printer that
 * stopped), and a supervisor's decision on one held unconfirmed: the
 * supervisor's palm opens a session held only in memory for cert.resolve
 * and closed at once (operator.logout).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "counter_issue.h"
#include "hwg_cbor.h"
#include "hwg_secret.h"
#include "hwgw.h"

int
ctr_step_status(struct ctr *c, int argc, char **argv)
{
	struct ctr_pending p;
	struct hwg_error err = {0};
	int rc;

	(void)argc;
	(void)argv;
	rc = ctr_pending_load(c, &p, &err);
	if (rc == HWG_E_NOT_FOUND) {
		ctr_say(c, "no certificate is in flight at this counter");
		ctr_set(c, "state", json_string("none"));
		return 0;
	}
	if (rc != 0)
		return ctr_error(c, "state directory", &err, "call the supervisor");
	ctr_progress(c, "certificate request %s (%s for %s)%s%s", p.request_id, p.kind, p.subject,
	             p.issuance_no[0] ? ": issuance " : "", p.issuance_no);
	return ctr_issue_resolve(c, &p);
}

struct supervise_opts {
	const char *supervisor, *outcome, *note, *issuance_no;
};

static int
parse(int argc, char **argv, struct supervise_opts *o)
{
	static const struct option opts[] = {{"supervisor", required_argument, NULL, 's'},
	                                     {"outcome", required_argument, NULL, 'o'},
	                                     {"note", required_argument, NULL, 'n'},
	                                     {NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 's')
			o->supervisor = optarg;
		else if (ch == 'o')
			o->outcome = optarg;
		else if (ch == 'n')
			o->note = optarg;
		else
			return -1;
	}
	if (optind < argc)
		o->issuance_no = argv[optind++];
	if (optind != argc || o->supervisor == NULL || o->outcome == NULL ||
	    (strcmp(o->outcome, "printed") != 0 && strcmp(o->outcome, "not_printed") != 0))
		return -1;
	return 0;
}

/* operator.verify for the supervisor: the token into tok (memory only). */
static int
supervisor_session(struct ctr *c, const char *id, uint8_t *tok, size_t *len)
{
	struct hwg_error err = {0};
	struct ctr_answer a = {0};
	cbor_item_t *args = cbor_new_definite_map(2);
	struct ctr_call call = {.op = "operator.verify", .args = args};
	const uint8_t *t;
	int rc = 0;

	if (args == NULL || hwg_cbor_map_put_text(args, "terminal", c->conf.terminal) != 0 ||
	    hwg_cbor_map_put_text(args, "operator_id", id) != 0)
		return CTR_EXIT_ERROR;
	ctr_progress(c, "supervisor %s: hold your palm over palm terminal %s", id,
	             c->conf.terminal);
	if (ctr_gw_call(c, &call, &a, &err) != 0)
		rc = ctr_gw_unreachable(c, "operator.verify", &err);
	else if (a.result == NULL)
		rc = ctr_gw_refused(c, "operator.verify", &a);
	else if (hwg_cbor_bytes(hwg_cbor_map_get(a.result, "session", NULL), &t, len) != 0 ||
	         *len > HWGW_SESSION_MAX)
		rc = CTR_EXIT_ERROR;
	else
		memcpy(tok, t, *len);
	ctr_answer_clear(&a);
	cbor_decref(&args);
	return rc;
}

static int
resolve(struct ctr *c, struct ctr_pending *p, const struct supervise_opts *o, const uint8_t *tok,
        size_t len)
{
	struct hwg_error err = {0};
	struct ctr_answer a = {0};
	cbor_item_t *args = cbor_new_definite_map(3);
	struct ctr_call call = {
	    .op = "cert.resolve", .args = args, .session = tok, .session_len = len};
	int rc;

	if (args == NULL || hwg_cbor_map_put_text(args, "issuance_no", p->issuance_no) != 0 ||
	    hwg_cbor_map_put_text(args, "outcome", o->outcome) != 0 ||
	    (o->note != NULL && hwg_cbor_map_put_text(args, "note", o->note) != 0))
		return CTR_EXIT_ERROR;
	if (ctr_gw_call(c, &call, &a, &err) != 0)
		rc = ctr_gw_unreachable(c, "cert.resolve", &err);
	else if (a.result == NULL)
		rc = ctr_gw_refused(c, "cert.resolve", &a);
	else
		rc = ctr_issue_outcome(c, p, a.result);
	ctr_answer_clear(&a);
	cbor_decref(&args);
	return rc;
}

static void
supervisor_logout(struct ctr *c, const uint8_t *tok, size_t len)
{
	struct hwg_error err = {0};
	struct ctr_answer a = {0};
	struct ctr_call call = {.op = "operator.logout", .session = tok, .session_len = len};

	if (ctr_gw_call(c, &call, &a, &err) == 0 && a.result != NULL)
		ctr_progress(c, "the supervisor's session has ended");
	ctr_answer_clear(&a);
}

int
ctr_step_supervise(struct ctr *c, int argc, char **argv)
{
	struct supervise_opts o = {0};
	struct ctr_pending p;
	struct hwg_error err = {0};
	uint8_t tok[HWGW_SESSION_MAX];
	size_t len = 0;
	int rc;

	if (parse(argc, argv, &o) != 0) {
		fprintf(stderr, "usage: hwgw-counter supervise [ISSUANCE_NO] --supervisor ID "
		                "--outcome printed|not_printed [--note TEXT]\n");
		return CTR_EXIT_ERROR;
	}
	if (ctr_pending_load(c, &p, &err) != 0)
		memset(&p, 0, sizeof(p));
	if (o.issuance_no != NULL)
		snprintf(p.issuance_no, sizeof(p.issuance_no), "%s", o.issuance_no);
	if (p.issuance_no[0] == '\0') {
		struct ctr_fail f = {.code = "not_found",
		                     .device = "this counter",
		                     .message = "no held certificate is known here",
		                     .action = "give the issuance number printed by `status`",
		                     .tries = -1};
		return ctr_failed(c, CTR_EXIT_ERROR, &f);
	}
	if ((rc = supervisor_session(c, o.supervisor, tok, &len)) == 0) {
		rc = resolve(c, &p, &o, tok, len);
		supervisor_logout(c, tok, len);
	}
	hwg_wipe(tok, sizeof(tok));
	return rc;
}
