/* nascaps/run.h - the search: evaluation loop, results store, resume,
 * stage 2 and the reports of a run (docs/RUN.md).
 *
 *     nc_run_opts opt;
 *     nc_run_opts_defaults(&opt);
 *     opt.progress = on_progress;          (per generation, per candidate)
 *     opt.stop = &flag;                    (set by a SIGINT handler)
 *     nc_run_outcome out;
 *     if (nc_run(reg, pipeline, &settings, &opt, &out, &err)) ...
 *     nc_run_report *r;
 *     if (nc_report_load(settings.output_dir, &r, &err)) ...
 *     ... r->front[i] ...
 *     nc_report_free(r);
 *
 * A run lives in its output folder: results.db (SQLite) holds everything,
 * the other files are written from it. Library code never prints:
 * progress goes through the callback. */
#ifndef NASCAPS_RUN_H
#define NASCAPS_RUN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "pipeline.h"
#include "optimizer.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ask index of the evaluations a `nascaps correlate` study stores, and
 * of the pipeline's baselines (no ask ever has these: never "seen"). */
#define NC_REPORT_CORRELATE_GEN 1000000000
#define NC_REPORT_BASELINE_GEN 1000000001

/* What a progress event is about. */
typedef enum nc_run_phase {
    NC_RUN_CANDIDATE = 0,   /* one candidate evaluated (or found in the cache) */
    NC_RUN_GENERATION,      /* a generation committed to the store */
    NC_RUN_FINAL_EPOCH,     /* stage 2: one epoch of a front member trained */
    NC_RUN_NOTE             /* a line worth showing (resume, time limit, ...) */
} nc_run_phase;

typedef struct nc_run_progress {
    int phase;                   /* an nc_run_phase */
    int generation;              /* completed generations (the optimizer's count) */
    int planned;                 /* generations planned (optimizer.generations), -1 unknown */
    int evaluated, cached, failed;   /* of this generation (so far) */
    int batch;                   /* candidates asked in this generation */
    int64_t evaluations;         /* distinct evaluations in the store */
    int front_size;              /* GENERATION: the population's first front (feasible) */
    double best_accuracy;        /* GENERATION: best in the population; NaN untrained */
    double hypervolume;          /* GENERATION: normalised (docs/RUN.md) */
    double elapsed_s;            /* the run's wall clock, over all its invocations */
    double eta_s;                /* NaN when unknown */
    /* CANDIDATE / FINAL_EPOCH: which one and how it went. */
    const char *id;              /* nc_genotype_id */
    const char *status;          /* "ok", "time_limit", "diverged", "refused", "invalid" */
    double accuracy;             /* NaN when not trained */
    int epoch, epochs;           /* FINAL_EPOCH */
    const char *note;            /* NOTE */
    /* Appended with parallel evaluation (docs/SCALE.md). */
    const char *worker;          /* CANDIDATE, FINAL_EPOCH: "w2@host", "serial"; NULL:
                                    from the cache */
    double seconds;              /* CANDIDATE, FINAL_EPOCH: its job's wall clock; NaN cached */
    double utilisation;          /* GENERATION: busy share of the workers, in [0, 1] */
} nc_run_progress;

typedef struct nc_run_opts {
    int force_new;   /* move an existing results.db aside (results.db.N) */
    /* Non-zero (set from a signal handler) stops the run cleanly: between
     * candidates, or inside a training at the next batch. May be NULL. */
    const volatile sig_atomic_t *stop;
    void (*progress)(const nc_run_progress *p, void *user);   /* may be NULL */
    void *user;
} nc_run_opts;

void nc_run_opts_defaults(nc_run_opts *opt);

typedef struct nc_run_outcome {
    int resumed;          /* the store already held part of this run */
    int stopped;          /* opt.stop ended it: run again to resume */
    int time_limit;       /* search.time_limit_h ended the search */
    int generations;      /* completed generations */
    int64_t evaluations;  /* distinct evaluations in the store */
    int64_t trained;      /* candidates trained by this invocation */
    int final_trained;    /* stage 2 members finished by this invocation */
    int mpi_worker;       /* this process was an MPI worker rank: nothing to report */
} nc_run_outcome;

/* A baseline genotype file, loaded and checked against the dataset's
 * shape (the message points to `nascaps adapt` when it does not fit). */
int nc_run_baseline_load(const char *path, const nc_data_shape *shape, nc_genotype *g,
                         nc_error *err);

/* Opens the optimizer section's plugin through nc_plugin_open and creates
 * it with env (borrowed until destroy): a plugin without the ABI 1.2
 * search entries is refused naming it. *info may be NULL. */
int nc_optimizer_open(nc_registry *reg, const nc_pipeline *p, nc_optimizer_env *env,
                      const nc_optimizer_ops **ops, void **h,
                      const nc_plugin_info **info, nc_error *err);

/* The tables of the sections the run loop owns (docs/CONFIG.md) and
 * their reader, which fills s->final_training and s->search. */
extern const nc_setting_spec nc_final_training_settings[];
extern const nc_setting_spec nc_search_settings[];
extern const nc_setting_spec nc_run_section_settings[];   /* section run */
extern const nc_setting_spec nc_constraints_settings[];   /* section constraints */
int nc_run_settings_read(const nc_pipeline *p, nc_settings *s, nc_error *err);

/* Runs (or resumes) the search of pipeline p in settings->output_dir:
 * locks the folder, opens or creates results.db, refuses a different
 * pipeline (unless opt->force_new), evaluates, stores, runs stage 2 and
 * writes pareto.csv, pareto.json, hypervolume.csv and front/<id>.chr.
 * A stop request is not an error: NC_OK with out->stopped set. */
int nc_run(nc_registry *reg, const nc_pipeline *p, const nc_settings *settings,
           const nc_run_opts *opt, nc_run_outcome *out, nc_error *err);

/* ---- Reports (read from results.db, also while a run goes on) ---------- */

/* One member of the final front. */
typedef struct nc_front_member {
    char id[13];
    char *genotype;              /* canonical text */
    double accuracy;             /* the search's (1 - accuracy_drop); NaN untrained */
    double test_accuracy, validation_accuracy;   /* NaN when not measured */
    double energy_mj, latency_ms, memory_kib;
    int64_t params, macs;
    int final_epochs;            /* stage 2 epochs done (0: none) */
    double final_test_accuracy;  /* NaN without stage 2 */
    double final_validation_accuracy;
    char *final_weights;         /* path relative to the output folder, or NULL */
    /* stage 2's best epoch on the test split (the paper quotes best
     * epochs); NaN and 0 without stage 2 */
    double final_best_accuracy;
    int final_best_epoch;
} nc_front_member;

/* One completed generation. */
typedef struct nc_generation_row {
    int generation;
    int evaluated, cached, failed;
    int front_size;
    double best_accuracy, hypervolume;
    double elapsed_s;
} nc_generation_row;

typedef struct nc_run_report {
    char *dir;                     /* the output folder */
    char *pipeline_text;           /* as stored */
    uint64_t seed;
    int n_objectives;
    int objectives[NC_OBJ_COUNT];  /* nc_objective values */
    int trains;                    /* accuracy_drop is an objective */
    /* Hypervolume normalisation: objective o maps to (v - lo) / (hi - lo);
     * the reference point is hv_reference in every objective. */
    int have_bounds;
    double bound_lo[NC_OBJ_COUNT], bound_hi[NC_OBJ_COUNT];
    double hv_reference;
    int64_t evaluations, failed;   /* distinct evaluations, failed ones */
    int n_generations;
    nc_generation_row *generations;
    int n_front;
    nc_front_member *front;        /* sorted as pareto.csv */
    int final_planned;             /* final_training.epochs */
    int search_done;               /* the optimizer said done (or time limit) */
} nc_run_report;

/* Opens dir/results.db read-only and reads the report. A missing, corrupt
 * or foreign database is refused with a message naming the file. */
int nc_report_load(const char *dir, nc_run_report **out, nc_error *err);
void nc_report_free(nc_run_report *r);

/* pareto.csv text (header `id,accuracy,energy_mJ,latency_ms,memory_KiB,
 * params,genotype,test_accuracy,final_accuracy,macs`: accuracy is the one
 * the search used, on the validation split when there is one;
 * test_accuracy on the test split; final_accuracy stage 2's on the test
 * split, empty without stage 2). malloc'd. */
char *nc_report_csv(const nc_run_report *r);
/* The report as one line of JSON (pareto.json, `--json`). malloc'd. */
char *nc_report_json(const nc_run_report *r);
/* Writes pareto.csv, pareto.json, hypervolume.csv and front/<id>.chr
 * (removing .chr files of former members) into r->dir. */
int nc_report_write_files(const nc_run_report *r, nc_error *err);

#ifdef __cplusplus
}
#endif
#endif
