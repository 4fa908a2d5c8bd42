/*
 * test_backoff.c — the restart rule the net process and the keyholder
 * share (common/hwg_backoff.h): at once, then 1 s, 2 s ... 30 s while the
 * process keeps ending within 10 s of its start; reset after 10 s alive.
 */
#include "hwg_backoff.h"
#include "hwg_test.h"

static void
test_quick_ends_back_off(void)
{
	static const int64_t want[] = {0, 1000, 2000, 4000, 8000, 16000, 30000, 30000};
	struct hwg_backoff b = {0};
	int64_t now = 5000;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		hwg_backoff_started(&b, now);
		now += 200; /* dies at once */
		int64_t d = hwg_backoff_ended(&b, now);

		CHECK_EQ_INT(d, want[i]);
		now += d;
	}
}

static void
test_stable_run_resets(void)
{
	struct hwg_backoff b = {0};

	hwg_backoff_started(&b, 0);
	CHECK_EQ_INT(hwg_backoff_ended(&b, 100), 0);
	hwg_backoff_started(&b, 100);
	CHECK_EQ_INT(hwg_backoff_ended(&b, 200), 1000);
	hwg_backoff_started(&b, 1200);
	CHECK_EQ_INT(hwg_backoff_ended(&b, 1200 + 9999), 2000);
	/* ran 10 s: the next end restarts at once, and the one after that too */
	hwg_backoff_started(&b, 20000);
	CHECK_EQ_INT(hwg_backoff_ended(&b, 20000 + HWG_BACKOFF_STABLE_MS), 0);
	hwg_backoff_started(&b, 40000);
	CHECK_EQ_INT(hwg_backoff_ended(&b, 40001), 0);
	hwg_backoff_started(&b, 40001);
	CHECK_EQ_INT(hwg_backoff_ended(&b, 40002), 1000);
}

int
main(void)
{
	HWG_RUN(test_quick_ends_back_off);
	HWG_RUN(test_stable_run_resets);
	return HWG_TEST_END();
}
