/* stats.c - correlation statistics for `nascaps correlate`. Sums are
 * centred (two passes) so accuracies near each other (0.91 .. 0.92) keep
 * their digits. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "nascaps/stats.h"

double nc_pearson(const double *x, const double *y, size_t n)
{
    if (n < 2)
        return NAN;
    double mx = 0.0, my = 0.0;
    int x_varies = 0, y_varies = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return NAN;
        mx += x[i];
        my += y[i];
        x_varies |= x[i] != x[0];
        y_varies |= y[i] != y[0];
    }
    /* tested on the values: the mean of equal values need not equal them
     * (3 x 0.1), which would leave a tiny variance and a meaningless r */
    if (!x_varies || !y_varies)
        return NAN;
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if (!(sxx > 0.0) || !(syy > 0.0))
        return NAN;
    double r = sxy / sqrt(sxx * syy);
    return r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
}

/* qsort has no context argument: sort indices by value in a merge sort
 * of our own (stable, so equal values keep their order). */
static void sort_idx(const double *x, size_t *idx, size_t *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_idx(x, idx, tmp, h);
    sort_idx(x, idx + h, tmp, n - h);
    size_t a = 0, b = h, k = 0;
    while (a < h && b < n)
        tmp[k++] = x[idx[b]] < x[idx[a]] ? idx[b++] : idx[a++];
    while (a < h)
        tmp[k++] = idx[a++];
    while (b < n)
        tmp[k++] = idx[b++];
    for (size_t i = 0; i < n; i++)
        idx[i] = tmp[i];
}

void nc_ranks(const double *x, size_t n, size_t *scratch, double *ranks)
{
    size_t *idx = scratch;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    sort_idx(x, idx, scratch + n, n);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && x[idx[j]] == x[idx[i]])
            j++;
        /* positions i..j-1 hold equal values: ranks i+1..j, averaged */
        double avg = 0.5 * (double)(i + 1 + j);
        for (size_t k = i; k < j; k++)
            ranks[idx[k]] = avg;
        i = j;
    }
}

double nc_spearman(const double *x, const double *y, size_t n)
{
    if (n < 2 || n > SIZE_MAX / (2 * sizeof(double) + 2 * sizeof(size_t)))
        return NAN;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return NAN;
    double *rx = malloc(2 * n * sizeof *rx);
    size_t *idx = malloc(2 * n * sizeof *idx);
    double rho = NAN;
    if (rx && idx) {
        nc_ranks(x, n, idx, rx);
        nc_ranks(y, n, idx, rx + n);
        rho = nc_pearson(rx, rx + n, n);
    }
    free(rx);
    free(idx);
    return rho;
}

void nc_fisher_ci(double r, size_t n, double q, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (n < 4 || !isfinite(r))
        return;
    if (r >= 1.0 || r <= -1.0) {
        *lo = *hi = r;
        return;
    }
    double z = atanh(r), se = 1.0 / sqrt((double)(n - 3));
    *lo = tanh(z - q * se);
    *hi = tanh(z + q * se);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double nc_median(double *x, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(x, n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}
