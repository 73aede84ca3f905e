#include "agent/logging.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace metricsd {
namespace {

// Sends fd 2 to a file for the life of the object.
class StderrToFile {
 public:
  StderrToFile()
      : path_(std::filesystem::temp_directory_path() /
              ("metricsd-log-" + std::to_string(::getpid()))),
        saved_(::dup(STDERR_FILENO)) {
    std::fflush(stderr);
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  ~StderrToFile() {
    Restore();
    std::filesystem::remove(path_);
  }
  StderrToFile(const StderrToFile&) = delete;
  StderrToFile& operator=(const StderrToFile&) = delete;

  // Puts stderr back and returns what was written to it.
  std::string Restore() {
    if (saved_ >= 0) {
      std::fflush(stderr);
      ::dup2(saved_, STDERR_FILENO);
      ::close(saved_);
      saved_ = -1;
    }
    std::ifstream in(path_);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

 private:
  std::filesystem::path path_;
  int saved_;
};

TEST(Logging, ReconfiguringWhileOtherThreadsLogKeepsOneLogger) {
  StderrToFile captured;
  SetUpLogging(config::LogLevel::kInfo, config::LogFormat::kText);
  spdlog::logger* const installed = spdlog::default_logger_raw();

  std::atomic<bool> stop{false};
  std::atomic<int> lines{0};
  std::vector<std::jthread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      while (!stop.load()) {
        spdlog::error("thread {} line {}", t, lines.fetch_add(1));
        spdlog::debug("thread {} detail", t);
      }
    });
  }
  while (lines.load() < 100) {
    std::this_thread::yield();
  }
  // What SIGHUP does, many times, while the threads log (a race here is what ASan and TSan
  // see; the pointer check fails without them).
  bool same_logger = true;
  for (int i = 0; i < 300; ++i) {
    SetUpLogging(i % 2 == 0 ? config::LogLevel::kDebug : config::LogLevel::kError,
                 i % 3 == 0 ? config::LogFormat::kJson : config::LogFormat::kText);
    same_logger = same_logger && spdlog::default_logger_raw() == installed;
  }
  stop = true;
  threads.clear();
  SetUpLogging(config::LogLevel::kInfo, config::LogFormat::kJson);
  spdlog::info("last");
  const std::string out = captured.Restore();

  // Threads hold a raw pointer to the default logger (spdlog::error): it must stay the same
  // object, configured in place.
  EXPECT_TRUE(same_logger);
  // Every line is whole, in one of the two formats.
  std::istringstream in(out);
  int checked = 0;
  for (std::string line; std::getline(in, line); ++checked) {
    const bool json = line.starts_with("{\"time\":\"") && line.ends_with("\"}");
    const bool text = line.size() > 24 && line[4] == '-' && line[10] == 'T';
    EXPECT_TRUE(json || text) << line;
    EXPECT_TRUE(line.find("thread ") != std::string::npos || line.ends_with("last\"}")) << line;
  }
  EXPECT_GT(checked, 100);
  EXPECT_TRUE(out.ends_with("\"msg\":\"last\"}\n"))
      << out.substr(out.size() > 200 ? out.size() - 200 : 0);
}

}  // namespace
}  // namespace metricsd
