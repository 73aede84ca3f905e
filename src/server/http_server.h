// The small HTTP server: GET/HEAD /health (JSON status), GET/HEAD /ready (503 until the
// first collection and while degraded) and GET/HEAD /metrics (Prometheus text), 404 for
// anything else. Content comes from callbacks so the server knows nothing of the agent.
//
// Bind() is separate from Start() so that a port that cannot be bound is a start-up
// error reported before anything is collected or shipped. Two worker threads: the
// server is for probes and one Prometheus, not for traffic. Thread-safe callbacks required.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/result.h"

namespace httplib {
class Server;
}

namespace metricsd {

struct HealthView {
  bool ready = false;     // a first collection has completed
  bool degraded = false;  // e.g. a shipper has not succeeded for too long
  std::string json;       // the /health body
};

struct ServerHandlers {
  std::function<std::string()> render_metrics;  // Prometheus text 0.0.4
  std::function<HealthView()> health;
};

class HttpServer {
 public:
  explicit HttpServer(const ServerHandlers& handlers);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (port 0 picks a free one). Fails with a message naming the address.
  Status Bind(const std::string& host, int port);
  int port() const noexcept { return port_; }

  // Serves on a background thread until Stop().
  void Start();
  void Stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace metricsd
