/*
 * test_issuance.c — the issuance journal (gateway/state/hwg_issuance.c):
 * numbers (format, the date in Japan, a sequence per gateway id that
 * survives reopening and is never reused: not after a failure, not after
 * a reservation that could not be written); every transition from each
 * state it allows and refused from every other, the row unchanged; a
 * request id asked again (the first issuance back, or request_conflict);
 * reprints and their original; a person's history; what a restart finds
 * in flight (reserved, rendered, sealed → failed; sent → unconfirmed),
 * after the store is closed and opened again; the triggers that keep
 * issuances and their numbers; a version-4 database migrated forward.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hwg_issuance.h"
#include "hwg_store.h"
#include "hwg_store_sql.h"
#include "hwg_test.h"

/* 2024-03-31T15:30:00Z: already 2024-04-01 in Japan */
#define T0 1711899000000LL
#define GW "gw-test"
#define ALICE "12345678901"
#define BOB "10987654321"

static char dir[64];
static struct hwg_store *s;
static const uint8_t digest_a[32] = {0xa1}, digest_b[32] = {0xb2}, pdf[32] = {0x9d};
static const uint8_t seal[HWG_ISSUANCE_SEAL_LEN] = {0x5e};
static int request_counter;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
open_store(void)
{
	struct hwg_error err = {0};

	if (hwg_store_open(dir, 1, &s, &err) != 0) {
		fprintf(stderr, "  store %s: %s\n", dir, err.message);
		exit(2);
	}
}

static void
fresh_store(void)
{
	snprintf(dir, sizeof(dir), "/tmp/hwgw-issuance-test.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	open_store();
}

static void
done_store(void)
{
	hwg_store_close(s);
	s = NULL;
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static long long
query_int(const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(hwg_store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int
sql(const char *text)
{
	return sqlite3_exec(hwg_store_db(s), text, NULL, NULL, NULL);
}

/* A reservation for subject by client "station-1", request id rid (NULL: a fresh one). */
static struct hwg_issuance_request
request(const char *rid, const char *subject, const uint8_t *digest)
{
	static char fresh[32];

	if (rid == NULL) {
		snprintf(fresh, sizeof(fresh), "req-%d", ++request_counter);
		rid = fresh;
	}
	return (struct hwg_issuance_request){.gateway_id = GW,
	                                     .client_id = "station-1",
	                                     .request_id = rid,
	                                     .operator_id = "clerk.1",
	                                     .relation = "self",
	                                     .subject = subject,
	                                     .kind = "juminhyo",
	                                     .doc_digest = digest,
	                                     .household = 1,
	                                     .now_ms = T0};
}

static int
reserve(const char *rid, struct hwg_issuance *out)
{
	struct hwg_issuance_request rq = request(rid, ALICE, digest_a);
	struct hwg_error err = {0};
	int existing = -1, rc = hwg_issuance_reserve(s, &rq, out, &existing, &err);

	if (rc != 0)
		fprintf(stderr, "  reserve: %s\n", err.message);
	return rc;
}

static int
state_of(const char *no)
{
	struct hwg_issuance r;
	struct hwg_error err = {0};

	return hwg_issuance_get(s, no, &r, &err) == 0 ? r.state : -1;
}

/* ---------------------------------------------------------------- numbers */

static void
test_number_and_record(void)
{
	struct hwg_issuance r, g;
	struct hwg_error err = {0};
	char date[11];

	fresh_store();
	hwg_issuance_date(T0, date);
	CHECK_EQ_STR(date, "2024-04-01");
	hwg_issuance_date(T0 - 1000LL * 5400, date); /* 14:00 UTC = 23:00 in Japan */
	CHECK_EQ_STR(date, "2024-03-31");
	REQUIRE(reserve("first", &r) == 0);
	CHECK_EQ_STR(r.no, "gw-test-20240401-000001");
	CHECK_EQ_INT(r.seq, 1);
	CHECK_EQ_STR(r.date, "2024-04-01");
	CHECK_EQ_INT(r.state, HWG_ISSUANCE_RESERVED);
	CHECK_EQ_STR(r.client_id, "station-1");
	CHECK_EQ_STR(r.request_id, "first");
	CHECK_EQ_STR(r.operator_id, "clerk.1");
	CHECK_EQ_STR(r.relation, "self");
	CHECK_EQ_STR(r.subject, ALICE);
	CHECK_EQ_STR(r.kind, "juminhyo");
	CHECK(memcmp(r.doc_digest, digest_a, 32) == 0);
	CHECK_EQ_INT(r.household, 1);
	CHECK_EQ_INT(r.my_number, 0);
	CHECK_EQ_INT(r.has_pdf, 0);
	CHECK_EQ_INT(r.has_seal, 0);
	CHECK_EQ_STR(r.original_no, "");
	CHECK_EQ_INT(r.resolution, -1);
	CHECK_EQ_INT(r.reserved_ms, T0);
	CHECK_EQ_INT(r.rendered_ms, 0);
	CHECK_EQ_INT(hwg_issuance_get(s, r.no, &g, &err), 0);
	CHECK(memcmp(&g, &r, sizeof(g)) == 0);
	CHECK_EQ_INT(hwg_issuance_get_request(s, "station-1", "first", &g, &err), 0);
	CHECK_EQ_STR(g.no, r.no);
	CHECK_EQ_INT(hwg_issuance_get(s, "gw-test-20240401-000002", &g, &err), HWG_E_NOT_FOUND);
	CHECK_EQ_STR(err.message, "no issuance gw-test-20240401-000002");
	CHECK_EQ_INT(hwg_issuance_get_request(s, "station-2", "first", &g, &err), HWG_E_NOT_FOUND);
	CHECK_EQ_INT(hwg_issuance_get_request(s, "station-1", "no such", &g, &err),
	             HWG_E_NOT_FOUND);
	done_store();
}

static void
test_sequence_per_gateway_across_reopen(void)
{
	struct hwg_issuance_request rq;
	struct hwg_issuance r;
	struct hwg_error err = {0};

	fresh_store();
	REQUIRE(reserve(NULL, &r) == 0);
	CHECK_EQ_STR(r.no, "gw-test-20240401-000001");
	/* a failed issuance keeps its number */
	CHECK_EQ_INT(hwg_issuance_failed(s, r.no, HWG_E_PAPER_OUT, "paper out", T0, &err), 0);
	REQUIRE(reserve(NULL, &r) == 0);
	CHECK_EQ_STR(r.no, "gw-test-20240401-000002");
	/* another gateway id counts on its own */
	rq = request(NULL, ALICE, digest_a);
	rq.gateway_id = "other-gw";
	rq.now_ms = T0 + 86400000LL;
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &r, NULL, &err), 0);
	CHECK_EQ_STR(r.no, "other-gw-20240402-000001");
	hwg_store_close(s);
	open_store();
	REQUIRE(reserve(NULL, &r) == 0);
	CHECK_EQ_STR(r.no, "gw-test-20240401-000003");
	CHECK_EQ_INT(
	    query_int("SELECT last_seq FROM issuance_numbers WHERE gateway_id = 'gw-test'"), 3);
	/* the numbers are spent even with every issuance gone (the trigger would refuse) */
	CHECK(sql("DELETE FROM issuances") != SQLITE_OK);
	CHECK(sql("UPDATE issuance_numbers SET last_seq = 1") != SQLITE_OK);
	CHECK(sql("DELETE FROM issuance_numbers") != SQLITE_OK);
	done_store();
}

/* A reservation that cannot be written spends no number and leaves nothing. */
static void
test_failed_reservation_leaves_nothing(void)
{
	struct hwg_issuance r;
	struct hwg_error err = {0};
	struct hwg_issuance_request rq = request("broken", ALICE, digest_a);

	fresh_store();
	REQUIRE(reserve(NULL, &r) == 0);
	CHECK_EQ_INT(sql("CREATE TEMP TRIGGER no_insert BEFORE INSERT ON main.issuances"
	                 " BEGIN SELECT RAISE(ABORT, 'disk says no'); END"),
	             SQLITE_OK);
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &r, NULL, &err), HWG_E_STORE);
	CHECK(strstr(err.message, "disk says no") != NULL);
	CHECK_EQ_INT(query_int("SELECT last_seq FROM issuance_numbers"), 1);
	CHECK_EQ_INT(query_int("SELECT count(*) FROM issuances"), 1);
	CHECK_EQ_INT(sql("DROP TRIGGER temp.no_insert"), SQLITE_OK);
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &r, NULL, &err), 0);
	CHECK_EQ_STR(r.no, "gw-test-20240401-000002");
	done_store();
}

static void
test_reserve_refuses_malformed(void)
{
	struct hwg_issuance r;
	struct hwg_error err = {0};
	struct hwg_issuance_request rq;
	const char *bad_codes[] = {"1234567890", "123456789012", "1234567890a", ""};

	fresh_store();
	rq = request(NULL, ALICE, digest_a);
	rq.gateway_id = "-gw";
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &r, NULL, &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "gateway id") != NULL);
	rq.gateway_id = "gw test";
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &r, NULL, &err), HWG_E_INVALID);
	rq = request("bad id", ALICE, digest_a);
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &r, NULL, &err), HWG_E_INVALID);
	rq = request(NULL, ALICE, digest_a);
	rq.operator_id = "";
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &r, NULL, &err), HWG_E_INVALID);
	rq = request(NULL, ALICE, digest_a);
	rq.kind = "koseki";
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &r, NULL, &err), HWG_E_INVALID);
	rq = request(NULL, ALICE, digest_a);
	rq.relation = "neighbour";
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &r, NULL, &err), HWG_E_INVALID);
	rq = request(NULL, ALICE, NULL);
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &r, NULL, &err), HWG_E_INVALID);
	for (size_t i = 0; i < sizeof(bad_codes) / sizeof(bad_codes[0]); i++) {
		rq = request(NULL, bad_codes[i], digest_a);
		CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &r, NULL, &err), HWG_E_INVALID);
	}
	CHECK_EQ_INT(query_int("SELECT count(*) FROM issuances"), 0);
	CHECK_EQ_INT(query_int("SELECT count(*) FROM issuance_numbers"), 0);
	done_store();
}

/* ---------------------------------------------------------------- idempotency */

static void
test_same_request_gives_the_first(void)
{
	struct hwg_issuance first, again;
	struct hwg_error err = {0};
	struct hwg_issuance_request rq = request("retry-me", ALICE, digest_a);
	int existing = -1;

	fresh_store();
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &first, &existing, &err), 0);
	CHECK_EQ_INT(existing, 0);
	CHECK_EQ_INT(hwg_issuance_rendered(s, first.no, pdf, 2, T0 + 1, &err), 0);
	/* asked again later: the first issuance, as it is now; no number spent */
	rq.now_ms = T0 + 5000;
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &again, &existing, &err), 0);
	CHECK_EQ_INT(existing, 1);
	CHECK_EQ_STR(again.no, first.no);
	CHECK_EQ_INT(again.state, HWG_ISSUANCE_RENDERED);
	CHECK_EQ_INT(again.pages_expected, 2);
	CHECK_EQ_INT(query_int("SELECT last_seq FROM issuance_numbers"), 1);
	/* another document under the same request id */
	rq.doc_digest = digest_b;
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &again, &existing, &err), HWG_E_REQUEST_CONFLICT);
	CHECK(strstr(err.message, first.no) != NULL);
	CHECK_EQ_INT(existing, 0);
	/* the same request id from another client is another issuance */
	rq.client_id = "station-2";
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &again, &existing, &err), 0);
	CHECK_EQ_INT(existing, 0);
	CHECK_EQ_STR(again.no, "gw-test-20240401-000002");
	CHECK_EQ_INT(query_int("SELECT count(*) FROM issuances"), 2);
	done_store();
}

/* ---------------------------------------------------------------- transitions */

/* Bring a fresh issuance to state (by the path through the journal); its number into no. */
static void
bring_to(int state, struct hwg_issuance *r)
{
	struct hwg_error err = {0};
	int rc;

	if (reserve(NULL, r) != 0)
		return;
	switch (state) {
	case HWG_ISSUANCE_FAILED:
		rc = hwg_issuance_failed(s, r->no, HWG_E_RENDER_FAILED, "renderer died", T0, &err);
		break;
	case HWG_ISSUANCE_RESERVED:
		rc = 0;
		break;
	default:
		rc = hwg_issuance_rendered(s, r->no, pdf, 1, T0 + 1, &err);
		if (rc == 0 && state != HWG_ISSUANCE_RENDERED)
			rc = hwg_issuance_sealed(s, r->no, seal, T0 + 2, &err);
		if (rc == 0 && state != HWG_ISSUANCE_RENDERED && state != HWG_ISSUANCE_SEALED)
			rc = hwg_issuance_sent(s, r->no, "PRN-1", r->no, T0 + 3, &err);
		if (rc == 0 && state == HWG_ISSUANCE_PRINTED)
			rc = hwg_issuance_printed(s, r->no, 1, T0 + 4, &err);
		if (rc == 0 &&
		    (state == HWG_ISSUANCE_UNCONFIRMED || state == HWG_ISSUANCE_NOT_PRINTED))
			rc = hwg_issuance_unconfirmed(s, r->no, HWG_E_PRINTER_JAM, "jam at page 1",
			                              T0 + 4, &err);
		if (rc == 0 && state == HWG_ISSUANCE_NOT_PRINTED)
			rc = hwg_issuance_resolve(s, r->no, HWG_ISSUANCE_NOT_PRINTED, "super.1",
			                          NULL, T0 + 5, &err);
	}
	if (rc != 0)
		fprintf(stderr, "  bring to %s: %s\n", hwg_issuance_state_name(state), err.message);
	CHECK_EQ_INT(state_of(r->no), state);
}

enum step { RENDER, SEAL, SEND, PRINT, FAIL, UNCONFIRM, RESOLVE_PRINTED, RESOLVE_NOT, N_STEPS };

static const char *const step_names[N_STEPS] = {
    "rendered",           "sealed", "sent", "printed", "failed", "unconfirmed", "resolve printed",
    "resolve not_printed"};

/* Where each step goes, and the bit of each state it may start from. */
#define BIT(st) (1u << (st))
static const struct {
	int to;
	unsigned from;
} steps[N_STEPS] = {
    [RENDER] = {HWG_ISSUANCE_RENDERED, BIT(HWG_ISSUANCE_RESERVED)},
    [SEAL] = {HWG_ISSUANCE_SEALED, BIT(HWG_ISSUANCE_RENDERED)},
    [SEND] = {HWG_ISSUANCE_SENT, BIT(HWG_ISSUANCE_SEALED)},
    [PRINT] = {HWG_ISSUANCE_PRINTED, BIT(HWG_ISSUANCE_SENT) | BIT(HWG_ISSUANCE_UNCONFIRMED)},
    [FAIL] = {HWG_ISSUANCE_FAILED, BIT(HWG_ISSUANCE_RESERVED) | BIT(HWG_ISSUANCE_RENDERED) |
                                       BIT(HWG_ISSUANCE_SEALED) | BIT(HWG_ISSUANCE_SENT)},
    [UNCONFIRM] = {HWG_ISSUANCE_UNCONFIRMED, BIT(HWG_ISSUANCE_SENT)},
    [RESOLVE_PRINTED] = {HWG_ISSUANCE_PRINTED, BIT(HWG_ISSUANCE_UNCONFIRMED)},
    [RESOLVE_NOT] = {HWG_ISSUANCE_NOT_PRINTED, BIT(HWG_ISSUANCE_UNCONFIRMED)},
};

static int
do_step(int step, const char *no, int64_t t, struct hwg_error *err)
{
	switch (step) {
	case RENDER:
		return hwg_issuance_rendered(s, no, pdf, 3, t, err);
	case SEAL:
		return hwg_issuance_sealed(s, no, seal, t, err);
	case SEND:
		return hwg_issuance_sent(s, no, "PRN-7", no, t, err);
	case PRINT:
		return hwg_issuance_printed(s, no, 3, t, err);
	case FAIL:
		return hwg_issuance_failed(s, no, HWG_E_PRINTER_OFFLINE, "offline", t, err);
	case UNCONFIRM:
		return hwg_issuance_unconfirmed(s, no, HWG_E_PRINTER_REMOVED, "unplugged", t, err);
	case RESOLVE_PRINTED:
		return hwg_issuance_resolve(s, no, HWG_ISSUANCE_PRINTED, "super.1", "saw it", t,
		                            err);
	default:
		return hwg_issuance_resolve(s, no, HWG_ISSUANCE_NOT_PRINTED, "super.1", "", t, err);
	}
}

/* What the step recorded besides the state. */
static void
check_step_fields(int step, const struct hwg_issuance *r)
{
	const int64_t t = T0 + 100;

	switch (step) {
	case RENDER:
		CHECK(r->has_pdf && memcmp(r->pdf_digest, pdf, 32) == 0);
		CHECK_EQ_INT(r->pages_expected, 3);
		CHECK_EQ_INT(r->rendered_ms, t);
		break;
	case SEAL:
		CHECK(r->has_seal && memcmp(r->pdf_seal, seal, sizeof(seal)) == 0);
		CHECK_EQ_INT(r->sealed_ms, t);
		break;
	case SEND:
		CHECK_EQ_STR(r->printer, "PRN-7");
		CHECK_EQ_STR(r->job_name, r->no);
		CHECK_EQ_INT(r->sent_ms, t);
		break;
	case PRINT:
		CHECK_EQ_INT(r->pages_confirmed, 3);
		CHECK_EQ_INT(r->printed_ms, t);
		CHECK_EQ_STR(r->resolved_by, "");
		break;
	case FAIL:
		CHECK_EQ_STR(r->failure_code, "printer_offline");
		CHECK_EQ_STR(r->failure_msg, "offline");
		CHECK_EQ_INT(r->failed_ms, t);
		break;
	case UNCONFIRM:
		CHECK_EQ_STR(r->failure_code, "printer_removed");
		CHECK_EQ_STR(r->failure_msg, "unplugged");
		CHECK_EQ_INT(r->unconfirmed_ms, t);
		break;
	default:
		CHECK_EQ_STR(r->resolved_by, "super.1");
		CHECK_EQ_INT(r->resolution, steps[step].to);
		CHECK_EQ_STR(r->resolution_note, step == RESOLVE_PRINTED ? "saw it" : "");
		CHECK_EQ_INT(r->resolved_ms, t);
		CHECK_EQ_INT(r->printed_ms, 0); /* no printer confirmed it */
	}
}

/* Every step from every state: taken where the journal allows it, refused elsewhere. */
static void
test_every_transition_both_ways(void)
{
	struct hwg_error err = {0};

	fresh_store();
	for (int from = 0; from < HWG_ISSUANCE_STATE_COUNT_; from++) {
		for (int step = 0; step < N_STEPS; step++) {
			struct hwg_issuance before, after;
			int allowed = (steps[step].from & BIT(from)) != 0;
			int rc;

			bring_to(from, &before);
			hwg_issuance_get(s, before.no, &before, &err);
			rc = do_step(step, before.no, T0 + 100, &err);
			if (rc != (allowed ? 0 : HWG_E_WRONG_STATE))
				fprintf(stderr, "  %s from %s: %s\n", step_names[step],
				        hwg_issuance_state_name(from), err.message);
			CHECK_EQ_INT(rc, allowed ? 0 : HWG_E_WRONG_STATE);
			REQUIRE(hwg_issuance_get(s, before.no, &after, &err) == 0);
			if (allowed) {
				CHECK_EQ_INT(after.state, steps[step].to);
				check_step_fields(step, &after);
			} else {
				CHECK(strstr(err.message, hwg_issuance_state_name(from)) != NULL);
				CHECK(memcmp(&before, &after, sizeof(after)) == 0);
			}
		}
	}
	done_store();
}

static void
test_transitions_refuse_unknown_and_malformed(void)
{
	struct hwg_issuance r;
	struct hwg_error err = {0};
	const char *unknown = "gw-test-20240401-999999";

	fresh_store();
	for (int step = 0; step < N_STEPS; step++) {
		CHECK_EQ_INT(do_step(step, unknown, T0, &err), HWG_E_NOT_FOUND);
		CHECK(strstr(err.message, unknown) != NULL);
	}
	REQUIRE(reserve(NULL, &r) == 0);
	CHECK_EQ_INT(hwg_issuance_rendered(s, r.no, NULL, 1, T0, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_issuance_rendered(s, r.no, pdf, 0, T0, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_issuance_failed(s, r.no, 0, "no code", T0, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_issuance_failed(s, r.no, -9999, "unknown code", T0, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_issuance_resolve(s, r.no, HWG_ISSUANCE_FAILED, "super.1", NULL, T0, &err),
	             HWG_E_INVALID);
	CHECK_EQ_INT(state_of(r.no), HWG_ISSUANCE_RESERVED);
	CHECK_EQ_INT(hwg_issuance_rendered(s, r.no, pdf, 1, T0, &err), 0);
	CHECK_EQ_INT(hwg_issuance_sealed(s, r.no, seal, T0, &err), 0);
	CHECK_EQ_INT(hwg_issuance_sent(s, r.no, "", r.no, T0, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_issuance_sent(s, r.no, "PRN 1", r.no, T0, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_issuance_sent(s, r.no, "PRN-1", "", T0, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_issuance_printed(s, r.no, 1, T0, &err), HWG_E_WRONG_STATE);
	CHECK_EQ_INT(hwg_issuance_sent(s, r.no, "PRN-1", r.no, T0, &err), 0);
	CHECK_EQ_INT(hwg_issuance_printed(s, r.no, 0, T0, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_issuance_unconfirmed(s, r.no, HWG_E_PRINT_UNCONFIRMED, "?", T0, &err), 0);
	CHECK_EQ_INT(hwg_issuance_resolve(s, r.no, HWG_ISSUANCE_PRINTED, "", NULL, T0, &err),
	             HWG_E_INVALID);
	CHECK_EQ_INT(state_of(r.no), HWG_ISSUANCE_UNCONFIRMED);
	done_store();
}

/* A failure's message is kept as text that is safe to show: no control characters, bounded. */
static void
test_failure_message_made_safe(void)
{
	struct hwg_issuance r;
	struct hwg_error err = {0};
	char long_msg[400];

	fresh_store();
	REQUIRE(reserve(NULL, &r) == 0);
	CHECK_EQ_INT(
	    hwg_issuance_failed(s, r.no, HWG_E_PRINTER_ERROR, "line1\nline2\x1b[0m", T0, &err), 0);
	REQUIRE(hwg_issuance_get(s, r.no, &r, &err) == 0);
	CHECK_EQ_STR(r.failure_msg, "line1\\x0aline2\\x1b[0m");
	memset(long_msg, 'x', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	REQUIRE(reserve(NULL, &r) == 0);
	CHECK_EQ_INT(hwg_issuance_failed(s, r.no, HWG_E_PRINTER_ERROR, long_msg, T0, &err), 0);
	REQUIRE(hwg_issuance_get(s, r.no, &r, &err) == 0);
	CHECK_EQ_INT(strlen(r.failure_msg), HWG_ISSUANCE_TEXT_MAX);
	/* what names an issuance cannot be changed behind the journal's back */
	CHECK(sql("UPDATE issuances SET subject = '" BOB "'") != SQLITE_OK);
	CHECK(sql("UPDATE issuances SET doc_digest = x'00'") != SQLITE_OK);
	CHECK_EQ_INT(query_int("SELECT count(*) FROM issuances WHERE subject = '" ALICE "'"), 2);
	done_store();
}

/* ---------------------------------------------------------------- reprints */

static void
test_reprint_links_its_original(void)
{
	struct hwg_issuance orig, unprinted, re, again;
	struct hwg_error err = {0};
	struct hwg_issuance_request rq;
	int existing;

	fresh_store();
	bring_to(HWG_ISSUANCE_PRINTED, &orig);
	bring_to(HWG_ISSUANCE_UNCONFIRMED, &unprinted);
	rq = request("reprint-1", ALICE, digest_a);
	rq.original_no = orig.no;
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &re, NULL, &err), HWG_E_INVALID); /* no reason */
	rq.reprint_reason = "stained at the counter";
	rq.original_no = "gw-test-20240401-999999";
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &re, NULL, &err), HWG_E_NOT_FOUND);
	rq.original_no = unprinted.no;
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &re, NULL, &err), HWG_E_WRONG_STATE);
	CHECK(strstr(err.message, "unconfirmed") != NULL);
	rq.original_no = orig.no;
	rq.subject = BOB;
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &re, NULL, &err), HWG_E_INVALID);
	rq.subject = ALICE;
	rq.kind = "kisai";
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &re, NULL, &err), HWG_E_INVALID);
	rq.kind = "juminhyo";
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &re, NULL, &err), 0);
	CHECK_EQ_STR(re.original_no, orig.no);
	CHECK_EQ_STR(re.reprint_reason, "stained at the counter");
	CHECK_EQ_STR(re.no, "gw-test-20240401-000003");
	/* asked again: the same reprint; the same request id as a plain issuance: a conflict */
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &again, &existing, &err), 0);
	CHECK_EQ_INT(existing, 1);
	CHECK_EQ_STR(again.no, re.no);
	rq.original_no = NULL;
	rq.reprint_reason = NULL;
	CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &again, &existing, &err), HWG_E_REQUEST_CONFLICT);
	done_store();
}

/* ---------------------------------------------------------------- history */

struct seen {
	char no[8][HWG_ISSUANCE_NO_MAX + 1];
	int n;
	int stop_at;
};

static int
see(void *ctx, const struct hwg_issuance *r)
{
	struct seen *sn = ctx;

	if (sn->n < 8)
		snprintf(sn->no[sn->n], sizeof(sn->no[0]), "%s", r->no);
	sn->n++;
	return sn->n == sn->stop_at ? 7 : 0;
}

static void
test_history_of_a_person(void)
{
	struct hwg_issuance r;
	struct hwg_error err = {0};
	struct hwg_issuance_request rq;
	struct seen sn;

	fresh_store();
	for (int i = 0; i < 4; i++) {
		rq = request(NULL, i == 2 ? BOB : ALICE, digest_a);
		rq.now_ms = T0 + i * 1000;
		CHECK_EQ_INT(hwg_issuance_reserve(s, &rq, &r, NULL, &err), 0);
	}
	memset(&sn, 0, sizeof(sn));
	CHECK_EQ_INT(hwg_issuance_each_subject(s, ALICE, 100, see, &sn, &err), 0);
	CHECK_EQ_INT(sn.n, 3);
	CHECK_EQ_STR(sn.no[0], "gw-test-20240401-000004"); /* newest first */
	CHECK_EQ_STR(sn.no[1], "gw-test-20240401-000002");
	CHECK_EQ_STR(sn.no[2], "gw-test-20240401-000001");
	memset(&sn, 0, sizeof(sn));
	CHECK_EQ_INT(hwg_issuance_each_subject(s, ALICE, 2, see, &sn, &err), 0);
	CHECK_EQ_INT(sn.n, 2);
	memset(&sn, 0, sizeof(sn));
	sn.stop_at = 1;
	CHECK_EQ_INT(hwg_issuance_each_subject(s, ALICE, 100, see, &sn, &err), 7);
	CHECK_EQ_INT(sn.n, 1);
	memset(&sn, 0, sizeof(sn));
	CHECK_EQ_INT(hwg_issuance_each_subject(s, "99999999999", 100, see, &sn, &err), 0);
	CHECK_EQ_INT(sn.n, 0);
	CHECK_EQ_INT(hwg_issuance_each_subject(s, "1234", 100, see, &sn, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_issuance_each_subject(s, ALICE, 0, see, &sn, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_issuance_each_subject(s, ALICE, 1001, see, &sn, &err), HWG_E_INVALID);
	done_store();
}

/* ---------------------------------------------------------------- recovery */

struct recovered {
	int n;
	int was[16];
	char no[16][HWG_ISSUANCE_NO_MAX + 1];
	int state[16];
	int fail_at; /* return an error at this call (1-based), 0 never */
};

static int
on_recovered(void *ctx, const struct hwg_issuance *r, int was, struct hwg_error *err)
{
	struct recovered *rc = ctx;

	if (rc->n < 16) {
		rc->was[rc->n] = was;
		rc->state[rc->n] = r->state;
		snprintf(rc->no[rc->n], sizeof(rc->no[0]), "%s", r->no);
	}
	rc->n++;
	return rc->n == rc->fail_at ? hwg_error_set(err, HWG_E_AUDIT, "no room for the record") : 0;
}

/* One issuance in each state; their numbers by state. */
static void
one_in_each_state(struct hwg_issuance all[HWG_ISSUANCE_STATE_COUNT_])
{
	for (int st = 0; st < HWG_ISSUANCE_STATE_COUNT_; st++)
		bring_to(st, &all[st]);
}

static void
test_recovery_after_restart(void)
{
	struct hwg_issuance all[HWG_ISSUANCE_STATE_COUNT_], r;
	struct hwg_issuance_recovery counts;
	struct recovered rec;
	struct hwg_error err = {0};
	const int64_t later = T0 + 60000;

	fresh_store();
	one_in_each_state(all);
	/* the gateway stops: nothing is committed after this */
	hwg_store_close(s);
	open_store();
	memset(&rec, 0, sizeof(rec));
	CHECK_EQ_INT(hwg_issuance_recover(s, later, on_recovered, &rec, &counts, &err), 0);
	CHECK_EQ_INT(counts.failed, 3);
	CHECK_EQ_INT(counts.unconfirmed, 1);
	CHECK_EQ_INT(rec.n, 4);
	for (int i = 0; i < 4 && i < rec.n; i++) {
		CHECK_EQ_STR(rec.no[i], all[rec.was[i]].no);
		CHECK_EQ_INT(rec.state[i], rec.was[i] == HWG_ISSUANCE_SENT
		                               ? HWG_ISSUANCE_UNCONFIRMED
		                               : HWG_ISSUANCE_FAILED);
	}
	for (int st = 0; st < HWG_ISSUANCE_STATE_COUNT_; st++) {
		REQUIRE(hwg_issuance_get(s, all[st].no, &r, &err) == 0);
		switch (st) {
		case HWG_ISSUANCE_RESERVED:
		case HWG_ISSUANCE_RENDERED:
		case HWG_ISSUANCE_SEALED:
			CHECK_EQ_INT(r.state, HWG_ISSUANCE_FAILED);
			CHECK_EQ_STR(r.failure_code, "unavailable");
			CHECK_EQ_STR(r.failure_msg,
			             "gateway stopped before the job was sent: nothing printed");
			CHECK_EQ_INT(r.failed_ms, later);
			break;
		case HWG_ISSUANCE_SENT:
			CHECK_EQ_INT(r.state, HWG_ISSUANCE_UNCONFIRMED);
			CHECK_EQ_STR(r.failure_code, "print_unconfirmed");
			CHECK(strstr(r.failure_msg, "after the job was sent") != NULL);
			CHECK_EQ_INT(r.unconfirmed_ms, later);
			CHECK_EQ_STR(r.printer, "PRN-1"); /* the supervisor knows where to look */
			break;
		default: /* settled, or already held for a supervisor: left alone */
			CHECK_EQ_INT(r.state, st);
			CHECK(r.failed_ms != later && r.unconfirmed_ms != later);
		}
	}
	/* a second start finds nothing in flight */
	memset(&rec, 0, sizeof(rec));
	CHECK_EQ_INT(hwg_issuance_recover(s, later, on_recovered, &rec, &counts, &err), 0);
	CHECK_EQ_INT(counts.failed + counts.unconfirmed, 0);
	CHECK_EQ_INT(rec.n, 0);
	/* and the numbers go on */
	REQUIRE(reserve(NULL, &r) == 0);
	CHECK_EQ_STR(r.no, "gw-test-20240401-000009");
	done_store();
}

/* When a recovered issuance's record cannot be written, none is recovered. */
static void
test_recovery_all_or_nothing(void)
{
	struct hwg_issuance all[HWG_ISSUANCE_STATE_COUNT_];
	struct hwg_issuance_recovery counts;
	struct recovered rec;
	struct hwg_error err = {0};

	fresh_store();
	one_in_each_state(all);
	memset(&rec, 0, sizeof(rec));
	rec.fail_at = 3;
	CHECK_EQ_INT(hwg_issuance_recover(s, T0, on_recovered, &rec, &counts, &err), HWG_E_AUDIT);
	CHECK_EQ_INT(counts.failed + counts.unconfirmed, 0);
	for (int st = 0; st < HWG_ISSUANCE_STATE_COUNT_; st++)
		CHECK_EQ_INT(state_of(all[st].no), st);
	/* without a callback */
	CHECK_EQ_INT(hwg_issuance_recover(s, T0, NULL, NULL, &counts, &err), 0);
	CHECK_EQ_INT(counts.failed, 3);
	CHECK_EQ_INT(counts.unconfirmed, 1);
	done_store();
}

/* ---------------------------------------------------------------- names, migration */

static void
test_names(void)
{
	for (int st = 0; st < HWG_ISSUANCE_STATE_COUNT_; st++)
		CHECK_EQ_INT(hwg_issuance_state_parse(hwg_issuance_state_name(st)), st);
	CHECK_EQ_STR(hwg_issuance_state_name(HWG_ISSUANCE_NOT_PRINTED), "not_printed");
	CHECK_EQ_STR(hwg_issuance_state_name(HWG_ISSUANCE_STATE_COUNT_), "unknown");
	CHECK_EQ_INT(hwg_issuance_state_parse("Printed"), -1);
	CHECK_EQ_INT(hwg_issuance_state_parse(NULL), -1);
	CHECK(hwg_issuance_kind_valid("inkan") && !hwg_issuance_kind_valid("Inkan"));
	CHECK(hwg_issuance_relation_valid("proxy") && !hwg_issuance_relation_valid(""));
	CHECK(hwg_resident_code_valid(ALICE) && !hwg_resident_code_valid(NULL));
	CHECK(hwg_issuance_request_id_valid("a.b_c-1") && !hwg_issuance_request_id_valid("a/b"));
}

static void
test_migrates_version_4(void)
{
	struct hwg_issuance r;

	fresh_store();
	CHECK_EQ_INT(sql("DROP TABLE issuances; DROP TABLE issuance_numbers;"
	                 "PRAGMA user_version = 4;"),
	             SQLITE_OK);
	hwg_store_close(s);
	open_store();
	CHECK_EQ_INT(query_int("PRAGMA user_version"), 5);
	CHECK_EQ_INT(query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
	                       "name IN ('issuances', 'issuance_numbers')"),
	             2);
	CHECK_EQ_INT(reserve(NULL, &r), 0);
	done_store();
}

int
main(void)
{
	HWG_RUN(test_number_and_record);
	HWG_RUN(test_sequence_per_gateway_across_reopen);
	HWG_RUN(test_failed_reservation_leaves_nothing);
	HWG_RUN(test_reserve_refuses_malformed);
	HWG_RUN(test_same_request_gives_the_first);
	HWG_RUN(test_every_transition_both_ways);
	HWG_RUN(test_transitions_refuse_unknown_and_malformed);
	HWG_RUN(test_failure_message_made_safe);
	HWG_RUN(test_reprint_links_its_original);
	HWG_RUN(test_history_of_a_person);
	HWG_RUN(test_recovery_after_restart);
	HWG_RUN(test_recovery_all_or_nothing);
	HWG_RUN(test_names);
	HWG_RUN(test_migrates_version_4);
	return HWG_TEST_END();
}
