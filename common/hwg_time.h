/*
 * hwg_time.h — the two clocks hwgw uses: wall time in milliseconds for
 * what is recorded and compared with clients (request time, audit), and a
 * monotonic clock for deadlines and latency, which never jumps.
 */
#ifndef HWG_TIME_H
#define HWG_TIME_H

#include <stdint.h>

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t hwg_now_ms(void);
/* Milliseconds on CLOCK_MONOTONIC. */
int64_t hwg_mono_ms(void);
/* Seconds on CLOCK_MONOTONIC, with sub-millisecond resolution. */
double hwg_mono_seconds(void);
/*
 * 1 if s is exactly a calendar date written YYYY-MM-DD (Gregorian, years
 * 1000 to 9999, the month's days, 29 February in leap years), else 0:
 * the dates a certificate carries and shows.
 */
int hwg_date_valid(const char *s);

#endif
