/* test_constraints.c - hardware budgets (constraints = {...}): a search
 * trains no candidate over a budget, stores it as over_budget with the
 * excess named, and its pareto.csv holds none (issue 13's check, on
 * synthetic data). Read back with SQLite, independently of the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "nc_test.h"

#define dir nc_test_dir
#define setup nc_test_dir_setup
#define teardown nc_test_dir_teardown

static void test_memory_budget(void **state)
{
    (void)state;
    char cfg[4200], text[4096], cmd[9000];
    snprintf(cfg, sizeof cfg, "%s/c.cfg", dir);
    snprintf(text, sizeof text,
             "seed = 3;\n"
             "dataset = { plugin = \"synthetic\"; size = 16; classes = 4; train_count = 300;"
             " test_count = 100; validation = 50; };\n"
             "training = { epochs = 1; batch_size = 25; recon_weight = 0.0; routings = 2; };\n"
             "search_space = { deepcaps = false; resize = [1]; conv_layers = [1, 2];"
             " first_kernel = 5; kernels = [3, 5]; strides = [2]; channels_log2 = [2, 4];"
             " caps_layers = [2, 2]; caps_growth = [4, 8]; max_caps = 16;"
             " class_dim_log2 = [3, 3]; };\n"
             "optimizer = { plugin = \"nsga2\"; population = 4; offspring = 4;"
             " generations = 1; };\n"
             "constraints = { memory_KiB = 40.0; };\n"
             "output = { dir = \"%s/out\"; };\n", dir);
    nc_test_write_file(cfg, text, strlen(text));
    snprintf(cmd, sizeof cmd, "'%s' run '%s' --quiet", NC_TEST_CLI, cfg);
    char *out, *err;
    int rc = nc_test_run(cmd, &out, &err);
    if (rc != 0)
        fail_msg("run: exit %d [%s]", rc, err);
    free(out);
    free(err);

    char db_path[4300];
    snprintf(db_path, sizeof db_path, "%s/out/results.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT status, memory_kib, epochs_done, "
                                            "train_seconds, reason FROM evaluations", -1, &s,
                                        NULL), SQLITE_OK);
    int over = 0, within = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(s, 0);
        double mem = sqlite3_column_double(s, 1);
        if (mem > 40.0) {
            over++;
            assert_string_equal(status, "over_budget");
            assert_int_equal(sqlite3_column_int(s, 2), 0);     /* never trained */
            assert_true(sqlite3_column_double(s, 3) == 0.0);
            assert_non_null(strstr((const char *)sqlite3_column_text(s, 4),
                                   "over budget: constraints.memory_KiB "));
        } else {
            within++;
            assert_string_equal(status, "ok");
            assert_int_equal(sqlite3_column_int(s, 2), 1);
        }
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    assert_true(over > 0);
    assert_true(within > 0);

    /* pareto.csv: memory_KiB (column 5) within the budget on every row */
    char csv_path[4300];
    snprintf(csv_path, sizeof csv_path, "%s/out/pareto.csv", dir);
    char *csv = nc_test_read_file(csv_path, NULL);
    assert_non_null(csv);
    int rows = 0;
    for (char *line = strchr(csv, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        char *f = line + 1;
        for (int k = 0; k < 4; k++)
            f = strchr(f, ',') + 1;
        assert_true(strtod(f, NULL) <= 40.0);
        rows++;
    }
    assert_true(rows > 0);
    free(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_memory_budget, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
