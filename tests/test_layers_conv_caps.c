/* test_layers_conv_caps.c - training entries of the conv and caps layer
 * plugins, loaded through the registry as the trainer loads them.
 *
 * Gradients: every backward is checked against central differences of
 * L = sum(out * R) for a fixed random R, with L summed in double. The layers
 * compute in float32, so a difference with step eps carries a rounding error
 * of about 1e-7 |L| / eps (|L| ~ 10 here) on top of the truncation error
 * eps^2 f'''/6: eps = 1e-2 balances both for the smooth layers (squash,
 * routing) and leaves ~1e-3 relative error; ReLU layers use eps = 1e-3 so a
 * step rarely crosses a kink (a crossing only disturbs the one difference
 * it happens in). Hence the bounds: the vector of differences matches the
 * analytic gradient to 1e-2 relative (2-norm), and every element to
 * 3e-2 of the gradient's largest entry plus 3e-2 of its own size. */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nascaps/layer.h"
#include "nascaps/nn.h"
#include "nascaps/registry.h"
#include "nc_test.h"

#if defined(__SANITIZE_ADDRESS__)
/* ASan's allocator (libasan; gcc ships no header for it): mallinfo2 does
 * not see ASan's heap. */
size_t __sanitizer_get_current_allocated_bytes(void);
#define LC_ASAN 1
#endif

static nc_registry *lc_reg;
static const nc_layer_ops *lc_conv, *lc_caps;

static const nc_layer_ops *lc_find(const char *name)
{
    const nc_plugin_info *info = NULL;
    nc_error err = {0};
    int rc = nc_registry_find(lc_reg, NC_KIND_LAYER, name, NULL, &info, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, NC_OK);
    const nc_layer_ops *ops = nc_plugin_ops(info);
    assert_true(nc_layer_can_train(ops));
    return ops;
}

static int lc_setup(void **state)
{
    (void)state;
    lc_reg = nc_registry_new();
    if (!lc_reg)
        return -1;
    lc_conv = lc_find("conv");
    lc_caps = lc_find("caps");
    return 0;
}

static int lc_teardown(void **state)
{
    (void)state;
    nc_registry_free(lc_reg);
    return 0;
}

/* ---- a layer under test ---------------------------------------------------- */

typedef struct lc_harness {
    const nc_layer_ops *ops;
    nc_genotype geno;
    nc_layer_ctx ctx;
    nc_layer_train_cfg cfg;
    nc_layer_info info;
    void *layer;
    void *ws;
    size_t ws_bytes;
    int n;
    size_t n_in, n_out;     /* floats per batch */
    float *in, *out, *r, *din;
} lc_harness;

static void lc_genotype(nc_genotype *g, const int (*genes)[NC_GENE_FIELDS], int n_genes)
{
    memset(g, 0, sizeof *g);
    g->n_layers = n_genes;
    for (int i = 0; i < n_genes; i++) {
        const int *v = genes[i];
        nc_gene gene = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]};
        g->layers[i] = gene;
    }
    g->skip = -1;
    g->resize = 1;
}

static size_t lc_shape_floats(nc_shape s)
{
    return (size_t)s.h * s.w * s.ch * s.dim;
}

/* Creates gene `index` of genes for batch n; inputs uniform in [lo, hi]. */
static void lc_open(lc_harness *h, const int (*genes)[NC_GENE_FIELDS], int n_genes, int index,
                    nc_layer_role role, int n, int relu, int routings, uint64_t seed)
{
    memset(h, 0, sizeof *h);
    h->ops = role == NC_ROLE_CONV ? lc_conv : lc_caps;
    lc_genotype(&h->geno, genes, n_genes);
    h->ctx.genotype = &h->geno;
    h->ctx.index = index;
    h->ctx.role = role;
    h->ctx.routings = routings;
    h->cfg.max_batch = n;
    h->cfg.routings = routings;
    h->cfg.conv_relu = relu;
    h->n = n;
    nc_error err = {0};
    assert_int_equal(h->ops->describe(&h->ctx, &h->info, &err), NC_OK);
    nc_rng rng;
    nc_rng_seed(&rng, seed);
    int rc = h->ops->create(&h->ctx, &h->cfg, &rng, &h->layer, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, NC_OK);
    h->ws_bytes = h->ops->workspace(h->layer);
    h->ws = malloc(h->ws_bytes ? h->ws_bytes : 1);
    h->n_in = lc_shape_floats(h->info.in) * (size_t)n;
    h->n_out = lc_shape_floats(h->info.out) * (size_t)n;
    h->in = malloc(h->n_in * sizeof(float));
    h->din = malloc(h->n_in * sizeof(float));
    h->out = malloc(h->n_out * sizeof(float));
    h->r = malloc(h->n_out * sizeof(float));
    assert_non_null(h->ws);
    assert_true(h->in && h->din && h->out && h->r);
    for (size_t i = 0; i < h->n_in; i++)
        h->in[i] = (float)nc_rng_uniform(&rng);
    for (size_t i = 0; i < h->n_out; i++)
        h->r[i] = (float)(2.0 * nc_rng_uniform(&rng) - 1.0);
}

static void lc_close(lc_harness *h)
{
    h->ops->destroy(h->layer);
    free(h->ws);
    free(h->in);
    free(h->din);
    free(h->out);
    free(h->r);
}

static void lc_forward(lc_harness *h, int training)
{
    nc_error err = {0};
    const float *ins[1] = {h->in};
    int rc = h->ops->forward(h->layer, h->n, ins, h->out, training, h->ws, h->ws_bytes, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, NC_OK);
}

static void lc_backward(lc_harness *h, float *din)
{
    nc_error err = {0};
    const float *ins[1] = {h->in};
    float *dins[1] = {din};
    int rc = h->ops->backward(h->layer, h->n, ins, h->out, h->r, dins, h->ws, h->ws_bytes,
                              &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, NC_OK);
}

static double lc_loss(lc_harness *h)
{
    lc_forward(h, 1);
    double acc = 0.0;
    for (size_t i = 0; i < h->n_out; i++)
        acc += (double)h->out[i] * h->r[i];
    return acc;
}

static int lc_tensors(lc_harness *h, nc_tensor_ref *list, int cap)
{
    int count = h->ops->tensors(h->layer, list, cap);
    assert_true(count >= 1 && count <= cap);
    return count;
}

/* Compares an analytic gradient with central differences of lc_loss
 * over the entries of x (at most max_checks of them, spread evenly).
 * With kinks (ReLU), a step that crosses one makes the central difference
 * a blend of both slopes; the two one-sided differences then disagree, and
 * the analytic gradient must match the one on the kink-free side. */
static void lc_check(lc_harness *h, const char *what, float *x, const float *an, size_t count,
                     double eps, int kinks, size_t max_checks)
{
    size_t step = count > max_checks ? (count + max_checks - 1) / max_checks : 1;
    double amax = 0.0, dn = 0.0, an2 = 0.0;
    for (size_t i = 0; i < count; i += step)
        amax = fmax(amax, fabs(an[i]));
    const double l0 = kinks ? lc_loss(h) : 0.0;
    size_t checked = 0, one_sided = 0;
    for (size_t i = 0; i < count; i += step, checked++) {
        float keep = x[i];
        x[i] = (float)(keep + eps);
        double lp = lc_loss(h);
        x[i] = (float)(keep - eps);
        double lm = lc_loss(h);
        x[i] = keep;
        const double tol = 3e-2 * amax + 3e-2 * fabs(an[i]) + 1e-5;
        double fd = (lp - lm) / (2.0 * eps);
        double d = fabs(fd - an[i]);
        if (kinks && d > tol / 6.0) {
            double right = (lp - l0) / eps, left = (l0 - lm) / eps;
            double side = fabs(right - an[i]) < fabs(left - an[i]) ? right : left;
            if (fabs(side - an[i]) < d) {
                fd = side;
                d = fabs(fd - an[i]);
                one_sided++;
            }
        }
        if (d > tol) {
            fprintf(stderr, "%s[%zu]: analytic %.6g, differences %.6g (max |g| %.3g)\n", what,
                    i, an[i], fd, amax);
            fail();
        }
        dn += d * d;
        an2 += (double)an[i] * an[i];
    }
    assert_true(checked > 0);
    /* kinks are rare: most entries pass the central difference */
    assert_true(one_sided <= 1 + checked / 10);
    if (amax > 0.0 && sqrt(dn) > 1e-2 * sqrt(an2)) {
        fprintf(stderr, "%s: |fd - analytic| %.3g vs |analytic| %.3g\n", what, sqrt(dn),
                sqrt(an2));
        fail();
    }
    assert_true(amax > 0.0);   /* a zero gradient would check nothing */
}

/* Every gradient of the layer: the input's (unless skip_din) and each
 * trainable tensor's; parameter gradients must also accumulate. */
static void lc_check_all(lc_harness *h, double eps, int kinks, int skip_din)
{
    nc_tensor_ref t[8];
    int nt = lc_tensors(h, t, 8);
    for (int i = 0; i < nt; i++)
        if (t[i].grad)
            memset(t[i].grad, 0, t[i].count * sizeof(float));
    lc_loss(h);
    for (size_t i = 0; i < h->n_in; i++)
        h->din[i] = NAN;   /* backward must overwrite every entry */
    lc_backward(h, skip_din ? NULL : h->din);
    float *grads[8] = {0};
    for (int i = 0; i < nt; i++) {
        if (!t[i].grad)
            continue;
        grads[i] = malloc(t[i].count * sizeof(float));
        assert_non_null(grads[i]);
        memcpy(grads[i], t[i].grad, t[i].count * sizeof(float));
    }
    /* a second backward adds the same again */
    lc_loss(h);
    lc_backward(h, NULL);
    for (int i = 0; i < nt; i++)
        for (size_t e = 0; grads[i] && e < t[i].count; e++)
            assert_true(fabsf(t[i].grad[e] - 2.0f * grads[i][e]) <=
                        1e-5f * (1.0f + fabsf(grads[i][e])));
    if (!skip_din) {
        for (size_t i = 0; i < h->n_in; i++)
            assert_false(isnan(h->din[i]));
        lc_check(h, "din", h->in, h->din, h->n_in, eps, kinks, 400);
    }
    for (int i = 0; i < nt; i++) {
        if (!grads[i])
            continue;
        lc_check(h, t[i].name, t[i].value, grads[i], t[i].count, eps, kinks, 400);
        free(grads[i]);
    }
}

/* ---- conv ------------------------------------------------------------------- */

static void test_conv_gradients(void **state)
{
    (void)state;
    const int ks[] = {1, 3, 5, 9};
    for (int ki = 0; ki < 4; ki++) {
        for (int stride = 1; stride <= 2; stride++) {
            for (int relu = 0; relu <= 1; relu++) {
                int k = ks[ki], out = (6 + stride - 1) / stride;
                /* two capsule types of dim 1 in, 3 x 2 channels out */
                const int genes[2][NC_GENE_FIELDS] = {
                    {0, 6, 1, 2, k, stride, out, 3, 2},
                    {1, out, 3, 2, out, 1, 1, 2, 4},
                };
                lc_harness h;
                lc_open(&h, genes, 2, 0, NC_ROLE_CONV, 3, relu, 3, 100 + 10 * k + stride);
                lc_check_all(&h, relu ? 1e-3 : 1e-2, relu, 0);
                lc_close(&h);
            }
        }
    }
}

/* The first layer's input gradient (the images) is not wanted. */
static void test_conv_no_input_gradient(void **state)
{
    (void)state;
    const int genes[2][NC_GENE_FIELDS] = {{0, 5, 1, 1, 3, 1, 5, 4, 1}, {1, 5, 4, 1, 5, 1, 1, 2, 3}};
    lc_harness h;
    lc_open(&h, genes, 2, 0, NC_ROLE_CONV, 2, 1, 3, 7);
    lc_check_all(&h, 1e-3, 1, 1);
    lc_close(&h);
}

/* bn.mean / bn.var follow the batch in training mode (momentum 0.99,
 * unbiased variance) and are what evaluation mode normalises with. */
static void test_conv_batchnorm_state(void **state)
{
    (void)state;
    const int genes[2][NC_GENE_FIELDS] = {{0, 5, 2, 1, 3, 2, 3, 4, 1}, {1, 3, 4, 1, 3, 1, 1, 2, 3}};
    lc_harness h;
    lc_open(&h, genes, 2, 0, NC_ROLE_CONV, 4, 0, 3, 11);
    nc_tensor_ref t[8];
    int nt = lc_tensors(&h, t, 8);
    assert_int_equal(nt, 5);
    float *gamma = t[1].value, *beta = t[2].value, *rmean = t[3].value, *rvar = t[4].value;
    const int C = 4;
    const size_t rows = h.n_out / C;
    for (int c = 0; c < C; c++) {
        assert_true(rmean[c] == 0.0f && rvar[c] == 1.0f && gamma[c] == 1.0f && beta[c] == 0.0f);
    }
    /* evaluation at the initial state: the convolution / sqrt(1 + eps) */
    lc_forward(&h, 0);
    double *pre = malloc(h.n_out * sizeof(double));
    assert_non_null(pre);
    for (size_t i = 0; i < h.n_out; i++)
        pre[i] = h.out[i] * sqrt(1.0 + NC_BN_EPS);
    double mean[4] = {0}, var[4] = {0};
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < C; c++)
            mean[c] += pre[r * C + c] / (double)rows;
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < C; c++)
            var[c] += pow(pre[r * C + c] - mean[c], 2) / (double)rows;
    /* evaluation leaves the state alone */
    assert_true(rmean[0] == 0.0f && rvar[0] == 1.0f);
    lc_forward(&h, 1);
    for (int c = 0; c < C; c++) {
        double unbiased = var[c] * (double)rows / (double)(rows - 1);
        assert_true(fabs(rmean[c] - 0.01 * mean[c]) < 1e-5 * (1.0 + fabs(mean[c])));
        assert_true(fabs(rvar[c] - (0.99 + 0.01 * unbiased)) < 1e-5 * (1.0 + unbiased));
        /* the output of a training forward has the batch's statistics removed */
        double m = 0.0, v = 0.0;
        for (size_t r = 0; r < rows; r++)
            m += h.out[r * C + c] / (double)rows;
        for (size_t r = 0; r < rows; r++)
            v += pow(h.out[r * C + c] - m, 2) / (double)rows;
        assert_true(fabs(m) < 1e-4);
        assert_true(fabs(v - var[c] / (var[c] + NC_BN_EPS)) < 1e-3);
    }
    /* evaluation normalises with the running statistics and gamma, beta */
    for (int c = 0; c < C; c++) {
        rmean[c] = (float)(0.3 * c - 0.2);
        rvar[c] = (float)(0.5 + c);
        gamma[c] = (float)(1.5 - 0.25 * c);
        beta[c] = (float)(0.1 * c);
    }
    lc_forward(&h, 0);
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < C; c++) {
            double want = gamma[c] * (pre[r * C + c] - rmean[c]) / sqrt(rvar[c] + NC_BN_EPS) +
                          beta[c];
            assert_true(fabs(h.out[r * C + c] - want) < 1e-4 * (1.0 + fabs(want)));
        }
    /* a backward needs the caches of a training forward of the same batch */
    nc_error err = {0};
    const float *ins[1] = {h.in};
    float *dins[1] = {h.din};
    assert_int_equal(h.ops->backward(h.layer, h.n, ins, h.out, h.r, dins, h.ws, h.ws_bytes, &err),
                     NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "conv layer 1 backward: batch 4, but the last training "
                                    "forward saw 0"));
    free(pre);
    lc_close(&h);
}

/* ReLU (the default) is applied after batch norm; conv_relu = 0 drops it. */
static void test_conv_relu_option(void **state)
{
    (void)state;
    const int genes[2][NC_GENE_FIELDS] = {{0, 4, 3, 1, 3, 1, 4, 5, 1}, {1, 4, 5, 1, 4, 1, 1, 2, 3}};
    lc_harness a, b;
    lc_open(&a, genes, 2, 0, NC_ROLE_CONV, 2, 1, 3, 5);
    lc_open(&b, genes, 2, 0, NC_ROLE_CONV, 2, 0, 3, 5);
    memcpy(b.in, a.in, a.n_in * sizeof(float));
    /* the same weights: He and Glorot draw from one stream, so copy them */
    nc_tensor_ref ta[8], tb[8];
    lc_tensors(&a, ta, 8);
    lc_tensors(&b, tb, 8);
    memcpy(tb[0].value, ta[0].value, ta[0].count * sizeof(float));
    lc_forward(&a, 1);
    lc_forward(&b, 1);
    int negatives = 0;
    for (size_t i = 0; i < a.n_out; i++) {
        assert_true(a.out[i] == (b.out[i] > 0.0f ? b.out[i] : 0.0f));
        negatives += b.out[i] < 0.0f;
    }
    assert_true(negatives > 0);
    lc_close(&a);
    lc_close(&b);
}

/* ---- caps ------------------------------------------------------------------- */

static void test_primary_caps_gradients(void **state)
{
    (void)state;
    /* 3x3 stride 2 (im2col) and 1x1 stride 1 (direct GEMM) */
    const int a[3][NC_GENE_FIELDS] = {
        {0, 6, 1, 1, 3, 1, 6, 4, 1}, {1, 6, 4, 1, 3, 2, 3, 2, 4}, {1, 3, 2, 4, 3, 1, 1, 2, 3}};
    const int b[3][NC_GENE_FIELDS] = {
        {0, 5, 1, 1, 3, 1, 5, 2, 2}, {1, 5, 2, 2, 1, 1, 5, 3, 2}, {1, 5, 3, 2, 5, 1, 1, 2, 3}};
    lc_harness h;
    lc_open(&h, a, 3, 1, NC_ROLE_CAPS, 3, 1, 3, 21);
    lc_check_all(&h, 1e-2, 0, 0);
    lc_close(&h);
    lc_open(&h, b, 3, 1, NC_ROLE_CAPS, 2, 1, 3, 22);
    lc_check_all(&h, 1e-2, 0, 0);
    lc_close(&h);
}

/* Fills h->in with squashed capsules of dim `dim` (lengths 0.2 .. 0.9),
 * what a capsule layer hands the class capsules. */
static void lc_squashed_input(lc_harness *h, int dim, uint64_t seed)
{
    nc_rng rng;
    nc_rng_seed(&rng, seed);
    for (size_t i = 0; i < h->n_in; i++)
        h->in[i] = (float)nc_rng_normal(&rng);
    for (size_t c = 0; c < h->n_in / (size_t)dim; c++) {
        float *u = h->in + c * (size_t)dim;
        double q = 0.0;
        for (int d = 0; d < dim; d++)
            q += (double)u[d] * u[d];
        double len = 0.2 + 0.7 * nc_rng_uniform(&rng);
        for (int d = 0; d < dim; d++)
            u[d] = (float)(u[d] * len / sqrt(q));
    }
}

static void test_class_caps_gradients(void **state)
{
    (void)state;
    const int genes[3][NC_GENE_FIELDS] = {
        {0, 3, 1, 1, 3, 1, 3, 8, 1}, {1, 3, 8, 1, 3, 1, 3, 2, 4}, {1, 3, 2, 4, 3, 1, 1, 3, 5}};
    for (int routings = 1; routings <= 3; routings++) {
        lc_harness h;
        lc_open(&h, genes, 3, 2, NC_ROLE_CLASS_CAPS, 2, 1, routings, 30 + routings);
        assert_int_equal(h.n_in, 2 * 18 * 4);
        assert_int_equal(h.n_out, 2 * 3 * 5);
        lc_squashed_input(&h, 4, 40 + routings);
        lc_check_all(&h, 1e-2, 0, 0);
        lc_close(&h);
    }
}

/* Routing iterations come from the train cfg, else from the ctx: they
 * change the output, and one iteration is the plain average of the votes. */
static void test_class_caps_routings(void **state)
{
    (void)state;
    const int genes[3][NC_GENE_FIELDS] = {
        {0, 2, 1, 1, 3, 1, 2, 8, 1}, {1, 2, 8, 1, 3, 1, 2, 2, 4}, {1, 2, 2, 4, 2, 1, 1, 3, 2}};
    lc_harness h1, h3;
    lc_open(&h1, genes, 3, 2, NC_ROLE_CLASS_CAPS, 1, 1, 1, 9);
    lc_open(&h3, genes, 3, 2, NC_ROLE_CLASS_CAPS, 1, 1, 3, 9);
    lc_squashed_input(&h1, 4, 1);
    memcpy(h3.in, h1.in, h1.n_in * sizeof(float));
    lc_forward(&h1, 0);
    lc_forward(&h3, 0);
    nc_tensor_ref t[2];
    assert_int_equal(lc_tensors(&h1, t, 2), 1);
    const float *w = t[0].value;
    /* one iteration: v_j = squash(1/3 sum_i u_i W_ij) */
    float s[6] = {0}, v[6];
    for (int i = 0; i < 8; i++)
        for (int e = 0; e < 4; e++)
            for (int jd = 0; jd < 6; jd++)
                s[jd] += h1.in[i * 4 + e] * w[(i * 4 + e) * 6 + jd] / 3.0f;
    nc_squash_forward(3, 2, s, v);
    double diff = 0.0;
    for (int jd = 0; jd < 6; jd++) {
        assert_true(fabsf(h1.out[jd] - v[jd]) < 1e-5f);
        diff += fabs(h1.out[jd] - h3.out[jd]);
    }
    assert_true(diff > 1e-4);
    /* evaluation and training forwards agree (no state in capsules) */
    float keep[6];
    memcpy(keep, h3.out, sizeof keep);
    lc_forward(&h3, 1);
    assert_memory_equal(keep, h3.out, sizeof keep);
    lc_close(&h1);
    lc_close(&h3);
}

/* A layer with 16 MiB of votes an image goes through the batch in chunks
 * of 32 MiB of votes (here 2 + 1 images): the batch must give what the
 * images give one at a time, and its gradients their sums. */
static void test_class_caps_chunks(void **state)
{
    (void)state;
    const int genes[3][NC_GENE_FIELDS] = {
        {0, 16, 1, 1, 3, 1, 16, 64, 1}, {1, 16, 64, 1, 3, 1, 16, 32, 2},
        {1, 16, 32, 2, 16, 1, 1, 16, 32}};
    lc_harness h;
    lc_open(&h, genes, 3, 2, NC_ROLE_CLASS_CAPS, 3, 1, 3, 50);
    lc_squashed_input(&h, 2, 51);
    nc_tensor_ref t[2];
    assert_int_equal(lc_tensors(&h, t, 2), 1);
    const size_t in1 = h.n_in / 3, out1 = h.n_out / 3, nw = t[0].count;
    float *v = malloc(h.n_out * sizeof(float)), *du = malloc(h.n_in * sizeof(float));
    float *dw = calloc(nw, sizeof(float));
    assert_true(v && du && dw);
    memset(t[0].grad, 0, nw * sizeof(float));
    lc_forward(&h, 1);
    memcpy(v, h.out, h.n_out * sizeof(float));
    lc_backward(&h, h.din);
    memcpy(du, h.din, h.n_in * sizeof(float));
    memcpy(dw, t[0].grad, nw * sizeof(float));
    memset(t[0].grad, 0, nw * sizeof(float));
    nc_error err = {0};
    for (int b = 0; b < 3; b++) {
        const float *ins[1] = {h.in + b * in1};
        float *dins[1] = {h.din};
        assert_int_equal(h.ops->forward(h.layer, 1, ins, h.out, 1, h.ws, h.ws_bytes, &err), 0);
        for (size_t e = 0; e < out1; e++)
            assert_true(fabsf(h.out[e] - v[b * out1 + e]) <= 1e-6f);
        assert_int_equal(h.ops->backward(h.layer, 1, ins, h.out, h.r + b * out1, dins, h.ws,
                                         h.ws_bytes, &err), 0);
        for (size_t e = 0; e < in1; e++) {
            float want = du[b * in1 + e];
            assert_true(fabsf(h.din[e] - want) <= 1e-5f * (1.0f + fabsf(want)));
        }
    }
    for (size_t e = 0; e < nw; e++)
        assert_true(fabsf(t[0].grad[e] - dw[e]) <= 1e-5f * (1.0f + fabsf(dw[e])));
    free(v);
    free(du);
    free(dw);
    lc_close(&h);
}

/* ---- tensors, counts, memory ----------------------------------------------- */

static void lc_expect_tensors(lc_harness *h, const char *const *names, const int *trainable,
                              int count)
{
    nc_tensor_ref t[8];
    assert_int_equal(h->ops->tensors(h->layer, t, 0), count);
    assert_int_equal(lc_tensors(h, t, 8), count);
    int64_t params = 0;
    for (int i = 0; i < count; i++) {
        assert_string_equal(t[i].name, names[i]);
        assert_int_equal(t[i].grad != NULL, trainable[i]);
        assert_non_null(t[i].value);
        assert_true(t[i].count > 0);
        if (t[i].grad)
            params += (int64_t)t[i].count;
    }
    assert_int_equal(params, h->info.params);
}

static void test_tensors_and_counts(void **state)
{
    (void)state;
    const int genes[3][NC_GENE_FIELDS] = {
        {0, 8, 1, 1, 5, 1, 8, 6, 1}, {1, 8, 6, 1, 3, 2, 4, 3, 4}, {1, 4, 3, 4, 4, 1, 1, 5, 6}};
    lc_harness h;
    static const char *const conv_names[] = {"w", "bn.gamma", "bn.beta", "bn.mean", "bn.var"};
    static const int conv_train[] = {1, 1, 1, 0, 0};
    lc_open(&h, genes, 3, 0, NC_ROLE_CONV, 2, 1, 3, 1);
    lc_expect_tensors(&h, conv_names, conv_train, 5);
    assert_int_equal(h.info.params, 5 * 5 * 1 * 6 + 2 * 6);
    lc_close(&h);
    static const char *const caps_names[] = {"w", "b"};
    static const int caps_train[] = {1, 1};
    lc_open(&h, genes, 3, 1, NC_ROLE_CAPS, 2, 1, 3, 2);
    lc_expect_tensors(&h, caps_names, caps_train, 2);
    assert_int_equal(h.info.params, 3 * 3 * 6 * 12 + 12);
    lc_close(&h);
    lc_open(&h, genes, 3, 2, NC_ROLE_CLASS_CAPS, 2, 1, 2, 3);
    lc_expect_tensors(&h, caps_names, caps_train, 1);
    assert_int_equal(h.info.params, 4 * 4 * 3 * 4 * 5 * 6);
    lc_close(&h);
}

static size_t lc_heap_bytes(void)
{
#ifdef LC_ASAN
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

/* train_bytes is what create() then allocates, within 10 %. */
static void lc_expect_bytes(const nc_layer_ops *ops, const int (*genes)[NC_GENE_FIELDS],
                            int n_genes, int index, nc_layer_role role, int batch)
{
    nc_genotype g;
    lc_genotype(&g, genes, n_genes);
    nc_layer_ctx ctx = {&g, index, role, 3};
    nc_layer_train_cfg cfg = {batch, 3, 1, NULL};
    int64_t estimate = ops->train_bytes(&ctx, &cfg);
    assert_true(estimate > 0);
    nc_rng rng;
    nc_rng_seed(&rng, 1);
    nc_error err = {0};
    void *layer = NULL;
    size_t before = lc_heap_bytes();
    assert_int_equal(ops->create(&ctx, &cfg, &rng, &layer, &err), NC_OK);
    size_t used = lc_heap_bytes() - before;
    ops->destroy(layer);
    if (fabs((double)used - (double)estimate) > 0.1 * (double)used) {
        fprintf(stderr, "gene %d: train_bytes %lld, create allocated %zu\n", index + 1,
                (long long)estimate, used);
        fail();
    }
}

static void test_train_bytes(void **state)
{
    (void)state;
    const int genes[3][NC_GENE_FIELDS] = {
        {0, 16, 1, 1, 5, 1, 16, 32, 1}, {1, 16, 32, 1, 5, 2, 8, 8, 8}, {1, 8, 8, 8, 8, 1, 1, 10, 16}};
    lc_expect_bytes(lc_conv, genes, 3, 0, NC_ROLE_CONV, 16);
    lc_expect_bytes(lc_caps, genes, 3, 1, NC_ROLE_CAPS, 16);
    lc_expect_bytes(lc_caps, genes, 3, 2, NC_ROLE_CLASS_CAPS, 16);
    /* refused sizes: a negative estimate, create says why */
    nc_genotype g;
    lc_genotype(&g, genes, 3);
    nc_layer_ctx ctx = {&g, 0, NC_ROLE_CONV, 3};
    nc_layer_train_cfg cfg = {0, 3, 1, NULL};
    assert_true(lc_conv->train_bytes(&ctx, &cfg) < 0);
    nc_rng rng;
    nc_rng_seed(&rng, 1);
    nc_error err = {0};
    void *layer = (void *)&err;
    assert_int_equal(lc_conv->create(&ctx, &cfg, &rng, &layer, &err), NC_ERR_INPUT);
    assert_null(layer);
    assert_string_equal(err.msg, "conv layer 1: max_batch 0, must be >= 1");
    /* absurd sizes: refused (negative), never overflowed into a small number */
    const int huge[2][NC_GENE_FIELDS] = {
        {0, 4096, 4096, 4096, 4096, 1, 4096, 4096, 4096}, {1, 4096, 4096, 4096, 9, 1, 1, 10, 16}};
    nc_genotype hg;
    lc_genotype(&hg, huge, 2);
    nc_layer_ctx hctx = {&hg, 0, NC_ROLE_CONV, 3};
    cfg.max_batch = 100;
    assert_true(lc_conv->train_bytes(&hctx, &cfg) < 0);
    hctx.index = 1;
    hctx.role = NC_ROLE_CLASS_CAPS;
    assert_true(lc_caps->train_bytes(&hctx, &cfg) < 0);
    assert_int_equal(lc_caps->create(&hctx, &cfg, &rng, &layer, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "caps layer 2: 68719476736 input capsules too many");
    hctx.role = NC_ROLE_CAPS;
    assert_true(lc_caps->train_bytes(&hctx, &cfg) < 0);
    cfg.max_batch = 0;
    ctx.role = NC_ROLE_CAPS;   /* conv cannot serve it */
    cfg.max_batch = 1;
    assert_true(lc_conv->train_bytes(&ctx, &cfg) < 0);
    assert_int_not_equal(lc_conv->create(&ctx, &cfg, &rng, &layer, &err), NC_OK);
}

/* A batch over max_batch or a short workspace is refused, not overrun. */
static void test_refusals(void **state)
{
    (void)state;
    const int genes[3][NC_GENE_FIELDS] = {
        {0, 4, 1, 1, 3, 1, 4, 4, 1}, {1, 4, 4, 1, 3, 1, 4, 2, 4}, {1, 4, 2, 4, 4, 1, 1, 3, 4}};
    for (int i = 0; i < 3; i++) {
        nc_layer_role role = i == 0 ? NC_ROLE_CONV : i == 1 ? NC_ROLE_CAPS : NC_ROLE_CLASS_CAPS;
        lc_harness h;
        lc_open(&h, genes, 3, i, role, 2, 1, 3, 4);
        nc_error err = {0};
        const float *ins[1] = {h.in};
        assert_int_equal(h.ops->forward(h.layer, 3, ins, h.out, 1, h.ws, h.ws_bytes, &err),
                         NC_ERR_INPUT);
        assert_non_null(strstr(err.msg, "forward: batch 3 not in [1, 2]"));
        lc_forward(&h, 1);
        float *dins[1] = {h.din};
        assert_int_equal(h.ops->backward(h.layer, 2, ins, h.out, h.r, dins, h.ws, 8, &err),
                         NC_ERR_INPUT);
        assert_non_null(strstr(err.msg, "backward: workspace of 8 bytes, needs"));
        lc_close(&h);
    }
}

/* ---- initialisation ---------------------------------------------------------- */

/* Mean pre-squash length of squashed capsules: |v| = q / (1 + q), |s| = sqrt(q). */
static double lc_mean_presquash(const float *v, size_t n_caps, int dim)
{
    double acc = 0.0;
    for (size_t c = 0; c < n_caps; c++) {
        double l = 0.0;
        for (int d = 0; d < dim; d++)
            l += (double)v[c * dim + d] * v[c * dim + d];
        l = sqrt(l);
        acc += sqrt(l / (1.0 - l));
    }
    return acc / (double)n_caps;
}

/* CapsNet at init: primary capsules O(1) before the squash on [0, 1]
 * inputs and on conv1's output; class capsules neither vanished nor
 * saturated, for 1, 2, 3 routings. */
static void test_capsnet_init_lengths(void **state)
{
    (void)state;
    const int genes[3][NC_GENE_FIELDS] = {
        {0, 28, 1, 1, 9, 1, 28, 256, 1}, {1, 28, 256, 1, 9, 2, 14, 32, 8},
        {1, 14, 32, 8, 9, 2, 7, 10, 16}};
    const int batch = 2;
    lc_harness conv1, prim, cls;
    lc_open(&conv1, genes, 3, 0, NC_ROLE_CONV, batch, 1, 3, 1);
    lc_open(&prim, genes, 3, 1, NC_ROLE_CAPS, batch, 1, 3, 2);
    lc_forward(&prim, 0);   /* inputs uniform in [0, 1] */
    double len = lc_mean_presquash(prim.out, prim.n_out / 8, 8);
    fprintf(stderr, "primary caps, [0,1] inputs: mean pre-squash length %.3f\n", len);
    assert_true(len > 0.5 && len < 3.0);
    lc_forward(&conv1, 1);
    memcpy(prim.in, conv1.out, prim.n_in * sizeof(float));
    lc_forward(&prim, 1);
    len = lc_mean_presquash(prim.out, prim.n_out / 8, 8);
    fprintf(stderr, "primary caps after conv1: mean pre-squash length %.3f\n", len);
    assert_true(len > 0.5 && len < 3.0);
    for (int routings = 1; routings <= 3; routings++) {
        lc_open(&cls, genes, 3, 2, NC_ROLE_CLASS_CAPS, batch, 1, routings, 3);
        memcpy(cls.in, prim.out, cls.n_in * sizeof(float));
        lc_forward(&cls, 1);
        float lens[2 * 10];
        nc_caps_lengths((size_t)batch * 10, 16, cls.out, lens);
        double lo = 1.0, hi = 0.0;
        for (int i = 0; i < batch * 10; i++) {
            lo = fmin(lo, lens[i]);
            hi = fmax(hi, lens[i]);
        }
        fprintf(stderr, "class caps, %d routings: lengths %.3f .. %.3f\n", routings, lo, hi);
        assert_true(lo >= 0.05 && hi <= 0.95);
        lc_close(&cls);
    }
    lc_close(&conv1);
    lc_close(&prim);
}

/* Class capsules straight after a conv layer: the init accounts for
 * ReLU units rather than squashed capsules. */
static void test_class_after_conv_init(void **state)
{
    (void)state;
    const int genes[2][NC_GENE_FIELDS] = {{0, 8, 1, 1, 3, 1, 8, 16, 1}, {1, 8, 4, 4, 8, 1, 1, 5, 8}};
    for (int relu = 0; relu <= 1; relu++) {
        lc_harness conv, cls;
        lc_open(&conv, genes, 2, 0, NC_ROLE_CONV, 4, relu, 3, 5);
        lc_open(&cls, genes, 2, 1, NC_ROLE_CLASS_CAPS, 4, relu, 3, 6);
        lc_forward(&conv, 1);
        memcpy(cls.in, conv.out, cls.n_in * sizeof(float));
        lc_forward(&cls, 1);
        float lens[4 * 5];
        nc_caps_lengths(20, 8, cls.out, lens);
        for (int i = 0; i < 20; i++)
            assert_true(lens[i] >= 0.05f && lens[i] <= 0.95f);
        lc_close(&conv);
        lc_close(&cls);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_gradients),
        cmocka_unit_test(test_conv_no_input_gradient),
        cmocka_unit_test(test_conv_batchnorm_state),
        cmocka_unit_test(test_conv_relu_option),
        cmocka_unit_test(test_primary_caps_gradients),
        cmocka_unit_test(test_class_caps_gradients),
        cmocka_unit_test(test_class_caps_routings),
        cmocka_unit_test(test_class_caps_chunks),
        cmocka_unit_test(test_tensors_and_counts),
        cmocka_unit_test(test_train_bytes),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_capsnet_init_lengths),
        cmocka_unit_test(test_class_after_conv_init),
    };
    return cmocka_run_group_tests(tests, lc_setup, lc_teardown);
}
