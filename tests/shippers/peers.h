// Real receivers for end-to-end tests: Prometheus (remote-write receiver, plain or TLS) and
// VictoriaMetrics, started on 127.0.0.1 on a free port and stopped by PID. Queries go
// through metricsd's own HttpClient so the TLS and auth options are exercised both ways.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/metric.h"
#include "http/http_client.h"
#include "support/process.h"

namespace metricsd::testing {

struct Peer {
  std::unique_ptr<PeerProcess> process;
  std::string base_url;  // e.g. http://127.0.0.1:12345
};

// Starts `argv` (argv[0] a binary name on PATH) and waits until GET base_url+ready_path
// answers 200 through `client`. On failure returns nullopt and fills `why`.
std::optional<Peer> StartPeer(std::vector<std::string> argv, const std::string& log_file,
                              const std::string& base_url, const std::string& ready_path,
                              http::HttpClient& client, std::string& why);

std::string UrlEncode(std::string_view s);

// GET url through `client`, parsed as JSON; null on any failure.
nlohmann::json GetJson(http::HttpClient& client, const std::string& url);

std::unique_ptr<http::HttpClient> MakeQueryClient(const config::TlsOptions& tls,
                                                  const config::HttpAuth& auth = {});

std::int64_t NowMillis();

// The label set of a Prometheus query result's "metric" object, sorted by name.
Labels LabelsFromJson(const nlohmann::json& metric);

}  // namespace metricsd::testing
