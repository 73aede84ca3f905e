// The table of every configuration key: its type, default, environment variable and help.
// The loader, -help, the README's configuration table (checked by a test) and the
// effective-config printer all agree with it. Keys inside arrays are written "[]";
// "shippers[]" entries accept every "shipper." key plus "name".
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace metricsd::config {

struct OptionInfo {
  std::string_view key;
  std::string_view type;  // bool, int, string, duration, regex, list, map, tls-version
  std::string_view default_value;
  std::string_view env;  // empty when there is no MC_* variable
  std::string_view help;
};

std::span<const OptionInfo> AllOptions();

// One Markdown table of AllOptions(): | key | type | default | env | description |
std::string RenderOptionsMarkdown();

// A Markdown table of the MC_* variables only.
std::string RenderEnvMarkdown();

}  // namespace metricsd::config
