/* cmd_estimate.c - `nascaps estimate`: the accelerator cost of genotypes. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli_adapt.h"
#include "nascaps/estimate.h"
#include "nascaps/network.h"

/* What one file gave: totals always, operations only for --layers. */
typedef struct file_result {
    const char *path;   /* argv-borrowed, printed exactly as given */
    int ok;
    nc_estimate total;
    int64_t params, macs;
    int n_ops;
    nc_hw_op *ops;
    nc_hw_cost *costs;
} file_result;

typedef struct estimate_run {
    nc_registry *reg;
    nc_accelerator *acc;
    int routings;
    int layers;
    int adapt, quiet;          /* --adapt: to shape, the pipeline's dataset */
    nc_data_shape shape;
} estimate_run;

static void print_file_error(const char *path, const nc_error *err)
{
    /* The genotype module names the file; other messages get it here. */
    if (strstr(err->msg, path))
        nc_cli_error("%s", err->msg);
    else
        nc_cli_error("%s: %s", path, err->msg);
}

static int estimate_file(const estimate_run *run, file_result *r, nc_error *err)
{
    nc_genotype g;
    nc_hw_op ops[NC_NETWORK_MAX_HW_OPS];
    nc_hw_cost costs[NC_NETWORK_MAX_HW_OPS];
    nc_analysis an;
    int n = 0, rc;

    if ((rc = nc_genotype_load(r->path, &g, err)))
        return rc;
    if (run->adapt) {
        nc_genotype_changes changes;
        if ((rc = nc_genotype_adapt(&g, &run->shape, r->path, &changes, err)))
            return rc;
        if (!run->quiet)
            nc_cli_print_changes(stderr, r->path, &g, &run->shape, &changes);
    }
    if ((rc = nc_network_hw_ops(run->reg, &g, r->path, ops, &n, err)) ||
        (rc = nc_accelerator_cost(run->acc, ops, n, costs, &r->total, err)) ||
        (rc = nc_network_analyze(run->reg, &g, r->path, run->routings, &an, err)))
        return rc;
    r->params = an.params;
    r->macs = an.macs;
    r->n_ops = n;
    if (run->layers && n > 0) {
        r->ops = malloc((size_t)n * sizeof *r->ops);
        r->costs = malloc((size_t)n * sizeof *r->costs);
        if (!r->ops || !r->costs)
            return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        memcpy(r->ops, ops, (size_t)n * sizeof *ops);
        memcpy(r->costs, costs, (size_t)n * sizeof *costs);
    }
    r->ok = 1;
    return NC_OK;
}

static const char *kind_name(int kind)
{
    const char *name = nc_hw_kind_name(kind);
    return name ? name : "?";
}

static void print_tsv(const file_result *results, int n, int layers)
{
    printf("genotype\tenergy_mJ\tlatency_ms\tmemory_KiB\tweights\tcycles\tparams\tmacs\n");
    for (int i = 0; i < n; i++) {
        const file_result *r = &results[i];
        if (!r->ok)
            continue;
        printf("%s\t%.9g\t%.9g\t%.9g\t%.0f\t%.0f\t%" PRId64 "\t%" PRId64 "\n", r->path,
               r->total.energy_mj, r->total.latency_ms, r->total.memory_kib,
               r->total.weights, r->total.cycles, r->params, r->macs);
    }
    if (!layers)
        return;
    for (int i = 0; i < n; i++) {
        const file_result *r = &results[i];
        if (!r->ok)
            continue;
        printf("\n# %s\nop\tkind\tin\tout\tk\tcycles\tpower_mW\tenergy_mJ\tlatency_ms\tweights\n",
               r->path);
        for (int j = 0; j < r->n_ops; j++) {
            const nc_hw_op *o = &r->ops[j];
            const nc_hw_cost *c = &r->costs[j];
            printf("%.24s\t%s\t%d,%d,%d\t%d,%d,%d\t%d\t%.0f\t%.9g\t%.9g\t%.9g\t%.0f\n",
                   o->name, kind_name(o->kind), (int)o->insize, (int)o->inch,
                   (int)o->incaps, (int)o->outsize, (int)o->outch, (int)o->outcaps,
                   (int)o->k, c->cycles, c->power_mw, c->energy_mj, c->latency_ms,
                   c->weights);
        }
    }
}

static json_t *json_number_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *layers_json(const file_result *r)
{
    json_t *list = json_array();
    for (int j = 0; list && j < r->n_ops; j++) {
        const nc_hw_op *o = &r->ops[j];
        const nc_hw_cost *c = &r->costs[j];
        char name[sizeof o->name + 1];
        snprintf(name, sizeof name, "%.24s", o->name);
        json_t *op = json_pack("{s:s, s:s, s:[iii], s:[iii], s:i, s:f, s:f, s:f, s:f, s:I}",
                               "op", name, "kind", kind_name(o->kind),
                               "in", (int)o->insize, (int)o->inch, (int)o->incaps,
                               "out", (int)o->outsize, (int)o->outch, (int)o->outcaps,
                               "k", (int)o->k, "cycles", c->cycles, "power_mW",
                               c->power_mw, "energy_mJ", c->energy_mj, "latency_ms",
                               c->latency_ms, "weights", (json_int_t)c->weights);
        if (op)
            json_object_set_new(op, "area_um2", json_number_or_null(c->area_um2));
        json_array_append_new(list, op);
    }
    return list;
}

static int print_json(const file_result *results, int n, const nc_accelerator *acc,
                      int layers)
{
    const nc_plugin_info *info = nc_accelerator_plugin(acc);
    json_t *root = json_object(), *list = json_array(), *failed = json_array();
    for (int i = 0; i < n; i++) {
        const file_result *r = &results[i];
        if (!r->ok) {
            json_array_append_new(failed, json_string(r->path));
            continue;
        }
        json_t *row = json_pack("{s:s, s:f, s:f, s:f, s:I, s:f, s:I, s:I, s:i}",
                                "genotype", r->path, "energy_mJ", r->total.energy_mj,
                                "latency_ms", r->total.latency_ms, "memory_KiB",
                                r->total.memory_kib, "weights",
                                (json_int_t)r->total.weights, "cycles", r->total.cycles,
                                "params", (json_int_t)r->params, "macs",
                                (json_int_t)r->macs, "n_ops", r->n_ops);
        if (row) {
            json_object_set_new(row, "area_um2", json_number_or_null(r->total.area_um2));
            if (layers)
                json_object_set_new(row, "layers", layers_json(r));
        }
        json_array_append_new(list, row);
    }
    json_object_set_new(root, "accelerator",
                        json_pack("{s:s, s:s, s:s}", "plugin", info->desc->name, "file",
                                  info->file, "description", nc_accelerator_describe(acc)));
    json_object_set_new(root, "genotypes", list);
    json_object_set_new(root, "failed", failed);
    return nc_cli_print_json(root);
}

static int run(int argc, char **argv)
{
    nc_cli_options opt = {0};
    const char *accelerator = NULL;
    int layers = 0, adapt = 0, n_files = 0, rc;
    const char **files = calloc((size_t)argc, sizeof *files);
    if (!files) {
        nc_cli_error("out of memory");
        return NC_ERR_INTERNAL;
    }
    int options_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || a[1] == '\0') {
            files[n_files++] = a;
            continue;
        }
        int taken = nc_cli_take_option("estimate", argc, argv, &i, &opt);
        if (taken < 0) {
            rc = NC_ERR_USAGE;
            goto out_args;
        }
        if (taken)
            continue;
        if (strcmp(a, "--") == 0) {
            options_done = 1;
        } else if (strcmp(a, "--layers") == 0) {
            layers = 1;
        } else if (strcmp(a, "--adapt") == 0) {
            adapt = 1;
        } else if (strcmp(a, "--accelerator") == 0 || strncmp(a, "--accelerator=", 14) == 0) {
            if (accelerator) {
                rc = nc_cli_usage("estimate", "only one --accelerator may be given");
                goto out_args;
            }
            if (a[13] == '=') {
                accelerator = a + 14;
            } else if (i + 1 < argc) {
                accelerator = argv[++i];
            } else {
                rc = nc_cli_usage("estimate", "option --accelerator needs a value");
                goto out_args;
            }
            if (!*accelerator) {
                rc = nc_cli_usage("estimate", "--accelerator needs a plugin name or a .so path");
                goto out_args;
            }
        } else {
            rc = nc_cli_usage("estimate", "unknown option '%s'", a);
            goto out_args;
        }
    }
    if (n_files == 0) {
        rc = nc_cli_usage("estimate", "no genotype file given");
        goto out_args;
    }

    nc_pipeline *pipeline;
    nc_settings settings;
    estimate_run er = {.layers = layers, .adapt = adapt, .quiet = opt.quiet};
    if ((rc = nc_cli_open(&opt, &pipeline, &settings, &er.reg)))
        goto out_args;
    er.routings = settings.training.routings;

    nc_error err;
    nc_error_clear(&err);
    file_result *results = NULL;
    if (adapt && (rc = nc_cli_dataset_shape(er.reg, pipeline, &er.shape)))
        goto out_open;
    if ((rc = nc_accelerator_open(er.reg, pipeline, accelerator, &er.acc, &err))) {
        rc = nc_cli_fail(&err);
        goto out_open;
    }
    results = calloc((size_t)n_files, sizeof *results);
    if (!results) {
        nc_cli_error("out of memory");
        rc = NC_ERR_INTERNAL;
        goto out_open;
    }
    int failed_status = NC_OK;
    for (int i = 0; i < n_files; i++) {
        results[i].path = files[i];
        nc_error_clear(&err);
        int st = estimate_file(&er, &results[i], &err);
        if (st) {
            results[i].ok = 0;
            print_file_error(files[i], &err);
            if (st == NC_ERR_INTERNAL || failed_status == NC_OK)
                failed_status = st == NC_ERR_INTERNAL ? NC_ERR_INTERNAL : NC_ERR_INPUT;
        }
    }
    if (opt.json)
        rc = print_json(results, n_files, er.acc, layers);
    else
        print_tsv(results, n_files, layers);
    if (fflush(stdout) != 0) {
        nc_cli_error("cannot write the output");
        rc = NC_ERR_INTERNAL;
    }
    if (rc == NC_OK)
        rc = failed_status;

out_open:
    if (results)
        for (int i = 0; i < n_files; i++) {
            free(results[i].ops);
            free(results[i].costs);
        }
    free(results);
    nc_accelerator_close(er.acc);
    nc_registry_free(er.reg);
    nc_settings_free(&settings);
    nc_pipeline_free(pipeline);
out_args:
    nc_cli_options_free(&opt);
    free(files);
    return rc;
}

const nc_cli_command nc_cli_estimate = {
    .name = "estimate",
    .synopsis = "estimate [-c PIPELINE] [--accelerator NAME|FILE.so] [--set KEY=VALUE]... "
                "[--layers] [--adapt] [--json] FILE.chr...",
    .summary = "accelerator cost (energy, latency, memory) of genotypes",
    .help =
        "Costs each genotype on the pipeline's accelerator (accelerator.plugin,\n"
        "default capsacc) and prints one TSV row per file:\n"
        "\n"
        "  genotype energy_mJ latency_ms memory_KiB weights cycles params macs\n"
        "\n"
        "The genotype column is the path as given. A genotype that is refused\n"
        "prints one error line on stderr; the other files are still estimated.\n"
        "\n"
        "Options:\n"
        "  -c, --config FILE          pipeline file (default: built-in settings)\n"
        "  --set KEY=VALUE            override a setting, e.g. --set accelerator.rows=8\n"
        "  --accelerator NAME|FILE.so use this accelerator plugin instead of\n"
        "                             accelerator.plugin (its settings still come\n"
        "                             from the accelerator section)\n"
        "  --layers                   also print each file's operations: op, kind,\n"
        "                             in (insize,inch,incaps), out (outsize,outch,\n"
        "                             outcaps), k, cycles, power_mW, energy_mJ,\n"
        "                             latency_ms, weights\n"
        "  --adapt                    cost each genotype re-derived for the\n"
        "                             pipeline's dataset (default: idx on\n"
        "                             Fashion-MNIST): the changes are listed on\n"
        "                             stderr (not with --quiet); see 'nascaps help\n"
        "                             adapt'\n"
        "  --json                     print one JSON object on one line instead\n",
    .run = run,
};
