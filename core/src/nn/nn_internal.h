/* nn_internal.h - helpers shared by the kernel files of core/src/nn. */
#ifndef NC_NN_INTERNAL_H
#define NC_NN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nascaps/error.h"

/* Refuses a workspace shorter than need bytes, naming the kernel. */
int nc_nn_check_ws(const char *kernel, size_t have, size_t need,
                   nc_error *err);
/* a*b (and a*b*c) with overflow to SIZE_MAX, which every check refuses. */
size_t nc_nn_mul(size_t a, size_t b);
size_t nc_nn_mul3(size_t a, size_t b, size_t c);
/* Refuses an int size < 1, naming kernel and argument. */
int nc_nn_check_dim(const char *kernel, const char *what, int64_t v,
                    nc_error *err);

/* Squash of one capsule, and its exact gradient (nascaps/nn.h). */
void nc_nn_squash_one(int dim, const float *s, float *v);
void nc_nn_squash_one_backward(int dim, const float *s, const float *dv,
                               float *ds);

/* Short vector loops written as fixed blocks of 8, which gcc's -O2
 * vectoriser (no epilogue allowed) turns into SIMD; capsule dims are 4-32,
 * so these carry the routing and votes kernels. The arrays must not
 * overlap. */
static inline void nc_nn_axpy(size_t n, float a, const float *restrict x,
                              float *restrict y)
{
    size_t e = 0;
    for (; e + 8 <= n; e += 8)
        for (int k = 0; k < 8; k++)
            y[e + k] += a * x[e + k];
    for (; e < n; e++)
        y[e] += a * x[e];
}

/* y = a x */
static inline void nc_nn_scale(size_t n, float a, const float *restrict x,
                               float *restrict y)
{
    size_t e = 0;
    for (; e + 8 <= n; e += 8)
        for (int k = 0; k < 8; k++)
            y[e + k] = a * x[e + k];
    for (; e < n; e++)
        y[e] = a * x[e];
}

static inline float nc_nn_dot(size_t n, const float *restrict x,
                              const float *restrict y)
{
    float acc[8] = { 0 };
    size_t e = 0;
    for (; e + 8 <= n; e += 8)
        for (int k = 0; k < 8; k++)
            acc[k] += x[e + k] * y[e + k];
    float s = 0.0f;
    for (; e < n; e++)
        s += x[e] * y[e];
    for (int k = 0; k < 8; k++)
        s += acc[k];
    return s;
}

/* p1 += u, p2 += u .* v over n (the partial sums of batch norm). */
static inline void nc_nn_axpy_mul(size_t n, const float *restrict u,
                                  const float *restrict v,
                                  float *restrict p1, float *restrict p2)
{
    size_t e = 0;
    for (; e + 8 <= n; e += 8)
        for (int k = 0; k < 8; k++) {
            p1[e + k] += u[e + k];
            p2[e + k] += u[e + k] * v[e + k];
        }
    for (; e < n; e++) {
        p1[e] += u[e];
        p2[e] += u[e] * v[e];
    }
}

/* y = a .* x + b, element-wise over n (per-channel coefficients). y may
 * equal x: each block is loaded into locals before it is stored. */
static inline void nc_nn_affine(size_t n, const float *a, const float *x,
                                const float *b, float *y)
{
    size_t e = 0;
    for (; e + 8 <= n; e += 8) {
        float t[8];
        for (int k = 0; k < 8; k++)
            t[k] = a[e + k] * x[e + k] + b[e + k];
        for (int k = 0; k < 8; k++)
            y[e + k] = t[k];
    }
    for (; e < n; e++)
        y[e] = a[e] * x[e] + b[e];
}

#endif
