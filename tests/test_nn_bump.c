/* test_nn_bump.c - the bump allocator of layer blocks and workspaces
 * (nc_nn_align_floats, nc_nn_take): alignment, sizes, empty regions and
 * refusal of every size_t overflow. Expected offsets are worked out by hand
 * from the rule in nascaps/nn.h (regions start on multiples of 16 floats). */
#include <stdint.h>
#include <stdlib.h>

#include "nc_test.h"
#include "nascaps/nn.h"

static void test_alignment_is_64_bytes(void **state)
{
    (void)state;
    assert_int_equal(NC_NN_ALIGN_FLOATS, 16);
    assert_int_equal(NC_NN_ALIGN_FLOATS * sizeof(float), 64);
}

static void test_align_rounds_up(void **state)
{
    (void)state;
    assert_int_equal(nc_nn_align_floats(0), 0);
    assert_int_equal(nc_nn_align_floats(1), 16);
    assert_int_equal(nc_nn_align_floats(15), 16);
    assert_int_equal(nc_nn_align_floats(16), 16);
    assert_int_equal(nc_nn_align_floats(17), 32);
    assert_int_equal(nc_nn_align_floats(1000), 1008);
    /* the largest multiple of 16 in size_t is representable */
    size_t top16 = SIZE_MAX - 15;
    assert_true(nc_nn_align_floats(top16) == top16);
    assert_true(nc_nn_align_floats(top16 - 1) == top16);
    /* past it, rounding up overflows: 0 */
    assert_true(nc_nn_align_floats(top16 + 1) == 0);
    assert_true(nc_nn_align_floats(SIZE_MAX) == 0);
}

static void test_take_lays_out_regions(void **state)
{
    (void)state;
    /* 1 -> [0,16), 16 -> [16,32), 17 -> [32,64), 0 -> at 64, empty,
     * 33 -> [64,112) */
    const size_t counts[] = {1, 16, 17, 0, 33};
    const size_t want_off[] = {0, 16, 32, 64, 64};
    size_t top = 0;
    for (int i = 0; i < 5; i++) {
        size_t off = 12345;
        assert_int_equal(nc_nn_take(&top, counts[i], &off), 1);
        assert_true(off == want_off[i]);
        assert_true(off % NC_NN_ALIGN_FLOATS == 0);
    }
    assert_true(top == 112);
}

static void test_take_from_a_scratch_top(void **state)
{
    (void)state;
    /* a workspace whose head is a hand-reserved scratch of 48 floats */
    size_t top = 48, a, b;
    assert_int_equal(nc_nn_take(&top, 5, &a), 1);
    assert_int_equal(nc_nn_take(&top, 100, &b), 1);
    assert_true(a == 48 && b == 64 && top == 176);
}

static void test_regions_are_usable(void **state)
{
    (void)state;
    /* write every region of a laid-out block through its offset: ASan
     * catches a region past the end, distinct fill values an overlap */
    const size_t counts[] = {3, 40, 1, 16, 7};
    size_t off[5], top = 0;
    for (int i = 0; i < 5; i++)
        assert_int_equal(nc_nn_take(&top, counts[i], &off[i]), 1);
    float *block = malloc(top * sizeof(float));
    assert_non_null(block);
    for (int i = 0; i < 5; i++)
        for (size_t j = 0; j < counts[i]; j++)
            block[off[i] + j] = (float)(i + 1);
    for (int i = 0; i < 5; i++)
        for (size_t j = 0; j < counts[i]; j++)
            assert_true(block[off[i] + j] == (float)(i + 1));
    free(block);
}

static void test_overflow_refused(void **state)
{
    (void)state;
    size_t top = 0, off = 7;
    /* the count itself cannot be rounded up */
    assert_int_equal(nc_nn_take(&top, SIZE_MAX, &off), 0);
    assert_int_equal(nc_nn_take(&top, SIZE_MAX - 14, &off), 0);
    assert_true(top == 0 && off == 7);
    /* the count fits, the top past it does not */
    top = 32;
    assert_int_equal(nc_nn_take(&top, SIZE_MAX - 15, &off), 0);
    assert_true(top == 32 && off == 7);
    top = SIZE_MAX - 31;
    assert_int_equal(nc_nn_take(&top, 17, &off), 0);
    assert_true(top == SIZE_MAX - 31 && off == 7);
    /* exactly up to the last multiple of 16 is accepted */
    assert_int_equal(nc_nn_take(&top, 16, &off), 1);
    assert_true(off == SIZE_MAX - 31 && top == SIZE_MAX - 15);
    /* and an empty region still fits at the very top */
    assert_int_equal(nc_nn_take(&top, 0, &off), 1);
    assert_true(off == SIZE_MAX - 15 && top == SIZE_MAX - 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_is_64_bytes),
        cmocka_unit_test(test_align_rounds_up),
        cmocka_unit_test(test_take_lays_out_regions),
        cmocka_unit_test(test_take_from_a_scratch_top),
        cmocka_unit_test(test_regions_are_usable),
        cmocka_unit_test(test_overflow_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
