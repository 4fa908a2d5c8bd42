/*
 * reg_seed.c — a synthetic register for demos, tests and benchmarks: N
 * residents in households of the fictional city 東雲県若葉市, with
 * realistic family and given names and their furigana (some with a 外字),
 * birth dates that fit each household, addresses with their codes, valid
 * check digits for every My Number and resident code, and a few DV
 * support measures and issuance control flags.
 *
 * Everything is drawn from one generator seeded with the seed number, and
 * nothing from the clock: the same N, seed and date make the same
 * register, on either engine.  Resident codes and My Numbers are a
 * permutation of the index (an odd multiplier not divisible by 5 modulo a
 * power of ten), so they never repeat.  Records are written as version 1
 * with reason "seed", each with its own update sequence number, in
 * transactions of about BATCH people, with the search indexes dropped
 * before and made once after (a sorted build instead of a random insert
 * per row); a seeded register queues no notification (it stands for
 * records the CS already holds).  Only an empty register is seeded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_secret.h"
#include "reg_ids.h"
#include "reg_internal.h"
#include "reg_seed_data.h"

#define BATCH 2000
#define HOUSEHOLD_MAX 6
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

struct rng {
	uint64_t s;
};

/* splitmix64: small, fast, and the same on every machine. */
static uint64_t
next64(struct rng *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static int
pick(struct rng *g, int n)
{
	return (int)(next64(g) % (uint64_t)n);
}

/* 1 with probability per_mille / 1000. */
static int
chance(struct rng *g, int per_mille)
{
	return pick(g, 1000) < per_mille;
}

struct seed_ctx {
	struct hwgw_registry *r;
	struct rng g;
	uint64_t seed;
	long index; /* people made so far */
	int year;   /* the date's year */
	const char *date;
	struct reg_seed_stats *st;
};

/* ------------------------------------------------------- identifiers */

static void
make_code(const struct seed_ctx *c, char out[REG_CODE_LEN + 1])
{
	uint64_t k = ((uint64_t)c->index * 7919ULL + c->seed * 104729ULL) % 1000000000ULL;

	snprintf(out, REG_CODE_LEN + 1, "3%09llu", (unsigned long long)k);
	out[10] = (char)('0' + reg_code_check_digit(out));
	out[11] = '\0';
}

static void
make_mn(const struct seed_ctx *c, char out[REG_MN_LEN + 1])
{
	uint64_t k = ((uint64_t)c->index * 2654435761ULL + c->seed * 40503ULL + 1) % 10000000000ULL;

	snprintf(out, REG_MN_LEN + 1, "4%010llu", (unsigned long long)k);
	out[11] = (char)('0' + reg_mn_check_digit(out));
	out[12] = '\0';
}

/* ------------------------------------------------------- the facts */

static void
make_date(struct rng *g, int year, char out[11])
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int m = 1 + pick(g, 12);

	unsigned d = 1 + (unsigned)pick(g, mdays[m - 1]);

	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)year % 10000u, (unsigned)m % 100u, d % 100u);
}

struct address {
	char text[256], aza[13], postcode[8];
	int town, chome;
};

static void
make_address(struct seed_ctx *c, struct address *a)
{
	int gaiji = chance(&c->g, 5);
	const char *town;

	a->town = gaiji ? (int)N_OF(towns) : pick(&c->g, (int)N_OF(towns));
	town = gaiji ? SEED_GAIJI_TOWN : towns[a->town];
	a->chome = 1 + pick(&c->g, 5);
	snprintf(a->text, sizeof(a->text), SEED_PREF SEED_CITY "%s%d丁目%d番%d号", town, a->chome,
	         1 + pick(&c->g, 30), 1 + pick(&c->g, 20));
	snprintf(a->aza, sizeof(a->aza), SEED_CITY5 "0%03u%03u", (unsigned)(a->town + 1) % 1000u,
	         (unsigned)a->chome % 1000u);
	snprintf(a->postcode, sizeof(a->postcode), "999%04u",
	         (unsigned)(100 + a->town * 10 + a->chome) % 10000u);
}

struct family {
	const struct seed_name *surname;
	struct address addr;
	int head_year, head_sex;
};

static void
name_of(struct reg_person *p, const struct seed_name *fam, const struct seed_name *given)
{
	snprintf(p->name, sizeof(p->name), "%s　%s", fam->kanji, given->kanji);
	snprintf(p->kana, sizeof(p->kana), "%s　%s", fam->kana, given->kana);
}

static const struct seed_name *
given_name(struct seed_ctx *c, int sex)
{
	if (sex == 1)
		return &male_names[pick(&c->g, (int)N_OF(male_names))];
	return &female_names[pick(&c->g, (int)N_OF(female_names))];
}

/* When a person came to live here: from birth, or a later move-in. */
static void
residence(struct seed_ctx *c, int birth_year, struct reg_person *p)
{
	int from = birth_year + 18 < c->year ? birth_year + 18 : birth_year;

	if (chance(&c->g, 600) || from >= c->year)
		snprintf(p->resident_since, sizeof(p->resident_since), "%s", p->birth);
	else
		make_date(&c->g, from + pick(&c->g, c->year - from), p->resident_since);
	snprintf(p->address_since, sizeof(p->address_since), "%s", p->resident_since);
	snprintf(p->notified, sizeof(p->notified), "%s", p->resident_since);
}

/* One member of a household: relation, sex and birth year chosen by the caller. */
static void
member(struct seed_ctx *c, const struct family *f, const char *relation, int sex, int year,
       struct reg_person *p)
{
	memset(p, 0, sizeof(*p));
	make_code(c, p->resident_code);
	make_mn(c, p->my_number);
	c->index++;
	name_of(p, f->surname, given_name(c, sex));
	make_date(&c->g, year, p->birth);
	snprintf(p->sex, sizeof(p->sex), "%d", sex);
	snprintf(p->relation, sizeof(p->relation), "%s", relation);
	snprintf(p->city_code, sizeof(p->city_code), "%s", SEED_CITY5 "0");
	p->city_code[5] = (char)('0' + reg_city_check_digit(SEED_CITY5));
	snprintf(p->aza_code, sizeof(p->aza_code), "%s", f->addr.aza);
	snprintf(p->postcode, sizeof(p->postcode), "%s", f->addr.postcode);
	snprintf(p->address, sizeof(p->address), "%s", f->addr.text);
	residence(c, year, p);
	p->version = 1;
	snprintf(p->status, sizeof(p->status), "%s", REG_ACTIVE);
	snprintf(p->reason, sizeof(p->reason), "seed");
	snprintf(p->change_date, sizeof(p->change_date), "%s", c->date);
	snprintf(p->operator_id, sizeof(p->operator_id), "seed");
	snprintf(p->terminal_id, sizeof(p->terminal_id), "seed");
	p->cert_control = chance(&c->g, 2);
	p->wide_control = chance(&c->g, 3);
	p->name_gaiji = reg_gaiji_count(p->name);
	p->address_gaiji = reg_gaiji_count(p->address);
}

/* A wife who kept her former surname registered (旧氏). */
static void
former_surname(struct seed_ctx *c, struct reg_person *p)
{
	const struct seed_name *old = &family_names[pick(&c->g, (int)N_OF(family_names))];

	snprintf(p->former_surname, sizeof(p->former_surname), "%s", old->kanji);
	snprintf(p->former_surname_kana, sizeof(p->former_surname_kana), "%s", old->kana);
}

static int
household_size(struct seed_ctx *c)
{
	static const int cum[HOUSEHOLD_MAX] = {350, 630, 800, 940, 985, 1000};
	int x = pick(&c->g, 1000), k = 0;

	while (x >= cum[k])
		k++;
	return k + 1;
}

/* The household's people into out[]; their count. */
static int
make_household(struct seed_ctx *c, struct family *f, long left, struct reg_person *out)
{
	int n = household_size(c), k = 0, age = 20 + pick(&c->g, 70), spouse;

	n = n > left ? (int)left : n;
	f->surname = chance(&c->g, 10)
	                 ? &gaiji_family_names[pick(&c->g, (int)N_OF(gaiji_family_names))]
	                 : &family_names[pick(&c->g, (int)N_OF(family_names))];
	make_address(c, &f->addr);
	f->head_year = c->year - age;
	f->head_sex = 1 + chance(&c->g, 300);
	member(c, f, "世帯主", f->head_sex, f->head_year, &out[k++]);
	spouse = n > 1 && chance(&c->g, 850);
	if (spouse) {
		int wife = f->head_sex == 1;
		member(c, f, wife ? "妻" : "夫", wife ? 2 : 1, f->head_year - 3 + pick(&c->g, 7),
		       &out[k]);
		if (wife && chance(&c->g, 50))
			former_surname(c, &out[k]);
		k++;
	}
	if (n - k >= 3 && age < 60)
		member(c, f, "母", 2, f->head_year - 22 - pick(&c->g, 10), &out[k++]);
	while (k < n) {
		int y = f->head_year + 22 + pick(&c->g, 20);
		member(c, f, "子", 1 + pick(&c->g, 2), y >= c->year ? c->year - 1 : y, &out[k++]);
	}
	return k;
}

/* ------------------------------------------------------- storing */

static int
store_dv(struct seed_ctx *c, const struct reg_person *p, struct hwg_error *err)
{
	char applied[11], decided[11];
	const char *q[3] = {p->resident_code, applied, NULL};
	int y = c->year - 1 - pick(&c->g, 5);

	make_date(&c->g, y, applied);
	if (chance(&c->g, 700)) {
		snprintf(decided, sizeof(decided), "%s", applied);
		q[2] = decided;
	}
	c->st->dv++;
	return reg_db_query(c->r->db,
	                    "INSERT INTO dv_measures (resident_code, applied, decided, ended)"
	                    " VALUES (?, ?, ?, NULL)",
	                    3, q, NULL, NULL, NULL, err);
}

static int
store_person(struct seed_ctx *c, struct reg_person *p, int64_t seq, struct hwg_error *err)
{
	int rc;

	p->seq = seq;
	if ((rc = reg_version_store(c->r, p, err)) != 0)
		return rc;
	c->st->residents++;
	c->st->controls += p->cert_control != 0 || p->wide_control != 0;
	if (chance(&c->g, 1))
		return store_dv(c, p, err);
	return 0;
}

static int
store_household(struct seed_ctx *c, const char *household, int64_t k, struct hwg_error *err)
{
	char n[24];
	const char *q[2] = {household, n};

	snprintf(n, sizeof(n), "%lld", (long long)k);
	c->st->households++;
	return reg_db_query(c->r->db,
	                    "INSERT INTO households (household_id, created_seq) VALUES (?, ?)", 2,
	                    q, NULL, NULL, NULL, err);
}

/* The batch's people, made before anything is stored; household ids are filled in later. */
struct batch {
	struct reg_person people[BATCH + HOUSEHOLD_MAX];
	int first[BATCH + 1]; /* households: index of each one's first person */
	int n, nh;
};

static void
make_batch(struct seed_ctx *c, long left, struct batch *b)
{
	struct family f;

	b->n = b->nh = 0;
	memset(&f, 0, sizeof(f));
	while (b->n < BATCH && b->n < left) {
		b->first[b->nh++] = b->n;
		b->n += make_household(c, &f, left - b->n, &b->people[b->n]);
	}
	b->first[b->nh] = b->n;
}

/* One transaction: the counters taken once, then every household and person. */
static int
store_batch(struct seed_ctx *c, struct batch *b, struct hwg_error *err)
{
	char id[24];
	int64_t seq, hh;
	int rc;

	if ((rc = reg_counter_take(c->r, "household", b->nh, &hh, err)) != 0 ||
	    (rc = reg_counter_take(c->r, "seq", b->n, &seq, err)) != 0)
		return rc;
	for (int h = 0; h < b->nh && rc == 0; h++) {
		snprintf(id, sizeof(id), "H%08lld", (long long)(hh + h));
		for (int i = b->first[h]; i < b->first[h + 1]; i++)
			memcpy(b->people[i].household, id, sizeof(id));
		rc = store_household(c, id, hh + h, err);
	}
	for (int i = 0; i < b->n && rc == 0; i++)
		rc = store_person(c, &b->people[i], seq + i, err);
	return rc;
}

static int
empty_register(struct hwgw_registry *r, struct hwg_error *err)
{
	int64_t n = 0;
	int rc = reg_db_query(r->db, "SELECT count(*) FROM residents", 0, NULL, reg_row_i64, &n,
	                      NULL, err);

	if (rc == 0 && n != 0)
		rc = hwg_error_set(err, HWG_E_EXISTS,
		                   "seed: the register holds %lld records; only an empty one is "
		                   "seeded",
		                   (long long)n);
	return rc;
}

/* The indexes made again whatever happened; the first failure is the one returned. */
static int
remake_indexes(struct hwgw_registry *r, int rc, struct hwg_error *err)
{
	struct hwg_error again = {0};
	int rc2 = reg_resident_indexes(r, 1, rc == 0 ? err : &again);

	return rc != 0 ? rc : rc2;
}

int
hwgw_registry_seed(struct hwgw_registry *r, long n, uint64_t seed, const char *date,
                   struct reg_seed_stats *st, struct hwg_error *err)
{
	struct seed_ctx c = {.r = r, .g = {seed}, .seed = seed, .date = date, .st = st};
	struct batch *b;
	int rc;

	memset(st, 0, sizeof(*st));
	if (n < 1 || n > 100000000)
		return hwg_error_set(err, HWG_E_INVALID, "seed: N must be 1 to 100000000");
	if ((rc = reg_date_check("seed date", date, err)) != 0)
		return rc;
	c.year =
	    (date[0] - '0') * 1000 + (date[1] - '0') * 100 + (date[2] - '0') * 10 + (date[3] - '0');
	if ((rc = empty_register(r, err)) != 0)
		return rc;
	if ((b = malloc(sizeof(*b))) == NULL)
		return hwg_error_set(err, HWG_E_NOMEM, "out of memory");
	rc = reg_resident_indexes(r, 0, err);
	while (rc == 0 && st->residents < n) {
		make_batch(&c, n - st->residents, b);
		if ((rc = reg_db_begin(r->db, REG_TX_WRITE, err)) != 0)
			break;
		if ((rc = store_batch(&c, b, err)) == 0)
			rc = reg_db_commit(r->db, err);
		if (rc != 0)
			reg_db_rollback(r->db);
	}
	hwg_wipe(b, sizeof(*b));
	free(b);
	return remake_indexes(r, rc, err);
}
