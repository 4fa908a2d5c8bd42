/*
 * test_registry.c — the register's rules, on the engine $HWG_REGISTRY_DB
 * names (a PostgreSQL server's "postgres:host=... user=..." as
 * tests/integration/test_registry_pg.sh gives it; unset: SQLite files in
 * a temporary folder).  Each test gets a register of its own (a new
 * SQLite file, or a new PostgreSQL database).  Both outcomes of every
 * rule: check digits, each change and its logic-check refusal, the
 * notifications and their sequence, five-fact search, issuance to the
 * person, the household, a proxy with and without a letter, a third
 * party, a DV measure, the control flags, the My Number, and the signed
 * document (its key in a PEM file, or in an HSM through PKCS#11), the My
 * Number key sealed in an HSM; then
 * eight writers at once on the same households.
 */
#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_cbor.h"
#include "hwg_cose.h"
#include "hwg_p11.h"
#include "hwg_test.h"
#include "hwgw_registry.h"
#include "reg_certdoc.h"
#include "reg_internal.h"
#include "reg_mn.h"

static char tmpdir[] = "/tmp/hwgw-registry.XXXXXX";
static char keypath[256], signpath[256], uri[512];
static const char *pg_base; /* conninfo of the server, or NULL for SQLite */
static int n_db;
static EVP_PKEY *signkey;

/* ------------------------------------------------------------ fixtures */

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(data, 1, len, f) != len)
		abort();
	fclose(f);
	chmod(path, 0600);
}

/* A fresh register: a new SQLite file or a new PostgreSQL database. */
static const char *
fresh(void)
{
	char name[32];
	struct reg_db *db;
	struct hwg_error err = {0};

	snprintf(name, sizeof(name), "t%d_%d", (int)getpid(), ++n_db);
	if (pg_base == NULL) {
		snprintf(uri, sizeof(uri), "sqlite:%s/%s.db", tmpdir, name);
		return uri;
	}
	if (reg_db_pg_open(pg_base, &db, &err) != 0) {
		fprintf(stderr, "%s\n", err.message);
		abort();
	}
	char sql[64];
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	if (db->ops->exec(db, sql, &err) != 0) {
		fprintf(stderr, "%s\n", err.message);
		abort();
	}
	db->ops->close(db);
	snprintf(uri, sizeof(uri), "postgres:%s dbname=%s", pg_base, name);
	return uri;
}

static struct hwgw_registry *
open_reg(const char *u)
{
	struct hwgw_registry *r = NULL;
	struct hwg_error err = {0};

	if (hwgw_registry_open(u, keypath, &r, &err) != 0)
		fprintf(stderr, "  open %s: %s\n", u, err.message);
	return r;
}

/* A resident code (10 digits from n, then its check digit). */
static const char *
code_of(int n, char out[12])
{
	snprintf(out, 12, "1%09d", n);
	out[10] = (char)('0' + reg_code_check_digit(out));
	out[11] = '\0';
	return out;
}

static const char *
mn_of(int n, char out[13])
{
	snprintf(out, 13, "2%010d", n);
	out[11] = (char)('0' + reg_mn_check_digit(out));
	out[12] = '\0';
	return out;
}

static void
person(struct reg_person *p, int n, const char *name, const char *kana, const char *household,
       const char *relation)
{
	memset(p, 0, sizeof(*p));
	code_of(n, p->resident_code);
	mn_of(n, p->my_number);
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->kana, sizeof(p->kana), "%s", kana);
	snprintf(p->birth, sizeof(p->birth), "1980-04-%02u", 1u + (unsigned)n % 28u);
	snprintf(p->sex, sizeof(p->sex), "%d", 1 + (n + 1) % 2);
	snprintf(p->city_code, sizeof(p->city_code), "442011");
	snprintf(p->postcode, sizeof(p->postcode), "8700001");
	snprintf(p->address, sizeof(p->address), "大分県大分市府内町一丁目%d番", n);
	snprintf(p->household, sizeof(p->household), "%s", household);
	snprintf(p->relation, sizeof(p->relation), "%s", relation);
}

static const struct reg_actor who = {"op-1", "term-1", "2025-04-01"};

/* Move in n as a new household's head (household ""), or into household. */
static int
move_in(struct hwgw_registry *r, int n, const char *household, const char *relation,
        struct reg_person *out)
{
	struct reg_person p;
	struct hwg_error err = {0};
	int rc;

	person(&p, n, "大分　太郎", "オオイタ　タロウ", household, relation);
	rc = hwgw_registry_move_in(r, &p, &who, out, &err);
	if (rc != 0)
		fprintf(stderr, "  move-in %d: %s\n", n, err.message);
	return rc;
}

/* ------------------------------------------------------- identifiers */

static void
test_check_digits(void)
{
	struct hwg_error err = {0};
	char c[12];

	CHECK_EQ_INT(reg_mn_validate("537686677188", &err), 0);
	CHECK_EQ_INT(reg_mn_validate("537686677189", &err), HWG_E_CHECK_DIGIT);
	CHECK(strstr(err.message, "check digit") != NULL);
	CHECK_EQ_INT(reg_mn_validate("53768667718", &err), HWG_E_INVALID);
	CHECK_EQ_INT(reg_mn_validate("5376866771a8", &err), HWG_E_INVALID);
	code_of(4242, c);
	CHECK_EQ_INT(reg_code_validate(c, &err), 0);
	c[10] = c[10] == '9' ? '0' : (char)(c[10] + 1);
	CHECK_EQ_INT(reg_code_validate(c, &err), HWG_E_CHECK_DIGIT);
	/* the assumed scheme by hand: 0000000001 → 1*2 = 2, 11 - 2 = 9 */
	CHECK_EQ_INT(reg_code_check_digit("0000000001"), 9);
	CHECK_EQ_INT(reg_code_check_digit("1000000000"), 11 - (1 * 5 % 11));
}

static void
test_refused_identifiers(void)
{
	struct hwgw_registry *r = open_reg(fresh());
	struct hwg_error err = {0};
	struct reg_person p;

	REQUIRE(r != NULL);
	person(&p, 1, "大分　花子", "オオイタ　ハナコ", "", "");
	p.my_number[11] = p.my_number[11] == '9' ? '0' : (char)(p.my_number[11] + 1);
	CHECK_EQ_INT(hwgw_registry_move_in(r, &p, &who, NULL, &err), HWG_E_CHECK_DIGIT);
	CHECK(strstr(err.message, "My Number") != NULL);
	person(&p, 1, "大分　花子", "オオイタ　ハナコ", "", "");
	p.resident_code[10] = p.resident_code[10] == '9' ? '0' : (char)(p.resident_code[10] + 1);
	CHECK_EQ_INT(hwgw_registry_move_in(r, &p, &who, NULL, &err), HWG_E_CHECK_DIGIT);
	CHECK(strstr(err.message, "resident code") != NULL);
	person(&p, 1, "大分　花子", "おおいた　はなこ", "", "");
	CHECK_EQ_INT(hwgw_registry_move_in(r, &p, &who, NULL, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "katakana") != NULL);
	hwgw_registry_close(r);
}

/* ----------------------------------------------------------- changes */

static void
test_move_in(void)
{
	struct hwgw_registry *r = open_reg(fresh());
	struct hwg_error err = {0};
	struct reg_person p, got;
	char code[12];

	REQUIRE(r != NULL);
	REQUIRE(move_in(r, 1, "", "", &got) == 0);
	CHECK_EQ_INT(got.version, 1);
	CHECK_EQ_STR(got.relation, "世帯主");
	CHECK_EQ_INT(got.seq, 1);
	/* again: already registered */
	person(&p, 1, "大分　太郎", "オオイタ　タロウ", "", "");
	CHECK_EQ_INT(hwgw_registry_move_in(r, &p, &who, NULL, &err), HWG_E_ALREADY_REGISTERED);
	CHECK(strstr(err.message, "already registered") != NULL);
	/* another code with the same My Number */
	person(&p, 2, "大分　次郎", "オオイタ　ジロウ", "", "");
	mn_of(1, p.my_number);
	CHECK_EQ_INT(hwgw_registry_move_in(r, &p, &who, NULL, &err), HWG_E_ALREADY_REGISTERED);
	/* the refusals took no sequence number and made no version */
	REQUIRE(move_in(r, 3, got.household, "妻", &got) == 0);
	CHECK_EQ_INT(got.seq, 2);
	CHECK_EQ_INT(hwgw_registry_find_mn(r, mn_of(3, (char[13]){0}), code, &err), 0);
	CHECK_EQ_STR(code, code_of(3, (char[12]){0}));
	CHECK_EQ_INT(hwgw_registry_get(r, code, 1, &p, &err), 0);
	CHECK_EQ_STR(p.my_number, mn_of(3, (char[13]){0}));
	CHECK_EQ_INT(hwgw_registry_get(r, code, 0, &p, &err), 0);
	CHECK_EQ_STR(p.my_number, "");
	hwgw_registry_close(r);
}

static void
test_in_town_move(void)
{
	struct hwgw_registry *r = open_reg(fresh());
	struct hwg_error err = {0};
	struct reg_person p, got, v1;

	REQUIRE(r != NULL);
	REQUIRE(move_in(r, 1, "", "", &v1) == 0);
	person(&p, 1, "大分　太郎", "オオイタ　タロウ", "", "");
	snprintf(p.address, sizeof(p.address), "大分県大分市荷揚町二丁目3番");
	CHECK_EQ_INT(hwgw_registry_move_within(r, &p, &who, &got, &err), 0);
	CHECK_EQ_INT(got.version, 2);
	CHECK_EQ_STR(got.previous_address, v1.address);
	CHECK_EQ_STR(got.reason, "in_town_move");
	/* anything else changed: refused, naming it */
	snprintf(p.address, sizeof(p.address), "大分県大分市中島西一丁目1番");
	snprintf(p.name, sizeof(p.name), "大分　太朗");
	CHECK_EQ_INT(hwgw_registry_move_within(r, &p, &who, NULL, &err), HWG_E_LOGIC_CHECK);
	CHECK(strstr(err.message, "name") != NULL);
	person(&p, 1, "大分　太郎", "オオイタ　タロウ", "", "");
	snprintf(p.address, sizeof(p.address), "大分県大分市中島西一丁目1番");
	snprintf(p.birth, sizeof(p.birth), "1981-01-01");
	CHECK_EQ_INT(hwgw_registry_move_within(r, &p, &who, NULL, &err), HWG_E_LOGIC_CHECK);
	CHECK(strstr(err.message, "birth") != NULL);
	/* the same address: nothing moved */
	person(&p, 1, "大分　太郎", "オオイタ　タロウ", "", "");
	snprintf(p.address, sizeof(p.address), "大分県大分市荷揚町二丁目3番");
	CHECK_EQ_INT(hwgw_registry_move_within(r, &p, &who, NULL, &err), HWG_E_LOGIC_CHECK);
	/* version 1 is still there, unchanged */
	CHECK_EQ_INT(hwgw_registry_get_version(r, v1.resident_code, 1, 0, &got, &err), 0);
	CHECK_EQ_STR(got.address, v1.address);
	hwgw_registry_close(r);
}

static void
test_move_out_and_death(void)
{
	struct hwgw_registry *r = open_reg(fresh());
	struct hwg_error err = {0};
	struct reg_person a, b, got, p;

	REQUIRE(r != NULL);
	REQUIRE(move_in(r, 1, "", "", &a) == 0);
	REQUIRE(move_in(r, 2, a.household, "妻", &b) == 0);
	CHECK_EQ_INT(hwgw_registry_move_out(r, b.resident_code, "福岡県福岡市中央区天神一丁目1番",
	                                    "2025-04-10", &who, &got, &err),
	             0);
	CHECK_EQ_STR(got.status, REG_MOVED_OUT);
	CHECK_EQ_INT(
	    hwgw_registry_move_out(r, b.resident_code, "福岡県", "2025-04-10", &who, NULL, &err),
	    HWG_E_NOT_RESIDENT);
	CHECK_EQ_INT(
	    hwgw_registry_move_out(r, a.resident_code, "福岡県", "2025-03-01", &who, NULL, &err),
	    HWG_E_LOGIC_CHECK);
	person(&p, 2, "大分　太郎", "オオイタ　タロウ", "", "");
	snprintf(p.address, sizeof(p.address), "大分県大分市荷揚町二丁目3番");
	CHECK_EQ_INT(hwgw_registry_move_within(r, &p, &who, NULL, &err), HWG_E_NOT_RESIDENT);
	/* the moved-out record is kept, and the person may move in again */
	CHECK_EQ_INT(hwgw_registry_get(r, b.resident_code, 0, &got, &err), 0);
	CHECK_EQ_STR(got.status, REG_MOVED_OUT);
	CHECK_EQ_INT(move_in(r, 2, "", "", &got), 0);
	CHECK_EQ_INT(got.version, 3);
	CHECK_EQ_INT(hwgw_registry_death(r, a.resident_code, &who, &got, &err), 0);
	CHECK_EQ_STR(got.status, REG_DEAD);
	CHECK_EQ_INT(hwgw_registry_death(r, a.resident_code, &who, NULL, &err), HWG_E_NOT_RESIDENT);
	CHECK_EQ_INT(hwgw_registry_get_version(r, a.resident_code, 1, 0, &got, &err), 0);
	CHECK_EQ_STR(got.status, REG_ACTIVE);
	hwgw_registry_close(r);
}

static void
test_household_change(void)
{
	struct hwgw_registry *r = open_reg(fresh());
	struct hwg_error err = {0};
	struct reg_person a, b, c, got;

	REQUIRE(r != NULL);
	REQUIRE(move_in(r, 1, "", "", &a) == 0);
	REQUIRE(move_in(r, 2, a.household, "妻", &b) == 0);
	REQUIRE(move_in(r, 3, "", "", &c) == 0);
	/* the head may not leave members behind */
	CHECK_EQ_INT(
	    hwgw_registry_household_change(r, a.resident_code, c.household, "夫", &who, NULL, &err),
	    HWG_E_LOGIC_CHECK);
	CHECK(strstr(err.message, "head") != NULL);
	/* a second head */
	CHECK_EQ_INT(hwgw_registry_household_change(r, b.resident_code, c.household, "世帯主", &who,
	                                            NULL, &err),
	             HWG_E_LOGIC_CHECK);
	/* nothing changes */
	CHECK_EQ_INT(
	    hwgw_registry_household_change(r, b.resident_code, a.household, "妻", &who, NULL, &err),
	    HWG_E_LOGIC_CHECK);
	CHECK_EQ_INT(hwgw_registry_household_change(r, b.resident_code, c.household, "同居人", &who,
	                                            &got, &err),
	             0);
	CHECK_EQ_STR(got.household, c.household);
	CHECK_EQ_STR(got.reason, "household_change");
	/* a new household of her own */
	CHECK_EQ_INT(hwgw_registry_household_change(r, b.resident_code, "", "", &who, &got, &err),
	             0);
	CHECK_EQ_STR(got.relation, "世帯主");
	CHECK(strcmp(got.household, c.household) != 0);
	hwgw_registry_close(r);
}

static void
test_birth(void)
{
	struct hwgw_registry *r = open_reg(fresh());
	struct hwg_error err = {0};
	struct reg_person a, p, got;

	REQUIRE(r != NULL);
	REQUIRE(move_in(r, 1, "", "", &a) == 0);
	person(&p, 9, "大分　一郎", "オオイタ　イチロウ", a.household, "子");
	p.resident_code[0] = p.my_number[0] = '\0';
	snprintf(p.birth, sizeof(p.birth), "2025-03-30");
	CHECK_EQ_INT(hwgw_registry_birth(r, &p, &who, &got, &err), 0);
	CHECK_EQ_INT(reg_code_validate(got.resident_code, &err), 0);
	CHECK_EQ_STR(got.resident_since, "2025-03-30");
	CHECK_EQ_STR(got.reason, "birth");
	snprintf(p.birth, sizeof(p.birth), "2025-04-02");
	CHECK_EQ_INT(hwgw_registry_birth(r, &p, &who, NULL, &err), HWG_E_LOGIC_CHECK);
	snprintf(p.birth, sizeof(p.birth), "2025-03-30");
	p.household[0] = '\0';
	CHECK_EQ_INT(hwgw_registry_birth(r, &p, &who, NULL, &err), HWG_E_INVALID);
	hwgw_registry_close(r);
}

/* Every change queued one notice, in order, with the brief's fields. */
static void
test_outbox(void)
{
	struct hwgw_registry *r = open_reg(fresh());
	struct hwg_error err = {0};
	struct reg_notice ns[16];
	struct reg_person a, b, p;
	size_t n = 0;

	REQUIRE(r != NULL);
	REQUIRE(move_in(r, 1, "", "", &a) == 0);
	REQUIRE(move_in(r, 2, a.household, "妻", &b) == 0);
	person(&p, 1, "大分　太郎", "オオイタ　タロウ", "", "");
	snprintf(p.address, sizeof(p.address), "大分県大分市荷揚町二丁目3番");
	REQUIRE(hwgw_registry_move_within(r, &p, &who, NULL, &err) == 0);
	REQUIRE(hwgw_registry_set_controls(r, b.resident_code, 1, 0, &who, &err) == 0);
	REQUIRE(hwgw_registry_death(r, b.resident_code, &who, NULL, &err) == 0);
	CHECK_EQ_INT(hwgw_registry_outbox(r, ns, 16, &n, &err), 0);
	REQUIRE(n == 4); /* the control flags notify nothing */
	CHECK_EQ_INT(ns[0].seq, 1);
	CHECK_EQ_INT(ns[1].seq, 2);
	CHECK_EQ_INT(ns[2].seq, 3);
	CHECK_EQ_INT(ns[3].seq, 5);
	CHECK_EQ_STR(ns[0].reason, "move_in");
	CHECK_EQ_STR(ns[2].reason, "in_town_move");
	CHECK_EQ_STR(ns[2].address, "大分県大分市荷揚町二丁目3番");
	CHECK_EQ_STR(ns[3].reason, "death");
	CHECK_EQ_STR(ns[0].kana, "オオイタ　タロウ");
	CHECK_EQ_STR(ns[0].my_number, mn_of(1, (char[13]){0}));
	CHECK_EQ_STR(ns[0].change_date, "2025-04-01");
	CHECK_EQ_INT(hwgw_registry_outbox_done(r, 1, &err), 0);
	CHECK_EQ_INT(hwgw_registry_outbox_done(r, 1, &err), HWG_E_NOT_FOUND);
	CHECK_EQ_INT(hwgw_registry_outbox(r, ns, 16, &n, &err), 0);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(ns[0].seq, 2);
	hwgw_registry_close(r);
}

/* ------------------------------------------------------------ search */

static void
test_search(void)
{
	struct hwgw_registry *r = open_reg(fresh());
	struct hwg_error err = {0};
	struct reg_hit hits[8];
	struct reg_person a;
	size_t n = 9;

	REQUIRE(r != NULL);
	REQUIRE(move_in(r, 1, "", "", &a) == 0);
	CHECK_EQ_INT(hwgw_registry_search(r, &(struct reg_query){.name = a.name, .sex = "1"}, hits,
	                                  8, &n, &err),
	             HWG_E_SEARCH_TOO_FEW);
	CHECK(strstr(err.message, "at least two") != NULL);
	CHECK(strstr(err.message, "sex does not count") != NULL);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(hwgw_registry_search(r, &(struct reg_query){.sex = "2"}, hits, 8, &n, &err),
	             HWG_E_SEARCH_TOO_FEW);
	CHECK_EQ_INT(hwgw_registry_search(r, &(struct reg_query){.name = a.name, .birth = a.birth},
	                                  hits, 8, &n, &err),
	             0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_STR(hits[0].resident_code, a.resident_code);
	CHECK_EQ_INT(hwgw_registry_search(
	                 r, &(struct reg_query){.kana = a.kana, .address = "大分県大分市府内町"},
	                 hits, 8, &n, &err),
	             0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(hwgw_registry_search(r,
	                                  &(struct reg_query){.kana = a.kana, .address = "福岡県%"},
	                                  hits, 8, &n, &err),
	             0);
	CHECK_EQ_INT(n, 0);
	hwgw_registry_close(r);
}

/* ---------------------------------------------------------- issuance */

/* A household of a (head) and b (wife), and c elsewhere. */
struct family {
	struct reg_person a, b, c;
};

static struct hwgw_registry *
family(struct family *f)
{
	struct hwgw_registry *r = open_reg(fresh());

	if (r == NULL || move_in(r, 1, "", "", &f->a) != 0 ||
	    move_in(r, 2, f->a.household, "妻", &f->b) != 0 || move_in(r, 3, "", "", &f->c) != 0) {
		hwgw_registry_close(r);
		return NULL;
	}
	return r;
}

static struct reg_cert_request
ask(const char *subject, int rel, const char *requester, const char *letter)
{
	struct reg_cert_request q = {"juminhyo",
	                             subject,
	                             0,
	                             0,
	                             0,
	                             "gw-test",
	                             "2025-04-01",
	                             {rel, requester, "申請　者", letter}};
	return q;
}

static int
may(struct hwgw_registry *r, struct reg_cert_request q, struct hwg_error *err)
{
	char why[200];

	return hwgw_registry_may_issue(r, &q, why, sizeof(why), err);
}

static void
test_issue_ties(void)
{
	struct family f;
	struct hwgw_registry *r = family(&f);
	struct hwg_error err = {0};
	char third_msg[256];
	const char *a = f.a.resident_code;

	REQUIRE(r != NULL);
	CHECK_EQ_INT(may(r, ask(a, REG_REQ_SELF, a, NULL), &err), 0);
	CHECK_EQ_INT(may(r, ask(a, REG_REQ_HOUSEHOLD, f.b.resident_code, NULL), &err), 0);
	CHECK_EQ_INT(may(r, ask(a, REG_REQ_PROXY, NULL, "委任状 2025-0001"), &err), 0);
	CHECK_EQ_INT(may(r, ask(a, REG_REQ_PROXY, NULL, NULL), &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "letter of attorney") != NULL);
	CHECK_EQ_INT(may(r, ask(a, REG_REQ_THIRD, NULL, NULL), &err), HWG_E_NOT_ENTITLED);
	snprintf(third_msg, sizeof(third_msg), "%s", err.message);
	/* not the same household, and not the person */
	CHECK_EQ_INT(may(r, ask(a, REG_REQ_HOUSEHOLD, f.c.resident_code, NULL), &err),
	             HWG_E_NOT_ENTITLED);
	CHECK_EQ_STR(err.message, third_msg);
	CHECK_EQ_INT(may(r, ask(a, REG_REQ_SELF, f.c.resident_code, NULL), &err),
	             HWG_E_NOT_ENTITLED);
	CHECK_EQ_INT(
	    may(r, ask(code_of(77, (char[12]){0}), REG_REQ_SELF, code_of(77, (char[12]){0}), NULL),
	        &err),
	    HWG_E_NOT_FOUND);
	hwgw_registry_close(r);
}

static void
test_issue_dv(void)
{
	struct family f;
	struct hwgw_registry *r = family(&f);
	struct hwg_error err = {0};
	char third_msg[256], why[200];
	const char *b = f.b.resident_code;
	struct reg_cert_request q;

	REQUIRE(r != NULL);
	CHECK_EQ_INT(may(r, ask(b, REG_REQ_THIRD, NULL, NULL), &err), HWG_E_NOT_ENTITLED);
	snprintf(third_msg, sizeof(third_msg), "%s", err.message);
	CHECK_EQ_INT(hwgw_registry_dv_apply(r, b, "2025-03-01", &err), 0);
	CHECK_EQ_INT(hwgw_registry_dv_decide(r, b, "2025-03-15", &err), 0);
	CHECK_EQ_INT(hwgw_registry_dv_in_force(r, b, "2025-04-01", &err), 1);
	CHECK_EQ_INT(hwgw_registry_dv_in_force(r, b, "2025-02-01", &err), 0);
	/* the person: yes; the household member and a proxy: the neutral refusal */
	CHECK_EQ_INT(may(r, ask(b, REG_REQ_SELF, b, NULL), &err), 0);
	CHECK_EQ_INT(may(r, ask(b, REG_REQ_HOUSEHOLD, f.a.resident_code, NULL), &err),
	             HWG_E_NOT_ENTITLED);
	CHECK_EQ_STR(err.message, third_msg);
	CHECK(strstr(err.message, "DV") == NULL);
	CHECK_EQ_INT(may(r, ask(b, REG_REQ_PROXY, NULL, "委任状 2025-0002"), &err),
	             HWG_E_NOT_ENTITLED);
	CHECK_EQ_STR(err.message, third_msg);
	/* the audit gets the real reason */
	q = ask(b, REG_REQ_PROXY, NULL, "委任状 2025-0002");
	CHECK_EQ_INT(hwgw_registry_may_issue(r, &q, why, sizeof(why), &err), HWG_E_NOT_ENTITLED);
	CHECK(strstr(why, "DV") != NULL);
	/* a household copy asked by the head includes her: refused the same way */
	q = ask(f.a.resident_code, REG_REQ_SELF, f.a.resident_code, NULL);
	q.household = 1;
	CHECK_EQ_INT(hwgw_registry_may_issue(r, &q, NULL, 0, &err), HWG_E_NOT_ENTITLED);
	CHECK_EQ_STR(err.message, third_msg);
	/* ended: the household member may again */
	CHECK_EQ_INT(hwgw_registry_dv_end(r, b, "2025-03-31", &err), 0);
	CHECK_EQ_INT(may(r, ask(b, REG_REQ_HOUSEHOLD, f.a.resident_code, NULL), &err), 0);
	CHECK_EQ_INT(hwgw_registry_dv_end(r, b, "2025-03-31", &err), HWG_E_NOT_FOUND);
	hwgw_registry_close(r);
}

static void
test_issue_controls(void)
{
	struct family f;
	struct hwgw_registry *r = family(&f);
	struct hwg_error err = {0};
	const char *a = f.a.resident_code, *b = f.b.resident_code;
	struct reg_cert_request q;

	REQUIRE(r != NULL);
	REQUIRE(hwgw_registry_set_controls(r, a, 1, 0, &who, &err) == 0);
	CHECK_EQ_INT(may(r, ask(a, REG_REQ_SELF, a, NULL), &err), HWG_E_ISSUANCE_HELD);
	CHECK_EQ_INT(may(r, ask(a, REG_REQ_HOUSEHOLD, b, NULL), &err), HWG_E_NOT_ENTITLED);
	CHECK(strstr(err.message, "制御") == NULL);
	REQUIRE(hwgw_registry_set_controls(r, a, 0, 1, &who, &err) == 0);
	CHECK_EQ_INT(may(r, ask(a, REG_REQ_SELF, a, NULL), &err), 0);
	q = ask(a, REG_REQ_SELF, a, NULL);
	q.wide = 1;
	CHECK_EQ_INT(may(r, q, &err), HWG_E_ISSUANCE_HELD);
	q = ask(a, REG_REQ_HOUSEHOLD, b, NULL);
	q.wide = 1;
	CHECK_EQ_INT(may(r, q, &err), HWG_E_NOT_ENTITLED);
	REQUIRE(hwgw_registry_set_controls(r, a, 0, 0, &who, &err) == 0);
	CHECK_EQ_INT(may(r, q, &err), 0);
	hwgw_registry_close(r);
}

static void
test_issue_my_number(void)
{
	struct family f;
	struct hwgw_registry *r = family(&f);
	struct hwg_error err = {0};
	const char *a = f.a.resident_code;
	struct reg_cert_request q;

	REQUIRE(r != NULL);
	q = ask(a, REG_REQ_SELF, a, NULL);
	q.my_number = 1;
	CHECK_EQ_INT(may(r, q, &err), 0);
	q = ask(a, REG_REQ_HOUSEHOLD, f.b.resident_code, NULL);
	q.my_number = 1;
	CHECK_EQ_INT(may(r, q, &err), 0);
	q = ask(a, REG_REQ_PROXY, NULL, "委任状 2025-0003");
	q.my_number = 1;
	CHECK_EQ_INT(may(r, q, &err), HWG_E_MY_NUMBER_NOT_ALLOWED);
	q = ask(a, REG_REQ_SELF, a, NULL);
	q.my_number = 1;
	q.kind = "tenshutsu";
	CHECK_EQ_INT(may(r, q, &err), HWG_E_MY_NUMBER_NOT_ALLOWED);
	q.my_number = 0;
	CHECK_EQ_INT(may(r, q, &err), HWG_E_NOT_RESIDENT); /* no move-out yet */
	q.kind = "inkan";
	CHECK_EQ_INT(may(r, q, &err), HWG_E_INVALID);
	hwgw_registry_close(r);
}

/* ---------------------------------------------------------- document */

struct doc {
	cbor_item_t *cose, *payload;
	uint8_t *prot, *pay;
	size_t prot_len, pay_len;
};

static void
doc_free(struct doc *d)
{
	if (d->cose != NULL)
		cbor_decref(&d->cose);
	if (d->payload != NULL)
		cbor_decref(&d->payload);
}

/* Decode the COSE_Sign1, check kid and signature (by key), decode the payload. */
static int
doc_open_with(const uint8_t *buf, size_t len, EVP_PKEY *key, struct doc *d)
{
	struct hwg_cose_sign1 m = {0};
	struct hwg_error err = {0};
	cbor_item_t *arr, *prot, *kid;
	struct cbor_load_result res;
	int ok;

	memset(d, 0, sizeof(*d));
	/* tag 18 in its one-byte form (libcbor 0.8 does not load a tagged item) */
	if (len < 2 || buf[0] != 0xd2)
		return -1;
	d->cose = cbor_load(buf + 1, len - 1, &res);
	if (d->cose == NULL || res.read != len - 1 || !cbor_isa_array(d->cose))
		return -1;
	arr = d->cose;
	if (cbor_array_size(arr) != 4)
		return -1;
	d->prot = cbor_bytestring_handle(cbor_array_handle(arr)[0]);
	d->prot_len = cbor_bytestring_length(cbor_array_handle(arr)[0]);
	d->pay = cbor_bytestring_handle(cbor_array_handle(arr)[2]);
	d->pay_len = cbor_bytestring_length(cbor_array_handle(arr)[2]);
	if (cbor_bytestring_length(cbor_array_handle(arr)[3]) != 64)
		return -1;
	memcpy(m.sig, cbor_bytestring_handle(cbor_array_handle(arr)[3]), 64);
	prot = cbor_load(d->prot, d->prot_len, &res);
	kid = prot != NULL && cbor_map_size(prot) == 2 ? cbor_map_handle(prot)[1].value : NULL;
	ok = kid != NULL && cbor_bytestring_length(kid) == 11 &&
	     memcmp(cbor_bytestring_handle(kid), "registry-01", 11) == 0;
	if (prot != NULL)
		cbor_decref(&prot);
	if (!ok)
		return -2;
	m.alg = HWG_COSE_ES256;
	m.protected_bytes = d->prot;
	m.protected_len = d->prot_len;
	m.payload = d->pay;
	m.payload_len = d->pay_len;
	if (hwg_cose_sign1_verify(&m, key, &err) != 0)
		return -3;
	d->payload = hwg_cbor_load(d->pay, d->pay_len, NULL);
	return d->payload != NULL ? 0 : -4;
}

/* doc_open_with the registry's PEM key. */
static int
doc_open(const uint8_t *buf, size_t len, struct doc *d)
{
	return doc_open_with(buf, len, signkey, d);
}

static const char *
text_of(const cbor_item_t *map, const char *key, char *out, size_t n)
{
	cbor_item_t *v = hwg_cbor_map_get(map, key, NULL);

	out[0] = '\0';
	if (v != NULL)
		hwg_cbor_text_copy(v, out, n);
	return out;
}

/* The version digest by hand for one small record: the structure's bytes spelled out. */
static void
test_version_digest_vector(void)
{
	static const uint8_t expect_in[] = {
	    0x84, 0x6e, 'h',  'w',  'g',  'w',  '-',  'r',  'e',  'c', 'o', 'r',
	    'd',  '-',  'v',  '1',  0x6b, '1',  '2',  '3',  '4',  '5', '6', '7',
	    '8',  '9',  '0',  '1',  0x18, 0x2a, 0xa2, 0x63, 's',  'e', 'x', 0x63,
	    0xe7, 0x94, 0xb7, 0x64, 'n',  'a',  'm',  'e',  0x61, 'A'};
	struct reg_fields f = {{"name", "sex"}, {"A", "男"}, 2};
	uint8_t want[32], got[32];

	SHA256(expect_in, sizeof(expect_in), want);
	CHECK_EQ_INT(reg_certdoc_version_digest("12345678901", 42, &f, got), 0);
	CHECK(memcmp(want, got, 32) == 0);
}

static void
check_people(const cbor_item_t *payload, const char *mn)
{
	cbor_item_t *people = hwg_cbor_map_get(payload, "people", NULL), *p, *fields;
	unsigned char *bytes = NULL;
	size_t len, cap = 0;
	const uint8_t *fd;
	uint8_t digest[32];
	char v[256];

	REQUIRE(people != NULL && cbor_isa_array(people));
	len = cbor_serialize_alloc(people, &bytes, &cap);
	SHA256(bytes, len, digest);
	free(bytes);
	REQUIRE(hwg_cbor_bytes(hwg_cbor_map_get(payload, "fields_digest", NULL), &fd, &len) == 0);
	CHECK(len == 32 && memcmp(fd, digest, 32) == 0);
	p = cbor_array_handle(people)[0];
	fields = hwg_cbor_map_get(p, "fields", NULL);
	REQUIRE(fields != NULL);
	CHECK_EQ_STR(text_of(fields, "sex", v, sizeof(v)), "男");
	CHECK_EQ_STR(text_of(fields, "head", v, sizeof(v)), "大分　太郎");
	CHECK_EQ_STR(text_of(fields, "relation", v, sizeof(v)), "世帯主");
	CHECK_EQ_STR(text_of(fields, "my_number", v, sizeof(v)), mn);
	CHECK_EQ_STR(text_of(fields, "resident_since", v, sizeof(v)), "2025-04-01");
}

static void
test_document(void)
{
	struct family f;
	struct hwgw_registry *r = family(&f);
	struct hwg_error err = {0};
	struct reg_signer *s = NULL;
	struct reg_cert_request q;
	uint8_t *buf = NULL;
	size_t len = 0;
	struct doc d;
	char v[64];

	REQUIRE(r != NULL);
	REQUIRE(reg_signer_load(signpath, "registry-01", &s, &err) == 0);
	q = ask(f.a.resident_code, REG_REQ_SELF, f.a.resident_code, NULL);
	q.household = 1;
	q.my_number = 1;
	REQUIRE(hwgw_registry_document(r, &q, s, 1743465600, &buf, &len, &err) == 0);
	CHECK_EQ_INT(doc_open(buf, len, &d), 0);
	if (d.payload != NULL) {
		CHECK_EQ_STR(text_of(d.payload, "kind", v, sizeof(v)), "juminhyo");
		CHECK_EQ_STR(text_of(d.payload, "gateway", v, sizeof(v)), "gw-test");
		CHECK_EQ_STR(text_of(d.payload, "subject", v, sizeof(v)), f.a.resident_code);
		CHECK_EQ_INT(cbor_array_size(hwg_cbor_map_get(d.payload, "people", NULL)), 2);
		check_people(d.payload, mn_of(1, (char[13]){0}));
	}
	doc_free(&d);
	free(buf);
	buf = NULL;
	/* a refused request builds nothing */
	REQUIRE(hwgw_registry_dv_apply(r, f.b.resident_code, "2025-03-01", &err) == 0);
	CHECK_EQ_INT(hwgw_registry_document(r, &q, s, 1743465600, &buf, &len, &err),
	             HWG_E_NOT_ENTITLED);
	CHECK(buf == NULL);
	reg_signer_free(s);
	hwgw_registry_close(r);
}

/*
 * The registry key in an HSM (SoftHSM2, a token scripts/hsm-init makes,
 * a P-256 key pair generated in it): the document signed through PKCS#11
 * verifies with the token's public key and not with the PEM key; a label
 * the token lacks and a PIN file others may read are refused.  Skipped
 * (said, not passed) where SoftHSM2 or pkcs11-tool is missing.
 */
static const char *p11_module = "/usr/lib/softhsm/libsofthsm2.so";

static int
p11_token(const char *dir, char *pin_file, size_t n)
{
	const char *src = getenv("HWG_SOURCE_DIR");
	char cmd[1024], conf[400];
	static int made; /* one token for the tests that need one: 1 made, -1 failed */

	snprintf(pin_file, n, "%s/hsm.pin", dir);
	if (made != 0)
		return made == 1 ? 0 : -1;
	if (src == NULL || access(p11_module, R_OK) != 0 ||
	    system("command -v pkcs11-tool >/dev/null 2>&1") != 0) {
		fprintf(stderr, "# skipped: needs HWG_SOURCE_DIR, SoftHSM2 and pkcs11-tool\n");
		return 77;
	}
	snprintf(cmd, sizeof(cmd), "'%s/scripts/hsm-init' --dir '%s' --module '%s' >/dev/null", src,
	         dir, p11_module);
	if (system(cmd) != 0)
		return -1;
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
	setenv("SOFTHSM2_CONF", conf, 1);
	/* the PIN goes to pkcs11-tool through a file-backed variable, never a command line */
	snprintf(cmd, sizeof(cmd),
	         "HWG_TEST_PIN=$(cat '%s') pkcs11-tool --module '%s' --token-label hwgw "
	         "--login --pin env:HWG_TEST_PIN --keypairgen --key-type EC:prime256v1 "
	         "--label hwgw-registry --id 52 >/dev/null 2>&1",
	         pin_file, p11_module);
	if (system(cmd) != 0) {
		made = -1;
		return -1;
	}
	/* the My Number key's sealing key, made as hsm-init makes the template key */
	snprintf(
	    cmd, sizeof(cmd),
	    "HWG_TEST_PIN=$(cat '%s') pkcs11-tool --module '%s' --token-label hwgw "
	    "--login --pin env:HWG_TEST_PIN --keygen --key-type AES:32 --label hwgw-registry-mn "
	    "--id 53 --usage-decrypt --sensitive --private --allowed-mechanisms AES-GCM "
	    ">/dev/null 2>&1",
	    pin_file, p11_module);
	made = system(cmd) == 0 ? 1 : -1;
	return made == 1 ? 0 : -1;
}

/* The public half of the token's key, through the driver. */
static EVP_PKEY *
p11_public(const char *pin_file)
{
	struct hwg_p11_config cfg = {p11_module, "hwgw", pin_file};
	struct hwg_error err = {0};
	struct hwg_p11 *p = NULL;
	struct hwg_p11_key *k = NULL;
	EVP_PKEY *pub = NULL;

	if (hwg_p11_open(&cfg, &p, &err) == 0 &&
	    hwg_p11_key_find(p, "hwgw-registry", &k, &err) == 0)
		pub = hwg_p11_key_public(k);
	hwg_p11_close(p);
	return pub;
}

static void
test_document_pkcs11(void)
{
	char dir[300], pin_file[320], loose[340], cmd[1100];
	struct hwg_error err = {0};
	struct reg_signer *s = NULL;
	struct reg_p11_key key;
	struct hwgw_registry *r;
	struct reg_cert_request q;
	struct family f;
	struct doc d = {0}, e = {0};
	uint8_t *buf = NULL;
	size_t len = 0;
	EVP_PKEY *pub;
	int rc;

	snprintf(dir, sizeof(dir), "%s/hsm", tmpdir);
	if ((rc = p11_token(dir, pin_file, sizeof(pin_file))) == 77)
		return;
	REQUIRE(rc == 0);
	key = (struct reg_p11_key){p11_module, "hwgw", pin_file, "hwgw-registry"};
	REQUIRE((pub = p11_public(pin_file)) != NULL);
	REQUIRE((r = family(&f)) != NULL);
	CHECK_EQ_INT(reg_signer_load_pkcs11(&key, "registry-01", &s, &err), 0);
	q = ask(f.a.resident_code, REG_REQ_SELF, f.a.resident_code, NULL);
	if (s != NULL)
		CHECK_EQ_INT(hwgw_registry_document(r, &q, s, 1743465600, &buf, &len, &err), 0);
	CHECK_EQ_INT(doc_open_with(buf, len, pub, &d), 0);
	if (d.payload != NULL) {
		char v[64];
		CHECK_EQ_STR(text_of(d.payload, "subject", v, sizeof(v)), f.a.resident_code);
	}
	/* the HSM's signature is not the PEM key's */
	CHECK_EQ_INT(doc_open_with(buf, len, signkey, &e), -3);
	doc_free(&d);
	doc_free(&e);
	free(buf);
	reg_signer_free(s);
	s = NULL;
	/* a label the token lacks */
	key.label = "no-such-key";
	CHECK_EQ_INT(reg_signer_load_pkcs11(&key, "registry-01", &s, &err), HWG_E_NOT_FOUND);
	CHECK(s == NULL);
	CHECK(strstr(err.message, "no-such-key") != NULL);
	/* a PIN file the group may read */
	snprintf(loose, sizeof(loose), "%s/loose.pin", tmpdir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 640 '%s'", pin_file, loose, loose);
	REQUIRE(system(cmd) == 0);
	key = (struct reg_p11_key){p11_module, "hwgw", loose, "hwgw-registry"};
	CHECK(reg_signer_load_pkcs11(&key, "registry-01", &s, &err) != 0);
	CHECK(s == NULL);
	/* something missing */
	key.label = NULL;
	CHECK_EQ_INT(reg_signer_load_pkcs11(&key, "registry-01", &s, &err), HWG_E_CONFIG);
	EVP_PKEY_free(pub);
	hwgw_registry_close(r);
}

/*
 * The My Number key sealed in the HSM: the sealed file (60 bytes, 0600,
 * never overwritten) opens the register a plain key file opened, and its
 * numbers with it; one changed byte, another token key or a missing
 * setting opens nothing.
 */
static void
test_mn_key_hsm(void)
{
	char dir[300], pin_file[320], sealed[300], cmd[700];
	struct reg_p11_key hsm;
	struct hwg_error err = {0};
	struct hwgw_registry *r, *s = NULL;
	struct reg_person p;
	struct family f;
	struct stat st;
	char code[REG_CODE_LEN + 1], want[13];
	int rc;

	snprintf(dir, sizeof(dir), "%s/hsm", tmpdir);
	if ((rc = p11_token(dir, pin_file, sizeof(pin_file))) == 77)
		return;
	REQUIRE(rc == 0);
	hsm = (struct reg_p11_key){p11_module, "hwgw", pin_file, "hwgw-registry-mn"};
	snprintf(sealed, sizeof(sealed), "%s/mn.key.sealed", tmpdir);
	CHECK_EQ_INT(reg_mn_key_seal(keypath, &hsm, sealed, &err), 0);
	CHECK(stat(sealed, &st) == 0 && st.st_size == REG_MN_SEALED_KEY_LEN &&
	      (st.st_mode & 0777) == 0600);
	CHECK_EQ_INT(reg_mn_key_seal(keypath, &hsm, sealed, &err), HWG_E_IO);
	REQUIRE((r = family(&f)) != NULL);
	hwgw_registry_close(r);
	/* the same register, its key unsealed in the HSM */
	CHECK_EQ_INT(hwgw_registry_open_sealed(uri, sealed, &hsm, &s, &err), 0);
	if (s != NULL) {
		CHECK_EQ_INT(hwgw_registry_get(s, f.a.resident_code, 1, &p, &err), 0);
		CHECK_EQ_STR(p.my_number, mn_of(1, want));
		CHECK_EQ_INT(hwgw_registry_find_mn(s, want, code, &err), 0);
		CHECK_EQ_STR(code, f.a.resident_code);
		hwgw_registry_close(s);
		s = NULL;
	}
	/* the sealed file given as a plain key: refused, not taken as one */
	CHECK_EQ_INT(hwgw_registry_open(uri, sealed, &s, &err), HWG_E_CONFIG);
	/* another token key */
	hsm.label = "no-such-key";
	CHECK_EQ_INT(hwgw_registry_open_sealed(uri, sealed, &hsm, &s, &err), HWG_E_NOT_FOUND);
	hsm.label = NULL;
	CHECK_EQ_INT(hwgw_registry_open_sealed(uri, sealed, &hsm, &s, &err), HWG_E_CONFIG);
	/* one byte of the ciphertext changed */
	hsm.label = "hwgw-registry-mn";
	snprintf(cmd, sizeof(cmd),
	         "printf '\\001' | dd of='%s' bs=1 seek=20 conv=notrunc status=none", sealed);
	REQUIRE(system(cmd) == 0);
	CHECK_EQ_INT(hwgw_registry_open_sealed(uri, sealed, &hsm, &s, &err), HWG_E_TAMPERED);
	CHECK(s == NULL);
}

/* -------------------------------------------------------- concurrency */

#define WRITERS 8
#define MOVES 12

struct writer {
	const char *uri;
	int id, failures;
	char codes[4][12];
};

static void *
writer_run(void *arg)
{
	struct writer *w = arg;
	struct hwgw_registry *r = open_reg(w->uri);
	struct hwg_error err = {0};
	struct reg_person p, cur;

	if (r == NULL) {
		w->failures++;
		return NULL;
	}
	for (int j = 0; j < MOVES; j++) {
		const char *code = w->codes[(w->id + j) % 4];
		if (hwgw_registry_get(r, code, 0, &cur, &err) != 0) {
			w->failures++;
			continue;
		}
		p = cur;
		snprintf(p.address, sizeof(p.address), "大分県大分市舞鶴町%d丁目%d番", w->id, j);
		if (hwgw_registry_move_within(r, &p, &who, NULL, &err) != 0) {
			fprintf(stderr, "  writer %d: %s\n", w->id, err.message);
			w->failures++;
		}
	}
	hwgw_registry_close(r);
	return NULL;
}

static int
count_row(void *arg, int ncols, const char *const *vals)
{
	int64_t *x = arg;

	(void)ncols;
	x[0] = strtoll(vals[0], NULL, 10);
	x[1] = strtoll(vals[1], NULL, 10);
	x[2] = strtoll(vals[2], NULL, 10);
	return 0;
}

static void
test_concurrent_writers(void)
{
	char u[512];
	struct hwgw_registry *r;
	struct writer w[WRITERS];
	pthread_t t[WRITERS];
	struct family f;
	struct reg_person d;
	struct hwg_error err = {0};
	int64_t x[3] = {0}, total = 4 + WRITERS * MOVES;

	REQUIRE((r = family(&f)) != NULL);
	snprintf(u, sizeof(u), "%s", uri);
	REQUIRE(move_in(r, 4, f.c.household, "子", &d) == 0);
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){u, i, 0, {{0}}};
		memcpy(w[i].codes[0], f.a.resident_code, 12);
		memcpy(w[i].codes[1], f.b.resident_code, 12);
		memcpy(w[i].codes[2], f.c.resident_code, 12);
		memcpy(w[i].codes[3], d.resident_code, 12);
		pthread_create(&t[i], NULL, writer_run, &w[i]);
	}
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ_INT(w[i].failures, 0);
	}
	/* every change a version, every version its own sequence number, 1..total, no gap */
	REQUIRE(reg_db_query(r->db,
	                     "SELECT count(*), count(DISTINCT seq), max(seq) FROM record_versions",
	                     0, NULL, count_row, x, NULL, &err) == 0);
	CHECK_EQ_INT(x[0], total);
	CHECK_EQ_INT(x[1], total);
	CHECK_EQ_INT(x[2], total);
	REQUIRE(reg_db_query(r->db, "SELECT count(*), count(DISTINCT seq), max(seq) FROM outbox", 0,
	                     NULL, count_row, x, NULL, &err) == 0);
	CHECK_EQ_INT(x[0], total);
	CHECK_EQ_INT(x[1], total);
	/* no lost update: each version's previous address is the address of the one before */
	REQUIRE(reg_db_query(r->db,
	                     "SELECT count(*), 0, 0 FROM record_versions a JOIN record_versions b"
	                     " ON b.resident_code = a.resident_code AND b.version = a.version + 1"
	                     " WHERE b.previous_address <> a.address",
	                     0, NULL, count_row, x, NULL, &err) == 0);
	CHECK_EQ_INT(x[0], 0);
	REQUIRE(hwgw_registry_get(r, f.a.resident_code, 0, &d, &err) == 0);
	CHECK_EQ_INT(d.version, 1 + WRITERS * MOVES / 4);
	hwgw_registry_close(r);
}

/* --------------------------------------------------- special move-in */

/* Two people's move-out data from 別府市 (442020), one address quoted with a comma. */
static void
moveout_csv(char *out, size_t n)
{
	char c1[12], c2[12], m1[13], m2[13];

	snprintf(out, n,
	         "resident_code,name,kana,birth,sex,address,my_number,from_city,moving_to,"
	         "moving_date,note\r\n"
	         "%s,別府　一郎,ベップ　イチロウ,1975-06-01,1,\"大分県別府市北浜一丁目1番, 201号\","
	         "%s,442020,大分県大分市府内町三丁目1番,2025-03-31,\"a \"\"quoted\"\" note\"\r\n"
	         "%s,別府　春子,ベップ　ハルコ,1978-02-11,2,大分県別府市元町2番,%s,442020,"
	         ",2025-03-31,\r\n",
	         code_of(501, c1), mn_of(501, m1), code_of(502, c2), mn_of(502, m2));
}

static void
card_of(struct reg_card_facts *c, const char *name, const char *address, const char *birth,
        const char *sex, const char *mn)
{
	*c = (struct reg_card_facts){name, address, birth, sex, mn};
}

static void
test_special_move_in(void)
{
	struct hwgw_registry *r = open_reg(fresh());
	struct hwg_error err = {0};
	struct reg_card_facts card;
	struct reg_person form, got;
	struct reg_notice ns[4];
	char csv[1024], mn1[13], mn2[13], bad[1200];
	size_t k = 0;
	long n = 0;
	int64_t x = 0;

	REQUIRE(r != NULL);
	moveout_csv(csv, sizeof(csv));
	REQUIRE(hwgw_registry_moveout_import(r, csv, strlen(csv), "2025-03-20", &n, &err) == 0);
	CHECK_EQ_INT(n, 2);
	/* the same feed again: data pending for the same person, the line named, nothing kept */
	CHECK_EQ_INT(hwgw_registry_moveout_import(r, csv, strlen(csv), "2025-03-21", &n, &err),
	             HWG_E_EXISTS);
	CHECK(strstr(err.message, "line 2") != NULL);
	CHECK_EQ_INT(n, 0);
	/* a row short of a field: refused with its line */
	snprintf(bad, sizeof(bad), "%.*s\r\n\"a\r\nb\",2,3\r\n", (int)(strstr(csv, "\r\n") - csv),
	         csv);
	CHECK_EQ_INT(hwgw_registry_moveout_import(r, bad, strlen(bad), "2025-03-21", &n, &err),
	             HWG_E_INVALID);
	CHECK(strstr(err.message, "line 2: 3 fields") != NULL);
	person(&form, 900, "x", "x", "", "");
	snprintf(form.address, sizeof(form.address), "大分県大分市府内町三丁目1番");
	mn_of(501, mn1);
	mn_of(502, mn2);
	/* mismatch: another name and address on the card; only the field names are said */
	card_of(&card, "別府　一朗", "大分県別府市北浜一丁目1番", "19750601", "1", mn1);
	CHECK_EQ_INT(hwgw_registry_special_move_in(r, &card, &form, &who, &got, &err),
	             HWG_E_MOVEOUT_MISMATCH);
	CHECK(strstr(err.message, "name, address") != NULL);
	CHECK(strstr(err.message, "一朗") == NULL && strstr(err.message, "北浜") == NULL);
	card_of(&card, "別府　一郎", "大分県別府市北浜一丁目1番, 201号", "19750602", "2", mn1);
	CHECK_EQ_INT(hwgw_registry_special_move_in(r, &card, &form, &who, &got, &err),
	             HWG_E_MOVEOUT_MISMATCH);
	CHECK(strstr(err.message, "birth, sex") != NULL);
	/* matched: the move-in recorded, its notice queued, the data claimed */
	card_of(&card, "別府　一郎", "大分県別府市北浜一丁目1番, 201号", "19750601", "1", mn1);
	REQUIRE(hwgw_registry_special_move_in(r, &card, &form, &who, &got, &err) == 0);
	CHECK_EQ_STR(got.reason, "special_move_in");
	CHECK_EQ_STR(got.name, "別府　一郎");
	CHECK_EQ_STR(got.kana, "ベップ　イチロウ");
	CHECK_EQ_STR(got.address, "大分県大分市府内町三丁目1番");
	CHECK_EQ_STR(got.previous_address, "大分県別府市北浜一丁目1番, 201号");
	CHECK_EQ_STR(got.resident_code, code_of(501, (char[12]){0}));
	CHECK_EQ_INT(got.seq, 1); /* the refused tries took no number */
	REQUIRE(hwgw_registry_outbox(r, ns, 4, &k, &err) == 0);
	CHECK_EQ_INT(k, 1);
	CHECK_EQ_STR(ns[0].my_number, mn1);
	CHECK_EQ_INT(hwgw_registry_special_move_in(r, &card, &form, &who, &got, &err),
	             HWG_E_NOT_FOUND);
	/* no data for a card: not found */
	card_of(&card, "大分　太郎", "どこか", "19800401", "1", mn_of(777, (char[13]){0}));
	CHECK_EQ_INT(hwgw_registry_special_move_in(r, &card, &form, &who, &got, &err),
	             HWG_E_NOT_FOUND);
	/* expiry: 30 days after 2025-03-20 nothing goes; after 31 the unclaimed one does */
	CHECK_EQ_INT(hwgw_registry_moveout_expire(r, "2025-04-19", 30, &n, &err), 0);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(hwgw_registry_moveout_expire(r, "2025-04-20", 30, &n, &err), 0);
	CHECK_EQ_INT(n, 1);
	REQUIRE(reg_db_query(r->db,
	                     "SELECT count(*) FROM moveout_erasures WHERE from_city = '442020'"
	                     " AND received = '2025-03-20' AND erased = '2025-04-20'",
	                     0, NULL, reg_row_i64, &x, NULL, &err) == 0);
	CHECK_EQ_INT(x, 1);
	REQUIRE(reg_db_query(r->db, "SELECT count(*) FROM moveouts", 0, NULL, reg_row_i64, &x, NULL,
	                     &err) == 0);
	CHECK_EQ_INT(x, 1); /* the claimed one stays, as the source of a version */
	card_of(&card, "別府　春子", "大分県別府市元町2番", "19780211", "2", mn2);
	CHECK_EQ_INT(hwgw_registry_special_move_in(r, &card, &form, &who, &got, &err),
	             HWG_E_NOT_FOUND);
	CHECK_EQ_INT(hwgw_registry_moveout_expire(r, "2025-04-20", 0, &n, &err), HWG_E_INVALID);
	hwgw_registry_close(r);
}

/* ---------------------------------------------------- reconciliation */

struct diffs {
	char code[16][16], field[16][32];
	int n;
};

static int
note_diff(void *arg, const char *code, const char *field)
{
	struct diffs *d = arg;

	if (d->n < 16) {
		snprintf(d->code[d->n], sizeof(d->code[0]), "%s", code);
		snprintf(d->field[d->n], sizeof(d->field[0]), "%s", field);
	}
	d->n++;
	return 0;
}

/*
 * The legacy export of people 1..8 as a faulty migration left it: from the
 * 4th row on, the address column holds the next row's value (the last
 * row's the phone number); sex written 男/女 and an ASCII space in a name,
 * which are not differences.
 */
static size_t
shifted_csv(char *out, size_t n)
{
	struct reg_person p[9];
	size_t o = (size_t)snprintf(out, n, "resident_code,name,kana,birth,sex,address,phone\n");

	for (int i = 1; i <= 8; i++)
		person(&p[i], i, i == 1 ? "大分 太郎" : "大分　太郎", "オオイタ　タロウ", "", "");
	for (int i = 1; i <= 8; i++)
		o += (size_t)snprintf(out + o, n - o, "%s,%s,%s,%s,%s,\"%s\",097-000-%04d\n",
		                      p[i].resident_code, p[i].name, p[i].kana, p[i].birth,
		                      strcmp(p[i].sex, "1") == 0 ? "男" : "女",
		                      i < 4   ? p[i].address
		                      : i < 8 ? p[i + 1].address
		                              : "0975551234",
		                      i);
	return o;
}

static void
test_reconcile(void)
{
	struct hwgw_registry *r = open_reg(fresh());
	struct hwg_error err = {0};
	struct reg_reconcile_stats st;
	struct reg_signer *s = NULL;
	struct reg_cert_request q;
	struct reg_notice ns[16];
	struct diffs d = {0};
	struct reg_person p;
	char csv[4096], c4[12], c5[12], bad[4200];
	uint8_t *buf = NULL;
	size_t len, k = 0;

	REQUIRE(r != NULL);
	REQUIRE(reg_signer_load(signpath, "registry-01", &s, &err) == 0);
	for (int i = 1; i <= 8; i++)
		REQUIRE(move_in(r, i, "", "", &p) == 0);
	len = shifted_csv(csv, sizeof(csv));
	/* a malformed line refuses the file before anything is kept */
	snprintf(bad, sizeof(bad), "%sx,\"y\"z,1,2,3,4,5\n", csv);
	CHECK_EQ_INT(
	    hwgw_registry_reconcile(r, bad, strlen(bad), "2025-04-02", note_diff, &d, &st, &err),
	    HWG_E_INVALID);
	CHECK(strstr(err.message, "line 10") != NULL);
	CHECK_EQ_INT(d.n, 0);
	/* the shifted column: records 4 to 8, each in the address only */
	REQUIRE(hwgw_registry_reconcile(r, csv, len, "2025-04-02", note_diff, &d, &st, &err) == 0);
	CHECK_EQ_INT(st.rows, 8);
	CHECK_EQ_INT(st.records_differing, 5);
	CHECK_EQ_INT(st.differences, 5);
	REQUIRE(d.n == 5);
	for (int i = 0; i < 5; i++) {
		CHECK_EQ_STR(d.code[i], code_of(4 + i, (char[12]){0}));
		CHECK_EQ_STR(d.field[i], "address");
	}
	/* blocked: no document for record 5; record 1's is built */
	code_of(4, c4);
	code_of(5, c5);
	q = ask(c5, REG_REQ_SELF, c5, NULL);
	CHECK_EQ_INT(hwgw_registry_document(r, &q, s, 1743465600, &buf, &len, &err),
	             HWG_E_RECORD_BLOCKED);
	CHECK(buf == NULL);
	CHECK(strstr(err.message, "reconciliation") != NULL);
	q = ask(code_of(1, (char[12]){0}), REG_REQ_SELF, code_of(1, (char[12]){0}), NULL);
	REQUIRE(hwgw_registry_document(r, &q, s, 1743465600, &buf, &len, &err) == 0);
	free(buf);
	buf = NULL;
	/* no notice from record 4's on: the queue holds in order */
	REQUIRE(hwgw_registry_outbox(r, ns, 16, &k, &err) == 0);
	CHECK_EQ_INT(k, 3);
	/* each difference resolved by an operator, then the document and the notices go */
	REQUIRE(hwgw_registry_resolve(r, c4, "address", "op-7", "2025-04-03", &err) == 0);
	CHECK_EQ_INT(hwgw_registry_resolve(r, c4, "address", "op-7", "2025-04-03", &err),
	             HWG_E_NOT_FOUND);
	REQUIRE(hwgw_registry_outbox(r, ns, 16, &k, &err) == 0);
	CHECK_EQ_INT(k, 4);
	for (int i = 5; i <= 8; i++)
		CHECK_EQ_INT(hwgw_registry_resolve(r, code_of(i, (char[12]){0}), "address", "op-7",
		                                   "2025-04-03", &err),
		             0);
	q = ask(c5, REG_REQ_SELF, c5, NULL);
	CHECK_EQ_INT(hwgw_registry_document(r, &q, s, 1743465600, &buf, &len, &err), 0);
	free(buf);
	REQUIRE(hwgw_registry_outbox(r, ns, 16, &k, &err) == 0);
	CHECK_EQ_INT(k, 8);
	/* a code the register lacks, and a row whose code is not one */
	d.n = 0;
	snprintf(bad, sizeof(bad), "resident_code,name\n%s,x\n12345,y\n", code_of(99, c4));
	REQUIRE(hwgw_registry_reconcile(r, bad, strlen(bad), "2025-04-04", note_diff, &d, &st,
	                                &err) == 0);
	REQUIRE(d.n == 2);
	CHECK_EQ_STR(d.field[0], "record");
	CHECK_EQ_STR(d.code[1], "line 3");
	CHECK_EQ_STR(d.field[1], "resident_code");
	reg_signer_free(s);
	hwgw_registry_close(r);
}

/* ------------------------------------------------------- synthetic */

/* A digest of every record version, in order: equal registers, equal digests. */
static int
digest_row(void *arg, int ncols, const char *const *vals)
{
	EVP_MD_CTX *md = arg;

	for (int i = 0; i < ncols; i++)
		EVP_DigestUpdate(md, vals[i] != NULL ? vals[i] : "\x01",
		                 vals[i] != NULL ? strlen(vals[i]) + 1 : 1);
	return 0;
}

static void
register_digest(struct hwgw_registry *r, uint8_t out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct hwg_error err = {0};

	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	reg_db_query(r->db,
	             "SELECT resident_code, version, household_id, relation, name, kana, birth,"
	             " sex, address, aza_code, postcode, cert_control, wide_control, seq,"
	             " former_surname, resident_since, mn_hash FROM record_versions"
	             " ORDER BY seq",
	             0, NULL, digest_row, md, NULL, &err);
	reg_db_query(r->db,
	             "SELECT resident_code, applied, decided FROM dv_measures"
	             " ORDER BY resident_code",
	             0, NULL, digest_row, md, NULL, &err);
	EVP_DigestFinal_ex(md, out, NULL);
	EVP_MD_CTX_free(md);
}

static struct hwgw_registry *
seeded(long n, uint64_t seed, uint8_t digest[32])
{
	struct hwgw_registry *r = open_reg(fresh());
	struct reg_seed_stats st;
	struct hwg_error err = {0};

	if (r == NULL)
		return NULL;
	if (hwgw_registry_seed(r, n, seed, "2025-04-01", &st, &err) != 0 || st.residents != n) {
		fprintf(stderr, "  seed: %s\n", err.message);
		hwgw_registry_close(r);
		return NULL;
	}
	register_digest(r, digest);
	return r;
}

struct seed_check {
	struct hwgw_registry *r;
	long people, bad, gaiji, kana_bad, heads;
};

static int
seed_row(void *arg, int ncols, const char *const *vals)
{
	struct seed_check *c = arg;
	struct reg_person p;
	struct hwg_error err = {0};

	(void)ncols;
	c->people++;
	if (hwgw_registry_get(c->r, vals[0], 1, &p, &err) != 0 ||
	    reg_mn_validate(p.my_number, &err) != 0 ||
	    reg_code_validate(p.resident_code, &err) != 0 || strcmp(p.city_code, "492019") != 0 ||
	    strlen(p.aza_code) != 12 || strlen(p.postcode) != 7 ||
	    strcmp(p.birth, "2025-04-01") > 0)
		c->bad++;
	c->gaiji += p.name_gaiji > 0 || p.address_gaiji > 0;
	c->heads += strcmp(p.relation, "世帯主") == 0;
	if (strstr(p.name, "　") == NULL || strstr(p.kana, "　") == NULL)
		c->kana_bad++;
	return 0;
}

static void
test_seed(void)
{
	uint8_t d1[32], d2[32], d3[32];
	struct hwgw_registry *r1 = seeded(3000, 7, d1), *r2 = seeded(3000, 7, d2);
	struct hwgw_registry *r3 = seeded(3000, 8, d3);
	struct seed_check c = {r1, 0, 0, 0, 0, 0};
	struct reg_seed_stats st;
	struct hwg_error err = {0};
	int64_t k = 0;

	REQUIRE(r1 != NULL && r2 != NULL && r3 != NULL);
	CHECK(memcmp(d1, d2, 32) == 0); /* the same seed: the same register */
	CHECK(memcmp(d1, d3, 32) != 0); /* another seed: another one */
	REQUIRE(reg_db_query(r1->db, "SELECT resident_code FROM residents", 0, NULL, seed_row, &c,
	                     NULL, &err) == 0);
	CHECK_EQ_INT(c.people, 3000);
	CHECK_EQ_INT(c.bad, 0);
	CHECK_EQ_INT(c.kana_bad, 0);
	CHECK(c.gaiji > 0);
	CHECK(c.heads > 900 && c.heads < 2000);
	REQUIRE(reg_db_query(r1->db, "SELECT count(*) FROM dv_measures", 0, NULL, reg_row_i64, &k,
	                     NULL, &err) == 0);
	CHECK(k >= 0);
	REQUIRE(reg_db_query(r1->db, "SELECT count(*) FROM outbox", 0, NULL, reg_row_i64, &k, NULL,
	                     &err) == 0);
	CHECK_EQ_INT(k, 0); /* a seeded register queues no notice */
	/* the six search indexes, dropped for the load, are there again */
	REQUIRE(reg_db_query(r1->db,
	                     strcmp(hwgw_registry_engine(r1), "sqlite") == 0
	                         ? "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
	                           " AND name LIKE 'residents\\_%' ESCAPE '\\'"
	                         : "SELECT count(*) FROM pg_indexes WHERE indexname LIKE"
	                           " 'residents\\_%' ESCAPE '\\' AND indexname <> 'residents_pkey'",
	                     0, NULL, reg_row_i64, &k, NULL, &err) == 0);
	CHECK_EQ_INT(k, 6);
	/* only an empty register is seeded */
	CHECK_EQ_INT(hwgw_registry_seed(r1, 10, 7, "2025-04-01", &st, &err), HWG_E_EXISTS);
	CHECK_EQ_INT(hwgw_registry_seed(r3, 0, 7, "2025-04-01", &st, &err), HWG_E_INVALID);
	hwgw_registry_close(r1);
	hwgw_registry_close(r2);
	hwgw_registry_close(r3);
}

/* ------------------------------------------------------------- main */

static int
setup(void)
{
	static const char key[] =
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
	FILE *f;

	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(keypath, sizeof(keypath), "%s/mn.key", tmpdir);
	write_file(keypath, key, sizeof(key) - 1);
	snprintf(signpath, sizeof(signpath), "%s/registry.pem", tmpdir);
	if ((signkey = EVP_EC_gen("P-256")) == NULL || (f = fopen(signpath, "w")) == NULL)
		return -1;
	PEM_write_PrivateKey(f, signkey, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	chmod(signpath, 0600);
	pg_base = getenv("HWG_REGISTRY_PG");
	fprintf(stderr, "# engine: %s\n", pg_base != NULL ? "postgres" : "sqlite");
	return 0;
}

int
main(void)
{
	char cmd[300];

	if (setup() != 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	HWG_RUN(test_check_digits);
	HWG_RUN(test_refused_identifiers);
	HWG_RUN(test_move_in);
	HWG_RUN(test_in_town_move);
	HWG_RUN(test_move_out_and_death);
	HWG_RUN(test_household_change);
	HWG_RUN(test_birth);
	HWG_RUN(test_outbox);
	HWG_RUN(test_search);
	HWG_RUN(test_issue_ties);
	HWG_RUN(test_issue_dv);
	HWG_RUN(test_issue_controls);
	HWG_RUN(test_issue_my_number);
	HWG_RUN(test_version_digest_vector);
	HWG_RUN(test_document);
	HWG_RUN(test_document_pkcs11);
	HWG_RUN(test_mn_key_hsm);
	HWG_RUN(test_concurrent_writers);
	HWG_RUN(test_seed);
	HWG_RUN(test_special_move_in);
	HWG_RUN(test_reconcile);
	EVP_PKEY_free(signkey);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return HWG_TEST_END();
}
