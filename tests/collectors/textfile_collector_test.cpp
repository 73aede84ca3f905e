// TextfileCollector on scratch directories: what is read, what makes a file broken, the
// meta-metrics under each naming, merging, and the re-read of changed files.
#include "collectors/textfile_collector.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "test_util.h"

namespace metricsd {
namespace {

using testing_util::FindFamily;
using testing_util::Value;

constexpr std::int64_t kTickMs = 1'700'000'000'123;

CollectContext Tick() { return CollectContext{.steady_now = {}, .wall_ms = kTickMs}; }

class TextfileDir {
 public:
  TextfileDir() {
    std::string templ =
        (std::filesystem::temp_directory_path() / "metricsd-textfile-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
  }
  ~TextfileDir() { std::filesystem::remove_all(dir_); }
  TextfileDir(const TextfileDir&) = delete;
  TextfileDir& operator=(const TextfileDir&) = delete;

  std::string path() const { return dir_.string(); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // Written in place (not renamed), with the mtime set to `mtime_s` when given.
  void Write(const std::string& name, const std::string& content, long mtime_s = 0) const {
    {
      std::ofstream out(dir_ / name, std::ios::binary | std::ios::trunc);
      out << content;
    }
    if (mtime_s != 0) {
      SetMtime(name, mtime_s);
    }
  }
  void SetMtime(const std::string& name, long mtime_s) const {
    const timespec times[2] = {{mtime_s, 0}, {mtime_s, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path(name).c_str(), times, 0), 0);
  }

 private:
  std::filesystem::path dir_;
};

TextfileCollector Make(const TextfileDir& dir,
                       config::MetricNaming naming = config::MetricNaming::kMetricsd,
                       config::TextfileOptions options = {}) {
  options.directory = dir.path();
  return TextfileCollector(options, naming, config::ScrapeLimits{});
}

double ScrapeError(const CollectResult& r, std::string_view prefix = "metricsd") {
  return Value(r, std::string(prefix) + "_textfile_scrape_error").value_or(-1);
}

std::optional<double> Mtime(const CollectResult& r, const std::string& path,
                            std::string_view prefix = "metricsd") {
  return Value(r, std::string(prefix) + "_textfile_mtime_seconds", Labels{{"file", path}});
}

TEST(TextfileCollector, ValidFileGivesSamplesAndMtime) {
  TextfileDir dir;
  dir.Write("backup.prom",
            "# HELP backup_last_success_seconds When the last backup ended.\n"
            "# TYPE backup_last_success_seconds gauge\n"
            "backup_last_success_seconds{job=\"db\"} 1699999000\n"
            "backup_runs_total 7\n",
            1'600'000'000);
  TextfileCollector collector = Make(dir);
  CollectResult r = collector.Collect(Tick());
  ASSERT_EQ(r.status, CollectStatus::kOk);
  EXPECT_TRUE(r.message.empty()) << r.message;
  EXPECT_EQ(Value(r, "backup_last_success_seconds", Labels{{"job", "db"}}), 1699999000.0);
  const MetricFamily* family = FindFamily(r, "backup_last_success_seconds");
  ASSERT_NE(family, nullptr);
  EXPECT_EQ(family->type, MetricType::kGauge);
  EXPECT_EQ(family->help, "When the last backup ended.");
  EXPECT_EQ(family->samples[0].timestamp_ms, kTickMs);
  const MetricFamily* untyped = FindFamily(r, "backup_runs_total");
  ASSERT_NE(untyped, nullptr);
  EXPECT_EQ(untyped->type, MetricType::kUntyped);
  EXPECT_EQ(untyped->help, "Metric read from " + dir.path("backup.prom"));
  EXPECT_EQ(Mtime(r, dir.path("backup.prom")), 1'600'000'000.0);
  EXPECT_EQ(ScrapeError(r), 0.0);
  EXPECT_EQ(FindFamily(r, "node_textfile_scrape_error"), nullptr);
}

TEST(TextfileCollector, BrokenFileIsSkippedOthersKept) {
  TextfileDir dir;
  dir.Write("a.prom", "good_a 1\n");
  dir.Write("b.prom", "broken_b 1\nthis is not a sample\nbroken_b_other 2\n");
  dir.Write("c.prom", "good_c 3\n");
  TextfileCollector collector = Make(dir);
  CollectResult r = collector.Collect(Tick());
  ASSERT_EQ(r.status, CollectStatus::kOk);
  EXPECT_EQ(Value(r, "good_a"), 1.0);
  EXPECT_EQ(Value(r, "good_c"), 3.0);
  EXPECT_EQ(FindFamily(r, "broken_b"), nullptr);
  EXPECT_EQ(FindFamily(r, "broken_b_other"), nullptr);
  EXPECT_EQ(ScrapeError(r), 1.0);
  EXPECT_FALSE(Mtime(r, dir.path("b.prom")).has_value());
  EXPECT_TRUE(Mtime(r, dir.path("a.prom")).has_value());
  EXPECT_NE(r.message.find("b.prom"), std::string::npos) << r.message;
}

TEST(TextfileCollector, OwnTimestampsMakeTheFileBroken) {
  TextfileDir dir;
  dir.Write("ts.prom", "with_ts 1\nwith_ts{x=\"1\"} 2 1700000000000\n");
  TextfileCollector collector = Make(dir);
  CollectResult r = collector.Collect(Tick());
  EXPECT_EQ(FindFamily(r, "with_ts"), nullptr);
  EXPECT_EQ(ScrapeError(r), 1.0);
  EXPECT_NE(r.message.find("timestamp"), std::string::npos) << r.message;
}

TEST(TextfileCollector, ScrapeLimitsMakeTheFileBroken) {
  TextfileDir dir;
  dir.Write("long.prom", "long_label{v=\"" + std::string(100, 'x') + "\"} 1\n");
  dir.Write("ok.prom", "short_label{v=\"x\"} 1\n");
  config::TextfileOptions options;
  options.directory = dir.path();
  TextfileCollector collector(options, config::MetricNaming::kMetricsd,
                              config::ScrapeLimits{.label_value_length_limit = 50});
  CollectResult r = collector.Collect(Tick());
  EXPECT_EQ(FindFamily(r, "long_label"), nullptr);
  EXPECT_EQ(Value(r, "short_label", Labels{{"v", "x"}}), 1.0);
  EXPECT_EQ(ScrapeError(r), 1.0);
}

TEST(TextfileCollector, TooBigFileIsSkipped) {
  TextfileDir dir;
  dir.Write("big.prom", "big_metric " + std::string(200, '1') + "\n");
  dir.Write("small.prom", "small_metric 1\n");
  TextfileCollector collector =
      Make(dir, config::MetricNaming::kMetricsd, config::TextfileOptions{.max_file_bytes = 100});
  CollectResult r = collector.Collect(Tick());
  EXPECT_EQ(FindFamily(r, "big_metric"), nullptr);
  EXPECT_EQ(Value(r, "small_metric"), 1.0);
  EXPECT_EQ(ScrapeError(r), 1.0);
  EXPECT_NE(r.message.find("max_file_bytes"), std::string::npos) << r.message;
}

TEST(TextfileCollector, TooManyFilesReadsTheFirstInNameOrder) {
  TextfileDir dir;
  dir.Write("c.prom", "metric_c 1\n");
  dir.Write("a.prom", "metric_a 1\n");
  dir.Write("b.prom", "metric_b 1\n");
  TextfileCollector collector =
      Make(dir, config::MetricNaming::kMetricsd, config::TextfileOptions{.max_files = 2});
  CollectResult r = collector.Collect(Tick());
  EXPECT_EQ(Value(r, "metric_a"), 1.0);
  EXPECT_EQ(Value(r, "metric_b"), 1.0);
  EXPECT_EQ(FindFamily(r, "metric_c"), nullptr);
  EXPECT_EQ(ScrapeError(r), 1.0);
  EXPECT_NE(r.message.find("max_files"), std::string::npos) << r.message;
}

TEST(TextfileCollector, OtherFilesAndDirectoriesAreIgnored) {
  TextfileDir dir;
  dir.Write("x.prom.12345", "temp_file 1\n");
  dir.Write("notes.txt", "not a sample at all\n");
  std::filesystem::create_directory(dir.path("sub.prom"));
  std::filesystem::create_directory(dir.path("sub"));
  dir.Write("sub/nested.prom", "nested_metric 1\n");
  dir.Write("real.prom", "real_metric 1\n");
  std::filesystem::create_symlink(dir.path("real.prom"), dir.path("link.prom"));
  TextfileCollector collector =
      Make(dir, config::MetricNaming::kMetricsd, config::TextfileOptions{.max_files = 2});
  CollectResult r = collector.Collect(Tick());
  EXPECT_EQ(FindFamily(r, "temp_file"), nullptr);
  EXPECT_EQ(FindFamily(r, "nested_metric"), nullptr);
  // The symlink is followed: the same series twice, so the later file (real.prom) loses it.
  EXPECT_EQ(Value(r, "real_metric"), 1.0);
  EXPECT_TRUE(Mtime(r, dir.path("link.prom")).has_value());
  EXPECT_EQ(ScrapeError(r), 1.0);
  std::filesystem::remove(dir.path("link.prom"));
  r = collector.Collect(Tick());
  EXPECT_EQ(ScrapeError(r), 0.0) << r.message;  // the directory sub.prom counts for nothing
  EXPECT_EQ(FindFamily(r, "real_metric")->samples.size(), 1u);
}

TEST(TextfileCollector, DanglingSymlinkIsAnError) {
  TextfileDir dir;
  dir.Write("ok.prom", "ok_metric 1\n");
  std::filesystem::create_symlink(dir.path("nowhere"), dir.path("dangling.prom"));
  TextfileCollector collector = Make(dir);
  CollectResult r = collector.Collect(Tick());
  EXPECT_EQ(Value(r, "ok_metric"), 1.0);
  EXPECT_EQ(ScrapeError(r), 1.0);
  EXPECT_NE(r.message.find("dangling.prom"), std::string::npos) << r.message;
}

TEST(TextfileCollector, MissingDirectoryIsAnErrorMetricNotAFailure) {
  config::TextfileOptions options{.directory = "/nonexistent/metricsd-textfile"};
  TextfileCollector collector(options, config::MetricNaming::kBoth, config::ScrapeLimits{});
  CollectResult r = collector.Collect(Tick());
  ASSERT_EQ(r.status, CollectStatus::kOk);
  EXPECT_EQ(ScrapeError(r, "metricsd"), 1.0);
  EXPECT_EQ(ScrapeError(r, "node"), 1.0);
  EXPECT_EQ(FindFamily(r, "metricsd_textfile_mtime_seconds"), nullptr);
  EXPECT_NE(r.message.find("/nonexistent/metricsd-textfile"), std::string::npos) << r.message;
}

TEST(TextfileCollector, NamingPicksTheMetaMetricPrefix) {
  TextfileDir dir;
  dir.Write("a.prom", "own_metric 5\n", 1'600'000'000);
  const std::string file = dir.path("a.prom");
  {
    CollectResult r = Make(dir, config::MetricNaming::kMetricsd).Collect(Tick());
    EXPECT_EQ(ScrapeError(r, "metricsd"), 0.0);
    EXPECT_EQ(Mtime(r, file, "metricsd"), 1'600'000'000.0);
    EXPECT_EQ(FindFamily(r, "node_textfile_scrape_error"), nullptr);
    EXPECT_EQ(FindFamily(r, "node_textfile_mtime_seconds"), nullptr);
  }
  {
    CollectResult r = Make(dir, config::MetricNaming::kNodeExporter).Collect(Tick());
    EXPECT_EQ(ScrapeError(r, "node"), 0.0);
    EXPECT_EQ(Mtime(r, file, "node"), 1'600'000'000.0);
    EXPECT_EQ(FindFamily(r, "metricsd_textfile_scrape_error"), nullptr);
    EXPECT_EQ(FindFamily(r, "metricsd_textfile_mtime_seconds"), nullptr);
  }
  {
    CollectResult r = Make(dir, config::MetricNaming::kBoth).Collect(Tick());
    EXPECT_EQ(ScrapeError(r, "metricsd"), 0.0);
    EXPECT_EQ(ScrapeError(r, "node"), 0.0);
    EXPECT_EQ(Mtime(r, file, "metricsd"), 1'600'000'000.0);
    EXPECT_EQ(Mtime(r, file, "node"), 1'600'000'000.0);
    ASSERT_NE(FindFamily(r, "own_metric"), nullptr);
    EXPECT_EQ(FindFamily(r, "own_metric")->samples.size(), 1u);  // the file's own metrics once
    int own = 0;
    for (const MetricFamily& family : r.families) {
      own += family.name == "own_metric" ? 1 : 0;
    }
    EXPECT_EQ(own, 1);
  }
}

TEST(TextfileCollector, FamiliesMergeAcrossFilesAndDuplicatesAreErrors) {
  TextfileDir dir;
  dir.Write("1.prom",
            "# HELP job_ok Whether the job worked.\n# TYPE job_ok gauge\njob_ok{job=\"a\"} 1\n");
  dir.Write("2.prom", "# TYPE job_ok gauge\njob_ok{job=\"b\"} 0\n");
  TextfileCollector collector = Make(dir);
  CollectResult r = collector.Collect(Tick());
  const MetricFamily* family = FindFamily(r, "job_ok");
  ASSERT_NE(family, nullptr);
  EXPECT_EQ(family->samples.size(), 2u);
  EXPECT_EQ(family->help, "Whether the job worked.");
  EXPECT_EQ(Value(r, "job_ok", Labels{{"job", "a"}}), 1.0);
  EXPECT_EQ(Value(r, "job_ok", Labels{{"job", "b"}}), 0.0);
  EXPECT_EQ(ScrapeError(r), 0.0) << r.message;
  int families = 0;
  for (const MetricFamily& f : r.families) {
    families += f.name == "job_ok" ? 1 : 0;
  }
  EXPECT_EQ(families, 1);

  // The same series in a later file: the first file's value stays, the later one is dropped.
  dir.Write("3.prom", "# TYPE job_ok gauge\njob_ok{job=\"a\"} 42\nother_in_3 1\n");
  r = collector.Collect(Tick());
  EXPECT_EQ(Value(r, "job_ok", Labels{{"job", "a"}}), 1.0);
  EXPECT_EQ(FindFamily(r, "job_ok")->samples.size(), 2u);
  EXPECT_EQ(Value(r, "other_in_3"), 1.0);
  EXPECT_EQ(ScrapeError(r), 1.0);
  EXPECT_NE(r.message.find("already read"), std::string::npos) << r.message;
  std::filesystem::remove(dir.path("3.prom"));

  // The same family with another type: the later file's family is dropped.
  dir.Write("4.prom", "# TYPE job_ok counter\njob_ok{job=\"c\"} 3\n");
  r = collector.Collect(Tick());
  EXPECT_FALSE(Value(r, "job_ok", Labels{{"job", "c"}}).has_value());
  EXPECT_EQ(FindFamily(r, "job_ok")->type, MetricType::kGauge);
  EXPECT_EQ(ScrapeError(r), 1.0);
  EXPECT_NE(r.message.find("counter"), std::string::npos) << r.message;
}

TEST(TextfileCollector, AFileMayNotDefineTheCollectorsOwnFamilies) {
  TextfileDir dir;
  dir.Write("own.prom",
            "node_textfile_scrape_error 0\nmetricsd_textfile_mtime_seconds 1\nmine 5\n");
  TextfileCollector collector = Make(dir, config::MetricNaming::kBoth);
  CollectResult r = collector.Collect(Tick());
  EXPECT_EQ(ScrapeError(r), 1.0);
  EXPECT_EQ(Value(r, "mine"), 5.0);
  int error_families = 0;
  for (const MetricFamily& f : r.families) {
    error_families += f.name == "node_textfile_scrape_error" ? 1 : 0;
    if (f.name == "metricsd_textfile_mtime_seconds") {
      // Only the collector's own samples, one per file used: the file's sample was skipped.
      ASSERT_EQ(f.samples.size(), 1u);
      EXPECT_EQ(f.samples[0].labels.size(), 1u);
    }
  }
  EXPECT_EQ(error_families, 1);
  EXPECT_NE(r.message.find("textfile collector's own"), std::string::npos) << r.message;
}

TEST(TextfileCollector, ErrorGoesBackToZeroWhenTheFileIsFixed) {
  TextfileDir dir;
  dir.Write("job.prom", "job_metric{ 1\n");
  TextfileCollector collector = Make(dir);
  CollectResult r = collector.Collect(Tick());
  EXPECT_EQ(ScrapeError(r), 1.0);
  EXPECT_EQ(FindFamily(r, "job_metric"), nullptr);
  r = collector.Collect(Tick());
  EXPECT_EQ(ScrapeError(r), 1.0);  // still broken on the next tick
  dir.Write("job.prom", "job_metric 1\n");
  r = collector.Collect(Tick());
  EXPECT_EQ(ScrapeError(r), 0.0) << r.message;
  EXPECT_EQ(Value(r, "job_metric"), 1.0);
  EXPECT_TRUE(r.message.empty()) << r.message;
}

TEST(TextfileCollector, UnchangedFileComesFromTheCache) {
  TextfileDir dir;
  dir.Write("cached.prom", "cached_metric 1\n", 1'600'000'000);
  TextfileCollector collector = Make(dir);
  EXPECT_EQ(Value(collector.Collect(Tick()), "cached_metric"), 1.0);
  // Same inode, size and mtime: the parsed form is reused, so the new bytes are not seen ...
  dir.Write("cached.prom", "cached_metric 2\n", 1'600'000'000);
  EXPECT_EQ(Value(collector.Collect(Tick()), "cached_metric"), 1.0);
  // ... until the mtime says the file changed.
  dir.SetMtime("cached.prom", 1'600'000'001);
  CollectResult r = collector.Collect(Tick());
  EXPECT_EQ(Value(r, "cached_metric"), 2.0);
  EXPECT_EQ(Mtime(r, dir.path("cached.prom")), 1'600'000'001.0);
  // Each tick's samples carry that tick's time, cached or not.
  CollectContext later = Tick();
  later.wall_ms += 60'000;
  EXPECT_EQ(FindFamily(collector.Collect(later), "cached_metric")->samples[0].timestamp_ms,
            kTickMs + 60'000);
}

TEST(TextfileCollector, FreshFileIsReadAgainEvenIfItLooksUnchanged) {
  TextfileDir dir;
  dir.Write("fresh.prom", "fresh_metric 1\n");  // mtime: now
  TextfileCollector collector = Make(dir);
  EXPECT_EQ(Value(collector.Collect(Tick()), "fresh_metric"), 1.0);
  struct stat before {};
  ASSERT_EQ(::stat(dir.path("fresh.prom").c_str(), &before), 0);
  dir.Write("fresh.prom", "fresh_metric 2\n");
  const timespec times[2] = {before.st_mtim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, dir.path("fresh.prom").c_str(), times, 0), 0);
  EXPECT_EQ(Value(collector.Collect(Tick()), "fresh_metric"), 2.0);
}

}  // namespace
}  // namespace metricsd
