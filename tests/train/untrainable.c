/* untrainable.c - a "conv" layer plugin that describes type-0 genes like
 * the real one but cannot train: FIXTURE_CASE 1 is built for ABI 1.0 (its
 * ops table stops before the training entries), FIXTURE_CASE 2 has the
 * whole ABI 1.1 table with backward left NULL. */
#include <nascaps/layer.h>

static int fx_describe(const nc_layer_ctx *ctx, nc_layer_info *info, nc_error *err)
{
    const nc_gene *g = nc_layer_ctx_gene(ctx, NC_ROLE_BIT(NC_ROLE_CONV), "conv", err);
    if (!g)
        return NC_ERR_INTERNAL;
    int64_t cin = (int64_t)g->inch * g->incaps, cout = (int64_t)g->outch * g->outcaps;
    info->in = nc_gene_in_shape(g);
    info->out = nc_gene_out_shape(g);
    info->params = (int64_t)g->k * g->k * cin * cout + 2 * cout;
    info->macs = (int64_t)g->outsize * g->outsize * g->k * g->k * cin * cout;
    info->n_hw_ops = 0;
    return NC_OK;
}

static int fx_hw_ops(const nc_layer_ctx *ctx, nc_hw_op *ops, int *n_ops, nc_error *err)
{
    (void)ctx;
    (void)ops;
    (void)err;
    *n_ops = 0;
    return NC_OK;
}

#if FIXTURE_CASE == 1
static const nc_layer_ops fx_ops = {
    .size = NC_LAYER_OPS_MIN_SIZE,
    .describe = fx_describe,
    .hw_ops = fx_hw_ops,
};
static const nc_plugin_desc fx_descs[] = {
    {NC_ABI_MAJOR, 0, NC_KIND_LAYER, "conv", "0.1.0", "ABI 1.0 conv, no training", &fx_ops},
};
#else
static int64_t fx_train_bytes(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg)
{
    (void)ctx;
    (void)cfg;
    return 0;
}
static int fx_create(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg, nc_rng *rng,
                     void **layer, nc_error *err)
{
    (void)ctx;
    (void)cfg;
    (void)rng;
    (void)layer;
    return nc_error_set(err, NC_ERR_INTERNAL, "never called");
}
static size_t fx_workspace(void *layer)
{
    (void)layer;
    return 0;
}
static int fx_forward(void *layer, int n, const float *const *in, float *out, int training,
                      void *ws, size_t ws_bytes, nc_error *err)
{
    return nc_error_set(err, NC_ERR_INTERNAL, "never called");
}
static int fx_tensors(void *layer, nc_tensor_ref *list, int cap)
{
    return 0;
}
static void fx_destroy(void *layer)
{
    (void)layer;
}
static const nc_layer_ops fx_ops = {
    .size = sizeof(nc_layer_ops),
    .describe = fx_describe,
    .hw_ops = fx_hw_ops,
    .train_bytes = fx_train_bytes,
    .create = fx_create,
    .workspace = fx_workspace,
    .forward = fx_forward,
    .backward = NULL,
    .tensors = fx_tensors,
    .destroy = fx_destroy,
};
static const nc_plugin_desc fx_descs[] = {
    NC_PLUGIN_DESCRIPTOR(NC_KIND_LAYER, "conv", "0.1.0", "conv without backward", &fx_ops),
};
#endif
NC_PLUGIN_ENTRY(fx_descs)
