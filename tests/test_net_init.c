/* test_net_init.c - whole networks at initialisation and the resize gene,
 * through the real layer plugins on the synthetic dataset (no reference
 * files needed; the release chromosomes are test_chroms_init's).
 *
 * - Deep genotypes written here (DeepCaps-type with and without a skip,
 *   deep Sabour-type chains of capsule layers) and genotypes drawn from
 *   the default search space of both families start with class capsules
 *   of mean length in [0.05, 0.95] (training-mode forward of 2 images).
 * - The resize gene: r = 2 feeds the network the dataset's images
 *   upscaled x2, and the decoder reconstructs the upscaled image. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nascaps/search.h"
#include "nascaps/train.h"
#include "nc_chroms.h"
#include "nc_test.h"

#define MAX_PARAMS 20000000
#define MAX_MEMORY_MB 4096


/* Measures g; returns 1 when it was built (and checked), 0 when refused
 * for its size (checked to be over the limit). */
static int check_init(nc_registry *reg, const nc_genotype *g, const char *label)
{
    nc_init_lengths r;
    nc_chroms_init_lengths(reg, g, label, MAX_PARAMS, MAX_MEMORY_MB, &r);
    char text[NC_GENOTYPE_STRING_MAX];
    nc_genotype_to_string(g, text, sizeof text);
    if (!r.built) {
        printf("%s %s: %lld params, %.0f MiB: refused: %s\n", label, text,
               (long long)r.trainable, r.memory_mb, r.refusal);
        assert_true(r.trainable > MAX_PARAMS || r.memory_mb > MAX_MEMORY_MB);
        return 0;
    }
    printf("%s %s: %lld params: class capsules %.3f (train mode), %.3f (eval mode)\n", label,
           text, (long long)r.trainable, r.train_mode, r.eval_mode);
    if (!(r.train_mode >= 0.05 && r.train_mode <= 0.95))
        fail_msg("%s %s: class capsules' mean length %.4f at init, outside [0.05, 0.95]", label,
                 text, r.train_mode);
    return 1;
}

static void test_written_deep_genotypes(void **state)
{
    nc_registry *reg = *state;
    static const char *const chroms[] = {
        /* the small DeepCaps-type genotype of the accuracy target */
        "[[0,28,1,1,3,1,28,16,1],[2,28,16,1,3,2,14,8,4],[2,14,8,4,3,2,7,8,8],"
        "[2,7,8,8,3,1,7,8,8],[2,7,8,8,7,1,1,10,16],[-1],[1]]",
        /* DeepCaps-type on 32 x 32 x 3, five cells, skip from gene 4, k 5 in one */
        "[[0,32,3,1,3,1,32,64,1],[2,32,16,4,3,2,16,16,4],[2,16,16,4,5,1,16,16,8],"
        "[2,16,16,8,3,2,8,16,8],[2,8,16,8,3,1,8,16,8],[2,8,16,8,3,2,4,16,8],"
        "[2,4,16,8,4,1,1,10,16],[4],[1]]",
        /* DeepCaps-type with resize: 16 x 16 data fed at 32 x 32, cells of
         * dim 2, skip from gene 2 (class capsules of dim 2 start lower:
         * 0.06 .. 0.2, the routing-gain correction overshoots at J/D = 5) */
        "[[0,32,1,1,3,1,32,32,1],[2,32,16,2,3,2,16,16,2],[2,16,16,2,3,2,8,16,2],"
        "[2,8,16,2,3,1,8,16,2],[2,8,16,2,8,1,1,10,4],[2],[2]]",
        /* deep Sabour-type: 3 convs, then capsule layers whose channels grow
         * and shrink (dims 12, 22, 4) before the class capsules */
        "[[0,28,1,1,5,1,28,32,1],[0,28,32,1,3,2,14,16,1],[0,14,16,1,3,1,14,4,1],"
        "[1,14,4,1,5,1,14,8,12],[1,14,8,12,3,2,7,16,22],[1,7,16,22,3,1,7,8,4],"
        "[1,7,8,4,7,1,1,10,16],[-1],[1]]",
        /* deep Sabour-type on 32 x 32 x 3: five capsule layers, dims 1 .. 16 */
        "[[0,32,3,1,9,1,32,16,1],[0,32,16,1,5,2,16,4,1],[1,16,4,1,5,1,16,8,8],"
        "[1,16,8,8,3,2,8,16,4],[1,8,16,4,3,1,8,4,16],[1,8,4,16,3,2,4,32,2],"
        "[1,4,32,2,4,1,1,10,8],[-1],[1]]",
        /* class capsules straight after a conv layer */
        "[[0,16,1,1,3,2,8,16,1],[1,8,4,4,8,1,1,10,8],[-1],[1]]",
    };
    for (size_t i = 0; i < sizeof chroms / sizeof *chroms; i++) {
        nc_genotype g = nc_chroms_parse(chroms[i]);
        char label[32];
        snprintf(label, sizeof label, "written %zu", i + 1);
        assert_int_equal(check_init(reg, &g, label), 1);
    }
}

/* Random members of the release's search space (seeded: the same ones
 * every run), 28 x 28 x 1 and 32 x 32 x 3, each family on its own. */
static void test_sampled_genotypes(void **state)
{
    nc_registry *reg = *state;
    const nc_data_shape shapes[2] = {{28, 1, 10}, {32, 3, 10}};
    int built = 0;
    for (int s = 0; s < 2; s++)
        for (int family = 0; family < 2; family++) {
            nc_search_space space;
            nc_space_defaults(&space, &shapes[s]);
            space.sabour = family == 0;
            space.deepcaps = family == 1;
            nc_rng rng;
            nc_rng_seed(&rng, 1000 + 10 * (uint64_t)s + (uint64_t)family);
            for (int k = 0; k < 4; k++) {
                nc_genotype g;
                nc_error err;
                if (nc_space_sample(&space, &rng, &g, &err))
                    fail_msg("%s", err.msg);
                char label[64];
                snprintf(label, sizeof label, "sampled %s %dx%dx%d #%d",
                         family ? "deepcaps" : "sabour", shapes[s].size, shapes[s].size,
                         shapes[s].channels, k + 1);
                built += check_init(reg, &g, label);
            }
        }
    /* most are small enough to build: the check is not vacuous */
    printf("%d of 16 sampled genotypes built\n", built);
    assert_true(built >= 8);
}

/* ---- the resize gene ---------------------------------------------------------- */

/* 8 x 8 synthetic images, fed at 16 x 16 */
static const char resize_chr[] =
    "[[0,16,1,1,3,2,8,8,1],[1,8,8,1,3,2,4,4,4],[1,4,4,4,4,1,1,3,4],[-1],[2]]";

static nc_data *open_synth(nc_registry *reg, int size, nc_pipeline **p)
{
    nc_data_shape ds = {size, 1, 3};
    return nc_chroms_open_data(reg, &ds, 40, 10, p);
}

/* nc_train sets the data's resize to the genotype's: the network reads
 * 16 x 16 images, and the decoder is the one of a 16 x 16 target. */
static void test_resize_trains(void **state)
{
    nc_registry *reg = *state;
    nc_pipeline *p;
    nc_data *d = open_synth(reg, 8, &p);
    assert_int_equal(nc_data_info(d)->resize, 1);
    nc_genotype g = nc_chroms_parse(resize_chr);
    nc_train_opts opt;
    nc_train_opts_defaults(&opt);
    opt.epochs = 2;
    opt.threads = 1;
    opt.net.max_batch = 10;
    nc_train_result res;
    nc_net *net = NULL;
    nc_error err;
    nc_error_clear(&err);
    if (nc_train(reg, d, &g, "resize.chr", &opt, &net, &res, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(res.status, NC_TRAIN_OK);
    assert_int_equal(res.epochs_done, 2);
    assert_true(isfinite(res.epochs[1].train_loss));
    const nc_data_summary *info = nc_data_info(d);
    assert_int_equal(info->resize, 2);
    assert_int_equal(info->height, 16);
    assert_int_equal(info->width, 16);
    assert_int_equal(info->native_height, 8);
    const nc_net_info *ni = nc_net_get_info(net);
    assert_int_equal(ni->input.h, 16);
    assert_int_equal(ni->input.w, 16);
    assert_int_equal(ni->input.ch, 1);
    /* m = ceil(16 / 4) = 4; an 8 x 8 target would give m = 2 */
    assert_int_equal(res.decoder_params, nc_decoder_params(3, 4, 16, 1));
    assert_true(nc_decoder_params(3, 4, 16, 1) != nc_decoder_params(3, 4, 8, 1));
    nc_train_result_free(&res);
    nc_net_free(net);

    /* a genotype for native 8 x 8 on the same data: resize back to 1 */
    nc_genotype g1 = nc_chroms_parse("[[0,8,1,1,3,2,4,8,1],[1,4,8,1,3,1,4,4,4],[1,4,4,4,4,1,1,3,4],"
                           "[-1],[1]]");
    opt.epochs = 1;
    if (nc_train(reg, d, &g1, "native.chr", &opt, NULL, &res, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(res.status, NC_TRAIN_OK);
    assert_int_equal(nc_data_info(d)->height, 8);
    nc_train_result_free(&res);

    /* resize 2 with gene 1 at the native size is refused, naming both */
    nc_genotype bad = nc_chroms_parse("[[0,8,1,1,3,2,4,8,1],[1,4,8,1,3,1,4,4,4],[1,4,4,4,4,1,1,3,4],"
                            "[-1],[2]]");
    assert_int_equal(nc_train(reg, d, &bad, "bad.chr", &opt, NULL, &res, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "bad.chr: gene 1 (conv): field 'insize' is 8 but the dataset's "
                                 "images are 8 x resize 2 = 16");
    nc_train_result_free(&res);
    nc_chroms_close_data(d, p);
}

/* The reconstruction target is the upscaled image: nc_data_batch's raw is
 * the bilinear x2 of the native image, and every one of its 16 x 16
 * pixels enters the loss (a change at the far corner, outside the native
 * 8 x 8, changes it by exactly weight * ((1 - p)^2 - p^2) / (n S S C)). */
static void test_resize_reconstruction_target(void **state)
{
    nc_registry *reg = *state;
    enum { N = 4, S = 16, NATIVE = 8 };
    nc_pipeline *p, *p8;
    nc_data *d = open_synth(reg, NATIVE, &p), *d8 = open_synth(reg, NATIVE, &p8);
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_data_set_resize(d, 2, &err), NC_OK);
    float images[N * S * S], raw[N * S * S], native[N * NATIVE * NATIVE], up[S * S];
    int32_t labels[N], labels8[N];
    int64_t idx[N] = {0, 1, 2, 3};
    if (nc_data_batch(d, NC_DATA_TRAIN, idx, N, images, raw, labels, NULL, 0, &err) ||
        nc_data_batch(d8, NC_DATA_TRAIN, idx, N, native, NULL, labels8, NULL, 0, &err))
        fail_msg("%s", err.msg);
    for (int i = 0; i < N; i++) {
        assert_int_equal(labels[i], labels8[i]);
        nc_image_resize2x(native + i * NATIVE * NATIVE, NATIVE, NATIVE, 1, up);
        for (int k = 0; k < S * S; k++)
            assert_float_equal(raw[i * S * S + k], up[k], 1e-6);
    }

    nc_net_cfg cfg;
    nc_net_cfg_defaults(&cfg);
    cfg.max_batch = N;
    nc_genotype g = nc_chroms_parse(resize_chr);
    nc_data_shape ds = {NATIVE, 1, 3};
    nc_net *net = NULL;
    if (nc_net_build(reg, &g, "resize.chr", &ds, &cfg, &net, &err))
        fail_msg("%s", err.msg);
    nc_net_loss l0, l1;
    raw[S * S - 1] = 0.0f;   /* image 0, pixel (15, 15) */
    if (nc_net_loss_step(net, N, images, raw, labels, 0, &l0, &err))
        fail_msg("%s", err.msg);
    raw[S * S - 1] = 1.0f;
    if (nc_net_loss_step(net, N, images, raw, labels, 0, &l1, &err))
        fail_msg("%s", err.msg);
    assert_true(l0.margin == l1.margin);
    double diff = l1.recon - l0.recon;
    /* diff = w (1 - 2 p) / (N S S) for the decoder's sigmoid output p */
    double pix = 0.5 * (1.0 - diff * N * S * S / cfg.recon_weight);
    printf("far-corner pixel: recon loss %.6g -> %.6g, decoder output %.4f\n", l0.recon, l1.recon,
           pix);
    assert_true(diff != 0.0);
    assert_true(pix > 0.0 && pix < 1.0);
    nc_net_free(net);
    nc_chroms_close_data(d8, p8);
    nc_chroms_close_data(d, p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_written_deep_genotypes),
        cmocka_unit_test(test_sampled_genotypes),
        cmocka_unit_test(test_resize_trains),
        cmocka_unit_test(test_resize_reconstruction_target),
    };
    return cmocka_run_group_tests(tests, nc_chroms_setup, nc_chroms_teardown);
}
