// End-to-end, with a real Prometheus as the oracle for relabeling: one target and one rule set
// that uses every action, run two ways.
//   - Prometheus "oracle" scrapes the target itself, with the rules as metric_relabel_configs;
//   - metricsd scrapes the same target with the same rules (endpoints[].metric_relabel_configs)
//     and remote-writes to a second Prometheus, "receiver".
// Both must hold exactly the same series. The target labels differ by design (Prometheus adds
// job and instance, metricsd endpoint), so the rules leave those alone and the comparison
// removes them; metricsd runs without a prefix and without its instance label.
// Then write_relabel_configs: two shippers, two real receivers, two different subsets.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "support/local_http_server.h"
#include "support/process.h"
#include "support/prometheus.h"

namespace metricsd {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::Prometheus;
using testing::TempDir;
using testing::WaitFor;

constexpr char kBody[] =
    "# TYPE http_requests_total counter\n"
    "http_requests_total{code=\"200\",method=\"GET\",path=\"/a\",zone=\"eu\"} 1\n"
    "http_requests_total{code=\"503\",method=\"Post\",path=\"/b\",zone=\"us\"} 2\n"
    "http_requests_total{code=\"404\",method=\"get\",path=\"/c\",zone=\"ap\"} 3\n"
    "debug_thing{path=\"/a\"} 5\n"
    "other_metric 1\n"
    "queue_depth{a=\"x\",b=\"x\",tmp_owner=\"team1\",queue=\"q1\"} 3\n"
    "queue_depth{a=\"x\",b=\"y\",queue=\"q2\"} 4\n"
    "temp{c=\"1\",d=\"1\",sensor=\"s1\"} 20\n"
    "temp{c=\"1\",d=\"2\",extra=\"gone\",sensor=\"s2\"} 21\n"
    "temp{c=\"temp\",sensor=\"s3\"} 22\n"
    "svc_up{path=\"/z\",tmp_team=\"core\"} 1\n"
    "svc_up{path=\"/y\"} 0\n";

// Every action once (and replace twice); none reads or writes job, instance or endpoint.
// Each entry: the Prometheus YAML and the metricsd JSON of one rule.
struct RuleText {
  const char* yaml;
  const char* json;
};
constexpr RuleText kRules[] = {
    {"{source_labels: [__name__], regex: 'debug_.*', action: drop}",
     R"j({"source_labels":["__name__"],"regex":"debug_.*","action":"drop"})j"},
    {"{source_labels: [__name__], regex: '(http_.*|queue_.*|temp|svc_.*)', action: keep}",
     R"j({"source_labels":["__name__"],"regex":"(http_.*|queue_.*|temp|svc_.*)","action":"keep"})j"},
    {"{source_labels: [code], regex: '(\\d)..', target_label: class, replacement: '${1}xx'}",
     R"j({"source_labels":["code"],"regex":"(\\d)..","target_label":"class","replacement":"${1}xx"})j"},
    {"{source_labels: [method, path], separator: '@', target_label: route}",
     R"j({"source_labels":["method","path"],"separator":"@","target_label":"route"})j"},
    {"{source_labels: [method], target_label: method_lower, action: lowercase}",
     R"j({"source_labels":["method"],"target_label":"method_lower","action":"lowercase"})j"},
    {"{source_labels: [zone], target_label: zone_upper, action: uppercase}",
     R"j({"source_labels":["zone"],"target_label":"zone_upper","action":"uppercase"})j"},
    {"{source_labels: [path], modulus: 4, target_label: shard, action: hashmod}",
     R"j({"source_labels":["path"],"modulus":4,"target_label":"shard","action":"hashmod"})j"},
    {"{regex: 'tmp_(.+)', replacement: 'fixed_$1', action: labelmap}",
     R"j({"regex":"tmp_(.+)","replacement":"fixed_$1","action":"labelmap"})j"},
    {"{regex: 'tmp_.*', action: labeldrop}", R"j({"regex":"tmp_.*","action":"labeldrop"})j"},
    {"{source_labels: [a], target_label: b, action: keepequal}",
     R"j({"source_labels":["a"],"target_label":"b","action":"keepequal"})j"},
    // Against __name__: a series without either label would count as equal ("" == "").
    {"{source_labels: [c], target_label: __name__, action: dropequal}",
     R"j({"source_labels":["c"],"target_label":"__name__","action":"dropequal"})j"},
    {"{regex: '(__name__|job|instance|endpoint|code|class|route|method|method_lower|zone|"
     "zone_upper|shard|fixed_.*|path|queue|sensor|a|b|c|d)', action: labelkeep}",
     R"j({"regex":"(__name__|job|instance|endpoint|code|class|route|method|method_lower|zone|zone_upper|shard|fixed_.*|path|queue|sensor|a|b|c|d)","action":"labelkeep"})j"},
};

// Every series of the target's families a Prometheus holds now, as "name{k=v,...}" without
// the labels that name where it came from.
std::set<std::string> TargetSeries(const Prometheus& prometheus) {
  std::set<std::string> out;
  nlohmann::json data =
      prometheus.Query(R"({__name__=~"http_.*|debug_.*|other_.*|queue_.*|temp|svc_.*"})");
  if (data.is_null()) {
    return out;
  }
  for (const nlohmann::json& series : data["result"]) {
    std::string text = series["metric"]["__name__"].get<std::string>() + "{";
    for (const auto& [name, value] : series["metric"].items()) {
      if (name != "__name__" && name != "job" && name != "instance" && name != "endpoint") {
        text += name + "=" + value.get<std::string>() + ",";
      }
    }
    out.insert(text + "}");
  }
  return out;
}

TEST(RelabelOracleE2e, MetricsdShipsExactlyWhatPrometheusStoresWithTheSameRules) {
  if (!Prometheus::Available()) GTEST_SKIP() << "prometheus is not installed";
  testing::LocalHttpServer target;
  target.http().Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kBody, "text/plain; version=0.0.4");
  });
  target.Start();

  TempDir dir;
  std::string yaml_rules;
  std::string json_rules;
  for (const RuleText& rule : kRules) {
    yaml_rules += "      - " + std::string(rule.yaml) + "\n";
    json_rules += (json_rules.empty() ? "" : ",") + std::string(rule.json);
  }
  Prometheus oracle(dir, "oracle", testing::FreePort());
  oracle.SetExtraConfig(
      "scrape_configs:\n  - job_name: target\n    scrape_interval: 1s\n"
      "    static_configs:\n      - targets: ['127.0.0.1:" +
      std::to_string(target.port()) + "']\n    metric_relabel_configs:\n" + yaml_rules);
  ASSERT_TRUE(oracle.Start()) << testing::ReadFile(oracle.log_path());
  Prometheus receiver(dir, "receiver", testing::FreePort());
  ASSERT_TRUE(receiver.Start()) << testing::ReadFile(receiver.log_path());

  const int port = testing::FreePort();
  std::string config = dir.Write(
      "config.json", R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
                         R"(},"instance":"","collector":{"interval_seconds":1,"enable_cpu":false,
          "enable_memory":false,"enable_disk":false,"enable_network":false,"enable_host":false,
          "enable_pressure":false},
          "endpoints":[{"name":"target","url":")" +
                         target.url("/metrics") +
                         R"(","metric_prefix":"","metric_relabel_configs":[)" + json_rules + R"(]}],
          "shipper":{"type":"prometheus_remote_write","endpoint":")" +
                         receiver.url() + R"("}})");
  ChildProcess daemon(METRICSD_BINARY, {"-config", config},
                      testing::MetricsdTestEnv(dir.path() + "/data"), dir.path());

  // How many series the rules leave, worked out by hand (3 http, 1 queue_depth, 2 temp,
  // 2 svc_up); the oracle decides which, this guards against both sides being equally empty.
  std::set<std::string> from_oracle;
  ASSERT_TRUE(WaitFor(
      [&] {
        from_oracle = TargetSeries(oracle);
        return from_oracle.size() == 8;
      },
      30s))
      << testing::ReadFile(oracle.log_path());
  std::set<std::string> from_metricsd;
  EXPECT_TRUE(WaitFor(
      [&] {
        from_metricsd = TargetSeries(receiver);
        return from_metricsd == from_oracle;
      },
      30s))
      << daemon.Stderr();
  EXPECT_EQ(from_metricsd, from_oracle);
  // A few of the rules' effects, spelled out.
  bool seen_class = false;
  bool seen_fixed = false;
  for (const std::string& series : from_oracle) {
    seen_class = seen_class || series.find("class=5xx,") != std::string::npos;
    seen_fixed = seen_fixed || series.find("fixed_owner=team1,") != std::string::npos;
    EXPECT_EQ(series.find("debug_"), std::string::npos) << series;
    EXPECT_EQ(series.find("extra="), std::string::npos) << series;
    EXPECT_EQ(series.find("tmp_"), std::string::npos) << series;
  }
  EXPECT_TRUE(seen_class);
  EXPECT_TRUE(seen_fixed);
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(20s), 0);
}

// Number of series an instant query returns now; -1 when the query failed.
int SeriesNow(const Prometheus& prometheus, const std::string& promql) {
  nlohmann::json data = prometheus.Query(promql);
  return data.is_null() ? -1 : static_cast<int>(data["result"].size());
}

TEST(RelabelOracleE2e, TwoShippersReceiveWhatTheirOwnWriteRulesLeave) {
  if (!Prometheus::Available()) GTEST_SKIP() << "prometheus is not installed";
  TempDir dir;
  Prometheus all(dir, "all", testing::FreePort());
  ASSERT_TRUE(all.Start()) << testing::ReadFile(all.log_path());
  Prometheus subset(dir, "subset", testing::FreePort());
  ASSERT_TRUE(subset.Start()) << testing::ReadFile(subset.log_path());
  const int port = testing::FreePort();
  std::string config =
      dir.Write("config.json",
                R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
                    R"(},"instance":"node-1","collector":{"interval_seconds":1,"enable_disk":false,
          "enable_network":false,"enable_pressure":false},
          "shippers":[{"name":"all","type":"prometheus_remote_write","endpoint":")" +
                    all.url() + R"("},
          {"name":"subset","type":"prometheus_remote_write","endpoint":")" +
                    subset.url() + R"j(","write_relabel_configs":[
             {"source_labels":["__name__"],"regex":"system_cpu_.*","action":"drop"},
             {"source_labels":["instance"],"regex":"node-(.*)","target_label":"node",
              "replacement":"n$1"}]}]})j");
  ChildProcess daemon(METRICSD_BINARY, {"-config", config},
                      testing::MetricsdTestEnv(dir.path() + "/data"), dir.path());
  ASSERT_TRUE(WaitFor([&] { return SeriesNow(all, "system_load_1") == 1; }, 30s))
      << daemon.Stderr();
  ASSERT_TRUE(WaitFor([&] { return SeriesNow(subset, R"(system_load_1{node="n1"})") == 1; }, 30s))
      << daemon.Stderr();
  // The first receiver has everything, unchanged; the second no CPU series, and the label the
  // rule added (seeing the instance label) on the rest.
  EXPECT_EQ(SeriesNow(all, "system_cpu_count"), 1);
  EXPECT_EQ(SeriesNow(all, R"({node!=""})"), 0);
  EXPECT_EQ(SeriesNow(subset, R"({__name__=~"system_cpu_.*"})"), 0);
  EXPECT_EQ(SeriesNow(subset, R"({__name__=~"system_.*",node!="n1"})"), 0);
  EXPECT_GT(SeriesNow(subset, R"({__name__=~"system_memory_.*",node="n1"})"), 0);
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(20s), 0);
}

}  // namespace
}  // namespace metricsd
