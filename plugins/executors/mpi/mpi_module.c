/* mpi_module.c - libnascaps_mpi.so: the MPI calls of the evaluation
 * protocol behind nc_mpi_module (core/src/exec/mpi_module.h). Loaded by
 * libnascaps with RTLD_GLOBAL because Open MPI's own components (loaded by
 * MPI_Init) need libmpi's symbols global. Waiting polls with MPI_Iprobe and
 * short sleeps: a blocking MPI_Recv spins a core, which an idle worker
 * must not take from the ranks training beside it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mpi.h>

#include "exec/mpi_module.h"

#define TAG 7
#define POLL_NS 2000000L

static void mpi_text(int code, const char *what, char *msg, size_t size)
{
    char text[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(code, text, &len);
    snprintf(msg, size, "MPI %s: %s", what, text);
}

static int m_init(int *rank, int *size, int *node_ranks, char *msg, size_t msg_size)
{
    int done = 0;
    MPI_Initialized(&done);
    if (!done) {
        int provided, rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS) {
            mpi_text(rc, "init", msg, msg_size);
            return 1;
        }
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    MPI_Comm node;
    *node_ranks = 1;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        /* rank 0 trains nothing: it does not count on its node */
        int is_root = *rank == 0, has_root = 0;
        MPI_Comm_size(node, node_ranks);
        if (MPI_Allreduce(&is_root, &has_root, 1, MPI_INT, MPI_MAX, node) == MPI_SUCCESS &&
            has_root && *node_ranks > 1)
            --*node_ranks;
        MPI_Comm_free(&node);
    }
    return 0;
}

static int m_send(int dest, const char *text, char *msg, size_t msg_size)
{
    size_t len = strlen(text);
    if (len > (size_t)1 << 30) {
        snprintf(msg, msg_size, "MPI send: a message of %zu bytes", len);
        return 1;
    }
    int rc = MPI_Send(text, (int)len, MPI_CHAR, dest, TAG, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) {
        mpi_text(rc, "send", msg, msg_size);
        return 1;
    }
    return 0;
}

static int m_recv(int from, int ms, int *src, char **text, char *msg, size_t msg_size)
{
    *text = NULL;
    *src = -1;
    struct timespec nap = {0, POLL_NS};
    for (long waited = 0;; waited += POLL_NS / 1000000L) {
        int flag = 0;
        MPI_Status st;
        int rc = MPI_Iprobe(from < 0 ? MPI_ANY_SOURCE : from, TAG, MPI_COMM_WORLD, &flag, &st);
        if (rc != MPI_SUCCESS) {
            mpi_text(rc, "probe", msg, msg_size);
            return 1;
        }
        if (flag) {
            int count = 0;
            MPI_Get_count(&st, MPI_CHAR, &count);
            char *buf = malloc((size_t)count + 1);
            if (!buf) {
                snprintf(msg, msg_size, "MPI recv: out of memory");
                return 1;
            }
            rc = MPI_Recv(buf, count, MPI_CHAR, st.MPI_SOURCE, TAG, MPI_COMM_WORLD,
                          MPI_STATUS_IGNORE);
            if (rc != MPI_SUCCESS) {
                free(buf);
                mpi_text(rc, "recv", msg, msg_size);
                return 1;
            }
            buf[count] = '\0';
            *text = buf;
            *src = st.MPI_SOURCE;
            return 0;
        }
        if (ms >= 0 && waited >= ms)
            return 0;
        nanosleep(&nap, NULL);
    }
}

static void m_finalize(void)
{
    int done = 0;
    MPI_Finalized(&done);
    if (!done)
        MPI_Finalize();
}

static void m_abort(int code)
{
    MPI_Abort(MPI_COMM_WORLD, code);
}

static const nc_mpi_module module = {sizeof(nc_mpi_module), m_init, m_send, m_recv, m_finalize,
                                     m_abort};

__attribute__((visibility("default"))) const nc_mpi_module *nascaps_mpi_module(void);

const nc_mpi_module *nascaps_mpi_module(void)
{
    return &module;
}
