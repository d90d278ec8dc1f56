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
#include "rng.h"

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

/* ABI 1.1: what a layer needs to know to train. */
typedef struct nc_layer_train_cfg {
    int max_batch;          /* largest n passed to forward/backward */
    int routings;           /* dynamic-routing iterations */
    int conv_relu;          /* deprecated since ABI 1.3 (always 1): conv reads
                               layers.conv.activation from `settings` */
    /* ABI 1.3: the plugin's section `layers.NAME` (its own settings, read
     * with the nc_setting_* getters and the plugin's table). Never NULL
     * from a 1.3 host; an absent section reads as all defaults. */
    const nc_section *settings;
} nc_layer_train_cfg;

/* ABI 1.1: one tensor of a layer (see nc_layer_ops.tensors). */
typedef struct nc_tensor_ref {
    const char *name;       /* unique within the layer, e.g. "w", "bn.gamma" */
    float *value;
    float *grad;            /* NULL: state, saved but not trained */
    size_t count;
} nc_tensor_ref;

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

    /* ABI 1.1: training. All optional: a table whose size stops before
     * them, or with any of them NULL, makes the core refuse to train the
     * network with a message naming the plugin (nc_layer_can_train). */

    /* Bytes create() will allocate for cfg->max_batch images (parameters,
     * gradients, caches kept for backward), so the core can refuse a
     * candidate over training.max_memory_mb before allocating anything. */
    int64_t (*train_bytes)(const nc_layer_ctx *ctx,
                           const nc_layer_train_cfg *cfg);
    /* Creates the trainable layer of the gene, with every buffer it needs
     * for up to cfg->max_batch images, parameters initialised from rng. */
    int (*create)(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg,
                  nc_rng *rng, void **layer, nc_error *err);
    /* Scratch bytes forward/backward need; the network allocates the
     * largest over all layers once and shares it. */
    size_t (*workspace)(void *layer);
    /* in[0]: the previous layer's output [n, in shape] (for the first
     * layer: the images); for FlatCaps in[1] is the skip layer's output or
     * NULL. out: [n, out shape], owned by the network. training != 0 keeps
     * what backward needs and uses batch statistics. */
    int (*forward)(void *layer, int n, const float *const *in, float *out,
                   int training, void *ws, size_t ws_bytes, nc_error *err);
    /* dout: gradient of the loss w.r.t. out. din[k] (same shape as in[k]) is
     * OVERWRITTEN; a NULL din[k] is not needed (e.g. the images). Parameter
     * gradients ACCUMULATE (the trainer zeroes them once per step). */
    int (*backward)(void *layer, int n, const float *const *in,
                    const float *out, const float *dout, float *const *din,
                    void *ws, size_t ws_bytes, nc_error *err);
    /* Lists the layer's tensors: trainable ones (grad != NULL) and state
     * saved with the weights but not trained (grad == NULL, e.g. batch-norm
     * running statistics). Writes at most cap entries; returns how many
     * there are in all. Pointers stay valid until destroy. */
    int (*tensors)(void *layer, nc_tensor_ref *list, int cap);
    void (*destroy)(void *layer);

    /* ABI 1.3: the settings of the plugin's section `layers.NAME` (NULL:
     * none). The core refuses other names there and lists these in
     * `nascaps plugins --settings NAME`. */
    const nc_setting_spec *settings;
} nc_layer_ops;

#define NC_LAYER_OPS_MIN_SIZE \
    (offsetof(nc_layer_ops, hw_ops) + sizeof(void (*)(void)))
/* Size of a table that has every ABI 1.1 (training) entry. */
#define NC_LAYER_OPS_TRAIN_SIZE \
    (offsetof(nc_layer_ops, destroy) + sizeof(void (*)(void *)))

/* Non-zero when ops can train (size covers ABI 1.1 and no entry is NULL). */
static inline int nc_layer_can_train(const nc_layer_ops *ops)
{
    return ops->size >= NC_LAYER_OPS_TRAIN_SIZE && ops->train_bytes &&
           ops->create && ops->workspace && ops->forward && ops->backward &&
           ops->tensors && ops->destroy;
}

/* Helpers for layer plugins, implemented in libnascaps (ABI 1.0). */

/* The gene at ctx->index, or NULL (with err set) when ctx does not hold a
 * genotype with that index or its role is not one of `roles` (a mask of
 * NC_ROLE_BIT()s) that plugin `plugin` serves: plugins call it first. */
#define NC_ROLE_BIT(role) (1u << (unsigned)(role))
const nc_gene *nc_layer_ctx_gene(const nc_layer_ctx *ctx, unsigned roles,
                                 const char *plugin, nc_error *err);

/* Fills op: kind, ctx layer index, the seven integers of gene (insize,
 * inch, incaps, k, outsize, outch, outcaps) and a printf-formatted name. */
void nc_hw_op_init(nc_hw_op *op, int kind, int layer, const nc_gene *gene,
                   const char *name_fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Forward MACs of dynamic routing between n_in input capsules and n_out
 * output capsules of dim dim_out: `routings` weighted sums
 * s_j = sum_i c_ij u_j|i and routings - 1 agreement updates
 * b_ij += u_j|i . v_j (the last iteration's update is never read). */
int64_t nc_routing_macs(int64_t n_in, int64_t n_out, int64_t dim_out,
                        int routings);

#ifdef __cplusplus
}
#endif
#endif
