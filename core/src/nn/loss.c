/* loss.c - margin loss on capsule lengths and the reconstruction MSE. */
#include <math.h>

#include "nascaps/nn.h"
#include "nn/nn_internal.h"

int nc_margin_loss(int batch, int classes, int dim, const float *v,
                   const int *labels, float *dv, double *loss, nc_error *err)
{
    if (nc_nn_check_dim("margin_loss", "batch", batch, err) ||
        nc_nn_check_dim("margin_loss", "classes", classes, err) ||
        nc_nn_check_dim("margin_loss", "dim", dim, err))
        return NC_ERR_INPUT;
    for (int b = 0; b < batch; b++)
        if (labels[b] < 0 || labels[b] >= classes)
            return nc_error_set(err, NC_ERR_INPUT,
                                "margin_loss: label %d of sample %d outside "
                                "[0, %d)", labels[b], b, classes);
    double total = 0.0, inv_b = 1.0 / batch;
    for (int b = 0; b < batch; b++) {
        for (int k = 0; k < classes; k++) {
            size_t o = ((size_t)b * classes + k) * dim;
            double q = 0.0;
            for (int d = 0; d < dim; d++)
                q += (double)v[o + d] * v[o + d];
            double len = sqrt(q + NC_SQUASH_EPS), dlen;
            if (k == labels[b]) {
                double e = NC_MARGIN_M_PLUS - len;
                e = e > 0.0 ? e : 0.0;
                total += e * e;
                dlen = -2.0 * e;
            } else {
                double e = len - NC_MARGIN_M_MINUS;
                e = e > 0.0 ? e : 0.0;
                total += NC_MARGIN_LAMBDA * e * e;
                dlen = 2.0 * NC_MARGIN_LAMBDA * e;
            }
            if (dv) {
                float f = (float)(dlen * inv_b / len);
                for (int d = 0; d < dim; d++)
                    dv[o + d] = f * v[o + d];
            }
        }
    }
    *loss = total * inv_b;
    return NC_OK;
}

double nc_mse_loss(size_t n, const float *pred, const float *target,
                   float weight, float *dpred)
{
    if (n == 0)
        return 0.0;
    double total = 0.0;
    const float g = (float)(2.0 * weight / (double)n);
    for (size_t i = 0; i < n; i++) {
        float e = pred[i] - target[i];
        total += (double)e * e;
        if (dpred)
            dpred[i] = g * e;
    }
    return weight * total / (double)n;
}
