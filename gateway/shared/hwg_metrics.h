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
/* Render the text exposition format; *out malloc'd.  0 or HWG_E_NOMEM. */
int hwg_metrics_render(struct hwg_metrics *m, char **out, size_t *len);

#endif
