#include "http/http_client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "core/version.h"
#include "support/curl_environment.h"
#include "support/process.h"

namespace metricsd::http {
namespace {

::testing::Environment* const kCurlEnv =
    ::testing::AddGlobalTestEnvironment(new metricsd::testing::CurlEnvironment);

// A plain HTTP server on 127.0.0.1:<ephemeral> that records what it received.
class RecordingServer {
 public:
  struct Seen {
    std::string method;
    std::string body;
    httplib::Headers headers;
    int remote_port = 0;
  };

  RecordingServer() {
    server_.Post("/.*", [this](const httplib::Request& req, httplib::Response& res) {
      Record(req);
      res.status = status_;
      if (!retry_after_.empty()) {
        res.set_header("Retry-After", retry_after_);
      }
      res.set_content(response_body_, "text/plain; charset=utf-8");
    });
    server_.Get("/.*", [this](const httplib::Request& req, httplib::Response& res) {
      Record(req);
      if (req.path == "/redirect") {
        res.set_redirect(redirect_to_);
        return;
      }
      res.set_content(response_body_, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    metricsd::testing::WaitUntil([this] { return server_.is_running(); }, std::chrono::seconds(10));
  }
  ~RecordingServer() {
    server_.stop();
    thread_.join();
  }

  std::string url(const std::string& path = "/write") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

  int status_ = 200;
  std::string retry_after_;
  std::string response_body_ = "ok";
  std::string redirect_to_;  // the Location sent for GET /redirect

 private:
  void Record(const httplib::Request& req) {
    std::lock_guard lock(mu_);
    seen_.push_back({req.method, req.body, req.headers, req.remote_port});
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Seen> seen_;
};

std::unique_ptr<HttpClient> MakeClient(HttpClientOptions options) {
  auto client = HttpClient::Create(std::move(options), "shipper");
  EXPECT_TRUE(client.ok()) << (client.ok() ? "" : client.error());
  return client.ok() ? std::move(*client) : nullptr;
}

TEST(HttpClient, SendsBodyFixedHeadersAuthAndUserAgentAndReusesTheConnection) {
  RecordingServer server;
  HttpClientOptions options;
  options.auth.bearer_token = "s3cret-token";
  options.auth.headers = {{"X-Scope-OrgID", "tenant-1"}};
  options.fixed_headers = {"Content-Type: application/x-protobuf"};
  auto client = MakeClient(options);
  ASSERT_NE(client, nullptr);

  HttpRequest request;
  request.url = server.url();
  std::string body("\x00\x01payload", 9);
  request.body = body;
  auto first = client->Perform(request);
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "ok");
  EXPECT_EQ(first->content_type, "text/plain; charset=utf-8");
  auto second = client->Perform(request);
  ASSERT_TRUE(second.ok()) << second.error();

  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].body, body);
  auto header = [&](const char* name) {
    auto it = seen[0].headers.find(name);
    return it == seen[0].headers.end() ? std::string("<absent>") : it->second;
  };
  EXPECT_EQ(header("Authorization"), "Bearer s3cret-token");
  EXPECT_EQ(header("X-Scope-OrgID"), "tenant-1");
  EXPECT_EQ(header("Content-Type"), "application/x-protobuf");
  EXPECT_EQ(header("User-Agent"), std::string("metricsd/") + kVersion);
  EXPECT_EQ(header("Expect"), "<absent>");
  EXPECT_EQ(seen[0].headers.count("Content-Type"), 1u);
  // Same client, same connection: the second request came from the same source port.
  EXPECT_EQ(seen[0].remote_port, seen[1].remote_port);
}

TEST(HttpClient, BasicAuthFromPasswordFileIsTrimmed) {
  RecordingServer server;
  metricsd::testing::TempDir dir;
  std::string file = dir.path() + "/password";
  std::ofstream(file) << "pa:ss\n";
  HttpClientOptions options;
  options.auth.basic_auth.username = "agent";
  options.auth.basic_auth.password_file = file;
  auto client = MakeClient(options);
  ASSERT_NE(client, nullptr);
  HttpRequest request;
  request.url = server.url();
  ASSERT_TRUE(client->Perform(request).ok());
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  // base64("agent:pa:ss")
  EXPECT_EQ(seen[0].headers.find("Authorization")->second, "Basic YWdlbnQ6cGE6c3M=");
}

TEST(HttpClient, CapturesRetryAfterAndCapsTheBody) {
  RecordingServer server;
  server.status_ = 503;
  server.retry_after_ = "7";
  server.response_body_ = std::string(10000, 'x');
  HttpClientOptions options;
  options.max_response_body_bytes = 100;
  auto client = MakeClient(options);
  ASSERT_NE(client, nullptr);
  HttpRequest request;
  request.url = server.url();
  auto response = client->Perform(request);
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->retry_after, "7");
  EXPECT_EQ(response->body.size(), 100u);
  EXPECT_TRUE(response->body_truncated);
  // The connection is still usable after a capped body.
  server.status_ = 200;
  server.response_body_ = "ok";
  auto again = client->Perform(request);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->body, "ok");
}

TEST(HttpClient, GetRequests) {
  RecordingServer server;
  server.response_body_ = "{\"a\":1}";
  auto client = MakeClient({});
  ASSERT_NE(client, nullptr);
  HttpRequest request;
  request.method = "GET";
  request.url = server.url("/metrics");
  auto response = client->Perform(request);
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->body, "{\"a\":1}");
  EXPECT_EQ(response->content_type, "application/json");
  EXPECT_EQ(server.seen().at(0).method, "GET");
}

// A body with a Content-Length is received into a buffer of that size: grown chunk by chunk it
// would be copied on each doubling and keep up to twice its size while it is parsed and kept.
TEST(HttpClient, ABodyOfDeclaredLengthIsReceivedWithoutGrowing) {
  RecordingServer server;
  server.response_body_ = std::string(3'000'000, 'x');
  HttpClientOptions options;
  options.max_response_body_bytes = 8U << 20;
  options.accept_compressed = false;  // a gzip body's length says nothing of the decoded size
  auto client = MakeClient(options);
  ASSERT_NE(client, nullptr);
  HttpRequest request;
  request.method = "GET";
  request.url = server.url("/metrics");
  auto response = client->Perform(request);  // the client's first: no earlier size to go by
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->body.size(), 3'000'000U);
  EXPECT_LT(response->body.capacity(), 3'000'000U + 3'000'000U / 16);
}

TEST(HttpClient, ConnectionRefusedIsAnErrorNotAResponse) {
  int port = metricsd::testing::FreePort();
  auto client = MakeClient({});
  ASSERT_NE(client, nullptr);
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/write";
  auto response = client->Perform(request);
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.error().find("Couldn't connect"), std::string::npos) << response.error();
}

TEST(HttpClient, TimeoutIsBounded) {
  httplib::Server slow;
  slow.Post("/.*", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a receiver that hangs
    res.set_content("late", "text/plain");
  });
  int port = slow.bind_to_any_port("127.0.0.1");
  std::thread t([&] { slow.listen_after_bind(); });
  metricsd::testing::WaitUntil([&] { return slow.is_running(); }, std::chrono::seconds(10));
  HttpClientOptions options;
  options.timeout = std::chrono::milliseconds(200);
  auto client = MakeClient(options);
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/write";
  auto response = client->Perform(request);
  slow.stop();
  t.join();
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.error().find("Timeout"), std::string::npos) << response.error();
}

HttpClientOptions RedirectingClientOptions() {
  HttpClientOptions options;
  options.max_redirects = 5;
  options.auth.headers = {{"X-Api-Key", "key-aaa"}, {"X-Scope-OrgID", "tenant-1"}};
  options.fixed_headers = {"Accept: text/plain"};
  return options;
}

// libcurl itself strips only Authorization and Cookie on a redirect to another host.
TEST(HttpClientRedirects, AnotherOriginGetsNoConfiguredHeadersNorCredentials) {
  RecordingServer a;
  RecordingServer b;  // another port on the same host: another origin
  a.redirect_to_ = b.url("/final");
  struct Case {
    std::string name;
    std::function<void(HttpClientOptions&)> set;
    std::string url;
  };
  const std::string a_url = a.url("/redirect");
  const std::string with_user_info = "http://u:pw@" + a_url.substr(std::strlen("http://"));
  std::vector<Case> cases = {
      {"basic",
       [](HttpClientOptions& o) { o.auth.basic_auth = {.username = "u", .password = "p"}; }, a_url},
      {"bearer", [](HttpClientOptions& o) { o.auth.bearer_token = "t"; }, a_url},
      {"url user-info", [](HttpClientOptions&) {}, with_user_info},
  };
  for (const Case& c : cases) {
    HttpClientOptions options = RedirectingClientOptions();
    c.set(options);
    auto client = MakeClient(options);
    ASSERT_NE(client, nullptr);
    auto response = client->Perform({.method = "GET", .url = c.url});
    ASSERT_TRUE(response.ok()) << c.name << ": " << response.error();
    EXPECT_EQ(response->status, 200) << c.name;
    ASSERT_FALSE(a.seen().empty());
    ASSERT_FALSE(b.seen().empty());
    const httplib::Headers at_a = a.seen().back().headers;
    const httplib::Headers at_b = b.seen().back().headers;
    EXPECT_EQ(at_a.count("X-Api-Key"), 1u) << c.name;
    EXPECT_EQ(at_a.count("Authorization"), 1u) << c.name;
    EXPECT_EQ(at_b.count("X-Api-Key"), 0u) << c.name;
    EXPECT_EQ(at_b.count("X-Scope-OrgID"), 0u) << c.name;
    EXPECT_EQ(at_b.count("Authorization"), 0u) << c.name;
    EXPECT_EQ(at_b.count("Accept"), 1u) << c.name;  // the protocol's own headers still go
  }
}

TEST(HttpClientRedirects, SameOriginKeepsHeadersAndCredentials) {
  RecordingServer a;
  a.redirect_to_ = "/final";
  HttpClientOptions options = RedirectingClientOptions();
  options.auth.bearer_token = "t";
  auto client = MakeClient(options);
  ASSERT_NE(client, nullptr);
  auto response = client->Perform({.method = "GET", .url = a.url("/redirect")});
  ASSERT_TRUE(response.ok()) << response.error();
  ASSERT_EQ(a.seen().size(), 2u);
  const httplib::Headers final_headers = a.seen()[1].headers;
  EXPECT_EQ(final_headers.count("X-Api-Key"), 1u);
  EXPECT_EQ(final_headers.find("Authorization")->second, "Bearer t");
}

TEST(HttpClientRedirects, NonHttpSchemesAreRefused) {
  RecordingServer a;
  RecordingServer b;
  for (const std::string& target :
       {std::string("file:///etc/passwd"), b.url("/x").replace(0, 4, "ftp"),
        std::string("gopher://127.0.0.1/")}) {
    a.redirect_to_ = target;
    auto client = MakeClient(RedirectingClientOptions());
    ASSERT_NE(client, nullptr);
    auto response = client->Perform({.method = "GET", .url = a.url("/redirect")});
    ASSERT_FALSE(response.ok()) << target << " was followed";
    EXPECT_NE(response.error().find("refused"), std::string::npos) << response.error();
  }
  EXPECT_TRUE(b.seen().empty());
}

TEST(HttpClientRedirects, ChainIsBounded) {
  RecordingServer a;
  a.redirect_to_ = "/redirect";
  HttpClientOptions options = RedirectingClientOptions();
  options.max_redirects = 2;
  auto client = MakeClient(options);
  ASSERT_NE(client, nullptr);
  auto response = client->Perform({.method = "GET", .url = a.url("/redirect")});
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.error().find("more than 2 redirects"), std::string::npos) << response.error();
  EXPECT_EQ(a.seen().size(), 3u);
  // The next request on the same client starts clean.
  a.redirect_to_ = "/final";
  EXPECT_TRUE(client->Perform({.method = "GET", .url = a.url("/redirect")}).ok());
}

TEST(HttpAuthValidation, ReservedHeadersCannotBeOverridden) {
  config::HttpAuth auth;
  auth.headers = {{"content-type", "text/plain"},
                  {"X-Prometheus-Remote-Write-Version", "2.0.0"},
                  {"X-Scope-OrgID", "ok"}};
  std::vector<std::string_view> reserved = {"Content-Type", "X-Prometheus-Remote-Write-Version"};
  Status s = ValidateHttpAuth(auth, "shipper", reserved);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("shipper.headers.content-type: this header is set by metricsd"),
            std::string::npos)
      << s.error();
  EXPECT_NE(s.error().find("shipper.headers.X-Prometheus-Remote-Write-Version"), std::string::npos);
  EXPECT_EQ(s.error().find("X-Scope-OrgID"), std::string::npos);
}

TEST(HttpAuthValidation, RejectsConflictingAuthAndHeaderInjection) {
  config::HttpAuth auth;
  auth.basic_auth.username = "u";
  auth.basic_auth.password = "p";
  auth.bearer_token = "t";
  auth.headers = {{"Authorization", "Bearer x"}, {"X-Evil", "a\r\nInjected: 1"}};
  Status s = ValidateHttpAuth(auth, "shipper", {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("shipper.bearer_token: cannot be combined with shipper.basic_auth"),
            std::string::npos)
      << s.error();
  EXPECT_NE(s.error().find("shipper.headers.Authorization"), std::string::npos);
  EXPECT_NE(s.error().find("shipper.headers.X-Evil: header value must not contain CR"),
            std::string::npos);
  // Secrets never appear in messages.
  EXPECT_EQ(s.error().find("Bearer x"), std::string::npos);
}

TEST(HttpAuthValidation, MissingSecretFileNamesTheKey) {
  config::HttpAuth auth;
  auth.bearer_token_file = "/nonexistent/token";
  Status s = ValidateHttpAuth(auth, "shipper", {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("shipper.bearer_token_file: cannot read \"/nonexistent/token\""),
            std::string::npos)
      << s.error();
}

}  // namespace
}  // namespace metricsd::http
