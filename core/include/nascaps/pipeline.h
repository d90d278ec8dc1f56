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

/* The core's settings, validated (docs/CONFIG.md has each one). String
 * pointers are borrowed from the pipeline. */
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
        const char *conv_activation;   /* "relu" or "none" */
        int64_t max_params, max_memory_mb;
        double time_limit_s;
        int threads;
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

    struct {
        int workers;                  /* local worker processes; 0, 1: none */
    } run;
} nc_settings;

/* Validates every core setting and refuses unknown names in the core's own
 * groups (with the nearest known name suggested). Plugin sections
 * (dataset, accelerator, optimizer) are checked only for their core keys
 * here; see nc_pipeline_check_section(). */
int nc_pipeline_settings(const nc_pipeline *p, nc_settings *out,
                         nc_error *err);
void nc_settings_free(nc_settings *s);   /* frees plugin_path */

/* Refuses any key of section `path` that is neither a core key of that
 * section nor in the plugin's spec (NULL-terminated), suggesting the
 * nearest known name. */
int nc_pipeline_check_section(const nc_pipeline *p, const char *path,
                              const nc_setting_spec *plugin_spec,
                              nc_error *err);

/* The core's own settings (the table docs/CONFIG.md documents): full
 * dotted names, types, defaults as libconfig text, one-line help. */
size_t nc_pipeline_core_count(void);
const nc_setting_spec *nc_pipeline_core_at(size_t i);   /* NULL past the end */

/* Nearest of candidates to word by edit distance (NULL when nothing is
 * close enough to suggest). */
const char *nc_nearest_name(const char *word, const char *const *candidates,
                            size_t n);

#ifdef __cplusplus
}
#endif
#endif
