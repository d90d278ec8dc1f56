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

/* ---- --settings: every setting of a plugin or section, from the tables
 * the validation reads (so the listing cannot drift) ------------------- */

/* One group of settings: a section path, who owns it, its tables. */
typedef struct group {
    char path[96];
    char owner[160];
    const nc_setting_spec *tables[3];
} group;

static void describe_default(const nc_setting_spec *e, char *buf, size_t size)
{
    snprintf(buf, size, "%s", e->default_text && strcmp(e->default_text, "-")
                                  ? e->default_text : "(none)");
}

static void print_group(const group *g)
{
    printf("%s%s%s (%s):\n", *g->path ? "[" : "", *g->path ? g->path : "top level",
           *g->path ? "]" : "", g->owner);
    int any = 0;
    for (int t = 0; g->tables[t]; t++)
        for (const nc_setting_spec *e = g->tables[t]; e->name; e++) {
            char range[256], def[128];
            nc_setting_describe(e, range, sizeof range);
            describe_default(e, def, sizeof def);
            printf("  %s%s%-18s %-34s default %s\n      %s%s%s%s\n", *g->path ? g->path : "",
                   *g->path ? "." : "", e->name, range, def, e->help ? e->help : "",
                   e->alias ? " (also read as " : "", e->alias ? e->alias : "",
                   e->alias ? ")" : "");
            any = 1;
        }
    if (!any)
        printf("  (no settings)\n");
}

static json_t *group_json(const group *g)
{
    json_t *keys = json_array();
    for (int t = 0; g->tables[t]; t++)
        for (const nc_setting_spec *e = g->tables[t]; e->name; e++) {
            static const char *const types[] = {"?", "integer", "number", "boolean",
                                                "string", "integer list", "string list",
                                                "number list"};
            char range[256], def[128];
            nc_setting_describe(e, range, sizeof range);
            describe_default(e, def, sizeof def);
            json_t *k = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", e->name, "type",
                                  e->type >= 1 && e->type <= 7 ? types[e->type] : "?",
                                  "range", range, "default", def, "help",
                                  e->help ? e->help : "");
            if (e->alias)
                json_object_set_new(k, "alias", json_string(e->alias));
            json_array_append_new(keys, k);
        }
    return json_pack("{s:s, s:s, s:o}", "section", g->path, "owner", g->owner, "settings",
                     keys);
}

/* The groups NAME selects (every group when NAME is NULL): a core section
 * by path ("training", "top"), a plugin section ("accelerator": the
 * plugin the pipeline names), or a plugin by name. */
static size_t collect_groups(nc_registry *reg, const nc_pipeline *p, const char *name,
                             group *out, size_t cap)
{
    size_t n = 0;
    const nc_settings_section *cs;
    for (size_t i = 0; (cs = nc_settings_section_at(i)) && n < cap; i++) {
        const char *label = *cs->path ? cs->path : "top";
        if (name && strcmp(name, label) != 0)
            continue;
        group *g = &out[n++];
        memset(g, 0, sizeof *g);
        snprintf(g->path, sizeof g->path, "%s", cs->path);
        snprintf(g->owner, sizeof g->owner, "%s", cs->owner);
        g->tables[0] = cs->table;
        if (strcmp(cs->path, "dataset") == 0)
            g->tables[1] = nc_plugin_key_settings(NC_KIND_DATASET);
    }
    static const int kinds[] = {NC_KIND_ACCELERATOR, NC_KIND_OPTIMIZER};
    for (size_t k = 0; k < 2 && n < cap; k++) {
        const char *path = nc_plugin_section_of(kinds[k]);
        if (name && strcmp(name, path) != 0)
            continue;
        group *g = &out[n++];
        memset(g, 0, sizeof *g);
        snprintf(g->path, sizeof g->path, "%s", path);
        snprintf(g->owner, sizeof g->owner, "nc_plugin_open; then the %s plugin named",
                 path);
        g->tables[0] = nc_plugin_key_settings(kinds[k]);
    }
    /* a section name also lists the plugin the pipeline names for it */
    for (int kind = NC_KIND_ACCELERATOR; name && kind <= NC_KIND_DATASET; kind++) {
        const char *path = nc_plugin_section_of(kind);
        nc_error err;
        const nc_plugin_info *info;
        const char *pname;
        if (!path || strcmp(name, path) != 0 || !(pname = nc_plugin_name_of(p, kind, &err)) ||
            nc_registry_find(reg, kind, pname, NULL, &info, &err) || n >= cap)
            continue;
        group *g = &out[n++];
        memset(g, 0, sizeof *g);
        snprintf(g->path, sizeof g->path, "%s", path);
        snprintf(g->owner, sizeof g->owner, "%s plugin %s (%s)", nc_plugin_kind_name(kind),
                 info->desc->name, info->file);
        g->tables[0] = info->settings;
    }
    for (size_t i = 0; i < nc_registry_count(reg) && n < cap; i++) {
        const nc_plugin_info *info = nc_registry_at(reg, i);
        if (info->shadowed || (name && strcmp(name, info->desc->name) != 0))
            continue;
        int kind = (int)info->desc->kind;
        group *g = &out[n++];
        memset(g, 0, sizeof *g);
        if (kind == NC_KIND_LAYER)
            snprintf(g->path, sizeof g->path, "layers.%s", info->desc->name);
        else
            snprintf(g->path, sizeof g->path, "%s", nc_plugin_section_of(kind));
        snprintf(g->owner, sizeof g->owner, "%s plugin %s (%s)", nc_plugin_kind_name(kind),
                 info->desc->name, info->file);
        g->tables[0] = info->settings;
    }
    return n;
}

static int print_settings(nc_registry *reg, const nc_pipeline *p, const char *name,
                          int json)
{
    group groups[64];
    size_t n = collect_groups(reg, p, name, groups, 64);
    if (n == 0) {
        const char *cands[128];
        size_t nc = 0;
        const nc_settings_section *cs;
        for (size_t i = 0; (cs = nc_settings_section_at(i)) && nc < 128; i++)
            cands[nc++] = *cs->path ? cs->path : "top";
        cands[nc++] = "accelerator";
        cands[nc++] = "optimizer";
        for (size_t i = 0; i < nc_registry_count(reg) && nc < 128; i++)
            cands[nc++] = nc_registry_at(reg, i)->desc->name;
        const char *near = nc_nearest_name(name, cands, nc);
        nc_cli_error("no plugin or section named '%s'%s%s%s", name, near ? " (did you mean '" : "",
                     near ? near : "", near ? "'?)" : "");
        return NC_ERR_INPUT;
    }
    if (json) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, group_json(&groups[i]));
        return nc_cli_print_json(json_pack("{s:o}", "settings", list));
    }
    for (size_t i = 0; i < n; i++) {
        if (i)
            printf("\n");
        print_group(&groups[i]);
    }
    return NC_OK;
}

static int run(int argc, char **argv)
{
    nc_cli_options opt = {0};
    int kind = 0, settings_mode = 0;
    const char *settings_name = NULL;
    for (int i = 1; i < argc; i++) {
        int taken = nc_cli_take_option("plugins", argc, argv, &i, &opt);
        if (taken < 0) {
            nc_cli_options_free(&opt);
            return NC_ERR_USAGE;
        }
        if (taken)
            continue;
        if (strcmp(argv[i], "--settings") == 0) {
            settings_mode = 1;
            if (i + 1 < argc && argv[i + 1] && argv[i + 1][0] != '-')
                settings_name = argv[++i];
            continue;
        }
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
    else if (settings_mode)
        rc = print_settings(reg, pipeline, settings_name, opt.json);
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
    "plugins [-c PIPELINE] [--set KEY=VALUE]... [--kind KIND] [--settings [NAME]] [--json]",
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
    "  --settings [NAME]   every setting (name, type and range, default, meaning)\n"
    "                      of a plugin or a section (training, dataset, top,\n"
    "                      search_space, ...; a plugin section also shows the\n"
    "                      plugin the pipeline names); all of them without NAME.\n"
    "                      The same tables the validation reads.\n"
    "  --json              one JSON object on one line\n",
    run,
};
