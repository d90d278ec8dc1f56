# test_network_reference analyses every chromosome of ../shared/reference.
nc_add_test(test_network SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_network.c REFERENCE)
