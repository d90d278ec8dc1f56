/* trainer.c - epochs of Adam over the training split with shift
 * augmentation, evaluation after every epoch, the per-candidate limits and
 * statuses (docs/TRAINING.md, "Trainer"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nascaps/nn.h"
#include "nascaps/train.h"
#include "train/train_internal.h"

double nc_train_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *nc_train_status_name(int status)
{
    switch (status) {
    case NC_TRAIN_OK: return "ok";
    case NC_TRAIN_TIME_LIMIT: return "time_limit";
    case NC_TRAIN_DIVERGED: return "diverged";
    case NC_TRAIN_REFUSED: return "refused";
    case NC_TRAIN_STOPPED: return "stopped";
    case NC_TRAIN_PRUNED: return "pruned";
    }
    return "?";
}

void nc_train_opts_defaults(nc_train_opts *opt)
{
    nc_settings s;
    nc_train_table_defaults(&s);
    nc_train_opts_from_settings(opt, &s);
}

void nc_train_opts_from_settings(nc_train_opts *opt, const nc_settings *s)
{
    memset(opt, 0, sizeof *opt);
    opt->epochs = s->training.epochs;
    opt->learning_rate = s->training.learning_rate;
    opt->lr_decay = s->training.lr_decay;
    opt->shift_fraction = s->training.shift_fraction;
    opt->time_limit_s = s->training.time_limit_s;
    opt->threads = s->training.threads;
    nc_net_cfg_from_settings(&opt->net, s);
}

void nc_train_result_free(nc_train_result *res)
{
    if (res) {
        free(res->epochs);
        res->epochs = NULL;
        res->n_epochs = 0;
    }
}

int nc_data_shape_of(const nc_data *data, nc_data_shape *shape, nc_error *err)
{
    const nc_data_summary *s = nc_data_info(data);
    if (s->native_height != s->native_width)
        return nc_error_set(err, NC_ERR_INPUT,
                            "dataset %s: images are %d x %d; genotypes describe square images",
                            s->plugin, s->native_height, s->native_width);
    shape->size = s->native_height;
    shape->channels = s->channels;
    shape->classes = s->classes;
    return NC_OK;
}

/* Batch buffers shared by training and evaluation. */
typedef struct batch_bufs {
    float *images, *raw;
    int32_t *labels, *pred;
} batch_bufs;

static void free_bufs(batch_bufs *b)
{
    free(b->images);
    free(b->raw);
    free(b->labels);
    free(b->pred);
}

static int alloc_bufs(batch_bufs *b, const nc_net_info *info, int batch, int want_raw,
                      nc_error *err)
{
    size_t img = (size_t)info->input.h * info->input.w * info->input.ch * (size_t)batch;
    memset(b, 0, sizeof *b);
    b->images = malloc(img * sizeof(float));
    b->raw = want_raw ? malloc(img * sizeof(float)) : NULL;
    b->labels = malloc((size_t)batch * sizeof(int32_t));
    b->pred = malloc((size_t)batch * sizeof(int32_t));
    if (!b->images || (want_raw && !b->raw) || !b->labels || !b->pred) {
        free_bufs(b);
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory for the batch buffers");
    }
    return NC_OK;
}

static int evaluate(nc_net *net, nc_data *data, int split, batch_bufs *b, double *accuracy,
                    int64_t *images, nc_error *err)
{
    nc_data_iter *it = NULL;
    int max_batch = nc_net_get_info(net)->max_batch;
    int rc = nc_data_iter_new(data, split, (size_t)max_batch, &it, err);
    if (rc)
        return rc;
    int64_t seen = 0, correct = 0;
    for (;;) {
        size_t n = 0;
        if ((rc = nc_data_iter_next(it, b->images, NULL, b->labels, NULL, 0.0, &n, err)) || !n)
            break;
        if ((rc = nc_net_forward(net, (int)n, b->images, 0, err)))
            break;
        nc_net_predict(net, (int)n, b->pred);
        for (size_t i = 0; i < n; i++)
            correct += b->pred[i] == b->labels[i];
        seen += (int64_t)n;
    }
    nc_data_iter_free(it);
    if (rc)
        return rc;
    *accuracy = seen ? (double)correct / (double)seen : NAN;
    if (images)
        *images = seen;
    return NC_OK;
}

int nc_net_evaluate(nc_net *net, nc_data *data, int split, double *accuracy, int64_t *images,
                    nc_error *err)
{
    batch_bufs b;
    int rc = alloc_bufs(&b, nc_net_get_info(net), nc_net_get_info(net)->max_batch, 0, err);
    if (rc)
        return rc;
    rc = evaluate(net, data, split, &b, accuracy, images, err);
    free_bufs(&b);
    return rc;
}

int nc_train_auto_threads(int threads, int64_t macs, int cores)
{
    if (threads > 0)
        return threads;
    if (cores < 1)
        cores = 1;
    return macs < NC_TRAIN_ONE_THREAD_MACS ? 1 : cores;
}

int nc_train_threads_of(const nc_train_opts *opt, int64_t macs)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    int cores = opt->max_threads > 0 ? opt->max_threads : n > 0 && n < 1024 ? (int)n : 1;
    return nc_train_auto_threads(opt->threads, macs, cores);
}

static int check_opts(const nc_train_opts *opt, const char *origin, nc_error *err)
{
    if (opt->epochs < 1 || opt->epochs > 1000000)
        return nc_error_set(err, NC_ERR_INPUT, "%s: %d epochs, expected 1..1000000", origin,
                            opt->epochs);
    if (!(opt->learning_rate > 0) || !isfinite(opt->learning_rate) || !(opt->lr_decay > 0) ||
        !(opt->lr_decay <= 1))
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: learning rate %g and decay %g, expected > 0 and (0, 1]", origin,
                            opt->learning_rate, opt->lr_decay);
    if (!(opt->shift_fraction >= 0 && opt->shift_fraction <= 1) || !(opt->time_limit_s >= 0))
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: shift fraction %g or time limit %g s out of range", origin,
                            opt->shift_fraction, opt->time_limit_s);
    return NC_OK;
}

/* Everything one training run holds. */
typedef struct run {
    const nc_train_opts *opt;
    nc_data *data;
    nc_net *net;
    nc_train_result *res;
    batch_bufs b;
    nc_data_iter *it;
    nc_rng shuffle, augment;
    double start;                 /* wall clock of nc_train's start */
    double train_seconds;
    int64_t train_images;
    int64_t batches_done, batches_total;
} run;

static int time_up(const run *r)
{
    return r->opt->time_limit_s > 0 && nc_train_now() - r->start >= r->opt->time_limit_s;
}

static void report(const run *r, int phase, int epoch, int64_t batch, int64_t batches,
                   double loss, double img_per_s, const nc_epoch_result *er)
{
    if (!r->opt->progress)
        return;
    nc_train_progress p = {0};
    p.phase = phase;
    p.epoch = epoch;
    p.epochs = r->opt->epochs;
    p.batch = batch;
    p.batches = batches;
    p.loss = loss;
    p.img_per_s = img_per_s;
    p.eta_s = r->batches_done > 0
                  ? r->train_seconds / (double)r->batches_done *
                        (double)(r->batches_total - r->batches_done)
                  : NAN;
    p.result = er;
    r->opt->progress(&p, r->opt->user);
}

/* Scores the epoch's network on test (and validation). */
static int score(run *r, nc_epoch_result *er, nc_error *err)
{
    int rc = evaluate(r->net, r->data, NC_DATA_TEST, &r->b, &er->test_accuracy, NULL, err);
    if (rc)
        return rc;
    er->validation_accuracy = NAN;
    if (nc_data_split_count(r->data, NC_DATA_VALIDATION) > 0)
        rc = evaluate(r->net, r->data, NC_DATA_VALIDATION, &r->b, &er->validation_accuracy,
                      NULL, err);
    return rc;
}

/* One epoch; *stop gets a non-ok status when it ends the training. */
static int epoch(run *r, int e, int *stop, nc_error *err)
{
    const nc_train_opts *opt = r->opt;
    nc_epoch_result *er = &r->res->epochs[r->res->n_epochs];
    memset(er, 0, sizeof *er);
    er->epoch = e + 1;
    er->learning_rate = opt->learning_rate * pow(opt->lr_decay, e);
    er->test_accuracy = er->validation_accuracy = NAN;
    nc_data_iter_start(r->it, &r->shuffle);
    int64_t batches = (int64_t)nc_data_iter_batches(r->it), correct = 0;
    double loss_sum = 0.0;
    int64_t nb = 0;
    for (;;) {
        if (time_up(r)) {
            *stop = NC_TRAIN_TIME_LIMIT;
            break;
        }
        if (opt->stop && opt->stop(opt->user)) {
            *stop = NC_TRAIN_STOPPED;
            snprintf(r->res->reason, sizeof r->res->reason, "stopped at epoch %d, batch %lld",
                     e + 1, (long long)nb + 1);
            break;
        }
        double t0 = nc_train_now();
        size_t n = 0;
        int rc = nc_data_iter_next(r->it, r->b.images, r->b.raw, r->b.labels, &r->augment,
                                   opt->shift_fraction, &n, err);
        if (rc)
            return rc;
        if (!n)
            break;
        nc_net_loss loss;
        nc_net_zero_grad(r->net);
        if ((rc = nc_net_loss_step(r->net, (int)n, r->b.images, r->b.raw, r->b.labels, 1, &loss,
                                   err)))
            return rc;
        if (!isfinite(loss.total)) {
            *stop = NC_TRAIN_DIVERGED;
            snprintf(r->res->reason, sizeof r->res->reason,
                     "loss is %g at epoch %d, batch %lld (learning rate %g)", loss.total, e + 1,
                     (long long)nb + 1, er->learning_rate);
            break;
        }
        nc_net_adam_step(r->net, (float)er->learning_rate);
        double dt = nc_train_now() - t0;
        er->seconds += dt;
        r->train_seconds += dt;
        er->images += (int64_t)n;
        r->train_images += (int64_t)n;
        correct += loss.correct;
        loss_sum += loss.total;
        nb++;
        r->batches_done++;
        report(r, NC_PHASE_BATCH, e + 1, nb, batches, loss.total,
               er->seconds > 0 ? (double)er->images / er->seconds : 0.0, NULL);
    }
    er->complete = *stop == NC_TRAIN_OK;
    er->train_loss = nb ? loss_sum / (double)nb : NAN;
    er->train_accuracy = er->images ? (double)correct / (double)er->images : NAN;
    er->img_per_s = er->seconds > 0 ? (double)er->images / er->seconds : 0.0;
    if (*stop == NC_TRAIN_DIVERGED || *stop == NC_TRAIN_STOPPED ||
        (*stop == NC_TRAIN_TIME_LIMIT && er->images == 0))
        return NC_OK;   /* nothing (new) worth scoring */
    r->res->n_epochs++;
    if (er->complete)
        r->res->epochs_done++;
    int rc = score(r, er, err);
    if (rc)
        return rc;
    r->res->test_accuracy = er->test_accuracy;
    r->res->validation_accuracy = er->validation_accuracy;
    report(r, NC_PHASE_EVAL, e + 1, nb, batches, er->train_loss, er->img_per_s, er);
    if (opt->prune && er->complete && e + 1 < opt->epochs &&
        opt->prune(er, r->res->reason, sizeof r->res->reason, opt->user))
        *stop = NC_TRAIN_PRUNED;
    return NC_OK;
}

int nc_train(nc_registry *reg, nc_data *data, const nc_genotype *g, const char *origin,
             const nc_train_opts *opt, nc_net **net_out, nc_train_result *res, nc_error *err)
{
    if (net_out)
        *net_out = NULL;
    memset(res, 0, sizeof *res);
    res->test_accuracy = res->validation_accuracy = NAN;
    if (!origin)
        origin = "<genotype>";
    run r;
    memset(&r, 0, sizeof r);
    r.start = nc_train_now();
    r.opt = opt;
    r.data = data;
    r.res = res;
    nc_data_shape ds;
    int rc;
    if ((rc = check_opts(opt, origin, err)) || (rc = nc_data_shape_of(data, &ds, err)) ||
        (rc = nc_genotype_validate(g, origin, &ds, err)))
        return rc;
    res->epochs_planned = opt->epochs;
    nc_analysis an;
    if ((rc = nc_network_analyze(reg, g, origin, opt->net.routings, &an, err)))
        return rc;
    res->params = an.params;
    res->decoder_params = opt->net.recon_weight > 0 ? an.decoder_params : 0;
    res->macs = an.macs;
    if ((rc = nc_data_set_resize(data, g->resize, err)))
        return rc;

    nc_error berr;
    nc_error_clear(&berr);
    rc = nc_net_build(reg, g, origin, &ds, &opt->net, &r.net, &berr);
    if (rc == NC_ERR_INPUT) {
        /* over a limit or a layer that cannot train: a result, not an error */
        res->status = NC_TRAIN_REFUSED;
        snprintf(res->reason, sizeof res->reason, "%s", berr.msg);
        nc_net_memory_estimate(reg, g, origin, &opt->net, &res->memory, NULL);
        return NC_OK;
    }
    if (rc) {
        if (err)
            *err = berr;
        return rc;
    }
    const nc_net_info *info = nc_net_get_info(r.net);
    res->memory = info->memory;
    nc_nn_set_threads(nc_train_threads_of(opt, res->macs));
    char gstr[NC_GENOTYPE_STRING_MAX + 32];
    nc_genotype_to_string(g, gstr + 14, sizeof gstr - 14);
    memcpy(gstr, "train.shuffle:", 14);
    nc_rng_derive(&r.shuffle, opt->net.seed, gstr);
    memcpy(gstr, "train.augment:", 14);
    nc_rng_derive(&r.augment, opt->net.seed, gstr);
    res->epochs = calloc((size_t)opt->epochs, sizeof *res->epochs);
    if (!res->epochs) {
        rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        goto out;
    }
    if ((rc = alloc_bufs(&r.b, info, info->max_batch, info->has_decoder, err)) ||
        (rc = nc_data_iter_new(data, NC_DATA_TRAIN, (size_t)info->max_batch, &r.it, err)))
        goto out;
    r.batches_total = (int64_t)nc_data_iter_batches(r.it) * opt->epochs;
    int stop = NC_TRAIN_OK;
    for (int e = 0; e < opt->epochs && stop == NC_TRAIN_OK; e++)
        if ((rc = epoch(&r, e, &stop, err)))
            goto out;
    res->status = stop;
    if (stop == NC_TRAIN_TIME_LIMIT)
        snprintf(res->reason, sizeof res->reason,
                 "training.time_limit_s = %g reached after %d complete epochs and %lld images",
                 opt->time_limit_s, res->epochs_done, (long long)r.train_images);
    if (stop == NC_TRAIN_DIVERGED)
        res->test_accuracy = res->validation_accuracy = NAN;
    res->train_seconds = r.train_seconds;
    res->train_img_per_s = r.train_seconds > 0 ? (double)r.train_images / r.train_seconds : 0.0;
out:
    nc_data_iter_free(r.it);
    free_bufs(&r.b);
    if (rc == NC_OK && net_out &&
        (res->status == NC_TRAIN_OK || res->status == NC_TRAIN_TIME_LIMIT ||
         res->status == NC_TRAIN_PRUNED)) {
        *net_out = r.net;
        r.net = NULL;
    }
    nc_net_free(r.net);
    return rc;
}
