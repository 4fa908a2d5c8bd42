/*
 * hwg_issuance.c — see hwg_issuance.h.  Each transition is one UPDATE
 * whose WHERE names the states it may start from, so the check and the
 * change are one statement; when it changes no row, the row is read to
 * say why (unknown number, or the state it is in).  Numbers come from
 * issuance_numbers, a counter per gateway id that only goes up (a
 * trigger refuses anything else), bumped in the reservation's savepoint.
 * A row that does not read back as what was written is HWG_E_STORE,
 * never a default.
 */
#include "hwg_issuance.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwg_store_sql.h"
#include "hwg_text.h"

#define JST_OFFSET_S (9 * 3600)
#define SUBJECT_LIMIT_MAX 1000

static const char *const state_names[HWG_ISSUANCE_STATE_COUNT_] = {
    "reserved", "rendered", "sealed", "sent", "printed", "failed", "unconfirmed", "not_printed"};

const char *
hwg_issuance_state_name(int state)
{
	return state >= 0 && state < HWG_ISSUANCE_STATE_COUNT_ ? state_names[state] : "unknown";
}

int
hwg_issuance_state_parse(const char *name)
{
	for (int i = 0; name != NULL && i < HWG_ISSUANCE_STATE_COUNT_; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

static int
one_of(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return 1;
	return 0;
}

int
hwg_issuance_kind_valid(const char *kind)
{
	static const char *const kinds[] = {"juminhyo", "kisai", "tenshutsu", "inkan"};

	return one_of(kind, kinds, sizeof(kinds) / sizeof(kinds[0]));
}

int
hwg_issuance_relation_valid(const char *relation)
{
	static const char *const relations[] = {"self", "household", "proxy"};

	return one_of(relation, relations, sizeof(relations) / sizeof(relations[0]));
}

int
hwg_resident_code_valid(const char *code)
{
	return code != NULL && strlen(code) == HWG_RESIDENT_CODE_LEN &&
	       strspn(code, "0123456789") == HWG_RESIDENT_CODE_LEN;
}

int
hwg_issuance_request_id_valid(const char *id)
{
	/* the alphabet and length of a client id */
	return hwg_client_id_valid(id);
}

/* A gateway id a number may start with: a job name's alphabet (drivers/printer/hwg_pjl.h). */
static int
gateway_id_valid(const char *id)
{
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = id != NULL ? strlen(id) : 0;

	return n > 0 && n <= HWG_ISSUANCE_GATEWAY_ID_MAX && strchr(alnum, id[0]) != NULL &&
	       hwg_client_id_valid(id);
}

void
hwg_issuance_date(int64_t ms, char out[11])
{
	time_t t = (time_t)(ms / 1000) + JST_OFFSET_S;
	char buf[40];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < 0 || tm.tm_year + 1900 > 9999) {
		memcpy(out, "0000-00-00", 11);
		return;
	}
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	memcpy(out, buf, 10);
	out[10] = '\0';
}

/* A message, reason or note as stored: valid UTF-8, no control character, bounded. */
static void
safe_text(char out[HWG_ISSUANCE_TEXT_MAX + 1], const char *in)
{
	hwg_text_escape(out, HWG_ISSUANCE_TEXT_MAX + 1, in != NULL ? in : "", HWG_TEXT_CONTROLS);
}

/* ---------------------------------------------------------------- reading */

#define ISSUANCE_SELECT                                                                            \
	"SELECT issuance_no, gateway_id, seq, issue_date, client_id, request_id, operator_id,"     \
	" relation, subject, kind, doc_digest, household, my_number, state, pdf_digest,"           \
	" pages_expected, pdf_seal, printer, job_name, pages_confirmed, failure_code,"             \
	" failure_msg, original_no, reprint_reason, resolved_by, resolution, resolution_note,"     \
	" reserved_ms, rendered_ms, sealed_ms, sent_ms, printed_ms, failed_ms, unconfirmed_ms,"    \
	" resolved_ms FROM issuances "

/* A text column that may be NULL ("" then); -1 if too long. */
static int
opt_text(sqlite3_stmt *st, int col, char *out, size_t n)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		out[0] = '\0';
		return 0;
	}
	return hwg_store_column_text(st, col, out, n);
}

/* A blob column of exactly n bytes into out: 1; NULL: 0; anything else: -1. */
static int
opt_blob(sqlite3_stmt *st, int col, uint8_t *out, size_t n)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return 0;
	if (sqlite3_column_type(st, col) != SQLITE_BLOB ||
	    (size_t)sqlite3_column_bytes(st, col) != n)
		return -1;
	memcpy(out, sqlite3_column_blob(st, col), n);
	return 1;
}

static int
row_names(sqlite3_stmt *st, struct hwg_issuance *r)
{
	return hwg_store_column_text(st, 0, r->no, sizeof(r->no)) |
	       hwg_store_column_text(st, 1, r->gateway_id, sizeof(r->gateway_id)) |
	       hwg_store_column_text(st, 3, r->date, sizeof(r->date)) |
	       hwg_store_column_text(st, 4, r->client_id, sizeof(r->client_id)) |
	       hwg_store_column_text(st, 5, r->request_id, sizeof(r->request_id)) |
	       hwg_store_column_text(st, 6, r->operator_id, sizeof(r->operator_id)) |
	       hwg_store_column_text(st, 7, r->relation, sizeof(r->relation)) |
	       hwg_store_column_text(st, 8, r->subject, sizeof(r->subject)) |
	       hwg_store_column_text(st, 9, r->kind, sizeof(r->kind));
}

static int
row_progress(sqlite3_stmt *st, struct hwg_issuance *r)
{
	char resolution[16];
	int rc;

	r->has_pdf = opt_blob(st, 14, r->pdf_digest, sizeof(r->pdf_digest));
	r->has_seal = opt_blob(st, 16, r->pdf_seal, sizeof(r->pdf_seal));
	rc = (r->has_pdf < 0 ? -1 : 0) | (r->has_seal < 0 ? -1 : 0) |
	     opt_text(st, 17, r->printer, sizeof(r->printer)) |
	     opt_text(st, 18, r->job_name, sizeof(r->job_name)) |
	     opt_text(st, 20, r->failure_code, sizeof(r->failure_code)) |
	     opt_text(st, 21, r->failure_msg, sizeof(r->failure_msg)) |
	     opt_text(st, 22, r->original_no, sizeof(r->original_no)) |
	     opt_text(st, 23, r->reprint_reason, sizeof(r->reprint_reason)) |
	     opt_text(st, 24, r->resolved_by, sizeof(r->resolved_by)) |
	     opt_text(st, 25, resolution, sizeof(resolution)) |
	     opt_text(st, 26, r->resolution_note, sizeof(r->resolution_note));
	r->pages_expected = (unsigned)sqlite3_column_int64(st, 15);
	r->pages_confirmed = (unsigned)sqlite3_column_int64(st, 19);
	r->resolution = resolution[0] != '\0' ? hwg_issuance_state_parse(resolution) : -1;
	return rc;
}

static int
row_to_issuance(sqlite3_stmt *st, struct hwg_issuance *r)
{
	int64_t *times[] = {&r->reserved_ms, &r->rendered_ms, &r->sealed_ms,      &r->sent_ms,
	                    &r->printed_ms,  &r->failed_ms,   &r->unconfirmed_ms, &r->resolved_ms};

	memset(r, 0, sizeof(*r));
	if (row_names(st, r) != 0 || row_progress(st, r) != 0 ||
	    opt_blob(st, 10, r->doc_digest, sizeof(r->doc_digest)) != 1)
		return -1;
	r->seq = sqlite3_column_int64(st, 2);
	r->household = sqlite3_column_int(st, 11);
	r->my_number = sqlite3_column_int(st, 12);
	r->state = hwg_issuance_state_parse((const char *)sqlite3_column_text(st, 13));
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		*times[i] = sqlite3_column_int64(st, 27 + (int)i);
	return r->state < 0 ? -1 : 0;
}

/* The one row st (bound) selects into out; HWG_E_NOT_FOUND (err set to notfound) if none. */
static int
get_one(struct hwg_store *s, sqlite3_stmt *st, struct hwg_issuance *out, const char *notfound,
        struct hwg_error *err)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		rc = row_to_issuance(st, out) == 0
		         ? 0
		         : hwg_error_set(err, HWG_E_STORE, "an issuance in the store is damaged");
	else if (rc == SQLITE_DONE)
		rc = hwg_error_set(err, HWG_E_NOT_FOUND, "%s", notfound);
	else
		rc = hwg_store_db_err(s, err, "issuance lookup");
	sqlite3_reset(st);
	return rc;
}

int
hwg_issuance_get(struct hwg_store *s, const char *no, struct hwg_issuance *out,
                 struct hwg_error *err)
{
	char notfound[HWG_ISSUANCE_NO_MAX + 32];
	sqlite3_stmt *st;

	if (no == NULL || strlen(no) > HWG_ISSUANCE_NO_MAX)
		return hwg_error_set(err, HWG_E_NOT_FOUND, "no such issuance");
	if ((st = hwg_store_stmt(s, ISSUANCE_SELECT "WHERE issuance_no = ?", err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, no, -1, SQLITE_TRANSIENT); /* no may point into *out */
	snprintf(notfound, sizeof(notfound), "no issuance %s", no);
	return get_one(s, st, out, notfound, err);
}

int
hwg_issuance_get_request(struct hwg_store *s, const char *client_id, const char *request_id,
                         struct hwg_issuance *out, struct hwg_error *err)
{
	sqlite3_stmt *st;

	if (!hwg_client_id_valid(client_id) || !hwg_issuance_request_id_valid(request_id))
		return hwg_error_set(err, HWG_E_NOT_FOUND, "no such request id");
	if ((st = hwg_store_stmt(s, ISSUANCE_SELECT "WHERE client_id = ? AND request_id = ?",
	                         err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, client_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, request_id, -1, SQLITE_STATIC);
	return get_one(s, st, out, "no issuance under that request id", err);
}

int
hwg_issuance_each_subject(struct hwg_store *s, const char *subject, size_t limit,
                          int (*fn)(void *ctx, const struct hwg_issuance *r), void *ctx,
                          struct hwg_error *err)
{
	struct hwg_issuance r;
	sqlite3_stmt *st;
	int rc, stop = 0;

	if (!hwg_resident_code_valid(subject) || limit == 0 || limit > SUBJECT_LIMIT_MAX)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "a resident code of 11 digits and a limit of 1-%d",
		                     SUBJECT_LIMIT_MAX);
	/* not a cached statement: it stays open while fn runs */
	if (sqlite3_prepare_v2(hwg_store_db(s),
	                       ISSUANCE_SELECT "WHERE subject = ? ORDER BY reserved_ms DESC,"
	                                       " seq DESC LIMIT ?",
	                       -1, &st, NULL) != SQLITE_OK)
		return hwg_store_db_err(s, err, "issuance history");
	sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (row_to_issuance(st, &r) != 0) {
			sqlite3_finalize(st);
			return hwg_error_set(err, HWG_E_STORE,
			                     "an issuance in the store is damaged");
		}
		stop = fn(ctx, &r);
	}
	if (stop == 0)
		stop = rc == SQLITE_DONE ? 0 : hwg_store_db_err(s, err, "issuance history");
	sqlite3_finalize(st);
	return stop;
}

/* ---------------------------------------------------------------- reserving */

static int
request_check(const struct hwg_issuance_request *rq, struct hwg_error *err)
{
	if (!gateway_id_valid(rq->gateway_id))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "gateway id: 1-%d of A-Z a-z 0-9 . _ -, the first a letter or "
		                     "digit (it starts every issuance number)",
		                     HWG_ISSUANCE_GATEWAY_ID_MAX);
	if (!hwg_client_id_valid(rq->client_id) || !hwg_issuance_request_id_valid(rq->request_id) ||
	    !hwg_operator_id_valid(rq->operator_id))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "a malformed client, request or operator id");
	if (!hwg_issuance_relation_valid(rq->relation) || !hwg_issuance_kind_valid(rq->kind) ||
	    !hwg_resident_code_valid(rq->subject) || rq->doc_digest == NULL)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "an issuance needs a kind, a relation, a resident code of 11 "
		                     "digits and the document's digest");
	if (rq->original_no != NULL &&
	    (rq->reprint_reason == NULL || rq->reprint_reason[0] == '\0'))
		return hwg_error_set(err, HWG_E_INVALID, "a reprint needs a reason");
	return 0;
}

/* A second reservation under the same request id: the first, if it is the same document. */
static int
same_request(const struct hwg_issuance_request *rq, const struct hwg_issuance *first, int *existing,
             struct hwg_error *err)
{
	const char *orig = rq->original_no != NULL ? rq->original_no : "";

	if (memcmp(first->doc_digest, rq->doc_digest, sizeof(first->doc_digest)) != 0 ||
	    strcmp(first->original_no, orig) != 0)
		return hwg_error_set(err, HWG_E_REQUEST_CONFLICT,
		                     "request id \"%s\" already named issuance %s, of another "
		                     "document",
		                     rq->request_id, first->no);
	*existing = 1;
	hwg_error_clear(err);
	return 0;
}

/* A reprint's original: printed, of the same person and kind. */
static int
original_check(struct hwg_store *s, const struct hwg_issuance_request *rq, struct hwg_error *err)
{
	struct hwg_issuance o;
	int rc;

	if ((rc = hwg_issuance_get(s, rq->original_no, &o, err)) != 0)
		return rc;
	if (o.state != HWG_ISSUANCE_PRINTED)
		return hwg_error_set(err, HWG_E_WRONG_STATE,
		                     "issuance %s is %s: only a printed certificate is reprinted",
		                     o.no, hwg_issuance_state_name(o.state));
	if (strcmp(o.subject, rq->subject) != 0 || strcmp(o.kind, rq->kind) != 0)
		return hwg_error_set(
		    err, HWG_E_INVALID,
		    "issuance %s is another person's or another kind of certificate", o.no);
	return 0;
}

/* The next sequence number of gateway_id (the counter is bumped: it is spent). */
static int
next_seq(struct hwg_store *s, const char *gateway_id, int64_t *seq, struct hwg_error *err)
{
	sqlite3_stmt *st = hwg_store_stmt(
	    s,
	    "INSERT INTO issuance_numbers (gateway_id, last_seq) VALUES (?, 1)"
	    " ON CONFLICT (gateway_id) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
	    err);
	int rc;

	if (st == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, gateway_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*seq = sqlite3_column_int64(st, 0);
	if (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? 0 : hwg_store_db_err(s, err, "issuance number");
	sqlite3_reset(st);
	return rc;
}

static int
insert_reserved(struct hwg_store *s, const struct hwg_issuance_request *rq, const char *no,
                int64_t seq, const char *date, struct hwg_error *err)
{
	static const char sql[] =
	    "INSERT INTO issuances (issuance_no, gateway_id, seq, issue_date, client_id,"
	    " request_id, operator_id, relation, subject, kind, doc_digest, household, my_number,"
	    " state, original_no, reprint_reason, reserved_ms)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'reserved', ?, ?, ?)";
	char reason[HWG_ISSUANCE_TEXT_MAX + 1];
	sqlite3_stmt *st = hwg_store_stmt(s, sql, err);

	if (st == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(st, 1, no, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rq->gateway_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, seq);
	sqlite3_bind_text(st, 4, date, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, rq->client_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, rq->request_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, rq->operator_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, rq->relation, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, rq->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, rq->kind, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 11, rq->doc_digest, 32, SQLITE_STATIC);
	sqlite3_bind_int(st, 12, rq->household != 0);
	sqlite3_bind_int(st, 13, rq->my_number != 0);
	if (rq->original_no != NULL) {
		safe_text(reason, rq->reprint_reason);
		sqlite3_bind_text(st, 14, rq->original_no, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 15, reason, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 16, rq->now_ms);
	return hwg_store_step_done(s, st, "issuance reserve", err);
}

/* Allocate the number and insert the row, in a savepoint. */
static int
reserve_new(struct hwg_store *s, const struct hwg_issuance_request *rq, char *no, size_t no_len,
            struct hwg_error *err)
{
	char date[11];
	int64_t seq = 0;
	int rc;

	if ((rc = hwg_store_savepoint(s, "issuance_reserve", err)) != 0)
		return rc;
	hwg_issuance_date(rq->now_ms, date);
	if ((rc = next_seq(s, rq->gateway_id, &seq, err)) == 0) {
		snprintf(no, no_len, "%s-%.4s%.2s%.2s-%06lld", rq->gateway_id, date, date + 5,
		         date + 8, (long long)seq);
		rc = insert_reserved(s, rq, no, seq, date, err);
	}
	if (rc != 0)
		hwg_store_rollback_to(s, "issuance_reserve", NULL);
	hwg_store_release(s, "issuance_reserve", NULL);
	return rc;
}

int
hwg_issuance_reserve(struct hwg_store *s, const struct hwg_issuance_request *rq,
                     struct hwg_issuance *out, int *existing, struct hwg_error *err)
{
	char no[HWG_ISSUANCE_NO_MAX + 1];
	int dummy, rc;

	if (existing == NULL)
		existing = &dummy;
	*existing = 0;
	if ((rc = request_check(rq, err)) != 0)
		return rc;
	rc = hwg_issuance_get_request(s, rq->client_id, rq->request_id, out, err);
	if (rc == 0)
		return same_request(rq, out, existing, err);
	if (rc != HWG_E_NOT_FOUND)
		return rc;
	hwg_error_clear(err);
	if (rq->original_no != NULL && (rc = original_check(s, rq, err)) != 0)
		return rc;
	if ((rc = reserve_new(s, rq, no, sizeof(no), err)) != 0)
		return rc;
	return hwg_issuance_get(s, no, out, err);
}

/* ---------------------------------------------------------------- transitions */

/*
 * Step the UPDATE st (bound; its WHERE allows the states named in from):
 * 0 if it changed the row; otherwise why not (unknown number, or the
 * state it is in).
 */
static int
transition_done(struct hwg_store *s, sqlite3_stmt *st, const char *no, const char *to,
                const char *from, struct hwg_error *err)
{
	struct hwg_issuance r;
	int rc;

	if ((rc = hwg_store_step_done(s, st, "issuance transition", err)) != 0)
		return rc;
	if (hwg_store_changes(s) > 0)
		return 0;
	if ((rc = hwg_issuance_get(s, no, &r, err)) != 0)
		return rc;
	return hwg_error_set(err, HWG_E_WRONG_STATE,
	                     "issuance %s is %s: it becomes %s only from %s", no,
	                     hwg_issuance_state_name(r.state), to, from);
}

/* The UPDATE for a transition of no into *st, with no bound to ?1. */
static int
transition_stmt(struct hwg_store *s, const char *sql, const char *no, sqlite3_stmt **st,
                struct hwg_error *err)
{
	if (no == NULL || strlen(no) > HWG_ISSUANCE_NO_MAX)
		return hwg_error_set(err, HWG_E_NOT_FOUND, "no such issuance");
	if ((*st = hwg_store_stmt(s, sql, err)) == NULL)
		return HWG_E_STORE;
	sqlite3_bind_text(*st, 1, no, -1, SQLITE_TRANSIENT);
	return 0;
}

int
hwg_issuance_rendered(struct hwg_store *s, const char *no, const uint8_t pdf_digest[32],
                      unsigned pages, int64_t now_ms, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (pdf_digest == NULL || pages == 0)
		return hwg_error_set(err, HWG_E_INVALID,
		                     "a rendered issuance has a digest and pages");
	if ((rc = transition_stmt(s,
	                          "UPDATE issuances SET state = 'rendered', pdf_digest = ?2,"
	                          " pages_expected = ?3, rendered_ms = ?4"
	                          " WHERE issuance_no = ?1 AND state = 'reserved'",
	                          no, &st, err)) != 0)
		return rc;
	sqlite3_bind_blob(st, 2, pdf_digest, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, pages);
	sqlite3_bind_int64(st, 4, now_ms);
	return transition_done(s, st, no, "rendered", "reserved", err);
}

int
hwg_issuance_sealed(struct hwg_store *s, const char *no, const uint8_t seal[HWG_ISSUANCE_SEAL_LEN],
                    int64_t now_ms, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (seal == NULL)
		return hwg_error_set(err, HWG_E_INVALID, "a sealed issuance has a seal");
	if ((rc = transition_stmt(s,
	                          "UPDATE issuances SET state = 'sealed', pdf_seal = ?2,"
	                          " sealed_ms = ?3 WHERE issuance_no = ?1 AND state = 'rendered'",
	                          no, &st, err)) != 0)
		return rc;
	sqlite3_bind_blob(st, 2, seal, HWG_ISSUANCE_SEAL_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	return transition_done(s, st, no, "sealed", "rendered", err);
}

/* 1 if t is 1..max bytes of printable ASCII (a serial, a job name). */
static int
printable(const char *t, size_t max)
{
	size_t n = 0;

	for (; t != NULL && t[n] != '\0'; n++)
		if (n == max || (unsigned char)t[n] <= 0x20 || (unsigned char)t[n] >= 0x7f)
			return 0;
	return n > 0;
}

int
hwg_issuance_sent(struct hwg_store *s, const char *no, const char *printer, const char *job_name,
                  int64_t now_ms, struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (!printable(printer, HWG_ISSUANCE_PRINTER_MAX) ||
	    !printable(job_name, HWG_ISSUANCE_JOB_MAX))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "a sent issuance names its printer (1-%d) and its job (1-%d) "
		                     "in printable ASCII",
		                     HWG_ISSUANCE_PRINTER_MAX, HWG_ISSUANCE_JOB_MAX);
	if ((rc =
	         transition_stmt(s,
	                         "UPDATE issuances SET state = 'sent', printer = ?2, job_name = ?3,"
	                         " sent_ms = ?4 WHERE issuance_no = ?1 AND state = 'sealed'",
	                         no, &st, err)) != 0)
		return rc;
	sqlite3_bind_text(st, 2, printer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, job_name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_ms);
	return transition_done(s, st, no, "sent", "sealed", err);
}

int
hwg_issuance_printed(struct hwg_store *s, const char *no, unsigned pages, int64_t now_ms,
                     struct hwg_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (pages == 0)
		return hwg_error_set(err, HWG_E_INVALID, "a printed issuance has pages");
	if ((rc = transition_stmt(s,
	                          "UPDATE issuances SET state = 'printed', pages_confirmed = ?2,"
	                          " printed_ms = ?3 WHERE issuance_no = ?1"
	                          " AND state IN ('sent', 'unconfirmed')",
	                          no, &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 2, pages);
	sqlite3_bind_int64(st, 3, now_ms);
	return transition_done(s, st, no, "printed", "sent or unconfirmed", err);
}

/* failed or unconfirmed (sql: ?2 the code's name, ?3 the message, ?4 the time). */
static int
ended(struct hwg_store *s, const char *sql, const char *no, int code, const char *message,
      int64_t now_ms, const char *to, const char *from, struct hwg_error *err)
{
	char msg[HWG_ISSUANCE_TEXT_MAX + 1];
	sqlite3_stmt *st;
	int rc;

	if (code >= 0 || strcmp(hwg_err_code(code), "unknown") == 0)
		return hwg_error_set(err, HWG_E_INVALID, "%s needs an error code as its reason",
		                     to);
	if ((rc = transition_stmt(s, sql, no, &st, err)) != 0)
		return rc;
	safe_text(msg, message);
	sqlite3_bind_text(st, 2, hwg_err_code(code), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, msg, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_ms);
	return transition_done(s, st, no, to, from, err);
}

int
hwg_issuance_failed(struct hwg_store *s, const char *no, int code, const char *message,
                    int64_t now_ms, struct hwg_error *err)
{
	return ended(s,
	             "UPDATE issuances SET state = 'failed', failure_code = ?2, failure_msg = ?3,"
	             " failed_ms = ?4 WHERE issuance_no = ?1"
	             " AND state IN ('reserved', 'rendered', 'sealed', 'sent')",
	             no, code, message, now_ms, "failed", "reserved, rendered, sealed or sent",
	             err);
}

int
hwg_issuance_unconfirmed(struct hwg_store *s, const char *no, int code, const char *message,
                         int64_t now_ms, struct hwg_error *err)
{
	return ended(s,
	             "UPDATE issuances SET state = 'unconfirmed', failure_code = ?2,"
	             " failure_msg = ?3, unconfirmed_ms = ?4"
	             " WHERE issuance_no = ?1 AND state = 'sent'",
	             no, code, message, now_ms, "unconfirmed", "sent", err);
}

int
hwg_issuance_resolve(struct hwg_store *s, const char *no, int outcome, const char *supervisor,
                     const char *note, int64_t now_ms, struct hwg_error *err)
{
	char safe[HWG_ISSUANCE_TEXT_MAX + 1];
	sqlite3_stmt *st;
	int rc;

	if ((outcome != HWG_ISSUANCE_PRINTED && outcome != HWG_ISSUANCE_NOT_PRINTED) ||
	    !hwg_operator_id_valid(supervisor))
		return hwg_error_set(err, HWG_E_INVALID,
		                     "a resolution is printed or not_printed, by an operator");
	if ((rc = transition_stmt(s,
	                          "UPDATE issuances SET state = ?2, resolution = ?2,"
	                          " resolved_by = ?3, resolution_note = ?4, resolved_ms = ?5"
	                          " WHERE issuance_no = ?1 AND state = 'unconfirmed'",
	                          no, &st, err)) != 0)
		return rc;
	safe_text(safe, note);
	sqlite3_bind_text(st, 2, hwg_issuance_state_name(outcome), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, supervisor, -1, SQLITE_STATIC);
	if (safe[0] != '\0')
		sqlite3_bind_text(st, 4, safe, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, now_ms);
	return transition_done(s, st, no, hwg_issuance_state_name(outcome), "unconfirmed", err);
}

/* ---------------------------------------------------------------- recovery */

struct in_flight {
	char no[HWG_ISSUANCE_NO_MAX + 1];
	int state;
};

/* Every issuance reserved, rendered, sealed or sent, into a malloc'd array. */
static int
collect_in_flight(struct hwg_store *s, struct in_flight **out, size_t *n, struct hwg_error *err)
{
	struct in_flight *all = NULL, *grown;
	size_t cap = 0;
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	if ((st = hwg_store_stmt(s,
	                         "SELECT issuance_no, state FROM issuances WHERE state IN"
	                         " ('reserved', 'rendered', 'sealed', 'sent') ORDER BY seq",
	                         err)) == NULL)
		return HWG_E_STORE;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((grown = realloc(all, cap * sizeof(*all))) == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			all = grown;
		}
		if (hwg_store_column_text(st, 0, all[*n].no, sizeof(all[*n].no)) != 0) {
			rc = SQLITE_CORRUPT;
			break;
		}
		all[*n].state = hwg_issuance_state_parse((const char *)sqlite3_column_text(st, 1));
		(*n)++;
	}
	rc = rc == SQLITE_DONE
	         ? 0
	         : hwg_error_set(err, HWG_E_STORE, "issuances in flight: %s", sqlite3_errstr(rc));
	sqlite3_reset(st);
	if (rc != 0) {
		free(all);
		*n = 0;
		all = NULL;
	}
	*out = all;
	return rc;
}

static int
recover_one(struct hwg_store *s, const struct in_flight *f, int64_t now_ms,
            int (*fn)(void *ctx, const struct hwg_issuance *r, int was, struct hwg_error *err),
            void *ctx, struct hwg_issuance_recovery *out, struct hwg_error *err)
{
	struct hwg_issuance r;
	int rc;

	if (f->state == HWG_ISSUANCE_SENT) {
		rc = hwg_issuance_unconfirmed(s, f->no, HWG_E_PRINT_UNCONFIRMED,
		                              "gateway stopped after the job was sent: whether it "
		                              "printed is not known",
		                              now_ms, err);
		out->unconfirmed += rc == 0;
	} else {
		rc = hwg_issuance_failed(s, f->no, HWG_E_UNAVAILABLE,
		                         "gateway stopped before the job was sent: nothing printed",
		                         now_ms, err);
		out->failed += rc == 0;
	}
	if (rc == 0 && fn != NULL && (rc = hwg_issuance_get(s, f->no, &r, err)) == 0)
		rc = fn(ctx, &r, f->state, err);
	return rc;
}

int
hwg_issuance_recover(struct hwg_store *s, int64_t now_ms,
                     int (*fn)(void *ctx, const struct hwg_issuance *r, int was,
                               struct hwg_error *err),
                     void *ctx, struct hwg_issuance_recovery *out, struct hwg_error *err)
{
	struct hwg_issuance_recovery dummy;
	struct in_flight *all;
	size_t n;
	int rc;

	if (out == NULL)
		out = &dummy;
	memset(out, 0, sizeof(*out));
	if ((rc = collect_in_flight(s, &all, &n, err)) != 0)
		return rc;
	if ((rc = hwg_store_savepoint(s, "issuance_recover", err)) != 0) {
		free(all);
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = recover_one(s, &all[i], now_ms, fn, ctx, out, err);
	free(all);
	if (rc != 0) {
		hwg_store_rollback_to(s, "issuance_recover", NULL);
		memset(out, 0, sizeof(*out));
	}
	hwg_store_release(s, "issuance_recover", NULL);
	return rc;
}
