/* report_out.h - the figures, their data tables and report.html of one run
 * or of a comparison of runs (docs/REPORT.md). Built as the static library
 * nascaps_report (cairo), linked into the nascaps program and the tests,
 * never into libnascaps.
 *
 *     nc_figures f;
 *     if (nc_figures_build(runs, n, &f, &err)) ...
 *     nc_report_write_dir(runs, n, &f, "out", "svg,png", &err);
 *     nc_figures_free(&f);
 *
 * Every figure has a table (its data: written as NAME.csv and given by
 * --json), from which the plot is drawn. */
#ifndef NC_REPORT_OUT_H
#define NC_REPORT_OUT_H

#include <jansson.h>

#include "nascaps/error.h"
#include "nascaps/report.h"
#include "plot.h"

/* A table of text cells; a numeric cell is "" when not measured. */
typedef struct nc_table {
    int n_cols, n_rows, cap;
    char **cols;
    char **cells;            /* n_rows x n_cols */
    unsigned char *numeric;  /* per column */
} nc_table;

typedef struct nc_figure {
    char name[64];           /* file stem: NAME.csv, NAME.svg, ... */
    nc_plot *plot;
    nc_table table;
} nc_figure;

typedef struct nc_figures {
    int n;
    nc_figure *at;
    int compare;             /* several runs: one normalisation */
    nc_report_norm norm;     /* compare: the common normalisation */
    double *final_hv;        /* compare: each run's last hypervolume under norm */
    /* one run with baselines: each front member against each baseline
     * (the paper's Table 3), written as baselines.csv; n_cols 0: none */
    nc_table baselines;
} nc_figures;

/* The figures of one run (n == 1) or the comparison of n runs (refused
 * when their objectives or datasets differ). */
int nc_figures_build(nc_report_data *const *runs, int n, nc_figures *out, nc_error *err);
void nc_figures_free(nc_figures *f);

char *nc_table_csv(const nc_table *t);
/* {"columns": [...], "rows": [[...]...]} (new reference). */
json_t *nc_table_json(const nc_table *t);
/* {"NAME": {"columns", "rows", "title"}, ...} (new reference). */
json_t *nc_figures_json(const nc_figures *f);
/* The normalisation as one line ("accuracy_drop [0, 1], energy [0, 3.2];
 * reference point 1.1 in every normalised objective"). */
void nc_norm_text(const nc_report_norm *norm, char *buf, size_t size);

/* The optimizer plugin a stored pipeline names ("nsga2" when absent). */
void nc_report_optimizer(const nc_report_data *d, char *buf, size_t size);

/* Over a run's search evaluations: the best accuracy (NaN: none) and the
 * summed training time in hours. */
double nc_report_best_accuracy(const nc_report_data *d);
double nc_report_train_hours(const nc_report_data *d);

/* Writes NAME.csv and NAME.<format> for every figure and report.html into
 * out_dir (created). formats: comma-separated svg, png, pdf. */
int nc_report_write_dir(nc_report_data *const *runs, int n, const nc_figures *f,
                        const char *out_dir, const char *formats, nc_error *err);

/* report.html as text (malloc'd): self-contained, figures inline. */
char *nc_report_html(nc_report_data *const *runs, int n, const nc_figures *f);

#endif
