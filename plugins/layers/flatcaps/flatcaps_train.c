/* flatcaps_train.c - training of FlatCaps, the last type-2 gene.
 *
 * Per image the input capsule list u [N, d] is the last cell's output
 * (in[0], insize^2*inch capsules of dim incaps, in its H, W, type order)
 * FOLLOWED BY, when the skip gene s >= 1, layer s's output (in[1],
 * outsize_s^2*outch_s capsules of the same dim). Every capsule votes for
 * every class capsule through its own d x D matrix (nc_caps_votes), then
 * dynamic routing with a learned bias per class-capsule component gives
 * v [n, outch, outcaps]: nc_class_caps, which votes and routes a chunk of
 * images at a time and makes the votes again in backward (DeepCaps'
 * FlatCaps has 1.6 MB of votes an image), so the layer keeps only the
 * routing cache. Without a skip the votes read in[0] in place; with one the
 * concatenated list is kept in the layer (backward votes from it again) and
 * the input gradient is split back into din[0] and din[1].
 *
 * Initialisation: at the first routing iteration s_j = 1/J sum_i u_hat_ij
 * + b_j, so E|s_j|^2 = N D sd^2 E|u|^2 / J^2 for independent weights of
 * standard deviation sd and the energy E|u|^2 of a cell's output (two
 * summed squashed capsules). Later iterations grow s_j by agreement, so sd
 * aims the first one at nc_routing_init_sq(): the LAST one then has
 * E|s_j|^2 about 1, class capsules of length about 0.45. The bias starts
 * at 0. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <nascaps/nn.h>

#include "flatcaps_train.h"

#define FC_ROLES (NC_ROLE_BIT(NC_ROLE_FLATCAPS))
#define FC_DEFAULT_ROUTINGS 3
#define FC_TARGET_SQ 1.0   /* E|s_j|^2 at initialisation */

typedef struct fc_plan {
    int index, max_batch;
    int n_main, n_skip, dim;     /* capsules from in[0], from in[1]; their dim */
    nc_class_caps cc;            /* n_main + n_skip -> outch x outcaps */
    double init_sd;
    size_t n_w, n_b;
    size_t u, cache;             /* floats for max_batch images (u: skip only) */
    size_t off_w, off_dw, off_b, off_db, off_u, off_cache, floats;
    size_t off_du, ws_bytes;     /* du after the class-caps workspace (skip only) */
} fc_plan;

typedef struct fc_layer {
    fc_plan p;
    float *block;
    int cached_n;                /* batch of the last training forward, 0: none */
} fc_layer;

static int fc_overflow(const fc_plan *p, nc_error *err)
{
    return nc_error_set(err, NC_ERR_INPUT, "flatcaps layer %d: buffers for batch %d overflow",
                        p->index + 1, p->max_batch);
}

static int fc_plan_make(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg, fc_plan *p,
                        nc_error *err)
{
    memset(p, 0, sizeof *p);
    const nc_gene *g = nc_layer_ctx_gene(ctx, FC_ROLES, "flatcaps", err);
    if (!g)
        return NC_ERR_INTERNAL;
    p->index = ctx->index;
    if (!cfg || cfg->max_batch < 1)
        return nc_error_set(err, NC_ERR_INPUT, "flatcaps layer %d: max_batch %d, must be >= 1",
                            ctx->index + 1, cfg ? cfg->max_batch : 0);
    p->max_batch = cfg->max_batch;
    const nc_genotype *net = ctx->genotype;
    int64_t n_main = (int64_t)g->insize * g->insize * g->inch, n_skip = 0;
    if (net->skip >= 1) {
        if (net->skip > ctx->index)
            return nc_error_set(err, NC_ERR_INPUT, "flatcaps layer %d: skip gene [%d] is not "
                                "before it", ctx->index + 1, net->skip);
        const nc_gene *s = &net->layers[net->skip - 1];
        if (s->outcaps != g->incaps)
            return nc_error_set(err, NC_ERR_INPUT,
                                "flatcaps layer %d: skip gene %d makes capsules of dim %d, "
                                "expected incaps %d", ctx->index + 1, net->skip, s->outcaps,
                                g->incaps);
        n_skip = (int64_t)s->outsize * s->outsize * s->outch;
    }
    if (n_main + n_skip > INT32_MAX)
        return nc_error_set(err, NC_ERR_INPUT, "flatcaps layer %d: %lld input capsules too many",
                            ctx->index + 1, (long long)(n_main + n_skip));
    p->n_main = (int)n_main;
    p->n_skip = (int)n_skip;
    p->dim = g->incaps;
    int n = p->n_main + p->n_skip;
    int routings = cfg->routings >= 1 ? cfg->routings
                   : ctx->routings >= 1 ? ctx->routings : FC_DEFAULT_ROUTINGS;
    int rc = nc_class_caps_init(&p->cc, n, p->dim, g->outch, g->outcaps, routings,
                                p->max_batch, 0, err);
    if (rc)
        return nc_error_prefix(err, "flatcaps layer %d", ctx->index + 1);
    /* a cell's output v3 + v_sk: two independent squashed capsules */
    double in_sq = 2.0 * nc_init_squashed_sq(p->dim);
    double t0 = nc_routing_init_sq(g->outch, g->outcaps, routings, FC_TARGET_SQ);
    p->init_sd = sqrt(t0 / ((double)n * g->outcaps * in_sq)) * g->outch;
    size_t jd = (size_t)g->outch * (size_t)g->outcaps, per;
    p->n_b = jd;
    p->cache = nc_class_caps_cache_floats(&p->cc, p->max_batch);
    if (!p->cache || __builtin_mul_overflow((size_t)n, jd, &per) ||
        __builtin_mul_overflow(per, (size_t)p->dim, &p->n_w) ||
        __builtin_mul_overflow((size_t)n * (size_t)p->dim, (size_t)p->max_batch, &p->u))
        return fc_overflow(p, err);
    size_t top = 0;
    if (!nc_nn_take(&top, p->n_w, &p->off_w) || !nc_nn_take(&top, p->n_w, &p->off_dw) ||
        !nc_nn_take(&top, p->n_b, &p->off_b) || !nc_nn_take(&top, p->n_b, &p->off_db) ||
        !nc_nn_take(&top, p->n_skip ? p->u : 0, &p->off_u) ||
        !nc_nn_take(&top, p->cache, &p->off_cache) ||
        top > SIZE_MAX / sizeof(float) / 2)
        return fc_overflow(p, err);
    p->floats = top;
    size_t wtop = nc_nn_align_floats(nc_class_caps_workspace(&p->cc) / sizeof(float));
    if (!nc_nn_take(&wtop, p->n_skip ? p->u : 0, &p->off_du) || wtop > SIZE_MAX / sizeof(float))
        return fc_overflow(p, err);
    p->ws_bytes = wtop * sizeof(float);
    return NC_OK;
}

int64_t flat_train_bytes(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg)
{
    fc_plan p;
    nc_error err;
    if (fc_plan_make(ctx, cfg, &p, &err))
        return -1;
    return (int64_t)(sizeof(fc_layer) + p.floats * sizeof(float));
}

int flat_create(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg, nc_rng *rng,
                void **layer, nc_error *err)
{
    *layer = NULL;
    fc_plan p;
    int rc = fc_plan_make(ctx, cfg, &p, err);
    if (rc)
        return rc;
    fc_layer *l = calloc(1, sizeof *l);
    float *block = l ? calloc(p.floats, sizeof(float)) : NULL;
    if (!block) {
        free(l);
        return nc_error_set(err, NC_ERR_INTERNAL, "flatcaps layer %d: out of memory for %zu bytes",
                            ctx->index + 1, p.floats * sizeof(float));
    }
    l->p = p;
    l->block = block;
    float *w = block + p.off_w;
    for (size_t i = 0; i < p.n_w; i++)
        w[i] = (float)(p.init_sd * nc_rng_normal(rng));
    *layer = l;
    return NC_OK;
}

size_t flat_workspace(void *layer)
{
    return ((const fc_layer *)layer)->p.ws_bytes;
}

static int fc_check(const fc_layer *l, const char *what, int n, const float *const *in,
                    size_t ws_bytes, nc_error *err)
{
    const fc_plan *p = &l->p;
    if (n < 1 || n > p->max_batch)
        return nc_error_set(err, NC_ERR_INPUT, "flatcaps layer %d %s: batch %d not in [1, %d]",
                            p->index + 1, what, n, p->max_batch);
    if (ws_bytes < p->ws_bytes)
        return nc_error_set(err, NC_ERR_INPUT,
                            "flatcaps layer %d %s: workspace of %zu bytes, needs %zu",
                            p->index + 1, what, ws_bytes, p->ws_bytes);
    if (!in || !in[0] || (p->n_skip && !in[1]))
        return nc_error_set(err, NC_ERR_INPUT, "flatcaps layer %d %s: no input%s", p->index + 1,
                            what, in && in[0] ? " from the skip gene (in[1])" : "");
    return NC_OK;
}

int flat_forward(void *layer, int n, const float *const *in, float *out, int training, void *ws,
                 size_t ws_bytes, nc_error *err)
{
    fc_layer *l = layer;
    const fc_plan *p = &l->p;
    int rc = fc_check(l, "forward", n, in, ws_bytes, err);
    if (rc)
        return rc;
    l->cached_n = 0;
    float *b = l->block;
    const float *u = in[0];
    if (p->n_skip) {
        size_t a = (size_t)p->n_main * (size_t)p->dim, c = (size_t)p->n_skip * (size_t)p->dim;
        float *cat = b + p->off_u;
        for (int i = 0; i < n; i++) {
            memcpy(cat + (size_t)i * (a + c), in[0] + (size_t)i * a, a * sizeof(float));
            memcpy(cat + (size_t)i * (a + c) + a, in[1] + (size_t)i * c, c * sizeof(float));
        }
        u = cat;
    }
    rc = nc_class_caps_forward(&p->cc, n, u, b + p->off_w, b + p->off_b, out,
                               training ? b + p->off_cache : NULL, p->cache, ws, ws_bytes, err);
    if (rc)
        return nc_error_prefix(err, "flatcaps layer %d", p->index + 1);
    if (training)
        l->cached_n = n;
    return NC_OK;
}

int flat_backward(void *layer, int n, const float *const *in, const float *out,
                  const float *dout, float *const *din, void *ws, size_t ws_bytes, nc_error *err)
{
    (void)out;
    fc_layer *l = layer;
    const fc_plan *p = &l->p;
    int rc = fc_check(l, "backward", n, in, ws_bytes, err);
    if (rc)
        return rc;
    if (l->cached_n != n)
        return nc_error_set(err, NC_ERR_INPUT,
                            "flatcaps layer %d backward: batch %d, but the last training "
                            "forward saw %d", p->index + 1, n, l->cached_n);
    float *b = l->block;
    float *d0 = din ? din[0] : NULL, *d1 = din && p->n_skip ? din[1] : NULL;
    const float *u = p->n_skip ? b + p->off_u : in[0];
    float *du = p->n_skip ? (d0 || d1 ? (float *)ws + p->off_du : NULL) : d0;
    rc = nc_class_caps_backward(&p->cc, n, u, b + p->off_w, b + p->off_cache, p->cache, dout,
                                du, b + p->off_dw, b + p->off_db, ws, ws_bytes, err);
    if (rc)
        return nc_error_prefix(err, "flatcaps layer %d", p->index + 1);
    if (p->n_skip && du) {
        size_t a = (size_t)p->n_main * (size_t)p->dim, c = (size_t)p->n_skip * (size_t)p->dim;
        for (int i = 0; i < n; i++) {
            if (d0)
                memcpy(d0 + (size_t)i * a, du + (size_t)i * (a + c), a * sizeof(float));
            if (d1)
                memcpy(d1 + (size_t)i * c, du + (size_t)i * (a + c) + a, c * sizeof(float));
        }
    }
    return NC_OK;
}

int flat_tensors(void *layer, nc_tensor_ref *list, int cap)
{
    fc_layer *l = layer;
    const fc_plan *p = &l->p;
    float *b = l->block;
    const nc_tensor_ref all[2] = {
        {"w", b + p->off_w, b + p->off_dw, p->n_w},
        {"b", b + p->off_b, b + p->off_db, p->n_b},
    };
    for (int i = 0; i < 2 && i < cap; i++)
        list[i] = all[i];
    return 2;
}

void flat_destroy(void *layer)
{
    fc_layer *l = layer;
    if (!l)
        return;
    free(l->block);
    free(l);
}
