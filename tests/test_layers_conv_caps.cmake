# Loads the conv and caps layer plugins from the build tree's plugin folder.
nc_add_test(test_layers_conv_caps SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_layers_conv_caps.c)
add_dependencies(test_layers_conv_caps nc_plugin_conv nc_plugin_caps)
