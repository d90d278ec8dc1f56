/* conv_train.c - training of type-0 genes: 'same' convolution (no bias:
 * the batch norm's beta shifts every filter), batch norm, then ReLU or the
 * identity (layers.conv.activation, formerly training.conv_activation).
 *
 * Memory: one block per layer holds the parameters, their gradients, the
 * batch-norm statistics and the pre-normalisation activations of the last
 * training forward (batch norm's backward needs its input). The backward
 * pass keeps the activation gradient in the shared workspace, so create()
 * allocates nothing per batch and forward/backward allocate nothing. */
#include <stdlib.h>
#include <string.h>

#include <nascaps/nn.h>

#include "conv_train.h"

static const char *const activations[] = {"relu", "none", NULL};

const nc_setting_spec conv_settings[] = {
    {"activation", NC_SET_STRING, "\"relu\"",
     "after batch norm: \"relu\", or \"none\" (as the original release)", 0, 0,
     0, activations, "training.conv_activation"},
    NC_SETTING_END};

#define CONV_ROLES (NC_ROLE_BIT(NC_ROLE_CONV))

enum { T_W, T_GAMMA, T_BETA, T_MEAN, T_VAR, T_COUNT };

typedef struct conv_plan {
    nc_conv2d cv;
    int max_batch, relu, index;
    size_t n_w, n_ch;       /* weights, output channels */
    size_t act;             /* max_batch * out pixels * channels */
    size_t off[T_COUNT], off_dw, off_dgamma, off_dbeta, off_smean, off_sinv, off_pre;
    size_t floats;          /* the whole block */
    size_t scratch_bytes;   /* kernel scratch at the head of the workspace */
} conv_plan;

typedef struct conv_layer {
    conv_plan p;
    float *block;
    int cached_n;           /* batch of the last training forward, 0: none */
} conv_layer;

static int conv_plan_make(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg,
                          conv_plan *p, nc_error *err)
{
    memset(p, 0, sizeof *p);
    const nc_gene *g = nc_layer_ctx_gene(ctx, CONV_ROLES, "conv", err);
    if (!g)
        return NC_ERR_INTERNAL;
    if (!cfg || cfg->max_batch < 1)
        return nc_error_set(err, NC_ERR_INPUT, "conv layer %d: max_batch %d, must be >= 1",
                            ctx->index + 1, cfg ? cfg->max_batch : 0);
    int64_t cin = (int64_t)g->inch * g->incaps, cout = (int64_t)g->outch * g->outcaps;
    if (cin > INT32_MAX || cout > INT32_MAX)
        return nc_error_set(err, NC_ERR_INPUT, "conv layer %d: %lld -> %lld channels too many",
                            ctx->index + 1, (long long)cin, (long long)cout);
    int rc = nc_conv2d_init(&p->cv, g->insize, g->insize, (int)cin, (int)cout, g->k,
                            g->stride, 0, err);
    if (rc) {
        nc_error_prefix(err, "conv layer %d", ctx->index + 1);
        return rc;
    }
    if (p->cv.out_h != g->outsize)
        return nc_error_set(err, NC_ERR_INPUT,
                            "conv layer %d: outsize %d, but insize %d stride %d gives %d",
                            ctx->index + 1, g->outsize, g->insize, g->stride, p->cv.out_h);
    p->max_batch = cfg->max_batch;
    int act_index = 0;
    const nc_section *sec = cfg->settings ? cfg->settings : nc_pipeline_section(NULL, "layers.conv");
    if ((rc = nc_setting_choice(sec, conv_settings, "activation", &act_index, err)))
        return rc;
    /* conv_relu is the ABI 1.1 field a 1.3 host always sets to 1 */
    p->relu = act_index == 0 && cfg->conv_relu != 0;
    p->index = ctx->index;
    p->n_ch = (size_t)cout;
    p->n_w = (size_t)p->cv.cols * (size_t)cout;
    size_t act;
    if (__builtin_mul_overflow((size_t)p->cv.rows * p->n_ch, (size_t)cfg->max_batch, &act))
        goto overflow;
    p->act = act;
    size_t top = 0;
    if (!nc_nn_take(&top, p->n_w, &p->off[T_W]) || !nc_nn_take(&top, p->n_w, &p->off_dw) ||
        !nc_nn_take(&top, p->n_ch, &p->off[T_GAMMA]) ||
        !nc_nn_take(&top, p->n_ch, &p->off_dgamma) ||
        !nc_nn_take(&top, p->n_ch, &p->off[T_BETA]) ||
        !nc_nn_take(&top, p->n_ch, &p->off_dbeta) ||
        !nc_nn_take(&top, p->n_ch, &p->off[T_MEAN]) ||
        !nc_nn_take(&top, p->n_ch, &p->off[T_VAR]) ||
        !nc_nn_take(&top, p->n_ch, &p->off_smean) || !nc_nn_take(&top, p->n_ch, &p->off_sinv) ||
        !nc_nn_take(&top, act, &p->off_pre) || top > SIZE_MAX / sizeof(float) / 2)
        goto overflow;
    p->floats = top;
    size_t s = nc_conv2d_workspace(&p->cv), b = nc_batchnorm_workspace((int)cout);
    p->scratch_bytes = nc_nn_align_floats((s > b ? s : b) / sizeof(float) + 1) * sizeof(float);
    if (act > (SIZE_MAX - p->scratch_bytes) / sizeof(float) / 2)
        goto overflow;
    return NC_OK;
overflow:
    return nc_error_set(err, NC_ERR_INPUT,
                        "conv layer %d: buffers for batch %d overflow (%lld pixels x %zu "
                        "channels)", ctx->index + 1, cfg->max_batch, (long long)p->cv.rows,
                        p->n_ch);
}

int64_t conv_train_bytes(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg)
{
    conv_plan p;
    nc_error err;
    if (conv_plan_make(ctx, cfg, &p, &err))
        return -1;
    return (int64_t)(sizeof(conv_layer) + p.floats * sizeof(float));
}

int conv_create(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg, nc_rng *rng,
                void **layer, nc_error *err)
{
    *layer = NULL;
    conv_plan p;
    int rc = conv_plan_make(ctx, cfg, &p, err);
    if (rc)
        return rc;
    conv_layer *l = calloc(1, sizeof *l);
    float *block = l ? calloc(p.floats, sizeof(float)) : NULL;
    if (!block) {
        free(l);
        return nc_error_set(err, NC_ERR_INTERNAL, "conv layer %d: out of memory for %zu bytes",
                            ctx->index + 1, p.floats * sizeof(float));
    }
    l->p = p;
    l->block = block;
    /* With ReLU after the normalisation He keeps the backward signal's
     * variance per layer; without it Glorot is the symmetric choice.
     * Batch norm makes the forward scale irrelevant either way. */
    int64_t k2 = (int64_t)p.cv.k * p.cv.k;
    if (p.relu)
        nc_init_he_normal(block + p.off[T_W], p.n_w, k2 * p.cv.in_c, rng);
    else
        nc_init_glorot_uniform(block + p.off[T_W], p.n_w, k2 * p.cv.in_c, k2 * p.cv.out_c,
                               rng);
    for (size_t c = 0; c < p.n_ch; c++) {
        block[p.off[T_GAMMA] + c] = 1.0f;
        block[p.off[T_VAR] + c] = 1.0f;
    }
    *layer = l;
    return NC_OK;
}

size_t conv_workspace(void *layer)
{
    const conv_layer *l = layer;
    return l->p.scratch_bytes + l->p.act * sizeof(float);
}

static int conv_check_n(const conv_layer *l, const char *what, int n, size_t ws_bytes,
                        size_t need, nc_error *err)
{
    if (n < 1 || n > l->p.max_batch)
        return nc_error_set(err, NC_ERR_INPUT, "conv layer %d %s: batch %d not in [1, %d]",
                            l->p.index + 1, what, n, l->p.max_batch);
    if (ws_bytes < need)
        return nc_error_set(err, NC_ERR_INPUT,
                            "conv layer %d %s: workspace of %zu bytes, needs %zu",
                            l->p.index + 1, what, ws_bytes, need);
    return NC_OK;
}

int conv_forward(void *layer, int n, const float *const *in, float *out, int training,
                 void *ws, size_t ws_bytes, nc_error *err)
{
    conv_layer *l = layer;
    const conv_plan *p = &l->p;
    int rc = conv_check_n(l, "forward", n, ws_bytes, p->scratch_bytes, err);
    if (rc)
        return rc;
    float *b = l->block;
    const int64_t rows = (int64_t)n * p->cv.rows;
    const size_t count = (size_t)rows * p->n_ch;
    l->cached_n = 0;
    if (training) {
        float *pre = b + p->off_pre;
        rc = nc_conv2d_forward(&p->cv, n, in[0], b + p->off[T_W], NULL, pre, ws,
                               p->scratch_bytes, err);
        if (!rc)
            rc = nc_batchnorm_forward_train(rows, (int)p->n_ch, pre, b + p->off[T_GAMMA],
                                            b + p->off[T_BETA], NC_BN_MOMENTUM, NC_BN_EPS,
                                            b + p->off[T_MEAN], b + p->off[T_VAR],
                                            b + p->off_smean, b + p->off_sinv, out, ws,
                                            p->scratch_bytes, err);
        if (rc) {
            nc_error_prefix(err, "conv layer %d", p->index + 1);
            return rc;
        }
        l->cached_n = n;
    } else {
        rc = nc_conv2d_forward(&p->cv, n, in[0], b + p->off[T_W], NULL, out, ws,
                               p->scratch_bytes, err);
        if (rc) {
            nc_error_prefix(err, "conv layer %d", p->index + 1);
            return rc;
        }
        nc_batchnorm_forward_eval(rows, (int)p->n_ch, out, b + p->off[T_GAMMA],
                                  b + p->off[T_BETA], NC_BN_EPS, b + p->off[T_MEAN],
                                  b + p->off[T_VAR], out);
    }
    if (p->relu)
        nc_relu_forward(count, out, out);
    return NC_OK;
}

int conv_backward(void *layer, int n, const float *const *in, const float *out,
                  const float *dout, float *const *din, void *ws, size_t ws_bytes,
                  nc_error *err)
{
    conv_layer *l = layer;
    const conv_plan *p = &l->p;
    int rc = conv_check_n(l, "backward", n, ws_bytes, conv_workspace(l), err);
    if (rc)
        return rc;
    if (l->cached_n != n)
        return nc_error_set(err, NC_ERR_INPUT,
                            "conv layer %d backward: batch %d, but the last training forward "
                            "saw %d", p->index + 1, n, l->cached_n);
    float *b = l->block;
    const int64_t rows = (int64_t)n * p->cv.rows;
    /* g: the gradient after ReLU, then (in place: batch norm's backward is
     * element-wise once its channel sums are taken) before batch norm */
    float *g = (float *)((char *)ws + p->scratch_bytes);
    const float *dy = dout;
    if (p->relu) {
        nc_relu_backward((size_t)rows * p->n_ch, out, dout, g);
        dy = g;
    }
    rc = nc_batchnorm_backward(rows, (int)p->n_ch, b + p->off_pre, b + p->off[T_GAMMA],
                               b + p->off_smean, b + p->off_sinv, dy, g, b + p->off_dgamma,
                               b + p->off_dbeta, ws, p->scratch_bytes, err);
    if (!rc)
        rc = nc_conv2d_backward(&p->cv, n, in[0], b + p->off[T_W], g, din ? din[0] : NULL,
                                b + p->off_dw, NULL, ws, p->scratch_bytes, err);
    if (rc) {
        nc_error_prefix(err, "conv layer %d", p->index + 1);
        return rc;
    }
    return NC_OK;
}

int conv_tensors(void *layer, nc_tensor_ref *list, int cap)
{
    conv_layer *l = layer;
    const conv_plan *p = &l->p;
    float *b = l->block;
    const nc_tensor_ref all[T_COUNT] = {
        {"w", b + p->off[T_W], b + p->off_dw, p->n_w},
        {"bn.gamma", b + p->off[T_GAMMA], b + p->off_dgamma, p->n_ch},
        {"bn.beta", b + p->off[T_BETA], b + p->off_dbeta, p->n_ch},
        {"bn.mean", b + p->off[T_MEAN], NULL, p->n_ch},
        {"bn.var", b + p->off[T_VAR], NULL, p->n_ch},
    };
    for (int i = 0; i < T_COUNT && i < cap; i++)
        list[i] = all[i];
    return T_COUNT;
}

void conv_destroy(void *layer)
{
    conv_layer *l = layer;
    if (!l)
        return;
    free(l->block);
    free(l);
}
