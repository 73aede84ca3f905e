#include "collectors/gpu_collector.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "nvml/nvml_library.h"

namespace metricsd {
namespace {

// One bit per per-tick query, remembered when a device answers NOT_SUPPORTED.
enum Query : std::uint32_t {
  kQueryUtilization,
  kQueryMemory,
  kQueryTemperature,
  kQueryPower,
  kQueryPowerLimit,
  kQueryEnergy,
  kQueryFan,
  kQueryClockSm,
  kQueryClockMemory,
  kQueryEccCorrected,
  kQueryEccUncorrected,
  kQueryPcie,
  kQueryClockReasons,
  kQueryComputeProcesses,
  kQueryGraphicsProcesses,
};

// Families in the order they are emitted.
enum Family : std::size_t {
  kCount,
  kUp,
  kUtilization,
  kMemoryUtilization,
  kMemoryTotal,
  kMemoryUsed,
  kMemoryFree,
  kMemoryReserved,
  kTemperature,
  kPowerUsage,
  kPowerLimit,
  kEnergy,
  kFanSpeed,
  kClockSm,
  kClockMemory,
  kEccErrors,
  kPcieTransmit,
  kPcieReceive,
  kThrottleActive,
  kProcessMemory,
  kFamilyCount,
};

struct FamilySpec {
  const char* name;
  const char* help;
  MetricType type;
};

constexpr std::array<FamilySpec, kFamilyCount> kFamilies = {{
    {"system_gpu_count", "Number of NVIDIA GPUs NVML reports.", MetricType::kGauge},
    {"system_gpu_up", "1 if the GPU answers NVML queries, 0 if it fell off the bus or is lost.",
     MetricType::kGauge},
    {"system_gpu_utilization_percent",
     "Percent of the last sample period during which a kernel ran on the GPU.", MetricType::kGauge},
    {"system_gpu_memory_utilization_percent",
     "Percent of the last sample period during which device memory was read or written.",
     MetricType::kGauge},
    {"system_gpu_memory_total_bytes", "Total device memory in bytes.", MetricType::kGauge},
    {"system_gpu_memory_used_bytes",
     "Device memory allocated, in bytes (excluding the driver reservation where NVML reports "
     "it separately).",
     MetricType::kGauge},
    {"system_gpu_memory_free_bytes", "Unallocated device memory in bytes.", MetricType::kGauge},
    {"system_gpu_memory_reserved_bytes",
     "Device memory reserved by the driver and firmware, in bytes.", MetricType::kGauge},
    {"system_gpu_temperature_celsius", "GPU die temperature in degrees Celsius.",
     MetricType::kGauge},
    {"system_gpu_power_usage_milliwatts", "Power draw of the GPU board in milliwatts.",
     MetricType::kGauge},
    {"system_gpu_power_limit_milliwatts",
     "Power limit the driver enforces, after every limiter, in milliwatts.", MetricType::kGauge},
    {"system_gpu_energy_joules_total", "Energy used by the GPU since the driver loaded, in joules.",
     MetricType::kCounter},
    {"system_gpu_fan_speed_percent", "Intended speed of the first fan, percent of its maximum.",
     MetricType::kGauge},
    {"system_gpu_clock_sm_mhz", "Current SM clock in MHz.", MetricType::kGauge},
    {"system_gpu_clock_memory_mhz", "Current memory clock in MHz.", MetricType::kGauge},
    {"system_gpu_ecc_errors_total",
     "Device memory ECC errors since the driver loaded (volatile counters), by type.",
     MetricType::kCounter},
    {"system_gpu_pcie_transmit_bytes_per_second",
     "PCIe bytes per second sent by the GPU, sampled by the driver over 20 ms.",
     MetricType::kGauge},
    {"system_gpu_pcie_receive_bytes_per_second",
     "PCIe bytes per second received by the GPU, sampled by the driver over 20 ms.",
     MetricType::kGauge},
    {"system_gpu_throttle_active",
     "1 while the reason is lowering the GPU clocks (NVML clocks event reasons), else 0.",
     MetricType::kGauge},
    {"system_gpu_process_memory_used_bytes",
     "Device memory used by one process, in bytes; type is compute or graphics.",
     MetricType::kGauge},
}};

struct ThrottleReason {
  std::uint64_t bit;
  const char* label;
};

constexpr std::array<ThrottleReason, 9> kThrottleReasons = {{
    {nvml::abi::kReasonGpuIdle, "gpu_idle"},
    {nvml::abi::kReasonApplicationsClocksSetting, "applications_clocks_setting"},
    {nvml::abi::kReasonSwPowerCap, "sw_power_cap"},
    {nvml::abi::kReasonHwSlowdown, "hw_slowdown"},
    {nvml::abi::kReasonSyncBoost, "sync_boost"},
    {nvml::abi::kReasonSwThermalSlowdown, "sw_thermal_slowdown"},
    {nvml::abi::kReasonHwThermalSlowdown, "hw_thermal_slowdown"},
    {nvml::abi::kReasonHwPowerBrakeSlowdown, "hw_power_brake_slowdown"},
    {nvml::abi::kReasonDisplayClockSetting, "display_clock_setting"},
}};

// Codes that mean NVML as a whole is gone, not one device or one query.
bool IsLibraryWide(nvml::Return rc) noexcept {
  return rc == nvml::abi::NVML_ERROR_UNINITIALIZED ||
         rc == nvml::abi::NVML_ERROR_DRIVER_NOT_LOADED ||
         rc == nvml::abi::NVML_ERROR_LIB_RM_VERSION_MISMATCH ||
         rc == nvml::abi::NVML_ERROR_LIBRARY_NOT_FOUND;
}

bool IsDeviceLost(nvml::Return rc) noexcept {
  return rc == nvml::abi::NVML_ERROR_GPU_IS_LOST || rc == nvml::abi::NVML_ERROR_RESET_REQUIRED;
}

Labels WithLabel(const Labels& base, std::string_view name, std::string_view value) {
  Labels labels = base;
  SetLabel(labels, name, value);
  return labels;
}

Labels DeviceLabels(unsigned index, std::string_view name, std::string_view uuid) {
  Labels labels{
      {"gpu", std::to_string(index)}, {"name", std::string(name)}, {"uuid", std::string(uuid)}};
  SortLabels(labels);
  return labels;
}

Result<std::unique_ptr<nvml::GpuApi>> OpenNvml(const std::string& path) {
  auto library = nvml::NvmlLibrary::Open(path);
  if (!library) {
    return Error{library.error()};
  }
  spdlog::debug("gpu: loaded {} ({} optional NVML queries available)",
                library.value()->loaded_name(), library.value()->optional_symbols_found());
  return std::unique_ptr<nvml::GpuApi>(std::move(library).value());
}

}  // namespace

GpuCollector::GpuCollector(const config::GpuOptions& options)
    : GpuCollector([path = options.nvml_library] { return OpenNvml(path); }) {}

GpuCollector::GpuCollector(ApiFactory factory) : factory_(std::move(factory)) {}

// Devices hold handles into api_; drop them before the library shuts down.
GpuCollector::~GpuCollector() { devices_.clear(); }

CollectResult GpuCollector::NotApplicable(std::string why) {
  phase_ = Phase::kNotApplicable;
  not_applicable_reason_ = std::move(why);
  devices_.clear();
  api_.reset();
  spdlog::info("gpu: GPU metrics not collected: {}", not_applicable_reason_);
  return CollectResult::NotApplicable(not_applicable_reason_);
}

void GpuCollector::GoDown(const CollectContext& ctx, std::string why) {
  spdlog::warn("gpu: NVML stopped answering ({}); releasing it and reloading in {} s", why,
               reload_delay_.count());
  devices_.clear();
  api_.reset();
  phase_ = Phase::kWaitingForReload;
  ScheduleReload(ctx);
}

void GpuCollector::ScheduleReload(const CollectContext& ctx) {
  next_reload_ = ctx.steady_now + reload_delay_;
  reload_delay_ = std::min<std::chrono::seconds>(reload_delay_ * 2, kMaxReloadDelay);
}

bool GpuCollector::Reload(const CollectContext& ctx) {
  auto api = factory_();
  if (!api) {
    ScheduleReload(ctx);
    spdlog::debug("gpu: NVML reload failed: {}", api.error());
    return false;
  }
  api_ = std::move(api).value();
  phase_ = Phase::kRunning;
  return true;
}

void GpuCollector::AcquireHandle(Device& device) {
  nvml::Device handle = nullptr;
  const nvml::Return rc = api_->DeviceHandle(device.index, handle);
  if (rc != nvml::kSuccess) {
    device.lost = true;
    device.labels = DeviceLabels(device.index, "", "");
    return;
  }
  // Static facts: asked once per handle, never per tick.
  std::string name;
  std::string uuid;
  (void)api_->Name(handle, name);
  (void)api_->Uuid(handle, uuid);
  device.handle = handle;
  device.lost = false;
  device.unsupported = 0;
  device.labels = DeviceLabels(device.index, name, uuid);
}

void GpuCollector::Discover(unsigned count) {
  devices_.clear();
  devices_.resize(count);
  for (unsigned i = 0; i < count; ++i) {
    devices_[i].index = i;
    AcquireHandle(devices_[i]);
    if (devices_[i].lost) {
      spdlog::warn("gpu {}: no handle for this GPU; reporting it as down", i);
    }
  }
}

bool GpuCollector::Accept(Device& device, int query, nvml::Return rc, Tick& tick) {
  if (rc == nvml::kSuccess) {
    return true;
  }
  if (rc == nvml::kNotSupported || rc == nvml::kFunctionNotFound) {
    device.unsupported |= 1U << query;
  } else if (IsDeviceLost(rc)) {
    device.lost = true;
  } else if (IsLibraryWide(rc)) {
    tick.library_error = rc;
  } else {
    // NO_PERMISSION, UNKNOWN ...: leave the value out this tick and ask again next time.
    spdlog::debug("gpu {}: query {} failed: {}", device.index, query, api_->ErrorString(rc));
  }
  return false;
}

void GpuCollector::ReadDevice(Device& device, Tick& tick) {
  auto wanted = [&device](Query query) { return (device.unsupported & (1U << query)) == 0; };
  auto stopped = [&device, &tick] { return device.lost || tick.library_error != nvml::kSuccess; };
  auto& f = tick.families;
  const Labels& labels = device.labels;
  nvml::GpuApi& api = *api_;
  const nvml::Device h = device.handle;

  if (wanted(kQueryUtilization)) {
    nvml::Utilization value;
    if (Accept(device, kQueryUtilization, api.UtilizationRates(h, value), tick)) {
      f[kUtilization].Add(value.gpu_percent, labels);
      f[kMemoryUtilization].Add(value.memory_percent, labels);
    }
    if (stopped()) {
      return;
    }
  }
  if (wanted(kQueryMemory)) {
    nvml::MemoryInfo value;
    if (Accept(device, kQueryMemory, api.Memory(h, value), tick)) {
      f[kMemoryTotal].Add(static_cast<double>(value.total_bytes), labels);
      f[kMemoryUsed].Add(static_cast<double>(value.used_bytes), labels);
      f[kMemoryFree].Add(static_cast<double>(value.free_bytes), labels);
      if (value.reserved_bytes) {
        f[kMemoryReserved].Add(static_cast<double>(*value.reserved_bytes), labels);
      }
    }
    if (stopped()) {
      return;
    }
  }
  auto read_unsigned = [&](Query query, Family family, auto&& call) {
    if (!wanted(query) || stopped()) {
      return;
    }
    unsigned value = 0;
    if (Accept(device, query, call(value), tick)) {
      f[family].Add(value, labels);
    }
  };
  if (wanted(kQueryTemperature) && !stopped()) {
    int value = 0;
    if (Accept(device, kQueryTemperature, api.TemperatureCelsius(h, value), tick)) {
      f[kTemperature].Add(value, labels);
    }
  }
  read_unsigned(kQueryPower, kPowerUsage,
                [&](unsigned& v) { return api.PowerUsageMilliwatts(h, v); });
  read_unsigned(kQueryPowerLimit, kPowerLimit,
                [&](unsigned& v) { return api.PowerLimitMilliwatts(h, v); });
  if (wanted(kQueryEnergy) && !stopped()) {
    std::uint64_t millijoules = 0;
    if (Accept(device, kQueryEnergy, api.EnergyMillijoules(h, millijoules), tick)) {
      f[kEnergy].Add(static_cast<double>(millijoules) / 1000.0, labels);
    }
  }
  read_unsigned(kQueryFan, kFanSpeed, [&](unsigned& v) { return api.FanSpeedPercent(h, v); });
  read_unsigned(kQueryClockSm, kClockSm,
                [&](unsigned& v) { return api.ClockMhz(h, nvml::ClockDomain::kSm, v); });
  read_unsigned(kQueryClockMemory, kClockMemory,
                [&](unsigned& v) { return api.ClockMhz(h, nvml::ClockDomain::kMemory, v); });
  const std::pair<Query, nvml::EccErrorType> ecc[] = {
      {kQueryEccCorrected, nvml::EccErrorType::kCorrected},
      {kQueryEccUncorrected, nvml::EccErrorType::kUncorrected}};
  for (const auto& [query, type] : ecc) {
    if (wanted(query) && !stopped()) {
      std::uint64_t count = 0;
      if (Accept(device, query, api.EccErrors(h, type, count), tick)) {
        f[kEccErrors].Add(
            static_cast<double>(count),
            WithLabel(labels, "type",
                      type == nvml::EccErrorType::kCorrected ? "corrected" : "uncorrected"));
      }
    }
  }
  if (wanted(kQueryPcie) && !stopped()) {
    nvml::PcieThroughput value;
    if (Accept(device, kQueryPcie, api.Pcie(h, value), tick)) {
      if (value.tx_bytes_per_second) {
        f[kPcieTransmit].Add(static_cast<double>(*value.tx_bytes_per_second), labels);
      }
      if (value.rx_bytes_per_second) {
        f[kPcieReceive].Add(static_cast<double>(*value.rx_bytes_per_second), labels);
      }
    }
  }
  if (wanted(kQueryClockReasons) && !stopped()) {
    std::uint64_t mask = 0;
    if (Accept(device, kQueryClockReasons, api.ClocksEventReasons(h, mask), tick)) {
      for (const auto& reason : kThrottleReasons) {
        f[kThrottleActive].Add((mask & reason.bit) != 0 ? 1 : 0,
                               WithLabel(labels, "reason", reason.label));
      }
    }
  }
  const std::pair<Query, nvml::ProcessKind> kinds[] = {
      {kQueryComputeProcesses, nvml::ProcessKind::kCompute},
      {kQueryGraphicsProcesses, nvml::ProcessKind::kGraphics}};
  for (const auto& [query, kind] : kinds) {
    if (wanted(query) && !stopped()) {
      if (Accept(device, query, api.RunningProcesses(h, kind, device.processes), tick)) {
        const char* type = kind == nvml::ProcessKind::kCompute ? "compute" : "graphics";
        for (const auto& process : device.processes) {
          Labels process_labels = WithLabel(labels, "pid", std::to_string(process.pid));
          SetLabel(process_labels, "type", type);
          f[kProcessMemory].Add(static_cast<double>(process.used_bytes), std::move(process_labels));
        }
      }
    }
  }
}

CollectResult GpuCollector::Collect(const CollectContext& ctx) {
  switch (phase_) {
    case Phase::kNotApplicable:
      return CollectResult::NotApplicable(not_applicable_reason_);
    case Phase::kUnopened: {
      auto api = factory_();
      if (!api) {
        return NotApplicable(api.error());
      }
      api_ = std::move(api).value();
      unsigned count = 0;
      const nvml::Return rc = api_->DeviceCount(count);
      if (rc != nvml::kSuccess) {
        return NotApplicable("nvmlDeviceGetCount failed: " + api_->ErrorString(rc));
      }
      if (count == 0) {
        return NotApplicable("NVML reports no GPU");
      }
      phase_ = Phase::kRunning;
      Discover(count);
      spdlog::info("gpu: collecting from {} NVIDIA GPU(s) through NVML", count);
      break;
    }
    case Phase::kWaitingForReload:
      if (ctx.steady_now < next_reload_) {
        return CollectResult::Transient("NVML unavailable; waiting to reload it");
      }
      if (!Reload(ctx)) {
        return CollectResult::Transient("NVML unavailable; reload failed");
      }
      devices_.clear();  // rediscovered below
      spdlog::info("gpu: NVML is answering again");
      break;
    case Phase::kRunning:
      break;
  }

  unsigned count = 0;
  const nvml::Return count_rc = api_->DeviceCount(count);
  if (count_rc != nvml::kSuccess) {
    std::string why = "nvmlDeviceGetCount: " + api_->ErrorString(count_rc);
    GoDown(ctx, why);
    return CollectResult::Transient(std::move(why));
  }
  if (count != devices_.size()) {
    if (!devices_.empty()) {
      spdlog::info("gpu: GPU count changed from {} to {}; looking the devices up again",
                   devices_.size(), count);
    }
    Discover(count);
  }

  Tick tick;
  tick.families.reserve(kFamilyCount);
  for (const FamilySpec& spec : kFamilies) {
    tick.families.emplace_back(spec.name, spec.help, spec.type, ctx.wall_ms);
  }
  tick.families[kCount].Add(count);

  for (Device& device : devices_) {
    const bool was_lost = device.lost;
    if (device.handle == nullptr) {
      AcquireHandle(device);
    }
    if (device.handle != nullptr) {
      device.lost = false;
      ReadDevice(device, tick);
    }
    if (tick.library_error != nvml::kSuccess) {
      std::string why = api_->ErrorString(tick.library_error);
      GoDown(ctx, why);
      return CollectResult::Transient("NVML failed: " + why);
    }
    if (device.lost && !was_lost) {
      spdlog::warn("gpu {} ({}): the GPU is lost (fell off the bus or needs a reset)", device.index,
                   device.labels[1].value);
    } else if (!device.lost && was_lost) {
      spdlog::info("gpu {} ({}): the GPU answers again", device.index, device.labels[1].value);
    }
    tick.families[kUp].Add(device.lost ? 0 : 1, device.labels);
  }

  // A whole tick went through: the next outage starts its backoff from the beginning.
  reload_delay_ = kFirstReloadDelay;

  std::vector<MetricFamily> families;
  families.reserve(kFamilyCount);
  for (FamilyBuilder& builder : tick.families) {
    if (!builder.empty()) {
      families.push_back(builder.Build());
    }
  }
  return CollectResult::Ok(std::move(families));
}

}  // namespace metricsd
