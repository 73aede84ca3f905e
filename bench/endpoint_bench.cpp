// The /metrics serve path, old and new, on the default host collectors' families (real
// /proc, /sys) and on a generated 50,000-series scraped body:
//   BM_FullRender*:  what every request did before: render everything (the scraped body is
//                    also re-parsed, as MaterializeStored did).
//   BM_Prepared*:    what a request does now: render the process metrics, hand out the
//                    parts' shared buffers (identity, or gzip joined from cached deflate data).
//   BM_Build*Part*:  the once-per-cycle cost moved to the collection and scrape threads.
//   BM_StatusPage*:  rendering "/" (HTML, JSON) for 8 collectors, 20 targets (5 failing) and
//                    2 shippers with a full hour of history, as the server thread does.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/exposition_cache.h"
#include "agent/status_page.h"
#include "config/config_loader.h"
#include "exposition_generator.h"
#include "formats/exposition_parser.h"
#include "formats/prometheus_text_writer.h"
#include "host_families.h"

namespace metricsd {
namespace {

// About what Agent::CycleSelfMetrics makes in pull mode (the self part, once per cycle)...
std::vector<MetricFamily> CycleSelfFamilies() {
  std::vector<MetricFamily> self;
  for (int i = 0; i < 8; ++i) {
    FamilyBuilder b("metricsd_self_" + std::to_string(i), "help", MetricType::kGauge, 1);
    for (int j = 0; j < 7; ++j) {
      b.Add(i * j + 0.125, {{"collector", "c" + std::to_string(j)}});
    }
    self.push_back(b.Build());
  }
  return self;
}

// ...and what Agent::RequestSelfMetrics reads per request in pull mode (no queues).
std::vector<MetricFamily> RequestFamilies() {
  std::vector<MetricFamily> now;
  for (const char* name :
       {"process_cpu_seconds_total", "process_open_fds", "process_resident_memory_bytes"}) {
    now.push_back(FamilyBuilder(name, "help", MetricType::kGauge, 1).Add(4567.25).Build());
  }
  return now;
}

std::vector<MetricFamily> SelfFamilies() {
  std::vector<MetricFamily> self = CycleSelfFamilies();
  for (MetricFamily& family : RequestFamilies()) {
    self.push_back(std::move(family));
  }
  return self;
}

const std::string& ScrapedBody() {
  static const std::string body = bench::GenerateExposition(50000, false);
  return body;
}

void BM_FullRenderHost(benchmark::State& state) {
  auto host = HostFamilies();
  auto self = SelfFamilies();
  std::string out;
  for (auto _ : state) {
    out.clear();
    const std::span<const MetricFamily> parts[] = {self, host};
    AppendPrometheusText(parts, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_FullRenderHost);

void BM_PreparedHost(benchmark::State& state) {
  auto host = HostFamilies();
  auto now = RequestFamilies();
  auto self = ExpositionPart::BuildSelf(CycleSelfFamilies(), nullptr);
  const std::span<const MetricFamily> lists[] = {host};
  auto part = ExpositionPart::Build(lists, nullptr, nullptr);
  RawDeflater deflater;
  RawDeflater* gzip = state.range(0) != 0 ? &deflater : nullptr;
  for (auto _ : state) {
    auto body = AssembleMetrics(now, {.self = self.get(), .system = part.get()}, gzip);
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_PreparedHost)->Arg(0)->Arg(1)->ArgName("gzip");

void BM_FullRender50kScraped(benchmark::State& state) {
  auto self = SelfFamilies();
  std::string out;
  for (auto _ : state) {
    std::vector<MetricFamily> stored;
    ParseStats stats;
    ParsePrometheusText(ScrapedBody(), 1, stored, stats);
    out.clear();
    const std::span<const MetricFamily> parts[] = {self, stored};
    AppendPrometheusText(parts, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_FullRender50kScraped)->Unit(benchmark::kMillisecond);

void BM_Prepared50kScraped(benchmark::State& state) {
  std::vector<MetricFamily> stored;
  ParseStats stats;
  ParsePrometheusText(ScrapedBody(), 1, stored, stats);
  const std::span<const MetricFamily> lists[] = {stored};
  auto part = ExpositionPart::Build(lists, nullptr, nullptr);
  auto now = RequestFamilies();
  auto self = ExpositionPart::BuildSelf(CycleSelfFamilies(), nullptr);
  RawDeflater deflater;
  RawDeflater* gzip = state.range(0) != 0 ? &deflater : nullptr;
  for (auto _ : state) {
    auto body = AssembleMetrics(now, {.self = self.get(), .scrape = part.get()}, gzip);
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_Prepared50kScraped)->Arg(0)->Arg(1)->ArgName("gzip");

void BM_BuildPart50kScraped(benchmark::State& state) {
  std::vector<MetricFamily> stored;
  ParseStats stats;
  ParsePrometheusText(ScrapedBody(), 1, stored, stats);
  const std::span<const MetricFamily> lists[] = {stored};
  RawDeflater deflater;
  for (auto _ : state) {
    auto part = ExpositionPart::Build(lists, nullptr, nullptr);
    if (state.range(0) != 0) {
      benchmark::DoNotOptimize(part->deflated(deflater));
    }
    benchmark::DoNotOptimize(part);
  }
}
BENCHMARK(BM_BuildPart50kScraped)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("with_gzip")
    ->Unit(benchmark::kMillisecond);

// The self part renewed after each cycle (while /metrics is pulled), and its deflate data.
void BM_BuildSelfPart(benchmark::State& state) {
  auto cycle = CycleSelfFamilies();
  auto previous = ExpositionPart::BuildSelf(cycle, nullptr);
  RawDeflater deflater;
  for (auto _ : state) {
    auto part = ExpositionPart::BuildSelf(cycle, previous.get());
    if (state.range(0) != 0) {
      benchmark::DoNotOptimize(part->deflated(deflater));
    }
    benchmark::DoNotOptimize(part);
  }
}
BENCHMARK(BM_BuildSelfPart)->Arg(0)->Arg(1)->ArgName("with_gzip");

StatusView TypicalStatus() {
  StatusView view{.version = "0.1.0",
                  .now_ms = 1'700'000'000'000,
                  .uptime_seconds = 86400,
                  .ready = true,
                  .effective_config = config::RenderEffectiveConfig({})};
  for (const char* name :
       {"host", "cpu", "memory", "filesystem", "diskio", "network", "pressure", "scrape"}) {
    view.collectors.push_back(CollectorHealth{.name = name,
                                              .state = "ok",
                                              .last_duration_seconds = 0.0002,
                                              .last_success_ms = view.now_ms - 1000});
  }
  for (int i = 0; i < 120; ++i) {
    view.collection_seconds_history.push_back(0.0003 + 0.00001 * (i % 7));
  }
  for (int i = 0; i < 20; ++i) {
    bool up = i % 4 != 0;
    view.targets.push_back(ScrapeTargetStatus{
        .name = "app-" + std::to_string(i),
        .url = "http://10.0.0." + std::to_string(i) + ":9100/metrics",
        .up = up,
        .last_scrape_ms = view.now_ms - 3000,
        .duration_seconds = 0.004,
        .samples = up ? 250.0 : 0.0,
        .last_error = up ? "" : "request failed: Connection refused <after 0 ms>"});
  }
  for (const char* name : {"prometheus", "victoria"}) {
    ShipperStatus shipper{.name = name};
    shipper.health.pending_samples = 1234;
    shipper.health.last_error = "HTTP 503: upstream <unavailable>";
    shipper.depth_history.assign(120, 1000.0);
    view.shippers.push_back(std::move(shipper));
  }
  return view;
}

void BM_StatusPageHtml(benchmark::State& state) {
  const StatusView view = TypicalStatus();
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string page = RenderStatusHtml(view);
    bytes = page.size();
    benchmark::DoNotOptimize(page);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_StatusPageHtml);

void BM_StatusPageJson(benchmark::State& state) {
  const StatusView view = TypicalStatus();
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string page = RenderStatusJson(view);
    bytes = page.size();
    benchmark::DoNotOptimize(page);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_StatusPageJson);

}  // namespace
}  // namespace metricsd

BENCHMARK_MAIN();
