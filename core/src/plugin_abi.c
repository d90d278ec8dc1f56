/* plugin_abi.c - the helpers the plugin ABI headers declare (plugin.h,
 * layer.h, accelerator.h): on the ABI's own floor, so that a header
 * plugins build against leads to nothing above it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nascaps/accelerator.h"
#include "nascaps/layer.h"
#include "nascaps/plugin.h"

const char *nc_plugin_kind_name(int kind)
{
    switch (kind) {
    case NC_KIND_LAYER: return "layer";
    case NC_KIND_ACCELERATOR: return "accelerator";
    case NC_KIND_OPTIMIZER: return "optimizer";
    case NC_KIND_DATASET: return "dataset";
    default: return NULL;
    }
}

const char *nc_hw_kind_name(int kind)
{
    switch (kind) {
    case NC_HW_CONV: return "conv";
    case NC_HW_CLASS: return "class";
    case NC_HW_CONV3D: return "conv3d";
    case NC_HW_SUM: return "sum";
    case NC_HW_UPDATE: return "update";
    }
    return NULL;
}

const nc_gene *nc_layer_ctx_gene(const nc_layer_ctx *ctx, unsigned roles, const char *plugin,
                                 nc_error *err)
{
    if (!ctx || !ctx->genotype || ctx->index < 0 || ctx->index >= ctx->genotype->n_layers ||
        ctx->genotype->n_layers > NC_MAX_LAYERS) {
        nc_error_set(err, NC_ERR_INTERNAL, "layer plugin %s: context without gene %d", plugin,
                     ctx ? ctx->index + 1 : 0);
        return NULL;
    }
    if ((unsigned)ctx->role > 31 || !(roles & NC_ROLE_BIT(ctx->role))) {
        nc_error_set(err, NC_ERR_INTERNAL, "layer plugin %s cannot serve role %s", plugin,
                     nc_layer_role_name(ctx->role));
        return NULL;
    }
    return &ctx->genotype->layers[ctx->index];
}

/* Op names are formatted for every estimate (hot: the search costs
 * networks millions of times), and they only ever hold text and %d: do
 * those by hand and leave anything else to vsnprintf. */
__attribute__((format(printf, 3, 0)))
static void format_op_name(char *buf, size_t size, const char *fmt, va_list ap)
{
    size_t n = 0;
    va_list again;
    va_copy(again, ap);
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            if (n + 1 < size)
                buf[n++] = *f;
            continue;
        }
        if (f[1] != 'd') {
            vsnprintf(buf, size, fmt, again);
            va_end(again);
            return;
        }
        f++;
        int v = va_arg(ap, int);
        char digits[12];
        int nd = 0;
        unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
        do
            digits[nd++] = (char)('0' + u % 10);
        while ((u /= 10) && nd < 11);
        if (v < 0 && n + 1 < size)
            buf[n++] = '-';
        while (nd > 0 && n + 1 < size)
            buf[n++] = digits[--nd];
    }
    buf[n] = '\0';
    va_end(again);
}

void nc_hw_op_init(nc_hw_op *op, int kind, int layer, const nc_gene *gene,
                   const char *name_fmt, ...)
{
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->layer = layer;
    op->insize = gene->insize;
    op->inch = gene->inch;
    op->incaps = gene->incaps;
    op->k = gene->k;
    op->outsize = gene->outsize;
    op->outch = gene->outch;
    op->outcaps = gene->outcaps;
    va_list ap;
    va_start(ap, name_fmt);
    format_op_name(op->name, sizeof op->name, name_fmt, ap);
    va_end(ap);
}

int64_t nc_routing_macs(int64_t n_in, int64_t n_out, int64_t dim_out, int routings)
{
    if (routings < 1)
        return 0;
    return n_in * n_out * dim_out * (2 * (int64_t)routings - 1);
}

