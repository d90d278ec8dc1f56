/* fuzz_net.h - the network fuzz_weights loads into and fuzz_seeds saves:
 * conv -> primary caps -> class caps on 8 x 8 x 1, 3 classes, decoder. */
#ifndef NC_FUZZ_NET_H
#define NC_FUZZ_NET_H

#include "nascaps/genotype.h"
#include "nascaps/registry.h"
#include "nascaps/train.h"

#define NC_FUZZ_NET_CHR \
    "[[0,8,1,1,3,1,8,4,1],[1,8,4,1,3,2,4,2,4],[1,4,2,4,4,1,1,3,4],[-1],[1]]"

static inline int nc_fuzz_net_build(nc_registry *reg, nc_net **net, nc_error *err)
{
    nc_genotype g;
    nc_net_cfg cfg;
    nc_net_cfg_defaults(&cfg);
    cfg.max_batch = 2;
    int rc = nc_genotype_parse(NC_FUZZ_NET_CHR, "<fuzz>", &g, err);
    return rc ? rc : nc_net_build(reg, &g, "<fuzz>", NULL, &cfg, net, err);
}

#endif
