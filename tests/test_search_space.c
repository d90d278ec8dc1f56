/* test_search_space.c - the search space: settings and their messages,
 * the seeded generator (always valid, the release's ranges, repeatable),
 * and the genetic operators (always valid, cut rules, deletion). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nascaps/session.h"
#include "nc_test.h"

#include <nascaps/pipeline.h>
#include <nascaps/search.h>

static const nc_data_shape mnist = {28, 1, 10}, cifar = {32, 3, 10};

/* The space of `search_space` overrides ("conv_layers=[1,2]", ...). */
static int space_of(const char *const *sets, size_t n, const nc_data_shape *d,
                    nc_search_space *sp, nc_error *err)
{
    char **full = calloc(n ? n : 1, sizeof *full);
    assert_non_null(full);
    for (size_t i = 0; i < n; i++) {
        full[i] = malloc(strlen(sets[i]) + 16);
        assert_non_null(full[i]);
        sprintf(full[i], "search_space.%s", sets[i]);
    }
    nc_pipeline *p = NULL;
    int rc = nc_pipeline_load(NULL, (const char *const *)full, n, &p, err);
    if (rc == NC_OK)
        rc = nc_space_from_section(nc_pipeline_section(p, "search_space"), d,
                                   sp, err);
    nc_pipeline_free(p);
    for (size_t i = 0; i < n; i++)
        free(full[i]);
    free(full);
    return rc;
}

static void test_defaults(void **state)
{
    (void)state;
    nc_search_space a, b;
    nc_error err;
    nc_space_defaults(&a, &mnist);
    assert_int_equal(space_of(NULL, 0, &mnist, &b, &err), NC_OK);
    assert_memory_equal(&a, &b, sizeof a);
    assert_true(a.sabour && a.deepcaps);
    assert_int_equal(a.n_resize, 2);
    assert_int_equal(a.conv_layers.min, 3);
    assert_int_equal(a.conv_layers.max, 6);
    assert_int_equal(a.first_kernel, 9);
    assert_int_equal(a.n_kernels, 3);
    assert_int_equal(a.kernels[2], 9);
    assert_int_equal(a.n_strides, 2);
    assert_int_equal(a.channels_log2.max, 6);
    assert_int_equal(a.caps_layers.min, 2);
    assert_int_equal(a.caps_growth.max, 20);
    assert_int_equal(a.max_caps, 64);
    assert_int_equal(a.cells.max, 8);
    assert_int_equal(a.cell_channels * a.cell_caps_first, 128);
    assert_int_equal(a.cell_caps, 8);
    assert_int_equal(a.flat_caps, 16);
    assert_int_equal(a.data.size, 28);
}

static void test_settings_read(void **state)
{
    (void)state;
    static const char *const sets[] = {
        "sabour=false", "resize=[2]", "conv_layers=[1,2]", "kernels=[3]",
        "strides=[1,2,3]", "caps_layers=[1,1]", "cells=[2,3]",
        "cell_channels=8", "cell_caps_first=2", "flat_caps=4",
        "first_kernel=5",
    };
    nc_search_space sp;
    nc_error err;
    assert_int_equal(space_of(sets, 11, &cifar, &sp, &err), NC_OK);
    assert_false(sp.sabour);
    assert_true(sp.deepcaps);
    assert_int_equal(sp.n_resize, 1);
    assert_int_equal(sp.resize[0], 2);
    assert_int_equal(sp.conv_layers.max, 2);
    assert_int_equal(sp.n_kernels, 1);
    assert_int_equal(sp.n_strides, 3);
    assert_int_equal(sp.strides[2], 3);
    assert_int_equal(sp.caps_layers.min, 1);
    assert_int_equal(sp.cells.max, 3);
    assert_int_equal(sp.cell_channels, 8);
    assert_int_equal(sp.first_kernel, 5);
    assert_int_equal(sp.data.channels, 3);
}

static void expect_refusal(const char *set, const char *msg)
{
    nc_search_space sp;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(space_of(&set, 1, &mnist, &sp, &err), NC_ERR_INPUT);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("for %s:\n got  %s\n want %s", set, err.msg, msg);
}

static void test_settings_messages(void **state)
{
    (void)state;
    expect_refusal("conv_layers=[7,3]",
                   "--set search_space.conv_layers: setting "
                   "'search_space.conv_layers': expected [min, max] with 1 <= "
                   "min <= max <= 16, got [7, 3]");
    expect_refusal("conv_layers=[0,3]",
                   "--set search_space.conv_layers: setting "
                   "'search_space.conv_layers': expected [min, max] with 1 <= "
                   "min <= max <= 16, got [0, 3]");
    expect_refusal("caps_layers=[2]",
                   "--set search_space.caps_layers: setting "
                   "'search_space.caps_layers': expected [min, max] with 1 <= "
                   "min <= max <= 16, got [2]");
    expect_refusal("cells=[1,4]",
                   "--set search_space.cells: setting 'search_space.cells': "
                   "expected [min, max] with 2 <= min <= max <= 16, got [1, 4]");
    expect_refusal("channels_log2=\"x\"",
                   "--set search_space.channels_log2: setting "
                   "'search_space.channels_log2': expected [min, max] with 0 "
                   "<= min <= max <= 10, got \"x\"");
    expect_refusal("kernels=[3,3]",
                   "--set search_space.kernels: setting 'search_space.kernels': "
                   "expected a list of 1 to 16 distinct integers in [1, 64], got "
                   "[3, 3]");
    expect_refusal("resize=[3]",
                   "--set search_space.resize: setting 'search_space.resize': "
                   "expected a list of 1 to 2 distinct integers in [1, 2], got [3]");
    expect_refusal("strides=[]",
                   "--set search_space.strides: setting 'search_space.strides': "
                   "expected a list of 1 to 16 distinct integers in [1, 8], got []");
    expect_refusal("max_caps=0",
                   "--set search_space.max_caps: setting "
                   "'search_space.max_caps': expected an integer in [1, 1024], "
                   "got 0");
    expect_refusal("cell_caps_first=256",
                   "--set search_space.cell_caps_first: setting "
                   "'search_space.cell_caps_first': expected cell_channels x "
                   "cell_caps_first <= 4096 (the channels of the conv before "
                   "the first cell), got 32 x 256");

    static const char *const off[] = {"sabour=false", "deepcaps=false"};
    nc_search_space sp;
    nc_error err;
    assert_int_equal(space_of(off, 2, &mnist, &sp, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg,
                        "--set search_space.deepcaps: setting "
                        "'search_space.deepcaps': expected true for at least "
                        "one of search_space.sabour and search_space.deepcaps: "
                        "both families are off");
}

/* The core settings check reads search_space too, and knows its names. */
static void test_core_settings(void **state)
{
    (void)state;
    nc_pipeline *p = NULL;
    nc_settings s;
    nc_error err;
    const char *bad[] = {"search_space.conv_layers=[3,20]"};
    assert_int_equal(nc_pipeline_load(NULL, bad, 1, &p, &err), NC_OK);
    assert_int_equal(nc_pipeline_settings(p, &s, &err), NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "'search_space.conv_layers': expected [min, "
                                    "max] with 1 <= min <= max <= 16, got [3, 20]"));
    nc_pipeline_free(p);
    const char *typo[] = {"search_space.conv_layer=[3,4]"};
    assert_int_equal(nc_pipeline_load(NULL, typo, 1, &p, &err), NC_OK);
    assert_int_equal(nc_pipeline_settings(p, &s, &err), NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "unknown setting 'search_space.conv_layer' "
                                    "(did you mean 'search_space.conv_layers'?)"));
    nc_pipeline_free(p);
    const char *good[] = {"search_space.conv_layers=[1,2]",
                          "search_space.deepcaps=false"};
    assert_int_equal(nc_pipeline_load(NULL, good, 2, &p, &err), NC_OK);
    assert_int_equal(nc_pipeline_settings(p, &s, &err), NC_OK);
    nc_settings_free(&s);
    nc_pipeline_free(p);
}

/* ---- the generator ------------------------------------------------------- */

static int in_range(int v, nc_range r)
{
    return v >= r.min && v <= r.max;
}

static int is_pow2_in(int v, nc_range r)
{
    for (int e = r.min; e <= r.max; e++)
        if (v == 1 << e)
            return 1;
    return 0;
}

/* A sampled genotype is valid and is one the generator's ranges allow. */
static void check_sample(const nc_search_space *sp, const nc_genotype *g)
{
    nc_error err;
    if (nc_genotype_validate(g, "sample", &sp->data, &err) != NC_OK) {
        char buf[NC_GENOTYPE_STRING_MAX];
        nc_genotype_to_string(g, buf, sizeof buf);
        fail_msg("%s: %s", buf, err.msg);
    }
    assert_true(nc_space_admits(sp, g));
    int last = g->n_layers - 1, nconv = 0;
    while (g->layers[nconv].type == 0)
        nconv++;
    assert_true(in_range(nconv, sp->conv_layers));
    assert_int_equal(g->layers[0].k, sp->first_kernel);
    assert_int_equal(g->layers[0].stride, 1);
    assert_int_equal(g->layers[last].k, g->layers[last].insize);
    for (int i = 1; i < last; i++) {
        int kin = 0, sin = 0;
        for (int j = 0; j < sp->n_kernels; j++)
            kin |= g->layers[i].k == sp->kernels[j];
        for (int j = 0; j < sp->n_strides; j++)
            sin |= g->layers[i].stride == sp->strides[j];
        assert_true(sin);
        if (g->layers[i].type != 2)
            assert_true(kin);
    }
    if (g->layers[last].type == 1) {
        assert_true(in_range(last + 1 - nconv, sp->caps_layers));
        assert_true(is_pow2_in(g->layers[last].outcaps, sp->class_dim_log2));
        for (int i = nconv; i < last; i++)
            assert_true(g->layers[i].outcaps <= sp->max_caps);
        for (int i = 0; i < nconv; i++)
            assert_true(is_pow2_in(g->layers[i].outch, sp->channels_log2));
        assert_int_equal(g->skip, -1);
    } else {
        assert_true(in_range(last + 1 - nconv, sp->cells));
        assert_int_equal(g->layers[nconv - 1].outch,
                         sp->cell_channels * sp->cell_caps_first);
        assert_int_equal(g->layers[nconv].inch, sp->cell_channels);
        assert_int_equal(g->layers[nconv].incaps, sp->cell_caps_first);
        assert_int_equal(g->layers[nconv].outcaps, sp->cell_caps_first);
        for (int i = nconv; i < last; i++)
            assert_int_equal(g->layers[i].k, sp->cell_kernel);
        assert_int_equal(g->layers[last].outcaps, sp->flat_caps);
        /* Maps stay at least 2 x 2 when the strides allow it. */
        assert_true(g->layers[last].insize >= 2);
    }
}

static void sample_many(const nc_search_space *sp, int n, uint64_t seed,
                        int *families, int *resizes, int *skips)
{
    nc_rng rng;
    nc_rng_seed(&rng, seed);
    nc_error err;
    for (int i = 0; i < n; i++) {
        nc_genotype g;
        assert_int_equal(nc_space_sample(sp, &rng, &g, &err), NC_OK);
        check_sample(sp, &g);
        families[g.layers[g.n_layers - 1].type - 1]++;
        resizes[g.resize - 1]++;
        *skips += g.skip != -1;
    }
}

static void test_sampler_valid(void **state)
{
    (void)state;
    nc_search_space sp;
    nc_space_defaults(&sp, &mnist);
    int fam[2] = {0, 0}, rs[2] = {0, 0}, skips = 0;
    sample_many(&sp, 10000, 1, fam, rs, &skips);
    assert_in_range(fam[0], 4500, 5500);
    assert_in_range(rs[0], 4500, 5500);
    assert_true(skips > 100);

    nc_space_defaults(&sp, &cifar);
    sample_many(&sp, 2000, 2, fam, rs, &skips);

    /* Small networks, one family, resize 2 only. */
    static const char *const small[] = {
        "deepcaps=false", "resize=[2]", "conv_layers=[1,2]", "caps_layers=[1,2]",
        "channels_log2=[1,3]", "class_dim_log2=[1,2]", "kernels=[3,5]",
    };
    nc_error err;
    assert_int_equal(space_of(small, 7, &cifar, &sp, &err), NC_OK);
    memset(fam, 0, sizeof fam);
    sample_many(&sp, 2000, 3, fam, rs, &skips);
    assert_int_equal(fam[1], 0);

    static const char *const deep[] = {
        "sabour=false", "conv_layers=[1,1]", "cells=[2,3]", "strides=[2,4]",
        "cell_caps_first=8",
    };
    assert_int_equal(space_of(deep, 5, &mnist, &sp, &err), NC_OK);
    memset(fam, 0, sizeof fam);
    sample_many(&sp, 2000, 4, fam, rs, &skips);
    assert_int_equal(fam[0], 0);

    /* Without a dataset nothing can be drawn. */
    nc_space_defaults(&sp, NULL);
    nc_rng rng;
    nc_rng_seed(&rng, 1);
    nc_genotype g;
    assert_int_equal(nc_space_sample(&sp, &rng, &g, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "search space: the dataset's shape is not "
                                 "known (size 0, channels 0, classes 0)");
}

static void test_sampler_repeatable(void **state)
{
    (void)state;
    nc_search_space sp;
    nc_space_defaults(&sp, &mnist);
    nc_rng a, b, c;
    nc_rng_seed(&a, 42);
    nc_rng_seed(&b, 42);
    nc_rng_seed(&c, 43);
    nc_error err;
    int differ = 0;
    for (int i = 0; i < 200; i++) {
        nc_genotype x, y, z;
        assert_int_equal(nc_space_sample(&sp, &a, &x, &err), NC_OK);
        assert_int_equal(nc_space_sample(&sp, &b, &y, &err), NC_OK);
        assert_int_equal(nc_space_sample(&sp, &c, &z, &err), NC_OK);
        /* Whole structs: unused genes are zero, so files and hashes agree. */
        assert_memory_equal(&x, &y, sizeof x);
        differ += !nc_genotype_equal(&x, &z);
    }
    assert_true(differ > 150);
}

/* ---- operators ----------------------------------------------------------- */

static int n_conv(const nc_genotype *g)
{
    int n = 0;
    while (n < g->n_layers && g->layers[n].type == 0)
        n++;
    return n;
}

/* The cut rules hold for a crossover child. */
static void check_child(const nc_search_space *sp, const nc_genotype *g)
{
    nc_error err;
    if (nc_genotype_validate(g, "child", &sp->data, &err) != NC_OK)
        fail_msg("%s", err.msg);
    assert_true(nc_space_admits(sp, g));
    int nc = n_conv(g);
    assert_true(nc >= 1);
    assert_true(g->n_layers - nc >= 1);
    for (int i = nc; i < g->n_layers; i++)
        assert_int_not_equal(g->layers[i].type, 0);
    assert_int_equal(g->layers[g->n_layers - 1].k,
                     g->layers[g->n_layers - 1].insize);
}

typedef struct op_stats {
    int crossed, not_crossed, mutated, shorter, single_caps, skip_changed;
} op_stats;

static void run_operators(const nc_search_space *sp, uint64_t seed, int trials,
                          op_stats *st)
{
    enum { POP = 24 };
    nc_rng rng;
    nc_rng_seed(&rng, seed);
    nc_error err;
    nc_genotype pop[POP];
    for (int i = 0; i < POP; i++)
        assert_int_equal(nc_space_sample(sp, &rng, &pop[i], &err), NC_OK);
    for (int t = 0; t < trials; t++) {
        int ia = (int)nc_rng_range(&rng, 0, POP - 1);
        int ib = (int)nc_rng_range(&rng, 0, POP - 1);
        nc_genotype ca, cb;
        int ok;
        assert_int_equal(nc_space_crossover(sp, &rng, &pop[ia], &pop[ib], &ca,
                                            &cb, &ok, &err), NC_OK);
        if (ok) {
            st->crossed++;
            check_child(sp, &ca);
            check_child(sp, &cb);
            /* At least two capsule layers in each crossover child. */
            assert_true(ca.n_layers - n_conv(&ca) >= 2);
            assert_true(cb.n_layers - n_conv(&cb) >= 2);
            assert_int_equal(ca.resize, pop[ia].resize);
            assert_int_equal(cb.resize, pop[ib].resize);
        } else {
            st->not_crossed++;
            assert_true(nc_genotype_equal(&ca, &pop[ia]));
            assert_true(nc_genotype_equal(&cb, &pop[ib]));
        }
        nc_genotype before = ca;
        assert_int_equal(nc_space_mutate(sp, &rng, 0.3, &ca, &err), NC_OK);
        check_child(sp, &ca);
        st->mutated += !nc_genotype_equal(&before, &ca);
        st->shorter += ca.n_layers < before.n_layers;
        st->skip_changed += ca.skip != before.skip;
        st->single_caps += ca.layers[ca.n_layers - 1].type == 1 &&
                           ca.n_layers - n_conv(&ca) == 1;
        /* Children replace members so the population drifts far from the
         * sampled shapes (deletions pile up, views change). */
        pop[ia] = ca;
        pop[ib] = cb;
    }
}

static void test_operators_valid(void **state)
{
    (void)state;
    nc_search_space sp;
    nc_error err;
    op_stats st = {0};
    nc_space_defaults(&sp, &mnist);
    run_operators(&sp, 5, 3000, &st);
    assert_true(st.crossed > 1000);
    assert_true(st.not_crossed > 100);   /* families differ half the time */
    assert_true(st.mutated > 1000);
    assert_true(st.shorter > 100);
    assert_true(st.single_caps > 0);     /* as the release's fronts have */
    assert_true(st.skip_changed > 10);

    nc_space_defaults(&sp, &cifar);
    run_operators(&sp, 6, 1500, &st);

    static const char *const r2[] = {"resize=[2]"};
    assert_int_equal(space_of(r2, 1, &cifar, &sp, &err), NC_OK);
    run_operators(&sp, 7, 1500, &st);

    static const char *const small[] = {
        "conv_layers=[1,2]", "caps_layers=[1,2]", "cells=[2,3]",
        "channels_log2=[0,2]", "kernels=[3]", "strides=[1]",
        "class_dim_log2=[0,1]", "caps_growth=[0,2]", "max_caps=4",
    };
    assert_int_equal(space_of(small, 9, &mnist, &sp, &err), NC_OK);
    memset(&st, 0, sizeof st);
    run_operators(&sp, 8, 3000, &st);
    assert_true(st.crossed > 100);

    static const char *const deep[] = {"sabour=false", "resize=[1]"};
    assert_int_equal(space_of(deep, 2, &cifar, &sp, &err), NC_OK);
    memset(&st, 0, sizeof st);
    run_operators(&sp, 9, 1500, &st);
    assert_true(st.crossed > 500);
}

static nc_genotype parse(const char *text)
{
    nc_genotype g;
    nc_error err;
    memset(&g, 0, sizeof g);
    assert_int_equal(nc_genotype_parse(text, "test", &g, &err), NC_OK);
    return g;
}

/* Hand-checked crossovers of two small Sabour-type parents. */
static void test_crossover_cuts(void **state)
{
    (void)state;
    nc_search_space sp;
    nc_space_defaults(&sp, &mnist);
    /* a: conv conv caps class; b: conv caps caps class. */
    nc_genotype a = parse("[[0,28,1,1,9,1,28,16,1],[0,28,16,1,3,2,14,8,1],"
                          "[1,14,8,1,3,1,14,16,5],[1,14,16,5,14,1,14,10,8],"
                          "[-1],[1]]");
    nc_genotype b = parse("[[0,28,1,1,9,1,28,32,1],[1,28,32,1,5,2,14,4,9],"
                          "[1,14,4,9,5,2,7,8,13],[1,7,8,13,7,1,7,10,16],"
                          "[-1],[1]]");
    nc_error err;
    nc_rng rng;
    nc_rng_seed(&rng, 1);
    int seen[5][5] = {{0}};
    for (int t = 0; t < 400; t++) {
        nc_genotype ca, cb;
        int ok;
        assert_int_equal(nc_space_crossover(&sp, &rng, &a, &b, &ca, &cb, &ok,
                                            &err), NC_OK);
        assert_true(ok);
        check_child(&sp, &ca);
        check_child(&sp, &cb);
        /* Recover the cut: the head of ca is a's first i genes. */
        int i = 0;
        while (i < ca.n_layers && i < a.n_layers &&
               ca.layers[i].type == a.layers[i].type &&
               ca.layers[i].outch == a.layers[i].outch &&
               ca.layers[i].k == a.layers[i].k &&
               ca.layers[i].outcaps == a.layers[i].outcaps)
            i++;
        int j = b.n_layers - (ca.n_layers - i);
        assert_in_range(i, 1, 3);
        assert_in_range(j, 1, 3);
        seen[i][j]++;
    }
    /* Legal cuts (i in a, j in b), worked by hand: a child whose head holds
     * a capsule layer takes a tail without convs, and each child keeps two
     * capsule layers. (1,2), (1,3): b's head has capsules but a's tail from
     * gene 2 starts with a conv; (2,3): a0 a1 + b3 has one capsule layer;
     * (3,1): b0 + a3 has one. The other five are legal. */
    assert_true(seen[1][1] > 0);
    assert_int_equal(seen[1][2] + seen[1][3], 0);
    assert_true(seen[2][1] > 0 && seen[2][2] > 0);
    assert_int_equal(seen[2][3], 0);
    assert_int_equal(seen[3][1], 0);
    assert_true(seen[3][2] > 0 && seen[3][3] > 0);

    /* Different families never cross. */
    nc_genotype d = parse("[[0,28,1,1,9,1,28,128,1],[2,28,32,4,3,2,14,32,4],"
                          "[2,14,32,4,3,1,14,32,8],[2,14,32,8,14,1,14,10,16],"
                          "[-1],[1]]");
    nc_genotype ca, cb;
    int ok = 1;
    assert_int_equal(nc_space_crossover(&sp, &rng, &a, &d, &ca, &cb, &ok, &err),
                     NC_OK);
    assert_false(ok);
    assert_true(nc_genotype_equal(&ca, &a));
    assert_true(nc_genotype_equal(&cb, &d));

    /* A parent the space does not admit is refused. */
    nc_genotype bad = a;
    bad.layers[1].insize = 27;
    assert_int_equal(nc_space_crossover(&sp, &rng, &bad, &b, &ca, &cb, &ok, &err),
                     NC_ERR_INPUT);
    assert_string_equal(err.msg, "crossover parent a: gene 2 (conv): field "
                                 "'insize' is 27 but gene 1 makes outsize 28");
    nc_search_space only_deep = sp;
    only_deep.sabour = 0;
    assert_int_equal(nc_space_mutate(&only_deep, &rng, 0.1, &a, &err),
                     NC_ERR_INPUT);
    assert_string_equal(err.msg, "mutated genotype: resize 1 or its family "
                                 "(last gene type 1) is not in the search space");
}

static void test_mutation_rules(void **state)
{
    (void)state;
    nc_search_space sp;
    nc_space_defaults(&sp, &mnist);
    nc_genotype d = parse("[[0,28,1,1,9,1,28,128,1],[2,28,32,4,3,2,14,32,8],"
                          "[2,14,32,8,3,1,14,32,8],[2,14,32,8,3,1,14,32,8],"
                          "[2,14,32,8,14,1,14,10,16],[2],[1]]");
    nc_error err;
    nc_rng rng;
    nc_rng_seed(&rng, 9);
    nc_genotype g = d;
    assert_int_equal(nc_space_mutate(&sp, &rng, 0, &g, &err), NC_OK);
    assert_memory_equal(&g, &d, sizeof g);
    assert_int_equal(nc_space_mutate(&sp, &rng, 1.5, &g, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg,
                        "mutation rate 1.5, expected a number in [0, 1]");
    /* Rate 1 mutates every gene; whatever happens, the result is valid, a
     * FlatCaps network keeps a cell and the first conv stays first. */
    int min_cells = 99;
    for (int t = 0; t < 500; t++) {
        g = d;
        assert_int_equal(nc_space_mutate(&sp, &rng, 1, &g, &err), NC_OK);
        check_child(&sp, &g);
        int cells = g.n_layers - n_conv(&g) - 1;
        assert_true(cells >= 1);
        if (cells < min_cells)
            min_cells = cells;
        assert_int_equal(g.layers[0].type, 0);
    }
    assert_int_equal(min_cells, 1);
}

/* The paper's mutation changes at most one main parameter (kernel,
 * stride, output capsules of one gene, or the skip) and deletes nothing;
 * over many draws each kind of change happens. */
static void test_paper_mutation(void **state)
{
    (void)state;
    nc_search_space sp;
    nc_space_defaults(&sp, &mnist);
    const char *parents[] = {
        "[[0,28,1,1,9,1,28,128,1],[2,28,32,4,3,2,14,32,8],[2,14,32,8,3,1,14,32,8],"
        "[2,14,32,8,3,1,14,32,8],[2,14,32,8,14,1,14,10,16],[2],[1]]",
        "[[0,28,1,1,9,1,28,16,1],[0,28,16,1,5,2,14,16,1],[1,14,16,1,3,2,7,16,9],"
        "[1,7,16,9,7,1,7,10,8],[-1],[1]]"};
    nc_error err;
    nc_rng rng;
    nc_rng_seed(&rng, 77);
    int changed[4] = {0, 0, 0, 0};   /* kernel, stride, outcaps, skip */
    int none = 0;
    for (int p = 0; p < 2; p++) {
        nc_genotype d = parse(parents[p]), g = d;
        assert_int_equal(nc_space_mutate_paper(&sp, &rng, 0, &g, &err), NC_OK);
        assert_memory_equal(&g, &d, sizeof g);
        assert_int_equal(nc_space_mutate_paper(&sp, &rng, -0.5, &g, &err), NC_ERR_INPUT);
        for (int t = 0; t < 400; t++) {
            g = d;
            assert_int_equal(nc_space_mutate_paper(&sp, &rng, 1, &g, &err), NC_OK);
            check_child(&sp, &g);
            assert_int_equal(g.n_layers, d.n_layers);
            int n = 0;
            for (int i = 0; i < g.n_layers; i++) {
                int last = i == g.n_layers - 1;   /* its k is pinned by repair */
                if (!last && g.layers[i].k != d.layers[i].k)
                    n++, changed[0]++;
                if (g.layers[i].stride != d.layers[i].stride)
                    n++, changed[1]++;
                if (g.layers[i].outcaps != d.layers[i].outcaps)
                    n++, changed[2]++;
            }
            /* a changed gene may make the skip invalid: repair drops it */
            if (g.skip != d.skip && !(n == 1 && g.skip == -1))
                n++, changed[3]++;
            if (n > 1) {
                char a[1024], b[1024];
                nc_genotype_to_string(&d, a, sizeof a);
                nc_genotype_to_string(&g, b, sizeof b);
                fail_msg("%d changes:\n%s\n%s", n, a, b);
            }
            none += n == 0;
        }
    }
    for (int k = 0; k < 4; k++)
        assert_true(changed[k] > 0);
    assert_true(none < 400);   /* most draws change something */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_settings_read),
        cmocka_unit_test(test_settings_messages),
        cmocka_unit_test(test_core_settings),
        cmocka_unit_test(test_sampler_valid),
        cmocka_unit_test(test_sampler_repeatable),
        cmocka_unit_test(test_operators_valid),
        cmocka_unit_test(test_crossover_cuts),
        cmocka_unit_test(test_mutation_rules),
        cmocka_unit_test(test_paper_mutation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
