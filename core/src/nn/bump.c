/* bump.c - the bump allocator that lays out a layer's block and workspace. */
#include "nascaps/nn.h"

size_t nc_nn_align_floats(size_t floats)
{
    /* wraps to 0 for the last NC_NN_ALIGN_FLOATS - 1 values of size_t, which
     * nc_nn_take reads as overflow (0 < count) */
    return (floats + NC_NN_ALIGN_FLOATS - 1) / NC_NN_ALIGN_FLOATS * NC_NN_ALIGN_FLOATS;
}

int nc_nn_take(size_t *top, size_t count, size_t *off)
{
    size_t r = nc_nn_align_floats(count);
    if (r < count || *top + r < *top)
        return 0;
    *off = *top;
    *top += r;
    return 1;
}
