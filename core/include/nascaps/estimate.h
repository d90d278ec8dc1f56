/* nascaps/estimate.h - costing networks on an accelerator plugin.
 *
 * An nc_accelerator is one instance of an accelerator plugin, created from
 * the pipeline's `accelerator` section. It costs operation lists (see
 * accelerator.h) one operation at a time through the plugin and sums the
 * totals; the plugin never sees layers nor totals.
 *
 *     nc_accelerator *acc;
 *     if (nc_accelerator_open(reg, pipeline, NULL, &acc, &err)) ...
 *     nc_estimate e;
 *     if (nc_estimate_genotype(acc, reg, &g, "net.chr", &e, &err)) ...
 *     printf("%.9g mJ\n", e.energy_mj);
 *     nc_accelerator_close(acc);
 *
 * Costing allocates nothing: nc_estimate_genotype() keeps the operation
 * list on the stack, so it may run millions of times per second. */
#ifndef NASCAPS_ESTIMATE_H
#define NASCAPS_ESTIMATE_H

#include "accelerator.h"
#include "genotype.h"
#include "pipeline.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nc_accelerator nc_accelerator;

/* Totals of a network: plain sums over its operations, except area. */
typedef struct nc_estimate {
    double energy_mj;    /* sum of the operations' energy */
    double latency_ms;   /* sum of the operations' latency */
    double memory_kib;   /* sum of the operations' weight memory / 1024 */
    double weights;      /* sum of the operations' weights */
    double cycles;       /* sum of the operations' cycles */
    double area_um2;     /* the largest operation's area (the accelerator
                            must hold it); NAN when the model gives none */
    int n_ops;
} nc_estimate;

/* Opens the accelerator named by `override` (a plugin name or a .so path;
 * the --accelerator option) or else by the pipeline's accelerator.plugin
 * (default "capsacc"), found through reg. Checks the `accelerator` section
 * against the plugin's settings spec, then creates the instance from it.
 * Messages name the setting (FILE:LINE) or the plugin file. */
int nc_accelerator_open(nc_registry *reg, const nc_pipeline *p,
                        const char *override, nc_accelerator **out,
                        nc_error *err);
/* Destroys the instance (NULL allowed). The registry must outlive it. */
void nc_accelerator_close(nc_accelerator *acc);

/* The plugin serving acc (borrowed from the registry). */
const nc_plugin_info *nc_accelerator_plugin(const nc_accelerator *acc);
/* The plugin's one-line description of its configuration, or its name
 * when it has none. Borrowed. */
const char *nc_accelerator_describe(const nc_accelerator *acc);

/* Costs n operations: per_op[i] (may be NULL) gets the cost of ops[i],
 * total the sums. A refusal by the plugin names the operation. */
int nc_accelerator_cost(nc_accelerator *acc, const nc_hw_op *ops, int n,
                        nc_hw_cost *per_op, nc_estimate *total,
                        nc_error *err);

/* Validates g (origin names it in messages), maps it to its operations
 * through the layer plugins in reg and costs them. */
int nc_estimate_genotype(nc_accelerator *acc, nc_registry *reg,
                         const nc_genotype *g, const char *origin,
                         nc_estimate *total, nc_error *err);

#ifdef __cplusplus
}
#endif
#endif
