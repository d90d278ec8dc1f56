/* test_cli_settings.c - settings seen from the command line: `nascaps
 * validate` refuses exactly what `nascaps run` and `nascaps train` refuse,
 * with the same line (one owner per setting, one check); unknown names
 * suggest a key of the same section or list them; `nascaps plugins
 * --settings` lists the tables the validation reads. Real plugins from the
 * build tree, a synthetic dataset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "nc_test.h"

#define SMALL "[[0,16,1,1,5,1,16,4,1],[1,16,4,1,5,2,8,2,4],[1,8,2,4,8,1,1,3,4],[-1],[1]]\n"

#define dir nc_test_dir
#define setup nc_test_dir_setup
#define teardown nc_test_dir_teardown

/* A small synthetic pipeline with extra lines (and extra keys inside its
 * training and dataset groups); its path. */
static const char *pipeline3(const char *name, const char *extra, const char *training,
                             const char *dataset)
{
    static char path[4096];
    char text[8192];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(text, sizeof text,
             "dataset = { plugin = \"synthetic\"; size = 16; classes = 3; train_count = 60; "
             "test_count = 30; %s };\n"
             "training = { epochs = 1; batch_size = 10; %s };\n"
             "output = { dir = \"%s/out-%s\"; };\n%s",
             dataset, training, dir, name, extra);
    nc_test_write_file(path, text, strlen(text));
    return path;
}

static const char *pipeline(const char *name, const char *extra)
{
    return pipeline3(name, extra, "", "");
}

/* Runs `nascaps ARGS`; returns the exit status, *err the stderr text. */
static int cli(const char *args, char **out, char **err)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' %s", NC_TEST_CLI, args);
    int rc = nc_test_run(cmd, out, err);
    assert_non_null(*out);
    assert_non_null(*err);
    return rc;
}

static void expect_refused3(const char *extra, const char *training, const char *dataset,
                            const char *part)
{
    char args[8192], *out, *err, *verr, *terr;
    const char *p = pipeline3("bad.cfg", extra, training, dataset);
    char chr[4200];
    snprintf(chr, sizeof chr, "%s/small.chr", dir);
    nc_test_write_file(chr, SMALL, strlen(SMALL));

    snprintf(args, sizeof args, "validate '%s'", p);
    assert_int_equal(cli(args, &out, &verr), 1);
    free(out);
    if (!strstr(verr, part))
        fail_msg("validate: expected [%s] in [%s]", part, verr);
    snprintf(args, sizeof args, "run '%s' --quiet", p);
    assert_int_equal(cli(args, &out, &err), 1);
    free(out);
    assert_string_equal(err, verr);
    free(err);
    snprintf(args, sizeof args, "train '%s' -c '%s' --quiet", chr, p);
    assert_int_equal(cli(args, &out, &terr), 1);
    free(out);
    assert_string_equal(terr, verr);
    free(terr);
    free(verr);
}

static void expect_refused(const char *extra, const char *part)
{
    expect_refused3(extra, "", "", part);
}

static void test_validate_refuses_what_run_refuses(void **state)
{
    (void)state;
    expect_refused("optimizer = { mutation_rat = 0.2; };\n",
                   "unknown setting 'optimizer.mutation_rat' (did you mean "
                   "'optimizer.mutation_rate'?)");
    expect_refused("optimizer = { rate_of_change = 0.2; };\n",
                   "unknown setting 'optimizer.rate_of_change' (section 'optimizer' takes: "
                   "plugin, population, offspring, generations, mutation_rate, mutation_style, "
                   "parent_selection)");
    expect_refused("optimizer = { population = 0; };\n",
                   "setting 'optimizer.population': expected an integer in [1, 10000], got 0");
    expect_refused("accelerator = { rows = 0; };\n",
                   "setting 'accelerator.rows': expected an integer in [1, 65536], got 0");
    expect_refused("layers = { conv = { activation = \"tanh\"; }; };\n",
                   "setting 'layers.conv.activation': expected one of \"relu\", \"none\", "
                   "got \"tanh\"");
    expect_refused3("", "conv_activation = \"tanh\";", "",
                   "setting 'training.conv_activation': expected one of \"relu\", \"none\", "
                   "got \"tanh\"");
    expect_refused("layers = { convv = { activation = \"none\"; }; };\n",
                   "no layer plugin named 'convv'");
    expect_refused3("", "", "sizee = 3;",
                   "unknown setting 'dataset.sizee' (did you mean 'dataset.size'?)");
    expect_refused("search_space = { conv_layers = [5, 2]; };\n",
                   "setting 'search_space.conv_layers': expected [min, max] with 1 <= min "
                   "<= max <= 16, got [5, 2]");
}

/* Issue 11's examples: --set spellings, and another section's key is not
 * suggested (dataset.dir on idx lists idx's keys, not output.dir). */
static void test_suggestions(void **state)
{
    (void)state;
    char args[8192], *out, *err;
    const char *p = pipeline("ok.cfg", "");
    snprintf(args, sizeof args, "validate --set optimizer.mutation=0.2 '%s'", p);
    assert_int_equal(cli(args, &out, &err), 1);
    assert_string_equal(err, "nascaps: --set optimizer.mutation: unknown setting "
                             "'optimizer.mutation' (did you mean 'optimizer.mutation_rate'?)\n");
    free(out);
    free(err);
    assert_int_equal(cli("validate --set dataset.dir=\\\"/x\\\" --set dataset.plugin=idx "
                         "/dev/null", &out, &err), 1);
    free(out);
    free(err);
    snprintf(args, sizeof args, "%s/idx.cfg", dir);
    const char *idx = "dataset = { plugin = \"idx\"; dir = \"/x\"; };\n";
    nc_test_write_file(args, idx, strlen(idx));
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "validate '%s'", args);
    assert_int_equal(cli(cmd, &out, &err), 1);
    char want[8192];
    snprintf(want, sizeof want,
             "nascaps: %s:1: unknown setting 'dataset.dir' (section 'dataset' takes: plugin, "
             "train_subset, test_subset, validation, normalize, train_images, train_labels, "
             "test_images, test_labels)\n", args);
    assert_string_equal(err, want);
    free(out);
    free(err);
}

static void test_plugins_settings(void **state)
{
    (void)state;
    char *out, *err;
    assert_int_equal(cli("plugins --settings nsga2", &out, &err), 0);
    if (!strstr(out, "optimizer.mutation_rate      number in [0, 1]                   "
                     "default 0.1"))
        fail_msg("no mutation_rate line in [%s]", out);
    free(out);
    free(err);
    assert_int_equal(cli("help plugin conv", &out, &err), 0);
    assert_non_null(strstr(out, "layers.conv.activation"));
    assert_non_null(strstr(out, "(also read as training.conv_activation)"));
    free(out);
    free(err);
    assert_int_equal(cli("plugins --settings nsga2 --json", &out, &err), 0);
    json_error_t jerr;
    json_t *root = json_loads(out, 0, &jerr);
    assert_non_null(root);
    json_t *groups = json_object_get(root, "settings");
    assert_int_equal(json_array_size(groups), 1);
    json_t *keys = json_object_get(json_array_get(groups, 0), "settings");
    int found = 0;
    for (size_t i = 0; i < json_array_size(keys); i++) {
        json_t *k = json_array_get(keys, i);
        if (strcmp(json_string_value(json_object_get(k, "name")), "mutation_rate"))
            continue;
        found = 1;
        assert_string_equal(json_string_value(json_object_get(k, "type")), "number");
        assert_string_equal(json_string_value(json_object_get(k, "range")), "number in [0, 1]");
        assert_string_equal(json_string_value(json_object_get(k, "default")), "0.1");
    }
    assert_true(found);
    json_decref(root);
    free(out);
    free(err);
    /* every section the core owns is listed, from the same tables */
    assert_int_equal(cli("plugins --settings", &out, &err), 0);
    const char *sections[] = {"[training]", "[dataset]", "[search_space]", "[correlate]",
                              "[final_training]", "[search]", "[output]", "top level",
                              "[layers.conv]", "[accelerator]"};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if (!strstr(out, sections[i]))
            fail_msg("no %s in the listing", sections[i]);
    free(out);
    free(err);
    assert_int_equal(cli("plugins --settings nsgaa", &out, &err), 1);
    assert_string_equal(err, "nascaps: no plugin or section named 'nsgaa' (did you mean "
                             "'nsga2'?)\n");
    free(out);
    free(err);
}

/* train_loss of the first epoch of `nascaps train --json` on SMALL. */
static double first_loss(const char *name, const char *extra, const char *training)
{
    char args[8192], chr[4200], *out, *err;
    snprintf(chr, sizeof chr, "%s/small.chr", dir);
    nc_test_write_file(chr, SMALL, strlen(SMALL));
    const char *p = pipeline3(name, extra, training, "");
    snprintf(args, sizeof args, "train '%s' -c '%s' --json --quiet", chr, p);
    assert_int_equal(cli(args, &out, &err), 0);
    json_error_t jerr;
    /* --json: the last line of stdout */
    const char *last = nc_test_last_line(out);
    json_t *root = json_loads(last, 0, &jerr);
    assert_non_null(root);
    json_t *ep = json_array_get(json_object_get(root, "epochs"), 0);
    double loss = json_real_value(json_object_get(ep, "train_loss"));
    json_decref(root);
    free(out);
    free(err);
    return loss;
}

/* The older spelling and the new key train the same network; the
 * default (ReLU) trains another. */
static void test_conv_activation_alias(void **state)
{
    (void)state;
    double alias = first_loss("a.cfg", "", "conv_activation = \"none\";");
    double key = first_loss("b.cfg", "layers = { conv = { activation = \"none\"; }; };\n", "");
    double relu = first_loss("c.cfg", "", "");
    assert_true(alias > 0);
    assert_true(alias == key);
    assert_true(relu != alias);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_validate_refuses_what_run_refuses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_suggestions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugins_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conv_activation_alias, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
