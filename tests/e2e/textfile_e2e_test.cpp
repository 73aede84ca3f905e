// End-to-end: the metricsd binary with collector.textfile.directory serves the files'
// samples and the textfile meta-metrics on /metrics, and a broken file that appears later
// raises the error metric without hiding the good file. Samples are matched as whole lines:
// the error metric's HELP text itself reads "1 if ...".
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>

#include "support/process.h"

namespace metricsd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::HttpGet;
using testing::TempDir;
using testing::WaitFor;

const std::string kBinary = METRICSD_BINARY;

std::map<std::string, int> TypeLines(const std::string& text) {
  std::map<std::string, int> names;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("# TYPE ")) {
      ++names[line.substr(7, line.find(' ', 7) - 7)];
    }
  }
  return names;
}

TEST(TextfileE2e, FilesShowUpInMetrics) {
  TempDir dir;
  TempDir textfiles;
  // Written as the docs ask: a temporary name first, then renamed into place.
  textfiles.Write("backup.prom.tmp",
                  "# HELP backup_last_success_seconds When the last backup ended.\n"
                  "# TYPE backup_last_success_seconds gauge\n"
                  "backup_last_success_seconds{job=\"db\"} 1699999000\n"
                  "# TYPE backup_duration_seconds histogram\n"
                  "backup_duration_seconds_bucket{le=\"60\"} 2\n"
                  "backup_duration_seconds_bucket{le=\"+Inf\"} 3\n"
                  "backup_duration_seconds_sum 200\n"
                  "backup_duration_seconds_count 3\n");
  ASSERT_EQ(std::rename((textfiles.path() + "/backup.prom.tmp").c_str(),
                        (textfiles.path() + "/backup.prom").c_str()),
            0);
  const int port = testing::FreePort();
  const std::string config =
      dir.Write("config.json", R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
                                   R"(},"collector":{"interval_seconds":1,"naming":"both",)"
                                   R"("textfile":{"directory":")" +
                                   textfiles.path() + R"("}}})");
  auto env = testing::MetricsdTestEnv();
  env["MC_COLLECTOR_TEXTFILE_DIRECTORY"] = std::nullopt;
  env["MC_COLLECTOR_NAMING"] = std::nullopt;
  ChildProcess daemon(kBinary, {"-config", config}, env, dir.path());

  std::string body;
  ASSERT_TRUE(WaitFor(
      [&] {
        body = HttpGet("127.0.0.1", port, "/metrics").body;
        return body.find("backup_last_success_seconds{") != std::string::npos;
      },
      20s))
      << daemon.Stderr();
  EXPECT_THAT(body, HasSubstr("backup_last_success_seconds{job=\"db\"} 1699999000"));
  EXPECT_THAT(body, HasSubstr("# HELP backup_last_success_seconds When the last backup ended."));
  EXPECT_THAT(body, HasSubstr("# TYPE backup_duration_seconds histogram"));
  EXPECT_THAT(body, HasSubstr("backup_duration_seconds_bucket{le=\"+Inf\"} 3"));
  EXPECT_THAT(body, HasSubstr("\nmetricsd_textfile_scrape_error 0\n"));
  EXPECT_THAT(body, HasSubstr("\nnode_textfile_scrape_error 0\n"));
  EXPECT_THAT(body, HasSubstr("node_textfile_mtime_seconds{file=\"" + textfiles.path() +
                              "/backup.prom\"}"));
  for (const auto& [name, count] : TypeLines(body)) {
    EXPECT_EQ(count, 1) << name;
  }

  textfiles.Write("broken.prom", "broken_metric{ 1\n");
  ASSERT_TRUE(WaitFor(
      [&] {
        body = HttpGet("127.0.0.1", port, "/metrics").body;
        return body.find("\nnode_textfile_scrape_error 1\n") != std::string::npos;
      },
      20s))
      << daemon.Stderr();
  EXPECT_THAT(body, HasSubstr("\nmetricsd_textfile_scrape_error 1\n"));
  EXPECT_THAT(body, HasSubstr("backup_last_success_seconds{job=\"db\"} 1699999000"));
  EXPECT_THAT(body, Not(HasSubstr("broken_metric")));
}

}  // namespace
}  // namespace metricsd
