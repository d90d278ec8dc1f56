/* nascaps/stats.h - the statistics of `nascaps correlate` (docs/CORRELATE.md):
 * Pearson and Spearman correlation, Fisher's confidence interval, the
 * median. Undefined results are NaN (the callers print "n/a" and leave CSV
 * fields empty); only nc_spearman allocates. */
#ifndef NASCAPS_STATS_H
#define NASCAPS_STATS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Pearson's r of n pairs (two-pass, centred sums); NaN when n < 2, when
 * either series is constant, or a value is not finite. Clamped to
 * [-1, 1] against rounding. */
double nc_pearson(const double *x, const double *y, size_t n);

/* Ranks 1..n of x, ties sharing the average of their ranks (1, 2.5, 2.5,
 * 4). scratch holds 2n entries. */
void nc_ranks(const double *x, size_t n, size_t *scratch, double *ranks);

/* Spearman's rho: Pearson's r of the average ranks (so exact with ties).
 * NaN when undefined as nc_pearson, or when out of memory. */
double nc_spearman(const double *x, const double *y, size_t n);

/* The 1 - alpha confidence interval of a correlation r over n pairs by
 * Fisher's z: z = atanh(r), se = 1 / sqrt(n - 3), [tanh(z - q se),
 * tanh(z + q se)] with q the normal quantile (1.96 for 95 %). NaN bounds
 * when n < 4 or r is NaN; r = +-1 gives [r, r]. */
void nc_fisher_ci(double r, size_t n, double q, double *lo, double *hi);

/* Median of n values (the mean of the middle two for even n); sorts x in
 * place. NaN when n = 0. */
double nc_median(double *x, size_t n);

#ifdef __cplusplus
}
#endif
#endif
