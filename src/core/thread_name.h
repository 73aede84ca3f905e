// Names the calling thread as `top -H`, `ps -L` and debuggers show it (Linux keeps 15 bytes;
// longer names are cut). Best effort: a failure changes nothing else.
#pragma once

#include <sys/prctl.h>

#include <string>
#include <string_view>

namespace metricsd {

inline void SetCurrentThreadName(std::string_view name) noexcept {
  char buf[16] = {};
  name.copy(buf, sizeof buf - 1);
  (void)::prctl(PR_SET_NAME, buf, 0, 0, 0);
}

}  // namespace metricsd
