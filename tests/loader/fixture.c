/* fixture.c - deliberately good and broken plugins for test_loader.
 * One source, built once per case with -DFIXTURE_CASE=N (see
 * test_loader.cmake), so each refusal has a plugin of its own. */
#include <math.h>
#include <string.h>

#include <nascaps/accelerator.h>

#define CASE_GOOD 1
#define CASE_NO_ENTRY 2
#define CASE_ABI_MAJOR 3
#define CASE_ABI_MINOR 4
#define CASE_BAD_KIND 5
#define CASE_SMALL_OPS 6
#define CASE_MULTI 7
#define CASE_DUP 8
#define CASE_NO_DESC 9
#define CASE_OLD_TABLE 10   /* ABI 1.2: a settings table of 4-field entries */
#define CASE_BAD_TABLE 11   /* a settings entry with an invalid name */

#ifndef FIXTURE_NAME
#define FIXTURE_NAME "fixture"
#endif

static int create(const nc_section *sec, void **instance, nc_error *err)
{
    static int token;
    (void)sec;
    (void)err;
    *instance = &token;
    return NC_OK;
}

/* cost = one cycle per weight, so tests can tell this model apart */
static int cost(void *instance, const nc_hw_op *op, nc_hw_cost *out,
                nc_error *err)
{
    (void)instance;
    (void)err;
    memset(out, 0, sizeof *out);
    out->cycles = (double)op->k * op->k * op->inch * op->outch;
    out->area_um2 = NAN;
    return NC_OK;
}

static void destroy(void *instance)
{
    (void)instance;
}

static const nc_setting_spec settings[] = {
    NC_SETTING_INT("speed", 1, 0, 100, "a setting for tests"),
    NC_SETTING_END,
};

/* The entry layout of ABI 1.0-1.2, as an older plugin was compiled. */
typedef struct old_spec {
    const char *name;
    nc_setting_type type;
    const char *default_text;
    const char *help;
} old_spec;
static const old_spec old_settings[] __attribute__((unused)) = {
    {"speed", NC_SET_INT, "1", "a setting for tests"},
    {"depth", NC_SET_REAL, "2.5", "another"},
    {NULL, 0, NULL, NULL},
};
static const nc_accelerator_ops old_ops __attribute__((unused)) = {
    sizeof(nc_accelerator_ops), (const nc_setting_spec *)(const void *)old_settings,
    create, cost, destroy, NULL,
};
static const nc_setting_spec bad_settings[] __attribute__((unused)) = {
    NC_SETTING_INT("speed", 1, 0, 100, "fine"),
    NC_SETTING_INT("Bad Name", 1, 0, 100, "not a key"),
    NC_SETTING_END,
};
static const nc_accelerator_ops bad_ops __attribute__((unused)) = {
    sizeof(nc_accelerator_ops), bad_settings, create, cost, destroy, NULL,
};

/* describe (optional) stays NULL: the host must not call it */
static const nc_accelerator_ops ops __attribute__((unused)) = {
    sizeof(nc_accelerator_ops), settings, create, cost, destroy, NULL,
};

#if FIXTURE_CASE == CASE_SMALL_OPS
static const uint32_t small_ops = 4;
#endif

static const nc_plugin_desc descs[] = {
#if FIXTURE_CASE == CASE_GOOD || FIXTURE_CASE == CASE_NO_ENTRY || FIXTURE_CASE == CASE_DUP
    NC_PLUGIN_DESCRIPTOR(NC_KIND_ACCELERATOR, FIXTURE_NAME, "1.2.3",
                         "test fixture accelerator", &ops),
#elif FIXTURE_CASE == CASE_ABI_MAJOR
    {NC_ABI_MAJOR + 1, 0, NC_KIND_ACCELERATOR, FIXTURE_NAME, "1.0", "future", &ops},
#elif FIXTURE_CASE == CASE_ABI_MINOR
    {NC_ABI_MAJOR, NC_ABI_MINOR + 1, NC_KIND_ACCELERATOR, FIXTURE_NAME, "1.0",
     "newer minor", &ops},
#elif FIXTURE_CASE == CASE_BAD_KIND
    {NC_ABI_MAJOR, NC_ABI_MINOR, 42, FIXTURE_NAME, "1.0", "unknown kind", &ops},
#elif FIXTURE_CASE == CASE_SMALL_OPS
    {NC_ABI_MAJOR, NC_ABI_MINOR, NC_KIND_ACCELERATOR, FIXTURE_NAME, "1.0",
     "tiny ops", &small_ops},
#elif FIXTURE_CASE == CASE_MULTI
    NC_PLUGIN_DESCRIPTOR(NC_KIND_ACCELERATOR, "multi-a", "1.0", "first of two", &ops),
    NC_PLUGIN_DESCRIPTOR(NC_KIND_ACCELERATOR, "multi-b", "1.0", "second of two", &ops),
#elif FIXTURE_CASE == CASE_NO_DESC
    {0, 0, 0, NULL, NULL, NULL, NULL},
#elif FIXTURE_CASE == CASE_OLD_TABLE
    {NC_ABI_MAJOR, 2, NC_KIND_ACCELERATOR, FIXTURE_NAME, "1.0", "built for ABI 1.2",
     &old_ops},
#elif FIXTURE_CASE == CASE_BAD_TABLE
    NC_PLUGIN_DESCRIPTOR(NC_KIND_ACCELERATOR, FIXTURE_NAME, "1.0", "bad table", &bad_ops),
#endif
};

#if FIXTURE_CASE == CASE_NO_ENTRY
/* exported, but not under the entry name */
NC_PLUGIN_EXPORT const nc_plugin_desc *wrong_entry_name(uint32_t i);
NC_PLUGIN_EXPORT const nc_plugin_desc *wrong_entry_name(uint32_t i)
{
    return i == 0 ? &descs[0] : NULL;
}
#elif FIXTURE_CASE == CASE_NO_DESC
NC_PLUGIN_EXPORT const nc_plugin_desc *nascaps_plugin_entry(uint32_t i);
NC_PLUGIN_EXPORT const nc_plugin_desc *nascaps_plugin_entry(uint32_t i)
{
    (void)i;
    (void)descs;
    return NULL;
}
#else
NC_PLUGIN_ENTRY(descs)
#endif
