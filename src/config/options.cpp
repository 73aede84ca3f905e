#include "config/options.h"

namespace metricsd::config {

std::string_view TlsVersionName(TlsVersion version) noexcept {
  switch (version) {
    case TlsVersion::kTls10:
      return "TLS1.0";
    case TlsVersion::kTls11:
      return "TLS1.1";
    case TlsVersion::kTls12:
      return "TLS1.2";
    case TlsVersion::kTls13:
      return "TLS1.3";
  }
  return "TLS1.2";
}

}  // namespace metricsd::config
