/* run.c - the search loop (docs/RUN.md, "The loop").
 *
 * Per generation: restore the optimizer's last committed state, ask (the
 * optimizer is deterministic given its state and rng), hand every genotype
 * not in the store to the executor (core/src/exec: serial, local workers
 * or MPI ranks; each arriving result one transaction, a cache hit trains
 * nothing), read the batch back in ask order and tell, then commit the
 * optimizer's new state with the generation's population in ONE
 * transaction. A kill at any point loses at most the candidates being
 * evaluated; the resumed run asks the same batch again and finds the
 * finished candidates in the store. */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nascaps/data.h"
#include "nascaps/estimate.h"
#include "nascaps/network.h"
#include "nascaps/optimizer.h"
#include "nascaps/search.h"
#include "nascaps/train.h"
#include "exec/exec.h"
#include "run/run_internal.h"

/* Genotypes one ask may return. */
#define ASK_CAP 1024
/* The hypervolume reference point, in every normalised objective. */
#define HV_REFERENCE 1.1

typedef struct run_ctx {
    nc_registry *reg;
    const nc_pipeline *p;
    const nc_settings *s;
    const nc_run_opts *opt;
    const char *dir;
    nc_store *st;
    nc_data *data;
    nc_accelerator *acc;
    nc_search_space space;
    nc_rng rng;
    const nc_optimizer_ops *ops;
    void *h;
    nc_optimizer_env env;     /* borrowed by the optimizer while it lives */
    int trains;
    char cache_key[17];
    nc_train_opts topt;
    int ask_index;            /* the optimizer's generation() at the ask */
    double t0, base_elapsed;
    int gens_at_start;
    int planned;
    int have_bounds;
    double lo[NC_OBJ_COUNT], hi[NC_OBJ_COUNT];
    nc_run_outcome *out;
    nc_exec_env xenv;
    nc_executor x;
    double busy_at_gen, wall_at_gen;   /* utilisation of the last generation */
} run_ctx;

double nc_run_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void nc_run_opts_defaults(nc_run_opts *opt)
{
    memset(opt, 0, sizeof *opt);
}

static int stop_requested(const run_ctx *c)
{
    return c->opt->stop && *c->opt->stop;
}

static int stop_hook(void *user)
{
    return stop_requested(user);
}

static double elapsed(const run_ctx *c)
{
    return c->base_elapsed + (nc_run_now() - c->t0);
}

static int search_time_up(const run_ctx *c)
{
    return c->s->search.time_limit_h > 0 && elapsed(c) >= c->s->search.time_limit_h * 3600.0;
}

static void progress(const run_ctx *c, nc_run_progress *p)
{
    if (c->opt->progress) {
        p->elapsed_s = elapsed(c);
        c->opt->progress(p, c->opt->user);
    }
}

static void note(const run_ctx *c, const char *text)
{
    nc_run_progress p = {0};
    p.phase = NC_RUN_NOTE;
    p.note = text;
    p.accuracy = p.best_accuracy = p.hypervolume = p.eta_s = p.seconds = p.utilisation = NAN;
    progress(c, &p);
}

/* A pruned candidate is not a failure: it is told with the accuracy it
 * had when it stopped (docs/SEARCH.md, "Pruning"). */
int nc_run_failed(const nc_eval_rec *e)
{
    return strcmp(e->status, "ok") != 0 && strcmp(e->status, "pruned") != 0;
}

/* Unmeasured costs sort last. */
static double cost_or_max(double v)
{
    return isfinite(v) ? v : DBL_MAX;
}

void nc_run_objectives(const nc_eval_rec *e, int n_obj, const int *objectives, double *obj,
                       double *violation)
{
    int failed = nc_run_failed(e);
    for (int i = 0; i < n_obj; i++) {
        switch (objectives[i]) {
        case NC_OBJ_ACCURACY_DROP:
            obj[i] = failed || !isfinite(e->accuracy) ? 1.0 : 1.0 - e->accuracy;
            break;
        case NC_OBJ_ENERGY: obj[i] = cost_or_max(e->energy_mj); break;
        case NC_OBJ_LATENCY: obj[i] = cost_or_max(e->latency_ms); break;
        case NC_OBJ_MEMORY: obj[i] = cost_or_max(e->memory_kib); break;
        case NC_OBJ_PARAMS: obj[i] = failed && e->params <= 0 ? DBL_MAX : (double)e->params; break;
        default: obj[i] = failed && e->macs <= 0 ? DBL_MAX : (double)e->macs; break;
        }
    }
    *violation = failed ? 1.0 : 0.0;
}

static int make_cache_key(run_ctx *c, nc_error *err)
{
    return nc_run_cache_key(c->reg, c->s, c->data, c->trains, c->s->training.epochs,
                            c->cache_key, err);
}

static int seen_cb(void *ctx, const nc_genotype *g)
{
    run_ctx *c = ctx;
    char canon[NC_GENOTYPE_STRING_MAX];
    nc_genotype_to_string(g, canon, sizeof canon);
    return nc_store_eval_seen(c->st, canon, c->cache_key, c->ask_index);
}

/* Bounds of the hypervolume normalisation, fixed by the first generation:
 * accuracy_drop in [0, 1], a cost in [0, its largest feasible value in
 * the first batch] (any value if none is feasible; 1 if that is 0). */
static void set_bounds(run_ctx *c, const nc_candidate *cands, int n)
{
    for (int o = 0; o < NC_OBJ_COUNT; o++) {
        c->lo[o] = 0.0;
        c->hi[o] = 1.0;
    }
    int any_feasible = 0;
    for (int i = 0; i < n; i++)
        any_feasible |= cands[i].violation == 0;
    for (int k = 0; k < c->s->n_objectives; k++) {
        int o = c->s->objectives[k];
        if (o == NC_OBJ_ACCURACY_DROP)
            continue;
        double hi = 0.0;
        for (int i = 0; i < n; i++)
            if ((!any_feasible || cands[i].violation == 0) && cands[i].objectives[k] < DBL_MAX &&
                cands[i].objectives[k] > hi)
                hi = cands[i].objectives[k];
        c->hi[o] = hi > 0 ? hi : 1.0;
    }
    c->have_bounds = 1;
}

static void bounds_text(const run_ctx *c, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < c->s->n_objectives && used < size; k++) {
        int o = c->s->objectives[k];
        used += (size_t)snprintf(buf + used, size - used, "%s %.17g %.17g\n",
                                 nc_objective_name(o), c->lo[o], c->hi[o]);
    }
}

static int parse_bounds(run_ctx *c, const char *text)
{
    for (int o = 0; o < NC_OBJ_COUNT; o++) {
        c->lo[o] = 0.0;
        c->hi[o] = 1.0;
    }
    const char *q = text;
    char name[32];
    double lo, hi;
    int used;
    while (sscanf(q, "%31s %lf %lf%n", name, &lo, &hi, &used) == 3) {
        for (int o = 0; o < NC_OBJ_COUNT; o++)
            if (strcmp(nc_objective_name(o), name) == 0) {
                c->lo[o] = lo;
                c->hi[o] = hi;
            }
        q += used;
    }
    c->have_bounds = 1;
    return NC_OK;
}

/* Figures of a committed population: the feasible first front, its
 * normalised hypervolume and the best accuracy. */
static int population_figures(run_ctx *c, const int64_t *ids, int n, nc_generation_row *row,
                              nc_error *err)
{
    int64_t *front = NULL;
    int n_front = 0, m = c->s->n_objectives;
    int rc = nc_report_front_ids(c->st, ids, n, m, c->s->objectives, &front, &n_front, err);
    if (rc)
        return rc;
    double *pts = malloc((size_t)(n_front ? n_front : 1) * (size_t)m * sizeof *pts);
    nc_eval_rec *e = malloc(sizeof *e);
    if (!pts || !e) {
        rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        goto out;
    }
    row->front_size = n_front;
    row->best_accuracy = NAN;
    for (int i = 0; i < n && !rc; i++) {
        if ((rc = nc_store_eval_get(c->st, ids[i], e, err)))
            break;
        if (!nc_run_failed(e) && isfinite(e->accuracy) &&
            (!isfinite(row->best_accuracy) || e->accuracy > row->best_accuracy))
            row->best_accuracy = e->accuracy;
    }
    for (int i = 0; i < n_front && !rc; i++) {
        double viol;
        if ((rc = nc_store_eval_get(c->st, front[i], e, err)))
            break;
        nc_run_objectives(e, m, c->s->objectives, pts + (size_t)i * (size_t)m, &viol);
        for (int k = 0; k < m; k++) {
            int o = c->s->objectives[k];
            double *v = &pts[(size_t)i * (size_t)m + (size_t)k];
            *v = (*v - c->lo[o]) / (c->hi[o] - c->lo[o]);
        }
    }
    if (!rc) {
        double ref[NC_OBJ_COUNT];
        for (int k = 0; k < m; k++)
            ref[k] = HV_REFERENCE;
        row->hypervolume = n_front ? nc_hypervolume(pts, (size_t)n_front, m, ref) : 0.0;
        if (row->hypervolume < 0)
            rc = nc_error_set(err, NC_ERR_INTERNAL, "hypervolume of %d points failed", n_front);
    }
out:
    free(front);
    free(pts);
    free(e);
    return rc;
}

typedef struct gen_bufs {
    nc_genotype *batch;
    nc_candidate *cands;
    int64_t *ids;
    int *rank;
    double *crowding;
    int *order;
    nc_eval_rec *eval;
    nc_exec_result result;
    nc_exec_job job;            /* large (a pruning plan): not on the stack */
} gen_bufs;

static void free_bufs(gen_bufs *b)
{
    free(b->batch);
    free(b->cands);
    free(b->ids);
    free(b->rank);
    free(b->crowding);
    free(b->order);
    free(b->eval);
    nc_exec_result_free(&b->result);
}

static int alloc_bufs(gen_bufs *b, nc_error *err)
{
    memset(b, 0, sizeof *b);
    b->batch = malloc(ASK_CAP * sizeof *b->batch);
    b->cands = malloc(ASK_CAP * sizeof *b->cands);
    b->ids = malloc(ASK_CAP * sizeof *b->ids);
    b->rank = malloc(ASK_CAP * sizeof *b->rank);
    b->crowding = malloc(ASK_CAP * sizeof *b->crowding);
    b->order = malloc(ASK_CAP * sizeof *b->order);
    b->eval = malloc(sizeof *b->eval);
    if (!b->batch || !b->cands || !b->ids || !b->rank || !b->crowding || !b->order ||
        !b->eval || nc_exec_result_init(&b->result, err)) {
        free_bufs(b);
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    }
    return NC_OK;
}

static void candidate_progress(const run_ctx *c, const nc_generation_row *row,
                               const nc_eval_rec *e, const char *worker, double seconds)
{
    nc_run_progress p = {0};
    p.phase = NC_RUN_CANDIDATE;
    p.generation = c->ask_index;
    p.planned = c->planned;
    p.evaluated = row->evaluated;
    p.cached = row->cached;
    p.failed = row->failed;
    p.id = e->gid;
    p.status = e->status;
    p.accuracy = e->accuracy;
    p.best_accuracy = p.hypervolume = p.eta_s = p.utilisation = NAN;
    p.worker = worker;
    p.seconds = seconds;
    progress(c, &p);
}

_Static_assert(NC_EVAL_WORKER_MAX == NC_EXEC_NAME_MAX, "a worker's name is stored whole");

/* Stores one arriving result (its own transaction) and reports it. */
static int arrived(run_ctx *c, nc_exec_result *r, nc_generation_row *seen, nc_error *err)
{
    r->rec.generation = c->ask_index;
    nc_run_rec_worker(&r->rec, r->worker, r->threads);
    int rc = nc_store_eval_add(c->st, &r->rec, r->epochs, r->n_epochs, err);
    if (rc)
        return rc;
    if (c->trains)
        c->out->trained++;
    seen->evaluated++;
    seen->failed += nc_run_failed(&r->rec);
    candidate_progress(c, seen, &r->rec, r->worker, r->rec.seconds);
    return NC_OK;
}

/* Largest expected work first: forward MACs (0 when the analysis fails:
 * such a candidate is refused in no time). */
static void order_by_macs(run_ctx *c, const nc_genotype *batch, int *order, int m)
{
    int64_t *macs = malloc((size_t)(m ? m : 1) * sizeof *macs);
    nc_analysis *an = malloc(sizeof *an);
    if (!macs || !an) {
        free(macs);
        free(an);
        return;   /* ask order then: correct, only slower */
    }
    for (int j = 0; j < m; j++) {
        nc_error ignored;
        char gid[13];
        nc_genotype_id(&batch[order[j]], gid);
        macs[j] = nc_network_analyze(c->reg, &batch[order[j]], gid, c->s->training.routings, an,
                                     &ignored) == NC_OK
                      ? an->macs
                      : 0;
    }
    /* insertion sort, stable: equal MACs keep ask order */
    for (int j = 1; j < m; j++)
        for (int i = j; i > 0 && macs[i] > macs[i - 1]; i--) {
            int64_t tm = macs[i];
            macs[i] = macs[i - 1];
            macs[i - 1] = tm;
            int to = order[i];
            order[i] = order[i - 1];
            order[i - 1] = to;
        }
    free(macs);
    free(an);
}

/* A candidate's early-stopping plan: its costs (cheap, known before it
 * trains) against the population the generation started from. */
static void plan_job(run_ctx *c, const nc_run_prune *prune, const nc_genotype *g,
                     nc_prune_plan *plan)
{
    nc_eval_rec *e = calloc(1, sizeof *e);
    nc_analysis *an = malloc(sizeof *an);
    nc_estimate est;
    nc_error ignored;
    char gid[13];
    nc_genotype_id(g, gid);
    memset(plan, 0, sizeof *plan);
    /* a candidate whose costs cannot be had is refused at evaluation */
    if (e && an && nc_network_analyze(c->reg, g, gid, c->s->training.routings, an, &ignored) == 0 &&
        nc_estimate_genotype(c->acc, c->reg, g, gid, &est, &ignored) == 0) {
        snprintf(e->status, sizeof e->status, "ok");
        e->params = an->params;
        e->macs = an->macs;
        e->energy_mj = est.energy_mj;
        e->latency_ms = est.latency_ms;
        e->memory_kib = est.memory_kib;
        e->accuracy = NAN;
        nc_run_prune_plan(prune, c->s, e, plan);
    }
    free(e);
    free(an);
}

/* Evaluates every asked genotype not in the store through the executor:
 * each result is stored as it arrives, in any order. *over when a stop
 * request or the time limit cut the generation. */
static int evaluate_batch(run_ctx *c, gen_bufs *b, int n, int *over, nc_error *err)
{
    int m = 0, rc;
    nc_generation_row seen = {0};
    for (int i = 0; i < n; i++) {
        char canon[NC_GENOTYPE_STRING_MAX];
        int found = 0, dup = 0;
        nc_genotype_to_string(&b->batch[i], canon, sizeof canon);
        if ((rc = nc_store_eval_find(c->st, canon, c->cache_key, b->eval, &found, err)))
            return rc;
        for (int j = 0; j < m && !dup && !found; j++)
            dup = nc_genotype_equal(&b->batch[b->order[j]], &b->batch[i]);
        if (found) {
            seen.evaluated++;
            seen.cached += b->eval->generation < c->ask_index;
            seen.failed += nc_run_failed(b->eval);
            candidate_progress(c, &seen, b->eval, NULL, NAN);
        } else if (!dup) {
            b->order[m++] = i;
        }
    }
    int workers = c->x.ops->workers(c->x.h);
    if (workers > 1)
        order_by_macs(c, b->batch, b->order, m);
    /* early stopping: plans from what was committed before this generation */
    nc_run_prune prune;
    if ((rc = nc_run_prune_begin(c->st, c->s, c->cache_key, c->ask_index, &prune, err)))
        return rc;
    int submitted = 0, inflight = 0, ending = 0;
    while (inflight > 0 || (submitted < m && !ending)) {
        while (!ending && submitted < m && inflight < workers) {
            if (stop_requested(c)) {
                c->out->stopped = ending = 1;
                break;
            }
            if (search_time_up(c)) {
                c->out->time_limit = ending = 1;
                break;
            }
            nc_exec_job *job = &b->job;
            memset(job, 0, sizeof *job);
            job->slot = b->order[submitted++];
            job->epochs = c->s->training.epochs;
            job->trains = c->trains;
            nc_genotype_to_string(&b->batch[job->slot], job->genotype, sizeof job->genotype);
            if (prune.cfg.on && c->trains)
                plan_job(c, &prune, &b->batch[job->slot], &job->prune);
            if ((rc = c->x.ops->submit(c->x.h, job, err)))
                goto out;
            inflight++;
        }
        if (!inflight)
            break;
        if ((rc = c->x.ops->collect(c->x.h, &b->result, err)))
            goto out;
        if (b->result.stopped) {
            c->out->stopped = *over = 1;
            goto out;
        }
        inflight--;
        if ((rc = arrived(c, &b->result, &seen, err)))
            goto out;
    }
    *over = *over || ending;
out:
    nc_run_prune_free(&prune);
    return rc;
}

/* The batch in ask order, every member now in the store: the optimizer's
 * candidates, their evaluation ids and the generation's counts. */
static int batch_candidates(run_ctx *c, gen_bufs *b, int n, nc_generation_row *row,
                            nc_error *err)
{
    for (int i = 0; i < n; i++) {
        char canon[NC_GENOTYPE_STRING_MAX];
        int found = 0;
        nc_eval_rec *e = b->eval;
        nc_genotype_to_string(&b->batch[i], canon, sizeof canon);
        int rc = nc_store_eval_find(c->st, canon, c->cache_key, e, &found, err);
        if (rc)
            return rc;
        if (!found)
            return nc_error_set(err, NC_ERR_INTERNAL, "candidate %d of the batch was not stored: %s",
                                i + 1, canon);
        row->cached += e->generation < c->ask_index;
        b->ids[i] = e->id;
        row->evaluated++;
        row->failed += nc_run_failed(e);
        nc_candidate *cand = &b->cands[i];
        cand->genotype = b->batch[i];
        cand->n_objectives = c->s->n_objectives;
        nc_run_objectives(e, c->s->n_objectives, c->s->objectives, cand->objectives,
                          &cand->violation);
        if (!strcmp(e->status, "over_budget"))
            cand->violation = nc_run_budget_excess(c->s, e, NULL, 0);
    }
    return NC_OK;
}

/* Maps each population member to its evaluation. */
static int population_ids(run_ctx *c, const nc_candidate *pop, int n, int64_t *ids,
                          nc_eval_rec *e, nc_error *err)
{
    for (int i = 0; i < n; i++) {
        char canon[NC_GENOTYPE_STRING_MAX];
        int found = 0;
        nc_genotype_to_string(&pop[i].genotype, canon, sizeof canon);
        int rc = nc_store_eval_find(c->st, canon, c->cache_key, e, &found, err);
        if (rc)
            return rc;
        if (!found)
            return nc_error_set(err, NC_ERR_INTERNAL,
                                "optimizer %s: population member %d was never evaluated: %s",
                                c->s->optimizer_plugin, i + 1, canon);
        ids[i] = e->id;
    }
    return NC_OK;
}

/* One generation: ask, evaluate, tell, commit. *over when the search ended
 * (done, stop, time limit). */
static int generation(run_ctx *c, gen_bufs *b, int *over, nc_error *err)
{
    *over = 0;
    if (c->ops->done(c->h))
        return *over = 1, NC_OK;
    c->ask_index = c->ops->generation(c->h);
    int n = 0;
    int rc = c->ops->ask(c->h, b->batch, ASK_CAP, &n, err);
    if (rc)
        return nc_error_prefix(err, "optimizer %s: ask", c->s->optimizer_plugin);
    if (n <= 0)
        return *over = 1, NC_OK;
    if (n > ASK_CAP)
        return nc_error_set(err, NC_ERR_INTERNAL, "optimizer %s: ask returned %d > %d",
                            c->s->optimizer_plugin, n, ASK_CAP);
    nc_generation_row row = {0};
    row.hypervolume = row.best_accuracy = NAN;
    if ((rc = evaluate_batch(c, b, n, over, err)) || *over)
        return rc;
    if ((rc = batch_candidates(c, b, n, &row, err)))
        return rc;
    if ((rc = c->ops->tell(c->h, b->cands, n, err)))
        return nc_error_prefix(err, "optimizer %s: tell", c->s->optimizer_plugin);
    char bounds[512] = "";
    if (!c->have_bounds) {
        set_bounds(c, b->cands, n);
        bounds_text(c, bounds, sizeof bounds);
    }
    int pn = c->ops->population(c->h, b->cands, b->rank, b->crowding, ASK_CAP);
    if (pn < 0 || pn > ASK_CAP)
        return nc_error_set(err, NC_ERR_INTERNAL, "optimizer %s: population of %d members",
                            c->s->optimizer_plugin, pn);
    if ((rc = population_ids(c, b->cands, pn, b->ids, b->eval, err)) ||
        (rc = population_figures(c, b->ids, pn, &row, err)))
        return rc;
    char *state = NULL;
    if ((rc = c->ops->save(c->h, &state, err)))
        return nc_error_prefix(err, "optimizer %s: save", c->s->optimizer_plugin);
    row.generation = c->ops->generation(c->h);
    row.elapsed_s = elapsed(c);
    nc_gen_rec g = {row, state, c->rng, pn, b->ids, b->rank, b->crowding,
                    bounds[0] ? bounds : NULL};
    rc = nc_store_generation_add(c->st, &g, err);
    free(state);
    if (rc)
        return rc;
    c->out->generations = row.generation;
    nc_run_progress p = {0};
    p.phase = NC_RUN_GENERATION;
    p.generation = row.generation;
    p.planned = c->planned;
    p.evaluated = row.evaluated;
    p.cached = row.cached;
    p.failed = row.failed;
    p.batch = n;
    int64_t total = 0, failed = 0;
    nc_store_eval_counts(c->st, &total, &failed, NULL);
    p.evaluations = total;
    p.front_size = row.front_size;
    p.best_accuracy = row.best_accuracy;
    p.hypervolume = row.hypervolume;
    p.accuracy = NAN;
    p.seconds = NAN;
    int done_now = row.generation - c->gens_at_start;
    double spent = nc_run_now() - c->t0;
    double busy = c->x.ops->busy_seconds(c->x.h), wall = nc_run_now();
    p.utilisation = wall > c->wall_at_gen
                        ? (busy - c->busy_at_gen) /
                              ((wall - c->wall_at_gen) * c->x.ops->workers(c->x.h))
                        : NAN;
    c->busy_at_gen = busy;
    c->wall_at_gen = wall;
    p.eta_s = c->planned > 0 && done_now > 0
                  ? spent / done_now * (c->planned > row.generation ? c->planned - row.generation : 0)
                  : NAN;
    progress(c, &p);
    return NC_OK;
}

static int open_optimizer(run_ctx *c, nc_error *err)
{
    c->env.space = &c->space;
    c->env.rng = &c->rng;
    c->env.n_objectives = c->s->n_objectives;
    c->env.seen = seen_cb;
    c->env.seen_ctx = c;
    nc_rng_derive(&c->rng, c->s->seed, "optimizer");
    int rc = nc_optimizer_open(c->reg, c->p, &c->env, &c->ops, &c->h, NULL, err);
    if (rc)
        return rc;
    int64_t tells = nc_optimizer_planned_tells(c->ops, c->h);
    c->planned = tells > 0 && tells <= INT32_MAX ? (int)tells : -1;
    return NC_OK;
}

/* Opens or creates the store; a database of another pipeline is refused
 * (or moved aside with force_new). */
static int open_store(run_ctx *c, nc_error *err)
{
    char path[NC_PATH_MAX + 32], moved[NC_PATH_MAX + 48] = "";
    snprintf(path, sizeof path, "%s/results.db", c->dir);
    int rc;
    if (c->opt->force_new && (rc = nc_run_move_aside(c->dir, moved, sizeof moved, err)))
        return rc;
    if (moved[0]) {
        char text[NC_PATH_MAX + 128];
        snprintf(text, sizeof text, "--force-new: the former database is now %s", moved);
        note(c, text);
    }
    int fresh = 0;
    if ((rc = nc_store_open(path, 0, &c->st, &fresh, err)))
        return rc;
    char *text = nc_pipeline_text(c->p);
    if (!text)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    char seed[32], objectives[256] = "";
    snprintf(seed, sizeof seed, "%" PRIu64, c->s->seed);
    for (int k = 0; k < c->s->n_objectives; k++)
        snprintf(objectives + strlen(objectives), sizeof objectives - strlen(objectives),
                 "%s%s", k ? "," : "", nc_objective_name(c->s->objectives[k]));
    if (!fresh) {
        char *stored = NULL, diff[600];
        int same = 0;
        if ((rc = nc_store_meta_get(c->st, "pipeline", &stored, err)))
            goto out;
        int64_t evaluations = 0, failed = 0;
        if (!stored) {
            /* killed between creating the schema and recording the
             * pipeline: nothing else was written, start afresh */
            if ((rc = nc_store_eval_counts(c->st, &evaluations, &failed, err)))
                goto out;
            if (evaluations > 0) {
                rc = nc_error_set(err, NC_ERR_INPUT, "%s: no pipeline recorded", path);
                goto out;
            }
            fresh = 1;
            goto record;
        }
        rc = nc_run_pipeline_compare(stored, text, &same, diff, sizeof diff, err);
        free(stored);
        if (rc)
            goto out;
        if (!same && (rc = nc_store_eval_counts(c->st, &evaluations, &failed, err)))
            goto out;
        /* a database that holds no result yet (a run refused at start,
         * e.g. a dataset path mistyped) takes the new pipeline */
        if (!same && evaluations > 0) {
            rc = nc_error_set(err, NC_ERR_INPUT,
                              "%s: holds a run of a different pipeline (%s); run with "
                              "--force-new to start a new database (the old one is kept as "
                              "results.db.N), or choose another output.dir",
                              c->dir, diff);
            goto out;
        }
    }
record:;
    char epochs[32];
    snprintf(epochs, sizeof epochs, "%d", c->s->final_training.epochs);
    /* The pipeline stored is the latest (what may change did); the rest is
     * fixed at creation. One transaction. */
    if ((rc = nc_store_begin(c->st, err)))
        goto out;
    if ((rc = nc_store_meta_set(c->st, "pipeline", text, err)) ||
        (rc = nc_store_meta_set(c->st, "seed", seed, err)) ||
        (rc = nc_store_meta_set(c->st, "objectives", objectives, err)) ||
        (rc = nc_store_meta_set(c->st, "final_epochs", epochs, err)) ||
        (rc = nc_store_meta_set(c->st, "hv_reference", "1.1", err)) ||
        (rc = nc_store_meta_set(c->st, "search_done", "0", err)) ||
        (rc = nc_store_commit(c->st, err)))
        nc_store_rollback(c->st);
    c->out->resumed = !fresh;
out:
    free(text);
    return rc;
}

/* Restores the optimizer (and its rng) from the last committed generation. */
static int restore(run_ctx *c, nc_error *err)
{
    char *state = NULL, *bounds = NULL;
    int gen = 0;
    int rc = nc_store_last_generation(c->st, &gen, &state, &c->rng, &c->base_elapsed, err);
    if (rc || !state)
        return rc;
    if ((rc = c->ops->restore(c->h, state, err)))
        nc_error_prefix(err, "%s: optimizer %s: restoring generation %d", nc_store_path(c->st),
                        c->s->optimizer_plugin, gen);
    free(state);
    if (!rc && (rc = nc_store_meta_get(c->st, "hv_bounds", &bounds, err)) == NC_OK && bounds)
        parse_bounds(c, bounds);
    free(bounds);
    c->gens_at_start = gen;
    c->out->generations = gen;
    if (!rc) {
        char text[128];
        snprintf(text, sizeof text, "resuming after generation %d (%.0f s so far)", gen,
                 c->base_elapsed);
        note(c, text);
    }
    return rc;
}

static int final_front(run_ctx *c, int64_t **front, int *n_front, nc_error *err)
{
    int64_t *ids = NULL;
    int *rank = NULL;
    double *crowding = NULL;
    int n = 0;
    *front = NULL;
    *n_front = 0;
    if (c->out->generations <= 0)
        return NC_OK;
    int rc = nc_store_population(c->st, c->out->generations, &ids, &rank, &crowding, &n, err);
    if (!rc)
        rc = nc_report_front_ids(c->st, ids, n, c->s->n_objectives, c->s->objectives, front,
                                 n_front, err);
    free(ids);
    free(rank);
    free(crowding);
    return rc;
}

/* The pipeline's baselines, before the search (a stop request stays set,
 * so the search then ends at once). */
static int baselines(run_ctx *c, const nc_data_shape *shape, nc_error *err)
{
    nc_eval_env env = {c->reg, c->acc, c->data, &c->topt, c->s->training.routings, c->trains,
                       c->s};
    int stopped = 0;
    if (c->s->n_baselines)
        note(c, "evaluating the baselines (found in the store when done before)");
    return nc_run_baselines(&env, c->st, c->s, shape, c->cache_key, &stopped, err);
}

static int write_reports(run_ctx *c, nc_error *err)
{
    nc_run_report *r = NULL;
    int rc = nc_report_from_store(c->st, c->dir, &r, err);
    if (!rc)
        rc = nc_report_write_files(r, err);
    nc_report_free(r);
    return rc;
}

static void exec_note(const char *text, void *user)
{
    note(user, text);
}

/* What the executor's workers evaluate with (forked workers inherit it). */
static void exec_env(run_ctx *c, nc_exec_env *x)
{
    memset(x, 0, sizeof *x);
    x->eval = (nc_eval_env){c->reg, c->acc, c->data, &c->topt, c->s->training.routings,
                            c->trains, c->s};
    x->s = c->s;
    x->p = c->p;
    x->stopped = stop_hook;
    x->stop_user = c;
    x->note = exec_note;
    x->note_user = c;
}

int nc_run(nc_registry *reg, const nc_pipeline *p, const nc_settings *s,
           const nc_run_opts *opt, nc_run_outcome *out, nc_error *err)
{
    memset(out, 0, sizeof *out);
    run_ctx c;
    memset(&c, 0, sizeof c);
    c.reg = reg;
    c.p = p;
    c.s = s;
    c.opt = opt;
    c.dir = s->output_dir;
    c.out = out;
    c.t0 = nc_run_now();
    int lock_fd = -1;
    gen_bufs b;
    memset(&b, 0, sizeof b);
    for (int k = 0; k < s->n_objectives; k++)
        c.trains |= s->objectives[k] == NC_OBJ_ACCURACY_DROP;
    if (s->n_objectives < 1 || s->n_objectives > NC_MAX_OBJECTIVES)
        return nc_error_set(err, NC_ERR_INPUT, "%d objectives, expected 1..%d",
                            s->n_objectives, NC_MAX_OBJECTIVES);

    int rc;
    if ((rc = nc_exec_mpi_worker(reg, p, s, opt->stop, &out->mpi_worker, err)) ||
        out->mpi_worker)
        return rc;
    if ((rc = nc_run_mkdirs(c.dir, err)) || (rc = nc_run_lock(c.dir, &lock_fd, err)))
        return rc;
    nc_data_shape shape;
    if ((rc = open_store(&c, err)) || (rc = nc_data_open(reg, p, &c.data, err)) ||
        (rc = nc_data_shape_of(c.data, &shape, err)) ||
        (rc = nc_accelerator_open(reg, p, NULL, &c.acc, err)) ||
        (rc = nc_space_from_section(nc_pipeline_section(p, "search_space"), &shape, &c.space,
                                    err)) ||
        (rc = open_optimizer(&c, err)) || (rc = alloc_bufs(&b, err)))
        goto out;
    if ((rc = make_cache_key(&c, err)))
        goto out;
    nc_train_opts_from_settings(&c.topt, s);
    c.topt.stop = stop_hook;
    c.topt.user = &c;
    if ((rc = restore(&c, err)) || (rc = baselines(&c, &shape, err)))
        goto out;
    exec_env(&c, &c.xenv);
    if ((rc = nc_exec_open(&c.xenv, &c.x, err)))
        goto out;
    c.wall_at_gen = nc_run_now();

    for (int over = 0; !over;)
        if ((rc = generation(&c, &b, &over, err)))
            goto out;
    nc_store_eval_counts(c.st, &out->evaluations, &(int64_t){0}, NULL);
    if (out->stopped) {
        note(&c, "stopped: run the same command again to resume");
        rc = write_reports(&c, err);
        goto out;
    }
    if (out->time_limit)
        note(&c, "search.time_limit_h reached: the search ends with the last complete "
                 "generation");
    if ((rc = nc_store_meta_set(c.st, "search_done", "1", err)))
        goto out;
    if (s->final_training.epochs > 0) {
        int64_t *front = NULL;
        int n_front = 0, stopped = 0;
        if ((rc = final_front(&c, &front, &n_front, err)) == NC_OK) {
            nc_final_env fe = {reg, c.data, c.st, s, c.dir, opt};
            rc = nc_run_final(&fe, &c.x, front, n_front, &out->final_trained, &stopped, err);
        }
        free(front);
        if (rc)
            goto out;
        out->stopped = stopped;
        if (stopped)
            note(&c, "stopped during stage 2: run the same command again to resume");
    }
    rc = write_reports(&c, err);
out:
    if (c.x.ops && !rc) {
        char text[2048];
        c.x.ops->describe(c.x.h, text, sizeof text);
        rc = nc_store_meta_set(c.st, "executor", text, err);
    }
    nc_exec_close(&c.x);
    nc_exec_mpi_end(rc == NC_OK && !out->stopped);
    free_bufs(&b);
    if (c.h)
        c.ops->destroy(c.h);
    nc_accelerator_close(c.acc);
    nc_data_close(c.data);
    nc_store_close(c.st);
    if (lock_fd >= 0)
        close(lock_fd);
    return rc;
}
