/* test_pipeline.c - pipeline files, --set overrides, core settings and
 * their messages, plugin sections, the section getters, the docs table. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nascaps/data.h"
#include "nascaps/pipeline.h"
#include "nascaps/session.h"
#include "nascaps/train.h"
#include "nc_test.h"

static char *dir;   /* fresh per test */

/* training.conv_activation, kept as the older spelling of
 * layers.conv.activation. */
static const char *conv_activation(const nc_pipeline *p)
{
    const char *v = NULL;
    nc_error err;
    assert_int_equal(nc_setting_string(nc_pipeline_section(p, "training"),
                                       nc_training_settings, "conv_activation", &v, &err),
                     NC_OK);
    return v;
}

static int setup(void **state)
{
    (void)state;
    dir = nc_test_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nc_test_rmtree(dir);
    free(dir);
    dir = NULL;
    return 0;
}

/* Writes text to DIR/name; returns the path (static buffer per slot). */
static const char *write_cfg(const char *name, const char *text)
{
    static char paths[4][4096];
    static int slot;
    char *path = paths[slot++ % 4];
    snprintf(path, 4096, "%s/%s", dir, name);
    nc_test_write_file(path, text, strlen(text));
    return path;
}

/* Loads text as DIR/p.cfg with overrides, validates core settings; returns
 * the status and leaves the message in err. */
static int settings_of(const char *text, const char *const *sets, size_t n_sets,
                       nc_settings *s, nc_error *err)
{
    nc_pipeline *p = NULL;
    nc_error_clear(err);
    memset(s, 0, sizeof *s);
    int rc = nc_pipeline_load(write_cfg("p.cfg", text), sets, n_sets, &p, err);
    if (rc == NC_OK) {
        rc = nc_pipeline_settings(p, s, err);
        nc_settings_free(s);
        nc_pipeline_free(p);
    }
    return rc;
}

/* Asserts that text (as DIR/p.cfg) fails with "DIR/p.cfg:" + expected. */
static void expect_file_error(const char *text, const char *expected)
{
    nc_settings s;
    nc_error err;
    char want[2048];
    snprintf(want, sizeof want, "%s/p.cfg:%s", dir, expected);
    assert_int_equal(settings_of(text, NULL, 0, &s, &err), NC_ERR_INPUT);
    assert_int_equal(err.status, NC_ERR_INPUT);
    assert_string_equal(err.msg, want);
}

static void check_defaults(const nc_settings *s, const char *output_dir)
{
    assert_int_equal(s->seed, 1);
    assert_int_equal(s->n_plugin_path, 0);
    assert_null(s->plugin_path);
    assert_string_equal(s->dataset.plugin, "idx");
    assert_int_equal(s->dataset.train_subset, 0);
    assert_int_equal(s->dataset.test_subset, 0);
    assert_int_equal(s->dataset.validation, 0);
    assert_null(s->dataset.normalize);
    assert_int_equal(s->training.epochs, 5);
    assert_int_equal(s->training.batch_size, 100);
    assert_true(s->training.learning_rate == 0.001);
    assert_true(s->training.lr_decay == 0.9);
    assert_int_equal(s->training.routings, 3);
    assert_true(s->training.recon_weight == 0.392);
    assert_true(s->training.shift_fraction == 0.1);
    assert_int_equal(s->training.max_params, 20000000);
    assert_int_equal(s->training.max_memory_mb, 8192);
    assert_true(s->training.time_limit_s == 0);
    assert_int_equal(s->training.threads, 0);
    assert_int_equal(s->final_training.epochs, 0);
    assert_string_equal(s->accelerator_plugin, "capsacc");
    assert_string_equal(s->optimizer_plugin, "nsga2");
    assert_int_equal(s->n_objectives, 4);
    assert_int_equal(s->objectives[0], NC_OBJ_ACCURACY_DROP);
    assert_int_equal(s->objectives[1], NC_OBJ_ENERGY);
    assert_int_equal(s->objectives[2], NC_OBJ_LATENCY);
    assert_int_equal(s->objectives[3], NC_OBJ_MEMORY);
    assert_true(s->search.time_limit_h == 0);
    assert_string_equal(s->output_dir, output_dir);
}

static void test_defaults(void **state)
{
    (void)state;
    nc_pipeline *p = NULL;
    nc_settings s;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_pipeline_load(NULL, NULL, 0, &p, &err), NC_OK);
    assert_null(nc_pipeline_file(p));
    assert_string_equal(nc_pipeline_name(p), "defaults");
    assert_int_equal(nc_pipeline_settings(p, &s, &err), NC_OK);
    check_defaults(&s, "runs/defaults");
    nc_settings_free(&s);
    nc_pipeline_free(p);

    /* An empty file and groups without keys read defaults too. */
    const char *path = write_cfg("exp-1.cfg", "# nothing\ntraining = {};\n");
    assert_int_equal(nc_pipeline_load(path, NULL, 0, &p, &err), NC_OK);
    assert_string_equal(nc_pipeline_file(p), path);
    assert_string_equal(nc_pipeline_name(p), "exp-1");
    assert_int_equal(nc_pipeline_settings(p, &s, &err), NC_OK);
    check_defaults(&s, "runs/exp-1");
    nc_settings_free(&s);
    nc_pipeline_free(p);

    assert_string_equal(nc_objective_name(NC_OBJ_MACS), "macs");
    assert_null(nc_objective_name(NC_OBJ_COUNT));
    assert_null(nc_objective_name(-1));
}

static void test_values_read(void **state)
{
    (void)state;
    nc_settings s;
    nc_error err;
    assert_int_equal(
        settings_of("seed = 12345678901234L;\n"
                    "plugin_path = [\"plug\", \"/abs/plug\"];\n"
                    "dataset = { plugin = \"../my/ds.so\"; train_subset = 100;"
                    " test_subset = 50L; validation = 10; normalize = \"standard\";"
                    " images = \"x\"; };\n"
                    "training = { epochs = 2; batch_size = 32; learning_rate = 1;"
                    " lr_decay = 1.0; routings = 10; recon_weight = 0;"
                    " shift_fraction = 0.5; conv_activation = \"none\";"
                    " max_params = 30000000000L; max_memory_mb = 100;"
                    " time_limit_s = 60; threads = 2; };\n"
                    "final_training = { epochs = 7; };\n"
                    "accelerator = { plugin = \"myacc\"; rows = 8; };\n"
                    "optimizer = { plugin = \"random\"; };\n"
                    "objectives = (\"energy\", \"macs\");\n"
                    "search = { time_limit_h = 1.5; };\n"
                    "output = { dir = \"out/x\"; };\n",
                    NULL, 0, &s, &err),
        NC_OK);
    /* settings_of frees: read again keeping the pipeline for the checks. */
    nc_pipeline *p = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/p.cfg", dir);
    assert_int_equal(nc_pipeline_load(path, NULL, 0, &p, &err), NC_OK);
    assert_int_equal(nc_pipeline_settings(p, &s, &err), NC_OK);
    char want[4200];
    assert_int_equal(s.seed, 12345678901234ULL);
    assert_int_equal(s.n_plugin_path, 2);
    snprintf(want, sizeof want, "%s/plug", dir);
    assert_string_equal(s.plugin_path[0], want);
    assert_string_equal(s.plugin_path[1], "/abs/plug");
    /* as written: nc_plugin_open resolves a path against the file's folder */
    assert_string_equal(s.dataset.plugin, "../my/ds.so");
    assert_int_equal(s.dataset.train_subset, 100);
    assert_int_equal(s.dataset.test_subset, 50);
    assert_int_equal(s.dataset.validation, 10);
    assert_string_equal(s.dataset.normalize, "standard");
    assert_int_equal(s.training.epochs, 2);
    assert_int_equal(s.training.batch_size, 32);
    assert_true(s.training.learning_rate == 1.0);
    assert_true(s.training.lr_decay == 1.0);
    assert_int_equal(s.training.routings, 10);
    assert_true(s.training.recon_weight == 0.0);
    assert_true(s.training.shift_fraction == 0.5);
    assert_string_equal(conv_activation(p), "none");
    assert_int_equal(s.training.max_params, 30000000000LL);
    assert_int_equal(s.training.max_memory_mb, 100);
    assert_true(s.training.time_limit_s == 60.0);
    assert_int_equal(s.training.threads, 2);
    assert_int_equal(s.final_training.epochs, 7);
    assert_string_equal(s.accelerator_plugin, "myacc");
    assert_string_equal(s.optimizer_plugin, "random");
    assert_int_equal(s.n_objectives, 2);
    assert_int_equal(s.objectives[0], NC_OBJ_ENERGY);
    assert_int_equal(s.objectives[1], NC_OBJ_MACS);
    assert_true(s.search.time_limit_h == 1.5);
    snprintf(want, sizeof want, "%s/out/x", dir);
    assert_string_equal(s.output_dir, want);
    nc_settings_free(&s);
    assert_null(s.plugin_path);
    nc_pipeline_free(p);
}

static void test_value_messages(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"seed = 1;\ntraining = { epochs = \"five\"; };\n",
         "2: setting 'training.epochs': expected an integer >= 1, got \"five\""},
        {"training = {\n  epochs = 0;\n};\n",
         "2: setting 'training.epochs': expected an integer >= 1, got 0"},
        {"training = { batch_size = 1.5; };\n",
         "1: setting 'training.batch_size': expected an integer >= 1, got 1.5"},
        {"training = { batch_size = 5.0; };\n",
         "1: setting 'training.batch_size': expected an integer >= 1, got 5.0"},
        {"training = { learning_rate = 0; };\n",
         "1: setting 'training.learning_rate': expected a number > 0, got 0"},
        {"training = { learning_rate = \"fast\"; };\n",
         "1: setting 'training.learning_rate': expected a number > 0, got \"fast\""},
        {"training = { lr_decay = 1.5; };\n",
         "1: setting 'training.lr_decay': expected a number in (0, 1], got 1.5"},
        {"training = { lr_decay = 0.0; };\n",
         "1: setting 'training.lr_decay': expected a number in (0, 1], got 0.0"},
        {"training = { routings = 11; };\n",
         "1: setting 'training.routings': expected an integer in [1, 10], got 11"},
        {"training = { routings = 0; };\n",
         "1: setting 'training.routings': expected an integer in [1, 10], got 0"},
        {"training = { recon_weight = -0.5; };\n",
         "1: setting 'training.recon_weight': expected a number >= 0, got -0.5"},
        {"training = { shift_fraction = 0.6; };\n",
         "1: setting 'training.shift_fraction': expected a number in [0, 0.5], got 0.6"},
        {"training = { conv_activation = \"tanh\"; };\n",
         "1: setting 'training.conv_activation': expected one of \"relu\", \"none\", got \"tanh\""},
        {"training = { conv_activation = true; };\n",
         "1: setting 'training.conv_activation': expected one of \"relu\", \"none\", got true"},
        {"training = { max_params = 0L; };\n",
         "1: setting 'training.max_params': expected an integer >= 1, got 0"},
        {"training = { max_memory_mb = -1; };\n",
         "1: setting 'training.max_memory_mb': expected an integer >= 1, got -1"},
        {"training = { time_limit_s = -1; };\n",
         "1: setting 'training.time_limit_s': expected a number >= 0, got -1"},
        {"training = { threads = -2; };\n",
         "1: setting 'training.threads': expected an integer >= 0, got -2"},
        {"training = { epochs = 3000000000L; };\n",
         "1: setting 'training.epochs': expected an integer in [1, 2147483647], got 3000000000"},
        {"final_training = { epochs = -1; };\n",
         "1: setting 'final_training.epochs': expected an integer >= 0, got -1"},
        {"\nseed = -1;\n",
         "2: setting 'seed': expected an integer >= 0, got -1"},
        {"seed = true;\n", "1: setting 'seed': expected an integer >= 0, got true"},
        {"plugin_path = \"plug\";\n",
         "1: setting 'plugin_path': expected a list of strings, got \"plug\""},
        {"plugin_path = [1, 2];\n",
         "1: setting 'plugin_path': expected a list of strings, got [1, 2]"},
        {"dataset = { train_subset = -1; };\n",
         "1: setting 'dataset.train_subset': expected an integer in [0, 2147483647], got -1"},
        {"dataset = { test_subset = \"all\"; };\n",
         "1: setting 'dataset.test_subset': expected an integer in [0, 2147483647], got \"all\""},
        {"dataset = { validation = -5; };\n",
         "1: setting 'dataset.validation': expected an integer in [0, 2147483647], got -5"},
        {"dataset = { normalize = \"zscore\"; };\n",
         "1: setting 'dataset.normalize': expected one of \"none\", \"standard\", got \"zscore\""},
        {"dataset = { plugin = 5; };\n",
         "1: setting 'dataset.plugin': expected a string, got 5"},
        {"accelerator = { plugin = \"\"; };\n",
         "1: setting 'accelerator.plugin': expected a plugin name or a path to a .so, got \"\""},
        {"optimizer = { plugin = [\"a\"]; };\n",
         "1: setting 'optimizer.plugin': expected a string, got [\"a\"]"},
        {"objectives = [];\n",
         "1: setting 'objectives': expected a non-empty list of distinct names from "
         "\"accuracy_drop\", \"energy\", \"latency\", \"memory\", \"params\", \"macs\", got []"},
        {"objectives = [\"energy\", \"energy\"];\n",
         "1: setting 'objectives': expected a non-empty list of distinct names from "
         "\"accuracy_drop\", \"energy\", \"latency\", \"memory\", \"params\", \"macs\", "
         "got [\"energy\", \"energy\"]"},
        {"objectives = [\"latency\", \"enrgy\"];\n",
         "1: setting 'objectives': expected a non-empty list of distinct names from "
         "\"accuracy_drop\", \"energy\", \"latency\", \"memory\", \"params\", \"macs\", "
         "got [\"latency\", \"enrgy\"] (did you mean \"energy\"?)"},
        {"objectives = \"energy\";\n",
         "1: setting 'objectives': expected a non-empty list of distinct names from "
         "\"accuracy_drop\", \"energy\", \"latency\", \"memory\", \"params\", \"macs\", "
         "got \"energy\""},
        {"search = { time_limit_h = -0.25; };\n",
         "1: setting 'search.time_limit_h': expected a number >= 0, got -0.25"},
        {"output = { dir = 5; };\n",
         "1: setting 'output.dir': expected a path (a string), got 5"},
        {"training = 5;\n", "1: setting 'training': expected a group, got 5"},
        {"dataset = \"idx\";\n", "1: setting 'dataset': expected a group, got \"idx\""},
        {"training = { epochs = \"a\\\"b\"; };\n",
         "1: setting 'training.epochs': expected an integer >= 1, got \"a\\\"b\""},
        {"training = { epochs = { n = 1; }; };\n",
         "1: setting 'training.epochs': expected an integer >= 1, got { n = 1; }"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_file_error(cases[i].text, cases[i].msg);
}

static void test_unknown(void **state)
{
    (void)state;
    expect_file_error("seed = 1;\n\ntraining = {\n  epoch = 3;\n};\n",
                      "4: unknown setting 'training.epoch' (did you mean 'training.epochs'?)");
    expect_file_error("trainig = { epochs = 3; };\n",
                      "1: unknown setting 'trainig' (did you mean 'training'?)");
    expect_file_error("epochs = 3;\n",
                      "1: unknown setting 'epochs' (did you mean 'training.epochs'?)");
    expect_file_error("seeds = 3;\n", "1: unknown setting 'seeds' (did you mean 'seed'?)");
    expect_file_error("objective = [\"energy\"];\n",
                      "1: unknown setting 'objective' (did you mean 'objectives'?)");
    expect_file_error("output = { dri = \"x\"; };\n",
                      "1: unknown setting 'output.dri' (did you mean 'output.dir'?)");
    expect_file_error("search = { time_limit_s = 3; };\n",
                      "1: unknown setting 'search.time_limit_s' (did you mean 'search.time_limit_h'?)");
    expect_file_error("zebra = 1;\n", "1: unknown setting 'zebra' (the top level takes: seed, plugin_path, baselines, objectives, output, training, final_training, search, run, constraints, dataset, accelerator, optimizer, search_space, correlate, layers)");
    /* search_space keys are core keys (docs/SEARCH.md). */
    expect_file_error("search_space = { kernel = [3, 5]; };\n",
                      "1: unknown setting 'search_space.kernel' (did you mean "
                      "'search_space.kernels'?)");
    /* Plugin sections: their other keys wait for the plugin's check. */
    nc_settings s;
    nc_error err;
    assert_int_equal(settings_of("dataset = { zzz = 1; };\naccelerator = { rows = 8; };\n"
                                 "optimizer = { population = 4; };\n",
                                 NULL, 0, &s, &err),
                     NC_OK);
}

static void test_overrides(void **state)
{
    (void)state;
    nc_pipeline *p = NULL;
    nc_settings s;
    nc_error err;
    nc_error_clear(&err);
    const char *path = write_cfg("o.cfg", "seed = 4;\ntraining = { epochs = 9; };\n"
                                          "dataset = { plugin = \"idx\"; };\n");
    const char *sets[] = {
        "training.epochs=2",           /* int, beats the file */
        "training.learning_rate=0.5",  /* real */
        "training.conv_activation=\"none\"",  /* quoted string */
        "dataset.plugin=svhn",         /* plain string fallback */
        "objectives=[\"energy\",\"params\"]",  /* list */
        "search.time_limit_h=2",       /* int where a real is expected */
        "output.dir=out dir/x",        /* does not parse: a plain string */
        "seed=7",
        "seed=8",                      /* the last one wins */
        "accelerator.flag=true",       /* a group created for a bool */
    };
    assert_int_equal(nc_pipeline_load(path, sets, sizeof sets / sizeof sets[0], &p, &err),
                     NC_OK);
    assert_int_equal(nc_pipeline_settings(p, &s, &err), NC_OK);
    assert_int_equal(s.training.epochs, 2);
    assert_true(s.training.learning_rate == 0.5);
    assert_string_equal(conv_activation(p), "none");
    assert_string_equal(s.dataset.plugin, "svhn");
    assert_int_equal(s.n_objectives, 2);
    assert_int_equal(s.objectives[1], NC_OBJ_PARAMS);
    assert_true(s.search.time_limit_h == 2.0);
    /* From --set: relative to the current directory, not the file's. */
    assert_string_equal(s.output_dir, "out dir/x");
    assert_int_equal(s.seed, 8);
    nc_settings_free(&s);

    const nc_section *acc = nc_pipeline_section(p, "accelerator");
    int flag = 0;
    assert_int_equal(nc_section_get_bool(acc, "flag", 0, &flag, &err), NC_OK);
    assert_int_equal(flag, 1);
    char where[256];
    nc_section_where(acc, "flag", where, sizeof where);
    assert_string_equal(where, "--set accelerator.flag");
    nc_section_where(nc_pipeline_section(p, ""), "seed", where, sizeof where);
    assert_string_equal(where, "--set seed");
    nc_pipeline_free(p);

    /* Replacing a value of another type, and a whole group. */
    const char *sets2[] = {"training={ epochs = 3; }", "dataset.plugin=[1,2]"};
    assert_int_equal(nc_pipeline_load(path, sets2, 1, &p, &err), NC_OK);
    assert_int_equal(nc_pipeline_settings(p, &s, &err), NC_OK);
    assert_int_equal(s.training.epochs, 3);
    nc_settings_free(&s);
    nc_pipeline_free(p);
    assert_int_equal(nc_pipeline_load(path, sets2 + 1, 1, &p, &err), NC_OK);
    assert_int_equal(nc_pipeline_settings(p, &s, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "--set dataset.plugin: setting 'dataset.plugin': "
                                 "expected a string, got [1, 2]");
    nc_pipeline_free(p);

    /* Messages about a --set value name the override. */
    const char *bad[] = {"training.epochs=five"};
    assert_int_equal(nc_pipeline_load(path, bad, 1, &p, &err), NC_OK);
    assert_int_equal(nc_pipeline_settings(p, &s, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "--set training.epochs: setting 'training.epochs': "
                                 "expected an integer >= 1, got \"five\"");
    nc_pipeline_free(p);
    const char *unknown[] = {"training.epoch=3"};
    assert_int_equal(nc_pipeline_load(path, unknown, 1, &p, &err), NC_OK);
    assert_int_equal(nc_pipeline_settings(p, &s, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "--set training.epoch: unknown setting "
                                 "'training.epoch' (did you mean 'training.epochs'?)");
    nc_pipeline_free(p);

    /* Without a file. */
    const char *onlyset[] = {"training.routings=4", "dataset.normalize=none"};
    assert_int_equal(nc_pipeline_load(NULL, onlyset, 2, &p, &err), NC_OK);
    assert_int_equal(nc_pipeline_settings(p, &s, &err), NC_OK);
    assert_int_equal(s.training.routings, 4);
    assert_string_equal(s.dataset.normalize, "none");
    nc_pipeline_free(p);

    /* Malformed overrides. */
    static const struct {
        const char *set, *msg;
    } malformed[] = {
        {"foo", "--set foo: expected KEY=VALUE"},
        {"=5", "--set =5: expected KEY=VALUE"},
        {"training..epochs=5", "--set training..epochs=5: 'training..epochs' is not a "
                               "setting name (dot-separated names of letters, digits, "
                               "'_' and '-')"},
        {"training.=5", "--set training.=5: 'training.' is not a setting name"},
        {"1abc=5", "--set 1abc=5: '1abc' is not a setting name (dot-separated names "
                   "of letters, digits, '_' and '-')"},
        {"seed.x=5", NULL},   /* seed is not a group: see below */
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        const char *one[] = {malformed[i].set};
        p = (nc_pipeline *)&err;   /* must be reset to NULL */
        assert_int_equal(nc_pipeline_load(path, one, 1, &p, &err), NC_ERR_INPUT);
        assert_null(p);
        if (malformed[i].msg)
            assert_string_equal(err.msg, malformed[i].msg);
    }
    char want[4300];
    snprintf(want, sizeof want, "--set seed.x=5: 'seed' is not a group (set at %s:1)",
             path);
    assert_string_equal(err.msg, want);
}

static void test_literals(void **state)
{
    (void)state;
    nc_pipeline *p = NULL;
    nc_error err;
    nc_error_clear(&err);
    const char *sets[] = {"a.i=5",        "a.neg=-3",        "a.big=12345678901",
                          "a.r=0.1",      "a.e=1e-3",        "a.s=\"x y\"",
                          "a.b=true",     "a.f=false",       "a.l=[1,2]",
                          "a.sl=[\"a\",\"b\"]", "a.plain=svhn", "a.empty=",
                          "a.two=1; b=2", "a.h=0x10",  "a.nbig=-3000000000",
                          "a.lbig=[1, 3000000000]"};
    assert_int_equal(nc_pipeline_load(NULL, sets, sizeof sets / sizeof sets[0], &p, &err),
                     NC_OK);
    const nc_section *a = nc_pipeline_section(p, "a");
    assert_string_equal(nc_section_path(a), "a");
    int64_t i64;
    double r;
    int b;
    const char *str;
    assert_int_equal(nc_section_get_int(a, "i", 0, INT64_MIN, INT64_MAX, &i64, &err), NC_OK);
    assert_int_equal(i64, 5);
    assert_int_equal(nc_section_get_int(a, "neg", 0, INT64_MIN, INT64_MAX, &i64, &err), NC_OK);
    assert_int_equal(i64, -3);
    assert_int_equal(nc_section_get_int(a, "big", 0, INT64_MIN, INT64_MAX, &i64, &err), NC_OK);
    assert_int_equal(i64, 12345678901LL);
    assert_int_equal(nc_section_get_int(a, "nbig", 0, INT64_MIN, INT64_MAX, &i64, &err),
                     NC_OK);
    assert_int_equal(i64, -3000000000LL);
    /* libconfig 1.5 would wrap it inside a list: kept as text instead. */
    assert_int_equal(nc_section_get_string(a, "lbig", NULL, &str, &err), NC_OK);
    assert_string_equal(str, "[1, 3000000000]");
    assert_int_equal(nc_section_get_int(a, "h", 0, INT64_MIN, INT64_MAX, &i64, &err), NC_OK);
    assert_int_equal(i64, 16);
    assert_int_equal(nc_section_get_real(a, "r", 0, -1e9, 1e9, &r, &err), NC_OK);
    assert_true(r == 0.1);
    assert_int_equal(nc_section_get_real(a, "e", 0, -1e9, 1e9, &r, &err), NC_OK);
    assert_true(r == 1e-3);
    assert_int_equal(nc_section_get_real(a, "i", 0, -1e9, 1e9, &r, &err), NC_OK);
    assert_true(r == 5.0);
    assert_int_equal(nc_section_get_string(a, "s", NULL, &str, &err), NC_OK);
    assert_string_equal(str, "x y");
    assert_int_equal(nc_section_get_bool(a, "b", 0, &b, &err), NC_OK);
    assert_int_equal(b, 1);
    assert_int_equal(nc_section_get_bool(a, "f", 1, &b, &err), NC_OK);
    assert_int_equal(b, 0);
    int64_t *list = NULL;
    size_t n = 0;
    assert_int_equal(nc_section_get_int_list(a, "l", 1, 2, &list, &n, &err), NC_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0], 1);
    assert_int_equal(list[1], 2);
    free(list);
    const char **sl = NULL;
    assert_int_equal(nc_section_get_string_list(a, "sl", &sl, &n, &err), NC_OK);
    assert_int_equal(n, 2);
    assert_string_equal(sl[0], "a");
    assert_string_equal(sl[1], "b");
    free(sl);
    assert_int_equal(nc_section_get_string(a, "plain", NULL, &str, &err), NC_OK);
    assert_string_equal(str, "svhn");
    assert_int_equal(nc_section_get_string(a, "empty", NULL, &str, &err), NC_OK);
    assert_string_equal(str, "");
    /* Not one literal: kept as written. */
    assert_int_equal(nc_section_get_string(a, "two", NULL, &str, &err), NC_OK);
    assert_string_equal(str, "1; b=2");
    assert_int_equal(nc_section_has(nc_pipeline_section(p, ""), "b"), 0);
    nc_pipeline_free(p);
}

static void test_include(void **state)
{
    (void)state;
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_cfg("sub/common.cfg", "# shared settings\n"
                                "training = {\n"
                                "  epochs = 0;\n"
                                "};\n");
    const char *main_cfg = write_cfg("sub/p.cfg", "seed = 2;\n@include \"common.cfg\"\n");
    nc_pipeline *p = NULL;
    nc_settings s;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_pipeline_load(main_cfg, NULL, 0, &p, &err), NC_OK);
    assert_int_equal(nc_pipeline_settings(p, &s, &err), NC_ERR_INPUT);
    char want[4500];
    snprintf(want, sizeof want, "%s/sub/common.cfg:3: setting 'training.epochs': "
             "expected an integer >= 1, got 0", dir);
    assert_string_equal(err.msg, want);
    nc_pipeline_free(p);

    /* An override fixes it; paths set in the included file resolve
     * against the pipeline's folder (where the include lives). */
    const char *fix[] = {"training.epochs=3"};
    write_cfg("sub/common.cfg", "training = { epochs = 0; };\n"
                                "output = { dir = \"res\"; };\n");
    assert_int_equal(nc_pipeline_load(main_cfg, fix, 1, &p, &err), NC_OK);
    assert_int_equal(nc_pipeline_settings(p, &s, &err), NC_OK);
    assert_int_equal(s.seed, 2);
    assert_int_equal(s.training.epochs, 3);
    snprintf(want, sizeof want, "%s/sub/res", dir);
    assert_string_equal(s.output_dir, want);
    nc_settings_free(&s);
    nc_pipeline_free(p);

    /* Syntax errors: in the included file, and in the pipeline itself. */
    write_cfg("sub/common.cfg", "training = {\n  epochs = ;\n};\n");
    assert_int_equal(nc_pipeline_load(main_cfg, NULL, 0, &p, &err), NC_ERR_INPUT);
    assert_null(p);
    snprintf(want, sizeof want, "%s/sub/common.cfg:2: syntax error", dir);
    assert_string_equal(err.msg, want);

    const char *broken = write_cfg("broken.cfg", "seed = 1;\ntraining = { epochs = 3 \n");
    assert_int_equal(nc_pipeline_load(broken, NULL, 0, &p, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s/broken.cfg:3: syntax error", dir);
    assert_string_equal(err.msg, want);

    const char *noinc = write_cfg("noinc.cfg", "seed = 1;\n@include \"missing.cfg\"\n");
    assert_int_equal(nc_pipeline_load(noinc, NULL, 0, &p, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s/noinc.cfg:2: @include: %s/missing.cfg: cannot open: No such "
             "file or directory", dir, dir);
    assert_string_equal(err.msg, want);

    /* Checked before libconfig sees them: a folder (its scanner would exit
     * the process), a FIFO (would block), a NUL byte. */
    char adir[4200];
    snprintf(adir, sizeof adir, "%s/adir", dir);
    assert_int_equal(mkdir(adir, 0755), 0);
    const char *incdir = write_cfg("incdir.cfg", "seed = 1;\n\n@include \"adir\"\n");
    assert_int_equal(nc_pipeline_load(incdir, NULL, 0, &p, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s/incdir.cfg:3: @include: %s/adir: cannot read: a "
             "directory, not a regular file", dir, dir);
    assert_string_equal(err.msg, want);
    char fifo[4200];
    snprintf(fifo, sizeof fifo, "%s/fifo.cfg", dir);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    assert_int_equal(nc_pipeline_load(fifo, NULL, 0, &p, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: cannot read: a FIFO, not a regular file", fifo);
    assert_string_equal(err.msg, want);
    const char *incfifo = write_cfg("incfifo.cfg", "@include \"fifo.cfg\"\n");
    assert_int_equal(nc_pipeline_load(incfifo, NULL, 0, &p, &err), NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "incfifo.cfg:1: @include: "));
    snprintf(want, sizeof want, "%s/nul.cfg", dir);
    nc_test_write_file(want, "seed = 1;\0\n", 11);
    assert_int_equal(nc_pipeline_load(want, NULL, 0, &p, &err), NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "nul.cfg: byte 9: a NUL byte: not a text file"));
    /* larger than a pipeline may be: refused from its size, before reading
     * (a sparse file: no 17 MiB written) */
    snprintf(want, sizeof want, "%s/huge.cfg", dir);
    assert_int_equal(truncate(want, 0), -1);   /* not there yet */
    nc_test_write_file(want, "seed = 1;\n", 10);
    assert_int_equal(truncate(want, 17 << 20), 0);
    assert_int_equal(nc_pipeline_load(want, NULL, 0, &p, &err), NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "huge.cfg: 17825792 bytes, more than a pipeline may have "
                                    "(16777216)"));

    snprintf(want, sizeof want, "%s/absent.cfg", dir);
    assert_int_equal(nc_pipeline_load(want, NULL, 0, &p, &err), NC_ERR_INPUT);
    strcat(want, ": cannot open: No such file or directory");
    assert_string_equal(err.msg, want);

    /* Integers libconfig 1.5 would silently wrap to 32 bits. */
    static const struct {
        const char *text, *msg;
    } wide[] = {
        {"seed = 12345678901;\n", "1: integer 12345678901 does not fit in 32 bits: "
                                  "write it as 12345678901L"},
        {"# 99999999999 in a comment\ns = \"77777777777\";\nx-1 = 2;\n"
         "l = [1,\n -2147483649];\n",
         "5: integer -2147483649 does not fit in 32 bits: write it as -2147483649L"},
        {"h = 0x100000000;\n", "1: integer 0x100000000 does not fit in 32 bits: "
                                "write it as 0x100000000L"},
        {"b = 99999999999999999999L;\n",
         "1: integer 99999999999999999999L does not fit in 64 bits"},
    };
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++) {
        const char *w = write_cfg("wide.cfg", wide[i].text);
        assert_int_equal(nc_pipeline_load(w, NULL, 0, &p, &err), NC_ERR_INPUT);
        snprintf(want, sizeof want, "%s:%s", w, wide[i].msg);
        assert_string_equal(err.msg, want);
    }
    const char *fine = write_cfg("fine.cfg", "a = 2147483647; b = -2147483648; "
                                 "c = 1e20; d = 12345678901L; e = 0xFFFFFFFF; "
                                 "f = 1.5e+20; g2 = 3;\n/* 99999999999 */\n");
    assert_int_equal(nc_pipeline_load(fine, NULL, 0, &p, &err), NC_OK);
    nc_pipeline_free(p);

    assert_int_equal(nc_pipeline_load(dir, NULL, 0, &p, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: cannot read: a directory, not a regular file", dir);
    assert_string_equal(err.msg, want);
}

static const nc_setting_spec fake_spec[] = {
    NC_SETTING_INT_MIN("rows", 16, 1, "PE rows"),
    NC_SETTING_INT_MIN("cols", 16, 1, "PE columns"),
    NC_SETTING_PATH("pe_table", "table"),
    NC_SETTING_END,
};

/* The section check nc_plugin_open makes: `plugin`, the host's keys, the
 * plugin's. */
static int check_section(const nc_pipeline *p, const char *path, int kind,
                         const nc_setting_spec *host, const nc_setting_spec *plugin,
                         nc_error *err)
{
    const nc_setting_spec *const tables[] = {nc_plugin_key_settings(kind),
                                             host ? host : plugin, host ? plugin : NULL,
                                             NULL};
    return nc_pipeline_check_keys(p, path, tables, NULL, err);
}

static void test_check_section(void **state)
{
    (void)state;
    nc_pipeline *p = NULL;
    nc_error err;
    nc_error_clear(&err);
    const char *path = write_cfg("acc.cfg", "accelerator = {\n  plugin = \"capsacc\";\n"
                                            "  rows = 8;\n  rowz = 4;\n};\n"
                                            "dataset = { plugin = \"idx\"; train_subset = 5; };\n");
    assert_int_equal(nc_pipeline_load(path, NULL, 0, &p, &err), NC_OK);
    assert_int_equal(check_section(p, "accelerator", NC_KIND_ACCELERATOR, NULL, fake_spec, &err),
                     NC_ERR_INPUT);
    char want[4300];
    snprintf(want, sizeof want,
             "%s:4: unknown setting 'accelerator.rowz' (did you mean 'accelerator.rows'?)",
             path);
    assert_string_equal(err.msg, want);
    /* Core keys of the section are known without the plugin's spec. */
    assert_int_equal(check_section(p, "dataset", NC_KIND_DATASET, nc_data_settings, NULL, &err), NC_OK);
    assert_int_equal(check_section(p, "optimizer", NC_KIND_OPTIMIZER, NULL, NULL, &err), NC_OK);
    nc_pipeline_free(p);

    const char *sets[] = {"accelerator.pe_tabel=\"x.csv\"", "accelerator.cols=4"};
    assert_int_equal(nc_pipeline_load(NULL, sets, 2, &p, &err), NC_OK);
    assert_int_equal(check_section(p, "accelerator", NC_KIND_ACCELERATOR, NULL, fake_spec, &err),
                     NC_ERR_INPUT);
    assert_string_equal(err.msg, "--set accelerator.pe_tabel: unknown setting "
                                 "'accelerator.pe_tabel' (did you mean 'accelerator.pe_table'?)");
    nc_pipeline_free(p);

    const char *ok[] = {"accelerator.pe_table=\"x.csv\"", "accelerator.plugin=capsacc"};
    assert_int_equal(nc_pipeline_load(NULL, ok, 2, &p, &err), NC_OK);
    assert_int_equal(check_section(p, "accelerator", NC_KIND_ACCELERATOR, NULL, fake_spec, &err), NC_OK);
    const char *dsets[] = {"dataset.images=\"x\""};
    nc_pipeline_free(p);
    assert_int_equal(nc_pipeline_load(NULL, dsets, 1, &p, &err), NC_OK);
    assert_int_equal(check_section(p, "dataset", NC_KIND_DATASET, nc_data_settings, NULL, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "--set dataset.images: unknown setting 'dataset.images' (section 'dataset' takes: "
                                 "plugin, train_subset, test_subset, validation, normalize)");
    nc_pipeline_free(p);
}

static void test_getters(void **state)
{
    (void)state;
    nc_error err;
    nc_error_clear(&err);
    /* A section without any pipeline reads defaults. */
    const nc_section *none = nc_pipeline_section(NULL, "accelerator");
    int64_t i64;
    double r;
    int b, idx;
    const char *str;
    char *path;
    char where[256];
    assert_int_equal(nc_section_get_int(none, "rows", 16, 1, 64, &i64, &err), NC_OK);
    assert_int_equal(i64, 16);
    assert_int_equal(nc_section_get_real(none, "period_ns", 3, 0, 100, &r, &err), NC_OK);
    assert_true(r == 3.0);
    assert_int_equal(nc_section_get_bool(NULL, "x", 1, &b, &err), NC_OK);
    assert_int_equal(b, 1);
    assert_int_equal(nc_section_get_string(none, "s", "d", &str, &err), NC_OK);
    assert_string_equal(str, "d");
    static const char *const sel[] = {"tournament", "random", NULL};
    assert_int_equal(nc_section_get_choice(none, "sel", "random", sel, &idx, &err), NC_OK);
    assert_int_equal(idx, 1);
    assert_int_equal(nc_section_get_path(none, "table", NULL, &path, &err), NC_OK);
    assert_null(path);
    assert_int_equal(nc_section_has(none, "rows"), 0);
    nc_section_where(none, "rows", where, sizeof where);
    assert_string_equal(where, "defaults");

    const char *cfg = write_cfg("g.cfg",
                                "accelerator = {\n"
                                "  rows = 4;\n"
                                "  period = 2;\n"
                                "  on = \"yes\";\n"
                                "  table = \"tables/pe.csv\";\n"
                                "  abs = \"/x/y.csv\";\n"
                                "  sel = \"best\";\n"
                                "  ks = [3, 5, 11];\n"
                                "  names = (\"a\", 1);\n"
                                "  n = 7L;\n"
                                "};\n");
    nc_pipeline *p = NULL;
    assert_int_equal(nc_pipeline_load(cfg, NULL, 0, &p, &err), NC_OK);
    const nc_section *acc = nc_pipeline_section(p, "accelerator");
    assert_ptr_equal(acc, nc_pipeline_section(p, "accelerator"));
    assert_string_equal(nc_section_path(acc), "accelerator");
    assert_int_equal(nc_section_has(acc, "rows"), 1);
    nc_section_where(acc, "rows", where, sizeof where);
    char want[4400];
    snprintf(want, sizeof want, "%s:2", cfg);
    assert_string_equal(where, want);
    nc_section_where(acc, "cols", where, sizeof where);
    snprintf(want, sizeof want, "%s:1", cfg);
    assert_string_equal(where, want);   /* unset: the section's own place */

    assert_int_equal(nc_section_get_int(acc, "rows", 16, 8, 64, &i64, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s:2: setting 'accelerator.rows': expected an integer "
             "in [8, 64], got 4", cfg);
    assert_string_equal(err.msg, want);
    assert_int_equal(nc_section_get_int(acc, "rows", 16, INT64_MIN, 3, &i64, &err),
                     NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s:2: setting 'accelerator.rows': expected an integer "
             "<= 3, got 4", cfg);
    assert_string_equal(err.msg, want);
    assert_int_equal(nc_section_get_int(acc, "n", 0, 0, 10, &i64, &err), NC_OK);
    assert_int_equal(i64, 7);

    assert_int_equal(nc_section_get_real(acc, "period", 3, 0.5, 1.5, &r, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s:3: setting 'accelerator.period': expected a number "
             "in [0.5, 1.5], got 2", cfg);
    assert_string_equal(err.msg, want);
    assert_int_equal(nc_section_get_real_above(acc, "period", 3, 2, 1e300, &r, &err),
                     NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s:3: setting 'accelerator.period': expected a number "
             "in (2, 1e+300], got 2", cfg);
    assert_string_equal(err.msg, want);
    assert_int_equal(nc_section_get_real(acc, "period", 3, -HUGE_VAL, HUGE_VAL, &r, &err),
                     NC_OK);
    assert_true(r == 2.0);

    assert_int_equal(nc_section_get_bool(acc, "on", 0, &b, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s:4: setting 'accelerator.on': expected true or false, "
             "got \"yes\"", cfg);
    assert_string_equal(err.msg, want);
    assert_int_equal(nc_section_get_string(acc, "rows", NULL, &str, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s:2: setting 'accelerator.rows': expected a string, "
             "got 4", cfg);
    assert_string_equal(err.msg, want);
    assert_int_equal(nc_section_get_choice(acc, "sel", "random", sel, &idx, &err),
                     NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s:7: setting 'accelerator.sel': expected one of "
             "\"tournament\", \"random\", got \"best\"", cfg);
    assert_string_equal(err.msg, want);

    assert_int_equal(nc_section_get_path(acc, "table", NULL, &path, &err), NC_OK);
    snprintf(want, sizeof want, "%s/tables/pe.csv", dir);
    assert_string_equal(path, want);
    free(path);
    assert_int_equal(nc_section_get_path(acc, "abs", NULL, &path, &err), NC_OK);
    assert_string_equal(path, "/x/y.csv");
    free(path);
    assert_int_equal(nc_section_get_path(acc, "other", "def.csv", &path, &err), NC_OK);
    assert_string_equal(path, "def.csv");
    free(path);

    int64_t *ks = NULL;
    size_t n = 0;
    assert_int_equal(nc_section_get_int_list(acc, "ks", 1, 9, &ks, &n, &err), NC_ERR_INPUT);
    assert_null(ks);
    snprintf(want, sizeof want, "%s:8: setting 'accelerator.ks': expected a list of "
             "integers in [1, 9], got [3, 5, 11]", cfg);
    assert_string_equal(err.msg, want);
    assert_int_equal(nc_section_get_int_list(acc, "ks", 1, INT64_MAX, &ks, &n, &err), NC_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ks[2], 11);
    free(ks);
    assert_int_equal(nc_section_get_int_list(acc, "none", 1, 9, &ks, &n, &err), NC_OK);
    assert_null(ks);
    assert_int_equal(n, 0);
    const char **names = NULL;
    assert_int_equal(nc_section_get_string_list(acc, "names", &names, &n, &err),
                     NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s:9: setting 'accelerator.names': expected a list of "
             "strings, got (\"a\", 1)", cfg);
    assert_string_equal(err.msg, want);

    assert_int_equal(nc_section_error(acc, "rows", &err, "needs %d more", 2), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s:2: setting 'accelerator.rows': needs 2 more", cfg);
    assert_string_equal(err.msg, want);

    /* Dotted keys from the root; the absent section of an existing file. */
    const nc_section *root = nc_pipeline_section(p, "");
    assert_int_equal(nc_section_get_int(root, "accelerator.rows", 0, 0, 9, &i64, &err), NC_OK);
    assert_int_equal(i64, 4);
    const nc_section *ds = nc_pipeline_section(p, "dataset");
    assert_int_equal(nc_section_has(ds, "plugin"), 0);
    nc_section_where(ds, "plugin", where, sizeof where);
    assert_string_equal(where, cfg);
    nc_pipeline_free(p);
}

static void test_text_roundtrip(void **state)
{
    (void)state;
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_cfg("inc.cfg", "accelerator = { plugin = \"capsacc\"; rows = 8; "
                         "period_ns = 0.30000000000000004; big = 9000000000L;"
                         " note = \"tab\\there \\\"q\\\" back\\\\slash\"; };\n");
    const char *path = write_cfg("p.cfg",
                                 "seed = 99;\n@include \"inc.cfg\"\n"
                                 "plugin_path = [\"/opt/plugins\"];\n"
                                 "training = { epochs = 4; learning_rate = 1e-4;"
                                 " lr_decay = 0.95; conv_activation = \"none\"; };\n"
                                 "objectives = (\"energy\", \"latency\");\n"
                                 "output = { dir = \"/tmp/out\"; };\n"
                                 "optimizer = { plugin = \"random\"; ks = [1, 2, 3];"
                                 " mixed = (1, \"a\", [2.5]); flag = false; h = 0x1F; };\n");
    const char *sets[] = {"training.routings=5", "dataset.plugin=synthetic",
                          "training.shift_fraction=0.25"};
    nc_pipeline *p = NULL, *q = NULL;
    nc_settings a, b;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_pipeline_load(path, sets, 3, &p, &err), NC_OK);
    assert_int_equal(nc_pipeline_settings(p, &a, &err), NC_OK);
    char *text = nc_pipeline_text(p);
    assert_non_null(text);
    assert_non_null(strstr(text, "routings = 5;"));
    assert_non_null(strstr(text, "big = 9000000000L;"));
    assert_non_null(strstr(text, "period_ns = 0.30000000000000004;"));
    assert_null(strstr(text, "@include"));

    /* Same name in another folder: the same settings. */
    char again[4300];
    snprintf(again, sizeof again, "%s/sub/p.cfg", dir);
    nc_test_write_file(again, text, strlen(text));
    assert_int_equal(nc_pipeline_load(again, NULL, 0, &q, &err), NC_OK);
    assert_int_equal(nc_pipeline_settings(q, &b, &err), NC_OK);
    assert_int_equal(a.seed, b.seed);
    assert_int_equal(a.n_plugin_path, b.n_plugin_path);
    assert_string_equal(a.plugin_path[0], b.plugin_path[0]);
    assert_string_equal(a.dataset.plugin, b.dataset.plugin);
    assert_int_equal(a.training.epochs, b.training.epochs);
    assert_int_equal(a.training.routings, b.training.routings);
    assert_true(a.training.learning_rate == b.training.learning_rate);
    assert_true(a.training.lr_decay == b.training.lr_decay);
    assert_true(a.training.shift_fraction == b.training.shift_fraction);
    assert_int_equal(a.n_objectives, b.n_objectives);
    assert_memory_equal(a.objectives, b.objectives, sizeof a.objectives);
    assert_string_equal(a.accelerator_plugin, b.accelerator_plugin);
    assert_string_equal(a.optimizer_plugin, b.optimizer_plugin);
    assert_string_equal(a.output_dir, b.output_dir);
    /* And the same text: nothing lost, plugin keys included. */
    char *text2 = nc_pipeline_text(q);
    assert_string_equal(text, text2);
    const char *note;
    assert_int_equal(nc_section_get_string(nc_pipeline_section(q, "accelerator"), "note",
                                           NULL, &note, &err), NC_OK);
    assert_string_equal(note, "tab\there \"q\" back\\slash");
    double period;
    assert_int_equal(nc_section_get_real(nc_pipeline_section(q, "accelerator"), "period_ns",
                                         0, 0, 1, &period, &err), NC_OK);
    assert_true(period == 0.30000000000000004);
    free(text);
    free(text2);
    nc_settings_free(&a);
    nc_settings_free(&b);
    nc_pipeline_free(p);
    nc_pipeline_free(q);

    /* No file: the overrides alone; nothing at all: empty text. */
    assert_int_equal(nc_pipeline_load(NULL, NULL, 0, &p, &err), NC_OK);
    text = nc_pipeline_text(p);
    assert_string_equal(text, "");
    free(text);
    nc_pipeline_free(p);
}

static void test_nearest(void **state)
{
    (void)state;
    static const char *const names[] = {"epochs", "batch_size", "learning_rate",
                                        "lr_decay", "routings", "threads"};
    const size_t n = sizeof names / sizeof names[0];
    assert_string_equal(nc_nearest_name("epoch", names, n), "epochs");
    assert_string_equal(nc_nearest_name("epochs", names, n), "epochs");
    assert_string_equal(nc_nearest_name("batchsize", names, n), "batch_size");
    assert_string_equal(nc_nearest_name("learningrate", names, n), "learning_rate");
    assert_string_equal(nc_nearest_name("threds", names, n), "threads");
    assert_string_equal(nc_nearest_name("routing", names, n), "routings");
    /* Two edits are always allowed, more only for long words (len/3). */
    assert_string_equal(nc_nearest_name("epocsh", names, n), "epochs");
    assert_null(nc_nearest_name("zzz", names, n));
    assert_null(nc_nearest_name("size", names, n));
    assert_string_equal(nc_nearest_name("lerning_rat", names, n), "learning_rate");
    assert_null(nc_nearest_name("lrn_rt", names, n));
    assert_null(nc_nearest_name("epoch", names, 0));
    assert_null(nc_nearest_name("epoch", NULL, 0));
    /* The first of equally near candidates wins. */
    static const char *const ties[] = {"ab", "ba"};
    assert_string_equal(nc_nearest_name("aa", ties, 2), "ab");
}

/* Every key the core owns is documented: docs/CONFIG.md names each as
 * `section.key`, with its table's default and help present. */
static void check_documented(const char *doc, const char *path,
                             const nc_setting_spec *table, size_t *count)
{
    for (const nc_setting_spec *k = table; k->name; k++) {
        char quoted[160];
        snprintf(quoted, sizeof quoted, "`%s%s%s`", path, *path ? "." : "", k->name);
        if (!strstr(doc, quoted))
            fail_msg("docs/CONFIG.md does not document %s", quoted);
        assert_non_null(k->default_text);
        assert_non_null(k->help);
        (*count)++;
    }
}

static void test_docs_list_every_key(void **state)
{
    (void)state;
    char *doc = nc_test_read_file(NC_TEST_SOURCE_DIR "/docs/CONFIG.md", NULL);
    assert_non_null(doc);
    size_t n = 0, i = 0;
    for (const nc_settings_section *sec; (sec = nc_settings_section_at(i)); i++)
        check_documented(doc, sec->path, sec->table, &n);
    static const int kinds[] = {NC_KIND_DATASET, NC_KIND_ACCELERATOR, NC_KIND_OPTIMIZER};
    for (size_t k = 0; k < 3; k++)
        check_documented(doc, nc_plugin_section_of(kinds[k]),
                         nc_plugin_key_settings(kinds[k]), &n);
    assert_true(n >= 45);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_literals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_include, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_section, setup, teardown),
        cmocka_unit_test_setup_teardown(test_getters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_roundtrip, setup, teardown),
        cmocka_unit_test(test_nearest),
        cmocka_unit_test_setup_teardown(test_docs_list_every_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
