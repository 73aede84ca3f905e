// Command-line flags, parsed the way Go's flag package did for the original metricsd:
// "-flag" and "--flag", "-flag=value" and "-flag value" (not for booleans, which take
// "-flag" or "-flag=true|false"), "--" ends the flags. Pure: no I/O, no exit.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace metricsd {

struct Flags {
  std::optional<std::string> config_path;  // -config
  std::optional<std::string> log_level;    // -log-level
  bool version = false;                    // -version
  bool help = false;                       // -help, -h
  bool check_config = false;               // -check-config
  bool once = false;                       // -once
  std::vector<std::string> positional;     // ignored with a warning
};

Result<Flags> ParseFlags(const std::vector<std::string>& args);

// The -help text (flags, exit codes, environment variables from the option table).
std::string UsageText(const std::string& program);

}  // namespace metricsd
