/* test_run.c - `nascaps run` and `nascaps report` end to end on the
 * synthetic dataset: determinism (pareto.csv byte-identical), kill -9 at
 * several points then resume giving the uninterrupted result, Ctrl-C,
 * stage 2 resumed mid-training, the cache, refusals (corrupt or locked
 * database, a different pipeline), --force-new, raising generations. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "nc_test.h"

static char *dir;

/* Costs only: nothing trained, ~4 ms an evaluation (one fsync'd
 * transaction each). */
static const char costs_cfg[] =
    "seed = 3;\n"
    "dataset = { plugin = \"synthetic\"; size = 12; train_count = 50; test_count = 20; };\n"
    "objectives = [\"energy\", \"latency\", \"memory\"];\n"
    "optimizer = { plugin = \"nsga2\"; population = 10; offspring = 10; generations = 12; };\n";

/* Trains tiny networks on 8 x 8 images of 3 classes. */
static const char train_cfg[] =
    "seed = 7;\n"
    "dataset = { plugin = \"synthetic\"; size = 8; classes = 3; train_count = 60;\n"
    "            test_count = 30; validation = 15; };\n"
    "training = { epochs = 1; batch_size = 15; threads = 1; };\n"
    "objectives = [\"accuracy_drop\", \"energy\", \"params\"];\n"
    "search_space = { deepcaps = false; resize = [1]; conv_layers = [1, 1];\n"
    "                 first_kernel = 3; kernels = [3, 5]; channels_log2 = [2, 3];\n"
    "                 caps_layers = [2, 2]; caps_growth = [1, 3]; max_caps = 8;\n"
    "                 class_dim_log2 = [2, 2]; };\n"
    "optimizer = { plugin = \"nsga2\"; population = 3; offspring = 3; generations = 1; };\n";

static char costs_path[512], train_path[512];

static int setup(void **state)
{
    (void)state;
    dir = nc_test_tmpdir();
    snprintf(costs_path, sizeof costs_path, "%s/costs.cfg", dir);
    snprintf(train_path, sizeof train_path, "%s/train.cfg", dir);
    nc_test_write_file(costs_path, costs_cfg, strlen(costs_cfg));
    nc_test_write_file(train_path, train_cfg, strlen(train_cfg));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nc_test_rmtree(dir);
    free(dir);
    return 0;
}

static void out_dir(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

/* `nascaps ARGS` with output.dir = dir/NAME; returns the exit status. */
static int run(const char *cfg, const char *name, const char *args, char **out, char **err)
{
    char cmd[4096], od[512];
    out_dir(name, od, sizeof od);
    snprintf(cmd, sizeof cmd, "'%s' run '%s' --quiet --set 'output.dir=\"%s\"' %s", NC_TEST_CLI,
             cfg, od, args ? args : "");
    return nc_test_run(cmd, out, err);
}

static char *read_out(const char *name, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", dir, name, file);
    return nc_test_read_file(path, NULL);
}

static void assert_same_file(const char *a, const char *b, const char *file)
{
    char *x = read_out(a, file), *y = read_out(b, file);
    if (strcmp(x, y) != 0)
        fail_msg("%s differs between %s and %s:\n%s\n---\n%s", file, a, b, x, y);
    free(x);
    free(y);
}

/* One integer from an SQL query on NAME/results.db (read-only); -1 when
 * the database cannot answer yet. */
static long long db_int(const char *name, const char *sql)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/results.db", dir, name);
    sqlite3 *db = NULL;
    long long v = -1;
    if (access(path, F_OK) == 0 &&
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 2000);
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW)
                v = sqlite3_column_int64(s, 0);
            sqlite3_finalize(s);
        }
    }
    sqlite3_close(db);
    return v;
}

static pid_t spawn(const char *cfg, const char *name, const char *extra)
{
    char od[512], set[600];
    out_dir(name, od, sizeof od);
    snprintf(set, sizeof set, "output.dir=\"%s\"", od);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        if (extra)
            execl(NC_TEST_CLI, NC_TEST_CLI, "run", cfg, "--quiet", "--set", set, "--set", extra,
                  (char *)NULL);
        else
            execl(NC_TEST_CLI, NC_TEST_CLI, "run", cfg, "--quiet", "--set", set, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits until sql on NAME's database gives >= k (or the process ends),
 * then sends sig. Returns 1 when the signal ended the process. */
static int signal_when(pid_t pid, const char *name, const char *sql, long long k, int sig,
                       int *status)
{
    for (int i = 0; i < 60000; i++) {
        if (waitpid(pid, status, WNOHANG) == pid)
            return 0;
        if (db_int(name, sql) >= k)
            break;
        sleep_ms(1);
    }
    kill(pid, sig);
    assert_int_equal(waitpid(pid, status, 0), pid);
    return WIFSIGNALED(*status) || (WIFEXITED(*status) && WEXITSTATUS(*status) == 130);
}

static const char count_sql[] = "SELECT count(*) FROM evaluations";

/* ---- tests ------------------------------------------------------------------ */

static void test_same_seed_same_files(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    assert_int_equal(run(costs_path, "a", NULL, &out, &err), 0);
    /* the table: header, then one row per front member */
    assert_non_null(strstr(out, "id            accuracy     energy_mJ"));
    free(out);
    free(err);
    assert_int_equal(run(costs_path, "b", NULL, NULL, NULL), 0);
    assert_same_file("a", "b", "pareto.csv");
    assert_same_file("a", "b", "pareto.json");
    assert_same_file("a", "b", "hypervolume.csv");
    char *csv = read_out("a", "pareto.csv");
    assert_memory_equal(csv, "id,accuracy,energy_mJ,latency_ms,memory_KiB,params,genotype,"
                             "test_accuracy,final_accuracy,macs,final_best_accuracy,"
                             "final_best_epoch\n", 131);
    /* rows by energy ascending (no accuracy in costs-only mode), and each
     * member's .chr written */
    int rows = 0;
    double last = -1;
    for (char *line = strchr(csv, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        char id[13];
        double energy;
        assert_int_equal(sscanf(line, "%12[0-9a-f],,%lf,", id, &energy), 2);
        assert_true(energy >= last);
        last = energy;
        char path[1024];
        snprintf(path, sizeof path, "%s/a/front/%s.chr", dir, id);
        assert_int_equal(access(path, F_OK), 0);
        rows++;
    }
    assert_true(rows >= 2);
    free(csv);
    /* 13 generations of 10, a distinct genotype each (the optimizer asks
     * for genotypes new to the run) */
    assert_int_equal(db_int("a", count_sql), 130);
    assert_int_equal(db_int("a", "SELECT count(*) FROM generations"), 13);
    assert_int_equal(db_int("a", "SELECT count(*) FROM population WHERE generation = 13"), 10);
    char *hv = read_out("a", "hypervolume.csv");
    assert_memory_equal(hv, "generation,evaluated,failed,front_size,best_accuracy,hypervolume\n",
                        63);
    free(hv);
}

/* kill -9 at several points of a costs-only run, then resume. */
static void test_kill_and_resume_costs(void **state)
{
    (void)state;
    assert_int_equal(run(costs_path, "ref", NULL, NULL, NULL), 0);
    long long total = db_int("ref", count_sql);
    static const long long points[] = {1, 9, 10, 11, 47, 104};
    int killed = 0;
    for (size_t p = 0; p < sizeof points / sizeof points[0]; p++) {
        char name[32];
        snprintf(name, sizeof name, "k%zu", p);
        int status;
        killed += signal_when(spawn(costs_path, name, NULL), name, count_sql, points[p], SIGKILL,
                              &status);
        /* a second kill, mid-way through the rest */
        killed += signal_when(spawn(costs_path, name, NULL), name, count_sql,
                              points[p] + (total - points[p]) / 2, SIGKILL, &status);
        char *err = NULL;
        assert_int_equal(run(costs_path, name, NULL, NULL, &err), 0);
        free(err);
        assert_same_file("ref", name, "pareto.csv");
        assert_same_file("ref", name, "hypervolume.csv");
        assert_int_equal(db_int(name, count_sql), total);
    }
    /* kills after a time rather than a count (the early ones land while
     * the database is being created) */
    static const int times_ms[] = {5, 15, 50, 225, 400};
    for (size_t t = 0; t < sizeof times_ms / sizeof times_ms[0]; t++) {
        int ms = times_ms[t];
        char name[32];
        snprintf(name, sizeof name, "t%d", ms);
        pid_t pid = spawn(costs_path, name, NULL);
        sleep_ms(ms);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        killed += WIFSIGNALED(status);
        assert_int_equal(run(costs_path, name, NULL, NULL, NULL), 0);
        assert_same_file("ref", name, "pareto.csv");
        assert_int_equal(db_int(name, count_sql), total);
    }
    assert_true(killed >= 8);
}

/* Training candidates: kill -9 mid-search, Ctrl-C mid-search, kill -9 in
 * stage 2; every resumed run ends as the uninterrupted one. */
static void test_kill_and_resume_training(void **state)
{
    (void)state;
    const char *final = "final_training.epochs=3";
    char *out = NULL, *err = NULL;
    assert_int_equal(run(train_path, "tref", "--set final_training.epochs=3 --json", &out, &err),
                     0);
    /* the JSON report (last line): every front member trained 3 epochs */
    out[strlen(out) - 1] = '\0';
    char *line = strrchr(out, '\n') ? strrchr(out, '\n') + 1 : out;
    json_error_t je;
    json_t *j = json_loads(line, 0, &je);
    assert_non_null(j);
    json_t *front = json_object_get(j, "front");
    assert_true(json_array_size(front) >= 1);
    for (size_t i = 0; i < json_array_size(front); i++) {
        json_t *m = json_array_get(front, i), *fin = json_object_get(m, "final");
        double acc = json_real_value(json_object_get(m, "accuracy"));
        assert_true(acc >= 0 && acc <= 1);
        assert_non_null(fin);
        assert_int_equal(json_integer_value(json_object_get(fin, "epochs")), 3);
        /* the best epoch is one of the three, at least as good as the last */
        json_int_t best_epoch = json_integer_value(json_object_get(fin, "best_epoch"));
        double best = json_real_value(json_object_get(fin, "best_test_accuracy"));
        double last = json_real_value(json_object_get(fin, "test_accuracy"));
        assert_true(best_epoch >= 1 && best_epoch <= 3);
        assert_true(best >= last);
        char path[1024];
        snprintf(path, sizeof path, "%s/tref/%s", dir,
                 json_string_value(json_object_get(fin, "weights")));
        assert_int_equal(access(path, F_OK), 0);
    }
    json_decref(j);
    free(out);
    free(err);
    long long total = db_int("tref", count_sql);
    assert_int_equal(total, 6);
    assert_int_equal(db_int("tref", "SELECT count(*) FROM epochs"), 6);

    int status;
    /* kill -9 after 2 candidates, SIGINT after 4, kill -9 in stage 2 after
     * one member's first epoch, then let it finish */
    assert_true(signal_when(spawn(train_path, "tk", final), "tk", count_sql, 2, SIGKILL, &status));
    assert_true(signal_when(spawn(train_path, "tk", final), "tk", count_sql, 4, SIGINT, &status));
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 130);
    assert_true(signal_when(spawn(train_path, "tk", final), "tk",
                            "SELECT count(*) FROM final_epochs", 1, SIGKILL, &status));
    assert_int_equal(run(train_path, "tk", "--set final_training.epochs=3", NULL, NULL), 0);
    assert_same_file("tref", "tk", "pareto.csv");
    assert_same_file("tref", "tk", "pareto.json");
    assert_same_file("tref", "tk", "hypervolume.csv");
    assert_int_equal(db_int("tk", count_sql), total);
    /* nothing is trained again: the cache answers */
    err = NULL;
    assert_int_equal(run(train_path, "tk", "--set final_training.epochs=3", NULL, &err), 0);
    assert_non_null(strstr(err, "(0 trained now)"));
    free(err);
}

/* A candidate stopped by its time limit is stored as such, infeasible, and
 * not trained again on resume. */
static void test_time_limit_kept(void **state)
{
    (void)state;
    const char *args = "--set training.time_limit_s=0.000001";
    char *err = NULL;
    if (run(train_path, "tl", args, NULL, &err) != 0)
        fail_msg("run failed: %s", err);
    free(err);
    assert_int_equal(db_int("tl", "SELECT count(*) FROM evaluations WHERE status = 'time_limit'"),
                     db_int("tl", count_sql));
    /* no feasible candidate: an empty front */
    char *csv = read_out("tl", "pareto.csv");
    assert_string_equal(csv, "id,accuracy,energy_mJ,latency_ms,memory_KiB,params,genotype,"
                             "test_accuracy,final_accuracy,macs,final_best_accuracy,"
                             "final_best_epoch\n");
    free(csv);
    err = NULL;
    assert_int_equal(run(train_path, "tl", args, NULL, &err), 0);
    assert_non_null(strstr(err, "(0 trained now)"));
    free(err);
}

static void test_corrupt_and_locked(void **state)
{
    (void)state;
    char path[1024], *err = NULL;
    out_dir("bad", path, sizeof path);
    mkdir(path, 0777);
    strcat(path, "/results.db");
    char garbage[4096];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (char)(i * 37 + 11);
    nc_test_write_file(path, garbage, sizeof garbage);
    assert_int_equal(run(costs_path, "bad", NULL, NULL, &err), 1);
    assert_non_null(strstr(err, "results.db: not a NASCaps results database"));
    free(err);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' report '%s/bad'", NC_TEST_CLI, dir);
    err = NULL;
    assert_int_equal(nc_test_run(cmd, NULL, &err), 1);
    assert_non_null(strstr(err, "results.db: not a NASCaps results database"));
    free(err);

    /* a folder another process has locked */
    char lock[1024];
    out_dir("locked", lock, sizeof lock);
    mkdir(lock, 0777);
    strcat(lock, "/results.lock");
    int fd = open(lock, O_RDWR | O_CREAT, 0666);
    assert_true(fd >= 0);
    struct flock fl = {0};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    assert_int_equal(fcntl(fd, F_SETLK, &fl), 0);
    err = NULL;
    assert_int_equal(run(costs_path, "locked", NULL, NULL, &err), 1);
    char expect[128];
    snprintf(expect, sizeof expect, "locked: another nascaps run (pid %ld) is using this output folder",
             (long)getpid());
    if (!strstr(err, expect))
        fail_msg("expected '%s' in: %s", expect, err);
    free(err);
    close(fd);   /* the lock goes with it */
    assert_int_equal(run(costs_path, "locked", "--set optimizer.generations=1", NULL, NULL), 0);
}

static void test_different_pipeline_and_force_new(void **state)
{
    (void)state;
    char *err = NULL;
    assert_int_equal(run(costs_path, "diff", "--set optimizer.generations=2", NULL, NULL), 0);
    assert_int_equal(run(costs_path, "diff", "--set optimizer.generations=2 --set seed=4", NULL,
                         &err),
                     1);
    if (!strstr(err, "holds a run of a different pipeline (seed: 3 in the database, 4 now); run "
                     "with --force-new"))
        fail_msg("unexpected: %s", err);
    free(err);
    err = NULL;
    assert_int_equal(run(costs_path, "diff",
                         "--set optimizer.generations=2 --set seed=4 --force-new", NULL, &err),
                     0);
    assert_non_null(strstr(err, "the former database is now"));
    free(err);
    /* a run refused at start stored no result: the corrected pipeline is
     * not "different" */
    err = NULL;
    assert_int_equal(run(costs_path, "early", "--set dataset.classes=1", NULL, &err), 1);
    free(err);
    assert_int_equal(run(costs_path, "early", "--set optimizer.generations=1", NULL, NULL), 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/diff/results.db.1", dir);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(db_int("diff", "SELECT count(*) FROM generations"), 3);
    /* the new database holds the new pipeline */
    assert_int_equal(db_int("diff", "SELECT count(*) FROM meta WHERE key = 'seed' AND value = '4'"),
                     1);
}

/* 5 generations then 12 gives the run of 12 in one go. */
static void test_raise_generations(void **state)
{
    (void)state;
    assert_int_equal(run(costs_path, "more", "--set optimizer.generations=5", NULL, NULL), 0);
    assert_int_equal(db_int("more", "SELECT count(*) FROM generations"), 6);
    assert_int_equal(run(costs_path, "more", NULL, NULL, NULL), 0);
    assert_int_equal(db_int("more", "SELECT count(*) FROM generations"), 13);
    assert_int_equal(run(costs_path, "full", NULL, NULL, NULL), 0);
    assert_same_file("full", "more", "pareto.csv");
    assert_same_file("full", "more", "hypervolume.csv");
}

static void test_report(void **state)
{
    (void)state;
    assert_int_equal(run(costs_path, "rep", "--set optimizer.generations=2", NULL, NULL), 0);
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "'%s' report '%s/rep' --json", NC_TEST_CLI, dir);
    assert_int_equal(nc_test_run(cmd, &out, NULL), 0);
    if (!strstr(out, "3 generations (search done), 30 evaluations (0 failed)"))
        fail_msg("unexpected report: %s", out);
    /* the last line is pareto.json's object, with the figures' data added
     * (docs/REPORT.md: keys are only added) */
    char *json = read_out("rep", "pareto.json");
    char *last = strrchr(out, '\n');
    while (last > out && last[-1] != '\n')
        last--;
    json_t *want = json_loads(json, 0, NULL), *got = json_loads(last, 0, NULL);
    assert_non_null(want);
    assert_non_null(got);
    const char *key;
    json_t *v;
    json_object_foreach(want, key, v) assert_true(json_equal(v, json_object_get(got, key)));
    assert_int_equal(json_object_size(got), json_object_size(want) + 1);
    assert_non_null(json_object_get(json_object_get(got, "figures"), "hypervolume_vs_generation"));
    json_decref(want);
    json_decref(got);
    free(json);
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' report '%s/nothing'", NC_TEST_CLI, dir);
    char *err = NULL;
    assert_int_equal(nc_test_run(cmd, NULL, &err), 1);
    assert_non_null(strstr(err, "nothing: no results database (results.db) in this folder"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_files),
        cmocka_unit_test(test_kill_and_resume_costs),
        cmocka_unit_test(test_kill_and_resume_training),
        cmocka_unit_test(test_time_limit_kept),
        cmocka_unit_test(test_corrupt_and_locked),
        cmocka_unit_test(test_different_pipeline_and_force_new),
        cmocka_unit_test(test_raise_generations),
        cmocka_unit_test(test_report),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
