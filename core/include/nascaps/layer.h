/* nascaps/layer.h - the layer plugin kind.
 *
 * One plugin per layer family: "conv" (type 0), "caps" (type 1: primary
 * and class capsules), "capscell" (type 2 cells) and "flatcaps" (type 2,
 * last). The core picks the plugin from the gene's role (genotype.h) and
 * hands it the whole genotype plus the gene's index, so a layer can look at
 * its neighbours (FlatCaps reads the skip gene's cell). */
#ifndef NASCAPS_LAYER_H
#define NASCAPS_LAYER_H

#include "accelerator.h"
#include "genotype.h"
#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nc_layer_ctx {
    const nc_genotype *genotype;  /* borrowed; structurally valid */
    int index;                    /* 0-based gene index */
    nc_layer_role role;
    int routings;                 /* dynamic-routing iterations (default 3) */
} nc_layer_ctx;

typedef struct nc_layer_info {
    nc_shape in, out;        /* capsule shapes seen and produced */
    int64_t params;          /* trainable parameters */
    int64_t macs;            /* forward multiply-accumulates, one image */
    int n_hw_ops;            /* how many operations hw_ops() emits */
} nc_layer_info;

/* Upper bound on the operations one layer emits. */
#define NC_LAYER_MAX_HW_OPS 16

typedef struct nc_layer_ops {
    uint32_t size;                   /* sizeof(nc_layer_ops) */
    /* ABI 1.0 */
    /* Shapes, parameter count and MACs of the gene at ctx->index. */
    int (*describe)(const nc_layer_ctx *ctx, nc_layer_info *info,
                    nc_error *err);
    /* The accelerator operations of the gene (reference mapping of
     * MODEL.md); writes at most NC_LAYER_MAX_HW_OPS into ops. */
    int (*hw_ops)(const nc_layer_ctx *ctx, nc_hw_op *ops, int *n_ops,
                  nc_error *err);
    /* Training entries are appended in ABI 1.1 (the training engine); a
     * table without them is refused for training with a clear message. */
} nc_layer_ops;

#define NC_LAYER_OPS_MIN_SIZE \
    (offsetof(nc_layer_ops, hw_ops) + sizeof(void (*)(void)))

#ifdef __cplusplus
}
#endif
#endif
