/*
 * hwg_match.h — the palm-vein matcher: 1:1 verification and 1:N
 * identification over "pv1-256i8" templates (256 signed 8-bit features,
 * firmware-notes/vein-terminal.md).
 *
 * The score is the cosine of two templates, in [-1, 1]; a pair matches
 * when its score reaches the configured threshold ([vein] threshold).
 * Identification keeps a gallery of unsealed templates in locked memory,
 * wiped on removal and on free, and finds the best match above the
 * threshold faster than comparing the probe with every template in full;
 * hwg_gallery_identify_exhaustive is that full comparison, kept as the
 * baseline the benchmark and the tests measure it against.  The pruned
 * search is exact, not approximate: it only skips a template once a
 * Cauchy–Schwarz bound proves it cannot be the answer, and both functions
 * return the same id and the same score, bit for bit (hwg_match.c).
 * Pure code: no I/O, no logging.  A gallery is not thread-safe; the
 * caller locks (identify only reads it).
 */
#ifndef HWG_MATCH_H
#define HWG_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "hwg_config.h"
#include "hwg_err.h"

#define HWG_MATCH_DIM 256
#define HWG_MATCH_ID_MAX 64

/* The default threshold (HWG_MATCH_THRESHOLD_DEFAULT) is in hwg_config.h, with why it is 0.50. */

/* Cosine similarity of a and b; 0 if either is all zeros.  Exactly 1 for a == b. */
double hwg_match_score(const int8_t a[HWG_MATCH_DIM], const int8_t b[HWG_MATCH_DIM]);

/*
 * Enrolment: the template stored for n captures (their mean, re-quantised),
 * after checking that every pair of them scores at least agree_threshold
 * (HWG_E_ENROLL_MISMATCH naming the worst pair's score otherwise).  The
 * mean is rescaled so that its largest |feature| is 127: cosine ignores
 * scale, and the full int8 range keeps the most of the mean's precision.
 * Also HWG_E_ENROLL_MISMATCH when the captures sum to zero (a template
 * that matches nothing), HWG_E_INVALID for n == 0 or NULL.  out is
 * untouched on failure.
 */
int hwg_match_fuse(const int8_t (*captures)[HWG_MATCH_DIM], size_t n, double agree_threshold,
                   int8_t out[HWG_MATCH_DIM], struct hwg_error *err);

struct hwg_gallery;

/*
 * An empty gallery that holds at most cap templates; NULL on ENOMEM.  It
 * takes about 560 bytes of locked memory per template (mlock where
 * RLIMIT_MEMLOCK allows): the template whole and cut into columns for
 * the pruned search, with its norms.
 */
struct hwg_gallery *hwg_gallery_new(size_t cap);
/* Wipe and free; accepts NULL. */
void hwg_gallery_free(struct hwg_gallery *g);
size_t hwg_gallery_count(const struct hwg_gallery *g);
/*
 * Add or replace id's template (ids: 1..HWG_MATCH_ID_MAX characters of
 * [A-Za-z0-9._-]).  HWG_E_TOO_LARGE when full, HWG_E_INVALID for a bad id.
 */
int hwg_gallery_put(struct hwg_gallery *g, const char *id, const int8_t t[HWG_MATCH_DIM]);
/* Remove (wiped); HWG_E_NOT_FOUND if absent. */
int hwg_gallery_remove(struct hwg_gallery *g, const char *id);

struct hwg_match_hit {
	char id[HWG_MATCH_ID_MAX + 1];
	double score;
};
/*
 * The best-scoring template at or above threshold, skipping exclude (may
 * be NULL, or name nobody): 0 with *hit filled, or HWG_E_NO_MATCH with
 * *hit untouched; HWG_E_INVALID for NULL arguments.  Equal scores go to
 * the smaller id (strcmp), so the answer never depends on insertion order.
 */
int hwg_gallery_identify(const struct hwg_gallery *g, const int8_t probe[HWG_MATCH_DIM],
                         double threshold, const char *exclude, struct hwg_match_hit *hit);
/* The same answer by scoring every template in full (the baseline). */
int hwg_gallery_identify_exhaustive(const struct hwg_gallery *g, const int8_t probe[HWG_MATCH_DIM],
                                    double threshold, const char *exclude,
                                    struct hwg_match_hit *hit);

#endif
