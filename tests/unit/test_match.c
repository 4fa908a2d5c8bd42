/*
 * test_match.c — the matcher (gateway/palm/hwg_match.c) and the synthetic
 * palms it is measured on (hw-sim/sim_palm.c): scores, enrolment fusion,
 * the gallery's bookkeeping, and the pruned identification giving exactly
 * the exhaustive answer.
 *
 * Not asserted here: that a removed template's bytes are wiped — the
 * public API cannot see freed gallery memory; hwg_match.c wipes with
 * hwg_wipe on remove and on free.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "hwg_err.h"
#include "hwg_match.h"
#include "hwg_test.h"
#include "sim_palm.h"

#define T HWG_MATCH_THRESHOLD_DEFAULT

static void
capture(const char *person, double noise, uint64_t *rng, int8_t out[HWG_MATCH_DIM])
{
	uint8_t q;

	sim_palm_capture(person, noise, rng, out, &q);
}

/* A fused template from three good captures, as enrolment makes it. */
static int
enrol(const char *person, uint64_t *rng, int8_t out[HWG_MATCH_DIM])
{
	int8_t c[3][HWG_MATCH_DIM];

	for (int k = 0; k < 3; k++)
		capture(person, SIM_PALM_NOISE_GOOD, rng, c[k]);
	return hwg_match_fuse((const int8_t(*)[HWG_MATCH_DIM])c, 3, -1.0, out, NULL);
}

static void
test_score_basics(void)
{
	int8_t a[HWG_MATCH_DIM], neg[HWG_MATCH_DIM], zero[HWG_MATCH_DIM] = {0};
	int8_t small[HWG_MATCH_DIM], twice[HWG_MATCH_DIM];
	int8_t e0[HWG_MATCH_DIM] = {0}, e1[HWG_MATCH_DIM] = {0};
	uint64_t rng = 1;

	capture("score-basics", SIM_PALM_NOISE_GOOD, &rng, a);
	for (int i = 0; i < HWG_MATCH_DIM; i++) {
		neg[i] = (int8_t)-a[i];
		small[i] = (int8_t)(a[i] / 2);
		twice[i] = (int8_t)(2 * small[i]);
	}
	CHECK(hwg_match_score(a, a) == 1.0);
	CHECK(hwg_match_score(a, neg) == -1.0);
	CHECK(hwg_match_score(a, zero) == 0.0);
	CHECK(hwg_match_score(zero, a) == 0.0);
	CHECK(hwg_match_score(zero, zero) == 0.0);
	e0[0] = 100;
	e1[1] = -7;
	CHECK(hwg_match_score(e0, e1) == 0.0);
	/* the score is symmetric and ignores scale */
	CHECK(hwg_match_score(a, small) == hwg_match_score(small, a));
	CHECK(hwg_match_score(small, twice) == 1.0);
	e1[0] = 1;
	CHECK(hwg_match_score(e0, e1) > 0.14 && hwg_match_score(e0, e1) < 0.15);
	/* the extremes of int8 do not overflow */
	for (int i = 0; i < HWG_MATCH_DIM; i++) {
		a[i] = -128;
		neg[i] = 127;
	}
	CHECK(hwg_match_score(a, a) == 1.0);
	CHECK(hwg_match_score(a, neg) == -1.0);
}

static void
test_same_person_matches_others_do_not(void)
{
	enum { PEOPLE = 200 };
	static int8_t c1[PEOPLE][HWG_MATCH_DIM], c2[PEOPLE][HWG_MATCH_DIM];
	uint64_t rng = 42;
	int genuine_ok = 0, false_accepts = 0;
	char name[32];

	for (int p = 0; p < PEOPLE; p++) {
		snprintf(name, sizeof(name), "person-%d", p);
		capture(name, SIM_PALM_NOISE_GOOD, &rng, c1[p]);
		capture(name, SIM_PALM_NOISE_GOOD, &rng, c2[p]);
		genuine_ok += hwg_match_score(c1[p], c2[p]) >= T;
	}
	for (int a = 0; a < PEOPLE; a++)
		for (int b = 0; b < PEOPLE; b++)
			if (a != b)
				false_accepts += hwg_match_score(c1[a], c2[b]) >= T;
	/* FRR ~2e-3, FAR ~2e-6 (bench_match): 39,800 impostor pairs here */
	CHECK(genuine_ok >= PEOPLE - 2);
	CHECK(false_accepts <= 1);
}

static void
test_low_quality_capture(void)
{
	int8_t good[HWG_MATCH_DIM], again[HWG_MATCH_DIM], low[HWG_MATCH_DIM];
	uint64_t rng = 7;
	uint8_t qg, ql;
	double good_good = 0, good_low = 0;

	for (int i = 0; i < 50; i++) {
		sim_palm_capture("quality", SIM_PALM_NOISE_GOOD, &rng, good, &qg);
		sim_palm_capture("quality", SIM_PALM_NOISE_GOOD, &rng, again, NULL);
		sim_palm_capture("quality", SIM_PALM_NOISE_LOW, &rng, low, &ql);
		CHECK(qg >= 75 && qg <= 100);
		CHECK(ql < 30);
		good_good += hwg_match_score(good, again) / 50;
		good_low += hwg_match_score(good, low) / 50;
	}
	/*
	 * a low-quality capture is much further from the palm (it still
	 * matches now and then: the gateway refuses it on quality first)
	 */
	CHECK(good_low < good_good - 0.25);
}

static void
test_capture_deterministic(void)
{
	int8_t a[HWG_MATCH_DIM], b[HWG_MATCH_DIM], c[HWG_MATCH_DIM], d[HWG_MATCH_DIM];
	uint64_t r1 = 99, r2 = 99, r3 = 99;
	uint8_t qa, qb, qc;

	sim_palm_capture("alice", SIM_PALM_NOISE_GOOD, &r1, a, &qa);
	sim_palm_capture("alice", SIM_PALM_NOISE_GOOD, &r2, b, &qb);
	CHECK(memcmp(a, b, sizeof(a)) == 0);
	CHECK_EQ_INT(qa, qb);
	CHECK(r1 == r2 && r1 != 99);
	sim_palm_capture("bob", SIM_PALM_NOISE_GOOD, &r3, c, &qc);
	CHECK(memcmp(a, c, sizeof(a)) != 0);
	CHECK(hwg_match_score(a, c) < T);
	/* the next capture differs (the rng moved) but is the same palm */
	sim_palm_capture("alice", SIM_PALM_NOISE_GOOD, &r1, d, NULL);
	CHECK(memcmp(a, d, sizeof(a)) != 0);
	CHECK(hwg_match_score(a, d) >= T);
}

static void
test_fuse_accepts_agreeing_captures(void)
{
	int8_t c[3][HWG_MATCH_DIM], out[HWG_MATCH_DIM], probe[HWG_MATCH_DIM];
	struct hwg_error err = {0};
	uint64_t rng = 5;
	int peak = 0;

	for (int k = 0; k < 3; k++)
		capture("fuse-ok", SIM_PALM_NOISE_GOOD, &rng, c[k]);
	CHECK_EQ_INT(hwg_match_fuse((const int8_t(*)[HWG_MATCH_DIM])c, 3, T, out, &err), 0);
	CHECK_EQ_INT(err.code, 0);
	for (int i = 0; i < HWG_MATCH_DIM; i++)
		peak = abs(out[i]) > peak ? abs(out[i]) : peak;
	CHECK_EQ_INT(peak, 127);
	/* the mean is closer to the palm than any one capture */
	capture("fuse-ok", SIM_PALM_NOISE_GOOD, &rng, probe);
	CHECK(hwg_match_score(out, probe) > hwg_match_score(c[0], probe));
	CHECK(hwg_match_score(out, probe) > hwg_match_score(c[1], probe));
	/* a single capture is its own template, at full scale */
	CHECK_EQ_INT(hwg_match_fuse((const int8_t(*)[HWG_MATCH_DIM])c, 1, T, out, &err), 0);
	CHECK(hwg_match_score(out, c[0]) > 0.9999);
}

static void
test_fuse_refuses_mismatch(void)
{
	int8_t c[3][HWG_MATCH_DIM], out[HWG_MATCH_DIM], zero[2][HWG_MATCH_DIM] = {{0}};
	int8_t before[HWG_MATCH_DIM];
	struct hwg_error err = {0};
	uint64_t rng = 6;

	capture("fuse-a", SIM_PALM_NOISE_GOOD, &rng, c[0]);
	capture("fuse-a", SIM_PALM_NOISE_GOOD, &rng, c[1]);
	capture("fuse-b", SIM_PALM_NOISE_GOOD, &rng, c[2]);
	memset(out, 0x55, sizeof(out));
	memcpy(before, out, sizeof(out));
	CHECK_EQ_INT(hwg_match_fuse((const int8_t(*)[HWG_MATCH_DIM])c, 3, T, out, &err),
	             HWG_E_ENROLL_MISMATCH);
	CHECK_EQ_INT(err.code, HWG_E_ENROLL_MISMATCH);
	CHECK(strstr(err.message, "captures") != NULL);
	CHECK(memcmp(out, before, sizeof(out)) == 0);
	/* the first two alone agree */
	CHECK_EQ_INT(hwg_match_fuse((const int8_t(*)[HWG_MATCH_DIM])c, 2, T, out, NULL), 0);
	/* nothing to average */
	CHECK_EQ_INT(hwg_match_fuse((const int8_t(*)[HWG_MATCH_DIM])zero, 2, -1.0, out, &err),
	             HWG_E_ENROLL_MISMATCH);
	CHECK_EQ_INT(hwg_match_fuse((const int8_t(*)[HWG_MATCH_DIM])c, 0, T, out, &err),
	             HWG_E_INVALID);
	CHECK_EQ_INT(hwg_match_fuse(NULL, 3, T, out, &err), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_match_fuse((const int8_t(*)[HWG_MATCH_DIM])c, 3, T, NULL, &err),
	             HWG_E_INVALID);
}

static void
test_gallery_bookkeeping(void)
{
	struct hwg_gallery *g = hwg_gallery_new(3);
	int8_t a[HWG_MATCH_DIM], b[HWG_MATCH_DIM], c[HWG_MATCH_DIM], d[HWG_MATCH_DIM];
	struct hwg_match_hit hit;
	char id64[HWG_MATCH_ID_MAX + 2];
	uint64_t rng = 11;

	REQUIRE(g != NULL);
	capture("book-a", SIM_PALM_NOISE_GOOD, &rng, a);
	capture("book-b", SIM_PALM_NOISE_GOOD, &rng, b);
	capture("book-c", SIM_PALM_NOISE_GOOD, &rng, c);
	capture("book-d", SIM_PALM_NOISE_GOOD, &rng, d);
	CHECK_EQ_INT(hwg_gallery_count(g), 0);
	CHECK_EQ_INT(hwg_gallery_put(g, "op.a", a), 0);
	CHECK_EQ_INT(hwg_gallery_put(g, "op_b-2", b), 0);
	CHECK_EQ_INT(hwg_gallery_count(g), 2);
	/* replace: same count, the new template answers */
	CHECK_EQ_INT(hwg_gallery_put(g, "op.a", c), 0);
	CHECK_EQ_INT(hwg_gallery_count(g), 2);
	CHECK_EQ_INT(hwg_gallery_identify(g, c, T, NULL, &hit), 0);
	CHECK_EQ_STR(hit.id, "op.a");
	CHECK(hit.score == 1.0);
	CHECK_EQ_INT(hwg_gallery_identify(g, a, 0.99, NULL, &hit), HWG_E_NO_MATCH);
	/* full */
	CHECK_EQ_INT(hwg_gallery_put(g, "op-c", a), 0);
	CHECK_EQ_INT(hwg_gallery_put(g, "op-d", d), HWG_E_TOO_LARGE);
	CHECK_EQ_INT(hwg_gallery_count(g), 3);
	/* remove, then again */
	CHECK_EQ_INT(hwg_gallery_remove(g, "op.a"), 0);
	CHECK_EQ_INT(hwg_gallery_remove(g, "op.a"), HWG_E_NOT_FOUND);
	CHECK_EQ_INT(hwg_gallery_remove(g, "nobody"), HWG_E_NOT_FOUND);
	CHECK_EQ_INT(hwg_gallery_remove(g, NULL), HWG_E_NOT_FOUND);
	CHECK_EQ_INT(hwg_gallery_count(g), 2);
	CHECK_EQ_INT(hwg_gallery_identify(g, c, T, NULL, &hit), HWG_E_NO_MATCH);
	CHECK_EQ_INT(hwg_gallery_put(g, "op-d", d), 0);
	CHECK_EQ_INT(hwg_gallery_identify(g, d, T, NULL, &hit), 0);
	CHECK_EQ_STR(hit.id, "op-d");
	/* ids: 1..64 of [A-Za-z0-9._-] */
	memset(id64, 'x', HWG_MATCH_ID_MAX);
	id64[HWG_MATCH_ID_MAX] = '\0';
	CHECK_EQ_INT(hwg_gallery_remove(g, "op-c"), 0);
	CHECK_EQ_INT(hwg_gallery_put(g, id64, a), 0);
	CHECK_EQ_INT(hwg_gallery_identify(g, a, T, NULL, &hit), 0);
	CHECK_EQ_STR(hit.id, id64);
	id64[HWG_MATCH_ID_MAX] = 'x';
	id64[HWG_MATCH_ID_MAX + 1] = '\0';
	CHECK_EQ_INT(hwg_gallery_put(g, id64, a), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_gallery_put(g, "", a), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_gallery_put(g, "op a", a), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_gallery_put(g, "op/a", a), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_gallery_put(g, "\xc3\xa9", a), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_gallery_put(g, NULL, a), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_gallery_put(g, "op-e", NULL), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_gallery_put(NULL, "op-e", a), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_gallery_count(g), 3);
	CHECK_EQ_INT(hwg_gallery_identify(NULL, a, T, NULL, &hit), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_gallery_identify(g, NULL, T, NULL, &hit), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_gallery_identify(g, a, T, NULL, NULL), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_gallery_identify_exhaustive(g, a, T, NULL, NULL), HWG_E_INVALID);
	CHECK_EQ_INT(hwg_gallery_count(NULL), 0);
	hwg_gallery_free(g);
	hwg_gallery_free(NULL);
	/* a gallery of nothing is always full */
	g = hwg_gallery_new(0);
	CHECK(g != NULL);
	CHECK_EQ_INT(hwg_gallery_put(g, "op-a", a), HWG_E_TOO_LARGE);
	CHECK_EQ_INT(hwg_gallery_identify(g, a, T, NULL, &hit), HWG_E_NO_MATCH);
	hwg_gallery_free(g);
}

/* Both searches, compared field by field; returns 1 when they agree. */
static int
same_answer(const struct hwg_gallery *g, const int8_t *probe, double threshold, const char *exclude,
            int *rc)
{
	struct hwg_match_hit a, b;
	int ra, rb;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ra = hwg_gallery_identify(g, probe, threshold, exclude, &a);
	rb = hwg_gallery_identify_exhaustive(g, probe, threshold, exclude, &b);
	*rc = ra;
	if (ra != rb)
		fprintf(stderr, "  identify %d, exhaustive %d\n", ra, rb);
	else if (ra == 0 && (strcmp(a.id, b.id) != 0 || a.score != b.score))
		fprintf(stderr, "  identify %s %.17g, exhaustive %s %.17g\n", a.id, a.score, b.id,
		        b.score);
	else
		return 1;
	return 0;
}

static void
test_identify_equals_exhaustive(void)
{
	enum { PEOPLE = 2000, PROBES = 300 };
	static const double thresholds[] = {T, 0.3, 0.7, -2.0};
	struct hwg_gallery *g = hwg_gallery_new(PEOPLE);
	int8_t t[HWG_MATCH_DIM], probe[HWG_MATCH_DIM];
	struct hwg_match_hit hit;
	uint64_t rng = 2024;
	int agree = 0, total = 0, owner_found = 0, rc;
	char name[32];

	for (int p = 0; p < PEOPLE; p++) {
		snprintf(name, sizeof(name), "op-%04d", p);
		CHECK_EQ_INT(enrol(name, &rng, t), 0);
		CHECK_EQ_INT(hwg_gallery_put(g, name, t), 0);
	}
	for (int i = 0; i < PROBES; i++) {
		int genuine = i % 2 == 0;
		double noise = i % 6 < 4 ? SIM_PALM_NOISE_GOOD : 2.0;

		/* genuine probes of enrolled people, impostors never enrolled, some noisier */
		snprintf(name, sizeof(name), genuine ? "op-%04d" : "walk-in-%d",
		         genuine ? (i * 7919) % PEOPLE : i);
		capture(name, noise, &rng, probe);
		for (size_t k = 0; k < sizeof(thresholds) / sizeof(thresholds[0]); k++) {
			agree += same_answer(g, probe, thresholds[k], NULL, &rc);
			total++;
		}
		if (genuine && noise == SIM_PALM_NOISE_GOOD &&
		    hwg_gallery_identify(g, probe, T, NULL, &hit) == 0 && strcmp(hit.id, name) == 0)
			owner_found++;
	}
	CHECK_EQ_INT(agree, total);
	/* 100 good genuine probes: their owner is the answer */
	CHECK(owner_found >= 98);
	hwg_gallery_free(g);
}

static void
test_exclude(void)
{
	enum { PEOPLE = 300 };
	struct hwg_gallery *g = hwg_gallery_new(PEOPLE);
	int8_t t[HWG_MATCH_DIM], probe[HWG_MATCH_DIM];
	struct hwg_match_hit hit;
	uint64_t rng = 77;
	int rc, agree = 0;
	char name[32];

	for (int p = 0; p < PEOPLE; p++) {
		snprintf(name, sizeof(name), "ex-%d", p);
		CHECK_EQ_INT(enrol(name, &rng, t), 0);
		CHECK_EQ_INT(hwg_gallery_put(g, name, t), 0);
	}
	for (int p = 0; p < 40; p++) {
		snprintf(name, sizeof(name), "ex-%d", p);
		capture(name, SIM_PALM_NOISE_GOOD, &rng, probe);
		CHECK_EQ_INT(hwg_gallery_identify(g, probe, T, NULL, &hit), 0);
		CHECK_EQ_STR(hit.id, name);
		/* re-enrolment's duplicate check skips the operator's own template */
		rc = hwg_gallery_identify(g, probe, T, name, &hit);
		CHECK(rc == HWG_E_NO_MATCH || (rc == 0 && strcmp(hit.id, name) != 0));
		agree += same_answer(g, probe, T, name, &rc);
		agree += same_answer(g, probe, -2.0, name, &rc);
		CHECK(rc == 0);
		/* an exclude that names nobody changes nothing */
		agree += same_answer(g, probe, T, "not-enrolled", &rc);
		CHECK(rc == 0);
	}
	CHECK_EQ_INT(agree, 120);
	hwg_gallery_free(g);
}

static void
test_ties_and_zero_probe(void)
{
	struct hwg_gallery *g = hwg_gallery_new(4);
	int8_t a[HWG_MATCH_DIM], zero[HWG_MATCH_DIM] = {0};
	struct hwg_match_hit hit;
	uint64_t rng = 3;
	int rc, agree = 0;

	capture("tie", SIM_PALM_NOISE_GOOD, &rng, a);
	CHECK_EQ_INT(hwg_gallery_put(g, "tie-b", a), 0);
	CHECK_EQ_INT(hwg_gallery_put(g, "tie-a", a), 0);
	CHECK_EQ_INT(hwg_gallery_put(g, "tie-c", a), 0);
	/* equal scores go to the smaller id, whatever the insertion order */
	CHECK_EQ_INT(hwg_gallery_identify(g, a, T, NULL, &hit), 0);
	CHECK_EQ_STR(hit.id, "tie-a");
	agree += same_answer(g, a, T, NULL, &rc);
	agree += same_answer(g, a, T, "tie-a", &rc);
	CHECK_EQ_INT(hwg_gallery_identify(g, a, T, "tie-a", &hit), 0);
	CHECK_EQ_STR(hit.id, "tie-b");
	/* a zero template scores 0 with everything */
	CHECK_EQ_INT(hwg_gallery_put(g, "zero", zero), 0);
	CHECK_EQ_INT(hwg_gallery_identify(g, zero, 0.0, NULL, &hit), 0);
	CHECK_EQ_STR(hit.id, "tie-a");
	CHECK(hit.score == 0.0);
	CHECK_EQ_INT(hwg_gallery_identify(g, zero, T, NULL, &hit), HWG_E_NO_MATCH);
	agree += same_answer(g, zero, 0.0, NULL, &rc);
	agree += same_answer(g, zero, T, NULL, &rc);
	agree += same_answer(g, a, -2.0, "tie-a", &rc);
	CHECK_EQ_INT(agree, 5);
	hwg_gallery_free(g);
}

/* Random puts and removes against a plain list: the id index must not lose anyone. */
static void
test_churn_keeps_index(void)
{
	enum { CAP = 64, IDS = 100, OPS = 3000 };
	static int8_t t[IDS][HWG_MATCH_DIM];
	struct hwg_gallery *g = hwg_gallery_new(CAP);
	struct hwg_match_hit hit;
	int present[IDS] = {0}, count = 0, ok = 1;
	uint64_t rng = 123, pick = 0x12345;
	char name[32];

	for (int k = 0; k < IDS; k++) {
		snprintf(name, sizeof(name), "churn-%d", k);
		capture(name, SIM_PALM_NOISE_GOOD, &rng, t[k]);
	}
	for (int op = 0; op < OPS; op++) {
		int k, rc;

		pick = pick * 6364136223846793005ULL + 1442695040888963407ULL;
		k = (int)((pick >> 33) % IDS);
		snprintf(name, sizeof(name), "churn-%d", k);
		if ((pick >> 20) & 1) {
			rc = hwg_gallery_put(g, name, t[k]);
			if (present[k])
				ok &= rc == 0;
			else if (count == CAP)
				ok &= rc == HWG_E_TOO_LARGE;
			else {
				ok &= rc == 0;
				present[k] = 1;
				count++;
			}
		} else {
			rc = hwg_gallery_remove(g, name);
			ok &= rc == (present[k] ? 0 : HWG_E_NOT_FOUND);
			count -= present[k];
			present[k] = 0;
		}
		ok &= (int)hwg_gallery_count(g) == count;
	}
	CHECK(ok);
	for (int k = 0; k < IDS; k++) {
		snprintf(name, sizeof(name), "churn-%d", k);
		if (present[k]) {
			CHECK_EQ_INT(hwg_gallery_identify(g, t[k], 0.999, NULL, &hit), 0);
			CHECK_EQ_STR(hit.id, name);
		} else {
			/* removed: never the answer, even when everything matches */
			if (hwg_gallery_identify(g, t[k], -2.0, NULL, &hit) == 0)
				CHECK(strcmp(hit.id, name) != 0);
		}
	}
	hwg_gallery_free(g);
}

int
main(void)
{
	HWG_RUN(test_score_basics);
	HWG_RUN(test_same_person_matches_others_do_not);
	HWG_RUN(test_low_quality_capture);
	HWG_RUN(test_capture_deterministic);
	HWG_RUN(test_fuse_accepts_agreeing_captures);
	HWG_RUN(test_fuse_refuses_mismatch);
	HWG_RUN(test_gallery_bookkeeping);
	HWG_RUN(test_identify_equals_exhaustive);
	HWG_RUN(test_exclude);
	HWG_RUN(test_ties_and_zero_probe);
	HWG_RUN(test_churn_keeps_index);
	return HWG_TEST_END();
}
