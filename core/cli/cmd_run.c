/* cmd_run.c - `nascaps run`: the search, and `nascaps report`'s table. */
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_run.h"
#include "nascaps/run.h"

/* Exit status of a run stopped by SIGINT/SIGTERM (resumable). */
#define EXIT_STOPPED 130

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* "%.4f" (accuracy, general = 0) or "%.6g" (general = 1); "-" unmeasured. */
static const char *fixed(double v, int general, char *buf, size_t size)
{
    if (isfinite(v) && general)
        snprintf(buf, size, "%.6g", v);
    else if (isfinite(v))
        snprintf(buf, size, "%.4f", v);
    else
        snprintf(buf, size, "-");
    return buf;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "87" for 0.87; "-" unknown. */
static const char *percent(double v, char *buf, size_t size)
{
    if (isfinite(v))
        snprintf(buf, size, "%.0f", 100.0 * (v < 0 ? 0 : v > 1 ? 1 : v));
    else
        snprintf(buf, size, "-");
    return buf;
}

typedef struct run_view {
    int quiet;
} run_view;

static void on_progress(const nc_run_progress *p, void *user)
{
    const run_view *v = user;
    char a[32], b[32], c[32], d[32], e[32] = "", f[32];
    switch (p->phase) {
    case NC_RUN_NOTE:
        fprintf(stderr, "nascaps run: %s\n", p->note);
        break;
    case NC_RUN_CANDIDATE:
        if (!v->quiet && p->worker)
            fprintf(stderr, "  candidate %d of generation %d: %s %s accuracy %s (%s, %.1f s)\n",
                    p->evaluated, p->generation + 1, p->id, p->status,
                    fixed(p->accuracy, 0, a, sizeof a), p->worker, p->seconds);
        else if (!v->quiet)
            fprintf(stderr, "  candidate %d of generation %d: %s %s accuracy %s (stored)\n",
                    p->evaluated, p->generation + 1, p->id, p->status,
                    fixed(p->accuracy, 0, a, sizeof a));
        break;
    case NC_RUN_GENERATION:
        nc_cli_duration(p->elapsed_s, c, sizeof c);
        nc_cli_duration(p->eta_s, d, sizeof d);
        if (p->planned > 0)
            snprintf(e, sizeof e, "/%d", p->planned);
        fprintf(stderr,
                "generation %d%s: evaluated %d (%d cached), failed %d, front %d, best accuracy "
                "%s, hypervolume %s, workers busy %s%%, elapsed %s, ETA %s\n",
                p->generation, e, p->evaluated,
                p->cached, p->failed, p->front_size, fixed(p->best_accuracy, 0, a, sizeof a),
                fixed(p->hypervolume, 1, b, sizeof b),
                percent(p->utilisation, f, sizeof f),
                c, d);
        break;
    case NC_RUN_FINAL_EPOCH:
        if (!v->quiet && p->worker)
            fprintf(stderr, "stage 2: %s epoch %d/%d test accuracy %s (%s, %.1f s)\n", p->id,
                    p->epoch, p->epochs, fixed(p->accuracy, 0, a, sizeof a), p->worker,
                    p->seconds);
        else if (!v->quiet)
            fprintf(stderr, "stage 2: %s epoch %d/%d test accuracy %s\n", p->id, p->epoch,
                    p->epochs, fixed(p->accuracy, 0, a, sizeof a));
        break;
    }
    fflush(stderr);
}

void nc_cli_print_front(const nc_run_report *r)
{
    int final = 0;
    for (int i = 0; i < r->n_front; i++)
        final |= r->front[i].final_epochs > 0;
    printf("%-12s  %8s  %12s  %12s  %12s  %10s%s\n", "id", "accuracy", "energy_mJ",
           "latency_ms", "memory_KiB", "params", final ? "  final_accuracy" : "");
    for (int i = 0; i < r->n_front; i++) {
        const nc_front_member *m = &r->front[i];
        char a[32], f[32];
        printf("%-12s  %8s  %12.6g  %12.6g  %12.6g  %10" PRId64, m->id,
               fixed(m->accuracy, 0, a, sizeof a), m->energy_mj, m->latency_ms,
               m->memory_kib, m->params);
        if (final)
            printf("  %14s", fixed(m->final_test_accuracy, 0, f, sizeof f));
        printf("\n");
    }
}

int nc_cli_print_report_json(const nc_run_report *r)
{
    char *json = nc_report_json(r);
    if (!json) {
        nc_cli_error("out of memory");
        return NC_ERR_INTERNAL;
    }
    printf("%s\n", json);
    free(json);
    return NC_OK;
}

int nc_cli_take_workers(const char *cmd, int argc, char **argv, int *i, char *buf, size_t size,
                        nc_cli_options *opt)
{
    const char *v = strchr(argv[*i], '=') ? strchr(argv[*i], '=') + 1
                    : *i + 1 < argc          ? argv[++*i]
                                             : NULL;
    char *end = NULL;
    long n = v ? strtol(v, &end, 10) : -1;
    if (!v || end == v || *end || n < 0 || n > 1024)
        return nc_cli_usage(cmd, "--workers expects a number of processes 0..1024, got '%s'",
                            v ? v : "");
    snprintf(buf, size, "run.workers=%ld", n);
    const char **grown = realloc(opt->sets, (opt->n_sets + 1) * sizeof *grown);
    if (!grown)
        return nc_cli_usage(cmd, "out of memory");
    opt->sets = grown;
    opt->sets[opt->n_sets++] = buf;
    return NC_OK;
}

static int run(int argc, char **argv)
{
    nc_cli_options opt = {0};
    char workers_set[64];
    int force_new = 0, rc = NC_OK;
    for (int i = 1; i < argc && rc == NC_OK; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            if (opt.pipeline)
                rc = nc_cli_usage("run", "one pipeline at a time ('%s' and '%s')", opt.pipeline,
                                  a);
            opt.pipeline = a;
            continue;
        }
        if (!strcmp(a, "--force-new")) {
            force_new = 1;
            continue;
        }
        if (!strcmp(a, "--workers") || !strncmp(a, "--workers=", 10)) {
            rc = nc_cli_take_workers("run", argc, argv, &i, workers_set, sizeof workers_set,
                                     &opt);
            continue;
        }
        int taken = nc_cli_take_option("run", argc, argv, &i, &opt);
        if (taken < 0)
            rc = NC_ERR_USAGE;
        else if (!taken)
            rc = nc_cli_usage("run", "unknown option '%s'", a);
    }
    if (rc == NC_OK && !opt.pipeline)
        rc = nc_cli_usage("run", "no pipeline given");
    if (rc) {
        nc_cli_options_free(&opt);
        return rc;
    }
    nc_pipeline *pipeline;
    nc_settings settings;
    nc_registry *reg;
    opt.check = 1;   /* what `nascaps validate` checks, in the same calls */
    if ((rc = nc_cli_open(&opt, &pipeline, &settings, &reg))) {
        nc_cli_options_free(&opt);
        return rc;
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;   /* a second Ctrl-C ends it at once: the store stays consistent */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    run_view view = {opt.quiet};
    nc_run_opts ropt;
    nc_run_opts_defaults(&ropt);
    ropt.force_new = force_new;
    ropt.stop = &stop_flag;
    ropt.progress = on_progress;
    ropt.user = &view;
    nc_run_outcome out;
    nc_error err;
    nc_error_clear(&err);
    nc_run_report *report = NULL;
    double t0 = now_s();
    rc = nc_run(reg, pipeline, &settings, &ropt, &out, &err);
    if (rc == NC_OK && out.mpi_worker)
        goto out;   /* an MPI worker rank: rank 0 reports */
    if (rc ||
        (rc = nc_report_load(settings.output_dir, &report, &err))) {
        rc = nc_cli_fail(&err);
        goto out;
    }
    nc_cli_print_front(report);
    double hours = (now_s() - t0) / 3600.0;
    char rate[48] = "";
    if (out.trained > 0 && hours > 0)
        snprintf(rate, sizeof rate, ", %.0f candidates per hour", (double)out.trained / hours);
    fprintf(stderr,
            "nascaps run: %d generation%s, %" PRId64 " evaluations (%" PRId64
            " trained now%s), front of %d in %s/pareto.csv\n",
            out.generations, out.generations == 1 ? "" : "s", out.evaluations, out.trained,
            rate, report->n_front, settings.output_dir);
    /* the page to open (also after Ctrl-C); a failure here loses nothing */
    char page[NC_PATH_MAX + 16];
    snprintf(page, sizeof page, "%s/report", settings.output_dir);
    if (nc_cli_write_report(settings.output_dir, page, &err))
        fprintf(stderr, "nascaps run: warning: no report.html: %s\n", err.msg);
    else
        fprintf(stderr, "nascaps run: report in %s/report.html\n", page);
    if (opt.json)
        rc = nc_cli_print_report_json(report);
    if (out.stopped && rc == NC_OK)
        rc = EXIT_STOPPED;
    if (fflush(stdout) != 0 && rc == NC_OK) {
        nc_cli_error("cannot write the output");
        rc = NC_ERR_INTERNAL;
    }
out:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    nc_report_free(report);
    nc_registry_free(reg);
    nc_settings_free(&settings);
    nc_pipeline_free(pipeline);
    nc_cli_options_free(&opt);
    return rc;
}

const nc_cli_command nc_cli_run = {
    .name = "run",
    .synopsis = "run PIPELINE [--set KEY=VALUE]... [--workers N] [--force-new] [--json] [--quiet]",
    .summary = "search: evaluate candidates, keep results in output.dir, resume",
    .help =
        "Runs the search the pipeline describes (docs/RUN.md): the optimizer asks\n"
        "for genotypes, each is trained (training.*, when accuracy_drop is an\n"
        "objective) and costed on the accelerator, and every result goes into\n"
        "output.dir/results.db. Then, when final_training.epochs > 0, the final\n"
        "Pareto front is trained that long (stage 2, weights in front/).\n"
        "\n"
        "Running the same command again resumes where the run stopped (after\n"
        "Ctrl-C, a kill or a crash); raising optimizer.generations continues a\n"
        "finished search. A different pipeline on an existing folder is refused.\n"
        "\n"
        "Per generation on stderr: evaluated, failed, front size, best accuracy,\n"
        "hypervolume, elapsed, ETA. At the end the Pareto table on stdout, and\n"
        "pareto.csv, pareto.json, hypervolume.csv, front/<id>.chr in output.dir.\n"
        "\n"
        "Options:\n"
        "  -c, --config FILE   the pipeline (or as the first argument)\n"
        "  --set KEY=VALUE     override a setting, e.g. --set optimizer.generations=30\n"
        "  --workers N         evaluate with N local worker processes (run.workers;\n"
        "                      docs/SCALE.md); under mpirun/srun the ranks are the workers\n"
        "  --force-new         start a new database; the old one becomes results.db.N\n"
        "  --json              also print the report as one JSON line (as pareto.json)\n"
        "  --quiet, -q         no per-candidate lines on stderr\n"
        "\n"
        "Ctrl-C (SIGINT) or SIGTERM stops cleanly (within one training batch) and\n"
        "exits with status 130; the run resumes from there.\n",
    .run = run,
};
