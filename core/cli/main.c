/* main.c - `nascaps`: dispatch to a command. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nascaps/plugin.h"

static const nc_cli_command *const commands[] = {
    &nc_cli_plugins,
    &nc_cli_validate,
    &nc_cli_estimate,
    &nc_cli_train,
    &nc_cli_evaluate,
    &nc_cli_run,
    &nc_cli_report,
    &nc_cli_adapt,
    &nc_cli_correlate,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const char exit_codes[] =
    "Exit status:\n"
    "  0  success\n"
    "  1  bad input: a pipeline, genotype, data file or plugin was refused\n"
    "  2  usage: the command line was wrong\n"
    "  3  internal: out of memory, an I/O failure, a bug\n"
    "  130  stopped by Ctrl-C (run, correlate: the same command resumes)\n";

static void print_version(void)
{
    printf("nascaps %s (plugin ABI %d.%d)\n", NC_VERSION_STRING, NC_ABI_MAJOR,
           NC_ABI_MINOR);
}

static void print_help(FILE *out)
{
    fprintf(out,
            "usage: nascaps COMMAND [OPTIONS] [ARGS]\n"
            "\n"
            "Hardware-aware neural architecture search of capsule networks.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "  %-10s %s\n", "help", "show the help of a command");
    fprintf(out, "  %-10s %s\n", "help plugin NAME",
            "the settings of a plugin or section (= plugins --settings NAME)");
    fprintf(out,
            "\n"
            "Options:\n"
            "  -h, --help     this text\n"
            "  -V, --version  the version and plugin ABI\n"
            "\n"
            "Commands taking a pipeline accept -c FILE.cfg and --set KEY=VALUE\n"
            "(repeatable). 'nascaps help COMMAND' shows a command's options.\n"
            "\n%s",
            exit_codes);
}

static const nc_cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

static int help_command(const char *name)
{
    const nc_cli_command *cmd = find_command(name);
    if (!cmd) {
        nc_cli_error("no command '%s' (see 'nascaps --help')", name);
        return NC_ERR_USAGE;
    }
    printf("usage: nascaps %s\n\n%s\n%s%s", cmd->synopsis, cmd->summary,
           cmd->help[0] ? "\n" : "", cmd->help);
    printf("\n%s", exit_codes);
    return NC_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return NC_ERR_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
        print_help(stdout);
        return NC_OK;
    }
    if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0 ||
        strcmp(name, "version") == 0) {
        print_version();
        return NC_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            print_help(stdout);
            return NC_OK;
        }
        if (strcmp(argv[2], "plugin") == 0 || strcmp(argv[2], "settings") == 0) {
            /* nascaps help plugin NAME = nascaps plugins --settings NAME */
            char *args[4] = {"plugins", "--settings", argc > 3 ? argv[3] : NULL, NULL};
            return nc_cli_plugins.run(argc > 3 ? 3 : 2, args);
        }
        return help_command(argv[2]);
    }
    const nc_cli_command *cmd = find_command(name);
    if (!cmd) {
        nc_cli_error("unknown command '%s' (see 'nascaps --help')", name);
        return NC_ERR_USAGE;
    }
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return help_command(name);
    return cmd->run(argc - 1, argv + 1);
}
