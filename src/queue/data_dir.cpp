#include "queue/data_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace metricsd::queue {
namespace {

bool UsableDir(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    if (!CreatePrivateDirs(dir).ok() || !std::filesystem::is_directory(dir, ec)) {
      return false;
    }
  }
  return ::access(dir.c_str(), W_OK | X_OK) == 0;
}

}  // namespace

Status CreatePrivateDirs(const std::string& dir) {
  std::filesystem::path partial;
  for (const std::filesystem::path& part : std::filesystem::path(dir)) {
    partial /= part;
    if (::mkdir(partial.c_str(), 0700) == 0) {
      // mkdir's mode is masked by the umask; chmod is not.
      if (::chmod(partial.c_str(), 0700) != 0) {
        return Error{"cannot chmod " + partial.string() + ": " + std::strerror(errno)};
      }
    } else if (errno != EEXIST) {
      return Error{"cannot create " + partial.string() + ": " + std::strerror(errno)};
    }
  }
  return Status::Ok();
}

std::string ResolveDataDir(const std::string& configured, const std::string& config_path,
                           const std::string& system_dir) {
  if (!configured.empty()) {
    return configured;
  }
  if (!system_dir.empty() && UsableDir(system_dir)) {
    return system_dir;
  }
  std::error_code ec;
  std::filesystem::path base;
  if (!config_path.empty()) {
    base = std::filesystem::absolute(config_path, ec).parent_path();
  }
  if (base.empty()) {
    base = std::filesystem::current_path(ec);
  }
  return (base / "data").string();
}

std::string ShipperDataDir(const std::string& data_dir, const std::string& shipper_name) {
  std::string name;
  name.reserve(shipper_name.size() + 1);
  for (char c : shipper_name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    name.push_back(keep ? c : '_');
  }
  if (name.empty() || name == "." || name == "..") {
    name.insert(name.begin(), '_');
  }
  std::string dir = data_dir;
  if (!dir.empty() && dir.back() != '/') {
    dir.push_back('/');
  }
  return dir + name;
}

}  // namespace metricsd::queue
