/* nc_chroms.h - the release chromosomes (reference/chroms/ ** / *.chr) as
 * test cases: listing them and synthetic data of each one's shape. Shared
 * by test_chroms_init and test_chroms_train. */
#ifndef NC_CHROMS_H
#define NC_CHROMS_H

#include "nascaps/train.h"

/* Every .chr under NC_TEST_SHARED_DIR/reference/chroms, sorted by path
 * (malloc'd array of malloc'd paths, nc_chroms_free). Returns the count. */
int nc_chroms_list(char ***paths);
void nc_chroms_free(char **paths, int n);
/* The path below the chroms folder, e.g. "ns-mnist/x.chr" (borrowed). */
const char *nc_chroms_label(const char *path);

/* The dataset a genotype asks for: size = gene 1's insize / resize,
 * channels = inch x incaps, classes = the last gene's outch. */
void nc_chroms_shape(const nc_genotype *g, nc_data_shape *ds);

/* The synthetic dataset of shape ds with train_count and test_count
 * images; asserts on failure. Close with nc_chroms_close_data. */
nc_data *nc_chroms_open_data(nc_registry *reg, const nc_data_shape *ds, int train_count,
                             int test_count, nc_pipeline **p);
void nc_chroms_close_data(nc_data *d, nc_pipeline *p);

#endif

/* ---- Capsule lengths at initialisation ---------------------------------- */

/* What nc_chroms_init_lengths found. */
typedef struct nc_init_lengths {
    int built;              /* 0: refused (over a limit), nothing measured */
    int64_t trainable;      /* params + decoder params (nc_network_analyze) */
    double memory_mb;       /* the estimate at batch 2 */
    double train_mode;      /* class capsules' mean length, training-mode forward */
    double eval_mode;       /* the same images, evaluation-mode forward */
    char refusal[NC_ERROR_MAX];
} nc_init_lengths;

/* Builds g as a full network (decoder included, batch 2, the given
 * max_params and max_memory_mb, seed 1) on synthetic data of its shape and
 * measures the mean length of the class capsules of 2 training images at
 * initialisation, in training mode (batch statistics: what the first
 * training step sees) and in evaluation mode. Over a limit: built = 0 and
 * the refusal. Asserts on any other failure. */
void nc_chroms_init_lengths(nc_registry *reg, const nc_genotype *g, const char *origin,
                            int64_t max_params, int64_t max_memory_mb, nc_init_lengths *out);

/* ---- CMocka plumbing shared by the tests using this file ------------------- */

/* Group setup/teardown: *state is a fresh nc_registry (the build's
 * plugins). */
int nc_chroms_setup(void **state);
int nc_chroms_teardown(void **state);
/* reference/chroms/LABEL, loaded; asserts on failure. */
void nc_chroms_load(const char *label, nc_genotype *g);
/* A genotype from its text; asserts on failure. */
nc_genotype nc_chroms_parse(const char *text);
