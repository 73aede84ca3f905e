// Where the on-disk queues live. Pure path logic plus one writability probe; thread-safe.
#pragma once

#include <string>

#include "core/result.h"

namespace metricsd::queue {

inline constexpr const char* kDefaultDataDir = "/var/lib/metricsd";

// The data directory to use: `configured` (config key data_dir, or MC_DATA_DIR) when set;
// else `system_dir` when it exists and is writable or can be created; else a "data" folder
// beside the config file, or in the working directory when there is no config file. The
// result is absolute except when `configured` is relative (then it is returned as given).
std::string ResolveDataDir(const std::string& configured, const std::string& config_path,
                           const std::string& system_dir = kDefaultDataDir);

// Creates `dir` and its missing parents with mode 0700 whatever the umask: queued batches are
// the host's metrics and may carry labels nobody else should read. Directories that already
// exist are left as they are (the operator chose their mode).
Status CreatePrivateDirs(const std::string& dir);

// <data_dir>/<shipper name>, the name reduced to [A-Za-z0-9._-] (anything else becomes '_',
// and "", "." and ".." become "_", "_.", "_..") so that a name can never leave data_dir.
std::string ShipperDataDir(const std::string& data_dir, const std::string& shipper_name);

}  // namespace metricsd::queue
