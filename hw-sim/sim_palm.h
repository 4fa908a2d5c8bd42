/*
 * sim_palm.h — synthetic palm veins for the simulated terminal and the
 * matcher's benchmark.
 *
 * Each simulated person has a stable latent feature vector derived from
 * their name alone (the same name always gives the same palm, in every
 * run and process); a capture is that vector plus noise, quantised to
 * the terminal's "pv1-256i8" template.  The population's scores follow
 * the shape of real vein matchers: genuine pairs well above the default
 * threshold with a tail that a noisy capture can push under it, impostor
 * pairs well below with a thin tail above; tests/bench/bench_match.c
 * measures both.  Deterministic given the rng state the caller keeps.
 */
#ifndef SIM_PALM_H
#define SIM_PALM_H

#include <stddef.h>
#include <stdint.h>

#define SIM_PALM_DIM 256

/* Noise levels for the terminal's ordinary and low-quality captures. */
#define SIM_PALM_NOISE_GOOD 1.0
#define SIM_PALM_NOISE_LOW 4.0

/*
 * One capture of person's palm at the given noise level (1.0 = an
 * ordinary capture; larger is worse), advancing *rng.  *quality receives
 * the quality score (0..100) a terminal would report for that noise.
 */
void sim_palm_capture(const char *person, double noise, uint64_t *rng, int8_t out[SIM_PALM_DIM],
                      uint8_t *quality);

#endif
