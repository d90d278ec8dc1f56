nc_add_test(test_data_svhn SOURCES
  ${CMAKE_CURRENT_SOURCE_DIR}/test_data_svhn.c
  ${CMAKE_SOURCE_DIR}/plugins/datasets/svhn/svhn_decode.c
  ${CMAKE_SOURCE_DIR}/plugins/datasets/svhn/mat5_check.c
  LIBS PkgConfig::MATIO PkgConfig::ZLIB)
target_include_directories(test_data_svhn PRIVATE ${CMAKE_SOURCE_DIR}/plugins/datasets/svhn)
