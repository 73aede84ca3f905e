#include "net/builtin_net_api.h"

#include <curl/curl.h>

#include <exception>

#include "collectors/scrape_collector.h"
#include "http/tls_server.h"
#include "http/tls_setup.h"
#include "shippers/shipper_factory.h"

namespace metricsd {

namespace {

class BuiltinNetApi final : public NetApi {
 public:
  BuiltinNetApi() : curl_(curl_global_init(CURL_GLOBAL_DEFAULT)) {}
  ~BuiltinNetApi() override {
    if (curl_ == CURLE_OK) {
      curl_global_cleanup();
    }
  }
  BuiltinNetApi(const BuiltinNetApi&) = delete;
  BuiltinNetApi& operator=(const BuiltinNetApi&) = delete;

  Result<std::unique_ptr<Shipper>> MakeShipper(const config::ShipperOptions& options,
                                               std::string_view key_prefix) const override {
    try {
      return metricsd::MakeShipper(options, key_prefix);
    } catch (const std::exception& e) {
      return Error{e.what()};
    }
  }

  std::unique_ptr<ScrapeSource> MakeScrapeCollector(
      const std::vector<config::EndpointOptions>& endpoints,
      std::chrono::seconds collector_interval, ScrapeSampleSink* sink) const override {
    return std::make_unique<ScrapeCollector>(endpoints, collector_interval, sink);
  }

  Status ValidateTlsOptions(const config::TlsOptions& tls,
                            std::string_view key_prefix) const override {
    return http::ValidateTlsOptions(tls, key_prefix);
  }

  Result<std::unique_ptr<ServerTls>> MakeServerTls(const config::ServerTlsOptions& tls,
                                                   bool request_only,
                                                   std::string_view key_prefix) const override {
    try {
      return http::MakeServerTls(tls, request_only, key_prefix);
    } catch (const std::exception& e) {
      return Error{e.what()};
    }
  }

 private:
  CURLcode curl_;
};

}  // namespace

std::unique_ptr<NetApi> MakeBuiltinNetApi() { return std::make_unique<BuiltinNetApi>(); }

}  // namespace metricsd
