#include "server/http_server.h"

#include "server/basic_auth.h"
#include "server/request_head.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <list>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace metricsd {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
// Out of file descriptors, the pending connection stays in the backlog and the listening
// socket stays readable: polling it again at once would spin. Wait this long, then retry.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
// Bodies smaller than this go out as they are: gzip would save little and cost a deflate state.
constexpr std::size_t kMinGzipBytes = 1024;

using Request = RequestHead;

struct Response {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
  MetricsBody shared;           // /metrics: written after `body`
  bool allow_get_head = false;  // adds "Allow: GET, HEAD" (405)
  bool close = false;
  std::string_view extra_header;  // one more "Name: value" line, e.g. WWW-Authenticate
};

std::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
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

// Where a request that needs basic auth stands.
enum class AuthState { kUnchecked, kPending, kAllowed, kDenied };

// One client connection: non-blocking, driven by the server thread's poll loop.
struct Connection {
  UniqueFd fd;
  std::uint64_t id = 0;            // names the connection to the bcrypt worker
  std::unique_ptr<TlsStream> tls;  // null: plain HTTP
  TlsStream::Want tls_want = TlsStream::Want::kNothing;
  AuthState auth = AuthState::kUnchecked;
  std::string peer;         // source address bytes: the per-peer cap's key
  bool probe_only = false;  // took a reserved slot: /health and /ready only
  std::string in;           // received, not yet handled
  // The response: `head` (status line, headers, small body), then the shared pieces.
  std::string head;
  std::vector<std::shared_ptr<const std::string>> pieces;
  std::size_t total = 0;  // bytes of head and pieces
  std::size_t sent = 0;   // of total
  bool writing = false;
  bool close_after_write = false;
  Clock::time_point deadline;  // total: for the head, or for the whole response
};

// The security settings in force, with the basic-auth checker built from them.
struct ActiveSecurity {
  ServerSecurity settings;
  std::unique_ptr<BasicAuth> auth;  // null without basic_auth_users

  explicit ActiveSecurity(ServerSecurity s) : settings(std::move(s)) {
    if (!settings.basic_auth_users.empty()) {
      auth = std::make_unique<BasicAuth>(settings.basic_auth_users);
    }
  }
};

struct Serving {
  const ServerHandlers& handlers;
  const ServerLimits& limits;
  const ActiveSecurity* security;
};

void Queue(Connection& c, const Request& req, Response response, Clock::time_point now,
           const ServerLimits& limits) {
  bool head_only = req.method == "HEAD";
  std::size_t body_size = response.body.size();
  for (const auto& piece : response.shared.pieces) {
    body_size += piece->size();
  }
  bool gzip = response.shared.gzip;
  if (!gzip && req.accepts_gzip && body_size >= kMinGzipBytes) {
    std::string all = std::move(response.body);
    for (const auto& piece : response.shared.pieces) {
      all += *piece;
    }
    std::string compressed = GzipMember(all);
    if (!compressed.empty()) {
      all = std::move(compressed);
      gzip = true;
    }
    response.body = std::move(all);
    response.shared.pieces.clear();
    body_size = response.body.size();
  }
  std::string& out = c.head;
  out.clear();
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += Reason(response.status);
  out += "\r\nContent-Type: ";
  out += response.content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(body_size);
  if (gzip) {
    out += "\r\nContent-Encoding: gzip";
  }
  if (req.accepts_gzip || gzip) {
    out += "\r\nVary: Accept-Encoding";
  }
  if (response.allow_get_head) {
    out += "\r\nAllow: GET, HEAD";
  }
  if (!response.extra_header.empty()) {
    out += "\r\n";
    out += response.extra_header;
  }
  out += response.close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n";
  c.pieces.clear();
  if (!head_only) {
    out += response.body;
    c.pieces = std::move(response.shared.pieces);
  }
  c.total = out.size();
  for (const auto& piece : c.pieces) {
    c.total += piece->size();
  }
  c.sent = 0;
  c.writing = true;
  c.close_after_write = response.close;
  c.deadline = now + limits.response_timeout;
}

bool IsProbe(std::string_view path) { return path == "/health" || path == "/ready"; }

enum class Gate { kPass, kWait, kRefuse };

// Whether the request may be routed: kRefuse fills `refusal`; kWait means a bcrypt check is
// under way (the request stays buffered until its verdict arrives).
Gate Authorize(Connection& c, const Request& req, const ActiveSecurity& security,
               Response& refusal) {
  const ServerSecurity& settings = security.settings;
  if (settings.probes_skip_auth && IsProbe(req.path)) {
    return Gate::kPass;
  }
  if (settings.require_client_cert && !(c.tls && c.tls->PeerCertificateVerified())) {
    refusal = Plain(403, "a client certificate is required\n");
    return Gate::kRefuse;
  }
  if (!security.auth) {
    return Gate::kPass;
  }
  AuthState state = std::exchange(c.auth, AuthState::kUnchecked);
  if (state == AuthState::kUnchecked) {
    switch (security.auth->Check(req.authorization, c.id)) {
      case BasicAuth::Verdict::kAllowed:
        state = AuthState::kAllowed;
        break;
      case BasicAuth::Verdict::kPending:
        c.auth = AuthState::kPending;
        return Gate::kWait;
      case BasicAuth::Verdict::kBusy:
        refusal = Plain(429, "too many password checks; retry later\n");
        refusal.extra_header = "Retry-After: 1";
        return Gate::kRefuse;
      case BasicAuth::Verdict::kDenied:
        state = AuthState::kDenied;
        break;
    }
  }
  if (state == AuthState::kPending) {
    c.auth = AuthState::kPending;
    return Gate::kWait;
  }
  if (state == AuthState::kAllowed) {
    return Gate::kPass;
  }
  refusal = Plain(401, "unauthorized\n");
  refusal.close = false;
  refusal.extra_header = "WWW-Authenticate: Basic realm=\"metricsd\", charset=\"UTF-8\"";
  return Gate::kRefuse;
}

Response Route(const Request& req, const Connection& c, const ServerHandlers& handlers) {
  bool get = req.method == "GET" || req.method == "HEAD";
  bool probe = IsProbe(req.path);
  bool status_page = req.path == "/" && handlers.status != nullptr;
  bool known = probe || status_page || req.path == "/metrics";
  if (c.probe_only && !(probe && get)) {
    return Plain(503, "too many connections\n");
  }
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
                    .shared = handlers.metrics(req.accepts_gzip)};
  }
  if (status_page) {
    bool json = ListsToken(req.accept, "application/json");
    // Vary: one URL, two forms; a cache must not hand the JSON to a browser.
    return Response{.content_type = json ? "application/json" : "text/html; charset=utf-8",
                    .body = handlers.status(json),
                    .extra_header = "Vary: Accept"};
  }
  HealthView view = handlers.health();
  int status = 200;
  if (req.path == "/ready") {
    status = view.ready && !view.degraded ? 200 : 503;
  }
  // Liveness (/health): answering at all means alive; "status" tells healthy from degraded.
  return Response{.status = status, .content_type = "application/json", .body = view.json};
}

// Handles the complete request at the front of c.in, if there is one.
void HandleBuffered(Connection& c, const Serving& s, Clock::time_point now) {
  if (c.writing) {
    return;  // one response at a time
  }
  std::size_t end = c.in.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (c.in.size() > kMaxHeaderBytes) {
      Queue(c, Request{}, Plain(431, "request header too large\n"), now, s.limits);
    }
    return;
  }
  std::string_view head(c.in.data(), end);
  std::size_t consumed = end + 4;
  auto parsed = ParseRequestHead(head);
  if (const auto* error = std::get_if<RequestError>(&parsed)) {
    Queue(c, Request{}, Plain(error->status, std::string(error->message)), now, s.limits);
    return;
  }
  const Request& req = std::get<RequestHead>(parsed);
  const std::size_t content_length = req.content_length;
  if (c.in.size() < consumed + content_length) {
    return;  // the body (ignored) is still arriving
  }
  Response response;
  switch (Authorize(c, req, *s.security, response)) {
    case Gate::kWait:
      return;  // HandleBuffered runs again when the verdict arrives
    case Gate::kPass:
      response = Route(req, c, s.handlers);
      break;
    case Gate::kRefuse:
      break;
  }
  if (!req.keep_alive || c.probe_only) {
    response.close = true;  // a reserved slot serves one request
  }
  Queue(c, req, std::move(response), now, s.limits);
  // Only now: req's views point into c.in.
  c.in.erase(0, consumed + content_length);
}

bool Write(Connection& c, const Serving& s, Clock::time_point now);

// Reads what a TLS session has: until it waits for the socket, so that no plaintext stays
// buffered inside it where poll() cannot see it. False when the connection is over.
bool ReadTls(Connection& c) {
  // A request head, its ignored body and a pipelined head or two; more waits for later.
  constexpr std::size_t kMaxBuffered = kMaxHeaderBytes + kMaxRequestBodyBytes + kMaxHeaderBytes;
  char buf[4096];
  while (c.in.size() < kMaxBuffered) {
    TlsStream::Io io = c.tls->Read(buf, sizeof buf);
    c.tls_want = io.want;
    if (io.bytes > 0) {
      c.in.append(buf, io.bytes);
    } else {
      return io.open;
    }
  }
  return true;
}

bool Read(Connection& c, const Serving& s, Clock::time_point now) {
  if (c.tls) {
    if (!ReadTls(c)) {
      return false;
    }
  } else {
    char buf[4096];
    ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
    if (n == 0) {
      return false;  // the client closed
    }
    if (n < 0) {
      return errno == EAGAIN || errno == EINTR;
    }
    c.in.append(buf, static_cast<std::size_t>(n));
  }
  HandleBuffered(c, s, now);
  // Most responses fit the socket buffer: send now rather than one poll() round later.
  return c.writing ? Write(c, s, now) : true;
}

// Sends what the socket takes of c's response; false when the connection failed.
bool SendPlain(Connection& c) {
  iovec iov[16];
  int count = 0;
  std::size_t skip = c.sent;
  auto add = [&](const std::string& bytes) {
    if (skip >= bytes.size()) {
      skip -= bytes.size();
      return;
    }
    if (count < 16) {
      iov[count++] = {const_cast<char*>(bytes.data()) + skip, bytes.size() - skip};
    }
    skip = 0;
  };
  add(c.head);
  for (const auto& piece : c.pieces) {
    add(*piece);
  }
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = static_cast<std::size_t>(count);
  ssize_t n = ::sendmsg(c.fd.get(), &msg, MSG_NOSIGNAL);
  if (n < 0) {
    return errno == EAGAIN || errno == EINTR;
  }
  c.sent += static_cast<std::size_t>(n);
  return true;
}

// The same through TLS, one piece at a time (a TLS write takes one buffer).
bool SendTls(Connection& c) {
  while (c.sent < c.total) {
    std::size_t skip = c.sent;
    const std::string* current = &c.head;
    for (std::size_t i = 0; skip >= current->size() && i < c.pieces.size(); ++i) {
      skip -= current->size();
      current = c.pieces[i].get();
    }
    TlsStream::Io io = c.tls->Write(current->data() + skip, current->size() - skip);
    c.tls_want = io.want;
    if (io.bytes == 0) {
      return io.open;
    }
    c.sent += io.bytes;
  }
  return true;
}

bool Write(Connection& c, const Serving& s, Clock::time_point now) {
  if (!(c.tls ? SendTls(c) : SendPlain(c))) {
    return false;
  }
  if (c.sent < c.total) {
    return true;  // the deadline stays: it bounds the whole response
  }
  c.head.clear();
  c.pieces.clear();  // drops this connection's share of the body
  c.writing = false;
  c.sent = c.total = 0;
  if (c.close_after_write) {
    return false;
  }
  // The next request's head has its own total deadline from now; one may be buffered.
  c.deadline = now + s.limits.head_timeout;
  HandleBuffered(c, s, now);
  return true;
}

std::string PeerKey(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(addr);
    return std::string(reinterpret_cast<const char*>(&in.sin_addr), sizeof in.sin_addr);
  }
  if (addr.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(addr);
    return std::string(reinterpret_cast<const char*>(&in6.sin6_addr), sizeof in6.sin6_addr);
  }
  return {};
}

// Closes the oldest connection (of `peer`, when given) that has no response in progress:
// an idle one first, else one still sending its head. False when every one is writing.
bool EvictOldest(std::list<Connection>& connections, const std::string* peer) {
  Connection* reading = nullptr;
  for (Connection& c : connections) {
    if (!c.fd.valid() || c.writing || c.probe_only || (peer != nullptr && c.peer != *peer)) {
      continue;
    }
    if (c.in.empty()) {
      c.fd = UniqueFd();
      return true;
    }
    if (reading == nullptr) {
      reading = &c;
    }
  }
  if (reading != nullptr) {
    reading->fd = UniqueFd();
    return true;
  }
  return false;
}

struct Counts {
  std::size_t general = 0;  // connections not in a reserved slot
  std::size_t probe = 0;
  std::unordered_map<std::string, std::size_t> per_peer;  // general connections only
};

Counts Count(const std::list<Connection>& connections) {
  Counts counts;
  for (const Connection& c : connections) {
    if (!c.fd.valid()) {
      continue;
    }
    if (c.probe_only) {
      ++counts.probe;
    } else {
      ++counts.general;
      ++counts.per_peer[c.peer];
    }
  }
  return counts;
}

// Returns false when accepting failed for want of file descriptors or memory.
bool Accept(int listen_fd, std::list<Connection>& connections, const ServerLimits& limits,
            ServerTls* tls, std::uint64_t& next_id) {
  Counts counts = Count(connections);
  for (;;) {
    sockaddr_storage addr{};
    socklen_t length = sizeof addr;
    int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &length,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // Otherwise EAGAIN, or a connection reset before accept: nothing to do.
      return errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM;
    }
    Connection c{.fd = UniqueFd(fd),
                 .id = ++next_id,
                 .peer = PeerKey(addr),
                 .deadline = Clock::now() + limits.head_timeout};
    std::size_t& mine = counts.per_peer[c.peer];
    bool room = true;
    if (mine >= limits.max_per_peer) {
      room = EvictOldest(connections, &c.peer);
      if (room) {
        --mine;
        --counts.general;
      }
    }
    if (room && counts.general >= limits.max_connections) {
      room = EvictOldest(connections, nullptr);
      if (room) {
        counts = Count(connections);  // which peer lost one is not known here
      }
    }
    if (room) {
      ++counts.per_peer[c.peer];
      ++counts.general;
    } else if (counts.probe < limits.reserved_probe_slots) {
      c.probe_only = true;
      ++counts.probe;
    } else {
      continue;  // every slot is writing a response: refuse (closes c.fd)
    }
    if (tls != nullptr) {
      c.tls = tls->Accept(c.fd.get());
      if (!c.tls) {
        continue;
      }
    }
    connections.push_back(std::move(c));
  }
}

}  // namespace

std::string GzipMember(std::string_view in) {
  z_stream z{};
  // 15 + 16: a gzip wrapper; level 1: /metrics is compressible text, speed matters more.
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};
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
    return {};
  }
  return out;
}

HttpServer::HttpServer(const ServerHandlers& handlers, const ServerLimits& limits,
                       ServerSecurity security)
    : handlers_(handlers), limits_(limits), next_security_(std::move(security)) {}

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
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd.get(), 1024) != 0) {
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
    {
      std::lock_guard lock(security_mutex_);
      stopping_ = true;
    }
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_.get(), &one, sizeof one);
    thread_.join();
  }
}

void HttpServer::SetSecurity(ServerSecurity security) {
  {
    std::lock_guard lock(security_mutex_);
    next_security_ = std::move(security);
  }
  if (wake_fd_.valid()) {
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_.get(), &one, sizeof one);
  }
}

void HttpServer::Serve() {
  std::list<Connection> connections;
  std::vector<pollfd> fds;
  std::vector<Connection*> polled;
  Clock::time_point accept_paused_until;
  std::unique_ptr<ActiveSecurity> security;
  std::uint64_t next_id = 0;
  // Runs the buffered request of `c` again (after an auth verdict or a settings change).
  auto resume = [&](Connection& c, const Serving& serving, Clock::time_point now) {
    HandleBuffered(c, serving, now);
    if (c.writing && !Write(c, serving, now)) {
      c.fd = UniqueFd();
    }
  };
  for (;;) {
    {
      std::unique_lock lock(security_mutex_);
      if (stopping_) {
        return;  // open connections are closed with the list
      }
      if (next_security_) {
        ServerSecurity next = std::move(*next_security_);
        next_security_.reset();
        lock.unlock();
        security = std::make_unique<ActiveSecurity>(std::move(next));
        // Checks queued with the old settings will not report back: ask the new ones.
        const Serving serving{handlers_, limits_, security.get()};
        for (Connection& c : connections) {
          if (c.auth == AuthState::kPending) {
            c.auth = AuthState::kUnchecked;
            resume(c, serving, Clock::now());
          }
        }
      }
    }
    const Serving serving{handlers_, limits_, security.get()};
    Clock::time_point now = Clock::now();
    fds.clear();
    polled.clear();
    fds.push_back({.fd = wake_fd_.get(), .events = POLLIN, .revents = 0});
    // Out of fds, new clients wait in the kernel's backlog for a while.
    bool paused = now < accept_paused_until;
    fds.push_back({.fd = paused ? -1 : listen_fd_.get(), .events = POLLIN, .revents = 0});
    fds.push_back(
        {.fd = security->auth ? security->auth->ready_fd() : -1, .events = POLLIN, .revents = 0});
    constexpr std::size_t kFixedFds = 3;
    auto next_deadline = paused ? accept_paused_until : Clock::time_point::max();
    for (Connection& c : connections) {
      short events = c.writing ? POLLOUT : POLLIN;
      if (c.tls_want != TlsStream::Want::kNothing) {
        // TLS may need the other direction first (a handshake message, a key update).
        events = c.tls_want == TlsStream::Want::kRead ? POLLIN : POLLOUT;
      }
      if (c.auth == AuthState::kPending) {
        events = 0;  // nothing to do until the verdict; errors and hang-ups still show
      }
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
      std::uint64_t count = 0;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_.get(), &count, sizeof count);
      continue;  // Stop() or SetSecurity(): handled at the top
    }
    now = Clock::now();
    for (std::size_t i = 0; i < polled.size(); ++i) {
      Connection& c = *polled[i];
      bool keep = true;
      short revents = fds[i + kFixedFds].revents;
      if (revents & (POLLERR | POLLNVAL)) {
        keep = false;
      } else if (revents & (POLLIN | POLLOUT | POLLHUP)) {
        keep = c.writing ? Write(c, serving, now) : Read(c, serving, now);
      }
      if (keep && now >= c.deadline) {
        // The head or the response took longer than its total deadline. Reset rather than
        // close: a close would leave the kernel pushing the unsent rest to a slow reader.
        linger abort{.l_onoff = 1, .l_linger = 0};
        ::setsockopt(c.fd.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
        keep = false;
      }
      if (!keep) {
        c.fd = UniqueFd();
      }
    }
    if (fds[2].revents != 0) {
      for (const auto& [id, allowed] : security->auth->Finished()) {
        for (Connection& c : connections) {
          if (c.id == id && c.fd.valid() && c.auth == AuthState::kPending) {
            c.auth = allowed ? AuthState::kAllowed : AuthState::kDenied;
            resume(c, serving, now);
          }
        }
      }
    }
    connections.remove_if([](const Connection& c) { return !c.fd.valid(); });
    // After the deadlines have freed what they could, so evictions pick among the living.
    if (fds[1].revents != 0 &&
        !Accept(listen_fd_.get(), connections, limits_, security->settings.tls.get(), next_id)) {
      accept_paused_until = Clock::now() + kAcceptBackoff;
    }
    connections.remove_if([](const Connection& c) { return !c.fd.valid(); });
  }
}

}  // namespace metricsd
