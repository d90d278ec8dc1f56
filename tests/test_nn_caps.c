/* test_nn_caps.c - squash, class-capsule votes and dynamic routing.
 *
 * The nonlinear kernels (squash, routing) are checked against reference
 * implementations in double written here from the formulas: the float
 * forward must match the reference, and the float analytic gradient must
 * match central differences of the double reference (step 1e-6, so the
 * differences themselves are good to ~1e-9); what remains is float rounding
 * of the kernels, hence rtol 1e-3 with a small absolute floor. The votes are
 * linear: differences of the float kernel with step 0.5 are exact. */
#include <string.h>

#include "test_nn_common.h"

/* ---- squash ---------------------------------------------------------------- */

static void ref_squash(int n, int dim, const double *s, double *v)
{
    for (int i = 0; i < n; i++, s += dim, v += dim) {
        double q = 0.0;
        for (int d = 0; d < dim; d++)
            q += s[d] * s[d];
        double f = q / ((1.0 + q) * sqrt(q + NC_SQUASH_EPS));
        for (int d = 0; d < dim; d++)
            v[d] = f * s[d];
    }
}

typedef struct squash_ctx {
    int n, dim;
    double *s, *v, *r;
} squash_ctx;

static double squash_objective(void *p)
{
    squash_ctx *t = p;
    ref_squash(t->n, t->dim, t->s, t->v);
    double acc = 0.0;
    for (int i = 0; i < t->n * t->dim; i++)
        acc += t->v[i] * t->r[i];
    return acc;
}

static void test_squash(void **state)
{
    (void)state;
    enum { N = 7, DIM = 5 };
    nc_rng rng;
    nc_rng_seed(&rng, 3);
    double s[N * DIM], v[N * DIM], r[N * DIM];
    /* capsule lengths from 0 (exactly) through 1e-4 to ~20 */
    const double scale[N] = { 0.0, 1e-4, 1e-2, 0.3, 1.0, 3.0, 9.0 };
    for (int i = 0; i < N; i++)
        for (int d = 0; d < DIM; d++)
            s[i * DIM + d] = scale[i] * (2.0 * nc_rng_uniform(&rng) - 1.0);
    nn_fill_d(r, N * DIM, &rng, -1, 1);
    float sf[N * DIM], vf[N * DIM], dv[N * DIM], ds[N * DIM], len[N];
    nn_to_float(s, sf, N * DIM);
    nc_squash_forward(N, DIM, sf, vf);
    ref_squash(N, DIM, s, v);
    for (int i = 0; i < N * DIM; i++)
        assert_true(nn_close(vf[i], v[i], 1e-6, 1e-12));
    /* squash keeps the direction and maps the length to q / (1 + q) */
    nc_caps_lengths(N, DIM, vf, len);
    for (int i = 1; i < N; i++) {
        double q = 0.0;
        for (int d = 0; d < DIM; d++)
            q += s[i * DIM + d] * s[i * DIM + d];
        assert_true(nn_close(len[i], q / (1.0 + q), 1e-5, 1e-6));
        assert_true(len[i] < 1.0f);
    }
    assert_true(vf[0] == 0.0f && len[0] < 1e-5f);
    nn_to_float(r, dv, N * DIM);
    nc_squash_backward(N, DIM, sf, dv, ds);
    squash_ctx t = { N, DIM, s, v, r };
    nn_check_grad_d("squash ds", squash_objective, &t, s, ds, N * DIM, 1e-7,
                    1e-4, 1e-7);
    /* in place: ds may be dv */
    nc_squash_backward(N, DIM, sf, dv, dv);
    assert_memory_equal(dv, ds, sizeof ds);
}

/* ---- votes ------------------------------------------------------------------ */

typedef struct votes_ctx {
    int b, ni, di, nj, dj;
    float *u, *w, *uhat;
    double *r;
} votes_ctx;

static size_t votes_n(const votes_ctx *t)
{
    return (size_t)t->b * t->ni * t->nj * t->dj;
}

static double votes_objective(void *p)
{
    votes_ctx *t = p;
    assert_int_equal(nc_caps_votes_forward(t->b, t->ni, t->di, t->nj, t->dj,
                                           t->u, t->w, t->uhat, NULL), NC_OK);
    return nn_proj(t->uhat, t->r, votes_n(t));
}

static void test_votes(void **state)
{
    (void)state;
    nc_rng rng;
    nc_rng_seed(&rng, 4);
    votes_ctx t = { .b = 3, .ni = 5, .di = 4, .nj = 3, .dj = 6 };
    size_t nu = (size_t)t.b * t.ni * t.di;
    size_t nw = (size_t)t.ni * t.di * t.nj * t.dj;
    size_t nh = votes_n(&t);
    t.u = nn_alloc(nu * 4);
    t.w = nn_alloc(nw * 4);
    t.uhat = nn_alloc(nh * 4);
    t.r = nn_alloc(nh * sizeof(double));
    nn_fill(t.u, nu, &rng, -1, 1);
    nn_fill(t.w, nw, &rng, -1, 1);
    nn_fill_d(t.r, nh, &rng, -1, 1);
    votes_objective(&t);
    /* uhat[b][i][j] = u[b][i] W[i][j], W[i] = [di, nj*dj] */
    for (int b = 0; b < t.b; b++)
        for (int i = 0; i < t.ni; i++)
            for (int j = 0; j < t.nj; j++)
                for (int e = 0; e < t.dj; e++) {
                    double acc = 0.0;
                    for (int k = 0; k < t.di; k++)
                        acc += (double)t.u[(b * t.ni + i) * t.di + k] *
                               t.w[((size_t)i * t.di + k) * t.nj * t.dj +
                                   j * t.dj + e];
                    float got = t.uhat[((b * t.ni + i) * t.nj + j) * t.dj + e];
                    assert_true(nn_close(got, acc, 1e-5, 1e-6));
                }
    float *dh = nn_alloc(nh * 4), *du = nn_alloc(nu * 4), *dw = nn_alloc(nw * 4);
    nn_to_float(t.r, dh, nh);
    nn_fill(du, nu, &rng, 7, 8);   /* overwritten */
    assert_int_equal(nc_caps_votes_backward(t.b, t.ni, t.di, t.nj, t.dj, t.u,
                                            t.w, dh, du, dw, NULL), NC_OK);
    nn_check_grad("votes du", votes_objective, &t, t.u, du, nu, 0.5f, 1e-4,
                  1e-4, 1000);
    nn_check_grad("votes dw", votes_objective, &t, t.w, dw, nw, 0.5f, 1e-4,
                  1e-4, 1000);
    nc_error err;
    assert_int_equal(nc_caps_votes_forward(t.b, 0, t.di, t.nj, t.dj, t.u, t.w,
                                           t.uhat, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg,
                        "caps_votes_forward: in_caps = 0, must be >= 1");
    free(dh); free(du); free(dw); free(t.u); free(t.w); free(t.uhat);
    free(t.r);
}

/* ---- routing --------------------------------------------------------------- */

/* Sabour et al.'s procedure in double, group by group. */
static void ref_routing(int G, int ni, int nj, int nd, int R,
                        const double *uhat, const double *bias, double *v)
{
    double *b = nn_alloc((size_t)ni * nj * sizeof(double));
    double *c = nn_alloc((size_t)ni * nj * sizeof(double));
    double *s = nn_alloc((size_t)nj * nd * sizeof(double));
    for (int g = 0; g < G; g++) {
        const double *u = uhat + (size_t)g * ni * nj * nd;
        double *vg = v + (size_t)g * nj * nd;
        memset(b, 0, (size_t)ni * nj * sizeof(double));
        for (int it = 0; it < R; it++) {
            for (int i = 0; i < ni; i++) {
                double mx = b[i * nj], sum = 0.0;
                for (int j = 1; j < nj; j++)
                    mx = b[i * nj + j] > mx ? b[i * nj + j] : mx;
                for (int j = 0; j < nj; j++)
                    sum += (c[i * nj + j] = exp(b[i * nj + j] - mx));
                for (int j = 0; j < nj; j++)
                    c[i * nj + j] /= sum;
            }
            for (int j = 0; j < nj; j++)
                for (int d = 0; d < nd; d++) {
                    double acc = bias ? bias[j * nd + d] : 0.0;
                    for (int i = 0; i < ni; i++)
                        acc += c[i * nj + j] * u[(i * nj + j) * nd + d];
                    s[j * nd + d] = acc;
                }
            ref_squash(nj, nd, s, vg);
            if (it < R - 1)
                for (int i = 0; i < ni; i++)
                    for (int j = 0; j < nj; j++)
                        for (int d = 0; d < nd; d++)
                            b[i * nj + j] += u[(i * nj + j) * nd + d] *
                                             vg[j * nd + d];
        }
    }
    free(b);
    free(c);
    free(s);
}

typedef struct routing_ctx {
    int G, ni, nj, nd, R;
    double *uhat, *bias, *v, *r;
} routing_ctx;

static double routing_objective(void *p)
{
    routing_ctx *t = p;
    ref_routing(t->G, t->ni, t->nj, t->nd, t->R, t->uhat, t->bias, t->v);
    double acc = 0.0;
    for (int i = 0; i < t->G * t->nj * t->nd; i++)
        acc += t->v[i] * t->r[i];
    return acc;
}

static void check_routing(int R, int with_bias, nc_rng *rng)
{
    routing_ctx t = { .G = 3, .ni = 5, .nj = 3, .nd = 10, .R = R };
    size_t nh = (size_t)t.G * t.ni * t.nj * t.nd;
    size_t nv = (size_t)t.G * t.nj * t.nd, nb = (size_t)t.nj * t.nd;
    t.uhat = nn_alloc(nh * sizeof(double));
    t.v = nn_alloc(nv * sizeof(double));
    t.r = nn_alloc(nv * sizeof(double));
    /* votes of length ~1: routing then really moves the couplings */
    nn_fill_d(t.uhat, nh, rng, -1.2, 1.2);
    nn_fill_d(t.r, nv, rng, -1, 1);
    if (with_bias) {
        t.bias = nn_alloc(nb * sizeof(double));
        nn_fill_d(t.bias, nb, rng, -0.3, 0.3);
    }
    nc_routing rt;
    nc_error err;
    assert_int_equal(nc_routing_init(&rt, t.ni, t.nj, t.nd, R, &err), NC_OK);
    size_t ncache = nc_routing_cache_floats(&rt, t.G);
    size_t wsb = nc_routing_workspace(&rt);
    float *uf = nn_alloc(nh * 4), *bf = nn_alloc(nb * 4), *vf = nn_alloc(nv * 4),
          *cache = nn_alloc(ncache * 4), *dv = nn_alloc(nv * 4),
          *duhat = nn_alloc(nh * 4), *dbias = nn_alloc(nb * 4);
    void *ws = nn_alloc(wsb);
    nn_to_float(t.uhat, uf, nh);
    if (with_bias)
        nn_to_float(t.bias, bf, nb);
    const float *bias = with_bias ? bf : NULL;
    assert_int_equal(nc_routing_forward(&rt, t.G, uf, bias, vf, cache, ncache,
                                        ws, wsb, &err), NC_OK);
    routing_objective(&t);
    double md = nn_maxdiff(vf, t.v, nv);
    if (md > 1e-5)
        fail_msg("routing R=%d: forward differs by %g", R, md);
    /* forward without a cache gives the same v */
    float *v2 = nn_alloc(nv * 4);
    assert_int_equal(nc_routing_forward(&rt, t.G, uf, bias, v2, NULL, 0, ws,
                                        wsb, &err), NC_OK);
    assert_memory_equal(v2, vf, nv * 4);

    nn_to_float(t.r, dv, nv);
    nn_fill(duhat, nh, rng, 3, 4);   /* overwritten */
    assert_int_equal(nc_routing_backward(&rt, t.G, uf, cache, ncache, dv,
                                         duhat, with_bias ? dbias : NULL, ws,
                                         wsb, &err), NC_OK);
    char what[64];
    snprintf(what, sizeof what, "routing R=%d duhat", R);
    nn_check_grad_d(what, routing_objective, &t, t.uhat, duhat, nh, 1e-6,
                    1e-3, 1e-5);
    if (with_bias) {
        snprintf(what, sizeof what, "routing R=%d dbias", R);
        nn_check_grad_d(what, routing_objective, &t, t.bias, dbias, nb, 1e-6,
                        1e-3, 1e-5);
    }
    free(uf); free(bf); free(vf); free(cache); free(dv); free(duhat);
    free(dbias); free(ws); free(v2);
    free(t.uhat); free(t.v); free(t.r); free(t.bias);
}

static void test_routing(void **state)
{
    (void)state;
    nc_rng rng;
    nc_rng_seed(&rng, 8);
    for (int R = 1; R <= 3; R++)
        for (int with_bias = 0; with_bias < 2; with_bias++)
            check_routing(R, with_bias, &rng);
}

/* Routing must matter: with 3 iterations the couplings move away from
 * uniform, so the result differs from one iteration (a stop-gradient or a
 * no-op update would still pass the gradient checks of R = 1). */
static void test_routing_iterations_differ(void **state)
{
    (void)state;
    nc_rng rng;
    nc_rng_seed(&rng, 9);
    enum { NI = 8, NJ = 4, ND = 4 };
    float u[NI * NJ * ND], v1[NJ * ND], v3[NJ * ND];
    nn_fill(u, NI * NJ * ND, &rng, -1, 1);
    nc_routing r1, r3;
    assert_int_equal(nc_routing_init(&r1, NI, NJ, ND, 1, NULL), NC_OK);
    assert_int_equal(nc_routing_init(&r3, NI, NJ, ND, 3, NULL), NC_OK);
    size_t wsb = nc_routing_workspace(&r3);
    void *ws = nn_alloc(wsb);
    assert_int_equal(nc_routing_forward(&r1, 1, u, NULL, v1, NULL, 0, ws, wsb,
                                        NULL), NC_OK);
    assert_int_equal(nc_routing_forward(&r3, 1, u, NULL, v3, NULL, 0, ws, wsb,
                                        NULL), NC_OK);
    double diff = 0.0;
    for (int i = 0; i < NJ * ND; i++)
        diff += fabs(v1[i] - v3[i]);
    assert_true(diff > 1e-2);
    nc_error err;
    assert_int_equal(nc_routing_forward(&r3, 1, u, NULL, v3, NULL, 0, ws, 8,
                                        &err), NC_ERR_INPUT);
    char want[128];
    snprintf(want, sizeof want,
             "routing_forward: workspace of 8 bytes, needs %zu", wsb);
    assert_string_equal(err.msg, want);
    float cache[4];
    assert_int_equal(nc_routing_forward(&r3, 1, u, NULL, v3, cache, 4, ws, wsb,
                                        &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "routing_forward: cache of 4 floats, needs %zu",
             nc_routing_cache_floats(&r3, 1));
    assert_string_equal(err.msg, want);
    assert_int_equal(nc_routing_init(&r1, NI, NJ, ND, 0, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "routing: iters = 0, must be >= 1");
    free(ws);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_squash),
        cmocka_unit_test(test_votes),
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_routing_iterations_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
