/*
 * test_audit.c — the audit log at module level: chained appends, signed
 * checkpoints, and the tampering the CLI test cannot reach: forged and
 * foreign checkpoint signatures, a rolled-back append, a store that
 * cannot be written, queries by subject, operator and time.
 */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwg_audit.h"
#include "hwg_cose.h"
#include "hwg_store.h"
#include "hwg_test.h"

static EVP_PKEY *audit_key, *other_key;

static int
sign_with(void *ctx, const uint8_t digest[32], uint8_t sig[64], struct hwg_error *err)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(ctx, NULL);
	uint8_t der[80];
	size_t len = sizeof(der);
	int ok = c != NULL && EVP_PKEY_sign_init(c) == 1 &&
		 EVP_PKEY_sign(c, der, &len, digest, 32) == 1 &&
		 hwg_ecdsa_der_to_raw(der, len, sig) == 0;

	EVP_PKEY_CTX_free(c);
	return ok ? 0 : hwg_error_set(err, HWG_E_INTERNAL, "sign");
}

static struct hwg_store *
fresh_store(char *dir)
{
	struct hwg_store *s = NULL;
	struct hwg_error err = {0};

	strcpy(dir, "/tmp/hwgw-audit-test.XXXXXX");
	if (mkdtemp(dir) == NULL || hwg_store_open(dir, 1, &s, &err) != 0)
		fprintf(stderr, "store: %s\n", err.message);
	return s;
}

static void
append_n(struct hwg_store *s, int n, int64_t t0)
{
	for (int i = 0; i < n; i++) {
		char subject[32], op[16];
		struct hwg_audit_event ev = {t0 + i, "counter01", 1000, "unix", op,
					     i % 2 ? "op-7" : "", subject, "ok", ""};

		snprintf(subject, sizeof(subject), "resident-%d", i % 5);
		snprintf(op, sizeof(op), "op%d", i);
		hwg_audit_append(s, &ev, NULL, NULL);
	}
}

static void
test_chain_and_checkpoint_verify(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_signer signer = {sign_with, audit_key};
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};

	append_n(s, 50, 1000);
	CHECK_EQ_INT(hwg_audit_uncheckpointed(s), 50);
	CHECK_EQ_INT(hwg_audit_checkpoint(s, &signer, 2000, &err), 0);
	CHECK_EQ_INT(hwg_audit_uncheckpointed(s), 0);
	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), 0);
	CHECK_EQ_INT(vr.records, 50);
	CHECK_EQ_INT(vr.checkpoints, 1);
	/* the same checkpoint checked with another key: refused */
	CHECK_EQ_INT(hwg_audit_verify(s, other_key, &vr, &err), HWG_E_TAMPERED);
	CHECK_EQ_INT(vr.first_bad_seq, 50);
	hwg_store_close(s);
}

static void
test_forged_checkpoint_detected(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_signer signer = {sign_with, audit_key}, foreign = {sign_with, other_key};
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};

	append_n(s, 10, 1000);
	CHECK_EQ_INT(hwg_audit_checkpoint(s, &signer, 2000, &err), 0);
	sqlite3_exec(hwg_store_db(s),
		     "UPDATE audit_checkpoint SET signature = "
		     "substr(signature, 1, 10) || x'00' || substr(signature, 12)",
		     NULL, NULL, NULL);
	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), HWG_E_TAMPERED);
	CHECK_EQ_INT(vr.first_bad_seq, 10);
	/* a checkpoint signed by a key that is not the audit key */
	sqlite3_exec(hwg_store_db(s), "DELETE FROM audit_checkpoint", NULL, NULL, NULL);
	append_n(s, 1, 3000);
	CHECK_EQ_INT(hwg_audit_checkpoint(s, &foreign, 4000, &err), 0);
	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), HWG_E_TAMPERED);
	CHECK(strstr(vr.reason, "not signed by the audit key") != NULL);
	hwg_store_close(s);
}

static void
test_edit_with_recomputed_hash_detected(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};

	append_n(s, 30, 1000);
	/* a forger who rewrites record 20 and its hash still breaks record 21's link */
	sqlite3_exec(hwg_store_db(s), "UPDATE audit SET subject='someone-else', hash=zeroblob(32) "
				      "WHERE seq=20",
		     NULL, NULL, NULL);
	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), HWG_E_TAMPERED);
	CHECK_EQ_INT(vr.first_bad_seq, 20);
	hwg_store_close(s);
}

static void
test_rolled_back_append_leaves_nothing(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_event ev = {1, "c", -1, "unix", "op", "", "", "ok", ""};
	struct hwg_audit_verify_result vr;
	struct hwg_error err = {0};
	int64_t seq = 0;

	append_n(s, 3, 1000);
	CHECK_EQ_INT(hwg_store_begin(s, &err), 0);
	CHECK_EQ_INT(hwg_audit_append(s, &ev, &seq, &err), 0);
	CHECK_EQ_INT(seq, 4);
	hwg_store_rollback(s);
	CHECK_EQ_INT(hwg_audit_append(s, &ev, &seq, &err), 0);
	CHECK_EQ_INT(seq, 4); /* the rolled-back record left no gap */
	CHECK_EQ_INT(hwg_audit_verify(s, audit_key, &vr, &err), 0);
	CHECK_EQ_INT(vr.records, 4);
	hwg_store_close(s);
}

static int
count(void *ctx, const struct hwg_audit_record *r)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

static void
test_queries(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_filter f = {0};
	struct hwg_error err = {0};
	int n;

	append_n(s, 50, 1000); /* times 1000..1049, subjects resident-0..4, op-7 on odd */
	f.subject = "resident-3";
	n = 0;
	CHECK_EQ_INT(hwg_audit_query(s, &f, count, &n, &err), 0);
	CHECK_EQ_INT(n, 10);
	f.operator_id = "op-7"; /* resident-3 appears at i = 3, 13, ...: odd ones are 3,13,23.. */
	n = 0;
	hwg_audit_query(s, &f, count, &n, &err);
	CHECK_EQ_INT(n, 5);
	memset(&f, 0, sizeof(f));
	f.from_ms = 1010;
	f.to_ms = 1019;
	n = 0;
	hwg_audit_query(s, &f, count, &n, &err);
	CHECK_EQ_INT(n, 10);
	f.limit = 3;
	n = 0;
	hwg_audit_query(s, &f, count, &n, &err);
	CHECK_EQ_INT(n, 3);
	hwg_store_close(s);
}

static void
test_unwritable_store_fails(void)
{
	char dir[64];
	struct hwg_store *s = fresh_store(dir);
	struct hwg_audit_event ev = {1, "c", -1, "unix", "op", "", "", "ok", ""};
	struct hwg_error err = {0};
	int64_t seq = 0;

	append_n(s, 1, 1000);
	/* file modes do not stop root (CI): make SQLite itself refuse writes */
	sqlite3_exec(hwg_store_db(s), "PRAGMA query_only = 1", NULL, NULL, NULL);
	CHECK(hwg_audit_append(s, &ev, &seq, &err) != 0);
	CHECK_EQ_INT(err.code, HWG_E_STORE);
	CHECK_EQ_INT(seq, 0);
	sqlite3_exec(hwg_store_db(s), "PRAGMA query_only = 0", NULL, NULL, NULL);
	CHECK_EQ_INT(hwg_audit_append(s, &ev, &seq, &err), 0);
	CHECK_EQ_INT(seq, 2);
	hwg_store_close(s);
}

static void
test_private_state_dir_required(void)
{
	char dir[] = "/tmp/hwgw-audit-mode.XXXXXX";
	struct hwg_store *s = NULL;
	struct hwg_error err = {0};

	CHECK(mkdtemp(dir) != NULL);
	chmod(dir, 0755);
	CHECK_EQ_INT(hwg_store_open(dir, 1, &s, &err), HWG_E_CONFIG);
	CHECK(strstr(err.message, dir) != NULL && strstr(err.message, "0755") != NULL);
	chmod(dir, 0700);
	CHECK_EQ_INT(hwg_store_open(dir, 1, &s, &err), 0);
	hwg_store_close(s);
}

int
main(void)
{
	audit_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	HWG_RUN(test_chain_and_checkpoint_verify);
	HWG_RUN(test_forged_checkpoint_detected);
	HWG_RUN(test_edit_with_recomputed_hash_detected);
	HWG_RUN(test_rolled_back_append_leaves_nothing);
	HWG_RUN(test_queries);
	HWG_RUN(test_unwritable_store_fails);
	HWG_RUN(test_private_state_dir_required);
	EVP_PKEY_free(audit_key);
	EVP_PKEY_free(other_key);
	return HWG_TEST_END();
}
