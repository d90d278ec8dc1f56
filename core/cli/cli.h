/* cli.h - the `nascaps` command: a thin layer over libnascaps.
 *
 * Each command lives in its own cmd_NAME.c and exports an nc_cli_command.
 * Commands print results on stdout, messages on stderr, and return an
 * exit code (nc_status: 0 ok, 1 bad input, 2 usage, 3 internal). */
#ifndef NASCAPS_CLI_H
#define NASCAPS_CLI_H

#include <stddef.h>

#include <jansson.h>

#include "nascaps/error.h"
#include "nascaps/pipeline.h"
#include "nascaps/registry.h"
#include "nascaps/session.h"

typedef struct nc_cli_command {
    const char *name;
    const char *synopsis;   /* one line: "estimate [-c PIPELINE] ... FILE.chr..." */
    const char *summary;    /* one line for `nascaps --help` */
    const char *help;       /* full text for `nascaps help NAME` (options, exit codes) */
    int (*run)(int argc, char **argv);   /* argv[0] is the command name */
} nc_cli_command;

extern const nc_cli_command nc_cli_plugins;
extern const nc_cli_command nc_cli_validate;
extern const nc_cli_command nc_cli_estimate;
extern const nc_cli_command nc_cli_train;
extern const nc_cli_command nc_cli_evaluate;
extern const nc_cli_command nc_cli_run;
extern const nc_cli_command nc_cli_report;
extern const nc_cli_command nc_cli_adapt;
extern const nc_cli_command nc_cli_correlate;

/* Prints "nascaps: MESSAGE" on stderr. */
void nc_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints root compactly on one line of stdout (the --json contract: the
 * last line) and releases it; NC_ERR_INTERNAL when it cannot be encoded. */
int nc_cli_print_json(json_t *root);
/* Prints err's message and returns its status as the exit code. */
int nc_cli_fail(const nc_error *err);
/* Prints "nascaps CMD: MESSAGE" and "see 'nascaps help CMD'"; returns 2. */
int nc_cli_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A duration for progress lines: "42s", "3m05s", "2h10m"; "?" when s is
 * not a finite non-negative number. */
void nc_cli_duration(double s, char *buf, size_t size);

/* Options most commands share: -c/--config PIPELINE, --set KEY=VALUE
 * (repeatable), --json, --quiet. */
typedef struct nc_cli_options {
    const char *pipeline;     /* NULL: built-in defaults */
    const char **sets;        /* argv-borrowed "KEY=VALUE" strings */
    size_t n_sets;
    int json, quiet;
    /* nc_cli_open also runs nc_session_check: the checks `nascaps
     * validate` makes (set by run, train and correlate). */
    int check;
} nc_cli_options;

/* Consumes a shared option at argv[*i] (advancing *i past its value);
 * returns 1 when consumed, 0 when argv[*i] is not a shared option, -1 on a
 * usage error (already printed). */
int nc_cli_take_option(const char *cmd, int argc, char **argv, int *i,
                       nc_cli_options *opt);
void nc_cli_options_free(nc_cli_options *opt);

/* Opens the session of opt (nc_session_open: the pipeline with --set,
 * every setting read by its owner, a registry with plugin_path). On
 * failure prints the message and returns the exit code; on success
 * returns 0 and the caller frees all three. */
int nc_cli_open(const nc_cli_options *opt, nc_pipeline **pipeline,
                nc_settings *settings, nc_registry **registry);

#endif
