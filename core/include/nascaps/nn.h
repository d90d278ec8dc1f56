/* nascaps/nn.h - numeric kernels of the training engine.
 *
 * The layer plugins (conv, caps, capscell, flatcaps) build their forward and
 * backward passes from these kernels so every layer shares one tested,
 * GEMM-based implementation. docs/KERNELS.md describes each kernel in full.
 *
 * Conventions shared by every kernel:
 * - float32 data. Activations are NHWC; a capsule tensor [N, H, W, ch, dim]
 *   is contiguous with dim fastest, i.e. an NHWC tensor of ch*dim channels.
 * - Parameter gradients (dw, dbias, dgamma, dbeta) ACCUMULATE (+=): the
 *   trainer zeroes them once per step, so a layer applied several times, or
 *   a batch processed in pieces, sums naturally. Input gradients (dx, du,
 *   duhat, ds, ...) are OVERWRITTEN. A NULL gradient pointer skips that
 *   gradient where the prototype says "may be NULL".
 * - Kernels never allocate. Scratch memory is a caller-provided workspace of
 *   ws_bytes bytes, aligned for double (malloc is enough); *_workspace()
 *   returns the bytes a kernel needs, and kernels refuse a shorter one with
 *   NC_ERR_INPUT. A network allocates the largest workspace once, at build.
 * - A layer lays out its parameter block and its workspace once, at plan
 *   time, with the bump allocator below (nc_nn_take): offsets in
 *   floats from the start of the buffer, each region starting on a multiple
 *   of NC_NN_ALIGN_FLOATS floats (64 bytes: a cache line, one AVX-512
 *   vector), the buffer's size the final top. The layer owns the buffer.
 * - GEMMs run through OpenBLAS and use its threads (nc_nn_set_threads); the
 *   other kernels are single-threaded and memory-bound.
 * - Kernels that can fail return an nc_status and write one line into err;
 *   kernels that cannot fail (element-wise ones) return void.
 * - Sizes given as int must lie in [1, INT_MAX]; products are checked
 *   against overflow (OpenBLAS takes int dimensions). */
#ifndef NASCAPS_NN_H
#define NASCAPS_NN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* OpenBLAS threads used by the GEMMs (process-wide, as OpenBLAS is). */
void nc_nn_set_threads(int threads);
int nc_nn_threads(void);

/* ---- Bump allocator for layer blocks and workspaces ---------------------
 * Counts in floats. A layer starts a top at 0 (or past a scratch region it
 * reserved by hand), takes each region in turn and allocates top floats at
 * the end; nothing is ever freed separately. Regions of 0 floats take no
 * space (their offset is the current top). */
#define NC_NN_ALIGN_FLOATS 16
/* floats rounded up to a multiple of NC_NN_ALIGN_FLOATS; 0 when that
 * overflows size_t. */
size_t nc_nn_align_floats(size_t floats);
/* Reserves count floats (rounded up) at *top: *off = *top, *top advances.
 * Returns 1, or 0 on size_t overflow, leaving *top and *off unchanged. */
int nc_nn_take(size_t *top, size_t count, size_t *off);

/* ---- 2-D convolution, 'same' padding ------------------------------------
 * out = ceil(in / stride); pad_total = max((out-1)*stride + k - in, 0),
 * pad_top/left = pad_total / 2 (TensorFlow's 'same': the odd pixel goes to
 * the bottom/right). Weights w are [k, k, in_c, out_c] (HWIO), i.e. a
 * row-major [k*k*in_c, out_c] matrix; bias is [out_c]. x is
 * [n, in_h, in_w, in_c], y is [n, out_h, out_w, out_c]. The kernels im2col
 * `chunk` images at a time and run one sgemm per chunk (a 1x1 stride-1
 * conv needs no im2col and multiplies the activations directly). */
typedef struct nc_conv2d {
    int in_h, in_w, in_c;
    int out_h, out_w, out_c;
    int k, stride;
    int pad_top, pad_left;
    int chunk;        /* images per im2col + GEMM */
    int direct;       /* 1: 1x1 stride 1, no im2col */
    int64_t rows;     /* out_h * out_w: GEMM rows per image */
    int64_t cols;     /* k * k * in_c: GEMM depth */
} nc_conv2d;

/* chunk 0 picks a default (about 1024 GEMM rows per chunk, im2col buffer at
 * most 64 MiB). Checks sizes (>= 1, <= 65536 each) and overflow. */
int nc_conv2d_init(nc_conv2d *c, int in_h, int in_w, int in_c, int out_c,
                   int k, int stride, int chunk, nc_error *err);
size_t nc_conv2d_workspace(const nc_conv2d *c);
/* Forward multiply-accumulates of one image. */
int64_t nc_conv2d_macs(const nc_conv2d *c);
/* bias may be NULL. */
int nc_conv2d_forward(const nc_conv2d *c, int n, const float *x,
                      const float *w, const float *bias, float *y,
                      void *ws, size_t ws_bytes, nc_error *err);
/* dx, dw and dbias may be NULL. */
int nc_conv2d_backward(const nc_conv2d *c, int n, const float *x,
                       const float *w, const float *dy, float *dx, float *dw,
                       float *dbias, void *ws, size_t ws_bytes,
                       nc_error *err);

/* ---- 2-D transposed convolution ----------------------------------------
 * The adjoint of the 'same' convolution that maps [out_h, out_w, out_c] to
 * [in_h, in_w, in_c] with the same k and stride; out = in * stride (as
 * TensorFlow's conv2d_transpose with padding 'same'). Weights w are
 * [k, k, out_c, in_c]; bias [out_c]. */
typedef struct nc_tconv2d {
    int in_h, in_w, in_c;
    int out_h, out_w, out_c;
    int k, stride;
    nc_conv2d adj;    /* the convolution this one is the adjoint of */
} nc_tconv2d;

int nc_tconv2d_init(nc_tconv2d *t, int in_h, int in_w, int in_c, int out_c,
                    int k, int stride, int chunk, nc_error *err);
size_t nc_tconv2d_workspace(const nc_tconv2d *t);
int64_t nc_tconv2d_macs(const nc_tconv2d *t);
int nc_tconv2d_forward(const nc_tconv2d *t, int n, const float *x,
                       const float *w, const float *bias, float *y,
                       void *ws, size_t ws_bytes, nc_error *err);
int nc_tconv2d_backward(const nc_tconv2d *t, int n, const float *x,
                        const float *w, const float *dy, float *dx, float *dw,
                        float *dbias, void *ws, size_t ws_bytes,
                        nc_error *err);

/* ---- Batch normalisation over channels ---------------------------------
 * x is [rows, channels] (rows = N*H*W of an NHWC tensor). Training mode
 * normalises with the batch mean and biased variance, saves mean and
 * 1/sqrt(var + eps) for the backward pass, and updates the running stats
 * running = momentum * running + (1 - momentum) * batch (Keras convention,
 * momentum 0.99 typical), the running variance with the unbiased batch
 * variance. Evaluation mode uses the running stats. y may equal x in
 * evaluation mode; in training mode the backward pass needs x, so keep it. */
#define NC_BN_EPS 1e-3f
#define NC_BN_MOMENTUM 0.99f
size_t nc_batchnorm_workspace(int channels);
int nc_batchnorm_forward_train(int64_t rows, int channels, const float *x,
                               const float *gamma, const float *beta,
                               float momentum, float eps,
                               float *running_mean, float *running_var,
                               float *save_mean, float *save_invstd,
                               float *y, void *ws, size_t ws_bytes,
                               nc_error *err);
void nc_batchnorm_forward_eval(int64_t rows, int channels, const float *x,
                               const float *gamma, const float *beta,
                               float eps, const float *running_mean,
                               const float *running_var, float *y);
/* Backward of the training-mode forward. dx, dgamma, dbeta may be NULL. */
int nc_batchnorm_backward(int64_t rows, int channels, const float *x,
                          const float *gamma, const float *save_mean,
                          const float *save_invstd, const float *dy,
                          float *dx, float *dgamma, float *dbeta, void *ws,
                          size_t ws_bytes, nc_error *err);

/* ---- Element-wise activations and softmax ------------------------------
 * All allow in-place use (y == x, dx == dy). The backward passes take the
 * forward OUTPUT y. */
void nc_relu_forward(size_t n, const float *x, float *y);
void nc_relu_backward(size_t n, const float *y, const float *dy, float *dx);
void nc_sigmoid_forward(size_t n, const float *x, float *y);
void nc_sigmoid_backward(size_t n, const float *y, const float *dy,
                         float *dx);
/* Row-wise over [rows, cols], max-subtracted. */
void nc_softmax_forward(size_t rows, size_t cols, const float *x, float *y);
void nc_softmax_backward(size_t rows, size_t cols, const float *y,
                         const float *dy, float *dx);

/* ---- Dense layer: y[n, out] = x[n, in] w[in, out] + b[out] -------------- */
int nc_dense_forward(int n, int in, int out, const float *x, const float *w,
                     const float *b, float *y, nc_error *err);
/* dx, dw, db may be NULL. */
int nc_dense_backward(int n, int in, int out, const float *x, const float *w,
                      const float *dy, float *dx, float *dw, float *db,
                      nc_error *err);

/* ---- Capsules ------------------------------------------------------------
 * squash(s) = |s|^2 / (1 + |s|^2) * s / |s|, computed as
 * s * q / ((1 + q) * sqrt(q + NC_SQUASH_EPS)) with q = |s|^2, which is
 * smooth at s = 0; the backward pass is the exact gradient of that formula.
 * n_caps capsules of dim elements each, contiguous. ds may equal dv. */
#define NC_SQUASH_EPS 1e-12
void nc_squash_forward(size_t n_caps, int dim, const float *s, float *v);
void nc_squash_backward(size_t n_caps, int dim, const float *s,
                        const float *dv, float *ds);
/* len[i] = sqrt(|v_i|^2 + NC_SQUASH_EPS). */
void nc_caps_lengths(size_t n_caps, int dim, const float *v, float *len);

/* Class-capsule votes u_hat[b][i][j] = u[b][i] W[i][j].
 * u [batch, in_caps, in_dim]; w [in_caps, in_dim, out_caps * out_dim] (for
 * each input capsule i, one [in_dim, out_caps*out_dim] matrix: all classes'
 * W_ij side by side); uhat [batch, in_caps, out_caps, out_dim]. One sgemm per
 * input capsule i over the whole batch (strided views, no copies). */
int nc_caps_votes_forward(int batch, int in_caps, int in_dim, int out_caps,
                          int out_dim, const float *u, const float *w,
                          float *uhat, nc_error *err);
/* du and dw may be NULL. */
int nc_caps_votes_backward(int batch, int in_caps, int in_dim, int out_caps,
                           int out_dim, const float *u, const float *w,
                           const float *duhat, float *du, float *dw,
                           nc_error *err);

/* Dynamic routing (Sabour et al. 2017), independently in each of `groups`
 * groups (the batch for class capsules; batch * positions for the 3-D
 * capsule layer, which routes at each position over input types):
 *   b = 0; for r in 0..iters-1: c_i = softmax_j(b_i);
 *   s_j = sum_i c_ij uhat_ij (+ bias_j); v_j = squash(s_j);
 *   if r < iters-1: b_ij += uhat_ij . v_j
 * uhat [groups, in_caps, out_caps, dim]; bias [out_caps, dim] or NULL;
 * v [groups, out_caps, dim]. The backward pass differentiates through every
 * iteration (no stop-gradient), from the per-iteration c, s, v kept in
 * `cache` (nc_routing_cache_floats floats; NULL when no backward follows). */
typedef struct nc_routing {
    int in_caps, out_caps, dim, iters;
} nc_routing;

int nc_routing_init(nc_routing *r, int in_caps, int out_caps, int dim,
                    int iters, nc_error *err);
/* 0 on overflow. */
size_t nc_routing_cache_floats(const nc_routing *r, int64_t groups);
size_t nc_routing_workspace(const nc_routing *r);
int nc_routing_forward(const nc_routing *r, int64_t groups, const float *uhat,
                       const float *bias, float *v, float *cache,
                       size_t cache_floats, void *ws, size_t ws_bytes,
                       nc_error *err);
/* duhat is overwritten; dbias (may be NULL) accumulates. */
int nc_routing_backward(const nc_routing *r, int64_t groups,
                        const float *uhat, const float *cache,
                        size_t cache_floats, const float *dv, float *duhat,
                        float *dbias, void *ws, size_t ws_bytes,
                        nc_error *err);

/* ---- Losses ----------------------------------------------------------------
 * Margin loss on capsule lengths |v_k| (nc_caps_lengths):
 *   L = 1/batch sum_b sum_k T_bk max(0, m+ - |v_k|)^2
 *                       + lambda (1 - T_bk) max(0, |v_k| - m-)^2
 * v [batch, classes, dim]; labels [batch] in [0, classes). *loss is L and
 * dv (may be NULL) its gradient, overwritten. */
#define NC_MARGIN_M_PLUS 0.9
#define NC_MARGIN_M_MINUS 0.1
#define NC_MARGIN_LAMBDA 0.5
int nc_margin_loss(int batch, int classes, int dim, const float *v,
                   const int *labels, float *dv, double *loss,
                   nc_error *err);
/* Reconstruction loss: weight * mean over all n elements of
 * (pred - target)^2 (Keras 'mse' over pixels averaged over the batch, so
 * the release's weight 0.392 applies unchanged). dpred (may be NULL) gets
 * its gradient, overwritten. */
double nc_mse_loss(size_t n, const float *pred, const float *target,
                   float weight, float *dpred);

/* ---- Adam ------------------------------------------------------------------
 * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), t >= 1 the
 * 1-based step count. lr is per call: the trainer applies its decay. */
#define NC_ADAM_BETA1 0.9f
#define NC_ADAM_BETA2 0.999f
#define NC_ADAM_EPS 1e-7f
typedef struct nc_adam_cfg {
    float beta1, beta2, eps;
} nc_adam_cfg;
/* cfg NULL: the defaults above. */
void nc_adam_step(size_t n, float *param, const float *grad, float *m,
                  float *v, float lr, int64_t t, const nc_adam_cfg *cfg);

/* ---- Initialisers ----------------------------------------------------------
 * For a convolution fan_in = k*k*in_c and fan_out = k*k*out_c (Keras). */
/* Uniform in [-a, a], a = sqrt(6 / (fan_in + fan_out)). */
void nc_init_glorot_uniform(float *w, size_t n, int64_t fan_in,
                            int64_t fan_out, nc_rng *rng);
/* Normal with standard deviation sqrt(2 / fan_in). */
void nc_init_he_normal(float *w, size_t n, int64_t fan_in, nc_rng *rng);
/* Uniform in [-a, a], a = sqrt(6 / fan_in). */
void nc_init_he_uniform(float *w, size_t n, int64_t fan_in, nc_rng *rng);

/* ---- Capsule initialisation scales (capsinit.c) ----------------------------
 * Squash shrinks a short capsule quadratically, so capsule layers pick their
 * weight scale for a target pre-squash energy E|s|^2 (about 1: length ~0.45
 * after the squash). These two numbers let a layer do it analytically. */
/* E|squash(s)|^2 for s Gaussian of dimension dim with E|s|^2 = 1 (by
 * quadrature: 0.188 at dim 1, 0.227 at 4, 0.243 at 16), i.e. the energy a
 * squashed input capsule brings to the next layer. */
double nc_init_squashed_sq(int dim);
/* The E|s|^2 the FIRST routing iteration should have (the votes scaled for
 * it) so that after `iters` iterations E|s_j|^2 is about `target`, for
 * routing from many independent inputs to out_caps capsules of dim dim:
 * each agreement step adds about (out_caps - 1) t0 / dim times the sum of
 * the earlier v_j to s_j (the linearised softmax), so routing alone grows
 * class capsules from 0.5 to 0.85 in three iterations at J/D = 10/16. */
double nc_routing_init_sq(int out_caps, int dim, int iters, double target);

/* ---- Class-capsule layer over chunks of images (classcaps.c) ---------------
 * u [n, in_caps, in_dim] -> votes (nc_caps_votes) -> dynamic routing (with
 * bias [out_caps, out_dim] or NULL) -> v [n, out_caps, out_dim], a chunk of
 * images at a time with the chunk's votes in the workspace (about
 * chunk_bytes of them; 0: 32 MiB). The backward pass makes the votes again
 * instead of keeping them, from u and the routing cache
 * (nc_class_caps_cache_floats(c, n) floats, written by a forward with a
 * non-NULL cache). du (overwritten), dw and dbias (accumulate) may be NULL. */
typedef struct nc_class_caps {
    nc_routing rt;
    int in_dim, max_batch;
    int chunk;        /* images per votes + routing pass */
    size_t votes;     /* floats of one chunk's votes */
} nc_class_caps;

int nc_class_caps_init(nc_class_caps *c, int in_caps, int in_dim, int out_caps, int out_dim,
                       int iters, int max_batch, size_t chunk_bytes, nc_error *err);
size_t nc_class_caps_workspace(const nc_class_caps *c);
size_t nc_class_caps_cache_floats(const nc_class_caps *c, int n);
int nc_class_caps_forward(const nc_class_caps *c, int n, const float *u, const float *w,
                          const float *bias, float *v, float *cache, size_t cache_floats,
                          void *ws, size_t ws_bytes, nc_error *err);
int nc_class_caps_backward(const nc_class_caps *c, int n, const float *u, const float *w,
                           const float *cache, size_t cache_floats, const float *dv,
                           float *du, float *dw, float *dbias, void *ws, size_t ws_bytes,
                           nc_error *err);

#ifdef __cplusplus
}
#endif
#endif
