# test_correlate: `nascaps correlate` end to end on the synthetic dataset
# (fork + exec of the CLI, kill -9 and resume, a search sharing its
# evaluations); reads results.db with SQLite and the --json line with jansson.
nc_add_test(test_correlate SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_correlate.c
  LIBS PkgConfig::SQLITE3 PkgConfig::JANSSON TIMEOUT 600)
add_dependencies(test_correlate nc_plugin_random nc_plugin_synthetic nc_plugin_capsacc
  nc_plugin_conv nc_plugin_caps)
