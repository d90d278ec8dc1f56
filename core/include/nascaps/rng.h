/* nascaps/rng.h - the seeded random number generator.
 *
 * xoshiro256** seeded through splitmix64. There is no global generator:
 * a run owns one, seeded from the pipeline's `seed`, and derives child
 * generators (per candidate, per purpose) with nc_rng_derive() so that
 * redoing one piece of work redoes it exactly. */
#ifndef NASCAPS_RNG_H
#define NASCAPS_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nc_rng {
    uint64_t s[4];
} nc_rng;

void nc_rng_seed(nc_rng *rng, uint64_t seed);
/* Seeds from (seed, salt): the same pair always gives the same stream,
 * e.g. (run seed, canonical genotype) for a candidate's training. */
void nc_rng_derive(nc_rng *rng, uint64_t seed, const char *salt);
uint64_t nc_rng_next(nc_rng *rng);
/* Uniform in [0, 1). */
double nc_rng_uniform(nc_rng *rng);
/* Uniform integer in [lo, hi] (inclusive, lo <= hi), without modulo bias. */
int64_t nc_rng_range(nc_rng *rng, int64_t lo, int64_t hi);
/* Standard normal (Box-Muller). */
double nc_rng_normal(nc_rng *rng);
/* Fisher-Yates shuffle of n ints. */
void nc_rng_shuffle_int(nc_rng *rng, int *a, size_t n);

/* 64-bit FNV-1a hash, for ids and cache keys (stable across machines). */
uint64_t nc_hash64(const void *data, size_t len);
/* Writes the 16 lowercase hex digits of h into buf (>= 17 bytes). */
void nc_hash64_hex(uint64_t h, char *buf);

#ifdef __cplusplus
}
#endif
#endif
