#include "net/net_module.h"

#include <dlfcn.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "core/version.h"
#include "net/net_module_abi.h"

namespace metricsd {

namespace {

std::string DlError() {
  const char* text = ::dlerror();
  return text != nullptr ? std::string(text) : std::string("unknown dlopen error");
}

// The module's log lines, into whatever logger is the default at the time.
void LogFromModule(int level, const char* message, std::size_t length) {
  spdlog::default_logger_raw()->log(static_cast<spdlog::level::level_enum>(level),
                                    std::string_view(message, length));
}

struct DlClose {
  void operator()(void* handle) const noexcept { ::dlclose(handle); }
};
using DlHandle = std::unique_ptr<void, DlClose>;

// Owns the module: api is destroyed (curl_global_cleanup) before the handle is closed.
struct LoadedModule {
  DlHandle handle;
  std::unique_ptr<NetApi> api;
};

}  // namespace

std::vector<std::string> NetModulePaths() {
  std::error_code error;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
  std::filesystem::path dir = error ? std::filesystem::path(".") : exe.parent_path();
  return {(dir / ".." / "lib" / "metricsd" / kNetModuleFile).lexically_normal().string(),
          (dir / kNetModuleFile).string()};
}

Result<std::shared_ptr<const NetApi>> LoadNetModule(const std::string& path) {
  ::dlerror();
  DlHandle handle(::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE));
  if (!handle) {
    return Error{"cannot load the network module " + path + ": " + DlError()};
  }
  auto entry = reinterpret_cast<NetModuleEntry>(::dlsym(handle.get(), kNetModuleEntry));
  if (entry == nullptr) {
    return Error{"the network module " + path + " has no " + kNetModuleEntry +
                 " entry point: not a metricsd module"};
  }
  std::unique_ptr<NetApi> api(entry(kVersion, __VERSION__, &LogFromModule));
  if (!api) {
    return Error{"the network module " + path + " is from another metricsd build (this is " +
                 kVersion + "); install the binary and its module together"};
  }
  auto module = std::make_shared<LoadedModule>(LoadedModule{std::move(handle), std::move(api)});
  // Aliasing: callers see the NetApi, and keep the whole module alive.
  return std::shared_ptr<const NetApi>(module, module->api.get());
}

Result<std::shared_ptr<const NetApi>> LoadNetModule() {
  std::vector<std::string> paths = NetModulePaths();
  for (const std::string& path : paths) {
    if (::access(path.c_str(), F_OK) == 0) {
      return LoadNetModule(path);
    }
  }
  std::string tried;
  for (const std::string& path : paths) {
    tried += (tried.empty() ? "" : ", ") + path;
  }
  return Error{
      "the configuration has shippers or scrape endpoints, which need the network module " +
      std::string(kNetModuleFile) + ", but it is not installed (looked for " + tried + ")"};
}

}  // namespace metricsd
