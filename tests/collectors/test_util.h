// Helpers for collector tests: fixture trees copied to scratch directories, and lookups of
// samples in a CollectResult.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "collectors/collector.h"
#include "core/host_paths.h"

namespace metricsd::testing_util {

inline std::string FixturePath(const std::string& relative) {
  return std::string(METRICSD_FIXTURES_DIR) + "/" + relative;
}

inline HostPaths FixtureHost() {
  return HostPaths{
      .proc = FixturePath("proc"), .sys = FixturePath("sys"), .root = FixturePath("root")};
}

// A scratch copy of the fixture trees (proc, sys) that a test may rewrite.
class ScratchHost {
 public:
  ScratchHost() {
    std::string templ = (std::filesystem::temp_directory_path() / "metricsd-host-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
    std::filesystem::copy(FixturePath("proc"), dir_ / "proc",
                          std::filesystem::copy_options::recursive);
    std::filesystem::copy(FixturePath("sys"), dir_ / "sys",
                          std::filesystem::copy_options::recursive);
    std::filesystem::create_directory(dir_ / "root");
  }
  ~ScratchHost() { std::filesystem::remove_all(dir_); }
  ScratchHost(const ScratchHost&) = delete;
  ScratchHost& operator=(const ScratchHost&) = delete;

  HostPaths paths() const {
    return HostPaths{.proc = (dir_ / "proc").string(),
                     .sys = (dir_ / "sys").string(),
                     .root = (dir_ / "root").string()};
  }
  void Write(const std::string& relative, const std::string& content) const {
    std::ofstream out(dir_ / relative, std::ios::binary | std::ios::trunc);
    out << content;
  }
  void Remove(const std::string& relative) const { std::filesystem::remove_all(dir_ / relative); }
  std::filesystem::path path(const std::string& relative) const { return dir_ / relative; }

 private:
  std::filesystem::path dir_;
};

inline const MetricFamily* FindFamily(const CollectResult& result, std::string_view name) {
  for (const MetricFamily& family : result.families) {
    if (family.name == name) {
      return &family;
    }
  }
  return nullptr;
}

// The value of the sample of family `name` whose labels equal `labels`, if any.
inline std::optional<double> Value(const CollectResult& result, std::string_view name,
                                   const Labels& labels = {}) {
  const MetricFamily* family = FindFamily(result, name);
  if (family == nullptr) {
    return std::nullopt;
  }
  for (const Sample& sample : family->samples) {
    if (sample.labels == labels) {
      return sample.value;
    }
  }
  return std::nullopt;
}

inline std::size_t SampleCount(const CollectResult& result, std::string_view name) {
  const MetricFamily* family = FindFamily(result, name);
  return family == nullptr ? 0 : family->samples.size();
}

inline CollectContext Ctx(std::int64_t wall_ms = 1'700'000'000'000) {
  return CollectContext{std::chrono::steady_clock::now(), wall_ms};
}

}  // namespace metricsd::testing_util
