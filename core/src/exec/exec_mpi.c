/* exec_mpi.c - placeholder, replaced below */
#include <stdlib.h>

#include "exec/exec.h"

int nc_exec_under_mpi(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

int nc_exec_mpi_init(int *rank, int *size, nc_error *err)
{
    *rank = 0;
    *size = 1;
    return nc_error_set(err, NC_ERR_INPUT, "started under mpirun, but this nascaps was built without MPI");
}

int nc_exec_mpi_serve(const nc_exec_env *env, const char *start_error, nc_error *err)
{
    (void)env;
    (void)start_error;
    return nc_error_set(err, NC_ERR_INTERNAL, "no MPI");
}

int nc_exec_mpi_create(const nc_exec_env *env, nc_executor *out, nc_error *err)
{
    (void)env;
    (void)out;
    return nc_error_set(err, NC_ERR_INTERNAL, "no MPI");
}

void nc_exec_mpi_end(int ok)
{
    (void)ok;
}
