/*
 * step_issue.c — step 4: a certificate.  The clerk names the kind, whose
 * (the resident the card identified, or --subject), household or person,
 * with or without the My Number, and the requester and relation (a proxy
 * with a letter of attorney).  The register decides
 * (hwgw_registry_may_issue) and builds and signs the document from one
 * version of each record; the refusal is said in words a clerk can repeat
 * to the resident — for a record's state (a DV measure, a control flag)
 * the same neutral words as for no tie at all.  The document and a fresh
 * request id are kept before cert.issue is sent (counter_issue.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "counter_issue.h"
#include "hwg_secret.h"
#include "hwgw_registry.h"

struct issue_opts {
	const char *kind, *subject, *requester, *relation, *letter;
	int household, my_number, wide;
};

static int
parse(int argc, char **argv, struct issue_opts *o)
{
	static const struct option opts[] = {{"household", no_argument, NULL, 'H'},
	                                     {"my-number", no_argument, NULL, 'm'},
	                                     {"wide", no_argument, NULL, 'w'},
	                                     {"subject", required_argument, NULL, 's'},
	                                     {"requester", required_argument, NULL, 'r'},
	                                     {"relation", required_argument, NULL, 'R'},
	                                     {"letter", required_argument, NULL, 'l'},
	                                     {NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			o->household = 1;
			break;
		case 'm':
			o->my_number = 1;
			break;
		case 'w':
			o->wide = 1;
			break;
		case 's':
			o->subject = optarg;
			break;
		case 'r':
			o->requester = optarg;
			break;
		case 'R':
			o->relation = optarg;
			break;
		case 'l':
			o->letter = optarg;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc - 1 || o->requester == NULL || o->relation == NULL)
		return -1;
	o->kind = argv[optind];
	return 0;
}

static int
relation_of(const char *s)
{
	if (strcmp(s, "self") == 0)
		return REG_REQ_SELF;
	if (strcmp(s, "household") == 0)
		return REG_REQ_HOUSEHOLD;
	if (strcmp(s, "proxy") == 0)
		return REG_REQ_PROXY;
	return 0;
}

/* A registry refusal in words for the resident. */
static int
refusal(struct ctr *c, const struct hwg_error *err)
{
	struct ctr_fail f = {.code = hwg_err_code(err->code),
	                     .device = "register",
	                     .message = err->message,
	                     .tries = -1};

	switch (err->code) {
	case HWG_E_NOT_ENTITLED:
		f.message = "this certificate cannot be issued to this requester";
		f.action =
		    "tell the requester: \"We cannot issue this certificate to you. The person "
		    "concerned may ask at the counter.\" Say nothing more about the record";
		break;
	case HWG_E_ISSUANCE_HELD:
		f.action = "issuance is held on the resident's own record: call the supervisor";
		break;
	case HWG_E_MY_NUMBER_NOT_ALLOWED:
		f.action = "issue it without --my-number (a proxy, a move-out or a seal "
		           "certificate never shows it)";
		break;
	case HWG_E_NOT_RESIDENT:
		f.action = "the record is not a current resident's: call the supervisor";
		break;
	case HWG_E_RECORD_BLOCKED:
		f.action = "the record awaits a migration check and cannot be printed: call the "
		           "supervisor";
		break;
	default:
		f.action =
		    strstr(err->message, "letter") != NULL
		        ? "a proxy needs a letter of attorney: check it and give --letter REF"
		        : "check the request and try again";
	}
	return ctr_failed(c, CTR_EXIT_REFUSED, &f);
}

static void
today(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* [registry] key: a PEM file, or "pkcs11:LABEL" on [registry] pkcs11_token. */
static int
load_signer(const struct ctr_conf *conf, struct reg_signer **out, struct hwg_error *err)
{
	const char *key = conf->registry_key ? conf->registry_key : "";
	const char *id = conf->registry_id ? conf->registry_id : "";
	struct reg_p11_key p11 = {conf->p11_module, conf->p11_token, conf->p11_pin_file, key + 7};

	if (strncmp(key, "pkcs11:", 7) != 0)
		return reg_signer_load(key, id, out, err);
	return reg_signer_load_pkcs11(&p11, id, out, err);
}

/* Decide and build the signed document into *doc. */
static int
build_document(struct ctr *c, const struct reg_cert_request *q, uint8_t **doc, size_t *len)
{
	struct hwgw_registry *r = NULL;
	struct reg_signer *signer = NULL;
	struct hwg_error err = {0};
	char why[256];
	int rc;

	if ((rc = ctr_registry_open(c, &r)) != 0)
		return rc;
	ctr_progress(c, "the register decides whether this may be issued");
	if (hwgw_registry_may_issue(r, q, why, sizeof(why), &err) != 0)
		rc = refusal(c, &err);
	else if (load_signer(&c->conf, &signer, &err) != 0)
		rc = ctr_error(
		    c, "register", &err,
		    "check [registry] key and client_id (and pkcs11_* for a key in an HSM)");
	else if (hwgw_registry_document(r, q, signer, (int64_t)time(NULL), doc, len, &err) != 0)
		rc = err.code == HWG_E_NOT_ENTITLED
		         ? refusal(c, &err)
		         : ctr_error(c, "register", &err, "call the supervisor");
	hwg_wipe(why, sizeof(why)); /* the real reason is the register's, not the screen's */
	reg_signer_free(signer);
	hwgw_registry_close(r);
	return rc;
}

static int
new_request_id(char out[48])
{
	uint8_t b[12];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	snprintf(out, 48, "ctr-");
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(out + 4 + 2 * i, 3, "%02x", b[i]);
	return 0;
}

/* Keep the document and the request id, then send. */
static int
start(struct ctr *c, const struct reg_cert_request *q, const uint8_t *doc, size_t len)
{
	struct ctr_pending p;
	struct hwg_error err = {0};

	memset(&p, 0, sizeof(p));
	snprintf(p.kind, sizeof(p.kind), "%s", q->kind);
	snprintf(p.subject, sizeof(p.subject), "%s", q->subject);
	if (new_request_id(p.request_id) != 0)
		return CTR_EXIT_ERROR;
	if (ctr_state_write(c, "issue.doc", doc, len, &err) != 0 ||
	    ctr_pending_save(c, &p, &err) != 0)
		return ctr_error(c, "state directory", &err, "check [counter] state_dir");
	return ctr_issue_send(c, &p);
}

/* One issuance at a time: one in flight is resolved first. */
static int
pending_first(struct ctr *c)
{
	struct ctr_pending p;
	struct hwg_error err = {0};
	struct ctr_fail f = {.code = "issuance_pending",
	                     .device = "this counter",
	                     .message = "a certificate asked for earlier has no known outcome yet",
	                     .action = "run `hwgw-counter status` (or a supervisor's `supervise`) "
	                               "first; never ask for it again blind",
	                     .tries = -1};

	if (ctr_pending_load(c, &p, &err) == HWG_E_NOT_FOUND)
		return 0;
	return ctr_failed(c, CTR_EXIT_PENDING, &f);
}

int
ctr_step_issue(struct ctr *c, int argc, char **argv)
{
	struct issue_opts o = {0};
	char me[16], day[11];
	uint8_t *doc = NULL;
	size_t len = 0;
	int rc;

	if (parse(argc, argv, &o) != 0 || relation_of(o.relation) == 0) {
		fprintf(stderr,
		        "usage: hwgw-counter issue KIND --requester NAME --relation "
		        "self|household|proxy [--letter REF] [--subject CODE] [--household] "
		        "[--my-number] [--wide]\n");
		return CTR_EXIT_ERROR;
	}
	if ((rc = pending_first(c)) != 0)
		return rc;
	ctr_state_value(c, "visit", "resident_code", me, sizeof(me));
	today(day);
	struct reg_cert_request q = {
	    .kind = o.kind,
	    .subject = o.subject ? o.subject : me,
	    .household = o.household,
	    .my_number = o.my_number,
	    .wide = o.wide,
	    .gateway_id = c->conf.gateway_id,
	    .day = day,
	    .req = {.relation = relation_of(o.relation),
	            .resident_code = relation_of(o.relation) == REG_REQ_PROXY ? NULL : me,
	            .name = o.requester,
	            .letter = o.letter}};
	if (q.subject[0] == '\0' || (q.req.relation != REG_REQ_PROXY && me[0] == '\0')) {
		struct ctr_fail f = {.code = "not_identified",
		                     .device = "card reader",
		                     .message = "nobody was identified by a card at this visit",
		                     .action =
		                         "run `hwgw-counter identify` with the requester's card "
		                         "first (a proxy: give --subject CODE)",
		                     .tries = -1};
		return ctr_failed(c, CTR_EXIT_REFUSED, &f);
	}
	if ((rc = build_document(c, &q, &doc, &len)) == 0)
		rc = start(c, &q, doc, len);
	if (doc != NULL)
		hwg_wipe(doc, len);
	free(doc);
	return rc;
}
