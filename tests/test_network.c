/* test_network.c - the layer plugins through nc_network_analyze and
 * nc_network_hw_ops: hand-computed parameters and MACs (docs/GENOTYPE.md
 * formulas) for CapsNet and DeepCaps, and the accelerator operation lists
 * of the two worked examples of the reference model (MODEL.md). */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_test.h"
#include "nascaps/network.h"

#define CAPSNET "[[0,28,1,1,9,1,28,256,1],[1,28,256,1,9,2,14,32,8],[1,14,32,8,9,2,7,10,16],[-1],[1]]"
#define DEEPCAPS                                                                      \
    "[[0,64,3,1,3,1,64,128,1],[2,64,32,4,3,2,32,32,4],[2,32,32,4,3,2,16,32,8],"      \
    "[2,16,32,8,3,2,8,32,8],[2,8,32,8,3,2,4,32,8],[2,4,32,8,4,1,1,10,16],[4],[2]]"

static nc_registry *reg;

static int setup(void **state)
{
    (void)state;
    reg = nc_registry_new();
    return reg ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nc_registry_free(reg);
    return 0;
}

static nc_genotype parse_ok(const char *text)
{
    nc_genotype g;
    nc_error err;
    nc_error_clear(&err);
    if (nc_genotype_parse(text, "x.chr", &g, &err))
        fail_msg("%s", err.msg);
    return g;
}

static nc_analysis analyze_ok(const char *text, int routings)
{
    nc_genotype g = parse_ok(text);
    nc_analysis a;
    nc_error err;
    nc_error_clear(&err);
    if (nc_network_analyze(reg, &g, "x.chr", routings, &a, &err))
        fail_msg("%s", err.msg);
    return a;
}

static void assert_shape(nc_shape s, int h, int w, int ch, int dim)
{
    assert_int_equal(s.h, h);
    assert_int_equal(s.w, w);
    assert_int_equal(s.ch, ch);
    assert_int_equal(s.dim, dim);
}

static void test_capsnet_counts(void **state)
{
    (void)state;
    nc_analysis a = analyze_ok(CAPSNET, 0);   /* 0: the default, 3 routings */
    assert_int_equal(a.n_layers, 3);
    /* conv1: 9x9 kernel 1 -> 256 channels, no bias, batch norm gamma+beta */
    assert_int_equal(a.rows[0].role, NC_ROLE_CONV);
    assert_string_equal(a.rows[0].plugin, "conv");
    assert_int_equal(a.rows[0].info.params, 9 * 9 * 1 * 256 + 2 * 256);
    assert_int_equal(a.rows[0].info.macs, 28 * 28 * (9 * 9 * 1 * 256));
    assert_shape(a.rows[0].info.out, 28, 28, 256, 1);
    /* primary capsules: 9x9 conv 256 -> 32*8 channels + bias, stride 2 */
    assert_string_equal(a.rows[1].plugin, "caps");
    assert_int_equal(a.rows[1].info.params, 9 * 9 * 256 * 256 + 256);
    assert_int_equal(a.rows[1].info.macs, 14LL * 14 * (9 * 9 * 256 * 256));
    assert_shape(a.rows[1].info.in, 28, 28, 256, 1);
    assert_shape(a.rows[1].info.out, 14, 14, 32, 8);
    /* class capsules: 14*14*32 = 6272 capsules of dim 8, 10 classes of dim
     * 16, one 8x16 matrix per (input, class); 3 routings = 3 weighted sums
     * + 2 agreements of 6272*10*16 each */
    assert_int_equal(a.rows[2].role, NC_ROLE_CLASS_CAPS);
    assert_int_equal(a.rows[2].info.params, 6272 * 10 * 8 * 16);
    assert_int_equal(a.rows[2].info.macs, 6272 * 10 * 8 * 16 + 5 * (6272 * 10 * 16));
    assert_shape(a.rows[2].info.in, 1, 1, 6272, 8);
    assert_shape(a.rows[2].info.out, 1, 1, 10, 16);
    assert_int_equal(a.params, 21248 + 5308672 + 8028160);
    assert_int_equal(a.macs, 16257024LL + 1040449536LL + 13045760LL);
    assert_shape(a.input, 28, 28, 1, 1);
    /* decoder: dense 160 -> 7*7*16 (+bias), BN(16), transposed convs 3x3
     * 16->64, 64->32, 32->16, 16->1, each with bias */
    assert_int_equal(a.decoder_params, 160 * 784 + 784 + 32 + (9 * 16 * 64 + 64) +
                                           (9 * 64 * 32 + 32) + (9 * 32 * 16 + 16) + (9 * 16 + 1));
    assert_int_equal(a.decoder_params, nc_decoder_params(10, 16, 28, 1));
}

static void test_routings(void **state)
{
    (void)state;
    nc_analysis one = analyze_ok(CAPSNET, 1), five = analyze_ok(CAPSNET, 5);
    assert_int_equal(one.rows[2].info.macs, 6272 * 10 * 8 * 16 + 1 * (6272 * 10 * 16));
    assert_int_equal(five.rows[2].info.macs, 6272 * 10 * 8 * 16 + 9 * (6272 * 10 * 16));
    assert_int_equal(one.params, five.params);

    nc_genotype g = parse_ok(CAPSNET);
    nc_analysis a;
    nc_error err;
    assert_int_equal(nc_network_analyze(reg, &g, "x.chr", 1001, &a, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "x.chr: 1001 routing iterations, at most 1000");
}

static void test_deepcaps_counts(void **state)
{
    (void)state;
    nc_analysis a = analyze_ok(DEEPCAPS, 3);
    static const nc_layer_role roles[] = {NC_ROLE_CONV,     NC_ROLE_CAPSCELL,
                                          NC_ROLE_CAPSCELL, NC_ROLE_CAPSCELL,
                                          NC_ROLE_LAST_CAPSCELL, NC_ROLE_FLATCAPS};
    /* ConvCaps2D(k=3) weights + bias: 128 -> 128 ch, 128 -> 256, 256 -> 256 */
    const int64_t c128 = 9 * 128 * 128 + 128, c128_256 = 9 * 128 * 256 + 256,
                  c256 = 9 * 256 * 256 + 256;
    /* the last cell's 3-D skip: 3x3x8 kernel -> 32 types x 8 + bias */
    const int64_t conv3d = 9 * 8 * 256 + 256;
    /* FlatCaps: 4*4*32 capsules of the last cell + 8*8*32 of cell 3 (gene 4) */
    const int64_t n_flat = 4 * 4 * 32 + 8 * 8 * 32;
    const int64_t params[] = {9 * 3 * 128 + 2 * 128,   4 * c128,
                              c128_256 + 3 * c256,     4 * c256,
                              3 * c256 + conv3d,       n_flat * 8 * 160 + 160};
    const int64_t macs[] = {
        64LL * 64 * 9 * 3 * 128,
        32LL * 32 * 9 * (128 * 128 + 3 * 128 * 128),
        16LL * 16 * 9 * (128 * 256 + 3 * 256 * 256),
        8LL * 8 * 9 * (4 * 256 * 256),
        /* l1, l2, l3; 3-D votes (32 input types x 9*8 x 256) per position;
         * routing per position: 32 x 32 x 8 x (3 + 2) */
        4LL * 4 * 9 * (3 * 256 * 256) + 4 * 4 * 32 * (9 * 8 * 256) + 4 * 4 * (32 * 32 * 8 * 5),
        n_flat * 8 * 160 + n_flat * 10 * 16 * 5,
    };
    int64_t sum_p = 0, sum_m = 0;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(a.rows[i].role, roles[i]);
        assert_int_equal(a.rows[i].info.params, params[i]);
        assert_int_equal(a.rows[i].info.macs, macs[i]);
        sum_p += params[i];
        sum_m += macs[i];
    }
    assert_int_equal(a.params, sum_p);
    assert_int_equal(a.params, 10085664);
    assert_int_equal(a.macs, sum_m);
    assert_int_equal(a.macs, 1341341696);
    assert_shape(a.rows[1].info.in, 64, 64, 32, 4);
    assert_shape(a.rows[4].info.out, 4, 4, 32, 8);
    assert_shape(a.rows[5].info.in, 1, 1, (int)n_flat, 8);
    assert_shape(a.input, 64, 64, 3, 1);
    /* decoder seed 16x16x16 for a 64x64x3 image */
    assert_int_equal(a.decoder_params, 160 * 4096 + 4096 + 32 + 9280 + 18464 + 4624 +
                                           (9 * 16 * 3 + 3));
    /* without the skip the flattened list is the last cell's 512 capsules */
    nc_genotype g = parse_ok(DEEPCAPS);
    g.skip = -1;
    nc_analysis b;
    nc_error err;
    assert_int_equal(nc_network_analyze(reg, &g, "x.chr", 3, &b, &err), NC_OK);
    assert_int_equal(b.rows[5].info.params, 512 * 8 * 160 + 160);
}

static void test_decoder_rounding(void **state)
{
    (void)state;
    /* S = 30: the seed map is ceil(30/4) = 8 wide (its 32 rows are cropped) */
    assert_int_equal(nc_decoder_params(10, 16, 30, 1), nc_decoder_params(10, 16, 32, 1));
    assert_int_equal(nc_decoder_params(10, 16, 29, 1), nc_decoder_params(10, 16, 32, 1));
    assert_true(nc_decoder_params(10, 16, 28, 1) < nc_decoder_params(10, 16, 29, 1));
    assert_int_equal(nc_decoder_params(0, 16, 28, 1), -1);
}

typedef struct {
    int kind, insize, inch, incaps, k, outsize, outch, outcaps;
    const char *name;
} want_op;

static void check_ops(const char *text, const want_op *want, int n_want)
{
    nc_genotype g = parse_ok(text);
    nc_hw_op *ops = calloc(NC_NETWORK_MAX_HW_OPS, sizeof *ops);
    assert_non_null(ops);
    int n = -1;
    nc_error err;
    nc_error_clear(&err);
    if (nc_network_hw_ops(reg, &g, "x.chr", ops, &n, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(n, n_want);
    for (int i = 0; i < n; i++) {
        const nc_hw_op *o = &ops[i];
        const want_op *w = &want[i];
        char got[200], exp[200];
        snprintf(got, sizeof got, "%s %s %d,%d,%d k=%d %d,%d,%d", o->name,
                 nc_hw_kind_name(o->kind), o->insize, o->inch, o->incaps, o->k, o->outsize,
                 o->outch, o->outcaps);
        snprintf(exp, sizeof exp, "%s %s %d,%d,%d k=%d %d,%d,%d", w->name,
                 nc_hw_kind_name(w->kind), w->insize, w->inch, w->incaps, w->k, w->outsize,
                 w->outch, w->outcaps);
        assert_string_equal(got, exp);
    }
    free(ops);
}

/* MODEL.md, "Worked example: CapsNet" */
static void test_capsnet_hw_ops(void **state)
{
    (void)state;
    const want_op want[] = {
        {NC_HW_CONV, 28, 1, 1, 9, 28, 256, 1, "conv1"},
        {NC_HW_CONV, 28, 256, 1, 9, 14, 32, 8, "caps2"},
        {NC_HW_CLASS, 14, 32, 8, 9, 7, 10, 16, "class3"},
        {NC_HW_SUM, 14, 32, 8, 9, 7, 10, 16, "class3.sum1"},
        {NC_HW_SUM, 14, 32, 8, 9, 7, 10, 16, "class3.sum2"},
        {NC_HW_SUM, 14, 32, 8, 9, 7, 10, 16, "class3.sum3"},
        {NC_HW_SUM, 14, 32, 8, 9, 7, 10, 16, "class3.sum4"},
        {NC_HW_SUM, 14, 32, 8, 9, 7, 10, 16, "class3.sum5"},
    };
    check_ops(CAPSNET, want, (int)(sizeof want / sizeof want[0]));
}

/* MODEL.md, "Worked example: DeepCaps" */
static void test_deepcaps_hw_ops(void **state)
{
    (void)state;
    const want_op want[] = {
        {NC_HW_CONV, 64, 3, 1, 3, 64, 128, 1, "conv1"},
        {NC_HW_CONV, 64, 32, 4, 3, 32, 32, 4, "cell2.op1"},
        {NC_HW_CONV, 32, 32, 4, 3, 32, 32, 4, "cell2.op2"},
        {NC_HW_CONV, 32, 32, 4, 3, 32, 32, 4, "cell2.op3"},
        {NC_HW_CONV, 32, 32, 4, 3, 32, 32, 4, "cell2.op4"},
        {NC_HW_CONV, 32, 32, 4, 3, 16, 32, 8, "cell3.op1"},
        {NC_HW_CONV, 16, 32, 8, 3, 16, 32, 8, "cell3.op2"},
        {NC_HW_CONV, 16, 32, 8, 3, 16, 32, 8, "cell3.op3"},
        {NC_HW_CONV, 16, 32, 8, 3, 16, 32, 8, "cell3.op4"},
        {NC_HW_CONV, 16, 32, 8, 3, 8, 32, 8, "cell4.op1"},
        {NC_HW_CONV, 8, 32, 8, 3, 8, 32, 8, "cell4.op2"},
        {NC_HW_CONV, 8, 32, 8, 3, 8, 32, 8, "cell4.op3"},
        {NC_HW_CONV, 8, 32, 8, 3, 8, 32, 8, "cell4.op4"},
        {NC_HW_CONV, 8, 32, 8, 3, 4, 32, 8, "cell5.op1"},
        {NC_HW_CONV, 4, 32, 8, 3, 4, 32, 8, "cell5.op2"},
        {NC_HW_CONV, 4, 32, 8, 3, 4, 32, 8, "cell5.op3"},
        {NC_HW_CONV3D, 4, 32, 8, 3, 4, 32, 8, "cell5.conv3d"},
        {NC_HW_SUM, 4, 32, 8, 4, 1, 10, 16, "flat6.sum1"},
        {NC_HW_UPDATE, 4, 32, 8, 4, 1, 10, 16, "flat6.update1"},
        {NC_HW_SUM, 4, 32, 8, 4, 1, 10, 16, "flat6.sum2"},
        {NC_HW_UPDATE, 4, 32, 8, 4, 1, 10, 16, "flat6.update2"},
        {NC_HW_SUM, 4, 32, 8, 4, 1, 10, 16, "flat6.sum3"},
        {NC_HW_UPDATE, 4, 32, 8, 4, 1, 10, 16, "flat6.update3"},
        {NC_HW_CLASS, 4, 32, 8, 4, 1, 10, 16, "flat6.class"},
    };
    check_ops(DEEPCAPS, want, (int)(sizeof want / sizeof want[0]));
}

/* MODEL.md's weight counts of the ops must add up to the worked examples'
 * totals (8778304 and 9268992 weights): the op list is the whole story. */
static int64_t model_weights(const nc_hw_op *o)
{
    int64_t k2 = (int64_t)o->k * o->k, out = (int64_t)o->outch * o->outcaps * o->incaps;
    switch (o->kind) {
    case NC_HW_CONV:
    case NC_HW_CLASS: return (o->inch * k2 + 1) * out;
    case NC_HW_CONV3D: return (o->inch * k2 * o->k + 1) * out;
    default: return o->inch * k2 * o->outch;
    }
}

static void test_hw_op_weights(void **state)
{
    (void)state;
    const char *texts[] = {CAPSNET, DEEPCAPS};
    const int64_t totals[] = {8778304, 9268992};
    nc_hw_op *ops = calloc(NC_NETWORK_MAX_HW_OPS, sizeof *ops);
    assert_non_null(ops);
    for (int t = 0; t < 2; t++) {
        nc_genotype g = parse_ok(texts[t]);
        int n;
        nc_error err;
        assert_int_equal(nc_network_hw_ops(reg, &g, "x.chr", ops, &n, &err), NC_OK);
        int64_t sum = 0;
        for (int i = 0; i < n; i++) {
            sum += model_weights(&ops[i]);
            if (i > 0)
                assert_true(ops[i].layer >= ops[i - 1].layer);
        }
        assert_int_equal(sum, totals[t]);
        assert_int_equal(ops[n - 1].layer, g.n_layers - 1);
    }
    free(ops);
}

/* Pinning the last gene's k (repair for offspring) changes the cost-model
 * ops but never the network: params and MACs stay. */
static void test_pin_last_k(void **state)
{
    (void)state;
    nc_genotype g = parse_ok(CAPSNET);
    nc_analysis before, after;
    nc_error err;
    assert_int_equal(nc_network_analyze(reg, &g, "x.chr", 3, &before, &err), NC_OK);
    assert_int_equal(nc_genotype_repair(&g, 1, &err), NC_OK);
    assert_int_equal(g.layers[2].k, 14);
    assert_int_equal(nc_network_analyze(reg, &g, "x.chr", 3, &after, &err), NC_OK);
    assert_int_equal(after.params, before.params);
    assert_int_equal(after.macs, before.macs);
    nc_hw_op ops[NC_NETWORK_MAX_HW_OPS];
    int n;
    assert_int_equal(nc_network_hw_ops(reg, &g, "x.chr", ops, &n, &err), NC_OK);
    assert_string_equal(ops[2].name, "class3");
    assert_int_equal(ops[2].k, 14);
}

static void test_invalid(void **state)
{
    (void)state;
    nc_genotype g = parse_ok(CAPSNET);
    g.layers[2].insize = 13;
    nc_analysis a;
    nc_error err;
    assert_int_equal(nc_network_analyze(reg, &g, "x.chr", 3, &a, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "x.chr: gene 3 (class-caps): field 'insize' is 13 but gene 2 makes outsize 14");
    nc_hw_op ops[NC_NETWORK_MAX_HW_OPS];
    int n = 5;
    assert_int_equal(nc_network_hw_ops(reg, &g, "x.chr", ops, &n, &err), NC_ERR_INPUT);
    assert_int_equal(n, 0);
}

/* Every release chromosome analyses; counts are positive and consistent
 * (skipped without the reference folder). */
static int n_ref_ok;
static int analyze_file(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t len = strlen(path);
    if (flag != FTW_F || len < 4 || strcmp(path + len - 4, ".chr"))
        return 0;
    nc_genotype g;
    nc_analysis a;
    nc_error err;
    nc_error_clear(&err);
    if (nc_genotype_load(path, &g, &err) || nc_network_analyze(reg, &g, path, 3, &a, &err))
        fail_msg("%s", err.msg);
    int64_t p = 0, m = 0, n_ops = 0;
    for (int i = 0; i < a.n_layers; i++) {
        assert_true(a.rows[i].info.params > 0);
        assert_true(a.rows[i].info.macs > 0);
        p += a.rows[i].info.params;
        m += a.rows[i].info.macs;
        n_ops += a.rows[i].info.n_hw_ops;
    }
    assert_int_equal(p, a.params);
    assert_int_equal(m, a.macs);
    assert_true(a.decoder_params > 0);
    nc_hw_op ops[NC_NETWORK_MAX_HW_OPS];
    int n;
    assert_int_equal(nc_network_hw_ops(reg, &g, path, ops, &n, &err), NC_OK);
    assert_int_equal(n, n_ops);
    n_ref_ok++;
    return 0;
}

static void test_reference_chromosomes(void **state)
{
    (void)state;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/chroms", nc_test_reference_dir());
    assert_int_equal(nftw(dir, analyze_file, 16, FTW_PHYS), 0);
    assert_int_equal(n_ref_ok, 66);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capsnet_counts),
        cmocka_unit_test(test_routings),
        cmocka_unit_test(test_deepcaps_counts),
        cmocka_unit_test(test_decoder_rounding),
        cmocka_unit_test(test_capsnet_hw_ops),
        cmocka_unit_test(test_deepcaps_hw_ops),
        cmocka_unit_test(test_hw_op_weights),
        cmocka_unit_test(test_pin_last_k),
        cmocka_unit_test(test_invalid),
    };
    const struct CMUnitTest reference[] = {
        cmocka_unit_test(test_reference_chromosomes),
    };
    return nc_test_main(argc, argv, "test_network", tests, NC_TEST_COUNT(tests), reference,
                        NC_TEST_COUNT(reference), setup, teardown);
}
