/* test_data_cifar.c - the cifar10 / cifar100 plugins through the registry:
 * fixtures round-trip pixel- and label-exact in NHWC, bad files give one
 * exact line, random corruption never crashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nascaps/data.h"
#include "nc_test.h"

static char *tmp;
static nc_registry *reg;

static int setup(void **state)
{
    tmp = nc_test_tmpdir();
    reg = nc_registry_new();
    return 0;
}

static int teardown(void **state)
{
    nc_registry_free(reg);
    nc_test_rmtree(tmp);
    free(tmp);
    return 0;
}

/* Channel-planar source value of record r, channel c, pixel (y, x). */
static uint8_t src_pixel(int file, int r, int c, int y, int x)
{
    return (uint8_t)(file * 40 + r * 17 + c * 80 + y * 5 + x * 2 + (y > x));
}

/* A file of n records with label bytes lb (1 or 2). */
static unsigned char *make_file(int file, int n, int lb, size_t *len)
{
    size_t rec = (size_t)lb + 3072;
    *len = rec * (size_t)n;
    unsigned char *b = malloc(*len);
    for (int r = 0; r < n; r++) {
        unsigned char *p = b + rec * (size_t)r;
        p[0] = (unsigned char)((file + r) % (lb == 1 ? 10 : 20));
        if (lb == 2)
            p[1] = (unsigned char)((file * 3 + r * 7) % 100);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                    p[lb + c * 1024 + y * 32 + x] = src_pixel(file, r, c, y, x);
    }
    return b;
}

static void write_cifar10(const char *dir, int n)
{
    char p[4096];
    for (int f = 0; f <= 5; f++) {
        size_t len;
        unsigned char *b = make_file(f, n, 1, &len);
        if (f < 5)
            snprintf(p, sizeof p, "%s/data_batch_%d.bin", dir, f + 1);
        else
            snprintf(p, sizeof p, "%s/test_batch.bin", dir);
        nc_test_write_file(p, b, len);
        free(b);
    }
}

static int open_data(const char *const *sets, size_t n, nc_data **d, nc_error *err)
{
    nc_pipeline *p = NULL;
    nc_error_clear(err);
    assert_int_equal(nc_pipeline_load(NULL, sets, n, &p, err), NC_OK);
    int rc = nc_data_open(reg, p, d, err);
    nc_pipeline_free(p);
    return rc;
}

static void test_cifar10_round_trip(void **state)
{
    write_cifar10(tmp, 3);
    char dirset[4200];
    snprintf(dirset, sizeof dirset, "dataset.dir=\"%s\"", tmp);
    const char *sets[] = {"dataset.plugin=cifar10", dirset, "dataset.normalize=none"};
    nc_data *d;
    nc_error err;
    if (open_data(sets, 3, &d, &err) != NC_OK)
        fail_msg("%s", err.msg);
    const nc_data_summary *s = nc_data_info(d);
    assert_int_equal(s->count[NC_DATA_TRAIN], 15);
    assert_int_equal(s->count[NC_DATA_TEST], 3);
    assert_int_equal(s->height, 32);
    assert_int_equal(s->channels, 3);
    assert_int_equal(s->classes, 10);
    float img[3072];
    int32_t lab;
    for (int64_t i = 0; i < 18; i++) {
        int split = i < 15 ? NC_DATA_TRAIN : NC_DATA_TEST;
        int64_t k = i < 15 ? i : i - 15;
        int file = (int)(i / 3), r = (int)(i % 3);
        assert_int_equal(nc_data_batch(d, split, &k, 1, img, NULL, &lab, NULL, 0, &err), NC_OK);
        assert_int_equal(lab, (file + r) % 10);
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
                for (int c = 0; c < 3; c++)
                    if (img[(y * 32 + x) * 3 + c] != (float)src_pixel(file, r, c, y, x) / 255.0f)
                        fail_msg("image %lld (%d,%d,%d)", (long long)i, y, x, c);
    }
    nc_data_close(d);
    /* standard by default for CIFAR */
    if (open_data(sets, 2, &d, &err) != NC_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(nc_data_info(d)->normalize, NC_NORMALIZE_STANDARD);
    nc_data_close(d);
}

static void test_cifar100(void **state)
{
    char dir[4200], dirset[4300], p[4300];
    snprintf(dir, sizeof dir, "%s/c100", tmp);
    snprintf(p, sizeof p, "mkdir -p '%s'", dir);
    assert_int_equal(nc_test_run(p, NULL, NULL), 0);
    size_t len;
    unsigned char *b = make_file(1, 4, 2, &len);
    snprintf(p, sizeof p, "%s/train.bin", dir);
    nc_test_write_file(p, b, len);
    snprintf(p, sizeof p, "%s/test.bin", dir);
    nc_test_write_file(p, b, len);
    free(b);
    snprintf(dirset, sizeof dirset, "dataset.dir=\"%s\"", dir);
    for (int coarse = 0; coarse < 2; coarse++) {
        const char *sets[] = {"dataset.plugin=cifar100", dirset,
                              coarse ? "dataset.label=coarse" : "dataset.label=fine",
                              "dataset.normalize=none"};
        nc_data *d;
        nc_error err;
        if (open_data(sets, 4, &d, &err) != NC_OK)
            fail_msg("%s", err.msg);
        assert_int_equal(nc_data_info(d)->classes, coarse ? 20 : 100);
        float img[3072];
        int32_t lab;
        int64_t k = 2;
        assert_int_equal(nc_data_batch(d, NC_DATA_TRAIN, &k, 1, img, NULL, &lab, NULL, 0, &err), NC_OK);
        assert_int_equal(lab, coarse ? (1 + 2) % 20 : (3 + 14) % 100);
        assert_true(img[(7 * 32 + 3) * 3 + 2] == (float)src_pixel(1, 2, 2, 7, 3) / 255.0f);
        nc_data_close(d);
    }
}

static void expect_open_error(const char *dir, const char *want)
{
    char dirset[4300];
    snprintf(dirset, sizeof dirset, "dataset.dir=\"%s\"", dir);
    const char *sets[] = {"dataset.plugin=cifar10", dirset};
    nc_data *d = NULL;
    nc_error err;
    assert_int_equal(open_data(sets, 2, &d, &err), NC_ERR_INPUT);
    assert_null(d);
    assert_string_equal(err.msg, want);
}

static void test_cifar10_bad(void **state)
{
    char dir[4200], p[4300], want[8192], cmd[4400];
    snprintf(dir, sizeof dir, "%s/bad", tmp);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(nc_test_run(cmd, NULL, NULL), 0);
    snprintf(want, sizeof want, "%s/data_batch_1.bin: cannot open: No such file or "
             "directory; set dataset.dir to the folder of the CIFAR-10 binary "
             "version (data_batch_1.bin .. data_batch_5.bin, test_batch.bin)", dir);
    expect_open_error(dir, want);

    write_cifar10(dir, 2);
    size_t len;
    unsigned char *b = make_file(2, 2, 1, &len);
    snprintf(p, sizeof p, "%s/data_batch_3.bin", dir);
    nc_test_write_file(p, b, len - 100);
    snprintf(want, sizeof want, "%s: offset 3073: size 6046 bytes is not a positive "
             "multiple of the 3073-byte CIFAR-10 record (1 label byte + 3072 pixel "
             "bytes)", p);
    expect_open_error(dir, want);
    nc_test_write_file(p, b, 0);
    snprintf(want, sizeof want, "%s: offset 0: size 0 bytes is not a positive "
             "multiple of the 3073-byte CIFAR-10 record (1 label byte + 3072 pixel "
             "bytes)", p);
    expect_open_error(dir, want);
    b[3073] = 10;
    nc_test_write_file(p, b, len);
    snprintf(want, sizeof want, "%s: offset 3073: label 10 out of range, expected "
             "0..9 (record 1)", p);
    expect_open_error(dir, want);
    free(b);
}

static void test_cifar10_fuzz(void **state)
{
    char dir[4200], p[4300], cmd[4400];
    snprintf(dir, sizeof dir, "%s/fuzz", tmp);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(nc_test_run(cmd, NULL, NULL), 0);
    write_cifar10(dir, 1);
    size_t len;
    unsigned char *orig = make_file(5, 2, 1, &len);
    unsigned char *b = malloc(len);
    snprintf(p, sizeof p, "%s/test_batch.bin", dir);
    char dirset[4300];
    snprintf(dirset, sizeof dirset, "dataset.dir=\"%s\"", dir);
    const char *sets[] = {"dataset.plugin=cifar10", dirset, "dataset.normalize=none"};
    nc_pipeline *pl;
    nc_error err;
    assert_int_equal(nc_pipeline_load(NULL, sets, 3, &pl, &err), NC_OK);
    nc_rng rng;
    nc_rng_seed(&rng, 99);
    int ok = 0, refused = 0;
    for (int t = 0; t < 300; t++) {
        size_t n = len;
        memcpy(b, orig, len);
        if (t % 3 == 0)
            n = (size_t)nc_rng_range(&rng, 0, (int64_t)len - 1);
        else
            for (int k = 0; k < 3; k++) {
                /* favour the label bytes, where the checks are */
                size_t at = nc_rng_range(&rng, 0, 1) ? (size_t)nc_rng_range(&rng, 0, 1) * 3073
                                                    : (size_t)nc_rng_range(&rng, 0, (int64_t)len - 1);
                b[at] ^= (unsigned char)nc_rng_range(&rng, 1, 255);
            }
        nc_test_write_file(p, b, n);
        nc_data *d = NULL;
        nc_error_clear(&err);
        if (nc_data_open(reg, pl, &d, &err) == NC_OK) {
            ok++;
            float img[3072];
            int32_t lab;
            for (int64_t i = 0; i < nc_data_split_count(d, NC_DATA_TEST); i++) {
                assert_int_equal(nc_data_batch(d, NC_DATA_TEST, &i, 1, img, NULL, &lab, NULL, 0, &err), NC_OK);
                assert_true(lab >= 0 && lab < 10);
            }
            nc_data_close(d);
        } else {
            refused++;
            assert_memory_equal(err.msg, p, strlen(p));
        }
    }
    assert_true(ok > 20);
    assert_true(refused > 100);
    nc_pipeline_free(pl);
    free(b);
    free(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cifar10_round_trip),
        cmocka_unit_test(test_cifar100),
        cmocka_unit_test(test_cifar10_bad),
        cmocka_unit_test(test_cifar10_fuzz),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
