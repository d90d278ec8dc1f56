/* cli_run.h - shared by `nascaps run` and `nascaps report` (defined in
 * cmd_run.c). */
#ifndef NASCAPS_CLI_RUN_H
#define NASCAPS_CLI_RUN_H

#include "cli.h"
#include "nascaps/run.h"

/* The Pareto table on stdout: id, accuracy, energy, latency, memory,
 * params (and the stage-2 accuracy when there is one). */
void nc_cli_print_front(const nc_run_report *r);
/* The report as one JSON line on stdout. */
int nc_cli_print_report_json(const nc_run_report *r);
/* --workers N (or --workers=N) at argv[*i] becomes --set run.workers=N
 * (written into buf, which must outlive opt), so a resume compares it as
 * any other setting (one a resume may change). Returns 0 or 2 (usage). */
int nc_cli_take_workers(const char *cmd, int argc, char **argv, int *i, char *buf, size_t size,
                        nc_cli_options *opt);

/* Writes DIR's figures, their CSV and report.html into out_dir
 * (cmd_report.c; `nascaps run` calls it at the end of a run). */
int nc_cli_write_report(const char *dir, const char *out_dir, nc_error *err);

#endif
