# Every third-party dependency is a Debian 12 package; see README "Building".
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(CURL REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(Snappy REQUIRED)
find_package(ZLIB REQUIRED)
# spdlog and fmt header-only, under the usual target name: their shared libraries link
# libstdc++.so, and the daemon links libstdc++ statically (src/CMakeLists.txt) because only
# the pages it touches then count towards its resident memory. The network module gets its
# own copy and forwards its log lines to the daemon's logger (src/net/net_module_entry.cpp).
find_path(SPDLOG_INCLUDE_DIR spdlog/spdlog.h REQUIRED)
find_path(FMT_INCLUDE_DIR fmt/format.h REQUIRED)
add_library(spdlog::spdlog INTERFACE IMPORTED)
set_target_properties(spdlog::spdlog PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${SPDLOG_INCLUDE_DIR};${FMT_INCLUDE_DIR}"
  INTERFACE_COMPILE_DEFINITIONS "SPDLOG_FMT_EXTERNAL;FMT_HEADER_ONLY=1"
  INTERFACE_LINK_LIBRARIES Threads::Threads)
if(METRICSD_BUILD_TESTS)
  # Tests only: fake receivers and scrape targets, and an independent client for the server.
  pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
  find_package(GTest REQUIRED)
  find_package(Protobuf REQUIRED)
endif()
if(METRICSD_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
# RE2 (relabel rules) from its static archive: libre2.so would add a shared library to the
# daemon, whose resident memory is budgeted. Debian 12's RE2 (2022-06-01) needs only pthreads.
find_library(RE2_STATIC_LIBRARY NAMES libre2.a REQUIRED)
find_path(RE2_INCLUDE_DIR re2/re2.h REQUIRED)
add_library(RE2::re2_static STATIC IMPORTED)
set_target_properties(RE2::re2_static PROPERTIES
  IMPORTED_LOCATION "${RE2_STATIC_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${RE2_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES Threads::Threads)
# The network module is a shared object, and libre2.a's thread-local storage cannot go into
# one: a target with the property METRICSD_SHARED_MODULE (the module, which links libstdc++.so
# anyway) gets libre2.so instead. metricsd_re2 picks for whatever links it in the end.
find_library(RE2_SHARED_LIBRARY NAMES libre2.so REQUIRED)
add_library(RE2::re2_shared SHARED IMPORTED)
set_target_properties(RE2::re2_shared PROPERTIES
  IMPORTED_LOCATION "${RE2_SHARED_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${RE2_INCLUDE_DIR}")
add_library(metricsd_re2 INTERFACE)
target_link_libraries(metricsd_re2 INTERFACE
  "$<IF:$<BOOL:$<TARGET_PROPERTY:METRICSD_SHARED_MODULE>>,RE2::re2_shared,RE2::re2_static>")
# snappy (remote write bodies, built in the daemon since it queues finished requests) the same
# way: libsnappy.so would bring libstdc++.so into the daemon; the module takes the shared one.
find_library(SNAPPY_STATIC_LIBRARY NAMES libsnappy.a REQUIRED)
add_library(Snappy::snappy_static STATIC IMPORTED)
set_target_properties(Snappy::snappy_static PROPERTIES IMPORTED_LOCATION "${SNAPPY_STATIC_LIBRARY}")
add_library(metricsd_snappy INTERFACE)
target_link_libraries(metricsd_snappy INTERFACE
  "$<IF:$<BOOL:$<TARGET_PROPERTY:METRICSD_SHARED_MODULE>>,Snappy::snappy,Snappy::snappy_static>")
