/* test_data_fashion.c - the real Fashion-MNIST (Debian's
 * dataset-fashion-mnist) through the idx plugin: counts, shape, and the
 * balanced labels of the published dataset. Skipped when absent. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "nascaps/data.h"
#include "nc_test.h"

#define FASHION "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

static void test_fashion(void **state)
{
    nc_registry *reg = nc_registry_new();
    nc_pipeline *p = NULL;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_pipeline_load(NULL, NULL, 0, &p, &err), NC_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nc_data *d = NULL;
    if (nc_data_open(reg, p, &d, &err) != NC_OK)
        fail_msg("%s", err.msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "open: %.3f s\n", (double)(t1.tv_sec - t0.tv_sec) +
            1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    const nc_data_summary *s = nc_data_info(d);
    assert_string_equal(s->plugin, "idx");
    assert_int_equal(s->height, 28);
    assert_int_equal(s->width, 28);
    assert_int_equal(s->channels, 1);
    assert_int_equal(s->classes, 10);
    assert_int_equal(s->count[NC_DATA_TRAIN], 60000);
    assert_int_equal(s->count[NC_DATA_TEST], 10000);
    assert_int_equal(s->normalize, NC_NORMALIZE_NONE);
    for (int split = NC_DATA_TRAIN; split <= NC_DATA_TEST; split += 2) {
        int per[10] = {0};
        nc_data_iter *it;
        assert_int_equal(nc_data_iter_new(d, split, 1000, &it, &err), NC_OK);
        float *img = malloc(1000 * 784 * sizeof *img);
        int32_t lab[1000];
        size_t n;
        double sum = 0;
        while (nc_data_iter_next(it, img, NULL, lab, NULL, 0, &n, &err) == NC_OK && n) {
            for (size_t k = 0; k < n; k++)
                per[lab[k]]++;
            for (size_t k = 0; k < n * 784; k++)
                sum += img[k];
        }
        for (int c = 0; c < 10; c++)
            assert_int_equal(per[c], split == NC_DATA_TRAIN ? 6000 : 1000);
        /* Fashion-MNIST's mean pixel is 0.286 (train) / 0.287 (test) */
        double mean = sum / (split == NC_DATA_TRAIN ? 60000.0 : 10000.0) / 784;
        assert_float_equal(mean, 0.286, 0.002);
        free(img);
        nc_data_iter_free(it);
    }
    nc_data_close(d);
    nc_pipeline_free(p);
    nc_registry_free(reg);
}

int main(void)
{
    struct stat st;
    if (stat(FASHION, &st) != 0) {
        fprintf(stderr, "test_data_fashion: SKIPPED: %s is absent (Debian "
                "package dataset-fashion-mnist)\n", FASHION);
        return NC_TEST_SKIP;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fashion)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
