# Reads the --json output with jansson; test_estimate_cli_reference checks
# the figures of ../shared/reference.
nc_add_test(test_estimate_cli SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_estimate_cli.c
  LIBS PkgConfig::JANSSON REFERENCE)
add_dependencies(test_estimate_cli nc_plugin_capsacc)
