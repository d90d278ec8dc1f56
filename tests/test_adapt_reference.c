/* test_adapt_reference.c - every release chromosome (reference/chroms)
 * adapts to 28x28x1, 32x32x3 and 64x64x3 images with 10 classes (and to
 * 100 classes) and then validates against that shape; adapting back to its
 * own dataset restores it; adapting a fitting genotype changes nothing.
 * Skipped when the reference folder is absent. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_test.h"
#include "nascaps/genotype.h"

#define N_CHROMS 66

static glob_t found;

static int setup(void **state)
{
    (void)state;
    char pattern[4200];
    const char *ref = nc_test_reference_dir();
    snprintf(pattern, sizeof pattern, "%s/chroms/*.chr", ref);
    int rc = glob(pattern, 0, NULL, &found);
    snprintf(pattern, sizeof pattern, "%s/chroms/*/*.chr", ref);
    rc |= glob(pattern, rc == 0 ? GLOB_APPEND : 0, NULL, &found);
    return found.gl_pathc == 0;
}

static int teardown(void **state)
{
    (void)state;
    globfree(&found);
    return 0;
}

/* The shape a genotype was made for: its own first and last genes. */
static nc_data_shape own_shape(const nc_genotype *g)
{
    const nc_gene *f = &g->layers[0];
    nc_data_shape d = {f->insize / g->resize, f->inch * f->incaps,
                       g->layers[g->n_layers - 1].outch};
    return d;
}

static void load(const char *path, nc_genotype *g)
{
    nc_error err;
    nc_error_clear(&err);
    if (nc_genotype_load(path, g, &err))
        fail_msg("%s", err.msg);
}

static void test_every_chromosome_adapts(void **state)
{
    (void)state;
    assert_int_equal((int)found.gl_pathc, N_CHROMS);
    const nc_data_shape targets[] = {{28, 1, 10}, {32, 3, 10}, {64, 3, 10}, {32, 3, 100}};
    int changed = 0;
    for (size_t i = 0; i < found.gl_pathc; i++) {
        const char *path = found.gl_pathv[i];
        nc_genotype orig;
        load(path, &orig);
        nc_data_shape own = own_shape(&orig);
        for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
            nc_genotype g = orig;
            nc_genotype_changes ch;
            nc_error err;
            nc_error_clear(&err);
            if (nc_genotype_adapt(&g, &targets[t], path, &ch, &err))
                fail_msg("%s -> %d x %d x %d, %d classes: %s", path, targets[t].size,
                         targets[t].size, targets[t].channels, targets[t].classes, err.msg);
            if (nc_genotype_validate(&g, path, &targets[t], &err))
                fail_msg("%s", err.msg);
            /* the kind of network is kept: types, kernels but the last,
             * strides, channels, skip and resize */
            assert_int_equal(g.n_layers, orig.n_layers);
            assert_int_equal(g.skip, orig.skip);
            assert_int_equal(g.resize, orig.resize);
            for (int l = 0; l < g.n_layers; l++) {
                assert_int_equal(g.layers[l].type, orig.layers[l].type);
                assert_int_equal(g.layers[l].stride, orig.layers[l].stride);
                assert_int_equal(g.layers[l].outcaps, orig.layers[l].outcaps);
                if (l < g.n_layers - 1) {
                    assert_int_equal(g.layers[l].k, orig.layers[l].k);
                    assert_int_equal(g.layers[l].outch, orig.layers[l].outch);
                }
            }
            int same = own.size == targets[t].size && own.channels == targets[t].channels &&
                       own.classes == targets[t].classes;
            if (same) {
                assert_int_equal(ch.n, 0);
                assert_memory_equal(&g, &orig, sizeof g);
            } else {
                assert_true(ch.n > 0);
                changed++;
            }
            /* adapting again changes nothing; back home restores the file */
            nc_genotype again = g;
            assert_int_equal(nc_genotype_adapt(&again, &targets[t], path, &ch, &err), NC_OK);
            assert_int_equal(ch.n, 0);
            assert_memory_equal(&again, &g, sizeof g);
            if (nc_genotype_adapt(&g, &own, path, &ch, &err))
                fail_msg("%s back: %s", path, err.msg);
            char a[NC_GENOTYPE_STRING_MAX], b[NC_GENOTYPE_STRING_MAX];
            nc_genotype_to_string(&g, a, sizeof a);
            nc_genotype_to_string(&orig, b, sizeof b);
            if (strcmp(a, b) != 0)
                fail_msg("%s: adapted and back: %s, expected %s", path, a, b);
        }
    }
    /* every chromosome differs from at least three of the four targets */
    assert_true(changed >= 3 * N_CHROMS);
}

int main(void)
{
    nc_test_require_reference("test_adapt_reference");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_chromosome_adapts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
