/* test_exec.c - parallel evaluation (docs/SCALE.md): the wire protocol's
 * refusals (one crafted message per refusal, each message checked) and
 * exact round trip; then end to end on the synthetic dataset: serial,
 * --workers 3 and mpirun -np 3 give the same evaluations and a
 * byte-identical pareto.csv, each evaluation naming its worker; kill -9
 * of a local worker (restarted, same result); kill -9 of the coordinator
 * resumed under another transport;
 * kill -9 of an MPI rank (mpirun ends within 30 s, the rerun resumes); an
 * MPI worker whose dataset differs is refused naming it. Stage 2 runs on
 * the same workers: every comparison includes its epochs and the front's
 * weights files byte for byte; kill -9 of a worker or of the coordinator in
 * stage 2; a spoiled checkpoint stops it naming the file. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "exec/exec.h"
#include "nc_test.h"
#include "train/train_internal.h"

static char *dir;

/* 4 + 4 x 2 candidates of tiny networks on 8 x 8 images, ~0.2 s each: long
 * enough that a kill after the second lands while the run goes on. */
static const char train_cfg[] =
    "seed = 11;\n"
    "dataset = { plugin = \"synthetic\"; size = 8; classes = 3; train_count = 600;\n"
    "            test_count = 30; validation = 30; };\n"
    "training = { epochs = 2; batch_size = 20; threads = 1; };\n"
    "objectives = [\"accuracy_drop\", \"energy\", \"params\"];\n"
    "search_space = { deepcaps = false; resize = [1]; conv_layers = [1, 2];\n"
    "                 first_kernel = 3; kernels = [3, 5]; channels_log2 = [2, 4];\n"
    "                 caps_layers = [2, 2]; caps_growth = [1, 3]; max_caps = 8;\n"
    "                 class_dim_log2 = [2, 3]; };\n"
    "optimizer = { plugin = \"nsga2\"; population = 4; offspring = 4; generations = 2; };\n"
    "final_training = { epochs = 3; };\n";

static char cfg_path[512];

static int setup(void **state)
{
    (void)state;
    dir = nc_test_tmpdir();
    snprintf(cfg_path, sizeof cfg_path, "%s/train.cfg", dir);
    nc_test_write_file(cfg_path, train_cfg, strlen(train_cfg));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nc_test_rmtree(dir);
    free(dir);
    return 0;
}

/* Open MPI's root switches; and no leak report from MPI runs under ASan:
 * Open MPI unloads its components at MPI_Finalize, leaving allocations
 * LeakSanitizer can neither attribute nor suppress by library (local
 * workers keep the full leak check). */
#define MPI_ENV                                                                               \
    "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "                          \
    "ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:detect_leaks=0\" "

static int have_mpi(void)
{
    return NC_TEST_HAVE_MPI && NC_TEST_MPIEXEC[0];
}

/* The command prefix of a transport: "" (serial), "--workers N" goes after. */
static void command(const char *name, const char *mpi, const char *args, char *buf, size_t size)
{
    if (mpi)
        snprintf(buf, size,
                 MPI_ENV "'%s' -np %s "
                 "--oversubscribe '%s' run '%s' --quiet --set 'output.dir=\"%s/%s\"' %s",
                 NC_TEST_MPIEXEC, mpi, NC_TEST_CLI, cfg_path, dir, name, args ? args : "");
    else
        snprintf(buf, size, "'%s' run '%s' --quiet --set 'output.dir=\"%s/%s\"' %s", NC_TEST_CLI,
                 cfg_path, dir, name, args ? args : "");
}

static int run(const char *name, const char *mpi, const char *args, char **err)
{
    char cmd[4096];
    command(name, mpi, args, cmd, sizeof cmd);
    return nc_test_run(cmd, NULL, err);
}

/* Starts cmd in the background (stderr to dir/NAME.err); cmd ends by
 * exec'ing nascaps, so the pid is the run's. */
static pid_t spawn_command(const char *cmd, const char *name)
{
    char full[4600];
    snprintf(full, sizeof full, "%s 2>'%s/%s.err' >/dev/null", cmd, dir, name);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", full, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Starts a run of the transport in the background. */
static pid_t spawn(const char *name, const char *mpi, const char *args)
{
    char cmd[4096], full[4200];
    command(name, mpi, args, cmd, sizeof cmd);
    snprintf(full, sizeof full, "exec %s", cmd);
    return spawn_command(full, name);
}

static char *db_text(const char *name, const char *sql)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/results.db", dir, name);
    sqlite3 *db = NULL;
    char *v = NULL;
    if (access(path, F_OK) == 0 &&
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 2000);
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
                v = strdup((const char *)sqlite3_column_text(s, 0));
            sqlite3_finalize(s);
        }
    }
    sqlite3_close(db);
    return v;
}

static long long db_count(const char *name)
{
    char *t = db_text(name, "SELECT count(*) FROM evaluations");
    long long v = t ? atoll(t) : -1;
    free(t);
    return v;
}

/* Every evaluation's content (not its row id or timings), in gid order. */
static const char evals_sql[] =
    "SELECT group_concat(x, ';') FROM (SELECT gid || ',' || generation || ',' || status || ','"
    " || quote(accuracy) || ',' || quote(test_accuracy) || ',' || quote(validation_accuracy)"
    " || ',' || quote(energy_mj) || ',' || quote(latency_ms) || ',' || quote(memory_kib) || ','"
    " || params || ',' || macs || ',' || epochs_done AS x FROM evaluations ORDER BY gid)";

/* Stage 2's epochs (not timings or who trained them), in gid order. */
static const char final_sql[] =
    "SELECT group_concat(x, ';') FROM (SELECT e.gid || ',' || f.epoch || ',' || f.complete"
    " || ',' || quote(f.train_loss) || ',' || quote(f.train_accuracy) || ','"
    " || quote(f.test_accuracy) || ',' || quote(f.validation_accuracy) AS x"
    " FROM final_epochs f JOIN evaluations e ON e.id = f.eval_id ORDER BY e.gid, f.epoch)";

/* Every file of a's front/ is in b's, byte for byte, and the other way. */
static void assert_same_front_files(const char *a, const char *b)
{
    for (int pass = 0; pass < 2; pass++) {
        const char *x = pass ? b : a, *y = pass ? a : b;
        char fa[1024];
        snprintf(fa, sizeof fa, "%s/%s/front", dir, x);
        DIR *d = opendir(fa);
        assert_non_null(d);
        struct dirent *de;
        int files = 0;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            char pa[1400], pb[1400];
            snprintf(pa, sizeof pa, "%s/%s/front/%s", dir, x, de->d_name);
            snprintf(pb, sizeof pb, "%s/%s/front/%s", dir, y, de->d_name);
            size_t la = 0, lb = 0;
            char *ca = nc_test_read_file(pa, &la);
            if (access(pb, F_OK) != 0)
                fail_msg("%s is in %s's front/ but not in %s's", de->d_name, x, y);
            char *cb = nc_test_read_file(pb, &lb);
            if (la != lb || memcmp(ca, cb, la) != 0)
                fail_msg("front/%s differs between %s and %s", de->d_name, x, y);
            free(ca);
            free(cb);
            files++;
        }
        closedir(d);
        /* every member has its weights (.bin) and its genotype (.chr) */
        assert_true(files >= 2);
    }
}

static void assert_same_run(const char *a, const char *b)
{
    char pa[1024], pb[1024];
    snprintf(pa, sizeof pa, "%s/%s/pareto.csv", dir, a);
    snprintf(pb, sizeof pb, "%s/%s/pareto.csv", dir, b);
    char *x = nc_test_read_file(pa, NULL), *y = nc_test_read_file(pb, NULL);
    if (strcmp(x, y) != 0)
        fail_msg("pareto.csv differs between %s and %s:\n%s\n---\n%s", a, b, x, y);
    free(x);
    free(y);
    /* the same evaluations; stage 2 trained the same front the same way */
    static const char *const queries[][2] = {{"evaluations", evals_sql},
                                             {"stage 2", final_sql}};
    for (int q = 0; q < 2; q++) {
        x = db_text(a, queries[q][1]);
        y = db_text(b, queries[q][1]);
        assert_non_null(x);
        assert_non_null(y);
        if (strcmp(x, y) != 0)
            fail_msg("%s differ between %s and %s:\n%s\n---\n%s", queries[q][0], a, b, x, y);
        free(x);
        free(y);
    }
    assert_same_front_files(a, b);
}

/* Every evaluation of NAME records who evaluated it: "serial" (workers 0)
 * or one of w1..w<workers>@this host (more than one of them: the
 * identity is per evaluation), with the pipeline's training.threads (1). */
static void assert_evaluated_by(const char *name, int workers)
{
    char host[64] = "localhost", names[1024] = "'serial'", sql[1400];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    size_t used = 0;
    for (int k = 1; k <= workers; k++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s'w%d@%s'", k > 1 ? "," : "",
                                 k, host);
    snprintf(sql, sizeof sql,
             "SELECT count(*) || ' ' || coalesce(sum(worker IS NULL OR worker NOT IN (%s) OR"
             " threads IS NOT 1), 0) || ' ' || count(DISTINCT worker) FROM evaluations",
             names);
    char *got = db_text(name, sql);
    assert_non_null(got);
    int total = 0, wrong = -1, distinct = 0;
    assert_int_equal(sscanf(got, "%d %d %d", &total, &wrong, &distinct), 3);
    if (total == 0 || wrong != 0 || (workers > 1 ? distinct < 2 : distinct != 1)) {
        char *rows = db_text(name, "SELECT group_concat(gid || ' ' || quote(worker) || ' ' ||"
                                   " quote(threads), '; ') FROM evaluations");
        fail_msg("%s: evaluations (count, wrong, distinct workers) %s, allowed %s: %s", name,
                 got, names, rows ? rows : "?");
    }
    free(got);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits until NAME has at least k evaluations (or pid ended). */
static int wait_count(pid_t pid, const char *name, long long k)
{
    for (int i = 0; i < 6000; i++) {
        if (db_count(name) >= k)
            return 1;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return 0;
        sleep_ms(10);
    }
    return 0;
}

/* A file of /proc/PID as text (NULs become spaces). */
static char *proc_text(int pid, const char *what)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, what);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65537);
    size_t n = fread(buf, 1, 65536, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
        if (!buf[i])
            buf[i] = ' ';
    return buf;
}

/* Processes whose command line mentions `mark` and whose environment
 * (or parent) matches: a child of `parent` (> 0), or the MPI rank `rank`. */
static int find_process(const char *mark, int parent, int rank)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    int found = 0;
    while (d && !found && (de = readdir(d)) != NULL) {
        int pid = atoi(de->d_name);
        if (pid <= 0)
            continue;
        char *cmd = proc_text(pid, "cmdline"), *stat = proc_text(pid, "stat");
        if (cmd && stat && strstr(cmd, mark) && !strstr(cmd, "mpirun") && !strstr(cmd, "sh -c")) {
            int ppid = 0;
            const char *close_paren = strrchr(stat, ')');
            if (close_paren)
                sscanf(close_paren + 2, "%*c %d", &ppid);
            if ((parent > 0 && ppid == parent) || (parent == 0 && rank < 0)) {
                found = pid;
            } else if (rank >= 0) {
                char *env = proc_text(pid, "environ"), want[64];
                snprintf(want, sizeof want, "OMPI_COMM_WORLD_RANK=%d ", rank);
                if (env && strstr(env, want))
                    found = pid;
                free(env);
            }
        }
        free(cmd);
        free(stat);
    }
    if (d)
        closedir(d);
    return found;
}

static char *read_err(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.err", dir, name);
    return nc_test_read_file(path, NULL);
}

/* ---- The wire protocol ---------------------------------------------------------- */

static void expect_refusal(int rc, const nc_error *err, const char *want)
{
    assert_int_equal(rc, NC_ERR_INPUT);
    if (!strstr(err->msg, want))
        fail_msg("message '%s' lacks '%s'", err->msg, want);
}

static void test_wire_result_round_trip(void **state)
{
    (void)state;
    nc_error err;
    nc_exec_result a, b;
    assert_int_equal(nc_exec_result_init(&a, &err), NC_OK);
    assert_int_equal(nc_exec_result_init(&b, &err), NC_OK);
    a.slot = 7;
    a.threads = 2;
    snprintf(a.worker, sizeof a.worker, "w3@node");
    snprintf(a.rec.gid, sizeof a.rec.gid, "0123456789ab");
    snprintf(a.rec.genotype, sizeof a.rec.genotype, "[[0,8,1,1,3,1,8,4,1],[-1],[1]]");
    snprintf(a.rec.cache_key, sizeof a.rec.cache_key, "00112233aabbccdd");
    snprintf(a.rec.status, sizeof a.rec.status, "diverged");
    snprintf(a.rec.reason, sizeof a.rec.reason, "loss is NaN\nat epoch 2");
    a.rec.accuracy = 1.0 / 3.0;
    a.rec.test_accuracy = NAN;
    a.rec.validation_accuracy = 0.1 + 0.2;
    a.rec.energy_mj = 1e-300;
    a.rec.latency_ms = INFINITY;
    a.rec.memory_kib = 123.456;
    a.rec.params = 9007199254740993LL;
    a.rec.macs = 42;
    a.rec.epochs_done = 2;
    a.rec.train_seconds = 0.5;
    a.rec.seconds = 0.75;
    a.n_epochs = 2;
    a.epochs[0] = (nc_epoch_rec){1, 1, 2.5, 1.0 / 7.0, 0.25, 0.5, 0.1};
    a.epochs[1] = (nc_epoch_rec){2, 0, NAN, 0.0, -0.0, 1.0, 3.0};
    char *msg = nc_wire_result(&a);
    assert_non_null(msg);
    assert_int_equal(nc_wire_parse_result(msg, "w3@node", &b, &err), NC_OK);
    free(msg);
    assert_int_equal(b.slot, 7);
    assert_int_equal(b.threads, 2);
    assert_string_equal(b.worker, "w3@node");
    assert_string_equal(b.rec.reason, "loss is NaN at epoch 2");
    assert_string_equal(b.rec.genotype, a.rec.genotype);
    assert_true(b.rec.accuracy == a.rec.accuracy);
    assert_true(isnan(b.rec.test_accuracy));
    assert_true(b.rec.validation_accuracy == a.rec.validation_accuracy);
    assert_true(b.rec.energy_mj == 1e-300 && isinf(b.rec.latency_ms));
    assert_true(b.rec.params == a.rec.params);
    assert_int_equal(b.n_epochs, 2);
    assert_true(b.epochs[0].train_accuracy == 1.0 / 7.0);
    assert_true(isnan(b.epochs[1].train_loss) && b.epochs[1].complete == 0);
    nc_exec_result_free(&a);
    nc_exec_result_free(&b);
}

static void test_wire_refusals(void **state)
{
    (void)state;
    nc_error err;
    nc_exec_result r;
    assert_int_equal(nc_exec_result_init(&r, &err), NC_OK);
    expect_refusal(nc_wire_parse_result("hello\n", "w1@a", &r, &err), &err,
                   "w1@a: not a nascaps result message (expected 'nascaps-result 2', found "
                   "'hello')");
    expect_refusal(nc_wire_parse_result("nascaps-result 9\n", "w1@a", &r, &err), &err,
                   "w1@a: protocol version '9', this nascaps speaks 2");
    expect_refusal(nc_wire_parse_result("nascaps-result 2\nslot 1\n", "w1@a", &r, &err), &err,
                   "w1@a: result message without the field 'stopped'");
    expect_refusal(nc_wire_parse_result("nascaps-result 2\nslot x\n", "w1@a", &r, &err), &err,
                   "w1@a: result field 'slot': expected an integer in 0..1073741824, found 'x'");
    /* a good message with one field spoiled at a time */
    nc_exec_result a;
    assert_int_equal(nc_exec_result_init(&a, &err), NC_OK);
    snprintf(a.rec.status, sizeof a.rec.status, "ok");
    snprintf(a.worker, sizeof a.worker, "w1@a");
    a.n_epochs = 1;
    a.epochs[0] = (nc_epoch_rec){0, 0, 0.0, 0.0, 0.0, 0.0, 0.0};
    char *good = nc_wire_result(&a);
    char *bad = malloc(strlen(good) + 64);
    char *at = strstr(good, "status ok");
    snprintf(bad, strlen(good) + 64, "%.*sstatus great%s", (int)(at - good), good, at + 9);
    expect_refusal(nc_wire_parse_result(bad, "w1@a", &r, &err), &err,
                   "w1@a: result field 'status': expected ok, time_limit, diverged, refused, "
                   "invalid, pruned or over_budget, found 'great'");
    at = strstr(good, "accuracy ");
    snprintf(bad, strlen(good) + 64, "%.*saccuracy high%s", (int)(at - good), good,
             strchr(at, '\n'));
    expect_refusal(nc_wire_parse_result(bad, "w1@a", &r, &err), &err,
                   "w1@a: result field 'accuracy': expected a number, found 'high'");
    at = strstr(good, "epoch 0 0 ");
    snprintf(bad, strlen(good) + 64, "%.*sepoch 1 1 0.5\n", (int)(at - good), good);
    expect_refusal(nc_wire_parse_result(bad, "w1@a", &r, &err), &err,
                   "w1@a: result epoch row 1: expected 'epoch N COMPLETE LOSS");
    free(bad);
    free(good);
    nc_exec_result_free(&a);
    nc_exec_result_free(&r);

    nc_exec_job job;
    nc_final_state fs;
    memset(&fs, 0, sizeof fs);
    int quit = 0;
    expect_refusal(nc_wire_parse_job("nascaps-job 2\nslot 2\nepochs 3\ntrains 1\n", "coordinator", &job,
                                     &fs, &quit, &err),
                   &err, "coordinator: job message without the field 'genotype'");
    assert_int_equal(nc_wire_parse_job("nascaps-quit 2\n", "coordinator", &job, &fs, &quit, &err),
                     NC_OK);
    assert_int_equal(quit, 1);

    /* a job's early-stopping plan: round trip, then one refusal per field */
    static nc_exec_job plan, back;
    memset(&plan, 0, sizeof plan);
    plan.slot = 4;
    plan.epochs = 3;
    plan.trains = 1;
    snprintf(plan.genotype, sizeof plan.genotype, "[[0,8,1,1,3,1,8,4,1],[-1],[1]]");
    plan.prune.epochs = 3;
    plan.prune.min_acc[0] = 0.1 / 3.0;
    plan.prune.min_acc[1] = -INFINITY;
    snprintf(plan.prune.why[0], sizeof plan.prune.why[0], "member abc\nahead");
    char *msg = nc_wire_job(&plan);
    assert_non_null(msg);
    assert_int_equal(nc_wire_parse_job(msg, "coordinator", &back, &fs, &quit, &err), NC_OK);
    assert_int_equal(back.prune.epochs, 3);
    assert_true(back.prune.min_acc[0] == plan.prune.min_acc[0]);   /* bit-exact */
    assert_true(isinf(back.prune.min_acc[1]) && back.prune.min_acc[1] < 0);
    assert_string_equal(back.prune.why[0], "member abc ahead");   /* one line */
    const char *bad_plan[][3] = {
        {"prune_epochs 3\n", "prune_epochs 65\n",
         "coordinator: job field 'prune_epochs': expected an integer in 0..64, found '65'"},
        {"prune_min_1 ", "prune_min_1 nan\nx ",
         "coordinator: job field 'prune_min_1': NaN"},
        {"prune_why_2 ", "prune_whY_2 ",
         "coordinator: job message without the field 'prune_why_2'"},
    };
    for (int k = 0; k < 3; k++) {
        const char *pos = strstr(msg, bad_plan[k][0]);
        assert_non_null(pos);
        size_t cut = strcspn(pos, "\n");
        char *crafted = malloc(strlen(msg) + 64);
        if (k == 0)   /* replace the whole line */
            sprintf(crafted, "%.*s%s%s", (int)(pos - msg), msg, bad_plan[k][1], pos + cut + 1);
        else          /* replace the key (and for the NaN, the value) */
            sprintf(crafted, "%.*s%s%s", (int)(pos - msg), msg, bad_plan[k][1],
                    pos + strlen(bad_plan[k][0]));
        expect_refusal(nc_wire_parse_job(crafted, "coordinator", &back, &fs, &quit, &err), &err,
                       bad_plan[k][2]);
        free(crafted);
    }
    free(msg);
}

/* Replaces the first occurrence of `from` in msg by `to` (malloc'd). */
static char *spoil(const char *msg, const char *from, const char *to)
{
    const char *at = strstr(msg, from);
    assert_non_null(at);
    size_t n = strlen(msg) + strlen(to) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%.*s%s%s", (int)(at - msg), msg, to, at + strlen(from));
    return out;
}

/* A stage-2 job and its result carry the member's state exactly (weights
 * file bytes of every length mod 3, Adam's moments, the generators); each
 * spoiled field is refused with one line. */
static void test_wire_stage2(void **state)
{
    (void)state;
    nc_error err;
    unsigned char bytes[10];
    float adam[4] = {1.0f / 3.0f, -0.0f, 1e-30f, 3.5e7f};
    for (int i = 0; i < 10; i++)
        bytes[i] = (unsigned char)(i * 53 + 7);
    for (size_t len = 1; len <= 3; len++) {
        nc_final_state in;
        memset(&in, 0, sizeof in);
        in.epochs_done = 2;
        in.shuffle = (nc_rng){{1, 2, 3, 0xffffffffffffffffULL}};
        in.augment = (nc_rng){{5, 6, 7, 8}};
        in.adam_step = 1234567;
        in.weights = bytes;
        in.weights_len = 7 + len;
        in.adam = adam;
        in.adam_count = 2;
        snprintf(in.origin, sizeof in.origin, "run/front/abc.e2.bin");
        nc_exec_job job, back;
        memset(&job, 0, sizeof job);
        job.slot = 3;
        job.epochs = 5;
        job.trains = 1;
        snprintf(job.genotype, sizeof job.genotype, "[[0,8,1,1,3,1,8,4,1],[-1],[1]]");
        job.final = &in;
        char *msg = nc_wire_job(&job);
        assert_non_null(msg);
        nc_final_state got;
        memset(&got, 0, sizeof got);
        int quit = 0;
        assert_int_equal(nc_wire_parse_job(msg, "coordinator", &back, &got, &quit, &err), NC_OK);
        assert_ptr_equal(back.final, &got);
        assert_int_equal(got.epochs_done, 2);
        assert_int_equal(got.weights_len, in.weights_len);
        assert_memory_equal(got.weights, bytes, in.weights_len);
        assert_int_equal(got.adam_count, 2);
        assert_memory_equal(got.adam, adam, sizeof adam);   /* bit-exact, -0 included */
        assert_true(got.adam_step == 1234567);
        assert_memory_equal(&got.shuffle, &in.shuffle, sizeof in.shuffle);
        assert_memory_equal(&got.augment, &in.augment, sizeof in.augment);
        assert_string_equal(got.origin, in.origin);
        nc_final_state_free(&got);
        /* a search job carries no state */
        job.final = NULL;
        char *plain = nc_wire_job(&job);
        assert_int_equal(nc_wire_parse_job(plain, "coordinator", &back, &got, &quit, &err),
                         NC_OK);
        assert_null(back.final);
        free(plain);
        if (len == 1) {
            const char *bad[][3] = {
                {"kind final", "kind later", "coordinator: job field 'kind': expected eval or final, found 'later'"},
                {"weights_len 8", "weights_len 9", "coordinator: job field 'weights': 8 bytes, expected 9"},
                {"weights ", "weights *", "coordinator: job field 'weights': not base64"},
                {"adam_count 2", "adam_count 3", "coordinator: job field 'adam': 16 bytes, expected 24"},
                {"shuffle ", "shuffle 12 ", "coordinator: job field 'shuffle': expected four 16-digit hex words"},
                {"adam_step ", "adam_step -", "coordinator: job field 'adam_step': expected an integer"},
            };
            for (int k = 0; k < 6; k++) {
                char *crafted = spoil(msg, bad[k][0], bad[k][1]);
                expect_refusal(nc_wire_parse_job(crafted, "coordinator", &back, &got, &quit, &err),
                               &err, bad[k][2]);
                assert_null(got.weights);   /* nothing left behind */
                free(crafted);
            }
        }
        free(msg);
    }

    /* a result: a trained epoch brings its row and the weights after it */
    nc_exec_result a, b;
    assert_int_equal(nc_exec_result_init(&a, &err), NC_OK);
    assert_int_equal(nc_exec_result_init(&b, &err), NC_OK);
    a.slot = 1;
    a.is_final = 1;
    snprintf(a.worker, sizeof a.worker, "w2@node");
    snprintf(a.rec.status, sizeof a.rec.status, "ok");
    a.n_epochs = 1;
    a.epochs[0] = (nc_epoch_rec){3, 1, 0.25, 0.5, 0.75, NAN, 1.5};
    a.final.epochs_done = 3;
    a.final.weights = malloc(5);
    memcpy(a.final.weights, "NCWEI", 5);
    a.final.weights_len = 5;
    char *msg = nc_wire_result(&a);
    assert_int_equal(nc_wire_parse_result(msg, "w2@node", &b, &err), NC_OK);
    assert_true(b.is_final);
    assert_int_equal(b.final.weights_len, 5);
    assert_memory_equal(b.final.weights, "NCWEI", 5);
    assert_int_equal(b.n_epochs, 1);
    assert_true(b.epochs[0].test_accuracy == 0.75);
    char *crafted = spoil(msg, "final_epochs_done 3", "final_epochs_done 4");
    expect_refusal(nc_wire_parse_result(crafted, "w2@node", &b, &err), &err,
                   "w2@node: stage 2 result with status ok, 1 epoch rows (epoch 3) and its weights "
                   "after 4 epochs: inconsistent");
    free(crafted);
    crafted = spoil(msg, "status ok", "status pruned");
    expect_refusal(nc_wire_parse_result(crafted, "w2@node", &b, &err), &err,
                   "w2@node: result field 'status': expected ok, diverged, refused or error, "
                   "found 'pruned'");
    free(crafted);
    free(msg);
    nc_exec_result_free(&a);
    nc_exec_result_free(&b);
}

static void test_hello_checks(void **state)
{
    (void)state;
    nc_error err;
    nc_wire_hello_msg h;
    char *msg = nc_wire_hello("w2@node7", 4, 0x1111, 0x2222,
                              "dataset.train_images = /data/a-idx3-ubyte", NULL);
    assert_int_equal(nc_wire_parse_hello(msg, "rank 2", &h, &err), NC_OK);
    free(msg);
    assert_string_equal(h.worker, "w2@node7");
    assert_int_equal(h.threads, 4);
    assert_int_equal(nc_wire_check_hello(&h, 0x1111, 0x2222, &err), NC_OK);
    expect_refusal(nc_wire_check_hello(&h, 0x1112, 0x2222, &err), &err,
                   "worker w2@node7: its dataset differs from the coordinator's (fingerprint "
                   "0000000000001111, coordinator 0000000000001112; its files: "
                   "dataset.train_images = /data/a-idx3-ubyte)");
    expect_refusal(nc_wire_check_hello(&h, 0x1111, 0x2223, &err), &err,
                   "worker w2@node7: its pipeline differs from the coordinator's");
    msg = nc_wire_hello("w3@node8", 1, 0, 0, "", "/data/x: cannot open: No such file");
    assert_int_equal(nc_wire_parse_hello(msg, "rank 3", &h, &err), NC_OK);
    free(msg);
    expect_refusal(nc_wire_check_hello(&h, 0x1111, 0x2222, &err), &err,
                   "worker w3@node8 could not start: /data/x: cannot open: No such file");
    expect_refusal(nc_wire_parse_hello("nascaps-hello 2\nworker w\nthreads 1\ndata 12\n", "rank 4",
                                       &h, &err),
                   &err, "rank 4: hello field 'data': expected 16 hex digits, found '12'");
}

/* training.threads = 0 picks one thread for small networks, all cores
 * for large ones; an explicit number is obeyed; workers split the cores. */
static void test_threads(void **state)
{
    (void)state;
    assert_int_equal(nc_train_auto_threads(0, 100000, 8), 1);
    assert_int_equal(nc_train_auto_threads(0, NC_TRAIN_ONE_THREAD_MACS - 1, 8), 1);
    assert_int_equal(nc_train_auto_threads(0, NC_TRAIN_ONE_THREAD_MACS, 8), 8);
    assert_int_equal(nc_train_auto_threads(3, 100000, 8), 3);
    assert_int_equal(nc_train_auto_threads(3, 4000000000LL, 8), 3);
    nc_settings s;
    memset(&s, 0, sizeof s);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(nc_exec_threads(&s, 1), (int)cores);
    assert_int_equal(nc_exec_threads(&s, (int)cores * 4), 1);
    s.training.threads = 5;
    assert_int_equal(nc_exec_threads(&s, 2), 5);
    /* what a result records: the threads its training used */
    nc_train_opts o;
    memset(&o, 0, sizeof o);
    o.max_threads = 3;
    assert_int_equal(nc_train_threads_of(&o, 100000), 1);
    assert_int_equal(nc_train_threads_of(&o, NC_TRAIN_ONE_THREAD_MACS), 3);
    o.threads = 2;
    assert_int_equal(nc_train_threads_of(&o, NC_TRAIN_ONE_THREAD_MACS), 2);
    o.threads = 0;
    o.max_threads = 0;
    assert_int_equal(nc_train_threads_of(&o, NC_TRAIN_ONE_THREAD_MACS), (int)cores);
}

/* ---- End to end ---------------------------------------------------------------- */

static void test_workers_usage(void **state)
{
    (void)state;
    char *err = NULL;
    assert_int_equal(run("u", NULL, "--workers many", &err), 2);
    assert_non_null(strstr(err, "nascaps run: --workers expects a number of processes 0..1024, "
                                "got 'many'"));
    free(err);
    err = NULL;
    assert_int_equal(run("u", NULL, "--set run.workers=-1", &err), 1);
    assert_non_null(strstr(err, "run.workers"));
    free(err);
}

static void test_transports_agree(void **state)
{
    (void)state;
    char *err = NULL;
    if (run("serial", NULL, NULL, &err) != 0)
        fail_msg("serial run failed: %s", err);
    free(err);
    err = NULL;
    if (run("w3", NULL, "--workers 3", &err) != 0)
        fail_msg("--workers 3 failed: %s", err);
    free(err);
    /* the run's records say who evaluated */
    char *ex = db_text("w3", "SELECT value FROM meta WHERE key = 'executor'");
    assert_non_null(ex);
    assert_non_null(strstr(ex, "workers 3 (w"));
    assert_non_null(strstr(ex, " threads=1"));
    free(ex);
    assert_int_equal(db_count("serial"), 12);
    assert_same_run("serial", "w3");
    /* and each evaluation says who evaluated it */
    assert_evaluated_by("serial", 0);
    assert_evaluated_by("w3", 3);
    /* and the report's workers table shows them */
    char rp[1024];
    snprintf(rp, sizeof rp, "%s/w3/report/report.html", dir);
    char *page = nc_test_read_file(rp, NULL);
    const char *table = strstr(page, "<h2>Workers</h2>");
    assert_non_null(table);
    for (int k = 1; k <= 3; k++) {
        char cell[96];
        snprintf(cell, sizeof cell, "<tr><td>w%d@", k);
        assert_non_null(strstr(table, cell));
    }
    free(page);
    if (!have_mpi()) {
        /* this build has no MPI module: a run under mpirun says so */
        char cmd[4096];
        command("nompi", NULL, NULL, cmd, sizeof cmd);
        char full[4200];
        snprintf(full, sizeof full, "env OMPI_COMM_WORLD_SIZE=3 %s", cmd);
        err = NULL;
        assert_int_equal(nc_test_run(full, NULL, &err), 1);
        assert_non_null(strstr(err, "started under mpirun/srun, but this nascaps was built "
                                    "without MPI"));
        free(err);
        return;
    }
    err = NULL;
    if (run("mpi3", "3", NULL, &err) != 0)
        fail_msg("mpirun -np 3 failed: %s", err);
    free(err);
    assert_same_run("serial", "mpi3");
    assert_evaluated_by("mpi3", 2);   /* ranks 1 and 2 */
}

/* kill -9 of one local worker mid-run: restarted, the candidate redone,
 * the same result. */
static void test_kill_local_worker(void **state)
{
    (void)state;
    pid_t pid = spawn("wk", NULL, "--workers 2");
    assert_true(wait_count(pid, "wk", 2));
    int worker = 0;
    for (int i = 0; i < 200 && !worker; i++, sleep_ms(5))
        worker = find_process("/wk", pid, -1);
    assert_true(worker > 0);
    assert_int_equal(kill(worker, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    char *err = read_err("wk");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("run with a killed worker failed: %s", err);
    assert_non_null(strstr(err, "died (pid"));
    assert_non_null(strstr(err, "killed by signal 9"));
    free(err);
    assert_same_run("serial", "wk");
    assert_evaluated_by("wk", 2);   /* the restarted worker keeps its name */
}

/* kill -9 of the coordinator: its workers end with it; the run resumes
 * under another transport with the same result. */
static void test_kill_coordinator_resume(void **state)
{
    (void)state;
    pid_t pid = spawn("ck", NULL, "--workers 2");
    assert_true(wait_count(pid, "ck", 5));
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    int left = 1;
    for (int i = 0; i < 300 && left; i++, sleep_ms(10))
        left = find_process("/ck", 0, -1);
    assert_int_equal(left, 0);   /* its workers died with it */
    char *err = NULL;
    if (run("ck", have_mpi() ? "3" : NULL, NULL, &err) != 0)
        fail_msg("resume failed: %s", err);
    free(err);
    assert_same_run("serial", "ck");
}

/* kill -9 of an MPI worker rank: mpirun ends within 30 s, non-zero, naming
 * the candidates in flight; the rerun finishes with the same result. */
static void test_kill_mpi_rank(void **state)
{
    (void)state;
    if (!have_mpi())
        skip();
    pid_t pid = spawn("mk", "3", NULL);
    assert_true(wait_count(pid, "mk", 2));
    int rank = 0;
    for (int i = 0; i < 200 && !rank; i++, sleep_ms(5))
        rank = find_process("/mk", 0, 1);
    assert_true(rank > 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(kill(rank, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 30);
    assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *err = read_err("mk");
    if (!strstr(err, "rank 1"))
        fail_msg("no message naming rank 1: %s", err);
    free(err);
    err = NULL;
    if (run("mk", "3", NULL, &err) != 0)
        fail_msg("rerun failed: %s", err);
    free(err);
    assert_same_run("serial", "mk");
}

/* `nascaps correlate` through the executors: the same evaluations. */
static void test_correlate_workers(void **state)
{
    (void)state;
    char path[600], cmd[4096], *err = NULL;
    snprintf(path, sizeof path, "%s/corr.cfg", dir);
    char *text = malloc(sizeof train_cfg + 64);
    snprintf(text, sizeof train_cfg + 64, "%scorrelate = { samples = 5; epochs = 2; };\n",
             train_cfg);
    nc_test_write_file(path, text, strlen(text));
    free(text);
    static const char *const how[] = {"cs", "", "cw", "--workers 2", "cm", NULL};
    for (int i = 0; i < 3; i++) {
        if (i == 2 && !have_mpi())
            break;
        char prefix[512] = "";
        if (i == 2)
            snprintf(prefix, sizeof prefix,
                     MPI_ENV "'%s' -np 3 --oversubscribe ",
                     NC_TEST_MPIEXEC);
        snprintf(cmd, sizeof cmd, "%s'%s' correlate '%s' --quiet --set 'output.dir=\"%s/%s\"' %s",
                 prefix, NC_TEST_CLI, path, dir, how[2 * i], how[2 * i + 1] ? how[2 * i + 1] : "");
        err = NULL;
        if (nc_test_run(cmd, NULL, &err) != 0)
            fail_msg("%s failed: %s", cmd, err);
        free(err);
    }
    char *a = db_text("cs", evals_sql), *b = db_text("cw", evals_sql);
    assert_non_null(a);
    assert_string_equal(a, b);
    assert_evaluated_by("cs", 0);
    assert_evaluated_by("cw", 2);
    free(b);
    if (have_mpi()) {
        b = db_text("cm", evals_sql);
        assert_non_null(b);
        assert_string_equal(a, b);
        free(b);
    }
    free(a);
}

/* ---- Stage 2 on the workers ------------------------------------------------------ */

/* The search runs once (stage 2 off); each stage-2 test trains its front in
 * a copy of that folder, 40 epochs: long enough to kill mid-way. Runs start
 * in dir/NAME, so the output folder (runs/train) is the same setting in
 * every copy and the pipeline may resume there. */
#define S2_EPOCHS "--set final_training.epochs=40"

static void s2_command(const char *name, const char *mpi, const char *args, char *buf,
                       size_t size)
{
    char prefix[600] = "";
    if (mpi)
        snprintf(prefix, sizeof prefix, MPI_ENV "'%s' -np %s --oversubscribe ",
                 NC_TEST_MPIEXEC, mpi);
    snprintf(buf, size, "cd '%s/%s' && exec %s'%s' run '%s' --quiet %s", dir, name, prefix,
             NC_TEST_CLI, cfg_path, args ? args : "");
}

/* dir/NAME with a copy of the searched folder (made once). */
static void s2_copy(const char *name)
{
    char cmd[4096], base[1024];
    snprintf(base, sizeof base, "%s/s2base/runs/train/results.db", dir);
    if (access(base, F_OK) != 0) {
        snprintf(cmd, sizeof cmd, "mkdir -p '%s/s2base'", dir);
        assert_int_equal(system(cmd), 0);
        s2_command("s2base", NULL, "--set final_training.epochs=0", cmd, sizeof cmd);
        char *err = NULL;
        if (nc_test_run(cmd, NULL, &err) != 0)
            fail_msg("the search for stage 2 failed: %s", err);
        free(err);
    }
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s' && cp -a '%s/s2base/runs' '%s/%s/'", dir, name,
             dir, dir, name);
    assert_int_equal(system(cmd), 0);
}

static pid_t s2_spawn(const char *name, const char *args)
{
    char cmd[4096];
    s2_command(name, NULL, args, cmd, sizeof cmd);   /* "cd ... && exec ..." */
    return spawn_command(cmd, name);
}

/* Waits until NAME's stage 2 has stored k epochs (or pid ended). */
static int s2_wait(pid_t pid, const char *run_dir, long long k)
{
    for (int i = 0; i < 6000; i++) {
        char *t = db_text(run_dir, "SELECT count(*) FROM final_epochs");
        long long v = t ? atoll(t) : -1;
        free(t);
        if (v >= k)
            return 1;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return 0;
        sleep_ms(5);
    }
    return 0;
}

/* The uninterrupted serial stage 2, the reference of the others. */
static void s2_reference(void)
{
    static int done;
    if (done)
        return;
    s2_copy("s2s");
    char cmd[4096], *err = NULL;
    s2_command("s2s", NULL, S2_EPOCHS, cmd, sizeof cmd);
    if (nc_test_run(cmd, NULL, &err) != 0)
        fail_msg("serial stage 2 failed: %s", err);
    free(err);
    char *rows = db_text("s2s/runs/train", "SELECT count(*) FROM final_epochs");
    assert_non_null(rows);
    assert_true(atoi(rows) >= 80);   /* two members or more, 40 epochs each */
    free(rows);
    done = 1;
}

/* Stage 2 trains on the workers: each epoch says which worker trained it,
 * the weights are those of the serial run; kill -9 of a worker in stage 2
 * restarts it and redoes that epoch. */
static void test_stage2_kill_worker(void **state)
{
    (void)state;
    s2_reference();
    s2_copy("s2w");
    pid_t pid = s2_spawn("s2w", "--workers 2 " S2_EPOCHS);
    assert_true(s2_wait(pid, "s2w/runs/train", 3));
    int worker = 0;
    for (int i = 0; i < 200 && !worker; i++, sleep_ms(5))
        worker = find_process(cfg_path, pid, -1);
    assert_true(worker > 0);
    assert_int_equal(kill(worker, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    char *err = read_err("s2w");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("stage 2 with a killed worker failed: %s", err);
    if (!strstr(err, "died (pid") || !strstr(err, "killed by signal 9"))
        fail_msg("no line about the killed worker: %s", err);
    free(err);
    assert_same_run("s2s/runs/train", "s2w/runs/train");
    /* both workers trained epochs, and the rows say so */
    char *who = db_text("s2w/runs/train",
                        "SELECT count(DISTINCT worker) || ' ' || sum(worker NOT LIKE 'w_@%')"
                        " FROM final_epochs");
    assert_non_null(who);
    assert_string_equal(who, "2 0");
    free(who);
}

/* kill -9 of the coordinator in stage 2: the workers end with it; the run
 * resumes under MPI (serially without MPI) from the last checkpoints. */
static void test_stage2_kill_coordinator(void **state)
{
    (void)state;
    s2_reference();
    s2_copy("s2c");
    pid_t pid = s2_spawn("s2c", "--workers 2 " S2_EPOCHS);
    assert_true(s2_wait(pid, "s2c/runs/train", 5));
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    int left = 1;
    for (int i = 0; i < 300 && left; i++, sleep_ms(10))
        left = find_process(cfg_path, 0, -1);
    assert_int_equal(left, 0);   /* its workers died with it */
    char *rows = db_text("s2c/runs/train", "SELECT count(*) FROM final_epochs");
    assert_non_null(rows);
    assert_true(atoi(rows) < 80);   /* killed before the end */
    free(rows);
    char cmd[4096], *err = NULL;
    s2_command("s2c", have_mpi() ? "3" : NULL, S2_EPOCHS, cmd, sizeof cmd);
    if (nc_test_run(cmd, NULL, &err) != 0)
        fail_msg("resuming stage 2 failed: %s", err);
    free(err);
    assert_same_run("s2s/runs/train", "s2c/runs/train");
}

/* A checkpoint spoiled on disk stops stage 2 with a line naming the file,
 * serially and on workers alike (raising final_training.epochs after a
 * finished stage 2 resumes from front/<id>.bin). */
static void test_stage2_bad_checkpoint(void **state)
{
    (void)state;
    s2_reference();
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/s2x' && cp -a '%s/s2s/runs' '%s/s2x/' && "
             "f=$(ls '%s/s2x/runs/train/front/'*.bin | head -1) && "
             "printf 'X' | dd of=\"$f\" bs=1 seek=100 conv=notrunc 2>/dev/null",
             dir, dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    static const char *const how[] = {NULL, "--workers 2"};
    for (int i = 0; i < 2; i++) {
        char args[256], *err = NULL;
        snprintf(args, sizeof args, "--set final_training.epochs=41 %s", how[i] ? how[i] : "");
        s2_command("s2x", NULL, args, cmd, sizeof cmd);
        assert_int_equal(nc_test_run(cmd, NULL, &err), 1);
        if (!strstr(err, "runs/train/front/") || !strstr(err, "checksum mismatch"))
            fail_msg("%s: no line naming the spoiled checkpoint: %s", args, err);
        free(err);
    }
}

/* A stage-2 record spoiled in results.db (Adam's state: too short, not a
 * number, a torn blob) is refused with one line naming it, serially and on
 * workers alike, before anything is trained. */
static void test_stage2_bad_record(void **state)
{
    (void)state;
    s2_reference();
    static const char *const cases[][2] = {
        {"UPDATE final SET adam = substr(adam, 1, 8) WHERE eval_id = (SELECT min(eval_id) "
         "FROM final)",
         "the stage-2 record stored with it (results.db) holds 1 Adam moments, the network "
         "has "},
        {"UPDATE final SET adam = X'0000C07F' || substr(adam, 5) WHERE eval_id = (SELECT "
         "min(eval_id) FROM final)",
         "Adam moment 1 of the stage-2 record stored with it (results.db) is not finite"},
        {"UPDATE final SET adam = substr(adam, 1, 12) WHERE eval_id = (SELECT min(eval_id) "
         "FROM final)",
         "runs/train/results.db: stage 2 of evaluation "},
    };
    for (int i = 0; i < 3; i++) {
        char name[32], cmd[4096], db[1024];
        snprintf(name, sizeof name, "s2r%d", i);
        snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s' && cp -a '%s/s2s/runs' '%s/%s/'", dir, name,
                 dir, dir, name);
        assert_int_equal(system(cmd), 0);
        snprintf(db, sizeof db, "%s/%s/runs/train/results.db", dir, name);
        sqlite3 *h = NULL;
        assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, cases[i][0], NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_changes(h), 1);
        sqlite3_close(h);
        for (int workers = 0; workers <= 2; workers += 2) {
            char args[128], *err = NULL;
            snprintf(args, sizeof args, "--set final_training.epochs=41 --workers %d", workers);
            s2_command(name, NULL, args, cmd, sizeof cmd);
            assert_int_equal(nc_test_run(cmd, NULL, &err), 1);
            if (!strstr(err, cases[i][1]) || strchr(strchr(err, '\n') + 1, '\n') !=
                                                     strrchr(err, '\n'))
                fail_msg("%s: expected one line with '%s', got: %s", args, cases[i][1], err);
            free(err);
        }
    }
}

/* IDX files of n images (size x size) with the given first pixel. */
static void write_idx(const char *folder, int n, int size, int first)
{
    char path[1024];
    size_t bytes = 16 + (size_t)n * (size_t)size * (size_t)size;
    unsigned char *img = calloc(1, bytes), lab[8 + 64];
    unsigned char head[16] = {0, 0, 8, 3, 0, 0, 0, (unsigned char)n, 0, 0, 0,
                              (unsigned char)size, 0, 0, 0, (unsigned char)size};
    memcpy(img, head, 16);
    for (size_t i = 16; i < bytes; i++)
        img[i] = (unsigned char)((i * 37) & 0xff);
    img[16] = (unsigned char)first;
    unsigned char lhead[8] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)n};
    memcpy(lab, lhead, 8);
    for (int i = 0; i < n; i++)
        lab[8 + i] = (unsigned char)(i % 10);
    snprintf(path, sizeof path, "%s/images", folder);
    nc_test_write_file(path, img, bytes);
    snprintf(path, sizeof path, "%s/labels", folder);
    nc_test_write_file(path, lab, 8 + (size_t)n);
    free(img);
}

/* Two folders with the same pipeline text but different image files:
 * rank 0 reads one, ranks 1-2 the other; the workers are refused. */
static void test_mpi_different_dataset(void **state)
{
    (void)state;
    if (!have_mpi())
        skip();
    static const char cfg[] =
        "dataset = { plugin = \"idx\"; train_images = \"images\"; train_labels = \"labels\";\n"
        "            test_images = \"images\"; test_labels = \"labels\"; };\n"
        "objectives = [\"energy\", \"memory\"];\n"
        "optimizer = { plugin = \"nsga2\"; population = 4; offspring = 4; generations = 1; };\n";
    char a[512], b[512], path[600], cmd[4096];
    snprintf(a, sizeof a, "%s/da", dir);
    snprintf(b, sizeof b, "%s/db", dir);
    for (int i = 0; i < 2; i++) {
        const char *d = i ? b : a;
        char mk[700];
        snprintf(mk, sizeof mk, "mkdir -p '%s'", d);
        assert_int_equal(system(mk), 0);
        write_idx(d, 20, 28, i ? 200 : 100);
        snprintf(path, sizeof path, "%s/p.cfg", d);
        nc_test_write_file(path, cfg, strlen(cfg));
    }
    snprintf(cmd, sizeof cmd,
             MPI_ENV "'%s' --oversubscribe "
             "-np 1 '%s' run '%s/p.cfg' --set 'output.dir=\"%s/dd\"' : -np 2 '%s' run '%s/p.cfg' "
             "--set 'output.dir=\"%s/dd\"'",
             NC_TEST_MPIEXEC, NC_TEST_CLI, a, dir, NC_TEST_CLI, b, dir);
    char *err = NULL;
    int rc = nc_test_run(cmd, NULL, &err);
    assert_true(rc != 0);
    if (!strstr(err, "its dataset differs from the coordinator's") ||
        !strstr(err, "/db/images") || !strstr(err, "worker w"))
        fail_msg("no refusal naming the worker and its files: %s", err);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_result_round_trip),
        cmocka_unit_test(test_wire_refusals),
        cmocka_unit_test(test_wire_stage2),
        cmocka_unit_test(test_hello_checks),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_workers_usage),
        cmocka_unit_test(test_transports_agree),
        cmocka_unit_test(test_kill_local_worker),
        cmocka_unit_test(test_kill_coordinator_resume),
        cmocka_unit_test(test_kill_mpi_rank),
        cmocka_unit_test(test_mpi_different_dataset),
        cmocka_unit_test(test_correlate_workers),
        cmocka_unit_test(test_stage2_kill_worker),
        cmocka_unit_test(test_stage2_kill_coordinator),
        cmocka_unit_test(test_stage2_bad_checkpoint),
        cmocka_unit_test(test_stage2_bad_record),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
