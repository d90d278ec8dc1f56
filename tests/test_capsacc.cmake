# The CapsAcc model is linked in directly (its unit tests call it without
# a pipeline); the plugin itself is exercised through the estimate API.
# test_capsacc_reference checks the synthesis tables of ../shared/reference.
nc_add_test(test_capsacc SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_capsacc.c
  ${CMAKE_SOURCE_DIR}/plugins/accelerators/capsacc/capsacc_model.c REFERENCE)
target_include_directories(test_capsacc PRIVATE ${CMAKE_SOURCE_DIR}/plugins/accelerators/capsacc)
add_dependencies(test_capsacc nc_plugin_capsacc)
