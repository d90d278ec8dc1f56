# test_run: `nascaps run` / `report` end to end (fork + exec of the CLI,
# kill -9 and resume); reads results.db with SQLite and the --json line
# with jansson. Needs the nsga2 optimizer, the synthetic dataset, capsacc
# and the four layer plugins (costs-only runs sample DeepCaps networks too).
nc_add_test(test_run SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_run.c
  LIBS PkgConfig::SQLITE3 PkgConfig::JANSSON TIMEOUT 900)
add_dependencies(test_run nc_plugin_nsga2 nc_plugin_synthetic nc_plugin_capsacc
  nc_plugin_conv nc_plugin_caps nc_plugin_capscell nc_plugin_flatcaps)
