# Reads the --json output with jansson; trains through the conv and caps
# layer plugins on the synthetic dataset plugin.
nc_add_test(test_train_cli SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_train_cli.c
  LIBS PkgConfig::JANSSON)
add_dependencies(test_train_cli nc_plugin_conv nc_plugin_caps nc_plugin_synthetic)
