/* cmd_adapt.c - `nascaps adapt`: a genotype re-derived for the pipeline's
 * dataset, written to a file (docs/GENOTYPE.md, "Adapting"). */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli_adapt.h"
#include "cli_train.h"

static json_t *changes_json(const nc_genotype *g, const nc_genotype_changes *ch)
{
    json_t *list = json_array();
    for (int i = 0; list && i < ch->n; i++) {
        const nc_genotype_change *c = &ch->at[i];
        json_t *o;
        if (c->gene == 0)
            o = json_pack("{s:i, s:s, s:i, s:i}", "gene", 0, "field", "skip", "before",
                          c->before, "after", c->after);
        else
            o = json_pack("{s:i, s:s, s:s, s:i, s:i}", "gene", c->gene, "role",
                          nc_layer_role_name(nc_genotype_role(g, c->gene - 1)), "field",
                          nc_gene_field_names[c->field], "before", c->before, "after",
                          c->after);
        json_array_append_new(list, o);
    }
    return list;
}

static int run(int argc, char **argv)
{
    nc_cli_options opt = {0};
    const char *file = NULL, *output = NULL;
    int rc = NC_OK;
    for (int i = 1; i < argc && rc == NC_OK; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            if (file)
                rc = nc_cli_usage("adapt", "one genotype file at a time ('%s' and '%s')", file, a);
            file = a;
            continue;
        }
        int taken = nc_cli_take_option("adapt", argc, argv, &i, &opt);
        if (taken < 0)
            rc = NC_ERR_USAGE;
        else if (!taken && !nc_cli_take_value("adapt", "-o", argc, argv, &i, &output, &rc) &&
                 !nc_cli_take_value("adapt", "--output", argc, argv, &i, &output, &rc))
            rc = nc_cli_usage("adapt", "unknown option '%s'", a);
    }
    if (rc == NC_OK && !file)
        rc = nc_cli_usage("adapt", "no genotype file given");
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
    nc_genotype g;
    nc_data_shape shape;
    nc_genotype_changes changes;
    char canonical[NC_GENOTYPE_STRING_MAX];
    if ((rc = nc_genotype_load(file, &g, &err))) {
        rc = nc_cli_fail(&err);
        goto out;
    }
    if ((rc = nc_cli_dataset_shape(reg, pipeline, &shape)) ||
        (rc = nc_cli_adapt_genotype(file, &g, &shape, opt.quiet, stderr, &changes)))
        goto out;
    nc_genotype_to_string(&g, canonical, sizeof canonical);
    if (output) {
        if ((rc = nc_genotype_save(&g, output, &err))) {
            rc = nc_cli_fail(&err);
            goto out;
        }
        printf("%s: written (%s adapted, %d change%s)\n", output, file, changes.n,
               changes.n == 1 ? "" : "s");
    } else {
        printf("%s\n", canonical);
    }
    if (opt.json) {
        json_t *root = json_pack("{s:s, s:s, s:{s:i, s:i, s:i}, s:o}", "genotype", file,
                                 "canonical", canonical, "data", "size", shape.size,
                                 "channels", shape.channels, "classes", shape.classes,
                                 "changes", changes_json(&g, &changes));
        if (root)
            json_object_set_new(root, "output", output ? json_string(output) : json_null());
        rc = nc_cli_print_json(root);
    }
    if (fflush(stdout) != 0 && rc == NC_OK) {
        nc_cli_error("cannot write the output");
        rc = NC_ERR_INTERNAL;
    }
out:
    nc_registry_free(reg);
    nc_settings_free(&settings);
    nc_pipeline_free(pipeline);
    nc_cli_options_free(&opt);
    return rc;
}

const nc_cli_command nc_cli_adapt = {
    .name = "adapt",
    .synopsis = "adapt [-c PIPELINE] [--set KEY=VALUE]... [-o OUT.chr] [--json] [--quiet] "
                "FILE.chr",
    .summary = "re-derive a genotype for the pipeline's dataset (transfer)",
    .help =
        "Re-derives FILE.chr for the pipeline's dataset (default: the idx plugin\n"
        "on Debian's Fashion-MNIST), as the paper's transfer experiment trained\n"
        "the networks found on one dataset on the others: gene 1's insize =\n"
        "image size x resize gene, its inch x incaps = channels (channels x 1\n"
        "when the count changes), the last gene's outch = classes, then the size\n"
        "chain is repaired (insize = previous outsize, outsize = ceil(insize /\n"
        "stride); a last k equal to its insize follows the new insize). Types,\n"
        "kernels, strides, channels and capsule dims are kept. A genotype that\n"
        "fits already is unchanged.\n"
        "\n"
        "The changes are listed on stderr, one line each:\n"
        "  net.chr: adapted to 32 x 32 x 3 images, 10 classes (resize 1): 7 changes\n"
        "    gene 1 (conv): insize 28 -> 32\n"
        "    gene 1 (conv): inch 1 -> 3\n"
        "    ...\n"
        "\n"
        "Options:\n"
        "  -c, --config FILE   pipeline file whose dataset section is used\n"
        "  --set KEY=VALUE     override a setting, e.g. --set dataset.plugin=cifar10\n"
        "  -o, --output OUT    write the adapted genotype there (canonical text);\n"
        "                      without it the text is printed on stdout\n"
        "  --json              also print one JSON object on the last line of stdout:\n"
        "                      genotype, output, canonical, data {size, channels,\n"
        "                      classes}, changes [{gene, role, field, before, after}]\n"
        "  --quiet, -q         no change lines on stderr\n",
    .run = run,
};
