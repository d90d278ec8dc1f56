/* final.c - stage 2: the final front trained final_training.epochs, one
 * checkpoint per epoch (docs/RUN.md, "Stage 2").
 *
 * The trainer trains a candidate in one call; stage 2 must survive a kill
 * between epochs, so it runs the epochs itself through the network API
 * and, after each, saves the weights (front/<id>.e<N>.bin) and then, in
 * one transaction, the rest of the state the next epoch depends on: Adam's
 * moments and step, the shuffle and augmentation generators and the
 * epoch's figures. The database names the weights file that goes with it,
 * so a kill between the two leaves the previous, consistent, checkpoint. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nascaps/nn.h"
#include "nascaps/train.h"
#include "run/run_internal.h"

typedef struct member {
    const nc_final_env *env;
    nc_eval_rec *e;
    nc_final_rec rec;
    nc_net *net;
    nc_data_iter *it;
    float *images, *raw;
    int32_t *labels;
} member;

static void member_free(member *m)
{
    free(m->e);
    free(m->rec.adam_read);
    nc_net_free(m->net);
    nc_data_iter_free(m->it);
    free(m->images);
    free(m->raw);
    free(m->labels);
}

static void path_of(const member *m, const char *rel, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", m->env->dir, rel);
}

static void epoch_file(const member *m, int epoch, char *rel, size_t size)
{
    snprintf(rel, size, "front/%s.e%d.bin", m->e->gid, epoch);
}

static int stop_requested(const member *m)
{
    return m->env->opt->stop && *m->env->opt->stop;
}

/* Restores the checkpoint of rec into the freshly built network. */
static int load_checkpoint(member *m, nc_error *err)
{
    char rel[300], path[NC_PATH_MAX + 300];
    path_of(m, m->rec.weights, path, sizeof path);
    if (access(path, F_OK) != 0) {
        /* finished, but killed before front/<id>.bin took the last epoch's name */
        epoch_file(m, m->rec.epochs_done, rel, sizeof rel);
        path_of(m, rel, path, sizeof path);
    }
    int rc = nc_weights_load(m->net, path, err);
    if (rc)
        return rc;
    size_t count = 0;
    int64_t *step = NULL;
    float *adam = nc_net_adam_state(m->net, &count, &step);
    if (count != m->rec.adam_count)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: stage 2 checkpoint of %s holds %zu Adam moments, the network "
                            "has %zu",
                            nc_store_path(m->env->st), m->e->gid, m->rec.adam_count, count);
    if (count)
        memcpy(adam, m->rec.adam_read, 2 * count * sizeof(float));
    *step = m->rec.adam_step;
    return NC_OK;
}

static int alloc_batch(member *m, nc_error *err)
{
    const nc_net_info *info = nc_net_get_info(m->net);
    size_t img = (size_t)info->input.h * (size_t)info->input.w * (size_t)info->input.ch *
                 (size_t)info->max_batch;
    m->images = malloc(img * sizeof(float));
    m->raw = info->has_decoder ? malloc(img * sizeof(float)) : NULL;
    m->labels = malloc((size_t)info->max_batch * sizeof(int32_t));
    if (!m->images || (info->has_decoder && !m->raw) || !m->labels)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory for the batch buffers");
    return nc_data_iter_new(m->env->data, NC_DATA_TRAIN, (size_t)info->max_batch, &m->it, err);
}

/* One epoch of Adam over the training split; *diverged on a NaN loss. */
static int train_epoch(member *m, int e, nc_epoch_rec *er, int *diverged, int *stopped,
                       nc_error *err)
{
    const nc_settings *s = m->env->s;
    double lr = s->training.learning_rate * pow(s->training.lr_decay, e);
    double t0 = nc_run_now(), loss_sum = 0.0;
    int64_t images = 0, correct = 0, batches = 0;
    nc_data_iter_start(m->it, &m->rec.shuffle);
    for (;;) {
        if (stop_requested(m))
            return *stopped = 1, NC_OK;
        size_t n = 0;
        int rc = nc_data_iter_next(m->it, m->images, m->raw, m->labels, &m->rec.augment,
                                   s->training.shift_fraction, &n, err);
        if (rc)
            return rc;
        if (!n)
            break;
        nc_net_loss loss;
        nc_net_zero_grad(m->net);
        if ((rc = nc_net_loss_step(m->net, (int)n, m->images, m->raw, m->labels, 1, &loss, err)))
            return rc;
        if (!isfinite(loss.total)) {
            snprintf(m->rec.reason, sizeof m->rec.reason,
                     "loss is %g at epoch %d, batch %" PRId64 " (learning rate %g)", loss.total,
                     e + 1, batches + 1, lr);
            return *diverged = 1, NC_OK;
        }
        nc_net_adam_step(m->net, (float)lr);
        loss_sum += loss.total;
        correct += loss.correct;
        images += (int64_t)n;
        batches++;
    }
    memset(er, 0, sizeof *er);
    er->epoch = e + 1;
    er->complete = 1;
    er->seconds = nc_run_now() - t0;
    er->train_loss = batches ? loss_sum / (double)batches : NAN;
    er->train_accuracy = images ? (double)correct / (double)images : NAN;
    er->validation_accuracy = NAN;
    int rc = nc_net_evaluate(m->net, m->env->data, NC_DATA_TEST, &er->test_accuracy, NULL, err);
    if (!rc && nc_data_split_count(m->env->data, NC_DATA_VALIDATION) > 0)
        rc = nc_net_evaluate(m->net, m->env->data, NC_DATA_VALIDATION, &er->validation_accuracy,
                             NULL, err);
    return rc;
}

static void report_epoch(const member *m, int epoch, int epochs)
{
    const nc_run_opts *opt = m->env->opt;
    if (!opt->progress)
        return;
    nc_run_progress p = {0};
    p.phase = NC_RUN_FINAL_EPOCH;
    p.id = m->e->gid;
    p.status = m->rec.status;
    p.accuracy = m->rec.test_accuracy;
    p.epoch = epoch;
    p.epochs = epochs;
    p.best_accuracy = p.hypervolume = p.eta_s = NAN;
    opt->progress(&p, opt->user);
}

/* Gives the finished weights their final name (also after a kill right
 * after the commit that finished them). */
static int finish_file(member *m, nc_error *err)
{
    char rel[300], from[NC_PATH_MAX + 300], to[NC_PATH_MAX + 300];
    path_of(m, m->rec.weights, to, sizeof to);
    if (access(to, F_OK) == 0)
        return NC_OK;
    epoch_file(m, m->rec.epochs_done, rel, sizeof rel);
    path_of(m, rel, from, sizeof from);
    if (rename(from, to) != 0)
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: cannot rename to %s", from, to);
    return NC_OK;
}

static int train_member(const nc_final_env *env, int64_t eval_id, int *finished, int *stopped,
                        nc_error *err)
{
    member m;
    memset(&m, 0, sizeof m);
    m.env = env;
    int epochs = env->s->final_training.epochs, found = 0, rc;
    if (!(m.e = malloc(sizeof *m.e)))
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    if ((rc = nc_store_eval_get(env->st, eval_id, m.e, err)) ||
        (rc = nc_store_final_get(env->st, eval_id, &m.rec, &found, err)))
        goto out;
    if (found && (!strcmp(m.rec.status, "diverged") || !strcmp(m.rec.status, "refused")))
        goto out;
    if (found && !strcmp(m.rec.status, "ok") && m.rec.epochs_done >= epochs) {
        rc = finish_file(&m, err);
        goto out;
    }
    nc_genotype g;
    nc_data_shape ds;
    nc_net_cfg cfg;
    nc_net_cfg_from_settings(&cfg, env->s);
    if ((rc = nc_genotype_parse(m.e->genotype, m.e->gid, &g, err)) ||
        (rc = nc_data_set_resize(env->data, g.resize, err)) ||
        (rc = nc_data_shape_of(env->data, &ds, err)))
        goto out;
    nc_error berr;
    nc_error_clear(&berr);
    if (!found) {
        m.rec.eval_id = eval_id;
        snprintf(m.rec.status, sizeof m.rec.status, "training");
        m.rec.test_accuracy = m.rec.validation_accuracy = NAN;
        char salt[NC_GENOTYPE_STRING_MAX + 32];
        snprintf(salt, sizeof salt, "final.shuffle:%s", m.e->genotype);
        nc_rng_derive(&m.rec.shuffle, env->s->seed, salt);
        snprintf(salt, sizeof salt, "final.augment:%s", m.e->genotype);
        nc_rng_derive(&m.rec.augment, env->s->seed, salt);
    }
    rc = nc_net_build(env->reg, &g, m.e->gid, &ds, &cfg, &m.net, &berr);
    if (rc == NC_ERR_INPUT) {
        snprintf(m.rec.status, sizeof m.rec.status, "refused");
        snprintf(m.rec.reason, sizeof m.rec.reason, "%s", berr.msg);
        rc = nc_store_final_put(env->st, &m.rec, NULL, err);
        goto out;
    }
    if (rc) {
        *err = berr;
        goto out;
    }
    if (m.rec.epochs_done > 0 && (rc = load_checkpoint(&m, err)))
        goto out;
    /* final_training.epochs raised after a finished stage 2: go on */
    snprintf(m.rec.status, sizeof m.rec.status, "training");
    nc_nn_set_threads(env->s->training.threads > 0 ? env->s->training.threads
                                                   : (int)sysconf(_SC_NPROCESSORS_ONLN));
    if ((rc = alloc_batch(&m, err)))
        goto out;
    for (int e = m.rec.epochs_done; e < epochs; e++) {
        nc_epoch_rec er;
        int diverged = 0;
        if ((rc = train_epoch(&m, e, &er, &diverged, stopped, err)) || *stopped)
            goto out;
        if (diverged) {
            snprintf(m.rec.status, sizeof m.rec.status, "diverged");
            m.rec.adam_count = 0;
            rc = nc_store_final_put(env->st, &m.rec, NULL, err);
            goto out;
        }
        char rel[300], path[NC_PATH_MAX + 300], old[NC_PATH_MAX + 300];
        epoch_file(&m, e + 1, rel, sizeof rel);
        path_of(&m, rel, path, sizeof path);
        if ((rc = nc_weights_save(m.net, path, err)))
            goto out;
        snprintf(old, sizeof old, "%s/%s", env->dir, m.rec.weights);
        int had_old = m.rec.weights[0] != '\0';
        int64_t *step;
        m.rec.adam = nc_net_adam_state(m.net, &m.rec.adam_count, &step);
        m.rec.adam_step = *step;
        m.rec.epochs_done = e + 1;
        m.rec.test_accuracy = er.test_accuracy;
        m.rec.validation_accuracy = er.validation_accuracy;
        m.rec.seconds = (isfinite(m.rec.seconds) ? m.rec.seconds : 0.0) + er.seconds;
        if (e + 1 == epochs) {
            snprintf(m.rec.status, sizeof m.rec.status, "ok");
            snprintf(m.rec.weights, sizeof m.rec.weights, "front/%s.bin", m.e->gid);
        } else
            snprintf(m.rec.weights, sizeof m.rec.weights, "%s", rel);
        if ((rc = nc_store_final_put(env->st, &m.rec, &er, err)))
            goto out;
        if (had_old && strcmp(old, path) != 0)
            unlink(old);
        if (e + 1 == epochs && (rc = finish_file(&m, err)))
            goto out;
        report_epoch(&m, e + 1, epochs);
    }
    if (!strcmp(m.rec.status, "ok"))
        (*finished)++;
out:
    member_free(&m);
    return rc;
}

int nc_run_final(const nc_final_env *env, const int64_t *front, int n, int *finished,
                 int *stopped, nc_error *err)
{
    *finished = 0;
    *stopped = 0;
    char dir[NC_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/front", env->dir);
    int rc = nc_run_mkdirs(dir, err);
    for (int i = 0; i < n && !rc && !*stopped; i++)
        rc = train_member(env, front[i], finished, stopped, err);
    return rc;
}
