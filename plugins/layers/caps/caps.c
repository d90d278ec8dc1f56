/* caps.c - type-1 genes.
 * Not last: primary/convolutional capsules, a k x k 'same' convolution over
 * inch*incaps channels to outch*outcaps (+ bias), squashed per capsule.
 * Last: class capsules (Sabour et al.): each of the insize^2*inch input
 * capsules predicts every class capsule through its own incaps x outcaps
 * matrix (no bias, as Sabour), then dynamic routing. */
#include <nascaps/layer.h>

#include "caps_train.h"

/* Vote/routing passes the reference model costs after the class op. */
#define CLASS_SUM_OPS 5

#define CAPS_ROLES (NC_ROLE_BIT(NC_ROLE_CAPS) | NC_ROLE_BIT(NC_ROLE_CLASS_CAPS))

static int caps_describe(const nc_layer_ctx *ctx, nc_layer_info *info, nc_error *err)
{
    const nc_gene *g = nc_layer_ctx_gene(ctx, CAPS_ROLES, "caps", err);
    if (!g)
        return NC_ERR_INTERNAL;
    int64_t cin = (int64_t)g->inch * g->incaps, cout = (int64_t)g->outch * g->outcaps;
    if (ctx->role == NC_ROLE_CAPS) {
        int64_t k2 = (int64_t)g->k * g->k, hw = (int64_t)g->outsize * g->outsize;
        info->in = nc_gene_in_shape(g);
        info->out = nc_gene_out_shape(g);
        info->params = k2 * cin * cout + cout;
        info->macs = hw * k2 * cin * cout;
        info->n_hw_ops = 1;
        return NC_OK;
    }
    int64_t n = (int64_t)g->insize * g->insize * g->inch;   /* input capsules */
    nc_shape in = {1, 1, (int)n, g->incaps}, out = {1, 1, g->outch, g->outcaps};
    info->in = in;
    info->out = out;
    info->params = n * g->incaps * cout;
    info->macs = n * g->incaps * cout + nc_routing_macs(n, g->outch, g->outcaps, ctx->routings);
    info->n_hw_ops = 1 + CLASS_SUM_OPS;
    return NC_OK;
}

static int caps_hw_ops(const nc_layer_ctx *ctx, nc_hw_op *ops, int *n_ops, nc_error *err)
{
    const nc_gene *g = nc_layer_ctx_gene(ctx, CAPS_ROLES, "caps", err);
    if (!g)
        return NC_ERR_INTERNAL;
    int id = ctx->index + 1;
    if (ctx->role == NC_ROLE_CAPS) {
        nc_hw_op_init(&ops[0], NC_HW_CONV, ctx->index, g, "caps%d", id);
        *n_ops = 1;
        return NC_OK;
    }
    nc_hw_op_init(&ops[0], NC_HW_CLASS, ctx->index, g, "class%d", id);
    for (int j = 1; j <= CLASS_SUM_OPS; j++)
        nc_hw_op_init(&ops[j], NC_HW_SUM, ctx->index, g, "class%d.sum%d", id, j);
    *n_ops = 1 + CLASS_SUM_OPS;
    return NC_OK;
}

static const nc_layer_ops caps_ops = {
    .size = sizeof(nc_layer_ops),
    .describe = caps_describe,
    .hw_ops = caps_hw_ops,
    .train_bytes = caps_train_bytes,
    .create = caps_create,
    .workspace = caps_workspace,
    .forward = caps_forward,
    .backward = caps_backward,
    .tensors = caps_tensors,
    .destroy = caps_destroy,
};

static const nc_plugin_desc caps_descs[] = {
    NC_PLUGIN_DESCRIPTOR(NC_KIND_LAYER, "caps", "1.0.0",
                         "type-1 genes: convolutional capsules, class capsules with routing",
                         &caps_ops),
};
NC_PLUGIN_ENTRY(caps_descs)
