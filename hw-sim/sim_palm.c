/*
 * sim_palm.c — synthetic palm veins (see sim_palm.h).
 *
 * A person's latent vector is a population-wide component shared by
 * everybody plus an individual one, mixed in a proportion that varies
 * from person to person: impostor scores are therefore centred above
 * zero with a spread, and the people with much shared structure are the
 * "lambs" that make the impostor tail.  A per-person stability factor
 * (some palms image worse than others: the "goats") and a per-capture
 * jitter of the noise give the genuine scores their tail.  Everything
 * about a person comes from SHA-256 of the name, everything about a
 * capture from the caller's rng, so runs are reproducible.
 */
#include "sim_palm.h"

#include <math.h>
#include <openssl/sha.h>
#include <string.h>

#include "hwg_secret.h"

/*
 * The model's constants, tuned so that tests/bench/bench_match.c shows
 * the error rates documented at HWG_MATCH_THRESHOLD_DEFAULT.
 */
#define SHARE_MEAN 0.13  /* mean weight of the shared component in a latent */
#define SHARE_SPREAD 0.5 /* log-normal spread of that weight across people */
#define SHARE_MAX 0.6
#define GOAT_SPREAD 0.25  /* log-normal spread of a palm's stability */
#define NOISE_SIGMA 0.45  /* capture noise, per feature, at noise 1.0 */
#define NOISE_JITTER 0.10 /* log-normal spread of one capture's noise */
#define QUALITY_SCALE 2.8 /* quality = 100 exp(-(noise / QUALITY_SCALE)^2) */
#define QUANT_SCALE 24.0  /* int8 units per latent standard deviation */
#define COMMON_SEED "hw-sim palm: the structure all palms share"

/* xoshiro256**: a person's stream, seeded by the name's digest. */
struct xoshiro {
	uint64_t s[4];
};

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
xoshiro_next(struct xoshiro *x)
{
	uint64_t *s = x->s, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

static void
xoshiro_seed(struct xoshiro *x, const char *text)
{
	uint8_t d[SHA256_DIGEST_LENGTH];

	SHA256((const uint8_t *)text, strlen(text), d);
	for (int i = 0; i < 4; i++) {
		x->s[i] = 0;
		for (int j = 0; j < 8; j++)
			x->s[i] = x->s[i] << 8 | d[8 * i + j];
	}
	if ((x->s[0] | x->s[1] | x->s[2] | x->s[3]) == 0)
		x->s[0] = 1; /* the one state xoshiro cannot leave */
	hwg_wipe(d, sizeof(d));
}

/* splitmix64: the caller's capture stream, one word of state. */
static uint64_t
splitmix_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A uniform in (0, 1): never 0, so that log() below stays finite. */
static double
unit_open(uint64_t r)
{
	return ((double)(r >> 11) + 0.5) * 0x1.0p-53;
}

/* One standard normal by Box–Muller (the second value is dropped: simpler state). */
static double
gauss(uint64_t r1, uint64_t r2)
{
	return sqrt(-2.0 * log(unit_open(r1))) * cos(2.0 * M_PI * unit_open(r2));
}

static double
xoshiro_gauss(struct xoshiro *x)
{
	uint64_t a = xoshiro_next(x);

	return gauss(a, xoshiro_next(x));
}

static double
splitmix_gauss(uint64_t *state)
{
	uint64_t a = splitmix_next(state);

	return gauss(a, splitmix_next(state));
}

/* The person's palm: latent vector and stability, from the name alone. */
static void
person_latent(const char *person, double latent[SIM_PALM_DIM], double *stability)
{
	struct xoshiro common, own;
	double share, a, b;

	xoshiro_seed(&common, COMMON_SEED);
	xoshiro_seed(&own, person);
	share =
	    SHARE_MEAN * exp(SHARE_SPREAD * xoshiro_gauss(&own) - SHARE_SPREAD * SHARE_SPREAD / 2);
	if (share > SHARE_MAX)
		share = SHARE_MAX;
	*stability = exp(GOAT_SPREAD * xoshiro_gauss(&own));
	/* unit variance per feature whatever the share */
	a = sqrt(share);
	b = sqrt(1.0 - share);
	for (int i = 0; i < SIM_PALM_DIM; i++)
		latent[i] = a * xoshiro_gauss(&common) + b * xoshiro_gauss(&own);
	hwg_wipe(&own, sizeof(own));
}

static int8_t
quantise(double v)
{
	double q = nearbyint(v * QUANT_SCALE);

	if (q > 127)
		return 127;
	if (q < -127)
		return -127;
	return (int8_t)q;
}

static uint8_t
quality_of(double noise)
{
	double q = 100.0 * exp(-(noise / QUALITY_SCALE) * (noise / QUALITY_SCALE));

	return (uint8_t)nearbyint(q < 0 ? 0 : q > 100 ? 100 : q);
}

void
sim_palm_capture(const char *person, double noise, uint64_t *rng, int8_t out[SIM_PALM_DIM],
                 uint8_t *quality)
{
	double latent[SIM_PALM_DIM], stability, level, sigma;

	person_latent(person, latent, &stability);
	if (noise < 0)
		noise = 0;
	/* the terminal sees this capture's noise, not how stable the palm is */
	level = noise * exp(NOISE_JITTER * splitmix_gauss(rng));
	sigma = NOISE_SIGMA * level * stability;
	for (int i = 0; i < SIM_PALM_DIM; i++)
		out[i] = quantise(latent[i] + sigma * splitmix_gauss(rng));
	if (quality != NULL)
		*quality = quality_of(level);
	hwg_wipe(latent, sizeof(latent));
}
