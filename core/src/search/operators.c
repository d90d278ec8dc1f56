/* operators.c - the paper's genetic operators: single-point crossover with
 * its cut rules and per-gene mutation, both followed by the repair step
 * (docs/SEARCH.md). Every result is admitted by the space. */
#include <stdlib.h>
#include <string.h>

#include "search/search_internal.h"

static int check_parent(const nc_search_space *space, const nc_genotype *g,
                        const char *what, nc_error *err)
{
    if (nc_space_admits(space, g))
        return NC_OK;
    nc_error why;
    nc_error_clear(&why);
    if (nc_genotype_validate(g, what, &space->data, &why) == NC_OK)
        nc_error_set(&why, NC_ERR_INPUT,
                     "%s: resize %d or its family (last gene type %d) is not "
                     "in the search space", what, g->resize,
                     g->layers[g->n_layers - 1].type);
    return nc_error_set(err, NC_ERR_INPUT, "%s", why.msg);
}

/* Repairs g for offspring and says whether the space admits it. */
static int finish(const nc_search_space *space, nc_genotype *g)
{
    return nc_genotype_repair(g, 1, NULL) == NC_OK && nc_space_admits(space, g);
}

/* ---- crossover ----------------------------------------------------------- */

/* head[0..h) + tail[t..) obeys the cut rules: the head starts with a conv
 * (always: it is a parent's start), no conv after a capsule layer, at
 * least two capsule layers, and it fits. */
static int legal_child(const nc_genotype *head, int h, const nc_genotype *tail,
                       int t)
{
    int hc = nc_space_n_conv(head), tc = nc_space_n_conv(tail);
    int head_caps = h > hc ? h - hc : 0;
    int tail_caps = tail->n_layers - (t > tc ? t : tc);
    if (head_caps > 0 && t < tc)
        return 0;
    return head_caps + tail_caps >= 2 &&
           h + tail->n_layers - t <= NC_MAX_LAYERS;
}

static void splice(const nc_genotype *head, int h, const nc_genotype *tail,
                   int t, nc_genotype *child)
{
    nc_genotype c;
    memset(&c, 0, sizeof c);
    c.n_layers = h + tail->n_layers - t;
    memcpy(c.layers, head->layers, (size_t)h * sizeof c.layers[0]);
    memcpy(c.layers + h, tail->layers + t,
           (size_t)(tail->n_layers - t) * sizeof c.layers[0]);
    /* The resize gene fixes the first gene's insize: it stays with the
     * head. The skip follows the part that holds the cell it names
     * (repair drops it when that cell is no longer a fitting CapsCell). */
    c.resize = head->resize;
    if (tail->skip >= 1 && tail->skip - 1 >= t)
        c.skip = tail->skip - t + h;
    else if (head->skip >= 1 && head->skip - 1 < h)
        c.skip = head->skip;
    else
        c.skip = -1;
    *child = c;
}

int nc_space_crossover(const nc_search_space *space, nc_rng *rng,
                       const nc_genotype *a, const nc_genotype *b,
                       nc_genotype *child_a, nc_genotype *child_b, int *ok,
                       nc_error *err)
{
    *ok = 0;
    if (check_parent(space, a, "crossover parent a", err) ||
        check_parent(space, b, "crossover parent b", err))
        return err->status;
    nc_genotype ca = *a, cb = *b;
    if (a->layers[a->n_layers - 1].type == b->layers[b->n_layers - 1].type) {
        /* Every legal cut pair; one is drawn uniformly, and redrawn when
         * the repaired children are not admitted. */
        int *cuts = malloc((size_t)a->n_layers * (size_t)b->n_layers *
                           2 * sizeof *cuts);
        if (!cuts)
            return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        int n = 0;
        for (int i = 1; i < a->n_layers; i++)
            for (int j = 1; j < b->n_layers; j++)
                if (legal_child(a, i, b, j) && legal_child(b, j, a, i)) {
                    cuts[2 * n] = i;
                    cuts[2 * n + 1] = j;
                    n++;
                }
        while (n > 0 && !*ok) {
            int pick = (int)nc_rng_range(rng, 0, n - 1);
            int i = cuts[2 * pick], j = cuts[2 * pick + 1];
            splice(a, i, b, j, &ca);
            splice(b, j, a, i, &cb);
            *ok = finish(space, &ca) && finish(space, &cb);
            cuts[2 * pick] = cuts[2 * (n - 1)];
            cuts[2 * pick + 1] = cuts[2 * (n - 1) + 1];
            n--;
        }
        free(cuts);
    }
    if (!*ok) {
        ca = *a;
        cb = *b;
    }
    *child_a = ca;
    *child_b = cb;
    return NC_OK;
}

/* ---- mutation ------------------------------------------------------------ */

enum { MUT_KERNEL, MUT_STRIDE, MUT_OUTCAPS, MUT_DELETE };

/* A value from draw() other than old when a few draws find one. */
static int redraw_int(nc_rng *rng, const int *values, int n, int old)
{
    int v = old;
    for (int t = 0; t < 8 && v == old; t++)
        v = nc_space_pick(rng, values, n);
    return v;
}

static int new_outcaps(const nc_search_space *space, nc_rng *rng,
                       const nc_genotype *g, int i)
{
    const nc_gene *x = &g->layers[i];
    int v = x->outcaps;
    for (int t = 0; t < 8 && v == x->outcaps; t++) {
        switch (nc_genotype_role(g, i)) {
        case NC_ROLE_CONV:
            v = nc_space_pow2(rng, space->channels_log2);
            break;
        case NC_ROLE_CAPS:
            v = nc_space_grow_caps(space, rng, x->incaps);
            break;
        default:   /* class capsules, cells, FlatCaps: capsule dims */
            v = nc_space_pow2(rng, space->class_dim_log2);
            break;
        }
    }
    return v;
}

static int deletable(const nc_genotype *g, int i)
{
    int last = g->n_layers - 1;
    if (i == 0 || i >= last)
        return 0;
    if (g->layers[last].type == NC_GENE_DEEPCAPS &&
        g->layers[i].type == NC_GENE_DEEPCAPS)
        return last - nc_space_n_conv(g) >= 2;   /* keeps one cell */
    return 1;
}

static void delete_gene(nc_genotype *g, int i)
{
    memmove(g->layers + i, g->layers + i + 1,
            (size_t)(g->n_layers - i - 1) * sizeof g->layers[0]);
    g->n_layers--;
    memset(&g->layers[g->n_layers], 0, sizeof g->layers[0]);
    if (g->skip == i + 1)
        g->skip = -1;
    else if (g->skip > i + 1)
        g->skip--;
}

/* Mutates gene i; returns 1 when it was deleted. */
static int mutate_gene(const nc_search_space *space, nc_rng *rng,
                       nc_genotype *g, int i)
{
    int ops[4], n = 0, last = i == g->n_layers - 1;
    if (!last) {
        ops[n++] = MUT_KERNEL;
        ops[n++] = MUT_STRIDE;
    }
    ops[n++] = MUT_OUTCAPS;
    if (deletable(g, i))
        ops[n++] = MUT_DELETE;
    nc_gene *x = &g->layers[i];
    switch (nc_space_pick(rng, ops, n)) {
    case MUT_KERNEL:
        x->k = redraw_int(rng, space->kernels, space->n_kernels, x->k);
        return 0;
    case MUT_STRIDE:
        x->stride = redraw_int(rng, space->strides, space->n_strides, x->stride);
        return 0;
    case MUT_OUTCAPS:
        x->outcaps = new_outcaps(space, rng, g, i);
        return 0;
    default:
        delete_gene(g, i);
        return 1;
    }
}

/* The paper's mutation (section 3.3.1): one layer descriptor chosen at
 * random and, with probability rate, one of its main parameters (kernel
 * size, stride, output capsules, or the skip position) changed. */
static int mutate_one(const nc_search_space *space, nc_rng *rng, double rate,
                      nc_genotype *h)
{
    int i = (int)nc_rng_range(rng, 0, h->n_layers - 1);
    if (!(nc_rng_uniform(rng) < rate))
        return 0;
    int last = i == h->n_layers - 1, ops[4], n = 0;
    enum { P_KERNEL, P_STRIDE, P_OUTCAPS, P_SKIP };
    if (!last) {
        ops[n++] = P_KERNEL;
        ops[n++] = P_STRIDE;
    }
    ops[n++] = P_OUTCAPS;
    int skips[NC_MAX_LAYERS + 1], n_skips = 0;
    if (nc_genotype_repair(h, 1, NULL) == NC_OK)
        n_skips = nc_space_skip_options(h, skips + 1);
    if (n_skips > 0)
        ops[n++] = P_SKIP;
    nc_gene *x = &h->layers[i];
    switch (nc_space_pick(rng, ops, n)) {
    case P_KERNEL:
        x->k = redraw_int(rng, space->kernels, space->n_kernels, x->k);
        break;
    case P_STRIDE:
        x->stride = redraw_int(rng, space->strides, space->n_strides, x->stride);
        break;
    case P_OUTCAPS:
        x->outcaps = new_outcaps(space, rng, h, i);
        break;
    default:
        skips[0] = -1;
        h->skip = redraw_int(rng, skips, n_skips + 1, h->skip);
        break;
    }
    return 1;
}

/* The per-gene mutation of nc_space_mutate on h; returns 1 (h changed or
 * not, it is a draw to try). */
static int mutate_per_gene(const nc_search_space *space, nc_rng *rng, double rate,
                           nc_genotype *h)
{
    for (int i = 0; i < h->n_layers;) {
        if (nc_rng_uniform(rng) < rate && mutate_gene(space, rng, h, i))
            continue;   /* the next gene moved into place i */
        i++;
    }
    if (nc_rng_uniform(rng) < rate) {
        /* Skip positions are checked against the repaired chain. */
        if (nc_genotype_repair(h, 1, NULL) == NC_OK) {
            int options[NC_MAX_LAYERS + 1];
            int n = nc_space_skip_options(h, options + 1);
            options[0] = -1;
            if (n > 0)
                h->skip = redraw_int(rng, options, n + 1, h->skip);
        }
    }
    return 1;
}

/* Draws with op until finish() admits the result (bounded); op returning
 * 0 means "drawn not to mutate": g stays. */
static int mutate_with(const nc_search_space *space, nc_rng *rng, double rate, nc_genotype *g,
                       int (*op)(const nc_search_space *, nc_rng *, double, nc_genotype *),
                       nc_error *err)
{
    if (!(rate >= 0 && rate <= 1))
        return nc_error_set(err, NC_ERR_INPUT,
                            "mutation rate %g, expected a number in [0, 1]",
                            rate);
    if (check_parent(space, g, "mutated genotype", err))
        return err->status;
    for (int t = 0; t < NC_SPACE_MUTATE_TRIES; t++) {
        nc_genotype h = *g;
        if (!op(space, rng, rate, &h))
            return NC_OK;
        if (finish(space, &h)) {
            *g = h;
            return NC_OK;
        }
    }
    return NC_OK;   /* g unchanged: it is admitted */
}

int nc_space_mutate_paper(const nc_search_space *space, nc_rng *rng, double rate,
                          nc_genotype *g, nc_error *err)
{
    return mutate_with(space, rng, rate, g, mutate_one, err);
}

int nc_space_mutate(const nc_search_space *space, nc_rng *rng, double rate,
                    nc_genotype *g, nc_error *err)
{
    return mutate_with(space, rng, rate, g, mutate_per_gene, err);
}
