// Process-wide logging set-up (spdlog's default logger), called by main only.
// Text on stderr, coloured only when stderr is a terminal and NO_COLOR is unset;
// or one JSON object per line ({"time","level","msg"}) for log collectors.
// The first call installs the logger and must come before other threads log; later calls
// (a reload) change its level and format in place, safely while other threads log.
#pragma once

#include "config/options.h"

namespace metricsd {

void SetUpLogging(config::LogLevel level, config::LogFormat format);

}  // namespace metricsd
