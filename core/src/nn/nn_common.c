/* nn_common.c - argument checks shared by the kernels, OpenBLAS threads. */
#include <cblas.h>

#include "nascaps/nn.h"
#include "nn/nn_internal.h"

void nc_nn_set_threads(int threads)
{
    openblas_set_num_threads(threads < 1 ? 1 : threads);
}

int nc_nn_threads(void)
{
    return openblas_get_num_threads();
}

int nc_nn_check_ws(const char *kernel, size_t have, size_t need,
                   nc_error *err)
{
    if (have < need)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: workspace of %zu bytes, needs %zu", kernel,
                            have, need);
    return NC_OK;
}

size_t nc_nn_mul(size_t a, size_t b)
{
    size_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return SIZE_MAX;
    return r;
}

size_t nc_nn_mul3(size_t a, size_t b, size_t c)
{
    return nc_nn_mul(nc_nn_mul(a, b), c);
}

int nc_nn_check_dim(const char *kernel, const char *what, int64_t v,
                    nc_error *err)
{
    if (v < 1)
        return nc_error_set(err, NC_ERR_INPUT, "%s: %s = %lld, must be >= 1",
                            kernel, what, (long long)v);
    return NC_OK;
}
