/* nn_internal.h - helpers shared by the kernel files of core/src/nn. */
#ifndef NC_NN_INTERNAL_H
#define NC_NN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nascaps/error.h"

/* Refuses a workspace shorter than need bytes, naming the kernel. */
int nc_nn_check_ws(const char *kernel, size_t have, size_t need,
                   nc_error *err);
/* a*b (and a*b*c) with overflow to SIZE_MAX, which every check refuses. */
size_t nc_nn_mul(size_t a, size_t b);
size_t nc_nn_mul3(size_t a, size_t b, size_t c);
/* Refuses an int size < 1, naming kernel and argument. */
int nc_nn_check_dim(const char *kernel, const char *what, int64_t v,
                    nc_error *err);

/* Squash of one capsule, and its exact gradient (nascaps/nn.h). */
void nc_nn_squash_one(int dim, const float *s, float *v);
void nc_nn_squash_one_backward(int dim, const float *s, const float *dv,
                               float *ds);

#endif
