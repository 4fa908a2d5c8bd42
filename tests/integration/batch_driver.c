/*
 * batch_driver.c — concurrent signed gw.info requests on the Unix socket,
 * so that the gateway's group commit puts several in one batch; for
 * test_batch.sh, which judges what batching could break.
 *
 *   batch_driver load CLIENTS PER_CLIENT
 *       CLIENTS threads (clients batch0..), PER_CLIENT requests each, one
 *       line per request: "<outcome> <request hash, hex>", the outcome
 *       "ok", the gateway's error code, or "noanswer" (no authentic
 *       answer came back: the gateway was killed meanwhile).
 *   batch_driver load-http CLIENTS PER_CLIENT
 *       the same over HTTP (GW_URL).
 *   batch_driver same-nonce PAIRS
 *       PAIRS pairs of requests (pair i from client batch<i>), the two of
 *       a pair with one nonce, all released at once; one line per pair:
 *       "pair <i> <outcome> <outcome>".
 *
 * Environment: GW (the test directory: keys/, hsm/, hwgw.sock), GW_ID.
 * Exit 0 when every request was sent and reported, 2 on a setup error.
 */
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwgw.h"

#define MAX_THREADS 128
#define OUTCOME_MAX 48

static const char *gw_dir, *gw_id, *gw_url; /* gw_url: NULL, the Unix socket */
static char sock_path[512];
static EVP_PKEY *gw_pub;
static pthread_barrier_t start_line;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

struct job {
	int client;            /* batch<client> */
	int requests;          /* load: how many */
	const uint8_t *nonce;  /* same-nonce: the pair's; NULL: random */
	char outcome[OUTCOME_MAX];
};

static _Noreturn void
die(const char *what, const struct hwg_error *err)
{
	fprintf(stderr, "batch_driver: %s: %s\n", what, err != NULL ? err->message : "");
	exit(2);
}

static struct hwgw_ctx *
client_ctx(int i)
{
	char path[600], id[32];
	struct hwg_error err = {0};
	struct hwgw_ctx *c = NULL;
	EVP_PKEY *k = NULL;

	snprintf(id, sizeof(id), "batch%d", i);
	snprintf(path, sizeof(path), "%s/keys/%s.key", gw_dir, id);
	if (hwgw_key_load_private(path, &k, &err) != 0 ||
	    hwgw_ctx_new(id, gw_id, k, gw_pub, &c, &err) != 0)
		die(id, &err);
	EVP_PKEY_free(k);
	return c;
}

static void
hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* One request: its outcome into outcome, its hash (hex) into hash_hex. */
static void
one_request(struct hwgw_ctx *c, const uint8_t *nonce, int wait_at_start,
            char outcome[OUTCOME_MAX], char hash_hex[2 * SHA256_DIGEST_LENGTH + 1])
{
	struct hwgw_request_opts opts = {.nonce = nonce, .nonce_len = nonce != NULL ? 32 : 0};
	struct hwg_error err = {0};
	struct hwgw_response r;
	uint8_t *req = NULL, *resp = NULL, digest[SHA256_DIGEST_LENGTH];
	size_t len = 0, resp_len = 0;

	if (hwgw_request_build(c, "gw.info", NULL, &opts, &req, &len, &err) != 0)
		die("build", &err);
	SHA256(req, len, digest);
	hex(digest, sizeof(digest), hash_hex);
	if (wait_at_start)
		pthread_barrier_wait(&start_line);
	memset(&r, 0, sizeof(r));
	if ((gw_url != NULL
	         ? hwgw_send_http(gw_url, "gw.info", req, len, &resp, &resp_len, NULL, &err)
	         : hwgw_send_unix(sock_path, req, len, &resp, &resp_len, &err)) != 0 ||
	    hwgw_response_verify(c, req, len, resp, resp_len, &r, &err) != 0)
		snprintf(outcome, OUTCOME_MAX, "noanswer");
	else
		snprintf(outcome, OUTCOME_MAX, "%s", r.result != NULL ? "ok" : r.error_code);
	hwgw_response_clear(&r);
	free(req);
	free(resp);
}

static void *
load_main(void *arg)
{
	struct job *j = arg;
	struct hwgw_ctx *c = client_ctx(j->client);
	char outcome[OUTCOME_MAX], hash[2 * SHA256_DIGEST_LENGTH + 1];

	pthread_barrier_wait(&start_line);
	for (int i = 0; i < j->requests; i++) {
		one_request(c, NULL, 0, outcome, hash);
		pthread_mutex_lock(&out_lock);
		printf("%s %s\n", outcome, hash);
		fflush(stdout);
		pthread_mutex_unlock(&out_lock);
	}
	hwgw_ctx_free(c);
	return NULL;
}

static void *
nonce_main(void *arg)
{
	struct job *j = arg;
	struct hwgw_ctx *c = client_ctx(j->client);
	char hash[2 * SHA256_DIGEST_LENGTH + 1];

	one_request(c, j->nonce, 1, j->outcome, hash);
	hwgw_ctx_free(c);
	return NULL;
}

static int
count_arg(const char *s, int max)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || n < 1 || n > max) {
		fprintf(stderr, "batch_driver: %s: a number from 1 to %d\n", s, max);
		exit(2);
	}
	return (int)n;
}

static void
run_threads(struct job *jobs, int n, void *(*fn)(void *))
{
	pthread_t th[MAX_THREADS];

	pthread_barrier_init(&start_line, NULL, (unsigned)n);
	for (int i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, fn, &jobs[i]) != 0)
			die("pthread_create", NULL);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start_line);
}

int
main(int argc, char **argv)
{
	static struct job jobs[MAX_THREADS];
	static uint8_t nonces[MAX_THREADS / 2][32];
	struct hwg_error err = {0};
	char path[600];
	int n;

	gw_dir = getenv("GW");
	gw_id = getenv("GW_ID");
	if (gw_dir == NULL || gw_id == NULL || argc < 3) {
		fprintf(stderr, "usage: batch_driver load|load-http CLIENTS PER_CLIENT | "
		                "same-nonce PAIRS\n(GW, GW_ID and for HTTP GW_URL in the environment)\n");
		return 2;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/hwgw.sock", gw_dir);
	snprintf(path, sizeof(path), "%s/hsm/gateway-response.pub.pem", gw_dir);
	if (hwgw_key_load_public(path, &gw_pub, &err) != 0)
		die(path, &err);
	if (strcmp(argv[1], "load-http") == 0 && (gw_url = getenv("GW_URL")) == NULL) {
		fprintf(stderr, "batch_driver: load-http needs GW_URL\n");
		return 2;
	}
	if ((strcmp(argv[1], "load") == 0 || strcmp(argv[1], "load-http") == 0) && argc == 4) {
		n = count_arg(argv[2], MAX_THREADS);
		for (int i = 0; i < n; i++)
			jobs[i] = (struct job){.client = i, .requests = count_arg(argv[3], 100000)};
		run_threads(jobs, n, load_main);
	} else if (strcmp(argv[1], "same-nonce") == 0 && argc == 3) {
		n = count_arg(argv[2], MAX_THREADS / 2);
		for (int i = 0; i < n; i++) {
			if (RAND_bytes(nonces[i], sizeof(nonces[i])) != 1)
				die("RAND_bytes", NULL);
			jobs[2 * i] = (struct job){.client = i, .nonce = nonces[i]};
			jobs[2 * i + 1] = (struct job){.client = i, .nonce = nonces[i]};
		}
		run_threads(jobs, 2 * n, nonce_main);
		for (int i = 0; i < n; i++)
			printf("pair %d %s %s\n", i, jobs[2 * i].outcome, jobs[2 * i + 1].outcome);
	} else {
		fprintf(stderr, "batch_driver: unknown mode %s\n", argv[1]);
		return 2;
	}
	EVP_PKEY_free(gw_pub);
	return 0;
}
