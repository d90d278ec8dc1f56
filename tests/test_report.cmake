# test_report: `nascaps report --html` and comparisons end to end on runs it
# makes (synthetic data); parses SVG and report.html with libxml2 (a test
# package, installed by .ci/run), decodes PNGs with cairo.
pkg_check_modules(LIBXML2 QUIET IMPORTED_TARGET libxml-2.0)
if(LIBXML2_FOUND)
  nc_add_test(test_report SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_report.c
    LIBS nascaps_report PkgConfig::LIBXML2 PkgConfig::SQLITE3 PkgConfig::JANSSON
         PkgConfig::CAIRO TIMEOUT 600)
  add_dependencies(test_report nc_plugin_nsga2 nc_plugin_random nc_plugin_synthetic
    nc_plugin_capsacc nc_plugin_conv nc_plugin_caps nc_plugin_capscell nc_plugin_flatcaps)
else()
  message(WARNING "libxml2 (libxml2-dev) not found: test_report is not built")
endif()
