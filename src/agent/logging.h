// Process-wide logging set-up (spdlog's default logger), called by main only.
// Text on stderr, coloured only when stderr is a terminal and NO_COLOR is unset;
// or one JSON object per line ({"time","level","msg"}) for log collectors.
#pragma once

#include "config/options.h"

namespace metricsd {

void SetUpLogging(config::LogLevel level, config::LogFormat format);

}  // namespace metricsd
