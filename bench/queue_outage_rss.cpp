// RSS during a long receiver outage: enqueues --batches batches of --samples samples (a
// collection cycle each, default 1 h of 1 s cycles of 5000 samples) as fast as possible while
// the receiver answers 503, printing RSS, disk bytes and queued samples as it goes. Then the
// queue is closed mid-outage and opened again (recovery timed, as after a restart), the
// receiver comes back, and the backlog is drained, timed.
//
//   bench_queue_outage [--batches N] [--samples N] [--max-disk-mb N] [--fsync 0|1] [--dir D]
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "queue/batch_codec.h"
#include "queue/shipper_queue.h"
#include "queue_bench_util.h"

namespace {

using metricsd::Batch;
using metricsd::SendResult;

class SwitchableShipper final : public metricsd::Shipper {
 public:
  std::string_view name() const override { return "outage"; }
  metricsd::SendResult SendRange(const metricsd::SampleRange& range) noexcept override {
    if (!up_.load()) {
      return SendResult{SendResult::Kind::kRetry, 503, std::nullopt, "receiver down"};
    }
    delivered_ += range.size();
    return SendResult::Ok();
  }
  std::atomic<bool> up_{false};
  std::atomic<std::size_t> delivered_{0};
};

long RssKib() {
  long pages_total = 0;
  long pages_resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) {
      pages_resident = 0;
    }
    std::fclose(f);
  }
  return pages_resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

}  // namespace

int main(int argc, char** argv) {
  long batches = 3600;
  int samples = 5000;
  long max_disk_mb = 1024;
  bool fsync = false;
  std::string base = std::filesystem::temp_directory_path().string();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--batches") {
      batches = std::atol(value);
    } else if (flag == "--samples") {
      samples = std::atoi(value);
    } else if (flag == "--max-disk-mb") {
      max_disk_mb = std::atol(value);
    } else if (flag == "--fsync") {
      fsync = std::atoi(value) != 0;
    } else if (flag == "--dir") {
      base = value;
    }
  }
  spdlog::set_level(spdlog::level::err);
  std::string dir = base + "/bench_outage.XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }

  metricsd::SystemClock clock;
  auto shipper = std::make_unique<SwitchableShipper>();
  metricsd::queue::ShipperQueueOptions options;
  options.name = "outage";
  options.dir = dir;
  options.queue.max_disk_bytes = static_cast<std::uint64_t>(max_disk_mb) << 20;
  options.queue.fsync = fsync;
  options.queue.min_backoff = std::chrono::milliseconds(100);
  options.queue.max_backoff = std::chrono::milliseconds(100);
  options.max_samples_per_request = 10'000;
  std::printf("outage: %ld batches x %d samples, disk cap %ld MiB, fsync %d, dir %s\n", batches,
              samples, max_disk_mb, fsync ? 1 : 0, dir.c_str());
  std::printf("%10s %12s %14s %14s %10s\n", "batches", "rss_kib", "disk_bytes", "queued",
              "dropped");
  {
    metricsd::queue::ShipperQueue queue(options, std::move(shipper), clock);
    queue.Start();
    const long rss_start = RssKib();
    long rss_max = rss_start;
    const auto t0 = std::chrono::steady_clock::now();
    for (long b = 1; b <= batches; ++b) {
      // A fresh batch each cycle, like the collectors produce; timestamps 1 s apart.
      const Batch batch = metricsd::bench::HostLikeBatch(samples, 1'700'000'000'000 + b * 1000);
      queue.Enqueue(batch);
      rss_max = std::max(rss_max, RssKib());
      if (b % (batches / 12 > 0 ? batches / 12 : 1) == 0 || b == batches) {
        const auto stats = queue.QueueStats();
        std::printf("%10ld %12ld %14llu %14llu %10llu\n", b, RssKib(),
                    static_cast<unsigned long long>(stats.disk_bytes),
                    static_cast<unsigned long long>(stats.pending_samples),
                    static_cast<unsigned long long>(stats.dropped_disk_cap_samples));
      }
    }
    const double enqueue_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto queued = queue.QueueStats().pending_samples;
    std::printf("enqueue: %.2f s, %.0f samples/s; RSS start %ld KiB, max %ld KiB\n", enqueue_s,
                static_cast<double>(batches) * samples / enqueue_s, rss_start, rss_max);

    queue.Stop();
    std::printf(
        "restart: the queue is closed with %llu samples queued (like a kill -9 in the "
        "outage: everything is already on disk)\n",
        static_cast<unsigned long long>(queued));
  }
  {
    auto shipper2 = std::make_unique<SwitchableShipper>();
    SwitchableShipper& receiver2 = *shipper2;
    receiver2.up_ = true;
    const auto t1 = std::chrono::steady_clock::now();
    metricsd::queue::ShipperQueue queue(options, std::move(shipper2), clock);
    const auto recovered = queue.QueueStats().recovery;
    const double open_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    std::printf("recovery: %llu batches, %llu samples found in %.3f s (%.0f MB/s scanned)\n",
                static_cast<unsigned long long>(recovered.records),
                static_cast<unsigned long long>(recovered.samples), open_s,
                static_cast<double>(queue.QueueStats().disk_bytes) / 1e6 / open_s);
    long rss_max = RssKib();
    const auto t2 = std::chrono::steady_clock::now();
    queue.Start();
    while (queue.QueueStats().pending_samples > 0) {
      rss_max = std::max(rss_max, RssKib());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const double drain_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count();
    const auto delivered = receiver2.delivered_.load();
    std::printf(
        "catch-up: %zu samples delivered in %.2f s = %.0f samples/s (%.0fx real time at "
        "1 s cycles); RSS max %ld KiB, now %ld KiB\n",
        delivered, drain_s, static_cast<double>(delivered) / drain_s,
        static_cast<double>(delivered) / samples / drain_s, rss_max, RssKib());
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
