#include "server/http_server.h"

#include "server/request_head.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <list>
#include <optional>
#include <string_view>
#include <vector>

namespace metricsd {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kTimeout = std::chrono::seconds(5);  // read, write and keep-alive idle
constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
constexpr std::size_t kMaxConnections = 64;
// Out of file descriptors, the pending connection stays in the backlog and the listening
// socket stays readable: polling it again at once would spin. Wait this long, then retry.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
// Bodies smaller than this go out as they are: gzip would save little and cost a deflate state.
constexpr std::size_t kMinGzipBytes = 1024;

// gzip (RFC 1952) of `in`, or nullopt if zlib fails.
std::optional<std::string> Gzip(std::string_view in) {
  z_stream z{};
  // 15 + 16: a gzip wrapper; level 1: /metrics is compressible text, speed matters more.
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::nullopt;
  }
  std::string out(deflateBound(&z, static_cast<uLong>(in.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) {
    return std::nullopt;
  }
  return out;
}

using Request = RequestHead;

struct Response {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
  bool allow_get_head = false;  // adds "Allow: GET, HEAD" (405)
  bool close = false;
};

std::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

Response Plain(int status, std::string body) {
  return Response{.status = status, .body = std::move(body), .close = true};
}

// One client connection: non-blocking, driven by the server thread's poll loop.
struct Connection {
  UniqueFd fd;
  std::string in;        // received, not yet handled
  std::string out;       // response bytes not yet sent
  std::size_t sent = 0;  // of out
  bool close_after_write = false;
  Clock::time_point deadline;
};

void Queue(Connection& c, const Request& req, Response response, Clock::time_point now) {
  bool gzip = false;
  if (req.accepts_gzip && response.body.size() >= kMinGzipBytes) {
    if (auto compressed = Gzip(response.body)) {
      response.body = std::move(*compressed);
      gzip = true;
    }
  }
  std::string& out = c.out;
  out.clear();
  out.reserve(160 + (req.method == "HEAD" ? 0 : response.body.size()));
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += Reason(response.status);
  out += "\r\nContent-Type: ";
  out += response.content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(response.body.size());
  if (gzip) {
    out += "\r\nContent-Encoding: gzip";
  }
  if (req.accepts_gzip || gzip) {
    out += "\r\nVary: Accept-Encoding";
  }
  if (response.allow_get_head) {
    out += "\r\nAllow: GET, HEAD";
  }
  out += response.close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n";
  if (req.method != "HEAD") {
    out += response.body;
  }
  c.sent = 0;
  c.close_after_write = response.close;
  c.deadline = now + kTimeout;
}

Response Route(const Request& req, const ServerHandlers& handlers) {
  bool get = req.method == "GET" || req.method == "HEAD";
  bool known = req.path == "/metrics" || req.path == "/health" || req.path == "/ready";
  if (!known) {
    Response r = Plain(404, "not found\n");
    r.close = false;
    return r;
  }
  if (!get) {
    return Response{
        .status = 405, .body = "method not allowed\n", .allow_get_head = true, .close = false};
  }
  if (req.path == "/metrics") {
    return Response{.content_type = "text/plain; version=0.0.4; charset=utf-8",
                    .body = handlers.render_metrics()};
  }
  HealthView view = handlers.health();
  int status = 200;
  if (req.path == "/ready") {
    status = view.ready && !view.degraded ? 200 : 503;
  }
  // Liveness (/health): answering at all means alive; "status" tells healthy from degraded.
  return Response{.status = status, .content_type = "application/json", .body = view.json};
}

// Handles the complete request at the front of c.in, if there is one; returns false when the
// connection must close.
bool HandleBuffered(Connection& c, const ServerHandlers& handlers, Clock::time_point now) {
  if (!c.out.empty()) {
    return true;  // one response at a time
  }
  std::size_t end = c.in.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (c.in.size() > kMaxHeaderBytes) {
      Queue(c, Request{}, Plain(431, "request header too large\n"), now);
    }
    return true;
  }
  std::string_view head(c.in.data(), end);
  std::size_t consumed = end + 4;
  auto parsed = ParseRequestHead(head);
  if (const auto* error = std::get_if<RequestError>(&parsed)) {
    Queue(c, Request{}, Plain(error->status, std::string(error->message)), now);
    return true;
  }
  const Request& req = std::get<RequestHead>(parsed);
  const std::size_t content_length = req.content_length;
  if (c.in.size() < consumed + content_length) {
    return true;  // the body (ignored) is still arriving
  }
  Response response = Route(req, handlers);
  if (!req.keep_alive) {
    response.close = true;
  }
  Queue(c, req, std::move(response), now);
  // Only now: req's views point into c.in.
  c.in.erase(0, consumed + content_length);
  return true;
}

bool Read(Connection& c, const ServerHandlers& handlers, Clock::time_point now) {
  char buf[4096];
  ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
  if (n == 0) {
    return false;  // the client closed
  }
  if (n < 0) {
    return errno == EAGAIN || errno == EINTR;
  }
  c.in.append(buf, static_cast<std::size_t>(n));
  return HandleBuffered(c, handlers, now);
}

bool Write(Connection& c, const ServerHandlers& handlers, Clock::time_point now) {
  ssize_t n = ::send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
  if (n < 0) {
    return errno == EAGAIN || errno == EINTR;
  }
  c.sent += static_cast<std::size_t>(n);
  c.deadline = now + kTimeout;
  if (c.sent < c.out.size()) {
    return true;
  }
  c.out.clear();
  c.sent = 0;
  if (c.close_after_write) {
    return false;
  }
  // A pipelined request may already be buffered.
  return HandleBuffered(c, handlers, now);
}

// Returns false when accepting failed for want of file descriptors or memory.
bool Accept(int listen_fd, std::list<Connection>& connections) {
  while (connections.size() < kMaxConnections) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // Otherwise EAGAIN, or a connection reset before accept: nothing to do.
      return errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM;
    }
    connections.push_back(Connection{.fd = UniqueFd(fd), .deadline = Clock::now() + kTimeout});
  }
  return true;
}

}  // namespace

HttpServer::HttpServer(const ServerHandlers& handlers) : handlers_(handlers) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Bind(const std::string& host, int port) {
  std::string address = host.empty() ? "0.0.0.0" : host;
  auto fail = [&](int err) {
    return Error{"cannot listen on " + address + ":" + std::to_string(port) + ": " +
                 (err != 0 ? std::strerror(err) : "address unavailable")};
  };
  if (port < 0 || port > 65535) {
    return fail(EINVAL);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(address.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return Error{"cannot listen on " + address + ":" + service + ": " + ::gai_strerror(rc)};
  }
  int err = 0;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol));
    if (!fd.valid()) {
      err = errno;
      continue;
    }
    // Only SO_REUSEADDR (restart while old connections linger), never SO_REUSEPORT, which
    // would let a second metricsd "bind" a port that is already in use instead of failing.
    int yes = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd.get(), 64) != 0) {
      err = errno;
      continue;
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
      err = errno;
      continue;
    }
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    listen_fd_ = std::move(fd);
    ::freeaddrinfo(found);
    return {};
  }
  ::freeaddrinfo(found);
  return fail(err);
}

void HttpServer::Start() {
  if (!listen_fd_.valid() || thread_.joinable()) {
    return;
  }
  wake_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  thread_ = std::thread([this] {
    Serve();
    progress_.Idle();
  });
}

void HttpServer::Stop() {
  if (thread_.joinable()) {
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_.get(), &one, sizeof one);
    thread_.join();
  }
}

void HttpServer::Serve() {
  std::list<Connection> connections;
  std::vector<pollfd> fds;
  std::vector<Connection*> polled;
  Clock::time_point accept_paused_until;
  for (;;) {
    Clock::time_point now = Clock::now();
    fds.clear();
    polled.clear();
    fds.push_back({.fd = wake_fd_.get(), .events = POLLIN, .revents = 0});
    // At the connection cap, or out of fds, new clients wait in the kernel's backlog.
    bool paused = now < accept_paused_until;
    bool accepting = connections.size() < kMaxConnections && !paused;
    fds.push_back({.fd = accepting ? listen_fd_.get() : -1, .events = POLLIN, .revents = 0});
    auto next_deadline = paused ? accept_paused_until : Clock::time_point::max();
    for (Connection& c : connections) {
      short events = c.sent < c.out.size() ? POLLOUT : POLLIN;
      fds.push_back({.fd = c.fd.get(), .events = events, .revents = 0});
      polled.push_back(&c);
      next_deadline = std::min(next_deadline, c.deadline);
    }
    int timeout_ms = -1;
    if (next_deadline != Clock::time_point::max()) {
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_deadline - now);
      timeout_ms = static_cast<int>(std::max<std::int64_t>(0, wait.count()));
    }
    progress_.Idle();
    const int polled_count = ::poll(fds.data(), fds.size(), timeout_ms);
    progress_.Busy();
    if (polled_count < 0 && errno != EINTR) {
      continue;
    }
    if (fds[0].revents != 0) {
      return;  // Stop(): open connections are closed with the list
    }
    if (fds[1].revents != 0 && !Accept(listen_fd_.get(), connections)) {
      accept_paused_until = Clock::now() + kAcceptBackoff;
    }
    now = Clock::now();
    for (std::size_t i = 0; i < polled.size(); ++i) {
      Connection& c = *polled[i];
      bool keep = true;
      if (fds[i + 2].revents & (POLLERR | POLLNVAL)) {
        keep = false;
      } else if (fds[i + 2].revents & POLLOUT) {
        keep = Write(c, handlers_, now);
      } else if (fds[i + 2].revents & (POLLIN | POLLHUP)) {
        keep = Read(c, handlers_, now);
      } else if (now >= c.deadline) {
        keep = false;  // idle keep-alive, or a client too slow to send or receive
      }
      if (!keep) {
        c.fd = UniqueFd();
      }
    }
    connections.remove_if([](const Connection& c) { return !c.fd.valid(); });
  }
}

}  // namespace metricsd
