/*
 * bench_match.c — the palm-vein matcher on hw-sim's synthetic population:
 *  1. error rates: every genuine pair and every impostor pair of captures
 *     of PEOPLE people (CAPTURES each), FAR and FRR at the default
 *     threshold, a table around it and the equal-error rate; then the
 *     same at the gateway's real comparison, an enrolled (fused) template
 *     against a fresh capture;
 *  2. 1:1 verification (hwg_match_score and the decision) against a plain
 *     int8 dot product of the same two templates, the one operation any
 *     dot-product matcher must do: the ratio is what the norms, the root
 *     and the division add;
 *  3. 1:N identification over GALLERY enrolled templates, the pruned
 *     hwg_gallery_identify against hwg_gallery_identify_exhaustive on the
 *     same probes (half genuine, half impostors), interleaved so that a
 *     noisy machine slows both alike; the answers must be the same.
 * Prints BENCH lines as bench_api.c does; timings only as ratios to a
 * baseline measured in the same run, never as pass/fail.
 *
 * Usage: bench_match [PEOPLE [GALLERY [PROBES]]]   (defaults 1000 10000 200)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwg_match.h"
#include "hwg_time.h"
#include "sim_palm.h"

#define CAPTURES 3
#define BINS 4000 /* score histogram over [-1, 1] for the equal-error rate */

static const double table[] = {0.35, 0.40, 0.45, 0.48, 0.50, 0.52, 0.55, 0.60, 0.65};
#define NTABLE (sizeof(table) / sizeof(table[0]))

/* Scores of one kind (genuine or impostor): counts at the table's thresholds, histogram. */
struct tally {
	long n;
	long at_default;     /* scores >= HWG_MATCH_THRESHOLD_DEFAULT */
	long at[NTABLE];     /* scores >= table[k] */
	long hist[BINS + 1]; /* scores in bin b = floor((s + 1) / 2 * BINS) */
};

static void
tally_add(struct tally *t, double s)
{
	int b = (int)floor((s + 1.0) / 2.0 * BINS);

	t->n++;
	t->at_default += s >= HWG_MATCH_THRESHOLD_DEFAULT;
	for (size_t k = 0; k < NTABLE; k++)
		t->at[k] += s >= table[k];
	t->hist[b < 0 ? 0 : b > BINS ? BINS : b]++;
}

static void
person(char *name, size_t len, const char *prefix, int i)
{
	snprintf(name, len, "%s-%05d", prefix, i);
}

/* Equal-error rate: the histogram bin edge where FAR (falling) meets FRR (rising). */
static void
print_eer(const char *name, const struct tally *gen, const struct tally *imp)
{
	long fa = imp->n, fr = 0;
	double best = 2, eer = 1, at = -1;

	for (int b = 0; b <= BINS; b++) {
		double far = (double)fa / imp->n, frr = (double)fr / gen->n;

		if (fabs(far - frr) < best) {
			best = fabs(far - frr);
			eer = (far + frr) / 2;
			at = -1.0 + 2.0 * b / BINS;
		}
		fa -= imp->hist[b];
		fr += gen->hist[b];
	}
	printf("BENCH %s.eer %.2e rate threshold=%.4f\n", name, eer, at);
}

static void
print_rates(const char *name, const struct tally *gen, const struct tally *imp)
{
	long rejected = gen->n - gen->at_default;

	printf("BENCH %s.far %.2e rate threshold=%.2f accepted=%ld impostor_pairs=%ld\n", name,
	       (double)imp->at_default / imp->n, HWG_MATCH_THRESHOLD_DEFAULT, imp->at_default,
	       imp->n);
	printf("BENCH %s.frr %.2e rate threshold=%.2f rejected=%ld genuine_pairs=%ld\n", name,
	       (double)rejected / gen->n, HWG_MATCH_THRESHOLD_DEFAULT, rejected, gen->n);
	for (size_t k = 0; k < NTABLE; k++)
		printf("BENCH %s.at_%.2f far=%.2e frr=%.2e accepted=%ld rejected=%ld\n", name,
		       table[k], (double)imp->at[k] / imp->n,
		       (double)(gen->n - gen->at[k]) / gen->n, imp->at[k], gen->n - gen->at[k]);
	print_eer(name, gen, imp);
}

/* 1. capture against capture: all C(CAPTURES,2) pairs per person, all cross-person pairs. */
static void
bench_rates(int people, int8_t (*c)[HWG_MATCH_DIM], struct tally *gen, struct tally *imp)
{
	for (int a = 0; a < people; a++) {
		const int8_t(*ca)[HWG_MATCH_DIM] = c + (size_t)a * CAPTURES;

		for (int i = 0; i < CAPTURES; i++)
			for (int j = i + 1; j < CAPTURES; j++)
				tally_add(gen, hwg_match_score(ca[i], ca[j]));
		for (int b = a + 1; b < people; b++)
			for (int i = 0; i < CAPTURES; i++)
				for (int j = 0; j < CAPTURES; j++)
					tally_add(imp, hwg_match_score(
					                   ca[i], c[(size_t)b * CAPTURES + j]));
	}
}

/* Enrol one person as the gateway does: three good captures, fused. */
static int
enrol(const char *name, uint64_t *rng, int8_t out[HWG_MATCH_DIM])
{
	int8_t c[CAPTURES][HWG_MATCH_DIM];

	for (int k = 0; k < CAPTURES; k++)
		sim_palm_capture(name, SIM_PALM_NOISE_GOOD, rng, c[k], NULL);
	return hwg_match_fuse((const int8_t(*)[HWG_MATCH_DIM])c, CAPTURES, -1.0, out, NULL);
}

/* 1b. an enrolled template against one fresh capture of everybody. */
static void
bench_verify_rates(int people, uint64_t *rng, struct tally *gen, struct tally *imp)
{
	int8_t(*t)[HWG_MATCH_DIM] = malloc((size_t)people * HWG_MATCH_DIM);
	int8_t(*f)[HWG_MATCH_DIM] = malloc((size_t)people * HWG_MATCH_DIM);
	char name[32];

	if (t == NULL || f == NULL)
		exit(2);
	for (int p = 0; p < people; p++) {
		person(name, sizeof(name), "person", p);
		if (enrol(name, rng, t[p]) != 0)
			exit(2);
		sim_palm_capture(name, SIM_PALM_NOISE_GOOD, rng, f[p], NULL);
	}
	for (int a = 0; a < people; a++)
		for (int b = 0; b < people; b++)
			tally_add(a == b ? gen : imp, hwg_match_score(t[a], f[b]));
	free(t);
	free(f);
}

/* The baseline of 1:1: a plain int8 dot product, compiled here with the same flags. */
static int32_t
plain_dot(const int8_t *a, const int8_t *b)
{
	int32_t s = 0;

	for (int i = 0; i < HWG_MATCH_DIM; i++)
		s += a[i] * b[i];
	return s;
}

static volatile long sink;

/* 2. interleaved chunks of 1:1 decisions and of plain dot products over the same pairs. */
static void
bench_verify_time(int n, const int8_t (*c)[HWG_MATCH_DIM])
{
	enum { CHUNK = 20000, CHUNKS = 50 };
	double t, base = 0, score = 0;
	long acc = 0, dots = 0;

	for (int r = 0; r < CHUNKS; r++) {
		t = hwg_mono_seconds();
		for (int k = 0; k < CHUNK; k++)
			dots += plain_dot(c[k % n], c[(k * 7 + 1) % n]);
		base += hwg_mono_seconds() - t;
		t = hwg_mono_seconds();
		for (int k = 0; k < CHUNK; k++)
			acc += hwg_match_score(c[k % n], c[(k * 7 + 1) % n]) >=
			       HWG_MATCH_THRESHOLD_DEFAULT;
		score += hwg_mono_seconds() - t;
	}
	sink = acc + dots;
	printf("BENCH match.dot_baseline %.1f ns ratio=1.00\n", 1e9 * base / (CHUNK * CHUNKS));
	printf("BENCH match.verify_1to1 %.1f ns ratio=%.2f\n", 1e9 * score / (CHUNK * CHUNKS),
	       score / base);
}

/* 3. the gallery and its probes: half fresh captures of enrolled people, half walk-ins. */
static void
bench_identify(int gallery, int probes, uint64_t *rng)
{
	struct hwg_gallery *g = hwg_gallery_new((size_t)gallery);
	int8_t t[HWG_MATCH_DIM], (*p)[HWG_MATCH_DIM] = malloc((size_t)probes * HWG_MATCH_DIM);
	double fast[2] = {0}, full[2] = {0}, t0;
	int mismatches = 0, hits = 0, n[2] = {0};
	char name[32];

	if (g == NULL || p == NULL)
		exit(2);
	for (int i = 0; i < gallery; i++) {
		person(name, sizeof(name), "operator", i);
		if (enrol(name, rng, t) != 0 || hwg_gallery_put(g, name, t) != 0)
			exit(2);
	}
	for (int i = 0; i < probes; i++) {
		if (i % 2 == 0)
			person(name, sizeof(name), "operator", (int)((i * 7919L) % gallery));
		else
			person(name, sizeof(name), "walk-in", i);
		sim_palm_capture(name, SIM_PALM_NOISE_GOOD, rng, p[i], NULL);
	}
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < probes; i++) {
			struct hwg_match_hit a = {0}, b = {0};
			int ra, rb, kind = i % 2; /* 0 genuine, 1 impostor */

			/* alternate which goes first, so that neither always finds a warm cache */
			t0 = hwg_mono_seconds();
			if ((round + i) % 2 == 0) {
				ra = hwg_gallery_identify(g, p[i], HWG_MATCH_THRESHOLD_DEFAULT,
				                          NULL, &a);
				fast[kind] += hwg_mono_seconds() - t0;
				t0 = hwg_mono_seconds();
				rb = hwg_gallery_identify_exhaustive(
				    g, p[i], HWG_MATCH_THRESHOLD_DEFAULT, NULL, &b);
				full[kind] += hwg_mono_seconds() - t0;
			} else {
				rb = hwg_gallery_identify_exhaustive(
				    g, p[i], HWG_MATCH_THRESHOLD_DEFAULT, NULL, &b);
				full[kind] += hwg_mono_seconds() - t0;
				t0 = hwg_mono_seconds();
				ra = hwg_gallery_identify(g, p[i], HWG_MATCH_THRESHOLD_DEFAULT,
				                          NULL, &a);
				fast[kind] += hwg_mono_seconds() - t0;
			}
			n[kind]++;
			hits += ra == 0;
			mismatches += ra != rb ||
			              (ra == 0 && (strcmp(a.id, b.id) != 0 || a.score != b.score));
		}
	printf("BENCH match.identify_%d_exhaustive %.1f us ratio=1.00\n", gallery,
	       1e6 * (full[0] + full[1]) / (n[0] + n[1]));
	printf("BENCH match.identify_%d %.1f us ratio=%.2f genuine_ratio=%.2f "
	       "impostor_ratio=%.2f probes=%d hits=%d mismatches=%d\n",
	       gallery, 1e6 * (fast[0] + fast[1]) / (n[0] + n[1]),
	       (fast[0] + fast[1]) / (full[0] + full[1]), fast[0] / full[0], fast[1] / full[1],
	       n[0] + n[1], hits, mismatches);
	hwg_gallery_free(g);
	free(p);
}

int
main(int argc, char **argv)
{
	int people = argc > 1 ? atoi(argv[1]) : 1000, gallery = argc > 2 ? atoi(argv[2]) : 10000,
	    probes = argc > 3 ? atoi(argv[3]) : 200;
	int8_t(*c)[HWG_MATCH_DIM];
	static struct tally gen, imp, vgen, vimp;
	uint64_t rng = 0x6d61746368; /* fixed: every run measures the same population */
	char name[32];

	if (people < 2 || gallery < 1 || probes < 2) {
		fprintf(stderr, "usage: bench_match [PEOPLE [GALLERY [PROBES]]]\n");
		return 2;
	}
	if ((c = malloc((size_t)people * CAPTURES * HWG_MATCH_DIM)) == NULL)
		return 2;
	for (int p = 0; p < people; p++) {
		person(name, sizeof(name), "person", p);
		for (int k = 0; k < CAPTURES; k++)
			sim_palm_capture(name, SIM_PALM_NOISE_GOOD, &rng, c[p * CAPTURES + k],
			                 NULL);
	}
	bench_rates(people, c, &gen, &imp);
	printf("BENCH match.population %d people captures=%d genuine_pairs=%ld "
	       "impostor_pairs=%ld\n",
	       people, CAPTURES, gen.n, imp.n);
	print_rates("match.capture", &gen, &imp);
	bench_verify_rates(people, &rng, &vgen, &vimp);
	print_rates("match.enrolled", &vgen, &vimp);
	bench_verify_time(people * CAPTURES, (const int8_t(*)[HWG_MATCH_DIM])c);
	free(c);
	bench_identify(gallery, probes, &rng);
	return 0;
}
