/* cmd_report.c - `nascaps report DIR... [--html OUT] [--format F] [--json]`:
 * what a run found, its figures and report.html, or the comparison of
 * several runs under one normalisation; read from each results.db
 * (read-only, also while a run goes on). docs/REPORT.md. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_run.h"
#include "nascaps/report.h"
#include "report_out.h"

#define MAX_RUNS 16

static void print_run(const nc_report_data *d)
{
    const nc_run_report *r = d->run;
    if (!r) {
        printf("%s: a correlate study, %d evaluations\n", d->dir, d->n_evals);
        return;
    }
    printf("%s: %d generation%s%s, %" PRId64 " evaluations (%" PRId64 " failed)\n", d->dir,
           r->n_generations, r->n_generations == 1 ? "" : "s",
           r->search_done ? " (search done)" : "", r->evaluations, r->failed);
    if (r->n_generations)
        printf("%10s  %9s  %6s  %5s  %13s  %11s\n", "generation", "evaluated", "failed",
               "front", "best_accuracy", "hypervolume");
    for (int i = 0; i < r->n_generations; i++) {
        const nc_generation_row *g = &r->generations[i];
        char acc[32];
        if (isfinite(g->best_accuracy))
            snprintf(acc, sizeof acc, "%.4f", g->best_accuracy);
        else
            snprintf(acc, sizeof acc, "-");
        printf("%10d  %9d  %6d  %5d  %13s  %11.6g\n", g->generation, g->evaluated, g->failed,
               g->front_size, acc, g->hypervolume);
    }
    printf("\n");
    nc_cli_print_front(r);
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void print_comparison(nc_report_data *const *runs, int n, const nc_figures *f)
{
    char norm[1024];
    nc_norm_text(&f->norm, norm, sizeof norm);
    printf("common normalisation: %s\n", norm);
    printf("%-30s  %-10s  %11s  %14s  %17s  %13s  %10s\n", "run", "optimizer", "evaluations",
           "training_hours", "final_hypervolume", "best_accuracy", "front_size");
    for (int r = 0; r < n; r++) {
        char opt[64];
        nc_report_optimizer(runs[r], opt, sizeof opt);
        printf("%-30s  %-10s  %11" PRId64 "  %14.4f  %17.6g  %13.4f  %10d\n", runs[r]->dir, opt,
               runs[r]->run->evaluations, nc_report_train_hours(runs[r]), f->final_hv[r],
               nc_report_best_accuracy(runs[r]), runs[r]->run->n_front);
    }
}

static json_t *comparison_json(nc_report_data *const *runs, int n, const nc_figures *f)
{
    json_t *root = json_object(), *list = json_array(), *rows = json_array(),
           *bounds = json_object();
    for (int r = 0; r < n; r++) {
        char *text = nc_report_json(runs[r]->run), opt[64];
        json_array_append_new(list, text ? json_loads(text, 0, NULL) : NULL);
        free(text);
        nc_report_optimizer(runs[r], opt, sizeof opt);
        json_array_append_new(
            rows, json_pack("{s:s,s:s,s:I,s:o,s:o,s:o,s:i}", "run", runs[r]->dir, "optimizer",
                            opt, "evaluations", (json_int_t)runs[r]->run->evaluations,
                            "train_hours", num(nc_report_train_hours(runs[r])),
                            "final_hypervolume", num(f->final_hv[r]), "best_accuracy",
                            num(nc_report_best_accuracy(runs[r])), "front_size",
                            runs[r]->run->n_front));
    }
    for (int k = 0; k < f->norm.n_objectives; k++) {
        int o = f->norm.objectives[k];
        json_object_set_new(bounds, nc_objective_name(o),
                            json_pack("[f,f]", f->norm.lo[o], f->norm.hi[o]));
    }
    json_object_set_new(root, "runs", list);
    json_object_set_new(root, "normalisation",
                        json_pack("{s:o,s:f}", "bounds", bounds, "reference", f->norm.reference));
    json_object_set_new(root, "comparison", rows);
    return root;
}

static json_t *run_json(const nc_report_data *d)
{
    if (!d->run)
        return json_pack("{s:s,s:i}", "correlate_study", d->dir, "evaluations", d->n_evals);
    char *text = nc_report_json(d->run);
    json_t *root = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return root;
}

/* A comma-separated list of svg, png, pdf. */
static int formats_ok(const char *list)
{
    for (const char *q = list; *q;) {
        size_t len = strcspn(q, ",");
        if (!((len == 3 && (!strncmp(q, "svg", 3) || !strncmp(q, "png", 3) ||
                            !strncmp(q, "pdf", 3)))))
            return 0;
        q += len;
        if (*q == ',' && *++q == '\0')
            return 0;
    }
    return *list != '\0';
}

int nc_cli_write_report(const char *dir, const char *out_dir, nc_error *err)
{
    nc_report_data *d = NULL;
    nc_figures f;
    int rc = nc_report_data_load(dir, &d, err);
    if (!rc && !(rc = nc_figures_build(&d, 1, &f, err))) {
        rc = nc_report_write_dir(&d, 1, &f, out_dir, "svg", err);
        nc_figures_free(&f);
    }
    nc_report_data_free(d);
    return rc;
}

static int report(const char **dirs, int n, const char *html, const char *formats, int json)
{
    nc_error err;
    nc_error_clear(&err);
    nc_report_data *runs[MAX_RUNS] = {0};
    nc_figures f = {0};
    int rc = NC_OK, built = 0;
    for (int i = 0; i < n && !rc; i++)
        rc = nc_report_data_load(dirs[i], &runs[i], &err);
    if (!rc && (rc = nc_figures_build(runs, n, &f, &err)) == NC_OK)
        built = 1;
    if (!rc) {
        if (n == 1)
            print_run(runs[0]);
        else
            print_comparison(runs, n, &f);
    }
    if (!rc && html && (rc = nc_report_write_dir(runs, n, &f, html, formats, &err)) == NC_OK)
        printf("%sreport: %s/report.html\n", n == 1 ? "\n" : "", html);
    if (rc)
        nc_cli_fail(&err);
    else if (json) {
        json_t *root = n == 1 ? run_json(runs[0]) : comparison_json(runs, n, &f);
        if (root) {
            json_object_set_new(root, "figures", nc_figures_json(&f));
            if (f.baselines.n_cols)
                json_object_set_new(root, "baselines", nc_table_json(&f.baselines));
            if (html)
                json_object_set_new(root, "html", json_string(html));
        }
        rc = nc_cli_print_json(root);
    }
    if (built)
        nc_figures_free(&f);
    for (int i = 0; i < n; i++)
        nc_report_data_free(runs[i]);
    if (fflush(stdout) != 0 && rc == NC_OK) {
        nc_cli_error("cannot write the output");
        rc = NC_ERR_INTERNAL;
    }
    return rc;
}

static int run(int argc, char **argv)
{
    const char *dirs[MAX_RUNS], *html = NULL, *formats = NULL;
    int n = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json"))
            json = 1;
        else if (!strcmp(a, "--html") || !strcmp(a, "--format")) {
            if (i + 1 >= argc)
                return nc_cli_usage("report", "%s needs a value", a);
            *(a[2] == 'h' ? &html : &formats) = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0')
            return nc_cli_usage("report", "unknown option '%s'", a);
        else if (n == MAX_RUNS)
            return nc_cli_usage("report", "at most %d output folders", MAX_RUNS);
        else
            dirs[n++] = a;
    }
    if (!n)
        return nc_cli_usage("report", "no output folder given");
    if (formats && !html)
        return nc_cli_usage("report", "--format says how to write the figures of --html OUT");
    if (formats && !formats_ok(formats))
        return nc_cli_usage("report", "--format '%s': expected a list of svg, png, pdf (e.g. "
                            "svg,png)", formats);
    return report(dirs, n, html, formats ? formats : "svg", json);
}

const nc_cli_command nc_cli_report = {
    .name = "report",
    .synopsis = "report DIR... [--html OUT] [--format svg,png,pdf] [--json]",
    .summary = "show what a run found, its figures; compare runs (also while they run)",
    .help =
        "Reads DIR/results.db read-only and prints the generations (evaluated,\n"
        "failed, front size, best accuracy, hypervolume) and the Pareto table\n"
        "(as `nascaps run` does at its end). Safe while the run goes on.\n"
        "\n"
        "With several DIRs: one common hypervolume normalisation over all of\n"
        "them (printed), and a table of the runs; runs with different\n"
        "objectives or datasets are refused.\n"
        "\n"
        "Options:\n"
        "  --html OUT      write report.html (self-contained), every figure and\n"
        "                  its data as NAME.csv into OUT (docs/REPORT.md)\n"
        "  --format LIST   figure files for --html: svg, png, pdf (default svg)\n"
        "  --json          also print the report as one JSON line, with every\n"
        "                  figure's data under \"figures\"\n",
    .run = run,
};
