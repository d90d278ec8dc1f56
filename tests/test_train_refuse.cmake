# Layer plugins named "conv" that cannot train, each in a folder of its
# own, found ahead of the real one through nc_registry_add_dir().
set(NC_TRAIN_FIXTURE_DIR "${CMAKE_CURRENT_BINARY_DIR}/train_fixtures")
foreach(case 1 2)
  add_library(fx_untrainable_${case} MODULE ${CMAKE_CURRENT_SOURCE_DIR}/train/untrainable.c)
  target_compile_definitions(fx_untrainable_${case} PRIVATE FIXTURE_CASE=${case})
  set_target_properties(fx_untrainable_${case} PROPERTIES PREFIX "" OUTPUT_NAME conv
    C_VISIBILITY_PRESET hidden LIBRARY_OUTPUT_DIRECTORY "${NC_TRAIN_FIXTURE_DIR}/case${case}")
  target_link_libraries(fx_untrainable_${case} PRIVATE nascaps)
endforeach()
nc_add_test(test_train_refuse SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_train_refuse.c)
target_compile_definitions(test_train_refuse PRIVATE NC_TRAIN_FIXTURE_DIR="${NC_TRAIN_FIXTURE_DIR}")
add_dependencies(test_train_refuse fx_untrainable_1 fx_untrainable_2 nc_plugin_caps
  nc_plugin_synthetic)
