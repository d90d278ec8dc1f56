/* capsacc.c - the CapsAcc accelerator plugin: reads its pipeline section,
 * picks the synthesis figures (built in for the default configuration,
 * from the tables otherwise) and costs operations with capsacc_model.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nascaps/accelerator.h>
#include <nascaps/plugin.h>
#include <nascaps/settings.h>

#include "capsacc_model.h"

typedef struct capsacc {
    capsacc_config config;
    char description[320];
} capsacc;

/* Bounds keep every product of the model far from int64 overflow. */
static const nc_setting_spec capsacc_settings[] = {
    NC_SETTING_INT("rows", CAPSACC_DEFAULT_ROWS, 1, 65536, "PE-array rows (R)"),
    NC_SETTING_INT("cols", CAPSACC_DEFAULT_COLS, 1, 65536, "PE-array columns (C)"),
    NC_SETTING_INT("pe_width", CAPSACC_DEFAULT_PE_WIDTH, 1, 4096,
                   "multiplier inputs per PE (W)"),
    NC_SETTING_INT("pe_stages", CAPSACC_DEFAULT_PE_STAGES, 1, 1024,
                   "pipeline stages per PE (S)"),
    NC_SETTING_REAL("period_ns", CAPSACC_DEFAULT_PERIOD_NS, 1e-3, 1e6,
                    "clock period in ns (T)"),
    NC_SETTING_INT("acc_bits", CAPSACC_DEFAULT_ACC_BITS, 1, 256,
                   "accumulator bit width (A)"),
    NC_SETTING_PATH("pe_table",
                    "pe_table.csv: PE power/area per (period_ns, acc_bits, "
                    "pe_stages, pe_width); needed unless period 3, 25 bits, 1 "
                    "stage, width 1"),
    NC_SETTING_PATH("mem_table",
                    "mem_table.csv: accumulator cell power/area per (period_ns, "
                    "bits); needed unless period 3 and 25 bits"),
    NC_SETTING_END};

/* The keys the synthesis figures depend on, in message order. */
static const char *const figure_keys[] = {"period_ns", "acc_bits", "pe_stages",
                                          "pe_width"};

/* Prefixes err with "WHERE: " of the first of keys set in sec. */
static int prefix_where(const nc_section *sec, const char *const *keys, size_t n,
                        nc_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (keys[i] && nc_section_has(sec, keys[i])) {
            char where[4200];
            nc_section_where(sec, keys[i], where, sizeof where);
            if (where[0])
                nc_error_prefix(err, "%s", where);
            break;
        }
    }
    return err ? err->status : NC_ERR_INPUT;
}

static int read_settings(const nc_section *sec, capsacc_config *c, nc_error *err)
{
    int64_t v[5];
    static const char *const int_keys[5] = {"rows", "cols", "pe_width", "pe_stages",
                                            "acc_bits"};
    for (int i = 0; i < 5; i++) {
        int rc = nc_setting_int(sec, capsacc_settings, int_keys[i], &v[i], err);
        if (rc)
            return rc;
    }
    c->rows = v[0];
    c->cols = v[1];
    c->pe_width = v[2];
    c->pe_stages = v[3];
    c->acc_bits = v[4];
    return nc_setting_real(sec, capsacc_settings, "period_ns", &c->period_ns, err);
}

/* Lists the figure settings that differ from the built-in configuration. */
static void differing_settings(const capsacc_config *c, int mem_only, char *buf,
                               size_t size)
{
    char part[4][48] = {"", "", "", ""};
    if (c->period_ns != CAPSACC_DEFAULT_PERIOD_NS)
        snprintf(part[0], sizeof part[0], " period_ns=%g", c->period_ns);
    if (c->acc_bits != CAPSACC_DEFAULT_ACC_BITS)
        snprintf(part[1], sizeof part[1], " acc_bits=%lld", (long long)c->acc_bits);
    if (!mem_only && c->pe_stages != CAPSACC_DEFAULT_PE_STAGES)
        snprintf(part[2], sizeof part[2], " pe_stages=%lld", (long long)c->pe_stages);
    if (!mem_only && c->pe_width != CAPSACC_DEFAULT_PE_WIDTH)
        snprintf(part[3], sizeof part[3], " pe_width=%lld", (long long)c->pe_width);
    char all[4 * 48];
    snprintf(all, sizeof all, "%s%s%s%s", part[0], part[1], part[2], part[3]);
    snprintf(buf, size, "%s", all[0] ? all + 1 : all);
}

/* Reads one table when given, or checks that the built-in figures cover
 * the configuration. */
static int load_table(const nc_section *sec, capsacc_config *c, int is_pe,
                      nc_error *err)
{
    const char *key = is_pe ? "pe_table" : "mem_table";
    char *path = NULL;
    int rc = nc_section_get_path(sec, key, NULL, &path, err);
    if (rc)
        return rc;
    int needed = is_pe ? capsacc_needs_pe_table(c) : capsacc_needs_mem_table(c);
    if (!path) {
        if (!needed)
            return NC_OK;
        char which[200];
        differing_settings(c, !is_pe, which, sizeof which);
        nc_error_set(err, NC_ERR_INPUT,
                     "accelerator: %s differ%s from the built-in configuration "
                     "(period_ns=3 acc_bits=25 pe_stages=1 pe_width=1): set "
                     "accelerator.%s to the synthesis table %s.csv",
                     which, strchr(which, ' ') ? "" : "s", key, key);
        return prefix_where(sec, figure_keys, 4, err);
    }
    /* A table that cannot be read is the setting's fault: say which. */
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        nc_section_error(sec, key, err, "cannot open '%s': %s", path, strerror(e));
        free(path);
        return NC_ERR_INPUT;
    }
    fclose(f);
    rc = is_pe ? capsacc_load_pe_table(c, path, err)
               : capsacc_load_mem_table(c, path, err);
    free(path);
    if (rc) {
        /* A malformed file names itself; a refused configuration is
         * located at the settings that chose it. */
        if (strncmp(err->msg, "accelerator:", 12) == 0) {
            const char *keys[5] = {figure_keys[0], figure_keys[1],
                                   is_pe ? figure_keys[2] : NULL,
                                   is_pe ? figure_keys[3] : NULL, key};
            prefix_where(sec, keys, 5, err);
        }
        return rc;
    }
    return NC_OK;
}

static int capsacc_create(const nc_section *sec, void **instance, nc_error *err)
{
    *instance = NULL;
    capsacc *a = calloc(1, sizeof *a);
    if (!a)
        return nc_error_set(err, NC_ERR_INTERNAL, "accelerator: out of memory");
    capsacc_config_default(&a->config);
    int rc = read_settings(sec, &a->config, err);
    if (!rc)
        rc = load_table(sec, &a->config, 1, err);
    if (!rc)
        rc = load_table(sec, &a->config, 0, err);
    if (rc) {
        free(a);
        return rc;
    }
    const capsacc_config *c = &a->config;
    snprintf(a->description, sizeof a->description,
             "CapsAcc %lldx%lld PEs (width %lld, %lld stage%s), %g ns, %lld-bit "
             "accumulators, P_pe %g mW, P_mem %g mW",
             (long long)c->rows, (long long)c->cols, (long long)c->pe_width,
             (long long)c->pe_stages, c->pe_stages == 1 ? "" : "s", c->period_ns,
             (long long)c->acc_bits, c->p_pe_mw, c->p_mem_mw);
    *instance = a;
    return NC_OK;
}

static int capsacc_op_cost(void *instance, const nc_hw_op *op, nc_hw_cost *out,
                           nc_error *err)
{
    return capsacc_cost(&((const capsacc *)instance)->config, op, out, err);
}

static void capsacc_destroy(void *instance)
{
    free(instance);
}

static const char *capsacc_describe(void *instance)
{
    return ((const capsacc *)instance)->description;
}

static const nc_accelerator_ops capsacc_ops = {
    .size = sizeof(nc_accelerator_ops),
    .settings = capsacc_settings,
    .create = capsacc_create,
    .cost = capsacc_op_cost,
    .destroy = capsacc_destroy,
    .describe = capsacc_describe,
};

static const nc_plugin_desc capsacc_descs[] = {
    NC_PLUGIN_DESCRIPTOR(NC_KIND_ACCELERATOR, "capsacc", "1.0.0",
                         "CapsAcc systolic-array model (NASCaps reference: energy, latency, memory)",
                         &capsacc_ops),
};

NC_PLUGIN_ENTRY(capsacc_descs)
