/* test_estimate_cli.c - `nascaps estimate` as a user runs it: the TSV, the
 * per-operation breakdown, JSON, refusals and exit codes, and the reference
 * figures (expected.tsv, every reference chromosome). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "nc_test.h"

#define CAPSNET "[[0,28,1,1,9,1,28,256,1],[1,28,256,1,9,2,14,32,8],[1,14,32,8,9,2,7,10,16],[-1],[1]]\n"
/* CapsNet with gene 2's insize broken (chain rule). */
#define BROKEN "[[0,28,1,1,9,1,28,256,1],[1,27,256,1,9,2,14,32,8],[1,14,32,8,9,2,7,10,16],[-1],[1]]\n"

static const char *const header =
    "genotype\tenergy_mJ\tlatency_ms\tmemory_KiB\tweights\tcycles\tparams\tmacs\n";

typedef struct fixture {
    char *dir;
    char capsnet[4200], broken[4200];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = nc_test_tmpdir();
    snprintf(f->capsnet, sizeof f->capsnet, "%s/capsnet.chr", f->dir);
    snprintf(f->broken, sizeof f->broken, "%s/broken.chr", f->dir);
    nc_test_write_file(f->capsnet, CAPSNET, strlen(CAPSNET));
    nc_test_write_file(f->broken, BROKEN, strlen(BROKEN));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    nc_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Runs nascaps with args (a shell fragment); returns the exit status. */
static int run_cli(const char *args, char **out, char **err)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'%s' %s", NC_TEST_CLI, args);
    return nc_test_run(cmd, out, err);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

static void assert_rel(double got, double want, double tol, const char *what)
{
    double rel = fabs(got - want) / fmax(fabs(want), 1e-300);
    if (!(rel <= tol))
        fail_msg("%s: got %.12g, want %.12g (relative error %.3g)", what, got, want, rel);
}

/* The row of path in TSV output: fields after the genotype column. */
static int find_row(const char *tsv, const char *path, double *v, int n)
{
    size_t len = strlen(path);
    for (const char *line = tsv; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, path, len) == 0 && line[len] == '\t') {
            const char *p = line + len;
            for (int i = 0; i < n; i++) {
                char *end;
                if (*p != '\t')
                    return -1;
                v[i] = strtod(p + 1, &end);
                p = end;
            }
            return 0;
        }
    }
    return -1;
}

static void test_tsv(void **state)
{
    fixture *f = *state;
    char args[9000], *out, *err;
    snprintf(args, sizeof args, "estimate '%s'", f->capsnet);
    assert_int_equal(run_cli(args, &out, &err), 0);
    assert_string_equal(err, "");
    assert_int_equal(strncmp(out, header, strlen(header)), 0);
    assert_int_equal(count_lines(out), 2);
    double v[7];
    assert_int_equal(find_row(out, f->capsnet, v, 7), 0);
    /* MODEL.md's worked example */
    assert_rel(v[0], 88.8026186, 1e-6, "energy");
    assert_rel(v[1], 1.82325, 1e-6, "latency");
    assert_rel(v[2], 8572.5625, 1e-9, "memory");
    assert_true(v[3] == 8778304);
    assert_true(v[4] == 2096 + 381968 + 207441 + 5 * 3249);
    free(out);
    free(err);
}

static void test_invalid_genotype_and_others_go_on(void **state)
{
    fixture *f = *state;
    char args[16384], *out, *err;
    snprintf(args, sizeof args, "estimate '%s' '%s/absent.chr' '%s'", f->broken, f->dir,
             f->capsnet);
    assert_int_equal(run_cli(args, &out, &err), 1);
    /* one line per refused file, naming it (and the gene) */
    assert_int_equal(count_lines(err), 2);
    char *second = strchr(err, '\n') + 1;
    assert_non_null(strstr(err, f->broken));
    assert_true(strstr(err, f->broken) < second);
    assert_non_null(strstr(err, "gene 2"));
    assert_non_null(strstr(second, "absent.chr"));
    /* the valid file is still estimated */
    assert_int_equal(count_lines(out), 2);
    double v[3];
    assert_int_equal(find_row(out, f->capsnet, v, 3), 0);
    assert_rel(v[0], 88.8026186, 1e-6, "energy");
    free(out);
    free(err);
}

static void test_usage(void **state)
{
    fixture *f = *state;
    char args[9000], *err;
    assert_int_equal(run_cli("estimate", NULL, &err), 2);
    assert_non_null(strstr(err, "no genotype file given"));
    free(err);
    snprintf(args, sizeof args, "estimate --frobnicate '%s'", f->capsnet);
    assert_int_equal(run_cli(args, NULL, &err), 2);
    assert_non_null(strstr(err, "unknown option '--frobnicate'"));
    free(err);
    snprintf(args, sizeof args, "estimate '%s' --accelerator", f->capsnet);
    assert_int_equal(run_cli(args, NULL, &err), 2);
    free(err);
    /* an accelerator nobody provides is bad input, not usage */
    snprintf(args, sizeof args, "estimate --accelerator nosuchaccel '%s'", f->capsnet);
    assert_int_equal(run_cli(args, NULL, &err), 1);
    assert_non_null(strstr(err, "nosuchaccel"));
    free(err);
}

static void test_layers(void **state)
{
    fixture *f = *state;
    char args[9000], *out;
    snprintf(args, sizeof args, "estimate --layers '%s'", f->capsnet);
    assert_int_equal(run_cli(args, &out, NULL), 0);
    char block[4400];
    snprintf(block, sizeof block,
             "\n# %s\nop\tkind\tin\tout\tk\tcycles\tpower_mW\tenergy_mJ\tlatency_ms\tweights\n",
             f->capsnet);
    char *ops = strstr(out, block);
    assert_non_null(ops);
    ops += strlen(block);
    assert_int_equal(count_lines(ops), 8);
    /* conv1 and the class op of MODEL.md, field by field */
    char name[32], kind[16], in[32], o[32];
    int k;
    double cycles, power, energy, latency, weights;
    assert_int_equal(sscanf(ops, "%31s %15s %31s %31s %d %lf %lf %lf %lf %lf", name, kind, in, o,
                            &k, &cycles, &power, &energy, &latency, &weights),
                     10);
    assert_string_equal(kind, "conv");
    assert_string_equal(in, "28,1,1");
    assert_string_equal(o, "28,256,1");
    assert_int_equal(k, 9);
    assert_true(cycles == 2096 && weights == 20992);
    assert_rel(power, 370.1456, 1e-9, "power");
    assert_rel(energy, 0.00232748, 5e-6, "energy");
    const char *cls = strstr(ops, "\tclass\t");
    assert_non_null(cls);
    assert_int_equal(sscanf(cls, "%15s %31s %31s %d %lf %lf %lf %lf %lf", kind, in, o, &k, &cycles,
                            &power, &energy, &latency, &weights),
                     9);
    assert_true(cycles == 207441 && weights == 3319040);
    assert_rel(power, 126.9488, 1e-9, "power");
    assert_rel(energy, 0.0790032, 5e-6, "energy");
    assert_int_equal(strstr(ops, "\tsum\t") != NULL, 1);
    free(out);
}

static void test_json(void **state)
{
    fixture *f = *state;
    char args[9000], *out, *err;
    snprintf(args, sizeof args, "estimate --json --layers '%s' '%s'", f->capsnet, f->broken);
    assert_int_equal(run_cli(args, &out, &err), 1);
    assert_int_equal(count_lines(err), 1);
    /* one object on one line, the last line of stdout */
    assert_int_equal(count_lines(out), 1);
    json_error_t jerr;
    json_t *root = json_loads(out, 0, &jerr);
    assert_non_null(root);
    json_t *list = json_object_get(root, "genotypes");
    assert_int_equal(json_array_size(list), 1);
    json_t *g = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(g, "genotype")), f->capsnet);
    assert_rel(json_number_value(json_object_get(g, "energy_mJ")), 88.8026186, 1e-6, "energy");
    assert_rel(json_number_value(json_object_get(g, "latency_ms")), 1.82325, 1e-6, "latency");
    assert_rel(json_number_value(json_object_get(g, "memory_KiB")), 8572.5625, 1e-9, "memory");
    assert_int_equal(json_integer_value(json_object_get(g, "weights")), 8778304);
    json_t *layers = json_object_get(g, "layers");
    assert_int_equal(json_array_size(layers), 8);
    json_t *caps = json_array_get(layers, 1);
    assert_string_equal(json_string_value(json_object_get(caps, "kind")), "conv");
    assert_true(json_number_value(json_object_get(caps, "cycles")) == 381968);
    assert_rel(json_number_value(json_object_get(caps, "power_mW")), 77419.3136, 1e-9, "power");
    json_t *failed = json_object_get(root, "failed");
    assert_int_equal(json_array_size(failed), 1);
    assert_string_equal(json_string_value(json_array_get(failed, 0)), f->broken);
    assert_string_equal(json_string_value(json_object_get(json_object_get(root, "accelerator"),
                                                          "plugin")),
                        "capsacc");
    json_decref(root);
    free(out);
    free(err);
}

/* --accelerator with a file path, --set on the accelerator section. */
static void test_accelerator_path_and_set(void **state)
{
    fixture *f = *state;
    char args[9000], *out, *err;
    double v[5];
    snprintf(args, sizeof args, "estimate --accelerator '%s/capsacc.so' '%s'", NC_TEST_PLUGIN_DIR,
             f->capsnet);
    assert_int_equal(run_cli(args, &out, &err), 0);
    assert_int_equal(find_row(out, f->capsnet, v, 3), 0);
    assert_rel(v[0], 88.8026186, 1e-6, "energy");
    free(out);
    free(err);

    /* rows and cols need no table: conv1 alone on 8x8, by hand:
     * w_loads ceil(20992/8/8) = 328, cycles 8*328 + 784 = 3408,
     * mem_accum 8*(82-8+1) = 600, power 0.4815*64 + 600*0.2303. */
    snprintf(args, sizeof args,
             "estimate --set accelerator.rows=8 --set accelerator.cols=8 --layers '%s'",
             f->capsnet);
    assert_int_equal(run_cli(args, &out, &err), 0);
    assert_string_equal(err, "");
    const char *row = strstr(out, "\nconv1\t");
    assert_non_null(row);
    double cycles, power, energy;
    assert_int_equal(sscanf(row, " conv1 conv 28,1,1 28,256,1 9 %lf %lf %lf", &cycles, &power,
                            &energy),
                     3);
    assert_true(cycles == 3408);
    assert_rel(power, 0.4815 * 64 + 600 * 0.2303, 1e-12, "power");
    assert_rel(energy, (0.4815 * 64 + 600 * 0.2303) * 3408 * 3e-9, 1e-8, "energy");
    free(out);
    free(err);
}

static void test_refusals_name_the_setting(void **state)
{
    fixture *f = *state;
    char cfg[4200], args[9000], *err;
    snprintf(cfg, sizeof cfg, "%s/p.cfg", f->dir);
    const char *text = "accelerator = {\n  rows = 8;\n  pe_stages = 2;\n};\n";
    nc_test_write_file(cfg, text, strlen(text));
    snprintf(args, sizeof args, "estimate -c '%s' '%s'", cfg, f->capsnet);
    assert_int_equal(run_cli(args, NULL, &err), 1);
    char want[9000];
    snprintf(want, sizeof want,
             "nascaps: %s:3: accelerator: pe_stages=2 differs from the built-in configuration "
             "(period_ns=3 acc_bits=25 pe_stages=1 pe_width=1): set accelerator.pe_table to the "
             "synthesis table pe_table.csv\n",
             cfg);
    assert_string_equal(err, want);
    free(err);

    snprintf(args, sizeof args, "estimate --set accelerator.pe_table=/nonexistent/pe.csv '%s'",
             f->capsnet);
    assert_int_equal(run_cli(args, NULL, &err), 1);
    assert_string_equal(err, "nascaps: --set accelerator.pe_table: setting 'accelerator.pe_table': "
                             "cannot open '/nonexistent/pe.csv': No such file or directory\n");
    free(err);
}

/* ---- the reference figures ------------------------------------------ */

static void test_expected_tsv(void **state)
{
    (void)state;
    const char *ref = nc_test_reference_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/capsacc/expected.tsv", ref);
    char *expected = nc_test_read_file(path, NULL);
    assert_non_null(expected);

    /* The paths as expected.tsv gives them, relative to chroms/. */
    char args[16384];
    int n = snprintf(args, sizeof args, "cd '%s/chroms' && '%s' estimate", ref, NC_TEST_CLI);
    int rows = 0;
    for (char *line = strchr(expected, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        size_t len = strcspn(line + 1, "\t");
        n += snprintf(args + n, sizeof args - (size_t)n, " '%.*s'", (int)len, line + 1);
        rows++;
    }
    assert_true(rows >= 6);
    char *out, *err;
    assert_int_equal(nc_test_run(args, &out, &err), 0);
    assert_string_equal(err, "");
    assert_int_equal(count_lines(out), rows + 1);
    for (char *line = strchr(expected, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        char name[1024];
        double want[4], got[4];
        assert_int_equal(sscanf(line + 1, "%1023s %lf %lf %lf %lf", name, &want[0], &want[1],
                                &want[2], &want[3]),
                         5);
        if (find_row(out, name, got, 4))
            fail_msg("no output row for %s", name);
        assert_rel(got[0], want[0], 1e-6, name);
        assert_rel(got[1], want[1], 1e-6, name);
        assert_rel(got[2], want[2], 1e-6, name);
        assert_true(got[3] == want[3]);
    }
    free(out);
    free(err);
    free(expected);
}

static void test_all_reference_chromosomes(void **state)
{
    (void)state;
    char args[4400], *out, *err;
    snprintf(args, sizeof args, "'%s' estimate $(find '%s/chroms' -name '*.chr' | sort)",
             NC_TEST_CLI, nc_test_reference_dir());
    assert_int_equal(nc_test_run(args, &out, &err), 0);
    assert_string_equal(err, "");
    assert_int_equal(count_lines(out), 67);
    /* every figure positive */
    for (char *line = strchr(out, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        char *tab = strchr(line + 1, '\t');
        assert_non_null(tab);
        double e, l, m;
        assert_int_equal(sscanf(tab, "%lf %lf %lf", &e, &l, &m), 3);
        assert_true(e > 0 && l > 0 && m > 0);
    }
    free(out);
    free(err);
}

static void test_nan_configuration_refused(void **state)
{
    fixture *f = *state;
    char cfg[4200], args[9000], *err, text[9000];
    snprintf(cfg, sizeof cfg, "%s/nan.cfg", f->dir);
    snprintf(text, sizeof text,
             "accelerator = {\n  pe_table = \"%s/capsacc/pe_table.csv\";\n"
             "  mem_table = \"%s/capsacc/mem_table.csv\";\n  period_ns = 1;\n};\n",
             nc_test_reference_dir(), nc_test_reference_dir());
    nc_test_write_file(cfg, text, strlen(text));
    snprintf(args, sizeof args, "estimate -c '%s' '%s'", cfg, f->capsnet);
    assert_int_equal(run_cli(args, NULL, &err), 1);
    char want[9000];
    snprintf(want, sizeof want,
             "nascaps: %s:4: accelerator: no synthesis result for period_ns=1 acc_bits=25 "
             "pe_stages=1 pe_width=1 in pe_table.csv: power is nan (synthesis failed)\n",
             cfg);
    assert_string_equal(err, want);
    free(err);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tsv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_genotype_and_others_go_on, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accelerator_path_and_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_name_the_setting, setup, teardown),
    };
    const struct CMUnitTest reference[] = {
        cmocka_unit_test(test_expected_tsv),
        cmocka_unit_test(test_all_reference_chromosomes),
        cmocka_unit_test_setup_teardown(test_nan_configuration_refused, setup, teardown),
    };
    return nc_test_main(argc, argv, "test_estimate_cli", tests, NC_TEST_COUNT(tests),
                        reference, NC_TEST_COUNT(reference), NULL, NULL);
}
