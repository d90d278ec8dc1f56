# `nascaps adapt`, `train --adapt`, `estimate --adapt` and the mismatch
# hint, on the synthetic dataset through the conv and caps plugins.
nc_add_test(test_adapt_cli SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_adapt_cli.c
  LIBS PkgConfig::JANSSON)
add_dependencies(test_adapt_cli nc_plugin_conv nc_plugin_caps nc_plugin_synthetic
  nc_plugin_capsacc)
