// End-to-end: the metricsd binary with TLS, mTLS and basic auth on its own endpoint, checked
// with the curl client; a reload that changes the password; and a pull-only agent without
// server TLS that never maps OpenSSL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "support/bcrypt.h"
#include "support/process.h"
#include "support/test_pki.h"

namespace metricsd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::TempDir;
using testing::WaitFor;

const std::string kBinary = METRICSD_BINARY;

using testing::BcryptHash;

// The HTTP status curl got (0: no HTTP response, e.g. a refused handshake).
int CurlStatus(std::vector<std::string> args) {
  std::vector<std::string> all = {"-s", "-o", "/dev/null",   "--max-time",
                                  "10", "-w", "%{http_code}"};
  all.insert(all.end(), args.begin(), args.end());
  ChildProcess curl(testing::FindBinary("curl"), all);
  curl.Wait(20s);
  return std::atoi(curl.Stdout().c_str());
}

std::string Maps(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string SecuredConfig(int port, const testing::CertFiles& server, const std::string& ca,
                          const std::string& hash) {
  return R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
         R"(,"tls":{"cert_file":")" + server.cert_file + R"(","key_file":")" + server.key_file +
         R"(","client_ca_file":")" + ca + R"("},"basic_auth_users":{"prom":")" + hash +
         R"("},"probes_skip_auth":true},"collector":{"interval_seconds":1}})";
}

TEST(SecuredEndpointE2e, TlsClientCertificateAndPasswordThroughAReload) {
  if (testing::FindBinary("curl").empty()) {
    GTEST_SKIP() << "curl is not installed";
  }
  TempDir dir;
  testing::TestPki pki(dir.path(), "ca");
  testing::CertFiles server =
      pki.Issue("server", {.common_name = "metricsd", .ip_addresses = {"127.0.0.1"}});
  testing::CertFiles client = pki.Issue("client", {.common_name = "prom", .client = true});
  int port = testing::FreePort();
  std::string config =
      dir.Write("config.json", SecuredConfig(port, server, pki.ca_file(), BcryptHash("first-pw")));
  ChildProcess daemon(kBinary, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  const std::string base = "https://127.0.0.1:" + std::to_string(port);
  const std::vector<std::string> trust = {"--cacert", pki.ca_file()};
  const std::vector<std::string> cert = {"--cacert",       pki.ca_file(), "--cert",
                                         client.cert_file, "--key",       client.key_file};
  auto with = [](std::vector<std::string> args, std::vector<std::string> more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  // Probes: no certificate, no password.
  ASSERT_TRUE(WaitFor([&] { return CurlStatus(with(trust, {base + "/ready"})) == 200; }, 20s))
      << daemon.Stderr();
  EXPECT_EQ(CurlStatus(with(trust, {base + "/health"})), 200);
  // /metrics: a client certificate and the password.
  EXPECT_EQ(CurlStatus(with(trust, {"-u", "prom:first-pw", base + "/metrics"})), 403);
  EXPECT_EQ(CurlStatus(with(cert, {base + "/metrics"})), 401);
  EXPECT_EQ(CurlStatus(with(cert, {"-u", "prom:wrong", base + "/metrics"})), 401);
  EXPECT_EQ(CurlStatus(with(cert, {"-u", "prom:first-pw", base + "/metrics"})), 200);
  EXPECT_EQ(CurlStatus({"http://127.0.0.1:" + std::to_string(port) + "/health"}), 0);
  // The network module (and with it OpenSSL) is loaded for server TLS alone.
  EXPECT_THAT(Maps(daemon.pid()), HasSubstr("libssl"));

  // A reload with a new password: the old one stops working, the new one works.
  dir.Write("config.json", SecuredConfig(port, server, pki.ca_file(), BcryptHash("second-pw")));
  daemon.Signal(SIGHUP);
  EXPECT_TRUE(WaitFor(
      [&] {
        return CurlStatus(with(cert, {"-u", "prom:first-pw", base + "/metrics"})) == 401;
      },
      20s))
      << daemon.Stderr();
  EXPECT_EQ(CurlStatus(with(cert, {"-u", "prom:second-pw", base + "/metrics"})), 200);
  EXPECT_EQ(CurlStatus(with(trust, {base + "/health"})), 200);

  // A reload whose key does not match its certificate is refused, naming the key: the
  // server keeps its TLS and the second password.
  testing::CertFiles mismatched = server;
  mismatched.key_file = pki.Issue("other", {.common_name = "other"}).key_file;
  dir.Write("config.json", SecuredConfig(port, mismatched, pki.ca_file(), BcryptHash("third-pw")));
  daemon.Signal(SIGHUP);
  EXPECT_TRUE(WaitFor(
      [&] { return daemon.Stderr().find("server.tls.key_file") != std::string::npos; }, 20s))
      << daemon.Stderr();
  EXPECT_EQ(CurlStatus(with(cert, {"-u", "prom:second-pw", base + "/metrics"})), 200);
  EXPECT_EQ(CurlStatus(with(cert, {"-u", "prom:third-pw", base + "/metrics"})), 401);
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(20s), 0);
  // The hash is never logged.
  EXPECT_THAT(daemon.Stderr(), Not(HasSubstr("$2y$")));
}

TEST(SecuredEndpointE2e, PullOnlyWithoutServerTlsNeverLoadsOpenSsl) {
  TempDir dir;
  int port = testing::FreePort();
  std::string config =
      dir.Write("config.json", R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
                                   R"(,"basic_auth_users":{"prom":")" + BcryptHash("pw") +
                                   R"("}},"collector":{"interval_seconds":1}})");
  ChildProcess daemon(kBinary, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  ASSERT_TRUE(WaitFor(
      [&] {
        return CurlStatus({"-u", "prom:pw",
                           "http://127.0.0.1:" + std::to_string(port) + "/metrics"}) == 200;
      },
      20s))
      << daemon.Stderr();
  std::string maps = Maps(daemon.pid());
  EXPECT_THAT(maps, Not(HasSubstr("libssl")));
  EXPECT_THAT(maps, Not(HasSubstr("metricsd-net")));
}

TEST(SecuredEndpointE2e, CheckConfigRefusesAPlaintextPasswordAndRedactsHashes) {
  TempDir dir;
  std::string bad = dir.Write("bad.json", R"({"server":{"basic_auth_users":{"prom":"hunter2"}}})");
  ChildProcess refused(kBinary, {"-check-config", "-config", bad}, testing::MetricsdTestEnv());
  EXPECT_EQ(refused.Wait(20s), 1);
  EXPECT_THAT(refused.Stderr(), HasSubstr("server.basic_auth_users.prom"));
  EXPECT_THAT(refused.Stderr(), Not(HasSubstr("hunter2")));
  std::string hash = BcryptHash("pw");
  std::string good =
      dir.Write("good.json", R"({"server":{"basic_auth_users":{"prom":")" + hash + R"("}}})");
  ChildProcess valid(kBinary, {"-check-config", "-config", good}, testing::MetricsdTestEnv());
  EXPECT_EQ(valid.Wait(20s), 0) << valid.Stderr();
  EXPECT_THAT(valid.Stdout(), HasSubstr("basic_auth_users"));
  EXPECT_THAT(valid.Stdout(), Not(HasSubstr(hash)));
  // A key that does not match its certificate is a configuration error naming the key.
  testing::TestPki pki(dir.path(), "ca");
  testing::CertFiles a = pki.Issue("a", {.common_name = "a"});
  testing::CertFiles b = pki.Issue("b", {.common_name = "b"});
  std::string mismatched =
      dir.Write("tls.json", R"({"server":{"tls":{"cert_file":")" + a.cert_file +
                                R"(","key_file":")" + b.key_file + R"("}}})");
  ChildProcess check(kBinary, {"-check-config", "-config", mismatched}, testing::MetricsdTestEnv());
  EXPECT_EQ(check.Wait(20s), 1);
  EXPECT_THAT(check.Stderr(), HasSubstr("server.tls.key_file"));
}

}  // namespace
}  // namespace metricsd
