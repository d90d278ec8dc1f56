/* nascaps/pipeline.h - pipeline files (libconfig) and the core settings.
 *
 * Every setting name is listed in docs/CONFIG.md (and docs/ARCHITECTURE.md
 * section 9). A pipeline is loaded once, with the --set overrides applied
 * on top; core settings are validated by nc_pipeline_settings(), a plugin
 * section by nc_pipeline_check_section() against the plugin's spec. */
#ifndef NASCAPS_PIPELINE_H
#define NASCAPS_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "settings.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nc_pipeline nc_pipeline;

/* Loads path (NULL: no file, built-in defaults only) and applies overrides
 * "KEY=VALUE" in order. VALUE parses as a libconfig literal (5, 0.1, "x",
 * true, [1,2]) and otherwise as a plain string. Syntax errors give
 * "FILE:LINE: syntax error ..."; a malformed override gives
 * "--set KEY=VALUE: ...". */
int nc_pipeline_load(const char *path, const char *const *overrides,
                     size_t n_overrides, nc_pipeline **out, nc_error *err);
void nc_pipeline_free(nc_pipeline *p);

/* The file given (NULL for defaults), and its name: basename without
 * ".cfg" ("defaults" without a file). */
const char *nc_pipeline_file(const nc_pipeline *p);
const char *nc_pipeline_name(const nc_pipeline *p);

/* The whole effective configuration (file + overrides) as libconfig
 * text, for the results store. malloc'd; the caller frees. */
char *nc_pipeline_text(const nc_pipeline *p);

/* A section by dotted path ("dataset", "accelerator", "" = the root).
 * Never NULL: an absent section reads as all defaults (p may be NULL).
 * Borrowed; the same pointer for the same path. Safe to call from several
 * threads: a loaded pipeline is never modified. */
const nc_section *nc_pipeline_section(const nc_pipeline *p, const char *path);

/* Objectives a search can minimise. */
typedef enum nc_objective {
    NC_OBJ_ACCURACY_DROP = 0,
    NC_OBJ_ENERGY,
    NC_OBJ_LATENCY,
    NC_OBJ_MEMORY,
    NC_OBJ_PARAMS,
    NC_OBJ_MACS,
    NC_OBJ_COUNT
} nc_objective;
const char *nc_objective_name(int obj);

#define NC_PATH_MAX 4096

/* ---- The core's own settings (core_settings.c) ------------------------ */

/* Tables of the top level (seed, plugin_path, objectives) and of the
 * output section (dir). */
extern const nc_setting_spec nc_core_settings[];
extern const nc_setting_spec nc_output_settings[];

/* The run seed (`seed`). */
int nc_core_seed(const nc_pipeline *p, uint64_t *seed, nc_error *err);

/* The settings a run needs, gathered from their owners by
 * nc_pipeline_settings() (nascaps/session.h): the top-level keys and
 * output.dir (core_settings.c), dataset.* (data.h), training.* (train.h),
 * final_training and search (run.h), the plugin names (nc_plugin_open).
 * This struct only carries values: each owner's table holds the names,
 * defaults and bounds (docs/CONFIG.md). String pointers are borrowed from
 * the pipeline. */
typedef struct nc_settings {
    uint64_t seed;
    size_t n_plugin_path;
    char **plugin_path;             /* resolved against the pipeline's folder */

    struct {
        const char *plugin;         /* "idx" */
        int64_t train_subset, test_subset, validation;
        const char *normalize;      /* NULL: the plugin's default */
    } dataset;

    struct {
        int epochs, batch_size;
        double learning_rate, lr_decay;
        int routings;
        double recon_weight, shift_fraction;
        int64_t max_params, max_memory_mb;
        double time_limit_s;
        int threads;
        /* early stopping (nascaps/prune.h) */
        int prune;                      /* 0 "none", 1 "dominance" */
        double prune_quantile, prune_margin;
        int prune_min_history, prune_min_epochs;
    } training;

    struct {
        int epochs;
    } final_training;

    const char *accelerator_plugin;   /* "capsacc" */
    const char *optimizer_plugin;     /* "nsga2" */

    int n_objectives;
    int objectives[NC_OBJ_COUNT];     /* nc_objective values, in given order */

    struct {
        double time_limit_h;
    } search;

    char output_dir[NC_PATH_MAX];     /* "runs/<pipeline name>" by default */

    /* The pipeline these were read from (borrowed; NULL: defaults): layer
     * plugins read their sections `layers.NAME` from it. */
    const nc_pipeline *pipeline;

    /* baselines: genotype files evaluated like candidates and reported
     * next to the front (docs/REPORT.md); paths resolved like plugin_path */
    char **baselines;
    size_t n_baselines;

    struct {
        int workers;                  /* local worker processes; 0, 1: none */
    } run;

    /* constraints: hardware budgets (NaN: none). A candidate over one is
     * costed but not trained, stored as "over_budget" and infeasible
     * (violation: the sum of its relative excesses). */
    struct {
        double energy_mj, latency_ms, memory_kib, params, macs;
    } constraints;
} nc_settings;

/* Reads the core's own settings (seed, plugin_path resolved against the
 * pipeline's folder, objectives, baselines, output.dir) into s and checks
 * the names of the output section; the rest of s is left as it is. On
 * failure call nc_settings_free. */
int nc_core_settings_read(const nc_pipeline *p, nc_settings *s, nc_error *err);
void nc_settings_free(nc_settings *s);   /* frees plugin_path, baselines */

/* Refuses any member of section `path` ("" = the top level) that is
 * neither a key of one of `tables` (a NULL-terminated array of settings
 * tables) nor one of `groups` (NULL-terminated names of subsections, each
 * required to be a group). The message suggests the nearest name of the
 * SAME section, or lists the section's names when none is near:
 *   FILE:LINE: unknown setting 'optimizer.mutation_rat' (did you mean
 *   'optimizer.mutation_rate'?)
 * An absent section passes. Used by each section's owner; the session
 * (nascaps/session.h) knows the owners. */
int nc_pipeline_check_keys(const nc_pipeline *p, const char *path,
                           const nc_setting_spec *const *tables,
                           const char *const *groups, nc_error *err);

/* Non-zero when the pipeline sets section `path`. */
int nc_pipeline_has_section(const nc_pipeline *p, const char *path);

/* Names of the groups inside section `path` (borrowed from p), at most cap
 * written; returns how many there are. */
size_t nc_pipeline_subsections(const nc_pipeline *p, const char *path,
                               const char **names, size_t cap);

/* Names of every member of section path ("" = top level), at most cap
 * written; returns how many there are. */
size_t nc_pipeline_members(const nc_pipeline *p, const char *path,
                           const char **names, size_t cap);

/* The folder relative paths of the pipeline resolve against (the pipeline
 * file's folder; NULL: the current directory). */
const char *nc_pipeline_dir(const nc_pipeline *p);

/* Nearest of candidates to word by edit distance (NULL when nothing is
 * close enough to suggest). */
const char *nc_nearest_name(const char *word, const char *const *candidates,
                            size_t n);

#ifdef __cplusplus
}
#endif
#endif
