/* rng.c - xoshiro256** (Blackman & Vigna) seeded through splitmix64. */
#include <math.h>
#include <string.h>

#include "nascaps/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void nc_rng_seed(nc_rng *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
}

void nc_rng_derive(nc_rng *rng, uint64_t seed, const char *salt)
{
    uint64_t h = nc_hash64(salt ? salt : "", salt ? strlen(salt) : 0);
    uint64_t x = seed;
    /* mix both through splitmix so (seed, salt) pairs that differ a little
     * give unrelated streams */
    nc_rng_seed(rng, splitmix64(&x) ^ h);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t nc_rng_next(nc_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double nc_rng_uniform(nc_rng *rng)
{
    return (double)(nc_rng_next(rng) >> 11) * 0x1.0p-53;
}

int64_t nc_rng_range(nc_rng *rng, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    uint64_t span = (uint64_t)(hi - lo) + 1;
    if (span == 0)   /* the whole 64-bit range */
        return (int64_t)nc_rng_next(rng);
    /* rejection sampling: no modulo bias */
    uint64_t limit = UINT64_MAX - UINT64_MAX % span;
    uint64_t r;
    do
        r = nc_rng_next(rng);
    while (r >= limit);
    return lo + (int64_t)(r % span);
}

double nc_rng_normal(nc_rng *rng)
{
    double u1 = nc_rng_uniform(rng), u2 = nc_rng_uniform(rng);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void nc_rng_shuffle_int(nc_rng *rng, int *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)nc_rng_range(rng, 0, (int64_t)i - 1);
        int t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

uint64_t nc_hash64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

void nc_hash64_hex(uint64_t h, char *buf)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        buf[i] = hex[h & 15];
        h >>= 4;
    }
    buf[16] = '\0';
}
