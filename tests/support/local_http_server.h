// An httplib server on 127.0.0.1 (a free port) for tests: the test sets its handlers on
// http(), then Start() serves on a thread of its own until the server is destroyed.
#pragma once

#include <httplib.h>

#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "support/process.h"

namespace metricsd::testing {

class LocalHttpServer {
 public:
  // `workers`: requests served at once; a kept-alive connection holds one while it is open.
  explicit LocalHttpServer(int workers = 8) {
    server_.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
    port_ = server_.bind_to_any_port("127.0.0.1");
  }
  ~LocalHttpServer() {
    server_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;

  httplib::Server& http() { return server_; }
  void Start() {
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    WaitFor([this] { return server_.is_running(); }, std::chrono::seconds(10));
  }
  int port() const { return port_; }
  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace metricsd::testing
