// Loads the configuration: JSON file (or the embedded default), then the MC_* environment
// variables, then validation of everything. All errors are collected, each naming the key
// path (e.g. "shipper.tls.min_version") or the variable; unknown keys become warnings.
// Throws nothing; the caller turns an error into a message and a non-zero exit.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"
#include "core/result.h"

namespace metricsd::config {

// The configuration used when no -config is given and ./config.json does not exist:
// the documented defaults, no shipper (pull mode: /metrics only).
extern const std::string_view kEmbeddedDefaultConfig;

using EnvLookup = std::function<const char*(const char*)>;

struct Loaded {
  Config config;
  std::string source;                 // file path, or "embedded default"
  std::vector<std::string> warnings;  // unknown keys, insecure settings
};

// Parses `text` as the configuration file named `source`. `env` defaults to getenv.
Result<Loaded> LoadFromText(std::string_view text, std::string source, const EnvLookup& env = {});

// Reads `path` and calls LoadFromText.
Result<Loaded> LoadFromFile(const std::string& path, const EnvLookup& env = {});

// The effective configuration as indented JSON, with passwords, tokens and
// authorization-like header values replaced by "<redacted>".
std::string RenderEffectiveConfig(const Config& config);

std::optional<LogLevel> ParseLogLevel(std::string_view text);
std::string_view LogLevelName(LogLevel level);
std::string_view ShipperTypeName(ShipperType type);

}  // namespace metricsd::config
