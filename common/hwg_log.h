/*
 * hwg_log.h — structured, one-line-per-event logging to stderr.
 *
 * Lines look like `hwgwd[123]: level=info event=request op=gw.info ...`
 * so that journald and grep both read them.  Only the daemon and the CLI
 * log; library code (crypto/, drivers/, client/) returns errors instead.
 * Never pass a secret (PIN, key, My Number) to these functions.
 */
#ifndef HWG_LOG_H
#define HWG_LOG_H

#include <stdint.h>

enum hwg_log_level { HWG_LOG_DEBUG = 0, HWG_LOG_INFO, HWG_LOG_WARN, HWG_LOG_ERR };

void hwg_log_init(const char *progname, enum hwg_log_level min_level);
/* Parse "debug", "info", "warn", "error"; -1 if unknown. */
int hwg_log_level_parse(const char *s);
/*
 * Log one event.  fmt formats the key=value pairs that follow event=.
 * The line is written as valid UTF-8 with control characters escaped
 * (\xNN, hwg_text.h), so one event stays one line; a value quoted in
 * fmt that came from a client is escaped first (hwg_text_escape with
 * HWG_TEXT_QUOTES) so that its quotes cannot end the value early.
 */
void hwg_log(enum hwg_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * At most one line a second for an event a client can cause at will (a
 * connection over a limit, a deadline passed): one struct per kind,
 * zeroed, shared by every thread that may log it.
 */
struct hwg_log_limit {
	int64_t last_ms; /* monotonic time of the last line, 0 for none yet */
	unsigned long skipped;
};
/*
 * 1 when a line of this kind may be written now, *skipped then set to how
 * many were left out since the last one; 0 (counted) otherwise.
 */
int hwg_log_limit_pass(struct hwg_log_limit *l, unsigned long *skipped);

#endif
