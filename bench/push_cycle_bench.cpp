// The push-mode cycle's work after collection, on the default host collectors' families
// (real /proc and /sys), per cycle and per sample:
//   BM_ShippedBatchEncode:  the shipped labels added and the batch encoded once for every queue.
//   BM_StalenessCycle:      the series of the cycle checked against the last one for
//                           staleness markers (a steady host: nothing vanishes).
//   BM_PushPath/0 and /1:   a remote write shipper's whole path in user space, from the
//                           cycle's families to the request body: /0 through a batch record
//                           that the sender decodes and encodes (the path before finished
//                           requests), /1 through a finished request posted as it is. The
//                           queue is memory-only here: no disk, no network.
#include <benchmark/benchmark.h>

#include <vector>

#include "agent/agent.h"
#include "agent/shipped_batch.h"
#include "agent/staleness.h"
#include "core/clock.h"
#include "formats/remote_write_encoder.h"
#include "host_families.h"
#include "queue/request_assembler.h"
#include "queue/spool.h"

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

void BM_PushPath(benchmark::State& state) {
  const bool ready = state.range(0) == 1;
  const auto families = HostFamilies();
  std::vector<ShipperFeed> feeds(1);
  if (ready) {
    feeds[0].ready_requests = 2000;
  }
  ShippedBatch batch("node-1", {{"cluster", "eu1"}}, std::move(feeds));
  SystemClock clock;
  queue::Spool spool(queue::SpoolOptions{.name = "bench"}, clock);
  queue::RequestAssembler requests;
  formats::RemoteWriteEncoder encoder;
  formats::EncodeStats stats;
  std::string body;
  const queue::RequestAssembler::Limits limits{2000, 32U << 20, ready};
  const queue::RequestAssembler::CorruptFn corrupt = [](std::uint64_t, const std::string&,
                                                        std::uint64_t) { std::abort(); };
  std::size_t bytes = 0;
  for (auto _ : state) {
    batch.AddFamilies(families);
    batch.Take([&](std::span<const queue::EncodedBatch> records, std::span<const std::size_t>,
                   const formats::EncodeStats&) {
      for (const queue::EncodedBatch& record : records) {
        spool.Append(record.payload, record.samples, record.min_timestamp_ms);
      }
    });
    while (auto request = requests.Current(spool, limits, corrupt)) {
      if (request->body.empty()) {
        encoder.Encode(request->samples, body, stats);
        bytes += body.size();
      } else {
        bytes += request->body.size();
      }
      requests.Finished();
    }
  }
  benchmark::DoNotOptimize(bytes);
  state.counters["samples"] = static_cast<double>(CountSamples(families));
  state.counters["ns_per_sample"] = benchmark::Counter(
      static_cast<double>(CountSamples(families)) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_PushPath)->Arg(0)->Arg(1);

}  // namespace
}  // namespace metricsd

BENCHMARK_MAIN();
