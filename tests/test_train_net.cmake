# Trains through the layer plugins on the synthetic dataset.
nc_add_test(test_train_net SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_train_net.c)
add_dependencies(test_train_net nc_plugin_conv nc_plugin_caps nc_plugin_capscell
  nc_plugin_flatcaps nc_plugin_synthetic)
