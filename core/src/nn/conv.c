/* conv.c - 'same' 2-D convolution and its transpose, NHWC, as im2col +
 * sgemm over chunks of images.
 *
 * Both layers share three primitives on an nc_conv2d: gather (im2col) turns
 * an input-space tensor into the [rows, k*k*in_c] patch matrix, scatter
 * (col2im) adds such a matrix back into input space, and GEMMs with the
 * [k*k*in_c, out_c] weight matrix move between patch and output space. The
 * transposed convolution is the same algebra read backwards, which is why
 * its forward pass is the convolution's data-gradient. */
#include <limits.h>
#include <string.h>

#include <cblas.h>

#include "nascaps/nn.h"
#include "nn/nn_internal.h"

#define CONV_MAX_DIM 65536
#define CONV_TARGET_ROWS 1024
#define CONV_MAX_COL_BYTES ((size_t)64 << 20)

static int conv_check(const char *what, int v, nc_error *err)
{
    if (v < 1 || v > CONV_MAX_DIM)
        return nc_error_set(err, NC_ERR_INPUT,
                            "conv2d: %s = %d, must be in [1, %d]", what, v,
                            CONV_MAX_DIM);
    return NC_OK;
}

int nc_conv2d_init(nc_conv2d *c, int in_h, int in_w, int in_c, int out_c,
                   int k, int stride, int chunk, nc_error *err)
{
    memset(c, 0, sizeof *c);
    if (conv_check("in_h", in_h, err) || conv_check("in_w", in_w, err) ||
        conv_check("in_c", in_c, err) || conv_check("out_c", out_c, err) ||
        conv_check("k", k, err) || conv_check("stride", stride, err))
        return NC_ERR_INPUT;
    if (chunk < 0)
        return nc_error_set(err, NC_ERR_INPUT,
                            "conv2d: chunk = %d, must be >= 0", chunk);
    c->in_h = in_h;
    c->in_w = in_w;
    c->in_c = in_c;
    c->out_c = out_c;
    c->k = k;
    c->stride = stride;
    c->out_h = (in_h + stride - 1) / stride;
    c->out_w = (in_w + stride - 1) / stride;
    int pad_h = (c->out_h - 1) * stride + k - in_h;
    int pad_w = (c->out_w - 1) * stride + k - in_w;
    c->pad_top = pad_h > 0 ? pad_h / 2 : 0;
    c->pad_left = pad_w > 0 ? pad_w / 2 : 0;
    c->rows = (int64_t)c->out_h * c->out_w;
    c->cols = (int64_t)k * k * in_c;
    c->direct = (k == 1 && stride == 1);
    if (c->rows > INT_MAX || c->cols > INT_MAX)
        return nc_error_set(err, NC_ERR_INPUT,
                            "conv2d: %lld output pixels x %lld patch values "
                            "exceed the GEMM limit %d",
                            (long long)c->rows, (long long)c->cols, INT_MAX);
    if (chunk == 0) {
        int64_t ch = (CONV_TARGET_ROWS + c->rows - 1) / c->rows;
        if (!c->direct) {
            int64_t fit = (int64_t)(CONV_MAX_COL_BYTES /
                                    ((size_t)c->rows * (size_t)c->cols *
                                     sizeof(float)));
            if (ch > fit)
                ch = fit;
        }
        chunk = ch < 1 ? 1 : (int)ch;
    }
    if ((int64_t)chunk * c->rows > INT_MAX)
        return nc_error_set(err, NC_ERR_INPUT,
                            "conv2d: chunk %d x %lld rows exceeds the GEMM "
                            "limit %d", chunk, (long long)c->rows, INT_MAX);
    c->chunk = chunk;
    return NC_OK;
}

size_t nc_conv2d_workspace(const nc_conv2d *c)
{
    if (c->direct)
        return 0;
    return nc_nn_mul3((size_t)c->chunk * (size_t)c->rows, (size_t)c->cols,
                      sizeof(float));
}

int64_t nc_conv2d_macs(const nc_conv2d *c)
{
    return c->rows * c->cols * c->out_c;
}

static size_t in_image(const nc_conv2d *c)
{
    return (size_t)c->in_h * c->in_w * c->in_c;
}

static size_t out_image(const nc_conv2d *c)
{
    return (size_t)c->rows * c->out_c;
}

/* The valid kernel columns [*lo, *hi) of an output column whose leftmost
 * tap lands on input column ix0. */
static void tap_range(const nc_conv2d *c, int ix0, int *lo, int *hi)
{
    int l = ix0 < 0 ? -ix0 : 0;
    int h = ix0 + c->k > c->in_w ? c->in_w - ix0 : c->k;
    if (l > c->k)
        l = c->k;
    if (h < l)
        h = l;
    *lo = l;
    *hi = h;
}

/* One image: x [in_h, in_w, in_c] -> col [rows, k*k*in_c], patch columns
 * ordered (ky, kx, ci) to match the HWIO weights. In NHWC the taps of one
 * kernel row are consecutive in memory, so each is one memcpy. */
static void im2col(const nc_conv2d *c, const float *x, float *col)
{
    const size_t C = (size_t)c->in_c, span = (size_t)c->k * C;
    float *row = col;
    for (int oy = 0; oy < c->out_h; oy++) {
        for (int ox = 0; ox < c->out_w; ox++, row += c->cols) {
            int ix0 = ox * c->stride - c->pad_left, lo, hi;
            tap_range(c, ix0, &lo, &hi);
            for (int ky = 0; ky < c->k; ky++) {
                float *dst = row + (size_t)ky * span;
                int iy = oy * c->stride - c->pad_top + ky;
                if (iy < 0 || iy >= c->in_h || hi == lo) {
                    memset(dst, 0, span * sizeof(float));
                    continue;
                }
                if (lo > 0)
                    memset(dst, 0, (size_t)lo * C * sizeof(float));
                memcpy(dst + (size_t)lo * C,
                       x + ((size_t)iy * c->in_w + (size_t)(ix0 + lo)) * C,
                       (size_t)(hi - lo) * C * sizeof(float));
                if (hi < c->k)
                    memset(dst + (size_t)hi * C, 0,
                           (size_t)(c->k - hi) * C * sizeof(float));
            }
        }
    }
}

/* The adjoint of im2col: x [in_h, in_w, in_c] += scattered col. */
static void col2im_add(const nc_conv2d *c, const float *col, float *x)
{
    const size_t C = (size_t)c->in_c, span = (size_t)c->k * C;
    const float *row = col;
    for (int oy = 0; oy < c->out_h; oy++) {
        for (int ox = 0; ox < c->out_w; ox++, row += c->cols) {
            int ix0 = ox * c->stride - c->pad_left, lo, hi;
            tap_range(c, ix0, &lo, &hi);
            size_t len = (size_t)(hi - lo) * C;
            for (int ky = 0; ky < c->k; ky++) {
                int iy = oy * c->stride - c->pad_top + ky;
                if (iy < 0 || iy >= c->in_h || len == 0)
                    continue;
                const float *src = row + (size_t)ky * span + (size_t)lo * C;
                float *dst =
                    x + ((size_t)iy * c->in_w + (size_t)(ix0 + lo)) * C;
                for (size_t e = 0; e < len; e++)
                    dst[e] += src[e];
            }
        }
    }
}

/* The patch matrix of images [i0, i0 + nb) of the input-space tensor x:
 * x itself for a direct (1x1) convolution, else gathered into col. */
static const float *gather(const nc_conv2d *c, const float *x, int i0, int nb,
                           float *col)
{
    const float *xi = x + (size_t)i0 * in_image(c);
    if (c->direct)
        return xi;
    for (int b = 0; b < nb; b++)
        im2col(c, xi + (size_t)b * in_image(c),
               col + (size_t)b * (size_t)c->rows * (size_t)c->cols);
    return col;
}

/* x[images i0..] = scatter of col (overwrites). For a direct convolution
 * the GEMM already wrote x, so there is nothing to do. */
static void scatter(const nc_conv2d *c, const float *col, float *x, int i0,
                    int nb)
{
    if (c->direct)
        return;
    float *xi = x + (size_t)i0 * in_image(c);
    memset(xi, 0, (size_t)nb * in_image(c) * sizeof(float));
    for (int b = 0; b < nb; b++)
        col2im_add(c, col + (size_t)b * (size_t)c->rows * (size_t)c->cols,
                   xi + (size_t)b * in_image(c));
}

static void add_bias(float *y, size_t rows, int ch, const float *bias)
{
    for (size_t r = 0; r < rows; r++, y += ch)
        for (int j = 0; j < ch; j++)
            y[j] += bias[j];
}

static void sum_rows(const float *dy, size_t rows, int ch, float *dbias)
{
    for (size_t r = 0; r < rows; r++, dy += ch)
        for (int j = 0; j < ch; j++)
            dbias[j] += dy[j];
}

static int check_call(const char *kernel, const nc_conv2d *c, int n,
                      size_t ws_bytes, nc_error *err)
{
    if (n < 1)
        return nc_error_set(err, NC_ERR_INPUT, "%s: n = %d, must be >= 1",
                            kernel, n);
    if (nc_nn_mul(in_image(c), (size_t)n) == SIZE_MAX ||
        nc_nn_mul(out_image(c), (size_t)n) == SIZE_MAX)
        return nc_error_set(err, NC_ERR_INPUT, "%s: n = %d overflows",
                            kernel, n);
    return nc_nn_check_ws(kernel, ws_bytes, nc_conv2d_workspace(c), err);
}

int nc_conv2d_forward(const nc_conv2d *c, int n, const float *x,
                      const float *w, const float *bias, float *y, void *ws,
                      size_t ws_bytes, nc_error *err)
{
    int rc = check_call("conv2d_forward", c, n, ws_bytes, err);
    if (rc)
        return rc;
    float *col = ws;
    for (int i0 = 0; i0 < n; i0 += c->chunk) {
        int nb = n - i0 < c->chunk ? n - i0 : c->chunk;
        const float *a = gather(c, x, i0, nb, col);
        float *yi = y + (size_t)i0 * out_image(c);
        int m = (int)(nb * c->rows);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, c->out_c,
                    (int)c->cols, 1.0f, a, (int)c->cols, w, c->out_c, 0.0f,
                    yi, c->out_c);
        if (bias)
            add_bias(yi, (size_t)m, c->out_c, bias);
    }
    return NC_OK;
}

int nc_conv2d_backward(const nc_conv2d *c, int n, const float *x,
                       const float *w, const float *dy, float *dx, float *dw,
                       float *dbias, void *ws, size_t ws_bytes, nc_error *err)
{
    int rc = check_call("conv2d_backward", c, n, ws_bytes, err);
    if (rc)
        return rc;
    float *col = ws;
    for (int i0 = 0; i0 < n; i0 += c->chunk) {
        int nb = n - i0 < c->chunk ? n - i0 : c->chunk;
        int m = (int)(nb * c->rows);
        const float *dyi = dy + (size_t)i0 * out_image(c);
        if (dw) {
            /* dW += patches^T dY: the batch is the GEMM depth */
            const float *a = gather(c, x, i0, nb, col);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)c->cols,
                        c->out_c, m, 1.0f, a, (int)c->cols, dyi, c->out_c,
                        1.0f, dw, c->out_c);
        }
        if (dbias)
            sum_rows(dyi, (size_t)m, c->out_c, dbias);
        if (dx) {
            /* dPatches = dY W^T, then col2im (direct: straight into dx) */
            float *dst = c->direct ? dx + (size_t)i0 * in_image(c) : col;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m,
                        (int)c->cols, c->out_c, 1.0f, dyi, c->out_c, w,
                        c->out_c, 0.0f, dst, (int)c->cols);
            scatter(c, col, dx, i0, nb);
        }
    }
    return NC_OK;
}

/* ---- transposed convolution ---------------------------------------------- */

int nc_tconv2d_init(nc_tconv2d *t, int in_h, int in_w, int in_c, int out_c,
                    int k, int stride, int chunk, nc_error *err)
{
    memset(t, 0, sizeof *t);
    int rc = NC_OK;
    if (conv_check("in_h", in_h, err) || conv_check("in_w", in_w, err) ||
        conv_check("stride", stride, err)) {
        nc_error_prefix(err, "tconv2d");
        return NC_ERR_INPUT;
    }
    if ((int64_t)in_h * stride > CONV_MAX_DIM ||
        (int64_t)in_w * stride > CONV_MAX_DIM)
        return nc_error_set(err, NC_ERR_INPUT,
                            "tconv2d: output %lld x %lld exceeds %d",
                            (long long)in_h * stride,
                            (long long)in_w * stride, CONV_MAX_DIM);
    rc = nc_conv2d_init(&t->adj, in_h * stride, in_w * stride, out_c, in_c,
                        k, stride, chunk, err);
    if (rc) {
        nc_error_prefix(err, "tconv2d");
        return rc;
    }
    t->in_h = in_h;
    t->in_w = in_w;
    t->in_c = in_c;
    t->out_h = in_h * stride;
    t->out_w = in_w * stride;
    t->out_c = out_c;
    t->k = k;
    t->stride = stride;
    return NC_OK;
}

size_t nc_tconv2d_workspace(const nc_tconv2d *t)
{
    return nc_conv2d_workspace(&t->adj);
}

int64_t nc_tconv2d_macs(const nc_tconv2d *t)
{
    return nc_conv2d_macs(&t->adj);
}

int nc_tconv2d_forward(const nc_tconv2d *t, int n, const float *x,
                       const float *w, const float *bias, float *y, void *ws,
                       size_t ws_bytes, nc_error *err)
{
    const nc_conv2d *c = &t->adj;
    int rc = check_call("tconv2d_forward", c, n, ws_bytes, err);
    if (rc)
        return rc;
    float *col = ws;
    for (int i0 = 0; i0 < n; i0 += c->chunk) {
        int nb = n - i0 < c->chunk ? n - i0 : c->chunk;
        int m = (int)(nb * c->rows);
        float *dst = c->direct ? y + (size_t)i0 * in_image(c) : col;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, (int)c->cols,
                    c->out_c, 1.0f, x + (size_t)i0 * out_image(c), c->out_c,
                    w, c->out_c, 0.0f, dst, (int)c->cols);
        scatter(c, col, y, i0, nb);
        if (bias)
            add_bias(y + (size_t)i0 * in_image(c),
                     (size_t)nb * c->in_h * c->in_w, c->in_c, bias);
    }
    return NC_OK;
}

int nc_tconv2d_backward(const nc_tconv2d *t, int n, const float *x,
                        const float *w, const float *dy, float *dx, float *dw,
                        float *dbias, void *ws, size_t ws_bytes, nc_error *err)
{
    const nc_conv2d *c = &t->adj;
    int rc = check_call("tconv2d_backward", c, n, ws_bytes, err);
    if (rc)
        return rc;
    float *col = ws;
    for (int i0 = 0; i0 < n; i0 += c->chunk) {
        int nb = n - i0 < c->chunk ? n - i0 : c->chunk;
        int m = (int)(nb * c->rows);
        if (dbias)
            sum_rows(dy + (size_t)i0 * in_image(c),
                     (size_t)nb * c->in_h * c->in_w, c->in_c, dbias);
        if (!dw && !dx)
            continue;
        const float *a = gather(c, dy, i0, nb, col);
        const float *xi = x + (size_t)i0 * out_image(c);
        if (dw)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)c->cols,
                        c->out_c, m, 1.0f, a, (int)c->cols, xi, c->out_c,
                        1.0f, dw, c->out_c);
        if (dx)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m,
                        c->out_c, (int)c->cols, 1.0f, a, (int)c->cols, w,
                        c->out_c, 0.0f, dx + (size_t)i0 * out_image(c),
                        c->out_c);
    }
    return NC_OK;
}
