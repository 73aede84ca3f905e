// The push-mode cycle's work after collection, on the default host collectors' families
// (real /proc and /sys), per cycle and per sample:
//   BM_ShippedBatchEncode:  the shipped labels added and the batch encoded once for every queue.
//   BM_StalenessCycle:      the series of the cycle checked against the last one for
//                           staleness markers (a steady host: nothing vanishes).
#include <benchmark/benchmark.h>

#include <vector>

#include "agent/agent.h"
#include "agent/shipped_batch.h"
#include "agent/staleness.h"
#include "host_families.h"

namespace metricsd {
namespace {

std::size_t CountSamples(const std::vector<MetricFamily>& families) {
  std::size_t n = 0;
  for (const MetricFamily& family : families) {
    n += family.samples.size();
  }
  return n;
}

void BM_ShippedBatchEncode(benchmark::State& state) {
  const auto families = HostFamilies();
  ShippedBatch batch("node-1", {{"cluster", "eu1"}});
  for (auto _ : state) {
    batch.AddFamilies(families);
    benchmark::DoNotOptimize(batch.Take());
  }
  state.counters["samples"] = static_cast<double>(CountSamples(families));
  state.counters["ns_per_sample"] = benchmark::Counter(
      static_cast<double>(CountSamples(families)) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ShippedBatchEncode);

void BM_StalenessCycle(benchmark::State& state) {
  const auto families = HostFamilies();
  ShippedBatch batch("node-1", {});
  StalenessTracker tracker;
  std::int64_t now = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(tracker.Cycle(families, ++now, batch));
  }
  state.counters["samples"] = static_cast<double>(CountSamples(families));
  state.counters["ns_per_sample"] = benchmark::Counter(
      static_cast<double>(CountSamples(families)) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_StalenessCycle);

}  // namespace
}  // namespace metricsd

BENCHMARK_MAIN();
