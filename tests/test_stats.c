/* test_stats.c - the statistics of `nascaps correlate` against values
 * worked by hand: Pearson, Spearman with tied ranks, Fisher's interval,
 * the median, and the undefined cases (constant series, n < 4, n = 0). */
#include <math.h>
#include <stdlib.h>

#include "nc_test.h"
#include "nascaps/stats.h"

#define TOL 1e-12

/* cmocka 1.1 has no assert_double_equal */
#define assert_double_equal(a, b, tol) near((a), (b), (tol), #a, __LINE__)

static void near(double a, double b, double tol, const char *what, int line)
{
    if (!(fabs(a - b) <= tol))
        fail_msg("line %d: %s = %.17g, expected %.17g (tolerance %g)", line, what, a, b, tol);
}

static void test_pearson(void **state)
{
    (void)state;
    /* dx = -2 -1 0 1 2, dy = -2 0 1 0 1: sxy = 6, sxx = 10, syy = 6 */
    const double x[] = {1, 2, 3, 4, 5}, y[] = {2, 4, 5, 4, 5};
    assert_double_equal(nc_pearson(x, y, 5), 6.0 / sqrt(60.0), TOL);
    assert_double_equal(nc_pearson(y, x, 5), 6.0 / sqrt(60.0), TOL);
    /* exact lines: +1 and -1 */
    const double a[] = {0.1, 0.2, 0.3, 0.4}, up[] = {0.5, 0.6, 0.7, 0.8},
                 down[] = {0.8, 0.6, 0.4, 0.2};
    assert_double_equal(nc_pearson(a, up, 4), 1.0, TOL);
    assert_double_equal(nc_pearson(a, down, 4), -1.0, TOL);
    assert_true(nc_pearson(a, up, 4) <= 1.0);
    /* accuracies close together keep their digits: the same pattern
     * shifted by 0.9 gives the same r */
    double xs[5], ys[5];
    for (int i = 0; i < 5; i++) {
        xs[i] = 0.9 + x[i] * 1e-4;
        ys[i] = 0.9 + y[i] * 1e-4;
    }
    assert_double_equal(nc_pearson(xs, ys, 5), 6.0 / sqrt(60.0), 1e-9);
}

static void test_pearson_undefined(void **state)
{
    (void)state;
    const double x[] = {1, 2, 3}, c[] = {0.1, 0.1, 0.1}, bad[] = {1, NAN, 3};
    assert_true(isnan(nc_pearson(x, c, 3)));     /* constant accuracies */
    assert_true(isnan(nc_pearson(c, x, 3)));
    assert_true(isnan(nc_pearson(x, x, 1)));     /* one pair */
    assert_true(isnan(nc_pearson(x, x, 0)));
    assert_true(isnan(nc_pearson(x, bad, 3)));
    assert_true(isnan(nc_spearman(x, c, 3)));
    assert_true(isnan(nc_spearman(x, bad, 3)));
    assert_true(isnan(nc_spearman(x, x, 1)));
}

static void test_ranks_and_spearman(void **state)
{
    (void)state;
    /* 2 4 5 4 5: the two 4s share ranks 2 and 3, the two 5s 4 and 5 */
    const double y[] = {2, 4, 5, 4, 5};
    size_t scratch[10];
    double r[5];
    nc_ranks(y, 5, scratch, r);
    const double want[] = {1, 2.5, 4.5, 2.5, 4.5};
    for (int i = 0; i < 5; i++)
        assert_double_equal(r[i], want[i], 0);
    /* three-way tie and a descending order */
    const double z[] = {3, 1, 3, 3, 0};
    nc_ranks(z, 5, scratch, r);
    const double wz[] = {4, 2, 4, 4, 1};
    for (int i = 0; i < 5; i++)
        assert_double_equal(r[i], wz[i], 0);

    /* rho = Pearson of (1..5) and (1, 2.5, 4.5, 2.5, 4.5): dx = -2 -1 0 1 2,
     * dy = -2 -0.5 1.5 -0.5 1.5, sxy = 7, sxx = 10, syy = 9 */
    const double x[] = {1, 2, 3, 4, 5};
    assert_double_equal(nc_spearman(x, y, 5), 7.0 / sqrt(90.0), TOL);
    /* monotone but not linear: rho 1, r below 1 */
    const double sq[] = {1, 4, 9, 16, 25};
    assert_double_equal(nc_spearman(x, sq, 5), 1.0, TOL);
    assert_true(nc_pearson(x, sq, 5) < 0.99);
}

static void test_fisher_ci(void **state)
{
    (void)state;
    double lo, hi;
    /* r = 6/sqrt(60) = 0.774597, n = 5: z = atanh(r) = 1.031719,
     * se = 1/sqrt(2), z -+ 1.96 se = -0.354206, 2.417643 */
    nc_fisher_ci(6.0 / sqrt(60.0), 5, 1.96, &lo, &hi);
    assert_double_equal(lo, -0.34010455638830056, 1e-12);
    assert_double_equal(hi, 0.9842365517309588, 1e-12);
    assert_double_equal(lo, tanh(atanh(6.0 / sqrt(60.0)) - 1.96 / sqrt(2.0)), 1e-15);
    /* symmetric in z: r = 0 gives +-tanh(1.96 / sqrt(n - 3)) */
    nc_fisher_ci(0.0, 28, 1.96, &lo, &hi);
    assert_double_equal(hi, tanh(1.96 / 5.0), TOL);
    assert_double_equal(lo, -tanh(1.96 / 5.0), TOL);
    /* n < 4: no interval; r = 1: [1, 1]; r undefined: none */
    nc_fisher_ci(0.5, 3, 1.96, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
    nc_fisher_ci(1.0, 10, 1.96, &lo, &hi);
    assert_double_equal(lo, 1.0, 0);
    assert_double_equal(hi, 1.0, 0);
    nc_fisher_ci(NAN, 10, 1.96, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
}

static void test_median(void **state)
{
    (void)state;
    double odd[] = {3, 1, 2}, even[] = {4, 1, 3, 2}, one[] = {7.5};
    assert_double_equal(nc_median(odd, 3), 2, 0);
    assert_double_equal(nc_median(even, 4), 2.5, 0);
    assert_double_equal(nc_median(one, 1), 7.5, 0);
    assert_true(isnan(nc_median(one, 0)));
    /* cumulative seconds of 4 candidates after 2 epochs: 10+12, 9+9, 30+31, 11+12 */
    double cum[] = {22, 18, 61, 23};
    assert_double_equal(nc_median(cum, 4), 22.5, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pearson),
        cmocka_unit_test(test_pearson_undefined),
        cmocka_unit_test(test_ranks_and_spearman),
        cmocka_unit_test(test_fisher_ci),
        cmocka_unit_test(test_median),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
