/* cmd_correlate.c - `nascaps correlate`: how early accuracy predicts full
 * training (docs/CORRELATE.md). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli_train.h"
#include "cli_run.h"
#include "nascaps/correlate.h"

/* Exit status of a study stopped by SIGINT/SIGTERM (resumable), as run. */
#define EXIT_STOPPED 130

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void on_progress(const nc_correlate_progress *p, void *user)
{
    const int *quiet = user;
    if (p->note) {
        fprintf(stderr, "nascaps correlate: %s\n", p->note);
        return;
    }
    if (*quiet)
        return;
    char acc[32] = "-";
    if (isfinite(p->accuracy))
        snprintf(acc, sizeof acc, "%.4f", p->accuracy);
    fprintf(stderr, "candidate %d/%d %s: %s, accuracy %s, %.1f s training%s\n", p->index,
            p->total, p->id, p->status, acc, isfinite(p->train_seconds) ? p->train_seconds : 0.0,
            p->cached ? " (stored)" : "");
    fflush(stderr);
}

/* v with the given decimals, or "n/a". */
static const char *num(double v, int decimals, char *buf, size_t size)
{
    if (isfinite(v))
        snprintf(buf, size, "%.*f", decimals, v);
    else
        snprintf(buf, size, "n/a");
    return buf;
}

static void print_table(const nc_correlate_result *r, const char *dir)
{
    static const char *const why[] = {"time_limit", "diverged", "refused", "invalid",
                                      "epochs missing"};
    printf("%d candidates, %d used, %d failed", r->candidates, r->used, r->failed);
    for (int i = 0, first = 1; i < 5; i++)
        if (r->failed_by[i]) {
            printf("%s%s %d", first ? " (" : ", ", why[i], r->failed_by[i]);
            first = 0;
        }
    printf("%s; %d epochs; accuracy on the %s split\n",
           r->failed ? ")" : "", r->epochs, r->validation ? "validation" : "test");
    printf("%5s %4s %9s %-19s %9s %12s\n", "epoch", "n", "pearson_r", "95% CI", "spearman",
           "median_cum_s");
    for (int e = 0; e < r->epochs; e++) {
        const nc_correlate_row *w = &r->rows[e];
        char a[32], b[32], c[32], d[32], t[32], ci[64];
        num(w->pearson, 4, a, sizeof a);
        if (isfinite(w->ci_lo))
            snprintf(ci, sizeof ci, "[%s, %s]", num(w->ci_lo, 4, b, sizeof b),
                     num(w->ci_hi, 4, c, sizeof c));
        else
            snprintf(ci, sizeof ci, "n/a");
        printf("%5d %4d %9s %-19s %9s %12s\n", w->epoch, w->n, a, ci,
               num(w->spearman, 4, d, sizeof d), num(w->median_seconds, 1, t, sizeof t));
    }
    if (r->recommended)
        printf("recommended training.epochs: %d (the first epoch with r >= %.4g)\n",
               r->recommended, r->target_r);
    else
        printf("recommended training.epochs: none (r never reaches %.4g in %d epochs)\n",
               r->target_r, r->epochs);
    printf("written: %s/correlation.csv\n", dir);
}

static json_t *real_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *result_json(const nc_correlate_result *r, const char *dir)
{
    json_t *rows = json_array();
    for (int e = 0; rows && e < r->epochs; e++) {
        const nc_correlate_row *w = &r->rows[e];
        json_array_append_new(
            rows, json_pack("{s:i, s:i, s:o, s:[oo], s:o, s:o}", "epoch", w->epoch, "n", w->n,
                            "pearson_r", real_or_null(w->pearson), "ci95",
                            real_or_null(w->ci_lo), real_or_null(w->ci_hi), "spearman_rho",
                            real_or_null(w->spearman), "median_cumulative_s",
                            real_or_null(w->median_seconds)));
    }
    json_t *failed = json_pack("{s:i, s:i, s:i, s:i, s:i}", "time_limit", r->failed_by[0],
                               "diverged", r->failed_by[1], "refused", r->failed_by[2],
                               "invalid", r->failed_by[3], "epochs_missing", r->failed_by[4]);
    json_t *root = json_pack("{s:i, s:i, s:i, s:o, s:i, s:i, s:i, s:f, s:s, s:o}", "candidates",
                             r->candidates, "used", r->used, "failed", r->failed, "failed_by",
                             failed, "trained", r->trained, "stored", r->cached, "epochs",
                             r->epochs, "target_r", r->target_r, "split",
                             r->validation ? "validation" : "test", "rows", rows);
    if (root) {
        json_object_set_new(root, "recommended_epochs",
                            r->recommended ? json_integer(r->recommended) : json_null());
        char csv[NC_PATH_MAX + 32];
        snprintf(csv, sizeof csv, "%s/correlation.csv", dir);
        json_object_set_new(root, "csv", json_string(csv));
    }
    return root;
}

/* Parses --target-r into cfg. */
static int parse_target(const char *value, double *out)
{
    char *end;
    double v = strtod(value, &end);
    if (!*value || *end || !(v > 0.0 && v <= 1.0))
        return nc_cli_usage("correlate", "--target-r takes a number in (0, 1], got '%s'", value);
    *out = v;
    return NC_OK;
}

static int run(int argc, char **argv)
{
    char workers_set[64];
    nc_cli_options opt = {0};
    const char *target = NULL;
    int rc = NC_OK, n_files = 0;
    const char **files = calloc((size_t)argc, sizeof *files);
    if (!files) {
        nc_cli_error("out of memory");
        return NC_ERR_INTERNAL;
    }
    for (int i = 1; i < argc && rc == NC_OK; i++) {
        const char *a = argv[i];
        size_t len = strlen(a);
        if (a[0] != '-' || a[1] == '\0') {
            if (len > 4 && !strcmp(a + len - 4, ".chr"))
                files[n_files++] = a;
            else if (opt.pipeline)
                rc = nc_cli_usage("correlate", "one pipeline at a time ('%s' and '%s')",
                                  opt.pipeline, a);
            else
                opt.pipeline = a;
            continue;
        }
        if (!strcmp(a, "--workers") || !strncmp(a, "--workers=", 10)) {
            rc = nc_cli_take_workers("correlate", argc, argv, &i, workers_set,
                                     sizeof workers_set, &opt);
            continue;
        }
        int taken = nc_cli_take_option("correlate", argc, argv, &i, &opt);
        if (taken < 0)
            rc = NC_ERR_USAGE;
        else if (!taken &&
                 !nc_cli_take_value("correlate", "--target-r", argc, argv, &i, &target, &rc))
            rc = nc_cli_usage("correlate", "unknown option '%s'", a);
    }
    nc_correlate_opts copt;
    memset(&copt, 0, sizeof copt);
    if (rc == NC_OK && !opt.pipeline)
        rc = nc_cli_usage("correlate", "no pipeline given");
    if (rc == NC_OK && target)
        rc = parse_target(target, &copt.cfg.target_r);
    if (rc) {
        nc_cli_options_free(&opt);
        free(files);
        return rc;
    }
    nc_pipeline *pipeline;
    nc_settings settings;
    nc_registry *reg;
    opt.check = 1;   /* what `nascaps validate` checks, in the same calls */
    if ((rc = nc_cli_open(&opt, &pipeline, &settings, &reg))) {
        nc_cli_options_free(&opt);
        free(files);
        return rc;
    }
    nc_error err;
    nc_error_clear(&err);
    double target_r = copt.cfg.target_r;
    nc_correlate_result res;
    memset(&res, 0, sizeof res);
    if ((rc = nc_correlate_cfg_read(pipeline, &copt.cfg, &err))) {
        rc = nc_cli_fail(&err);
        goto out;
    }
    if (target)
        copt.cfg.target_r = target_r;
    copt.files = files;
    copt.n_files = n_files;
    copt.stop = &stop_flag;
    copt.progress = on_progress;
    copt.user = &opt.quiet;

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;   /* a second Ctrl-C ends it at once: the store stays consistent */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = nc_correlate(reg, pipeline, &settings, &copt, &res, &err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc) {
        rc = nc_cli_fail(&err);
        goto out;
    }
    if (res.mpi_worker)
        goto out;   /* an MPI worker rank: rank 0 reports */
    if (res.stopped) {
        fprintf(stderr, "nascaps correlate: stopped: run the same command again to resume "
                        "(%d trained now)\n",
                res.trained);
        rc = EXIT_STOPPED;
        goto out;
    }
    fprintf(stderr, "nascaps correlate: %d trained now, %d found in %s/results.db\n",
            res.trained, res.cached, settings.output_dir);
    print_table(&res, settings.output_dir);
    if (opt.json)
        rc = nc_cli_print_json(result_json(&res, settings.output_dir));
    if (fflush(stdout) != 0 && rc == NC_OK) {
        nc_cli_error("cannot write the output");
        rc = NC_ERR_INTERNAL;
    }
out:
    nc_correlate_result_free(&res);
    nc_registry_free(reg);
    nc_settings_free(&settings);
    nc_pipeline_free(pipeline);
    nc_cli_options_free(&opt);
    free(files);
    return rc;
}

const nc_cli_command nc_cli_correlate = {
    .name = "correlate",
    .synopsis = "correlate PIPELINE [--set KEY=VALUE]... [--target-r R] [--workers N] [--json] "
                "[--quiet] [FILE.chr...]",
    .summary = "how early accuracy predicts full training: choose training.epochs",
    .help =
        "The paper's study (Section 4.2, Table 2; docs/CORRELATE.md): trains\n"
        "correlate.samples random genotypes of the pipeline's search space (and\n"
        "any FILE.chr given, first) for correlate.epochs = E epochs each, keeping\n"
        "the accuracy after every epoch and the training time in\n"
        "output.dir/results.db. Then, per epoch e, over the candidates that\n"
        "trained (failed ones are counted and left out):\n"
        "\n"
        "  pearson_r     Pearson's r between the accuracy after e and after E\n"
        "  95% CI        Fisher's z interval (n >= 4)\n"
        "  spearman      Spearman's rho (average ranks for ties)\n"
        "  median_cum_s  median cumulative training seconds after e epochs\n"
        "\n"
        "and the smallest e whose r reaches the target: the recommended\n"
        "training.epochs for a search on that dataset. n/a: undefined (constant\n"
        "accuracies, too few candidates). The same table goes to\n"
        "output.dir/correlation.csv (undefined values empty).\n"
        "\n"
        "Running the same command again resumes (after Ctrl-C or a kill) and\n"
        "trains only what is not in the store; raising correlate.samples adds\n"
        "candidates, the first ones staying the same. Evaluations are keyed like\n"
        "a search's, so a search of E epochs in the same folder shares them.\n"
        "\n"
        "Options:\n"
        "  -c, --config FILE   the pipeline (or as the first argument)\n"
        "  --set KEY=VALUE     override a setting, e.g. --set correlate.samples=20\n"
        "  --target-r R        the r to reach (default correlate.target_r, 0.95)\n"
        "  --json              also print one JSON object on the last line of stdout\n"
        "  --workers N         train with N local worker processes (run.workers;\n"
        "                      docs/SCALE.md); under mpirun/srun the ranks are the workers\n"
        "  --quiet, -q         no per-candidate lines on stderr\n"
        "\n"
        "Ctrl-C (SIGINT) or SIGTERM stops within one training batch and exits\n"
        "with status 130.\n",
    .run = run,
};
