# test_exec: parallel evaluation (the wire protocol, --workers, mpirun).
# The MPI cases run when the MPI module was built (plugins/executors/mpi);
# as root they set OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM), and --oversubscribe
# lets 3 ranks share 2 cores.
nc_add_test(test_exec SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_exec.c
  LIBS PkgConfig::SQLITE3 TIMEOUT 600)
if(NASCAPS_HAVE_MPI)
  target_compile_definitions(test_exec PRIVATE NC_TEST_HAVE_MPI=1 NC_TEST_MPIEXEC="${NASCAPS_MPIEXEC}")
  add_dependencies(test_exec nascaps_mpi)
else()
  target_compile_definitions(test_exec PRIVATE NC_TEST_HAVE_MPI=0 NC_TEST_MPIEXEC="")
endif()
add_dependencies(test_exec nc_plugin_nsga2 nc_plugin_synthetic nc_plugin_idx nc_plugin_capsacc
  nc_plugin_conv nc_plugin_caps nc_plugin_capscell nc_plugin_flatcaps)
