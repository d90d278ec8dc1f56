# Whole networks at init and the resize gene, through the layer plugins on
# the synthetic dataset; nc_chroms.c measures the init lengths.
nc_add_test(test_net_init SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_net_init.c
  ${CMAKE_CURRENT_SOURCE_DIR}/nc_chroms.c)
add_dependencies(test_net_init nc_plugin_conv nc_plugin_caps nc_plugin_capscell
  nc_plugin_flatcaps nc_plugin_synthetic)
