/*
 * hwg_backoff.c — see hwg_backoff.h.
 */
#include "hwg_backoff.h"

void
hwg_backoff_started(struct hwg_backoff *b, int64_t now_ms)
{
	b->started_ms = now_ms;
}

int64_t
hwg_backoff_ended(struct hwg_backoff *b, int64_t now_ms)
{
	int64_t delay = 0;

	if (now_ms - b->started_ms >= HWG_BACKOFF_STABLE_MS)
		b->backoff_ms = 0;
	else if (b->backoff_ms == 0)
		b->backoff_ms = HWG_BACKOFF_FIRST_MS; /* this restart at once, the next after 1 s */
	else {
		delay = b->backoff_ms;
		b->backoff_ms = delay * 2 < HWG_BACKOFF_MAX_MS ? delay * 2 : HWG_BACKOFF_MAX_MS;
	}
	return delay;
}
