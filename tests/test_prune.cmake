# test_prune: plans, the trainer hook and pruned searches read back with SQLite.
nc_add_test(test_prune SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_prune.c
  LIBS PkgConfig::SQLITE3)
