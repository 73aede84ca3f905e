// Parser throughput: MB/s (bytes_per_second) and samples/s (items_per_second) on a generated
// 50,000-series exposition and on a real node_exporter body. The parsed output is freed outside
// the timed region; building it (strings, label vectors) is inside.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "exposition_generator.h"
#include "formats/exposition_parser.h"
#include "formats/json_app.h"
#include "formats/target_labels.h"

namespace metricsd {
namespace {

constexpr std::size_t kSeries = 50000;

const std::string& TextBody() {
  static const std::string body = bench::GenerateExposition(kSeries, false);
  return body;
}

const std::string& OpenMetricsBody() {
  static const std::string body = bench::GenerateExposition(kSeries, true);
  return body;
}

const std::string& NodeExporterBody() {
  static const std::string body = [] {
    std::ifstream in(std::string(METRICSD_FIXTURES_DIR) + "/scrape/node_exporter.txt");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }();
  return body;
}

const std::string& JsonBody() {
  static const std::string body = [] {
    std::string b = "{";
    for (int service = 0; service < 500; ++service) {
      b += service == 0 ? "" : ",";
      b += "\"service_" + std::to_string(service) +
           "\": {\"up\": true, \"requests\": 123456, \"latency_ms\": 12.5, \"name\": \"svc\", "
           "\"pool\": {\"idle\": 3, \"busy\": 7}, \"shards\": [1, 2, 3, 4]}";
    }
    return b + "}";
  }();
  return body;
}

template <typename Parse>
void RunParser(benchmark::State& state, const std::string& body, Parse parse) {
  std::size_t samples = 0;
  for (auto _ : state) {
    std::vector<MetricFamily> out;
    ParseStats stats;
    parse(body, out, stats);
    samples = stats.samples;
    if (stats.invalid_lines != 0) {
      state.SkipWithError(stats.first_error.c_str());
      break;
    }
    benchmark::DoNotOptimize(out.data());
    state.PauseTiming();
    out = {};
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * samples));
  state.counters["samples"] = static_cast<double>(samples);
  state.counters["body_bytes"] = static_cast<double>(body.size());
}

void ParseText(const std::string& body, std::vector<MetricFamily>& out, ParseStats& stats) {
  ParsePrometheusText(body, 0, out, stats);
}

void ParseOm(const std::string& body, std::vector<MetricFamily>& out, ParseStats& stats) {
  (void)ParseOpenMetrics(body, 0, out, stats);
}

void BM_PrometheusText50k(benchmark::State& state) { RunParser(state, TextBody(), ParseText); }
BENCHMARK(BM_PrometheusText50k)->Unit(benchmark::kMillisecond);

void BM_OpenMetrics50k(benchmark::State& state) { RunParser(state, OpenMetricsBody(), ParseOm); }
BENCHMARK(BM_OpenMetrics50k)->Unit(benchmark::kMillisecond);

void BM_PrometheusTextNodeExporter(benchmark::State& state) {
  RunParser(state, NodeExporterBody(), ParseText);
}
BENCHMARK(BM_PrometheusTextNodeExporter)->Unit(benchmark::kMicrosecond);

void BM_JsonApp(benchmark::State& state) {
  RunParser(state, JsonBody(), [](const std::string& body, auto& out, auto& stats) {
    (void)ParseJsonApp(body, "app_", 0, out, stats);
  });
}
BENCHMARK(BM_JsonApp)->Unit(benchmark::kMicrosecond);

void BM_ApplyTargetLabels50k(benchmark::State& state) {
  std::vector<MetricFamily> parsed;
  ParseStats stats;
  ParsePrometheusText(TextBody(), 0, parsed, stats);
  Labels extra{Label{"zone", "eu-1"}};
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<MetricFamily> copy = parsed;
    state.ResumeTiming();
    ApplyTargetLabels(copy, "app_", "web", extra);
    benchmark::DoNotOptimize(copy.data());
    state.PauseTiming();
    copy = {};
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * stats.samples));
}
BENCHMARK(BM_ApplyTargetLabels50k)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace metricsd

BENCHMARK_MAIN();
