/* test_nn_misc.c - batch norm, dense, transposed convolution, activations,
 * softmax, losses, Adam and the initialisers.
 *
 * Linear kernels (dense, transposed conv) are differenced on the float
 * kernel itself with step 0.5, which is exact up to rounding (tolerance
 * 1e-3). Nonlinear ones (batch norm, sigmoid, softmax, margin loss) are
 * checked against double references written from the formulas, whose
 * central differences (step 1e-6) are good to ~1e-9: the tolerances
 * (rtol 1e-3, small absolute floor) only absorb the kernels' float
 * rounding. */
#include <string.h>

#include "test_nn_common.h"

/* ---- batch norm --------------------------------------------------------- */

/* more rows than one 32-row partial sum, channels past one SIMD block */
enum { BN_ROWS = 40, BN_C = 11 };

typedef struct bn_ctx {
    double x[BN_ROWS * BN_C], gamma[BN_C], beta[BN_C], r[BN_ROWS * BN_C];
    double eps;
} bn_ctx;

static double bn_objective(void *p)
{
    bn_ctx *t = p;
    double acc = 0.0;
    for (int c = 0; c < BN_C; c++) {
        double mean = 0.0, var = 0.0;
        for (int i = 0; i < BN_ROWS; i++)
            mean += t->x[i * BN_C + c] / BN_ROWS;
        for (int i = 0; i < BN_ROWS; i++)
            var += (t->x[i * BN_C + c] - mean) * (t->x[i * BN_C + c] - mean) /
                   BN_ROWS;
        for (int i = 0; i < BN_ROWS; i++) {
            double y = t->gamma[c] * (t->x[i * BN_C + c] - mean) /
                           sqrt(var + t->eps) + t->beta[c];
            acc += y * t->r[i * BN_C + c];
        }
    }
    return acc;
}

static void test_batchnorm(void **state)
{
    (void)state;
    nc_rng rng;
    nc_rng_seed(&rng, 21);
    bn_ctx t = { .eps = 1e-3 };
    nn_fill_d(t.x, BN_ROWS * BN_C, &rng, -2, 3);
    nn_fill_d(t.gamma, BN_C, &rng, 0.5, 1.5);
    nn_fill_d(t.beta, BN_C, &rng, -1, 1);
    nn_fill_d(t.r, BN_ROWS * BN_C, &rng, -1, 1);
    float x[BN_ROWS * BN_C], g[BN_C], b[BN_C], y[BN_ROWS * BN_C];
    float rm[BN_C], rv[BN_C], sm[BN_C], si[BN_C], dy[BN_ROWS * BN_C];
    float dx[BN_ROWS * BN_C], dg[BN_C] = { 0 }, db[BN_C] = { 0 };
    nn_to_float(t.x, x, BN_ROWS * BN_C);
    nn_to_float(t.gamma, g, BN_C);
    nn_to_float(t.beta, b, BN_C);
    for (int c = 0; c < BN_C; c++) {
        rm[c] = 1.0f;
        rv[c] = 2.0f;
    }
    size_t wsb = nc_batchnorm_workspace(BN_C);
    void *ws = nn_alloc(wsb);
    nc_error err;
    assert_int_equal(nc_batchnorm_forward_train(BN_ROWS, BN_C, x, g, b, 0.9f,
                                                (float)t.eps, rm, rv, sm, si, y,
                                                ws, wsb, &err), NC_OK);
    for (int c = 0; c < BN_C; c++) {
        double mean = 0.0, var = 0.0;
        for (int i = 0; i < BN_ROWS; i++)
            mean += t.x[i * BN_C + c] / BN_ROWS;
        for (int i = 0; i < BN_ROWS; i++)
            var += (t.x[i * BN_C + c] - mean) * (t.x[i * BN_C + c] - mean);
        double biased = var / BN_ROWS, unbiased = var / (BN_ROWS - 1);
        assert_true(nn_close(sm[c], mean, 1e-5, 1e-6));
        assert_true(nn_close(si[c], 1.0 / sqrt(biased + t.eps), 1e-5, 0));
        assert_true(nn_close(rm[c], 0.9 * 1.0 + 0.1 * mean, 1e-5, 1e-6));
        assert_true(nn_close(rv[c], 0.9 * 2.0 + 0.1 * unbiased, 1e-5, 0));
        for (int i = 0; i < BN_ROWS; i++) {
            double want = t.gamma[c] * (t.x[i * BN_C + c] - mean) /
                              sqrt(biased + t.eps) + t.beta[c];
            assert_true(nn_close(y[i * BN_C + c], want, 1e-5, 1e-5));
        }
    }
    nn_to_float(t.r, dy, BN_ROWS * BN_C);
    assert_int_equal(nc_batchnorm_backward(BN_ROWS, BN_C, x, g, sm, si, dy, dx,
                                           dg, db, ws, wsb, &err), NC_OK);
    nn_check_grad_d("bn dx", bn_objective, &t, t.x, dx, BN_ROWS * BN_C, 1e-6,
                    1e-3, 1e-5);
    nn_check_grad_d("bn dgamma", bn_objective, &t, t.gamma, dg, BN_C, 1e-6,
                    1e-3, 1e-5);
    nn_check_grad_d("bn dbeta", bn_objective, &t, t.beta, db, BN_C, 1e-6,
                    1e-3, 1e-5);
    /* evaluation mode normalises with the running statistics */
    nc_batchnorm_forward_eval(BN_ROWS, BN_C, x, g, b, (float)t.eps, rm, rv, y);
    for (int i = 0; i < BN_ROWS * BN_C; i++) {
        int c = i % BN_C;
        double want = g[c] * (x[i] - rm[c]) / sqrt(rv[c] + t.eps) + b[c];
        assert_true(nn_close(y[i], want, 1e-5, 1e-5));
    }
    assert_int_equal(nc_batchnorm_backward(BN_ROWS, BN_C, x, g, sm, si, dy, dx,
                                           dg, db, ws, 8, &err), NC_ERR_INPUT);
    char want[96];
    snprintf(want, sizeof want,
             "batchnorm_backward: workspace of 8 bytes, needs %zu", wsb);
    assert_string_equal(err.msg, want);
    free(ws);
}

/* ---- dense ------------------------------------------------------------------ */

typedef struct dense_ctx {
    int n, in, out;
    float *x, *w, *b, *y;
    double *r;
} dense_ctx;

static double dense_objective(void *p)
{
    dense_ctx *t = p;
    assert_int_equal(nc_dense_forward(t->n, t->in, t->out, t->x, t->w, t->b,
                                      t->y, NULL), NC_OK);
    return nn_proj(t->y, t->r, (size_t)t->n * t->out);
}

static void test_dense(void **state)
{
    (void)state;
    nc_rng rng;
    nc_rng_seed(&rng, 22);
    enum { N = 4, IN = 7, OUT = 5 };
    float x[N * IN], w[IN * OUT], b[OUT], y[N * OUT], dy[N * OUT];
    float dx[N * IN], dw[IN * OUT] = { 0 }, db[OUT] = { 0 };
    double r[N * OUT];
    nn_fill(x, N * IN, &rng, -1, 1);
    nn_fill(w, IN * OUT, &rng, -1, 1);
    nn_fill(b, OUT, &rng, -1, 1);
    nn_fill_d(r, N * OUT, &rng, -1, 1);
    dense_ctx t = { N, IN, OUT, x, w, b, y, r };
    dense_objective(&t);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < OUT; j++) {
            double acc = b[j];
            for (int k = 0; k < IN; k++)
                acc += (double)x[i * IN + k] * w[k * OUT + j];
            assert_true(nn_close(y[i * OUT + j], acc, 1e-5, 1e-6));
        }
    nn_to_float(r, dy, N * OUT);
    assert_int_equal(nc_dense_backward(N, IN, OUT, x, w, dy, dx, dw, db, NULL),
                     NC_OK);
    nn_check_grad("dense dx", dense_objective, &t, x, dx, N * IN, 0.5f, 1e-3,
                  1e-3, 1000);
    nn_check_grad("dense dw", dense_objective, &t, w, dw, IN * OUT, 0.5f, 1e-3,
                  1e-3, 1000);
    nn_check_grad("dense db", dense_objective, &t, b, db, OUT, 0.5f, 1e-3,
                  1e-3, 1000);
    nc_error err;
    assert_int_equal(nc_dense_forward(N, IN, -3, x, w, b, y, &err),
                     NC_ERR_INPUT);
    assert_string_equal(err.msg, "dense_forward: out = -3, must be >= 1");
}

/* ---- transposed convolution ------------------------------------------------- */

typedef struct tconv_ctx {
    nc_tconv2d t;
    int n;
    float *x, *w, *b, *y;
    double *r;
    void *ws;
    size_t wsb, ny;
} tconv_ctx;

static double tconv_objective(void *p)
{
    tconv_ctx *c = p;
    assert_int_equal(nc_tconv2d_forward(&c->t, c->n, c->x, c->w, c->b, c->y,
                                        c->ws, c->wsb, NULL), NC_OK);
    return nn_proj(c->y, c->r, c->ny);
}

/* Every input pixel scatters k x k taps into the output, at the positions
 * the matching 'same' convolution would read them from. */
static void ref_tconv(int n, int ih, int iw, int ic, int oc, int k, int s,
                      const float *x, const float *w, const float *b,
                      double *y)
{
    int oh = ih * s, ow = iw * s;
    int pad = k - s > 0 ? k - s : 0, pt = pad / 2;
    for (int i = 0; i < n * oh * ow; i++)
        for (int co = 0; co < oc; co++)
            y[(size_t)i * oc + co] = b ? b[co] : 0.0;
    for (int bi = 0; bi < n; bi++)
        for (int iy = 0; iy < ih; iy++)
            for (int ix = 0; ix < iw; ix++)
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        int oy = iy * s - pt + ky, ox = ix * s - pt + kx;
                        if (oy < 0 || ox < 0 || oy >= oh || ox >= ow)
                            continue;
                        for (int co = 0; co < oc; co++)
                            for (int ci = 0; ci < ic; ci++)
                                y[(((size_t)bi * oh + oy) * ow + ox) * oc + co] +=
                                    (double)x[((bi * ih + iy) * iw + ix) * ic + ci] *
                                    w[((ky * k + kx) * oc + co) * ic + ci];
                    }
}

static void check_tconv(int ih, int iw, int ic, int oc, int k, int s,
                        int chunk, nc_rng *rng)
{
    tconv_ctx c = { .n = 3 };
    nc_error err;
    assert_int_equal(nc_tconv2d_init(&c.t, ih, iw, ic, oc, k, s, chunk, &err),
                     NC_OK);
    assert_int_equal(c.t.out_h, ih * s);
    assert_int_equal(c.t.out_w, iw * s);
    size_t nx = (size_t)c.n * ih * iw * ic, nw = (size_t)k * k * ic * oc;
    c.ny = (size_t)c.n * ih * s * iw * s * oc;
    c.wsb = nc_tconv2d_workspace(&c.t);
    c.ws = nn_alloc(c.wsb);
    c.x = nn_alloc(nx * 4);
    c.w = nn_alloc(nw * 4);
    c.b = nn_alloc((size_t)oc * 4);
    c.y = nn_alloc(c.ny * 4);
    c.r = nn_alloc(c.ny * sizeof(double));
    double *yref = nn_alloc(c.ny * sizeof(double));
    nn_fill(c.x, nx, rng, -1, 1);
    nn_fill(c.w, nw, rng, -1, 1);
    nn_fill(c.b, (size_t)oc, rng, -1, 1);
    nn_fill_d(c.r, c.ny, rng, -1, 1);
    tconv_objective(&c);
    ref_tconv(c.n, ih, iw, ic, oc, k, s, c.x, c.w, c.b, yref);
    double md = nn_maxdiff(c.y, yref, c.ny);
    if (md > 1e-4)
        fail_msg("tconv %dx%d k%d s%d: forward differs by %g", ih, iw, k, s,
                 md);
    float *dy = nn_alloc(c.ny * 4), *dx = nn_alloc(nx * 4),
          *dw = nn_alloc(nw * 4), *db = nn_alloc((size_t)oc * 4);
    nn_to_float(c.r, dy, c.ny);
    nn_fill(dx, nx, rng, 5, 6);
    assert_int_equal(nc_tconv2d_backward(&c.t, c.n, c.x, c.w, dy, dx, dw, db,
                                         c.ws, c.wsb, &err), NC_OK);
    nn_check_grad("tconv dx", tconv_objective, &c, c.x, dx, nx, 0.5f, 1e-3,
                  1e-3, 300);
    nn_check_grad("tconv dw", tconv_objective, &c, c.w, dw, nw, 0.5f, 1e-3,
                  1e-3, 300);
    nn_check_grad("tconv db", tconv_objective, &c, c.b, db, (size_t)oc, 0.5f,
                  1e-3, 1e-3, 300);
    free(dy); free(dx); free(dw); free(db); free(yref); free(c.ws); free(c.x);
    free(c.w); free(c.b); free(c.y); free(c.r);
}

static void test_tconv(void **state)
{
    (void)state;
    nc_rng rng;
    nc_rng_seed(&rng, 23);
    check_tconv(4, 3, 3, 2, 3, 1, 0, &rng);
    check_tconv(4, 3, 3, 2, 3, 2, 2, &rng);   /* the decoder's upsampling */
    check_tconv(3, 3, 2, 3, 4, 2, 1, &rng);
    check_tconv(2, 2, 3, 2, 1, 1, 0, &rng);   /* direct 1x1 */
    check_tconv(2, 3, 2, 2, 1, 2, 0, &rng);   /* stride > k: gaps */
}

/* ---- activations ------------------------------------------------------------ */

typedef struct act_ctx {
    int rows, cols;
    double *x, *r;
} act_ctx;

static double sigmoid_objective(void *p)
{
    act_ctx *t = p;
    double acc = 0.0;
    for (int i = 0; i < t->rows * t->cols; i++)
        acc += t->r[i] / (1.0 + exp(-t->x[i]));
    return acc;
}

static double softmax_objective(void *p)
{
    act_ctx *t = p;
    double acc = 0.0;
    for (int i = 0; i < t->rows; i++) {
        const double *x = t->x + i * t->cols;
        double sum = 0.0;
        for (int j = 0; j < t->cols; j++)
            sum += exp(x[j]);
        for (int j = 0; j < t->cols; j++)
            acc += t->r[i * t->cols + j] * exp(x[j]) / sum;
    }
    return acc;
}

static void test_activations(void **state)
{
    (void)state;
    nc_rng rng;
    nc_rng_seed(&rng, 24);
    enum { ROWS = 3, COLS = 6, N = ROWS * COLS };
    double xd[N], r[N];
    float x[N], y[N], dy[N], dx[N];
    nn_fill_d(xd, N, &rng, -4, 4);
    nn_fill_d(r, N, &rng, -1, 1);
    nn_to_float(xd, x, N);
    nn_to_float(r, dy, N);
    act_ctx t = { ROWS, COLS, xd, r };

    nc_relu_forward(N, x, y);
    nc_relu_backward(N, y, dy, dx);
    for (int i = 0; i < N; i++) {
        assert_true(y[i] == (x[i] > 0 ? x[i] : 0.0f));
        assert_true(dx[i] == (x[i] > 0 ? dy[i] : 0.0f));
    }

    nc_sigmoid_forward(N, x, y);
    for (int i = 0; i < N; i++)
        assert_true(nn_close(y[i], 1.0 / (1.0 + exp(-xd[i])), 1e-6, 1e-7));
    nc_sigmoid_backward(N, y, dy, dx);
    nn_check_grad_d("sigmoid", sigmoid_objective, &t, xd, dx, N, 1e-6, 1e-3,
                    1e-6);
    float big[2] = { -200.0f, 200.0f };
    nc_sigmoid_forward(2, big, big);
    assert_true(big[0] >= 0.0f && big[0] < 1e-30f && big[1] == 1.0f);

    nc_softmax_forward(ROWS, COLS, x, y);
    for (int i = 0; i < ROWS; i++) {
        double sum = 0.0;
        for (int j = 0; j < COLS; j++)
            sum += y[i * COLS + j];
        assert_true(nn_close(sum, 1.0, 1e-6, 0));
    }
    nc_softmax_backward(ROWS, COLS, y, dy, dx);
    nn_check_grad_d("softmax", softmax_objective, &t, xd, dx, N, 1e-6, 1e-3,
                    1e-6);
    /* stable: huge logits neither overflow nor lose the winner */
    float h[3] = { 1000.0f, 999.0f, -1000.0f }, hy[3];
    nc_softmax_forward(1, 3, h, hy);
    assert_true(nn_close(hy[0], 1.0 / (1.0 + exp(-1.0)), 1e-6, 0));
    assert_true(hy[2] == 0.0f);
}

/* ---- losses ------------------------------------------------------------------ */

enum { ML_B = 3, ML_K = 4, ML_D = 3 };

typedef struct margin_ctx {
    double v[ML_B * ML_K * ML_D];
    int labels[ML_B];
} margin_ctx;

static double margin_objective(void *p)
{
    margin_ctx *t = p;
    double total = 0.0;
    for (int b = 0; b < ML_B; b++)
        for (int k = 0; k < ML_K; k++) {
            double q = 0.0;
            for (int d = 0; d < ML_D; d++)
                q += t->v[(b * ML_K + k) * ML_D + d] *
                     t->v[(b * ML_K + k) * ML_D + d];
            double len = sqrt(q + NC_SQUASH_EPS);
            if (k == t->labels[b])
                total += pow(fmax(0.0, 0.9 - len), 2);
            else
                total += 0.5 * pow(fmax(0.0, len - 0.1), 2);
        }
    return total / ML_B;
}

static void test_margin_loss(void **state)
{
    (void)state;
    /* hand-computed: one sample, lengths 0.5 (true class) and 0.3 */
    float v1[4] = { 0.3f, 0.4f, 0.0f, 0.3f };
    int l1 = 0;
    double loss;
    float dv1[4];
    assert_int_equal(nc_margin_loss(1, 2, 2, v1, &l1, dv1, &loss, NULL), NC_OK);
    /* (0.9 - 0.5)^2 + 0.5 (0.3 - 0.1)^2 = 0.16 + 0.02 */
    assert_true(nn_close(loss, 0.18, 1e-6, 0));
    /* d/dv of (0.9 - |v|)^2 = -2 (0.4) v / |v| = -0.8 (0.6, 0.8) */
    assert_true(nn_close(dv1[0], -0.48, 1e-5, 0));
    assert_true(nn_close(dv1[1], -0.64, 1e-5, 0));
    assert_true(nn_close(dv1[3], 0.2, 1e-5, 0));   /* 0.5*2*0.2 * 1 */

    nc_rng rng;
    nc_rng_seed(&rng, 25);
    margin_ctx t = { .labels = { 2, 0, 3 } };
    nn_fill_d(t.v, ML_B * ML_K * ML_D, &rng, -0.6, 0.6);
    float v[ML_B * ML_K * ML_D], dv[ML_B * ML_K * ML_D];
    nn_to_float(t.v, v, ML_B * ML_K * ML_D);
    assert_int_equal(nc_margin_loss(ML_B, ML_K, ML_D, v, t.labels, dv, &loss,
                                    NULL), NC_OK);
    assert_true(nn_close(loss, margin_objective(&t), 1e-5, 1e-7));
    nn_check_grad_d("margin dv", margin_objective, &t, t.v, dv,
                    ML_B * ML_K * ML_D, 1e-6, 1e-3, 1e-6);
    nc_error err;
    int bad[ML_B] = { 0, 4, 1 };
    assert_int_equal(nc_margin_loss(ML_B, ML_K, ML_D, v, bad, dv, &loss, &err),
                     NC_ERR_INPUT);
    assert_string_equal(err.msg,
                        "margin_loss: label 4 of sample 1 outside [0, 4)");
}

static void test_mse_loss(void **state)
{
    (void)state;
    float pred[4] = { 0.5f, 1.0f, 0.25f, 0.0f }, target[4] = { 0, 0, 0.25f, 1 };
    float d[4];
    /* weight 2 * mean(0.25, 1, 0, 1) = 1.125 */
    assert_true(nn_close(nc_mse_loss(4, pred, target, 2.0f, d), 1.125, 1e-7, 0));
    /* d = 2 * weight * (pred - target) / n */
    assert_true(d[0] == 0.5f && d[1] == 1.0f && d[2] == 0.0f && d[3] == -1.0f);
    assert_true(nc_mse_loss(0, pred, target, 2.0f, NULL) == 0.0);
}

/* ---- Adam and initialisers ------------------------------------------------- */

static void test_adam(void **state)
{
    (void)state;
    /* tolerances 1e-4: 1 - 0.999f is 0.00100005 in float */
    float p = 1.0f, m = 0.0f, v = 0.0f, g = 0.5f;
    /* step 1: m = 0.05, v = 0.00025, m^ = 0.5, v^ = 0.25,
     * p = 1 - 0.1 * 0.5 / (0.5 + 1e-7) */
    nc_adam_step(1, &p, &g, &m, &v, 0.1f, 1, NULL);
    assert_true(nn_close(m, 0.05, 1e-6, 0));
    assert_true(nn_close(v, 0.00025, 1e-4, 0));
    assert_true(nn_close(p, 0.90000002, 1e-7, 0));
    /* step 2 with g = -1: m = -0.055, v = 0.00124975, computed by hand */
    g = -1.0f;
    nc_adam_step(1, &p, &g, &m, &v, 0.1f, 2, NULL);
    assert_true(nn_close(m, -0.055, 1e-6, 0));
    assert_true(nn_close(v, 0.00124975, 1e-4, 0));
    assert_true(nn_close(p, 0.93661037, 1e-5, 0));
    /* explicit configuration: beta1 0 turns the step into g / (|g| + eps) */
    nc_adam_cfg cfg = { 0.0f, 0.5f, 0.0f };
    float q = 0.0f, mq = 0.0f, vq = 0.0f, gq = -3.0f;
    nc_adam_step(1, &q, &gq, &mq, &vq, 0.01f, 1, &cfg);
    assert_true(nn_close(q, 0.01, 1e-6, 0));
}

static void test_init(void **state)
{
    (void)state;
    enum { N = 20000 };
    static float w[N], w2[N];
    nc_rng rng;
    nc_rng_seed(&rng, 26);
    nc_init_glorot_uniform(w, N, 50, 30, &rng);
    double a = sqrt(6.0 / 80.0), mean = 0.0, var = 0.0;
    for (int i = 0; i < N; i++) {
        assert_true(fabs(w[i]) <= a);
        mean += w[i] / N;
    }
    for (int i = 0; i < N; i++)
        var += (w[i] - mean) * (w[i] - mean) / N;
    assert_true(fabs(mean) < 0.01);
    assert_true(nn_close(var, a * a / 3.0, 0.05, 0));
    nc_rng_seed(&rng, 26);
    nc_init_glorot_uniform(w2, N, 50, 30, &rng);
    assert_memory_equal(w, w2, sizeof w);   /* same seed, same weights */

    nc_init_he_normal(w, N, 40, &rng);
    var = 0.0;
    for (int i = 0; i < N; i++)
        var += (double)w[i] * w[i] / N;
    assert_true(nn_close(sqrt(var), sqrt(2.0 / 40.0), 0.03, 0));
    nc_init_he_uniform(w, N, 40, &rng);
    for (int i = 0; i < N; i++)
        assert_true(fabs(w[i]) <= sqrt(6.0 / 40.0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_dense),
        cmocka_unit_test(test_tconv),
        cmocka_unit_test(test_activations),
        cmocka_unit_test(test_margin_loss),
        cmocka_unit_test(test_mse_loss),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
