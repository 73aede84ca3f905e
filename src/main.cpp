// metricsd entry point: parses the flags and dispatches to the daemon or a one-shot mode
// (agent/daemon.h).
#include <cstdio>
#include <string>
#include <vector>

#include "agent/daemon.h"
#include "cli/flags.h"
#include "config/config_loader.h"
#include "core/host_paths.h"
#include "core/version.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::string program = argc > 0 ? argv[0] : "metricsd";
  auto flags = metricsd::ParseFlags(args);
  if (!flags.ok()) {
    std::fprintf(stderr, "%s\n%s", flags.error().c_str(), metricsd::UsageText(program).c_str());
    return metricsd::kExitUsage;
  }
  if (flags->help) {
    std::fputs(metricsd::UsageText(program).c_str(), stdout);
    return 0;
  }
  if (flags->version) {
    std::printf("metricsd %s\n", metricsd::kVersion);
    return 0;
  }
  if (flags->log_level && !metricsd::config::ParseLogLevel(*flags->log_level)) {
    std::fprintf(stderr, "-log-level: unknown level \"%s\" (expected debug, info, warn or error)\n",
                 flags->log_level->c_str());
    return metricsd::kExitUsage;
  }
  if (!flags->positional.empty()) {
    std::fprintf(stderr, "warning: ignoring unexpected arguments starting with \"%s\"\n",
                 flags->positional.front().c_str());
  }

  const metricsd::ConfigChoice choice = metricsd::ChooseConfig(*flags);
  if (flags->check_config) {
    return metricsd::CheckConfig(choice);
  }
  const metricsd::HostPaths paths = metricsd::HostPaths::FromEnvironment();
  if (flags->once) {
    return metricsd::CollectOnce(choice, paths);
  }
  metricsd::Daemon daemon(choice, paths);
  return daemon.Run();
}
