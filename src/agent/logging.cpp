#include "agent/logging.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>

#include "formats/http_json_encoder.h"

namespace metricsd {

namespace {

// The process's one log sink: stderr as text (coloured on a terminal) or as JSON lines,
// switched in place. The logger around it is never replaced after the first set-up: spdlog
// 1.10's spdlog::info() calls through a raw pointer to the default logger
// (registry::get_default_raw), so replacing it while another thread logs would free the
// logger under that thread.
class StderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit StderrSink(bool colour)
      : text_(colour ? spdlog::color_mode::automatic : spdlog::color_mode::never) {
    text_.set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ %v");
  }

  void set_json(bool json) {
    std::lock_guard lock(mutex_);
    json_ = json;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (json_) {
      WriteJson(msg);
    } else {
      text_.log(msg);
    }
  }
  void flush_() override { std::fflush(stderr); }

 private:
  void WriteJson(const spdlog::details::log_msg& msg) {
    using namespace std::chrono;
    auto since_epoch = msg.time.time_since_epoch();
    std::time_t seconds = duration_cast<std::chrono::seconds>(since_epoch).count();
    auto millis = duration_cast<milliseconds>(since_epoch).count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[40];
    std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(millis));
    line_.clear();
    line_ += "{\"time\":\"";
    line_ += stamp;
    line_ += "\",\"level\":\"";
    auto level = spdlog::level::to_string_view(msg.level);
    line_.append(level.data(), level.size());
    line_ += "\",\"msg\":";
    // Same escaping as the HTTP JSON payload: quotes, controls, invalid UTF-8 made safe.
    formats::AppendJsonString(line_, std::string_view(msg.payload.data(), msg.payload.size()));
    line_ += "}\n";
    std::fwrite(line_.data(), 1, line_.size(), stderr);
  }

  spdlog::sinks::stderr_color_sink_st text_;  // used under mutex_ only
  bool json_ = false;                         // guarded by mutex_
  std::string line_;                          // guarded by mutex_
};

spdlog::level::level_enum ToSpdlog(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::kDebug:
      return spdlog::level::debug;
    case config::LogLevel::kInfo:
      return spdlog::level::info;
    case config::LogLevel::kWarn:
      return spdlog::level::warn;
    case config::LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void SetUpLogging(config::LogLevel level, config::LogFormat format) {
  std::shared_ptr<spdlog::logger> logger = spdlog::default_logger();
  std::shared_ptr<StderrSink> sink;
  if (logger != nullptr && logger->sinks().size() == 1) {
    sink = std::dynamic_pointer_cast<StderrSink>(logger->sinks().front());
  }
  if (sink == nullptr) {
    bool colour = ::isatty(STDERR_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
    sink = std::make_shared<StderrSink>(colour);
    sink->set_json(format == config::LogFormat::kJson);
    logger = std::make_shared<spdlog::logger>("metricsd", sink);
    logger->set_level(ToSpdlog(level));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(std::move(logger));
    return;
  }
  // Both are thread-safe: the sink's flag is under its mutex, the level is atomic.
  sink->set_json(format == config::LogFormat::kJson);
  logger->set_level(ToSpdlog(level));
}

}  // namespace metricsd
