/* plugin_open.c - one way to open a plugin from its pipeline section:
 * name or path, find, required entries, the section's names and values,
 * create. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nascaps/accelerator.h"
#include "nascaps/dataset.h"
#include "nascaps/layer.h"
#include "nascaps/optimizer.h"
#include "nascaps/pipeline.h"
#include "nascaps/registry.h"

#define ACCELERATOR_DEFAULT "capsacc"
#define DATASET_DEFAULT "idx"
#define OPTIMIZER_DEFAULT "nsga2"

static const nc_setting_spec accelerator_key[] = {
    NC_SETTING_STRING("plugin", ACCELERATOR_DEFAULT, NULL,
                      "accelerator model: a plugin name or a path to a .so "
                      "(relative to the pipeline's folder)"),
    NC_SETTING_END};
static const nc_setting_spec dataset_key[] = {
    NC_SETTING_STRING("plugin", DATASET_DEFAULT, NULL,
                      "dataset plugin: idx, mnist, cifar10, cifar100, svhn, "
                      "synthetic or a path to a .so"),
    NC_SETTING_END};
static const nc_setting_spec optimizer_key[] = {
    NC_SETTING_STRING("plugin", OPTIMIZER_DEFAULT, NULL,
                      "search strategy: nsga2, random or a path to a .so"),
    NC_SETTING_END};

const char *nc_plugin_section_of(int kind)
{
    switch (kind) {
    case NC_KIND_ACCELERATOR: return "accelerator";
    case NC_KIND_DATASET: return "dataset";
    case NC_KIND_OPTIMIZER: return "optimizer";
    }
    return NULL;
}

const nc_setting_spec *nc_plugin_key_settings(int kind)
{
    switch (kind) {
    case NC_KIND_ACCELERATOR: return accelerator_key;
    case NC_KIND_DATASET: return dataset_key;
    case NC_KIND_OPTIMIZER: return optimizer_key;
    }
    return NULL;
}

/* The default name (the same macro as the key's default text). */
static const char *default_name(int kind)
{
    switch (kind) {
    case NC_KIND_ACCELERATOR: return ACCELERATOR_DEFAULT;
    case NC_KIND_DATASET: return DATASET_DEFAULT;
    case NC_KIND_OPTIMIZER: return OPTIMIZER_DEFAULT;
    }
    return NULL;
}

static int is_path(const char *v)
{
    size_t n = strlen(v);
    return strchr(v, '/') || (n > 3 && strcmp(v + n - 3, ".so") == 0);
}

const char *nc_plugin_name_of(const nc_pipeline *p, int kind, nc_error *err)
{
    const nc_section *sec = nc_pipeline_section(p, nc_plugin_section_of(kind));
    const char *v = NULL;
    if (nc_setting_string(sec, nc_plugin_key_settings(kind), "plugin", &v, err))
        return NULL;
    if (!v)
        v = default_name(kind);
    if (!*v) {
        nc_section_value_error(sec, "plugin", err,
                               "expected a plugin name or a path to a .so");
        return NULL;
    }
    return v;
}

/* The entries a kind cannot do without (the loader checked the size of
 * the ABI 1.0 head already). */
static int check_entries(const nc_plugin_info *info, int kind,
                         const char *where, nc_error *err)
{
    const void *ops = nc_plugin_ops(info);
    const char *missing = NULL, *need = "";
    size_t min = 0;
    uint32_t size = *(const uint32_t *)ops;
    if (kind == NC_KIND_ACCELERATOR) {
        const nc_accelerator_ops *a = ops;
        min = NC_ACCELERATOR_OPS_MIN_SIZE;
        need = "create, cost, destroy";
        if (!a->create || !a->cost || !a->destroy)
            missing = need;
    } else if (kind == NC_KIND_DATASET) {
        const nc_dataset_ops *d = ops;
        min = NC_DATASET_OPS_MIN_SIZE;
        need = "open, read, close";
        if (!d->open || !d->read || !d->close)
            missing = need;
    }
    if (!missing && size >= min)
        return NC_OK;
    return nc_error_set(err, NC_ERR_INPUT,
                        "%s%s%s: %s '%s': incomplete ops table (needs size >= "
                        "%zu and %s)", where, *where ? ": " : "", info->file,
                        nc_plugin_kind_name(kind), info->desc->name, min, need);
}

int nc_plugin_open(nc_registry *reg, const nc_pipeline *p, int kind,
                   const char *override, const char *override_label,
                   const nc_setting_spec *host, nc_plugin_create_fn create,
                   void *ctx, nc_plugin_ref *out, nc_error *err)
{
    memset(out, 0, sizeof *out);
    const char *path = nc_plugin_section_of(kind);
    if (!path)
        return nc_error_set(err, NC_ERR_INTERNAL,
                            "nc_plugin_open: kind %d has no section", kind);
    const nc_section *sec = nc_pipeline_section(p, path);
    out->section = sec;

    const char *what = override;
    char *resolved = NULL;
    if (override)
        snprintf(out->where, sizeof out->where, "%s",
                 override_label ? override_label : "");
    else {
        if (!(what = nc_plugin_name_of(p, kind, err)))
            return err->status;
        if (nc_section_has(sec, "plugin"))
            nc_section_where(sec, "plugin", out->where, sizeof out->where);
        /* a path names a file next to the pipeline that names it */
        if (is_path(what) && nc_section_has(sec, "plugin")) {
            if (nc_section_get_path(sec, "plugin", NULL, &resolved, err))
                return err->status;
            what = resolved;
        }
    }
    const nc_plugin_info *info = NULL;
    int rc = nc_registry_find(reg, kind, what, out->where[0] ? out->where : NULL,
                              &info, err);
    free(resolved);
    if (rc)
        return rc;
    out->info = info;
    out->ops = nc_plugin_ops(info);
    if ((rc = check_entries(info, kind, out->where, err)))
        return rc;

    const nc_setting_spec *const tables[] = {nc_plugin_key_settings(kind),
                                             host ? host : info->settings,
                                             host ? info->settings : NULL,
                                             NULL};
    if ((rc = nc_pipeline_check_keys(p, path, tables, NULL, err)) ||
        (rc = nc_setting_check_values(sec, info->settings, err)))
        return rc;
    if (!create)
        return NC_OK;
    nc_error_clear(err);
    if ((rc = create(out, ctx, err)) && err && !err->msg[0])
        nc_error_set(err, rc, "%s: %s '%s' refused its settings (no message)",
                     info->file, nc_plugin_kind_name(kind), info->desc->name);
    return rc;
}

int nc_plugin_layer_section(const nc_pipeline *p, const nc_plugin_info *info,
                            const nc_section **out, nc_error *err)
{
    char path[128];
    snprintf(path, sizeof path, "layers.%s", info->desc->name);
    *out = nc_pipeline_section(p, path);
    const nc_setting_spec *const tables[] = {info->settings, NULL};
    if (nc_pipeline_check_keys(p, path, tables, NULL, err) ||
        nc_setting_check_values(*out, info->settings, err))
        return err->status;
    return NC_OK;
}
