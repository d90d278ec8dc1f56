/* test_loader.c - the plugin loader: every refusal has its message, and the
 * host keeps running after each. Fixture plugins come from
 * tests/loader/fixture.c (see test_loader.cmake). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_test.h"
#include "nascaps/accelerator.h"
#include "nascaps/registry.h"

static char fixture[4096];

static const char *fx(const char *folder, const char *file)
{
    snprintf(fixture, sizeof fixture, "%s/%s/%s.so", NC_FIXTURE_DIR, folder, file);
    return fixture;
}

static int setup(void **state)
{
    /* the build tree's own plugins must not interfere with counts */
    unsetenv("NASCAPS_PLUGIN_PATH");
    *state = nc_registry_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    nc_registry_free(*state);
    return 0;
}

/* The message is one line, starts with where + path, and contains what. */
static void assert_refusal(nc_registry *reg, const char *path, const char *what)
{
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_registry_load_file(reg, path, "p.cfg:7", &err), NC_ERR_INPUT);
    assert_int_equal(err.status, NC_ERR_INPUT);
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "p.cfg:7: %s: ", path);
    if (strncmp(err.msg, prefix, strlen(prefix)) != 0 || !strstr(err.msg, what))
        fail_msg("message '%s' lacks '%s' or '%s'", err.msg, prefix, what);
    assert_null(strchr(err.msg, '\n'));
}

/* After any refusal the registry still loads and runs a good plugin. */
static void assert_host_alive(nc_registry *reg)
{
    nc_error err;
    const nc_plugin_info *info = NULL;
    nc_error_clear(&err);
    assert_int_equal(nc_registry_find(reg, NC_KIND_ACCELERATOR, fx("good", "good"),
                                      NULL, &info, &err), NC_OK);
    const nc_accelerator_ops *ops = nc_plugin_ops(info);
    void *inst = NULL;
    assert_int_equal(ops->create(NULL, &inst, &err), NC_OK);
    nc_hw_op op = {.kind = NC_HW_CONV, .k = 3, .inch = 2, .outch = 4};
    nc_hw_cost c;
    assert_int_equal(ops->cost(inst, &op, &c, &err), NC_OK);
    assert_true(c.cycles == 72.0);
    ops->destroy(inst);
}

static void test_good_plugin(void **state)
{
    nc_registry *reg = *state;
    nc_error err;
    const nc_plugin_info *info = NULL;
    nc_error_clear(&err);
    assert_int_equal(nc_registry_find(reg, NC_KIND_ACCELERATOR, fx("good", "good"),
                                      NULL, &info, &err), NC_OK);
    assert_string_equal(info->desc->name, "good");
    assert_string_equal(info->desc->version, "1.2.3");
    assert_string_equal(info->origin, "explicit");
    assert_int_equal(info->desc->abi_major, NC_ABI_MAJOR);
    const nc_accelerator_ops *ops = nc_plugin_ops(info);
    assert_int_equal(ops->size, sizeof(nc_accelerator_ops));
    assert_null(ops->describe); /* optional entry left NULL */
    assert_string_equal(ops->settings[0].name, "speed");
    assert_host_alive(reg);
}

/* A plugin built against ABI 1.2 has a table of 4-field entries: the
 * loader reads it with that stride and hands out the 1.3 layout. */
static void test_old_settings_table(void **state)
{
    nc_registry *reg = *state;
    nc_error err;
    const nc_plugin_info *info = NULL;
    nc_error_clear(&err);
    assert_int_equal(nc_registry_find(reg, NC_KIND_ACCELERATOR, fx("oldtable", "oldtable"),
                                      NULL, &info, &err), NC_OK);
    assert_int_equal(info->desc->abi_minor, 2);
    assert_non_null(info->settings);
    assert_string_equal(info->settings[0].name, "speed");
    assert_int_equal(info->settings[0].type, NC_SET_INT);
    assert_string_equal(info->settings[0].default_text, "1");
    assert_int_equal(info->settings[0].flags, 0);   /* no bounds before 1.3 */
    assert_null(info->settings[0].choices);
    assert_null(info->settings[0].alias);
    assert_string_equal(info->settings[1].name, "depth");
    assert_int_equal(info->settings[1].type, NC_SET_REAL);
    assert_null(info->settings[2].name);
    char want[600];
    nc_setting_describe(&info->settings[0], want, sizeof want);
    assert_string_equal(want, "integer");
    assert_host_alive(reg);
}

static void test_bad_settings_table(void **state)
{
    assert_refusal(*state, fx("badtable", "badtable"),
                   "plugin 'badtable' (accelerator): settings table entry 2 ('Bad Name') "
                   "is not a valid name");
    assert_host_alive(*state);
}

/* A command that names its plugin loads NAME.so and nothing else of the
 * folder: a broken file beside it is not even opened until a full scan
 * (`nascaps plugins`) asks for everything. */
static void test_find_loads_only_what_it_needs(void **state)
{
    nc_registry *reg = *state;
    char *tmp = nc_test_tmpdir(), path[4200];
    size_t n = 0;
    char *good = nc_test_read_file(fx("good", "good"), &n);
    assert_non_null(good);
    snprintf(path, sizeof path, "%s/good.so", tmp);
    nc_test_write_file(path, good, n);
    free(good);
    snprintf(path, sizeof path, "%s/aaa-broken.so", tmp);
    nc_test_write_file(path, "not an ELF file", 15);
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_registry_add_dir(reg, tmp, NULL, &err), NC_OK);
    const nc_plugin_info *info = NULL;
    assert_int_equal(nc_registry_find(reg, NC_KIND_ACCELERATOR, "good", NULL, &info, &err),
                     NC_OK);
    assert_int_equal(nc_registry_refusal_count(reg), 0);
    /* a name no file is named after: the full scan, which meets the file */
    assert_int_equal(nc_registry_find(reg, NC_KIND_ACCELERATOR, "nothing", NULL, &info, &err),
                     NC_ERR_INPUT);
    int seen = 0;
    for (size_t i = 0; i < nc_registry_refusal_count(reg); i++)
        seen = seen || strstr(nc_registry_refusal_at(reg, i), "aaa-broken.so") != NULL;
    assert_true(seen);
    nc_test_rmtree(tmp);
    free(tmp);
}

static void test_file_not_found(void **state)
{
    assert_refusal(*state, "/nonexistent/nope.so", "file not found");
    assert_host_alive(*state);
}

static void test_not_shared_object(void **state)
{
    char *dir = nc_test_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/garbage.so", dir);
    nc_test_write_file(path, "this is text, not ELF\n", 22);
    assert_refusal(*state, path, "not a loadable shared object: ");
    /* dlopen's own text is kept */
    nc_error err;
    nc_error_clear(&err);
    nc_registry_load_file(*state, path, NULL, &err);
    assert_non_null(strstr(err.msg, "garbage.so"));
    assert_host_alive(*state);
    nc_test_rmtree(dir);
    free(dir);
}

static void test_missing_entry(void **state)
{
    assert_refusal(*state, fx("noentry", "noentry"),
                   "missing entry symbol 'nascaps_plugin_entry'");
    assert_host_alive(*state);
}

static void test_abi_major(void **state)
{
    char want[128];
    snprintf(want, sizeof want, "plugin 'abimajor': built for plugin ABI %d.0, "
             "this nascaps provides ABI %d.%d: rebuild the plugin against the "
             "nascaps %d.x headers", NC_ABI_MAJOR + 1, NC_ABI_MAJOR, NC_ABI_MINOR,
             NC_ABI_MAJOR);
    assert_refusal(*state, fx("abimajor", "abimajor"), want);
    assert_host_alive(*state);
}

static void test_abi_minor_newer(void **state)
{
    char want[128];
    snprintf(want, sizeof want, "built for plugin ABI %d.%d, this nascaps provides "
             "ABI %d.%d", NC_ABI_MAJOR, NC_ABI_MINOR + 1, NC_ABI_MAJOR, NC_ABI_MINOR);
    assert_refusal(*state, fx("abiminor", "abiminor"), want);
    assert_refusal(*state, fx("abiminor", "abiminor"), "(or upgrade nascaps)");
    assert_host_alive(*state);
}

static void test_unknown_kind(void **state)
{
    assert_refusal(*state, fx("badkind", "badkind"),
                   "plugin 'badkind': unknown kind 42 (expected layer, "
                   "accelerator, optimizer or dataset)");
    assert_host_alive(*state);
}

static void test_ops_too_small(void **state)
{
    char want[160];
    snprintf(want, sizeof want, "plugin 'small' (accelerator): ops table too "
             "small: 4 bytes, ABI %d.%d needs at least %zu", NC_ABI_MAJOR,
             NC_ABI_MINOR, (size_t)NC_ACCELERATOR_OPS_MIN_SIZE);
    assert_refusal(*state, fx("small", "small"), want);
    assert_host_alive(*state);
}

static void test_no_descriptor(void **state)
{
    assert_refusal(*state, fx("nodesc", "nodesc"), "carries no plugin");
    assert_host_alive(*state);
}

static void test_duplicate_in_folder(void **state)
{
    nc_registry *reg = *state;
    nc_error err;
    char dir[4200];
    nc_error_clear(&err);
    snprintf(dir, sizeof dir, "%s/dup", NC_FIXTURE_DIR);
    assert_int_equal(nc_registry_add_dir(reg, dir, "p.cfg:2", &err), NC_OK);
    assert_int_equal(nc_registry_scan(reg, &err), NC_OK);
    /* dup_a.so sorts first and wins; dup_b.so is refused */
    int refused = 0;
    for (size_t i = 0; i < nc_registry_refusal_count(reg); i++) {
        const char *line = nc_registry_refusal_at(reg, i);
        if (strstr(line, "dup_b.so: accelerator plugin 'dup' is already provided by ") &&
            strstr(line, "dup_a.so in the same folder"))
            refused = 1;
    }
    assert_true(refused);
    const nc_plugin_info *info;
    assert_int_equal(nc_registry_find(reg, NC_KIND_ACCELERATOR, "dup", NULL, &info, &err),
                     NC_OK);
    assert_non_null(strstr(info->file, "dup_a.so"));
    assert_string_equal(info->origin, "plugin_path");
    assert_host_alive(reg);
}

static void test_shadowing(void **state)
{
    nc_registry *reg = *state;
    nc_error err;
    char a[4200], b[4200];
    nc_error_clear(&err);
    snprintf(a, sizeof a, "%s/good", NC_FIXTURE_DIR);
    snprintf(b, sizeof b, "%s/shadow", NC_FIXTURE_DIR);
    assert_int_equal(nc_registry_add_dir(reg, a, NULL, &err), NC_OK);
    assert_int_equal(nc_registry_add_dir(reg, b, NULL, &err), NC_OK);
    assert_int_equal(nc_registry_scan(reg, &err), NC_OK);
    int seen = 0, shadowed = 0;
    for (size_t i = 0; i < nc_registry_count(reg); i++) {
        const nc_plugin_info *p = nc_registry_at(reg, i);
        if (strcmp(p->desc->name, "good") != 0)
            continue;
        seen++;
        if (p->shadowed) {
            shadowed++;
            assert_non_null(strstr(p->file, "/shadow/good.so"));
        }
    }
    assert_int_equal(seen, 2);
    assert_int_equal(shadowed, 1);
    const nc_plugin_info *info;
    assert_int_equal(nc_registry_find(reg, NC_KIND_ACCELERATOR, "good", NULL, &info, &err),
                     NC_OK);
    assert_non_null(strstr(info->file, "/good/good.so"));
    /* search order: the user's folders first */
    assert_string_equal(nc_registry_dir_at(reg, 0), a);
    assert_string_equal(nc_registry_dir_at(reg, 1), b);
}

static void test_env_path_after_pipeline_path(void **state)
{
    nc_registry *reg = *state;
    nc_error err;
    char a[4200], b[4200];
    nc_error_clear(&err);
    snprintf(a, sizeof a, "%s/shadow", NC_FIXTURE_DIR);
    snprintf(b, sizeof b, "%s/good", NC_FIXTURE_DIR);
    setenv("NASCAPS_PLUGIN_PATH", b, 1);
    assert_int_equal(nc_registry_add_dir(reg, a, NULL, &err), NC_OK);
    assert_int_equal(nc_registry_scan(reg, &err), NC_OK);
    unsetenv("NASCAPS_PLUGIN_PATH");
    const nc_plugin_info *info;
    assert_int_equal(nc_registry_find(reg, NC_KIND_ACCELERATOR, "good", NULL, &info, &err),
                     NC_OK);
    assert_non_null(strstr(info->file, "/shadow/good.so"));
    assert_string_equal(info->origin, "plugin_path");
    assert_string_equal(nc_registry_dir_at(reg, 1), b);
}

static void test_several_in_one_file(void **state)
{
    nc_registry *reg = *state;
    nc_error err;
    char dir[4200];
    nc_error_clear(&err);
    snprintf(dir, sizeof dir, "%s/multi", NC_FIXTURE_DIR);
    assert_int_equal(nc_registry_add_dir(reg, dir, NULL, &err), NC_OK);
    const nc_plugin_info *a, *b;
    assert_int_equal(nc_registry_find(reg, NC_KIND_ACCELERATOR, "multi-a", NULL, &a, &err),
                     NC_OK);
    assert_int_equal(nc_registry_find(reg, NC_KIND_ACCELERATOR, "multi-b", NULL, &b, &err),
                     NC_OK);
    assert_string_equal(a->file, b->file);
    assert_string_equal(b->desc->summary, "second of two");
    /* a path to a file with two plugins of the kind is ambiguous */
    assert_int_equal(nc_registry_find(reg, NC_KIND_ACCELERATOR, fx("multi", "multi"),
                                      "p.cfg:1", &a, &err), NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "carries 2 accelerator plugins"));
}

static void test_find_reports_refusal(void **state)
{
    nc_registry *reg = *state;
    nc_error err;
    char dir[4200];
    const nc_plugin_info *info;
    nc_error_clear(&err);
    snprintf(dir, sizeof dir, "%s/abimajor", NC_FIXTURE_DIR);
    assert_int_equal(nc_registry_add_dir(reg, dir, NULL, &err), NC_OK);
    assert_int_equal(nc_registry_find(reg, NC_KIND_ACCELERATOR, "abimajor",
                                      "p.cfg:3", &info, &err), NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "p.cfg:3: accelerator plugin 'abimajor' was refused: "));
    assert_non_null(strstr(err.msg, "rebuild the plugin"));
}

static void test_find_suggests(void **state)
{
    nc_registry *reg = *state;
    nc_error err;
    char dir[4200];
    const nc_plugin_info *info;
    nc_error_clear(&err);
    snprintf(dir, sizeof dir, "%s/good", NC_FIXTURE_DIR);
    assert_int_equal(nc_registry_add_dir(reg, dir, NULL, &err), NC_OK);
    assert_int_equal(nc_registry_find(reg, NC_KIND_ACCELERATOR, "goood", "p.cfg:9",
                                      &info, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg,
                        "p.cfg:9: no accelerator plugin named 'goood' (did you mean 'good'?)");
    /* a name of another kind is not found under this one */
    assert_int_equal(nc_registry_find(reg, NC_KIND_DATASET, "good", NULL, &info, &err),
                     NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "no dataset plugin named 'good'"));
}

/* A record handed out stays valid while later files load (ASan checks). */
static void test_records_stay_valid(void **state)
{
    nc_registry *reg = *state;
    nc_error err;
    const nc_plugin_info *good, *other;
    nc_error_clear(&err);
    assert_int_equal(nc_registry_find(reg, NC_KIND_ACCELERATOR, fx("good", "good"),
                                      NULL, &good, &err), NC_OK);
    assert_int_equal(nc_registry_find(reg, NC_KIND_ACCELERATOR, "multi-a", NULL, &other,
                                      &err), NC_ERR_INPUT); /* scans the build tree */
    assert_int_equal(nc_registry_load_file(reg, fx("multi", "multi"), NULL, &err), NC_OK);
    /* the same name from a second explicit file is refused, not swapped in */
    assert_int_equal(nc_registry_find(reg, NC_KIND_ACCELERATOR, fx("shadow", "good"),
                                      NULL, &other, &err), NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, "set of explicitly named files"));
    assert_string_equal(good->desc->name, "good");
    assert_non_null(strstr(good->file, "/good/good.so"));
    assert_string_equal(good->origin, "explicit");
}

static void test_cli_lists_and_survives(void **state)
{
    (void)state;
    char cmd[16384], *out = NULL, *errout = NULL;
    snprintf(cmd, sizeof cmd,
             "NASCAPS_PLUGIN_PATH=%s/good:%s/shadow:%s/abimajor:%s/small:%s/noentry:%s/dup "
             "%s plugins", NC_FIXTURE_DIR, NC_FIXTURE_DIR, NC_FIXTURE_DIR,
             NC_FIXTURE_DIR, NC_FIXTURE_DIR, NC_FIXTURE_DIR, NC_TEST_CLI);
    assert_int_equal(nc_test_run(cmd, &out, &errout), 0);
    assert_non_null(out);
    assert_non_null(errout);
    assert_non_null(strstr(out, "good"));
    assert_non_null(strstr(out, "(shadowed)"));
    assert_non_null(strstr(out, "test fixture accelerator"));
    assert_non_null(strstr(errout, "nascaps: refused: "));
    assert_non_null(strstr(errout, "abimajor.so: plugin 'abimajor': built for plugin ABI"));
    assert_non_null(strstr(errout, "ops table too small"));
    assert_non_null(strstr(errout, "missing entry symbol"));
    assert_non_null(strstr(errout, "already provided by"));
    free(out);
    free(errout);

    snprintf(cmd, sizeof cmd, "NASCAPS_PLUGIN_PATH=%s/good %s plugins --json",
             NC_FIXTURE_DIR, NC_TEST_CLI);
    assert_int_equal(nc_test_run(cmd, &out, NULL), 0);
    assert_non_null(strstr(out, "\"name\":\"good\""));
    assert_non_null(strstr(out, "\"version\":\"1.2.3\""));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_plugin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_settings_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_settings_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_loads_only_what_it_needs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_shared_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abi_major, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abi_minor_newer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ops_too_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_descriptor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_in_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shadowing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_path_after_pipeline_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_several_in_one_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_reports_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_suggests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_records_stay_valid, setup, teardown),
        cmocka_unit_test(test_cli_lists_and_survives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
