/* bench_kernels.c - throughput of the training kernels against the
 * machine's sgemm peak.
 *
 *   bench_kernels [--threads N] [--batch N] [--quick]
 *
 * Prints `name value` lines: the sgemm roofline (2048^3, GFLOP/s), then
 * each kernel's time per image, GFLOP/s and fraction of that peak, on the
 * layers of the CapsNet genotype [[0,28,1,1,9,1,28,256,1],
 * [1,28,256,1,9,2,14,32,8],[1,14,32,8,9,2,7,10,16]], and an estimate of
 * its training images per second from these kernels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "nascaps/nn.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *xalloc(size_t bytes)
{
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "bench_kernels: out of memory (%zu bytes)\n", bytes);
        exit(3);
    }
    return p;
}

static float *rand_floats(size_t n, nc_rng *rng, float scale)
{
    float *a = xalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        a[i] = scale * (float)(2.0 * nc_rng_uniform(rng) - 1.0);
    return a;
}

static void check(int rc, const nc_error *err)
{
    if (rc != NC_OK) {
        fprintf(stderr, "bench_kernels: %s\n", err->msg);
        exit(rc);
    }
}

static double peak_gflops;

static void report(const char *name, double seconds, int images,
                   double flops)
{
    printf("%s_ms_per_image %.4f\n", name, 1e3 * seconds / images);
    if (flops > 0) {
        double g = flops / seconds * 1e-9;
        printf("%s_gflops %.2f\n", name, g);
        printf("%s_fraction_of_peak %.3f\n", name, g / peak_gflops);
    }
}

static double bench_sgemm(int n, int reps, nc_rng *rng)
{
    float *a = rand_floats((size_t)n * n, rng, 1.0f);
    float *b = rand_floats((size_t)n * n, rng, 1.0f);
    float *c = xalloc((size_t)n * n * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a,
                n, b, n, 0.0f, c, n);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f,
                    a, n, b, n, 0.0f, c, n);
        double t = now_s() - t0;
        best = t < best ? t : best;
    }
    free(a);
    free(b);
    free(c);
    return 2.0 * n * (double)n * n / best * 1e-9;
}

/* One convolution layer: forward and backward (dx and dw), best of reps.
 * Returns the training seconds per image. */
static double bench_conv(const char *name, int size, int in_c, int out_c,
                         int k, int stride, int chunk, int batch, int reps,
                         int need_dx, nc_rng *rng)
{
    nc_conv2d c;
    nc_error err;
    check(nc_conv2d_init(&c, size, size, in_c, out_c, k, stride, chunk, &err),
          &err);
    size_t nx = (size_t)batch * size * size * in_c;
    size_t ny = (size_t)batch * (size_t)c.rows * out_c;
    size_t nw = (size_t)c.cols * out_c;
    float *x = rand_floats(nx, rng, 1.0f), *w = rand_floats(nw, rng, 0.01f);
    float *b = rand_floats((size_t)out_c, rng, 0.1f);
    float *y = xalloc(ny * sizeof(float)), *dx = xalloc(nx * sizeof(float));
    float *dw = xalloc(nw * sizeof(float)), *db = xalloc((size_t)out_c * 4);
    size_t wsb = nc_conv2d_workspace(&c);
    void *ws = xalloc(wsb);
    double fwd = 1e30, bwd = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        check(nc_conv2d_forward(&c, batch, x, w, b, y, ws, wsb, &err), &err);
        double t1 = now_s();
        check(nc_conv2d_backward(&c, batch, x, w, y, need_dx ? dx : NULL, dw,
                                 db, ws, wsb, &err), &err);
        double t2 = now_s();
        fwd = t1 - t0 < fwd ? t1 - t0 : fwd;
        bwd = t2 - t1 < bwd ? t2 - t1 : bwd;
    }
    double flops = 2.0 * (double)nc_conv2d_macs(&c) * batch;
    char key[128];
    printf("%s_chunk %d\n", name, c.chunk);
    snprintf(key, sizeof key, "%s_fwd", name);
    report(key, fwd, batch, flops);
    snprintf(key, sizeof key, "%s_bwd", name);
    report(key, bwd, batch, flops * (need_dx ? 2.0 : 1.0));
    free(x); free(w); free(b); free(y); free(dx); free(dw); free(db); free(ws);
    return (fwd + bwd) / batch;
}

/* Class capsules: votes + routing, forward and backward. */
static double bench_classcaps(int batch, int reps, nc_rng *rng)
{
    const int ni = 14 * 14 * 32, di = 8, nj = 10, dj = 16, iters = 3;
    nc_error err;
    size_t nu = (size_t)batch * ni * di, nw = (size_t)ni * di * nj * dj;
    size_t nh = (size_t)batch * ni * nj * dj, nv = (size_t)batch * nj * dj;
    float *u = rand_floats(nu, rng, 0.3f), *w = rand_floats(nw, rng, 0.05f);
    float *uhat = xalloc(nh * 4), *duhat = xalloc(nh * 4);
    float *du = xalloc(nu * 4), *dw = xalloc(nw * 4);
    float *v = xalloc(nv * 4), *dv = rand_floats(nv, rng, 1.0f);
    nc_routing rt;
    check(nc_routing_init(&rt, ni, nj, dj, iters, &err), &err);
    size_t ncache = nc_routing_cache_floats(&rt, batch);
    float *cache = xalloc(ncache * 4);
    size_t wsb = nc_routing_workspace(&rt);
    void *ws = xalloc(wsb);
    double t[4] = { 1e30, 1e30, 1e30, 1e30 };
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        check(nc_caps_votes_forward(batch, ni, di, nj, dj, u, w, uhat, &err),
              &err);
        double t1 = now_s();
        check(nc_routing_forward(&rt, batch, uhat, NULL, v, cache, ncache, ws,
                                 wsb, &err), &err);
        double t2 = now_s();
        check(nc_routing_backward(&rt, batch, uhat, cache, ncache, dv, duhat,
                                  NULL, ws, wsb, &err), &err);
        double t3 = now_s();
        check(nc_caps_votes_backward(batch, ni, di, nj, dj, u, w, duhat, du,
                                     dw, &err), &err);
        double t4 = now_s();
        double d[4] = { t1 - t0, t2 - t1, t3 - t2, t4 - t3 };
        for (int k = 0; k < 4; k++)
            t[k] = d[k] < t[k] ? d[k] : t[k];
    }
    /* the same votes as one sgemm per input capsule over the batch, for
     * comparison with the fused loop the kernel uses */
    double tg = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        const int jd = nj * dj;
        for (int i = 0; i < ni; i++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, jd,
                        di, 1.0f, u + (size_t)i * di, ni * di,
                        w + (size_t)i * di * jd, jd, 0.0f,
                        uhat + (size_t)i * jd, ni * jd);
        double d = now_s() - t0;
        tg = d < tg ? d : tg;
    }
    double vflops = 2.0 * (double)ni * di * nj * dj * batch;
    report("classcaps_votes_fwd_as_sgemm_per_capsule", tg, batch, vflops);
    report("classcaps_votes_fwd", t[0], batch, vflops);
    report("classcaps_routing3_fwd", t[1], batch, 0);
    report("classcaps_routing3_bwd", t[2], batch, 0);
    report("classcaps_votes_bwd", t[3], batch, 2.0 * vflops);
    free(u); free(w); free(uhat); free(duhat); free(du); free(dw); free(v);
    free(dv); free(cache); free(ws);
    return (t[0] + t[1] + t[2] + t[3]) / batch;
}

/* Batch norm + ReLU + squash over the first layer's output. */
static double bench_elementwise(int batch, int reps, nc_rng *rng)
{
    const int ch = 256;
    const int64_t rows = (int64_t)batch * 28 * 28;
    size_t n = (size_t)rows * ch;
    nc_error err;
    float *x = rand_floats(n, rng, 1.0f), *y = xalloc(n * 4);
    float *dx = xalloc(n * 4);
    float g[256], b[256], rm[256], rv[256], sm[256], si[256], dg[256], db[256];
    for (int c = 0; c < ch; c++) {
        g[c] = 1.0f;
        b[c] = rm[c] = dg[c] = db[c] = 0.0f;
        rv[c] = 1.0f;
    }
    size_t wsb = nc_batchnorm_workspace(ch);
    void *ws = xalloc(wsb);
    double bn = 1e30, act = 1e30, sq = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        check(nc_batchnorm_forward_train(rows, ch, x, g, b, 0.99f, NC_BN_EPS,
                                         rm, rv, sm, si, y, ws, wsb, &err),
              &err);
        check(nc_batchnorm_backward(rows, ch, x, g, sm, si, y, dx, dg, db, ws,
                                    wsb, &err), &err);
        double t1 = now_s();
        nc_relu_forward(n, y, y);
        nc_relu_backward(n, y, dx, dx);
        double t2 = now_s();
        /* the primary capsules' squash: 14x14x32 capsules of 8 */
        size_t caps = (size_t)batch * 14 * 14 * 32;
        nc_squash_forward(caps, 8, x, y);
        nc_squash_backward(caps, 8, x, y, dx);
        double t3 = now_s();
        bn = t1 - t0 < bn ? t1 - t0 : bn;
        act = t2 - t1 < act ? t2 - t1 : act;
        sq = t3 - t2 < sq ? t3 - t2 : sq;
    }
    report("bn_28x28x256_fwd_bwd", bn, batch, 0);
    report("relu_28x28x256_fwd_bwd", act, batch, 0);
    report("squash_14x14x32x8_fwd_bwd", sq, batch, 0);
    free(x); free(y); free(dx); free(ws);
    return (bn + act + sq) / batch;
}

int main(int argc, char **argv)
{
    int threads = 2, batch = 32, quick = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else {
            fprintf(stderr, "usage: bench_kernels [--threads N] [--batch N] "
                            "[--quick]\n");
            return 2;
        }
    }
    if (threads < 1 || batch < 1) {
        fprintf(stderr, "bench_kernels: --threads and --batch must be >= 1\n");
        return 2;
    }
    const int reps = quick ? 2 : 3;   /* the first run warms up */
    nc_nn_set_threads(threads);
    nc_rng rng;
    nc_rng_seed(&rng, 1);
    printf("threads %d\n", nc_nn_threads());
    printf("batch %d\n", batch);
    peak_gflops = bench_sgemm(2048, quick ? 2 : 5, &rng);
    printf("sgemm_2048_gflops %.2f\n", peak_gflops);

    double per_image = 0.0;
    per_image += bench_conv("conv1_28x28x1_k9s1_256", 28, 1, 256, 9, 1, 0,
                            batch, reps, 0, &rng);
    per_image += bench_conv("primary_28x28x256_k9s2_256", 28, 256, 256, 9, 2,
                            0, batch, reps, 1, &rng);
    if (!quick) {
        for (int ch = 1; ch <= 4; ch *= 2) {
            char name[64];
            snprintf(name, sizeof name, "primary_chunk%d", ch);
            bench_conv(name, 28, 256, 256, 9, 2, ch, batch, reps, 1, &rng);
        }
    }
    per_image += bench_classcaps(batch, reps, &rng);
    per_image += bench_elementwise(batch, reps, &rng);
    printf("capsnet_kernels_ms_per_training_image %.3f\n", 1e3 * per_image);
    printf("capsnet_kernels_images_per_s %.2f\n", 1.0 / per_image);
    return 0;
}
