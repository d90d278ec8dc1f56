# test_cli_validate: `nascaps validate` against fake dataset, accelerator and
# optimizer plugins (tests/validate/fakes.c) kept in a folder of their own,
# which only the test's pipelines name in plugin_path.
set(NC_VALIDATE_PLUGIN_DIR "${CMAKE_CURRENT_BINARY_DIR}/validate_plugins")
add_library(nc_validate_fakes MODULE ${CMAKE_CURRENT_SOURCE_DIR}/validate/fakes.c)
set_target_properties(nc_validate_fakes PROPERTIES PREFIX "" OUTPUT_NAME fakes
  C_VISIBILITY_PRESET hidden LIBRARY_OUTPUT_DIRECTORY "${NC_VALIDATE_PLUGIN_DIR}")
target_link_libraries(nc_validate_fakes PRIVATE nascaps)

nc_add_test(test_cli_validate SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_validate.c
  LIBS PkgConfig::JANSSON)
target_compile_definitions(test_cli_validate PRIVATE
  NC_VALIDATE_PLUGIN_DIR="${NC_VALIDATE_PLUGIN_DIR}")
add_dependencies(test_cli_validate nc_validate_fakes)
