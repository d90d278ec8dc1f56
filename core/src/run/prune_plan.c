/* prune_plan.c - the run loop's side of early stopping (nascaps/prune.h):
 * what was committed before a generation started (its population and the
 * per-epoch curves of this run's fully trained candidates, generations
 * before it only, so a resumed generation plans exactly as the first try
 * did) turned into one plan per candidate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "run/run_internal.h"

void nc_run_prune_cfg(const nc_settings *s, nc_prune_cfg *cfg)
{
    cfg->on = s->training.prune == 1;
    cfg->quantile = s->training.prune_quantile;
    cfg->min_history = s->training.prune_min_history;
    cfg->margin = s->training.prune_margin;
    cfg->min_epochs = s->training.prune_min_epochs;
}

/* The cost objectives of e in the run's order (accuracy_drop left out). */
static int cost_objectives(const nc_settings *s, const nc_eval_rec *e, double *cost)
{
    double obj[NC_OBJ_COUNT], viol;
    nc_run_objectives(e, s->n_objectives, s->objectives, obj, &viol);
    int n = 0;
    for (int k = 0; k < s->n_objectives; k++)
        if (s->objectives[k] != NC_OBJ_ACCURACY_DROP)
            cost[n++] = obj[k];
    return n;
}

typedef struct curve {
    int64_t id;
    int full;                 /* ok and every epoch done */
    double acc[NC_PRUNE_MAX_EPOCHS];
    int n;
} curve;

void nc_run_prune_free(nc_run_prune *pc)
{
    if (!pc)
        return;
    free(pc->curves);
    for (int e = 0; e < NC_PRUNE_MAX_EPOCHS; e++)
        free(pc->gains[e]);
    free(pc->refs);
    memset(pc, 0, sizeof *pc);
}

static curve *find_curve(nc_run_prune *pc, int64_t id)
{
    curve *c = pc->curves;
    for (int i = 0; i < pc->n_curves; i++)
        if (c[i].id == id)
            return &c[i];
    return NULL;
}

int nc_run_prune_begin(nc_store *st, const nc_settings *s, const char *cache_key, int ask_index,
                       nc_run_prune *pc, nc_error *err)
{
    memset(pc, 0, sizeof *pc);
    nc_run_prune_cfg(s, &pc->cfg);
    int E = s->training.epochs;
    if (!pc->cfg.on || ask_index < 1 || E < 2 || E > NC_PRUNE_MAX_EPOCHS)
        return NC_OK;
    sqlite3 *db = nc_store_sqlite(st);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db,
                           "SELECT e.id, e.status, e.epochs_done, p.epoch, p.validation_accuracy,"
                           " p.test_accuracy FROM evaluations e JOIN epochs p ON p.eval_id = e.id"
                           " WHERE e.cache_key = ?1 AND e.generation < ?2 ORDER BY e.id, p.epoch",
                           -1, &q, NULL) != SQLITE_OK)
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: cannot read the curves: %s",
                            nc_store_path(st), sqlite3_errmsg(db));
    sqlite3_bind_text(q, 1, cache_key, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, ask_index);
    int cap = 0, rc = NC_OK, step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        curve *c = pc->n_curves ? &((curve *)pc->curves)[pc->n_curves - 1] : NULL;
        if (!c || c->id != id) {
            if (pc->n_curves == cap) {
                cap = cap ? cap * 2 : 64;
                curve *grown = realloc(pc->curves, (size_t)cap * sizeof *grown);
                if (!grown) {
                    rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
                    break;
                }
                pc->curves = grown;
            }
            c = &((curve *)pc->curves)[pc->n_curves++];
            memset(c, 0, sizeof *c);
            c->id = id;
            const char *status = (const char *)sqlite3_column_text(q, 1);
            c->full = status && !strcmp(status, "ok") && sqlite3_column_int(q, 2) == E;
        }
        int ep = sqlite3_column_int(q, 3);
        if (ep < 1 || ep > E)
            continue;   /* checked data: nothing outside the plan's range */
        double v = sqlite3_column_type(q, 4) != SQLITE_NULL ? sqlite3_column_double(q, 4)
                                                             : sqlite3_column_double(q, 5);
        c->acc[ep - 1] = isfinite(v) ? v : NAN;
        if (ep > c->n)
            c->n = ep;
    }
    if (rc == NC_OK && step != SQLITE_DONE)
        rc = nc_error_set(err, NC_ERR_INTERNAL, "%s: cannot read the curves: %s",
                          nc_store_path(st), sqlite3_errmsg(db));
    sqlite3_finalize(q);
    if (rc) {
        nc_run_prune_free(pc);
        return rc;
    }
    /* history: the gains acc(E) - acc(e) of the fully trained */
    pc->hist.epochs = E;
    for (int e = 1; e < E; e++) {
        pc->gains[e - 1] = malloc((size_t)(pc->n_curves ? pc->n_curves : 1) * sizeof(double));
        if (!pc->gains[e - 1]) {
            nc_run_prune_free(pc);
            return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        }
        int n = 0;
        for (int i = 0; i < pc->n_curves; i++) {
            const curve *c = &((curve *)pc->curves)[i];
            if (c->full && c->n == E && isfinite(c->acc[E - 1]) && isfinite(c->acc[e - 1]))
                pc->gains[e - 1][n++] = c->acc[E - 1] - c->acc[e - 1];
        }
        pc->hist.gains[e - 1] = pc->gains[e - 1];
        pc->hist.n_gains[e - 1] = n;
    }
    /* the population the generation started from */
    int64_t *ids = NULL;
    int *rank = NULL, n_pop = 0;
    double *crowd = NULL;
    if ((rc = nc_store_population(st, ask_index, &ids, &rank, &crowd, &n_pop, err))) {
        nc_run_prune_free(pc);
        return rc;
    }
    pc->refs = calloc((size_t)(n_pop ? n_pop : 1), sizeof *pc->refs);
    nc_eval_rec *e = malloc(sizeof *e);
    if (!pc->refs || !e)
        rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    for (int i = 0; !rc && i < n_pop; i++) {
        if ((rc = nc_store_eval_get(st, ids[i], e, err)))
            break;
        const curve *c = find_curve(pc, ids[i]);
        if (!c || nc_run_failed(e))
            continue;
        nc_prune_ref *r = &pc->refs[pc->n_refs++];
        memcpy(r->id, e->gid, sizeof r->id);
        pc->n_cost = cost_objectives(s, e, r->cost);
        r->final_acc = c->full ? c->acc[E - 1] : NAN;
        r->acc = c->acc;
        r->n_acc = c->n;
    }
    free(e);
    free(ids);
    free(rank);
    free(crowd);
    if (rc)
        nc_run_prune_free(pc);
    return rc;
}

void nc_run_prune_plan(const nc_run_prune *pc, const nc_settings *s, const nc_eval_rec *costs,
                       nc_prune_plan *plan)
{
    double cost[NC_MAX_OBJECTIVES];
    int n = cost_objectives(s, costs, cost);
    nc_prune_plan_make(&pc->cfg, cost, n, pc->refs, pc->n_refs,
                       pc->cfg.on && pc->hist.epochs ? &pc->hist : NULL, plan);
}
