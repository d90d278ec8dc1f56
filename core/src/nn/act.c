/* act.c - element-wise activations, softmax and the capsule squash. */
#include <math.h>

#include "nascaps/nn.h"
#include "nn/nn_internal.h"

/* Blocks of 8, loaded into locals first, so the -O2 vectoriser turns the
 * selects into SIMD even though y may alias x (a branch per element
 * mispredicts half the time on activations). */
void nc_relu_forward(size_t n, const float *x, float *y)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float t[8];
        for (int k = 0; k < 8; k++)
            t[k] = x[i + k];
        for (int k = 0; k < 8; k++)
            y[i + k] = t[k] > 0.0f ? t[k] : 0.0f;
    }
    for (; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void nc_relu_backward(size_t n, const float *y, const float *dy, float *dx)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float t[8], g[8];
        for (int k = 0; k < 8; k++) {
            t[k] = y[i + k];
            g[k] = dy[i + k];
        }
        for (int k = 0; k < 8; k++)
            dx[i + k] = t[k] > 0.0f ? g[k] : 0.0f;
    }
    for (; i < n; i++)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

void nc_sigmoid_forward(size_t n, const float *x, float *y)
{
    /* written so exp never overflows: both branches take exp(-|x|) */
    for (size_t i = 0; i < n; i++) {
        float e = expf(-fabsf(x[i]));
        y[i] = x[i] >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
    }
}

void nc_sigmoid_backward(size_t n, const float *y, const float *dy, float *dx)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

void nc_softmax_forward(size_t rows, size_t cols, const float *x, float *y)
{
    for (size_t r = 0; r < rows; r++, x += cols, y += cols) {
        float mx = x[0];
        for (size_t j = 1; j < cols; j++)
            mx = x[j] > mx ? x[j] : mx;
        double sum = 0.0;
        for (size_t j = 0; j < cols; j++) {
            y[j] = expf(x[j] - mx);
            sum += y[j];
        }
        float inv = (float)(1.0 / sum);
        for (size_t j = 0; j < cols; j++)
            y[j] *= inv;
    }
}

void nc_softmax_backward(size_t rows, size_t cols, const float *y,
                         const float *dy, float *dx)
{
    for (size_t r = 0; r < rows; r++, y += cols, dy += cols, dx += cols) {
        double dot = 0.0;
        for (size_t j = 0; j < cols; j++)
            dot += (double)y[j] * dy[j];
        for (size_t j = 0; j < cols; j++)
            dx[j] = y[j] * (dy[j] - (float)dot);
    }
}

/* With q = |s|^2 and r = sqrt(q + eps): v = f(q) s, f = q / ((1 + q) r).
 * The scalars are formed in double: q of a tiny capsule (1e-10 and below at
 * initialisation) keeps its precision. */
void nc_nn_squash_one(int dim, const float *s, float *v)
{
    double q = 0.0;
    for (int d = 0; d < dim; d++)
        q += (double)s[d] * s[d];
    float f = (float)(q / ((1.0 + q) * sqrt(q + NC_SQUASH_EPS)));
    for (int d = 0; d < dim; d++)
        v[d] = f * s[d];
}

/* ds = f dv + 2 f'(q) (s . dv) s with
 * f'(q) = (1 / (1 + q) - q / (2 (q + eps))) / ((1 + q) r). */
void nc_nn_squash_one_backward(int dim, const float *s, const float *dv,
                               float *ds)
{
    double q = 0.0, sd = 0.0;
    for (int d = 0; d < dim; d++) {
        q += (double)s[d] * s[d];
        sd += (double)s[d] * dv[d];
    }
    double r = sqrt(q + NC_SQUASH_EPS);
    double f = q / ((1.0 + q) * r);
    double fp = (1.0 / (1.0 + q) - q / (2.0 * (q + NC_SQUASH_EPS))) /
                ((1.0 + q) * r);
    float a = (float)f, b = (float)(2.0 * fp * sd);
    for (int d = 0; d < dim; d++)
        ds[d] = a * dv[d] + b * s[d];
}

void nc_squash_forward(size_t n_caps, int dim, const float *s, float *v)
{
    for (size_t i = 0; i < n_caps; i++)
        nc_nn_squash_one(dim, s + i * (size_t)dim, v + i * (size_t)dim);
}

void nc_squash_backward(size_t n_caps, int dim, const float *s,
                        const float *dv, float *ds)
{
    for (size_t i = 0; i < n_caps; i++)
        nc_nn_squash_one_backward(dim, s + i * (size_t)dim,
                                  dv + i * (size_t)dim, ds + i * (size_t)dim);
}

void nc_caps_lengths(size_t n_caps, int dim, const float *v, float *len)
{
    for (size_t i = 0; i < n_caps; i++, v += dim) {
        double q = 0.0;
        for (int d = 0; d < dim; d++)
            q += (double)v[d] * v[d];
        len[i] = (float)sqrt(q + NC_SQUASH_EPS);
    }
}
