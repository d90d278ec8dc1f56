/* test_nn_common.h - helpers shared by the test_nn_* kernel tests: random
 * tensors and central finite-difference gradient checks. */
#ifndef TEST_NN_COMMON_H
#define TEST_NN_COMMON_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nascaps/nn.h"
#include "nascaps/rng.h"
#include "nc_test.h"

/* An objective: a scalar of the kernel's current inputs (held in ctx). */
typedef double (*nn_objective)(void *ctx);

static inline void nn_fill(float *a, size_t n, nc_rng *rng, double lo,
                           double hi)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (float)(lo + (hi - lo) * nc_rng_uniform(rng));
}

static inline void nn_fill_d(double *a, size_t n, nc_rng *rng, double lo,
                             double hi)
{
    for (size_t i = 0; i < n; i++)
        a[i] = lo + (hi - lo) * nc_rng_uniform(rng);
}

static inline void *nn_alloc(size_t bytes)
{
    void *p = calloc(1, bytes ? bytes : 1);
    assert_non_null(p);
    return p;
}

/* sum_i y[i] * r[i] in double: the projection every gradient test uses. */
static inline double nn_proj(const float *y, const double *r, size_t n)
{
    double acc = 0.0;
    for (size_t i = 0; i < n; i++)
        acc += y[i] * r[i];
    return acc;
}

static inline int nn_close(double got, double want, double rtol, double atol)
{
    double m = fabs(got) > fabs(want) ? fabs(got) : fabs(want);
    return fabs(got - want) <= atol + rtol * m;
}

/* Compares the analytic gradient g of f with central differences over x
 * (perturbed by +-h in place, then restored); fails the test, naming the
 * first bad element. Checks every element when n <= max_checks, else a
 * strided sample of about max_checks of them. */
static inline void nn_check_grad(const char *what, nn_objective f, void *ctx,
                                 float *x, const float *g, size_t n, float h,
                                 double rtol, double atol, size_t max_checks)
{
    size_t step = n <= max_checks ? 1 : n / max_checks;
    for (size_t i = 0; i < n; i += step) {
        float keep = x[i];
        x[i] = keep + h;
        volatile float up = x[i];
        double fp = f(ctx);
        x[i] = keep - h;
        volatile float dn = x[i];
        double fm = f(ctx);
        x[i] = keep;
        double fd = (fp - fm) / ((double)up - (double)dn);
        if (!nn_close(g[i], fd, rtol, atol))
            fail_msg("%s: gradient[%zu] = %.8g, finite difference %.8g", what,
                     i, (double)g[i], fd);
    }
}

/* The same over a double input x of a double reference objective. */
static inline void nn_check_grad_d(const char *what, nn_objective f, void *ctx,
                                   double *x, const float *g, size_t n,
                                   double h, double rtol, double atol)
{
    for (size_t i = 0; i < n; i++) {
        double keep = x[i];
        x[i] = keep + h;
        double fp = f(ctx);
        x[i] = keep - h;
        double fm = f(ctx);
        x[i] = keep;
        double fd = (fp - fm) / (2.0 * h);
        if (!nn_close(g[i], fd, rtol, atol))
            fail_msg("%s: gradient[%zu] = %.8g, finite difference %.8g", what,
                     i, (double)g[i], fd);
    }
}

static inline void nn_to_float(const double *a, float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (float)a[i];
}

/* max |a - b| over n, with a float and b double. */
static inline double nn_maxdiff(const float *a, const double *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        m = d > m ? d : m;
    }
    return m;
}

#endif
