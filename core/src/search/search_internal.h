/* search_internal.h - what space.c and operators.c share. Not installed. */
#ifndef NC_SEARCH_INTERNAL_H
#define NC_SEARCH_INTERNAL_H

#include "nascaps/search.h"

/* Draws an operator or the sampler makes before giving up on one result:
 * a draw that is not admitted (e.g. too many MACs for a huge dataset) is
 * redrawn, so these only bound pathological spaces. */
#define NC_SPACE_SAMPLE_TRIES 100
#define NC_SPACE_MUTATE_TRIES 20

/* Uniform choice of one of n values (n >= 1). */
int nc_space_pick(nc_rng *rng, const int *values, int n);
/* 2^U{r.min..r.max}. */
int nc_space_pow2(nc_rng *rng, nc_range r);
/* min(incaps + U{growth}, max_caps): a Sabour capsule layer's outcaps. */
int nc_space_grow_caps(const nc_search_space *space, nc_rng *rng, int incaps);
/* Leading conv genes of g. */
int nc_space_n_conv(const nc_genotype *g);
/* The skip positions a FlatCaps network admits besides -1 (1-based
 * indices of CapsCells before the last cell whose capsule dim matches the
 * FlatCaps input); returns how many were written to out. */
int nc_space_skip_options(const nc_genotype *g, int *out);

#endif
