/* test_capsacc.c - the CapsAcc cost model against reference/capsacc/MODEL.md:
 * the two worked examples op by op, the synthesis tables, refusals; then
 * the plugin through the estimate API (pipeline sections, FILE:LINE
 * messages, expected.tsv, every reference chromosome). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_test.h"

#include "capsacc_model.h"
#include "nascaps/estimate.h"
#include "nascaps/network.h"
#include "nascaps/pipeline.h"

static nc_hw_op mkop(int kind, const char *name, int insize, int inch, int incaps,
                     int k, int outsize, int outch, int outcaps)
{
    nc_hw_op op;
    memset(&op, 0, sizeof op);
    op.kind = kind;
    op.insize = insize;
    op.inch = inch;
    op.incaps = incaps;
    op.k = k;
    op.outsize = outsize;
    op.outch = outch;
    op.outcaps = outcaps;
    snprintf(op.name, sizeof op.name, "%s", name);
    return op;
}

static void assert_rel(double got, double want, double tol)
{
    double rel = fabs(got - want) / fmax(fabs(want), 1e-300);
    if (rel > tol)
        fail_msg("got %.12g, want %.12g (relative error %.3g > %.3g)", got, want, rel,
                 tol);
}

/* One row of a worked example: an operation and its published figures
 * (energy < 0 when MODEL.md does not print it for the operation). */
typedef struct example_row {
    nc_hw_op op;
    double cycles, power_mw, energy_mj, weights;
} example_row;

static void check_example(const example_row *rows, int n, double energy_mj,
                          double latency_ms, double memory_kib, double weights)
{
    capsacc_config c;
    capsacc_config_default(&c);
    nc_error err;
    double e = 0, l = 0, w = 0;
    for (int i = 0; i < n; i++) {
        nc_hw_cost cost;
        nc_error_clear(&err);
        assert_int_equal(capsacc_cost(&c, &rows[i].op, &cost, &err), NC_OK);
        if (cost.cycles != rows[i].cycles || cost.weights != rows[i].weights)
            fail_msg("%s: cycles %.0f weights %.0f, want %.0f and %.0f", rows[i].op.name,
                     cost.cycles, cost.weights, rows[i].cycles, rows[i].weights);
        assert_rel(cost.power_mw, rows[i].power_mw, 1e-9);
        /* MODEL.md prints energies to 6 significant digits. */
        if (rows[i].energy_mj >= 0)
            assert_rel(cost.energy_mj, rows[i].energy_mj, 5e-6);
        assert_rel(cost.energy_mj, cost.power_mw * cost.cycles * 3e-9, 1e-12);
        assert_rel(cost.latency_ms, cost.cycles * 3e-6, 1e-12);
        assert_true(cost.memory_bytes == cost.weights);
        assert_rel(cost.area_um2, 1333.750616 * 256 + (cost.power_mw - 0.4815 * 256) /
                                                          0.2303 * 494.1729, 1e-9);
        e += cost.energy_mj;
        l += cost.latency_ms;
        w += cost.weights;
    }
    assert_rel(e, energy_mj, 1e-6);
    assert_rel(l, latency_ms, 1e-6);
    assert_rel(w / 1024, memory_kib, 1e-6);
    assert_true(w == weights);
}

static void test_capsnet_example(void **state)
{
    (void)state;
    const example_row rows[] = {
        {mkop(NC_HW_CONV, "conv1", 28, 1, 1, 9, 28, 256, 1), 2096, 370.1456, 0.00232748, 20992},
        {mkop(NC_HW_CONV, "caps1", 28, 256, 1, 9, 14, 32, 8), 381968, 77419.3136, 88.7151,
         5308672},
        {mkop(NC_HW_CLASS, "class", 14, 32, 8, 9, 7, 10, 16), 207441, 126.9488, 0.0790032,
         3319040},
        {mkop(NC_HW_SUM, "class.sum1", 14, 32, 8, 9, 7, 10, 16), 3249, 126.9488, 0.00123737, 25920},
        {mkop(NC_HW_SUM, "class.sum2", 14, 32, 8, 9, 7, 10, 16), 3249, 126.9488, 0.00123737, 25920},
        {mkop(NC_HW_SUM, "class.sum3", 14, 32, 8, 9, 7, 10, 16), 3249, 126.9488, 0.00123737, 25920},
        {mkop(NC_HW_SUM, "class.sum4", 14, 32, 8, 9, 7, 10, 16), 3249, 126.9488, 0.00123737, 25920},
        {mkop(NC_HW_SUM, "class.sum5", 14, 32, 8, 9, 7, 10, 16), 3249, 126.9488, 0.00123737, 25920},
    };
    check_example(rows, (int)(sizeof rows / sizeof rows[0]), 88.8026186, 1.82325, 8572.5625,
                  8778304);
}

static void test_deepcaps_example(void **state)
{
    (void)state;
    const example_row rows[] = {
        {mkop(NC_HW_CONV, "conv1", 64, 3, 1, 3, 64, 128, 1), 12512, 178.536, -1, 3584},
        {mkop(NC_HW_CONV, "cell1.op1", 64, 32, 4, 3, 32, 32, 4), 140320, 4784.536, -1, 147968},
        {mkop(NC_HW_CONV, "cell1.op2", 32, 32, 4, 3, 32, 32, 4), 140320, 4784.536, -1, 147968},
        {mkop(NC_HW_CONV, "cell1.op3", 32, 32, 4, 3, 32, 32, 4), 140320, 4784.536, -1, 147968},
        {mkop(NC_HW_CONV, "cell1.op4", 32, 32, 4, 3, 32, 32, 4), 140320, 4784.536, -1, 147968},
        {mkop(NC_HW_CONV, "cell2.op1", 32, 32, 4, 3, 16, 32, 8), 51264, 4784.536, -1, 295936},
        {mkop(NC_HW_CONV, "cell2.op2", 16, 32, 8, 3, 16, 32, 8), 102528, 9501.08, -1, 591872},
        {mkop(NC_HW_CONV, "cell2.op3", 16, 32, 8, 3, 16, 32, 8), 102528, 9501.08, -1, 591872},
        {mkop(NC_HW_CONV, "cell2.op4", 16, 32, 8, 3, 16, 32, 8), 102528, 9501.08, -1, 591872},
        {mkop(NC_HW_CONV, "cell3.op1", 16, 32, 8, 3, 8, 32, 8), 53376, 9501.08, -1, 591872},
        {mkop(NC_HW_CONV, "cell3.op2", 8, 32, 8, 3, 8, 32, 8), 53376, 9501.08, -1, 591872},
        {mkop(NC_HW_CONV, "cell3.op3", 8, 32, 8, 3, 8, 32, 8), 53376, 9501.08, -1, 591872},
        {mkop(NC_HW_CONV, "cell3.op4", 8, 32, 8, 3, 8, 32, 8), 53376, 9501.08, -1, 591872},
        {mkop(NC_HW_CONV, "cell4.op1", 8, 32, 8, 3, 4, 32, 8), 41088, 9501.08, -1, 591872},
        {mkop(NC_HW_CONV, "cell4.op2", 4, 32, 8, 3, 4, 32, 8), 41088, 9501.08, -1, 591872},
        {mkop(NC_HW_CONV, "cell4.op3", 4, 32, 8, 3, 4, 32, 8), 41088, 9501.08, -1, 591872},
        {mkop(NC_HW_CONV3D, "cell4.conv3d", 4, 32, 8, 3, 4, 32, 8), 114816, 26480.6384, -1,
         1771520},
        {mkop(NC_HW_SUM, "flat.sum1", 4, 32, 8, 4, 1, 10, 16), 641, 126.9488, -1, 5120},
        {mkop(NC_HW_UPDATE, "flat.update1", 4, 32, 8, 4, 1, 10, 16), 641, 126.9488, -1, 5120},
        {mkop(NC_HW_SUM, "flat.sum2", 4, 32, 8, 4, 1, 10, 16), 641, 126.9488, -1, 5120},
        {mkop(NC_HW_UPDATE, "flat.update2", 4, 32, 8, 4, 1, 10, 16), 641, 126.9488, -1, 5120},
        {mkop(NC_HW_SUM, "flat.sum3", 4, 32, 8, 4, 1, 10, 16), 641, 126.9488, -1, 5120},
        {mkop(NC_HW_UPDATE, "flat.update3", 4, 32, 8, 4, 1, 10, 16), 641, 126.9488, -1, 5120},
        {mkop(NC_HW_CLASS, "flat.class", 4, 32, 8, 4, 1, 10, 16), 41041, 126.9488, -1, 656640},
    };
    check_example(rows, (int)(sizeof rows / sizeof rows[0]), 36.3033357, 4.287333, 9051.75,
                  9268992);
}

static void expect_cost_refused(const nc_hw_op *op, const char *msg)
{
    capsacc_config c;
    capsacc_config_default(&c);
    nc_hw_cost cost;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(capsacc_cost(&c, op, &cost, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, msg);
}

static void test_cost_refusals(void **state)
{
    (void)state;
    nc_hw_op op = mkop(NC_HW_CONV, "conv1", 28, 1, 1, 9, 28, 256, 1);
    op.k = 0;
    expect_cost_refused(&op, "accelerator: operation 'conv1': k is 0, expected >= 1");
    op = mkop(NC_HW_CONV, "conv1", 28, 1, -3, 9, 28, 256, 1);
    expect_cost_refused(&op, "accelerator: operation 'conv1': incaps is -3, expected >= 1");
    op = mkop(7, "x", 28, 1, 1, 9, 28, 256, 1);
    expect_cost_refused(&op, "accelerator: operation 'x': unknown kind 7");
    /* Sizes the genotype module would refuse still must not overflow. */
    op = mkop(NC_HW_CONV3D, "big", 1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30,
              1 << 30);
    expect_cost_refused(&op, "accelerator: operation 'big': counts exceed 2^53, too large to cost");
    op = mkop(NC_HW_CONV, "big", 4096, 4096, 4096, 4096, 4096, 4096, 4096);
    expect_cost_refused(&op, "accelerator: operation 'big': counts exceed 2^53, too large to cost");
}

/* ---- synthesis tables ------------------------------------------------ */

static char pe_path[4096], mem_path[4096];

/* Fills pe_path and mem_path; only the --reference group calls it, so a
 * missing table there is a failure. */
static void table_paths(void)
{
    const char *ref = nc_test_reference_dir();
    assert_non_null(ref);
    snprintf(pe_path, sizeof pe_path, "%s/capsacc/pe_table.csv", ref);
    snprintf(mem_path, sizeof mem_path, "%s/capsacc/mem_table.csv", ref);
    FILE *a = fopen(pe_path, "r"), *b = fopen(mem_path, "r");
    if (!a || !b)
        fail_msg("synthesis table %s missing", a ? mem_path : pe_path);
    fclose(a);
    fclose(b);
}

static void test_tables_default_figures(void **state)
{
    (void)state;
    table_paths();
    capsacc_config c;
    capsacc_config_default(&c);
    c.p_pe_mw = c.p_mem_mw = c.pe_area_um2 = c.mem_area_um2 = -1;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(capsacc_load_pe_table(&c, pe_path, &err), NC_OK);
    assert_int_equal(capsacc_load_mem_table(&c, mem_path, &err), NC_OK);
    /* The built-in figures are exactly the tables' default rows. */
    assert_true(c.p_pe_mw == CAPSACC_DEFAULT_P_PE_MW);
    assert_true(c.p_mem_mw == CAPSACC_DEFAULT_P_MEM_MW);
    assert_true(c.pe_area_um2 == CAPSACC_DEFAULT_PE_AREA_UM2);
    assert_true(c.mem_area_um2 == CAPSACC_DEFAULT_MEM_AREA_UM2);
}

/* rows=8 cols=8 period 4 ns, width 2: figures from the tables' rows
 * (4,25,1,2) -> 0.569 mW, 2100.586828 um^2 and (4,25) -> 0.1737 mW. */
static void test_tables_non_default(void **state)
{
    (void)state;
    table_paths();
    capsacc_config c;
    capsacc_config_default(&c);
    c.rows = 8;
    c.cols = 8;
    c.period_ns = 4;
    c.pe_width = 2;
    assert_true(capsacc_needs_pe_table(&c) && capsacc_needs_mem_table(&c));
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(capsacc_load_pe_table(&c, pe_path, &err), NC_OK);
    assert_int_equal(capsacc_load_mem_table(&c, mem_path, &err), NC_OK);
    assert_true(c.p_pe_mw == 0.569);
    assert_true(c.p_mem_mw == 0.1737);

    /* CapsNet's caps1 by hand: weights (256*81+1)*32*8 = 5308672,
     * sums_per_out 82*256 = 20992, R*W = 16, w_loads = ceil(5308672/8/16)
     * = 41474, w_load_cycles 8, data 14^2*256 = 50176,
     * mem_accum = 8*(20992-16+1) = 167816. */
    nc_hw_op op = mkop(NC_HW_CONV, "caps1", 28, 256, 1, 9, 14, 32, 8);
    nc_hw_cost cost;
    assert_int_equal(capsacc_cost(&c, &op, &cost, &err), NC_OK);
    double cycles = 8.0 * 41474 + 50176;
    double power = 0.569 * 64 + 167816 * 0.1737;
    assert_true(cost.cycles == cycles);
    assert_true(cost.weights == 5308672);
    assert_rel(cost.power_mw, power, 1e-12);
    assert_rel(cost.energy_mj, power * cycles * 4e-9, 1e-12);
    assert_rel(cost.latency_ms, cycles * 4e-6, 1e-12);
    assert_rel(cost.area_um2, 2100.586828 * 64 + 167816 * 494.1729, 1e-12);
}

static void expect_table_refused(int pe, double period, int64_t width, const char *path,
                                 const char *msg)
{
    capsacc_config c;
    capsacc_config_default(&c);
    c.period_ns = period;
    c.pe_width = width;
    nc_error err;
    nc_error_clear(&err);
    int rc = pe ? capsacc_load_pe_table(&c, path, &err) : capsacc_load_mem_table(&c, path, &err);
    assert_int_equal(rc, NC_ERR_INPUT);
    assert_string_equal(err.msg, msg);
}

static void test_tables_refuse_configuration(void **state)
{
    (void)state;
    table_paths();
    expect_table_refused(1, 1, 1, pe_path,
                         "accelerator: no synthesis result for period_ns=1 acc_bits=25 "
                         "pe_stages=1 pe_width=1 in pe_table.csv: power is nan (synthesis failed)");
    expect_table_refused(1, 3, 111, pe_path,
                         "accelerator: no synthesis result for period_ns=3 acc_bits=25 "
                         "pe_stages=1 pe_width=111 in pe_table.csv: power is nan (synthesis failed)");
    expect_table_refused(1, 5, 1, pe_path,
                         "accelerator: no synthesis result for period_ns=5 acc_bits=25 "
                         "pe_stages=1 pe_width=1 in pe_table.csv: the table has no such row");
    expect_table_refused(0, 7, 1, mem_path,
                         "accelerator: no synthesis result for period_ns=7 bits=25 in "
                         "mem_table.csv: the table has no such row");
}

static void test_tables_malformed(void **state)
{
    (void)state;
    char *dir = nc_test_tmpdir();
    char path[4200], want[4400];
    static const struct {
        const char *text;
        const char *msg;   /* after "PATH:" */
    } cases[] = {
        {"period_ns,acc_bits,pe_stages,pe_width,power_mW,area_um2,delay_ns\n"
         "3,25,1,1,0.4815,1333.75,2.82\n"
         "3,25,1\n",
         "3: malformed CSV: expected 7 fields as in the header, found 3"},
        {"period_ns,acc_bits,pe_stages,pe_width,area_um2\n3,25,1,1,1333.75\n",
         "1: malformed CSV: header has no column 'power_mW'"},
        {"period_ns,acc_bits,pe_stages,power_mW,area_um2\n",
         "1: malformed CSV: header has no column 'pe_width'"},
        {"period_ns,acc_bits,pe_stages,pe_width,power_mW,area_um2\n\n2,25,x,1,0.5,1\n",
         "3: malformed CSV: column 'pe_stages' needs a finite number, got \"x\""},
        {"period_ns,acc_bits,pe_stages,pe_width,power_mW,area_um2\nnan,25,1,1,0.5,1\n",
         "2: malformed CSV: column 'period_ns' needs a finite number, got \"nan\""},
        {"period_ns,acc_bits,pe_stages,pe_width,power_mW,area_um2\n3,25,1,1,0.4815 mW,1\n",
         "2: malformed CSV: column 'power_mW' needs a number or nan, got \"0.4815 mW\""},
        {"period_ns,acc_bits,pe_stages,pe_width,power_mW,area_um2\r\n3,25,1,1,0.4,1\r\n"
         "3,25,1,1,0.5,1\r\n",
         "3: malformed CSV: duplicate row for the configuration (first on line 2)"},
        {"", "1: malformed CSV: empty file, expected a header line"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/pe%zu.csv", dir, i);
        nc_test_write_file(path, cases[i].text, strlen(cases[i].text));
        snprintf(want, sizeof want, "%s:%s", path, cases[i].msg);
        expect_table_refused(1, 3, 1, path, want);
    }
    snprintf(path, sizeof path, "%s/absent.csv", dir);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
    expect_table_refused(0, 3, 1, path, want);

    /* CRLF line ends and spaces around fields are accepted. */
    snprintf(path, sizeof path, "%s/mem.csv", dir);
    const char *ok = "period_ns, bits ,power_mW,area_um2\r\n 3 ,25, 0.25 ,500\r\n";
    nc_test_write_file(path, ok, strlen(ok));
    capsacc_config c;
    capsacc_config_default(&c);
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(capsacc_load_mem_table(&c, path, &err), NC_OK);
    assert_true(c.p_mem_mw == 0.25 && c.mem_area_um2 == 500);
    nc_test_rmtree(dir);
    free(dir);
}

/* ---- the plugin through the estimate API ----------------------------- */

typedef struct opened {
    nc_pipeline *pipeline;
    nc_registry *reg;
    nc_accelerator *acc;
} opened;

/* Loads cfg_text (NULL: defaults) and opens the pipeline's accelerator;
 * returns the status, with err holding the message. */
static int open_accelerator(const char *cfg_text, opened *o, char *cfg_path, nc_error *err)
{
    memset(o, 0, sizeof *o);
    nc_error_clear(err);
    const char *path = NULL;
    if (cfg_text) {
        nc_test_write_file(cfg_path, cfg_text, strlen(cfg_text));
        path = cfg_path;
    }
    int rc = nc_pipeline_load(path, NULL, 0, &o->pipeline, err);
    assert_int_equal(rc, NC_OK);
    o->reg = nc_registry_new();
    assert_non_null(o->reg);
    return nc_accelerator_open(o->reg, o->pipeline, NULL, &o->acc, err);
}

static void close_accelerator(opened *o)
{
    nc_accelerator_close(o->acc);
    nc_registry_free(o->reg);
    nc_pipeline_free(o->pipeline);
}

static void test_plugin_non_default_through_tables(void **state)
{
    (void)state;
    table_paths();
    char *dir = nc_test_tmpdir(), cfg[4200], text[9000];
    snprintf(cfg, sizeof cfg, "%s/p.cfg", dir);
    snprintf(text, sizeof text,
             "accelerator = {\n  plugin = \"capsacc\";\n  rows = 8;\n  cols = 8;\n"
             "  period_ns = 4;\n  pe_width = 2;\n  pe_table = \"%s\";\n  mem_table = \"%s\";\n};\n",
             pe_path, mem_path);
    opened o;
    nc_error err;
    assert_int_equal(open_accelerator(text, &o, cfg, &err), NC_OK);
    assert_string_equal(nc_accelerator_plugin(o.acc)->desc->name, "capsacc");
    assert_non_null(strstr(nc_accelerator_describe(o.acc), "8x8 PEs (width 2"));

    /* By hand (R=8, C=8, W=2, S=1, T=4; P_pe 0.569, P_mem 0.1737):
     * conv1: weights 82*256 = 20992, sums 82, w_loads ceil(20992/8/16) =
     *   164, cycles 8*164 + 784 = 2096, mem_accum 8*(82-16+1) = 536;
     * class: weights (32*81+1)*10*16*8 = 3319040, sums 82*32*8 = 20992,
     *   w_loads ceil(3319040/8/16) = 25930, cycles 8*25930 + 1,
     *   mem_accum 8 (data_per_weight 1). */
    const nc_hw_op ops[2] = {mkop(NC_HW_CONV, "conv1", 28, 1, 1, 9, 28, 256, 1),
                             mkop(NC_HW_CLASS, "class", 14, 32, 8, 9, 7, 10, 16)};
    const double cycles[2] = {2096, 8.0 * 25930 + 1};
    const double power[2] = {0.569 * 64 + 536 * 0.1737, 0.569 * 64 + 8 * 0.1737};
    const double weights[2] = {20992, 3319040};
    nc_hw_cost per_op[2];
    nc_estimate total;
    assert_int_equal(nc_accelerator_cost(o.acc, ops, 2, per_op, &total, &err), NC_OK);
    double energy = 0, latency = 0;
    for (int i = 0; i < 2; i++) {
        assert_true(per_op[i].cycles == cycles[i]);
        assert_true(per_op[i].weights == weights[i]);
        assert_rel(per_op[i].power_mw, power[i], 1e-12);
        assert_rel(per_op[i].energy_mj, power[i] * cycles[i] * 4e-9, 1e-12);
        energy += power[i] * cycles[i] * 4e-9;
        latency += cycles[i] * 4e-6;
    }
    assert_int_equal(total.n_ops, 2);
    assert_rel(total.energy_mj, energy, 1e-12);
    assert_rel(total.latency_ms, latency, 1e-12);
    assert_rel(total.memory_kib, (20992.0 + 3319040.0) / 1024, 1e-15);
    assert_true(total.cycles == cycles[0] + cycles[1]);
    /* area: the larger operation's PE array + accumulator cells */
    assert_rel(total.area_um2, 2100.586828 * 64 + 536 * 494.1729, 1e-12);
    close_accelerator(&o);
    nc_test_rmtree(dir);
    free(dir);
}

static void test_plugin_refusals(void **state)
{
    (void)state;
    char *dir = nc_test_tmpdir(), cfg[4200], text[9000], want[9000];
    snprintf(cfg, sizeof cfg, "%s/p.cfg", dir);
    opened o;
    nc_error err;

    /* no tables at all for a non-default period */
    assert_int_equal(open_accelerator("accelerator = {\n  period_ns = 4;\n  pe_width = 2;\n};\n",
                                      &o, cfg, &err),
                     NC_ERR_INPUT);
    snprintf(want, sizeof want,
             "%s:2: accelerator: period_ns=4 pe_width=2 differ from the built-in configuration "
             "(period_ns=3 acc_bits=25 pe_stages=1 pe_width=1): set accelerator.pe_table to the "
             "synthesis table pe_table.csv",
             cfg);
    assert_string_equal(err.msg, want);
    assert_null(o.acc);
    close_accelerator(&o);

    /* an unknown setting is refused before the plugin runs */
    assert_int_equal(open_accelerator("accelerator = {\n  colls = 4;\n};\n", &o, cfg, &err),
                     NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "(did you mean 'accelerator.cols'?)"));
    close_accelerator(&o);

    /* a malformed table names its own file and line */
    char table[4200];
    snprintf(table, sizeof table, "%s/mem.csv", dir);
    nc_test_write_file(table, "period_ns,bits,power_mW,area_um2\n3,25,0.2303\n", 45);
    snprintf(text, sizeof text, "accelerator = {\n  mem_table = \"%s\";\n};\n", table);
    assert_int_equal(open_accelerator(text, &o, cfg, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s:2: malformed CSV: expected 4 fields as in the header, found 3",
             table);
    assert_string_equal(err.msg, want);
    close_accelerator(&o);

    /* a missing table names the setting */
    snprintf(text, sizeof text, "accelerator = {\n  rows = 4;\n  pe_table = \"%s/none.csv\";\n};\n",
             dir);
    assert_int_equal(open_accelerator(text, &o, cfg, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want,
             "%s:3: setting 'accelerator.pe_table': cannot open '%s/none.csv': No such file or "
             "directory",
             cfg, dir);
    assert_string_equal(err.msg, want);
    close_accelerator(&o);

    /* out-of-range values are refused by the getters */
    assert_int_equal(open_accelerator("accelerator = {\n  rows = 0;\n};\n", &o, cfg, &err),
                     NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "p.cfg:2: setting 'accelerator.rows'"));
    close_accelerator(&o);
    nc_test_rmtree(dir);
    free(dir);
}

/* The tables refuse what they cannot cost, naming the row. */
static void test_plugin_table_refusals(void **state)
{
    (void)state;
    table_paths();
    char *dir = nc_test_tmpdir(), cfg[4200], text[9000], want[9000];
    snprintf(cfg, sizeof cfg, "%s/p.cfg", dir);
    opened o;
    nc_error err;
    /* the PE table alone does not give the memory cell at 4 ns */
    snprintf(text, sizeof text,
             "accelerator = {\n  pe_table = \"%s\";\n  acc_bits = 25;\n  period_ns = 4;\n};\n",
             pe_path);
    assert_int_equal(open_accelerator(text, &o, cfg, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want,
             "%s:4: accelerator: period_ns=4 differs from the built-in configuration "
             "(period_ns=3 acc_bits=25 pe_stages=1 pe_width=1): set accelerator.mem_table "
             "to the synthesis table mem_table.csv",
             cfg);
    assert_string_equal(err.msg, want);
    close_accelerator(&o);

    /* no row for period 5 in the PE table */
    snprintf(text, sizeof text,
             "accelerator = {\n  rows = 8;\n  cols = 8;\n  period_ns = 5;\n"
             "  pe_table = \"%s\";\n  mem_table = \"%s\";\n};\n",
             pe_path, mem_path);
    assert_int_equal(open_accelerator(text, &o, cfg, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want,
             "%s:4: accelerator: no synthesis result for period_ns=5 acc_bits=25 pe_stages=1 "
             "pe_width=1 in pe_table.csv: the table has no such row",
             cfg);
    assert_string_equal(err.msg, want);
    close_accelerator(&o);
    nc_test_rmtree(dir);
    free(dir);
}

static void test_plugin_reference_figures(void **state)
{
    (void)state;
    const char *ref = nc_test_reference_dir();
    assert_non_null(ref);
    opened o;
    nc_error err;
    assert_int_equal(open_accelerator(NULL, &o, NULL, &err), NC_OK);

    char path[4200];
    snprintf(path, sizeof path, "%s/capsacc/expected.tsv", ref);
    char *expected = nc_test_read_file(path, NULL);
    assert_non_null(expected);
    int rows = 0;
    for (char *line = strchr(expected, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        char name[1024];
        double want[4];
        assert_int_equal(sscanf(line + 1, "%1023s %lf %lf %lf %lf", name, &want[0], &want[1],
                                &want[2], &want[3]),
                         5);
        snprintf(path, sizeof path, "%s/chroms/%s", ref, name);
        nc_genotype g;
        nc_estimate e;
        if (nc_genotype_load(path, &g, &err) ||
            nc_estimate_genotype(o.acc, o.reg, &g, path, &e, &err))
            fail_msg("%s", err.msg);
        assert_rel(e.energy_mj, want[0], 1e-6);
        assert_rel(e.latency_ms, want[1], 1e-6);
        assert_rel(e.memory_kib, want[2], 1e-6);
        assert_true(e.weights == want[3]);
        rows++;
    }
    assert_true(rows >= 6);
    free(expected);
    close_accelerator(&o);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capsnet_example),
        cmocka_unit_test(test_deepcaps_example),
        cmocka_unit_test(test_cost_refusals),
        cmocka_unit_test(test_tables_malformed),
        cmocka_unit_test(test_plugin_refusals),
    };
    const struct CMUnitTest reference[] = {
        cmocka_unit_test(test_tables_default_figures),
        cmocka_unit_test(test_tables_non_default),
        cmocka_unit_test(test_tables_refuse_configuration),
        cmocka_unit_test(test_plugin_non_default_through_tables),
        cmocka_unit_test(test_plugin_table_refusals),
        cmocka_unit_test(test_plugin_reference_figures),
    };
    return nc_test_main(argc, argv, "test_capsacc", tests, NC_TEST_COUNT(tests), reference,
                        NC_TEST_COUNT(reference), NULL, NULL);
}
