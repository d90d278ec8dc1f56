/* test_genotype_reference.c - the original release's 66 chromosomes
 * (reference/chroms) parse, validate against their dataset, print back
 * canonically, survive repair unchanged, and repair after perturbation. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_test.h"
#include "nascaps/genotype.h"
#include "nascaps/rng.h"
#include "genotype_mutate.h"

#define N_CHROMS 66

static char paths[128][4096];
static int n_paths;

static int collect(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t n = strlen(path);
    if (flag == FTW_F && n > 4 && !strcmp(path + n - 4, ".chr") && n_paths < 128)
        snprintf(paths[n_paths++], sizeof paths[0], "%s", path);
    return 0;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The dataset a release chromosome was searched on: its folder's name. */
static nc_data_shape data_of(const char *path)
{
    nc_data_shape mnist = {28, 1, 10}, rgb = {32, 3, 10};
    if (strstr(path, "ns-cifar10/") || strstr(path, "ns-svhn/") || strstr(path, "deepcaps"))
        return rgb;
    return mnist;
}

static int setup(void **state)
{
    (void)state;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/chroms", nc_test_reference_dir());
    assert_int_equal(nftw(dir, collect, 16, FTW_PHYS), 0);
    qsort(paths, (size_t)n_paths, sizeof paths[0], by_path);
    return 0;
}

static void test_count(void **state)
{
    (void)state;
    assert_int_equal(n_paths, N_CHROMS);
}

static void test_all_valid(void **state)
{
    (void)state;
    for (int i = 0; i < n_paths; i++) {
        nc_genotype g;
        nc_error err;
        nc_error_clear(&err);
        if (nc_genotype_load(paths[i], &g, &err) != NC_OK)
            fail_msg("%s", err.msg);
        nc_data_shape d = data_of(paths[i]);
        if (nc_genotype_validate(&g, paths[i], &d, &err) != NC_OK)
            fail_msg("%s", err.msg);

        /* canonical text = the file's text without its spaces */
        char *text = nc_test_read_file(paths[i], NULL), *w = text;
        assert_non_null(text);
        for (char *r = text; *r; r++)
            if (*r != ' ' && *r != '\n' && *r != '\r' && *r != '\t')
                *w++ = *r;
        *w = '\0';
        char canon[NC_GENOTYPE_STRING_MAX];
        nc_genotype_to_string(&g, canon, sizeof canon);
        assert_string_equal(canon, text);
        free(text);

        nc_genotype r = g;
        if (nc_genotype_repair(&r, 0, &err) != NC_OK)
            fail_msg("%s: repair: %s", paths[i], err.msg);
        char repaired[NC_GENOTYPE_STRING_MAX];
        nc_genotype_to_string(&r, repaired, sizeof repaired);
        assert_string_equal(repaired, canon);
    }
}

static void test_perturbed_repair(void **state)
{
    (void)state;
    nc_rng rng;
    nc_rng_seed(&rng, 2020);
    for (int i = 0; i < n_paths; i++) {
        nc_genotype base;
        nc_error err;
        assert_int_equal(nc_genotype_load(paths[i], &base, &err), NC_OK);
        for (int it = 0; it < 50; it++) {
            nc_genotype g = base;
            nc_test_perturb(&g, &rng);
            nc_error_clear(&err);
            if (nc_genotype_repair(&g, 1, &err) != NC_OK)
                fail_msg("%s, perturbation %d: %s", paths[i], it, err.msg);
            const nc_gene *last = &g.layers[g.n_layers - 1];
            assert_int_equal(last->k, last->insize);
        }
    }
}

int main(void)
{
    nc_test_require_reference("test_genotype_reference");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_all_valid),
        cmocka_unit_test(test_perturbed_repair),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
