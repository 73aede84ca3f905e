#include "shippers/shipper_factory.h"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

#include "core/redact.h"
#include "http/http_client.h"
#include "shippers/http_json_shipper.h"
#include "shippers/influx_line_shipper.h"
#include "shippers/remote_write_shipper.h"

namespace metricsd {

std::unique_ptr<Shipper> MakeShipper(const config::ShipperOptions& options,
                                     std::string_view key_prefix) {
  const std::string prefix(key_prefix);
  const std::string& url = options.endpoint;
  if (url.empty()) {
    throw std::invalid_argument(prefix + ".endpoint: required");
  }
  const bool https = url.starts_with("https://");
  if (!https && !url.starts_with("http://")) {
    throw std::invalid_argument(prefix + ".endpoint: \"" + RedactUrl(url) +
                                "\" must start with http:// or https://");
  }
  if (options.max_samples_per_request == 0) {
    throw std::invalid_argument(prefix + ".max_samples_per_request: must be at least 1");
  }
  if (options.timeout <= std::chrono::milliseconds::zero()) {
    throw std::invalid_argument(prefix + ".timeout: must be positive");
  }
  if (options.tls.enabled && !https) {
    spdlog::warn("{}: {}.tls.enabled is true but {}.endpoint is plain http://; TLS is not used",
                 options.name, prefix, prefix);
  }
  if (options.gzip && options.type != config::ShipperType::kHttpJson) {
    spdlog::warn("{}: {}.gzip applies to http_json only; ignored", options.name, prefix);
  }

  http::HttpClientOptions client_options;
  client_options.log_name = options.name;
  client_options.tls = options.tls;
  client_options.auth = options.auth;
  client_options.timeout = options.timeout;
  // A user Content-Encoding would make any of these bodies unreadable.
  client_options.reserved_header_names = {"Content-Encoding", "Content-Type"};
  switch (options.type) {
    case config::ShipperType::kPrometheusRemoteWrite:
      client_options.fixed_headers = RemoteWriteShipper::ProtocolHeaders();
      break;
    case config::ShipperType::kHttpJson:
      client_options.fixed_headers = HttpJsonShipper::ProtocolHeaders(options.gzip);
      break;
    case config::ShipperType::kInfluxLine:
      client_options.fixed_headers = InfluxLineShipper::ProtocolHeaders();
      break;
  }
  auto client = http::HttpClient::Create(std::move(client_options), prefix);
  if (!client) {
    throw std::invalid_argument(client.error());
  }
  switch (options.type) {
    case config::ShipperType::kPrometheusRemoteWrite:
      return std::make_unique<RemoteWriteShipper>(options, std::move(*client));
    case config::ShipperType::kHttpJson:
      return std::make_unique<HttpJsonShipper>(options, std::move(*client));
    case config::ShipperType::kInfluxLine:
      return std::make_unique<InfluxLineShipper>(options, std::move(*client));
  }
  throw std::invalid_argument(prefix + ".type: unknown shipper type");
}

}  // namespace metricsd
