/*
 * reg_reconcile.c — reconciling a migration (the lesson of the 2024
 * Okayama incident, where a shifted data item printed another person's
 * details): a legacy system's CSV export is compared with the register
 * field by field, every record and field that differs is listed and kept
 * open in reconcile_diffs, and while one is open for a record no
 * certificate document and no identity notification is built for it
 * (reg_issue.c and the outbox ask reg_blocked); an operator resolves each
 * difference by name.
 *
 * The export's columns are named as the register's fields; resident_code
 * is required, the others are compared when present, any other column
 * is ignored.  A shifted column shows as the same field differing in
 * record after record.  Light normalisation only: dates written
 * YYYY/MM/DD, sex written 男/女, and an ASCII space between family and
 * given name.  The My Number is compared in constant time and never
 * shown.  Nothing here prints or logs a value: the caller gets resident
 * codes and field names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_secret.h"
#include "reg_csv.h"
#include "reg_ids.h"
#include "reg_internal.h"

#define BATCH 500
#define NORM_MAX 512

enum norm { N_TEXT, N_NAME, N_DATE, N_SEX, N_SECRET };

struct field {
	const char *name;
	size_t off, size;
	enum norm norm;
};

#define F(f, n)                                                                                    \
	{                                                                                          \
#f, offsetof(struct reg_person, f), sizeof(((struct reg_person *)0)->f), n         \
	}
static const struct field fields[] = {
    F(name, N_NAME),           F(kana, N_NAME),
    F(birth, N_DATE),          F(sex, N_SEX),
    F(address, N_TEXT),        F(postcode, N_TEXT),
    F(city_code, N_TEXT),      F(aza_code, N_TEXT),
    F(relation, N_TEXT),       F(household, N_TEXT),
    F(former_surname, N_NAME), F(resident_since, N_DATE),
    F(address_since, N_DATE),  F(my_number, N_SECRET),
};
#undef F
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

struct recon {
	struct hwgw_registry *r;
	struct reg_csv csv;
	int code_col, col[N_FIELDS];
	const char *today;
	reg_diff_fn fn;
	void *arg;
	struct reg_reconcile_stats *st;
};

/* ------------------------------------------------------ comparing */

/* v as the register writes it, into out. */
static void
normalise(enum norm n, const char *v, char out[NORM_MAX])
{
	size_t o = 0;

	if (n == N_SEX && (strcmp(v, "男") == 0 || strcmp(v, "女") == 0)) {
		snprintf(out, NORM_MAX, "%s", strcmp(v, "男") == 0 ? "1" : "2");
		return;
	}
	for (; *v != '\0' && o + 4 < NORM_MAX; v++) {
		if (n == N_NAME && *v == ' ') {
			memcpy(out + o, "　", 3);
			o += 3;
		} else {
			out[o++] = n == N_DATE && *v == '/' ? '-' : *v;
		}
	}
	out[o] = '\0';
}

static int
differs(const struct field *f, const struct reg_person *p, const char *v)
{
	const char *mine = (const char *)p + f->off;
	char norm[NORM_MAX];

	normalise(f->norm, v, norm);
	if (f->norm == N_SECRET) {
		int d =
		    strlen(norm) != strlen(mine) || hwg_ct_memcmp(norm, mine, strlen(mine)) != 0;
		hwg_wipe(norm, sizeof(norm));
		return d;
	}
	return strcmp(norm, mine) != 0;
}

static int
open_diff(struct recon *c, const char *code, const char *field, struct hwg_error *err)
{
	const char *p[3] = {code, field, c->today};
	int rc;

	c->st->differences++;
	if (c->fn != NULL && (rc = c->fn(c->arg, code, field)) != 0)
		return hwg_error_set(err, rc, "reconcile: stopped by the caller");
	return reg_db_query(c->r->db,
	                    "INSERT INTO reconcile_diffs (resident_code, field, found, resolved_by,"
	                    " resolved) VALUES (?, ?, ?, NULL, NULL)"
	                    " ON CONFLICT (resident_code, field) DO NOTHING",
	                    3, p, NULL, NULL, NULL, err);
}

/* One exported row against the register's current version of its record. */
static int
compare_row(struct recon *c, struct hwg_error *err)
{
	const char *code = c->csv.fields[c->code_col];
	struct reg_person p;
	int rc, k = 0;

	if (reg_code_validate(code, NULL) != 0) {
		char where[32];
		/* no record to hold open: named by its line, its text never shown */
		snprintf(where, sizeof(where), "line %ld", c->csv.line);
		c->st->records_differing++;
		c->st->differences++;
		return c->fn != NULL && (rc = c->fn(c->arg, where, "resident_code")) != 0
		           ? hwg_error_set(err, rc, "reconcile: stopped by the caller")
		           : 0;
	}
	rc = reg_version_load(c->r, code, 0, c->col[N_FIELDS - 1] >= 0, &p, err);
	if (rc == HWG_E_NOT_FOUND) {
		c->st->records_differing++;
		return open_diff(c, code, "record", err);
	}
	for (size_t i = 0; i < N_FIELDS && rc == 0; i++)
		if (c->col[i] >= 0 && differs(&fields[i], &p, c->csv.fields[c->col[i]])) {
			rc = open_diff(c, code, fields[i].name, err);
			k++;
		}
	c->st->records_differing += k > 0;
	hwg_wipe(&p, sizeof(p));
	return rc;
}

/* Up to BATCH rows in one transaction: *more 1 if rows remain. */
static int
compare_batch(struct recon *c, int *more, struct hwg_error *err)
{
	int rc, n = 0;

	if ((rc = reg_db_begin(c->r->db, REG_TX_WRITE, err)) != 0)
		return rc;
	while (n < BATCH && (rc = reg_csv_next(&c->csv, err)) == 1) {
		c->st->rows++;
		n++;
		if ((rc = compare_row(c, err)) != 0)
			break;
	}
	*more = rc == 1;
	if (rc == 1)
		rc = 0;
	if (rc == 0)
		rc = reg_db_commit(c->r->db, err);
	if (rc != 0)
		reg_db_rollback(c->r->db);
	return rc;
}

static int
map_columns(struct recon *c, struct hwg_error *err)
{
	int used = 0;

	if ((c->code_col = reg_csv_column(&c->csv, "resident_code")) < 0)
		return hwg_error_set(err, HWG_E_INVALID, "line 1: no column resident_code");
	for (size_t i = 0; i < N_FIELDS; i++) {
		c->col[i] = reg_csv_column(&c->csv, fields[i].name);
		used += c->col[i] >= 0;
	}
	if (used == 0)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "line 1: no column the register holds besides resident_code");
	return 0;
}

/* The whole file read once first, so that a malformed line refuses it before anything is kept. */
static int
prescan(const char *text, size_t len, struct hwg_error *err)
{
	struct reg_csv c;
	int rc = reg_csv_open(&c, text, len, err);

	while (rc == 0 && (rc = reg_csv_next(&c, err)) == 1)
		rc = 0;
	reg_csv_close(&c);
	return rc;
}

int
hwgw_registry_reconcile(struct hwgw_registry *r, const char *text, size_t len, const char *today,
                        reg_diff_fn fn, void *arg, struct reg_reconcile_stats *st,
                        struct hwg_error *err)
{
	struct recon c = {.r = r, .today = today, .fn = fn, .arg = arg, .st = st};
	int rc, more = 1;

	memset(st, 0, sizeof(*st));
	if ((rc = reg_date_check("today", today, err)) != 0 || (rc = prescan(text, len, err)) != 0)
		return rc;
	if ((rc = reg_csv_open(&c.csv, text, len, err)) == 0 && (rc = map_columns(&c, err)) == 0)
		while (rc == 0 && more)
			rc = compare_batch(&c, &more, err);
	reg_csv_close(&c.csv);
	return rc;
}

/* ------------------------------------------------------ blocking */

int
reg_blocked(struct hwgw_registry *r, const char *code, struct hwg_error *err)
{
	const char *p[1] = {code};
	int64_t n = 0;
	int rc = reg_db_query(r->db,
	                      "SELECT count(*) FROM reconcile_diffs WHERE resident_code = ?"
	                      " AND resolved IS NULL",
	                      1, p, reg_row_i64, &n, NULL, err);

	if (rc == 0 && n > 0)
		rc = hwg_error_set(err, HWG_E_RECORD_BLOCKED,
		                   "record %s awaits reconciliation: %lld difference(s) with the "
		                   "migrated data unresolved",
		                   code, (long long)n);
	return rc;
}

int
hwgw_registry_resolve(struct hwgw_registry *r, const char *code, const char *field,
                      const char *operator_id, const char *today, struct hwg_error *err)
{
	const char *p[4] = {operator_id, today, code, field};
	long changed = 0;
	int rc;

	if ((rc = reg_date_check("today", today, err)) != 0 ||
	    (rc = reg_text_check("operator", operator_id, 63, err)) != 0 ||
	    (rc = reg_text_check("field", field, 31, err)) != 0)
		return rc;
	rc = reg_db_query(r->db,
	                  "UPDATE reconcile_diffs SET resolved_by = ?, resolved = ?"
	                  " WHERE resident_code = ? AND field = ? AND resolved IS NULL",
	                  4, p, NULL, NULL, &changed, err);
	if (rc == 0 && changed != 1)
		rc = hwg_error_set(err, HWG_E_NOT_FOUND, "no open difference in %s of record %s",
		                   field, code);
	return rc;
}

struct open_arg {
	reg_diff_fn fn;
	void *arg;
};

static int
open_row(void *arg, int ncols, const char *const *v)
{
	struct open_arg *a = arg;

	if (ncols != 2 || v[0] == NULL || v[1] == NULL)
		return HWG_E_STORE;
	return a->fn(a->arg, v[0], v[1]);
}

int
hwgw_registry_unresolved(struct hwgw_registry *r, reg_diff_fn fn, void *arg, struct hwg_error *err)
{
	struct open_arg a = {fn, arg};

	return reg_db_query(
	    r->db,
	    "SELECT resident_code, field FROM reconcile_diffs WHERE resolved IS NULL"
	    " ORDER BY resident_code, field",
	    0, NULL, open_row, &a, NULL, err);
}
