/* final_epoch.c - one epoch of stage 2, the worker's half (docs/RUN.md,
 * "Stage 2"): build the member's network, restore the checkpoint it was
 * sent (weights file bytes, Adam's moments and step, the shuffle and
 * augmentation generators), train one epoch with Adam, evaluate, and hand
 * back the state after it. It touches no file and no store, so it runs the
 * same in the coordinator (serial), a forked worker or an MPI rank; the
 * coordinator (final.c) keeps the checkpoints.
 *
 * Rebuilding the network per epoch costs little next to an epoch and makes
 * an epoch a pure function of its input: a run resumed after a kill, a
 * serial run and a parallel one train bit-identical weights. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nascaps/nn.h"
#include "nascaps/train.h"
#include "run/run_internal.h"
#include "train/train_internal.h"

void nc_final_state_free(nc_final_state *f)
{
    if (!f)
        return;
    free(f->weights);
    free(f->adam);
    f->weights = NULL;
    f->adam = NULL;
    f->weights_len = f->adam_count = 0;
}

typedef struct epoch_run {
    const nc_eval_env *env;
    nc_net *net;
    nc_data_iter *it;
    float *images, *raw;
    int32_t *labels;
    nc_rng shuffle, augment;
} epoch_run;

static void run_free(epoch_run *m)
{
    nc_net_free(m->net);
    nc_data_iter_free(m->it);
    free(m->images);
    free(m->raw);
    free(m->labels);
}

static int stop_requested(const epoch_run *m)
{
    const nc_train_opts *t = m->env->topt;
    return t && t->stop && t->stop(t->user);
}

/* Puts the checkpoint into the freshly built network. */
static int restore(epoch_run *m, const nc_final_state *in, nc_error *err)
{
    const char *origin = in->origin[0] ? in->origin : "stage 2 checkpoint";
    int rc = nc_weights_load_buffer(m->net, in->weights, in->weights_len, origin, err);
    if (rc)
        return rc;
    size_t count = 0;
    int64_t *step = NULL;
    float *adam = nc_net_adam_state(m->net, &count, &step);
    if (count != in->adam_count || (count && !in->adam))
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: the stage-2 record stored with it (results.db) holds %zu Adam "
                            "moments, the network has %zu",
                            origin, in->adam_count, count);
    for (size_t i = 0; i < 2 * count; i++)
        if (!isfinite(in->adam[i]))
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: Adam moment %zu of the stage-2 record stored with it "
                                "(results.db) is not finite", origin,
                                i + 1);
    if (in->adam_step < 0)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: Adam step %" PRId64 " of the stage-2 record stored with it "
                            "(results.db) is negative", origin, in->adam_step);
    if (count)
        memcpy(adam, in->adam, 2 * count * sizeof(float));
    *step = in->adam_step;
    return NC_OK;
}

static int alloc_batch(epoch_run *m, nc_error *err)
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

/* One epoch of Adam over the training split (e: 0-based); *diverged with
 * the reason on a NaN loss. */
static int train(epoch_run *m, int e, nc_epoch_rec *er, char *reason, size_t reason_size,
                 int *diverged, int *stopped, nc_error *err)
{
    const nc_settings *s = m->env->s;
    double lr = s->training.learning_rate * pow(s->training.lr_decay, e);
    double t0 = nc_run_now(), loss_sum = 0.0;
    int64_t images = 0, correct = 0, batches = 0;
    nc_data_iter_start(m->it, &m->shuffle);
    for (;;) {
        if (stop_requested(m))
            return *stopped = 1, NC_OK;
        size_t n = 0;
        int rc = nc_data_iter_next(m->it, m->images, m->raw, m->labels, &m->augment,
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
            snprintf(reason, reason_size,
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
    er->seconds = nc_run_now() - t0;   /* training only, as a search epoch's */
    er->train_loss = batches ? loss_sum / (double)batches : NAN;
    er->train_accuracy = images ? (double)correct / (double)images : NAN;
    er->validation_accuracy = NAN;
    int rc = nc_net_evaluate(m->net, m->env->data, NC_DATA_TEST, &er->test_accuracy, NULL, err);
    if (!rc && nc_data_split_count(m->env->data, NC_DATA_VALIDATION) > 0)
        rc = nc_net_evaluate(m->net, m->env->data, NC_DATA_VALIDATION, &er->validation_accuracy,
                             NULL, err);
    return rc;
}

/* The state after the epoch: the weights file's bytes and Adam's state. */
static int save_state(epoch_run *m, const nc_final_state *in, nc_final_state *out,
                      nc_error *err)
{
    int rc = nc_weights_save_buffer(m->net, &out->weights, &out->weights_len, err);
    if (rc)
        return rc;
    size_t count = 0;
    int64_t *step = NULL;
    const float *adam = nc_net_adam_state(m->net, &count, &step);
    out->adam_count = count;
    out->adam_step = *step;
    out->adam = malloc((count ? 2 * count : 1) * sizeof(float));
    if (!out->adam)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory for %zu Adam moments", count);
    if (count)
        memcpy(out->adam, adam, 2 * count * sizeof(float));
    out->epochs_done = in->epochs_done + 1;
    out->shuffle = m->shuffle;
    out->augment = m->augment;
    snprintf(out->origin, sizeof out->origin, "%s", in->origin);
    return NC_OK;
}

int nc_run_final_epoch(const nc_eval_env *env, int max_threads, const char *genotype,
                       const nc_final_state *in, char *status, size_t status_size,
                       char *reason, size_t reason_size, nc_epoch_rec *row, nc_final_state *out,
                       int *threads, int *stopped, nc_error *err)
{
    epoch_run m;
    memset(&m, 0, sizeof m);
    memset(out, 0, sizeof *out);
    m.env = env;
    m.shuffle = in->shuffle;
    m.augment = in->augment;
    *stopped = 0;
    status[0] = reason[0] = '\0';
    const nc_settings *s = env->s;
    if (!s || !env->data)
        return nc_error_set(err, NC_ERR_INTERNAL, "stage 2: no settings or dataset");
    if (in->epochs_done < 0 || in->epochs_done >= s->final_training.epochs ||
        (in->epochs_done > 0) != (in->weights != NULL))
        return nc_error_set(err, NC_ERR_INPUT,
                            "stage 2: a job for epoch %d of %d %s weights", in->epochs_done + 1,
                            s->final_training.epochs, in->weights ? "with" : "without");
    nc_genotype g;
    nc_data_shape ds;
    nc_net_cfg cfg;
    nc_net_cfg_from_settings(&cfg, s);
    int rc;
    if ((rc = nc_genotype_parse(genotype, "stage 2 job", &g, err)) ||
        (rc = nc_data_set_resize(env->data, g.resize, err)) ||
        (rc = nc_data_shape_of(env->data, &ds, err)))
        return rc;
    char gid[13];
    nc_genotype_id(&g, gid);
    nc_error berr;
    nc_error_clear(&berr);
    rc = nc_net_build(env->reg, &g, gid, &ds, &cfg, &m.net, &berr);
    if (rc == NC_ERR_INPUT) {
        snprintf(status, status_size, "refused");
        snprintf(reason, reason_size, "%s", berr.msg);
        return NC_OK;
    }
    if (rc) {
        *err = berr;
        goto out;
    }
    if (in->epochs_done > 0 && (rc = restore(&m, in, err)))
        goto out;
    nc_train_opts topt;
    memset(&topt, 0, sizeof topt);
    topt.threads = s->training.threads;
    topt.max_threads = max_threads;
    *threads = nc_train_threads_of(&topt, nc_net_get_info(m.net)->macs);
    nc_nn_set_threads(*threads);
    if ((rc = alloc_batch(&m, err)))
        goto out;
    int diverged = 0;
    if ((rc = train(&m, in->epochs_done, row, reason, reason_size, &diverged, stopped, err)) ||
        *stopped)
        goto out;
    if (diverged) {
        snprintf(status, status_size, "diverged");
        goto out;
    }
    if ((rc = save_state(&m, in, out, err)))
        goto out;
    snprintf(status, status_size, "ok");
out:
    if (rc || *stopped || strcmp(status, "ok") != 0)
        nc_final_state_free(out);
    run_free(&m);
    return rc;
}
