#include "server/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <zlib.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/unique_fd.h"
#include "server/loopback_client.h"

namespace metricsd {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using testing::Connect;
using testing::Exchange;
using testing::ReadUntilClosed;

using Clock = std::chrono::steady_clock;

// A client whose receive buffer is small, so that a response it does not read fills it.

// Whether the server closed (or reset) fd within `within`, reading and dropping what came.
bool ClosedWithin(int fd, std::chrono::milliseconds within) {
  auto deadline = Clock::now() + within;
  char buf[65536];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) != 1) {
      return false;
    }
    if (::recv(fd, buf, sizeof buf, 0) <= 0) {
      return true;
    }
  }
}

// A /health answered on a fresh connection, or "" after 10 s.
std::string Probe(int port) {
  return Exchange(port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

void SendAll(int fd, std::string_view bytes) {
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(ServerHandlers{
        .metrics = [this](bool) { return MetricsBody::Text(metrics_); },
        .health = [this] { return HealthView{.ready = ready_.load(), .json = "{\"status\":1}"}; },
    });
    ASSERT_TRUE(server_->Bind("127.0.0.1", 0).ok());
    ASSERT_GT(server_->port(), 0);
    server_->Start();
  }
  void TearDown() override { server_->Stop(); }

  httplib::Client Client() {
    httplib::Client client("127.0.0.1", server_->port());
    client.set_read_timeout(10, 0);
    return client;
  }

  std::string metrics_ = "# TYPE up gauge\nup 1\n";
  std::atomic<bool> ready_{false};
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ServesMetricsWithThePrometheusContentType) {
  auto client = Client();
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, metrics_);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
}

TEST_F(HttpServerTest, QueryStringsAreIgnored) {
  auto client = Client();
  auto res = client.Get("/metrics?name[]=up");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(HttpServerTest, HeadHasTheLengthButNoBody) {
  std::string reply =
      Exchange(server_->port(), "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(reply, HasSubstr("Content-Length: " + std::to_string(metrics_.size()) + "\r\n"));
  EXPECT_TRUE(reply.ends_with("\r\n\r\n")) << reply;
}

TEST_F(HttpServerTest, ReadyFollowsTheHealthView) {
  auto client = Client();
  auto res = client.Get("/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  ready_ = true;
  res = client.Get("/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  res = client.Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "{\"status\":1}");
}

TEST_F(HttpServerTest, OtherMethodsAre405AndOtherPaths404) {
  auto client = Client();
  auto post = client.Post("/health", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
  auto missing = client.Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, "not found\n");
  auto del = client.Delete("/elsewhere");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 404);
}

TEST_F(HttpServerTest, LargeBodiesAreGzippedForClientsThatAcceptIt) {
  metrics_.clear();
  for (int i = 0; i < 2000; ++i) {
    metrics_ += "metric_" + std::to_string(i) + "{label=\"value\"} " + std::to_string(i) + "\n";
  }
  std::string raw = Exchange(server_->port(),
                             "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, br\r\n"
                             "Connection: close\r\n\r\n");
  EXPECT_THAT(raw, HasSubstr("Content-Encoding: gzip\r\n"));
  EXPECT_LT(raw.size(), metrics_.size() / 4);

  auto client = Client();
  client.set_decompress(true);
  auto res = client.Get("/metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, metrics_);

  std::string plain =
      Exchange(server_->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(plain, Not(HasSubstr("Content-Encoding")));
  EXPECT_TRUE(plain.ends_with(metrics_));
  std::string refused = Exchange(server_->port(),
                                 "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip;q=0\r\n"
                                 "Connection: close\r\n\r\n");
  EXPECT_THAT(refused, Not(HasSubstr("Content-Encoding")));
}

TEST_F(HttpServerTest, KeepAliveServesPipelinedRequestsInOrder) {
  std::string reply = Exchange(server_->port(),
                               "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                               "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                               "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::size_t first = reply.find("HTTP/1.1 200");
  std::size_t second = reply.find("HTTP/1.1 404");
  std::size_t third = reply.find("HTTP/1.1 200", first + 1);
  ASSERT_NE(first, std::string::npos) << reply;
  ASSERT_NE(second, std::string::npos) << reply;
  ASSERT_NE(third, std::string::npos) << reply;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_TRUE(reply.ends_with(metrics_));
}

TEST_F(HttpServerTest, Http10ClosesAfterTheResponse) {
  std::string reply = Exchange(server_->port(), "GET /health HTTP/1.0\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(reply, HasSubstr("Connection: close\r\n"));
}

TEST_F(HttpServerTest, MalformedAndOversizedRequestsAreRefused) {
  EXPECT_THAT(Exchange(server_->port(), "NONSENSE\r\n\r\n"), StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(Exchange(server_->port(), "GET /health SPDY/9\r\n\r\n"), StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(Exchange(server_->port(), "GET /health HTTP/1.1\r\nNoColon\r\n\r\n"),
              StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(Exchange(server_->port(), "GET /health HTTP/1.1\r\nX: " + std::string(9000, 'a')),
              StartsWith("HTTP/1.1 431 "));
  EXPECT_THAT(
      Exchange(server_->port(), "POST /health HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n"),
      StartsWith("HTTP/1.1 413 "));
  EXPECT_THAT(
      Exchange(server_->port(), "POST /health HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
      StartsWith("HTTP/1.1 501 "));
  // The server still answers afterwards.
  auto client = Client();
  auto res = client.Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(HttpServerTest, AnIdleClientDoesNotBlockOthers) {
  UniqueFd idle = Connect(server_->port());
  ASSERT_TRUE(idle.valid());
  ::send(idle.get(), "GET /hea", 8, MSG_NOSIGNAL);  // a request that never completes
  auto client = Client();
  auto res = client.Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(HttpServerTest, StopClosesOpenConnections) {
  UniqueFd idle = Connect(server_->port());
  ASSERT_TRUE(idle.valid());
  auto client = Client();
  ASSERT_TRUE(client.Get("/health"));  // the server has accepted `idle` by now
  server_->Stop();
  char c;
  pollfd p{.fd = idle.get(), .events = POLLIN, .revents = 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1);
  EXPECT_EQ(::recv(idle.get(), &c, 1, 0), 0);  // EOF
}

TEST(HttpServerBind, APortInUseIsAnErrorNamingTheAddress) {
  HttpServer first(ServerHandlers{});
  ASSERT_TRUE(first.Bind("127.0.0.1", 0).ok());
  HttpServer second(ServerHandlers{});
  Status bound = second.Bind("127.0.0.1", first.port());
  ASSERT_FALSE(bound.ok());
  EXPECT_THAT(bound.error(),
              HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(first.port())));
  EXPECT_THAT(bound.error(), HasSubstr("in use"));
}

TEST(HttpServerBind, UnresolvableHostIsAnError) {
  HttpServer server(ServerHandlers{});
  Status bound = server.Bind("no-such-host.invalid", 0);
  ASSERT_FALSE(bound.ok());
  EXPECT_THAT(bound.error(), HasSubstr("no-such-host.invalid"));
}

TEST(HttpServerBind, Ipv6LoopbackWhereAvailable) {
  HttpServer server(ServerHandlers{.metrics = [](bool) { return MetricsBody::Text("up 1\n"); },
                                   .health = [] { return HealthView{}; }});
  Status bound = server.Bind("::1", 0);
  if (!bound.ok()) {
    GTEST_SKIP() << "no IPv6 loopback here: " << bound.error();
  }
  server.Start();
  httplib::Client client("::1", server.port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "up 1\n");
  server.Stop();
}

// A server with small limits and a large shared /metrics body.
class HttpServerLimitsTest : public ::testing::Test {
 protected:
  void Start(ServerLimits limits) {
    body_ = std::make_shared<const std::string>(std::string(16 << 20, 'x'));
    server_ = std::make_unique<HttpServer>(
        ServerHandlers{
            .metrics =
                [this](bool) {
                  return MetricsBody{.pieces = {head_, body_}};
                },
            .health = [] { return HealthView{.ready = true, .json = "{}"}; },
        },
        limits);
    ASSERT_TRUE(server_->Bind("127.0.0.1", 0).ok());
    server_->Start();
  }
  void TearDown() override {
    if (server_) {
      server_->Stop();
    }
  }
  // Sends GET /metrics on a small-window connection and does not read the answer.
  UniqueFd SlowReader() {
    UniqueFd fd = Connect(server_->port(), 4096);
    SendAll(fd.get(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    return fd;
  }

  std::shared_ptr<const std::string> head_ = std::make_shared<const std::string>("# pieces\n");
  std::shared_ptr<const std::string> body_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerLimitsTest, ASlowLorisIsClosedByTheTotalHeadDeadline) {
  Start(ServerLimits{.head_timeout = std::chrono::seconds(2)});
  UniqueFd fd = Connect(server_->port());
  ASSERT_TRUE(fd.valid());
  const std::string request = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  auto started = Clock::now();
  bool closed = false;
  std::size_t sent = 0;
  // One byte a second: each byte arrives well within any per-read timeout.
  while (!closed && sent < request.size()) {
    SendAll(fd.get(), request.substr(sent++, 1));
    closed = ClosedWithin(fd.get(), std::chrono::seconds(1));
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(sent, request.size());
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(4));
}

TEST_F(HttpServerLimitsTest, ASlowReaderIsResetByTheTotalResponseDeadline) {
  Start(ServerLimits{.response_timeout = std::chrono::seconds(1)});
  UniqueFd fd = SlowReader();
  auto started = Clock::now();
  std::size_t received = 0;
  bool ended = false;
  char buf[1024];
  // 1 KiB every 10 ms: the 16 MiB body would take minutes.
  while (!ended && Clock::now() - started < std::chrono::seconds(10)) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN)) {
      ended = true;
    } else if (n > 0) {
      received += static_cast<std::size_t>(n);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the slowness under test
  }
  EXPECT_TRUE(ended);
  EXPECT_LT(received, body_->size());
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(4));
}

TEST_F(HttpServerLimitsTest, APeerAtItsCapLosesItsOldestIdleConnection) {
  Start(ServerLimits{.max_per_peer = 4});
  std::vector<UniqueFd> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(Connect(server_->port()));
  }
  EXPECT_THAT(Probe(server_->port()), StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(ClosedWithin(idle[0].get(), std::chrono::seconds(2)));
  for (int i = 1; i < 4; ++i) {
    EXPECT_FALSE(ClosedWithin(idle[i].get(), std::chrono::milliseconds(0))) << i;
  }
}

TEST_F(HttpServerLimitsTest, WhenEverySlotWritesAReservedSlotAnswersOnlyProbes) {
  Start(ServerLimits{.max_per_peer = 2});
  UniqueFd first = SlowReader();
  UniqueFd second = SlowReader();
  // Both responses are under way once each connection holds its share of the body.
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (body_.use_count() < 3 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(body_.use_count(), 3) << "connections hold the shared body, not copies";
  EXPECT_THAT(Probe(server_->port()), StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(Exchange(server_->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
              StartsWith("HTTP/1.1 503 "));
  EXPECT_FALSE(ClosedWithin(first.get(), std::chrono::milliseconds(0)));
}

TEST_F(HttpServerLimitsTest, HealthAnswersWhileIdleClientsAndSlowReadersHoldConnections) {
  Start(ServerLimits{});
  std::vector<UniqueFd> held;
  for (int i = 0; i < 300; ++i) {
    held.push_back(Connect(server_->port()));
    ASSERT_TRUE(held.back().valid());
  }
  for (int i = 0; i < 50; ++i) {
    held.push_back(SlowReader());
    ASSERT_TRUE(held.back().valid());
  }
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (body_.use_count() < 51 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(body_.use_count(), 51) << "50 responses under way";
  auto started = Clock::now();
  std::string reply = Probe(server_->port());
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(2));
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST_F(HttpServerLimitsTest, SharedPiecesAreWrittenInOrderAndHeadCountsThem) {
  Start(ServerLimits{});
  body_ = std::make_shared<const std::string>("up 1\n");
  std::string reply =
      Exchange(server_->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(reply, HasSubstr("Content-Length: 14\r\n"));
  EXPECT_TRUE(reply.ends_with("\r\n\r\n# pieces\nup 1\n")) << reply;
  std::string head =
      Exchange(server_->port(), "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(head, HasSubstr("Content-Length: 14\r\n"));
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;
}

// A server in a child process whose file descriptors are all taken, until Free(). The limit
// is lowered in the child only: fd exhaustion in the test process would break gtest.
class ServerWithoutFds {
 public:
  ServerWithoutFds() {
    int to_child[2];
    int from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) {
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(to_child[1]);
      ::close(from_child[0]);
      RunChild(to_child[0], from_child[1]);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    command_ = UniqueFd(to_child[1]);
    UniqueFd from(from_child[0]);
    if (pid_ > 0 && ::read(from.get(), &port_, sizeof port_) != sizeof port_) {
      port_ = 0;
    }
  }
  ~ServerWithoutFds() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ServerWithoutFds(const ServerWithoutFds&) = delete;
  ServerWithoutFds& operator=(const ServerWithoutFds&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  void Free() { [[maybe_unused]] ssize_t n = ::write(command_.get(), "f", 1); }

  // User + system CPU time of the whole child so far.
  std::chrono::duration<double> CpuTime() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Fields after "pid (comm) ": state ppid pgrp session tty tpgid flags minflt cminflt
    // majflt cmajflt utime stime.
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string skip;
    for (int i = 0; i < 11; ++i) {
      fields >> skip;
    }
    double utime = 0;
    double stime = 0;
    fields >> utime >> stime;
    return std::chrono::duration<double>((utime + stime) /
                                         static_cast<double>(::sysconf(_SC_CLK_TCK)));
  }

 private:
  [[noreturn]] static void RunChild(int command, int reply) {
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 256);  // keeps the filling loop short
    ::setrlimit(RLIMIT_NOFILE, &limit);
    HttpServer server(ServerHandlers{.metrics = [](bool) { return MetricsBody::Text("up 1\n"); },
                                     .health = [] { return HealthView{}; }});
    if (!server.Bind("127.0.0.1", 0).ok()) {
      ::_exit(2);
    }
    server.Start();
    std::vector<int> taken;
    for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) {
      taken.push_back(fd);
    }
    const int port = server.port();
    [[maybe_unused]] ssize_t n = ::write(reply, &port, sizeof port);
    char c;
    if (::read(command, &c, 1) == 1) {
      for (int fd : taken) {
        ::close(fd);
      }
      [[maybe_unused]] ssize_t ignored = ::read(command, &c, 1);  // the parent's end closes
    }
    server.Stop();
    ::_exit(0);
  }

  pid_t pid_ = -1;
  int port_ = 0;
  UniqueFd command_;
};

TEST(HttpServerOutOfFds, WaitsInsteadOfSpinningAndServesWhenFdsAreFree) {
  ServerWithoutFds server;
  ASSERT_GT(server.pid(), 0);
  ASSERT_GT(server.port(), 0);
  // The kernel completes the connection into the backlog; accept() then fails with EMFILE.
  UniqueFd client = Connect(server.port());
  ASSERT_TRUE(client.valid());
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(client.get(), request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  // A rate needs an interval: a server retrying accept() at once burns about a second of CPU
  // here (less on a loaded machine, still far more than the bound); one that waits between
  // tries, microseconds.
  const auto before = server.CpuTime();
  std::this_thread::sleep_for(1s);
  EXPECT_LT((server.CpuTime() - before).count(), 0.1) << "the accept loop spins";

  server.Free();
  EXPECT_THAT(ReadUntilClosed(client), StartsWith("HTTP/1.1 200 OK"));
}

}  // namespace
}  // namespace metricsd
