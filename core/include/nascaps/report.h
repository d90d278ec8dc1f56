/* nascaps/report.h - everything a run stored, read back for figures, pages
 * and comparisons (docs/REPORT.md). Part of libnascaps: only reads
 * results.db (read-only, no lock, one read transaction, also while the
 * run writes). The drawing itself lives outside libnascaps (core/report/,
 * linked into the nascaps program), so plugins never pull in cairo.
 *
 *     nc_report_data *d;
 *     if (nc_report_data_load("runs/x", &d, &err)) ...
 *     for (int i = 0; i < d->n_evals; i++) ... d->evals[i].on_front ...
 *     nc_report_data_free(d);
 *
 * Everything read from the database is checked (ids, statuses, numbers in
 * range) and refused with a message naming the file and the record. */
#ifndef NASCAPS_REPORT_H
#define NASCAPS_REPORT_H

#include <stdint.h>

#include "error.h"
#include "pipeline.h"
#include "run.h"

#ifdef __cplusplus
extern "C" {
#endif

/* NC_REPORT_CORRELATE_GEN and NC_REPORT_BASELINE_GEN: run.h. */

/* One stored evaluation. */
typedef struct nc_report_eval {
    int64_t eval_id;
    char id[13];                 /* nc_genotype_id */
    char *genotype;              /* canonical text */
    int generation;              /* the ask that produced it (NC_REPORT_CORRELATE_GEN) */
    char status[16];             /* ok, time_limit, diverged, refused, invalid */
    int failed;                  /* status is not "ok" */
    int on_front;                /* member of the final front (pareto.csv) */
    double accuracy;             /* fraction; NaN when not measured */
    double energy_mj, latency_ms, memory_kib;   /* NaN when not measured */
    int64_t params, macs;
    double train_seconds;        /* NaN when not trained */
    int n_epochs;                /* complete epoch rows 1..n_epochs */
    double *epoch_accuracy;      /* the accuracy the search scores, per epoch */
    char *baseline;              /* a pipeline baseline: its file's name; else NULL */
} nc_report_eval;

/* What a completed generation had seen; parallel to run->generations. */
typedef struct nc_report_gen {
    int64_t evaluations;         /* evaluations asked up to this generation */
    double train_hours;          /* their summed training time */
    int n_front;
    int *front;                  /* the population's feasible first front: evals indices */
} nc_report_gen;

typedef struct nc_report_data {
    nc_run_report *run;          /* settings, generations, front (NULL: a correlate study) */
    char *dir;
    char *pipeline_text;
    int n_evals;
    nc_report_eval *evals;       /* in storage order */
    nc_report_gen *gens;         /* run->n_generations entries (NULL without run) */
    int correlate;               /* evaluations of a correlate study are present */
    int n_baselines;             /* evaluations with a baseline name */
    /* Appended: who evaluated (docs/SCALE.md), by worker name; none for a
     * results.db that records no worker. */
    int n_workers;
    struct nc_report_worker *workers;
} nc_report_data;

/* What one worker did in a run: its search (or correlate) evaluations
 * and stage-2 epochs. */
typedef struct nc_report_worker {
    char name[96];               /* "w2@host", "serial" */
    int64_t evaluations;
    double train_seconds;        /* their summed training time */
    int64_t final_epochs;        /* stage-2 epochs it trained */
    double final_seconds;
    int threads_min, threads_max;   /* training threads its results used */
} nc_report_worker;

int nc_report_data_load(const char *dir, nc_report_data **out, nc_error *err);
void nc_report_data_free(nc_report_data *d);

/* Value of objective o (nc_objective) of e as the search minimises it
 * (accuracy_drop = 1 - accuracy); NaN when not measured. */
double nc_report_objective(const nc_report_eval *e, int o);

/* A hypervolume normalisation: objective o maps to (v - lo) / (hi - lo)
 * and the reference point is `reference` in every objective. */
typedef struct nc_report_norm {
    int n_objectives;
    int objectives[NC_OBJ_COUNT];
    double lo[NC_OBJ_COUNT], hi[NC_OBJ_COUNT];
    double reference;
} nc_report_norm;

/* One normalisation for several runs: accuracy_drop in [0, 1], each cost in
 * [0, its largest feasible value over every run's search candidates
 * (baselines and correlate studies left out)], reference
 * 1.1. Runs with different objectives or datasets are refused naming the
 * first difference (NC_ERR_INPUT). */
int nc_report_common_norm(nc_report_data *const *runs, int n, nc_report_norm *norm,
                          nc_error *err);
/* Hypervolume of the front of d's generation index g under norm; -1 on
 * an allocation failure. */
double nc_report_hypervolume(const nc_report_data *d, int g, const nc_report_norm *norm);

#ifdef __cplusplus
}
#endif
#endif
