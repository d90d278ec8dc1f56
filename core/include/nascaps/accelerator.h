/* nascaps/accelerator.h - the accelerator plugin kind.
 *
 * An accelerator model never sees layers: it receives a network as a list
 * of hardware operations (emitted by the layer plugins, see layer.h) and
 * costs each one. The core sums the totals. */
#ifndef NASCAPS_ACCELERATOR_H
#define NASCAPS_ACCELERATOR_H

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The operation kinds of the CapsAcc model (reference MODEL.md). */
typedef enum nc_hw_kind {
    NC_HW_CONV = 0,   /* convolution, also primary/convolutional capsules */
    NC_HW_CLASS,      /* fully-connected capsules (votes) */
    NC_HW_CONV3D,     /* 3-D convolutional capsules */
    NC_HW_SUM,        /* dynamic routing: weighted sum */
    NC_HW_UPDATE      /* dynamic routing: logit update */
} nc_hw_kind;

const char *nc_hw_kind_name(int kind);   /* "conv", "class", ... */

typedef struct nc_hw_op {
    int32_t kind;      /* nc_hw_kind */
    int32_t layer;     /* 0-based index of the gene that emitted it */
    int32_t insize, inch, incaps, k, outsize, outch, outcaps;
    char name[24];     /* e.g. "conv1", "cell2.op3", "class.sum2" */
} nc_hw_op;

typedef struct nc_hw_cost {
    double cycles;
    double power_mw;
    double latency_ms;
    double energy_mj;
    double memory_bytes;  /* weight memory of the operation */
    double weights;       /* number of weights */
    double area_um2;      /* NAN when the model does not know it */
} nc_hw_cost;

typedef struct nc_accelerator_ops {
    uint32_t size;                       /* sizeof(nc_accelerator_ops) */
    /* ABI 1.0 */
    const nc_setting_spec *settings;     /* known settings of its section */
    /* Creates an instance from its pipeline section (sec may stand for an
     * absent section: defaults). */
    int (*create)(const nc_section *sec, void **instance, nc_error *err);
    /* Costs one operation. */
    int (*cost)(void *instance, const nc_hw_op *op, nc_hw_cost *out,
                nc_error *err);
    void (*destroy)(void *instance);
    /* Optional (may be NULL): one line describing the configuration, e.g.
     * "16x16 PEs, 3 ns, P_pe 0.4815 mW". */
    const char *(*describe)(void *instance);
} nc_accelerator_ops;

#define NC_ACCELERATOR_OPS_MIN_SIZE \
    (offsetof(nc_accelerator_ops, destroy) + sizeof(void (*)(void *)))

#ifdef __cplusplus
}
#endif
#endif
