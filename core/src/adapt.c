/* adapt.c - moving a genotype to another dataset (docs/GENOTYPE.md,
 * "Adapting a genotype to another dataset"): the paper's transfer
 * experiment (Table 4) trains the networks found on one dataset on the
 * others, which needs the input size, channels and class count re-derived
 * and the size chain repaired. `nascaps train --adapt`, `estimate --adapt`
 * and `nascaps adapt` share this. */
#include <stdio.h>
#include <string.h>

#include "nascaps/genotype.h"

static void gene_values(const nc_gene *x, int v[NC_GENE_FIELDS])
{
    v[0] = x->type;
    v[1] = x->insize;
    v[2] = x->inch;
    v[3] = x->incaps;
    v[4] = x->k;
    v[5] = x->stride;
    v[6] = x->outsize;
    v[7] = x->outch;
    v[8] = x->outcaps;
}

static void list_changes(const nc_genotype *before, const nc_genotype *after,
                         nc_genotype_changes *changes)
{
    changes->n = 0;
    for (int i = 0; i < after->n_layers; i++) {
        int a[NC_GENE_FIELDS], b[NC_GENE_FIELDS];
        gene_values(&before->layers[i], a);
        gene_values(&after->layers[i], b);
        for (int f = 0; f < NC_GENE_FIELDS; f++)
            if (a[f] != b[f])
                changes->at[changes->n++] = (nc_genotype_change){i + 1, f, a[f], b[f]};
    }
    if (before->skip != after->skip)
        changes->at[changes->n++] = (nc_genotype_change){0, -1, before->skip, after->skip};
}

int nc_genotype_adapt(nc_genotype *g, const nc_data_shape *data, const char *origin,
                      nc_genotype_changes *changes, nc_error *err)
{
    if (!origin)
        origin = "<genotype>";
    if (changes)
        changes->n = 0;
    int rc = nc_genotype_validate(g, origin, NULL, err);
    if (rc)
        return rc;
    nc_genotype a = *g;
    nc_gene *first = &a.layers[0], *last = &a.layers[a.n_layers - 1];
    /* A pinned last k (the search's convention) follows the new insize; a
     * free one (CapsNet's 9 on 14 x 14) is the author's choice and stays. */
    int pinned = last->k == last->insize;
    /* Likewise its outsize, unused by the network but not by the cost
     * model: it follows ceil(insize / stride) when it did. */
    int derived = last->outsize == (last->insize + last->stride - 1) / last->stride;
    if (data->size > 0) {
        long long insize = (long long)data->size * a.resize;
        if (insize > NC_SIZE_MAX_VALUE)
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: gene 1 (conv): the dataset's images are %d x resize %d = "
                                "%lld, more than %d",
                                origin, data->size, a.resize, insize, NC_SIZE_MAX_VALUE);
        first->insize = (int)insize;
    }
    /* The first gene is a conv: a view of the image's channels as ch x dim
     * means nothing to it, so a channel count that changes becomes
     * channels x 1. */
    if (data->channels > 0 && (long long)first->inch * first->incaps != data->channels) {
        first->inch = data->channels;
        first->incaps = 1;
    }
    if (data->classes > 0)
        last->outch = data->classes;
    /* repair's own message names no file: validate says what is wrong */
    nc_genotype_repair(&a, pinned, NULL);
    if (derived)
        last->outsize = (last->insize + last->stride - 1) / last->stride;
    if ((rc = nc_genotype_validate(&a, origin, data, err)))
        return rc;
    if (changes)
        list_changes(g, &a, changes);
    *g = a;
    return NC_OK;
}

int nc_genotype_change_text(const nc_genotype *g, const nc_genotype_change *c, char *buf,
                            size_t size)
{
    if (c->gene <= 0 || c->gene > g->n_layers || c->field < 0 || c->field >= NC_GENE_FIELDS)
        return snprintf(buf, size, "skip gene: %d -> %d", c->before, c->after);
    const char *role = "?";
    int t = g->layers[c->gene - 1].type;
    if (t >= NC_GENE_CONV && t <= NC_GENE_DEEPCAPS)
        role = nc_layer_role_name(nc_genotype_role(g, c->gene - 1));
    return snprintf(buf, size, "gene %d (%s): %s %d -> %d", c->gene, role,
                    nc_gene_field_names[c->field], c->before, c->after);
}
