// A real Prometheus for end-to-end tests: a remote-write receiver on 127.0.0.1, on a fixed
// port and storage directory so that it can be stopped and started again, with queries to
// check what arrived.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "support/process.h"

namespace metricsd::testing {

// metricsd's /health body on 127.0.0.1:port; null when it does not answer.
nlohmann::json HealthJson(int port);

class Prometheus {
 public:
  Prometheus(const TempDir& dir, std::string name, int port)
      : dir_(dir), name_(std::move(name)), port_(port) {}

  // `web_config`: a --web.config.file (TLS or basic auth); readiness is then probed over
  // TCP only. `user`/`password`: what the queries authenticate with.
  bool Start(const std::string& web_config = "");
  // YAML appended to the configuration (e.g. a scrape_configs section); before Start().
  void SetExtraConfig(std::string yaml) { extra_config_ = std::move(yaml); }
  void SetQueryCredentials(std::string user, std::string password) {
    user_ = std::move(user);
    password_ = std::move(password);
  }
  void Stop() { process_.reset(); }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/write"; }
  std::string log_path() const { return dir_.path() + "/" + name_ + ".log"; }

  // The "data" of an instant query (null when the query failed).
  nlohmann::json Query(const std::string& promql) const;
  // Millisecond timestamps of every sample of `selector` in the last `range` ("5m").
  std::set<long long> Timestamps(const std::string& selector, const std::string& range) const;

  static bool Available() { return !FindBinary("prometheus").empty(); }

 private:
  const TempDir& dir_;
  std::string name_;
  int port_;
  std::string user_;
  std::string password_;
  std::string extra_config_;
  std::unique_ptr<PeerProcess> process_;
};

}  // namespace metricsd::testing
