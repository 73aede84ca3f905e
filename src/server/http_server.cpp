#include "server/http_server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace metricsd {

HttpServer::HttpServer(const ServerHandlers& handlers)
    : server_(std::make_unique<httplib::Server>()) {
  // Probes and one Prometheus: two workers are plenty and keep the footprint small.
  server_->new_task_queue = [] { return new httplib::ThreadPool(2); };
  // Only SO_REUSEADDR: the library default adds SO_REUSEPORT, which would let a second
  // metricsd "bind" a port that is already in use instead of failing.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server_->set_read_timeout(5, 0);
  server_->set_write_timeout(5, 0);
  server_->set_keep_alive_timeout(5);
  server_->set_payload_max_length(64 * 1024);

  auto metrics = handlers.render_metrics;
  server_->Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
  auto health = handlers.health;
  server_->Get("/health", [health](const httplib::Request&, httplib::Response& res) {
    // Liveness: answering at all means alive; "status" tells healthy from degraded.
    res.set_content(health().json, "application/json");
  });
  server_->Get("/ready", [health](const httplib::Request&, httplib::Response& res) {
    HealthView view = health();
    res.status = view.ready && !view.degraded ? 200 : 503;
    res.set_content(view.json, "application/json");
  });
  auto method_not_allowed = [](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/health" || req.path == "/metrics" || req.path == "/ready") {
      res.status = 405;
      res.set_header("Allow", "GET, HEAD");
      res.set_content("method not allowed\n", "text/plain");
    } else {
      res.status = 404;
      res.set_content("not found\n", "text/plain");
    }
  };
  server_->Post(".*", method_not_allowed);
  server_->Put(".*", method_not_allowed);
  server_->Delete(".*", method_not_allowed);
  server_->Patch(".*", method_not_allowed);
  server_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.status == 404 && res.body.empty()) {
      res.set_content("not found\n", "text/plain");
    }
  });
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Bind(const std::string& host, int port) {
  std::string address = host.empty() ? "0.0.0.0" : host;
  if (port == 0) {
    int bound = server_->bind_to_any_port(address);
    if (bound <= 0) {
      return Error{"cannot listen on " + address + ":0: " + std::strerror(errno)};
    }
    port_ = bound;
    return {};
  }
  if (!server_->bind_to_port(address, port)) {
    int err = errno;
    return Error{"cannot listen on " + address + ":" + std::to_string(port) + ": " +
                 (err != 0 ? std::strerror(err) : "address unavailable or in use")};
  }
  port_ = port;
  return {};
}

void HttpServer::Start() {
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

void HttpServer::Stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace metricsd
