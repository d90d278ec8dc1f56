/* report_data.c - every stored evaluation, its epochs and each
 * generation's front, read back for figures and comparisons
 * (nascaps/report.h, docs/REPORT.md). The database is input like any
 * file: each value is checked before it is used. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <sqlite3.h>

#include "nascaps/report.h"
#include "nascaps/search.h"
#include "run/run_internal.h"

void nc_report_data_free(nc_report_data *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n_evals; i++) {
        free(d->evals[i].genotype);
        free(d->evals[i].epoch_accuracy);
        free(d->evals[i].baseline);
    }
    if (d->gens && d->run)
        for (int g = 0; g < d->run->n_generations; g++)
            free(d->gens[g].front);
    free(d->gens);
    free(d->evals);
    free(d->workers);
    nc_report_free(d->run);
    free(d->pipeline_text);
    free(d->dir);
    free(d);
}

double nc_report_objective(const nc_report_eval *e, int o)
{
    switch (o) {
    case NC_OBJ_ACCURACY_DROP: return isfinite(e->accuracy) ? 1.0 - e->accuracy : NAN;
    case NC_OBJ_ENERGY: return e->energy_mj;
    case NC_OBJ_LATENCY: return e->latency_ms;
    case NC_OBJ_MEMORY: return e->memory_kib;
    case NC_OBJ_PARAMS: return e->params > 0 ? (double)e->params : NAN;
    default: return e->macs > 0 ? (double)e->macs : NAN;
    }
}

/* A numeric column: NULL reads as NaN; text or a blob is refused. */
static int real_col(sqlite3_stmt *s, int i, double *v)
{
    int t = sqlite3_column_type(s, i);
    if (t == SQLITE_NULL) {
        *v = NAN;
        return 0;
    }
    if (t != SQLITE_INTEGER && t != SQLITE_FLOAT)
        return -1;
    *v = sqlite3_column_double(s, i);
    return 0;
}

static int is_status(const char *s)
{
    static const char *const known[] = {"ok",     "time_limit", "diverged",   "refused",
                                        "invalid", "pruned",    "over_budget"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (!strcmp(s, known[i]))
            return 1;
    return 0;
}

static int is_id(const char *s)
{
    for (int i = 0; i < 12; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return 0;
    return s[12] == '\0';
}

/* a fraction in [0, 1] or NaN */
static int fraction_ok(double v)
{
    return isnan(v) || (v >= 0.0 && v <= 1.0);
}

/* a finite value >= 0 or NaN */
static int amount_ok(double v)
{
    return isnan(v) || (isfinite(v) && v >= 0.0);
}

static int bad(nc_error *err, const char *path, int64_t id, const char *what)
{
    return nc_error_set(err, NC_ERR_INPUT, "%s: evaluation %" PRId64 ": %s", path, id, what);
}

/* One evaluations row into e (genotype malloc'd). */
static int read_eval_row(sqlite3_stmt *s, const char *path, nc_report_eval *e, nc_error *err)
{
    const unsigned char *gid = sqlite3_column_text(s, 2), *gen = sqlite3_column_text(s, 3),
                        *status = sqlite3_column_text(s, 4);
    double v[9];
    e->eval_id = sqlite3_column_int64(s, 0);
    for (int k = 0; k < 9; k++)
        if (real_col(s, 5 + k, &v[k]))
            return bad(err, path, e->eval_id, "a number column holds text");
    int64_t generation = sqlite3_column_int64(s, 1);
    if (!gid || !is_id((const char *)gid))
        return bad(err, path, e->eval_id, "id is not 12 lower-case hex digits");
    if (!status || !is_status((const char *)status))
        return bad(err, path, e->eval_id, "unknown status");
    if (!gen || !gen[0] || strlen((const char *)gen) >= NC_GENOTYPE_STRING_MAX)
        return bad(err, path, e->eval_id, "genotype empty or too long");
    if (generation < 0 || generation > NC_REPORT_BASELINE_GEN)
        return bad(err, path, e->eval_id, "generation out of range");
    /* accuracy, test, validation: fractions; costs and seconds: amounts */
    if (!fraction_ok(v[0]) || !fraction_ok(v[1]) || !fraction_ok(v[2]))
        return bad(err, path, e->eval_id, "an accuracy outside [0, 1]");
    if (!amount_ok(v[3]) || !amount_ok(v[4]) || !amount_ok(v[5]) || !amount_ok(v[8]))
        return bad(err, path, e->eval_id, "a cost or time negative or infinite");
    if (!(v[6] >= 0 && v[6] < 9.2e18) || !(v[7] >= 0 && v[7] < 9.2e18))
        return bad(err, path, e->eval_id, "params or MACs out of range");
    memcpy(e->id, gid, 13);
    snprintf(e->status, sizeof e->status, "%s", (const char *)status);
    e->generation = (int)generation;
    /* pruned: a result (its accuracy when it stopped), not a failure */
    e->failed = strcmp(e->status, "ok") != 0 && strcmp(e->status, "pruned") != 0;
    e->accuracy = v[0];
    e->energy_mj = v[3];
    e->latency_ms = v[4];
    e->memory_kib = v[5];
    e->params = (int64_t)v[6];
    e->macs = (int64_t)v[7];
    e->train_seconds = v[8];
    if (!(e->genotype = strdup((const char *)gen)))
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    return NC_OK;
}

static int read_evals(sqlite3 *db, const char *path, nc_report_data *d, nc_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, generation, gid, genotype, status, accuracy, "
                           "test_accuracy, validation_accuracy, energy_mj, latency_ms, "
                           "memory_kib, params, macs, train_seconds FROM evaluations ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK)
        return nc_error_set(err, NC_ERR_INPUT, "%s: cannot read the evaluations: %s", path,
                            sqlite3_errmsg(db));
    int cap = 0, step, rc = NC_OK;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
        if (d->n_evals == cap) {
            cap = cap ? 2 * cap : 64;
            nc_report_eval *grown = realloc(d->evals, (size_t)cap * sizeof *grown);
            if (!grown) {
                rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
                break;
            }
            d->evals = grown;
        }
        nc_report_eval *e = &d->evals[d->n_evals];
        memset(e, 0, sizeof *e);
        if ((rc = read_eval_row(s, path, e, err)))
            break;
        d->n_evals++;
        d->correlate |= e->generation == NC_REPORT_CORRELATE_GEN;
    }
    if (!rc && step != SQLITE_DONE)
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: cannot read the evaluations: %s", path,
                          sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return rc;
}

/* Index of eval_id in d->evals (sorted by id), -1 when absent. */
static int eval_index(const nc_report_data *d, int64_t id)
{
    int lo = 0, hi = d->n_evals - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (d->evals[mid].eval_id == id)
            return mid;
        if (d->evals[mid].eval_id < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* The per-epoch accuracy the search scores: validation when measured. */
static int read_epochs(sqlite3 *db, const char *path, nc_report_data *d, nc_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db,
                           "SELECT eval_id, epoch, complete, test_accuracy, validation_accuracy"
                           " FROM epochs ORDER BY eval_id, epoch",
                           -1, &s, NULL) != SQLITE_OK)
        return nc_error_set(err, NC_ERR_INPUT, "%s: cannot read the epochs: %s", path,
                            sqlite3_errmsg(db));
    int step, rc = NC_OK;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0), epoch = sqlite3_column_int64(s, 1);
        double test, val;
        int i = eval_index(d, id);
        if (i < 0) {
            rc = nc_error_set(err, NC_ERR_INPUT, "%s: epoch row of unknown evaluation %" PRId64,
                              path, id);
            break;
        }
        if (real_col(s, 3, &test) || real_col(s, 4, &val) || !fraction_ok(test) ||
            !fraction_ok(val) || epoch < 1 || epoch > 100000) {
            rc = bad(err, path, id, "an epoch row out of range");
            break;
        }
        nc_report_eval *e = &d->evals[i];
        /* only the complete, consecutive prefix 1..n counts */
        if (!sqlite3_column_int(s, 2) || epoch != e->n_epochs + 1)
            continue;
        double *grown = realloc(e->epoch_accuracy, (size_t)epoch * sizeof *grown);
        if (!grown) {
            rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
            break;
        }
        e->epoch_accuracy = grown;
        e->epoch_accuracy[e->n_epochs++] = isfinite(val) ? val : test;
    }
    if (!rc && step != SQLITE_DONE)
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: cannot read the epochs: %s", path,
                          sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return rc;
}

/* Each generation: its front (from its stored population), the
 * evaluations asked so far and their training hours. A row for the G-th
 * completed generation covers the asks 0..G-1. */
static int read_generations(nc_store *st, nc_report_data *d, nc_error *err)
{
    const nc_run_report *r = d->run;
    if (!r->n_generations)
        return NC_OK;
    if (!(d->gens = calloc((size_t)r->n_generations, sizeof *d->gens)))
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    int rc = NC_OK;
    for (int g = 0; g < r->n_generations && !rc; g++) {
        nc_report_gen *row = &d->gens[g];
        int upto = r->generations[g].generation;
        for (int i = 0; i < d->n_evals; i++)
            if (d->evals[i].generation < upto) {
                row->evaluations++;
                if (isfinite(d->evals[i].train_seconds))
                    row->train_hours += d->evals[i].train_seconds / 3600.0;
            }
        int64_t *ids = NULL, *front = NULL;
        int *rank = NULL, n = 0, n_front = 0;
        double *crowding = NULL;
        rc = nc_store_population(st, upto, &ids, &rank, &crowding, &n, err);
        if (!rc)
            rc = nc_report_front_ids(st, ids, n, r->n_objectives, r->objectives, &front,
                                     &n_front, err);
        if (!rc && n_front && !(row->front = malloc((size_t)n_front * sizeof *row->front)))
            rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        for (int i = 0; i < n_front && !rc; i++) {
            int k = eval_index(d, front[i]);
            if (k < 0)
                rc = nc_error_set(err, NC_ERR_INPUT, "%s: generation %d: unknown evaluation %"
                                  PRId64, nc_store_path(st), upto, front[i]);
            else
                row->front[row->n_front++] = k;
        }
        free(ids);
        free(rank);
        free(crowding);
        free(front);
    }
    if (!rc && r->n_generations) {
        const nc_report_gen *last = &d->gens[r->n_generations - 1];
        for (int i = 0; i < last->n_front; i++)
            d->evals[last->front[i]].on_front = 1;
    }
    return rc;
}

/* meta "baselines": one "EVAL_ID<TAB>PATH" line per baseline (run.c). */
static int read_baselines(nc_store *st, nc_report_data *d, nc_error *err)
{
    char *text = NULL;
    int rc = nc_store_meta_get(st, "baselines", &text, err);
    for (char *line = text; !rc && line && *line;) {
        char *end = strchr(line, '\n'), *tab = strchr(line, '\t');
        if (end)
            *end = '\0';
        char *stop;
        long long id = strtoll(line, &stop, 10);
        int i = tab && stop == tab ? eval_index(d, id) : -1;
        if (i < 0) {
            rc = nc_error_set(err, NC_ERR_INPUT, "%s: baselines record: '%.80s' does not name "
                              "an evaluation", nc_store_path(st), line);
            break;
        }
        const char *name = strrchr(tab + 1, '/');
        free(d->evals[i].baseline);
        if (!(d->evals[i].baseline = strdup(name ? name + 1 : tab + 1)))
            rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        d->n_baselines++;
        line = end ? end + 1 : NULL;
    }
    free(text);
    return rc;
}

/* The entry of worker name, added when new; NULL out of memory. */
static nc_report_worker *worker_entry(nc_report_data *d, const char *name, int *cap)
{
    for (int i = 0; i < d->n_workers; i++)
        if (!strcmp(d->workers[i].name, name))
            return &d->workers[i];
    if (d->n_workers == *cap) {
        int grown_cap = *cap ? 2 * *cap : 8;
        nc_report_worker *grown = realloc(d->workers, (size_t)grown_cap * sizeof *grown);
        if (!grown)
            return NULL;
        d->workers = grown;
        *cap = grown_cap;
    }
    nc_report_worker *w = &d->workers[d->n_workers++];
    memset(w, 0, sizeof *w);
    snprintf(w->name, sizeof w->name, "%s", name);
    w->threads_min = INT32_MAX;
    return w;
}

/* Per worker: evaluations (or stage-2 epochs), seconds, threads range. */
static int read_workers(nc_store *st, nc_report_data *d, nc_error *err)
{
    sqlite3 *db = nc_store_sqlite(st);
    const char *path = nc_store_path(st);
    static const char *const sql[2] = {
        "SELECT worker, count(*), total(train_seconds), min(threads), max(threads) FROM "
        "evaluations WHERE worker IS NOT NULL GROUP BY worker ORDER BY worker",
        "SELECT worker, count(*), total(seconds), min(threads), max(threads) FROM final_epochs "
        "WHERE worker IS NOT NULL GROUP BY worker ORDER BY worker"};
    static const char *const table[2] = {"evaluations", "final_epochs"};
    int cap = 0, rc = NC_OK;
    for (int k = 0; k < 2 && !rc; k++) {
        int has_worker = 0, has_threads = 0;
        if ((rc = nc_store_has_column(st, table[k], "worker", &has_worker, err)) ||
            (rc = nc_store_has_column(st, table[k], "threads", &has_threads, err)))
            break;
        if (!has_worker || !has_threads)
            continue;
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(db, sql[k], -1, &s, NULL) != SQLITE_OK)
            return nc_error_set(err, NC_ERR_INPUT, "%s: cannot read the %s' workers: %s", path,
                                table[k], sqlite3_errmsg(db));
        int step;
        while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
            const unsigned char *name = sqlite3_column_text(s, 0);
            int64_t n = sqlite3_column_int64(s, 1);
            double secs = sqlite3_column_double(s, 2);
            int tmin = sqlite3_column_int(s, 3), tmax = sqlite3_column_int(s, 4);
            size_t len = name ? strlen((const char *)name) : 0;
            int printable = len > 0 && len < sizeof d->workers[0].name;
            for (size_t i = 0; printable && i < len; i++)
                printable = name[i] >= 0x20 && name[i] < 0x7f;
            if (!printable || n < 1 || !(secs >= 0 && secs < 1e15) || tmin < 0 ||
                tmax > (1 << 20) || tmin > tmax) {
                char shown[41];   /* one line: other bytes shown as '?' */
                size_t m = 0;
                for (; name && m < len && m + 1 < sizeof shown; m++)
                    shown[m] = name[m] >= 0x20 && name[m] < 0x7f ? (char)name[m] : '?';
                shown[m] = '\0';
                rc = nc_error_set(err, NC_ERR_INPUT,
                                  "%s: %s: a worker record that cannot be (name '%s', %lld "
                                  "rows, %g s, threads %d..%d)",
                                  path, table[k], shown, (long long)n, secs, tmin, tmax);
                break;
            }
            nc_report_worker *w = worker_entry(d, (const char *)name, &cap);
            if (!w) {
                rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
                break;
            }
            if (k == 0) {
                w->evaluations = n;
                w->train_seconds = secs;
            } else {
                w->final_epochs = n;
                w->final_seconds = secs;
            }
            w->threads_min = tmin < w->threads_min ? tmin : w->threads_min;
            w->threads_max = tmax > w->threads_max ? tmax : w->threads_max;
        }
        if (!rc && step != SQLITE_DONE)
            rc = nc_error_set(err, NC_ERR_INPUT, "%s: cannot read the %s' workers: %s", path,
                              table[k], sqlite3_errmsg(db));
        sqlite3_finalize(s);
    }
    return rc;
}

static int load(nc_store *st, nc_report_data *d, nc_error *err)
{
    sqlite3 *db = nc_store_sqlite(st);
    const char *path = nc_store_path(st);
    char *objectives = NULL;
    int rc = nc_store_meta_get(st, "objectives", &objectives, err);
    if (!rc && objectives)
        rc = nc_report_from_store(st, d->dir, &d->run, err);
    free(objectives);
    if (!rc && (rc = nc_store_meta_get(st, "pipeline", &d->pipeline_text, err)) == NC_OK &&
        !d->pipeline_text)
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: no 'pipeline' record: not a complete "
                          "results database", path);
    if (!rc)
        rc = read_evals(db, path, d, err);
    if (!rc)
        rc = read_epochs(db, path, d, err);
    if (!rc)
        rc = read_baselines(st, d, err);
    if (!rc)
        rc = read_workers(st, d, err);
    if (!rc && d->run)
        rc = read_generations(st, d, err);
    return rc;
}

int nc_report_data_load(const char *dir, nc_report_data **out, nc_error *err)
{
    *out = NULL;
    nc_report_data *d = calloc(1, sizeof *d);
    if (!d || !(d->dir = strdup(dir))) {
        free(d);
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    }
    nc_store *st;
    int rc = nc_report_open(dir, &st, err);
    if (!rc) {
        rc = load(st, d, err);
        nc_store_close(st);
    }
    if (rc)
        nc_report_data_free(d);
    else
        *out = d;
    return rc;
}

/* ---- Comparison ------------------------------------------------------------- */

/* The settings of a pipeline group as sorted "path = value" lines. */
typedef struct lines {
    char **at;
    int n, cap, failed;
} lines;

static void lines_add(lines *l, const char *path, const char *value)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        char **grown = realloc(l->at, (size_t)cap * sizeof *grown);
        if (!grown) {
            l->failed = 1;
            return;
        }
        l->at = grown;
        l->cap = cap;
    }
    size_t len = strlen(path) + strlen(value) + 4;
    char *line = malloc(len);
    if (!line) {
        l->failed = 1;
        return;
    }
    snprintf(line, len, "%s = %s", path, value);
    l->at[l->n++] = line;
}

static void flatten(const config_setting_t *s, const char *path, lines *l)
{
    char value[512];
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_GROUP:
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST:
        for (int i = 0; i < config_setting_length(s); i++) {
            const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
            char sub[512];
            if (config_setting_name(m))
                snprintf(sub, sizeof sub, "%s.%s", path, config_setting_name(m));
            else
                snprintf(sub, sizeof sub, "%s[%d]", path, i);
            flatten(m, sub, l);
        }
        return;
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        snprintf(value, sizeof value, "%lld", config_setting_get_int64(s));
        break;
    case CONFIG_TYPE_FLOAT: snprintf(value, sizeof value, "%.17g", config_setting_get_float(s)); break;
    case CONFIG_TYPE_BOOL:
        snprintf(value, sizeof value, "%s", config_setting_get_bool(s) ? "true" : "false");
        break;
    default: snprintf(value, sizeof value, "\"%s\"", config_setting_get_string(s)); break;
    }
    lines_add(l, path, value);
}

static int line_qsort(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lines_free(lines *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->at[i]);
    free(l->at);
}

static int group_lines(const char *text, const char *group, lines *l)
{
    config_t cfg;
    config_init(&cfg);
    int ok = config_read_string(&cfg, text) == CONFIG_TRUE;
    const config_setting_t *s = ok ? config_lookup(&cfg, group) : NULL;
    if (s)
        flatten(s, group, l);
    config_destroy(&cfg);
    if (l->n > 1)
        qsort(l->at, (size_t)l->n, sizeof *l->at, line_qsort);
    return ok && !l->failed ? 0 : -1;
}

/* The first setting of group that differs between two pipeline texts,
 * as "dataset.size = 16 in A, dataset.size = 28 in B"; "" when equal. */
static int group_difference(const nc_report_data *a, const nc_report_data *b, const char *group,
                            char *diff, size_t size, nc_error *err)
{
    lines la = {0}, lb = {0};
    diff[0] = '\0';
    int rc = NC_OK;
    if (group_lines(a->pipeline_text, group, &la) || group_lines(b->pipeline_text, group, &lb))
        rc = nc_error_set(err, NC_ERR_INPUT, "%s or %s: the stored pipeline does not parse",
                          a->dir, b->dir);
    for (int i = 0, j = 0; !rc && !diff[0] && (i < la.n || j < lb.n);) {
        int c = i == la.n ? 1 : j == lb.n ? -1 : strcmp(la.at[i], lb.at[j]);
        if (c == 0) {
            i++;
            j++;
        } else if (c < 0)
            snprintf(diff, size, "'%s' in %s only", la.at[i], a->dir);
        else
            snprintf(diff, size, "'%s' in %s only", lb.at[j], b->dir);
    }
    lines_free(&la);
    lines_free(&lb);
    return rc;
}

static void objectives_text(const nc_run_report *r, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < r->n_objectives && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", k ? "," : "",
                                 nc_objective_name(r->objectives[k]));
}

int nc_report_common_norm(nc_report_data *const *runs, int n, nc_report_norm *norm,
                          nc_error *err)
{
    memset(norm, 0, sizeof *norm);
    for (int i = 0; i < n; i++)
        if (!runs[i]->run)
            return nc_error_set(err, NC_ERR_INPUT, "%s: a correlate study, not a search: "
                                "nothing to compare", runs[i]->dir);
    if (n < 1)
        return nc_error_set(err, NC_ERR_INPUT, "no run to compare");
    const nc_run_report *first = runs[0]->run;
    for (int i = 1; i < n; i++) {
        char a[128], b[128], diff[1200];
        objectives_text(first, a, sizeof a);
        objectives_text(runs[i]->run, b, sizeof b);
        if (strcmp(a, b))
            return nc_error_set(err, NC_ERR_INPUT, "cannot compare %s and %s: different "
                                "objectives (%s against %s)", runs[0]->dir, runs[i]->dir, a, b);
        int rc = group_difference(runs[0], runs[i], "dataset", diff, sizeof diff, err);
        if (rc)
            return rc;
        if (diff[0])
            return nc_error_set(err, NC_ERR_INPUT, "cannot compare %s and %s: different "
                                "datasets (%s)", runs[0]->dir, runs[i]->dir, diff);
    }
    norm->n_objectives = first->n_objectives;
    memcpy(norm->objectives, first->objectives, sizeof norm->objectives);
    norm->reference = 1.1;
    for (int o = 0; o < NC_OBJ_COUNT; o++) {
        norm->lo[o] = 0.0;
        norm->hi[o] = 1.0;
    }
    for (int k = 0; k < norm->n_objectives; k++) {
        int o = norm->objectives[k];
        if (o == NC_OBJ_ACCURACY_DROP)
            continue;
        double hi = 0.0;
        for (int r = 0; r < n; r++)
            for (int i = 0; i < runs[r]->n_evals; i++) {
                const nc_report_eval *e = &runs[r]->evals[i];
                double v = nc_report_objective(e, o);
                /* the searches' own candidates: not baselines, not a study's */
                if (e->generation < NC_REPORT_CORRELATE_GEN && !e->failed && isfinite(v) &&
                    v > hi)
                    hi = v;
            }
        norm->hi[o] = hi > 0 ? hi : 1.0;
    }
    return NC_OK;
}

double nc_report_hypervolume(const nc_report_data *d, int g, const nc_report_norm *norm)
{
    const nc_report_gen *row = &d->gens[g];
    int m = norm->n_objectives;
    if (!row->n_front)
        return 0.0;
    double *pts = malloc((size_t)row->n_front * (size_t)m * sizeof *pts), ref[NC_OBJ_COUNT];
    if (!pts)
        return -1.0;
    for (int i = 0; i < row->n_front; i++)
        for (int k = 0; k < m; k++) {
            int o = norm->objectives[k];
            double v = nc_report_objective(&d->evals[row->front[i]], o);
            if (o == NC_OBJ_ACCURACY_DROP && !isfinite(v))
                v = 1.0;
            pts[(size_t)i * (size_t)m + (size_t)k] =
                isfinite(v) ? (v - norm->lo[o]) / (norm->hi[o] - norm->lo[o]) : INFINITY;
        }
    for (int k = 0; k < m; k++)
        ref[k] = norm->reference;
    double hv = nc_hypervolume(pts, (size_t)row->n_front, m, ref);
    free(pts);
    return hv;
}
