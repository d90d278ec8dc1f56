# Crafted weights files against a network built through the layer plugins.
nc_add_test(test_weights_crafted SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_weights_crafted.c)
add_dependencies(test_weights_crafted nc_plugin_conv nc_plugin_caps nc_plugin_capscell
  nc_plugin_flatcaps)
