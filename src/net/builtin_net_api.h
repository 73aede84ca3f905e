// The NetApi implementation: libcurl, OpenSSL, the shippers and the scrape collector. The
// metricsd-net.so module exports it (net_module_entry.cpp); tests link it directly.
#pragma once

#include <memory>

#include "net/net_api.h"

namespace metricsd {

// Calls curl_global_init (see NetApi: on the main thread, before other threads use libcurl);
// the returned object's destructor calls curl_global_cleanup.
std::unique_ptr<NetApi> MakeBuiltinNetApi();

}  // namespace metricsd
