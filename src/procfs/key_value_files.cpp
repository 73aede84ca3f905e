#include "procfs/key_value_files.h"

#include "procfs/text.h"

namespace metricsd::procfs {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (IsBlank(s.front()) || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (IsBlank(s.back()) || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string UnquoteShellValue(std::string_view v) {
  std::string out;
  if (!v.empty() && v.front() == '\'') {
    const std::size_t end = v.find('\'', 1);
    return std::string(v.substr(1, end == std::string_view::npos ? v.size() - 1 : end - 1));
  }
  if (!v.empty() && v.front() == '"') {
    for (std::size_t i = 1; i < v.size(); ++i) {
      const char c = v[i];
      if (c == '"') {
        break;
      }
      if (c == '\\' && i + 1 < v.size()) {
        const char next = v[i + 1];
        if (next == '"' || next == '\\' || next == '$' || next == '`') {
          out.push_back(next);
          ++i;
          continue;
        }
      }
      out.push_back(c);
    }
    return out;
  }
  // Bare: backslash quotes the next character; a blank ends the value.
  for (std::size_t i = 0; i < v.size() && !IsBlank(v[i]); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      ++i;
    }
    out.push_back(v[i]);
  }
  return out;
}

}  // namespace

KeyValues ParseOsRelease(std::string_view text) {
  KeyValues out;
  while (!text.empty()) {
    std::string_view line = Trim(NextLine(text));
    if (line.empty() || line.front() == '#') {
      continue;
    }
    if (line.substr(0, 7) == "export ") {
      line = Trim(line.substr(7));
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      continue;
    }
    out.insert_or_assign(std::string(Trim(line.substr(0, eq))),
                         UnquoteShellValue(Trim(line.substr(eq + 1))));
  }
  return out;
}

KeyValues ParseUdevProperties(std::string_view text) {
  KeyValues out;
  while (!text.empty()) {
    std::string_view line = NextLine(text);
    if (line.substr(0, 2) != "E:") {
      continue;
    }
    line.remove_prefix(2);
    const std::size_t eq = line.find('=');
    if (eq != std::string_view::npos) {
      out.insert_or_assign(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
    }
  }
  return out;
}

}  // namespace metricsd::procfs
