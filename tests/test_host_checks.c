/* test_host_checks.c - values crossing a plugin boundary are checked by the
 * host (issue 15): an accelerator's NaN, infinite or negative cost makes
 * `estimate` exit 1 naming the plugin and the operation, and makes a run's
 * candidates `invalid` instead of putting them on the front; a dataset
 * plugin's NaN or out-of-range pixels are refused when it is opened. The
 * lying plugins are in tests/validate/fakes.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "nc_test.h"

#define SMALL "[[0,8,1,1,3,1,8,4,1],[1,8,4,1,3,2,4,2,4],[1,4,2,4,4,1,1,3,4],[-1],[1]]\n"

#define dir nc_test_dir
#define setup nc_test_dir_setup
#define teardown nc_test_dir_teardown

static const char *write_in_dir(const char *name, const char *text)
{
    static char path[2][4096];
    static int slot;
    char *p = path[slot++ % 2];
    snprintf(p, 4096, "%s/%s", dir, name);
    nc_test_write_file(p, text, strlen(text));
    return p;
}

/* A pipeline on the fake dataset (8x8x1, 3 classes) with the lying
 * accelerator. */
static const char *pipeline(const char *lie, const char *pixel)
{
    char text[8192];
    snprintf(text, sizeof text,
             "plugin_path = [\"%s\"];\n"
             "dataset = { plugin = \"fakeds\"; classes = 3; pixel = \"%s\"; };\n"
             "accelerator = { plugin = \"liaracc\"; lie = \"%s\"; };\n"
             "objectives = [\"energy\", \"latency\"];\n"
             "optimizer = { plugin = \"random\"; samples = 4; batch = 2; };\n"
             "search_space = { sabour = true; deepcaps = false; conv_layers = [1, 1]; "
             "caps_layers = [2, 2]; channels_log2 = [2, 2]; };\n"
             "output = { dir = \"%s/run-%s\"; };\n",
             NC_VALIDATE_PLUGIN_DIR, pixel, lie, dir, lie);
    return write_in_dir("p.cfg", text);
}

static int cli(const char *args, char **out, char **err)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' %s", NC_TEST_CLI, args);
    return nc_test_run(cmd, out, err);
}

static void test_estimate_refuses_lying_costs(void **state)
{
    (void)state;
    const char *chr = write_in_dir("small.chr", SMALL);
    char chr_copy[4096];
    snprintf(chr_copy, sizeof chr_copy, "%s", chr);
    const char *lies[] = {"nan", "inf", "negative"};
    const char *shown[] = {"energy_mj = nan", "energy_mj = inf", "energy_mj = -1"};
    for (int i = 0; i < 3; i++) {
        char args[8192], *out, *err;
        snprintf(args, sizeof args, "estimate -c '%s' '%s'", pipeline(lies[i], "0.5"),
                 chr_copy);
        assert_int_equal(cli(args, &out, &err), 1);
        if (!strstr(err, "accelerator 'liaracc': cost of operation 'conv1' gave ") ||
            !strstr(err, shown[i]) || !strstr(err, "(expected a finite number >= 0)"))
            fail_msg("lie %s: [%s]", lies[i], err);
        assert_non_null(strstr(err, "fakes.so"));
        free(out);
        free(err);
        /* --json too: no row is silently dropped, the command fails */
        snprintf(args, sizeof args, "estimate --json -c '%s' '%s'", pipeline(lies[i], "0.5"),
                 chr_copy);
        assert_int_equal(cli(args, &out, &err), 1);
        free(out);
        free(err);
    }
    char args[8192], *out, *err;
    snprintf(args, sizeof args, "estimate -c '%s' '%s'", pipeline("none", "0.5"), chr_copy);
    assert_int_equal(cli(args, &out, &err), 0);
    free(out);
    free(err);
}

/* A run stores every candidate costed by a lying model as invalid, with
 * the plugin named, and puts none of them on the front. */
static void test_run_marks_lying_costs_invalid(void **state)
{
    (void)state;
    char args[8192], *out, *err;
    const char *p = pipeline("nan", "0.5");
    snprintf(args, sizeof args, "run '%s' --quiet", p);
    assert_int_equal(cli(args, &out, &err), 0);
    free(out);
    free(err);
    snprintf(args, sizeof args, "report '%s/run-nan' --json", dir);
    assert_int_equal(cli(args, &out, &err), 0);
    const char *last = nc_test_last_line(out);
    json_error_t jerr;
    json_t *root = json_loads(last, 0, &jerr);
    if (!root)
        fail_msg("report --json: %s [%s]", jerr.text, out);
    json_int_t ev = json_integer_value(json_object_get(root, "evaluations"));
    assert_true(ev >= 2);
    assert_int_equal(json_integer_value(json_object_get(root, "failed")), ev);
    assert_int_equal(json_array_size(json_object_get(root, "front")), 0);
    json_decref(root);
    free(out);
    free(err);
}

static void test_dataset_pixels_checked(void **state)
{
    (void)state;
    const char *bad[] = {"nan", "1e30", "-0.5"};
    const char *shown[] = {"= nan,", "= 1e+30,", "= -0.5,"};
    for (int i = 0; i < 3; i++) {
        char args[8192], *out, *err;
        snprintf(args, sizeof args, "validate '%s'", pipeline("none", bad[i]));
        assert_int_equal(cli(args, &out, &err), 1);
        if (!strstr(err, "dataset plugin 'fakeds': read() gave pixel 0 of train image ") ||
            !strstr(err, shown[i]) || !strstr(err, "expected a number in [0, 1]"))
            fail_msg("pixel %s: [%s]", bad[i], err);
        free(out);
        free(err);
    }
}

/* One rule for relative paths: a plugin path in a pipeline is relative to
 * the pipeline's folder, for every command, wherever the user stands. */
static void test_plugin_path_relative_to_pipeline(void **state)
{
    (void)state;
    char path[4300], *out, *err;
    size_t n = 0;
    char *so = nc_test_read_file(NC_TEST_PLUGIN_DIR "/capsacc.so", &n);
    assert_non_null(so);
    snprintf(path, sizeof path, "%s/sub", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/sub/plugs", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/sub/plugs/mycapsacc.so", dir);
    nc_test_write_file(path, so, n);
    free(so);
    const char *chr = write_in_dir("small.chr", SMALL);
    char chr_copy[4096];
    snprintf(chr_copy, sizeof chr_copy, "%s", chr);
    snprintf(path, sizeof path, "%s/sub/p.cfg", dir);
    const char *text = "accelerator = { plugin = \"plugs/mycapsacc.so\"; };\n";
    nc_test_write_file(path, text, strlen(text));
    for (int i = 0; i < 2; i++) {
        char args[9000], cmd[9500];
        if (i == 0)
            snprintf(args, sizeof args, "estimate --json -c '%s' '%s'", path, chr_copy);
        else
            snprintf(args, sizeof args, "validate '%s'", path);
        snprintf(cmd, sizeof cmd, "cd / && '%s' %s", NC_TEST_CLI, args);
        int rc = nc_test_run(cmd, &out, &err);
        if (rc != 0)
            fail_msg("%s: exit %d [%s]", args, rc, err);
        assert_non_null(strstr(out, "sub/plugs/mycapsacc.so"));
        free(out);
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_estimate_refuses_lying_costs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_marks_lying_costs_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dataset_pixels_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugin_path_relative_to_pipeline, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
