/* cli_adapt.c - what train, estimate and adapt share to move a genotype
 * to the pipeline's dataset (docs/GENOTYPE.md, "Adapting"). */
#include <stdio.h>

#include "cli.h"
#include "cli_adapt.h"
#include "nascaps/train.h"

int nc_cli_dataset_shape(nc_registry *reg, const nc_pipeline *p, nc_data_shape *shape)
{
    nc_error err;
    nc_error_clear(&err);
    nc_data *data = NULL;
    int rc = nc_data_open(reg, p, &data, &err);
    if (!rc)
        rc = nc_data_shape_of(data, shape, &err);
    nc_data_close(data);
    return rc ? nc_cli_fail(&err) : NC_OK;
}

void nc_cli_print_changes(FILE *out, const char *path, const nc_genotype *g,
                          const nc_data_shape *shape, const nc_genotype_changes *changes)
{
    if (changes->n == 0) {
        fprintf(out, "%s: fits %d x %d x %d images, %d classes: nothing to adapt\n", path,
                shape->size, shape->size, shape->channels, shape->classes);
        fflush(out);
        return;
    }
    fprintf(out, "%s: adapted to %d x %d x %d images, %d classes (resize %d): %d change%s\n",
            path, shape->size, shape->size, shape->channels, shape->classes, g->resize,
            changes->n, changes->n == 1 ? "" : "s");
    for (int i = 0; i < changes->n; i++) {
        char line[160];
        nc_genotype_change_text(g, &changes->at[i], line, sizeof line);
        fprintf(out, "  %s\n", line);
    }
    fflush(out);
}

int nc_cli_adapt_genotype(const char *path, nc_genotype *g, const nc_data_shape *shape,
                          int quiet, FILE *out, nc_genotype_changes *changes)
{
    nc_error err;
    nc_error_clear(&err);
    if (nc_genotype_adapt(g, shape, path, changes, &err))
        return nc_cli_fail(&err);
    if (!quiet)
        nc_cli_print_changes(out, path, g, shape, changes);
    return NC_OK;
}

int nc_cli_check_fit(const char *path, const nc_genotype *g, const nc_data_shape *shape)
{
    nc_error err;
    nc_error_clear(&err);
    int rc = nc_genotype_validate(g, path, NULL, &err);
    if (rc)
        return nc_cli_fail(&err);
    if (!nc_genotype_validate(g, path, shape, &err))
        return NC_OK;
    nc_cli_error("%s%s", err.msg, NC_CLI_ADAPT_HINT);
    return err.status;
}
