/* bench_estimate.c - accelerator estimates per second over the reference
 * chromosomes, on one core, through the in-process API:
 *
 *   estimate_per_s             parsed genotype -> validation, operations
 *                              (layer plugins), CapsAcc costs, totals
 *   cost_only_per_s            operation list -> totals (the plugin alone)
 *   estimate_with_parse_per_s  .chr text in memory -> parse -> totals
 *   estimate_with_load_per_s   .chr file -> read + parse -> totals
 *
 * Prints `name value` lines. Usage: bench_estimate [CHROMS_DIR] [SECONDS]
 * [ONLY] (default: the shared reference chromosomes, skipped when absent;
 * 1 s per measure; ONLY = estimate|cost|parse|load runs one measure, for
 * profiling). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "nascaps/estimate.h"
#include "nascaps/network.h"

#define MAX_CHROMS 1024

typedef struct chrom {
    char path[4096];
    char *text;
    nc_genotype g;
    nc_hw_op ops[NC_NETWORK_MAX_HW_OPS];
    int n_ops;
} chrom;

static chrom chroms[MAX_CHROMS];
static int n_chroms;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const chrom *)a)->path, ((const chrom *)b)->path);
}

static void collect(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) && n_chroms < MAX_CHROMS) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0)
            continue;
        size_t len = strlen(e->d_name);
        if (S_ISDIR(st.st_mode))
            collect(path);
        else if (len > 4 && strcmp(e->d_name + len - 4, ".chr") == 0)
            snprintf(chroms[n_chroms++].path, sizeof chroms[0].path, "%s", path);
    }
    closedir(d);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 16);
    size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* Runs body over all chromosomes until `seconds` have passed; returns
 * estimates per second. */
#define TIMED(rate, name, seconds, body)                                           \
    do {                                                                     \
        (rate) = 0;                                                          \
        if (only && strcmp(only, (name)) != 0)                                 \
            break;                                                           \
        long done_ = 0;                                                      \
        double t0_ = now_s(), t_;                                            \
        do {                                                                 \
            for (int rep_ = 0; rep_ < 16; rep_++)                            \
                for (int i = 0; i < n_chroms; i++) {                         \
                    body;                                                    \
                }                                                            \
            done_ += 16L * n_chroms;                                         \
            t_ = now_s() - t0_;                                              \
        } while (t_ < (seconds));                                            \
        (rate) = (double)done_ / t_;                                         \
    } while (0)

int main(int argc, char **argv)
{
    char dir[4096];
    if (argc > 1)
        snprintf(dir, sizeof dir, "%s", argv[1]);
    else
        snprintf(dir, sizeof dir, "%s/reference/chroms", NC_BENCH_SHARED_DIR);
    double seconds = argc > 2 ? atof(argv[2]) : 1.0;
    if (!(seconds > 0))
        seconds = 1.0;
    const char *only = argc > 3 ? argv[3] : NULL;

    collect(dir);
    if (n_chroms == 0) {
        printf("bench_estimate: SKIPPED: no .chr files under %s\n", dir);
        return 0;
    }
    qsort(chroms, (size_t)n_chroms, sizeof chroms[0], by_path);

    nc_error err;
    nc_error_clear(&err);
    nc_pipeline *p = NULL;
    nc_registry *reg = nc_registry_new();
    nc_accelerator *acc = NULL;
    if (!reg || nc_pipeline_load(NULL, NULL, 0, &p, &err) ||
        nc_accelerator_open(reg, p, NULL, &acc, &err)) {
        fprintf(stderr, "bench_estimate: %s\n", err.msg);
        return 1;
    }
    long total_ops = 0;
    for (int i = 0; i < n_chroms; i++) {
        chrom *c = &chroms[i];
        c->text = read_text(c->path);
        if (!c->text || nc_genotype_parse(c->text, c->path, &c->g, &err) ||
            nc_network_hw_ops(reg, &c->g, c->path, c->ops, &c->n_ops, &err)) {
            fprintf(stderr, "bench_estimate: %s\n", c->text ? err.msg : c->path);
            return 1;
        }
        total_ops += c->n_ops;
    }

    double sink = 0, rate_estimate, rate_cost, rate_parse, rate_load;
    nc_estimate e;
    int failed = 0;
    TIMED(rate_estimate, "estimate", seconds, {
        failed |= nc_estimate_genotype(acc, reg, &chroms[i].g, chroms[i].path, &e, &err);
        sink += e.energy_mj;
    });
    TIMED(rate_cost, "cost", seconds, {
        failed |= nc_accelerator_cost(acc, chroms[i].ops, chroms[i].n_ops, NULL, &e, &err);
        sink += e.energy_mj;
    });
    TIMED(rate_parse, "parse", seconds, {
        nc_genotype g;
        failed |= nc_genotype_parse(chroms[i].text, chroms[i].path, &g, &err);
        failed |= nc_estimate_genotype(acc, reg, &g, chroms[i].path, &e, &err);
        sink += e.energy_mj;
    });
    TIMED(rate_load, "load", seconds, {
        nc_genotype g;
        failed |= nc_genotype_load(chroms[i].path, &g, &err);
        failed |= nc_estimate_genotype(acc, reg, &g, chroms[i].path, &e, &err);
        sink += e.energy_mj;
    });
    if (failed) {
        fprintf(stderr, "bench_estimate: %s\n", err.msg);
        return 1;
    }

    printf("chromosomes %d\n", n_chroms);
    printf("ops_per_genotype %.2f\n", (double)total_ops / n_chroms);
    printf("estimate_per_s %.0f\n", rate_estimate);
    printf("estimate_ns %.1f\n", rate_estimate > 0 ? 1e9 / rate_estimate : 0.0);
    printf("cost_only_per_s %.0f\n", rate_cost);
    printf("estimate_with_parse_per_s %.0f\n", rate_parse);
    printf("estimate_with_load_per_s %.0f\n", rate_load);
    printf("checksum_energy_mJ %.6g\n", sink);

    for (int i = 0; i < n_chroms; i++)
        free(chroms[i].text);
    nc_accelerator_close(acc);
    nc_registry_free(reg);
    nc_pipeline_free(p);
    return 0;
}
