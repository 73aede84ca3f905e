// Throughput of the shipping queue: codec, CRC, WAL append (with and without fdatasync), the
// push-mode append/read/ack cycle of the Spool, and the whole path Enqueue → disk → sender →
// Shipper::Send with a receiver that accepts at once.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "queue/batch_codec.h"
#include "queue/crc32c.h"
#include "queue/shipper_queue.h"
#include "queue/spool.h"
#include "queue/wal.h"
#include "queue_bench_util.h"

namespace metricsd::queue {
namespace {

constexpr int kBatchSamples = 5000;

class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("BENCH_DIR");
    std::string pattern =
        (base != nullptr ? std::string(base) : std::filesystem::temp_directory_path().string()) +
        "/bench_queue.XXXXXX";
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : std::string();
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class CountingShipper final : public Shipper {
 public:
  std::string_view name() const override { return "bench"; }
  SendResult SendRange(const SampleRange& range) noexcept override {
    samples_.fetch_add(range.size(), std::memory_order_relaxed);
    return SendResult::Ok();
  }
  std::size_t samples() const { return samples_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::size_t> samples_{0};
};

void BM_Encode(benchmark::State& state) {
  const Batch batch = bench::HostLikeBatch(kBatchSamples, 1'700'000'000'000);
  std::string out;
  for (auto _ : state) {
    out.clear();
    EncodeBatch(batch, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kBatchSamples);
  state.counters["bytes_per_sample"] = static_cast<double>(out.size()) / kBatchSamples;
}
BENCHMARK(BM_Encode);

void BM_Decode(benchmark::State& state) {
  std::string encoded;
  EncodeBatch(bench::HostLikeBatch(kBatchSamples, 1'700'000'000'000), encoded);
  for (auto _ : state) {
    auto batch = DecodeBatch(encoded);
    benchmark::DoNotOptimize(batch.ok());
  }
  state.SetItemsProcessed(state.iterations() * kBatchSamples);
}
BENCHMARK(BM_Decode);

void BM_Crc32c(benchmark::State& state) {
  const std::string data(1 << 20, 'x');
  for (auto _ : state) {
    benchmark::DoNotOptimize(Crc32c(data));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(data.size()));
}
BENCHMARK(BM_Crc32c);

// One 5000-sample batch per append, as one collection cycle would write.
void BM_WalAppend(benchmark::State& state) {
  const bool fsync = state.range(0) != 0;
  ScratchDir dir;
  auto wal = Wal::Open(WalOptions{.dir = dir.path(), .max_bytes = 1ULL << 30, .fsync = fsync});
  if (!wal.ok()) {
    state.SkipWithError(wal.error().c_str());
    return;
  }
  std::string payload;
  EncodeBatch(bench::HostLikeBatch(kBatchSamples, 1'700'000'000'000), payload);
  std::uint64_t seq = 0;
  for (auto _ : state) {
    ++seq;
    Status status = (*wal)->Append(
        {seq, kBatchSamples, 0, static_cast<std::uint32_t>(payload.size())}, payload);
    if (!status) {
      state.SkipWithError(status.error().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatchSamples);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload.size()));
}
BENCHMARK(BM_WalAppend)->ArgName("fsync")->Arg(0)->Arg(1)->UseRealTime();

// The push-mode cycle on the Spool, as the agent runs it once per collection: the collection
// thread appends one small record (about one remote-write request), the sender reads it back
// and acknowledges it after delivery. No network, so what is left is the queue's own I/O.
void BM_SpoolAppendReadAck(benchmark::State& state) {
  const bool fsync = state.range(0) != 0;
  ScratchDir dir;
  SystemClock clock;
  Spool spool(SpoolOptions{.name = "bench", .dir = dir.path(), .fsync = fsync}, clock);
  const std::string payload(6000, 'p');
  std::vector<SpoolRecord> records;
  for (auto _ : state) {
    spool.Append(payload, 60, 0);
    records.clear();
    if (!spool.Read(10'000, 1 << 20, records)) {
      state.SkipWithError("nothing to read");
      break;
    }
    spool.Ack(records.back().seq);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpoolAppendReadAck)->ArgName("fsync")->Arg(0)->Arg(1)->UseRealTime();

// The whole path: Enqueue (encode + append) on this thread, the sender thread reading,
// decoding and "sending"; timed until every sample reached the shipper.
void BM_QueueEndToEnd(benchmark::State& state) {
  const bool fsync = state.range(0) != 0;
  const int batches = 200;
  const Batch batch = bench::HostLikeBatch(kBatchSamples, 1'700'000'000'000);
  SystemClock clock;
  for (auto _ : state) {
    state.PauseTiming();
    ScratchDir dir;
    auto shipper = std::make_unique<CountingShipper>();
    CountingShipper& counter = *shipper;
    ShipperQueueOptions options;
    options.name = "bench";
    options.dir = dir.path();
    options.queue.fsync = fsync;
    options.max_samples_per_request = 10'000;
    ShipperQueue queue(options, std::move(shipper), clock);
    queue.Start();
    state.ResumeTiming();
    for (int i = 0; i < batches; ++i) {
      queue.Enqueue(batch);
    }
    while (counter.samples() < static_cast<std::size_t>(batches) * kBatchSamples) {
      std::this_thread::yield();
    }
    state.PauseTiming();
    queue.Stop();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * batches * kBatchSamples);
}
BENCHMARK(BM_QueueEndToEnd)
    ->ArgName("fsync")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace metricsd::queue

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
