/* plot.c - axes, ticks, legends and series drawn with cairo (plot.h).
 * cairo draws; the layout (nice ticks, log decades, legend) is ours: see
 * docs/REPORT.md for why cairo and not PLplot. */
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>

#define FONT "DejaVu Sans"
/* plot area inside the figure: room for tick labels, titles, legend */
#define LEFT 70.0
#define RIGHT 190.0
#define TOP 34.0
#define BOTTOM 50.0

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

nc_plot *nc_plot_new(const char *title, const char *xlabel, const char *ylabel)
{
    nc_plot *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->title = dup_or_null(title);
    p->xlabel = dup_or_null(xlabel);
    p->ylabel = dup_or_null(ylabel);
    if ((title && !p->title) || (xlabel && !p->xlabel) || (ylabel && !p->ylabel)) {
        nc_plot_free(p);
        return NULL;
    }
    return p;
}

void nc_plot_free(nc_plot *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++) {
        nc_series *s = &p->series[i];
        free(s->label);
        free(s->x);
        free(s->y);
        free(s->shade);
        if (s->text)
            for (int k = 0; k < s->n; k++)
                free(s->text[k]);
        free(s->text);
    }
    for (int i = 0; i < p->n_axes; i++)
        free(p->axis_names[i]);
    free(p->axis_names);
    free(p->axis_lo);
    free(p->axis_hi);
    free(p->series);
    free(p->title);
    free(p->xlabel);
    free(p->ylabel);
    free(p->shade_label);
    free(p);
}

static double *copy(const double *v, int n)
{
    double *c = malloc((size_t)(n ? n : 1) * sizeof *c);
    if (c && n)
        memcpy(c, v, (size_t)n * sizeof *c);
    return c;
}

nc_series *nc_plot_add(nc_plot *p, const char *label, int n, const double *x,
                       const double *y, const double *shade)
{
    nc_series *grown = realloc(p->series, (size_t)(p->n + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    p->series = grown;
    nc_series *s = &p->series[p->n];
    memset(s, 0, sizeof *s);
    s->n = n;
    s->size = 3.0;
    s->x = copy(x, n);
    s->y = copy(y, n);
    s->shade = shade ? copy(shade, n) : NULL;
    s->label = dup_or_null(label);
    if (!s->x || !s->y || (shade && !s->shade) || (label && !s->label)) {
        free(s->x);
        free(s->y);
        free(s->shade);
        free(s->label);
        return NULL;
    }
    p->n++;
    return s;
}

/* Finite (and, for a log axis, positive) range of one coordinate. */
static int data_range(const nc_plot *p, int axis_y, int positive, double *lo, double *hi)
{
    int any = 0;
    for (int i = 0; i < p->n; i++) {
        const nc_series *s = &p->series[i];
        for (int k = 0; k < s->n; k++) {
            double v = axis_y ? s->y[k] : s->x[k];
            if (!isfinite(v) || (positive && v <= 0))
                continue;
            if (!any || v < *lo)
                *lo = v;
            if (!any || v > *hi)
                *hi = v;
            any = 1;
        }
    }
    return any;
}

void nc_plot_auto_log(nc_plot *p)
{
    double lo = 0, hi = 0;
    p->xlog = data_range(p, 0, 1, &lo, &hi) && hi / lo > 100.0;
    p->ylog = data_range(p, 1, 1, &lo, &hi) && hi / lo > 100.0;
}

void nc_plot_ramp(double t, double rgb[3])
{
    /* a perceptually ordered ramp: dark blue, teal, green, yellow */
    static const double stops[4][3] = {
        {0.267, 0.005, 0.329}, {0.208, 0.592, 0.549}, {0.478, 0.819, 0.318}, {0.993, 0.906, 0.144}};
    if (!isfinite(t) || t < 0)
        t = 0;
    if (t > 1)
        t = 1;
    double f = t * 3.0;
    int i = f >= 3.0 ? 2 : (int)f;
    double u = f - i;
    for (int c = 0; c < 3; c++)
        rgb[c] = stops[i][c] + (stops[i + 1][c] - stops[i][c]) * u;
}

/* ---- Axes -------------------------------------------------------------------- */

typedef struct axis {
    int log;
    double lo, hi;       /* in axis units (log10 when log) */
    double from, to;     /* device coordinates of lo and hi */
} axis;

static double nice_step(double range)
{
    double raw = range / 6.0, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0) * mag;
}

static void axis_setup(axis *a, const nc_plot *p, int axis_y, int log_axis, double from,
                       double to)
{
    double lo = 0, hi = 1;
    a->log = log_axis;
    if (!data_range(p, axis_y, log_axis, &lo, &hi)) {
        lo = log_axis ? 1 : 0;
        hi = log_axis ? 10 : 1;
    }
    if (log_axis) {
        lo = log10(lo);
        hi = log10(hi);
    }
    if (hi - lo < 1e-12 * (fabs(lo) + fabs(hi)) || hi == lo) {
        double d = fabs(lo) > 0 ? fabs(lo) * 0.1 : 0.5;
        lo -= d;
        hi += d;
    }
    double pad = (hi - lo) * 0.05;
    a->lo = lo - pad;
    a->hi = hi + pad;
    a->from = from;
    a->to = to;
}

static double axis_map(const axis *a, double v)
{
    if (a->log)
        v = v > 0 ? log10(v) : a->lo - 1;
    return a->from + (v - a->lo) / (a->hi - a->lo) * (a->to - a->from);
}

static void font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

/* 1 when t is valid UTF-8 without control characters (cairo refuses
 * invalid UTF-8, and labels may come from a database or a folder name). */
static int clean_utf8(const unsigned char *t)
{
    while (*t) {
        int n = *t < 0x80 ? 0 : (*t & 0xe0) == 0xc0 ? 1 : (*t & 0xf0) == 0xe0 ? 2
                : (*t & 0xf8) == 0xf0 ? 3 : -1;
        if (n < 0 || *t < 0x20 || *t == 0x7f)
            return 0;
        for (t++; n > 0; n--, t++)
            if ((*t & 0xc0) != 0x80)
                return 0;
    }
    return 1;
}

/* Text with its anchor: ax 0 left, 0.5 centre, 1 right; ay likewise from
 * the top. */
static void text_at(cairo_t *cr, double x, double y, double ax, double ay, const char *t)
{
    char safe[256];
    if (!clean_utf8((const unsigned char *)t)) {
        size_t n = 0;
        for (; *t && n + 1 < sizeof safe; t++)
            safe[n++] = *t >= 0x20 && *t < 0x7f ? *t : '?';
        safe[n] = '\0';
        t = safe;
    }
    cairo_text_extents_t ext;
    cairo_text_extents(cr, t, &ext);
    cairo_move_to(cr, x - ext.width * ax - ext.x_bearing, y - ext.height * ay - ext.y_bearing);
    cairo_show_text(cr, t);
}

static void tick_label(double v, char *buf, size_t size)
{
    if (fabs(v) < 1e-12)
        v = 0;
    snprintf(buf, size, "%.4g", v);
}

/* A grid line at pos across the plot area, and the tick's label. */
static void grid_line(cairo_t *cr, int vertical, double pos, double x0, double y0, double x1,
                      double y1)
{
    if (vertical) {
        cairo_move_to(cr, x0, pos);
        cairo_line_to(cr, x1, pos);
    } else {
        cairo_move_to(cr, pos, y0);
        cairo_line_to(cr, pos, y1);
    }
    cairo_stroke(cr);
}

static void tick_text(cairo_t *cr, int vertical, double pos, double x0, double y0, double v)
{
    char label[32];
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    tick_label(v, label, sizeof label);
    if (vertical)
        text_at(cr, x0 - 6, pos, 1, 0.5, label);
    else
        text_at(cr, pos, y0 + 6, 0.5, 0, label);
}

/* Ticks, labels and grid of one axis; horizontal when !vertical. */
static void draw_ticks(cairo_t *cr, const axis *a, int vertical, double x0, double y0,
                       double x1, double y1)
{
    font(cr, 10, 0);
    double lo = fmin(a->lo, a->hi), hi = fmax(a->lo, a->hi);
    if (a->log) {
        for (int d = (int)floor(lo); d <= (int)ceil(hi); d++)
            for (int m = 1; m < 10; m++) {
                double u = d + log10((double)m);
                if (u < lo || u > hi)
                    continue;
                double pos = a->from + (u - a->lo) / (a->hi - a->lo) * (a->to - a->from);
                cairo_set_source_rgb(cr, m == 1 ? 0.85 : 0.93, m == 1 ? 0.85 : 0.93,
                                     m == 1 ? 0.85 : 0.93);
                grid_line(cr, vertical, pos, x0, y0, x1, y1);
                if (m == 1)
                    tick_text(cr, vertical, pos, x0, y0, pow(10.0, d));
            }
        return;
    }
    double step = nice_step(hi - lo);
    for (double k = ceil(lo / step); k * step <= hi + 1e-9 * step; k += 1.0) {
        double v = k * step;
        double pos = axis_map(a, v);
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        grid_line(cr, vertical, pos, x0, y0, x1, y1);
        tick_text(cr, vertical, pos, x0, y0, v);
    }
}

static void marker(cairo_t *cr, int kind, double x, double y, double r)
{
    switch (kind) {
    case NC_MARK_SQUARE: cairo_rectangle(cr, x - r, y - r, 2 * r, 2 * r); break;
    case NC_MARK_TRIANGLE:
        cairo_move_to(cr, x, y - r * 1.2);
        cairo_line_to(cr, x + r * 1.1, y + r * 0.8);
        cairo_line_to(cr, x - r * 1.1, y + r * 0.8);
        cairo_close_path(cr);
        break;
    case NC_MARK_DIAMOND:
        cairo_move_to(cr, x, y - r * 1.3);
        cairo_line_to(cr, x + r * 1.3, y);
        cairo_line_to(cr, x, y + r * 1.3);
        cairo_line_to(cr, x - r * 1.3, y);
        cairo_close_path(cr);
        break;
    case NC_MARK_CROSS:
        cairo_move_to(cr, x - r, y - r);
        cairo_line_to(cr, x + r, y + r);
        cairo_move_to(cr, x - r, y + r);
        cairo_line_to(cr, x + r, y - r);
        break;
    case NC_MARK_NONE: break;
    default: cairo_new_sub_path(cr); cairo_arc(cr, x, y, r, 0, 2 * M_PI); break;
    }
}

static void paint_marker(cairo_t *cr, const nc_series *s, double x, double y,
                         const double rgb[3])
{
    if (s->marker == NC_MARK_NONE)
        return;
    marker(cr, s->marker, x, y, s->size);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    if (s->marker == NC_MARK_CROSS || s->outline) {
        cairo_set_line_width(cr, s->outline ? 1.8 : 1.4);
        cairo_stroke(cr);
    } else {
        cairo_fill_preserve(cr);
        cairo_set_source_rgba(cr, 0, 0, 0, 0.35);
        cairo_set_line_width(cr, 0.5);
        cairo_stroke(cr);
    }
}

static void draw_series(cairo_t *cr, const nc_series *s, const axis *ax, const axis *ay)
{
    if (s->line) {
        int open = 0;
        cairo_set_source_rgb(cr, s->rgb[0], s->rgb[1], s->rgb[2]);
        cairo_set_line_width(cr, 1.6);
        for (int k = 0; k < s->n; k++) {
            if (!isfinite(s->x[k]) || !isfinite(s->y[k])) {
                open = 0;
                continue;
            }
            double x = axis_map(ax, s->x[k]), y = axis_map(ay, s->y[k]);
            if (open)
                cairo_line_to(cr, x, y);
            else
                cairo_move_to(cr, x, y);
            open = 1;
        }
        cairo_stroke(cr);
    }
    for (int k = 0; k < s->n; k++) {
        if (!isfinite(s->x[k]) || !isfinite(s->y[k]))
            continue;
        double rgb[3] = {s->rgb[0], s->rgb[1], s->rgb[2]};
        if (s->shade)
            nc_plot_ramp(s->shade[k], rgb);
        double x = axis_map(ax, s->x[k]), y = axis_map(ay, s->y[k]);
        paint_marker(cr, s, x, y, rgb);
        if (s->text && s->text[k]) {
            /* right of the point, or left of it in the right half */
            int left = x > (ax->from + ax->to) / 2;
            font(cr, 9, 0);
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            text_at(cr, left ? x - s->size - 3 : x + s->size + 3, y - s->size - 2, left ? 1 : 0,
                    1, s->text[k]);
        }
    }
}

static void draw_legend(cairo_t *cr, const nc_plot *p, double x, double y)
{
    font(cr, 10, 0);
    for (int i = 0; i < p->n; i++) {
        const nc_series *s = &p->series[i];
        if (!s->label)
            continue;
        double rgb[3] = {s->rgb[0], s->rgb[1], s->rgb[2]};
        if (s->shade)
            nc_plot_ramp(0.5, rgb);
        if (s->line) {
            cairo_set_source_rgb(cr, s->rgb[0], s->rgb[1], s->rgb[2]);
            cairo_set_line_width(cr, 1.6);
            cairo_move_to(cr, x, y);
            cairo_line_to(cr, x + 18, y);
            cairo_stroke(cr);
        }
        paint_marker(cr, s, x + 9, y, rgb);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text_at(cr, x + 24, y, 0, 0.5, s->label);
        y += 17;
    }
    if (p->shade_label) {
        y += 4;
        for (int k = 0; k < 60; k++) {
            double rgb[3];
            nc_plot_ramp(k / 59.0, rgb);
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
            cairo_rectangle(cr, x + k, y - 5, 1.2, 10);
            cairo_fill(cr);
        }
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        font(cr, 9, 0);
        text_at(cr, x, y + 8, 0, 0, p->shade_label);
    }
}

static void draw_parallel(cairo_t *cr, const nc_plot *p, double x0, double y0, double x1,
                          double y1)
{
    char label[32];
    int m = p->n_axes > 1 ? p->n_axes : 2;
    axis ax = {0, 0, m - 1, x0 + 20, x1 - 20}, ay = {0, 0, 1, y1, y0};
    for (int i = 0; i < p->n_axes; i++) {
        double x = axis_map(&ax, i);
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        cairo_set_line_width(cr, 1.0);
        cairo_move_to(cr, x, y0);
        cairo_line_to(cr, x, y1);
        cairo_stroke(cr);
        font(cr, 10, 1);
        text_at(cr, x, y1 + 18, 0.5, 0, p->axis_names[i]);
        font(cr, 9, 0);
        tick_label(p->axis_lo[i], label, sizeof label);
        text_at(cr, x, y1 + 4, 0.5, 0, label);
        tick_label(p->axis_hi[i], label, sizeof label);
        text_at(cr, x, y0 - 4, 0.5, 1, label);
    }
    for (int i = 0; i < p->n; i++)
        draw_series(cr, &p->series[i], &ax, &ay);
}

static void draw(cairo_t *cr, const nc_plot *p)
{
    double w = NC_PLOT_WIDTH, h = NC_PLOT_HEIGHT;
    double x0 = LEFT, x1 = w - RIGHT, y0 = TOP, y1 = h - BOTTOM;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    if (p->title) {
        font(cr, 13, 1);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text_at(cr, (x0 + x1) / 2, 10, 0.5, 0, p->title);
    }
    if (p->parallel) {
        draw_parallel(cr, p, x0, y0 + 10, x1, y1);
    } else {
        axis ax, ay;
        axis_setup(&ax, p, 0, p->xlog, x0, x1);
        axis_setup(&ay, p, 1, p->ylog, y1, y0);
        cairo_set_line_width(cr, 0.6);
        draw_ticks(cr, &ax, 0, x0, y1, x1, y0);
        draw_ticks(cr, &ay, 1, x0, y0, x1, y1);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_set_line_width(cr, 1.0);
        cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
        cairo_stroke(cr);
        font(cr, 11, 0);
        if (p->xlabel)
            text_at(cr, (x0 + x1) / 2, h - 8, 0.5, 1, p->xlabel);
        if (p->ylabel) {
            cairo_save(cr);
            cairo_translate(cr, 14, (y0 + y1) / 2);
            cairo_rotate(cr, -M_PI / 2);
            text_at(cr, 0, 0, 0.5, 0.5, p->ylabel);
            cairo_restore(cr);
        }
        cairo_save(cr);
        cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
        cairo_clip(cr);
        for (int i = 0; i < p->n; i++)
            draw_series(cr, &p->series[i], &ax, &ay);
        cairo_restore(cr);
    }
    draw_legend(cr, p, x1 + 14, y0 + 8);
}

/* ---- Surfaces ------------------------------------------------------------------ */

typedef struct membuf {
    unsigned char *data;
    size_t len, cap;
} membuf;

static cairo_status_t mem_write(void *closure, const unsigned char *data, unsigned int length)
{
    membuf *b = closure;
    if (b->len + length > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + length)
            cap *= 2;
        unsigned char *grown = realloc(b->data, cap);
        if (!grown)
            return CAIRO_STATUS_WRITE_ERROR;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, length);
    b->len += length;
    return CAIRO_STATUS_SUCCESS;
}

/* Draws on a surface and finishes it; its status. */
static cairo_status_t render(cairo_surface_t *surface, const nc_plot *p, double scale)
{
    cairo_t *cr = cairo_create(surface);
    cairo_scale(cr, scale, scale);
    draw(cr, p);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_flush(surface);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(surface);
    return st;
}

unsigned char *nc_plot_svg(const nc_plot *p, size_t *len)
{
    membuf b = {0};
    cairo_surface_t *s =
        cairo_svg_surface_create_for_stream(mem_write, &b, NC_PLOT_WIDTH, NC_PLOT_HEIGHT);
    cairo_status_t st = render(s, p, 1.0);
    cairo_surface_finish(s);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS || !b.data) {
        free(b.data);
        return NULL;
    }
    *len = b.len;
    return b.data;
}

int nc_plot_write(const nc_plot *p, const char *path, const char *format, char *why,
                  size_t size)
{
    cairo_surface_t *s;
    cairo_status_t st;
    if (!strcmp(format, "png")) {
        s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, NC_PLOT_WIDTH * NC_PLOT_PNG_SCALE,
                                       NC_PLOT_HEIGHT * NC_PLOT_PNG_SCALE);
        st = render(s, p, NC_PLOT_PNG_SCALE);
        if (st == CAIRO_STATUS_SUCCESS)
            st = cairo_surface_write_to_png(s, path);
    } else {
        s = !strcmp(format, "pdf")
                ? cairo_pdf_surface_create(path, NC_PLOT_WIDTH, NC_PLOT_HEIGHT)
                : cairo_svg_surface_create(path, NC_PLOT_WIDTH, NC_PLOT_HEIGHT);
        st = render(s, p, 1.0);
        cairo_surface_finish(s);
        if (st == CAIRO_STATUS_SUCCESS)
            st = cairo_surface_status(s);
    }
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS) {
        snprintf(why, size, "%s: cannot write: %s", path, cairo_status_to_string(st));
        errno = EIO;
        return -1;
    }
    return 0;
}
