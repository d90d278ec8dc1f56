# test_constraints: budgets in a real (synthetic) search, read back with SQLite.
nc_add_test(test_constraints SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_constraints.c
  LIBS PkgConfig::SQLITE3)
