/* test_adapt.c - nc_genotype_adapt: what it changes and how it says so,
 * the no-op on a fitting genotype, pinned and free last kernels, the skip
 * gene, refusals. (The 66 release chromosomes: test_adapt_reference.) */
#include <stdio.h>
#include <string.h>

#include "nc_test.h"
#include "nascaps/genotype.h"

static nc_genotype parse(const char *text)
{
    nc_genotype g;
    nc_error err;
    nc_error_clear(&err);
    if (nc_genotype_parse(text, "<test>", &g, &err))
        fail_msg("%s", err.msg);
    return g;
}

static void canon(const nc_genotype *g, char *buf)
{
    nc_genotype_to_string(g, buf, NC_GENOTYPE_STRING_MAX);
}

static void test_tiny_to_rgb(void **state)
{
    (void)state;
    nc_genotype g = parse("[[0,8,1,1,3,1,8,4,1],[1,8,4,1,3,2,4,2,4],[1,4,2,4,4,1,1,3,4],[-1],[1]]");
    nc_data_shape d = {32, 3, 10};
    nc_genotype_changes ch;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_genotype_adapt(&g, &d, "tiny.chr", &ch, &err), NC_OK);
    char text[NC_GENOTYPE_STRING_MAX];
    canon(&g, text);
    assert_string_equal(text,
                        "[[0,32,3,1,3,1,32,4,1],[1,32,4,1,3,2,16,2,4],[1,16,2,4,16,1,1,10,4],"
                        "[-1],[1]]");
    static const char *const want[] = {
        "gene 1 (conv): insize 8 -> 32",       "gene 1 (conv): inch 1 -> 3",
        "gene 1 (conv): outsize 8 -> 32",      "gene 2 (caps): insize 8 -> 32",
        "gene 2 (caps): outsize 4 -> 16",      "gene 3 (class-caps): insize 4 -> 16",
        "gene 3 (class-caps): k 4 -> 16",      "gene 3 (class-caps): outch 3 -> 10",
    };
    assert_int_equal(ch.n, 8);
    for (int i = 0; i < ch.n; i++) {
        char line[128];
        int n = nc_genotype_change_text(&g, &ch.at[i], line, sizeof line);
        assert_int_equal(n, (int)strlen(want[i]));
        assert_string_equal(line, want[i]);
    }
    assert_int_equal(nc_genotype_validate(&g, "x", &d, &err), NC_OK);
}

static void test_fitting_is_noop(void **state)
{
    (void)state;
    /* CapsNet: its last k (9 on 14 x 14) is not pinned and stays */
    const char *capsnet =
        "[[0,28,1,1,9,1,28,256,1],[1,28,256,1,9,2,14,32,8],[1,14,32,8,9,2,7,10,16],[-1],[1]]";
    nc_genotype g = parse(capsnet), before = g;
    nc_data_shape d = {28, 1, 10};
    nc_genotype_changes ch;
    ch.n = 99;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_genotype_adapt(&g, &d, "capsnet.chr", &ch, &err), NC_OK);
    assert_int_equal(ch.n, 0);
    assert_memory_equal(&g, &before, sizeof g);
    /* unknown members (0) change nothing either; changes may be NULL */
    nc_data_shape none = {0, 0, 0};
    assert_int_equal(nc_genotype_adapt(&g, &none, "capsnet.chr", NULL, &err), NC_OK);
    assert_memory_equal(&g, &before, sizeof g);

    /* to 64 x 64 x 3: the free k stays 9, the class count follows */
    nc_data_shape big = {64, 3, 100};
    assert_int_equal(nc_genotype_adapt(&g, &big, "capsnet.chr", &ch, &err), NC_OK);
    char text[NC_GENOTYPE_STRING_MAX];
    canon(&g, text);
    assert_string_equal(text, "[[0,64,3,1,9,1,64,256,1],[1,64,256,1,9,2,32,32,8],"
                              "[1,32,32,8,9,2,16,100,16],[-1],[1]]");
    /* and back */
    assert_int_equal(nc_genotype_adapt(&g, &d, "capsnet.chr", &ch, &err), NC_OK);
    canon(&g, text);
    assert_string_equal(text, capsnet);
}

static void test_deepcaps_skip_and_resize(void **state)
{
    (void)state;
    nc_genotype g = parse("[[0,64,3,1,3,1,64,128,1],[2,64,32,4,3,2,32,32,4],"
                          "[2,32,32,4,3,2,16,32,8],[2,16,32,8,3,2,8,32,8],"
                          "[2,8,32,8,3,2,4,32,8],[2,4,32,8,4,1,1,10,16],[4],[2]]");
    nc_data_shape d = {28, 1, 10};
    nc_genotype_changes ch;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_genotype_adapt(&g, &d, "deepcaps.chr", &ch, &err), NC_OK);
    char text[NC_GENOTYPE_STRING_MAX];
    canon(&g, text);
    /* resize 2 kept: 56; the skip to gene 4 survives; the pinned last k 4 */
    assert_string_equal(text, "[[0,56,1,1,3,1,56,128,1],[2,56,32,4,3,2,28,32,4],"
                              "[2,28,32,4,3,2,14,32,8],[2,14,32,8,3,2,7,32,8],"
                              "[2,7,32,8,3,2,4,32,8],[2,4,32,8,4,1,1,10,16],[4],[2]]");
    assert_int_equal(ch.n, 10);
    char line[128];
    nc_genotype_change_text(&g, &ch.at[9], line, sizeof line);
    assert_string_equal(line, "gene 5 (last-capscell): insize 8 -> 7");
    nc_genotype_change skip = {0, -1, 4, -1};
    nc_genotype_change_text(&g, &skip, line, sizeof line);
    assert_string_equal(line, "skip gene: 4 -> -1");
}

static void test_view_kept_when_it_fits(void **state)
{
    (void)state;
    /* a first gene seen as 1 x 3 keeps that view for 3 channels, becomes
     * 1 x 1 -> channels x 1 otherwise */
    nc_genotype g = parse("[[0,8,1,3,3,1,8,4,1],[1,8,4,1,8,1,1,3,4],[-1],[1]]");
    nc_data_shape d = {8, 3, 3};
    nc_genotype_changes ch;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_genotype_adapt(&g, &d, "v.chr", &ch, &err), NC_OK);
    assert_int_equal(ch.n, 0);
    d.channels = 1;
    assert_int_equal(nc_genotype_adapt(&g, &d, "v.chr", &ch, &err), NC_OK);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.at[0].field, 3);
    assert_int_equal(g.layers[0].inch, 1);
    assert_int_equal(g.layers[0].incaps, 1);
    d.channels = 4;
    assert_int_equal(nc_genotype_adapt(&g, &d, "v.chr", &ch, &err), NC_OK);
    assert_int_equal(g.layers[0].inch, 4);
    assert_int_equal(g.layers[0].incaps, 1);
}

static void test_refusals(void **state)
{
    (void)state;
    nc_genotype g = parse("[[0,8,1,1,3,1,8,4,1],[1,8,4,1,3,2,4,2,4],[1,4,2,4,4,1,1,3,4],[-1],[2]]");
    nc_genotype before = g;
    nc_error err;
    nc_error_clear(&err);
    nc_genotype_changes ch;
    nc_data_shape huge = {4000, 1, 10};
    assert_int_equal(nc_genotype_adapt(&g, &huge, "t.chr", &ch, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "t.chr: gene 1 (conv): the dataset's images are 4000 x "
                                 "resize 2 = 8000, more than 4096");
    assert_memory_equal(&g, &before, sizeof g);
    /* over the size guard: refused by the validator, g unchanged */
    nc_genotype w = parse("[[0,8,1,1,9,1,8,4096,1],[1,8,4096,1,9,1,8,4096,1],"
                          "[1,8,4096,1,8,1,1,3,4],[-1],[1]]");
    nc_genotype wb = w;
    nc_data_shape big = {2048, 1, 3};
    assert_int_equal(nc_genotype_adapt(&w, &big, "w.chr", &ch, &err), NC_ERR_INPUT);
    if (!strstr(err.msg, "w.chr: gene 1 (conv): 1.39e+12 multiply-accumulates per image"))
        fail_msg("%s", err.msg);
    assert_non_null(strstr(err.msg, "more than 2^40"));
    assert_memory_equal(&w, &wb, sizeof w);
    /* an invalid genotype is refused, not repaired */
    g.layers[1].insize = 5;
    before = g;
    nc_data_shape d = {8, 1, 3};
    assert_int_equal(nc_genotype_adapt(&g, &d, "t.chr", &ch, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "t.chr: gene 2 (caps): field 'insize' is 5 but gene 1 makes "
                                 "outsize 8");
    assert_memory_equal(&g, &before, sizeof g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_to_rgb),
        cmocka_unit_test(test_fitting_is_noop),
        cmocka_unit_test(test_deepcaps_skip_and_resize),
        cmocka_unit_test(test_view_kept_when_it_fits),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
