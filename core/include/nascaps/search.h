/* nascaps/search.h - the search space and the genetic operators, shared by
 * every optimizer plugin (they link libnascaps), plus the multi-objective
 * utilities (non-dominated sorting, crowding, hypervolume).
 *
 * The space's settings are the pipeline's `search_space.*` (docs/CONFIG.md);
 * its defaults are the original release's generator. Every genotype the
 * sampler and the operators return validates against the space's dataset
 * shape. */
#ifndef NASCAPS_SEARCH_H
#define NASCAPS_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "genotype.h"
#include "rng.h"
#include "settings.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NC_SPACE_MAX_CHOICES 16

/* An inclusive integer range. */
typedef struct nc_range {
    int min, max;
} nc_range;

typedef struct nc_search_space {
    nc_data_shape data;        /* size, channels, classes of the dataset */
    int sabour, deepcaps;      /* families allowed (at least one) */
    int n_resize;
    int resize[2];             /* allowed resize genes: 1 and/or 2 */
    nc_range conv_layers;      /* 3..6 */
    int first_kernel;          /* 9: the first conv's k (stride 1) */
    int n_kernels;
    int kernels[NC_SPACE_MAX_CHOICES];   /* {3,5,9} */
    int n_strides;
    int strides[NC_SPACE_MAX_CHOICES];   /* {1,2} */
    nc_range channels_log2;    /* outch = 2^U{2..6} (conv and non-last caps) */
    nc_range caps_layers;      /* Sabour: 2..6 capsule layers, the last the class caps */
    nc_range caps_growth;      /* outcaps = min(incaps + U{4..20}, max_caps) */
    int max_caps;              /* 64 */
    nc_range class_dim_log2;   /* last layer's outcaps = 2^U{2..6} */
    nc_range cells;            /* DeepCaps: 4..8 type-2 genes, the last FlatCaps */
    int cell_kernel;           /* 3 */
    int cell_channels;         /* 32 */
    int cell_caps_first;       /* 4 */
    int cell_caps;             /* 8 */
    int flat_caps;             /* 16 */
} nc_search_space;

/* Reads search_space.* from sec (absent: the release's defaults) for a
 * dataset of shape data; messages in the settings form. */
int nc_space_from_section(const nc_section *sec, const nc_data_shape *data,
                          nc_search_space *space, nc_error *err);
/* The defaults alone (for tests and tools). */
void nc_space_defaults(nc_search_space *space, const nc_data_shape *data);

/* A random genotype of the space; always valid. */
int nc_space_sample(const nc_search_space *space, nc_rng *rng,
                    nc_genotype *out, nc_error *err);
/* Single-point crossover with the paper's cut rules (at least one leading
 * conv, at least two capsule layers, no conv between capsule layers, both
 * parents of one family); *ok = 0 when no legal cut exists. Children are
 * repaired (last k pinned) and valid. */
int nc_space_crossover(const nc_search_space *space, nc_rng *rng,
                       const nc_genotype *a, const nc_genotype *b,
                       nc_genotype *child_a, nc_genotype *child_b, int *ok,
                       nc_error *err);
/* With probability rate per gene: mutate kernel size, stride, output
 * capsules or skip position, or delete a layer; then repair (last k
 * pinned). The result is valid. */
int nc_space_mutate(const nc_search_space *space, nc_rng *rng, double rate,
                    nc_genotype *g, nc_error *err);

/* ---- multi-objective utilities (all objectives minimised) ------------- */

/* An evaluated point: objectives plus constraint violation (0 = feasible). */
typedef struct nc_point {
    const double *obj;
    double violation;
} nc_point;

/* Constrained domination (Deb 2002): feasible before infeasible, then
 * smaller violation, then Pareto domination. 1 if a dominates b. */
int nc_dominates(const nc_point *a, const nc_point *b, int m);
/* Fast non-dominated sort: rank[i] = 0 for the first front. Returns the
 * number of fronts, or -1 on allocation failure. */
int nc_nondominated_sort(const nc_point *pts, size_t n, int m, int *rank);
/* Crowding distance within one front (idx lists its members): boundary
 * points infinite, each objective normalised by the front's range, a zero
 * range contributes 0. */
void nc_crowding(const nc_point *pts, const size_t *idx, size_t n, int m,
                 double *dist);
/* Exact hypervolume of points (n x m row-major, minimised) dominated
 * region up to ref (m <= 6). Points not strictly better than ref in every
 * objective contribute nothing. Returns -1 on bad input. */
double nc_hypervolume(const double *pts, size_t n, int m, const double *ref);

#ifdef __cplusplus
}
#endif
#endif
