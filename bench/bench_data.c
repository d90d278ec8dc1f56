/* bench_data.c - dataset loading and batch throughput on the full
 * Fashion-MNIST (idx plugin): prints `name value` lines. Target: the
 * 70,000 images decoded in < 0.5 s. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nascaps/data.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int fail(const nc_error *err)
{
    fprintf(stderr, "bench_data: %s\n", err->msg);
    return 1;
}

int main(void)
{
    nc_error err;
    nc_error_clear(&err);
    nc_registry *reg = nc_registry_new();
    nc_pipeline *p = NULL;
    if (nc_pipeline_load(NULL, NULL, 0, &p, &err) != NC_OK)
        return fail(&err);
    double t0 = now();
    if (nc_registry_scan(reg, &err) != NC_OK)
        return fail(&err);
    double t1 = now();
    nc_data *d = NULL;
    clock_t c1 = clock();
    if (nc_data_open(reg, p, &d, &err) != NC_OK)
        return fail(&err);
    double t2 = now();
    /* CPU time as well: on a busy machine the wall clock says little */
    printf("fashion_open_cpu_s %.4f\n", (double)(clock() - c1) / CLOCKS_PER_SEC);
    const nc_data_summary *s = nc_data_info(d);
    printf("registry_scan_s %.4f\n", t1 - t0);
    printf("fashion_open_s %.4f\n", t2 - t1);
    printf("fashion_images %lld\n",
           (long long)(s->count[NC_DATA_TRAIN] + s->count[NC_DATA_TEST]));

    enum { B = 100 };
    float *img = malloc((size_t)B * 4 * 784 * sizeof *img);
    float *raw = malloc((size_t)B * 4 * 784 * sizeof *raw);
    int32_t lab[B];
    nc_rng shuffle, aug;
    nc_rng_seed(&shuffle, 1);
    nc_rng_seed(&aug, 2);
    const char *names[3] = {"batch_plain", "batch_shift", "batch_resize2_shift"};
    for (int mode = 0; mode < 3; mode++) {
        if (nc_data_set_resize(d, mode == 2 ? 2 : 1, &err) != NC_OK)
            return fail(&err);
        nc_data_iter *it;
        if (nc_data_iter_new(d, NC_DATA_TRAIN, B, &it, &err) != NC_OK)
            return fail(&err);
        nc_data_iter_start(it, &shuffle);
        size_t n, total = 0;
        double a = now();
        while (nc_data_iter_next(it, img, mode ? raw : NULL, lab,
                                 mode ? &aug : NULL, 0.1, &n, &err) == NC_OK && n)
            total += n;
        double b = now();
        if (err.status != NC_OK)
            return fail(&err);
        printf("%s_images_per_s %.0f\n", names[mode], (double)total / (b - a));
        nc_data_iter_free(it);
    }
    /* standard normalisation: the statistics pass over the train split */
    const char *sets[] = {"dataset.normalize=standard"};
    nc_pipeline *ps = NULL;
    nc_data *ds = NULL;
    if (nc_pipeline_load(NULL, sets, 1, &ps, &err) != NC_OK)
        return fail(&err);
    double c0 = now();
    if (nc_data_open(reg, ps, &ds, &err) != NC_OK)
        return fail(&err);
    printf("fashion_open_standard_s %.4f\n", now() - c0);
    nc_data_close(ds);
    nc_pipeline_free(ps);
    free(img);
    free(raw);
    nc_data_close(d);
    nc_pipeline_free(p);
    nc_registry_free(reg);
    return 0;
}
