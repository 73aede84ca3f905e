// The table of every configuration key: its type, default, environment variable and help,
// made from the rows the loader reads with (config_rows.h), so -help and the README's
// configuration table (checked by a test) agree with the code. Keys inside arrays are written
// "[]"; "shippers[]" entries accept every "shipper." key plus "name".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace metricsd::config {

struct OptionInfo {
  std::string key;
  std::string_view type;  // bool, int, string, duration, regex, list, map, tls-version, object
  std::string default_value;
  std::string_view env;  // empty when there is no MC_* variable
  std::string_view help;
  // False where the table shows prose ("system roots") instead of the rendered code default.
  bool default_from_code = true;
};

std::vector<OptionInfo> AllOptions();

// One Markdown table of AllOptions(): | key | type | default | env | description |
std::string RenderOptionsMarkdown();

// A Markdown table of the MC_* variables only.
std::string RenderEnvMarkdown();

}  // namespace metricsd::config
