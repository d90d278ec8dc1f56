/* capsinit.c - analytic initialisation scales of capsule layers
 * (nascaps/nn.h): the squashed energy of a capsule and the first routing
 * iteration's energy that leaves the last one at a target. */
#include <math.h>

#include "nascaps/nn.h"

/* E[(q / (1 + q))^2] for q = |s|^2 ~ Gamma(dim/2, scale 2/dim) (a scaled
 * chi-square of mean 1), integrated by Simpson's rule over x = sqrt(q),
 * where the integrand is smooth for every dim (the density's q^(dim/2-1)
 * meets the q^2 of the squash). */
double nc_init_squashed_sq(int dim)
{
    if (dim < 1)
        dim = 1;
    const double k = 0.5 * dim, theta = 2.0 / dim;
    const double log_norm = -lgamma(k) - k * log(theta);
    const double x_max = sqrt(1.0 + 60.0 * sqrt(2.0 / dim) + 60.0 * theta);
    const int steps = 4000;   /* even */
    const double h = x_max / steps;
    double acc = 0.0;
    for (int i = 1; i <= steps; i++) {
        double x = i * h, q = x * x, r = q / (1.0 + q);
        double f = 2.0 * x * exp(log_norm + (k - 1.0) * log(q) - q / theta) * r * r;
        acc += f * (i == steps ? 1.0 : i % 2 ? 4.0 : 2.0);
    }
    return acc * h / 3.0;   /* the integrand is 0 at x = 0 */
}

/* |s| after `iters` iterations of the linearised routing when the first has
 * |s0|^2 = t0: |s_r| = |s0| + g sum_{r' < r} |v_r'|, g = (J - 1) t0 / D. */
static double routed_len(double t0, double gain, int iters)
{
    double s0 = sqrt(t0), s = s0, acc = 0.0;
    for (int r = 1; r < iters; r++) {
        acc += s * s / (1.0 + s * s);
        s = s0 + gain * t0 * acc;
    }
    return s;
}

double nc_routing_init_sq(int out_caps, int dim, int iters, double target)
{
    if (target <= 0.0 || iters <= 1 || out_caps <= 1 || dim < 1)
        return target > 0.0 ? target : 0.0;
    double gain = (double)(out_caps - 1) / dim, want = sqrt(target), lo = 0.0, hi = target;
    /* routed_len grows with t0 and routed_len(target) >= sqrt(target) */
    for (int i = 0; i < 60; i++) {
        double mid = 0.5 * (lo + hi);
        if (routed_len(mid, gain, iters) < want)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}
