/* bench_train.c - training and inference throughput of whole networks
 * against the machine's sgemm peak, measured in the same run.
 *
 *   bench_train [BATCHES]     (default 4: the first is a warm-up)
 *
 * For (a) the CapsNet of Sabour et al. and (b) a small conv/caps network,
 * on 28 x 28 x 1 synthetic data, batch 100, 2 OpenBLAS threads, prints
 * `name value` lines:
 *   sgemm_peak_gflops            2048^3 sgemm, 2 threads
 *   NET_train_img_per_s          steady state: data, forward, losses,
 *                                backward, Adam (first batch excluded)
 *   NET_infer_img_per_s          evaluation-mode forward
 *   NET_train_cpu_ms_per_img     CPU time (all threads) per training image,
 *                                same steps: the cost on a busy machine
 *   NET_train_gflops             3 x 2 x (network + decoder MACs) per
 *                                image (forward plus the two backward
 *                                products) x img/s
 *   NET_infer_gflops             2 x MACs x img/s
 *   NET_train_fraction_of_peak, NET_infer_fraction_of_peak
 *   NET_peak_rss_mb              the process's peak RSS after NET
 * Targets (docs/TRAINING.md): capsnet training >= 10 img/s within 2 GiB,
 * small >= 400 training img/s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cblas.h>

#include "nascaps/nn.h"
#include "nascaps/train.h"

#define BATCH 100
#define THREADS 2

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* the process's CPU time, all threads: what a step costs on a loaded
 * machine, where wall time is inflated by the other processes */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;   /* KiB on Linux */
}

static double sgemm_peak(void)
{
    const int n = 2048;
    float *a = malloc((size_t)n * n * sizeof *a), *b = malloc((size_t)n * n * sizeof *b),
          *c = malloc((size_t)n * n * sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "bench_train: out of memory\n");
        exit(3);
    }
    for (size_t i = 0; i < (size_t)n * n; i++) {
        a[i] = (float)(i % 13) * 0.01f;
        b[i] = (float)(i % 7) * 0.02f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    double best = 0;
    for (int r = 0; r < 3; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                    n);
        double g = 2.0 * n * n * (double)n / (now() - t0) / 1e9;
        best = g > best ? g : best;
    }
    free(a);
    free(b);
    free(c);
    return best;
}

static void die(const nc_error *err)
{
    fprintf(stderr, "bench_train: %s\n", err->msg);
    exit(err->status ? err->status : 3);
}

static void bench_net(nc_registry *reg, nc_data *data, const char *name, const char *chr,
                      int batches, double peak)
{
    nc_error err;
    nc_error_clear(&err);
    nc_genotype g;
    if (nc_genotype_parse(chr, name, &g, &err))
        die(&err);
    nc_net_cfg cfg;
    nc_net_cfg_defaults(&cfg);
    cfg.max_batch = BATCH;
    cfg.max_params = 0;
    cfg.max_memory_mb = 0;
    nc_data_shape ds;
    nc_net *net = NULL;
    if (nc_data_shape_of(data, &ds, &err) || nc_data_set_resize(data, g.resize, &err) ||
        nc_net_build(reg, &g, name, &ds, &cfg, &net, &err))
        die(&err);
    const nc_net_info *info = nc_net_get_info(net);
    size_t img = (size_t)info->input.h * info->input.w * info->input.ch * BATCH;
    float *images = malloc(img * sizeof(float)), *raw = malloc(img * sizeof(float));
    int32_t *labels = malloc(BATCH * sizeof(int32_t));
    nc_data_iter *it = NULL;
    if (!images || !raw || !labels ||
        nc_data_iter_new(data, NC_DATA_TRAIN, BATCH, &it, &err))
        die(&err);
    nc_rng rng;
    nc_rng_seed(&rng, 1);
    nc_data_iter_start(it, &rng);

    double train_t = 0, train_cpu = 0;
    int64_t train_n = 0;
    for (int b = 0; b < batches; b++) {
        double t0 = now(), c0 = cpu_now();
        size_t n = 0;
        if (nc_data_iter_next(it, images, raw, labels, &rng, 0.1, &n, &err))
            die(&err);
        if (!n) {
            nc_data_iter_start(it, &rng);
            b--;
            continue;
        }
        nc_net_loss loss;
        nc_net_zero_grad(net);
        if (nc_net_loss_step(net, (int)n, images, raw, labels, 1, &loss, &err))
            die(&err);
        nc_net_adam_step(net, 0.001f);
        if (b > 0) {
            train_t += now() - t0;
            train_cpu += cpu_now() - c0;
            train_n += (int64_t)n;
        }
    }
    double infer_t = 0;
    int64_t infer_n = 0;
    for (int b = 0; b < batches; b++) {
        double t0 = now();
        if (nc_net_forward(net, BATCH, images, 0, &err))
            die(&err);
        if (b > 0) {
            infer_t += now() - t0;
            infer_n += BATCH;
        }
    }
    double train_ips = train_n / train_t, infer_ips = infer_n / infer_t;
    double flop = 2.0 * (double)info->macs;
    double train_flop = 3.0 * 2.0 * (double)(info->macs + info->decoder_macs);
    printf("%s_params %lld\n", name, (long long)info->params);
    printf("%s_decoder_params %lld\n", name, (long long)info->decoder_params);
    printf("%s_macs %lld\n", name, (long long)info->macs);
    printf("%s_decoder_macs %lld\n", name, (long long)info->decoder_macs);
    printf("%s_train_img_per_s %.2f\n", name, train_ips);
    printf("%s_infer_img_per_s %.2f\n", name, infer_ips);
    printf("%s_train_cpu_ms_per_img %.3f\n", name, 1e3 * train_cpu / (double)train_n);
    printf("%s_train_gflops %.2f\n", name, train_flop * train_ips / 1e9);
    printf("%s_infer_gflops %.2f\n", name, flop * infer_ips / 1e9);
    printf("%s_train_fraction_of_peak %.3f\n", name, train_flop * train_ips / 1e9 / peak);
    printf("%s_infer_fraction_of_peak %.3f\n", name, flop * infer_ips / 1e9 / peak);
    printf("%s_estimated_train_mb %.1f\n", name, info->memory.total / (1024.0 * 1024.0));
    printf("%s_peak_rss_mb %.1f\n", name, peak_rss_mb());
    fflush(stdout);
    nc_data_iter_free(it);
    free(images);
    free(raw);
    free(labels);
    nc_net_free(net);
}

int main(int argc, char **argv)
{
    int batches = argc > 1 ? atoi(argv[1]) : 4;
    if (batches < 2)
        batches = 2;
    nc_nn_set_threads(THREADS);
    double peak = sgemm_peak();
    printf("threads %d\nbatch %d\nsgemm_peak_gflops %.2f\n", THREADS, BATCH, peak);

    nc_error err;
    nc_error_clear(&err);
    nc_registry *reg = nc_registry_new();
    const char *sets[] = {"dataset.plugin=synthetic", "dataset.train_count=1000",
                          "dataset.test_count=100"};
    nc_pipeline *p = NULL;
    nc_data *data = NULL;
    if (!reg || nc_pipeline_load(NULL, sets, 3, &p, &err) || nc_data_open(reg, p, &data, &err))
        die(&err);
    /* the big one first: its peak RSS is the one with a target */
    bench_net(reg, data, "capsnet",
              "[[0,28,1,1,9,1,28,256,1],[1,28,256,1,9,2,14,32,8],[1,14,32,8,9,2,7,10,16],[-1],"
              "[1]]",
              batches, peak);
    bench_net(reg, data, "small",
              "[[0,28,1,1,9,2,14,8,1],[0,14,8,1,5,1,14,8,1],[1,14,8,1,3,2,7,8,5],"
              "[1,7,8,5,7,1,7,10,4],[-1],[1]]",
              batches * 5, peak);
    nc_data_close(data);
    nc_pipeline_free(p);
    nc_registry_free(reg);
    return 0;
}
