/* classcaps.c - a whole class-capsule layer (votes + dynamic routing) over
 * chunks of images, for layers whose votes are too large to keep.
 *
 * The votes u_hat (in_caps * out_caps * out_dim floats an image: 1.6 MB for
 * DeepCaps' FlatCaps) are made for a chunk of images at a time in the
 * workspace and routed at once; the backward pass makes them again (their
 * MACs are those of one small GEMM per input capsule) rather than keeping
 * them for the whole batch. Only the routing cache, a few floats per vote
 * pair and iteration, is kept between forward and backward. */
#include <string.h>

#include "nascaps/nn.h"
#include "nn/nn_internal.h"

#define CLASS_CHUNK_BYTES ((size_t)32 << 20)
#define CLASS_ALIGN_FLOATS 16

static size_t class_round(size_t floats)
{
    return (floats + CLASS_ALIGN_FLOATS - 1) / CLASS_ALIGN_FLOATS * CLASS_ALIGN_FLOATS;
}

int nc_class_caps_init(nc_class_caps *c, int in_caps, int in_dim, int out_caps, int out_dim,
                       int iters, int max_batch, size_t chunk_bytes, nc_error *err)
{
    memset(c, 0, sizeof *c);
    if (nc_nn_check_dim("class_caps", "in_dim", in_dim, err) ||
        nc_nn_check_dim("class_caps", "max_batch", max_batch, err) ||
        nc_routing_init(&c->rt, in_caps, out_caps, out_dim, iters, err))
        return NC_ERR_INPUT;
    size_t per = nc_nn_mul3((size_t)in_caps, (size_t)out_caps, (size_t)out_dim);
    if (per == SIZE_MAX || per > INT32_MAX ||
        nc_nn_mul((size_t)in_caps, (size_t)in_dim) > INT32_MAX ||
        nc_routing_cache_floats(&c->rt, max_batch) == 0)
        return nc_error_set(err, NC_ERR_INPUT,
                            "class_caps: %d x %d capsules of dim %d for batch %d overflow",
                            in_caps, out_caps, out_dim, max_batch);
    size_t chunk = (chunk_bytes ? chunk_bytes : CLASS_CHUNK_BYTES) / sizeof(float) / per;
    c->in_dim = in_dim;
    c->max_batch = max_batch;
    c->chunk = chunk < 1 ? 1 : chunk > (size_t)max_batch ? max_batch : (int)chunk;
    c->votes = class_round(per * (size_t)c->chunk);
    return NC_OK;
}

/* routing scratch, then one chunk of votes and one of their gradient */
size_t nc_class_caps_workspace(const nc_class_caps *c)
{
    size_t head = class_round(nc_routing_workspace(&c->rt) / sizeof(float) + 1);
    return (head + 2 * c->votes) * sizeof(float);
}

size_t nc_class_caps_cache_floats(const nc_class_caps *c, int n)
{
    return nc_routing_cache_floats(&c->rt, n);
}

static int class_check(const char *kernel, const nc_class_caps *c, int n, size_t ws_bytes,
                       nc_error *err)
{
    if (n < 1 || n > c->max_batch)
        return nc_error_set(err, NC_ERR_INPUT, "%s: n = %d not in [1, %d]", kernel, n,
                            c->max_batch);
    return nc_nn_check_ws(kernel, ws_bytes, nc_class_caps_workspace(c), err);
}

static float *class_votes_buf(const nc_class_caps *c, void *ws)
{
    return (float *)ws + class_round(nc_routing_workspace(&c->rt) / sizeof(float) + 1);
}

int nc_class_caps_forward(const nc_class_caps *c, int n, const float *u, const float *w,
                          const float *bias, float *v, float *cache, size_t cache_floats,
                          void *ws, size_t ws_bytes, nc_error *err)
{
    int rc = class_check("class_caps_forward", c, n, ws_bytes, err);
    if (rc)
        return rc;
    const nc_routing *rt = &c->rt;
    float *uhat = class_votes_buf(c, ws);
    const size_t jd = (size_t)rt->out_caps * rt->dim, gc = nc_routing_cache_floats(rt, 1);
    const size_t in_floats = (size_t)rt->in_caps * (size_t)c->in_dim;
    for (int b0 = 0; b0 < n; b0 += c->chunk) {
        int nb = n - b0 < c->chunk ? n - b0 : c->chunk;
        size_t done = (size_t)b0 * gc;
        if (cache && cache_floats < done)
            return nc_error_set(err, NC_ERR_INPUT, "class_caps_forward: cache of %zu floats, "
                                "needs %zu", cache_floats, nc_routing_cache_floats(rt, n));
        rc = nc_caps_votes_forward(nb, rt->in_caps, c->in_dim, rt->out_caps, rt->dim,
                                   u + (size_t)b0 * in_floats, w, uhat, err);
        if (!rc)
            rc = nc_routing_forward(rt, nb, uhat, bias, v + (size_t)b0 * jd,
                                    cache ? cache + done : NULL, cache ? cache_floats - done : 0,
                                    ws, ws_bytes, err);
        if (rc)
            return rc;
    }
    return NC_OK;
}

int nc_class_caps_backward(const nc_class_caps *c, int n, const float *u, const float *w,
                           const float *cache, size_t cache_floats, const float *dv,
                           float *du, float *dw, float *dbias, void *ws, size_t ws_bytes,
                           nc_error *err)
{
    int rc = class_check("class_caps_backward", c, n, ws_bytes, err);
    if (rc)
        return rc;
    const nc_routing *rt = &c->rt;
    float *uhat = class_votes_buf(c, ws), *duhat = uhat + c->votes;
    const size_t jd = (size_t)rt->out_caps * rt->dim, gc = nc_routing_cache_floats(rt, 1);
    const size_t in_floats = (size_t)rt->in_caps * (size_t)c->in_dim;
    for (int b0 = 0; b0 < n; b0 += c->chunk) {
        int nb = n - b0 < c->chunk ? n - b0 : c->chunk;
        size_t done = (size_t)b0 * gc;
        if (!cache || cache_floats < done)
            return nc_error_set(err, NC_ERR_INPUT, "class_caps_backward: cache of %zu floats, "
                                "needs %zu", cache ? cache_floats : 0,
                                nc_routing_cache_floats(rt, n));
        const float *ub = u + (size_t)b0 * in_floats;
        rc = nc_caps_votes_forward(nb, rt->in_caps, c->in_dim, rt->out_caps, rt->dim, ub, w,
                                   uhat, err);
        if (!rc)
            rc = nc_routing_backward(rt, nb, uhat, cache + done, cache_floats - done,
                                     dv + (size_t)b0 * jd, duhat, dbias, ws, ws_bytes, err);
        if (!rc)
            rc = nc_caps_votes_backward(nb, rt->in_caps, c->in_dim, rt->out_caps, rt->dim, ub,
                                        w, duhat, du ? du + (size_t)b0 * in_floats : NULL, dw,
                                        err);
        if (rc)
            return rc;
    }
    return NC_OK;
}
