/* optimizer_open.c - an optimizer plugin opened from the optimizer section and
 * created for a search (the run loop and `nascaps validate` share it). */
#include <stdint.h>

#include "nascaps/run.h"

typedef struct open_ctx {
    nc_optimizer_env *env;
    const nc_optimizer_ops *ops;
    void *h;
} open_ctx;

static int create_optimizer(const nc_plugin_ref *ref, void *ctx, nc_error *err)
{
    open_ctx *c = ctx;
    c->ops = ref->ops;
    if (!nc_optimizer_can_search(c->ops))
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s%soptimizer plugin %s (%s) cannot run a search: built for ABI "
                            "%u.%u without the search entries of ABI 1.2",
                            ref->where, *ref->where ? ": " : "", ref->info->desc->name,
                            ref->info->file, ref->info->desc->abi_major,
                            ref->info->desc->abi_minor);
    int rc = c->ops->create(ref->section, c->env, &c->h, err);
    if (rc) {
        c->h = NULL;
        return nc_error_prefix(err, "optimizer %s", ref->info->desc->name);
    }
    return NC_OK;
}

int nc_optimizer_open(nc_registry *reg, const nc_pipeline *p, nc_optimizer_env *env,
                      const nc_optimizer_ops **ops, void **h,
                      const nc_plugin_info **info, nc_error *err)
{
    open_ctx c = {env, NULL, NULL};
    nc_plugin_ref ref;
    *ops = NULL;
    *h = NULL;
    int rc = nc_plugin_open(reg, p, NC_KIND_OPTIMIZER, NULL, NULL, NULL, create_optimizer,
                            &c, &ref, err);
    if (rc)
        return rc;
    *ops = c.ops;
    *h = c.h;
    if (info)
        *info = ref.info;
    return NC_OK;
}
