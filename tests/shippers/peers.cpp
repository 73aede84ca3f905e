#include "peers.h"

#include <stdexcept>

namespace metricsd::testing {

std::optional<Peer> StartPeer(std::vector<std::string> argv, const std::string& log_file,
                              const std::string& base_url, const std::string& ready_path,
                              http::HttpClient& client, std::string& why) {
  std::string binary = FindBinary(argv[0]);
  if (binary.empty()) {
    why = argv[0] + " is not installed (Debian package: see PEERS.md)";
    return std::nullopt;
  }
  argv[0] = binary;
  Peer peer;
  peer.process = std::make_unique<PeerProcess>(argv, log_file);
  peer.base_url = base_url;
  bool ready = WaitUntil(
      [&] {
        if (!peer.process->running()) {
          return true;  // exited: stop waiting
        }
        http::HttpRequest request;
        request.method = "GET";
        request.url = base_url + ready_path;
        request.timeout = std::chrono::seconds(2);
        auto response = client.Perform(request);
        return response.ok() && response->status == 200;
      },
      std::chrono::seconds(60));
  if (!ready || !peer.process->running()) {
    why = argv[0] + " did not become ready; log tail:\n" + peer.process->LogTail();
    return std::nullopt;
  }
  return peer;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

nlohmann::json GetJson(http::HttpClient& client, const std::string& url) {
  http::HttpRequest request;
  request.method = "GET";
  request.url = url;
  auto response = client.Perform(request);
  if (!response.ok() || response->status != 200) {
    return nullptr;
  }
  return nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
}

std::unique_ptr<http::HttpClient> MakeQueryClient(const config::TlsOptions& tls,
                                                  const config::HttpAuth& auth) {
  http::HttpClientOptions options;
  options.tls = tls;
  options.auth = auth;
  options.timeout = std::chrono::seconds(10);
  options.max_response_body_bytes = 16 << 20;
  auto client = http::HttpClient::Create(options, "test");
  if (!client) {
    throw std::runtime_error(client.error());
  }
  return std::move(*client);
}

std::int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Labels LabelsFromJson(const nlohmann::json& metric) {
  Labels labels;
  for (const auto& [k, v] : metric.items()) {
    labels.push_back({k, v.get<std::string>()});
  }
  SortLabels(labels);
  return labels;
}

}  // namespace metricsd::testing
