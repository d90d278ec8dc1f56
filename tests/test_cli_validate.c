/* test_cli_validate.c - `nascaps validate` on pipelines (with fake
 * plugins from tests/validate/fakes.c) and genotypes: exit codes, output,
 * the one-line messages and the --json line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "nc_test.h"

#define CAPSNET "[[0,28,1,1,9,1,28,256,1],[1,28,256,1,9,2,14,32,8],[1,14,32,8,9,2,7,10,16],[-1],[1]]\n"

static char *dir;

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
    return 0;
}

/* DIR/name with text; returns the path in one of a few static slots. */
static const char *fixture(const char *name, const char *text)
{
    static char paths[6][4096];
    static int slot;
    char *path = paths[slot++ % 6];
    snprintf(path, 4096, "%s/%s", dir, name);
    nc_test_write_file(path, text, strlen(text));
    return path;
}

/* A pipeline using the fake plugins; extra lines appended. */
static const char *pipeline(const char *name, const char *extra)
{
    char text[8192];
    snprintf(text, sizeof text,
             "plugin_path = [\"%s\"];\n"
             "dataset = { plugin = \"fakeds\"; classes = 4; };\n"
             "accelerator = { plugin = \"fakeacc\"; rows = 8; };\n"
             "optimizer = { plugin = \"nsga2\"; population = 6; };\n"
             "%s",
             NC_VALIDATE_PLUGIN_DIR, extra);
    return fixture(name, text);
}

/* Runs `nascaps validate ARGS`; returns the exit status. */
static int validate(const char *args, char **out, char **err)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'%s' validate %s", NC_TEST_CLI, args);
    int rc = nc_test_run(cmd, out, err);
    assert_non_null(*out);
    assert_non_null(*err);
    return rc;
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("expected to find [%s] in [%s]", part, text);
}

static void test_good_pipeline(void **state)
{
    (void)state;
    const char *p = pipeline("good.cfg", "training = { epochs = 2; };\n"
                                         "objectives = [\"energy\", \"params\"];\n");
    char args[4200], want[4300], *out, *err;
    snprintf(args, sizeof args, "'%s'", p);
    assert_int_equal(validate(args, &out, &err), 0);
    assert_string_equal(err, "");
    snprintf(want, sizeof want, "%s: ok\n", p);
    assert_true(strncmp(out, want, strlen(want)) == 0);
    assert_contains(out, "\n  dataset: fakeds: fake data, 8x8x1, 4 classes, 100 train, "
                         "20 test, normalize none\n");
    assert_contains(out, "\n  accelerator: fakeacc: fake accelerator, 8 rows (");
    assert_contains(out, "\n  optimizer: nsga2 (" NC_TEST_PLUGIN_DIR "/nsga2.so)\n");
    assert_contains(out, "\n  objectives: energy, params\n");
    assert_contains(out, "\n  training: 2 epochs, batch 100, seed 1\n");
    assert_contains(out, "\n  output: runs/good\n");
    free(out);
    free(err);

    /* Overrides reach core and plugin settings alike. */
    snprintf(args, sizeof args, "--set dataset.classes=5 '%s' --set accelerator.rows=2", p);
    assert_int_equal(validate(args, &out, &err), 0);
    assert_contains(out, "8x8x1, 5 classes");
    assert_contains(out, "fake accelerator, 2 rows");
    free(out);
    free(err);

    snprintf(args, sizeof args, "--quiet '%s'", p);
    assert_int_equal(validate(args, &out, &err), 0);
    assert_string_equal(out, "");
    assert_string_equal(err, "");
    free(out);
    free(err);
}

static void expect_failure(const char *args, const char *message)
{
    char *out, *err, want[8192];
    assert_int_equal(validate(args, &out, &err), 1);
    snprintf(want, sizeof want, "nascaps: %s\n", message);
    assert_string_equal(err, want);
    assert_string_equal(out, "");
    free(out);
    free(err);
}

static void test_bad_pipelines(void **state)
{
    (void)state;
    char args[4200], msg[8192];
    const char *p;

    p = pipeline("core.cfg", "training = { epochs = \"five\"; };\n");
    snprintf(args, sizeof args, "'%s'", p);
    snprintf(msg, sizeof msg, "%s:5: setting 'training.epochs': expected an integer "
             ">= 1, got \"five\"", p);
    expect_failure(args, msg);

    p = pipeline("unknown.cfg", "trainig = { epochs = 3; };\n");
    snprintf(args, sizeof args, "'%s'", p);
    snprintf(msg, sizeof msg, "%s:5: unknown setting 'trainig' (did you mean 'training'?)", p);
    expect_failure(args, msg);

    /* A key the plugin does not declare. */
    p = pipeline("plugkey.cfg", "dataset = { clases = 4; };\n");
    snprintf(args, sizeof args, "'%s'", p);
    /* libconfig refuses the duplicate group first: a syntax error. */
    snprintf(msg, sizeof msg, "%s:5: syntax error: duplicate setting name", p);
    expect_failure(args, msg);
    snprintf(args, sizeof args, "'%s'", pipeline("plugkey.cfg", ""));
    snprintf(args + strlen(args), sizeof args - strlen(args), " --set dataset.clases=4");
    expect_failure(args, "--set dataset.clases: unknown setting 'dataset.clases' "
                         "(did you mean 'dataset.classes'?)");
    p = pipeline("acckey.cfg", "");
    snprintf(args, sizeof args, "--set optimizer.populaton=3 '%s'", p);
    expect_failure(args, "--set optimizer.populaton: unknown setting "
                         "'optimizer.populaton' (did you mean 'optimizer.population'?)");

    /* A value the plugin refuses when it opens / creates. */
    p = pipeline("plugval.cfg", "");
    snprintf(args, sizeof args, "--set accelerator.rows=100 '%s'", p);
    expect_failure(args, "--set accelerator.rows: setting 'accelerator.rows': expected "
                         "an integer in [1, 64], got 100");
    snprintf(args, sizeof args, "--set dataset.refuse=true '%s'", p);
    expect_failure(args, "--set dataset.refuse: setting 'dataset.refuse': the fake "
                         "dataset refuses");

    /* A core value given with --set. */
    snprintf(args, sizeof args, "'%s' --set training.routings=0", p);
    expect_failure(args, "--set training.routings: setting 'training.routings': expected "
                         "an integer in [1, 10], got 0");

    /* A plugin nobody provides: the message names the setting's place. */
    p = fixture("noplug.cfg", "dataset = {\n  plugin = \"nosuch\";\n};\n");
    snprintf(args, sizeof args, "'%s'", p);
    char *out, *err;
    assert_int_equal(validate(args, &out, &err), 1);
    snprintf(msg, sizeof msg, "nascaps: %s:2: ", p);
    assert_true(strncmp(err, msg, strlen(msg)) == 0);
    assert_contains(err, "nosuch");
    assert_non_null(strchr(err, '\n'));
    assert_string_equal(strchr(err, '\n'), "\n");   /* one line */
    free(out);
    free(err);

    p = fixture("syntax.cfg", "seed = 1;\ntraining = { epochs = ; };\n");
    snprintf(args, sizeof args, "'%s'", p);
    snprintf(msg, sizeof msg, "%s:2: syntax error", p);
    expect_failure(args, msg);

    snprintf(args, sizeof args, "'%s/missing.cfg'", dir);
    snprintf(msg, sizeof msg, "%s/missing.cfg: cannot open: No such file or directory", dir);
    expect_failure(args, msg);

    p = fixture("notes.txt", "hello\n");
    snprintf(args, sizeof args, "'%s'", p);
    snprintf(msg, sizeof msg, "%s: unknown kind of file (expected a pipeline .cfg or a "
             "genotype .chr or .json)", p);
    expect_failure(args, msg);
}

static void test_several_files_and_json(void **state)
{
    (void)state;
    const char *good = pipeline("a.cfg", "");
    const char *bad = pipeline("b.cfg", "seed = -1;\n");
    char args[9000], want[4300], *out, *err;
    snprintf(args, sizeof args, "--json '%s' '%s'", good, bad);
    assert_int_equal(validate(args, &out, &err), 1);
    snprintf(want, sizeof want, "%s: ok\n", good);
    assert_true(strncmp(out, want, strlen(want)) == 0);
    char msg[4400];
    snprintf(msg, sizeof msg, "%s:5: setting 'seed': expected an integer >= 0, got -1", bad);
    snprintf(want, sizeof want, "nascaps: %s\n", msg);
    assert_string_equal(err, want);

    /* The last line of stdout is the JSON object. */
    size_t n = strlen(out);
    assert_true(n > 1 && out[n - 1] == '\n');
    out[n - 1] = '\0';
    const char *last = strrchr(out, '\n');
    last = last ? last + 1 : out;
    json_error_t jerr;
    json_t *top = json_loads(last, 0, &jerr);
    if (!top)
        fail_msg("not JSON: %s (%s)", last, jerr.text);
    assert_string_equal(json_string_value(json_object_get(top, "command")), "validate");
    assert_true(json_is_false(json_object_get(top, "ok")));
    json_t *files = json_object_get(top, "files");
    assert_int_equal(json_array_size(files), 2);
    json_t *a = json_array_get(files, 0), *b = json_array_get(files, 1);
    assert_string_equal(json_string_value(json_object_get(a, "file")), good);
    assert_true(json_is_true(json_object_get(a, "ok")));
    assert_string_equal(json_string_value(json_object_get(a, "type")), "pipeline");
    json_t *ds = json_object_get(a, "dataset");
    assert_string_equal(json_string_value(json_object_get(ds, "plugin")), "fakeds");
    assert_int_equal(json_integer_value(json_object_get(ds, "classes")), 4);
    assert_int_equal(json_integer_value(json_object_get(ds, "train")), 100);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(a, "accelerator"), "description")),
                        "fake accelerator, 8 rows");
    assert_int_equal(json_array_size(json_object_get(a, "objectives")), 4);
    assert_true(json_is_false(json_object_get(b, "ok")));
    assert_string_equal(json_string_value(json_object_get(b, "error")), msg);
    json_decref(top);
    free(out);
    free(err);

    /* All good: exit 0, "ok": true. */
    snprintf(args, sizeof args, "--json --quiet '%s'", good);
    assert_int_equal(validate(args, &out, &err), 0);
    top = json_loads(out, JSON_DISABLE_EOF_CHECK, &jerr);
    assert_non_null(top);
    assert_true(json_is_true(json_object_get(top, "ok")));
    json_decref(top);
    free(out);
    free(err);
}

static void test_usage(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "",                 /* no file */
        "--bogus x.cfg",    /* unknown option */
        "--set foo x.cfg",  /* --set without = */
        "--set",            /* no value */
        "-c x.cfg",         /* pipelines are FILE arguments */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out, *err;
        assert_int_equal(validate(cases[i], &out, &err), 2);
        assert_contains(err, "nascaps validate: ");
        assert_contains(err, "(see 'nascaps help validate')");
        free(out);
        free(err);
    }
    char *out, *err;
    assert_int_equal(validate("--help", &out, &err), 0);
    assert_contains(out, "usage: nascaps validate");
    assert_contains(out, "--set KEY=VALUE");
    free(out);
    free(err);
}

static void test_genotypes(void **state)
{
    (void)state;
    const char *net = fixture("capsnet.chr", CAPSNET);
    char args[4200], want[4300], *out, *err;
    snprintf(args, sizeof args, "--json '%s'", net);
    int rc = validate(args, &out, &err);
    if (rc != 0)
        fail_msg("validate %s: exit %d: %s", net, rc, err);
    snprintf(want, sizeof want, "%s: ok\n", net);
    assert_true(strncmp(out, want, strlen(want)) == 0);
    assert_contains(out, "28x28x1x1");
    const char *last = strrchr(out, '{') ? strstr(out, "{\"command\"") : NULL;
    assert_non_null(last);
    json_error_t jerr;
    json_t *top = json_loads(last, JSON_DISABLE_EOF_CHECK, &jerr);
    assert_non_null(top);
    json_t *f = json_array_get(json_object_get(top, "files"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "type")), "genotype");
    json_t *layers = json_object_get(f, "layers");
    assert_int_equal(json_array_size(layers), 3);
    /* Layer parameters add up to the network's. */
    json_int_t sum = 0;
    for (size_t i = 0; i < json_array_size(layers); i++)
        sum += json_integer_value(json_object_get(json_array_get(layers, i), "params"));
    assert_int_equal(sum, json_integer_value(json_object_get(f, "params")));
    /* The first layer: a 9x9 conv of 1 -> 256 channels with batch norm
     * (docs/GENOTYPE.md: k2*Cin*C + 2*C); the totals GENOTYPE.md gives. */
    json_t *l1 = json_array_get(layers, 0);
    assert_int_equal(json_integer_value(json_object_get(l1, "params")),
                     9 * 9 * 1 * 256 + 2 * 256);
    assert_int_equal(json_integer_value(json_object_get(f, "params")), 13358080);
    assert_int_equal(json_integer_value(json_object_get(f, "decoder_params")), 158769);
    assert_contains(out, "  total: params 13358080, decoder_params 158769, MACs ");
    json_decref(top);
    free(out);
    free(err);

    const char *bad = fixture("bad.chr", "[[0,28]]\n");
    snprintf(args, sizeof args, "'%s'", bad);
    assert_int_equal(validate(args, &out, &err), 1);
    snprintf(want, sizeof want, "nascaps: %s", bad);
    assert_true(strncmp(err, want, strlen(want)) == 0);
    assert_string_equal(strchr(err, '\n'), "\n");
    free(out);
    free(err);
}

/* Only `nascaps run` needs the optimizer: a pipeline leaving it at the
 * default validates while the default is not installed, and says so; one
 * that sets optimizer settings needs the plugin to check them. */
static void test_default_optimizer_absent(void **state)
{
    (void)state;
    char text[8192], args[4200], *out, *err;
    snprintf(text, sizeof text,
             "plugin_path = [\"%s\"];\n"
             "dataset = { plugin = \"fakeds\"; classes = 4; };\n"
             "accelerator = { plugin = \"fakeacc\"; rows = 8; };\n",
             NC_VALIDATE_PLUGIN_DIR);
    const char *p = fixture("noopt.cfg", text);
    snprintf(args, sizeof args, "'%s'", p);
    /* The build tree holds the real nsga2 plugin: then it is found and
     * checks its settings; the "absent" branch runs where it is not. */
    FILE *so = fopen(NC_TEST_PLUGIN_DIR "/nsga2.so", "rb");
    int installed = so != NULL;
    if (so)
        fclose(so);
    assert_int_equal(validate(args, &out, &err), 0);
    if (installed)
        assert_contains(out, "\n  optimizer: nsga2 (" NC_TEST_PLUGIN_DIR "/nsga2.so)\n");
    else
        assert_contains(out, "\n  optimizer: nsga2 (default; not installed: 'nascaps run' "
                             "will need it)\n");
    free(out);
    free(err);

    snprintf(args, sizeof args, "--set optimizer.population=3 '%s'", p);
    assert_int_equal(validate(args, &out, &err), installed ? 0 : 1);
    if (!installed)
        assert_contains(err, "no optimizer plugin named 'nsga2'");
    free(out);
    free(err);
    if (!installed)
        return;
    snprintf(args, sizeof args, "--set optimizer.populaton=3 '%s'", p);
    assert_int_equal(validate(args, &out, &err), 1);
    assert_contains(err, "unknown setting 'optimizer.populaton' (did you mean "
                         "'optimizer.population'?)");
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_pipeline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_pipelines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_several_files_and_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_genotypes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_optimizer_absent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
