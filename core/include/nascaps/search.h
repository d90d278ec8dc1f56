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

/* Reads the `search_space` section sec (absent keys: the release's
 * defaults) for a dataset of shape data (zeros: no dataset known, the
 * data-dependent checks are skipped). Messages in the settings form:
 * "FILE:LINE: setting 'search_space.conv_layers': expected [min, max]
 * with 1 <= min <= max <= 16, got [7, 3]". */
/* The settings of section search_space (docs/CONFIG.md), with the
 * release's generator as defaults. */
extern const nc_setting_spec nc_search_space_settings[];
int nc_space_from_section(const nc_section *sec, const nc_data_shape *data,
                          nc_search_space *space, nc_error *err);
/* The defaults alone (for tests and tools). data may be NULL. */
void nc_space_defaults(nc_search_space *space, const nc_data_shape *data);

/* Non-zero when g belongs to the space's networks: it validates against
 * the space's dataset shape, its resize gene and its family are allowed.
 * (It need not be one the sampler could draw: offspring leave the sampled
 * ranges.) */
int nc_space_admits(const nc_search_space *space, const nc_genotype *g);

/* A random genotype of the space (docs/SEARCH.md: the generator); always
 * admitted (above). NC_ERR_INPUT when the dataset makes every draw
 * invalid (e.g. images so large every layer exceeds 2^40 MACs). */
int nc_space_sample(const nc_search_space *space, nc_rng *rng,
                    nc_genotype *out, nc_error *err);
/* Single-point crossover with the paper's cut rules: a cut (i in a, j in
 * b) gives a[0..i) + b[j..) and b[0..j) + a[i..); legal when both
 * children start with a conv, have at least two capsule layers and no conv
 * after a capsule layer; both parents of one family. A legal cut is drawn
 * uniformly; the resize gene stays with the head, the skip gene follows
 * the part holding the cell it names. Children are repaired (last k
 * pinned) and admitted; *ok = 0 (children = copies of the parents) when
 * no cut gives two admitted children. NC_ERR_INPUT when a parent is not
 * admitted. */
int nc_space_crossover(const nc_search_space *space, nc_rng *rng,
                       const nc_genotype *a, const nc_genotype *b,
                       nc_genotype *child_a, nc_genotype *child_b, int *ok,
                       nc_error *err);
/* With probability rate per layer gene, one of: a new kernel size, stride
 * or output capsule count, or the deletion of that layer (not the first
 * nor the last, nor a FlatCaps network's only cell); with probability rate
 * a new skip position (FlatCaps networks). Then repair (last k pinned). A
 * draw that is not admitted is redrawn (bounded); g is left unchanged when
 * none is. NC_ERR_INPUT when g is not admitted. */
int nc_space_mutate(const nc_search_space *space, nc_rng *rng, double rate,
                    nc_genotype *g, nc_error *err);

/* The paper's mutation (NASCaps, section 3.3.1): "randomly selecting one
 * layer descriptor from the genotype of the input candidate network, and
 * randomly modifying one of the main parameters of the selected layer with
 * a probability"; the parameters are the kernel size, the stride, the
 * number of output capsules and the position of the skip connection. So:
 * one layer gene drawn uniformly, then with probability rate one of those
 * parameters (stride and kernel not for the last gene, skip only for
 * FlatCaps networks) redrawn; no deletion. Repaired and redrawn like
 * nc_space_mutate; g unchanged when not drawn to mutate. */
int nc_space_mutate_paper(const nc_search_space *space, nc_rng *rng, double rate,
                          nc_genotype *g, nc_error *err);

/* Same layer genes, skip and resize (genes past n_layers ignored). */
int nc_genotype_equal(const nc_genotype *a, const nc_genotype *b);

/* ---- multi-objective utilities (all objectives minimised) ------------- */

/* An evaluated point: objectives plus constraint violation (0 = feasible).
 * A NaN objective counts as +inf. */
typedef struct nc_point {
    const double *obj;
    double violation;
} nc_point;

/* Most objectives the utilities accept. */
#define NC_MAX_OBJECTIVES 8

/* Constrained domination (Deb 2002): a feasible point dominates an
 * infeasible one; of two infeasible ones the smaller violation dominates
 * (equal violations: neither); of two feasible ones Pareto domination
 * (no worse in every objective, better in one). 1 if a dominates b. */
int nc_dominates(const nc_point *a, const nc_point *b, int m);
/* Fast non-dominated sort (Deb 2002) under nc_dominates: rank[i] = 0 for
 * the first front. Returns the number of fronts, or -1 on allocation
 * failure. */
int nc_nondominated_sort(const nc_point *pts, size_t n, int m, int *rank);
/* Crowding distance within one front (idx lists its n members; dist[k]
 * belongs to idx[k]): per objective the members are ordered by value (ties
 * by position in idx), the two ends get +inf, an interior member adds
 * (next - previous) / (max - min); a zero or non-finite range adds 0. */
void nc_crowding(const nc_point *pts, const size_t *idx, size_t n, int m,
                 double *dist);
/* Ranks (as nc_nondominated_sort) and the crowding distance of each point
 * within its front. Returns the number of fronts, or -1. */
int nc_rank_crowding(const nc_point *pts, size_t n, int m, int *rank,
                     double *crowding);
/* Elitist (mu + lambda) survival: keeps `keep` of the n points, whole
 * fronts in rank order, the last front cut by crowding distance (largest
 * first, ties broken by rng). chosen gets the kept indices (ascending).
 * Returns the number kept (min(keep, n)), or -1 on allocation failure. */
int nc_survival_select(const nc_point *pts, size_t n, int m, size_t keep,
                       nc_rng *rng, size_t *chosen);
/* Binary tournament: two distinct members drawn uniformly, the lower rank
 * wins, then the larger crowding distance, then a fair coin. */
size_t nc_tournament(const int *rank, const double *crowding, size_t n,
                     nc_rng *rng);
/* Exact hypervolume (WFG with dimension slicing) of the region the points
 * (n x m row-major, minimised) dominate up to ref, 1 <= m <= 8. Points
 * not strictly better than ref in every objective contribute nothing.
 * Returns -1 on bad input or allocation failure. */
double nc_hypervolume(const double *pts, size_t n, int m, const double *ref);

#ifdef __cplusplus
}
#endif
#endif
