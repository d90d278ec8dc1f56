/* cmd_plugins.c - `nascaps plugins`: what is found, from where, refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static int kind_from_name(const char *name)
{
    for (int k = NC_KIND_LAYER; k <= NC_KIND_DATASET; k++)
        if (strcmp(nc_plugin_kind_name(k), name) == 0)
            return k;
    return 0;
}

static void print_table(const nc_registry *reg, int kind)
{
    printf("%-12s %-12s %-8s %-5s %-10s %-40s %s\n", "NAME", "KIND", "VERSION",
           "ABI", "ORIGIN", "FILE", "SUMMARY");
    for (size_t i = 0; i < nc_registry_count(reg); i++) {
        const nc_plugin_info *p = nc_registry_at(reg, i);
        if (kind && p->desc->kind != kind)
            continue;
        char abi[32];
        snprintf(abi, sizeof abi, "%u.%u", (unsigned)p->desc->abi_major,
                 (unsigned)p->desc->abi_minor);
        printf("%-12s %-12s %-8s %-5s %-10s %-40s %s%s\n", p->desc->name,
               nc_plugin_kind_name(p->desc->kind),
               p->desc->version ? p->desc->version : "", abi, p->origin,
               p->file, p->shadowed ? "(shadowed) " : "",
               p->desc->summary ? p->desc->summary : "");
    }
    printf("\nsearch path:\n");
    for (size_t i = 0; nc_registry_dir_at(reg, i); i++)
        printf("  %s\n", nc_registry_dir_at(reg, i));
}

static int print_json(const nc_registry *reg, int kind)
{
    json_t *root = json_object(), *list = json_array(), *dirs = json_array(),
           *refused = json_array();
    for (size_t i = 0; i < nc_registry_count(reg); i++) {
        const nc_plugin_info *p = nc_registry_at(reg, i);
        if (kind && p->desc->kind != kind)
            continue;
        char abi[32];
        snprintf(abi, sizeof abi, "%u.%u", (unsigned)p->desc->abi_major,
                 (unsigned)p->desc->abi_minor);
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}",
            "name", p->desc->name, "kind", nc_plugin_kind_name(p->desc->kind),
            "version", p->desc->version ? p->desc->version : "", "abi", abi,
            "origin", p->origin, "file", p->file,
            "summary", p->desc->summary ? p->desc->summary : "",
            "shadowed", p->shadowed));
    }
    for (size_t i = 0; nc_registry_dir_at(reg, i); i++)
        json_array_append_new(dirs, json_string(nc_registry_dir_at(reg, i)));
    for (size_t i = 0; i < nc_registry_refusal_count(reg); i++)
        json_array_append_new(refused, json_string(nc_registry_refusal_at(reg, i)));
    json_object_set_new(root, "plugins", list);
    json_object_set_new(root, "search_path", dirs);
    json_object_set_new(root, "refused", refused);
    return nc_cli_print_json(root);
}

static int run(int argc, char **argv)
{
    nc_cli_options opt = {0};
    int kind = 0;
    for (int i = 1; i < argc; i++) {
        int taken = nc_cli_take_option("plugins", argc, argv, &i, &opt);
        if (taken < 0) {
            nc_cli_options_free(&opt);
            return NC_ERR_USAGE;
        }
        if (taken)
            continue;
        if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc) {
            kind = kind_from_name(argv[++i]);
            if (!kind) {
                nc_cli_options_free(&opt);
                return nc_cli_usage("plugins", "--kind takes layer, accelerator, "
                                    "optimizer or dataset, got '%s'", argv[i]);
            }
            continue;
        }
        nc_cli_options_free(&opt);
        return nc_cli_usage("plugins", "unexpected argument '%s'", argv[i]);
    }

    nc_pipeline *pipeline;
    nc_settings settings;
    nc_registry *reg;
    int rc = nc_cli_open(&opt, &pipeline, &settings, &reg);
    if (rc) {
        nc_cli_options_free(&opt);
        return rc;
    }
    nc_error err;
    nc_error_clear(&err);
    if (nc_registry_scan(reg, &err))
        rc = nc_cli_fail(&err);
    else {
        /* refusals are reported, not fatal: the rest still works */
        for (size_t i = 0; i < nc_registry_refusal_count(reg); i++)
            nc_cli_error("refused: %s", nc_registry_refusal_at(reg, i));
        rc = opt.json ? print_json(reg, kind) : (print_table(reg, kind), NC_OK);
    }
    nc_registry_free(reg);
    nc_settings_free(&settings);
    nc_pipeline_free(pipeline);
    nc_cli_options_free(&opt);
    return rc;
}

const nc_cli_command nc_cli_plugins = {
    "plugins",
    "plugins [-c PIPELINE] [--set KEY=VALUE]... [--kind KIND] [--json]",
    "list every plugin found: name, kind, version, ABI, file, summary",
    "Scans the plugin search path, in this order: the pipeline's plugin_path,\n"
    "$NASCAPS_PLUGIN_PATH (colon-separated), the build tree (when nascaps runs\n"
    "from it), the installed plugin folder next to libnascaps. The first plugin\n"
    "of a kind and name wins; later ones are listed as (shadowed). Files that\n"
    "cannot be used are reported on stderr, one line each, with the reason.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   pipeline whose plugin_path to search first\n"
    "  --set KEY=VALUE     override a pipeline setting (repeatable)\n"
    "  --kind KIND         only layer, accelerator, optimizer or dataset plugins\n"
    "  --json              one JSON object on one line\n",
    run,
};
