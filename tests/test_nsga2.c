/* test_nsga2.c - the nsga2 and random optimizer plugins through the
 * optimizer ABI: whole loops on a cheap synthetic objective (layers vs.
 * parameters from the layer plugins), the hypervolume of the front never
 * falling, determinism, save/restore into a fresh instance, the batch
 * contract, messages. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_test.h"

#include <nascaps/network.h>
#include <nascaps/optimizer.h>
#include <nascaps/pipeline.h>

static const nc_data_shape mnist = {28, 1, 10};
static nc_registry *reg;

static const nc_optimizer_ops *ops_of(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.so", NC_TEST_PLUGIN_DIR, name);
    const nc_plugin_info *info = NULL;
    nc_error err;
    if (nc_registry_find(reg, NC_KIND_OPTIMIZER, path, NULL, &info, &err))
        fail_msg("%s", err.msg);
    const nc_optimizer_ops *ops = nc_plugin_ops(info);
    assert_true(nc_optimizer_can_search(ops));
    return ops;
}

static int setup(void **state)
{
    (void)state;
    reg = nc_registry_new();
    return reg ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nc_registry_free(reg);
    return 0;
}

/* ---- a run: the optimizer, its env, what it was asked ------------------ */

#define MAX_EVALS 2000

typedef struct run {
    const nc_optimizer_ops *ops;
    nc_pipeline *pipeline;
    nc_search_space space;
    nc_rng rng;
    nc_optimizer_env env;
    void *opt;
    int n_seen;
    nc_genotype *seen;        /* every genotype told */
    nc_genotype batch[256];
    nc_candidate cands[256];
} run;

static int seen_fn(void *ctx, const nc_genotype *g)
{
    const run *r = ctx;
    for (int i = 0; i < r->n_seen; i++)
        if (nc_genotype_equal(&r->seen[i], g))
            return 1;
    return 0;
}

/* sets: optimizer overrides ("optimizer.population=4", ...). */
static run *run_new(const char *plugin, uint64_t seed, const char *const *sets,
                    size_t n_sets)
{
    run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->seen = calloc(MAX_EVALS, sizeof *r->seen);
    assert_non_null(r->seen);
    nc_error err;
    assert_int_equal(nc_pipeline_load(NULL, sets, n_sets, &r->pipeline, &err),
                     NC_OK);
    if (nc_space_from_section(nc_pipeline_section(r->pipeline, "search_space"),
                              &mnist, &r->space, &err))
        fail_msg("%s", err.msg);
    nc_rng_seed(&r->rng, seed);
    r->env = (nc_optimizer_env){&r->space, &r->rng, 2, seen_fn, r};
    r->ops = ops_of(plugin);
    if (r->ops->create(nc_pipeline_section(r->pipeline, "optimizer"), &r->env,
                       &r->opt, &err))
        fail_msg("%s", err.msg);
    return r;
}

static void run_free(run *r)
{
    r->ops->destroy(r->opt);
    nc_pipeline_free(r->pipeline);
    free(r->seen);
    free(r);
}

/* Objectives: fewer layer genes, more parameters (10 - log10 params);
 * infeasible above 2 M parameters. Params come from the layer plugins, so
 * every candidate is also checked to build. */
static void evaluate(const nc_genotype *g, nc_candidate *c)
{
    static nc_analysis an;
    nc_error err;
    if (nc_network_analyze(reg, g, "candidate", 3, &an, &err))
        fail_msg("%s", err.msg);
    memset(c, 0, sizeof *c);
    c->genotype = *g;
    c->n_objectives = 2;
    c->objectives[0] = g->n_layers;
    c->objectives[1] = 10 - log10((double)an.params);
    c->violation = an.params > 2000000 ? log10(an.params / 2e6) : 0;
}

/* One ask + tell; returns the batch size (0 when done). */
static int step(run *r)
{
    nc_error err;
    int n = -1;
    if (r->ops->ask(r->opt, r->batch, 256, &n, &err))
        fail_msg("%s", err.msg);
    for (int i = 0; i < n; i++) {
        assert_true(nc_space_admits(&r->space, &r->batch[i]));
        evaluate(&r->batch[i], &r->cands[i]);
    }
    if (n == 0)
        return 0;
    if (r->ops->tell(r->opt, r->cands, n, &err))
        fail_msg("%s", err.msg);
    for (int i = 0; i < n && r->n_seen < MAX_EVALS; i++)
        r->seen[r->n_seen++] = r->batch[i];
    return n;
}

/* Hypervolume of the feasible first front of the population. */
static double front_hv(run *r)
{
    static nc_candidate pop[512];
    int rank[512];
    double crowd[512], pts[512 * 2], ref[2] = {65, 10};
    int n = r->ops->population(r->opt, pop, rank, crowd, 512);
    assert_true(n <= 512);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (rank[i] == 0 && pop[i].violation == 0) {
            pts[2 * k] = pop[i].objectives[0];
            pts[2 * k + 1] = pop[i].objectives[1];
            k++;
        }
    return nc_hypervolume(pts, (size_t)k, 2, ref);
}

static void test_nsga2_loop(void **state)
{
    (void)state;
    /* mu = 20 holds every first front (one point per layer count), so
     * elitism keeps the hypervolume from ever falling. */
    static const char *const sets[] = {
        "optimizer.population=20", "optimizer.offspring=10",
        "optimizer.generations=5",
    };
    run *r = run_new("nsga2", 17, sets, 3);
    assert_int_equal(r->ops->generation(r->opt), 0);
    assert_false(r->ops->done(r->opt));
    assert_int_equal(step(r), 20);
    double hv = front_hv(r), first = hv;
    for (int g = 1; g <= 5; g++) {
        assert_false(r->ops->done(r->opt));
        assert_int_equal(step(r), 10);
        assert_int_equal(r->ops->generation(r->opt), g + 1);
        double now = front_hv(r);
        assert_true(now >= hv - 1e-12);
        hv = now;
        /* Parents: mu of them, ranks and crowding consistent. */
        nc_candidate pop[32];
        int rank[32];
        double crowd[32];
        assert_int_equal(r->ops->population(r->opt, pop, rank, crowd, 32), 20);
    }
    assert_true(hv > first);
    assert_true(r->ops->done(r->opt));
    int n = -1;
    nc_error err;
    assert_int_equal(r->ops->ask(r->opt, r->batch, 256, &n, &err), NC_OK);
    assert_int_equal(n, 0);
    /* 70 evaluations, all distinct (the space is large). */
    assert_int_equal(r->n_seen, 70);
    for (int i = 0; i < r->n_seen; i++)
        for (int j = 0; j < i; j++)
            assert_false(nc_genotype_equal(&r->seen[i], &r->seen[j]));
    run_free(r);
}

static void assert_same_batches(run *a, run *b)
{
    nc_error err;
    int na = -1, nb = -2;
    assert_int_equal(a->ops->ask(a->opt, a->batch, 256, &na, &err), NC_OK);
    assert_int_equal(b->ops->ask(b->opt, b->batch, 256, &nb, &err), NC_OK);
    assert_int_equal(na, nb);
    for (int i = 0; i < na; i++)
        assert_true(nc_genotype_equal(&a->batch[i], &b->batch[i]));
}

static void save_restore(const char *plugin, const char *const *sets,
                         size_t n_sets, int steps_before)
{
    run *a = run_new(plugin, 5, sets, n_sets);
    for (int s = 0; s < steps_before; s++)
        step(a);
    nc_error err;
    char *text = NULL;
    assert_int_equal(a->ops->save(a->opt, &text, &err), NC_OK);
    /* A fresh instance with another rng state: restore sets it. */
    run *b = run_new(plugin, 999, sets, n_sets);
    b->n_seen = a->n_seen;
    memcpy(b->seen, a->seen, (size_t)a->n_seen * sizeof *a->seen);
    if (b->ops->restore(b->opt, text, &err))
        fail_msg("%s", err.msg);
    assert_memory_equal(&a->rng, &b->rng, sizeof a->rng);
    assert_int_equal(b->ops->generation(b->opt), a->ops->generation(a->opt));
    char *again = NULL;
    assert_int_equal(b->ops->save(b->opt, &again, &err), NC_OK);
    assert_string_equal(text, again);
    free(again);
    free(text);
    /* The next asks and the populations agree. */
    for (int s = 0; s < 3; s++) {
        assert_same_batches(a, b);
        step(a);
        step(b);
        nc_candidate pa[64], pb[64];
        int ra[64], rb[64];
        double ca[64], cb[64];
        int n = a->ops->population(a->opt, pa, ra, ca, 64);
        assert_int_equal(b->ops->population(b->opt, pb, rb, cb, 64), n);
        for (int i = 0; i < n && i < 64; i++) {
            assert_true(nc_genotype_equal(&pa[i].genotype, &pb[i].genotype));
            assert_int_equal(ra[i], rb[i]);
        }
    }
    run_free(a);
    run_free(b);
}

static void test_nsga2_resume(void **state)
{
    (void)state;
    static const char *const sets[] = {
        "optimizer.population=8", "optimizer.offspring=6",
    };
    save_restore("nsga2", sets, 2, 0);
    save_restore("nsga2", sets, 1, 1);   /* population 8, offspring 10 */
    save_restore("nsga2", sets, 2, 3);

    /* Saved between ask and tell: the same batch again. */
    run *a = run_new("nsga2", 8, sets, 2);
    step(a);
    nc_error err;
    int n = 0;
    assert_int_equal(a->ops->ask(a->opt, a->batch, 256, &n, &err), NC_OK);
    nc_genotype first[6];
    assert_int_equal(n, 6);
    memcpy(first, a->batch, sizeof first);
    assert_int_equal(a->ops->ask(a->opt, a->batch, 256, &n, &err), NC_OK);
    for (int i = 0; i < 6; i++)   /* asking twice: the same batch */
        assert_true(nc_genotype_equal(&first[i], &a->batch[i]));
    char *text = NULL;
    assert_int_equal(a->ops->save(a->opt, &text, &err), NC_OK);
    run *b = run_new("nsga2", 1, sets, 2);
    assert_int_equal(b->ops->restore(b->opt, text, &err), NC_OK);
    assert_int_equal(b->ops->ask(b->opt, b->batch, 256, &n, &err), NC_OK);
    assert_int_equal(n, 6);
    for (int i = 0; i < 6; i++)
        assert_true(nc_genotype_equal(&first[i], &b->batch[i]));
    free(text);
    run_free(a);
    run_free(b);
}

static void test_determinism(void **state)
{
    (void)state;
    static const char *const sets[] = {"optimizer.generations=3"};
    run *a = run_new("nsga2", 77, sets, 1), *b = run_new("nsga2", 77, sets, 1);
    while (step(a))
        step(b);
    assert_int_equal(a->n_seen, 40);
    assert_int_equal(b->n_seen, 40);
    for (int i = 0; i < a->n_seen; i++)
        assert_memory_equal(&a->seen[i], &b->seen[i], sizeof a->seen[i]);
    run *c = run_new("nsga2", 78, sets, 1);
    step(c);
    int same = 0;
    for (int i = 0; i < 10; i++)
        same += nc_genotype_equal(&a->seen[i], &c->seen[i]);
    assert_true(same < 3);
    run_free(a);
    run_free(b);
    run_free(c);
}

/* Raising generations on resume continues the search. */
static void test_raise_generations(void **state)
{
    (void)state;
    static const char *const one[] = {"optimizer.generations=1"};
    static const char *const three[] = {"optimizer.generations=3"};
    run *a = run_new("nsga2", 3, one, 1);
    assert_int_equal(step(a), 10);
    assert_int_equal(step(a), 10);
    assert_true(a->ops->done(a->opt));
    assert_int_equal(step(a), 0);
    nc_error err;
    char *text = NULL;
    assert_int_equal(a->ops->save(a->opt, &text, &err), NC_OK);
    run *b = run_new("nsga2", 3, three, 1);
    assert_int_equal(b->ops->restore(b->opt, text, &err), NC_OK);
    assert_false(b->ops->done(b->opt));
    assert_int_equal(step(b), 10);
    assert_int_equal(step(b), 10);
    assert_true(b->ops->done(b->opt));
    assert_int_equal(b->ops->generation(b->opt), 4);
    free(text);
    run_free(a);
    run_free(b);
}

static void test_contract_messages(void **state)
{
    (void)state;
    run *r = run_new("nsga2", 1, NULL, 0);
    nc_error err;
    int n = -1;
    /* Size query, then a cap too small. */
    assert_int_equal(r->ops->ask(r->opt, NULL, 0, &n, &err), NC_OK);
    assert_int_equal(n, 10);
    assert_int_equal(r->ops->ask(r->opt, r->batch, 5, &n, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg,
                        "nsga2: ask: the batch holds 10 genotypes but cap is 5");
    assert_int_equal(r->ops->ask(r->opt, r->batch, 10, &n, &err), NC_OK);
    for (int i = 0; i < 10; i++)
        evaluate(&r->batch[i], &r->cands[i]);
    assert_int_equal(r->ops->tell(r->opt, r->cands, 3, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "nsga2: tell of 3 candidates for a batch of 10");
    nc_candidate swapped[10];
    memcpy(swapped, r->cands, sizeof swapped);
    swapped[4] = r->cands[5];
    assert_int_equal(r->ops->tell(r->opt, swapped, 10, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "nsga2: tell: candidate 5 is not the genotype "
                                 "asked at that position");
    swapped[4] = r->cands[4];
    swapped[2].n_objectives = 3;
    assert_int_equal(r->ops->tell(r->opt, swapped, 10, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg,
                        "nsga2: tell: candidate 3 has 3 objectives, expected 2");
    assert_int_equal(r->ops->tell(r->opt, r->cands, 10, &err), NC_OK);
    assert_int_equal(r->ops->tell(r->opt, r->cands, 10, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "nsga2: tell without a batch asked");

    assert_int_equal(r->ops->restore(r->opt, "{\"optimizer\":", &err),
                     NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "nsga2: saved state: not JSON at byte"));
    run *q = run_new("random", 1, NULL, 0);
    char *text = NULL;
    assert_int_equal(q->ops->save(q->opt, &text, &err), NC_OK);
    assert_int_equal(r->ops->restore(r->opt, text, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg,
                        "nsga2: saved state: written by optimizer 'random'");
    free(text);
    run_free(q);
    run_free(r);

    /* A bad setting is refused by create in the settings form. */
    nc_pipeline *p = NULL;
    const char *bad[] = {"optimizer.parent_selection=\"best\""};
    assert_int_equal(nc_pipeline_load(NULL, bad, 1, &p, &err), NC_OK);
    nc_search_space sp;
    nc_space_defaults(&sp, &mnist);
    nc_rng rng;
    nc_rng_seed(&rng, 1);
    nc_optimizer_env env = {&sp, &rng, 2, NULL, NULL};
    void *opt = NULL;
    const nc_optimizer_ops *ops = ops_of("nsga2");
    assert_int_equal(ops->create(nc_pipeline_section(p, "optimizer"), &env, &opt,
                                 &err), NC_ERR_INPUT);
    assert_null(opt);
    assert_string_equal(err.msg,
                        "--set optimizer.parent_selection: setting "
                        "'optimizer.parent_selection': expected one of "
                        "\"tournament\", \"uniform\", got \"best\"");
    nc_pipeline_free(p);
}

/* planned_tells (ABI 1.3): nsga2 plans generations + 1 tells, random
 * ceil(samples / batch); a table that ends before the entry (as a 1.2
 * plugin's does) still searches and reports -1 (no ETA). */
static void test_planned_tells(void **state)
{
    (void)state;
    nc_error err;
    nc_search_space sp;
    nc_space_defaults(&sp, &mnist);
    nc_rng rng;
    nc_rng_seed(&rng, 1);
    nc_optimizer_env env = {&sp, &rng, 2, NULL, NULL};
    const char *names[2] = {"nsga2", "random"};
    const char *sets[2] = {"optimizer.generations=7", "optimizer.samples=25"};
    const int64_t want[2] = {8, 3};   /* random: batch 10 -> ceil(25 / 10) */
    for (int k = 0; k < 2; k++) {
        nc_pipeline *p = NULL;
        assert_int_equal(nc_pipeline_load(NULL, &sets[k], 1, &p, &err), NC_OK);
        const nc_optimizer_ops *ops = ops_of(names[k]);
        void *opt = NULL;
        assert_int_equal(ops->create(nc_pipeline_section(p, "optimizer"), &env, &opt, &err),
                         NC_OK);
        assert_int_equal(nc_optimizer_planned_tells(ops, opt), want[k]);
        nc_optimizer_ops old = *ops;
        old.size = (uint32_t)offsetof(nc_optimizer_ops, planned_tells);
        assert_true(nc_optimizer_can_search(&old));
        assert_int_equal(nc_optimizer_planned_tells(&old, opt), -1);
        ops->destroy(opt);
        nc_pipeline_free(p);
    }
}

/* Uniform parent choice; every candidate infeasible; non-finite
 * objectives through save and restore. */
static void test_uniform_infeasible(void **state)
{
    (void)state;
    static const char *const sets[] = {"optimizer.parent_selection=\"uniform\"",
                                       "optimizer.generations=2"};
    run *r = run_new("nsga2", 4, sets, 2);
    nc_error err;
    int n, gen = 0;
    while (r->ops->ask(r->opt, r->batch, 256, &n, &err) == NC_OK && n > 0) {
        for (int i = 0; i < n; i++) {
            evaluate(&r->batch[i], &r->cands[i]);
            r->cands[i].violation = 1 + i % 3;
            r->cands[i].objectives[1] = i % 2 ? NAN : INFINITY;
        }
        assert_int_equal(r->ops->tell(r->opt, r->cands, n, &err), NC_OK);
        gen++;
    }
    assert_int_equal(gen, 3);
    char *text = NULL;
    assert_int_equal(r->ops->save(r->opt, &text, &err), NC_OK);
    assert_non_null(strstr(text, "\"inf\""));
    assert_non_null(strstr(text, "\"nan\""));
    run *b = run_new("nsga2", 4, sets, 2);
    assert_int_equal(b->ops->restore(b->opt, text, &err), NC_OK);
    nc_candidate pop[10];
    int rank[10];
    double crowd[10];
    assert_int_equal(b->ops->population(b->opt, pop, rank, crowd, 10), 10);
    for (int i = 0; i < 10; i++) {
        assert_true(isnan(pop[i].objectives[1]) || isinf(pop[i].objectives[1]));
        /* Survival keeps the smallest violations. */
        assert_int_equal((int)pop[i].violation, 1);
    }
    free(text);
    run_free(r);
    run_free(b);
}

/* A space of a handful of genotypes: redraws are bounded, duplicates are
 * then accepted, nothing hangs. */
static void test_tiny_space(void **state)
{
    (void)state;
    static const char *const sets[] = {
        "search_space.deepcaps=false", "search_space.resize=[1]",
        "search_space.conv_layers=[1,1]", "search_space.caps_layers=[1,1]",
        "search_space.channels_log2=[2,2]", "search_space.class_dim_log2=[2,2]",
        "search_space.kernels=[9]", "search_space.strides=[1]",
        "optimizer.population=6", "optimizer.generations=2",
    };
    run *r = run_new("nsga2", 1, sets, 10);
    while (step(r))
        ;
    assert_int_equal(r->n_seen, 26);
    run_free(r);
}

static void test_random_search(void **state)
{
    (void)state;
    static const char *const sets[] = {"optimizer.samples=25",
                                       "optimizer.batch=10"};
    run *r = run_new("random", 12, sets, 2);
    assert_int_equal(step(r), 10);
    assert_int_equal(step(r), 10);
    assert_false(r->ops->done(r->opt));
    assert_int_equal(step(r), 5);
    assert_true(r->ops->done(r->opt));
    assert_int_equal(step(r), 0);
    assert_int_equal(r->ops->generation(r->opt), 3);
    for (int i = 0; i < r->n_seen; i++)
        for (int j = 0; j < i; j++)
            assert_false(nc_genotype_equal(&r->seen[i], &r->seen[j]));
    /* population(): exactly the non-dominated told candidates. */
    nc_candidate all[25], pop[25];
    nc_point pts[25];
    int rank[25], prank[25];
    double crowd[25];
    for (int i = 0; i < 25; i++)
        evaluate(&r->seen[i], &all[i]);
    nc_candidate_points(all, 25, pts);
    assert_true(nc_nondominated_sort(pts, 25, 2, rank) >= 1);
    int n = r->ops->population(r->opt, pop, prank, crowd, 25), want = 0;
    for (int i = 0; i < 25; i++)
        if (rank[i] == 0) {
            want++;
            int found = 0;
            for (int j = 0; j < n; j++)
                found |= nc_genotype_equal(&pop[j].genotype, &all[i].genotype);
            assert_true(found);
        }
    assert_int_equal(n, want);
    for (int j = 0; j < n; j++)
        assert_int_equal(prank[j], 0);
    run_free(r);

    save_restore("random", sets, 2, 1);
    static const char *const more[] = {"optimizer.samples=100",
                                       "optimizer.batch=7"};
    save_restore("random", more, 2, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planned_tells),
        cmocka_unit_test(test_nsga2_loop),
        cmocka_unit_test(test_nsga2_resume),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_raise_generations),
        cmocka_unit_test(test_contract_messages),
        cmocka_unit_test(test_uniform_infeasible),
        cmocka_unit_test(test_tiny_space),
        cmocka_unit_test(test_random_search),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
