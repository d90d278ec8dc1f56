# test_cli_settings: validate, run and train refuse the same pipelines with
# the same line; plugins --settings parsed as JSON (Jansson).
nc_add_test(test_cli_settings SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_settings.c
  LIBS PkgConfig::JANSSON)
