// metricsd-net.so: exports metricsd_net_open (net/net_module_abi.h), nothing else; every
// other symbol is hidden (see src/net/CMakeLists.txt).
#include <cstring>

#include "core/version.h"
#include "net/builtin_net_api.h"
#include "net/net_module_abi.h"

extern "C" __attribute__((visibility("default"))) metricsd::NetApi* metricsd_net_open(
    const char* version, const char* compiler) {
  if (version == nullptr || compiler == nullptr || std::strcmp(version, metricsd::kVersion) != 0 ||
      std::strcmp(compiler, __VERSION__) != 0) {
    return nullptr;
  }
  return metricsd::MakeBuiltinNetApi().release();
}
