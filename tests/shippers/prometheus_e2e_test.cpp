// Remote write into a real Prometheus (--web.enable-remote-write-receiver), plain HTTP and
// mutual TLS, checked through its query API: exact values, label sets and timestamps.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "peers.h"
#include "shippers/http_shipper.h"
#include "shippers/shipper_factory.h"
#include "support/test_pki.h"

namespace metricsd {
namespace {

using metricsd::testing::CertFiles;
using metricsd::testing::CertSpec;
using metricsd::testing::TempDir;
using metricsd::testing::TestPki;
using Kind = SendResult::Kind;

struct Landed {
  Labels labels;
  std::vector<std::pair<std::int64_t, double>> samples;  // (timestamp ms, value)
};

// Raw samples of every series matching `selector` in the last hour.
std::vector<Landed> QueryRaw(http::HttpClient& client, const std::string& base,
                             const std::string& selector) {
  std::string url = base +
                    "/api/v1/query?query=" + metricsd::testing::UrlEncode(selector + "[1h]") +
                    "&time=" + std::to_string(metricsd::testing::NowMillis() / 1000 + 1);
  nlohmann::json j = metricsd::testing::GetJson(client, url);
  std::vector<Landed> out;
  if (j.is_null() || j["status"] != "success") {
    return out;
  }
  for (const auto& series : j["data"]["result"]) {
    Landed l;
    l.labels = metricsd::testing::LabelsFromJson(series["metric"]);
    for (const auto& v : series["values"]) {
      auto ts = static_cast<std::int64_t>(std::llround(v[0].get<double>() * 1000));
      l.samples.emplace_back(ts, std::stod(v[1].get<std::string>()));
    }
    out.push_back(std::move(l));
  }
  std::sort(out.begin(), out.end(),
            [](const Landed& a, const Landed& b) { return a.labels < b.labels; });
  return out;
}

// Sends a batch whose every detail is checked after it lands: two samples of one series,
// label sorting ("Zone" < "__name__"), a sanitised label name and a dropped empty label.
void SendAndCheck(Shipper& shipper, http::HttpClient& query, const std::string& base,
                  const std::string& metric) {
  const std::int64_t t0 = metricsd::testing::NowMillis() - 60'000 + 123;
  MetricFamily f{metric, "", MetricType::kGauge, {}};
  f.samples.push_back({metric, {{"Zone", "eu"}, {"host", "a"}}, 42.5, t0});
  f.samples.push_back({metric, {{"Zone", "eu"}, {"host", "a"}}, 43.25, t0 + 15'001});
  f.samples.push_back({metric, {{"bad-name", "x"}, {"empty", ""}, {"host", "b"}}, -0.001, t0});
  SendResult r = shipper.Send({f});
  ASSERT_EQ(r.kind, Kind::kOk) << r.reason;

  std::vector<Landed> landed;
  ASSERT_TRUE(metricsd::testing::WaitUntil(
      [&] {
        landed = QueryRaw(query, base, metric);
        return landed.size() == 2;
      },
      std::chrono::seconds(20)));
  EXPECT_EQ(landed[0].labels, (Labels{{"Zone", "eu"}, {"__name__", metric}, {"host", "a"}}));
  EXPECT_EQ(landed[0].samples,
            (std::vector<std::pair<std::int64_t, double>>{{t0, 42.5}, {t0 + 15'001, 43.25}}));
  EXPECT_EQ(landed[1].labels, (Labels{{"__name__", metric}, {"bad_name", "x"}, {"host", "b"}}));
  EXPECT_EQ(landed[1].samples, (std::vector<std::pair<std::int64_t, double>>{{t0, -0.001}}));
}

std::string PrometheusConfig(const std::string& dir) {
  std::string path = dir + "/prometheus.yml";
  std::ofstream(path) << "global:\n  scrape_interval: 1h\n";
  return path;
}

class PrometheusPlain : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    query_ = metricsd::testing::MakeQueryClient({}).release();
    int port = metricsd::testing::FreePort();
    std::string base = "http://127.0.0.1:" + std::to_string(port);
    peer_ = new std::optional<metricsd::testing::Peer>(metricsd::testing::StartPeer(
        {"prometheus", "--config.file=" + PrometheusConfig(dir_->path()),
         "--web.listen-address=127.0.0.1:" + std::to_string(port),
         "--storage.tsdb.path=" + dir_->path() + "/tsdb", "--web.enable-remote-write-receiver",
         "--log.level=warn"},
        dir_->path() + "/prometheus.log", base, "/-/ready", *query_, why_));
  }
  static void TearDownTestSuite() {
    delete peer_;  // stops the process by PID
    delete query_;
    delete dir_;
  }
  void SetUp() override {
    if (!peer_->has_value()) {
      GTEST_SKIP() << "Prometheus unavailable: " << why_;
    }
  }

  static TempDir* dir_;
  static http::HttpClient* query_;
  static std::optional<metricsd::testing::Peer>* peer_;
  static std::string why_;
};
TempDir* PrometheusPlain::dir_ = nullptr;
http::HttpClient* PrometheusPlain::query_ = nullptr;
std::optional<metricsd::testing::Peer>* PrometheusPlain::peer_ = nullptr;
std::string PrometheusPlain::why_;

TEST_F(PrometheusPlain, RemoteWriteLandsWithExactValuesLabelsAndTimestamps) {
  config::ShipperOptions options;
  options.name = "prom";
  options.endpoint = (*peer_)->base_url + "/api/v1/write";
  options.timeout = std::chrono::seconds(10);
  auto shipper = MakeShipper(options);
  SendAndCheck(*shipper, *query_, (*peer_)->base_url, "metricsd_e2e_plain");
}

TEST_F(PrometheusPlain, SplitBatchesLandCompletely) {
  const std::int64_t t0 = metricsd::testing::NowMillis() - 30'000;
  MetricFamily f{"metricsd_e2e_split", "", MetricType::kCounter, {}};
  for (int i = 0; i < 25; ++i) {
    f.samples.push_back({"metricsd_e2e_split", {{"i", std::to_string(i)}}, double(i), t0 + i});
  }
  config::ShipperOptions options;
  options.endpoint = (*peer_)->base_url + "/api/v1/write";
  options.max_samples_per_request = 7;
  SendResult r = MakeShipper(options)->Send({f});
  ASSERT_EQ(r.kind, Kind::kOk) << r.reason;
  std::vector<Landed> landed;
  ASSERT_TRUE(metricsd::testing::WaitUntil(
      [&] {
        landed = QueryRaw(*query_, (*peer_)->base_url, "metricsd_e2e_split");
        return landed.size() == 25;
      },
      std::chrono::seconds(20)));
  for (const Landed& l : landed) {
    ASSERT_EQ(l.samples.size(), 1u);
    int i = std::stoi(l.labels[1].value);  // labels: __name__, i
    EXPECT_EQ(l.samples[0], (std::pair<std::int64_t, double>{t0 + i, double(i)}));
  }
}

TEST_F(PrometheusPlain, OutOfOrderSampleIsDroppedNotRetried) {
  const std::int64_t t0 = metricsd::testing::NowMillis() - 20'000;
  config::ShipperOptions options;
  options.endpoint = (*peer_)->base_url + "/api/v1/write";
  auto shipper = MakeShipper(options);
  MetricFamily f{"metricsd_e2e_ooo", "", MetricType::kGauge, {}};
  f.samples.push_back({"metricsd_e2e_ooo", {}, 1, t0});
  ASSERT_EQ(shipper->Send({f}).kind, Kind::kOk);
  f.samples[0].timestamp_ms = t0 - 10'000;
  f.samples[0].value = 2;
  SendResult r = shipper->Send({f});
  EXPECT_EQ(r.kind, Kind::kDrop);
  EXPECT_EQ(r.http_status, 400);
  EXPECT_NE(r.reason.find("out of order"), std::string::npos) << r.reason;
}

// Prometheus serving TLS with RequireAndVerifyClientCert. The web config is re-read by
// Prometheus for every new connection, so tests rewrite it to pin versions and ciphers.
class PrometheusMutualTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    pki_ = new TestPki(dir_->path(), "ca");
    other_pki_ = new TestPki(dir_->path(), "other-ca");
    server_ = new CertFiles(pki_->Issue("server", CertSpec{.common_name = "localhost",
                                                           .dns_names = {"localhost"},
                                                           .ip_addresses = {"127.0.0.1"}}));
    client_ = new CertFiles(
        pki_->Issue("client", CertSpec{.common_name = "metricsd-client", .client = true}));
    WriteWebConfig("  min_version: TLS12\n");
    query_ = metricsd::testing::MakeQueryClient(ClientTls()).release();
    int port = metricsd::testing::FreePort();
    std::string base = "https://127.0.0.1:" + std::to_string(port);
    peer_ = new std::optional<metricsd::testing::Peer>(metricsd::testing::StartPeer(
        {"prometheus", "--config.file=" + PrometheusConfig(dir_->path()),
         "--web.config.file=" + dir_->path() + "/web.yml",
         "--web.listen-address=127.0.0.1:" + std::to_string(port),
         "--storage.tsdb.path=" + dir_->path() + "/tsdb", "--web.enable-remote-write-receiver",
         "--log.level=warn"},
        dir_->path() + "/prometheus.log", base, "/-/ready", *query_, why_));
  }
  static void TearDownTestSuite() {
    delete peer_;
    delete query_;
    delete client_;
    delete server_;
    delete other_pki_;
    delete pki_;
    delete dir_;
  }
  void SetUp() override {
    if (!peer_->has_value()) {
      GTEST_SKIP() << "Prometheus unavailable: " << why_;
    }
    WriteWebConfig("  min_version: TLS12\n");
  }
  void TearDown() override {
    if (dir_ != nullptr) {
      WriteWebConfig("  min_version: TLS12\n");
    }
  }

  static void WriteWebConfig(const std::string& extra) {
    std::string tmp = dir_->path() + "/web.yml.tmp";
    std::ofstream(tmp) << "tls_server_config:\n"
                       << "  cert_file: " << server_->cert_file << "\n"
                       << "  key_file: " << server_->key_file << "\n"
                       << "  client_auth_type: RequireAndVerifyClientCert\n"
                       << "  client_ca_file: " << pki_->ca_file() << "\n"
                       << extra;
    std::rename(tmp.c_str(), (dir_->path() + "/web.yml").c_str());
  }

  static config::TlsOptions ClientTls() {
    config::TlsOptions tls;
    tls.enabled = true;
    tls.ca_file = pki_->ca_file();
    tls.cert_file = client_->cert_file;
    tls.key_file = client_->key_file;
    return tls;
  }

  std::unique_ptr<Shipper> TlsShipper(const config::TlsOptions& tls) {
    config::ShipperOptions options;
    options.name = "prom-tls";
    options.endpoint = (*peer_)->base_url + "/api/v1/write";
    options.timeout = std::chrono::seconds(10);
    options.tls = tls;
    return MakeShipper(options);
  }

  static Batch OneSample(const std::string& name) {
    MetricFamily f{name, "", MetricType::kGauge, {}};
    f.samples.push_back({name, {}, 1, metricsd::testing::NowMillis() - 1000});
    return {f};
  }

  static TempDir* dir_;
  static TestPki* pki_;
  static TestPki* other_pki_;
  static CertFiles* server_;
  static CertFiles* client_;
  static http::HttpClient* query_;
  static std::optional<metricsd::testing::Peer>* peer_;
  static std::string why_;
};
TempDir* PrometheusMutualTls::dir_ = nullptr;
TestPki* PrometheusMutualTls::pki_ = nullptr;
TestPki* PrometheusMutualTls::other_pki_ = nullptr;
CertFiles* PrometheusMutualTls::server_ = nullptr;
CertFiles* PrometheusMutualTls::client_ = nullptr;
http::HttpClient* PrometheusMutualTls::query_ = nullptr;
std::optional<metricsd::testing::Peer>* PrometheusMutualTls::peer_ = nullptr;
std::string PrometheusMutualTls::why_;

TEST_F(PrometheusMutualTls, RemoteWriteLandsWithExactValuesLabelsAndTimestamps) {
  auto shipper = TlsShipper(ClientTls());
  SendAndCheck(*shipper, *query_, (*peer_)->base_url, "metricsd_e2e_mtls");
  auto& client = dynamic_cast<HttpShipper&>(*shipper).client();
  ASSERT_TRUE(client.last_tls_handshake().has_value());
  EXPECT_EQ(client.last_tls_handshake()->version, "TLSv1.3");
}

TEST_F(PrometheusMutualTls, MissingClientCertificateIsRetryWithAClearReason) {
  config::TlsOptions tls = ClientTls();
  tls.cert_file.clear();
  tls.key_file.clear();
  SendResult r = TlsShipper(tls)->Send(OneSample("metricsd_e2e_nocert"));
  EXPECT_EQ(r.kind, Kind::kRetry);
  EXPECT_EQ(r.http_status, 0);
  EXPECT_NE(r.reason.find("the server asked for a client certificate and tls.cert_file is not set"),
            std::string::npos)
      << r.reason;
}

TEST_F(PrometheusMutualTls, UnknownCaIsRetryWithAClearReason) {
  config::TlsOptions tls = ClientTls();
  tls.ca_file = other_pki_->ca_file();
  SendResult r = TlsShipper(tls)->Send(OneSample("metricsd_e2e_unknown_ca"));
  EXPECT_EQ(r.kind, Kind::kRetry);
  EXPECT_NE(r.reason.find("unable to get local issuer certificate"), std::string::npos) << r.reason;
}

TEST_F(PrometheusMutualTls, ServerNameIsCheckedAgainstTheCertificate) {
  config::TlsOptions tls = ClientTls();
  tls.server_name = "wrong.example";
  SendResult r = TlsShipper(tls)->Send(OneSample("metricsd_e2e_sni"));
  EXPECT_EQ(r.kind, Kind::kRetry);
  EXPECT_NE(r.reason.find("hostname mismatch"), std::string::npos) << r.reason;
  tls.server_name = "localhost";  // the certificate's DNS name, while the URL says 127.0.0.1
  SendResult ok = TlsShipper(tls)->Send(OneSample("metricsd_e2e_sni"));
  EXPECT_EQ(ok.kind, Kind::kOk) << ok.reason;
}

TEST_F(PrometheusMutualTls, CipherPinningReachesTheWire) {
  WriteWebConfig(
      "  max_version: TLS12\n"
      "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]\n");
  config::TlsOptions tls = ClientTls();
  tls.max_version = config::TlsVersion::kTls12;
  tls.cipher_suites = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"};
  SendResult refused = TlsShipper(tls)->Send(OneSample("metricsd_e2e_cipher"));
  EXPECT_EQ(refused.kind, Kind::kRetry);
  EXPECT_NE(refused.reason.find("handshake failure"), std::string::npos) << refused.reason;

  tls.cipher_suites = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                       "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"};
  auto shipper = TlsShipper(tls);
  SendResult ok = shipper->Send(OneSample("metricsd_e2e_cipher"));
  ASSERT_EQ(ok.kind, Kind::kOk) << ok.reason;
  const auto& handshake = dynamic_cast<HttpShipper&>(*shipper).client().last_tls_handshake();
  ASSERT_TRUE(handshake.has_value());
  EXPECT_EQ(handshake->version, "TLSv1.2");
  EXPECT_EQ(handshake->cipher, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
}

TEST_F(PrometheusMutualTls, Tls13OnlyServerRefusesMaxVersionTls12) {
  WriteWebConfig("  min_version: TLS13\n");
  config::TlsOptions tls = ClientTls();
  tls.max_version = config::TlsVersion::kTls12;
  SendResult r = TlsShipper(tls)->Send(OneSample("metricsd_e2e_v13"));
  EXPECT_EQ(r.kind, Kind::kRetry);
  EXPECT_NE(r.reason.find("protocol version"), std::string::npos) << r.reason;
  tls.max_version = config::TlsVersion::kTls13;
  SendResult ok = TlsShipper(tls)->Send(OneSample("metricsd_e2e_v13"));
  EXPECT_EQ(ok.kind, Kind::kOk) << ok.reason;
}

}  // namespace
}  // namespace metricsd
