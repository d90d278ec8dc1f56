/* bench_chroms.c - every release chromosome through the training engine on
 * synthetic data of its shape: build, a few training steps, one
 * evaluation, through nc_train exactly as a search candidate is trained.
 *
 *   bench_chroms [--dir DIR] [--batch B] [--steps S] [--max-params N]
 *                [--max-memory-mb M] [--threads T] [--only SUBSTRING]
 *
 * Defaults: the shared reference chromosomes (skipped when absent), batch
 * 2, 2 steps (train images = B x S), training.max_params 20,000,000,
 * 4096 MiB, 1 OpenBLAS thread (at batch 2 more threads cost more than they
 * give on small layers). The synthetic dataset of a chromosome has
 * size = first gene's insize / resize, channels = inch x incaps, classes =
 * the last gene's outch, B x S training images and 2 test images.
 *
 * Prints one table row per chromosome: parameters (network + decoder),
 * forward MACs of one image (network), the memory estimate, seconds per
 * training image and training images/s (nc_train's train_seconds over the
 * images trained, first batch included), the test accuracy of the 2 test
 * images, the status (ok / refused / diverged / error) and the reason.
 * Then `name value` lines: counts per status and, for
 * chrom_deepcaps.chr, deepcaps_train_img_per_s. */
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nascaps/train.h"

#define PATH_MAX_LEN 4096

typedef struct bench_opts {
    char dir[PATH_MAX_LEN];
    int batch, steps, threads;
    long long max_params, max_memory_mb;
    const char *only;
} bench_opts;

/* The .chr files in DIR and in its subfolders (the release's layout), each
 * level sorted by glob. */
static int collect(const char *dir, glob_t *gl)
{
    char pattern[PATH_MAX_LEN + 16];
    int flags = 0;
    memset(gl, 0, sizeof *gl);
    for (int depth = 0; depth < 2; depth++) {
        snprintf(pattern, sizeof pattern, depth ? "%s/*/*.chr" : "%s/*.chr", dir);
        int rc = glob(pattern, flags, NULL, gl);
        if (rc != 0 && rc != GLOB_NOMATCH)
            return -1;
        flags = GLOB_APPEND;
    }
    return (int)gl->gl_pathc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_chroms [--dir DIR] [--batch B] [--steps S] [--max-params N] "
                    "[--max-memory-mb M] [--threads T] [--only SUBSTRING]\n");
    exit(2);
}

static long long arg_int(int argc, char **argv, int *i, long long lo)
{
    if (*i + 1 >= argc)
        usage();
    char *end;
    long long v = strtoll(argv[++*i], &end, 10);
    if (*end || v < lo)
        usage();
    return v;
}

static void parse_args(int argc, char **argv, bench_opts *o)
{
    snprintf(o->dir, sizeof o->dir, "%s/reference/chroms", NC_BENCH_SHARED_DIR);
    o->batch = 2;
    o->steps = 2;
    o->threads = 1;
    o->max_params = 20000000;
    o->max_memory_mb = 4096;
    o->only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            snprintf(o->dir, sizeof o->dir, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--batch"))
            o->batch = (int)arg_int(argc, argv, &i, 1);
        else if (!strcmp(argv[i], "--steps"))
            o->steps = (int)arg_int(argc, argv, &i, 1);
        else if (!strcmp(argv[i], "--threads"))
            o->threads = (int)arg_int(argc, argv, &i, 0);
        else if (!strcmp(argv[i], "--max-params"))
            o->max_params = arg_int(argc, argv, &i, 0);
        else if (!strcmp(argv[i], "--max-memory-mb"))
            o->max_memory_mb = arg_int(argc, argv, &i, 0);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            o->only = argv[++i];
        else
            usage();
    }
}

/* The path below the chromosome folder, for a short row label. */
static const char *label_of(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && path[n] == '/' ? path + n + 1 : path;
}

typedef struct row {
    const char *status;
    char reason[NC_ERROR_MAX];
    long long params, macs;
    double memory_mb, s_per_img, img_per_s, test_accuracy, wall_s;
} row;

/* Trains one chromosome; fills r whatever happens (errors are a status). */
static void run_one(nc_registry *reg, const char *path, const bench_opts *o, row *r)
{
    memset(r, 0, sizeof *r);
    r->test_accuracy = NAN;
    r->status = "error";
    double t0 = now_s();
    nc_error err;
    nc_error_clear(&err);
    nc_genotype g;
    if (nc_genotype_load(path, &g, &err)) {
        snprintf(r->reason, sizeof r->reason, "%s", err.msg);
        return;
    }
    const nc_gene *first = &g.layers[0], *last = &g.layers[g.n_layers - 1];
    if (g.resize < 1 || first->insize % g.resize) {
        snprintf(r->reason, sizeof r->reason, "first insize %d is not a multiple of resize %d",
                 first->insize, g.resize);
        return;
    }
    char set[6][64];
    snprintf(set[0], sizeof set[0], "dataset.size=%d", first->insize / g.resize);
    snprintf(set[1], sizeof set[1], "dataset.channels=%d", first->inch * first->incaps);
    snprintf(set[2], sizeof set[2], "dataset.classes=%d", last->outch);
    snprintf(set[3], sizeof set[3], "dataset.train_count=%lld",
             (long long)o->batch * o->steps);
    snprintf(set[4], sizeof set[4], "dataset.test_count=2");
    snprintf(set[5], sizeof set[5], "dataset.plugin=synthetic");
    const char *sets[6] = {set[0], set[1], set[2], set[3], set[4], set[5]};
    nc_pipeline *p = NULL;
    nc_data *data = NULL;
    if (nc_pipeline_load(NULL, sets, 6, &p, &err) || nc_data_open(reg, p, &data, &err)) {
        snprintf(r->reason, sizeof r->reason, "%s", err.msg);
        nc_pipeline_free(p);
        return;
    }
    nc_train_opts opt;
    nc_train_opts_defaults(&opt);
    opt.epochs = 1;
    opt.threads = o->threads;
    opt.net.max_batch = o->batch;
    opt.net.max_params = o->max_params;
    opt.net.max_memory_mb = o->max_memory_mb;
    nc_train_result res;
    if (nc_train(reg, data, &g, label_of(path, o->dir), &opt, NULL, &res, &err)) {
        snprintf(r->reason, sizeof r->reason, "%s", err.msg);
    } else {
        r->status = nc_train_status_name(res.status);
        snprintf(r->reason, sizeof r->reason, "%s", res.reason);
        r->params = (long long)(res.params + res.decoder_params);
        r->macs = (long long)res.macs;
        r->memory_mb = (double)res.memory.total / (1024.0 * 1024.0);
        r->test_accuracy = res.test_accuracy;
        if (res.status == NC_TRAIN_OK && res.train_img_per_s > 0) {
            r->img_per_s = res.train_img_per_s;
            r->s_per_img = 1.0 / res.train_img_per_s;
        }
        nc_train_result_free(&res);
    }
    nc_data_close(data);
    nc_pipeline_free(p);
    r->wall_s = now_s() - t0;
}

int main(int argc, char **argv)
{
    bench_opts o;
    parse_args(argc, argv, &o);
    glob_t gl;
    int n_paths = collect(o.dir, &gl);
    if (n_paths <= 0) {
        printf("bench_chroms: SKIPPED: no .chr files under %s\n", o.dir);
        globfree(&gl);
        return 0;
    }
    char **paths = gl.gl_pathv;
    nc_registry *reg = nc_registry_new();
    if (!reg) {
        fprintf(stderr, "bench_chroms: out of memory\n");
        globfree(&gl);
        return 3;
    }
    printf("# batch %d, %d steps, %d threads, training.max_params %lld, max_memory_mb %lld\n",
           o.batch, o.steps, o.threads, o.max_params, o.max_memory_mb);
    printf("%-52s %12s %14s %9s %10s %9s %5s %8s %7s  %s\n", "chromosome", "params", "MACs",
           "mem_MiB", "s_per_img", "img_per_s", "acc", "status", "wall_s", "reason");
    int counts[5] = {0, 0, 0, 0, 0};   /* ok, refused, diverged, other, error */
    double deepcaps_ips = -1;
    for (int i = 0; i < n_paths; i++) {
        const char *label = label_of(paths[i], o.dir);
        if (o.only && !strstr(label, o.only))
            continue;
        row r;
        run_one(reg, paths[i], &o, &r);
        printf("%-52s %12lld %14lld %9.1f %10.4f %9.1f %5.2f %8s %7.1f  %s\n", label, r.params,
               r.macs, r.memory_mb, r.s_per_img, r.img_per_s, r.test_accuracy, r.status,
               r.wall_s, r.reason);
        fflush(stdout);
        counts[!strcmp(r.status, "ok")         ? 0
               : !strcmp(r.status, "refused")  ? 1
               : !strcmp(r.status, "diverged") ? 2
               : !strcmp(r.status, "error")    ? 4
                                                : 3]++;
        if (!strcmp(label, "chrom_deepcaps.chr"))
            deepcaps_ips = r.img_per_s;
    }
    printf("status_ok %d\nstatus_refused %d\nstatus_diverged %d\nstatus_other %d\n"
           "status_error %d\n",
           counts[0], counts[1], counts[2], counts[3], counts[4]);
    if (deepcaps_ips >= 0)
        printf("deepcaps_train_img_per_s %.2f\n", deepcaps_ips);
    nc_registry_free(reg);
    globfree(&gl);
    return counts[4] || counts[2] ? 1 : 0;
}
