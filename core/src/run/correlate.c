/* correlate.c - `nascaps correlate` (docs/CORRELATE.md): trains random
 * genotypes of the search space for E epochs, keeping every epoch's
 * accuracy and time in results.db, and measures how well the accuracy
 * after e epochs predicts the accuracy after E (the paper's Table 2).
 *
 * The candidates are a pure function of the seed, the space and
 * correlate.samples (the first N draws of nc_rng_derive(seed,
 * "correlate"), duplicates skipped), and each evaluation is one
 * transaction keyed by (genotype, cache key), so a killed study resumes
 * where it stopped and a finished one is recomputed from the store. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nascaps/correlate.h"
#include "nascaps/data.h"
#include "nascaps/estimate.h"
#include "nascaps/network.h"
#include "nascaps/search.h"
#include "nascaps/stats.h"
#include "nascaps/train.h"
#include "exec/exec.h"
#include "run/correlate_internal.h"

#define MAX_EPOCHS 1000
#define MAX_SAMPLES 100000
/* Draws per wanted sample before a small space is declared exhausted. */
#define DRAWS_PER_SAMPLE 200
/* Not the index of any ask: the search's seen() ("evaluated by an earlier
 * ask of this run") never counts a study's evaluation, so a search in the
 * same folder draws as in a fresh one and only finds the cache warm. */
#define CORRELATE_GENERATION 1000000000
/* 95 % two-sided normal quantile. */
#define Z95 1.959963984540054

const nc_setting_spec nc_correlate_settings[] = {
    NC_SETTING_INT("samples", 66, 0, MAX_SAMPLES,
                   "nascaps correlate: random genotypes drawn from the search "
                   "space"),
    NC_SETTING_INT("epochs", 10, 1, MAX_EPOCHS,
                   "nascaps correlate: epochs each is trained (full training)"),
    NC_SETTING_REAL_ABOVE("target_r", 0.95, 0.0, 1.0,
                          "nascaps correlate: Pearson r the recommended epoch "
                          "count reaches"),
    NC_SETTING_END};

int nc_correlate_cfg_read(const nc_pipeline *p, nc_correlate_cfg *cfg, nc_error *err)
{
    const nc_section *sec = nc_pipeline_section(p, "correlate");
    const nc_setting_spec *const tables[] = {nc_correlate_settings, NULL};
    if (nc_pipeline_check_keys(p, "correlate", tables, NULL, err) ||
        nc_setting_int32(sec, nc_correlate_settings, "samples", &cfg->samples, err) ||
        nc_setting_int32(sec, nc_correlate_settings, "epochs", &cfg->epochs, err) ||
        nc_setting_real(sec, nc_correlate_settings, "target_r", &cfg->target_r, err))
        return err->status;
    return NC_OK;
}

typedef struct corr_ctx {
    nc_registry *reg;
    const nc_pipeline *p;
    const nc_settings *s;
    const nc_correlate_opts *opt;
    nc_store *st;
    nc_data *data;
    nc_accelerator *acc;
    nc_train_opts topt;
    char key[17];
    int validation;
} corr_ctx;

static int stop_requested(const corr_ctx *c)
{
    return c->opt->stop && *c->opt->stop;
}

static int stop_hook(void *user)
{
    return stop_requested(user);
}

static void note(const corr_ctx *c, const char *text)
{
    if (c->opt->progress) {
        nc_correlate_progress p = {0};
        p.note = text;
        p.accuracy = NAN;
        c->opt->progress(&p, c->opt->user);
    }
}

/* The candidates: the files, then distinct draws of the space. */
static int candidates(const corr_ctx *c, const nc_pipeline *p, const nc_data_shape *shape,
                      nc_genotype **out, int *n, nc_error *err)
{
    const nc_correlate_opts *o = c->opt;
    size_t cap = (size_t)o->n_files + (size_t)o->cfg.samples;
    nc_genotype *list = malloc(cap * sizeof *list);
    if (!list)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    int k = 0, rc = NC_OK;
    for (int i = 0; i < o->n_files && !rc; i++) {
        if ((rc = nc_genotype_load(o->files[i], &list[k], err)))
            break;
        if ((rc = nc_genotype_validate(&list[k], o->files[i], shape, err)))
            break;
        int dup = 0;
        for (int j = 0; j < k && !dup; j++)
            dup = nc_genotype_equal(&list[j], &list[k]);
        k += !dup;
    }
    nc_search_space space;
    if (!rc)
        rc = nc_space_from_section(nc_pipeline_section(p, "search_space"), shape, &space, err);
    nc_rng rng;
    nc_rng_derive(&rng, c->s->seed, "correlate");
    int64_t draws = (int64_t)o->cfg.samples * DRAWS_PER_SAMPLE;
    int sampled = 0, first_sample = k;
    while (!rc && sampled < o->cfg.samples && draws-- > 0) {
        if ((rc = nc_space_sample(&space, &rng, &list[k], err)))
            break;
        int dup = 0;
        for (int j = 0; j < k && !dup; j++)
            dup = nc_genotype_equal(&list[j], &list[k]);
        if (!dup) {
            k++;
            sampled++;
        }
    }
    if (rc) {
        free(list);
        return rc;
    }
    if (sampled < o->cfg.samples) {
        char text[256];
        snprintf(text, sizeof text,
                 "the search space gave %d distinct genotypes in %d draws, not the %d of "
                 "correlate.samples: studying those",
                 k - first_sample, o->cfg.samples * DRAWS_PER_SAMPLE, o->cfg.samples);
        note(c, text);
    }
    *out = list;
    *n = k;
    return NC_OK;
}

static int failed_slot(const char *status)
{
    static const char *const names[] = {"time_limit", "diverged", "refused", "invalid"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(status, names[i]))
            return i;
    return 4;
}

static void study_progress(const corr_ctx *c, const nc_eval_rec *e, int index, int total,
                           int found)
{
    if (c->opt->progress) {
        nc_correlate_progress p = {index, total, e->gid, e->status, found, e->accuracy,
                                   e->train_seconds, NULL};
        c->opt->progress(&p, c->opt->user);
    }
}

static void exec_note(const char *text, void *user)
{
    note(user, text);
}

/* Evaluates every candidate not in the store through the run's executor
 * (serial, --workers, MPI ranks: docs/SCALE.md), storing each result as it
 * arrives; then ids[i] is candidate i's evaluation. */
static int study(corr_ctx *c, const nc_genotype *list, int n, int64_t *ids,
                 nc_correlate_result *out, nc_error *err)
{
    nc_exec_env env;
    memset(&env, 0, sizeof env);
    env.eval = (nc_eval_env){c->reg, c->acc, c->data, &c->topt, c->s->training.routings, 1,
                             c->s};
    env.s = c->s;
    env.p = c->p;
    env.stopped = stop_hook;
    env.stop_user = c;
    env.note = exec_note;
    env.note_user = c;
    nc_executor x = {0};
    nc_exec_result r;
    nc_eval_rec *e = malloc(sizeof *e);
    int *pending = malloc((size_t)(n > 0 ? n : 1) * sizeof *pending);
    int rc = !e || !pending ? nc_error_set(err, NC_ERR_INTERNAL, "out of memory")
                         : nc_exec_result_init(&r, err);
    if (rc) {
        free(e);
        free(pending);
        return rc;
    }
    int m = 0;
    for (int i = 0; i < n && !rc; i++) {
        int found = 0;
        nc_genotype_to_string(&list[i], e->genotype, sizeof e->genotype);
        if ((rc = nc_store_eval_find(c->st, e->genotype, c->key, e, &found, err)))
            break;
        if (found) {
            out->cached++;
            study_progress(c, e, i + 1, n, 1);
        } else {
            pending[m++] = i;
        }
    }
    if (!rc && m > 0)
        rc = nc_exec_open(&env, &x, err);
    int workers = x.ops ? x.ops->workers(x.h) : 1, submitted = 0, inflight = 0;
    while (!rc && (inflight > 0 || (submitted < m && !out->stopped))) {
        while (submitted < m && inflight < workers && !out->stopped) {
            if (stop_requested(c)) {
                out->stopped = 1;
                break;
            }
            static nc_exec_job job;   /* large (a pruning plan, none here) */
            memset(&job, 0, sizeof job);
            job.slot = pending[submitted++];
            job.epochs = c->opt->cfg.epochs;
            job.trains = 1;
            nc_genotype_to_string(&list[job.slot], job.genotype, sizeof job.genotype);
            if ((rc = x.ops->submit(x.h, &job, err)))
                break;
            inflight++;
        }
        if (rc || !inflight)
            break;
        if ((rc = x.ops->collect(x.h, &r, err)))
            break;
        if (r.stopped) {
            out->stopped = 1;
            break;
        }
        inflight--;
        r.rec.generation = CORRELATE_GENERATION;
        nc_run_rec_worker(&r.rec, r.worker, r.threads);
        if ((rc = nc_store_eval_add(c->st, &r.rec, r.epochs, r.n_epochs, err)))
            break;
        out->trained++;
        study_progress(c, &r.rec, r.slot + 1, n, 0);
    }
    nc_exec_close(&x);
    for (int i = 0; i < n && !rc && !out->stopped; i++) {
        int found = 0;
        nc_genotype_to_string(&list[i], e->genotype, sizeof e->genotype);
        if ((rc = nc_store_eval_find(c->st, e->genotype, c->key, e, &found, err)))
            break;
        if (!found)
            rc = nc_error_set(err, NC_ERR_INTERNAL, "candidate %d was not stored: %s", i + 1,
                              e->genotype);
        ids[i] = e->id;
    }
    nc_exec_result_free(&r);
    free(e);
    free(pending);
    return rc;
}

/* acc[i * E + e] and cumulative seconds of the usable candidates. */
static int collect(corr_ctx *c, nc_epoch_reader *rd, const int64_t *ids, int n, double *acc,
                   double *cum, nc_epoch_rec *ep, nc_correlate_result *out, nc_error *err)
{
    int E = out->epochs, rc;
    for (int i = 0; i < n; i++) {
        nc_eval_rec e;
        if ((rc = nc_store_eval_get(c->st, ids[i], &e, err)))
            return rc;
        int n_ep = 0, ok = !nc_run_failed(&e);
        if (ok && (rc = nc_epoch_reader_get(rd, ids[i], ep, E, &n_ep, err)))
            return rc;
        ok = ok && n_ep == E;
        double *a = acc + (size_t)out->used * (size_t)E, *t = cum + (size_t)out->used * (size_t)E;
        double sum = 0.0;
        for (int k = 0; ok && k < E; k++) {
            a[k] = c->validation ? ep[k].validation_accuracy : ep[k].test_accuracy;
            sum += ep[k].seconds;
            t[k] = sum;
            ok = ep[k].epoch == k + 1 && ep[k].complete && isfinite(a[k]) && isfinite(sum);
        }
        if (ok) {
            out->used++;
        } else {
            out->failed++;
            out->failed_by[nc_run_failed(&e) ? failed_slot(e.status) : 4]++;
        }
    }
    return NC_OK;
}

static int statistics(corr_ctx *c, nc_epoch_reader *rd, const int64_t *ids, int n,
                      nc_correlate_result *out, nc_error *err)
{
    int E = out->epochs;
    size_t cells = (size_t)n * (size_t)E;
    double *acc = malloc(cells * sizeof *acc), *cum = malloc(cells * sizeof *cum);
    double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    double *t = malloc((size_t)n * sizeof *t);
    nc_epoch_rec *ep = malloc((size_t)E * sizeof *ep);
    out->rows = calloc((size_t)E, sizeof *out->rows);
    int rc = NC_OK;
    if (!acc || !cum || !x || !y || !t || !ep || !out->rows) {
        rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        goto done;
    }
    if ((rc = collect(c, rd, ids, n, acc, cum, ep, out, err)))
        goto done;
    size_t m = (size_t)out->used;
    for (int e = 0; e < E; e++) {
        for (size_t i = 0; i < m; i++) {
            x[i] = acc[i * (size_t)E + (size_t)e];
            y[i] = acc[i * (size_t)E + (size_t)(E - 1)];
            t[i] = cum[i * (size_t)E + (size_t)e];
        }
        nc_correlate_row *r = &out->rows[e];
        r->epoch = e + 1;
        r->n = (int)m;
        r->pearson = nc_pearson(x, y, m);
        nc_fisher_ci(r->pearson, m, Z95, &r->ci_lo, &r->ci_hi);
        r->spearman = nc_spearman(x, y, m);
        r->median_seconds = nc_median(t, m);
        if (!out->recommended && isfinite(r->pearson) && r->pearson >= out->target_r)
            out->recommended = e + 1;
    }
done:
    free(acc);
    free(cum);
    free(x);
    free(y);
    free(t);
    free(ep);
    return rc;
}

/* A fresh database records the pipeline, as a run would, so that `nascaps
 * run` with the same pipeline later accepts the folder. */
static int open_store(corr_ctx *c, const nc_pipeline *p, const char *path, nc_error *err)
{
    int fresh = 0, rc;
    if ((rc = nc_store_open(path, 0, &c->st, &fresh, err)))
        return rc;
    if (!fresh) {
        /* also when a kill came between the schema and the pipeline */
        char *stored = NULL;
        if ((rc = nc_store_meta_get(c->st, "pipeline", &stored, err)) || stored) {
            free(stored);
            return rc;
        }
    }
    char *text = nc_pipeline_text(p), seed[32];
    if (!text)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    snprintf(seed, sizeof seed, "%" PRIu64, c->s->seed);
    if ((rc = nc_store_begin(c->st, err)) == NC_OK &&
        ((rc = nc_store_meta_set(c->st, "pipeline", text, err)) ||
         (rc = nc_store_meta_set(c->st, "seed", seed, err)) ||
         (rc = nc_store_commit(c->st, err))))
        nc_store_rollback(c->st);
    free(text);
    return rc;
}

int nc_correlate(nc_registry *reg, const nc_pipeline *p, const nc_settings *s,
                 const nc_correlate_opts *opt, nc_correlate_result *out, nc_error *err)
{
    memset(out, 0, sizeof *out);
    out->epochs = opt->cfg.epochs;
    out->target_r = opt->cfg.target_r;
    if (opt->cfg.epochs < 1 || opt->cfg.epochs > MAX_EPOCHS || opt->cfg.samples < 0 ||
        opt->cfg.samples > MAX_SAMPLES || opt->n_files < 0 || opt->n_files > MAX_SAMPLES)
        return nc_error_set(err, NC_ERR_INPUT,
                            "correlate: %d samples, %d files, %d epochs: out of range",
                            opt->cfg.samples, opt->n_files, opt->cfg.epochs);
    int rc0 = nc_exec_mpi_worker(reg, p, s, opt->stop, &out->mpi_worker, err);
    if (rc0 || out->mpi_worker)
        return rc0;
    corr_ctx c;
    memset(&c, 0, sizeof c);
    c.reg = reg;
    c.p = p;
    c.s = s;
    c.opt = opt;
    const char *dir = s->output_dir;
    char path[NC_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/results.db", dir);
    int lock_fd = -1, n = 0, rc;
    nc_genotype *list = NULL;
    int64_t *ids = NULL;
    nc_epoch_rec *ep = NULL;
    nc_epoch_reader *rd = NULL;
    nc_data_shape shape;
    if ((rc = nc_run_mkdirs(dir, err)) || (rc = nc_run_lock(dir, &lock_fd, err)) ||
        (rc = open_store(&c, p, path, err)) || (rc = nc_data_open(reg, p, &c.data, err)) ||
        (rc = nc_data_shape_of(c.data, &shape, err)) ||
        (rc = nc_accelerator_open(reg, p, NULL, &c.acc, err)) ||
        (rc = candidates(&c, p, &shape, &list, &n, err)))
        goto out;
    c.validation = nc_data_split_count(c.data, NC_DATA_VALIDATION) > 0;
    out->validation = c.validation;
    out->candidates = n;
    if ((rc = nc_run_cache_key(reg, s, c.data, 1, opt->cfg.epochs, c.key, err)))
        goto out;
    nc_train_opts_from_settings(&c.topt, s);
    c.topt.epochs = opt->cfg.epochs;
    c.topt.stop = stop_hook;
    c.topt.user = &c;
    ids = malloc((size_t)(n > 0 ? n : 1) * sizeof *ids);
    ep = malloc(MAX_EPOCHS * sizeof *ep);
    if (!ids || !ep) {
        rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        goto out;
    }
    if ((rc = study(&c, list, n, ids, out, err)))
        goto out;
    if (out->stopped)
        goto out;
    if ((rc = nc_epoch_reader_open(path, &rd, err)) ||
        (rc = statistics(&c, rd, ids, n, out, err)))
        goto out;
    char *csv = nc_correlate_csv(out);
    if (!csv) {
        rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        goto out;
    }
    rc = nc_run_write_file(dir, "correlation.csv", csv, err);
    free(csv);
out:
    nc_exec_mpi_end(rc == NC_OK && !out->stopped);
    nc_epoch_reader_close(rd);
    free(ep);
    free(ids);
    free(list);
    nc_accelerator_close(c.acc);
    nc_data_close(c.data);
    nc_store_close(c.st);
    if (lock_fd >= 0)
        close(lock_fd);
    return rc;
}

void nc_correlate_result_free(nc_correlate_result *r)
{
    if (r) {
        free(r->rows);
        r->rows = NULL;
    }
}

/* v with the given decimals, or nothing for an undefined value. */
static void field(char *buf, size_t size, int decimals, double v)
{
    if (isfinite(v))
        snprintf(buf, size, "%.*f", decimals, v);
    else
        buf[0] = '\0';
}

char *nc_correlate_csv(const nc_correlate_result *r)
{
    static const char header[] =
        "epoch,n,pearson_r,ci_low,ci_high,spearman_rho,median_cumulative_s\n";
    size_t size = sizeof header + (size_t)(r->rows ? r->epochs : 0) * 160;
    char *text = malloc(size);
    if (!text)
        return NULL;
    size_t len = (size_t)snprintf(text, size, "%s", header);
    for (int e = 0; r->rows && e < r->epochs; e++) {
        const nc_correlate_row *w = &r->rows[e];
        char a[32], b[32], c[32], d[32], t[32];
        field(a, sizeof a, 6, w->pearson);
        field(b, sizeof b, 6, w->ci_lo);
        field(c, sizeof c, 6, w->ci_hi);
        field(d, sizeof d, 6, w->spearman);
        field(t, sizeof t, 3, w->median_seconds);
        len += (size_t)snprintf(text + len, size - len, "%d,%d,%s,%s,%s,%s,%s\n", w->epoch, w->n,
                                a, b, c, d, t);
    }
    return text;
}
