// One full collection cycle of every system collector on the real /proc, /sys and /, next
// to the floor: the same system calls a steady-state cycle makes (pread of the same files
// into reused buffers, poll of mountinfo, fstat of /proc for the process count, statfs of
// the same mountpoints) with no parsing and no samples. The target is cycle <= 2 x floor.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <memory>
#include <string>
#include <vector>

#include "collectors/cpu_collector.h"
#include "collectors/diskio_collector.h"
#include "collectors/filesystem_collector.h"
#include "collectors/host_collector.h"
#include "collectors/memory_collector.h"
#include "collectors/network_collector.h"
#include "collectors/pressure_collector.h"
#include "core/unique_fd.h"
#include "procfs/proc_file.h"

namespace metricsd {
namespace {

// Wired as the agent should wire them: cpu and host share one /proc/stat read per tick.
std::vector<std::unique_ptr<Collector>> AllSystemCollectors(const HostPaths& host) {
  auto stat = std::make_shared<ProcStatSource>(host);
  std::vector<std::unique_ptr<Collector>> all;
  all.push_back(std::make_unique<CpuCollector>(host, stat));
  all.push_back(std::make_unique<MemoryCollector>(host));
  all.push_back(std::make_unique<HostCollector>(host, stat));
  all.push_back(std::make_unique<PressureCollector>(host));
  all.push_back(std::make_unique<DiskIoCollector>(host, config::DiskIoOptions{}));
  all.push_back(std::make_unique<NetworkCollector>(host, config::NetworkOptions{}));
  all.push_back(std::make_unique<FilesystemCollector>(host, config::FilesystemOptions{}));
  return all;
}

CollectContext Now() { return CollectContext{std::chrono::steady_clock::now(), 1}; }

// As the agent runs them: each collector writes its tick over the families of an earlier one.
void BM_SystemCycle(benchmark::State& state) {
  auto collectors = AllSystemCollectors(HostPaths{});
  std::vector<CollectResult> results(collectors.size());
  std::size_t samples = 0;
  for (auto _ : state) {
    samples = 0;
    const CollectContext tick = Now();
    for (std::size_t i = 0; i < collectors.size(); ++i) {
      CollectResult& result = results[i];
      result.status = CollectStatus::kOk;
      result.message.clear();
      collectors[i]->CollectInto(tick, result);
      for (const MetricFamily& family : result.families) {
        samples += family.samples.size();
      }
      benchmark::DoNotOptimize(result);
    }
  }
  state.counters["samples"] = static_cast<double>(samples);
}
BENCHMARK(BM_SystemCycle)->MeasureProcessCPUTime()->UseRealTime();

// The same with a fresh result every tick (every sample allocated), for comparison.
void BM_SystemCycleFresh(benchmark::State& state) {
  auto collectors = AllSystemCollectors(HostPaths{});
  for (auto _ : state) {
    const CollectContext tick = Now();
    for (auto& collector : collectors) {
      CollectResult result = collector->Collect(tick);
      benchmark::DoNotOptimize(result);
    }
  }
}
BENCHMARK(BM_SystemCycleFresh)->MeasureProcessCPUTime()->UseRealTime();

void BM_SystemFloor(benchmark::State& state) {
  const HostPaths host;
  // The mountpoints the filesystem collector reports, found the same way.
  std::vector<std::string> mountpoints;
  {
    FilesystemCollector fs(host, config::FilesystemOptions{});
    for (const MetricFamily& family : fs.Collect(Now()).families) {
      if (family.name != "system_disk_total_bytes") {
        continue;
      }
      for (const Sample& s : family.samples) {
        for (const Label& l : s.labels) {
          if (l.name == "mountpoint") {
            mountpoints.push_back(host.Root(l.value));
          }
        }
      }
    }
  }
  std::vector<procfs::ProcFile> files;
  using Mode = procfs::ProcFile::ReadMode;
  const std::pair<const char*, Mode> kFiles[] = {
      {"stat", Mode::kSingleShot},         {"meminfo", Mode::kSingleShot},
      {"uptime", Mode::kSingleShot},       {"loadavg", Mode::kSingleShot},
      {"pressure/cpu", Mode::kSingleShot}, {"pressure/memory", Mode::kSingleShot},
      {"pressure/io", Mode::kSingleShot},  {"pressure/irq", Mode::kSingleShot},
      {"diskstats", Mode::kUntilEof},      {"net/dev", Mode::kUntilEof},
  };
  for (const auto& [path, mode] : kFiles) {
    procfs::ProcFile file(host.Proc(path), 4096, mode);
    if (file.Read().ok()) {
      files.push_back(std::move(file));
    }
  }
  procfs::ProcFile mountinfo(host.Proc("1/mountinfo"));
  (void)mountinfo.Read();
  UniqueFd proc_dir(::open(host.proc.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  for (auto _ : state) {
    for (procfs::ProcFile& file : files) {
      auto text = file.Read();
      benchmark::DoNotOptimize(text);
    }
    pollfd p{.fd = mountinfo.fd(), .events = POLLPRI, .revents = 0};
    benchmark::DoNotOptimize(::poll(&p, 1, 0));
    struct stat st;
    benchmark::DoNotOptimize(::fstat(proc_dir.get(), &st));
    for (const std::string& mp : mountpoints) {
      struct statfs buf;
      benchmark::DoNotOptimize(::statfs(mp.c_str(), &buf));
    }
  }
  state.counters["files"] = static_cast<double>(files.size());
  state.counters["mounts"] = static_cast<double>(mountpoints.size());
}
BENCHMARK(BM_SystemFloor)->MeasureProcessCPUTime()->UseRealTime();

// Per collector, to see where a cycle's time goes.
void BM_Collector(benchmark::State& state) {
  auto collectors = AllSystemCollectors(HostPaths{});
  Collector& collector = *collectors[static_cast<std::size_t>(state.range(0))];
  state.SetLabel(std::string(collector.name()));
  CollectResult result;
  for (auto _ : state) {
    result.status = CollectStatus::kOk;
    result.message.clear();
    collector.CollectInto(Now(), result);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_Collector)->DenseRange(0, 6)->MeasureProcessCPUTime()->UseRealTime();

}  // namespace
}  // namespace metricsd

BENCHMARK_MAIN();
