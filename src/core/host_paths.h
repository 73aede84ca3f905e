// Where the host's /proc, /sys and / are. Built once at start-up from HOST_PROC,
// HOST_SYS and HOST_ROOT so that metricsd in a container with the host mounted read-only
// reports the host; tests point it at fixture trees. Immutable after construction.
#pragma once

#include <string>
#include <string_view>

namespace metricsd {

struct HostPaths {
  std::string proc = "/proc";
  std::string sys = "/sys";
  std::string root = "/";

  // Reads HOST_PROC, HOST_SYS and HOST_ROOT; unset or empty variables keep the defaults.
  static HostPaths FromEnvironment();

  std::string Proc(std::string_view relative) const { return Join(proc, relative); }
  std::string Sys(std::string_view relative) const { return Join(sys, relative); }
  // A path of the host's mount namespace (e.g. a mountpoint) as seen from here.
  std::string Root(std::string_view absolute) const { return Join(root, absolute); }

  static std::string Join(std::string_view base, std::string_view relative);
};

}  // namespace metricsd
