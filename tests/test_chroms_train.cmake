# The release chromosomes train (a subset by default; all 66 with
# NASCAPS_TEST_ALL_CHROMS=1) through the layer plugins on the synthetic
# dataset. Long-ish: labelled `long`.
nc_add_test(test_chroms_train SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_chroms_train.c
  ${CMAKE_CURRENT_SOURCE_DIR}/nc_chroms.c TIMEOUT 900 LABELS long)
add_dependencies(test_chroms_train nc_plugin_conv nc_plugin_caps nc_plugin_capscell
  nc_plugin_flatcaps nc_plugin_synthetic)
