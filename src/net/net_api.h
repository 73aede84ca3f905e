// NetApi: everything metricsd does over the network with libcurl or OpenSSL (shippers,
// scrape targets, client TLS checks, TLS on its own endpoint) behind one table of factory
// functions.
//
// libcurl, OpenSSL and what Debian's libcurl brings with it (GnuTLS, Kerberos, LDAP, SSH,
// RTMP ...) cost about 8 MB of resident memory merely by being loaded, so they live in a
// module, metricsd-net.so, that the daemon loads (net/net_module.h) only when its
// configuration has shippers, scrape endpoints or server TLS. The implementation is
// net/builtin_net_api.h; tests link it directly.
//
// An implementation initialises libcurl when it is created (create it on the main thread,
// before any thread that uses it starts) and releases it when destroyed. Every object it
// makes must be destroyed before it. The factories may be called from any thread, one at a
// time; they throw nothing, so no exception crosses the module boundary.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include "collectors/scrape_source.h"
#include "config/options.h"
#include "core/result.h"
#include "server/server_tls.h"
#include "shippers/shipper.h"

namespace metricsd {

class NetApi {
 public:
  virtual ~NetApi() = default;

  // The shipper a ShipperOptions describes (shippers/shipper_factory.h), with its own HTTP
  // client. Errors name the offending key under key_prefix ("shipper.tls.ca_file: ...").
  virtual Result<std::unique_ptr<Shipper>> MakeShipper(const config::ShipperOptions& options,
                                                       std::string_view key_prefix) const = 0;

  // One collector scraping every endpoint (collectors/scrape_collector.h); `sink` (may be
  // null) receives the streamed samples and must outlive the collector.
  virtual std::unique_ptr<ScrapeSource> MakeScrapeCollector(
      const std::vector<config::EndpointOptions>& endpoints,
      std::chrono::seconds collector_interval, ScrapeSampleSink* sink) const = 0;

  // http::ValidateTlsOptions (http/tls_setup.h): what can be checked before connecting.
  virtual Status ValidateTlsOptions(const config::TlsOptions& tls,
                                    std::string_view key_prefix) const = 0;

  // TLS for the server's own endpoint (http/tls_server.h). Errors name the key under
  // key_prefix ("server.tls.key_file: ...").
  virtual Result<std::unique_ptr<ServerTls>> MakeServerTls(const config::ServerTlsOptions& tls,
                                                           bool request_only,
                                                           std::string_view key_prefix) const = 0;
};

}  // namespace metricsd
