# The example accelerator built out of tree against an installed copy
# (tests/out_of_tree.sh installs this build to a temporary prefix).
add_test(NAME test_out_of_tree
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/out_of_tree.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set(T_ENV "NASCAPS_PLUGIN_PATH=")
if(NASCAPS_SANITIZE)
  string(APPEND T_ENV ";LSAN_OPTIONS=use_tls=0:print_suppressions=0:suppressions=${NC_LSAN_SUPP}")   # see tests/CMakeLists.txt
endif()
set_tests_properties(test_out_of_tree PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
  ENVIRONMENT "${T_ENV}")
