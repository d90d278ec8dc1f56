/* exec.c - what every executor shares (evaluating one job, worker names,
 * threads per worker, the pipeline and dataset identity a worker proves)
 * and the serial executor, which evaluates in the calling process. */
#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/exec.h"
#include "nascaps/settings.h"
#include "train/train_internal.h"

int nc_exec_result_init(nc_exec_result *r, nc_error *err)
{
    memset(r, 0, sizeof *r);
    r->epochs = malloc(NC_EXEC_MAX_EPOCHS * sizeof *r->epochs);
    if (!r->epochs)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    return NC_OK;
}

void nc_exec_result_free(nc_exec_result *r)
{
    free(r->epochs);
    r->epochs = NULL;
    nc_final_state_free(&r->final);
}

void nc_exec_worker_name(int k, char *buf, size_t size)
{
    char host[64] = "localhost";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    if (k < 0)
        snprintf(buf, size, "%s", host);
    else
        snprintf(buf, size, "w%d@%s", k, host);
}

int nc_exec_threads(const nc_settings *s, int sharing)
{
    if (s->training.threads > 0)
        return s->training.threads;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1 || cores > 4096)
        cores = 1;
    if (sharing < 1)
        sharing = 1;
    return cores / sharing > 1 ? (int)(cores / sharing) : 1;
}

uint64_t nc_exec_pipeline_hash(const nc_pipeline *p)
{
    char *text = nc_pipeline_text(p);
    uint64_t h = text ? nc_hash64(text, strlen(text)) : 0;
    free(text);
    return h;
}

void nc_exec_data_where(const nc_pipeline *p, char *buf, size_t size)
{
    static const char *const keys[] = {"train_images", "train_labels", "test_images",
                                       "test_labels", "path", "dir", "file", NULL};
    const nc_section *sec = nc_pipeline_section(p, "dataset");
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; keys[i] && used < size; i++) {
        char *v = NULL;
        nc_error ignored;
        if (nc_section_has(sec, keys[i]) &&
            nc_section_get_path(sec, keys[i], NULL, &v, &ignored) == NC_OK && v)
            used += (size_t)snprintf(buf + used, size - used, "%sdataset.%s = %s",
                                     used ? ", " : "", keys[i], v);
        free(v);
    }
}

/* The trainer's hooks share one user pointer: the job's plan rides along
 * with the caller's own stop and progress hooks. */
typedef struct prune_hook_ctx {
    const nc_train_opts *caller;
    const nc_prune_plan *plan;
} prune_hook_ctx;

static int hook_stop(void *user)
{
    const prune_hook_ctx *h = user;
    return h->caller->stop ? h->caller->stop(h->caller->user) : 0;
}

static void hook_progress(const nc_train_progress *p, void *user)
{
    const prune_hook_ctx *h = user;
    if (h->caller->progress)
        h->caller->progress(p, h->caller->user);
}

static int hook_prune(const nc_epoch_result *r, char *reason, size_t size, void *user)
{
    const prune_hook_ctx *h = user;
    /* the search's accuracy: the validation split's when there is one */
    double acc = isfinite(r->validation_accuracy) ? r->validation_accuracy : r->test_accuracy;
    return nc_prune_check(h->plan, r->epoch, acc, reason, size);
}

/* A stage-2 job: one epoch of a front member's final training. */
static int final_epoch(const nc_exec_env *env, const nc_exec_job *job, nc_exec_result *r,
                       nc_error *err)
{
    nc_eval_rec *e = &r->rec;
    e->accuracy = e->test_accuracy = e->validation_accuracy = NAN;
    e->energy_mj = e->latency_ms = e->memory_kib = NAN;
    e->train_seconds = e->seconds = NAN;
    nc_train_opts topt = *env->eval.topt;
    nc_eval_env ev = env->eval;
    ev.topt = &topt;
    double t0 = nc_run_now();
    int rc = nc_run_final_epoch(&ev, env->threads, job->genotype, job->final, e->status,
                                sizeof e->status, e->reason, sizeof e->reason, &r->epochs[0],
                                &r->final, &r->threads, &r->stopped, err);
    if (rc || r->stopped)
        return rc;
    e->seconds = nc_run_now() - t0;
    if (!strcmp(e->status, "ok")) {
        r->n_epochs = 1;
        e->epochs_done = r->final.epochs_done;
        e->test_accuracy = r->epochs[0].test_accuracy;
        e->validation_accuracy = r->epochs[0].validation_accuracy;
        e->train_seconds = r->epochs[0].seconds;
    } else {
        e->epochs_done = job->final->epochs_done;
    }
    return NC_OK;
}

int nc_exec_evaluate(const nc_exec_env *env, const nc_exec_job *job, nc_exec_result *r,
                     nc_error *err)
{
    nc_eval_rec *e = &r->rec;
    memset(e, 0, sizeof *e);
    r->slot = job->slot;
    r->stopped = 0;
    r->n_epochs = 0;
    r->is_final = job->final != NULL;
    nc_final_state_free(&r->final);
    nc_genotype g;
    int rc = nc_genotype_parse(job->genotype, "job", &g, err);
    if (rc)
        return nc_error_prefix(err, "evaluating a job");
    nc_genotype_to_string(&g, e->genotype, sizeof e->genotype);
    nc_genotype_id(&g, e->gid);
    if ((rc = nc_run_cache_key(env->eval.reg, env->s, env->eval.data, job->trains, job->epochs,
                               e->cache_key, err)))
        return rc;
    if (job->final)
        return final_epoch(env, job, r, err);
    nc_train_opts topt = *env->eval.topt;
    topt.epochs = job->epochs;
    /* a worker's share of the node bounds the automatic choice; an
     * explicit training.threads is obeyed (it is what env->threads holds) */
    if (env->threads > 0 && topt.threads == 0)
        topt.max_threads = env->threads;
    prune_hook_ctx hook = {env->eval.topt, &job->prune};
    if (job->prune.epochs > 0) {
        topt.stop = hook_stop;
        topt.progress = hook_progress;
        topt.prune = hook_prune;
        topt.user = &hook;
    }
    nc_eval_env ev = env->eval;
    ev.topt = &topt;
    ev.trains = job->trains;
    rc = nc_run_evaluate(&ev, &g, e, r->epochs, NC_EXEC_MAX_EPOCHS, &r->n_epochs, &r->stopped,
                         err);
    /* the threads its training used (as the trainer chose them) */
    r->threads = nc_train_threads_of(&topt, e->macs);
    return rc;
}

/* ---- Serial: the calling process evaluates, in submit order ------------------ */

typedef struct serial {
    const nc_exec_env *env;
    nc_exec_job *queue;
    int head, n, cap;
    double busy;
} serial;

static int serial_workers(void *h)
{
    (void)h;
    return 1;
}

static int serial_submit(void *h, const nc_exec_job *job, nc_error *err)
{
    serial *x = h;
    if (x->head > 0 && x->head == x->n)
        x->head = x->n = 0;
    if (x->n == x->cap) {
        int cap = x->cap ? 2 * x->cap : 16;
        nc_exec_job *q = realloc(x->queue, (size_t)cap * sizeof *q);
        if (!q)
            return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        x->queue = q;
        x->cap = cap;
    }
    x->queue[x->n++] = *job;
    return NC_OK;
}

static int serial_collect(void *h, nc_exec_result *r, nc_error *err)
{
    serial *x = h;
    if (x->head >= x->n)
        return nc_error_set(err, NC_ERR_INTERNAL, "serial executor: collect with no job");
    double t0 = nc_run_now();
    int rc = nc_exec_evaluate(x->env, &x->queue[x->head++], r, err);
    x->busy += nc_run_now() - t0;
    snprintf(r->worker, sizeof r->worker, "serial");
    return rc;
}

static void serial_describe(void *h, char *buf, size_t size)
{
    serial *x = h;
    if (x->env->s->training.threads > 0)
        snprintf(buf, size, "serial (threads=%d)", x->env->s->training.threads);
    else
        snprintf(buf, size, "serial (threads=auto)");
}

static double serial_busy(void *h)
{
    return ((serial *)h)->busy;
}

static void serial_destroy(void *h)
{
    serial *x = h;
    if (x) {
        free(x->queue);
        free(x);
    }
}

static const nc_exec_ops serial_ops = {
    sizeof(nc_exec_ops), "serial", serial_workers,  serial_submit,
    serial_collect,      serial_describe, serial_busy, serial_destroy,
};

int nc_exec_serial_create(const nc_exec_env *env, nc_executor *out, nc_error *err)
{
    serial *x = calloc(1, sizeof *x);
    if (!x)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    x->env = env;
    out->ops = &serial_ops;
    out->h = x;
    out->t0 = nc_run_now();
    return NC_OK;
}

int nc_exec_open(const nc_exec_env *env, nc_executor *out, nc_error *err)
{
    memset(out, 0, sizeof *out);
    if (nc_exec_under_mpi()) {
        int rank = 0, size = 1, rc = nc_exec_mpi_init(&rank, &size, err);
        if (rc)
            return rc;
        if (size > 1)
            return nc_exec_mpi_create(env, out, err);
    }
    int n = env->s->run.workers;
    if (n > 1)
        return nc_exec_local_create(env, n, nc_exec_threads(env->s, n), out, err);
    return nc_exec_serial_create(env, out, err);
}

void nc_exec_close(nc_executor *x)
{
    if (x && x->ops) {
        x->ops->destroy(x->h);
        x->ops = NULL;
        x->h = NULL;
    }
}
