/*
 * hwg_metrics.h — request counters and latency, as Prometheus text.
 *
 * Labels come only from fixed sets (known operation names, error code
 * names), never from client bytes, so a hostile client cannot grow the
 * metric set.  Thread-safe.
 */
#ifndef HWG_METRICS_H
#define HWG_METRICS_H

#include <stddef.h>

struct hwg_metrics;

struct hwg_metrics *hwg_metrics_new(void);
void hwg_metrics_free(struct hwg_metrics *m);
/* op: a known operation name or NULL ("unknown"); code: HWG_OK or HWG_E_*; m NULL: nothing. */
void hwg_metrics_record(struct hwg_metrics *m, const char *op, int code, double seconds);
/*
 * What the transports refuse without reading a request, so without an
 * audit record: a connection over a limit, closed at once; a connection
 * closed past its head or request deadline.
 */
enum hwg_metrics_conn {
	HWG_METRICS_HTTP_OVER_MAX,     /* over [http] max_connections */
	HWG_METRICS_HTTP_OVER_PEER,    /* over [http] max_connections_per_peer */
	HWG_METRICS_UNIX_OVER_MAX,     /* over max_connections */
	HWG_METRICS_UNIX_OVER_UID,     /* over [unix] max_connections_per_uid */
	HWG_METRICS_HTTP_HEAD_TIMEOUT, /* head not in within header_timeout */
	HWG_METRICS_HTTP_BODY_TIMEOUT, /* body not in within request_timeout */
	HWG_METRICS_UNIX_HEAD_TIMEOUT,
	HWG_METRICS_UNIX_BODY_TIMEOUT,
	HWG_METRICS_CONN_N_
};
void hwg_metrics_conn(struct hwg_metrics *m, enum hwg_metrics_conn what);

/*
 * Where a request's time went, stage by stage, so that the bottleneck is
 * seen without a profiler (make bench prints each stage's share):
 */
enum hwg_stage {
	HWG_STAGE_TRANSPORT, /* read by the net process: its first byte (HTTP: its head) to its last */
	HWG_STAGE_VERIFY,    /* hwg_verify in the net process */
	HWG_STAGE_HOP,       /* to the privileged process and back, less what it did */
	HWG_STAGE_REVERIFY,  /* hwg_reverify in the privileged process */
	HWG_STAGE_EXECUTE,   /* state checks, the operation, its audit record */
	HWG_STAGE_COMMIT,    /* waiting for its batch's commit (the fsync) */
	HWG_STAGE_SIGN,      /* the response, signed in the keyholder */
	HWG_STAGE_REPLY,     /* the response written back (HTTP: handed to libmicrohttpd) */
	HWG_STAGE_N_
};
/*
 * Add seconds to a stage of transport ("unix" or "http"; others are not
 * counted).  HWG_STAGE_TRANSPORT also counts one request.
 */
void hwg_metrics_stage(struct hwg_metrics *m, const char *transport, enum hwg_stage stage,
                       double seconds);

/* Render the text exposition format; *out malloc'd.  0 or HWG_E_NOMEM. */
int hwg_metrics_render(struct hwg_metrics *m, char **out, size_t *len);

#endif
