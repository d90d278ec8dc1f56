/* session.c - opening a pipeline for a command, gathering the settings
 * from their owners, and the one check that validate and run share. The
 * top floor of libnascaps: it knows every section's owner. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nascaps/correlate.h"
#include "nascaps/estimate.h"
#include "nascaps/optimizer.h"
#include "nascaps/run.h"
#include "nascaps/search.h"
#include "nascaps/session.h"
#include "nascaps/train.h"

static const nc_settings_section core_sections[] = {
    {"", nc_core_settings, "the core (seed, plugin folders, objectives)"},
    {"output", nc_output_settings, "the run's output folder"},
    {"training", nc_training_settings, "the trainer (every candidate)"},
    {"final_training", nc_final_training_settings, "stage 2 of a run"},
    {"search", nc_search_settings, "the run loop"},
    {"run", nc_run_section_settings, "the run loop's executor (docs/SCALE.md)"},
    {"constraints", nc_constraints_settings,
     "hardware budgets: a candidate over one is costed, not trained, infeasible"},
    {"dataset", nc_data_settings,
     "the data services; `plugin` and the dataset plugin's own keys too"},
    {"search_space", nc_search_space_settings, "the search space generator"},
    {"correlate", nc_correlate_settings, "nascaps correlate"},
};
#define N_CORE_SECTIONS (sizeof core_sections / sizeof core_sections[0])

/* The top level's groups: the sections above, the plugin sections and
 * layers (whose subsections are layer plugins). */
static const char *const top_groups[] = {
    "output", "training", "final_training", "search", "run", "constraints", "dataset",
    "accelerator",
    "optimizer", "search_space", "correlate", "layers", NULL};

const nc_settings_section *nc_settings_section_at(size_t i)
{
    return i < N_CORE_SECTIONS ? &core_sections[i] : NULL;
}

/* A key of a core section written at the top level ("epochs"): the one
 * case where the nearest name is in another section. */
static int misplaced_key(const nc_pipeline *p, nc_error *err)
{
    const char *names[256];
    size_t n = nc_pipeline_members(p, "", names, 256);
    for (size_t i = 0; i < n && i < 256; i++) {
        if (nc_setting_find(nc_core_settings, names[i]))
            continue;
        int group = 0;
        for (size_t g = 0; top_groups[g]; g++)
            group = group || strcmp(top_groups[g], names[i]) == 0;
        if (group)
            continue;
        for (size_t s = 1; s < N_CORE_SECTIONS; s++)
            if (nc_setting_find(core_sections[s].table, names[i])) {
                char where[NC_PATH_MAX + 64];
                nc_section_where(nc_pipeline_section(p, ""), names[i], where, sizeof where);
                return nc_error_set(err, NC_ERR_INPUT,
                                    "%s: unknown setting '%s' (did you mean '%s.%s'?)", where,
                                    names[i], core_sections[s].path, names[i]);
            }
    }
    return NC_OK;
}

int nc_pipeline_settings(const nc_pipeline *p, nc_settings *out, nc_error *err)
{
    memset(out, 0, sizeof *out);
    out->pipeline = p;
    const nc_setting_spec *const top[] = {nc_core_settings, NULL};
    nc_data_options dopt = {0, 0, 0, -1, 1};
    static const char *const norms[] = {"none", "standard"};
    if (misplaced_key(p, err) || nc_pipeline_check_keys(p, "", top, top_groups, err) ||
        nc_core_settings_read(p, out, err) ||
        nc_training_settings_read(p, out, err) ||
        nc_run_settings_read(p, out, err) ||
        nc_data_options_read(p, &dopt, err) ||
        !(out->dataset.plugin = nc_plugin_name_of(p, NC_KIND_DATASET, err)) ||
        !(out->accelerator_plugin = nc_plugin_name_of(p, NC_KIND_ACCELERATOR, err)) ||
        !(out->optimizer_plugin = nc_plugin_name_of(p, NC_KIND_OPTIMIZER, err))) {
        nc_settings_free(out);
        return err->status;
    }
    out->dataset.train_subset = dopt.train_subset;
    out->dataset.test_subset = dopt.test_subset;
    out->dataset.validation = dopt.validation;
    out->dataset.normalize = dopt.normalize >= 0 ? norms[dopt.normalize] : NULL;

    /* Sections read later with what a run knows then (the dataset's
     * shape): checked now so that a typo fails before anything starts. */
    nc_search_space space;
    nc_correlate_cfg ccfg;
    if (nc_space_from_section(nc_pipeline_section(p, "search_space"), NULL, &space,
                              err) ||
        nc_correlate_cfg_read(p, &ccfg, err)) {
        nc_settings_free(out);
        return err->status;
    }
    return NC_OK;
}

int nc_session_open(const char *path, const char *const *overrides,
                    size_t n_overrides, nc_session **out, nc_error *err)
{
    *out = NULL;
    nc_session *s = calloc(1, sizeof *s);
    if (!s)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    int rc = nc_pipeline_load(path, overrides, n_overrides, &s->pipeline, err);
    if (!rc)
        rc = nc_pipeline_settings(s->pipeline, &s->settings, err);
    if (!rc && !(s->registry = nc_registry_new()))
        rc = nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    const nc_section *root = nc_pipeline_section(s->pipeline, "");
    for (size_t i = 0; !rc && i < s->settings.n_plugin_path; i++) {
        char where[NC_PATH_MAX + 64];
        nc_section_where(root, "plugin_path", where, sizeof where);
        rc = nc_registry_add_dir(s->registry, s->settings.plugin_path[i], where,
                                 err);
    }
    if (rc) {
        nc_session_free(s);
        return rc;
    }
    *out = s;
    return NC_OK;
}

void nc_session_free(nc_session *s)
{
    if (!s)
        return;
    nc_registry_free(s->registry);
    nc_settings_free(&s->settings);
    nc_pipeline_free(s->pipeline);
    free(s);
}

/* Every layers.NAME must name a layer plugin; each is checked against the
 * plugin's table (the role plugins are checked even when absent, which
 * also reads their aliases, e.g. training.conv_activation). */
static int check_layers(nc_session *s, nc_error *err)
{
    const nc_pipeline *p = s->pipeline;
    const char *names[64];
    size_t n = nc_pipeline_subsections(p, "layers", names, 64);
    const nc_setting_spec *const none[] = {NULL};
    const char *roles[8];
    size_t nr = 0;
    for (int r = NC_ROLE_CONV; r <= NC_ROLE_FLATCAPS; r++) {
        const char *name = nc_layer_role_plugin((nc_layer_role)r);
        int seen = 0;
        for (size_t j = 0; j < nr; j++)
            seen = seen || strcmp(roles[j], name) == 0;
        if (!seen)
            roles[nr++] = name;
    }
    roles[nr] = NULL;
    /* a group per layer plugin; values are plugin sections */
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++) {
        const nc_plugin_info *info;
        char where[NC_PATH_MAX + 64];
        nc_section_where(nc_pipeline_section(p, "layers"), names[i], where,
                         sizeof where);
        if (nc_registry_find(s->registry, NC_KIND_LAYER, names[i], where, &info,
                             err))
            return err->status;
    }
    if (nc_pipeline_check_keys(p, "layers", none, n ? names : roles, err))
        return err->status;
    for (size_t i = 0; i < nr; i++) {
        const nc_plugin_info *info;
        const nc_section *sec;
        if (nc_registry_find(s->registry, NC_KIND_LAYER, roles[i], NULL, &info,
                             err) ||
            nc_plugin_layer_section(p, info, &sec, err))
            return err->status;
    }
    for (size_t i = 0; i < n; i++) {
        const nc_plugin_info *info;
        const nc_section *sec;
        if (nc_registry_find(s->registry, NC_KIND_LAYER, names[i], NULL, &info,
                             err) ||
            nc_plugin_layer_section(p, info, &sec, err))
            return err->status;
    }
    return NC_OK;
}

int nc_session_check(nc_session *s, nc_session_facts *facts, nc_error *err)
{
    nc_session_facts local;
    if (!facts)
        facts = &local;
    memset(facts, 0, sizeof *facts);
    const nc_pipeline *p = s->pipeline;
    nc_data *data = NULL;
    nc_accelerator *acc = NULL;
    nc_data_shape shape;
    nc_search_space space;
    int rc;
    if ((rc = check_layers(s, err)) ||
        (rc = nc_data_open(s->registry, p, &data, err)) ||
        (rc = nc_data_shape_of(data, &shape, err)) ||
        (rc = nc_accelerator_open(s->registry, p, NULL, &acc, err)) ||
        (rc = nc_space_from_section(nc_pipeline_section(p, "search_space"), &shape,
                                    &space, err)))
        goto out;
    /* the baselines the run will evaluate: each loads and fits the data */
    for (size_t i = 0; i < s->settings.n_baselines; i++) {
        nc_genotype g;
        if ((rc = nc_run_baseline_load(s->settings.baselines[i], &shape, &g, err)))
            goto out;
    }
    facts->data = *nc_data_info(data);
    snprintf(facts->data_plugin, sizeof facts->data_plugin, "%s", facts->data.plugin);
    facts->data.plugin = facts->data_plugin;
    snprintf(facts->data_description, sizeof facts->data_description, "%s",
             facts->data.description ? facts->data.description : "");
    facts->data.description = facts->data_description;
    /* the registry's record (the accelerator's copy goes with it) */
    for (size_t i = 0; i < nc_registry_count(s->registry); i++)
        if (nc_registry_at(s->registry, i)->desc == nc_accelerator_plugin(acc)->desc)
            facts->accelerator_plugin = nc_registry_at(s->registry, i);
    snprintf(facts->accelerator, sizeof facts->accelerator, "%s",
             nc_accelerator_describe(acc));
    /* the optimizer as the run creates it, then destroyed */
    nc_rng rng;
    nc_rng_derive(&rng, s->settings.seed, "optimizer");
    nc_optimizer_env env = {0};
    env.space = &space;
    env.rng = &rng;
    env.n_objectives = s->settings.n_objectives;
    const nc_optimizer_ops *ops;
    void *h;
    /* Only `nascaps run` needs an optimizer: a pipeline that leaves the
     * section out still validates when the default is not installed
     * (facts say so), as `train` and `estimate` do not need one. */
    const nc_plugin_info *oi;
    if (!nc_pipeline_has_section(p, "optimizer") &&
        nc_registry_find(s->registry, NC_KIND_OPTIMIZER, s->settings.optimizer_plugin,
                         NULL, &oi, err) != NC_OK) {
        nc_error_clear(err);
        rc = NC_OK;
    } else if ((rc = nc_optimizer_open(s->registry, p, &env, &ops, &h,
                                       &facts->optimizer_plugin, err)) == NC_OK)
        ops->destroy(h);
out:
    nc_accelerator_close(acc);
    nc_data_close(data);
    return rc;
}
