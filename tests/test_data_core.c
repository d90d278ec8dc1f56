/* test_data_core.c - the core data services (nascaps/data.h) over a fake
 * plugin with known pixels, and over the synthetic plugin through the
 * registry and a pipeline. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nascaps/data.h"
#include "nc_test.h"

/* The fake plugin: H x W x C images whose pixels are a known function of
 * (image, y, x, c); mode 1 is a pure gradient (x in channel 0, y in 1). */
typedef struct fake {
    int h, w, c, classes, mode;
    int64_t train, test;
} fake;

static fake fake_cfg;

static float fake_pixel(int64_t i, int y, int x, int c)
{
    if (fake_cfg.mode == 1)
        return c == 0 ? (float)x / (float)(fake_cfg.w - 1)
                      : (float)y / (float)(fake_cfg.h - 1);
    return (float)(1 + (i * 7 + y * 13 + x * 3 + c * 5) % 97) / 97.0f;
}

static int fake_open(const nc_section *sec, void **handle,
                     nc_dataset_info *info, nc_error *err)
{
    info->height = fake_cfg.h;
    info->width = fake_cfg.w;
    info->channels = fake_cfg.c;
    info->classes = fake_cfg.classes;
    info->train_count = fake_cfg.train;
    info->test_count = fake_cfg.test;
    info->default_normalize = "none";
    snprintf(info->description, sizeof info->description, "fake");
    *handle = &fake_cfg;
    return NC_OK;
}

static int fake_read(void *handle, int split, const int64_t *index, size_t n,
                     float *images, int32_t *labels, nc_error *err)
{
    size_t per = (size_t)fake_cfg.h * fake_cfg.w * fake_cfg.c;
    for (size_t k = 0; k < n; k++) {
        int64_t i = index[k] + (split == NC_SPLIT_TEST ? 100000 : 0);
        for (int y = 0; y < fake_cfg.h; y++)
            for (int x = 0; x < fake_cfg.w; x++)
                for (int c = 0; c < fake_cfg.c; c++)
                    images[k * per + ((size_t)y * fake_cfg.w + x) * fake_cfg.c + c] =
                        fake_pixel(i, y, x, c);
        labels[k] = (int32_t)(index[k] % fake_cfg.classes);
    }
    return NC_OK;
}

static void fake_close(void *handle)
{
}

static const nc_dataset_ops fake_ops = {sizeof(nc_dataset_ops), NULL, fake_open,
                                        fake_read, fake_close};

static nc_data *open_fake(int h, int w, int c, int mode, nc_data_options opt)
{
    fake_cfg = (fake){h, w, c, 3, mode, 50, 20};
    nc_data *d = NULL;
    nc_error err;
    nc_error_clear(&err);
    int rc = nc_data_open_ops(&fake_ops, "fake", NULL, &opt, &d, &err);
    if (rc != NC_OK)
        fail_msg("%s", err.msg);
    return d;
}

static const nc_data_options plain = {0, 0, 0, NC_NORMALIZE_NONE, 1};

static void test_plain_read(void **state)
{
    nc_data *d = open_fake(4, 5, 2, 0, plain);
    const nc_data_summary *s = nc_data_info(d);
    assert_int_equal(s->height, 4);
    assert_int_equal(s->width, 5);
    assert_int_equal(s->channels, 2);
    assert_int_equal(s->count[NC_DATA_TRAIN], 50);
    assert_int_equal(s->count[NC_DATA_VALIDATION], 0);
    assert_int_equal(s->count[NC_DATA_TEST], 20);
    int64_t idx[3] = {0, 49, 7};
    float img[3 * 40], raw[3 * 40];
    int32_t lab[3];
    nc_error err;
    assert_int_equal(nc_data_batch(d, NC_DATA_TRAIN, idx, 3, img, raw, lab, NULL, 0, &err), NC_OK);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(lab[k], idx[k] % 3);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 5; x++)
                for (int c = 0; c < 2; c++) {
                    float v = fake_pixel(idx[k], y, x, c);
                    assert_true(img[k * 40 + (y * 5 + x) * 2 + c] == v);
                    assert_true(raw[k * 40 + (y * 5 + x) * 2 + c] == v);
                }
    }
    idx[0] = 50;
    assert_int_equal(nc_data_batch(d, NC_DATA_TRAIN, idx, 1, img, NULL, lab, NULL, 0, &err),
                     NC_ERR_INPUT);
    assert_string_equal(err.msg, "dataset: train index 50 out of range 0..49");
    idx[0] = 0;
    assert_int_equal(nc_data_batch(d, NC_DATA_VALIDATION, idx, 1, img, NULL, lab, NULL, 0, &err),
                     NC_ERR_INPUT);
    assert_string_equal(err.msg, "dataset: validation index 0 out of range 0..-1");
    nc_data_close(d);
}

static void test_resize_gradient(void **state)
{
    nc_data *d = open_fake(6, 8, 2, 1, plain);
    nc_error err;
    assert_int_equal(nc_data_set_resize(d, 2, &err), NC_OK);
    assert_int_equal(nc_data_set_resize(d, 3, &err), NC_ERR_INPUT);
    const nc_data_summary *s = nc_data_info(d);
    assert_int_equal(s->height, 12);
    assert_int_equal(s->width, 16);
    assert_int_equal(s->resize, 2);
    float img[12 * 16 * 2], raw[12 * 16 * 2];
    int64_t i0 = 3;
    int32_t lab;
    assert_int_equal(nc_data_batch(d, NC_DATA_TRAIN, &i0, 1, img, raw, &lab, NULL, 0, &err), NC_OK);
    /* a linear ramp stays linear in the interior; half-pixel centres put
     * output o at input (o + 0.5) / 2 - 0.5, clamped at the edges */
    for (int oy = 0; oy < 12; oy++)
        for (int ox = 0; ox < 16; ox++) {
            double sx = (ox + 0.5) / 2 - 0.5, sy = (oy + 0.5) / 2 - 0.5;
            sx = sx < 0 ? 0 : sx > 7 ? 7 : sx;
            sy = sy < 0 ? 0 : sy > 5 ? 5 : sy;
            assert_float_equal(img[(oy * 16 + ox) * 2 + 0], sx / 7, 1e-6);
            assert_float_equal(img[(oy * 16 + ox) * 2 + 1], sy / 5, 1e-6);
        }
    assert_memory_equal(img, raw, sizeof img);
    nc_data_close(d);
}

static void test_shift(void **state)
{
    nc_data *d = open_fake(10, 10, 1, 0, plain);
    nc_rng rng;
    nc_rng_seed(&rng, 5);
    float img[100], ref[100], moved[100];
    int32_t lab;
    nc_error err;
    int seen[5][5] = {{0}};
    for (int t = 0; t < 400; t++) {
        int64_t i = t % 50;
        assert_int_equal(nc_data_batch(d, NC_DATA_TRAIN, &i, 1, ref, NULL, &lab, NULL, 0, &err), NC_OK);
        assert_int_equal(nc_data_batch(d, NC_DATA_TRAIN, &i, 1, img, NULL, &lab, &rng, 0.25, &err), NC_OK);
        /* 0.25 of 10 pixels: shifts of up to 2 in each direction */
        int found = 0;
        for (int dy = -2; dy <= 2; dy++)
            for (int dx = -2; dx <= 2; dx++) {
                for (int y = 0; y < 10; y++)
                    for (int x = 0; x < 10; x++) {
                        int sy = y - dy, sx = x - dx;
                        moved[y * 10 + x] = sy < 0 || sy >= 10 || sx < 0 || sx >= 10
                                                ? 0.0f : ref[sy * 10 + sx];
                    }
                if (!memcmp(moved, img, sizeof img)) {
                    found++;
                    seen[dy + 2][dx + 2]++;
                }
            }
        assert_int_equal(found, 1);
    }
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++)
            assert_true(seen[a][b] > 0);
    /* a known shift through the exposed transform: 3 down, 1 left */
    float out[100];
    nc_image_shift(ref, 10, 10, 1, 3, -1, out);
    assert_true(out[3 * 10 + 0] == ref[0 * 10 + 1]);
    assert_true(out[9 * 10 + 8] == ref[6 * 10 + 9]);
    assert_true(out[2 * 10 + 4] == 0.0f);
    assert_true(out[5 * 10 + 9] == 0.0f);
    nc_data_close(d);
}

static void test_subsets(void **state)
{
    nc_data_options o = {20, 5, 10, NC_NORMALIZE_NONE, 42};
    nc_data *a = open_fake(4, 4, 1, 0, o);
    nc_data *b = open_fake(4, 4, 1, 0, o);
    o.seed = 43;
    nc_data *c = open_fake(4, 4, 1, 0, o);
    assert_int_equal(nc_data_split_count(a, NC_DATA_TRAIN), 20);
    assert_int_equal(nc_data_split_count(a, NC_DATA_VALIDATION), 10);
    assert_int_equal(nc_data_split_count(a, NC_DATA_TEST), 5);
    int used[50] = {0};
    int differ = 0;
    for (int s = 0; s < 3; s++)
        for (int64_t i = 0; i < nc_data_split_count(a, s); i++) {
            int64_t src = nc_data_source_index(a, s, i);
            assert_int_equal(src, nc_data_source_index(b, s, i));
            differ += src != nc_data_source_index(c, s, i);
            assert_true(src >= 0 && src < (s == NC_DATA_TEST ? 20 : 50));
            if (s != NC_DATA_TEST) {
                assert_int_equal(used[src], 0);   /* train and validation disjoint */
                used[src] = 1;
            }
        }
    assert_true(differ > 0);
    assert_int_equal(nc_data_fingerprint(a), nc_data_fingerprint(b));
    assert_int_not_equal(nc_data_fingerprint(a), nc_data_fingerprint(c));
    assert_int_equal(nc_data_source_index(a, NC_DATA_TRAIN, 20), -1);
    nc_data_close(a);
    nc_data_close(b);
    nc_data_close(c);

    nc_data *d = NULL;
    nc_error err;
    o = (nc_data_options){0, 0, 50, NC_NORMALIZE_NONE, 1};
    assert_int_equal(nc_data_open_ops(&fake_ops, "fake", NULL, &o, &d, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "setting 'dataset.validation': 50 images held out "
                        "for validation, expected 0..49 (the plugin has 50 train "
                        "images and at least one must stay for training)");
    o = (nc_data_options){41, 0, 10, NC_NORMALIZE_NONE, 1};
    assert_int_equal(nc_data_open_ops(&fake_ops, "fake", NULL, &o, &d, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "setting 'dataset.train_subset': 41 train images "
                        "asked, expected 0..40 (50 train images less the "
                        "validation hold-out)");
    o = (nc_data_options){0, 21, 0, NC_NORMALIZE_NONE, 1};
    assert_int_equal(nc_data_open_ops(&fake_ops, "fake", NULL, &o, &d, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "setting 'dataset.test_subset': 21 test images "
                        "asked, expected 0..20");
    assert_null(d);
}

static void test_standard(void **state)
{
    nc_data_options o = {30, 0, 5, NC_NORMALIZE_STANDARD, 9};
    nc_data *d = open_fake(5, 6, 3, 0, o);
    assert_int_equal(nc_data_info(d)->normalize, NC_NORMALIZE_STANDARD);
    float img[30 * 90], raw[30 * 90];
    int64_t idx[30];
    for (int i = 0; i < 30; i++)
        idx[i] = i;
    nc_error err;
    assert_int_equal(nc_data_batch(d, NC_DATA_TRAIN, idx, 30, img, raw, NULL, NULL, 0, &err), NC_OK);
    for (int c = 0; c < 3; c++) {
        double s = 0, sq = 0;
        for (int p = 0; p < 30 * 30; p++) {
            s += img[p * 3 + c];
            sq += (double)img[p * 3 + c] * img[p * 3 + c];
        }
        double mean = s / 900, sd = sqrt(sq / 900 - mean * mean);
        assert_float_equal(mean, 0, 1e-5);
        assert_float_equal(sd, 1, 1e-5);
        float m, st;
        nc_data_channel_stats(d, c, &m, &st);
        /* raw is the [0,1] image before normalisation */
        for (int p = 0; p < 30 * 30; p++)
            assert_float_equal(img[p * 3 + c], (raw[p * 3 + c] - m) / st, 1e-5);
    }
    nc_data_close(d);
}

static void test_iterator(void **state)
{
    nc_data_options o = {0, 0, 7, NC_NORMALIZE_NONE, 3};
    nc_data *d = open_fake(3, 3, 1, 0, o);   /* 43 train images */
    nc_data_iter *it;
    nc_error err;
    assert_int_equal(nc_data_iter_new(d, NC_DATA_TRAIN, 10, &it, &err), NC_OK);
    assert_int_equal(nc_data_iter_batches(it), 5);
    nc_rng rng;
    nc_rng_seed(&rng, 11);
    float img[10 * 9];
    int32_t lab[10];
    for (int epoch = 0; epoch < 2; epoch++) {
        nc_data_iter_start(it, &rng);
        int count[50] = {0};
        size_t n, total = 0, batches = 0;
        int in_order = 1;
        int64_t prev = -1;
        for (;;) {
            assert_int_equal(nc_data_iter_next(it, img, NULL, lab, NULL, 0, &n, &err), NC_OK);
            if (!n)
                break;
            batches++;
            assert_true(n == 10 || (batches == 5 && n == 3));
            for (size_t k = 0; k < n; k++) {
                /* the fake pixel (0,0) identifies the image */
                int found = -1;
                for (int i = 0; i < 50; i++)
                    if (fake_pixel(i, 0, 0, 0) == img[k * 9] &&
                        fake_pixel(i, 2, 1, 0) == img[k * 9 + 7] && i % 3 == lab[k])
                        found = found < 0 ? i : found;
                assert_true(found >= 0);
                count[found]++;
                in_order &= found > prev;
                prev = found;
            }
            total += n;
        }
        assert_int_equal(total, 43);
        assert_int_equal(batches, 5);
        assert_false(in_order);
    }
    nc_data_iter_free(it);
    nc_data_close(d);
}

static void test_synthetic_registry(void **state)
{
    nc_registry *reg = nc_registry_new();
    const char *sets[] = {"dataset.plugin=synthetic", "dataset.train_count=300",
                          "dataset.test_count=40", "dataset.validation=20"};
    nc_pipeline *p = NULL;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_pipeline_load(NULL, sets, 4, &p, &err), NC_OK);
    nc_data *d = NULL;
    if (nc_data_open(reg, p, &d, &err) != NC_OK)
        fail_msg("%s", err.msg);
    const nc_data_summary *s = nc_data_info(d);
    assert_string_equal(s->plugin, "synthetic");
    assert_int_equal(s->height, 28);
    assert_int_equal(s->channels, 1);
    assert_int_equal(s->classes, 10);
    assert_int_equal(s->count[NC_DATA_TRAIN], 280);
    assert_int_equal(s->count[NC_DATA_VALIDATION], 20);
    assert_int_equal(s->normalize, NC_NORMALIZE_NONE);
    float *a = malloc(280 * 784 * sizeof *a), *b = malloc(280 * 784 * sizeof *b);
    int32_t la[280], lb[280];
    int64_t idx[280];
    for (int i = 0; i < 280; i++)
        idx[i] = i;
    assert_int_equal(nc_data_batch(d, NC_DATA_TRAIN, idx, 280, a, NULL, la, NULL, 0, &err), NC_OK);
    assert_int_equal(nc_data_batch(d, NC_DATA_TRAIN, idx, 280, b, NULL, lb, NULL, 0, &err), NC_OK);
    assert_memory_equal(a, b, 280 * 784 * sizeof *a);
    int per_class[10] = {0};
    for (int i = 0; i < 280; i++)
        per_class[la[i]]++;
    for (int c = 0; c < 10; c++)
        assert_true(per_class[c] >= 10);
    /* not constant: pixels spread over [0,1] and images of one class differ */
    double mean = 0;
    for (size_t k = 0; k < 280 * 784; k++) {
        assert_true(a[k] >= 0 && a[k] <= 1);
        mean += a[k];
    }
    mean /= 280 * 784;
    assert_true(mean > 0.1 && mean < 0.6);
    nc_data_close(d);
    nc_pipeline_free(p);

    const char *bad[] = {"dataset.plugin=synthetic", "dataset.sise=32"};
    assert_int_equal(nc_pipeline_load(NULL, bad, 2, &p, &err), NC_OK);
    assert_int_equal(nc_data_open(reg, p, &d, &err), NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "sise"));
    assert_non_null(strstr(err.msg, "size"));
    nc_pipeline_free(p);
    const char *bad2[] = {"dataset.plugin=synthetic", "dataset.classes=40"};
    assert_int_equal(nc_pipeline_load(NULL, bad2, 2, &p, &err), NC_OK);
    assert_int_equal(nc_data_open(reg, p, &d, &err), NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "setting 'dataset.classes'"));
    nc_pipeline_free(p);
    const char *bad3[] = {"dataset.plugin=synthetic", "dataset.validation=2000"};
    assert_int_equal(nc_pipeline_load(NULL, bad3, 2, &p, &err), NC_OK);
    assert_int_equal(nc_data_open(reg, p, &d, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "--set dataset.validation: setting "
                        "'dataset.validation': 2000 images held out for "
                        "validation, expected 0..1999 (the plugin has 2000 "
                        "train images and at least one must stay for training)");
    nc_pipeline_free(p);
    const char *bad4[] = {"dataset.plugin=mnist"};
    assert_int_equal(nc_pipeline_load(NULL, bad4, 1, &p, &err), NC_OK);
    assert_int_equal(nc_data_open(reg, p, &d, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "/usr/share/datasets/mnist/train-images-idx3-ubyte.gz: "
                        "cannot open: No such file or directory (dataset.train_images, "
                        "default); set dataset.train_images, train_labels, test_images "
                        "and test_labels to the MNIST IDX files");
    nc_pipeline_free(p);
    free(a);
    free(b);
    nc_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_read),
        cmocka_unit_test(test_resize_gradient),
        cmocka_unit_test(test_shift),
        cmocka_unit_test(test_subsets),
        cmocka_unit_test(test_standard),
        cmocka_unit_test(test_iterator),
        cmocka_unit_test(test_synthetic_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
