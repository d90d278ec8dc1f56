/* image.c - the per-sample transforms of the data services. */
#include <string.h>

#include "nascaps/data.h"

/* Half-pixel centres: output pixel o of a x2 resize samples input
 * coordinate (o + 0.5) / 2 - 0.5, i.e. k - 0.25 for o = 2k and k + 0.25 for
 * o = 2k + 1, so the weights are always 3/4 and 1/4 and the neighbour is
 * clamped at the edges. This matches PyTorch's interpolate(scale_factor=2,
 * mode="bilinear", align_corners=False). */
static void tap(int o, int n, int *i0, int *i1, float *w0, float *w1)
{
    int k = o / 2;
    if (o % 2 == 0) {
        *i0 = k > 0 ? k - 1 : 0;
        *i1 = k;
    } else {
        *i0 = k;
        *i1 = k + 1 < n ? k + 1 : n - 1;
    }
    /* the nearer source pixel weighs 3/4 */
    if (o % 2 == 0) {
        *w0 = 0.25f;
        *w1 = 0.75f;
    } else {
        *w0 = 0.75f;
        *w1 = 0.25f;
    }
}

void nc_image_resize2x(const float *in, int h, int w, int c, float *out)
{
    int oh = 2 * h, ow = 2 * w;
    size_t row = (size_t)w * (size_t)c;
    for (int oy = 0; oy < oh; oy++) {
        int y0, y1;
        float wy0, wy1;
        tap(oy, h, &y0, &y1, &wy0, &wy1);
        const float *r0 = in + (size_t)y0 * row;
        const float *r1 = in + (size_t)y1 * row;
        float *o = out + (size_t)oy * (size_t)ow * (size_t)c;
        for (int ox = 0; ox < ow; ox++) {
            int x0, x1;
            float wx0, wx1;
            tap(ox, w, &x0, &x1, &wx0, &wx1);
            const float *a = r0 + (size_t)x0 * c, *b = r0 + (size_t)x1 * c;
            const float *p = r1 + (size_t)x0 * c, *q = r1 + (size_t)x1 * c;
            for (int ch = 0; ch < c; ch++)
                o[(size_t)ox * c + ch] = wy0 * (wx0 * a[ch] + wx1 * b[ch]) +
                                         wy1 * (wx0 * p[ch] + wx1 * q[ch]);
        }
    }
}

void nc_image_shift(const float *in, int h, int w, int c, int dy, int dx,
                    float *out)
{
    size_t row = (size_t)w * (size_t)c;
    memset(out, 0, (size_t)h * row * sizeof *out);
    if (dy >= h || -dy >= h || dx >= w || -dx >= w)
        return;
    int x_from = dx > 0 ? dx : 0;          /* first output column written */
    int x_to = dx < 0 ? w + dx : w;        /* one past the last */
    size_t span = (size_t)(x_to - x_from) * (size_t)c;
    for (int y = 0; y < h; y++) {
        int sy = y - dy;
        if (sy < 0 || sy >= h)
            continue;
        memcpy(out + (size_t)y * row + (size_t)x_from * c,
               in + (size_t)sy * row + (size_t)(x_from - dx) * c,
               span * sizeof *out);
    }
}
