/* pool.c - the executor over a link to n workers (local processes or MPI
 * ranks): dynamic scheduling (a free worker takes the next queued job;
 * the caller queues longest-expected first), hello checks (same dataset,
 * same pipeline), dead workers (restarted and the job redone, or the run
 * ended naming worker and candidate), and the worker's serve loop. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec.h"

/* A candidate whose worker died this often is recorded as failed. */
#define DEATHS_PER_JOB 2
/* Restarts a pool allows per worker before it gives up. */
#define RESTARTS_PER_WORKER 5

enum { W_STARTING, W_IDLE, W_BUSY };

typedef struct pworker {
    int state;
    nc_exec_job job;
    int job_deaths;
    double started;
    char name[NC_EXEC_NAME_MAX];
    int threads;
} pworker;

typedef struct queued {
    nc_exec_job job;
    int deaths;
} queued;

typedef struct pool {
    const nc_exec_env *env;
    const nc_link_ops *link;
    void *t;
    int n, restarts, failed;
    pworker *w;
    queued *q;
    int qhead, qn, qcap;
    double busy;
    uint64_t data_fp, pipeline_hash;
} pool;

static int push(pool *p, const nc_exec_job *job, int deaths, int front, nc_error *err)
{
    if (p->qhead > 0 && p->qhead == p->qn)
        p->qhead = p->qn = 0;
    if (front && p->qhead > 0) {
        p->q[--p->qhead] = (queued){*job, deaths};
        return NC_OK;
    }
    if (p->qn == p->qcap) {
        int cap = p->qcap ? 2 * p->qcap : 32;
        queued *q = realloc(p->q, (size_t)cap * sizeof *q);
        if (!q)
            return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        p->q = q;
        p->qcap = cap;
    }
    if (front) {
        memmove(p->q + p->qhead + 1, p->q + p->qhead, (size_t)(p->qn - p->qhead) * sizeof *p->q);
        p->q[p->qhead] = (queued){*job, deaths};
    } else {
        p->q[p->qn] = (queued){*job, deaths};
    }
    p->qn++;
    return NC_OK;
}

static int pool_workers(void *h)
{
    return ((pool *)h)->n;
}

static int pool_submit(void *h, const nc_exec_job *job, nc_error *err)
{
    return push(h, job, 0, 0, err);
}

static void pool_note(const pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void pool_note(const pool *p, const char *fmt, ...)
{
    if (!p->env->note)
        return;
    char text[NC_ERROR_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    p->env->note(text, p->env->note_user);
}

/* Hands queued jobs to idle workers. */
static int dispatch(pool *p, nc_error *err)
{
    for (int k = 0; k < p->n && p->qhead < p->qn; k++) {
        pworker *w = &p->w[k];
        if (w->state != W_IDLE)
            continue;
        queued *next = &p->q[p->qhead++];
        char *msg = nc_wire_job(&next->job);
        if (!msg)
            return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        int rc = p->link->send(p->t, k + 1, msg, err);
        free(msg);
        if (rc)
            return rc;
        w->state = W_BUSY;
        w->job = next->job;
        w->job_deaths = next->deaths;
        w->started = nc_run_now();
    }
    return NC_OK;
}

/* The record of a candidate whose worker died DEATHS_PER_JOB times. */
static int died_result(pool *p, const pworker *w, const char *why, nc_exec_result *r,
                       nc_error *err)
{
    nc_genotype g;
    int rc = nc_genotype_parse(w->job.genotype, "job", &g, err);
    if (rc)
        return rc;
    memset(&r->rec, 0, sizeof r->rec);
    nc_eval_rec *e = &r->rec;
    nc_genotype_to_string(&g, e->genotype, sizeof e->genotype);
    nc_genotype_id(&g, e->gid);
    if ((rc = nc_run_cache_key(p->env->eval.reg, p->env->s, p->env->eval.data, w->job.trains,
                               w->job.epochs, e->cache_key, err)))
        return rc;
    e->accuracy = e->test_accuracy = e->validation_accuracy = NAN;
    e->energy_mj = e->latency_ms = e->memory_kib = NAN;
    snprintf(e->status, sizeof e->status, "refused");
    snprintf(e->reason, sizeof e->reason, "its worker died %d times evaluating it (last: %s, %s)",
             DEATHS_PER_JOB, w->name, why);
    r->slot = w->job.slot;
    r->stopped = 0;
    r->n_epochs = 0;
    r->is_final = w->job.final != NULL;
    nc_final_state_free(&r->final);
    snprintf(r->worker, sizeof r->worker, "%s", w->name);
    r->threads = w->threads;
    return NC_OK;
}

/* Worker k is gone. *ready = 1 when r holds a result to return. */
static int on_death(pool *p, int k, const char *why, nc_exec_result *r, int *ready,
                    nc_error *err)
{
    pworker *w = &p->w[k - 1];
    *ready = 0;
    char gid[13] = "?";
    nc_genotype g;
    nc_error ignored;
    if (w->state == W_BUSY && nc_genotype_parse(w->job.genotype, "job", &g, &ignored) == NC_OK)
        nc_genotype_id(&g, gid);
    if (!p->link->restart) {
        if (w->state == W_BUSY)
            return nc_error_set(err, NC_ERR_INTERNAL,
                                "%s %s died (%s) while evaluating candidate %s: the run ends; "
                                "run the same command again to resume",
                                p->link->name, w->name, why, gid);
        return nc_error_set(err, NC_ERR_INTERNAL, "%s %s died (%s): the run ends; run the same "
                            "command again to resume", p->link->name, w->name, why);
    }
    if (++p->restarts > RESTARTS_PER_WORKER * p->n)
        return nc_error_set(err, NC_ERR_INTERNAL,
                            "%s: workers died %d times (last %s: %s): giving up", p->link->name,
                            p->restarts, w->name, why);
    int rc;
    if (w->state == W_BUSY) {
        int deaths = w->job_deaths + 1;
        if (deaths >= DEATHS_PER_JOB) {
            pool_note(p, "worker %s died (%s) evaluating candidate %s again: recorded as "
                      "refused; restarting the worker", w->name, why, gid);
            if ((rc = died_result(p, w, why, r, err)))
                return rc;
            *ready = 1;
        } else {
            pool_note(p, "worker %s died (%s) while evaluating candidate %s: restarting it and "
                      "redoing the candidate", w->name, why, gid);
            if ((rc = push(p, &w->job, deaths, 1, err)))
                return rc;
        }
    } else {
        pool_note(p, "worker %s died (%s): restarting it", w->name, why);
    }
    w->state = W_STARTING;
    return p->link->restart(p->t, k, err);
}

static int on_hello(pool *p, int k, const char *msg, nc_error *err)
{
    pworker *w = &p->w[k - 1];
    nc_wire_hello_msg h;
    int rc = nc_wire_parse_hello(msg, w->name, &h, err);
    if (!rc)
        rc = nc_wire_check_hello(&h, p->data_fp, p->pipeline_hash, err);
    if (rc)
        return rc;
    snprintf(w->name, sizeof w->name, "%s", h.worker);
    w->threads = h.threads;
    w->state = W_IDLE;
    return NC_OK;
}

static int on_result(pool *p, int k, const char *msg, nc_exec_result *r, nc_error *err)
{
    pworker *w = &p->w[k - 1];
    if (w->state != W_BUSY)
        return nc_error_set(err, NC_ERR_INPUT, "%s: a result without a job", w->name);
    int rc = nc_wire_parse_result(msg, w->name, r, err);
    if (rc)
        return rc;
    if (r->slot != w->job.slot)
        return nc_error_set(err, NC_ERR_INPUT, "%s: result for job %d, expected job %d", w->name,
                            r->slot, w->job.slot);
    char key[17];
    if ((rc = nc_run_cache_key(p->env->eval.reg, p->env->s, p->env->eval.data, w->job.trains,
                               w->job.epochs, key, err)))
        return rc;
    if (strcmp(key, r->rec.cache_key) != 0)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: evaluated under cache key %s, the coordinator's is %s: its "
                            "settings differ",
                            w->name, r->rec.cache_key, key);
    p->busy += nc_run_now() - w->started;
    if (!r->stopped)
        w->state = W_IDLE;
    return NC_OK;
}

/* Names what a stop interrupts (redone on resume): under MPI a dead rank
 * makes mpirun stop rank 0 this way, and this line names the candidates. */
static void stopping(const pool *p)
{
    for (int k = 0; k < p->n; k++)
        if (p->w[k].state == W_BUSY) {
            nc_genotype g;
            nc_error ignored;
            char gid[13] = "?";
            if (nc_genotype_parse(p->w[k].job.genotype, "job", &g, &ignored) == NC_OK)
                nc_genotype_id(&g, gid);
            pool_note(p, "stopping: %s (%s %d) was evaluating candidate %s (redone on resume)",
                      p->w[k].name, strcmp(p->link->name, "mpi") == 0 ? "rank" : "worker", k + 1, gid);
        }
}

static int pool_collect(void *h, nc_exec_result *r, nc_error *err)
{
    pool *p = h;
    for (;;) {
        int rc = dispatch(p, err);
        if (rc)
            return rc;
        int busy = 0;
        for (int k = 0; k < p->n; k++)
            busy += p->w[k].state == W_BUSY;
        if (!busy && p->qhead >= p->qn)
            return nc_error_set(err, NC_ERR_INTERNAL, "%s executor: collect with no job",
                                p->link->name);
        if (p->env->stopped && p->env->stopped(p->env->stop_user)) {
            stopping(p);
            r->stopped = 1;
            return NC_OK;
        }
        int k = 0, dead = 0, ready = 0;
        char *msg = NULL, why[128] = "";
        if ((rc = p->link->recv(p->t, &k, &msg, &dead, why, sizeof why, 250, err)))
            return rc;
        if (k < 1 || k > p->n) {
            free(msg);
            continue;
        }
        if (dead)
            rc = on_death(p, k, why, r, &ready, err);
        else if (p->w[k - 1].state == W_STARTING)
            rc = on_hello(p, k, msg, err);
        else if ((rc = on_result(p, k, msg, r, err)) == NC_OK && (ready = 1) && r->stopped)
            stopping(p);
        free(msg);
        if (rc) {
            p->failed = 1;
            return rc;
        }
        if (ready)
            return NC_OK;
    }
}

static void pool_describe(void *h, char *buf, size_t size)
{
    pool *p = h;
    size_t used = (size_t)snprintf(buf, size, "%s %d (", p->link->name, p->n);
    for (int k = 0; k < p->n && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s threads=%d", k ? ", " : "",
                                 p->w[k].name, p->w[k].threads);
    if (used < size)
        snprintf(buf + used, size - used, ")");
}

static double pool_busy(void *h)
{
    pool *p = h;
    double busy = p->busy, now = nc_run_now();
    for (int k = 0; k < p->n; k++)
        if (p->w[k].state == W_BUSY)
            busy += now - p->w[k].started;
    return busy;
}

static void pool_destroy(void *h)
{
    pool *p = h;
    if (!p)
        return;
    p->link->destroy(p->t, !p->failed);
    free(p->w);
    free(p->q);
    free(p);
}

static const nc_exec_ops pool_ops = {
    sizeof(nc_exec_ops), "pool",        pool_workers, pool_submit,
    pool_collect,        pool_describe, pool_busy,    pool_destroy,
};

int nc_exec_pool_create(const nc_exec_env *env, const nc_link_ops *link, void *t, int n,
                        nc_executor *out, nc_error *err)
{
    pool *p = n >= 1 && n <= 1024 ? calloc(1, sizeof *p) : NULL;
    if (p)
        p->w = calloc((size_t)n, sizeof *p->w);
    if (!p || !p->w) {
        free(p);
        link->destroy(t, 0);
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    }
    p->env = env;
    p->link = link;
    p->t = t;
    p->n = n;
    p->data_fp = env->eval.data ? nc_data_fingerprint(env->eval.data) : 0;
    p->pipeline_hash = nc_exec_pipeline_hash(env->p);
    for (int k = 0; k < n; k++)
        snprintf(p->w[k].name, sizeof p->w[k].name, "%s worker %d", link->name, k + 1);
    out->ops = &pool_ops;
    out->h = p;
    out->t0 = nc_run_now();
    return NC_OK;
}

/* ---- The worker's side ------------------------------------------------------ */

/* A worker's internal error is its candidate's failure: the search goes on. */
static void failed_result(const nc_exec_env *env, const nc_exec_job *job, const nc_error *why,
                          const char *name, nc_exec_result *r)
{
    memset(&r->rec, 0, sizeof r->rec);
    nc_eval_rec *e = &r->rec;
    nc_genotype g;
    nc_error ignored;
    if (nc_genotype_parse(job->genotype, "job", &g, &ignored) == NC_OK) {
        nc_genotype_to_string(&g, e->genotype, sizeof e->genotype);
        nc_genotype_id(&g, e->gid);
    }
    /* a key the coordinator can check; empty when even that fails */
    if (nc_run_cache_key(env->eval.reg, env->s, env->eval.data, job->trains, job->epochs,
                         e->cache_key, &ignored))
        e->cache_key[0] = '\0';
    e->accuracy = e->test_accuracy = e->validation_accuracy = NAN;
    e->energy_mj = e->latency_ms = e->memory_kib = NAN;
    /* a stage-2 job fails for a reason the run must hear (a checkpoint
     * that cannot be used): the coordinator stops as a serial run would */
    snprintf(e->status, sizeof e->status, "%s", job->final ? "error" : "refused");
    snprintf(e->reason, sizeof e->reason, "worker %s: %s", name, why->msg);
    r->slot = job->slot;
    r->stopped = 0;
    r->n_epochs = 0;
    r->is_final = job->final != NULL;
    nc_final_state_free(&r->final);
}

int nc_exec_serve(const nc_exec_env *env, const char *name, const char *start_error,
                  const nc_worker_link *l, nc_error *err)
{
    char where[512];
    nc_exec_data_where(env->p, where, sizeof where);
    uint64_t fp = env->eval.data ? nc_data_fingerprint(env->eval.data) : 0;
    char *msg = nc_wire_hello(name, env->threads, fp, nc_exec_pipeline_hash(env->p), where,
                              start_error);
    if (!msg)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    int rc = l->send(l->t, msg, err);
    free(msg);
    if (rc || start_error)
        return rc;
    nc_exec_result r;
    if ((rc = nc_exec_result_init(&r, err)))
        return rc;
    for (;;) {
        char *in = NULL;
        if ((rc = l->recv(l->t, &in, err)) || !in)
            break;
        nc_exec_job job;
        nc_final_state state;
        memset(&state, 0, sizeof state);
        int quit = 0;
        rc = nc_wire_parse_job(in, "coordinator", &job, &state, &quit, err);
        free(in);
        if (rc || quit)
            break;
        nc_error why;
        nc_error_clear(&why);
        if (nc_exec_evaluate(env, &job, &r, &why)) {
            failed_result(env, &job, &why, name, &r);
            r.threads = env->threads;
        }
        nc_final_state_free(&state);
        snprintf(r.worker, sizeof r.worker, "%s", name);
        char *out = nc_wire_result(&r);
        if (!out) {
            rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
            break;
        }
        rc = l->send(l->t, out, err);
        free(out);
        if (rc)
            break;
    }
    nc_exec_result_free(&r);
    return rc;
}
