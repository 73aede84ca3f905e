// VictoriaMetrics with -httpAuth.*: basic auth on remote write (a wrong password is a Drop
// with 401), and the InfluxDB line protocol on /write, checked by exporting what landed.
#include <gtest/gtest.h>

#include <sstream>

#include "peers.h"
#include "shippers/shipper_factory.h"

namespace metricsd {
namespace {

using metricsd::testing::TempDir;
using Kind = SendResult::Kind;

class VictoriaMetrics : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    query_ = metricsd::testing::MakeQueryClient({}, Auth("s3cret")).release();
    int port = metricsd::testing::FreePort();
    std::string base = "http://127.0.0.1:" + std::to_string(port);
    peer_ = new std::optional<metricsd::testing::Peer>(metricsd::testing::StartPeer(
        {"victoria-metrics", "-httpListenAddr=127.0.0.1:" + std::to_string(port),
         "-storageDataPath=" + dir_->path() + "/vm", "-retentionPeriod=1d",
         "-httpAuth.username=agent", "-httpAuth.password=s3cret", "-search.latencyOffset=0s",
         "-search.disableCache", "-loggerLevel=WARN"},
        dir_->path() + "/vm.log", base, "/health", *query_, why_));
  }
  static void TearDownTestSuite() {
    delete peer_;
    delete query_;
    delete dir_;
  }
  void SetUp() override {
    if (!peer_->has_value()) {
      GTEST_SKIP() << "VictoriaMetrics unavailable: " << why_;
    }
  }

  static config::HttpAuth Auth(const std::string& password) {
    config::HttpAuth auth;
    auth.basic_auth.username = "agent";
    auth.basic_auth.password = password;
    return auth;
  }

  std::unique_ptr<Shipper> Make(config::ShipperType type, const std::string& path,
                                const std::string& password) {
    config::ShipperOptions options;
    options.name = "vm";
    options.type = type;
    options.endpoint = (*peer_)->base_url + path;
    options.timeout = std::chrono::seconds(10);
    options.auth = Auth(password);
    return MakeShipper(options);
  }

  // Exported raw series matching `selector`, as (labels, [(ts, value)]), after a flush.
  std::vector<std::pair<Labels, std::vector<std::pair<std::int64_t, double>>>> Export(
      const std::string& selector) {
    http::HttpRequest flush;
    flush.method = "GET";
    flush.url = (*peer_)->base_url + "/internal/force_flush";
    (void)query_->Perform(flush);
    http::HttpRequest request;
    request.method = "GET";
    request.url =
        (*peer_)->base_url + "/api/v1/export?match[]=" + metricsd::testing::UrlEncode(selector);
    std::vector<std::pair<Labels, std::vector<std::pair<std::int64_t, double>>>> out;
    auto response = query_->Perform(request);
    if (!response.ok() || response->status != 200) {
      return out;
    }
    std::istringstream lines(response->body);
    std::string line;
    while (std::getline(lines, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) {
        continue;
      }
      std::vector<std::pair<std::int64_t, double>> samples;
      for (std::size_t i = 0; i < j["values"].size(); ++i) {
        samples.emplace_back(j["timestamps"][i].get<std::int64_t>(), j["values"][i].get<double>());
      }
      out.emplace_back(metricsd::testing::LabelsFromJson(j["metric"]), std::move(samples));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static TempDir* dir_;
  static http::HttpClient* query_;
  static std::optional<metricsd::testing::Peer>* peer_;
  static std::string why_;
};
TempDir* VictoriaMetrics::dir_ = nullptr;
http::HttpClient* VictoriaMetrics::query_ = nullptr;
std::optional<metricsd::testing::Peer>* VictoriaMetrics::peer_ = nullptr;
std::string VictoriaMetrics::why_;

TEST_F(VictoriaMetrics, BasicAuthRemoteWriteLandsAndAWrongPasswordIsDropped) {
  const std::int64_t t0 = metricsd::testing::NowMillis() - 30'000;
  MetricFamily f{"metricsd_vm_rw", "", MetricType::kGauge, {}};
  f.samples.push_back({"metricsd_vm_rw", {{"host", "a"}}, 7.25, t0});

  SendResult denied =
      Make(config::ShipperType::kPrometheusRemoteWrite, "/api/v1/write", "wrong")->Send({f});
  EXPECT_EQ(denied.kind, Kind::kDrop);
  EXPECT_EQ(denied.http_status, 401);
  EXPECT_TRUE(denied.reason.starts_with("HTTP 401")) << denied.reason;
  EXPECT_EQ(denied.reason.find("wrong"), std::string::npos) << "the password leaked";

  SendResult ok =
      Make(config::ShipperType::kPrometheusRemoteWrite, "/api/v1/write", "s3cret")->Send({f});
  ASSERT_EQ(ok.kind, Kind::kOk) << ok.reason;
  decltype(Export("")) landed;
  ASSERT_TRUE(metricsd::testing::WaitUntil(
      [&] {
        landed = Export("metricsd_vm_rw");
        return !landed.empty();
      },
      std::chrono::seconds(30)));
  ASSERT_EQ(landed.size(), 1u);
  EXPECT_EQ(landed[0].first, (Labels{{"__name__", "metricsd_vm_rw"}, {"host", "a"}}));
  EXPECT_EQ(landed[0].second, (std::vector<std::pair<std::int64_t, double>>{{t0, 7.25}}));
}

TEST_F(VictoriaMetrics, InfluxLineProtocolLandsWithEscapedTags) {
  const std::int64_t t0 = metricsd::testing::NowMillis() - 20'000;
  MetricFamily f{"metricsd_vm_influx", "", MetricType::kGauge, {}};
  f.samples.push_back(
      {"metricsd_vm_influx", {{"path", "C:\\dir\\"}, {"where", "a b,c=d"}}, 0.5, t0});
  f.samples.push_back({"metricsd_vm_influx", {{"where", "plain"}}, 1e21, t0 + 1});
  SendResult ok = Make(config::ShipperType::kInfluxLine, "/write", "s3cret")->Send({f});
  ASSERT_EQ(ok.kind, Kind::kOk) << ok.reason;
  EXPECT_EQ(ok.http_status, 204);
  decltype(Export("")) landed;
  // VictoriaMetrics names an Influx field "<measurement>_<field>".
  ASSERT_TRUE(metricsd::testing::WaitUntil(
      [&] {
        landed = Export("metricsd_vm_influx_value");
        return landed.size() == 2;
      },
      std::chrono::seconds(30)));
  EXPECT_EQ(landed[0].first, (Labels{{"__name__", "metricsd_vm_influx_value"},
                                     {"path", "C:\\dir\\"},
                                     {"where", "a b,c=d"}}));
  EXPECT_EQ(landed[0].second, (std::vector<std::pair<std::int64_t, double>>{{t0, 0.5}}));
  EXPECT_EQ(landed[1].first,
            (Labels{{"__name__", "metricsd_vm_influx_value"}, {"where", "plain"}}));
  EXPECT_EQ(landed[1].second, (std::vector<std::pair<std::int64_t, double>>{{t0 + 1, 1e21}}));
}

}  // namespace
}  // namespace metricsd
