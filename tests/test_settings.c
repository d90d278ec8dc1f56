/* test_settings.c - reading settings through their owner's table
 * (settings.h, ABI 1.3): defaults from the entry's text, bounds, choices,
 * aliases, the value check validate runs, and the descriptions `nascaps
 * plugins --settings` prints. Expected values are written here by hand. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nascaps/data.h"
#include "nascaps/pipeline.h"
#include "nascaps/search.h"
#include "nascaps/session.h"
#include "nascaps/train.h"
#include "nc_test.h"

static const char *const colours[] = {"red", "green", NULL};

static const nc_setting_spec table[] = {
    NC_SETTING_INT("count", 7, 1, 10, "how many"),
    NC_SETTING_INT_MIN("big", 5, 0, "no upper bound"),
    NC_SETTING_REAL_ABOVE("rate", 0.5, 0, 1, "(0, 1]"),
    NC_SETTING_BOOL("flag", true, "a switch"),
    NC_SETTING_STRING("colour", "green", colours, "one of two"),
    NC_SETTING_INT_LIST("range", "[2, 4]", 0, 9, "a pair"),
    {"old", NC_SET_STRING, "\"red\"", "renamed", 0, 0, 0, colours, "legacy.colour"},
    NC_SETTING_END};

static nc_pipeline *load(const char *const *sets, size_t n)
{
    nc_pipeline *p = NULL;
    nc_error err;
    if (nc_pipeline_load(NULL, sets, n, &p, &err))
        fail_msg("%s", err.msg);
    return p;
}

static void test_defaults_from_table(void **state)
{
    (void)state;
    nc_pipeline *p = load(NULL, 0);
    const nc_section *sec = nc_pipeline_section(p, "x");
    nc_error err;
    int64_t i = -1, *list = NULL;
    double r = -1;
    int b = -1, idx = -1;
    const char *s = NULL;
    size_t n = 0;
    assert_int_equal(nc_setting_int(sec, table, "count", &i, &err), NC_OK);
    assert_int_equal(i, 7);
    assert_int_equal(nc_setting_real(sec, table, "rate", &r, &err), NC_OK);
    assert_true(r == 0.5);
    assert_int_equal(nc_setting_bool(sec, table, "flag", &b, &err), NC_OK);
    assert_int_equal(b, 1);
    assert_int_equal(nc_setting_string(sec, table, "colour", &s, &err), NC_OK);
    assert_string_equal(s, "green");
    assert_int_equal(nc_setting_choice(sec, table, "colour", &idx, &err), NC_OK);
    assert_int_equal(idx, 1);
    assert_int_equal(nc_setting_int_list(sec, table, "range", &list, &n, &err), NC_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0], 2);
    assert_int_equal(list[1], 4);
    free(list);
    /* A key the owner did not list is an internal error naming it. */
    assert_int_equal(nc_setting_int(sec, table, "missing", &i, &err), NC_ERR_INTERNAL);
    assert_string_equal(err.msg, "setting 'x.missing' is read but not in its owner's table");
    nc_pipeline_free(p);
}

static void test_bounds_and_alias(void **state)
{
    (void)state;
    const char *sets[] = {"x.count=11", "x.big=9000000000", "x.rate=0", "legacy.colour=\"green\"",
                          "x.colour=\"blue\""};
    nc_pipeline *p = load(sets, 5);
    const nc_section *sec = nc_pipeline_section(p, "x");
    nc_error err;
    int64_t i;
    double r;
    int idx;
    const char *s;
    assert_int_equal(nc_setting_int(sec, table, "count", &i, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "--set x.count: setting 'x.count': expected an integer in "
                                 "[1, 10], got 11");
    assert_int_equal(nc_setting_int(sec, table, "big", &i, &err), NC_OK);
    assert_int_equal(i, 9000000000LL);
    int small;
    assert_int_equal(nc_setting_int32(sec, table, "big", &small, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "--set x.big: setting 'x.big': expected an integer in "
                                 "[0, 2147483647], got 9000000000");
    assert_int_equal(nc_setting_real(sec, table, "rate", &r, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "--set x.rate: setting 'x.rate': expected a number in "
                                 "(0, 1], got 0");
    assert_int_equal(nc_setting_choice(sec, table, "colour", &idx, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "--set x.colour: setting 'x.colour': expected one of "
                                 "\"red\", \"green\", got \"blue\"");
    /* x.old is unset: its alias legacy.colour is read instead */
    assert_int_equal(nc_setting_string(sec, table, "old", &s, &err), NC_OK);
    assert_string_equal(s, "green");
    /* the value check validate runs stops at the first bad value */
    assert_int_equal(nc_setting_check_values(sec, table, &err), NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "'x.count'"));
    nc_pipeline_free(p);

    const char *alias_bad[] = {"legacy.colour=\"blue\""};
    p = load(alias_bad, 1);
    assert_int_equal(nc_setting_string(nc_pipeline_section(p, "x"), table, "old", &s, &err),
                     NC_ERR_INPUT);
    assert_string_equal(err.msg, "--set legacy.colour: setting 'legacy.colour': expected one "
                                 "of \"red\", \"green\", got \"blue\"");
    nc_pipeline_free(p);
}

static void test_describe(void **state)
{
    (void)state;
    char buf[256];
    const char *want[] = {"integer in [1, 10]", "integer >= 0", "number in (0, 1]", "boolean",
                          "one of \"red\", \"green\"", "integer list in [0, 9]",
                          "one of \"red\", \"green\""};
    for (size_t k = 0; k < 7; k++) {
        nc_setting_describe(&table[k], buf, sizeof buf);
        assert_string_equal(buf, want[k]);
    }
}

/* Every table the core owns: its defaults parse (an absent section reads
 * them) and its values check passes. */
static void test_core_tables_parse(void **state)
{
    (void)state;
    nc_pipeline *p = load(NULL, 0);
    nc_error err;
    const nc_settings_section *cs;
    size_t i = 0;
    for (; (cs = nc_settings_section_at(i)); i++)
        if (nc_setting_check_values(nc_pipeline_section(p, cs->path), cs->table, &err))
            fail_msg("section '%s': %s", cs->path, err.msg);
    assert_true(i >= 8);
    nc_settings s;
    assert_int_equal(nc_pipeline_settings(p, &s, &err), NC_OK);
    /* the defaults are the paper's (DESIGN.md section 9) */
    assert_int_equal(s.training.epochs, 5);
    assert_int_equal(s.training.batch_size, 100);
    assert_true(s.training.learning_rate == 0.001);
    nc_train_opts topt;
    nc_train_opts_defaults(&topt);
    assert_int_equal(topt.epochs, 5);
    assert_true(topt.lr_decay == 0.9);
    assert_int_equal(topt.net.max_batch, 100);
    assert_int_equal(topt.net.routings, 3);
    assert_true(topt.net.recon_weight == 0.392);
    nc_search_space sp;
    nc_space_defaults(&sp, NULL);
    assert_int_equal(sp.conv_layers.min, 3);
    assert_int_equal(sp.conv_layers.max, 6);
    assert_int_equal(sp.n_kernels, 3);
    assert_int_equal(sp.flat_caps, 16);
    nc_settings_free(&s);
    nc_pipeline_free(p);
}

/* The same section's keys are suggested or listed, never another's. */
static void test_unknown_same_section(void **state)
{
    (void)state;
    nc_error err;
    const nc_setting_spec *const t[] = {table, NULL};
    const char *sets[] = {"x.cout=1"};
    nc_pipeline *p = load(sets, 1);
    assert_int_equal(nc_pipeline_check_keys(p, "x", t, NULL, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "--set x.cout: unknown setting 'x.cout' (did you mean "
                                 "'x.count'?)");
    nc_pipeline_free(p);
    const char *prefix[] = {"x.colo=1"};
    p = load(prefix, 1);
    assert_int_equal(nc_pipeline_check_keys(p, "x", t, NULL, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "--set x.colo: unknown setting 'x.colo' (did you mean "
                                 "'x.colour'?)");
    nc_pipeline_free(p);
    const char *far[] = {"x.dir=\"y\""};
    p = load(far, 1);
    assert_int_equal(nc_pipeline_check_keys(p, "x", t, NULL, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "--set x.dir: unknown setting 'x.dir' (section 'x' takes: "
                                 "count, big, rate, flag, colour, range, old)");
    nc_pipeline_free(p);
}

/* --set integers are refused where a file's literal is: beyond 64 bits. */
static void test_set_integer_overflow(void **state)
{
    (void)state;
    nc_pipeline *p = NULL;
    nc_error err;
    const char *big[] = {"seed=99999999999999999999"};
    assert_int_equal(nc_pipeline_load(NULL, big, 1, &p, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "--set seed: integer 99999999999999999999 does not fit in "
                                 "64 bits");
    const char *neg[] = {"training.epochs=-99999999999999999999L"};
    assert_int_equal(nc_pipeline_load(NULL, neg, 1, &p, &err), NC_ERR_INPUT);
    const char *hex[] = {"seed=0x1ffffffffffffffff"};
    assert_int_equal(nc_pipeline_load(NULL, hex, 1, &p, &err), NC_ERR_INPUT);
    /* the largest 64-bit value and a 32-bit overflow (promoted) still load */
    const char *ok[] = {"seed=9223372036854775807", "training.max_params=5000000000"};
    assert_int_equal(nc_pipeline_load(NULL, ok, 2, &p, &err), NC_OK);
    nc_settings s;
    assert_int_equal(nc_pipeline_settings(p, &s, &err), NC_OK);
    assert_true(s.seed == 9223372036854775807ULL);
    assert_int_equal(s.training.max_params, 5000000000LL);
    nc_settings_free(&s);
    nc_pipeline_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_from_table),
        cmocka_unit_test(test_bounds_and_alias),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_core_tables_parse),
        cmocka_unit_test(test_unknown_same_section),
        cmocka_unit_test(test_set_integer_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
