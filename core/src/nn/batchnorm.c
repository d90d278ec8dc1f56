/* batchnorm.c - batch normalisation over the channels of [rows, C].
 *
 * Per-channel sums are accumulated in double (rows reach 10^5 for a conv
 * layer's batch); the element passes use per-channel float coefficients
 * computed for a block of channels at a time, so every pass is one
 * streaming multiply-add over the tensor. */
#include <math.h>
#include <string.h>

#include "nascaps/nn.h"
#include "nn/nn_internal.h"

#define BN_BLOCK 256

size_t nc_batchnorm_workspace(int channels)
{
    return channels < 1 ? 0 : nc_nn_mul3(2, (size_t)channels, sizeof(double));
}

/* y = a[c] x + b[c] over the block of channels [c0, c1). */
static void affine_block(int64_t rows, int channels, int c0, int c1,
                         const float *x, const float *a, const float *b,
                         float *y)
{
    for (int64_t r = 0; r < rows; r++) {
        size_t o = (size_t)r * channels + (size_t)c0;
        nc_nn_affine((size_t)(c1 - c0), a, x + o, b, y + o);
    }
}

/* s1[c] = sum_r u[r, c], s2[c] = sum_r u[r, c] * v[r, c] (v NULL: u).
 * Float partial sums over BN_ROWS_PART rows (vectorisable, and exact
 * enough for so few terms) are added into the double totals. */
#define BN_ROWS_PART 32
static void channel_sums(int64_t rows, int channels, const float *u,
                         const float *v, double *s1, double *s2)
{
    memset(s1, 0, (size_t)channels * sizeof(double));
    memset(s2, 0, (size_t)channels * sizeof(double));
    if (!v)
        v = u;
    float p1[BN_BLOCK], p2[BN_BLOCK];
    for (int c0 = 0; c0 < channels; c0 += BN_BLOCK) {
        const int w = channels - c0 < BN_BLOCK ? channels - c0 : BN_BLOCK;
        for (int64_t r0 = 0; r0 < rows; r0 += BN_ROWS_PART) {
            int64_t r1 = r0 + BN_ROWS_PART < rows ? r0 + BN_ROWS_PART : rows;
            memset(p1, 0, sizeof p1);
            memset(p2, 0, sizeof p2);
            for (int64_t r = r0; r < r1; r++) {
                const float *ur = u + (size_t)r * channels + c0;
                const float *vr = v + (size_t)r * channels + c0;
                nc_nn_axpy_mul((size_t)w, ur, vr, p1, p2);
            }
            for (int j = 0; j < w; j++) {
                s1[c0 + j] += p1[j];
                s2[c0 + j] += p2[j];
            }
        }
    }
}

static int bn_check(const char *kernel, int64_t rows, int channels,
                    size_t ws_bytes, nc_error *err)
{
    if (nc_nn_check_dim(kernel, "rows", rows, err) ||
        nc_nn_check_dim(kernel, "channels", channels, err))
        return NC_ERR_INPUT;
    if (nc_nn_mul((size_t)rows, (size_t)channels) == SIZE_MAX)
        return nc_error_set(err, NC_ERR_INPUT, "%s: %lld x %d overflows",
                            kernel, (long long)rows, channels);
    return nc_nn_check_ws(kernel, ws_bytes, nc_batchnorm_workspace(channels),
                          err);
}

int nc_batchnorm_forward_train(int64_t rows, int channels, const float *x,
                               const float *gamma, const float *beta,
                               float momentum, float eps,
                               float *running_mean, float *running_var,
                               float *save_mean, float *save_invstd, float *y,
                               void *ws, size_t ws_bytes, nc_error *err)
{
    int rc = bn_check("batchnorm_forward_train", rows, channels, ws_bytes, err);
    if (rc)
        return rc;
    double *sum = ws, *sq = sum + channels;
    channel_sums(rows, channels, x, NULL, sum, sq);
    for (int c = 0; c < channels; c++) {
        double mean = sum[c] / (double)rows;
        double var = sq[c] / (double)rows - mean * mean;
        if (var < 0.0)
            var = 0.0;
        double unbiased = rows > 1 ? var * (double)rows / (double)(rows - 1)
                                   : var;
        save_mean[c] = (float)mean;
        save_invstd[c] = (float)(1.0 / sqrt(var + eps));
        running_mean[c] = momentum * running_mean[c] +
                          (1.0f - momentum) * (float)mean;
        running_var[c] = momentum * running_var[c] +
                         (1.0f - momentum) * (float)unbiased;
    }
    float a[BN_BLOCK], b[BN_BLOCK];
    for (int c0 = 0; c0 < channels; c0 += BN_BLOCK) {
        int c1 = c0 + BN_BLOCK < channels ? c0 + BN_BLOCK : channels;
        for (int c = c0; c < c1; c++) {
            a[c - c0] = gamma[c] * save_invstd[c];
            b[c - c0] = beta[c] - save_mean[c] * a[c - c0];
        }
        affine_block(rows, channels, c0, c1, x, a, b, y);
    }
    return NC_OK;
}

void nc_batchnorm_forward_eval(int64_t rows, int channels, const float *x,
                               const float *gamma, const float *beta,
                               float eps, const float *running_mean,
                               const float *running_var, float *y)
{
    float a[BN_BLOCK], b[BN_BLOCK];
    for (int c0 = 0; c0 < channels; c0 += BN_BLOCK) {
        int c1 = c0 + BN_BLOCK < channels ? c0 + BN_BLOCK : channels;
        for (int c = c0; c < c1; c++) {
            a[c - c0] = gamma[c] / sqrtf(running_var[c] + eps);
            b[c - c0] = beta[c] - running_mean[c] * a[c - c0];
        }
        affine_block(rows, channels, c0, c1, x, a, b, y);
    }
}

/* dx = g s (dy - mean(dy) - xhat mean(dy xhat)), xhat = (x - mu) s, which
 * is the affine map dx = A dy + B x + C per channel, applied in blocks. */
int nc_batchnorm_backward(int64_t rows, int channels, const float *x,
                          const float *gamma, const float *save_mean,
                          const float *save_invstd, const float *dy,
                          float *dx, float *dgamma, float *dbeta, void *ws,
                          size_t ws_bytes, nc_error *err)
{
    int rc = bn_check("batchnorm_backward", rows, channels, ws_bytes, err);
    if (rc)
        return rc;
    double *sdy = ws, *sdyx = sdy + channels;
    channel_sums(rows, channels, dy, x, sdy, sdyx);
    for (int c = 0; c < channels; c++) {
        /* sum dy * xhat = s * (sum dy x - mu sum dy) */
        sdyx[c] = save_invstd[c] * (sdyx[c] - save_mean[c] * sdy[c]);
        if (dgamma)
            dgamma[c] += (float)sdyx[c];
        if (dbeta)
            dbeta[c] += (float)sdy[c];
    }
    if (!dx)
        return NC_OK;
    float A[BN_BLOCK], B[BN_BLOCK], C[BN_BLOCK], tmp[BN_BLOCK];
    for (int c0 = 0; c0 < channels; c0 += BN_BLOCK) {
        int c1 = c0 + BN_BLOCK < channels ? c0 + BN_BLOCK : channels;
        for (int c = c0; c < c1; c++) {
            double s = save_invstd[c], g = gamma[c], m = (double)rows;
            double bx = -g * s * s * sdyx[c] / m;
            A[c - c0] = (float)(g * s);
            B[c - c0] = (float)bx;
            C[c - c0] = (float)(-g * s * sdy[c] / m - bx * save_mean[c]);
        }
        for (int64_t r = 0; r < rows; r++) {
            size_t o = (size_t)r * channels + (size_t)c0;
            /* dx may be dy: B x + C first, into dx only after dy is read */
            nc_nn_affine((size_t)(c1 - c0), B, x + o, C, tmp);
            nc_nn_affine((size_t)(c1 - c0), A, dy + o, tmp, dx + o);
        }
    }
    return NC_OK;
}
