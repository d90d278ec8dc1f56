/* test_pareto.c - the multi-objective utilities against hand-worked
 * examples (Deb et al. 2002) and the hypervolume against hand values and
 * inclusion-exclusion. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nc_test.h"

#include <nascaps/search.h>

#define P(o, v) ((nc_point){(o), (v)})
/* cmocka 1.1's float assertion works in single precision. */
#define assert_double_equal(got, want, eps)                                \
    do {                                                                   \
        double g_ = (got), w_ = (want);                                    \
        if (!(fabs(g_ - w_) <= (eps)))                                     \
            fail_msg("%s = %.17g, expected %.17g", #got, g_, w_);          \
    } while (0)

static void test_constrained_domination(void **state)
{
    (void)state;
    double a[] = {1, 1}, b[] = {2, 2}, c[] = {1, 3}, nan2[] = {NAN, 0};
    nc_point fa = P(a, 0), fb = P(b, 0), fc = P(c, 0);
    assert_true(nc_dominates(&fa, &fb, 2));
    assert_false(nc_dominates(&fb, &fa, 2));
    assert_true(nc_dominates(&fa, &fc, 2));   /* equal in one, better in one */
    assert_false(nc_dominates(&fb, &fc, 2));  /* trade-off */
    assert_false(nc_dominates(&fc, &fb, 2));
    assert_false(nc_dominates(&fa, &fa, 2));  /* not itself */
    /* Feasible beats infeasible whatever the objectives. */
    nc_point ia = P(a, 0.5), ib1 = P(b, 0.5), ib2 = P(b, 2);
    assert_true(nc_dominates(&fb, &ia, 2));
    assert_false(nc_dominates(&ia, &fb, 2));
    /* Infeasible: the smaller violation wins; equal violations: neither. */
    assert_true(nc_dominates(&ia, &ib2, 2));
    assert_true(nc_dominates(&ib1, &ib2, 2));
    assert_false(nc_dominates(&ib2, &ia, 2));
    assert_false(nc_dominates(&ia, &ib1, 2));
    assert_false(nc_dominates(&ib1, &ia, 2));
    /* NaN counts as +inf: the NaN point is dominated. */
    double zero[] = {0, 0};
    nc_point fn = P(nan2, 0), fz = P(zero, 0), nv = P(zero, NAN);
    assert_true(nc_dominates(&fz, &fn, 2));
    assert_false(nc_dominates(&fn, &fz, 2));
    assert_true(nc_dominates(&fa, &nv, 2));   /* NaN violation: infeasible */
}

static void test_sort_known_fronts(void **state)
{
    (void)state;
    static const double o[][2] = {
        {1, 5}, {2, 3}, {4, 1}, {3, 4}, {5, 5}, {2, 3}, {4, 2},
        {0, 0}, {0, 0}, {9, 9},
    };
    static const double viol[] = {0, 0, 0, 0, 0, 0, 0, 1, 2, 1};
    static const int want[] = {0, 0, 0, 1, 2, 0, 1, 3, 4, 3};
    nc_point pts[10];
    for (int i = 0; i < 10; i++)
        pts[i] = P(o[i], viol[i]);
    int rank[10];
    assert_int_equal(nc_nondominated_sort(pts, 10, 2, rank), 5);
    assert_memory_equal(rank, want, sizeof want);
    assert_int_equal(nc_nondominated_sort(pts, 0, 2, rank), 0);

    /* Every rank-r point is dominated by some rank r-1 point and by none of
     * its own front: the definition, on random 3-D points. */
    nc_rng rng;
    nc_rng_seed(&rng, 7);
    enum { N = 200 };
    static double r3[N][3];
    nc_point rp[N];
    int rr[N];
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 3; k++)
            r3[i][k] = (double)nc_rng_range(&rng, 0, 9);
        rp[i] = P(r3[i], 0);
    }
    int fronts = nc_nondominated_sort(rp, N, 3, rr);
    assert_true(fronts > 2);
    for (int i = 0; i < N; i++) {
        int by_prev = rr[i] == 0;
        for (int j = 0; j < N; j++) {
            if (rr[j] == rr[i])
                assert_false(nc_dominates(&rp[j], &rp[i], 3));
            if (rr[j] == rr[i] - 1 && nc_dominates(&rp[j], &rp[i], 3))
                by_prev = 1;
        }
        assert_true(by_prev);
    }
}

static void test_crowding(void **state)
{
    (void)state;
    static const double o[][2] = {{0, 10}, {2, 6}, {5, 3}, {10, 0}};
    nc_point pts[4];
    for (int i = 0; i < 4; i++)
        pts[i] = P(o[i], 0);
    size_t idx[4] = {0, 1, 2, 3};
    double d[4];
    nc_crowding(pts, idx, 4, 2, d);
    assert_true(isinf(d[0]) && d[0] > 0);
    assert_true(isinf(d[3]) && d[3] > 0);
    /* b: 5/10 + 7/10; c: 8/10 + 6/10 */
    assert_double_equal(d[1], 1.2, 1e-12);
    assert_double_equal(d[2], 1.4, 1e-12);

    /* A listed subset in another order: dist follows idx. */
    size_t sub[3] = {2, 0, 3};
    nc_crowding(pts, sub, 3, 2, d);
    assert_double_equal(d[0], 2.0, 1e-12);   /* (10-0)/10 + (10-0)/10 */
    assert_true(isinf(d[1]) && isinf(d[2]));

    /* Zero range in one objective contributes nothing. */
    static const double z[][2] = {{0, 5}, {1, 5}, {3, 5}};
    nc_point zp[3];
    for (int i = 0; i < 3; i++)
        zp[i] = P(z[i], 0);
    nc_crowding(zp, idx, 3, 2, d);
    assert_double_equal(d[1], 1.0, 1e-12);
    assert_true(isinf(d[0]) && isinf(d[2]));

    /* One or two members: boundaries only. */
    nc_crowding(pts, idx, 2, 2, d);
    assert_true(isinf(d[0]) && isinf(d[1]));
    nc_crowding(pts, idx, 1, 2, d);
    assert_true(isinf(d[0]));
}

static void test_tournament(void **state)
{
    (void)state;
    nc_rng rng;
    nc_rng_seed(&rng, 3);
    int rank2[] = {1, 0};
    double crowd2[] = {INFINITY, 0};
    for (int i = 0; i < 100; i++)   /* rank first, whatever the crowding */
        assert_int_equal(nc_tournament(rank2, crowd2, 2, &rng), 1);
    int same[] = {2, 2};
    double crowd[] = {0.5, 0.7};
    for (int i = 0; i < 100; i++)
        assert_int_equal(nc_tournament(same, crowd, 2, &rng), 1);
    double tie[] = {1, 1};
    int wins0 = 0;
    for (int i = 0; i < 2000; i++)
        wins0 += nc_tournament(same, tie, 2, &rng) == 0;
    assert_in_range(wins0, 900, 1100);   /* a fair coin */
    /* Three ranks: the best wins 2/3 of the time, the worst never. */
    int r3[] = {0, 1, 2};
    double c3[] = {0, 0, 0};
    int wins[3] = {0, 0, 0};
    for (int i = 0; i < 3000; i++)
        wins[nc_tournament(r3, c3, 3, &rng)]++;
    assert_in_range(wins[0], 1900, 2100);
    assert_in_range(wins[1], 900, 1100);
    assert_int_equal(wins[2], 0);
    int one[] = {0};
    assert_int_equal(nc_tournament(one, c3, 1, &rng), 0);
}

static void test_survival(void **state)
{
    (void)state;
    /* Front 0: a b c d; front 1: e f g h (crowding inf, 1.2, 1.4, inf). */
    static const double o[][2] = {
        {0, 10}, {2, 6}, {5, 3}, {10, 0},
        {1, 11}, {3, 7}, {6, 4}, {11, 1},
    };
    nc_point pts[8];
    for (int i = 0; i < 8; i++)
        pts[i] = P(o[i], 0);
    nc_rng rng;
    nc_rng_seed(&rng, 11);
    size_t ch[8];
    assert_int_equal(nc_survival_select(pts, 8, 2, 6, &rng, ch), 6);
    static const size_t want6[] = {0, 1, 2, 3, 4, 7};
    assert_memory_equal(ch, want6, sizeof want6);
    assert_int_equal(nc_survival_select(pts, 8, 2, 7, &rng, ch), 7);
    static const size_t want7[] = {0, 1, 2, 3, 4, 6, 7};
    assert_memory_equal(ch, want7, sizeof want7);
    assert_int_equal(nc_survival_select(pts, 8, 2, 4, &rng, ch), 4);
    static const size_t want4[] = {0, 1, 2, 3};
    assert_memory_equal(ch, want4, sizeof want4);
    /* keep 5: e or h (both infinite), the rng decides, both happen. */
    int got_e = 0, got_h = 0;
    for (int s = 0; s < 40; s++) {
        assert_int_equal(nc_survival_select(pts, 8, 2, 5, &rng, ch), 5);
        assert_memory_equal(ch, want4, sizeof want4);
        got_e += ch[4] == 4;
        got_h += ch[4] == 7;
    }
    assert_int_equal(got_e + got_h, 40);
    assert_true(got_e > 0 && got_h > 0);
    assert_int_equal(nc_survival_select(pts, 8, 2, 20, &rng, ch), 8);

    /* Infeasible points come last, the smaller violation first. */
    double z[] = {0, 0};
    nc_point mixed[4] = {P(z, 3), P(o[7], 0), P(z, 1), P(z, 2)};
    assert_int_equal(nc_survival_select(mixed, 4, 2, 2, &rng, ch), 2);
    assert_int_equal(ch[0], 1);
    assert_int_equal(ch[1], 2);
}

/* ---- hypervolume ------------------------------------------------------- */

static void test_hypervolume_hand(void **state)
{
    (void)state;
    double p2[] = {1, 3, 2, 2, 3, 1}, r2[] = {4, 4};
    assert_double_equal(nc_hypervolume(p2, 3, 2, r2), 6.0, 1e-12);
    double one3[] = {1, 1, 1}, r3[] = {2, 3, 4};
    assert_double_equal(nc_hypervolume(one3, 1, 3, r3), 6.0, 1e-12);
    /* Two boxes of 4 and 2 overlapping in 1. */
    double two3[] = {0, 0, 1, 1, 1, 0}, r3b[] = {2, 2, 2};
    assert_double_equal(nc_hypervolume(two3, 2, 3, r3b), 5.0, 1e-12);
    /* Dominated and duplicate points change nothing; points not strictly
     * inside the reference add nothing. */
    double more[] = {0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1, 2, 0, 0, 0, 5, 0};
    assert_double_equal(nc_hypervolume(more, 6, 3, r3b), 5.0, 1e-12);
    /* The DTLZ-like cube corner: 1-D and 4-D. */
    double d1[] = {3, 1, 2}, r1[] = {5};
    assert_double_equal(nc_hypervolume(d1, 3, 1, r1), 4.0, 1e-12);
    double d4[] = {0, 0, 0, 0}, r4[] = {1, 2, 3, 4};
    assert_double_equal(nc_hypervolume(d4, 1, 4, r4), 24.0, 1e-12);
    assert_double_equal(nc_hypervolume(NULL, 0, 2, r2), 0.0, 0);
    assert_true(nc_hypervolume(p2, 3, 0, r2) < 0);
    assert_true(nc_hypervolume(p2, 3, 9, r2) < 0);
    double rinf[] = {INFINITY, 1};
    assert_true(nc_hypervolume(p2, 3, 2, rinf) < 0);
}

/* Inclusion-exclusion over every non-empty subset. */
static double hv_brute(const double *p, int n, int m, const double *ref)
{
    double total = 0;
    for (unsigned s = 1; s < (1u << n); s++) {
        double vol = 1;
        int bits = 0;
        for (int k = 0; k < m; k++) {
            double hi = -INFINITY;
            for (int i = 0; i < n; i++)
                if (s & (1u << i))
                    hi = fmax(hi, p[i * m + k]);
            vol *= fmax(ref[k] - hi, 0);
        }
        for (int i = 0; i < n; i++)
            bits += (s >> i) & 1;
        total += bits % 2 ? vol : -vol;
    }
    return total;
}

static void test_hypervolume_brute(void **state)
{
    (void)state;
    nc_rng rng;
    nc_rng_seed(&rng, 2024);
    double p[10 * 6], ref[6];
    for (int m = 1; m <= 6; m++)
        for (int trial = 0; trial < 60; trial++) {
            int n = (int)nc_rng_range(&rng, 1, 10);
            for (int k = 0; k < m; k++)
                ref[k] = 1.0;
            for (int i = 0; i < n * m; i++) {
                /* Coarse values make ties and duplicates common; a few fall
                 * outside the reference. */
                p[i] = trial % 2 ? (double)nc_rng_range(&rng, 0, 10) / 10
                                 : nc_rng_uniform(&rng) * 1.05;
            }
            double want = hv_brute(p, n, m, ref);
            double got = nc_hypervolume(p, (size_t)n, m, ref);
            assert_double_equal(got, want, 1e-12 + 1e-9 * fabs(want));
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constrained_domination),
        cmocka_unit_test(test_sort_known_fronts),
        cmocka_unit_test(test_crowding),
        cmocka_unit_test(test_tournament),
        cmocka_unit_test(test_survival),
        cmocka_unit_test(test_hypervolume_hand),
        cmocka_unit_test(test_hypervolume_brute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
