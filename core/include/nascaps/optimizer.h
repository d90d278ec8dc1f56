/* nascaps/optimizer.h - the optimizer (search strategy) plugin kind.
 *
 * An optimizer proposes genotypes (ask), is told how they scored (tell),
 * and says when it is done. The core owns the evaluation, the results
 * store and resuming: after a kill it restores the optimizer's last saved
 * state (save/restore, ABI 1.2) and asks again, so an optimizer must be
 * deterministic given its state: all its randomness comes from the rng
 * the core hands it, whose state the core saves with it.
 *
 * ABI 1.0 fixed only the head of the table (size, settings); 1.2 appends
 * the search entries. A 1.0 table cannot run a search and the core says so. */
#ifndef NASCAPS_OPTIMIZER_H
#define NASCAPS_OPTIMIZER_H

#include "plugin.h"
#include "search.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ABI 1.2: one evaluated genotype, as the optimizer is told it. */
typedef struct nc_candidate {
    nc_genotype genotype;
    int n_objectives;
    double objectives[8];       /* minimised, in the pipeline's order */
    double violation;           /* 0: feasible; > 0: failed or broke a limit */
} nc_candidate;

/* ABI 1.2: what the core gives an optimizer at create. Borrowed for the
 * optimizer's lifetime. */
typedef struct nc_optimizer_env {
    const nc_search_space *space;
    nc_rng *rng;                /* the optimizer's randomness (saved by the core) */
    int n_objectives;
    /* Non-zero when g was already evaluated in this run (children equal to
     * one are re-drawn, a bounded number of times). */
    int (*seen)(void *ctx, const nc_genotype *g);
    void *seen_ctx;
} nc_optimizer_env;

typedef struct nc_optimizer_ops {
    uint32_t size;                     /* sizeof(nc_optimizer_ops) */
    /* ABI 1.0 */
    const nc_setting_spec *settings;   /* known settings of its section */
    /* ABI 1.2: the search. */
    int (*create)(const nc_section *sec, const nc_optimizer_env *env,
                  void **opt, nc_error *err);
    /* The next genotypes to evaluate (at most cap). *n = 0 only when
     * done. Asking twice without a tell returns the same batch. */
    int (*ask)(void *opt, nc_genotype *out, int cap, int *n, nc_error *err);
    /* The batch of the last ask, evaluated, in the same order. */
    int (*tell)(void *opt, const nc_candidate *cands, int n, nc_error *err);
    /* Non-zero when the search is over (e.g. generations reached). */
    int (*done)(void *opt);
    /* Completed generations (tells) so far. */
    int (*generation)(void *opt);
    /* The whole state after the last tell, as text (malloc'd), and back.
     * restore is called on a freshly created optimizer with the same
     * settings and env. */
    int (*save)(void *opt, char **state, nc_error *err);
    int (*restore)(void *opt, const char *state, nc_error *err);
    /* The current population (for reports): up to cap members with their
     * non-domination rank (0 = first front) and crowding distance; returns
     * how many there are. */
    int (*population)(void *opt, nc_candidate *out, int *rank,
                      double *crowding, int cap);
    void (*destroy)(void *opt);
} nc_optimizer_ops;

#define NC_OPTIMIZER_OPS_MIN_SIZE \
    (offsetof(nc_optimizer_ops, settings) + sizeof(void *))
#define NC_OPTIMIZER_OPS_SEARCH_SIZE \
    (offsetof(nc_optimizer_ops, destroy) + sizeof(void (*)(void *)))

/* Non-zero when ops can run a search (ABI 1.2 entries present). */
static inline int nc_optimizer_can_search(const nc_optimizer_ops *ops)
{
    return ops->size >= NC_OPTIMIZER_OPS_SEARCH_SIZE && ops->create &&
           ops->ask && ops->tell && ops->done && ops->generation &&
           ops->save && ops->restore && ops->population && ops->destroy;
}

#ifdef __cplusplus
}
#endif
#endif
