#include "nvml/nvml_library.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fake_nvml_control.h"

namespace metricsd::nvml {
namespace {

using metricsd::testing::FakeNvml;
using ::testing::HasSubstr;

constexpr const char* kTwoGpus = R"(count=2
gpu0.name=NVIDIA H100 80GB HBM3
gpu0.uuid=GPU-11111111-2222-3333-4444-555555555555
gpu0.util_gpu=87
gpu0.util_mem=41
gpu0.mem_total=85520809984
gpu0.mem_free=1000
gpu0.mem_used=85000000000
gpu0.mem_reserved=520808984
gpu0.temp=64
gpu0.power_mw=412345
gpu0.power_limit_mw=700000
gpu0.energy_mj=123456789
gpu0.fan=55
gpu0.clock_sm=1980
gpu0.clock_mem=2619
gpu0.ecc_corrected=7
gpu0.ecc_uncorrected=1
gpu0.pcie_tx=4000000
gpu0.pcie_rx=42
gpu0.throttle=0x44
gpu0.procs=1234:1048576,5678:2097152
gpu0.gprocs=99:4096)";

std::unique_ptr<NvmlLibrary> OpenOrDie(const std::string& path) {
  auto library = NvmlLibrary::Open(path);
  EXPECT_TRUE(library.ok()) << library.error();
  return library.ok() ? std::move(library).value() : nullptr;
}

TEST(NvmlLibraryTest, MissingLibraryIsAnErrorNotACrash) {
  auto library = NvmlLibrary::Open("/nonexistent/libnvidia-ml.so.1");
  ASSERT_FALSE(library.ok());
  EXPECT_THAT(library.error(), HasSubstr("cannot load the NVML library"));
  EXPECT_THAT(library.error(), HasSubstr("/nonexistent/libnvidia-ml.so.1"));
}

TEST(NvmlLibraryTest, InitFailureCarriesNvmlTextAndCode) {
  FakeNvml fake;
  fake.Set("init=9");
  auto library = NvmlLibrary::Open(fake.path());
  ASSERT_FALSE(library.ok());
  EXPECT_EQ(library.error(), "nvmlInit failed: Driver Not Loaded (9)");
  EXPECT_EQ(fake.OpenInits(), 0);
}

TEST(NvmlLibraryTest, MissingRequiredSymbolIsAnError) {
  FakeNvml fake(METRICSD_FAKE_NVML_NO_COUNT_PATH);
  auto library = NvmlLibrary::Open(fake.path());
  ASSERT_FALSE(library.ok());
  EXPECT_THAT(library.error(), HasSubstr("lacks the required symbol nvmlDeviceGetCount"));
  // Symbols are checked before nvmlInit, so nothing is left initialised.
  EXPECT_EQ(fake.Calls("nvmlInit"), 0U);
}

TEST(NvmlLibraryTest, InitOnOpenShutdownOnDestruction) {
  FakeNvml fake;
  auto first = OpenOrDie(fake.path());
  auto second = OpenOrDie(fake.path());
  EXPECT_EQ(fake.OpenInits(), 2);
  first.reset();
  EXPECT_EQ(fake.OpenInits(), 1);
  second.reset();
  EXPECT_EQ(fake.OpenInits(), 0);
  EXPECT_EQ(fake.Calls("nvmlShutdown"), 2U);
}

TEST(NvmlLibraryTest, ReadsEveryQueryThroughTheVersionedEntryPoints) {
  FakeNvml fake;
  fake.Set(kTwoGpus);
  auto library = OpenOrDie(fake.path());
  ASSERT_NE(library, nullptr);

  unsigned count = 0;
  ASSERT_EQ(library->DeviceCount(count), kSuccess);
  EXPECT_EQ(count, 2U);
  Device device = nullptr;
  ASSERT_EQ(library->DeviceHandle(0, device), kSuccess);
  Device out_of_range = nullptr;
  EXPECT_EQ(library->DeviceHandle(2, out_of_range), abi::NVML_ERROR_INVALID_ARGUMENT);

  std::string name;
  std::string uuid;
  EXPECT_EQ(library->Name(device, name), kSuccess);
  EXPECT_EQ(name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(library->Uuid(device, uuid), kSuccess);
  EXPECT_EQ(uuid, "GPU-11111111-2222-3333-4444-555555555555");

  Utilization utilization;
  ASSERT_EQ(library->UtilizationRates(device, utilization), kSuccess);
  EXPECT_EQ(utilization.gpu_percent, 87U);
  EXPECT_EQ(utilization.memory_percent, 41U);

  MemoryInfo memory;
  ASSERT_EQ(library->Memory(device, memory), kSuccess);
  EXPECT_EQ(memory.total_bytes, 85520809984ULL);
  EXPECT_EQ(memory.free_bytes, 1000ULL);
  EXPECT_EQ(memory.used_bytes, 85000000000ULL);
  EXPECT_EQ(memory.reserved_bytes, 520808984ULL);
  EXPECT_EQ(fake.Calls("nvmlDeviceGetMemoryInfo_v2"), 1U);  // the struct version was accepted
  EXPECT_EQ(fake.Calls("nvmlDeviceGetMemoryInfo"), 0U);

  int temperature = 0;
  ASSERT_EQ(library->TemperatureCelsius(device, temperature), kSuccess);
  EXPECT_EQ(temperature, 64);
  EXPECT_EQ(fake.Calls("nvmlDeviceGetTemperatureV"), 1U);
  EXPECT_EQ(fake.Calls("nvmlDeviceGetTemperature"), 0U);

  unsigned value = 0;
  ASSERT_EQ(library->PowerUsageMilliwatts(device, value), kSuccess);
  EXPECT_EQ(value, 412345U);
  ASSERT_EQ(library->PowerLimitMilliwatts(device, value), kSuccess);
  EXPECT_EQ(value, 700000U);
  ASSERT_EQ(library->FanSpeedPercent(device, value), kSuccess);
  EXPECT_EQ(value, 55U);
  ASSERT_EQ(library->ClockMhz(device, ClockDomain::kSm, value), kSuccess);
  EXPECT_EQ(value, 1980U);
  ASSERT_EQ(library->ClockMhz(device, ClockDomain::kMemory, value), kSuccess);
  EXPECT_EQ(value, 2619U);

  std::uint64_t wide = 0;
  ASSERT_EQ(library->EnergyMillijoules(device, wide), kSuccess);
  EXPECT_EQ(wide, 123456789ULL);
  ASSERT_EQ(library->EccErrors(device, EccErrorType::kCorrected, wide), kSuccess);
  EXPECT_EQ(wide, 7ULL);
  ASSERT_EQ(library->EccErrors(device, EccErrorType::kUncorrected, wide), kSuccess);
  EXPECT_EQ(wide, 1ULL);
  ASSERT_EQ(library->ClocksEventReasons(device, wide), kSuccess);
  EXPECT_EQ(wide, 0x44ULL);

  PcieThroughput pcie;
  ASSERT_EQ(library->Pcie(device, pcie), kSuccess);
  EXPECT_EQ(pcie.tx_bytes_per_second, 4000000ULL * 1024);  // NVML answers in KB/s
  EXPECT_EQ(pcie.rx_bytes_per_second, 42ULL * 1024);

  std::vector<ProcessMemory> processes;
  ASSERT_EQ(library->RunningProcesses(device, ProcessKind::kCompute, processes), kSuccess);
  ASSERT_EQ(processes.size(), 2U);
  EXPECT_EQ(processes[0].pid, 1234U);
  EXPECT_EQ(processes[0].used_bytes, 1048576ULL);
  EXPECT_EQ(processes[1].pid, 5678U);
  EXPECT_EQ(processes[1].used_bytes, 2097152ULL);
  ASSERT_EQ(library->RunningProcesses(device, ProcessKind::kGraphics, processes), kSuccess);
  ASSERT_EQ(processes.size(), 1U);
  EXPECT_EQ(processes[0].pid, 99U);
}

TEST(NvmlLibraryTest, UnsetValuesAnswerNotSupported) {
  FakeNvml fake;
  fake.Set("count=1");
  auto library = OpenOrDie(fake.path());
  Device device = nullptr;
  ASSERT_EQ(library->DeviceHandle(0, device), kSuccess);
  unsigned value = 0;
  EXPECT_EQ(library->FanSpeedPercent(device, value), kNotSupported);
  PcieThroughput pcie;
  EXPECT_EQ(library->Pcie(device, pcie), kNotSupported);
  std::vector<ProcessMemory> processes;
  EXPECT_EQ(library->RunningProcesses(device, ProcessKind::kCompute, processes), kNotSupported);
  EXPECT_EQ(library->ErrorString(kNotSupported), "Not Supported");
}

TEST(NvmlLibraryTest, ProcessListLargerThanTheFirstBufferIsReadWhole) {
  FakeNvml fake;
  std::string procs;
  for (int pid = 100; pid < 140; ++pid) {
    procs += (procs.empty() ? "" : ",") + std::to_string(pid) + ":" + std::to_string(pid * 10);
  }
  // One process whose memory NVML cannot tell is left out.
  fake.Set("count=1\ngpu0.procs=" + procs + ",7:18446744073709551615");
  auto library = OpenOrDie(fake.path());
  Device device = nullptr;
  ASSERT_EQ(library->DeviceHandle(0, device), kSuccess);
  std::vector<ProcessMemory> processes;
  ASSERT_EQ(library->RunningProcesses(device, ProcessKind::kCompute, processes), kSuccess);
  ASSERT_EQ(processes.size(), 40U);
  EXPECT_EQ(processes.back().pid, 139U);
  EXPECT_EQ(processes.back().used_bytes, 1390ULL);
}

TEST(NvmlLibraryTest, LostGpuAnswersGpuIsLost) {
  FakeNvml fake;
  fake.Set(kTwoGpus);
  auto library = OpenOrDie(fake.path());
  Device device = nullptr;
  ASSERT_EQ(library->DeviceHandle(1, device), kSuccess);
  fake.Set("gpu1.lost=1");
  MemoryInfo memory;
  EXPECT_EQ(library->Memory(device, memory), kGpuIsLost);
  int temperature = 0;
  EXPECT_EQ(library->TemperatureCelsius(device, temperature), kGpuIsLost);
}

TEST(NvmlLibraryTest, OldLibraryFallsBackToUnversionedEntryPoints) {
  FakeNvml fake(METRICSD_FAKE_NVML_MINIMAL_PATH);
  fake.Set(kTwoGpus);
  auto library = OpenOrDie(fake.path());
  ASSERT_NE(library, nullptr);
  EXPECT_EQ(fake.Calls("nvmlInit"), 1U);  // through the unversioned name

  unsigned count = 0;
  ASSERT_EQ(library->DeviceCount(count), kSuccess);
  EXPECT_EQ(count, 2U);
  Device device = nullptr;
  ASSERT_EQ(library->DeviceHandle(0, device), kSuccess);

  MemoryInfo memory;
  ASSERT_EQ(library->Memory(device, memory), kSuccess);
  EXPECT_EQ(memory.total_bytes, 85520809984ULL);
  EXPECT_EQ(memory.used_bytes, 85000000000ULL + 520808984ULL);  // v1: used includes reserved
  EXPECT_FALSE(memory.reserved_bytes.has_value());

  int temperature = 0;
  ASSERT_EQ(library->TemperatureCelsius(device, temperature), kSuccess);
  EXPECT_EQ(temperature, 64);
  EXPECT_EQ(fake.Calls("nvmlDeviceGetTemperature"), 1U);

  std::uint64_t mask = 0;
  ASSERT_EQ(library->ClocksEventReasons(device, mask), kSuccess);  // the "Throttle" name
  EXPECT_EQ(mask, 0x44ULL);

  unsigned value = 0;
  std::uint64_t wide = 0;
  PcieThroughput pcie;
  std::vector<ProcessMemory> processes;
  EXPECT_EQ(library->PowerLimitMilliwatts(device, value), kFunctionNotFound);
  EXPECT_EQ(library->EnergyMillijoules(device, wide), kFunctionNotFound);
  EXPECT_EQ(library->EccErrors(device, EccErrorType::kCorrected, wide), kFunctionNotFound);
  EXPECT_EQ(library->Pcie(device, pcie), kFunctionNotFound);
  EXPECT_EQ(library->RunningProcesses(device, ProcessKind::kCompute, processes), kFunctionNotFound);
  EXPECT_LT(library->optional_symbols_found(), 17);
}

}  // namespace
}  // namespace metricsd::nvml
