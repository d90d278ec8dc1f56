/* estimate.c - an accelerator plugin instance and the costing of networks.
 *
 * The core, not the plugin, sums the totals, so every accelerator model
 * gets the same definition of a network's energy, latency and memory. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nascaps/estimate.h"
#include "nascaps/network.h"

struct nc_accelerator {
    /* A copy: the registry may move its records when it loads more
     * plugins; the descriptor and strings they point to stay put. */
    nc_plugin_info plugin;
    const nc_plugin_info *info;   /* &plugin */
    const nc_accelerator_ops *ops;
    void *instance;
};

/* nc_hw_kind_name() is defined in network.c. */

static int create_accelerator(const nc_plugin_ref *ref, void *ctx,
                              nc_error *err)
{
    nc_accelerator *acc = ctx;
    acc->ops = ref->ops;
    return acc->ops->create(ref->section, &acc->instance, err);
}

int nc_accelerator_open(nc_registry *reg, const nc_pipeline *p,
                        const char *override, nc_accelerator **out,
                        nc_error *err)
{
    *out = NULL;
    nc_accelerator *acc = calloc(1, sizeof *acc);
    if (!acc)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    nc_plugin_ref ref;
    int rc = nc_plugin_open(reg, p, NC_KIND_ACCELERATOR, override,
                            "--accelerator", NULL, create_accelerator, acc,
                            &ref, err);
    if (rc) {
        free(acc);
        return rc;
    }
    acc->plugin = *ref.info;
    acc->info = &acc->plugin;
    *out = acc;
    return NC_OK;
}

void nc_accelerator_close(nc_accelerator *acc)
{
    if (!acc)
        return;
    acc->ops->destroy(acc->instance);
    free(acc);
}

const nc_plugin_info *nc_accelerator_plugin(const nc_accelerator *acc)
{
    return acc->info;
}

const char *nc_accelerator_describe(const nc_accelerator *acc)
{
    const char *text = NULL;
    if (acc->ops->size >= offsetof(nc_accelerator_ops, describe) + sizeof acc->ops->describe &&
        acc->ops->describe)
        text = acc->ops->describe(acc->instance);
    return text ? text : acc->info->desc->name;
}

int nc_accelerator_cost(nc_accelerator *acc, const nc_hw_op *ops, int n,
                        nc_hw_cost *per_op, nc_estimate *total, nc_error *err)
{
    double bytes = 0;
    nc_estimate t = {0, 0, 0, 0, 0, NAN, n};

    for (int i = 0; i < n; i++) {
        nc_hw_cost c = {0, 0, 0, 0, 0, 0, NAN};
        int rc = acc->ops->cost(acc->instance, &ops[i], &c, err);
        if (rc) {
            if (err && !err->msg[0])
                nc_error_set(err, rc, "accelerator '%s': refused operation '%.24s' (no message)",
                             acc->info->desc->name, ops[i].name);
            return rc;
        }
        /* a plugin's figures are checked before use: a NaN, an infinity
         * or a negative cost would put the candidate on every front */
        const double fig[6] = {c.cycles, c.power_mw, c.latency_ms, c.energy_mj,
                               c.memory_bytes, c.weights};
        static const char *const fig_name[6] = {"cycles", "power_mw", "latency_ms",
                                                "energy_mj", "memory_bytes", "weights"};
        for (int k = 0; k < 6; k++)
            if (!isfinite(fig[k]) || fig[k] < 0)
                return nc_error_set(err, NC_ERR_INPUT,
                                    "%s: accelerator '%s': cost of operation '%.24s' gave "
                                    "%s = %g (expected a finite number >= 0)",
                                    acc->info->file, acc->info->desc->name, ops[i].name,
                                    fig_name[k], fig[k]);
        if (!isnan(c.area_um2) && (!isfinite(c.area_um2) || c.area_um2 < 0))
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: accelerator '%s': cost of operation '%.24s' gave "
                                "area_um2 = %g (expected NaN or a finite number >= 0)",
                                acc->info->file, acc->info->desc->name, ops[i].name,
                                c.area_um2);
        t.energy_mj += c.energy_mj;
        t.latency_ms += c.latency_ms;
        t.weights += c.weights;
        t.cycles += c.cycles;
        bytes += c.memory_bytes;
        if (!isnan(c.area_um2) && (isnan(t.area_um2) || c.area_um2 > t.area_um2))
            t.area_um2 = c.area_um2;
        if (per_op)
            per_op[i] = c;
    }
    t.memory_kib = bytes / 1024.0;
    *total = t;
    return NC_OK;
}

int nc_estimate_genotype(nc_accelerator *acc, nc_registry *reg,
                         const nc_genotype *g, const char *origin,
                         nc_estimate *total, nc_error *err)
{
    nc_hw_op ops[NC_NETWORK_MAX_HW_OPS];
    int n = 0;
    int rc = nc_network_hw_ops(reg, g, origin, ops, &n, err);
    if (rc)
        return rc;
    return nc_accelerator_cost(acc, ops, n, NULL, total, err);
}
