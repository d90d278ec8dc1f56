/* nascaps/registry.h - finding and loading plugins (the loader).
 *
 * Search path, in order (first plugin of a kind+name wins, later ones are
 * kept as "shadowed"):
 *   1. folders added with nc_registry_add_dir() (the pipeline's plugin_path)
 *   2. $NASCAPS_PLUGIN_PATH (colon-separated)
 *   3. the build tree's plugin folder (only when libnascaps runs from it)
 *   4. the installed plugin folder, found relative to libnascaps (dladdr)
 * Every refusal is ONE line naming the file and the reason. */
#ifndef NASCAPS_REGISTRY_H
#define NASCAPS_REGISTRY_H

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nc_registry nc_registry;

typedef struct nc_plugin_info {
    const nc_plugin_desc *desc;   /* borrowed; valid while the registry lives */
    const char *file;             /* path of the .so */
    const char *origin;           /* "plugin_path", "NASCAPS_PLUGIN_PATH",
                                     "build", "installed", "explicit" */
    int shadowed;                 /* an earlier plugin of the same kind+name wins */
    /* The plugin's settings table in the current (ABI 1.3) layout, checked
     * and copied at load time (an older plugin's table converted, with no
     * bounds); an empty table when the plugin lists none. Borrowed. */
    const nc_setting_spec *settings;
} nc_plugin_info;

nc_registry *nc_registry_new(void);
void nc_registry_free(nc_registry *reg);

/* Adds a search folder ahead of the environment/build/installed folders,
 * in call order. `where` ("FILE:LINE" of the setting, or NULL) prefixes
 * messages about this folder. */
int nc_registry_add_dir(nc_registry *reg, const char *dir, const char *where,
                        nc_error *err);

/* Scans every folder of the search path (once; later calls rescan nothing).
 * Files that fail to load are recorded as refusals, not returned as
 * errors: the host keeps running. */
int nc_registry_scan(nc_registry *reg, nc_error *err);

size_t nc_registry_count(const nc_registry *reg);
const nc_plugin_info *nc_registry_at(const nc_registry *reg, size_t i);
/* Refusal lines collected while scanning. */
size_t nc_registry_refusal_count(const nc_registry *reg);
const char *nc_registry_refusal_at(const nc_registry *reg, size_t i);
/* The folders searched, in order (NULL past the end). */
const char *nc_registry_dir_at(const nc_registry *reg, size_t i);

/* Finds a plugin of `kind` by name (scanning if needed) or, when `what`
 * contains a '/' or ends in ".so", loads that file. `where` ("FILE:LINE"
 * of the setting that asked, or NULL) prefixes the message on failure.
 * A refusal recorded for the file that would have provided the name is
 * reported as the reason. */
int nc_registry_find(nc_registry *reg, int kind, const char *what,
                     const char *where, const nc_plugin_info **out,
                     nc_error *err);

/* Loads one file and checks it as a plugin, whatever its folder: used by
 * tests and by explicit paths. Adds its plugins (origin "explicit"). */
int nc_registry_load_file(nc_registry *reg, const char *path,
                          const char *where, nc_error *err);

/* ---- Opening a plugin from its pipeline section (plugin_open.c) --------
 *
 * Every command and module opens its accelerator, dataset and optimizer
 * through nc_plugin_open: read `plugin` from the kind's section (a name, or
 * a path relative to the pipeline's folder), find it (ABI checked at load),
 * check the kind's required entries, check the section's names against the
 * kind's `plugin` key, the host's own keys of that section and the plugin's
 * table, check every value of the plugin's table (type, range, choices),
 * then call the kind's create. */

struct nc_pipeline;

typedef struct nc_plugin_ref {
    const nc_plugin_info *info;   /* borrowed from the registry */
    const void *ops;              /* info->desc->ops */
    const nc_section *section;    /* the kind's section */
    char where[4160];             /* "FILE:LINE" of `plugin`, the override's
                                     label, or "" (the default) */
} nc_plugin_ref;

/* The section of a kind ("accelerator", "dataset", "optimizer"; NULL for
 * layers) and its `plugin` key's table (default and help). */
const char *nc_plugin_section_of(int kind);
const nc_setting_spec *nc_plugin_key_settings(int kind);

/* The plugin name or path the pipeline asks for (borrowed from the
 * pipeline, or the kind's default); NULL with err set when malformed. */
const char *nc_plugin_name_of(const struct nc_pipeline *p, int kind,
                              nc_error *err);

/* Called by nc_plugin_open once everything is checked; creates the
 * kind's instance into ctx. */
typedef int (*nc_plugin_create_fn)(const nc_plugin_ref *ref, void *ctx,
                                   nc_error *err);

/* override: a name or path that replaces the section's `plugin` (e.g.
 * `--accelerator`), labelled override_label in messages; NULL: none.
 * host: the host's own keys of the section besides `plugin` (NULL: none).
 * create may be NULL (find and check only). */
int nc_plugin_open(nc_registry *reg, const struct nc_pipeline *p, int kind,
                   const char *override, const char *override_label,
                   const nc_setting_spec *host, nc_plugin_create_fn create,
                   void *ctx, nc_plugin_ref *out, nc_error *err);

/* A layer plugin's section `layers.NAME`, its names and values checked
 * against the plugin's table. */
int nc_plugin_layer_section(const struct nc_pipeline *p,
                            const nc_plugin_info *info,
                            const nc_section **out, nc_error *err);

/* Ops table of a found plugin, with its size checked against the kind's
 * minimum at load time. */
static inline const void *nc_plugin_ops(const nc_plugin_info *info)
{
    return info->desc->ops;
}

#ifdef __cplusplus
}
#endif
#endif
