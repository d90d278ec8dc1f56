/* cli_adapt.h - `--adapt` of train and estimate, and `nascaps adapt`
 * (defined in cli_adapt.c): moving a genotype to the pipeline's dataset. */
#ifndef NASCAPS_CLI_ADAPT_H
#define NASCAPS_CLI_ADAPT_H

#include <stdio.h>

#include "nascaps/genotype.h"
#include "nascaps/pipeline.h"
#include "nascaps/registry.h"

/* Appended to a genotype/dataset mismatch when --adapt was not given. */
#define NC_CLI_ADAPT_HINT " (use --adapt to re-derive it for this dataset)"

/* The shape a genotype must have for the pipeline's dataset (opened and
 * closed again). Prints the error and returns the exit code. */
int nc_cli_dataset_shape(nc_registry *reg, const nc_pipeline *p, nc_data_shape *shape);

/* A heading line, then "  gene 1 (conv): insize 64 -> 28" per change (g
 * is the adapted genotype); "nothing to adapt" when there is none. */
void nc_cli_print_changes(FILE *out, const char *path, const nc_genotype *g,
                          const nc_data_shape *shape, const nc_genotype_changes *changes);

/* Adapts g (read from path) to shape and, unless quiet, prints what
 * changed on out (above). Prints the error and returns the exit code. */
int nc_cli_adapt_genotype(const char *path, nc_genotype *g, const nc_data_shape *shape,
                          int quiet, FILE *out, nc_genotype_changes *changes);

/* Without --adapt: a genotype that is valid but does not fit shape is
 * refused with the validator's message plus NC_CLI_ADAPT_HINT. Returns
 * the exit code (0 when it fits). */
int nc_cli_check_fit(const char *path, const nc_genotype *g, const nc_data_shape *shape);

#endif
