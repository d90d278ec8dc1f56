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
