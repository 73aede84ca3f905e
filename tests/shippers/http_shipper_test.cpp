#include <gtest/gtest.h>
#include <httplib.h>
#include <snappy.h>

#include <mutex>
#include <thread>

#include "core/version.h"
#include "remote.pb.h"
#include "shippers/http_json_shipper.h"
#include "shippers/http_shipper.h"
#include "shippers/shipper_factory.h"
#include "support/curl_environment.h"
#include "support/process.h"

namespace metricsd {
namespace {

::testing::Environment* const kCurlEnv =
    ::testing::AddGlobalTestEnvironment(new metricsd::testing::CurlEnvironment);

using Kind = SendResult::Kind;

TEST(ClassifyHttpResult, MapsStatusesToVerdicts) {
  auto now = std::chrono::system_clock::now();
  auto response = [](long status, std::string body = "", std::string retry_after = "") {
    http::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.retry_after = std::move(retry_after);
    return Result<http::HttpResponse>(std::move(r));
  };
  EXPECT_EQ(ClassifyHttpResult(response(200), now).kind, Kind::kOk);
  EXPECT_EQ(ClassifyHttpResult(response(204), now).kind, Kind::kOk);

  SendResult r429 = ClassifyHttpResult(response(429, "slow down", "5"), now);
  EXPECT_EQ(r429.kind, Kind::kRetry);
  EXPECT_EQ(r429.http_status, 429);
  EXPECT_EQ(r429.retry_after, std::chrono::milliseconds(5000));

  SendResult r503 = ClassifyHttpResult(response(503), now);
  EXPECT_EQ(r503.kind, Kind::kRetry);
  EXPECT_EQ(r503.retry_after, std::nullopt);
  EXPECT_EQ(r503.reason, "HTTP 503");

  EXPECT_EQ(ClassifyHttpResult(response(413), now).kind, Kind::kTooLarge);

  SendResult r400 = ClassifyHttpResult(
      response(400, "out of order sample\n\x01\xff" + std::string(1000, 'z')), now);
  EXPECT_EQ(r400.kind, Kind::kDrop);
  EXPECT_EQ(r400.http_status, 400);
  EXPECT_TRUE(r400.reason.starts_with("HTTP 400: out of order sample ??zzz")) << r400.reason;
  EXPECT_LE(r400.reason.size(), 280u);
  EXPECT_TRUE(r400.reason.ends_with("..."));

  EXPECT_EQ(ClassifyHttpResult(response(401), now).kind, Kind::kDrop);
  EXPECT_EQ(ClassifyHttpResult(response(302), now).kind, Kind::kDrop);

  SendResult net = ClassifyHttpResult(Result<http::HttpResponse>(Error{"Couldn't connect"}), now);
  EXPECT_EQ(net.kind, Kind::kRetry);
  EXPECT_EQ(net.http_status, 0);
  EXPECT_EQ(net.reason, "request failed: Couldn't connect");
}

// An in-test receiver: records each request and answers with scripted statuses.
class Receiver {
 public:
  struct Request {
    std::string path;
    std::string body;
    httplib::Headers headers;
  };

  Receiver() {
    server_.Post("/.*", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      requests_.push_back({req.path, req.body, req.headers});
      std::size_t i = requests_.size() - 1;
      res.status = i < statuses_.size() ? statuses_[i] : 200;
      res.set_content(res.status == 200 ? "" : "rejected: bad sample", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    metricsd::testing::WaitUntil([this] { return server_.is_running(); }, std::chrono::seconds(10));
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  void set_statuses(std::vector<int> statuses) {
    std::lock_guard lock(mu_);
    statuses_ = std::move(statuses);
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Request> requests_;
  std::vector<int> statuses_;
};

std::string Header(const Receiver::Request& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "<absent>" : it->second;
}

Batch SampleBatch(int n) {
  MetricFamily f{"test_metric", "", MetricType::kGauge, {}};
  for (int i = 0; i < n; ++i) {
    f.samples.push_back({"test_metric", {{"i", std::to_string(i)}}, i * 1.5, 1700000000000 + i});
  }
  return {f};
}

config::ShipperOptions Options(config::ShipperType type, std::string endpoint) {
  config::ShipperOptions o;
  o.name = "test";
  o.type = type;
  o.endpoint = std::move(endpoint);
  o.timeout = std::chrono::seconds(10);
  return o;
}

TEST(RemoteWriteShipper, SendsTheSpecHeadersAndADecodableBody) {
  Receiver receiver;
  auto options =
      Options(config::ShipperType::kPrometheusRemoteWrite, receiver.url("/api/v1/write"));
  options.auth.headers = {{"X-Scope-OrgID", "tenant-a"}};
  auto shipper = MakeShipper(options);
  SendResult r = shipper->Send(SampleBatch(3));
  EXPECT_EQ(r.kind, Kind::kOk) << r.reason;
  EXPECT_EQ(r.http_status, 200);
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& req = requests[0];
  EXPECT_EQ(req.path, "/api/v1/write");
  EXPECT_EQ(Header(req, "Content-Encoding"), "snappy");
  EXPECT_EQ(Header(req, "Content-Type"), "application/x-protobuf");
  EXPECT_EQ(Header(req, "X-Prometheus-Remote-Write-Version"), "0.1.0");
  EXPECT_EQ(Header(req, "User-Agent"), std::string("metricsd/") + kVersion);
  EXPECT_EQ(Header(req, "X-Scope-OrgID"), "tenant-a");
  EXPECT_EQ(req.headers.count("Content-Type"), 1u);
  std::string raw;
  ASSERT_TRUE(snappy::Uncompress(req.body.data(), req.body.size(), &raw));
  prometheus::WriteRequest wr;
  ASSERT_TRUE(wr.ParseFromString(raw));
  ASSERT_EQ(wr.timeseries_size(), 3);
  EXPECT_EQ(wr.timeseries(2).samples(0).value(), 3.0);
  EXPECT_EQ(wr.timeseries(2).samples(0).timestamp(), 1700000000002);
}

TEST(RemoteWriteShipper, ReservedHeadersCannotBeOverridden) {
  auto options = Options(config::ShipperType::kPrometheusRemoteWrite, "http://127.0.0.1:1/w");
  options.auth.headers = {{"x-prometheus-remote-write-version", "2.0.0"}};
  try {
    MakeShipper(options);
    FAIL() << "expected a config error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("shipper.headers.x-prometheus-remote-write-version"),
              std::string::npos)
        << e.what();
  }
  options.auth.headers = {{"User-Agent", "other"}};
  EXPECT_THROW(MakeShipper(options), std::invalid_argument);
  options.auth.headers = {{"Content-Encoding", "gzip"}};
  EXPECT_THROW(MakeShipper(options), std::invalid_argument);
}

TEST(RemoteWriteShipper, SplitsLargeBatchesAndKeepsGoingPastADrop) {
  Receiver receiver;
  receiver.set_statuses({200, 400, 200});
  auto options = Options(config::ShipperType::kPrometheusRemoteWrite, receiver.url("/w"));
  options.max_samples_per_request = 2;
  auto shipper = MakeShipper(options);
  SendResult r = shipper->Send(SampleBatch(5));
  EXPECT_EQ(r.kind, Kind::kDrop);
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.reason, "HTTP 400: rejected: bad sample (request 2 of 3); 1 of 3 requests rejected");
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u);
  std::vector<int> sizes;
  for (const auto& req : requests) {
    std::string raw;
    ASSERT_TRUE(snappy::Uncompress(req.body.data(), req.body.size(), &raw));
    prometheus::WriteRequest wr;
    ASSERT_TRUE(wr.ParseFromString(raw));
    sizes.push_back(wr.timeseries_size());
  }
  EXPECT_EQ(sizes, (std::vector<int>{2, 2, 1}));
}

TEST(RemoteWriteShipper, RetryStopsTheSplitSend) {
  Receiver receiver;
  receiver.set_statuses({200, 503, 200});
  auto options = Options(config::ShipperType::kPrometheusRemoteWrite, receiver.url("/w"));
  options.max_samples_per_request = 2;
  auto shipper = MakeShipper(options);
  SendResult r = shipper->Send(SampleBatch(5));
  EXPECT_EQ(r.kind, Kind::kRetry);
  EXPECT_EQ(r.http_status, 503);
  EXPECT_EQ(receiver.requests().size(), 2u);
}

TEST(RemoteWriteShipper, NetworkErrorIsRetry) {
  auto options =
      Options(config::ShipperType::kPrometheusRemoteWrite,
              "http://127.0.0.1:" + std::to_string(metricsd::testing::FreePort()) + "/w");
  SendResult r = MakeShipper(options)->Send(SampleBatch(1));
  EXPECT_EQ(r.kind, Kind::kRetry);
  EXPECT_EQ(r.http_status, 0);
  EXPECT_NE(r.reason.find("Couldn't connect"), std::string::npos) << r.reason;
}

TEST(RemoteWriteShipper, EmptyBatchSendsNothing) {
  Receiver receiver;
  auto shipper =
      MakeShipper(Options(config::ShipperType::kPrometheusRemoteWrite, receiver.url("/w")));
  EXPECT_EQ(shipper->Send({}).kind, Kind::kOk);
  EXPECT_TRUE(receiver.requests().empty());
}

Batch JsonBatch() {
  MetricFamily mem{"system_memory_total_bytes", "", MetricType::kGauge, {}};
  mem.samples.push_back({"system_memory_total_bytes", {}, 8589934592.0, 1700000000900});
  MetricFamily cpu{"system_cpu_usage_percent", "", MetricType::kGauge, {}};
  cpu.samples.push_back(
      {"system_cpu_usage_percent", {{"core", "0"}, {"host", "h\"1"}}, 45.2, 1700000001200});
  cpu.samples.push_back({"system_cpu_usage_percent",
                         {{"core", "1"}},
                         std::numeric_limits<double>::quiet_NaN(),
                         1700000001200});
  MetricFamily net{"system_network_bytes_sent_total", "", MetricType::kCounter, {}};
  net.samples.push_back(
      {"system_network_bytes_sent_total", {{"interface", "eth0"}}, 1e-7, 1700000000000});
  return {mem, cpu, net};
}

constexpr std::string_view kExpectedJson =
    R"({"timestamp":1700000001,"metrics":[)"
    R"({"name":"system_memory_total_bytes","value":8589934592,"type":"gauge","labels":{}},)"
    R"({"name":"system_cpu_usage_percent","value":45.2,"type":"gauge","labels":{"core":"0","host":"h\"1"}},)"
    R"({"name":"system_network_bytes_sent_total","value":1e-7,"type":"counter","labels":{"interface":"eth0"}}]})";

TEST(HttpJsonShipper, PostsTheOriginalPayloadByteForByte) {
  Receiver receiver;
  auto shipper = MakeShipper(Options(config::ShipperType::kHttpJson, receiver.url("/ingest")));
  SendResult r = shipper->Send(JsonBatch());
  EXPECT_EQ(r.kind, Kind::kOk) << r.reason;
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body, kExpectedJson);
  EXPECT_EQ(Header(requests[0], "Content-Type"), "application/json");
  EXPECT_EQ(Header(requests[0], "Content-Encoding"), "<absent>");
  EXPECT_EQ(shipper->TakeEncodeStats().samples_skipped_non_finite, 1u);
  EXPECT_EQ(shipper->TakeEncodeStats().samples_skipped_non_finite, 0u);  // taken once
}

TEST(HttpJsonShipper, GzipBodyDecodesToTheSamePayload) {
  Receiver receiver;  // cpp-httplib inflates gzip request bodies before the handler
  auto options = Options(config::ShipperType::kHttpJson, receiver.url("/ingest"));
  options.gzip = true;
  SendResult r = MakeShipper(options)->Send(JsonBatch());
  EXPECT_EQ(r.kind, Kind::kOk) << r.reason;
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(Header(requests[0], "Content-Encoding"), "gzip");
  EXPECT_EQ(requests[0].body, kExpectedJson);
}

TEST(GzipCompress, RoundTripsThroughZlib) {
  std::string in(100000, 'a');
  std::string out;
  ASSERT_TRUE(GzipCompress(in, out));
  EXPECT_LT(out.size(), 1000u);
  EXPECT_EQ(static_cast<unsigned char>(out[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(out[1]), 0x8b);
}

TEST(InfluxLineShipper, PostsLinesWithThePrecisionOfTheUrl) {
  Receiver receiver;
  auto shipper =
      MakeShipper(Options(config::ShipperType::kInfluxLine, receiver.url("/write?precision=ms")));
  SendResult r = shipper->Send(SampleBatch(2));
  EXPECT_EQ(r.kind, Kind::kOk) << r.reason;
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body,
            "test_metric,i=0 value=0 1700000000000\ntest_metric,i=1 value=1.5 1700000000001\n");
  EXPECT_EQ(Header(requests[0], "Content-Type"), "text/plain; charset=utf-8");
}

TEST(MakeShipper, ConfigErrorsNameTheirKey) {
  auto expect_error = [](config::ShipperOptions o, const std::string& needle) {
    try {
      MakeShipper(o, "shippers[0]");
      ADD_FAILURE() << "expected an error containing " << needle;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto base = Options(config::ShipperType::kPrometheusRemoteWrite, "https://127.0.0.1:1/w");
  auto o = base;
  o.endpoint.clear();
  expect_error(o, "shippers[0].endpoint: required");
  o = base;
  o.endpoint = "ftp://x/y";
  expect_error(o, "shippers[0].endpoint: \"ftp://x/y\" must start with http:// or https://");
  o = base;
  o.max_samples_per_request = 0;
  expect_error(o, "shippers[0].max_samples_per_request");
  o = base;
  o.tls.enabled = true;
  o.tls.cipher_suites = {"TLS_AES_128_GCM_SHA256", "RC4-MD5"};
  expect_error(o, "shippers[0].tls.cipher_suites[1]: unknown cipher suite \"RC4-MD5\"");
  o = base;
  o.tls.enabled = true;
  o.tls.cert_file = "/nonexistent.crt";
  expect_error(o, "shippers[0].tls.key_file: required when shippers[0].tls.cert_file is set");
}

}  // namespace
}  // namespace metricsd
