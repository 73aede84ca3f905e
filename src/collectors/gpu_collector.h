// GpuCollector: NVIDIA GPU metrics through NVML (system_gpu_*; see docs/metrics-gpu.md).
//
// NVML is loaded on the first Collect(), not at construction. No library, no driver or no
// GPU makes the collector not applicable: it says so once at info level and answers
// kNotApplicable from then on without touching the driver again. Device handles, names and
// UUIDs are looked up once per discovery; discovery runs again when the device count
// changes or NVML had to be reloaded.
//
// A value the device does not support is omitted, and that query is not asked again for
// the device. A device that falls off the bus (GPU_IS_LOST) is logged once and reported
// as system_gpu_up 0 until it answers again. When NVML as a whole stops answering
// (uninitialised, driver unloaded or upgraded underneath us) the library is released,
// Collect() answers kTransient, and a reload is tried with exponential backoff
// (10 s doubling to 5 min, measured on CollectContext::steady_now).
//
// Owns its NVML handle (through GpuApi). Called by one thread at a time. Collect() does
// not throw.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.h"
#include "config/options.h"
#include "core/result.h"
#include "nvml/gpu_api.h"

namespace metricsd {

class GpuCollector final : public Collector {
 public:
  // Opens (and initialises) the GPU API; called on the first tick and for each reload.
  using ApiFactory = std::function<Result<std::unique_ptr<nvml::GpuApi>>()>;

  // Uses NvmlLibrary with options.nvml_library (empty: the default library names).
  explicit GpuCollector(const config::GpuOptions& options);
  explicit GpuCollector(ApiFactory factory);
  ~GpuCollector() override;

  GpuCollector(const GpuCollector&) = delete;
  GpuCollector& operator=(const GpuCollector&) = delete;

  std::string_view name() const override { return "gpu"; }
  CollectResult Collect(const CollectContext& ctx) override;

  static constexpr std::chrono::seconds kFirstReloadDelay{10};
  static constexpr std::chrono::seconds kMaxReloadDelay{300};

 private:
  enum class Phase { kUnopened, kRunning, kWaitingForReload, kNotApplicable };

  struct Device {
    unsigned index = 0;
    nvml::Device handle = nullptr;
    Labels labels;  // gpu, name, uuid (sorted)
    bool lost = false;
    std::uint32_t unsupported = 0;               // bit per Query that answered NOT_SUPPORTED
    std::vector<nvml::ProcessMemory> processes;  // reused between ticks
  };

  // The outcome of one tick's walk over the devices.
  struct Tick {
    std::vector<FamilyBuilder> families;          // one per family, in emission order
    nvml::Return library_error = nvml::kSuccess;  // set when NVML as a whole failed
  };

  CollectResult NotApplicable(std::string why);
  // Reads every value of one device into tick.families; stops at GPU_IS_LOST (marking the
  // device lost) or at a library-wide failure (setting tick.library_error).
  void ReadDevice(Device& device, Tick& tick);
  bool Accept(Device& device, int query, nvml::Return rc, Tick& tick);
  bool Reload(const CollectContext& ctx);
  void Discover(unsigned count);
  void AcquireHandle(Device& device);
  // Releases NVML after a library-wide failure and schedules a reload.
  void GoDown(const CollectContext& ctx, std::string why);
  // next_reload_ = now + delay, then doubles the delay (capped) for the attempt after.
  void ScheduleReload(const CollectContext& ctx);

  ApiFactory factory_;
  std::unique_ptr<nvml::GpuApi> api_;
  Phase phase_ = Phase::kUnopened;
  std::string not_applicable_reason_;
  std::vector<Device> devices_;
  std::chrono::steady_clock::time_point next_reload_{};
  std::chrono::seconds reload_delay_ = kFirstReloadDelay;
};

}  // namespace metricsd
