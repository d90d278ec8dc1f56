/* test_correlate.c - `nascaps correlate` end to end on the synthetic
 * dataset: the table, correlation.csv and the --json line; a second run
 * trains nothing and writes the same file; a refused candidate is counted
 * and left out; one candidate gives "n/a" everywhere; kill -9 mid-study
 * then resume gives the statistics of an uninterrupted study without a
 * duplicate evaluation; a search's evaluations are found by a study of
 * the same epochs. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "nc_test.h"

static char *dir;

static const char base_cfg[] =
    "seed = 3;\n"
    "dataset = { plugin = \"synthetic\"; size = 8; classes = 3; train_count = 100;"
    " test_count = 60; };\n"
    "training = { batch_size = 20; threads = 1; max_params = 200000; };\n"
    "search_space = { deepcaps = false; resize = [1]; conv_layers = [1, 1]; first_kernel = 3;"
    " kernels = [3]; channels_log2 = [2, 3]; caps_layers = [2, 2]; caps_growth = [1, 2];"
    " class_dim_log2 = [2, 2]; };\n"
    "correlate = { samples = 5; epochs = 3; };\n";

/* over training.max_params = 200000: refused */
static const char big_chr[] =
    "[[0,8,1,1,3,1,8,64,1],[1,8,64,1,3,1,8,32,8],[1,8,32,8,8,1,1,3,16],[-1],[1]]\n";

static int setup(void **state)
{
    (void)state;
    dir = nc_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/base.cfg", dir);
    nc_test_write_file(path, base_cfg, strlen(base_cfg));
    snprintf(path, sizeof path, "%s/big.chr", dir);
    nc_test_write_file(path, big_chr, strlen(big_chr));
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

static char *read_in(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return nc_test_read_file(path, NULL);
}

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

static int json_int(json_t *o, const char *key)
{
    return (int)json_integer_value(json_object_get(o, key));
}

/* Rows of evaluations and distinct (genotype, cache_key) pairs. */
static void count_evaluations(const char *sub, int *rows, int *distinct)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/results.db", dir, sub);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*), count(DISTINCT genotype || cache_key)"
                                        " FROM evaluations",
                                        -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    *rows = sqlite3_column_int(s, 0);
    *distinct = sqlite3_column_int(s, 1);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

/* The CSV without its last column (timings differ between machines and
 * runs; everything else is a function of the seed). */
static char *without_seconds(const char *csv)
{
    char *copy = strdup(csv), *w = copy;
    for (const char *line = csv; *line;) {
        const char *end = strchr(line, '\n'), *comma = line;
        if (!end)
            end = line + strlen(line);
        for (const char *c = line; c < end; c++)
            if (*c == ',')
                comma = c;
        memcpy(w, line, (size_t)(comma - line));
        w += comma - line;
        *w++ = '\n';
        line = *end ? end + 1 : end;
    }
    *w = '\0';
    return copy;
}

static void test_study_and_rerun(void **state)
{
    (void)state;
    char *out, *err;
    int rc = run("correlate base.cfg --set output.dir=a --json", &out, &err);
    if (rc)
        fail_msg("exit %d: %s", rc, err);
    /* five lines on stderr, one per candidate, then the summary */
    assert_non_null(strstr(err, "candidate 1/5 "));
    assert_non_null(strstr(err, "candidate 5/5 "));
    assert_non_null(strstr(err, "nascaps correlate: 5 trained now, 0 found in a/results.db\n"));
    assert_true(strncmp(out, "5 candidates, 5 used, 0 failed; 3 epochs; accuracy on the test "
                             "split\nepoch    n pearson_r 95% CI ",
                        strlen("5 candidates, 5 used, 0 failed; 3 epochs; accuracy on the "
                               "test split\nepoch    n pearson_r 95% CI ")) == 0);
    assert_non_null(strstr(out, "\n    3    5    1.0000 [1.0000, 1.0000]       1.0000 "));
    assert_non_null(strstr(out, "written: a/correlation.csv\n"));
    json_t *j = last_json(out);
    assert_int_equal(json_int(j, "candidates"), 5);
    assert_int_equal(json_int(j, "used"), 5);
    assert_int_equal(json_int(j, "failed"), 0);
    assert_int_equal(json_int(j, "trained"), 5);
    assert_int_equal(json_int(j, "epochs"), 3);
    json_t *rows = json_object_get(j, "rows");
    assert_int_equal(json_array_size(rows), 3);
    /* r at E is 1 by definition; the recommendation is the first e >= 0.95 */
    json_t *last = json_array_get(rows, 2);
    assert_true(json_real_value(json_object_get(last, "pearson_r")) == 1.0);
    int rec = -1;
    for (int e = 0; e < 3; e++) {
        double r = json_real_value(json_object_get(json_array_get(rows, (size_t)e), "pearson_r"));
        if (rec < 0 && r >= 0.95)
            rec = e + 1;
        /* cumulative time grows */
        if (e > 0)
            assert_true(json_real_value(json_object_get(json_array_get(rows, (size_t)e),
                                                        "median_cumulative_s")) >=
                        json_real_value(json_object_get(json_array_get(rows, (size_t)e - 1),
                                                        "median_cumulative_s")));
    }
    assert_int_equal(json_int(j, "recommended_epochs"), rec);
    char line[128];
    snprintf(line, sizeof line, "recommended training.epochs: %d (the first epoch with r >= "
                                "0.95)\n", rec);
    assert_non_null(strstr(out, line));
    json_decref(j);
    free(out);
    free(err);

    char *csv = read_in("a/correlation.csv");
    static const char head[] =
        "epoch,n,pearson_r,ci_low,ci_high,spearman_rho,median_cumulative_s\n1,5,";
    assert_true(strncmp(csv, head, strlen(head)) == 0);
    assert_non_null(strstr(csv, "\n3,5,1.000000,1.000000,1.000000,1.000000,"));
    int rows_db, distinct;
    count_evaluations("a", &rows_db, &distinct);
    assert_int_equal(rows_db, 5);
    assert_int_equal(distinct, 5);

    /* again: nothing trained, the same file to the byte */
    assert_int_equal(run("correlate base.cfg --set output.dir=a --quiet", &out, &err), 0);
    assert_string_equal(err, "nascaps correlate: 0 trained now, 5 found in a/results.db\n");
    char *again = read_in("a/correlation.csv");
    assert_string_equal(again, csv);
    free(again);
    free(out);
    free(err);
    /* a higher target than any early epoch reaches */
    assert_int_equal(run("correlate base.cfg --set output.dir=a -q --target-r 1 --json", &out,
                         &err),
                     0);
    j = last_json(out);
    assert_true(json_real_value(json_object_get(j, "target_r")) == 1.0);
    json_decref(j);
    free(out);
    free(err);
    free(csv);
}

static void test_failed_and_undefined(void **state)
{
    (void)state;
    char *out, *err;
    /* the refused file is studied first, counted and left out */
    int rc = run("correlate base.cfg big.chr --set output.dir=b --json", &out, &err);
    if (rc)
        fail_msg("exit %d: %s", rc, err);
    assert_non_null(strstr(err, "candidate 1/6 "));
    assert_non_null(strstr(err, ": refused, accuracy -, 0.0 s training\n"));
    assert_true(strncmp(out, "6 candidates, 5 used, 1 failed (refused 1); 3 epochs;", 52) == 0);
    json_t *j = last_json(out);
    assert_int_equal(json_int(j, "used"), 5);
    assert_int_equal(json_int(j, "failed"), 1);
    assert_int_equal(json_int(json_object_get(j, "failed_by"), "refused"), 1);
    json_decref(j);
    free(out);
    free(err);
    /* the statistics are those of the five samples alone (study a) */
    char *a = read_in("a/correlation.csv"), *b = read_in("b/correlation.csv");
    char *a2 = without_seconds(a), *b2 = without_seconds(b);
    assert_string_equal(a2, b2);
    free(a);
    free(b);
    free(a2);
    free(b2);

    /* one candidate: nothing is defined */
    assert_int_equal(run("correlate base.cfg --set output.dir=c --set correlate.samples=1 "
                         "--quiet --json",
                         &out, &err),
                     0);
    assert_non_null(strstr(out, "\n    1    1       n/a n/a                       n/a "));
    assert_non_null(strstr(out, "recommended training.epochs: none (r never reaches 0.95 in 3 "
                                "epochs)\n"));
    j = last_json(out);
    assert_true(json_is_null(json_object_get(j, "recommended_epochs")));
    assert_true(json_is_null(json_object_get(json_array_get(json_object_get(j, "rows"), 0),
                                             "pearson_r")));
    json_decref(j);
    free(out);
    free(err);
    char *c = read_in("c/correlation.csv");
    assert_non_null(strstr(c, "\n1,1,,,,,"));
    assert_null(strstr(c, "nan"));
    free(c);

    /* usage and settings errors */
    assert_int_equal(run("correlate", &out, &err), 2);
    assert_string_equal(err, "nascaps correlate: no pipeline given (see 'nascaps help "
                             "correlate')\n");
    free(out);
    free(err);
    assert_int_equal(run("correlate base.cfg --target-r 0", &out, &err), 2);
    assert_string_equal(err, "nascaps correlate: --target-r takes a number in (0, 1], got '0' "
                             "(see 'nascaps help correlate')\n");
    free(out);
    free(err);
    assert_int_equal(run("correlate base.cfg --set correlate.epochs=0", &out, &err), 1);
    assert_string_equal(err, "nascaps: --set correlate.epochs: setting 'correlate.epochs': "
                             "expected an integer in [1, 1000], got 0\n");
    free(out);
    free(err);
}

/* Starts the CLI in the background with stderr to a file; returns its pid. */
static pid_t spawn(const char *args, const char *errfile)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "cd '%s' && exec '%s' %s >/dev/null 2>'%s'", dir, NC_TEST_CLI,
                 args, errfile);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void test_kill_and_resume(void **state)
{
    (void)state;
    /* larger trainings, so that the kill lands inside the study */
    const char *more = "--set dataset.train_count=600 --set dataset.size=12 "
                       "--set correlate.samples=4";
    char args[1024], errfile[1024], *out, *err;
    snprintf(args, sizeof args, "correlate base.cfg %s --set output.dir=full -q", more);
    int rc = run(args, &out, &err);
    if (rc)
        fail_msg("exit %d: %s", rc, err);
    free(out);
    free(err);

    snprintf(args, sizeof args, "correlate base.cfg %s --set output.dir=killed", more);
    snprintf(errfile, sizeof errfile, "%s/killed.err", dir);
    pid_t pid = spawn(args, errfile);
    /* wait for the second candidate to be stored, then kill -9 */
    struct timespec nap = {0, 20 * 1000 * 1000};
    int seen = 0;
    for (int i = 0; i < 3000 && !seen; i++) {
        nanosleep(&nap, NULL);
        char *text = nc_test_read_file(errfile, NULL);
        seen = text && strstr(text, "candidate 2/4 ") != NULL;
        free(text);
    }
    assert_true(seen);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));

    int rows_db, distinct;
    count_evaluations("killed", &rows_db, &distinct);
    assert_true(rows_db >= 2 && rows_db <= 4);

    snprintf(args, sizeof args, "correlate base.cfg %s --set output.dir=killed -q", more);
    rc = run(args, &out, &err);
    if (rc)
        fail_msg("exit %d: %s", rc, err);
    char want[128];
    snprintf(want, sizeof want, "nascaps correlate: %d trained now, %d found in "
                                "killed/results.db\n", 4 - rows_db, rows_db);
    assert_string_equal(err, want);
    free(out);
    free(err);
    count_evaluations("killed", &rows_db, &distinct);
    assert_int_equal(rows_db, 4);
    assert_int_equal(distinct, 4);
    char *a = read_in("full/correlation.csv"), *b = read_in("killed/correlation.csv");
    char *a2 = without_seconds(a), *b2 = without_seconds(b);
    assert_string_equal(a2, b2);
    free(a);
    free(b);
    free(a2);
    free(b2);
}

static void test_search_shares_evaluations(void **state)
{
    (void)state;
    char *out, *err;
    /* a random search of 3-epoch trainings, then a study of 3 epochs of
     * its front: every member is found, nothing is trained */
    int rc = run("run base.cfg --set output.dir=s --set training.epochs=3 "
                 "--set optimizer.plugin=random --set optimizer.samples=3 "
                 "--set optimizer.batch=3 -q",
                 &out, &err);
    if (rc)
        fail_msg("exit %d: %s", rc, err);
    free(out);
    free(err);
    rc = run("correlate base.cfg --set output.dir=s --set training.epochs=3 "
             "--set optimizer.plugin=random --set optimizer.samples=3 --set optimizer.batch=3 "
             "--set correlate.samples=0 s/front/*.chr --json -q",
             &out, &err);
    if (rc)
        fail_msg("exit %d: %s", rc, err);
    json_t *j = last_json(out);
    int n = json_int(j, "candidates");
    assert_true(n >= 1);
    assert_int_equal(json_int(j, "stored"), n);
    assert_int_equal(json_int(j, "trained"), 0);
    json_decref(j);
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_study_and_rerun),
        cmocka_unit_test(test_failed_and_undefined),
        cmocka_unit_test(test_kill_and_resume),
        cmocka_unit_test(test_search_shares_evaluations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
