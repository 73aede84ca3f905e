// The one symbol metricsd-net.so exports, shared by the module and its loader.
#pragma once

#include <cstddef>

namespace metricsd {

class NetApi;

// The module's log lines go to the daemon's logger through this: each side has its own
// (header-only) spdlog, so the module cannot reach the daemon's logger directly. level is an
// spdlog::level::level_enum; message is the unformatted text, not NUL-terminated.
using NetLogFn = void (*)(int level, const char* message, std::size_t length);

// Entry point name and signature: NetApi* metricsd_net_open(const char* version,
// const char* compiler, NetLogFn log). Returns a new NetApi (the caller owns it and deletes it
// before dlclose), or null when the caller's metricsd version (kVersion) or compiler (__VERSION__)
// is not the module's own: the two pass C++ objects to each other, so they must be built
// from the same sources by the same compiler.
inline constexpr const char* kNetModuleEntry = "metricsd_net_open";
using NetModuleEntry = NetApi* (*)(const char* version, const char* compiler, NetLogFn log);

// The module's file name; see net/net_module.h for where it is looked for.
inline constexpr const char* kNetModuleFile = "metricsd-net.so";

}  // namespace metricsd
