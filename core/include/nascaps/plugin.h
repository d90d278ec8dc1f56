/* nascaps/plugin.h - plugin ABI v1.
 *
 * A plugin is a shared object exporting ONE symbol, NC_PLUGIN_ENTRY_SYMBOL:
 *
 *     const nc_plugin_desc *nascaps_plugin_entry(uint32_t index);
 *
 * It returns the index-th descriptor the file carries and NULL past the
 * end, so one .so may carry several plugins (as LV2 does). A descriptor
 * names the ABI it was built against, its kind, name, version, a one-line
 * summary and the kind's ops table. Every ops table starts with its own
 * size in bytes; fields are only ever appended (a minor ABI bump), each
 * commented with the ABI version that added it, and the host checks the
 * size before reading a field and NULL before calling an optional one.
 *
 * The host accepts a plugin whose abi_major equals NC_ABI_MAJOR and whose
 * abi_minor is not newer than NC_ABI_MINOR. Use NC_PLUGIN_DESCRIPTOR() so
 * the numbers come from the headers the plugin was built with.
 *
 * ABI history: 1.0 the four kinds with costing and data entries;
 * 1.1 layer training entries (layer.h); 1.2 optimizer search entries
 * (optimizer.h); 1.3 setting tables with bounds, choices and aliases
 * (settings.h), layer settings (layer.h) and the optimizer's planned
 * tells (optimizer.h). */
#ifndef NASCAPS_PLUGIN_H
#define NASCAPS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "settings.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NC_ABI_MAJOR 1
#define NC_ABI_MINOR 3

#define NC_PLUGIN_ENTRY_SYMBOL "nascaps_plugin_entry"

typedef enum nc_plugin_kind {
    NC_KIND_LAYER = 1,
    NC_KIND_ACCELERATOR = 2,
    NC_KIND_OPTIMIZER = 3,
    NC_KIND_DATASET = 4
} nc_plugin_kind;

/* "layer", "accelerator", ...; NULL for an unknown kind. */
const char *nc_plugin_kind_name(int kind);

typedef struct nc_plugin_desc {
    uint32_t abi_major;     /* NC_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor;     /* NC_ABI_MINOR the plugin was built with */
    int32_t kind;           /* an nc_plugin_kind */
    const char *name;       /* unique within its kind: [a-z0-9_-]+ */
    const char *version;    /* the plugin's own version, e.g. "1.0.0" */
    const char *summary;    /* one line */
    const void *ops;        /* the kind's ops table; first field: uint32_t size */
} nc_plugin_desc;

typedef const nc_plugin_desc *(*nc_plugin_entry_fn)(uint32_t index);

#if defined(__GNUC__)
#define NC_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define NC_PLUGIN_EXPORT
#endif

/* Fills a descriptor with the ABI numbers of these headers. */
#define NC_PLUGIN_DESCRIPTOR(KIND, NAME, VERSION, SUMMARY, OPS) \
    { NC_ABI_MAJOR, NC_ABI_MINOR, (KIND), (NAME), (VERSION), (SUMMARY), (OPS) }

/* Defines the entry symbol for a file carrying the given descriptors:
 *     static const nc_plugin_desc descs[] = { NC_PLUGIN_DESCRIPTOR(...) };
 *     NC_PLUGIN_ENTRY(descs)                                             */
#define NC_PLUGIN_ENTRY(DESCS)                                              \
    NC_PLUGIN_EXPORT const nc_plugin_desc *nascaps_plugin_entry(uint32_t i); \
    NC_PLUGIN_EXPORT const nc_plugin_desc *nascaps_plugin_entry(uint32_t i) \
    {                                                                       \
        return i < sizeof(DESCS) / sizeof((DESCS)[0]) ? &(DESCS)[i] : NULL; \
    }

#ifdef __cplusplus
}
#endif
#endif
