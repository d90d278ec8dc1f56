/* network.c - a genotype as a network: per-layer shapes, parameters, MACs
 * and accelerator operations, each asked of the layer plugin serving the
 * gene's role (the counting formulas live in the plugins; docs/GENOTYPE.md
 * writes them down). */
#include <stdio.h>
#include <string.h>

#include "nascaps/network.h"

/* Routing iterations beyond this are surely a typo; refusing them also
 * keeps every count far from int64 overflow (docs/GENOTYPE.md). */
#define NC_ROUTINGS_MAX 1000

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

int64_t nc_decoder_params(int classes, int class_dim, int size, int channels)
{
    if (classes < 1 || class_dim < 1 || size < 1 || channels < 1 ||
        classes > NC_SIZE_MAX_VALUE || class_dim > NC_SIZE_MAX_VALUE ||
        size > NC_SIZE_MAX_VALUE || channels > NC_SIZE_MAX_VALUE)
        return -1;
    /* Two stride-2 transposed convs take the seed map from S/4 to S;
     * rounding up and cropping the last rows keeps odd sizes working. */
    int64_t m = (size + 3) / 4;
    int64_t seed = m * m * 16;
    int64_t dense = (int64_t)classes * class_dim * seed + seed;
    int64_t bn = 2 * 16;
    int64_t t1 = 9 * 16 * 64 + 64, t2 = 9 * 64 * 32 + 32, t3 = 9 * 32 * 16 + 16;
    int64_t t4 = 9 * 16 * (int64_t)channels + channels;
    return dense + bn + t1 + t2 + t3 + t4;
}

/* The layer plugin for gene i: its ops table, or an error naming the gene. */
static int layer_ops_for(nc_registry *reg, const nc_genotype *g, int i, const char *origin,
                         const nc_layer_ops **ops, const char **file, nc_error *err)
{
    nc_layer_role role = nc_genotype_role(g, i);
    const nc_plugin_info *info = NULL;
    int rc = nc_registry_find(reg, NC_KIND_LAYER, nc_layer_role_plugin(role), NULL, &info, err);
    if (rc)
        return nc_error_prefix(err, "%s: gene %d (%s)", origin, i + 1, nc_layer_role_name(role));
    *ops = nc_plugin_ops(info);
    *file = info->file;
    return NC_OK;
}

static void layer_ctx(const nc_genotype *g, int i, int routings, nc_layer_ctx *ctx)
{
    ctx->genotype = g;
    ctx->index = i;
    ctx->role = nc_genotype_role(g, i);
    ctx->routings = routings;
}

static int check_routings(int *routings, const char *origin, nc_error *err)
{
    if (*routings <= 0)
        *routings = 3;
    if (*routings > NC_ROUTINGS_MAX)
        return nc_error_set(err, NC_ERR_INPUT, "%s: %d routing iterations, at most %d", origin,
                            *routings, NC_ROUTINGS_MAX);
    return NC_OK;
}

int nc_network_analyze(nc_registry *reg, const nc_genotype *g, const char *origin,
                       int routings, nc_analysis *out, nc_error *err)
{
    if (!origin)
        origin = "<genotype>";
    int rc = nc_genotype_validate(g, origin, NULL, err);
    if (!rc)
        rc = check_routings(&routings, origin, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    out->n_layers = g->n_layers;
    for (int i = 0; i < g->n_layers; i++) {
        const nc_layer_ops *ops = NULL;
        const char *file = NULL;
        nc_layer_row *row = &out->rows[i];
        rc = layer_ops_for(reg, g, i, origin, &ops, &file, err);
        if (rc)
            return rc;
        nc_layer_ctx ctx;
        layer_ctx(g, i, routings, &ctx);
        row->index = i;
        row->role = ctx.role;
        row->plugin = nc_layer_role_plugin(ctx.role);
        const char *role = nc_layer_role_name(ctx.role);
        if (!ops->describe)
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: gene %d (%s): layer plugin %s has no describe()", origin,
                                i + 1, role, file);
        rc = ops->describe(&ctx, &row->info, err);
        if (rc)
            return nc_error_prefix(err, "%s: gene %d (%s)", origin, i + 1, role);
        const nc_layer_info *li = &row->info;
        if (li->params < 0 || li->macs < 0 || li->n_hw_ops < 0 ||
            li->n_hw_ops > NC_LAYER_MAX_HW_OPS ||
            __builtin_add_overflow(out->params, li->params, &out->params) ||
            __builtin_add_overflow(out->macs, li->macs, &out->macs))
            return nc_error_set(err, NC_ERR_INTERNAL,
                                "%s: gene %d (%s): layer plugin %s reported impossible counts "
                                "(params %lld, macs %lld, %d hw ops)",
                                origin, i + 1, role, file, (long long)li->params,
                                (long long)li->macs, li->n_hw_ops);
    }
    const nc_gene *first = &g->layers[0], *last = &g->layers[g->n_layers - 1];
    out->input.h = out->input.w = first->insize;
    out->input.ch = first->inch * first->incaps;
    out->input.dim = 1;
    out->decoder_params =
        nc_decoder_params(last->outch, last->outcaps, first->insize, out->input.ch);
    return NC_OK;
}

int nc_network_hw_ops(nc_registry *reg, const nc_genotype *g, const char *origin,
                      nc_hw_op *ops_out, int *n_ops, nc_error *err)
{
    if (!origin)
        origin = "<genotype>";
    *n_ops = 0;
    int rc = nc_genotype_validate(g, origin, NULL, err);
    if (rc)
        return rc;
    for (int i = 0; i < g->n_layers; i++) {
        const nc_layer_ops *ops = NULL;
        const char *file = NULL;
        rc = layer_ops_for(reg, g, i, origin, &ops, &file, err);
        if (rc)
            return rc;
        nc_layer_ctx ctx;
        layer_ctx(g, i, 3, &ctx);
        const char *role = nc_layer_role_name(ctx.role);
        if (!ops->hw_ops)
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: gene %d (%s): layer plugin %s has no hw_ops()", origin,
                                i + 1, role, file);
        nc_hw_op layer_ops[NC_LAYER_MAX_HW_OPS];
        int n = 0;
        rc = ops->hw_ops(&ctx, layer_ops, &n, err);
        if (rc)
            return nc_error_prefix(err, "%s: gene %d (%s)", origin, i + 1, role);
        if (n < 0 || n > NC_LAYER_MAX_HW_OPS)
            return nc_error_set(err, NC_ERR_INTERNAL,
                                "%s: gene %d (%s): layer plugin %s emitted %d hw ops, at most %d",
                                origin, i + 1, role, file, n, NC_LAYER_MAX_HW_OPS);
        for (int j = 0; j < n; j++) {
            nc_hw_op *op = &ops_out[(*n_ops)++];
            *op = layer_ops[j];
            op->layer = i;
            op->name[sizeof op->name - 1] = '\0';
        }
    }
    return NC_OK;
}
