/* nc_chroms.c - the release chromosomes as test cases (nc_chroms.h). */
#define _XOPEN_SOURCE 700   /* nftw */
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_chroms.h"
#include "nc_test.h"

static char chroms_dir[4096];

static char **found;
static int n_found, cap_found;

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t len = strlen(path);
    if (type != FTW_F || len < 4 || strcmp(path + len - 4, ".chr") != 0)
        return 0;
    if (n_found == cap_found) {
        cap_found = cap_found ? 2 * cap_found : 64;
        found = realloc(found, (size_t)cap_found * sizeof *found);
        assert_non_null(found);
    }
    found[n_found] = strdup(path);
    assert_non_null(found[n_found]);
    n_found++;
    return 0;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int nc_chroms_list(char ***paths)
{
    const char *ref = nc_test_reference_dir();
    found = NULL;
    n_found = cap_found = 0;
    if (ref) {
        snprintf(chroms_dir, sizeof chroms_dir, "%s/chroms", ref);
        assert_int_equal(nftw(chroms_dir, visit, 16, FTW_PHYS), 0);
    }
    if (n_found)
        qsort(found, (size_t)n_found, sizeof *found, by_path);
    *paths = found;
    return n_found;
}

void nc_chroms_free(char **paths, int n)
{
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

const char *nc_chroms_label(const char *path)
{
    size_t n = strlen(chroms_dir);
    return n && strncmp(path, chroms_dir, n) == 0 && path[n] == '/' ? path + n + 1 : path;
}

void nc_chroms_shape(const nc_genotype *g, nc_data_shape *ds)
{
    const nc_gene *first = &g->layers[0];
    ds->size = first->insize / (g->resize > 0 ? g->resize : 1);
    ds->channels = first->inch * first->incaps;
    ds->classes = g->layers[g->n_layers - 1].outch;
}

nc_data *nc_chroms_open_data(nc_registry *reg, const nc_data_shape *ds, int train_count,
                             int test_count, nc_pipeline **p)
{
    char set[5][64];
    snprintf(set[0], sizeof set[0], "dataset.size=%d", ds->size);
    snprintf(set[1], sizeof set[1], "dataset.channels=%d", ds->channels);
    snprintf(set[2], sizeof set[2], "dataset.classes=%d", ds->classes);
    snprintf(set[3], sizeof set[3], "dataset.train_count=%d", train_count);
    snprintf(set[4], sizeof set[4], "dataset.test_count=%d", test_count);
    const char *sets[6] = {"dataset.plugin=synthetic", set[0], set[1], set[2], set[3], set[4]};
    nc_error err;
    nc_error_clear(&err);
    *p = NULL;
    nc_data *d = NULL;
    if (nc_pipeline_load(NULL, sets, 6, p, &err) || nc_data_open(reg, *p, &d, &err))
        fail_msg("%s", err.msg);
    return d;
}

void nc_chroms_close_data(nc_data *d, nc_pipeline *p)
{
    nc_data_close(d);
    nc_pipeline_free(p);
}

static double mean_length(const nc_net *net, int n)
{
    const nc_net_info *info = nc_net_get_info(net);
    const float *v = nc_net_output(net);
    double sum = 0;
    for (int i = 0; i < n * info->classes; i++) {
        double sq = 0;
        for (int k = 0; k < info->class_dim; k++)
            sq += (double)v[(size_t)i * (size_t)info->class_dim + (size_t)k] *
                  v[(size_t)i * (size_t)info->class_dim + (size_t)k];
        sum += sqrt(sq);
    }
    return sum / (n * info->classes);
}

void nc_chroms_init_lengths(nc_registry *reg, const nc_genotype *g, const char *origin,
                            int64_t max_params, int64_t max_memory_mb, nc_init_lengths *out)
{
    enum { N = 2 };
    memset(out, 0, sizeof *out);
    nc_error err;
    nc_error_clear(&err);
    nc_data_shape ds;
    nc_chroms_shape(g, &ds);
    nc_net_cfg cfg;
    nc_net_cfg_defaults(&cfg);
    cfg.max_batch = N;
    cfg.max_params = max_params;
    cfg.max_memory_mb = max_memory_mb;
    nc_analysis an;
    nc_net_memory mem;
    if (nc_network_analyze(reg, g, origin, cfg.routings, &an, &err) ||
        nc_net_memory_estimate(reg, g, origin, &cfg, &mem, &err))
        fail_msg("%s", err.msg);
    out->trainable = an.params + an.decoder_params;
    out->memory_mb = (double)mem.total / (1024.0 * 1024.0);
    nc_net *net = NULL;
    int rc = nc_net_build(reg, g, origin, &ds, &cfg, &net, &err);
    if (rc == NC_ERR_INPUT) {
        snprintf(out->refusal, sizeof out->refusal, "%s", err.msg);
        return;
    }
    if (rc)
        fail_msg("%s", err.msg);
    out->built = 1;
    nc_pipeline *p;
    nc_data *d = nc_chroms_open_data(reg, &ds, N, 1, &p);
    const nc_net_info *info = nc_net_get_info(net);
    size_t per = (size_t)info->input.h * (size_t)info->input.w * (size_t)info->input.ch;
    float *images = malloc(N * per * sizeof *images);
    int32_t labels[N];
    int64_t idx[N] = {0, 1};
    assert_non_null(images);
    if (nc_data_set_resize(d, g->resize, &err) ||
        nc_data_batch(d, NC_DATA_TRAIN, idx, N, images, NULL, labels, NULL, 0, &err) ||
        nc_net_forward(net, N, images, 1, &err))
        fail_msg("%s", err.msg);
    out->train_mode = mean_length(net, N);
    if (nc_net_forward(net, N, images, 0, &err))
        fail_msg("%s", err.msg);
    out->eval_mode = mean_length(net, N);
    free(images);
    nc_chroms_close_data(d, p);
    nc_net_free(net);
}

int nc_chroms_setup(void **state)
{
    *state = nc_registry_new();
    return *state ? 0 : -1;
}

int nc_chroms_teardown(void **state)
{
    nc_registry_free(*state);
    return 0;
}

void nc_chroms_load(const char *label, nc_genotype *g)
{
    const char *ref = nc_test_reference_dir();
    assert_non_null(ref);
    char path[4096];
    snprintf(path, sizeof path, "%s/chroms/%s", ref, label);
    nc_error err;
    if (nc_genotype_load(path, g, &err))
        fail_msg("%s", err.msg);
}

nc_genotype nc_chroms_parse(const char *text)
{
    nc_genotype g;
    nc_error err;
    if (nc_genotype_parse(text, "<test>", &g, &err))
        fail_msg("%s", err.msg);
    return g;
}
