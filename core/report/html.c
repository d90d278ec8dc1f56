/* html.c - report.html (one self-contained page: figures as data: URIs, no
 * network) and the files written next to it (docs/REPORT.md). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nascaps/genotype.h"
#include "report_out.h"
#include "util/text.h"

/* Text escaped for HTML content and attribute values. */
static void esc(nc_text *b, const char *t)
{
    for (; t && *t; t++) {
        switch (*t) {
        case '&': nc_text_put(b, "&amp;", 5); break;
        case '<': nc_text_put(b, "&lt;", 4); break;
        case '>': nc_text_put(b, "&gt;", 4); break;
        case '"': nc_text_put(b, "&quot;", 6); break;
        default: nc_text_put(b, t, 1);
        }
    }
}

static void base64(nc_text *b, const unsigned char *d, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4];
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) |
                     (i + 2 < n ? d[i + 2] : 0);
        q[0] = tab[v >> 18 & 63];
        q[1] = tab[v >> 12 & 63];
        q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        nc_text_put(b, q, 4);
    }
}

/* fixed: "%.4f" (accuracies), else "%.6g" */
static void num(nc_text *b, int fixed, double v)
{
    if (isfinite(v) && fixed)
        nc_text_add(b, "%.4f", v);
    else if (isfinite(v))
        nc_text_add(b, "%.6g", v);
    else
        nc_text_put(b, "-", 1);
}

/* energy, latency and memory as three cells' contents */
static void costs(nc_text *b, double energy_mj, double latency_ms, double memory_kib)
{
    num(b, 0, energy_mj);
    nc_text_add(b, "</td><td>");
    num(b, 0, latency_ms);
    nc_text_add(b, "</td><td>");
    num(b, 0, memory_kib);
}

static void figures(nc_text *b, const nc_figures *f)
{
    for (int i = 0; i < f->n; i++) {
        size_t len = 0;
        unsigned char *svg = nc_plot_svg(f->at[i].plot, &len);
        if (!svg) {
            b->failed = 1;
            return;
        }
        nc_text_add(b, "<figure id=\"%s\"><img width=\"%d\" height=\"%d\" alt=\"", f->at[i].name,
            NC_PLOT_WIDTH, NC_PLOT_HEIGHT);
        esc(b, f->at[i].plot->title ? f->at[i].plot->title : f->at[i].name);
        nc_text_put(b, "\" src=\"data:image/svg+xml;base64,", 33);
        base64(b, svg, len);
        nc_text_add(b, "\"><figcaption>");
        esc(b, f->at[i].plot->title);
        nc_text_add(b, " &mdash; data: <a href=\"%s.csv\">%s.csv</a></figcaption></figure>\n",
            f->at[i].name, f->at[i].name);
        free(svg);
    }
}

/* One line per layer: role, kernel, stride and the output shape. */
static void layers(nc_text *b, const char *genotype)
{
    nc_genotype g;
    nc_error err;
    if (nc_genotype_parse(genotype, "front", &g, &err)) {
        esc(b, genotype);
        return;
    }
    nc_text_put(b, "<ol class=\"layers\">", 19);
    for (int i = 0; i < g.n_layers; i++) {
        const nc_gene *gene = &g.layers[i];
        nc_layer_role role = nc_genotype_role(&g, i);
        nc_shape s = nc_gene_out_shape(gene);
        nc_text_add(b, "<li>%s %dx%d, stride %d &rarr; ", nc_layer_role_name(role), gene->k, gene->k,
            gene->stride);
        if (role == NC_ROLE_CONV)
            nc_text_add(b, "%dx%dx%d</li>", s.h, s.w, s.ch);
        else
            nc_text_add(b, "%dx%d, %d capsule%s of %d dims</li>", s.h, s.w, s.ch, s.ch == 1 ? "" : "s",
                s.dim);
    }
    nc_text_put(b, "</ol>", 5);
    if (g.skip > 0)
        nc_text_add(b, "<span class=\"note\">skip: layer %d to the FlatCaps layer</span>", g.skip);
    if (g.resize == 2)
        nc_text_add(b, "<span class=\"note\">input resized x2</span>");
}

static void run_summary(nc_text *b, const nc_report_data *d)
{
    const nc_run_report *r = d->run;
    nc_text_add(b, "<h2>Run</h2>\n<p>Folder <code>");
    esc(b, d->dir);
    if (!r) {
        nc_text_add(b, "</code>: a correlate study, %d evaluations.</p>\n", d->n_evals);
        return;
    }
    nc_text_add(b, "</code>: %d generation%s%s, %lld evaluations (%lld failed). Objectives: ",
        r->n_generations, r->n_generations == 1 ? "" : "s",
        r->search_done ? " (search done)" : " (search not finished)", (long long)r->evaluations,
        (long long)r->failed);
    for (int k = 0; k < r->n_objectives; k++)
        nc_text_add(b, "%s%s", k ? ", " : "", nc_objective_name(r->objectives[k]));
    nc_text_add(b, ". Hypervolume normalisation: ");
    for (int k = 0; k < r->n_objectives; k++) {
        int o = r->objectives[k];
        nc_text_add(b, "%s%s [%.6g, %.6g]", k ? ", " : "", nc_objective_name(o), r->bound_lo[o],
            r->bound_hi[o]);
    }
    nc_text_add(b, ", reference point %.6g.</p>\n", r->hv_reference);
}

/* Who evaluated: per worker, its evaluations and stage-2 epochs. */
static void workers_table(nc_text *b, const nc_report_data *d)
{
    double total = 0;
    for (int i = 0; i < d->n_workers; i++)
        total += d->workers[i].train_seconds + d->workers[i].final_seconds;
    nc_text_add(b, "<h2>Workers</h2>\n<table><tr><th>worker</th><th>evaluations</th>"
           "<th>training hours</th><th>stage-2 epochs</th><th>stage-2 hours</th>"
           "<th>share of the training</th><th>threads</th></tr>\n");
    for (int i = 0; i < d->n_workers; i++) {
        const nc_report_worker *w = &d->workers[i];
        double mine = w->train_seconds + w->final_seconds;
        nc_text_add(b, "<tr><td>");
        esc(b, w->name);
        nc_text_add(b, "</td><td>%lld</td><td>%.3f</td><td>%lld</td><td>%.3f</td><td>%.0f%%</td>",
            (long long)w->evaluations, w->train_seconds / 3600.0, (long long)w->final_epochs,
            w->final_seconds / 3600.0, total > 0 ? 100.0 * mine / total : 0.0);
        if (w->threads_min == w->threads_max)
            nc_text_add(b, "<td>%d</td></tr>\n", w->threads_min);
        else
            nc_text_add(b, "<td>%d-%d</td></tr>\n", w->threads_min, w->threads_max);
    }
    nc_text_add(b, "</table>\n");
}

static void generation_table(nc_text *b, const nc_report_data *d)
{
    const nc_run_report *r = d->run;
    nc_text_add(b, "<h2>Generations</h2>\n<table><tr><th>generation</th><th>evaluations</th>"
           "<th>evaluated</th><th>cached</th><th>failed</th><th>front</th><th>best accuracy</th>"
           "<th>hypervolume</th><th>training hours</th><th>elapsed s</th></tr>\n");
    for (int g = 0; g < r->n_generations; g++) {
        const nc_generation_row *row = &r->generations[g];
        nc_text_add(b, "<tr><td>%d</td><td>%lld</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>",
            row->generation, (long long)d->gens[g].evaluations, row->evaluated, row->cached,
            row->failed, row->front_size);
        num(b, 1, row->best_accuracy);
        nc_text_add(b, "</td><td>");
        num(b, 0, row->hypervolume);
        nc_text_add(b, "</td><td>%.4f</td><td>%.0f</td></tr>\n", d->gens[g].train_hours, row->elapsed_s);
    }
    nc_text_add(b, "</table>\n");
}

static void front_table(nc_text *b, const nc_report_data *d)
{
    const nc_run_report *r = d->run;
    /* which split the search's accuracy is on: the validation split when
     * the run held one out (its members then carry a validation accuracy) */
    int validation = 0;
    for (int i = 0; i < r->n_front; i++)
        validation |= isfinite(r->front[i].validation_accuracy);
    nc_text_add(b, "<h2>Final front</h2>\n<p>The search selected on the %s split; test accuracy "
           "is reported beside it.</p>\n<table><tr><th>id</th><th>accuracy (%s)</th>"
           "<th>test accuracy</th><th>stage 2 test accuracy</th><th>energy (mJ)</th>"
           "<th>latency (ms)</th><th>memory (KiB)</th><th>parameters</th><th>MACs</th>"
           "<th>layers</th></tr>\n",
        validation ? "validation" : "test", validation ? "validation" : "test");
    for (int i = 0; i < r->n_front; i++) {
        const nc_front_member *m = &r->front[i];
        nc_text_add(b, "<tr><td><code>%s</code></td><td>", m->id);
        num(b, 1, m->accuracy);
        nc_text_add(b, "</td><td>");
        num(b, 1, m->test_accuracy);
        nc_text_add(b, "</td><td>");
        num(b, 1, m->final_epochs > 0 ? m->final_test_accuracy : NAN);
        nc_text_add(b, "</td><td>");
        costs(b, m->energy_mj, m->latency_ms, m->memory_kib);
        nc_text_add(b, "</td><td>%lld</td><td>%lld</td><td>", (long long)m->params, (long long)m->macs);
        layers(b, m->genotype);
        nc_text_add(b, "<details><summary>genotype</summary><code>");
        esc(b, m->genotype);
        nc_text_add(b, "</code></details></td></tr>\n");
    }
    nc_text_add(b, "</table>\n");
}

static void compare_table(nc_text *b, nc_report_data *const *runs, int n, const nc_figures *f)
{
    char norm[1024];
    nc_norm_text(&f->norm, norm, sizeof norm);
    nc_text_add(b, "<h2>Runs</h2>\n<p>One normalisation for every run: ");
    esc(b, norm);
    nc_text_add(b, ".</p>\n<table><tr><th>run</th><th>optimizer</th><th>evaluations</th>"
           "<th>training hours</th><th>final hypervolume</th><th>best accuracy</th>"
           "<th>front size</th></tr>\n");
    for (int r = 0; r < n; r++) {
        char opt[64];
        nc_report_optimizer(runs[r], opt, sizeof opt);
        nc_text_add(b, "<tr><td>");
        esc(b, runs[r]->dir);
        nc_text_add(b, "</td><td>");
        esc(b, opt);
        nc_text_add(b, "</td><td>%lld</td><td>%.4f</td><td>", (long long)runs[r]->run->evaluations,
            nc_report_train_hours(runs[r]));
        num(b, 0, f->final_hv[r]);
        nc_text_add(b, "</td><td>");
        num(b, 1, nc_report_best_accuracy(runs[r]));
        nc_text_add(b, "</td><td>%d</td></tr>\n", runs[r]->run->n_front);
    }
    nc_text_add(b, "</table>\n");
}

/* The baselines, then each front member against each (Table 3). */
static void baselines_tables(nc_text *b, const nc_report_data *d, const nc_figures *f)
{
    nc_text_add(b, "<h2>Baselines</h2>\n<table><tr><th>baseline</th><th>id</th><th>status</th>"
           "<th>accuracy</th><th>energy (mJ)</th><th>latency (ms)</th><th>memory (KiB)</th>"
           "<th>parameters</th></tr>\n");
    for (int i = 0; i < d->n_evals; i++) {
        const nc_report_eval *e = &d->evals[i];
        if (!e->baseline)
            continue;
        nc_text_add(b, "<tr><td>");
        esc(b, e->baseline);
        nc_text_add(b, "</td><td><code>%s</code></td><td>%s</td><td>", e->id, e->status);
        num(b, 1, e->accuracy);
        nc_text_add(b, "</td><td>");
        costs(b, e->energy_mj, e->latency_ms, e->memory_kib);
        nc_text_add(b, "</td><td>%lld</td></tr>\n", (long long)e->params);
    }
    nc_text_add(b, "</table>\n<p>Each front member against each baseline: accuracy difference "
           "(member minus baseline) and how much less energy, latency and memory the member "
           "needs, in %% (negative: more). Data: <a href=\"baselines.csv\">baselines.csv</a>."
           "</p>\n<table><tr>");
    const nc_table *t = &f->baselines;
    for (int c = 0; c < t->n_cols; c++) {
        nc_text_add(b, "<th>");
        esc(b, t->cols[c]);
        nc_text_add(b, "</th>");
    }
    nc_text_add(b, "</tr>\n");
    for (int r = 0; r < t->n_rows; r++) {
        nc_text_add(b, "<tr>");
        for (int c = 0; c < t->n_cols; c++) {
            const char *cell = t->cells[(size_t)r * (size_t)t->n_cols + (size_t)c];
            nc_text_add(b, "<td>");
            if (t->numeric[c])
                num(b, c == 2 || c == 3 || c == 4, cell[0] ? strtod(cell, NULL) : NAN);
            else
                esc(b, cell);
            nc_text_add(b, "</td>");
        }
        nc_text_add(b, "</tr>\n");
    }
    nc_text_add(b, "</table>\n");
}

static const char style[] =
    "body{font-family:sans-serif;margin:2em;max-width:1400px;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;"
    "text-align:right;vertical-align:top}th{background:#eee}td:last-child{text-align:left}"
    "figure{display:inline-block;margin:0.5em;border:1px solid #ddd;padding:4px}"
    "ol.layers{margin:0;padding-left:1.5em;font-size:90%}.note{display:block;font-size:85%}"
    "pre{background:#f6f6f6;padding:1em;overflow:auto}";

char *nc_report_html(nc_report_data *const *runs, int n, const nc_figures *f)
{
    nc_text b = {0};
    nc_text_add(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>NASCaps report</title><style>%s</style></head><body>\n", style);
    nc_text_add(&b, "<h1>NASCaps %s</h1>\n", n > 1 ? "comparison of runs" : "report");
    if (n > 1)
        compare_table(&b, runs, n, f);
    else
        run_summary(&b, runs[0]);
    nc_text_add(&b, "<h2>Figures</h2>\n");
    figures(&b, f);
    if (n == 1 && runs[0]->run) {
        generation_table(&b, runs[0]);
        front_table(&b, runs[0]);
        if (runs[0]->n_workers)
            workers_table(&b, runs[0]);
        if (f->baselines.n_cols)
            baselines_tables(&b, runs[0], f);
    }
    for (int r = 0; r < n; r++) {
        nc_text_add(&b, "<h2>Settings of ");
        esc(&b, runs[r]->dir);
        nc_text_add(&b, "</h2>\n<pre>");
        esc(&b, runs[r]->pipeline_text);
        nc_text_add(&b, "</pre>\n");
    }
    nc_text_add(&b, "</body></html>\n");
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}

/* ---- Files --------------------------------------------------------------------- */

static int mkdirs(const char *dir, nc_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *q = path + 1;; q++) {
        char c = *q;
        if (c != '/' && c != '\0')
            continue;
        *q = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return nc_error_set(err, NC_ERR_INPUT, "%s: cannot create: %s", path,
                                strerror(errno));
        *q = c;
        if (!c)
            break;
    }
    return NC_OK;
}

static int write_text(const char *dir, const char *name, const char *text, nc_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return nc_error_set(err, NC_ERR_INPUT, "%s: cannot write: %s", path, strerror(errno));
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, fp) == n;
    ok &= fclose(fp) == 0;
    return ok ? NC_OK
              : nc_error_set(err, NC_ERR_INPUT, "%s: cannot write: %s", path, strerror(errno));
}

int nc_report_write_dir(nc_report_data *const *runs, int n, const nc_figures *f,
                        const char *out_dir, const char *formats, nc_error *err)
{
    int rc = mkdirs(out_dir, err);
    for (int i = 0; i < f->n && !rc; i++) {
        char name[128];
        char *csv = nc_table_csv(&f->at[i].table);
        snprintf(name, sizeof name, "%s.csv", f->at[i].name);
        rc = csv ? write_text(out_dir, name, csv, err)
                 : nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        free(csv);
        for (const char *q = formats; !rc && *q;) {
            size_t len = strcspn(q, ",");
            char fmt[8], path[4096], why[512];
            snprintf(fmt, sizeof fmt, "%.*s", (int)(len < 7 ? len : 7), q);
            if (strcmp(fmt, "svg") && strcmp(fmt, "png") && strcmp(fmt, "pdf"))
                return nc_error_set(err, NC_ERR_INPUT, "format '%.*s': expected svg, png or pdf",
                                    (int)len, q);
            snprintf(path, sizeof path, "%s/%s.%s", out_dir, f->at[i].name, fmt);
            if (nc_plot_write(f->at[i].plot, path, fmt, why, sizeof why))
                rc = nc_error_set(err, NC_ERR_INPUT, "%s", why);
            q += len;
            if (*q == ',')
                q++;
        }
    }
    if (!rc && f->baselines.n_cols) {
        char *csv = nc_table_csv(&f->baselines);
        rc = csv ? write_text(out_dir, "baselines.csv", csv, err)
                 : nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        free(csv);
    }
    if (rc)
        return rc;
    char *html = nc_report_html(runs, n, f);
    if (!html)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory writing report.html");
    rc = write_text(out_dir, "report.html", html, err);
    free(html);
    return rc;
}
