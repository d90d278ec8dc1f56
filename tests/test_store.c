/* test_store.c - the results store and output folder pieces of the run
 * (core/src/run): records round trip (NaN, infinite crowding, Adam
 * blobs, who evaluated), an older database's missing worker columns
 * (read-only: left alone; writable: added), the cache's "seen" rule,
 * refusals of foreign databases, the pipeline comparison, the folder
 * lock, moving a database aside. */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "nc_test.h"
#include "run/run_internal.h"

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

static nc_store *open_new(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    nc_store *st = NULL;
    nc_error err;
    int fresh = 0;
    if (nc_store_open(path, 0, &st, &fresh, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(fresh, 1);
    return st;
}

static void fill(nc_eval_rec *e, const char *genotype, int generation)
{
    memset(e, 0, sizeof *e);
    snprintf(e->genotype, sizeof e->genotype, "%s", genotype);
    /* the id of the genotype text, as nc_genotype_id derives it (the store
     * re-derives it on every read) */
    char hex[17];
    nc_hash64_hex(nc_hash64(genotype, strlen(genotype)), hex);
    snprintf(e->gid, sizeof e->gid, "%.12s", hex);
    snprintf(e->cache_key, sizeof e->cache_key, "00000000000000aa");
    snprintf(e->status, sizeof e->status, "ok");
    e->generation = generation;
    e->accuracy = e->test_accuracy = 0.75;
    e->validation_accuracy = NAN;
    e->energy_mj = 1.5;
    e->latency_ms = 0.25;
    e->memory_kib = 3.0;
    e->params = 1234;
    e->macs = 56789;
    e->epochs_done = 2;
}

static void test_evaluations(void **state)
{
    (void)state;
    nc_store *st = open_new("e.db");
    nc_error err;
    nc_eval_rec *e = malloc(sizeof *e), *back = malloc(sizeof *back);
    fill(e, "[[0,8,1,1,3,1,8,4,1],[-1],[1]]", 2);
    nc_epoch_rec ep[2] = {{1, 1, 0.5, 0.6, 0.7, NAN, 1.0}, {2, 0, 0.4, 0.65, 0.75, NAN, 0.5}};
    assert_int_equal(nc_store_eval_add(st, e, ep, 2, &err), NC_OK);
    assert_true(e->id > 0);
    int found = 0;
    assert_int_equal(nc_store_eval_find(st, e->genotype, e->cache_key, back, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(back->id, e->id);
    assert_true(back->accuracy == 0.75 && back->energy_mj == 1.5 && back->params == 1234);
    assert_true(isnan(back->validation_accuracy));   /* NaN is stored as NULL */
    assert_string_equal(back->status, "ok");
    /* another cache key is another evaluation */
    assert_int_equal(nc_store_eval_find(st, e->genotype, "00000000000000bb", back, &found, &err),
                     0);
    assert_int_equal(found, 0);
    /* seen: only by asks before the current one, so a resumed ask of the
     * same generation sees the same history */
    assert_int_equal(nc_store_eval_seen(st, e->genotype, e->cache_key, 2), 0);
    assert_int_equal(nc_store_eval_seen(st, e->genotype, e->cache_key, 3), 1);
    /* the same (genotype, key) twice is refused and nothing is left half done */
    assert_int_equal(nc_store_eval_add(st, e, ep, 2, &err), NC_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "cannot store an evaluation"));
    fill(e, "[[0,8,1,1,5,1,8,4,1],[-1],[1]]", 3);
    snprintf(e->status, sizeof e->status, "time_limit");
    snprintf(e->reason, sizeof e->reason, "training.time_limit_s = 1 reached");
    assert_int_equal(nc_store_eval_add(st, e, NULL, 0, &err), NC_OK);
    int64_t total = 0, failed = 0;
    assert_int_equal(nc_store_eval_counts(st, &total, &failed, &err), 0);
    assert_int_equal(total, 2);
    assert_int_equal(failed, 1);
    assert_int_equal(nc_store_eval_get(st, e->id, back, &err), 0);
    assert_string_equal(back->reason, "training.time_limit_s = 1 reached");
    assert_int_equal(nc_run_failed(back), 1);
    double obj[3], viol;
    int objectives[3] = {NC_OBJ_ACCURACY_DROP, NC_OBJ_ENERGY, NC_OBJ_PARAMS};
    nc_run_objectives(back, 3, objectives, obj, &viol);
    assert_true(obj[0] == 1.0 && obj[1] == 1.5 && obj[2] == 1234.0 && viol == 1.0);
    assert_int_equal(nc_store_eval_get(st, 999, back, &err), NC_ERR_INPUT);
    int64_t first = e->id;
    free(e);
    nc_store_close(st);

    /* A folder from elsewhere: an id that would name a file outside it is
     * refused on read, whatever reads it. */
    char path[4200];
    snprintf(path, sizeof path, "%s/e.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE evaluations SET gid = '../../../X' WHERE id = %lld",
             (long long)first);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    int fresh;
    assert_int_equal(nc_store_open(path, 1, &st, &fresh, &err), NC_OK);
    assert_int_equal(nc_store_eval_get(st, first, back, &err), NC_ERR_INPUT);
    if (!strstr(err.msg, ": id '../../../X' is not the id of its genotype ("))
        fail_msg("%s", err.msg);
    free(back);
    nc_store_close(st);
}

/* Rows of an SQL count on the database at path (plain SQLite). */
static int sql_count(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    int n = -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static const char who_columns_sql[] =
    "SELECT (SELECT count(*) FROM pragma_table_info('evaluations') WHERE name IN"
    " ('worker', 'threads')) + (SELECT count(*) FROM pragma_table_info('final_epochs')"
    " WHERE name IN ('worker', 'threads'))";

/* Who evaluated: stored per evaluation and per stage-2 epoch; a database
 * made before those columns (the fixture: today's with them dropped)
 * opens read-only unchanged, reading them as empty, and a writable open
 * adds them and takes new records. */
static void test_worker_columns(void **state)
{
    (void)state;
    nc_store *st = open_new("who.db");
    nc_error err;
    nc_eval_rec *e = malloc(sizeof *e), *back = malloc(sizeof *back);
    fill(e, "[[0,8,1,1,3,1,8,4,1],[-1],[1]]", 0);
    nc_run_rec_worker(e, "w2@node7", 3);
    assert_int_equal(nc_store_eval_add(st, e, NULL, 0, &err), NC_OK);
    int64_t first = e->id;
    int found = 0;
    assert_int_equal(nc_store_eval_find(st, e->genotype, e->cache_key, back, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_string_equal(back->worker, "w2@node7");
    assert_int_equal(back->threads, 3);
    /* not recorded: NULL, read back as empty */
    fill(e, "[[0,8,1,1,5,1,8,4,1],[-1],[1]]", 0);
    assert_int_equal(nc_store_eval_add(st, e, NULL, 0, &err), NC_OK);
    int64_t unnamed = e->id;
    assert_int_equal(nc_store_eval_get(st, unnamed, back, &err), 0);
    assert_string_equal(back->worker, "");
    assert_int_equal(back->threads, 0);
    /* a stage-2 epoch row names its trainer */
    nc_final_rec f;
    memset(&f, 0, sizeof f);
    f.eval_id = first;
    snprintf(f.status, sizeof f.status, "training");
    f.test_accuracy = f.validation_accuracy = NAN;
    snprintf(f.worker, sizeof f.worker, "serial");
    f.threads = 2;
    nc_epoch_rec ep = {1, 1, 0.1, 0.9, 0.5, NAN, 3.0};
    assert_int_equal(nc_store_final_put(st, &f, &ep, &err), 0);
    nc_store_close(st);
    char path[1100];
    snprintf(path, sizeof path, "%s/who.db", dir);
    assert_int_equal(sql_count(path, "SELECT count(*) FROM evaluations WHERE worker IS NULL AND"
                                     " threads IS NULL"), 1);
    assert_int_equal(sql_count(path, "SELECT count(*) FROM final_epochs WHERE worker = 'serial'"
                                     " AND threads = 2"), 1);
    assert_int_equal(sql_count(path, who_columns_sql), 4);

    /* the previous version's schema */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    const char *drop = "ALTER TABLE evaluations DROP COLUMN worker;"
                       "ALTER TABLE evaluations DROP COLUMN threads;"
                       "ALTER TABLE final_epochs DROP COLUMN worker;"
                       "ALTER TABLE final_epochs DROP COLUMN threads;";
    if (sqlite3_exec(db, drop, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("making the old schema: %s", sqlite3_errmsg(db));
    sqlite3_close(db);
    assert_int_equal(sql_count(path, who_columns_sql), 0);

    /* read-only (reports): works, changes nothing */
    assert_int_equal(nc_store_open(path, 1, &st, NULL, &err), NC_OK);
    assert_int_equal(nc_store_eval_get(st, first, back, &err), 0);
    assert_string_equal(back->worker, "");
    assert_int_equal(back->threads, 0);
    assert_true(back->accuracy == 0.75);
    assert_int_equal(nc_store_eval_find(st, back->genotype, back->cache_key, back, &found, &err),
                     0);
    assert_int_equal(found, 1);
    nc_store_close(st);
    assert_int_equal(sql_count(path, who_columns_sql), 0);

    /* writable (a resumed run): the columns are added, old rows read empty */
    int fresh = -1;
    assert_int_equal(nc_store_open(path, 0, &st, &fresh, &err), NC_OK);
    assert_int_equal(fresh, 0);
    assert_int_equal(sql_count(path, who_columns_sql), 4);
    assert_int_equal(nc_store_eval_get(st, first, back, &err), 0);
    assert_string_equal(back->worker, "");
    fill(e, "[[0,8,1,1,7,1,8,4,1],[-1],[1]]", 1);
    nc_run_rec_worker(e, "w1@node2", 1);
    assert_int_equal(nc_store_eval_add(st, e, NULL, 0, &err), NC_OK);
    assert_int_equal(nc_store_eval_get(st, e->id, back, &err), 0);
    assert_string_equal(back->worker, "w1@node2");
    assert_int_equal(back->threads, 1);
    ep.epoch = 2;
    snprintf(f.worker, sizeof f.worker, "w1@node2");
    f.threads = 1;
    assert_int_equal(nc_store_final_put(st, &f, &ep, &err), 0);
    nc_store_close(st);
    assert_int_equal(sql_count(path, "SELECT count(*) FROM final_epochs WHERE epoch = 2 AND"
                                     " worker = 'w1@node2' AND threads = 1"), 1);
    /* opened again: nothing more to add */
    assert_int_equal(nc_store_open(path, 0, &st, NULL, &err), NC_OK);
    nc_store_close(st);
    assert_int_equal(sql_count(path, who_columns_sql), 4);
    free(e);
    free(back);
}

static void test_generations_and_final(void **state)
{
    (void)state;
    nc_store *st = open_new("g.db");
    nc_error err;
    int gen = -1;
    char *text = NULL;
    nc_rng rng, back;
    double elapsed;
    assert_int_equal(nc_store_last_generation(st, &gen, &text, &rng, &elapsed, &err), 0);
    assert_null(text);
    assert_int_equal(gen, 0);
    nc_rng_seed(&rng, 42);
    int64_t ids[3] = {3, 1, 2};
    int rank[3] = {0, 0, 1};
    double crowd[3] = {INFINITY, 0.5, INFINITY};
    nc_gen_rec g = {{1, 3, 0, 0, 2, 0.8, 0.25, 12.5}, "{\"state\":1}", rng, 3, ids, rank, crowd,
                    "energy 0 2.5\n"};
    assert_int_equal(nc_store_generation_add(st, &g, &err), 0);
    /* a generation is written once */
    assert_int_equal(nc_store_generation_add(st, &g, &err), NC_ERR_INTERNAL);
    assert_int_equal(nc_store_last_generation(st, &gen, &text, &back, &elapsed, &err), 0);
    assert_int_equal(gen, 1);
    assert_string_equal(text, "{\"state\":1}");
    assert_memory_equal(&back, &rng, sizeof rng);
    assert_true(elapsed == 12.5);
    free(text);
    char *bounds = NULL;
    assert_int_equal(nc_store_meta_get(st, "hv_bounds", &bounds, &err), 0);
    assert_string_equal(bounds, "energy 0 2.5\n");
    free(bounds);
    int64_t *pid;
    int *prank, n;
    double *pcrowd;
    assert_int_equal(nc_store_population(st, 1, &pid, &prank, &pcrowd, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_true(pid[0] == 3 && pid[2] == 2 && prank[2] == 1);
    assert_true(isinf(pcrowd[0]) && pcrowd[1] == 0.5);
    free(pid);
    free(prank);
    free(pcrowd);

    /* evaluations 1..3, whose ids name the stage-2 files */
    nc_eval_rec *ev = malloc(sizeof *ev);
    const char *genos[3] = {"[[0,8,1,1,3,1,8,4,1],[-1],[1]]", "[[0,8,1,1,5,1,8,4,1],[-1],[1]]",
                            "[[0,8,1,1,7,1,8,4,1],[-1],[1]]"};
    for (int i = 0; i < 3; i++) {
        fill(ev, genos[i], 1);
        assert_int_equal(nc_store_eval_add(st, ev, NULL, 0, &err), NC_OK);
    }
    char gid3[13];
    snprintf(gid3, sizeof gid3, "%s", ev->gid);
    free(ev);
    char wname[64];
    snprintf(wname, sizeof wname, "front/%s.e2.bin", gid3);

    float adam[6] = {1, 2, 3, 4, 5, 6};
    nc_final_rec f = {0};
    f.eval_id = 3;
    f.epochs_done = 2;
    snprintf(f.status, sizeof f.status, "training");
    f.test_accuracy = 0.5;
    f.validation_accuracy = NAN;
    snprintf(f.weights, sizeof f.weights, "%s", wname);
    nc_rng_seed(&f.shuffle, 1);
    nc_rng_seed(&f.augment, 2);
    f.adam_step = 77;
    f.adam = adam;
    f.adam_count = 3;
    nc_epoch_rec ep = {2, 1, 0.1, 0.9, 0.5, NAN, 3.0};
    assert_int_equal(nc_store_final_put(st, &f, &ep, &err), 0);
    nc_final_rec r;
    int found = 0;
    assert_int_equal(nc_store_final_get(st, 3, &r, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(r.epochs_done, 2);
    assert_int_equal(r.adam_step, 77);
    assert_int_equal(r.adam_count, 3);
    assert_memory_equal(r.adam_read, adam, sizeof adam);
    assert_memory_equal(&r.augment, &f.augment, sizeof f.augment);
    assert_string_equal(r.weights, wname);
    assert_true(isnan(r.validation_accuracy));
    free(r.adam_read);
    /* a weights path that is not the one derived from the id is refused:
     * the run renames and unlinks it */
    snprintf(f.weights, sizeof f.weights, "../../../etc/x");
    assert_int_equal(nc_store_final_put(st, &f, &ep, &err), 0);
    assert_int_equal(nc_store_final_get(st, 3, &r, &found, &err), NC_ERR_INPUT);
    if (!strstr(err.msg, "stage 2 of evaluation 3: weights file '../../../etc/x' is not front/"))
        fail_msg("%s", err.msg);
    assert_int_equal(nc_store_final_get(st, 4, &r, &found, &err), 0);
    assert_int_equal(found, 0);
    nc_store_close(st);
}

static void test_foreign_databases(void **state)
{
    (void)state;
    char path[1024];
    nc_store *st = NULL;
    nc_error err;
    snprintf(path, sizeof path, "%s/garbage.db", dir);
    nc_test_write_file(path, "this is not SQLite, only some text of a few bytes", 49);
    assert_int_equal(nc_store_open(path, 0, &st, NULL, &err), NC_ERR_INPUT);
    assert_null(st);
    char expect[1200];
    snprintf(expect, sizeof expect, "%s: not a NASCaps results database (file is not a database)",
             path);
    assert_string_equal(err.msg, expect);
    assert_int_equal(nc_store_open(path, 1, &st, NULL, &err), NC_ERR_INPUT);

    /* another program's SQLite database */
    snprintf(path, sizeof path, "%s/other.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(nc_store_open(path, 0, &st, NULL, &err), NC_ERR_INPUT);
    snprintf(expect, sizeof expect, "%s: not a NASCaps results database (no format record)", path);
    assert_string_equal(err.msg, expect);

    /* read-only: a missing file is an input error, nothing is created */
    snprintf(path, sizeof path, "%s/missing.db", dir);
    assert_int_equal(nc_store_open(path, 1, &st, NULL, &err), NC_ERR_INPUT);
    assert_int_not_equal(access(path, F_OK), 0);
}

static void compare(const char *a, const char *b, int same, const char *diff)
{
    int s = -1;
    char d[600];
    nc_error err;
    assert_int_equal(nc_run_pipeline_compare(a, b, &s, d, sizeof d, &err), 0);
    assert_int_equal(s, same);
    if (!same)
        assert_string_equal(d, diff);
}

static void test_pipeline_compare(void **state)
{
    (void)state;
    const char *base = "seed = 1;\ntraining = { epochs = 2; };\n"
                       "optimizer = { plugin = \"nsga2\"; generations = 3; };\n";
    compare(base, base, 1, NULL);
    /* what a resume may change */
    compare(base,
            "seed = 1;\ntraining = { epochs = 2; };\n"
            "optimizer = { plugin = \"nsga2\"; generations = 30; };\n"
            "search = { time_limit_h = 2.0; };\nfinal_training = { epochs = 5; };\n",
            1, NULL);
    compare(base, "seed = 1;\ntraining = { epochs = 3; };\n"
                  "optimizer = { plugin = \"nsga2\"; generations = 3; };\n",
            0, "training.epochs: 2 in the database, 3 now");
    compare(base, "seed = 1;\ntraining = { epochs = 2; batch_size = 10; };\n"
                  "optimizer = { plugin = \"nsga2\"; generations = 3; };\n",
            0, "training.batch_size: unset in the database, 10 now");
    compare(base, "seed = 1;\noptimizer = { plugin = \"random\"; generations = 3; };\n", 0,
            "training.epochs: 2 in the database, unset now");
    compare("objectives = [\"energy\", \"latency\"];\n", "objectives = [\"energy\"];\n", 0,
            "objectives: [\"energy\", \"latency\"] in the database, [\"energy\"] now");
    /* the same number written as an integer or a real is the same value */
    compare("training = { time_limit_s = 5; };\n", "training = { time_limit_s = 5.0; };\n", 1,
            NULL);
    int s;
    char d[100];
    nc_error err;
    assert_int_equal(nc_run_pipeline_compare("seed = ;", base, &s, d, sizeof d, &err),
                     NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "the stored pipeline does not parse"));
}

/* A run folder from elsewhere with a planted link is refused before
 * anything is written through it. */
static void test_planted_links(void **state)
{
    (void)state;
    const char *names[] = {"results.lock", "results.db", "pareto.csv.tmp", "front/abc.chr"};
    for (int i = 0; i < 4; i++) {
        char folder[1024], link[1200], target[1200], want[1400];
        snprintf(folder, sizeof folder, "%s/planted%d", dir, i);
        nc_error err;
        assert_int_equal(nc_run_mkdirs(folder, &err), 0);
        snprintf(target, sizeof target, "%s/outside%d", dir, i);
        nc_test_write_file(target, "keep", 4);
        if (strchr(names[i], '/')) {
            snprintf(link, sizeof link, "%s/front", folder);
            assert_int_equal(mkdir(link, 0755), 0);
        }
        snprintf(link, sizeof link, "%s/%s", folder, names[i]);
        assert_int_equal(symlink(target, link), 0);
        int fd = -1;
        assert_int_equal(nc_run_lock(folder, &fd, &err), NC_ERR_INPUT);
        snprintf(want, sizeof want, "%s: is a symbolic link: a run folder's files must not "
                                    "point elsewhere (refusing the folder)", link);
        assert_string_equal(err.msg, want);
        size_t n = 0;
        char *back = nc_test_read_file(target, &n);
        assert_int_equal(n, 4);
        assert_memory_equal(back, "keep", 4);
        free(back);
    }
    /* nc_run_write_file creates its .tmp afresh: a link planted after the
     * check is removed, not written through */
    char folder[1024], link[1200], target[1200];
    snprintf(folder, sizeof folder, "%s/late", dir);
    nc_error err;
    assert_int_equal(nc_run_mkdirs(folder, &err), 0);
    snprintf(target, sizeof target, "%s/late-outside", dir);
    nc_test_write_file(target, "keep", 4);
    snprintf(link, sizeof link, "%s/pareto.csv.tmp", folder);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(nc_run_write_file(folder, "pareto.csv", "id\n", &err), NC_OK);
    size_t n = 0;
    char *back = nc_test_read_file(target, &n);
    assert_int_equal(n, 4);
    free(back);
}

static void test_lock_and_move_aside(void **state)
{
    (void)state;
    char folder[1024];
    snprintf(folder, sizeof folder, "%s/out/a/b", dir);
    nc_error err;
    assert_int_equal(nc_run_mkdirs(folder, &err), 0);
    int ready[2], go[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int fd;
        char c = 0;
        nc_error e2;
        int rc = nc_run_lock(folder, &fd, &e2);
        if (write(ready[1], &rc, sizeof rc) != sizeof rc || read(go[0], &c, 1) < 0)
            _exit(2);
        _exit(rc);
    }
    int rc = -1;
    assert_int_equal(read(ready[0], &rc, sizeof rc), (ssize_t)sizeof rc);
    assert_int_equal(rc, 0);
    int fd = -1;
    assert_int_equal(nc_run_lock(folder, &fd, &err), NC_ERR_INPUT);
    char expect[1200];
    snprintf(expect, sizeof expect,
             "%s: another nascaps run (pid %ld) is using this output folder", folder,
             (long)child);
    assert_string_equal(err.msg, expect);
    /* the lock dies with its process, however it ends */
    kill(child, SIGKILL);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_int_equal(nc_run_lock(folder, &fd, &err), 0);
    close(fd);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);

    char db[1200], moved[1200];
    snprintf(db, sizeof db, "%s/results.db", folder);
    assert_int_equal(nc_run_move_aside(folder, moved, sizeof moved, &err), 0);
    assert_string_equal(moved, "");   /* nothing to move */
    for (int i = 1; i <= 2; i++) {
        nc_test_write_file(db, "x", 1);
        assert_int_equal(nc_run_move_aside(folder, moved, sizeof moved, &err), 0);
        char expect_path[1300];
        snprintf(expect_path, sizeof expect_path, "%s.%d", db, i);
        assert_string_equal(moved, expect_path);
        assert_int_equal(access(expect_path, F_OK), 0);
        assert_int_not_equal(access(db, F_OK), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evaluations),
        cmocka_unit_test(test_worker_columns),
        cmocka_unit_test(test_generations_and_final),
        cmocka_unit_test(test_foreign_databases),
        cmocka_unit_test(test_pipeline_compare),
        cmocka_unit_test(test_lock_and_move_aside),
        cmocka_unit_test(test_planted_links),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
