/* test_train_cli.c - `nascaps train` and `nascaps evaluate` on the
 * synthetic dataset: per-epoch lines, the --json object, --save then
 * evaluate giving the same accuracy, and the refusals with their exit
 * codes and messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "nc_test.h"

static const char tiny_chr[] =
    "[[0,8,1,1,3,1,8,4,1],[1,8,4,1,3,2,4,2,4],[1,4,2,4,4,1,1,3,4],[-1],[1]]\n";
static const char data_sets[] =
    "--set dataset.plugin=synthetic --set dataset.size=8 --set dataset.classes=3 "
    "--set dataset.train_count=100 --set dataset.test_count=40 --set training.batch_size=20 "
    "--set training.threads=1";

static char *dir, chr[512], weights[512];

static int setup(void **state)
{
    (void)state;
    dir = nc_test_tmpdir();
    snprintf(chr, sizeof chr, "%s/tiny.chr", dir);
    snprintf(weights, sizeof weights, "%s/w.bin", dir);
    nc_test_write_file(chr, tiny_chr, strlen(tiny_chr));
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

/* The last line of out, parsed. */
static json_t *last_json(const char *out)
{
    size_t n = strlen(out);
    assert_true(n > 1 && out[n - 1] == '\n');
    const char *start = out + n - 1;
    while (start > out && start[-1] != '\n')
        start--;
    json_error_t je;
    json_t *j = json_loadb(start, (size_t)(out + n - 1 - start), 0, &je);
    if (!j)
        fail_msg("not JSON: %s (%s)", start, je.text);
    return j;
}

static double number(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fail_msg("'%s' is not a number", key);
    return json_number_value(v);
}

static void test_train_save_evaluate(void **state)
{
    (void)state;
    char args[2048], *out, *err;
    snprintf(args, sizeof args, "train tiny.chr %s --epochs 2 --save w.bin --json --quiet",
             data_sets);
    int rc = run(args, &out, &err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    assert_string_equal(err, "");   /* --quiet: no progress */
    assert_non_null(strstr(out, "epoch 1/2: loss "));
    assert_non_null(strstr(out, "epoch 2/2: loss "));
    assert_non_null(strstr(out, "tiny.chr: test accuracy "));
    assert_non_null(strstr(out, "(status ok): params 1876 + decoder 33377, 10368 MACs"));
    json_t *j = last_json(out);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    double acc = number(j, "test_accuracy");
    assert_true(acc >= 0 && acc <= 1);
    assert_int_equal((int)number(j, "params"), 1876);
    assert_int_equal((int)number(j, "decoder_params"), 33377);
    assert_int_equal((int)number(j, "macs"), 10368);
    assert_true(number(j, "train_seconds") > 0);
    assert_true(number(j, "train_img_per_s") > 0);
    json_t *epochs = json_object_get(j, "epochs");
    assert_int_equal(json_array_size(epochs), 2);
    for (size_t e = 0; e < 2; e++) {
        json_t *o = json_array_get(epochs, e);
        assert_int_equal((int)number(o, "epoch"), (int)e + 1);
        assert_int_equal((int)number(o, "images"), 100);
        assert_true(number(o, "train_loss") > 0);
        assert_true(number(o, "seconds") > 0);
        double t = number(o, "test_accuracy");
        assert_true(t >= 0 && t <= 1);
        assert_true(json_is_null(json_object_get(o, "validation_accuracy")));
    }
    assert_true(number(json_array_get(epochs, 1), "test_accuracy") == acc);
    json_decref(j);
    free(out);
    free(err);

    snprintf(args, sizeof args, "evaluate tiny.chr --weights w.bin %s --json", data_sets);
    rc = run(args, &out, &err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    j = last_json(out);
    assert_true(number(j, "test_accuracy") == acc);
    assert_int_equal((int)number(j, "test_images"), 40);
    json_decref(j);
    free(out);
    free(err);

    /* a corrupted file is refused with one line */
    size_t len;
    char *bytes = nc_test_read_file(weights, &len);
    nc_test_write_file(weights, bytes, len - 1);
    free(bytes);
    snprintf(args, sizeof args, "evaluate tiny.chr --weights w.bin %s", data_sets);
    assert_int_equal(run(args, &out, &err), 1);
    assert_true(strncmp(err, "nascaps: w.bin: truncated: the file ends at byte ", 49) == 0);
    assert_non_null(strstr(err, "inside the checksum (1 more bytes needed)\n"));
    free(out);
    free(err);
}

static void test_refusals(void **state)
{
    (void)state;
    char args[2048], *out, *err;
    /* the genotype must fit the dataset */
    assert_int_equal(run("train tiny.chr --set dataset.plugin=synthetic --set dataset.size=16 "
                         "--set dataset.classes=3",
                         &out, &err),
                     1);
    assert_string_equal(err, "nascaps: tiny.chr: gene 1 (conv): field 'insize' is 8 but the "
                             "dataset's images are 16 x resize 1 = 16 (use --adapt to re-derive it "
                             "for this dataset)\n");
    free(out);
    free(err);
    assert_int_equal(run("train tiny.chr --set dataset.plugin=synthetic --set dataset.size=8",
                         &out, &err),
                     1);
    assert_string_equal(err, "nascaps: tiny.chr: gene 3 (class-caps): field 'outch' is 3 but "
                             "the dataset has 10 classes (use --adapt to re-derive it for this "
                             "dataset)\n");
    free(out);
    free(err);

    snprintf(args, sizeof args, "train tiny.chr %s --set training.max_params=1000 --json",
             data_sets);
    assert_int_equal(run(args, &out, &err), 1);
    assert_string_equal(err, "nascaps: refused: tiny.chr: candidate has 35,253 trainable "
                             "parameters (network 1,876 + decoder 33,377), over "
                             "training.max_params = 1,000\n");
    json_t *j = last_json(out);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "refused");
    assert_true(json_is_null(json_object_get(j, "test_accuracy")));
    json_decref(j);
    free(out);
    free(err);

    snprintf(args, sizeof args, "train tiny.chr %s --set training.learning_rate=1e30 --quiet",
             data_sets);
    assert_int_equal(run(args, &out, &err), 1);
    assert_true(strncmp(err, "nascaps: tiny.chr: training diverged: loss is ", 46) == 0);
    assert_non_null(strstr(out, "(status diverged)"));
    free(out);
    free(err);

    assert_int_equal(run("train", &out, &err), 2);
    assert_string_equal(err, "nascaps train: no genotype file given (see 'nascaps help train')\n");
    free(out);
    free(err);
    assert_int_equal(run("train tiny.chr --epochs 0", &out, &err), 2);
    assert_string_equal(err, "nascaps train: --epochs takes an integer >= 1, got '0' (see "
                             "'nascaps help train')\n");
    free(out);
    free(err);
    assert_int_equal(run("evaluate tiny.chr", &out, &err), 2);
    assert_string_equal(err, "nascaps evaluate: no weights given (--weights W.bin) (see "
                             "'nascaps help evaluate')\n");
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_save_evaluate),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
