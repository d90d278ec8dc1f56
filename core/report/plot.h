/* plot.h - a small 2-D plot drawn with cairo: axes (linear or log), ticks,
 * labels, a legend, scatter and line series, and parallel coordinates.
 * One drawing routine serves every surface (SVG, PNG, PDF), so the page's
 * SVG and a paper's PDF are the same figure (docs/REPORT.md).
 *
 * Ownership: a plot owns its series and their arrays (nc_plot_free). */
#ifndef NC_REPORT_PLOT_H
#define NC_REPORT_PLOT_H

#include <stddef.h>

/* Size of every figure in points (SVG/PDF); PNG is NC_PLOT_PNG_SCALE
 * times larger in pixels. */
#define NC_PLOT_WIDTH 640
#define NC_PLOT_HEIGHT 420
#define NC_PLOT_PNG_SCALE 2

enum { NC_MARK_CIRCLE = 0, NC_MARK_SQUARE, NC_MARK_TRIANGLE, NC_MARK_DIAMOND, NC_MARK_CROSS,
       NC_MARK_NONE };

typedef struct nc_series {
    char *label;           /* legend entry; NULL: not in the legend */
    int marker;            /* NC_MARK_* */
    int line;              /* join the points in order */
    int outline;           /* markers drawn hollow, thicker (the front) */
    double size;           /* marker radius in points */
    double rgb[3];
    int n;
    double *x, *y;
    double *shade;         /* optional per point in [0, 1]: colour from the ramp */
    char **text;           /* optional per-point labels (NULL entries allowed) */
} nc_series;

typedef struct nc_plot {
    char *title, *xlabel, *ylabel;
    char *shade_label;     /* legend text of the colour ramp, NULL: none */
    int xlog, ylog;        /* set by nc_plot_auto_log, or by hand */
    int parallel;          /* parallel coordinates: x = axis index, y in [0, 1] */
    int n_axes;            /* parallel: axis names and the range each one maps */
    char **axis_names;
    double *axis_lo, *axis_hi;
    int n;
    nc_series *series;
} nc_plot;

nc_plot *nc_plot_new(const char *title, const char *xlabel, const char *ylabel);
void nc_plot_free(nc_plot *p);
/* Appends a series of n points (copied; shade and text may be NULL);
 * returns it, or NULL when out of memory (the plot is unchanged). */
nc_series *nc_plot_add(nc_plot *p, const char *label, int n, const double *x,
                       const double *y, const double *shade);
/* Log axes where the finite positive values span more than two decades. */
void nc_plot_auto_log(nc_plot *p);
/* Colour of the ramp at t in [0, 1] (dark blue -> yellow). */
void nc_plot_ramp(double t, double rgb[3]);

/* Writes the plot as `format` ("svg", "png" or "pdf") to path. 0 on
 * success, -1 with errno-like failure (message in why). */
int nc_plot_write(const nc_plot *p, const char *path, const char *format, char *why,
                  size_t size);
/* The SVG text (malloc'd, *len bytes), NULL when out of memory. */
unsigned char *nc_plot_svg(const nc_plot *p, size_t *len);

#endif
