#include "nvml/nvml_library.h"

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <utility>

namespace metricsd::nvml {
namespace {

constexpr std::array<const char*, 2> kDefaultNames = {"libnvidia-ml.so.1", "libnvidia-ml.so"};

// Resolves the first of `names` that the library exports, or returns nullptr.
template <typename Fn>
Fn Resolve(void* handle, std::initializer_list<const char*> names) noexcept {
  for (const char* name : names) {
    if (void* symbol = ::dlsym(handle, name)) {
      return reinterpret_cast<Fn>(symbol);
    }
  }
  return nullptr;
}

std::string DlError() {
  const char* text = ::dlerror();
  return text != nullptr ? std::string(text) : std::string("unknown dlopen error");
}

// Copies a NUL-terminated string NVML wrote into a fixed buffer.
std::string FromBuffer(const char* buffer, std::size_t capacity) {
  return std::string(buffer, ::strnlen(buffer, capacity));
}

}  // namespace

void NvmlLibrary::DlClose::operator()(void* handle) const noexcept {
  if (handle != nullptr) {
    ::dlclose(handle);
  }
}

Result<std::unique_ptr<NvmlLibrary>> NvmlLibrary::Open(const std::string& path) {
  DlHandle handle;
  std::string loaded_name;
  std::string errors;
  auto try_load = [&](const char* name) {
    ::dlerror();
    handle.reset(::dlopen(name, RTLD_NOW | RTLD_LOCAL));
    if (handle) {
      loaded_name = name;
      return true;
    }
    if (!errors.empty()) {
      errors += "; ";
    }
    errors += DlError();
    return false;
  };
  bool loaded = false;
  if (!path.empty()) {
    loaded = try_load(path.c_str());
  } else {
    for (const char* name : kDefaultNames) {
      if (try_load(name)) {
        loaded = true;
        break;
      }
    }
  }
  if (!loaded) {
    return Error{"cannot load the NVML library: " + errors};
  }

  void* h = handle.get();
  Functions fn;
  fn.init = Resolve<abi::InitFn>(h, {"nvmlInit_v2", "nvmlInit"});
  fn.shutdown = Resolve<abi::ShutdownFn>(h, {"nvmlShutdown"});
  fn.error_string = Resolve<abi::ErrorStringFn>(h, {"nvmlErrorString"});
  fn.device_get_count =
      Resolve<abi::DeviceGetCountFn>(h, {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"});
  fn.device_get_handle_by_index = Resolve<abi::DeviceGetHandleByIndexFn>(
      h, {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"});
  const std::pair<const void*, const char*> required[] = {
      {reinterpret_cast<const void*>(fn.init), "nvmlInit_v2/nvmlInit"},
      {reinterpret_cast<const void*>(fn.shutdown), "nvmlShutdown"},
      {reinterpret_cast<const void*>(fn.error_string), "nvmlErrorString"},
      {reinterpret_cast<const void*>(fn.device_get_count),
       "nvmlDeviceGetCount_v2/nvmlDeviceGetCount"},
      {reinterpret_cast<const void*>(fn.device_get_handle_by_index),
       "nvmlDeviceGetHandleByIndex_v2/nvmlDeviceGetHandleByIndex"},
  };
  for (const auto& [symbol, name] : required) {
    if (symbol == nullptr) {
      return Error{loaded_name + " lacks the required symbol " + name};
    }
  }

  fn.device_get_name = Resolve<abi::DeviceGetStringFn>(h, {"nvmlDeviceGetName"});
  fn.device_get_uuid = Resolve<abi::DeviceGetStringFn>(h, {"nvmlDeviceGetUUID"});
  fn.device_get_utilization_rates =
      Resolve<abi::DeviceGetUtilizationRatesFn>(h, {"nvmlDeviceGetUtilizationRates"});
  fn.device_get_memory_info_v2 =
      Resolve<abi::DeviceGetMemoryInfoV2Fn>(h, {"nvmlDeviceGetMemoryInfo_v2"});
  fn.device_get_memory_info = Resolve<abi::DeviceGetMemoryInfoFn>(h, {"nvmlDeviceGetMemoryInfo"});
  fn.device_get_temperature_v =
      Resolve<abi::DeviceGetTemperatureVFn>(h, {"nvmlDeviceGetTemperatureV"});
  fn.device_get_temperature = Resolve<abi::DeviceGetTemperatureFn>(h, {"nvmlDeviceGetTemperature"});
  fn.device_get_power_usage = Resolve<abi::DeviceGetUintFn>(h, {"nvmlDeviceGetPowerUsage"});
  fn.device_get_enforced_power_limit =
      Resolve<abi::DeviceGetUintFn>(h, {"nvmlDeviceGetEnforcedPowerLimit"});
  fn.device_get_total_energy_consumption =
      Resolve<abi::DeviceGetUllFn>(h, {"nvmlDeviceGetTotalEnergyConsumption"});
  fn.device_get_fan_speed = Resolve<abi::DeviceGetUintFn>(h, {"nvmlDeviceGetFanSpeed"});
  fn.device_get_clock_info = Resolve<abi::DeviceGetClockInfoFn>(h, {"nvmlDeviceGetClockInfo"});
  fn.device_get_total_ecc_errors =
      Resolve<abi::DeviceGetTotalEccErrorsFn>(h, {"nvmlDeviceGetTotalEccErrors"});
  fn.device_get_pcie_throughput =
      Resolve<abi::DeviceGetPcieThroughputFn>(h, {"nvmlDeviceGetPcieThroughput"});
  // "Throttle" was renamed "clocks event" in NVML 12.2; same signature and bits.
  fn.device_get_clocks_event_reasons = Resolve<abi::DeviceGetUllFn>(
      h, {"nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"});
  // Only _v3 and _v2 share the layout we declare; the unversioned one is left out on purpose.
  fn.device_get_compute_processes = Resolve<abi::DeviceGetProcessesFn>(
      h, {"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2"});
  fn.device_get_graphics_processes = Resolve<abi::DeviceGetProcessesFn>(
      h, {"nvmlDeviceGetGraphicsRunningProcesses_v3", "nvmlDeviceGetGraphicsRunningProcesses_v2"});

  const Return init = fn.init();
  if (init != abi::NVML_SUCCESS) {
    const char* text = fn.error_string(init);
    return Error{"nvmlInit failed: " + std::string(text != nullptr ? text : "unknown error") +
                 " (" + std::to_string(init) + ")"};
  }
  return std::unique_ptr<NvmlLibrary>(
      new NvmlLibrary(std::move(handle), std::move(loaded_name), fn));
}

NvmlLibrary::NvmlLibrary(DlHandle handle, std::string loaded_name, const Functions& functions)
    : handle_(std::move(handle)), loaded_name_(std::move(loaded_name)), fn_(functions) {}

NvmlLibrary::~NvmlLibrary() {
  // Pairs with the successful nvmlInit in Open(); the return code has no use at this point.
  fn_.shutdown();
}

int NvmlLibrary::optional_symbols_found() const noexcept {
  const void* optional[] = {
      reinterpret_cast<const void*>(fn_.device_get_name),
      reinterpret_cast<const void*>(fn_.device_get_uuid),
      reinterpret_cast<const void*>(fn_.device_get_utilization_rates),
      reinterpret_cast<const void*>(fn_.device_get_memory_info_v2),
      reinterpret_cast<const void*>(fn_.device_get_memory_info),
      reinterpret_cast<const void*>(fn_.device_get_temperature_v),
      reinterpret_cast<const void*>(fn_.device_get_temperature),
      reinterpret_cast<const void*>(fn_.device_get_power_usage),
      reinterpret_cast<const void*>(fn_.device_get_enforced_power_limit),
      reinterpret_cast<const void*>(fn_.device_get_total_energy_consumption),
      reinterpret_cast<const void*>(fn_.device_get_fan_speed),
      reinterpret_cast<const void*>(fn_.device_get_clock_info),
      reinterpret_cast<const void*>(fn_.device_get_total_ecc_errors),
      reinterpret_cast<const void*>(fn_.device_get_pcie_throughput),
      reinterpret_cast<const void*>(fn_.device_get_clocks_event_reasons),
      reinterpret_cast<const void*>(fn_.device_get_compute_processes),
      reinterpret_cast<const void*>(fn_.device_get_graphics_processes),
  };
  int found = 0;
  for (const void* symbol : optional) {
    found += symbol != nullptr ? 1 : 0;
  }
  return found;
}

Return NvmlLibrary::DeviceCount(unsigned& count) noexcept {
  unsigned value = 0;
  const Return rc = fn_.device_get_count(&value);
  if (rc == kSuccess) {
    count = value;
  }
  return rc;
}

Return NvmlLibrary::DeviceHandle(unsigned index, Device& device) noexcept {
  Device value = nullptr;
  const Return rc = fn_.device_get_handle_by_index(index, &value);
  if (rc == kSuccess) {
    device = value;
  }
  return rc;
}

Return NvmlLibrary::Name(Device device, std::string& name) {
  if (fn_.device_get_name == nullptr) {
    return kFunctionNotFound;
  }
  char buffer[abi::NVML_DEVICE_NAME_V2_BUFFER_SIZE] = {};
  const Return rc = fn_.device_get_name(device, buffer, sizeof(buffer));
  if (rc == kSuccess) {
    name = FromBuffer(buffer, sizeof(buffer));
  }
  return rc;
}

Return NvmlLibrary::Uuid(Device device, std::string& uuid) {
  if (fn_.device_get_uuid == nullptr) {
    return kFunctionNotFound;
  }
  char buffer[abi::NVML_DEVICE_UUID_V2_BUFFER_SIZE] = {};
  const Return rc = fn_.device_get_uuid(device, buffer, sizeof(buffer));
  if (rc == kSuccess) {
    uuid = FromBuffer(buffer, sizeof(buffer));
  }
  return rc;
}

Return NvmlLibrary::UtilizationRates(Device device, Utilization& out) noexcept {
  if (fn_.device_get_utilization_rates == nullptr) {
    return kFunctionNotFound;
  }
  abi::nvmlUtilization_t value{};
  const Return rc = fn_.device_get_utilization_rates(device, &value);
  if (rc == kSuccess) {
    out = {value.gpu, value.memory};
  }
  return rc;
}

Return NvmlLibrary::Memory(Device device, MemoryInfo& out) noexcept {
  if (fn_.device_get_memory_info_v2 != nullptr) {
    abi::nvmlMemory_v2_t value{};
    value.version = abi::nvmlMemory_v2;
    const Return rc = fn_.device_get_memory_info_v2(device, &value);
    if (rc == kSuccess) {
      out = {value.total, value.free, value.used, value.reserved};
      return rc;
    }
    // A driver that exports the symbol but rejects the struct version (or the query) on this
    // device still answers the v1 query.
    if (rc == kGpuIsLost || fn_.device_get_memory_info == nullptr) {
      return rc;
    }
  }
  if (fn_.device_get_memory_info == nullptr) {
    return kFunctionNotFound;
  }
  abi::nvmlMemory_t value{};
  const Return rc = fn_.device_get_memory_info(device, &value);
  if (rc == kSuccess) {
    out = {value.total, value.free, value.used, std::nullopt};
  }
  return rc;
}

Return NvmlLibrary::TemperatureCelsius(Device device, int& out) noexcept {
  if (fn_.device_get_temperature_v != nullptr) {
    abi::nvmlTemperature_v1_t value{};
    value.version = abi::nvmlTemperature_v1;
    value.sensorType = abi::NVML_TEMPERATURE_GPU;
    const Return rc = fn_.device_get_temperature_v(device, &value);
    if (rc == kSuccess) {
      out = value.temperature;
      return rc;
    }
    if (rc == kGpuIsLost || fn_.device_get_temperature == nullptr) {
      return rc;
    }
  }
  if (fn_.device_get_temperature == nullptr) {
    return kFunctionNotFound;
  }
  unsigned value = 0;
  const Return rc = fn_.device_get_temperature(device, abi::NVML_TEMPERATURE_GPU, &value);
  if (rc == kSuccess) {
    out = static_cast<int>(value);
  }
  return rc;
}

Return NvmlLibrary::PowerUsageMilliwatts(Device device, unsigned& out) noexcept {
  return fn_.device_get_power_usage != nullptr ? fn_.device_get_power_usage(device, &out)
                                               : kFunctionNotFound;
}

Return NvmlLibrary::PowerLimitMilliwatts(Device device, unsigned& out) noexcept {
  return fn_.device_get_enforced_power_limit != nullptr
             ? fn_.device_get_enforced_power_limit(device, &out)
             : kFunctionNotFound;
}

Return NvmlLibrary::EnergyMillijoules(Device device, std::uint64_t& out) noexcept {
  if (fn_.device_get_total_energy_consumption == nullptr) {
    return kFunctionNotFound;
  }
  unsigned long long value = 0;
  const Return rc = fn_.device_get_total_energy_consumption(device, &value);
  if (rc == kSuccess) {
    out = value;
  }
  return rc;
}

Return NvmlLibrary::FanSpeedPercent(Device device, unsigned& out) noexcept {
  return fn_.device_get_fan_speed != nullptr ? fn_.device_get_fan_speed(device, &out)
                                             : kFunctionNotFound;
}

Return NvmlLibrary::ClockMhz(Device device, ClockDomain domain, unsigned& out) noexcept {
  if (fn_.device_get_clock_info == nullptr) {
    return kFunctionNotFound;
  }
  const int type = domain == ClockDomain::kSm ? abi::NVML_CLOCK_SM : abi::NVML_CLOCK_MEM;
  return fn_.device_get_clock_info(device, type, &out);
}

Return NvmlLibrary::EccErrors(Device device, EccErrorType type, std::uint64_t& out) noexcept {
  if (fn_.device_get_total_ecc_errors == nullptr) {
    return kFunctionNotFound;
  }
  const int error_type = type == EccErrorType::kCorrected ? abi::NVML_MEMORY_ERROR_TYPE_CORRECTED
                                                          : abi::NVML_MEMORY_ERROR_TYPE_UNCORRECTED;
  unsigned long long value = 0;
  const Return rc =
      fn_.device_get_total_ecc_errors(device, error_type, abi::NVML_VOLATILE_ECC, &value);
  if (rc == kSuccess) {
    out = value;
  }
  return rc;
}

Return NvmlLibrary::Pcie(Device device, PcieThroughput& out) noexcept {
  if (fn_.device_get_pcie_throughput == nullptr) {
    return kFunctionNotFound;
  }
  // NVML answers in KB/s (1 KB granularity); the cumulative byte-counter fields
  // (NVML_FI_DEV_PCIE_COUNT_*) are not used because they may wrap at an unstated width.
  PcieThroughput value;
  unsigned kilobytes = 0;
  const Return tx =
      fn_.device_get_pcie_throughput(device, abi::NVML_PCIE_UTIL_TX_BYTES, &kilobytes);
  if (tx == kSuccess) {
    value.tx_bytes_per_second = std::uint64_t{kilobytes} * 1024;
  } else if (tx == kGpuIsLost) {
    return tx;
  }
  const Return rx =
      fn_.device_get_pcie_throughput(device, abi::NVML_PCIE_UTIL_RX_BYTES, &kilobytes);
  if (rx == kSuccess) {
    value.rx_bytes_per_second = std::uint64_t{kilobytes} * 1024;
  }
  if (!value.tx_bytes_per_second && !value.rx_bytes_per_second) {
    return tx != kSuccess ? tx : rx;
  }
  out = value;
  return kSuccess;
}

Return NvmlLibrary::ClocksEventReasons(Device device, std::uint64_t& mask) noexcept {
  if (fn_.device_get_clocks_event_reasons == nullptr) {
    return kFunctionNotFound;
  }
  unsigned long long value = 0;
  const Return rc = fn_.device_get_clocks_event_reasons(device, &value);
  if (rc == kSuccess) {
    mask = value;
  }
  return rc;
}

Return NvmlLibrary::RunningProcesses(Device device, ProcessKind kind,
                                     std::vector<ProcessMemory>& out) {
  const abi::DeviceGetProcessesFn query = kind == ProcessKind::kCompute
                                              ? fn_.device_get_compute_processes
                                              : fn_.device_get_graphics_processes;
  if (query == nullptr) {
    return kFunctionNotFound;
  }
  if (process_buffer_.empty()) {
    process_buffer_.resize(16);
  }
  unsigned count = 0;
  Return rc = abi::NVML_ERROR_INSUFFICIENT_SIZE;
  // The list can grow between the sizing answer and the retry; two retries are plenty.
  for (int attempt = 0; attempt < 3 && rc == abi::NVML_ERROR_INSUFFICIENT_SIZE; ++attempt) {
    count = static_cast<unsigned>(process_buffer_.size());
    rc = query(device, &count, process_buffer_.data());
    if (rc == abi::NVML_ERROR_INSUFFICIENT_SIZE) {
      process_buffer_.resize(std::max<std::size_t>(count, process_buffer_.size()) + 8);
    }
  }
  if (rc != kSuccess) {
    return rc;
  }
  out.clear();
  for (unsigned i = 0; i < count && i < process_buffer_.size(); ++i) {
    const auto& info = process_buffer_[i];
    if (info.usedGpuMemory != abi::NVML_VALUE_NOT_AVAILABLE_ULL) {
      out.push_back({info.pid, info.usedGpuMemory});
    }
  }
  return rc;
}

std::string NvmlLibrary::ErrorString(Return code) const {
  const char* text = fn_.error_string(code);
  return text != nullptr ? std::string(text) : "NVML error " + std::to_string(code);
}

}  // namespace metricsd::nvml
