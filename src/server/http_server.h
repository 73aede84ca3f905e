// The small HTTP/1.1 server: GET/HEAD /health (JSON status), GET/HEAD /ready (503 until the
// first collection and while degraded) and GET/HEAD /metrics (Prometheus text), 405 with
// "Allow: GET, HEAD" for other methods on those paths, 404 for anything else. Content comes
// from callbacks so the server knows nothing of the agent.
// GET/HEAD / is the status page for people: HTML, or JSON for Accept: application/json.
//
// Bind() is separate from Start() so that a port that cannot be bound is a start-up
// error reported before anything is collected or shipped. One thread serves every
// connection with poll(): the server is for probes and one Prometheus, not for traffic, and
// a thread per connection would cost stacks and malloc arenas. The callbacks run on the
// server thread, must be thread-safe and must be cheap: /metrics hands over prepared shared
// buffers (MetricsBody), which connections hold and write out with sendmsg, never copy.
//
// Limits (ServerLimits; defaults in brackets), chosen so that /health and /ready stay
// answerable whatever other clients do:
// - total deadlines, not per-send timeouts: the request head must arrive in full within
//   head_timeout [5 s] of the accept (or of the end of the previous response on a
//   keep-alive connection), and a response must be written in full within
//   response_timeout [30 s] of its start; a slow-loris sender or a slow reader is reset
//   (not closed, which would leave the kernel sending the rest) when its deadline passes;
// - the server always accepts. At max_per_peer [128] connections from one source address,
//   or max_connections [512] in all, a new connection closes the oldest one that has no
//   response in progress (idle first, then one still sending its head). When every slot is
//   writing a response, the new connection takes one of reserved_probe_slots [16], which
//   answer only /health and /ready (anything else: 503) and close after one response;
// - 8 KiB of request header, 64 KiB of (ignored) request body;
// - out of file descriptors (EMFILE), accepting pauses for 100 ms instead of spinning.
// Security (ServerSecurity; all optional, like node_exporter's web configuration): TLS through
// a ServerTls (server_tls.h), a client certificate required per request, and basic auth
// against bcrypt hashes (basic_auth.h; bcrypt runs on its own thread, so a password check
// never delays other clients). /health and /ready may be exempted for probes. SetSecurity
// swaps all of it on a reload: new connections and new requests follow the new settings.
// Bodies of 1 KiB or more are gzipped for clients that accept it (/metrics: by its
// callback, joined from cached compressed parts).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/progress_mark.h"
#include "core/result.h"
#include "core/unique_fd.h"
#include "server/server_tls.h"

namespace metricsd {

struct HealthView {
  bool ready = false;     // a first collection has completed
  bool degraded = false;  // e.g. a shipper has not succeeded for too long
  std::string json;       // the /health body
};

// A /metrics body as immutable shared pieces, written out in order. With gzip set, the
// pieces together are the gzip-encoded body (one member; see agent/exposition_cache.h).
struct MetricsBody {
  std::vector<std::shared_ptr<const std::string>> pieces;
  bool gzip = false;

  static MetricsBody Text(std::string text) {
    return MetricsBody{.pieces = {std::make_shared<const std::string>(std::move(text))}};
  }
};

struct ServerHandlers {
  // Prometheus text 0.0.4; the argument says whether the client accepts gzip.
  std::function<MetricsBody(bool accepts_gzip)> metrics;
  std::function<HealthView()> health;
  // The status page at "/": its JSON form when `json` (Accept: application/json), else HTML.
  // Empty: "/" is 404.
  std::function<std::string(bool json)> status;
};

struct ServerLimits {
  std::size_t max_connections = 512;
  std::size_t max_per_peer = 128;
  std::size_t reserved_probe_slots = 16;
  std::chrono::milliseconds head_timeout{5000};
  std::chrono::milliseconds response_timeout{30000};
};

struct ServerSecurity {
  std::shared_ptr<ServerTls> tls;  // null: plain HTTP
  // user -> bcrypt hash; empty: no basic auth.
  std::map<std::string, std::string> basic_auth_users;
  // Requests (other than exempted probes) need a client certificate verified by `tls`.
  bool require_client_cert = false;
  // /health and /ready need neither basic auth nor a client certificate.
  bool probes_skip_auth = false;
};

// gzip (RFC 1952) of `in` as one member; empty if zlib fails.
std::string GzipMember(std::string_view in);

class HttpServer {
 public:
  explicit HttpServer(const ServerHandlers& handlers, const ServerLimits& limits = {},
                      ServerSecurity security = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (port 0 picks a free one). Fails with a message naming the address.
  Status Bind(const std::string& host, int port);
  int port() const noexcept { return port_; }

  // Serves on a background thread until Stop(), which closes every connection.
  void Start();
  void Stop();

  // Thread-safe; takes effect from the server thread's next pass.
  void SetSecurity(ServerSecurity security);

  // Busy while the server thread handles ready connections (not while it waits in poll).
  const ProgressMark& progress() const noexcept { return progress_; }

 private:
  void Serve();

  ServerHandlers handlers_;
  ServerLimits limits_;
  UniqueFd listen_fd_;
  UniqueFd wake_fd_;  // eventfd: Stop() and SetSecurity() wake the server thread
  std::mutex security_mutex_;
  std::optional<ServerSecurity> next_security_;  // guarded by security_mutex_
  bool stopping_ = false;                        // guarded by security_mutex_
  std::thread thread_;
  int port_ = 0;
  ProgressMark progress_{std::chrono::minutes(1)};
};

}  // namespace metricsd
