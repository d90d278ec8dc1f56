/* net.c - a trainable network from a genotype: one layer plugin instance
 * per gene, the buffers between them, the decoder, the losses, the
 * backward walk and Adam (docs/TRAINING.md, "Network").
 *
 * Everything is allocated by nc_net_build: each layer's output and output
 * gradient for max_batch images, ONE workspace shared by every layer and
 * the decoder, the Adam moments. A training step allocates nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nascaps/nn.h"
#include "nascaps/train.h"
#include "train/train_internal.h"

#define MIB (1024.0 * 1024.0)

typedef struct net_layer {
    const nc_layer_ops *ops;
    const char *file;        /* the plugin's .so (borrowed from the registry) */
    const char *plugin;      /* plugin name (static) */
    nc_layer_ctx ctx;
    nc_layer_train_cfg tcfg;      /* the net's, with this plugin's section */
    void *h;
    size_t in_count, out_count;   /* floats per image */
    float *out, *dout;
} net_layer;

struct nc_net {
    nc_genotype g;                 /* the layers' contexts point here */
    char gstr[NC_GENOTYPE_STRING_MAX];
    nc_net_cfg cfg;
    nc_net_info info;
    net_layer layers[NC_MAX_LAYERS];
    int skip;                      /* 0-based layer FlatCaps also reads, or -1 */
    float *skip_grad;
    nc_decoder *dec;
    void *ws;
    size_t ws_bytes;
    int n_tensors;
    nc_net_tensor *tensors;
    float *adam;                   /* m then v of every trainable tensor */
    size_t *adam_off;              /* per tensor: offset of its m in adam */
    size_t n_trainable;
    int64_t step;
};

/* "25,123,456" */
static const char *thousands(int64_t v, char *buf, size_t size)
{
    char raw[32];
    int len = snprintf(raw, sizeof raw, "%lld", (long long)(v < 0 ? -v : v));
    size_t o = 0;
    if (v < 0 && o + 1 < size)
        buf[o++] = '-';
    for (int i = 0; i < len && o + 1 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0 && o + 1 < size)
            buf[o++] = ',';
        if (o + 1 < size)
            buf[o++] = raw[i];
    }
    buf[o] = '\0';
    return buf;
}

void nc_net_cfg_defaults(nc_net_cfg *cfg)
{
    nc_settings s;
    nc_train_table_defaults(&s);
    nc_net_cfg_from_settings(cfg, &s);
}

void nc_net_cfg_from_settings(nc_net_cfg *cfg, const nc_settings *s)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_batch = s->training.batch_size;
    cfg->routings = s->training.routings;
    cfg->conv_relu = 1;   /* deprecated: conv reads layers.conv.activation */
    cfg->recon_weight = s->training.recon_weight;
    cfg->max_params = s->training.max_params;
    cfg->max_memory_mb = s->training.max_memory_mb;
    cfg->seed = s->seed;
    cfg->pipeline = s->pipeline;
}

/* Names the first missing training entry of a layer plugin. */
static const char *missing_entry(const nc_layer_ops *ops)
{
    if (ops->size < NC_LAYER_OPS_TRAIN_SIZE)
        return NULL;
    if (!ops->train_bytes) return "train_bytes";
    if (!ops->create) return "create";
    if (!ops->workspace) return "workspace";
    if (!ops->forward) return "forward";
    if (!ops->backward) return "backward";
    if (!ops->tensors) return "tensors";
    if (!ops->destroy) return "destroy";
    return NULL;
}

/* The plugin of gene i, refused unless it can train. */
static int find_layer(nc_registry *reg, const nc_genotype *g, int i, const char *origin,
                      const nc_net_cfg *cfg, net_layer *l, nc_error *err)
{
    nc_layer_role role = nc_genotype_role(g, i);
    const nc_plugin_info *info = NULL;
    l->plugin = nc_layer_role_plugin(role);
    int rc = nc_registry_find(reg, NC_KIND_LAYER, l->plugin, NULL, &info, err);
    if (rc)
        return nc_error_prefix(err, "%s: gene %d (%s)", origin, i + 1, nc_layer_role_name(role));
    l->ops = nc_plugin_ops(info);
    l->file = info->file;
    if (!nc_layer_can_train(l->ops)) {
        const char *entry = missing_entry(l->ops);
        if (entry)
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: gene %d (%s): layer plugin %s (%s) cannot train: training "
                                "entry '%s' is NULL",
                                origin, i + 1, nc_layer_role_name(role), l->plugin, l->file,
                                entry);
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: gene %d (%s): layer plugin %s (%s) cannot train: built for ABI "
                            "1.0 without training entries",
                            origin, i + 1, nc_layer_role_name(role), l->plugin, l->file);
    }
    if ((rc = nc_plugin_layer_section(cfg->pipeline, info, &l->tcfg.settings, err)))
        return rc;
    l->ctx.index = i;
    l->ctx.role = role;
    return NC_OK;
}

static int64_t shape_count(nc_shape s)
{
    return (int64_t)s.h * s.w * s.ch * s.dim;
}

/* Adds b to *a, refusing overflow. */
static int add64(int64_t *a, int64_t b)
{
    return b < 0 || __builtin_add_overflow(*a, b, a);
}

/* Everything the build needs to know before allocating. */
typedef struct net_plan {
    nc_analysis an;
    net_layer layers[NC_MAX_LAYERS];
    nc_layer_train_cfg tcfg;
    int has_decoder;
    nc_decoder_plan dec;
    int64_t trainable;   /* params + decoder params */
    nc_net_memory mem;
} net_plan;

static int make_plan(nc_registry *reg, const nc_genotype *g, const char *origin,
                     const nc_net_cfg *cfg, net_plan *p, nc_error *err)
{
    memset(p, 0, sizeof *p);
    if (cfg->max_batch < 1 || cfg->max_batch > 1000000)
        return nc_error_set(err, NC_ERR_INPUT, "%s: batch size %d, expected 1..1000000", origin,
                            cfg->max_batch);
    if (!(cfg->recon_weight >= 0) || !isfinite(cfg->recon_weight))
        return nc_error_set(err, NC_ERR_INPUT, "%s: reconstruction weight %g, expected >= 0",
                            origin, cfg->recon_weight);
    int routings = cfg->routings > 0 ? cfg->routings : 3;
    int rc = nc_network_analyze(reg, g, origin, routings, &p->an, err);
    if (rc)
        return rc;
    p->tcfg.max_batch = cfg->max_batch;
    p->tcfg.routings = routings;
    p->tcfg.conv_relu = cfg->conv_relu;
    const nc_layer_row *lastrow = &p->an.rows[g->n_layers - 1];
    p->has_decoder = cfg->recon_weight > 0;
    if (p->has_decoder &&
        (rc = nc_decoder_plan_make(lastrow->info.out.ch, lastrow->info.out.dim, p->an.input.h,
                                   p->an.input.ch, cfg->max_batch, &p->dec, err)))
        return nc_error_prefix(err, "%s", origin);
    int64_t dec_params = p->has_decoder ? p->dec.params : 0;
    p->trainable = p->an.params + dec_params;
    if (cfg->max_params > 0 && p->trainable > cfg->max_params) {
        char a[32], b[32], c[32], d[32];
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: candidate has %s trainable parameters (network %s + decoder %s), "
                            "over training.max_params = %s",
                            origin, thousands(p->trainable, a, sizeof a),
                            thousands(p->an.params, b, sizeof b), thousands(dec_params, c, sizeof c),
                            thousands(cfg->max_params, d, sizeof d));
    }
    int64_t batch = cfg->max_batch, per_image = 0;
    nc_net_memory *m = &p->mem;
    for (int i = 0; i < g->n_layers; i++) {
        net_layer *l = &p->layers[i];
        if ((rc = find_layer(reg, g, i, origin, cfg, l, err)))
            return rc;
        l->ctx.genotype = g;
        l->ctx.routings = routings;
        l->in_count = (size_t)shape_count(p->an.rows[i].info.in);
        l->out_count = (size_t)shape_count(p->an.rows[i].info.out);
        const nc_section *sec = l->tcfg.settings;
        l->tcfg = p->tcfg;
        l->tcfg.settings = sec;
        int64_t tb = l->ops->train_bytes(&l->ctx, &l->tcfg);
        if (tb < 0 || add64(&m->layers, tb))
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: gene %d (%s): layer plugin %s (%s) reports %lld training "
                                "bytes",
                                origin, i + 1, nc_layer_role_name(l->ctx.role), l->plugin, l->file,
                                (long long)tb);
        /* output and its gradient */
        if (add64(&per_image, 2 * (int64_t)l->out_count))
            return nc_error_set(err, NC_ERR_INPUT, "%s: buffer sizes overflow", origin);
    }
    if (g->skip >= 1 && nc_genotype_role(g, g->n_layers - 1) == NC_ROLE_FLATCAPS)
        per_image += (int64_t)p->layers[g->skip - 1].out_count;
    /* the input batch: images and the decoder's raw target */
    per_image += 2 * shape_count(p->an.input);
    if (__builtin_mul_overflow(per_image, batch * (int64_t)sizeof(float), &m->buffers))
        return nc_error_set(err, NC_ERR_INPUT, "%s: buffer sizes overflow", origin);
    m->decoder = p->has_decoder ? p->dec.bytes : 0;
    m->adam = 2 * p->trainable * (int64_t)sizeof(float);
    m->workspace = p->has_decoder ? (int64_t)p->dec.workspace : 0;
    m->total = 0;
    if (add64(&m->total, m->layers) || add64(&m->total, m->buffers) ||
        add64(&m->total, m->decoder) || add64(&m->total, m->adam) ||
        add64(&m->total, m->workspace))
        return nc_error_set(err, NC_ERR_INPUT, "%s: memory estimate overflows", origin);
    return NC_OK;
}

static int check_memory(const char *origin, const nc_net_cfg *cfg, const nc_net_memory *m,
                        nc_error *err)
{
    if (cfg->max_memory_mb <= 0 || (double)m->total <= (double)cfg->max_memory_mb * MIB)
        return NC_OK;
    char lim[32];
    return nc_error_set(err, NC_ERR_INPUT,
                        "%s: candidate needs an estimated %.0f MiB to train (layers %.0f + "
                        "buffers %.0f + decoder %.0f + Adam %.0f + workspace %.0f MiB, batch %d), "
                        "over training.max_memory_mb = %s",
                        origin, m->total / MIB, m->layers / MIB, m->buffers / MIB,
                        m->decoder / MIB, m->adam / MIB, m->workspace / MIB, cfg->max_batch,
                        thousands(cfg->max_memory_mb, lim, sizeof lim));
}

int nc_net_memory_estimate(nc_registry *reg, const nc_genotype *g, const char *origin,
                           const nc_net_cfg *cfg, nc_net_memory *out, nc_error *err)
{
    if (!origin)
        origin = "<genotype>";
    net_plan *p = malloc(sizeof *p);
    if (!p)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    nc_net_cfg unlimited = *cfg;
    unlimited.max_params = 0;
    int rc = make_plan(reg, g, origin, &unlimited, p, err);
    if (!rc)
        *out = p->mem;
    free(p);
    return rc;
}

void nc_net_free(nc_net *net)
{
    if (!net)
        return;
    for (int i = 0; i < net->info.n_layers; i++) {
        net_layer *l = &net->layers[i];
        if (l->h)
            l->ops->destroy(l->h);
        free(l->out);
        free(l->dout);
    }
    free(net->skip_grad);
    nc_decoder_free(net->dec);
    free(net->ws);
    free(net->tensors);
    free(net->adam);
    free(net->adam_off);
    free(net);
}

/* Lists the tensors of every layer and the decoder; checks each layer's
 * trainable count against what its describe() reported. */
static int collect_tensors(nc_net *net, const nc_analysis *an, const char *origin, nc_error *err)
{
    int total = 0, counts[NC_MAX_LAYERS + 1];
    nc_tensor_ref probe[1];
    for (int i = 0; i < net->info.n_layers; i++) {
        net_layer *l = &net->layers[i];
        counts[i] = l->ops->tensors(l->h, probe, 0);
        if (counts[i] < 0 || counts[i] > 4096)
            return nc_error_set(err, NC_ERR_INTERNAL, "%s: gene %d: layer plugin %s (%s) lists %d tensors",
                                origin, i + 1, l->plugin, l->file, counts[i]);
        total += counts[i];
    }
    counts[net->info.n_layers] = net->dec ? nc_decoder_tensors(net->dec, probe, 0) : 0;
    total += counts[net->info.n_layers];
    net->tensors = calloc((size_t)(total ? total : 1), sizeof *net->tensors);
    nc_tensor_ref *refs = calloc((size_t)(total ? total : 1), sizeof *refs);
    if (!net->tensors || !refs) {
        free(refs);
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    }
    int o = 0;
    for (int i = 0; i <= net->info.n_layers; i++) {
        int n = counts[i];
        if (i == net->info.n_layers && !net->dec)
            break;
        int got = i < net->info.n_layers
                      ? net->layers[i].ops->tensors(net->layers[i].h, refs + o, n)
                      : nc_decoder_tensors(net->dec, refs + o, n);
        const char *who = i < net->info.n_layers ? net->layers[i].file : "decoder";
        if (got != n) {
            free(refs);
            return nc_error_set(err, NC_ERR_INTERNAL, "%s: gene %d: %s listed %d then %d tensors",
                                origin, i + 1, who, n, got);
        }
        int64_t trainable = 0;
        for (int t = o; t < o + n; t++) {
            const nc_tensor_ref *r = &refs[t];
            int bad = !r->name || !r->name[0] || strlen(r->name) > 255 || !r->value ||
                      r->count == 0;
            for (int u = o; !bad && u < t; u++)
                bad = strcmp(refs[u].name, r->name) == 0;
            if (bad) {
                free(refs);
                return nc_error_set(err, NC_ERR_INTERNAL,
                                    "%s: gene %d: %s lists tensor %d without a unique name, "
                                    "values or elements",
                                    origin, i + 1, who, t - o + 1);
            }
            if (r->grad)
                trainable += (int64_t)r->count;
            nc_net_tensor *nt = &net->tensors[t];
            nt->layer = i < net->info.n_layers ? i : -1;
            nt->name = r->name;
            nt->value = r->value;
            nt->grad = r->grad;
            nt->count = r->count;
        }
        int64_t want = i < net->info.n_layers ? an->rows[i].info.params : net->info.decoder_params;
        if (trainable != want) {
            free(refs);
            return nc_error_set(err, NC_ERR_INTERNAL,
                                "%s: gene %d: %s lists %lld trainable parameters, its describe() "
                                "counts %lld",
                                origin, i + 1, who, (long long)trainable, (long long)want);
        }
        o += n;
    }
    free(refs);
    net->n_tensors = total;
    return NC_OK;
}

static int alloc_adam(nc_net *net, nc_error *err)
{
    net->adam_off = calloc((size_t)(net->n_tensors ? net->n_tensors : 1), sizeof *net->adam_off);
    if (!net->adam_off)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    size_t n = 0;
    for (int t = 0; t < net->n_tensors; t++) {
        net->adam_off[t] = n;
        if (net->tensors[t].grad)
            n += net->tensors[t].count;
    }
    net->n_trainable = n;
    net->adam = calloc(2 * (n ? n : 1), sizeof(float));
    if (!net->adam)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory for %zu Adam moments", 2 * n);
    return NC_OK;
}

int nc_net_build(nc_registry *reg, const nc_genotype *g, const char *origin,
                 const nc_data_shape *data, const nc_net_cfg *cfg, nc_net **out, nc_error *err)
{
    *out = NULL;
    if (!origin)
        origin = "<genotype>";
    int rc = nc_genotype_validate(g, origin, data, err);
    if (rc)
        return rc;
    net_plan *p = malloc(sizeof *p);
    nc_net *net = calloc(1, sizeof *net);
    if (!p || !net) {
        free(p);
        free(net);
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    }
    if ((rc = make_plan(reg, g, origin, cfg, p, err)) ||
        (rc = check_memory(origin, cfg, &p->mem, err)))
        goto fail;
    net->g = *g;
    net->cfg = *cfg;
    nc_genotype_to_string(g, net->gstr, sizeof net->gstr);
    nc_net_info *info = &net->info;
    info->input = p->an.input;
    info->n_layers = g->n_layers;
    info->max_batch = cfg->max_batch;
    info->classes = p->an.rows[g->n_layers - 1].info.out.ch;
    info->class_dim = p->an.rows[g->n_layers - 1].info.out.dim;
    info->has_decoder = p->has_decoder;
    info->params = p->an.params;
    info->decoder_params = p->has_decoder ? p->dec.params : 0;
    info->macs = p->an.macs;
    info->decoder_macs = p->has_decoder ? p->dec.macs : 0;
    info->memory = p->mem;
    net->skip = g->skip >= 1 && nc_genotype_role(g, g->n_layers - 1) == NC_ROLE_FLATCAPS
                    ? g->skip - 1 : -1;

    nc_rng rng;
    nc_rng_derive(&rng, cfg->seed, net->gstr);
    size_t ws = p->has_decoder ? p->dec.workspace : 0;
    size_t batch = (size_t)cfg->max_batch;
    for (int i = 0; i < g->n_layers; i++) {
        net_layer *l = &net->layers[i];
        *l = p->layers[i];
        l->ctx.genotype = &net->g;
        l->h = NULL;
        rc = l->ops->create(&l->ctx, &l->tcfg, &rng, &l->h, err);
        if (rc) {
            l->h = NULL;
            if (err && err->status == NC_OK)
                nc_error_set(err, rc, "create() failed");
            nc_error_prefix(err, "%s: gene %d (%s): layer plugin %s", origin, i + 1,
                            nc_layer_role_name(l->ctx.role), l->plugin);
            goto fail;
        }
        size_t lw = l->ops->workspace(l->h);
        if (lw > ws)
            ws = lw;
    }
    info->n_layers = g->n_layers;
    info->memory.workspace = (int64_t)ws;
    info->memory.total = p->mem.total - p->mem.workspace + (int64_t)ws;
    if ((rc = check_memory(origin, cfg, &info->memory, err)))
        goto fail;
    for (int i = 0; i < g->n_layers; i++) {
        net_layer *l = &net->layers[i];
        l->out = malloc(batch * l->out_count * sizeof(float));
        l->dout = malloc(batch * l->out_count * sizeof(float));
        if (!l->out || !l->dout) {
            rc = nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory for the outputs of gene %d",
                              origin, i + 1);
            goto fail;
        }
    }
    if (net->skip >= 0 &&
        !(net->skip_grad = malloc(batch * net->layers[net->skip].out_count * sizeof(float)))) {
        rc = nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory", origin);
        goto fail;
    }
    if (p->has_decoder && (rc = nc_decoder_create(&p->dec, &rng, &net->dec, err))) {
        nc_error_prefix(err, "%s", origin);
        goto fail;
    }
    net->ws_bytes = ws;
    if (ws && !(net->ws = malloc(ws))) {
        rc = nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory for a %zu-byte workspace",
                          origin, ws);
        goto fail;
    }
    if ((rc = collect_tensors(net, &p->an, origin, err)) || (rc = alloc_adam(net, err)))
        goto fail;
    free(p);
    *out = net;
    return NC_OK;
fail:
    free(p);
    nc_net_free(net);
    return rc;
}

const nc_net_info *nc_net_get_info(const nc_net *net)
{
    return &net->info;
}

const char *nc_net_genotype(const nc_net *net)
{
    return net->gstr;
}

static const float *layer_input(const nc_net *net, int i, const float *images)
{
    return i == 0 ? images : net->layers[i - 1].out;
}

int nc_net_forward(nc_net *net, int n, const float *images, int training, nc_error *err)
{
    if (n < 1 || n > net->cfg.max_batch)
        return nc_error_set(err, NC_ERR_INPUT, "network: batch of %d images, built for 1..%d", n,
                            net->cfg.max_batch);
    int last = net->info.n_layers - 1;
    for (int i = 0; i <= last; i++) {
        net_layer *l = &net->layers[i];
        const float *in[2] = {layer_input(net, i, images), NULL};
        if (i == last && net->skip >= 0)
            in[1] = net->layers[net->skip].out;
        int rc = l->ops->forward(l->h, n, in, l->out, training, net->ws, net->ws_bytes, err);
        if (rc) {
            if (err && err->status == NC_OK)
                nc_error_set(err, rc, "forward() failed");
            return nc_error_prefix(err, "gene %d (%s): layer plugin %s", i + 1,
                                   nc_layer_role_name(l->ctx.role), l->plugin);
        }
    }
    return NC_OK;
}

const float *nc_net_output(const nc_net *net)
{
    return net->layers[net->info.n_layers - 1].out;
}

/* The class of sample b whose capsule is longest. */
static int longest(const float *v, int b, int k, int d)
{
    int best = 0;
    double best_q = -1.0;
    for (int j = 0; j < k; j++) {
        const float *c = v + ((size_t)b * k + (size_t)j) * (size_t)d;
        double q = 0.0;
        for (int e = 0; e < d; e++)
            q += (double)c[e] * c[e];
        if (q > best_q) {
            best_q = q;
            best = j;
        }
    }
    return best;
}

void nc_net_predict(const nc_net *net, int n, int32_t *pred)
{
    const float *v = nc_net_output(net);
    for (int b = 0; b < n; b++)
        pred[b] = longest(v, b, net->info.classes, net->info.class_dim);
}

static int backward(nc_net *net, int n, const float *images, nc_error *err)
{
    int last = net->info.n_layers - 1;
    for (int i = last; i >= 0; i--) {
        net_layer *l = &net->layers[i];
        const float *in[2] = {layer_input(net, i, images), NULL};
        float *din[2] = {i > 0 ? net->layers[i - 1].dout : NULL, NULL};
        if (i == last && net->skip >= 0) {
            in[1] = net->layers[net->skip].out;
            din[1] = net->skip_grad;
        }
        int rc = l->ops->backward(l->h, n, in, l->out, l->dout, din, net->ws, net->ws_bytes, err);
        if (rc) {
            if (err && err->status == NC_OK)
                nc_error_set(err, rc, "backward() failed");
            return nc_error_prefix(err, "gene %d (%s): layer plugin %s", i + 1,
                                   nc_layer_role_name(l->ctx.role), l->plugin);
        }
        /* The skip layer's output feeds two layers: its gradient is the
         * sum, added once the next layer has overwritten its part. */
        if (net->skip >= 0 && i - 1 == net->skip) {
            float *d = net->layers[i - 1].dout;
            size_t cnt = (size_t)n * net->layers[i - 1].out_count;
            for (size_t e = 0; e < cnt; e++)
                d[e] += net->skip_grad[e];
        }
    }
    return NC_OK;
}

int nc_net_loss_step(nc_net *net, int n, const float *images, const float *raw,
                     const int32_t *labels, int do_backward, nc_net_loss *loss, nc_error *err)
{
    memset(loss, 0, sizeof *loss);
    int rc = nc_net_forward(net, n, images, 1, err);
    if (rc)
        return rc;
    int last = net->info.n_layers - 1;
    float *dv = do_backward ? net->layers[last].dout : NULL;
    const float *v = nc_net_output(net);
    rc = nc_margin_loss(n, net->info.classes, net->info.class_dim, v, (const int *)labels, dv,
                        &loss->margin, err);
    if (rc)
        return rc;
    loss->correct = 0;
    for (int b = 0; b < n; b++)
        loss->correct += longest(v, b, net->info.classes, net->info.class_dim) == labels[b];
    if (net->dec) {
        if (!raw)
            return nc_error_set(err, NC_ERR_INTERNAL, "network: decoder without target images");
        rc = nc_decoder_forward(net->dec, n, v, labels, 1, net->ws, net->ws_bytes, err);
        if (!rc)
            rc = nc_decoder_backward(net->dec, n, raw, (float)net->cfg.recon_weight, &loss->recon,
                                     dv, net->ws, net->ws_bytes, err);
        if (rc)
            return rc;
    }
    loss->total = loss->margin + loss->recon;
    if (do_backward && isfinite(loss->total))
        return backward(net, n, images, err);
    return NC_OK;
}

void nc_net_zero_grad(nc_net *net)
{
    for (int t = 0; t < net->n_tensors; t++)
        if (net->tensors[t].grad)
            memset(net->tensors[t].grad, 0, net->tensors[t].count * sizeof(float));
}

void nc_net_adam_step(nc_net *net, float lr)
{
    net->step++;
    float *m = net->adam, *v = net->adam + net->n_trainable;
    for (int t = 0; t < net->n_tensors; t++) {
        nc_net_tensor *x = &net->tensors[t];
        if (x->grad)
            nc_adam_step(x->count, x->value, x->grad, m + net->adam_off[t],
                         v + net->adam_off[t], lr, net->step, NULL);
    }
}

float *nc_net_adam_state(nc_net *net, size_t *count, int64_t **step)
{
    *count = net->n_trainable;
    *step = &net->step;
    return net->adam;
}

int nc_net_tensor_count(const nc_net *net)
{
    return net->n_tensors;
}

int nc_net_tensor_at(const nc_net *net, int i, nc_net_tensor *out)
{
    if (i < 0 || i >= net->n_tensors)
        return NC_ERR_INPUT;
    *out = net->tensors[i];
    return NC_OK;
}
