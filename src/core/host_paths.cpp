#include "core/host_paths.h"

#include <cstdlib>

namespace metricsd {

namespace {
std::string EnvOr(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return fallback;
  }
  return value;
}
}  // namespace

HostPaths HostPaths::FromEnvironment() {
  return HostPaths{
      .proc = EnvOr("HOST_PROC", "/proc"),
      .sys = EnvOr("HOST_SYS", "/sys"),
      .root = EnvOr("HOST_ROOT", "/"),
  };
}

std::string HostPaths::Join(std::string_view base, std::string_view relative) {
  while (!relative.empty() && relative.front() == '/') {
    relative.remove_prefix(1);
  }
  std::string out(base);
  while (out.size() > 1 && out.back() == '/') {
    out.pop_back();
  }
  if (relative.empty()) {
    return out.empty() ? "/" : out;
  }
  if (out.empty() || out.back() != '/') {
    out.push_back('/');
  }
  out.append(relative);
  return out;
}

}  // namespace metricsd
