/* flatcaps.c - the last type-2 gene: the last cell's output, seen as
 * insize^2*inch capsules of dim incaps, and (skip gene s >= 1) layer s's
 * outsize_s^2*outch_s capsules of the same dim form one list; every capsule
 * predicts every class capsule through its own incaps x outcaps matrix,
 * dynamic routing, plus a learned bias per class capsule component. */
#include <nascaps/layer.h>

#include "flatcaps_train.h"

#define FLAT_ROUTING_PAIRS 3   /* (sum, update) pairs of the reference model */

#define FLAT_ROLES (NC_ROLE_BIT(NC_ROLE_FLATCAPS))

static int flat_describe(const nc_layer_ctx *ctx, nc_layer_info *info, nc_error *err)
{
    const nc_gene *g = nc_layer_ctx_gene(ctx, FLAT_ROLES, "flatcaps", err);
    if (!g)
        return NC_ERR_INTERNAL;
    const nc_genotype *net = ctx->genotype;
    int64_t n = (int64_t)g->insize * g->insize * g->inch;
    if (net->skip >= 1) {
        if (net->skip > ctx->index)
            return nc_error_set(err, NC_ERR_INTERNAL, "skip gene [%d] is not before gene %d",
                                net->skip, ctx->index + 1);
        const nc_gene *s = &net->layers[net->skip - 1];
        n += (int64_t)s->outsize * s->outsize * s->outch;
    }
    int64_t cout = (int64_t)g->outch * g->outcaps;
    nc_shape in = {1, 1, (int)n, g->incaps}, out = {1, 1, g->outch, g->outcaps};
    info->in = in;
    info->out = out;
    info->params = n * g->incaps * cout + cout;
    info->macs = n * g->incaps * cout + nc_routing_macs(n, g->outch, g->outcaps, ctx->routings);
    info->n_hw_ops = 2 * FLAT_ROUTING_PAIRS + 1;
    return NC_OK;
}

static int flat_hw_ops(const nc_layer_ctx *ctx, nc_hw_op *ops, int *n_ops, nc_error *err)
{
    const nc_gene *g = nc_layer_ctx_gene(ctx, FLAT_ROLES, "flatcaps", err);
    if (!g)
        return NC_ERR_INTERNAL;
    int id = ctx->index + 1, n = 0;
    for (int j = 1; j <= FLAT_ROUTING_PAIRS; j++) {
        nc_hw_op_init(&ops[n++], NC_HW_SUM, ctx->index, g, "flat%d.sum%d", id, j);
        nc_hw_op_init(&ops[n++], NC_HW_UPDATE, ctx->index, g, "flat%d.update%d", id, j);
    }
    nc_hw_op_init(&ops[n++], NC_HW_CLASS, ctx->index, g, "flat%d.class", id);
    *n_ops = n;
    return NC_OK;
}

static const nc_layer_ops flat_ops = {
    .size = sizeof(nc_layer_ops),
    .describe = flat_describe,
    .hw_ops = flat_hw_ops,
    .train_bytes = flat_train_bytes,
    .create = flat_create,
    .workspace = flat_workspace,
    .forward = flat_forward,
    .backward = flat_backward,
    .tensors = flat_tensors,
    .destroy = flat_destroy,
};

static const nc_plugin_desc flat_descs[] = {
    NC_PLUGIN_DESCRIPTOR(NC_KIND_LAYER, "flatcaps", "1.0.0",
                         "last type-2 gene: flatten (+ skip cell) and class capsules with "
                         "routing",
                         &flat_ops),
};
NC_PLUGIN_ENTRY(flat_descs)
