/* nascaps/network.h - what a genotype means as a network, through the
 * layer plugins: per-layer shapes, parameters, MACs and the accelerator
 * operation list. */
#ifndef NASCAPS_NETWORK_H
#define NASCAPS_NETWORK_H

#include "accelerator.h"
#include "genotype.h"
#include "layer.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nc_layer_row {
    int index;                 /* 0-based gene index */
    nc_layer_role role;
    const char *plugin;        /* layer plugin name (static string) */
    nc_layer_info info;
} nc_layer_row;

typedef struct nc_analysis {
    int n_layers;
    nc_layer_row rows[NC_MAX_LAYERS];
    nc_shape input;            /* the network's input, after resize */
    int64_t params;            /* classification network (decoder excluded) */
    int64_t decoder_params;    /* the reconstruction decoder (DESIGN.md) */
    int64_t macs;              /* forward MACs of one image, routing included */
} nc_analysis;

/* Validates g (origin names it in messages) and describes every layer
 * through its layer plugin, found in reg. routings <= 0 means 3. */
int nc_network_analyze(nc_registry *reg, const nc_genotype *g,
                       const char *origin, int routings, nc_analysis *out,
                       nc_error *err);

/* The accelerator operation list of g (reference mapping of MODEL.md) from
 * the layer plugins. ops must hold NC_MAX_LAYERS * NC_LAYER_MAX_HW_OPS. */
#define NC_NETWORK_MAX_HW_OPS (NC_MAX_LAYERS * NC_LAYER_MAX_HW_OPS)
int nc_network_hw_ops(nc_registry *reg, const nc_genotype *g,
                      const char *origin, nc_hw_op *ops, int *n_ops,
                      nc_error *err);

/* Parameters of the reconstruction decoder for classes class capsules of
 * dim class_dim reconstructing an S x S x C image (S = size after resize). */
int64_t nc_decoder_params(int classes, int class_dim, int size, int channels);

#ifdef __cplusplus
}
#endif
#endif
