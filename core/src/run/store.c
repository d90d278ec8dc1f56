/* store.c - results.db: the run's SQLite database (docs/RUN.md, "Store").
 *
 * WAL journal with synchronous = FULL: a committed transaction survives a
 * kill -9 or a power cut, and `nascaps report` reads while a run writes.
 * Every write of the run is one transaction, so the database is always a
 * state the run passed through. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "run/run_internal.h"

struct nc_store {
    sqlite3 *db;
    char *path;
    int readonly;
    /* evaluations has the worker and threads columns (always after a
     * writable open; a read-only open of an older database: not) */
    int who;
};

static const char schema[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE evaluations("
    " id INTEGER PRIMARY KEY, generation INTEGER NOT NULL, gid TEXT NOT NULL,"
    " genotype TEXT NOT NULL, cache_key TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,"
    " accuracy REAL, test_accuracy REAL, validation_accuracy REAL,"
    " energy_mj REAL, latency_ms REAL, memory_kib REAL, params INTEGER, macs INTEGER,"
    " epochs_done INTEGER NOT NULL, train_seconds REAL, seconds REAL,"
    " worker TEXT, threads INTEGER,"
    " UNIQUE(genotype, cache_key));"
    "CREATE TABLE epochs("
    " eval_id INTEGER NOT NULL REFERENCES evaluations(id), epoch INTEGER NOT NULL,"
    " complete INTEGER NOT NULL, train_loss REAL, train_accuracy REAL, test_accuracy REAL,"
    " validation_accuracy REAL, seconds REAL, PRIMARY KEY(eval_id, epoch));"
    "CREATE TABLE generations("
    " generation INTEGER PRIMARY KEY, optimizer_state TEXT NOT NULL, rng TEXT NOT NULL,"
    " evaluated INTEGER NOT NULL, cached INTEGER NOT NULL, failed INTEGER NOT NULL,"
    " front_size INTEGER NOT NULL, best_accuracy REAL, hypervolume REAL,"
    " elapsed_s REAL NOT NULL);"
    "CREATE TABLE population("
    " generation INTEGER NOT NULL REFERENCES generations(generation),"
    " position INTEGER NOT NULL, eval_id INTEGER NOT NULL REFERENCES evaluations(id),"
    " rank INTEGER NOT NULL, crowding REAL, PRIMARY KEY(generation, position));"
    "CREATE TABLE final("
    " eval_id INTEGER PRIMARY KEY REFERENCES evaluations(id), epochs_done INTEGER NOT NULL,"
    " status TEXT NOT NULL, reason TEXT, test_accuracy REAL, validation_accuracy REAL,"
    " weights TEXT, shuffle_rng TEXT NOT NULL, augment_rng TEXT NOT NULL,"
    " adam_step INTEGER NOT NULL, adam BLOB, seconds REAL);"
    "CREATE TABLE final_epochs("
    " eval_id INTEGER NOT NULL REFERENCES final(eval_id), epoch INTEGER NOT NULL,"
    " complete INTEGER NOT NULL, train_loss REAL, train_accuracy REAL, test_accuracy REAL,"
    " validation_accuracy REAL, seconds REAL, worker TEXT, threads INTEGER,"
    " PRIMARY KEY(eval_id, epoch));";

/* Columns added to the format after its first release (the format
 * string stays: an older database gains them on its first writable open,
 * docs/RUN.md). Each is appended to its table, where the schema above
 * has it too. */
static const struct added_column {
    const char *table, *column, *type;
} added_columns[] = {
    {"evaluations", "worker", "TEXT"},
    {"evaluations", "threads", "INTEGER"},
    {"final_epochs", "worker", "TEXT"},
    {"final_epochs", "threads", "INTEGER"},
};
#define N_ADDED (sizeof added_columns / sizeof added_columns[0])

static int db_error(nc_store *st, nc_error *err, const char *what)
{
    return nc_error_set(err, NC_ERR_INTERNAL, "%s: %s: %s", st->path, what,
                        sqlite3_errmsg(st->db));
}

static int exec(nc_store *st, const char *sql, nc_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        nc_error_set(err, NC_ERR_INTERNAL, "%s: %s", st->path, msg ? msg : "SQLite error");
        sqlite3_free(msg);
        return NC_ERR_INTERNAL;
    }
    return NC_OK;
}

static int prepare(nc_store *st, const char *sql, sqlite3_stmt **stmt, nc_error *err)
{
    if (sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL) != SQLITE_OK) {
        *stmt = NULL;
        return db_error(st, err, "cannot read the database");
    }
    return NC_OK;
}

/* NULL reads back as NaN: SQLite stores a NaN as NULL. */
static double col_real(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s, i);
}

static void bind_real(sqlite3_stmt *s, int i, double v)
{
    if (isfinite(v))
        sqlite3_bind_double(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

/* Who evaluated, at i and i + 1: an empty name (not recorded) is NULL,
 * and so are its threads. */
static void bind_worker(sqlite3_stmt *s, int i, const char *worker, int threads)
{
    if (!worker[0])
        return;   /* unbound parameters are NULL */
    sqlite3_bind_text(s, i, worker, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, i + 1, threads);
}

static void col_text(sqlite3_stmt *s, int i, char *buf, size_t size)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    snprintf(buf, size, "%s", t ? (const char *)t : "");
}

void nc_run_rng_text(const nc_rng *rng, char buf[68])
{
    snprintf(buf, 68, "%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64, rng->s[0],
             rng->s[1], rng->s[2], rng->s[3]);
}

int nc_run_rng_parse(const char *text, nc_rng *rng)
{
    int used = 0;
    if (!text || sscanf(text, "%16" SCNx64 " %16" SCNx64 " %16" SCNx64 " %16" SCNx64 "%n",
                        &rng->s[0], &rng->s[1], &rng->s[2], &rng->s[3], &used) != 4)
        return NC_ERR_INPUT;
    return text[used] == '\0' ? NC_OK : NC_ERR_INPUT;
}

const char *nc_store_path(const nc_store *st)
{
    return st->path;
}

sqlite3 *nc_store_sqlite(nc_store *st)
{
    return st->db;
}

/* A database ours? Reads the format from meta; garbage files fail here
 * (SQLite only reads the header on the first statement). */
static int check_format(nc_store *st, int *fresh, nc_error *err)
{
    sqlite3_stmt *s;
    *fresh = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_master", -1, &s, NULL) !=
        SQLITE_OK)
        return nc_error_set(err, NC_ERR_INPUT, "%s: not a NASCaps results database (%s)",
                            st->path, sqlite3_errmsg(st->db));
    int rc = sqlite3_step(s);
    int64_t tables = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return nc_error_set(err, rc == SQLITE_BUSY ? NC_ERR_INTERNAL : NC_ERR_INPUT,
                            "%s: not a NASCaps results database (%s)", st->path,
                            sqlite3_errmsg(st->db));
    if (tables == 0) {
        *fresh = 1;
        return NC_OK;
    }
    char *format = NULL;
    nc_error e2;
    if (nc_store_meta_get(st, "format", &format, &e2) || !format) {
        free(format);
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: not a NASCaps results database (no format record)", st->path);
    }
    int ok = strcmp(format, NC_STORE_FORMAT) == 0;
    if (!ok)
        nc_error_set(err, NC_ERR_INPUT, "%s: results database format '%s', expected '%s'",
                     st->path, format, NC_STORE_FORMAT);
    free(format);
    return ok ? NC_OK : NC_ERR_INPUT;
}

int nc_store_has_column(nc_store *st, const char *table, const char *column, int *has,
                        nc_error *err)
{
    sqlite3_stmt *s;
    *has = 0;
    int rc = prepare(st, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, column, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        *has = 1;
    else if (step != SQLITE_DONE)
        rc = db_error(st, err, "cannot read the schema");
    sqlite3_finalize(s);
    return rc;
}

/* Which of added_columns are missing (missing[i] = 1); *n_missing counts them. */
static int missing_columns(nc_store *st, int missing[N_ADDED], int *n_missing, nc_error *err)
{
    *n_missing = 0;
    for (size_t i = 0; i < N_ADDED; i++) {
        int has = 0;
        int rc = nc_store_has_column(st, added_columns[i].table, added_columns[i].column, &has, err);
        if (rc)
            return rc;
        missing[i] = !has;
        *n_missing += !has;
    }
    return NC_OK;
}

/* A database of an earlier version lacks the added columns: a writable
 * open adds them in one transaction (checked again inside it); a
 * read-only one notes their absence and changes nothing. */
static int upgrade(nc_store *st, nc_error *err)
{
    int missing[N_ADDED] = {0}, n = 0;
    int rc = missing_columns(st, missing, &n, err);
    if (rc || !n || st->readonly) {
        /* added_columns[0] and [1]: evaluations' worker and threads */
        st->who = !rc && !missing[0] && !missing[1];
        return rc;
    }
    if ((rc = nc_store_begin(st, err)))
        return rc;
    rc = missing_columns(st, missing, &n, err);
    for (size_t i = 0; i < N_ADDED && !rc; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", added_columns[i].table,
                 added_columns[i].column, added_columns[i].type);
        if (missing[i])
            rc = exec(st, sql, err);
    }
    if (rc || (rc = nc_store_commit(st, err))) {
        nc_store_rollback(st);
        return nc_error_prefix(err, "adding the worker columns");
    }
    st->who = 1;
    return NC_OK;
}

int nc_store_open(const char *path, int readonly, nc_store **out, int *fresh, nc_error *err)
{
    *out = NULL;
    nc_store *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    }
    st->readonly = readonly;
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    /* NOFOLLOW: a results.db planted as a link elsewhere is not opened */
    int rc = sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                             NULL);
    if (rc != SQLITE_OK) {
        nc_error_set(err, readonly && rc == SQLITE_CANTOPEN ? NC_ERR_INPUT : NC_ERR_INTERNAL,
                     "%s: cannot open: %s", path,
                     st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        nc_store_close(st);
        return err ? err->status : NC_ERR_INTERNAL;
    }
    sqlite3_busy_timeout(st->db, 10000);
    int is_fresh = 0;
    if ((rc = check_format(st, &is_fresh, err)))
        goto fail;
    if (readonly && is_fresh) {
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: not a NASCaps results database (empty)", path);
        goto fail;
    }
    if (!readonly) {
        if ((rc = exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", err)))
            goto fail;
        if (is_fresh) {
            if ((rc = nc_store_begin(st, err)))
                goto fail;
            if ((rc = exec(st, schema, err)) ||
                (rc = nc_store_meta_set(st, "format", NC_STORE_FORMAT, err)) ||
                (rc = nc_store_commit(st, err))) {
                nc_store_rollback(st);
                goto fail;
            }
        }
    }
    if ((rc = upgrade(st, err)))
        goto fail;
    if (fresh)
        *fresh = is_fresh;
    *out = st;
    return NC_OK;
fail:
    nc_store_close(st);
    return rc;
}

void nc_store_close(nc_store *st)
{
    if (!st)
        return;
    sqlite3_close(st->db);
    free(st->path);
    free(st);
}

int nc_store_begin(nc_store *st, nc_error *err)
{
    return exec(st, "BEGIN IMMEDIATE", err);
}

int nc_store_begin_read(nc_store *st, nc_error *err)
{
    return exec(st, "BEGIN", err);
}

int nc_store_commit(nc_store *st, nc_error *err)
{
    return exec(st, "COMMIT", err);
}

void nc_store_rollback(nc_store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int nc_store_meta_get(nc_store *st, const char *key, char **value, nc_error *err)
{
    sqlite3_stmt *s;
    *value = NULL;
    int rc = prepare(st, "SELECT value FROM meta WHERE key = ?1", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(s, 0);
        if (!(*value = strdup(t ? (const char *)t : "")))
            rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    } else if (step != SQLITE_DONE)
        rc = db_error(st, err, "cannot read meta");
    sqlite3_finalize(s);
    return rc;
}

int nc_store_meta_set(nc_store *st, const char *key, const char *value, nc_error *err)
{
    sqlite3_stmt *s;
    int rc = prepare(st, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = db_error(st, err, "cannot write meta");
    sqlite3_finalize(s);
    return rc;
}

#define EVAL_COLUMNS                                                                 \
    "id, generation, gid, genotype, cache_key, status, reason, accuracy, test_accuracy," \
    " validation_accuracy, energy_mj, latency_ms, memory_kib, params, macs, epochs_done," \
    " train_seconds, seconds"

/* SELECT of every evaluation column, then worker and threads (NULL when
 * a read-only open found a database that predates them), with `where`. */
static int prepare_eval(nc_store *st, const char *where, sqlite3_stmt **s, nc_error *err)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT " EVAL_COLUMNS ", %s FROM evaluations WHERE %s",
             st->who ? "worker, threads" : "NULL, NULL", where);
    return prepare(st, sql, s, err);
}

/* A run folder may come from someone else: the id names files
 * (front/<id>.chr, front/<id>.bin), so it is re-derived from the genotype
 * text it belongs to, never trusted as written. */
static int check_gid(const nc_store *st, const nc_eval_rec *e, nc_error *err)
{
    char hex[17];
    nc_hash64_hex(nc_hash64(e->genotype, strlen(e->genotype)), hex);
    if (strlen(e->gid) == 12 && strncmp(e->gid, hex, 12) == 0)
        return NC_OK;
    return nc_error_set(err, NC_ERR_INPUT,
                        "%s: evaluation %" PRId64 ": id '%.40s' is not the id of its genotype "
                        "(%.12s): the database was altered; refusing it",
                        st->path, e->id, e->gid, hex);
}

static int read_eval(const nc_store *st, sqlite3_stmt *s, nc_eval_rec *e, nc_error *err)
{
    e->id = sqlite3_column_int64(s, 0);
    e->generation = sqlite3_column_int(s, 1);
    col_text(s, 2, e->gid, sizeof e->gid);
    col_text(s, 3, e->genotype, sizeof e->genotype);
    col_text(s, 4, e->cache_key, sizeof e->cache_key);
    col_text(s, 5, e->status, sizeof e->status);
    col_text(s, 6, e->reason, sizeof e->reason);
    e->accuracy = col_real(s, 7);
    e->test_accuracy = col_real(s, 8);
    e->validation_accuracy = col_real(s, 9);
    e->energy_mj = col_real(s, 10);
    e->latency_ms = col_real(s, 11);
    e->memory_kib = col_real(s, 12);
    e->params = sqlite3_column_int64(s, 13);
    e->macs = sqlite3_column_int64(s, 14);
    e->epochs_done = sqlite3_column_int(s, 15);
    e->train_seconds = col_real(s, 16);
    e->seconds = col_real(s, 17);
    col_text(s, 18, e->worker, sizeof e->worker);
    e->threads = sqlite3_column_int(s, 19);
    return check_gid(st, e, err);
}

int nc_store_eval_find(nc_store *st, const char *genotype, const char *cache_key,
                       nc_eval_rec *out, int *found, nc_error *err)
{
    sqlite3_stmt *s;
    *found = 0;
    int rc = prepare_eval(st, "genotype = ?1 AND cache_key = ?2", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, genotype, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, cache_key, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        rc = read_eval(st, s, out, err);
        *found = rc == NC_OK;
    } else if (step != SQLITE_DONE)
        rc = db_error(st, err, "cannot read evaluations");
    sqlite3_finalize(s);
    return rc;
}

int nc_store_eval_seen(nc_store *st, const char *genotype, const char *cache_key,
                       int generation)
{
    sqlite3_stmt *s;
    if (prepare(st,
                "SELECT 1 FROM evaluations WHERE genotype = ?1 AND cache_key = ?2 AND "
                "generation < ?3",
                &s, NULL))
        return 0;
    sqlite3_bind_text(s, 1, genotype, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, cache_key, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, generation);
    int seen = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return seen;
}

int nc_store_eval_get(nc_store *st, int64_t id, nc_eval_rec *out, nc_error *err)
{
    sqlite3_stmt *s;
    int rc = prepare_eval(st, "id = ?1", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(s, 1, id);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        rc = read_eval(st, s, out, err);
    else if (step == SQLITE_DONE)
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: evaluation %" PRId64 " is missing", st->path,
                          id);
    else
        rc = db_error(st, err, "cannot read evaluations");
    sqlite3_finalize(s);
    return rc;
}

/* Epoch rows of evaluation (or stage-2 member) id; worker (may be NULL:
 * the table has no such columns) and threads say who trained them. */
static int add_epochs(nc_store *st, const char *table, int64_t id, const nc_epoch_rec *ep,
                      int n, const char *worker, int threads, nc_error *err)
{
    char sql[320];
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO %s(eval_id, epoch, complete, train_loss, train_accuracy,"
             " test_accuracy, validation_accuracy, seconds%s) VALUES(?1,?2,?3,?4,?5,?6,?7,?8%s)",
             table, worker ? ", worker, threads" : "", worker ? ",?9,?10" : "");
    sqlite3_stmt *s;
    int rc = prepare(st, sql, &s, err);
    for (int i = 0; i < n && !rc; i++) {
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int(s, 2, ep[i].epoch);
        sqlite3_bind_int(s, 3, ep[i].complete);
        bind_real(s, 4, ep[i].train_loss);
        bind_real(s, 5, ep[i].train_accuracy);
        bind_real(s, 6, ep[i].test_accuracy);
        bind_real(s, 7, ep[i].validation_accuracy);
        bind_real(s, 8, ep[i].seconds);
        if (worker)
            bind_worker(s, 9, worker, threads);
        if (sqlite3_step(s) != SQLITE_DONE)
            rc = db_error(st, err, "cannot store an epoch");
    }
    sqlite3_finalize(s);
    return rc;
}

int nc_store_eval_add(nc_store *st, nc_eval_rec *e, const nc_epoch_rec *epochs, int n,
                      nc_error *err)
{
    sqlite3_stmt *s = NULL;
    int rc = nc_store_begin(st, err);
    if (rc)
        return rc;
    if ((rc = prepare(st,
                      "INSERT INTO evaluations(generation, gid, genotype, cache_key, status,"
                      " reason, accuracy, test_accuracy, validation_accuracy, energy_mj,"
                      " latency_ms, memory_kib, params, macs, epochs_done, train_seconds,"
                      " seconds, worker, threads) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,"
                      "?12,?13,?14,?15,?16,?17,?18,?19)",
                      &s, err)))
        goto fail;
    sqlite3_bind_int(s, 1, e->generation);
    sqlite3_bind_text(s, 2, e->gid, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, e->genotype, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, e->cache_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, e->status, -1, SQLITE_STATIC);
    if (e->reason[0])
        sqlite3_bind_text(s, 6, e->reason, -1, SQLITE_STATIC);
    bind_real(s, 7, e->accuracy);
    bind_real(s, 8, e->test_accuracy);
    bind_real(s, 9, e->validation_accuracy);
    bind_real(s, 10, e->energy_mj);
    bind_real(s, 11, e->latency_ms);
    bind_real(s, 12, e->memory_kib);
    sqlite3_bind_int64(s, 13, e->params);
    sqlite3_bind_int64(s, 14, e->macs);
    sqlite3_bind_int(s, 15, e->epochs_done);
    bind_real(s, 16, e->train_seconds);
    bind_real(s, 17, e->seconds);
    bind_worker(s, 18, e->worker, e->threads);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = db_error(st, err, "cannot store an evaluation");
        goto fail;
    }
    e->id = sqlite3_last_insert_rowid(st->db);
    if ((rc = add_epochs(st, "epochs", e->id, epochs, n, NULL, 0, err)) ||
        (rc = nc_store_commit(st, err)))
        goto fail;
    sqlite3_finalize(s);
    return NC_OK;
fail:
    sqlite3_finalize(s);
    nc_store_rollback(st);
    return rc;
}

int nc_store_eval_counts(nc_store *st, int64_t *total, int64_t *failed, nc_error *err)
{
    sqlite3_stmt *s;
    int rc = prepare(st,
                     "SELECT count(*), coalesce(sum(status <> 'ok'), 0) FROM evaluations", &s,
                     err);
    if (rc)
        return rc;
    if (sqlite3_step(s) == SQLITE_ROW) {
        *total = sqlite3_column_int64(s, 0);
        *failed = sqlite3_column_int64(s, 1);
    } else
        rc = db_error(st, err, "cannot count evaluations");
    sqlite3_finalize(s);
    return rc;
}

int nc_store_generation_add(nc_store *st, const nc_gen_rec *g, nc_error *err)
{
    sqlite3_stmt *s = NULL;
    char rng[68];
    nc_run_rng_text(&g->rng, rng);
    int rc = nc_store_begin(st, err);
    if (rc)
        return rc;
    if (g->bounds && (rc = nc_store_meta_set(st, "hv_bounds", g->bounds, err)))
        goto fail;
    if ((rc = prepare(st,
                      "INSERT INTO generations(generation, optimizer_state, rng, evaluated,"
                      " cached, failed, front_size, best_accuracy, hypervolume, elapsed_s)"
                      " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                      &s, err)))
        goto fail;
    const nc_generation_row *r = &g->row;
    sqlite3_bind_int(s, 1, r->generation);
    sqlite3_bind_text(s, 2, g->state, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, rng, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, r->evaluated);
    sqlite3_bind_int(s, 5, r->cached);
    sqlite3_bind_int(s, 6, r->failed);
    sqlite3_bind_int(s, 7, r->front_size);
    bind_real(s, 8, r->best_accuracy);
    bind_real(s, 9, r->hypervolume);
    sqlite3_bind_double(s, 10, r->elapsed_s);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = db_error(st, err, "cannot store a generation");
        goto fail;
    }
    sqlite3_finalize(s);
    s = NULL;
    if ((rc = prepare(st,
                      "INSERT INTO population(generation, position, eval_id, rank, crowding)"
                      " VALUES(?1,?2,?3,?4,?5)",
                      &s, err)))
        goto fail;
    for (int i = 0; i < g->n; i++) {
        sqlite3_reset(s);
        sqlite3_bind_int(s, 1, r->generation);
        sqlite3_bind_int(s, 2, i);
        sqlite3_bind_int64(s, 3, g->eval_ids[i]);
        sqlite3_bind_int(s, 4, g->rank[i]);
        /* infinite crowding (boundary points) reads back as NULL */
        bind_real(s, 5, g->crowding[i]);
        if (sqlite3_step(s) != SQLITE_DONE) {
            rc = db_error(st, err, "cannot store a population");
            goto fail;
        }
    }
    if ((rc = nc_store_commit(st, err)))
        goto fail;
    sqlite3_finalize(s);
    return NC_OK;
fail:
    sqlite3_finalize(s);
    nc_store_rollback(st);
    return rc;
}

int nc_store_last_generation(nc_store *st, int *generation, char **state, nc_rng *rng,
                             double *elapsed, nc_error *err)
{
    sqlite3_stmt *s;
    *state = NULL;
    *generation = 0;
    *elapsed = 0.0;
    int rc = prepare(st,
                     "SELECT generation, optimizer_state, rng, elapsed_s FROM generations"
                     " ORDER BY generation DESC LIMIT 1",
                     &s, err);
    if (rc)
        return rc;
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        *generation = sqlite3_column_int(s, 0);
        const unsigned char *t = sqlite3_column_text(s, 1);
        *elapsed = sqlite3_column_double(s, 3);
        if (nc_run_rng_parse((const char *)sqlite3_column_text(s, 2), rng))
            rc = nc_error_set(err, NC_ERR_INPUT, "%s: generation %d: bad rng state", st->path,
                              *generation);
        else if (!(*state = strdup(t ? (const char *)t : "")))
            rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    } else if (step != SQLITE_DONE)
        rc = db_error(st, err, "cannot read generations");
    sqlite3_finalize(s);
    return rc;
}

int nc_store_generations(nc_store *st, nc_generation_row **rows, int *n, nc_error *err)
{
    sqlite3_stmt *s;
    *rows = NULL;
    *n = 0;
    int rc = prepare(st,
                     "SELECT generation, evaluated, cached, failed, front_size, best_accuracy,"
                     " hypervolume, elapsed_s FROM generations ORDER BY generation",
                     &s, err);
    if (rc)
        return rc;
    int cap = 0, step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            nc_generation_row *grown = realloc(*rows, (size_t)cap * sizeof *grown);
            if (!grown) {
                rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
                break;
            }
            *rows = grown;
        }
        nc_generation_row *r = &(*rows)[(*n)++];
        r->generation = sqlite3_column_int(s, 0);
        r->evaluated = sqlite3_column_int(s, 1);
        r->cached = sqlite3_column_int(s, 2);
        r->failed = sqlite3_column_int(s, 3);
        r->front_size = sqlite3_column_int(s, 4);
        r->best_accuracy = col_real(s, 5);
        r->hypervolume = col_real(s, 6);
        r->elapsed_s = col_real(s, 7);
    }
    if (!rc && step != SQLITE_DONE)
        rc = db_error(st, err, "cannot read generations");
    sqlite3_finalize(s);
    if (rc) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

int nc_store_population(nc_store *st, int gen, int64_t **eval_ids, int **rank,
                        double **crowding, int *n, nc_error *err)
{
    sqlite3_stmt *s;
    *eval_ids = NULL;
    *rank = NULL;
    *crowding = NULL;
    *n = 0;
    int rc = prepare(st,
                     "SELECT eval_id, rank, crowding FROM population WHERE generation = ?1"
                     " ORDER BY position",
                     &s, err);
    if (rc)
        return rc;
    sqlite3_bind_int(s, 1, gen);
    int cap = 0, step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 32;
            int64_t *a = realloc(*eval_ids, (size_t)cap * sizeof *a);
            if (a)
                *eval_ids = a;
            int *b = a ? realloc(*rank, (size_t)cap * sizeof *b) : NULL;
            if (b)
                *rank = b;
            double *c = b ? realloc(*crowding, (size_t)cap * sizeof *c) : NULL;
            if (c)
                *crowding = c;
            if (!c) {
                rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
                break;
            }
        }
        (*eval_ids)[*n] = sqlite3_column_int64(s, 0);
        (*rank)[*n] = sqlite3_column_int(s, 1);
        (*crowding)[*n] =
            sqlite3_column_type(s, 2) == SQLITE_NULL ? INFINITY : sqlite3_column_double(s, 2);
        (*n)++;
    }
    if (!rc && step != SQLITE_DONE)
        rc = db_error(st, err, "cannot read a population");
    sqlite3_finalize(s);
    if (rc) {
        free(*eval_ids);
        free(*rank);
        free(*crowding);
        *eval_ids = NULL;
        *rank = NULL;
        *crowding = NULL;
        *n = 0;
    }
    return rc;
}

/* The weights file of a stage-2 record is renamed and unlinked by the
 * run: its name must be the one the run itself would give it, derived
 * from the evaluation's (re-derived) id, never a path taken as written. */
static int check_weights_name(nc_store *st, const nc_final_rec *r, nc_error *err)
{
    if (!r->weights[0])
        return NC_OK;
    nc_eval_rec e;
    int rc = nc_store_eval_get(st, r->eval_id, &e, err);
    if (rc)
        return rc;
    char done[64], partial[64];
    snprintf(done, sizeof done, "front/%s.bin", e.gid);
    snprintf(partial, sizeof partial, "front/%s.e%d.bin", e.gid, r->epochs_done);
    if (strcmp(r->weights, done) == 0 || strcmp(r->weights, partial) == 0)
        return NC_OK;
    return nc_error_set(err, NC_ERR_INPUT,
                        "%s: stage 2 of evaluation %" PRId64 ": weights file '%.80s' is not "
                        "%s or %s: the database was altered; refusing it",
                        st->path, r->eval_id, r->weights, done, partial);
}

int nc_store_final_get(nc_store *st, int64_t eval_id, nc_final_rec *out, int *found,
                       nc_error *err)
{
    sqlite3_stmt *s;
    *found = 0;
    memset(out, 0, sizeof *out);
    int rc = prepare(st,
                     "SELECT epochs_done, status, reason, test_accuracy, validation_accuracy,"
                     " weights, shuffle_rng, augment_rng, adam_step, adam, seconds"
                     " FROM final WHERE eval_id = ?1",
                     &s, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(s, 1, eval_id);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        out->eval_id = eval_id;
        out->epochs_done = sqlite3_column_int(s, 0);
        col_text(s, 1, out->status, sizeof out->status);
        col_text(s, 2, out->reason, sizeof out->reason);
        out->test_accuracy = col_real(s, 3);
        out->validation_accuracy = col_real(s, 4);
        col_text(s, 5, out->weights, sizeof out->weights);
        out->adam_step = sqlite3_column_int64(s, 8);
        out->seconds = col_real(s, 10);
        int bytes = sqlite3_column_bytes(s, 9);
        const void *blob = sqlite3_column_blob(s, 9);
        if (nc_run_rng_parse((const char *)sqlite3_column_text(s, 6), &out->shuffle) ||
            nc_run_rng_parse((const char *)sqlite3_column_text(s, 7), &out->augment) ||
            bytes % (int)(2 * sizeof(float)) != 0)
            rc = nc_error_set(err, NC_ERR_INPUT, "%s: stage 2 of evaluation %" PRId64
                              ": bad checkpoint record", st->path, eval_id);
        else if (bytes > 0) {
            out->adam_read = malloc((size_t)bytes);
            if (!out->adam_read)
                rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
            else {
                memcpy(out->adam_read, blob, (size_t)bytes);
                out->adam_count = (size_t)bytes / (2 * sizeof(float));
            }
        }
        if (rc == NC_OK)
            rc = check_weights_name(st, out, err);
        if (rc) {
            free(out->adam_read);
            out->adam_read = NULL;
            out->adam_count = 0;
        }
        *found = rc == NC_OK;
    } else if (step != SQLITE_DONE)
        rc = db_error(st, err, "cannot read stage 2");
    sqlite3_finalize(s);
    return rc;
}

int nc_store_final_put(nc_store *st, const nc_final_rec *r, const nc_epoch_rec *epoch,
                       nc_error *err)
{
    sqlite3_stmt *s = NULL;
    char shuffle[68], augment[68];
    nc_run_rng_text(&r->shuffle, shuffle);
    nc_run_rng_text(&r->augment, augment);
    size_t bytes = r->adam_count * 2 * sizeof(float);
    if (bytes / (2 * sizeof(float)) != r->adam_count || bytes > (size_t)INT32_MAX)
        return nc_error_set(err, NC_ERR_INPUT, "%s: a checkpoint of %zu Adam moments is too large",
                            st->path, r->adam_count);
    int rc = nc_store_begin(st, err);
    if (rc)
        return rc;
    if ((rc = prepare(st,
                      "INSERT OR REPLACE INTO final(eval_id, epochs_done, status, reason,"
                      " test_accuracy, validation_accuracy, weights, shuffle_rng, augment_rng,"
                      " adam_step, adam, seconds) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
                      &s, err)))
        goto fail;
    sqlite3_bind_int64(s, 1, r->eval_id);
    sqlite3_bind_int(s, 2, r->epochs_done);
    sqlite3_bind_text(s, 3, r->status, -1, SQLITE_STATIC);
    if (r->reason[0])
        sqlite3_bind_text(s, 4, r->reason, -1, SQLITE_STATIC);
    bind_real(s, 5, r->test_accuracy);
    bind_real(s, 6, r->validation_accuracy);
    if (r->weights[0])
        sqlite3_bind_text(s, 7, r->weights, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, shuffle, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 9, augment, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 10, r->adam_step);
    if (bytes)
        sqlite3_bind_blob(s, 11, r->adam, (int)bytes, SQLITE_STATIC);
    bind_real(s, 12, r->seconds);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = db_error(st, err, "cannot store stage 2");
        goto fail;
    }
    if (epoch && (rc = add_epochs(st, "final_epochs", r->eval_id, epoch, 1, r->worker, r->threads,
                                 err)))
        goto fail;
    if ((rc = nc_store_commit(st, err)))
        goto fail;
    sqlite3_finalize(s);
    return NC_OK;
fail:
    sqlite3_finalize(s);
    nc_store_rollback(st);
    return rc;
}

int nc_store_final_best(nc_store *st, int64_t eval_id, double *accuracy, int *epoch,
                        nc_error *err)
{
    sqlite3_stmt *s;
    *accuracy = NAN;
    *epoch = 0;
    int rc = prepare(st,
                     "SELECT epoch, test_accuracy FROM final_epochs WHERE eval_id = ?1 AND"
                     " complete = 1 AND test_accuracy IS NOT NULL"
                     " ORDER BY test_accuracy DESC, epoch ASC LIMIT 1",
                     &s, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(s, 1, eval_id);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        int e = sqlite3_column_int(s, 0);
        double a = sqlite3_column_double(s, 1);
        if (e >= 1 && isfinite(a)) {   /* read back: checked */
            *epoch = e;
            *accuracy = a;
        }
    } else if (step != SQLITE_DONE)
        rc = db_error(st, err, "cannot read stage 2 epochs");
    sqlite3_finalize(s);
    return rc;
}
