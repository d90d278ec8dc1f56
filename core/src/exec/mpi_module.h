/* mpi_module.h - the table the MPI module (plugins/executors/mpi,
 * libnascaps_mpi.so) exports to libnascaps: only the few MPI calls the
 * evaluation protocol needs, so libnascaps never links libmpi. Messages
 * are whole wire texts (exec.h). Errors: non-zero, the text in msg. */
#ifndef NC_MPI_MODULE_H
#define NC_MPI_MODULE_H

#include <stddef.h>
#include <stdint.h>

#define NC_MPI_MODULE_SYMBOL "nascaps_mpi_module"
#define NC_MPI_MODULE_FILE "libnascaps_mpi.so"

typedef struct nc_mpi_module {
    uint32_t size;                        /* sizeof(nc_mpi_module) */
    /* MPI_Init; the world's rank and size, and the worker ranks on this
     * node (MPI_Comm_split_type shared; rank 0 not counted). */
    int (*init)(int *rank, int *size, int *node_ranks, char *msg, size_t msg_size);
    int (*send)(int dest, const char *text, char *msg, size_t msg_size);
    /* Waits up to ms for a message from `from` (-1: any rank): *src and
     * *text (malloc'd, NUL-terminated); *text NULL when none came. */
    int (*recv)(int from, int ms, int *src, char **text, char *msg, size_t msg_size);
    void (*finalize)(void);
    void (*abort)(int code);
} nc_mpi_module;

typedef const nc_mpi_module *(*nc_mpi_module_fn)(void);

#endif
