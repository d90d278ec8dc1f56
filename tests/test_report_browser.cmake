# test_report_browser: headless Chromium renders report.html to a
# screenshot that is not blank; skipped (77) when chromium is absent.
nc_add_test(test_report_browser SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_report_browser.c
  LIBS PkgConfig::CAIRO TIMEOUT 300)
add_dependencies(test_report_browser nc_plugin_nsga2 nc_plugin_synthetic nc_plugin_capsacc
  nc_plugin_conv nc_plugin_caps nc_plugin_capscell nc_plugin_flatcaps)
