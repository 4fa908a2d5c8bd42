/*
 * bench_keyholder.c — what the keyholder costs: signing a response
 * through hwgw-keyholder (a request over its link, the check of what it
 * signs, the signature) against the same signature made by PKCS#11 in
 * this process, on the same token in the same run, with 1 and with 8
 * threads asking at once (the keyholder client sends what is queued
 * together).  Prints BENCH lines as bench_api.c does: per-signature time
 * and ratio to the in-process baseline.
 *   bench_keyholder [ROUNDS]   (HWG_SOURCE_DIR, HWG_BUILD_DIR)
 */
#include <openssl/sha.h>
#include <pthread.h>

#include "hwg_p11.h"
#include "hwg_time.h"
#include "khenv.h"

static int rounds = 2000;
static struct hwg_keyholder *kh;
static struct hwg_p11 *p11;
static struct hwg_p11_key *rkey;
static uint8_t tbs[512];
static size_t tbs_len;

/* The Sig_structure the gateway would sign for a small answer. */
static int
make_tbs(void)
{
	size_t len = 0;
	uint8_t *payload = kh_response(1, -1, &len);
	int rc = -1;

	if (payload != NULL && len < sizeof(tbs) - 32) {
		/* ["Signature1", h'a10126', h'', payload] */
		static const uint8_t head[] = {0x84, 0x6a, 'S', 'i',  'g',  'n',  'a',  't', 'u',
		                               'r',  'e',  '1', 0x43, 0xa1, 0x01, 0x26, 0x40};

		memcpy(tbs, head, sizeof(head));
		tbs_len = sizeof(head);
		tbs[tbs_len++] = 0x58;
		tbs[tbs_len++] = (uint8_t)len;
		memcpy(tbs + tbs_len, payload, len);
		tbs_len += len;
		rc = 0;
	}
	free(payload);
	return rc;
}

static void *
sign_via_keyholder(void *arg)
{
	struct hwg_error err = {0};
	uint8_t sig[64];
	int n = *(int *)arg;

	for (int i = 0; i < n; i++)
		if (hwg_keyholder_sign_response(kh, HWG_COSE_ES256, tbs, tbs_len, sig, &err) != 0) {
			fprintf(stderr, "keyholder: %s\n", err.message);
			exit(1);
		}
	return NULL;
}

static void *
sign_in_process(void *arg)
{
	struct hwg_error err = {0};
	uint8_t digest[32], sig[64];
	int n = *(int *)arg;

	for (int i = 0; i < n; i++) {
		SHA256(tbs, tbs_len, digest);
		if (hwg_p11_sign(p11, rkey, digest, sizeof(digest), sig, &err) != 0) {
			fprintf(stderr, "in process: %s\n", err.message);
			exit(1);
		}
	}
	return NULL;
}

/* Seconds per signature with threads signing rounds in all. */
static double
run(void *(*fn)(void *), int threads)
{
	pthread_t t[8];
	int each = rounds / threads;
	double t0 = hwg_mono_seconds();

	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, fn, &each);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return (hwg_mono_seconds() - t0) / (each * threads);
}

int
main(int argc, char **argv)
{
	struct hwg_p11_config pc;
	struct kh_ends seen = {0};
	struct hwg_error err = {0};
	int threads[] = {1, 8};

	if (argc > 1)
		rounds = atoi(argv[1]) > 0 ? atoi(argv[1]) : rounds;
	if (kh_setup() != 0 || make_tbs() != 0 || (kh = kh_start("hwgw-response", &seen)) == NULL)
		return 1;
	pc = (struct hwg_p11_config){kh_module, KH_TOKEN, kh_pin_file};
	if (hwg_p11_open(&pc, &p11, &err) != 0 ||
	    hwg_p11_key_find(p11, "hwgw-response", &rkey, &err) != 0) {
		fprintf(stderr, "in-process token: %s\n", err.message);
		return 1;
	}
	for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]); i++) {
		double base, via;

		run(sign_in_process, threads[i]); /* warm both */
		run(sign_via_keyholder, threads[i]);
		base = run(sign_in_process, threads[i]);
		via = run(sign_via_keyholder, threads[i]);
		printf("BENCH sign_in_process_t%d %.3f ms ratio=1.00\n", threads[i], 1000 * base);
		printf("BENCH sign_via_keyholder_t%d %.3f ms ratio=%.2f (the hop: %+.3f ms)\n",
		       threads[i], 1000 * via, via / base, 1000 * (via - base));
	}
	hwg_keyholder_stop(kh);
	hwg_p11_close(p11);
	kh_teardown();
	/* khenv.h brings the test harness: a benchmark reports figures, it checks nothing */
	return hwg_test_passed + hwg_test_failed + hwg_test_cur_failed;
}
