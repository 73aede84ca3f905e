// TLS, mTLS and basic auth on the server's own endpoint, checked with the curl command-line
// client (a real, independent TLS and HTTP implementation) against HttpServer with the
// OpenSSL ServerTls. Certificates come from support/test_pki.h.
#include "http/tls_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "server/http_server.h"
#include "support/bcrypt.h"
#include "support/process.h"
#include "support/test_pki.h"

namespace metricsd {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::CertSpec;
using testing::ChildProcess;
using testing::TempDir;
using testing::TestPki;

struct CurlResult {
  int exit_code = -1;
  std::string out;  // body, then the status code on its own line (-w)
  std::string err;
  int status() const {
    std::size_t nl = out.rfind('\n');
    return std::atoi(out.c_str() + (nl == std::string::npos ? 0 : nl + 1));
  }
};

CurlResult Curl(std::vector<std::string> args) {
  std::vector<std::string> all = {"-sS", "--max-time", "20", "-w", "\n%{http_code}"};
  all.insert(all.end(), args.begin(), args.end());
  ChildProcess curl(testing::FindBinary("curl"), all);
  auto code = curl.Wait(30s);
  return CurlResult{code.value_or(-1), curl.Stdout(), curl.Stderr()};
}

using testing::BcryptHash;

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::FindBinary("curl").empty()) {
      GTEST_SKIP() << "curl is not installed";
    }
    server_files_ = pki_.Issue("server", CertSpec{.common_name = "metricsd-server",
                                                  .dns_names = {"localhost"},
                                                  .ip_addresses = {"127.0.0.1"}});
    client_files_ = pki_.Issue("client", CertSpec{.common_name = "prometheus", .client = true});
    // 2 MB of text: several TLS records and partial writes, gzipped for curl --compressed.
    std::string body;
    for (int i = 0; body.size() < (2u << 20); ++i) {
      body += "metric_number_" + std::to_string(i) + "{job=\"x\"} " + std::to_string(i) + "\n";
    }
    body_ = body;
  }

  // Starts a server with server.tls built from `options` (cert and key filled in here).
  void Start(config::ServerTlsOptions options, ServerSecurity security = {},
             bool request_only = false, ServerLimits limits = {}) {
    options.cert_file = server_files_.cert_file;
    options.key_file = server_files_.key_file;
    auto tls = http::MakeServerTls(options, request_only, "server.tls");
    ASSERT_TRUE(tls.ok()) << tls.error();
    security.tls = std::move(*tls);
    StartPlain(std::move(security), limits);
  }

  void StartPlain(ServerSecurity security, ServerLimits limits = {}) {
    server_ = std::make_unique<HttpServer>(
        ServerHandlers{.metrics = [this](bool) { return MetricsBody::Text(body_); },
                       .health =
                           [] {
                             return HealthView{.ready = true, .json = "{\"status\":\"healthy\"}\n"};
                           }},
        limits, std::move(security));
    ASSERT_TRUE(server_->Bind("127.0.0.1", 0).ok());
    server_->Start();
  }

  std::string Url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(server_->port()) + path;
  }
  std::vector<std::string> WithClientCert(std::vector<std::string> args) const {
    args.insert(args.end(),
                {"--cert", client_files_.cert_file, "--key", client_files_.key_file});
    return args;
  }

  TempDir dir_;
  TestPki pki_{dir_.path(), "ca"};
  testing::CertFiles server_files_;
  testing::CertFiles client_files_;
  std::string body_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(TlsServerTest, ServesMetricsOverTlsAndRefusesPlainHttp) {
  Start({});
  CurlResult r = Curl({"--cacert", pki_.ca_file(), Url("/metrics")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.out.substr(0, r.out.rfind('\n')), body_);
  CurlResult gz = Curl({"--compressed", "--cacert", pki_.ca_file(), Url("/metrics")});
  ASSERT_EQ(gz.exit_code, 0) << gz.err;
  EXPECT_EQ(gz.out.substr(0, gz.out.rfind('\n')), body_);
  // HEAD: headers only, over TLS too.
  CurlResult head = Curl({"-I", "--cacert", pki_.ca_file(), Url("/health")});
  EXPECT_THAT(head.out, HasSubstr("HTTP/1.1 200"));
  // A plain HTTP request to the TLS port gets no HTTP response.
  CurlResult plain =
      Curl({"http://127.0.0.1:" + std::to_string(server_->port()) + "/metrics"});
  EXPECT_NE(plain.exit_code, 0);
  EXPECT_EQ(plain.status(), 0);
  // A client that does not trust our CA refuses the server.
  CurlResult untrusted = Curl({Url("/health")});
  EXPECT_NE(untrusted.exit_code, 0);
}

TEST_F(TlsServerTest, MinVersionRefusesOlderClients) {
  Start({.min_version = config::TlsVersion::kTls13});
  CurlResult old = Curl({"--cacert", pki_.ca_file(), "--tls-max", "1.2", Url("/health")});
  EXPECT_NE(old.exit_code, 0);
  CurlResult current = Curl({"--cacert", pki_.ca_file(), Url("/health")});
  EXPECT_EQ(current.exit_code, 0) << current.err;
  EXPECT_EQ(current.status(), 200);
}

TEST_F(TlsServerTest, MutualTlsRequiresACertificateFromTheClientCa) {
  Start({.client_ca_file = pki_.ca_file()});
  CurlResult without = Curl({"--cacert", pki_.ca_file(), Url("/metrics")});
  EXPECT_NE(without.exit_code, 0);
  EXPECT_EQ(without.status(), 0);
  CurlResult with = Curl(WithClientCert({"--cacert", pki_.ca_file(), Url("/metrics")}));
  ASSERT_EQ(with.exit_code, 0) << with.err;
  EXPECT_EQ(with.status(), 200);
  // A certificate from another CA is refused in the handshake.
  TempDir other_dir;
  TestPki other(other_dir.path(), "other-ca");
  testing::CertFiles stranger =
      other.Issue("stranger", CertSpec{.common_name = "stranger", .client = true});
  CurlResult foreign = Curl({"--cacert", pki_.ca_file(), "--cert", stranger.cert_file, "--key",
                             stranger.key_file, Url("/metrics")});
  EXPECT_NE(foreign.exit_code, 0);
  EXPECT_EQ(foreign.status(), 0);
}

TEST_F(TlsServerTest, ProbesCanSkipTheClientCertificate) {
  // What the daemon builds for RequireAndVerifyClientCert with server.probes_skip_auth.
  Start({.client_ca_file = pki_.ca_file()},
        ServerSecurity{.require_client_cert = true, .probes_skip_auth = true},
        /*request_only=*/true);
  CurlResult health = Curl({"--cacert", pki_.ca_file(), Url("/health")});
  ASSERT_EQ(health.exit_code, 0) << health.err;
  EXPECT_EQ(health.status(), 200);
  CurlResult metrics = Curl({"--cacert", pki_.ca_file(), Url("/metrics")});
  EXPECT_EQ(metrics.status(), 403);
  EXPECT_THAT(metrics.out, HasSubstr("client certificate"));
  CurlResult with = Curl(WithClientCert({"--cacert", pki_.ca_file(), Url("/metrics")}));
  EXPECT_EQ(with.status(), 200) << with.err;
}

TEST_F(TlsServerTest, BasicAuthRightWrongAndMissing) {
  Start({}, ServerSecurity{.basic_auth_users = {{"prom", BcryptHash("right-pw")}}});
  const std::vector<std::string> base = {"--cacert", pki_.ca_file(), "-D", "-"};
  CurlResult missing = Curl({"--cacert", pki_.ca_file(), "-D", "-", Url("/metrics")});
  EXPECT_EQ(missing.status(), 401);
  EXPECT_THAT(missing.out, HasSubstr("WWW-Authenticate: Basic realm=\"metricsd\""));
  CurlResult wrong = Curl({"--cacert", pki_.ca_file(), "-u", "prom:wrong", Url("/metrics")});
  EXPECT_EQ(wrong.status(), 401);
  CurlResult unknown = Curl({"--cacert", pki_.ca_file(), "-u", "eve:right-pw", Url("/metrics")});
  EXPECT_EQ(unknown.status(), 401);
  for (int i = 0; i < 2; ++i) {  // the second is answered from the remembered password
    CurlResult right =
        Curl({"--cacert", pki_.ca_file(), "-u", "prom:right-pw", Url("/metrics")});
    ASSERT_EQ(right.exit_code, 0) << right.err;
    EXPECT_EQ(right.status(), 200);
    EXPECT_EQ(right.out.substr(0, right.out.rfind('\n')), body_);
  }
  // Without probes_skip_auth, /health needs the password as well.
  EXPECT_EQ(Curl({"--cacert", pki_.ca_file(), Url("/health")}).status(), 401);
}

TEST_F(TlsServerTest, BasicAuthCanLeaveProbesOpenAndFollowsANewUserList) {
  StartPlain(ServerSecurity{.basic_auth_users = {{"prom", BcryptHash("old-pw")}},
                            .probes_skip_auth = true});
  const std::string base = "http://127.0.0.1:" + std::to_string(server_->port());
  EXPECT_EQ(Curl({base + "/health"}).status(), 200);
  EXPECT_EQ(Curl({base + "/ready"}).status(), 200);
  EXPECT_EQ(Curl({base + "/metrics"}).status(), 401);
  EXPECT_EQ(Curl({"-u", "prom:old-pw", base + "/metrics"}).status(), 200);
  // A reload with a new hash: the old password (remembered before) no longer works.
  server_->SetSecurity(ServerSecurity{.basic_auth_users = {{"prom", BcryptHash("new-pw")}}});
  EXPECT_TRUE(testing::WaitFor(
      [&] { return Curl({"-u", "prom:old-pw", base + "/metrics"}).status() == 401; }, 10s));
  EXPECT_EQ(Curl({"-u", "prom:new-pw", base + "/metrics"}).status(), 200);
  EXPECT_EQ(Curl({base + "/health"}).status(), 401);  // probes_skip_auth is off now
}

TEST_F(TlsServerTest, AReplacedCertificateIsServedWithoutARestart) {
  Start({});
  CurlResult before = Curl({"-v", "--cacert", pki_.ca_file(), Url("/health")});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_THAT(before.err, HasSubstr("CN=metricsd-server"));
  // Written beside, then renamed into place, as cert-manager and certbot do.
  testing::CertFiles next = pki_.Issue("next", CertSpec{.common_name = "metricsd-rotated",
                                                        .ip_addresses = {"127.0.0.1"}});
  std::filesystem::rename(next.key_file, server_files_.key_file);
  std::filesystem::rename(next.cert_file, server_files_.cert_file);
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        return Curl({"-v", "--cacert", pki_.ca_file(), Url("/health")})
                   .err.find("CN=metricsd-rotated") != std::string::npos;
      },
      10s));
  // A key that does not match the certificate keeps the previous pair in service.
  testing::CertFiles third = pki_.Issue("third", CertSpec{.common_name = "metricsd-third",
                                                          .ip_addresses = {"127.0.0.1"}});
  std::filesystem::rename(third.cert_file, server_files_.cert_file);
  std::this_thread::sleep_for(1500ms);
  CurlResult mismatched = Curl({"-v", "--cacert", pki_.ca_file(), Url("/health")});
  EXPECT_EQ(mismatched.status(), 200) << mismatched.err;
  EXPECT_THAT(mismatched.err, HasSubstr("CN=metricsd-rotated"));
}

TEST_F(TlsServerTest, AClientThatNeverFinishesTheHandshakeIsClosedByTheHeadDeadline) {
  Start({}, {}, false, ServerLimits{.head_timeout = 500ms});
  // Plays a slow-loris TLS client: connects and sends nothing.
  ChildProcess silent(testing::FindBinary("python3"),
                      {"-c", "import socket,sys,time\n"
                             "s=socket.create_connection(('127.0.0.1'," +
                                 std::to_string(server_->port()) +
                                 "))\n"
                             "s.settimeout(20)\n"
                             "t=time.time()\n"
                             "try:\n  d=s.recv(1)\nexcept ConnectionResetError:\n  d=b''\n"
                             "print('closed' if d==b'' else 'data', round(time.time()-t,1))\n"});
  ASSERT_EQ(silent.Wait(30s), 0) << silent.Stderr();
  // Closed (reset) by the 0.5 s deadline, well before the client's own 20 s timeout.
  EXPECT_THAT(silent.Stdout(), ::testing::StartsWith("closed"));
  double waited = std::atof(silent.Stdout().substr(silent.Stdout().find(' ') + 1).c_str());
  EXPECT_LT(waited, 10.0) << silent.Stdout();
  // The server still answers.
  EXPECT_EQ(Curl({"--cacert", pki_.ca_file(), Url("/health")}).status(), 200);
}

TEST(ServerTlsOptions, UnusableFilesNameTheirKey) {
  TempDir dir;
  TestPki pki(dir.path(), "ca");
  testing::CertFiles a = pki.Issue("a", CertSpec{.common_name = "a"});
  testing::CertFiles b = pki.Issue("b", CertSpec{.common_name = "b"});
  auto mismatched = http::MakeServerTls({.cert_file = a.cert_file, .key_file = b.key_file},
                                        false, "server.tls");
  ASSERT_FALSE(mismatched.ok());
  EXPECT_THAT(mismatched.error(), HasSubstr("server.tls.key_file"));
  std::string not_pem = dir.Write("not.pem", "hello\n");
  auto bad_cert = http::MakeServerTls({.cert_file = not_pem, .key_file = a.key_file}, false,
                                      "server.tls");
  ASSERT_FALSE(bad_cert.ok());
  EXPECT_THAT(bad_cert.error(), HasSubstr("server.tls.cert_file"));
  auto bad_ca = http::MakeServerTls(
      {.cert_file = a.cert_file, .key_file = a.key_file, .client_ca_file = not_pem}, false,
      "server.tls");
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_THAT(bad_ca.error(), HasSubstr("server.tls.client_ca_file"));
}

}  // namespace
}  // namespace metricsd
