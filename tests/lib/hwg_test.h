/*
 * hwg_test.h — the few macros our unit tests need, and nothing more.
 *
 * A test file defines test functions (static void fn(void)), lists them
 * in main() with HWG_RUN(fn), and returns HWG_TEST_END().  Each CHECK that
 * fails prints where and why and marks the current test failed; a REQUIRE
 * that fails does the same and also returns from the test function, for
 * what the rest of the test cannot go on without (a pointer it uses).  The
 * run ends with the line "N passed, N failed" that CI reads.
 */
#ifndef HWG_TEST_H
#define HWG_TEST_H

#include <stdio.h>
#include <string.h>

static int hwg_test_passed, hwg_test_failed, hwg_test_cur_failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);          \
			hwg_test_cur_failed = 1;                                                   \
		}                                                                                  \
	} while (0)

/* CHECK, and on failure return from the current function (void: a test, or its helper). */
#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "  FAIL %s:%d: %s (test stopped)\n", __FILE__, __LINE__,   \
			        #cond);                                                            \
			hwg_test_cur_failed = 1;                                                   \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b) {                                                                    \
			fprintf(stderr, "  FAIL %s:%d: %s == %lld, expected %s == %lld\n",         \
			        __FILE__, __LINE__, #a, _a, #b, _b);                               \
			hwg_test_cur_failed = 1;                                                   \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (_a == NULL || _b == NULL || strcmp(_a, _b) != 0) {                             \
			fprintf(stderr, "  FAIL %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, \
			        __LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)");             \
			hwg_test_cur_failed = 1;                                                   \
		}                                                                                  \
	} while (0)

#define HWG_RUN(fn)                                                                                \
	do {                                                                                       \
		hwg_test_cur_failed = 0;                                                           \
		fn();                                                                              \
		if (hwg_test_cur_failed) {                                                         \
			hwg_test_failed++;                                                         \
			fprintf(stderr, "not ok - %s\n", #fn);                                     \
		} else {                                                                           \
			hwg_test_passed++;                                                         \
			fprintf(stderr, "ok - %s\n", #fn);                                         \
		}                                                                                  \
	} while (0)

#define HWG_TEST_END()                                                                             \
	(printf("%d passed, %d failed\n", hwg_test_passed, hwg_test_failed),                       \
	 hwg_test_failed ? 1 : 0)

#endif
