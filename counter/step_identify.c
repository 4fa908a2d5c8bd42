/*
 * step_identify.c — step 3: who is at the counter.  The PIN is typed
 * without echo (or read from --pin-file); card.authenticate proves the
 * card is genuine and the resident knows its PIN, card.read_info gives
 * the four facts (name, address, birth date, sex) with their integrity
 * checked; the PIN is wiped at once.  The four facts must match exactly
 * one current record of the register (counter_match.c), which is shown
 * with the My Number masked unless the operator's role may see it.  The
 * visit file keeps only the resident code and household.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "counter.h"
#include "counter_match.h"
#include "hwg_cbor.h"
#include "hwg_secret.h"
#include "hwgw_registry.h"

/* One card operation with the PIN; 0 with a->result, or the exit status of a refusal. */
static int
card_op(struct ctr *c, const char *op, const struct hwg_secret *pin, struct ctr_answer *a)
{
	struct hwg_error err = {0};
	cbor_item_t *args = ctr_card_args(c, pin);
	struct ctr_call call = {.op = op, .args = args, .with_session = 1};
	int rc = 0;

	if (args == NULL)
		return CTR_EXIT_ERROR;
	if (ctr_gw_call(c, &call, a, &err) != 0)
		rc = ctr_gw_unreachable(c, op, &err);
	else if (a->result == NULL)
		rc = ctr_gw_refused(c, op, a);
	hwg_cbor_wipe_strings(args); /* the PIN */
	cbor_decref(&args);
	return rc;
}

/* authenticate then read_info, with one PIN typed once; the facts into *facts. */
static int
read_card(struct ctr *c, const char *pin_file, struct ctr_answer *info)
{
	struct hwg_error err = {0};
	struct hwg_secret *pin = NULL;
	struct ctr_answer auth = {0};
	int rc;

	if (ctr_pin_read(pin_file, "resident's PIN (4 digits, not shown): ", &pin, &err) != 0)
		return ctr_error(c, "PIN", &err,
		                 "type the PIN, or give --pin-file FILE (mode 0600)");
	ctr_progress(c, "checking the card's certificate and PIN (card.authenticate)");
	rc = card_op(c, "card.authenticate", pin, &auth);
	if (rc == 0) {
		ctr_progress(c, "reading the card's four facts (card.read_info)");
		rc = card_op(c, "card.read_info", pin, info);
	}
	hwg_secret_free(pin); /* wiped */
	ctr_answer_clear(&auth);
	return rc;
}

/* Keep who the card identified for the next steps. */
static int
keep_visit(struct ctr *c, const struct reg_person *p)
{
	struct hwg_error err = {0};
	char text[256];

	snprintf(text, sizeof(text), "resident_code=%s\nhousehold=%s\nreader=%s\n",
	         p->resident_code, p->household, c->conf.reader);
	if (ctr_state_write(c, "visit", text, strlen(text), &err) != 0)
		return ctr_error(c, "state directory", &err, "check [counter] state_dir");
	return 0;
}

int
ctr_step_identify(struct ctr *c, int argc, char **argv)
{
	static const struct option opts[] = {{"pin-file", required_argument, NULL, 'p'},
	                                     {NULL, 0, NULL, 0}};
	const char *pin_file = NULL;
	struct ctr_answer info = {0};
	struct reg_person p;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (ch == 'p')
			pin_file = optarg;
		else
			return CTR_EXIT_ERROR;
	memset(&p, 0, sizeof(p));
	if ((rc = read_card(c, pin_file, &info)) == 0 &&
	    (rc = ctr_match_card(c, info.result, &p)) == 0 && (rc = keep_visit(c, &p)) == 0)
		ctr_show_person(c, &p, ctr_may_see_mn(c, info.result));
	ctr_answer_clear(&info);
	hwg_wipe(&p, sizeof(p));
	return rc;
}
