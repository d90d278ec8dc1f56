/* caps.c - class-capsule votes (one strided sgemm per input capsule) and
 * dynamic routing with gradients through every iteration. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "nascaps/nn.h"
#include "nn/nn_internal.h"

static int votes_check(const char *kernel, int batch, int in_caps, int in_dim,
                       int out_caps, int out_dim, nc_error *err)
{
    if (nc_nn_check_dim(kernel, "batch", batch, err) ||
        nc_nn_check_dim(kernel, "in_caps", in_caps, err) ||
        nc_nn_check_dim(kernel, "in_dim", in_dim, err) ||
        nc_nn_check_dim(kernel, "out_caps", out_caps, err) ||
        nc_nn_check_dim(kernel, "out_dim", out_dim, err))
        return NC_ERR_INPUT;
    /* leading dimensions are ints for BLAS; the tensors must be addressable */
    size_t jd = nc_nn_mul((size_t)out_caps, (size_t)out_dim);
    if (jd > INT_MAX || nc_nn_mul((size_t)in_caps, jd) > INT_MAX ||
        nc_nn_mul3((size_t)batch, (size_t)in_caps, jd) == SIZE_MAX ||
        nc_nn_mul3((size_t)in_caps, (size_t)in_dim, jd) == SIZE_MAX ||
        (size_t)in_caps * (size_t)in_dim > INT_MAX)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: %d x %d capsules of %d -> %d x %d exceed "
                            "the GEMM limits", kernel, batch, in_caps,
                            in_dim, out_caps, out_dim);
    return NC_OK;
}

int nc_caps_votes_forward(int batch, int in_caps, int in_dim, int out_caps,
                          int out_dim, const float *u, const float *w,
                          float *uhat, nc_error *err)
{
    if (votes_check("caps_votes_forward", batch, in_caps, in_dim, out_caps,
                    out_dim, err))
        return NC_ERR_INPUT;
    const int jd = out_caps * out_dim;
    const int ldu = in_caps * in_dim, ldh = in_caps * jd;
    /* one [batch, in_dim] x [in_dim, J*D] product per input capsule, on
     * strided views of u and uhat */
    for (int i = 0; i < in_caps; i++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, jd,
                    in_dim, 1.0f, u + (size_t)i * in_dim, ldu,
                    w + (size_t)i * in_dim * jd, jd, 0.0f,
                    uhat + (size_t)i * jd, ldh);
    return NC_OK;
}

int nc_caps_votes_backward(int batch, int in_caps, int in_dim, int out_caps,
                           int out_dim, const float *u, const float *w,
                           const float *duhat, float *du, float *dw,
                           nc_error *err)
{
    if (votes_check("caps_votes_backward", batch, in_caps, in_dim, out_caps,
                    out_dim, err))
        return NC_ERR_INPUT;
    const int jd = out_caps * out_dim;
    const int ldu = in_caps * in_dim, ldh = in_caps * jd;
    for (int i = 0; i < in_caps; i++) {
        const float *dh = duhat + (size_t)i * jd;
        const float *wi = w + (size_t)i * in_dim * jd;
        if (dw)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in_dim, jd,
                        batch, 1.0f, u + (size_t)i * in_dim, ldu, dh, ldh,
                        1.0f, dw + (size_t)i * in_dim * jd, jd);
        if (du)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch,
                        in_dim, jd, 1.0f, dh, ldh, wi, jd, 0.0f,
                        du + (size_t)i * in_dim, ldu);
    }
    return NC_OK;
}

/* ---- dynamic routing ------------------------------------------------------
 * Per group, with ni inputs, nj outputs of dim nd, cache holds for each
 * iteration r: c_r [ni, nj], s_r [nj, nd], v_r [nj, nd]. */

int nc_routing_init(nc_routing *r, int in_caps, int out_caps, int dim,
                    int iters, nc_error *err)
{
    memset(r, 0, sizeof *r);
    if (nc_nn_check_dim("routing", "in_caps", in_caps, err) ||
        nc_nn_check_dim("routing", "out_caps", out_caps, err) ||
        nc_nn_check_dim("routing", "dim", dim, err) ||
        nc_nn_check_dim("routing", "iters", iters, err))
        return NC_ERR_INPUT;
    if (iters > 100)
        return nc_error_set(err, NC_ERR_INPUT,
                            "routing: iters = %d, at most 100", iters);
    size_t ij = nc_nn_mul((size_t)in_caps, (size_t)out_caps);
    if (nc_nn_mul3(ij, (size_t)dim, sizeof(float)) == SIZE_MAX ||
        nc_nn_mul3((size_t)iters, ij + 2 * (size_t)out_caps * dim,
                   sizeof(float)) == SIZE_MAX)
        return nc_error_set(err, NC_ERR_INPUT,
                            "routing: %d x %d capsules of dim %d overflow",
                            in_caps, out_caps, dim);
    r->in_caps = in_caps;
    r->out_caps = out_caps;
    r->dim = dim;
    r->iters = iters;
    return NC_OK;
}

static size_t group_cache(const nc_routing *r)
{
    size_t ij = (size_t)r->in_caps * r->out_caps;
    size_t jd = (size_t)r->out_caps * r->dim;
    return (size_t)r->iters * (ij + 2 * jd);
}

size_t nc_routing_cache_floats(const nc_routing *r, int64_t groups)
{
    if (groups < 1)
        return 0;
    size_t n = nc_nn_mul(group_cache(r), (size_t)groups);
    return n == SIZE_MAX ? 0 : n;
}

/* Scratch for one group at a time: the logits (backward: their gradient),
 * the couplings (backward: dc) and two [nj, nd] vectors. */
size_t nc_routing_workspace(const nc_routing *r)
{
    size_t ij = (size_t)r->in_caps * r->out_caps;
    size_t jd = (size_t)r->out_caps * r->dim;
    return (2 * ij + 2 * jd) * sizeof(float);
}

static int routing_check(const char *kernel, const nc_routing *r,
                         int64_t groups, const float *cache,
                         size_t cache_floats, size_t ws_bytes, nc_error *err)
{
    if (r->iters < 1)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: routing not initialised", kernel);
    if (nc_nn_check_dim(kernel, "groups", groups, err))
        return NC_ERR_INPUT;
    size_t need = nc_nn_mul3((size_t)groups, (size_t)r->in_caps,
                             (size_t)r->out_caps * r->dim);
    if (need == SIZE_MAX || nc_routing_cache_floats(r, groups) == 0)
        return nc_error_set(err, NC_ERR_INPUT, "%s: %lld groups overflow",
                            kernel, (long long)groups);
    if (cache && cache_floats < nc_routing_cache_floats(r, groups))
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: cache of %zu floats, needs %zu", kernel,
                            cache_floats, nc_routing_cache_floats(r, groups));
    return nc_nn_check_ws(kernel, ws_bytes, nc_routing_workspace(r), err);
}

/* s[j] = sum_i c[i, j] u[i, j] (+ bias[j]) */
static void weighted_sum(int ni, int nj, int nd, const float *c,
                         const float *u, const float *bias, float *s)
{
    const size_t jd = (size_t)nj * nd;
    if (bias)
        memcpy(s, bias, jd * sizeof(float));
    else
        memset(s, 0, jd * sizeof(float));
    for (int i = 0; i < ni; i++)
        for (int j = 0; j < nj; j++)
            nc_nn_axpy((size_t)nd, c[(size_t)i * nj + j],
                       u + ((size_t)i * nj + j) * nd, s + (size_t)j * nd);
}

int nc_routing_forward(const nc_routing *r, int64_t groups, const float *uhat,
                       const float *bias, float *v, float *cache,
                       size_t cache_floats, void *ws, size_t ws_bytes,
                       nc_error *err)
{
    int rc = routing_check("routing_forward", r, groups, cache, cache_floats,
                           ws_bytes, err);
    if (rc)
        return rc;
    const int ni = r->in_caps, nj = r->out_caps, nd = r->dim, nr = r->iters;
    const size_t ij = (size_t)ni * nj, jd = (size_t)nj * nd;
    float *b = ws, *ctmp = b + ij, *stmp = ctmp + ij, *vtmp = stmp + jd;
    for (int64_t g = 0; g < groups; g++) {
        const float *u = uhat + (size_t)g * ij * nd;
        float *cg = cache ? cache + (size_t)g * group_cache(r) : NULL;
        memset(b, 0, ij * sizeof(float));
        for (int it = 0; it < nr; it++) {
            float *c = cg ? cg : ctmp, *s = cg ? cg + ij : stmp;
            float *vr = cg ? cg + ij + jd : vtmp;
            if (it == 0)    /* softmax of all-zero logits */
                for (size_t e = 0; e < ij; e++)
                    c[e] = 1.0f / (float)nj;
            else
                nc_softmax_forward((size_t)ni, (size_t)nj, b, c);
            weighted_sum(ni, nj, nd, c, u, bias, s);
            nc_squash_forward((size_t)nj, nd, s, vr);
            if (it < nr - 1) {
                for (int i = 0; i < ni; i++)
                    for (int j = 0; j < nj; j++)
                        b[(size_t)i * nj + j] +=
                            nc_nn_dot((size_t)nd, u + ((size_t)i * nj + j) * nd,
                                      vr + (size_t)j * nd);
            } else {
                memcpy(v + (size_t)g * jd, vr, jd * sizeof(float));
            }
            if (cg)
                cg += ij + 2 * jd;
        }
    }
    return NC_OK;
}

/* Walks the iterations backwards. With a_r[i, j] = uhat_ij . v_r[j] and
 * b_{r+1} = b_r + a_r, the gradient dbn of b_{r+1} reaches both a_r (so
 * uhat and v_r) and b_r; c_r = softmax(b_r) and s_r = sum c uhat pass the
 * rest on. b_0 = 0 is a constant, so iteration 0 stops at uhat. */
int nc_routing_backward(const nc_routing *r, int64_t groups,
                        const float *uhat, const float *cache,
                        size_t cache_floats, const float *dv, float *duhat,
                        float *dbias, void *ws, size_t ws_bytes, nc_error *err)
{
    if (!cache)
        return nc_error_set(err, NC_ERR_INPUT,
                            "routing_backward: no cache from the forward pass");
    int rc = routing_check("routing_backward", r, groups, cache, cache_floats,
                           ws_bytes, err);
    if (rc)
        return rc;
    const int ni = r->in_caps, nj = r->out_caps, nd = r->dim, nr = r->iters;
    const size_t ij = (size_t)ni * nj, jd = (size_t)nj * nd;
    float *dbn = ws, *dc = dbn + ij, *dvr = dc + ij, *ds = dvr + jd;
    for (int64_t g = 0; g < groups; g++) {
        const float *u = uhat + (size_t)g * ij * nd;
        float *du = duhat + (size_t)g * ij * nd;
        const float *cg = cache + (size_t)g * group_cache(r);
        for (int it = nr - 1; it >= 0; it--) {
            const float *c = cg + (size_t)it * (ij + 2 * jd);
            const float *s = c + ij, *vr = s + jd;
            if (it == nr - 1) {
                memcpy(dvr, dv + (size_t)g * jd, jd * sizeof(float));
            } else {
                memset(dvr, 0, jd * sizeof(float));
                for (int i = 0; i < ni; i++) {
                    for (int j = 0; j < nj; j++) {
                        const float a = dbn[(size_t)i * nj + j];
                        const float *uij = u + ((size_t)i * nj + j) * nd;
                        float *duij = du + ((size_t)i * nj + j) * nd;
                        nc_nn_axpy((size_t)nd, a, vr + (size_t)j * nd, duij);
                        nc_nn_axpy((size_t)nd, a, uij,
                                   dvr + (size_t)j * nd);
                    }
                }
            }
            nc_squash_backward((size_t)nj, nd, s, dvr, ds);
            if (dbias)
                for (size_t e = 0; e < jd; e++)
                    dbias[e] += ds[e];
            for (int i = 0; i < ni; i++) {
                for (int j = 0; j < nj; j++) {
                    const size_t e = (size_t)i * nj + j;
                    const float *uij = u + e * nd;
                    float *duij = du + e * nd;
                    const float *dsj = ds + (size_t)j * nd;
                    /* the last iteration is the first to touch duhat */
                    if (it == nr - 1)
                        nc_nn_scale((size_t)nd, c[e], dsj, duij);
                    else
                        nc_nn_axpy((size_t)nd, c[e], dsj, duij);
                    if (it > 0)
                        dc[e] = nc_nn_dot((size_t)nd, uij, dsj);
                }
            }
            if (it == 0)
                break;
            /* db_r = softmax'(dc) + db_{r+1}: becomes dbn of iteration r-1 */
            nc_softmax_backward((size_t)ni, (size_t)nj, c, dc, dc);
            if (it < nr - 1)
                for (size_t e = 0; e < ij; e++)
                    dbn[e] += dc[e];
            else
                memcpy(dbn, dc, ij * sizeof(float));
        }
    }
    return NC_OK;
}
