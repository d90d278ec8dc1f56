/* test_chroms_train.c - the release chromosomes (reference/chroms) train:
 * each builds on a synthetic dataset of its shape (size = gene 1's insize
 * / resize, channels = inch x incaps, 10 classes), runs one training step
 * of 2 images and one evaluation of its 2 test images through nc_train;
 * one over training.max_params is refused with its count and trains when
 * the limit is raised; the DeepCaps chromosome trains on 32 x 32 x 3
 * data fed at 64 x 64.
 *
 * By default a subset of 11 chromosomes covering every family, resize,
 * channel count and a refusal (the suite's time budget, ASan included);
 * NASCAPS_TEST_ALL_CHROMS=1 runs all 66 (bench/bench_chroms also does).
 * Skipped when the reference folder is absent. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nc_chroms.h"
#include "nc_test.h"

#define BATCH 2
#define MAX_PARAMS 20000000
#define MAX_MEMORY_MB 4096

static const char *const subset[] = {
    "chrom_capsnet.chr",                               /* Sabour et al. */
    "ns-cifar10/5799c160986d11ea8d92d90c930a8e35.chr",  /* conv + class caps, 3 channels */
    "ns-cifar10/f1eca592989111ea8d92d90c930a8e35.chr",  /* 2 convs + DeepCaps cells, resize 2 */
    "ns-fmnist/d96b451c9acd11ea8eaa9fe3b11629b2.chr",   /* conv, conv, class caps */
    "ns-mnist/334e05d0982911eaabf82f2cceb7e5c2.chr",    /* DeepCaps-type, resize 1 */
    "ns-mnist/a949e74a983d11eaabf82f2cceb7e5c2.chr",    /* resize 1, two capsule layers */
    "ns-mnist/cf9327ca983511eaabf82f2cceb7e5c2.chr",    /* 4 convs, 3 capsule layers */
    "ns-svhn/4317a56c9d3211eabceca98e270e91ea.chr",     /* chained capsule layers */
    "ns-svhn/b34499d69d4f11eabceca98e270e91ea.chr",     /* 8 genes */
    "ns-svhn/ff4beef49d1f11eabceca98e270e91ea.chr",     /* DeepCaps-type on SVHN */
    "ns-svhn/984207509d4911eabceca98e270e91ea.chr",     /* 170 M parameters: refused */
};


static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int in_subset(const char *label)
{
    for (size_t i = 0; i < sizeof subset / sizeof *subset; i++)
        if (!strcmp(label, subset[i]))
            return 1;
    return 0;
}

static void train_opts(nc_train_opts *opt, int64_t max_params)
{
    nc_train_opts_defaults(opt);
    opt->epochs = 1;
    opt->threads = 1;
    opt->net.max_batch = BATCH;
    opt->net.max_params = max_params;
    opt->net.max_memory_mb = MAX_MEMORY_MB;
}

/* nc_train of g on its synthetic data of `steps` batches of 2 and 2 test
 * images; the data stay open for the caller's checks (*dp, *pp). */
static void train_chrom(nc_registry *reg, const nc_genotype *g, const char *label, int steps, int64_t max_params,
                        nc_train_result *res, nc_net **net, nc_data **dp, nc_pipeline **pp)
{
    nc_data_shape ds;
    nc_chroms_shape(g, &ds);
    *dp = nc_chroms_open_data(reg, &ds, BATCH * steps, 2, pp);
    nc_train_opts opt;
    train_opts(&opt, max_params);
    nc_error err;
    nc_error_clear(&err);
    if (nc_train(reg, *dp, g, label, &opt, net, res, &err))
        fail_msg("%s", err.msg);
}

/* A trained result: one complete epoch of 2 images, a finite loss, and an
 * evaluation of the 2 test images that nc_net_evaluate reproduces. */
static void check_trained(const char *label, const nc_train_result *res, nc_net *net,
                          nc_data *d, int steps)
{
    if (res->status != NC_TRAIN_OK)
        fail_msg("%s: status %s: %s", label, nc_train_status_name(res->status), res->reason);
    assert_int_equal(res->epochs_done, 1);
    assert_int_equal(res->n_epochs, 1);
    assert_int_equal(res->epochs[0].images, BATCH * steps);
    assert_true(isfinite(res->epochs[0].train_loss) && res->epochs[0].train_loss > 0);
    double acc = res->test_accuracy;
    assert_true(acc == 0.0 || acc == 0.5 || acc == 1.0);
    assert_non_null(net);
    double again;
    int64_t images;
    nc_error err;
    if (nc_net_evaluate(net, d, NC_DATA_TEST, &again, &images, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(images, 2);
    assert_true(again == acc);
}

static void test_release_chroms_train(void **state)
{
    nc_registry *reg = *state;
    const char *all = getenv("NASCAPS_TEST_ALL_CHROMS");
    int every = all && !strcmp(all, "1");
    char **paths;
    int n = nc_chroms_list(&paths);
    assert_int_equal(n, 66);
    int trained = 0, refused = 0;
    for (int i = 0; i < n; i++) {
        const char *label = nc_chroms_label(paths[i]);
        if (!every && !in_subset(label))
            continue;
        double t0 = now_s();
        nc_genotype g;
        nc_error err;
        nc_analysis an;
        if (nc_genotype_load(paths[i], &g, &err) ||
            nc_network_analyze(reg, &g, label, 0, &an, &err))
            fail_msg("%s", err.msg);
        int64_t trainable = an.params + an.decoder_params;
        nc_train_result res;
        nc_net *net = NULL;
        nc_data *d;
        nc_pipeline *p;
        train_chrom(reg, &g, label, 1, MAX_PARAMS, &res, &net, &d, &p);
        assert_int_equal(res.params, an.params);
        assert_int_equal(res.macs, an.macs);
        if (trainable > MAX_PARAMS) {
            assert_int_equal(res.status, NC_TRAIN_REFUSED);
            assert_non_null(strstr(res.reason, ": candidate has "));
            assert_non_null(strstr(res.reason, "over training.max_params = 20,000,000"));
            assert_int_equal(res.n_epochs, 0);
            assert_null(net);
            refused++;
        } else {
            check_trained(label, &res, net, d, 1);
            trained++;
        }
        printf("%-50s %11lld params: %s, test accuracy %.1f, %.2f s\n", label,
               (long long)trainable, nc_train_status_name(res.status), res.test_accuracy,
               now_s() - t0);
        fflush(stdout);
        nc_train_result_free(&res);
        nc_net_free(net);
        nc_chroms_close_data(d, p);
    }
    printf("%d trained, %d refused over training.max_params%s\n", trained, refused,
           every ? "" : " (subset; NASCAPS_TEST_ALL_CHROMS=1 runs all 66)");
    assert_int_equal(trained + refused, every ? 66 : (int)(sizeof subset / sizeof *subset));
    if (every)
        assert_int_equal(refused, 8);
    nc_chroms_free(paths, n);
}

/* The smallest chromosome over the limit: refused with its count, then
 * trained with the limit raised. */
static void test_over_limit_trains_when_raised(void **state)
{
    nc_registry *reg = *state;
    const char *label = "ns-fmnist/d9c2e89e9a9b11ea8eaa9fe3b11629b2.chr";
    nc_genotype g;
    nc_chroms_load(label, &g);
    nc_train_result res;
    nc_net *net = NULL;
    nc_data *d;
    nc_pipeline *p;
    train_chrom(reg, &g, label, 1, MAX_PARAMS, &res, &net, &d, &p);
    assert_int_equal(res.status, NC_TRAIN_REFUSED);
    assert_string_equal(res.reason,
                        "ns-fmnist/d9c2e89e9a9b11ea8eaa9fe3b11629b2.chr: candidate has "
                        "20,441,825 trainable parameters (network 20,345,776 + decoder 96,049), "
                        "over training.max_params = 20,000,000");
    assert_int_equal(res.params, 20345776);
    assert_int_equal(res.decoder_params, 96049);
    nc_train_result_free(&res);
    nc_chroms_close_data(d, p);

    train_chrom(reg, &g, label, 1, 21000000, &res, &net, &d, &p);
    check_trained(label, &res, net, d, 1);
    printf("%s: trains with training.max_params = 21,000,000 (%.2f img/s)\n", label,
           res.train_img_per_s);
    nc_train_result_free(&res);
    nc_net_free(net);
    nc_chroms_close_data(d, p);
}

/* DeepCaps (64 x 64 x 3: CIFAR-10 resized, resize gene 2) on 32 x 32 x 3
 * synthetic data: the network reads the images upscaled, the FlatCaps skip
 * from gene 4 is wired, two training steps and an evaluation run. */
static void test_deepcaps_chromosome(void **state)
{
    nc_registry *reg = *state;
    const char *label = "chrom_deepcaps.chr";
    nc_genotype g;
    nc_chroms_load(label, &g);
    assert_int_equal(g.resize, 2);
    assert_int_equal(g.skip, 4);
    nc_data_shape ds;
    nc_chroms_shape(&g, &ds);
    assert_int_equal(ds.size, 32);
    assert_int_equal(ds.channels, 3);
    nc_train_result res;
    nc_net *net = NULL;
    nc_data *d;
    nc_pipeline *p;
    train_chrom(reg, &g, label, 2, MAX_PARAMS, &res, &net, &d, &p);
    check_trained(label, &res, net, d, 2);
    const nc_data_summary *info = nc_data_info(d);
    assert_int_equal(info->native_height, 32);
    assert_int_equal(info->height, 64);
    assert_int_equal(info->resize, 2);
    const nc_net_info *ni = nc_net_get_info(net);
    assert_int_equal(ni->input.h, 64);
    assert_int_equal(ni->input.ch, 3);
    assert_int_equal(ni->classes, 10);
    assert_int_equal(ni->class_dim, 16);
    assert_int_equal(ni->n_layers, 6);
    assert_int_equal(res.decoder_params, nc_decoder_params(10, 16, 64, 3));
    assert_int_equal(res.params + res.decoder_params, 10777955);
    printf("%s: %lld + %lld params, %lld MACs, train_img_per_s %.2f (batch 2, one thread)\n",
           label, (long long)res.params, (long long)res.decoder_params, (long long)res.macs,
           res.train_img_per_s);
    nc_train_result_free(&res);
    nc_net_free(net);
    nc_chroms_close_data(d, p);
}

int main(void)
{
    nc_test_require_reference("test_chroms_train");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_release_chroms_train),
        cmocka_unit_test(test_over_limit_trains_when_raised),
        cmocka_unit_test(test_deepcaps_chromosome),
    };
    return cmocka_run_group_tests(tests, nc_chroms_setup, nc_chroms_teardown);
}
