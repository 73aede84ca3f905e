// The status page's route: "/" answers HTML or JSON by the Accept header, HEAD included, and
// stays out of the reserved probe slots.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "core/unique_fd.h"
#include "server/http_server.h"
#include "server/loopback_client.h"
#include "support/bcrypt.h"

namespace metricsd {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// One request on a fresh connection; the reply as read until the server closes (or 10 s).
std::string Ask(int port, const std::string& request) { return testing::Exchange(port, request); }

std::string Get(int port, const std::string& path, const std::string& extra_headers = "",
                const std::string& method = "GET") {
  return Ask(port, method + " " + path + " HTTP/1.1\r\nHost: x\r\n" + extra_headers +
                       "Connection: close\r\n\r\n");
}

constexpr std::string_view kHtml = "<!DOCTYPE html><p>status</p>";
constexpr std::string_view kJson = R"({"status":true})";

class StatusRouteTest : public ::testing::Test {
 protected:
  void Start(ServerLimits limits = {}, ServerSecurity security = {}) {
    server_ = std::make_unique<HttpServer>(
        ServerHandlers{
            .metrics = [this](bool) { return MetricsBody{.pieces = {metrics_}}; },
            .health = [] { return HealthView{.ready = true, .json = "{}"}; },
            .status = [](bool json) { return std::string(json ? kJson : kHtml); },
        },
        limits, std::move(security));
    ASSERT_TRUE(server_->Bind("127.0.0.1", 0).ok());
    server_->Start();
  }
  void TearDown() override {
    if (server_) {
      server_->Stop();
    }
  }
  int port() const { return server_->port(); }

  std::shared_ptr<const std::string> metrics_ = std::make_shared<const std::string>("up 1\n");
  std::unique_ptr<HttpServer> server_;
};

TEST_F(StatusRouteTest, RootIsHtmlByDefault) {
  Start();
  for (const std::string headers : {"", "Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n",
                                    "Accept: application/json;q=0\r\n"}) {
    std::string reply = Get(port(), "/", headers);
    EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 OK\r\n")) << headers;
    EXPECT_THAT(reply, HasSubstr("Content-Type: text/html; charset=utf-8\r\n")) << headers;
    EXPECT_TRUE(reply.ends_with(kHtml)) << headers;
  }
}

TEST_F(StatusRouteTest, RootIsJsonForClientsThatAcceptIt) {
  Start();
  for (const std::string headers :
       {"Accept: application/json\r\n", "accept: text/plain, Application/JSON; q=0.9\r\n"}) {
    std::string reply = Get(port(), "/?x=1", headers);
    EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 OK\r\n")) << headers;
    EXPECT_THAT(reply, HasSubstr("Content-Type: application/json\r\n")) << headers;
    EXPECT_THAT(reply, HasSubstr("Vary: Accept\r\n")) << headers;
    EXPECT_TRUE(reply.ends_with(kJson)) << headers;
  }
}

TEST_F(StatusRouteTest, HeadHasTheLengthButNoBody) {
  Start();
  std::string reply = Get(port(), "/", "", "HEAD");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(reply, HasSubstr("Content-Length: " + std::to_string(kHtml.size()) + "\r\n"));
  EXPECT_TRUE(reply.ends_with("\r\n\r\n")) << reply;
  reply = Get(port(), "/", "Accept: application/json\r\n", "HEAD");
  EXPECT_THAT(reply, HasSubstr("Content-Length: " + std::to_string(kJson.size()) + "\r\n"));
  EXPECT_TRUE(reply.ends_with("\r\n\r\n")) << reply;
}

TEST_F(StatusRouteTest, OtherPathsStay404AndOtherMethods405) {
  Start();
  for (const char* path : {"/index.html", "/status", "//", "/metrics/"}) {
    EXPECT_THAT(Get(port(), path), StartsWith("HTTP/1.1 404 ")) << path;
  }
  std::string post = Get(port(), "/", "Content-Length: 0\r\n", "POST");
  EXPECT_THAT(post, StartsWith("HTTP/1.1 405 "));
  EXPECT_THAT(post, HasSubstr("Allow: GET, HEAD\r\n"));
}

// The page shows the configuration and every error: it is guarded like /metrics, not open
// like the probes.
TEST_F(StatusRouteTest, BasicAuthGuardsThePageButNotTheProbes) {
  const std::string hash = testing::BcryptHash("pw");
  ASSERT_FALSE(hash.empty());
  Start(ServerLimits{},
        ServerSecurity{.basic_auth_users = {{"u", hash}}, .probes_skip_auth = true});
  EXPECT_THAT(Get(port(), "/"), StartsWith("HTTP/1.1 401 "));
  EXPECT_THAT(Get(port(), "/", "Accept: application/json\r\n"), StartsWith("HTTP/1.1 401 "));
  EXPECT_THAT(Get(port(), "/health"), StartsWith("HTTP/1.1 200 OK\r\n"));
  // u:pw
  std::string reply = Get(port(), "/", "Authorization: Basic dTpwdw==\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(reply.ends_with(kHtml)) << reply;
}

TEST(StatusRouteWithoutHandler, RootIs404) {
  HttpServer server(ServerHandlers{
      .metrics = [](bool) { return MetricsBody::Text("up 1\n"); },
      .health = [] { return HealthView{.ready = true, .json = "{}"}; },
  });
  ASSERT_TRUE(server.Bind("127.0.0.1", 0).ok());
  server.Start();
  EXPECT_THAT(Get(server.port(), "/"), StartsWith("HTTP/1.1 404 "));
  server.Stop();
}

TEST_F(StatusRouteTest, AReservedProbeSlotDoesNotServeTheStatusPage) {
  metrics_ = std::make_shared<const std::string>(std::string(16 << 20, 'x'));
  Start(ServerLimits{.max_per_peer = 2});
  // Two readers that never read a 16 MiB /metrics hold every ordinary slot.
  UniqueFd held[2];
  for (UniqueFd& fd : held) {
    fd = testing::Connect(port(), 4096);
    const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    ::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (metrics_.use_count() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(metrics_.use_count(), 3);
  EXPECT_THAT(Get(port(), "/"), StartsWith("HTTP/1.1 503 "));
  EXPECT_THAT(Get(port(), "/health"), StartsWith("HTTP/1.1 200 OK\r\n"));
}

}  // namespace
}  // namespace metricsd
