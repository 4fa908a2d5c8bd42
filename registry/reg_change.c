/*
 * reg_change.c — the changes a counter records (move-in, birth, in-town
 * move, move-out, household change, death, control flags) with the logic
 * checks the source documents name, each in one transaction that also
 * queues its identity-information notification in the outbox under the
 * change's update sequence number.
 *
 * Every change first takes the next update sequence number: the counter's
 * row stays locked until the transaction ends, so changes are serialised
 * (on PostgreSQL too, where every statement after the lock sees the
 * latest commit) and a refused change gives its number back by rolling
 * back: the numbers have no gaps and never repeat.
 */
#include <stdio.h>
#include <string.h>

#include "hwg_secret.h"
#include "reg_ids.h"
#include "reg_internal.h"

#define HEAD "世帯主"
#define MEMBERS_MAX 64
#define RETRIES 5

static int
actor_check(const struct reg_actor *who, struct hwg_error *err)
{
	int rc;

	if (who == NULL || who->operator_id == NULL || who->operator_id[0] == '\0')
		return hwg_error_set(err, HWG_E_INVALID, "change: no operator");
	if ((rc = reg_date_check("change date", who->date, err)) != 0)
		return rc;
	if (strlen(who->operator_id) >= 64 ||
	    (who->terminal_id != NULL && strlen(who->terminal_id) >= 64))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "change: operator or terminal id too long");
	return 0;
}

static int
outbox_add(struct hwgw_registry *r, const struct reg_person *x, struct hwg_error *err)
{
	char s[24], v[24];
	const char *p[3] = {s, x->resident_code, v};

	snprintf(s, sizeof(s), "%lld", (long long)x->seq);
	snprintf(v, sizeof(v), "%lld", (long long)x->version);
	return reg_db_query(r->db,
	                    "INSERT INTO outbox (seq, resident_code, version, sent_ms, attempts)"
	                    " VALUES (?, ?, ?, NULL, 0)",
	                    3, p, NULL, NULL, NULL, err);
}

/* One change in one transaction: the sequence number, fn, the version, the notice. */
static int
run_once(struct hwgw_registry *r, change_fn fn, const void *arg, const struct reg_actor *who,
         int notify, struct reg_person *out, struct hwg_error *err)
{
	struct reg_person next;
	int64_t seq;
	int rc;

	memset(&next, 0, sizeof(next));
	if ((rc = reg_db_begin(r->db, REG_TX_WRITE, err)) != 0)
		return rc;
	rc = reg_counter_next(r, "seq", &seq, err);
	r->seq = seq;
	if (rc == 0 && (rc = fn(r, arg, who, &next, err)) == 0) {
		next.seq = seq;
		REG_COPY(next.operator_id, who->operator_id);
		REG_COPY(next.terminal_id, who->terminal_id);
		REG_COPY(next.change_date, who->date);
		next.name_gaiji = reg_gaiji_count(next.name);
		next.address_gaiji = reg_gaiji_count(next.address);
		if ((rc = reg_version_store(r, &next, err)) == 0 && notify)
			rc = outbox_add(r, &next, err);
	}
	if (rc == 0)
		rc = reg_db_commit(r->db, err);
	if (rc != 0)
		reg_db_rollback(r->db);
	else if (out != NULL)
		*out = next;
	hwg_wipe(next.my_number, sizeof(next.my_number));
	return rc;
}

/* The change, tried again when the engine lost it to a deadlock or a busy lock. */
int
reg_run_change(struct hwgw_registry *r, change_fn fn, const void *arg, const struct reg_actor *who,
               int notify, struct reg_person *out, struct hwg_error *err)
{
	int rc, tries = 0;

	if ((rc = actor_check(who, err)) != 0)
		return rc;
	do
		rc = run_once(r, fn, arg, who, notify, out, err);
	while (rc == HWG_E_UNAVAILABLE && ++tries < RETRIES);
	return rc;
}

/* The current version, which must be a current resident's. */
static int
load_active(struct hwgw_registry *r, const char *code, int with_mn, struct reg_person *cur,
            struct hwg_error *err)
{
	int rc;

	if ((rc = reg_code_validate(code, err)) != 0 ||
	    (rc = reg_version_load(r, code, 0, with_mn, cur, err)) != 0)
		return rc;
	if (strcmp(cur->status, REG_ACTIVE) != 0)
		return hwg_error_set(err, HWG_E_NOT_RESIDENT,
		                     "record %s is not a current resident (%s)", code, cur->status);
	return 0;
}

/* ------------------------------------------------------- households */

static int
new_household(struct hwgw_registry *r, char *id, size_t n, struct hwg_error *err)
{
	const char *p[2];
	char seq[24];
	int64_t k;
	int rc;

	if ((rc = reg_counter_next(r, "household", &k, err)) != 0)
		return rc;
	snprintf(id, n, "H%08lld", (long long)k);
	snprintf(seq, sizeof(seq), "%lld", (long long)k);
	p[0] = id;
	p[1] = seq;
	return reg_db_query(r->db,
	                    "INSERT INTO households (household_id, created_seq) VALUES (?, ?)", 2,
	                    p, NULL, NULL, NULL, err);
}

/* 1 if a current member of household is its head (other than code), else 0. */
static int
has_head(struct hwgw_registry *r, const char *household, const char *code, int *yes,
         struct hwg_error *err)
{
	int64_t n = 0;
	const char *p[3] = {household, HEAD, code};
	int rc;

	rc = reg_db_query(r->db,
	                  "SELECT count(*) FROM residents WHERE household_id = ? AND relation = ?"
	                  " AND status = 'active' AND resident_code <> ?",
	                  3, p, reg_row_i64, &n, NULL, err);
	*yes = n > 0;
	return rc;
}

/*
 * Put next into household (""): a new one with next as head) as relation:
 * the household must have current members, and it keeps one head.
 */
static int
join_household(struct hwgw_registry *r, const char *household, const char *relation,
               struct reg_person *next, struct hwg_error *err)
{
	char codes[MEMBERS_MAX][REG_CODE_LEN + 1];
	size_t n = 0;
	int head, rc;

	if (household == NULL || household[0] == '\0') {
		REG_COPY(next->relation, HEAD);
		return new_household(r, next->household, sizeof(next->household), err);
	}
	if ((rc = reg_text_check("relation (続柄)", relation, 63, err)) != 0 ||
	    (rc = reg_household_members(r, household, codes, MEMBERS_MAX, &n, err)) != 0)
		return rc;
	if (n == 0)
		return hwg_error_set(err, HWG_E_LOGIC_CHECK, "household %s has no current members",
		                     household);
	if (strcmp(relation, HEAD) == 0) {
		if ((rc = has_head(r, household, next->resident_code, &head, err)) != 0)
			return rc;
		if (head)
			return hwg_error_set(err, HWG_E_LOGIC_CHECK,
			                     "household %s has a head (世帯主) already", household);
	}
	if (REG_COPY(next->household, household) || REG_COPY(next->relation, relation))
		return hwg_error_set(err, HWG_E_INVALID, "household or relation too long");
	return 0;
}

/* ------------------------------------------------------ the facts */

static int
address_check(const struct reg_person *p, struct hwg_error *err)
{
	int rc;

	if ((rc = reg_text_check("address (住所)", p->address, 255, err)) != 0)
		return rc;
	if (!reg_digits(p->city_code, 6))
		return hwg_error_set(err, HWG_E_INVALID, "city code (市町村コード): not 6 digits");
	if (p->aza_code[0] != '\0' && !reg_digits(p->aza_code, strlen(p->aza_code)))
		return hwg_error_set(err, HWG_E_INVALID, "大字・字コード: not digits");
	if (!reg_digits(p->postcode, 7))
		return hwg_error_set(err, HWG_E_INVALID, "postcode (郵便番号): not 7 digits");
	return 0;
}

static int
optional_dates(const struct reg_person *p, struct hwg_error *err)
{
	const char *names[3] = {"resident since", "address since", "notified"};
	const char *vals[3] = {p->resident_since, p->address_since, p->notified};
	int rc;

	for (int i = 0; i < 3; i++)
		if (vals[i][0] != '\0' && (rc = reg_date_check(names[i], vals[i], err)) != 0)
			return rc;
	return 0;
}

/* The facts of a person as a form gives them; code_needed 0 for a birth. */
int
reg_facts_check(const struct reg_person *p, int code_needed, struct hwg_error *err)
{
	int rc;

	if ((code_needed || p->resident_code[0] != '\0') &&
	    (rc = reg_code_validate(p->resident_code, err)) != 0)
		return rc;
	if ((rc = reg_text_check("name (氏名)", p->name, 191, err)) != 0 ||
	    (rc = reg_kana_check("furigana (フリガナ)", p->kana, err)) != 0 ||
	    (rc = reg_date_check("birth date", p->birth, err)) != 0 ||
	    (rc = address_check(p, err)) != 0 || (rc = optional_dates(p, err)) != 0)
		return rc;
	if (strcmp(p->sex, "1") != 0 && strcmp(p->sex, "2") != 0)
		return hwg_error_set(err, HWG_E_INVALID, "sex: not 1 (male) or 2 (female)");
	if (p->former_surname_kana[0] != '\0' &&
	    (rc = reg_kana_check("former surname furigana", p->former_surname_kana, err)) != 0)
		return rc;
	if (p->my_number[0] != '\0' && (rc = reg_mn_validate(p->my_number, err)) != 0)
		return rc;
	return 0;
}

/* A current resident other than code with this My Number is HWG_E_ALREADY_REGISTERED. */
static int
mn_unique(struct hwgw_registry *r, const char *code, const char *mn, struct hwg_error *err)
{
	char hash[REG_MN_HASH_HEX + 1], other[32] = "";
	const char *p[2] = {hash, code};
	int rc;

	if (mn[0] == '\0')
		return 0;
	if (reg_mn_hash(&r->key, mn, hash) != 0)
		return hwg_error_set(err, HWG_E_INTERNAL, "My Number: hash failed");
	rc = reg_db_query(r->db,
	                  "SELECT resident_code FROM residents WHERE mn_hash = ?"
	                  " AND status = 'active' AND resident_code <> ?",
	                  2, p, reg_row_text32, other, NULL, err);
	if (rc == 0 && other[0] != '\0')
		rc = hwg_error_set(err, HWG_E_ALREADY_REGISTERED,
		                   "a current resident (%s) already has this My Number", other);
	return rc;
}

/* The person must not be a current resident; *version gets the next version number. */
static int
not_registered(struct hwgw_registry *r, const char *code, int64_t *version, struct hwg_error *err)
{
	struct reg_person cur;
	int rc = reg_version_load(r, code, 0, 0, &cur, err);

	*version = 1;
	if (rc == HWG_E_NOT_FOUND) {
		hwg_error_clear(err);
		return 0;
	}
	if (rc != 0)
		return rc;
	if (strcmp(cur.status, REG_ACTIVE) == 0)
		return hwg_error_set(err, HWG_E_ALREADY_REGISTERED,
		                     "resident code %s is already registered here (household %s, "
		                     "since %s): a move-in of a registered person is refused",
		                     code, cur.household, cur.resident_since);
	*version = cur.version + 1;
	return 0;
}

/* ------------------------------------------------------ move-in, birth */

int
reg_do_move_in(struct hwgw_registry *r, const void *arg, const struct reg_actor *who,
               struct reg_person *next, struct hwg_error *err)
{
	const struct reg_person *p = arg;
	int64_t version;
	int rc;

	if ((rc = not_registered(r, p->resident_code, &version, err)) != 0 ||
	    (rc = mn_unique(r, p->resident_code, p->my_number, err)) != 0)
		return rc;
	*next = *p;
	next->version = version;
	REG_COPY(next->status, REG_ACTIVE);
	REG_COPY(next->reason, "move_in");
	next->moving_to[0] = next->moving_date[0] = '\0';
	if (next->resident_since[0] == '\0')
		REG_COPY(next->resident_since, who->date);
	if (next->address_since[0] == '\0')
		REG_COPY(next->address_since, who->date);
	if (next->notified[0] == '\0')
		REG_COPY(next->notified, who->date);
	return join_household(r, p->household, p->relation, next, err);
}

int
hwgw_registry_move_in(struct hwgw_registry *r, const struct reg_person *p,
                      const struct reg_actor *who, struct reg_person *out, struct hwg_error *err)
{
	int rc;

	if ((rc = reg_facts_check(p, 1, err)) != 0)
		return rc;
	if (p->my_number[0] == '\0')
		return hwg_error_set(err, HWG_E_INVALID, "move-in: no My Number");
	return reg_run_change(r, reg_do_move_in, p, who, 1, out, err);
}

/* A new resident code: this register's counter, 7 and nine digits, the check digit. */
static int
new_code(struct hwgw_registry *r, char code[REG_CODE_LEN + 1], struct hwg_error *err)
{
	int64_t k;
	int rc;

	if ((rc = reg_counter_next(r, "code", &k, err)) != 0)
		return rc;
	snprintf(code, REG_CODE_LEN + 1, "7%09lld", (long long)(k % 1000000000));
	code[10] = (char)('0' + reg_code_check_digit(code));
	code[11] = '\0';
	return 0;
}

static int
do_birth(struct hwgw_registry *r, const void *arg, const struct reg_actor *who,
         struct reg_person *next, struct hwg_error *err)
{
	const struct reg_person *p = arg;
	int rc;

	if (strcmp(p->birth, who->date) > 0)
		return hwg_error_set(err, HWG_E_LOGIC_CHECK,
		                     "birth date %s is after the change date", p->birth);
	*next = *p;
	if (p->resident_code[0] == '\0' && (rc = new_code(r, next->resident_code, err)) != 0)
		return rc;
	if ((rc = not_registered(r, next->resident_code, &next->version, err)) != 0 ||
	    (rc = mn_unique(r, next->resident_code, p->my_number, err)) != 0)
		return rc;
	REG_COPY(next->status, REG_ACTIVE);
	REG_COPY(next->reason, "birth");
	REG_COPY(next->resident_since, p->birth);
	if (next->address_since[0] == '\0')
		REG_COPY(next->address_since, p->birth);
	if (next->notified[0] == '\0')
		REG_COPY(next->notified, who->date);
	return join_household(r, p->household, p->relation, next, err);
}

int
hwgw_registry_birth(struct hwgw_registry *r, const struct reg_person *p,
                    const struct reg_actor *who, struct reg_person *out, struct hwg_error *err)
{
	int rc;

	if ((rc = reg_facts_check(p, 0, err)) != 0)
		return rc;
	if (p->household[0] == '\0')
		return hwg_error_set(err, HWG_E_INVALID, "birth: no household");
	return reg_run_change(r, do_birth, p, who, 1, out, err);
}

/* ------------------------------------------------------ in-town move */

/* The first field other than the address's that p changes, or NULL. */
static const char *
changed_besides_address(const struct reg_person *cur, const struct reg_person *p)
{
	struct {
		const char *name, *a, *b;
	} f[] = {
	    {"name", cur->name, p->name},
	    {"furigana", cur->kana, p->kana},
	    {"birth date", cur->birth, p->birth},
	    {"sex", cur->sex, p->sex},
	    {"former surname", cur->former_surname, p->former_surname},
	    {"former surname furigana", cur->former_surname_kana, p->former_surname_kana},
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcmp(f[i].a, f[i].b) != 0)
			return f[i].name;
	if (p->resident_since[0] != '\0' && strcmp(cur->resident_since, p->resident_since) != 0)
		return "resident since";
	if (p->relation[0] != '\0' && strcmp(cur->relation, p->relation) != 0)
		return "relation";
	if (p->household[0] != '\0' && strcmp(cur->household, p->household) != 0)
		return "household";
	if (p->my_number[0] != '\0' && hwg_ct_memcmp(cur->my_number, p->my_number, 13) != 0)
		return "My Number";
	return NULL;
}

static int
do_move_within(struct hwgw_registry *r, const void *arg, const struct reg_actor *who,
               struct reg_person *next, struct hwg_error *err)
{
	const struct reg_person *p = arg;
	const char *what;
	int rc;

	if ((rc = load_active(r, p->resident_code, 1, next, err)) != 0)
		return rc;
	if ((what = changed_besides_address(next, p)) != NULL)
		return hwg_error_set(
		    err, HWG_E_LOGIC_CHECK,
		    "in-town move of %s changes the %s: only the address may change",
		    p->resident_code, what);
	if (strcmp(next->address, p->address) == 0)
		return hwg_error_set(err, HWG_E_LOGIC_CHECK,
		                     "in-town move of %s: the address is the same",
		                     p->resident_code);
	REG_COPY(next->previous_address, next->address);
	REG_COPY(next->address, p->address);
	REG_COPY(next->city_code, p->city_code);
	REG_COPY(next->aza_code, p->aza_code);
	REG_COPY(next->postcode, p->postcode);
	REG_COPY(next->address_since, p->address_since[0] ? p->address_since : who->date);
	REG_COPY(next->notified, who->date);
	REG_COPY(next->reason, "in_town_move");
	next->version++;
	return 0;
}

int
hwgw_registry_move_within(struct hwgw_registry *r, const struct reg_person *p,
                          const struct reg_actor *who, struct reg_person *out,
                          struct hwg_error *err)
{
	int rc;

	if ((rc = reg_facts_check(p, 1, err)) != 0)
		return rc;
	return reg_run_change(r, do_move_within, p, who, 1, out, err);
}

/* ------------------------------------------- move-out, death, household */

struct simple_arg {
	const char *code, *a, *b;
};

static int
do_move_out(struct hwgw_registry *r, const void *arg, const struct reg_actor *who,
            struct reg_person *next, struct hwg_error *err)
{
	const struct simple_arg *s = arg;
	int rc;

	if ((rc = load_active(r, s->code, 1, next, err)) != 0)
		return rc;
	if (strcmp(s->b, who->date) < 0)
		return hwg_error_set(err, HWG_E_LOGIC_CHECK,
		                     "move-out date %s is before the notification %s", s->b,
		                     who->date);
	REG_COPY(next->status, REG_MOVED_OUT);
	REG_COPY(next->moving_to, s->a);
	REG_COPY(next->moving_date, s->b);
	REG_COPY(next->notified, who->date);
	REG_COPY(next->reason, "move_out");
	next->version++;
	return 0;
}

int
hwgw_registry_move_out(struct hwgw_registry *r, const char *code, const char *moving_to,
                       const char *moving_date, const struct reg_actor *who, struct reg_person *out,
                       struct hwg_error *err)
{
	struct simple_arg s = {code, moving_to, moving_date};
	int rc;

	if ((rc = reg_text_check("moving to (転出先)", moving_to, 255, err)) != 0 ||
	    (rc = reg_date_check("moving date", moving_date, err)) != 0)
		return rc;
	return reg_run_change(r, do_move_out, &s, who, 1, out, err);
}

static int
do_death(struct hwgw_registry *r, const void *arg, const struct reg_actor *who,
         struct reg_person *next, struct hwg_error *err)
{
	const struct simple_arg *s = arg;
	int rc;

	(void)who;
	if ((rc = load_active(r, s->code, 1, next, err)) != 0)
		return rc;
	REG_COPY(next->status, REG_DEAD);
	REG_COPY(next->reason, "death");
	next->version++;
	return 0;
}

int
hwgw_registry_death(struct hwgw_registry *r, const char *code, const struct reg_actor *who,
                    struct reg_person *out, struct hwg_error *err)
{
	struct simple_arg s = {code, NULL, NULL};

	return reg_run_change(r, do_death, &s, who, 1, out, err);
}

/* A head may not leave a household that keeps other current members. */
static int
head_may_leave(struct hwgw_registry *r, const struct reg_person *cur, struct hwg_error *err)
{
	char codes[MEMBERS_MAX][REG_CODE_LEN + 1];
	size_t n = 0;
	int rc;

	if (strcmp(cur->relation, HEAD) != 0)
		return 0;
	if ((rc = reg_household_members(r, cur->household, codes, MEMBERS_MAX, &n, err)) != 0)
		return rc;
	if (n > 1)
		return hwg_error_set(err, HWG_E_LOGIC_CHECK,
		                     "%s is the head of household %s, which keeps %zu other "
		                     "member(s): make another member head first",
		                     cur->resident_code, cur->household, n - 1);
	return 0;
}

static int
do_household(struct hwgw_registry *r, const void *arg, const struct reg_actor *who,
             struct reg_person *next, struct hwg_error *err)
{
	const struct simple_arg *s = arg;
	int same, rc;

	(void)who;
	if ((rc = load_active(r, s->code, 1, next, err)) != 0)
		return rc;
	same = s->a[0] != '\0' && strcmp(s->a, next->household) == 0;
	if (same && strcmp(s->b, next->relation) == 0)
		return hwg_error_set(err, HWG_E_LOGIC_CHECK,
		                     "%s is in household %s as %s already: nothing changes",
		                     s->code, s->a, s->b);
	if (!same && (rc = head_may_leave(r, next, err)) != 0)
		return rc;
	if ((rc = join_household(r, s->a, s->b, next, err)) != 0)
		return rc;
	REG_COPY(next->reason, "household_change");
	REG_COPY(next->notified, who->date);
	next->version++;
	return 0;
}

int
hwgw_registry_household_change(struct hwgw_registry *r, const char *code, const char *household,
                               const char *relation, const struct reg_actor *who,
                               struct reg_person *out, struct hwg_error *err)
{
	struct simple_arg s = {code, household != NULL ? household : "",
	                       relation != NULL ? relation : ""};

	return reg_run_change(r, do_household, &s, who, 1, out, err);
}

/* ------------------------------------------------------ control flags */

struct controls_arg {
	const char *code;
	int cert, wide;
};

static int
do_controls(struct hwgw_registry *r, const void *arg, const struct reg_actor *who,
            struct reg_person *next, struct hwg_error *err)
{
	const struct controls_arg *c = arg;
	int rc;

	(void)who;
	if ((rc = reg_code_validate(c->code, err)) != 0 ||
	    (rc = reg_version_load(r, c->code, 0, 1, next, err)) != 0)
		return rc;
	next->cert_control = c->cert;
	next->wide_control = c->wide;
	REG_COPY(next->reason, "controls");
	next->version++;
	return 0;
}

int
hwgw_registry_set_controls(struct hwgw_registry *r, const char *code, int cert_control,
                           int wide_control, const struct reg_actor *who, struct hwg_error *err)
{
	struct controls_arg c = {code, cert_control, wide_control};

	return reg_run_change(r, do_controls, &c, who, 0, NULL, err);
}
