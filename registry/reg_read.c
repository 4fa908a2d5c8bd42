/*
 * reg_read.c — reading the register: a record's current or any version,
 * a record by My Number (its keyed hash), the five-fact search, the
 * outbox of identity-information notifications, and DV support measures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwg_secret.h"
#include "reg_ids.h"
#include "reg_internal.h"

/* A read in its own snapshot. */
static int
read_tx(struct hwgw_registry *r, int rc_body, struct hwg_error *err)
{
	(void)err;
	reg_db_rollback(r->db);
	return rc_body;
}

int
hwgw_registry_get_version(struct hwgw_registry *r, const char *code, int64_t version, int with_mn,
                          struct reg_person *out, struct hwg_error *err)
{
	int rc;

	if ((rc = reg_code_validate(code, err)) != 0)
		return rc;
	if ((rc = reg_db_begin(r->db, REG_TX_READ, err)) != 0)
		return rc;
	return read_tx(r, reg_version_load(r, code, version, with_mn, out, err), err);
}

int
hwgw_registry_get(struct hwgw_registry *r, const char *code, int with_mn, struct reg_person *out,
                  struct hwg_error *err)
{
	return hwgw_registry_get_version(r, code, 0, with_mn, out, err);
}

int
hwgw_registry_find_mn(struct hwgw_registry *r, const char *mn, char code[REG_CODE_LEN + 1],
                      struct hwg_error *err)
{
	char hash[REG_MN_HASH_HEX + 1], found[32] = "";
	const char *p[1] = {hash};
	int rc;

	if ((rc = reg_mn_validate(mn, err)) != 0)
		return rc;
	if (reg_mn_hash(&r->key, mn, hash) != 0)
		return hwg_error_set(err, HWG_E_INTERNAL, "My Number: hash failed");
	rc = reg_db_query(r->db,
	                  "SELECT resident_code FROM residents WHERE mn_hash = ?"
	                  " ORDER BY CASE WHEN status = 'active' THEN 0 ELSE 1 END LIMIT 1",
	                  1, p, reg_row_text32, found, NULL, err);
	if (rc == 0 && found[0] == '\0')
		return hwg_error_set(err, HWG_E_NOT_FOUND, "no record with this My Number");
	if (rc == 0)
		memcpy(code, found, REG_CODE_LEN + 1);
	return rc;
}

/* ------------------------------------------------------------ search */

static int
given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* The refusal of too few items, naming what was given. */
static int
too_few(const struct reg_query *q, int n, struct hwg_error *err)
{
	return hwg_error_set(err, HWG_E_SEARCH_TOO_FEW,
	                     "search by the five facts needs at least two of name, furigana, "
	                     "address and birth date (sex does not count); given: %d%s%s%s%s%s",
	                     n, given(q->name) ? " name" : "", given(q->kana) ? " furigana" : "",
	                     given(q->address) ? " address" : "", given(q->birth) ? " birth" : "",
	                     given(q->sex) ? " (and sex)" : "");
}

/* address prefix → a LIKE pattern with %, _ and \ escaped. */
static int
like_prefix(const char *s, char *out, size_t n)
{
	size_t o = 0;

	for (; *s != '\0'; s++) {
		if (o + 3 >= n)
			return -1;
		if (*s == '%' || *s == '_' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o++] = '%';
	out[o] = '\0';
	return 0;
}

struct hits_arg {
	struct reg_hit *hits;
	size_t max, n;
};

static int
hit_row(void *arg, int ncols, const char *const *vals)
{
	struct hits_arg *a = arg;

	if (ncols != 3 || vals[0] == NULL || vals[1] == NULL || vals[2] == NULL)
		return HWG_E_STORE;
	if (a->n == a->max)
		return HWG_E_TOO_LARGE;
	if (REG_COPY(a->hits[a->n].resident_code, vals[0]) ||
	    REG_COPY(a->hits[a->n].status, vals[2]))
		return HWG_E_STORE;
	a->hits[a->n].version = strtoll(vals[1], NULL, 10);
	a->n++;
	return 0;
}

int
hwgw_registry_search(struct hwgw_registry *r, const struct reg_query *q, struct reg_hit *hits,
                     size_t max, size_t *n, struct hwg_error *err)
{
	const char *names[5] = {"name", "kana", "birth", "sex", "address"};
	const char *vals[5] = {q->name, q->kana, q->birth, q->sex, q->address};
	const char *p[5];
	char sql[600], pat[600];
	struct hits_arg a = {hits, max, 0};
	int k = 0, np = 0, rc;
	size_t o;

	*n = 0;
	k = given(q->name) + given(q->kana) + given(q->address) + given(q->birth);
	if (k < 2)
		return too_few(q, k, err);
	if (given(q->address) && like_prefix(q->address, pat, sizeof(pat)) != 0)
		return hwg_error_set(err, HWG_E_INVALID, "search: address too long");
	o = (size_t)snprintf(sql, sizeof(sql),
	                     "SELECT resident_code, version, status FROM residents WHERE 1 = 1");
	for (int i = 0; i < 5; i++) {
		if (!given(vals[i]))
			continue;
		o += (size_t)snprintf(sql + o, sizeof(sql) - o,
		                      i == 4 ? " AND %s LIKE ? ESCAPE '\\'" : " AND %s = ?",
		                      names[i]);
		p[np++] = i == 4 ? pat : vals[i];
	}
	snprintf(sql + o, sizeof(sql) - o, " ORDER BY resident_code LIMIT %zu", max + 1);
	rc = reg_db_query(r->db, sql, np, p, hit_row, &a, NULL, err);
	if (rc == HWG_E_TOO_LARGE)
		rc = hwg_error_set(err, rc, "search: more than %zu records match; give more facts",
		                   max);
	else if (rc == HWG_E_STORE && err != NULL && err->code != rc)
		rc = hwg_error_set(err, rc, "search: a stored value does not fit");
	*n = a.n;
	return rc;
}

int
hwgw_registry_list(struct hwgw_registry *r, const char *after, struct reg_hit *hits, size_t max,
                   size_t *n, struct hwg_error *err)
{
	const char *p[1] = {after != NULL ? after : ""};
	struct hits_arg a = {hits, max, 0};
	char sql[200];
	int rc;

	snprintf(sql, sizeof(sql),
	         "SELECT resident_code, version, status FROM residents WHERE resident_code > ?"
	         " ORDER BY resident_code LIMIT %zu",
	         max);
	rc = reg_db_query(r->db, sql, 1, p, hit_row, &a, NULL, err);
	if (rc == HWG_E_STORE && err != NULL && err->code != rc)
		rc = hwg_error_set(err, rc, "list: a stored value does not fit");
	*n = a.n;
	return rc;
}

/* ------------------------------------------------------------ outbox */

struct notice_arg {
	struct hwgw_registry *r;
	struct reg_notice *out;
	size_t max, n;
	struct hwg_error *err;
};

static int
notice_row(void *arg, int ncols, const char *const *v)
{
	struct notice_arg *a = arg;
	struct reg_notice *x = &a->out[a->n];

	if (ncols != 11 || a->n == a->max)
		return HWG_E_STORE;
	memset(x, 0, sizeof(*x));
	x->seq = strtoll(v[0], NULL, 10);
	x->version = strtoll(v[2], NULL, 10);
	if (REG_COPY(x->resident_code, v[1]) || REG_COPY(x->name, v[3]) ||
	    REG_COPY(x->kana, v[4]) || REG_COPY(x->birth, v[5]) || REG_COPY(x->sex, v[6]) ||
	    REG_COPY(x->address, v[7]) || REG_COPY(x->reason, v[9]) ||
	    REG_COPY(x->change_date, v[10]))
		return HWG_E_STORE;
	if (v[8] != NULL && v[8][0] != '\0' &&
	    reg_mn_open(&a->r->key, x->resident_code, v[8], x->my_number, a->err) != 0)
		return HWG_E_TAMPERED;
	a->n++;
	return 0;
}

int
hwgw_registry_outbox(struct hwgw_registry *r, struct reg_notice *out, size_t max, size_t *n,
                     struct hwg_error *err)
{
	struct notice_arg a = {r, out, max, 0, err};
	char sql[1024];
	int rc;

	*n = 0;
	snprintf(sql, sizeof(sql),
	         "SELECT o.seq, o.resident_code, o.version, v.name, v.kana, v.birth, v.sex,"
	         " v.address, v.mn_sealed, v.reason, v.change_date FROM outbox o"
	         " JOIN record_versions v ON v.resident_code = o.resident_code"
	         " AND v.version = o.version WHERE o.sent_ms IS NULL AND o.seq < COALESCE("
	         "(SELECT min(b.seq) FROM outbox b JOIN reconcile_diffs d"
	         " ON d.resident_code = b.resident_code AND d.resolved IS NULL"
	         " WHERE b.sent_ms IS NULL), 9223372036854775807) ORDER BY o.seq LIMIT %zu",
	         max);
	rc = reg_db_query(r->db, sql, 0, NULL, notice_row, &a, NULL, err);
	if (rc == HWG_E_STORE && err != NULL && err->code != rc)
		rc = hwg_error_set(err, rc, "outbox: a stored notice does not fit");
	*n = a.n;
	return rc;
}

int
hwgw_registry_outbox_done(struct hwgw_registry *r, int64_t seq, struct hwg_error *err)
{
	char s[24], now[24];
	const char *p[2] = {now, s};
	long changed = 0;
	int rc;

	snprintf(s, sizeof(s), "%lld", (long long)seq);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL) * 1000);
	rc = reg_db_query(r->db,
	                  "UPDATE outbox SET sent_ms = ?, attempts = attempts + 1"
	                  " WHERE seq = ? AND sent_ms IS NULL",
	                  2, p, NULL, NULL, &changed, err);
	if (rc == 0 && changed != 1)
		rc = hwg_error_set(err, HWG_E_NOT_FOUND, "outbox: no undelivered notice %lld",
		                   (long long)seq);
	return rc;
}

/* ------------------------------------------------------- DV measures */

static int
dv_write(struct hwgw_registry *r, const char *sql, const char *code, const char *date,
         const char *what, struct hwg_error *err)
{
	const char *p[2] = {date, code};
	long changed = 0;
	int rc;

	if ((rc = reg_code_validate(code, err)) != 0 || (rc = reg_date_check(what, date, err)) != 0)
		return rc;
	if ((rc = reg_db_query(r->db, sql, 2, p, NULL, NULL, &changed, err)) != 0)
		return rc == HWG_E_EXISTS
		           ? hwg_error_set(err, rc, "DV measure for %s applied on %s exists", code,
		                           date)
		           : rc;
	if (changed != 1)
		return hwg_error_set(err, HWG_E_NOT_FOUND, "DV measure for %s: none open to %s",
		                     code, what);
	return 0;
}

int
hwgw_registry_dv_apply(struct hwgw_registry *r, const char *code, const char *applied,
                       struct hwg_error *err)
{
	struct reg_person cur;
	int rc;

	if ((rc = hwgw_registry_get(r, code, 0, &cur, err)) != 0)
		return rc;
	return dv_write(r,
	                "INSERT INTO dv_measures (applied, resident_code, decided, ended)"
	                " VALUES (?, ?, NULL, NULL)",
	                code, applied, "applied", err);
}

int
hwgw_registry_dv_decide(struct hwgw_registry *r, const char *code, const char *decided,
                        struct hwg_error *err)
{
	return dv_write(r,
	                "UPDATE dv_measures SET decided = ? WHERE resident_code = ?"
	                " AND decided IS NULL AND ended IS NULL",
	                code, decided, "decide", err);
}

int
hwgw_registry_dv_end(struct hwgw_registry *r, const char *code, const char *ended,
                     struct hwg_error *err)
{
	return dv_write(
	    r, "UPDATE dv_measures SET ended = ? WHERE resident_code = ? AND ended IS NULL", code,
	    ended, "end", err);
}

int
hwgw_registry_dv_in_force(struct hwgw_registry *r, const char *code, const char *day,
                          struct hwg_error *err)
{
	const char *p[3] = {code, day, day};
	int64_t n = 0;
	int rc;

	if ((rc = reg_date_check("day", day, err)) != 0)
		return rc;
	rc = reg_db_query(r->db,
	                  "SELECT count(*) FROM dv_measures WHERE resident_code = ?"
	                  " AND applied <= ? AND (ended IS NULL OR ended > ?)",
	                  3, p, reg_row_i64, &n, NULL, err);
	return rc != 0 ? rc : n > 0;
}
