// metricsd-net.so: exports metricsd_net_open (net/net_module_abi.h), nothing else; every
// other symbol is hidden (see src/net/CMakeLists.txt).
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <memory>
#include <mutex>

#include "core/version.h"
#include "net/builtin_net_api.h"
#include "net/net_module_abi.h"

namespace {

// Hands every line to the daemon, whose logger filters, formats and writes it.
class ForwardingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ForwardingSink(metricsd::NetLogFn log) : log_(log) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    log_(static_cast<int>(msg.level), msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  metricsd::NetLogFn log_;
};

}  // namespace

extern "C" __attribute__((visibility("default"))) metricsd::NetApi* metricsd_net_open(
    const char* version, const char* compiler, metricsd::NetLogFn log) {
  if (version == nullptr || compiler == nullptr || log == nullptr ||
      std::strcmp(version, metricsd::kVersion) != 0 || std::strcmp(compiler, __VERSION__) != 0) {
    return nullptr;
  }
  // The module's own spdlog registry: its default logger forwards everything.
  auto logger = std::make_shared<spdlog::logger>("metricsd", std::make_shared<ForwardingSink>(log));
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
  return metricsd::MakeBuiltinNetApi().release();
}
