/*
 * test_keyholder_fault.c — the keyholder's faults against a real SoftHSM2
 * token: killed (SIGKILL), the next call is hsm_unavailable, and after
 * hwg_keyholder_reap it is back with its end reported; the SIGUSR2 probe
 * tries a call its filter forbids and it dies of SIGSYS; restarts back
 * off (at once, then 1 s) while it keeps dying; the token's directory
 * moved away and back under the filter (SoftHSM2 is finalised and
 * initialised again inside the keyholder); a restarted keyholder that
 * finds another key under the response key's label is killed; one whose
 * token refuses the PIN is not started again.
 */
#include <signal.h>
#include <sys/wait.h>

#include "hwg_kh_proto.h"
#include "khenv.h"

static void
reap_until(struct hwg_keyholder *k, long old_pid, int64_t ms)
{
	const struct timespec tick = {0, 50 * 1000 * 1000};

	for (int64_t waited = 0; waited < ms; waited += 50) {
		hwg_keyholder_reap(k);
		if (hwg_keyholder_pid(k) > 0 && hwg_keyholder_pid(k) != old_pid)
			return;
		nanosleep(&tick, NULL);
	}
}

static void
test_killed_and_restarted(void)
{
	struct kh_ends seen = {0};
	struct hwg_keyholder *k = kh_start("hwgw-response", &seen);
	struct hwg_error err = {0};
	struct hwg_keyholder_info in;
	long pid, pid2;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	pid = hwg_keyholder_pid(k);
	CHECK_EQ_INT(kh_sign_verify(k, &err), 0);
	hwg_keyholder_reap(k); /* running: nothing to do */
	CHECK_EQ_INT(seen.count, 0);
	CHECK_EQ_INT(hwg_keyholder_pid(k), pid);
	CHECK_EQ_INT(kill((pid_t)pid, SIGKILL), 0);
	CHECK(kh_wait_ended(pid));
	/* every call is hsm_unavailable, at once, until it is back */
	CHECK_EQ_INT(kh_sign_verify(k, &err), HWG_E_HSM);
	CHECK(strstr(err.message, "keyholder") != NULL);
	CHECK_EQ_INT(hwg_keyholder_info(k, &in, &err), HWG_E_HSM);
	CHECK(strstr(err.message, "not running") != NULL);
	hwg_keyholder_reap(k);
	CHECK_EQ_INT(seen.count, 1);
	CHECK_EQ_INT(seen.pid, pid);
	CHECK(seen.status != -1 && WIFSIGNALED(seen.status) && WTERMSIG(seen.status) == SIGKILL);
	CHECK_EQ_INT(seen.restart_in_ms, 0); /* the first quick end: at once */
	CHECK(strstr(seen.detail, "signal=9") != NULL);
	CHECK(strstr(seen.detail, "restart_in_ms=0") != NULL);
	pid2 = hwg_keyholder_pid(k);
	CHECK(pid2 > 0 && pid2 != pid);
	CHECK_EQ_INT(kh_sign_verify(k, &err), 0);
	hwg_keyholder_stop(k);
}

/* SIGUSR2: a call the filter forbids; SIGSYS.  Then the back-off: the next start after 1 s. */
static void
test_probe_and_backoff(void)
{
	struct kh_ends seen = {0};
	struct hwg_keyholder *k = kh_start("hwgw-response", &seen);
	struct hwg_error err = {0};
	long pid, pid2;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	pid = hwg_keyholder_pid(k);
	CHECK_EQ_INT(kill((pid_t)pid, SIGUSR2), 0);
	CHECK(kh_wait_ended(pid));
	hwg_keyholder_reap(k);
	CHECK_EQ_INT(seen.count, 1);
	CHECK(seen.status != -1 && WIFSIGNALED(seen.status) && WTERMSIG(seen.status) == SIGSYS);
	CHECK_EQ_INT(seen.restart_in_ms, 0);
	pid2 = hwg_keyholder_pid(k);
	CHECK(pid2 > 0);
	CHECK_EQ_INT(kh_sign_verify(k, &err), 0);
	/* dead again within 10 s of its start: the next one after 1 s */
	CHECK_EQ_INT(kill((pid_t)pid2, SIGKILL), 0);
	CHECK(kh_wait_ended(pid2));
	hwg_keyholder_reap(k);
	CHECK_EQ_INT(seen.count, 2);
	CHECK_EQ_INT(seen.restart_in_ms, 1000);
	CHECK_EQ_INT(hwg_keyholder_pid(k), 0);
	CHECK_EQ_INT(kh_sign_verify(k, &err), HWG_E_HSM);
	hwg_keyholder_reap(k); /* too early */
	CHECK_EQ_INT(hwg_keyholder_pid(k), 0);
	reap_until(k, pid2, 3000);
	CHECK(hwg_keyholder_pid(k) > 0);
	CHECK_EQ_INT(kh_sign_verify(k, &err), 0);
	CHECK_EQ_INT(seen.count, 2);
	hwg_keyholder_stop(k);
}

static int
move(const char *from, const char *to)
{
	char a[400], b[400];

	snprintf(a, sizeof(a), "%s/%s", kh_dir, from);
	snprintf(b, sizeof(b), "%s/%s", kh_dir, to);
	return rename(a, b);
}

/*
 * The token's directory moved away: signing, sealing and INFO fail
 * (hsm_unavailable, present 0) and the keyholder stays up; moved back:
 * the next request is served, its session re-opened, all under its filter.
 */
static void
test_token_away_and_back(void)
{
	struct kh_ends seen = {0};
	struct hwg_keyholder *k = kh_start("hwgw-response", &seen);
	struct hwg_keyholder_info in;
	struct hwg_error err = {0};
	int8_t tmpl[HWG_MATCH_DIM] = {1, 2, 3}, back[HWG_MATCH_DIM];
	uint8_t *blob = NULL, *b2 = NULL, hash[32] = {0}, sig[64];
	size_t len = 0, l2 = 0;
	long pid;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	pid = hwg_keyholder_pid(k);
	CHECK_EQ_INT(hwg_keyholder_seal_template(k, "op.alice", tmpl, &blob, &len, &err), 0);
	CHECK_EQ_INT(move("tokens", "tokens.away"), 0);
	CHECK_EQ_INT(kh_sign_verify(k, &err), HWG_E_HSM);
	CHECK_EQ_INT(hwg_keyholder_sign_checkpoint(k, 3, hash, 9, sig, &err), HWG_E_HSM);
	CHECK_EQ_INT(hwg_keyholder_seal_template(k, "op.bob", tmpl, &b2, &l2, &err), HWG_E_HSM);
	CHECK_EQ_INT(hwg_keyholder_info(k, &in, &err), 0);
	CHECK_EQ_INT(in.present, 0);
	CHECK_EQ_INT(kh_sign_verify(k, &err), HWG_E_HSM);
	CHECK_EQ_INT(hwg_keyholder_pid(k), pid);
	CHECK_EQ_INT(move("tokens.away", "tokens"), 0);
	if (kh_sign_verify(k, &err) != 0)
		fprintf(stderr, "DEBUG %s\n", err.message);
	CHECK_EQ_INT(hwg_keyholder_info(k, &in, &err), 0);
	CHECK_EQ_INT(in.present, 1);
	CHECK_EQ_INT(in.logged_in, 1);
	CHECK(in.session_reopens >= 1);
	CHECK_EQ_INT(hwg_keyholder_sign_checkpoint(k, 3, hash, 9, sig, &err), 0);
	CHECK_EQ_INT(hwg_keyholder_open_template(k, "op.alice", blob, len, back, &err), 0);
	CHECK(memcmp(back, tmpl, sizeof(tmpl)) == 0);
	CHECK_EQ_INT(hwg_keyholder_seal_template(k, "op.bob", tmpl, &b2, &l2, &err), 0);
	CHECK_EQ_INT(hwg_keyholder_pid(k), pid);
	CHECK_EQ_INT(seen.count, 0); /* it never died */
	free(blob);
	free(b2);
	hwg_keyholder_stop(k);
}

/* The key under the response label replaced between two keyholders: the second is killed. */
static void
test_restart_with_other_keys(void)
{
	struct kh_ends seen = {0};
	struct hwg_keyholder *k;
	struct hwg_error err = {0};
	long pid;

	CHECK_EQ_INT(kh_p11tool("--keypairgen --key-type EC:prime256v1 --label hwgw-test-swap "
	                        "--id 11 --usage-sign"),
	             0);
	k = kh_start("hwgw-test-swap", &seen);
	CHECK(k != NULL);
	if (k == NULL)
		return;
	pid = hwg_keyholder_pid(k);
	CHECK_EQ_INT(kh_p11tool("--delete-object --type privkey --label hwgw-test-swap"), 0);
	CHECK_EQ_INT(kh_p11tool("--delete-object --type pubkey --label hwgw-test-swap"), 0);
	CHECK_EQ_INT(kh_p11tool("--keypairgen --key-type EC:prime256v1 --label hwgw-test-swap "
	                        "--id 12 --usage-sign"),
	             0);
	CHECK_EQ_INT(kill((pid_t)pid, SIGKILL), 0);
	CHECK(kh_wait_ended(pid));
	hwg_keyholder_reap(k); /* reports the kill, starts one with the new key, refuses it */
	CHECK_EQ_INT(seen.count, 1);
	CHECK(kh_wait_ended(hwg_keyholder_pid(k)));
	CHECK_EQ_INT(kh_sign_verify(k, &err), HWG_E_HSM);
	hwg_keyholder_reap(k);
	CHECK_EQ_INT(seen.count, 2);
	CHECK(WIFSIGNALED(seen.status) && WTERMSIG(seen.status) == SIGKILL);
	CHECK(strstr(seen.why, "not those found at start") != NULL);
	CHECK(strstr(seen.detail, "why=") != NULL);
	CHECK_EQ_INT(seen.restart_in_ms, 1000);
	hwg_keyholder_stop(k);
}

static void
write_pin(const char *pin)
{
	FILE *f = fopen(kh_pin_file, "w"); /* the file stays 0600 */

	CHECK(f != NULL);
	if (f != NULL) {
		fprintf(f, "%s\n", pin);
		fclose(f);
	}
}

/* A restarted keyholder whose token refuses the PIN is not started again. */
static void
test_pin_refused_not_restarted(void)
{
	const struct timespec wait = {1, 300 * 1000 * 1000};
	struct kh_ends seen = {0};
	struct hwg_keyholder *k = kh_start("hwgw-response", &seen);
	struct hwg_error err = {0};
	long pid, pid2;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	pid = hwg_keyholder_pid(k);
	write_pin("0000-not-the-pin");
	CHECK_EQ_INT(kill((pid_t)pid, SIGKILL), 0);
	CHECK(kh_wait_ended(pid));
	hwg_keyholder_reap(k); /* reports the kill; the next one is refused the PIN */
	CHECK_EQ_INT(seen.count, 1);
	pid2 = hwg_keyholder_pid(k);
	CHECK(pid2 > 0 && pid2 != pid);
	CHECK(kh_wait_ended(pid2));
	hwg_keyholder_reap(k);
	CHECK_EQ_INT(seen.count, 2);
	CHECK(seen.status != -1 && WIFEXITED(seen.status) &&
	      WEXITSTATUS(seen.status) == HWG_KH_EXIT_PIN_REFUSED);
	CHECK_EQ_INT(seen.restart_in_ms, -1);
	CHECK(strstr(seen.why, "CKR_PIN_INCORRECT") != NULL);
	nanosleep(&wait, NULL);
	hwg_keyholder_reap(k);
	CHECK_EQ_INT(hwg_keyholder_pid(k), 0);
	CHECK_EQ_INT(seen.count, 2);
	CHECK_EQ_INT(kh_sign_verify(k, &err), HWG_E_HSM);
	CHECK(strstr(err.message, "refused the PIN") != NULL);
	write_pin(kh_pin);
	hwg_keyholder_stop(k);
}

int
main(void)
{
	int rc = kh_setup();

	if (rc != 0)
		return rc;
	HWG_RUN(test_killed_and_restarted);
	HWG_RUN(test_probe_and_backoff);
	HWG_RUN(test_token_away_and_back);
	HWG_RUN(test_restart_with_other_keys);
	HWG_RUN(test_pin_refused_not_restarted);
	kh_teardown();
	return HWG_TEST_END();
}
