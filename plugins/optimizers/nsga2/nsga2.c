/* nsga2.c - NSGA-II (Deb et al. 2002) over the NASCaps search space:
 * a random initial population, then per generation `offspring` children
 * by parent selection, the paper's crossover and mutation (search.h), and
 * elitist (mu + lambda) survival by rank and crowding distance under
 * constrained domination. docs/SEARCH.md has the details. */
#include <stdlib.h>
#include <string.h>

#include <nascaps/optimizer.h>

#define NAME "nsga2"
/* Children equal to an evaluated genotype or to one of the batch are
 * redrawn this many times before a random genotype takes the place, and
 * as many random draws before a duplicate is accepted (a tiny space). */
#define REDRAWS 50
#define SIZE_MAX_SETTING 10000

static const char *const selections[] = {"tournament", "uniform", NULL};
static const char *const styles[] = {"per_gene", "paper", NULL};

static const nc_setting_spec nsga2_settings[] = {
    NC_SETTING_INT("population", 10, 1, SIZE_MAX_SETTING,
                   "parents kept each generation (mu)"),
    NC_SETTING_INT("offspring", 10, 1, SIZE_MAX_SETTING,
                   "children evaluated per generation (lambda)"),
    NC_SETTING_INT("generations", 20, 0, 1000000,
                   "offspring generations after the random initial population"),
    NC_SETTING_REAL("mutation_rate", 0.1, 0, 1,
                    "probability per gene (and for the skip gene) of a mutation"),
    NC_SETTING_STRING("mutation_style", "per_gene", styles,
                      "\"per_gene\": each gene (and the skip) mutates with probability "
                      "mutation_rate, deletions included; \"paper\": one gene drawn, one "
                      "of its parameters changed with probability mutation_rate"),
    NC_SETTING_STRING("parent_selection", "tournament", selections,
                      "\"tournament\" (binary: rank, then crowding) or "
                      "\"uniform\" (the paper)"),
    NC_SETTING_END};

typedef struct nsga2 {
    nc_optimizer_env env;
    int mu, lambda, generations, uniform, paper_mutation;
    double rate;
    int generation;          /* completed tells */
    int n_pop;
    nc_candidate *pop;       /* current parents */
    int *rank;
    double *crowd;
    int n_pending;
    nc_genotype *pending;    /* asked, not yet told */
    int cap;                 /* room in pop, rank, crowd, pending */
} nsga2;

static int oom(nc_error *err)
{
    return nc_error_set(err, NC_ERR_INTERNAL, NAME ": out of memory");
}

static int grow(nsga2 *o, int need, nc_error *err)
{
    if (need <= o->cap)
        return NC_OK;
    nc_candidate *pop = realloc(o->pop, (size_t)need * sizeof *pop);
    if (pop)
        o->pop = pop;
    int *rank = realloc(o->rank, (size_t)need * sizeof *rank);
    if (rank)
        o->rank = rank;
    double *crowd = realloc(o->crowd, (size_t)need * sizeof *crowd);
    if (crowd)
        o->crowd = crowd;
    nc_genotype *pending = realloc(o->pending, (size_t)need * sizeof *pending);
    if (pending)
        o->pending = pending;
    if (!pop || !rank || !crowd || !pending)
        return oom(err);
    o->cap = need;
    return NC_OK;
}

static void nsga2_destroy(void *opt)
{
    nsga2 *o = opt;
    if (!o)
        return;
    free(o->pop);
    free(o->rank);
    free(o->crowd);
    free(o->pending);
    free(o);
}

static int mutate(const nsga2 *o, nc_genotype *g, nc_error *err)
{
    return (o->paper_mutation ? nc_space_mutate_paper : nc_space_mutate)(
        o->env.space, o->env.rng, o->rate, g, err);
}

static int nsga2_create(const nc_section *sec, const nc_optimizer_env *env,
                        void **opt, nc_error *err)
{
    *opt = NULL;
    int64_t mu, lambda, gens;
    double rate;
    int sel, style;
    const nc_setting_spec *T = nsga2_settings;
    if (nc_setting_int(sec, T, "population", &mu, err) ||
        nc_setting_int(sec, T, "offspring", &lambda, err) ||
        nc_setting_int(sec, T, "generations", &gens, err) ||
        nc_setting_real(sec, T, "mutation_rate", &rate, err) ||
        nc_setting_choice(sec, T, "parent_selection", &sel, err) ||
        nc_setting_choice(sec, T, "mutation_style", &style, err))
        return err->status;
    if (nc_optimizer_check_env(env, NAME, err))
        return err->status;
    nsga2 *o = calloc(1, sizeof *o);
    if (!o)
        return oom(err);
    o->env = *env;
    o->mu = (int)mu;
    o->lambda = (int)lambda;
    o->generations = (int)gens;
    o->rate = rate;
    o->uniform = sel == 1;
    o->paper_mutation = style == 1;
    if (grow(o, o->mu + o->lambda, err)) {
        nsga2_destroy(o);
        return err->status;
    }
    *opt = o;
    return NC_OK;
}

/* Ranks and crowding distances of the current parents. */
static int rank_population(nsga2 *o, nc_error *err)
{
    nc_point *pts = malloc((size_t)(o->n_pop ? o->n_pop : 1) * sizeof *pts);
    if (!pts)
        return oom(err);
    nc_candidate_points(o->pop, o->n_pop, pts);
    int fronts = nc_rank_crowding(pts, (size_t)o->n_pop, o->env.n_objectives,
                                  o->rank, o->crowd);
    free(pts);
    return fronts < 0 ? oom(err) : NC_OK;
}

static int nsga2_done(void *opt)
{
    const nsga2 *o = opt;
    return o->generation > o->generations;
}

/* The initial population is one tell, then one per generation. */
static int64_t nsga2_planned_tells(void *opt)
{
    return (int64_t)((const nsga2 *)opt)->generations + 1;
}

static int nsga2_generation(void *opt)
{
    return ((const nsga2 *)opt)->generation;
}

static const nc_genotype *select_parent(nsga2 *o)
{
    size_t i = o->uniform
                   ? (size_t)nc_rng_range(o->env.rng, 0, o->n_pop - 1)
                   : nc_tournament(o->rank, o->crowd, (size_t)o->n_pop,
                                   o->env.rng);
    return &o->pop[i].genotype;
}

/* A random genotype new to the run and the batch (the last draw when none
 * is). */
static int draw_new(nsga2 *o, int n, nc_genotype *g, nc_error *err)
{
    for (int t = 0; t < REDRAWS; t++) {
        if (nc_space_sample(o->env.space, o->env.rng, g, err))
            return err->status;
        if (nc_optimizer_is_new(&o->env, o->pending, n, g))
            break;
    }
    return NC_OK;
}

static int make_children(nsga2 *o, nc_error *err)
{
    int n = 0, misses = 0;
    while (n < o->lambda) {
        const nc_genotype *a = select_parent(o), *b = select_parent(o);
        for (int t = 0; t < 4 && b == a && o->n_pop > 1; t++)
            b = select_parent(o);
        nc_genotype child[2];
        int crossed;
        if (nc_space_crossover(o->env.space, o->env.rng, a, b, &child[0],
                               &child[1], &crossed, err) ||
            mutate(o, &child[0], err) || mutate(o, &child[1], err))
            return nc_error_prefix(err, "%s", NAME);
        for (int c = 0; c < 2 && n < o->lambda; c++)
            if (nc_optimizer_is_new(&o->env, o->pending, n, &child[c])) {
                o->pending[n++] = child[c];
                misses = 0;
            }
        if (++misses >= REDRAWS && n < o->lambda) {
            if (draw_new(o, n, &o->pending[n], err))
                return err->status;
            n++;
            misses = 0;
        }
    }
    o->n_pending = n;
    return NC_OK;
}

static int initial_population(nsga2 *o, nc_error *err)
{
    for (int i = 0; i < o->mu; i++)
        if (draw_new(o, i, &o->pending[i], err))
            return err->status;
    o->n_pending = o->mu;
    return NC_OK;
}

static int nsga2_ask(void *opt, nc_genotype *out, int cap, int *n,
                     nc_error *err)
{
    nsga2 *o = opt;
    *n = 0;
    if (nsga2_done(o))
        return NC_OK;
    if (o->n_pending == 0) {
        int rc = o->generation == 0 || o->n_pop == 0
                     ? initial_population(o, err) : make_children(o, err);
        if (rc) {
            o->n_pending = 0;
            return rc;
        }
    }
    return nc_optimizer_hand_out(NAME, o->pending, o->n_pending, out, cap, n,
                                 err);
}

static int nsga2_tell(void *opt, const nc_candidate *cands, int n,
                      nc_error *err)
{
    nsga2 *o = opt;
    if (nc_optimizer_check_tell(&o->env, NAME, o->pending, o->n_pending, cands,
                                n, err))
        return err->status;
    int total = o->n_pop + n;
    if (grow(o, total, err))
        return err->status;
    memcpy(o->pop + o->n_pop, cands, (size_t)n * sizeof *cands);
    if (o->generation > 0 && total > o->mu) {
        nc_point *pts = malloc((size_t)total * sizeof *pts);
        size_t *keep = malloc((size_t)total * sizeof *keep);
        nc_candidate *next = malloc((size_t)o->mu * sizeof *next);
        int kept = -1;
        if (pts && keep && next) {
            nc_candidate_points(o->pop, total, pts);
            kept = nc_survival_select(pts, (size_t)total, o->env.n_objectives,
                                      (size_t)o->mu, o->env.rng, keep);
        }
        for (int i = 0; i < kept; i++)
            next[i] = o->pop[keep[i]];
        if (kept > 0)
            memcpy(o->pop, next, (size_t)kept * sizeof *next);
        free(pts);
        free(keep);
        free(next);
        if (kept < 0)
            return oom(err);
        total = kept;
    }
    o->n_pop = total;
    o->n_pending = 0;
    o->generation++;
    return rank_population(o, err);
}

static int nsga2_save(void *opt, char **state, nc_error *err)
{
    nsga2 *o = opt;
    nc_optimizer_state st = {
        .generation = o->generation,
        .rng = *o->env.rng,
        .n_members = o->n_pop,
        .members = o->pop,
        .n_pending = o->n_pending,
        .pending = o->pending,
    };
    return nc_optimizer_state_write(NAME, &st, state, err);
}

/* restore also sets *env->rng: the core keeps the optimizer's rng state
 * inside the optimizer's own state. */
static int nsga2_restore(void *opt, const char *state, nc_error *err)
{
    nsga2 *o = opt;
    nc_optimizer_state st;
    if (nc_optimizer_state_read(NAME, state, &o->env, &st, err))
        return err->status;
    int need = st.n_members > st.n_pending ? st.n_members : st.n_pending;
    if (grow(o, need, err)) {
        nc_optimizer_state_free(&st);
        return err->status;
    }
    if (st.n_members)
        memcpy(o->pop, st.members, (size_t)st.n_members * sizeof *o->pop);
    if (st.n_pending)
        memcpy(o->pending, st.pending, (size_t)st.n_pending * sizeof *o->pending);
    o->n_pop = st.n_members;
    o->n_pending = st.n_pending;
    o->generation = st.generation;
    *o->env.rng = st.rng;
    nc_optimizer_state_free(&st);
    return rank_population(o, err);
}

static int nsga2_population(void *opt, nc_candidate *out, int *rank,
                            double *crowding, int cap)
{
    const nsga2 *o = opt;
    return nc_optimizer_copy_members(o->pop, o->rank, o->crowd, o->n_pop, out,
                                     rank, crowding, cap);
}

static const nc_optimizer_ops nsga2_ops = {
    .size = sizeof(nc_optimizer_ops),
    .settings = nsga2_settings,
    .create = nsga2_create,
    .ask = nsga2_ask,
    .tell = nsga2_tell,
    .done = nsga2_done,
    .generation = nsga2_generation,
    .save = nsga2_save,
    .restore = nsga2_restore,
    .population = nsga2_population,
    .destroy = nsga2_destroy,
    .planned_tells = nsga2_planned_tells,
};

static const nc_plugin_desc nsga2_descs[] = {
    NC_PLUGIN_DESCRIPTOR(NC_KIND_OPTIMIZER, NAME, "1.0.0",
                         "NSGA-II: non-dominated sorting, crowding, (mu + lambda) "
                         "survival, the paper's crossover and mutation",
                         &nsga2_ops),
};

NC_PLUGIN_ENTRY(nsga2_descs)
