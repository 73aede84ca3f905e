// The rows of every scalar option (see option_row.h), grouped by the aggregate they fill.
// Internal to src/config and its tests.
#pragma once

#include <vector>

#include "config/option_row.h"
#include "config/options.h"

namespace metricsd::config {

// Keys relative to the file's root: server.*, collector.*, scrape.*, global_labels ...
std::vector<OptionRow<Config>> ConfigRows();
// Keys of the "shipper" block and of every "shippers" entry.
std::vector<OptionRow<ShipperOptions>> ShipperRows();
// Keys only a "shippers" entry has (its name).
std::vector<OptionRow<ShipperOptions>> ShipperListRows();
// Keys of every "endpoints" entry. Its limits start as the global scrape.* values, so that a
// key the entry leaves out keeps them.
std::vector<OptionRow<EndpointOptions>> EndpointRows();

inline constexpr EnumName<LogLevel> kLogLevelNames[] = {{"debug", LogLevel::kDebug},
                                                        {"info", LogLevel::kInfo},
                                                        {"warn", LogLevel::kWarn},
                                                        {"warning", LogLevel::kWarn, true},
                                                        {"error", LogLevel::kError}};

inline constexpr EnumName<ShipperType> kShipperTypeNames[] = {
    {"prometheus_remote_write", ShipperType::kPrometheusRemoteWrite},
    {"http_json", ShipperType::kHttpJson},
    {"influx_line", ShipperType::kInfluxLine}};

}  // namespace metricsd::config
