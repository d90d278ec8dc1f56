/* capscell_train.c - training of DeepCaps cells (type-2 genes before
 * FlatCaps).
 *
 *   l1 = ConvCaps2D(k, stride)(x)   s1 = conv(x) + b1, v1 = squash(s1)
 *   l2 = ConvCaps2D(k, 1)(v1)       s2, v2
 *   l3 = ConvCaps2D(k, 1)(v2)       s3, v3
 *   skip(v1): ConvCaps2D(k, 1)      s_sk, v_sk            (normal cell)
 *             3-D capsule layer      u_hat, routing -> v_sk (last cell)
 *   out = v3 + v_sk
 *
 * The 3-D layer treats each of the T = outch input capsule types of v1 as its
 * own image of d = outcaps channels and convolves it (3 x 3, stride 1, one
 * kernel bank shared by all types) to J*D = outch*outcaps channels: the
 * votes u_hat(j|i, p). They are stored [n, H, W, T, J, D] so that the T x J
 * votes of one position are contiguous: dynamic routing then runs with
 * groups = n*H*W straight on that buffer (no transpose), and its output
 * [n, H, W, J, D] is the cell's output layout. The convolution runs one
 * input type at a time: the type's channels are gathered into an
 * [n, H, W, d] image batch and its votes scattered back, so the scratch is
 * one activation, not one copy of all the votes.
 *
 * Memory: one block per layer holds parameters, gradients and what backward
 * needs (s1, v1, s2, v2, s3 and s_sk, or u_hat and the routing cache);
 * gradients between the stages live in the shared workspace, so forward and
 * backward allocate nothing.
 *
 * Initialisation (docs/GENOTYPE.md, "Training: capscell and flatcaps"):
 * squash shrinks a short capsule quadratically, so each convolution's
 * weights get the variance that makes E|s|^2 = 1 for the input energy its
 * layer actually receives (padding taps counted out), and biases start at
 * 0: capsule lengths then stay about 0.45 however deep the stack. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <nascaps/nn.h>

#include "capscell_train.h"

#define CC_ROLES (NC_ROLE_BIT(NC_ROLE_CAPSCELL) | NC_ROLE_BIT(NC_ROLE_LAST_CAPSCELL))
#define CC_DEFAULT_ROUTINGS 3
#define CC_CONV3D_K 3   /* the 3-D layer's kernel, whatever the gene's k */
/* E|s|^2 of a pre-squash capsule at initialisation: length about 1. */
#define CC_TARGET_SQ 1.0

enum { CC_L1, CC_L2, CC_L3, CC_SK, CC_N };
static const char *const cc_names[CC_N][2] = {
    {"l1.w", "l1.b"}, {"l2.w", "l2.b"}, {"l3.w", "l3.b"}, {"skip.w", "skip.b"}};
static const char *const cc_conv3d_names[2] = {"conv3d.w", "conv3d.b"};

/* Workspace regions after the kernel scratch. */
enum { WS_G, WS_H, WS_X, WS_VD, WS_XI, WS_YI, WS_DXI, WS_N };

typedef struct cc_plan {
    int index, max_batch, last;
    int positions, types, dim;   /* output H*W, outch, outcaps */
    nc_conv2d cv[CC_N];          /* last cell: cv[CC_SK] maps one type's d -> J*D */
    nc_routing rt;               /* last cell */
    double init_var[CC_N];
    size_t n_w[CC_N], n_b[CC_N];
    size_t off_w[CC_N], off_dw[CC_N], off_b[CC_N], off_db[CC_N];
    size_t act;                  /* max_batch * positions * C */
    size_t votes;                /* last cell: act * types */
    size_t cache;                /* last cell: routing cache floats */
    size_t off_s1, off_v1, off_s2, off_v2, off_s3, off_ssk, off_uhat, off_cache, floats;
    size_t scratch_bytes;        /* kernel scratch at the head of the workspace */
    size_t ws_off[WS_N], ws_bytes;
} cc_plan;

typedef struct cc_layer {
    cc_plan p;
    float *block;
    int cached_n;                /* batch of the last training forward, 0: none */
} cc_layer;

static int cc_routings(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg)
{
    if (cfg->routings >= 1)
        return cfg->routings;
    return ctx->routings >= 1 ? ctx->routings : CC_DEFAULT_ROUTINGS;
}

/* Mean over output positions of the kernel taps along one axis that land
 * inside the input ('same' padding wastes the rest). */
static double cc_axis_taps(int in, int out, int k, int stride, int pad)
{
    int64_t sum = 0;
    for (int o = 0; o < out; o++) {
        int lo = o * stride - pad, hi = lo + k;
        lo = lo < 0 ? 0 : lo;
        hi = hi > in ? in : hi;
        sum += hi > lo ? hi - lo : 0;
    }
    return (double)sum / out;
}

static double cc_mean_taps(const nc_conv2d *c)
{
    return cc_axis_taps(c->in_h, c->out_h, c->k, c->stride, c->pad_top) *
           cc_axis_taps(c->in_w, c->out_w, c->k, c->stride, c->pad_left);
}

/* Mean square of one input channel of the cell: a conv layer's batch-
 * normalised units (halved by ReLU), or the previous cell's v3 + v_sk. */
static double cc_input_m2(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg)
{
    if (ctx->index == 0)
        return 1.0;
    const nc_gene *prev = &ctx->genotype->layers[ctx->index - 1];
    if (prev->type == NC_GENE_CONV)
        return cfg->conv_relu ? 0.5 : 1.0;
    return 2.0 * nc_init_squashed_sq(prev->outcaps) / prev->outcaps;
}

static int cc_conv(cc_plan *p, int l, int size, int64_t cin, int64_t cout, int k, int stride,
                   nc_error *err)
{
    if (cin > INT32_MAX || cout > INT32_MAX)
        return nc_error_set(err, NC_ERR_INPUT, "capscell layer %d: %lld -> %lld channels too many",
                            p->index + 1, (long long)cin, (long long)cout);
    int rc = nc_conv2d_init(&p->cv[l], size, size, (int)cin, (int)cout, k, stride, 0, err);
    if (rc)
        return nc_error_prefix(err, "capscell layer %d", p->index + 1);
    p->n_w[l] = (size_t)p->cv[l].cols * (size_t)cout;
    p->n_b[l] = (size_t)cout;
    size_t need = nc_conv2d_workspace(&p->cv[l]);
    if (need > p->scratch_bytes)
        p->scratch_bytes = need;
    return NC_OK;
}

static int cc_overflow(const cc_plan *p, nc_error *err)
{
    return nc_error_set(err, NC_ERR_INPUT, "capscell layer %d: buffers for batch %d overflow",
                        p->index + 1, p->max_batch);
}

/* Shapes, init scales and the offsets of every buffer. */
static int cc_plan_make(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg, cc_plan *p,
                        nc_error *err)
{
    memset(p, 0, sizeof *p);
    const nc_gene *g = nc_layer_ctx_gene(ctx, CC_ROLES, "capscell", err);
    if (!g)
        return NC_ERR_INTERNAL;
    p->index = ctx->index;
    if (!cfg || cfg->max_batch < 1)
        return nc_error_set(err, NC_ERR_INPUT, "capscell layer %d: max_batch %d, must be >= 1",
                            ctx->index + 1, cfg ? cfg->max_batch : 0);
    p->max_batch = cfg->max_batch;
    p->last = ctx->role == NC_ROLE_LAST_CAPSCELL;
    p->types = g->outch;
    p->dim = g->outcaps;
    int64_t cin = (int64_t)g->inch * g->incaps, c = (int64_t)g->outch * g->outcaps;
    int rc = cc_conv(p, CC_L1, g->insize, cin, c, g->k, g->stride, err);
    if (rc)
        return rc;
    int h = p->cv[CC_L1].out_h;
    if (h != g->outsize)
        return nc_error_set(err, NC_ERR_INPUT,
                            "capscell layer %d: outsize %d, but insize %d stride %d gives %d",
                            ctx->index + 1, g->outsize, g->insize, g->stride, h);
    p->positions = h * h;
    if ((rc = cc_conv(p, CC_L2, h, c, c, g->k, 1, err)) ||
        (rc = cc_conv(p, CC_L3, h, c, c, g->k, 1, err)))
        return rc;
    /* weight variance giving E|s|^2 = CC_TARGET_SQ for the input energy */
    double v_m2 = nc_init_squashed_sq(p->dim) / p->dim;   /* a channel of v1, v2 */
    double in_m2[CC_N] = {cc_input_m2(ctx, cfg), v_m2, v_m2, v_m2};
    if (!p->last) {
        if ((rc = cc_conv(p, CC_SK, h, c, c, g->k, 1, err)))
            return rc;
    } else {
        if ((rc = cc_conv(p, CC_SK, h, g->outcaps, c, CC_CONV3D_K, 1, err)))
            return rc;
        rc = nc_routing_init(&p->rt, p->types, p->types, p->dim, cc_routings(ctx, cfg), err);
        if (rc)
            return nc_error_prefix(err, "capscell layer %d", ctx->index + 1);
        size_t rws = nc_routing_workspace(&p->rt);
        if (rws > p->scratch_bytes)
            p->scratch_bytes = rws;
    }
    for (int l = 0; l < CC_N; l++) {
        const nc_conv2d *cv = &p->cv[l];
        double fan = cc_mean_taps(cv) * cv->in_c * in_m2[l];
        p->init_var[l] = CC_TARGET_SQ / (p->dim * fan);
    }
    /* the first iteration's s_j = 1/J sum of the I = T inputs' votes, and
     * the agreement steps grow it: start lower so the last is on target */
    if (p->last)
        p->init_var[CC_SK] *= (double)p->types *
                              nc_routing_init_sq(p->types, p->dim, p->rt.iters, CC_TARGET_SQ) /
                              CC_TARGET_SQ;
    p->scratch_bytes = nc_nn_align_floats(p->scratch_bytes / sizeof(float) + 1) * sizeof(float);

    size_t per_image = (size_t)p->positions * (size_t)c, act, votes = 0, groups;
    if (__builtin_mul_overflow(per_image, (size_t)p->max_batch, &act))
        return cc_overflow(p, err);
    if (p->last) {
        if (__builtin_mul_overflow(act, (size_t)p->types, &votes) ||
            __builtin_mul_overflow((size_t)p->positions, (size_t)p->max_batch, &groups) ||
            groups > INT64_MAX ||
            !(p->cache = nc_routing_cache_floats(&p->rt, (int64_t)groups)))
            return cc_overflow(p, err);
    }
    p->act = act;
    p->votes = votes;

    size_t top = 0;
    for (int l = 0; l < CC_N; l++)
        if (!nc_nn_take(&top, p->n_w[l], &p->off_w[l]) ||
            !nc_nn_take(&top, p->n_w[l], &p->off_dw[l]) ||
            !nc_nn_take(&top, p->n_b[l], &p->off_b[l]) ||
            !nc_nn_take(&top, p->n_b[l], &p->off_db[l]))
            return cc_overflow(p, err);
    if (!nc_nn_take(&top, act, &p->off_s1) || !nc_nn_take(&top, act, &p->off_v1) ||
        !nc_nn_take(&top, act, &p->off_s2) || !nc_nn_take(&top, act, &p->off_v2) ||
        !nc_nn_take(&top, act, &p->off_s3) || !nc_nn_take(&top, p->last ? 0 : act, &p->off_ssk) ||
        !nc_nn_take(&top, votes, &p->off_uhat) || !nc_nn_take(&top, p->cache, &p->off_cache) ||
        top > SIZE_MAX / sizeof(float))
        return cc_overflow(p, err);
    p->floats = top;

    /* workspace: scratch, then G, H, X (activations); the last cell adds
     * the votes' gradient and one input type's image, votes and gradient */
    size_t one_type = act / (size_t)p->types;
    size_t sizes[WS_N] = {act, act, act, votes, p->last ? one_type : 0, p->last ? act : 0,
                          p->last ? one_type : 0};
    size_t wtop = p->scratch_bytes / sizeof(float);
    for (int r = 0; r < WS_N; r++)
        if (!nc_nn_take(&wtop, sizes[r], &p->ws_off[r]))
            return cc_overflow(p, err);
    if (wtop > SIZE_MAX / sizeof(float))
        return cc_overflow(p, err);
    p->ws_bytes = wtop * sizeof(float);
    return NC_OK;
}

int64_t cell_train_bytes(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg)
{
    cc_plan p;
    nc_error err;
    if (cc_plan_make(ctx, cfg, &p, &err) || p.floats > (size_t)INT64_MAX / sizeof(float) / 2)
        return -1;
    return (int64_t)(sizeof(cc_layer) + p.floats * sizeof(float));
}

/* Uniform in [-a, a] with variance var (a = sqrt(3 var)). */
static void cc_init_uniform(float *w, size_t n, double var, nc_rng *rng)
{
    double a = sqrt(3.0 * var);
    for (size_t i = 0; i < n; i++)
        w[i] = (float)(a * (2.0 * nc_rng_uniform(rng) - 1.0));
}

int cell_create(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg, nc_rng *rng,
                void **layer, nc_error *err)
{
    *layer = NULL;
    cc_plan p;
    int rc = cc_plan_make(ctx, cfg, &p, err);
    if (rc)
        return rc;
    cc_layer *l = calloc(1, sizeof *l);
    float *block = l ? calloc(p.floats, sizeof(float)) : NULL;
    if (!block) {
        free(l);
        return nc_error_set(err, NC_ERR_INTERNAL, "capscell layer %d: out of memory for %zu bytes",
                            ctx->index + 1, p.floats * sizeof(float));
    }
    l->p = p;
    l->block = block;
    for (int i = 0; i < CC_N; i++)
        cc_init_uniform(block + p.off_w[i], p.n_w[i], p.init_var[i], rng);
    *layer = l;
    return NC_OK;
}

size_t cell_workspace(void *layer)
{
    return ((const cc_layer *)layer)->p.ws_bytes;
}

static float *cc_ws(const cc_plan *p, void *ws, int region)
{
    return (float *)ws + p->ws_off[region];
}

static int cc_check_n(const cc_layer *l, const char *what, int n, size_t ws_bytes, nc_error *err)
{
    if (n < 1 || n > l->p.max_batch)
        return nc_error_set(err, NC_ERR_INPUT, "capscell layer %d %s: batch %d not in [1, %d]",
                            l->p.index + 1, what, n, l->p.max_batch);
    if (ws_bytes < l->p.ws_bytes)
        return nc_error_set(err, NC_ERR_INPUT,
                            "capscell layer %d %s: workspace of %zu bytes, needs %zu",
                            l->p.index + 1, what, ws_bytes, l->p.ws_bytes);
    return NC_OK;
}

/* dst[r] = src[r][type] for rows r of `types` slices of `width` floats. */
static void cc_gather(size_t rows, int types, size_t width, int type, const float *src,
                      float *dst)
{
    const float *s = src + (size_t)type * width;
    for (size_t r = 0; r < rows; r++)
        memcpy(dst + r * width, s + r * (size_t)types * width, width * sizeof(float));
}

static void cc_scatter(size_t rows, int types, size_t width, int type, const float *src,
                       float *dst)
{
    float *d = dst + (size_t)type * width;
    for (size_t r = 0; r < rows; r++)
        memcpy(d + r * (size_t)types * width, src + r * width, width * sizeof(float));
}

static size_t cc_caps(const cc_plan *p, int n)
{
    return (size_t)n * (size_t)p->positions * (size_t)p->types;
}

/* One ConvCaps2D: s = conv(x) + b, v = squash(s). */
static int cc_convcaps_forward(const cc_layer *l, int c, int n, const float *x, float *s,
                               float *v, void *ws, nc_error *err)
{
    const cc_plan *p = &l->p;
    int rc = nc_conv2d_forward(&p->cv[c], n, x, l->block + p->off_w[c], l->block + p->off_b[c],
                               s, ws, p->scratch_bytes, err);
    if (!rc)
        nc_squash_forward(cc_caps(p, n), p->dim, s, v);
    return rc;
}

/* Its backward from dv: ds (may be dv) then the convolution's gradients;
 * dx may be NULL. */
static int cc_convcaps_backward(const cc_layer *l, int c, int n, const float *x,
                                const float *s, const float *dv, float *ds, float *dx,
                                void *ws, nc_error *err)
{
    const cc_plan *p = &l->p;
    float *b = l->block;
    nc_squash_backward(cc_caps(p, n), p->dim, s, dv, ds);
    return nc_conv2d_backward(&p->cv[c], n, x, b + p->off_w[c], ds, dx, b + p->off_dw[c],
                              b + p->off_db[c], ws, p->scratch_bytes, err);
}

/* The 3-D layer's votes u_hat [n, P, T, J*D] from v1 [n, P, T, d]. */
static int cc_votes_forward(const cc_layer *l, int n, const float *v1, float *uhat, void *ws,
                            nc_error *err)
{
    const cc_plan *p = &l->p;
    size_t rows = (size_t)n * (size_t)p->positions, jd = (size_t)p->cv[CC_SK].out_c;
    float *xi = cc_ws(p, ws, WS_XI), *yi = cc_ws(p, ws, WS_YI);
    for (int i = 0; i < p->types; i++) {
        cc_gather(rows, p->types, (size_t)p->dim, i, v1, xi);
        int rc = nc_conv2d_forward(&p->cv[CC_SK], n, xi, l->block + p->off_w[CC_SK], NULL, yi,
                                   ws, p->scratch_bytes, err);
        if (rc)
            return rc;
        cc_scatter(rows, p->types, jd, i, yi, uhat);
    }
    return NC_OK;
}

/* From the votes' gradient duhat: the shared kernel's gradient and dv1
 * (overwritten). */
static int cc_votes_backward(const cc_layer *l, int n, const float *v1, const float *duhat,
                             float *dv1, void *ws, nc_error *err)
{
    const cc_plan *p = &l->p;
    size_t rows = (size_t)n * (size_t)p->positions, jd = (size_t)p->cv[CC_SK].out_c;
    float *xi = cc_ws(p, ws, WS_XI), *dyi = cc_ws(p, ws, WS_YI), *dxi = cc_ws(p, ws, WS_DXI);
    for (int i = 0; i < p->types; i++) {
        cc_gather(rows, p->types, jd, i, duhat, dyi);
        cc_gather(rows, p->types, (size_t)p->dim, i, v1, xi);
        int rc = nc_conv2d_backward(&p->cv[CC_SK], n, xi, l->block + p->off_w[CC_SK], dyi, dxi,
                                    l->block + p->off_dw[CC_SK], NULL, ws, p->scratch_bytes,
                                    err);
        if (rc)
            return rc;
        cc_scatter(rows, p->types, (size_t)p->dim, i, dxi, dv1);
    }
    return NC_OK;
}

static void cc_add(size_t n, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] += x[i];
}

int cell_forward(void *layer, int n, const float *const *in, float *out, int training, void *ws,
                 size_t ws_bytes, nc_error *err)
{
    cc_layer *l = layer;
    const cc_plan *p = &l->p;
    int rc = cc_check_n(l, "forward", n, ws_bytes, err);
    if (rc)
        return rc;
    l->cached_n = 0;
    float *b = l->block, *v1 = b + p->off_v1, *v2 = b + p->off_v2;
    float *vsk = cc_ws(p, ws, WS_G);
    int64_t groups = (int64_t)n * p->positions;
    if ((rc = cc_convcaps_forward(l, CC_L1, n, in[0], b + p->off_s1, v1, ws, err)) ||
        (rc = cc_convcaps_forward(l, CC_L2, n, v1, b + p->off_s2, v2, ws, err)) ||
        (rc = cc_convcaps_forward(l, CC_L3, n, v2, b + p->off_s3, out, ws, err)))
        return nc_error_prefix(err, "capscell layer %d", p->index + 1);
    if (!p->last)
        rc = cc_convcaps_forward(l, CC_SK, n, v1, b + p->off_ssk, vsk, ws, err);
    else if (!(rc = cc_votes_forward(l, n, v1, b + p->off_uhat, ws, err)))
        rc = nc_routing_forward(&p->rt, groups, b + p->off_uhat, b + p->off_b[CC_SK], vsk,
                                training ? b + p->off_cache : NULL, p->cache, ws,
                                p->scratch_bytes, err);
    if (rc)
        return nc_error_prefix(err, "capscell layer %d skip", p->index + 1);
    cc_add((size_t)n * (size_t)p->positions * (size_t)p->cv[CC_L3].out_c, vsk, out);
    if (training)
        l->cached_n = n;
    return NC_OK;
}

int cell_backward(void *layer, int n, const float *const *in, const float *out,
                  const float *dout, float *const *din, void *ws, size_t ws_bytes, nc_error *err)
{
    (void)out;
    cc_layer *l = layer;
    const cc_plan *p = &l->p;
    int rc = cc_check_n(l, "backward", n, ws_bytes, err);
    if (rc)
        return rc;
    if (l->cached_n != n)
        return nc_error_set(err, NC_ERR_INPUT,
                            "capscell layer %d backward: batch %d, but the last training "
                            "forward saw %d", p->index + 1, n, l->cached_n);
    float *b = l->block, *v1 = b + p->off_v1;
    float *g = cc_ws(p, ws, WS_G), *h = cc_ws(p, ws, WS_H), *x = cc_ws(p, ws, WS_X);
    size_t count = (size_t)n * (size_t)p->positions * (size_t)p->cv[CC_L3].out_c;
    int64_t groups = (int64_t)n * p->positions;
    /* out = v3 + v_sk: both branches get dout */
    if ((rc = cc_convcaps_backward(l, CC_L3, n, b + p->off_v2, b + p->off_s3, dout, g, h, ws,
                                   err)) ||
        (rc = cc_convcaps_backward(l, CC_L2, n, v1, b + p->off_s2, h, h, g, ws, err)))
        return nc_error_prefix(err, "capscell layer %d", p->index + 1);
    if (!p->last) {
        rc = cc_convcaps_backward(l, CC_SK, n, v1, b + p->off_ssk, dout, h, x, ws, err);
    } else {
        float *duhat = cc_ws(p, ws, WS_VD);
        rc = nc_routing_backward(&p->rt, groups, b + p->off_uhat, b + p->off_cache, p->cache,
                                 dout, duhat, b + p->off_db[CC_SK], ws, p->scratch_bytes, err);
        if (!rc)
            rc = cc_votes_backward(l, n, v1, duhat, x, ws, err);
    }
    if (rc)
        return nc_error_prefix(err, "capscell layer %d skip", p->index + 1);
    cc_add(count, x, g);   /* v1 feeds l2 and the skip */
    rc = cc_convcaps_backward(l, CC_L1, n, in[0], b + p->off_s1, g, g, din ? din[0] : NULL, ws,
                              err);
    if (rc)
        return nc_error_prefix(err, "capscell layer %d", p->index + 1);
    return NC_OK;
}

int cell_tensors(void *layer, nc_tensor_ref *list, int cap)
{
    cc_layer *l = layer;
    const cc_plan *p = &l->p;
    float *b = l->block;
    int count = 0;
    for (int c = 0; c < CC_N; c++) {
        const char *const *names = p->last && c == CC_SK ? cc_conv3d_names : cc_names[c];
        nc_tensor_ref w = {names[0], b + p->off_w[c], b + p->off_dw[c], p->n_w[c]};
        nc_tensor_ref bias = {names[1], b + p->off_b[c], b + p->off_db[c], p->n_b[c]};
        if (count < cap)
            list[count] = w;
        count++;
        if (count < cap)
            list[count] = bias;
        count++;
    }
    return count;
}

void cell_destroy(void *layer)
{
    cc_layer *l = layer;
    if (!l)
        return;
    free(l->block);
    free(l);
}
