/* core_settings.c - the settings the core itself uses: the run seed, the
 * plugin folders, the objectives and the output folder. Every other
 * section belongs to the module that uses it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_priv.h"

const nc_setting_spec nc_core_settings[] = {
    NC_SETTING_INT_MIN("seed", 1, 0, "one seed for every random choice of the run"),
    {"plugin_path", NC_SET_STRING_LIST, "[]",
     "extra plugin folders, searched first (relative to the pipeline's "
     "folder)", 0, 0, 0, NULL, NULL},
    {"baselines", NC_SET_STRING_LIST, "[]",
     "genotype files evaluated like candidates (never told to the optimizer) and "
     "compared with the front in reports (relative to the pipeline's folder)",
     0, 0, 0, NULL, NULL},
    {"objectives", NC_SET_STRING_LIST,
     "[\"accuracy_drop\", \"energy\", \"latency\", \"memory\"]",
     "what the search minimises: distinct names from accuracy_drop, energy, "
     "latency, memory, params, macs", 0, 0, 0, NULL, NULL},
    NC_SETTING_END};

const nc_setting_spec nc_output_settings[] = {
    {"dir", NC_SET_STRING, "\"runs/<pipeline name>\"",
     "output folder (results.db, pareto.csv, pareto.json, .chr files)",
     NC_SETF_PATH, 0, 0, NULL, NULL},
    NC_SETTING_END};

static int oom(nc_error *err)
{
    return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
}

int nc_core_seed(const nc_pipeline *p, uint64_t *seed, nc_error *err)
{
    int64_t v = 0;
    if (nc_setting_int(nc_pipeline_section(p, ""), nc_core_settings, "seed",
                       &v, err))
        return err->status;
    *seed = (uint64_t)v;
    return NC_OK;
}

/* The default list is the table's text; nc_objective_name gives the ids. */
static int read_objectives(const nc_section *root, nc_settings *out,
                           nc_error *err)
{
    static const int defaults[] = {NC_OBJ_ACCURACY_DROP, NC_OBJ_ENERGY,
                                   NC_OBJ_LATENCY, NC_OBJ_MEMORY};
    const config_setting_t *s = nc_pl_lookup(root, "objectives");
    if (!s) {
        out->n_objectives = 4;
        memcpy(out->objectives, defaults, sizeof defaults);
        return NC_OK;
    }
    const char *names[NC_OBJ_COUNT];
    for (int o = 0; o < NC_OBJ_COUNT; o++)
        names[o] = nc_objective_name(o);
    int type = config_setting_type(s);
    int n = type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST
                ? config_setting_length(s) : -1;
    int ok = n >= 1 && n <= NC_OBJ_COUNT;
    const char *misspelt = NULL;
    for (int i = 0; ok && i < n; i++) {
        const char *v = config_setting_get_string_elem(s, i);
        int found = -1;
        for (int o = 0; v && o < NC_OBJ_COUNT; o++)
            if (strcmp(v, names[o]) == 0)
                found = o;
        for (int j = 0; found >= 0 && j < i; j++)
            if (out->objectives[j] == found)
                found = -1;
        if (found < 0) {
            ok = 0;
            if (v)
                misspelt = nc_nearest_name(v, names, NC_OBJ_COUNT);
            if (misspelt && strcmp(misspelt, v) == 0)
                misspelt = NULL;   /* a duplicate, not a typo */
        } else
            out->objectives[i] = found;
    }
    if (ok) {
        out->n_objectives = n;
        return NC_OK;
    }
    nc_pl_value_error(root, "objectives", s, err,
                      "expected a non-empty list of distinct names from "
                      "\"accuracy_drop\", \"energy\", \"latency\", \"memory\", "
                      "\"params\", \"macs\"");
    if (misspelt) {
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len,
                 " (did you mean \"%s\"?)", misspelt);
    }
    return NC_ERR_INPUT;
}

/* A list of paths (plugin_path, baselines), each relative to the folder
 * of the file that set the list. */
static int read_path_list(const nc_pipeline *p, const nc_section *root, const char *key,
                          char ***out, size_t *count, nc_error *err)
{
    const char **list = NULL;
    size_t n = 0;
    if (nc_section_get_string_list(root, key, &list, &n, err))
        return err->status;
    if (n == 0)
        return NC_OK;
    char dirbuf[NC_PATH_MAX];
    const char *dir = nc_pl_base_dir(p, nc_pl_lookup(root, key), dirbuf, sizeof dirbuf);
    *out = calloc(n, sizeof **out);
    if (!*out) {
        free(list);
        return oom(err);
    }
    for (size_t i = 0; i < n; i++) {
        if (!((*out)[i] = nc_pl_join(dir, list[i]))) {
            free(list);
            return oom(err);
        }
        *count = i + 1;
    }
    free(list);
    return NC_OK;
}

static int read_output_dir(const nc_pipeline *p, nc_settings *out,
                           nc_error *err)
{
    const nc_section *sec = nc_pipeline_section(p, "output");
    const nc_setting_spec *const tables[] = {nc_output_settings, NULL};
    if (nc_pipeline_check_keys(p, "output", tables, NULL, err))
        return err->status;
    char def[NC_PATH_MAX], *path;
    snprintf(def, sizeof def, "runs/%s", nc_pipeline_name(p));
    if (nc_section_get_path(sec, "dir", def, &path, err))
        return err->status;
    size_t n = strlen(path);
    if (n < sizeof out->output_dir)
        memcpy(out->output_dir, path, n + 1);
    free(path);
    if (n >= sizeof out->output_dir)
        return nc_pl_value_error(sec, "dir", nc_pl_lookup(sec, "dir"), err,
                                 "expected a path shorter than %d bytes",
                                 NC_PATH_MAX);
    return NC_OK;
}

int nc_core_settings_read(const nc_pipeline *p, nc_settings *s, nc_error *err)
{
    const nc_section *root = nc_pipeline_section(p, "");
    if (nc_core_seed(p, &s->seed, err) ||
        read_path_list(p, root, "plugin_path", &s->plugin_path, &s->n_plugin_path, err) ||
        read_path_list(p, root, "baselines", &s->baselines, &s->n_baselines, err) ||
        read_objectives(root, s, err) || read_output_dir(p, s, err))
        return err->status;
    return NC_OK;
}

void nc_settings_free(nc_settings *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_plugin_path; i++)
        free(s->plugin_path[i]);
    free(s->plugin_path);
    s->plugin_path = NULL;
    s->n_plugin_path = 0;
    for (size_t i = 0; i < s->n_baselines; i++)
        free(s->baselines[i]);
    free(s->baselines);
    s->baselines = NULL;
    s->n_baselines = 0;
}
