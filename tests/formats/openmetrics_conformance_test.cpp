// The OpenMetrics project's own parser suite (tests/fixtures/openmetrics-parsers, see the
// README there): every case's body must be accepted or rejected exactly as its test.json says.
// One test over all cases, so a failure lists every disagreeing case at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "formats/exposition_parser.h"

namespace metricsd {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNow = 1'700'000'000'000;
constexpr std::size_t kUpstreamCases = 211;

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// test.json is a flat object of a few keys; no JSON library for reading two of them.
// The upstream "comment", when there is one, says what makes an invalid case invalid.
std::string Comment(const std::string& json) {
  std::size_t key = json.find("\"comment\"");
  std::size_t open = key == std::string::npos ? key : json.find('"', key + 9);
  std::size_t close = open == std::string::npos ? open : json.find('"', open + 1);
  return close == std::string::npos ? "" : json.substr(open + 1, close - open - 1);
}

std::optional<bool> ShouldParse(const std::string& json) {
  std::size_t key = json.find("\"shouldParse\"");
  if (key == std::string::npos) {
    return std::nullopt;
  }
  std::size_t value = json.find_first_not_of(" \t\r\n:", key + 13);
  if (value == std::string::npos) {
    return std::nullopt;
  }
  if (json.compare(value, 4, "true") == 0) {
    return true;
  }
  if (json.compare(value, 5, "false") == 0) {
    return false;
  }
  return std::nullopt;
}

class CountingVisitor : public SampleVisitor {
 public:
  void OnSample(const FamilyView&, std::string_view, std::span<const LabelView>, double,
                std::int64_t, std::string_view) override {
    ++samples;
  }
  std::size_t samples = 0;
};

TEST(OpenMetricsConformance, EveryUpstreamCaseGetsTheExpectedVerdict) {
  const fs::path root = fs::path(METRICSD_FIXTURES_DIR) / "openmetrics-parsers";
  std::vector<fs::path> cases;
  for (const fs::directory_entry& entry : fs::directory_iterator(root)) {
    if (entry.is_directory()) {
      cases.push_back(entry.path());
    }
  }
  std::sort(cases.begin(), cases.end());
  ASSERT_EQ(cases.size(), kUpstreamCases) << "cases under " << root;

  std::size_t agree = 0;
  std::string disagreements;
  for (const fs::path& dir : cases) {
    const std::string name = dir.filename().string();
    const std::string json = ReadBytes(dir / "test.json");
    std::optional<bool> expected = ShouldParse(json);
    if (!expected) {
      disagreements += "  " + name + ": test.json has no shouldParse\n";
      continue;
    }
    const std::string body = ReadBytes(dir / "metrics");

    std::vector<MetricFamily> families;
    ParseStats stats;
    Status status = ParseOpenMetrics(body, kNow, families, stats);

    // The streaming form runs the same rules; it must reach the same verdict.
    CountingVisitor visitor;
    ParseStats visitor_stats;
    Status visitor_status = ParseOpenMetrics(body, kNow, visitor, visitor_stats);

    if (status.ok() != visitor_status.ok()) {
      disagreements += "  " + name + ": family and visitor forms disagree\n";
    } else if (status.ok() != *expected) {
      std::string comment = Comment(json);
      disagreements += "  " + name;
      disagreements +=
          *expected ? ": valid but rejected (" + status.error() + ")" : ": invalid but accepted";
      disagreements += comment.empty() ? "\n" : " [upstream: " + comment + "]\n";
    } else {
      ++agree;
    }
  }
  EXPECT_EQ(agree, cases.size()) << agree << " of " << cases.size() << " cases agree; the others:\n"
                                 << disagreements;
}

}  // namespace
}  // namespace metricsd
