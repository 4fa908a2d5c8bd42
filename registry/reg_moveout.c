/*
 * reg_moveout.c — special move-in (特例転入, 住基法 §24-2): the move-out
 * data another city sends ahead of the person (転出証明書情報), kept
 * pending; the move-in recorded when the person presents the card and its
 * facts (name, address, birth date, sex, as card.read_info reads them,
 * and the My Number) match that data; and the erasure of data nobody
 * claimed within a period, which leaves a row saying what was erased and
 * when, with no personal data in it.
 *
 * The pending data's My Number is sealed and hashed as a record's is
 * (reg_mn.c) and found by its keyed hash.  The match and the move-in run
 * in the move-in's own transaction (reg_run_change), so data is claimed
 * once: the claim carries the change's update sequence number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_secret.h"
#include "reg_csv.h"
#include "reg_ids.h"
#include "reg_internal.h"

#define ERASE_BATCH 1000

/* ------------------------------------------------------- receiving */

static int
moveout_check(const struct reg_moveout *m, struct hwg_error *err)
{
	int rc;

	if ((rc = reg_code_validate(m->resident_code, err)) != 0 ||
	    (rc = reg_mn_validate(m->my_number, err)) != 0 ||
	    (rc = reg_text_check("name (氏名)", m->name, 191, err)) != 0 ||
	    (rc = reg_kana_check("furigana (フリガナ)", m->kana, err)) != 0 ||
	    (rc = reg_date_check("birth date", m->birth, err)) != 0 ||
	    (rc = reg_text_check("address (住所)", m->address, 255, err)) != 0 ||
	    (rc = reg_date_check("moving date", m->moving_date, err)) != 0 ||
	    (rc = reg_date_check("received", m->received, err)) != 0)
		return rc;
	if (strcmp(m->sex, "1") != 0 && strcmp(m->sex, "2") != 0)
		return hwg_error_set(err, HWG_E_INVALID, "sex: not 1 (male) or 2 (female)");
	if (!reg_digits(m->from_city, 6))
		return hwg_error_set(err, HWG_E_INVALID, "from_city: not a 6-digit city code");
	if (m->moving_to[0] != '\0' &&
	    (rc = reg_text_check("moving to", m->moving_to, 255, err)) != 0)
		return rc;
	return 0;
}

/* Data for this My Number already pending is refused: one person, one move. */
static int
not_pending(struct hwgw_registry *r, const char *hash, struct hwg_error *err)
{
	const char *p[1] = {hash};
	int64_t n = 0;
	int rc = reg_db_query(r->db,
	                      "SELECT count(*) FROM moveouts WHERE mn_hash = ?"
	                      " AND claimed_seq IS NULL",
	                      1, p, reg_row_i64, &n, NULL, err);

	if (rc == 0 && n > 0)
		rc = hwg_error_set(err, HWG_E_EXISTS,
		                   "move-out data for this person is pending already");
	return rc;
}

/* Store m, in the caller's transaction. */
static int
receive(struct hwgw_registry *r, const struct reg_moveout *m, int64_t *id, struct hwg_error *err)
{
	char sealed[REG_MN_SEALED_HEX + 1], hash[REG_MN_HASH_HEX + 1], ids[24];
	const char *p[13] = {ids,          m->resident_code, m->name,    m->kana, m->birth,
	                     m->sex,       m->address,       sealed,     hash,    m->from_city,
	                     m->moving_to, m->moving_date,   m->received};
	int rc;

	if ((rc = moveout_check(m, err)) != 0)
		return rc;
	if (reg_mn_hash(&r->key, m->my_number, hash) != 0)
		return hwg_error_set(err, HWG_E_INTERNAL, "My Number: hash failed");
	if ((rc = not_pending(r, hash, err)) != 0 ||
	    (rc = reg_mn_seal(&r->key, m->resident_code, m->my_number, sealed, err)) != 0 ||
	    (rc = reg_counter_next(r, "moveout", id, err)) != 0)
		return rc;
	snprintf(ids, sizeof(ids), "%lld", (long long)*id);
	rc = reg_db_query(r->db,
	                  "INSERT INTO moveouts (moveout_id, resident_code, name, kana, birth, sex,"
	                  " address, mn_sealed, mn_hash, from_city, moving_to, moving_date,"
	                  " received, claimed_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	                  " NULL)",
	                  13, p, NULL, NULL, NULL, err);
	hwg_wipe(sealed, sizeof(sealed));
	return rc;
}

int
hwgw_registry_moveout_receive(struct hwgw_registry *r, const struct reg_moveout *m, int64_t *id,
                              struct hwg_error *err)
{
	int64_t k = 0;
	int rc;

	if ((rc = reg_db_begin(r->db, REG_TX_WRITE, err)) != 0)
		return rc;
	if ((rc = receive(r, m, &k, err)) == 0)
		rc = reg_db_commit(r->db, err);
	if (rc != 0)
		reg_db_rollback(r->db);
	else if (id != NULL)
		*id = k;
	return rc;
}

/* ---------------------------------------------------------- import */

static const char *const import_cols[] = {
    "resident_code", "name",      "kana",      "birth",     "sex",
    "address",       "my_number", "from_city", "moving_to", "moving_date",
};
#define N_IMPORT (sizeof(import_cols) / sizeof(import_cols[0]))

struct import_map {
	int col[N_IMPORT];
};

static int
import_header(const struct reg_csv *c, struct import_map *m, struct hwg_error *err)
{
	for (size_t i = 0; i < N_IMPORT; i++)
		if ((m->col[i] = reg_csv_column(c, import_cols[i])) < 0)
			return hwg_error_set(err, HWG_E_INVALID, "line 1: no column %s",
			                     import_cols[i]);
	return 0;
}

static int
import_row(struct hwgw_registry *r, const struct reg_csv *c, const struct import_map *m,
           const char *received, struct hwg_error *err)
{
	struct reg_moveout x;
	char *dst[N_IMPORT] = {x.resident_code, x.name,       x.kana,      x.birth,
	                       x.sex,           x.address,    x.my_number, x.from_city,
	                       x.moving_to,     x.moving_date};
	size_t size[N_IMPORT] = {sizeof(x.resident_code), sizeof(x.name),      sizeof(x.kana),
	                         sizeof(x.birth),         sizeof(x.sex),       sizeof(x.address),
	                         sizeof(x.my_number),     sizeof(x.from_city), sizeof(x.moving_to),
	                         sizeof(x.moving_date)};
	int64_t id;
	int rc = 0;

	memset(&x, 0, sizeof(x));
	for (size_t i = 0; i < N_IMPORT && rc == 0; i++)
		if (reg_copy(dst[i], size[i], c->fields[m->col[i]]) != 0)
			rc = hwg_error_set(err, HWG_E_INVALID, "%s too long", import_cols[i]);
	if (rc == 0 && reg_copy(x.received, sizeof(x.received), received) != 0)
		rc = hwg_error_set(err, HWG_E_INVALID, "received: not a date");
	if (rc == 0)
		rc = receive(r, &x, &id, err);
	hwg_wipe(&x, sizeof(x));
	if (rc != 0) {
		char why[sizeof(((struct hwg_error *)0)->message)];
		snprintf(why, sizeof(why), "%s", err != NULL ? err->message : "");
		return hwg_error_set(err, rc, "line %ld: %s", c->line, why);
	}
	return 0;
}

static int
import_all(struct hwgw_registry *r, struct reg_csv *c, const char *received, long *n,
           struct hwg_error *err)
{
	struct import_map m;
	int rc;

	if ((rc = import_header(c, &m, err)) != 0)
		return rc;
	while ((rc = reg_csv_next(c, err)) == 1) {
		if ((rc = import_row(r, c, &m, received, err)) != 0)
			return rc;
		(*n)++;
	}
	return rc;
}

int
hwgw_registry_moveout_import(struct hwgw_registry *r, const char *text, size_t len,
                             const char *received, long *n, struct hwg_error *err)
{
	struct reg_csv c;
	int rc;

	*n = 0;
	if ((rc = reg_csv_open(&c, text, len, err)) != 0) {
		reg_csv_close(&c);
		return rc;
	}
	if ((rc = reg_db_begin(r->db, REG_TX_WRITE, err)) == 0) {
		if ((rc = import_all(r, &c, received, n, err)) == 0)
			rc = reg_db_commit(r->db, err);
		if (rc != 0)
			reg_db_rollback(r->db);
	}
	reg_csv_close(&c);
	if (rc != 0)
		*n = 0;
	return rc;
}

/* ------------------------------------------------ special move-in */

struct pending {
	char id[24], code[32], name[192], kana[192], birth[16], sex[4], address[256];
	char sealed[REG_MN_SEALED_HEX + 1], moving_date[16];
	int found;
};

static int
pending_row(void *arg, int ncols, const char *const *v)
{
	struct pending *x = arg;

	if (ncols != 9 || x->found)
		return HWG_E_STORE;
	if (REG_COPY(x->id, v[0]) || REG_COPY(x->code, v[1]) || REG_COPY(x->name, v[2]) ||
	    REG_COPY(x->kana, v[3]) || REG_COPY(x->birth, v[4]) || REG_COPY(x->sex, v[5]) ||
	    REG_COPY(x->address, v[6]) || REG_COPY(x->sealed, v[7]) ||
	    REG_COPY(x->moving_date, v[8]))
		return HWG_E_STORE;
	x->found = 1;
	return 0;
}

static int
find_pending(struct hwgw_registry *r, const char *mn, struct pending *x, struct hwg_error *err)
{
	char hash[REG_MN_HASH_HEX + 1];
	const char *p[1] = {hash};
	int rc;

	memset(x, 0, sizeof(*x));
	if (reg_mn_hash(&r->key, mn, hash) != 0)
		return hwg_error_set(err, HWG_E_INTERNAL, "My Number: hash failed");
	rc = reg_db_query(r->db,
	                  "SELECT moveout_id, resident_code, name, kana, birth, sex, address,"
	                  " mn_sealed, moving_date FROM moveouts WHERE mn_hash = ?"
	                  " AND claimed_seq IS NULL",
	                  1, p, pending_row, x, NULL, err);
	if (rc == HWG_E_STORE && err != NULL && err->code != rc)
		return hwg_error_set(err, rc, "move-out data: a stored row does not fit");
	if (rc == 0 && !x->found)
		return hwg_error_set(err, HWG_E_NOT_FOUND,
		                     "no move-out data is pending for this card's holder");
	return rc;
}

/* The card's YYYYMMDD as YYYY-MM-DD. */
static void
card_date(const char *s, char out[11])
{
	snprintf(out, 11, "%.4s-%.2s-%.2s", s, s + 4, s + 6);
}

/* The names of the facts that differ, comma-separated in out; 0 if none. */
static int
differences(const struct reg_card_facts *card, const struct pending *x, const char *mn, char *out,
            size_t n)
{
	char birth[11];
	int k = 0;

	card_date(card->birth, birth);
	out[0] = '\0';
	struct {
		const char *name;
		int differs;
	} f[] = {
	    {"name", strcmp(card->name, x->name) != 0},
	    {"address", strcmp(card->address, x->address) != 0},
	    {"birth", strcmp(birth, x->birth) != 0},
	    {"sex", strcmp(card->sex, x->sex) != 0},
	    {"my_number", hwg_ct_memcmp(card->my_number, mn, REG_MN_LEN) != 0},
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].differs)
			k += snprintf(out + strlen(out), n - strlen(out), "%s%s", k ? ", " : "",
			              f[i].name) > 0;
	return k;
}

struct special_arg {
	const struct reg_card_facts *card;
	const struct reg_person *form;
};

/* The person as the move-out data and the form give them. */
static int
person_of(const struct pending *x, const char *mn, const struct reg_person *form,
          struct reg_person *p)
{
	*p = *form;
	if (REG_COPY(p->resident_code, x->code) || REG_COPY(p->name, x->name) ||
	    REG_COPY(p->kana, x->kana) || REG_COPY(p->birth, x->birth) ||
	    REG_COPY(p->sex, x->sex) || REG_COPY(p->previous_address, x->address) ||
	    REG_COPY(p->my_number, mn))
		return HWG_E_INVALID;
	return 0;
}

static int
claim(struct hwgw_registry *r, const char *id, struct hwg_error *err)
{
	char seq[24];
	const char *p[2] = {seq, id};
	long changed = 0;
	int rc;

	snprintf(seq, sizeof(seq), "%lld", (long long)r->seq);
	rc = reg_db_query(r->db,
	                  "UPDATE moveouts SET claimed_seq = ? WHERE moveout_id = ?"
	                  " AND claimed_seq IS NULL",
	                  2, p, NULL, NULL, &changed, err);
	if (rc == 0 && changed != 1)
		rc = hwg_error_set(err, HWG_E_EXISTS, "move-out data %s was claimed already", id);
	return rc;
}

static int
matched_move_in(struct hwgw_registry *r, const struct special_arg *a, const struct pending *x,
                const char *mn, const struct reg_actor *who, struct reg_person *next,
                struct hwg_error *err)
{
	struct reg_person p;
	char diff[128];
	int rc;

	if (differences(a->card, x, mn, diff, sizeof(diff)) > 0)
		return hwg_error_set(err, HWG_E_MOVEOUT_MISMATCH,
		                     "the card's facts differ from the move-out data in: %s", diff);
	if (person_of(x, mn, a->form, &p) != 0)
		rc = hwg_error_set(err, HWG_E_INVALID, "special move-in: a field too long");
	else if ((rc = reg_facts_check(&p, 1, err)) == 0 &&
	         (rc = reg_do_move_in(r, &p, who, next, err)) == 0 &&
	         (rc = claim(r, x->id, err)) == 0)
		REG_COPY(next->reason, "special_move_in");
	hwg_wipe(&p, sizeof(p));
	return rc;
}

static int
do_special(struct hwgw_registry *r, const void *arg, const struct reg_actor *who,
           struct reg_person *next, struct hwg_error *err)
{
	const struct special_arg *a = arg;
	char mn[REG_MN_LEN + 1] = "";
	struct pending x;
	int rc;

	if ((rc = find_pending(r, a->card->my_number, &x, err)) == 0 &&
	    (rc = reg_mn_open(&r->key, x.code, x.sealed, mn, err)) == 0)
		rc = matched_move_in(r, a, &x, mn, who, next, err);
	hwg_wipe(mn, sizeof(mn));
	hwg_wipe(&x, sizeof(x));
	return rc;
}

static int
card_check(const struct reg_card_facts *c, struct hwg_error *err)
{
	if (c == NULL || c->name == NULL || c->address == NULL || c->birth == NULL ||
	    c->sex == NULL || c->my_number == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "special move-in: a card fact missing");
	if (!reg_digits(c->birth, 8))
		return hwg_error_set(err, HWG_E_INVALID, "card birth date: not YYYYMMDD");
	return reg_mn_validate(c->my_number, err);
}

int
hwgw_registry_special_move_in(struct hwgw_registry *r, const struct reg_card_facts *card,
                              const struct reg_person *form, const struct reg_actor *who,
                              struct reg_person *out, struct hwg_error *err)
{
	struct special_arg a = {card, form};
	int rc;

	if ((rc = card_check(card, err)) != 0)
		return rc;
	return reg_run_change(r, do_special, &a, who, 1, out, err);
}

/* ----------------------------------------------------------- expiry */

static long
days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* date minus days, YYYY-MM-DD (date already checked). */
static void
date_minus(const char *date, int days, char out[11])
{
	long z = days_from_civil(atoi(date), atoi(date + 5), atoi(date + 8)) - days + 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	long d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;

	snprintf(out, 11, "%04lu-%02lu-%02lu", (unsigned long)(yoe + era * 400 + (m <= 2)) % 10000u,
	         (unsigned long)m % 100u, (unsigned long)d % 100u);
}

struct erased {
	char (*rows)[3][24];
	size_t n;
};

static int
erased_row(void *arg, int ncols, const char *const *v)
{
	struct erased *e = arg;

	if (ncols != 3 || e->n == ERASE_BATCH)
		return HWG_E_STORE;
	for (int i = 0; i < 3; i++)
		if (reg_copy(e->rows[e->n][i], 24, v[i]) != 0)
			return HWG_E_STORE;
	e->n++;
	return 0;
}

static int
record_erasures(struct hwgw_registry *r, const struct erased *e, const char *today,
                const char *reason, struct hwg_error *err)
{
	int rc = 0;

	for (size_t i = 0; i < e->n && rc == 0; i++) {
		const char *p[5] = {e->rows[i][0], e->rows[i][1], e->rows[i][2], today, reason};
		rc = reg_db_query(r->db,
		                  "INSERT INTO moveout_erasures (moveout_id, from_city, received,"
		                  " erased, reason) VALUES (?, ?, ?, ?, ?)",
		                  5, p, NULL, NULL, NULL, err);
	}
	return rc;
}

/* Up to ERASE_BATCH expired rows erased and recorded in one transaction; *n how many. */
static int
expire_batch(struct hwgw_registry *r, const char *cutoff, const char *today, const char *reason,
             struct erased *e, struct hwg_error *err)
{
	const char *p[2] = {cutoff, cutoff};
	int rc;

	e->n = 0;
	if ((rc = reg_db_begin(r->db, REG_TX_WRITE, err)) != 0)
		return rc;
	rc =
	    reg_db_query(r->db,
	                 "DELETE FROM moveouts WHERE moveout_id IN (SELECT moveout_id FROM moveouts"
	                 " WHERE claimed_seq IS NULL AND received < ? ORDER BY moveout_id"
	                 " LIMIT 1000) AND claimed_seq IS NULL AND received < ?"
	                 " RETURNING moveout_id, from_city, received",
	                 2, p, erased_row, e, NULL, err);
	if (rc == 0)
		rc = record_erasures(r, e, today, reason, err);
	if (rc == 0)
		rc = reg_db_commit(r->db, err);
	if (rc != 0)
		reg_db_rollback(r->db);
	return rc;
}

int
hwgw_registry_moveout_expire(struct hwgw_registry *r, const char *today, int days, long *erased,
                             struct hwg_error *err)
{
	char cutoff[11], reason[64];
	struct erased e = {malloc(ERASE_BATCH * sizeof(*e.rows)), 0};
	int rc;

	*erased = 0;
	if ((rc = reg_date_check("today", today, err)) != 0 || e.rows == NULL) {
		free(e.rows);
		return rc != 0 ? rc : hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	}
	if (days < 1 || days > 3650) {
		free(e.rows);
		return hwg_error_set(err, HWG_E_INVALID, "expiry: days must be 1 to 3650");
	}
	date_minus(today, days, cutoff);
	snprintf(reason, sizeof(reason), "unclaimed %d days", days);
	do {
		rc = expire_batch(r, cutoff, today, reason, &e, err);
		*erased += rc == 0 ? (long)e.n : 0;
	} while (rc == 0 && e.n == ERASE_BATCH);
	free(e.rows);
	return rc;
}
