/* report.c - what a run found, read from results.db, and the files
 * written from it (docs/RUN.md, "Files"). Everything here is a function of
 * the database's results (no timings), so identical runs give identical
 * files. */
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "nascaps/search.h"
#include "run/run_internal.h"
#include "util/text.h"

/* pareto.csv order: accuracy descending (unmeasured last), energy
 * ascending, then id. */
static int member_cmp(const nc_front_member *a, const nc_front_member *b)
{
    int fa = isfinite(a->accuracy), fb = isfinite(b->accuracy);
    if (fa != fb)
        return fa ? -1 : 1;
    if (fa && a->accuracy != b->accuracy)
        return a->accuracy > b->accuracy ? -1 : 1;
    if (a->energy_mj != b->energy_mj)
        return a->energy_mj < b->energy_mj ? -1 : 1;
    return strcmp(a->id, b->id);
}

static int member_qsort(const void *a, const void *b)
{
    return member_cmp(a, b);
}

static void member_of(const nc_eval_rec *e, nc_front_member *m)
{
    memset(m, 0, sizeof *m);
    memcpy(m->id, e->gid, sizeof m->id);
    m->accuracy = e->accuracy;
    m->test_accuracy = e->test_accuracy;
    m->validation_accuracy = e->validation_accuracy;
    m->energy_mj = e->energy_mj;
    m->latency_ms = e->latency_ms;
    m->memory_kib = e->memory_kib;
    m->params = e->params;
    m->macs = e->macs;
    m->final_test_accuracy = m->final_validation_accuracy = NAN;
}

typedef struct keyed {
    nc_front_member m;
    int64_t id;
} keyed;

static int keyed_qsort(const void *a, const void *b)
{
    return member_cmp(&((const keyed *)a)->m, &((const keyed *)b)->m);
}

int nc_report_front_ids(nc_store *st, const int64_t *ids, int n, int n_obj,
                        const int *objectives, int64_t **front, int *n_front, nc_error *err)
{
    *front = NULL;
    *n_front = 0;
    int64_t *uniq = malloc((size_t)(n ? n : 1) * sizeof *uniq);
    double *obj = malloc((size_t)(n ? n : 1) * (size_t)n_obj * sizeof *obj);
    nc_point *pts = malloc((size_t)(n ? n : 1) * sizeof *pts);
    int *rank = malloc((size_t)(n ? n : 1) * sizeof *rank);
    keyed *k = malloc((size_t)(n ? n : 1) * sizeof *k);
    nc_eval_rec *e = malloc(sizeof *e);
    int rc = NC_OK, u = 0;
    if (!uniq || !obj || !pts || !rank || !k || !e) {
        rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        goto out;
    }
    /* a population may hold one evaluation twice: it is one point */
    for (int i = 0; i < n; i++) {
        int dup = 0;
        for (int j = 0; j < u && !dup; j++)
            dup = uniq[j] == ids[i];
        if (!dup)
            uniq[u++] = ids[i];
    }
    for (int i = 0; i < u && !rc; i++) {
        if ((rc = nc_store_eval_get(st, uniq[i], e, err)))
            break;
        nc_run_objectives(e, n_obj, objectives, obj + (size_t)i * (size_t)n_obj,
                          &pts[i].violation);
        pts[i].obj = obj + (size_t)i * (size_t)n_obj;
        member_of(e, &k[i].m);
        k[i].id = uniq[i];
    }
    if (rc)
        goto out;
    if (u && nc_nondominated_sort(pts, (size_t)u, n_obj, rank) < 0) {
        rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        goto out;
    }
    int m = 0;
    for (int i = 0; i < u; i++)
        if (rank[i] == 0 && pts[i].violation == 0)
            k[m++] = k[i];
    if (m > 1)
        qsort(k, (size_t)m, sizeof *k, keyed_qsort);
    for (int i = 0; i < m; i++)
        uniq[i] = k[i].id;
    *front = uniq;
    *n_front = m;
    uniq = NULL;
out:
    free(uniq);
    free(obj);
    free(pts);
    free(rank);
    free(k);
    free(e);
    return rc;
}

void nc_report_free(nc_run_report *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n_front; i++) {
        free(r->front[i].genotype);
        free(r->front[i].final_weights);
    }
    free(r->front);
    free(r->generations);
    free(r->pipeline_text);
    free(r->dir);
    free(r);
}

static int parse_objectives(nc_run_report *r, const char *text)
{
    r->n_objectives = 0;
    const char *q = text;
    while (*q && r->n_objectives < NC_OBJ_COUNT) {
        size_t len = strcspn(q, ",");
        int found = -1;
        for (int o = 0; o < NC_OBJ_COUNT && found < 0; o++)
            if (strlen(nc_objective_name(o)) == len && !strncmp(nc_objective_name(o), q, len))
                found = o;
        if (found < 0)
            return NC_ERR_INPUT;
        r->objectives[r->n_objectives++] = found;
        r->trains |= found == NC_OBJ_ACCURACY_DROP;
        q += len;
        if (*q == ',')
            q++;
    }
    return r->n_objectives > 0 ? NC_OK : NC_ERR_INPUT;
}

static void parse_bounds(nc_run_report *r, const char *text)
{
    char name[32];
    double lo, hi;
    int used;
    for (const char *q = text; sscanf(q, "%31s %lf %lf%n", name, &lo, &hi, &used) == 3;
         q += used)
        for (int o = 0; o < NC_OBJ_COUNT; o++)
            if (!strcmp(nc_objective_name(o), name)) {
                r->bound_lo[o] = lo;
                r->bound_hi[o] = hi;
            }
}

/* meta value as a malloc'd string; a missing one is a foreign database. */
static int meta(nc_store *st, const char *key, char **value, nc_error *err)
{
    int rc = nc_store_meta_get(st, key, value, err);
    if (!rc && !*value)
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: no '%s' record: not a complete results database",
                          nc_store_path(st), key);
    return rc;
}

static int read_front(nc_store *st, nc_run_report *r, nc_error *err)
{
    if (r->n_generations == 0)
        return NC_OK;
    int64_t *ids = NULL, *front = NULL;
    int *rank = NULL;
    double *crowding = NULL;
    int n = 0, n_front = 0;
    nc_eval_rec *e = malloc(sizeof *e);
    int rc = e ? NC_OK : nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    if (!rc)
        rc = nc_store_population(st, r->generations[r->n_generations - 1].generation, &ids,
                                 &rank, &crowding, &n, err);
    if (!rc)
        rc = nc_report_front_ids(st, ids, n, r->n_objectives, r->objectives, &front, &n_front,
                                 err);
    if (!rc && n_front && !(r->front = calloc((size_t)n_front, sizeof *r->front)))
        rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    for (int i = 0; i < n_front && !rc; i++) {
        nc_final_rec fin;
        int found = 0;
        if ((rc = nc_store_eval_get(st, front[i], e, err)) ||
            (rc = nc_store_final_get(st, front[i], &fin, &found, err)))
            break;
        nc_front_member *m = &r->front[r->n_front++];
        member_of(e, m);
        if (!(m->genotype = strdup(e->genotype)))
            rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        m->final_best_accuracy = NAN;
        if (found && !rc)
            rc = nc_store_final_best(st, front[i], &m->final_best_accuracy,
                                     &m->final_best_epoch, err);
        if (found) {
            m->final_epochs = fin.epochs_done;
            m->final_test_accuracy = fin.test_accuracy;
            m->final_validation_accuracy = fin.validation_accuracy;
            if (!strcmp(fin.status, "ok") && !(m->final_weights = strdup(fin.weights)))
                rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        }
        free(fin.adam_read);
    }
    free(ids);
    free(rank);
    free(crowding);
    free(front);
    free(e);
    return rc;
}

int nc_report_from_store(nc_store *st, const char *dir, nc_run_report **out, nc_error *err)
{
    *out = NULL;
    nc_run_report *r = calloc(1, sizeof *r);
    if (!r || !(r->dir = strdup(dir))) {
        free(r);
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    }
    char *seed = NULL, *objectives = NULL, *bounds = NULL, *epochs = NULL, *done = NULL;
    int rc;
    if ((rc = meta(st, "pipeline", &r->pipeline_text, err)) ||
        (rc = meta(st, "seed", &seed, err)) || (rc = meta(st, "objectives", &objectives, err)) ||
        (rc = nc_store_meta_get(st, "hv_bounds", &bounds, err)) ||
        (rc = nc_store_meta_get(st, "final_epochs", &epochs, err)) ||
        (rc = nc_store_meta_get(st, "search_done", &done, err)))
        goto out;
    r->seed = strtoull(seed, NULL, 10);
    if (parse_objectives(r, objectives)) {
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: bad objectives record '%s'",
                          nc_store_path(st), objectives);
        goto out;
    }
    r->hv_reference = 1.1;
    for (int o = 0; o < NC_OBJ_COUNT; o++) {
        r->bound_lo[o] = 0.0;
        r->bound_hi[o] = 1.0;
    }
    if (bounds) {
        r->have_bounds = 1;
        parse_bounds(r, bounds);
    }
    r->final_planned = epochs ? atoi(epochs) : 0;
    r->search_done = done && !strcmp(done, "1");
    if ((rc = nc_store_eval_counts(st, &r->evaluations, &r->failed, err)) ||
        (rc = nc_store_generations(st, &r->generations, &r->n_generations, err)) ||
        (rc = read_front(st, r, err)))
        goto out;
    if (r->n_front > 1)
        qsort(r->front, (size_t)r->n_front, sizeof *r->front, member_qsort);
out:
    free(seed);
    free(objectives);
    free(bounds);
    free(epochs);
    free(done);
    if (rc)
        nc_report_free(r);
    else
        *out = r;
    return rc;
}

int nc_report_open(const char *dir, nc_store **st, nc_error *err)
{
    char path[NC_PATH_MAX + 32];
    *st = NULL;
    snprintf(path, sizeof path, "%s/results.db", dir);
    if (access(path, F_OK) != 0)
        return nc_error_set(err, NC_ERR_INPUT, "%s: no results database (results.db) in this "
                            "folder", dir);
    int rc = nc_store_open(path, 1, st, NULL, err);
    if (rc)
        return rc;
    /* one read transaction: a consistent view while a run writes */
    if ((rc = nc_store_begin_read(*st, err))) {
        nc_store_close(*st);
        *st = NULL;
    }
    return rc;
}

int nc_report_load(const char *dir, nc_run_report **out, nc_error *err)
{
    nc_store *st;
    *out = NULL;
    int rc = nc_report_open(dir, &st, err);
    if (rc)
        return rc;
    rc = nc_report_from_store(st, dir, out, err);
    nc_store_close(st);
    return rc;
}

/* ---- Text ------------------------------------------------------------------ */

static void add_num(nc_text *b, double v)
{
    if (isfinite(v))
        nc_text_add(b, "%.9g", v);
}

char *nc_report_csv(const nc_run_report *r)
{
    nc_text b = {0};
    /* the first seven columns are the contract (ARCHITECTURE.md section
     * 10); later ones are only ever appended */
    nc_text_add(&b, "id,accuracy,energy_mJ,latency_ms,memory_KiB,params,genotype,test_accuracy,"
            "final_accuracy,macs,final_best_accuracy,final_best_epoch\n");
    for (int i = 0; i < r->n_front; i++) {
        const nc_front_member *m = &r->front[i];
        nc_text_add(&b, "%s,", m->id);
        add_num(&b, m->accuracy);
        nc_text_add(&b, ",");
        add_num(&b, m->energy_mj);
        nc_text_add(&b, ",");
        add_num(&b, m->latency_ms);
        nc_text_add(&b, ",");
        add_num(&b, m->memory_kib);
        /* the genotype holds commas: quoted */
        nc_text_add(&b, ",%" PRId64 ",\"%s\",", m->params, m->genotype);
        add_num(&b, m->test_accuracy);
        nc_text_add(&b, ",");
        if (m->final_epochs > 0)
            add_num(&b, m->final_test_accuracy);
        nc_text_add(&b, ",%" PRId64 ",", m->macs);
        if (m->final_epochs > 0)
            add_num(&b, m->final_best_accuracy);
        nc_text_add(&b, ",");
        if (m->final_epochs > 0 && m->final_best_epoch > 0)
            nc_text_add(&b, "%d", m->final_best_epoch);
        nc_text_add(&b, "\n");
    }
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

char *nc_report_json(const nc_run_report *r)
{
    json_t *root = json_object(), *objs = json_array(), *front = json_array(),
           *gens = json_array(), *bounds = json_object();
    if (!root || !objs || !front || !gens || !bounds) {
        json_decref(root);
        json_decref(objs);
        json_decref(front);
        json_decref(gens);
        json_decref(bounds);
        return NULL;
    }
    for (int k = 0; k < r->n_objectives; k++) {
        int o = r->objectives[k];
        json_array_append_new(objs, json_string(nc_objective_name(o)));
        if (r->have_bounds)
            json_object_set_new(bounds, nc_objective_name(o),
                                json_pack("[f,f]", r->bound_lo[o], r->bound_hi[o]));
    }
    for (int i = 0; i < r->n_generations; i++) {
        const nc_generation_row *g = &r->generations[i];
        json_array_append_new(gens, json_pack("{s:i,s:i,s:i,s:i,s:o,s:o}", "generation",
                                              g->generation, "evaluated", g->evaluated,
                                              "failed", g->failed, "front_size", g->front_size,
                                              "best_accuracy", num(g->best_accuracy),
                                              "hypervolume", num(g->hypervolume)));
    }
    for (int i = 0; i < r->n_front; i++) {
        const nc_front_member *m = &r->front[i];
        json_t *o = json_pack(
            "{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:I}", "id", m->id, "genotype", m->genotype,
            "accuracy", num(m->accuracy), "test_accuracy", num(m->test_accuracy),
            "validation_accuracy", num(m->validation_accuracy), "energy_mJ", num(m->energy_mj),
            "latency_ms", num(m->latency_ms), "memory_KiB", num(m->memory_kib), "params",
            (json_int_t)m->params, "macs", (json_int_t)m->macs);
        if (o && m->final_epochs > 0)
            json_object_set_new(
                o, "final",
                json_pack("{s:i,s:o,s:o,s:o,s:o,s:i}", "epochs", m->final_epochs,
                          "test_accuracy", num(m->final_test_accuracy), "validation_accuracy",
                          num(m->final_validation_accuracy), "weights",
                          m->final_weights ? json_string(m->final_weights) : json_null(),
                          "best_test_accuracy", num(m->final_best_accuracy), "best_epoch",
                          m->final_best_epoch));
        json_array_append_new(front, o);
    }
    char seed[32];
    snprintf(seed, sizeof seed, "%" PRIu64, r->seed);
    json_object_set_new(root, "seed", json_string(seed));
    json_object_set_new(root, "objectives", objs);
    json_object_set_new(root, "search_done", json_boolean(r->search_done));
    json_object_set_new(root, "generations", json_integer(r->n_generations));
    json_object_set_new(root, "evaluations", json_integer(r->evaluations));
    json_object_set_new(root, "failed", json_integer(r->failed));
    json_object_set_new(root, "final_training_epochs", json_integer(r->final_planned));
    json_object_set_new(root, "hypervolume",
                        json_pack("{s:o,s:f,s:o}", "bounds", bounds, "reference",
                                  r->hv_reference, "per_generation", gens));
    json_object_set_new(root, "front", front);
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}

static char *hypervolume_csv(const nc_run_report *r)
{
    nc_text b = {0};
    nc_text_add(&b, "generation,evaluated,failed,front_size,best_accuracy,hypervolume\n");
    for (int i = 0; i < r->n_generations; i++) {
        const nc_generation_row *g = &r->generations[i];
        nc_text_add(&b, "%d,%d,%d,%d,", g->generation, g->evaluated, g->failed, g->front_size);
        add_num(&b, g->best_accuracy);
        nc_text_add(&b, ",");
        add_num(&b, g->hypervolume);
        nc_text_add(&b, "\n");
    }
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}

/* Removes front/<id>.chr files of genotypes no longer on the front. */
static void prune_front(const nc_run_report *r, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len != 16 || strcmp(de->d_name + 12, ".chr") != 0)
            continue;
        int keep = 0;
        for (int i = 0; i < r->n_front && !keep; i++)
            keep = !strncmp(de->d_name, r->front[i].id, 12);
        if (!keep) {
            char path[NC_PATH_MAX + 300];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

int nc_report_write_files(const nc_run_report *r, nc_error *err)
{
    char *csv = nc_report_csv(r), *json = nc_report_json(r), *hv = hypervolume_csv(r);
    int rc = NC_OK;
    if (!csv || !json || !hv) {
        rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        goto out;
    }
    size_t jl = strlen(json);
    char *jn = realloc(json, jl + 2);
    if (!jn) {
        rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        goto out;
    }
    json = jn;
    memcpy(json + jl, "\n", 2);
    char front[NC_PATH_MAX + 16];
    snprintf(front, sizeof front, "%s/front", r->dir);
    if ((rc = nc_run_write_file(r->dir, "pareto.csv", csv, err)) ||
        (rc = nc_run_write_file(r->dir, "pareto.json", json, err)) ||
        (rc = nc_run_write_file(r->dir, "hypervolume.csv", hv, err)) ||
        (rc = nc_run_mkdirs(front, err)))
        goto out;
    prune_front(r, front);
    for (int i = 0; i < r->n_front && !rc; i++) {
        char name[32], text[NC_GENOTYPE_STRING_MAX + 2];
        snprintf(name, sizeof name, "%s.chr", r->front[i].id);
        snprintf(text, sizeof text, "%s\n", r->front[i].genotype);
        rc = nc_run_write_file(front, name, text, err);
    }
out:
    free(csv);
    free(json);
    free(hv);
    return rc;
}
