/* space.c - the search space: its settings (search_space.*), the release's
 * generator as defaults, and the seeded sampler (docs/SEARCH.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nascaps/pipeline.h"
#include "search/search_internal.h"

/* Bounds of the settings (the table below is what docs and messages show). */
#define LAYERS_MAX 16
#define LOG2_MAX 10
#define GROWTH_MAX 256
#define CAPS_MAX 1024
#define KERNEL_MAX 64
#define STRIDE_MAX 8
#define CELL_VALUE_MAX 1024

/* The release's generator is the default of every entry. */
const nc_setting_spec nc_search_space_settings[] = {
    NC_SETTING_BOOL("sabour", true, "search Sabour-type networks (convs, "
                    "capsule layers, class capsules)"),
    NC_SETTING_BOOL("deepcaps", true, "search DeepCaps-type networks (convs, "
                    "CapsCells, FlatCaps)"),
    NC_SETTING_INT_LIST("resize", "[1, 2]", 1, 2,
                        "allowed resize genes (1 native, 2 upscaled x2)"),
    NC_SETTING_INT_LIST("conv_layers", "[3, 6]", 1, LAYERS_MAX,
                        "[min, max] leading conv layers drawn"),
    NC_SETTING_INT("first_kernel", 9, 1, KERNEL_MAX,
                   "kernel size of the first conv (stride 1)"),
    NC_SETTING_INT_LIST("kernels", "[3, 5, 9]", 1, KERNEL_MAX,
                        "kernel sizes of the other layers"),
    NC_SETTING_INT_LIST("strides", "[1, 2]", 1, STRIDE_MAX,
                        "strides of the layers after the first"),
    NC_SETTING_INT_LIST("channels_log2", "[2, 6]", 0, LOG2_MAX,
                        "[min, max] of log2 of conv and capsule-layer channels"),
    NC_SETTING_INT_LIST("caps_layers", "[2, 6]", 1, LAYERS_MAX,
                        "[min, max] capsule layers of a Sabour-type network, "
                        "the class capsules included"),
    NC_SETTING_INT_LIST("caps_growth", "[4, 20]", 0, GROWTH_MAX,
                        "[min, max] a capsule layer adds to its input capsule "
                        "dim"),
    NC_SETTING_INT("max_caps", 64, 1, CAPS_MAX,
                   "largest capsule dim of a Sabour capsule layer"),
    NC_SETTING_INT_LIST("class_dim_log2", "[2, 6]", 0, LOG2_MAX,
                        "[min, max] of log2 of the class capsules' dim"),
    NC_SETTING_INT_LIST("cells", "[4, 8]", 2, LAYERS_MAX,
                        "[min, max] type-2 genes of a DeepCaps-type network, "
                        "FlatCaps included"),
    NC_SETTING_INT("cell_kernel", 3, 1, KERNEL_MAX, "kernel size of the CapsCells"),
    NC_SETTING_INT("cell_channels", 32, 1, CELL_VALUE_MAX,
                   "capsule types (outch) of every CapsCell"),
    NC_SETTING_INT("cell_caps_first", 4, 1, CELL_VALUE_MAX,
                   "capsule dim of the first CapsCell"),
    NC_SETTING_INT("cell_caps", 8, 1, CELL_VALUE_MAX,
                   "capsule dim of the later CapsCells"),
    NC_SETTING_INT("flat_caps", 16, 1, CELL_VALUE_MAX,
                   "class capsule dim of FlatCaps"),
    NC_SETTING_END};

#define T nc_search_space_settings

/* [min, max] within the entry's bounds. */
static int get_range(const nc_section *sec, const char *key, nc_range *out,
                     nc_error *err)
{
    const nc_setting_spec *e = nc_setting_find(T, key);
    int64_t *v = NULL;
    size_t n = 0;
    nc_error local;
    int ok = nc_setting_int_list(sec, T, key, &v, &n, &local) == NC_OK &&
             n == 2 && v[0] <= v[1];
    if (ok) {
        out->min = (int)v[0];
        out->max = (int)v[1];
    }
    free(v);
    if (ok)
        return NC_OK;
    return nc_section_value_error(sec, key, err,
                                  "expected [min, max] with %d <= min <= max "
                                  "<= %d", (int)e->min, (int)e->max);
}

/* A list of allowed values within the entry's bounds, 1..cap of them,
 * distinct. */
static int get_choices(const nc_section *sec, const char *key, int cap,
                       int *values, int *count, nc_error *err)
{
    const nc_setting_spec *e = nc_setting_find(T, key);
    int64_t *v = NULL;
    size_t n = 0;
    nc_error local;
    int ok = nc_setting_int_list(sec, T, key, &v, &n, &local) == NC_OK &&
             n >= 1 && n <= (size_t)cap;
    for (size_t i = 0; ok && i < n; i++)
        for (size_t j = 0; j < i; j++)
            ok = ok && v[i] != v[j];
    if (ok) {
        for (size_t i = 0; i < n; i++)
            values[i] = (int)v[i];
        *count = (int)n;
    }
    free(v);
    if (ok)
        return NC_OK;
    return nc_section_value_error(sec, key, err,
                                  "expected a list of 1 to %d distinct "
                                  "integers in [%d, %d]", cap, (int)e->min,
                                  (int)e->max);
}

static int read_space(const nc_section *sec, nc_search_space *sp,
                      nc_error *err)
{
    int rc = nc_pipeline_check_keys(nc_section_pipeline(sec), "search_space",
                                    (const nc_setting_spec *const[]){T, NULL},
                                    NULL, err);
    if (!rc)
        rc = nc_setting_bool(sec, T, "sabour", &sp->sabour, err);
    if (!rc)
        rc = nc_setting_bool(sec, T, "deepcaps", &sp->deepcaps, err);
    if (!rc && !sp->sabour && !sp->deepcaps)
        rc = nc_section_error(sec, nc_section_has(sec, "deepcaps") ? "deepcaps"
                                                                    : "sabour",
                              err, "expected true for at least one of "
                                   "search_space.sabour and "
                                   "search_space.deepcaps: both families are "
                                   "off");
    if (!rc)
        rc = get_choices(sec, "resize", 2, sp->resize, &sp->n_resize, err);
    if (!rc)
        rc = get_range(sec, "conv_layers", &sp->conv_layers, err);
    if (!rc)
        rc = nc_setting_int32(sec, T, "first_kernel", &sp->first_kernel, err);
    if (!rc)
        rc = get_choices(sec, "kernels", NC_SPACE_MAX_CHOICES, sp->kernels,
                         &sp->n_kernels, err);
    if (!rc)
        rc = get_choices(sec, "strides", NC_SPACE_MAX_CHOICES, sp->strides,
                         &sp->n_strides, err);
    if (!rc)
        rc = get_range(sec, "channels_log2", &sp->channels_log2, err);
    if (!rc)
        rc = get_range(sec, "caps_layers", &sp->caps_layers, err);
    if (!rc)
        rc = get_range(sec, "caps_growth", &sp->caps_growth, err);
    if (!rc)
        rc = nc_setting_int32(sec, T, "max_caps", &sp->max_caps, err);
    if (!rc)
        rc = get_range(sec, "class_dim_log2", &sp->class_dim_log2, err);
    if (!rc)
        rc = get_range(sec, "cells", &sp->cells, err);
    if (!rc)
        rc = nc_setting_int32(sec, T, "cell_kernel", &sp->cell_kernel, err);
    if (!rc)
        rc = nc_setting_int32(sec, T, "cell_channels", &sp->cell_channels, err);
    if (!rc)
        rc = nc_setting_int32(sec, T, "cell_caps_first", &sp->cell_caps_first,
                              err);
    if (!rc)
        rc = nc_setting_int32(sec, T, "cell_caps", &sp->cell_caps, err);
    if (!rc)
        rc = nc_setting_int32(sec, T, "flat_caps", &sp->flat_caps, err);
    /* The last conv of a DeepCaps network makes cell_channels x
     * cell_caps_first channels, one gene field. */
    if (!rc && (long long)sp->cell_channels * sp->cell_caps_first >
                   NC_SIZE_MAX_VALUE)
        rc = nc_section_error(sec, "cell_caps_first", err,
                              "expected cell_channels x cell_caps_first <= %d "
                              "(the channels of the conv before the first "
                              "cell), got %d x %d",
                              NC_SIZE_MAX_VALUE, sp->cell_channels,
                              sp->cell_caps_first);
    return rc;
}

void nc_space_defaults(nc_search_space *space, const nc_data_shape *data)
{
    memset(space, 0, sizeof *space);
    nc_error err;
    /* An absent section reads the table's defaults, which always parse
     * (test_search_space checks them against the release). */
    (void)read_space(nc_pipeline_section(NULL, "search_space"), space, &err);
    if (data)
        space->data = *data;
}

int nc_space_from_section(const nc_section *sec, const nc_data_shape *data,
                          nc_search_space *space, nc_error *err)
{
    nc_search_space sp;
    memset(&sp, 0, sizeof sp);
    if (data)
        sp.data = *data;
    int rc = read_space(sec, &sp, err);
    if (rc)
        return rc;
    *space = sp;
    return NC_OK;
}

#undef T

/* ---- shared helpers ------------------------------------------------------ */

int nc_space_pick(nc_rng *rng, const int *values, int n)
{
    return values[nc_rng_range(rng, 0, n - 1)];
}

int nc_space_pow2(nc_rng *rng, nc_range r)
{
    return 1 << (int)nc_rng_range(rng, r.min, r.max);
}

int nc_space_grow_caps(const nc_search_space *space, nc_rng *rng, int incaps)
{
    long long v = (long long)incaps +
                  nc_rng_range(rng, space->caps_growth.min,
                               space->caps_growth.max);
    return v > space->max_caps ? space->max_caps : (int)v;
}

int nc_space_n_conv(const nc_genotype *g)
{
    int n = 0;
    while (n < g->n_layers && g->layers[n].type == NC_GENE_CONV)
        n++;
    return n;
}

int nc_space_skip_options(const nc_genotype *g, int *out)
{
    int last = g->n_layers - 1, n = 0;
    if (last < 1 || g->layers[last].type != NC_GENE_DEEPCAPS)
        return 0;
    for (int i = 0; i < last; i++)
        if (nc_genotype_role(g, i) == NC_ROLE_CAPSCELL &&
            g->layers[i].outcaps == g->layers[last].incaps)
            out[n++] = i + 1;
    return n;
}

int nc_genotype_equal(const nc_genotype *a, const nc_genotype *b)
{
    return a->n_layers == b->n_layers && a->skip == b->skip &&
           a->resize == b->resize && a->n_layers >= 0 &&
           a->n_layers <= NC_MAX_LAYERS &&
           memcmp(a->layers, b->layers,
                  (size_t)a->n_layers * sizeof a->layers[0]) == 0;
}

int nc_space_admits(const nc_search_space *space, const nc_genotype *g)
{
    if (nc_genotype_validate(g, NULL, &space->data, NULL) != NC_OK)
        return 0;
    int resize_ok = 0;
    for (int i = 0; i < space->n_resize; i++)
        resize_ok |= space->resize[i] == g->resize;
    int type = g->layers[g->n_layers - 1].type;
    return resize_ok && (type == NC_GENE_CAPS ? space->sabour : space->deepcaps);
}

/* ---- the generator ------------------------------------------------------- */

static void set_gene(nc_gene *x, int type, int insize, int inch, int incaps,
                     int k, int stride, int outch, int outcaps)
{
    x->type = type;
    x->insize = insize;
    x->inch = inch;
    x->incaps = incaps;
    x->k = k;
    x->stride = stride;
    x->outsize = (insize + stride - 1) / stride;
    x->outch = outch;
    x->outcaps = outcaps;
}

/* A stride for a layer seeing size x. DeepCaps-type networks keep their
 * maps at least 2 x 2 before FlatCaps (keep_two), so only strides that do
 * are drawn; when none does, the smallest stride. */
static int draw_stride(const nc_search_space *space, nc_rng *rng, int x,
                       int keep_two)
{
    if (!keep_two)
        return nc_space_pick(rng, space->strides, space->n_strides);
    int ok[NC_SPACE_MAX_CHOICES], n = 0, smallest = space->strides[0];
    for (int i = 0; i < space->n_strides; i++) {
        int s = space->strides[i];
        if (s < smallest)
            smallest = s;
        if (s == 1 || (x + s - 1) / s >= 2)
            ok[n++] = s;
    }
    return n ? nc_space_pick(rng, ok, n) : smallest;
}

static void draw_convs(const nc_search_space *space, nc_rng *rng, int deep,
                       nc_genotype *g)
{
    int n = (int)nc_rng_range(rng, space->conv_layers.min,
                              space->conv_layers.max);
    int x = space->data.size * g->resize;
    for (int i = 0; i < n; i++) {
        nc_gene *prev = i ? &g->layers[i - 1] : NULL;
        int inch = prev ? prev->outch * prev->outcaps : space->data.channels;
        int k = i ? nc_space_pick(rng, space->kernels, space->n_kernels)
                  : space->first_kernel;
        int stride = i ? draw_stride(space, rng, x, deep) : 1;
        int outch = nc_space_pow2(rng, space->channels_log2);
        /* The first cell views this conv's output as cell_channels
         * capsule types of dim cell_caps_first (DeepCaps: 128 = 32 x 4). */
        if (deep && i == n - 1)
            outch = space->cell_channels * space->cell_caps_first;
        set_gene(&g->layers[i], NC_GENE_CONV, x, inch, 1, k, stride, outch, 1);
        x = g->layers[i].outsize;
    }
    g->n_layers = n;
}

static void draw_sabour(const nc_search_space *space, nc_rng *rng,
                        nc_genotype *g)
{
    draw_convs(space, rng, 0, g);
    int n = (int)nc_rng_range(rng, space->caps_layers.min,
                              space->caps_layers.max);
    for (int i = 0; i < n; i++) {
        const nc_gene *p = &g->layers[g->n_layers - 1];
        nc_gene *x = &g->layers[g->n_layers++];
        /* Primary capsules see the conv channels as scalars. */
        int inch = p->type == NC_GENE_CONV ? p->outch * p->outcaps : p->outch;
        int incaps = p->type == NC_GENE_CONV ? 1 : p->outcaps;
        if (i < n - 1) {
            int k = nc_space_pick(rng, space->kernels, space->n_kernels);
            int stride = draw_stride(space, rng, p->outsize, 0);
            int outch = nc_space_pow2(rng, space->channels_log2);
            set_gene(x, NC_GENE_CAPS, p->outsize, inch, incaps, k, stride, outch,
                     nc_space_grow_caps(space, rng, incaps));
        } else {
            set_gene(x, NC_GENE_CAPS, p->outsize, inch, incaps, p->outsize, 1,
                     space->data.classes,
                     nc_space_pow2(rng, space->class_dim_log2));
        }
    }
}

static void draw_deepcaps(const nc_search_space *space, nc_rng *rng,
                          nc_genotype *g)
{
    draw_convs(space, rng, 1, g);
    int n = (int)nc_rng_range(rng, space->cells.min, space->cells.max);
    for (int i = 0; i < n; i++) {
        const nc_gene *p = &g->layers[g->n_layers - 1];
        nc_gene *x = &g->layers[g->n_layers++];
        int inch = i ? p->outch : space->cell_channels;
        int incaps = i ? p->outcaps : space->cell_caps_first;
        if (i < n - 1) {
            int stride = draw_stride(space, rng, p->outsize, 1);
            set_gene(x, NC_GENE_DEEPCAPS, p->outsize, inch, incaps,
                     space->cell_kernel, stride, space->cell_channels,
                     i ? space->cell_caps : space->cell_caps_first);
        } else {
            set_gene(x, NC_GENE_DEEPCAPS, p->outsize, inch, incaps, p->outsize,
                     1, space->data.classes, space->flat_caps);
        }
    }
    int options[NC_MAX_LAYERS + 1], n_opt = nc_space_skip_options(g, options + 1);
    options[0] = -1;
    g->skip = nc_space_pick(rng, options, n_opt + 1);
}

int nc_space_sample(const nc_search_space *space, nc_rng *rng,
                    nc_genotype *out, nc_error *err)
{
    const nc_data_shape *d = &space->data;
    if (d->size < 1 || d->channels < 1 || d->classes < 1)
        return nc_error_set(err, NC_ERR_INPUT,
                            "search space: the dataset's shape is not known "
                            "(size %d, channels %d, classes %d)",
                            d->size, d->channels, d->classes);
    nc_genotype g;
    nc_error why;
    nc_error_clear(&why);
    for (int t = 0; t < NC_SPACE_SAMPLE_TRIES; t++) {
        memset(&g, 0, sizeof g);
        g.skip = -1;
        g.resize = nc_space_pick(rng, space->resize, space->n_resize);
        int deep = space->sabour && space->deepcaps
                       ? (int)nc_rng_range(rng, 0, 1) : space->deepcaps;
        if (deep)
            draw_deepcaps(space, rng, &g);
        else
            draw_sabour(space, rng, &g);
        if (nc_genotype_validate(&g, "sampled genotype", d, &why) == NC_OK &&
            nc_space_admits(space, &g)) {
            *out = g;
            return NC_OK;
        }
    }
    return nc_error_set(err, NC_ERR_INPUT,
                        "search space: no valid genotype in %d draws for a "
                        "%d x %d x %d dataset of %d classes (last: %s)",
                        NC_SPACE_SAMPLE_TRIES, d->size, d->size, d->channels,
                        d->classes, why.msg);
}
