/*
 * step_movein.c — step 5: special move-in (特例転入).  The card
 * identifies the person (card.authenticate, then card.read_info with its
 * My Number: this station's client role must be among the gateway's
 * [card] mynumber_roles); the register takes up the move-out data the
 * old city sent for that My Number, compares it with the card's facts
 * and records the move-in with the form's new address, household and
 * relation (hwgw_registry_special_move_in).  The My Number is never
 * shown or kept; the new record is shown with it masked.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counter.h"
#include "counter_match.h"
#include "hwg_cbor.h"
#include "hwg_secret.h"
#include "hwgw_registry.h"

struct form {
	const char *address, *postcode, *city_code, *aza_code, *household, *relation, *date;
	const char *pin_file;
};

static int
parse(int argc, char **argv, struct form *f)
{
	static const struct option opts[] = {{"address", required_argument, NULL, 'a'},
	                                     {"postcode", required_argument, NULL, 'p'},
	                                     {"city-code", required_argument, NULL, 'c'},
	                                     {"aza-code", required_argument, NULL, 'z'},
	                                     {"household", required_argument, NULL, 'h'},
	                                     {"relation", required_argument, NULL, 'r'},
	                                     {"date", required_argument, NULL, 'd'},
	                                     {"pin-file", required_argument, NULL, 'P'},
	                                     {NULL, 0, NULL, 0}};
	const char **slot[] = {['a'] = &f->address,  ['p'] = &f->postcode,  ['c'] = &f->city_code,
	                       ['z'] = &f->aza_code, ['h'] = &f->household, ['r'] = &f->relation,
	                       ['d'] = &f->date,     ['P'] = &f->pin_file};
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch < 0 || ch >= (int)(sizeof(slot) / sizeof(slot[0])) || slot[ch] == NULL)
			return -1;
		*slot[ch] = optarg;
	}
	return optind == argc && f->address && f->postcode && f->city_code ? 0 : -1;
}

/* card.authenticate and card.read_info with one PIN; the facts in *info. */
static int
read_card(struct ctr *c, const char *pin_file, struct ctr_answer *info)
{
	static const char *const ops[2] = {"card.authenticate", "card.read_info"};
	struct hwg_error err = {0};
	struct hwg_secret *pin = NULL;
	int rc = 0;

	if (ctr_pin_read(pin_file, "resident's PIN (4 digits, not shown): ", &pin, &err) != 0)
		return ctr_error(c, "PIN", &err,
		                 "type the PIN, or give --pin-file FILE (mode 0600)");
	for (int i = 0; i < 2 && rc == 0; i++) {
		cbor_item_t *args = ctr_card_args(c, pin);
		struct ctr_call call = {.op = ops[i], .args = args, .with_session = 1};

		ctr_answer_clear(info);
		ctr_progress(c, "%s", ops[i]);
		if (args == NULL)
			rc = CTR_EXIT_ERROR;
		else if (ctr_gw_call(c, &call, info, &err) != 0)
			rc = ctr_gw_unreachable(c, ops[i], &err);
		else if (info->result == NULL)
			rc = ctr_gw_refused(c, ops[i], info);
		if (args != NULL) {
			hwg_cbor_wipe_strings(args);
			cbor_decref(&args);
		}
	}
	hwg_secret_free(pin);
	return rc;
}

static int
move_in(struct ctr *c, const struct form *f, const cbor_item_t *info, struct reg_person *out)
{
	char name[192], address[256], birth[16], sex[4], mn[16], op[80], day[11];
	struct reg_card_facts card = {ctr_text(info, "name", name, sizeof(name)),
	                              ctr_text(info, "address", address, sizeof(address)),
	                              ctr_text(info, "birth", birth, sizeof(birth)),
	                              ctr_text(info, "sex", sex, sizeof(sex)),
	                              ctr_text(info, "mynumber", mn, sizeof(mn))};
	struct reg_person form;
	struct reg_actor who = {op, c->conf.terminal, day};
	struct hwgw_registry *r = NULL;
	struct hwg_error err = {0};
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	memset(&form, 0, sizeof(form));
	localtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	if (f->date != NULL)
		snprintf(day, sizeof(day), "%s", f->date);
	ctr_state_value(c, "operator", "operator_id", op, sizeof(op));
	snprintf(form.address, sizeof(form.address), "%s", f->address);
	snprintf(form.postcode, sizeof(form.postcode), "%s", f->postcode);
	snprintf(form.city_code, sizeof(form.city_code), "%s", f->city_code);
	snprintf(form.aza_code, sizeof(form.aza_code), "%s", f->aza_code ? f->aza_code : "");
	snprintf(form.household, sizeof(form.household), "%s", f->household ? f->household : "");
	snprintf(form.relation, sizeof(form.relation), "%s", f->relation ? f->relation : "世帯主");
	if (mn[0] == '\0') {
		hwg_error_set(&err, HWG_E_FORBIDDEN,
		              "the gateway did not give this station the card's My Number");
		return ctr_error(c, "card reader", &err,
		                 "special move-in needs a station whose role is in the gateway's "
		                 "[card] mynumber_roles: call the supervisor");
	}
	if ((rc = ctr_registry_open(c, &r)) != 0)
		return rc;
	ctr_progress(c, "taking up the move-out data for this card (特例転入)");
	if (hwgw_registry_special_move_in(r, &card, &form, &who, out, &err) != 0)
		rc =
		    ctr_error(c, "register", &err,
		              err.code == HWG_E_NOT_FOUND
		                  ? "no move-out data is pending for this card: the resident needs "
		                    "a move-out certificate (転出証明書) from the old city"
		                  : "check the card and the move-out data with the supervisor");
	hwgw_registry_close(r);
	hwg_wipe(mn, sizeof(mn));
	return rc;
}

int
ctr_step_move_in(struct ctr *c, int argc, char **argv)
{
	struct form f = {0};
	struct ctr_answer info = {0};
	struct reg_person p;
	int rc;

	if (parse(argc, argv, &f) != 0) {
		fprintf(stderr, "usage: hwgw-counter move-in --address ADDR --postcode NNNNNNN "
		                "--city-code NNNNNN [--aza-code N] [--household ID --relation R] "
		                "[--date YYYY-MM-DD] [--pin-file FILE]\n");
		return CTR_EXIT_ERROR;
	}
	memset(&p, 0, sizeof(p));
	info.tries = -1;
	if ((rc = read_card(c, f.pin_file, &info)) == 0 &&
	    (rc = move_in(c, &f, info.result, &p)) == 0) {
		ctr_say(c, "moved in (特例転入): the record made");
		ctr_show_person(c, &p, 0);
	}
	ctr_answer_clear(&info);
	hwg_wipe(&p, sizeof(p));
	return rc;
}
