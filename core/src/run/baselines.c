/* baselines.c - the pipeline's baseline networks (`baselines = [...]`,
 * docs/REPORT.md): each is evaluated like a candidate before the search,
 * with the run's settings and cache key (so a baseline the optimizer also
 * asks for is evaluated once), stored with the ask index
 * NC_REPORT_BASELINE_GEN (no ask has it, so none counts it as seen), never
 * told to the optimizer, and listed in meta "baselines" for the report. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/run_internal.h"
#include "train/train_internal.h"

#define MAX_EPOCH_ROWS 1024

/* Loads the file and checks it fits the dataset. */
int nc_run_baseline_load(const char *path, const nc_data_shape *shape, nc_genotype *g,
                         nc_error *err)
{
    int rc = nc_genotype_load(path, g, err);
    if (!rc && (rc = nc_genotype_validate(g, path, shape, err)) == NC_ERR_INPUT) {
        char why[NC_ERROR_MAX];
        snprintf(why, sizeof why, "%s", err->msg);
        rc = nc_error_set(err, NC_ERR_INPUT, "baselines: %s (`nascaps adapt` re-derives a "
                          "genotype for this dataset)", why);
    }
    return rc;
}

int nc_run_baselines(const nc_eval_env *env, nc_store *st, const nc_settings *s,
                     const nc_data_shape *shape, const char *cache_key, int *stopped,
                     nc_error *err)
{
    *stopped = 0;
    if (!s->n_baselines)
        return NC_OK;
    nc_eval_rec *e = malloc(sizeof *e);
    nc_epoch_rec *ep = malloc(MAX_EPOCH_ROWS * sizeof *ep);
    size_t cap = s->n_baselines * (NC_PATH_MAX + 32), used = 0;
    char *list = malloc(cap);
    int rc = e && ep && list ? NC_OK : nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < s->n_baselines && !rc && !*stopped; i++) {
        nc_genotype g;
        char canon[NC_GENOTYPE_STRING_MAX];
        int found = 0, n_ep = 0;
        if ((rc = nc_run_baseline_load(s->baselines[i], shape, &g, err)))
            break;
        nc_genotype_to_string(&g, canon, sizeof canon);
        if ((rc = nc_store_eval_find(st, canon, cache_key, e, &found, err)))
            break;
        if (!found) {
            memset(e, 0, sizeof *e);
            snprintf(e->genotype, sizeof e->genotype, "%s", canon);
            nc_genotype_id(&g, e->gid);
            memcpy(e->cache_key, cache_key, sizeof e->cache_key);
            e->generation = NC_REPORT_BASELINE_GEN;
            if ((rc = nc_run_evaluate(env, &g, e, ep, MAX_EPOCH_ROWS, &n_ep, stopped, err)) ||
                *stopped)
                break;
            /* evaluated in this process, whatever the transport: as the
             * serial executor records its results */
            nc_run_rec_worker(e, "serial", nc_train_threads_of(env->topt, e->macs));
            if ((rc = nc_store_eval_add(st, e, ep, n_ep, err)))
                break;
        }
        used += (size_t)snprintf(list + used, cap - used, "%" PRId64 "\t%s\n", e->id,
                                 s->baselines[i]);
    }
    if (!rc && !*stopped)
        rc = nc_store_meta_set(st, "baselines", list, err);
    free(e);
    free(ep);
    free(list);
    return rc;
}
