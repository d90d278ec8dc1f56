/* figures.c - which figures a run (or a comparison) gets, each built as a
 * data table first and drawn from it, so the CSV, the JSON and the plot
 * always hold the same numbers (docs/REPORT.md). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "nascaps/stats.h"
#include "report_out.h"

/* ---- Tables ------------------------------------------------------------------ */

static int table_init(nc_table *t, int n_cols, const char *const *cols, const int *numeric)
{
    memset(t, 0, sizeof *t);
    t->cols = calloc((size_t)n_cols, sizeof *t->cols);
    t->numeric = calloc((size_t)n_cols, 1);
    if (!t->cols || !t->numeric)
        return -1;
    t->n_cols = n_cols;
    for (int c = 0; c < n_cols; c++) {
        t->numeric[c] = (unsigned char)numeric[c];
        if (!(t->cols[c] = strdup(cols[c])))
            return -1;
    }
    return 0;
}

static void table_free(nc_table *t)
{
    for (int c = 0; c < t->n_cols; c++)
        free(t->cols ? t->cols[c] : NULL);
    for (int i = 0; i < t->n_rows * t->n_cols; i++)
        free(t->cells[i]);
    free(t->cols);
    free(t->cells);
    free(t->numeric);
    memset(t, 0, sizeof *t);
}

/* Appends a row; each cell is a printf format consumed in order: "%s"
 * text, "%g" a double (NaN: empty), "%d" an int, "%I" an int64. */
static int table_row(nc_table *t, const char *kinds, ...)
{
    if (t->n_rows == t->cap) {
        int cap = t->cap ? 2 * t->cap : 32;
        char **grown = realloc(t->cells, (size_t)cap * (size_t)t->n_cols * sizeof *grown);
        if (!grown)
            return -1;
        t->cells = grown;
        t->cap = cap;
    }
    char **row = t->cells + (size_t)t->n_rows * (size_t)t->n_cols;
    va_list ap;
    va_start(ap, kinds);
    int ok = 1;
    size_t given = strlen(kinds);
    for (int c = 0; c < t->n_cols; c++) {
        char cell[64] = "";
        const char *text = cell;
        switch ((size_t)c < given ? kinds[c] : '-') {
        case '-': break;
        case 's': text = va_arg(ap, const char *); break;
        case 'd': snprintf(cell, sizeof cell, "%d", va_arg(ap, int)); break;
        case 'I': snprintf(cell, sizeof cell, "%lld", (long long)va_arg(ap, int64_t)); break;
        default: {   /* 'g' */
            double v = va_arg(ap, double);
            if (isfinite(v))
                snprintf(cell, sizeof cell, "%.9g", v);
            else
                cell[0] = '\0';
        }
        }
        row[c] = strdup(text);
        ok &= row[c] != NULL;
    }
    va_end(ap);
    t->n_rows++;
    return ok ? 0 : -1;
}

/* Appends a row of n_cols text cells (copied). */
static int table_cells(nc_table *t, const char *const *cells)
{
    if (table_row(t, "") != 0)
        return -1;
    char **row = t->cells + (size_t)(t->n_rows - 1) * (size_t)t->n_cols;
    int ok = 1;
    for (int c = 0; c < t->n_cols; c++) {
        free(row[c]);
        ok &= (row[c] = strdup(cells[c])) != NULL;
    }
    return ok ? 0 : -1;
}

char *nc_table_csv(const nc_table *t)
{
    size_t len = 1;
    for (int c = 0; c < t->n_cols; c++)
        len += strlen(t->cols[c]) + 1;
    for (int i = 0; i < t->n_rows * t->n_cols; i++)
        len += 2 * strlen(t->cells[i]) + 3;
    char *out = malloc(len), *w = out;
    if (!out)
        return NULL;
    for (int c = 0; c < t->n_cols; c++)
        w += sprintf(w, "%s%s", c ? "," : "", t->cols[c]);
    *w++ = '\n';
    for (int r = 0; r < t->n_rows; r++) {
        for (int c = 0; c < t->n_cols; c++) {
            const char *cell = t->cells[(size_t)r * (size_t)t->n_cols + (size_t)c];
            if (c)
                *w++ = ',';
            if (strpbrk(cell, ",\"\n")) {
                *w++ = '"';
                for (const char *q = cell; *q; q++) {
                    if (*q == '"')
                        *w++ = '"';
                    *w++ = *q;
                }
                *w++ = '"';
            } else
                w += sprintf(w, "%s", cell);
        }
        *w++ = '\n';
    }
    *w = '\0';
    return out;
}

json_t *nc_table_json(const nc_table *t)
{
    json_t *cols = json_array(), *rows = json_array();
    for (int c = 0; c < t->n_cols; c++)
        json_array_append_new(cols, json_string(t->cols[c]));
    for (int r = 0; r < t->n_rows; r++) {
        json_t *row = json_array();
        for (int c = 0; c < t->n_cols; c++) {
            const char *cell = t->cells[(size_t)r * (size_t)t->n_cols + (size_t)c];
            json_array_append_new(row, !t->numeric[c] ? json_string(cell)
                                       : cell[0]      ? json_real(strtod(cell, NULL))
                                                      : json_null());
        }
        json_array_append_new(rows, row);
    }
    return json_pack("{s:o,s:o}", "columns", cols, "rows", rows);
}

json_t *nc_figures_json(const nc_figures *f)
{
    json_t *all = json_object();
    for (int i = 0; all && i < f->n; i++) {
        json_t *t = nc_table_json(&f->at[i].table);
        const nc_plot *p = f->at[i].plot;
        if (t && p && p->title)
            json_object_set_new(t, "title", json_string(p->title));
        json_object_set_new(all, f->at[i].name, t);
    }
    return all;
}

void nc_figures_free(nc_figures *f)
{
    for (int i = 0; i < f->n; i++) {
        nc_plot_free(f->at[i].plot);
        table_free(&f->at[i].table);
    }
    free(f->at);
    free(f->final_hv);
    table_free(&f->baselines);
    memset(f, 0, sizeof *f);
}

/* ---- Helpers ------------------------------------------------------------------ */

static nc_figure *new_figure(nc_figures *f, const char *name, const char *title,
                             const char *xlabel, const char *ylabel)
{
    nc_figure *grown = realloc(f->at, (size_t)(f->n + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    f->at = grown;
    nc_figure *fig = &f->at[f->n];
    memset(fig, 0, sizeof *fig);
    snprintf(fig->name, sizeof fig->name, "%s", name);
    if (!(fig->plot = nc_plot_new(title, xlabel, ylabel)))
        return NULL;
    f->n++;
    return fig;
}

/* Column name (as pareto.csv) and axis label of an objective's value. */
static const char *column_of(int o)
{
    static const char *const names[NC_OBJ_COUNT] = {"accuracy", "energy_mJ", "latency_ms",
                                                    "memory_KiB", "params", "macs"};
    return o >= 0 && o < NC_OBJ_COUNT ? names[o] : "?";
}

static const char *label_of(int o)
{
    static const char *const names[NC_OBJ_COUNT] = {"accuracy", "energy (mJ)", "latency (ms)",
                                                    "memory (KiB)", "parameters", "MACs"};
    return o >= 0 && o < NC_OBJ_COUNT ? names[o] : "?";
}

/* What a figure plots of e for objective o: accuracy itself (not the
 * drop), the costs as they are. */
static double value_of(const nc_report_eval *e, int o)
{
    return o == NC_OBJ_ACCURACY_DROP ? e->accuracy : nc_report_objective(e, o);
}

static const double run_colours[6][3] = {{0.12, 0.47, 0.71}, {0.84, 0.15, 0.16},
                                         {0.17, 0.63, 0.17}, {0.58, 0.40, 0.74},
                                         {1.00, 0.50, 0.05}, {0.55, 0.34, 0.29}};
static const int run_markers[6] = {NC_MARK_CIRCLE, NC_MARK_SQUARE, NC_MARK_TRIANGLE,
                                   NC_MARK_DIAMOND, NC_MARK_CIRCLE, NC_MARK_SQUARE};

static void set_rgb(nc_series *s, double r, double g, double b)
{
    s->rgb[0] = r;
    s->rgb[1] = g;
    s->rgb[2] = b;
}

/* One run's curve: points joined, the first run colour. */
static nc_series *line_series(nc_plot *p, const char *label, int n, const double *x,
                              const double *y)
{
    nc_series *s = nc_plot_add(p, label, n, x, y, NULL);
    if (s) {
        s->line = 1;
        set_rgb(s, run_colours[0][0], run_colours[0][1], run_colours[0][2]);
    }
    return s;
}

typedef struct xy {
    double x, y;
} xy;

static int xy_qsort(const void *a, const void *b)
{
    const xy *p = a, *q = b;
    return p->x < q->x ? -1 : p->x > q->x ? 1 : (p->y > q->y) - (p->y < q->y);
}

/* Adds a front: every member as a marker (the series returned, for the
 * caller to style), joined by a line through the members that no other
 * member beats in this plane (a member of a front over more objectives
 * can be dominated in a 2-D projection). higher: a larger y is better. */
static nc_series *add_front(nc_plot *p, const char *label, xy *pts, int n, int higher,
                            const double rgb[3])
{
    double *x = malloc((size_t)(n ? n : 1) * sizeof *x), *y = malloc((size_t)(n ? n : 1) * sizeof *y);
    nc_series *s = NULL;
    if (x && y) {
        qsort(pts, (size_t)n, sizeof *pts, xy_qsort);
        int k = 0;
        for (int i = 0; i < n; i++)
            if (isfinite(pts[i].x) && isfinite(pts[i].y) &&
                (k == 0 || (higher ? pts[i].y > y[k - 1] : pts[i].y < y[k - 1]))) {
                x[k] = pts[i].x;
                y[k++] = pts[i].y;
            }
        nc_series *line = nc_plot_add(p, NULL, k, x, y, NULL);
        if (line) {
            line->line = 1;
            line->marker = NC_MARK_NONE;
            memcpy(line->rgb, rgb, sizeof line->rgb);
            for (int i = 0; i < n; i++) {
                x[i] = pts[i].x;
                y[i] = pts[i].y;
            }
            s = nc_plot_add(p, label, n, x, y, NULL);
        }
        if (s)
            memcpy(s->rgb, rgb, sizeof s->rgb);
    }
    free(x);
    free(y);
    return s;
}

/* asked by the optimizer (not a correlate study's, not a baseline) */
static int search_eval(const nc_report_eval *e)
{
    return e->generation < NC_REPORT_CORRELATE_GEN;
}

static int correlate_eval(const nc_report_eval *e)
{
    return e->generation == NC_REPORT_CORRELATE_GEN;
}

/* ---- One run ------------------------------------------------------------------ */

/* The baselines as labelled black diamonds (a failed one at 0). */
static int add_baselines(nc_plot *p, const nc_report_data *d, int o, int yo)
{
    double x[64], y[64];
    const char *names[64];
    int m = 0;
    for (int i = 0; i < d->n_evals && m < 64; i++)
        if (d->evals[i].baseline) {
            x[m] = value_of(&d->evals[i], o);
            y[m] = isfinite(value_of(&d->evals[i], yo)) ? value_of(&d->evals[i], yo) : 0.0;
            names[m++] = d->evals[i].baseline;
        }
    nc_series *s = nc_plot_add(p, "baselines", m, x, y, NULL);
    if (!s || !(s->text = calloc((size_t)(m ? m : 1), sizeof *s->text)))
        return -1;
    s->marker = NC_MARK_DIAMOND;
    s->size = 5.0;
    set_rgb(s, 0.1, 0.1, 0.1);
    for (int k = 0; k < m; k++)
        if (!(s->text[k] = strdup(names[k])))
            return -1;
    return 0;
}

/* 100 * (1 - v / base): how much less v costs than base (NaN when not
 * measured or base is 0). */
static double reduction(double v, double base)
{
    return isfinite(v) && isfinite(base) && base != 0 ? 100.0 * (1.0 - v / base) : NAN;
}

/* Each front member against each baseline (the paper's Table 3). */
static int baseline_table(nc_figures *f, const nc_report_data *d)
{
    static const int numeric[8] = {0, 0, 1, 1, 1, 1, 1, 1};
    const char *cols[8] = {"id", "baseline", "accuracy", "baseline_accuracy",
                           "accuracy_difference", "energy_reduction_pct",
                           "latency_reduction_pct", "memory_reduction_pct"};
    if (table_init(&f->baselines, 8, cols, numeric))
        return -1;
    const nc_run_report *r = d->run;
    for (int i = 0; i < r->n_front; i++) {
        const nc_front_member *m = &r->front[i];
        for (int k = 0; k < d->n_evals; k++) {
            const nc_report_eval *b = &d->evals[k];
            if (b->baseline &&
                table_row(&f->baselines, "ssgggggg", m->id, b->baseline, m->accuracy,
                          b->accuracy, m->accuracy - b->accuracy,
                          reduction(m->energy_mj, b->energy_mj),
                          reduction(m->latency_ms, b->latency_ms),
                          reduction(m->memory_kib, b->memory_kib)))
                return -1;
        }
    }
    return 0;
}

/* The objective drawn upward: accuracy when the run trains, else its
 * first objective. */
static int y_objective(const nc_run_report *r)
{
    return r->trains ? NC_OBJ_ACCURACY_DROP : r->objectives[0];
}

static int fig_scatter(nc_figures *f, const nc_report_data *d, int o)
{
    const nc_run_report *r = d->run;
    int yo = y_objective(r);
    char name[64], title[128];
    snprintf(name, sizeof name, "%s_vs_%s", yo == NC_OBJ_ACCURACY_DROP ? "accuracy" : column_of(yo),
             nc_objective_name(o));
    snprintf(title, sizeof title, "%s against %s: every candidate, the final front",
             label_of(yo), nc_objective_name(o));
    nc_figure *fig = new_figure(f, name, title, label_of(o), label_of(yo));
    static const int numeric[6] = {0, 1, 0, 1, 1, 1};
    const char *cols[6] = {"id", "generation", "status", "front", column_of(yo), column_of(o)};
    int n = d->n_evals;
    double *x = calloc((size_t)(n ? n : 1), sizeof *x), *y = calloc((size_t)(n ? n : 1), sizeof *y),
           *shade = calloc((size_t)(n ? n : 1), sizeof *shade);
    xy *front = calloc((size_t)(n ? n : 1), sizeof *front);
    int rc = !fig || !x || !y || !shade || !front || table_init(&fig->table, 6, cols, numeric);
    int last_gen = 1;
    for (int i = 0; i < n; i++)
        if (search_eval(&d->evals[i]) && d->evals[i].generation > last_gen)
            last_gen = d->evals[i].generation;
    /* ok candidates (shaded by generation), failed, time-limited, pruned
     * (at the accuracy they had when stopped), front */
    for (int pass = 0; pass < 4 && !rc; pass++) {
        int m = 0;
        for (int i = 0; i < n && !rc; i++) {
            const nc_report_eval *e = &d->evals[i];
            if (!search_eval(e))
                continue;
            int kind = !strcmp(e->status, "pruned")       ? 3
                       : !e->failed                       ? 0
                       : strcmp(e->status, "time_limit") ? 1
                                                          : 2;
            if (pass == 0)
                /* generations count from 1 (the initial population) in
                 * every output; the store keeps the 0-based ask index */
                rc = table_row(&fig->table, "sdsdgg", e->id, e->generation + 1, e->status,
                               e->on_front, value_of(e, yo), value_of(e, o));
            if (kind != pass)
                continue;
            x[m] = value_of(e, o);
            /* a failed candidate has no accuracy: drawn at 0 */
            y[m] = isfinite(value_of(e, yo)) ? value_of(e, yo) : 0.0;
            shade[m] = (double)e->generation / last_gen;
            m++;
        }
        static const char *const labels[4] = {"evaluated", "failed (at 0)", "time limit",
                                              "pruned (stopped early)"};
        /* an empty kind stays out of the legend */
        nc_series *s = rc ? NULL : nc_plot_add(fig->plot, m ? labels[pass] : NULL, m, x, y,
                                                pass == 0 ? shade : NULL);
        rc = rc || !s;
        if (s && pass == 1) {
            s->marker = NC_MARK_CROSS;
            set_rgb(s, 0.85, 0.1, 0.1);
        } else if (s && pass == 2) {
            s->marker = NC_MARK_TRIANGLE;
            set_rgb(s, 1.0, 0.55, 0.0);
        } else if (s && pass == 3) {
            s->marker = NC_MARK_SQUARE;
            set_rgb(s, 0.55, 0.55, 0.55);
        }
    }
    int m = 0;
    for (int i = 0; i < n && !rc; i++)
        if (d->evals[i].on_front) {
            front[m].x = value_of(&d->evals[i], o);
            front[m].y = value_of(&d->evals[i], yo);
            m++;
        }
    if (!rc && d->n_baselines)
        rc = add_baselines(fig->plot, d, o, yo);
    static const double red[3] = {0.85, 0.1, 0.1};
    nc_series *s = rc ? NULL : add_front(fig->plot, "final front", front, m,
                                         yo == NC_OBJ_ACCURACY_DROP, red);
    rc = rc || !s;
    if (s) {
        s->outline = 1;
        s->size = 5.0;
        char ramp[64];
        snprintf(ramp, sizeof ramp, "generation 1 (initial) .. %d", last_gen + 1);
        if (!(fig->plot->shade_label = strdup(ramp)))
            rc = 1;
        nc_plot_auto_log(fig->plot);
    }
    free(x);
    free(y);
    free(shade);
    free(front);
    return rc ? -1 : 0;
}

static int fig_hypervolume(nc_figures *f, const nc_report_data *d, int hours)
{
    const nc_run_report *r = d->run;
    nc_figure *fig = new_figure(f, hours ? "hypervolume_vs_hours" : "hypervolume_vs_generation",
                                hours ? "Hypervolume against training time"
                                      : "Hypervolume against generation",
                                hours ? "training time (hours)" : "generation",
                                "hypervolume (normalised)");
    static const int numeric[4] = {1, 1, 1, 1};
    const char *cols[4] = {"generation", "evaluations", "train_hours", "hypervolume"};
    int n = r->n_generations;
    double *x = malloc((size_t)(n ? n : 1) * sizeof *x), *y = malloc((size_t)(n ? n : 1) * sizeof *y);
    int rc = !fig || !x || !y || table_init(&fig->table, 4, cols, numeric);
    for (int g = 0; g < n && !rc; g++) {
        x[g] = hours ? d->gens[g].train_hours : r->generations[g].generation;
        y[g] = r->generations[g].hypervolume;
        rc = table_row(&fig->table, "dIgg", r->generations[g].generation,
                       d->gens[g].evaluations, d->gens[g].train_hours,
                       r->generations[g].hypervolume);
    }
    nc_series *s = rc ? NULL : line_series(fig->plot, "hypervolume", n, x, y);
    free(x);
    free(y);
    return rc || !s ? -1 : 0;
}

/* Parallel coordinates of the front: each objective's axis spans the
 * front's own range. */
static int fig_parallel(nc_figures *f, const nc_report_data *d)
{
    const nc_run_report *r = d->run;
    int m = r->n_objectives;
    nc_figure *fig = new_figure(f, "front_objectives", "The final front over all objectives",
                                NULL, NULL);
    int numeric[NC_OBJ_COUNT + 1] = {0};
    const char *cols[NC_OBJ_COUNT + 1] = {"id"};
    for (int k = 0; k < m; k++) {
        numeric[k + 1] = 1;
        cols[k + 1] = column_of(r->objectives[k]);
    }
    int rc = !fig || table_init(&fig->table, m + 1, cols, numeric);
    nc_plot *p = rc ? NULL : fig->plot;
    if (p) {
        p->parallel = 1;
        p->n_axes = m;
        p->axis_names = calloc((size_t)m, sizeof *p->axis_names);
        p->axis_lo = calloc((size_t)m, sizeof *p->axis_lo);
        p->axis_hi = calloc((size_t)m, sizeof *p->axis_hi);
        rc = !p->axis_names || !p->axis_lo || !p->axis_hi;
        if (rc)
            p->n_axes = 0;
    }
    for (int k = 0; k < m && !rc; k++) {
        int o = r->objectives[k], any = 0;
        if (!(p->axis_names[k] = strdup(label_of(o))))
            rc = 1;
        for (int i = 0; i < d->n_evals; i++) {
            double v = value_of(&d->evals[i], o);
            if (!d->evals[i].on_front || !isfinite(v))
                continue;
            if (!any || v < p->axis_lo[k])
                p->axis_lo[k] = v;
            if (!any || v > p->axis_hi[k])
                p->axis_hi[k] = v;
            any = 1;
        }
    }
    int members = 0;
    for (int i = 0; i < d->n_evals && !rc; i++) {
        const nc_report_eval *e = &d->evals[i];
        if (!e->on_front)
            continue;
        double x[NC_OBJ_COUNT], y[NC_OBJ_COUNT];
        const char *cells[NC_OBJ_COUNT + 1];
        char buf[NC_OBJ_COUNT][32];
        cells[0] = e->id;
        for (int k = 0; k < m; k++) {
            double v = value_of(e, r->objectives[k]), span = p->axis_hi[k] - p->axis_lo[k];
            x[k] = k;
            y[k] = span > 0 ? (v - p->axis_lo[k]) / span : 0.5;
            if (isfinite(v))
                snprintf(buf[k], sizeof buf[k], "%.9g", v);
            else
                buf[k][0] = '\0';
            cells[k + 1] = buf[k];
        }
        rc = table_cells(&fig->table, cells);
        nc_series *s = rc ? NULL : nc_plot_add(p, members ? NULL : "front member", m, x, y, NULL);
        rc = rc || !s;
        if (s) {
            s->line = 1;
            s->size = 2.5;
            /* colour: the accuracy within the front's range */
            double t = 0.5;
            for (int k = 0; k < m; k++)
                if (r->objectives[k] == NC_OBJ_ACCURACY_DROP && isfinite(y[k]))
                    t = y[k];
            nc_plot_ramp(t, s->rgb);
            members++;
        }
    }
    if (!rc && p && !(p->shade_label = strdup("colour: accuracy (low .. high)")))
        rc = 1;
    return rc ? -1 : 0;
}

/* A correlate study: accuracy after e epochs against the last epoch's,
 * and Pearson's r per epoch (the paper's Table 2). */
static int fig_correlate(nc_figures *f, const nc_report_data *d)
{
    int E = 0, n = 0;
    for (int i = 0; i < d->n_evals; i++)
        if (correlate_eval(&d->evals[i]) && !d->evals[i].failed && d->evals[i].n_epochs > E)
            E = d->evals[i].n_epochs;
    if (E < 2)
        return 0;
    double *fin = malloc((size_t)d->n_evals * sizeof *fin),
           *at = malloc((size_t)d->n_evals * (size_t)E * sizeof *at);
    double *shade = malloc((size_t)d->n_evals * sizeof *shade);
    nc_figure *fig = new_figure(f, "correlate_accuracy",
                                "Accuracy after e epochs against after the last",
                                "accuracy after the last epoch", "accuracy after e epochs");
    static const int numeric[4] = {0, 1, 1, 1};
    const char *cols[4] = {"id", "epoch", "accuracy", "final_accuracy"};
    int rc = !fin || !at || !shade || !fig || table_init(&fig->table, 4, cols, numeric);
    for (int i = 0; i < d->n_evals && !rc; i++) {
        const nc_report_eval *e = &d->evals[i];
        if (!correlate_eval(e) || e->failed || e->n_epochs != E)
            continue;
        fin[n] = e->epoch_accuracy[E - 1];
        for (int k = 0; k < E && !rc; k++) {
            at[(size_t)k * (size_t)d->n_evals + (size_t)n] = e->epoch_accuracy[k];
            rc = table_row(&fig->table, "sdgg", e->id, k + 1, e->epoch_accuracy[k], fin[n]);
        }
        n++;
    }
    for (int k = 0; k < E - 1 && !rc; k++) {
        char label[32];
        snprintf(label, sizeof label, "after %d epoch%s", k + 1, k ? "s" : "");
        for (int i = 0; i < n; i++)
            shade[i] = E > 2 ? (double)k / (E - 2) : 0.0;
        nc_series *s = nc_plot_add(fig->plot, k == 0 || k == E - 2 ? label : NULL, n, fin,
                                   at + (size_t)k * (size_t)d->n_evals, shade);
        rc = !s;
    }
    nc_figure *fr = rc ? NULL : new_figure(f, "correlate_r", "Correlation with the last epoch",
                                           "epochs trained", "Pearson's r");
    static const int rnum[3] = {1, 1, 1};
    const char *rcols[3] = {"epoch", "candidates", "pearson_r"};
    rc = rc || !fr || table_init(&fr->table, 3, rcols, rnum);
    double ex[64], ry[64];
    int shown = 0;
    for (int k = 0; k < E && !rc; k++) {
        double r = nc_pearson(at + (size_t)k * (size_t)d->n_evals, fin, (size_t)n);
        rc = table_row(&fr->table, "ddg", k + 1, n, r);
        if (shown < 64) {
            ex[shown] = k + 1;
            ry[shown++] = r;
        }
    }
    nc_series *s = rc ? NULL : line_series(fr->plot, "r", shown, ex, ry);
    free(fin);
    free(at);
    free(shade);
    return rc || !s ? -1 : 0;
}

static int build_one(const nc_report_data *d, nc_figures *f)
{
    const nc_run_report *r = d->run;
    int rc = 0;
    if (r) {
        int yo = y_objective(r);
        for (int k = 0; k < r->n_objectives && !rc; k++)
            if (r->objectives[k] != yo)
                rc = fig_scatter(f, d, r->objectives[k]);
        if (!rc && r->n_generations)
            rc = fig_hypervolume(f, d, 0) || fig_hypervolume(f, d, 1);
        if (!rc && r->n_objectives > 1)
            rc = fig_parallel(f, d);
        if (!rc && d->n_baselines)
            rc = baseline_table(f, d);
    }
    if (!rc && d->correlate)
        rc = fig_correlate(f, d);
    return rc;
}

/* ---- Comparison --------------------------------------------------------------- */

static int fig_compare_hv(nc_figures *f, nc_report_data *const *runs, int n, int hours)
{
    nc_figure *fig = new_figure(
        f, hours ? "compare_hypervolume_vs_hours" : "compare_hypervolume_vs_evaluations",
        hours ? "Hypervolume against training time (one normalisation)"
              : "Hypervolume against evaluations (one normalisation)",
        hours ? "training time (hours)" : "evaluations", "hypervolume (common normalisation)");
    static const int numeric[5] = {0, 1, 1, 1, 1};
    const char *cols[5] = {"run", "generation", "evaluations", "train_hours", "hypervolume"};
    int rc = !fig || table_init(&fig->table, 5, cols, numeric);
    for (int r = 0; r < n && !rc; r++) {
        const nc_report_data *d = runs[r];
        int g_n = d->run->n_generations;
        double *x = malloc((size_t)(g_n ? g_n : 1) * sizeof *x),
               *y = malloc((size_t)(g_n ? g_n : 1) * sizeof *y);
        rc = !x || !y;
        for (int g = 0; g < g_n && !rc; g++) {
            double hv = nc_report_hypervolume(d, g, &f->norm);
            rc = hv < 0;
            x[g] = hours ? d->gens[g].train_hours : (double)d->gens[g].evaluations;
            y[g] = hv;
            if (!rc)
                rc = table_row(&fig->table, "sdIgg", d->dir, d->run->generations[g].generation,
                               d->gens[g].evaluations, d->gens[g].train_hours, hv);
            if (!rc && !hours)
                f->final_hv[r] = hv;
        }
        nc_series *s = rc ? NULL : nc_plot_add(fig->plot, d->dir, g_n, x, y, NULL);
        rc = rc || !s;
        if (s) {
            s->line = 1;
            s->marker = run_markers[r % 6];
            memcpy(s->rgb, run_colours[r % 6], sizeof s->rgb);
        }
        free(x);
        free(y);
    }
    return rc ? -1 : 0;
}

static int fig_compare_front(nc_figures *f, nc_report_data *const *runs, int n, int o)
{
    const nc_run_report *r0 = runs[0]->run;
    int yo = y_objective(r0);
    char name[64], title[128];
    snprintf(name, sizeof name, "compare_%s_vs_%s",
             yo == NC_OBJ_ACCURACY_DROP ? "accuracy" : column_of(yo), nc_objective_name(o));
    snprintf(title, sizeof title, "Final fronts: %s against %s", label_of(yo),
             nc_objective_name(o));
    nc_figure *fig = new_figure(f, name, title, label_of(o), label_of(yo));
    static const int numeric[4] = {0, 0, 1, 1};
    const char *cols[4] = {"run", "id", column_of(yo), column_of(o)};
    int rc = !fig || table_init(&fig->table, 4, cols, numeric);
    for (int r = 0; r < n && !rc; r++) {
        const nc_report_data *d = runs[r];
        xy *pts = malloc((size_t)(d->n_evals ? d->n_evals : 1) * sizeof *pts);
        int m = 0;
        rc = !pts;
        for (int i = 0; i < d->n_evals && !rc; i++)
            if (d->evals[i].on_front) {
                pts[m].x = value_of(&d->evals[i], o);
                pts[m].y = value_of(&d->evals[i], yo);
                rc = table_row(&fig->table, "ssgg", d->dir, d->evals[i].id, pts[m].y, pts[m].x);
                m++;
            }
        nc_series *s = rc ? NULL : add_front(fig->plot, d->dir, pts, m,
                                             yo == NC_OBJ_ACCURACY_DROP, run_colours[r % 6]);
        rc = rc || !s;
        if (s) {
            s->size = 4.0;
            s->marker = run_markers[r % 6];
        }
        free(pts);
    }
    if (!rc)
        nc_plot_auto_log(fig->plot);
    return rc ? -1 : 0;
}

void nc_norm_text(const nc_report_norm *norm, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < norm->n_objectives && used < size; k++) {
        int o = norm->objectives[k];
        used += (size_t)snprintf(buf + used, size - used, "%s%s [%.6g, %.6g]", k ? ", " : "",
                                 nc_objective_name(o), norm->lo[o], norm->hi[o]);
    }
    if (used < size)
        snprintf(buf + used, size - used, "; reference point %.6g in every normalised objective",
                 norm->reference);
}

void nc_report_optimizer(const nc_report_data *d, char *buf, size_t size)
{
    config_t cfg;
    const char *name = NULL;
    config_init(&cfg);
    if (d->pipeline_text && config_read_string(&cfg, d->pipeline_text) == CONFIG_TRUE)
        config_lookup_string(&cfg, "optimizer.plugin", &name);
    snprintf(buf, size, "%s", name ? name : "nsga2");
    config_destroy(&cfg);
}

double nc_report_best_accuracy(const nc_report_data *d)
{
    double best = NAN;
    for (int i = 0; i < d->n_evals; i++) {
        const nc_report_eval *e = &d->evals[i];
        if (e->generation != NC_REPORT_CORRELATE_GEN && !e->failed && isfinite(e->accuracy) &&
            !(best >= e->accuracy))
            best = e->accuracy;
    }
    return best;
}

double nc_report_train_hours(const nc_report_data *d)
{
    double h = 0;
    for (int i = 0; i < d->n_evals; i++)
        if (d->evals[i].generation != NC_REPORT_CORRELATE_GEN &&
            isfinite(d->evals[i].train_seconds))
            h += d->evals[i].train_seconds / 3600.0;
    return h;
}

int nc_figures_build(nc_report_data *const *runs, int n, nc_figures *out, nc_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = 0;
    if (n == 1) {
        rc = build_one(runs[0], out);
    } else {
        int st = nc_report_common_norm(runs, n, &out->norm, err);
        if (st)
            return st;
        out->compare = 1;
        if (!(out->final_hv = calloc((size_t)n, sizeof *out->final_hv)))
            rc = -1;
        for (int r = 0; r < n && !rc; r++)
            out->final_hv[r] = runs[r]->run->n_generations ? NAN : 0.0;
        if (!rc)
            rc = fig_compare_hv(out, runs, n, 0) || fig_compare_hv(out, runs, n, 1);
        const nc_run_report *r0 = runs[0]->run;
        for (int k = 0; k < r0->n_objectives && !rc; k++)
            if (r0->objectives[k] != y_objective(r0))
                rc = fig_compare_front(out, runs, n, r0->objectives[k]);
    }
    if (rc) {
        nc_figures_free(out);
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory building the figures");
    }
    return NC_OK;
}
