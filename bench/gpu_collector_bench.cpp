// Cost of one GPU collection tick on the fake libnvidia-ml: every metric supported, two
// processes per GPU. What it measures is metricsd's own work per device per tick (dispatch,
// labels, families); the real driver's time inside each NVML call comes on top.
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <string>

#include "collectors/gpu_collector.h"
#include "fake_nvml_control.h"

namespace metricsd {
namespace {

std::string Script(int gpus) {
  std::string script = "count=" + std::to_string(gpus) + "\n";
  for (int i = 0; i < gpus; ++i) {
    const std::string p = "gpu" + std::to_string(i) + ".";
    script += p + "name=NVIDIA H100 80GB HBM3\n" + p + "uuid=GPU-0000000" + std::to_string(i) +
              "-1111-2222-3333-444444444444\n" + p + "util_gpu=87\n" + p + "util_mem=41\n" + p +
              "mem_total=85520809984\n" + p + "mem_free=20000000000\n" + p +
              "mem_used=65000000000\n" + p + "mem_reserved=520809984\n" + p + "temp=64\n" + p +
              "power_mw=412345\n" + p + "power_limit_mw=700000\n" + p + "energy_mj=123456789\n" +
              p + "fan=55\n" + p + "clock_sm=1980\n" + p + "clock_mem=2619\n" + p +
              "ecc_corrected=7\n" + p + "ecc_uncorrected=1\n" + p + "pcie_tx=4096\n" + p +
              "pcie_rx=8192\n" + p + "throttle=0x44\n" + p + "procs=1234:1048576,5678:2097152\n";
  }
  return script;
}

void BM_GpuCollect(benchmark::State& state) {
  spdlog::set_level(spdlog::level::warn);
  const int gpus = static_cast<int>(state.range(0));
  testing::FakeNvml fake;
  fake.Set(Script(gpus));
  GpuCollector collector(config::GpuOptions{.nvml_library = fake.path()});
  CollectContext ctx{std::chrono::steady_clock::now(), 1'700'000'000'000};
  if (collector.Collect(ctx).status != CollectStatus::kOk) {
    state.SkipWithError("the fake NVML did not load");
    return;
  }
  std::size_t samples = 0;
  for (auto _ : state) {
    CollectResult result = collector.Collect(ctx);
    samples = 0;
    for (const auto& family : result.families) {
      samples += family.samples.size();
    }
    benchmark::DoNotOptimize(result);
  }
  state.counters["samples_per_tick"] = static_cast<double>(samples);
  // Seconds per device per tick.
  state.counters["per_device"] = benchmark::Counter(
      gpus, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_GpuCollect)->Arg(1)->Arg(8);

}  // namespace
}  // namespace metricsd
