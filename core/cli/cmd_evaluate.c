/* cmd_evaluate.c - `nascaps evaluate`: the accuracy of saved weights on
 * the pipeline's test split (and validation split when there is one). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_train.h"
#include "nascaps/train.h"

static int evaluate_file(nc_registry *reg, nc_data *data, const nc_settings *s,
                         const char *file, const char *weights, int json, nc_error *err)
{
    nc_genotype g;
    nc_data_shape ds;
    int rc;
    if ((rc = nc_genotype_load(file, &g, err)) || (rc = nc_data_shape_of(data, &ds, err)) ||
        (rc = nc_genotype_validate(&g, file, &ds, err)) ||
        (rc = nc_data_set_resize(data, g.resize, err)))
        return rc;
    nc_net_cfg cfg;
    nc_net_cfg_from_settings(&cfg, s);
    /* the weights exist already: the training limits do not apply */
    cfg.max_params = 0;
    cfg.max_memory_mb = 0;
    nc_net *net = NULL;
    if ((rc = nc_net_build(reg, &g, file, &ds, &cfg, &net, err)))
        return rc;
    double t0 = nc_cli_now(), test = NAN, val = NAN;
    int64_t n_test = 0, n_val = 0;
    if (!(rc = nc_weights_load(net, weights, err)) &&
        !(rc = nc_net_evaluate(net, data, NC_DATA_TEST, &test, &n_test, err)) &&
        nc_data_split_count(data, NC_DATA_VALIDATION) > 0)
        rc = nc_net_evaluate(net, data, NC_DATA_VALIDATION, &val, &n_val, err);
    double seconds = nc_cli_now() - t0;
    const nc_net_info *info = nc_net_get_info(net);
    if (rc == NC_OK) {
        printf("%s: test accuracy %.4f (%" PRId64 " images)", file, test, n_test);
        if (n_val > 0)
            printf(", validation accuracy %.4f (%" PRId64 " images)", val, n_val);
        printf(", %.1f s\n", seconds);
        if (json) {
            json_t *root = json_pack(
                "{s:s, s:s, s:f, s:I, s:o, s:I, s:I, s:I, s:I, s:f}", "genotype", file,
                "weights", weights, "test_accuracy", test, "test_images", (json_int_t)n_test,
                "validation_accuracy", n_val > 0 ? json_real(val) : json_null(),
                "validation_images", (json_int_t)n_val, "params", (json_int_t)info->params,
                "decoder_params", (json_int_t)info->decoder_params, "macs",
                (json_int_t)info->macs, "seconds", seconds);
            rc = nc_cli_print_json(root);
        }
    }
    nc_net_free(net);
    return rc;
}

static int run(int argc, char **argv)
{
    nc_cli_options opt = {0};
    const char *file = NULL, *weights = NULL;
    int rc = NC_OK;
    for (int i = 1; i < argc && rc == NC_OK; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            if (file)
                rc = nc_cli_usage("evaluate", "one genotype file at a time ('%s' and '%s')", file,
                                  a);
            file = a;
            continue;
        }
        int taken = nc_cli_take_option("evaluate", argc, argv, &i, &opt);
        if (taken < 0)
            rc = NC_ERR_USAGE;
        else if (!taken &&
                 !nc_cli_take_value("evaluate", "--weights", argc, argv, &i, &weights, &rc))
            rc = nc_cli_usage("evaluate", "unknown option '%s'", a);
    }
    if (rc == NC_OK && !file)
        rc = nc_cli_usage("evaluate", "no genotype file given");
    if (rc == NC_OK && !weights)
        rc = nc_cli_usage("evaluate", "no weights given (--weights W.bin)");
    if (rc) {
        nc_cli_options_free(&opt);
        return rc;
    }
    nc_pipeline *pipeline;
    nc_settings settings;
    nc_registry *reg;
    if ((rc = nc_cli_open(&opt, &pipeline, &settings, &reg))) {
        nc_cli_options_free(&opt);
        return rc;
    }
    nc_error err;
    nc_error_clear(&err);
    nc_data *data = NULL;
    if ((rc = nc_data_open(reg, pipeline, &data, &err)) ||
        (rc = evaluate_file(reg, data, &settings, file, weights, opt.json, &err)))
        rc = err.status ? nc_cli_fail(&err) : rc;
    if (fflush(stdout) != 0 && rc == NC_OK) {
        nc_cli_error("cannot write the output");
        rc = NC_ERR_INTERNAL;
    }
    nc_data_close(data);
    nc_registry_free(reg);
    nc_settings_free(&settings);
    nc_pipeline_free(pipeline);
    nc_cli_options_free(&opt);
    return rc;
}

const nc_cli_command nc_cli_evaluate = {
    .name = "evaluate",
    .synopsis = "evaluate --weights W.bin [-c PIPELINE] [--set KEY=VALUE]... [--json] FILE.chr",
    .summary = "accuracy of saved weights (nascaps train --save) on the test split",
    .help =
        "Builds the network of FILE.chr, loads W.bin (refused, with one line\n"
        "saying what differs, unless it was saved for exactly this genotype\n"
        "and is intact), and prints its accuracy on the pipeline dataset's\n"
        "test split (and validation split when dataset.validation > 0).\n"
        "Use the pipeline and --set values the weights were trained with\n"
        "(dataset, training.recon_weight, training.routings, ...).\n"
        "\n"
        "Options:\n"
        "  --weights W.bin     the weights file (required)\n"
        "  -c, --config FILE   pipeline file (default: built-in settings)\n"
        "  --set KEY=VALUE     override a setting\n"
        "  --json              also print one JSON object on the last line of stdout:\n"
        "                      test_accuracy, test_images, validation_accuracy,\n"
        "                      params, decoder_params, macs, seconds\n",
    .run = run,
};
