/*
 * hwgw_counter.c — hwgw-counter, the counter workstation's program: one
 * step of a resident's visit per command (counter/README.md), for a
 * clerk (words on the terminal) or a script (--json).
 *
 *   hwgw-counter [--config FILE] [--json] [--quiet] STEP [options]
 *
 * The configuration is --config, else $HWGW_COUNTER_CONF, else
 * ./counter.conf.  Exit status: 0 done, 1 refused (by the gateway, a
 * device or the register: what to do is printed), 2 usage, configuration
 * or connection, 3 an outcome not known yet (`status`, or a supervisor).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"

static const struct step {
	const char *name;
	int (*run)(struct ctr *c, int argc, char **argv);
	const char *usage;
} steps[] = {
    {"login", ctr_step_login, "login [--operator ID]          1. the clerk's palm: a session"},
    {"card", ctr_step_card, "card                           2. the card: type and PIN tries"},
    {"identify", ctr_step_identify,
     "identify [--pin-file FILE]     3. PIN, card checked and read, the register's record"},
    {"issue", ctr_step_issue,
     "issue KIND --requester NAME --relation self|household|proxy [--letter REF]\n"
     "      [--subject CODE] [--household] [--my-number] [--wide]\n"
     "                                 4. a certificate (juminhyo, kisai, tenshutsu)"},
    {"status", ctr_step_status, "status                         what became of a certificate"},
    {"supervise", ctr_step_supervise,
     "supervise [NO] --supervisor ID --outcome printed|not_printed [--note TEXT]\n"
     "                                 a supervisor's decision on a held certificate"},
    {"move-in", ctr_step_move_in,
     "move-in --address A --postcode P --city-code C [--aza-code Z] [--household H\n"
     "      --relation R] [--date D] [--pin-file FILE]\n"
     "                                 5. special move-in (特例転入) with the card"},
    {"household", ctr_step_household,
     "household --household ID|new --relation R [--subject CODE] [--date D]\n"
     "                                 a household change (世帯変更) notified by the card's "
     "holder"},
    {"logout", ctr_step_logout, "logout                         6. the session ends"},
};
#define N_STEPS (sizeof(steps) / sizeof(steps[0]))

static int
usage(FILE *f, int code)
{
	fprintf(f, "usage: hwgw-counter [--config FILE] [--json] [--quiet] STEP [options]\n\n");
	for (size_t i = 0; i < N_STEPS; i++)
		fprintf(f, "  %s\n", steps[i].usage);
	fprintf(f, "\nexit: 0 done, 1 refused, 2 usage/configuration/connection, 3 outcome "
	           "pending\n");
	return code;
}

/* Global options before the step; *first the step's index in argv. */
static int
globals(int argc, char **argv, struct ctr *c, const char **config, int *first)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0)
			c->json = 1;
		else if (strcmp(argv[i], "--quiet") == 0)
			c->quiet = 1;
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			*config = argv[++i];
		else if (strcmp(argv[i], "--help") == 0)
			return usage(stdout, -1);
		else
			return usage(stderr, CTR_EXIT_ERROR);
	}
	if (i == argc)
		return usage(stderr, CTR_EXIT_ERROR);
	*first = i;
	return 0;
}

static const struct step *
find(const char *name)
{
	for (size_t i = 0; i < N_STEPS; i++)
		if (strcmp(steps[i].name, name) == 0)
			return &steps[i];
	return NULL;
}

/* --json: the result object, with "ok" and "step", on stdout. */
static void
print_json(struct ctr *c, const char *step, int rc)
{
	char *text;

	json_object_set_new(c->result, "step", json_string(step));
	json_object_set_new(c->result, "ok", json_boolean(rc == 0));
	json_object_set_new(c->result, "exit", json_integer(rc));
	if ((text = json_dumps(c->result, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) != NULL)
		printf("%s\n", text);
	free(text);
}

int
main(int argc, char **argv)
{
	struct ctr c = {0};
	struct hwg_error err = {0};
	const char *config = getenv("HWGW_COUNTER_CONF");
	const struct step *s;
	int first = 0, rc;

	if ((rc = globals(argc, argv, &c, &config, &first)) != 0)
		return rc < 0 ? 0 : rc;
	if ((s = find(argv[first])) == NULL) {
		fprintf(stderr, "hwgw-counter: unknown step \"%s\"\n", argv[first]);
		return usage(stderr, CTR_EXIT_ERROR);
	}
	c.result = json_object();
	if (ctr_conf_load(config ? config : "counter.conf", &c.conf, &err) != 0) {
		rc = ctr_error(&c, "configuration", &err, "give --config FILE (counter/README.md)");
	} else {
		optind = 0; /* a fresh getopt scan for the step's own options */
		rc = s->run(&c, argc - first, argv + first);
	}
	if (c.json)
		print_json(&c, s->name, rc);
	json_decref(c.result);
	ctr_conf_clear(&c.conf);
	return rc;
}
