/* optim.c - the Adam step and the weight initialisers. */
#include <math.h>

#include "nascaps/nn.h"

void nc_adam_step(size_t n, float *param, const float *grad, float *m,
                  float *v, float lr, int64_t t, const nc_adam_cfg *cfg)
{
    const nc_adam_cfg def = { NC_ADAM_BETA1, NC_ADAM_BETA2, NC_ADAM_EPS };
    if (!cfg)
        cfg = &def;
    if (t < 1)
        t = 1;
    const float b1 = cfg->beta1, b2 = cfg->beta2, eps = cfg->eps;
    /* the bias corrections in double: 1 - 0.999^t is tiny for small t */
    const float c1 = (float)(1.0 / (1.0 - pow(b1, (double)t)));
    const float c2 = (float)(1.0 / (1.0 - pow(b2, (double)t)));
    for (size_t i = 0; i < n; i++) {
        const float g = grad[i];
        m[i] = b1 * m[i] + (1.0f - b1) * g;
        v[i] = b2 * v[i] + (1.0f - b2) * g * g;
        param[i] -= lr * (m[i] * c1) / (sqrtf(v[i] * c2) + eps);
    }
}

static void fill_uniform(float *w, size_t n, double a, nc_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        w[i] = (float)((2.0 * nc_rng_uniform(rng) - 1.0) * a);
}

void nc_init_glorot_uniform(float *w, size_t n, int64_t fan_in,
                            int64_t fan_out, nc_rng *rng)
{
    double fans = (double)(fan_in > 0 ? fan_in : 1) +
                  (double)(fan_out > 0 ? fan_out : 1);
    fill_uniform(w, n, sqrt(6.0 / fans), rng);
}

void nc_init_he_normal(float *w, size_t n, int64_t fan_in, nc_rng *rng)
{
    double sd = sqrt(2.0 / (double)(fan_in > 0 ? fan_in : 1));
    for (size_t i = 0; i < n; i++)
        w[i] = (float)(sd * nc_rng_normal(rng));
}

void nc_init_he_uniform(float *w, size_t n, int64_t fan_in, nc_rng *rng)
{
    fill_uniform(w, n, sqrt(6.0 / (double)(fan_in > 0 ? fan_in : 1)), rng);
}
