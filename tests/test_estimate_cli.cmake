# Reads the --json output with jansson.
nc_add_test(test_estimate_cli SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_estimate_cli.c
  LIBS PkgConfig::JANSSON)
add_dependencies(test_estimate_cli nc_plugin_capsacc)
