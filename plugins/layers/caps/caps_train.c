/* caps_train.c - training of type-1 genes.
 *
 * Primary/convolutional capsules: s = conv(x) + b, out = squash(s) per
 * capsule of dim outcaps; s is kept for squash's backward.
 * Class capsules: the input viewed as [N, incaps] capsules votes
 * u_hat = u W (one matrix per input capsule, all classes side by side),
 * then dynamic routing; the per-iteration routing state is kept, and the
 * backward pass differentiates through every iteration. u_hat is the big
 * tensor (CapsNet: 6272 x 160 floats an image) but costs only
 * N*incaps*classes*dim MACs to make, so it is not kept: nc_class_caps
 * works through the batch a few images at a time with u_hat and its
 * gradient in the workspace, and backward makes the votes again.
 *
 * One block per layer holds parameters, gradients and those caches; the
 * gradients flowing between stages live in the shared workspace, so
 * forward/backward allocate nothing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <nascaps/nn.h>

#include "caps_train.h"

#define CAPS_ROLES (NC_ROLE_BIT(NC_ROLE_CAPS) | NC_ROLE_BIT(NC_ROLE_CLASS_CAPS))
#define CAPS_DEFAULT_ROUTINGS 3
/* E[x^2] of a batch-normalised unit followed by ReLU (half a unit normal). */
#define CAPS_RELU_SQ 0.5
/* Pre-squash energy E|s|^2 every capsule layer is initialised for: length
 * about 1 before the squash, 0.45 after it (docs/GENOTYPE.md, "Training"). */
#define CAPS_TARGET_SQ 1.0

typedef struct caps_plan {
    int is_class, max_batch, index;
    nc_conv2d cv;           /* primary */
    int dim;                /* primary: capsule dim */
    nc_class_caps cc;       /* class: votes + routing in chunks of images */
    double init_sd;         /* class: weight standard deviation;
                               primary: half-width of the uniform weights */
    size_t n_w, n_b;
    size_t act;             /* primary: s [batch, pixels, ch] (kept) */
    size_t cache;           /* class: routing cache floats */
    size_t off_w, off_dw, off_b, off_db, off_act, off_cache, floats;
    size_t scratch_bytes;   /* kernel scratch at the head of the workspace */
} caps_plan;

typedef struct caps_layer {
    caps_plan p;
    float *block;
    int cached_n;           /* batch of the last training forward, 0: none */
} caps_layer;

static int caps_routings(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg)
{
    if (cfg->routings >= 1)
        return cfg->routings;
    return ctx->routings >= 1 ? ctx->routings : CAPS_DEFAULT_ROUTINGS;
}

/* E|u|^2 of one input capsule of gene g (dim incaps): the previous gene's
 * capsules, squashed from E|s|^2 = CAPS_TARGET_SQ, or a conv layer's
 * normalised units (halved by ReLU), or the [0, 1] image (bounded by 1). */
static double caps_input_sq(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg,
                            const nc_gene *g)
{
    if (ctx->index == 0)
        return g->incaps;
    const nc_gene *prev = &ctx->genotype->layers[ctx->index - 1];
    if (prev->type == NC_GENE_CONV)
        return g->incaps * (cfg->conv_relu ? CAPS_RELU_SQ : 1.0);
    return nc_init_squashed_sq(prev->outcaps);
}

/* Weight scale of the class capsules: at the first routing iteration
 * s_j = 1/J sum_i u_i W_ij, so E|s_j|^2 = N D sd^2 E|u|^2 / J^2 for N inputs,
 * J classes of dim D and independent weights. The agreement steps then
 * grow s_j, so sd aims the first iteration at nc_routing_init_sq's t0 and
 * the last one lands near E|s_j|^2 = 1 (class capsules of length ~0.5). */
static double caps_class_sd(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg,
                            const nc_gene *g, int routings)
{
    double n = (double)g->insize * g->insize * g->inch;
    double t0 = nc_routing_init_sq(g->outch, g->outcaps, routings, CAPS_TARGET_SQ);
    return g->outch * sqrt(t0 / (n * g->outcaps * caps_input_sq(ctx, cfg, g)));
}

/* Half-width of the uniform weights of primary/convolutional capsules:
 * each of the D components of s sums taps * Cin products, taps being the
 * kernel taps inside the input averaged over the output positions ('same'
 * padding wastes the others), so Var(w) = TARGET / (D taps Cin m2) with m2
 * the mean square of an input channel gives E|s|^2 = TARGET whatever the
 * fan-in/fan-out ratio (Glorot's does not: chained capsule layers then
 * shrink geometrically through the squash). */
static double caps_primary_bound(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg,
                                 const nc_gene *g, const nc_conv2d *cv)
{
    double taps = 1.0;
    for (int axis = 0; axis < 2; axis++) {
        int in = axis ? cv->in_w : cv->in_h, out = axis ? cv->out_w : cv->out_h;
        int pad = axis ? cv->pad_left : cv->pad_top;
        int64_t sum = 0;
        for (int o = 0; o < out; o++) {
            int lo = o * cv->stride - pad, hi = lo + cv->k;
            int inside = (hi > in ? in : hi) - (lo < 0 ? 0 : lo);
            sum += inside > 0 ? inside : 0;
        }
        taps *= (double)sum / out;
    }
    double m2 = caps_input_sq(ctx, cfg, g) / g->incaps;
    return sqrt(3.0 * CAPS_TARGET_SQ / (g->outcaps * taps * cv->in_c * m2));
}

static int caps_plan_conv(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg,
                          const nc_gene *g, caps_plan *p, nc_error *err)
{
    int64_t cin = (int64_t)g->inch * g->incaps, cout = (int64_t)g->outch * g->outcaps;
    if (cin > INT32_MAX || cout > INT32_MAX)
        return nc_error_set(err, NC_ERR_INPUT, "caps layer %d: %lld -> %lld channels too many",
                            ctx->index + 1, (long long)cin, (long long)cout);
    int rc = nc_conv2d_init(&p->cv, g->insize, g->insize, (int)cin, (int)cout, g->k, g->stride,
                            0, err);
    if (rc) {
        nc_error_prefix(err, "caps layer %d", ctx->index + 1);
        return rc;
    }
    if (p->cv.out_h != g->outsize)
        return nc_error_set(err, NC_ERR_INPUT,
                            "caps layer %d: outsize %d, but insize %d stride %d gives %d",
                            ctx->index + 1, g->outsize, g->insize, g->stride, p->cv.out_h);
    p->dim = g->outcaps;
    p->init_sd = caps_primary_bound(ctx, cfg, g, &p->cv);
    p->n_w = (size_t)p->cv.cols * (size_t)cout;
    p->n_b = (size_t)cout;
    if (__builtin_mul_overflow((size_t)p->cv.rows * (size_t)cout, (size_t)p->max_batch,
                               &p->act))
        return nc_error_set(err, NC_ERR_INPUT, "caps layer %d: buffers for batch %d overflow",
                            ctx->index + 1, p->max_batch);
    p->scratch_bytes = nc_nn_align_floats(nc_conv2d_workspace(&p->cv) / sizeof(float) + 1) *
                       sizeof(float);
    return NC_OK;
}

static int caps_plan_class(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg,
                           const nc_gene *g, caps_plan *p, nc_error *err)
{
    int64_t n_in = (int64_t)g->insize * g->insize * g->inch;
    size_t jd = (size_t)g->outch * (size_t)g->outcaps;
    if (n_in > INT32_MAX)
        return nc_error_set(err, NC_ERR_INPUT, "caps layer %d: %lld input capsules too many",
                            ctx->index + 1, (long long)n_in);
    int rc = nc_class_caps_init(&p->cc, (int)n_in, g->incaps, g->outch, g->outcaps,
                                caps_routings(ctx, cfg), p->max_batch, 0, err);
    if (rc) {
        nc_error_prefix(err, "caps layer %d", ctx->index + 1);
        return rc;
    }
    p->init_sd = caps_class_sd(ctx, cfg, g, caps_routings(ctx, cfg));
    p->cache = nc_class_caps_cache_floats(&p->cc, p->max_batch);
    if (__builtin_mul_overflow((size_t)n_in * (size_t)g->incaps, jd, &p->n_w))
        return nc_error_set(err, NC_ERR_INPUT,
                            "caps layer %d: %lld capsules x %zu votes overflow",
                            ctx->index + 1, (long long)n_in, jd);
    p->scratch_bytes = nc_class_caps_workspace(&p->cc);
    return NC_OK;
}

static int caps_plan_make(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg,
                          caps_plan *p, nc_error *err)
{
    memset(p, 0, sizeof *p);
    const nc_gene *g = nc_layer_ctx_gene(ctx, CAPS_ROLES, "caps", err);
    if (!g)
        return NC_ERR_INTERNAL;
    if (!cfg || cfg->max_batch < 1)
        return nc_error_set(err, NC_ERR_INPUT, "caps layer %d: max_batch %d, must be >= 1",
                            ctx->index + 1, cfg ? cfg->max_batch : 0);
    p->max_batch = cfg->max_batch;
    p->index = ctx->index;
    p->is_class = ctx->role == NC_ROLE_CLASS_CAPS;
    int rc = p->is_class ? caps_plan_class(ctx, cfg, g, p, err) : caps_plan_conv(ctx, cfg, g, p, err);
    if (rc)
        return rc;
    size_t top = 0;
    if (!nc_nn_take(&top, p->n_w, &p->off_w) || !nc_nn_take(&top, p->n_w, &p->off_dw) ||
        !nc_nn_take(&top, p->n_b, &p->off_b) || !nc_nn_take(&top, p->n_b, &p->off_db) ||
        !nc_nn_take(&top, p->act, &p->off_act) || !nc_nn_take(&top, p->cache, &p->off_cache) ||
        top > SIZE_MAX / sizeof(float) / 2 ||
        p->act > (SIZE_MAX - p->scratch_bytes) / sizeof(float) / 2)
        return nc_error_set(err, NC_ERR_INPUT, "caps layer %d: buffers for batch %d overflow",
                            ctx->index + 1, p->max_batch);
    p->floats = top;
    return NC_OK;
}

int64_t caps_train_bytes(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg)
{
    caps_plan p;
    nc_error err;
    if (caps_plan_make(ctx, cfg, &p, &err))
        return -1;
    return (int64_t)(sizeof(caps_layer) + p.floats * sizeof(float));
}

int caps_create(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg, nc_rng *rng,
                void **layer, nc_error *err)
{
    *layer = NULL;
    caps_plan p;
    int rc = caps_plan_make(ctx, cfg, &p, err);
    if (rc)
        return rc;
    caps_layer *l = calloc(1, sizeof *l);
    float *block = l ? calloc(p.floats, sizeof(float)) : NULL;
    if (!block) {
        free(l);
        return nc_error_set(err, NC_ERR_INTERNAL, "caps layer %d: out of memory for %zu bytes",
                            ctx->index + 1, p.floats * sizeof(float));
    }
    l->p = p;
    l->block = block;
    float *w = block + p.off_w;
    if (p.is_class) {
        for (size_t i = 0; i < p.n_w; i++)
            w[i] = (float)(p.init_sd * nc_rng_normal(rng));
    } else {
        /* biases start at 0 */
        for (size_t i = 0; i < p.n_w; i++)
            w[i] = (float)(p.init_sd * (2.0 * nc_rng_uniform(rng) - 1.0));
    }
    *layer = l;
    return NC_OK;
}

/* the kernels' scratch (class: all of it), then the primary's ds */
size_t caps_workspace(void *layer)
{
    const caps_layer *l = layer;
    return l->p.scratch_bytes + l->p.act * sizeof(float);
}

static int caps_check_n(const caps_layer *l, const char *what, int n, size_t ws_bytes,
                        size_t need, nc_error *err)
{
    if (n < 1 || n > l->p.max_batch)
        return nc_error_set(err, NC_ERR_INPUT, "caps layer %d %s: batch %d not in [1, %d]",
                            l->p.index + 1, what, n, l->p.max_batch);
    if (ws_bytes < need)
        return nc_error_set(err, NC_ERR_INPUT,
                            "caps layer %d %s: workspace of %zu bytes, needs %zu",
                            l->p.index + 1, what, ws_bytes, need);
    return NC_OK;
}

int caps_forward(void *layer, int n, const float *const *in, float *out, int training,
                 void *ws, size_t ws_bytes, nc_error *err)
{
    caps_layer *l = layer;
    const caps_plan *p = &l->p;
    int rc = caps_check_n(l, "forward", n, ws_bytes, p->scratch_bytes, err);
    if (rc)
        return rc;
    float *b = l->block, *act = b + p->off_act;
    l->cached_n = 0;
    if (p->is_class) {
        rc = nc_class_caps_forward(&p->cc, n, in[0], b + p->off_w, NULL, out,
                                   training ? b + p->off_cache : NULL, p->cache, ws, ws_bytes,
                                   err);
    } else {
        rc = nc_conv2d_forward(&p->cv, n, in[0], b + p->off_w, b + p->off_b, act, ws,
                               p->scratch_bytes, err);
        if (!rc)
            nc_squash_forward((size_t)n * (size_t)p->cv.rows * (p->n_b / (size_t)p->dim),
                              p->dim, act, out);
    }
    if (rc) {
        nc_error_prefix(err, "caps layer %d", p->index + 1);
        return rc;
    }
    if (training)
        l->cached_n = n;
    return NC_OK;
}

int caps_backward(void *layer, int n, const float *const *in, const float *out,
                  const float *dout, float *const *din, void *ws, size_t ws_bytes,
                  nc_error *err)
{
    caps_layer *l = layer;
    const caps_plan *p = &l->p;
    int rc = caps_check_n(l, "backward", n, ws_bytes, caps_workspace(l), err);
    if (rc)
        return rc;
    if (l->cached_n != n)
        return nc_error_set(err, NC_ERR_INPUT,
                            "caps layer %d backward: batch %d, but the last training forward "
                            "saw %d", p->index + 1, n, l->cached_n);
    float *b = l->block, *act = b + p->off_act;
    /* g: gradient of the pre-squash s (primary) */
    float *g = (float *)((char *)ws + p->scratch_bytes);
    float *dx = din ? din[0] : NULL;
    if (p->is_class) {
        rc = nc_class_caps_backward(&p->cc, n, in[0], b + p->off_w, b + p->off_cache, p->cache,
                                    dout, dx, b + p->off_dw, NULL, ws, ws_bytes, err);
    } else {
        nc_squash_backward((size_t)n * (size_t)p->cv.rows * (p->n_b / (size_t)p->dim), p->dim,
                           act, dout, g);
        rc = nc_conv2d_backward(&p->cv, n, in[0], b + p->off_w, g, dx, b + p->off_dw,
                                b + p->off_db, ws, p->scratch_bytes, err);
    }
    if (rc) {
        nc_error_prefix(err, "caps layer %d", p->index + 1);
        return rc;
    }
    return NC_OK;
}

int caps_tensors(void *layer, nc_tensor_ref *list, int cap)
{
    caps_layer *l = layer;
    const caps_plan *p = &l->p;
    float *b = l->block;
    const nc_tensor_ref all[2] = {
        {"w", b + p->off_w, b + p->off_dw, p->n_w},
        {"b", b + p->off_b, b + p->off_db, p->n_b},
    };
    int count = p->is_class ? 1 : 2;   /* class capsules have no bias */
    for (int i = 0; i < count && i < cap; i++)
        list[i] = all[i];
    return count;
}

void caps_destroy(void *layer)
{
    caps_layer *l = layer;
    if (!l)
        return;
    free(l->block);
    free(l);
}
