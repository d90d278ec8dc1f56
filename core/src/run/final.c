/* final.c - stage 2: the final front trained final_training.epochs, one
 * checkpoint per epoch (docs/RUN.md, "Stage 2"), on the run's executor.
 *
 * The coordinator keeps everything that lasts; the workers only train. Each
 * job is one epoch of one member: it carries the member's state (the
 * weights file's bytes, Adam's moments and step, the shuffle and
 * augmentation generators) to a worker (final_epoch.c), whose result
 * carries the state after the epoch back. The coordinator then saves the
 * weights (front/<id>.e<N>.bin) and, in one transaction, the rest of the
 * state and the epoch's figures, and sends the member's next epoch. The
 * database names the weights file that goes with it, so a kill between
 * the two leaves the previous, consistent, checkpoint; members train side
 * by side, largest first, as candidates do in the search. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/exec.h"
#include "nascaps/input.h"
#include "run/run_internal.h"

/* Checkpoints larger than this are not ours (64 GiB). */
#define MAX_CHECKPOINT_BYTES ((int64_t)1 << 36)

typedef struct member {
    nc_eval_rec e;
    nc_final_rec rec;
    nc_final_state state;    /* what its next job carries (borrowed by the job) */
    int active;
} member;

typedef struct stage {
    const nc_final_env *env;
    nc_executor *x;
    member *m;
    int n, epochs, inflight;
    int *order, next;        /* members by MACs, the next one to start */
} stage;

static void path_of(const stage *g, const char *rel, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", g->env->dir, rel);
}

static void epoch_file(const member *m, int epoch, char *rel, size_t size)
{
    snprintf(rel, size, "front/%s.e%d.bin", m->e.gid, epoch);
}


/* Writes the bytes through a temporary file and rename. */
static int write_checkpoint(const char *path, const unsigned char *data, size_t len,
                            nc_error *err)
{
    char tmp[NC_PATH_MAX + 320];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return nc_error_set(err, NC_ERR_INPUT, "%s: cannot create: %s", tmp, strerror(errno));
    int failed = fwrite(data, 1, len, f) != len;
    if (fclose(f) != 0)
        failed = 1;
    if (failed || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: cannot write: %s", path,
                            e ? strerror(e) : "I/O error");
    }
    return NC_OK;
}

/* Removes what a kill can leave of a finished member's epochs: an older
 * checkpoint whose unlink the kill prevented, a half-written .tmp. */
static void remove_leftovers(const stage *g, const member *m)
{
    for (int e = 1; e <= m->rec.epochs_done; e++) {
        char rel[300], path[NC_PATH_MAX + 310];
        epoch_file(m, e, rel, sizeof rel);
        path_of(g, rel, path, sizeof path);
        unlink(path);
        strcat(path, ".tmp");
        unlink(path);
    }
}

/* Gives the finished weights their final name (also after a kill right
 * after the commit that finished them). */
static int finish_file(const stage *g, const member *m, nc_error *err)
{
    char rel[300], from[NC_PATH_MAX + 300], to[NC_PATH_MAX + 300];
    path_of(g, m->rec.weights, to, sizeof to);
    if (access(to, F_OK) != 0) {
        epoch_file(m, m->rec.epochs_done, rel, sizeof rel);
        path_of(g, rel, from, sizeof from);
        if (rename(from, to) != 0)
            return nc_error_set(err, NC_ERR_INTERNAL, "%s: cannot rename to %s", from, to);
    }
    remove_leftovers(g, m);
    return NC_OK;
}

/* Reads member i's records; active when it has epochs to train. Its
 * checkpoint is read when it starts (start()), so the coordinator holds
 * the weights of at most one member per worker. */
static int prepare(stage *g, int i, int64_t eval_id, nc_error *err)
{
    member *m = &g->m[i];
    const nc_settings *s = g->env->s;
    int found = 0, rc;
    if ((rc = nc_store_eval_get(g->env->st, eval_id, &m->e, err)) ||
        (rc = nc_store_final_get(g->env->st, eval_id, &m->rec, &found, err)))
        return rc;
    if (found && (!strcmp(m->rec.status, "diverged") || !strcmp(m->rec.status, "refused")))
        return NC_OK;
    if (found && !strcmp(m->rec.status, "ok") && m->rec.epochs_done >= g->epochs)
        return finish_file(g, m, err);
    if (!found) {
        m->rec.eval_id = eval_id;
        snprintf(m->rec.status, sizeof m->rec.status, "training");
        m->rec.test_accuracy = m->rec.validation_accuracy = NAN;
        char salt[NC_GENOTYPE_STRING_MAX + 32];
        snprintf(salt, sizeof salt, "final.shuffle:%s", m->e.genotype);
        nc_rng_derive(&m->rec.shuffle, s->seed, salt);
        snprintf(salt, sizeof salt, "final.augment:%s", m->e.genotype);
        nc_rng_derive(&m->rec.augment, s->seed, salt);
    }
    free(m->rec.adam_read);   /* read again when it starts */
    m->rec.adam_read = NULL;
    /* final_training.epochs raised after a finished stage 2: go on */
    snprintf(m->rec.status, sizeof m->rec.status, "training");
    m->active = 1;
    return NC_OK;
}

/* Member i's state from its records: the checkpoint file, Adam's state
 * from the store (read now, not kept since prepare()). */
static int load_state(stage *g, member *m, nc_error *err)
{
    nc_final_state *st = &m->state;
    nc_final_state_free(st);
    st->epochs_done = m->rec.epochs_done;
    st->shuffle = m->rec.shuffle;
    st->augment = m->rec.augment;
    st->adam_step = m->rec.adam_step;
    if (m->rec.epochs_done == 0)
        return NC_OK;
    char rel[300], path[NC_PATH_MAX + 300];
    path_of(g, m->rec.weights, path, sizeof path);
    if (access(path, F_OK) != 0) {
        /* finished, but killed before front/<id>.bin took the last
         * epoch's name; final_training.epochs since raised */
        epoch_file(m, m->rec.epochs_done, rel, sizeof rel);
        path_of(g, rel, path, sizeof path);
    }
    snprintf(st->origin, sizeof st->origin, "%s", path);
    /* the whole file; the worker checks what it holds */
    int rc = nc_input_read_all(path, (size_t)MAX_CHECKPOINT_BYTES, &st->weights,
                               &st->weights_len, err);
    if (rc)
        return rc;
    nc_final_rec again;
    int found = 0;
    memset(&again, 0, sizeof again);
    if ((rc = nc_store_final_get(g->env->st, m->rec.eval_id, &again, &found, err)))
        return rc;
    if (!found || again.epochs_done != m->rec.epochs_done) {
        free(again.adam_read);
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: stage 2 record of %s changed while "
                            "the run held the lock", nc_store_path(g->env->st), m->e.gid);
    }
    st->adam = again.adam_read;   /* the state owns them now */
    st->adam_count = again.adam_count;
    return NC_OK;
}

static int submit(stage *g, int i, nc_error *err);

/* Starts members, largest first, while a worker would be idle. */
static int start_next(stage *g, nc_error *err)
{
    int workers = g->x->ops->workers(g->x->h);
    while (g->next < g->n && g->inflight < workers) {
        member *m = &g->m[g->order[g->next++]];
        if (!m->active)
            continue;
        int rc = load_state(g, m, err);
        if (!rc)
            rc = submit(g, (int)(m - g->m), err);
        if (rc)
            return rc;
    }
    return NC_OK;
}

static int submit(stage *g, int i, nc_error *err)
{
    member *m = &g->m[i];
    nc_exec_job job;
    memset(&job, 0, sizeof job);
    job.slot = i;
    job.epochs = g->epochs;
    job.trains = 1;
    snprintf(job.genotype, sizeof job.genotype, "%s", m->e.genotype);
    job.final = &m->state;
    int rc = g->x->ops->submit(g->x->h, &job, err);
    if (!rc)
        g->inflight++;
    return rc;
}

static void report_epoch(const stage *g, const member *m, const nc_exec_result *r)
{
    const nc_run_opts *opt = g->env->opt;
    if (!opt->progress)
        return;
    nc_run_progress p = {0};
    p.phase = NC_RUN_FINAL_EPOCH;
    p.id = m->e.gid;
    p.status = m->rec.status;
    p.accuracy = m->rec.test_accuracy;
    p.epoch = m->rec.epochs_done;
    p.epochs = g->epochs;
    p.worker = r->worker;
    p.seconds = r->rec.seconds;
    p.best_accuracy = p.hypervolume = p.eta_s = p.utilisation = NAN;
    opt->progress(&p, opt->user);
}

/* A member that ends without finishing: refused or diverged. */
static int end_member(stage *g, member *m, const nc_exec_result *r, nc_error *err)
{
    snprintf(m->rec.status, sizeof m->rec.status, "%s", r->rec.status);
    snprintf(m->rec.reason, sizeof m->rec.reason, "%s", r->rec.reason);
    m->rec.adam = NULL;
    m->rec.adam_count = 0;
    m->active = 0;
    snprintf(m->rec.worker, sizeof m->rec.worker, "%s", r->worker);
    m->rec.threads = r->threads;
    nc_final_state_free(&m->state);
    int rc = nc_store_final_put(g->env->st, &m->rec, NULL, err);
    return rc ? rc : start_next(g, err);
}

/* Keeps one trained epoch: the weights file, then the store's row. */
static int keep_epoch(stage *g, member *m, nc_exec_result *r, int *finished, nc_error *err)
{
    int e = m->state.epochs_done + 1;
    if (r->final.epochs_done != e)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: stage 2 result of %s after %d epochs, expected %d", r->worker,
                            m->e.gid, r->final.epochs_done, e);
    char rel[300], path[NC_PATH_MAX + 300], old[NC_PATH_MAX + 300];
    epoch_file(m, e, rel, sizeof rel);
    path_of(g, rel, path, sizeof path);
    int rc = write_checkpoint(path, r->final.weights, r->final.weights_len, err);
    if (rc)
        return rc;
    path_of(g, m->rec.weights, old, sizeof old);
    int had_old = m->rec.weights[0] != '\0';
    const nc_epoch_rec *er = &r->epochs[0];
    m->rec.shuffle = r->final.shuffle;
    m->rec.augment = r->final.augment;
    m->rec.adam = r->final.adam;
    m->rec.adam_count = r->final.adam_count;
    m->rec.adam_step = r->final.adam_step;
    m->rec.epochs_done = e;
    m->rec.test_accuracy = er->test_accuracy;
    m->rec.validation_accuracy = er->validation_accuracy;
    m->rec.seconds = (isfinite(m->rec.seconds) ? m->rec.seconds : 0.0) + er->seconds;
    snprintf(m->rec.worker, sizeof m->rec.worker, "%s", r->worker);
    m->rec.threads = r->threads;
    if (e == g->epochs) {
        snprintf(m->rec.status, sizeof m->rec.status, "ok");
        snprintf(m->rec.weights, sizeof m->rec.weights, "front/%s.bin", m->e.gid);
    } else {
        snprintf(m->rec.weights, sizeof m->rec.weights, "%s", rel);
    }
    rc = nc_store_final_put(g->env->st, &m->rec, er, err);
    m->rec.adam = NULL;
    if (rc)
        return rc;
    if (had_old && strcmp(old, path) != 0)
        unlink(old);
    if (e == g->epochs && (rc = finish_file(g, m, err)))
        return rc;
    report_epoch(g, m, r);
    /* the state after this epoch is what the next one starts from */
    nc_final_state_free(&m->state);
    m->state = r->final;
    memset(&r->final, 0, sizeof r->final);
    snprintf(m->state.origin, sizeof m->state.origin, "%s", path);
    if (e == g->epochs) {
        m->active = 0;
        (*finished)++;
        nc_final_state_free(&m->state);
        return start_next(g, err);
    }
    /* the worker that trained it goes on with it: its state is at hand */
    return submit(g, (int)(m - g->m), err);
}

static int on_result(stage *g, nc_exec_result *r, int *finished, nc_error *err)
{
    if (r->slot < 0 || r->slot >= g->n || !g->m[r->slot].active || !r->is_final)
        return nc_error_set(err, NC_ERR_INTERNAL, "stage 2: a result for job %d, not ours",
                            r->slot);
    member *m = &g->m[r->slot];
    if (!strcmp(r->rec.status, "error"))
        return nc_error_set(err, NC_ERR_INPUT, "stage 2 of %s: %s", m->e.gid, r->rec.reason);
    if (!strcmp(r->rec.status, "ok"))
        return keep_epoch(g, m, r, finished, err);
    return end_member(g, m, r, err);
}

/* Largest forward MACs first (one big member does not start last), then
 * front order. */
static int by_macs(const void *a, const void *b, void *ctx)
{
    const member *m = ctx;
    int i = *(const int *)a, j = *(const int *)b;
    if (m[i].e.macs != m[j].e.macs)
        return m[i].e.macs > m[j].e.macs ? -1 : 1;
    return (i > j) - (i < j);
}

static void sort_order(int *order, int n, const member *m)
{
    /* insertion sort: fronts are small, and qsort has no context in C11 */
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && by_macs(&order[b], &order[b - 1], (void *)m) < 0; b--) {
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
}

int nc_run_final(const nc_final_env *env, nc_executor *x, const int64_t *front, int n,
                 int *finished, int *stopped, nc_error *err)
{
    *finished = 0;
    *stopped = 0;
    char dir[NC_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/front", env->dir);
    int rc = nc_run_mkdirs(dir, err);
    if (rc || n <= 0)
        return rc;
    int *order = malloc((size_t)n * sizeof *order);
    stage g = {env, x, calloc((size_t)n, sizeof(member)), n, env->s->final_training.epochs, 0,
               order, 0};
    nc_exec_result r;
    memset(&r, 0, sizeof r);
    if (!g.m || !order || (rc = nc_exec_result_init(&r, err))) {
        rc = rc ? rc : nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        goto out;
    }
    for (int i = 0; i < n && !rc; i++) {
        rc = prepare(&g, i, front[i], err);
        order[i] = i;
    }
    if (rc)
        goto out;
    sort_order(order, n, g.m);
    rc = start_next(&g, err);
    while (!rc && g.inflight > 0) {
        if ((rc = x->ops->collect(x->h, &r, err)))
            break;
        if (r.stopped) {
            *stopped = 1;
            break;
        }
        g.inflight--;
        rc = on_result(&g, &r, finished, err);
    }
out:
    nc_exec_result_free(&r);
    if (g.m)
        for (int i = 0; i < n; i++) {
            nc_final_state_free(&g.m[i].state);
            free(g.m[i].rec.adam_read);
        }
    free(g.m);
    free(order);
    return rc;
}
