/* prune.c - per-candidate early-stopping plans (nascaps/prune.h): pure
 * arithmetic on what the run committed before the generation started. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nascaps/prune.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double nc_prune_quantile(double *v, int n, double q)
{
    if (n <= 0)
        return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double pos = q * (n - 1);
    int lo = (int)floor(pos);
    if (lo >= n - 1)
        return v[n - 1];
    return v[lo] + (pos - lo) * (v[lo + 1] - v[lo]);
}

/* m is no costlier than the candidate in every cost objective. */
static int no_costlier(const nc_prune_ref *m, const double *cost, int n_cost)
{
    for (int k = 0; k < n_cost; k++)
        if (!(m->cost[k] <= cost[k]))
            return 0;
    return 1;
}

void nc_prune_plan_make(const nc_prune_cfg *cfg, const double *cost, int n_cost,
                        const nc_prune_ref *pop, int n_pop, const nc_prune_history *h,
                        nc_prune_plan *out)
{
    memset(out, 0, sizeof *out);
    int epochs = h ? h->epochs : 0;
    if (!cfg->on || epochs < 2 || epochs > NC_PRUNE_MAX_EPOCHS)
        return;
    out->epochs = epochs;
    for (int e = 1; e <= epochs; e++)
        out->min_acc[e - 1] = -INFINITY;
    double scratch[4096];
    for (int e = 1; e < epochs; e++) {
        if (e < cfg->min_epochs)
            continue;
        int ng = h->n_gains[e - 1];
        if (ng < cfg->min_history || ng <= 0)
            continue;   /* rule (a) has no history yet: it cannot say */
        if (ng > (int)(sizeof scratch / sizeof scratch[0]))
            ng = (int)(sizeof scratch / sizeof scratch[0]);
        memcpy(scratch, h->gains[e - 1], (size_t)ng * sizeof *scratch);
        double gq = nc_prune_quantile(scratch, ng, cfg->quantile);
        if (!isfinite(gq))
            continue;
        for (int i = 0; i < n_pop; i++) {
            const nc_prune_ref *m = &pop[i];
            if (!isfinite(m->final_acc) || m->n_acc < e || !isfinite(m->acc[e - 1]) ||
                !no_costlier(m, cost, n_cost))
                continue;
            /* (a): acc + gq < final   <=>  acc < final - gq
             * (b): acc + margin <= m.acc(e)  <=>  acc < nextafter(m.acc(e) - margin) */
            double a = m->final_acc - gq;
            double b = nextafter(m->acc[e - 1] - cfg->margin, INFINITY);
            double both = a < b ? a : b;
            if (both > out->min_acc[e - 1]) {
                out->min_acc[e - 1] = both;
                snprintf(out->why[e - 1], sizeof out->why[e - 1],
                         "member %s (no costlier) reached %.4f, %.4f after epoch %d; "
                         "q%.2f gain from epoch %d is %.4f over %d candidates, margin %.3f",
                         m->id, m->final_acc, m->acc[e - 1], e, cfg->quantile, e, gq, ng,
                         cfg->margin);
            }
        }
    }
}

int nc_prune_check(const nc_prune_plan *plan, int e, double acc, char *reason, size_t size)
{
    if (e < 1 || e >= plan->epochs || !(acc < plan->min_acc[e - 1]))
        return 0;
    snprintf(reason, size, "pruned after epoch %d: accuracy %.4f below %.4f: %s", e, acc,
             plan->min_acc[e - 1], plan->why[e - 1]);
    return 1;
}
