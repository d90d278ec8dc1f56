/* decoder.c - the reconstruction decoder of DESIGN.md section 4:
 * masked class capsules -> dense (relu) -> [m, m, 16] -> batch norm ->
 * tconv 64 s1 (relu) -> tconv 32 s2 (relu) -> tconv 16 s2 (relu) ->
 * tconv C s1 -> sigmoid, cropped from 4m x 4m to S x S (top-left).
 * Its parameter count is nc_decoder_params() exactly (checked at create),
 * so what the search counts is what is trained. */
#include <stdlib.h>
#include <string.h>

#include "nascaps/network.h"
#include "nascaps/nn.h"
#include "train/train_internal.h"

#define SEED_CH 16
#define N_TCONV 4
#define N_TENSORS 14

static const int tconv_out[N_TCONV - 1] = {64, 32, 16};
static const int tconv_stride[N_TCONV] = {1, 2, 2, 1};

struct nc_decoder {
    nc_decoder_plan plan;
    int in;                         /* classes * dim */
    int seed;                       /* m * m * 16 */
    nc_tconv2d t[N_TCONV];
    float *block;                   /* every float below, one allocation */
    float *dense_w, *dense_b, *gamma, *beta, *tw[N_TCONV], *tb[N_TCONV];
    float *g_dense_w, *g_dense_b, *g_gamma, *g_beta, *g_tw[N_TCONV], *g_tb[N_TCONV];
    float *run_mean, *run_var, *save_mean, *save_invstd;
    float *masked, *h1, *h2, *act[N_TCONV], *pred, *buf[2];
    size_t pred_size, full_size, buf_size;   /* floats per image */
    int32_t *mask;
    nc_tensor_ref tensors[N_TENSORS];
};

/* Shapes of the transposed convolutions for a plan. */
static int init_tconvs(const nc_decoder_plan *p, nc_tconv2d *t, nc_error *err)
{
    int side = p->m, in_c = SEED_CH;
    for (int i = 0; i < N_TCONV; i++) {
        int out_c = i < N_TCONV - 1 ? tconv_out[i] : p->channels;
        int rc = nc_tconv2d_init(&t[i], side, side, in_c, out_c, 3, tconv_stride[i], 0, err);
        if (rc)
            return nc_error_prefix(err, "decoder");
        side *= tconv_stride[i];
        in_c = out_c;
    }
    return NC_OK;
}

static size_t max_sz(size_t a, size_t b)
{
    return a > b ? a : b;
}

/* Floats of everything but the per-image buffers, and per image. */
static void plan_floats(const nc_decoder_plan *p, const nc_tconv2d *t, int64_t *fixed,
                        int64_t *per_image, size_t *buf_size, size_t *full_size)
{
    int64_t in = (int64_t)p->classes * p->dim, seed = (int64_t)p->m * p->m * SEED_CH;
    /* parameters and gradients, plus running and saved statistics */
    *fixed = 2 * p->params + 4 * SEED_CH;
    size_t acts = 0, big = max_sz((size_t)in, (size_t)seed);
    for (int i = 0; i < N_TCONV; i++) {
        size_t o = (size_t)t[i].out_h * t[i].out_w * t[i].out_c;
        acts += o;
        big = max_sz(big, o);
    }
    *full_size = (size_t)t[N_TCONV - 1].out_h * t[N_TCONV - 1].out_w * p->channels;
    size_t pred = (size_t)p->size * p->size * p->channels;
    *buf_size = big;
    /* masked, h1, h2, activations, cropped prediction, two gradient buffers */
    *per_image = in + 2 * seed + (int64_t)acts + (int64_t)pred + 2 * (int64_t)big;
}

int nc_decoder_plan_make(int classes, int dim, int size, int channels, int max_batch,
                         nc_decoder_plan *plan, nc_error *err)
{
    memset(plan, 0, sizeof *plan);
    int64_t params = nc_decoder_params(classes, dim, size, channels);
    if (params < 0 || max_batch < 1)
        return nc_error_set(err, NC_ERR_INPUT,
                            "decoder: cannot reconstruct %d x %d x %d images from %d capsules "
                            "of dim %d (batch %d)",
                            size, size, channels, classes, dim, max_batch);
    plan->classes = classes;
    plan->dim = dim;
    plan->size = size;
    plan->channels = channels;
    plan->m = (size + 3) / 4;
    plan->max_batch = max_batch;
    plan->params = params;
    nc_tconv2d t[N_TCONV];
    int rc = init_tconvs(plan, t, err);
    if (rc)
        return rc;
    plan->macs = (int64_t)classes * dim * plan->m * plan->m * SEED_CH;
    for (int i = 0; i < N_TCONV; i++)
        plan->macs += nc_tconv2d_macs(&t[i]);
    int64_t fixed, per_image;
    size_t buf, full;
    plan_floats(plan, t, &fixed, &per_image, &buf, &full);
    size_t ws = nc_batchnorm_workspace(SEED_CH);
    for (int i = 0; i < N_TCONV; i++)
        ws = max_sz(ws, nc_tconv2d_workspace(&t[i]));
    int64_t floats;
    if (__builtin_mul_overflow(per_image, (int64_t)max_batch, &floats) ||
        __builtin_add_overflow(floats, fixed, &floats) || floats > INT64_MAX / 8)
        return nc_error_set(err, NC_ERR_INPUT, "decoder: buffers for batch %d overflow",
                            max_batch);
    plan->bytes = floats * (int64_t)sizeof(float) + (int64_t)max_batch * (int64_t)sizeof(int32_t);
    plan->workspace = ws;
    return NC_OK;
}

static void set_ref(nc_tensor_ref *r, const char *name, float *value, float *grad,
                    size_t count)
{
    r->name = name;
    r->value = value;
    r->grad = grad;
    r->count = count;
}

int nc_decoder_create(const nc_decoder_plan *plan, nc_rng *rng, nc_decoder **out,
                      nc_error *err)
{
    *out = NULL;
    nc_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return nc_error_set(err, NC_ERR_INTERNAL, "decoder: out of memory");
    d->plan = *plan;
    int rc = init_tconvs(plan, d->t, err);
    if (rc) {
        free(d);
        return rc;
    }
    int64_t fixed, per_image;
    plan_floats(plan, d->t, &fixed, &per_image, &d->buf_size, &d->full_size);
    size_t total = (size_t)fixed + (size_t)per_image * (size_t)plan->max_batch;
    d->block = calloc(total, sizeof(float));
    d->mask = calloc((size_t)plan->max_batch, sizeof *d->mask);
    if (!d->block || !d->mask) {
        nc_decoder_free(d);
        return nc_error_set(err, NC_ERR_INTERNAL,
                            "decoder: out of memory for %zu floats", total);
    }
    d->in = plan->classes * plan->dim;
    d->seed = plan->m * plan->m * SEED_CH;
    float *p = d->block;
    /* Parameters first, then their gradients in the same order, so the
     * parameter count is the distance between the two halves. */
    size_t cnt_w = (size_t)d->in * (size_t)d->seed, cnt_b = (size_t)d->seed;
    size_t tw_cnt[N_TCONV], tb_cnt[N_TCONV];
    for (int i = 0; i < N_TCONV; i++) {
        tw_cnt[i] = (size_t)9 * d->t[i].out_c * d->t[i].in_c;
        tb_cnt[i] = (size_t)d->t[i].out_c;
    }
    float **vals[] = {&d->dense_w, &d->dense_b, &d->gamma, &d->beta, &d->tw[0], &d->tb[0],
                      &d->tw[1], &d->tb[1], &d->tw[2], &d->tb[2], &d->tw[3], &d->tb[3]};
    float **grads[] = {&d->g_dense_w, &d->g_dense_b, &d->g_gamma, &d->g_beta,
                       &d->g_tw[0], &d->g_tb[0], &d->g_tw[1], &d->g_tb[1],
                       &d->g_tw[2], &d->g_tb[2], &d->g_tw[3], &d->g_tb[3]};
    size_t cnts[] = {cnt_w, cnt_b, SEED_CH, SEED_CH, tw_cnt[0], tb_cnt[0], tw_cnt[1],
                     tb_cnt[1], tw_cnt[2], tb_cnt[2], tw_cnt[3], tb_cnt[3]};
    static const char *const names[] = {"dense.w", "dense.b", "bn.gamma", "bn.beta",
                                        "tconv1.w", "tconv1.b", "tconv2.w", "tconv2.b",
                                        "tconv3.w", "tconv3.b", "tconv4.w", "tconv4.b"};
    const int n_par = (int)(sizeof cnts / sizeof cnts[0]);
    size_t sum = 0;
    for (int i = 0; i < n_par; i++) {
        *vals[i] = p;
        p += cnts[i];
        sum += cnts[i];
    }
    for (int i = 0; i < n_par; i++) {
        *grads[i] = p;
        p += cnts[i];
    }
    if ((int64_t)sum != plan->params) {
        nc_decoder_free(d);
        return nc_error_set(err, NC_ERR_INTERNAL,
                            "decoder: %zu parameters laid out, nc_decoder_params says %lld", sum,
                            (long long)plan->params);
    }
    d->run_mean = p, p += SEED_CH;
    d->run_var = p, p += SEED_CH;
    d->save_mean = p, p += SEED_CH;
    d->save_invstd = p, p += SEED_CH;
    size_t b = (size_t)plan->max_batch;
    d->masked = p, p += b * (size_t)d->in;
    d->h1 = p, p += b * (size_t)d->seed;
    d->h2 = p, p += b * (size_t)d->seed;
    for (int i = 0; i < N_TCONV; i++) {
        d->act[i] = p;
        p += b * (size_t)d->t[i].out_h * d->t[i].out_w * d->t[i].out_c;
    }
    d->pred_size = (size_t)plan->size * plan->size * plan->channels;
    d->pred = p, p += b * d->pred_size;
    d->buf[0] = p, p += b * d->buf_size;
    d->buf[1] = p;

    /* Glorot-uniform weights and zero biases (Keras' defaults, as the
     * release), identity batch norm. */
    nc_init_glorot_uniform(d->dense_w, cnt_w, d->in, d->seed, rng);
    for (int i = 0; i < N_TCONV; i++)
        nc_init_glorot_uniform(d->tw[i], tw_cnt[i], 9 * (int64_t)d->t[i].in_c,
                               9 * (int64_t)d->t[i].out_c, rng);
    for (int c = 0; c < SEED_CH; c++) {
        d->gamma[c] = 1.0f;
        d->run_var[c] = 1.0f;
    }
    for (int i = 0; i < n_par; i++)
        set_ref(&d->tensors[i], names[i], *vals[i], *grads[i], cnts[i]);
    set_ref(&d->tensors[n_par], "bn.running_mean", d->run_mean, NULL, SEED_CH);
    set_ref(&d->tensors[n_par + 1], "bn.running_var", d->run_var, NULL, SEED_CH);
    *out = d;
    return NC_OK;
}

void nc_decoder_free(nc_decoder *dec)
{
    if (!dec)
        return;
    free(dec->block);
    free(dec->mask);
    free(dec);
}

int nc_decoder_tensors(nc_decoder *dec, nc_tensor_ref *list, int cap)
{
    for (int i = 0; i < N_TENSORS && i < cap; i++)
        list[i] = dec->tensors[i];
    return N_TENSORS;
}

const float *nc_decoder_output(const nc_decoder *dec)
{
    return dec->pred;
}

int nc_decoder_forward(nc_decoder *d, int n, const float *v, const int32_t *mask,
                       int training, void *ws, size_t ws_bytes, nc_error *err)
{
    const nc_decoder_plan *p = &d->plan;
    if (n < 1 || n > p->max_batch)
        return nc_error_set(err, NC_ERR_INTERNAL, "decoder: batch %d, built for 1..%d", n,
                            p->max_batch);
    memset(d->masked, 0, (size_t)n * (size_t)d->in * sizeof(float));
    for (int b = 0; b < n; b++) {
        int k = mask[b];
        if (k < 0 || k >= p->classes)
            return nc_error_set(err, NC_ERR_INPUT, "decoder: mask %d of sample %d outside [0, %d)",
                                k, b, p->classes);
        d->mask[b] = k;
        size_t o = ((size_t)b * p->classes + (size_t)k) * (size_t)p->dim;
        memcpy(d->masked + o, v + o, (size_t)p->dim * sizeof(float));
    }
    int rc = nc_dense_forward(n, d->in, d->seed, d->masked, d->dense_w, d->dense_b, d->h1, err);
    if (rc)
        return nc_error_prefix(err, "decoder");
    size_t seed_n = (size_t)n * (size_t)d->seed;
    nc_relu_forward(seed_n, d->h1, d->h1);
    int64_t rows = (int64_t)n * p->m * p->m;
    if (training) {
        rc = nc_batchnorm_forward_train(rows, SEED_CH, d->h1, d->gamma, d->beta, NC_BN_MOMENTUM,
                                        NC_BN_EPS, d->run_mean, d->run_var, d->save_mean,
                                        d->save_invstd, d->h2, ws, ws_bytes, err);
        if (rc)
            return nc_error_prefix(err, "decoder");
    } else {
        nc_batchnorm_forward_eval(rows, SEED_CH, d->h1, d->gamma, d->beta, NC_BN_EPS,
                                  d->run_mean, d->run_var, d->h2);
    }
    const float *x = d->h2;
    for (int i = 0; i < N_TCONV; i++) {
        rc = nc_tconv2d_forward(&d->t[i], n, x, d->tw[i], d->tb[i], d->act[i], ws, ws_bytes,
                                err);
        if (rc)
            return nc_error_prefix(err, "decoder");
        size_t cnt = (size_t)n * d->t[i].out_h * d->t[i].out_w * d->t[i].out_c;
        if (i < N_TCONV - 1)
            nc_relu_forward(cnt, d->act[i], d->act[i]);
        else
            nc_sigmoid_forward(cnt, d->act[i], d->act[i]);
        x = d->act[i];
    }
    /* crop the 4m x 4m reconstruction to S x S, top-left */
    const nc_tconv2d *last = &d->t[N_TCONV - 1];
    size_t row = (size_t)p->size * p->channels, full_row = (size_t)last->out_w * p->channels;
    for (int b = 0; b < n; b++)
        for (int y = 0; y < p->size; y++)
            memcpy(d->pred + (size_t)b * d->pred_size + (size_t)y * row,
                   d->act[N_TCONV - 1] + (size_t)b * d->full_size + (size_t)y * full_row,
                   row * sizeof(float));
    return NC_OK;
}

int nc_decoder_backward(nc_decoder *d, int n, const float *raw, float weight, double *loss,
                        float *dv, void *ws, size_t ws_bytes, nc_error *err)
{
    const nc_decoder_plan *p = &d->plan;
    const nc_tconv2d *last = &d->t[N_TCONV - 1];
    float *ga = d->buf[0], *gb = d->buf[1];
    size_t pred_n = (size_t)n * d->pred_size;
    *loss = nc_mse_loss(pred_n, d->pred, raw, weight, dv ? gb : NULL);
    if (!dv)
        return NC_OK;
    /* un-crop: the cut rows and columns got no gradient */
    memset(ga, 0, (size_t)n * d->full_size * sizeof(float));
    size_t row = (size_t)p->size * p->channels, full_row = (size_t)last->out_w * p->channels;
    for (int b = 0; b < n; b++)
        for (int y = 0; y < p->size; y++)
            memcpy(ga + (size_t)b * d->full_size + (size_t)y * full_row,
                   gb + (size_t)b * d->pred_size + (size_t)y * row, row * sizeof(float));
    nc_sigmoid_backward((size_t)n * d->full_size, d->act[N_TCONV - 1], ga, ga);
    int rc;
    for (int i = N_TCONV - 1; i >= 0; i--) {
        const float *x = i > 0 ? d->act[i - 1] : d->h2;
        rc = nc_tconv2d_backward(&d->t[i], n, x, d->tw[i], ga, gb, d->g_tw[i], d->g_tb[i], ws,
                                 ws_bytes, err);
        if (rc)
            return nc_error_prefix(err, "decoder");
        if (i > 0) {
            size_t cnt = (size_t)n * d->t[i].in_h * d->t[i].in_w * d->t[i].in_c;
            nc_relu_backward(cnt, d->act[i - 1], gb, gb);
        }
        float *t = ga;
        ga = gb;
        gb = t;
    }
    /* ga: gradient w.r.t. h2 */
    rc = nc_batchnorm_backward((int64_t)n * p->m * p->m, SEED_CH, d->h1, d->gamma, d->save_mean,
                               d->save_invstd, ga, gb, d->g_gamma, d->g_beta, ws, ws_bytes, err);
    if (rc)
        return nc_error_prefix(err, "decoder");
    nc_relu_backward((size_t)n * (size_t)d->seed, d->h1, gb, gb);
    rc = nc_dense_backward(n, d->in, d->seed, d->masked, d->dense_w, gb, ga, d->g_dense_w,
                           d->g_dense_b, err);
    if (rc)
        return nc_error_prefix(err, "decoder");
    for (int b = 0; b < n; b++) {
        size_t o = ((size_t)b * p->classes + (size_t)d->mask[b]) * (size_t)p->dim;
        for (int j = 0; j < p->dim; j++)
            dv[o + (size_t)j] += ga[o + (size_t)j];
    }
    return NC_OK;
}
