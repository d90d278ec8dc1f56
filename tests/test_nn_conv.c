/* test_nn_conv.c - 'same' convolution against a direct double-precision
 * convolution, and its gradients against central finite differences.
 *
 * The convolution is linear in x, in w and in the bias, so a central
 * difference with a large step (0.5) is exact up to float rounding of the
 * objective (about 1e-7 of sum |y r| ~ 1e3 here): tolerances 1e-3. */
#include <string.h>

#include "test_nn_common.h"

typedef struct conv_case {
    int in_h, in_w, in_c, out_c, k, stride, n, chunk;
} conv_case;

static const conv_case cases[] = {
    { 7, 6, 3, 4, 1, 1, 3, 0 },   /* direct 1x1 path */
    { 7, 6, 3, 4, 1, 2, 3, 2 },
    { 7, 6, 3, 4, 3, 1, 3, 2 },   /* last chunk shorter */
    { 7, 6, 3, 4, 3, 2, 3, 0 },
    { 7, 5, 2, 3, 5, 2, 3, 2 },
    { 6, 7, 2, 3, 9, 1, 2, 1 },   /* k > input */
    { 5, 5, 2, 3, 9, 2, 3, 2 },
    { 3, 3, 2, 2, 9, 1, 2, 0 },
    { 1, 1, 3, 2, 3, 1, 2, 0 },
    { 8, 8, 2, 3, 4, 3, 2, 2 },   /* even k, stride 3 */
};

/* Direct convolution in double with the padding worked out here, not
 * taken from the kernel's descriptor. */
static void ref_conv(const conv_case *cc, const float *x, const float *w,
                     const float *bias, double *y)
{
    int oh = (cc->in_h + cc->stride - 1) / cc->stride;
    int ow = (cc->in_w + cc->stride - 1) / cc->stride;
    int ph = (oh - 1) * cc->stride + cc->k - cc->in_h;
    int pw = (ow - 1) * cc->stride + cc->k - cc->in_w;
    int pt = ph > 0 ? ph / 2 : 0, pl = pw > 0 ? pw / 2 : 0;
    for (int b = 0; b < cc->n; b++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int co = 0; co < cc->out_c; co++) {
                    double acc = bias ? bias[co] : 0.0;
                    for (int ky = 0; ky < cc->k; ky++)
                        for (int kx = 0; kx < cc->k; kx++) {
                            int iy = oy * cc->stride - pt + ky;
                            int ix = ox * cc->stride - pl + kx;
                            if (iy < 0 || ix < 0 || iy >= cc->in_h ||
                                ix >= cc->in_w)
                                continue;
                            for (int ci = 0; ci < cc->in_c; ci++)
                                acc += (double)x[((b * cc->in_h + iy) *
                                                  cc->in_w + ix) * cc->in_c + ci] *
                                       w[((ky * cc->k + kx) * cc->in_c + ci) *
                                         cc->out_c + co];
                        }
                    y[((b * oh + oy) * ow + ox) * cc->out_c + co] = acc;
                }
}

typedef struct conv_ctx {
    nc_conv2d c;
    int n;
    float *x, *w, *b, *y;
    double *r;
    void *ws;
    size_t ws_bytes, ny;
} conv_ctx;

static double conv_objective(void *p)
{
    conv_ctx *t = p;
    nc_error err;
    assert_int_equal(nc_conv2d_forward(&t->c, t->n, t->x, t->w, t->b, t->y,
                                       t->ws, t->ws_bytes, &err), NC_OK);
    return nn_proj(t->y, t->r, t->ny);
}

static void run_case(const conv_case *cc, nc_rng *rng)
{
    conv_ctx t = { .n = cc->n };
    nc_error err;
    assert_int_equal(nc_conv2d_init(&t.c, cc->in_h, cc->in_w, cc->in_c,
                                    cc->out_c, cc->k, cc->stride, cc->chunk,
                                    &err), NC_OK);
    size_t nx = (size_t)cc->n * cc->in_h * cc->in_w * cc->in_c;
    size_t nw = (size_t)cc->k * cc->k * cc->in_c * cc->out_c;
    t.ny = (size_t)cc->n * (size_t)t.c.rows * cc->out_c;
    t.ws_bytes = nc_conv2d_workspace(&t.c);
    t.ws = nn_alloc(t.ws_bytes);
    t.x = nn_alloc(nx * sizeof(float));
    t.w = nn_alloc(nw * sizeof(float));
    t.b = nn_alloc((size_t)cc->out_c * sizeof(float));
    t.y = nn_alloc(t.ny * sizeof(float));
    t.r = nn_alloc(t.ny * sizeof(double));
    double *yref = nn_alloc(t.ny * sizeof(double));
    nn_fill(t.x, nx, rng, -1, 1);
    nn_fill(t.w, nw, rng, -1, 1);
    nn_fill(t.b, (size_t)cc->out_c, rng, -1, 1);
    nn_fill_d(t.r, t.ny, rng, -1, 1);

    /* forward, with and without bias, against the direct convolution */
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        const float *b = with_bias ? t.b : NULL;
        assert_int_equal(nc_conv2d_forward(&t.c, cc->n, t.x, t.w, b, t.y,
                                           t.ws, t.ws_bytes, &err), NC_OK);
        ref_conv(cc, t.x, t.w, b, yref);
        double md = nn_maxdiff(t.y, yref, t.ny);
        if (md > 1e-4)
            fail_msg("conv %dx%dx%d k%d s%d: forward differs by %g",
                     cc->in_h, cc->in_w, cc->in_c, cc->k, cc->stride, md);
    }

    /* backward: dx overwritten (start from garbage), dw and db accumulate */
    float *dy = nn_alloc(t.ny * sizeof(float));
    float *dx = nn_alloc(nx * sizeof(float));
    float *dw = nn_alloc(nw * sizeof(float));
    float *db = nn_alloc((size_t)cc->out_c * sizeof(float));
    nn_to_float(t.r, dy, t.ny);
    nn_fill(dx, nx, rng, 5, 6);
    assert_int_equal(nc_conv2d_backward(&t.c, cc->n, t.x, t.w, dy, dx, dw, db,
                                        t.ws, t.ws_bytes, &err), NC_OK);
    /* the objective is linear in every input: a large step is exact */
    nn_check_grad("conv dx", conv_objective, &t, t.x, dx, nx, 0.5f, 1e-3,
                  1e-3, 400);
    nn_check_grad("conv dw", conv_objective, &t, t.w, dw, nw, 0.5f, 1e-3,
                  1e-3, 400);
    nn_check_grad("conv db", conv_objective, &t, t.b, db, (size_t)cc->out_c,
                  0.5f, 1e-3, 1e-3, 400);

    /* a second backward adds the same parameter gradients again */
    float *dw1 = nn_alloc(nw * sizeof(float));
    memcpy(dw1, dw, nw * sizeof(float));
    assert_int_equal(nc_conv2d_backward(&t.c, cc->n, t.x, t.w, dy, NULL, dw,
                                        NULL, t.ws, t.ws_bytes, &err), NC_OK);
    for (size_t i = 0; i < nw; i++)
        assert_true(nn_close(dw[i], 2.0 * dw1[i], 1e-5, 1e-5));

    free(dw1);
    free(dy);
    free(dx);
    free(dw);
    free(db);
    free(yref);
    free(t.ws);
    free(t.x);
    free(t.w);
    free(t.b);
    free(t.y);
    free(t.r);
}

static void test_conv_cases(void **state)
{
    (void)state;
    nc_rng rng;
    nc_rng_seed(&rng, 11);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i], &rng);
}

/* TensorFlow's 'same': out = ceil(in / s), the odd padding pixel at the end. */
static void test_conv_padding(void **state)
{
    (void)state;
    nc_conv2d c;
    assert_int_equal(nc_conv2d_init(&c, 4, 4, 1, 1, 3, 2, 0, NULL), NC_OK);
    assert_int_equal(c.out_h, 2);
    assert_int_equal(c.pad_top, 0);   /* pad_total 1: all at the bottom */
    assert_int_equal(nc_conv2d_init(&c, 5, 6, 1, 1, 4, 1, 0, NULL), NC_OK);
    assert_int_equal(c.out_h, 5);
    assert_int_equal(c.out_w, 6);
    assert_int_equal(c.pad_top, 1);   /* pad_total 3 */
    assert_int_equal(c.pad_left, 1);
    assert_int_equal(nc_conv2d_init(&c, 3, 3, 1, 1, 9, 1, 0, NULL), NC_OK);
    assert_int_equal(c.pad_top, 4);
    assert_int_equal(nc_conv2d_init(&c, 28, 28, 256, 256, 9, 2, 0, NULL),
                     NC_OK);
    assert_int_equal(c.out_h, 14);
    assert_int_equal(c.pad_top, 3);   /* 13*2 + 9 - 28 = 7 */
    assert_int_equal(c.rows, 196);
    assert_int_equal(c.cols, 9 * 9 * 256);
    assert_int_equal(nc_conv2d_macs(&c), 196LL * 9 * 9 * 256 * 256);
    assert_true(nc_conv2d_workspace(&c) <= ((size_t)64 << 20));
}

/* Chunking is an implementation detail: results do not depend on it. */
static void test_conv_chunk_invariant(void **state)
{
    (void)state;
    nc_rng rng;
    nc_rng_seed(&rng, 5);
    nc_conv2d c1, c4;
    assert_int_equal(nc_conv2d_init(&c1, 9, 9, 4, 5, 3, 2, 1, NULL), NC_OK);
    assert_int_equal(nc_conv2d_init(&c4, 9, 9, 4, 5, 3, 2, 4, NULL), NC_OK);
    const int n = 5;
    size_t nx = (size_t)n * 9 * 9 * 4, nw = 9 * 4 * 5, ny = (size_t)n * 25 * 5;
    float *x = nn_alloc(nx * 4), *w = nn_alloc(nw * 4), *y1 = nn_alloc(ny * 4),
          *y4 = nn_alloc(ny * 4), *dx1 = nn_alloc(nx * 4),
          *dx4 = nn_alloc(nx * 4), *dw1 = nn_alloc(nw * 4),
          *dw4 = nn_alloc(nw * 4);
    size_t wsb = nc_conv2d_workspace(&c4);
    void *ws = nn_alloc(wsb);
    nn_fill(x, nx, &rng, -1, 1);
    nn_fill(w, nw, &rng, -1, 1);
    assert_int_equal(nc_conv2d_forward(&c1, n, x, w, NULL, y1, ws, wsb, NULL), 0);
    assert_int_equal(nc_conv2d_forward(&c4, n, x, w, NULL, y4, ws, wsb, NULL), 0);
    for (size_t i = 0; i < ny; i++)
        assert_true(nn_close(y1[i], y4[i], 1e-5, 1e-5));
    assert_int_equal(nc_conv2d_backward(&c1, n, x, w, y1, dx1, dw1, NULL, ws,
                                        wsb, NULL), 0);
    assert_int_equal(nc_conv2d_backward(&c4, n, x, w, y1, dx4, dw4, NULL, ws,
                                        wsb, NULL), 0);
    for (size_t i = 0; i < nx; i++)
        assert_true(nn_close(dx1[i], dx4[i], 1e-5, 1e-5));
    for (size_t i = 0; i < nw; i++)
        assert_true(nn_close(dw1[i], dw4[i], 1e-4, 1e-4));
    free(x); free(w); free(y1); free(y4); free(dx1); free(dx4); free(dw1);
    free(dw4); free(ws);
}

static void test_conv_refuses(void **state)
{
    (void)state;
    nc_conv2d c;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_conv2d_init(&c, 8, 8, 3, 4, 0, 1, 0, &err),
                     NC_ERR_INPUT);
    assert_string_equal(err.msg, "conv2d: k = 0, must be in [1, 65536]");
    assert_int_equal(nc_conv2d_init(&c, 8, 8, 3, 4, 3, 70000, 0, &err),
                     NC_ERR_INPUT);
    assert_string_equal(err.msg,
                        "conv2d: stride = 70000, must be in [1, 65536]");
    /* patch depth past the int range of BLAS */
    assert_int_equal(nc_conv2d_init(&c, 8, 8, 65536, 4, 200, 1, 0, &err),
                     NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "exceed the GEMM limit"));
    assert_int_equal(nc_conv2d_init(&c, 8, 8, 3, 4, 3, 1, 0, &err), NC_OK);
    float x[8 * 8 * 3] = { 0 }, w[27 * 4] = { 0 }, y[64 * 4];
    char ws[16];
    assert_int_equal(nc_conv2d_forward(&c, 1, x, w, NULL, y, ws, sizeof ws,
                                       &err), NC_ERR_INPUT);
    char want[128];
    snprintf(want, sizeof want,
             "conv2d_forward: workspace of 16 bytes, needs %zu",
             nc_conv2d_workspace(&c));
    assert_string_equal(err.msg, want);
    assert_int_equal(nc_conv2d_forward(&c, 0, x, w, NULL, y, ws, sizeof ws,
                                       &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "conv2d_forward: n = 0, must be >= 1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_padding),
        cmocka_unit_test(test_conv_cases),
        cmocka_unit_test(test_conv_chunk_invariant),
        cmocka_unit_test(test_conv_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
