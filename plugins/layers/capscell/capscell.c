/* capscell.c - type-2 genes before FlatCaps: DeepCaps cells.
 * l1 = ConvCaps2D(k, stride)(x), l2 = ConvCaps2D(k, 1)(l1),
 * l3 = ConvCaps2D(k, 1)(l2), out = l3 + skip(l1). ConvCaps2D = 'same' conv
 * over ch*dim channels to outch*outcaps (+ bias), squash per capsule.
 * skip is ConvCaps2D(k, 1) in a normal cell; in the last cell it is a 3-D
 * convolutional capsule layer: a 3 x 3 x outcaps kernel (+ bias), shared by
 * the outch input types, votes for each output type at each position, then
 * dynamic routing over the input types at each position. */
#include <nascaps/layer.h>

#include "capscell_train.h"

#define CONV3D_K2 9   /* 3 x 3, whatever the gene's k (DeepCaps) */

#define CELL_ROLES (NC_ROLE_BIT(NC_ROLE_CAPSCELL) | NC_ROLE_BIT(NC_ROLE_LAST_CAPSCELL))

static int cell_describe(const nc_layer_ctx *ctx, nc_layer_info *info, nc_error *err)
{
    const nc_gene *g = nc_layer_ctx_gene(ctx, CELL_ROLES, "capscell", err);
    if (!g)
        return NC_ERR_INTERNAL;
    int64_t cin = (int64_t)g->inch * g->incaps, c = (int64_t)g->outch * g->outcaps;
    int64_t k2 = (int64_t)g->k * g->k, hw = (int64_t)g->outsize * g->outsize;
    int64_t l1_params = k2 * cin * c + c, l1_macs = hw * k2 * cin * c;
    int64_t same_params = k2 * c * c + c, same_macs = hw * k2 * c * c;   /* l2, l3, skip */
    info->in = nc_gene_in_shape(g);
    info->out = nc_gene_out_shape(g);
    info->n_hw_ops = 4;
    if (ctx->role == NC_ROLE_CAPSCELL) {
        info->params = l1_params + 3 * same_params;
        info->macs = l1_macs + 3 * same_macs;
        return NC_OK;
    }
    int64_t conv3d_params = CONV3D_K2 * g->outcaps * c + c;
    int64_t conv3d_macs = hw * g->outch * CONV3D_K2 * g->outcaps * c +
                          hw * nc_routing_macs(g->outch, g->outch, g->outcaps, ctx->routings);
    info->params = l1_params + 2 * same_params + conv3d_params;
    info->macs = l1_macs + 2 * same_macs + conv3d_macs;
    return NC_OK;
}

/* The reference mapping (MODEL.md): op1 with the gene's values, the later
 * ops with insize halved (whatever the stride); a normal cell's later ops
 * see incaps = outcaps, the last cell's keep the gene's incaps. */
static int cell_hw_ops(const nc_layer_ctx *ctx, nc_hw_op *ops, int *n_ops, nc_error *err)
{
    const nc_gene *g = nc_layer_ctx_gene(ctx, CELL_ROLES, "capscell", err);
    if (!g)
        return NC_ERR_INTERNAL;
    int id = ctx->index + 1, last = ctx->role == NC_ROLE_LAST_CAPSCELL;
    nc_hw_op_init(&ops[0], NC_HW_CONV, ctx->index, g, "cell%d.op1", id);
    for (int j = 1; j < 4; j++) {
        if (last && j == 3)
            nc_hw_op_init(&ops[j], NC_HW_CONV3D, ctx->index, g, "cell%d.conv3d", id);
        else
            nc_hw_op_init(&ops[j], NC_HW_CONV, ctx->index, g, "cell%d.op%d", id, j + 1);
        ops[j].insize = g->insize / 2;
        if (!last)
            ops[j].incaps = g->outcaps;
    }
    *n_ops = 4;
    return NC_OK;
}

static const nc_layer_ops cell_ops = {
    .size = sizeof(nc_layer_ops),
    .describe = cell_describe,
    .hw_ops = cell_hw_ops,
    .train_bytes = cell_train_bytes,
    .create = cell_create,
    .workspace = cell_workspace,
    .forward = cell_forward,
    .backward = cell_backward,
    .tensors = cell_tensors,
    .destroy = cell_destroy,
};

static const nc_plugin_desc cell_descs[] = {
    NC_PLUGIN_DESCRIPTOR(NC_KIND_LAYER, "capscell", "1.0.0",
                         "type-2 genes before FlatCaps: DeepCaps cells (3-D routing skip in "
                         "the last)",
                         &cell_ops),
};
NC_PLUGIN_ENTRY(cell_descs)
