// Textfile collector: whatever bytes scripts leave in *.prom files, a collection never crashes,
// and what it returns is well formed: names and labels valid for remote write, labels sorted
// and unique, one family per name, an error metric of 0 or 1, and the mtime of only the files
// that were used. The input is split at its first 0xff byte into two files, so that merging
// and conflicts between files are exercised too.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "collectors/textfile_collector.h"
#include "fuzz_checks.h"

namespace {

// A scratch directory for the process, removed at exit (never destroyed before that).
const std::filesystem::path& Directory() {
  static const std::filesystem::path* const dir = [] {
    std::string templ = (std::filesystem::temp_directory_path() / "fuzz-textfile-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
      std::abort();
    }
    return new std::filesystem::path(templ);
  }();
  static const bool cleanup = std::atexit([] {
                                std::error_code ignored;
                                std::filesystem::remove_all(*dir, ignored);
                              }) == 0;
  (void)cleanup;
  return *dir;
}

void WriteFile(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

bool ValidName(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace metricsd;
  // Every invalid input is logged as a warning: tens of thousands of lines per run.
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find('\xff');
  WriteFile(Directory() / "a.prom", input.substr(0, split));
  WriteFile(Directory() / "b.prom",
            split == std::string_view::npos ? std::string_view() : input.substr(split + 1));

  config::TextfileOptions options;
  options.directory = Directory().string();
  options.max_file_bytes = 1 << 16;
  config::ScrapeLimits limits;
  limits.sample_limit = 1000;
  TextfileCollector collector(options, config::MetricNaming::kNodeExporter, limits);
  const CollectResult result = collector.Collect(CollectContext{{}, 1000});
  fuzz::Check(result.status == CollectStatus::kOk);

  std::set<std::string_view> families;
  int error_samples = 0;
  std::size_t mtimes = 0;
  for (const MetricFamily& family : result.families) {
    fuzz::Check(families.insert(family.name).second);
    for (const Sample& sample : family.samples) {
      fuzz::Check(ValidName(sample.name));
      fuzz::Check(sample.timestamp_ms == 1000);
      for (std::size_t i = 0; i < sample.labels.size(); ++i) {
        fuzz::Check(ValidName(sample.labels[i].name) && !sample.labels[i].value.empty());
        fuzz::Check(fuzz::ValidUtf8(sample.labels[i].value));
        fuzz::Check(i == 0 || sample.labels[i - 1].name < sample.labels[i].name);
      }
    }
    if (family.name == "node_textfile_scrape_error") {
      fuzz::Check(family.samples.size() == 1);
      fuzz::Check(family.samples[0].value == 0 || family.samples[0].value == 1);
      error_samples += 1;
    }
    if (family.name == "node_textfile_mtime_seconds") {
      mtimes = family.samples.size();
    }
  }
  fuzz::Check(error_samples == 1);
  fuzz::Check(mtimes <= 2);
  return 0;
}
