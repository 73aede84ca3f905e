#include "support/prometheus.h"

#include <httplib.h>

#include <chrono>
#include <cmath>
#include <vector>

namespace metricsd::testing {

using namespace std::chrono_literals;

nlohmann::json HealthJson(int port) {
  const HttpReply reply = HttpGet("127.0.0.1", port, "/health");
  return reply.status == 200 ? nlohmann::json::parse(reply.body) : nlohmann::json();
}

bool Prometheus::Start(const std::string& web_config) {
  std::string binary = FindBinary("prometheus");
  if (binary.empty()) {
    return false;
  }
  std::string config =
      dir_.Write(name_ + ".yml", "global:\n  scrape_interval: 1h\n" + extra_config_);
  std::vector<std::string> argv{binary, "--config.file=" + config,
                                "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                "--storage.tsdb.path=" + dir_.path() + "/" + name_ + "-tsdb",
                                "--web.enable-remote-write-receiver"};
  if (!web_config.empty()) {
    argv.push_back("--web.config.file=" + web_config);
  }
  process_ = std::make_unique<PeerProcess>(argv, log_path());
  if (!web_config.empty()) {
    return WaitFor([&] { return TcpAccepts(port_); }, 30s);
  }
  return WaitFor([&] { return HttpGet("127.0.0.1", port_, "/-/ready").status == 200; }, 30s);
}

nlohmann::json Prometheus::Query(const std::string& promql) const {
  httplib::Client client("127.0.0.1", port_);
  if (!user_.empty()) {
    client.set_basic_auth(user_, password_);
  }
  auto res = client.Get("/api/v1/query", httplib::Params{{"query", promql}}, httplib::Headers{});
  if (!res || res->status != 200) {
    return nullptr;
  }
  return nlohmann::json::parse(res->body)["data"];
}

std::set<long long> Prometheus::Timestamps(const std::string& selector,
                                           const std::string& range) const {
  std::set<long long> out;
  nlohmann::json data = Query(selector + "[" + range + "]");
  if (data.is_null()) {
    return out;
  }
  for (const auto& result : data["result"]) {
    for (const auto& value : result["values"]) {
      out.insert(std::llround(value[0].get<double>() * 1000));
    }
  }
  return out;
}

}  // namespace metricsd::testing
