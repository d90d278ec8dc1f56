/* evaluate.c - one candidate's evaluation and the cache key it is stored
 * under, shared by the search (run.c) and the correlation study
 * (correlate.c): both must store the same record under the same key, so a
 * study finds a search's evaluations and the other way round. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nascaps/network.h"
#include "run/run_internal.h"

int nc_run_cache_key(nc_registry *reg, const nc_settings *s, const nc_data *data, int trains,
                     int epochs, char key[17], nc_error *err)
{
    char text[2048], layers[1024];
    if (!trains)
        snprintf(text, sizeof text, "costs-only");
    else {
        if (nc_layer_settings_text(reg, s->pipeline, layers, sizeof layers, err))
            return err->status;
        snprintf(text, sizeof text,
                 "data=%016" PRIx64 " seed=%" PRIu64 " epochs=%d batch=%d lr=%.17g decay=%.17g"
                 " routings=%d recon=%.17g shift=%.17g %s max_params=%" PRId64
                 " max_memory_mb=%" PRId64 " time_limit_s=%.17g",
                 nc_data_fingerprint(data), s->seed, epochs, s->training.batch_size,
                 s->training.learning_rate, s->training.lr_decay, s->training.routings,
                 s->training.recon_weight, s->training.shift_fraction, layers,
                 s->training.max_params, s->training.max_memory_mb, s->training.time_limit_s);
        /* a pruned record never answers for a full one: with pruning on,
         * the key differs (and without, it is what it always was) */
        if (s->training.prune)
            snprintf(text + strlen(text), sizeof text - strlen(text),
                     " prune=dominance q=%.17g m=%.17g h=%d e=%d", s->training.prune_quantile,
                     s->training.prune_margin, s->training.prune_min_history,
                     s->training.prune_min_epochs);
    }
    nc_hash64_hex(nc_hash64(text, strlen(text)), key);
    return NC_OK;
}

static void set_invalid(nc_eval_rec *e, const char *why)
{
    snprintf(e->status, sizeof e->status, "invalid");
    snprintf(e->reason, sizeof e->reason, "%s", why);
}

int nc_run_evaluate(const nc_eval_env *env, const nc_genotype *g, nc_eval_rec *e,
                    nc_epoch_rec *ep, int max_ep, int *n_ep, int *stopped, nc_error *err)
{
    double t0 = nc_run_now();
    *n_ep = 0;
    *stopped = 0;
    e->accuracy = e->test_accuracy = e->validation_accuracy = NAN;
    e->energy_mj = e->latency_ms = e->memory_kib = NAN;
    e->train_seconds = 0.0;
    snprintf(e->status, sizeof e->status, "ok");
    e->reason[0] = '\0';
    nc_error ierr;
    nc_error_clear(&ierr);
    nc_analysis an;
    nc_estimate est;
    if (nc_network_analyze(env->reg, g, e->gid, env->routings, &an, &ierr) ||
        nc_estimate_genotype(env->acc, env->reg, g, e->gid, &est, &ierr)) {
        if (ierr.status != NC_ERR_INPUT)
            return *err = ierr, ierr.status;
        set_invalid(e, ierr.msg);
        e->seconds = nc_run_now() - t0;
        return NC_OK;
    }
    e->params = an.params;
    e->macs = an.macs;
    e->energy_mj = est.energy_mj;
    e->latency_ms = est.latency_ms;
    e->memory_kib = est.memory_kib;
    /* over a hardware budget: costed, never trained (the search spends
     * no training on a network the accelerator cannot take) */
    if (env->s && nc_run_budget_excess(env->s, e, e->reason, sizeof e->reason) > 0) {
        snprintf(e->status, sizeof e->status, "over_budget");
        e->seconds = nc_run_now() - t0;
        return NC_OK;
    }
    if (env->trains) {
        nc_train_result res;
        memset(&res, 0, sizeof res);
        int rc = nc_train(env->reg, env->data, g, e->gid, env->topt, NULL, &res, &ierr);
        if (rc == NC_ERR_INPUT) {
            set_invalid(e, ierr.msg);
        } else if (rc) {
            nc_train_result_free(&res);
            return *err = ierr, rc;
        } else if (res.status == NC_TRAIN_STOPPED) {
            *stopped = 1;
        } else {
            snprintf(e->status, sizeof e->status, "%s", nc_train_status_name(res.status));
            snprintf(e->reason, sizeof e->reason, "%s", res.reason);
            e->test_accuracy = res.test_accuracy;
            e->validation_accuracy = res.validation_accuracy;
            e->accuracy = nc_data_split_count(env->data, NC_DATA_VALIDATION) > 0
                              ? res.validation_accuracy
                              : res.test_accuracy;
            e->epochs_done = res.epochs_done;
            e->train_seconds = res.train_seconds;
            for (int i = 0; i < res.n_epochs && i < max_ep; i++) {
                const nc_epoch_result *r = &res.epochs[i];
                ep[i] = (nc_epoch_rec){r->epoch,          r->complete,
                                       r->train_loss,     r->train_accuracy,
                                       r->test_accuracy,  r->validation_accuracy,
                                       r->seconds};
                *n_ep = i + 1;
            }
            if (!strcmp(e->status, "ok") && !isfinite(e->accuracy))
                set_invalid(e, "no accuracy was measured");
        }
        nc_train_result_free(&res);
    }
    e->seconds = nc_run_now() - t0;
    return NC_OK;
}

void nc_run_rec_worker(nc_eval_rec *e, const char *worker, int threads)
{
    snprintf(e->worker, sizeof e->worker, "%s", worker ? worker : "");
    e->threads = threads;
}
