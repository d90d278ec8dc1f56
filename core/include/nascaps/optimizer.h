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

    /* ABI 1.3 (optional): the tells (completed generations, in the sense of
     * generation()) the search will make in all with its settings, or -1
     * when it cannot say. The run loop's ETA uses it; without it (a 1.2
     * plugin) the run shows no ETA. */
    int64_t (*planned_tells)(void *opt);
} nc_optimizer_ops;

#define NC_OPTIMIZER_OPS_MIN_SIZE \
    (offsetof(nc_optimizer_ops, settings) + sizeof(void *))
#define NC_OPTIMIZER_OPS_SEARCH_SIZE \
    (offsetof(nc_optimizer_ops, destroy) + sizeof(void (*)(void *)))

/* Non-zero when ops can run a search (ABI 1.2 entries present). */
/* The planned tells of a created optimizer, -1 when its plugin (ABI < 1.3
 * or without the entry) cannot say. */
static inline int64_t nc_optimizer_planned_tells(const nc_optimizer_ops *ops,
                                                 void *opt)
{
    if (ops->size < offsetof(nc_optimizer_ops, planned_tells) +
                        sizeof ops->planned_tells || !ops->planned_tells)
        return -1;
    return ops->planned_tells(opt);
}

static inline int nc_optimizer_can_search(const nc_optimizer_ops *ops)
{
    return ops->size >= NC_OPTIMIZER_OPS_SEARCH_SIZE && ops->create &&
           ops->ask && ops->tell && ops->done && ops->generation &&
           ops->save && ops->restore && ops->population && ops->destroy;
}

/* ---- libnascaps helpers for optimizer plugins ------------------------- */

/* Checks what create() needs of env: a space, an rng and 1 to
 * NC_MAX_OBJECTIVES objectives. who ("nsga2") starts the message. */
int nc_optimizer_check_env(const nc_optimizer_env *env, const char *who,
                           nc_error *err);

/* Non-zero when g is neither evaluated already (env->seen, when set) nor
 * one of batch[0..n). */
int nc_optimizer_is_new(const nc_optimizer_env *env, const nc_genotype *batch,
                        int n, const nc_genotype *g);

/* Checks a tell against the batch asked: n == n_batch, every genotype
 * equal to the one asked at its position, env->n_objectives objectives.
 * who ("nsga2") starts the message. */
int nc_optimizer_check_tell(const nc_optimizer_env *env, const char *who,
                            const nc_genotype *batch, int n_batch,
                            const nc_candidate *cands, int n, nc_error *err);

/* Hands out a drawn batch as ask() does: copies it to out and sets *n;
 * when cap is smaller, *n = n_batch and NC_ERR_INPUT, except for the size
 * query out = NULL, cap = 0 (NC_OK). */
int nc_optimizer_hand_out(const char *who, const nc_genotype *batch,
                          int n_batch, nc_genotype *out, int cap, int *n,
                          nc_error *err);

/* Copies up to cap of n members (and their rank and crowding; any output
 * may be NULL) as population() does; returns n. */
int nc_optimizer_copy_members(const nc_candidate *members, const int *rank,
                              const double *crowding, int n,
                              nc_candidate *out, int *out_rank,
                              double *out_crowding, int cap);

/* The common part of an optimizer's saved state (docs/SEARCH.md: state
 * format), written and read as one JSON object so plugins need not agree
 * on anything else. */
typedef struct nc_optimizer_state {
    int generation;             /* completed tells */
    nc_rng rng;                 /* *env->rng when saved */
    int n_members;              /* the population (or archive) */
    nc_candidate *members;
    int n_pending;              /* the batch asked and not yet told; 0: none */
    nc_genotype *pending;
    int64_t counters[4];        /* the plugin's own counters */
} nc_optimizer_state;

/* JSON text (malloc'd) of st for optimizer `name`. Non-finite objectives
 * are written as the strings "inf", "-inf", "nan"; reals with 17
 * significant digits, so reading gives the same bits. */
int nc_optimizer_state_write(const char *name, const nc_optimizer_state *st,
                             char **text, nc_error *err);
/* Parses text written for `name`; every genotype must validate against
 * env->space's dataset shape, every member carry env->n_objectives
 * objectives. st's arrays are malloc'd (nc_optimizer_state_free). */
int nc_optimizer_state_read(const char *name, const char *text,
                            const nc_optimizer_env *env,
                            nc_optimizer_state *st, nc_error *err);
void nc_optimizer_state_free(nc_optimizer_state *st);

/* The points of n candidates (obj points into each candidate). */
void nc_candidate_points(const nc_candidate *cands, int n, nc_point *pts);

#ifdef __cplusplus
}
#endif
#endif
