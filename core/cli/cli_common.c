/* cli_common.c - option parsing and set-up shared by the commands. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void nc_cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("nascaps: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int nc_cli_fail(const nc_error *err)
{
    nc_cli_error("%s", err->msg[0] ? err->msg : "failed (no message)");
    return err->status != NC_OK ? err->status : NC_ERR_INTERNAL;
}

int nc_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "nascaps %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'nascaps help %s')\n", cmd);
    return NC_ERR_USAGE;
}

int nc_cli_take_option(const char *cmd, int argc, char **argv, int *i,
                       nc_cli_options *opt)
{
    const char *a = argv[*i];
    const char *value = NULL;
    int takes_value = 0;

    if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
        strcmp(a, "--set") == 0)
        takes_value = 1;
    else if (strncmp(a, "--config=", 9) == 0)
        value = a + 9;
    else if (strncmp(a, "--set=", 6) == 0)
        value = a + 6;
    else if (strcmp(a, "--json") == 0) {
        opt->json = 1;
        return 1;
    } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
        opt->quiet = 1;
        return 1;
    } else
        return 0;

    if (takes_value) {
        if (*i + 1 >= argc) {
            nc_cli_usage(cmd, "option %s needs a value", a);
            return -1;
        }
        value = argv[++*i];
    }
    if (strncmp(a, "--set", 5) == 0) {
        if (!strchr(value, '=')) {
            nc_cli_usage(cmd, "--set takes KEY=VALUE, got '%s'", value);
            return -1;
        }
        const char **grown = realloc(opt->sets, (opt->n_sets + 1) * sizeof *grown);
        if (!grown) {
            nc_cli_error("out of memory");
            return -1;
        }
        opt->sets = grown;
        opt->sets[opt->n_sets++] = value;
    } else {
        if (opt->pipeline) {
            nc_cli_usage(cmd, "only one pipeline may be given (-c)");
            return -1;
        }
        opt->pipeline = value;
    }
    return 1;
}

void nc_cli_options_free(nc_cli_options *opt)
{
    free(opt->sets);
    opt->sets = NULL;
    opt->n_sets = 0;
}

int nc_cli_open(const nc_cli_options *opt, nc_pipeline **pipeline,
                nc_settings *settings, nc_registry **registry)
{
    nc_error err;
    nc_error_clear(&err);
    *pipeline = NULL;
    *registry = NULL;
    memset(settings, 0, sizeof *settings);
    nc_session *s;
    if (nc_session_open(opt->pipeline, opt->sets, opt->n_sets, &s, &err))
        return nc_cli_fail(&err);
    if (opt->check && nc_session_check(s, NULL, &err)) {
        nc_session_free(s);
        return nc_cli_fail(&err);
    }
    *pipeline = s->pipeline;
    *settings = s->settings;
    *registry = s->registry;
    free(s);   /* the parts are the caller's now */
    return NC_OK;
}

void nc_cli_duration(double s, char *buf, size_t size)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, size, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, size, "%lds", t);
}

int nc_cli_print_json(json_t *root)
{
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (!text) {
        nc_cli_error("out of memory");
        return NC_ERR_INTERNAL;
    }
    printf("%s\n", text);
    free(text);
    return NC_OK;
}
