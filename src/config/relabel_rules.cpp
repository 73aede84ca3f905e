#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/option_row.h"
#include "relabel/relabel.h"

namespace metricsd::config {
namespace {

using Rules = std::vector<RelabelRule>;

// One field of a rule object; false (with the error reported) when it has the wrong type.
bool ReadString(const Json& value, std::string& out, const std::string& path, Diagnostics& diag) {
  if (!value.is_string()) {
    diag.Error(path, "expected a string, got " + DescribeJson(value));
    return false;
  }
  out = value.get<std::string>();
  return true;
}

void ReadRule(const Json& object, RelabelRule& rule, const std::string& path, Diagnostics& diag) {
  for (const auto& [key, value] : object.items()) {
    const std::string at = path + "." + key;
    if (key == "source_labels") {
      if (!value.is_array()) {
        diag.Error(at, "expected an array of label names, got " + DescribeJson(value));
        continue;
      }
      rule.source_labels.clear();
      for (std::size_t i = 0; i < value.size(); ++i) {
        std::string name;
        if (ReadString(value[i], name, at + "[" + std::to_string(i) + "]", diag)) {
          rule.source_labels.push_back(std::move(name));
        }
      }
    } else if (key == "separator") {
      ReadString(value, rule.separator, at, diag);
    } else if (key == "regex") {
      ReadString(value, rule.regex, at, diag);
    } else if (key == "target_label") {
      ReadString(value, rule.target_label, at, diag);
    } else if (key == "replacement") {
      ReadString(value, rule.replacement, at, diag);
    } else if (key == "action") {
      ReadString(value, rule.action, at, diag);
    } else if (key == "modulus") {
      if (!value.is_number_unsigned()) {
        diag.Error(at, "expected a non-negative integer, got " + DescribeJson(value));
        continue;
      }
      rule.modulus = value.get<std::uint64_t>();
    } else {
      // Prometheus refuses unknown fields of a relabel_config; a typo would silently change
      // what the rule does.
      diag.Error(at,
                 "unknown field of a relabel rule (source_labels, separator, regex, "
                 "modulus, target_label, replacement or action)");
    }
  }
}

}  // namespace

Codec<Rules> RelabelRulesCodec() {
  return {
      .type = "relabel rules",
      .from_json =
          [](const Json& v, Rules& out, const std::string& path, Diagnostics& diag) {
            if (!v.is_array()) {
              diag.Error(path, "expected an array of relabel rules, got " + DescribeJson(v));
              return;
            }
            out.clear();
            for (std::size_t i = 0; i < v.size(); ++i) {
              const std::string at = path + "[" + std::to_string(i) + "]";
              if (!v[i].is_object()) {
                diag.Error(at, "expected a relabel rule object, got " + DescribeJson(v[i]));
                continue;
              }
              ReadRule(v[i], out.emplace_back(), at, diag);
            }
          },
      .to_json =
          [](const Rules& rules) {
            Json list = Json::array();
            for (const RelabelRule& rule : rules) {
              list.push_back(Json{{"source_labels", rule.source_labels},
                                  {"separator", rule.separator},
                                  {"regex", rule.regex},
                                  {"modulus", rule.modulus},
                                  {"target_label", rule.target_label},
                                  {"replacement", rule.replacement},
                                  {"action", rule.action}});
            }
            return list;
          },
      .check =
          [](const Rules& rules, const std::string& path, Diagnostics& diag) {
            Result<RelabelProgram> program = RelabelProgram::Compile(rules);
            if (program) {
              return;
            }
            // "[1].regex: why" names the rule and field within the list.
            const std::string& error = program.error();
            const std::size_t colon = error.find(": ");
            if (colon == std::string::npos) {
              diag.Error(path, error);
            } else {
              diag.Error(path + error.substr(0, colon), error.substr(colon + 2));
            }
          },
  };
}

}  // namespace metricsd::config
