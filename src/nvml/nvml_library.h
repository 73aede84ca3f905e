// NvmlLibrary: libnvidia-ml.so loaded at run time, initialised, and released again.
//
// Open() dlopens the library (a configured path, else libnvidia-ml.so.1, then
// libnvidia-ml.so) with RTLD_NOW | RTLD_LOCAL, resolves every entry point into a table held
// by this object, and calls nvmlInit. The destructor calls nvmlShutdown and then dlcloses,
// so a later Open() after a driver upgrade loads the new library. Versioned entry points are
// preferred (nvmlInit_v2, nvmlDeviceGetCount_v2, ...) with a fall-back to the older names.
//
// Required symbols are those needed to enumerate devices (init, shutdown, error string,
// device count, handle by index); without one of them Open() fails. Every other query is
// optional: if the library lacks it the query answers NVML_ERROR_FUNCTION_NOT_FOUND.
//
// Several NvmlLibrary objects may coexist (NVML reference-counts nvmlInit). One object is
// used by one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "nvml/gpu_api.h"

namespace metricsd::nvml {

class NvmlLibrary final : public GpuApi {
 public:
  // path: the library file to load; empty means the default names. Returns why not on
  // failure: the library is missing, lacks a required symbol, or nvmlInit failed (the
  // message then carries NVML's error text and code).
  static Result<std::unique_ptr<NvmlLibrary>> Open(const std::string& path);

  ~NvmlLibrary() override;
  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;

  // The name the library was loaded by.
  const std::string& loaded_name() const noexcept { return loaded_name_; }
  // Whether the optional queries resolved to any entry point (for logs and tests).
  int optional_symbols_found() const noexcept;

  Return DeviceCount(unsigned& count) noexcept override;
  Return DeviceHandle(unsigned index, Device& device) noexcept override;
  Return Name(Device device, std::string& name) override;
  Return Uuid(Device device, std::string& uuid) override;
  Return UtilizationRates(Device device, Utilization& out) noexcept override;
  Return Memory(Device device, MemoryInfo& out) noexcept override;
  Return TemperatureCelsius(Device device, int& out) noexcept override;
  Return PowerUsageMilliwatts(Device device, unsigned& out) noexcept override;
  Return PowerLimitMilliwatts(Device device, unsigned& out) noexcept override;
  Return EnergyMillijoules(Device device, std::uint64_t& out) noexcept override;
  Return FanSpeedPercent(Device device, unsigned& out) noexcept override;
  Return ClockMhz(Device device, ClockDomain domain, unsigned& out) noexcept override;
  Return EccErrors(Device device, EccErrorType type, std::uint64_t& out) noexcept override;
  Return Pcie(Device device, PcieThroughput& out) noexcept override;
  Return ClocksEventReasons(Device device, std::uint64_t& mask) noexcept override;
  Return RunningProcesses(Device device, ProcessKind kind,
                          std::vector<ProcessMemory>& out) override;
  std::string ErrorString(Return code) const override;

 private:
  struct DlClose {
    void operator()(void* handle) const noexcept;
  };
  using DlHandle = std::unique_ptr<void, DlClose>;

  // The resolved entry points. Required ones are never null once Open() succeeded.
  struct Functions {
    abi::InitFn init = nullptr;
    abi::ShutdownFn shutdown = nullptr;
    abi::ErrorStringFn error_string = nullptr;
    abi::DeviceGetCountFn device_get_count = nullptr;
    abi::DeviceGetHandleByIndexFn device_get_handle_by_index = nullptr;

    abi::DeviceGetStringFn device_get_name = nullptr;
    abi::DeviceGetStringFn device_get_uuid = nullptr;
    abi::DeviceGetUtilizationRatesFn device_get_utilization_rates = nullptr;
    abi::DeviceGetMemoryInfoV2Fn device_get_memory_info_v2 = nullptr;
    abi::DeviceGetMemoryInfoFn device_get_memory_info = nullptr;
    abi::DeviceGetTemperatureVFn device_get_temperature_v = nullptr;
    abi::DeviceGetTemperatureFn device_get_temperature = nullptr;
    abi::DeviceGetUintFn device_get_power_usage = nullptr;
    abi::DeviceGetUintFn device_get_enforced_power_limit = nullptr;
    abi::DeviceGetUllFn device_get_total_energy_consumption = nullptr;
    abi::DeviceGetUintFn device_get_fan_speed = nullptr;
    abi::DeviceGetClockInfoFn device_get_clock_info = nullptr;
    abi::DeviceGetTotalEccErrorsFn device_get_total_ecc_errors = nullptr;
    abi::DeviceGetPcieThroughputFn device_get_pcie_throughput = nullptr;
    abi::DeviceGetUllFn device_get_clocks_event_reasons = nullptr;
    abi::DeviceGetProcessesFn device_get_compute_processes = nullptr;
    abi::DeviceGetProcessesFn device_get_graphics_processes = nullptr;
  };

  NvmlLibrary(DlHandle handle, std::string loaded_name, const Functions& functions);

  // Order matters: the handle is released after the destructor body ran nvmlShutdown.
  DlHandle handle_;
  std::string loaded_name_;
  Functions fn_;
  std::vector<abi::nvmlProcessInfo_v2_t> process_buffer_;  // reused between calls
};

}  // namespace metricsd::nvml
