/* exec_mpi.c - the MPI transport (docs/SCALE.md): every rank runs the same
 * `nascaps run PIPELINE`; rank 0 coordinates through the pool executor,
 * ranks 1..N-1 serve jobs. libnascaps does not link libmpi: the MPI calls
 * live in libnascaps_mpi.so beside libnascaps.so, loaded on demand with
 * RTLD_GLOBAL (Open MPI's components, dlopen'ed by MPI_Init, resolve
 * libmpi's symbols globally). MPI is process-wide state, so the module and
 * the world's figures are too (set once by nc_exec_mpi_init). */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/exec.h"
#include "exec/mpi_module.h"

static const nc_mpi_module *mpi;
static int world_rank, world_size, node_ranks, end_ok;

int nc_exec_under_mpi(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

/* Runs at exit, after the command printed its messages: finalize after a
 * clean end (nc_exec_mpi_end(1)); otherwise (an error, a stop, a return
 * that never said it ended well) abort, which ends every rank: a rank
 * waiting for a message that will never come must not hang the job. */
static void at_exit(void)
{
    if (end_ok)
        mpi->finalize();
    else
        mpi->abort(1);
}

static int load_module(nc_error *err)
{
    Dl_info info;
    char path[NC_PATH_MAX];
    if (!dladdr((void *)nc_exec_under_mpi, &info) || !info.dli_fname)
        return nc_error_set(err, NC_ERR_INTERNAL, "MPI: cannot locate libnascaps (dladdr)");
    snprintf(path, sizeof path, "%s", info.dli_fname);
    char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    snprintf(path + dir, sizeof path - dir, "%s", NC_MPI_MODULE_FILE);
    if (access(path, F_OK) != 0)
        return nc_error_set(err, NC_ERR_INPUT,
                            "started under mpirun/srun, but this nascaps was built without MPI "
                            "(no %s): install libopenmpi-dev and rebuild, or use --workers N on "
                            "one machine",
                            path);
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
    if (!h)
        return nc_error_set(err, NC_ERR_INPUT, "%s: not loadable: %s", path, dlerror());
    nc_mpi_module_fn fn = (nc_mpi_module_fn)dlsym(h, NC_MPI_MODULE_SYMBOL);
    const nc_mpi_module *m = fn ? fn() : NULL;
    if (!m || m->size < sizeof *m)
        return nc_error_set(err, NC_ERR_INPUT, "%s: no usable '%s' (another nascaps build?)",
                            path, NC_MPI_MODULE_SYMBOL);
    mpi = m;
    return NC_OK;
}

int nc_exec_mpi_init(int *rank, int *size, nc_error *err)
{
    if (!mpi) {
        int rc = load_module(err);
        if (rc)
            return rc;
        char msg[NC_ERROR_MAX];
        if (mpi->init(&world_rank, &world_size, &node_ranks, msg, sizeof msg)) {
            mpi = NULL;
            return nc_error_set(err, NC_ERR_INTERNAL, "%s", msg);
        }
        atexit(at_exit);
    }
    *rank = world_rank;
    *size = world_size;
    return NC_OK;
}

void nc_exec_mpi_end(int ok)
{
    end_ok = ok;
}

/* ---- A worker rank ---------------------------------------------------------- */

static int w_send(void *t, const char *text, nc_error *err)
{
    (void)t;
    char msg[NC_ERROR_MAX];
    if (mpi->send(0, text, msg, sizeof msg))
        return nc_error_set(err, NC_ERR_INTERNAL, "%s", msg);
    return NC_OK;
}

static int w_recv(void *t, char **text, nc_error *err)
{
    (void)t;
    char msg[NC_ERROR_MAX];
    int src;
    if (mpi->recv(0, -1, &src, text, msg, sizeof msg))
        return nc_error_set(err, NC_ERR_INTERNAL, "%s", msg);
    return NC_OK;
}

int nc_exec_mpi_serve(const nc_exec_env *env, const char *start_error, nc_error *err)
{
    if (!mpi)
        return nc_error_set(err, NC_ERR_INTERNAL, "MPI: serve before init");
    nc_exec_env me = *env;
    /* the node's cores shared by the ranks on it */
    me.threads = nc_exec_threads(env->s, node_ranks);
    char name[NC_EXEC_NAME_MAX];
    nc_exec_worker_name(world_rank, name, sizeof name);
    nc_worker_link wl = {w_send, w_recv, NULL};
    return nc_exec_serve(&me, name, start_error, &wl, err);
}

/* ---- Rank 0 ------------------------------------------------------------------- */

static int c_send(void *t, int k, const char *text, nc_error *err)
{
    (void)t;
    char msg[NC_ERROR_MAX];
    if (mpi->send(k, text, msg, sizeof msg))
        return nc_error_set(err, NC_ERR_INTERNAL, "rank %d: %s", k, msg);
    return NC_OK;
}

static int c_recv(void *t, int *k, char **text, int *dead, char *why, size_t why_size, int ms,
                  nc_error *err)
{
    (void)t;
    (void)why;
    (void)why_size;
    *dead = 0;
    char msg[NC_ERROR_MAX];
    int src = -1;
    if (mpi->recv(-1, ms, &src, text, msg, sizeof msg))
        return nc_error_set(err, NC_ERR_INTERNAL, "%s", msg);
    *k = *text ? src : 0;
    return NC_OK;
}

static void c_destroy(void *t, int ok)
{
    (void)t;
    if (!ok)
        return;   /* abort at exit ends the workers */
    char *quit = nc_wire_quit();
    char msg[NC_ERROR_MAX];
    for (int k = 1; quit && k < world_size; k++)
        mpi->send(k, quit, msg, sizeof msg);
    free(quit);
}

/* A dead rank cannot be replaced: mpirun ends the job, and the run
 * resumes from the store. */
static const nc_link_ops mpi_ops = {"mpi", c_send, c_recv, NULL, c_destroy};

int nc_exec_mpi_create(const nc_exec_env *env, nc_executor *out, nc_error *err)
{
    if (!mpi || world_size < 2)
        return nc_error_set(err, NC_ERR_INTERNAL, "MPI: no worker ranks");
    return nc_exec_pool_create(env, &mpi_ops, NULL, world_size - 1, out, err);
}

/* ---- A worker rank's whole life ---------------------------------------------------- */

static int worker_stop(void *user)
{
    const volatile sig_atomic_t *stop = user;
    return stop && *stop;
}

int nc_exec_mpi_worker(nc_registry *reg, const nc_pipeline *p, const nc_settings *s,
                       const volatile sig_atomic_t *stop, int *worker, nc_error *err)
{
    *worker = 0;
    if (!nc_exec_under_mpi())
        return NC_OK;
    int rank = 0, size = 1;
    int rc = nc_exec_mpi_init(&rank, &size, err);
    if (rc || rank == 0)
        return rc;
    *worker = 1;
    nc_data *data = NULL;
    nc_accelerator *acc = NULL;
    nc_error start;
    nc_error_clear(&start);
    int bad = nc_data_open(reg, p, &data, &start) ||
              nc_accelerator_open(reg, p, NULL, &acc, &start);
    nc_train_opts topt;
    nc_train_opts_from_settings(&topt, s);
    topt.stop = worker_stop;
    topt.user = (void *)(uintptr_t)stop;
    nc_exec_env env;
    memset(&env, 0, sizeof env);
    env.eval = (nc_eval_env){reg, acc, data, &topt, s->training.routings, 1, s};
    env.s = s;
    env.p = p;
    rc = nc_exec_mpi_serve(&env, bad ? start.msg : NULL, err);
    nc_exec_mpi_end(rc == NC_OK);
    nc_accelerator_close(acc);
    nc_data_close(data);
    return rc;
}
