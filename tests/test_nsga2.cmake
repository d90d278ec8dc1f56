# test_nsga2: the optimizer plugins through the ABI; the synthetic objective
# builds every candidate through the layer plugins.
nc_add_test(test_nsga2 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_nsga2.c)
add_dependencies(test_nsga2 nc_plugin_nsga2 nc_plugin_random nc_plugin_conv
  nc_plugin_caps nc_plugin_capscell nc_plugin_flatcaps)
