/* dense.c - fully connected layer y = x W + b through sgemm. */
#include <limits.h>

#include <cblas.h>

#include "nascaps/nn.h"
#include "nn/nn_internal.h"

static int dense_check(const char *kernel, int n, int in, int out,
                       nc_error *err)
{
    if (nc_nn_check_dim(kernel, "n", n, err) ||
        nc_nn_check_dim(kernel, "in", in, err) ||
        nc_nn_check_dim(kernel, "out", out, err))
        return NC_ERR_INPUT;
    return NC_OK;
}

int nc_dense_forward(int n, int in, int out, const float *x, const float *w,
                     const float *b, float *y, nc_error *err)
{
    if (dense_check("dense_forward", n, in, out, err))
        return NC_ERR_INPUT;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, out, in, 1.0f,
                x, in, w, out, 0.0f, y, out);
    if (b)
        for (int r = 0; r < n; r++)
            for (int j = 0; j < out; j++)
                y[(size_t)r * out + j] += b[j];
    return NC_OK;
}

int nc_dense_backward(int n, int in, int out, const float *x, const float *w,
                      const float *dy, float *dx, float *dw, float *db,
                      nc_error *err)
{
    if (dense_check("dense_backward", n, in, out, err))
        return NC_ERR_INPUT;
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, in, out,
                    1.0f, dy, out, w, out, 0.0f, dx, in);
    if (dw)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, n, 1.0f,
                    x, in, dy, out, 1.0f, dw, out);
    if (db)
        for (int r = 0; r < n; r++)
            for (int j = 0; j < out; j++)
                db[j] += dy[(size_t)r * out + j];
    return NC_OK;
}
