/* nascaps/prune.h - early stopping of candidates that cannot reach the
 * front (docs/SEARCH.md, "Pruning").
 *
 * The hardware costs of a candidate are known before it trains; only its
 * accuracy is uncertain. Before a generation is evaluated, the run loop
 * makes each candidate a plan from what was committed before the
 * generation started (the population it started from and the per-epoch
 * curves of fully trained candidates), so the decisions are the same
 * serially, with any number of workers and after a resume. The plan is a
 * minimum accuracy per epoch: the trainer stops the candidate after epoch
 * e when its accuracy is below plan.min_acc[e - 1].
 *
 * A stop needs BOTH rules to say the candidate ends dominated by the same
 * population member m, no costlier than it in every cost objective:
 *   (a) optimistic bound: acc(e) + Q(e) < final accuracy of m, where Q(e)
 *       is the `quantile` of the gains acc(E) - acc(e) seen on this run's
 *       fully trained candidates (none before `min_history` of them);
 *   (b) same epoch: acc(e) + margin <= m's own accuracy after epoch e.
 * and e >= min_epochs. */
#ifndef NASCAPS_PRUNE_H
#define NASCAPS_PRUNE_H

#include <stddef.h>

#include "error.h"
#include "search.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NC_PRUNE_MAX_EPOCHS 64

typedef struct nc_prune_cfg {
    int on;              /* training.prune = "dominance" */
    double quantile;     /* training.prune_quantile */
    int min_history;     /* training.prune_min_history */
    double margin;       /* training.prune_margin */
    int min_epochs;      /* training.prune_min_epochs */
} nc_prune_cfg;

/* A member of the population the generation started from. */
typedef struct nc_prune_ref {
    char id[13];
    double cost[NC_MAX_OBJECTIVES];   /* its cost objectives, candidate's order */
    double final_acc;                 /* after all epochs; NaN: not fully trained */
    const double *acc;                /* accuracy after epoch e at acc[e - 1] */
    int n_acc;
} nc_prune_ref;

/* The gains acc(E) - acc(e) of the run's fully trained candidates, for
 * e = 1..E-1: gains[e - 1] holds n_gains[e - 1] values (any order). */
typedef struct nc_prune_history {
    int epochs;                                /* E */
    const double *gains[NC_PRUNE_MAX_EPOCHS];
    int n_gains[NC_PRUNE_MAX_EPOCHS];
} nc_prune_history;

typedef struct nc_prune_plan {
    int epochs;                               /* E; 0: never stop */
    double min_acc[NC_PRUNE_MAX_EPOCHS];      /* -inf: no stop after e */
    char why[NC_PRUNE_MAX_EPOCHS][200];       /* the rule, member and figures */
} nc_prune_plan;

/* Plans the candidate with cost objectives cost[0..n_cost). */
void nc_prune_plan_make(const nc_prune_cfg *cfg, const double *cost, int n_cost,
                        const nc_prune_ref *pop, int n_pop, const nc_prune_history *h,
                        nc_prune_plan *out);

/* Non-zero when a candidate with accuracy acc after epoch e stops; writes
 * the reason ("pruned after epoch 2: accuracy 0.61 + 0.04 (q0.9 gain) <
 * 0.72 of ab12cd34ef56, which is no costlier; and ...") into reason. */
int nc_prune_check(const nc_prune_plan *plan, int e, double acc, char *reason, size_t size);

/* The q-quantile (0..1, linear interpolation) of n values (sorted in
 * place); NaN when n == 0. */
double nc_prune_quantile(double *v, int n, double q);

#ifdef __cplusplus
}
#endif
#endif
