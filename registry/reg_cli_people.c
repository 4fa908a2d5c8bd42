/*
 * reg_cli_people.c — see reg_cli_people.h.  The CSV goes through the
 * strict reader (reg_csv.c); the My Number is read from the file, never
 * from the command line, and never printed.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwg_file.h"
#include "hwg_secret.h"
#include "reg_cli_people.h"
#include "reg_csv.h"

static const char *
opt(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return def;
}

static const char *
today(char buf[11])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, 11, "%Y-%m-%d", &tm);
	return buf;
}

static int
fail(const struct hwg_error *err)
{
	fprintf(stderr, "hwgw-registry: %s: %s\n", hwg_err_code(err->code), err->message);
	return 1;
}

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

/* One row into p; household "=" is the previous row's (prev). */
static int
row_person(const struct reg_csv *csv, const int *col, const char *prev, struct reg_person *p)
{
	static const size_t offs[] = {
	    offsetof(struct reg_person, resident_code), offsetof(struct reg_person, name),
	    offsetof(struct reg_person, kana),          offsetof(struct reg_person, birth),
	    offsetof(struct reg_person, sex),           offsetof(struct reg_person, address),
	    offsetof(struct reg_person, postcode),      offsetof(struct reg_person, city_code),
	    offsetof(struct reg_person, aza_code),      offsetof(struct reg_person, my_number),
	    offsetof(struct reg_person, household),     offsetof(struct reg_person, relation)};
	static const size_t caps[] = {
	    sizeof(p->resident_code), sizeof(p->name),      sizeof(p->kana),
	    sizeof(p->birth),         sizeof(p->sex),       sizeof(p->address),
	    sizeof(p->postcode),      sizeof(p->city_code), sizeof(p->aza_code),
	    sizeof(p->my_number),     sizeof(p->household), sizeof(p->relation)};

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		const char *v = col[i] >= 0 ? csv->fields[col[i]] : "";

		if (strlen(v) >= caps[i])
			return -1;
		memcpy((char *)p + offs[i], v, strlen(v) + 1);
	}
	if (strcmp(p->household, "=") == 0)
		COPY(p->household, prev);
	return 0;
}

static const char *const columns[] = {"resident_code", "name",      "kana",      "birth",
                                      "sex",           "address",   "postcode",  "city_code",
                                      "aza_code",      "my_number", "household", "relation"};
#define N_COLS (sizeof(columns) / sizeof(columns[0]))

static int
move_in_rows(struct hwgw_registry *r, struct reg_csv *csv, const struct reg_actor *who,
             struct hwg_error *err)
{
	int col[N_COLS], rc;
	char prev[24] = "";
	struct reg_person p, out;

	for (size_t i = 0; i < N_COLS; i++)
		if ((col[i] = reg_csv_column(csv, columns[i])) < 0 && i != 8)
			return hwg_error_set(err, HWG_E_INVALID, "no column %s", columns[i]);
	while ((rc = reg_csv_next(csv, err)) == 1) {
		if (row_person(csv, col, prev, &p) != 0)
			rc = hwg_error_set(err, HWG_E_INVALID, "line %ld: a value too long",
			                   csv->line);
		else
			rc = hwgw_registry_move_in(r, &p, who, &out, err);
		hwg_wipe(&p, sizeof(p));
		if (rc != 0)
			return hwg_error_prefixed(err, rc, "move-in", "line %ld: %s", csv->line,
			                          err->message);
		COPY(prev, out.household);
		printf("%s household=%s\n", out.resident_code, out.household);
		hwg_wipe(&out, sizeof(out));
	}
	return rc;
}

int
reg_cli_move_in(struct hwgw_registry *r, int argc, char **argv, struct hwg_error *err)
{
	char day[11];
	struct reg_actor who = {opt(argc, argv, "--operator", "cli"), "cli",
	                        opt(argc, argv, "--date", today(day))};
	struct reg_csv csv;
	uint8_t *raw = NULL;
	size_t len = 0;
	int rc;

	if (argc < 2 || argc % 2 != 0)
		return 2;
	memset(&csv, 0, sizeof(csv));
	if ((rc = hwg_file_read(argv[1], REG_CSV_INPUT_MAX, &raw, &len, err)) == 0 &&
	    (rc = reg_csv_open(&csv, (const char *)raw, len, err)) == 0)
		rc = move_in_rows(r, &csv, &who, err);
	reg_csv_close(&csv);
	if (raw != NULL)
		hwg_wipe(raw, len);
	free(raw);
	return rc != 0 ? fail(err) : 0;
}

int
reg_cli_dv(struct hwgw_registry *r, int argc, char **argv, struct hwg_error *err)
{
	char day[11];
	const char *date = opt(argc, argv, "--date", today(day));
	int rc;

	if (argc != 3 && argc != 5)
		return 2;
	if (strcmp(argv[2], "apply") == 0)
		rc = hwgw_registry_dv_apply(r, argv[1], date, err);
	else if (strcmp(argv[2], "decide") == 0)
		rc = hwgw_registry_dv_decide(r, argv[1], date, err);
	else if (strcmp(argv[2], "end") == 0)
		rc = hwgw_registry_dv_end(r, argv[1], date, err);
	else
		return 2;
	if (rc != 0)
		return fail(err);
	printf("%s dv %s %s\n", argv[1], argv[2], date);
	return 0;
}
