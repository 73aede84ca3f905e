#include "procfs/proc_mountinfo.h"

#include "procfs/text.h"

namespace metricsd::procfs {

bool ParseMountinfoLine(std::string_view line, MountinfoLine& out) noexcept {
  out = MountinfoLine{};
  if (!ParseU32(NextField(line), out.mount_id) || !ParseU32(NextField(line), out.parent_id)) {
    return false;
  }
  const std::string_view dev = NextField(line);
  const std::size_t colon = dev.find(':');
  if (colon == std::string_view::npos || !ParseU32(dev.substr(0, colon), out.major) ||
      !ParseU32(dev.substr(colon + 1), out.minor)) {
    return false;
  }
  out.root = NextField(line);
  out.mount_point = NextField(line);
  out.mount_options = NextField(line);
  // Zero or more optional fields ("shared:1", "master:2") end at a lone "-".
  for (;;) {
    const std::string_view field = NextField(line);
    if (field.empty()) {
      return false;
    }
    if (field == "-") {
      break;
    }
  }
  out.fstype = NextField(line);
  out.source = NextField(line);
  out.super_options = NextField(line);
  return !out.mount_point.empty() && !out.fstype.empty();
}

std::string UnescapeMountField(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    const char c = field[i];
    if (c == '\\' && i + 3 < field.size()) {
      const char a = field[i + 1];
      const char b = field[i + 2];
      const char d = field[i + 3];
      if (a >= '0' && a <= '3' && b >= '0' && b <= '7' && d >= '0' && d <= '7') {
        out.push_back(static_cast<char>((a - '0') * 64 + (b - '0') * 8 + (d - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace metricsd::procfs
