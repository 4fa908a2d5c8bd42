/*
 * hwg_metrics.c — see hwg_metrics.h.  Operations are counted per index in
 * the operation table, results per error code, so the arrays are fixed.
 */
#include "hwg_metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_err.h"
#include "hwg_optable.h"

#define N_CODES (-HWG_E_MIN_)
#define N_OPS_MAX 64

static const double latency_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define N_BUCKETS (sizeof(latency_buckets) / sizeof(latency_buckets[0]))

/* hwg_metrics_conn's counters: which family, and its two labels */
static const struct {
	const char *family, *transport, *label, *value;
} conn_names[HWG_METRICS_CONN_N_] = {
    [HWG_METRICS_HTTP_OVER_MAX] = {"hwgw_connections_refused_total", "http", "reason",
                                   "max_connections"},
    [HWG_METRICS_HTTP_OVER_PEER] = {"hwgw_connections_refused_total", "http", "reason", "per_peer"},
    [HWG_METRICS_UNIX_OVER_MAX] = {"hwgw_connections_refused_total", "unix", "reason",
                                   "max_connections"},
    [HWG_METRICS_UNIX_OVER_UID] = {"hwgw_connections_refused_total", "unix", "reason", "per_uid"},
    [HWG_METRICS_HTTP_HEAD_TIMEOUT] = {"hwgw_request_timeouts_total", "http", "phase", "head"},
    [HWG_METRICS_HTTP_BODY_TIMEOUT] = {"hwgw_request_timeouts_total", "http", "phase", "body"},
    [HWG_METRICS_UNIX_HEAD_TIMEOUT] = {"hwgw_request_timeouts_total", "unix", "phase", "head"},
    [HWG_METRICS_UNIX_BODY_TIMEOUT] = {"hwgw_request_timeouts_total", "unix", "phase", "body"},
};

static const char *const stage_names[HWG_STAGE_N_] = {
    [HWG_STAGE_TRANSPORT] = "transport", [HWG_STAGE_VERIFY] = "verify",
    [HWG_STAGE_HOP] = "hop",             [HWG_STAGE_REVERIFY] = "reverify",
    [HWG_STAGE_EXECUTE] = "execute",     [HWG_STAGE_COMMIT] = "commit",
    [HWG_STAGE_SIGN] = "sign",           [HWG_STAGE_REPLY] = "reply",
};
static const char *const stage_transports[] = {"unix", "http"};
#define N_STAGE_TRANSPORTS 2

struct hwg_metrics {
	pthread_mutex_t lock;
	double stage_sum[N_STAGE_TRANSPORTS][HWG_STAGE_N_];
	unsigned long long stage_requests[N_STAGE_TRANSPORTS];
	unsigned long long conn[HWG_METRICS_CONN_N_];
	unsigned long long requests[N_OPS_MAX + 1][N_CODES]; /* [op index or unknown][code] */
	unsigned long long buckets[N_BUCKETS];
	unsigned long long count;
	double sum;
};

struct hwg_metrics *
hwg_metrics_new(void)
{
	struct hwg_metrics *m = calloc(1, sizeof(*m));

	if (m != NULL)
		pthread_mutex_init(&m->lock, NULL);
	return m;
}

void
hwg_metrics_free(struct hwg_metrics *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void
hwg_metrics_record(struct hwg_metrics *m, const char *op, int code, double seconds)
{
	int idx = op != NULL ? hwg_op_index(op) : -1;
	int ci = -code;

	if (m == NULL)
		return;
	if (idx < 0 || idx >= N_OPS_MAX)
		idx = N_OPS_MAX;
	if (ci < 0 || ci >= N_CODES)
		ci = -HWG_E_INTERNAL;
	pthread_mutex_lock(&m->lock);
	m->requests[idx][ci]++;
	for (size_t b = 0; b < N_BUCKETS; b++)
		if (seconds <= latency_buckets[b])
			m->buckets[b]++;
	m->count++;
	m->sum += seconds;
	pthread_mutex_unlock(&m->lock);
}

void
hwg_metrics_conn(struct hwg_metrics *m, enum hwg_metrics_conn what)
{
	if (m == NULL || what < 0 || what >= HWG_METRICS_CONN_N_)
		return;
	pthread_mutex_lock(&m->lock);
	m->conn[what]++;
	pthread_mutex_unlock(&m->lock);
}

void
hwg_metrics_stage(struct hwg_metrics *m, const char *transport, enum hwg_stage stage,
                  double seconds)
{
	int t = -1;

	if (m == NULL || transport == NULL || stage < 0 || stage >= HWG_STAGE_N_ || seconds < 0)
		return;
	for (int i = 0; i < N_STAGE_TRANSPORTS; i++)
		if (strcmp(transport, stage_transports[i]) == 0)
			t = i;
	if (t < 0)
		return;
	pthread_mutex_lock(&m->lock);
	m->stage_sum[t][stage] += seconds;
	if (stage == HWG_STAGE_TRANSPORT)
		m->stage_requests[t]++;
	pthread_mutex_unlock(&m->lock);
}

struct out {
	char *p;
	size_t len, cap;
	int failed;
};

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = 1;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		char *np = realloc(o->p, o->cap * 2 + (size_t)n);
		if (np == NULL) {
			o->failed = 1;
			return;
		}
		o->p = np;
		o->cap = o->cap * 2 + (size_t)n;
	}
}

/* With the lock: requests by operation and result, and refusals by code. */
static void
render_requests(struct hwg_metrics *m, struct out *o)
{
	out_printf(o, "# HELP hwgw_requests_total Requests by operation and result.\n"
	              "# TYPE hwgw_requests_total counter\n");
	for (int i = 0; i <= N_OPS_MAX; i++)
		for (int c = 0; c < N_CODES; c++)
			if (m->requests[i][c] != 0)
				out_printf(o, "hwgw_requests_total{op=\"%s\",result=\"%s\"} %llu\n",
				           i < N_OPS_MAX ? hwg_op_name(i) : "unknown",
				           hwg_err_code(-c), m->requests[i][c]);
	out_printf(o, "# HELP hwgw_refusals_total Refused requests by error code.\n"
	              "# TYPE hwgw_refusals_total counter\n");
	for (int c = 1; c < N_CODES; c++) {
		unsigned long long n = 0;
		for (int i = 0; i <= N_OPS_MAX; i++)
			n += m->requests[i][c];
		if (n != 0)
			out_printf(o, "hwgw_refusals_total{code=\"%s\"} %llu\n", hwg_err_code(-c),
			           n);
	}
}

/* With the lock: the latency histogram. */
static void
render_latency(struct hwg_metrics *m, struct out *o)
{
	out_printf(o, "# HELP hwgw_request_duration_seconds Time from receipt to signed reply.\n"
	              "# TYPE hwgw_request_duration_seconds histogram\n");
	for (size_t b = 0; b < N_BUCKETS; b++)
		out_printf(o, "hwgw_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
		           latency_buckets[b], m->buckets[b]);
	out_printf(o,
	           "hwgw_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	           "hwgw_request_duration_seconds_sum %.6f\n"
	           "hwgw_request_duration_seconds_count %llu\n",
	           m->count, m->sum, m->count);
}

/* With the lock: the time by stage. */
static void
render_stages(struct hwg_metrics *m, struct out *o)
{
	out_printf(o, "# HELP hwgw_stage_seconds_total Time requests spent in each stage.\n"
	              "# TYPE hwgw_stage_seconds_total counter\n");
	for (int t = 0; t < N_STAGE_TRANSPORTS; t++)
		for (int s = 0; s < HWG_STAGE_N_; s++)
			out_printf(o, "hwgw_stage_seconds_total{transport=\"%s\",stage=\"%s\"} %.6f\n",
			           stage_transports[t], stage_names[s], m->stage_sum[t][s]);
	out_printf(o, "# HELP hwgw_stage_requests_total Requests whose stages were timed.\n"
	              "# TYPE hwgw_stage_requests_total counter\n");
	for (int t = 0; t < N_STAGE_TRANSPORTS; t++)
		out_printf(o, "hwgw_stage_requests_total{transport=\"%s\"} %llu\n",
		           stage_transports[t], m->stage_requests[t]);
}

/* With the lock: the connections the front door closed, not audited. */
static void
render_connections(struct hwg_metrics *m, struct out *o)
{
	out_printf(o, "# HELP hwgw_connections_refused_total Connections closed at once: over "
	              "max_connections or one peer's share (not audited).\n"
	              "# TYPE hwgw_connections_refused_total counter\n");
	for (int i = 0; i < HWG_METRICS_CONN_N_; i++) {
		if (i == HWG_METRICS_HTTP_HEAD_TIMEOUT)
			out_printf(o,
			           "# HELP hwgw_request_timeouts_total Connections closed when a "
			           "request's head or body was not in by its deadline (not "
			           "audited).\n"
			           "# TYPE hwgw_request_timeouts_total counter\n");
		out_printf(o, "%s{transport=\"%s\",%s=\"%s\"} %llu\n", conn_names[i].family,
		           conn_names[i].transport, conn_names[i].label, conn_names[i].value,
		           m->conn[i]);
	}
}

int
hwg_metrics_render(struct hwg_metrics *m, char **outp, size_t *len)
{
	struct out o = {.cap = 4096};

	if ((o.p = malloc(o.cap)) == NULL)
		return HWG_E_NOMEM;
	pthread_mutex_lock(&m->lock);
	render_requests(m, &o);
	render_latency(m, &o);
	render_stages(m, &o);
	render_connections(m, &o);
	pthread_mutex_unlock(&m->lock);
	if (o.failed) {
		free(o.p);
		return HWG_E_NOMEM;
	}
	*outp = o.p;
	*len = o.len;
	return 0;
}
