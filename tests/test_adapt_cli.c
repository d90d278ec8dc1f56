/* test_adapt_cli.c - `nascaps adapt` (the written file, the change lines,
 * --json, refusals), `train --adapt` with a genotype made for 32x32x3 on a
 * small synthetic dataset, `estimate --adapt`, and the hint a mismatch
 * gets without --adapt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "nc_test.h"

/* made for 32 x 32 x 3 images and 10 classes */
static const char rgb_chr[] =
    "[[0,32,3,1,3,1,32,4,1],[1,32,4,1,3,2,16,2,4],[1,16,2,4,16,1,1,10,4],[-1],[1]]\n";
static const char synthetic[] =
    "--set dataset.plugin=synthetic --set dataset.size=8 --set dataset.classes=3";
static const char changes_8x8[] =
    "rgb.chr: adapted to 8 x 8 x 1 images, 3 classes (resize 1): 8 changes\n"
    "  gene 1 (conv): insize 32 -> 8\n"
    "  gene 1 (conv): inch 3 -> 1\n"
    "  gene 1 (conv): outsize 32 -> 8\n"
    "  gene 2 (caps): insize 32 -> 8\n"
    "  gene 2 (caps): outsize 16 -> 4\n"
    "  gene 3 (class-caps): insize 16 -> 4\n"
    "  gene 3 (class-caps): k 16 -> 4\n"
    "  gene 3 (class-caps): outch 10 -> 3\n";
static const char adapted_8x8[] =
    "[[0,8,1,1,3,1,8,4,1],[1,8,4,1,3,2,4,2,4],[1,4,2,4,4,1,1,3,4],[-1],[1]]\n";

static char *dir;

static int setup(void **state)
{
    (void)state;
    dir = nc_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/rgb.chr", dir);
    nc_test_write_file(path, rgb_chr, strlen(rgb_chr));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nc_test_rmtree(dir);
    free(dir);
    return 0;
}

static int run(const char *args, char **out, char **err)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s", dir, NC_TEST_CLI, args);
    return nc_test_run(cmd, out, err);
}

static void test_adapt_writes_file(void **state)
{
    (void)state;
    char args[1024], *out, *err;
    snprintf(args, sizeof args, "adapt rgb.chr %s -o small.chr", synthetic);
    int rc = run(args, &out, &err);
    if (rc)
        fail_msg("exit %d: %s", rc, err);
    assert_string_equal(err, changes_8x8);
    assert_string_equal(out, "small.chr: written (rgb.chr adapted, 8 changes)\n");
    free(out);
    free(err);
    char path[512];
    snprintf(path, sizeof path, "%s/small.chr", dir);
    char *text = nc_test_read_file(path, NULL);
    assert_string_equal(text, adapted_8x8);
    free(text);

    /* the written file fits: adapting it again is a no-op */
    snprintf(args, sizeof args, "adapt small.chr %s --json", synthetic);
    assert_int_equal(run(args, &out, &err), 0);
    assert_string_equal(err, "small.chr: fits 8 x 8 x 1 images, 3 classes: nothing to adapt\n");
    assert_string_equal(out, "[[0,8,1,1,3,1,8,4,1],[1,8,4,1,3,2,4,2,4],[1,4,2,4,4,1,1,3,4],"
                             "[-1],[1]]\n"
                             "{\"genotype\":\"small.chr\",\"canonical\":\"[[0,8,1,1,3,1,8,4,1],"
                             "[1,8,4,1,3,2,4,2,4],[1,4,2,4,4,1,1,3,4],[-1],[1]]\",\"data\":"
                             "{\"size\":8,\"channels\":1,\"classes\":3},\"changes\":[],"
                             "\"output\":null}\n");
    free(out);
    free(err);
}

static void test_adapt_json_and_quiet(void **state)
{
    (void)state;
    char args[1024], *out, *err;
    snprintf(args, sizeof args,
             "adapt rgb.chr --set dataset.plugin=synthetic --set dataset.size=16 "
             "--set dataset.channels=3 --json --quiet");
    assert_int_equal(run(args, &out, &err), 0);
    assert_string_equal(err, "");
    const char *nl = strchr(out, '\n');
    assert_non_null(nl);
    json_error_t je;
    json_t *j = json_loads(nl + 1, 0, &je);
    if (!j)
        fail_msg("not JSON: %s", nl + 1);
    json_t *ch = json_object_get(j, "changes");
    /* 16 x 16 x 3, 10 classes: the sizes only (gene 1: insize, outsize;
     * gene 2: insize, outsize; gene 3: insize, its pinned k) */
    assert_int_equal(json_array_size(ch), 6);
    json_t *c = json_array_get(ch, 5);
    assert_int_equal(json_integer_value(json_object_get(c, "gene")), 3);
    assert_string_equal(json_string_value(json_object_get(c, "role")), "class-caps");
    assert_string_equal(json_string_value(json_object_get(c, "field")), "k");
    assert_int_equal(json_integer_value(json_object_get(c, "before")), 16);
    assert_int_equal(json_integer_value(json_object_get(c, "after")), 8);
    json_decref(j);
    free(out);
    free(err);
}

static void test_adapt_errors(void **state)
{
    (void)state;
    char *out, *err;
    assert_int_equal(run("adapt", &out, &err), 2);
    assert_string_equal(err, "nascaps adapt: no genotype file given (see 'nascaps help adapt')\n");
    free(out);
    free(err);
    assert_int_equal(run("adapt rgb.chr --bogus", &out, &err), 2);
    assert_string_equal(err, "nascaps adapt: unknown option '--bogus' (see 'nascaps help adapt')\n");
    free(out);
    free(err);
    assert_int_equal(run("adapt rgb.chr -o", &out, &err), 2);
    assert_string_equal(err, "nascaps adapt: option -o needs a value (see 'nascaps help adapt')\n");
    free(out);
    free(err);
    assert_int_equal(run("adapt missing.chr --set dataset.plugin=synthetic", &out, &err), 1);
    assert_non_null(strstr(err, "missing.chr"));
    assert_string_equal(out, "");
    free(out);
    free(err);
    /* at 256 x 256 x 64, resize 2, the first conv is over the size guard */
    char path[512];
    snprintf(path, sizeof path, "%s/r2.chr", dir);
    const char r2[] = "[[0,16,1,1,9,1,16,4096,1],[1,16,4096,1,16,1,16,3,4],[-1],[2]]";
    nc_test_write_file(path, r2, strlen(r2));
    assert_int_equal(run("adapt r2.chr --set dataset.plugin=synthetic --set dataset.size=256 "
                         "--set dataset.channels=64 -o never.chr",
                         &out, &err),
                     1);
    assert_string_equal(err, "nascaps: r2.chr: gene 1 (conv): 5.57e+12 multiply-accumulates per "
                             "image, more than 2^40: sizes too large\n");
    assert_string_equal(out, "");
    snprintf(path, sizeof path, "%s/never.chr", dir);
    assert_null(fopen(path, "r"));
    free(out);
    free(err);
}

static void test_train_adapt(void **state)
{
    (void)state;
    char args[2048], *out, *err;
    /* without --adapt: the validator's message and the hint */
    snprintf(args, sizeof args, "train rgb.chr %s", synthetic);
    assert_int_equal(run(args, &out, &err), 1);
    assert_string_equal(err, "nascaps: rgb.chr: gene 1 (conv): field 'insize' is 32 but the "
                             "dataset's images are 8 x resize 1 = 8 (use --adapt to re-derive "
                             "it for this dataset)\n");
    assert_string_equal(out, "");
    free(out);
    free(err);
    snprintf(args, sizeof args,
             "train rgb.chr --adapt %s --set dataset.train_count=60 --set dataset.test_count=20 "
             "--set training.batch_size=20 --set training.threads=1 --epochs 1",
             synthetic);
    int rc = run(args, &out, &err);
    if (rc)
        fail_msg("exit %d: %s", rc, err);
    assert_true(strncmp(err, changes_8x8, strlen(changes_8x8)) == 0);
    assert_non_null(strstr(out, "epoch 1/1: loss "));
    /* the adapted network is the 8 x 8 one test_train_cli trains */
    assert_non_null(strstr(out, "rgb.chr: test accuracy "));
    assert_non_null(strstr(out, "(status ok): params 1876 + decoder 33377, 10368 MACs"));
    free(out);
    free(err);
}

static void test_estimate_adapt(void **state)
{
    (void)state;
    char args[1024], *out, *err;
    snprintf(args, sizeof args, "estimate rgb.chr --adapt %s", synthetic);
    int rc = run(args, &out, &err);
    if (rc)
        fail_msg("exit %d: %s", rc, err);
    assert_string_equal(err, changes_8x8);
    assert_true(strncmp(out, "genotype\tenergy_mJ", 18) == 0);
    /* the adapted network's parameters and MACs */
    assert_non_null(strstr(out, "\t1876\t10368\n"));
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adapt_writes_file),
        cmocka_unit_test(test_adapt_json_and_quiet),
        cmocka_unit_test(test_adapt_errors),
        cmocka_unit_test(test_train_adapt),
        cmocka_unit_test(test_estimate_adapt),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
