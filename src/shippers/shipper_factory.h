// Builds the shipper a ShipperOptions describes, with its own HttpClient (TLS, auth, headers).
// Called at start-up and on reload; a reload builds a new shipper, which re-reads
// certificate, password and token files.
#pragma once

#include <memory>
#include <string_view>

#include "config/options.h"
#include "shippers/shipper.h"

namespace metricsd {

// Throws std::invalid_argument with a message naming the offending key under key_prefix
// (e.g. "shipper.tls.cipher_suites[1]: unknown cipher suite ...") when the options cannot
// work. Logs warnings for options that are ignored or unsafe.
std::unique_ptr<Shipper> MakeShipper(const config::ShipperOptions& options,
                                     std::string_view key_prefix = "shipper");

}  // namespace metricsd
