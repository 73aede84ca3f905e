// The small HTTP/1.1 server: GET/HEAD /health (JSON status), GET/HEAD /ready (503 until the
// first collection and while degraded) and GET/HEAD /metrics (Prometheus text), 405 with
// "Allow: GET, HEAD" for other methods on those paths, 404 for anything else. Content comes
// from callbacks so the server knows nothing of the agent.
//
// Bind() is separate from Start() so that a port that cannot be bound is a start-up
// error reported before anything is collected or shipped. One thread serves every
// connection with poll(): the server is for probes and one Prometheus, not for traffic, and
// a thread per connection would cost stacks and malloc arenas. Limits: 64 connections, 8 KiB
// of request header, 64 KiB of (ignored) request body, 5 s to send a request or take a
// response, 5 s idle keep-alive. Responses of 1 KiB or more are gzipped for clients that
// accept it. The callbacks run on the server thread and must be thread-safe.
#pragma once

#include <functional>
#include <string>
#include <thread>

#include "core/progress_mark.h"
#include "core/result.h"
#include "core/unique_fd.h"

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

  // Serves on a background thread until Stop(), which closes every connection.
  void Start();
  void Stop();

  // Busy while the server thread handles ready connections (not while it waits in poll).
  const ProgressMark& progress() const noexcept { return progress_; }

 private:
  void Serve();

  ServerHandlers handlers_;
  UniqueFd listen_fd_;
  UniqueFd wake_fd_;  // eventfd: Stop() wakes the server thread
  std::thread thread_;
  int port_ = 0;
  ProgressMark progress_{std::chrono::minutes(1)};
};

}  // namespace metricsd
