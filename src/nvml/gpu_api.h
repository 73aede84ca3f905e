// GpuApi: the questions the GPU collector asks of the driver, one method per NVML query.
//
// NvmlLibrary implements it over the real (or a fake) libnvidia-ml.so; tests may implement
// it in process. Every method returns the NVML return code (kSuccess = 0) and fills its out
// parameter only on success. A query whose NVML entry point is missing from the loaded
// library answers kFunctionNotFound, so callers treat "this driver lacks the function" and
// "this device lacks the feature" (kNotSupported) alike. Units are NVML's unless the method
// name says otherwise. Not thread-safe: one caller at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nvml/nvml_abi.h"

namespace metricsd::nvml {

using Return = abi::nvmlReturn_t;
using Device = abi::nvmlDevice_t;

inline constexpr Return kSuccess = abi::NVML_SUCCESS;
inline constexpr Return kNotSupported = abi::NVML_ERROR_NOT_SUPPORTED;
inline constexpr Return kFunctionNotFound = abi::NVML_ERROR_FUNCTION_NOT_FOUND;
inline constexpr Return kGpuIsLost = abi::NVML_ERROR_GPU_IS_LOST;

struct Utilization {
  unsigned gpu_percent = 0;
  unsigned memory_percent = 0;
};

struct MemoryInfo {
  std::uint64_t total_bytes = 0;
  std::uint64_t free_bytes = 0;
  // With the v2 query: allocated memory only, and reserved_bytes holds the driver's share.
  // With the v1 fallback: allocated plus reserved, and reserved_bytes is empty.
  std::uint64_t used_bytes = 0;
  std::optional<std::uint64_t> reserved_bytes;
};

enum class ClockDomain { kSm, kMemory };
enum class EccErrorType { kCorrected, kUncorrected };
enum class ProcessKind { kCompute, kGraphics };

// PCIe throughput over the driver's 20 ms sampling window, in bytes per second.
struct PcieThroughput {
  std::optional<std::uint64_t> tx_bytes_per_second;  // sent by the GPU
  std::optional<std::uint64_t> rx_bytes_per_second;
};

struct ProcessMemory {
  std::uint32_t pid = 0;
  std::uint64_t used_bytes = 0;
};

class GpuApi {
 public:
  virtual ~GpuApi() = default;

  virtual Return DeviceCount(unsigned& count) noexcept = 0;
  virtual Return DeviceHandle(unsigned index, Device& device) noexcept = 0;
  virtual Return Name(Device device, std::string& name) = 0;
  virtual Return Uuid(Device device, std::string& uuid) = 0;

  virtual Return UtilizationRates(Device device, Utilization& out) noexcept = 0;
  virtual Return Memory(Device device, MemoryInfo& out) noexcept = 0;
  virtual Return TemperatureCelsius(Device device, int& out) noexcept = 0;
  virtual Return PowerUsageMilliwatts(Device device, unsigned& out) noexcept = 0;
  // The limit the driver enforces after every limiter (nvidia-smi's "Enforced Power Limit").
  virtual Return PowerLimitMilliwatts(Device device, unsigned& out) noexcept = 0;
  // Since the driver was loaded.
  virtual Return EnergyMillijoules(Device device, std::uint64_t& out) noexcept = 0;
  virtual Return FanSpeedPercent(Device device, unsigned& out) noexcept = 0;
  virtual Return ClockMhz(Device device, ClockDomain domain, unsigned& out) noexcept = 0;
  // Volatile counters: since the driver was loaded.
  virtual Return EccErrors(Device device, EccErrorType type, std::uint64_t& out) noexcept = 0;
  // Blocks for NVML's 20 ms sampling window per direction. Succeeds when at least one
  // direction was read.
  virtual Return Pcie(Device device, PcieThroughput& out) noexcept = 0;
  // Bit mask of nvmlClocksEventReason* values (abi::kReason*).
  virtual Return ClocksEventReasons(Device device, std::uint64_t& mask) noexcept = 0;
  // Replaces `out` with the processes holding memory on the device.
  virtual Return RunningProcesses(Device device, ProcessKind kind,
                                  std::vector<ProcessMemory>& out) = 0;

  // NVML's text for a return code (safe to call for any code).
  virtual std::string ErrorString(Return code) const = 0;
};

}  // namespace metricsd::nvml
