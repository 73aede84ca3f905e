#include "net/net_module.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <string>

namespace metricsd {
namespace {

// The module as built beside the daemon (build/src/metricsd-net.so), loaded like the daemon
// loads it: the real dlopen boundary, not a direct link.
const std::shared_ptr<const NetApi>& Module() {
  static const std::shared_ptr<const NetApi> module = [] {
    auto loaded = LoadNetModule(METRICSD_NET_MODULE);
    EXPECT_TRUE(loaded.ok()) << loaded.error();
    return loaded.ok() ? *loaded : nullptr;
  }();
  return module;
}

TEST(NetModule, BuildsAShipper) {
  ASSERT_TRUE(Module());
  config::ShipperOptions options{.name = "main", .endpoint = "http://127.0.0.1:9/api/v1/write"};
  auto shipper = Module()->MakeShipper(options, "shippers[main]");
  ASSERT_TRUE(shipper.ok()) << shipper.error();
  ASSERT_NE(*shipper, nullptr);
  EXPECT_EQ((*shipper)->name(), "main");
}

TEST(NetModule, ShipperErrorsComeBackAsValuesNamingTheKey) {
  ASSERT_TRUE(Module());
  config::ShipperOptions options{.endpoint = "https://127.0.0.1:9/api/v1/write"};
  options.tls.enabled = true;
  options.tls.cipher_suites = {"TLS_NO_SUCH_SUITE"};
  auto shipper = Module()->MakeShipper(options, "shipper");
  ASSERT_FALSE(shipper.ok());
  EXPECT_NE(shipper.error().find("shipper.tls.cipher_suites[0]"), std::string::npos)
      << shipper.error();
}

TEST(NetModule, LogLinesGoToTheLoadersCurrentLogger) {
  ASSERT_TRUE(Module());
  auto previous = spdlog::default_logger();
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
  auto logger = std::make_shared<spdlog::logger>("test", sink);
  logger->set_level(spdlog::level::info);
  spdlog::set_default_logger(logger);
  config::ShipperOptions options{.name = "plain", .endpoint = "http://127.0.0.1:9/write"};
  options.tls.enabled = true;  // over http://: the factory warns
  auto shipper = Module()->MakeShipper(options, "shippers[plain]");
  spdlog::set_default_logger(previous);
  ASSERT_TRUE(shipper.ok()) << shipper.error();
  std::vector<std::string> lines = sink->last_formatted();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("[warning]"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("TLS is not used"), std::string::npos) << lines[0];
}

TEST(NetModule, BuildsTheScrapeCollector) {
  ASSERT_TRUE(Module());
  std::vector<config::EndpointOptions> endpoints{
      {.name = "app", .url = "http://127.0.0.1:9/metrics"}};
  auto collector = Module()->MakeScrapeCollector(endpoints, std::chrono::seconds(15), nullptr);
  ASSERT_NE(collector, nullptr);
  EXPECT_EQ(collector->name(), "scrape");
}

TEST(NetModule, ValidatesTlsOptions) {
  ASSERT_TRUE(Module());
  config::TlsOptions tls{.enabled = true, .ca_file = "/nonexistent/ca.pem"};
  Status status = Module()->ValidateTlsOptions(tls, "endpoints[0].tls");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().find("endpoints[0].tls.ca_file"), std::string::npos) << status.error();
  EXPECT_TRUE(Module()->ValidateTlsOptions(config::TlsOptions{}, "shipper.tls").ok());
}

TEST(NetModule, MissingFileIsAnErrorNamingThePath) {
  auto loaded = LoadNetModule("/nonexistent/metricsd-net.so");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().find("/nonexistent/metricsd-net.so"), std::string::npos)
      << loaded.error();
}

TEST(NetModule, LooksBesideTheExecutableAndInItsLibDirectory) {
  std::vector<std::string> paths = NetModulePaths();
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_NE(paths[0].find("/lib/metricsd/metricsd-net.so"), std::string::npos) << paths[0];
  EXPECT_TRUE(paths[1].ends_with("/net/metricsd-net.so")) << paths[1];  // tests/net/net_test
}

}  // namespace
}  // namespace metricsd
