# Loads the conv, capscell and flatcaps layer plugins from the build tree's
# plugin folder (the init test chains whole networks through them).
nc_add_test(test_layers_deepcaps SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_layers_deepcaps.c)
add_dependencies(test_layers_deepcaps nc_plugin_conv nc_plugin_caps nc_plugin_capscell
                 nc_plugin_flatcaps)
