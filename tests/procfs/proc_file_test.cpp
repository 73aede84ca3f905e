#include "procfs/proc_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "procfs/proc_pids.h"

namespace metricsd::procfs {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "procfile-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void Write(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

TEST(ProcFile, ReadsWholeFileAndGrowsItsBuffer) {
  TempDir dir;
  std::string content;
  for (int i = 0; i < 2000; ++i) {
    content += "line " + std::to_string(i) + "\n";
  }
  Write(dir.File("big"), content);
  ProcFile file(dir.File("big"), 64);
  auto text = file.Read();
  ASSERT_TRUE(text.ok()) << text.error();
  EXPECT_EQ(*text, content);
  EXPECT_GE(file.capacity(), content.size());
  // A second read reuses the grown buffer and sees the same bytes.
  auto again = file.Read();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, content);
}

TEST(ProcFile, SingleShotFilesComeBackWholeToo) {
  TempDir dir;
  std::string content(10000, 'x');
  Write(dir.File("big"), content);
  ProcFile file(dir.File("big"), 64, ProcFile::ReadMode::kSingleShot);
  EXPECT_EQ(*file.Read(), content);
  ProcFile stat("/proc/stat", 64, ProcFile::ReadMode::kSingleShot);
  auto text = stat.Read();
  ASSERT_TRUE(text.ok()) << text.error();
  EXPECT_EQ(text->substr(0, 4), "cpu ");
  EXPECT_NE(text->find("\nbtime "), std::string_view::npos);
  EXPECT_EQ(text->back(), '\n');
}

TEST(ProcFile, SeesNewContentOnEachRead) {
  TempDir dir;
  Write(dir.File("f"), "first\n");
  ProcFile file(dir.File("f"));
  ASSERT_EQ(*file.Read(), "first\n");
  Write(dir.File("f"), "second, longer\n");
  ASSERT_EQ(*file.Read(), "second, longer\n");
  Write(dir.File("f"), "");
  ASSERT_EQ(*file.Read(), "");
}

TEST(ProcFile, ReportsMissingFileAndRecoversWhenItAppears) {
  TempDir dir;
  ProcFile file(dir.File("later"));
  auto missing = file.Read();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(file.last_errno(), ENOENT);
  EXPECT_NE(missing.error().find("later"), std::string::npos);
  Write(dir.File("later"), "now\n");
  auto text = file.Read();
  ASSERT_TRUE(text.ok()) << text.error();
  EXPECT_EQ(*text, "now\n");
  EXPECT_EQ(file.last_errno(), 0);
}

TEST(ProcFile, ReadErrorClosesAndReportsErrno) {
  TempDir dir;
  std::filesystem::create_directory(dir.File("d"));
  ProcFile file(dir.File("d"));
  auto result = file.Read();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(file.last_errno(), EISDIR);
}

TEST(ProcFile, ReadsRealProcFiles) {
  ProcFile stat("/proc/stat", 64);
  auto text = stat.Read();
  ASSERT_TRUE(text.ok()) << text.error();
  EXPECT_EQ(text->substr(0, 4), "cpu ");
  EXPECT_EQ(text->back(), '\n');
  // seq_file hands out records a page at a time: the whole mount table must still come back.
  ProcFile mounts("/proc/self/mountinfo", 64);
  auto table = mounts.Read();
  ASSERT_TRUE(table.ok()) << table.error();
  EXPECT_EQ(table->back(), '\n');
}

TEST(ProcPidCounter, CountsNumericDirectoriesOnly) {
  TempDir dir;
  for (const char* name : {"1", "42", "self", "net", "123abc"}) {
    std::filesystem::create_directory(dir.File(name));
  }
  Write(dir.File("7"), "a file, not a process\n");
  ProcPidCounter counter(dir.File(""));
  auto count = counter.Count();
  ASSERT_TRUE(count.ok()) << count.error();
  EXPECT_EQ(*count, 2u);
  std::filesystem::create_directory(dir.File("99"));
  EXPECT_EQ(*counter.Count(), 3u);
}

TEST(ProcPidCounter, NewNonPidDirectoryIsNoticedAtRecalibration) {
  TempDir dir;
  for (const char* name : {"1", "2", "sys"}) {
    std::filesystem::create_directory(dir.File(name));
  }
  ProcPidCounter counter(dir.File(""));
  ASSERT_EQ(*counter.Count(), 2u);
  std::filesystem::create_directory(dir.File("driver"));
  // Until the next calibration a new static directory could be taken for a process; the
  // periodic listing puts it right.
  for (int i = 0; i < ProcPidCounter::kRecalibrateEvery; ++i) {
    (void)counter.Count();
  }
  EXPECT_EQ(*counter.Count(), 2u);
}

TEST(ProcPidCounter, MissingDirectoryIsAnError) {
  ProcPidCounter counter("/nonexistent/proc");
  EXPECT_FALSE(counter.Count().ok());
}

std::uint64_t ListPids(const char* dir) {
  std::uint64_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.find_first_not_of("0123456789") == std::string::npos) {
      ++n;
    }
  }
  return n;
}

TEST(ProcPidCounter, AgreesWithAListingOfRealProc) {
  ProcPidCounter counter("/proc");
  for (int i = 0; i < 5; ++i) {
    auto count = counter.Count();
    ASSERT_TRUE(count.ok()) << count.error();
    // Other processes come and go on the machine between the two counts.
    const auto listed = static_cast<double>(ListPids("/proc"));
    EXPECT_NEAR(static_cast<double>(*count), listed, 10.0);
    EXPECT_GE(*count, 1u);
  }
}

}  // namespace
}  // namespace metricsd::procfs
