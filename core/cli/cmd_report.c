/* cmd_report.c - `nascaps report DIR`: what a run found, read from its
 * results.db (read-only, also while the run goes on). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_run.h"
#include "nascaps/run.h"

static int run(int argc, char **argv)
{
    const char *dir = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json"))
            json = 1;
        else if (a[0] == '-' && a[1] != '\0')
            return nc_cli_usage("report", "unknown option '%s'", a);
        else if (dir)
            return nc_cli_usage("report", "one output folder at a time ('%s' and '%s')", dir, a);
        else
            dir = a;
    }
    if (!dir)
        return nc_cli_usage("report", "no output folder given");
    nc_error err;
    nc_error_clear(&err);
    nc_run_report *r = NULL;
    if (nc_report_load(dir, &r, &err))
        return nc_cli_fail(&err);
    printf("%s: %d generation%s%s, %" PRId64 " evaluations (%" PRId64 " failed)\n", dir,
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
    int rc = json ? nc_cli_print_report_json(r) : NC_OK;
    nc_report_free(r);
    if (fflush(stdout) != 0 && rc == NC_OK) {
        nc_cli_error("cannot write the output");
        rc = NC_ERR_INTERNAL;
    }
    return rc;
}

const nc_cli_command nc_cli_report = {
    .name = "report",
    .synopsis = "report DIR [--json]",
    .summary = "show what a run found (also while it runs)",
    .help =
        "Reads DIR/results.db read-only and prints the generations (evaluated,\n"
        "failed, front size, best accuracy, hypervolume) and the Pareto table\n"
        "(as `nascaps run` does at its end). Safe while the run goes on.\n"
        "\n"
        "Options:\n"
        "  --json    also print the report as one JSON line (as pareto.json)\n",
    .run = run,
};
