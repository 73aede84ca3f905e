// LoadNetModule: dlopens metricsd-net.so and returns its NetApi (see net/net_api.h for why
// the network stack is a module).
//
// Where the module is looked for, relative to the running executable (/proc/self/exe), so
// that the same binary works wherever its tree is installed:
//   <exe dir>/../lib/metricsd/metricsd-net.so   installed (.deb: /usr/lib/metricsd, the
//                                               container image likewise)
//   <exe dir>/metricsd-net.so                   the build tree (build/src)
// The first that exists is loaded; a failure names every path tried and dlopen's reason.
//
// The module is opened RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE: OpenSSL registers exit
// handlers and thread-local destructors, so its code must stay mapped until the process
// ends. The returned pointer owns the NetApi (which initialised libcurl) and the dlopen
// handle; drop every object it made before the last copy of it.
//
// Call from the main thread before starting threads that use the network (curl_global_init).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "net/net_api.h"

namespace metricsd {

// The candidate paths above, for the running executable.
std::vector<std::string> NetModulePaths();

Result<std::shared_ptr<const NetApi>> LoadNetModule();
// From one path only (tests).
Result<std::shared_ptr<const NetApi>> LoadNetModule(const std::string& path);

}  // namespace metricsd
