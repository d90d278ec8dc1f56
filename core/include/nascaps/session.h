/* nascaps/session.h - a pipeline opened for a command: the file with its
 * --set overrides, every setting read by its owner, and a registry with
 * the pipeline's plugin_path. Every command opens one this way.
 *
 *     nc_session *s;
 *     if (nc_session_open("p.cfg", sets, n_sets, &s, &err)) ...
 *     if (nc_session_check(s, NULL, &err)) ...     (what validate/run check)
 *     nc_run(s->registry, s->pipeline, &s->settings, ...);
 *     nc_session_free(s);
 *
 * Owners of the sections (docs/ARCHITECTURE.md, "Settings"): the top level
 * and output (core_settings.c), training (train.h), dataset (data.h; its
 * plugin's keys by the plugin), accelerator and optimizer (their plugins,
 * opened by nc_plugin_open), final_training and search (run.h),
 * search_space (search.h), correlate (correlate.h), layers.NAME (the layer
 * plugin NAME). */
#ifndef NASCAPS_SESSION_H
#define NASCAPS_SESSION_H

#include <stddef.h>

#include "data.h"
#include "error.h"
#include "pipeline.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nc_session {
    nc_pipeline *pipeline;
    nc_settings settings;
    nc_registry *registry;
} nc_session;

/* path NULL: built-in defaults. Reads every setting that needs no plugin
 * (nc_pipeline_settings) and adds plugin_path to a new registry. */
int nc_session_open(const char *path, const char *const *overrides,
                    size_t n_overrides, nc_session **out, nc_error *err);
void nc_session_free(nc_session *s);

/* Gathers the settings a run needs from their owners, refusing unknown
 * names at the top level and in every section that has no plugin. */
int nc_pipeline_settings(const nc_pipeline *p, nc_settings *out,
                         nc_error *err);

/* What nc_session_check found (any pointer may be NULL). */
typedef struct nc_session_facts {
    nc_data_summary data;        /* the dataset as opened */
    char accelerator[256];       /* the accelerator's description */
    char data_plugin[72];        /* data.plugin points here */
    char data_description[256];  /* data.description points here */
    const nc_plugin_info *accelerator_plugin, *optimizer_plugin;
} nc_session_facts;

/* Everything `run`, `train` and `correlate` check before they start, in
 * the same calls: the dataset opened through its plugin, the accelerator
 * created, the search space read for the dataset's shape, the optimizer
 * created (when the pipeline names one or searches), every layers.NAME
 * section against its plugin, the correlate section. `nascaps validate`
 * is this call. */
int nc_session_check(nc_session *s, nc_session_facts *facts, nc_error *err);

/* ---- Discoverability ------------------------------------------------- */

/* A section of the pipeline with a fixed owner. */
typedef struct nc_settings_section {
    const char *path;                /* "" for the top level */
    const nc_setting_spec *table;
    const char *owner;               /* one line: who reads it */
} nc_settings_section;

/* The sections the core owns, NULL past the end. */
const nc_settings_section *nc_settings_section_at(size_t i);

#ifdef __cplusplus
}
#endif
#endif
