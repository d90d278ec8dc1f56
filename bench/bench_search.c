/* bench_search.c - search speed: NSGA-II selection (sort + crowding +
 * survival) on random 4-objective populations, exact hypervolume of
 * fronts in 2..6 objectives, and NSGA-II against random search at equal
 * evaluations on a cheap in-process objective (MACs vs. parameters from
 * the layer plugins). Prints `name value` lines. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nascaps/network.h>
#include <nascaps/optimizer.h>
#include <nascaps/pipeline.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- selection --------------------------------------------------------- */

/* One NSGA-II generation's selection: (mu + lambda) survival of n points
 * to n/2, then ranks and crowding of the survivors (for the tournament). */
static void select_once(const nc_point *pts, size_t n, nc_rng *rng,
                        size_t *chosen, nc_point *kept, int *rank,
                        double *crowd)
{
    int k = nc_survival_select(pts, n, 4, n / 2, rng, chosen);
    for (int i = 0; i < k; i++)
        kept[i] = pts[chosen[i]];
    nc_rank_crowding(kept, (size_t)k, 4, rank, crowd);
}

static void bench_selection(void)
{
    static const size_t sizes[] = {10, 100, 1000, 10000};
    nc_rng rng;
    nc_rng_seed(&rng, 1);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        double *obj = malloc(n * 4 * sizeof *obj);
        nc_point *pts = malloc(n * sizeof *pts), *kept = malloc(n * sizeof *kept);
        size_t *chosen = malloc(n * sizeof *chosen);
        int *rank = malloc(n * sizeof *rank);
        double *crowd = malloc(n * sizeof *crowd);
        if (!obj || !pts || !kept || !chosen || !rank || !crowd)
            abort();
        for (size_t i = 0; i < n * 4; i++)
            obj[i] = nc_rng_uniform(&rng);
        for (size_t i = 0; i < n; i++)
            pts[i] = (nc_point){obj + 4 * i, 0};
        int reps = 0;
        double t0 = now_s(), t;
        do {
            select_once(pts, n, &rng, chosen, kept, rank, crowd);
            reps++;
            t = now_s() - t0;
        } while (t < 0.3);
        printf("nsga2_select_ms_n%zu %.4f\n", n, 1e3 * t / reps);
        free(obj);
        free(pts);
        free(kept);
        free(chosen);
        free(rank);
        free(crowd);
    }
}

/* ---- hypervolume ------------------------------------------------------- */

/* n points on the positive unit sphere: all mutually non-dominated, the
 * hard case for exact hypervolume. */
static void sphere_front(nc_rng *rng, size_t n, int m, double *p)
{
    for (size_t i = 0; i < n; i++) {
        double norm = 0;
        for (int k = 0; k < m; k++) {
            double v = fabs(nc_rng_normal(rng)) + 1e-9;
            p[i * (size_t)m + k] = v;
            norm += v * v;
        }
        for (int k = 0; k < m; k++)
            p[i * (size_t)m + k] /= sqrt(norm);
    }
}

static void bench_hypervolume(void)
{
    static const size_t sizes[] = {10, 100, 1000};
    const double budget_s = 2.0;   /* a size is skipped after a slow one */
    double ref[6] = {1.1, 1.1, 1.1, 1.1, 1.1, 1.1};
    nc_rng rng;
    nc_rng_seed(&rng, 2);
    double *p = malloc(1000 * 6 * sizeof *p);
    if (!p)
        abort();
    for (int m = 2; m <= 6; m++) {
        double last = 0;
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            size_t n = sizes[s];
            if (last > budget_s / 10) {
                printf("# hv_ms_m%d_n%zu skipped: n = %zu took %.2f s\n", m, n,
                       sizes[s - 1], last);
                break;
            }
            sphere_front(&rng, n, m, p);
            int reps = 0;
            double t0 = now_s(), t, hv;
            do {
                hv = nc_hypervolume(p, n, m, ref);
                reps++;
                t = now_s() - t0;
            } while (t < 0.2);
            last = t / reps;
            printf("hv_ms_m%d_n%zu %.4f\n", m, n, 1e3 * last);
            printf("hv_value_m%d_n%zu %.6f\n", m, n, hv);
        }
    }
    free(p);
}

/* ---- NSGA-II against random search ------------------------------------- */

#define EVALS 100
#define SEEDS 10

/* Objectives: log10 MACs (minimised) and 8 - log10 params (parameters
 * maximised): conflicting, since bigger networks cost more. Over 20 M
 * parameters is infeasible, as training.max_params. */
static void evaluate(nc_registry *reg, const nc_genotype *g, nc_candidate *c)
{
    static nc_analysis an;
    nc_error err;
    memset(c, 0, sizeof *c);
    c->genotype = *g;
    c->n_objectives = 2;
    if (nc_network_analyze(reg, g, "candidate", 3, &an, &err)) {
        fprintf(stderr, "bench_search: %s\n", err.msg);
        exit(1);
    }
    c->objectives[0] = log10((double)an.macs);
    c->objectives[1] = 8 - log10((double)an.params);
    c->violation = an.params > 20000000 ? log10(an.params / 2e7) : 0;
}

/* Hypervolume of the feasible candidates of all evaluated (the front the
 * search found), reference (13, 8). */
static double found_hv(const nc_candidate *all, int n)
{
    double pts[2 * EVALS], ref[2] = {13, 8};
    int k = 0;
    for (int i = 0; i < n; i++)
        if (all[i].violation == 0) {
            pts[2 * k] = all[i].objectives[0];
            pts[2 * k + 1] = all[i].objectives[1];
            k++;
        }
    return nc_hypervolume(pts, (size_t)k, 2, ref);
}

static double search_once(nc_registry *reg, const char *plugin,
                          const char *const *sets, size_t n_sets, uint64_t seed)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.so", NC_BENCH_PLUGIN_DIR, plugin);
    const nc_plugin_info *info;
    nc_pipeline *pl = NULL;
    nc_error err;
    if (nc_registry_find(reg, NC_KIND_OPTIMIZER, path, NULL, &info, &err) ||
        nc_pipeline_load(NULL, sets, n_sets, &pl, &err)) {
        fprintf(stderr, "bench_search: %s\n", err.msg);
        exit(1);
    }
    const nc_optimizer_ops *ops = nc_plugin_ops(info);
    static const nc_data_shape mnist = {28, 1, 10};
    nc_search_space space;
    nc_space_defaults(&space, &mnist);
    nc_rng rng;
    nc_rng_seed(&rng, seed);
    nc_optimizer_env env = {&space, &rng, 2, NULL, NULL};
    void *opt = NULL;
    static nc_candidate all[EVALS];
    static nc_genotype batch[EVALS];
    int total = 0, n = 0;
    if (ops->create(nc_pipeline_section(pl, "optimizer"), &env, &opt, &err)) {
        fprintf(stderr, "bench_search: %s\n", err.msg);
        exit(1);
    }
    while (total < EVALS && !ops->ask(opt, batch, EVALS, &n, &err) && n > 0) {
        for (int i = 0; i < n; i++)
            evaluate(reg, &batch[i], &all[total + i]);
        if (ops->tell(opt, all + total, n, &err))
            break;
        total += n;
    }
    ops->destroy(opt);
    nc_pipeline_free(pl);
    return found_hv(all, total);
}

static void report(const char *name, const double *v, int n)
{
    double mean = 0, var = 0, lo = v[0], hi = v[0];
    for (int i = 0; i < n; i++) {
        mean += v[i] / n;
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
    }
    for (int i = 0; i < n; i++)
        var += (v[i] - mean) * (v[i] - mean) / (n - 1);
    printf("%s_hv_mean %.4f\n%s_hv_sd %.4f\n%s_hv_min %.4f\n%s_hv_max %.4f\n",
           name, mean, name, sqrt(var), name, lo, name, hi);
}

static void bench_compare(void)
{
    nc_registry *reg = nc_registry_new();
    if (!reg)
        abort();
    /* 10 + 9 x 10 = 100 evaluations each. */
    static const char *const nsga2[] = {"optimizer.population=10",
                                        "optimizer.offspring=10",
                                        "optimizer.generations=9"};
    static const char *const rnd[] = {"optimizer.samples=100",
                                      "optimizer.batch=10"};
    double hv_n[SEEDS], hv_r[SEEDS];
    double t0 = now_s();
    for (int s = 0; s < SEEDS; s++) {
        hv_n[s] = search_once(reg, "nsga2", nsga2, 3, (uint64_t)s + 1);
        hv_r[s] = search_once(reg, "random", rnd, 2, (uint64_t)s + 1);
    }
    printf("compare_evaluations %d\ncompare_seeds %d\n", EVALS, SEEDS);
    report("nsga2", hv_n, SEEDS);
    report("random", hv_r, SEEDS);
    int wins = 0;
    for (int s = 0; s < SEEDS; s++)
        wins += hv_n[s] > hv_r[s];
    printf("nsga2_wins_of_%d %d\ncompare_s %.2f\n", SEEDS, wins, now_s() - t0);
    nc_registry_free(reg);
}

int main(void)
{
    bench_selection();
    bench_hypervolume();
    bench_compare();
    return 0;
}
