/*
 * step_household.c — a household change (世帯変更) notified at the
 * counter: a member joins another household, starts a new one, or takes
 * another relation (hwgw_registry_household_change).  The notifier is the
 * resident the card identified at this visit; the person changed is the
 * notifier or a member of one of the two households concerned (the one
 * left or the one joined), as the register says now.  The register
 * serialises changes, so two counters changing the same household at
 * once both make a version, or one is refused: none is lost.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counter.h"
#include "counter_match.h"
#include "hwg_secret.h"
#include "hwgw_registry.h"

struct hh_form {
	const char *subject, *household, *relation, *date;
};

static int
parse(int argc, char **argv, struct hh_form *f)
{
	static const struct option opts[] = {{"subject", required_argument, NULL, 's'},
	                                     {"household", required_argument, NULL, 'h'},
	                                     {"relation", required_argument, NULL, 'r'},
	                                     {"date", required_argument, NULL, 'd'},
	                                     {NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 's')
			f->subject = optarg;
		else if (ch == 'h')
			f->household = optarg;
		else if (ch == 'r')
			f->relation = optarg;
		else if (ch == 'd')
			f->date = optarg;
		else
			return -1;
	}
	return optind == argc && f->household && f->relation ? 0 : -1;
}

static int
not_identified(struct ctr *c)
{
	struct ctr_fail f = {.code = "not_identified",
	                     .device = "card reader",
	                     .message = "nobody was identified by a card at this visit",
	                     .action = "run `hwgw-counter identify` with the notifier's card first",
	                     .tries = -1};

	return ctr_failed(c, CTR_EXIT_REFUSED, &f);
}

/* The notifier may notify for subject: the same person, or a member of a household concerned. */
static int
may_notify(struct ctr *c, struct hwgw_registry *r, const char *me, const char *subject,
           const char *target)
{
	struct reg_person a, b;
	struct hwg_error err = {0};
	int ok;

	if (strcmp(me, subject) == 0)
		return 0;
	if (hwgw_registry_get(r, me, 0, &a, &err) != 0 ||
	    hwgw_registry_get(r, subject, 0, &b, &err) != 0)
		return ctr_error(c, "register", &err, "check the resident code");
	ok = strcmp(a.household, b.household) == 0 || strcmp(a.household, target) == 0;
	if (ok)
		return 0;
	hwg_error_set(&err, HWG_E_NOT_ENTITLED,
	              "the notifier is in neither household concerned by this change");
	return ctr_error(c, "register", &err,
	                 "the person concerned or a member of either household may notify it");
}

static int
change(struct ctr *c, const struct hh_form *f, const char *me, struct reg_person *out)
{
	char op[80], day[11];
	const char *subject = f->subject ? f->subject : me;
	const char *target = strcmp(f->household, "new") == 0 ? "" : f->household;
	struct reg_actor who = {op, c->conf.terminal, day};
	struct hwgw_registry *r = NULL;
	struct hwg_error err = {0};
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	localtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	if (f->date != NULL)
		snprintf(day, sizeof(day), "%s", f->date);
	ctr_state_value(c, "operator", "operator_id", op, sizeof(op));
	if ((rc = ctr_registry_open(c, &r)) != 0)
		return rc;
	if ((rc = may_notify(c, r, me, subject, target)) == 0) {
		ctr_progress(c, "recording the household change (世帯変更) of %s", subject);
		if (hwgw_registry_household_change(r, subject, target, f->relation, &who, out,
		                                   &err) != 0)
			rc = ctr_error(c, "register", &err,
			               "check the household and relation on the form");
	}
	hwgw_registry_close(r);
	return rc;
}

int
ctr_step_household(struct ctr *c, int argc, char **argv)
{
	struct hh_form f = {0};
	struct reg_person p;
	char me[16];
	int rc;

	if (parse(argc, argv, &f) != 0) {
		fprintf(stderr, "usage: hwgw-counter household --household ID|new --relation R "
		                "[--subject CODE] [--date YYYY-MM-DD]\n");
		return CTR_EXIT_ERROR;
	}
	ctr_state_value(c, "visit", "resident_code", me, sizeof(me));
	if (me[0] == '\0')
		return not_identified(c);
	memset(&p, 0, sizeof(p));
	if ((rc = change(c, &f, me, &p)) == 0) {
		ctr_say(c, "household change recorded: version %lld, update sequence %lld",
		        (long long)p.version, (long long)p.seq);
		ctr_set(c, "seq", json_integer(p.seq));
		ctr_show_person(c, &p, 0);
	}
	hwg_wipe(&p, sizeof(p));
	return rc;
}
