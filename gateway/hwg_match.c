/*
 * hwg_match.c — the palm-vein matcher (see hwg_match.h).
 *
 * Scores are computed from exact integer dot products and squared norms,
 * so the same pair always gives the same double, whichever path scored
 * it; hwg_gallery_identify and the exhaustive baseline therefore agree
 * bit for bit, ties included (equal scores go to the smaller id).
 *
 * Identification is exact, not approximate.  The 256 features are cut
 * into 8 blocks of 32; for the blocks not yet multiplied, Cauchy–Schwarz
 * per block bounds what they can add:  p·t <= sum(done) + sum(rest)
 * |p_b| |t_b|.  A template whose bound falls below the score it must beat
 * (the threshold, or the best found so far) cannot be the answer and is
 * dropped without its remaining blocks.  Blocks are taken in decreasing
 * order of the probe's energy, which tightens the bound fastest.  To have
 * a high score to beat early, a first pass multiplies two blocks of every
 * template and scores the few most promising ones in full: for a genuine
 * probe that is nearly always its owner, and every impostor is then
 * dropped after two or three blocks.
 */
#include "hwg_match.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hwg_secret.h"

#define BLOCK 32
#define NBLOCKS (HWG_MATCH_DIM / BLOCK)
#define FIRST_BLOCKS 2 /* blocks every template gets in the first pass */
#define SHORTLIST 8    /* templates scored in full after the first pass */
/*
 * Pruning drops a template only when its bound is below the score to beat
 * by this fraction of |p| |t|: far above the rounding of the float block
 * norms and their sums (below 1e-6 relative), so rounding can never drop a template that
 * would have won.
 */
#define BOUND_SLACK 1e-5

/* Everything derived from one template: kept in the locked region, wiped with it. */
struct entry {
	int8_t t[HWG_MATCH_DIM];
	float block_norm[NBLOCKS]; /* |t_b| */
	double norm;               /* |t| */
	int32_t norm2;             /* |t|^2 */
};

struct hwg_gallery {
	size_t cap, count;
	struct entry *e; /* count entries in use, locked */
	char (*id)[HWG_MATCH_ID_MAX + 1];
	uint32_t *index; /* open addressing on id: entry number + 1, 0 = empty */
	size_t index_mask;
};

/* a·b over n features, both templates (scores, norms: not the hot loop). */
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
 * turn this loop into multiply-add instructions on 16-bit pairs (pmaddwd
 * on x86), several times faster than the int8·int8 loop.  Every
 * comparison against a gallery, pruned or exhaustive, goes through it.
 */
static int32_t
dotw(const int16_t *p, const int8_t *t, int n)
{
	int32_t s = 0;

	for (int i = 0; i < n; i++)
		s += p[i] * t[i];
	return s;
}

/* The same over two blocks at once: one horizontal sum instead of two. */
static int32_t
dotw2(const int16_t *p1, const int8_t *t1, const int16_t *p2, const int8_t *t2)
{
	int32_t s = 0;

	for (int i = 0; i < BLOCK; i++)
		s += p1[i] * t1[i] + p2[i] * t2[i];
	return s;
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
	if (n > 1 && (worst = worst_pair(captures, n, &wi, &wj)) < agree_threshold)
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

	if (id == NULL || !id_valid(id))
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
		/* stays if its home lies cyclically in (hole, s] */
		if (hole <= s ? (hole < home && home <= s) : (hole < home || home <= s))
			continue;
		g->index[hole] = g->index[s];
		g->index[s] = 0;
		hole = s;
	}
}

struct hwg_gallery *
hwg_gallery_new(size_t cap)
{
	struct hwg_gallery *g;
	size_t slots = 2;

	if (cap > UINT32_MAX / 4 || cap > SIZE_MAX / sizeof(struct entry) / 4)
		return NULL;
	while (slots < 2 * cap)
		slots *= 2;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->cap = cap;
	g->index_mask = slots - 1;
	g->e = calloc(cap > 0 ? cap : 1, sizeof(*g->e));
	g->id = calloc(cap > 0 ? cap : 1, sizeof(*g->id));
	g->index = calloc(slots, sizeof(*g->index));
	if (g->e == NULL || g->id == NULL || g->index == NULL) {
		hwg_gallery_free(g);
		return NULL;
	}
	(void)mlock(g->e, cap * sizeof(*g->e)); /* best effort: RLIMIT_MEMLOCK may forbid */
	return g;
}

void
hwg_gallery_free(struct hwg_gallery *g)
{
	if (g == NULL)
		return;
	if (g->e != NULL) {
		hwg_wipe(g->e, g->cap * sizeof(*g->e));
		(void)munlock(g->e, g->cap * sizeof(*g->e));
	}
	free(g->e);
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
entry_set(struct entry *e, const int8_t t[HWG_MATCH_DIM])
{
	memcpy(e->t, t, sizeof(e->t));
	for (int b = 0; b < NBLOCKS; b++)
		e->block_norm[b] = (float)sqrt(dot8(t + b * BLOCK, t + b * BLOCK, BLOCK));
	e->norm2 = dot8(t, t, HWG_MATCH_DIM);
	e->norm = sqrt((double)e->norm2);
}

int
hwg_gallery_put(struct hwg_gallery *g, const char *id, const int8_t t[HWG_MATCH_DIM])
{
	size_t s;

	if (g == NULL || t == NULL || !id_valid(id))
		return HWG_E_INVALID;
	s = index_slot(g, id);
	if (g->index[s] != 0) {
		entry_set(&g->e[g->index[s] - 1], t);
		return 0;
	}
	if (g->count >= g->cap)
		return HWG_E_TOO_LARGE;
	entry_set(&g->e[g->count], t);
	strcpy(g->id[g->count], id); /* id_valid bounded it */
	g->index[s] = (uint32_t)++g->count;
	return 0;
}

int
hwg_gallery_remove(struct hwg_gallery *g, const char *id)
{
	size_t s, last;
	long i;

	if (g == NULL || (i = find(g, id)) < 0)
		return HWG_E_NOT_FOUND;
	s = index_slot(g, id);
	index_delete(g, s);
	last = g->count - 1;
	if ((size_t)i != last) {
		/* keep the entries dense: the last one fills the hole */
		g->e[i] = g->e[last];
		memcpy(g->id[i], g->id[last], sizeof(g->id[i]));
		g->index[index_slot(g, g->id[i])] = (uint32_t)i + 1;
	}
	hwg_wipe(&g->e[last], sizeof(g->e[last]));
	memset(g->id[last], 0, sizeof(g->id[last]));
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
			         cosine(dotw(p, g->e[i].t, HWG_MATCH_DIM), p2, g->e[i].norm2),
			         threshold);
	hwg_wipe(p, sizeof(p));
	return answer(g, &b, hit);
}

/* The probe as the pruned search sees it. */
struct probe {
	int16_t p[HWG_MATCH_DIM];
	int32_t norm2;
	double norm;
	int order[NBLOCKS];   /* blocks by decreasing |p_b| */
	float bnorm[NBLOCKS]; /* |p_b|, in that order */
};

static void
probe_init(struct probe *q, const int8_t *p)
{
	float n[NBLOCKS];

	widen(p, q->p);
	q->norm2 = dot8(p, p, HWG_MATCH_DIM);
	q->norm = sqrt((double)q->norm2);
	for (int b = 0; b < NBLOCKS; b++)
		n[b] = (float)sqrt(dot8(p + b * BLOCK, p + b * BLOCK, BLOCK));
	for (int k = 0; k < NBLOCKS; k++) {
		int m = -1;

		for (int b = 0; b < NBLOCKS; b++)
			if (n[b] >= 0 && (m < 0 || n[b] > n[m]))
				m = b;
		q->order[k] = m;
		q->bnorm[k] = n[m];
		n[m] = -1;
	}
}

static int32_t
dot_blocks(const struct probe *q, const struct entry *e, int from, int to)
{
	int32_t s = 0;

	for (int k = from; k < to; k++)
		s += dotw(q->p + q->order[k] * BLOCK, e->t + q->order[k] * BLOCK, BLOCK);
	return s;
}

/* What blocks from..to-1 (probe order) can add at most: Cauchy–Schwarz per block. */
static float
bound_blocks(const struct probe *q, const struct entry *e, int from, int to)
{
	float r = 0;

	for (int k = from; k < to; k++)
		r += q->bnorm[k] * e->block_norm[q->order[k]];
	return r;
}

/*
 * The blocks after which a template's bound is checked again: checking
 * costs a horizontal sum and a few flops, so not after every block.
 */
static const int checkpoints[] = {FIRST_BLOCKS, 4, 5, 6, NBLOCKS};

/*
 * Finish template i from its dot product over the first FIRST_BLOCKS
 * blocks: drop it as soon as its bound is below what it must reach
 * (need: the threshold, or the best score so far), else score it.
 */
static void
finish(const struct hwg_gallery *g, const struct probe *q, struct best *b, long i, int32_t dot,
       double threshold)
{
	const struct entry *e = &g->e[i];
	double need = b->i >= 0 ? b->score : threshold;
	double floor = (need - BOUND_SLACK) * q->norm * e->norm;
	float rest = bound_blocks(q, e, FIRST_BLOCKS, NBLOCKS);

	for (size_t c = 0; c + 1 < sizeof(checkpoints) / sizeof(checkpoints[0]); c++) {
		if (dot + (double)rest < floor)
			return;
		dot += dot_blocks(q, e, checkpoints[c], checkpoints[c + 1]);
		rest -= bound_blocks(q, e, checkpoints[c], checkpoints[c + 1]);
	}
	consider(g, b, i, cosine(dot, q->norm2, e->norm2), threshold);
}

/* Keep the SHORTLIST highest first-pass estimates, best first. */
struct shortlist {
	long i[SHORTLIST + 1]; /* one more for the end marker of the final walk */
	double est[SHORTLIST];
	int n;
};

/* Add i if its estimate dot/seen beats the lowest kept, without dividing in the common case. */
static void
shortlist_add(struct shortlist *sl, long i, int32_t dot, double seen)
{
	double v;
	int k;

	if (sl->n == SHORTLIST && (double)dot <= sl->est[SHORTLIST - 1] * seen)
		return;
	v = seen > 0 ? dot / seen : 0;
	k = sl->n < SHORTLIST ? sl->n++ : SHORTLIST - 1;
	for (; k > 0 && sl->est[k - 1] < v; k--) {
		sl->i[k] = sl->i[k - 1];
		sl->est[k] = sl->est[k - 1];
	}
	sl->i[k] = i;
	sl->est[k] = v;
}

static int
by_index(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* The first pass: FIRST_BLOCKS blocks of every template, the shortlist of the best. */
static void
first_pass(const struct hwg_gallery *g, const struct probe *q, long skip, int32_t *partial,
           struct shortlist *sl)
{
	sl->n = 0;
	for (long i = 0; i < (long)g->count; i++) {
		const struct entry *e = &g->e[i];

		if (i == skip)
			continue;
		partial[i] = dotw2(q->p + q->order[0] * BLOCK, e->t + q->order[0] * BLOCK,
		                   q->p + q->order[1] * BLOCK, e->t + q->order[1] * BLOCK);
		shortlist_add(sl, i, partial[i], bound_blocks(q, e, 0, FIRST_BLOCKS));
	}
}

int
hwg_gallery_identify(const struct hwg_gallery *g, const int8_t probe[HWG_MATCH_DIM],
                     double threshold, const char *exclude, struct hwg_match_hit *hit)
{
	struct best b = {-1, 0};
	struct probe q;
	struct shortlist sl;
	int32_t *partial;
	long skip;
	int next = 0;

	if (g == NULL || probe == NULL || hit == NULL)
		return HWG_E_INVALID;
	probe_init(&q, probe);
	if (q.norm2 == 0 || g->count == 0 ||
	    (partial = malloc(g->count * sizeof(*partial))) == NULL)
		return hwg_gallery_identify_exhaustive(g, probe, threshold, exclude, hit);
	skip = find(g, exclude);
	first_pass(g, &q, skip, partial, &sl);
	for (int k = 0; k < sl.n; k++)
		finish(g, &q, &b, sl.i[k], partial[sl.i[k]], threshold);
	/* then everybody else, stepping over the shortlist */
	qsort(sl.i, (size_t)sl.n, sizeof(sl.i[0]), by_index);
	sl.i[sl.n] = -1;
	for (long i = 0; i < (long)g->count; i++) {
		if (i == sl.i[next]) {
			next++;
			continue;
		}
		if (i != skip)
			finish(g, &q, &b, i, partial[i], threshold);
	}
	hwg_wipe(partial, g->count * sizeof(*partial));
	free(partial);
	hwg_wipe(&q, sizeof(q));
	return answer(g, &b, hit);
}
