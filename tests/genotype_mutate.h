/* genotype_mutate.h - random perturbations of genotypes, shared by the
 * genotype tests (the search's own mutation operators live in the
 * optimizer plugins; these only need to break the size chain). */
#ifndef NC_TEST_GENOTYPE_MUTATE_H
#define NC_TEST_GENOTYPE_MUTATE_H

#include "nascaps/genotype.h"
#include "nascaps/rng.h"

/* Changes 1-3 size fields (never 'type') of g to small random values, and
 * sometimes the skip or resize gene, the way crossover and mutation do. */
static inline void nc_test_perturb(nc_genotype *g, nc_rng *rng)
{
    static const int small[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 32};
    int changes = (int)nc_rng_range(rng, 1, 3);
    for (int c = 0; c < changes; c++) {
        nc_gene *x = &g->layers[nc_rng_range(rng, 0, g->n_layers - 1)];
        int v = small[nc_rng_range(rng, 0, (int64_t)(sizeof small / sizeof small[0]) - 1)];
        switch (nc_rng_range(rng, 0, 9)) {
        case 0: x->insize = v * 4; break;
        case 1: x->inch = v; break;
        case 2: x->incaps = v; break;
        case 3: x->k = v; break;
        case 4: x->stride = v > 2 ? 2 : v; break;
        case 5: x->outsize = v; break;
        case 6: x->outch = v * 2; break;
        case 7: x->outcaps = v; break;
        case 8: g->skip = (int)nc_rng_range(rng, -1, g->n_layers + 1); break;
        default: g->resize = (int)nc_rng_range(rng, 0, 3); break;
        }
    }
}

#endif
