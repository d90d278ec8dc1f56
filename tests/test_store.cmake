# test_store: the run's internal store and folder functions (core/src/run),
# plus SQLite itself to make a foreign database.
nc_add_test(test_store SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_store.c
  LIBS PkgConfig::SQLITE3)
