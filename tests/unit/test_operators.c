/*
 * test_operators.c — the store's operators, terminals and sessions
 * (gateway/state/hwg_operators.c): add, get and duplicate ids; pending to
 * active; revocation wiping the template and ending sessions; failure
 * counting, lockout and unlock by time; sessions opened, found by token
 * (whose hash alone is stored), refused when idle, past their limit,
 * past the operator's validity, of another client or revoked, replaced,
 * capped and logged out; the sweep ending what expired; terminals paired
 * and re-paired; a version-1 database migrated forward.
 */
#include <ftw.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hwg_operators.h"
#include "hwg_sessions.h"
#include "hwg_store.h"
#include "hwg_store_sql.h"
#include "hwg_terminals.h"
#include "hwg_test.h"

#define T0 1700000000000LL /* the tests' "now" */
#define DAY (86400LL * 1000)

static char dir[64];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static struct hwg_store *
fresh_store(void)
{
	struct hwg_store *s = NULL;
	struct hwg_error err = {0};

	snprintf(dir, sizeof(dir), "/tmp/hwgw-operators-test.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	if (hwg_store_open(dir, 1, &s, &err) != 0) {
		fprintf(stderr, "  store %s: %s\n", dir, err.message);
		exit(2);
	}
	return s;
}

static void
done_store(struct hwg_store *s)
{
	hwg_store_close(s);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static long long
query_int(struct hwg_store *s, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(hwg_store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static uint8_t tmpl_bytes[48] = {0x5e, 0xa1, 0xed};

/* Add an operator with a fake sealed template. */
static int
add_op(struct hwg_store *s, const char *id, int role, int state, int64_t valid_until)
{
	struct hwg_operator_rec o;
	struct hwg_error err = {0};

	memset(&o, 0, sizeof(o));
	snprintf(o.id, sizeof(o.id), "%s", id);
	o.role = role;
	o.state = state;
	o.valid_until_ms = valid_until;
	snprintf(o.enrolled_by_client, sizeof(o.enrolled_by_client), "admin-1");
	o.created_ms = T0;
	o.tmpl = tmpl_bytes;
	o.tmpl_len = sizeof(tmpl_bytes);
	return hwg_operator_add(s, &o, &err);
}

static void
token_of(int n, uint8_t tok[32])
{
	memset(tok, 0, 32);
	tok[0] = (uint8_t)n;
	tok[31] = 0xa5;
}

/* ---------------------------------------------------------------- operators */

static void
test_add_get_duplicate(void)
{
	struct hwg_store *s = fresh_store();
	struct hwg_operator_rec o;
	struct hwg_error err = {0};

	CHECK_EQ_INT(add_op(s, "tanaka.h", HWG_ROLE_COUNTER, HWG_OPERATOR_ACTIVE, T0 + DAY), 0);
	CHECK_EQ_INT(hwg_operator_get(s, "tanaka.h", &o, &err), 0);
	CHECK_EQ_STR(o.id, "tanaka.h");
	CHECK_EQ_INT(o.role, HWG_ROLE_COUNTER);
	CHECK_EQ_INT(o.state, HWG_OPERATOR_ACTIVE);
	CHECK_EQ_INT(o.valid_until_ms, T0 + DAY);
	CHECK_EQ_STR(o.enrolled_by_client, "admin-1");
	CHECK_EQ_STR(o.enrolled_by_operator, "");
	CHECK_EQ_INT(o.created_ms, T0);
	CHECK_EQ_INT(o.tmpl_len, sizeof(tmpl_bytes));
	CHECK(o.tmpl != NULL && memcmp(o.tmpl, tmpl_bytes, sizeof(tmpl_bytes)) == 0);
	CHECK(o.tmpl != tmpl_bytes);
	CHECK_EQ_INT(o.fail_count, 0);
	hwg_operator_rec_clear(&o);
	CHECK(o.tmpl == NULL);
	hwg_operator_rec_clear(NULL);

	CHECK_EQ_INT(add_op(s, "tanaka.h", HWG_ROLE_ADMIN, HWG_OPERATOR_ACTIVE, T0 + DAY),
	             HWG_E_EXISTS);
	CHECK_EQ_INT(hwg_operator_get(s, "nobody", &o, &err), HWG_E_NOT_FOUND);
	CHECK(strstr(err.message, "nobody") != NULL);
	/* a revoked id stays taken: the audit's operator field names one person forever */
	CHECK_EQ_INT(hwg_operator_revoke(s, "tanaka.h", NULL, &err), 0);
	CHECK_EQ_INT(add_op(s, "tanaka.h", HWG_ROLE_COUNTER, HWG_OPERATOR_ACTIVE, T0 + DAY),
	             HWG_E_EXISTS);
	done_store(s);
}

static void
test_add_refuses_bad_records(void)
{
	struct hwg_store *s = fresh_store();

	CHECK_EQ_INT(add_op(s, "", HWG_ROLE_COUNTER, HWG_OPERATOR_ACTIVE, T0), HWG_E_INVALID);
	CHECK_EQ_INT(add_op(s, "a b", HWG_ROLE_COUNTER, HWG_OPERATOR_ACTIVE, T0), HWG_E_INVALID);
	CHECK_EQ_INT(add_op(s, "x", HWG_ROLE_COUNT_, HWG_OPERATOR_ACTIVE, T0), HWG_E_INVALID);
	/* registry is a client's role only */
	CHECK_EQ_INT(add_op(s, "x", HWG_ROLE_REGISTRY, HWG_OPERATOR_ACTIVE, T0), HWG_E_INVALID);
	CHECK_EQ_INT(add_op(s, "x", HWG_ROLE_COUNTER, HWG_OPERATOR_REVOKED, T0), HWG_E_INVALID);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM operators"), 0);
	CHECK(hwg_operator_id_valid("a.b_c-9"));
	CHECK(!hwg_operator_id_valid("0123456789012345678901234567890123456789012345678901234567890"
	                             "12345"));
	CHECK(hwg_terminal_id_valid("PV-0001"));
	CHECK(!hwg_terminal_id_valid("PV 0001"));
	CHECK(!hwg_terminal_id_valid("012345678901234567890123456789012"));
	done_store(s);
}

static void
test_pending_to_active(void)
{
	struct hwg_store *s = fresh_store();
	struct hwg_operator_rec o;
	struct hwg_error err = {0};
	int64_t n = -1;

	CHECK_EQ_INT(add_op(s, "first.admin", HWG_ROLE_ADMIN, HWG_OPERATOR_PENDING, T0 + DAY), 0);
	CHECK_EQ_INT(hwg_operator_count_active(s, HWG_ROLE_ADMIN, T0, &n, &err), 0);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(hwg_operator_get(s, "first.admin", &o, &err), 0);
	CHECK_EQ_INT(hwg_operator_usable(&o, T0, &err), HWG_E_OPERATOR_EXPIRED);
	CHECK(strstr(err.message, "pending") != NULL);
	hwg_operator_rec_clear(&o);

	CHECK_EQ_INT(hwg_operator_confirm(s, "first.admin", "admin-2", &err), 0);
	CHECK_EQ_INT(hwg_operator_get(s, "first.admin", &o, &err), 0);
	CHECK_EQ_INT(o.state, HWG_OPERATOR_ACTIVE);
	CHECK_EQ_STR(o.confirmed_by, "admin-2");
	CHECK_EQ_INT(hwg_operator_usable(&o, T0, &err), 0);
	hwg_operator_rec_clear(&o);
	CHECK_EQ_INT(hwg_operator_count_active(s, HWG_ROLE_ADMIN, T0, &n, &err), 0);
	CHECK_EQ_INT(n, 1);
	/* an admin past its validity no longer counts */
	CHECK_EQ_INT(hwg_operator_count_active(s, HWG_ROLE_ADMIN, T0 + DAY, &n, &err), 0);
	CHECK_EQ_INT(n, 0);

	CHECK_EQ_INT(hwg_operator_confirm(s, "first.admin", "admin-3", &err), HWG_E_INVALID);
	CHECK(strstr(err.message, "not pending") != NULL);
	CHECK_EQ_INT(hwg_operator_confirm(s, "nobody", "admin-3", &err), HWG_E_NOT_FOUND);
	done_store(s);
}

static void
test_usable_messages(void)
{
	struct hwg_operator_rec o;
	struct hwg_error err = {0};

	memset(&o, 0, sizeof(o));
	snprintf(o.id, sizeof(o.id), "sato");
	o.state = HWG_OPERATOR_REVOKED;
	o.valid_until_ms = T0 + DAY;
	CHECK_EQ_INT(hwg_operator_usable(&o, T0, &err), HWG_E_OPERATOR_EXPIRED);
	CHECK(strstr(err.message, "revoked") != NULL);
	o.state = HWG_OPERATOR_ACTIVE;
	CHECK_EQ_INT(hwg_operator_usable(&o, T0 + DAY, &err), HWG_E_OPERATOR_EXPIRED);
	CHECK(strstr(err.message, "valid until") != NULL);
	CHECK_EQ_INT(hwg_operator_usable(&o, T0 + DAY - 1, &err), 0);
}

static void
test_revoke_wipes_and_ends_sessions(void)
{
	struct hwg_store *s = fresh_store();
	struct hwg_operator_rec o;
	struct hwg_session_rec r;
	struct hwg_error err = {0};
	uint8_t t1[32], t2[32], t3[32];
	size_t ended = 99;

	CHECK_EQ_INT(add_op(s, "suzuki", HWG_ROLE_COUNTER, HWG_OPERATOR_ACTIVE, T0 + DAY), 0);
	CHECK_EQ_INT(add_op(s, "ito", HWG_ROLE_COUNTER, HWG_OPERATOR_ACTIVE, T0 + DAY), 0);
	token_of(1, t1);
	token_of(2, t2);
	token_of(3, t3);
	CHECK_EQ_INT(
	    hwg_session_create(s, t1, 32, "suzuki", "counter-1", "PV-1", T0, DAY, NULL, &err), 0);
	CHECK_EQ_INT(
	    hwg_session_create(s, t2, 32, "suzuki", "counter-2", "PV-2", T0, DAY, NULL, &err), 0);
	CHECK_EQ_INT(hwg_session_create(s, t3, 32, "ito", "counter-1", "PV-1", T0, DAY, NULL, &err),
	             0);
	CHECK_EQ_INT(hwg_operator_revoke(s, "suzuki", &ended, &err), 0);
	CHECK_EQ_INT(ended, 2);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM operators WHERE id = 'suzuki' AND "
	                          "template IS NULL AND state = 'revoked'"),
	             1);
	CHECK_EQ_INT(hwg_operator_get(s, "suzuki", &o, &err), 0);
	CHECK(o.tmpl == NULL);
	CHECK_EQ_INT(o.tmpl_len, 0);
	hwg_operator_rec_clear(&o);
	CHECK_EQ_INT(hwg_session_lookup(s, t1, 32, "counter-1", T0, DAY, &r, &err), HWG_E_SESSION);
	CHECK(strstr(err.message, "ended when its operator was revoked") != NULL);
	/* the other operator's session is untouched */
	CHECK_EQ_INT(hwg_session_lookup(s, t3, 32, "counter-1", T0, DAY, &r, &err), 0);
	CHECK_EQ_INT(hwg_operator_revoke(s, "suzuki", NULL, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_operator_revoke(s, "nobody", NULL, &err), HWG_E_NOT_FOUND);
	/* a revoked operator cannot open a session */
	CHECK_EQ_INT(
	    hwg_session_create(s, t1, 32, "nobody", "counter-1", "PV-1", T0, DAY, NULL, &err),
	    HWG_E_NOT_FOUND);
	done_store(s);
}

static void
test_fail_count_lockout_unlock(void)
{
	struct hwg_store *s = fresh_store();
	struct hwg_operator_rec o;
	struct hwg_error err = {0};
	int64_t until = -1, lock = 900 * 1000;
	int count = -1;

	CHECK_EQ_INT(add_op(s, "kato", HWG_ROLE_COUNTER, HWG_OPERATOR_ACTIVE, T0 + DAY), 0);
	CHECK_EQ_INT(hwg_operator_fail(s, "kato", T0, 3, lock, &count, &until, &err), 0);
	CHECK_EQ_INT(count, 1);
	CHECK_EQ_INT(until, 0);
	CHECK_EQ_INT(hwg_operator_fail(s, "kato", T0 + 1, 3, lock, &count, &until, &err), 0);
	CHECK_EQ_INT(count, 2);
	CHECK_EQ_INT(until, 0);
	CHECK_EQ_INT(hwg_operator_get(s, "kato", &o, &err), 0);
	CHECK_EQ_INT(o.fail_count, 2);
	CHECK_EQ_INT(hwg_operator_usable(&o, T0 + 2, &err), 0);
	hwg_operator_rec_clear(&o);
	/* the third in a row locks */
	CHECK_EQ_INT(hwg_operator_fail(s, "kato", T0 + 2, 3, lock, &count, &until, &err), 0);
	CHECK_EQ_INT(count, 0);
	CHECK_EQ_INT(until, T0 + 2 + lock);
	CHECK_EQ_INT(hwg_operator_get(s, "kato", &o, &err), 0);
	CHECK_EQ_INT(o.locked_until_ms, T0 + 2 + lock);
	CHECK_EQ_INT(hwg_operator_usable(&o, T0 + 3, &err), HWG_E_OPERATOR_LOCKED);
	CHECK(strstr(err.message, "locked") != NULL && strstr(err.message, "900 s") != NULL);
	CHECK_EQ_INT(hwg_operator_usable(&o, T0 + 2 + lock - 1, &err), HWG_E_OPERATOR_LOCKED);
	/* unlocked by time alone */
	CHECK_EQ_INT(hwg_operator_usable(&o, T0 + 2 + lock, &err), 0);
	hwg_operator_rec_clear(&o);

	/* a success resets the count, so failures must again be in a row */
	CHECK_EQ_INT(hwg_operator_fail(s, "kato", T0 + 2 * lock, 3, lock, &count, &until, &err), 0);
	CHECK_EQ_INT(count, 1);
	CHECK_EQ_INT(hwg_operator_fail_reset(s, "kato", &err), 0);
	CHECK_EQ_INT(hwg_operator_fail(s, "kato", T0 + 2 * lock, 3, lock, &count, &until, &err), 0);
	CHECK_EQ_INT(count, 1);
	CHECK_EQ_INT(hwg_operator_get(s, "kato", &o, &err), 0);
	CHECK_EQ_INT(o.locked_until_ms, 0);
	hwg_operator_rec_clear(&o);

	CHECK_EQ_INT(hwg_operator_fail(s, "nobody", T0, 3, lock, &count, &until, &err),
	             HWG_E_NOT_FOUND);
	CHECK_EQ_INT(hwg_operator_fail(s, "kato", T0, 0, lock, &count, &until, &err),
	             HWG_E_INVALID);
	done_store(s);
}

static int
collect_ids(void *ctx, const struct hwg_operator_rec *o)
{
	char *out = ctx;

	strcat(out, o->id);
	strcat(out, o->tmpl != NULL ? "+," : "-,");
	return 0;
}

static void
test_operator_each(void)
{
	struct hwg_store *s = fresh_store();
	struct hwg_error err = {0};
	char ids[128] = "";

	CHECK_EQ_INT(add_op(s, "b", HWG_ROLE_COUNTER, HWG_OPERATOR_ACTIVE, T0 + DAY), 0);
	CHECK_EQ_INT(add_op(s, "a", HWG_ROLE_ADMIN, HWG_OPERATOR_PENDING, T0 + DAY), 0);
	CHECK_EQ_INT(add_op(s, "c", HWG_ROLE_COUNTER, HWG_OPERATOR_ACTIVE, T0 + DAY), 0);
	CHECK_EQ_INT(hwg_operator_revoke(s, "c", NULL, &err), 0);
	CHECK_EQ_INT(hwg_operator_each(s, collect_ids, ids, &err), 0);
	CHECK_EQ_STR(ids, "a+,b+,c-,");
	/* a damaged row is an error, not a default */
	CHECK_EQ_INT(sqlite3_exec(hwg_store_db(s),
	                          "UPDATE operators SET role = 'boss' WHERE id='b'", NULL, NULL,
	                          NULL),
	             SQLITE_OK);
	ids[0] = '\0';
	CHECK_EQ_INT(hwg_operator_each(s, collect_ids, ids, &err), HWG_E_STORE);
	CHECK(strstr(err.message, "\"b\"") != NULL);
	done_store(s);
}

/* ---------------------------------------------------------------- sessions */

static void
test_session_lookup_and_touch(void)
{
	struct hwg_store *s = fresh_store();
	struct hwg_session_rec r;
	struct hwg_error err = {0};
	uint8_t tok[32], hash[32], other[32];
	int64_t idle = 600 * 1000, max = 8 * 3600 * 1000LL, n = -1;
	sqlite3_stmt *st;
	int replaced = -1;

	CHECK_EQ_INT(add_op(s, "mori", HWG_ROLE_COUNTER, HWG_OPERATOR_ACTIVE, T0 + DAY), 0);
	token_of(7, tok);
	CHECK_EQ_INT(
	    hwg_session_create(s, tok, 32, "mori", "counter-1", "PV-1", T0, max, &replaced, &err),
	    0);
	CHECK_EQ_INT(replaced, 0);
	CHECK_EQ_INT(hwg_session_count(s, "mori", &n, &err), 0);
	CHECK_EQ_INT(n, 1);
	/* only the token's hash is kept */
	SHA256(tok, sizeof(tok), hash);
	CHECK(sqlite3_prepare_v2(hwg_store_db(s), "SELECT token_hash FROM operator_sessions", -1,
	                         &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32 &&
	      memcmp(sqlite3_column_blob(st, 0), hash, 32) == 0);
	sqlite3_finalize(st);

	CHECK_EQ_INT(hwg_session_lookup(s, tok, 32, "counter-1", T0 + 1000, idle, &r, &err), 0);
	CHECK_EQ_STR(r.operator_id, "mori");
	CHECK_EQ_STR(r.client_id, "counter-1");
	CHECK_EQ_STR(r.terminal, "PV-1");
	CHECK_EQ_INT(r.operator_role, HWG_ROLE_COUNTER);
	CHECK_EQ_INT(r.created_ms, T0);
	CHECK_EQ_INT(r.last_used_ms, T0);
	CHECK_EQ_INT(r.absolute_expiry_ms, T0 + max);
	CHECK_EQ_INT(r.valid_until_ms, T0 + DAY);

	/* another client holding the token gets nothing */
	CHECK_EQ_INT(hwg_session_lookup(s, tok, 32, "counter-2", T0 + 1000, idle, &r, &err),
	             HWG_E_SESSION);
	CHECK(strstr(err.message, "another client") != NULL);
	token_of(8, other);
	CHECK_EQ_INT(hwg_session_lookup(s, other, 32, "counter-1", T0, idle, &r, &err),
	             HWG_E_SESSION);
	CHECK(strstr(err.message, "unknown") != NULL);
	CHECK_EQ_INT(hwg_session_lookup(s, tok, 8, "counter-1", T0, idle, &r, &err), HWG_E_SESSION);

	/* idle: just at the limit still live, a millisecond later not */
	CHECK_EQ_INT(hwg_session_lookup(s, tok, 32, "counter-1", T0 + idle, idle, &r, &err), 0);
	CHECK_EQ_INT(hwg_session_lookup(s, tok, 32, "counter-1", T0 + idle + 1, idle, &r, &err),
	             HWG_E_SESSION);
	CHECK(strstr(err.message, "idle") != NULL);
	CHECK_EQ_STR(r.operator_id, "mori"); /* filled for the audit */
	/* a use starts the idle timeout again */
	CHECK_EQ_INT(hwg_session_touch(s, tok, 32, T0 + idle, &err), 0);
	CHECK_EQ_INT(hwg_session_lookup(s, tok, 32, "counter-1", T0 + 2 * idle, idle, &r, &err), 0);
	CHECK_EQ_INT(r.last_used_ms, T0 + idle);
	/* touch never moves last use backwards */
	CHECK_EQ_INT(hwg_session_touch(s, tok, 32, T0, &err), 0);
	CHECK_EQ_INT(hwg_session_lookup(s, tok, 32, "counter-1", T0 + idle, idle, &r, &err), 0);
	CHECK_EQ_INT(r.last_used_ms, T0 + idle);
	CHECK_EQ_INT(hwg_session_touch(s, other, 32, T0, &err), HWG_E_NOT_FOUND);
	done_store(s);
}

static void
test_session_limits(void)
{
	struct hwg_store *s = fresh_store();
	struct hwg_session_rec r;
	struct hwg_error err = {0};
	uint8_t tok[32];
	int64_t max = 3600 * 1000, idle = 10 * max;

	CHECK_EQ_INT(add_op(s, "abe", HWG_ROLE_COUNTER, HWG_OPERATOR_ACTIVE, T0 + 2 * max), 0);
	token_of(1, tok);
	CHECK_EQ_INT(hwg_session_create(s, tok, 32, "abe", "c1", "PV-1", T0, max, NULL, &err), 0);
	/* absolute limit: used a moment ago, but opened too long ago */
	CHECK_EQ_INT(hwg_session_touch(s, tok, 32, T0 + max - 1, &err), 0);
	CHECK_EQ_INT(hwg_session_lookup(s, tok, 32, "c1", T0 + max - 1, idle, &r, &err), 0);
	CHECK_EQ_INT(hwg_session_lookup(s, tok, 32, "c1", T0 + max, idle, &r, &err), HWG_E_SESSION);
	CHECK(strstr(err.message, "limit") != NULL);
	CHECK_EQ_INT(hwg_session_state(&r, T0 + max, idle), HWG_SESSION_ABSOLUTE);

	/* the operator's validity ends sessions even before their own limit */
	CHECK_EQ_INT(
	    hwg_session_create(s, tok, 32, "abe", "c1", "PV-1", T0 + 2 * max - 10, max, NULL, &err),
	    0);
	CHECK_EQ_INT(hwg_session_lookup(s, tok, 32, "c1", T0 + 2 * max - 1, idle, &r, &err), 0);
	CHECK_EQ_INT(hwg_session_lookup(s, tok, 32, "c1", T0 + 2 * max, idle, &r, &err),
	             HWG_E_SESSION);
	CHECK(strstr(err.message, "valid until") != NULL);
	CHECK_EQ_INT(hwg_session_state(&r, T0 + 2 * max, idle), HWG_SESSION_VALID_UNTIL);

	/* a pending or revoked operator's session is refused as such */
	CHECK_EQ_INT(sqlite3_exec(hwg_store_db(s), "UPDATE operators SET state = 'pending'", NULL,
	                          NULL, NULL),
	             SQLITE_OK);
	CHECK_EQ_INT(hwg_session_lookup(s, tok, 32, "c1", T0 + 2 * max - 5, idle, &r, &err),
	             HWG_E_SESSION);
	CHECK(strstr(err.message, "pending") != NULL);
	done_store(s);
}

static void
test_session_replace_cap_logout(void)
{
	struct hwg_store *s = fresh_store();
	struct hwg_session_rec r;
	struct hwg_error err = {0};
	uint8_t a[32], b[32], tok[32];
	int64_t n = -1;
	int replaced = -1;

	CHECK_EQ_INT(add_op(s, "ueda", HWG_ROLE_COUNTER, HWG_OPERATOR_ACTIVE, T0 + DAY), 0);
	token_of(1, a);
	token_of(2, b);
	CHECK_EQ_INT(hwg_session_create(s, a, 32, "ueda", "c1", "PV-1", T0, DAY, &replaced, &err),
	             0);
	CHECK_EQ_INT(hwg_session_create(s, a, 32, "ueda", "c2", "PV-2", T0, DAY, &replaced, &err),
	             HWG_E_EXISTS);
	/* verifying again on the same client and terminal replaces the session */
	CHECK_EQ_INT(hwg_session_create(s, b, 32, "ueda", "c1", "PV-1", T0, DAY, &replaced, &err),
	             0);
	CHECK_EQ_INT(replaced, 1);
	CHECK_EQ_INT(hwg_session_lookup(s, a, 32, "c1", T0, DAY, &r, &err), HWG_E_SESSION);
	CHECK_EQ_INT(hwg_session_lookup(s, b, 32, "c1", T0, DAY, &r, &err), 0);

	/* logout */
	CHECK_EQ_INT(hwg_session_end(s, b, 32, &err), 0);
	CHECK_EQ_INT(hwg_session_lookup(s, b, 32, "c1", T0, DAY, &r, &err), HWG_E_SESSION);
	CHECK_EQ_INT(hwg_session_end(s, b, 32, &err), HWG_E_NOT_FOUND);
	CHECK_EQ_INT(hwg_session_end(s, b, 3, &err), HWG_E_INVALID);

	/* at most HWG_SESSIONS_PER_OPERATOR at once */
	for (int i = 0; i < HWG_SESSIONS_PER_OPERATOR; i++) {
		char term[16];

		token_of(10 + i, tok);
		snprintf(term, sizeof(term), "PV-%d", i);
		CHECK_EQ_INT(
		    hwg_session_create(s, tok, 32, "ueda", "c1", term, T0, DAY, &replaced, &err),
		    0);
	}
	CHECK_EQ_INT(hwg_session_count(s, "ueda", &n, &err), 0);
	CHECK_EQ_INT(n, HWG_SESSIONS_PER_OPERATOR);
	token_of(200, tok);
	CHECK_EQ_INT(hwg_session_create(s, tok, 32, "ueda", "c9", "PV-X", T0, DAY, &replaced, &err),
	             HWG_E_UNAVAILABLE);
	CHECK_EQ_INT(hwg_session_create(s, tok, 32, "ueda", "c9", "PV X", T0, DAY, &replaced, &err),
	             HWG_E_INVALID);
	done_store(s);
}

struct ended {
	char what[256];
	int n;
};

static int
on_ended(void *ctx, const struct hwg_session_rec *r, int why)
{
	struct ended *e = ctx;
	size_t len = strlen(e->what);

	snprintf(e->what + len, sizeof(e->what) - len, "%s@%s:%s,", r->operator_id, r->terminal,
	         hwg_session_end_name(why));
	e->n++;
	return 0;
}

static void
test_sweep_returns_what_ended(void)
{
	struct hwg_store *s = fresh_store();
	struct hwg_session_rec r;
	struct hwg_error err = {0};
	struct ended e;
	uint8_t t[5][32];
	int64_t idle = 600 * 1000, max = 3600 * 1000, now = T0 + 2000 * 1000;
	size_t n = 99;

	memset(&e, 0, sizeof(e));
	CHECK_EQ_INT(add_op(s, "live", HWG_ROLE_COUNTER, HWG_OPERATOR_ACTIVE, T0 + DAY), 0);
	CHECK_EQ_INT(add_op(s, "leaving", HWG_ROLE_COUNTER, HWG_OPERATOR_ACTIVE, now), 0);
	CHECK_EQ_INT(add_op(s, "gone", HWG_ROLE_COUNTER, HWG_OPERATOR_ACTIVE, T0 + DAY), 0);
	for (int i = 0; i < 5; i++)
		token_of(i + 1, t[i]);
	/* live; idle; absolute; valid_until; revoked */
	CHECK_EQ_INT(hwg_session_create(s, t[0], 32, "live", "c", "A", now - 10, max, NULL, &err),
	             0);
	CHECK_EQ_INT(
	    hwg_session_create(s, t[1], 32, "live", "c", "B", now - idle - 1, max, NULL, &err), 0);
	CHECK_EQ_INT(hwg_session_create(s, t[2], 32, "live", "c", "C", now - max, max, NULL, &err),
	             0);
	CHECK_EQ_INT(hwg_session_touch(s, t[2], 32, now - 1, &err), 0);
	CHECK_EQ_INT(
	    hwg_session_create(s, t[3], 32, "leaving", "c", "D", now - 10, max, NULL, &err), 0);
	CHECK_EQ_INT(hwg_session_create(s, t[4], 32, "gone", "c", "E", now - 10, max, NULL, &err),
	             0);
	CHECK_EQ_INT(sqlite3_exec(hwg_store_db(s),
	                          "UPDATE operators SET state = 'revoked', template = NULL "
	                          "WHERE id = 'gone'",
	                          NULL, NULL, NULL),
	             SQLITE_OK);

	CHECK_EQ_INT(hwg_session_sweep(s, now, idle, 100, on_ended, &e, &n, &err), 0);
	CHECK_EQ_INT(n, 4);
	CHECK_EQ_INT(e.n, 4);
	CHECK(strstr(e.what, "live@B:idle,") != NULL);
	CHECK(strstr(e.what, "live@C:absolute,") != NULL);
	CHECK(strstr(e.what, "leaving@D:valid_until,") != NULL);
	CHECK(strstr(e.what, "gone@E:operator_revoked,") != NULL);
	CHECK(strstr(e.what, "@A:") == NULL);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM operator_sessions"), 1);
	CHECK_EQ_INT(hwg_session_lookup(s, t[0], 32, "c", now, idle, &r, &err), 0);

	/* nothing left to end; and max bounds one sweep */
	memset(&e, 0, sizeof(e));
	CHECK_EQ_INT(hwg_session_sweep(s, now, idle, 100, on_ended, &e, &n, &err), 0);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(hwg_session_create(s, t[1], 32, "live", "c", "B", now, max, NULL, &err), 0);
	CHECK_EQ_INT(hwg_session_sweep(s, now + max, idle, 1, on_ended, &e, &n, &err), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(hwg_session_sweep(s, now + max, idle, 1, on_ended, &e, &n, &err), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(hwg_session_sweep(s, now + max, idle, 1, on_ended, &e, &n, &err), 0);
	CHECK_EQ_INT(n, 0);
	done_store(s);
}

/* ---------------------------------------------------------------- terminals */

static int
count_terminals(void *ctx, const struct hwg_terminal_rec *t)
{
	(void)t;
	(*(int *)ctx)++;
	return 0;
}

static void
test_terminal_pair_and_repair(void)
{
	struct hwg_store *s = fresh_store();
	struct hwg_terminal_rec t, got;
	struct hwg_error err = {0};
	int replaced = -1, n = 0;

	memset(&t, 0, sizeof(t));
	snprintf(t.serial, sizeof(t.serial), "PV-0001");
	memset(t.pubkey, 0x11, sizeof(t.pubkey));
	snprintf(t.paired_by, sizeof(t.paired_by), "admin-1");
	t.paired_ms = T0;
	CHECK_EQ_INT(hwg_terminal_get(s, "PV-0001", &got, &err), HWG_E_NOT_FOUND);
	CHECK(strstr(err.message, "not paired") != NULL);
	CHECK_EQ_INT(hwg_terminal_pair(s, &t, &replaced, &err), 0);
	CHECK_EQ_INT(replaced, 0);
	CHECK_EQ_INT(hwg_terminal_get(s, "PV-0001", &got, &err), 0);
	CHECK(memcmp(got.pubkey, t.pubkey, sizeof(t.pubkey)) == 0);
	CHECK_EQ_STR(got.paired_by, "admin-1");
	CHECK_EQ_INT(got.paired_ms, T0);

	memset(t.pubkey, 0x22, sizeof(t.pubkey));
	snprintf(t.paired_by, sizeof(t.paired_by), "admin-2");
	t.paired_ms = T0 + 5;
	CHECK_EQ_INT(hwg_terminal_pair(s, &t, &replaced, &err), 0);
	CHECK_EQ_INT(replaced, 1);
	CHECK_EQ_INT(hwg_terminal_get(s, "PV-0001", &got, &err), 0);
	CHECK_EQ_INT(got.pubkey[0], 0x22);
	CHECK_EQ_STR(got.paired_by, "admin-2");
	CHECK_EQ_INT(hwg_terminal_each(s, count_terminals, &n, &err), 0);
	CHECK_EQ_INT(n, 1);

	snprintf(t.serial, sizeof(t.serial), "bad serial");
	CHECK_EQ_INT(hwg_terminal_pair(s, &t, &replaced, &err), HWG_E_INVALID);
	/* a key of the wrong size cannot even be stored */
	CHECK(sqlite3_exec(hwg_store_db(s),
	                   "INSERT INTO terminals VALUES ('PV-2', x'00', 'admin-1', 0)", NULL, NULL,
	                   NULL) != SQLITE_OK);
	done_store(s);
}

/* ---------------------------------------------------------------- migration */

static void
test_migrates_version_1(void)
{
	struct hwg_store *s = fresh_store();
	struct hwg_error err = {0};

	/* make it look like a database written before issue 4 */
	CHECK_EQ_INT(sqlite3_exec(hwg_store_db(s),
	                          "DROP TABLE issuances; DROP TABLE issuance_numbers;"
	                          "DROP TABLE ended_sessions; DROP TABLE operator_sessions;"
	                          "DROP TABLE operators; DROP TABLE terminals;"
	                          "DROP INDEX audit_req; ALTER TABLE audit DROP COLUMN req;"
	                          "PRAGMA user_version = 1;",
	                          NULL, NULL, NULL),
	             SQLITE_OK);
	hwg_store_close(s);
	s = NULL;
	CHECK_EQ_INT(hwg_store_open(dir, 1, &s, &err), 0);
	if (s == NULL)
		return;
	CHECK_EQ_INT(query_int(s, "PRAGMA user_version"), 5);
	CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
	                          "name IN ('terminals', 'operators', 'operator_sessions',"
	                          " 'ended_sessions')"),
	             4);
	CHECK_EQ_INT(add_op(s, "after", HWG_ROLE_COUNTER, HWG_OPERATOR_ACTIVE, T0 + DAY), 0);
	done_store(s);
}

int
main(void)
{
	HWG_RUN(test_add_get_duplicate);
	HWG_RUN(test_add_refuses_bad_records);
	HWG_RUN(test_pending_to_active);
	HWG_RUN(test_usable_messages);
	HWG_RUN(test_revoke_wipes_and_ends_sessions);
	HWG_RUN(test_fail_count_lockout_unlock);
	HWG_RUN(test_operator_each);
	HWG_RUN(test_session_lookup_and_touch);
	HWG_RUN(test_session_limits);
	HWG_RUN(test_session_replace_cap_logout);
	HWG_RUN(test_sweep_returns_what_ended);
	HWG_RUN(test_terminal_pair_and_repair);
	HWG_RUN(test_migrates_version_1);
	return HWG_TEST_END();
}
