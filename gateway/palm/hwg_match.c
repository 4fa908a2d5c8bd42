/*
 * hwg_match.c — the palm-vein matcher (see hwg_match.h).
 *
 * Scores are computed from exact integer dot products and squared norms,
 * so the same pair always gives the same double, whichever path scored
 * it; hwg_gallery_identify and the exhaustive baseline therefore agree
 * bit for bit, ties included (equal scores go to the smaller id).
 *
 * Identification is exact, not approximate.  The 256 features are cut
 * into 8 blocks of 32.  With D the blocks multiplied so far and R the
 * others, Cauchy–Schwarz bounds what R can add:
 *     p·t = p_D·t_D + p_R·t_R <= p_D·t_D + |p_R| |t_R|
 * and |t_R|^2 is |t|^2 less the stored squared norms of t's blocks in D,
 * all exact integers.  A template whose bound is below the score it must
 * reach (the threshold, or the best found so far) cannot be the answer
 * and leaves without its remaining blocks.  Blocks are taken in
 * decreasing order of the probe's energy, which shrinks |p_R| fastest.
 *
 * The search is breadth first over block columns: every template gets
 * the probe's two strongest blocks in one streaming pass, which also
 * shortlists the few that look best; those are scored in full, so that a
 * genuine probe's owner usually sets a high score to reach before anyone
 * else is looked at again.  Then each round gives the survivors their
 * next block(s) and drops those whose bound fell short.  On the synthetic
 * population an impostor probe's candidates are all gone after 5 or 6
 * blocks of 8, a genuine probe's after 2 (tests/bench/bench_match.c
 * measures the time against the exhaustive loop).  The gallery keeps the
 * templates twice, whole (the exhaustive baseline's natural layout) and
 * cut into block columns, so that each round reads short contiguous
 * streams.
 */
#include "hwg_match.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hwg_secret.h"

#define BLOCK 32
#define NBLOCKS (HWG_MATCH_DIM / BLOCK)
#define SHORTLIST 8 /* templates scored in full after the first pass */
/*
 * Pruning drops a template only when its bound is below the score to
 * reach by this fraction of |p| |t|: far above the rounding of the float
 * block norms and their sums (below 1e-6 relative), so rounding can never
 * drop a template that would have won.
 */
#define BOUND_SLACK 1e-5

/* Everything derived from templates lives in one locked region, wiped on free. */
struct hwg_gallery {
	size_t cap, count;
	uint8_t *mem;
	size_t mem_len;
	float *norm;                  /* |t| (only scales the bound: float is plenty) */
	int32_t *bnorm2[NBLOCKS];     /* |t_b|^2 of template i at bnorm2[b][i] */
	int32_t *norm2;               /* |t|^2 */
	int8_t (*row)[HWG_MATCH_DIM]; /* whole templates */
	int8_t *col[NBLOCKS];         /* block b of template i at col[b] + i * BLOCK */
	char (*id)[HWG_MATCH_ID_MAX + 1];
	uint32_t *index; /* open addressing on id: entry number + 1, 0 = empty */
	size_t index_mask;
};

/* a·b over n features (scores, norms: not the gallery's loop). */
static int32_t
dot8(const int8_t *a, const int8_t *b, int n)
{
	int32_t s = 0;

	for (int i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/*
 * p·t over n features with the probe widened to 16 bits once: compilers
 * turn this loop into multiply-adds of 16-bit pairs (pmaddwd on x86),
 * several times faster than the int8·int8 loop.  Every comparison with a
 * gallery template, pruned or exhaustive, goes through it or dotw2.
 */
static int32_t
dotw(const int16_t *p, const int8_t *t, int n)
{
	int32_t s = 0;

	for (int i = 0; i < n; i++)
		s += p[i] * t[i];
	return s;
}

/* The same over two blocks at once (two sums, so that both stay multiply-adds). */
static int32_t
dotw2(const int16_t *p1, const int8_t *t1, const int16_t *p2, const int8_t *t2)
{
	int32_t s1 = 0, s2 = 0;

	for (int i = 0; i < BLOCK; i++) {
		s1 += p1[i] * t1[i];
		s2 += p2[i] * t2[i];
	}
	return s1 + s2;
}

static void
widen(const int8_t *t, int16_t *out)
{
	for (int i = 0; i < HWG_MATCH_DIM; i++)
		out[i] = t[i];
}

/* The one formula every path uses, so equal inputs give equal doubles. */
static double
cosine(int32_t dot, int32_t na2, int32_t nb2)
{
	if (na2 == 0 || nb2 == 0)
		return 0.0;
	return (double)dot / sqrt((double)na2 * (double)nb2);
}

double
hwg_match_score(const int8_t a[HWG_MATCH_DIM], const int8_t b[HWG_MATCH_DIM])
{
	return cosine(dot8(a, b, HWG_MATCH_DIM), dot8(a, a, HWG_MATCH_DIM),
	              dot8(b, b, HWG_MATCH_DIM));
}

/* Worst-agreeing pair of captures, for the enrolment check and its message. */
static double
worst_pair(const int8_t (*c)[HWG_MATCH_DIM], size_t n, size_t *wi, size_t *wj)
{
	double worst = 2.0;

	*wi = *wj = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			double s = hwg_match_score(c[i], c[j]);

			if (s < worst) {
				worst = s;
				*wi = i;
				*wj = j;
			}
		}
	return worst;
}

int
hwg_match_fuse(const int8_t (*captures)[HWG_MATCH_DIM], size_t n, double agree_threshold,
               int8_t out[HWG_MATCH_DIM], struct hwg_error *err)
{
	int32_t sum[HWG_MATCH_DIM], peak = 0;
	size_t wi, wj;
	double worst;

	if (captures == NULL || out == NULL || n == 0)
		return hwg_error_set(err, HWG_E_INVALID, "enrolment needs at least one capture");
	if (n > INT32_MAX / 128) /* the sums below are int32 */
		return hwg_error_set(err, HWG_E_INVALID, "too many enrolment captures");
	if (n > 1 && !((worst = worst_pair(captures, n, &wi, &wj)) >= agree_threshold))
		return hwg_error_set(err, HWG_E_ENROLL_MISMATCH,
		                     "captures %zu and %zu agree at %.3f, below %.3f", wi + 1,
		                     wj + 1, worst, agree_threshold);
	for (int d = 0; d < HWG_MATCH_DIM; d++) {
		sum[d] = 0;
		for (size_t i = 0; i < n; i++)
			sum[d] += captures[i][d];
		if (abs(sum[d]) > peak)
			peak = abs(sum[d]);
	}
	if (peak == 0)
		return hwg_error_set(err, HWG_E_ENROLL_MISMATCH, "the captures hold no features");
	/* the mean's direction, spread over the whole int8 range (cosine ignores scale) */
	for (int d = 0; d < HWG_MATCH_DIM; d++)
		out[d] = (int8_t)lround(127.0 * sum[d] / peak);
	hwg_wipe(sum, sizeof(sum));
	return 0;
}

/* Ids are operator ids: 1..64 characters of [A-Za-z0-9._-]. */
static int
id_valid(const char *id)
{
	size_t n = 0;

	if (id == NULL)
		return 0;
	for (; id[n] != '\0'; n++) {
		char c = id[n];

		if (n >= HWG_MATCH_ID_MAX ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return n > 0;
}

static size_t
id_hash(const char *id)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *id != '\0'; id++)
		h = (h ^ (uint8_t)*id) * 0x100000001b3ULL;
	return (size_t)h;
}

/* The index slot holding id, or the empty slot where it would go. */
static size_t
index_slot(const struct hwg_gallery *g, const char *id)
{
	size_t s = id_hash(id) & g->index_mask;

	while (g->index[s] != 0 && strcmp(g->id[g->index[s] - 1], id) != 0)
		s = (s + 1) & g->index_mask;
	return s;
}

/* Entry number of id, or -1. */
static long
find(const struct hwg_gallery *g, const char *id)
{
	size_t s;

	if (!id_valid(id))
		return -1;
	s = index_slot(g, id);
	return g->index[s] != 0 ? (long)g->index[s] - 1 : -1;
}

/* Linear-probing deletion: move later members of the run back into the hole. */
static void
index_delete(struct hwg_gallery *g, size_t hole)
{
	size_t s = hole;

	g->index[hole] = 0;
	for (;;) {
		size_t home;

		s = (s + 1) & g->index_mask;
		if (g->index[s] == 0)
			return;
		home = id_hash(g->id[g->index[s] - 1]) & g->index_mask;
		/* it stays if its home lies cyclically in (hole, s] */
		if (hole <= s ? (hole < home && home <= s) : (hole < home || home <= s))
			continue;
		g->index[hole] = g->index[s];
		g->index[s] = 0;
		hole = s;
	}
}

/* Bytes of locked storage per template: norm, block norms, norm², row, columns. */
#define ENTRY_BYTES                                                                                \
	(sizeof(float) + NBLOCKS * sizeof(int32_t) + sizeof(int32_t) + 2 * HWG_MATCH_DIM)

/* Carve the locked region; each array's size keeps the next one aligned. */
static int
layout(struct hwg_gallery *g)
{
	size_t cap = g->cap > 0 ? g->cap : 1;
	uint8_t *m;

	g->mem_len = cap * ENTRY_BYTES;
	if ((m = g->mem = calloc(1, g->mem_len)) == NULL)
		return -1;
	(void)mlock(g->mem, g->mem_len); /* best effort: RLIMIT_MEMLOCK may forbid */
	g->norm = (float *)(void *)m;
	m += cap * sizeof(float);
	for (int b = 0; b < NBLOCKS; b++)
		g->bnorm2[b] = (int32_t *)(void *)m + (size_t)b * cap;
	m += cap * NBLOCKS * sizeof(int32_t);
	g->norm2 = (int32_t *)(void *)m;
	m += cap * sizeof(int32_t);
	g->row = (int8_t(*)[HWG_MATCH_DIM])(void *)m;
	m += cap * HWG_MATCH_DIM;
	for (int b = 0; b < NBLOCKS; b++)
		g->col[b] = (int8_t *)m + (size_t)b * cap * BLOCK;
	return 0;
}

struct hwg_gallery *
hwg_gallery_new(size_t cap)
{
	struct hwg_gallery *g;
	size_t slots = 2;

	if (cap > UINT32_MAX / 4 || cap > SIZE_MAX / ENTRY_BYTES / 4)
		return NULL;
	while (slots < 2 * cap)
		slots *= 2;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->cap = cap;
	g->index_mask = slots - 1;
	g->id = calloc(cap > 0 ? cap : 1, sizeof(*g->id));
	g->index = calloc(slots, sizeof(*g->index));
	if (g->id == NULL || g->index == NULL || layout(g) != 0) {
		hwg_gallery_free(g);
		return NULL;
	}
	return g;
}

void
hwg_gallery_free(struct hwg_gallery *g)
{
	if (g == NULL)
		return;
	if (g->mem != NULL) {
		hwg_wipe(g->mem, g->mem_len);
		(void)munlock(g->mem, g->mem_len);
		free(g->mem);
	}
	free(g->id);
	free(g->index);
	free(g);
}

size_t
hwg_gallery_count(const struct hwg_gallery *g)
{
	return g != NULL ? g->count : 0;
}

static void
entry_write(struct hwg_gallery *g, size_t i, const int8_t t[HWG_MATCH_DIM])
{
	memmove(g->row[i], t, HWG_MATCH_DIM);
	for (int b = 0; b < NBLOCKS; b++) {
		memcpy(g->col[b] + i * BLOCK, t + b * BLOCK, BLOCK);
		g->bnorm2[b][i] = dot8(t + b * BLOCK, t + b * BLOCK, BLOCK);
	}
	g->norm2[i] = dot8(t, t, HWG_MATCH_DIM);
	g->norm[i] = (float)sqrt((double)g->norm2[i]);
}

static void
entry_wipe(struct hwg_gallery *g, size_t i)
{
	hwg_wipe(g->row[i], HWG_MATCH_DIM);
	for (int b = 0; b < NBLOCKS; b++)
		hwg_wipe(g->col[b] + i * BLOCK, BLOCK);
	for (int b = 0; b < NBLOCKS; b++)
		hwg_wipe(&g->bnorm2[b][i], sizeof(int32_t));
	hwg_wipe(&g->norm2[i], sizeof(g->norm2[i]));
	hwg_wipe(&g->norm[i], sizeof(g->norm[i]));
	memset(g->id[i], 0, sizeof(g->id[i]));
}

int
hwg_gallery_put(struct hwg_gallery *g, const char *id, const int8_t t[HWG_MATCH_DIM])
{
	size_t s;

	if (g == NULL || t == NULL || !id_valid(id))
		return HWG_E_INVALID;
	s = index_slot(g, id);
	if (g->index[s] != 0) {
		entry_write(g, g->index[s] - 1, t);
		return 0;
	}
	if (g->count >= g->cap)
		return HWG_E_TOO_LARGE;
	entry_write(g, g->count, t);
	strcpy(g->id[g->count], id); /* id_valid bounded it */
	g->index[s] = (uint32_t)++g->count;
	return 0;
}

int
hwg_gallery_remove(struct hwg_gallery *g, const char *id)
{
	size_t last;
	long i;

	if (g == NULL || (i = find(g, id)) < 0)
		return HWG_E_NOT_FOUND;
	index_delete(g, index_slot(g, id));
	last = g->count - 1;
	if ((size_t)i != last) {
		/* keep the entries dense: the last one fills the hole */
		entry_write(g, (size_t)i, g->row[last]);
		memcpy(g->id[i], g->id[last], sizeof(g->id[i]));
		g->index[index_slot(g, g->id[i])] = (uint32_t)i + 1;
	}
	entry_wipe(g, last);
	g->count--;
	return 0;
}

/* The best so far: higher score wins, equal scores go to the smaller id. */
struct best {
	long i;
	double score;
};

static void
consider(const struct hwg_gallery *g, struct best *b, long i, double score, double threshold)
{
	if (!(score >= threshold))
		return;
	if (b->i < 0 || score > b->score ||
	    (score == b->score && strcmp(g->id[i], g->id[b->i]) < 0)) {
		b->i = i;
		b->score = score;
	}
}

static int
answer(const struct hwg_gallery *g, const struct best *b, struct hwg_match_hit *hit)
{
	if (b->i < 0)
		return HWG_E_NO_MATCH;
	memcpy(hit->id, g->id[b->i], sizeof(hit->id));
	hit->score = b->score;
	return 0;
}

int
hwg_gallery_identify_exhaustive(const struct hwg_gallery *g, const int8_t probe[HWG_MATCH_DIM],
                                double threshold, const char *exclude, struct hwg_match_hit *hit)
{
	struct best b = {-1, 0};
	int16_t p[HWG_MATCH_DIM];
	long skip;
	int32_t p2;

	if (g == NULL || probe == NULL || hit == NULL)
		return HWG_E_INVALID;
	skip = find(g, exclude);
	p2 = dot8(probe, probe, HWG_MATCH_DIM);
	widen(probe, p);
	for (long i = 0; i < (long)g->count; i++)
		if (i != skip)
			consider(g, &b, i,
			         cosine(dotw(p, g->row[i], HWG_MATCH_DIM), p2, g->norm2[i]),
			         threshold);
	hwg_wipe(p, sizeof(p));
	return answer(g, &b, hit);
}

/* The probe as the pruned search sees it. */
struct probe {
	int16_t p[HWG_MATCH_DIM];
	int32_t norm2;
	double norm;
	int order[NBLOCKS];         /* blocks by decreasing |p_b| */
	int32_t rest2[NBLOCKS + 1]; /* |p_R|^2 once the first k blocks (in order) are done */
};

static void
probe_init(struct probe *q, const int8_t *p)
{
	int32_t n2[NBLOCKS];

	widen(p, q->p);
	q->norm2 = dot8(p, p, HWG_MATCH_DIM);
	q->norm = sqrt((double)q->norm2);
	for (int b = 0; b < NBLOCKS; b++)
		n2[b] = dot8(p + b * BLOCK, p + b * BLOCK, BLOCK);
	q->rest2[0] = q->norm2;
	for (int k = 0; k < NBLOCKS; k++) {
		int m = -1;

		for (int b = 0; b < NBLOCKS; b++)
			if (n2[b] >= 0 && (m < 0 || n2[b] > n2[m]))
				m = b;
		q->order[k] = m;
		q->rest2[k + 1] = q->rest2[k] - n2[m];
		n2[m] = -1;
	}
}

/*
 * The templates still in the running: entry number, p·t over the blocks
 * done, and |t_R|^2 over the blocks not done.
 */
struct run {
	uint32_t *i;
	int32_t *dot;
	int32_t *rest2;
	size_t n;
};

#define SCORED UINT32_MAX /* a shortlisted entry, already scored in full */

/* Keep the SHORTLIST highest first-pass estimates (p·t / |t|), best first. */
struct shortlist {
	size_t j[SHORTLIST]; /* places in the run */
	double est[SHORTLIST];
	int n;
};

/* Add run place j if its estimate beats the lowest kept, dividing only then. */
static void
shortlist_add(struct shortlist *sl, size_t j, int32_t dot, double norm)
{
	double v;
	int k;

	if (sl->n == SHORTLIST && (double)dot <= sl->est[SHORTLIST - 1] * norm)
		return;
	v = norm > 0 ? dot / norm : 0;
	k = sl->n < SHORTLIST ? sl->n++ : SHORTLIST - 1;
	for (; k > 0 && sl->est[k - 1] < v; k--) {
		sl->j[k] = sl->j[k - 1];
		sl->est[k] = sl->est[k - 1];
	}
	sl->j[k] = j;
	sl->est[k] = v;
}

/*
 * The hot loops below copy what they read of q and g into locals first:
 * their stores through int32_t pointers could otherwise alias q->order
 * (an int) and force a reload of every pointer for every template.
 */

/* The first round: the probe's two strongest blocks of every template but skip. */
static void
first_round(const struct hwg_gallery *g, const struct probe *q, long skip, struct run *r,
            struct shortlist *sl)
{
	const int o0 = q->order[0], o1 = q->order[1];
	const int16_t *p0 = q->p + o0 * BLOCK, *p1 = q->p + o1 * BLOCK;
	const int8_t *c0 = g->col[o0], *c1 = g->col[o1];
	const int32_t *n0 = g->bnorm2[o0], *n1 = g->bnorm2[o1], *norm2 = g->norm2;
	const float *norm = g->norm;
	uint32_t *ri = r->i;
	int32_t *rdot = r->dot, *rrest = r->rest2;
	size_t j = 0;

	sl->n = 0;
	for (size_t i = 0; i < g->count; i++) {
		if ((long)i == skip)
			continue;
		ri[j] = (uint32_t)i;
		rdot[j] = dotw2(p0, c0 + i * BLOCK, p1, c1 + i * BLOCK);
		rrest[j] = norm2[i] - n0[i] - n1[i];
		shortlist_add(sl, j, rdot[j], norm[i]);
		j++;
	}
	r->n = j;
}

/*
 * A later round: drop the survivors whose bound is below need, give the
 * others the probe's blocks k..k+len-1 (len is 1, 2 or 3: written out,
 * because the general loop over blocks measured a fifth slower).
 */
static void
next_round(const struct hwg_gallery *g, const struct probe *q, struct run *r, double need, int k,
           int len)
{
	const int a = q->order[k], b = q->order[len > 1 ? k + 1 : k],
	          c = q->order[len > 2 ? k + 2 : k];
	const int16_t *pa = q->p + a * BLOCK, *pb = q->p + b * BLOCK, *pc = q->p + c * BLOCK;
	const int8_t *ca = g->col[a], *cb = g->col[b], *cc = g->col[c];
	const int32_t *na = g->bnorm2[a], *nb = g->bnorm2[b], *nc = g->bnorm2[c];
	const float *norm = g->norm;
	const double scale = (need - BOUND_SLACK) * q->norm, prest2 = q->rest2[k];
	uint32_t *ri = r->i;
	int32_t *rdot = r->dot, *rrest = r->rest2;
	size_t m = 0, n = r->n;

	for (size_t j = 0; j < n; j++) {
		size_t i = ri[j];
		int32_t dot = rdot[j], rest2 = rrest[j];
		double gap;

		if (i == SCORED)
			continue;
		/* dot + |p_R| |t_R| < need |p| |t|, squared so that no root is taken */
		gap = scale * norm[i] - dot;
		if (gap > 0 && prest2 * rest2 < gap * gap)
			continue;
		if (len == 1) {
			dot += dotw(pa, ca + i * BLOCK, BLOCK);
			rest2 -= na[i];
		} else {
			dot += dotw2(pa, ca + i * BLOCK, pb, cb + i * BLOCK);
			rest2 -= na[i] + nb[i];
		}
		if (len == 3) {
			dot += dotw(pc, cc + i * BLOCK, BLOCK);
			rest2 -= nc[i];
		}
		ri[m] = (uint32_t)i;
		rdot[m] = dot;
		rrest[m] = rest2;
		m++;
	}
	r->n = m;
}

/*
 * After the first round's two blocks, the blocks each later round adds
 * (they must sum to NBLOCKS - 2, each 1..3): a round costs a pass over
 * the survivors, so blocks go together where the bound rarely prunes.
 * Behind a genuine match's score an impostor leaves after the 2nd block;
 * at the threshold, usually after the 5th or 6th.
 */
static const int rounds[] = {3, 1, 2};

static void
run_free(struct run *r, size_t n)
{
	if (r->dot != NULL)
		hwg_wipe(r->dot, n * sizeof(*r->dot));
	if (r->rest2 != NULL)
		hwg_wipe(r->rest2, n * sizeof(*r->rest2));
	free(r->i);
	free(r->dot);
	free(r->rest2);
}

int
hwg_gallery_identify(const struct hwg_gallery *g, const int8_t probe[HWG_MATCH_DIM],
                     double threshold, const char *exclude, struct hwg_match_hit *hit)
{
	struct best b = {-1, 0};
	struct probe q;
	struct shortlist sl;
	struct run r = {0};
	size_t n;
	int k = 2;

	if (g == NULL || probe == NULL || hit == NULL)
		return HWG_E_INVALID;
	n = g->count > 0 ? g->count : 1;
	r.i = malloc(n * sizeof(*r.i));
	r.dot = malloc(n * sizeof(*r.dot));
	r.rest2 = malloc(n * sizeof(*r.rest2));
	probe_init(&q, probe);
	/* a zero probe scores 0 everywhere: nothing to prune */
	if (r.i == NULL || r.dot == NULL || r.rest2 == NULL || q.norm2 == 0) {
		run_free(&r, n);
		hwg_wipe(&q, sizeof(q));
		return hwg_gallery_identify_exhaustive(g, probe, threshold, exclude, hit);
	}
	first_round(g, &q, find(g, exclude), &r, &sl);
	for (int c = 0; c < sl.n; c++) {
		uint32_t i = r.i[sl.j[c]];

		consider(g, &b, i,
		         cosine(dotw(q.p, g->row[i], HWG_MATCH_DIM), q.norm2, g->norm2[i]),
		         threshold);
		r.i[sl.j[c]] = SCORED;
	}
	for (size_t s = 0; s < sizeof(rounds) / sizeof(rounds[0]); s++) {
		next_round(g, &q, &r, b.i >= 0 ? b.score : threshold, k, rounds[s]);
		k += rounds[s];
	}
	for (size_t j = 0; j < r.n; j++)
		consider(g, &b, r.i[j], cosine(r.dot[j], q.norm2, g->norm2[r.i[j]]), threshold);
	run_free(&r, n);
	hwg_wipe(&q, sizeof(q));
	return answer(g, &b, hit);
}
