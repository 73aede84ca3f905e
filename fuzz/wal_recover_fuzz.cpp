// libFuzzer: a segment file with arbitrary content after a valid header. Opening the queue
// must never crash, and whatever it recovers must read back without error.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <spdlog/spdlog.h>

#include "queue/wal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string dir = [] {
    spdlog::set_level(spdlog::level::off);
    std::string pattern = std::filesystem::temp_directory_path().string() + "/walfuzz.XXXXXX";
    return std::string(::mkdtemp(pattern.data()));
  }();
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::filesystem::remove(entry.path());
  }
  {
    std::ofstream out(dir + "/00000000000000000001.wal", std::ios::binary);
    char header[16] = {'M', 'D', 'W', 'A', 'L', 'S', 'G', '1', 1, 0, 0, 0, 0, 0, 0, 0};
    out.write(header, sizeof header);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto wal = metricsd::queue::Wal::Open(
      metricsd::queue::WalOptions{.dir = dir, .max_bytes = 1 << 20, .fsync = false});
  if (!wal.ok()) {
    __builtin_trap();
  }
  metricsd::queue::WalRecord record;
  std::uint64_t records = 0;
  while ((*wal)->ReadNext(record)) {
    ++records;
  }
  if (records != (*wal)->recovery().records) {
    __builtin_trap();
  }
  return 0;
}
