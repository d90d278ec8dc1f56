/* nascaps/correlate.h - how early accuracy predicts full training
 * (docs/CORRELATE.md; the paper's Section 4.2 and Table 2).
 *
 * N random genotypes of the pipeline's search space (plus named ones) are
 * trained for E epochs each; the accuracy after every epoch and the
 * training time go into the run's results.db (output.dir), keyed like the
 * search's evaluations, so a study resumes and reuses what is stored.
 * Per epoch e: Pearson's r between the accuracy at e and at E with
 * Fisher's 95 % interval, Spearman's rho, the median cumulative training
 * time; the smallest e whose r reaches the target is the recommended
 * training.epochs. Library code never prints: progress goes through the
 * callback. */
#ifndef NASCAPS_CORRELATE_H
#define NASCAPS_CORRELATE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "pipeline.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The correlate section (docs/CONFIG.md). */
typedef struct nc_correlate_cfg {
    int samples;       /* correlate.samples, 66 */
    int epochs;        /* correlate.epochs E, 10 */
    double target_r;   /* correlate.target_r, 0.95 */
} nc_correlate_cfg;

/* Reads and checks the correlate.* settings of p (absent: defaults);
 * messages in the settings form naming the file and line. */
/* The correlate section's table (docs/CONFIG.md). */
extern const nc_setting_spec nc_correlate_settings[];
int nc_correlate_cfg_read(const nc_pipeline *p, nc_correlate_cfg *cfg, nc_error *err);

typedef struct nc_correlate_progress {
    int index, total;      /* 1-based candidate, candidates in all */
    const char *id;        /* nc_genotype_id */
    const char *status;    /* "ok", "time_limit", "diverged", "refused", "invalid" */
    int cached;            /* found in the store: not trained now */
    double accuracy;       /* after the last epoch; NaN when not measured */
    double train_seconds;  /* its training time (as stored) */
    const char *note;      /* non-NULL: a line worth showing, nothing else set */
} nc_correlate_progress;

typedef struct nc_correlate_opts {
    nc_correlate_cfg cfg;
    const char *const *files;   /* .chr files studied before the samples */
    int n_files;
    /* Non-zero (set by a signal handler) stops between candidates or at
     * the next batch: run again to resume. May be NULL. */
    const volatile sig_atomic_t *stop;
    void (*progress)(const nc_correlate_progress *p, void *user);
    void *user;
} nc_correlate_opts;

/* One epoch's line of the study. NaN: undefined (constant accuracies,
 * fewer than 2 candidates; no interval below 4). */
typedef struct nc_correlate_row {
    int epoch;
    int n;                     /* candidates used */
    double pearson, ci_lo, ci_hi;
    double spearman;
    double median_seconds;     /* median cumulative training seconds */
} nc_correlate_row;

typedef struct nc_correlate_result {
    int candidates;            /* studied: files + distinct samples */
    int used;                  /* in the statistics */
    int failed;                /* excluded: not status ok, or an epoch unmeasured */
    int failed_by[5];          /* of those: time_limit, diverged, refused, invalid, other */
    int trained, cached;       /* by this invocation */
    int stopped;               /* opt.stop ended it (no statistics) */
    int epochs;                /* E */
    double target_r;
    int recommended;           /* smallest e with r >= target_r; 0: none */
    int validation;            /* 1: accuracies on the validation split, 0: test */
    nc_correlate_row *rows;    /* epochs rows, malloc'd */
    int mpi_worker;            /* this process was an MPI worker rank: nothing to report */
} nc_correlate_result;

/* Runs (or resumes) the study of pipeline p in settings->output_dir
 * (locked like a run), then writes correlation.csv there. */
int nc_correlate(nc_registry *reg, const nc_pipeline *p, const nc_settings *settings,
                 const nc_correlate_opts *opt, nc_correlate_result *out, nc_error *err);
void nc_correlate_result_free(nc_correlate_result *r);

/* correlation.csv: `epoch,n,pearson_r,ci_low,ci_high,spearman_rho,
 * median_cumulative_s`, numbers %.6f (seconds %.3f), undefined ones
 * empty. malloc'd. */
char *nc_correlate_csv(const nc_correlate_result *r);

#ifdef __cplusplus
}
#endif
#endif
