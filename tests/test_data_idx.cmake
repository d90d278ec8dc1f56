nc_add_test(test_data_idx SOURCES
  ${CMAKE_CURRENT_SOURCE_DIR}/test_data_idx.c
  ${CMAKE_SOURCE_DIR}/plugins/datasets/idx/idx_decode.c
  LIBS PkgConfig::ZLIB)
target_include_directories(test_data_idx PRIVATE ${CMAKE_SOURCE_DIR}/plugins/datasets/idx)
