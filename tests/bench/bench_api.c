/*
 * bench_api.c — signed gw.info round trips against a running hwgwd, over
 * each transport, with N concurrent clients; and, in the same run and
 * with the same client code, the same load against a bare libmicrohttpd
 * handler that returns a constant.  Every figure is printed as
 *     BENCH <name> <value> <unit> ratio=<x>
 * where ratio compares with the bare baseline (throughput: gateway /
 * baseline; latency: gateway / baseline), so a noisy machine moves both.
 * Then, from the gateway's /metrics before and after each run, where a
 * request's time went at 1 and at 16 clients:
 *     BENCH stage_<transport>_c<N>_<stage> <ms a request> ms ratio=<share>
 * the ratio being that stage's share of the request's time in the gateway.
 *
 * Environment (set by scripts/bench): GW, GW_URL, GW_ID; clients
 * bench0..bench<N-1> registered with keys in $GW/keys.
 */
#include <curl/curl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwg_buf.h"
#include "hwg_time.h"
#include "hwgw.h"

#define MAX_CLIENTS 64

static const char *gw_dir, *gw_url, *gw_id;
static char sock_path[512];
static EVP_PKEY *gw_pub;

enum target { GW_UNIX, GW_HTTP, BARE_HTTP };

struct worker {
	enum target target;
	int index;
	int requests;
	const char *url;
	double *lat; /* seconds, one per request */
	int failures;
};

static struct hwgw_ctx *
client_ctx(int i)
{
	char path[600], id[32];
	EVP_PKEY *k = NULL;
	struct hwgw_ctx *c = NULL;
	struct hwg_error err = {0};

	snprintf(id, sizeof(id), "bench%d", i);
	snprintf(path, sizeof(path), "%s/keys/%s.key", gw_dir, id);
	if (hwgw_key_load_private(path, &k, &err) != 0 ||
	    hwgw_ctx_new(id, gw_id, k, gw_pub, &c, &err) != 0) {
		fprintf(stderr, "bench: %s\n", err.message);
		exit(2);
	}
	EVP_PKEY_free(k);
	return c;
}

/* One signed round trip; the bare target only checks that bytes came back. */
static int
round_trip(struct worker *w, struct hwgw_ctx *c)
{
	struct hwg_error err = {0};
	struct hwgw_response r;
	uint8_t *req = NULL, *resp = NULL;
	size_t len = 0, resp_len = 0;
	int rc;

	if (hwgw_request_build(c, "gw.info", NULL, NULL, &req, &len, &err) != 0)
		return -1;
	if (w->target == GW_UNIX)
		rc = hwgw_send_unix(sock_path, req, len, &resp, &resp_len, &err);
	else
		rc = hwgw_send_http(w->url, "gw.info", req, len, &resp, &resp_len, NULL, &err);
	if (rc == 0 && w->target != BARE_HTTP) {
		memset(&r, 0, sizeof(r));
		rc = hwgw_response_verify(c, req, len, resp, resp_len, &r, &err);
		if (rc == 0 && r.result == NULL)
			rc = -1;
		hwgw_response_clear(&r);
	}
	free(req);
	free(resp);
	return rc;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct hwgw_ctx *c = client_ctx(w->index);

	for (int i = 0; i < w->requests; i++) {
		double t0 = hwg_mono_seconds();

		if (round_trip(w, c) != 0)
			w->failures++;
		w->lat[i] = hwg_mono_seconds() - t0;
	}
	hwgw_ctx_free(c);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct result {
	double rps, p50, p99;
	int failures;
};

static struct result
run(enum target t, const char *url, int clients, int per_client)
{
	struct worker w[MAX_CLIENTS];
	pthread_t th[MAX_CLIENTS];
	double *all = calloc((size_t)clients * (size_t)per_client, sizeof(double));
	struct result res = {0};
	double t0, elapsed;
	size_t n = 0;

	for (int i = 0; i < clients; i++) {
		w[i] = (struct worker){
		    t, i, per_client, url, calloc((size_t)per_client, sizeof(double)), 0};
	}
	t0 = hwg_mono_seconds();
	for (int i = 0; i < clients; i++)
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	for (int i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	elapsed = hwg_mono_seconds() - t0;
	for (int i = 0; i < clients; i++) {
		memcpy(all + n, w[i].lat, (size_t)per_client * sizeof(double));
		n += (size_t)per_client;
		res.failures += w[i].failures;
		free(w[i].lat);
	}
	qsort(all, n, sizeof(double), cmp_double);
	res.rps = (double)n / elapsed;
	res.p50 = all[n / 2];
	res.p99 = all[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
	free(all);
	return res;
}

/* ---------------------------------------------------------------- stages */

static const char *const stage_names[] = {"transport", "verify",  "hop",  "reverify",
                                          "execute",   "commit", "sign", "reply"};
#define N_STAGES (sizeof(stage_names) / sizeof(stage_names[0]))

/* The gateway's stage counters for one transport: seconds by stage, and requests. */
struct stages {
	double seconds[N_STAGES];
	double requests;
};

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct hwg_buf *b = arg;

	return hwg_buf_put(b, data, size * n) == 0 ? size * n : 0;
}

/* GET /metrics and read transport's stage counters; -1 when they are not there. */
static int
scrape(const char *transport, struct stages *out)
{
	struct hwg_buf *b = hwg_buf_new(1 << 20);
	char url[600], key[128], *p;
	CURL *c = curl_easy_init();
	int rc = -1;

	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "%s/metrics", gw_url);
	if (b == NULL || c == NULL)
		goto done;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	if (curl_easy_perform(c) != CURLE_OK || hwg_buf_put(b, "", 1) != 0)
		goto done;
	p = (char *)hwg_buf_ptr(b);
	for (size_t i = 0; i < N_STAGES; i++) {
		const char *at;

		snprintf(key, sizeof(key), "hwgw_stage_seconds_total{transport=\"%s\",stage=\"%s\"} ",
		         transport, stage_names[i]);
		if ((at = strstr(p, key)) == NULL)
			goto done;
		out->seconds[i] = strtod(at + strlen(key), NULL);
	}
	snprintf(key, sizeof(key), "hwgw_stage_requests_total{transport=\"%s\"} ", transport);
	if ((p = strstr(p, key)) == NULL)
		goto done;
	out->requests = strtod(p + strlen(key), NULL);
	rc = 0;
done:
	curl_easy_cleanup(c);
	hwg_buf_free(b);
	return rc;
}

/* Each stage's time a request and share, between two scrapes. */
static void
report_stages(const char *transport, int clients, const struct stages *before,
              const struct stages *after)
{
	double n = after->requests - before->requests, total = 0, d[N_STAGES];

	if (n <= 0)
		return;
	for (size_t i = 0; i < N_STAGES; i++)
		total += d[i] = after->seconds[i] - before->seconds[i];
	for (size_t i = 0; i < N_STAGES; i++)
		printf("BENCH stage_%s_c%d_%s %.3f ms ratio=%.3f\n", transport, clients,
		       stage_names[i], d[i] / n * 1e3, total > 0 ? d[i] / total : 0);
}

/* ---------------------------------------------------------------- baseline */

static enum MHD_Result
bare_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
             const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	static const char constant[] = "ok";
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload_data;
	if (*con_cls == NULL) {
		*con_cls = conn;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(2, (void *)constant, MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static void
report(const char *name, const struct result *g, const struct result *b)
{
	printf("BENCH %s_rps %.0f req/s ratio=%.3f\n", name, g->rps, g->rps / b->rps);
	printf("BENCH %s_p50 %.3f ms ratio=%.2f\n", name, g->p50 * 1e3, g->p50 / b->p50);
	printf("BENCH %s_p99 %.3f ms ratio=%.2f\n", name, g->p99 * 1e3, g->p99 / b->p99);
	if (g->failures)
		printf("BENCH %s_failures %d requests ratio=0\n", name, g->failures);
}

int
main(int argc, char **argv)
{
	int per_client = argc > 1 ? atoi(argv[1]) : 300;
	int levels[] = {1, 4, 16};
	struct MHD_Daemon *bare;
	struct hwg_error err = {0};
	char pubpath[600], bare_url[64];
	int failures = 0;

	gw_dir = getenv("GW");
	gw_url = getenv("GW_URL");
	gw_id = getenv("GW_ID");
	if (gw_dir == NULL || gw_url == NULL || gw_id == NULL || per_client < 10) {
		fprintf(stderr,
		        "usage: GW=... GW_URL=... GW_ID=... bench_api [requests-per-client]\n");
		return 2;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/hwgw.sock", gw_dir);
	snprintf(pubpath, sizeof(pubpath), "%s/hsm/gateway-response.pub.pem", gw_dir);
	if (hwgw_key_load_public(pubpath, &gw_pub, &err) != 0) {
		fprintf(stderr, "bench: %s\n", err.message);
		return 2;
	}
	bare = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
	                        NULL, NULL, bare_handler, NULL, MHD_OPTION_CONNECTION_LIMIT, 64,
	                        MHD_OPTION_END);
	if (bare == NULL)
		return 2;
	snprintf(bare_url, sizeof(bare_url), "http://127.0.0.1:%u",
	         MHD_get_daemon_info(bare, MHD_DAEMON_INFO_BIND_PORT)->port);
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		int n = levels[i], timed = n == 1 || n == 16;
		struct stages s0, s1, s2, s3;
		char name[64];
		struct result b = run(BARE_HTTP, bare_url, n, per_client);
		int scraped = scrape("unix", &s0) == 0;
		struct result u = run(GW_UNIX, NULL, n, per_client);
		scraped = scraped && scrape("unix", &s1) == 0 && scrape("http", &s2) == 0;
		struct result h = run(GW_HTTP, gw_url, n, per_client);
		scraped = scraped && scrape("http", &s3) == 0;

		printf("BENCH bare_mhd_c%d_rps %.0f req/s ratio=1.000\n", n, b.rps);
		snprintf(name, sizeof(name), "gw_info_unix_c%d", n);
		report(name, &u, &b);
		snprintf(name, sizeof(name), "gw_info_http_c%d", n);
		report(name, &h, &b);
		if (timed && scraped) {
			report_stages("unix", n, &s0, &s1);
			report_stages("http", n, &s2, &s3);
		} else if (timed) {
			printf("BENCH stages_c%d_unavailable 0 none ratio=0\n", n);
		}
		failures += u.failures + h.failures + b.failures;
		fflush(stdout);
	}
	MHD_stop_daemon(bare);
	EVP_PKEY_free(gw_pub);
	return failures ? 1 : 0;
}
