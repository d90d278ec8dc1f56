/* cmd_validate.c - `nascaps validate FILE...`: check pipelines (core
 * settings, plugins and their sections, the dataset) and genotypes
 * (shapes, parameters and MACs per layer) without running anything. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "nascaps/accelerator.h"
#include "nascaps/dataset.h"
#include "nascaps/genotype.h"
#include "nascaps/network.h"
#include "nascaps/optimizer.h"

static const char synopsis[] =
    "validate [--set KEY=VALUE]... [--json] [--quiet] FILE...";
static const char summary[] =
    "check pipelines (.cfg) and genotypes (.chr, .json) without running them";
static const char help[] =
    "For a pipeline FILE.cfg: loads it with the --set overrides, validates\n"
    "every core setting, finds the dataset, accelerator and optimizer\n"
    "plugins (plugin_path first), checks each plugin section against the\n"
    "settings the plugin knows, opens the dataset (shape, classes, counts)\n"
    "and creates the accelerator.\n"
    "For a genotype FILE.chr or FILE.json: validates it and prints each layer\n"
    "(gene, role, plugin, input and output shape HxWxchannels x capsule dim,\n"
    "parameters, MACs) and the totals.\n"
    "\n"
    "Options:\n"
    "  --set KEY=VALUE  override a pipeline setting (repeatable), e.g.\n"
    "                   --set training.epochs=2 --set dataset.plugin=svhn\n"
    "  --json           also print one JSON object on the last line of stdout\n"
    "  --quiet, -q      print only failures (and the JSON)\n"
    "\n"
    "Every file is checked; each failure is one line on stderr. The exit\n"
    "status is 0 when every file is valid, 1 when any is not.\n";

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* What a check prints on success goes to a memory stream first: a failing
 * file shows only its error line. */
typedef struct report {
    char *text;
    size_t len;
    FILE *out;
} report;

static int json_set(json_t *obj, const char *key, json_t *value)
{
    return json_object_set_new(obj, key, value);
}

static json_t *plugin_json(const nc_plugin_info *info)
{
    return json_pack("{s:s, s:s, s:s}", "plugin", info->desc->name, "version",
                     info->desc->version ? info->desc->version : "",
                     "file", info->file ? info->file : "");
}

/* What nc_session_check found: the dataset, the accelerator, the
 * optimizer, the objectives and the output folder. */
static void print_facts(const nc_session *se, const nc_session_facts *f,
                        FILE *out, json_t *jfile)
{
    const nc_settings *s = &se->settings;
    const nc_data_summary *d = &f->data;
    static const char *const norms[] = {"none", "standard"};
    const char *norm = d->normalize >= 0 && d->normalize <= 1 ? norms[d->normalize] : "?";
    fprintf(out,
            "  dataset: %s: %s%s%dx%dx%d, %d classes, %" PRId64 " train, %" PRId64
            " test, normalize %s\n",
            d->plugin, d->description ? d->description : "",
            d->description && d->description[0] ? ", " : "", d->native_height,
            d->native_width, d->channels, d->classes,
            d->count[NC_DATA_TRAIN] + d->count[NC_DATA_VALIDATION],
            d->count[NC_DATA_TEST], norm);
    json_t *j = json_pack("{s:s}", "plugin", d->plugin);
    json_set(j, "description", json_string(d->description ? d->description : ""));
    json_set(j, "height", json_integer(d->native_height));
    json_set(j, "width", json_integer(d->native_width));
    json_set(j, "channels", json_integer(d->channels));
    json_set(j, "classes", json_integer(d->classes));
    json_set(j, "train", json_integer(d->count[NC_DATA_TRAIN] + d->count[NC_DATA_VALIDATION]));
    json_set(j, "test", json_integer(d->count[NC_DATA_TEST]));
    json_set(j, "normalize", json_string(norm));
    json_set(jfile, "dataset", j);

    const nc_plugin_info *ai = f->accelerator_plugin;
    fprintf(out, "  accelerator: %s%s%s (%s)\n", ai->desc->name,
            f->accelerator[0] ? ": " : "", f->accelerator, ai->file);
    j = plugin_json(ai);
    json_set(j, "description", json_string(f->accelerator));
    json_set(jfile, "accelerator", j);

    if (f->optimizer_plugin) {
        fprintf(out, "  optimizer: %s (%s)\n", f->optimizer_plugin->desc->name,
                f->optimizer_plugin->file);
        json_set(jfile, "optimizer", plugin_json(f->optimizer_plugin));
    } else {
        fprintf(out, "  optimizer: %s (default; not installed: 'nascaps run' "
                "will need it)\n", s->optimizer_plugin);
        json_set(jfile, "optimizer", json_null());
    }
    json_t *objs = json_array();
    fprintf(out, "  objectives:");
    for (int i = 0; i < s->n_objectives; i++) {
        const char *name = nc_objective_name(s->objectives[i]);
        fprintf(out, "%s %s", i ? "," : "", name);
        json_array_append_new(objs, json_string(name));
    }
    fprintf(out, "\n  training: %d epochs, batch %d, seed %" PRIu64 "\n  output: %s\n",
            s->training.epochs, s->training.batch_size, s->seed, s->output_dir);
    json_set(jfile, "objectives", objs);
    json_set(jfile, "output_dir", json_string(s->output_dir));
}

/* Exactly the checks `nascaps run` and `train` make before they start. */
static int check_pipeline(const char *path, const nc_cli_options *opt,
                          FILE *out, json_t *jfile, nc_error *err)
{
    json_set(jfile, "type", json_string("pipeline"));
    nc_session *se = NULL;
    nc_session_facts facts;
    int rc = nc_session_open(path, opt->sets, opt->n_sets, &se, err);
    if (rc == NC_OK)
        rc = nc_session_check(se, &facts, err);
    if (rc == NC_OK)
        print_facts(se, &facts, out, jfile);
    nc_session_free(se);
    return rc;
}

static void shape_text(const nc_shape *sh, char *buf, size_t size)
{
    snprintf(buf, size, "%dx%dx%dx%d", sh->h, sh->w, sh->ch, sh->dim);
}

static json_t *shape_json(const nc_shape *sh)
{
    return json_pack("[i, i, i, i]", sh->h, sh->w, sh->ch, sh->dim);
}

static int check_genotype(const char *path, nc_registry **reg, FILE *out,
                          json_t *jfile, nc_error *err)
{
    json_set(jfile, "type", json_string("genotype"));
    nc_genotype g;
    if (nc_genotype_load(path, &g, err))
        return err->status;
    if (!*reg && !(*reg = nc_registry_new()))
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    /* Large enough for the rows of NC_MAX_LAYERS layers: not on the stack. */
    nc_analysis *a = malloc(sizeof *a);
    if (!a)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    if (nc_network_analyze(*reg, &g, path, 3, a, err)) {
        free(a);
        return err->status;
    }
    json_t *layers = json_array();
    fprintf(out, "  %4s  %-14s %-9s %-16s    %-16s %12s %14s\n", "gene", "role",
            "plugin", "input", "output", "params", "MACs");
    for (int i = 0; i < a->n_layers; i++) {
        const nc_layer_row *r = &a->rows[i];
        char in[64], outs[64];
        shape_text(&r->info.in, in, sizeof in);
        shape_text(&r->info.out, outs, sizeof outs);
        fprintf(out, "  %4d  %-14s %-9s %-16s -> %-16s %12" PRId64 " %14" PRId64 "\n",
                r->index + 1, nc_layer_role_name(r->role), r->plugin, in, outs,
                r->info.params, r->info.macs);
        json_t *row = json_pack("{s:i, s:s, s:s, s:o, s:o, s:I, s:I}", "gene",
                                r->index + 1, "role", nc_layer_role_name(r->role),
                                "plugin", r->plugin, "in", shape_json(&r->info.in),
                                "out", shape_json(&r->info.out), "params",
                                (json_int_t)r->info.params, "macs",
                                (json_int_t)r->info.macs);
        json_array_append_new(layers, row);
    }
    fprintf(out, "  total: params %" PRId64 ", decoder_params %" PRId64
            ", MACs %" PRId64 "\n", a->params, a->decoder_params, a->macs);
    json_set(jfile, "layers", layers);
    json_set(jfile, "params", json_integer(a->params));
    json_set(jfile, "decoder_params", json_integer(a->decoder_params));
    json_set(jfile, "macs", json_integer(a->macs));
    free(a);
    return NC_OK;
}

static int check_file(const char *path, const nc_cli_options *opt,
                      nc_registry **geno_reg, FILE *out, json_t *jfile,
                      nc_error *err)
{
    if (has_suffix(path, ".cfg"))
        return check_pipeline(path, opt, out, jfile, err);
    if (has_suffix(path, ".chr") || has_suffix(path, ".json"))
        return check_genotype(path, geno_reg, out, jfile, err);
    json_set(jfile, "type", json_string("unknown"));
    return nc_error_set(err, NC_ERR_INPUT,
                        "%s: unknown kind of file (expected a pipeline .cfg or "
                        "a genotype .chr or .json)", path);
}

static int run(int argc, char **argv)
{
    nc_cli_options opt;
    memset(&opt, 0, sizeof opt);
    const char **files = calloc((size_t)argc, sizeof *files);
    size_t n_files = 0;
    if (!files) {
        nc_cli_error("out of memory");
        return NC_ERR_INTERNAL;
    }
    int status = NC_OK;
    for (int i = 1; i < argc && status == NC_OK; i++) {
        int took = nc_cli_take_option("validate", argc, argv, &i, &opt);
        if (took < 0)
            status = NC_ERR_USAGE;
        else if (took == 0 && argv[i][0] == '-')
            status = nc_cli_usage("validate", "unknown option '%s'", argv[i]);
        else if (took == 0)
            files[n_files++] = argv[i];
    }
    if (status == NC_OK && opt.pipeline)
        status = nc_cli_usage("validate", "pipelines are given as FILE "
                              "arguments, not with -c");
    if (status == NC_OK && n_files == 0)
        status = nc_cli_usage("validate", "no FILE to validate");
    if (status != NC_OK) {
        free(files);
        nc_cli_options_free(&opt);
        return status;
    }

    json_t *jfiles = json_array();
    nc_registry *geno_reg = NULL;
    for (size_t f = 0; f < n_files; f++) {
        report r = {NULL, 0, NULL};
        nc_error err;
        nc_error_clear(&err);
        json_t *jfile = json_pack("{s:s}", "file", files[f]);
        int rc;
        if (!(r.out = open_memstream(&r.text, &r.len)))
            rc = nc_error_set(&err, NC_ERR_INTERNAL, "out of memory");
        else {
            rc = check_file(files[f], &opt, &geno_reg, r.out, jfile, &err);
            fclose(r.out);
        }
        if (rc == NC_OK) {
            if (!opt.quiet)
                printf("%s: ok\n%s", files[f], r.text ? r.text : "");
            json_set(jfile, "ok", json_true());
        } else {
            if (!err.msg[0])
                nc_error_set(&err, rc, "%s: failed (no message)", files[f]);
            nc_cli_error("%s", err.msg);
            json_set(jfile, "ok", json_false());
            json_set(jfile, "error", json_string(err.msg));
            /* Input errors say "not valid"; an internal one wins. */
            if (rc > status)
                status = rc;
        }
        free(r.text);
        json_array_append_new(jfiles, jfile);
    }
    fflush(stdout);
    if (opt.json) {
        json_t *top = json_pack("{s:s, s:b, s:o}", "command", "validate", "ok",
                                status == NC_OK, "files", jfiles);
        if (nc_cli_print_json(top) != NC_OK && status == NC_OK)
            status = NC_ERR_INTERNAL;
    } else
        json_decref(jfiles);
    nc_registry_free(geno_reg);
    free(files);
    nc_cli_options_free(&opt);
    return status;
}

const nc_cli_command nc_cli_validate = {"validate", synopsis, summary, help,
                                        run};
