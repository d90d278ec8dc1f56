/* exec.h - executors: who evaluates the candidates the run loop submits
 * (docs/SCALE.md). One small ops table per transport (serial in-process,
 * local worker processes, MPI ranks) so the run loop and correlate never
 * branch on the transport; the coordinator stays the only writer of
 * results.db.
 *
 * Rules:
 * - submit() never blocks on an evaluation; collect() returns ONE result
 *   as it arrives (any order); the caller stores it at once and puts
 *   results back in its own order.
 * - A job's slot is the caller's index; it comes back in the result.
 * - A worker that dies is the executor's business: the local executor
 *   restarts it and redoes the job (a note says so); MPI ends the run
 *   with a message naming rank, host and candidate.
 * - Whoever creates destroys: nc_exec_destroy ends every worker. */
#ifndef NC_EXEC_H
#define NC_EXEC_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "run/run_internal.h"

/* Per-epoch rows a result carries at most. */
#define NC_EXEC_MAX_EPOCHS 1024
/* "w12@hostname" */
#define NC_EXEC_NAME_MAX 96

/* One candidate to evaluate. */
typedef struct nc_exec_job {
    int slot;
    int epochs;                          /* training epochs (the cache key's) */
    int trains;                          /* 0: costs only */
    char genotype[NC_GENOTYPE_STRING_MAX];
    nc_prune_plan prune;                 /* early stopping; epochs 0: none */
    /* Non-NULL: a stage-2 job, one epoch of final training from this
     * state (borrowed: the submitter keeps it until the result is
     * collected); epochs is then final_training.epochs and trains 1. */
    const nc_final_state *final;
} nc_exec_job;

/* What a worker sends back: the full record. */
typedef struct nc_exec_result {
    int slot;
    int stopped;                         /* a stop request cut it: nothing to keep */
    nc_eval_rec rec;                     /* generation and id are the caller's */
    int n_epochs;
    nc_epoch_rec *epochs;                /* NC_EXEC_MAX_EPOCHS, owned by the result */
    char worker[NC_EXEC_NAME_MAX];       /* "w2@host", "serial" */
    int threads;                         /* the worker's training threads */
    /* A stage-2 job's result: rec.status "ok" (epochs[0] is the epoch's
     * row, final the state after it), "diverged", "refused", or "error"
     * (the checkpoint could not be used: rec.reason says why, and the run
     * stops as a serial one would). */
    int is_final;
    nc_final_state final;                /* owned by the result */
} nc_exec_result;

int nc_exec_result_init(nc_exec_result *r, nc_error *err);
void nc_exec_result_free(nc_exec_result *r);

/* Progress of an executor (notes only: a restarted worker, ...). */
typedef void (*nc_exec_note_fn)(const char *text, void *user);

typedef struct nc_exec_ops {
    uint32_t size;                                 /* sizeof(nc_exec_ops) */
    const char *name;                              /* "serial", "workers", "mpi" */
    int (*workers)(void *h);                       /* jobs that may be in flight */
    int (*submit)(void *h, const nc_exec_job *job, nc_error *err);
    /* Blocks until one submitted job's result arrives (or the stop flag
     * rises: NC_OK with r->stopped). */
    int (*collect)(void *h, nc_exec_result *r, nc_error *err);
    /* Text for the run's records: "serial", "workers 3 (w1@host threads=1, ...)". */
    void (*describe)(void *h, char *buf, size_t size);
    /* Seconds every worker spent evaluating since create (utilisation). */
    double (*busy_seconds)(void *h);
    void (*destroy)(void *h);
} nc_exec_ops;

typedef struct nc_executor {
    const nc_exec_ops *ops;
    void *h;
    double t0;                           /* when it was created */
} nc_executor;

/* What every executor's workers evaluate with: borrowed, and inherited by
 * forked workers. env->topt->epochs is replaced by each job's epochs. */
typedef struct nc_exec_env {
    nc_eval_env eval;
    const nc_settings *s;
    const nc_pipeline *p;
    int (*stopped)(void *user);          /* the caller's stop test, may be NULL */
    void *stop_user;
    nc_exec_note_fn note;
    void *note_user;
    /* > 0: this worker's training threads: training.threads when set, else
     * its share of the node's cores, the bound of the automatic choice */
    int threads;
} nc_exec_env;

/* The serial executor: evaluates in collect(), in submit order. */
int nc_exec_serial_create(const nc_exec_env *env, nc_executor *out, nc_error *err);
/* n local worker processes (fork; each inherits the loaded dataset and
 * plugins) with threads training threads each. */
int nc_exec_local_create(const nc_exec_env *env, int n, int threads, nc_executor *out,
                         nc_error *err);

/* Picks the executor for settings: MPI when this process is rank 0 of an
 * MPI job with more than one rank, local workers when run.workers > 1,
 * else serial. */
int nc_exec_open(const nc_exec_env *env, nc_executor *out, nc_error *err);
void nc_exec_close(nc_executor *x);

/* ---- Links: how messages reach the workers (pool.c runs the executor) ------ */

/* The coordinator's side of a transport to workers 1..n. Messages are
 * whole wire texts (NUL-terminated). */
typedef struct nc_link_ops {
    const char *name;                    /* "workers", "mpi" */
    int (*send)(void *t, int k, const char *msg, nc_error *err);
    /* Waits up to ms for one message from any worker: *k (1..n) and *msg
     * (malloc'd). *k = 0 when nothing came; *dead = 1 (msg NULL) when
     * worker k is gone, *why says how ("killed by signal 9"). */
    int (*recv)(void *t, int *k, char **msg, int *dead, char *why, size_t why_size, int ms,
                nc_error *err);
    /* Starts worker k again after it died; NULL: a dead worker ends the run. */
    int (*restart)(void *t, int k, nc_error *err);
    /* Tells every worker to quit (ok) or ends them (!ok), frees t. */
    void (*destroy)(void *t, int ok);
} nc_link_ops;

/* An executor over n workers reached through link (which it then owns). */
int nc_exec_pool_create(const nc_exec_env *env, const nc_link_ops *link, void *t, int n,
                        nc_executor *out, nc_error *err);

/* The worker's side: sends its hello, then evaluates each job until quit.
 * send/recv move one whole message to/from the coordinator (recv: *msg
 * malloc'd, NULL at end of stream). */
typedef struct nc_worker_link {
    int (*send)(void *t, const char *msg, nc_error *err);
    int (*recv)(void *t, char **msg, nc_error *err);
    void *t;
} nc_worker_link;
int nc_exec_serve(const nc_exec_env *env, const char *name, const char *start_error,
                  const nc_worker_link *l, nc_error *err);

/* ---- MPI (exec_mpi.c) ---------------------------------------------------------- */

/* 1 when the environment says this process was started by mpirun/srun
 * (OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_RANK). */
int nc_exec_under_mpi(void);
/* Initialises MPI (loading the MPI module); *rank and *size of the world.
 * Without MPI built: an error saying so. */
int nc_exec_mpi_init(int *rank, int *size, nc_error *err);
/* A worker rank: serves jobs until the coordinator says quit;
 * start_error (or NULL) says why it could not load what it needs. */
int nc_exec_mpi_serve(const nc_exec_env *env, const char *start_error, nc_error *err);
/* Under mpirun/srun, a rank other than 0 serves here: it loads the
 * pipeline's dataset and accelerator, evaluates what rank 0 sends until it
 * says quit, and sets *worker; it touches no output. Rank 0 and runs
 * outside MPI return at once with *worker = 0. stop: the command's stop
 * flag (may be NULL). */
int nc_exec_mpi_worker(nc_registry *reg, const nc_pipeline *p, const nc_settings *s,
                       const volatile sig_atomic_t *stop, int *worker, nc_error *err);
/* The coordinator's executor over ranks 1..size-1. */
int nc_exec_mpi_create(const nc_exec_env *env, nc_executor *out, nc_error *err);
/* How the MPI job ends when this process exits: finalize when ok, else
 * (also when never called) abort, ending every rank. */
void nc_exec_mpi_end(int ok);

/* ---- The wire protocol (wire.c), shared by local workers and MPI -------------- */

#define NC_WIRE_VERSION 2

/* Message texts (malloc'd, NUL-terminated). */
char *nc_wire_hello(const char *worker, int threads, uint64_t data_fp, uint64_t pipeline_hash,
                    const char *data_where, const char *error);
char *nc_wire_job(const nc_exec_job *job);
char *nc_wire_result(const nc_exec_result *r);
char *nc_wire_quit(void);

typedef struct nc_wire_hello_msg {
    char worker[NC_EXEC_NAME_MAX];
    int threads;
    uint64_t data_fp, pipeline_hash;
    char data_where[512];                /* the dataset's files, for a refusal */
    char error[NC_ERROR_MAX];            /* the worker could not start: why */
} nc_wire_hello_msg;

/* Parsers: one line naming `from` and what was expected on bad input
 * (NC_ERR_INPUT). */
int nc_wire_parse_hello(const char *msg, const char *from, nc_wire_hello_msg *out,
                        nc_error *err);
/* *quit = 1 for a quit message (job untouched). A stage-2 job's state
 * is parsed into *final (its buffers malloc'd: nc_final_state_free) and
 * job->final points at it; otherwise job->final is NULL. */
int nc_wire_parse_job(const char *msg, const char *from, nc_exec_job *job,
                      nc_final_state *final, int *quit, nc_error *err);
int nc_wire_parse_result(const char *msg, const char *from, nc_exec_result *r, nc_error *err);

/* The coordinator's check of a hello against its own dataset and
 * pipeline: refuses a worker that could not start or whose data differ,
 * naming the worker and the dataset's files. */
int nc_wire_check_hello(const nc_wire_hello_msg *h, uint64_t data_fp, uint64_t pipeline_hash,
                        nc_error *err);

/* Hash of the pipeline text and a description of the dataset's files
 * (the string settings of the dataset section). */
uint64_t nc_exec_pipeline_hash(const nc_pipeline *p);
void nc_exec_data_where(const nc_pipeline *p, char *buf, size_t size);

/* Evaluates one job with env (the worker side of every transport). */
int nc_exec_evaluate(const nc_exec_env *env, const nc_exec_job *job, nc_exec_result *r,
                     nc_error *err);

/* This host's name and "w<k>@<host>". */
void nc_exec_worker_name(int k, char *buf, size_t size);
/* Training threads for a worker sharing the node with `sharing` others:
 * training.threads when set, else the cores divided by sharing. */
int nc_exec_threads(const nc_settings *s, int sharing);

#endif
