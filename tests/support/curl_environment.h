// A gtest environment that calls curl_global_init once for the test binary, as main does
// for the daemon, and keeps proxies away from the loopback peers the tests start.
#pragma once

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace metricsd::testing {

class CurlEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    setenv("no_proxy", "127.0.0.1,localhost,::1", 1);
    setenv("NO_PROXY", "127.0.0.1,localhost,::1", 1);
    curl_global_init(CURL_GLOBAL_DEFAULT);
  }
  void TearDown() override { curl_global_cleanup(); }
};

}  // namespace metricsd::testing
