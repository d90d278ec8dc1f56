# test_host_checks: a lying accelerator and dataset plugin (tests/validate/fakes.c).
nc_add_test(test_host_checks SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_host_checks.c
  LIBS PkgConfig::JANSSON)
target_compile_definitions(test_host_checks PRIVATE
  NC_VALIDATE_PLUGIN_DIR="${NC_VALIDATE_PLUGIN_DIR}")
add_dependencies(test_host_checks nc_validate_fakes)
