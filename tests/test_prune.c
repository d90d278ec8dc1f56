/* test_prune.c - early-stopping plans (nascaps/prune.h) against figures
 * worked out by hand, and the trainer's prune hook. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "nascaps/prune.h"
#include "nascaps/train.h"
#include "nc_test.h"

static void test_quantile(void **state)
{
    (void)state;
    double v[4] = {0.4, 0.1, 0.3, 0.2};
    assert_true(fabs(nc_prune_quantile(v, 4, 0.5) - 0.25) < 1e-12);
    double w[4] = {0.4, 0.1, 0.3, 0.2};
    assert_true(fabs(nc_prune_quantile(w, 4, 0.9) - 0.37) < 1e-12);
    double one[1] = {0.7};
    assert_true(nc_prune_quantile(one, 1, 0.9) == 0.7);
    assert_true(isnan(nc_prune_quantile(one, 0, 0.5)));
}

/* Member A is no costlier than the candidate, B is costlier: only A counts.
 * E = 3; gains from epoch 1: 0.1..0.4 (median 0.25), from epoch 2: 0, 0.1
 * (median 0.05). Epoch 1: (a) 0.80 - 0.25 = 0.55, (b) 0.60 - 0.02 = 0.58:
 * both hold below 0.55. Epoch 2: (a) 0.75, (b) 0.73: below 0.73. */
static void test_plan(void **state)
{
    (void)state;
    static const double acc_a[2] = {0.60, 0.75}, acc_b[2] = {0.90, 0.93};
    nc_prune_ref pop[2] = {{"aaaaaaaaaaaa", {1, 1}, 0.80, acc_a, 2},
                           {"bbbbbbbbbbbb", {5, 5}, 0.95, acc_b, 2}};
    static const double g1[4] = {0.1, 0.2, 0.3, 0.4}, g2[2] = {0.0, 0.1};
    nc_prune_history h = {3, {g1, g2}, {4, 2}};
    nc_prune_cfg cfg = {1, 0.5, 2, 0.02, 1};
    double cost[2] = {2, 2};
    nc_prune_plan plan;
    nc_prune_plan_make(&cfg, cost, 2, pop, 2, &h, &plan);
    assert_int_equal(plan.epochs, 3);
    assert_true(fabs(plan.min_acc[0] - 0.55) < 1e-12);
    assert_true(fabs(plan.min_acc[1] - 0.73) < 1e-12);
    char why[512];
    assert_int_equal(nc_prune_check(&plan, 1, 0.54, why, sizeof why), 1);
    assert_non_null(strstr(why, "pruned after epoch 1: accuracy 0.5400 below 0.5500: member "
                                "aaaaaaaaaaaa (no costlier) reached 0.8000"));
    assert_int_equal(nc_prune_check(&plan, 1, 0.56, why, sizeof why), 0);
    assert_int_equal(nc_prune_check(&plan, 2, 0.72, why, sizeof why), 1);
    assert_int_equal(nc_prune_check(&plan, 2, 0.735, why, sizeof why), 0);
    assert_int_equal(nc_prune_check(&plan, 3, 0.01, why, sizeof why), 0);   /* last epoch */
    assert_int_equal(nc_prune_check(&plan, 1, NAN, why, sizeof why), 0);

    /* a candidate cheaper than A in one objective: nobody is no costlier */
    double cheap[2] = {0.5, 9};
    nc_prune_plan_make(&cfg, cheap, 2, pop, 2, &h, &plan);
    assert_int_equal(nc_prune_check(&plan, 1, 0.0, why, sizeof why), 0);
    /* not enough history: rule (a) cannot say, so nothing stops */
    cfg.min_history = 5;
    nc_prune_plan_make(&cfg, cost, 2, pop, 2, &h, &plan);
    assert_int_equal(nc_prune_check(&plan, 1, 0.0, why, sizeof why), 0);
    assert_int_equal(nc_prune_check(&plan, 2, 0.0, why, sizeof why), 0);
    /* no stop before min_epochs */
    cfg.min_history = 2;
    cfg.min_epochs = 2;
    nc_prune_plan_make(&cfg, cost, 2, pop, 2, &h, &plan);
    assert_int_equal(nc_prune_check(&plan, 1, 0.0, why, sizeof why), 0);
    assert_int_equal(nc_prune_check(&plan, 2, 0.72, why, sizeof why), 1);
    /* off: never */
    cfg.on = 0;
    nc_prune_plan_make(&cfg, cost, 2, pop, 2, &h, &plan);
    assert_int_equal(nc_prune_check(&plan, 2, 0.0, why, sizeof why), 0);
}

/* The trainer asks the hook after every complete epoch but the last; a
 * yes stops it there with status pruned and the hook's reason. */
static int asked;
static int stop_after_first(const nc_epoch_result *r, char *reason, size_t size, void *user)
{
    (void)user;
    asked++;
    snprintf(reason, size, "stop at %d", r->epoch);
    return r->epoch == 1;
}
static int never(const nc_epoch_result *r, char *reason, size_t size, void *user)
{
    (void)r;
    (void)reason;
    (void)size;
    (void)user;
    asked++;
    return 0;
}

static void test_trainer_hook(void **state)
{
    (void)state;
    nc_registry *reg = nc_registry_new();
    nc_error err;
    nc_pipeline *p = NULL;
    const char *sets[] = {"dataset.plugin=synthetic", "dataset.size=8", "dataset.classes=3",
                          "dataset.train_count=60", "dataset.test_count=20"};
    assert_int_equal(nc_pipeline_load(NULL, sets, 5, &p, &err), NC_OK);
    nc_data *d = NULL;
    if (nc_data_open(reg, p, &d, &err))
        fail_msg("%s", err.msg);
    nc_genotype g;
    assert_int_equal(nc_genotype_parse("[[0,8,1,1,3,1,8,4,1],[1,8,4,1,3,2,4,2,4],"
                                       "[1,4,2,4,4,1,1,3,4],[-1],[1]]", "<t>", &g, &err), NC_OK);
    nc_train_opts opt;
    nc_train_opts_defaults(&opt);
    opt.epochs = 3;
    opt.threads = 1;
    opt.net.max_batch = 20;
    opt.prune = stop_after_first;
    nc_train_result res;
    asked = 0;
    assert_int_equal(nc_train(reg, d, &g, "<t>", &opt, NULL, &res, &err), NC_OK);
    assert_int_equal(res.status, NC_TRAIN_PRUNED);
    assert_string_equal(nc_train_status_name(res.status), "pruned");
    assert_int_equal(res.epochs_done, 1);
    assert_int_equal(res.n_epochs, 1);
    assert_string_equal(res.reason, "stop at 1");
    assert_true(res.test_accuracy == res.epochs[0].test_accuracy);
    assert_int_equal(asked, 1);
    nc_train_result_free(&res);
    opt.prune = never;
    asked = 0;
    assert_int_equal(nc_train(reg, d, &g, "<t>", &opt, NULL, &res, &err), NC_OK);
    assert_int_equal(res.status, NC_TRAIN_OK);
    assert_int_equal(res.epochs_done, 3);
    assert_int_equal(asked, 2);   /* not after the last epoch */
    nc_train_result_free(&res);
    nc_data_close(d);
    nc_pipeline_free(p);
    nc_registry_free(reg);
}

/* ---- A pruned search: serial, --workers 2 and a killed-and-resumed run
 * store the same evaluations (the plans use only what was committed before
 * each generation) ----------------------------------------------------------- */

static const char search_cfg[] =
    "seed = 5;\n"
    "dataset = { plugin = \"synthetic\"; size = 12; classes = 4; train_count = 360;"
    " test_count = 80; validation = 80; };\n"
    "training = { epochs = 3; batch_size = 30; routings = 2; recon_weight = 0.0; threads = 1;"
    " prune = \"dominance\"; prune_min_history = 2; prune_min_epochs = 1;"
    " prune_quantile = 0.5; prune_margin = 0.0; };\n"
    "objectives = [\"accuracy_drop\", \"energy\", \"memory\"];\n"
    "search_space = { deepcaps = false; resize = [1]; conv_layers = [1, 1]; first_kernel = 3;"
    " kernels = [3]; strides = [1, 2]; channels_log2 = [2, 3]; caps_layers = [2, 2];"
    " caps_growth = [2, 4]; max_caps = 8; class_dim_log2 = [2, 3]; };\n"
    "optimizer = { plugin = \"nsga2\"; population = 4; offspring = 4; generations = 3; };\n";

/* Every evaluation as text, sorted by id: what must not depend on how the
 * run went. */
static char *evaluations(const char *out)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/results.db", out);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT gid, status, accuracy, epochs_done, reason"
                                            " FROM evaluations ORDER BY gid", -1, &s, NULL),
                     SQLITE_OK);
    size_t cap = 1 << 16, len = 0;
    char *text = calloc(1, cap);
    while (sqlite3_step(s) == SQLITE_ROW && len < cap - 600)
        len += (size_t)snprintf(text + len, cap - len, "%s %s %.17g %d %s\n",
                                sqlite3_column_text(s, 0), sqlite3_column_text(s, 1),
                                sqlite3_column_double(s, 2), sqlite3_column_int(s, 3),
                                sqlite3_column_text(s, 4) ? (const char *)sqlite3_column_text(s, 4)
                                                          : "-");
    sqlite3_finalize(s);
    sqlite3_close(db);
    return text;
}

static void run_search(const char *cfg, const char *out, const char *extra)
{
    char cmd[9000], *o, *e;
    snprintf(cmd, sizeof cmd, "'%s' run '%s' --set output.dir='\"%s\"' --quiet %s",
             NC_TEST_CLI, cfg, out, extra);
    int rc = nc_test_run(cmd, &o, &e);
    if (rc != 0)
        fail_msg("%s: exit %d [%s]", cmd, rc, e);
    free(o);
    free(e);
}

static void test_pruned_search_deterministic(void **state)
{
    (void)state;
    char *dir = nc_test_tmpdir(), cfg[4200], a[4200], b[4200], k[4200], cmd[9000];
    snprintf(cfg, sizeof cfg, "%s/p.cfg", dir);
    nc_test_write_file(cfg, search_cfg, strlen(search_cfg));
    snprintf(a, sizeof a, "%s/serial", dir);
    snprintf(b, sizeof b, "%s/workers", dir);
    snprintf(k, sizeof k, "%s/killed", dir);
    run_search(cfg, a, "");
    run_search(cfg, b, "--workers 2");
    /* killed part-way (wherever that is), then resumed */
    char *o, *e;
    snprintf(cmd, sizeof cmd, "timeout -s KILL 2 '%s' run '%s' --set output.dir='\"%s\"' --quiet",
             NC_TEST_CLI, cfg, k);
    (void)nc_test_run(cmd, &o, &e);
    free(o);
    free(e);
    run_search(cfg, k, "");
    char *ea = evaluations(a), *eb = evaluations(b), *ek = evaluations(k);
    assert_non_null(strstr(ea, " pruned "));   /* the settings do stop some */
    assert_string_equal(ea, eb);
    assert_string_equal(ea, ek);
    free(ea);
    free(eb);
    free(ek);
    nc_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantile),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_trainer_hook),
        cmocka_unit_test(test_pruned_search_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
