/* conv.c - type-0 genes: k x k 'same' convolution over inch*incaps
 * channels to outch*outcaps filters, batch norm, ReLU. No conv bias: the
 * batch norm's beta already shifts every filter. */
#include <nascaps/layer.h>

#include "conv_train.h"

#define CONV_ROLES (NC_ROLE_BIT(NC_ROLE_CONV))

static int conv_describe(const nc_layer_ctx *ctx, nc_layer_info *info, nc_error *err)
{
    const nc_gene *g = nc_layer_ctx_gene(ctx, CONV_ROLES, "conv", err);
    if (!g)
        return NC_ERR_INTERNAL;
    int64_t cin = (int64_t)g->inch * g->incaps, cout = (int64_t)g->outch * g->outcaps;
    int64_t k2 = (int64_t)g->k * g->k, hw = (int64_t)g->outsize * g->outsize;
    info->in = nc_gene_in_shape(g);
    info->out = nc_gene_out_shape(g);
    info->params = k2 * cin * cout + 2 * cout;   /* kernel + BN gamma, beta */
    info->macs = hw * k2 * cin * cout;
    info->n_hw_ops = 1;
    return NC_OK;
}

static int conv_hw_ops(const nc_layer_ctx *ctx, nc_hw_op *ops, int *n_ops, nc_error *err)
{
    const nc_gene *g = nc_layer_ctx_gene(ctx, CONV_ROLES, "conv", err);
    if (!g)
        return NC_ERR_INTERNAL;
    nc_hw_op_init(&ops[0], NC_HW_CONV, ctx->index, g, "conv%d", ctx->index + 1);
    *n_ops = 1;
    return NC_OK;
}

static const nc_layer_ops conv_ops = {
    .size = sizeof(nc_layer_ops),
    .describe = conv_describe,
    .hw_ops = conv_hw_ops,
    .train_bytes = conv_train_bytes,
    .create = conv_create,
    .workspace = conv_workspace,
    .forward = conv_forward,
    .backward = conv_backward,
    .tensors = conv_tensors,
    .destroy = conv_destroy,
    .settings = conv_settings,
};

static const nc_plugin_desc conv_descs[] = {
    NC_PLUGIN_DESCRIPTOR(NC_KIND_LAYER, "conv", "1.0.0",
                         "type-0 genes: k x k convolution + batch norm + ReLU", &conv_ops),
};
NC_PLUGIN_ENTRY(conv_descs)
