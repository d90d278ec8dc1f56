/* run_internal.h - the pieces of core/src/run shared between its files:
 * the results store (store.c), the output-folder lock and pipeline
 * comparison (folder.c), stage 2 (final.c), reports (report.c). */
#ifndef NC_RUN_INTERNAL_H
#define NC_RUN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nascaps/prune.h"
#include "nascaps/data.h"
#include "nascaps/error.h"
#include "nascaps/genotype.h"
#include "nascaps/pipeline.h"
#include "nascaps/registry.h"
#include "nascaps/rng.h"
#include "nascaps/run.h"

/* Format of results.db; a database of another format is refused. */
#define NC_STORE_FORMAT "nascaps-results-1"

/* ---- Results store (store.c) ----------------------------------------------- */

typedef struct nc_store nc_store;

/* Opens (readonly = 0: creating it when absent, in WAL mode with
 * synchronous = FULL) the database at path. A file that is not a
 * NASCaps results database is refused naming it. *fresh is set when the
 * database had no schema yet (readonly: refused). A writable open of a
 * database made before the worker / threads columns adds them (one
 * transaction); a read-only one leaves it as it is and reads them as
 * empty. */
int nc_store_open(const char *path, int readonly, nc_store **out, int *fresh,
                  nc_error *err);
void nc_store_close(nc_store *st);
const char *nc_store_path(const nc_store *st);
/* The connection, for readers with their own queries (report_data.c). */
struct sqlite3 *nc_store_sqlite(nc_store *st);

/* Transactions: every write of the run is one. */
int nc_store_begin(nc_store *st, nc_error *err);
int nc_store_commit(nc_store *st, nc_error *err);
/* A read transaction: one consistent view (ended by close). */
int nc_store_begin_read(nc_store *st, nc_error *err);
void nc_store_rollback(nc_store *st);

/* meta(key, value) */
int nc_store_meta_get(nc_store *st, const char *key, char **value, nc_error *err);
int nc_store_meta_set(nc_store *st, const char *key, const char *value, nc_error *err);

/* Statuses of an evaluation. */
#define NC_EVAL_STATUS_MAX 16
/* Who evaluated: "w12@hostname" (as NC_EXEC_NAME_MAX), "serial". */
#define NC_EVAL_WORKER_MAX 96

typedef struct nc_eval_rec {
    int64_t id;
    int generation;              /* index of the ask that first produced it */
    char gid[13];
    char genotype[NC_GENOTYPE_STRING_MAX];
    char cache_key[17];
    char status[NC_EVAL_STATUS_MAX];   /* ok, time_limit, diverged, refused, invalid,
                                          pruned, over_budget */
    char reason[NC_ERROR_MAX];
    double accuracy, test_accuracy, validation_accuracy;   /* NaN: none */
    double energy_mj, latency_ms, memory_kib;              /* NaN: none */
    int64_t params, macs;
    int epochs_done;
    double train_seconds, seconds;
    /* Who evaluated it: "w2@host" (a local worker or an MPI rank),
     * "serial" (the process running the search); empty: not recorded (a
     * database of an earlier version), stored as NULL. threads: that
     * worker's training threads (0: automatic per candidate). */
    char worker[NC_EVAL_WORKER_MAX];
    int threads;
} nc_eval_rec;

/* One epoch's row of an evaluation (or of a stage-2 training). */
typedef struct nc_epoch_rec {
    int epoch, complete;
    double train_loss, train_accuracy, test_accuracy, validation_accuracy, seconds;
} nc_epoch_rec;

/* *found = 0 when (genotype, cache_key) was never evaluated. */
int nc_store_eval_find(nc_store *st, const char *genotype, const char *cache_key,
                       nc_eval_rec *out, int *found, nc_error *err);
/* 1 when (genotype, cache_key) was evaluated by an ask before `generation`. */
int nc_store_eval_seen(nc_store *st, const char *genotype, const char *cache_key,
                       int generation);
int nc_store_eval_get(nc_store *st, int64_t id, nc_eval_rec *out, nc_error *err);
/* Inserts rec and its epochs in one transaction; sets rec->id. */
int nc_store_eval_add(nc_store *st, nc_eval_rec *rec, const nc_epoch_rec *epochs, int n,
                      nc_error *err);
/* *has = 1 when table has column (a results.db of an earlier version
 * lacks the columns added since). */
int nc_store_has_column(nc_store *st, const char *table, const char *column, int *has,
                        nc_error *err);
int nc_store_eval_counts(nc_store *st, int64_t *total, int64_t *failed, nc_error *err);

/* A completed generation, written in one transaction with its population. */
typedef struct nc_gen_rec {
    nc_generation_row row;
    const char *state;           /* the optimizer's save() text */
    nc_rng rng;                  /* the optimizer's rng after the tell */
    int n;                       /* population size */
    const int64_t *eval_ids;
    const int *rank;
    const double *crowding;
    const char *bounds;          /* hypervolume bounds to store, or NULL */
} nc_gen_rec;
int nc_store_generation_add(nc_store *st, const nc_gen_rec *g, nc_error *err);
/* The last generation's optimizer state (*state malloc'd, NULL when no
 * generation was stored), rng and elapsed seconds. */
int nc_store_last_generation(nc_store *st, int *generation, char **state, nc_rng *rng,
                             double *elapsed, nc_error *err);
/* Every generation row, in order (malloc'd). */
int nc_store_generations(nc_store *st, nc_generation_row **rows, int *n, nc_error *err);
/* The population of generation gen (arrays malloc'd). */
int nc_store_population(nc_store *st, int gen, int64_t **eval_ids, int **rank,
                        double **crowding, int *n, nc_error *err);

/* Stage 2 progress of one front member. */
typedef struct nc_final_rec {
    int64_t eval_id;
    int epochs_done;
    char status[NC_EVAL_STATUS_MAX];   /* training, ok, diverged, refused */
    char reason[NC_ERROR_MAX];
    double test_accuracy, validation_accuracy;
    char weights[256];                 /* relative to the output folder */
    nc_rng shuffle, augment;
    int64_t adam_step;
    const float *adam;                 /* writing: 2 * adam_count floats */
    float *adam_read;                  /* reading: malloc'd (caller frees) */
    size_t adam_count;
    double seconds;
    /* Who trains it, written into the final_epochs row that
     * nc_store_final_put inserts (as nc_eval_rec's); not read back. */
    char worker[NC_EVAL_WORKER_MAX];
    int threads;
} nc_final_rec;
/* Stage 2's best complete epoch of evaluation eval_id on the test split
 * (ties: the earliest); NaN and 0 when none. */
int nc_store_final_best(nc_store *st, int64_t eval_id, double *accuracy, int *epoch,
                        nc_error *err);
int nc_store_final_get(nc_store *st, int64_t eval_id, nc_final_rec *out, int *found,
                       nc_error *err);
/* Upserts rec and, when epoch is not NULL, its epoch row: one transaction. */
int nc_store_final_put(nc_store *st, const nc_final_rec *rec, const nc_epoch_rec *epoch,
                       nc_error *err);

/* Seconds of a monotonic clock. */
double nc_run_now(void);

/* ---- Evaluation (evaluate.c), shared by the search and correlate ------------ */

#include "nascaps/estimate.h"
#include "nascaps/train.h"

/* What an evaluation needs; all borrowed. */
typedef struct nc_eval_env {
    nc_registry *reg;
    nc_accelerator *acc;
    nc_data *data;                 /* may be NULL when !trains */
    const nc_train_opts *topt;
    int routings;                  /* for params/MACs */
    int trains;                    /* 0: costs only (no accuracy_drop) */
    const nc_settings *s;          /* constraints (budgets); may be NULL */
} nc_eval_env;

/* The cache key (16 hex digits) of evaluations made with these settings
 * and `epochs` epochs: the dataset fingerprint, the seed and every
 * training setting that changes a result ("costs-only" when !trains). */
int nc_run_cache_key(nc_registry *reg, const nc_settings *s, const nc_data *data, int trains,
                     int epochs, char key[17], nc_error *err);

/* Evaluates g into e (e->gid set by the caller; not stored): params, MACs,
 * accelerator costs and, when env->trains, the training with its
 * per-epoch rows (at most max_ep into ep). A genotype refused as input is
 * recorded as status "invalid" with its reason (NC_OK). *stopped when a
 * stop request cut the training: nothing to keep. */
int nc_run_evaluate(const nc_eval_env *env, const nc_genotype *g, nc_eval_rec *e,
                    nc_epoch_rec *ep, int max_ep, int *n_ep, int *stopped, nc_error *err);

/* Records who evaluated e (worker NULL: not recorded). */
void nc_run_rec_worker(nc_eval_rec *e, const char *worker, int threads);

/* Evaluates (or finds in the cache) each of s->baselines, refusing one
 * that does not fit the dataset, and records them in meta "baselines"
 * (baselines.c). *stopped when a stop request cut a training. */
int nc_run_baselines(const nc_eval_env *env, nc_store *st, const nc_settings *s,
                     const nc_data_shape *shape, const char *cache_key, int *stopped,
                     nc_error *err);

/* rng state as text ("%016llx" x 4) and back. */
void nc_run_rng_text(const nc_rng *rng, char buf[68]);
int nc_run_rng_parse(const char *text, nc_rng *rng);

/* ---- Output folder (folder.c) ------------------------------------------------ */

/* Takes the folder's lock (results.lock, an fcntl lock that dies with the
 * process). *fd is kept open for the run's life (close it to unlock). */
/* Refuses a folder whose run files (results.db and its journals, the lock,
 * the reports, front/ and what it holds) are symbolic links or not what
 * they should be: a folder from elsewhere must not redirect a write. */
int nc_run_folder_check(const char *dir, nc_error *err);
int nc_run_lock(const char *dir, int *fd, nc_error *err);
/* Moves dir/results.db (and its -wal) aside to results.db.N. */
int nc_run_move_aside(const char *dir, char *moved, size_t size, nc_error *err);
/* Compares two pipeline texts, ignoring the settings a resume may
 * change; *same = 1 when equal, else diff describes the first
 * difference ("training.epochs: 2 in the database, 3 now"). */
int nc_run_pipeline_compare(const char *stored, const char *now, int *same, char *diff,
                            size_t size, nc_error *err);
/* mkdir -p */
int nc_run_mkdirs(const char *dir, nc_error *err);
/* Writes text to dir/name through a temporary file and rename. */
int nc_run_write_file(const char *dir, const char *name, const char *text, nc_error *err);

/* ---- Stage 2 (final.c) ------------------------------------------------------- */

typedef struct nc_final_env {
    nc_registry *reg;
    nc_data *data;
    nc_store *st;
    const nc_settings *s;
    const char *dir;
    const nc_run_opts *opt;
} nc_final_env;

/* One stage-2 member's training state between two epochs: what a job
 * carries to a worker and its result carries back (docs/RUN.md, "Stage
 * 2"). The coordinator keeps the files and the store; a worker only
 * trains. Buffers are malloc'd and owned by whoever holds the state. */
typedef struct nc_final_state {
    int epochs_done;                   /* before this job's epoch (0: a fresh network) */
    nc_rng shuffle, augment;
    int64_t adam_step;
    unsigned char *weights;            /* the weights file's bytes; NULL when epochs_done 0 */
    size_t weights_len;
    float *adam;                       /* 2 * adam_count floats; NULL when epochs_done 0 */
    size_t adam_count;
    char origin[300];                  /* where the weights came from, for messages */
} nc_final_state;
void nc_final_state_free(nc_final_state *f);

/* The worker's half (final_epoch.c): trains genotype one epoch from in,
 * with the search's training settings (*threads: those it used,
 * training.threads, else the automatic choice bounded by max_threads, 0:
 * the machine's cores). status "ok" (out holds
 * the state after it and row the epoch's figures), "diverged" or
 * "refused" (reason says why); *stopped when the stop hook cut it. */
int nc_run_final_epoch(const nc_eval_env *env, int max_threads, const char *genotype,
                       const nc_final_state *in, char *status, size_t status_size,
                       char *reason, size_t reason_size, nc_epoch_rec *row, nc_final_state *out,
                       int *threads, int *stopped, nc_error *err);

struct nc_executor;
/* Trains every front member (eval ids) final_training.epochs on the
 * executor's workers, one epoch per job, one checkpoint per epoch
 * (front/<id>.e<N>.bin + the store's final row), and resumes from the
 * last one. *finished counts members completed now. */
int nc_run_final(const nc_final_env *env, struct nc_executor *x, const int64_t *front, int n,
                 int *finished, int *stopped, nc_error *err);

/* ---- Reports (report.c) -------------------------------------------------------- */

int nc_report_from_store(nc_store *st, const char *dir, nc_run_report **out, nc_error *err);
/* Opens dir/results.db read-only inside one read transaction. */
int nc_report_open(const char *dir, nc_store **st, nc_error *err);
/* The non-dominated feasible members of a population, by eval id
 * (malloc'd, sorted as pareto.csv). */
int nc_report_front_ids(nc_store *st, const int64_t *ids, int n, int n_obj,
                        const int *objectives, int64_t **front, int *n_front, nc_error *err);
/* Objective vector of an evaluation (pipeline order) and its violation. */
/* ---- Early stopping (prune_plan.c, nascaps/prune.h) ------------------------ */

/* What a generation's plans are made from; nc_run_prune_free releases it. */
typedef struct nc_run_prune {
    nc_prune_cfg cfg;
    nc_prune_history hist;
    double *gains[NC_PRUNE_MAX_EPOCHS];
    nc_prune_ref *refs;        /* the population, with curves */
    int n_refs, n_cost;
    void *curves;              /* per evaluation: its per-epoch accuracies */
    int n_curves;
} nc_run_prune;

void nc_run_prune_cfg(const nc_settings *s, nc_prune_cfg *cfg);
/* Reads the population the generation with ask index ask_index started
 * from and the curves of the evaluations of earlier generations under
 * cache_key. Nothing to read (pruning off, the first generation): an
 * empty context whose plans never stop anything. */
int nc_run_prune_begin(nc_store *st, const nc_settings *s, const char *cache_key, int ask_index,
                       nc_run_prune *pc, nc_error *err);
/* The plan of a candidate whose costs (energy, latency, memory, params,
 * MACs) are in costs. */
void nc_run_prune_plan(const nc_run_prune *pc, const nc_settings *s, const nc_eval_rec *costs,
                       nc_prune_plan *plan);
void nc_run_prune_free(nc_run_prune *pc);

/* The sum of the relative excesses of e's costs over the budgets of
 * s->constraints (0: within every budget); why (may be NULL) gets "over
 * budget: constraints.memory_KiB 412 > 300, ...". */
double nc_run_budget_excess(const nc_settings *s, const nc_eval_rec *e, char *why, size_t size);

void nc_run_objectives(const nc_eval_rec *e, int n_obj, const int *objectives, double *obj,
                       double *violation);
/* A record counts as failed (infeasible). */
int nc_run_failed(const nc_eval_rec *e);

#endif
