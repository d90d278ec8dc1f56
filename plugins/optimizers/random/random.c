/* random.c - random search: `samples` genotypes of the search space, new
 * to the run, in batches of `batch`; population() is the non-dominated
 * set of everything told (constrained domination). docs/SEARCH.md. */
#include <stdlib.h>
#include <string.h>

#include <nascaps/optimizer.h>

#define NAME "random"
#define REDRAWS 50   /* draws for a genotype new to the run and the batch */

static const nc_setting_spec random_settings[] = {
    NC_SETTING_INT("samples", 100, 1, 1000000000, "genotypes evaluated in all"),
    NC_SETTING_INT("batch", 10, 1, 10000, "genotypes per ask"),
    NC_SETTING_END};

typedef struct rsearch {
    nc_optimizer_env env;
    int64_t samples;
    int batch;
    int generation;          /* completed tells */
    int64_t told;            /* genotypes told so far */
    int n_front, front_cap;
    nc_candidate *front;     /* non-dominated set of all told */
    int *rank;
    double *crowd;
    int n_pending;
    nc_genotype *pending;
} rsearch;

static int oom(nc_error *err)
{
    return nc_error_set(err, NC_ERR_INTERNAL, NAME ": out of memory");
}

static void random_destroy(void *opt)
{
    rsearch *o = opt;
    if (!o)
        return;
    free(o->front);
    free(o->rank);
    free(o->crowd);
    free(o->pending);
    free(o);
}

static int random_create(const nc_section *sec, const nc_optimizer_env *env,
                         void **opt, nc_error *err)
{
    *opt = NULL;
    int64_t samples, batch;
    if (nc_setting_int(sec, random_settings, "samples", &samples, err) ||
        nc_setting_int(sec, random_settings, "batch", &batch, err))
        return err->status;
    if (nc_optimizer_check_env(env, NAME, err))
        return err->status;
    rsearch *o = calloc(1, sizeof *o);
    if (!o || !(o->pending = malloc((size_t)batch * sizeof *o->pending))) {
        free(o);
        return oom(err);
    }
    o->env = *env;
    o->samples = samples;
    o->batch = (int)batch;
    *opt = o;
    return NC_OK;
}

static int random_done(void *opt)
{
    const rsearch *o = opt;
    return o->told >= o->samples;
}

/* One tell per batch of `batch` samples. */
static int64_t random_planned_tells(void *opt)
{
    const rsearch *o = opt;
    return (o->samples + o->batch - 1) / o->batch;
}

static int random_generation(void *opt)
{
    return ((const rsearch *)opt)->generation;
}

static int random_ask(void *opt, nc_genotype *out, int cap, int *n,
                      nc_error *err)
{
    rsearch *o = opt;
    *n = 0;
    if (random_done(o))
        return NC_OK;
    if (o->n_pending == 0) {
        int64_t left = o->samples - o->told;
        int want = left < o->batch ? (int)left : o->batch;
        for (int i = 0; i < want; i++)
            for (int t = 0; t < REDRAWS; t++) {
                if (nc_space_sample(o->env.space, o->env.rng, &o->pending[i],
                                    err))
                    return nc_error_prefix(err, "%s", NAME);
                if (nc_optimizer_is_new(&o->env, o->pending, i, &o->pending[i]))
                    break;
            }
        o->n_pending = want;
    }
    return nc_optimizer_hand_out(NAME, o->pending, o->n_pending, out, cap, n,
                                 err);
}

/* The front becomes the first front of front + cands. */
static int merge(rsearch *o, const nc_candidate *cands, int n, nc_error *err)
{
    int total = o->n_front + n;
    if (total > o->front_cap) {
        nc_candidate *f = realloc(o->front, (size_t)total * sizeof *f);
        if (f)
            o->front = f;
        int *r = realloc(o->rank, (size_t)total * sizeof *r);
        if (r)
            o->rank = r;
        double *c = realloc(o->crowd, (size_t)total * sizeof *c);
        if (c)
            o->crowd = c;
        if (!f || !r || !c)
            return oom(err);
        o->front_cap = total;
    }
    if (n > 0)
        memcpy(o->front + o->n_front, cands, (size_t)n * sizeof *cands);
    nc_point *pts = malloc((size_t)(total ? total : 1) * sizeof *pts);
    if (!pts)
        return oom(err);
    nc_candidate_points(o->front, total, pts);
    int fronts = nc_nondominated_sort(pts, (size_t)total, o->env.n_objectives,
                                      o->rank);
    int kept = 0;
    for (int i = 0; i < total && fronts >= 0; i++)
        if (o->rank[i] == 0)
            o->front[kept++] = o->front[i];
    o->n_front = kept;
    /* Recomputed on the kept members: their points moved. */
    nc_candidate_points(o->front, kept, pts);
    if (fronts >= 0)
        fronts = nc_rank_crowding(pts, (size_t)kept, o->env.n_objectives,
                                  o->rank, o->crowd);
    free(pts);
    return fronts < 0 ? oom(err) : NC_OK;
}

static int random_tell(void *opt, const nc_candidate *cands, int n,
                       nc_error *err)
{
    rsearch *o = opt;
    if (nc_optimizer_check_tell(&o->env, NAME, o->pending, o->n_pending, cands,
                                n, err) ||
        merge(o, cands, n, err))
        return err->status;
    o->told += n;
    o->n_pending = 0;
    o->generation++;
    return NC_OK;
}

static int random_save(void *opt, char **state, nc_error *err)
{
    rsearch *o = opt;
    nc_optimizer_state st = {
        .generation = o->generation,
        .rng = *o->env.rng,
        .n_members = o->n_front,
        .members = o->front,
        .n_pending = o->n_pending,
        .pending = o->pending,
        .counters = {o->told, 0, 0, 0},
    };
    return nc_optimizer_state_write(NAME, &st, state, err);
}

/* restore also sets *env->rng (the core keeps it in this state). */
static int random_restore(void *opt, const char *state, nc_error *err)
{
    rsearch *o = opt;
    nc_optimizer_state st;
    if (nc_optimizer_state_read(NAME, state, &o->env, &st, err))
        return err->status;
    int rc = NC_OK;
    if (st.n_pending > o->batch) {
        nc_genotype *p = realloc(o->pending, (size_t)st.n_pending * sizeof *p);
        if (p) {
            o->pending = p;
            o->batch = st.n_pending;
        } else
            rc = oom(err);
    }
    if (!rc && st.counters[0] < 0)
        rc = nc_error_set(err, NC_ERR_INPUT,
                          NAME ": saved state: %lld genotypes told",
                          (long long)st.counters[0]);
    o->n_front = 0;
    if (!rc)
        rc = merge(o, st.members, st.n_members, err);
    if (!rc) {
        if (st.n_pending)
            memcpy(o->pending, st.pending,
                   (size_t)st.n_pending * sizeof *o->pending);
        o->n_pending = st.n_pending;
        o->told = st.counters[0];
        o->generation = st.generation;
        *o->env.rng = st.rng;
    }
    nc_optimizer_state_free(&st);
    return rc;
}

static int random_population(void *opt, nc_candidate *out, int *rank,
                             double *crowding, int cap)
{
    const rsearch *o = opt;
    return nc_optimizer_copy_members(o->front, o->rank, o->crowd, o->n_front,
                                     out, rank, crowding, cap);
}

static const nc_optimizer_ops random_ops = {
    .size = sizeof(nc_optimizer_ops),
    .settings = random_settings,
    .create = random_create,
    .ask = random_ask,
    .tell = random_tell,
    .done = random_done,
    .generation = random_generation,
    .save = random_save,
    .restore = random_restore,
    .population = random_population,
    .destroy = random_destroy,
    .planned_tells = random_planned_tells,
};

static const nc_plugin_desc random_descs[] = {
    NC_PLUGIN_DESCRIPTOR(NC_KIND_OPTIMIZER, NAME, "1.0.0",
                         "random search: samples of the search space, "
                         "non-dominated set kept",
                         &random_ops),
};

NC_PLUGIN_ENTRY(random_descs)
